"""Shot regions and LDS weights of STS-B-DIR's training targets.

    python benchmarks/bench_density.py [--data PATH/TO/stsb_dir_minilm.npz]

Bins the training scores into 0.1-wide bins over [0, 5] with ``LabelDensity`` and
prints the many/medium/few bins (> 100 / 20-100 / < 20 training samples) and how
many test rows fall in each region (the DIR protocol: 22 / 12 / 16 bins,
756 / 207 / 37 test rows), the range of the LDS weights, and the time to fit the
density and weight 1e6 targets.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from skdir.density import LabelDensity

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "../shared/datasets/stsb_dir/stsb_dir_minilm.npz"
REGIONS = ("many", "medium", "few")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    archive = np.load(args.data)
    y_train, y_test = archive["y_train"], archive["y_test"]

    density = LabelDensity(bin_width=0.1, kernel="gaussian", ks=5, sigma=2).fit(y_train)
    centers = density.bin_edges_[0][:-1] + 0.05
    bin_regions = density.shot_regions(centers)
    test_regions = density.shot_regions(y_test)

    print(f"STS-B-DIR train: {len(y_train)} targets, {density.n_bins_[0]} bins of width 0.1")
    print(f"{'region':<8}{'bins':>6}{'test rows':>11}")
    for region in REGIONS:
        n_bins = int((bin_regions == region).sum())
        n_test = int((test_regions == region).sum())
        print(f"{region:<8}{n_bins:>6}{n_test:>11}")
    for reweight in ("sqrt_inv", "inverse"):
        weights = density.weights(y_train, reweight=reweight)
        print(
            f"LDS {reweight:<8} weights: min {weights.min():.3f}  max {weights.max():.3f}  "
            f"mean {weights.mean():.3f}"
        )

    big = np.random.default_rng(0).uniform(0, 5, size=1_000_000)
    start = time.perf_counter()
    LabelDensity(bin_width=0.1).fit(big).weights(big)
    print(f"fit + weights on 1e6 targets: {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
