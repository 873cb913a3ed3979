"""FragmentAggregator: bags of fragments to one row per sample."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names,
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from .._validation import NonBoolInterval, as_real_array
from ._bags import FlatBags, flat_bags, is_bag_input
from ._stats import bag_gem, bag_max, bag_mean, bag_min, bag_order_stat, bag_std
from ._targets import _fragment_weights

__all__ = ["STATS", "FragmentAggregator"]

#: Statistic names of ``FragmentAggregator(stats=...)``.
STATS = ("mean", "median", "trimmed", "gem", "std", "min", "max", "count")


class FragmentAggregator(TransformerMixin, BaseEstimator):
    """Turn bags of fragments into one row per sample.

    Each sample is a bag: a 2-D array (fragments x features), e.g. the
    embeddings of the parts of a text or the crops of an image. The
    aggregator computes per-feature statistics over each bag's fragments and
    concatenates them, one block per statistic in the order of ``stats``. It
    is the first step of a Pipeline; it learns nothing but the number (and
    names) of the features.

    Read more in the module :mod:`skdir.fragments`.

    Parameters
    ----------
    stats : str or sequence of str, default=("mean",)
        Statistics, in output order (no repeats):

        - ``"mean"``: (weighted) mean;
        - ``"median"``: (weighted) median, mean of the two middle values for
          an even count;
        - ``"trimmed"``: mean after cutting the fraction ``trim`` of the
          fragments (of their weight) from each end, interpolated when
          ``trim * n_fragments`` is not an integer (see
          :func:`aggregate_targets`);
        - ``"gem"``: generalized mean ``f^{-1}(mean f(x))`` with the
          sign-preserving power ``f(x) = sign(x) |x|**power``, the GeM pooling
          of Radenović, Tolias and Chum (2018) on non-negative features, between
          the mean (``power=1``) and the largest magnitude (large ``power``);
        - ``"std"``: (weighted) population standard deviation (``ddof=0``):
          0 for a single fragment;
        - ``"min"``, ``"max"``: extremes (weights do not matter);
        - ``"count"``: number of fragments (a single column).

    trim : float, default=0.1
        Fraction cut from each end by ``"trimmed"``, in [0, 0.5).
    power : float, default=3.0
        Exponent of ``"gem"``, > 0.
    fragment_weights : int or None, default=None
        ``None``: fragments weigh the same. An int ``j``: column ``j`` of every
        fragment holds its positive weight (e.g. the fragment's length in
        tokens); it is taken out of the features and weights ``mean``,
        ``median``, ``trimmed``, ``gem`` and ``std``. Weights stored in ``X``
        travel with the bags through every indexing done by ``Pipeline``,
        ``cross_val_score`` and ``GridSearchCV``, which a separate weights
        argument cannot do. Outside a pipeline, ``transform`` also takes the
        weights as a parallel structure (``fragment_weights=`` argument).

    Attributes
    ----------
    n_features_in_ : int
        Columns of a fragment in ``X`` (including a weight column).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, only when fitted on DataFrames: a list of DataFrame bags
        with the same (string) columns, or a DataFrame of one fragment per row.
    stats_ : tuple of str
        The validated statistics, in output order.

    Notes
    -----
    ``X`` can be

    - a list (or tuple, or object array) of 2-D arrays, one per sample, of
      varying length: no NaN allowed. The bags may be DataFrames with the same
      columns (:func:`make_bags` returns such bags for a DataFrame); their
      column names are kept as ``feature_names_in_`` and name the output
      features, and ``transform`` checks them as scikit-learn checks a
      DataFrame's columns;
    - a 3-D array ``(n_samples, max_fragments, n_features)`` in which all-NaN
      rows are padding (a row with some NaN is an error);
    - a plain 2-D array: one fragment per sample. Then the statistics of a
      single fragment are returned (its value; std 0; count 1), so the
      aggregator passes scikit-learn's estimator checks and composes with
      ordinary tables.

    Empty bags, bags with different numbers of features, NaN or infinity in
    real fragments and non-positive weights raise a ``ValueError``. All
    statistics are vectorised segment reductions (no Python loop over
    fragments or samples). Float32 input gives float32 output (order
    statistics are computed in float64 and cast).

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.fragments import FragmentAggregator
    >>> bags = [np.array([[1.0, 10.0], [3.0, 30.0]]), np.array([[5.0, 50.0]])]
    >>> agg = FragmentAggregator(stats=("mean", "std", "count")).fit(bags)
    >>> agg.transform(bags)
    array([[ 2., 20.,  1., 10.,  2.],
           [ 5., 50.,  0.,  0.,  1.]])
    >>> agg.get_feature_names_out().tolist()
    ['mean__x0', 'mean__x1', 'std__x0', 'std__x1', 'count']
    """

    _parameter_constraints: dict = {
        "stats": [StrOptions(set(STATS)), list, tuple],
        "trim": [Interval(Real, 0, 0.5, closed="left")],
        "power": [Interval(Real, 0, None, closed="neither")],
        "fragment_weights": [None, NonBoolInterval(Integral, None, None, closed="neither")],
    }

    def __init__(
        self,
        stats: str | tuple[str, ...] | list[str] = ("mean",),
        *,
        trim: float = 0.1,
        power: float = 3.0,
        fragment_weights: int | None = None,
    ) -> None:
        self.stats = stats
        self.trim = trim
        self.power = power
        self.fragment_weights = fragment_weights

    def _check_stats(self) -> tuple[str, ...]:
        stats = (self.stats,) if isinstance(self.stats, str) else tuple(self.stats)
        if not stats:
            raise ValueError(f"stats is empty; choose at least one of {list(STATS)}.")
        unknown = [s for s in stats if s not in STATS]
        if unknown:
            raise ValueError(f"Unknown stat name(s) {unknown}; choose from {list(STATS)}.")
        if len(set(stats)) != len(stats):
            raise ValueError(f"stats has repeated names {list(stats)}; give each stat once.")
        return stats

    def _weight_column(self, n_features: int) -> int | None:
        column = self.fragment_weights
        if column is None:
            return None
        if not -n_features <= column < n_features:
            raise ValueError(
                f"fragment_weights={column} is not a column of fragments with {n_features} "
                "features; give the index of the weight column (e.g. -1 for the last)."
            )
        if n_features < 2:
            raise ValueError(
                "fragment_weights names the only column of the fragments; a weight column "
                "needs at least one feature column beside it."
            )
        return column % n_features

    def _validate(self, X: Any, reset: bool) -> FlatBags:
        if is_bag_input(X):
            flat, _ = flat_bags(X)
            n_features = flat.values.shape[1]
            # DataFrame bags name the features, as a DataFrame X does in scikit-learn
            _check_feature_names(self, flat.template, reset=reset)
            if reset:
                self.n_features_in_ = n_features
            elif n_features != self.n_features_in_:
                raise ValueError(
                    f"X has {n_features} features per fragment, but {type(self).__name__} "
                    f"is expecting {self.n_features_in_} features as input."
                )
            return flat
        values = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        return FlatBags(values, np.ones(len(values), dtype=np.intp))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: ArrayLike | None = None) -> FragmentAggregator:
        """Validate the bags and the parameters.

        Parameters
        ----------
        X : list of array-like of shape (n_fragments_i, n_features), array-like of \
