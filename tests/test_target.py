import pickle
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression

from skdir.target import METHODS, TargetDistributionNormalizer

RNG = np.random.default_rng(0)
LOGNORMAL = RNG.lognormal(size=300)
NORMAL = RNG.normal(size=300)
SIGNED_SKEWED = RNG.exponential(size=300) - 0.5


# ----------------------------------------------------------- hand-computed maps
def test_affine_methods_by_hand():
    y = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    standard = TargetDistributionNormalizer("standard").fit_transform(y)
    assert standard == pytest.approx((y - 2.0) / np.sqrt(2.0))
    # median 2, quartiles 1 and 3 -> IQR 2
    assert TargetDistributionNormalizer("robust").fit_transform(y) == pytest.approx(
        [-1, -0.5, 0, 0.5, 1]
    )
    assert TargetDistributionNormalizer("minmax").fit_transform(y) == pytest.approx(y / 4)


def test_log_learns_a_shift_for_non_positive_targets():
    positive = TargetDistributionNormalizer("log").fit(np.array([0.0, 1.0, 3.0]))
    assert positive.transform(np.array([0.0, 1.0, 3.0])) == pytest.approx(np.log1p([0, 1, 3]))
    negative = TargetDistributionNormalizer("log").fit(np.array([-0.5, 0.0, 1.0]))
    # shift = -0.5: log1p(y + 0.5)
    assert negative.transform(np.array([-0.5, 0.0, 1.0])) == pytest.approx(
        np.log1p([0.0, 0.5, 1.5])
    )
    with pytest.raises(ValueError, match=r"needs y > -1\.5"):
        negative.transform(np.array([-2.0]))


@pytest.mark.parametrize(
    ("method", "y", "scipy_map", "lmbda"),
    [
        ("yeo-johnson", SIGNED_SKEWED, stats.yeojohnson, stats.yeojohnson_normmax),
        ("box-cox", LOGNORMAL, stats.boxcox, lambda y: stats.boxcox_normmax(y, method="mle")),
    ],
)
def test_power_methods_match_scipy_and_are_standardised(method, y, scipy_map, lmbda):
    normalizer = TargetDistributionNormalizer(method).fit(y)
    assert normalizer.lambdas_[0] == pytest.approx(lmbda(y), rel=1e-4)
    raw = scipy_map(y, normalizer.lambdas_[0])
    z = normalizer.transform(y)
    assert z == pytest.approx((raw - raw.mean()) / raw.std(), abs=1e-9)
    assert abs(stats.skew(z)) < 0.2 < 1.0 < abs(stats.skew(y))


def test_quantile_uniform_is_the_rank_on_distinct_values():
    y = np.array([5.0, 1.0, 3.0, 10.0, 2.0])
    z = TargetDistributionNormalizer("quantile-uniform").fit_transform(y)
    assert z == pytest.approx([0.75, 0.0, 0.5, 1.0, 0.25])
    normal = TargetDistributionNormalizer("quantile-normal").fit_transform(y)
    assert normal[2] == pytest.approx(0.0, abs=1e-12)  # the median maps to 0
    assert np.argsort(normal).tolist() == np.argsort(y).tolist()


# ---------------------------------------------------------------------- auto
def test_auto_choices_are_exposed_per_target():
    outliers = np.concatenate([NORMAL[:296], [-15.0, -12.0, 12.0, 15.0]])  # symmetric tails
    y = np.column_stack([LOGNORMAL, SIGNED_SKEWED, NORMAL, outliers])
    normalizer = TargetDistributionNormalizer().fit(y)
    assert normalizer.methods_ == ["box-cox", "yeo-johnson", "standard", "robust"]
    assert normalizer.n_targets_ == 4
    # The auto choice is exactly the fit of the chosen methods.
    explicit = TargetDistributionNormalizer(normalizer.methods_).fit(y)
    assert normalizer.transform(y) == pytest.approx(explicit.transform(y))


def test_auto_never_picks_a_quantile_method():
    for seed in range(5):
        y = np.random.default_rng(seed).pareto(1.5, size=400)
        assert TargetDistributionNormalizer().fit(y).methods_[0] in ("box-cox", "yeo-johnson")


def test_list_of_methods_one_per_target():
    y = np.column_stack([LOGNORMAL, NORMAL])
    normalizer = TargetDistributionNormalizer(["log", "minmax"]).fit(y)
    z = normalizer.transform(y)
    assert z[:, 0] == pytest.approx(np.log1p(LOGNORMAL))
    assert z[:, 1].min() == 0 and z[:, 1].max() == pytest.approx(1)
    with pytest.raises(ValueError, match=r"lists 1 method.*2 target"):
        TargetDistributionNormalizer(["log"]).fit(y)


