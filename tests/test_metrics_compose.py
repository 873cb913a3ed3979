"""Metrics as functions of metrics (balanced_error, shot_error, callable scorers) and the
scale-free multi-target average; issue 14, items 2 and 3."""

import inspect
import math
import pickle
import warnings

import numpy as np
import optuna
import pytest
from scipy.stats import ConstantInputWarning
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.metrics import mean_absolute_error, median_absolute_error
from sklearn.model_selection import KFold, cross_val_score
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skdir.density import LabelDensity
from skdir.metrics import (
    EmptyRegionWarning,
    balanced_error,
    balanced_mean_absolute_error,
    balanced_mean_squared_error,
    dir_report,
    geometric_mean_error,
    make_balanced_scorer,
    make_shot_scorer,
    pearson_correlation,
    sera,
    shot_error,
    shot_metrics,
)
from skdir.model_selection import DIRSearchCV


# ------------------------------------------------------------- a metric of our own
def p90_absolute_error(y_true, y_pred, sample_weight=None):
    """Weighted 90th percentile of |error|: the smallest error with 90% of the weight at
    or below it."""
    errors = np.abs(np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float))
    weights = np.ones(len(errors)) if sample_weight is None else np.asarray(sample_weight)
    order = np.argsort(errors, kind="stable")
    share = np.cumsum(weights[order]) / weights.sum()
    return float(errors[order][np.searchsorted(share, 0.9 - 1e-9)])


class EchoWithDensity(RegressorMixin, BaseEstimator):
    """Predicts ``X[:, 0] + shift`` and keeps the density of its training targets."""

    def __init__(self, shift=0.0):
        self.shift = shift

    def fit(self, X, y):
        self.label_density_ = LabelDensity(n_bins=2, bin_range=(0.0, 10.0), ks=1).fit(y)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0] + self.shift


# Nine targets at 0.5 (bin [0, 5)) with errors 1 x 8 and 2, one at 9.5 (bin [5, 10]) with
# error 5. Plain 90th percentile: shares 0.1 ... 0.8 (errors 1), 0.9 (error 2) -> 2.
# Bin-balanced: each of the 2 bins weighs 5 of 10 (weights 5/9 and 5): shares of the
# errors 1 reach 8 * 5/90 = 0.44, the error 2 reaches 0.5, the error 5 1.0 -> 5.
Y_ONE = np.array([0.5] * 9 + [9.5])
ERRORS = np.array([1.0] * 8 + [2.0, 5.0])
PRED_ONE = Y_ONE + ERRORS
# training density for shot regions: 50 targets in bin [0, 5), 3 in [5, 10]
TRAIN = LabelDensity(n_bins=2, bin_range=(0.0, 10.0), ks=1).fit([0.5] * 50 + [9.5] * 3)


def test_user_metric_by_hand():
    assert p90_absolute_error(Y_ONE, PRED_ONE) == 2.0
    balanced = balanced_error(p90_absolute_error)
    assert balanced.__name__ == "balanced_p90_absolute_error"
    assert balanced(Y_ONE, PRED_ONE, n_bins=2) == 5.0  # bins over [0.5, 9.5]
    assert balanced(Y_ONE, PRED_ONE, label_density=TRAIN) == 5.0
    # shot regions of the training density: bin 0 many (50 > 20), bin 1 few (3 < 5)
    few = shot_error(p90_absolute_error, "few")
    many = shot_error(p90_absolute_error, "many")
    assert few.__name__ == "few_shot_p90_absolute_error"
    assert few(Y_ONE, PRED_ONE, label_density=TRAIN, many=20, few=5) == 5.0
    # many: errors 1 x 8 and 2, shares k/9: 8/9 < 0.9 -> 2
    assert many(Y_ONE, PRED_ONE, label_density=TRAIN, many=20, few=5) == 2.0
    # the same regions from the training targets themselves (2 bins over [0.5, 9.5])
    y_train = [0.5] * 50 + [9.5] * 3
    assert few(Y_ONE, PRED_ONE, y_train=y_train, n_bins=2, many=20, few=5) == 5.0


