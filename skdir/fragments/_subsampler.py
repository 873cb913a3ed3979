"""FragmentSubsampler: augment bags with random subsets of their fragments."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from imblearn.base import BaseSampler
from numpy.typing import ArrayLike, NDArray
from sklearn.base import _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    _check_feature_names,
    check_consistent_length,
    validate_data,
)

from .._validation import NonBoolInterval, check_target
from ..density import LabelDensity
from ._bags import FlatBags, bags_from_flat, flat_bags, is_bag_input

__all__ = ["FragmentSubsampler"]


class FragmentSubsampler(BaseSampler):
    """Add bags made of random subsets of each bag's fragments (imbalanced-learn sampler).

    Every bag of ``k`` fragments gets extra copies holding a random subset of
    ``max(1, round(size_fraction * k))`` of its fragments (drawn without
    replacement, kept in their original order), with the bag's target
    unchanged: a sample seen through fewer of its parts. The output is the
    original bags, in order, followed by the new ones grouped by parent.
    With ``rare_boost``, bags with rare targets get more draws, from the
    label density of the training targets.

    Like every imbalanced-learn sampler it runs in ``fit`` only inside
    :class:`imblearn.pipeline.Pipeline`, so cross-validation scores test
    folds of untouched bags. Put it before :class:`FragmentAggregator`.

    Parameters
    ----------
    n_draws : int, default=1
        Extra bags per bag (on average over bags with ``rare_boost``), >= 0.
        ``0`` returns the input unchanged, the "off" value of a search over
        ``n_draws``.
    size_fraction : float, default=0.5
        Fraction of a bag's fragments in each draw, in (0, 1]; the size is
        ``floor(size_fraction * k + 0.5)`` clipped to ``[1, k]``.
    rare_boost : float or None, default=None
        ``None``: ``n_draws`` draws for every bag. A float ``b >= 0``: bag
        ``i`` gets ``round(n_draws * r_i)`` draws with ``r_i`` proportional to
        ``w_i ** b`` and of mean 1, where ``w_i`` is the inverse smoothed label
        density of its target (:meth:`skdir.density.LabelDensity.weights` with
        ``reweight="inverse"``; LDS, Yang et al. 2021). ``b = 0.5`` is the
        square-root inverse rule, ``b = 1`` the inverse; more draws go to rare
        targets, fewer to common ones, about ``n_draws * n_samples`` in all.
    label_density : LabelDensity or None, default=None
        Unfitted density to clone and fit on ``y`` for ``rare_boost``;
        ``None`` means ``LabelDensity()``. Only with ``rare_boost``.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.
    max_draws : int or None, default=None
        Cap on the draws of one bag with ``rare_boost``.

    Attributes
    ----------
    n_features_in_ : int
        Columns of a fragment.
    draws_ : ndarray of shape (n_samples,)
        Extra bags drawn from each input bag at the last ``fit_resample``.
    label_density_ : LabelDensity
        The fitted density (only with ``rare_boost``).
    sample_indices_ : ndarray of shape (n_samples_resampled,)
        The input bag of every output bag.

    Notes
    -----
    ``X`` takes the forms of :class:`FragmentAggregator`: a list of 2-D bags
    (returned as a list; pandas DataFrame bags come back as DataFrames with
    their columns, and set ``feature_names_in_``), a NaN-padded 3-D array
    (returned 3-D, same padding width) or a 2-D array of one-fragment bags
    (returned 2-D; subsets of one fragment repeat it). ``y`` comes back as an
    array.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.fragments import FragmentSubsampler
    >>> bags = [np.arange(8.0).reshape(4, 2), np.array([[9.0, 9.0]])]
    >>> X_res, y_res = FragmentSubsampler(n_draws=2, random_state=0).fit_resample(
    ...     bags, [1.0, 2.0])
    >>> [len(bag) for bag in X_res], y_res.tolist()
    ([4, 1, 2, 2, 1, 1], [1.0, 2.0, 1.0, 1.0, 2.0, 2.0])
    """

    _parameter_constraints: dict = {
        "n_draws": [NonBoolInterval(Integral, 0, None, closed="left")],
        "size_fraction": [Interval(Real, 0, 1, closed="right")],
        "rare_boost": [None, Interval(Real, 0, None, closed="left")],
        "label_density": [None, LabelDensity],
        "random_state": ["random_state"],
        "max_draws": [None, NonBoolInterval(Integral, 1, None, closed="left")],
    }

    _sampling_type = "bypass"

    def __init__(
        self,
        n_draws: int = 1,
        *,
        size_fraction: float = 0.5,
        rare_boost: float | None = None,
        label_density: LabelDensity | None = None,
        random_state: int | np.random.RandomState | None = None,
        max_draws: int | None = None,
    ) -> None:
        self.n_draws = n_draws
        self.size_fraction = size_fraction
        self.rare_boost = rare_boost
        self.label_density = label_density
        self.random_state = random_state
        self.max_draws = max_draws

    def _check_X_y(self, X: Any, y: Any):  # type: ignore[override]
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        if is_bag_input(X):
            flat, form = flat_bags(X)
            self.n_features_in_ = flat.values.shape[1]
            _check_feature_names(self, flat.template, reset=True)
            width = X.shape[1] if form == "padded" else None
        else:
            values = validate_data(self, X, reset=True, dtype=[np.float64, np.float32])
            flat, form, width = FlatBags(values, np.ones(len(values), np.intp)), "table", 1
        y = check_target(y, max_targets=2)
        check_consistent_length(flat.lengths, y)
        return flat, form, width, y

    def _draw_counts(self, y: NDArray[np.float64]) -> NDArray[np.intp]:
        if self.rare_boost is None:
            if self.label_density is not None or self.max_draws is not None:
                raise ValueError(
                    "label_density and max_draws only act with rare_boost; set rare_boost "
                    "(e.g. 0.5) or leave them None."
                )
            return np.full(len(y), self.n_draws, dtype=np.intp)
        density = LabelDensity() if self.label_density is None else clone(self.label_density)
        self.label_density_ = density.fit(y)
        relative = self.label_density_.weights(y, reweight="inverse") ** self.rare_boost
        relative /= relative.mean()
        counts = np.floor(self.n_draws * relative + 0.5).astype(np.intp)
        if self.max_draws is not None:
            counts = np.minimum(counts, self.max_draws)
        return counts

    def _subsets(
        self, flat: FlatBags, counts: NDArray[np.intp], rng: np.random.RandomState
    ) -> FlatBags:
        """Draw ``counts[i]`` random fragment subsets of bag ``i``, vectorised."""
        lengths = flat.lengths
        if counts.sum() == 0:  # nothing to draw (n_draws=0, or every count rounded to 0)
            return FlatBags(flat.values[:0], np.zeros(0, dtype=np.intp))
        sizes = np.clip(np.floor(self.size_fraction * lengths + 0.5), 1, lengths).astype(np.intp)
        parent = np.repeat(np.arange(len(lengths)), counts)
        span = lengths[parent]  # candidates of each draw
        draw = np.repeat(np.arange(len(parent)), span)
        draw_start = np.concatenate([[0], np.cumsum(span)[:-1]]).astype(np.intp)
        fragment = np.arange(len(draw)) - np.repeat(draw_start, span)
        order = np.lexsort((rng.random_sample(len(draw)), draw))  # shuffle within draws
        rank = np.empty(len(draw), dtype=np.intp)
        rank[order] = fragment  # fragment[k] is also the k-th rank slot within a draw
        chosen = rank < sizes[parent][draw]
        rows = flat.starts[parent][draw[chosen]] + fragment[chosen]
        return FlatBags(flat.values[rows], sizes[parent])

    # label_density is the user's LabelDensity: its parameters are validated when it is fitted
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: ArrayLike, **params: Any) -> FragmentSubsampler:  # type: ignore[override]
        """Validate the bags and targets and count the draws; see ``fit_resample``.

        Parameters
        ----------
        X : bags
            A list of 2-D bags, a NaN-padded 3-D array or a 2-D array.
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Targets.
        **params : dict
            Not accepted.

        Returns
        -------
        self : object
            The fitted sampler.
        """
        self._reject(params)
        _, _, _, y = self._check_X_y(X, y)
        self.draws_ = self._draw_counts(y)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_resample(self, X: Any, y: ArrayLike, **params: Any):  # type: ignore[override]
        """Return the bags plus their random subsets, and the targets.

        Parameters
        ----------
        X : list of array-like of shape (n_fragments_i, n_features), array-like of \
