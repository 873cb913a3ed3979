"""Metrics as functions of metrics: the bin-balanced and shot-region versions of any metric.

:func:`balanced_error` and :func:`shot_error` take a metric
``metric(y_true, y_pred, sample_weight=None)`` (a name of a built-in, one of
scikit-learn's, or the user's own) and return its DIR version, for one or two
targets. The balanced MAE and MSE of this package are two such versions.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._validation import check_target_pair
from ..density import LabelDensity
from ._base import (
    REGIONS,
    Metric,
    Note,
    aggregate,
    balanced_bins,
    balanced_rows,
    check_thresholds,
    columns,
    evaluate,
    region_rows,
    resolve_density,
    scale_for,
    shot_regions,
    warn_empty_regions,
    warn_notes,
)
from ._regression import MAE, METRICS, MSE, MULTIOUTPUT_CONSTRAINT, metric_name, resolve_metric

#: Constraints of the binning parameters shared by balanced metrics, reports and scorers.
BINNING_CONSTRAINTS = {
    "label_density": [LabelDensity, None],
    "n_bins": [Interval(Integral, 1, None, closed="left")],
    "bin_width": [Interval(Real, 0, None, closed="neither"), None],
}
#: Constraints of the shot thresholds.
THRESHOLD_CONSTRAINTS = {
    "many": [Interval(Real, 0, None, closed="left")],
    "few": [Interval(Real, 0, None, closed="left")],
}
METRIC_CONSTRAINT = [StrOptions(set(METRICS)), callable]

_TARGETS_DOC = """\
y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
    True and predicted targets (at most two targets)."""

_MULTIOUTPUT_DOC = """\
multioutput : {{"raw_values", "uniform_average", "scale_free"}} or array-like, \
default="uniform_average"
    ``"raw_values"`` returns one value per target, ``"uniform_average"`` their
    mean, an array of shape (n_targets,) their weighted mean. ``"scale_free"``
    divides each target (true and predicted) by its spread before the metric and
    averages the results, so that two targets on different scales weigh the
    same: the spread is the standard deviation of {spread_source}."""

_BALANCED_DOC = """\
{summary}

The test targets are binned, by the bins of ``label_density`` or by
``n_bins`` equal-width bins over their own range, and ``{metric}`` is computed
with sample weights that give every occupied bin the same total weight: a
sample of a bin holding ``n_b`` of the ``n`` samples (``B`` occupied bins)
weighs ``n / (B * n_b)``. For a mean such as the MAE this is the mean of the
per-bin errors. On an imbalanced test set it estimates the error on a test set
balanced over the bins (the protocol of the DIR benchmarks, and the "balanced
metrics" of Ren et al., "Balanced MSE for Imbalanced Visual Regression", CVPR
2022); on a test set that is already uniform over the bins it equals the
plain metric. Each target is scored on its own bins.

Parameters
----------
{targets}
label_density : LabelDensity or None, default=None
    Fitted density whose bins are used (for two targets, the bins of its
    ``marginals_[k]`` for target ``k``). ``None`` fits
    ``LabelDensity(n_bins=n_bins, bin_width=bin_width, ks=1)`` on each column of
    ``y_true``: no training targets are needed. A constant ``y_true`` column
    is a single bin, so its balanced value is the plain one.
n_bins : int, default=20
    Number of equal-width bins over the range of ``y_true`` (when
    ``label_density`` is None and ``bin_width`` is None).
bin_width : float or None, default=None
    Bin width instead of a number of bins (when ``label_density`` is None).
{multioutput}

Returns
-------
{returns} : float or ndarray of shape (n_targets,)
{examples}"""

_SHOT_DOC = """\
{summary}

