"""Per-sample targets from per-fragment targets, and bags from a flat fragment table."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

from .._validation import NonBoolInterval, as_real_array, check_target
from ._bags import FlatBags, _is_frame, frame_like
from ._stats import bag_mean, bag_order_stat, bag_std

__all__ = [
    "TARGET_METHODS",
    "aggregate_targets",
    "choose_target_aggregation",
    "make_bags",
]

#: Names accepted by ``aggregate_targets(method=...)``.
TARGET_METHODS = ("mean", "median", "trimmed", "winsorized", "huber", "weighted", "auto")

#: ``auto``: pair differences beyond this many robust standard deviations are outlying.
AUTO_OUTLIER_CUT = 3.5
#: ``auto``: largest cyclic shift of the fragment pairs compared in a big bag.
AUTO_MAX_SHIFT = 16
#: ``auto``: outlier shares up to which the mean, then Huber, is chosen.
AUTO_MEAN_MAX_SHARE = 0.002
AUTO_HUBER_MAX_SHARE = 0.075


def _group(groups: ArrayLike, n_fragments: int, name: str = "groups"):
    """Sorted unique group ids, the stable fragment order grouping them, and group sizes."""
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (one group id per fragment), got shape {groups.shape}."
        )
    if len(groups) != n_fragments:
        raise ValueError(
            f"{name} has {len(groups)} entries but there are {n_fragments} fragments; give "
            "exactly one group id per fragment (row)."
        )
    if n_fragments == 0:
        raise ValueError("There are no fragments (0 rows); pass at least one fragment.")
    if groups.dtype.kind == "f" and np.isnan(groups).any():
        raise ValueError(f"{name} contains NaN; every fragment needs a group id.")
    try:
        ids, inverse = np.unique(groups, return_inverse=True)
    except TypeError as exc:
        raise ValueError(
            f"{name} could not be sorted ({exc}); use group ids of one type (ints or strings)."
        ) from exc
    order = np.argsort(inverse, kind="stable")
    lengths = np.bincount(inverse, minlength=len(ids)).astype(np.intp)
    return ids, order, lengths


def _fragment_weights(weights: Any, n_fragments: int, name: str = "weights") -> NDArray | None:
    if weights is None:
        return None
    if isinstance(weights, list | tuple) and len(weights) and np.ndim(weights[0]) == 1:
        weights = np.concatenate([as_real_array(w, name) for w in weights])
    weights = as_real_array(weights, name, what="numeric fragment weights")
    if weights.ndim != 1 or len(weights) != n_fragments:
        raise ValueError(
            f"{name} must hold one weight per fragment ({n_fragments}), got shape {weights.shape}."
        )
    if not np.isfinite(weights).all() or (weights <= 0).any():
        raise ValueError(
            f"{name} must be finite and > 0 (e.g. fragment lengths); drop fragments of zero "
            "weight instead of weighting them 0."
        )
    return weights


def _flat_targets(y_frag: Any, groups: Any):
    """Validate targets and group them into bags: (FlatBags, ids, order, was_1d)."""
    if groups is None:
        if not isinstance(y_frag, list | tuple):
            raise ValueError(
                "groups is None, so y_frag must be a list of per-sample arrays of fragment "
                "targets (as make_imbalanced_regression returns); otherwise pass groups, one "
                "group id per fragment."
            )
        lengths = np.array([len(np.atleast_1d(v)) for v in y_frag], dtype=np.intp)
        if len(lengths) == 0 or (lengths == 0).any():
            raise ValueError("Every sample needs at least one fragment target.")
        y_frag = np.concatenate([np.asarray(v, dtype=np.float64) for v in y_frag])
        groups = np.repeat(np.arange(len(lengths)), lengths)
    y = check_target(y_frag, name="y_frag", max_targets=np.inf)
    ids, order, lengths = _group(groups, len(y))
    was_1d = y.ndim == 1
    values = y.reshape(len(y), -1)[order]
    return FlatBags(np.ascontiguousarray(values), lengths), ids, order, was_1d


def _pair_differences(flat: FlatBags) -> NDArray[np.float64]:
    """Absolute differences of fragment pairs within bags, ``(n_pairs, n_columns)``.

    All unordered pairs of a bag of up to ``2 * AUTO_MAX_SHIFT`` fragments; in
    larger bags the pairs at most ``AUTO_MAX_SHIFT`` positions apart, cyclically.
    """
    lengths, starts = flat.lengths, flat.starts
    owner_length = np.repeat(lengths, lengths)
    position = np.arange(len(flat.values)) - np.repeat(starts, lengths)
    reach = np.minimum(owner_length // 2, AUTO_MAX_SHIFT)
    parts = []
    for shift in range(1, AUTO_MAX_SHIFT + 1):
        # A shift of exactly half an even bag meets every pair twice: keep one.
        use = (shift <= reach) & ~((2 * shift == owner_length) & (position >= shift))
        if not use.any():
            break
        rows = np.flatnonzero(use)
        partner = rows - position[rows] + (position[rows] + shift) % owner_length[rows]
        parts.append(np.abs(flat.values[rows] - flat.values[partner]))
    if not parts:
        return np.empty((0, flat.values.shape[1]))
    return np.concatenate(parts)


def _outlier_share(flat: FlatBags) -> NDArray[np.float64]:
    """Estimated share of outlying fragments per target column (see ``auto``)."""
    differences = _pair_differences(flat)
    shares = np.zeros(flat.values.shape[1])
    for k, column in enumerate(differences.T):
        if not column.any():
            continue
        typical = np.median(column)
        if typical == 0:
            typical = column[column > 0].min()
        pair_share = np.mean(column > AUTO_OUTLIER_CUT * 1.482602218505602 * typical)
        shares[k] = 1 - np.sqrt(1 - pair_share)
    return shares


def _choose(flat: FlatBags) -> list[str]:
    """Apply the ``auto`` rule per target column; see ``choose_target_aggregation``."""
    methods = []
    for share in _outlier_share(flat):
        if share <= AUTO_MEAN_MAX_SHARE:
            methods.append("mean")
        elif share <= AUTO_HUBER_MAX_SHARE:
            methods.append("huber")
        else:
            methods.append("median")
    return methods


@validate_params(
    {"y_frag": ["array-like"], "groups": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def choose_target_aggregation(y_frag: ArrayLike, groups: ArrayLike | None) -> str | list[str]:
    """Return the averaging method that ``method="auto"`` picks, per target.

    The rule estimates the share of outlying fragment targets from how much
    fragments of one sample disagree. For every pair of fragments of the same
    sample (in bags of over 32 fragments, the pairs at most 16 positions
    apart, cyclically) take the absolute difference ``|d|``. For Gaussian
    scatter ``d`` is Gaussian whatever the bag size, with robust standard
    deviation ``1.4826 * median|d|``; the pair share ``q`` is the fraction of
    pairs beyond 3.5 of those (0.05 % for Gaussian scatter). A pair is
    outlying when either fragment is, so the share of outlying fragments is
    ``eps = 1 - sqrt(1 - q)`` (it reads 0.0003 for Gaussian scatter, about
    0.005 for Laplace and 0.01 for Student-t(3) scatter, and 0.048, 0.087 and
    0.14 when 5, 10 and 20 % of Gaussian fragments are gross outliers,
    whatever the bag sizes). Up to ``eps = 0.2 %`` the **mean** is chosen
    (the most efficient average for Gaussian scatter), up to 7.5 % the
    **Huber** M-estimate (about 95 % of the mean's efficiency under Gaussian
    scatter, bounded pull of outliers), above that the **median** (50 %
    breakdown). On generated bags of 2..8 fragments with gross outliers,
    Huber beat the median at 5 % corruption and the median won from 10 %
    (``benchmarks/bench_fragments.py``).
    Without any sample of two or more fragments, or without scatter, the mean.

    Parameters
    ----------
    y_frag : array-like of shape (n_fragments,) or (n_fragments, n_targets), \