shape (n_samples, max_fragments, n_features) or (n_samples, n_features)
            Bags.
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Targets (continuous).
        **params : dict
            Not accepted (a ``sample_weight`` cannot follow the new bags).

        Returns
        -------
        X_resampled : list of ndarray, ndarray of shape (n_new, max_fragments, \
n_features) or (n_new, n_features)
            The input bags followed by the drawn ones, in the form of ``X``.
        y_resampled : ndarray of shape (n_new,) or (n_new, 2)
            Their targets.
        """
        self._reject(params)
        return self._fit_resample(X, y)

    def _fit_resample(self, X: Any, y: ArrayLike):  # type: ignore[override]
        flat, form, width, y = self._check_X_y(X, y)
        self.draws_ = counts = self._draw_counts(y)
        new = self._subsets(flat, counts, check_random_state(self.random_state))
        parent = np.repeat(np.arange(len(counts)), counts)
        self.sample_indices_ = np.concatenate([np.arange(len(counts)), parent]).astype(np.intp)
        both = FlatBags(
            np.concatenate([flat.values, new.values]),
            np.concatenate([flat.lengths, new.lengths]),
            flat.template,
        )
        y_out = y[self.sample_indices_]
        if form == "table":
            return both.values, y_out
        return bags_from_flat(both, form, width), y_out

    def _reject(self, params: dict) -> None:
        if params:
            raise ValueError(
                f"{type(self).__name__}.fit_resample takes no extra parameters, got "
                f"{sorted(params)}; in particular a sample_weight cannot follow the new bags "
                "through imbalanced-learn's Pipeline."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.three_d_array = True
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.sampler_tags.sample_indices = True
        return tags
