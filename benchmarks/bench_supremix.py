"""SupReMix contrastive pre-training on STS-B-DIR, against vanilla and the best existing options.

    python benchmarks/bench_supremix.py [--seeds N] [--variants NAME ...] [--threads T]
                                        [--device cpu|cuda|auto] [--data PATH] [--out PATH]

SupReMix (Wu, Dong, Chen, Zhou & Zhou, "Mixup Your Own Pairs", arXiv 2309.16633;
:class:`skdir.nn.SupReMix`) pre-trains the feature trunk with a supervised
contrastive loss whose hard negatives and positives are feature mixtures, then the
whole network is trained as usual. Every variant is DIRRegressor with its defaults
(``module="interaction_mlp"``, AdamW lr 1e-3, batch 64, early stopping on the official
validation split through ``eval_set``) plus the listed components; inputs are the
768-column MiniLM embeddings standardised on the training split. The table reports the
test split: all / few-shot / balanced (bin-averaged) MSE, mean ± std over seeds, epochs
of the main training and seconds per fit, then each variant against vanilla and
against the best existing option of the run (the non-SupReMix variant with the lowest
mean balanced MSE). ``VARIANTS`` lists the default set; ``SWEEP`` holds settings of
SupReMix tried on one seed to choose its defaults (``--variants`` takes names of both).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from _stsb_dir import DEFAULT_DATA, dir_scores, load_stsb_dir
from threadpoolctl import threadpool_limits

from skdir.nn import CMixup, ConR, DIRRegressor, SupReMix

RESULTS = Path(__file__).resolve().parent / "results" / "bench_supremix.txt"
CONR = ("conr", ConR(weight=1.0))
SUPREMIX = ("supremix", SupReMix())
VARIANTS: dict[str, dict] = {
    "vanilla": {},
    "+C-Mixup": {"augment": CMixup()},
    "+ConR": {"regularizers": [CONR]},
    "+ConR+C-Mixup": {"regularizers": [CONR], "augment": CMixup()},
    "+SupReMix": {"regularizers": [SUPREMIX]},
    "+SupReMix joint": {"regularizers": [("supremix", SupReMix(weight=0.1))]},
    "+SupReMix+C-Mixup": {"regularizers": [SUPREMIX], "augment": CMixup()},
    "+SupReMix probe": {"regularizers": [("supremix", SupReMix(probe=True))]},
}
SWEEP: dict[str, dict] = {  # run on seed 0 to choose the defaults (30 pre-training epochs)
    "+SupReMix 10ep": {"regularizers": [("supremix", SupReMix(pretrain_epochs=10))]},
    "+SupReMix 10ep t=0.2": {
        "regularizers": [("supremix", SupReMix(pretrain_epochs=10, temperature=0.2))]
    },
    "+SupReMix 10ep thr=0.5": {
        "regularizers": [("supremix", SupReMix(pretrain_epochs=10, threshold=0.5, window=1.5))]
    },
    "+SupReMix thr=0.5": {"regularizers": [("supremix", SupReMix(threshold=0.5, window=1.5))]},
    "+SupReMix lr=1e-4": {"regularizers": [("supremix", SupReMix(pretrain_lr=1e-4))]},
    "+SupReMix joint only": {
        "regularizers": [("supremix", SupReMix(weight=0.1, pretrain_epochs=0))]
    },
}
COLUMNS = ["all", "few", "balanced"]


def _is_supremix(name: str) -> bool:
    return "SupReMix" in name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=RESULTS, help="table file ('' skips)")
    args = parser.parse_args()
    unknown = [name for name in args.variants if name not in {**VARIANTS, **SWEEP}]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS) + list(SWEEP)}")
    torch.set_num_threads(args.threads)
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    data = load_stsb_dir(args.data)
    density = data["density"]
    regions = density.shot_regions(data["y_test"])
    say(
        f"STS-B-DIR: train {len(data['y_train'])}, test {len(data['y_test'])} (test rows "
        f"many/medium/few: {(regions == 'many').sum()}/{(regions == 'medium').sum()}/"
        f"{(regions == 'few').sum()}); seeds {args.seeds}; device {args.device}; "
        f"torch threads {args.threads}"
    )
    results: dict[str, dict[str, list[float]]] = {}
    with threadpool_limits(args.threads):
        for name in args.variants:
            params = {**VARIANTS, **SWEEP}[name]
            rows: dict[str, list[float]] = {}
            for seed in range(args.seeds):
                reg = DIRRegressor(random_state=seed, device=args.device, **params)
                start = time.perf_counter()
                reg.fit(data["X_train"], data["y_train"], eval_set=(data["X_val"], data["y_val"]))
                scores = {"fit s": time.perf_counter() - start}
                scores.update(dir_scores(data["y_test"], reg.predict(data["X_test"]), density))
                scores["epochs"] = len(reg.history)
                for key, value in scores.items():
                    rows.setdefault(key, []).append(float(value))
                stage = reg.regularizers_.get("supremix")
                pre = ""
                if stage is not None and len(getattr(stage, "pretrain_losses_", ())):
                    losses = stage.pretrain_losses_
                    pre = f"; pre-training loss {losses[0]:.3f} -> {losses[-1]:.3f}"
                say(
                    f"  {name:<22} seed {seed}: MSE {scores['all']:.4f} few {scores['few']:.4f} "
                    f"balanced {scores['balanced']:.4f} epochs {scores['epochs']} "
                    f"({scores['fit s']:.0f} s){pre}"
                )
            results[name] = rows
    for line in table(results):
        say(line)
    if str(args.out):
        args.out.write_text("\n".join(lines) + "\n")


def _mean_std(values: list[float]) -> str:
    array = np.asarray(values)
    std = array.std(ddof=1) if len(array) > 1 else 0.0
    return f"{array.mean():.4f} ± {std:.3f}"


def table(results: dict[str, dict[str, list[float]]]) -> list[str]:
    """Return the mean ± std table and the changes against vanilla and the best option."""
    out = ["", f"{'variant':<23}" + "".join(f"{c + ' MSE':>17}" for c in COLUMNS)]
    out[-1] += f"{'epochs':>8}{'s/fit':>8}"
    for name, rows in results.items():
        line = f"{name:<23}" + "".join(f"{_mean_std(rows[c]):>17}" for c in COLUMNS)
        out.append(line + f"{np.mean(rows['epochs']):>8.1f}{np.mean(rows['fit s']):>8.0f}")
    existing = [name for name in results if not _is_supremix(name)]
    references = []
    if "vanilla" in results:
        references.append(("vanilla", "vanilla"))
    if existing:
        best = min(existing, key=lambda name: np.mean(results[name]["balanced"]))
        references.append((best, f"the best existing option ({best}, lowest balanced MSE)"))
    for reference, label in references:
        out.append(f"\nchange of mean MSE against {label} (negative = better):")
        base = results[reference]
        for name, rows in results.items():
            if name == reference:
                continue
            change = "".join(
                f"  {c} {100 * (np.mean(rows[c]) / np.mean(base[c]) - 1):+6.1f}%" for c in COLUMNS
            )
            out.append(f"  {name:<23}{change}")
    return out


if __name__ == "__main__":
    main()