def test_sklearn_metrics_as_balanced_and_shot_versions():
    # 3 bins over [0, 8] hold 3, 1 and 1 targets: weights 5/9 (x3), 5/3, 5/3. The errors
    # 0, 0, 0 hold a third of the weight and the errors 2 the rest: the weighted median
    # is 2, the plain one 0.
    y_true, y_pred = [0.0, 1.0, 2.0, 4.0, 8.0], [0.0, 1.0, 2.0, 6.0, 10.0]
    assert balanced_error(median_absolute_error)(y_true, y_pred, n_bins=3) == 2.0
    assert median_absolute_error(y_true, y_pred) == 0.0
    # bins of a training density: one bin [0, 10] -> every weight 1, the plain median
    one_bin = LabelDensity(n_bins=1, bin_range=(0.0, 10.0), ks=1).fit([5.0])
    assert balanced_error(median_absolute_error)(y_true, y_pred, label_density=one_bin) == 0.0
    # the built-in balanced MAE is the balanced version of any MAE
    rng = np.random.default_rng(0)
    y = np.r_[rng.uniform(0, 1, 30), rng.uniform(4, 5, 4)]
    pred = y + rng.normal(size=len(y))
    expected = balanced_mean_absolute_error(y, pred, n_bins=5)
    assert balanced_error(mean_absolute_error)(y, pred, n_bins=5) == pytest.approx(expected)
    assert balanced_error("mae")(y, pred, n_bins=5) == pytest.approx(expected)
    assert balanced_error("mse")(y, pred, n_bins=5) == pytest.approx(
        balanced_mean_squared_error(y, pred, n_bins=5)
    )
    # by hand: errors |pred - y| per bin of width 1 averaged over the occupied bins
    bins = LabelDensity(n_bins=5, ks=1).fit(y).bin_index(y)
    per_bin = [np.abs(pred - y)[bins == b].mean() for b in np.unique(bins)]
    assert expected == pytest.approx(np.mean(per_bin))


@pytest.mark.filterwarnings("ignore:Pearson's correlation is not defined")
def test_balanced_gm_and_pearson_are_the_report_rows():
    y_train = [0.5] * 5 + [1.5] * 2 + [2.5]  # bin counts 5, 2, 1
    y_true, y_pred = [0.5, 0.5, 1.5, 2.5], [0.5, 1.5, 2.5, 4.5]
    density = LabelDensity(n_bins=3, ks=1).fit(y_train)
    row = dir_report(y_true, y_pred, label_density=density, many=4, few=2).to_dict()["balanced"]
    # weights 4/(3*2) = 2/3 for the two 0.5s, 4/3 for the others: GM of errors
    # (1e-10, 1, 1, 2) with weights (2/3, 2/3, 4/3, 4/3) / 4
    gm = math.exp((2 / 3 * math.log(1e-10) + 4 / 3 * math.log(2)) / 4)
    assert balanced_error(geometric_mean_error)(y_true, y_pred, label_density=density) == (
        pytest.approx(gm)
    )
    assert row["gm"] == pytest.approx(gm)
    assert balanced_error(pearson_correlation)(y_true, y_pred, label_density=density) == (
        pytest.approx(row["pearson"])
    )
    # a balanced Pearson of constant predictions warns like scipy, once, naming the target
    with pytest.warns(ConstantInputWarning, match=r"y_pred is constant \(target 1\)"):
        raw = balanced_error("pearson")(
            np.c_[y_true, y_true], np.c_[y_pred, [1.0] * 4], n_bins=2, multioutput="raw_values"
        )
    assert math.isnan(raw[1])


