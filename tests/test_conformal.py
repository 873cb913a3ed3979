"""Tests of skdir.conformal: conformal intervals, Mondrian calibration, interval metrics."""

import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge

from skdir.conformal import (
    CalibrationWarning,
    ConformalDIRRegressor,
    coverage_report,
    interval_coverage,
    interval_width,
    min_calibration_size,
)
from skdir.conformal._regressor import _merge_groups, _weighted_quantile
from skdir.density import LabelDensity
from skdir.ensemble import BaggedRegressor


def heteroscedastic(n, seed):
    """y = 3x + noise with sd 0.1 + 2x^2: the top fifth of x is the high-noise region."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 1))
    y = 3 * X[:, 0] + rng.normal(size=n) * (0.1 + 2 * X[:, 0] ** 2)
    return X, y


@pytest.fixture(scope="module")
def problem():
    X, y = heteroscedastic(2000, 2)
    X_test, y_test = heteroscedastic(2000, 102)
    return X, y, X_test, y_test


def covered(y, intervals):
    return (intervals[:, 0] <= y) & (y <= intervals[:, 1])


# ----------------------------------------------------------------- quantiles
@pytest.mark.parametrize(("alpha", "expected"), [(0.1, 9), (0.05, 19), (0.2, 4), (0.5, 1)])
def test_min_calibration_size(alpha, expected):
    assert min_calibration_size(alpha) == expected
    # the rank ceil((n + 1)(1 - alpha)) fits into n scores exactly from there on
    assert math.ceil((expected + 1) * (1 - alpha) - 1e-9) <= expected
    if expected > 1:
        assert math.ceil(expected * (1 - alpha) - 1e-9) > expected - 1


def test_split_quantile_is_the_hand_computed_order_statistic():
    # A constant-zero model: the scores are |y| of the calibration rows.
    X = np.zeros((20, 1))
    y = np.arange(1.0, 21.0)
    model = ConformalDIRRegressor(
        DummyRegressor(strategy="constant", constant=0.0),
        calibration="marginal",
        calibration_size=0.5,
        random_state=0,
    ).fit(X, y)
    cal = np.sort(y[model.calibration_index_])
    assert len(cal) == 10
    np.testing.assert_array_equal(np.sort(model.conformity_scores_[:, 0]), cal)
    # alpha=0.2, n=10: rank ceil(11 * 0.8) = 9, the 9th smallest score
    intervals = model.predict_interval(np.zeros((3, 1)), alpha=0.2)
    np.testing.assert_array_equal(intervals, np.tile([-cal[8], cal[8]], (3, 1)))
    # alpha=0.1, n=10: rank ceil(11 * 0.9) = 10, the largest score
    intervals = model.predict_interval(np.zeros((1, 1)), alpha=0.1)
    np.testing.assert_array_equal(intervals, [[-cal[9], cal[9]]])


def test_split_stratifies_the_calibration_rows_over_the_target():
    X, y = heteroscedastic(400, 0)
    model = ConformalDIRRegressor(Ridge(), random_state=0).fit(X, y)
    assert len(model.calibration_index_) == 100
    quartile = np.searchsorted(np.quantile(y, [0.25, 0.5, 0.75]), y[model.calibration_index_])
    np.testing.assert_array_equal(np.bincount(quartile), [25, 25, 25, 25])


def test_cv_plus_bounds_match_the_definition():
    X, y = heteroscedastic(60, 1)
    model = ConformalDIRRegressor(Ridge(), method="cv_plus", calibration="marginal", cv=4)
    model.set_params(random_state=0).fit(X, y)
    X_test = np.array([[0.1], [0.5], [0.9]])
    alpha = 0.2
    intervals = model.predict_interval(X_test, alpha=alpha)
    folds = np.stack([m.predict(X_test) for m in model.estimators_])  # (4, 3)
    residuals = np.abs(y - model.calibration_prediction_[:, 0])
    n = len(y)
    for row in range(3):
        mu = folds[model.fold_index_, row]
        low = np.sort(mu - residuals)[math.floor(alpha * (n + 1)) - 1]
        high = np.sort(mu + residuals)[math.ceil((1 - alpha) * (n + 1)) - 1]
        np.testing.assert_allclose(intervals[row], [low, high])
    np.testing.assert_allclose(model.predict(X_test), folds.mean(axis=0))


# ------------------------------------------------------------------ coverage
@pytest.mark.parametrize("method", ["split", "cv_plus"])
@pytest.mark.parametrize("calibration", ["marginal", "mondrian"])
def test_coverage_at_alpha_0_1(problem, method, calibration):
    X, y, X_test, y_test = problem
    model = ConformalDIRRegressor(
        Ridge(), method=method, calibration=calibration, random_state=0
    ).fit(X, y)
    coverage = interval_coverage(y_test, model.predict_interval(X_test, alpha=0.1))
    assert 0.87 <= coverage <= 0.93


@pytest.mark.parametrize("method", ["split", "cv_plus"])
def test_mondrian_holds_coverage_in_the_high_noise_region(problem, method):
    X, y, X_test, y_test = problem
    high_noise = X_test[:, 0] > 0.8
    results = {}
    for calibration in ("marginal", "mondrian"):
        model = ConformalDIRRegressor(
            Ridge(), method=method, calibration=calibration, random_state=0
        ).fit(X, y)
        intervals = model.predict_interval(X_test, alpha=0.1)
        results[calibration] = (
            covered(y_test, intervals)[high_noise].mean(),
            interval_width(intervals),
        )
    assert results["marginal"][0] < 0.7  # measured 0.61 (split), 0.63 (CV+)
    assert results["mondrian"][0] >= 0.85  # measured 0.88 for both
    # ... and the intervals are narrower on average (wide only where the noise is)
    assert results["mondrian"][1] < results["marginal"][1]


def test_mondrian_merges_bins_with_too_few_rows():
    X, y = heteroscedastic(40, 3)
    mondrian = ConformalDIRRegressor(Ridge(), n_bins=5, random_state=0).fit(X, y)
    marginal = clone(mondrian).set_params(calibration="marginal").fit(X, y)
    assert len(mondrian.conformity_scores_) == 10  # 2 per bin, alpha=0.1 needs 9
    with pytest.warns(CalibrationWarning, match="merged"):
        merged = mondrian.predict_interval(X, alpha=0.1)
    np.testing.assert_allclose(merged, marginal.predict_interval(X, alpha=0.1))
    # at alpha=0.5 one score per bin is enough: the bins stay apart
    assert not np.allclose(
        mondrian.predict_interval(X, alpha=0.5), marginal.predict_interval(X, alpha=0.5)
    )


def test_merge_groups():
    np.testing.assert_array_equal(_merge_groups(np.array([10, 2, 10, 10]), 9), [0, 0, 1, 2])
    np.testing.assert_array_equal(_merge_groups(np.array([0, 5, 20, 3]), 9), [0, 0, 0, 0])
    np.testing.assert_array_equal(_merge_groups(np.array([9, 9, 9]), 9), [0, 1, 2])
    # 1 joins its smaller neighbour 3; the 4 then ties between 20 and 20 and goes left
    np.testing.assert_array_equal(_merge_groups(np.array([20, 3, 1, 20]), 9), [0, 0, 0, 1])


def test_cv_plus_reuses_the_fold_bagged_members():
    X, y = heteroscedastic(200, 4)
    bag = BaggedRegressor(Ridge(), n_members=4, random_state=0)
    model = ConformalDIRRegressor(bag, method="cv_plus", random_state=0).fit(X, y)
    assert isinstance(model.estimator_, BaggedRegressor)
    assert model.estimators_ == model.estimator_.estimators_
    assert len(model.estimators_) == 4  # bag's n_members, not cv=5
    np.testing.assert_array_equal(
        model.calibration_prediction_[:, 0], model.estimator_.oof_prediction_
    )
    np.testing.assert_array_equal(model.fold_index_, model.estimator_.fold_index_)
    np.testing.assert_allclose(model.predict(X), model.estimator_.predict(X))
    assert model.predict_interval(X[:5]).shape == (5, 2)


def test_cv_plus_reuses_auto_dir_regressor_folds():
    from skdir.auto import AutoDIRRegressor
    from skdir.datasets import make_imbalanced_regression

    X, y = make_imbalanced_regression(300, 8, random_state=0)
    auto = AutoDIRRegressor(
        preset="fast", candidates=["ridge", "ridge+lds"], n_folds=3, random_state=0
    )
    model = ConformalDIRRegressor(auto, method="cv_plus", random_state=0).fit(X, y)
    fitted = model.estimator_
    assert isinstance(fitted, AutoDIRRegressor)
    assert len(fitted.weights_) == 2  # a weighted ensemble of both bags
    np.testing.assert_array_equal(model.fold_index_, fitted.fold_index_)
    # fold k's model (weighted k-th members) reproduces the out-of-fold predictions
    folds = model._fold_predictions(X)
    assert folds.shape == (3, 300, 1)
    np.testing.assert_allclose(
        folds[model.fold_index_, np.arange(300), 0], fitted.oof_prediction_, atol=1e-12
    )
    np.testing.assert_allclose(folds.mean(axis=0)[:, 0], model.predict(X), atol=1e-12)
    assert model.predict_interval(X[:4], alpha=0.1).shape == (4, 2)


# ----------------------------------------------------------------- 2 targets
@pytest.mark.parametrize(
    ("method", "calibration"),
    [("split", "mondrian"), ("cv_plus", "mondrian"), ("split", "label"), ("split", "density")],
)
def test_two_targets(method, calibration):
    X, y = heteroscedastic(400, 5)
    Y = np.column_stack([y, -2 * y + X[:, 0]])
    model = ConformalDIRRegressor(
        Ridge(), method=method, calibration=calibration, label_density=LabelDensity(n_bins=5)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        model.set_params(random_state=0).fit(X, Y)
    assert model.n_targets_ == 2
    assert model.predict(X[:7]).shape == (7, 2)
    intervals = model.predict_interval(X, alpha=0.1)
    assert intervals.shape == (400, 2, 2)
    assert (intervals[..., 0] <= intervals[..., 1]).all()
    joint = model.predict_interval(X, alpha=0.1, joint=True)
    assert (joint[..., 1] - joint[..., 0] >= intervals[..., 1] - intervals[..., 0] - 1e-12).all()
    assert interval_width(intervals).shape == (2,)
    report = coverage_report(Y, intervals)
    assert 0 <= report["coverage"] <= 1
    assert len(report["width"]) == 2


# ------------------------------------------------------------------- metrics
def test_interval_metrics_by_hand():
    y = np.array([1.0, 2.0, 5.0, 3.0])
    intervals = np.array([[0, 2], [2, 3], [0, 1], [3, 3]])
    assert interval_coverage(y, intervals) == 0.75
    assert interval_width(intervals) == 1.0  # (2 + 1 + 1 + 0) / 4
    Y = np.column_stack([y, y])
    both = np.stack([intervals, np.array([[0, 2], [0, 1], [0, 9], [0, 9]])], axis=1)
    assert interval_coverage(Y, both) == 0.5  # rows 0 and 3 hold both targets
    np.testing.assert_allclose(interval_width(both), [1.0, 5.25])


def test_coverage_report_regions_and_worst_bin():
    train = np.array([0.0] * 30 + [1.0] * 10 + [2.0] * 2)
    density = LabelDensity(bin_width=1.0, ks=1, bin_range=(0.0, 3.0)).fit(train)
    y = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0])
    intervals = np.stack([y - 1, y + 1], axis=1)
    intervals[[3, 7]] = [[5.0, 6.0]]  # one many-shot and one few-shot row missed
    intervals[4] = [0.5, 1.5]
    report = coverage_report(y, intervals, density, many=20, few=5)
    assert report["n"] == 8
    assert report["coverage"] == 0.75
    assert report["regions"]["many"] == {"n": 4, "coverage": 0.75, "width": 1.75}
    assert report["regions"]["medium"] == {"n": 2, "coverage": 1.0, "width": 1.5}
    assert report["regions"]["few"] == {"n": 2, "coverage": 0.5, "width": 1.5}
    assert report["worst_bin"] == {"bin": 2, "n": 2, "coverage": 0.5}


# ----------------------------------------------------------- estimator API
def test_clone_pickle_and_determinism():
    X, y = heteroscedastic(300, 6)
    model = ConformalDIRRegressor(Ridge(alpha=2.0), method="cv_plus", random_state=3)
    twin = clone(model)
    assert twin.get_params()["estimator__alpha"] == 2.0
    first = model.fit(X, y).predict_interval(X)
    np.testing.assert_array_equal(twin.fit(X, y).predict_interval(X), first)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_interval(X), first)
    split = ConformalDIRRegressor(Ridge(), random_state=0).fit(X, y).calibration_index_
    again = ConformalDIRRegressor(Ridge(), random_state=0).fit(X, y).calibration_index_
    other = ConformalDIRRegressor(Ridge(), random_state=1).fit(X, y).calibration_index_
    np.testing.assert_array_equal(split, again)
    assert not np.array_equal(split, other)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, np.nan, "0.1", True])
def test_alpha_outside_0_1(alpha):
    X, y = heteroscedastic(100, 7)
    model = ConformalDIRRegressor(Ridge(), random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        model.predict_interval(X, alpha=alpha)


def test_too_few_calibration_rows_says_how_many():
    X, y = heteroscedastic(20, 8)
    model = ConformalDIRRegressor(Ridge(), calibration="marginal", random_state=0).fit(X, y)
    assert len(model.conformity_scores_) == 5
    with pytest.raises(ValueError, match=r"5 calibration score\(s\).*needs at least 9"):
        model.predict_interval(X, alpha=0.1)
    assert model.predict_interval(X, alpha=0.2).shape == (20, 2)  # 4 are enough
    with pytest.raises(ValueError, match="needs at least 19"):
        model.predict_interval(X, alpha=0.05)


def test_joint_needs_the_bonferroni_rows():
    X, y = heteroscedastic(48, 9)
    model = ConformalDIRRegressor(Ridge(), calibration="marginal", random_state=0)
    model.fit(X, np.column_stack([y, y]))
    assert model.predict_interval(X, alpha=0.1).shape == (48, 2, 2)  # 12 rows >= 9
    with pytest.raises(ValueError, match="needs at least 19"):
        model.predict_interval(X, alpha=0.1, joint=True)


def test_nan_target_and_wrong_features():
    X, y = heteroscedastic(50, 10)
    y[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ConformalDIRRegressor(Ridge()).fit(X, y)
    y[3] = 0.0
    model = ConformalDIRRegressor(Ridge(), random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict_interval(np.zeros((3, 2)), alpha=0.5)


def test_bad_parameters():
    X, y = heteroscedastic(50, 11)
    with pytest.raises(ValueError, match="method"):
        ConformalDIRRegressor(Ridge(), method="jackknife").fit(X, y)
    with pytest.raises(ValueError, match="calibration_size"):
        ConformalDIRRegressor(Ridge(), calibration_size=1.0).fit(X, y)
    with pytest.raises(ValueError, match="cv=5 needs at least"):
        ConformalDIRRegressor(Ridge(), method="cv_plus").fit(X[:4], y[:4])


def test_metrics_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="one interval per sample and target"):
        interval_coverage(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="shape"):
        interval_width(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="lower bound above"):
        interval_coverage([0.0], [[1.0, 0.0]])


# ------------------------------------------------------ scores and weights
class SpreadModel(RegressorMixin, BaseEstimator):
    """Predicts 0 with the spread X[:, 0] (a stand-in for an ensemble's return_std)."""

    def fit(self, X, y):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X, return_std=False):
        pred = np.zeros(len(X))
        return (pred, np.asarray(X)[:, 0].astype(float)) if return_std else pred


