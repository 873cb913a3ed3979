"""Plain regression metrics of the DIR benchmarks: GM, Pearson's r and SERA.

The MAE, MSE, GM and Pearson *kernels* here (``metric(y_true, y_pred,
sample_weight=None)`` on one target) are what every DIR version of them
(balanced, per shot region, in scorers and reports) evaluates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import ConstantInputWarning, DegenerateDataWarning
from sklearn.utils._param_validation import StrOptions, validate_params

from .._validation import as_real_array, check_target_pair
from ._base import (
    MULTIOUTPUT,
    Metric,
    Note,
    Problem,
    aggregate,
    all_rows,
    check_sample_weight,
    columns,
    evaluate,
    scale_for,
    warn_notes,
)

#: Metric names understood by :func:`shot_metrics`, the scorers and the metric
#: transformers (:func:`balanced_error`, :func:`shot_error`).
METRICS = ("mae", "mse", "gm", "pearson")
#: Exact zero errors are replaced by this value before taking logs in the
#: geometric mean, as the official STS-B-DIR evaluation does; without it a
#: single exact prediction makes GM zero.
GM_ZERO_ERROR = 1e-10

#: The ``multioutput`` constraint shared by the metric functions.
MULTIOUTPUT_CONSTRAINT = [StrOptions(set(MULTIOUTPUT)), "array-like"]


# ----------------------------------------------------------------------- kernels
def _mean_absolute(
    y_true: NDArray[np.float64], y_pred: NDArray[np.float64], sample_weight: NDArray | None = None
) -> float:
    return float(np.average(np.abs(y_pred - y_true), weights=sample_weight))


def _mean_squared(
    y_true: NDArray[np.float64], y_pred: NDArray[np.float64], sample_weight: NDArray | None = None
) -> float:
    return float(np.average((y_pred - y_true) ** 2, weights=sample_weight))


def _geometric_mean(
    y_true: NDArray[np.float64], y_pred: NDArray[np.float64], sample_weight: NDArray | None = None
) -> float:
    absolute = np.abs(y_pred - y_true)
    safe = np.where(absolute == 0, GM_ZERO_ERROR, absolute)
    return float(np.exp(np.average(np.log(safe), weights=sample_weight)))


def _pearson(
    y_true: NDArray[np.float64], y_pred: NDArray[np.float64], sample_weight: NDArray | None = None
) -> float:
    """Weighted Pearson r; NaN (silently: see :func:`_pearson_problem`) when undefined."""
    if len(y_true) < 2 or np.ptp(y_true) == 0 or np.ptp(y_pred) == 0:
        return np.nan
    centred_true = y_true - np.average(y_true, weights=sample_weight)
    centred_pred = y_pred - np.average(y_pred, weights=sample_weight)
    covariance = np.average(centred_true * centred_pred, weights=sample_weight)
    variance = np.average(centred_true**2, weights=sample_weight) * np.average(
        centred_pred**2, weights=sample_weight
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        r = covariance / np.sqrt(variance)
    return float(np.clip(r, -1.0, 1.0)) if np.isfinite(r) else np.nan


def _pearson_problem(y_true: NDArray[np.float64], y_pred: NDArray[np.float64]) -> Problem | None:
    """Why Pearson's r is undefined on these rows (as scipy.stats.pearsonr warns), or None."""
    if len(y_true) < 2:
        return ("1 sample (2 are needed)", DegenerateDataWarning, "there are fewer than 2 samples")
    constant_true, constant_pred = np.ptp(y_true) == 0, np.ptp(y_pred) == 0
    if not (constant_true or constant_pred):
        return None
    which = (
        "y_true and y_pred are"
        if constant_true and constant_pred
        else ("y_true is" if constant_true else "y_pred is")
    )
    return (f"{which} constant", ConstantInputWarning, "an input is constant")


MAE = Metric(_mean_absolute, "mae", "MAE", greater_is_better=False)
MSE = Metric(_mean_squared, "mse", "MSE", greater_is_better=False)
GM = Metric(_geometric_mean, "gm", "GM", greater_is_better=False)
PEARSON = Metric(
    _pearson,
    "pearson",
    "Pearson",
    greater_is_better=True,
    min_samples=2,
    diagnose=_pearson_problem,
)
#: The built-in metrics by name.
BUILTIN = {metric.name: metric for metric in (MAE, MSE, GM, PEARSON)}


def _plain(
    metric: Metric,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    sample_weight: ArrayLike | None,
    multioutput: str | ArrayLike,
) -> float | NDArray[np.float64]:
    """Compute a built-in metric over all samples per target, combined by ``multioutput``."""
    y_true, y_pred = check_target_pair(y_true, y_pred)
    t, p = columns(y_true), columns(y_pred)
    weights = check_sample_weight(sample_weight, len(t))
    selections = [(rows, weights) for rows, _ in all_rows(*t.shape)]
    notes: list[Note] = []
    scale = scale_for(multioutput, None, t)
    values = evaluate(metric, t, p, selections, scale=scale, notes=notes)
    warn_notes(notes, [f"target {k}" for k in range(t.shape[1])], stacklevel=4)
    return aggregate(values, multioutput)


_PLAIN_CONSTRAINTS = {
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "sample_weight": ["array-like", None],
    "multioutput": MULTIOUTPUT_CONSTRAINT,
}