def test_shot_version_of_a_metric_without_sample_weight():
    def squared_log_error(y_true, y_pred):
        return float(np.mean((np.log1p(y_pred) - np.log1p(y_true)) ** 2))

    few = shot_error(squared_log_error, "few")
    value = few(Y_ONE, PRED_ONE, label_density=TRAIN, many=20, few=5)
    assert value == pytest.approx((math.log1p(14.5) - math.log1p(9.5)) ** 2)
    # a region without test rows is NaN, with the warning of shot_metrics
    with pytest.warns(EmptyRegionWarning, match="'medium'"):
        assert math.isnan(
            shot_error(squared_log_error, "medium")(
                Y_ONE, PRED_ONE, label_density=TRAIN, many=20, few=5
            )
        )
    # balancing needs sample_weight: the metric's own TypeError says so
    with pytest.raises(TypeError, match="sample_weight"):
        balanced_error(squared_log_error)(Y_ONE, PRED_ONE)


def test_user_metric_in_shot_metrics():
    with pytest.warns(EmptyRegionWarning, match="'medium'"):  # no bin holds 5 to 20
        result = shot_metrics(
            Y_ONE,
            PRED_ONE,
            label_density=TRAIN,
            many=20,
            few=5,
            metrics={"p90": p90_absolute_error, "mae": "mae"},
        )
    assert result["all"] == {"p90": 2.0, "mae": 1.5, "n": 10}  # MAE (8 + 2 + 5) / 10
    assert result["many"] == {"p90": 2.0, "mae": 10 / 9, "n": 9}
    assert result["few"] == {"p90": 5.0, "mae": 5.0, "n": 1}


def _echo_data():
    """Two folds of the 10 rows above; X holds the prediction of EchoWithDensity()."""
    y = np.r_[Y_ONE, Y_ONE]
    return np.c_[np.r_[PRED_ONE, PRED_ONE]], y


def test_user_metric_scorers_in_cross_val_score():
    X, y = _echo_data()
    balanced = make_balanced_scorer(p90_absolute_error, n_bins=2)
    scores = cross_val_score(EchoWithDensity(), X, y, cv=KFold(2), scoring=balanced)
    np.testing.assert_array_equal(scores, [-5.0, -5.0])  # negated: an error by default
    # each training fold has counts 9 | 1: with many=5, few=2 bin 0 is many, bin 1 few
    few = make_shot_scorer(p90_absolute_error, "few", many=5, few=2)
    many = make_shot_scorer(p90_absolute_error, "many", many=5, few=2)
    np.testing.assert_array_equal(
        cross_val_score(EchoWithDensity(), X, y, cv=KFold(2), scoring=few), [-5.0, -5.0]
    )
    np.testing.assert_array_equal(
        cross_val_score(EchoWithDensity(), X, y, cv=KFold(2), scoring=many), [-2.0, -2.0]
    )
    # greater_is_better=True keeps the sign
    positive = make_balanced_scorer(p90_absolute_error, greater_is_better=True, n_bins=2)
    assert positive(EchoWithDensity().fit(X, y), X[:10], y[:10]) == 5.0
    assert repr(few) == (
        "make_shot_scorer(metric=p90_absolute_error, greater_is_better=False, "
        "region='few', many=5, few=2)"
    )
    clone = pickle.loads(pickle.dumps(balanced))
    assert repr(clone) == repr(balanced)
    assert clone(EchoWithDensity().fit(X, y), X[:10], y[:10]) == -5.0


def test_user_metric_scorer_falls_back_with_sample_weight():
    # training bins both medium: the few region is empty, so the balanced p90 is scored
    X, y = _echo_data()
    model = EchoWithDensity().fit(X, y)
    scorer = make_shot_scorer(p90_absolute_error, "few", label_density=TRAIN, many=100, few=2)
    model.label_density_ = LabelDensity(n_bins=2, bin_range=(0.0, 10.0), ks=1).fit(
        [0.5] * 30 + [9.5] * 30
    )
    with pytest.warns(EmptyRegionWarning, match="balanced p90_absolute_error over the 2"):
        assert scorer(model, X[:10], y[:10]) == -5.0


