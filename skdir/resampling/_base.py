"""The base of every regression sampler: relevance, segments, row counts, containers."""

from __future__ import annotations

import warnings
from abc import abstractmethod
from numbers import Integral, Real

import numpy as np
from imblearn.base import BaseSampler
from numpy.typing import ArrayLike, NDArray
from sklearn.base import _fit_context, clone
from sklearn.utils import check_random_state, metadata_routing
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_consistent_length, validate_data

from .._validation import NonBoolInterval, check_target
from ._relevance import Relevance, rare_segments

__all__ = ["BaseRegressionSampler"]

RELEVANCE_NAMES = ("auto", "box", "adjusted_box", "density")


class _Container:
    """Remember the container type of X and y and restore it on the output.

    The regression counterpart of imbalanced-learn's ``ArraysTransformer``: a
    DataFrame comes back as a DataFrame with the same columns (new RangeIndex),
    a Series with the same name (index aligned to X's), a list as a list.
    """

    def __init__(self, X: object, y: object) -> None:
        self.x_type = type(X).__name__
        self.y_type = type(y).__name__
        self.x_columns = getattr(X, "columns", None)
        self.x_dtypes = getattr(X, "dtypes", None)
        self.y_name = getattr(y, "name", None)
        self.y_columns = getattr(y, "columns", None)
        self.y_dtypes = getattr(y, "dtypes", None)

    def restore(self, X: NDArray, y: NDArray, *, exact_columns: set[int] | None):
        """Return X and y in the input containers.

        ``exact_columns`` are the X columns whose values were copied from
        training rows (so the original dtype can be restored); ``None`` means
        all. Other non-float columns come back as float64, because
        interpolated or perturbed values are not integers.
        """
        if self.x_type == "DataFrame":
            import pandas as pd

            X = pd.DataFrame(X, columns=self.x_columns)
            dtypes = {
                name: dtype
                for k, (name, dtype) in enumerate(self.x_dtypes.items())
                if exact_columns is None or k in exact_columns or dtype.kind == "f"
            }
            X = X.astype(dtypes)
        elif self.x_type == "list":
            X = X.tolist()
        if self.y_type == "Series":
            import pandas as pd

            keep = exact_columns is None or self.y_dtypes.kind == "f"
            y = pd.Series(y, name=self.y_name, dtype=self.y_dtypes if keep else None)
        elif self.y_type == "DataFrame":
            import pandas as pd

            y = pd.DataFrame(y, columns=self.y_columns)
            if exact_columns is None:
                y = y.astype(self.y_dtypes)
        elif self.y_type == "list":
            y = y.tolist()
        if self.x_type == "DataFrame" and self.y_type in ("Series", "DataFrame"):
            y.index = X.index
        return X, y


