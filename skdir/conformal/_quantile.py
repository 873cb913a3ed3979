"""Several quantiles from scikit-learn quantile models, and their average across models."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from .._validation import check_meta_fit_input


def _check_quantiles(quantiles: object) -> NDArray[np.float64]:
    values = np.asarray(quantiles, dtype=np.float64).reshape(-1)
    if values.size < 2 or not np.all((values > 0) & (values < 1)) or np.any(np.diff(values) <= 0):
        raise ValueError(
            f"quantiles must be at least two increasing levels strictly between 0 and 1, "
            f"got {quantiles!r}; e.g. (0.05, 0.5, 0.95) for 90% intervals."
        )
    return values


def _middle(quantiles: NDArray[np.float64]) -> int:
    """Index of the level nearest the median (the point prediction)."""
    return int(np.argmin(np.abs(quantiles - 0.5)))


def copy_feature_attributes(owner: Any, fitted: Any) -> None:
    """Set ``owner``'s ``n_features_in_`` / ``feature_names_in_`` from a fitted model's."""
    for name in ("n_features_in_", "feature_names_in_"):
        if hasattr(fitted, name):
            setattr(owner, name, getattr(fitted, name))


def _as_3d(values: NDArray[np.float64], n_targets: int) -> NDArray[np.float64]:
    return values.reshape(len(values), n_targets, -1)


class MultiQuantileRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Several quantiles of the target from one scikit-learn quantile model per level.

    Fits one clone of ``estimator`` per quantile level (and target), with the
    level set through ``quantile_param`` (``"quantile"`` for
    :class:`~sklearn.ensemble.HistGradientBoostingRegressor` with
    ``loss="quantile"`` and :class:`~sklearn.linear_model.QuantileRegressor`,
    ``"alpha"`` for :class:`~sklearn.ensemble.GradientBoostingRegressor` with
    ``loss="quantile"`` and LightGBM's ``objective="quantile"``).
    :meth:`predict_quantiles` sorts each row's quantiles (the rearrangement of
    Chernozhukov, Fernández-Val & Galichon, "Quantile and probability curves
    without crossing", Econometrica 78(3), 2010), which removes crossings and
    never increases the pinball loss. It is what
    ``ConformalDIRRegressor(conformity_score="cqr")`` needs around scikit-learn models.

    Parameters
    ----------
    estimator : regressor
        A quantile regressor; cloned per level.
    quantiles : sequence of float, default=(0.05, 0.5, 0.95)
        Increasing levels in (0, 1).
    quantile_param : str, default="quantile"
        Name of the estimator's parameter that sets the level.

    Attributes
    ----------
    estimators_ : list of list of regressors
        ``estimators_[t][k]``: the model of target ``t`` at level ``quantiles[k]``.
    quantiles_ : ndarray of shape (n_quantiles,)
        The levels.
    n_targets_ : int
        Number of targets.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import HistGradientBoostingRegressor
    >>> from skdir.conformal import MultiQuantileRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(500, 1))
    >>> y = X[:, 0] + rng.normal(scale=0.1, size=500)
    >>> hgb = HistGradientBoostingRegressor(loss="quantile", max_iter=50)
    >>> model = MultiQuantileRegressor(hgb, quantiles=(0.1, 0.5, 0.9)).fit(X, y)
    >>> model.predict_quantiles(X[:3]).shape
    (3, 3)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict", "set_params"])],
        "quantiles": ["array-like"],
        "quantile_param": [str],
    }

    def __init__(
        self,
        estimator: Any,
        quantiles: tuple[float, ...] = (0.05, 0.5, 0.95),
        quantile_param: str = "quantile",
    ) -> None:
        self.estimator = estimator
        self.quantiles = quantiles
        self.quantile_param = quantile_param

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike, y: ArrayLike) -> MultiQuantileRegressor:
        """Fit one model per quantile level and target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        Returns
        -------
        self : MultiQuantileRegressor
            The fitted model.
        """
        self.quantiles_ = _check_quantiles(self.quantiles)
        if self.quantile_param not in self.estimator.get_params():
            raise ValueError(
                f"{type(self.estimator).__name__} has no parameter {self.quantile_param!r} "
                "to set the quantile level; pass quantile_param (e.g. 'quantile' or 'alpha')."
            )
        X, y = check_meta_fit_input(X, y, "MultiQuantileRegressor")
        self._y_ndim = y.ndim
        y2 = y.reshape(len(y), -1)
        self.n_targets_ = y2.shape[1]
        self.estimators_ = [
            [
                clone(self.estimator).set_params(**{self.quantile_param: float(q)}).fit(X, column)
                for q in self.quantiles_
            ]
            for column in y2.T
        ]
        copy_feature_attributes(self, self.estimators_[0][0])
        return self

    def predict_quantiles(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return the sorted quantiles.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        quantiles : ndarray of shape (n_samples, n_quantiles) or \
(n_samples, n_targets, n_quantiles)
            One column per level of ``quantiles_``, increasing along the last axis.
        """
        check_is_fitted(self, "estimators_")
        out = np.stack(
            [
                np.column_stack([np.asarray(m.predict(X), dtype=np.float64) for m in models])
                for models in self.estimators_
            ],
            axis=1,
        )
        out = np.sort(out, axis=-1)
        return out[:, 0] if self._y_ndim == 1 else out

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return the quantile nearest the median as the point prediction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        return self.predict_quantiles(X)[..., _middle(self.quantiles_)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = self.estimator.__sklearn_tags__().input_tags
        tags.target_tags.multi_output = True  # one model per target column
        return tags


class QuantileAverager(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Average the quantiles of several quantile models, level by level.

    The simplest member of the quantile-aggregation family of Fakoor, Kim,
    Mueller, Smola & Tibshirani, "Flexible Model Aggregation for Quantile
    Regression" (JMLR 24, 2023): every model predicts the same levels, and the
    aggregate is the weighted mean of their quantiles per level (the paper's
    global weights, here fixed by the user or uniform, instead of fitted), sorted
    per row so that levels never cross. The paper finds that averaging
    already helps when the models err differently; whether it helps here was
    measured in ``benchmarks/bench_conformal.py``.

    Parameters
    ----------
    estimators : list of (str, regressor)
        Named models, each with ``predict_quantiles(X)`` giving the same
        levels (e.g. :class:`MultiQuantileRegressor`, or
        :class:`~skdir.nn.DIRRegressor` with ``criterion=PinballLoss``).
    weights : array-like of shape (n_estimators,) or None, default=None
        Non-negative weights (normalised to sum 1); ``None`` is uniform.

    Attributes
    ----------
    estimators_ : list of regressors
        The fitted models.
    weights_ : ndarray of shape (n_estimators,)
        The normalised weights.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import HistGradientBoostingRegressor
    >>> from sklearn.linear_model import QuantileRegressor
    >>> from skdir.conformal import MultiQuantileRegressor, QuantileAverager
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(300, 1))
    >>> y = X[:, 0] + rng.normal(scale=0.1, size=300)
    >>> levels = (0.1, 0.5, 0.9)
    >>> hgb = MultiQuantileRegressor(
    ...     HistGradientBoostingRegressor(loss="quantile", max_iter=30), levels)
    >>> linear = MultiQuantileRegressor(QuantileRegressor(alpha=0.0), levels)
    >>> model = QuantileAverager([("hgb", hgb), ("linear", linear)]).fit(X, y)
    >>> model.predict_quantiles(X[:2]).shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        "estimators": [list],
        "weights": ["array-like", None],
    }

    def __init__(self, estimators: list[tuple[str, Any]], weights: ArrayLike | None = None):
        self.estimators = estimators
        self.weights = weights

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike, y: ArrayLike) -> QuantileAverager:
        """Fit every model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        Returns
        -------
        self : QuantileAverager
            The fitted aggregate.
        """
        if not self.estimators or not all(
            isinstance(e, (tuple, list)) and len(e) == 2 and hasattr(e[1], "fit")
            for e in self.estimators
        ):
            raise ValueError(
                "estimators must be a non-empty list of (name, estimator) pairs whose "
                "estimators have predict_quantiles."
            )
        n = len(self.estimators)
        weights = np.ones(n) if self.weights is None else np.asarray(self.weights, float)
        if weights.shape != (n,) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(
                f"weights must be {n} finite non-negative numbers (one per estimator), "
                f"got {self.weights!r}."
            )
        if weights.sum() <= 0:
            raise ValueError("weights must not all be zero.")
        self.weights_ = weights / weights.sum()
        X, y = check_meta_fit_input(X, y, "QuantileAverager")
        self._y_ndim = y.ndim
        self.n_targets_ = 1 if y.ndim == 1 else y.shape[1]
        self.estimators_ = [clone(e).fit(X, y) for _, e in self.estimators]
        copy_feature_attributes(self, self.estimators_[0])
        for model in self.estimators_:
            if not hasattr(model, "predict_quantiles"):
                raise ValueError(
                    f"{type(model).__name__} has no predict_quantiles(X); every estimator "
                    "of QuantileAverager must predict the same quantile levels."
                )
        return self

    def predict_quantiles(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return the weighted mean of the models' quantiles, sorted per row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        quantiles : ndarray of shape (n_samples, n_quantiles) or \
(n_samples, n_targets, n_quantiles)
        """
        check_is_fitted(self, "estimators_")
        parts = [
            _as_3d(np.asarray(m.predict_quantiles(X), dtype=np.float64), self.n_targets_)
            for m in self.estimators_
        ]
        shapes = {p.shape for p in parts}
        if len(shapes) != 1:
            raise ValueError(
                f"The estimators predict different numbers of quantiles ({sorted(shapes)}); "
                "give them the same levels."
            )
        out = np.sort(np.einsum("m,mntq->ntq", self.weights_, np.stack(parts)), axis=-1)
        return out[:, 0] if self._y_ndim == 1 else out

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return the middle quantile (the median for an odd number of symmetric levels).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        quantiles = self.predict_quantiles(X)
        return quantiles[..., quantiles.shape[-1] // 2]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = [e.__sklearn_tags__() for _, e in self.estimators]
        tags.input_tags.allow_nan = all(t.input_tags.allow_nan for t in inner)
        tags.input_tags.sparse = all(t.input_tags.sparse for t in inner)
        tags.target_tags.multi_output = all(t.target_tags.multi_output for t in inner)
        return tags