def test_user_metric_scorer_in_dir_search():
    X, y = _echo_data()
    # shift -1 makes the errors 0 x 8, 1 | 4: balanced p90 4 instead of 5
    search = DIRSearchCV(
        EchoWithDensity(),
        {"shift": [0.0, -1.0]},
        n_trials=2,
        sampler=optuna.samplers.GridSampler({"shift": [0.0, -1.0]}),
        scoring=make_balanced_scorer(p90_absolute_error, n_bins=2),
        cv=KFold(2),
        random_state=0,
    ).fit(X, y)
    results = search.cv_results_
    scores = zip(results["params"], results["mean_test_score"], strict=True)
    by_shift = {params["shift"]: score for params, score in scores}
    assert by_shift == {0.0: -5.0, -1.0: -4.0}
    assert search.best_params_ == {"shift": -1.0}
    assert search.best_score_ == -4.0


# ------------------------------------------------------------------- scale-free
# Two targets on scales 1 and 1000. The training density bins each target in 2 bins that
# hold half of the targets each: centres 1/4 and 3/4 of the range, width 1/2, so the
# variance is 1/16 + (1/2)**2 / 12 = 1/12: spreads 1/sqrt(12) and 1000/sqrt(12).
Y_TRAIN_2 = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1000.0], [1.0, 1000.0]])
DENSITY_2 = LabelDensity(n_bins=2, ks=1).fit(Y_TRAIN_2)
Y_TRUE_2 = np.array([[0.0, 0.0], [1.0, 1000.0]])
Y_PRED_2 = np.array([[0.5, 0.0], [1.0, 1100.0]])  # errors 0.5, 0 | 0, 100
ROOT12 = math.sqrt(12)


def test_scale_free_average_weighs_two_scales_equally():
    # one sample per bin: balanced MAE = plain MAE, 0.25 and 50
    raw = balanced_mean_absolute_error(
        Y_TRUE_2, Y_PRED_2, label_density=DENSITY_2, multioutput="raw_values"
    )
    np.testing.assert_allclose(raw, [0.25, 50.0])
    average = balanced_mean_absolute_error(Y_TRUE_2, Y_PRED_2, label_density=DENSITY_2)
    assert average == pytest.approx(25.125)  # the large target makes 50 / 50.25 = 99.5%
    scale_free = balanced_mean_absolute_error(
        Y_TRUE_2, Y_PRED_2, label_density=DENSITY_2, multioutput="scale_free"
    )
    # (0.25 * sqrt(12) + 50 * sqrt(12) / 1000) / 2: relative errors 0.87 and 0.17
    assert scale_free == pytest.approx((0.25 + 0.05) * ROOT12 / 2)
    # rescaling one target changes the raw average, not the scale-free one
    stretch = np.array([1.0, 1e6])
    density = LabelDensity(n_bins=2, ks=1).fit(Y_TRAIN_2 * stretch)
    kwargs = {"label_density": density}
    assert balanced_mean_absolute_error(
        Y_TRUE_2 * stretch, Y_PRED_2 * stretch, multioutput="scale_free", **kwargs
    ) == pytest.approx(scale_free)
    assert balanced_mean_absolute_error(
        Y_TRUE_2 * stretch, Y_PRED_2 * stretch, **kwargs
    ) == pytest.approx((0.25 + 5e7) / 2)
    # equal relative errors contribute equally: each target's scaled MAE is 0.25 * sqrt(12)
    same = Y_TRUE_2 + np.array([[0.5, 500.0], [0.0, 0.0]])
    both = balanced_mean_absolute_error(
        Y_TRUE_2, same, label_density=DENSITY_2, multioutput="scale_free"
    )
    assert both == pytest.approx(0.25 * ROOT12)
    # an MSE is divided by the variances: (0.125 * 12 + 5000 * 12 / 1e6) / 2
    assert balanced_mean_squared_error(
        Y_TRUE_2, Y_PRED_2, label_density=DENSITY_2, multioutput="scale_free"
    ) == pytest.approx((1.5 + 0.06) / 2)


