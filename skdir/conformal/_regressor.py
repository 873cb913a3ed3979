"""ConformalDIRRegressor: split, CV+, normalised, density-weighted and quantile conformal."""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, _fit_context, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._validation import check_meta_fit_input
from ..density import LabelDensity
from ..ensemble import target_strata
from ..metrics._intervals import check_alpha
from ._quantile import copy_feature_attributes

#: Test rows times calibration rows handled at once by CV+ (memory bound).
_CHUNK_CELLS = 2_000_000
#: Quantile of the calibration rows' difficulties that ``conformity_score="normalized"``
#: raises smaller difficulties to.
_DIFFICULTY_FLOOR_QUANTILE = 0.05
#: Largest density weight of a calibration row relative to the mean weight 1.
_MAX_DENSITY_WEIGHT = 20.0
#: Fewest calibration rows in a label group of ``calibration="label"``.
MIN_LABEL_GROUP = 20
#: Most bins named in a warning.
_MAX_NAMED = 8


class CalibrationWarning(UserWarning):
    """The calibration rows do not represent part of the target range.

    :class:`ConformalDIRRegressor` warns when

    - with ``calibration="density"``, the calibration rows miss occupied bins
      of the label density (their weight is lost: the weighted quantile comes
      from the other bins), or, with any calibration, a whole shot region of
      the training targets ("few" or "medium") has no calibration row (its
      test rows are calibrated by the scores of other regions);
    - with ``calibration="mondrian"``, bins of the predicted value hold fewer
      scores than ``alpha`` needs and are merged with their neighbours.

    Each message names the bins and says what was done instead.
    """


def _check_alpha(alpha: object) -> float:
    return check_alpha(alpha)


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


def _order_stat(values: NDArray[np.float64], rank: int) -> float:
    """Return the ``rank``-th smallest (1-based) of ``values``."""
    return float(np.partition(values, rank - 1)[rank - 1])


def _weighted_quantile(
    scores: NDArray[np.float64], weights: NDArray[np.float64], alpha: float
) -> float:
    """Weighted conformal quantile with the test point's mass at +inf.

    The quantile of ``sum_i p_i delta(s_i) + p_test delta(+inf)`` at level
    ``1 - alpha``, with ``p_i = w_i / (sum_j w_j + w_max)`` and the unknown test
    row given the largest calibration weight ``w_max`` (Tibshirani, Barber,
    Candès & Ramdas, "Conformal prediction under covariate shift", NeurIPS 2019,
    with the weight of the test row bounded from above). Equal weights give the
    ``ceil((n + 1)(1 - alpha))``-th smallest score.
    """
    order = np.argsort(scores, kind="stable")
    weight = weights[order]
    cumulative = np.cumsum(weight) / (weight.sum() + weight.max())
    k = int(np.searchsorted(cumulative, 1 - alpha - 1e-12))
    if k >= len(scores):
        share = weight.max() / (weight.sum() + weight.max())
        raise ValueError(
            f"Density-weighted calibration cannot reach 1 - alpha={1 - alpha:g}: the test row "
            f"carries the largest calibration weight, {share:.3g} of the total, which must "
            f"not exceed alpha={alpha:g}. Use more calibration rows, a coarser label_density "
            "(fewer bins), a larger alpha or calibration='mondrian'."
        )
    return float(scores[order][k])


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


def _reuses_folds(estimator: Any) -> bool:
    """Whether CV+ can take the folds of ``estimator`` itself (fold bagging)."""
    if getattr(estimator, "bagging", None) == "folds":
        return True
    from ..auto import AutoDIRRegressor  # late: skdir.auto is heavy

    return isinstance(estimator, AutoDIRRegressor)


def _describe_bins(density: LabelDensity, flat: NDArray[np.intp]) -> str:
    """Name flat bins of a density as ``[a, b), [c, d) ...`` (at most _MAX_NAMED)."""
    names = []
    for b in flat[:_MAX_NAMED]:
        index = np.unravel_index(int(b), density.n_bins_)
        parts = [
            f"[{edges[i]:.4g}, {edges[i + 1]:.4g})"
            for edges, i in zip(density.bin_edges_, index, strict=True)
        ]
        names.append(" x ".join(parts))
    more = f" and {len(flat) - _MAX_NAMED} more" if len(flat) > _MAX_NAMED else ""
    return ", ".join(names) + more


class ConformalDIRRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Conformal prediction intervals around a regressor, balanced over the target range.

    ``fit`` fits clones of ``estimator`` and keeps *conformity scores* of rows
    the model did not see; ``predict`` gives the point prediction and
    :meth:`predict_interval` an interval per target that holds the true target
    with probability at least ``1 - alpha`` for exchangeable data.

    **Method.** ``method="split"`` (split conformal, Vovk, Gammerman & Shafer
    2005): a calibration part of ``calibration_size`` of the rows is held out,
    stratified over quantile bins of the (first) target so that the rare ranges
    are represented in both parts, and the clone is fitted on the rest (it is
    *not* refitted on all rows); or ``fit(X, y, calibration_set=(X_cal,
    y_cal))`` fits on all of ``X`` and calibrates on the given rows. The
    interval's half-width is the ``ceil((n + 1)(1 - alpha))``-th smallest of
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
    CV+ takes ``conformity_score="absolute"`` with ``calibration="marginal"``,
    ``"mondrian"`` or ``"label"``.

    **Conformity score** (``conformity_score``; split only for the last two).
    With lower and upper *base* curves ``L(x) <= U(x)`` and a scale
    ``S(x) > 0``, the score of a row is
    ``max(L(x) - y, y - U(x)) / S(x)`` and the interval is
    ``[L(x) - q S(x), U(x) + q S(x)]`` for the calibrated quantile ``q``:

    - ``"absolute"``: ``L = U = f(x)``, ``S = 1``: the score ``|y - f(x)|``,
      intervals of one width.
    - ``"normalized"`` (normalised nonconformity, Papadopoulos, Proedrou, Vovk
      & Gammerman 2002; locally weighted conformal, Lei, G'Sell, Rinaldo,
      Tibshirani & Wasserman 2018): ``S(x)`` is a difficulty estimate. When the
      fitted model answers ``predict(X, return_std=True)`` (a
      :class:`~skdir.nn.DIRRegressor` with ``module__n_ensemble >= 2``, a
      :class:`~skdir.ensemble.BaggedRegressor`, an
      :class:`~skdir.auto.AutoDIRRegressor`) it is the members' spread;
      otherwise ``scale_estimator`` (default a
      :class:`~sklearn.ensemble.HistGradientBoostingRegressor`), fitted per
      target on the absolute in-sample residuals of the training part.
      Difficulties below the 5% quantile of the calibration rows' are raised
      to it, so that an over-confident estimate cannot shrink an interval to
      nothing. Attribute ``difficulty_source_`` says which was used.
    - ``"cqr"`` (conformalized quantile regression, Romano, Patterson & Candès,
      "Conformalized Quantile Regression", NeurIPS 2019): ``L`` and ``U`` are
      the lowest and highest quantile of ``estimator.predict_quantiles(X)``
      (a :class:`~skdir.nn.DIRRegressor` with
      ``criterion=PinballLoss``, a :class:`MultiQuantileRegressor` of
      scikit-learn quantile models, a :class:`QuantileAverager`), ``S = 1``;
      ``q`` may be negative (the quantile band was too wide). Ask for the
      quantiles ``alpha / 2`` and ``1 - alpha / 2`` of the ``alpha`` you will
      use: coverage holds for any, the width is best for those.

    **Calibration** (which scores calibrate a test row):

    - ``"marginal"``: all scores (plain split conformal or CV+).
    - ``"mondrian"`` (Mondrian conformal, Vovk et al. 2005): the range of the
      *predicted* value (the label of a test row is unknown) is cut into
      ``n_bins`` quantile bins of the calibration predictions per target, and
      each bin is calibrated on its own scores with the rank
      ``ceil((n_b + 1)(1 - alpha))`` of its ``n_b`` rows; coverage then holds
      within each bin of the prediction. A bin with fewer than
      :func:`min_calibration_size` ``(alpha)`` rows is merged with its smaller
      neighbour (with a :class:`CalibrationWarning`). For CV+ the Mondrian
      version is a heuristic (CV+ restricted to the rows of the test row's
      bin).
    - ``"density"`` (density-weighted): each calibration score is weighted by
      the inverse smoothed label density of its row's true target
      (``label_density``, fitted on all targets given to ``fit``; weights
      scaled to mean 1 over the calibration rows and capped at 20, so that one
      row of a nearly empty bin cannot own the quantile), and ``q``
      is the weighted quantile with the test row's mass at infinity and
      bounded by the largest weight (weighted conformal prediction,
      Tibshirani, Barber, Candès & Ramdas 2019). This calibrates for a test
      distribution that is uniform over the occupied label bins: coverage
      averaged over bins, not over rows.
    - ``"label"`` (label-conditional Mondrian conformal prediction: Vovk et al.
      2005 allow the taxonomy to depend on the label, as class-conditional
      conformal classifiers do): the bins of ``label_density`` (fitted per
      target on all targets given to ``fit``) are merged into consecutive
      groups of at least ``max(min_calibration_size(alpha), 20)`` calibration
      rows (:meth:`label_groups`); group ``k`` has its own quantile ``q_k`` of
      the scores of the calibration rows whose *true* target lies in it. The
      prediction set of ``x`` is the union over groups of
      ``[L(x) - q_k S(x), U(x) + q_k S(x)]`` intersected with group ``k``'s label
      range, i.e. every ``y`` that would conform *within its own group*; the
      interval returned is its hull. A test row whose target lies in group
      ``k`` is then covered with probability at least ``1 - alpha`` *given
      that group*: coverage holds in every label region, at the price of width
      (a row predicted near a rare group whose errors are large includes it).
      With CV+, each group's interval is CV+ on the group's rows (a heuristic,
      as the Mondrian version).

    Which to use was measured (``benchmarks/bench_conformal.py``, user guide
    page "Prediction intervals that hold in the rare ranges"): see there.

    Parameters
    ----------
    estimator : regressor
        The model; cloned, never modified.
    method : {"split", "cv_plus"}, default="split"
        Split conformal or CV+.
    conformity_score : {"absolute", "normalized", "cqr"}, default="absolute"
        Conformity score, see above.
    calibration : {"mondrian", "marginal", "density", "label"}, default="mondrian"
        Calibrate per bin of the predicted value, over all rows, over all
        rows weighted by the inverse label density, or per group of true
        labels.
    n_bins : int, default=5
        Number of predicted-value bins per target for ``calibration="mondrian"``.
    cv : int, default=5
        Number of folds for ``method="cv_plus"``.
    calibration_size : float, default=0.25
        Share of the rows held out for calibration with ``method="split"``.
    scale_estimator : regressor or None, default=None
        Difficulty model of ``conformity_score="normalized"`` when the fitted
        estimator has no ``return_std``; ``None`` is ``HistGradientBoostingRegressor(
        max_iter=100)``.
    label_density : LabelDensity or None, default=None
        Unfitted density (cloned) of the targets for ``calibration="density"``
        and ``"label"`` and the region checks; ``None`` is ``LabelDensity()``.
    random_state : int, RandomState instance or None, default=None
        Seeds the calibration split, the folds and the default scale model.

    Attributes
    ----------
    estimator_ : regressor or None
        The fitted model behind ``predict``: the clone fitted on the training
        part (split) or the reused fold-bagging ensemble (CV+); ``None`` for
        CV+ with its own fold models.
    estimators_ : list of regressors or None
        CV+ only: the fold models (``None`` when they are an AutoDIRRegressor's
        weighted bags).
    calibration_index_ : ndarray of int or None
        Split only: the rows held out for calibration (``None`` with a
        ``calibration_set``).
    calibration_prediction_ : ndarray of shape (n_calibration, n_targets)
        Point predictions of the calibration rows (out-of-fold for CV+).
    calibration_targets_ : ndarray of shape (n_calibration, n_targets)
        The targets of the calibration rows (all rows for CV+).
    conformity_scores_ : ndarray of shape (n_calibration, n_targets)
        Scores of the calibration rows.
    calibration_weights_ : ndarray of shape (n_calibration,) or None
        Inverse label densities of the calibration rows (``calibration="density"``).
    difficulty_source_ : {"return_std", "scale_estimator"} or None
        Where ``conformity_score="normalized"`` took its difficulty from.
    scale_estimators_ : list of regressors or None
        The fitted difficulty models, one per target (``"scale_estimator"``).
    label_density_ : LabelDensity or None
        The density of all targets given to ``fit`` (``None`` for more than two
        targets); also read by the region scorers of :mod:`skdir.metrics`.
    fold_index_ : ndarray of int
        CV+ only: the fold of every training row.
    bin_edges_ : list of ndarray
        Inner edges of the predicted-value bins per target (empty unless
        ``calibration="mondrian"``).
    n_targets_ : int
        Number of targets seen in ``fit``.
    n_features_in_ : int
        Number of features, when the fitted model records it.

    See Also
    --------
    skdir.metrics.coverage_report : Coverage and width overall, per shot region and per bin.
    skdir.conformal.plot_intervals : The intervals and per-bin coverage over the target range.
    skdir.metrics.make_interval_scorer : Coverage-penalised width as a scorer.

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

    H. Papadopoulos, K. Proedrou, V. Vovk and A. Gammerman, "Inductive
    confidence machines for regression", ECML 2002.

    J. Lei, M. G'Sell, A. Rinaldo, R. J. Tibshirani and L. Wasserman,
    "Distribution-free predictive inference for regression", JASA 113, 2018.

    R. J. Tibshirani, R. F. Barber, E. J. Candès and A. Ramdas, "Conformal
    prediction under covariate shift", NeurIPS 2019.

    Y. Romano, E. Patterson and E. J. Candès, "Conformalized quantile
    regression", NeurIPS 2019.

    R. F. Barber, E. J. Candès, A. Ramdas and R. J. Tibshirani, "Predictive
    inference with the jackknife+", The Annals of Statistics 49(1), 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skdir.conformal import ConformalDIRRegressor
    >>> from skdir.metrics import interval_coverage
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
        "conformity_score": [StrOptions({"absolute", "normalized", "cqr"})],
        "calibration": [StrOptions({"mondrian", "marginal", "density", "label"})],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "calibration_size": [Interval(Real, 0, 1, closed="neither")],
        "scale_estimator": [HasMethods(["fit", "predict"]), None],
        "label_density": [LabelDensity, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any,
        method: str = "split",
        conformity_score: str = "absolute",
        calibration: str = "mondrian",
        n_bins: int = 5,
        cv: int = 5,
        calibration_size: float = 0.25,
        scale_estimator: Any = None,
        label_density: LabelDensity | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.conformity_score = conformity_score
        self.calibration = calibration
        self.n_bins = n_bins
        self.cv = cv
        self.calibration_size = calibration_size
        self.scale_estimator = scale_estimator
        self.label_density = label_density
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        calibration_set: tuple[ArrayLike, ArrayLike] | None = None,
    ) -> ConformalDIRRegressor:
        """Fit the model(s) and compute the conformity scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, in any form the estimator takes.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (finite).
        calibration_set : (X_cal, y_cal) or None, default=None
            ``method="split"`` only: fit the model on all of ``X`` and calibrate
            on these rows instead of holding out ``calibration_size`` of ``X``.

        Returns
        -------
        self : ConformalDIRRegressor
            The fitted wrapper.
        """
        X, y = check_meta_fit_input(X, y, "ConformalDIRRegressor")
        if self.method == "cv_plus" and (
            self.conformity_score != "absolute" or self.calibration == "density"
        ):
            raise ValueError(
                "method='cv_plus' takes conformity_score='absolute' with calibration="
                f"'marginal', 'mondrian' or 'label', got conformity_score="
                f"{self.conformity_score!r}, calibration={self.calibration!r}; use "
                "method='split' for normalized or cqr scores and density weights."
            )
        if calibration_set is not None and self.method != "split":
            raise ValueError(
                "calibration_set calibrates a model fitted on all of X: it needs "
                f"method='split', got method={self.method!r}."
            )
        self._y_shape = y.shape[1:]
        y2 = y.reshape(len(y), -1)
        self.n_targets_ = y2.shape[1]
        rng = check_random_state(self.random_state)
        self.difficulty_source_ = None
        self.scale_estimators_ = None
        self.calibration_weights_ = None
        if self.method == "split":
            first, y_cal = self._fit_split(X, y, y2, calibration_set, rng)
            all_y = y2 if calibration_set is None else np.vstack([y2, y_cal])
        else:
            first = self._fit_cv_plus(X, y, y2, rng)
            y_cal = all_y = y2
        self._fit_density(all_y, y_cal)
        copy_feature_attributes(self, first)
        self.bin_edges_ = [
            self._edges(self.calibration_prediction_[:, t]) for t in range(self.n_targets_)
        ]
        return self

    def _fit_split(
        self,
        X: Any,
        y: NDArray,
        y2: NDArray,
        calibration_set: tuple[ArrayLike, ArrayLike] | None,
        rng: np.random.RandomState,
    ) -> tuple[Any, NDArray[np.float64]]:
        n = len(y2)
        if calibration_set is None:
            train, cal = self._split_rows(y2, rng)
            X_train, y_train = _safe_indexing(X, train), y[train]
            X_cal, y_cal = _safe_indexing(X, cal), y2[cal]
            self.calibration_index_ = cal
        else:
            if not (isinstance(calibration_set, (tuple, list)) and len(calibration_set) == 2):
                raise ValueError("calibration_set must be a pair (X_cal, y_cal).")
            X_cal, y_cal = check_meta_fit_input(*calibration_set, "ConformalDIRRegressor")
            y_cal = y_cal.reshape(len(y_cal), -1)
            if y_cal.shape[1] != self.n_targets_:
                raise ValueError(
                    f"calibration_set has {y_cal.shape[1]} target(s) but y has "
                    f"{self.n_targets_}; pass calibration targets of the same columns."
                )
            X_train, y_train = X, y
            train = np.arange(n)
            self.calibration_index_ = None
        model = clone(self.estimator).fit(X_train, y_train)
        self.estimator_ = model
        if self.conformity_score == "normalized":
            self._fit_difficulty(model, X_train, y2[train], X_cal, rng)
        point, low, high, scale = self._components(model, X_cal, fitting=True)
        self.calibration_prediction_ = point
        self.calibration_targets_ = y_cal
        self.conformity_scores_ = np.maximum(low - y_cal, y_cal - high) / scale
        return model, y_cal

    def _split_rows(
        self, y2: NDArray[np.float64], rng: np.random.RandomState
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
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
        return np.sort(train), np.sort(cal)

    def _fit_cv_plus(self, X: Any, y: NDArray, y2: NDArray, rng: np.random.RandomState) -> Any:
        n = len(y2)
        self.calibration_index_ = None
        if _reuses_folds(self.estimator):
            fitted = clone(self.estimator).fit(X, y)
            if self._take_folds(fitted, n):
                self.conformity_scores_ = np.abs(y2 - self.calibration_prediction_)
                self.calibration_targets_ = y2
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
        self.calibration_targets_ = y2
        self.conformity_scores_ = np.abs(y2 - oof)
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
        self.calibration_prediction_ = self._check_columns(
            np.asarray(fitted.oof_prediction_, dtype=np.float64).reshape(n, -1), "oof_prediction_"
        )
        return True

    def _fit_difficulty(
        self,
        model: Any,
        X_train: Any,
        y_train: NDArray[np.float64],
        X_cal: Any,
        rng: np.random.RandomState,
    ) -> None:
        """Choose and fit the difficulty estimate of ``conformity_score="normalized"``."""
        try:
            out = model.predict(X_cal, return_std=True)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError
            self._check_columns(np.asarray(out[1], dtype=np.float64), "return_std")
            self.difficulty_source_ = "return_std"
            return
        except (TypeError, ValueError):
            pass
        self.difficulty_source_ = "scale_estimator"
        residual = np.abs(y_train - self._predict_2d(model, X_train))
        base = self.scale_estimator
        if base is None:
            seed = int(rng.randint(np.iinfo(np.int32).max))
            base = HistGradientBoostingRegressor(max_iter=100, random_state=seed)
        self.scale_estimators_ = [
            clone(base).fit(X_train, residual[:, t]) for t in range(self.n_targets_)
        ]

    def _difficulty(self, model: Any, X: Any) -> NDArray[np.float64]:
        if self.difficulty_source_ == "return_std":
            std = np.asarray(model.predict(X, return_std=True)[1], dtype=np.float64)
            return std.reshape(len(std), -1)
        return np.column_stack(
            [np.asarray(m.predict(X), dtype=np.float64) for m in self.scale_estimators_]
        )

    def _fit_density(self, all_y: NDArray[np.float64], y_cal: NDArray[np.float64]) -> None:
        """Fit the label density; weight the calibration rows; warn about missed regions."""
        density = LabelDensity() if self.label_density is None else clone(self.label_density)
        self.label_density_ = None
        self._target_densities = None
        if self.calibration == "label":  # one 1-D density per target: its label groups
            self._target_densities = [clone(density).fit(column) for column in all_y.T]
        if self.n_targets_ <= 2:
            try:
                self.label_density_ = density.fit(all_y[:, 0] if self.n_targets_ == 1 else all_y)
            except ValueError:
                if self.calibration == "density":
                    raise
        if self.calibration == "density" and self.label_density_ is None:
            raise ValueError(
                f"calibration='density' weighs by a label density of one or two targets, but "
                f"y has {self.n_targets_}; use calibration='mondrian' or 'marginal'."
            )
        if self.label_density_ is None:
            return
        density = self.label_density_
        cal_y = y_cal[:, 0] if self.n_targets_ == 1 else y_cal
        if self.calibration == "density":
            self.calibration_weights_ = density.weights(
                cal_y, alpha=1.0, max_weight=_MAX_DENSITY_WEIGHT
            )
        counts = density.counts_.ravel()
        cal_counts = np.bincount(density.flat_bin_index(cal_y), minlength=counts.size)
        missed = np.flatnonzero((counts > 0) & (cal_counts == 0))
        if missed.size == 0:
            return
        if self.calibration == "density":
            warnings.warn(
                f"The calibration rows miss {missed.size} occupied bin(s) of the label "
                f"density, holding {int(counts[missed].sum())} of the {int(counts.sum())} "
                f"targets: {_describe_bins(density, missed)}. Density-weighted calibration "
                "cannot weigh them, so the weighted quantile comes from the other bins (as if "
                "the missed bins behaved like their neighbours). Use more calibration rows, "
                "a coarser label_density, or calibration='mondrian'.",
                CalibrationWarning,
                stacklevel=3,
            )
            return
        regions = density.shot_regions(all_y[:, 0] if self.n_targets_ == 1 else all_y)
        cal_regions = set(density.shot_regions(cal_y).tolist())
        for name in ("few", "medium"):
            if name in regions and name not in cal_regions:
                flat = np.unique(density.flat_bin_index(all_y[regions == name].squeeze(-1)))
                warnings.warn(
                    f"No calibration row lies in the {name}-shot region of the targets "
                    f"(bins {_describe_bins(density, flat)}): its test rows are calibrated by "
                    "the scores of the other regions, whose coverage need not carry over. "
                    "Use more calibration rows (calibration_size) or method='cv_plus'.",
                    CalibrationWarning,
                    stacklevel=3,
                )

    def _predict_2d(self, model: Any, X: Any) -> NDArray[np.float64]:
        out = np.asarray(model.predict(X), dtype=np.float64)
        return self._check_columns(out.reshape(len(out), -1), "predict")

    def _check_columns(self, values: NDArray[np.float64], what: str) -> NDArray[np.float64]:
        values = values.reshape(len(values), -1)
        if values.shape[1] != self.n_targets_:
            raise ValueError(
                f"The estimator's {what} gives {values.shape[1]} column(s) but y has "
                f"{self.n_targets_} target(s); fit an estimator that predicts every target "
                "(e.g. wrap it in sklearn.multioutput.MultiOutputRegressor)."
            )
        return values

    def _quantiles(self, model: Any, X: Any) -> NDArray[np.float64]:
        """Lowest and highest predicted quantile, shape ``(n, n_targets, 2)``."""
        if not hasattr(model, "predict_quantiles"):
            raise ValueError(
                f"conformity_score='cqr' needs an estimator with predict_quantiles(X); "
                f"{type(model).__name__} has none. Use DIRRegressor(criterion=PinballLoss), "
                "skdir.conformal.MultiQuantileRegressor around a quantile model (e.g. "
                "HistGradientBoostingRegressor(loss='quantile')) or QuantileAverager."
            )
        q = np.asarray(model.predict_quantiles(X), dtype=np.float64)
        q = q.reshape(len(q), self.n_targets_, -1) if q.ndim in (2, 3) else q
        if q.ndim != 3 or q.shape[1] != self.n_targets_ or q.shape[2] < 2:
            raise ValueError(
                f"predict_quantiles gave shape {q.shape}; conformity_score='cqr' needs at least "
                f"two quantiles per target for {self.n_targets_} target(s), shape "
                "(n_samples, n_quantiles) or (n_samples, n_targets, n_quantiles)."
            )
        return q[..., [0, -1]]

    def _components(
        self, model: Any, X: Any, *, fitting: bool = False
    ) -> tuple[NDArray[np.float64], ...]:
        """Point prediction, lower and upper base curves and scale, each ``(n, n_targets)``."""
        point = self._predict_2d(model, X)
        if self.conformity_score == "cqr":
            band = self._quantiles(model, X)
            return point, band[..., 0], band[..., 1], np.ones_like(point)
        if self.conformity_score == "normalized":
            scale = self._difficulty(model, X)
            if fitting:
                floor = np.quantile(scale, _DIFFICULTY_FLOOR_QUANTILE, axis=0)
                tiny = 1e-12 * np.maximum(np.abs(point).max(axis=0), 1.0)
                self._difficulty_floor = np.maximum(floor, tiny)
            return point, point, point, np.maximum(scale, self._difficulty_floor)
        return point, point, point, np.ones_like(point)

    def _edges(self, prediction: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.calibration != "mondrian" or self.n_bins == 1:
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

    def _groups(
        self, t: int, center: NDArray[np.float64], level: float
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Calibration and test group of every row for target ``t`` (Mondrian bins)."""
        edges = self.bin_edges_[t]
        cal_bins = np.searchsorted(edges, self.calibration_prediction_[:, t], side="right")
        test_bins = np.searchsorted(edges, center, side="right")
        counts = np.bincount(cal_bins, minlength=len(edges) + 1)
        need = min_calibration_size(level)
        mapping = _merge_groups(counts, need)
        if len(edges) and len(np.unique(mapping)) < len(counts):
            small = np.flatnonzero(counts < need)
            bounds = np.concatenate([[-np.inf], edges, [np.inf]])
            named = ", ".join(f"[{bounds[b]:.4g}, {bounds[b + 1]:.4g})" for b in small)
            warnings.warn(
                f"Mondrian bin(s) {named} of the prediction of target {t} hold fewer than the "
                f"{need} calibration scores alpha={level:g} needs "
                f"({', '.join(str(int(counts[b])) for b in small)}); each was merged with "
                f"its smaller neighbour, leaving {len(np.unique(mapping))} of "
                f"{len(counts)} bins. Use fewer n_bins or more calibration rows.",
                CalibrationWarning,
                stacklevel=3,
            )
        return mapping[cal_bins], mapping[test_bins]

    def label_groups(self, alpha: float = 0.1, target: int = 0) -> NDArray[np.float64]:
        """Return the label ranges of ``calibration="label"`` at ``alpha``, ``(n_groups, 2)``.

        Consecutive bins of the target's label density, merged until each holds
        at least :func:`min_calibration_size` ``(alpha)`` calibration rows and
        20 rows; the first starts at ``-inf``, the last ends
        at ``inf``.

        Parameters
        ----------
        alpha : float, default=0.1
            Miscoverage rate (per target; divide by the number of targets for
            ``joint=True``).
        target : int, default=0
            Which target.

        Returns
        -------
        ranges : ndarray of shape (n_groups, 2)
            Lower and upper label bound of every group.
        """
        check_is_fitted(self, "conformity_scores_")
        if self.calibration != "label":
            raise ValueError("label_groups exist for calibration='label' only.")
        ranges, _ = self._label_group_rows(target, _check_alpha(alpha))
        return ranges

    def _label_group_rows(
        self, t: int, level: float
    ) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """Label ranges of the groups of target ``t`` and the group of every calibration row."""
        density = self._target_densities[t]
        bins = density.flat_bin_index(self.calibration_targets_[:, t])
        counts = np.bincount(bins, minlength=density.n_bins_[0])
        need = max(min_calibration_size(level), MIN_LABEL_GROUP)
        mapping = _merge_groups(counts, need)
        edges = density.bin_edges_[0]
        n_groups = int(mapping[-1]) + 1
        first = np.searchsorted(mapping, np.arange(n_groups), side="left")
        last = np.searchsorted(mapping, np.arange(n_groups), side="right")
        ranges = np.column_stack([edges[first], edges[last]]).astype(np.float64)
        ranges[0, 0], ranges[-1, 1] = -np.inf, np.inf
        return ranges, mapping[bins]

    def _label_conditional(
        self,
        t: int,
        level: float,
        low: NDArray[np.float64],
        high: NDArray[np.float64],
        scale: NDArray[np.float64],
        folds: NDArray[np.float64] | None,
    ) -> NDArray[np.float64]:
        """Label-conditional intervals of target ``t``: the hull of the per-group sets.

        Each group's interval (split: ``[low - q_k scale, high + q_k scale]``; CV+:
        the CV+ bounds from the group's rows) is cut to the group's label range.
        """
        ranges, groups = self._label_group_rows(t, level)
        scores = self.conformity_scores_[:, t]
        lower = np.empty((len(low), len(ranges)))
        upper = np.empty_like(lower)
        for g in range(len(ranges)):
            members = np.flatnonzero(groups == g)
            if folds is None:
                q = _order_stat(scores[members], _upper_rank(len(members), level))
                bounds = np.column_stack([low - q * scale, high + q * scale])
            else:
                fold_of = self.fold_index_[members]
                bounds = _cv_plus_bounds(folds[:, :, t], fold_of, scores[members], level)
            lower[:, g] = np.maximum(ranges[g, 0], bounds[:, 0])
            upper[:, g] = np.minimum(ranges[g, 1], bounds[:, 1])
        kept = lower <= upper
        out = np.column_stack(
            [
                np.where(kept, lower, np.inf).min(axis=1),
                np.where(kept, upper, -np.inf).max(axis=1),
            ]
        )
        empty = ~kept.any(axis=1)  # CQR with negative corrections everywhere
        out[empty] = ((low + high) / 2)[empty, None]
        return out

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
            than ``alpha`` needs (:func:`min_calibration_size`; for
            ``calibration="density"`` also when the largest weight exceeds
            ``alpha`` of the total).

        Warns
        -----
        CalibrationWarning
            When Mondrian bins hold too few scores for ``alpha`` and are merged.
        """
        check_is_fitted(self, "conformity_scores_")
        alpha = _check_alpha(alpha)
        n_targets = self.n_targets_
        level = alpha / n_targets if joint else alpha
        n_cal = len(self.conformity_scores_)
        if n_cal < min_calibration_size(level):
            raise _too_few(n_cal, level, "The calibration set")
        folds = None
        if self.method == "split":
            center, low, high, scale = self._components(self.estimator_, X)
        else:
            folds = self._fold_predictions(X)
            center = (
                self._predict_2d(self.estimator_, X)
                if self.estimator_ is not None
                else folds.mean(axis=0)
            )
            low = high = center
            scale = np.ones_like(center)
        out = np.empty((len(center), n_targets, 2))
        for t in range(n_targets):
            if self.calibration == "label":
                out[:, t] = self._label_conditional(
                    t, level, low[:, t], high[:, t], scale[:, t], folds
                )
                continue
            cal_groups, test_groups = self._groups(t, center[:, t], level)
            for g in np.unique(test_groups):
                rows = np.flatnonzero(test_groups == g)
                members = np.flatnonzero(cal_groups == g)
                scores = self.conformity_scores_[members, t]
                if folds is not None:
                    fold_of = self.fold_index_[members]
                    out[rows, t] = _cv_plus_bounds(folds[:, rows, t], fold_of, scores, level)
                    continue
                if self.calibration_weights_ is not None:
                    q = _weighted_quantile(scores, self.calibration_weights_[members], level)
                else:
                    q = _order_stat(scores, _upper_rank(len(scores), level))
                out[rows, t, 0] = low[rows, t] - q * scale[rows, t]
                out[rows, t, 1] = high[rows, t] + q * scale[rows, t]
        crossed = out[..., 0] > out[..., 1]  # CQR with a negative q: an empty band
        if crossed.any():
            middle = out[..., :].mean(axis=-1)
            out[crossed, 0] = out[crossed, 1] = middle[crossed]
        return out[:, 0] if self._y_shape == () else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.input_tags = inner.input_tags
        tags.target_tags.multi_output = inner.target_tags.multi_output
        tags.non_deterministic = inner.non_deterministic or self.random_state is None
        return tags