class BandModel(RegressorMixin, BaseEstimator):
    """Predicts the quantiles -1, 0, 1 everywhere (a stand-in quantile model)."""

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def predict_quantiles(self, X):
        return np.tile([-1.0, 0.0, 1.0], (len(X), 1))


def test_normalized_scores_by_hand():
    # y = 0.5 * spread: every score |y - 0| / spread is 0.5, so q = 0.5
    X = np.linspace(1.0, 2.0, 40)[:, None]
    y = 0.5 * X[:, 0]
    model = ConformalDIRRegressor(
        SpreadModel(), conformity_score="normalized", calibration="marginal", random_state=0
    ).fit(X, y)
    assert model.difficulty_source_ == "return_std"
    spread = X[model.calibration_index_, 0]
    floor = np.quantile(spread, 0.05)  # the 5% difficulty floor
    scores = 0.5 * spread / np.maximum(spread, floor)
    np.testing.assert_allclose(model.conformity_scores_[:, 0], scores)
    assert (scores[1:] == 0.5).all()  # only the smallest spread is raised to the floor
    X_test = np.array([[1.2], [2.0], [0.001]])
    intervals = model.predict_interval(X_test, alpha=0.1)  # rank 10 of 10: q = 0.5
    np.testing.assert_allclose(intervals[:, 1], 0.5 * np.array([1.2, 2.0, floor]))
    np.testing.assert_allclose(intervals[:, 0], -intervals[:, 1])


