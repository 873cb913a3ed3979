import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import gaussian_kde
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import KFold, cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdir.datasets import make_imbalanced_regression
from skdir.density import LabelDensity
from skdir.metrics import balanced_mean_absolute_error, shot_metrics
from skdir.weighting import DenseWeighter, DensityWeightedRegressor, LDSWeighter

# Unit bins over [0, 4] with counts [4, 1, 0, 9].
Y_SMALL = np.repeat([0.5, 1.5, 3.5], [4, 1, 9])
RNG = np.random.default_rng(0)
Y_EXP = RNG.exponential(size=400)
Y_2D = np.column_stack([Y_EXP, RNG.normal(size=400)])


# ------------------------------------------------------------------ LDSWeighter
def test_lds_inverse_weights_by_hand():
    weighter = LDSWeighter(n_bins=4, bin_range=(0, 4), ks=1, reweight="inverse")
    weights = weighter.fit_transform(Y_SMALL)
    # w ~ 1/n_b: 1/4, 1, 1/9; scaled so that the 14 weights sum to 14
    raw = np.repeat([1 / 4, 1.0, 1 / 9], [4, 1, 9])
    assert weights == pytest.approx(raw * 14 / raw.sum())
    assert weights.mean() == pytest.approx(1.0)


def test_lds_sqrt_inv_smoothed_matches_the_official_recipe():
    weighter = LDSWeighter(
        n_bins=4, bin_range=(0, 4), kernel="triangular", ks=3, reweight="sqrt_inv"
    )
    weights = weighter.fit_transform(Y_SMALL)
    # sizes sqrt([4, 1, 0, 9]) = [2, 1, 0, 3], smoothed with [0.5, 1, 0.5] and zero padding
    sizes = np.array([2 + 0.5, 1 + 1 + 0, 0.5 + 0 + 1.5, 3 + 0])
    raw = 1 / sizes[[0] * 4 + [1] + [3] * 9]
    assert weights == pytest.approx(raw * 14 / raw.sum())


def test_lds_equals_label_density_weights_and_keeps_the_training_scale():
    # max_weight=None: these inverse weights reach 13 times the mean, above the default cap
    weighter = LDSWeighter(n_bins=20, clip=(2, 50), reweight="inverse", max_weight=None)
    weighter.fit(Y_EXP)
    train = weighter.transform(Y_EXP)
    density = LabelDensity(n_bins=20).fit(Y_EXP)
    assert train == pytest.approx(density.weights(Y_EXP, reweight="inverse", clip=(2, 50)))
    capped = LDSWeighter(n_bins=20, clip=(2, 50), reweight="inverse").fit_transform(Y_EXP)
    assert capped == pytest.approx(
        density.weights(Y_EXP, reweight="inverse", clip=(2, 50), max_weight=10.0)
    )
    assert capped.max() == pytest.approx(10.0) and capped.mean() == pytest.approx(1.0)
    # New targets get the weight of their bin on the training scale (not re-centred).
    subset = Y_EXP[Y_EXP > 2.0]
    assert weighter.transform(subset) == pytest.approx(train[Y_EXP > 2.0])
    assert weighter.transform(subset).mean() > 1.5
    assert weighter.label_density_.n_bins_ == (20,)


@settings(max_examples=30, deadline=None)
@given(
    y=arrays(np.float64, st.integers(3, 60), elements=st.floats(-100, 100)).filter(
        lambda a: np.ptp(a) > 1e-6
    ),
    reweight=st.sampled_from(["sqrt_inv", "inverse"]),
    ks=st.sampled_from([1, 3, 5]),
)
def test_lds_weights_invariants(y, reweight, ks):
    weights = LDSWeighter(n_bins=10, reweight=reweight, ks=ks).fit_transform(y)
    assert weights.shape == y.shape
    assert np.all(np.isfinite(weights)) and np.all(weights > 0)
    assert weights.mean() == pytest.approx(1.0)
    # Samples in the same bin share a weight; without smoothing a fuller bin weighs less.
    if ks == 1:
        counts = LabelDensity(n_bins=10, ks=1).fit(y).expected_counts(y)
        order = np.argsort(counts)
        assert np.all(np.diff(weights[order]) <= 1e-12)


