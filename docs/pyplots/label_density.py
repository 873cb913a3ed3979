"""Empirical label density, its LDS-smoothed version, and the resulting weights."""

import matplotlib.pyplot as plt
import numpy as np
from _data import train_test

from skdir import LabelDensity

_, _, y_train, _ = train_test()
density = LabelDensity(n_bins=30, kernel="gaussian", ks=5, sigma=2.0).fit(y_train)
edges = density.bin_edges_[0]
centres = (edges[:-1] + edges[1:]) / 2

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
left.bar(centres, density.counts_, width=np.diff(edges), color="0.8", label="empirical counts")
left.plot(centres, density.smoothed_counts_, "o-", color="C1", ms=3, label="LDS-smoothed")
left.set_yscale("symlog", linthresh=1)
left.set_xlabel("target y")
left.set_ylabel("samples per bin")
left.legend(frameon=False)
left.set_title("Label density")

for reweight, smooth, style in [
    ("sqrt_inv", False, "C0:"),
    ("sqrt_inv", True, "C0-"),
    ("inverse", True, "C3-"),
]:
    # Weights of the training samples (mean 1 over the training set), shown per bin.
    weights = density.weights(y_train, reweight=reweight, smooth=smooth)
    per_bin = np.full(centres.size, np.nan)
    per_bin[density.bin_index(y_train)] = weights
    label = f"{reweight}{' + LDS' if smooth else ''}"
    right.plot(centres, per_bin, style, marker=".", label=label)
right.set_yscale("log")
right.set_xlabel("target y")
right.set_ylabel("weight of a training sample")
right.legend(frameon=False)
right.set_title("Per-sample weights")
fig.tight_layout()
