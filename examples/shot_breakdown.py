"""
Shot-region breakdown: where an ordinary regressor fails on a skewed target
===========================================================================

Generated embedding-like data with a long right tail. A constant predictor (the
training mean) shows the baseline: its error grows with the distance of a region
from the dense part of the target range. A ridge regression is then fitted
as usual and with label-distribution-smoothing (LDS) sample weights from
:class:`~skdir.density.LabelDensity`, and both are evaluated per shot region (many / medium /
few training samples per target bin) and with the bin-balanced error.

    python examples/shot_breakdown.py
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split

from skdir import LabelDensity
from skdir.datasets import make_imbalanced_regression
from skdir.metrics import dir_report
from skdir.plotting import plot_label_density, plot_per_bin_error

X, y = make_imbalanced_regression(3000, 128, imbalance=1.0, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

density = LabelDensity(n_bins=30).fit(y_train)
weights = density.weights(y_train, reweight="sqrt_inv")

constant = np.full_like(y_test, y_train.mean())
print("== Constant predictor (training mean) ==")
print(dir_report(y_test, constant, label_density=density))
print()

reports, predictions = {}, {}
for name, sample_weight in [("plain", None), ("LDS-weighted", weights)]:
    model = Ridge(alpha=1.0).fit(X_train, y_train, sample_weight=sample_weight)
    predictions[name] = model.predict(X_test)
    reports[name] = dir_report(y_test, predictions[name], label_density=density)
    print(f"== Ridge, {name} ==")
    print(reports[name])
    print()

plain, weighted = (reports[k].to_dict() for k in ("plain", "LDS-weighted"))
print(
    "few-shot MAE: plain {:.3f} -> LDS {:.3f}".format(plain["few"]["mae"], weighted["few"]["mae"])
)
assert weighted["few"]["mae"] < plain["few"]["mae"]

# %%
# The training label density with its shot regions (shaded), and the test error per
# target bin of both ridge models: the LDS weights trade a little error in the dense
# bins for less in the sparse tail.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
plot_label_density(y_train, density=density, ax=axes[0], target_names=["y"])
plot_per_bin_error(y_test, predictions, label_density=density, ax=axes[1], target_names=["y"])
axes[0].set_title("training label density")
axes[1].set_title("test MAE per bin")
plt.show()