def test_scale_free_without_a_density_uses_y_true_and_user_metrics():
    # stds of y_true: 0.5 and 500 -> (0.25 / 0.5 + 50 / 500) / 2 = 0.3
    assert balanced_mean_absolute_error(
        Y_TRUE_2, Y_PRED_2, n_bins=2, multioutput="scale_free"
    ) == pytest.approx(0.3)
    # a user metric is computed on the scaled targets: p90 of (1, 0) and (0, 0.2) errors
    assert balanced_error(p90_absolute_error)(
        Y_TRUE_2, Y_PRED_2, n_bins=2, multioutput="scale_free"
    ) == pytest.approx((1.0 + 0.2) / 2)
    # plain metrics: GM of errors (1, 1) and (1000, 1000), stds 1 and 1000
    y_true, y_pred = np.array([[0.0, 0.0], [2.0, 2000.0]]), np.array([[1.0, 1e3], [3.0, 3e3]])
    assert geometric_mean_error(y_true, y_pred) == pytest.approx(500.5)
    assert geometric_mean_error(y_true, y_pred, multioutput="scale_free") == pytest.approx(1.0)
    # SERA is a sum of squares: divided by the variances 1 and 1e6 -> (2 + 2) / 2
    assert sera(y_true, y_pred, np.ones(2)) == pytest.approx((2 + 2e6) / 2)
    assert sera(y_true, y_pred, np.ones(2), multioutput="scale_free") == pytest.approx(2.0)
    # Pearson's r has no scale
    assert pearson_correlation(Y_TRUE_2, Y_PRED_2, multioutput="scale_free") == 1.0
    with pytest.raises(ValueError, match=r"target 1 has spread 0 there \(a constant target\)"):
        balanced_mean_absolute_error(
            np.c_[[0.0, 1.0], [2.0, 2.0]], np.zeros((2, 2)), multioutput="scale_free"
        )


@pytest.mark.filterwarnings("ignore::skdir.metrics.EmptyRegionWarning")
def test_shot_metrics_and_report_scale_free_mean():
    kwargs = {"label_density": DENSITY_2, "many": 1, "few": 1}
    # many=few=1: both bins hold 2 training targets (many); medium and few are empty
    with pytest.warns(EmptyRegionWarning, match="'medium' .* for target_0"):
        result = shot_metrics(Y_TRUE_2, Y_PRED_2, multioutput="scale_free", **kwargs)
    assert result["target_0"]["all"]["mae"] == pytest.approx(0.25)  # per target: raw
    assert result["target_1"]["all"]["mae"] == pytest.approx(50.0)
    assert result["mean"]["all"]["mae"] == pytest.approx(0.15 * ROOT12)
    assert result["mean"]["all"]["mse"] == pytest.approx(0.78)  # (1.5 + 0.06) / 2
    assert result["mean"]["all"]["pearson"] == pytest.approx(1.0)
    assert result["mean"]["all"]["n"] == 4
    raw = shot_metrics(Y_TRUE_2, Y_PRED_2, **kwargs)
    assert raw["mean"]["all"]["mae"] == pytest.approx(25.125)
    report = dir_report(Y_TRUE_2, Y_PRED_2, multioutput="scale_free", **kwargs)
    assert report.to_dict()["mean"]["balanced"]["mae"] == pytest.approx(0.15 * ROOT12)
    assert report.to_dict()["mean"]["balanced"]["n_bins"] == 4
    text = str(report)
    assert "[mean, scale-free]" in text and "standard deviation" in text.splitlines()[-1]


class _Echo2D(EchoWithDensity):
    def fit(self, X, y):
        self.label_density_ = LabelDensity(n_bins=2, ks=1).fit(y)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return np.asarray(X)[:, :2] + self.shift


