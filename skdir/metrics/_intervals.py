"""Metrics and scorers of prediction intervals: coverage and width, overall and per region.

A prediction interval is judged by its *coverage* (the share of rows whose
target lies inside) and its *width*. In imbalanced regression the average
coverage hides the rare ranges, so :func:`coverage_report` also gives both per
shot region and per label bin of the training :class:`~skdir.density.LabelDensity`,
and :func:`make_interval_scorer` turns a coverage-penalised width into a scorer
for cross-validation and searches (``DIRSearchCV``, ``GridSearchCV``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics._scorer import _BaseScorer

from .._validation import check_target
from ..density import LabelDensity
from ._base import check_fitted_density
from ._density import get_label_density

__all__ = [
    "coverage_report",
    "interval_coverage",
    "interval_width",
    "make_interval_scorer",
]


def check_alpha(alpha: object) -> float:
    """Return ``alpha`` as a float in (0, 1), else raise a ValueError that says so."""
    if (
        not isinstance(alpha, (int, float, np.integer, np.floating))
        or isinstance(alpha, (bool, np.bool_))
        or not np.isfinite(alpha)
        or not 0 < alpha < 1
    ):
        raise ValueError(
            f"alpha must be a number strictly between 0 and 1 (the miscoverage rate: "
            f"alpha=0.1 asks for 90% intervals), got {alpha!r}."
        )
    return float(alpha)


def check_intervals(
    y: ArrayLike | None, intervals: ArrayLike
) -> tuple[NDArray[np.float64] | None, NDArray[np.float64]]:
    """Return ``y`` as ``(n, T)`` and ``intervals`` as ``(n, T, 2)``, checked together."""
    arr = np.asarray(intervals, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 2:
        arr = arr[:, None, :]
    if arr.ndim != 3 or arr.shape[2] != 2:
        raise ValueError(
            "intervals must have shape (n_samples, 2) or (n_samples, n_targets, 2), got "
            f"{np.shape(intervals)}."
        )
    if np.isnan(arr).any():
        raise ValueError("intervals contain NaN.")
    if (arr[..., 0] > arr[..., 1]).any():
        raise ValueError("intervals have a lower bound above the upper bound.")
    if y is None:
        return None, arr
    y_arr = check_target(y, max_targets=np.inf).reshape(len(np.asarray(y)), -1)
    if y_arr.shape != arr.shape[:2]:
        raise ValueError(
            f"y has shape {y_arr.shape[0]} x {y_arr.shape[1]} target(s) but intervals cover "
            f"{arr.shape[0]} x {arr.shape[1]}; pass one interval per sample and target."
        )
    return y_arr, arr


def _covered(y: NDArray[np.float64], arr: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Whether every target of each row lies in its interval, shape (n,)."""
    return ((arr[..., 0] <= y) & (y <= arr[..., 1])).all(axis=1)


def interval_coverage(y: ArrayLike, intervals: ArrayLike) -> float:
    """Return the share of rows whose targets all lie in their intervals.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        True targets.
    intervals : array-like of shape (n_samples, 2) or (n_samples, n_targets, 2)
        Lower and upper bounds (closed intervals).

    Returns
    -------
    coverage : float
        For several targets, the joint coverage (a row counts when every
        target is inside its interval).

    Examples
    --------
    >>> from skdir.metrics import interval_coverage
    >>> interval_coverage([1.0, 2.0, 5.0], [[0, 2], [2, 3], [0, 1]])
    0.6666666666666666
    """
    y_arr, arr = check_intervals(y, intervals)
    return float(_covered(y_arr, arr).mean())


def interval_width(intervals: ArrayLike) -> float | NDArray[np.float64]:
    """Return the mean interval width (per target for several targets).

    Parameters
    ----------
    intervals : array-like of shape (n_samples, 2) or (n_samples, n_targets, 2)
        Lower and upper bounds.

    Returns
    -------
    width : float or ndarray of shape (n_targets,)
        A float for ``(n_samples, 2)`` intervals, one mean per target otherwise.

    Examples
    --------
    >>> from skdir.metrics import interval_width
    >>> interval_width([[0, 2], [2, 3]])
    1.5
    """
    raw = np.asarray(intervals)
    _, arr = check_intervals(None, intervals)
    width = (arr[..., 1] - arr[..., 0]).mean(axis=0)
    return float(width[0]) if raw.ndim == 2 else width


def _bin_ranges(density: LabelDensity, flat: int) -> list[list[float]]:
    """``[[low, high], ...]`` per target of the flat bin ``flat`` of ``density``."""
    index = np.unravel_index(flat, density.n_bins_)
    return [
        [float(edges[i]), float(edges[i + 1])]
        for edges, i in zip(density.bin_edges_, index, strict=True)
    ]