# ----------------------------------------------------------------- round trips
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None)
@given(
    y=arrays(np.float64, st.integers(5, 40), elements=finite).filter(
        lambda a: np.ptp(a) > 1e-3 * max(1.0, np.abs(a).max())
    ),
    method=st.sampled_from([m for m in METHODS if m != "box-cox"] + ["auto"]),
)
def test_inverse_is_exact_on_training_and_inner_values(y, method):
    quartiles = np.percentile(y, [25, 75])
    assume(method != "robust" or quartiles[1] > quartiles[0])  # else a clear error, tested
    normalizer = TargetDistributionNormalizer(method).fit(y)
    inner = np.linspace(y.min(), y.max(), 17)
    for values in (y, inner):
        back = normalizer.inverse_transform(normalizer.transform(values))
        scale = max(1.0, np.abs(values).max())
        # "auto" may pick Box-Cox, whose extreme lambdas on degenerate samples (one value
        # far from 23 equal ones) lose about 1e-6 relative in float64
        assert back == pytest.approx(values, rel=1e-5, abs=1e-6 * scale)


@settings(max_examples=25, deadline=None)
@given(
    y=arrays(np.float64, st.integers(5, 40), elements=st.floats(1e-1, 1e2)).filter(
        lambda a: len(np.unique(a)) >= len(a) // 2  # not degenerate: see the Notes
    )
)
def test_box_cox_round_trip(y):
    normalizer = TargetDistributionNormalizer("box-cox").fit(y)
    inner = np.linspace(y.min(), y.max(), 17)
    for values in (y, inner):
        back = normalizer.inverse_transform(normalizer.transform(values))
        assert back == pytest.approx(values, rel=1e-6)


def test_outside_the_training_range_is_documented_behaviour():
    y = np.linspace(1.0, 2.0, 50)
    outside = np.array([0.5, 3.0])
    for method in ("standard", "robust", "minmax", "log"):
        normalizer = TargetDistributionNormalizer(method).fit(y)
        assert normalizer.inverse_transform(normalizer.transform(outside)) == pytest.approx(
            outside
        )
    quantile = TargetDistributionNormalizer("quantile-uniform").fit(y)
    assert quantile.inverse_transform(quantile.transform(outside)) == pytest.approx([1.0, 2.0])
    # A power map with a bounded image returns its limit, never NaN.
    power = TargetDistributionNormalizer("yeo-johnson").fit(LOGNORMAL)
    assert power.lambdas_[0] < 0
    back = power.inverse_transform(np.array([-1e6, 1e6]))
    assert not np.isnan(back).any()
    assert back[1] == np.inf


def test_shapes_one_d_in_one_d_out():
    normalizer = TargetDistributionNormalizer("standard")
    assert normalizer.fit_transform(NORMAL).shape == (300,)
    assert normalizer.inverse_transform(np.zeros(4)).shape == (4,)
    column = NORMAL[:, None]
    assert normalizer.fit(column).transform(column).shape == (300, 1)
    assert normalizer.inverse_transform(np.zeros((4, 1))).shape == (4, 1)


# --------------------------------------------------------------- clipping
def test_clip_quantiles_winsorizes_with_learned_bounds():
    y = np.arange(101.0)
    normalizer = TargetDistributionNormalizer("minmax", clip_quantiles=(0.1, 0.9)).fit(y)
    assert normalizer.clip_bounds_.tolist() == [[10.0, 90.0]]
    z = normalizer.transform(np.array([-50.0, 10.0, 50.0, 500.0]))
    assert z == pytest.approx([0.0, 0.0, 0.5, 1.0])
    # The clip is not inverted: values beyond the bounds come back at the bounds.
    assert normalizer.inverse_transform(z) == pytest.approx([10.0, 10.0, 50.0, 90.0])


@pytest.mark.parametrize("clip", [(0.9, 0.1), (-0.1, 0.5), (0.1,), ("a", "b")])
def test_bad_clip_quantiles(clip):
    with pytest.raises(ValueError, match="clip_quantiles"):
        TargetDistributionNormalizer(clip_quantiles=clip).fit(NORMAL)


