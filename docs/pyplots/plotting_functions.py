"""skdir.plotting on a plain and an LDS-weighted ridge regression."""

import matplotlib.pyplot as plt
from _data import train_test
from sklearn.linear_model import Ridge

from skdir import LabelDensity
from skdir.plotting import plot_label_density, plot_per_bin_error

X_train, X_test, y_train, y_test = train_test()
density = LabelDensity(n_bins=20).fit(y_train)
plain = Ridge().fit(X_train, y_train)
weighted = Ridge().fit(X_train, y_train, sample_weight=density.weights(y_train))

fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.4))
plot_label_density(y_train, density=density, ax=left)
plot_per_bin_error(y_test, plain.predict(X_test), label_density=density, ax=middle)
middle.set_title("Ridge")
plot_per_bin_error(y_test, weighted.predict(X_test), label_density=density, ax=right)
right.set_title("Ridge with LDS weights")
for ax in (middle, right):
    ax.set_ylim(0, 4)
fig.tight_layout()
