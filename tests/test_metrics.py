import doctest
import math
import pickle
import warnings

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from imblearn.pipeline import Pipeline as ImbPipeline
from scipy.stats import ConstantInputWarning, DegenerateDataWarning
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import BaggingRegressor, StackingRegressor, VotingRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, cross_validate
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skdir.metrics
from skdir.density import LabelDensity
from skdir.metrics import (
    DIRReport,
    EmptyRegionWarning,
    _base,
    _compose,
    _density,
    _regression,
    _report,
    _scorers,
    balanced_mae_scorer,
    balanced_mean_absolute_error,
    balanced_mean_squared_error,
    balanced_mse_scorer,
    dir_report,
    few_shot_mae_scorer,
    few_shot_mse_scorer,
    geometric_mean_error,
    get_label_density,
    make_balanced_scorer,
    make_shot_scorer,
    pearson_correlation,
    sera,
    shot_metrics,
)
from skdir.weighting import DensityWeightedRegressor, LDSWeighter


# --------------------------------------------------------------- test estimators
class ZeroWithDensity(RegressorMixin, BaseEstimator):
    """Predicts 0 and stores the density of its training targets as ``label_density_``."""

    def __init__(self, bin_range=(0.0, 4.0), n_bins=4):
        self.bin_range = bin_range
        self.n_bins = n_bins

    def fit(self, X, y):
        self.label_density_ = LabelDensity(n_bins=self.n_bins, bin_range=self.bin_range, ks=1).fit(
            y
        )
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return np.zeros(len(X))


class KeepAllSampler(BaseEstimator):
    """A do-nothing imblearn-style sampler (only ``fit_resample`` matters here)."""

    def fit_resample(self, X, y):
        return X, y


def assert_nested_close(actual, expected):
    assert set(actual) == set(expected)
    for key, value in expected.items():
        if isinstance(value, dict):
            assert_nested_close(actual[key], value)
        else:
            assert actual[key] == pytest.approx(value, nan_ok=True), key


# ------------------------------------------------------------------------ GM
def test_geometric_mean_error_by_hand():
    # |e| = 1, 2, 4 -> (1 * 2 * 4) ** (1/3) = 2
    assert geometric_mean_error([0.0, 0.0, 0.0], [1.0, -2.0, 4.0]) == pytest.approx(2.0)
    # |e| = 3, 3 -> 3 (GM of equal errors is the error)
    assert geometric_mean_error([1.0, 2.0], [4.0, -1.0]) == pytest.approx(3.0)


def test_geometric_mean_error_replaces_zero_errors_by_1e_minus_10():
    # |e| = 0, 2 -> sqrt(1e-10 * 2) = 1.41421e-5, not 0
    assert geometric_mean_error([1.0, 1.0], [1.0, 3.0]) == pytest.approx(math.sqrt(2e-10))
    assert skdir.metrics.GM_ZERO_ERROR == 1e-10
    # all exact -> 1e-10
    assert geometric_mean_error([1.0, 2.0], [1.0, 2.0]) == pytest.approx(1e-10)


def test_geometric_mean_error_multioutput():
    y_true = np.zeros((2, 2))
    y_pred = np.array([[1.0, 2.0], [4.0, 8.0]])
    # target 0: sqrt(1*4) = 2; target 1: sqrt(2*8) = 4
    raw = geometric_mean_error(y_true, y_pred, multioutput="raw_values")
    np.testing.assert_allclose(raw, [2.0, 4.0])
    assert geometric_mean_error(y_true, y_pred) == pytest.approx(3.0)  # (2 + 4) / 2
    # weights 1, 3: (2 + 12) / 4 = 3.5
    assert geometric_mean_error(y_true, y_pred, multioutput=[1, 3]) == pytest.approx(3.5)
    # 1-D input and raw_values gives one value
    np.testing.assert_allclose(
        geometric_mean_error([0.0, 0.0], [1.0, 4.0], multioutput="raw_values"), [2.0]
    )


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, 6, elements=st.floats(-100, 100)),
    arrays(np.float64, 6, elements=st.floats(0.01, 50)),
)
def test_geometric_mean_error_is_at_most_mae(y_true, errors):
    # AM-GM inequality for positive errors, and GM matches scipy's gmean definition.
    y_pred = y_true + errors
    gm = geometric_mean_error(y_true, y_pred)
    assert gm == pytest.approx(np.exp(np.mean(np.log(errors))), rel=1e-9)
    assert gm <= np.mean(errors) * (1 + 1e-12)


