"""DIRRegressor's networks: MLP, two-tower, fusion transformer (STS-B-DIR) and attention-MIL.

    python benchmarks/bench_nn_modules.py [--quick] [--seeds N] [--device cpu|cuda|auto]
                                          [--threads T] [--part stsb|bags|both]
                                          [--data PATH]

Part 1, STS-B-DIR: the 768 embedding columns (two 384-d MiniLM sentence
embeddings, standardised on the training split) go to each network with
DIRRegressor's defaults otherwise; early stopping monitors the official
validation split and the table reports the test split. Shot regions come from
``LabelDensity(bin_width=0.1)`` of the training targets (as in bench_nn.py);
the balanced MSE averages the per-bin MSE over the bins.

Part 2, generated bags: ``make_imbalanced_regression(n_samples, 128,
n_targets=2, n_fragments=(2, 8))`` (the per-sample targets; 70/15/15 split into
train/validation/test), attention-MIL on the bags against the mean of each
bag's fragments followed by an MLP, both with ``target_transformer=StandardScaler()``
(the second target's unit is ten times the first's). Shot regions per target from 50 bins of the
training targets (many > 100, few < 20 training samples).

Figures are mean ± std over seeds (seed = network seed; the data of part 2 are
drawn once with random_state=0). ``--quick`` runs 2 seeds and 2000 bags.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from _stsb_dir import DEFAULT_DATA, dir_scores, load_stsb_dir
from sklearn.preprocessing import StandardScaler

from skdir.datasets import make_imbalanced_regression
from skdir.density import LabelDensity
from skdir.metrics import balanced_mean_squared_error, shot_metrics
from skdir.nn import DIRRegressor

STSB_VARIANTS = {
    "mlp": {},
    "two_tower": {"module": "two_tower", "module__modalities": [384, 384]},
    "two_tower+inter": {
        "module": "two_tower",
        "module__modalities": [384, 384],
        "module__fusion": "interaction",
        "module__shared": True,
    },
    "fusion_tf(2 tok)": {"module": "fusion_transformer", "module__modalities": [384, 384]},
    "fusion_tf(8 blk)": {"module": "fusion_transformer", "module__n_blocks": 8},
    "fusion_tf(shared)": {
        "module": "fusion_transformer",
        "module__modalities": [384, 384],
        "module__shared": True,
    },
}

BAG_VARIANTS = {  # both standardise the two targets (units differ tenfold)
    "attention_mil": {"module": "attention_mil", "target_transformer": StandardScaler()},
    "mean+mlp": {"module": "mlp", "target_transformer": StandardScaler()},
}

REGIONS = ("all", "many", "medium", "few")


def _fit_timed(reg, X, y, eval_set):
    start = time.perf_counter()
    reg.fit(X, y, eval_set=eval_set)
    return {
        "epochs": len(reg.history),
        "s/epoch": float(np.mean(reg.history[:, "dur"])),
        "fit s": time.perf_counter() - start,
    }


def _print_table(title, results, columns, baseline):
    print(f"\n{title}")
    print(
        f"{'variant':<18}" + "".join(f"{c:>17}" for c in columns) + f"{'epochs':>8}"
        f"{'s/epoch':>9}{'rel':>7}"
    )
    base = np.mean(results[baseline]["s/epoch"]) if baseline in results else None
    for name, rows in results.items():
        line = f"{name:<18}"
        for c in columns:
            values = np.asarray(rows[c])
            std = values.std(ddof=1) if len(values) > 1 else 0.0
            line += f"{values.mean():>10.4f} ± {std:.3f}"
        epoch = np.mean(rows["s/epoch"])
        rel = "" if base is None else f"{epoch / base:.2f}x"
        line += f"{np.mean(rows['epochs']):>8.1f}{epoch:>9.3f}{rel:>7}"
        print(line)


def run_stsb(args, n_seeds):
    data = load_stsb_dir(args.data)
    X_train, X_val, X_test = data["X_train"], data["X_val"], data["X_test"]
    y_train, y_val, y_test = data["y_train"], data["y_val"], data["y_test"]
    density = data["density"]
    regions = density.shot_regions(y_test)
    print(
        f"STS-B-DIR: train {len(y_train)}, val {len(y_val)}, test {len(y_test)} (test rows "
        f"many/medium/few: {(regions == 'many').sum()}/{(regions == 'medium').sum()}/"
        f"{(regions == 'few').sum()}); {n_seeds} seeds"
    )
    results = {}
    for name in args.stsb_variants:
        rows: dict[str, list[float]] = {}
        for seed in range(n_seeds):
            reg = DIRRegressor(random_state=seed, device=args.device, **STSB_VARIANTS[name])
            scores = _fit_timed(reg, X_train, y_train, (X_val, y_val))
            pred = reg.predict(X_test)
            scores.update(
                {
                    (key if key == "pearson" else f"{key} MSE"): value
                    for key, value in dir_scores(y_test, pred, density).items()
                }
            )
            for key, value in scores.items():
                rows.setdefault(key, []).append(float(value))
            print(
                f"  {name:<17} seed {seed}: MSE {scores['all MSE']:.4f} few "
                f"{scores['few MSE']:.4f} epochs {scores['epochs']} "
                f"({scores['s/epoch']:.3f} s/epoch)",
                flush=True,
            )
        results[name] = rows
    columns = [f"{r} MSE" for r in REGIONS] + ["balanced MSE", "pearson"]
    _print_table("STS-B-DIR test split", results, columns, "mlp")


def run_bags(args, n_seeds):
    n_samples = 2000 if args.quick else 4000
    bags, y, _ = make_imbalanced_regression(
        n_samples, 128, n_targets=2, n_fragments=(2, 8), random_state=0
    )
    order = np.random.default_rng(0).permutation(n_samples)
    n_train, n_val = int(0.7 * n_samples), int(0.15 * n_samples)
    parts = np.split(order, [n_train, n_train + n_val])
    sizes = np.array([len(b) for b in bags])
    print(
        f"\nGenerated bags: {n_samples} bags of {sizes.min()}-{sizes.max()} fragments "
        f"(mean {sizes.mean():.1f}) x 128 features, 2 targets; train/val/test "
        f"{'/'.join(str(len(p)) for p in parts)}; {n_seeds} seeds"
    )
    means = np.stack([b.mean(axis=0) for b in bags])
    inputs = {"attention_mil": [bags[i] for i in range(n_samples)], "mean+mlp": means}
    y_train, y_val, y_test = (y[p] for p in parts)
    density = LabelDensity(n_bins=50).fit(y_train)
    results: dict[str, dict[str, list[float]]] = {}
    for name, params in BAG_VARIANTS.items():
        X = inputs[name]
        X_train, X_val, X_test = (
            [X[i] for i in p] if isinstance(X, list) else X[p] for p in parts
        )
        for seed in range(n_seeds):
            reg = DIRRegressor(random_state=seed, device=args.device, **params)
            timing = _fit_timed(reg, X_train, y_train, (X_val, y_val))
            pred = reg.predict(X_test)
            shots = shot_metrics(y_test, pred, label_density=density, metrics=("mse", "pearson"))
            for k, target in enumerate(("target_0", "target_1")):
                rows = results.setdefault(f"{name} {k}", {})
                for r in REGIONS:
                    rows.setdefault(f"{r} MSE", []).append(shots[target][r]["mse"])
                balanced = balanced_mean_squared_error(
                    y_test[:, k], pred[:, k], label_density=density.marginals_[k]
                )
                rows.setdefault("balanced MSE", []).append(balanced)
                rows.setdefault("pearson", []).append(shots[target]["all"]["pearson"])
                for key, value in timing.items():
                    rows.setdefault(key, []).append(value)
            print(
                f"  {name:<14} seed {seed}: MSE t0 {shots['target_0']['all']['mse']:.4f} "
                f"t1 {shots['target_1']['all']['mse']:.4f} epochs {timing['epochs']} "
                f"({timing['s/epoch']:.3f} s/epoch)",
                flush=True,
            )
    regions = [density.marginals_[k].shot_regions(y_test[:, k]) for k in range(2)]
    counts = ", ".join(
        f"target {k}: " + "/".join(str((r == s).sum()) for s in ("many", "medium", "few"))
        for k, r in enumerate(regions)
    )
    columns = [f"{r} MSE" for r in REGIONS] + ["balanced MSE", "pearson"]
    _print_table(
        f"Generated bags, test split (many/medium/few test rows {counts}); row = method target",
        results,
        columns,
        "mean+mlp 0",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--quick", action="store_true", help="2 seeds, 2000 bags")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--part", choices=("stsb", "bags", "both"), default="both")
    parser.add_argument("--stsb-variants", nargs="*", default=list(STSB_VARIANTS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n_seeds = args.seeds or (2 if args.quick else 5)
    print(f"device {args.device}; torch threads {args.threads}")
    if args.part in ("stsb", "both"):
        run_stsb(args, n_seeds)
    if args.part in ("bags", "both"):
        run_bags(args, n_seeds)


if __name__ == "__main__":
    main()
