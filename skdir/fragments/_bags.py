"""Bags of fragments: validation and the flat form every fragment statistic works on.

A bag is a 2-D array (fragments x features). ``X`` holds bags as a list (or
tuple, or object array) of 2-D arrays whose lengths may differ, or as a 3-D
array ``(n_bags, max_fragments, n_features)`` whose all-NaN rows are padding.
The bags of a list may be DataFrames, all with the same columns: their column
names become the feature names (``feature_names_in_``) of the estimators.
Internally bags are one flat ``(n_fragments_total, n_features)`` array, bag
after bag, plus the bag lengths: every statistic is a segment reduction over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.validation import _get_feature_names

from .._validation import _holds_complex

__all__ = ["FlatBags", "bags_from_flat", "check_bags", "flat_bags", "is_bag_input"]


@dataclass
class FlatBags:
    """Bags stored flat: ``values[starts[i] : starts[i] + lengths[i]]`` is bag ``i``."""

    values: NDArray[np.floating]
    lengths: NDArray[np.intp]
    #: The first bag when the bags are DataFrames (its columns name the features), else None.
    template: Any = None

    @property
    def starts(self) -> NDArray[np.intp]:
        """Index of the first fragment of each bag."""
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.intp)

    @property
    def owner(self) -> NDArray[np.intp]:
        """Bag index of every fragment."""
        return np.repeat(np.arange(len(self.lengths)), self.lengths)

    @property
    def n_bags(self) -> int:
        """Number of bags."""
        return len(self.lengths)


def is_bag_input(X: Any) -> bool:
    """Whether ``X`` is bags (list of 2-D arrays or a 3-D array) rather than a 2-D table.

    A list whose first item has more than two dimensions, and an array of more
    than three, count as (malformed) bags, so that the bag validation names the
    problem instead of a table check asking for two dimensions.
    """
    if isinstance(X, list | tuple) or (isinstance(X, np.ndarray) and X.dtype == object):
        if len(X) == 0:
            return True
        try:
            return np.ndim(X[0]) >= 2
        except ValueError:  # a ragged nested list: let the bag checks describe it
            return True
    ndim = getattr(X, "ndim", None)
    if ndim is None and hasattr(X, "shape"):
        ndim = len(X.shape)
    return ndim is not None and ndim >= 3


def _is_frame(bag: Any) -> bool:
    """Whether a bag is a 2-D DataFrame (an object with named ``columns``)."""
    return (
        hasattr(bag, "columns")
        and getattr(bag, "ndim", 2) == 2
        and not isinstance(bag, np.ndarray)
    )


def _frame_template(bags: list[Any]) -> Any:
    """Return the first bag if the bags are DataFrames with one set of columns, else None.

    Raises a ``ValueError`` when DataFrames and arrays are mixed or the columns differ:
    the features of every fragment must mean the same thing.
    """
    frames = [_is_frame(bag) for bag in bags]
    if not any(frames):
        return None
    if not all(frames):
        array_bag = frames.index(False)
        frame_bag = frames.index(True)
        raise ValueError(
            f"Bag {frame_bag} is a DataFrame with named columns but bag {array_bag} is a "
            f"{type(bags[array_bag]).__name__}; give all bags as DataFrames with the same "
            "columns, or all as arrays."
        )
    columns = list(bags[0].columns)
    for i, bag in enumerate(bags):
        if list(bag.columns) != columns:
            raise ValueError(
                f"Bag {i} has columns {list(bag.columns)[:10]} but bag 0 has {columns[:10]}; "
                "every bag needs the same columns in the same order (e.g. "
                "bag[bags[0].columns])."
            )
    _get_feature_names(bags[0])  # raises scikit-learn's TypeError for mixed name types
    return bags[0]


def _float_dtype(dtype: np.dtype) -> type:
    return np.float32 if dtype == np.float32 else np.float64


def _check_finite_rows(values: NDArray, lengths: NDArray[np.intp], where: str) -> None:
    if np.isfinite(values.sum(axis=1)).all():  # one pass, no mask of the values' size
        return
    finite = np.isfinite(values)
    if finite.all():  # the row sums overflowed, the values are finite
        return
    row = int(np.flatnonzero(~finite.all(axis=1))[0])
    bag = int(np.searchsorted(np.cumsum(lengths), row, side="right"))
    fragment = row - int(np.cumsum(lengths)[bag] - lengths[bag])
    kind = "NaN" if np.isnan(values[row]).any() else "infinity"
    raise ValueError(
        f"Bag {bag}, fragment {fragment} contains {kind}{where}. Fragments must be finite: "
        "impute or drop those fragments (in a list of bags a NaN row is not padding; "
        "padding exists only in the 3-D form)."
    )


def _complex_bags(what: str) -> ValueError:
    return ValueError(
        f"{what} holds complex numbers: Complex data not supported. Fragments must be real "
        "numbers; pass their real part or magnitude (np.real, np.abs) if that is what you mean."
    )


def _from_list(bags: list[Any]) -> FlatBags:
    template = _frame_template(bags)
    arrays = []
    for i, bag in enumerate(bags):
        if _holds_complex(bag):  # checked before any cast would drop the imaginary part
            raise _complex_bags(f"Bag {i}")
        try:
            array = np.asarray(bag)
            if array.dtype.kind not in "biuf":
                array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Bag {i} is not a numeric 2-D array: {exc}") from exc
        if array.ndim != 2:
            raise ValueError(
                f"Bag {i} has shape {array.shape}; a bag must be 2-D (n_fragments, "
                "n_features). Use bag.reshape(1, -1) for a bag of one fragment."
            )
        arrays.append(array)
    first = arrays[0].shape[1]
    other = next((i for i, a in enumerate(arrays) if a.shape[1] != first), None)
    if other is not None:
        raise ValueError(
            f"Bags have different numbers of features: bag 0 has {first}, bag {other} has "
            f"{arrays[other].shape[1]}; every fragment needs the same columns."
        )
    lengths = np.array([len(a) for a in arrays], dtype=np.intp)
    empty = np.flatnonzero(lengths == 0)
    if len(empty):
        raise ValueError(
            f"Bag(s) {empty[:10].tolist()} have no fragments; drop these samples or give "
            "every bag at least one fragment."
        )
    if first == 0:
        raise ValueError("The bags have 0 features; pass fragments with at least one column.")
    dtype = _float_dtype(np.result_type(*{a.dtype for a in arrays}))
    values = np.concatenate(arrays, axis=0, dtype=dtype)
    _check_finite_rows(values, lengths, "")
    return FlatBags(values, lengths, template)


def _from_padded(X: Any) -> FlatBags:
    if _holds_complex(X):
        raise _complex_bags("X")
    try:
        padded = np.asarray(X)
        if padded.dtype.kind not in "biuf":
            padded = padded.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X is not a numeric 3-D array of bags: {exc}") from exc
    if padded.ndim != 3:
        raise ValueError(
            "Bags are a list of 2-D arrays (n_fragments, n_features) or a 3-D array "
            "(n_bags, max_fragments, n_features) padded with NaN rows; got an array of shape "
            f"{padded.shape}. For one fragment per sample pass X[:, None, :]."
        )
    padded = padded.astype(_float_dtype(padded.dtype), copy=False)
    n_bags, max_fragments, n_features = padded.shape
    if n_bags == 0:
        raise ValueError("X has no bags (0 samples); pass at least one bag.")
    if max_fragments == 0:
        raise ValueError("X has 0 fragments per bag; every bag needs at least one.")
    if n_features == 0:
        raise ValueError("The bags have 0 features; pass fragments with at least one column.")
    # Two reductions, no mask of the array's size: fmax ignores NaN, so a row's
    # fmax is NaN exactly when the row is all NaN (padding); a real row whose sum
    # is not finite holds NaN or infinity (or overflows) and is inspected.
    is_padding = np.isnan(np.fmax.reduce(padded, axis=2))
    suspect = np.argwhere(~is_padding & ~np.isfinite(padded.sum(axis=2)))
    rows = padded[suspect[:, 0], suspect[:, 1]]
    partial = suspect[np.isnan(rows).any(axis=1)]
    if len(partial):
        bag, fragment = partial[0]
        raise ValueError(
            f"Bag {bag}, fragment {fragment} has NaN in some but not all of its features "
            f"({len(partial)} such fragment(s)); all-NaN rows are padding, a real fragment "
            "must have no NaN. Impute or drop these fragments."
        )
    if np.isinf(rows).any():
        bag, fragment = suspect[np.isinf(rows).any(axis=1)][0]
        raise ValueError(
            f"Bag {bag}, fragment {fragment} contains infinity. Fragments must be finite: "
            "impute or drop those fragments."
        )
    lengths = (~is_padding).sum(axis=1).astype(np.intp)
    empty = np.flatnonzero(lengths == 0)
    if len(empty):
        raise ValueError(
            f"Bag(s) {empty[:10].tolist()} have no fragments (all rows are NaN padding); "
            "drop these samples or give every bag at least one fragment."
        )
    values = padded[~is_padding] if is_padding.any() else padded.reshape(-1, n_features)
    return FlatBags(np.ascontiguousarray(values), lengths)


def flat_bags(X: Any) -> tuple[FlatBags, str]:
    """Validate bags and return them flat, with the input form ("list" or "padded")."""
    if isinstance(X, list | tuple) or (isinstance(X, np.ndarray) and X.dtype == object):
        if len(X) == 0:
            raise ValueError("X has no bags (0 samples); pass at least one bag.")
        return _from_list(list(X)), "list"
    return _from_padded(X), "padded"


def frame_like(template: Any, values: NDArray, index: Any = None) -> Any:
    """Return ``values`` as a DataFrame with the columns of ``template`` (pandas only).

    Bags of other DataFrame libraries come back as arrays.
    """
    if not type(template).__module__.startswith("pandas"):
        return values
    return type(template)(values, columns=template.columns, index=index)


def bags_from_flat(flat: FlatBags, form: str, max_fragments: int | None = None) -> Any:
    """Return flat bags as a list of 2-D arrays (DataFrames if they came as such) or 3-D."""
    if form == "list":
        bags = np.split(flat.values, flat.starts[1:])
        if flat.template is not None:
            bags = [frame_like(flat.template, bag) for bag in bags]
        return bags
    width = int(flat.lengths.max()) if max_fragments is None else max_fragments
    padded = np.full((flat.n_bags, width, flat.values.shape[1]), np.nan, flat.values.dtype)
    position = np.arange(len(flat.values)) - np.repeat(flat.starts, flat.lengths)
    padded[flat.owner, position] = flat.values
    return padded


@validate_params(
    {"X": ["array-like"], "form": [StrOptions({"padded", "list"})]},
    prefer_skip_nested_validation=True,
)
def check_bags(X: Any, *, form: str = "padded") -> Any:
    """Validate bags of fragments and return them as one padded array or a list.

    Parameters
    ----------
    X : list of array-like of shape (n_fragments_i, n_features), or array-like of \
shape (n_bags, max_fragments, n_features)
        Bags. In the 3-D form, rows that are entirely NaN are padding; in a list
        every row is a fragment. NaN or infinity in a fragment, a bag without
        fragments and bags of different widths raise a ``ValueError``.
    form : {"padded", "list"}, default="padded"
        ``"padded"``: one array ``(n_bags, max_fragments, n_features)`` with the
        padding rows (all NaN) after each bag's fragments; ``"list"``: one 2-D
        array per bag.

    Returns
    -------
    bags : ndarray or list of ndarray
        float32 when the input is float32, float64 otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.fragments import check_bags
    >>> padded = check_bags([np.ones((2, 3)), np.zeros((1, 3))])
    >>> padded.shape, bool(np.isnan(padded[1, 1]).all())
    ((2, 2, 3), True)
    >>> [bag.shape for bag in check_bags(padded, form="list")]
    [(2, 3), (1, 3)]
    """
    flat, _ = flat_bags(X)
    return bags_from_flat(flat, form)
