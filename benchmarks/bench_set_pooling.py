"""Set pooling for bags of fragments: Set Transformer against attention-MIL and aggregation.

    python benchmarks/bench_set_pooling.py [--quick] [--seeds N] [--bags N]
                                           [--max-epochs E] [--tasks TASK ...]

Generated bags (2-8 fragments of 16 Gaussian features each) with four kinds of
target, each read from the fragments in a different way:

- ``mean``: the mean over the fragments of a nonlinear per-fragment function,
  ``tanh(2 w.x) + (u.x)^2 / 2``;
- ``max``: the largest per-fragment score ``w.x`` over the bag;
- ``pair_mean``: the mean over the pairs of fragments of their dot product
  in a 2-dimensional subspace, ``(P x_k).(P x_l)`` (a quadratic function that
  the mean and the spread of the bag's columns almost determine);
- ``pair_max``: the largest such dot product over the pairs of the bag (a
  property of pairs: no function of one fragment at a time gives it, and no
  per-column statistic does either).

Each raw target gets Gaussian noise (0.1 of its standard deviation), is mapped
by rank to a standard normal ``t`` and skewed as skdir's generated data are,
``y = (exp(r t) - 1) / r`` with ``r = 0.5`` (``make_imbalanced_regression``'s
default ``imbalance=1``): all four tasks share one long-tailed label
distribution and differ only in how ``y`` depends on the bag. Bags are split
60/15/25 into train/validation/test once (random_state 0); the seeds are the
network seeds.

Methods, all ``DIRRegressor`` with ``target_transformer=StandardScaler()``, early
stopping on the validation split (``patience=15``) and the same ``lr`` and
``max_epochs``:

- ``agg(mean,std,max)+mlp``: ``FragmentAggregator(("mean", "std", "max"))``
  then ``module="mlp"`` (defaults: one hidden layer of 256);
- ``attention_mil``: ``module="attention_mil"`` (defaults: encoder 128, attention 64);
- ``set_transformer``: ``module="set_transformer"`` (defaults: hidden 64, 4 heads,
  2 ISAB blocks of 16 inducing points, PMA with one seed);
- ``set_transformer(SAB)``: the same with ``module__n_inducing=None`` (full
  self-attention between the fragments: cheaper for bags of at most 8).

Test MSE over all test bags, over the few-shot bags (test targets whose bin of
``LabelDensity(n_bins=20)`` fitted on the training targets held fewer than 20
training targets) and the balanced MSE (the mean of the per-bin MSE over those
bins, :func:`skdir.metrics.balanced_mean_squared_error`); mean ± std over the
seeds. Runs on one CPU thread (``torch.set_num_threads(1)``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.stats import norm, rankdata
from sklearn.preprocessing import StandardScaler

from skdir.density import LabelDensity
from skdir.fragments import FragmentAggregator
from skdir.metrics import balanced_mean_squared_error, shot_metrics
from skdir.nn import DIRRegressor

N_FEATURES = 16
TASKS = ("mean", "max", "pair_mean", "pair_max")
METHODS = {
    "agg(mean,std,max)+mlp": {"module": "mlp"},
    "attention_mil": {"module": "attention_mil"},
    "set_transformer": {"module": "set_transformer"},
    "set_transformer(SAB)": {"module": "set_transformer", "module__n_inducing": None},
}


def _raw_targets(bags: list[np.ndarray], task: str, rng: np.random.Generator) -> np.ndarray:
    """Return the noiseless target of each bag for ``task``."""
    w, u = (v / np.linalg.norm(v) for v in rng.normal(size=(2, N_FEATURES)))
    projection = np.linalg.qr(rng.normal(size=(N_FEATURES, 2)))[0]  # orthonormal columns
    sizes = np.array([len(b) for b in bags])
    flat = np.concatenate(bags)
    owner = np.repeat(np.arange(len(bags)), sizes)
    if task == "mean":
        values = np.tanh(2 * flat @ w) + 0.5 * (flat @ u) ** 2
        return np.bincount(owner, values) / sizes
    if task == "max":
        scores = flat @ w
        out = np.full(len(bags), -np.inf)
        np.maximum.at(out, owner, scores)
        return out
    # pair tasks: dot products of two fragments in a 2-dimensional subspace
    projected = flat @ projection
    padded = np.zeros((len(bags), sizes.max(), 2))
    padded[owner, np.arange(len(flat)) - np.repeat(np.cumsum(sizes) - sizes, sizes)] = projected
    products = padded @ padded.transpose(0, 2, 1)
    valid = np.arange(sizes.max())[None, :] < sizes[:, None]
    pair = valid[:, :, None] & valid[:, None, :] & ~np.eye(sizes.max(), dtype=bool)
    if task == "pair_max":
        return np.where(pair, products, -np.inf).max(axis=(1, 2))
    return np.where(pair, products, 0.0).sum(axis=(1, 2)) / (sizes * (sizes - 1))


def make_bags(n_bags: int, task: str, random_state: int = 0):
    """Bags of 2-8 fragments and their skewed targets (the same label distribution per task)."""
    rng = np.random.default_rng(random_state)
    sizes = rng.integers(2, 9, size=n_bags)
    bags = [rng.normal(size=(k, N_FEATURES)).astype(np.float32) for k in sizes]
    raw = _raw_targets(bags, task, rng)
    noisy = raw + 0.1 * raw.std() * rng.normal(size=n_bags)
    t = norm.ppf(rankdata(noisy) / (n_bags + 1))
    r = 0.5
    return bags, np.expm1(r * t) / r


def _scores(y_test, pred, density):
    shots = shot_metrics(y_test, pred, label_density=density, metrics=("mse",))
    return {
        "all": shots["all"]["mse"],
        "few": shots["few"]["mse"],
        "balanced": balanced_mean_squared_error(y_test, pred, label_density=density),
    }


def run_task(task: str, args) -> dict[str, dict[str, list[float]]]:
    bags, y = make_bags(args.bags, task)
    order = np.random.default_rng(0).permutation(len(bags))
    n_train, n_val = int(0.6 * len(bags)), int(0.15 * len(bags))
    parts = np.split(order, [n_train, n_train + n_val])
    split = [([bags[i] for i in p], y[p]) for p in parts]
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = split
    aggregator = FragmentAggregator(("mean", "std", "max")).fit(X_train)
    aggregated = [aggregator.transform(X) for X, _ in split]
    density = LabelDensity(n_bins=20).fit(y_train)
    regions = density.shot_regions(y_test)
    print(
        f"\ntask {task!r}: {len(bags)} bags, train/val/test {n_train}/{n_val}/{len(y_test)}; "
        f"test bags many/medium/few {(regions == 'many').sum()}/"
        f"{(regions == 'medium').sum()}/{(regions == 'few').sum()}",
        flush=True,
    )
    results: dict[str, dict[str, list[float]]] = {}
    for name, params in METHODS.items():
        bag_input = params["module"] != "mlp"
        train, val, test = (X_train, X_val, X_test) if bag_input else aggregated
        for seed in range(args.seeds):
            reg = DIRRegressor(
                target_transformer=StandardScaler(),
                max_epochs=args.max_epochs,
                patience=15,
                device="cpu",
                random_state=seed,
                **params,
            )
            start = time.perf_counter()
            reg.fit(train, y_train, eval_set=(val, y_val))
            seconds = time.perf_counter() - start
            scores = _scores(y_test, reg.predict(test), density)
            scores.update(epochs=len(reg.history), seconds=seconds)
            for key, value in scores.items():
                results.setdefault(name, {}).setdefault(key, []).append(float(value))
            print(
                f"  {name:<22} seed {seed}: MSE {scores['all']:.4f} few {scores['few']:.4f} "
                f"balanced {scores['balanced']:.4f} ({scores['epochs']} epochs, "
                f"{seconds:.1f} s)",
                flush=True,
            )
    return results


def _cell(values: list[float]) -> str:
    values = np.asarray(values)
    std = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():.4f} ± {std:.4f}"


def print_table(task: str, results: dict[str, dict[str, list[float]]], n_seeds: int) -> None:
    print(f"\nTable: task {task!r}, test MSE (mean ± std over {n_seeds} seeds)")
    print(f"{'method':<22}{'all':>18}{'few':>18}{'balanced':>18}{'epochs':>8}{'fit s':>7}")
    for name, rows in results.items():
        print(
            f"{name:<22}{_cell(rows['all']):>18}{_cell(rows['few']):>18}"
            f"{_cell(rows['balanced']):>18}{np.mean(rows['epochs']):>8.1f}"
            f"{np.mean(rows['seconds']):>7.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 600 bags, 30 epochs")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--bags", type=int, default=None)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    args = parser.parse_args()
    args.seeds = args.seeds or (2 if args.quick else 3)
    args.bags = args.bags or (600 if args.quick else 1200)
    args.max_epochs = args.max_epochs or (30 if args.quick else 80)
    torch.set_num_threads(1)
    start = time.perf_counter()
    print(
        f"Set pooling benchmark: {args.bags} bags of 2-8 fragments x {N_FEATURES} features, "
        f"{args.seeds} seeds, max_epochs {args.max_epochs}, one CPU thread"
    )
    tables = {task: run_task(task, args) for task in args.tasks}
    for task, results in tables.items():
        print_table(task, results, args.seeds)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
