"""Figures of label densities, sample weights and per-bin errors (matplotlib).

matplotlib is an optional dependency (``pip install "skdir[plot]"``); it is
imported only when a function is called. Every function takes an ``ax`` and
returns the Axes it drew on, like scikit-learn's Display objects, and a
``target_names`` list that labels the axes (``"target"``, or ``"target 0"`` and
``"target 1"``, by default). For two targets, :func:`plot_label_density` and
:func:`plot_sample_weights` draw one 2-D picture on one Axes, while
:func:`plot_per_bin_error` and :func:`plot_predicted_vs_true` draw one panel per
target and return a NumPy array of two Axes (``ax`` may then be a sequence of two
Axes). Figures made here use matplotlib's constrained layout, so that the labels
of side-by-side panels do not overlap.

Shot regions are drawn where the training counts are known: bins holding fewer
than ``few`` training samples are shaded as few-shot, those holding ``few`` to
``many`` as medium-shot (the DIR benchmarks' rule,
:meth:`skdir.density.LabelDensity.shot_regions`, with 100 and 20 by default).
Legends are placed where they cannot hide data: below the panel (one column on
a narrow panel, two on a wide one), except on the two-target heat map, where a
half-transparent legend takes matplotlib's least crowded spot. The label-density plot
keeps one far outlier from stretching its target axis: its limits are
:func:`skdir.density.robust_range` and the legend says how many samples lie
beyond them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._validation import check_target, check_target_pair
from .density import LabelDensity, robust_range
from .metrics._report import _target_keys

__all__ = [
    "plot_label_density",
    "plot_per_bin_error",
    "plot_predicted_vs_true",
    "plot_sample_weights",
]

_METRICS = ("mae", "mse")
#: Colour and opacity of the shading of the few- and medium-shot bins.
_REGION_STYLE = {"few": ("C3", 0.14), "medium": ("C1", 0.10)}
#: Distance from the bottom of an Axes to the top of a legend placed below it,
#: in points: room for the tick labels and the axis label.
_LEGEND_DROP_PT = 38.0
#: Narrowest Axes, in inches, whose legend below it gets two columns.
_TWO_COLUMNS_IN = 4.6


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "skdir.plotting needs matplotlib, an optional dependency; install it with "
            '`pip install "skdir[plot]"` (or `pip install matplotlib`).'
        ) from exc
    return plt


def _single_axes(ax: Any) -> Any:
    if ax is None:
        return _pyplot().subplots(layout="constrained")[1]
    return ax


def _target_axes(ax: Any, n_targets: int) -> list[Any]:
    """One Axes per target: created when ``ax`` is None, else checked."""
    plt = _pyplot()
    if ax is None:
        if n_targets == 1:
            return [plt.subplots(layout="constrained")[1]]
        _, axes = plt.subplots(1, n_targets, figsize=(5.5 * n_targets, 4.5), layout="constrained")
        return list(axes)
    axes = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != n_targets:
        raise ValueError(
            f"ax holds {len(axes)} Axes but y has {n_targets} target(s); pass one Axes per "
            "target (e.g. plt.subplots(1, 2)[1] for two targets) or ax=None."
        )
    return axes


def _names(target_names: Sequence[str] | str | None, n_targets: int) -> list[str]:
    """Axis labels of the targets: the given names, checked, or generic ones."""
    if target_names is None:
        return ["target"] if n_targets == 1 else [f"target {k}" for k in range(n_targets)]
    return _target_keys(target_names, n_targets)


def _result(axes: list[Any]) -> Any:
    return axes[0] if len(axes) == 1 else np.asarray(axes, dtype=object)


def _centers(edges: NDArray[np.float64]) -> NDArray[np.float64]:
    return (edges[:-1] + edges[1:]) / 2.0


def _fitted_density(density: LabelDensity | None, y: NDArray[np.float64]) -> LabelDensity:
    if density is None:
        return LabelDensity().fit(y)
    if not isinstance(density, LabelDensity):
        raise ValueError(
            f"density must be a skdir.density.LabelDensity or None, got {type(density).__name__}."
        )
    try:
        check_is_fitted(density, "counts_")
    except NotFittedError:
        return clone(density).fit(y)
    return density


def _shade_shot_regions(axis: Any, marginal: LabelDensity, many: float, few: float) -> None:
    """Shade the runs of few- and medium-shot bins of a one-target density.

    The region of a bin is :meth:`LabelDensity.shot_regions` of its centre (which
    also checks the thresholds); each run of neighbouring bins of one region is
    one shaded span, labelled once for the legend.
    """
    edges = marginal.bin_edges_[0]
    regions = marginal.shot_regions(_centers(edges), many=many, few=few)
    starts = np.flatnonzero(np.r_[True, regions[1:] != regions[:-1]])
    stops = np.r_[starts[1:], len(regions)]
    labelled = set()
    for start, stop in zip(starts, stops, strict=True):
        region = str(regions[start])
        if region == "many":
            continue
        colour, alpha = _REGION_STYLE[region]
        bound = f"< {few:g}" if region == "few" else f"{few:g}-{many:g}"
        axis.axvspan(
            edges[start],
            edges[stop],
            color=colour,
            alpha=alpha,
            lw=0,
            zorder=0,
            label=None if region in labelled else f"{region}-shot bins ({bound} training)",
        )
        labelled.add(region)


def _clip_note(
    axis: Any,
    values: NDArray[np.float64],
    which: str = "x",
    edges: NDArray[np.float64] | None = None,
) -> tuple[Any, str] | None:
    """Limit one axis of ``axis`` to ``robust_range(values)``; return a legend entry.

    Nothing changes (and None is returned) when no value lies beyond the robust
    range. Otherwise the limits become the robust range padded by 3 % and the
    returned (handle, label) says how many values lie beyond it and where the
    farthest is: "counted in the end bin" when the bin ``edges`` stop at the
    robust range (``LabelDensity``'s default ``bin_range="robust"``), "not
    shown" when the bins run further.
    """
    low, high = robust_range(values)
    below, above = values < low, values > high
    if not (below.any() or above.any()):
        return None
    pad = 0.03 * (high - low)
    (axis.set_xlim if which == "x" else axis.set_ylim)(low - pad, high + pad)
    parts = []
    if above.any():
        parts.append(f"{int(above.sum())} above {high:.3g} (max {values.max():.3g})")
    if below.any():
        parts.append(f"{int(below.sum())} below {low:.3g} (min {values.min():.3g})")
    in_end_bins = edges is not None and edges[0] >= low - pad and edges[-1] <= high + pad
    where = "in the end bins" if in_end_bins else "beyond the axis"
    handle = _pyplot().Line2D([], [], linestyle="none")
    return handle, f"{'; '.join(parts)}: {where}"


def plot_label_density(
    y: ArrayLike,
    *,
    density: LabelDensity | None = None,
    ax: Any = None,
    target_names: Sequence[str] | str | None = None,
    many: float = 100,
    few: float = 20,
    show_regions: bool = True,
    robust_limits: bool = True,
) -> Any:
    """Plot the label histogram with the LDS-smoothed effective density over it.

    For one target, bars give the number of samples of ``y`` in each bin of
    ``density`` and a line gives the density's kernel-smoothed counts (its
    ``smoothed_counts_``, rescaled to ``len(y)`` samples): the effective label
    density that LDS weights invert. The few- and medium-shot bins (by the
    density's training counts) are shaded and the two thresholds drawn as
    dotted horizontal lines (rescaled like the smoothed line; a threshold above
    the tallest bar is left out rather than squashing the bars). For two
    targets, a heat map of the smoothed joint counts (joint grid, or the product
    of the marginals with ``joint=False``) over the two targets' bins, with the
    ``few`` and ``many`` contours of the training counts.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, 2)
        Targets to histogram, usually the training targets.
    density : LabelDensity or None, default=None
        The density whose bins and smoothing are shown. ``None`` fits
        ``LabelDensity()`` on ``y``; an unfitted density is cloned and fitted on
        ``y``; a fitted one is used as is.
    ax : matplotlib Axes or None, default=None
        Axes to draw on; ``None`` creates a figure.
    target_names : sequence of str, str or None, default=None
        Name of each target, for the axis labels.
    many, few : float, default=100, 20
        Shot thresholds in training samples per bin (see
        :meth:`~skdir.density.LabelDensity.shot_regions`).
    show_regions : bool, default=True
        Draw the shot regions.
    robust_limits : bool, default=True
        Limit the target axes to :func:`~skdir.density.robust_range` of ``y``
        when some samples lie beyond it; the legend then counts them.

    Returns
    -------
    ax : matplotlib Axes
        For one target, ``ax.containers[0]`` holds the bars and ``ax.lines[0]``
        the smoothed counts; for two targets, ``ax.collections[0]`` is the heat map.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skdir.density import LabelDensity
    >>> from skdir.plotting import plot_label_density
    >>> y = np.array([0.5, 0.5, 1.5, 3.5])
    >>> ax = plot_label_density(y, density=LabelDensity(n_bins=4, bin_range=(0, 4)))
    >>> [float(bar.get_height()) for bar in ax.containers[0]]
    [2.0, 1.0, 0.0, 1.0]
    """
    y = check_target(y, max_targets=2)
    density = _fitted_density(density, y)
    columns = y.reshape(len(y), -1)
    if columns.shape[1] != density.n_targets_:
        raise ValueError(
            f"y has {columns.shape[1]} target(s) but density was fitted on {density.n_targets_}."
        )
    names = _names(target_names, density.n_targets_)
    ax = _single_axes(ax)
    scale = len(y) / density.n_samples_
    smoothed = density.smoothed_counts_ * scale
    extra = []
    if density.n_targets_ == 1:
        edges = density.bin_edges_[0]
        counts = np.bincount(density.bin_index(y), minlength=density.n_bins_[0]).astype(float)
        ax.bar(_centers(edges), counts, width=np.diff(edges), alpha=0.5, label="samples per bin")
        ax.plot(_centers(edges), smoothed, color="C0", lw=2, label="LDS-smoothed density")
        if show_regions:
            _shade_shot_regions(ax, density, many, few)
            top = max(counts.max(), smoothed.max())
            levels = [level for level in (few, many) if 0 < level * scale <= top]
            for n_drawn, level in enumerate(levels):
                ax.axhline(
                    level * scale,
                    color="0.35",
                    ls=":",
                    lw=1,
                    label=None if n_drawn else f"shot thresholds ({few:g}, {many:g})",
                )
        if robust_limits:
            extra = [note for note in [_clip_note(ax, columns[:, 0], edges=edges)] if note]
        ax.set_xlabel(names[0])
        ax.set_ylabel("samples per bin")
        _legend_below(ax, extra)
        return ax
    first, second = density.bin_edges_
    mesh = ax.pcolormesh(first, second, smoothed.T, cmap="viridis", shading="flat")
    ax.figure.colorbar(mesh, ax=ax, label="smoothed samples per bin")
    if show_regions:
        _shot_contours(ax, density, many, few)
    if robust_limits:
        extra = [
            note
            for note in (
                _clip_note(ax, columns[:, 0], "x", first),
                _clip_note(ax, columns[:, 1], "y", second),
            )
            if note
        ]
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title("joint label density" if density.joint else "product of marginal densities")
    if show_regions or extra:
        _legend_inside(ax, extra)
    return ax


def _shot_contours(ax: Any, density: LabelDensity, many: float, few: float) -> None:
    """Outline the few- and many-shot cells of a two-target density's bin grid.

    The region of a cell is :meth:`LabelDensity.shot_regions` of its centre (the
    joint count, or the count expected from the marginals with ``joint=False``);
    the contours lie between cells of different regions.
    """
    centers = [_centers(edges) for edges in density.bin_edges_]
    cells = np.stack(np.meshgrid(*centers, indexing="ij"), axis=-1).reshape(-1, 2)
    regions = density.shot_regions(cells, many=many, few=few)
    code = np.select([regions == "few", regions == "medium"], [0.0, 1.0], 2.0)
    grid = code.reshape(len(centers[0]), len(centers[1]))
    plt = _pyplot()
    styles = ((0.5, "C3", f"few-shot below {few:g}"), (1.5, "white", f"many-shot above {many:g}"))
    for level, colour, text in styles:
        if min(grid.shape) < 2 or not grid.min() < level < grid.max():
            continue
        ax.contour(*centers, grid.T, levels=[level], colors=[colour], linewidths=1.2)
        ax.add_line(plt.Line2D([], [], color=colour, lw=1.2, label=text))


def _legend_inside(ax: Any, extra: list[tuple[Any, str]]) -> None:
    """Legend at the least crowded spot, half transparent, with extra entries."""
    handles, labels = ax.get_legend_handles_labels()
    for handle, label in extra:
        handles.append(handle)
        labels.append(label)
    ax.legend(handles, labels, loc="best", framealpha=0.75, fontsize="small")


def plot_sample_weights(
    y: ArrayLike,
    weights: ArrayLike,
    *,
    ax: Any = None,
    target_names: Sequence[str] | str | None = None,
) -> Any:
    """Plot each sample's weight against its target.

    For one target, a scatter of ``(y, weight)`` with a dashed line at weight 1
    (the mean of density weights on their training targets). For two targets, a
    scatter of the two targets coloured by weight.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, 2)
        Targets.
    weights : array-like of shape (n_samples,)
        Their non-negative weights, e.g. from ``LDSWeighter().fit_transform(y)``.
    ax : matplotlib Axes or None, default=None
        Axes to draw on; ``None`` creates a figure.
    target_names : sequence of str, str or None, default=None
        Name of each target, for the axis labels.

    Returns
    -------
    ax : matplotlib Axes
        ``ax.collections[0]`` holds the points (offsets ``(y, weight)`` for one
        target; colour array ``weights`` for two).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skdir.plotting import plot_sample_weights
    >>> ax = plot_sample_weights([0.0, 1.0, 2.0], [0.5, 1.0, 1.5])
    >>> ax.collections[0].get_offsets()[:, 1].tolist()
    [0.5, 1.0, 1.5]
    """
    y = check_target(y, max_targets=2)
    weights = check_target(weights, name="weights", max_targets=1)
    weights = weights.reshape(-1)
    if len(weights) != len(y):
        raise ValueError(
            f"weights has {len(weights)} values but y has {len(y)} samples; pass one weight "
            "per sample."
        )
    if np.any(weights < 0):
        raise ValueError("weights must be non-negative.")
    columns = y.reshape(len(y), -1)
    names = _names(target_names, columns.shape[1])
    ax = _single_axes(ax)
    if columns.shape[1] == 1:
        ax.scatter(columns[:, 0], weights, s=12, alpha=0.7)
        ax.axhline(1.0, color="grey", ls="--", lw=1)
        ax.set_xlabel(names[0])
        ax.set_ylabel("sample weight")
        return ax
    points = ax.scatter(columns[:, 0], columns[:, 1], c=weights, s=12, cmap="viridis")
    ax.figure.colorbar(points, ax=ax, label="sample weight")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    return ax


def _per_bin_error(
    errors: NDArray[np.float64], bins: NDArray[np.intp], n_bins: int
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    counts = np.bincount(bins, minlength=n_bins)
    sums = np.bincount(bins, weights=errors, minlength=n_bins)
    present = np.flatnonzero(counts)
    return present, sums[present] / counts[present]


def plot_per_bin_error(
    y_true: ArrayLike,
    y_pred: ArrayLike | Mapping[str, ArrayLike],
    *,
    y_train: ArrayLike | None = None,
    label_density: LabelDensity | None = None,
    metric: str = "mae",
    ax: Any = None,
    n_bins: int = 20,
    label: str | None = None,
    color: Any = None,
    show_counts: bool | None = None,
    target_names: Sequence[str] | str | None = None,
    many: float = 100,
    few: float = 20,
    legend: bool = True,
) -> Any:
    """Plot the error of the predictions in each target bin.

    The bins come from ``label_density`` (fitted on the training targets), else
    from ``LabelDensity(n_bins=n_bins, ks=1)`` fitted on ``y_train``, else on
    ``y_true``. A line with markers gives the mean absolute (``"mae"``) or squared
    (``"mse"``) error of the test samples in each bin that holds any; when
    training targets are known (``y_train`` or ``label_density``) the training
    count of each bin is drawn as grey bars on a twin y-axis and the few- and
    medium-shot bins are shaded, so that errors in sparse regions stand out.
    The legend goes below the panel, where it hides no data.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, 2)
        True test targets.
    y_pred : array-like of the shape of ``y_true``, or mapping of str to such arrays
        Predicted test targets; a mapping ``{model name: predictions}`` draws
        one line per model (colours ``C0``, ``C1``, ...) on the same panels.
    y_train : array-like or None, default=None
        Training targets, for the bins and the count bars.
    label_density : LabelDensity or None, default=None
        A density fitted on the training targets (takes precedence over
        ``y_train``). For two targets its ``marginals_`` give each panel's bins.
    metric : {"mae", "mse"}, default="mae"
        Error per bin.
    ax : matplotlib Axes, sequence of two Axes, or None, default=None
        Where to draw (one Axes per target); ``None`` creates a figure.
    n_bins : int, default=20
        Number of bins when the density is fitted here.
    label : str or None, default=None
        Legend label of the error line (default: the metric's name), for one
        array of predictions; a mapping's keys are the labels.
    color : matplotlib colour or None, default=None
        Colour of the error line, for one array of predictions; ``None`` takes
        the Axes' next colour.
    show_counts : bool or None, default=None
        Draw the training counts as bars and shade the shot regions. ``None``
        draws them when training targets are known; pass ``False`` for every
        call but the first when overlaying models by repeated calls.
    target_names : sequence of str, str or None, default=None
        Name of each target, for the x-axis labels.
    many, few : float, default=100, 20
        Shot thresholds in training samples per bin (see
        :meth:`~skdir.density.LabelDensity.shot_regions`).
    legend : bool, default=True
        Draw the legend below each panel (every line on the panel, including
        those of earlier calls).

    Returns
    -------
    ax : matplotlib Axes, or ndarray of two Axes for two targets
        ``ax.lines[0]`` holds the per-bin errors (x = bin centres).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skdir.plotting import plot_per_bin_error
    >>> ax = plot_per_bin_error([0.0, 0.2, 1.0], [0.5, 0.2, 2.0], n_bins=2)
    >>> ax.lines[0].get_ydata().tolist()                 # bins [0, 0.5), [0.5, 1]
    [0.25, 1.0]
    >>> y_true = [[0.0, 5.0], [1.0, 7.0]]
    >>> models = {"A": [[0.5, 5.0], [1.0, 6.0]], "B": y_true}      # one line per model
    >>> axes = plot_per_bin_error(y_true, models, n_bins=2, target_names=["a", "b"])
    >>> [line.get_label() for line in axes[1].lines], axes[1].get_xlabel()
    (['A', 'B'], 'b')
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {', '.join(_METRICS)}, got {metric!r}.")
    if isinstance(y_pred, Mapping):
        if label is not None or color is not None:
            raise ValueError(
                "label and color name one line; with a mapping of predictions the keys are "
                "the labels and the colours are C0, C1, ...: leave label and color as None."
            )
        if not y_pred:
            raise ValueError("y_pred is an empty mapping; pass at least one model's predictions.")
        predictions = dict(y_pred)
        colours = [f"C{m}" for m in range(len(predictions))]
    else:
        predictions = {metric.upper() if label is None else label: y_pred}
        colours = [color]
    checked = [check_target_pair(y_true, pred) for pred in predictions.values()]
    true_cols = checked[0][0].reshape(len(checked[0][0]), -1)
    n_targets = true_cols.shape[1]
    names = _names(target_names, n_targets)
    if label_density is not None:
        check_is_fitted(label_density, "counts_")
        density = label_density
        counts_known = True
    else:
        reference = checked[0][0] if y_train is None else check_target(y_train, name="y_train")
        density = LabelDensity(n_bins=n_bins, ks=1).fit(reference)
        counts_known = y_train is not None
    if show_counts and not counts_known:
        raise ValueError(
            "show_counts=True needs the training targets: pass y_train or label_density."
        )
    show_counts = counts_known if show_counts is None else show_counts
    if density.n_targets_ != n_targets:
        raise ValueError(
            f"y_true has {n_targets} target(s) but the training density has {density.n_targets_}."
        )
    marginals = [density] if n_targets == 1 else density.marginals_
    axes = _target_axes(ax, n_targets)
    errors = []
    for _, pred in checked:
        error = np.abs(true_cols - pred.reshape(true_cols.shape))
        errors.append(error**2 if metric == "mse" else error)
    for k, (axis, marginal) in enumerate(zip(axes, marginals, strict=True)):
        edges = marginal.bin_edges_[0]
        centers = _centers(edges)
        bins = marginal.bin_index(true_cols[:, k])
        for name, error, colour in zip(predictions, errors, colours, strict=True):
            present, per_bin = _per_bin_error(error[:, k], bins, marginal.n_bins_[0])
            axis.plot(centers[present], per_bin, marker="o", color=colour, label=str(name))
        axis.set_xlabel(names[k])
        axis.set_ylabel(f"{metric.upper()} per bin")
        if show_counts:
            twin = axis.twinx()
            twin.bar(
                centers,
                marginal.counts_,
                width=np.diff(edges),
                color="grey",
                alpha=0.3,
                label="training samples per bin",
            )
            _shade_shot_regions(twin, marginal, many, few)
            twin.set_ylabel("training samples per bin")
            axis.set_zorder(twin.get_zorder() + 1)
            axis.patch.set_visible(False)
        if legend:
            _legend_below(axis)
    return _result(axes)


def _legend_below(axis: Any, extra: Sequence[tuple[Any, str]] = ()) -> None:
    """One legend below ``axis`` for its artists, those of its twin axes and ``extra``.

    Redrawn on every call, so that overlaid models collect in one legend. It
    hangs from the bottom of the Axes by a fixed distance in points (below the
    tick labels and the axis label), where it covers no data; the figure's
    layout engine (constrained or tight) makes room for it. Two columns when
    the Axes is at least :data:`_TWO_COLUMNS_IN` inches wide, else one, so that
    the legends of neighbouring panels do not run into each other.
    """
    from matplotlib.transforms import ScaledTranslation

    handles, labels = [], []
    for sibling in [axis, *axis.get_shared_x_axes().get_siblings(axis)]:
        for handle, text in zip(*sibling.get_legend_handles_labels(), strict=True):
            if text not in labels:
                handles.append(handle)
                labels.append(text)
    for handle, text in extra:
        handles.append(handle)
        labels.append(text)
    figure = axis.figure
    width = axis.get_position().width * figure.get_figwidth()
    drop = ScaledTranslation(0.0, -_LEGEND_DROP_PT / 72.0, figure.dpi_scale_trans)
    axis.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=axis.transAxes + drop,
        ncol=2 if width >= _TWO_COLUMNS_IN else 1,
        fontsize="small",
        frameon=False,
    )