def test_lds_two_targets_joint_and_marginal_product():
    # uncapped (max_weight=None): a single-sample cell of the joint grid weighs 27x the mean
    params = {"n_bins": 5, "ks": 1, "reweight": "inverse", "max_weight": None}
    joint = LDSWeighter(**params).fit(Y_2D)
    density = joint.label_density_
    raw = 1.0 / density.expected_counts(Y_2D)
    assert joint.transform(Y_2D) == pytest.approx(raw * len(raw) / raw.sum())
    product = LDSWeighter(**params, joint=False).fit_transform(Y_2D)
    first = LDSWeighter(**params).fit_transform(Y_2D[:, 0])
    second = LDSWeighter(**params).fit_transform(Y_2D[:, 1])
    both = first * second
    assert product == pytest.approx(both * len(both) / both.sum())


# ---------------------------------------------------------------- DenseWeighter
def test_dense_weight_formula_by_hand():
    y = np.array([0.0, 0.1, 0.2, 0.3, 2.0, 5.0])
    weighter = DenseWeighter(alpha=0.8, bandwidth=0.5, method="exact").fit(y)
    p = gaussian_kde(y, bw_method=0.5)(y)
    scaled = (p - p.min()) / (p.max() - p.min())
    raw = np.maximum(1 - 0.8 * scaled, 1e-4)
    assert weighter.transform(y) == pytest.approx(raw / raw.mean())
    # The default FFT KDE (binned on a grid, convolved, interpolated) is within 1e-4.
    fft = DenseWeighter(alpha=0.8, bandwidth=0.5).fit(y)
    assert fft.transform(y) == pytest.approx(raw / raw.mean(), rel=1e-4)
    # The rarest training target has p' = 0 and the largest weight, 1 / mean(raw).
    assert weighter.transform(y).max() == pytest.approx(1 / raw.mean())


def test_dense_alpha_zero_is_uniform_and_epsilon_floors():
    assert DenseWeighter(alpha=0.0).fit_transform(Y_EXP) == pytest.approx(np.ones(400))
    # max_weight=None: most weights sit at the floor, the top one at 33x the mean (the cap is 10)
    weights = DenseWeighter(alpha=5.0, epsilon=0.01, max_weight=None).fit_transform(Y_EXP)
    raw_min = weights.min() / weights.max()  # floor over the top weight (p' = 0 -> 1)
    assert raw_min == pytest.approx(0.01)


def test_dense_weights_decrease_with_density_and_keep_the_training_scale():
    weighter = DenseWeighter(method="exact").fit(Y_EXP)
    weights = weighter.transform(Y_EXP)
    density = gaussian_kde(Y_EXP)(Y_EXP)
    assert np.all(np.diff(weights[np.argsort(density)]) <= 1e-12)
    assert weights.mean() == pytest.approx(1.0)
    assert weighter.transform(Y_EXP[:10]) == pytest.approx(weights[:10])
    # Far beyond the training range p' clips to 0: the largest weight.
    assert weighter.transform([100.0])[0] == pytest.approx(weights.max())


def test_dense_two_targets():
    joint = DenseWeighter(alpha=1.0, method="exact").fit(Y_2D)
    kde = gaussian_kde(Y_2D.T)
    p = kde(Y_2D.T)
    raw = np.maximum(1 - (p - p.min()) / (p.max() - p.min()), 1e-4)
    assert joint.transform(Y_2D) == pytest.approx(raw / raw.mean())
    # the 2-D FFT grid (10 steps per kernel standard deviation) is close to the exact KDE
    fft = DenseWeighter(alpha=1.0).fit(Y_2D)
    assert fft.transform(Y_2D) == pytest.approx(raw / raw.mean(), abs=3e-3)
    for method in ("exact", "fft"):
        product = DenseWeighter(joint=False, method=method).fit_transform(Y_2D)
        first = DenseWeighter(method=method).fit_transform(Y_2D[:, 0])
        second = DenseWeighter(method=method).fit_transform(Y_2D[:, 1])
        both = first * second
        assert product == pytest.approx(both / both.mean())
    assert len(DenseWeighter(joint=False, method="exact").fit(Y_2D).kdes_) == 2
    assert len(DenseWeighter(joint=False).fit(Y_2D).kernel_covariances_) == 2