# ------------------------------------------------------------------- Pearson
def test_pearson_by_hand():
    # centred y_true -1, 0, 1; centred y_pred -1, 1, 0: cov = 1, var_t = var_p = 2 -> 1/2
    assert pearson_correlation([1.0, 2.0, 3.0], [1.0, 3.0, 2.0]) == pytest.approx(0.5)
    assert pearson_correlation([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    raw = pearson_correlation(
        [[1, 1], [2, 2], [3, 3]], [[1, 3], [2, 2], [3, 1]], multioutput="raw_values"
    )
    np.testing.assert_allclose(raw, [1.0, -1.0])
    assert pearson_correlation(
        [[1, 1], [2, 2], [3, 3]], [[1, 3], [2, 2], [3, 1]]
    ) == pytest.approx(0.0)


def test_pearson_undefined_cases_are_nan_and_warned_like_scipy():
    # was NaN with no warning; scipy.stats.pearsonr warns ConstantInputWarning
    with pytest.warns(ConstantInputWarning, match="not defined.*: y_true is constant\\.$"):
        assert math.isnan(pearson_correlation([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    with pytest.warns(ConstantInputWarning, match=": y_pred is constant\\.$"):
        assert math.isnan(pearson_correlation([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]))
    with pytest.warns(ConstantInputWarning, match="y_true and y_pred are constant"):
        assert math.isnan(pearson_correlation([1.0, 1.0], [2.0, 2.0]))
    with pytest.warns(DegenerateDataWarning, match=r"fewer than 2 samples.*1 sample"):
        assert math.isnan(pearson_correlation([1.0], [2.0]))
    # two targets: the warning names the target; the defined one is unaffected
    with pytest.warns(ConstantInputWarning, match=r"y_pred is constant \(target 1\)"):
        raw = pearson_correlation(
            [[1, 1], [2, 2], [3, 3]], [[1, 5], [2, 5], [3, 5]], multioutput="raw_values"
        )
    assert raw[0] == pytest.approx(1.0) and math.isnan(raw[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a defined correlation warns nothing
        assert pearson_correlation([1.0, 2.0, 3.0], [1.0, 3.0, 2.0]) == pytest.approx(0.5)


def test_pearson_matches_numpy_on_random_data():
    rng = np.random.default_rng(0)
    y_true = rng.normal(size=(50, 2))
    y_pred = y_true + rng.normal(size=(50, 2))
    expected = [np.corrcoef(y_true[:, k], y_pred[:, k])[0, 1] for k in range(2)]
    np.testing.assert_allclose(
        pearson_correlation(y_true, y_pred, multioutput="raw_values"), expected, rtol=1e-12
    )


# ------------------------------------------------------------------ balanced
def test_balanced_errors_by_hand_on_an_imbalanced_set():
    # 2 bins over [0, 8]: [0, 4) holds 0, 1, 2 and [4, 8] holds 8.
    y_true = [0.0, 1.0, 2.0, 8.0]
    y_pred = [1.0, 1.0, 2.0, 11.0]  # errors 1, 0, 0 | 3
    # per-bin MAE: 1/3 and 3 -> (1/3 + 3) / 2 = 5/3 (plain MAE: 4/4 = 1)
    assert balanced_mean_absolute_error(y_true, y_pred, n_bins=2) == pytest.approx(5 / 3)
    # per-bin MSE: 1/3 and 9 -> (1/3 + 9) / 2 = 14/3 (plain MSE: 10/4)
    assert balanced_mean_squared_error(y_true, y_pred, n_bins=2) == pytest.approx(14 / 3)
    # same bins by width 4
    assert balanced_mean_absolute_error(y_true, y_pred, bin_width=4.0) == pytest.approx(5 / 3)


def test_balanced_error_is_the_mean_of_per_bin_errors():
    rng = np.random.default_rng(1)
    y_true = np.concatenate([rng.uniform(0, 1, 40), rng.uniform(4, 5, 3), [10.0]])
    y_pred = y_true + rng.normal(size=len(y_true))
    density = LabelDensity(n_bins=5, ks=1).fit(y_true)
    bins = density.bin_index(y_true)
    errors = np.abs(y_pred - y_true)
    per_bin = [errors[bins == b].mean() for b in np.unique(bins)]
    assert len(per_bin) == 3  # occupied bins 0, 2 and 4
    assert balanced_mean_absolute_error(y_true, y_pred, n_bins=5) == pytest.approx(
        np.mean(per_bin)
    )
    assert balanced_mean_absolute_error(y_true, y_pred, label_density=density) == pytest.approx(
        np.mean(per_bin)
    )
    # imbalance matters: the balanced error differs from the plain one here
    assert not np.isclose(np.mean(per_bin), errors.mean())


def test_balanced_error_equals_plain_error_on_a_uniform_test_set():
    # two samples in each of 2 bins: errors 1, 2 | 3, 4 -> ((1+2)/2 + (3+4)/2)/2 = 2.5 = 10/4
    y_true = [0.0, 1.0, 7.0, 8.0]
    y_pred = [1.0, 3.0, 4.0, 12.0]
    assert balanced_mean_absolute_error(y_true, y_pred, n_bins=2) == pytest.approx(2.5)
    # MSE: ((1+4)/2 + (9+16)/2)/2 = 7.5 = 30/4
    assert balanced_mean_squared_error(y_true, y_pred, n_bins=2) == pytest.approx(7.5)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 4),
    arrays(np.float64, 40, elements=st.floats(-3, 3)),
)
def test_balanced_equals_plain_when_every_bin_has_the_same_count(n_bins, per_bin, noise):
    # per_bin samples at the centre of each of n_bins unit bins over [0, n_bins]
    centres = np.repeat(np.arange(n_bins) + 0.5, per_bin)
    y_true = np.concatenate([[0.0, float(n_bins)], centres])
    density = LabelDensity(n_bins=n_bins, ks=1).fit(y_true)
    y_pred = centres + noise[: len(centres)]
    assert balanced_mean_absolute_error(centres, y_pred, label_density=density) == pytest.approx(
        np.mean(np.abs(y_pred - centres))
    )
    assert balanced_mean_squared_error(centres, y_pred, label_density=density) == pytest.approx(
        np.mean((y_pred - centres) ** 2)
    )


def test_balanced_error_of_a_constant_target_is_the_plain_error():
    # one distinct value is one bin whatever the binning: (1 + 3) / 2
    assert balanced_mean_absolute_error([2.0, 2.0], [3.0, -1.0]) == pytest.approx(2.0)


def test_balanced_error_two_targets_raw_and_average():
    # target 0: bins [0,4) / [4,8] -> errors 1,0,0 | 3 -> 5/3 ; target 1: uniform -> 2.5
    y_true = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 7.0], [8.0, 8.0]])
    y_pred = np.array([[1.0, 1.0], [1.0, 3.0], [2.0, 4.0], [11.0, 12.0]])
    raw = balanced_mean_absolute_error(y_true, y_pred, n_bins=2, multioutput="raw_values")
    np.testing.assert_allclose(raw, [5 / 3, 2.5])
    assert balanced_mean_absolute_error(y_true, y_pred, n_bins=2) == pytest.approx(
        (5 / 3 + 2.5) / 2
    )
    # with a fitted 2-D density the marginal bins of each target are used
    density = LabelDensity(n_bins=2, ks=1).fit(y_true)
    np.testing.assert_allclose(
        balanced_mean_absolute_error(
            y_true, y_pred, label_density=density, multioutput="raw_values"
        ),
        [5 / 3, 2.5],
    )


# ---------------------------------------------------------------------- SERA
def test_sera_by_hand():
    y_true = np.array([0.0, 1.0, 2.0])
    y_pred = np.array([1.0, 1.0, 4.0])  # squared errors 1, 0, 4
    # phi = y / 2 = 0, 0.5, 1 -> 0*1 + 0.5*0 + 1*4 = 4
    assert sera(y_true, y_pred, lambda y: y / 2) == pytest.approx(4.0)
    # phi = 1 everywhere -> SSE = 5; phi as an array
    assert sera(y_true, y_pred, np.ones(3)) == pytest.approx(5.0)
    # phi = 0.25, 1, 0.5 -> 0.25 + 0 + 2 = 2.25
    assert sera(y_true, y_pred, [0.25, 1.0, 0.5]) == pytest.approx(2.25)


def test_sera_equals_trapezoid_integral_of_ser_t():
    rng = np.random.default_rng(2)
    y_true = rng.normal(size=30)
    y_pred = y_true + rng.normal(size=30)
    phi = 1 / (1 + np.exp(-3 * y_true))  # a relevance in (0, 1) rising with y
    squared = (y_pred - y_true) ** 2
    grid = np.linspace(0, 1, 1001)
    ser = np.array([squared[phi >= t].sum() for t in grid])
    integral = np.trapezoid(ser, grid)
    # the step function SER_t is integrated exactly up to half a grid step per case
    assert sera(y_true, y_pred, phi) == pytest.approx(integral, abs=0.0005 * squared.sum())
    assert sera(y_true, y_pred, phi) == pytest.approx(np.sum(phi * squared))


def test_sera_two_targets():
    y_true = np.array([[0.0, 0.0], [1.0, 2.0]])
    y_pred = np.array([[1.0, 2.0], [3.0, 2.0]])  # squared errors: [1, 4], [4, 0]
    # shared phi per sample 0.5, 1 -> target 0: 0.5 + 4 = 4.5; target 1: 2 + 0 = 2
    raw = sera(y_true, y_pred, [0.5, 1.0], multioutput="raw_values")
    np.testing.assert_allclose(raw, [4.5, 2.0])
    assert sera(y_true, y_pred, [0.5, 1.0]) == pytest.approx(3.25)
    # phi per sample and target: [[1, 0], [0, 1]] -> target 0: 1, target 1: 0
    per_target = sera(y_true, y_pred, [[1.0, 0.0], [0.0, 1.0]], multioutput="raw_values")
    np.testing.assert_allclose(per_target, [1.0, 0.0])
    # one callable per target, each called on its own column
    funcs = [lambda y: np.ones_like(y), lambda y: y / 2]
    # target 0: 1 + 4 = 5; target 1: phi = 0, 1 -> 0*4 + 1*0 = 0
    np.testing.assert_allclose(sera(y_true, y_pred, funcs, multioutput="raw_values"), [5.0, 0.0])


@pytest.mark.parametrize(
    ("relevance", "message"),
    [
        ([0.5, 1.5, 0.0], r"must lie in \[0, 1\]"),
        ([0.5, -0.1, 0.0], r"must lie in \[0, 1\]"),
        ([0.5, np.nan, 0.0], "non-finite"),
        ([0.5, 1.0], "relevance values have shape"),
        (lambda y: np.ones(5), "relevance values have shape"),
        ([lambda y: y, lambda y: y], "one function per target"),
        ("high", "'relevance' parameter of sera must be a callable or an array-like"),
    ],
)
def test_sera_rejects_bad_relevance(relevance, message):
    with pytest.raises(ValueError, match=message):
        sera([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], relevance)


# --------------------------------------------------------------- shot metrics
# Training targets in unit bins over [0, 4] (0.0 and 4.0 fix the range): counts 6, 2, 0, 2
# (0.0 joins bin 0, 4.0 the closed last bin).
Y_TRAIN = np.array([0.5] * 5 + [1.5] * 2 + [3.5, 0.0, 4.0])
TRAIN_DENSITY = LabelDensity(n_bins=4, ks=1).fit(Y_TRAIN)


def test_shot_metrics_by_hand():
    # With the two range points the training counts are 6, 2, 0, 2; many=4, few=2 ->
    # bin 0 many, bin 1 medium (2 is not < 2), bin 2 few (0), bin 3 medium.
    np.testing.assert_array_equal(TRAIN_DENSITY.counts_, [6, 2, 0, 2])
    y_true = np.array([0.5, 0.5, 1.5, 2.5, 2.5, 3.5])
    y_pred = np.array([0.5, 1.5, 3.5, 2.0, 3.5, 3.5])  # errors 0, 1, 2, -0.5, 1, 0
    result = shot_metrics(y_true, y_pred, label_density=TRAIN_DENSITY, many=4, few=2)
    assert set(result) == {"all", "many", "medium", "few"}
    assert [result[r]["n"] for r in ("all", "many", "medium", "few")] == [6, 2, 2, 2]
    # all: MAE (0+1+2+0.5+1+0)/6 = 4.5/6; MSE (0+1+4+0.25+1+0)/6 = 6.25/6
    assert result["all"]["mae"] == pytest.approx(0.75)
    assert result["all"]["mse"] == pytest.approx(6.25 / 6)
    # many (bin 0): errors 0, 1 -> MAE 0.5, MSE 0.5, GM sqrt(1e-10 * 1) = 1e-5,
    # Pearson undefined (y_true constant)
    assert result["many"]["mae"] == pytest.approx(0.5)
    assert result["many"]["gm"] == pytest.approx(1e-5)
    assert math.isnan(result["many"]["pearson"])
    # medium (1.5 and 3.5): errors 2, 0 -> MAE 1, MSE 2; Pearson of (1.5, 3.5) vs
    # (3.5, 3.5): prediction constant -> NaN
    assert result["medium"]["mae"] == pytest.approx(1.0)
    assert result["medium"]["mse"] == pytest.approx(2.0)
    # few (bin 2): errors 0.5, 1 -> MAE 0.75, MSE 0.625, GM sqrt(0.5) = 0.70711
    assert result["few"]["mae"] == pytest.approx(0.75)
    assert result["few"]["mse"] == pytest.approx(0.625)
    assert result["few"]["gm"] == pytest.approx(math.sqrt(0.5))
    # the same regions from the training targets themselves
    from_train = shot_metrics(y_true, y_pred, y_train=Y_TRAIN, n_bins=4, many=4, few=2)
    assert_nested_close(from_train, result)
    assert result["all"]["pearson"] == pytest.approx(np.corrcoef(y_true, y_pred)[0, 1])


def test_shot_metrics_empty_region_is_nan_with_n_zero():
    # every test sample in bin 0 (many-shot): medium and few are empty (documented, warned)
    with pytest.warns(
        EmptyRegionWarning,
        match=r"No test sample of the 2 falls in the shot region\(s\) 'medium' \(2 to 4 "
        r"training targets per bin\); 'few' \(fewer than 2 training targets per bin\)",
    ):
        result = shot_metrics([0.1, 0.2], [0.0, 0.0], label_density=TRAIN_DENSITY, many=4, few=2)
    assert result["many"]["n"] == 2
    for region in ("medium", "few"):
        assert result[region]["n"] == 0
        assert all(math.isnan(result[region][m]) for m in ("mae", "mse", "gm", "pearson"))


def test_shot_metrics_selected_metrics_only():
    result = shot_metrics(
        [0.5], [1.5], label_density=TRAIN_DENSITY, many=4, few=2, metrics=("mse",)
    )
    assert result["all"] == {"mse": 1.0, "n": 1}


def test_shot_metrics_two_targets_per_target_regions():
    # target 0 uses the density above; target 1 is its mirror image (4 - y)
    y_train = np.column_stack([Y_TRAIN, 4.0 - Y_TRAIN])
    y_true = np.array([[0.5, 0.5], [2.5, 3.5]])
    y_pred = np.array([[1.5, 0.5], [2.5, 5.5]])  # errors: target 0: 1, 0; target 1: 0, 2
    result = shot_metrics(
        y_true, y_pred, y_train=y_train, n_bins=4, many=4, few=2, target_names=["a", "b"]
    )
    assert set(result) == {"a", "b", "mean"}
    # target a: 0.5 many, 2.5 few; target b: mirrored counts 2, 0, 2, 6 -> 0.5 medium,
    # 3.5 many
    assert (result["a"]["many"]["n"], result["a"]["few"]["n"]) == (1, 1)
    assert (result["b"]["medium"]["n"], result["b"]["many"]["n"]) == (1, 1)
    assert result["a"]["many"]["mae"] == pytest.approx(1.0)
    assert result["b"]["many"]["mae"] == pytest.approx(2.0)
    assert result["b"]["medium"]["mae"] == pytest.approx(0.0)
    # mean over targets: all MAE (0.5 + 1) / 2; n counts (sample, target) pairs
    assert result["mean"]["all"]["mae"] == pytest.approx(0.75)
    assert result["mean"]["all"]["n"] == 4
    assert result["mean"]["many"]["mae"] == pytest.approx(1.5)
    # a region empty for one target gives NaN in the mean
    assert math.isnan(result["mean"]["few"]["mae"])
    default_keys = shot_metrics(y_true, y_pred, y_train=y_train, n_bins=4, many=4, few=2)
    assert set(default_keys) == {"target_0", "target_1", "mean"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "pass y_train= .* or label_density="),
        ({"y_train": Y_TRAIN, "label_density": TRAIN_DENSITY}, "not both"),
        ({"y_train": Y_TRAIN, "metrics": ("mae", "r2")}, "Unknown metric 'r2'"),
        ({"y_train": Y_TRAIN, "metrics": ()}, "metrics is empty"),
        ({"y_train": Y_TRAIN, "many": 10, "few": 20}, "0 <= few <= many"),
        ({"y_train": Y_TRAIN, "few": -1}, r"'few' parameter of shot_metrics .* \[0.0, inf\)"),
        ({"y_train": Y_TRAIN, "few": np.nan}, r"'few' parameter of shot_metrics .* Got nan"),
        ({"y_train": Y_TRAIN, "n_bins": 0}, r"'n_bins' parameter of shot_metrics must be an int"),
        ({"y_train": Y_TRAIN, "bin_width": -1.0}, "'bin_width' parameter of shot_metrics"),
        ({"y_train": Y_TRAIN, "multioutput": "raw_values"}, "'multioutput' parameter"),
        ({"y_train": np.ones((10, 2))}, "y_train has 2 target"),
        ({"y_train": [1.0, np.nan]}, "y_train contains NaN"),
        (
            {"label_density": "bins"},
            r"'label_density' parameter of shot_metrics must be an instance of "
            r"'skdir\.density\.LabelDensity' or None\. Got 'bins'",
        ),
        (
            {"label_density": LabelDensity(n_bins=3).fit(np.ones((4, 2)) * [[1], [2], [3], [4]])},
            "fitted on 2 target",
        ),
        ({"y_train": Y_TRAIN, "target_names": ["a", "b"]}, "target_names has 2 name"),
    ],
)
def test_shot_metrics_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        shot_metrics([0.5, 1.5], [0.5, 1.5], **kwargs)


