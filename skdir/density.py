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

__all__ = ["KERNELS", "LabelDensity", "kernel_window"]

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
    """Broadcast ``bin_range`` ((low, high) or one pair per target)."""
    if value is None:
        return [None] * n_targets
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


def _check_n_bins(count: int, target: int, how: str) -> None:
    if count > MAX_BINS:
        raise ValueError(
            f"{how} gives {count:.4g} bins for target {target}, more than the {MAX_BINS:,} a "
            "label density may have; use fewer bins or a wider bin_width (LDS uses tens "
            "to hundreds of bins)."
        )


class LabelDensity(BaseEstimator):
    """Binned, kernel-smoothed density of one or two continuous targets.

    The training targets are cut into equal-width bins (by number or by width,
    per target) over the range seen in ``fit`` or given in ``bin_range``, counted,
    and smoothed over neighbouring bins with a symmetric kernel, as in label
    distribution smoothing (LDS; Yang, Zha, Chen, Wang & Katabi, "Delving into
    Deep Imbalanced Regression", ICML 2021). The object then answers, for any
    targets: their bin, the effective density there, LDS sample weights, and
    their shot region (many/medium/few by training-bin count).

    Values outside the training range are placed in the first or last bin,
    so that every target gets a bin. A position within ``1e-4`` bin widths below
    an edge is rounded onto it before flooring, which puts float32 labels such as
    4.2 (stored as 4.1999998) into the bin that starts at 4.2, as the DIR
    benchmarks' evaluators do. The highest training value is closed into the last
    bin, like :func:`numpy.histogram`.

    Parameters
    ----------
    n_bins : int or sequence of int, default=50
        Number of bins per target (ignored for a target whose ``bin_width`` is set).
    bin_width : float, sequence of float or None, default=None
        Bin width per target; the number of bins is then
        ``ceil((high - low) / bin_width)`` and the bins start at ``low``.
    bin_range : (float, float), sequence of such pairs, or None, default=None
        Range ``(low, high)`` to bin per target. ``None`` takes the training
        minimum and maximum.
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
        "n_bins": [NonBoolInterval(Integral, 1, None, closed="left"), "array-like"],
        "bin_width": [NonBoolInterval(Real, 0, None, closed="neither"), "array-like", None],
        "bin_range": ["array-like", None],
        "kernel": [StrOptions(set(KERNELS))],
        "ks": [NonBoolInterval(Integral, 1, None, closed="left")],
        "sigma": [NonBoolInterval(Real, 0, None, closed="neither")],
        "joint": ["boolean"],
    }

    def __init__(
        self,
        n_bins: int | list[int] = 50,
        bin_width: float | list[float] | None = None,
        bin_range: tuple[float, float] | list[tuple[float, float]] | None = None,
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
        _check_odd_ks(self.ks)
        y = check_target(y, estimator=self, reset=True, max_targets=2)
        columns = y.reshape(len(y), -1)
        n_targets = self.n_targets_
        n_bins = _per_target(self.n_bins, n_targets, "n_bins")
        widths = _per_target(self.bin_width, n_targets, "bin_width")
        ranges = _per_target_range(self.bin_range, n_targets)

        self.bin_edges_ = [
            self._make_edges(columns[:, k], n_bins[k], widths[k], ranges[k], k)
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
        return self

    @staticmethod
    def _make_edges(
        column: NDArray[np.float64],
        n_bins: object,
        width: object,
        bin_range: NDArray[np.float64] | None,
        target: int,
    ) -> NDArray[np.float64]:
        if bin_range is None:
            low, high = float(column.min()), float(column.max())
            if not high - low > _MIN_RELATIVE_RANGE * max(1.0, abs(low), abs(high)):
                raise ValueError(
                    f"Target {target} is constant (its values span [{low:g}, {high:g}]), so "
                    "no bin range can be learned from it; pass bin_range=(low, high) or use a "
                    "target with at least two distinct values."
                )
        else:
            low, high = float(bin_range[0]), float(bin_range[1])
        if not math.isfinite(high - low):
            raise ValueError(
                f"The range of target {target}, [{low:g}, {high:g}], overflows float64 "
                "(its width is not finite); rescale the targets before binning them."
            )
        if width is not None:
            if isinstance(width, bool) or not isinstance(width, Real) or not 0 < width < math.inf:
                raise ValueError(f"bin_width must be a positive finite number, got {width!r}.")
            count = max(1, math.ceil(round((high - low) / float(width), 6)))
            _check_n_bins(count, target, f"bin_width={width!r} over [{low:g}, {high:g}]")
            return low + float(width) * np.arange(count + 1, dtype=np.float64)
        if isinstance(n_bins, bool) or not isinstance(n_bins, Integral) or n_bins < 1:
            raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}.")
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
            width = edges[1] - edges[0]
            position = np.round((columns[:, k] - edges[0]) / width, _POSITION_DECIMALS)
            bins[:, k] = np.clip(np.floor(position), 0, len(edges) - 2).astype(np.intp)
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
        reweight: Literal["sqrt_inv", "inverse"] = "sqrt_inv",
        clip: tuple[float, float] | None = None,
        smooth: bool = True,
        normalize: bool = True,
    ) -> NDArray[np.float64]:
        """Return LDS sample weights with mean 1.

        Following the official LDS code: the per-bin training counts ``n_b`` are
        optionally clipped to ``clip``, turned into sizes ``c_b = sqrt(n_b)``
        (``"sqrt_inv"``) or ``c_b = n_b`` (``"inverse"``), smoothed with the
        peak-normalised window and zero padding, and each sample gets
        ``1 / c_b`` of its bin; the weights are then scaled to mean 1 over ``y``.
        With ``joint=False`` a 2-D target's size is the product of its two
        marginal sizes. A bin whose smoothed size is 0 (no training target within
        the kernel's reach) takes the smallest positive size, i.e. the largest
        weight of any populated region.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Targets to weight, usually the training targets.
        reweight : {"sqrt_inv", "inverse"}, default="sqrt_inv"
            Inverse square root or inverse of the bin counts.
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

        Returns
        -------
        weights : ndarray of shape (n_samples,)
            Positive, finite; mean 1 when ``normalize``.
        """
        if reweight not in ("sqrt_inv", "inverse"):
            raise ValueError(f"reweight must be 'sqrt_inv' or 'inverse', got {reweight!r}.")
        if clip is not None and not _valid_clip(clip):
            raise ValueError(
                f"clip must be (low, high) with 0 <= low <= high (bounds on the per-bin "
                f"counts, e.g. (5, 1000)), got {clip!r}."
            )
        columns = self._check_y(y)
        if len(columns) == 0:
            raise ValueError("y is empty; pass at least one target to weight.")
        if self.n_targets_ == 2 and not self.joint:
            bins = self._column_bins(columns)
            sizes = np.ones(len(columns))
            for k, marginal in enumerate(self.marginals_):
                sizes = sizes * marginal._bin_sizes(reweight, clip, smooth)[bins[:, k]]
        else:
            sizes = self._bin_sizes(reweight, clip, smooth).ravel()[self._flat_bins(columns)]
        weights = 1.0 / sizes
        return weights * (len(weights) / weights.sum()) if normalize else weights

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