# ----------------------------------------------------------- weighters: errors
@pytest.mark.parametrize("weighter", [LDSWeighter(), DenseWeighter()])
@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.array([1.0, np.nan, 2.0]), "NaN"),
        (np.array([1.0, np.inf, 2.0]), "infinity"),
        (np.full(5, 3.0), "constant"),
        (np.ones((5, 3)) * np.arange(5)[:, None], "3 target columns"),
    ],
)
def test_weighters_bad_input(weighter, y, match):
    with pytest.raises(ValueError, match=match):
        clone(weighter).fit(y)


@pytest.mark.parametrize("weighter", [LDSWeighter(), DenseWeighter()])
def test_weighters_need_fit_and_matching_columns(weighter):
    with pytest.raises(NotFittedError):
        clone(weighter).transform(Y_EXP)
    fitted = clone(weighter).fit(Y_2D)
    with pytest.raises(ValueError, match=r"1 target.*fitted on 2"):
        fitted.transform(Y_EXP)
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.transform(Y_2D) == pytest.approx(fitted.transform(Y_2D))


def test_weighters_bad_parameters():
    with pytest.raises(ValueError, match="reweight"):
        LDSWeighter(reweight="sqrt").fit(Y_EXP)
    with pytest.raises(ValueError, match="clip"):
        LDSWeighter(clip=(10, 1)).fit(Y_EXP)
    with pytest.raises(ValueError, match="kernel"):
        LDSWeighter(kernel="box").fit(Y_EXP)
    with pytest.raises(ValueError, match="alpha"):
        DenseWeighter(alpha=-1).fit(Y_EXP)
    with pytest.raises(ValueError, match="bandwidth"):
        DenseWeighter(bandwidth="wide").fit(Y_EXP)
    with pytest.raises(ValueError, match="singular"):
        DenseWeighter().fit(np.column_stack([Y_EXP, 2 * Y_EXP]))


# ----------------------------------------------------- DensityWeightedRegressor
class _Recorder(RegressorMixin, BaseEstimator):
    """Mean predictor that records the targets and weights it was fitted with."""

    def fit(self, X, y, sample_weight=None):
        self.y_ = np.asarray(y)
        self.sample_weight_ = sample_weight
        self.n_features_in_ = np.asarray(X).shape[1]
        self.mean_ = np.average(y, weights=sample_weight, axis=0)
        return self

    def predict(self, X):
        return np.tile(self.mean_, (len(X), 1)).squeeze()


def test_meta_estimator_passes_weights_times_user_weights():
    X = RNG.normal(size=(400, 3))
    user = RNG.uniform(0.5, 2.0, size=400)
    model = DensityWeightedRegressor(_Recorder(), weighter=LDSWeighter(n_bins=10))
    model.fit(X, Y_EXP, sample_weight=user)
    expected = LDSWeighter(n_bins=10).fit_transform(Y_EXP) * user
    assert model.regressor_.sample_weight_ == pytest.approx(expected)
    # Same fit as the regressor given those weights directly.
    ridge = DensityWeightedRegressor(Ridge(), weighter=DenseWeighter()).fit(X, Y_EXP)
    direct = Ridge().fit(X, Y_EXP, sample_weight=DenseWeighter().fit_transform(Y_EXP))
    assert ridge.regressor_.coef_ == pytest.approx(direct.coef_)
    assert ridge.predict(X[:5]) == pytest.approx(direct.predict(X[:5]))
    assert ridge.score(X, Y_EXP) == pytest.approx(direct.score(X, Y_EXP))
    assert isinstance(model.weighter_, LDSWeighter)


