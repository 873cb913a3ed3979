"""Invertible, per-target normalisation of continuous regression targets.

scikit-learn transformers cannot change ``y`` inside a Pipeline, so
:class:`TargetDistributionNormalizer` is a transformer *of the targets*, used
through :class:`sklearn.compose.TransformedTargetRegressor` or
``skdir.nn.DIRRegressor(target_transformer=...)``.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._validation import as_real_array, check_target

__all__ = ["METHODS", "TargetDistributionNormalizer"]

#: The per-target methods, in the order of the docstring.
METHODS = (
    "standard",
    "robust",
    "minmax",
    "log",
    "yeo-johnson",
    "box-cox",
    "quantile-normal",
    "quantile-uniform",
)

#: The power methods' lambda is the maximum-likelihood value within ``[-bound, bound]``.
LAMBDA_BOUND = 3.0
#: ``auto`` keeps a target whose absolute skewness is at most this with an affine scaling.
AUTO_SKEW_THRESHOLD = 0.5
#: ``auto`` picks ``robust`` for a symmetric target whose excess kurtosis exceeds this.
AUTO_KURTOSIS_THRESHOLD = 3.0


# --------------------------------------------------------------- per-target maps
class _Affine:
    """``z = (y - center) / scale`` (standard, robust and min-max scaling)."""

    def __init__(self, center: float, scale: float) -> None:
        self.center = center
        self.scale = scale

    def transform(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return (y - self.center) / self.scale

    def inverse(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        return z * self.scale + self.center


class _Log:
    """``z = log1p(y - shift)``; ``shift`` is 0 for non-negative training targets."""

    def __init__(self, shift: float) -> None:
        self.shift = shift

    def transform(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        if np.any(y - self.shift <= -1.0):
            low = float(y.min())
            raise ValueError(
                f"method='log' computes log1p(y - {self.shift:g}) and cannot take y = {low:g} "
                f"(it needs y > {self.shift - 1.0:g}, set by the training minimum); use "
                "'yeo-johnson' for targets that extend below the training range."
            )
        return np.log1p(y - self.shift)

    def inverse(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        with np.errstate(over="ignore"):
            return np.expm1(z) + self.shift


def _yeo_johnson(y: NDArray[np.float64], lmbda: float) -> NDArray[np.float64]:
    out = np.empty_like(y)
    pos = y >= 0
    if abs(lmbda) < 1e-12:
        out[pos] = np.log1p(y[pos])
    else:
        out[pos] = np.expm1(lmbda * np.log1p(y[pos])) / lmbda
    if abs(lmbda - 2.0) < 1e-12:
        out[~pos] = -np.log1p(-y[~pos])
    else:
        out[~pos] = -np.expm1((2.0 - lmbda) * np.log1p(-y[~pos])) / (2.0 - lmbda)
    return out


def _yeo_johnson_inverse(z: NDArray[np.float64], lmbda: float) -> NDArray[np.float64]:
    out = np.empty_like(z)
    pos = z >= 0
    with np.errstate(divide="ignore", over="ignore"):
        if abs(lmbda) < 1e-12:
            out[pos] = np.expm1(z[pos])
        else:
            # Past the image of the forward map (lmbda < 0, z >= -1/lmbda) the limit is +inf.
            base = np.maximum(1.0 + lmbda * z[pos], 0.0)
            out[pos] = np.expm1(np.log(base) / lmbda)
        if abs(lmbda - 2.0) < 1e-12:
            out[~pos] = -np.expm1(-z[~pos])
        else:
            base = np.maximum(1.0 - (2.0 - lmbda) * z[~pos], 0.0)
            out[~pos] = -np.expm1(np.log(base) / (2.0 - lmbda))
    return out


def _box_cox(y: NDArray[np.float64], lmbda: float) -> NDArray[np.float64]:
    if abs(lmbda) < 1e-12:
        return np.log(y)
    return np.expm1(lmbda * np.log(y)) / lmbda


def _box_cox_inverse(z: NDArray[np.float64], lmbda: float) -> NDArray[np.float64]:
    if abs(lmbda) < 1e-12:
        with np.errstate(over="ignore"):
            return np.exp(z)
    with np.errstate(divide="ignore", over="ignore"):
        # Past the image the limit is 0 (lmbda > 0) or +inf (lmbda < 0).
        base = np.maximum(1.0 + lmbda * z, 0.0)
        return np.exp(np.log(base) / lmbda)


class _Power:
    """Yeo-Johnson or Box-Cox with a maximum-likelihood lambda, then standardised."""

    def __init__(self, method: str, y: NDArray[np.float64]) -> None:
        self.method = method
        if method == "box-cox":
            self._check_positive(y)
            log_likelihood = stats.boxcox_llf
        else:
            log_likelihood = stats.yeojohnson_llf
        with np.errstate(all="ignore"):
            result = optimize.minimize_scalar(
                lambda lmbda: -log_likelihood(lmbda, y),
                bounds=(-LAMBDA_BOUND, LAMBDA_BOUND),
                method="bounded",
                options={"xatol": 1e-10},
            )
        self.lmbda = float(result.x)
        raw = self._forward(y)
        self.mean = float(raw.mean())
        self.std = float(raw.std())
        if not (math.isfinite(self.std) and self.std > 0):
            raise ValueError(
                f"The {method} transform of this target has no spread (lambda "
                f"{self.lmbda:g}); use method='standard' or 'robust' for it."
            )

    def _check_positive(self, y: NDArray[np.float64]) -> None:
        if self.method == "box-cox" and np.any(y <= 0):
            raise ValueError(
                f"method='box-cox' needs strictly positive targets, got a minimum of "
                f"{float(y.min()):g}; use 'yeo-johnson' (any sign) or 'log' instead."
            )

    def _forward(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.method == "box-cox":
            return _box_cox(y, self.lmbda)
        return _yeo_johnson(y, self.lmbda)

    def transform(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        self._check_positive(y)
        return (self._forward(y) - self.mean) / self.std

    def inverse(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        raw = z * self.std + self.mean
        if self.method == "box-cox":
            return _box_cox_inverse(raw, self.lmbda)
        return _yeo_johnson_inverse(raw, self.lmbda)


class _Quantile:
    """Empirical CDF onto a uniform or standard normal distribution."""

    def __init__(
        self, output: str, y: NDArray[np.float64], n_quantiles: int, subsample: Any, seed: Any
    ) -> None:
        self.quantiles = QuantileTransformer(
            n_quantiles=min(n_quantiles, len(y), subsample or len(y)),
            output_distribution=output,
            subsample=subsample,
            random_state=seed,
        ).fit(y[:, None])

    def transform(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.quantiles.transform(y[:, None])[:, 0]

    def inverse(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.quantiles.inverse_transform(z[:, None])[:, 0]


def _fit_map(method: str, y: NDArray[np.float64], est: TargetDistributionNormalizer, k: int):
    if method == "standard":
        return _Affine(float(y.mean()), float(y.std()))
    if method == "robust":
        q25, median, q75 = np.percentile(y, [25, 50, 75])
        if not q75 > q25:
            raise ValueError(
                f"method='robust' divides by the interquartile range, which is 0 for target "
                f"{k} (more than half of its values are tied at {median:g}); use "
                "'standard' or 'minmax' for it."
            )
        return _Affine(float(median), float(q75 - q25))
    if method == "minmax":
        low, high = float(y.min()), float(y.max())
        return _Affine(low, high - low)
    if method == "log":
        return _Log(min(0.0, float(y.min())))
    if method in ("yeo-johnson", "box-cox"):
        return _Power(method, y)
    output = "normal" if method == "quantile-normal" else "uniform"
    return _Quantile(output, y, est.n_quantiles, est.subsample, est.random_state)


def _auto_method(y: NDArray[np.float64]) -> str:
    """Choose a method for one target from its skewness, sign and tails."""
    skewness = float(stats.skew(y))
    if abs(skewness) <= AUTO_SKEW_THRESHOLD:
        q25, q75 = np.percentile(y, [25, 75])
        heavy = float(stats.kurtosis(y)) > AUTO_KURTOSIS_THRESHOLD
        return "robust" if heavy and q75 > q25 else "standard"
    return "box-cox" if float(y.min()) > 0 else "yeo-johnson"


class TargetDistributionNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Normalise each regression target with an invertible, distribution-aware map.

    Every target (column of ``y``) gets its own method, fitted on its training
    values only. Use it through
    :class:`sklearn.compose.TransformedTargetRegressor` (``transformer=``) or as
    ``skdir.nn.DIRRegressor(target_transformer=...)``. The second is the
    recommended composition with label-distribution smoothing, FDS or
    resampling: those act on the raw targets' density, whereas a
    ``TransformedTargetRegressor`` around them shows them the normalised targets,
    and a quantile or power method flattens exactly the imbalance they correct
    (20-bin max/min count ratio 620 on raw log-normal targets, 22.5 after
    Yeo-Johnson, 1.1 after the quantile-uniform map).

    Parameters
    ----------
    method : str or list of str, default="auto"
        One method for every target, or a list with one per target:

        - ``"standard"``: ``(y - mean) / std``.
        - ``"robust"``: ``(y - median) / IQR`` (interquartile range).
        - ``"minmax"``: ``(y - min) / (max - min)``, onto ``[0, 1]``.
        - ``"log"``: ``log1p(y - shift)`` with ``shift = min(0, min(y_train))``,
          so that non-positive targets can be logged; later targets must exceed
          ``shift - 1``.
        - ``"yeo-johnson"``: Yeo-Johnson power transform with the
          maximum-likelihood lambda (any sign), then standardised.
        - ``"box-cox"``: Box-Cox with the maximum-likelihood lambda, then
          standardised; strictly positive targets only. For both power methods
          the lambda is searched in ``[-3, 3]``: beyond it the map is
          numerically degenerate (a few tied values with one outlier can push
          the unbounded optimum to hundreds, and the inverse loses all precision).
        - ``"quantile-normal"`` / ``"quantile-uniform"``: the empirical CDF
          mapped onto a standard normal or uniform distribution.
        - ``"auto"``: chosen per target from its training values: a target with
          ``|skewness| <= 0.5`` keeps an affine map (``"robust"`` when its excess
          kurtosis exceeds 3, i.e. heavy tails or outliers, else
          ``"standard"``); a skewed strictly positive target gets ``"box-cox"``,
          any other skewed target ``"yeo-johnson"``. ``"auto"`` never chooses a
          quantile method, because they erase the imbalance that density-based
          methods act on. The choice is stored in ``methods_``.
    clip_quantiles : (float, float) or None, default=None
        Winsorize: before fitting and in ``transform``, each target is clipped
        to its training quantiles ``(low, high)``, e.g. ``(0.01, 0.99)``. The
        clip is not invertible: ``inverse_transform`` returns values inside the
        clipped range, and targets beyond it are not recovered.
    n_quantiles : int, default=1000
        Number of quantiles of the quantile methods (at most the number of
        training samples is used).
    subsample : int or None, default=None
        Number of samples the quantile methods estimate their quantiles from;
        ``None`` uses every sample.
    random_state : int, RandomState instance or None, default=None
        Seed of that subsampling (the only randomness).

    Attributes
    ----------
    methods_ : list of str
        The method of each target, with ``"auto"`` resolved.
    n_targets_ : int
        Number of targets seen in ``fit``.
    n_features_in_ : int
        Same as ``n_targets_`` (``TransformedTargetRegressor`` reads it).
    clip_bounds_ : ndarray of shape (n_targets, 2) or None
        The learned winsorizing bounds per target, or ``None`` without
        ``clip_quantiles``.
    lambdas_ : list of float or None
        The fitted power-transform lambda per target (``None`` for the other
        methods).

    Notes
    -----
    ``inverse_transform(transform(y))`` equals ``y`` up to floating-point error
    for every method and every ``y`` inside the training range (and inside the
    clip bounds). Outside the training range: the affine methods and ``"log"``
    extrapolate exactly; the quantile methods saturate, returning the training
    minimum or maximum; the power methods are exact wherever the value lies in
    the image of the power map, and beyond a bounded image return its limit
    (``inf`` or ``0`` for Box-Cox, ``+-inf`` for Yeo-Johnson) instead of NaN.
    The floating-point error of a power method grows with ``|lambda|`` and the
    spread of the target: with ``lambda = -3`` a value 100 times the smallest
    one is stored as ``1/3 - 1e-6/3`` and comes back with a relative error near
    ``1e-10``; on degenerate targets (nearly all values tied) it can reach
    ``1e-6``. A 1-D ``y`` gives a 1-D result, a 2-D ``y`` a 2-D one.

    References
    ----------
    Yeo, I.-K. and Johnson, R. A., "A new family of power transformations to
    improve normality or symmetry", Biometrika 87(4), 2000. Box, G. E. P. and
    Cox, D. R., "An analysis of transformations", JRSS B 26(2), 1964.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.compose import TransformedTargetRegressor
    >>> from sklearn.linear_model import Ridge
    >>> from skdir.target import TargetDistributionNormalizer
    >>> rng = np.random.default_rng(0)
    >>> y = np.column_stack([rng.lognormal(size=200), rng.normal(size=200)])
    >>> normalizer = TargetDistributionNormalizer().fit(y)
    >>> normalizer.methods_
    ['box-cox', 'standard']
    >>> bool(np.allclose(normalizer.inverse_transform(normalizer.transform(y)), y))
    True
    >>> X = rng.normal(size=(200, 3))
    >>> model = TransformedTargetRegressor(Ridge(), transformer=TargetDistributionNormalizer())
    >>> model.fit(X, y[:, 0]).predict(X).shape
    (200,)
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({*METHODS, "auto"}), list, tuple],
        "clip_quantiles": [tuple, list, None],
        "n_quantiles": [Interval(Integral, 2, None, closed="left")],
        "subsample": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        method: str | list[str] = "auto",
        *,
        clip_quantiles: tuple[float, float] | None = None,
        n_quantiles: int = 1000,
        subsample: int | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.method = method
        self.clip_quantiles = clip_quantiles
        self.n_quantiles = n_quantiles
        self.subsample = subsample
        self.random_state = random_state

    # ------------------------------------------------------------ helpers
    def _resolve_requested(self, n_targets: int) -> list[str]:
        allowed = (*METHODS, "auto")
        if isinstance(self.method, str):
            requested = [self.method] * n_targets
        else:
            requested = list(self.method)
            if len(requested) != n_targets:
                raise ValueError(
                    f"method lists {len(requested)} method(s) but y has {n_targets} target(s); "
                    "give one method, or one per target."
                )
        for name in requested:
            if name not in allowed:
                raise ValueError(f"Unknown method {name!r}; choose one of {', '.join(allowed)}.")
        return requested

    def _check_clip(self) -> tuple[float, float] | None:
        if self.clip_quantiles is None:
            return None
        values = tuple(self.clip_quantiles)
        ok = len(values) == 2 and all(
            isinstance(v, Real) and not isinstance(v, bool) for v in values
        )
        if not ok or not 0.0 <= values[0] < values[1] <= 1.0:
            raise ValueError(
                "clip_quantiles must be (low, high) with 0 <= low < high <= 1, e.g. "
                f"(0.01, 0.99); got {self.clip_quantiles!r}."
            )
        return float(values[0]), float(values[1])

    def _check_y(self, y: ArrayLike, name: str = "y") -> NDArray[np.float64]:
        check_is_fitted(self, "methods_")
        return check_target(y, estimator=self, reset=False, name=name, max_targets=np.inf)  # type: ignore[arg-type]

    def _clip(self, columns: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.clip_bounds_ is None:
            return columns
        return np.clip(columns, self.clip_bounds_[:, 0], self.clip_bounds_[:, 1])

    # ---------------------------------------------------------------- API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, y: ArrayLike, X: None = None) -> TargetDistributionNormalizer:
        """Choose and fit the map of every target.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Training targets.
        X : None
            Ignored; present so that ``fit(y)`` reads like other fit methods.

        Returns
        -------
        self : TargetDistributionNormalizer
            The fitted normalizer.
        """
        y = check_target(
            y,
            estimator=self,
            reset=True,
            max_targets=np.inf,  # type: ignore[arg-type]
            min_samples=2,
            allow_constant=False,
        )
        columns = y.reshape(len(y), -1)
        n_targets = self.n_targets_
        requested = self._resolve_requested(n_targets)
        clip = self._check_clip()
        self.n_features_in_ = n_targets
        self.clip_bounds_ = None if clip is None else np.quantile(columns, clip, axis=0).T.copy()
        columns = self._clip(columns)
        self.methods_ = []
        self._maps = []
        for k in range(n_targets):
            column = columns[:, k]
            if np.ptp(column) == 0:
                raise ValueError(
                    f"Target {k} is constant after clipping to clip_quantiles="
                    f"{self.clip_quantiles!r}; widen the quantiles."
                )
            method = _auto_method(column) if requested[k] == "auto" else requested[k]
            self.methods_.append(method)
            self._maps.append(_fit_map(method, column, self, k))
        self.lambdas_ = [getattr(m, "lmbda", None) for m in self._maps]
        return self

    def transform(self, y: ArrayLike) -> NDArray[np.float64]:
        """Normalise targets with the fitted maps.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets with the columns seen in ``fit``.

        Returns
        -------
        z : ndarray of the shape of ``y``, float64
            Normalised targets.
        """
        y = self._check_y(y)
        columns = self._clip(y.reshape(len(y), -1))
        out = (
            np.column_stack([m.transform(columns[:, k]) for k, m in enumerate(self._maps)])
            if len(columns)
            else np.empty_like(columns)
        )
        return out.reshape(y.shape)

    def inverse_transform(self, z: ArrayLike) -> NDArray[np.float64]:
        """Map normalised targets back to the original scale.

        Parameters
        ----------
        z : array-like of shape (n_samples,) or (n_samples, n_targets)
            Normalised targets, e.g. a regressor's predictions.

        Returns
        -------
        y : ndarray of the shape of ``z``, float64
            Targets on the original scale (see the Notes on values outside the
            training range).
        """
        check_is_fitted(self, "methods_")
        z = as_real_array(z, "z")
        if not np.isfinite(z).all():
            kind = "NaN" if np.isnan(z).any() else "infinity"
            raise ValueError(
                f"z contains {kind}; only finite values can be mapped back to the target "
                "scale. Check the regressor whose predictions are inverted."
            )
        z = check_target(
            z,
            estimator=self,
            reset=False,
            name="z",
            max_targets=np.inf,  # type: ignore[arg-type]
            min_samples=0,
        )
        columns = z.reshape(len(z), self.n_targets_)  # also for 0 rows
        out = (
            np.column_stack([m.inverse(columns[:, k]) for k, m in enumerate(self._maps)])
            if len(columns)
            else np.empty_like(columns)
        )
        return out.reshape(z.shape)

    def fit_transform(self, y: ArrayLike, X: None = None) -> NDArray[np.float64]:
        """Fit on ``y`` and return it normalised.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Training targets.
        X : None
            Ignored.

        Returns
        -------
        z : ndarray of the shape of ``y``
            Normalised targets.
        """
        return self.fit(y).transform(y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = True
        tags.requires_fit = True
        return tags
