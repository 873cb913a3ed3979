"""Split conformal intervals against label-conditional ones over the target range."""

import warnings

import matplotlib.pyplot as plt
from _data import train_test
from sklearn.linear_model import RidgeCV

from skdir import LabelDensity
from skdir.conformal import CalibrationWarning, ConformalDIRRegressor, plot_intervals

X_train, X_test, y_train, y_test = train_test()
density = LabelDensity(n_bins=30).fit(y_train)
fig, axes = plt.subplots(2, 2, figsize=(11, 5.5), sharex=True, layout="constrained")
for column, calibration in enumerate(["marginal", "label"]):
    model = ConformalDIRRegressor(RidgeCV(), calibration=calibration, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        model.fit(X_train, y_train)
    intervals = model.predict_interval(X_test, alpha=0.1)
    plot_intervals(y_test, intervals, label_density=density, alpha=0.1, axes=axes[:, column])
    axes[0, column].set_title(f"calibration={calibration!r}\n" + axes[0, column].get_title())