def coverage_report(
    y: ArrayLike,
    intervals: ArrayLike,
    label_density: LabelDensity | None = None,
    *,
    many: float = 100,
    few: float = 20,
    min_bin_size: int = 1,
) -> dict[str, Any]:
    """Coverage and mean width overall, per shot region and per label bin.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        True targets (one or two targets: the regions and bins come from a
        :class:`~skdir.density.LabelDensity`).
    intervals : array-like of shape (n_samples, 2) or (n_samples, n_targets, 2)
        Lower and upper bounds.
    label_density : LabelDensity or None, default=None
        Fitted density of the *training* targets that defines the shot regions
        and bins (:meth:`skdir.density.LabelDensity.shot_regions`). ``None``
        fits ``LabelDensity()`` on ``y`` itself.
    many, few : float, default=100, 20
        Shot thresholds passed to ``shot_regions``.
    min_bin_size : int, default=1
        ``"worst_bin"`` is the lowest coverage among the bins holding at least
        this many rows of ``y`` (a bin of two rows has coverage 0, 0.5 or 1,
        which says little); ``"bins"`` lists every occupied bin.

    Returns
    -------
    report : dict
        ``"n"``; ``"coverage"`` (joint over targets) and ``"width"`` (mean, a
        list per target for several targets); for several targets also
        ``"target_coverage"`` (each target's own coverage). ``"regions"``: for
        each of ``"many"``, ``"medium"``, ``"few"`` that holds rows, a dict
        with ``"n"``, ``"coverage"`` and ``"width"`` (and ``"target_coverage"``
        for several targets). ``"bins"``: one dict per occupied label bin with
        ``"bin"`` (flat index), ``"range"`` (``[low, high]`` per target),
        ``"n"``, ``"coverage"`` and ``"width"``. ``"worst_bin"``: the bin of
        at least ``min_bin_size`` rows with the lowest coverage (``None`` when
        no bin is that large), with its ``"bin"``, ``"n"`` and ``"coverage"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.metrics import coverage_report
    >>> y = np.array([0.0, 0.1, 0.1, 0.2, 0.9])
    >>> intervals = np.stack([y - 0.05, y + 0.05], axis=1)
    >>> intervals[-1] = [0.0, 0.1]  # the rare one is missed
    >>> report = coverage_report(y, intervals)
    >>> report["coverage"], report["worst_bin"]["coverage"]
    (0.8, 0.0)
    """
    y_arr, arr = check_intervals(y, intervals)
    if isinstance(min_bin_size, bool) or not isinstance(min_bin_size, (int, np.integer)):
        raise ValueError(f"min_bin_size must be an integer >= 1, got {min_bin_size!r}.")
    if min_bin_size < 1:
        raise ValueError(f"min_bin_size must be an integer >= 1, got {min_bin_size!r}.")
    raw_y = np.asarray(y, dtype=np.float64)
    one = np.asarray(intervals).ndim == 2
    inside = (arr[..., 0] <= y_arr) & (y_arr <= arr[..., 1])  # (n, T)
    covered = inside.all(axis=1)
    widths = arr[..., 1] - arr[..., 0]
    density = label_density if label_density is not None else LabelDensity().fit(raw_y)
    check_fitted_density(density)
    if density.n_targets_ != y_arr.shape[1]:
        raise ValueError(
            f"label_density was fitted on {density.n_targets_} target(s) but y has "
            f"{y_arr.shape[1]}; pass the density of the training targets of all columns."
        )

    def summary(rows: NDArray[np.bool_] | slice) -> dict[str, Any]:
        mean = widths[rows].mean(axis=0)
        out: dict[str, Any] = {
            "n": int(covered[rows].size),
            "coverage": float(covered[rows].mean()),
            "width": float(mean[0]) if one else [float(v) for v in mean],
        }
        if not one:
            out["target_coverage"] = [float(v) for v in inside[rows].mean(axis=0)]
        return out

    report = summary(slice(None))
    regions = density.shot_regions(raw_y, many=many, few=few)
    report["regions"] = {
        name: summary(regions == name)
        for name in ("many", "medium", "few")
        if (regions == name).any()
    }
    flat = density.flat_bin_index(raw_y)
    report["bins"] = [
        {"bin": int(b), "range": _bin_ranges(density, int(b)), **summary(flat == b)}
        for b in np.unique(flat)
    ]
    large = [b for b in report["bins"] if b["n"] >= min_bin_size]
    worst = min(large, key=lambda b: b["coverage"]) if large else None
    report["worst_bin"] = (
        None
        if worst is None
        else {"bin": worst["bin"], "n": worst["n"], "coverage": worst["coverage"]}
    )
    return report


def _scorer_signature(y_true: ArrayLike, y_pred: ArrayLike) -> float:  # pragma: no cover
    """Stand-in score function: its signature tells sklearn the scorer takes no metadata."""
    raise NotImplementedError


