"""Figures of label densities, sample weights and per-bin errors (matplotlib).

matplotlib is an optional dependency (``pip install "skdir[plot]"``); it is
imported only when a function is called. Every function takes an ``ax`` and
returns the Axes it drew on, like scikit-learn's Display objects. For two
targets, :func:`plot_label_density` and :func:`plot_sample_weights` draw one
2-D picture on one Axes, while :func:`plot_per_bin_error` and
:func:`plot_predicted_vs_true` draw one panel per target and return a NumPy
array of two Axes (``ax`` may then be a sequence of two Axes).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._validation import check_target, check_target_pair
from .density import LabelDensity

__all__ = [
    "plot_label_density",
    "plot_per_bin_error",
    "plot_predicted_vs_true",
    "plot_sample_weights",
]

_METRICS = ("mae", "mse")


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
        return _pyplot().subplots()[1]
    return ax


def _target_axes(ax: Any, n_targets: int) -> list[Any]:
    """One Axes per target: created when ``ax`` is None, else checked."""
    plt = _pyplot()
    if ax is None:
        if n_targets == 1:
            return [plt.subplots()[1]]
        return list(plt.subplots(1, n_targets, figsize=(5.0 * n_targets, 4.0))[1])
    axes = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != n_targets:
        raise ValueError(
            f"ax holds {len(axes)} Axes but y has {n_targets} target(s); pass one Axes per "
            "target (e.g. plt.subplots(1, 2)[1] for two targets) or ax=None."
        )
    return axes


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


def plot_label_density(
    y: ArrayLike, *, density: LabelDensity | None = None, ax: Any = None
) -> Any:
    """Plot the label histogram with the LDS-smoothed effective density over it.

    For one target, bars give the number of samples of ``y`` in each bin of
    ``density`` and a line gives the density's kernel-smoothed counts (its
    ``smoothed_counts_``, rescaled to ``len(y)`` samples): the effective label
    density that LDS weights invert. For two targets, a heat map of the smoothed
    joint counts (joint grid, or the product of the marginals with
    ``joint=False``) over the two targets' bins.

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
    ax = _single_axes(ax)
    scale = len(y) / density.n_samples_
    smoothed = density.smoothed_counts_ * scale
    if density.n_targets_ == 1:
        edges = density.bin_edges_[0]
        counts = np.bincount(density.bin_index(y), minlength=density.n_bins_[0]).astype(float)
        ax.bar(_centers(edges), counts, width=np.diff(edges), alpha=0.5, label="samples per bin")
        ax.plot(_centers(edges), smoothed, color="C3", lw=2, label="LDS-smoothed density")
        ax.set_xlabel("target")
        ax.set_ylabel("samples per bin")
        ax.legend()
        return ax
    first, second = density.bin_edges_
    mesh = ax.pcolormesh(first, second, smoothed.T, cmap="viridis", shading="flat")
    ax.figure.colorbar(mesh, ax=ax, label="smoothed samples per bin")
    ax.set_xlabel("target 0")
    ax.set_ylabel("target 1")
    ax.set_title("joint label density" if density.joint else "product of marginal densities")
    return ax