def test_shot_metrics_rejects_bad_target_names_and_unfitted_density():
    y = np.column_stack([Y_TRAIN, Y_TRAIN])
    with pytest.raises(ValueError, match="must be distinct and must not be 'mean'"):
        shot_metrics(y, y, y_train=y, target_names=["mean", "b"])
    with pytest.raises(ValueError, match="must be distinct"):
        shot_metrics(y, y, y_train=y, target_names=["a", "a"])
    with pytest.raises(NotFittedError):
        shot_metrics([1.0], [1.0], label_density=LabelDensity())


# -------------------------------------------------------- shared bad-input checks
METRIC_CALLS = [
    geometric_mean_error,
    pearson_correlation,
    balanced_mean_absolute_error,
    balanced_mean_squared_error,
    lambda t, p, **kw: sera(t, p, np.ones(len(np.asarray(t))), **kw),
    lambda t, p, **kw: shot_metrics(t, p, y_train=Y_TRAIN, **kw),
    lambda t, p, **kw: dir_report(t, p, y_train=Y_TRAIN, **kw),
]


@pytest.mark.parametrize("func", METRIC_CALLS)
@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0], "different shapes"),
        ([1.0, np.nan], [1.0, 2.0], "y_true contains NaN"),
        ([1.0, 2.0], [1.0, np.inf], "y_pred contains infinity"),
        (np.ones((3, 3)), np.ones((3, 3)), "at most 2 are supported"),
        ([], [], "at least 1 are required"),
        (np.ones((2, 2, 2)), np.ones((2, 2, 2)), "must be 1-D"),
    ],
)
def test_every_metric_rejects_bad_targets(func, y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        func(y_true, y_pred)


@pytest.mark.parametrize(
    "func",
    [
        geometric_mean_error,
        pearson_correlation,
        balanced_mean_absolute_error,
        balanced_mean_squared_error,
        lambda t, p, **kw: sera(t, p, np.ones(len(t)), **kw),
    ],
)
@pytest.mark.parametrize(
    ("multioutput", "message"),
    [
        ("variance_weighted", r"'multioutput' parameter of \w+ must be a str among"),
        ([1.0], "multioutput must be .* an array of 2 non-negative weight"),
        ([1.0, -1.0], "multioutput must be"),
        ([0, 0], "multioutput must be"),
    ],
)
def test_every_multioutput_metric_rejects_bad_multioutput(func, multioutput, message):
    y = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 3.0]])
    with pytest.raises(ValueError, match=message):
        func(y, y + 1, multioutput=multioutput)


