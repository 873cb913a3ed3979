"""Density weights on long-tailed targets: does LDS ever make a model worse (issue 15.3).

Two data sets, three seeds each, every model unweighted, with ``LDSWeighter()`` and
with ``DenseWeighter()`` at their defaults:

- ``longtail``: :func:`skdir.datasets.make_long_tail_regression` (3,000 training and
  5,000 test rows, 20 features; a lognormal target over two orders of magnitude with 2 %
  extreme values about 20 times larger), a new draw per seed;
- ``heat``: the tabular set of ``../shared/datasets`` (``_tabular.load_tabular``: 60 / 20
  / 20 split by seed; the validation rows are not used here).

Models: Ridge, HistGradientBoosting, LightGBM (when importable) through
:class:`skdir.weighting.DensityWeightedRegressor`, and ``skdir.nn.DIRRegressor``
(defaults, ``random_state=seed``, one torch thread) through its ``weighter=`` on
``longtail`` only. Columns: test MSE over all rows, per shot region (many > 100 training
rows in the test row's bin, few < 20) and balanced over the bins (skdir.metrics), and
the fit time. The regions come from a ``LabelDensity`` fitted on the training targets:
its defaults (robust range, automatic bins: about 8 bins per interquartile range) on
``longtail``, the benchmark protocol's bins (1/50 of the training range on the label
grid) on ``heat``. The goal: LDS raises overall MSE by at most 5 % against the same
model unweighted.

Run: ``python benchmarks/bench_longtail.py`` (about 5 minutes on one CPU thread;
``--quick`` for one seed and no network). The table is written to
``benchmarks/results/bench_longtail.txt``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skdir.datasets import make_long_tail_regression
from skdir.density import LabelDensity
from skdir.metrics import EmptyRegionWarning, balanced_mean_squared_error, shot_metrics
from skdir.nn import DIRRegressor
from skdir.weighting import DenseWeighter, DensityWeightedRegressor, LDSWeighter

sys.path.insert(0, str(Path(__file__).resolve().parent))
RESULTS = Path(__file__).resolve().parent / "results" / "bench_longtail.txt"
WEIGHTINGS = ("none", "LDS", "Dense")
COLUMNS = ("all", "many", "medium", "few", "balanced")


def load(name: str, seed: int) -> dict[str, Any]:
    """Train/test split and the label density of the shot regions."""
    if name == "longtail":
        X, y = make_long_tail_regression(8000, 20, random_state=seed)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=5000, random_state=seed
        )
        density = LabelDensity().fit(y_train)
    else:
        from _tabular import load_tabular

        data = load_tabular(name, seed)
        X_train, X_test = data["X_train"], data["X_test"]
        y_train, y_test = data["y_train"], data["y_test"]
        density = data["density"]
    return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test,
            "density": density}  # fmt: skip


def weighter(kind: str) -> Any:
    return {"none": None, "LDS": LDSWeighter(), "Dense": DenseWeighter()}[kind]


def make_model(name: str, kind: str, seed: int) -> Any:
    if name == "DIRRegressor":
        return DIRRegressor(weighter=weighter(kind), random_state=seed, device="cpu")
    if name == "Ridge":
        model: Any = Ridge()
    elif name == "HGB":
        model = HistGradientBoostingRegressor(random_state=seed)
    else:
        import lightgbm

        model = lightgbm.LGBMRegressor(n_jobs=1, random_state=seed, verbose=-1)
    return model if kind == "none" else DensityWeightedRegressor(model, weighter=weighter(kind))


def score(data: dict[str, Any], pred: np.ndarray) -> dict[str, float]:
    y_test, density = data["y_test"], data["density"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyRegionWarning)
        shots = shot_metrics(y_test, pred, label_density=density, metrics=("mse",))
        balanced = balanced_mean_squared_error(y_test, pred, label_density=density)
    out = {region: float(shots[region]["mse"]) for region in ("all", "many", "medium", "few")}
    out["balanced"] = float(balanced)
    return out


def region_counts(data: dict[str, Any]) -> dict[str, int]:
    regions = data["density"].shot_regions(data["y_test"])
    return {r: int(np.sum(regions == r)) for r in ("many", "medium", "few")}


def cell(values: list[float]) -> str:
    values = np.asarray(values, dtype=float)
    if np.all(np.isnan(values)):
        return "n/a"
    return f"{np.nanmean(values):.4g} ± {np.nanstd(values):.2g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one seed, no network")
    parser.add_argument("--datasets", nargs="+", default=["longtail", "heat"])
    args = parser.parse_args(argv)
    seeds = list(range(1 if args.quick else args.seeds))
    torch.set_num_threads(1)
    models = ["Ridge", "HGB"]
    if importlib.util.find_spec("lightgbm") is not None:
        models.append("LightGBM")
    lines: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    emit(f"# bench_longtail: seeds {seeds}, one thread, mean ± std over seeds")
    emit("# test MSE (lower is better); 'vs none' = overall MSE / unweighted overall MSE")
    misses = []
    with threadpool_limits(1):
        for dataset in args.datasets:
            names = models + (["DIRRegressor"] if dataset == "longtail" and not args.quick else [])
            results: dict[tuple[str, str], dict[str, list[float]]] = {}
            counts = []
            for seed in seeds:
                data = load(dataset, seed)
                counts.append(region_counts(data))
                for name in names:
                    for kind in WEIGHTINGS:
                        model = make_model(name, kind, seed)
                        start = time.perf_counter()
                        model.fit(data["X_train"], data["y_train"])
                        seconds = time.perf_counter() - start
                        row = score(data, model.predict(data["X_test"]))
                        row["fit s"] = seconds
                        slot = results.setdefault((name, kind), {})
                        for key, value in row.items():
                            slot.setdefault(key, []).append(value)
            data = load(dataset, seeds[0])
            emit()
            edges = data["density"].bin_edges_[0]
            emit(
                f"## {dataset}: {len(data['y_train'])} train / {len(data['y_test'])} test rows, "
                f"{data['X_train'].shape[1]} features; region density {len(edges) - 1} bins "
                f"over [{edges[0]:.4g}, {edges[-1]:.4g}]"
            )
            mean_counts = {r: np.mean([c[r] for c in counts]) for r in ("many", "medium", "few")}
            emit(
                "test rows per region (mean over seeds): "
                + ", ".join(f"{r} {v:.0f}" for r, v in mean_counts.items())
            )
            header = f"| model | weights | {' | '.join(COLUMNS)} | fit s | vs none |"
            emit(header)
            emit("|" + "---|" * (header.count("|") - 1))
            for name in names:
                base = np.mean(results[(name, "none")]["all"])
                for kind in WEIGHTINGS:
                    row = results[(name, kind)]
                    ratio = np.mean(row["all"]) / base
                    cells = [cell(row[c]) for c in COLUMNS]
                    emit(
                        f"| {name} | {kind} | {' | '.join(cells)} | "
                        f"{np.mean(row['fit s']):.2f} | {ratio:.3f} |"
                    )
                    if kind == "LDS" and ratio > 1.05:
                        misses.append(f"{dataset}/{name}: LDS overall MSE x{ratio:.3f}")
    emit()
    emit("Goal (LDS overall MSE <= 1.05 x unweighted): " + ("met" if not misses else "MISSED"))
    for miss in misses:
        emit(f"- {miss}")
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
