"""Region errors of out-of-fold predictions, the objective, and greedy ensemble selection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..density import LabelDensity

__all__ = ["REGION_KEYS", "RegionScorer", "greedy_ensemble", "stack_weights"]

REGION_KEYS = ("all", "many", "medium", "few", "balanced")


def _histogram_std(edges: NDArray[np.float64], counts: NDArray[np.float64]) -> float:
    """Return the standard deviation of binned targets, each bin read as uniform over its width.

    The spread that ``skdir.metrics``' ``multioutput="scale_free"`` divides by.
    """
    low, high = edges[:-1], edges[1:]
    centres, widths = (low + high) / 2, np.abs(high - low)
    shares = counts / counts.sum()
    mean = shares @ centres
    return float(np.sqrt(shares @ (centres - mean) ** 2 + shares @ widths**2 / 12))


class RegionScorer:
    """Errors of predictions of the training targets, overall, per shot region and balanced.

    The regions and bins come from ``label_density`` (per target: the density
    itself for one target, its ``marginals_`` for two), as in
    :func:`skdir.metrics.shot_metrics` and
    :func:`skdir.metrics.balanced_mean_squared_error`: a per-bin error is the mean
    error of the rows in that bin, the balanced error is the mean over occupied
    bins, a region's error the mean over its rows. For two targets the summary
    (``"all"``, ``"balanced"``, ...) is the scale-free average: each target's
    error divided by its spread in the density (squared for the MSE).
    """

    def __init__(
        self,
        y: NDArray[np.float64],
        label_density: LabelDensity,
        metric: str,
        many: float = 100,
        few: float = 20,
    ) -> None:
        self.y = y.reshape(len(y), -1)
        self.power = 2 if metric == "mse" else 1
        n_targets = self.y.shape[1]
        densities = [label_density] if n_targets == 1 else list(label_density.marginals_)
        self.bins: list[NDArray[np.intp]] = []
        self.counts: list[NDArray[np.float64]] = []
        self.masks: list[dict[str, NDArray[np.bool_]]] = []
        spreads = []
        for k, density in enumerate(densities):
            column = self.y[:, k]
            bins = np.asarray(density.bin_index(column)).reshape(-1)
            _, inverse = np.unique(bins, return_inverse=True)
            self.bins.append(inverse)
            self.counts.append(np.bincount(inverse).astype(np.float64))
            regions = density.shot_regions(column, many, few)
            self.masks.append({r: regions == r for r in ("many", "medium", "few")})
            spreads.append(_histogram_std(density.bin_edges_[0], density.counts_))
        self.scale = np.asarray(spreads) ** self.power if n_targets > 1 else np.ones(1)

    def table(self, prediction: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
        """Per-target errors ``{key: array of n_targets}`` for the keys of REGION_KEYS."""
        errors = np.abs(prediction.reshape(self.y.shape) - self.y) ** self.power
        out = {key: np.empty(self.y.shape[1]) for key in REGION_KEYS}
        for k in range(self.y.shape[1]):
            column = errors[:, k]
            out["all"][k] = column.mean()
            for region, mask in self.masks[k].items():
                out[region][k] = column[mask].mean() if mask.any() else np.nan
            per_bin = np.bincount(self.bins[k], weights=column) / self.counts[k]
            out["balanced"][k] = per_bin.mean()
        return out

    def summary(self, table: dict[str, NDArray[np.float64]]) -> dict[str, float]:
        """Return the scale-free average over targets of each key (one target: its value)."""
        return {key: float(np.mean(values / self.scale)) for key, values in table.items()}

    def scores(self, prediction: NDArray[np.float64]) -> dict[str, float]:
        """Summary errors of one prediction."""
        return self.summary(self.table(prediction))


def objective_value(
    objective: str | Callable,
    scores: dict[str, float],
    y: NDArray[np.float64],
    prediction: NDArray[np.float64],
) -> float:
    """Return the value to minimise: a summary error, or ``objective(y, prediction)``."""
    if callable(objective):
        return float(objective(y, prediction))
    return scores["all" if objective == "overall" else objective]


def greedy_ensemble(
    oof: NDArray[np.float64],
    scorer: RegionScorer,
    objective: str | Callable,
    y: NDArray[np.float64],
    limit: float,
    size: int,
) -> tuple[NDArray[np.float64], list[dict[str, Any]]]:
    """Greedy ensemble selection with replacement (Caruana et al., ICML 2004).

    Starts from the best single candidate whose overall error is within
    ``limit``, then adds, ``size - 1`` times, the candidate (repeats allowed)
    whose addition gives the lowest objective among the averages that stay
    within ``limit`` (the lowest overall error if none does). The result is the
    prefix with the lowest feasible objective (the earliest on ties); each
    candidate's weight is its share of that prefix.

    Parameters
    ----------
    oof : ndarray of shape (n_candidates, n_samples[, n_targets])
        Out-of-fold predictions of every candidate.
    scorer : RegionScorer
        Errors on the training targets.
    objective : str or callable
        What to minimise.
    y : ndarray
        Training targets (for a callable objective).
    limit : float
        Largest overall error allowed (``inf``: none).
    size : int
        Number of greedy steps (the ensemble's size before weights are read).

    Returns
    -------
    weights : ndarray of shape (n_candidates,)
        Weights summing to 1.
    path : list of dict
        Per step: the candidate added, the objective and overall error after it.
    """
    n_candidates = len(oof)
    singles = [scorer.scores(p) for p in oof]
    values = np.array(
        [objective_value(objective, s, y, p) for s, p in zip(singles, oof, strict=True)]
    )
    overall = np.array([s["all"] for s in singles])
    feasible = overall <= limit
    first = int(np.argmin(np.where(feasible, values, np.inf)))
    counts = np.zeros(n_candidates)
    counts[first] = 1
    total = oof[first].copy()
    path = [{"added": first, "objective": values[first], "all": overall[first]}]
    best_step, best_value = 0, values[first]
    best_counts = counts.copy()
    for step in range(1, size):
        trial_values = np.empty(n_candidates)
        trial_overall = np.empty(n_candidates)
        for c in range(n_candidates):
            average = (total + oof[c]) / (step + 1)
            scores = scorer.scores(average)
            trial_values[c] = objective_value(objective, scores, y, average)
            trial_overall[c] = scores["all"]
        ok = trial_overall <= limit
        pick = int(np.argmin(np.where(ok, trial_values, np.inf) if ok.any() else trial_overall))
        counts[pick] += 1
        total += oof[pick]
        path.append({"added": pick, "objective": trial_values[pick], "all": trial_overall[pick]})
        if ok[pick] and trial_values[pick] < best_value - 1e-12 * abs(best_value):
            best_step, best_value, best_counts = step, trial_values[pick], counts.copy()
    del best_step
    return best_counts / best_counts.sum(), path


def stack_weights(
    oof: NDArray[np.float64],
    scorer: RegionScorer,
    objective: str | Callable,
    y: NDArray[np.float64],
    limit: float,
    start: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Constrained stacking: simplex weights minimising the objective of the weighted average.

    Stacked regression with non-negative weights summing to one (Breiman, "Stacked
    regressions", Machine Learning 1996), fitted on the out-of-fold predictions for
    the selection objective under the same overall-error ``limit`` as the greedy
    selection, by sequential least squares (SLSQP) from ``start`` (the greedy
    weights, which are feasible). The objective is divided by its value at
    ``start`` so the tolerance does not depend on the targets' scale. Returns
    ``start`` when the solver finds nothing feasible and strictly better.

    Parameters
    ----------
    oof : ndarray of shape (n_candidates, n_samples[, n_targets])
        Out-of-fold predictions of every candidate.
    scorer : RegionScorer
        Errors on the training targets.
    objective : str or callable
        What to minimise.
    y : ndarray
        Training targets (for a callable objective).
    limit : float
        Largest overall error allowed (``inf``: none).
    start : ndarray of shape (n_candidates,)
        Feasible starting weights summing to 1.

    Returns
    -------
    weights : ndarray of shape (n_candidates,)
        Non-negative weights summing to 1.
    """
    from scipy.optimize import minimize

    def scores(weights: NDArray[np.float64]) -> tuple[float, float]:
        average = np.tensordot(weights, oof, axes=1)
        summary = scorer.scores(average)
        return objective_value(objective, summary, y, average), summary["all"]

    start_value, _ = scores(start)
    norm = start_value if start_value > 0 else 1.0
    constraints = [{"type": "eq", "fun": lambda w: np.sum(w) - 1.0}]
    if np.isfinite(limit):
        constraints.append({"type": "ineq", "fun": lambda w: 1.0 - scores(w)[1] / limit})
    result = minimize(
        lambda w: scores(w)[0] / norm,
        start,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * len(oof),
        constraints=constraints,
        options={"maxiter": 200, "ftol": 1e-9},
    )
    weights = np.clip(result.x, 0.0, None)
    if weights.sum() <= 0:
        return start
    weights = weights / weights.sum()
    value, overall = scores(weights)
    if overall > limit or value >= start_value:
        return start
    return weights
