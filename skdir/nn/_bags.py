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

from ..fragments import check_bags as check_fragment_bags

__all__ = ["bag_attention", "check_bags", "validate_bags"]


def check_bags(X: Any) -> NDArray[np.float32]:
    """Return bags as one NaN-padded float32 array, or raise a clear ``ValueError``.

    Parameters
    ----------
    X : list of array-like of shape (n_fragments_i, n_features), or array-like of \
shape (n_bags, max_fragments, n_features)
        Bags of fragments, validated by :func:`skdir.fragments.check_bags`: in the
        3-D form a row that is entirely NaN is padding; NaN or infinity in a
        fragment, a bag without fragments and bags of different widths are
        errors, as are values beyond float32's range.

    Returns
    -------
    padded : ndarray of shape (n_bags, max_fragments, n_features), float32
        The bags, padding rows (all NaN) after each bag's fragments.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.nn._bags import check_bags
    >>> check_bags([np.ones((2, 3)), np.zeros((1, 3))]).shape
    (2, 2, 3)
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    checked = check_fragment_bags(X)  # one set of rules for bags, in skdir.fragments
    with np.errstate(over="ignore"):  # overflow is reported below
        padded = np.asarray(checked, dtype=np.float32)
    if np.isinf(padded).any():
        raise ValueError(
            "X has values too large for float32, the networks' precision; rescale them."
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