def plot_sample_weights(y: ArrayLike, weights: ArrayLike, *, ax: Any = None) -> Any:
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
    ax = _single_axes(ax)
    if y.ndim == 1 or y.shape[1] == 1:
        ax.scatter(y.reshape(-1), weights, s=12, alpha=0.7)
        ax.axhline(1.0, color="grey", ls="--", lw=1)
        ax.set_xlabel("target")
        ax.set_ylabel("sample weight")
        return ax
    points = ax.scatter(y[:, 0], y[:, 1], c=weights, s=12, cmap="viridis")
    ax.figure.colorbar(points, ax=ax, label="sample weight")
    ax.set_xlabel("target 0")
    ax.set_ylabel("target 1")
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
    y_pred: ArrayLike,
    *,
    y_train: ArrayLike | None = None,
    label_density: LabelDensity | None = None,
    metric: str = "mae",
    ax: Any = None,
    n_bins: int = 20,
    label: str | None = None,
    color: Any = None,
    show_counts: bool | None = None,
) -> Any:
    """Plot the error of the predictions in each target bin.

    The bins come from ``label_density`` (fitted on the training targets), else
    from ``LabelDensity(n_bins=n_bins, ks=1)`` fitted on ``y_train``, else on
    ``y_true``. A line with markers gives the mean absolute (``"mae"``) or squared
    (``"mse"``) error of the test samples in each bin that holds any; when
    training targets are known (``y_train`` or ``label_density``) the training
    count of each bin is drawn as grey bars on a twin y-axis, so that errors in
    sparse regions stand out.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, 2)
        True and predicted test targets.
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
        Legend label of the error line (default: the metric's name), so that
        several models can share one Axes.
    color : matplotlib colour or None, default=None
        Colour of the error line; ``None`` takes the Axes' next colour.
    show_counts : bool or None, default=None
        Draw the training counts as bars. ``None`` draws them when training
        targets are known; pass ``False`` for every model but the first when
        overlaying several models.

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
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {', '.join(_METRICS)}, got {metric!r}.")
    y_true, y_pred = check_target_pair(y_true, y_pred)
    true_cols = y_true.reshape(len(y_true), -1)
    pred_cols = y_pred.reshape(len(y_pred), -1)
    n_targets = true_cols.shape[1]
    if label_density is not None:
        check_is_fitted(label_density, "counts_")
        density = label_density
        counts_known = True
    else:
        reference = y_true if y_train is None else check_target(y_train, name="y_train")
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
    errors = np.abs(true_cols - pred_cols)
    if metric == "mse":
        errors = errors**2
    for k, (axis, marginal) in enumerate(zip(axes, marginals, strict=True)):
        edges = marginal.bin_edges_[0]
        centers = _centers(edges)
        bins = marginal.bin_index(true_cols[:, k])
        present, per_bin = _per_bin_error(errors[:, k], bins, marginal.n_bins_[0])
        axis.plot(
            centers[present],
            per_bin,
            marker="o",
            color=color,
            label=metric.upper() if label is None else label,
        )
        axis.set_xlabel("target" if n_targets == 1 else f"target {k}")
        axis.set_ylabel(f"{metric.upper()} per bin")
        if show_counts:
            twin = axis.twinx()
            twin.bar(centers, marginal.counts_, width=np.diff(edges), color="grey", alpha=0.3)
            twin.set_ylabel("training samples per bin")
            axis.set_zorder(twin.get_zorder() + 1)
            axis.patch.set_visible(False)
    return _result(axes)


def plot_predicted_vs_true(y_true: ArrayLike, y_pred: ArrayLike, *, ax: Any = None) -> Any:
    """Scatter the predictions against the true targets, with the diagonal.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, 2)
        True and predicted targets.
    ax : matplotlib Axes, sequence of two Axes, or None, default=None
        Where to draw (one Axes per target); ``None`` creates a figure.

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
    >>> ax = plot_predicted_vs_true([1.0, 2.0, 3.0], [1.5, 2.0, 2.0])
    >>> ax.lines[0].get_xdata().tolist()                 # the diagonal spans the data
    [1.0, 3.0]
    """
    y_true, y_pred = check_target_pair(y_true, y_pred)
    true_cols = y_true.reshape(len(y_true), -1)
    pred_cols = y_pred.reshape(len(y_pred), -1)
    axes = _target_axes(ax, true_cols.shape[1])
    for k, axis in enumerate(axes):
        axis.scatter(true_cols[:, k], pred_cols[:, k], s=12, alpha=0.6)
        low = float(min(true_cols[:, k].min(), pred_cols[:, k].min()))
        high = float(max(true_cols[:, k].max(), pred_cols[:, k].max()))
        axis.plot([low, high], [low, high], color="grey", ls="--", lw=1)
        suffix = "" if len(axes) == 1 else f" {k}"
        axis.set_xlabel(f"true target{suffix}")
        axis.set_ylabel(f"predicted target{suffix}")
    return _result(axes)