or list of such arrays
        Per-fragment targets; a list of per-sample arrays when ``groups`` is None.
    groups : array-like of shape (n_fragments,) or None
        The sample (group id) of every fragment.

    Returns
    -------
    method : str or list of str
        ``"mean"``, ``"huber"`` or ``"median"``; a list (one per target) for 2-D
        ``y_frag``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.fragments import choose_target_aggregation
    >>> y = np.tile([1.0, 1.1, 0.9, 1.05, 0.95], 20)
    >>> choose_target_aggregation(y, np.repeat(np.arange(20), 5))
    'mean'
    >>> y[::5] = 50.0  # one fragment in five is an outlier
    >>> choose_target_aggregation(y, np.repeat(np.arange(20), 5))
    'median'
    """
    flat, _, _, was_1d = _flat_targets(y_frag, groups)
    methods = _choose(flat)
    return methods[0] if was_1d else methods


@validate_params(
    {
        "y_frag": ["array-like"],
        "groups": ["array-like", None],
        "method": [StrOptions(set(TARGET_METHODS))],
        "trim": [NonBoolInterval(Real, 0, 0.5, closed="left")],
        "huber_delta": [NonBoolInterval(Real, 0, None, closed="neither")],
        "weights": ["array-like", None],
        "return_dispersion": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def aggregate_targets(
    y_frag: ArrayLike,
    groups: ArrayLike | None,
    *,
    method: str = "mean",
    trim: float = 0.1,
    huber_delta: float = 1.345,
    weights: ArrayLike | None = None,
    return_dispersion: bool = False,
):
    """Average per-fragment targets into one target per sample.

    Samples are the sorted unique values of ``groups`` (``np.unique`` order),
    the same order as :func:`make_bags`. Each target column is averaged on its
    own.

    Parameters
    ----------
    y_frag : array-like of shape (n_fragments,) or (n_fragments, n_targets), \
