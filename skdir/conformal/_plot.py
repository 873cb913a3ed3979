"""Figure of prediction intervals and their coverage over the target range (matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..density import LabelDensity
from ..metrics._intervals import check_alpha, check_intervals, coverage_report
from ..plotting import _pyplot


def plot_intervals(
    y: ArrayLike,
    intervals: ArrayLike,
    *,
    label_density: LabelDensity | None = None,
    alpha: float | None = None,
    target: int = 0,
    axes: Sequence[Any] | None = None,
    max_rows: int = 3000,
) -> Any:
    """Plot intervals against the true target, and coverage and width per label bin.

    The upper panel draws every row's interval (a vertical segment at its true
    target, grey when it covers the target, red when it misses; rows sharing a
    target value side by side) and the target itself; the lower panel the
    coverage of each occupied bin of the label density (bars, with the nominal
    ``1 - alpha`` as a dashed line) and the mean width per bin (line, right
    axis), so that the rare ranges where coverage falls or intervals widen
    stand out.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        True targets.
    intervals : array-like of shape (n_samples, 2) or (n_samples, n_targets, 2)
        Lower and upper bounds (e.g. ``ConformalDIRRegressor.predict_interval``).
    label_density : LabelDensity or None, default=None
        Fitted density of the training targets (one target) whose bins are
        used; ``None`` fits ``LabelDensity()`` on the plotted target.
    alpha : float or None, default=None
        Miscoverage rate the intervals were made for; draws ``1 - alpha``.
    target : int, default=0
        Which target to plot for several targets.
    axes : sequence of two matplotlib Axes or None, default=None
        Where to draw; ``None`` makes a new figure.
    max_rows : int, default=3000
        At most this many rows (an even subsample) in the upper panel.

    Returns
    -------
    axes : ndarray of two matplotlib Axes
        The interval panel and the per-bin panel.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skdir.conformal import plot_intervals
    >>> y = np.linspace(0, 1, 50)
    >>> axes = plot_intervals(y, np.stack([y - 0.1, y + 0.1], axis=1), alpha=0.1)
    >>> len(axes)
    2
    """
    y_arr, arr = check_intervals(y, intervals)
    if not 0 <= target < y_arr.shape[1]:
        raise ValueError(f"target must be in [0, {y_arr.shape[1] - 1}], got {target!r}.")
    level = None if alpha is None else 1 - check_alpha(alpha)
    column, bounds = y_arr[:, target], arr[:, target]
    density = label_density if label_density is not None else LabelDensity().fit(column)
    if density.n_targets_ != 1:
        raise ValueError(
            "label_density must be a density of the plotted target alone (one target)."
        )
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(8, 6), sharex=True, layout="constrained")
    axes = np.asarray(axes)
    top, bottom = axes
    order = np.argsort(column, kind="stable")
    if len(order) > max_rows:
        order = order[np.linspace(0, len(order) - 1, max_rows).astype(int)]
    yo, bo = column[order], bounds[order]
    hit = (bo[:, 0] <= yo) & (yo <= bo[:, 1])
    xo = _spread_ties(yo)
    for mask, colour, label in ((hit, "0.6", "covers"), (~hit, "tab:red", "misses")):
        if mask.any():
            top.vlines(
                xo[mask], bo[mask, 0], bo[mask, 1], colors=colour, lw=0.5, alpha=0.7, label=label
            )
    top.plot(yo, yo, color="k", lw=1, label="true target")
    top.set_ylabel("interval")
    top.legend(loc="upper left", fontsize="small")
    report = coverage_report(column, bounds, density)
    centres = np.array([np.mean(b["range"][0]) for b in report["bins"]])
    widths = np.array([b["range"][0][1] - b["range"][0][0] for b in report["bins"]])
    coverage = np.array([b["coverage"] for b in report["bins"]])
    bottom.bar(centres, coverage, width=widths * 0.9, color="tab:blue", alpha=0.6)
    if level is not None:
        bottom.axhline(level, color="k", ls="--", lw=1, label=f"nominal {level:g}")
        bottom.legend(loc="lower left", fontsize="small")
    bottom.set_ylim(0, 1.05)
    bottom.set_ylabel("coverage per bin")
    bottom.set_xlabel("true target")
    twin = bottom.twinx()
    twin.plot(centres, [b["width"] for b in report["bins"]], color="tab:orange", marker=".")
    twin.set_ylabel("mean width", color="tab:orange")
    top.set_title(
        f"coverage {report['coverage']:.3f}, mean width {report['width']:.3g}", fontsize="medium"
    )
    return axes


def _spread_ties(values: np.ndarray) -> np.ndarray:
    """Spread sorted tied values (integer or rounded targets) over +-40% of their grid step.

    So that the intervals of rows sharing a target are drawn side by side, not on top of
    each other.
    """
    unique, first, counts = np.unique(values, return_index=True, return_counts=True)
    if len(unique) == len(values) or len(unique) < 2:
        return values
    step = float(np.diff(unique).min())
    rank = np.arange(len(values)) - np.repeat(first, counts)  # position within its tie
    size = np.repeat(counts, counts)
    return values + step * 0.8 * ((rank + 0.5) / size - 0.5)
