"""The relevance function phi of imbalanced regression and the rare/common segments.

Relevance (Ribeiro 2011; Torgo, Ribeiro, Pfahringer & Branco 2013) maps a target
value to [0, 1]: 0 for the common values the model sees often, 1 for the rare
values the user cares about. It is defined by control points ``(y, phi, slope)``
joined by a monotone piecewise cubic Hermite interpolant.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from .._validation import NonBoolInterval, as_real_array, check_target
from ..density import LabelDensity

__all__ = ["Relevance", "medcouple", "pchip_relevance", "rare_segments"]

METHODS = ("box", "adjusted_box", "density", "control_points")


# --------------------------------------------------------------------------- helpers
def _tukey_hinges(sorted_y: NDArray[np.float64]) -> tuple[float, float, float]:
    """Return the lower hinge, median and upper hinge (R's ``fivenum``/``boxplot.stats``)."""
    n = len(sorted_y)
    n4 = np.floor((n + 3) / 2) / 2
    positions = np.array([n4, (n + 1) / 2, n + 1 - n4]) - 1  # 0-based
    low = sorted_y[np.floor(positions).astype(int)]
    high = sorted_y[np.ceil(positions).astype(int)]
    q1, median, q3 = 0.5 * (low + high)
    return float(q1), float(median), float(q3)


@validate_params({"y": ["array-like"]}, prefer_skip_nested_validation=True)
def medcouple(y: ArrayLike) -> float:
    """Return the medcouple, a robust measure of skewness in [-1, 1].

    The medcouple (Brys, Hubert & Struyf 2004) is the median of the kernel
    ``h(a, b) = ((a - m) - (m - b)) / (a - b)`` over all pairs with ``a >= m >= b``
    (``m`` the median); pairs with ``a = b = m`` take the values -1, 0 or +1 of
    the original definition. It is computed exactly up to ``1e-12`` by bisection
    on the kernel value with an ``O(n log n)`` count per step, so it runs on
    hundreds of thousands of values without the ``O(n^2)`` pair matrix.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Values, finite.

    Returns
    -------
    mc : float
        The medcouple; positive for right-skewed data.

    Examples
    --------
    >>> from skdir.resampling import medcouple
    >>> round(medcouple([1, 2, 3, 4, 10]), 6)
    0.0
    >>> round(medcouple([1, 2, 3, 4, 5, 6, 20, 40]), 4)
    0.5658
    """
    values = np.sort(check_target(y, max_targets=1, min_samples=1).ravel())
    median = float(np.median(values))
    upper = values[values >= median] - median  # a - m >= 0, ascending
    lower = median - values[values <= median]  # m - b >= 0, descending
    lower = np.sort(lower)  # ascending
    n_ties = int(np.sum(values == median))
    n_upper_pos = int(np.sum(upper > 0))
    n_lower_pos = int(np.sum(lower > 0))
    total = len(upper) * len(lower)
    a_pos = upper[upper > 0]
    b_pos = lower[lower > 0]
    n_b = len(b_pos)

    def count_at_most(t: float) -> int:
        """Count the kernel values <= t."""
        count = 0
        # a > 0 and b > 0: h <= t  <=>  b >= a (1 - t) / (1 + t).
        if t <= -1:
            count_pos = 0
        elif t >= 1:
            count_pos = len(a_pos) * n_b
        else:
            threshold = a_pos * (1 - t) / (1 + t)
            count_pos = int(np.sum(n_b - np.searchsorted(b_pos, threshold, side="left")))
        count += count_pos
        # a = 0 (tie), b > 0: h = -1; a > 0, b = 0 (tie): h = +1.
        if t >= -1:
            count += n_ties * n_lower_pos
        if t >= 1:
            count += n_upper_pos * n_ties
        # a = b = 0: an antidiagonal block with k(k-1)/2 values -1, k zeros, k(k-1)/2 ones.
        half = n_ties * (n_ties - 1) // 2
        if t >= -1:
            count += half
        if t >= 0:
            count += n_ties
        if t >= 1:
            count += half
        return count

    def kth_smallest(k: int) -> float:
        low, high = -1.0, 1.0
        if count_at_most(low) >= k:
            return -1.0
        while high - low > 1e-13:
            mid = 0.5 * (low + high)
            if count_at_most(mid) >= k:
                high = mid
            else:
                low = mid
        return high

    if total % 2 == 1:
        return float(kth_smallest((total + 1) // 2))
    return float(0.5 * (kth_smallest(total // 2) + kth_smallest(total // 2 + 1)))


def _monotone_slopes(x: NDArray[np.float64], r: NDArray[np.float64]) -> NDArray[np.float64]:
    """Slopes for two-column control points: 0 at the ends, mean secants inside, FC fix."""
    secants = np.diff(r) / np.diff(x)
    slopes = np.zeros_like(r)
    if len(r) > 2:
        slopes[1:-1] = 0.5 * (secants[:-1] + secants[1:])
    # Fritsch-Carlson monotonicity fix (R's splinefunH / "monoH.FC").
    for k, delta in enumerate(secants):
        if delta == 0:
            slopes[k] = slopes[k + 1] = 0.0
            continue
        alpha, beta = slopes[k] / delta, slopes[k + 1] / delta
        if alpha < 0:
            slopes[k], alpha = 0.0, 0.0
        if beta < 0:
            slopes[k + 1], beta = 0.0, 0.0
        norm = np.hypot(alpha, beta)
        if norm > 3:
            slopes[k] = 3 * alpha / norm * delta
            slopes[k + 1] = 3 * beta / norm * delta
    return slopes


def _check_control_points(points: ArrayLike) -> NDArray[np.float64]:
    arr = as_real_array(points, "control_points")
    if arr.ndim != 2 or arr.shape[1] not in (2, 3) or arr.shape[0] < 2:
        raise ValueError(
            "control_points must be an array of shape (n_points, 2) with rows (y, phi) or "
            f"(n_points, 3) with rows (y, phi, slope), n_points >= 2; got shape {arr.shape}."
        )
    if not np.isfinite(arr).all():
        raise ValueError("control_points contain NaN or infinity.")
    if np.any(np.diff(arr[:, 0]) <= 0):
        raise ValueError(
            "control_points must have strictly increasing target values in their first "
            f"column, got {arr[:, 0].tolist()}."
        )
    if np.any((arr[:, 1] < 0) | (arr[:, 1] > 1)):
        raise ValueError(f"control point relevances must lie in [0, 1], got {arr[:, 1].tolist()}.")
    if arr.shape[1] == 2:
        arr = np.column_stack([arr, _monotone_slopes(arr[:, 0], arr[:, 1])])
    return arr


@validate_params(
    {"y": ["array-like"], "control_points": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def pchip_relevance(y: ArrayLike, control_points: ArrayLike) -> NDArray[np.float64]:
    """Evaluate the relevance defined by control points at ``y``.

    Between consecutive control points ``(x0, r0, m0)`` and ``(x1, r1, m1)`` the
    relevance is the cubic Hermite polynomial with those values and slopes; with
    zero slopes (the automatic box-plot points) it is the smoothstep
    ``r0 + (r1 - r0) (3 t^2 - 2 t^3)``, ``t = (y - x0) / (x1 - x0)``. Outside the
    outermost points it is constant (the end values), and the result is clipped
    to [0, 1]. Two-column control points get zero slopes at the ends and the
    mean of the adjacent secants inside, made monotone by the Fritsch-Carlson
    rule, as in the UBL/IRon R packages.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Target values.
    control_points : array-like of shape (n_points, 2) or (n_points, 3)
        Rows ``(y, phi)`` or ``(y, phi, slope)`` with increasing ``y``.

    Returns
    -------
    phi : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from skdir.resampling import pchip_relevance
    >>> pchip_relevance([0.0, 0.5, 1.0, 2.0], [[0, 0, 0], [1, 1, 0]])
    array([0. , 0.5, 1. , 1. ])
    """
    points = _check_control_points(control_points)
    values = check_target(y, max_targets=1, min_samples=0).ravel()
    x, r, m = points[:, 0], points[:, 1], points[:, 2]
    k = np.clip(np.searchsorted(x, values, side="right") - 1, 0, len(x) - 2)
    width = x[k + 1] - x[k]
    t = np.clip((values - x[k]) / width, 0.0, 1.0)
    t2, t3 = t * t, t * t * t
    phi = (
        (2 * t3 - 3 * t2 + 1) * r[k]
        + (t3 - 2 * t2 + t) * width * m[k]
        + (-2 * t3 + 3 * t2) * r[k + 1]
        + (t3 - t2) * width * m[k + 1]
    )
    return np.clip(phi, 0.0, 1.0)


@validate_params(
    {
        "y": ["array-like"],
        "phi": ["array-like"],
        "rel_thres": [NonBoolInterval(Real, 0, 1, closed="right")],
    },
    prefer_skip_nested_validation=True,
)
def rare_segments(
    y: ArrayLike, phi: ArrayLike, rel_thres: float
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Split samples into contiguous rare and common segments of one target.

    Sorting by ``y``, a sample is rare when ``phi >= rel_thres``; maximal runs of
    consecutive rare (or common) samples are the segments ("bins" of the SMOTER
    and SMOGN papers), numbered in increasing order of ``y``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        One target.
    phi : array-like of shape (n_samples,)
        Relevance of each sample.
    rel_thres : float
        Relevance threshold in (0, 1]: samples with ``phi >= rel_thres`` are
        rare (0.5 is the papers' default, 0.8 their experiments').

    Returns
    -------
    segment : ndarray of shape (n_samples,), int
        Segment index of each sample.
    is_rare : ndarray of shape (n_segments,), bool
        Whether each segment is rare.

    Examples
    --------
    >>> from skdir.resampling import rare_segments
    >>> segment, is_rare = rare_segments([5, 1, 2, 9, 3], [0.9, 0.8, 0, 1, 0], 0.5)
    >>> segment.tolist(), is_rare.tolist()
    ([2, 0, 1, 2, 1], [True, False, True])
    """
    y = check_target(y, max_targets=1).ravel()
    phi = as_real_array(phi, "phi").ravel()
    if len(phi) != len(y):
        raise ValueError(
            f"phi has {len(phi)} values but y has {len(y)}; give one relevance per sample "
            "(e.g. Relevance().fit(y).phi(y))."
        )
    if np.isnan(phi).any():
        raise ValueError("phi contains NaN; relevances must be numbers in [0, 1].")
    rare = phi >= rel_thres
    order = np.argsort(y, kind="stable")
    rare_sorted = rare[order]
    starts = np.concatenate([[True], rare_sorted[1:] != rare_sorted[:-1]])
    segment = np.empty(len(y), dtype=np.intp)
    segment[order] = np.cumsum(starts) - 1
    return segment, rare_sorted[starts]


# --------------------------------------------------------------------------- Relevance
class Relevance(BaseEstimator):
    """Relevance function phi: how rare (and important) each target value is.

    ``fit(y)`` learns control points from the training target and ``phi(y)``
    (or calling the object) evaluates phi in [0, 1] for any target values.

    - ``"box"`` (Ribeiro 2011; the automatic method of the SMOTER/SMOGN papers
      and of the UBL, IRon and smogn packages): the median gets relevance 0 and
      the box plot's adjacent values (the most extreme observations within
      ``coef * IQR`` of the hinges) relevance 1 on the side(s) named by
      ``extremes``, provided some observation lies beyond them; a side without
      outliers is anchored at the data's minimum/maximum with relevance 0. All
      slopes are 0, so between the median ``m`` and an adjacent value ``a``
      phi is the smoothstep ``3 t^2 - 2 t^3`` with ``t = (y - m) / (a - m)``;
      with ``rel_thres=0.5`` a sample is rare exactly when ``y`` lies beyond
      ``(m + a) / 2``. Quartiles are Tukey's hinges, as in R's
      ``boxplot.stats`` (smogn uses NumPy's "midpoint" quantiles, which can
      differ slightly).
    - ``"adjusted_box"``: the adjusted box plot of Hubert & Vandervieren (2008)
      for skewed data, as IRon's default: with the medcouple ``MC``, fences
      ``Q1 - coef e^{-4 MC} IQR`` and ``Q3 + coef e^{3 MC} IQR`` for
      ``MC >= 0`` (exponents ``-3`` and ``4`` for ``MC < 0``); relevance 1 is
      put at the fences themselves (requested sides), 0 at the median.
    - ``"density"``: rarity from the label density, ``phi = 1 - d(y) / max d``
      with ``d`` the kernel-smoothed density of :class:`~skdir.density.LabelDensity`
      (``density`` parameter). It works on bounded targets such as STS-B
      scores, where the box plot finds no outliers and phi is identically 0.
    - ``"control_points"``: the user's ``control_points``.

    For two targets each target gets its own relevance (same settings) and
    ``phi`` is their maximum: a sample is as rare as its rarest target.

    Parameters
    ----------
    method : {"box", "adjusted_box", "density", "control_points"}, default="box"
        How the control points are found.
    extremes : {"both", "high", "low"}, default="both"
        Which tail(s) are relevant for the box-plot methods.
    coef : float, default=1.5
        Box-plot whisker coefficient.
    control_points : array-like of shape (n_points, 2) or (n_points, 3), default=None
        Rows ``(y, phi)`` or ``(y, phi, slope)`` for ``method="control_points"``;
        for two targets a list of two such arrays.
    density : LabelDensity or None, default=None
        Unfitted density for ``method="density"`` (cloned, fitted per target);
        ``None`` uses ``LabelDensity()`` (50 bins, the LDS gaussian kernel).

    Attributes
    ----------
    n_targets_ : int
        Number of targets seen in ``fit``.
    control_points_ : list of ndarray of shape (n_points, 3)
        Per target, the control points ``(y, phi, slope)`` (box-plot methods and
        user points; ``None`` for ``"density"``).
    densities_ : list of LabelDensity or None
        Per target, the fitted density (``method="density"`` only).

    References
    ----------
    R. P. Ribeiro, "Utility-based Regression", PhD thesis, University of Porto, 2011.
    M. Hubert and E. Vandervieren, "An adjusted boxplot for skewed
    distributions", Computational Statistics & Data Analysis 52, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.resampling import Relevance
    >>> y = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 30.0])
    >>> rel = Relevance(extremes="high").fit(y)
    >>> rel.control_points_[0]
    array([[1. , 0. , 0. ],
           [5.5, 0. , 0. ],
           [9. , 1. , 0. ]])
    >>> rel.phi([5.5, 7.25, 9.0, 30.0])
    array([0. , 0.5, 1. , 1. ])
    """

    _parameter_constraints: dict = {
        "method": [StrOptions(set(METHODS))],
        "extremes": [StrOptions({"both", "high", "low"})],
        "coef": [Interval(Real, 0, None, closed="left")],
        "control_points": ["array-like", None],
        "density": [LabelDensity, None],
    }

    def __init__(
        self,
        method: str = "box",
        *,
        extremes: str = "both",
        coef: float = 1.5,
        control_points: ArrayLike | None = None,
        density: LabelDensity | None = None,
    ) -> None:
        self.method = method
        self.extremes = extremes
        self.coef = coef
        self.control_points = control_points
        self.density = density

    @_fit_context(prefer_skip_nested_validation=False)  # density: the user's estimator
    def fit(self, y: ArrayLike) -> Relevance:
        """Learn the relevance of each target from the training targets.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Training targets.

        Returns
        -------
        self : Relevance
            The fitted relevance.
        """
        y = check_target(
            y, estimator=self, reset=True, max_targets=2, min_samples=2, allow_constant=False
        )
        columns = y.reshape(len(y), -1)
        self.control_points_ = [None] * self.n_targets_
        self.densities_ = [None] * self.n_targets_
        if self.method == "control_points":
            if self.control_points is None:
                raise ValueError(
                    "method='control_points' needs control_points, an array of rows (y, phi) "
                    "or (y, phi, slope)."
                )
            per_target = (
                list(self.control_points)
                if self.n_targets_ == 2
                and len(self.control_points) == 2
                and np.ndim(self.control_points[0]) == 2
                else [self.control_points] * self.n_targets_
            )
            self.control_points_ = [_check_control_points(p) for p in per_target]
        elif self.method == "density":
            template = LabelDensity() if self.density is None else self.density
            self.densities_ = [clone(template).fit(columns[:, k]) for k in range(self.n_targets_)]
        else:
            self.control_points_ = [
                self._box_points(np.sort(columns[:, k])) for k in range(self.n_targets_)
            ]
        return self

    def _box_points(self, sorted_y: NDArray[np.float64]) -> NDArray[np.float64]:
        q1, median, q3 = _tukey_hinges(sorted_y)
        iqr = q3 - q1
        y_min, y_max = float(sorted_y[0]), float(sorted_y[-1])
        want_low = self.extremes in ("both", "low")
        want_high = self.extremes in ("both", "high")
        if self.method == "adjusted_box":
            mc = medcouple(sorted_y)
            low_exp, high_exp = (-4.0, 3.0) if mc >= 0 else (-3.0, 4.0)
            fence_low = q1 - self.coef * np.exp(low_exp * mc) * iqr
            fence_high = q3 + self.coef * np.exp(high_exp * mc) * iqr
            low_point = (fence_low, 1.0) if want_low and fence_low < median else (y_min, 0.0)
            high_point = (fence_high, 1.0) if want_high and fence_high > median else (y_max, 0.0)
        else:
            adj_low = float(sorted_y[np.searchsorted(sorted_y, q1 - self.coef * iqr)])
            adj_high = float(
                sorted_y[np.searchsorted(sorted_y, q3 + self.coef * iqr, side="right") - 1]
            )
            low_point = (adj_low, 1.0) if want_low and y_min < adj_low else (y_min, 0.0)
            high_point = (adj_high, 1.0) if want_high and y_max > adj_high else (y_max, 0.0)
        points = [low_point] if low_point[0] < median else []
        points.append((median, 0.0))
        if high_point[0] > median:
            points.append(high_point)
        if len(points) == 1:  # median at both ends cannot happen for non-constant y
            points.append((points[0][0] + 1.0, 0.0))
        return np.column_stack([np.array(points), np.zeros(len(points))])

    def phi_per_target(self, y: ArrayLike) -> NDArray[np.float64]:
        """Return the relevance of each target separately.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_targets_)
            Targets.

        Returns
        -------
        phi : ndarray of shape (n_samples, n_targets_)
        """
        check_is_fitted(self, "n_targets_")
        y = check_target(y, estimator=self, reset=False, max_targets=2)
        columns = y.reshape(len(y), -1)
        out = np.empty(columns.shape, dtype=np.float64)
        for k in range(self.n_targets_):
            if self.densities_[k] is not None:
                density = self.densities_[k]
                per_bin = density.smoothed_counts_
                out[:, k] = 1.0 - per_bin[density.bin_index(columns[:, k])] / per_bin.max()
            else:
                out[:, k] = pchip_relevance(columns[:, k], self.control_points_[k])
        return out

    def phi(self, y: ArrayLike) -> NDArray[np.float64]:
        """Return the relevance of each sample (the maximum over its targets).

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_targets_)
            Targets.

        Returns
        -------
        phi : ndarray of shape (n_samples,)
            Relevance in [0, 1].
        """
        return self.phi_per_target(y).max(axis=1)

    __call__ = phi

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags
