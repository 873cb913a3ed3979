"""Conformal prediction intervals around any regressor, balanced over the target range.

:class:`ConformalDIRRegressor` wraps a scikit-learn or skdir regressor and turns
its predictions into intervals that contain the true target with a chosen
probability ``1 - alpha``: split conformal or CV+ calibration; absolute,
normalised (difficulty-scaled) or conformalized-quantile (CQR) scores; and
calibration over all rows, per bin of the predicted value (Mondrian) or
weighted by the inverse label density. :class:`MultiQuantileRegressor` turns a
scikit-learn quantile model into one that predicts several quantiles, and
:class:`QuantileAverager` averages the quantiles of several models (both give
``predict_quantiles`` for ``conformity_score="cqr"``). :func:`plot_intervals` draws
intervals and per-bin coverage over the target range.

The interval metrics :func:`interval_coverage`, :func:`interval_width` and
:func:`coverage_report` live in :mod:`skdir.metrics` and are importable from
here too.
"""

from ..metrics._intervals import coverage_report as coverage_report
from ..metrics._intervals import interval_coverage as interval_coverage
from ..metrics._intervals import interval_width as interval_width
from ._plot import plot_intervals
from ._quantile import MultiQuantileRegressor, QuantileAverager
from ._regressor import (
    CalibrationWarning,
    ConformalDIRRegressor,
    min_calibration_size,
)

__all__ = [
    "CalibrationWarning",
    "ConformalDIRRegressor",
    "MultiQuantileRegressor",
    "QuantileAverager",
    "min_calibration_size",
    "plot_intervals",
]
