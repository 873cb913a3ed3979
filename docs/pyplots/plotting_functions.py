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

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
plot_label_density(y_train, density=density, ax=left)
left.set_title("training label density")
predictions = {"Ridge": plain.predict(X_test), "Ridge with LDS weights": weighted.predict(X_test)}
plot_per_bin_error(y_test, predictions, label_density=density, ax=right)
right.set_title("test MAE per bin")
right.set_ylim(0, 4)
