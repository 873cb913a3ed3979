"""Peer benchmark: gradient boosting, kernel and linear models, pytabkit and skdir, one protocol.

    python benchmarks/bench_peers.py [--data stsb|all|tabular|small|NAME ...] [--models M ...]
                                     [--seeds 3] [--quick] [--skdir-best] [--no-pytabkit]
                                     [--pytabkit-all] [--pytabkit-stsb] [--fresh] [--no-save]
                                     [--report]

The peers are benchmark-only dependencies, never required by skdir:
``pip install -e ".[bench]"`` installs catboost, lightgbm, pytabkit (and pandas for the
tabular loader). A peer that is not installed is skipped with a note.

Data. STS-B-DIR (``_stsb_dir.load_stsb_dir``: the 768 raw MiniLM columns standardised
on train, the official train / val / balanced test split, 0.1-wide region bins) and the
seven tabular sets of ``../shared/datasets`` (``_tabular.load_tabular``: target the first
column, ``a1`` for algae; 9999 codes of fuelCons / heat as missing, columns missing in
more than half of the training rows dropped, the others imputed by the training median
with a was-missing column; nominal columns one-hot; X standardised on train; 60/20/20
train / val / test stratified by target quantiles, a new split per seed; region bins
1/50 of the training range, rounded up to the label grid when labels are discrete).
The val split is used only for early stopping and model selection, never refitted on;
every number is on the test split. Regions: many > 100 training rows in the bin,
medium 20-100, few < 20; balanced MSE = mean over the occupied test bins of the per-bin
MSE. An empty region is shown as "-".

Models (``--models``; ``+lds`` = ``DensityWeightedRegressor(peer,
weighter=LDSWeighter(bin_width=<the data set's region bin width>, alpha=0.5))``: the
DIR paper's square-root inverse strength, as PEERS.md measured it, not skdir's tempered
default ``alpha=0.1``; its fit passes
the eval set on to the peer unweighted, so early stopping and selection use the plain
val MSE for every model):

- ``ridge``: ``RidgeCV(alphas=logspace(-3, 4, 30))``;
- ``kernel_ridge``: RBF ``KernelRidge`` on centred y, gamma in {0.5, 1, 2} / median
  squared distance (of up to 1,000 training rows) x alpha in {0.1, 1, 10}, the pair
  with the lowest val MSE;
- ``hgb``: ``HistGradientBoostingRegressor(max_iter=300)``;
- ``lightgbm``: defaults, ``n_estimators=5000``, early stopping 100 rounds on val;
- ``catboost``: defaults (1000 iterations, automatic learning rate), ``eval_set=val``,
  ``use_best_model``, ``early_stopping_rounds=100``;
- ``realmlp``, ``tabm``: pytabkit's ``RealMLP_TD_Regressor`` / ``TabM_D_Regressor`` at
  their defaults with ``X_val, y_val`` (no sample weights, so no LDS variant). They are
  slow: by default they run on the small tabular sets only (at most 2,000 rows:
  algae, machineCpu, fuelCons); ``--pytabkit-all`` adds the other tabular sets,
  ``--pytabkit-stsb`` STS-B; ``--no-pytabkit`` drops them;
- ``skdir``: ``DIRRegressor()`` at its defaults, ``fit(..., eval_set=(X_val, y_val))``;
- ``skdir-mlp`` (by name): ``DIRRegressor(module="mlp")``, the default network before
  :class:`~skdir.nn.InteractionMLP`;
- ``skdir-best`` (with ``--skdir-best`` or by name): the best DIR setting on the default
  network, ``DIRRegressor(augment=CMixup())`` (measured on STS-B-DIR and six tabular sets,
  2 seeds, against LDS at alpha 0.5 and 1, LDS + C-Mixup: the only one that lowers the
  balanced MSE without raising overall MSE on most sets).

One thread everywhere: ``threadpool_limits(1)`` (BLAS, OpenMP), ``thread_count=1``,
``n_jobs=1``, ``torch.set_num_threads(1)``. Each model is fitted once per seed (0, 1,
...; on the tabular sets the seed also draws the split); tables show mean ± std over
seeds of MSE all / many / medium / few / balanced, MAE and the fit seconds.

Results are merged into ``benchmarks/results/bench_peers.json`` (a model's runs of the
same data set and seed are replaced, others kept; ``--fresh`` starts anew,
``--no-save`` writes nothing); the printed tables and the summary "best peer per data
set" (by overall and by balanced MSE, against skdir) cover every data set in the merged
results. ``--report`` prints them from the JSON without fitting anything.
``--quick`` (used by ``run_all.py``): 1 seed, algae and machineCpu unless ``--data`` is
given, capped iterations (CatBoost 200, LightGBM 500, HGB 100, DIRRegressor 20 epochs),
no pytabkit unless named, nothing saved.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import torch
from _stsb_dir import dir_scores, load_stsb_dir
from _tabular import TABULAR, load_tabular
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import RidgeCV
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel
from threadpoolctl import threadpool_limits

from skdir.metrics import EmptyRegionWarning
from skdir.nn import CMixup, DIRRegressor
from skdir.weighting import DensityWeightedRegressor, LDSWeighter

RESULTS = Path(__file__).resolve().parent / "results" / "bench_peers.json"
DATASETS = ["stsb", *TABULAR]
#: Tabular sets on which the slow pytabkit models run by default (at most 2,000 rows).
SMALL = ["algae", "machineCpu", "fuelCons"]
QUICK_DATA = ["algae", "machineCpu"]
COLUMNS = ["all", "many", "medium", "few", "balanced", "mae"]
PEERS = [
    "ridge",
    "ridge+lds",
    "kernel_ridge",
    "kernel_ridge+lds",
    "hgb",
    "hgb+lds",
    "lightgbm",
    "lightgbm+lds",
    "catboost",
    "catboost+lds",
    "realmlp",
    "tabm",
]
SKDIR = ["skdir", "skdir-best", "skdir-mlp"]
PYTABKIT = ["realmlp", "tabm"]
MODELS = PEERS + SKDIR
NEEDS = {
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "realmlp": "pytabkit",
    "tabm": "pytabkit",
}


class ValidatedKernelRidge(RegressorMixin, BaseEstimator):
    """RBF kernel ridge on centred targets, gamma and alpha chosen on a validation set.

    ``gamma = factor / median squared distance`` between training rows (of up to
    ``n_median`` rows drawn with ``random_state``); every (factor, alpha) pair is fitted
    on the training rows and the one with the lowest MSE on ``eval_set`` is kept.
    """

    def __init__(
        self,
        gamma_factors: tuple[float, ...] = (0.5, 1.0, 2.0),
        alphas: tuple[float, ...] = (0.1, 1.0, 10.0),
        n_median: int = 1000,
        random_state: int = 0,
    ) -> None:
        self.gamma_factors = gamma_factors
        self.alphas = alphas
        self.n_median = n_median
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None, eval_set=None) -> ValidatedKernelRidge:
        """Fit every grid point on ``X, y``; keep the best on ``eval_set=(X_val, y_val)``."""
        if eval_set is None:
            raise ValueError("ValidatedKernelRidge needs eval_set=(X_val, y_val).")
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        X_val = np.asarray(eval_set[0], dtype=np.float64)
        y_val = np.asarray(eval_set[1], dtype=np.float64)
        rng = np.random.default_rng(self.random_state)
        rows = rng.choice(len(X), size=min(self.n_median, len(X)), replace=False)
        distances = euclidean_distances(X[rows], squared=True)
        median = float(np.median(distances[np.triu_indices(len(rows), k=1)]))
        self.y_mean_ = float(y.mean())
        best = None
        self.val_mse_ = {}
        for factor in self.gamma_factors:
            gamma = factor / median
            kernel = rbf_kernel(X, gamma=gamma)
            kernel_val = rbf_kernel(X_val, X, gamma=gamma)
            for alpha in self.alphas:
                model = KernelRidge(alpha=alpha, kernel="precomputed")
                model.fit(kernel, y - self.y_mean_, sample_weight=sample_weight)
                mse = float(np.mean((kernel_val @ model.dual_coef_ + self.y_mean_ - y_val) ** 2))
                self.val_mse_[(factor, alpha)] = mse
                if best is None or mse < best[0]:
                    best = (mse, factor, gamma, alpha, model.dual_coef_)
        _, self.gamma_factor_, self.gamma_, self.alpha_, self.dual_coef_ = best
        self.X_fit_ = X
        return self

    def predict(self, X) -> np.ndarray:
        """Predict with the chosen grid point."""
        kernel = rbf_kernel(np.asarray(X, dtype=np.float64), self.X_fit_, gamma=self.gamma_)
        return kernel @ self.dual_coef_ + self.y_mean_


def installed(model: str) -> bool:
    base = model.removesuffix("+lds")
    package = NEEDS.get(base)
    return package is None or importlib.util.find_spec(package) is not None


def make_model(name: str, seed: int, data: dict, quick: bool) -> tuple[Any, dict]:
    """Return the estimator and its fit keywords (eval set) for one model and seed."""
    base, lds = name.removesuffix("+lds"), name.endswith("+lds")
    X_val, y_val = data["X_val"], data["y_val"]
    fit_kw: dict[str, Any] = {}
    if base == "ridge":
        model = RidgeCV(alphas=np.logspace(-3, 4, 30))
    elif base == "kernel_ridge":
        model = ValidatedKernelRidge(random_state=seed)
        fit_kw = {"eval_set": (X_val, y_val)}
    elif base == "hgb":
        model = HistGradientBoostingRegressor(max_iter=100 if quick else 300, random_state=seed)
    elif base == "lightgbm":
        import lightgbm

        model = lightgbm.LGBMRegressor(
            n_estimators=500 if quick else 5000, n_jobs=1, random_state=seed, verbose=-1
        )
        fit_kw = {
            "eval_set": [(X_val, y_val)],
            "callbacks": [lightgbm.early_stopping(100, verbose=False)],
        }
    elif base == "catboost":
        from catboost import CatBoostRegressor

        model = CatBoostRegressor(
            iterations=200 if quick else None,
            thread_count=1,
            random_seed=seed,
            verbose=0,
            use_best_model=True,
            early_stopping_rounds=100,
            allow_writing_files=False,
        )
        fit_kw = {"eval_set": (X_val, y_val)}
    elif base in PYTABKIT:
        from pytabkit import RealMLP_TD_Regressor, TabM_D_Regressor

        cls = RealMLP_TD_Regressor if base == "realmlp" else TabM_D_Regressor
        model = cls(device="cpu", random_state=seed, n_threads=1, verbosity=0)
        fit_kw = {"X_val": np.array(X_val), "y_val": np.array(y_val)}  # writable copies
    elif base in SKDIR:
        params: dict[str, Any] = {"random_state": seed, "device": "cpu"}
        if quick:
            params["max_epochs"] = 20
        if base == "skdir-mlp":
            params["module"] = "mlp"
        if base == "skdir-best":
            params["augment"] = CMixup()
        model = DIRRegressor(**params)
        fit_kw = {"eval_set": (X_val, y_val)}
    else:
        raise ValueError(f"unknown model {name!r}; choose from {MODELS}")
    if lds:
        weighter = LDSWeighter(bin_width=data["bin_width"], alpha=0.5)
        model = DensityWeightedRegressor(model, weighter=weighter)
    return model, fit_kw


def fit_details(model: Any) -> dict[str, Any]:
    """Return what the fit chose: iterations used, epochs, the kernel ridge grid point."""
    inner = getattr(model, "regressor_", model)
    out: dict[str, Any] = {}
    if hasattr(inner, "tree_count_"):  # CatBoost
        out["iterations"] = int(inner.tree_count_)
    elif hasattr(inner, "best_iteration_"):  # LightGBM
        out["iterations"] = int(inner.best_iteration_ or inner.n_estimators)
    elif hasattr(inner, "n_iter_") and np.ndim(inner.n_iter_) == 0:  # HGB
        out["iterations"] = int(inner.n_iter_)
    if hasattr(inner, "alpha_"):
        out["alpha"] = float(inner.alpha_)
    if hasattr(inner, "gamma_factor_"):
        out["gamma_factor"] = float(inner.gamma_factor_)
    if hasattr(inner, "history"):  # DIRRegressor
        out["epochs"] = len(inner.history)
    return out


def region_sizes(data: dict) -> dict[str, Any]:
    density = data["density"]
    regions = density.shot_regions(data["y_test"])
    counts = density.counts_
    return {
        "test_rows": {r: int((regions == r).sum()) for r in ("many", "medium", "few")},
        "train_bins": {
            "many": int((counts > 100).sum()),
            "medium": int(((counts >= 20) & (counts <= 100)).sum()),
            "few": int(((counts > 0) & (counts < 20)).sum()),
            "empty": int((counts == 0).sum()),
        },
    }


def load_data(name: str, seed: int) -> dict:
    if name == "stsb":
        data = load_stsb_dir()
        data["bin_width"] = 0.1
        return data
    return load_tabular(name, seed)


def describe(name: str, data: dict, seeds: list[int], sizes: dict[int, dict]) -> dict:
    """Return the data set facts for the JSON (sizes, regions of every seed)."""
    info = {
        "n_train": len(data["y_train"]),
        "n_val": len(data["y_val"]),
        "n_test": len(data["y_test"]),
        "n_features": int(data["X_train"].shape[1]),
        "bin_width": float(data["bin_width"]),
        "split": "official" if name == "stsb" else "60/20/20 stratified, seeded",
        "regions": {str(s): sizes[s] for s in seeds},
    }
    if "preprocessing" in data:
        info["preprocessing"] = data["preprocessing"]
    return info


def print_split(name: str, seed: int, data: dict, sizes: dict) -> None:
    bins = "/".join(str(v) for v in sizes["train_bins"].values())
    rows = "/".join(str(v) for v in sizes["test_rows"].values())
    if seed == 0 or name != "stsb":
        print(
            f"\n== {name} seed {seed}: train {len(data['y_train'])} / val {len(data['y_val'])}"
            f" / test {len(data['y_test'])}, {data['X_train'].shape[1]} features; region bin "
            f"width {data['bin_width']:.4g}: training bins many/medium/few/empty {bins}, "
            f"test rows many/medium/few {rows}",
            flush=True,
        )
    if seed == 0 and "preprocessing" in data:
        notes = data["preprocessing"]
        print(
            f"   nominal (one-hot): {notes['nominal'] or '-'}; dropped (>50% missing): "
            f"{notes['dropped'] or '-'}; median-imputed + indicator: {notes['imputed'] or '-'}"
        )


def run_dataset(
    name: str,
    models: list[str],
    seeds: list[int],
    quick: bool,
    checkpoint: Callable[[str, dict], None] | None = None,
) -> dict:
    """Fit every model on every seed of one data set; return its results entry.

    ``checkpoint(name, entry)`` is called with the entry so far after each seed.
    """
    runs: dict[str, list[dict]] = {m: [] for m in models}
    sizes: dict[int, dict] = {}
    info: dict = {}
    for seed in seeds:
        data = load_data(name, seed)
        sizes[seed] = region_sizes(data)
        print_split(name, seed, data, sizes[seed])
        for model_name in models:
            runs[model_name].append(fit_and_score(model_name, seed, data, quick))
        info = describe(name, data, list(sizes), sizes)
        info["models"] = {m: {"runs": list(r)} for m, r in runs.items()}
        if checkpoint is not None:
            checkpoint(name, info)
    return info


def fit_and_score(model_name: str, seed: int, data: dict, quick: bool) -> dict:
    """Fit one model on the training split and score it on the test split."""
    model, fit_kw = make_model(model_name, seed, data, quick)
    X_train, y_train = data["X_train"], data["y_train"]
    start = time.perf_counter()
    model.fit(X_train, y_train, **fit_kw)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = np.asarray(model.predict(data["X_test"]), dtype=np.float64).reshape(-1)
    predict_s = time.perf_counter() - start
    scores = dir_scores(data["y_test"], pred, data["density"])
    scores["mae"] = float(np.mean(np.abs(pred - data["y_test"])))
    details = fit_details(model)
    extra = ", ".join(
        f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in details.items()
    )
    print(
        f"   {model_name:<17} seed {seed}: MSE {scores['all']:.4g} few "
        f"{scores['few']:.4g} balanced {scores['balanced']:.4g} MAE "
        f"{scores['mae']:.4g}, fit {fit_s:.1f} s" + (f" ({extra})" if extra else ""),
        flush=True,
    )
    return {"seed": seed, **scores, "fit_s": fit_s, "predict_s": predict_s, **details}


def merge(old: dict, new: dict) -> dict:
    """Merge ``new`` data set results into ``old``: same model and seed replaced."""
    out = json.loads(json.dumps(old))
    for name, entry in new["datasets"].items():
        target = out["datasets"].setdefault(name, {"models": {}})
        regions = {**target.get("regions", {}), **entry["regions"]}
        target.update({k: v for k, v in entry.items() if k != "models"})
        target["regions"] = regions
        for model, result in entry["models"].items():
            kept = {r["seed"]: r for r in target["models"].get(model, {}).get("runs", [])}
            kept.update({r["seed"]: r for r in result["runs"]})
            target["models"][model] = {"runs": [kept[s] for s in sorted(kept)]}
    out["environment"] = new["environment"]
    out["commands"] = old.get("commands", []) + new.get("commands", [])
    return out


def summarise(results: dict) -> None:
    """Add mean and std (ddof=1; 0 for one seed) of every column to every model entry."""
    for entry in results["datasets"].values():
        for result in entry["models"].values():
            runs = result["runs"]
            keys = [*COLUMNS, "pearson", "fit_s", "predict_s"]
            values = {k: np.array([r[k] for r in runs], dtype=np.float64) for k in keys}
            result["seeds"] = [r["seed"] for r in runs]
            result["mean"] = {k: _nan_safe(np.mean, v) for k, v in values.items()}
            result["std"] = {
                k: _nan_safe(lambda a: np.std(a, ddof=1) if len(a) > 1 else 0.0, v)
                for k, v in values.items()
            }


def _nan_safe(function, values: np.ndarray) -> float | None:
    return None if np.isnan(values).any() else float(function(values))


def _cell(mean: float | None, std: float | None) -> str:
    """Return ``mean ± std`` to four significant digits of the mean (same decimals for both)."""
    if mean is None:
        return "-"
    magnitude = np.floor(np.log10(abs(mean))) if mean else 0
    decimals = int(max(0, 3 - magnitude))
    return f"{mean:.{decimals}f} ± {abs(std):.{decimals}f}"


def _in_order(results: dict) -> list[tuple[str, dict]]:
    """Return the data sets of ``results`` in the order of ``DATASETS``."""
    return [(name, results["datasets"][name]) for name in DATASETS if name in results["datasets"]]


def print_tables(results: dict) -> None:
    for name, entry in _in_order(results):
        print(
            f"\n{name} (test MSE, mean ± std over seeds; bin width {entry['bin_width']:.4g}; "
            f"train {entry['n_train']} / test {entry['n_test']})"
        )
        regions = "; ".join(
            f"seed {seed}: " + "/".join(str(v) for v in sizes["test_rows"].values())
            for seed, sizes in entry["regions"].items()
        )
        print(f"test rows many/medium/few {regions}")
        names = ["MAE" if c == "mae" else f"{c} MSE" for c in COLUMNS] + ["fit s", "seeds"]
        rows = []
        for model in MODELS:
            if model not in entry["models"]:
                continue
            result = entry["models"][model]
            cells = [_cell(result["mean"][c], result["std"][c]) for c in COLUMNS]
            cells.append(f"{result['mean']['fit_s']:.1f} ± {result['std']['fit_s']:.1f}")
            rows.append([model, *cells, str(len(result["seeds"]))])
        widths = [max(len(x) for x in column) + 2 for column in zip(*rows, strict=True)]
        widths = [max(w, len(n) + 2) for w, n in zip(widths, ["model", *names], strict=True)]
        print(
            "model".ljust(widths[0] - 2)
            + "".join(n.rjust(w) for n, w in zip(names, widths[1:], strict=True))
        )
        for row in rows:
            print(
                row[0].ljust(widths[0] - 2)
                + "".join(x.rjust(w) for x, w in zip(row[1:], widths[1:], strict=True))
            )


def _change(models: dict, model: str, column: str, best: dict) -> str:
    """Return ``model``'s change in ``column`` against the best peer's means, in percent."""
    if model not in models or models[model]["mean"][column] is None or best[column] is None:
        return "-"
    return f"{100 * (models[model]['mean'][column] / best[column] - 1):+.1f}%"


def print_summary(results: dict) -> None:
    print("\nBest peer per data set (mean test MSE; skdir's change against that peer)")
    print(
        f"{'data set':<11}{'best peer (all)':>26}{'best peer (balanced)':>30}"
        f"{'skdir all':>12}{'skdir-best all':>16}{'few':>9}{'balanced':>10}"
    )
    for name, entry in _in_order(results):
        models = entry["models"]
        peers = [m for m in PEERS if m in models]
        if not peers:
            continue
        by_all = min(peers, key=lambda m: models[m]["mean"]["all"])
        balanced = [m for m in peers if models[m]["mean"]["balanced"] is not None]
        by_bal = min(balanced, key=lambda m: models[m]["mean"]["balanced"])
        best_all = models[by_all]["mean"]
        best_bal = models[by_bal]["mean"]
        most = max(len(models[m]["seeds"]) for m in models)
        star = {m: "*" if len(models[m]["seeds"]) < most else "" for m in models}
        cell_all = f"{by_all}{star[by_all]} {best_all['all']:.4g}"
        cell_bal = f"{by_bal}{star[by_bal]} {best_bal['balanced']:.4g}"
        line = f"{name:<11}{cell_all:>26}{cell_bal:>30}"

        line += f"{_change(models, 'skdir', 'all', best_all):>12}"
        line += f"{_change(models, 'skdir-best', 'all', best_all):>16}"
        line += f"{_change(models, 'skdir-best', 'few', best_bal):>9}"
        line += f"{_change(models, 'skdir-best', 'balanced', best_bal):>10}"
        print(line)
    print(
        "(skdir all / skdir-best all: against the best peer by overall MSE; skdir-best few /"
        " balanced: against the best peer by balanced MSE. Goals of issue 15: DIRRegressor()"
        " within +3% overall; skdir-best few and balanced <= -10%, overall <= +2%."
        " * = fewer seeds than the other models of that data set.)"
    )


def environment() -> dict:
    versions = {"python": platform.python_version(), "sklearn": sklearn.__version__}
    versions["torch"] = torch.__version__
    for package in ("catboost", "lightgbm", "pytabkit", "skdir"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[package] = version(package)
    versions["machine"] = f"{platform.machine()}, {platform.processor() or 'cpu'}"
    versions["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    versions["threads"] = 1
    return versions


def choose_data(requested: list[str] | None, quick: bool) -> list[str]:
    if not requested:
        return QUICK_DATA if quick else DATASETS
    chosen: list[str] = []
    groups = {"all": DATASETS, "tabular": list(TABULAR), "small": SMALL}
    for name in requested:
        for item in groups.get(name, [name]):
            if item not in DATASETS:
                raise SystemExit(f"unknown data set {item!r}; choose from {DATASETS}")
            if item not in chosen:
                chosen.append(item)
    return chosen


def choose_models(name: str, args: argparse.Namespace) -> list[str]:
    explicit = args.models is not None
    models = list(args.models) if explicit else [m for m in PEERS if m not in PYTABKIT]
    if not explicit:
        models.append("skdir")
        if args.skdir_best:
            models.append("skdir-best")
        if not args.no_pytabkit and not args.quick:
            models += PYTABKIT
    chosen = []
    for model in models:
        if model not in MODELS:
            raise SystemExit(f"unknown model {model!r}; choose from {MODELS}")
        if not installed(model):
            print(f"   (skipping {model}: {NEEDS[model.removesuffix('+lds')]} not installed)")
            continue
        if model in PYTABKIT:
            if name == "stsb" and not args.pytabkit_stsb:
                print(f"   (skipping {model} on STS-B: slow; --pytabkit-stsb runs it)")
                continue
            if name not in SMALL and name != "stsb" and not (args.pytabkit_all or explicit):
                print(f"   (skipping {model} on {name}: slow; --pytabkit-all runs it)")
                continue
        chosen.append(model)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", help="stsb, a tabular name, all, tabular, small")
    parser.add_argument("--models", nargs="+", help=f"from {MODELS}")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (default 3)")
    parser.add_argument("--quick", action="store_true", help="1 seed, small sets, nothing saved")
    parser.add_argument("--skdir-best", action="store_true", help="add skdir's best DIR setting")
    parser.add_argument("--no-pytabkit", action="store_true")
    parser.add_argument("--pytabkit-all", action="store_true", help="pytabkit on all tabular")
    parser.add_argument("--pytabkit-stsb", action="store_true", help="pytabkit on STS-B too")
    parser.add_argument("--fresh", action="store_true", help="do not merge into the old JSON")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the JSON to merge into")
    parser.add_argument("--report", action="store_true", help="print the JSON's tables only")
    args = parser.parse_args()
    old = json.loads(args.out.read_text()) if args.out.exists() and not args.fresh else None
    if args.report:
        if old is None:
            raise SystemExit(f"no results in {args.out}")
        summarise(old)
        print(f"bench_peers results from {args.out.name}; runs:")
        for command in old.get("commands", []):
            print(f"  python {command}")
        print(f"environment of the last run: {old['environment']}")
        print_tables(old)
        print_summary(old)
        return
    threadpool_limits(1)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=EmptyRegionWarning)
    # LightGBM 4.7 renamed eval_set to eval_X / eval_y; eval_set works on every 4.x
    warnings.filterwarnings("ignore", message="The argument 'eval_set' is deprecated")
    warnings.filterwarnings("ignore", message=".*LeafSpec")  # pytorch_lightning vs torch 2.13
    n_seeds = args.seeds or (1 if args.quick else 3)
    seeds = list(range(n_seeds))
    new = {"datasets": {}, "environment": environment()}
    new["commands"] = [" ".join(["benchmarks/bench_peers.py", *sys.argv[1:]])]
    print(f"bench_peers: seeds {seeds}, one thread; {new['environment']}")
    save = not (args.no_save or args.quick)

    def checkpoint(name: str, entry: dict) -> None:
        new["datasets"][name] = entry
        if save:  # after every seed, so that an interrupted run keeps what it finished
            merged = merge(old, new) if old else json.loads(json.dumps(new))
            summarise(merged)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(merged, indent=1) + "\n")

    for name in choose_data(args.data, args.quick):
        models = choose_models(name, args)
        if models:
            run_dataset(name, models, seeds, args.quick, checkpoint)
    results = merge(old, new) if (old and save) else new
    summarise(results)
    print_tables(results)
    print_summary(results)
    if save:
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