# ----------------------------------------------------------------- plain metrics
@validate_params(_PLAIN_CONSTRAINTS, prefer_skip_nested_validation=True)
def geometric_mean_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput: str | ArrayLike = "uniform_average",
) -> float | NDArray[np.float64]:
    """Geometric mean of the absolute errors, ``exp(mean(log|y_pred - y_true|))``.

    The GM of the DIR benchmarks (Yang et al., ICML 2021): lower is better, and
    it is less dominated by a few large errors than the MAE. An exact prediction
    (error 0) would make the geometric mean 0, so exact zero errors are replaced
    by :data:`GM_ZERO_ERROR` (``1e-10``) before taking logs, as the official
    STS-B-DIR evaluation does; one zero error among ``n`` therefore multiplies GM
    by ``(1e-10 / e)**(1/n)`` for the error ``e`` it would otherwise have.

    It follows the metric protocol ``metric(y_true, y_pred, sample_weight=None)``,
    so ``balanced_error(geometric_mean_error)`` and
    ``shot_error(geometric_mean_error, "few")`` are its DIR versions.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
        True and predicted targets (at most two targets).
    sample_weight : array-like of shape (n_samples,) or None, default=None
        Weights of the samples: ``exp(sum w log|e| / sum w)``.
    multioutput : {"raw_values", "uniform_average", "scale_free"} or array-like, \
default="uniform_average"
        ``"raw_values"`` returns one value per target, ``"uniform_average"`` their
        mean, an array of shape (n_targets,) their weighted mean.
        ``"scale_free"`` divides each target (true and predicted) by its standard
        deviation in ``y_true`` before the metric, then averages: two targets on
        different scales weigh the same (see :mod:`skdir.metrics`).

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
    >>> geometric_mean_error([0.0, 0.0], [1.0, 4.0], sample_weight=[3, 1])  # 4**(1/4)
    1.414213...
    """
    return _plain(GM, y_true, y_pred, sample_weight, multioutput)


@validate_params(_PLAIN_CONSTRAINTS, prefer_skip_nested_validation=True)
def pearson_correlation(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput: str | ArrayLike = "uniform_average",
) -> float | NDArray[np.float64]:
    """Pearson correlation coefficient between true and predicted targets.

    Higher is better. It is undefined (NaN) when a target or its prediction is
    constant, with scipy's :class:`~scipy.stats.ConstantInputWarning` naming the
    constant input (as :func:`scipy.stats.pearsonr` warns), or when there are fewer
    than two samples, with a :class:`~scipy.stats.DegenerateDataWarning` (the base
    class of the former). With ``sample_weight`` it is the weighted correlation
    (weighted means, covariance and variances); it follows the metric protocol,
    so ``balanced_error(pearson_correlation)`` is the bin-balanced correlation.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
        True and predicted targets (at most two targets).
    sample_weight : array-like of shape (n_samples,) or None, default=None
        Weights of the samples.
    multioutput : {"raw_values", "uniform_average", "scale_free"} or array-like, \
default="uniform_average"
        ``"raw_values"`` returns one value per target, ``"uniform_average"`` their
        mean, an array of shape (n_targets,) their weighted mean. The correlation
        does not depend on the scale of a target, so ``"scale_free"`` is the
        uniform average.

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
    return _plain(PEARSON, y_true, y_pred, sample_weight, multioutput)


# ------------------------------------------------------------------------- SERA
def _relevance_values(relevance: object, y_true: NDArray[np.float64]) -> NDArray[np.float64]:
    cols = columns(y_true)
    n_samples, n_targets = cols.shape
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
                as_real_array(r(cols[:, k]), "relevance").reshape(-1)
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


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "relevance": [callable, "array-like"],
        "multioutput": MULTIOUTPUT_CONSTRAINT,
    },
    prefer_skip_nested_validation=True,
)
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
    multioutput : {"raw_values", "uniform_average", "scale_free"} or array-like, \
default="uniform_average"
        ``"raw_values"`` returns one value per target, ``"uniform_average"`` their
        mean, an array of shape (n_targets,) their weighted mean.
        ``"scale_free"`` divides each target's errors by its standard deviation in
        ``y_true`` (so its SERA by the variance), then averages.

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
    t, p = columns(y_true), columns(y_pred)
    scale = scale_for(multioutput, None, t)
    if scale is not None:
        t, p = t / scale, p / scale
    values = (phi * (p - t) ** 2).sum(axis=0)
    return aggregate(values, multioutput)


def resolve_metric(metric: str | Callable, greater_is_better: bool | None = None) -> Metric:
    """Return the :class:`Metric` of a built-in name or of any callable metric.

    skdir's own public metrics (:func:`geometric_mean_error`,
    :func:`pearson_correlation`) resolve to their built-in kernels, so that their
    DIR versions warn as the built-ins do. A callable is an error metric
    (``greater_is_better=False``) unless told otherwise.
    """
    if isinstance(metric, str):
        builtin = BUILTIN[metric]
        if greater_is_better is not None and greater_is_better != builtin.greater_is_better:
            raise ValueError(
                f"greater_is_better={greater_is_better} contradicts the metric {metric!r} "
                f"(greater is {'better' if builtin.greater_is_better else 'worse'}); leave "
                "greater_is_better=None for a built-in metric."
            )
        return builtin
    known = {geometric_mean_error: GM, pearson_correlation: PEARSON}.get(metric)
    if known is not None and greater_is_better in (None, known.greater_is_better):
        return known
    name = metric_name(metric)
    return Metric(metric, name, name, greater_is_better=bool(greater_is_better))


def metric_name(metric: Callable) -> str:
    """Name a callable metric: its ``__name__`` (``"metric"`` for a lambda)."""
    name = getattr(metric, "__name__", None) or type(metric).__name__
    return "metric" if name == "<lambda>" else str(name)
