"""skdir.pipeline: sample_weight follows the rows through every sampler."""

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE
from imblearn.over_sampling import RandomOverSampler as ImblearnRandomOverSampler
from imblearn.pipeline import Pipeline as ImblearnPipeline
from imblearn.pipeline import make_pipeline as imblearn_make_pipeline
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.preprocessing import StandardScaler

from skdir.pipeline import Pipeline, make_pipeline, resample_weights
from skdir.resampling import (
    SMOGN,
    SMOTER,
    GaussianNoiseSampler,
    RandomOverSampler,
    RandomUnderSampler,
)


def skewed(n=200, d=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    y = np.exp(X[:, 0] + 0.3 * rng.normal(size=n))
    return X, y


def by_parents(sampler, w):
    """Output-row weights from the sampler's parents, written out by hand."""
    p, m = sampler.parent_indices_, sampler.parent_mixing_
    return (1 - m) * w[p[:, 0]] + m * w[p[:, 1]]


# ----------------------------------------------------------------- item 1 / 2
@pytest.mark.parametrize(
    "make_sampler",
    [
        lambda: SMOGN(random_state=0),
        lambda: SMOTER(random_state=0),
        lambda: GaussianNoiseSampler(random_state=0),
        lambda: RandomOverSampler(random_state=0),
        lambda: RandomUnderSampler(random_state=0),
    ],
    ids=["SMOGN", "SMOTER", "GaussianNoise", "RandomOver", "RandomUnder"],
)
def test_every_skdir_sampler_carries_the_weights(make_sampler):
    X, y = skewed()
    w = np.random.RandomState(1).uniform(0.5, 3.0, size=len(y))
    sampler = make_sampler()
    X_res, y_res = sampler.fit_resample(X, y)
    expected = Ridge(alpha=0.3).fit(X_res, y_res, sample_weight=by_parents(sampler, w))
    pipe = make_pipeline(make_sampler(), Ridge(alpha=0.3)).fit(X, y, ridge__sample_weight=w)
    np.testing.assert_allclose(pipe[-1].coef_, expected.coef_, rtol=1e-12)
    np.testing.assert_allclose(pipe[-1].intercept_, expected.intercept_, rtol=1e-12)
    np.testing.assert_allclose(resample_weights(sampler, w), by_parents(sampler, w))


def test_interpolated_weights_mix_like_the_targets():
    # weights linear in y come out as the same line of the new y: w = 2 + 3 y
    X, y = skewed(n=300, d=3, seed=3)
    X[:, 2] = np.round(X[:, 2])  # a nominal column: the target's factor is not u there
    sampler = SMOTER(categorical_features=[2], random_state=0)
    _, y_res = sampler.fit_resample(X, y)
    assert sampler.n_interpolated_ > 0
    np.testing.assert_allclose(resample_weights(sampler, 2 + 3 * y), 2 + 3 * y_res, rtol=1e-12)
    # every new weight lies between its two parents' weights
    w = np.random.RandomState(0).uniform(size=len(y))
    p = sampler.parent_indices_
    w_res = resample_weights(sampler, w)
    low, high = np.minimum(w[p[:, 0]], w[p[:, 1]]), np.maximum(w[p[:, 0]], w[p[:, 1]])
    assert np.all((w_res >= low - 1e-15) & (w_res <= high + 1e-15))


def test_a_row_count_change_before_dirregressor():
    from skdir.nn import DIRRegressor

    X, y = skewed(n=200)
    w = np.random.RandomState(2).uniform(0.5, 2.0, size=len(y))

    def net():
        return DIRRegressor(max_epochs=3, module__hidden=(8,), random_state=0, device="cpu")

    # imbalanced-learn's Pipeline: DIRRegressor names both lengths and the fix
    with pytest.raises(ValueError, match=r"200 entries but X has 322 rows.*skdir\.pipeline"):
        imblearn_make_pipeline(RandomOverSampler(random_state=0), net()).fit(
            X, y, dirregressor__sample_weight=w
        )
    pipe = make_pipeline(RandomOverSampler(random_state=0), net())
    pipe.fit(X, y, dirregressor__sample_weight=w)
    sampler = RandomOverSampler(random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert len(y_res) == 322
    by_hand = net().fit(X_res, y_res, sample_weight=w[sampler.sample_indices_])
    np.testing.assert_array_equal(pipe.predict(X), by_hand.predict(X))
    unweighted = net().fit(X_res, y_res)
    assert np.abs(pipe.predict(X) - unweighted.predict(X)).max() > 1e-4


def test_metadata_routing_to_dirregressor_after_smogn():
    from skdir.nn import DIRRegressor

    X, y = skewed(n=60)
    w = np.arange(60.0) + 1

    def net():
        return DIRRegressor(
            max_epochs=2, module__hidden=(8,), random_state=0, device="cpu"
        ).set_fit_request(sample_weight=True)

    with config_context(enable_metadata_routing=True):
        with pytest.raises(ValueError, match=r"SMOGN got a sample_weight.*make_pipeline"):
            imblearn_make_pipeline(SMOGN(random_state=0), net()).fit(X, y, sample_weight=w)
        pipe = make_pipeline(SMOGN(random_state=0), net()).fit(X, y, sample_weight=w)
        sampler = SMOGN(random_state=0)
        X_res, y_res = sampler.fit_resample(X, y)
        assert len(y_res) == 60  # "balance" keeps the count: the silent case of the audit
        by_hand = net().fit(X_res, y_res, sample_weight=by_parents(sampler, w))
        np.testing.assert_array_equal(pipe.predict(X), by_hand.predict(X))


def test_third_party_sampler_with_sample_indices_and_one_without():
    X, y = skewed(n=120)
    classes = np.digitize(y, np.quantile(y, [0.7, 0.9]))  # 84 / 24 / 12 rows
    w = np.linspace(1.0, 2.0, len(y))
    pipe = make_pipeline(ImblearnRandomOverSampler(random_state=0), Ridge())
    pipe.fit(X, classes, ridge__sample_weight=w)
    sampler = ImblearnRandomOverSampler(random_state=0)
    X_res, c_res = sampler.fit_resample(X, classes)
    assert len(c_res) == 3 * 84
    expected = Ridge().fit(X_res, c_res, sample_weight=w[sampler.sample_indices_])
    np.testing.assert_allclose(pipe[-1].coef_, expected.coef_, rtol=1e-12)
    np.testing.assert_allclose(resample_weights(sampler, w), w[sampler.sample_indices_])

    with pytest.raises(ValueError, match=r"'smote' \(SMOTE\) exposes neither parent_indices_"):
        make_pipeline(SMOTE(random_state=0), Ridge()).fit(X, classes, ridge__sample_weight=w)
    with pytest.raises(ValueError, match="SMOTE exposes neither"):
        resample_weights(SMOTE(random_state=0).fit(X, classes), w)
    # without weights such a sampler is fine: the rows' origin is only needed for them
    plain = make_pipeline(SMOTE(random_state=0), Ridge()).fit(X, classes)
    reference = imblearn_make_pipeline(SMOTE(random_state=0), Ridge()).fit(X, classes)
    np.testing.assert_allclose(plain[-1].coef_, reference[-1].coef_)


def test_weights_compose_through_two_samplers_and_a_transformer():
    X, y = skewed(n=300, seed=4)
    w = np.random.RandomState(3).uniform(0.5, 2.0, size=len(y))
    steps = [
        lambda: RandomUnderSampler(sampling_strategy={"common": 0.5}, random_state=0),
        lambda: SMOTER(sampling_strategy={"rare": 2.0}, random_state=1),
    ]
    pipe = make_pipeline(steps[0](), StandardScaler(), steps[1](), Ridge())
    pipe.fit(X, y, standardscaler__sample_weight=w, ridge__sample_weight=w)
    first, second = steps[0](), steps[1]()
    X1, y1 = first.fit_resample(X, y)
    w1 = w[first.sample_indices_]
    scaler = StandardScaler().fit(X1, sample_weight=w1)  # its weights follow the rows too
    np.testing.assert_allclose(pipe[1].mean_, scaler.mean_, rtol=1e-12)
    X2, y2 = second.fit_resample(scaler.transform(X1), y1)
    expected = Ridge().fit(X2, y2, sample_weight=by_parents(second, w1))
    np.testing.assert_allclose(pipe[-1].coef_, expected.coef_, rtol=1e-12)


def test_without_weights_it_is_imblearns_pipeline():
    X, y = skewed(n=300, seed=5)
    ours = make_pipeline(StandardScaler(), SMOGN(random_state=0), Ridge())
    theirs = imblearn_make_pipeline(StandardScaler(), SMOGN(random_state=0), Ridge())
    assert isinstance(ours, Pipeline) and isinstance(ours, ImblearnPipeline)
    assert [name for name, _ in ours.steps] == [name for name, _ in theirs.steps]
    cv = KFold(3, shuffle=True, random_state=0)
    np.testing.assert_allclose(
        cross_val_score(ours, X, y, cv=cv), cross_val_score(theirs, X, y, cv=cv), rtol=1e-12
    )
    twin = clone(ours).set_params(smogn__k_neighbors=3)
    assert twin.get_params()["smogn__k_neighbors"] == 3 and isinstance(twin, Pipeline)


def test_bad_weights_and_misplaced_parameters():
    X, y = skewed()
    pipe = make_pipeline(SMOGN(random_state=0), Ridge())
    with pytest.raises(ValueError, match=r"'ridge' has 150 entries, but 200 rows entered"):
        pipe.fit(X, y, ridge__sample_weight=np.ones(150))
    with pytest.raises(ValueError, match="must be 1-D"):
        pipe.fit(X, y, ridge__sample_weight=np.ones((200, 2)))
    # imbalanced-learn drops parameters given to a sampler step without a word
    with pytest.raises(ValueError, match=r"'smogn' is a sampler.*'<final step>__sample_weight'"):
        pipe.fit(X, y, smogn__sample_weight=np.ones(200))
    sampler = SMOGN(random_state=0)
    with pytest.raises(ValueError, match=r"has not resampled yet; call fit_resample"):
        resample_weights(sampler.fit(X, y), np.ones(200))
    sampler.fit_resample(X, y)
    with pytest.raises(ValueError, match=r"sample_weight has 150 entries but SMOGN was fitted"):
        resample_weights(sampler, np.ones(150))
    with config_context(enable_metadata_routing=True):
        # weights that only the sampler requested (by default) reach no step that uses them
        unused = make_pipeline(SMOGN(random_state=0), Ridge().set_fit_request(sample_weight=False))
        with pytest.raises(ValueError, match=r"routed only to the sampler step\(s\) \['smogn'\]"):
            unused.fit(X, y, sample_weight=np.ones(200))
        # declined everywhere: scikit-learn's own error for metadata nobody consumes
        declined = make_pipeline(
            SMOGN(random_state=0).set_fit_resample_request(sample_weight=False),
            Ridge().set_fit_request(sample_weight=False),
        )
        with pytest.raises(TypeError, match="not routed to any object"):
            declined.fit(X, y, sample_weight=np.ones(200))


def test_cached_steps_carry_the_same_weights(tmp_path):
    X, y = skewed(n=150, seed=6)
    w = np.random.RandomState(4).uniform(0.5, 2.0, size=len(y))
    plain = make_pipeline(StandardScaler(), SMOTER(random_state=0), Ridge())
    plain.fit(X, y, ridge__sample_weight=w)
    for _ in range(2):  # the second fit loads the scaler and the sampler from the cache
        cached = make_pipeline(
            StandardScaler(), SMOTER(random_state=0), Ridge(), memory=str(tmp_path)
        ).fit(X, y, ridge__sample_weight=w)
        np.testing.assert_allclose(cached[-1].coef_, plain[-1].coef_, rtol=1e-12)
    assert cached.named_steps["smoter"].parent_indices_.shape == (150, 2)
