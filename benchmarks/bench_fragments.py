"""Benchmark of skdir.fragments: features, robust target averaging, speed.

Three tables:

1. A fixed downstream regressor (RidgeCV) fed ``FragmentAggregator`` with
   ``stats=("mean",)`` against ``("mean", "std", "max")`` on generated bags
   with two targets (5-fold cross-validated MAE and balanced MAE per target),
   with and without ``FragmentSubsampler``.
2. Fragment-target averaging when a share of the fragment targets is
   corrupted by outliers: MAE of the aggregated targets against the clean
   per-sample truth (the mean of the uncorrupted fragment targets), for every
   method, and what ``"auto"`` chose.
3. Speed: aggregating 100k fragments x 768 features in 10k bags.

Run ``python benchmarks/bench_fragments.py`` (about 1.5 minutes of CPU), or
with ``--quick`` for a smaller run; ``--section speed`` runs one table. The
speed table gives wall-clock and process CPU seconds: on a shared machine the
CPU time is the cost of the code itself.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from imblearn.pipeline import make_pipeline as make_imblearn_pipeline
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline

from skdir.datasets import make_imbalanced_regression
from skdir.fragments import (
    FragmentAggregator,
    FragmentSubsampler,
    aggregate_targets,
    choose_target_aggregation,
)
from skdir.metrics import balanced_mean_absolute_error

METHODS = {
    "mean": {"method": "mean"},
    "median": {"method": "median"},
    "trim.1": {"method": "trimmed", "trim": 0.1},
    "trim.25": {"method": "trimmed", "trim": 0.25},
    "wins.25": {"method": "winsorized", "trim": 0.25},
    "huber": {"method": "huber"},
    "auto": {"method": "auto"},
}


def downstream(n_samples: int, n_features: int) -> None:
    bags, y, _ = make_imbalanced_regression(
        n_samples, n_features, n_targets=2, n_fragments=(2, 8), random_state=0
    )
    alphas = np.logspace(-3, 3, 13)
    cv = KFold(5, shuffle=True, random_state=0)
    rows = [
        ("mean", make_pipeline(FragmentAggregator(("mean",)), RidgeCV(alphas=alphas))),
        (
            "mean+std+max",
            make_pipeline(FragmentAggregator(("mean", "std", "max")), RidgeCV(alphas=alphas)),
        ),
        (
            "mean+std+max+median",
            make_pipeline(
                FragmentAggregator(("mean", "std", "max", "median")), RidgeCV(alphas=alphas)
            ),
        ),
        (
            "mean + subsampler(2)",
            make_imblearn_pipeline(
                FragmentSubsampler(2, random_state=0),
                FragmentAggregator(("mean",)),
                RidgeCV(alphas=alphas),
            ),
        ),
        (
            "mean + subsampler(2, rare_boost=.5)",
            make_imblearn_pipeline(
                FragmentSubsampler(2, rare_boost=0.5, random_state=0),
                FragmentAggregator(("mean",)),
                RidgeCV(alphas=alphas),
            ),
        ),
    ]
    print(
        f"\n1. RidgeCV on aggregated bags: {n_samples} samples, {n_features} features, "
        "2-8 fragments, 2 targets, 5-fold CV"
    )
    print(f"{'features':38s} {'MAE y0':>8s} {'MAE y1':>8s} {'bMAE y0':>8s} {'bMAE y1':>8s}")
    for name, model in rows:
        pred = cross_val_predict(model, bags, y, cv=cv)
        mae = np.abs(pred - y).mean(axis=0)
        bmae = balanced_mean_absolute_error(y, pred, multioutput="raw_values")
        print(f"{name:38s} {mae[0]:8.4f} {mae[1]:8.4f} {bmae[0]:8.4f} {bmae[1]:8.4f}")


def corrupt(y_frag: list, share: float, rng: np.random.Generator) -> list:
    """Replace ``share`` of the fragment targets by clean + -/+ U(3, 10) * sd."""
    flat = np.concatenate(y_frag)
    sd = flat.std(axis=0)
    bad = rng.random(len(flat)) < share
    shift = rng.choice([-1.0, 1.0], size=flat.shape) * rng.uniform(3, 10, size=flat.shape)
    flat = np.where(bad[:, None], flat + shift * sd, flat)
    return np.split(flat, np.cumsum([len(v) for v in y_frag])[:-1])


def robustness(n_samples: int) -> None:
    _, y_clean, y_frag = make_imbalanced_regression(
        n_samples, 8, n_targets=2, n_fragments=(2, 8), random_state=0
    )
    rng = np.random.default_rng(0)
    print(
        f"\n2. Averaging fragment targets: MAE against the clean sample targets "
        f"({n_samples} samples, 2-8 fragments, 2 targets; corrupted fragments get "
        "-/+U(3,10) sd)"
    )
    header = f"{'corrupted':>9s} {'target':>6s} " + " ".join(f"{m:>8s}" for m in METHODS)
    print(header + "  auto chose")
    for share in (0.0, 0.05, 0.10, 0.20):
        noisy = corrupt(y_frag, share, rng) if share else y_frag
        errors = {
            name: np.abs(aggregate_targets(noisy, None, **kwargs) - y_clean).mean(axis=0)
            for name, kwargs in METHODS.items()
        }
        chosen = choose_target_aggregation(noisy, None)
        for k in range(2):
            values = " ".join(f"{errors[m][k]:8.4f}" for m in METHODS)
            print(f"{share:9.0%} {'y' + str(k):>6s} {values}  {chosen[k]}")


def _timed(aggregator: FragmentAggregator, X) -> tuple[float, float]:
    """Best wall-clock and best process-CPU seconds of three transforms."""
    wall, cpu = [], []
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        aggregator.transform(X)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def speed(n_bags: int, n_fragments: int, n_features: int) -> None:
    rng = np.random.default_rng(0)
    sizes = rng.multinomial(n_fragments - n_bags, np.ones(n_bags) / n_bags) + 1
    flat = rng.standard_normal((n_fragments, n_features), dtype=np.float32)
    bags = np.split(flat, np.cumsum(sizes)[:-1])
    print(
        f"\n3. Speed: {n_fragments} fragments x {n_features} features (float32) in "
        f"{n_bags} bags (sizes {sizes.min()}-{sizes.max()}), list input; best of 3"
    )
    print(f"{'stats':32s} {'wall s':>8s} {'CPU s':>8s} {'peak MiB':>9s}")
    for stats in (
        ("mean",),
        ("mean", "std", "max"),
        ("min", "max", "count"),
        ("gem",),
        ("median",),
        ("trimmed",),
    ):
        agg = FragmentAggregator(stats).fit(bags[:2])
        wall, cpu = _timed(agg, bags)
        tracemalloc.start()
        agg.transform(bags)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{','.join(stats):32s} {wall:8.3f} {cpu:8.3f} {peak:9.0f}")
    padded = np.full((n_bags, sizes.max(), n_features), np.nan, dtype=np.float32)
    padded[
        np.repeat(np.arange(n_bags), sizes),
        np.arange(n_fragments) - np.repeat(np.cumsum(sizes) - sizes, sizes),
    ] = flat
    del bags
    agg = FragmentAggregator(("mean",)).fit(padded[:2])
    wall, cpu = _timed(agg, padded)
    print(f"{'mean (3-D NaN-padded input)':32s} {wall:8.3f} {cpu:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data")
    parser.add_argument(
        "--section",
        choices=["all", "downstream", "targets", "speed"],
        default="all",
        help="run one table only",
    )
    args = parser.parse_args()
    run = {args.section} if args.section != "all" else {"downstream", "targets", "speed"}
    if "downstream" in run:
        downstream(600, 64) if args.quick else downstream(2000, 256)
    if "targets" in run:
        robustness(2000) if args.quick else robustness(10000)
    if "speed" in run:
        speed(2000, 20000, 768) if args.quick else speed(10000, 100000, 768)


if __name__ == "__main__":
    main()
