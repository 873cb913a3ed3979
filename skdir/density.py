"""The label density: targets binned, counted and smoothed over neighbouring bins.

Every density-based part of skdir (LDS weights, FDS buckets, density relevance,
shot regions, plots) reads a :class:`LabelDensity`; nothing else bins targets.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import convolve1d, gaussian_filter1d
from scipy.signal.windows import triang
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from ._validation import NonBoolInterval, as_real_array, check_target

__all__ = [
    "KERNELS",
    "LabelDensity",
    "kernel_window",
    "label_grid_step",
    "mean_one_factor",
    "region_density",
    "robust_range",
    "scale_to_mean_one",
]

KERNELS = ("gaussian", "gaussian_true", "triangular", "laplace")

#: Bin positions are rounded to this many decimals before flooring, so that a
#: float32 label such as 4.2 (stored as 4.1999998) lands in the bin that starts at 4.2.
_POSITION_DECIMALS = 4


@validate_params(
    {
        "kernel": [StrOptions(set(KERNELS))],
        "ks": [NonBoolInterval(Integral, 1, None, closed="left")],
        "sigma": [NonBoolInterval(Real, 0, None, closed="neither")],
        "normalize": [StrOptions({"max", "sum"})],
    },
    prefer_skip_nested_validation=True,
)
def kernel_window(
    kernel: str = "gaussian",
    ks: int = 5,
    sigma: float = 2.0,
    *,
    normalize: Literal["max", "sum"] = "max",
) -> NDArray[np.float64]:
    """Return the symmetric smoothing window of LDS/FDS.

    Parameters
    ----------
    kernel : {"gaussian", "gaussian_true", "triangular", "laplace"}, default="gaussian"
        ``"gaussian"`` is the window of the official LDS code (Yang et al., ICML
        2021): a unit impulse of length ``ks`` passed through a gaussian filter of
        width ``sigma`` whose tails reflect back into the window. For ``ks=5,
        sigma=2`` it is nearly flat, ``[0.858, 0.946, 1, 0.946, 0.858]``.
        ``"gaussian_true"`` samples ``exp(-x**2 / (2 sigma**2))`` instead
        (``[0.607, 0.883, 1, 0.883, 0.607]`` for the same parameters).
        ``"triangular"`` is the triangular window of length ``ks`` (``sigma`` is
        unused) and ``"laplace"`` samples ``exp(-|x| / sigma)``.
    ks : int, default=5
        Window length, an odd positive integer. ``ks=1`` means no smoothing.
    sigma : float, default=2.0
        Width of the gaussian and laplace windows, positive and finite.
    normalize : {"max", "sum"}, default="max"
        ``"max"`` scales the peak to 1 (LDS), ``"sum"`` scales the sum to 1 (FDS,
        and the mass-preserving density).

    Returns
    -------
    window : ndarray of shape (ks,)

    Examples
    --------
    >>> from skdir.density import kernel_window
    >>> kernel_window("gaussian", 5, 2).round(3)
    array([0.858, 0.946, 1.   , 0.946, 0.858])
    >>> kernel_window("triangular", 3, normalize="sum")
    array([0.25, 0.5 , 0.25])
    """
    _check_odd_ks(ks)
    half = (ks - 1) // 2
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    if kernel == "gaussian":
        impulse = np.zeros(ks)
        impulse[half] = 1.0
        window = gaussian_filter1d(impulse, sigma=sigma)
    elif kernel == "gaussian_true":
        window = np.exp(-(offsets**2) / (2.0 * sigma**2))
    elif kernel == "triangular":
        window = triang(ks)
    else:
        window = np.exp(-np.abs(offsets) / sigma)
    return window / (window.max() if normalize == "max" else window.sum())


def _check_odd_ks(ks: int) -> None:
    """Reject an even window length (type and sign are validated by the constraints)."""
    if ks % 2 == 0:
        raise ValueError(f"ks must be an odd positive integer (the window length), got {ks!r}.")


def _valid_clip(clip: object) -> bool:
    """Whether ``clip`` is a pair of numbers with ``0 <= low <= high``."""
    try:
        low, high = clip  # type: ignore[misc]
    except (TypeError, ValueError):
        return False
    numbers = all(isinstance(v, Real) and not isinstance(v, bool) for v in (low, high))
    return numbers and 0 <= low <= high  # type: ignore[operator]


def _per_target(value: object, n_targets: int, name: str) -> list:
    """Broadcast a scalar parameter to one value per target."""
    if value is None or np.ndim(value) == 0:
        return [value] * n_targets
    values = list(value)  # type: ignore[call-overload]
    if len(values) != n_targets:
        raise ValueError(
            f"{name} has {len(values)} entries but y has {n_targets} target(s); "
            "give one value, or one per target."
        )
    return values


def _per_target_range(value: object, n_targets: int) -> list:
    """Broadcast ``bin_range`` ("robust", None, (low, high) or one pair per target)."""
    if value is None or (isinstance(value, str) and value == "robust"):
        return [value] * n_targets
    if isinstance(value, str):
        raise ValueError(f"bin_range must be 'robust', None or (low, high) pairs, got {value!r}.")
    arr = as_real_array(value, "bin_range")
    if arr.shape == (2,):
        pairs = [arr] * n_targets
    elif arr.shape == (n_targets, 2):
        pairs = list(arr)
    else:
        raise ValueError(
            f"bin_range must be (low, high) or one (low, high) pair per target, got shape "
            f"{arr.shape} for {n_targets} target(s)."
        )
    for low, high in pairs:
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(f"bin_range needs finite low < high, got ({low}, {high}).")
    return pairs


# Ranges narrower than this (relative to the values) are treated as constant: their bin
# widths would underflow to subnormal numbers and the densities overflow.
_MIN_RELATIVE_RANGE = 1e-12
#: Most bins a density may have (all targets together): 80 MB of counts. More is a
#: mistake (a bin width far below the targets' resolution), not a density.
MAX_BINS = 10_000_000


#: Automatic bins (``n_bins="auto"``): at least this many over the range, ...
_AUTO_MIN_BINS = 50
#: ... and fine enough to put this many bins across the interquartile range, ...
_BINS_PER_IQR = 8
#: ... but at most this many per target (one target, two targets).
_AUTO_MAX_BINS = {1: 1000, 2: 100}
#: Robust range (``bin_range="robust"``): the fences lie ``_FENCE_FACTOR`` times the
#: distance from the median to the ``_FENCE_QUANTILE`` (and ``1 - _FENCE_QUANTILE``)
#: quantile beyond that quantile.
_FENCE_QUANTILE = 0.01
_FENCE_FACTOR = 1.5
#: Quantiles of more targets than this are taken from a regular subsample of them.
_QUANTILE_SAMPLE = 1 << 16
#: Targets are binned in chunks of this many (the temporaries stay in the cache).
_BIN_CHUNK = 1 << 16


def _spread(column: NDArray[np.float64]) -> tuple[float, float, float, float, float]:
    """Return the 1 %, 25 %, 50 %, 75 % and 99 % quantiles (subsampled for large data)."""
    if len(column) > 2 * _QUANTILE_SAMPLE:
        column = column[:: len(column) // _QUANTILE_SAMPLE]
    quantiles = np.quantile(column, [_FENCE_QUANTILE, 0.25, 0.5, 0.75, 1 - _FENCE_QUANTILE])
    return tuple(float(q) for q in quantiles)  # type: ignore[return-value]


def robust_range(column: ArrayLike) -> tuple[float, float]:
    """Return the range that ``bin_range="robust"`` bins: the data's, without far outliers.

    The range runs from the training minimum to the maximum, but stops at the
    fences ``q01 - 1.5 (q50 - q01)`` and ``q99 + 1.5 (q99 - q50)`` (``q`` the quantiles in
    percent). A long but populated tail stays inside (for exponential or
    normal samples of up to a few hundred thousand values the fences lie beyond
    the data); a few isolated extreme values beyond a fence (such as a 150
    among exponential(1) values) no longer stretch the equal-width bins, and fall
    into the first or last bin instead. With more than 131,072 values the
    quantiles come from a regular subsample of 65,536 of them.

    Parameters
    ----------
    column : array-like of shape (n_samples,)
        Finite values of one target.

    Returns
    -------
    low, high : float
        The range, ``min <= low < high <= max`` (the plain ``(min, max)`` when the
        quantiles coincide).

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.density import robust_range
    >>> y = np.r_[np.linspace(0.0, 1.0, 101), 50.0]
    >>> [round(v, 2) for v in robust_range(y)]
    [0.0, 1.74]
    """
    column = np.asarray(column, dtype=np.float64).ravel()
    return _robust_range(float(column.min()), float(column.max()), _spread(column))


def _robust_range(
    low: float, high: float, spread: tuple[float, float, float, float, float]
) -> tuple[float, float]:
    """``robust_range`` from the minimum, maximum and quantiles."""
    q_low, _, median, _, q_high = spread
    fence_low = q_low - _FENCE_FACTOR * (median - q_low)
    fence_high = q_high + _FENCE_FACTOR * (q_high - median)
    robust_low, robust_high = max(low, fence_low), min(high, fence_high)
    if not robust_high - robust_low > _MIN_RELATIVE_RANGE * max(
        1.0, abs(robust_low), abs(robust_high)
    ):
        return low, high
    return robust_low, robust_high


def _check_n_bins(count: int, target: int, how: str) -> None:
    if count > MAX_BINS:
        raise ValueError(
            f"{how} gives {count:.4g} bins for target {target}, more than the {MAX_BINS:,} a "
            "label density may have; use fewer bins or a wider bin_width (LDS uses tens "
            "to hundreds of bins)."
        )


def _bin_column(
    column: NDArray[np.float64], edges: NDArray[np.float64], out: NDArray[np.intp]
) -> None:
    """Write the equal-width bin of each value into ``out``, in cache-sized chunks.

    ``floor(round((y - low) / width, 4))`` clipped to the bins, computed in place
    on one chunk buffer (about 15 times faster than whole-array temporaries on 10
    million targets).
    """
    decimals = 10.0**_POSITION_DECIMALS
    scale = decimals / (edges[1] - edges[0])
    last = len(edges) - 2
    buffer = np.empty(min(_BIN_CHUNK, len(column)))
    for start in range(0, len(column), _BIN_CHUNK):
        chunk = column[start : start + _BIN_CHUNK]
        work = buffer[: len(chunk)]
        np.subtract(chunk, edges[0], out=work)
        work *= scale
        np.rint(work, out=work)
        work /= decimals
        np.floor(work, out=work)
        np.clip(work, 0, last, out=work)
        out[start : start + len(chunk)] = work


def scale_to_mean_one(
    values: NDArray[np.float64],
    counts: NDArray[np.float64] | None = None,
    max_weight: float | None = None,
) -> NDArray[np.float64]:
    """Scale positive weights to mean 1, capping them at ``max_weight``.

    Returns ``min(k * values, max_weight)`` with the ``k`` for which the mean
    (over ``counts`` copies of each value, or one of each) is exactly 1; the
    largest weight is then at most ``max_weight`` times the mean. ``k`` is
    found by growing the set of capped values until it is stable (each round
    solves the mean for the uncapped ones), which ends in a few rounds.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Positive weights (per sample, or per bin with ``counts``).
    counts : ndarray of shape (n,) or None, default=None
        How many samples carry each value; None means one each.
    max_weight : float or None, default=None
        Cap relative to the mean, ``>= 1``; None scales without a cap.

    Returns
    -------
    scaled : ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.density import scale_to_mean_one
    >>> scale_to_mean_one(np.array([1.0, 1.0, 1.0, 9.0]), max_weight=2.0)
    array([0.66666667, 0.66666667, 0.66666667, 2.        ])
    """
    factor = mean_one_factor(values, counts, max_weight)
    scaled = values * factor
    return scaled if max_weight is None else np.minimum(scaled, max_weight)


def mean_one_factor(
    values: NDArray[np.float64],
    counts: NDArray[np.float64] | None = None,
    max_weight: float | None = None,
) -> float:
    """Return the ``k`` of :func:`scale_to_mean_one` (``min(k * values, max_weight)``).

    Parameters
    ----------
    values : ndarray of shape (n,)
        Positive weights.
    counts : ndarray of shape (n,) or None, default=None
        How many samples carry each value; None means one each.
    max_weight : float or None, default=None
        Cap relative to the mean, ``>= 1``.

    Returns
    -------
    k : float

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.density import mean_one_factor
    >>> mean_one_factor(np.array([1.0, 3.0]))
    0.5
    """
    counts = np.ones(len(values)) if counts is None else counts
    total = float(counts.sum())
    k = total / float(counts @ values)
    if max_weight is None or k * values.max() <= max_weight:
        return k
    capped = np.zeros(len(values), dtype=bool)
    while True:
        now = capped | (k * values >= max_weight)
        rest = float(counts[~now] @ values[~now])
        if rest <= 0:  # every weight capped (max_weight = 1): all equal to 1
            return max_weight / float(values.min())
        k = (total - max_weight * float(counts[now].sum())) / rest
        if (now == capped).all():
            return k
        capped = now


class LabelDensity(BaseEstimator):
    """Binned, kernel-smoothed density of one or two continuous targets.

    The training targets are cut into equal-width bins (by number or by width,
    per target) over a robust range of the training targets (or the range given
    in ``bin_range``), counted, and smoothed over neighbouring bins with a
    symmetric kernel, as in label distribution smoothing (LDS; Yang, Zha, Chen,
    Wang & Katabi, "Delving into Deep Imbalanced Regression", ICML 2021). The
    object then answers, for any targets: their bin, the effective density
    there, LDS sample weights, and their shot region (many/medium/few by
    training-bin count).

    The defaults keep a few extreme values from owning the bins: equal-width
    bins over the training minimum to maximum put every ordinary target of
    ``exponential(1)`` data with two values at +-150 into 2 of 50 bins. Here the
    range stops at robust fences (:func:`robust_range`: isolated values beyond
    them join the first or last bin) and ``n_bins="auto"`` makes the bins fine
    enough for the bulk of the data (8 bins across the interquartile range, at
    least 50, at most 1,000 per target; 100 per target for two targets), so that
    a long tail spreads over bins of its own.

    Values outside the binned range are placed in the first or last bin,
    so that every target gets a bin. A position within ``1e-4`` bin widths below
    an edge is rounded onto it before flooring, which puts float32 labels such as
    4.2 (stored as 4.1999998) into the bin that starts at 4.2, as the DIR
    benchmarks' evaluators do. The highest training value is closed into the last
    bin, like :func:`numpy.histogram`.

    Parameters
    ----------
    n_bins : int, "auto" or sequence of such, default="auto"
        Number of bins per target (ignored for a target whose ``bin_width`` is
        set). ``"auto"`` takes the width ``min(range / 50, IQR / 8)`` (``IQR`` the
        interquartile range of the training targets), i.e. at least 50 bins and
        at least 8 across the middle half of the data, capped at 1,000 bins per
        target (100 for two targets). Before version 0.2 the default was 50.
    bin_width : float, sequence of float or None, default=None
        Bin width per target; the number of bins is then
        ``ceil((high - low) / bin_width)`` and the bins start at ``low``.
    bin_range : "robust", (float, float), sequence of such pairs, or None, \