def test_balanced_error_rejects_bad_binning_and_density():
    with pytest.raises(
        ValueError, match=r"'n_bins' parameter of balanced_mean_absolute_error must be an int"
    ):
        balanced_mean_absolute_error([0.0, 1.0], [0.0, 1.0], n_bins=2.5)
    with pytest.raises(
        ValueError, match=r"'bin_width' parameter of balanced_mean_squared_error .* \(0.0, inf\)"
    ):
        balanced_mean_squared_error([0.0, 1.0], [0.0, 1.0], bin_width=0.0)
    with pytest.raises(ValueError, match="fitted on 1 target"):
        balanced_mean_absolute_error(np.ones((2, 2)), np.ones((2, 2)), label_density=TRAIN_DENSITY)
    with pytest.raises(ValueError, match=r"'label_density' parameter .* must be an instance"):
        balanced_mean_absolute_error([0.0, 1.0], [0.0, 1.0], label_density=[0, 1])
    with pytest.raises(NotFittedError):
        balanced_mean_absolute_error([0.0, 1.0], [0.0, 1.0], label_density=LabelDensity())


# -------------------------------------------------------------------- report
def test_dir_report_numbers_and_table():
    y_true = np.array([0.5, 0.5, 1.5, 2.5, 2.5, 3.5])
    y_pred = np.array([0.5, 1.5, 3.5, 2.0, 3.5, 3.5])  # errors 0, 1, 2, 0.5, 1, 0
    report = dir_report(y_true, y_pred, label_density=TRAIN_DENSITY, many=4, few=2)
    assert isinstance(report, DIRReport)
    result = report.to_dict()
    expected = shot_metrics(y_true, y_pred, label_density=TRAIN_DENSITY, many=4, few=2)
    for region in ("all", "many", "medium", "few"):
        assert_nested_close(result[region], expected[region])
    # balanced over the 4 training bins, each occupied by test samples: per-bin MAE
    # 0.5 (bin 0), 2 (bin 1), 0.75 (bin 2), 0 (bin 3) -> 3.25 / 4
    assert result["balanced"]["mae"] == pytest.approx(3.25 / 4)
    assert result["balanced"]["mae"] == pytest.approx(
        balanced_mean_absolute_error(y_true, y_pred, label_density=TRAIN_DENSITY)
    )
    # per-bin MSE 0.5, 4, 0.625, 0 -> 5.125 / 4
    assert result["balanced"]["mse"] == pytest.approx(5.125 / 4)
    assert (result["balanced"]["n"], result["balanced"]["n_bins"]) == (6, 4)
    # to_dict is a copy
    result["all"]["mae"] = -1
    assert report.to_dict()["all"]["mae"] == pytest.approx(0.75)
    lines = str(report).splitlines()
    assert lines[1].split() == ["n", "MAE", "MSE", "GM", "Pearson"]
    assert [line.split()[0] for line in lines[2:7]] == ["all", "many", "medium", "few", "balanced"]
    # all: n 6, MAE 4.5/6, MSE 6.25/6
    assert lines[2].split()[:4] == ["all", "6", "0.7500", "1.0417"]
    assert "4 bins" in lines[7]