A test sample's region is decided by the *training* count of its bin
(:meth:`LabelDensity.shot_regions`): many-shot above ``many``, few-shot below
``few``, medium otherwise ("all" takes every sample). ``{metric}`` is computed
on the test samples of the region, per target (each target has its own
regions, from the density's ``marginals_``). A region without test samples
gives NaN with an :class:`EmptyRegionWarning`.

Parameters
----------
{targets}
y_train : array-like or None, default=None
    Training targets; the regions come from
    ``LabelDensity(n_bins=n_bins, bin_width=bin_width, ks=1).fit(y_train)``.
label_density : LabelDensity or None, default=None
    A density fitted on the training targets, instead of ``y_train``. Exactly
    one of the two is required.
many : float, default=100
    Training-bin counts above this are many-shot.
few : float, default=20
    Training-bin counts below this are few-shot.
n_bins : int, default=50
    Number of bins when the density is fitted on ``y_train``.
bin_width : float or None, default=None
    Bin width instead of ``n_bins`` when the density is fitted on ``y_train``.
{multioutput}

Returns
-------
{returns} : float or ndarray of shape (n_targets,)
{examples}"""

_BALANCED_SPREAD = (
    "the training targets in ``label_density`` when it is given (each bin read as "
    "uniform over its width), else of ``y_true``"
)
_SHOT_SPREAD = (
    "the training targets in the density (each bin read as uniform over its width), "
    "so that no test target enters the scale"
)


def _named(
    func: Callable,
    name: str,
    template: str,
    spread: str,
    constraints: dict,
    **text: str,
) -> Callable:
    """Give a generated metric its name and docstring, then validate its parameters.

    ``template`` is filled with ``text`` (``summary``, ``metric``, ``examples``);
    every generated metric takes ``y_true``, ``y_pred`` and ``multioutput``.
    """
    func.__name__ = func.__qualname__ = name
    func.__module__ = __name__
    func.__doc__ = template.format(
        targets=_TARGETS_DOC,
        multioutput=_MULTIOUTPUT_DOC.format(spread_source=spread),
        returns="value",
        **text,
    )
    constraints = {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        **constraints,
        "multioutput": MULTIOUTPUT_CONSTRAINT,
    }
    return validate_params(constraints, prefer_skip_nested_validation=True)(func)


def _balanced_version(metric: Metric, name: str, summary: str, examples: str = "") -> Callable:
    def balanced(
        y_true: ArrayLike,
        y_pred: ArrayLike,
        *,
        label_density: LabelDensity | None = None,
        n_bins: int = 20,
        bin_width: float | None = None,
        multioutput: str | ArrayLike = "uniform_average",
    ) -> float | NDArray[np.float64]:
        y_true, y_pred = check_target_pair(y_true, y_pred)
        t, p = columns(y_true), columns(y_pred)
        bins = balanced_bins(t, label_density, n_bins, bin_width)
        scale = scale_for(multioutput, label_density, t)
        notes: list[Note] = []
        values = evaluate(metric, t, p, balanced_rows(bins), scale=scale, notes=notes)
        warn_notes(notes, [f"target {k}" for k in range(t.shape[1])], stacklevel=3)
        return aggregate(values, multioutput)

    return _named(
        balanced,
        name,
        _BALANCED_DOC,
        _BALANCED_SPREAD,
        BINNING_CONSTRAINTS,
        summary=summary,
        metric=metric.name,
        examples=examples,
    )


def _shot_version(
    metric: Metric, region: str, name: str, summary: str, examples: str = ""
) -> Callable:
    def shot(
        y_true: ArrayLike,
        y_pred: ArrayLike,
        *,
        y_train: ArrayLike | None = None,
        label_density: LabelDensity | None = None,
        many: float = 100,
        few: float = 20,
        n_bins: int = 50,
        bin_width: float | None = None,
        multioutput: str | ArrayLike = "uniform_average",
    ) -> float | NDArray[np.float64]:
        check_thresholds(many, few)
        y_true, y_pred = check_target_pair(y_true, y_pred)
        t, p = columns(y_true), columns(y_pred)
        density = resolve_density(label_density, y_train, t.shape[1], n_bins, bin_width)
        selections = region_rows(shot_regions(t, density, many, few), region)
        scale = scale_for(multioutput, density, t)
        notes: list[Note] = []
        values = evaluate(metric, t, p, selections, scale=scale, notes=notes, region=region)
        keys = [f"target {k}" for k in range(t.shape[1])]
        empty = [(region, k) for k, (rows, _) in enumerate(selections) if not rows.any()]
        warn_empty_regions(empty, keys, len(t), many, few, stacklevel=3)
        warn_notes(notes, keys, stacklevel=3)
        return aggregate(values, multioutput)

    return _named(
        shot,
        name,
        _SHOT_DOC,
        _SHOT_SPREAD,
        {"y_train": ["array-like", None], **BINNING_CONSTRAINTS, **THRESHOLD_CONSTRAINTS},
        summary=summary,
        metric=metric.name,
        examples=examples,
    )


def _base_name(metric: str | Callable) -> str:
    return metric if isinstance(metric, str) else metric_name(metric)


@validate_params(
    {"metric": METRIC_CONSTRAINT, "name": [str, None]}, prefer_skip_nested_validation=True
)
def balanced_error(metric: str | Callable, *, name: str | None = None) -> Callable:
    """Turn a metric into its bin-balanced version: every occupied target bin weighs the same.

    The balanced version computes ``metric`` over all test samples with sample
    weights that give each occupied bin of the targets the same total weight
    (bins from a training ``label_density``, or from the test targets' own
    range), one target at a time. For a mean error this is the mean of the
    per-bin errors; for a weighted quantile, the quantile of a test set balanced
    over the bins. :func:`balanced_mean_absolute_error` is
    ``balanced_error("mae")``, documented.

    Parameters
    ----------
    metric : {"mae", "mse", "gm", "pearson"} or callable
        A built-in metric, or any ``metric(y_true, y_pred, sample_weight=None)``
        returning one number for 1-D ``y_true`` and ``y_pred`` (one target), such
        as :func:`sklearn.metrics.mean_absolute_error`,
        :func:`sklearn.metrics.median_absolute_error` or a function of your own.
        It must honour ``sample_weight``: the balance is in the weights.
    name : str or None, default=None
        ``__name__`` of the returned function; default ``"balanced_"`` followed by
        the metric's name.

    Returns
    -------
    balanced : callable
        ``balanced(y_true, y_pred, *, label_density=None, n_bins=20,
        bin_width=None, multioutput="uniform_average")``, with the parameters of
        :func:`balanced_mean_absolute_error`. ``multioutput="scale_free"``
        divides each target by its spread before the metric, which makes a mean
        absolute error relative to the spread, a mean squared error relative to
        the variance, and leaves a correlation unchanged; a metric that is not
        equivariant to the scale of the targets (a log error) measures something
        else on scaled targets.

    See Also
    --------
    shot_error : The shot-region version of a metric.
    make_balanced_scorer : A scorer of the balanced version.

    Examples
    --------
    >>> from sklearn.metrics import median_absolute_error
    >>> from skdir.metrics import balanced_error
    >>> balanced_median = balanced_error(median_absolute_error)
    >>> balanced_median.__name__
    'balanced_median_absolute_error'
    >>> y_true = [0.0, 1.0, 2.0, 4.0, 8.0]  # 3 bins over [0, 8]: 3, 1 and 1 samples
    >>> y_pred = [0.0, 1.0, 2.0, 6.0, 10.0]  # exact in the common bin, errors 2 elsewhere
    >>> # each bin weighs 1/3: two thirds of the weight are on errors of 2
    >>> float(balanced_median(y_true, y_pred, n_bins=3))
    2.0
    >>> float(median_absolute_error(y_true, y_pred))
    0.0
    """
    resolved = resolve_metric(metric)
    return _balanced_version(
        resolved,
        name or f"balanced_{_base_name(metric)}",
        f"Balanced (bin-uniform) version of the metric ``{resolved.name}``.",
    )


@validate_params(
    {"metric": METRIC_CONSTRAINT, "region": [StrOptions(set(REGIONS))], "name": [str, None]},
    prefer_skip_nested_validation=True,
)
def shot_error(
    metric: str | Callable, region: str = "few", *, name: str | None = None
) -> Callable:
    """Turn a metric into its version over one shot region of the training label density.

    A test sample is many-, medium- or few-shot by the number of *training*
    targets in its bin (more than ``many``, between, fewer than ``few``); the
    returned function computes ``metric`` on the test samples of ``region``, per
    target. It needs the training targets (``y_train=``) or their density
    (``label_density=``).

    Parameters
    ----------
    metric : {"mae", "mse", "gm", "pearson"} or callable
        A built-in metric, or any ``metric(y_true, y_pred)`` returning one number
        for 1-D ``y_true`` and ``y_pred`` (one target); it is called without
        ``sample_weight``.
    region : {"all", "many", "medium", "few"}, default="few"
        The shot region.
    name : str or None, default=None
        ``__name__`` of the returned function; default ``"<region>_shot_"``
        followed by the metric's name.

    Returns
    -------
    shot : callable
        ``shot(y_true, y_pred, *, y_train=None, label_density=None, many=100,
        few=20, n_bins=50, bin_width=None, multioutput="uniform_average")``.
        A region without test samples gives NaN with an
        :class:`EmptyRegionWarning`; ``multioutput="scale_free"`` divides each
        target by its spread in the *training* density.

    See Also
    --------
    balanced_error : The bin-balanced version of a metric.
    make_shot_scorer : A scorer of the shot-region version.
    shot_metrics : Several metrics over every region at once.

    Examples
    --------
    >>> from sklearn.metrics import max_error
    >>> from skdir.metrics import shot_error
    >>> few_shot_max_error = shot_error(max_error, "few")
    >>> y_train = [0.5] * 5 + [1.5] * 2 + [2.5]            # bin counts 5, 2, 1
    >>> # errors 0, 1 (many-shot bin), 1 (medium), 2 and 3 (few-shot bin)
    >>> float(few_shot_max_error([0.5, 0.5, 1.5, 2.5, 2.5], [0.5, 1.5, 2.5, 4.5, 5.5],
    ...                          y_train=y_train, n_bins=3, many=4, few=2))
    3.0
    """
    resolved = resolve_metric(metric)
    return _shot_version(
        resolved,
        region,
        name or f"{region}_shot_{_base_name(metric)}",
        f"Version of the metric ``{resolved.name}`` over the {region!r} shot region.",
    )


def _builtin_balanced(metric: Metric, error: str, rare_error: float, plain: float) -> Callable:
    """Document the balanced version of the built-in mean absolute or squared error."""
    name = f"balanced_mean_{error.lower()}_error"
    title = {"absolute": "MAE", "squared": "MSE"}[error]
    return _balanced_version(
        metric,
        name,
        f"Balanced (bin-uniform) mean {error} error: the mean of the per-bin {title}.\n\n"
        f'It is ``balanced_error("{metric.name}")``, see :func:`balanced_error`.',
        examples=f"""
Examples
--------
>>> from skdir.metrics import {name}
>>> y_true = [0.0, 1.0, 2.0, 8.0]       # 2 bins over [0, 8]: [0, 4) and [4, 8]
>>> y_pred = [0.0, 1.0, 2.0, 10.0]      # exact in bin 0, error 2 in bin 1
>>> # per-bin errors averaged: (0 + {rare_error:g}) / 2 bins; the plain {title} is {plain}
>>> {name}(y_true, y_pred, n_bins=2)
{rare_error / 2}
""",
    )


balanced_mean_absolute_error = _builtin_balanced(MAE, "absolute", 2.0, 0.5)
balanced_mean_squared_error = _builtin_balanced(MSE, "squared", 4.0, 1.0)
