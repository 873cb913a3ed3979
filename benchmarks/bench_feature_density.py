"""Input-density weights where rare inputs and rare labels differ (issue 19, item 3).

Data (generated, a new draw per seed): four latent factors ``z ~ N(0, I)``; a random
2 % of the rows form the *rare-input cluster*, shifted by 5 along ``z3``. The inputs
are 64 embedding-like columns ``X = z A + 0.1 e`` (``A`` a Gaussian 4 x 64 matrix,
``e`` standard normal noise). The target is

    ``y = exp(0.7 z0) + 0.5 z1 + g(z3) (1.5 + z1) + 0.1 e'``,
    ``g(t) = 1 / (1 + exp(-2 (t - 2.5)))``,

so the gate ``g`` is about 0 for the common inputs and about 1 in the rare-input
cluster: there the function differs (an offset and a steeper ``z1`` slope) while its
labels (about 2.8 +- 1.2) lie in the common range of ``y``. The rare *labels* are the
long right tail of ``exp(0.7 z0)``, from common inputs (large ``z0``). So LDS up-weights
the tail rows and the input density up-weights the rare-input cluster, two different
sets of rows.

4,000 training and 4,000 test rows per seed, plus 1,000 extra rows drawn from the
rare-input cluster alone for the "rare-input" column (the test split holds only about
80 such rows). Shot regions and the balanced MSE come from ``LabelDensity()`` fitted on
the training targets (skdir.metrics; many > 100 training rows in the test row's bin,
few < 20).

Weightings, each through :class:`skdir.weighting.DensityWeightedRegressor` (the
network: ``sample_weight=`` from the same weighter fitted on the training rows):

- ``none``; ``LDS``: ``LDSWeighter(alpha=0.5)``;
- ``FD-knn``: ``FeatureDensityWeighter()`` (kNN, k=10, standardised, 32 PCs, intrinsic
  dimension, alpha=0.5); ``FD-knn a=1``: the same with ``alpha=1``;
- ``FD-kmeans``: ``FeatureDensityWeighter("kmeans")`` (20 clusters, alpha=0.5);
- ``LDS x FD``: ``FeatureDensityWeighter(label_weighter=LDSWeighter(alpha=0.5))``.

Models: Ridge, HistGradientBoosting (``random_state=seed``) and, with ``--nn``,
``skdir.nn.DIRRegressor`` (40 epochs). One thread throughout.

Run: ``python benchmarks/bench_feature_density.py [--nn]`` (about 1 minute without
the network, 4 minutes with it, on one CPU thread); the table is written to
``benchmarks/results/bench_feature_density.txt``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from skdir.density import LabelDensity
from skdir.metrics import EmptyRegionWarning, balanced_mean_squared_error, shot_metrics
from skdir.weighting import DensityWeightedRegressor, FeatureDensityWeighter, LDSWeighter

RESULTS = Path(__file__).resolve().parent / "results" / "bench_feature_density.txt"
WEIGHTINGS = ("none", "LDS", "FD-knn", "FD-knn a=1", "FD-kmeans", "LDS x FD")
COLUMNS = ("all", "many", "medium", "few", "balanced", "rare-input")
RARE_SHARE, SHIFT, SPIKE, N_COLUMNS = 0.02, 5.0, 0.3, 64


def generate(n: int, rng: np.random.Generator, A: np.ndarray, rare: bool | None = None):
    """Rows of the generated problem; ``rare=True`` draws the rare-input cluster only."""
    z = rng.normal(size=(n, 4))
    in_cluster = rng.random(n) < RARE_SHARE if rare is None else np.full(n, rare)
    z[in_cluster, 3] += SHIFT
    gate = 1.0 / (1.0 + np.exp(-2.0 * (z[:, 3] - 2.5)))
    spike = 4.0 * np.exp(-(z[:, 0] ** 2 + z[:, 1] ** 2) / (2 * SPIKE**2))
    y = np.exp(0.5 * z[:, 0]) + 0.5 * z[:, 1] + spike - 1.5 * gate * z[:, 1]
    y = y + 0.1 * rng.normal(size=n)
    X = z @ A + 0.1 * rng.normal(size=(n, A.shape[1]))
    return X, y, in_cluster


def load(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(4, N_COLUMNS))
    X_train, y_train, rare_train = generate(4000, rng, A)
    X_test, y_test, rare_test = generate(4000, rng, A)
    X_rare, y_rare, _ = generate(1000, rng, A, rare=True)
    return {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test,
            "X_rare": X_rare, "y_rare": y_rare, "rare_train": rare_train,
            "rare_test": rare_test, "density": LabelDensity().fit(y_train)}  # fmt: skip


def weighter(kind: str, seed: int) -> Any:
    lds = LDSWeighter(alpha=0.5)
    return {
        "none": None,
        "LDS": lds,
        "FD-knn": FeatureDensityWeighter(random_state=seed),
        "FD-knn a=1": FeatureDensityWeighter(alpha=1.0, random_state=seed),
        "FD-kmeans": FeatureDensityWeighter("kmeans", random_state=seed),
        "LDS x FD": FeatureDensityWeighter(label_weighter=lds, random_state=seed),
    }[kind]


def fit_predict(name: str, kind: str, seed: int, data: dict[str, Any]) -> tuple[Any, float]:
    X, y = data["X_train"], data["y_train"]
    start = time.perf_counter()
    if name == "DIRRegressor":
        import torch

        from skdir.nn import DIRRegressor

        torch.set_num_threads(1)
        w = weighter(kind, seed)
        weights = None
        if w is not None:
            weights = (
                w.fit_transform(X, y) if "X" in getattr(w, "needs", ()) else w.fit_transform(y)
            )
        model: Any = DIRRegressor(max_epochs=40, random_state=seed, device="cpu")
        model.fit(X, y, sample_weight=weights)
    else:
        base: Any = (
            Ridge() if name == "Ridge" else HistGradientBoostingRegressor(random_state=seed)
        )
        model = (
            base
            if kind == "none"
            else DensityWeightedRegressor(base, weighter=weighter(kind, seed))
        )
        model.fit(X, y)
    return model, time.perf_counter() - start


def score(data: dict[str, Any], model: Any) -> dict[str, float]:
    y_test, density = data["y_test"], data["density"]
    pred = model.predict(data["X_test"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyRegionWarning)
        shots = shot_metrics(y_test, pred, label_density=density, metrics=("mse",))
        balanced = balanced_mean_squared_error(y_test, pred, label_density=density)
    out = {region: float(shots[region]["mse"]) for region in ("all", "many", "medium", "few")}
    out["balanced"] = float(balanced)
    out["rare-input"] = float(np.mean((model.predict(data["X_rare"]) - data["y_rare"]) ** 2))
    return out


def cell(values: list[float]) -> str:
    return f"{np.mean(values):.4g} ± {np.std(values):.2g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--nn", action="store_true", help="also DIRRegressor (40 epochs)")
    parser.add_argument("--quick", action="store_true", help="one seed, Ridge only, no file")
    args = parser.parse_args(argv)
    seeds = list(range(1 if args.quick else args.seeds))
    names = ["Ridge"] if args.quick else ["Ridge", "HGB"] + (["DIRRegressor"] if args.nn else [])
    lines: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    results: dict[tuple[str, str], dict[str, list[float]]] = {}
    facts: dict[str, list[float]] = {}
    with threadpool_limits(1):
        for seed in seeds:
            data = load(seed)
            regions = data["density"].shot_regions(data["y_test"][data["rare_test"]])
            tail = data["density"].shot_regions(data["y_test"]) == "few"
            knn = FeatureDensityWeighter(random_state=seed).fit(data["X_train"])
            w_fd = knn.transform(data["X_train"])
            w_lds = LDSWeighter(alpha=0.5).fit_transform(data["y_train"])
            is_rare = data["rare_train"]
            few_train = data["density"].shot_regions(data["y_train"]) == "few"
            for key, value in {
                "rare-input test rows in many/medium/few": [
                    float(np.mean(regions == r)) for r in ("many", "medium", "few")
                ],
                "few-shot test rows that are rare inputs": [
                    float(np.mean(data["rare_test"][tail]))
                ],
                "estimated intrinsic dimension": [knn.dimension_],
                "FD-knn mean weight, rare-input / few-shot / other train rows": [
                    float(w_fd[is_rare].mean()), float(w_fd[few_train].mean()),
                    float(w_fd[~is_rare & ~few_train].mean()),
                ],
                "LDS mean weight, rare-input / few-shot / other train rows": [
                    float(w_lds[is_rare].mean()), float(w_lds[few_train].mean()),
                    float(w_lds[~is_rare & ~few_train].mean()),
                ],
            }.items():  # fmt: skip
                facts.setdefault(key, []).append(value)
            for name in names:
                for kind in WEIGHTINGS:
                    model, seconds = fit_predict(name, kind, seed, data)
                    row = score(data, model)
                    row["fit s"] = seconds
                    slot = results.setdefault((name, kind), {})
                    for key, value in row.items():
                        slot.setdefault(key, []).append(value)
                    print(f"seed {seed} {name} {kind}: {row}", flush=True)
    emit(f"# bench_feature_density: seeds {seeds}, one thread, mean ± std over seeds")
    emit("# 4,000 train / 4,000 test rows, 64 columns; rare-input MSE on 1,000 extra rows")
    emit("# test MSE (lower is better); 'vs none' = the column / the unweighted model's")
    for key, values in facts.items():
        mean = np.mean(np.asarray(values, dtype=float), axis=0)
        emit(f"- {key}: " + " / ".join(f"{v:.3g}" for v in mean))
    emit()
    header = (
        f"| model | weights | {' | '.join(COLUMNS)} | fit s | all vs none | rare-input vs none |"
    )
    emit(header)
    emit("|" + "---|" * (header.count("|") - 1))
    for name in names:
        base = results[(name, "none")]
        for kind in WEIGHTINGS:
            row = results[(name, kind)]
            cells = [cell(row[c]) for c in COLUMNS]
            ratio_all = np.mean(row["all"]) / np.mean(base["all"])
            ratio_rare = np.mean(row["rare-input"]) / np.mean(base["rare-input"])
            emit(
                f"| {name} | {kind} | {' | '.join(cells)} | {np.mean(row['fit s']):.2f} | "
                f"{ratio_all:.3f} | {ratio_rare:.3f} |"
            )
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
