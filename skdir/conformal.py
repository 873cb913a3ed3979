"""Conformal prediction intervals around any regressor, with per-region calibration.

:class:`ConformalDIRRegressor` wraps a scikit-learn or skdir regressor and turns
its point predictions into intervals that contain the true target with a chosen
probability ``1 - alpha``:

* ``method="split"``: split (inductive) conformal prediction (Vovk, Gammerman &
  Shafer, "Algorithmic Learning in a Random World", Springer 2005; Papadopoulos
  et al. 2002). A calibration part is held out, the model is fitted on the rest
  and the absolute residuals of the calibration rows set the interval's width.
* ``method="cv_plus"``: CV+ (Barber, Candès, Ramdas & Tibshirani, "Predictive
  inference with the jackknife+", Annals of Statistics 49(1), 2021). ``cv`` fold
  models, each fitted without one fold; every row's out-of-fold residual is used,
  so no row is spent on calibration alone.

Plain conformal intervals keep their promise on average over the test rows, not
in the rare target ranges a DIR model is judged on. ``calibration="mondrian"``
(Mondrian conformal prediction, Vovk et al. 2005, ch. 4.5) therefore calibrates
each bin of the *predicted* value on its own: the true label of a test row is
unknown, its prediction is not, and a high-noise range of the prediction gets
its own, wider interval.

The module also holds the interval metrics :func:`interval_coverage`,
:func:`interval_width` and :func:`coverage_report` (overall, per shot region and
in the worst occupied label bin).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, _fit_context, clone
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._validation import check_meta_fit_input, check_target
from .density import LabelDensity
from .ensemble import target_strata

__all__ = [
    "ConformalDIRRegressor",
    "coverage_report",
    "interval_coverage",
    "interval_width",
    "min_calibration_size",
]

#: Test rows times calibration rows handled at once by CV+ (memory bound).
_CHUNK_CELLS = 2_000_000


def _check_alpha(alpha: object) -> float:
    if (
        not isinstance(alpha, Real)
        or isinstance(alpha, bool)
        or not math.isfinite(alpha)
        or not 0 < alpha < 1
    ):
        raise ValueError(
            f"alpha must be a number strictly between 0 and 1 (the miscoverage rate: "
            f"alpha=0.1 asks for 90% intervals), got {alpha!r}."
        )
    return float(alpha)


def min_calibration_size(alpha: float) -> int:
    """Return the fewest calibration scores that give a finite interval at ``alpha``.

    The conformal quantile is the ``ceil((n + 1) * (1 - alpha))``-th smallest of
    ``n`` scores; it exists when that rank is at most ``n``, i.e. when
    ``n >= ceil(1 / alpha) - 1``.

    Parameters
    ----------
    alpha : float
        Miscoverage rate in (0, 1).

    Returns
    -------
    n : int
        The smallest admissible number of calibration scores.

    Examples
    --------
    >>> from skdir.conformal import min_calibration_size
    >>> min_calibration_size(0.1), min_calibration_size(0.05)
    (9, 19)
    """
    alpha = _check_alpha(alpha)
    n = max(math.ceil(1 / alpha - 1e-9) - 1, 1)
    while math.ceil((n + 1) * (1 - alpha) - 1e-9) > n:  # guard float rounding
        n += 1
    return n


def _upper_rank(n: int, alpha: float) -> int:
    """1-based rank ``ceil((n + 1)(1 - alpha))`` of the conformal quantile."""
    return math.ceil((n + 1) * (1 - alpha) - 1e-9)


def _too_few(n: int, alpha: float, where: str) -> ValueError:
    need = min_calibration_size(alpha)
    return ValueError(
        f"{where} has {n} calibration score(s), but alpha={alpha:g} needs at least {need} "
        f"(n >= ceil(1/alpha) - 1) for a finite interval; use more data, a larger "
        "calibration_size or a larger alpha."
    )


def _merge_groups(counts: NDArray[np.intp], need: int) -> NDArray[np.intp]:
    """Map consecutive bins to groups that each hold at least ``need`` rows.

    The smallest group merges with its smaller neighbour until every group is
    large enough (or one group is left).
    """
    groups = [[b, b, int(c)] for b, c in enumerate(counts)]
    while len(groups) > 1:
        sizes = [g[2] for g in groups]
        i = int(np.argmin(sizes))
        if sizes[i] >= need:
            break
        if i == 0:
            j = 1
        elif i == len(groups) - 1:
            j = i - 1
        else:
            j = i - 1 if sizes[i - 1] <= sizes[i + 1] else i + 1
        lo, hi = min(i, j), max(i, j)
        groups[lo] = [groups[lo][0], groups[hi][1], groups[lo][2] + groups[hi][2]]
        del groups[hi]
    mapping = np.empty(len(counts), dtype=np.intp)
    for g, (start, stop, _) in enumerate(groups):
        mapping[start : stop + 1] = g
    return mapping


class ConformalDIRRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Conformal prediction intervals around a regressor, calibrated per predicted range.

    ``fit`` fits clones of ``estimator`` and keeps conformity scores (absolute
    residuals ``|y - f(x)|`` of rows the model did not see); ``predict`` gives
    the point prediction and :meth:`predict_interval` an interval per target
    that holds the true target with probability at least ``1 - alpha`` for
    exchangeable data.

    ``method="split"`` (split conformal, Vovk, Gammerman & Shafer 2005): a
    calibration part of ``calibration_size`` of the rows is held out,
    stratified over quantile bins of the (first) target so that the rare
    ranges are represented in both parts; the clone is fitted on the rest
    (it is *not* refitted on all rows) and the interval is
    ``f(x) +- q``, with ``q`` the ``ceil((n + 1)(1 - alpha))``-th smallest of
    the ``n`` calibration scores.

    ``method="cv_plus"`` (CV+, Barber, Candès, Ramdas & Tibshirani 2021): ``cv``
    fold models ``f_{-k}``; row ``i`` of fold ``k(i)`` has the out-of-fold
    residual ``R_i``; the interval of ``x`` runs from the
    ``floor(alpha (n + 1))``-th smallest of ``f_{-k(i)}(x) - R_i`` to the
    ``ceil((1 - alpha)(n + 1))``-th smallest of ``f_{-k(i)}(x) + R_i``, with
    coverage at least ``1 - 2 alpha`` in theory and about ``1 - alpha`` in
    practice. The point prediction is the mean of the fold models. When
    ``estimator`` is a fold-bagging ensemble (a parameter ``bagging="folds"``,
    as :class:`skdir.ensemble.BaggedRegressor`, or an
    :class:`skdir.auto.AutoDIRRegressor`) whose fitted clone exposes its
    members (``estimators_``), ``oof_prediction_`` and ``fold_index_``, it is
    fitted once on all rows and no fold model is refitted: its out-of-fold
    predictions give the residuals and its members the fold models (for
    AutoDIRRegressor, fold ``k``'s model is the weighted sum of the ``k``-th
    member of every bag it keeps, as the bags share their folds). ``cv`` is
    then ignored and the ensemble's own ``predict`` is the point prediction.

    ``calibration="marginal"`` is plain split conformal or CV+: one set of
    scores for all test rows. ``calibration="mondrian"`` (Mondrian conformal,
    Vovk et al. 2005) cuts the range of the *predicted* value (the label of a
    test row is unknown) into ``n_bins`` quantile bins of the calibration
    predictions (the out-of-fold predictions for CV+), per target, and
    calibrates each bin on its own scores with the finite-sample rank
    ``ceil((n_b + 1)(1 - alpha))`` of its ``n_b`` rows; the coverage then holds
    within each bin of the prediction. A bin with fewer than
    :func:`min_calibration_size` ``(alpha)`` rows is merged with its smaller
    neighbour until every bin has enough (so the bins used depend on
    ``alpha``). For CV+ the Mondrian version is a heuristic (CV+ restricted to
    the rows of the test row's bin); Barber et al.'s guarantee covers the
    marginal one.

    Parameters
    ----------
    estimator : regressor
        The model; cloned, never modified.
    method : {"split", "cv_plus"}, default="split"
        Split conformal or CV+.
    calibration : {"mondrian", "marginal"}, default="mondrian"
        Calibrate per bin of the predicted value, or over all rows.
    n_bins : int, default=5
        Number of predicted-value bins per target for ``calibration="mondrian"``.
    cv : int, default=5
        Number of folds for ``method="cv_plus"``.
    calibration_size : float, default=0.25
        Share of the rows held out for calibration with ``method="split"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the calibration split and the folds.

    Attributes
    ----------
    estimator_ : regressor or None
        The fitted model behind ``predict``: the clone fitted on the training
        part (split) or the reused fold-bagging ensemble (CV+); ``None`` for
        CV+ with its own fold models.
    estimators_ : list of regressors or None
        CV+ only: the fold models (``None`` when they are an AutoDIRRegressor's
        weighted bags).
    calibration_index_ : ndarray of int
        Split only: the rows held out for calibration.
    calibration_prediction_ : ndarray of shape (n_calibration, n_targets)
        Predictions of the calibration rows (out-of-fold predictions for CV+).
    conformity_scores_ : ndarray of shape (n_calibration, n_targets)
        Absolute residuals of the calibration rows.
    fold_index_ : ndarray of int
        CV+ only: the fold of every training row.
    bin_edges_ : list of ndarray
        Inner edges of the predicted-value bins per target (empty for
        ``calibration="marginal"``).
    n_targets_ : int
        Number of targets seen in ``fit``.
    n_features_in_ : int
        Number of features, when the fitted model records it.

    See Also
    --------
    coverage_report : Coverage and width overall, per shot region and per bin.
    skdir.ensemble.BaggedRegressor : Fold bagging whose members CV+ reuses.

    Notes
    -----
    For two targets, :meth:`predict_interval` gives one interval per target,
    each at level ``1 - alpha``; the box they span holds both targets with
    probability at least ``1 - 2 alpha`` (union bound). ``joint=True`` uses
    ``alpha / n_targets`` per target (Bonferroni), so that the box holds all
    targets with probability at least ``1 - alpha``.

    References
    ----------
    V. Vovk, A. Gammerman and G. Shafer, "Algorithmic Learning in a Random
    World", Springer, 2005.

    R. F. Barber, E. J. Candès, A. Ramdas and R. J. Tibshirani, "Predictive
    inference with the jackknife+", The Annals of Statistics 49(1), 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skdir.conformal import ConformalDIRRegressor, interval_coverage
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 1, size=(2000, 1))
    >>> y = 2 * X[:, 0] + rng.normal(scale=0.1 + X[:, 0], size=2000)
    >>> model = ConformalDIRRegressor(Ridge(), random_state=0).fit(X[:1000], y[:1000])
    >>> intervals = model.predict_interval(X[1000:], alpha=0.1)
    >>> intervals.shape
    (1000, 2)
    >>> 0.85 < interval_coverage(y[1000:], intervals) < 0.95
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "method": [StrOptions({"split", "cv_plus"})],
        "calibration": [StrOptions({"mondrian", "marginal"})],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "calibration_size": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any,
        method: str = "split",
        calibration: str = "mondrian",
        n_bins: int = 5,
        cv: int = 5,
        calibration_size: float = 0.25,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.calibration = calibration
        self.n_bins = n_bins
        self.cv = cv
        self.calibration_size = calibration_size
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike, y: ArrayLike) -> ConformalDIRRegressor:
        """Fit the model(s) and compute the conformity scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, in any form the estimator takes.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (finite).

        Returns
        -------
        self : ConformalDIRRegressor
            The fitted wrapper.
        """
        X, y = check_meta_fit_input(X, y, "ConformalDIRRegressor")
        n_samples = len(y)
        self._y_shape = y.shape[1:]
        y2 = y.reshape(n_samples, -1)
        self.n_targets_ = y2.shape[1]
        rng = check_random_state(self.random_state)
        if self.method == "split":
            first = self._fit_split(X, y, y2, rng)
        else:
            first = self._fit_cv_plus(X, y, y2, rng)
        self.conformity_scores_ = np.abs(y2[self._calibration_rows] - self.calibration_prediction_)
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(first, name):
                setattr(self, name, getattr(first, name))
        self.bin_edges_ = [
            self._edges(self.calibration_prediction_[:, t]) for t in range(self.n_targets_)
        ]
        return self

    def _fit_split(self, X: Any, y: NDArray, y2: NDArray, rng: np.random.RandomState) -> Any:
        n = len(y2)
        rows = np.arange(n)
        size = self.calibration_size
        n_cal = math.ceil(size * n)
        if n_cal < 1 or n_cal >= n:
            raise ValueError(
                f"calibration_size={size} of {n} rows leaves no training or no calibration "
                "row; pass more rows or another calibration_size."
            )
        group = math.ceil(1 / min(size, 1 - size))
        try:
            strata = target_strata(y2[:, 0], group) if n >= 2 * group else None
            train, cal = train_test_split(rows, test_size=n_cal, stratify=strata, random_state=rng)
        except ValueError:  # a stratum too small for the split: plain shuffled split
            train, cal = train_test_split(rows, test_size=n_cal, random_state=rng)
        train, cal = np.sort(train), np.sort(cal)
        model = clone(self.estimator)
        model.fit(_safe_indexing(X, train), y[train])
        self.estimator_ = model
        self.calibration_index_ = cal
        self._calibration_rows = cal
        self.calibration_prediction_ = self._predict_2d(model, _safe_indexing(X, cal))
        return model

    def _fit_cv_plus(self, X: Any, y: NDArray, y2: NDArray, rng: np.random.RandomState) -> Any:
        n = len(y2)
        self._calibration_rows = np.arange(n)
        if _reuses_folds(self.estimator):
            fitted = clone(self.estimator).fit(X, y)
            if self._take_folds(fitted, n):
                return fitted
        if n < self.cv:
            raise ValueError(
                f"method='cv_plus' with cv={self.cv} needs at least as many samples, got {n}."
            )
        strata = target_strata(y2[:, 0], self.cv)
        if np.bincount(strata).min() >= self.cv:
            splitter = StratifiedKFold(self.cv, shuffle=True, random_state=rng)
        else:
            splitter = KFold(self.cv, shuffle=True, random_state=rng)
        self.estimator_ = None
        self._fold_source = "members"
        self.estimators_ = []
        self.fold_index_ = np.full(n, -1, dtype=np.intp)
        oof = np.zeros(y2.shape)
        for k, (train, left_out) in enumerate(splitter.split(np.zeros(n), strata)):
            model = clone(self.estimator).fit(_safe_indexing(X, train), y[train])
            oof[left_out] = self._predict_2d(model, _safe_indexing(X, left_out))
            self.fold_index_[left_out] = k
            self.estimators_.append(model)
        self.calibration_prediction_ = oof
        return self.estimators_[0]

    def _take_folds(self, fitted: Any, n: int) -> bool:
        """Reuse the folds of a fitted fold-bagging model; False when it has none."""
        names = ("estimators_", "oof_prediction_", "fold_index_")
        if not all(hasattr(fitted, a) for a in names):
            return False
        fold_index = np.asarray(fitted.fold_index_, dtype=np.intp)
        n_folds = int(fold_index.max()) + 1
        members = fitted.estimators_
        if isinstance(members, dict):  # AutoDIRRegressor: weighted bags on shared folds
            bags = list(members.values())
            shared = all(
                len(bag.estimators_) == n_folds
                and np.array_equal(np.asarray(bag.fold_index_), fold_index)
                for bag in bags
            )
            if not shared or not hasattr(fitted, "predict_members"):
                return False
            self._fold_source = "weighted_bags"
            self.estimators_ = None
        else:
            if len(members) != n_folds:
                return False
            self._fold_source = "members"
            self.estimators_ = list(members)
        self.estimator_ = fitted
        self.fold_index_ = fold_index
        self.calibration_prediction_ = np.asarray(
            fitted.oof_prediction_, dtype=np.float64
        ).reshape(n, -1)
        return True

    def _predict_2d(self, model: Any, X: Any) -> NDArray[np.float64]:
        out = np.asarray(model.predict(X), dtype=np.float64)
        return out.reshape(len(out), -1)

    def _edges(self, prediction: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.calibration == "marginal" or self.n_bins == 1:
            return np.empty(0)
        quantiles = np.linspace(0, 1, self.n_bins + 1)[1:-1]
        return np.quantile(prediction, quantiles)

    # -------------------------------------------------------------- predict
    def _fold_predictions(self, X: Any) -> NDArray[np.float64]:
        """Every fold model's prediction, shape ``(n_folds, n_samples, n_targets)``."""
        if self._fold_source == "members":
            return np.stack([self._predict_2d(m, X) for m in self.estimators_])
        # weighted bags (AutoDIRRegressor): fold k's model is the weighted sum of the
        # k-th member of every bag; predict_members lists the bags' members in order
        predictions, weights = self.estimator_.predict_members(X)
        n_folds = int(self.fold_index_.max()) + 1
        n_bags = len(weights) // n_folds
        predictions = np.asarray(predictions, dtype=np.float64)
        predictions = predictions.reshape(n_bags, n_folds, predictions.shape[1], -1)
        fold_weights = np.asarray(weights).reshape(n_bags, n_folds) * n_folds
        return np.einsum("bk,bknt->knt", fold_weights, predictions)

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return the point prediction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The fitted model's prediction (split), or the mean of the fold models
            (CV+; the reused ensemble's own prediction when there is one).
        """
        check_is_fitted(self, "conformity_scores_")
        if self.estimator_ is not None:
            pred = self._predict_2d(self.estimator_, X)
        else:
            pred = self._fold_predictions(X).mean(axis=0)
        return pred.reshape(len(pred), *self._y_shape)

    def predict_interval(
        self, X: ArrayLike, alpha: float = 0.1, *, joint: bool = False
    ) -> NDArray[np.float64]:
        """Return conformal prediction intervals.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        alpha : float, default=0.1
            Miscoverage rate in (0, 1): each interval holds its target with
            probability at least ``1 - alpha`` (split; ``1 - 2 alpha`` in theory
            for CV+).
        joint : bool, default=False
            Only matters for several targets. ``False``: each target's interval
            at level ``1 - alpha`` (the box holds all targets with probability
            at least ``1 - n_targets * alpha``, union bound). ``True``:
            Bonferroni, ``alpha / n_targets`` per target, so that the box holds
            all targets with probability at least ``1 - alpha``.

        Returns
        -------
        intervals : ndarray of shape (n_samples, 2) or (n_samples, n_targets, 2)
            Lower and upper bounds; ``(n_samples, 2)`` for a 1-D target.

        Raises
        ------
        ValueError
            If ``alpha`` is outside (0, 1), or there are fewer calibration scores
            than ``alpha`` needs (:func:`min_calibration_size`).
        """
        check_is_fitted(self, "conformity_scores_")
        alpha = _check_alpha(alpha)
        n_targets = self.n_targets_
        level = alpha / n_targets if joint else alpha
        n_cal = len(self.conformity_scores_)
        if n_cal < min_calibration_size(level):
            raise _too_few(n_cal, level, "The calibration set")
        if self.method == "split":
            center = self._predict_2d(self.estimator_, X)
            folds = None
        else:
            folds = self._fold_predictions(X)
            center = (
                self._predict_2d(self.estimator_, X)
                if self.estimator_ is not None
                else folds.mean(axis=0)
            )
        out = np.empty((len(center), n_targets, 2))
        for t in range(n_targets):
            cal_bins = np.searchsorted(
                self.bin_edges_[t], self.calibration_prediction_[:, t], side="right"
            )
            test_bins = np.searchsorted(self.bin_edges_[t], center[:, t], side="right")
            n_bins = len(self.bin_edges_[t]) + 1
            mapping = _merge_groups(
                np.bincount(cal_bins, minlength=n_bins), min_calibration_size(level)
            )
            cal_groups, test_groups = mapping[cal_bins], mapping[test_bins]
            for g in np.unique(test_groups):
                rows = np.flatnonzero(test_groups == g)
                members = np.flatnonzero(cal_groups == g)
                scores = self.conformity_scores_[members, t]
                if folds is None:
                    q = _order_stat(scores, _upper_rank(len(scores), level))
                    out[rows, t, 0] = center[rows, t] - q
                    out[rows, t, 1] = center[rows, t] + q
                else:
                    fold_of = self.fold_index_[members]
                    out[rows, t] = _cv_plus_bounds(folds[:, rows, t], fold_of, scores, level)
        return out[:, 0] if self._y_shape == () else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.input_tags = inner.input_tags
        tags.target_tags.multi_output = inner.target_tags.multi_output
        tags.non_deterministic = inner.non_deterministic or self.random_state is None
        return tags


def _reuses_folds(estimator: Any) -> bool:
    """Whether CV+ can take the folds of ``estimator`` itself (fold bagging)."""
    if getattr(estimator, "bagging", None) == "folds":
        return True
    from .auto import AutoDIRRegressor  # late: skdir.auto is heavy

    return isinstance(estimator, AutoDIRRegressor)


def _order_stat(values: NDArray[np.float64], rank: int) -> float:
    """Return the ``rank``-th smallest (1-based) of ``values``."""
    return float(np.partition(values, rank - 1)[rank - 1])


def _cv_plus_bounds(
    fold_pred: NDArray[np.float64],
    fold_of: NDArray[np.intp],
    scores: NDArray[np.float64],
    alpha: float,
) -> NDArray[np.float64]:
    """CV+ bounds for test rows from ``fold_pred`` (n_folds, n_rows) and n scores."""
    n = len(scores)
    upper_rank = _upper_rank(n, alpha)  # ceil((1 - alpha)(n + 1))
    lower_rank = n + 1 - upper_rank  # floor(alpha (n + 1))
    n_rows = fold_pred.shape[1]
    out = np.empty((n_rows, 2))
    step = max(1, _CHUNK_CELLS // max(n, 1))
    for start in range(0, n_rows, step):
        block = fold_pred[:, start : start + step][fold_of].T  # (rows, n)
        low = block - scores
        high = block + scores
        out[start : start + step, 0] = np.partition(low, lower_rank - 1, axis=1)[:, lower_rank - 1]
        out[start : start + step, 1] = np.partition(high, upper_rank - 1, axis=1)[
            :, upper_rank - 1
        ]
    return out


# ------------------------------------------------------------------ metrics
def _check_intervals(
    y: ArrayLike | None, intervals: ArrayLike
) -> tuple[NDArray[np.float64] | None, NDArray[np.float64]]:
    """Return ``y`` as (n, T) and ``intervals`` as (n, T, 2)."""
    arr = np.asarray(intervals, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 2:
        arr = arr[:, None, :]
    if arr.ndim != 3 or arr.shape[2] != 2:
        raise ValueError(
            "intervals must have shape (n_samples, 2) or (n_samples, n_targets, 2), got "
            f"{np.shape(intervals)}."
        )
    if np.isnan(arr).any():
        raise ValueError("intervals contain NaN.")
    if (arr[..., 0] > arr[..., 1]).any():
        raise ValueError("intervals have a lower bound above the upper bound.")
    if y is None:
        return None, arr
    y_arr = check_target(y, max_targets=np.inf).reshape(len(np.asarray(y)), -1)
    if y_arr.shape != arr.shape[:2]:
        raise ValueError(
            f"y has shape {y_arr.shape[0]} x {y_arr.shape[1]} target(s) but intervals cover "
            f"{arr.shape[0]} x {arr.shape[1]}; pass one interval per sample and target."
        )
    return y_arr, arr


def _covered(y: NDArray[np.float64], arr: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Whether every target of each row lies in its interval, shape (n,)."""
    return ((arr[..., 0] <= y) & (y <= arr[..., 1])).all(axis=1)


def interval_coverage(y: ArrayLike, intervals: ArrayLike) -> float:
    """Return the share of rows whose targets all lie in their intervals.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        True targets.
    intervals : array-like of shape (n_samples, 2) or (n_samples, n_targets, 2)
        Lower and upper bounds (closed intervals).

    Returns
    -------
    coverage : float
        For several targets, the joint coverage (a row counts when every
        target is inside its interval).

    Examples
    --------
    >>> from skdir.conformal import interval_coverage
    >>> interval_coverage([1.0, 2.0, 5.0], [[0, 2], [2, 3], [0, 1]])
    0.6666666666666666
    """
    y_arr, arr = _check_intervals(y, intervals)
    return float(_covered(y_arr, arr).mean())


def interval_width(intervals: ArrayLike) -> float | NDArray[np.float64]:
    """Return the mean interval width (per target for several targets).

    Parameters
    ----------
    intervals : array-like of shape (n_samples, 2) or (n_samples, n_targets, 2)
        Lower and upper bounds.

    Returns
    -------
    width : float or ndarray of shape (n_targets,)
        A float for ``(n_samples, 2)`` intervals, one mean per target otherwise.

    Examples
    --------
    >>> from skdir.conformal import interval_width
    >>> interval_width([[0, 2], [2, 3]])
    1.5
    """
    raw = np.asarray(intervals)
    _, arr = _check_intervals(None, intervals)
    width = (arr[..., 1] - arr[..., 0]).mean(axis=0)
    return float(width[0]) if raw.ndim == 2 else width


def coverage_report(
    y: ArrayLike,
    intervals: ArrayLike,
    label_density: LabelDensity | None = None,
    *,
    many: float = 100,
    few: float = 20,
) -> dict[str, Any]:
    """Coverage and mean width overall, per shot region and in the worst label bin.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        True targets (one or two targets when regions are reported).
    intervals : array-like of shape (n_samples, 2) or (n_samples, n_targets, 2)
        Lower and upper bounds.
    label_density : LabelDensity or None, default=None
        Fitted density of the *training* targets that defines the shot regions
        and bins (:meth:`skdir.density.LabelDensity.shot_regions`). ``None``
        fits ``LabelDensity()`` on ``y`` itself.
    many, few : float, default=100, 20
        Shot thresholds passed to ``shot_regions``.

    Returns
    -------
    report : dict
        ``"coverage"`` (joint over targets) and ``"width"`` (mean, per target
        for several targets); ``"regions"``: for each of ``"many"``,
        ``"medium"``, ``"few"`` that holds rows, a dict with ``"n"``,
        ``"coverage"`` and ``"width"``; ``"worst_bin"``: the occupied label bin
        (flat index) with the lowest coverage, with its ``"n"`` and
        ``"coverage"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.conformal import coverage_report
    >>> y = np.array([0.0, 0.1, 0.1, 0.2, 0.9])
    >>> intervals = np.stack([y - 0.05, y + 0.05], axis=1)
    >>> intervals[-1] = [0.0, 0.1]  # the rare one is missed
    >>> report = coverage_report(y, intervals)
    >>> report["coverage"], report["worst_bin"]["coverage"]
    (0.8, 0.0)
    """
    y_arr, arr = _check_intervals(y, intervals)
    raw_y = np.asarray(y, dtype=np.float64)
    one = np.asarray(intervals).ndim == 2
    covered = _covered(y_arr, arr)
    widths = arr[..., 1] - arr[..., 0]

    def width_of(rows: NDArray[np.bool_] | slice) -> float | list[float]:
        mean = widths[rows].mean(axis=0)
        return float(mean[0]) if one else [float(v) for v in mean]

    density = label_density if label_density is not None else LabelDensity().fit(raw_y)
    regions = density.shot_regions(raw_y, many=many, few=few)
    report: dict[str, Any] = {
        "n": len(covered),
        "coverage": float(covered.mean()),
        "width": width_of(slice(None)),
        "regions": {},
    }
    for name in ("many", "medium", "few"):
        rows = regions == name
        if rows.any():
            report["regions"][name] = {
                "n": int(rows.sum()),
                "coverage": float(covered[rows].mean()),
                "width": width_of(rows),
            }
    bins = density.flat_bin_index(raw_y)
    occupied = np.unique(bins)
    per_bin = np.array([covered[bins == b].mean() for b in occupied])
    worst = int(np.argmin(per_bin))
    report["worst_bin"] = {
        "bin": int(occupied[worst]),
        "n": int((bins == occupied[worst]).sum()),
        "coverage": float(per_bin[worst]),
    }
    return report