class BaseRegressionSampler(BaseSampler):
    """Base class of the regression samplers (imbalanced-learn's sampler contract).

    A subclass only says how new rows of a segment are made (``_generate``) and
    whether it may add rows, remove rows, or both. The base validates the
    input, fits the relevance, cuts the target into rare and common segments,
    decides the row count of each segment from ``sampling_strategy``, keeps or
    draws the original rows, and restores the input containers.

    imbalanced-learn's ``fit_resample`` rejects continuous targets before any
    hook runs, so ``fit`` and ``fit_resample`` are overridden here.

    For two targets each target is cut into its own contiguous segments and
    the segments of the pair are the non-empty cells of their product; a cell
    is rare when either target's segment is (relevance = maximum of the
    per-target relevances).

    Every output row records where it came from: ``parent_indices_`` (the seed
    and, for an interpolated row, the neighbour) and ``parent_mixing_`` (the
    neighbour's share). :class:`skdir.pipeline.Pipeline` uses them to give each
    resampled row the weight of its parents, so a ``sample_weight`` can be
    passed next to a sampler there. imbalanced-learn's own Pipeline hands a
    sampler exactly ``(X, y)`` and the later steps the original weights, which
    describe the wrong rows; under metadata routing ``fit_resample`` requests
    ``sample_weight`` by default so that such weights reach it and are rejected
    with this explanation instead of being misaligned.
    """

    _parameter_constraints: dict = {
        "relevance": [StrOptions(set(RELEVANCE_NAMES)), Relevance, "array-like"],
        "rel_thres": [NonBoolInterval(Real, 0, 1, closed="right")],
        "sampling_strategy": [StrOptions({"balance", "extreme"}), dict],
        "random_state": ["random_state"],
    }

    _sampling_type = "bypass"

    #: "both": over- and under-sampling (SMOTER, SMOGN, Gaussian noise);
    #: "over": never removes rows; "under": never adds rows.
    _direction = "both"
    #: Whether every output row is a copy of an input row (``sample_indices_``).
    _copies_rows = False

    # Metadata routing: a routed sample_weight is requested by fit_resample by default,
    # so that in imbalanced-learn's Pipeline it reaches the sampler (which rejects it
    # with the fix) instead of silently weighting the wrong rows in a later step;
    # skdir.pipeline.Pipeline takes it out and resamples the weights itself. sklearn
    # matches these names by substring, so the fit_resample entry also lands on "fit";
    # the second entry (which must come after it) takes it off again.
    __metadata_request__fit_resample = {"sample_weight": True}
    __metadata_request__fit = {"sample_weight": metadata_routing.UNUSED}

    def __init__(
        self,
        *,
        relevance: str | Relevance | ArrayLike = "auto",
        rel_thres: float = 0.5,
        sampling_strategy: str | dict = "balance",
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.relevance = relevance
        self.rel_thres = rel_thres
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    # ------------------------------------------------------------ validation
    def _check_X_y(self, X: ArrayLike, y: ArrayLike):  # type: ignore[override]
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X_checked = validate_data(
            self, X, reset=True, dtype=[np.float64, np.float32], ensure_min_samples=2
        )
        y_checked = check_target(y, max_targets=2, allow_constant=False)
        check_consistent_length(X_checked, y_checked)
        return X_checked, y_checked

    def _fit_relevance(self, y: NDArray[np.float64]) -> Relevance:
        spec = self.relevance
        if isinstance(spec, Relevance):
            return clone(spec).fit(y)
        if isinstance(spec, str):
            if spec == "auto":
                relevance = Relevance("box").fit(y)
                if np.all(relevance.phi(y) == 0):
                    warnings.warn(
                        "The box-plot relevance is 0 for every training target (no values "
                        "beyond the whiskers, e.g. a bounded score); using the density-based "
                        "relevance 1 - density/max instead (relevance='auto'). Pass "
                        "relevance='density' to choose it explicitly and silence this warning.",
                        UserWarning,
                        stacklevel=5,
                    )
                    relevance = Relevance("density").fit(y)
                return relevance
            return Relevance(spec).fit(y)
        return Relevance("control_points", control_points=spec).fit(y)

    def _segments(self, y: NDArray[np.float64]) -> None:
        """Set relevance_, segment_ and the per-segment summaries."""
        rel_thres = float(self.rel_thres)  # (0, 1] by _parameter_constraints
        self.relevance_ = self._fit_relevance(y)
        columns = y.reshape(len(y), -1)
        phi = self.relevance_.phi_per_target(columns if y.ndim == 2 else y)
        if not np.any(phi.max(axis=1) >= rel_thres):
            raise ValueError(
                f"No training target has relevance >= rel_thres={rel_thres:g} (the largest "
                f"relevance is {phi.max():.3g}), so the rare segment is empty and there is "
                "nothing to re-balance. Lower rel_thres, or use another relevance, e.g. "
                "relevance='density' or Relevance('box', coef=...)."
            )
        per_target = [
            rare_segments(columns[:, k], phi[:, k], rel_thres) for k in range(phi.shape[1])
        ]
        if len(per_target) == 1:
            segment, is_rare = per_target[0]
        else:
            (seg0, rare0), (seg1, rare1) = per_target
            cell = seg0 * len(rare1) + seg1
            cells, segment = np.unique(cell, return_inverse=True)
            is_rare = rare0[cells // len(rare1)] | rare1[cells % len(rare1)]
        n_segments = len(is_rare)
        self.segment_ = segment
        self.segment_rare_ = is_rare
        self.segment_counts_ = np.bincount(segment, minlength=n_segments)
        low = np.full((n_segments, columns.shape[1]), np.inf)
        high = np.full((n_segments, columns.shape[1]), -np.inf)
        np.minimum.at(low, segment, columns)
        np.maximum.at(high, segment, columns)
        ranges = np.stack([low, high], axis=-1)
        self.segment_ranges_ = ranges[:, 0, :] if y.ndim == 1 else ranges
        self.segment_targets_ = self._target_counts(self.segment_counts_, is_rare)
        self.sampling_strategy_ = dict(enumerate(self.segment_targets_.tolist()))

    def _target_counts(
        self, sizes: NDArray[np.intp], is_rare: NDArray[np.bool_]
    ) -> NDArray[np.intp]:
        strategy = self.sampling_strategy
        n, n_segments = int(sizes.sum()), len(sizes)
        if isinstance(strategy, dict):
            ratios = np.ones(n_segments)
            for key, value in strategy.items():
                if isinstance(value, bool) or not isinstance(value, Real) or not value > 0:
                    raise ValueError(
                        f"sampling_strategy[{key!r}] must be a positive ratio (rows after / "
                        f"rows before), got {value!r}."
                    )
                if key in ("rare", "common"):
                    ratios[is_rare == (key == "rare")] = value
            for key, value in strategy.items():
                if key in ("rare", "common"):
                    continue
                if isinstance(key, bool) or not isinstance(key, Integral):
                    raise ValueError(
                        f"sampling_strategy keys must be 'rare', 'common' or segment indices "
                        f"0..{n_segments - 1}, got {key!r}."
                    )
                if not 0 <= key < n_segments:
                    raise ValueError(
                        f"sampling_strategy has segment index {key} but the target has "
                        f"{n_segments} segments (0..{n_segments - 1}, in increasing order "
                        "of y; see segment_ranges_ after fit)."
                    )
                ratios[key] = value
            if self._direction == "over" and np.any(ratios < 1):
                raise ValueError(
                    f"{type(self).__name__} only adds rows; every sampling_strategy ratio must "
                    f"be >= 1, got {strategy}."
                )
            if self._direction == "under" and np.any(ratios > 1):
                raise ValueError(
                    f"{type(self).__name__} only removes rows; every sampling_strategy ratio "
                    f"must be <= 1, got {strategy}."
                )
            return np.maximum(np.round(ratios * sizes), 1).astype(np.intp)
        if strategy == "balance":
            targets = np.full(n_segments, np.floor(n / n_segments + 0.5))
        else:  # "extreme": sizes proportional to 1 / size, total about n
            inverse = 1.0 / sizes
            targets = n * inverse / inverse.sum()
        if self._direction == "over":
            targets = targets * np.max(sizes / targets)
        elif self._direction == "under":
            targets = targets * np.min(sizes / targets)
        targets = np.maximum(np.floor(targets + 0.5), 1).astype(np.intp)
        if self._direction == "over":
            targets = np.maximum(targets, sizes)
        elif self._direction == "under":
            targets = np.minimum(targets, sizes)
        return targets

    # ------------------------------------------------------------------- API
    # relevance may be the user's Relevance: its parameters are validated when it is fitted
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike, y: ArrayLike, **params) -> BaseRegressionSampler:  # type: ignore[override]
        """Validate the data and find the segments and their row counts.

        ``fit_resample`` does this too; call it to resample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Continuous targets.
        **params : dict
            Not accepted; see ``fit_resample``.

        Returns
        -------
        self : object
            The fitted sampler.
        """
        self._reject_params(params)
        X, y = self._check_X_y(X, y)
        self._segments(y)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_resample(  # type: ignore[override]
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None, **params
    ):
        """Resample the data set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features (numpy array, DataFrame or list).
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Continuous targets (numpy array, Series, DataFrame or list).
        sample_weight : None
            Not accepted (a ``ValueError`` explains the fix): ``fit_resample``
            returns ``(X, y)`` only. Resample weights with
            :func:`skdir.pipeline.resample_weights` after this call, or put the
            sampler in :func:`skdir.pipeline.make_pipeline`, which does it for
            the later steps.
        **params : dict
            Not accepted.

        Returns
        -------
        X_resampled : array-like of shape (n_samples_new, n_features)
            Resampled features, in the container type of ``X``.
        y_resampled : array-like of shape (n_samples_new,) or (n_samples_new, 2)
            Resampled targets, in the container type of ``y``.
        """
        if sample_weight is not None:
            params["sample_weight"] = sample_weight
        self._reject_params(params)
        container = _Container(X, y)
        X, y = self._check_X_y(X, y)
        X_out, y_out = self._fit_resample(X, y)
        exact = None if self._copies_rows else set(self._exact_columns(X.shape[1]))
        return container.restore(X_out, y_out, exact_columns=exact)

    def _fit_resample(self, X: NDArray, y: NDArray[np.float64]):
        """Resample validated arrays; see ``fit_resample``."""
        self._segments(y)
        rng = check_random_state(self.random_state)
        self._prepare(X)
        kept, new_X, new_y, parents, partners, mixing = [], [], [], [], [], []
        n_interpolated = n_noise = 0
        for s in range(len(self.segment_rare_)):
            members = np.flatnonzero(self.segment_ == s)
            target = int(self.segment_targets_[s])
            if target < len(members):
                kept.append(rng.choice(members, size=target, replace=False))
                continue
            kept.append(members)
            n_new = target - len(members)
            if n_new == 0:
                continue
            seeds = np.concatenate(
                [
                    np.tile(np.arange(len(members)), n_new // len(members)),
                    rng.choice(len(members), size=n_new % len(members), replace=False),
                ]
            )
            X_new, y_new, counts, origin = self._generate(X, y, members, seeds, rng, segment=s)
            new_X.append(X_new)
            new_y.append(y_new)
            parents.append(members[seeds])
            if origin is None:  # every new row comes from its seed alone
                partners.append(members[seeds])
                mixing.append(np.zeros(len(seeds)))
            else:
                partners.append(members[origin[0]])
                mixing.append(np.asarray(origin[1], dtype=np.float64))
            n_interpolated += counts[0]
            n_noise += counts[1]
        kept_idx = np.sort(np.concatenate(kept))
        X_out = np.concatenate([X[kept_idx], *new_X]) if new_X else X[kept_idx]
        y_out = np.concatenate([y[kept_idx], *new_y]) if new_y else y[kept_idx]
        self.n_interpolated_ = int(n_interpolated)
        self.n_noise_ = int(n_noise)
        seeds_out = np.concatenate([kept_idx, *parents]).astype(np.intp)
        self.parent_indices_ = np.column_stack(
            [seeds_out, np.concatenate([kept_idx, *partners]).astype(np.intp)]
        )
        self.parent_mixing_ = np.concatenate([np.zeros(len(kept_idx)), *mixing])
        if self._copies_rows:
            self.sample_indices_ = seeds_out
        self._release()
        return X_out, y_out

    def _reject_params(self, params: dict) -> None:
        if "sample_weight" in params:
            name = type(self).__name__
            raise ValueError(
                f"{name} got a sample_weight, but a sampler returns (X, y) only, so weights "
                "given next to it would describe the wrong rows (imbalanced-learn's Pipeline "
                "hands later steps the original weights). Use skdir.pipeline.make_pipeline "
                "(or skdir.pipeline.Pipeline), which gives every resampled row the weight of "
                "its parent rows, and pass the weights to the step that uses them (e.g. "
                "ridge__sample_weight=w); or call fit_resample(X, y) and then "
                "skdir.pipeline.resample_weights(sampler, w). Under metadata routing with "
                f"imbalanced-learn's Pipeline, {name}.fit_resample requests sample_weight "
                "by default so that this error is raised rather than the weights misaligned."
            )
        if params:
            raise ValueError(
                f"{type(self).__name__}.fit_resample takes no extra parameters, got "
                f"{sorted(params)}."
            )

    # ----------------------------------------------------------- subclasses
    def _prepare(self, X: NDArray) -> None:
        """Compute per-fit state needed by ``_generate`` (e.g. a distance space)."""

    def _release(self) -> None:
        """Drop per-fit temporaries."""

    def _exact_columns(self, n_features: int) -> list[int]:
        """Columns whose output values are copies of training values."""
        return []

    @abstractmethod
    def _generate(
        self,
        X: NDArray,
        y: NDArray[np.float64],
        members: NDArray[np.intp],
        seeds: NDArray[np.intp],
        rng: np.random.RandomState,
        *,
        segment: int,
    ) -> tuple[
        NDArray,
        NDArray[np.float64],
        tuple[int, int],
        tuple[NDArray[np.intp], NDArray[np.float64]] | None,
    ]:
        """Return new rows for one segment, one per entry of ``seeds``.

        ``members`` are the segment's row indices in ``X``; ``seeds`` index into
        ``members``. Returns ``(X_new, y_new, (n_interpolated, n_noise), origin)``:
        ``origin`` is ``None`` when every new row derives from its seed alone
        (copies, noise), else ``(partners, mixing)`` with ``partners`` indexing
        into ``members`` (the second parent of each new row) and ``mixing`` the
        second parent's share in ``[0, 1]`` (0 for a row from its seed alone).
        """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.sampler_tags.sample_indices = self._copies_rows
        return tags
