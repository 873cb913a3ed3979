"""Modality balance (OGM-GE gradient modulation) for the two-tower and fusion networks.

    python benchmarks/bench_modality_balance.py [--seeds N] [--part generated|stsb|both]
                                                [--variants NAME ...] [--threads T]
                                                [--data PATH] [--out PATH]

Part 1, generated two-modality data: two 64-column blocks of embedding-like
inputs (a few latent factors spread by a random rotation over the block, plus
noise). The target is a strong, simple signal of block A (a Gamma(2)-distributed
factor, skewed with rare high values) plus a weaker, nonlinear signal of block
B that the network needs as well (``0.8 * b1 * b2``; the "only A" error is
about the variance of that term). 2,000 training and 500 validation rows (for
early stopping) are drawn from the skewed distribution; the 1,000 test rows
are balanced over 10 equal-width target bins (100 rows each, the top bins
sampled with replacement from a large pool). Shot regions come from the
training targets with ``LabelDensity(n_bins=20)`` (many > 100, few < 20
training rows per bin); balanced MSE averages the per-bin MSE over its bins.

Part 2, STS-B-DIR's two towers (two 384-d MiniLM sentence embeddings):
``module="two_tower", module__modalities=[384, 384], module__fusion="interaction"``
plain and with :class:`~skdir.nn.ModalityBalance`, against the default
DIRRegressor (``interaction_mlp`` on all columns); early stopping on the
official validation split (``eval_set``), scores on the test split as in
``bench_nn_modules.py``.

The ``two_tower SGD`` variants train with the paper's optimiser (SGD, momentum
0.9, ``lr=0.03``) instead of AdamW, whose per-parameter normalisation cancels a
constant gradient factor. Every variant runs with DIRRegressor's defaults
otherwise (``max_epochs=256``, ``patience=40``, cosine schedule), on one torch
thread; figures are mean ± std over seeds (seed = network seed; the generated
data are drawn once).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from _stsb_dir import DEFAULT_DATA, dir_scores, load_stsb_dir
from threadpoolctl import threadpool_limits

from skdir.density import LabelDensity
from skdir.nn import DIRRegressor, ModalityBalance
from skdir.weighting import LDSWeighter

RESULTS = Path(__file__).resolve().parent / "results" / "bench_modality_balance.txt"
BLOCK = 64


def _balance(alpha: float, noise: bool = True) -> dict:
    return {"regularizers": [("balance", ModalityBalance(alpha=alpha, noise=noise))]}


TOWER = {"module": "two_tower", "module__modalities": [BLOCK, BLOCK]}
#: The paper's optimiser (SGD with momentum); AdamW's per-parameter normalisation
#: cancels a constant gradient factor.
SGD = {"optimizer": torch.optim.SGD, "lr": 0.03, "optimizer__momentum": 0.9}
FUSION = {"module": "fusion_transformer", "module__modalities": [BLOCK, BLOCK]}
GENERATED = {
    "default (interaction_mlp)": {},
    "two_tower": TOWER,
    "two_tower + LDS": {**TOWER, "weighter": LDSWeighter()},
    "two_tower + MB a=0.1": {**TOWER, **_balance(0.1)},
    "two_tower + MB a=0.5": {**TOWER, **_balance(0.5)},
    "two_tower + MB a=0.5 no GE": {**TOWER, **_balance(0.5, noise=False)},
    "two_tower + MB a=0.1 no GE": {**TOWER, **_balance(0.1, noise=False)},
    "two_tower SGD": {**TOWER, **SGD},
    "two_tower SGD + MB a=0.1 no GE": {**TOWER, **SGD, **_balance(0.1, noise=False)},
    "two_tower SGD + MB a=0.5 no GE": {**TOWER, **SGD, **_balance(0.5, noise=False)},
    "two_tower SGD + MB a=0.5": {**TOWER, **SGD, **_balance(0.5)},
    "fusion_tf": FUSION,
    "fusion_tf + MB a=0.1": {**FUSION, **_balance(0.1)},
    "fusion_tf + MB a=0.5": {**FUSION, **_balance(0.5)},
}
STSB_TOWER = {
    "module": "two_tower",
    "module__modalities": [384, 384],
    "module__fusion": "interaction",
}
STSB = {
    "default (interaction_mlp)": {},
    "two_tower(inter)": STSB_TOWER,
    "two_tower(inter) + MB a=0.1": {**STSB_TOWER, **_balance(0.1)},
    "two_tower(inter) + MB a=0.5": {**STSB_TOWER, **_balance(0.5)},
}
COLUMNS = ("all", "many", "medium", "few", "balanced")


def _block(latents: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Spread standardised latents over BLOCK columns by a random rotation, plus noise."""
    z = (latents - latents.mean(axis=0)) / latents.std(axis=0)
    basis, _ = np.linalg.qr(rng.normal(size=(BLOCK, BLOCK)))
    mixed = z @ basis[: z.shape[1]] * np.sqrt(BLOCK / z.shape[1])
    return mixed + 0.3 * rng.normal(size=mixed.shape)