def plot_predicted_vs_true(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    ax: Any = None,
    target_names: Sequence[str] | str | None = None,
) -> Any:
    """Scatter the predictions against the true targets, with the diagonal.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, 2)
        True and predicted targets.
    ax : matplotlib Axes, sequence of two Axes, or None, default=None
        Where to draw (one Axes per target); ``None`` creates a figure.
    target_names : sequence of str, str or None, default=None
        Name of each target, for the axis labels (``"true <name>"``,
        ``"predicted <name>"``).

    Returns
    -------
    ax : matplotlib Axes, or ndarray of two Axes for two targets
        ``ax.collections[0]`` holds the points ``(y_true, y_pred)`` and
        ``ax.lines[0]`` the diagonal ``y_pred = y_true``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skdir.plotting import plot_predicted_vs_true
    >>> ax = plot_predicted_vs_true([1.0, 2.0, 3.0], [1.5, 2.0, 2.0], target_names=["price"])
    >>> ax.lines[0].get_xdata().tolist(), ax.get_xlabel()   # the diagonal spans the data
    ([1.0, 3.0], 'true price')
    """
    y_true, y_pred = check_target_pair(y_true, y_pred)
    true_cols = y_true.reshape(len(y_true), -1)
    pred_cols = y_pred.reshape(len(y_pred), -1)
    names = _names(target_names, true_cols.shape[1])
    axes = _target_axes(ax, true_cols.shape[1])
    for k, axis in enumerate(axes):
        axis.scatter(true_cols[:, k], pred_cols[:, k], s=12, alpha=0.6)
        low = float(min(true_cols[:, k].min(), pred_cols[:, k].min()))
        high = float(max(true_cols[:, k].max(), pred_cols[:, k].max()))
        axis.plot([low, high], [low, high], color="grey", ls="--", lw=1)
        axis.set_xlabel(f"true {names[k]}")
        axis.set_ylabel(f"predicted {names[k]}")
    return _result(axes)