def test_default_weighter_is_lds():
    X = RNG.normal(size=(400, 2))
    model = DensityWeightedRegressor(_Recorder()).fit(X, Y_EXP)
    assert isinstance(model.weighter_, LDSWeighter)
    assert model.regressor_.sample_weight_ == pytest.approx(LDSWeighter().fit_transform(Y_EXP))


def test_cross_val_score_uses_only_the_training_fold():
    X = RNG.normal(size=(400, 2))
    cv = KFold(4, shuffle=True, random_state=0)
    model = DensityWeightedRegressor(_Recorder(), weighter=LDSWeighter(n_bins=15))
    scores = cross_val_score(model, X, Y_EXP, cv=cv, scoring="neg_mean_absolute_error")
    for score, (train, test) in zip(scores, cv.split(X), strict=True):
        weights = LDSWeighter(n_bins=15).fit_transform(Y_EXP[train])
        mean = np.average(Y_EXP[train], weights=weights)
        assert score == pytest.approx(-np.abs(Y_EXP[test] - mean).mean())


def test_density_weights_reduce_tail_error():
    # Measured improvement: Ridge on an imbalanced generated problem (seed 0), test half.
    X, y = make_imbalanced_regression(1200, 10, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)
    results = {}
    for name, model in {
        "plain": Ridge(),
        # the paper's strengths (the defaults are tempered for overall safety)
        "lds": DensityWeightedRegressor(Ridge(), weighter=LDSWeighter(n_bins=20, alpha=0.5)),
        "dense": DensityWeightedRegressor(Ridge(), weighter=DenseWeighter(alpha=1.0)),
    }.items():
        pred = model.fit(X_train, y_train).predict(X_test)
        few = shot_metrics(
            y_test, pred, y_train=y_train, n_bins=20, many=60, few=15, metrics=("mae",)
        )["few"]["mae"]
        results[name] = (few, balanced_mean_absolute_error(y_test, pred, n_bins=20))
    # few-shot MAE 2.06 -> 1.55 (LDS) / 1.50 (DenseWeight); balanced MAE 2.06 -> 1.83 / 1.80
    for name in ("lds", "dense"):
        assert results[name][0] < 0.8 * results["plain"][0]
        assert results[name][1] < 0.92 * results["plain"][1]


def test_two_targets_pipeline_and_weight_param():
    X = RNG.normal(size=(400, 3))
    model = DensityWeightedRegressor(LinearRegression(), weighter=LDSWeighter(n_bins=5))
    assert model.fit(X, Y_2D).predict(X).shape == (400, 2)
    pipe = make_pipeline(StandardScaler(), _Recorder())
    wrapped = DensityWeightedRegressor(
        pipe, weighter=LDSWeighter(n_bins=10), weight_param="_recorder__sample_weight"
    ).fit(X, Y_EXP)
    assert wrapped.regressor_[-1].sample_weight_ == pytest.approx(
        LDSWeighter(n_bins=10).fit_transform(Y_EXP)
    )


def test_meta_estimator_bad_input():
    X = RNG.normal(size=(400, 3))
    with pytest.raises(ValueError, match="does not accept sample_weight"):
        DensityWeightedRegressor(KNeighborsRegressor()).fit(X, Y_EXP)
    with pytest.raises(ValueError, match=r"does not accept sample_weight.*weight_param"):
        DensityWeightedRegressor(make_pipeline(Ridge())).fit(X, Y_EXP)
    model = DensityWeightedRegressor(Ridge())
    with pytest.raises(ValueError, match="non-zero"):
        model.fit(X, Y_EXP, sample_weight=np.zeros(400))
    with pytest.raises(ValueError, match="Negative"):
        model.fit(X, Y_EXP, sample_weight=-np.ones(400))
    with pytest.raises(ValueError, match="3 target columns"):
        model.fit(X, np.column_stack([Y_EXP, Y_EXP**2, Y_EXP**3]))
    with pytest.raises(ValueError, match="constant"):
        model.fit(X, np.ones(400))
    with pytest.raises(ValueError, match="computed by DensityWeightedRegressor"):
        DensityWeightedRegressor(_Recorder(), weight_param="other").fit(X, Y_EXP, other=1)
    with pytest.raises(NotFittedError):
        DensityWeightedRegressor(Ridge()).predict(X)


