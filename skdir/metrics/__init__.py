"""Metrics and scorers for deep imbalanced regression.

The DIR benchmarks (Yang et al., "Delving into Deep Imbalanced Regression",
ICML 2021) report MAE, MSE, the geometric mean of absolute errors (GM) and
Pearson's r, over all test samples and per *shot region*: a test sample is
many-, medium- or few-shot by how many training targets share its bin. This
package computes those numbers per target and averaged, the balanced
(bin-uniform) errors that estimate the error on a balanced test set from an
imbalanced one, SERA (Ribeiro & Moniz 2020), a printable report, and
scikit-learn scorers whose shot regions come from the *training* fold.

Every bin comes from :class:`skdir.density.LabelDensity`; this package never
bins targets itself.

Metrics of metrics
------------------
Any metric ``metric(y_true, y_pred, sample_weight=None)`` (scikit-learn's
``mean_absolute_error`` or ``median_absolute_error``, or a function of your
own) has DIR versions: :func:`balanced_error` gives its bin-balanced version
(every occupied target bin weighs the same, through ``sample_weight``) and
:func:`shot_error` its version over one shot region; :func:`make_balanced_scorer`
and :func:`make_shot_scorer` take it too (with ``greater_is_better``). The
built-in balanced MAE and MSE, the rows of :func:`shot_metrics` and
:func:`dir_report` and the built-in scorers are such versions of the MAE, MSE,
GM and Pearson kernels.

Several targets
---------------
Metrics take ``multioutput`` as scikit-learn's do: ``"raw_values"``,
``"uniform_average"``, an array of weights, and ``"scale_free"``: each target
(true and predicted) is divided by its *spread* before the metric, and the
per-target results are averaged. The spread is the standard deviation of that
target in the label density the metric uses (the *training* density of the
shot metrics and scorers, or a ``label_density`` passed in, each bin read as
uniform over its width), or of ``y_true`` when there is none. A raw average
lets the larger-scale target decide model selection; the scale-free one weighs
two targets on different scales the same (an MAE becomes relative to the
spread, an MSE to the variance; Pearson's r is unchanged). The scorers use it
by default for two targets (``multioutput="auto"``).

Metadata routing
----------------
With ``sklearn.set_config(enable_metadata_routing=True)``, metadata given to
``cross_val_score(..., params=...)`` or ``GridSearchCV.fit`` is also offered to
the scorer, and scikit-learn's own scorers then need an explicit
``set_score_request(sample_weight=...)`` or they give NaN scores. The scorers of
this package use no metadata and request none, so a routed ``sample_weight``
reaches the estimator's ``fit`` only and the scores stay unweighted; nothing has
to be set. Requesting it anyway (``set_score_request(sample_weight=True)``)
makes each score fail with a ``ValueError``, which cross-validation records as
NaN with a warning. Without routing, ``GridSearchCV.fit(X, y, sample_weight=w)``
warns that these scorers do not support ``sample_weight``: they score
unweighted.
"""

from ._base import REGIONS, EmptyRegionWarning
from ._compose import (
    balanced_error,
    balanced_mean_absolute_error,
    balanced_mean_squared_error,
    shot_error,
)
from ._density import get_label_density
from ._intervals import coverage_report, interval_coverage, interval_width, make_interval_scorer
from ._regression import GM_ZERO_ERROR, METRICS, geometric_mean_error, pearson_correlation, sera
from ._report import DIRReport, dir_report, shot_metrics
from ._scorers import (
    balanced_mae_scorer,
    balanced_mse_scorer,
    few_shot_mae_scorer,
    few_shot_mse_scorer,
    make_balanced_scorer,
    make_shot_scorer,
)

__all__ = [
    "GM_ZERO_ERROR",
    "METRICS",
    "REGIONS",
    "DIRReport",
    "EmptyRegionWarning",
    "balanced_error",
    "balanced_mae_scorer",
    "balanced_mean_absolute_error",
    "balanced_mean_squared_error",
    "balanced_mse_scorer",
    "coverage_report",
    "dir_report",
    "few_shot_mae_scorer",
    "few_shot_mse_scorer",
    "geometric_mean_error",
    "get_label_density",
    "interval_coverage",
    "interval_width",
    "make_balanced_scorer",
    "make_interval_scorer",
    "make_shot_scorer",
    "pearson_correlation",
    "sera",
    "shot_error",
    "shot_metrics",
]