def test_dir_report_two_targets():
    y_train = np.column_stack([Y_TRAIN, 4.0 - Y_TRAIN])
    y_true = np.array([[0.5, 0.5], [2.5, 3.5]])
    y_pred = np.array([[1.5, 0.5], [2.5, 5.5]])
    report = dir_report(
        y_true, y_pred, y_train=y_train, n_bins=4, many=4, few=2, target_names=("a", "b")
    )
    result = report.to_dict()
    assert set(result) == {"a", "b", "mean"}
    # each target has 2 test samples in 2 different bins: balanced = plain
    assert result["a"]["balanced"]["mae"] == pytest.approx(0.5)
    assert result["b"]["balanced"]["mae"] == pytest.approx(1.0)
    assert result["mean"]["balanced"]["mae"] == pytest.approx(0.75)
    text = str(report)
    assert "[a]" in text and "[b]" in text and "[mean]" in text
    assert text.count("balanced ") == 3


# --------------------------------------------------------- get_label_density
def _xy(n=8):
    X = np.arange(n, dtype=float).reshape(-1, 1)
    y = np.linspace(0.5, 3.5, n)
    return X, y


def test_get_label_density_direct_pipeline_and_meta_estimators():
    X, y = _xy()
    model = ZeroWithDensity().fit(X, y)
    assert get_label_density(model) is model.label_density_
    pipe = make_pipeline(StandardScaler(), ZeroWithDensity()).fit(X, y)
    assert get_label_density(pipe) is pipe[-1].label_density_
    search = GridSearchCV(ZeroWithDensity(), {"n_bins": [2, 4]}, cv=2).fit(X, y)
    assert get_label_density(search) is search.best_estimator_.label_density_
    assert get_label_density(LinearRegression().fit(X, y)) is None
    assert get_label_density(ZeroWithDensity()) is None  # unfitted
    assert get_label_density(Ridge(), return_target_transform=True) == (None, None)
    _, transform = get_label_density(model, return_target_transform=True)
    np.testing.assert_array_equal(transform(y), y)  # identity without a TTR


def test_get_label_density_walks_ttr_and_returns_its_transform():
    X, y = _xy()
    ttr = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), ZeroWithDensity(bin_range=(-2.0, 2.0))),
        transformer=StandardScaler(),
    ).fit(X, y)
    density, transform = get_label_density(ttr, return_target_transform=True)
    assert density is ttr.regressor_[-1].label_density_
    scaled = (y - y.mean()) / y.std()
    np.testing.assert_allclose(transform(y), scaled)
    assert transform(y).shape == y.shape
    # nested TTRs apply the outer transformer first
    outer = TransformedTargetRegressor(
        TransformedTargetRegressor(
            ZeroWithDensity(), func=np.negative, inverse_func=np.negative, check_inverse=False
        ),
        func=np.exp,
        inverse_func=np.log,
        check_inverse=False,
    ).fit(X, y)
    _, transform = get_label_density(outer, return_target_transform=True)
    np.testing.assert_allclose(transform(y), -np.exp(y))
    # 2-D targets keep their shape
    y2 = np.column_stack([y, 2 * y])
    ttr2 = TransformedTargetRegressor(_ZeroWithDensity2D(), transformer=StandardScaler())
    ttr2.fit(X, y2)
    _, transform = get_label_density(ttr2, return_target_transform=True)
    np.testing.assert_allclose(transform(y2), (y2 - y2.mean(0)) / y2.std(0))


class _ZeroWithDensity2D(ZeroWithDensity):
    def fit(self, X, y):
        self.label_density_ = LabelDensity(n_bins=4, ks=1).fit(y)
        return self

    def predict(self, X):
        return np.zeros((len(X), 2))


def test_get_label_density_prefers_a_sampler_density_and_warns_after_resampling():
    X, y = _xy()

    class DensitySampler(KeepAllSampler):
        def fit_resample(self, X, y):
            self.label_density_ = LabelDensity(n_bins=2, ks=1).fit(y)
            return X, y

    pipe = ImbPipeline([("sampler", DensitySampler()), ("model", ZeroWithDensity())]).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert get_label_density(pipe) is pipe.named_steps["sampler"].label_density_
    plain = ImbPipeline([("sampler", KeepAllSampler()), ("model", ZeroWithDensity())]).fit(X, y)
    with pytest.warns(UserWarning, match="resampled training targets"):
        assert get_label_density(plain) is plain.named_steps["model"].label_density_


# ------------------------------------------------------------------- scorers
# Two folds with opposite imbalance in unit bins over [0, 4]: fold A holds six 0.5s and
# two 3.5s, fold B two 0.5s and six 3.5s. With few=3 the few-shot bin of the TRAINING
# fold is the one that is rare there, which is the common one of the test fold.
Y_FOLDS = np.array([0.5] * 6 + [3.5] * 2 + [0.5] * 2 + [3.5] * 6)
X_FOLDS = np.zeros((16, 1))


def test_cross_val_score_uses_the_training_fold_density():
    scorer = make_shot_scorer("mae", "few", many=3, few=3)
    scores = cross_val_score(ZeroWithDensity(), X_FOLDS, Y_FOLDS, cv=KFold(2), scoring=scorer)
    # fold A tested, B trained: B's counts 2 | 6 -> few bin 0 -> test 0.5s, MAE 0.5.
    # fold B tested, A trained: A's counts 6 | 2 -> few bin 3 -> test 3.5s, MAE 3.5.
    # (The test folds' own densities would give 3.5 and 0.5.)
    np.testing.assert_allclose(scores, [-0.5, -3.5])


def test_shot_scorer_sign_and_values():
    X, y = X_FOLDS, Y_FOLDS
    model = ZeroWithDensity().fit(X[:8], y[:8])  # counts 6 | 2: many=4 -> bin 0 many
    assert make_shot_scorer("mae", "all", many=4, few=3)(model, X, y) == pytest.approx(-2.0)
    # all errors: 8 of 0.5 and 8 of 3.5 -> MSE (8*0.25 + 8*12.25)/16 = 6.25
    assert make_shot_scorer("mse", "all")(model, X, y) == pytest.approx(-6.25)
    assert make_shot_scorer("mae", "many", many=4, few=3)(model, X, y) == pytest.approx(-0.5)
    assert make_shot_scorer("gm", "few", many=4, few=3)(model, X, y) == pytest.approx(-3.5)
    # medium (3 <= count <= 4): no bin -> the balanced MAE over the occupied bins 0 and 3
    # (8 test rows each, errors 0.5 and 3.5): (0.5 + 3.5) / 2, with a warning (was NaN)
    with pytest.warns(EmptyRegionWarning, match="'medium'-shot region .* none of the 16"):
        assert make_shot_scorer("mae", "medium", many=4, few=3)(model, X, y) == -2.0
    # Pearson is greater-is-better: not negated
    pearson_model = LinearRegression().fit(np.c_[y], y + 1)
    scorer = make_shot_scorer("pearson", "all", label_density=TRAIN_DENSITY)
    assert scorer(pearson_model, np.c_[y], y) == pytest.approx(1.0)
    # module instances: few-shot 100/20 -> every bin of 8 training samples is few
    assert few_shot_mae_scorer(model, X, y) == pytest.approx(-2.0)
    assert few_shot_mse_scorer(model, X, y) == pytest.approx(-6.25)


