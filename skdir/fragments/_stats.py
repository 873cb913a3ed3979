"""Per-bag statistics of flat bags, vectorised: no loop over samples or fragments.

Every function takes the flat values ``(n_fragments_total, n_columns)``, the
bag lengths (all >= 1) and optional positive fragment weights, and returns
one row per bag. Sums (the mean) are one sparse (bags x fragments) product.
The other statistics work on blocks of bags of equal length ``k``, reshaped
to ``(bags, k, columns)`` and reduced along the fragments, so nothing is
padded and memory stays bounded; the only Python loop runs over the distinct
bag lengths (and blocks of at most ``_BLOCK_ELEMENTS`` numbers).

Weighted order statistics treat fragment ``j`` of a bag, in increasing order
of value, as covering the interval ``[W_{j-1}, W_j)`` of the bag's total
weight ``T`` (``W_j`` the cumulative weight). The median is the value at
``T / 2`` (the mean of the two neighbours when ``T / 2`` falls on a boundary);
the trimmed mean removes the weight intervals below ``trim * T`` and above
``(1 - trim) * T`` (cutting a fragment's interval in part when the boundary
falls inside it) and averages the rest; the winsorized mean gives the
removed weight the values at the two cut points instead. With equal weights
and an integer ``trim * n`` these are the textbook trimmed and winsorized
means (``scipy.stats.trim_mean``, ``scipy.stats.mstats.winsorize``); between
integers they interpolate.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ._bags import FlatBags

__all__ = [
    "bag_gem",
    "bag_max",
    "bag_mean",
    "bag_min",
    "bag_order_stat",
    "bag_std",
]

#: Numbers in one block of equal-length bags.
_BLOCK_ELEMENTS = 1 << 22
_TOLERANCE = 1e-12


def _weighted_sum(flat: FlatBags, values: NDArray, weights: NDArray | None) -> NDArray:
    """Per-bag (weighted) sums as one sparse (bags x fragments) product."""
    data = np.ones(len(values), values.dtype) if weights is None else weights.astype(values.dtype)
    indicator = sp.csr_array(
        (data, np.arange(len(values)), np.concatenate([[0], np.cumsum(flat.lengths)])),
        shape=(flat.n_bags, len(values)),
    )
    return np.asarray(indicator @ values)


def _total_weight(flat: FlatBags, weights: NDArray | None) -> NDArray:
    if weights is None:
        return flat.lengths.astype(np.float64)[:, None]
    return np.add.reduceat(weights, flat.starts)[:, None]


def bag_mean(flat: FlatBags, weights: NDArray | None = None) -> NDArray:
    """(Weighted) mean of each bag."""
    total = _total_weight(flat, weights).astype(flat.values.dtype)
    return _weighted_sum(flat, flat.values, weights) / total


def bag_std(flat: FlatBags, weights: NDArray | None = None) -> NDArray:
    """(Weighted) population standard deviation (``ddof=0``) of each bag, two-pass."""
    out = np.empty((flat.n_bags, flat.values.shape[1]), dtype=flat.values.dtype)
    for bags, rows in _blocks(flat):
        values = flat.values[rows]
        share = _block_shares(weights, rows, values.dtype)
        deviation = values - (values * share).sum(axis=1, keepdims=True)
        deviation *= deviation
        deviation *= share
        out[bags] = np.sqrt(deviation.sum(axis=1))
    return out


def _block_shares(weights: NDArray | None, rows: NDArray[np.intp], dtype: np.dtype) -> NDArray:
    """Each fragment's share of its bag's weight, ``(b, k, 1)``."""
    if weights is None:
        return np.full((1, rows.shape[1], 1), 1.0 / rows.shape[1], dtype=dtype)
    block = weights[rows]
    return (block / block.sum(axis=1, keepdims=True)).astype(dtype)[:, :, None]


def bag_min(flat: FlatBags) -> NDArray:
    """Smallest value of each bag."""
    out = np.empty((flat.n_bags, flat.values.shape[1]), dtype=flat.values.dtype)
    for bags, rows in _blocks(flat):
        out[bags] = flat.values[rows].min(axis=1)
    return out


def bag_max(flat: FlatBags) -> NDArray:
    """Largest value of each bag."""
    out = np.empty((flat.n_bags, flat.values.shape[1]), dtype=flat.values.dtype)
    for bags, rows in _blocks(flat):
        out[bags] = flat.values[rows].max(axis=1)
    return out


def _signed_power(values: NDArray, power: float) -> NDArray:
    """``sign(x) |x|**power``, by repeated products for small integer powers."""
    if float(power).is_integer() and 1 <= power <= 16:
        result = values.copy()
        for _ in range(int(power) - 2 + int(power) % 2):
            result *= values
        if int(power) % 2 == 0:
            result *= np.abs(values)
        return result
    result = np.abs(values) ** power
    result *= np.sign(values)
    return result


def bag_gem(flat: FlatBags, power: float, weights: NDArray | None = None) -> NDArray:
    """Generalized (power) mean with a sign-preserving power.

    ``f(x) = sign(x) |x|**p``, the bag's value is ``f^{-1}(mean f(x))``: the
    classic GeM ``(mean x**p)**(1/p)`` on non-negative values, a mean for
    ``p = 1``, and defined for negative embedding coordinates too.
    """
    mean = np.empty((flat.n_bags, flat.values.shape[1]), dtype=flat.values.dtype)
    for bags, rows in _blocks(flat):
        values = flat.values[rows]
        share = _block_shares(weights, rows, values.dtype)
        transformed = _signed_power(values, power)
        transformed *= share
        mean[bags] = transformed.sum(axis=1)
    if power == 3:
        return np.cbrt(mean)
    return np.sign(mean) * np.abs(mean) ** (1.0 / power)


def _blocks(flat: FlatBags) -> Iterator[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Yield groups of equal-length bags: (bag indices, fragment rows of shape (b, k)).

    A group holds at most about ``_BLOCK_ELEMENTS`` numbers, so no padding is
    needed and memory stays bounded.
    """
    n_columns = max(flat.values.shape[1], 1)
    starts = flat.starts
    for length in np.unique(flat.lengths):
        bags = np.flatnonzero(flat.lengths == length)
        step = max(1, _BLOCK_ELEMENTS // int(length * n_columns))
        for first in range(0, len(bags), step):
            chunk = bags[first : first + step]
            yield chunk, starts[chunk][:, None] + np.arange(length)


def _sorted_block(
    flat: FlatBags, weights: NDArray | None, rows: NDArray[np.intp]
) -> tuple[NDArray, NDArray]:
    """Values ``(b, k, c)`` sorted along the fragments, and their weights ``(b, k, c|1)``."""
    values = flat.values[rows]
    if weights is None:
        values.sort(axis=1)
        return values, np.ones((1, rows.shape[1], 1))
    order = np.argsort(values, axis=1, kind="stable")
    values = np.take_along_axis(values, order, axis=1)
    block_weights = np.broadcast_to(weights[rows][:, :, None], values.shape)
    return values, np.take_along_axis(block_weights, order, axis=1)


def _sorted_median(values: NDArray, weights: NDArray) -> NDArray:
    """Weighted median of sorted padded values ``(b, K, c)``, weights ``(b, K, c|1)``."""
    cumulative = np.broadcast_to(np.cumsum(weights, axis=1), values.shape)
    total = cumulative[:, -1:, :]
    half = total / 2
    index = np.argmax(cumulative >= half - _TOLERANCE * total, axis=1)[:, None, :]
    low = np.take_along_axis(values, index, axis=1)[:, 0, :]
    reached = np.take_along_axis(cumulative, index, axis=1)[:, 0, :]
    tie = np.abs(reached - half[:, 0, :]) <= _TOLERANCE * total[:, 0, :]
    upper = np.minimum(index + 1, values.shape[1] - 1)
    high = np.take_along_axis(values, upper, axis=1)[:, 0, :]
    return np.where(tie, (low + high) / 2, low)


def _sorted_trimmed(values: NDArray, weights: NDArray, trim: float, winsorize: bool) -> NDArray:
    """Weighted trimmed (or winsorized) mean of sorted values ``(b, k, c)``."""
    cumulative = np.cumsum(weights, axis=1)  # (b|1, k, c|1): no copy of the values' size
    total = cumulative[:, -1:, :]
    low_cut, high_cut = trim * total, (1 - trim) * total
    previous = cumulative - weights
    kept = np.clip(cumulative, low_cut, high_cut) - np.clip(previous, low_cut, high_cut)
    if kept.shape[0] == 1 and kept.shape[2] == 1:  # equal weights: one weight vector
        kept_sum = np.einsum("bkc,k->bc", values, kept[0, :, 0].astype(values.dtype))
        kept_sum = kept_sum.astype(np.float64)
    else:
        kept_sum = (values * kept).sum(axis=1)
    total = total[:, 0, :]
    if not winsorize:
        return kept_sum / ((1 - 2 * trim) * total)
    cumulative = np.broadcast_to(cumulative, values.shape)
    low_index = np.argmax(cumulative > low_cut + _TOLERANCE * total[:, None, :], axis=1)
    high_index = np.argmax(cumulative >= high_cut - _TOLERANCE * total[:, None, :], axis=1)
    low_value = np.take_along_axis(values, low_index[:, None, :], axis=1)[:, 0, :]
    high_value = np.take_along_axis(values, high_index[:, None, :], axis=1)[:, 0, :]
    return (kept_sum + trim * total * (low_value + high_value)) / total


def _sorted_huber(values: NDArray, weights: NDArray, delta: float, max_iter: int = 100) -> NDArray:
    """Huber M-estimate of location by iteratively reweighted means.

    Starts at the weighted median; the scale is the normalised weighted MAD
    (``1.4826 * MAD``). When the MAD is 0 (half the weight or more on one
    value) the estimate is the median, the limit of Huber's estimate as the
    scale goes to 0, so the influence of outliers stays bounded.
    """
    weights = np.broadcast_to(weights, values.shape)
    median = _sorted_median(values, weights)
    absolute = np.abs(values - median[:, None, :])
    order = np.argsort(np.where(weights > 0, absolute, np.inf), axis=1, kind="stable")
    mad = _sorted_median(
        np.take_along_axis(absolute, order, axis=1), np.take_along_axis(weights, order, axis=1)
    )
    scale = 1.482602218505602 * mad
    safe_scale = np.where(scale > 0, scale, 1.0)[:, None, :]
    location = median
    for _ in range(max_iter):
        residual = np.abs(values - location[:, None, :]) / safe_scale
        factor = np.minimum(1.0, delta / np.maximum(residual, 1e-300)) * weights
        updated = (factor * values).sum(axis=1) / factor.sum(axis=1)
        converged = np.abs(updated - location) <= 1e-10 * (np.abs(location) + scale + 1e-300)
        location = updated
        if converged.all():
            break
    return np.where(scale > 0, location, median)


def bag_order_stat(
    flat: FlatBags,
    name: str,
    *,
    weights: NDArray | None = None,
    trim: float = 0.1,
    huber_delta: float = 1.345,
) -> NDArray:
    """``"median"``, ``"trimmed"``, ``"winsorized"`` or ``"huber"`` of each bag (float64)."""
    out = np.empty((flat.n_bags, flat.values.shape[1]), dtype=np.float64)
    for bags, rows in _blocks(flat):
        values, sorted_weights = _sorted_block(flat, weights, rows)
        if name == "median" and weights is None:  # the middle one or two
            middle = values[:, [(rows.shape[1] - 1) // 2, rows.shape[1] // 2]]
            out[bags] = middle.astype(np.float64).mean(axis=1)
            continue
        if name == "huber":
            values = values.astype(np.float64)
        if name == "median":
            out[bags] = _sorted_median(values, sorted_weights)
        elif name == "huber":
            out[bags] = _sorted_huber(values, sorted_weights, huber_delta)
        else:
            out[bags] = _sorted_trimmed(
                values, sorted_weights, trim, winsorize=name == "winsorized"
            )
    return out
