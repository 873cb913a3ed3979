"""Random over-, under- and Gaussian-noise sampling for continuous targets."""

from __future__ import annotations

from numbers import Real

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import NonBoolInterval
from ._base import BaseRegressionSampler
from ._relevance import Relevance
from ._rows import check_categorical, noise_rows

__all__ = ["GaussianNoiseSampler", "RandomOverSampler", "RandomUnderSampler"]

_COMMON_DOC = """
    relevance : {"auto", "box", "adjusted_box", "density"}, Relevance or array-like, \
default="auto"
        How rare each target is (see :class:`Relevance`). ``"auto"`` is the
        box-plot relevance of the papers; when it is 0 for every training target
        (a bounded target without box-plot outliers, such as STS-B scores) it
        falls back to ``"density"`` with a ``UserWarning``. An array is taken as
        control points ``(y, phi[, slope])``. A :class:`Relevance` instance sets
        ``extremes``, ``coef`` etc. and is cloned.
    rel_thres : float in (0, 1], default=0.5
        Samples with relevance ``>= rel_thres`` are rare. Sorted by target,
        maximal runs of rare (or common) samples form the segments.
    sampling_strategy : {"balance", "extreme"} or dict, default="balance"
        Rows per segment after resampling. ``"balance"``: every segment gets
        ``round(n / n_segments)`` rows. ``"extreme"``: sizes proportional to
        ``1 / size`` with total about ``n`` (inverts the imbalance; segments of
        10/80/10 % become about 47/6/47 %). A dict maps ``"rare"``,
        ``"common"`` or a segment index (in increasing order of ``y``) to a
        ratio rows-after / rows-before (default 1)."""

_ORIGIN_ATTRS_DOC = """
    parent_indices_ : ndarray of shape (n_samples_new, 2)
        The training rows each output row of the last ``fit_resample`` came
        from: column 0 the row itself (kept rows) or the seed (new rows),
        column 1 the neighbour of an interpolated row, else the same as
        column 0.
    parent_mixing_ : ndarray of shape (n_samples_new,)
        Share of the second parent in each output row, in ``[0, 1]``: the
        interpolation factor of the target, ``y_new = (1 - m) y[p0] + m
        y[p1]``; 0 for kept, copied and noise rows.
        :class:`skdir.pipeline.Pipeline` gives each output row the weight
        ``(1 - m) w[p0] + m w[p1]``."""

_WEIGHTS_NOTE = """
    Put samplers in :func:`skdir.pipeline.make_pipeline` (a subclass of
    :class:`imblearn.pipeline.Pipeline`): they run in ``fit`` only, so
    ``cross_val_score`` scores untouched test folds, and a ``sample_weight``
    given to a later step (``ridge__sample_weight=w``, or routed under metadata
    routing) is resampled with the rows, from ``parent_indices_`` and
    ``parent_mixing_``. imbalanced-learn's own Pipeline cannot do this: it
    hands a sampler exactly ``(X, y)`` and the later steps the original
    weights, which then fail with a length error or, when the row count did not
    change, silently weight the wrong rows (without metadata routing this
    cannot be detected; with it, ``fit_resample`` requests ``sample_weight``
    and raises). ``fit_resample(X, y, sample_weight=w)`` raises; call
    :func:`skdir.pipeline.resample_weights` after ``fit_resample`` instead."""


