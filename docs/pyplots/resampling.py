"""Target distribution before and after SMOGN and random over-sampling."""

import matplotlib.pyplot as plt
import numpy as np

from skdir.datasets import make_imbalanced_regression
from skdir.resampling import SMOGN, RandomOverSampler

X, y = make_imbalanced_regression(1000, 16, imbalance=0.5, random_state=0)
edges = np.linspace(y.min(), y.max(), 31)

fig, ax = plt.subplots()
ax.hist(y, bins=edges, color="0.75", label=f"original ({y.size} rows)")
for sampler, style in [(SMOGN(random_state=0), "C0"), (RandomOverSampler(random_state=0), "C3")]:
    _, y_res = sampler.fit_resample(X, y)
    ax.hist(
        y_res,
        bins=edges,
        histtype="step",
        lw=2,
        color=style,
        label=f"{type(sampler).__name__} ({y_res.size} rows)",
    )
ax.set_yscale("log")
ax.set_xlabel("target y")
ax.set_ylabel("rows per bin")
ax.legend(frameon=False)