def test_normalized_uses_a_scale_model_without_return_std(problem):
    X, y, X_test, y_test = problem
    high_noise = X_test[:, 0] > 0.8
    model = ConformalDIRRegressor(
        Ridge(), conformity_score="normalized", calibration="marginal", random_state=0
    ).fit(X, y)
    assert model.difficulty_source_ == "scale_estimator"
    assert len(model.scale_estimators_) == 1
    intervals = model.predict_interval(X_test, alpha=0.1)
    assert 0.87 <= interval_coverage(y_test, intervals) <= 0.93
    # the difficulty follows the noise: the high-noise region is covered, and the
    # intervals there are wider than in the low-noise rest
    assert covered(y_test, intervals)[high_noise].mean() >= 0.85  # measured 0.885
    width = intervals[:, 1] - intervals[:, 0]
    assert width[high_noise].mean() > 5 * width[X_test[:, 0] < 0.3].mean()  # measured 10x


def test_normalized_takes_the_bagged_spread():
    X, y = heteroscedastic(300, 12)
    bag = BaggedRegressor(Ridge(), n_members=4, random_state=0)
    model = ConformalDIRRegressor(bag, conformity_score="normalized", random_state=0).fit(X, y)
    assert model.difficulty_source_ == "return_std"
    assert model.scale_estimators_ is None


