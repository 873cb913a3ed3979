"""Tests of skdir.conformal: conformal intervals, Mondrian calibration, interval metrics."""

import math
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge

from skdir.conformal import (
    CalibrationWarning,
    ConformalDIRRegressor,
    coverage_report,
    interval_coverage,
    interval_width,
    min_calibration_size,
)
from skdir.conformal._regressor import _merge_groups
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
    np.testing.assert_allclose(
        mondrian.predict_interval(X, alpha=0.1), marginal.predict_interval(X, alpha=0.1)
    )
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
@pytest.mark.parametrize("method", ["split", "cv_plus"])
def test_two_targets(method):
    X, y = heteroscedastic(400, 5)
    Y = np.column_stack([y, -2 * y + X[:, 0]])
    model = ConformalDIRRegressor(Ridge(), method=method, random_state=0).fit(X, Y)
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
    model = ConformalDIRRegressor(Ridge(), random_state=0).fit(X, y)
    assert len(model.conformity_scores_) == 5
    with pytest.raises(ValueError, match=r"5 calibration score\(s\).*needs at least 9"):
        model.predict_interval(X, alpha=0.1)
    assert model.predict_interval(X, alpha=0.2).shape == (20, 2)  # 4 are enough
    with pytest.raises(ValueError, match="needs at least 19"):
        model.predict_interval(X, alpha=0.05)


def test_joint_needs_the_bonferroni_rows():
    X, y = heteroscedastic(48, 9)
    model = ConformalDIRRegressor(Ridge(), random_state=0).fit(X, np.column_stack([y, y]))
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
