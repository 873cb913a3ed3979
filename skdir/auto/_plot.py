"""plot_leaderboard: overall against balanced error of every candidate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..plotting import _legend_below

__all__ = ["plot_leaderboard"]


def plot_leaderboard(
    model: Any,
    ax: Any = None,
    *,
    annotate: bool = True,
    target_names: Sequence[str] | str | None = None,
) -> Any:
    """Plot every candidate's overall error against its balanced error.

    One point per candidate of the leaderboard (open circles: outside the
    overall-error constraint), the ensemble as a square, and the model used by
    ``predict`` marked with a star; the dashed line is the largest overall error
    the objective allowed. Points low and to the left are better on both; the
    spread along the line shows what the rare range costs in overall error.

    For two targets the leaderboard's ``all`` and ``balanced`` columns are
    scale-free averages over the targets. Without ``target_names`` that average
    is drawn on one Axes; with ``target_names`` each target gets its own panel
    from the per-target columns (``all_0``, ``balanced_0``, ...), in its own
    units, titled by its name (the overall limit applies to the average and is
    not drawn there).

    Parameters
    ----------
    model : AutoDIRRegressor or leaderboard
        A fitted :class:`~skdir.auto.AutoDIRRegressor` or its ``leaderboard_``.
    ax : matplotlib Axes, sequence of Axes, or None, default=None
        Where to draw (one Axes per panel); a new figure when None.
    annotate : bool, default=True
        Write each candidate's name next to its point.
    target_names : sequence of str, str or None, default=None
        Names of the targets: panel titles, and one panel per target for two
        targets.

    Returns
    -------
    ax : matplotlib Axes, or ndarray of Axes with one panel per target
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skdir.auto import AutoDIRRegressor, plot_leaderboard
    >>> from skdir.datasets import make_imbalanced_regression
    >>> X, y = make_imbalanced_regression(200, 5, random_state=0)
    >>> model = AutoDIRRegressor(candidates=["ridge", "ridge+lds"], n_folds=3,
    ...                          random_state=0).fit(X, y)
    >>> ax = plot_leaderboard(model, target_names=["y"])
    >>> ax.get_xlabel(), ax.get_title()
    ('overall error (mse, out-of-fold)', 'y')
    """
    import matplotlib.pyplot as plt

    from ..metrics._report import _target_keys

    board = getattr(model, "leaderboard_", model)
    limit = getattr(model, "overall_limit_", None)
    metric = getattr(model, "metric", "error")
    n_targets = 1
    while f"all_{n_targets}" in board:
        n_targets += 1
    names = None if target_names is None else _target_keys(target_names, n_targets)
    if names is not None and n_targets > 1:
        suffixes = [f"_{k}" for k in range(n_targets)]
        titles, limits = names, [None] * n_targets
        unit = ""
    else:
        suffixes = [""]
        titles = [None] if names is None else names
        limits = [limit]
        unit = ", scale-free mean of the targets" if n_targets > 1 else ""
    if ax is None:
        _, axes = plt.subplots(
            1, len(suffixes), figsize=(6 * len(suffixes), 4.5), layout="constrained"
        )
        axes = list(np.ravel(axes))
    else:
        axes = list(np.ravel(np.asarray(ax, dtype=object)))
        if len(axes) != len(suffixes):
            raise ValueError(
                f"ax holds {len(axes)} Axes but the plot has {len(suffixes)} panel(s) (one per "
                "target with target_names for two targets); pass that many Axes or ax=None."
            )
    for axis, suffix, title, panel_limit in zip(axes, suffixes, titles, limits, strict=True):
        _draw_board(axis, board, suffix, panel_limit, annotate)
        axis.set_xlabel(f"overall error ({metric}, out-of-fold{unit})")
        axis.set_ylabel(f"balanced error ({metric}, out-of-fold{unit})")
        if title is not None:
            axis.set_title(title)
    return axes[0] if len(axes) == 1 else np.asarray(axes, dtype=object)


def _draw_board(ax: Any, board: Any, suffix: str, limit: float | None, annotate: bool) -> None:
    """Draw one panel: the columns ``all<suffix>`` against ``balanced<suffix>``."""
    overall = np.asarray(board[f"all{suffix}"], dtype=float)
    balanced = np.asarray(board[f"balanced{suffix}"], dtype=float)
    names = np.asarray(board["name"])
    chosen = np.asarray(board["chosen"], dtype=bool)
    is_ensemble = names == "ensemble"
    feasible = np.asarray(board["feasible"]).astype(bool)
    single = ~is_ensemble
    ax.scatter(
        overall[single & feasible], balanced[single & feasible], color="C0", label="candidate"
    )
    ax.scatter(
        overall[single & ~feasible],
        balanced[single & ~feasible],
        facecolors="none",
        edgecolors="C0",
        label="candidate (overall error above the limit)",
    )
    ax.scatter(
        overall[is_ensemble],
        balanced[is_ensemble],
        marker="s",
        color="C1",
        label="greedy ensemble",
    )
    ax.scatter(
        overall[chosen],
        balanced[chosen],
        marker="*",
        s=300,
        facecolors="none",
        edgecolors="C3",
        linewidths=1.5,
        label="used by predict",
    )
    if limit is not None and np.isfinite(limit):
        ax.axvline(limit, color="grey", linestyle="--", linewidth=1, label="overall limit")
    if annotate:
        for name, x, y in zip(names, overall, balanced, strict=True):
            ax.annotate(str(name), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.margins(x=0.12, y=0.08)  # room for the names of the outermost points
    _legend_below(ax)