def test_scorers_default_to_the_scale_free_average_for_two_targets():
    model = _Echo2D().fit(np.zeros((4, 2)), Y_TRAIN_2)  # its density is DENSITY_2's
    shot = make_shot_scorer("mae", "all")
    assert shot(model, Y_PRED_2, Y_TRUE_2) == pytest.approx(-0.15 * ROOT12)
    raw = make_shot_scorer("mae", "all", multioutput="uniform_average")
    assert raw(model, Y_PRED_2, Y_TRUE_2) == pytest.approx(-25.125)
    weighted = make_shot_scorer("mae", "all", multioutput=[3, 1])
    assert weighted(model, Y_PRED_2, Y_TRUE_2) == pytest.approx(-(0.75 + 50) / 4)
    # the balanced scorer: the spread of a given training density, else of the fold
    balanced = make_balanced_scorer("mae", label_density=DENSITY_2)
    assert balanced(model, Y_PRED_2, Y_TRUE_2) == pytest.approx(-0.15 * ROOT12)
    assert make_balanced_scorer("mae", n_bins=2)(model, Y_PRED_2, Y_TRUE_2) == (
        pytest.approx(-0.3)
    )
    # one target: "auto" is the plain value
    one = EchoWithDensity().fit(np.zeros((10, 1)), Y_ONE)
    assert make_shot_scorer("mae", "all")(one, np.c_[PRED_ONE], Y_ONE) == pytest.approx(-1.5)


def test_scale_free_scorer_in_cross_validation():
    # fold A: targets (0, 0), (1, 1000); fold B: (0, 0), (2, 2000); errors 1 and 1000
    # on the second row. Each training fold's density: 2 bins over its 2 targets, one
    # per bin, so (like DENSITY_2) the spread is range / sqrt(12).
    y = np.array([[0.0, 0.0], [1.0, 1000.0], [0.0, 0.0], [2.0, 2000.0]])
    X = y + np.array([[0.0, 0.0], [1.0, 1000.0], [0.0, 0.0], [1.0, 1000.0]])
    scores = cross_val_score(_Echo2D(), X, y, cv=KFold(2), scoring=make_shot_scorer("mae", "all"))
    # fold A tested, B trained (ranges 2 and 2000): MAE 0.5 and 500 over spreads
    # 2/sqrt(12) and 2000/sqrt(12) -> sqrt(12) / 4 each; fold B tested, A trained
    # (ranges 1 and 1000): MAE 0.5 and 500 over 1/sqrt(12) and 1000/sqrt(12) -> sqrt(12) / 2
    np.testing.assert_allclose(scores, [-ROOT12 / 4, -ROOT12 / 2])
    raw = cross_val_score(
        _Echo2D(),
        X,
        y,
        cv=KFold(2),
        scoring=make_shot_scorer("mae", "all", multioutput="uniform_average"),
    )
    np.testing.assert_allclose(raw, [-250.25, -250.25])


def test_scale_free_spread_through_a_transformed_target_regressor():
    # The inner density sees standardised targets; its bin edges are mapped back. Raw
    # target 0 = (0, 0, 0, 4): 4 bins of width 1 hold 3 and 1 (centres 0.5 and 3.5):
    # variance 3/4 * 0.75**2 + 1/4 * 2.25**2 + 1/12; target 1 = 2 * target 0 + 10.
    y_train = np.c_[[0.0, 0.0, 0.0, 4.0], [10.0, 10.0, 10.0, 18.0]]

    class ZeroInside(_Echo2D):
        def fit(self, X, y):
            self.label_density_ = LabelDensity(n_bins=4, ks=1).fit(y)
            return self

        def predict(self, X):
            return np.zeros((len(X), 2))

    ttr = TransformedTargetRegressor(ZeroInside(), transformer=StandardScaler())
    ttr.fit(np.zeros((4, 1)), y_train)  # predicts the training means (1, 12)
    spread = math.sqrt(0.75 * 0.75**2 + 0.25 * 2.25**2 + 1 / 12)
    y_test = np.array([[1.0, 12.0], [5.0, 20.0]])  # errors (0, 4) and (0, 8): MAE 2 and 4
    score = make_shot_scorer("mae", "all")(ttr, np.zeros((2, 1)), y_test)
    assert score == pytest.approx(-(2 / spread + 4 / (2 * spread)) / 2)
    # a transformer that mixes the target columns has no per-target spread
    mix = np.array([[1.0, 1.0], [0.0, 1.0]])
    mixing = TransformedTargetRegressor(
        ZeroInside(),
        transformer=FunctionTransformer(
            lambda y: y @ mix, inverse_func=lambda y: y @ np.linalg.inv(mix), check_inverse=False
        ),
    ).fit(np.zeros((4, 1)), y_train)
    with pytest.raises(ValueError, match="mixes the target columns"):
        make_shot_scorer("mae", "all")(mixing, np.zeros((2, 1)), y_test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyRegionWarning)
        raw = make_shot_scorer("mae", "all", multioutput="uniform_average")
        assert np.isfinite(raw(mixing, np.zeros((2, 1)), y_test))


