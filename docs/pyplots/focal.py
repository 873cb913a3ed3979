"""Modulating factor of the Focal-R loss: large errors keep their weight."""

import matplotlib.pyplot as plt
import numpy as np

error = np.linspace(0, 20, 200)
fig, ax = plt.subplots(figsize=(5, 2.8))
for beta, gamma in [(0.2, 1.0), (0.2, 2.0), (1.0, 1.0)]:
    factor = (2 / (1 + np.exp(-beta * error)) - 1) ** gamma
    ax.plot(error, factor, label=f"beta={beta:g}, gamma={gamma:g}")
ax.set_xlabel("|error|")
ax.set_ylabel("(2 sigmoid(beta |e|) - 1)^gamma")
ax.legend(frameon=False)
