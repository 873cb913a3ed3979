"""Shot-region breakdowns of a set of predictions: :func:`shot_metrics` and :func:`dir_report`."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils._param_validation import StrOptions, validate_params

from .._validation import check_target_pair
from ..density import LabelDensity
from ._base import (
    REGIONS,
    Metric,
    Note,
    balanced_bins,
    balanced_rows,
    check_thresholds,
    columns,
    density_spreads,
    evaluate,
    region_rows,
    resolve_density,
    shot_regions,
    warn_empty_regions,
    warn_notes,
)
from ._compose import BINNING_CONSTRAINTS, THRESHOLD_CONSTRAINTS
from ._regression import BUILTIN, METRICS, resolve_metric

#: How the "mean" entry of two targets combines them.
_MEAN_OPTIONS = [StrOptions({"uniform_average", "scale_free"})]
_REPORT_CONSTRAINTS = {
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "y_train": ["array-like", None],
    **THRESHOLD_CONSTRAINTS,
    **BINNING_CONSTRAINTS,
    "target_names": ["array-like", str, None],
    "multioutput": _MEAN_OPTIONS,
}
_Table = dict[str, dict[str, NDArray[np.float64]]]


def _target_keys(target_names: Sequence[str] | str | None, n_targets: int) -> list[str]:
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


def _resolve_metrics(metrics: object) -> dict[str, Metric]:
    """Metric names, or a mapping of keys to names or callables, as {key: Metric}."""
    if isinstance(metrics, str):
        metrics = (metrics,)
    items = list(metrics.items()) if isinstance(metrics, Mapping) else [(m, m) for m in metrics]
    if not items:
        raise ValueError(f"metrics is empty; choose at least one of {', '.join(METRICS)}.")
    resolved = {}
    for key, metric in items:
        if isinstance(metric, str) and metric not in BUILTIN:
            raise ValueError(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}.")
        if not (isinstance(metric, str) or callable(metric)):
            raise ValueError(
                f"metrics must hold metric names from {METRICS} or callables "
                f"metric(y_true, y_pred), got {metric!r}."
            )
        if not isinstance(key, str) or key in ("n", "n_bins"):
            raise ValueError(
                f"metric keys must be strings other than 'n' and 'n_bins', got {key!r}."
            )
        resolved[key] = resolve_metric(metric)
    return resolved


def _region_table(
    y_true: NDArray[np.float64],
    y_pred: NDArray[np.float64],
    regions: NDArray[np.str_],
    metrics: Mapping[str, Metric],
    notes: list[Note] | None,
    scale: NDArray[np.float64] | None = None,
) -> _Table:
    """Per region: each metric per target, and the counts ("n") per target."""
    table = {}
    for region in REGIONS:
        selections = region_rows(regions, region)
        values = {
            key: evaluate(
                metric, y_true, y_pred, selections, scale=scale, notes=notes, region=region
            )
            for key, metric in metrics.items()
        }
        values["n"] = np.array([rows.sum() for rows, _ in selections])
        table[region] = values
    return table


def _empty_regions(table: _Table) -> list[tuple[str, int]]:
    return [
        (region, int(k))
        for region in ("many", "medium", "few")
        for k in np.flatnonzero(table[region]["n"] == 0)
    ]


def _nest(table: _Table, keys: list[str], mean_table: _Table | None = None) -> dict[str, Any]:
    """Turn per-target arrays into the documented nested dict.

    The "mean" entry of several targets averages ``mean_table`` (the scale-free
    values) when given, else ``table``.
    """

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
    source = table if mean_table is None else mean_table
    nested["mean"] = {region: entry(values, None) for region, values in source.items()}
    return nested


def _mean_scale(
    multioutput: str, density: LabelDensity, n_targets: int
) -> NDArray[np.float64] | None:
    if multioutput == "scale_free" and n_targets > 1:
        return density_spreads(density, n_targets)
    return None


@validate_params(
    {**_REPORT_CONSTRAINTS, "metrics": [StrOptions(set(METRICS)), "array-like", dict]},
    prefer_skip_nested_validation=True,
)
def shot_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    y_train: ArrayLike | None = None,
    label_density: LabelDensity | None = None,
    many: float = 100,
    few: float = 20,
    metrics: Sequence[str] | Mapping[str, str | Callable] = METRICS,
    n_bins: int = 50,
    bin_width: float | None = None,
    target_names: Sequence[str] | None = None,
    multioutput: str = "uniform_average",
) -> dict[str, Any]:
    """Metrics over all test samples and per many/medium/few-shot region.

    A test sample's region is decided by the *training* count of its bin
    (:meth:`LabelDensity.shot_regions`): many-shot above ``many``, few-shot below
    ``few``, medium otherwise (the DIR benchmarks use 100 and 20; for a few
    hundred training samples use smaller thresholds). Metrics within a region are
    pooled over its samples, as in the official DIR evaluation: each number is
    the :func:`shot_error` version of its metric. A region without test samples
    gets ``"n": 0`` and NaN metrics, with an :class:`EmptyRegionWarning` naming it
    (a report shows the region as empty; the scorers of :func:`make_shot_scorer`
    fall back to the balanced error instead). Pearson is also NaN, with scipy's
    ``ConstantInputWarning`` or ``DegenerateDataWarning``, when a region holds
    fewer than two samples or a constant target or prediction.

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
    metrics : sequence of {"mae", "mse", "gm", "pearson"} or dict, default=all four
        Metrics to compute (see :func:`geometric_mean_error` for GM), or a dict of
        result keys to metric names or callables ``metric(y_true, y_pred)`` of your
        own (called on one target's rows of a region).
    n_bins : int, default=50
        Number of bins when the density is fitted on ``y_train``.
    bin_width : float or None, default=None
        Bin width instead of ``n_bins`` when the density is fitted on ``y_train``.
    target_names : sequence of str or None, default=None
        Keys of the targets for two targets; default ``"target_0"``, ``"target_1"``.
    multioutput : {"uniform_average", "scale_free"}, default="uniform_average"
        How the "mean" entry of two targets combines them: the mean of the raw
        values, or of each target's values computed on targets divided by their
        standard deviation in the training density (each bin read as uniform
        over its width), so that two targets on different scales weigh the same
        (Pearson's r and the counts are unchanged).

    Returns
    -------
    results : dict
        For one target (1-D ``y_true`` or a single column),
        ``{region: {metric: value, "n": count}}`` for the regions "all", "many",
        "medium" and "few". For two targets,
        ``{name_0: {...}, name_1: {...}, "mean": {...}}`` where each target's entry
        has the one-target layout and ``"mean"`` holds, per region, each metric
        averaged over the targets as ``multioutput`` says (NaN when it is NaN for
        a target) and ``"n"``, the number of (sample, target) pairs in the region.

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
    resolved = _resolve_metrics(metrics)
    check_thresholds(many, few)
    y_true, y_pred = check_target_pair(y_true, y_pred)
    t, p = columns(y_true), columns(y_pred)
    keys = _target_keys(target_names, t.shape[1])
    density = resolve_density(label_density, y_train, t.shape[1], n_bins, bin_width)
    regions = shot_regions(t, density, many, few)
    notes: list[Note] = []
    table = _region_table(t, p, regions, resolved, notes)
    scale = _mean_scale(multioutput, density, t.shape[1])
    mean_table = None if scale is None else _region_table(t, p, regions, resolved, None, scale)
    warn_empty_regions(_empty_regions(table), keys, len(t), many, few, stacklevel=3)
    warn_notes(notes, keys, stacklevel=3)
    return _nest(table, keys, mean_table)


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
    multioutput : str
        How the "mean" block of two targets combines them ("uniform_average" or
        "scale_free").
    """

    results: dict[str, Any]
    target_names: tuple[str, ...]
    many: float
    few: float
    multioutput: str = "uniform_average"
    _ROWS: ClassVar[tuple[str, ...]] = (*REGIONS, "balanced")

    def to_dict(self) -> dict[str, Any]:
        """Return the results as nested plain dicts (a deep copy).

        Returns
        -------
        results : dict
            For one target ``{row: {"n": ..., "mae": ..., "mse": ..., "gm": ...,
            "pearson": ...}`` with rows "all", "many", "medium", "few" and
            "balanced" (which also has ``"n_bins"``, the number of occupied
            bins); for two targets ``{name: {row: {...}, ..., "mean": {row: {...}}``.
        """
        return {key: _deep_copy(value) for key, value in self.results.items()}

    def _blocks(self) -> list[tuple[str | None, dict[str, Any]]]:
        if len(self.target_names) == 1:
            return [(None, self.results)]
        mean = "mean" if self.multioutput == "uniform_average" else "mean, scale-free"
        blocks: list[tuple[str | None, dict[str, Any]]] = [
            (key, self.results[key]) for key in self.target_names
        ]
        return [*blocks, (mean, self.results["mean"])]

    def __str__(self) -> str:
        titles = [BUILTIN[m].title for m in METRICS]
        header = f"{'':<9}{'n':>7}" + "".join(f"{title:>9}" for title in titles)
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
        if len(self.target_names) > 1 and self.multioutput == "scale_free":
            lines.append(
                "scale-free mean: each target divided by its standard deviation in the "
                "training density"
            )
        return "\n".join(lines)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    return value


@validate_params(_REPORT_CONSTRAINTS, prefer_skip_nested_validation=True)
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
    multioutput: str = "uniform_average",
) -> DIRReport:
    """Report MAE, MSE, GM and Pearson overall, per shot region and balanced.

    The rows "all", "many", "medium" and "few" are those of :func:`shot_metrics`.
    The "balanced" row weights the test samples so that every bin of the
    training density that holds test samples weighs the same (weight
    ``n / (B * n_b)`` for a sample of a bin with ``n_b`` of the ``n`` test
    samples, ``B`` occupied bins): each metric's :func:`balanced_error` version
    with that density (its MAE and MSE are
    :func:`balanced_mean_absolute_error` and :func:`balanced_mean_squared_error`,
    its GM the weighted geometric mean, its Pearson the weighted correlation);
    its ``n`` is the number of test samples and ``n_bins`` the number of occupied
    bins. Empty regions and undefined Pearson values are NaN and warned as in
    :func:`shot_metrics`.

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
    n_bins, bin_width : int and float or None, default=50 and None
        Number of bins, or their width, when the density is fitted on ``y_train``.
    multioutput : {"uniform_average", "scale_free"}, default="uniform_average"
        How the "mean" block of two targets combines them, as in
        :func:`shot_metrics`: the raw mean, or the scale-free one (each target
        divided by its standard deviation in the training density).

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
    check_thresholds(many, few)
    y_true, y_pred = check_target_pair(y_true, y_pred)
    t, p = columns(y_true), columns(y_pred)
    n_targets = t.shape[1]
    keys = _target_keys(target_names, n_targets)
    density = resolve_density(label_density, y_train, n_targets, n_bins, bin_width)
    notes: list[Note] = []
    regions = shot_regions(t, density, many, few)
    table = _region_table(t, p, regions, BUILTIN, notes)
    bins = balanced_bins(t, density, n_bins, bin_width)
    selections = balanced_rows(bins)
    scale = _mean_scale(multioutput, density, n_targets)
    mean_table = None
    tables = [(table, notes, None)]
    if scale is not None:
        mean_table = _region_table(t, p, regions, BUILTIN, None, scale)
        tables.append((mean_table, None, scale))
    for target_table, target_notes, target_scale in tables:
        balanced = {
            key: evaluate(
                metric, t, p, selections, scale=target_scale, notes=target_notes, region="balanced"
            )
            for key, metric in BUILTIN.items()
        }
        balanced["n"] = np.full(n_targets, len(t))
        target_table["balanced"] = balanced
    warn_empty_regions(_empty_regions(table), keys, len(t), many, few, stacklevel=3)
    warn_notes(notes, keys, stacklevel=3)
    results = _nest(table, keys, mean_table)
    occupied = [len(np.unique(b)) for b in bins]
    blocks = [results] if n_targets == 1 else [results[key] for key in keys]
    for block, count in zip(blocks, occupied, strict=True):
        block["balanced"]["n_bins"] = count
    if n_targets > 1:
        results["mean"]["balanced"]["n_bins"] = int(sum(occupied))
    return DIRReport(
        results=results, target_names=tuple(keys), many=many, few=few, multioutput=multioutput
    )