def test_cqr_by_hand():
    X = np.zeros((40, 1))
    y = np.linspace(-3.0, 3.0, 40)
    model = ConformalDIRRegressor(
        BandModel(),
        conformity_score="cqr",
        calibration="marginal",
        calibration_size=0.5,
        random_state=0,
    ).fit(X, y)
    cal = y[model.calibration_index_]
    np.testing.assert_allclose(model.conformity_scores_[:, 0], np.maximum(-1 - cal, cal - 1))
    q = np.sort(model.conformity_scores_[:, 0])[math.ceil(21 * 0.8) - 1]
    np.testing.assert_allclose(model.predict_interval(X[:2], alpha=0.2), [[-1 - q, 1 + q]] * 2)
    # a band wider than needed gets a negative correction
    narrow_y = np.linspace(-0.2, 0.2, 40)
    narrow = clone(model).fit(X, narrow_y).predict_interval(X[:1], alpha=0.2)
    assert narrow[0, 1] - narrow[0, 0] < 2.0


def test_cqr_around_a_quantile_model_covers(problem):
    from skdir.conformal import MultiQuantileRegressor

    X, y, X_test, y_test = problem
    hgb = HistGradientBoostingRegressor(loss="quantile", max_iter=50, random_state=0)
    model = ConformalDIRRegressor(
        MultiQuantileRegressor(hgb), conformity_score="cqr", calibration="marginal", random_state=0
    ).fit(X, y)
    intervals = model.predict_interval(X_test, alpha=0.1)
    assert 0.87 <= interval_coverage(y_test, intervals) <= 0.93
    high_noise = X_test[:, 0] > 0.8
    assert covered(y_test, intervals)[high_noise].mean() >= 0.85