default="robust"
        Range ``(low, high)`` to bin per target. ``"robust"`` takes the training
        minimum and maximum, clipped to the fences of :func:`robust_range`
        (equal to the minimum and maximum unless isolated extreme values lie
        beyond them). ``None`` takes the training minimum and maximum (the
        default before version 0.2).
    kernel : {"gaussian", "gaussian_true", "triangular", "laplace"}, default="gaussian"
        Smoothing window, see :func:`kernel_window`. The default is the official
        LDS window.
    ks : int, default=5
        Kernel size in bins (odd). ``ks=1`` switches smoothing off.
    sigma : float, default=2.0
        Kernel width in bins.
    joint : bool, default=True
        Only for 2-D targets. ``True`` counts and smooths the joint 2-D grid of
        bins (a separable kernel along each target). ``False`` treats the two
        targets as independent: the joint density, weights and expected bin
        counts are products of the per-target marginals, which is far less sparse
        on small data.

    Attributes
    ----------
    n_targets_ : int
        Number of targets seen in ``fit`` (1 or 2).
    n_samples_ : int
        Number of training samples.
    bin_edges_ : list of ndarray
        Bin edges per target, each of length ``n_bins_[k] + 1``.
    n_bins_ : tuple of int
        Number of bins per target.
    counts_ : ndarray of shape (n_bins,) or (n_bins_0, n_bins_1)
        Empirical training counts per bin (the joint grid for 2-D targets).
    smoothed_counts_ : ndarray of the shape of ``counts_``
        Counts smoothed with the sum-normalised window and reflecting edges, so
        that they keep the total mass ``n_samples_``: the effective label density
        in counts. With ``joint=False`` it is the outer product of the marginals'
        smoothed counts divided by ``n_samples_``.
    marginals_ : list of LabelDensity or None
        For 2-D targets, the fitted 1-D density of each target; ``None`` for 1-D.

    See Also
    --------
    skdir.density.kernel_window : The smoothing windows.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.density import LabelDensity
    >>> y = np.array([0.0, 0.1, 0.1, 0.2, 0.2, 0.2, 0.9])
    >>> density = LabelDensity(bin_width=0.1, ks=1).fit(y)
    >>> density.counts_.astype(int)
    array([1, 2, 3, 0, 0, 0, 0, 0, 1])
    >>> density.shot_regions(y, many=2, few=2).tolist()
    ['few', 'medium', 'medium', 'many', 'many', 'many', 'few']
    >>> density.weights(y, reweight="inverse").round(3)
    array([1.75 , 0.875, 0.875, 0.583, 0.583, 0.583, 1.75 ])
    """

    _parameter_constraints: dict = {
        "n_bins": [
            NonBoolInterval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            "array-like",
        ],
        "bin_width": [NonBoolInterval(Real, 0, None, closed="neither"), "array-like", None],
        "bin_range": [StrOptions({"robust"}), "array-like", None],
        "kernel": [StrOptions(set(KERNELS))],
        "ks": [NonBoolInterval(Integral, 1, None, closed="left")],
        "sigma": [NonBoolInterval(Real, 0, None, closed="neither")],
        "joint": ["boolean"],
    }

    def __init__(
        self,
        n_bins: int | str | list[int | str] = "auto",
        bin_width: float | list[float] | None = None,
        bin_range: str | tuple[float, float] | list[tuple[float, float]] | None = "robust",
        kernel: str = "gaussian",
        ks: int = 5,
        sigma: float = 2.0,
        joint: bool = True,
    ) -> None:
        self.n_bins = n_bins
        self.bin_width = bin_width
        self.bin_range = bin_range
        self.kernel = kernel
        self.ks = ks
        self.sigma = sigma
        self.joint = joint

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, y: ArrayLike) -> LabelDensity:
        """Learn the bins from ``y`` and count and smooth the training targets.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Training targets.

        Returns
        -------
        self : LabelDensity
            The fitted density.
        """
        self._fit(check_target(y, estimator=self, reset=True, max_targets=2))
        return self

    def _fit(self, y: NDArray[np.float64]) -> NDArray[np.intp]:
        """Fit on validated targets (``n_targets_`` set); return their flat bins.

        The weighters call it to bin their training targets once, for the
        counts and for the weight lookup.
        """
        _check_odd_ks(self.ks)
        columns = y.reshape(len(y), -1)
        n_targets = columns.shape[1]
        self.n_targets_ = n_targets
        n_bins = _per_target(self.n_bins, n_targets, "n_bins")
        widths = _per_target(self.bin_width, n_targets, "bin_width")
        ranges = _per_target_range(self.bin_range, n_targets)

        self.bin_edges_ = [
            self._make_edges(columns[:, k], n_bins[k], widths[k], ranges[k], k, n_targets)
            for k in range(n_targets)
        ]
        self.n_bins_ = tuple(len(edges) - 1 for edges in self.bin_edges_)
        if math.prod(self.n_bins_) > MAX_BINS:
            raise ValueError(
                f"The joint grid of {' x '.join(map(str, self.n_bins_))} bins has more than "
                f"the {MAX_BINS:,} a label density may have (joint or not, the counts are "
                "kept on the grid); use fewer bins per target."
            )
        self.n_samples_ = len(y)
        self._y_ndim = y.ndim

        flat = self._flat_bins(columns)
        self.counts_ = (
            np.bincount(flat, minlength=math.prod(self.n_bins_))
            .astype(np.float64)
            .reshape(self.n_bins_ if n_targets > 1 else self.n_bins_[0])
        )

        if n_targets == 1:
            self.marginals_ = None
            self.smoothed_counts_ = self.smooth(self.counts_)
        else:
            self.marginals_ = [
                LabelDensity(
                    bin_range=(edges[0], edges[-1]),
                    n_bins=len(edges) - 1,
                    kernel=self.kernel,
                    ks=self.ks,
                    sigma=self.sigma,
                ).fit(columns[:, k])
                for k, edges in enumerate(self.bin_edges_)
            ]
            if self.joint:
                self.smoothed_counts_ = self.smooth(self.counts_)
            else:
                first, second = (m.smoothed_counts_ for m in self.marginals_)
                self.smoothed_counts_ = np.outer(first, second) / self.n_samples_
        return flat

    @staticmethod
    def _make_edges(
        column: NDArray[np.float64],
        n_bins: object,
        width: object,
        bin_range: object,
        target: int,
        n_targets: int = 1,
    ) -> NDArray[np.float64]:
        if bin_range is None or isinstance(bin_range, str):
            low, high = float(column.min()), float(column.max())
            if not high - low > _MIN_RELATIVE_RANGE * max(1.0, abs(low), abs(high)):
                raise ValueError(
                    f"Target {target} is constant (its values span [{low:g}, {high:g}]), so "
                    "no bin range can be learned from it; pass bin_range=(low, high) or use a "
                    "target with at least two distinct values."
                )
        else:
            low, high = float(bin_range[0]), float(bin_range[1])  # type: ignore[index]
        if not math.isfinite(high - low):
            raise ValueError(
                f"The range of target {target}, [{low:g}, {high:g}], overflows float64 "
                "(its width is not finite); rescale the targets before binning them."
            )
        auto = isinstance(n_bins, str) and n_bins == "auto"
        if isinstance(bin_range, str) or (auto and width is None):
            spread = _spread(column)
            if isinstance(bin_range, str):
                low, high = _robust_range(low, high, spread)
            q25, q75 = spread[1], spread[3]
        if width is not None:
            if isinstance(width, bool) or not isinstance(width, Real) or not 0 < width < math.inf:
                raise ValueError(f"bin_width must be a positive finite number, got {width!r}.")
            count = max(1, math.ceil(round((high - low) / float(width), 6)))
            _check_n_bins(count, target, f"bin_width={width!r} over [{low:g}, {high:g}]")
            return low + float(width) * np.arange(count + 1, dtype=np.float64)
        if auto:
            span = high - low
            auto_width = span / _AUTO_MIN_BINS
            if q75 > q25:
                auto_width = min(auto_width, (q75 - q25) / _BINS_PER_IQR)
            count = max(1, math.ceil(span / auto_width - 1e-9))
            n_bins = int(min(count, _AUTO_MAX_BINS[n_targets]))
        if isinstance(n_bins, bool) or not isinstance(n_bins, Integral) or n_bins < 1:
            raise ValueError(f"n_bins must be an integer >= 1 or 'auto', got {n_bins!r}.")
        _check_n_bins(int(n_bins), target, f"n_bins={n_bins!r}")
        return np.linspace(low, high, int(n_bins) + 1)

    # --------------------------------------------------------- bin lookup
    def _check_y(self, y: ArrayLike) -> NDArray[np.float64]:
        check_is_fitted(self, "counts_")
        y = check_target(y, estimator=self, reset=False, max_targets=2)
        return y.reshape(len(y), -1)

    def _column_bins(self, columns: NDArray[np.float64]) -> NDArray[np.intp]:
        bins = np.empty(columns.shape, dtype=np.intp)
        for k, edges in enumerate(self.bin_edges_):
            _bin_column(columns[:, k], edges, bins[:, k])
        return bins

    def _flat_bins(self, columns: NDArray[np.float64]) -> NDArray[np.intp]:
        bins = self._column_bins(columns)
        if bins.shape[1] == 1:
            return bins[:, 0]
        return np.ravel_multi_index((bins[:, 0], bins[:, 1]), self.n_bins_)

    def bin_index(self, y: ArrayLike) -> NDArray[np.intp]:
        """Return the bin of each target value.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Targets, with as many columns as in ``fit``.

        Returns
        -------
        bins : ndarray of int, shape (n_samples,) or (n_samples, 2)
            Bin index per sample (per target for 2-D targets). Values outside the
            training range get the first or last bin.
        """
        columns = self._check_y(y)
        bins = self._column_bins(columns)
        return bins[:, 0] if self.n_targets_ == 1 else bins

    def flat_bin_index(self, y: ArrayLike) -> NDArray[np.intp]:
        """Return one integer bin per sample (the joint-grid cell for 2-D targets).

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Targets, with as many columns as in ``fit``.

        Returns
        -------
        bins : ndarray of int, shape (n_samples,)
            Index into ``counts_.ravel()``.
        """
        return self._flat_bins(self._check_y(y))

    # ----------------------------------------------------------- smoothing
    def smooth(
        self,
        values: ArrayLike,
        *,
        normalize: Literal["max", "sum"] = "sum",
        mode: Literal["reflect", "constant"] = "reflect",
    ) -> NDArray[np.float64]:
        """Smooth per-bin values over neighbouring bins with this density's kernel.

        Parameters
        ----------
        values : array-like
            Per-bin values; the leading axis (two leading axes for 2-D targets)
            indexes the bins, further axes (e.g. feature dimensions) are smoothed
            independently.
        normalize : {"sum", "max"}, default="sum"
            Window normalisation, see :func:`kernel_window`.
        mode : {"reflect", "constant"}, default="reflect"
            Edge handling. ``"reflect"`` mirrors the values at the edges (with a
            sum-normalised window the total mass is preserved); ``"constant"``
            pads with zeros, as LDS does.

        Returns
        -------
        smoothed : ndarray of the shape of ``values``
        """
        check_is_fitted(self, "bin_edges_")
        values = as_real_array(values, "values")
        if values.shape[: self.n_targets_] != self.n_bins_:
            raise ValueError(
                f"values has leading shape {values.shape[: self.n_targets_]} but the bins "
                f"have shape {self.n_bins_}."
            )
        if mode not in ("reflect", "constant"):
            raise ValueError(f"mode must be 'reflect' or 'constant', got {mode!r}.")
        window = kernel_window(self.kernel, self.ks, self.sigma, normalize=normalize)
        for axis in range(self.n_targets_):
            values = convolve1d(values, window, axis=axis, mode=mode, cval=0.0)
        return values

    # ------------------------------------------------------------ queries
    def bin_volume(self) -> float:
        """Return the width (area, for 2-D targets) of one bin."""
        check_is_fitted(self, "bin_edges_")
        return float(math.prod(edges[1] - edges[0] for edges in self.bin_edges_))

    def effective_density(self, y: ArrayLike) -> NDArray[np.float64]:
        """Return the smoothed label density at each target value.

        The density is ``smoothed_counts_`` of the sample's bin divided by
        ``n_samples_ * bin_volume()``: a probability density per unit of the
        target (per unit area for 2-D targets) that integrates to 1 over the bins.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Targets.

        Returns
        -------
        density : ndarray of shape (n_samples,)
        """
        flat = self.flat_bin_index(y)
        per_bin = self.smoothed_counts_.ravel() / (self.n_samples_ * self.bin_volume())
        return per_bin[flat]

    def weights(
        self,
        y: ArrayLike,
        reweight: Literal["sqrt_inv", "inverse"] | None = "sqrt_inv",
        clip: tuple[float, float] | None = None,
        smooth: bool = True,
        normalize: bool = True,
        *,
        alpha: float | None = None,
        max_weight: float | None = None,
    ) -> NDArray[np.float64]:
        """Return LDS sample weights with mean 1.

        Two recipes (Yang, Zha, Chen, Wang & Katabi, "Delving into Deep Imbalanced
        Regression", ICML 2021):

        - ``alpha`` (a number): the paper's effective label density. The
          per-bin training counts ``n_b`` (optionally clipped to ``clip``) are
          smoothed with the sum-normalised kernel and reflecting edges (the
          density's ``smoothed_counts_`` when ``clip`` is None) into ``n~_b``,
          and each sample gets ``n~_b ** -alpha``: ``alpha=0`` gives uniform
          weights, ``0.5`` the inverse square root (the paper's default), ``1``
          the full inverse. With ``joint=False`` a 2-D target's ``n~_b`` is the
          product of its marginals'.
        - ``reweight`` (when ``alpha`` is None), the official code: the counts
          are optionally clipped, turned into sizes ``c_b = sqrt(n_b)``
          (``"sqrt_inv"``) or ``c_b = n_b`` (``"inverse"``), smoothed with the
          peak-normalised window and zero padding, and each sample gets
          ``1 / c_b``; with ``joint=False`` a 2-D target's size is the product of
          its two marginal sizes.

        The weights are then scaled to mean 1 over ``y``. A bin whose smoothed
        size is 0 (no training target within the kernel's reach) takes the
        smallest positive size, i.e. the largest weight of any populated region.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Targets to weight, usually the training targets.
        reweight : {"sqrt_inv", "inverse"} or None, default="sqrt_inv"
            The official code's recipe: inverse square root or inverse of the
            bin counts. Only used when ``alpha`` is None.
        clip : (float, float) or None, default=None
            Bounds applied to the per-bin counts before the transform; the official
            code uses ``(5, 1000)`` with ``"inverse"``, which bounds the largest
            weight.
        smooth : bool, default=True
            Smooth the sizes with the kernel (LDS). ``False`` gives plain inverse
            (square-root) frequency weights.
        normalize : bool, default=True
            Scale the weights to mean 1 over ``y``. ``False`` returns the raw
            ``1 / size`` of each target's bin, so that weights of other targets can
            be put on the scale of the training targets.
        alpha : float or None, default=None
            Exponent of the inverse effective density, ``>= 0``; None uses
            ``reweight``.
        max_weight : float or None, default=None
            Largest weight relative to the mean, ``>= 1`` (only with
            ``normalize``): the weights are ``min(k * w, max_weight)`` with ``k``
            chosen so that they still average 1, so that a few samples never
            carry more than ``max_weight`` times an average sample's weight.

        Returns
        -------
        weights : ndarray of shape (n_samples,)
            Positive, finite; mean 1 when ``normalize``.

        Examples
        --------
        >>> import numpy as np
        >>> from skdir.density import LabelDensity
        >>> y = np.repeat([0.5, 1.5], [9, 1])
        >>> density = LabelDensity(n_bins=2, ks=1).fit(y)
        >>> density.weights(y, alpha=1.0)[[0, -1]].round(3)     # 1/9 and 1/1, mean 1
        array([0.556, 5.   ])
        >>> density.weights(y, alpha=1.0, max_weight=2.0)[[0, -1]].round(3)
        array([0.889, 2.   ])
        >>> density.weights(y, alpha=0.0)[[0, -1]]
        array([1., 1.])
        """
        table = self._bin_weight_table(reweight, clip, smooth, alpha)
        columns = self._check_y(y)
        if len(columns) == 0:
            raise ValueError("y is empty; pass at least one target to weight.")
        if max_weight is not None and not (
            isinstance(max_weight, Real) and not isinstance(max_weight, bool) and max_weight >= 1
        ):
            raise ValueError(
                f"max_weight must be a number >= 1 (the largest weight relative to the mean "
                f"weight 1) or None, got {max_weight!r}."
            )
        flat = self._flat_bins(columns)
        if not normalize:
            return table.ravel()[flat]
        counts = np.bincount(flat, minlength=table.size).astype(np.float64)
        return scale_to_mean_one(table.ravel(), counts, max_weight)[flat]

    def _bin_weight_table(
        self,
        reweight: str | None,
        clip: tuple[float, float] | None,
        smooth: bool,
        alpha: float | None,
    ) -> NDArray[np.float64]:
        """Return the raw (unscaled) weight of every bin, shaped like ``counts_``."""
        check_is_fitted(self, "counts_")
        if alpha is None and reweight not in ("sqrt_inv", "inverse"):
            raise ValueError(f"reweight must be 'sqrt_inv' or 'inverse', got {reweight!r}.")
        if alpha is not None and not (
            isinstance(alpha, Real) and not isinstance(alpha, bool) and 0 <= alpha < math.inf
        ):
            raise ValueError(
                f"alpha must be a finite number >= 0 (0: no reweighting, 0.5: inverse square "
                f"root, 1: inverse of the density), got {alpha!r}."
            )
        if clip is not None and not _valid_clip(clip):
            raise ValueError(
                f"clip must be (low, high) with 0 <= low <= high (bounds on the per-bin "
                f"counts, e.g. (5, 1000)), got {clip!r}."
            )
        if self.n_targets_ == 2 and not self.joint:
            first, second = (
                m._bin_weight_table(reweight, clip, smooth, alpha) for m in self.marginals_
            )
            return np.outer(first, second)
        if alpha is None:
            return 1.0 / self._bin_sizes(reweight, clip, smooth)  # type: ignore[arg-type]
        if alpha == 0:
            return np.ones(self.counts_.shape)
        counts = self.counts_ if clip is None else np.clip(self.counts_, *clip)
        if smooth:
            sizes = self.smoothed_counts_ if clip is None else self.smooth(counts)
        else:
            sizes = counts
        positive = sizes[sizes > 0]
        sizes = np.where(sizes > 0, sizes, positive.min())
        return sizes ** -float(alpha)

    def _bin_sizes(
        self, reweight: str, clip: tuple[float, float] | None, smooth: bool
    ) -> NDArray[np.float64]:
        counts = self.counts_ if clip is None else np.clip(self.counts_, *clip)
        sizes = np.sqrt(counts) if reweight == "sqrt_inv" else counts
        if smooth:
            sizes = self.smooth(sizes, normalize="max", mode="constant")
        positive = sizes[sizes > 0]
        return np.where(sizes > 0, sizes, positive.min())

    def expected_counts(self, y: ArrayLike) -> NDArray[np.float64]:
        """Return the training count of each target's bin.

        For 2-D targets with ``joint=False`` this is the count expected under
        independence, ``n * p_0(b_0) * p_1(b_1)`` from the marginal counts.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Targets.

        Returns
        -------
        counts : ndarray of shape (n_samples,)
        """
        columns = self._check_y(y)
        if self.n_targets_ == 2 and not self.joint:
            bins = self._column_bins(columns)
            first, second = (m.counts_ for m in self.marginals_)
            return first[bins[:, 0]] * second[bins[:, 1]] / self.n_samples_
        return self.counts_.ravel()[self._flat_bins(columns)]

    def shot_regions(self, y: ArrayLike, many: float = 100, few: float = 20) -> NDArray[np.str_]:
        """Return the shot region of each target by its training-bin count.

        A sample is ``"many"``-shot when its bin held more than ``many`` training
        targets, ``"few"``-shot when it held fewer than ``few``, and ``"medium"``
        otherwise (the DIR benchmarks' rule, with 100 and 20). For a few hundred
        samples, lower thresholds are more telling.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Targets.
        many : float, default=100
            Counts above this are many-shot.
        few : float, default=20
            Counts below this are few-shot; must not exceed ``many``.

        Returns
        -------
        regions : ndarray of str, shape (n_samples,)
            ``"many"``, ``"medium"`` or ``"few"`` per sample.
        """
        numbers = all(
            isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)
            for v in (many, few)
        )
        if not numbers or few > many or few < 0:  # type: ignore[operator]
            raise ValueError(
                f"Shot thresholds must satisfy 0 <= few <= many, got few={few}, many={many}; "
                "'many' is the count above which a bin is many-shot, 'few' the count below "
                "which it is few-shot."
            )
        counts = self.expected_counts(y)
        return np.where(counts > many, "many", np.where(counts < few, "few", "medium"))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags


def label_grid_step(y: ArrayLike, max_steps: int = 10_000) -> float | None:
    """Return the step of the grid that every label lies on, or None.

    Counts lie on a grid of step 1, one-decimal measurements on 0.1. The step
    is the smallest gap between distinct values; it is a grid when every value
    is a whole number of steps from the smallest (within 1e-3 of a step) and
    the range holds at most ``max_steps`` steps.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        One target.
    max_steps : int, default=10_000
        Largest number of steps over the range that still counts as a grid.

    Returns
    -------
    step : float or None
        The grid step, or None for labels on no grid (or fewer than two values).

    Examples
    --------
    >>> from skdir.density import label_grid_step
    >>> label_grid_step([0.0, 0.4, 1.2, 2.0]), label_grid_step([0.0, 0.33, 1.0])
    (0.4, None)
    """
    values = np.unique(as_real_array(y, "y").ravel())
    if len(values) < 2:
        return None
    step = float(np.min(np.diff(values)))
    if float(values[-1] - values[0]) / step > max_steps:
        return None
    positions = (values - values[0]) / step
    if np.max(np.abs(positions - np.round(positions))) > 1e-3:
        return None
    return step


def region_density(y: ArrayLike, n_bins: int = 50) -> LabelDensity:
    """Fit the training density of one target for shot regions, aligned on its label grid.

    Equal-width bins cut across discrete labels: 30 bins over STS-B's 0-5
    scores (0.2 steps) are 0.167 wide, so a bin holds one or two label values
    by chance. When the labels lie on a grid (:func:`label_grid_step`) the width
    is the smallest multiple of the step that is at least ``range / n_bins``
    and the bins start half a step below the smallest label, so every edge falls
    halfway between two label values and every bin holds the same number of
    grid values; otherwise the density is ``LabelDensity(n_bins=n_bins)`` over the
    robust range. ``n_bins=50`` is the DIR benchmarks' binning (0.1-wide bins
    on STS-B-DIR's 0-5 range).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Training values of one target.
    n_bins : int, default=50
        Number of bins of the plain rule (an upper bound on the grid).

    Returns
    -------
    density : LabelDensity
        Fitted, unsmoothed (``ks=1``): its counts are the training counts per bin.

    Examples
    --------
    >>> from skdir.density import region_density
    >>> density = region_density([0, 1, 1, 2, 2, 2, 7], n_bins=30)
    >>> density.n_bins_, density.bin_edges_[0][:3].tolist()
    ((8,), [-0.5, 0.5, 1.5])
    """
    y = as_real_array(y, "y").ravel()
    step = label_grid_step(y)
    if step is None:
        return LabelDensity(n_bins=n_bins, ks=1).fit(y)
    width = step * max(1, math.ceil(float(np.ptp(y)) / n_bins / step - 1e-9))
    low = float(y.min()) - step / 2
    count = math.ceil((float(np.ptp(y)) + step) / width - 1e-9)
    return LabelDensity(bin_width=width, bin_range=(low, low + count * width), ks=1).fit(y)