class RandomOverSampler(BaseRegressionSampler):
    __doc__ = f"""Over-sample rare target segments by duplicating random rows.

    The regression analogue of imbalanced-learn's ``RandomOverSampler``: the
    segments' target sizes follow ``sampling_strategy``, scaled up so that no
    segment loses rows (``"balance"`` brings every segment to the size of the
    largest). New rows are copies: every row of a segment is duplicated
    ``floor(n_new / size)`` times and ``n_new mod size`` rows once more, drawn
    without replacement.

    Parameters
    ----------{_COMMON_DOC}
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Attributes
    ----------
    relevance_ : Relevance
        Fitted relevance.
    segment_ : ndarray of shape (n_samples,)
        Segment of each training row.
    segment_rare_ : ndarray of shape (n_segments,), bool
        Whether each segment is rare.
    segment_counts_ : ndarray of shape (n_segments,)
        Rows per segment before resampling.
    segment_targets_ : ndarray of shape (n_segments,)
        Rows per segment after resampling.
    segment_ranges_ : ndarray of shape (n_segments, 2) or (n_segments, 2, 2)
        ``(min, max)`` target of each segment (per target for 2-D ``y``).
    sampling_strategy_ : dict
        ``{{segment: rows after resampling}}``.
    sample_indices_ : ndarray of shape (n_samples_new,)
        Training row of each output row.{_ORIGIN_ATTRS_DOC}
    n_interpolated_, n_noise_ : int
        Always 0 (rows are copies).
    n_features_in_ : int
        Number of features.

    Notes
    -----{_WEIGHTS_NOTE}

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.resampling import RandomOverSampler
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3)); y = np.exp(X[:, 0])
    >>> X_res, y_res = RandomOverSampler(random_state=0).fit_resample(X, y)
    >>> X_res.shape
    (342, 3)
    """

    _direction = "over"
    _copies_rows = True

    def __init__(
        self,
        *,
        relevance: str | Relevance | ArrayLike = "auto",
        rel_thres: float = 0.5,
        sampling_strategy: str | dict = "balance",
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        super().__init__(
            relevance=relevance,
            rel_thres=rel_thres,
            sampling_strategy=sampling_strategy,
            random_state=random_state,
        )

    def _generate(self, X, y, members, seeds, rng, *, segment):
        return X[members[seeds]], y[members[seeds]], (0, 0), None


class RandomUnderSampler(BaseRegressionSampler):
    __doc__ = f"""Under-sample common target segments by dropping random rows.

    The regression analogue of imbalanced-learn's ``RandomUnderSampler``
    (Torgo et al. 2013, "random under-sampling" for regression): the segments'
    target sizes follow ``sampling_strategy``, scaled down so that no segment
    gains rows (``"balance"`` brings every segment to the size of the
    smallest); kept rows are drawn without replacement.

    Parameters
    ----------{_COMMON_DOC}
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Attributes
    ----------
    relevance_ : Relevance
        Fitted relevance.
    segment_, segment_rare_, segment_counts_, segment_targets_, segment_ranges_ : ndarray
        Segments, as in :class:`RandomOverSampler`.
    sampling_strategy_ : dict
        ``{{segment: rows after resampling}}``.
    sample_indices_ : ndarray of shape (n_samples_new,)
        Training row of each output row.{_ORIGIN_ATTRS_DOC}
    n_interpolated_, n_noise_ : int
        Always 0.
    n_features_in_ : int
        Number of features.

    Notes
    -----{_WEIGHTS_NOTE}

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.resampling import RandomUnderSampler
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3)); y = np.exp(X[:, 0])
    >>> sampler = RandomUnderSampler(random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> sampler.segment_counts_.tolist(), sampler.segment_targets_.tolist()
    ([171, 29], [29, 29])
    """

    _direction = "under"
    _copies_rows = True

    def __init__(
        self,
        *,
        relevance: str | Relevance | ArrayLike = "auto",
        rel_thres: float = 0.5,
        sampling_strategy: str | dict = "balance",
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        super().__init__(
            relevance=relevance,
            rel_thres=rel_thres,
            sampling_strategy=sampling_strategy,
            random_state=random_state,
        )

    def _generate(self, X, y, members, seeds, rng, *, segment):  # pragma: no cover
        raise AssertionError("an under-sampler never adds rows")


class GaussianNoiseSampler(BaseRegressionSampler):
    __doc__ = f"""Re-balance target segments by adding Gaussian noise to random rows.

    The Gaussian-noise method of Branco, Torgo & Ribeiro (UBL's
    ``GaussNoiseRegress``): every segment is brought to the size given by
    ``sampling_strategy``; a segment that shrinks keeps rows drawn without
    replacement, a segment that grows keeps all rows and adds noisy copies of
    seeds (each row ``floor(n_new / size)`` times, ``n_new mod size`` random
    rows once more). Every numeric feature ``a`` becomes
    ``x_a + N(0, (pert * sd_b(a))^2)`` and the target ``y + N(0, (pert *
    sd_b(y))^2)``, ``sd_b`` the standard deviation within the segment; nominal
    features are drawn from the segment's frequencies.

    Parameters
    ----------{_COMMON_DOC}
    pert : float, default=0.1
        Noise scale as a fraction of each column's within-segment standard
        deviation (UBL's default for this method).
    categorical_features : array-like of int or bool, default=None
        Indices (or a boolean mask) of nominal columns, encoded as numbers.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Attributes
    ----------
    relevance_ : Relevance
        Fitted relevance.
    segment_, segment_rare_, segment_counts_, segment_targets_, segment_ranges_ : ndarray
        Segments, as in :class:`RandomOverSampler`.
    sampling_strategy_ : dict
        ``{{segment: rows after resampling}}``.{_ORIGIN_ATTRS_DOC}
    n_interpolated_ : int
        Always 0.
    n_noise_ : int
        Rows made by noise.
    n_features_in_ : int
        Number of features.

    Notes
    -----{_WEIGHTS_NOTE}

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.resampling import GaussianNoiseSampler
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3)); y = np.exp(X[:, 0])
    >>> sampler = GaussianNoiseSampler(random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> X_res.shape, sampler.n_noise_
    ((200, 3), 71)
    """

    _parameter_constraints: dict = {
        **BaseRegressionSampler._parameter_constraints,
        "pert": [NonBoolInterval(Real, 0, None, closed="neither")],
        "categorical_features": ["array-like", None],
    }

    def __init__(
        self,
        *,
        relevance: str | Relevance | ArrayLike = "auto",
        rel_thres: float = 0.5,
        sampling_strategy: str | dict = "balance",
        pert: float = 0.1,
        categorical_features: ArrayLike | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        super().__init__(
            relevance=relevance,
            rel_thres=rel_thres,
            sampling_strategy=sampling_strategy,
            random_state=random_state,
        )
        self.pert = pert
        self.categorical_features = categorical_features

    def _prepare(self, X: NDArray) -> None:
        self._nominal = check_categorical(self.categorical_features, X.shape[1])

    def _exact_columns(self, n_features: int) -> list[int]:
        return self._nominal.tolist()

    def _generate(self, X, y, members, seeds, rng, *, segment):
        scale = np.full(len(seeds), float(self.pert))
        X_new, y_new = noise_rows(X[members], y[members], seeds, scale, self._nominal, rng)
        return X_new, y_new, (0, len(seeds)), None