def test_weighted_quantile():
    scores = np.array([3.0, 1.0, 2.0, 4.0])
    # equal weights: the ceil((n + 1)(1 - alpha))-th smallest
    for alpha in (0.2, 0.4, 0.6):
        expected = np.sort(scores)[math.ceil(5 * (1 - alpha)) - 1]
        assert _weighted_quantile(scores, np.ones(4), alpha) == expected
    # weights 1, 1, 1, 5 (sorted 1, 2, 3, 4), test mass 5: cumulative 1, 2, 3, 8 of 13
    weights = np.array([1.0, 1.0, 1.0, 5.0])
    assert _weighted_quantile(scores, weights, 0.5) == 4.0  # 3/13 < 0.5 <= 8/13
    assert _weighted_quantile(scores, weights, 0.8) == 3.0  # 2/13 < 0.2 <= 3/13
    assert _weighted_quantile(scores, weights, 0.87) == 2.0  # 1/13 < 0.13 <= 2/13
    with pytest.raises(ValueError, match="largest calibration weight"):
        _weighted_quantile(scores, weights, 0.3)  # 8/13 < 0.7 is all the mass


def imbalanced(n, seed):
    """A skewed target whose rare high range is noisier: exp(x) + noise growing with x."""
    rng = np.random.default_rng(seed)
    X = rng.exponential(0.5, size=(n, 1))
    y = X[:, 0] + rng.normal(size=n) * (0.1 + 0.5 * X[:, 0])
    return X, y


@pytest.fixture(scope="module")
def skewed():
    X, y = imbalanced(4000, 20)
    X_test, y_test = imbalanced(4000, 120)
    density = LabelDensity(n_bins=20).fit(y)
    return X, y, X_test, y_test, density


def test_label_and_density_calibration_hold_the_rare_range(skewed):
    X, y, X_test, y_test, density = skewed
    results = {}
    for calibration in ("marginal", "density", "label"):
        model = ConformalDIRRegressor(
            Ridge(), calibration=calibration, label_density=LabelDensity(n_bins=20), random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CalibrationWarning)
            model.fit(X, y)
        report = coverage_report(
            y_test, model.predict_interval(X_test, alpha=0.1), density, many=400, few=100
        )
        results[calibration] = report
    few = {k: r["regions"]["few"]["coverage"] for k, r in results.items()}
    assert few["marginal"] < 0.5  # measured 0.37 (medium 0.79)
    assert few["label"] >= 0.88  # measured 0.92 (many 0.97, medium 0.97)
    assert few["density"] >= 0.88  # measured 0.92 (many 1.00, medium 1.00)
    # label groups keep every region near the nominal level
    for region in results["label"]["regions"].values():
        assert region["coverage"] >= 0.86
    # the price: wider intervals (measured 1.30 marginal, 2.83 label, 3.48 density)
    assert results["marginal"]["width"] < results["label"]["width"] < results["density"]["width"]