# ------------------------------------------------------------ composition
def test_transformed_target_regressor_one_and_two_targets():
    X = RNG.normal(size=(300, 3))
    y = np.exp(X @ np.array([0.5, -0.3, 0.2]) + 0.1 * RNG.normal(size=300))
    model = TransformedTargetRegressor(
        LinearRegression(), transformer=TargetDistributionNormalizer("log")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # check_inverse would warn on an inexact inverse
        pred = model.fit(X, y).predict(X)
    assert pred.shape == (300,)
    manual = np.expm1(LinearRegression().fit(X, np.log1p(y)).predict(X))
    assert pred == pytest.approx(manual)
    assert model.transformer_.n_features_in_ == 1
    y2 = np.column_stack([y, X[:, 0]])
    pred2 = model.fit(X, y2).predict(X)
    assert pred2.shape == (300, 2)


def test_dir_regressor_target_transformer():
    from skdir.nn import DIRRegressor

    X = RNG.normal(size=(120, 4)).astype(np.float32)
    y = 100.0 + 50.0 * X[:, 0]
    net = DIRRegressor(
        max_epochs=2,
        device="cpu",
        random_state=0,
        target_transformer=TargetDistributionNormalizer("standard"),
    )
    pred = net.fit(X, y).predict(X)
    assert pred.shape == (120,)
    # Predictions are mapped back to the raw scale (the net itself outputs ~N(0, 1)).
    assert abs(pred.mean() - 100.0) < 30.0
    assert net.target_transformer_.methods_ == ["standard"]


def test_clone_pickle_and_random_state():
    y = RNG.normal(size=500)
    normalizer = TargetDistributionNormalizer("quantile-normal", subsample=100, random_state=3)
    first = normalizer.fit_transform(y)
    assert clone(normalizer).fit_transform(y) == pytest.approx(first)
    restored = pickle.loads(pickle.dumps(normalizer))
    assert restored.transform(y) == pytest.approx(first)
    assert clone(normalizer).get_params() == normalizer.get_params()
    other = TargetDistributionNormalizer("quantile-normal", subsample=100, random_state=4)
    assert not np.allclose(other.fit_transform(y), first)


# --------------------------------------------------------------- bad input
def test_box_cox_rejects_non_positive_targets():
    with pytest.raises(ValueError, match=r"box-cox.*strictly positive.*yeo-johnson"):
        TargetDistributionNormalizer("box-cox").fit(np.array([0.0, 1.0, 2.0]))
    fitted = TargetDistributionNormalizer("box-cox").fit(LOGNORMAL)
    with pytest.raises(ValueError, match="strictly positive"):
        fitted.transform(np.array([-1.0]))


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.array([1.0, np.nan, 2.0]), "NaN"),
        (np.array([1.0, np.inf, 2.0]), "infinity"),
        (np.ones(10), "constant"),
        (np.array([1.0]), "at least 2"),
        (np.ones((3, 2, 2)), "1-D"),
        (np.array(["a", "b"]), "numeric"),
    ],
)
def test_bad_targets(y, match):
    with pytest.raises(ValueError, match=match):
        TargetDistributionNormalizer().fit(y)


def test_unknown_method_and_mismatched_columns():
    with pytest.raises(ValueError, match="'method' parameter of TargetDistributionNormalizer"):
        TargetDistributionNormalizer("boxcox").fit(NORMAL)
    with pytest.raises(ValueError, match="Unknown method 'boxcox'"):
        TargetDistributionNormalizer(["standard", "boxcox"]).fit(np.c_[NORMAL, NORMAL])
    fitted = TargetDistributionNormalizer("standard").fit(np.column_stack([NORMAL, NORMAL]))
    with pytest.raises(ValueError, match=r"1 target.*fitted on 2"):
        fitted.transform(NORMAL)
    with pytest.raises(ValueError, match=r"^z has 3 target\(s\) but this TargetDistributionN"):
        fitted.inverse_transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"^z has 1 target\(s\) .* fitted on 2; pass targets"):
        fitted.inverse_transform(np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        fitted.inverse_transform(np.full((2, 2), np.nan))


def test_robust_needs_a_spread_between_quartiles():
    y = np.array([0.0] * 8 + [1.0, 2.0])
    with pytest.raises(ValueError, match=r"interquartile range.*'standard'"):
        TargetDistributionNormalizer("robust").fit(y)


def test_use_before_fit():
    with pytest.raises(NotFittedError):
        TargetDistributionNormalizer().inverse_transform(np.zeros(3))
    with pytest.raises(NotFittedError):
        TargetDistributionNormalizer().transform(np.zeros(3))


# ------------------------------------------------ sweep of bad inputs (issue 13)
def test_inverse_transform_of_no_rows_and_of_infinity():
    normalizer = TargetDistributionNormalizer("standard").fit([1.0, 2.0, 3.0])
    # was "cannot reshape array of size 0 into shape (0,newaxis)"
    assert normalizer.inverse_transform(np.zeros(0)).shape == (0,)
    two = TargetDistributionNormalizer("standard").fit(np.c_[[1.0, 2.0, 3.0], [0.0, 0.0, 3.0]])
    assert two.inverse_transform(np.zeros((0, 2))).shape == (0, 2)
    # mean 2, population std sqrt(2/3): z = 1 maps to 2 + sqrt(2/3)
    assert normalizer.inverse_transform(np.array([1.0]))[0] == pytest.approx(2 + np.sqrt(2 / 3))
    with pytest.raises(ValueError, match="z contains infinity; only finite values"):
        normalizer.inverse_transform(np.array([np.inf]))
    with pytest.raises(ValueError, match="Complex data not supported"):
        normalizer.inverse_transform(np.array([1.0 + 0j]))