def test_after_a_sampler_the_weights_come_from_the_resampled_targets():
    from imblearn.pipeline import make_pipeline as make_imblearn_pipeline

    from skdir.resampling import RandomOverSampler

    X = RNG.normal(size=(400, 3))
    pipe = make_imblearn_pipeline(
        RandomOverSampler(random_state=0),
        DensityWeightedRegressor(Ridge(), weighter=LDSWeighter(n_bins=10)),
    ).fit(X, Y_EXP)
    X_res, y_res = RandomOverSampler(random_state=0).fit_resample(X, Y_EXP)
    assert len(y_res) > len(Y_EXP)
    weights = LDSWeighter(n_bins=10).fit_transform(y_res)
    direct = Ridge().fit(X_res, y_res, sample_weight=weights)
    assert pipe[-1].regressor_.coef_ == pytest.approx(direct.coef_)


def test_user_weights_after_a_row_changing_sampler():
    from imblearn.pipeline import make_pipeline as make_imblearn_pipeline

    from skdir.pipeline import make_pipeline as make_skdir_pipeline
    from skdir.resampling import RandomOverSampler

    X = RNG.normal(size=(400, 3))
    user = RNG.uniform(0.5, 2.0, size=400)
    model = DensityWeightedRegressor(_Recorder(), weighter=LDSWeighter(n_bins=10))
    sampler = RandomOverSampler(random_state=0)
    _, y_res = sampler.fit_resample(X, Y_EXP)
    n_res = len(y_res)
    assert n_res > 400
    # imbalanced-learn's Pipeline hands over the original 400 weights: both lengths, the fix
    with pytest.raises(
        ValueError, match=rf"400 entries but X has {n_res} rows.*skdir\.pipeline\.make_pipeline"
    ):
        make_imblearn_pipeline(RandomOverSampler(random_state=0), clone(model)).fit(
            X, Y_EXP, densityweightedregressor__sample_weight=user
        )
    with pytest.raises(ValueError, match="3 entries but X has 400 rows"):
        clone(model).fit(X, Y_EXP, sample_weight=[1.0, 2.0, 3.0])
    # skdir's Pipeline resamples them: density weights of the new y times the copied weights
    pipe = make_skdir_pipeline(RandomOverSampler(random_state=0), clone(model))
    pipe.fit(X, Y_EXP, densityweightedregressor__sample_weight=user)
    expected = LDSWeighter(n_bins=10).fit_transform(y_res) * user[sampler.sample_indices_]
    assert pipe[-1].regressor_.sample_weight_ == pytest.approx(expected, rel=1e-12)


def test_dense_grid_approximates_the_exact_kde():
    exact = DenseWeighter().fit_transform(Y_EXP)
    grid = DenseWeighter(grid_size=4096).fit(Y_EXP)
    assert grid.transform(Y_EXP) == pytest.approx(exact, abs=1e-4)
    assert grid.transform(Y_EXP).mean() == pytest.approx(1.0)
    assert grid.transform([1e3])[0] == pytest.approx(grid.transform(Y_EXP).max())
    exact_2d = DenseWeighter().fit_transform(Y_2D)
    grid_2d = DenseWeighter(grid_size=128).fit_transform(Y_2D)
    assert grid_2d == pytest.approx(exact_2d, abs=0.02)
    with pytest.raises(ValueError, match="grid_size"):
        DenseWeighter(grid_size=1).fit(Y_EXP)