# ------------------------------------------------------------------ validation
def test_metric_transformers_validate_their_parameters():
    with pytest.raises(ValueError, match="'metric' parameter of balanced_error must be a str"):
        balanced_error("r2")
    with pytest.raises(ValueError, match="'region' parameter of shot_error"):
        shot_error("mae", "rare")
    with pytest.raises(ValueError, match="'name' parameter of shot_error"):
        shot_error("mae", name=3)
    balanced = balanced_error(mean_absolute_error, name="balanced_l1")
    assert balanced.__name__ == "balanced_l1"
    assert list(inspect.signature(balanced).parameters) == [
        "y_true",
        "y_pred",
        "label_density",
        "n_bins",
        "bin_width",
        "multioutput",
    ]
    with pytest.raises(ValueError, match="'n_bins' parameter of balanced_l1 must be an int"):
        balanced([0.0, 1.0], [0.0, 1.0], n_bins=0)
    few = shot_error(p90_absolute_error)
    with pytest.raises(ValueError, match="'few' parameter of few_shot_p90_absolute_error"):
        few([0.0], [0.0], y_train=[0.0, 1.0], few=-2)
    with pytest.raises(ValueError, match="0 <= few <= many"):
        few([0.0], [0.0], y_train=[0.0, 1.0], few=5, many=2)
    with pytest.raises(ValueError, match="'multioutput' parameter of few_shot_p90"):
        few([0.0], [0.0], y_train=[0.0, 1.0], multioutput="variance_weighted")
    with pytest.raises(ValueError, match="must return one number"):
        balanced_error(lambda t, p, sample_weight=None: np.abs(p - t))([0.0, 1.0], [1.0, 1.0])


def test_sample_weight_of_the_plain_metrics():
    # GM of errors 1 and 4 weighted 3:1 -> 4 ** (1/4); Pearson with weights equals
    # Pearson of the repeated rows
    assert geometric_mean_error([0.0, 0.0], [1.0, 4.0], sample_weight=[3, 1]) == (
        pytest.approx(math.sqrt(2))
    )
    y_true, y_pred = np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])
    assert pearson_correlation(y_true, y_pred, sample_weight=[2, 1, 1]) == pytest.approx(
        np.corrcoef([1, 1, 2, 3], [1, 1, 3, 2])[0, 1]
    )
    with pytest.raises(ValueError, match=r"sample_weight has shape \(2,\)"):
        geometric_mean_error(y_true, y_pred, sample_weight=[1.0, 1.0])
    with pytest.raises(ValueError, match="non-negative with a positive sum"):
        pearson_correlation(y_true, y_pred, sample_weight=[1.0, -1.0, 1.0])


COMPLEX = np.array([0.5, 1.5, 9.5]) + 1j
REAL = np.array([0.5, 1.5, 9.5])


@pytest.mark.parametrize(
    "call",
    [
        lambda c: balanced_error(p90_absolute_error)(c, REAL),
        lambda c: balanced_error(p90_absolute_error)(REAL, c, multioutput="scale_free"),
        lambda c: shot_error("mae", "all")(REAL, c, label_density=TRAIN),
        lambda c: shot_error("mae", "all")(REAL, REAL, y_train=c),
        lambda c: geometric_mean_error(REAL, REAL, sample_weight=c),
        lambda c: make_balanced_scorer(p90_absolute_error)(
            EchoWithDensity().fit(np.c_[REAL], REAL), np.c_[REAL], c
        ),
    ],
    ids=["balanced y_true", "scale-free y_pred", "shot y_pred", "y_train", "weights", "scorer"],
)
def test_new_entry_points_reject_complex_data(call):
    with pytest.raises(ValueError, match="Complex data not supported"):
        call(COMPLEX)
