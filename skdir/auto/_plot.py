"""plot_leaderboard: overall against balanced error of every candidate."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_leaderboard"]


def plot_leaderboard(model: Any, ax: Any = None, *, annotate: bool = True) -> Any:
    """Plot every candidate's overall error against its balanced error.

    One point per candidate of the leaderboard (open circles: outside the
    overall-error constraint), the ensemble as a square, and the model used by
    ``predict`` marked with a star; the dashed line is the largest overall error
    the objective allowed. Points low and to the left are better on both; the
    spread along the line shows what the rare range costs in overall error.

    Parameters
    ----------
    model : AutoDIRRegressor or leaderboard
        A fitted :class:`~skdir.auto.AutoDIRRegressor` or its ``leaderboard_``.
    ax : matplotlib Axes or None, default=None
        Where to draw; a new figure when None.
    annotate : bool, default=True
        Write each candidate's name next to its point.

    Returns
    -------
    ax : matplotlib Axes
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
    >>> ax = plot_leaderboard(model)
    >>> ax.get_xlabel()
    'overall error (mse, out-of-fold)'
    """
    import matplotlib.pyplot as plt

    board = getattr(model, "leaderboard_", model)
    limit = getattr(model, "overall_limit_", None)
    metric = getattr(model, "metric", "error")
    columns = {key: np.asarray(board[key]) for key in ("name", "all", "balanced", "feasible")}
    chosen = np.asarray(board["chosen"], dtype=bool)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    is_ensemble = columns["name"] == "ensemble"
    feasible = columns["feasible"].astype(bool)
    single = ~is_ensemble
    ax.scatter(
        columns["all"][single & feasible],
        columns["balanced"][single & feasible],
        color="C0",
        label="candidate",
    )
    ax.scatter(
        columns["all"][single & ~feasible],
        columns["balanced"][single & ~feasible],
        facecolors="none",
        edgecolors="C0",
        label="candidate (overall error above the limit)",
    )
    ax.scatter(
        columns["all"][is_ensemble],
        columns["balanced"][is_ensemble],
        marker="s",
        color="C1",
        label="greedy ensemble",
    )
    ax.scatter(
        columns["all"][chosen],
        columns["balanced"][chosen],
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
        for name, x, y in zip(columns["name"], columns["all"], columns["balanced"], strict=True):
            ax.annotate(str(name), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"overall error ({metric}, out-of-fold)")
    ax.set_ylabel(f"balanced error ({metric}, out-of-fold)")
    ax.legend(fontsize=7)
    return ax