or list of such arrays
        Per-fragment targets (finite). With ``groups=None``, a list with one
        array of fragment targets per sample (the ``y_fragments`` of
        :func:`skdir.datasets.make_imbalanced_regression`).
    groups : array-like of shape (n_fragments,) or None
        The sample (group id) of every fragment.
    method : {"mean", "median", "trimmed", "winsorized", "huber", "weighted", \
"auto"}, default="mean"
        - ``"mean"``: arithmetic mean (weighted if ``weights`` is given).
        - ``"median"``: the (weighted) median; the mean of the two middle values
          for an even count.
        - ``"trimmed"``: mean after cutting the fraction ``trim`` of the
          fragments (of the weight) from each end; ``scipy.stats.trim_mean``
          when ``trim * n`` is an integer, interpolated between integers.
        - ``"winsorized"``: like ``"trimmed"``, but the cut fragments take the
          values at the cut points instead of being dropped.
        - ``"huber"``: Huber M-estimate of location (Huber 1964) with tuning
          constant ``huber_delta`` in units of the sample's normalised MAD,
          solved by iteratively reweighted means from the median (the median
          itself when the MAD is 0).
        - ``"weighted"``: the weighted mean; requires ``weights``.
        - ``"auto"``: per target, ``"mean"``, ``"huber"`` or ``"median"`` by the
          outlier share of the fragments (rule in
          :func:`choose_target_aggregation`); the choice is in the returned
          dispersion's ``method``.
    trim : float, default=0.1
        Fraction cut from each end by ``"trimmed"`` and ``"winsorized"``, in
        [0, 0.5).
    huber_delta : float, default=1.345
        Huber's tuning constant (1.345 gives 95 % efficiency at the normal),
        positive and finite (``method="mean"`` is the limit of a large one).
    weights : array-like of shape (n_fragments,), list of arrays, or None
        Positive fragment weights (e.g. fragment length), parallel to
        ``y_frag``. Every method uses them.
    return_dispersion : bool, default=False
        Also return a Bunch with ``std`` (the (weighted) standard deviation of
        each sample's fragment targets, ``ddof=0``, same shape as the result),
        ``count`` (fragments per sample) and ``method`` (the method used, per
        target for ``"auto"`` on 2-D targets). ``1 / (std**2 + c)`` or
        ``count`` can serve as sample weights.

    Returns
    -------
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        One target per sample (per unique group id, in sorted order).
    dispersion : Bunch
        Only with ``return_dispersion=True``.

    Raises
    ------
    ValueError
        For non-finite targets or weights, mismatched lengths, or ``"weighted"``
        without weights; an unknown ``method``, ``trim`` outside [0, 0.5) or a
        ``huber_delta`` that is not positive and finite raise scikit-learn's
        ``InvalidParameterError`` (a ``ValueError``) naming the parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.fragments import aggregate_targets
    >>> y_frag = np.array([1.0, 2.0, 30.0, 4.0, 6.0])
    >>> groups = np.array([0, 0, 0, 1, 1])
    >>> aggregate_targets(y_frag, groups)
    array([11.,  5.])
    >>> aggregate_targets(y_frag, groups, method="median")
    array([2., 5.])
    >>> y, info = aggregate_targets(y_frag, groups, return_dispersion=True)
    >>> info.count
    array([3, 2])
    """
    trim = float(trim)
    flat, _, order, was_1d = _flat_targets(y_frag, groups)
    weights = _fragment_weights(weights, len(order))
    if weights is not None:
        weights = weights[order]
    elif method == "weighted":
        raise ValueError(
            "method='weighted' needs weights (one positive weight per fragment, e.g. its "
            "length); pass weights=... or use method='mean'."
        )
    n_columns = flat.values.shape[1]
    methods = _choose(flat) if method == "auto" else [method] * n_columns
    result = np.empty((flat.n_bags, n_columns))
    for name in set(methods):
        columns = [k for k, m in enumerate(methods) if m == name]
        part = FlatBags(np.ascontiguousarray(flat.values[:, columns]), flat.lengths)
        if name in ("mean", "weighted"):
            result[:, columns] = bag_mean(part, weights)
        else:
            result[:, columns] = bag_order_stat(
                part, name, weights=weights, trim=trim, huber_delta=huber_delta
            )
    if was_1d:
        result = result[:, 0]
    if not return_dispersion:
        return result
    std = bag_std(flat, weights)
    info = Bunch(
        std=std[:, 0] if was_1d else std,
        count=flat.lengths.copy(),
        method=methods[0] if was_1d else methods,
    )
    return result, info


# Not prefer_skip_nested_validation: **aggregation_params reach aggregate_targets unchecked.
@validate_params(
    {
        "X_frag": ["array-like"],
        "groups": ["array-like"],
        "y_frag": ["array-like", None],
        "target_aggregation": [StrOptions(set(TARGET_METHODS))],
    },
    prefer_skip_nested_validation=False,
)
def make_bags(
    X_frag: ArrayLike,
    groups: ArrayLike,
    y_frag: ArrayLike | None = None,
    *,
    target_aggregation: str = "mean",
    **aggregation_params: Any,
):
    """Build bags and per-sample targets from a flat fragment table.

    Parameters
    ----------
    X_frag : array-like of shape (n_fragments, n_features)
        One row per fragment (a DataFrame is accepted); finite numbers.
    groups : array-like of shape (n_fragments,)
        The sample (group id) of every fragment.
    y_frag : array-like of shape (n_fragments,) or (n_fragments, n_targets), default=None
        Per-fragment targets.
    target_aggregation : {"mean", "median", "trimmed", "winsorized", "huber", \
"weighted", "auto"}, default="mean"
        ``method`` of :func:`aggregate_targets`.
    **aggregation_params
        Further keyword arguments of :func:`aggregate_targets` (``trim``,
        ``huber_delta``, ``weights``).

    Returns
    -------
    bags : list of ndarray of shape (n_fragments_i, n_features)
        One bag per unique group id, in sorted order of the ids (``np.unique``);
        the fragments of a bag keep their order in ``X_frag``. For a pandas
        DataFrame ``X_frag`` the bags are DataFrames with its columns and row
        labels, so that :class:`FragmentAggregator` keeps the column names.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets), or None
        Per-sample targets; None when ``y_frag`` is None.
    group_ids : ndarray of shape (n_samples,)
        The group id of each bag.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.fragments import make_bags
    >>> X = np.arange(10.0).reshape(5, 2)
    >>> bags, y, ids = make_bags(X, ["b", "a", "b", "a", "b"], [1.0, 2.0, 3.0, 4.0, 8.0],
    ...                          target_aggregation="median")
    >>> ids.tolist(), [bag.shape for bag in bags], y.tolist()
    (['a', 'b'], [(2, 2), (3, 2)], [3.0, 3.0])
    >>> bags[0]
    array([[2., 3.],
           [6., 7.]])
    """
    if "return_dispersion" in aggregation_params:
        raise ValueError(
            "make_bags returns targets only; call aggregate_targets(..., "
            "return_dispersion=True) for the dispersion."
        )
    unknown = set(aggregation_params) - {"trim", "huber_delta", "weights"}
    if unknown:
        raise ValueError(
            f"Unknown aggregation parameter(s) {sorted(unknown)}; aggregate_targets takes "
            "trim, huber_delta and weights."
        )
    X = np.asarray(X_frag)
    if X.dtype.kind not in "biuf":
        X = as_real_array(X, "X_frag", what="a numeric 2-D table")
    if X.ndim != 2:
        raise ValueError(f"X_frag must be 2-D (n_fragments, n_features), got shape {X.shape}.")
    if X.shape[1] == 0:
        raise ValueError("X_frag has 0 features; pass at least one column.")
    ids, order, lengths = _group(groups, len(X))
    if not np.isfinite(X).all():
        row = int(np.flatnonzero(~np.isfinite(X).all(axis=1))[0])
        raise ValueError(
            f"X_frag row {row} contains NaN or infinity; impute or drop those fragments."
        )
    values = X[order]
    bags = np.split(values, np.cumsum(lengths)[:-1])
    if _is_frame(X_frag) and type(X_frag).__module__.startswith("pandas"):
        index = np.split(np.asarray(X_frag.index)[order], np.cumsum(lengths)[:-1])
        bags = [frame_like(X_frag, bag, rows) for bag, rows in zip(bags, index, strict=True)]
    y = None
    if y_frag is not None:
        y_frag = check_target(y_frag, name="y_frag", max_targets=np.inf)  # type: ignore[arg-type]
        if len(y_frag) != len(X):
            raise ValueError(
                f"y_frag has {len(y_frag)} rows but X_frag has {len(X)}; give one target "
                "(row) per fragment."
            )
        y = aggregate_targets(y_frag, groups, method=target_aggregation, **aggregation_params)
    return bags, y, ids
