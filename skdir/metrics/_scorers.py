"""scikit-learn scorers of balanced and shot-region metrics, for cross-validation and searches."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics._scorer import _BaseScorer
from sklearn.utils._param_validation import StrOptions, validate_params

from .._validation import check_target, check_target_pair
from ..density import LabelDensity
from ._base import (
    REGIONS,
    EmptyRegionWarning,
    Metric,
    Note,
    Selection,
    aggregate,
    balanced_bins,
    balanced_rows,
    bin_uniform_weights,
    check_fitted_density,
    check_thresholds,
    columns,
    density_spreads,
    evaluate,
    region_rule,
    sample_spreads,
    shot_regions,
    target_densities,
    warn_notes,
)
from ._compose import BINNING_CONSTRAINTS, METRIC_CONSTRAINT, THRESHOLD_CONSTRAINTS
from ._density import _SUB_ESTIMATORS, get_label_density
from ._regression import resolve_metric

#: ``multioutput`` of the scorers: "auto" is "scale_free" for several targets.
_SCORER_MULTIOUTPUT = [StrOptions({"auto", "uniform_average", "scale_free"}), "array-like"]


def _scorer_signature(y_true: ArrayLike, y_pred: ArrayLike) -> float:  # pragma: no cover
    """Stand-in score function: its signature tells sklearn the scorer takes no metadata."""
    raise NotImplementedError


class _DIRScorer(_BaseScorer):
    """Scorer for shot-region and balanced metrics; build it with the ``make_*`` functions."""

    def __init__(
        self,
        kind: str,
        metric: str | Callable,
        greater_is_better: bool | None,
        label_density: LabelDensity | None,
        multioutput: str | ArrayLike,
        *,
        region: str | None = None,
        many: float = 100,
        few: float = 20,
        n_bins: int = 20,
        bin_width: float | None = None,
    ) -> None:
        if label_density is not None:
            check_fitted_density(label_density)
        self.kind = kind
        self.metric = metric
        self.greater_is_better = greater_is_better
        self._metric: Metric = resolve_metric(metric, greater_is_better)
        sign = 1 if self._metric.greater_is_better else -1
        super().__init__(_scorer_signature, sign, {}, response_method="predict")
        self.region = region
        self.label_density = label_density
        self.many = many
        self.few = few
        self.n_bins = n_bins
        self.bin_width = bin_width
        self.multioutput = multioutput

    def __repr__(self) -> str:
        if isinstance(self.metric, str):
            metric = repr(self.metric)
        else:
            metric = self._metric.name
            metric += f", greater_is_better={self._metric.greater_is_better}"
        extra = "" if self.label_density is None else ", label_density=LabelDensity(...)"
        if not (isinstance(self.multioutput, str) and self.multioutput == "auto"):
            extra += f", multioutput={self.multioutput!r}"
        if self.kind == "shot":
            return (
                f"make_shot_scorer(metric={metric}, region={self.region!r}, "
                f"many={self.many!r}, few={self.few!r}{extra})"
            )
        binning = (
            f"n_bins={self.n_bins!r}"
            if self.bin_width is None
            else f"bin_width={self.bin_width!r}"
        )
        return f"make_balanced_scorer(metric={metric}, {binning}{extra})"

    def _multioutput_for(self, n_targets: int) -> str | ArrayLike:
        """``"auto"``: scale-free for several targets, the plain average for one."""
        if isinstance(self.multioutput, str) and self.multioutput == "auto":
            return "scale_free" if n_targets > 1 else "uniform_average"
        return self.multioutput

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
        t, p = columns(y_true), columns(y_pred)
        multioutput = self._multioutput_for(t.shape[1])
        scale_free = isinstance(multioutput, str) and multioutput == "scale_free"
        if self.kind == "balanced":
            bins = balanced_bins(t, self.label_density, self.n_bins, self.bin_width)
            selections = balanced_rows(bins)
            scale = None
            if scale_free:
                scale = (
                    sample_spreads(t)
                    if self.label_density is None
                    else density_spreads(self.label_density, t.shape[1])
                )
            region = "balanced"
        else:
            selections, scale = self._shot_selections(estimator, t, scale_free)
            region = self.region
        notes: list[Note] = []
        values = evaluate(self._metric, t, p, selections, scale=scale, notes=notes, region=region)
        warn_notes(notes, [f"target {k}" for k in range(t.shape[1])], stacklevel=4)
        return self._sign * float(aggregate(values, multioutput))

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

    def _shot_selections(
        self, estimator: object, y_true: NDArray[np.float64], scale_free: bool
    ) -> tuple[list[Selection], NDArray[np.float64] | None]:
        """Select the region's rows per target, the balanced fallback where too few.

        Also the scale-free divisors: the spreads of the training density, mapped
        back to the units of ``y_true`` through a TransformedTargetRegressor's
        transformer when the density lies behind one.
        """
        n_samples, n_targets = y_true.shape
        density, transform = self._density_of(estimator, n_targets)
        transformed = transform is not None and bool(transform.ttrs)
        region_y = (
            check_target(transform(y_true), name="transformed y_true") if transformed else y_true
        )
        region_y = columns(region_y)
        scale = None
        if scale_free:
            scale = density_spreads(density, n_targets, transform.inverse if transformed else None)
        if self.region == "all":
            masks = np.ones((n_samples, n_targets), dtype=bool)
        else:
            masks = shot_regions(region_y, density, self.many, self.few) == self.region
        selections: list[Selection] = [(masks[:, k], None) for k in range(n_targets)]
        counts = masks.sum(axis=0)
        short = np.flatnonzero(counts < self._metric.min_samples)
        if short.size:
            densities = target_densities(density, n_targets)
            occupied = []
            for k in short:
                bins = densities[k].bin_index(region_y[:, k])
                selections[k] = (np.ones(n_samples, dtype=bool), bin_uniform_weights(bins))
                occupied.append(len(np.unique(bins)))
            self._warn_fallback(counts, short, occupied, n_samples)
        return selections, scale

    def _warn_fallback(
        self,
        counts: NDArray[np.intp],
        short: NDArray[np.intp],
        occupied: list[int],
        n_samples: int,
    ) -> None:
        rule = region_rule(self.region, self.many, self.few)  # type: ignore[arg-type]
        for k, bins in zip(short, occupied, strict=True):
            target = f" of target {k}" if len(counts) > 1 else ""
            needs = "Pearson's r" if self._metric.title == "Pearson" else "the metric"
            held = (
                "none"
                if counts[k] == 0
                else f"{counts[k]}, fewer than the {self._metric.min_samples} that {needs} needs,"
            )
            warnings.warn(
                f"The {self.region!r}-shot region{target} ({rule}) holds {held} of the "
                f"{n_samples} test rows scored here, so {self!r} scores the balanced "
                f"{self._metric.title} over the {bins} training bin(s) that "
                "hold test rows instead (every occupied bin weighs the same) and the score "
                "stays finite. In cross-validation, lower few/many, use fewer folds, or "
                "stratify the folds by target to keep the region in every test fold.",
                EmptyRegionWarning,
                stacklevel=6,
            )


@validate_params(
    {
        "metric": METRIC_CONSTRAINT,
        "region": [StrOptions(set(REGIONS))],
        "greater_is_better": ["boolean", None],
        "label_density": [LabelDensity, None],
        **THRESHOLD_CONSTRAINTS,
        "multioutput": _SCORER_MULTIOUTPUT,
    },
    prefer_skip_nested_validation=True,
)
def make_shot_scorer(
    metric: str | Callable = "mae",
    region: str = "few",
    *,
    greater_is_better: bool | None = None,
    label_density: LabelDensity | None = None,
    many: float = 100,
    few: float = 20,
    multioutput: str | ArrayLike = "auto",
) -> _DIRScorer:
    """Make a scorer of a metric over one shot region, for ``cross_val_score`` and searches.

    The regions come from the *training* label density: the scorer asks the
    fitted estimator for it (:func:`get_label_density`, which walks into
    TransformedTargetRegressor, pipelines, searches and, recursively, fitted
    sub-estimators such as the members of a ``VotingRegressor`` or
    ``StackingRegressor``), so that in cross-validation each fold's regions come
    from that fold's training targets; if the estimator has none, the
    ``label_density`` given here is used; with neither, scoring raises a
    ``ValueError`` that says how to pass one. For two targets the metric is
    computed per target over that target's region and averaged scale-free (see
    ``multioutput``). Lower-is-better metrics (MAE, MSE, GM, and callables
    unless ``greater_is_better=True``) are negated, like scikit-learn's
    ``neg_mean_absolute_error``; Pearson is not. The 100/20 thresholds suit
    training sets of thousands; with a few hundred samples nearly every bin is
    few-shot, so lower them.

    **An empty region.** When no test sample of the scored rows (a test fold)
    falls in the region (for Pearson: fewer than two), the region's metric does
    not exist. The scorer then warns with an :class:`EmptyRegionWarning` naming
    the region and the number of test rows, and scores the *balanced* metric over
    the training bins that hold test rows instead: every such bin weighs the
    same, as in :func:`dir_report`'s "balanced" row (for two targets, only the
    target whose region is empty falls back); a callable metric then gets
    ``sample_weight``. The score stays finite, so ``cross_val_score`` means and
    searches keep working; such a fold measures the balanced error rather than
    the region's, which the warning says. Pearson is NaN, with scipy's
    ``ConstantInputWarning``, when the target or the prediction is constant over
    the scored rows.

    The scorer consumes and requests no metadata; see the notes on metadata
    routing in :mod:`skdir.metrics`.

    Parameters
    ----------
    metric : {"mae", "mse", "gm", "pearson"} or callable, default="mae"
        A built-in metric, or any ``metric(y_true, y_pred, sample_weight=None)``
        returning one number for 1-D arrays (one target), e.g.
        :func:`sklearn.metrics.median_absolute_error` or your own.
    region : {"all", "many", "medium", "few"}, default="few"
        Shot region to score.
    greater_is_better : bool or None, default=None
        Whether a higher value of a callable ``metric`` is better. ``None``
        takes a built-in metric's direction, and treats a callable as an error
        (``False``: scores are negated).
    label_density : LabelDensity or None, default=None
        Fallback training density for estimators that expose none.
    many : float, default=100
        Training-bin counts above this are many-shot.
    few : float, default=20
        Training-bin counts below this are few-shot.
    multioutput : {"auto", "uniform_average", "scale_free"} or array-like, default="auto"
        How the targets' values are combined. ``"scale_free"`` divides each
        target (true and predicted) by its standard deviation in the *training*
        density the regions come from (each bin read as uniform over its width;
        through a TransformedTargetRegressor, the bin edges are mapped back to the
        units of ``y``), so that no test target enters the scale and two targets
        on different scales weigh the same. ``"auto"`` is ``"scale_free"`` for
        two targets and the plain value for one. ``"uniform_average"`` averages the
        raw values (the larger-scale target dominates); an array weights them.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``; a scikit-learn scorer object.

    See Also
    --------
    shot_error : The shot-region version of a metric, as a function.

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
    check_thresholds(many, few)
    return _DIRScorer(
        "shot",
        metric,
        greater_is_better,
        label_density,
        multioutput,
        region=region,
        many=many,
        few=few,
    )


