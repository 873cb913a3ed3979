"""SMOTER and SMOGN: synthetic rows from neighbours within a target segment."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn import get_config
from sklearn.metrics import pairwise_distances_chunked
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import StrOptions

from .._validation import NonBoolInterval
from ._base import BaseRegressionSampler
from ._random import _COMMON_DOC, _ORIGIN_ATTRS_DOC, _WEIGHTS_NOTE
from ._relevance import Relevance
from ._rows import HEOMSpace, check_categorical, interpolated_rows, noise_rows

__all__ = ["SMOGN", "SMOTER"]

_NEIGHBOUR_DOC = """
    k_neighbors : int, default=5
        Neighbours searched per seed, within the seed's own segment. A segment
        that grows needs at least ``k_neighbors + 1`` rows: a smaller one
        raises a ``ValueError`` naming its size (lower ``k_neighbors``, or see
        ``k_neighbors_fallback``).
    k_neighbors_fallback : bool, default=False
        What a growing segment of ``m <= k_neighbors`` rows does. ``False``:
        raise a ``ValueError``. ``True``: use its ``m - 1`` other rows as
        neighbours, and grow a one-row segment by copies of its row (they count
        in neither ``n_interpolated_`` nor ``n_noise_``);
        ``segment_k_neighbors_`` reports what each segment used. Off by default
        because it changes the rows made, per segment, without being asked.
    categorical_features : array-like of int or bool, default=None
        Indices (or a boolean mask) of nominal columns, encoded as numbers.
        With nominal columns, distances are HEOM (numeric columns divided by
        their range, 0/1 mismatch on nominal ones); interpolated rows copy each
        nominal value from either parent with probability 1/2, noise rows draw
        it from the segment's frequencies. Without them, distances are
        Euclidean on the raw features (scale your features first if their units
        differ).
    random_state : int, RandomState instance or None, default=None
        Seed of every draw; the same seed gives the same rows.
    n_jobs : int or None, default=None
        Parallel jobs of the neighbour search and distance passes."""

_SEGMENT_ATTRS_DOC = (
    """
    relevance_ : Relevance
        Fitted relevance.
    segment_ : ndarray of shape (n_samples,)
        Segment of each training row (increasing order of ``y``; for 2-D
        ``y``, the cells of the product of the per-target segments).
    segment_rare_ : ndarray of shape (n_segments,), bool
        Whether each segment is rare.
    segment_counts_ : ndarray of shape (n_segments,)
        Rows per segment before resampling.
    segment_targets_ : ndarray of shape (n_segments,)
        Rows per segment after resampling.
    segment_ranges_ : ndarray of shape (n_segments, 2) or (n_segments, 2, 2)
        ``(min, max)`` target of each segment (per target for 2-D ``y``).
    sampling_strategy_ : dict
        ``{segment: rows after resampling}``.
    segment_k_neighbors_ : ndarray of shape (n_segments,)
        Neighbours each segment used in the last ``fit_resample``:
        ``k_neighbors``, fewer with ``k_neighbors_fallback=True``, 0 for a
        segment that did not grow or grew by copies."""
    + _ORIGIN_ATTRS_DOC
)


class _NeighbourSampler(BaseRegressionSampler):
    """Shared neighbour search of SMOTER and SMOGN."""

    _parameter_constraints: dict = {
        **BaseRegressionSampler._parameter_constraints,
        "k_neighbors": [NonBoolInterval(Integral, 1, None, closed="left")],
        "k_neighbors_fallback": ["boolean"],
        "categorical_features": ["array-like", None],
        "n_jobs": [Integral, None],
    }

    def _prepare(self, X: NDArray) -> None:
        self._nominal = check_categorical(self.categorical_features, X.shape[1])
        self._space = HEOMSpace(X, self._nominal) if self._nominal.size else None
        self.segment_k_neighbors_ = np.zeros(len(self.segment_rare_), dtype=np.intp)

    def _release(self) -> None:
        self._space = None

    def _exact_columns(self, n_features: int) -> list[int]:
        return self._nominal.tolist()

    def _metric_rows(self, X_segment: NDArray) -> NDArray:
        return X_segment if self._space is None else self._space.transform(X_segment)

    def _generate(self, X, y, members, seeds, rng, *, segment):
        X_segment, y_segment = X[members], y[members]
        size = len(members)
        k = self.k_neighbors
        if size <= k:
            if not self.k_neighbors_fallback:
                raise ValueError(self._small_segment_message(segment, size, len(seeds)))
            k = size - 1
            if k == 0:  # one row: nothing to interpolate with, grow by copies
                return X_segment[seeds], y_segment[seeds], (0, 0), None
        self.segment_k_neighbors_[segment] = k
        Z = self._metric_rows(X_segment)
        used, seed_rows = np.unique(seeds, return_inverse=True)
        distances, indices, radius = self._neighbours(Z, used, k)
        pick = rng.randint(k, size=len(seeds))
        neighbours = indices[seed_rows, pick]
        safe, scale = self._safe_rule(seed_rows, distances[seed_rows, pick], radius)
        X_new = np.empty((len(seeds), X.shape[1]), dtype=X.dtype)
        y_new = np.empty((len(seeds), *y.shape[1:]), dtype=np.float64)
        share = np.empty(0)
        if np.any(safe):
            X_new[safe], y_new[safe], share = interpolated_rows(
                X_segment,
                y_segment,
                seeds[safe],
                neighbours[safe],
                self._nominal,
                self._space,
                rng,
            )
        unsafe = ~safe
        if np.any(unsafe):
            X_new[unsafe], y_new[unsafe] = noise_rows(
                X_segment, y_segment, seeds[unsafe], scale[unsafe], self._nominal, rng
            )
        n_safe = int(np.sum(safe))
        partners, mixing = seeds.copy(), np.zeros(len(seeds))
        partners[safe] = neighbours[safe]
        mixing[safe] = share
        return X_new, y_new, (n_safe, len(seeds) - n_safe), (partners, mixing)

    def _small_segment_message(self, segment: int, size: int, n_new: int) -> str:
        ranges = np.round(np.asarray(self.segment_ranges_[segment], dtype=np.float64), 4)
        where = f"Segment {segment} (targets {ranges.tolist()})"
        grow = f"must grow by {n_new} rows (sampling_strategy={self.sampling_strategy!r})"
        if size == 1:
            return (
                f"{where} has a single training row and {grow}, but a single row has no "
                "neighbour to interpolate with. Make the segment larger or keep it from "
                "growing (lower rel_thres, another relevance, or a sampling_strategy dict "
                f"with {segment}: 1.0), or pass k_neighbors_fallback=True to grow it by "
                "copies of its row."
            )
        return (
            f"{where} has {size} training rows and {grow}, but k_neighbors="
            f"{self.k_neighbors} needs at least k_neighbors + 1 = {self.k_neighbors + 1} "
            f"rows in a growing segment. Lower k_neighbors to at most {size - 1}, or pass "
            f"k_neighbors_fallback=True to use {size - 1} neighbour(s) in segments this small."
        )

    def _neighbours(self, Z: NDArray, used: NDArray[np.intp], k: int):
        """Return the k nearest neighbours of the rows ``used`` of ``Z``, self excluded.

        Returns ``(distances, indices, radius)``, the first two of shape
        ``(len(used), k)`` in increasing distance, ``indices`` into ``Z``;
        ``radius`` is per-row data for ``_safe_rule`` (None here).
        """
        search = NearestNeighbors(n_neighbors=k, n_jobs=self.n_jobs).fit(Z)
        distances, indices = search.kneighbors()  # excludes each row itself
        return distances[used], indices[used], None

    def _safe_rule(self, seed_rows, chosen_distances, radius):
        """Return (interpolate?, noise scale) per new row."""
        n = len(seed_rows)
        return np.ones(n, dtype=bool), np.zeros(n)


class SMOTER(_NeighbourSampler):
    __doc__ = f"""SMOTE for regression: interpolate between rare neighbours.

    SMOTER (Torgo, Ribeiro, Pfahringer & Branco, EPIA 2013): each segment is
    brought to the size given by ``sampling_strategy``. A segment that shrinks
    (normally a common one) keeps rows drawn without replacement; a segment that
    grows (normally a rare one) keeps all its rows and adds synthetic ones. Each
    of its rows seeds ``floor(n_new / size)`` new rows and ``n_new mod size``
    random rows one more. For a seed ``x_i`` one of its ``k_neighbors``
    nearest neighbours ``x_j`` *in the same segment* is picked at random and
    ``x_new = x_i + u (x_j - x_i)``, ``u ~ U(0, 1)``; its target is the
    distance-weighted mean ``(d2 y_i + d1 y_j) / (d1 + d2)`` with
    ``d1 = dist(x_new, x_i)``, ``d2 = dist(x_new, x_j)``, which for numeric
    features equals ``(1 - u) y_i + u y_j``.

    Neighbours come from scikit-learn's ``NearestNeighbors`` per segment
    (``O(n k)`` memory) and every new row is made by array operations.

    Parameters
    ----------{_COMMON_DOC}{_NEIGHBOUR_DOC}

    Attributes
    ----------{_SEGMENT_ATTRS_DOC}
    n_interpolated_ : int
        Rows made by interpolation in the last ``fit_resample``.
    n_noise_ : int
        Always 0 for SMOTER.
    n_features_in_ : int
        Number of features.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame ``X``.

    See Also
    --------
    SMOGN : SMOTER with Gaussian noise for seeds far from their neighbour.

    Notes
    -----{_WEIGHTS_NOTE}
    An interpolated row gets the weight ``(1 - m) w_i + m w_j`` of its parents
    with the factor ``m`` of its target (``parent_mixing_``), rather than its
    seed's weight: the weight then moves continuously with the row's position
    between the parents (a row next to the neighbour is weighted like the
    neighbour), the weights of the new rows stay within their parents', and
    weights that are a linear function of ``y`` are reproduced exactly for the
    new targets. With numeric features only, ``m`` is also the factor ``u`` of
    the features.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.resampling import SMOTER
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3)); y = np.exp(X[:, 0])
    >>> sampler = SMOTER(random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> sampler.segment_counts_.tolist(), sampler.segment_targets_.tolist()
    ([171, 29], [100, 100])
    >>> sampler.n_interpolated_
    71
    """

    def __init__(
        self,
        *,
        relevance: str | Relevance | ArrayLike = "auto",
        rel_thres: float = 0.5,
        sampling_strategy: str | dict = "balance",
        k_neighbors: int = 5,
        k_neighbors_fallback: bool = False,
        categorical_features: ArrayLike | None = None,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(
            relevance=relevance,
            rel_thres=rel_thres,
            sampling_strategy=sampling_strategy,
            random_state=random_state,
        )
        self.k_neighbors = k_neighbors
        self.k_neighbors_fallback = k_neighbors_fallback
        self.categorical_features = categorical_features
        self.n_jobs = n_jobs


class SMOGN(_NeighbourSampler):
    __doc__ = f"""SMOTER with Gaussian noise (Branco, Torgo & Ribeiro, PMLR 74, 2017).

    Segments are resized as in :class:`SMOTER`. For each new row of a growing
    segment a seed and one of its ``k_neighbors`` nearest neighbours in the
    segment are drawn as in SMOTER. If the neighbour is *safe*, closer than
    ``maxD`` (half the median distance from the seed to every row of its
    segment, the seed's own 0 included, as in the paper's Algorithm 1 and UBL),
    the row is a SMOTER interpolation; otherwise it is the seed plus Gaussian
    noise: each numeric feature ``a`` gets ``N(0, (p * sd_b(a))^2)`` and the
    target ``N(0, (p * sd_b(y))^2)``, ``sd_b`` the within-segment standard
    deviation and ``p = min(maxD, pert)``.

    On high-dimensional data (embeddings) distances concentrate and the safe
    test rarely passes (0-7 % measured at 768 dimensions), so most rows come
    from the noise branch: ``n_interpolated_`` and ``n_noise_`` report the
    split after ``fit_resample``. ``safe_radius="knn_median"`` (half the
    median of the seed's k-neighbour distances, as R's ``themis``) is a looser
    alternative.

    This follows the paper, not the ``smogn`` Python package 0.1.2, which clips
    negative synthetic values to 0, computes interpolated targets from
    uninitialised memory, keeps ``1 - ratio`` of common segments and includes
    the target in the distance: numbers from the two differ.

    Parameters
    ----------{_COMMON_DOC}
    pert : float, default=0.02
        Upper bound of the noise scale ``p`` (the paper's 0.02).
    safe_radius : {{"segment_median", "knn_median"}}, default="segment_median"
        Which distances ``maxD`` is half the median of: the seed's distances
        to its whole segment (paper), or to its ``k_neighbors`` neighbours.{_NEIGHBOUR_DOC}

    Attributes
    ----------{_SEGMENT_ATTRS_DOC}
    n_interpolated_ : int
        Rows made by interpolation (safe neighbour) in the last ``fit_resample``.
    n_noise_ : int
        Rows made by Gaussian noise.
    n_features_in_ : int
        Number of features.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame ``X``.

    See Also
    --------
    SMOTER : Interpolation only.

    Notes
    -----
    The median distance from a seed to its whole segment needs every
    seed-to-segment distance: they are computed in chunks of at most 256 MiB
    (``O(n_b^2 d)`` time per segment of ``n_b`` rows), and the same pass gives
    the seeds' nearest neighbours, so the default rule costs one pass over the
    distances (``safe_radius="knn_median"`` uses scikit-learn's neighbour search
    instead).

{_WEIGHTS_NOTE}
    Interpolated rows get the weight ``(1 - m) w_i + m w_j`` with the factor
    ``m`` of their target, noise rows their seed's weight (see
    :class:`SMOTER`).

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.resampling import SMOGN
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3)); y = np.exp(X[:, 0])
    >>> sampler = SMOGN(random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> X_res.shape
    (200, 3)
    >>> sampler.n_interpolated_ + sampler.n_noise_
    71
    """

    _parameter_constraints: dict = {
        **_NeighbourSampler._parameter_constraints,
        "pert": [NonBoolInterval(Real, 0, None, closed="neither")],
        "safe_radius": [StrOptions({"segment_median", "knn_median"})],
    }

    def __init__(
        self,
        *,
        relevance: str | Relevance | ArrayLike = "auto",
        rel_thres: float = 0.5,
        sampling_strategy: str | dict = "balance",
        pert: float = 0.02,
        safe_radius: str = "segment_median",
        k_neighbors: int = 5,
        k_neighbors_fallback: bool = False,
        categorical_features: ArrayLike | None = None,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(
            relevance=relevance,
            rel_thres=rel_thres,
            sampling_strategy=sampling_strategy,
            random_state=random_state,
        )
        self.pert = pert
        self.safe_radius = safe_radius
        self.k_neighbors = k_neighbors
        self.k_neighbors_fallback = k_neighbors_fallback
        self.categorical_features = categorical_features
        self.n_jobs = n_jobs

    def _neighbours(self, Z, used, k):
        if self.safe_radius == "knn_median":
            distances, indices, _ = super()._neighbours(Z, used, k)
            return distances, indices, 0.5 * np.median(distances, axis=1)
        return segment_neighbours(Z, used, k, n_jobs=self.n_jobs)

    def _safe_rule(self, seed_rows, chosen_distances, radius):
        max_distance = radius[seed_rows]
        safe = chosen_distances < max_distance
        return safe, np.minimum(max_distance, float(self.pert))


#: Largest block of distances (MiB) that ``segment_neighbours`` holds at once.
_MAX_WORKING_MEMORY = 256


def segment_neighbours(
    Z: NDArray, used: NDArray[np.intp], k: int, *, n_jobs: int | None = None
) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.float64]]:
    """Nearest neighbours and half the median distance of rows of a segment, in one pass.

    SMOGN's safe test needs, for each seed, its distance to every row of its
    segment (to take the median); the same distances contain the seed's
    nearest neighbours. One chunked pass over the Euclidean distances from
    ``Z[used]`` to ``Z`` gives both, instead of a neighbour search plus a
    second full pass, and the median is taken in place (no copy of a block).
    Blocks hold at most ``min(working_memory, 256)`` MiB of distances
    (scikit-learn's ``working_memory`` setting).

    Parameters
    ----------
    Z : ndarray of shape (m, n_features)
        Rows of the segment in the space whose Euclidean distance is used.
    used : ndarray of int, shape (n_used,)
        The rows (indices into ``Z``) whose neighbours are needed.
    k : int
        Neighbours per row, ``1 <= k <= m - 1``; a row is not its own neighbour
        (duplicates of it are, at distance 0).
    n_jobs : int or None, default=None
        Parallel jobs of scikit-learn's ``pairwise_distances_chunked``.

    Returns
    -------
    distances : ndarray of shape (n_used, k)
        Distances to the neighbours, increasing.
    indices : ndarray of shape (n_used, k)
        The neighbours, indices into ``Z``.
    half_median : ndarray of shape (n_used,)
        Half the median of the distances from each row to all ``m`` rows of the
        segment, its own 0 included (Branco et al. 2017, Algorithm 1).
    """

    def reduce(block: NDArray, start: int):
        own = used[start : start + len(block)]
        rows = np.arange(len(block))
        block[rows, own] = np.inf  # a row is not its own neighbour
        nearest = np.argpartition(block, k - 1, axis=1)[:, :k]
        near = np.take_along_axis(block, nearest, axis=1)
        order = np.argsort(near, axis=1, kind="stable")
        nearest = np.take_along_axis(nearest, order, axis=1)
        near = np.take_along_axis(near, order, axis=1)
        block[rows, own] = 0.0  # exact self-distance for the median
        return near, nearest, 0.5 * np.median(block, axis=1, overwrite_input=True)

    chunks = list(
        pairwise_distances_chunked(
            Z[used],
            Z,
            reduce_func=reduce,
            n_jobs=n_jobs,
            working_memory=min(_MAX_WORKING_MEMORY, get_config()["working_memory"]),
        )
    )
    distances, indices, half_median = (np.concatenate(part) for part in zip(*chunks, strict=True))
    return distances, indices.astype(np.intp, copy=False), half_median