class _IntervalScorer(_BaseScorer):
    """Coverage-penalised interval width; build it with :func:`make_interval_scorer`."""

    def __init__(
        self,
        alpha: float,
        penalty: float,
        coverage: str,
        min_region_size: int,
        label_density: LabelDensity | None,
    ) -> None:
        super().__init__(_scorer_signature, 1, {}, response_method="predict")
        self.alpha = alpha
        self.penalty = penalty
        self.coverage = coverage
        self.min_region_size = min_region_size
        self.label_density = label_density

    def __repr__(self) -> str:
        return (
            f"make_interval_scorer(alpha={self.alpha!r}, penalty={self.penalty!r}, "
            f"coverage={self.coverage!r})"
        )

    def _score(
        self, method_caller: Callable, estimator: Any, X: Any, y_true: ArrayLike, **kwargs: Any
    ) -> float:
        if kwargs:
            raise ValueError(
                f"{self!r} received metadata {sorted(kwargs)} but uses none; do not request "
                "it with set_score_request."
            )
        if not hasattr(estimator, "predict_interval"):
            raise ValueError(
                f"{self!r} scores intervals, but {type(estimator).__name__} has no "
                "predict_interval; wrap the model in skdir.conformal.ConformalDIRRegressor."
            )
        intervals = estimator.predict_interval(X, alpha=self.alpha)
        y_arr, arr = check_intervals(y_true, intervals)
        spread = y_arr.std(axis=0)
        spread = np.where(spread > 0, spread, 1.0)
        width = float(((arr[..., 1] - arr[..., 0]) / spread).mean())
        covered = _covered(y_arr, arr)
        coverage = float(covered.mean())
        if self.coverage == "worst_region":
            density = self.label_density
            if density is None:
                density = get_label_density(estimator)
            if density is None:
                raise ValueError(
                    f"{self!r} needs the training label density for shot regions; pass "
                    "make_interval_scorer(..., label_density=LabelDensity().fit(y_train)) "
                    "or use an estimator exposing label_density_ (ConformalDIRRegressor)."
                )
            regions = density.shot_regions(np.asarray(y_true, dtype=np.float64))
            for name in ("many", "medium", "few"):
                rows = regions == name
                if rows.sum() >= self.min_region_size:
                    coverage = min(coverage, float(covered[rows].mean()))
        shortfall = max(0.0, (1.0 - self.alpha) - coverage)
        return -(width + self.penalty * shortfall)


def make_interval_scorer(
    alpha: float = 0.1,
    *,
    penalty: float = 10.0,
    coverage: str = "all",
    min_region_size: int = 10,
    label_density: LabelDensity | None = None,
) -> _IntervalScorer:
    """Make a scorer of interval width penalised by missed coverage (greater is better).

    The score of a fitted model with ``predict_interval(X, alpha)`` (e.g.
    :class:`skdir.conformal.ConformalDIRRegressor`) on ``(X, y)`` is::

        -(mean_width / std(y) + penalty * max(0, (1 - alpha) - coverage))

    The width is divided by the standard deviation of the scored targets
    (per target, then averaged), so that it is scale-free; ``coverage`` is the
    joint coverage of all rows (``coverage="all"``) or the lowest coverage of
    the whole set and of the shot regions of the training density holding at
    least ``min_region_size`` scored rows (``"worst_region"``). With the default
    ``penalty=10`` one percentage point of coverage below the nominal level
    costs 0.1 standard deviations of width. Conformal intervals hold their
    coverage by construction, so the score mostly ranks models by width; the
    penalty punishes a model whose intervals under-cover in a region.

    Parameters
    ----------
    alpha : float, default=0.1
        Miscoverage rate the intervals are asked for.
    penalty : float, default=10.0
        Cost of one unit (100 percentage points) of coverage shortfall, in
        standard deviations of width; ``>= 0``.
    coverage : {"all", "worst_region"}, default="all"
        Which coverage is compared with ``1 - alpha``.
    min_region_size : int, default=10
        Smallest region counted by ``coverage="worst_region"``.
    label_density : LabelDensity or None, default=None
        Training density for the shot regions; ``None`` reads the fitted
        estimator's (``label_density_``, see
        :func:`skdir.metrics.get_label_density`).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``, usable as ``scoring=``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import cross_val_score
    >>> from skdir.conformal import ConformalDIRRegressor
    >>> from skdir.metrics import make_interval_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = X[:, 0] + rng.normal(scale=0.5, size=300)
    >>> model = ConformalDIRRegressor(Ridge(), random_state=0)
    >>> scores = cross_val_score(model, X, y, cv=3, scoring=make_interval_scorer(0.1))
    >>> bool(np.all(scores < 0))
    True
    """
    alpha = check_alpha(alpha)
    if not (isinstance(penalty, (int, float)) and np.isfinite(penalty) and penalty >= 0):
        raise ValueError(f"penalty must be a finite number >= 0, got {penalty!r}.")
    if coverage not in ("all", "worst_region"):
        raise ValueError(f"coverage must be 'all' or 'worst_region', got {coverage!r}.")
    if label_density is not None:
        check_fitted_density(label_density)
    return _IntervalScorer(alpha, float(penalty), coverage, int(min_region_size), label_density)
