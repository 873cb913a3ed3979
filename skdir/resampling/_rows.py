"""Vectorised row generators shared by the samplers: noise, interpolation, HEOM space."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["HEOMSpace", "check_categorical", "interpolated_rows", "noise_rows"]


def check_categorical(categorical_features: ArrayLike | None, n_features: int) -> NDArray[np.intp]:
    """Return the sorted indices of the nominal columns (empty if none)."""
    if categorical_features is None:
        return np.empty(0, dtype=np.intp)
    values = np.asarray(categorical_features).ravel()
    if values.dtype == bool:
        if len(values) != n_features:
            raise ValueError(
                f"A boolean categorical_features mask needs {n_features} entries (one per "
                f"column), got {len(values)}."
            )
        return np.flatnonzero(values)
    if values.size and not all(isinstance(v, Integral | np.integer) for v in values.tolist()):
        raise ValueError(
            "categorical_features must be column indices (integers) or a boolean mask, got "
            f"{categorical_features!r}; encode nominal columns as numbers first "
            "(e.g. sklearn.preprocessing.OrdinalEncoder)."
        )
    indices = np.unique(values.astype(np.intp))
    if indices.size and (indices[0] < -n_features or indices[-1] >= n_features):
        raise ValueError(
            f"categorical_features {indices.tolist()} out of range for {n_features} columns."
        )
    indices = np.unique(np.where(indices < 0, indices + n_features, indices))
    if len(indices) == n_features:
        raise ValueError(
            "Every column is listed in categorical_features; at least one numeric column is "
            "needed to interpolate or perturb rows."
        )
    return indices


class HEOMSpace:
    """A Euclidean embedding of the HEOM distance (Wilson & Martinez 1997).

    HEOM between two rows is the Euclidean norm of per-column distances:
    ``|a - b| / range`` on numeric columns and 0/1 overlap on nominal ones.
    Dividing numeric columns by their range and one-hot encoding nominal
    columns scaled by ``1/sqrt(2)`` gives vectors whose plain Euclidean distance
    *is* HEOM, so scikit-learn's ``NearestNeighbors`` can search it.
    """

    def __init__(self, X: NDArray, nominal: NDArray[np.intp]) -> None:
        self.nominal = nominal
        self.numeric = np.setdiff1d(np.arange(X.shape[1]), nominal)
        spread = np.ptp(X[:, self.numeric], axis=0).astype(np.float64)
        self.scale = np.where(spread > 0, 1.0 / np.where(spread > 0, spread, 1.0), 1.0)
        self.categories = [np.unique(X[:, c]) for c in nominal]

    def transform(self, X: NDArray) -> NDArray[np.float64]:
        """Return rows in the space where Euclidean distance equals HEOM."""
        parts = [X[:, self.numeric] * self.scale]
        for c, categories in zip(self.nominal, self.categories, strict=True):
            codes = np.searchsorted(categories, X[:, c])
            onehot = np.zeros((len(X), len(categories)))
            onehot[np.arange(len(X)), np.clip(codes, 0, len(categories) - 1)] = np.sqrt(0.5)
            parts.append(onehot)
        return np.hstack(parts)


def _column_sd(values: NDArray) -> NDArray[np.float64]:
    """Return the standard deviation along axis 0, ddof=1 (R's ``sd``); 0 for one row."""
    if len(values) < 2:
        return np.zeros(values.shape[1:])
    return np.std(values, axis=0, ddof=1, dtype=np.float64)


def noise_rows(
    X_segment: NDArray,
    y_segment: NDArray[np.float64],
    seeds: NDArray[np.intp],
    scale: NDArray[np.float64],
    nominal: NDArray[np.intp],
    rng: np.random.RandomState,
) -> tuple[NDArray, NDArray[np.float64]]:
    """Gaussian-noise copies of seed rows (the GN branch of SMOGN).

    Every numeric feature ``a`` of seed ``x`` becomes ``x_a + N(0, (scale *
    sd_b(a))^2)`` and each target ``y + N(0, (scale * sd_b(y))^2)``, where
    ``sd_b`` is the standard deviation within the segment and ``scale`` is given
    per new row. Nominal features are drawn from the segment's empirical
    frequencies (the value of a random segment row, per column).
    """
    n_new = len(seeds)
    scale = np.asarray(scale, dtype=np.float64).reshape(n_new, 1)
    X_new = X_segment[seeds] + (
        rng.standard_normal((n_new, X_segment.shape[1])) * (scale * _column_sd(X_segment))
    ).astype(X_segment.dtype, copy=False)
    y_cols = y_segment.reshape(len(y_segment), -1)
    y_new = y_cols[seeds] + rng.standard_normal((n_new, y_cols.shape[1])) * (
        scale * _column_sd(y_cols)
    )
    if nominal.size:
        donors = rng.randint(len(X_segment), size=(n_new, nominal.size))
        X_new[:, nominal] = X_segment[donors, nominal[np.newaxis, :]]
    return X_new, y_new.reshape((n_new, *y_segment.shape[1:]))


def interpolated_rows(
    X_segment: NDArray,
    y_segment: NDArray[np.float64],
    seeds: NDArray[np.intp],
    neighbours: NDArray[np.intp],
    nominal: NDArray[np.intp],
    space: HEOMSpace | None,
    rng: np.random.RandomState,
) -> tuple[NDArray, NDArray[np.float64], NDArray[np.float64]]:
    """SMOTER rows between each seed and its chosen neighbour (Torgo et al. 2013).

    ``x_new = x_i + u (x_j - x_i)`` with one ``u ~ U(0, 1)`` per row on numeric
    features; nominal features are copied from either parent with probability
    1/2. The target is the distance-weighted mean of the parents',
    ``y_new = (d2 y_i + d1 y_j) / (d1 + d2)`` with ``d1 = dist(x_new, x_i)``,
    ``d2 = dist(x_new, x_j)`` (Euclidean, or HEOM with nominal features); with
    numeric features only this is ``(1 - u) y_i + u y_j``. Identical parents
    give the mean of their targets.

    Returns ``(X_new, y_new, mixing)``: ``mixing = d1 / (d1 + d2)`` is the share
    of the neighbour in each new target, ``y_new = (1 - mixing) y_i + mixing
    y_j`` (``u`` itself with numeric features only).
    """
    x_i, x_j = X_segment[seeds], X_segment[neighbours]
    n_new = len(seeds)
    u = rng.uniform(size=n_new)
    X_new = x_i + (u[:, np.newaxis] * (x_j - x_i)).astype(X_segment.dtype, copy=False)
    if nominal.size:
        from_neighbour = rng.uniform(size=(n_new, nominal.size)) < 0.5
        X_new[:, nominal] = np.where(from_neighbour, x_j[:, nominal], x_i[:, nominal])
        assert space is not None
        numeric_gap = (x_j[:, space.numeric] - x_i[:, space.numeric]) * space.scale
        gap2 = np.einsum("ij,ij->i", numeric_gap, numeric_gap, dtype=np.float64)
        mismatch_i = np.sum(X_new[:, nominal] != x_i[:, nominal], axis=1)
        mismatch_j = np.sum(X_new[:, nominal] != x_j[:, nominal], axis=1)
        d1 = np.sqrt(u**2 * gap2 + mismatch_i)
        d2 = np.sqrt((1 - u) ** 2 * gap2 + mismatch_j)
    else:
        gap = np.sqrt(np.einsum("ij,ij->i", x_j - x_i, x_j - x_i, dtype=np.float64))
        d1, d2 = u * gap, (1 - u) * gap
    total = d1 + d2
    weight = np.divide(d1, total, out=np.full(n_new, 0.5), where=total > 0)
    y_i, y_j = y_segment[seeds], y_segment[neighbours]
    share = weight[:, np.newaxis] if y_segment.ndim == 2 else weight
    return X_new, y_i + share * (y_j - y_i), weight