def make_two_modality(random_state: int = 0) -> dict:
    """Return train/val/test splits of the generated two-modality task."""
    rng = np.random.default_rng(random_state)
    n_pool = 200_000
    strong = rng.gamma(2.0, 1.0, size=n_pool)
    b = rng.normal(size=(n_pool, 2))
    y = strong + 0.8 * b[:, 0] * b[:, 1]
    a_latents = np.column_stack([strong, rng.normal(size=(n_pool, 5))])
    b_latents = np.column_stack([b, rng.normal(size=(n_pool, 4))])
    X = np.hstack([_block(a_latents, rng), _block(b_latents, rng)]).astype(np.float32)
    order = rng.permutation(n_pool)
    train, val, rest = order[:2000], order[2000:2500], order[2500:]
    edges = np.linspace(np.quantile(y[train], 0.005), np.quantile(y[train], 0.995), 11)
    bins = np.digitize(y[rest], edges[1:-1])
    inside = (y[rest] >= edges[0]) & (y[rest] <= edges[-1])
    test = np.concatenate(
        [
            rng.choice(rest[(bins == k) & inside], 100, replace=((bins == k) & inside).sum() < 100)
            for k in range(10)
        ]
    )
    return {
        "X_train": X[train],
        "y_train": y[train],
        "X_val": X[val],
        "y_val": y[val],
        "X_test": X[test],
        "y_test": y[test],
        "density": LabelDensity(n_bins=20).fit(y[train]),
    }


def _skew(y: np.ndarray) -> float:
    return float(((y - y.mean()) ** 3).mean() / y.std() ** 3)


def _run(data: dict, variants: dict, names: list[str], n_seeds: int, log) -> dict:
    results = {}
    for name in names:
        rows: dict[str, list[float]] = {}
        for seed in range(n_seeds):
            reg = DIRRegressor(random_state=seed, device="cpu", **variants[name])
            start = time.perf_counter()
            reg.fit(data["X_train"], data["y_train"], eval_set=(data["X_val"], data["y_val"]))
            seconds = time.perf_counter() - start
            scores = dir_scores(data["y_test"], reg.predict(data["X_test"]), data["density"])
            scores.update({"fit s": seconds, "epochs": len(reg.history)})
            balance = reg.regularizers_.get("balance")
            if balance is not None and hasattr(balance, "coefficients_"):
                scores["k A"], scores["k B"] = balance.coefficients_
            for key, value in scores.items():
                rows.setdefault(key, []).append(float(value))
            extra = (
                f" k(last epoch) {scores['k A']:.3f}/{scores['k B']:.3f}"
                if "k A" in scores
                else ""
            )
            log(
                f"  {name:<28} seed {seed}: MSE {scores['all']:.4f} few {scores['few']:.4f} "
                f"bal {scores['balanced']:.4f} epochs {scores['epochs']:.0f} "
                f"{seconds:.1f} s{extra}"
            )
        results[name] = rows
    return results


def _table(title: str, results: dict, log) -> None:
    log(f"\n{title}")
    log(
        f"{'variant':<30}"
        + "".join(f"{'MSE ' + c:>18}" for c in COLUMNS)
        + f"{'epochs':>8}{'fit s':>8}{'k A / k B':>14}"
    )
    for name, rows in results.items():
        line = f"{name:<30}"
        for c in COLUMNS:
            values = np.asarray(rows[c])
            std = values.std(ddof=1) if len(values) > 1 else 0.0
            line += f"{values.mean():>10.4f} ± {std:.3f}"
        line += f"{np.mean(rows['epochs']):>8.0f}{np.mean(rows['fit s']):>8.1f}"
        if "k A" in rows:
            line += f"{np.mean(rows['k A']):>8.3f}/{np.mean(rows['k B']):.3f}"
        log(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--part", choices=("generated", "stsb", "both"), default="both")
    parser.add_argument("--variants", nargs="*", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lines: list[str] = []

    def log(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    start = time.perf_counter()
    log(f"torch threads {args.threads}; {args.seeds} seeds; mean ± std over seeds")
    with threadpool_limits(args.threads):
        if args.part in ("generated", "both"):
            data = make_two_modality()
            regions = data["density"].shot_regions(data["y_test"])
            log(
                f"\nGenerated two-modality data: 2x{BLOCK} columns, train 2000 (y range "
                f"{data['y_train'].min():.2f}..{data['y_train'].max():.2f}, skew "
                f"{_skew(data['y_train']):.2f}), "
                f"val 500, balanced test 1000 (many/medium/few rows "
                + "/".join(str((regions == r).sum()) for r in ("many", "medium", "few"))
                + ")"
            )
            names = [n for n in (args.variants or GENERATED) if n in GENERATED]
            _table(
                "Generated two-modality data, balanced test split",
                _run(data, GENERATED, names, args.seeds, log),
                log,
            )
        if args.part in ("stsb", "both"):
            data = load_stsb_dir(args.data)
            log(f"\nSTS-B-DIR: train {len(data['y_train'])}, test {len(data['y_test'])}")
            names = [n for n in (args.variants or STSB) if n in STSB]
            _table("STS-B-DIR test split", _run(data, STSB, names, args.seeds, log), log)
    log(f"\ntotal {time.perf_counter() - start:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
