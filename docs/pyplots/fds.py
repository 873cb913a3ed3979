"""Per-bin statistics of a feature, before and after FDS-style smoothing over bins."""

import matplotlib.pyplot as plt
import numpy as np
from _data import train_test
from sklearn.linear_model import Ridge

from skdir import LabelDensity

X_train, _, y_train, _ = train_test()
# A feature that tracks the target: the projection a linear head would read.
z = X_train @ Ridge(alpha=1.0).fit(X_train, y_train).coef_
density = LabelDensity(n_bins=30, ks=5, sigma=2.0).fit(y_train)
bins = density.bin_index(y_train)
counts = density.counts_
n_bins = counts.size
edges = density.bin_edges_[0]
centres = (edges[:-1] + edges[1:]) / 2

sums = np.bincount(bins, z, minlength=n_bins)
squares = np.bincount(bins, z**2, minlength=n_bins)
filled = counts > 0
mean = np.full(n_bins, np.nan)
var = np.full(n_bins, np.nan)
mean[filled] = sums[filled] / counts[filled]
var[filled] = np.maximum(squares[filled] / counts[filled] - mean[filled] ** 2, 0.0)
# Empty bins take interpolated statistics (the official FDS fills them from neighbours).
mean = np.interp(centres, centres[filled], mean[filled])
var = np.interp(centres, centres[filled], var[filled])
smooth_mean = density.smooth(mean, normalize="sum", mode="reflect")
smooth_var = density.smooth(var, normalize="sum", mode="reflect")

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
sizes = 8 + 40 * np.sqrt(counts / counts.max())
left.scatter(centres, mean, s=sizes, color="0.5", label="per-bin mean (size ~ count)")
left.plot(centres, smooth_mean, "C1-", label="smoothed over bins")
left.set_xlabel("target y")
left.set_ylabel("feature z")
left.legend(frameon=False)
right.scatter(centres, np.sqrt(var), s=sizes, color="0.5", label="per-bin std")
right.plot(centres, np.sqrt(smooth_var), "C1-", label="smoothed over bins")
right.set_xlabel("target y")
right.set_ylabel("std of z in the bin")
right.legend(frameon=False)
fig.tight_layout()
