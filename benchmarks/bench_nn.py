"""DIRRegressor on STS-B-DIR: vanilla, +LDS, +FDS, +LDS+FDS and two-tower.

    python benchmarks/bench_nn.py [--quick] [--seeds N] [--device cpu|cuda|auto]
                                  [--threads T] [--set name=value ...] [--data PATH]

Inputs are the 768 raw embedding columns (two 384-d MiniLM sentence embeddings),
standardised with a StandardScaler fitted on the training split. Every variant
uses DIRRegressor's defaults apart from its components (``weighter=LDSWeighter()``,
``fds=FeatureDistributionSmoothing()``); early stopping monitors the
official validation split (``fit(..., eval_set=(X_val, y_val))``) and the table
reports the test split. Shot regions come from the training targets,
``LabelDensity(bin_width=0.1)`` (22 many / 12 medium / 16 few bins; many > 100,
few < 20 training samples per bin); the balanced MSE averages the per-bin MSE
over those bins. Figures are mean ± std over seeds. HistGradientBoosting's
overall test MSE on the same columns is 0.919 (reference from the issue).

``--quick`` runs 2 seeds; ``--set module__hidden=(512,)`` overrides a parameter
of every variant (for exploring defaults; the table says so),
``--set two-tower:module__fusion=interaction`` only that of the named variant, and
``--set +LDS:weighter__sigma=1.0`` a parameter of a variant's component (by
``set_params``).
Epoch times are given as wall seconds (skorch's ``dur``, training and validation
pass) and as CPU seconds of this process per epoch, which a shared machine
disturbs less; with ``--threads 1`` CPU time is compute time.
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from pathlib import Path

import numpy as np
import torch
from _stsb_dir import DEFAULT_DATA, dir_scores, load_stsb_dir
from skorch.callbacks import Callback

from skdir.nn import DIRRegressor, FeatureDistributionSmoothing
from skdir.weighting import LDSWeighter

HGB_MSE = 0.919

VARIANTS = {
    "vanilla": {},
    "+LDS": {"weighter": LDSWeighter()},
    "+FDS": {"fds": FeatureDistributionSmoothing()},
    "+LDS+FDS": {"weighter": LDSWeighter(), "fds": FeatureDistributionSmoothing()},
    "two-tower": {"module": "two_tower", "module__modalities": [384, 384]},
    # the two sentences through one shared tower, fused as [a, b, |a - b|, a * b]
    "two-tower-ix": {
        "module": "two_tower",
        "module__modalities": [384, 384],
        "module__fusion": "interaction",
        "module__shared": True,
    },
}


class EpochCPUTime(Callback):
    """Record the process CPU seconds of each epoch in the history as ``cpu``."""

    def on_epoch_begin(self, net, **kwargs):
        """Start the clock."""
        self._start = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        """Record the epoch's CPU seconds."""
        net.history.record("cpu", time.process_time() - self._start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--quick", action="store_true", help="2 seeds instead of 5")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds start here")
    parser.add_argument(
        "--save",
        type=Path,
        help="append one JSON line per fit to this file (to split seeds over processes)",
    )
    parser.add_argument(
        "--report", type=Path, nargs="*", help="print the table of saved JSON lines, no fits"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n_seeds = args.seeds or (2 if args.quick else 5)
    if args.report:
        records = [json.loads(line) for path in args.report for line in path.open()]
        results: dict[str, dict[str, list[float]]] = {}
        for record in records:
            for key, value in record["scores"].items():
                results.setdefault(record["variant"], {}).setdefault(key, []).append(value)
        settings = {(r["variant"], json.dumps(r["params"], sort_keys=True)) for r in records}
        for variant, params in sorted(settings):
            print(f"{variant}: {params}")
        seeds = sorted({r["seed"] for r in records})
        print_table(results, f"seeds {seeds}")
        return
    overrides: dict[str | None, dict] = {}
    for item in args.set:
        name, value = item.split("=", 1)
        variant, _, name = name.rpartition(":")
        if variant and variant not in VARIANTS:
            parser.error(f"unknown variant {variant!r} in --set {item}")
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parsed = value
        overrides.setdefault(variant or None, {})[name] = parsed

    data = load_stsb_dir(args.data)
    X_train, X_val, X_test = data["X_train"], data["X_val"], data["X_test"]
    y_train, y_val, y_test = data["y_train"], data["y_val"], data["y_test"]
    density = data["density"]
    regions = density.shot_regions(y_test)
    print(
        f"STS-B-DIR: train {len(y_train)}, val {len(y_val)}, test {len(y_test)} "
        f"(test rows many/medium/few: {(regions == 'many').sum()}/"
        f"{(regions == 'medium').sum()}/{(regions == 'few').sum()}); {n_seeds} seeds; "
        f"device {args.device}; torch threads {args.threads}"
    )
    for variant, values in overrides.items():
        print(f"overrides for {variant or 'every variant'}: {values}")

    results = {}
    for name in args.variants:
        params = {
            **VARIANTS[name],
            **overrides.get(None, {}),
            **overrides.get(name, {}),
            "device": args.device,
        }
        rows: dict[str, list[float]] = {}
        for seed in range(args.first_seed, args.first_seed + n_seeds):
            # set_params: nested component parameters (weighter__sigma) act on the objects
            reg = DIRRegressor(random_state=seed, callbacks=[EpochCPUTime()])
            reg.set_params(**params)
            start = time.perf_counter()
            reg.fit(X_train, y_train, eval_set=(X_val, y_val))
            fit_time = time.perf_counter() - start
            pred = reg.predict(X_test)
            scores = dir_scores(y_test, pred, density)
            scores["epochs"] = len(reg.history)
            scores["s/epoch"] = float(np.mean(reg.history[:, "dur"]))
            scores["cpu/epoch"] = float(np.mean(reg.history[:, "cpu"]))
            scores["fit s"] = fit_time
            for key, value in scores.items():
                rows.setdefault(key, []).append(float(value))
            if args.save:
                with args.save.open("a") as file:
                    record = {
                        "variant": name,
                        "seed": seed,
                        "params": {k: repr(v) for k, v in params.items()},
                        "scores": {k: float(v) for k, v in scores.items()},
                    }
                    file.write(json.dumps(record) + "\n")
            print(
                f"  {name:<12} seed {seed}: MSE {scores['all']:.4f} few {scores['few']:.4f} "
                f"epochs {scores['epochs']} ({scores['s/epoch']:.3f} s/epoch wall, "
                f"{scores['cpu/epoch']:.3f} CPU)",
                flush=True,
            )
        results[name] = rows
    print_table(results, f"{n_seeds} seeds")


def print_table(results: dict[str, dict[str, list[float]]], seeds: str) -> None:
    """Print the mean ± std table and the goal checks."""
    columns = ["all", "many", "medium", "few", "balanced", "pearson"]
    header = f"{'variant':<13}" + "".join(
        f"{c + ' MSE' if c != 'pearson' else c:>17}" for c in columns
    )
    header += f"{'epochs':>8}{'s/epoch':>9}{'(+%)':>8}{'CPU/epoch':>11}{'(+%)':>8}"
    print(f"\nTest split, mean ± std over {seeds} (std with ddof=1); epoch times are")
    print("means over all epochs of all seeds, (+%) against vanilla:\n")
    print(header)
    base = results.get("vanilla")

    def overhead(rows, key):
        if base is None:
            return ""
        return f"{100 * (np.mean(rows[key]) / np.mean(base[key]) - 1):+.1f}%"

    for name, rows in results.items():
        line = f"{name:<13}"
        for c in columns:
            values = np.array(rows[c])
            std = values.std(ddof=1) if len(values) > 1 else 0.0
            line += f"{values.mean():>10.4f} ± {std:.3f}"
        line += f"{np.mean(rows['epochs']):>8.1f}{np.mean(rows['s/epoch']):>9.3f}"
        line += f"{overhead(rows, 's/epoch'):>8}{np.mean(rows['cpu/epoch']):>11.3f}"
        line += f"{overhead(rows, 'cpu/epoch'):>8}"
        print(line)
    print(f"\nHistGradientBoosting overall test MSE (reference): {HGB_MSE}")
    best = min(results, key=lambda n: np.mean(results[n]["all"]))
    best_mse = np.mean(results[best]["all"])
    print(
        f"goal 1, best variant beats HGB: {best} {best_mse:.4f} vs {HGB_MSE} -> "
        f"{'PASS' if best_mse < HGB_MSE else 'MISS'}"
    )
    if base is not None and "+LDS+FDS" in results:
        both = results["+LDS+FDS"]
        few_gain = 1 - np.mean(both["few"]) / np.mean(base["few"])
        all_loss = np.mean(both["all"]) / np.mean(base["all"]) - 1
        ok = few_gain >= 0.10 and all_loss <= 0.02
        print(
            f"goal 2, +LDS+FDS vs vanilla: few-shot MSE {100 * few_gain:.1f}% lower "
            f"(goal >= 10%), overall MSE {100 * all_loss:+.1f}% (goal <= +2%) -> "
            f"{'PASS' if ok else 'MISS'}"
        )
    for name in ("+LDS", "+FDS"):
        if base is not None and name in results:
            wall = np.mean(results[name]["s/epoch"]) / np.mean(base["s/epoch"]) - 1
            cpu = np.mean(results[name]["cpu/epoch"]) / np.mean(base["cpu/epoch"]) - 1
            print(
                f"goal 3, per-epoch overhead of {name}: {100 * wall:+.1f}% wall, "
                f"{100 * cpu:+.1f}% CPU (goal < 15%) -> "
                f"{'PASS' if max(wall, cpu) < 0.15 else 'MISS'}"
            )


if __name__ == "__main__":
    main()