def test_label_groups_are_contiguous_and_large_enough(skewed):
    X, y, *_ = skewed
    model = ConformalDIRRegressor(Ridge(), calibration="label", random_state=0).fit(X, y)
    ranges = model.label_groups(alpha=0.1)
    assert ranges[0, 0] == -np.inf and ranges[-1, 1] == np.inf
    np.testing.assert_array_equal(ranges[1:, 0], ranges[:-1, 1])
    cal = model.calibration_targets_[:, 0]
    inner = np.searchsorted(ranges[1:, 0], cal, side="right")
    assert np.bincount(inner).min() >= 20
    with pytest.raises(ValueError, match="calibration='label' only"):
        ConformalDIRRegressor(Ridge(), random_state=0).fit(X, y).label_groups()


def test_label_intervals_by_hand():
    # constant-zero model; calibration targets 0..39 in two groups of 20 (bins of width 20):
    # scores are |y|, so q_low = 20th of 0..19 at alpha=0.05 -> 19, q_high -> 39
    X = np.zeros((80, 1))
    y = np.tile(np.arange(40.0), 2)
    model = ConformalDIRRegressor(
        DummyRegressor(strategy="constant", constant=0.0),
        calibration="label",
        calibration_size=0.5,
        label_density=LabelDensity(bin_width=20.0, bin_range=(0.0, 40.0)),
        random_state=0,
    ).fit(X, y)
    np.testing.assert_array_equal(model.label_groups(0.05), [[-np.inf, 20], [20, np.inf]])
    groups = model.calibration_targets_[:, 0] >= 20
    q = [np.sort(model.conformity_scores_[groups == g, 0])[-1] for g in (False, True)]
    # the set is [-q_low, q_low] within (-inf, 20) and [20, q_high] within [20, inf)
    np.testing.assert_allclose(model.predict_interval(X[:1], alpha=0.05), [[-q[0], q[1]]])


def test_calibration_set(problem):
    X, y, X_test, y_test = problem
    model = ConformalDIRRegressor(Ridge(), calibration="marginal", random_state=0)
    model.fit(X[:1000], y[:1000], calibration_set=(X[1000:], y[1000:]))
    assert model.calibration_index_ is None
    assert len(model.conformity_scores_) == 1000
    np.testing.assert_allclose(model.estimator_.coef_, Ridge().fit(X[:1000], y[:1000]).coef_)
    scores = np.abs(y[1000:] - model.estimator_.predict(X[1000:]))
    np.testing.assert_allclose(model.conformity_scores_[:, 0], scores)
    coverage = interval_coverage(y_test, model.predict_interval(X_test, alpha=0.1))
    assert 0.87 <= coverage <= 0.93


# ------------------------------------------------------- bad input, warnings
def test_mismatched_targets():
    X, y = heteroscedastic(100, 13)
    Y = np.column_stack([y, y])
    with pytest.raises(ValueError, match="calibration_set has 1 target"):
        ConformalDIRRegressor(Ridge()).fit(X, Y, calibration_set=(X, y))
    with pytest.raises(ValueError, match="gives 1 column"):
        ConformalDIRRegressor(OneColumn()).fit(X, Y)
    with pytest.raises(ValueError, match="at least two quantiles"):
        ConformalDIRRegressor(OneQuantile(), conformity_score="cqr").fit(X, y)
    with pytest.raises(ValueError, match="needs an estimator with predict_quantiles"):
        ConformalDIRRegressor(Ridge(), conformity_score="cqr").fit(X, y)
    with pytest.raises(ValueError, match="one or two targets"):
        ConformalDIRRegressor(Ridge(), calibration="density").fit(X, np.column_stack([Y, y]))
    with pytest.raises(ValueError, match="method='split'"):
        ConformalDIRRegressor(Ridge(), method="cv_plus", conformity_score="normalized").fit(X, y)
    with pytest.raises(ValueError, match="needs method='split'"):
        ConformalDIRRegressor(Ridge(), method="cv_plus").fit(X, y, calibration_set=(X, y))