def test_density_weighted_regressor_works_with_few_shot_scorers():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import cross_val_score

    from skdir.metrics import few_shot_mae_scorer, shot_metrics

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.exp(X[:, 0]) + rng.normal(scale=0.1, size=300)
    model = DensityWeightedRegressor(Ridge(), weighter=LDSWeighter(n_bins=10)).fit(X, y)
    density = model.weighter_.label_density_
    expected = shot_metrics(y, model.predict(X), label_density=density)["few"]["mae"]
    assert few_shot_mae_scorer(model, X, y) == pytest.approx(-expected)
    scores = cross_val_score(model, X, y, cv=3, scoring=few_shot_mae_scorer)
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)


@pytest.mark.parametrize(
    "y",
    [
        RNG.exponential(size=300),
        RNG.lognormal(size=400),
        np.r_[RNG.normal(size=200), RNG.normal(10, 0.1, size=100)],
        np.r_[RNG.exponential(size=300), 150.0, -150.0],
    ],
    ids=["exponential", "lognormal", "bimodal", "outliers"],
)
@pytest.mark.parametrize("bandwidth", ["scott", "silverman", 0.05])
def test_dense_fft_kde_matches_the_exact_kde(y, bandwidth):
    # linear binning + FFT convolution + linear interpolation vs scipy's direct sum
    weighter = DenseWeighter(bandwidth=bandwidth).fit(y)
    exact = gaussian_kde(y, bw_method=bandwidth)(y)
    fft = weighter._density(0, y[:, None])
    assert np.max(np.abs(fft / exact - 1)) < 1e-3
    # the min-max scaled density p' (weights 1 - alpha p' before scaling) within 1e-3
    scaled = [(p - p.min()) / (p.max() - p.min()) for p in (fft, exact)]
    assert np.max(np.abs(scaled[0] - scaled[1])) < 1e-3
    exact_weights = DenseWeighter(bandwidth=bandwidth, method="exact", max_weight=None)
    fft_weights = DenseWeighter(bandwidth=bandwidth, max_weight=None).fit_transform(y)
    assert fft_weights == pytest.approx(exact_weights.fit_transform(y), rel=0.02, abs=0.02)


def test_dense_max_weight_caps_and_keeps_the_mean():
    # alpha=5 floors most weights at epsilon: the rare targets would weigh 33x the mean
    weights = DenseWeighter(alpha=5.0, epsilon=0.01).fit_transform(Y_EXP)
    assert weights.max() == pytest.approx(10.0) and weights.mean() == pytest.approx(1.0)
    assert DenseWeighter(alpha=5.0, max_weight=3.0).fit_transform(Y_EXP).max() <= 3.0 + 1e-12


# ------------------------------------------------ long-tailed targets (issue 15.3)
Y_REPRODUCER = np.r_[np.random.default_rng(0).exponential(1, 3000), 150.0, -150.0]


def test_two_extremes_no_longer_own_the_bins_or_the_weights():
    # Before: 50 equal-width bins over [-150, 150] held every inlier in 2 bins and the two
    # extremes got weight 56 each (of mean 1).
    weighter = LDSWeighter().fit(Y_REPRODUCER)
    weights = weighter.transform(Y_REPRODUCER)
    assert np.all(np.isfinite(weights)) and np.all(weights > 0)
    assert weights.mean() == pytest.approx(1.0)
    assert weights[-2:].max() <= 10.0 + 1e-12
    inlier_bins = weighter.label_density_.flat_bin_index(Y_REPRODUCER[:-2])
    assert len(np.unique(inlier_bins)) >= 40
    # the paper's strength on the same bins: the extremes sit at the cap, no higher
    strong = LDSWeighter(alpha=1.0).fit_transform(Y_REPRODUCER)
    assert strong[-2:] == pytest.approx([10.0, 10.0]) and strong.mean() == pytest.approx(1.0)
    # the old defaults, for the record
    old = LDSWeighter(n_bins=50, bin_range=None, reweight="sqrt_inv", max_weight=None)
    assert old.fit_transform(Y_REPRODUCER)[-1] > 50