def test_shot_scorer_two_targets_averages_per_target_regions():
    X = np.zeros((4, 1))
    y_train = np.array([[0.5, 3.5], [0.5, 3.5], [0.5, 3.5], [3.5, 0.5]])
    model = _ZeroWithDensity2D().fit(X, y_train)  # bins [0.5, 3.5] in 4: counts 3 | 1
    # target 0 few bin: 3.5 ; target 1 few bin: 0.5 (both 1 < 2)
    y_test = np.array([[0.5, 0.5], [3.5, 3.5]])
    # target 0 few: sample 2, error 3.5; target 1 few: sample 1, error 0.5 -> -(3.5+0.5)/2
    raw = make_shot_scorer("mae", "few", many=2, few=2, multioutput="uniform_average")
    assert raw(model, X[:2], y_test) == pytest.approx(-2.0)
    # the default for two targets is scale-free: each target's errors divided by its
    # spread in the training density. Both marginals have 4 bins of width 0.75 over
    # [0.5, 3.5] with shares 3/4 and 1/4 in the end bins (centres 0.875 and 3.125):
    # variance 3/4 * 0.5625**2 + 1/4 * 1.6875**2 + 0.75**2 / 12 = 0.99609375
    spread = math.sqrt(0.99609375)
    scorer = make_shot_scorer("mae", "few", many=2, few=2)
    assert scorer(model, X[:2], y_test) == pytest.approx(-(3.5 + 0.5) / 2 / spread)


def test_shot_scorer_looks_up_regions_in_the_ttr_target_space():
    # The inner model trains on -y; its bins over [-4, 0] see training counts
    # 6 (at -3.5) and 2 (at -0.5). A test 0.5 maps to -0.5: few-shot.
    ttr = TransformedTargetRegressor(
        ZeroWithDensity(bin_range=(-4.0, 0.0)),
        func=np.negative,
        inverse_func=np.negative,
        check_inverse=False,
    ).fit(X_FOLDS[8:], Y_FOLDS[8:])
    scorer = make_shot_scorer("mae", "few", many=3, few=3)
    # regions from transformed targets: only 0.5 is few -> MAE 0.5
    # (untransformed, 0.5 and 3.5 would both clip into the last bin -> MAE 2)
    assert scorer(ttr, np.zeros((2, 1)), np.array([0.5, 3.5])) == pytest.approx(-0.5)


def test_shot_scorer_fallback_density_and_error_without_any():
    X, y = np.c_[Y_FOLDS], Y_FOLDS
    model = DummyRegressor(strategy="constant", constant=0.0).fit(X, y)
    # TRAIN_DENSITY counts 6, 2, 0, 2 with few=3: bins 1-3 are few -> 3.5s (8), MAE 3.5
    scorer = make_shot_scorer("mae", "few", label_density=TRAIN_DENSITY, many=4, few=3)
    assert scorer(model, X, y) == pytest.approx(-3.5)
    # the estimator's own density wins over the fallback
    own = ZeroWithDensity().fit(X[:8], y[:8])  # counts 6 | 2 -> few (<3) is bin 3
    assert scorer(own, X, y) == pytest.approx(-3.5)
    own_b = ZeroWithDensity().fit(X[8:], y[8:])  # counts 2 | 6 -> few is bin 0 (0.5s)
    assert scorer(own_b, X, y) == pytest.approx(-0.5)
    with pytest.raises(ValueError, match=r"exposes no fitted label_density_.*label_density="):
        few_shot_mae_scorer(model, X, y)


def test_balanced_scorers_need_no_training_targets():
    X = np.zeros((4, 1))
    y = np.array([0.0, 1.0, 2.0, 8.0])
    model = DummyRegressor(strategy="constant", constant=1.0).fit(X, y)
    # errors 1, 0, 1 | 7 over 20 bins of [0, 8] (width 0.4): bins 0, 2, 5, 19 -> each
    # sample its own bin -> balanced MAE = plain MAE = 9/4; MSE = (1+0+1+49)/4
    assert balanced_mae_scorer(model, X, y) == pytest.approx(-9 / 4)
    assert balanced_mse_scorer(model, X, y) == pytest.approx(-51 / 4)
    # 2 bins: (2/3 + 7) / 2
    assert make_balanced_scorer("mae", n_bins=2)(model, X, y) == pytest.approx(-(2 / 3 + 7) / 2)
    assert make_balanced_scorer("mae", bin_width=4.0)(model, X, y) == pytest.approx(
        -(2 / 3 + 7) / 2
    )
    density = LabelDensity(n_bins=1, ks=1).fit([0.0, 8.0])  # one bin: plain MAE
    assert make_balanced_scorer("mae", label_density=density)(model, X, y) == pytest.approx(-9 / 4)
    scores = cross_val_score(Ridge(), X_FOLDS, Y_FOLDS, cv=KFold(2), scoring=balanced_mae_scorer)
    assert np.all(scores < 0)


def test_scorers_work_in_cross_validate_and_grid_search_and_pickle():
    scoring = {
        "few": make_shot_scorer("mae", "few", many=3, few=3),
        "balanced": balanced_mae_scorer,
    }
    result = cross_validate(ZeroWithDensity(), X_FOLDS, Y_FOLDS, cv=KFold(2), scoring=scoring)
    np.testing.assert_allclose(result["test_few"], [-0.5, -3.5])
    # balanced over the test fold's bins: 0.5s error 0.5, 3.5s error 3.5 -> 2.0 per fold
    np.testing.assert_allclose(result["test_balanced"], [-2.0, -2.0])
    search = GridSearchCV(
        ZeroWithDensity(), {"n_bins": [2, 4]}, cv=KFold(2), scoring=scoring["few"]
    ).fit(X_FOLDS, Y_FOLDS)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], [-2.0, -2.0])
    for scorer in (few_shot_mae_scorer, balanced_mse_scorer):
        clone = pickle.loads(pickle.dumps(scorer))
        assert repr(clone) == repr(scorer)
    assert repr(few_shot_mae_scorer) == (
        "make_shot_scorer(metric='mae', region='few', many=100, few=20)"
    )
    assert repr(balanced_mse_scorer) == "make_balanced_scorer(metric='mse', n_bins=20)"