class OneColumn(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


class OneQuantile(OneColumn):
    def predict_quantiles(self, X):
        return np.zeros((len(X), 1))


def test_a_calibration_set_missing_a_region_warns():
    X, y = heteroscedastic(400, 14)
    y[:3] = [20.0, 20.5, 21.0]  # a rare far range, left out of the calibration rows below
    density = LabelDensity(n_bins=10, bin_range=None)  # bins of width 2.23 from -1.31 to 21
    model = ConformalDIRRegressor(
        Ridge(), calibration="density", label_density=density, random_state=0
    )
    with pytest.warns(CalibrationWarning, match=r"holding 3 of the 497.*\[18.77, 21\)"):
        model.fit(X, y, calibration_set=(X[3:100], y[3:100]))
    # any calibration: no calibration row in the few-shot bins (< 20 targets) is named
    fitted = LabelDensity(n_bins=10, bin_range=None).fit(y)
    rows = np.arange(3, 200)
    rows = rows[fitted.shot_regions(y[rows]) != "few"]
    with pytest.warns(
        CalibrationWarning, match=r"few-shot region.*\[5.381, 7.612\), \[18.77, 21\)"
    ):
        ConformalDIRRegressor(Ridge(), label_density=density, random_state=0).fit(
            X, y, calibration_set=(X[rows], y[rows])
        )


def test_density_needs_enough_calibration_mass():
    X, y = heteroscedastic(60, 15)
    model = ConformalDIRRegressor(Ridge(), calibration="density", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        model.fit(X, y)
    # 15 scores are enough for alpha=0.1 unweighted, but the largest weight is 0.24 of all
    with pytest.raises(ValueError, match=r"largest calibration weight, 0.24.* alpha=0.1"):
        model.predict_interval(X, alpha=0.1)


def test_mondrian_merge_warns_with_the_bins():
    X, y = heteroscedastic(40, 3)
    model = ConformalDIRRegressor(Ridge(), n_bins=5, random_state=0).fit(X, y)
    with pytest.warns(CalibrationWarning, match=r"hold fewer than the 9 .* leaving 1 of 5 bins"):
        model.predict_interval(X, alpha=0.1)


# ----------------------------------------------------- report, scorer, plot
def test_coverage_report_bins_and_min_bin_size():
    train = np.array([0.0] * 30 + [1.0] * 10 + [2.0] * 2)
    density = LabelDensity(bin_width=1.0, ks=1, bin_range=(0.0, 3.0)).fit(train)
    y = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0])
    intervals = np.stack([y - 1, y + 1], axis=1)
    intervals[[3, 7]] = [[5.0, 6.0]]
    report = coverage_report(y, intervals, density, many=20, few=5)
    assert [b["bin"] for b in report["bins"]] == [0, 1, 2]
    assert report["bins"][0] == {
        "bin": 0,
        "range": [[0.0, 1.0]],
        "n": 4,
        "coverage": 0.75,
        "width": 1.75,
    }
    assert [b["coverage"] for b in report["bins"]] == [0.75, 1.0, 0.5]
    # bins of at least 3 rows only: bin 0 is the worst
    large = coverage_report(y, intervals, density, many=20, few=5, min_bin_size=3)
    assert large["worst_bin"] == {"bin": 0, "n": 4, "coverage": 0.75}
    assert coverage_report(y, intervals, density, min_bin_size=5)["worst_bin"] is None
    with pytest.raises(ValueError, match="min_bin_size"):
        coverage_report(y, intervals, density, min_bin_size=0)
    with pytest.raises(ValueError, match="fitted on 1 target"):
        coverage_report(np.column_stack([y, y]), np.stack([intervals] * 2, axis=1), density)


def test_coverage_report_two_targets():
    Y = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    intervals = np.stack([Y - 0.5, Y + 0.5], axis=-1)  # (4, 2, 2)
    intervals[0, 1] = [5.0, 6.0]  # row 0 misses target 1
    intervals[1, 0] = [1.0, 3.0]  # row 1 holds both, wider on target 0
    density = LabelDensity(n_bins=2, ks=1, joint=False).fit(Y)
    report = coverage_report(Y, intervals, density, many=3, few=1)
    assert report["coverage"] == 0.75
    assert report["target_coverage"] == [1.0, 0.75]
    assert report["width"] == [1.25, 1.0]
    assert sum(b["n"] for b in report["bins"]) == 4
    assert all(len(b["range"]) == 2 for b in report["bins"])
    for region in report["regions"].values():
        assert len(region["target_coverage"]) == 2


