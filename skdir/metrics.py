"""Metrics and scorers for deep imbalanced regression.

The DIR benchmarks (Yang et al., "Delving into Deep Imbalanced Regression",
ICML 2021) report MAE, MSE, the geometric mean of absolute errors (GM) and
Pearson's r, over all test samples and per *shot region*: a test sample is
many-, medium- or few-shot by how many training targets share its bin. This
module computes those numbers per target and averaged, the balanced
(bin-uniform) errors that estimate the error on a balanced test set from an
imbalanced one, SERA (Ribeiro & Moniz 2020), a printable report, and
scikit-learn scorers whose shot regions come from the *training* fold.

Every bin comes from :class:`skdir.density.LabelDensity`; this module never
bins targets itself.

Metadata routing
----------------
With ``sklearn.set_config(enable_metadata_routing=True)``, metadata given to
``cross_val_score(..., params=...)`` or ``GridSearchCV.fit`` is also offered to
the scorer, and scikit-learn's own scorers then need an explicit
``set_score_request(sample_weight=...)`` or they give NaN scores. The scorers of
this module use no metadata and request none, so a routed ``sample_weight``
reaches the estimator's ``fit`` only and the scores stay unweighted; nothing has
to be set. Requesting it anyway (``set_score_request(sample_weight=True)``)
makes each score fail with a ``ValueError``, which cross-validation records as
NaN with a warning. Without routing, ``GridSearchCV.fit(X, y, sample_weight=w)``
warns that these scorers do not support ``sample_weight``: they score
unweighted.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import ConstantInputWarning, DegenerateDataWarning
from sklearn.compose import TransformedTargetRegressor
from sklearn.metrics._scorer import _BaseScorer
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._validation import as_real_array, check_target, check_target_pair
from .density import LabelDensity

__all__ = [
    "GM_ZERO_ERROR",
    "METRICS",
    "REGIONS",
    "DIRReport",
    "EmptyRegionWarning",
    "balanced_mae_scorer",
    "balanced_mean_absolute_error",
    "balanced_mean_squared_error",
    "balanced_mse_scorer",
    "dir_report",
    "few_shot_mae_scorer",
    "few_shot_mse_scorer",
    "geometric_mean_error",
    "get_label_density",
    "make_balanced_scorer",
    "make_shot_scorer",
    "pearson_correlation",
    "sera",
    "shot_metrics",
]

#: Metric names understood by :func:`shot_metrics` and the scorers.
METRICS = ("mae", "mse", "gm", "pearson")
#: Shot regions, in report order.
REGIONS = ("all", "many", "medium", "few")
#: Exact zero errors are replaced by this value before taking logs in the
#: geometric mean, as the official STS-B-DIR evaluation does; without it a
#: single exact prediction makes GM zero.
GM_ZERO_ERROR = 1e-10

_GREATER_IS_BETTER = {"mae": False, "mse": False, "gm": False, "pearson": True}
_METRIC_TITLES = {"mae": "MAE", "mse": "MSE", "gm": "GM", "pearson": "Pearson"}


class EmptyRegionWarning(UserWarning):
    """A shot region holds no test sample, so its metrics cannot be computed.

    :func:`shot_metrics` and :func:`dir_report` then report the region with
    ``"n": 0`` and NaN metrics; the scorers of :func:`make_shot_scorer` score the
    balanced error over the occupied bins instead, so that cross-validation means
    and searches stay finite. Silence it with
    ``warnings.filterwarnings("ignore", category=EmptyRegionWarning)``.
    """


# Pearson's r is undefined (NaN) for a constant input or fewer than two samples. As
# scipy.stats.pearsonr does, that is warned with scipy's ConstantInputWarning (a constant
# input) or its base class DegenerateDataWarning (too few samples), never silent.
_PearsonNote = tuple[str | None, int, str, type[Warning]]  # (region, target, reason, class)


# --------------------------------------------------------------------- validation
def _check_metric(metric: object, allowed: Sequence[str] = METRICS) -> str:
    if not isinstance(metric, str) or metric not in allowed:
        raise ValueError(f"Unknown metric {metric!r}; choose one of {', '.join(allowed)}.")
    return metric


def _check_metrics(metrics: object) -> tuple[str, ...]:
    if isinstance(metrics, str):
        metrics = (metrics,)
    try:
        names = tuple(metrics)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(
            f"metrics must be a sequence of metric names from {METRICS}, got {metrics!r}."
        ) from None
    if not names:
        raise ValueError(f"metrics is empty; choose at least one of {', '.join(METRICS)}.")
    for name in names:
        _check_metric(name)
    return names


def _check_region(region: object) -> str:
    if not isinstance(region, str) or region not in REGIONS:
        raise ValueError(f"Unknown region {region!r}; choose one of {', '.join(REGIONS)}.")
    return region


def _check_thresholds(many: object, few: object) -> None:
    ok = all(
        isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) for v in (many, few)
    )
    if not ok or not 0 <= few <= many:  # type: ignore[operator]
        raise ValueError(
            f"Shot thresholds must be numbers with 0 <= few <= many, got few={few!r}, "
            f"many={many!r}; a bin with more than 'many' training targets is many-shot, one "
            "with fewer than 'few' is few-shot."
        )


def _check_binning(n_bins: object, bin_width: object) -> None:
    if isinstance(n_bins, bool) or not isinstance(n_bins, Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}.")
    if bin_width is not None and (
        isinstance(bin_width, bool) or not isinstance(bin_width, Real) or not bin_width > 0
    ):
        raise ValueError(f"bin_width must be a positive number or None, got {bin_width!r}.")


def _check_label_density(label_density: object) -> LabelDensity:
    if not isinstance(label_density, LabelDensity):
        raise ValueError(
            "label_density must be a fitted skdir.density.LabelDensity, got "
            f"{type(label_density).__name__}."
        )
    check_is_fitted(label_density, "counts_")
    return label_density


def _columns(y: NDArray[np.float64]) -> NDArray[np.float64]:
    return y.reshape(len(y), -1)


def _aggregate(values: NDArray[np.float64], multioutput: object) -> float | NDArray[np.float64]:
    """Combine per-target values as scikit-learn's ``multioutput`` does."""
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return values
        if multioutput == "uniform_average":
            return float(np.mean(values))
        raise ValueError(
            f"multioutput must be 'raw_values', 'uniform_average' or an array of one weight "
            f"per target, got {multioutput!r}."
        )
    try:
        weights = as_real_array(multioutput, "multioutput")
    except ValueError as exc:
        if "Complex" in str(exc):
            raise
        weights = None
    if (
        weights is None
        or weights.shape != values.shape
        or not np.isfinite(weights).all()
        or (weights < 0).any()
        or not weights.sum() > 0
    ):
        raise ValueError(
            f"multioutput must be 'raw_values', 'uniform_average' or an array of "
            f"{values.size} non-negative weight(s) with a positive sum (one per target), "
            f"got {multioutput!r}."
        )
    return float(np.average(values, weights=weights))