def test_alpha_zero_is_uniform_and_the_weights_grow_with_alpha():
    assert LDSWeighter(alpha=0.0).fit_transform(Y_EXP) == pytest.approx(np.ones(400))
    alphas = [0.0, 0.1, 0.25, 0.5, 1.0, 2.0]
    weights = [LDSWeighter(alpha=a, max_weight=None).fit_transform(Y_REPRODUCER) for a in alphas]
    ratios = [w.max() / w.min() for w in weights]
    assert np.all(np.diff(ratios) > 0)
    # every pair keeps its order and spreads further apart: log w is linear in alpha
    rare, common = np.argmax(weights[-1]), np.argmin(weights[-1])
    assert np.all(np.diff([w[rare] / w[common] for w in weights]) > 0)
    capped = [LDSWeighter(alpha=a).fit_transform(Y_REPRODUCER) for a in alphas]
    assert np.all(np.diff([w.max() for w in capped]) >= -1e-12)
    assert all(w.max() <= 10.0 + 1e-12 and w.mean() == pytest.approx(1.0) for w in capped)


def test_lds_alpha_is_the_smoothed_density_to_the_power_minus_alpha():
    weighter = LDSWeighter(n_bins=4, bin_range=(0, 4), kernel="triangular", ks=3, alpha=0.5)
    weights = weighter.fit_transform(Y_SMALL)
    # counts [4, 1, 0, 9] smoothed with [1/4, 1/2, 1/4], reflecting: [3.25, 1.5, 2.5, 6.75]
    raw = np.repeat([3.25, 1.5, 6.75], [4, 1, 9]) ** -0.5
    assert weights == pytest.approx(raw * 14 / raw.sum())
    assert weighter.transform([3.5, 99.0]) == pytest.approx(weights[[5, 5]])
    assert weighter.bin_weights_.shape == (4,)


def test_fit_transform_bins_once_and_equals_fit_then_transform():
    for y in (Y_EXP, Y_2D, Y_REPRODUCER):
        for params in ({}, {"joint": False}, {"reweight": "inverse", "clip": (5, 1000)}):
            weighter = LDSWeighter(**params)
            assert weighter.fit_transform(y) == pytest.approx(clone(weighter).fit(y).transform(y))


def test_max_weight_and_alpha_are_validated():
    with pytest.raises(ValueError, match="max_weight"):
        LDSWeighter(max_weight=0.5).fit(Y_EXP)
    with pytest.raises(ValueError, match="alpha"):
        LDSWeighter(alpha=-0.1).fit(Y_EXP)
    with pytest.raises(ValueError, match="max_weight"):
        DenseWeighter(max_weight=0.0).fit(Y_EXP)
    with pytest.raises(ValueError, match="method"):
        DenseWeighter(method="direct").fit(Y_EXP)
    # max_weight=1 is uniform
    assert LDSWeighter(max_weight=1.0).fit_transform(Y_EXP) == pytest.approx(np.ones(400))


def test_default_lds_keeps_ridge_safe_on_long_tailed_targets():
    # Measured: Ridge on make_long_tail_regression (2,000 train / 4,000 test rows), three
    # seeds. Default LDS weights change overall test MSE by +0.3 / +1.9 / +2.0 % and few-shot
    # MSE by -1.8 / -1.6 / -2.6 % (regions of LabelDensity() on the training targets).
    from skdir.datasets import make_long_tail_regression

    for seed in range(3):
        X, y = make_long_tail_regression(6000, 20, random_state=seed)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=4000, random_state=seed
        )
        density = LabelDensity().fit(y_train)
        errors = []
        for model in (Ridge(), DensityWeightedRegressor(Ridge())):
            pred = model.fit(X_train, y_train).predict(X_test)
            shots = shot_metrics(y_test, pred, label_density=density, metrics=("mse",))
            errors.append((shots["all"]["mse"], shots["few"]["mse"]))
        (all_plain, few_plain), (all_lds, few_lds) = errors
        assert all_lds <= 1.05 * all_plain
        assert few_lds < 0.99 * few_plain