shape (n_samples, max_fragments, n_features) or (n_samples, n_features)
            Bags (see Notes).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted aggregator.
        """
        self._fit(X)
        return self

    def _fit(self, X: Any) -> FlatBags:
        """Fit; return the validated bags."""
        self.stats_ = self._check_stats()
        flat = self._validate(X, reset=True)
        column = self._weight_column(self.n_features_in_)
        if column is not None:
            _fragment_weights(flat.values[:, column], len(flat.values), "the weight column")
        return flat

    def transform(self, X: Any, fragment_weights: Any = None) -> NDArray:
        """Aggregate every bag into one row.

        Parameters
        ----------
        X : list of array-like of shape (n_fragments_i, n_features), array-like of \
shape (n_samples, max_fragments, n_features) or (n_samples, n_features)
            Bags (see Notes).
        fragment_weights : list of array-like of shape (n_fragments_i,), array-like \
of shape (n_fragments_total,) or (n_samples, max_fragments), default=None
            Positive fragment weights parallel to ``X`` (the 2-D form follows the
            3-D padding; its padded entries are ignored). Not with the
            ``fragment_weights`` parameter (a weight column).

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_stats * n_features [+ 1 for count])
            Statistics per sample, one block per stat in the order of ``stats``.
        """
        check_is_fitted(self)
        return self._aggregate(self._validate(X, reset=False), X, fragment_weights)

    def _aggregate(self, flat: FlatBags, X: Any, fragment_weights: Any = None) -> NDArray:
        """Statistics of the validated bags ``flat`` (``X`` is their input form)."""
        column = self._weight_column(self.n_features_in_)
        weights = None
        if column is not None:
            if fragment_weights is not None:
                raise ValueError(
                    "Weights were given twice: as column fragment_weights="
                    f"{self.fragment_weights} and as the fragment_weights argument; use one."
                )
            weights = _fragment_weights(
                flat.values[:, column], len(flat.values), "the weight column"
            )
            keep = np.arange(flat.values.shape[1]) != column
            flat = FlatBags(np.ascontiguousarray(flat.values[:, keep]), flat.lengths)
        elif fragment_weights is not None:
            weights = self._parallel_weights(fragment_weights, X, flat)
        blocks = []
        for stat in self.stats_:
            if stat == "mean":
                blocks.append(bag_mean(flat, weights))
            elif stat == "std":
                blocks.append(bag_std(flat, weights))
            elif stat == "min":
                blocks.append(bag_min(flat))
            elif stat == "max":
                blocks.append(bag_max(flat))
            elif stat == "gem":
                blocks.append(bag_gem(flat, self.power, weights))
            elif stat == "count":
                blocks.append(flat.lengths[:, None].astype(flat.values.dtype))
            else:
                blocks.append(bag_order_stat(flat, stat, weights=weights, trim=self.trim))
        out = np.hstack(blocks) if len(blocks) > 1 else blocks[0]
        return np.asarray(out, dtype=flat.values.dtype)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: Any, y: ArrayLike | None = None, **params: Any) -> NDArray:
        """Fit and transform; ``fragment_weights`` (if given) goes to ``transform``.

        Parameters
        ----------
        X : bags
            See ``transform``.
        y : None
            Ignored.
        **params : dict
            ``fragment_weights`` only.

        Returns
        -------
        X_out : ndarray
            See ``transform``.
        """
        unknown = set(params) - {"fragment_weights"}
        if unknown:
            raise ValueError(f"Unknown parameter(s) {sorted(unknown)}; only fragment_weights.")
        return self._aggregate(self._fit(X), X, **params)  # the bags are validated once

    @staticmethod
    def _parallel_weights(weights: Any, X: Any, flat: FlatBags) -> NDArray:
        n_total = len(flat.values)
        if isinstance(weights, list | tuple) or (
            isinstance(weights, np.ndarray) and weights.dtype == object
        ):
            lengths = [np.size(w) for w in weights]
            if len(lengths) != flat.n_bags or not np.array_equal(lengths, flat.lengths):
                raise ValueError(
                    "fragment_weights must hold one 1-D array per bag with one weight per "
                    f"fragment; got {len(lengths)} arrays of lengths {lengths[:5]}..., bags "
                    f"have {flat.lengths[:5].tolist()}..."
                )
            return _fragment_weights(
                np.concatenate([np.ravel(w) for w in weights]), n_total, "fragment_weights"
            )
        weights = as_real_array(weights, "fragment_weights")
        if weights.ndim == 2 and getattr(X, "ndim", None) == 3:
            if weights.shape != X.shape[:2]:
                raise ValueError(
                    f"fragment_weights of shape {weights.shape} does not match the bags' "
                    f"padding shape {X.shape[:2]}."
                )
            weights = weights[~np.isnan(np.asarray(X, dtype=np.float64)).all(axis=2)]
        return _fragment_weights(weights, n_total, "fragment_weights")

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> NDArray:
        """Output names ``"<stat>__<feature>"`` (and ``"count"``), in output order.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input feature names; ``x0, x1, ...`` (or ``feature_names_in_``) by default.

        Returns
        -------
        names : ndarray of str objects
            One name per output column.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        column = self._weight_column(self.n_features_in_)
        if column is not None:
            names = np.delete(names, column)
        out = []
        for stat in self.stats_:
            if stat == "count":
                out.append("count")
            else:
                out.extend(f"{stat}__{name}" for name in names)
        return np.asarray(out, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