# ------------------------------------------------------------------ metric kernel
def _weighted_metrics(
    metrics: Sequence[str],
    y_true: NDArray[np.float64],
    y_pred: NDArray[np.float64],
    weights: NDArray[np.float64],
    notes: list[_PearsonNote] | None = None,
    region: str | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Return each metric per column, each sample counting with its weight.

    ``y_true``, ``y_pred`` and ``weights`` have shape (n_samples, n_targets); the
    weights of a column sum to 1, or are all 0 for an empty selection (NaN then).
    Uniform weights give the ordinary metrics; bin-uniform weights the balanced ones.
    Why Pearson's r is undefined for a non-empty selection is appended to ``notes``
    (tagged with ``region``), to be warned by :func:`_warn_pearson`.
    """
    error = y_pred - y_true
    used = weights > 0
    empty = ~used.any(axis=0)
    out: dict[str, NDArray[np.float64]] = {}
    for metric in metrics:
        if metric == "mae":
            value = (weights * np.abs(error)).sum(axis=0)
        elif metric == "mse":
            value = (weights * error**2).sum(axis=0)
        elif metric == "gm":
            absolute = np.abs(error)
            safe = np.where(absolute == 0, GM_ZERO_ERROR, absolute)
            value = np.exp((weights * np.log(safe)).sum(axis=0))
        else:
            value = _weighted_pearson(y_true, y_pred, weights, used)
            if notes is not None:
                notes.extend(
                    (region, k, reason, category)
                    for k, reason, category in _pearson_problems(y_true, y_pred, used)
                )
        out[metric] = np.where(empty, np.nan, value)
    return out


def _pearson_problems(
    y_true: NDArray[np.float64], y_pred: NDArray[np.float64], used: NDArray[np.bool_]
) -> list[tuple[int, str, type[Warning]]]:
    """Why Pearson's r is undefined per column of a non-empty selection: (column, reason)."""
    problems: list[tuple[int, str, type[Warning]]] = []
    for k in range(used.shape[1]):
        rows = used[:, k]
        n_rows = int(rows.sum())
        if n_rows == 0:  # an empty selection is reported as an empty region
            continue
        if n_rows < 2:
            problems.append((k, "1 sample (2 are needed)", DegenerateDataWarning))
            continue
        constant_true = np.ptp(y_true[rows, k]) == 0
        constant_pred = np.ptp(y_pred[rows, k]) == 0
        if constant_true or constant_pred:
            which = (
                "y_true and y_pred are"
                if constant_true and constant_pred
                else ("y_true is" if constant_true else "y_pred is")
            )
            problems.append((k, f"{which} constant", ConstantInputWarning))
    return problems


def _warn_pearson(notes: list[_PearsonNote], keys: Sequence[str], stacklevel: int) -> None:
    """Warn once per warning class about the places where Pearson's r is NaN."""
    for category, what in (
        (ConstantInputWarning, "an input is constant"),
        (DegenerateDataWarning, "there are fewer than 2 samples"),
    ):
        places = []
        for region, k, reason, note_category in notes:
            if note_category is not category:
                continue
            where = [] if len(keys) == 1 else [keys[k]]
            if region is not None:
                where.append(f"region {region!r}")
            places.append(reason + (f" ({', '.join(where)})" if where else ""))
        if places:
            warnings.warn(
                f"Pearson's correlation is not defined where {what}, so it is NaN: "
                + "; ".join(places)
                + ".",
                category,
                stacklevel=stacklevel + 1,
            )


def _weighted_pearson(
    y_true: NDArray[np.float64],
    y_pred: NDArray[np.float64],
    weights: NDArray[np.float64],
    used: NDArray[np.bool_],
) -> NDArray[np.float64]:
    def spread(values: NDArray[np.float64]) -> NDArray[np.float64]:
        high = np.where(used, values, -np.inf).max(axis=0)
        low = np.where(used, values, np.inf).min(axis=0)
        return high - low

    centred_true = y_true - (weights * y_true).sum(axis=0)
    centred_pred = y_pred - (weights * y_pred).sum(axis=0)
    covariance = (weights * centred_true * centred_pred).sum(axis=0)
    variance = (weights * centred_true**2).sum(axis=0) * (weights * centred_pred**2).sum(axis=0)
    defined = (spread(y_true) > 0) & (spread(y_pred) > 0) & (used.sum(axis=0) >= 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = covariance / np.sqrt(variance)
    return np.where(defined, np.clip(r, -1.0, 1.0), np.nan)


def _uniform_weights(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Equal weights over the selected samples of each column (zeros if none)."""
    counts = mask.sum(axis=0)
    return np.where(mask, 1.0 / np.maximum(counts, 1), 0.0)


def _bin_uniform_weights(bins: NDArray[np.intp]) -> NDArray[np.float64]:
    """Weights that give every occupied bin the same total weight (sum 1)."""
    _, inverse, counts = np.unique(bins, return_inverse=True, return_counts=True)
    return 1.0 / (len(counts) * counts[inverse])


# ------------------------------------------------------------------ plain metrics
def geometric_mean_error(
    y_true: ArrayLike, y_pred: ArrayLike, *, multioutput: str | ArrayLike = "uniform_average"
) -> float | NDArray[np.float64]:
    """Geometric mean of the absolute errors, ``exp(mean(log|y_pred - y_true|))``.

    The GM of the DIR benchmarks (Yang et al., ICML 2021): lower is better, and
    it is less dominated by a few large errors than the MAE. An exact prediction
    (error 0) would make the geometric mean 0, so exact zero errors are replaced
    by :data:`GM_ZERO_ERROR` (``1e-10``) before taking logs, as the official
    STS-B-DIR evaluation does; one zero error among ``n`` therefore multiplies GM
    by ``(1e-10 / e)**(1/n)`` for the error ``e`` it would otherwise have.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
        True and predicted targets (at most two targets).
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        ``"raw_values"`` returns one value per target, ``"uniform_average"`` their
        mean, an array of shape (n_targets,) their weighted mean.

    Returns
    -------
    gm : float or ndarray of shape (n_targets,)

    Examples
    --------
    >>> from skdir.metrics import geometric_mean_error
    >>> geometric_mean_error([0.0, 0.0, 0.0], [1.0, -2.0, 4.0])  # (1*2*4)**(1/3)
    2.0
    >>> geometric_mean_error([[0, 0], [0, 0]], [[1, 2], [4, 8]], multioutput="raw_values")
    array([2., 4.])
    """
    y_true, y_pred = check_target_pair(y_true, y_pred)
    t, p = _columns(y_true), _columns(y_pred)
    values = _weighted_metrics(["gm"], t, p, _uniform_weights(np.ones(t.shape, bool)))["gm"]
    return _aggregate(values, multioutput)


def pearson_correlation(
    y_true: ArrayLike, y_pred: ArrayLike, *, multioutput: str | ArrayLike = "uniform_average"
) -> float | NDArray[np.float64]:
    """Pearson correlation coefficient between true and predicted targets.

    Higher is better. It is undefined (NaN) when a target or its prediction is
    constant, with scipy's :class:`~scipy.stats.ConstantInputWarning` naming the
    constant input (as :func:`scipy.stats.pearsonr` warns), or when there are fewer
    than two samples, with a :class:`~scipy.stats.DegenerateDataWarning` (the base
    class of the former).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
        True and predicted targets (at most two targets).
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        ``"raw_values"`` returns one value per target, ``"uniform_average"`` their
        mean, an array of shape (n_targets,) their weighted mean.

    Returns
    -------
    r : float or ndarray of shape (n_targets,)

    Examples
    --------
    >>> from skdir.metrics import pearson_correlation
    >>> pearson_correlation([1.0, 2.0, 3.0], [1.0, 3.0, 2.0])  # cov 1/3, variances 2/3
    0.5
    >>> pearson_correlation([[1, 1], [2, 2], [3, 3]], [[1, 3], [2, 2], [3, 1]],
    ...                     multioutput="raw_values")
    array([ 1., -1.])
    """
    y_true, y_pred = check_target_pair(y_true, y_pred)
    t, p = _columns(y_true), _columns(y_pred)
    notes: list[_PearsonNote] = []
    weights = _uniform_weights(np.ones(t.shape, bool))
    values = _weighted_metrics(["pearson"], t, p, weights, notes)
    _warn_pearson(notes, [f"target {k}" for k in range(t.shape[1])], stacklevel=2)
    return _aggregate(values["pearson"], multioutput)


# --------------------------------------------------------------- density helpers
def _target_densities(label_density: object, n_targets: int) -> list[LabelDensity]:
    """One fitted 1-D density per target: the density itself or its marginals."""
    density = _check_label_density(label_density)
    if density.n_targets_ != n_targets:
        raise ValueError(
            f"label_density was fitted on {density.n_targets_} target(s) but y_true has "
            f"{n_targets}; fit the density on training targets with the same columns."
        )
    return [density] if n_targets == 1 else list(density.marginals_)


def _fit_density(
    y_train: ArrayLike, n_targets: int, n_bins: object, bin_width: object
) -> LabelDensity:
    _check_binning(n_bins, bin_width)
    y_train = check_target(y_train, name="y_train")
    train_targets = _columns(y_train).shape[1]
    if train_targets != n_targets:
        raise ValueError(
            f"y_train has {train_targets} target(s) but y_true has {n_targets}; pass the "
            "training targets of the same columns."
        )
    return LabelDensity(n_bins=n_bins, bin_width=bin_width, ks=1).fit(y_train)


def _resolve_density(
    label_density: object,
    y_train: ArrayLike | None,
    n_targets: int,
    n_bins: object,
    bin_width: object,
) -> LabelDensity:
    if label_density is not None and y_train is not None:
        raise ValueError(
            "Pass either y_train or label_density, not both: the shot regions come from "
            "one training density."
        )
    if label_density is None and y_train is None:
        raise ValueError(
            "Shot regions need the training label distribution: pass y_train= (the "
            "training targets) or label_density= (a LabelDensity fitted on them)."
        )
    if label_density is not None:
        return _check_label_density(label_density)
    return _fit_density(y_train, n_targets, n_bins, bin_width)  # type: ignore[arg-type]


def _shot_regions(
    y_true: NDArray[np.float64],
    label_density: LabelDensity,
    many: float,
    few: float,
) -> NDArray[np.str_]:
    """Shot region per sample and target, shape (n_samples, n_targets)."""
    columns = _columns(y_true)
    densities = _target_densities(label_density, columns.shape[1])
    return np.stack(
        [d.shot_regions(columns[:, k], many, few) for k, d in enumerate(densities)], axis=1
    )


def _balanced_weights(
    y_true: NDArray[np.float64],
    label_density: LabelDensity | None,
    n_bins: object,
    bin_width: object,
) -> tuple[NDArray[np.float64], list[int]]:
    """Bin-uniform weights per target (columns) and the number of occupied bins."""
    columns = _columns(y_true)
    n_targets = columns.shape[1]
    if label_density is not None:
        densities: list[LabelDensity | None] = list(_target_densities(label_density, n_targets))
    else:
        _check_binning(n_bins, bin_width)
        densities = [None] * n_targets
    weights = np.empty(columns.shape)
    occupied = []
    for k, density in enumerate(densities):
        column = columns[:, k]
        if density is None:
            if np.ptp(column) == 0:
                # A constant column lies in one bin whatever the binning: the balanced
                # error is the plain error.
                bins = np.zeros(len(column), dtype=np.intp)
            else:
                density = LabelDensity(n_bins=n_bins, bin_width=bin_width, ks=1).fit(column)
        if density is not None:
            bins = density.bin_index(column)
        weights[:, k] = _bin_uniform_weights(bins)
        occupied.append(len(np.unique(bins)))
    return weights, occupied


# -------------------------------------------------------------- balanced metrics
def _balanced(
    metric: str,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    label_density: LabelDensity | None,
    n_bins: object,
    bin_width: object,
    multioutput: object,
) -> float | NDArray[np.float64]:
    y_true, y_pred = check_target_pair(y_true, y_pred)
    weights, _ = _balanced_weights(y_true, label_density, n_bins, bin_width)
    values = _weighted_metrics([metric], _columns(y_true), _columns(y_pred), weights)[metric]
    return _aggregate(values, multioutput)


def balanced_mean_absolute_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    label_density: LabelDensity | None = None,
    n_bins: int = 20,
    bin_width: float | None = None,
    multioutput: str | ArrayLike = "uniform_average",
) -> float | NDArray[np.float64]:
    """Balanced (bin-uniform) mean absolute error: the mean of the per-bin MAE.

    The test targets are binned, the MAE is computed inside each bin that holds
    at least one test sample, and those per-bin values are averaged with equal
    weight. On an imbalanced test set this estimates the error the model would
    have on a test set balanced over the bins (the protocol of the DIR benchmarks,
    and the "balanced metrics" of Ren et al., "Balanced MSE for Imbalanced Visual
    Regression", CVPR 2022, which average over unique labels). On a test set that
    is already uniform over the bins it equals the plain MAE.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
        True and predicted targets (at most two targets).
    label_density : LabelDensity or None, default=None
        Fitted density whose bins are used (for two targets, the bins of its
        ``marginals_[k]`` for target ``k``). ``None`` fits
        ``LabelDensity(n_bins=n_bins, bin_width=bin_width, ks=1)`` on each column of
        ``y_true``: no training targets are needed. A constant ``y_true`` column
        is a single bin, so its balanced MAE is the plain one.
    n_bins : int, default=20
        Number of equal-width bins over the range of ``y_true`` (when
        ``label_density`` is None and ``bin_width`` is None).
    bin_width : float or None, default=None
        Bin width instead of a number of bins (when ``label_density`` is None).
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        ``"raw_values"`` returns one value per target, ``"uniform_average"`` their
        mean, an array of shape (n_targets,) their weighted mean.

    Returns
    -------
    error : float or ndarray of shape (n_targets,)

    Examples
    --------
    >>> from skdir.metrics import balanced_mean_absolute_error
    >>> y_true = [0.0, 1.0, 2.0, 8.0]       # 2 bins over [0, 8]: [0, 4) and [4, 8]
    >>> y_pred = [0.0, 1.0, 2.0, 10.0]      # exact in bin 0, error 2 in bin 1
    >>> # per-bin errors averaged: (0 + 2) / 2 bins; the plain MAE is 0.5
    >>> balanced_mean_absolute_error(y_true, y_pred, n_bins=2)
    1.0
    """
    return _balanced("mae", y_true, y_pred, label_density, n_bins, bin_width, multioutput)


def balanced_mean_squared_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    label_density: LabelDensity | None = None,
    n_bins: int = 20,
    bin_width: float | None = None,
    multioutput: str | ArrayLike = "uniform_average",
) -> float | NDArray[np.float64]:
    """Balanced (bin-uniform) mean squared error: the mean of the per-bin MSE.

    The test targets are binned, the MSE is computed inside each bin that holds
    at least one test sample, and those per-bin values are averaged with equal
    weight. On an imbalanced test set this estimates the error the model would
    have on a test set balanced over the bins (the protocol of the DIR benchmarks,
    and the "balanced metrics" of Ren et al., "Balanced MSE for Imbalanced Visual
    Regression", CVPR 2022, which average over unique labels). On a test set that
    is already uniform over the bins it equals the plain MSE.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
        True and predicted targets (at most two targets).
    label_density : LabelDensity or None, default=None
        Fitted density whose bins are used (for two targets, the bins of its
        ``marginals_[k]`` for target ``k``). ``None`` fits
        ``LabelDensity(n_bins=n_bins, bin_width=bin_width, ks=1)`` on each column of
        ``y_true``: no training targets are needed. A constant ``y_true`` column
        is a single bin, so its balanced MSE is the plain one.
    n_bins : int, default=20
        Number of equal-width bins over the range of ``y_true`` (when
        ``label_density`` is None and ``bin_width`` is None).
    bin_width : float or None, default=None
        Bin width instead of a number of bins (when ``label_density`` is None).
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        ``"raw_values"`` returns one value per target, ``"uniform_average"`` their
        mean, an array of shape (n_targets,) their weighted mean.

    Returns
    -------
    error : float or ndarray of shape (n_targets,)

    Examples
    --------
    >>> from skdir.metrics import balanced_mean_squared_error
    >>> y_true = [0.0, 1.0, 2.0, 8.0]       # 2 bins over [0, 8]: [0, 4) and [4, 8]
    >>> y_pred = [0.0, 1.0, 2.0, 10.0]      # exact in bin 0, error 2 in bin 1
    >>> # per-bin errors averaged: (0 + 4) / 2 bins; the plain MSE is 1.0
    >>> balanced_mean_squared_error(y_true, y_pred, n_bins=2)
    2.0
    """
    return _balanced("mse", y_true, y_pred, label_density, n_bins, bin_width, multioutput)


# ------------------------------------------------------------------------- SERA
def _relevance_values(relevance: object, y_true: NDArray[np.float64]) -> NDArray[np.float64]:
    columns = _columns(y_true)
    n_samples, n_targets = columns.shape
    if callable(relevance):
        phi = relevance(y_true)
    elif (
        isinstance(relevance, Sequence)
        and not isinstance(relevance, str)
        and len(relevance) > 0
        and all(callable(r) for r in relevance)
    ):
        if len(relevance) != n_targets:
            raise ValueError(
                f"relevance has {len(relevance)} function(s) but y_true has {n_targets} "
                "target(s); give one function per target."
            )
        phi = np.stack(
            [
                as_real_array(r(columns[:, k]), "relevance").reshape(-1)
                for k, r in enumerate(relevance)
            ],
            axis=1,
        )
    else:
        phi = relevance
    phi = as_real_array(
        phi,
        "relevance",
        what="a callable phi(y) -> values in [0, 1], one such callable per target, or an "
        "array of phi values per sample",
    )
    if phi.shape in ((n_samples,), (n_samples, 1)):
        phi = np.repeat(phi.reshape(n_samples, 1), n_targets, axis=1)
    elif phi.shape != (n_samples, n_targets):
        raise ValueError(
            f"relevance values have shape {phi.shape}; expected ({n_samples},) (one value per "
            f"sample) or {(n_samples, n_targets)} (one per sample and target)."
        )
    if not np.isfinite(phi).all() or (phi < 0).any() or (phi > 1).any():
        raise ValueError(
            "relevance values must lie in [0, 1] (a relevance function phi maps targets to "
            f"[0, 1]); got values from {np.nanmin(phi):g} to {np.nanmax(phi):g}"
            + (" and non-finite ones." if not np.isfinite(phi).all() else ".")
        )
    return phi


def sera(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    relevance: Callable[[NDArray[np.float64]], ArrayLike] | Sequence[Callable] | ArrayLike,
    *,
    multioutput: str | ArrayLike = "uniform_average",
) -> float | NDArray[np.float64]:
    r"""Squared error-relevance area (SERA) of Ribeiro & Moniz (2020).

    For a relevance function :math:`\phi: y \mapsto [0, 1]` that marks the
    targets that matter (typically the rare extremes), the squared error of the
    cases with relevance at least :math:`t` is
    :math:`SER_t = \sum_{i: \phi(y_i) \ge t} (\hat y_i - y_i)^2`, and
    :math:`SERA = \int_0^1 SER_t \, dt`. Because each case contributes its
    squared error for every :math:`t \le \phi(y_i)`, the integral is exactly
    :math:`\sum_i \phi(y_i) (\hat y_i - y_i)^2`, which is what is computed here
    (public implementations approximate it with a trapezoid over a 0.001 grid).
    Lower is better. SERA is a sum, not a mean: compare it only on the same test
    set. It equals the sum of squared errors when :math:`\phi \equiv 1`.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
        True and predicted targets (at most two targets).
    relevance : callable, sequence of callables, or array-like
        A callable ``phi(y_true)`` returning one relevance per sample (shared by
        all targets) or one per sample and target; a sequence of one callable per
        target, each called on its target column; or the relevance values
        themselves, of shape (n_samples,) or (n_samples, n_targets). All values
        must lie in [0, 1].
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        ``"raw_values"`` returns one value per target, ``"uniform_average"`` their
        mean, an array of shape (n_targets,) their weighted mean.

    Returns
    -------
    sera : float or ndarray of shape (n_targets,)

    References
    ----------
    R. P. Ribeiro and N. Moniz, "Imbalanced regression and extreme value
    prediction", Machine Learning 109, 1803-1835 (2020).

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.metrics import sera
    >>> y_true = np.array([0.0, 1.0, 2.0])
    >>> y_pred = np.array([1.0, 1.0, 4.0])
    >>> sera(y_true, y_pred, lambda y: y / 2)  # 0*1 + 0.5*0 + 1*4
    4.0
    >>> sera(y_true, y_pred, [1.0, 1.0, 1.0])  # the sum of squared errors
    5.0
    """
    y_true, y_pred = check_target_pair(y_true, y_pred)
    phi = _relevance_values(relevance, y_true)
    values = (phi * (_columns(y_pred) - _columns(y_true)) ** 2).sum(axis=0)
    return _aggregate(values, multioutput)


# ------------------------------------------------------------------- shot metrics
def _target_keys(target_names: Sequence[str] | None, n_targets: int) -> list[str]:
    if target_names is None:
        return [f"target_{k}" for k in range(n_targets)]
    names = [target_names] if isinstance(target_names, str) else list(target_names)
    if len(names) != n_targets:
        raise ValueError(
            f"target_names has {len(names)} name(s) but y_true has {n_targets} target(s)."
        )
    if len(set(names)) != len(names) or "mean" in names:
        raise ValueError(
            f"target_names must be distinct and must not be 'mean' (the key of the "
            f"average over targets), got {names}."
        )
    return [str(name) for name in names]


def _region_table(
    y_true: NDArray[np.float64],
    y_pred: NDArray[np.float64],
    regions: NDArray[np.str_],
    metrics: Sequence[str],
    notes: list[_PearsonNote],
) -> dict[str, dict[str, NDArray[np.float64]]]:
    """Per region: each metric per target, and the counts ("n") per target."""
    t, p = _columns(y_true), _columns(y_pred)
    table = {}
    for region in REGIONS:
        mask = np.ones(t.shape, bool) if region == "all" else regions == region
        values = _weighted_metrics(metrics, t, p, _uniform_weights(mask), notes, region)
        values["n"] = mask.sum(axis=0)
        table[region] = values
    return table


def _region_rule(region: str, many: float, few: float) -> str:
    """Describe the training-bin counts of a shot region in words."""
    if region == "many":
        return f"more than {many:g} training targets per bin"
    if region == "few":
        return f"fewer than {few:g} training targets per bin"
    return f"{few:g} to {many:g} training targets per bin"


def _warn_empty_regions(
    table: dict[str, dict[str, NDArray[np.float64]]],
    keys: Sequence[str],
    n_samples: int,
    many: float,
    few: float,
    stacklevel: int,
) -> None:
    """Warn (EmptyRegionWarning) about the regions without test samples, NaN in the table."""
    empty = [
        (region, k)
        for region in ("many", "medium", "few")
        for k in np.flatnonzero(table[region]["n"] == 0)
    ]
    if not empty:
        return
    places = "; ".join(
        f"{region!r} ({_region_rule(region, many, few)})"
        + (f" for {keys[k]}" if len(keys) > 1 else "")
        for region, k in empty
    )
    warnings.warn(
        f"No test sample of the {n_samples} falls in the shot region(s) {places}: their "
        "metrics are NaN and their 'n' is 0. Lower many/few for a small training set or "
        "evaluate on more test samples; the shot scorers (make_shot_scorer) score the "
        "balanced error instead.",
        EmptyRegionWarning,
        stacklevel=stacklevel + 1,
    )


def _nest(table: dict[str, dict[str, NDArray[np.float64]]], keys: list[str]) -> dict[str, Any]:
    """Turn per-target arrays into the documented nested dict."""

    def entry(values: dict[str, NDArray[np.float64]], k: int | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in values.items():
            if name == "n":
                out[name] = int(value.sum() if k is None else value[k])
            else:
                out[name] = float(value.mean() if k is None else value[k])
        return out

    if len(keys) == 1:
        return {region: entry(values, 0) for region, values in table.items()}
    nested: dict[str, Any] = {
        key: {region: entry(values, k) for region, values in table.items()}
        for k, key in enumerate(keys)
    }
    nested["mean"] = {region: entry(values, None) for region, values in table.items()}
    return nested


def shot_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    y_train: ArrayLike | None = None,
    label_density: LabelDensity | None = None,
    many: float = 100,
    few: float = 20,
    metrics: Sequence[str] = METRICS,
    n_bins: int = 50,
    bin_width: float | None = None,
    target_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Metrics over all test samples and per many/medium/few-shot region.

    A test sample's region is decided by the *training* count of its bin
    (:meth:`LabelDensity.shot_regions`): many-shot above ``many``, few-shot below
    ``few``, medium otherwise (the DIR benchmarks use 100 and 20; for a few
    hundred training samples use smaller thresholds). Metrics within a region are
    pooled over its samples, as in the official DIR evaluation. A region without
    test samples gets ``"n": 0`` and NaN metrics, with an
    :class:`EmptyRegionWarning` naming it (a report shows the region as empty; the
    scorers of :func:`make_shot_scorer` fall back to the balanced error instead).
    Pearson is also NaN, with scipy's ``ConstantInputWarning`` or
    ``DegenerateDataWarning``, when a region holds fewer than two samples or a
    constant target or prediction.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
        True and predicted test targets (at most two targets).
    y_train : array-like or None, default=None
        Training targets; the regions come from
        ``LabelDensity(n_bins=n_bins, bin_width=bin_width, ks=1).fit(y_train)``.
    label_density : LabelDensity or None, default=None
        A density fitted on the training targets, instead of ``y_train``. Exactly
        one of the two is required. For two targets the regions are per target,
        from the density's ``marginals_``.
    many : float, default=100
        Training-bin counts above this are many-shot.
    few : float, default=20
        Training-bin counts below this are few-shot.
    metrics : sequence of {"mae", "mse", "gm", "pearson"}, default=all four
        Metrics to compute (see :func:`geometric_mean_error` for GM).
    n_bins : int, default=50
        Number of bins when the density is fitted on ``y_train``.
    bin_width : float or None, default=None
        Bin width instead of ``n_bins`` when the density is fitted on ``y_train``.
    target_names : sequence of str or None, default=None
        Keys of the targets for two targets; default ``"target_0"``, ``"target_1"``.

    Returns
    -------
    results : dict
        For one target (1-D ``y_true`` or a single column),
        ``{region: {metric: value, "n": count}}`` for the regions "all", "many",
        "medium" and "few". For two targets,
        ``{name_0: {...}, name_1: {...}, "mean": {...}}`` where each target's entry
        has the one-target layout and ``"mean"`` holds, per region, each metric
        averaged over the targets (NaN when it is NaN for a target) and ``"n"``, the
        number of (sample, target) pairs in the region.

    Examples
    --------
    >>> from skdir.metrics import shot_metrics
    >>> y_train = [0.5] * 5 + [1.5] * 2 + [2.5]            # bin counts 5, 2, 1
    >>> result = shot_metrics([0.5, 0.5, 1.5, 2.5], [0.5, 1.5, 2.5, 4.5], y_train=y_train,
    ...                       n_bins=3, many=4, few=2, metrics=("mae", "mse"))
    >>> result["all"]                                      # errors 0, 1, 1, 2
    {'mae': 1.0, 'mse': 1.5, 'n': 4}
    >>> result["many"]
    {'mae': 0.5, 'mse': 0.5, 'n': 2}
    >>> result["few"]
    {'mae': 2.0, 'mse': 4.0, 'n': 1}
    """
    metric_names = _check_metrics(metrics)
    _check_thresholds(many, few)
    y_true, y_pred = check_target_pair(y_true, y_pred)
    n_targets = _columns(y_true).shape[1]
    keys = _target_keys(target_names, n_targets)
    density = _resolve_density(label_density, y_train, n_targets, n_bins, bin_width)
    regions = _shot_regions(y_true, density, many, few)
    notes: list[_PearsonNote] = []
    table = _region_table(y_true, y_pred, regions, metric_names, notes)
    _warn_empty_regions(table, keys, len(y_true), many, few, stacklevel=2)
    _warn_pearson(notes, keys, stacklevel=2)
    return _nest(table, keys)


# ------------------------------------------------------------------------ report
def _format_value(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.4f}"


@dataclass(frozen=True)
class DIRReport:
    """Shot-region and balanced metrics of one set of predictions.

    Made by :func:`dir_report`. ``str(report)`` is an aligned table (rows all,
    many, medium, few and balanced; columns n, MAE, MSE, GM and Pearson; one block
    per target for two targets, plus their mean).

    Attributes
    ----------
    results : dict
        The numbers, as returned by :meth:`to_dict`.
    target_names : tuple of str
        Names of the targets.
    many, few : float
        The shot thresholds used.
    """

    results: dict[str, Any]
    target_names: tuple[str, ...]
    many: float
    few: float
    _ROWS: ClassVar[tuple[str, ...]] = (*REGIONS, "balanced")

    def to_dict(self) -> dict[str, Any]:
        """Return the results as nested plain dicts (a deep copy).

        Returns
        -------
        results : dict
            For one target ``{row: {"n": ..., "mae": ..., "mse": ..., "gm": ...,
            "pearson": ...}}`` with rows "all", "many", "medium", "few" and
            "balanced" (which also has ``"n_bins"``, the number of occupied
            bins); for two targets ``{name: {row: {...}}, ..., "mean": {row: {...}}}``.
        """
        return {key: _deep_copy(value) for key, value in self.results.items()}

    def _blocks(self) -> list[tuple[str | None, dict[str, Any]]]:
        if len(self.target_names) == 1:
            return [(None, self.results)]
        keys = [*self.target_names, "mean"]
        return [(key, self.results[key]) for key in keys]

    def __str__(self) -> str:
        header = f"{'':<9}{'n':>7}" + "".join(f"{_METRIC_TITLES[m]:>9}" for m in METRICS)
        lines = [
            "DIR report: shot regions by training-bin count "
            f"(many > {self.many:g}, medium {self.few:g}-{self.many:g}, few < {self.few:g})"
        ]
        for title, block in self._blocks():
            if title is not None:
                lines.append(f"[{title}]")
            lines.append(header)
            for row in self._ROWS:
                values = block[row]
                cells = "".join(f"{_format_value(values[m]):>9}" for m in METRICS)
                lines.append(f"{row:<9}{values['n']:>7d}{cells}")
            bins = block["balanced"]["n_bins"]
            lines.append(f"balanced: every occupied training bin weighs the same ({bins} bins)")
        return "\n".join(lines)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    return value


def dir_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    y_train: ArrayLike | None = None,
    label_density: LabelDensity | None = None,
    many: float = 100,
    few: float = 20,
    target_names: Sequence[str] | None = None,
    n_bins: int = 50,
    bin_width: float | None = None,
) -> DIRReport:
    """Report MAE, MSE, GM and Pearson overall, per shot region and balanced.

    The rows "all", "many", "medium" and "few" are those of :func:`shot_metrics`.
    The "balanced" row weights the test samples so that every bin of the
    training density that holds test samples weighs the same (weight
    ``1 / (B * n_b)`` for a sample of a bin with ``n_b`` test samples, ``B``
    occupied bins): its MAE and MSE are
    :func:`balanced_mean_absolute_error` and :func:`balanced_mean_squared_error`
    with that density, its GM is the weighted geometric mean and its Pearson the
    weighted correlation; its ``n`` is the number of test samples and ``n_bins``
    the number of occupied bins. Empty regions and undefined Pearson values are
    NaN and warned as in :func:`shot_metrics`.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
        True and predicted test targets (at most two targets).
    y_train : array-like or None, default=None
        Training targets, from which the density is fitted with
        ``LabelDensity(n_bins=n_bins, bin_width=bin_width, ks=1)``.
    label_density : LabelDensity or None, default=None
        A density fitted on the training targets, instead of ``y_train``.
    many : float, default=100
        Training-bin counts above this are many-shot.
    few : float, default=20
        Training-bin counts below this are few-shot.
    target_names : sequence of str or None, default=None
        Names of the targets (two targets); default ``"target_0"``, ``"target_1"``.
    n_bins : int, default=50
        Number of bins when the density is fitted on ``y_train``.
    bin_width : float or None, default=None
        Bin width instead of ``n_bins`` when the density is fitted on ``y_train``.

    Returns
    -------
    report : DIRReport
        ``report.to_dict()`` gives the numbers, ``print(report)`` a table.

    Examples
    --------
    >>> from skdir.metrics import dir_report
    >>> y_train = [0.5] * 5 + [1.5] * 2 + [2.5]            # bin counts 5, 2, 1
    >>> report = dir_report([0.5, 0.5, 1.5, 2.5], [0.5, 1.5, 2.5, 4.5],
    ...                     y_train=y_train, n_bins=3, many=4, few=2)
    >>> print(report)
    DIR report: shot regions by training-bin count (many > 4, medium 2-4, few < 2)
                   n      MAE      MSE       GM  Pearson
    all            4   1.0000   1.5000   0.0038   0.9683
    many           2   0.5000   0.5000   0.0000      nan
    medium         1   1.0000   1.0000   1.0000      nan
    few            1   2.0000   4.0000   2.0000      nan
    balanced       4   1.1667   1.8333   0.0271   0.9770
    balanced: every occupied training bin weighs the same (3 bins)
    >>> report.to_dict()["few"]
    {'mae': 2.0, 'mse': 4.0, 'gm': 2.0, 'pearson': nan, 'n': 1}
    """
    _check_thresholds(many, few)
    y_true, y_pred = check_target_pair(y_true, y_pred)
    t, p = _columns(y_true), _columns(y_pred)
    n_targets = t.shape[1]
    keys = _target_keys(target_names, n_targets)
    density = _resolve_density(label_density, y_train, n_targets, n_bins, bin_width)
    notes: list[_PearsonNote] = []
    regions = _shot_regions(y_true, density, many, few)
    table = _region_table(y_true, y_pred, regions, METRICS, notes)
    weights, occupied = _balanced_weights(y_true, density, n_bins, bin_width)
    balanced = _weighted_metrics(METRICS, t, p, weights, notes, "balanced")
    _warn_empty_regions(table, keys, len(t), many, few, stacklevel=2)
    _warn_pearson(notes, keys, stacklevel=2)
    balanced["n"] = np.full(n_targets, len(t))
    table["balanced"] = balanced
    results = _nest(table, keys)
    blocks = [results] if n_targets == 1 else [results[key] for key in keys]
    for block, bins in zip(blocks, occupied, strict=True):
        block["balanced"]["n_bins"] = bins
    if n_targets > 1:
        results["mean"]["balanced"]["n_bins"] = int(sum(occupied))
    return DIRReport(results=results, target_names=tuple(keys), many=many, few=few)


# ------------------------------------------------------- estimator's training density
def _ttr_transform(ttr: TransformedTargetRegressor, y: NDArray[np.float64]) -> NDArray:
    """Map targets into the space the TTR's regressor was trained in (as TTR.fit does)."""
    y = np.asarray(y, dtype=np.float64)
    transformed = ttr.transformer_.transform(y.reshape(-1, 1) if y.ndim == 1 else y)
    transformed = np.asarray(transformed, dtype=np.float64)
    if y.ndim == 1 and transformed.ndim == 2 and transformed.shape[1] == 1:
        transformed = transformed[:, 0]
    return transformed


class _ComposedTransform:
    """Apply target transformations in order (outermost TTR first); picklable."""

    def __init__(self, ttrs: list[TransformedTargetRegressor]) -> None:
        self.ttrs = ttrs

    def __call__(self, y: ArrayLike) -> NDArray[np.float64]:
        out = np.asarray(y, dtype=np.float64)
        for ttr in self.ttrs:
            out = _ttr_transform(ttr, out)
        return out


#: Attributes of fitted meta-estimators that hold fitted sub-estimators, searched in order.
_SUB_ESTIMATORS = (
    "best_estimator_",  # searches
    "estimator_",  # wrappers (e.g. RFE, TransformedTargetRegressor's siblings)
    "regressor_",  # DensityWeightedRegressor, RANSAC, ...
    "weighter_",  # DensityWeightedRegressor
    "estimators_",  # VotingRegressor, StackingRegressor, bagging, MultiOutputRegressor
    "named_estimators_",  # VotingRegressor, StackingRegressor (the same objects, by name)
    "final_estimator_",  # StackingRegressor
)


def _members(value: object) -> list[object]:
    """Return the estimators an attribute holds: itself, or its list/dict/array items."""
    if value is None or isinstance(value, str):  # "drop", "passthrough"
        return []
    if isinstance(value, dict):
        items: list[object] = list(value.values())
    elif isinstance(value, np.ndarray) and value.dtype == object:
        items = list(value.ravel())  # e.g. GradientBoostingRegressor's trees
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return [value]
    out: list[object] = []
    for item in items:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[0], str):
            item = item[1]  # a (name, estimator) pair
        out.extend(_members(item))
    return out


def _find_density(
    estimator: object, seen: set[int] | None = None
) -> tuple[LabelDensity, list[TransformedTargetRegressor], str | None] | None:
    """Search depth-first for ``label_density_`` in an estimator and its fitted parts.

    Returns the density, the TransformedTargetRegressors on the way to it, and why
    the density may describe other targets than the training ones (a sampler before
    it, a bootstrap sample), or None.
    """
    seen = set() if seen is None else seen
    if id(estimator) in seen:
        return None
    seen.add(id(estimator))
    density = getattr(estimator, "label_density_", None)
    if isinstance(density, LabelDensity):
        return density, [], None
    if isinstance(estimator, TransformedTargetRegressor):
        inner = getattr(estimator, "regressor_", None)
        found = None if inner is None else _find_density(inner, seen)
        if found is None:
            return None
        return found[0], [estimator, *found[1]], found[2]
    if isinstance(estimator, Pipeline):
        resampled: str | None = None
        for _, step in estimator.steps:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            found = _find_density(step, seen)
            if found is not None:
                return found[0], found[1], found[2] or resampled
            if hasattr(step, "fit_resample"):
                resampled = (
                    f"it was fitted after the resampling step {type(step).__name__}, so it "
                    "describes the resampled training targets, not the original ones"
                )
        return None
    for attribute in _SUB_ESTIMATORS:
        try:
            held = getattr(estimator, attribute, None)
        except Exception:  # a property of an unfitted or unusual estimator
            continue
        for inner in _members(held):
            if inner is estimator:
                continue
            found = _find_density(inner, seen)
            if found is None:
                continue
            reason = found[2]
            if reason is None and attribute == "estimators_":
                if hasattr(estimator, "estimators_samples_"):
                    reason = (
                        f"it belongs to a sub-estimator of {type(estimator).__name__} fitted "
                        "on a bootstrap sample or subset of the training targets"
                    )
            return found[0], found[1], reason
    return None


def get_label_density(
    estimator: object, *, return_target_transform: bool = False
) -> LabelDensity | tuple[LabelDensity | None, Callable | None] | None:
    """Find the label density an estimator learned from its training targets.

    skdir estimators that bin targets expose the density of the ``y`` their
    ``fit`` received as ``label_density_``. This function looks for it on the
    estimator, then inside it:

    - :class:`~sklearn.compose.TransformedTargetRegressor`: in ``regressor_``.
      That regressor was trained on *transformed* targets, so its density lives
      in the transformed space; ``return_target_transform=True`` also returns the
      callable that maps targets through the fitted ``transformer_`` (as the
      TTR's ``fit`` does) so that shot regions are looked up in the right space.
    - :class:`~sklearn.pipeline.Pipeline` and imbalanced-learn's Pipeline: in the
      steps, first to last. The first step holding a density wins: a sampler
      (a step with ``fit_resample``) changes ``y`` for the later steps, so a
      sampler's own density describes the original training targets while the
      final regressor's describes the resampled ones. When the density found
      lies after a sampler, a ``UserWarning`` says that it describes resampled
      targets.
    - any other estimator holding fitted sub-estimators, recursively, in the
      attributes ``best_estimator_``, ``estimator_``, ``regressor_``,
      ``weighter_``, ``estimators_``, ``named_estimators_`` and
      ``final_estimator_`` (searches, :class:`DensityWeightedRegressor`,
      :class:`~sklearn.ensemble.VotingRegressor`,
      :class:`~sklearn.ensemble.StackingRegressor`, ...). The first density found
      depth-first wins: the members of a voting or stacking ensemble are fitted on
      the same targets, so any of them describes the training targets (if they
      bin differently, the first member's bins are used; pass the density you want
      to the scorer with ``make_shot_scorer(..., label_density=...)`` and use an
      estimator without one). A density of a member of a bagging ensemble
      (fitted on a bootstrap sample) is used with a ``UserWarning``.

    Because the density comes from the fitted estimator, a scorer that uses it in
    ``cross_val_score`` gets the regions of the training fold, not of the test
    fold.

    Parameters
    ----------
    estimator : object
        A fitted estimator.
    return_target_transform : bool, default=False
        Also return a callable ``transform(y)`` that maps targets into the space
        of the density (the identity when no TransformedTargetRegressor is on the
        way).

    Returns
    -------
    label_density : LabelDensity or None
        The training density, or None when none is found.
    transform : callable or None
        Only with ``return_target_transform=True``; None when no density is found.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skdir.metrics import get_label_density
    >>> get_label_density(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])) is None
    True
    """
    found = _find_density(estimator)
    if found is None:
        return (None, None) if return_target_transform else None
    density, ttrs, caveat = found
    if caveat:
        warnings.warn(
            f"The label density found in {type(estimator).__name__} may not describe its "
            f"training targets: {caveat}; shot regions from it differ from those of the "
            "training data. Give the sampler a label density, or pass the training density "
            "to the scorer explicitly (make_shot_scorer(..., label_density=...)).",
            UserWarning,
            stacklevel=2,
        )
    if return_target_transform:
        return density, _ComposedTransform(ttrs)
    return density


# ------------------------------------------------------------------------ scorers
def _scorer_signature(y_true: ArrayLike, y_pred: ArrayLike) -> float:  # pragma: no cover
    """Stand-in score function: its signature tells sklearn the scorer takes no metadata."""
    raise NotImplementedError


class _DIRScorer(_BaseScorer):
    """Scorer for shot-region and balanced metrics; build it with the ``make_*`` functions."""

    def __init__(
        self,
        *,
        kind: str,
        metric: str,
        region: str | None,
        label_density: LabelDensity | None,
        many: float,
        few: float,
        n_bins: int,
        bin_width: float | None,
    ) -> None:
        sign = 1 if _GREATER_IS_BETTER[metric] else -1
        super().__init__(_scorer_signature, sign, {}, response_method="predict")
        self.kind = kind
        self.metric = metric
        self.region = region
        self.label_density = label_density
        self.many = many
        self.few = few
        self.n_bins = n_bins
        self.bin_width = bin_width

    def __repr__(self) -> str:
        density = "" if self.label_density is None else ", label_density=LabelDensity(...)"
        if self.kind == "shot":
            return (
                f"make_shot_scorer(metric={self.metric!r}, region={self.region!r}, "
                f"many={self.many!r}, few={self.few!r}{density})"
            )
        binning = (
            f"n_bins={self.n_bins!r}"
            if self.bin_width is None
            else (f"bin_width={self.bin_width!r}")
        )
        return f"make_balanced_scorer(metric={self.metric!r}, {binning}{density})"

    def _score(
        self, method_caller: Callable, estimator: object, X: Any, y_true: ArrayLike, **kwargs
    ) -> float:
        if kwargs:
            raise ValueError(
                f"{self!r} received metadata {sorted(kwargs)} but uses none; do not request "
                "it with set_score_request (the default requests nothing)."
            )
        y_pred = method_caller(estimator, "predict", X)
        y_true, y_pred = check_target_pair(y_true, y_pred)
        t, p = _columns(y_true), _columns(y_pred)
        if self.kind == "balanced":
            weights, _ = _balanced_weights(y_true, self.label_density, self.n_bins, self.bin_width)
        else:
            weights = self._shot_weights(estimator, y_true)
        notes: list[_PearsonNote] = []
        region = self.region if self.kind == "shot" else "balanced"
        values = _weighted_metrics([self.metric], t, p, weights, notes, region)[self.metric]
        _warn_pearson(notes, [f"target {k}" for k in range(t.shape[1])], stacklevel=4)
        return self._sign * float(np.mean(values))

    def _density_of(
        self, estimator: object, n_targets: int
    ) -> tuple[LabelDensity, Callable | None]:
        """Return the training density (the estimator's, else the scorer's) and its transform."""
        density, transform = get_label_density(estimator, return_target_transform=True)
        if density is not None and density.n_targets_ == n_targets:
            return density, transform
        if self.label_density is not None:
            return self.label_density, None
        if density is not None:  # e.g. MultiOutputRegressor: one density per target column
            raise ValueError(
                f"The label density found in {type(estimator).__name__} was fitted on "
                f"{density.n_targets_} target(s) but y has {n_targets} (a sub-estimator may "
                "see one target column only). Build the scorer with "
                "make_shot_scorer(..., label_density=LabelDensity(...).fit(y_train)) on the "
                "training targets of all columns."
            )
        raise ValueError(
            f"{self!r} needs the training label density for shot regions, but "
            f"{type(estimator).__name__} exposes no fitted label_density_ (also looked, "
            "recursively, inside TransformedTargetRegressor, pipelines and the fitted "
            f"sub-estimators in {', '.join(_SUB_ESTIMATORS)}). Either use an estimator that "
            "stores its training density as label_density_ (e.g. DensityWeightedRegressor, "
            "DIRRegressor), or build the scorer with "
            "make_shot_scorer(..., label_density=LabelDensity(...).fit(y_train))."
        )

    def _shot_weights(self, estimator: object, y_true: NDArray[np.float64]) -> NDArray:
        """Uniform weights over the region; the balanced fallback where it is too small."""
        n_samples, n_targets = _columns(y_true).shape
        density, transform = self._density_of(estimator, n_targets)
        region_y = (
            y_true
            if transform is None
            else check_target(transform(y_true), name="transformed y_true")
        )
        if self.region == "all":
            mask = np.ones((n_samples, n_targets), bool)
        else:
            mask = _shot_regions(region_y, density, self.many, self.few) == self.region
        weights = _uniform_weights(mask)
        counts = mask.sum(axis=0)
        short = counts < (2 if self.metric == "pearson" else 1)
        if short.any():
            fallback, occupied = _balanced_weights(region_y, density, self.n_bins, None)
            weights[:, short] = fallback[:, short]
            self._warn_fallback(counts, short, occupied, n_samples)
        return weights

    def _warn_fallback(
        self,
        counts: NDArray[np.intp],
        short: NDArray[np.bool_],
        occupied: list[int],
        n_samples: int,
    ) -> None:
        rule = _region_rule(self.region, self.many, self.few)  # type: ignore[arg-type]
        for k in np.flatnonzero(short):
            target = f" of target {k}" if len(counts) > 1 else ""
            held = (
                "none"
                if counts[k] == 0
                else f"{counts[k]}, fewer than the 2 that Pearson's r needs,"
            )
            warnings.warn(
                f"The {self.region!r}-shot region{target} ({rule}) holds {held} of the "
                f"{n_samples} test rows scored here, so {self!r} scores the balanced "
                f"{_METRIC_TITLES[self.metric]} over the {occupied[k]} training bin(s) that "
                "hold test rows instead (every occupied bin weighs the same) and the score "
                "stays finite. In cross-validation, lower few/many, use fewer folds, or "
                "stratify the folds by target to keep the region in every test fold.",
                EmptyRegionWarning,
                stacklevel=5,
            )


def make_shot_scorer(
    metric: str = "mae",
    region: str = "few",
    *,
    label_density: LabelDensity | None = None,
    many: float = 100,
    few: float = 20,
) -> _DIRScorer:
    """Make a scorer of one metric over one shot region, for ``cross_val_score`` and searches.

    The regions come from the *training* label density: the scorer asks the
    fitted estimator for it (:func:`get_label_density`, which walks into
    TransformedTargetRegressor, pipelines, searches and, recursively, fitted
    sub-estimators such as the members of a ``VotingRegressor`` or
    ``StackingRegressor``), so that in cross-validation each fold's regions come
    from that fold's training targets; if the estimator has none, the
    ``label_density`` given here is used; with neither, scoring raises a
    ``ValueError`` that says how to pass one. For two targets the metric is
    computed per target over that target's region and averaged. Lower-is-better
    metrics (MAE, MSE, GM) are negated (``greater_is_better=False``, like
    scikit-learn's ``neg_mean_absolute_error``); Pearson is not. The 100/20
    thresholds suit training sets of thousands; with a few hundred samples nearly
    every bin is few-shot, so lower them.

    **An empty region.** When no test sample of the scored rows (a test fold)
    falls in the region (for Pearson: fewer than two), the region's metric does
    not exist. The scorer then warns with an :class:`EmptyRegionWarning` naming
    the region and the number of test rows, and scores the *balanced* metric over
    the training bins that hold test rows instead: every such bin weighs the
    same, as in :func:`dir_report`'s "balanced" row (for two targets, only the
    target whose region is empty falls back). The score stays finite, so
    ``cross_val_score`` means and searches keep working; such a fold measures the
    balanced error rather than the region's, which the warning says. Pearson is
    NaN, with scipy's ``ConstantInputWarning``, when the target or the
    prediction is constant over the scored rows.

    The scorer consumes and requests no metadata; see the module notes on
    metadata routing.

    Parameters
    ----------
    metric : {"mae", "mse", "gm", "pearson"}, default="mae"
        Metric to compute.
    region : {"all", "many", "medium", "few"}, default="few"
        Shot region to score.
    label_density : LabelDensity or None, default=None
        Fallback training density for estimators that expose none.
    many : float, default=100
        Training-bin counts above this are many-shot.
    few : float, default=20
        Training-bin counts below this are few-shot.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``; a scikit-learn scorer object.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skdir.density import LabelDensity
    >>> from skdir.metrics import make_shot_scorer
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0.0, 1.0, 2.0, 3.0])
    >>> density = LabelDensity(n_bins=2, ks=1).fit([0.0, 0.5, 1.0, 3.0])  # counts 3, 1
    >>> scorer = make_shot_scorer("mae", "few", label_density=density, many=2, few=2)
    >>> model = LinearRegression().fit(X, y)
    >>> round(scorer(model, X, np.array([0.0, 1.0, 2.0, 4.0])), 6)  # few: |2-2| and |3-4|
    -0.5
    """
    _check_metric(metric)
    _check_region(region)
    _check_thresholds(many, few)
    if label_density is not None:
        _check_label_density(label_density)
    return _DIRScorer(
        kind="shot",
        metric=metric,
        region=region,
        label_density=label_density,
        many=many,
        few=few,
        n_bins=20,
        bin_width=None,
    )


def make_balanced_scorer(
    metric: str = "mae",
    *,
    label_density: LabelDensity | None = None,
    n_bins: int = 20,
    bin_width: float | None = None,
) -> _DIRScorer:
    """Make a scorer of the balanced (bin-uniform) MAE or MSE.

    The scorer needs no training targets: unless a fitted ``label_density`` is
    given, the bins are ``n_bins`` equal-width bins (or bins of ``bin_width``)
    over the range of the test fold's targets, see
    :func:`balanced_mean_absolute_error`. Scores are negated
    (``greater_is_better=False``). It consumes and requests no metadata (see the
    module notes on metadata routing).

    Parameters
    ----------
    metric : {"mae", "mse"}, default="mae"
        Balanced MAE or balanced MSE.
    label_density : LabelDensity or None, default=None
        Fitted density whose bins are used instead of the test fold's.
    n_bins : int, default=20
        Number of bins over the test fold's range.
    bin_width : float or None, default=None
        Bin width instead of ``n_bins``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``; a scikit-learn scorer object.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyRegressor
    >>> from skdir.metrics import make_balanced_scorer
    >>> X = np.zeros((4, 1))
    >>> y = np.array([0.0, 0.0, 0.0, 4.0])
    >>> model = DummyRegressor(strategy="constant", constant=0.0).fit(X, y)
    >>> make_balanced_scorer("mae", n_bins=2)(model, X, y)  # -(0 + 4) / 2
    -2.0
    """
    _check_metric(metric, ("mae", "mse"))
    _check_binning(n_bins, bin_width)
    if label_density is not None:
        _check_label_density(label_density)
    return _DIRScorer(
        kind="balanced",
        metric=metric,
        region=None,
        label_density=label_density,
        many=100,
        few=20,
        n_bins=n_bins,
        bin_width=bin_width,
    )


#: Negated few-shot MAE, regions from the estimator's training density (100/20 rule);
#: a fold without few-shot test rows scores the balanced MAE, with an EmptyRegionWarning.
few_shot_mae_scorer = make_shot_scorer("mae", "few")
#: Negated few-shot MSE, regions from the estimator's training density (100/20 rule);
#: a fold without few-shot test rows scores the balanced MSE, with an EmptyRegionWarning.
few_shot_mse_scorer = make_shot_scorer("mse", "few")
#: Negated balanced MAE over 20 bins of the test fold's targets.
balanced_mae_scorer = make_balanced_scorer("mae")
#: Negated balanced MSE over 20 bins of the test fold's targets.
balanced_mse_scorer = make_balanced_scorer("mse")
