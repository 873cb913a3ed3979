"""Ensembles of regressors: fold bagging and seed ensembles, with their spread.

:class:`BaggedRegressor` trains several clones of any regressor and averages
their predictions: one per fold, each leaving a different fold out (fold
bagging, as AutoGluon's bagged models; the left-out folds give honest
out-of-fold predictions of every training row), or one per random seed on all
rows (a deep ensemble, Lakshminarayanan, Pritzel & Blundell, "Simple and
Scalable Predictive Uncertainty Estimation using Deep Ensembles", NeurIPS 2017).
The members' spread is available from ``predict(X, return_std=True)``.
"""

from __future__ import annotations

import inspect
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, _fit_context, clone
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._validation import check_meta_fit_input, check_target

__all__ = ["BaggedRegressor", "target_strata"]


def target_strata(y: ArrayLike, n_splits: int) -> NDArray[np.intp]:
    """Return a stratum per sample so that folds cover the whole target range.

    Samples are ranked by their target (the first target for two) and cut into
    consecutive groups of ``n_splits`` samples; stratifying K folds on these
    puts one sample of every group in each fold, so the rare ends of the
    target are spread over all folds instead of landing in one.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Targets.
    n_splits : int
        Number of folds.

    Returns
    -------
    strata : ndarray of int, shape (n_samples,)
        Group of each sample (``rank // n_splits``); the last group absorbs a
        remainder smaller than ``n_splits``.

    Examples
    --------
    >>> from skdir.ensemble import target_strata
    >>> target_strata([5.0, 1.0, 3.0, 2.0, 4.0, 0.0], n_splits=2)
    array([2, 0, 1, 1, 2, 0])
    """
    y = check_target(y, max_targets=np.inf)
    first = y if y.ndim == 1 else y[:, 0]
    ranks = np.empty(len(first), dtype=np.intp)
    ranks[np.argsort(first, kind="stable")] = np.arange(len(first))
    strata = ranks // n_splits
    full = len(first) // n_splits
    if full and len(first) % n_splits:
        strata = np.minimum(strata, full - 1)  # a remainder joins the last full group
    return strata


def _accepts(estimator: Any, name: str) -> bool:
    try:
        return name in inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False


def _set_seed(estimator: Any, seed: int) -> Any:
    """Set every ``random_state`` parameter of ``estimator`` and its sub-estimators."""
    params = estimator.get_params(deep=True)
    seeds = {
        key: seed for key in params if key == "random_state" or key.endswith("__random_state")
    }
    return estimator.set_params(**seeds) if seeds else estimator


class BaggedRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Average several clones of a regressor: fold bagging or a seed ensemble.

    With ``bagging="folds"`` the training rows are cut into ``n_members``
    folds stratified over the target range (:func:`target_strata`), and member
    ``k`` is fitted on every fold but the ``k``-th; a regressor whose ``fit``
    takes ``eval_set`` (such as :class:`~skdir.nn.DIRRegressor`) early-stops on
    its left-out fold. Each training row is predicted by the one member that
    did not see it (``oof_prediction_``), which gives honest scores and
    calibration data without another fit. With ``bagging="seeds"`` every member
    is fitted on all rows with its own ``random_state`` (deep ensemble). In
    both cases the members get different random states drawn from
    ``random_state``, and ``predict`` averages them.

    Parameters
    ----------
    estimator : regressor
        The regressor to bag (cloned for each member); 1-D or 2-D ``y``.
    n_members : int, default=5
        Number of members (the number of folds with ``bagging="folds"``).
    bagging : {"folds", "seeds"}, default="folds"
        Leave one fold out per member, or train every member on all rows.
    random_state : int, RandomState instance or None, default=None
        Draws the folds and each member's ``random_state``.

    Attributes
    ----------
    estimators_ : list of regressors
        The fitted members.
    oof_prediction_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Out-of-fold prediction of every training row (``bagging="folds"`` only).
    fold_index_ : ndarray of int, shape (n_samples,)
        The fold each training row was left out of (``bagging="folds"`` only).
    label_density_ : LabelDensity
        The first member's ``label_density_`` when it has one (for shot scorers).
    n_features_in_ : int
        Number of input columns (when the members record it).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skdir.ensemble import BaggedRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = X @ [1.0, 2.0, 0.0] + 0.1 * rng.normal(size=60)
    >>> bag = BaggedRegressor(Ridge(), n_members=3, random_state=0).fit(X, y)
    >>> mean, std = bag.predict(X[:2], return_std=True)
    >>> mean.shape, bool(np.all(std < 0.1))
    ((2,), True)
    >>> float(np.mean((bag.oof_prediction_ - y) ** 2)) < 0.05
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "n_members": [Interval(Integral, 2, None, closed="left")],
        "bagging": [StrOptions({"folds", "seeds"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any,
        n_members: int = 5,
        *,
        bagging: str = "folds",
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.estimator = estimator
        self.n_members = n_members
        self.bagging = bagging
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> BaggedRegressor:
        """Fit the members.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or bags
            Inputs, in any form the estimator takes (rows are indexed with
            ``X[index]`` for arrays and DataFrames, by position for lists).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Passed to each member's ``fit`` for its rows.

        Returns
        -------
        self : BaggedRegressor
            The fitted ensemble.
        """
        X, y = check_meta_fit_input(X, y, "BaggedRegressor")
        n_samples = len(y)
        if self.bagging == "folds" and n_samples < self.n_members:
            raise ValueError(
                f"bagging='folds' with n_members={self.n_members} needs at least as many "
                f"samples, got {n_samples}; lower n_members or use bagging='seeds'."
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, np.empty((n_samples, 0)))
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_members)
        if self.bagging == "folds":
            strata = target_strata(y, self.n_members)
            if np.bincount(strata).min() >= self.n_members:
                splitter = StratifiedKFold(self.n_members, shuffle=True, random_state=rng)
            else:  # fewer rows than n_members in a stratum: plain shuffled folds
                splitter = KFold(self.n_members, shuffle=True, random_state=rng)
            splits = list(splitter.split(np.zeros(n_samples), strata))
        else:
            splits = [(np.arange(n_samples), None)] * self.n_members
        self.estimators_ = []
        self.fold_index_ = np.full(n_samples, -1, dtype=np.intp)
        oof = np.zeros(y.shape)
        for k, ((train, left_out), seed) in enumerate(zip(splits, seeds, strict=True)):
            member = _set_seed(clone(self.estimator), int(seed))
            params = {}
            if sample_weight is not None:
                params["sample_weight"] = sample_weight[train]
            if left_out is not None and _accepts(member, "eval_set"):
                params["eval_set"] = (_take(X, left_out), y[left_out])
            member.fit(_take(X, train), y[train], **params)
            if left_out is not None:
                oof[left_out] = np.asarray(member.predict(_take(X, left_out))).reshape(
                    oof[left_out].shape
                )
                self.fold_index_[left_out] = k
            self.estimators_.append(member)
        if self.bagging == "folds":
            self.oof_prediction_ = oof
        else:
            del self.fold_index_
        first = self.estimators_[0]
        for name in ("n_features_in_", "feature_names_in_", "label_density_"):
            if hasattr(first, name):
                setattr(self, name, getattr(first, name))
        self._y_shape = y.shape[1:]
        return self

    def predict(
        self, X: ArrayLike, return_std: bool = False
    ) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the members' mean prediction (and their standard deviation).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or bags
            Inputs.
        return_std : bool, default=False
            Also return the standard deviation of the members' predictions
            (``ddof=0``), per sample and target: the ensemble's spread.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Mean prediction.
        y_std : ndarray of the same shape
            Spread of the members (only with ``return_std=True``).
        """
        check_is_fitted(self, "estimators_")
        predictions = self.predict_members(X)
        mean = predictions.mean(axis=0)
        if return_std:
            return mean, predictions.std(axis=0)
        return mean

    def predict_members(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return every member's prediction, shape ``(n_members, n_samples[, n_targets])``."""
        check_is_fitted(self, "estimators_")
        outputs = [np.asarray(m.predict(X), dtype=np.float64) for m in self.estimators_]
        return np.stack([o.reshape(len(o), *self._y_shape) for o in outputs])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.input_tags = inner.input_tags
        tags.target_tags.multi_output = inner.target_tags.multi_output
        tags.non_deterministic = inner.non_deterministic or self.random_state is None
        return tags


def _take(X: Any, index: NDArray[np.intp]) -> Any:
    """Rows ``index`` of an array, a sparse matrix, a DataFrame or a list (of bags)."""
    return _safe_indexing(X, index)
