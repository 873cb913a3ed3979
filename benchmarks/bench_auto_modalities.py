"""AutoDIRRegressor on two modalities of different kinds: with and without the fusion candidate.

    python benchmarks/bench_auto_modalities.py [--seeds 0 1 2] [--n-folds 3]

The generated two-modality task of ``bench_modality_balance.py`` (two 64-column
blocks of *different* kinds: a skewed signal from block A plus an interaction of
two latents of block B; 2,000 training rows, a test set balanced over ten target
bins). ``AutoDIRRegressor(modalities=[64, 64], metric="mse")`` is fitted with the
same candidates twice, without and with ``"fusion"`` (the fusion-transformer
network, one token per block), and scored on the test split: MSE all / few /
balanced (shot regions of the training targets, 20 bins), fit seconds and the
ensemble's weights. One thread.
"""

from __future__ import annotations

import argparse
import time

import torch
from _stsb_dir import dir_scores
from bench_modality_balance import make_two_modality
from threadpoolctl import threadpool_limits

from skdir.auto import AutoDIRRegressor

BASE = ["ridge", "ridge+lds", "hgb", "net", "net+lds", "two_tower", "two_tower+lds"]
VARIANTS = {"without fusion": BASE, "with fusion": [*BASE, "fusion"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-folds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        for seed in args.seeds:
            data = make_two_modality(seed)
            for name, candidates in VARIANTS.items():
                model = AutoDIRRegressor(
                    candidates=candidates,
                    modalities=[64, 64],
                    metric="mse",
                    n_folds=args.n_folds,
                    random_state=seed,
                    device="cpu",
                )
                start = time.perf_counter()
                model.fit(data["X_train"], data["y_train"])
                seconds = time.perf_counter() - start
                pred = model.predict(data["X_test"])
                scores = dir_scores(data["y_test"], pred, data["density"])
                weights = ", ".join(f"{k} {v:.2f}" for k, v in sorted(model.weights_.items()))
                print(
                    f"seed {seed} {name:<15} MSE all {scores['all']:.4f} few {scores['few']:.4f} "
                    f"balanced {scores['balanced']:.4f} fit {seconds:.0f} s; weights: {weights}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