def test_interval_scorer_by_hand():
    from skdir.metrics import make_interval_scorer

    X = np.zeros((40, 1))
    y = np.tile([0.0, 2.0], 20)  # std 1
    model = ConformalDIRRegressor(
        DummyRegressor(strategy="constant", constant=1.0),
        calibration="marginal",
        calibration_size=0.5,
        random_state=0,
    ).fit(X, y)
    # every score is 1, so every interval is [0, 2]: width 2 std, full coverage
    assert make_interval_scorer(0.1)(model, X, y) == pytest.approx(-2.0)
    # a test set that the intervals miss half of: coverage 0.5, shortfall 0.4
    y_far = np.tile([0.0, 4.0], 20)  # std 2: width 1 std
    assert make_interval_scorer(0.1)(model, X, y_far) == pytest.approx(-(1.0 + 10 * 0.4))
    assert make_interval_scorer(0.1, penalty=0.0)(model, X, y_far) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="no predict_interval"):
        make_interval_scorer()(Ridge().fit(X, y), X, y)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        make_interval_scorer(1.0)
    with pytest.raises(ValueError, match="coverage must be"):
        make_interval_scorer(coverage="few")


def test_interval_scorer_worst_region_and_search(skewed):
    from sklearn.model_selection import GridSearchCV

    from skdir.metrics import make_interval_scorer

    X, y, *_ = skewed
    worst = make_interval_scorer(0.1, coverage="worst_region")
    overall = make_interval_scorer(0.1)
    model = ConformalDIRRegressor(Ridge(), calibration="marginal", random_state=0).fit(X, y)
    # the rare range is under-covered: the worst-region score is lower
    assert worst(model, X, y) < overall(model, X, y)
    search = GridSearchCV(
        ConformalDIRRegressor(Ridge(), random_state=0),
        {"calibration": ["marginal", "label"]},
        scoring=worst,
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        search.fit(X, y)
    assert search.best_params_ == {"calibration": "label"}


def test_plot_intervals(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from skdir.conformal import plot_intervals

    X, y, X_test, y_test = (
        *heteroscedastic(1000, 16),
        *heteroscedastic(500, 17),
    )
    model = ConformalDIRRegressor(Ridge(), random_state=0).fit(X, y)
    intervals = model.predict_interval(X_test, alpha=0.1)
    density = LabelDensity(n_bins=10).fit(y)
    top, bottom = plot_intervals(y_test, intervals, label_density=density, alpha=0.1)
    report = coverage_report(y_test, intervals, density)
    heights = [bar.get_height() for bar in bottom.containers[0]]
    np.testing.assert_allclose(heights, [b["coverage"] for b in report["bins"]])
    assert bottom.lines[0].get_ydata()[0] == pytest.approx(0.9)  # the nominal level
    top.figure.savefig(tmp_path / "intervals.png")
    with pytest.raises(ValueError, match="target must be"):
        plot_intervals(y_test, intervals, target=1)


def test_cv_plus_label_groups(skewed):
    X, y, X_test, y_test, density = skewed
    results = {}
    for calibration in ("marginal", "label"):
        bag = BaggedRegressor(Ridge(), n_members=5, random_state=0)
        model = ConformalDIRRegressor(bag, method="cv_plus", calibration=calibration).fit(X, y)
        assert len(model.calibration_targets_) == len(y)
        intervals = model.predict_interval(X_test, alpha=0.1)
        results[calibration] = coverage_report(y_test, intervals, density, many=400, few=100)
    few = {k: r["regions"]["few"]["coverage"] for k, r in results.items()}
    assert few["marginal"] < 0.5  # measured 0.33 (medium 0.78)
    assert few["label"] >= 0.88  # measured 0.98 (many 0.99, medium 0.97)
    # by hand for the first test row: CV+ per label group, cut to the group, hull
    ranges = model.label_groups(0.1)
    edges = ranges[1:, 0]
    group = np.searchsorted(edges, y, side="right")
    folds = model._fold_predictions(X_test[:1])[:, 0, 0]
    low, high = np.inf, -np.inf
    for g, (a, b) in enumerate(ranges):
        rows = group == g
        mu = folds[model.fold_index_[rows]]
        r = np.abs(y[rows] - model.calibration_prediction_[rows, 0])
        n = rows.sum()
        lo = np.sort(mu - r)[math.floor(0.1 * (n + 1)) - 1]
        hi = np.sort(mu + r)[math.ceil(0.9 * (n + 1)) - 1]
        lo, hi = max(lo, a), min(hi, b)
        if lo <= hi:
            low, high = min(low, lo), max(high, hi)
    np.testing.assert_allclose(model.predict_interval(X_test[:1], alpha=0.1), [[low, high]])
