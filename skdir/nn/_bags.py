"""Validation of bags of fragments for bag modules (:class:`~skdir.nn.AttentionMIL`).

A bag is a 2-D array (fragments x features). Bags come as a list of such
arrays of varying length, or as one 3-D array ``(n_bags, max_fragments,
n_features)`` padded with all-NaN rows. Both become one NaN-padded float32
array, the form the bag modules take.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

__all__ = ["bag_attention", "check_bags", "validate_bags"]


def _pad(bags: list[Any]) -> NDArray[np.float32]:
    if len(bags) == 0:
        raise ValueError("X has no bags; pass at least one bag (a 2-D array).")
    arrays = []
    for i, bag in enumerate(bags):
        try:
            with np.errstate(over="ignore"):  # overflow is reported below as infinity
                array = np.asarray(bag, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Bag {i} is not a numeric 2-D array: {exc}") from exc
        if array.ndim != 2:
            raise ValueError(
                f"Bag {i} has shape {array.shape}; a bag must be 2-D (n_fragments, "
                "n_features). Use bag.reshape(1, -1) for a bag of one fragment."
            )
        arrays.append(array)
    widths = {a.shape[1] for a in arrays}
    if len(widths) > 1:
        first = arrays[0].shape[1]
        other = next(i for i, a in enumerate(arrays) if a.shape[1] != first)
        raise ValueError(
            f"Bags have different numbers of features: bag 0 has {first}, bag {other} has "
            f"{arrays[other].shape[1]}; every fragment needs the same columns."
        )
    empty = [i for i, a in enumerate(arrays) if len(a) == 0]
    if empty:
        raise ValueError(
            f"Bag(s) {empty[:10]} have no fragments; drop these samples or give every "
            "bag at least one fragment."
        )
    width = arrays[0].shape[1]
    padded = np.full((len(arrays), max(len(a) for a in arrays), width), np.nan, np.float32)
    for i, array in enumerate(arrays):  # one copy per bag, not per fragment
        padded[i, : len(array)] = array
    return padded


def check_bags(X: Any) -> NDArray[np.float32]:
    """Return bags as one NaN-padded float32 array, or raise a clear ``ValueError``.

    Parameters
    ----------
    X : list of array-like of shape (n_fragments_i, n_features), or array-like of \
shape (n_bags, max_fragments, n_features)
        Bags of fragments. In either form a row that is entirely NaN is padding;
        a row with some NaN is an error, as is infinity, a bag without fragments,
        and bags of different widths.

    Returns
    -------
    padded : ndarray of shape (n_bags, max_fragments, n_features), float32
        The bags, padding rows all NaN (in their original positions).

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.nn._bags import check_bags
    >>> check_bags([np.ones((2, 3)), np.zeros((1, 3))]).shape
    (2, 2, 3)
    """
    if isinstance(X, list | tuple) or (isinstance(X, np.ndarray) and X.dtype == object):
        padded = _pad(list(X))
    else:
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        shape = getattr(X, "shape", None)
        if shape is None or len(shape) != 3:
            shape_text = "unknown" if shape is None else tuple(shape)
            raise ValueError(
                f"Bag modules take bags: a list of 2-D arrays (n_fragments, n_features) or a "
                f"3-D array (n_bags, max_fragments, n_features) padded with NaN rows; got an "
                f"input of shape {shape_text}. For one fragment per sample pass X[:, None, :]."
            )
        try:
            with np.errstate(over="ignore"):  # overflow is reported below as infinity
                padded = np.asarray(X, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"X is not a numeric array of bags: {exc}") from exc
        if padded.shape[0] == 0:
            raise ValueError("X has no bags; pass at least one bag.")
        if padded.shape[1] == 0:
            raise ValueError("X has 0 fragments per bag; every bag needs at least one.")
    if padded.shape[2] == 0:
        raise ValueError("The bags have 0 features; pass fragments with at least one column.")
    if np.isinf(padded).any():
        raise ValueError(
            "X contains infinity (or values too large for float32); replace or drop them."
        )
    nan = np.isnan(padded)
    any_nan, all_nan = nan.any(axis=2), nan.all(axis=2)
    partial = np.argwhere(any_nan & ~all_nan)
    if len(partial):
        bag, fragment = partial[0]
        raise ValueError(
            f"Bag {bag}, fragment {fragment} has NaN in some but not all of its features "
            f"({len(partial)} such fragment(s)); all-NaN rows are padding, a real fragment "
            "must have no NaN. Impute or drop these fragments."
        )
    empty = np.flatnonzero(all_nan.all(axis=1))
    if len(empty):
        raise ValueError(
            f"Bag(s) {empty[:10].tolist()} have no fragments (all rows are NaN padding); "
            "drop these samples or give every bag at least one fragment."
        )
    return np.ascontiguousarray(padded)


def validate_bags(estimator: Any, X: Any, reset: bool) -> NDArray[np.float32]:
    """:func:`check_bags`, and set (``reset``) or check ``estimator.n_features_in_``."""
    padded = check_bags(X)
    n_features = padded.shape[2]
    if reset:
        estimator.n_features_in_ = n_features
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif n_features != estimator.n_features_in_:
        raise ValueError(
            f"The fragments have {n_features} features, but {type(estimator).__name__} was "
            f"fitted on fragments of {estimator.n_features_in_} features."
        )
    return padded


def bag_attention(
    module: torch.nn.Module, padded: NDArray[np.float32], batch_size: int, device: str
) -> NDArray[np.float64]:
    """Attention weights of ``module.attention`` on padded bags, in eval mode, by batch."""
    attention = getattr(module, "attention", None)
    if not callable(attention):
        raise ValueError(
            f"{type(module).__name__} has no attention(X) method; attention weights need "
            "module='attention_mil'."
        )
    step = len(padded) if batch_size == -1 else int(batch_size)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            chunks = [
                attention(torch.as_tensor(padded[i : i + step], device=device)).cpu()
                for i in range(0, len(padded), step)
            ]
    finally:
        module.train(was_training)
    return torch.cat(chunks).numpy().astype(np.float64)
