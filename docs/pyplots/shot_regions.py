"""Shot regions: bins classified by their number of training samples."""

import matplotlib.pyplot as plt
import numpy as np
from _data import train_test

from skdir import LabelDensity

_, _, y_train, _ = train_test()
density = LabelDensity(n_bins=30).fit(y_train)
edges = density.bin_edges_[0]
centres = (edges[:-1] + edges[1:]) / 2
counts = density.counts_
colours = {"many": "C2", "medium": "C1", "few": "C3"}
region = np.where(counts > 100, "many", np.where(counts < 20, "few", "medium"))

fig, ax = plt.subplots()
for name, colour in colours.items():
    mask = region == name
    ax.bar(
        centres[mask],
        np.maximum(counts[mask], 0.5),
        width=np.diff(edges)[mask],
        color=colour,
        label=f"{name}-shot bins",
    )
for threshold in (100, 20):
    ax.axhline(threshold, color="0.3", lw=0.8, ls="--")
ax.set_yscale("log")
ax.set_xlabel("target y")
ax.set_ylabel("training samples per bin")
ax.legend(frameon=False)
