"""The shared machinery of :mod:`skdir.metrics`: how one metric is evaluated.

Every DIR metric of this package is one plain metric ``metric(y_true, y_pred,
sample_weight=None)`` evaluated per target column on a *selection*: the rows of a
shot region (unweighted), or all rows with bin-uniform weights (balanced), or all
rows. This module holds that evaluation, the selections, the weights, the
``multioutput`` averages (with the scale-free one) and the target spreads they
divide by, and the label-density helpers they read. Nothing here bins targets
itself: every bin comes from :class:`skdir.density.LabelDensity`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils.validation import check_is_fitted

from .._validation import as_real_array, check_target
from ..density import LabelDensity

#: Shot regions, in report order.
REGIONS = ("all", "many", "medium", "few")
#: The ``multioutput`` options of the metric functions (besides an array of weights).
MULTIOUTPUT = ("raw_values", "uniform_average", "scale_free")


class EmptyRegionWarning(UserWarning):
    """A shot region holds no test sample, so its metrics cannot be computed.

    :func:`shot_metrics`, :func:`dir_report` and the functions made by
    :func:`shot_error` then report the region with ``"n": 0`` and NaN metrics;
    the scorers of :func:`make_shot_scorer` score the balanced error over the
    occupied bins instead, so that cross-validation means and searches stay
    finite. Silence it with
    ``warnings.filterwarnings("ignore", category=EmptyRegionWarning)``.
    """


# ------------------------------------------------------------------- one metric
#: Why a metric is undefined on a selection: (reason, warning class, condition), e.g.
#: ("y_true is constant", ConstantInputWarning, "an input is constant").
Problem = tuple[str, type[Warning], str]


@dataclass(frozen=True)
class Metric:
    """A plain metric and what the DIR versions need to know about it.

    Parameters
    ----------
    func : callable
        ``func(y_true, y_pred, sample_weight=None) -> float`` on 1-D arrays (one
        target). It is called with ``sample_weight`` only for weighted selections
        (balanced versions), so a metric without that parameter still has shot
        versions.
    name : str
        Short name, e.g. ``"mae"`` or the function's ``__name__``.
    title : str
        Column title in reports and warnings, e.g. ``"MAE"``.
    greater_is_better : bool
        Direction of the metric; scorers negate lower-is-better ones.
    min_samples : int, default=1
        Fewest rows on which the metric is defined (2 for Pearson's r): a shot
        scorer falls back to the balanced error below it.
    diagnose : callable or None, default=None
        ``diagnose(y_true, y_pred) -> Problem | None``: why the metric is
        undefined (NaN) on a non-empty selection, to be warned once per call.
    """

    func: Callable[..., float]
    name: str
    title: str
    greater_is_better: bool
    min_samples: int = 1
    diagnose: Callable[[NDArray[np.float64], NDArray[np.float64]], Problem | None] | None = None


class Note(NamedTuple):
    """A place where a metric is undefined, to be warned by :func:`warn_notes`."""

    metric: str
    region: str | None
    target: int
    reason: str
    category: type[Warning]
    condition: str


#: Which rows of one target a metric sees, and with which weights (None: unweighted).
Selection = tuple[NDArray[np.bool_], NDArray[np.float64] | None]


def evaluate(
    metric: Metric,
    y_true: NDArray[np.float64],
    y_pred: NDArray[np.float64],
    selections: Sequence[Selection],
    *,
    scale: NDArray[np.float64] | None = None,
    notes: list[Note] | None = None,
    region: str | None = None,
) -> NDArray[np.float64]:
    """Evaluate ``metric`` per target column on its selection.

    ``y_true`` and ``y_pred`` have shape (n_samples, n_targets) and
    ``selections[k]`` says which rows of target ``k`` count, with which weights.
    With ``scale``, target ``k`` (true and predicted) is divided by ``scale[k]``
    before the metric sees it: the scale-free value. An empty selection gives NaN.
    Why the metric is undefined on a non-empty selection is appended to ``notes``,
    tagged with ``region``.
    """
    values = np.full(len(selections), np.nan)
    for k, (rows, weights) in enumerate(selections):
        if not rows.any():
            continue
        true, pred = y_true[rows, k], y_pred[rows, k]
        if metric.diagnose is not None and notes is not None:
            problem = metric.diagnose(true, pred)
            if problem is not None:
                notes.append(Note(metric.title, region, k, *problem))
        if scale is not None:
            true, pred = true / scale[k], pred / scale[k]
        if weights is None:
            value = metric.func(true, pred)
        else:
            value = metric.func(true, pred, sample_weight=weights)
        values[k] = _as_score(value, metric)
    return values


def _as_score(value: object, metric: Metric) -> float:
    try:
        score = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        score = None
    if score is None or score.shape != ():
        raise ValueError(
            f"The metric {metric.name!r} returned {value!r}; a metric must return one "
            "number for one target (it is called on 1-D y_true and y_pred)."
        )
    return float(score)


def warn_notes(notes: Sequence[Note], keys: Sequence[str], stacklevel: int) -> None:
    """Warn once per metric and warning class about the places where it is NaN.

    For Pearson's r this is scipy's ``ConstantInputWarning`` (a constant input) or
    its base class ``DegenerateDataWarning`` (fewer than two samples), as
    :func:`scipy.stats.pearsonr` warns.
    """
    groups: dict[tuple[str, type[Warning], str], list[str]] = {}
    for note in notes:
        where = [] if len(keys) == 1 else [keys[note.target]]
        if note.region is not None:
            where.append(f"region {note.region!r}")
        place = note.reason + (f" ({', '.join(where)})" if where else "")
        groups.setdefault((note.metric, note.category, note.condition), []).append(place)
    for (metric, category, condition), places in groups.items():
        name = "Pearson's correlation" if metric == "Pearson" else metric
        warnings.warn(
            f"{name} is not defined where {condition}, so it is NaN: " + "; ".join(places) + ".",
            category,
            stacklevel=stacklevel + 1,
        )


# ------------------------------------------------------------------- selections
def columns(y: NDArray[np.float64]) -> NDArray[np.float64]:
    """View targets as (n_samples, n_targets)."""
    return y.reshape(len(y), -1)


def all_rows(n_samples: int, n_targets: int) -> list[Selection]:
    """Every row of every target, unweighted."""
    every = np.ones(n_samples, dtype=bool)
    return [(every, None)] * n_targets


def region_rows(regions: NDArray[np.str_], region: str) -> list[Selection]:
    """Select the rows of each target whose shot region is ``region`` (all rows for "all")."""
    if region == "all":
        return all_rows(*regions.shape)
    return [(regions[:, k] == region, None) for k in range(regions.shape[1])]


def bin_uniform_weights(bins: NDArray[np.intp]) -> NDArray[np.float64]:
    """Weights that give every occupied bin the same total weight; they average 1.

    A sample of a bin holding ``n_b`` of the ``n`` samples, one of ``B`` occupied
    bins, weighs ``n / (B * n_b)``: every bin weighs ``n / B``, and a set that is
    already uniform over its bins gets weights 1.
    """
    _, inverse, counts = np.unique(bins, return_inverse=True, return_counts=True)
    return len(bins) / (len(counts) * counts[inverse])


def balanced_rows(bins: Sequence[NDArray[np.intp]]) -> list[Selection]:
    """Every row of each target, with bin-uniform weights from its bins."""
    return [(np.ones(len(b), dtype=bool), bin_uniform_weights(b)) for b in bins]


# --------------------------------------------------------------------- validation
def check_thresholds(many: float, few: float) -> None:
    """Check what the parameter constraints cannot: finite and ``few <= many``."""
    if not (math.isfinite(many) and math.isfinite(few) and few <= many):
        raise ValueError(
            f"Shot thresholds must be finite numbers with 0 <= few <= many, got few={few!r}, "
            f"many={many!r}; a bin with more than 'many' training targets is many-shot, one "
            "with fewer than 'few' is few-shot."
        )


def check_fitted_density(label_density: LabelDensity) -> LabelDensity:
    """Raise NotFittedError for a LabelDensity that was never fitted."""
    check_is_fitted(label_density, "counts_")
    return label_density


def check_sample_weight(sample_weight: ArrayLike | None, n_samples: int) -> NDArray | None:
    """Validate per-sample weights: finite, non-negative, one per row, positive sum."""
    if sample_weight is None:
        return None
    weights = as_real_array(sample_weight, "sample_weight")
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {weights.shape} but y_true has {n_samples} sample(s); "
            "give one weight per sample."
        )
    if not np.isfinite(weights).all() or (weights < 0).any() or not weights.sum() > 0:
        raise ValueError(
            "sample_weight must be finite and non-negative with a positive sum, got values "
            f"from {np.nanmin(weights):g} to {np.nanmax(weights):g}."
        )
    return weights


def region_rule(region: str, many: float, few: float) -> str:
    """Describe the training-bin counts of a shot region in words."""
    if region == "many":
        return f"more than {many:g} training targets per bin"
    if region == "few":
        return f"fewer than {few:g} training targets per bin"
    return f"{few:g} to {many:g} training targets per bin"


def warn_empty_regions(
    empty: Sequence[tuple[str, int]],
    keys: Sequence[str],
    n_samples: int,
    many: float,
    few: float,
    stacklevel: int,
) -> None:
    """Warn (EmptyRegionWarning) about (region, target) pairs without test samples."""
    if not empty:
        return
    places = "; ".join(
        f"{region!r} ({region_rule(region, many, few)})"
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


# ------------------------------------------------------------ label density helpers
def target_densities(label_density: LabelDensity, n_targets: int) -> list[LabelDensity]:
    """One fitted 1-D density per target: the density itself or its marginals."""
    density = check_fitted_density(label_density)
    if density.n_targets_ != n_targets:
        raise ValueError(
            f"label_density was fitted on {density.n_targets_} target(s) but y_true has "
            f"{n_targets}; fit the density on training targets with the same columns."
        )
    return [density] if n_targets == 1 else list(density.marginals_)


def resolve_density(
    label_density: LabelDensity | None,
    y_train: ArrayLike | None,
    n_targets: int,
    n_bins: int,
    bin_width: float | None,
) -> LabelDensity:
    """Return the training density: the one given, or one fitted on ``y_train``."""
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
        return check_fitted_density(label_density)
    y_train = check_target(y_train, name="y_train")
    train_targets = columns(y_train).shape[1]
    if train_targets != n_targets:
        raise ValueError(
            f"y_train has {train_targets} target(s) but y_true has {n_targets}; pass the "
            "training targets of the same columns."
        )
    return LabelDensity(n_bins=n_bins, bin_width=bin_width, ks=1).fit(y_train)


def shot_regions(
    y_true: NDArray[np.float64], label_density: LabelDensity, many: float, few: float
) -> NDArray[np.str_]:
    """Shot region per sample and target, shape (n_samples, n_targets)."""
    cols = columns(y_true)
    densities = target_densities(label_density, cols.shape[1])
    return np.stack(
        [d.shot_regions(cols[:, k], many, few) for k, d in enumerate(densities)], axis=1
    )


def balanced_bins(
    y_true: NDArray[np.float64],
    label_density: LabelDensity | None,
    n_bins: int,
    bin_width: float | None,
) -> list[NDArray[np.intp]]:
    """Bin every sample per target: by the density, else over ``y_true``'s range.

    Without a density each column of ``y_true`` is binned by
    ``LabelDensity(n_bins=n_bins, bin_width=bin_width, ks=1)``; a constant column
    lies in one bin whatever the binning.
    """
    cols = columns(y_true)
    if label_density is not None:
        densities = target_densities(label_density, cols.shape[1])
        return [d.bin_index(cols[:, k]) for k, d in enumerate(densities)]
    bins = []
    for column in cols.T:
        if np.ptp(column) == 0:
            bins.append(np.zeros(len(column), dtype=np.intp))
        else:
            density = LabelDensity(n_bins=n_bins, bin_width=bin_width, ks=1).fit(column)
            bins.append(density.bin_index(column))
    return bins


# ---------------------------------------------------------- multi-target averages
def histogram_std(edges: NDArray[np.float64], counts: NDArray[np.float64]) -> float:
    """Return the std of binned targets, each bin read as uniform over its width.

    With bin centres ``c_b``, widths ``w_b`` and shares ``p_b`` of the counts, the
    variance is ``sum p_b (c_b - mean)**2 + sum p_b w_b**2 / 12``: the spread
    between the bins plus the spread of a uniform distribution inside each.
    """
    low, high = edges[:-1], edges[1:]
    centres, widths = (low + high) / 2, np.abs(high - low)
    shares = counts / counts.sum()
    mean = shares @ centres
    return float(np.sqrt(shares @ (centres - mean) ** 2 + shares @ widths**2 / 12))


def density_spreads(
    label_density: LabelDensity,
    n_targets: int,
    inverse: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
) -> NDArray[np.float64]:
    """Each target's spread in a (training) label density: its :func:`histogram_std`.

    ``inverse`` maps the density's bin edges back to the units of ``y_true`` when
    the density describes transformed targets (a TransformedTargetRegressor).
    """
    densities = target_densities(label_density, n_targets)
    edges = [d.bin_edges_[0] for d in densities]
    if inverse is not None:
        edges = inverse_edges(edges, inverse)
    spreads = np.array(
        [histogram_std(e, d.counts_) for e, d in zip(edges, densities, strict=True)]
    )
    return check_spreads(spreads, "the training label density")


def inverse_edges(
    edges: list[NDArray[np.float64]],
    inverse: Callable[[NDArray[np.float64]], NDArray[np.float64]],
) -> list[NDArray[np.float64]]:
    """Map each target's bin edges through ``inverse`` (one call for all targets).

    The transformation must act on each target column on its own, as scalers,
    quantile and power transforms do: a transformation that mixes the columns has
    no per-target inverse of the edges, which is an error.
    """
    if len(edges) == 1:
        return [np.asarray(inverse(edges[0]), dtype=np.float64).reshape(-1)]
    size = max(len(e) for e in edges)
    grid = np.column_stack([np.pad(e, (0, size - len(e)), mode="edge") for e in edges])
    mapped = np.asarray(inverse(grid), dtype=np.float64)
    for k in range(grid.shape[1]):
        shuffled = grid.copy()
        for other in range(grid.shape[1]):
            if other != k:
                shuffled[:, other] = grid[::-1, other]
        if not np.allclose(np.asarray(inverse(shuffled))[:, k], mapped[:, k]):
            raise ValueError(
                "The label density was found behind a TransformedTargetRegressor whose "
                "transformer mixes the target columns, so its bins have no spread per target "
                "in the units of y. Pass the training density to the scorer "
                "(label_density=LabelDensity(...).fit(y_train)) or use "
                "multioutput='uniform_average'."
            )
    return [mapped[: len(e), k] for k, e in enumerate(edges)]


def sample_spreads(y_true: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each target's standard deviation over the scored samples."""
    return check_spreads(columns(y_true).std(axis=0), "y_true")


def check_spreads(spreads: NDArray[np.float64], source: str) -> NDArray[np.float64]:
    bad = np.flatnonzero(~(np.isfinite(spreads) & (spreads > 0)))
    if bad.size:
        raise ValueError(
            f"multioutput='scale_free' divides each target by its spread in {source}, but "
            f"target {int(bad[0])} has spread {spreads[bad[0]]:g} there (a constant target). "
            "Pass a label density fitted on training targets that vary, or use "
            "multioutput='uniform_average'."
        )
    return spreads


def scale_for(
    multioutput: object,
    label_density: LabelDensity | None,
    y_true: NDArray[np.float64],
    inverse: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
) -> NDArray[np.float64] | None:
    """Return the per-target divisors of ``multioutput="scale_free"`` (None otherwise).

    The spread of the label density the metric uses when it has one (the training
    targets), else the standard deviation of ``y_true``.
    """
    if not (isinstance(multioutput, str) and multioutput == "scale_free"):
        return None
    n_targets = columns(y_true).shape[1]
    if label_density is not None:
        return density_spreads(label_density, n_targets, inverse)
    return sample_spreads(y_true)


def aggregate(values: NDArray[np.float64], multioutput: object) -> float | NDArray[np.float64]:
    """Combine per-target values as scikit-learn's ``multioutput`` does.

    ``"scale_free"`` values were computed on scaled targets (:func:`scale_for`)
    and are averaged like ``"uniform_average"``.
    """
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return values
        if multioutput in ("uniform_average", "scale_free"):
            return float(np.mean(values))
        raise ValueError(
            f"multioutput must be one of {', '.join(map(repr, MULTIOUTPUT))} or an array of "
            f"one weight per target, got {multioutput!r}."
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
            f"multioutput must be one of {', '.join(map(repr, MULTIOUTPUT))} or an array of "
            f"{values.size} non-negative weight(s) with a positive sum (one per target), "
            f"got {multioutput!r}."
        )
    return float(np.average(values, weights=weights))
