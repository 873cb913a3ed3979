"""Error per target bin of an ordinary regressor rises where training targets are rare."""

import matplotlib.pyplot as plt
import numpy as np
from _data import per_bin_mae, train_test
from sklearn.linear_model import Ridge

from skdir import LabelDensity

X_train, X_test, y_train, y_test = train_test()
density = LabelDensity(n_bins=30).fit(y_train)
edges = density.bin_edges_[0]
centres = (edges[:-1] + edges[1:]) / 2

plain = Ridge(alpha=1.0).fit(X_train, y_train)
weighted = Ridge(alpha=1.0).fit(X_train, y_train, sample_weight=density.weights(y_train))

fig, ax = plt.subplots()
ax.bar(centres, density.counts_, width=np.diff(edges), color="0.85", label="training targets")
ax.set_xlabel("target y")
ax.set_ylabel("training samples per bin")
ax.set_yscale("log")
err = ax.twinx()
err.plot(
    centres, per_bin_mae(density, y_test, plain.predict(X_test)), "o-", color="C3", label="Ridge"
)
err.plot(
    centres,
    per_bin_mae(density, y_test, weighted.predict(X_test)),
    "s--",
    color="C0",
    label="Ridge + LDS weights",
)
err.set_ylabel("test MAE in the bin")
lines = ax.get_legend_handles_labels()
more = err.get_legend_handles_labels()
err.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", frameon=False)
ax.set_title("Error per target bin on generated data (3000 samples, 64 features)")