@validate_params(
    {
        "metric": METRIC_CONSTRAINT,
        "greater_is_better": ["boolean", None],
        **BINNING_CONSTRAINTS,
        "multioutput": _SCORER_MULTIOUTPUT,
    },
    prefer_skip_nested_validation=True,
)
def make_balanced_scorer(
    metric: str | Callable = "mae",
    *,
    greater_is_better: bool | None = None,
    label_density: LabelDensity | None = None,
    n_bins: int = 20,
    bin_width: float | None = None,
    multioutput: str | ArrayLike = "auto",
) -> _DIRScorer:
    """Make a scorer of the balanced (bin-uniform) version of a metric.

    **Where the bins come from.** From the scorer, never from the estimator:
    the bins of ``label_density`` when one is given (fitted on training
    targets: the same bins for every fold), else bins of the scored fold's own
    targets, each target on its own: ``LabelDensity(n_bins=n_bins,
    bin_width=bin_width, ks=1)`` fitted on them, that is ``n_bins`` equal-width
    bins (or bins of ``bin_width``) over their robust range
    (:func:`skdir.density.robust_range`: the minimum to the maximum, except that
    isolated extremes beyond the quantile fences join the end bins). So the
    scorer needs no training targets and scores every model of a fold on the
    same bins; unlike the shot scorers (:func:`make_shot_scorer`), it does not
    read the training density stored in the fitted estimator. See
    :func:`balanced_error` for the weighting. Lower-is-better metrics are
    negated (``greater_is_better=False``). It consumes and requests no metadata
    (see the notes on metadata routing in :mod:`skdir.metrics`).

    Parameters
    ----------
    metric : {"mae", "mse", "gm", "pearson"} or callable, default="mae"
        A built-in metric, or any ``metric(y_true, y_pred, sample_weight=None)``
        that honours ``sample_weight`` and returns one number for 1-D arrays (one
        target).
    greater_is_better : bool or None, default=None
        Whether a higher value of a callable ``metric`` is better. ``None``
        takes a built-in metric's direction, and treats a callable as an error
        (``False``: scores are negated).
    label_density : LabelDensity or None, default=None
        Fitted (training) density whose bins are used instead of the test fold's.
    n_bins : int, default=20
        Number of equal-width bins over the robust range of the scored targets
        (when ``label_density`` is None).
    bin_width : float or None, default=None
        Bin width instead of ``n_bins``.
    multioutput : {"auto", "uniform_average", "scale_free"} or array-like, default="auto"
        How the targets' values are combined. ``"scale_free"`` divides each
        target (true and predicted) by its spread before the metric and averages,
        so that two targets on different scales weigh the same: the standard
        deviation of the training targets in ``label_density`` when one is given,
        else of the scored fold's targets, the same for every model scored on the
        fold (the bins come from that fold too). ``"auto"`` is ``"scale_free"`` for
        two targets and the plain value for one. ``"uniform_average"`` averages the
        raw values (the larger-scale target dominates); an array weights them.

    Returns
    -------
    scorer : callable
        A scikit-learn scorer object, called as ``scorer(estimator, X, y)``: the
        estimator's predictions for ``X`` are scored against ``y``, binned as above.

    See Also
    --------
    balanced_error : The balanced version of a metric, as a function.

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

    One isolated extreme does not stretch the bins: 101 targets in ``[0, 1]`` and
    a 50 are binned over the robust range ``[0, 1.74]``, so the bins are
    ``[0, 0.87)`` (88 targets, mean error 0.435) and ``[0.87, 1.74]`` (13 targets
    and the 50 joining it, mean error 4.444), not ``[0, 25)`` and ``[25, 50]``:

    >>> y = np.r_[np.linspace(0.0, 1.0, 101), 50.0]
    >>> X = np.zeros((len(y), 1))
    >>> model = DummyRegressor(strategy="constant", constant=0.0).fit(X, y)
    >>> round(make_balanced_scorer("mae", n_bins=2)(model, X, y), 4)  # -(0.435 + 4.444) / 2
    -2.4396
    """
    return _DIRScorer(
        "balanced",
        metric,
        greater_is_better,
        label_density,
        multioutput,
        n_bins=n_bins,
        bin_width=bin_width,
    )


#: Negated few-shot MAE, regions from the estimator's training density (100/20 rule);
#: a fold without few-shot test rows scores the balanced MAE, with an EmptyRegionWarning.
few_shot_mae_scorer = make_shot_scorer("mae", "few")
#: Negated few-shot MSE, regions from the estimator's training density (100/20 rule);
#: a fold without few-shot test rows scores the balanced MSE, with an EmptyRegionWarning.
few_shot_mse_scorer = make_shot_scorer("mse", "few")
#: Negated balanced MAE over 20 bins of the scored fold's targets (their robust range).
balanced_mae_scorer = make_balanced_scorer("mae")
#: Negated balanced MSE over 20 bins of the scored fold's targets (their robust range).
balanced_mse_scorer = make_balanced_scorer("mse")
