"""DIRSearchCV: fold pruning, OptunaSearchCV, and grid/random search on the same budget.

    python benchmarks/bench_search.py [--quick] [--trials N] [--threads T] [--skip PART ...]

Three tables, all on generated data (``make_imbalanced_regression``), 4-fold CV:

1. ``pruning``: a DIRRegressor pipeline (StandardScaler + DIRRegressor) tuned by the same
   TPE search (``random_state=0``) with and without ``pruner=True`` (MedianPruner after each
   fold) and with a stricter ``PercentilePruner(25.0)`` (a trial goes on only while its
   running score is in the best quarter at that fold); wall time, fold fits, best CV
   balanced MAE, and the balanced MAE of the refitted best model on a held-out test set.
2. ``optuna-integration``: the same pipeline, space and trials with
   ``optuna_integration.OptunaSearchCV`` (which cannot prune a Pipeline: no pruning on
   either side); wall time and best CV score.
3. ``budget``: a HistGradientBoostingRegressor tuned by DIRSearchCV (TPE), RandomizedSearchCV
   and GridSearchCV with the same number of candidates; best CV score after 5, 10, ... trials
   (the grid's order is its own), wall time.

Scores are balanced MAE (``skdir.metrics.balanced_mae_scorer``: the MAE averaged over target
bins, an estimate of the error on a uniform test set); lower is better. ``--quick`` runs 12
trials and smaller data. Wall times are taken on whatever machine runs the script: on a
shared machine compare the CPU seconds of this process (``--threads 1``: compute time) and
the fold-fit counts.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import optuna
import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from scipy import stats
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skdir.datasets import make_imbalanced_regression
from skdir.metrics import balanced_mae_scorer
from skdir.model_selection import DIRSearchCV
from skdir.nn import DIRRegressor
from skdir.weighting import LDSWeighter

NET_SPACE = {
    "net__lr": FloatDistribution(1e-4, 3e-2, log=True),
    "net__optimizer__weight_decay": FloatDistribution(1e-6, 1e-1, log=True),
    "net__module__dropout": FloatDistribution(0.0, 0.5),
    "net__batch_size": CategoricalDistribution([32, 64, 128]),
    # no LDS, or LDS with one of four kernel widths (a component's parameters cannot be
    # searched while the component itself may be None, so sigma is part of the choice)
    "net__weighter": [None, *(LDSWeighter(sigma=sigma) for sigma in (0.5, 1.0, 2.0, 3.0))],
}


def make_data(n_samples: int, n_features: int, seed: int = 0):
    X, y = make_imbalanced_regression(
        n_samples=n_samples, n_features=n_features, imbalance=1.5, random_state=seed
    )
    X = np.asarray(X, dtype=np.float32)
    n_test = n_samples // 4
    return X[n_test:], y[n_test:], X[:n_test], y[:n_test]


def net_pipeline(max_epochs: int) -> Pipeline:
    return Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "net",
                DIRRegressor(
                    module__hidden=(64,),
                    max_epochs=max_epochs,
                    patience=5,
                    device="cpu",
                    random_state=0,
                ),
            ),
        ]
    )


def count_fits(search: DIRSearchCV) -> int:
    res = search.cv_results_
    return int(
        sum(np.isfinite(res[f"split{k}_test_score"]).sum() for k in range(search.n_splits_))
    )


def run_net_search(data, trials: int, max_epochs: int, cv, pruner) -> tuple:
    X, y, X_test, y_test = data
    start, cpu = time.perf_counter(), time.process_time()
    search = DIRSearchCV(
        net_pipeline(max_epochs),
        NET_SPACE,
        n_trials=trials,
        cv=cv,
        scoring=balanced_mae_scorer,
        pruner=pruner,
        random_state=0,
    ).fit(X, y)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    pruned = int((search.cv_results_["state"] == "pruned").sum())
    return (
        wall,
        cpu,
        count_fits(search),
        pruned,
        -search.best_score_,
        -balanced_mae_scorer(search, X_test, y_test),
    )


def run_optuna_integration(data, trials: int, max_epochs: int, cv) -> tuple:
    from optuna_integration import OptunaSearchCV

    X, y, X_test, y_test = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = OptunaSearchCV(
            net_pipeline(max_epochs),
            {  # OptunaSearchCV takes distributions only (objects as in-memory choices)
                name: CategoricalDistribution(value) if isinstance(value, list) else value
                for name, value in NET_SPACE.items()
            },
            n_trials=trials,
            cv=cv,
            scoring=balanced_mae_scorer,
            study=optuna.create_study(
                direction="maximize", sampler=optuna.samplers.TPESampler(seed=0)
            ),
        )
        start, cpu = time.perf_counter(), time.process_time()
        search.fit(X, y)
    return (
        time.perf_counter() - start,
        time.process_time() - cpu,
        -search.best_score_,
        -balanced_mae_scorer(search, X_test, y_test),
    )


HGB_GRID = {
    "learning_rate": [0.03, 0.1, 0.3],
    "max_leaf_nodes": [7, 31],
    "min_samples_leaf": [5, 20],
    "l2_regularization": [0.0, 1.0],
}


def best_so_far(scores: np.ndarray, checkpoints: list[int]) -> list[float]:
    running = np.fmax.accumulate(scores)
    return [-running[min(c, len(scores)) - 1] for c in checkpoints]


def bench_budget(data, trials: int, cv) -> tuple[list[int], list[tuple]]:
    X, y, _, _ = data
    hgb = HistGradientBoostingRegressor(max_iter=60, random_state=0)
    checkpoints = [c for c in (5, 10, 15, 20, 24) if c <= trials] or [trials]
    space = {
        "learning_rate": (0.01, 0.5, "log"),
        "max_leaf_nodes": IntDistribution(4, 64, log=True),
        "min_samples_leaf": IntDistribution(2, 40, log=True),
        "l2_regularization": FloatDistribution(1e-3, 10.0, log=True),
    }
    grid = list(ParameterGrid(HGB_GRID))
    rng = np.random.default_rng(0)
    grid = [grid[i] for i in rng.permutation(len(grid))][:trials]
    rows = []
    searches = {
        "DIRSearchCV (TPE)": DIRSearchCV(
            hgb, space, n_trials=trials, cv=cv, scoring=balanced_mae_scorer, random_state=0
        ),
        "RandomizedSearchCV": RandomizedSearchCV(
            hgb,
            {
                "learning_rate": stats.loguniform(0.01, 0.5),
                "max_leaf_nodes": stats.randint(4, 65),
                "min_samples_leaf": stats.randint(2, 41),
                "l2_regularization": stats.loguniform(1e-3, 10.0),
            },
            n_iter=trials,
            cv=cv,
            scoring=balanced_mae_scorer,
            random_state=0,
            refit=False,
        ),
        "GridSearchCV (shuffled grid)": GridSearchCV(
            hgb,
            [{k: [v] for k, v in p.items()} for p in grid],
            cv=cv,
            scoring=balanced_mae_scorer,
            refit=False,
        ),
    }
    for label, search in searches.items():
        start = time.perf_counter()
        search.fit(X, y)
        wall = time.perf_counter() - start
        rows.append(
            (label, wall, *best_so_far(search.cv_results_["mean_test_score"], checkpoints))
        )
    return checkpoints, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["pruning", "optuna-integration", "budget"]
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning)
    trials = args.trials or (12 if args.quick else 40)
    n_samples, max_epochs = (600, 10) if args.quick else (1000, 15)
    data = make_data(n_samples, 32)
    cv = KFold(4, shuffle=True, random_state=0)
    print(
        f"data: {len(data[1])} train / {len(data[3])} test rows, 32 features; "
        f"{trials} trials, 4-fold CV; torch threads {args.threads}\n"
    )

    # warm-up (torch kernels, imports) so that the first timed search is not penalised
    net_pipeline(2).fit(data[0][:100], data[1][:100])
    unpruned = None
    if "pruning" not in args.skip:
        unpruned = run_net_search(data, trials, max_epochs, cv, None)
        pruned = run_net_search(data, trials, max_epochs, cv, True)
        strict = run_net_search(
            data, trials, max_epochs, cv, optuna.pruners.PercentilePruner(25.0, n_startup_trials=5)
        )
        print(f"1. Fold pruning, DIRRegressor pipeline ({max_epochs} epochs max), TPE seed 0")
        print(
            f"{'search':<24}{'wall s':>9}{'CPU s':>9}{'fold fits':>11}{'pruned':>8}"
            f"{'best CV bMAE':>14}{'test bMAE':>11}"
        )
        for label, (wall, cpu, fits, n_pruned, cv_score, test) in (
            ("no pruning", unpruned),
            ("pruner=True (median)", pruned),
            ("PercentilePruner(25)", strict),
        ):
            print(
                f"{label:<24}{wall:>9.1f}{cpu:>9.1f}{fits:>11d}{n_pruned:>8d}"
                f"{cv_score:>14.4f}{test:>11.4f}"
            )
        print(
            f"speed-up wall {unpruned[0] / pruned[0]:.2f}x, CPU {unpruned[1] / pruned[1]:.2f}x "
            f"(fold fits {unpruned[2] / pruned[2]:.2f}x); best CV bMAE "
            f"{100 * (pruned[4] / unpruned[4] - 1):+.1f}%"
        )
        print(
            f"PercentilePruner(25): speed-up wall {unpruned[0] / strict[0]:.2f}x, CPU "
            f"{unpruned[1] / strict[1]:.2f}x (fold fits {unpruned[2] / strict[2]:.2f}x); "
            f"best CV bMAE {100 * (strict[4] / unpruned[4] - 1):+.1f}%\n"
        )
    if "optuna-integration" not in args.skip:
        if unpruned is None:
            unpruned = run_net_search(data, trials, max_epochs, cv, None)
        theirs = run_optuna_integration(data, trials, max_epochs, cv)
        print(
            "2. Same pipeline, space and trials (no pruning: OptunaSearchCV cannot prune "
            "a Pipeline)"
        )
        print(f"{'search':<36}{'wall s':>9}{'CPU s':>9}{'best CV bMAE':>14}{'test bMAE':>11}")
        for label, (wall, cpu, cv_score, test) in (
            ("skdir DIRSearchCV", (unpruned[0], unpruned[1], unpruned[4], unpruned[5])),
            ("optuna_integration OptunaSearchCV", theirs),
        ):
            print(f"{label:<36}{wall:>9.1f}{cpu:>9.1f}{cv_score:>14.4f}{test:>11.4f}")
        print()
    if "budget" not in args.skip:
        checkpoints, rows = bench_budget(data, min(trials, 24), cv)
        print("3. HistGradientBoosting, same budget: best CV bMAE after n candidates")
        header = "".join(f"{'n=' + str(c):>9}" for c in checkpoints)
        print(f"{'search':<30}{'wall s':>9}{header}")
        for label, wall, *best in rows:
            print(f"{label:<30}{wall:>9.1f}" + "".join(f"{b:>9.4f}" for b in best))


if __name__ == "__main__":
    main()