def test_scorers_under_metadata_routing():
    weights = np.arange(1, 17, dtype=float)
    with sklearn.config_context(enable_metadata_routing=True):
        model = Ridge().set_fit_request(sample_weight=True)
        routed = cross_val_score(
            model,
            X_FOLDS + Y_FOLDS[:, None],
            Y_FOLDS,
            cv=KFold(2),
            scoring=make_balanced_scorer("mae"),
            params={"sample_weight": weights},
        )
        fitted = [
            Ridge().fit(X_FOLDS[tr] + Y_FOLDS[tr, None], Y_FOLDS[tr], sample_weight=weights[tr])
            for tr, _ in KFold(2).split(X_FOLDS)
        ]
    # the weights reach fit, the scorer stays unweighted and finite
    expected = [
        -balanced_mean_absolute_error(Y_FOLDS[te], m.predict(X_FOLDS[te] + Y_FOLDS[te, None]))
        for m, (_, te) in zip(fitted, KFold(2).split(X_FOLDS), strict=True)
    ]
    np.testing.assert_allclose(routed, expected)
    # without routing, a search fitted with sample_weight warns and scores unweighted
    with pytest.warns(UserWarning, match="does not support sample_weight"):
        search = GridSearchCV(
            Ridge(), {"alpha": [1.0]}, cv=KFold(2), scoring=make_balanced_scorer("mae")
        ).fit(X_FOLDS + Y_FOLDS[:, None], Y_FOLDS, sample_weight=weights)
    assert search.cv_results_["mean_test_score"][0] == pytest.approx(np.mean(routed))
    model = ZeroWithDensity().fit(X_FOLDS, Y_FOLDS)
    with pytest.raises(ValueError, match="received metadata \\['sample_weight'\\]"):
        balanced_mae_scorer(model, X_FOLDS, Y_FOLDS, sample_weight=weights)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (
            lambda: make_shot_scorer("r2"),
            r"'metric' parameter of make_shot_scorer must be a str among .* or a callable",
        ),
        (lambda: make_shot_scorer("mae", "rare"), "'region' parameter of make_shot_scorer"),
        (lambda: make_shot_scorer("mae", "few", many=5, few=10), "0 <= few <= many"),
        (lambda: make_shot_scorer(label_density=object()), "'label_density' parameter"),
        (lambda: make_shot_scorer(multioutput="raw_values"), "'multioutput' parameter"),
        (lambda: make_shot_scorer(greater_is_better="yes"), "'greater_is_better' parameter"),
        (lambda: make_shot_scorer("mae", greater_is_better=True), "contradicts the metric 'mae'"),
        (lambda: make_balanced_scorer("r2"), "'metric' parameter of make_balanced_scorer"),
        (lambda: make_balanced_scorer(n_bins=0), "'n_bins' parameter of make_balanced_scorer"),
        (lambda: make_balanced_scorer(bin_width="wide"), "'bin_width' parameter"),
    ],
)
def test_scorer_factories_reject_bad_options(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_scorer_rejects_nan_targets():
    model = ZeroWithDensity().fit(X_FOLDS, Y_FOLDS)
    with pytest.raises(ValueError, match="y_true contains NaN"):
        balanced_mae_scorer(model, X_FOLDS, np.full(16, np.nan))


# ------------------------------------------------------------------- doctests
def test_docstring_examples():
    attempted = 0
    for module in (_base, _compose, _density, _regression, _report, _scorers):
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted > 30


# ------------------------------------- empty shot regions in a test fold (issue 13.6)
# 50 targets packed near 1 and 10 fives; KFold(3) without shuffling puts the fives in
# the last test fold only.
Y_PACKED = np.r_[np.linspace(1.0, 1.01, 50), [5.0] * 10]
X_PACKED = np.zeros((60, 1))
STEP = 0.01 / 49  # spacing of the packed targets


def _constant_model(value=0.0):
    return DensityWeightedRegressor(DummyRegressor(strategy="constant", constant=value))


def _packed_fold_scores(c):
    """Hand values of -few-shot MAE for a constant prediction c on the three folds.

    Fold 1 (rows 0-19): the training fold (rows 20-59) spans [1.0041, 5] in 50 LDS bins
    of width 0.08; its 30 packed targets share bin 0 (medium: 20 <= 30 <= 100), and every
    test row lands there, so the few region is empty and the fallback is the balanced
    MAE over that one bin: the plain MAE. Fold 2 (rows 20-39): the same, bin 0 holds 30.
    Fold 3 (rows 40-59): the training fold (rows 0-39) spans 0.008 in 50 bins of at most
    one target each, so all 20 test rows are few-shot.
    """
    return -np.array(
        [
            np.mean(np.abs(Y_PACKED[0:20] - c)),
            np.mean(np.abs(Y_PACKED[20:40] - c)),
            np.mean(np.abs(Y_PACKED[40:60] - c)),
        ]
    )


def test_shot_scorer_falls_back_to_the_balanced_error_in_cross_validation():
    with pytest.warns(EmptyRegionWarning) as record:
        scores = cross_val_score(
            _constant_model(0.0), X_PACKED, Y_PACKED, cv=KFold(3), scoring=few_shot_mae_scorer
        )
    # was [nan, nan, -2.0...]: now finite, each number by hand
    expected = -np.array(
        [1 + STEP * 9.5, 1 + STEP * 29.5, (10 + STEP * 445 + 50) / 20]  # mean of rows
    )
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    np.testing.assert_allclose(scores, _packed_fold_scores(0.0), rtol=1e-12)
    messages = [str(w.message) for w in record if w.category is EmptyRegionWarning]
    assert len(messages) == 2  # folds 1 and 2
    assert all("'few'-shot region (fewer than 20 training targets per bin)" in m for m in messages)
    assert all("holds none of the 20 test rows" in m for m in messages)
    assert all("balanced MAE over the 1 training bin(s)" in m for m in messages)


def test_shot_scorer_fallback_weighs_occupied_bins_equally():
    # training bins [0, 2) and [2, 4] hold 30 each: both medium, the few region is empty
    density = LabelDensity(n_bins=2, bin_range=(0.0, 4.0), ks=1).fit([0.5] * 30 + [3.5] * 30)
    scorer = make_shot_scorer("mae", "few", label_density=density)
    zero = DummyRegressor(strategy="constant", constant=0.0).fit(np.zeros((4, 1)), np.zeros(4))
    y_test = np.array([1.0, 1.0, 1.0, 3.0])  # bin 0: three errors of 1; bin 1: one of 3
    with pytest.warns(EmptyRegionWarning, match=r"balanced MAE over the 2 training bin\(s\)"):
        score = scorer(zero, np.zeros((4, 1)), y_test)
    assert score == -2.0  # (1 + 3) / 2 bins; the plain MAE would be 1.5
    # MSE and GM fall back the same way: (1 + 9) / 2 and the bin-weighted geometric mean
    with pytest.warns(EmptyRegionWarning):
        assert make_shot_scorer("mse", "few", label_density=density)(
            zero, np.zeros((4, 1)), y_test
        ) == pytest.approx(-5.0)
    with pytest.warns(EmptyRegionWarning):
        gm = make_shot_scorer("gm", "few", label_density=density)(zero, np.zeros((4, 1)), y_test)
    assert gm == pytest.approx(-math.sqrt(3.0))  # exp(0.5 log 1 + 0.5 log 3)
    # Pearson needs two rows: a region of one falls back too; it is greater-is-better
    model = LinearRegression().fit(np.c_[[0.5, 3.0, 3.5]], [0.5, 3.0, 3.5])
    X_one_few = np.c_[[0.5, 0.6, 3.5]]  # bin 0 (30 training targets) twice, bin 3 (1) once
    narrow = LabelDensity(n_bins=4, bin_range=(0.0, 4.0), ks=1).fit([0.5] * 30 + [3.5])
    with pytest.warns(EmptyRegionWarning, match="holds 1, fewer than the 2 that Pearson"):
        r = make_shot_scorer("pearson", "few", label_density=narrow, many=100, few=20)(
            model, X_one_few, np.array([0.5, 0.6, 3.5])
        )
    assert r == pytest.approx(1.0)  # exact predictions: balanced r over bins 0 and 3 is 1


def test_shot_scorer_with_an_occupied_region_does_not_warn():
    density = LabelDensity(n_bins=2, bin_range=(0.0, 4.0), ks=1).fit([0.5] * 30 + [3.5] * 3)
    zero = DummyRegressor(strategy="constant", constant=0.0).fit(np.zeros((2, 1)), [0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score = make_shot_scorer("mae", "few", label_density=density)(
            zero, np.zeros((2, 1)), np.array([1.0, 3.0])
        )
    assert score == -3.0  # only the 3.0 is few-shot


def test_dir_search_scores_stay_finite_with_empty_regions():
    from skdir.model_selection import DIRSearchCV

    search = DIRSearchCV(
        _constant_model(),
        {"regressor__constant": [0.0, 1.0]},
        n_trials=4,
        scoring=few_shot_mae_scorer,
        cv=KFold(3),
        random_state=0,
    )
    with pytest.warns(EmptyRegionWarning, match="'few'-shot region"):
        search.fit(X_PACKED, Y_PACKED)
    results = search.cv_results_
    assert np.isfinite(results["mean_test_score"]).all()  # was NaN for every trial
    for i, params in enumerate(results["params"]):
        c = params["regressor__constant"]
        folds = [results[f"split{k}_test_score"][i] for k in range(3)]
        np.testing.assert_allclose(folds, _packed_fold_scores(c), rtol=1e-12)
        assert results["mean_test_score"][i] == pytest.approx(np.mean(_packed_fold_scores(c)))
    # constant 1 is closer to every fold's targets: mean -(0.0019 + 0.0060 + 2.0045) / 3
    assert search.best_params_ == {"regressor__constant": 1.0}
    assert search.best_score_ == pytest.approx(
        -(STEP * 9.5 + STEP * 29.5 + (STEP * 445 + 40) / 20) / 3
    )


# ---------------------------------------- density inside ensembles (issue 13.11)
# every seventh training target is rare: LDS bins [0.5, 2) and [2, 3.5] count 30 and 5
Y_ENSEMBLE = np.tile([0.5] * 6 + [3.5], 5)
X_ENSEMBLE = np.zeros((35, 1))
Y_ENSEMBLE_TEST = np.array([0.5, 3.5, 3.0])  # 3.5 and 3.0 are few-shot (5 < 20)


def _dwr(value):
    return DensityWeightedRegressor(
        DummyRegressor(strategy="constant", constant=value), weighter=LDSWeighter(n_bins=2, ks=1)
    )


def test_shot_scorer_finds_the_density_in_voting_and_stacking():
    voting = VotingRegressor([("a", _dwr(0.0)), ("b", _dwr(2.0))]).fit(X_ENSEMBLE, Y_ENSEMBLE)
    density = get_label_density(voting)
    assert density is voting.estimators_[0].weighter_.label_density_
    assert density.counts_.tolist() == [30.0, 5.0]
    # the vote predicts (0 + 2) / 2 = 1: few-shot errors |3.5 - 1| and |3.0 - 1|
    assert few_shot_mae_scorer(voting, X_ENSEMBLE[:3], Y_ENSEMBLE_TEST) == pytest.approx(-2.25)
    assert few_shot_mse_scorer(voting, X_ENSEMBLE[:3], Y_ENSEMBLE_TEST) == pytest.approx(
        -(2.5**2 + 2.0**2) / 2
    )
    stacking = StackingRegressor(
        [("a", _dwr(0.0)), ("b", _dwr(2.0))],
        final_estimator=DummyRegressor(strategy="constant", constant=1.0),
    ).fit(X_ENSEMBLE, Y_ENSEMBLE)
    assert get_label_density(stacking).counts_.tolist() == [30.0, 5.0]
    assert few_shot_mae_scorer(stacking, X_ENSEMBLE[:3], Y_ENSEMBLE_TEST) == pytest.approx(-2.25)
    # the density can also sit in the final estimator only
    final_only = StackingRegressor(
        [("a", DummyRegressor()), ("b", DummyRegressor(strategy="median"))],
        final_estimator=_dwr(1.0),
    ).fit(X_ENSEMBLE, Y_ENSEMBLE)
    assert get_label_density(final_only) is final_only.final_estimator_.weighter_.label_density_
    assert few_shot_mae_scorer(final_only, X_ENSEMBLE[:3], Y_ENSEMBLE_TEST) == pytest.approx(-2.25)
    # nested: a voting ensemble inside a pipeline inside a search
    search = GridSearchCV(
        make_pipeline(StandardScaler(), VotingRegressor([("a", _dwr(0.0)), ("b", _dwr(2.0))])),
        {"standardscaler__with_mean": [True]},
        cv=KFold(5),
    ).fit(X_ENSEMBLE, Y_ENSEMBLE)
    assert few_shot_mae_scorer(search, X_ENSEMBLE[:3], Y_ENSEMBLE_TEST) == pytest.approx(-2.25)


def test_shot_scorer_in_cross_validation_of_a_voting_ensemble():
    voting = VotingRegressor([("a", _dwr(0.0)), ("b", _dwr(2.0))])
    # KFold(5): every training fold holds 24 of 0.5 and 4 of 3.5, every test fold 6 and 1;
    # the test 3.5 is few-shot (4 < 20): error |3.5 - 1| = 2.5 in every fold
    scores = cross_val_score(
        voting, X_ENSEMBLE, Y_ENSEMBLE, cv=KFold(5), scoring=few_shot_mae_scorer
    )
    np.testing.assert_allclose(scores, [-2.5] * 5)


def test_ensembles_without_a_density_say_how_to_pass_one():
    voting = VotingRegressor([("a", DummyRegressor()), ("b", Ridge())]).fit(X_ENSEMBLE, Y_ENSEMBLE)
    with pytest.raises(
        ValueError,
        match=r"VotingRegressor exposes no fitted label_density_ .*estimators_, "
        r"named_estimators_, final_estimator_.*make_shot_scorer\(\.\.\., label_density=",
    ):
        few_shot_mae_scorer(voting, X_ENSEMBLE[:3], Y_ENSEMBLE_TEST)
    # the scorer's own density is then used
    density = LabelDensity(n_bins=2, ks=1).fit(Y_ENSEMBLE)
    scorer = make_shot_scorer("mae", "few", label_density=density)
    mean = Y_ENSEMBLE.mean()  # both members predict the mean (Ridge on a constant X)
    expected = -(abs(3.5 - mean) + abs(3.0 - mean)) / 2
    assert scorer(voting, X_ENSEMBLE[:3], Y_ENSEMBLE_TEST) == pytest.approx(expected)


def test_per_column_densities_of_multioutput_members_are_not_used_silently():
    Y2 = np.column_stack([Y_ENSEMBLE, Y_ENSEMBLE[::-1]])
    model = MultiOutputRegressor(_dwr(0.0)).fit(X_ENSEMBLE, Y2)
    with pytest.raises(ValueError, match=r"fitted on 1 target\(s\) but y has 2"):
        few_shot_mae_scorer(model, X_ENSEMBLE[:3], Y2[:3])
    # a bagged member's density comes from a bootstrap sample: used with a warning
    bagging = BaggingRegressor(_dwr(0.0), n_estimators=2, random_state=0).fit(
        X_ENSEMBLE, Y_ENSEMBLE
    )
    with pytest.warns(UserWarning, match="bootstrap sample"):
        assert get_label_density(bagging) is bagging.estimators_[0].weighter_.label_density_
