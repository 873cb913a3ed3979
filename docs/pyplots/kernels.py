"""The LDS kernel windows (peak-normalised) for ks=5."""

import matplotlib.pyplot as plt
import numpy as np

from skdir.density import kernel_window

offsets = np.arange(-2, 3)
fig, ax = plt.subplots(figsize=(5, 2.8))
for kernel, sigma in [
    ("gaussian", 2.0),
    ("gaussian_true", 2.0),
    ("gaussian", 1.0),
    ("triangular", 2.0),
    ("laplace", 2.0),
]:
    window = kernel_window(kernel, 5, sigma, normalize="max")
    ax.plot(offsets, window, "o-", label=f"{kernel}, sigma={sigma:g}")
ax.set_xticks(offsets)
ax.set_xlabel("bin offset")
ax.set_ylabel("weight")
ax.legend(frameon=False, fontsize="small")
