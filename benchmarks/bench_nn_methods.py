"""DIRRegressor's part-2 methods on STS-B-DIR: each alone, and combinations.

    python benchmarks/bench_nn_methods.py [--quick] [--seeds N] [--variants NAME ...]
                                          [--device cpu|cuda|auto] [--threads T] [--data PATH]

Balanced MSE (BMC, ``criterion=BalancedMSELoss``), the regularizers RankSim, ConR and
feature-norm ordinality (hinge + fine-tuning stage), and the augmentations mixup,
C-Mixup and input noise + feature dropout, each switched on alone on top of
DIRRegressor's defaults (MLP 768 -> 256 -> 1, AdamW lr 1e-3, batch 64, early stopping
on the official validation split), then the combinations listed in ``VARIANTS``.
Inputs are the 768 MiniLM embedding columns standardised on the training split; the
table reports the test split: all/many/medium/few MSE (shot regions from the training
targets, ``LabelDensity(bin_width=0.1)``), balanced (bin-averaged) MSE, Pearson r,
epochs, seconds per epoch and its overhead against vanilla. Mean ± std over seeds.
The uncertainty-weighted multi-task loss (``criterion=UncertaintyWeightedLoss``) needs
two targets and is not run here (STS-B has one).

``--quick`` runs 2 seeds instead of 5.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from _stsb_dir import DEFAULT_DATA, dir_scores, load_stsb_dir

from skdir.nn import (
    BalancedMSELoss,
    CMixup,
    ConR,
    DIRRegressor,
    FeatureDistributionSmoothing,
    FeatureDropout,
    FeatureNormOrder,
    GaussianNoise,
    Mixup,
    RankSim,
)
from skdir.weighting import LDSWeighter

BMSE = {"criterion": BalancedMSELoss}
LDS = {"weighter": LDSWeighter()}
RANKSIM = ("ranksim", RankSim(weight=100.0))
CONR = ("conr", ConR(weight=1.0))
VARIANTS: dict[str, dict] = {
    "vanilla": {},
    "+BMSE": BMSE,
    "+RankSim": {"regularizers": [RANKSIM]},
    "+ConR": {"regularizers": [CONR]},
    "+NormOrder": {"regularizers": [("norm", FeatureNormOrder(weight=1.0, finetune_epochs=5))]},
    "+Mixup": {"augment": Mixup()},
    "+C-Mixup": {"augment": CMixup()},
    "+Noise+Drop": {
        "augment": [("noise", GaussianNoise(std=0.1)), ("dropout", FeatureDropout(p=0.1))]
    },
    "+LDS": LDS,
    "+LDS+FDS": {**LDS, "fds": FeatureDistributionSmoothing()},
    "+ConR+RankSim": {"regularizers": [CONR, RANKSIM]},
    "+LDS+ConR+RankSim": {**LDS, "regularizers": [CONR, RANKSIM]},
    "+ConR+C-Mixup": {"regularizers": [CONR], "augment": CMixup()},
    "+ConR+BMSE": {**BMSE, "regularizers": [CONR]},
    "+LDS+ConR+BMSE": {**LDS, **BMSE, "regularizers": [CONR]},
    "+LDS+C-Mixup+BMSE": {**LDS, **BMSE, "augment": CMixup()},
}
COLUMNS = ["all", "many", "medium", "few", "balanced", "pearson"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--quick", action="store_true", help="2 seeds instead of 5")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n_seeds = args.seeds or (2 if args.quick else 5)
    data = load_stsb_dir(args.data)
    density = data["density"]
    regions = density.shot_regions(data["y_test"])
    print(
        f"STS-B-DIR: train {len(data['y_train'])}, test {len(data['y_test'])} (test rows "
        f"many/medium/few: {(regions == 'many').sum()}/{(regions == 'medium').sum()}/"
        f"{(regions == 'few').sum()}); {n_seeds} seeds; device {args.device}; "
        f"torch threads {args.threads}"
    )
    results: dict[str, dict[str, list[float]]] = {}
    for name in args.variants:
        params = {**VARIANTS[name], "device": args.device}
        rows: dict[str, list[float]] = {}
        for seed in range(n_seeds):
            reg = DIRRegressor(random_state=seed, **params)
            start = time.perf_counter()
            reg.fit(data["X_train"], data["y_train"], eval_set=(data["X_val"], data["y_val"]))
            fit_time = time.perf_counter() - start
            scores = dir_scores(data["y_test"], reg.predict(data["X_test"]), density)
            scores["epochs"] = len(reg.history)
            scores["s/epoch"] = float(np.mean(reg.history[:, "dur"]))
            scores["fit s"] = fit_time
            for key, value in scores.items():
                rows.setdefault(key, []).append(float(value))
            print(
                f"  {name:<18} seed {seed}: MSE {scores['all']:.4f} few {scores['few']:.4f} "
                f"balanced {scores['balanced']:.4f} epochs {scores['epochs']} "
                f"({scores['s/epoch']:.3f} s/epoch)",
                flush=True,
            )
        results[name] = rows
    print_table(results)


def print_table(results: dict[str, dict[str, list[float]]]) -> None:
    """Print mean ± std per variant and the few-shot / overall change against vanilla."""
    header = f"{'variant':<19}" + "".join(
        f"{c + ' MSE' if c != 'pearson' else c:>17}" for c in COLUMNS
    )
    header += f"{'epochs':>8}{'s/epoch':>9}{'overhead':>10}"
    print()
    print(header)
    base = results.get("vanilla")
    base_epoch = np.mean(base["s/epoch"]) if base else None
    for name, rows in results.items():
        line = f"{name:<19}"
        for c in COLUMNS:
            values = np.array(rows[c])
            std = values.std(ddof=1) if len(values) > 1 else 0.0
            line += f"{values.mean():>10.4f} ± {std:.3f}"
        epoch_time = np.mean(rows["s/epoch"])
        overhead = "" if base_epoch is None else f"{100 * (epoch_time / base_epoch - 1):+.1f}%"
        line += f"{np.mean(rows['epochs']):>8.1f}{epoch_time:>9.3f}{overhead:>10}"
        print(line)
    if base:
        print("\nagainst vanilla (goal: few-shot MSE >= 15% lower, overall MSE no worse):")
        for name, rows in results.items():
            if name == "vanilla":
                continue
            few = 1 - np.mean(rows["few"]) / np.mean(base["few"])
            overall = np.mean(rows["all"]) / np.mean(base["all"]) - 1
            print(
                f"  {name:<19} few-shot MSE {100 * few:+.1f}% lower, overall {100 * overall:+.1f}%"
            )


if __name__ == "__main__":
    main()
