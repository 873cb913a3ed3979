"""Regression samplers: geometry of synthetic rows, row counts, containers, pipelines."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import KFold, cross_val_score, cross_validate
from sklearn.neighbors import NearestNeighbors

from skdir.resampling import (
    SMOGN,
    SMOTER,
    GaussianNoiseSampler,
    RandomOverSampler,
    RandomUnderSampler,
    Relevance,
)
from skdir.resampling._rows import HEOMSpace

ALL_SAMPLERS = [SMOGN, SMOTER, GaussianNoiseSampler, RandomOverSampler, RandomUnderSampler]

#: phi = 1 below 100 and from 900 on, 0 in between: segments of exactly 100/800/100 rows
#: for y = 0..999.
TAILS = [[99, 1, 0], [100, 0, 0], [899, 0, 0], [900, 1, 0]]


def skewed(n=300, d=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    y = np.exp(X[:, 0] + 0.3 * rng.normal(size=n))
    return X, y


def tails_data(d=3, seed=0):
    rng = np.random.RandomState(seed)
    y = np.arange(1000.0)
    X = rng.normal(size=(1000, d)) + y[:, None] / 100
    return X, y


def n_kept(sampler):
    return int(np.minimum(sampler.segment_counts_, sampler.segment_targets_).sum())


def find_parents(x, pool):
    """Return (i, j, u, residual) of the segment pool[i] -> pool[j] closest to x."""
    diff = pool[None, :, :] - pool[:, None, :]  # [i, j] = x_j - x_i
    offset = x - pool  # [i] = x - x_i
    norm2 = np.einsum("ijk,ijk->ij", diff, diff)
    np.fill_diagonal(norm2, np.inf)
    u = np.einsum("ik,ijk->ij", offset, diff) / norm2
    point = pool[:, None, :] + u[..., None] * diff
    residual = np.linalg.norm(point - x, axis=-1)
    i, j = np.unravel_index(np.argmin(residual), residual.shape)
    return i, j, u[i, j], residual[i, j]


# ----------------------------------------------------------------- SMOTER
def test_smoter_rows_lie_between_neighbour_parents_with_distance_weighted_target():
    X, y = skewed(n=300, d=3, seed=1)
    sampler = SMOTER(k_neighbors=3, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    rare = np.flatnonzero(sampler.segment_rare_)
    assert rare.size == 1  # right tail only
    members = np.flatnonzero(sampler.segment_ == rare[0])
    pool, pool_y = X[members], y[members]
    synthetic = slice(n_kept(sampler), None)
    X_new, y_new = X_res[synthetic], y_res[synthetic]
    assert len(X_new) == sampler.segment_targets_[rare[0]] - len(members) == 150 - len(members)
    assert sampler.n_interpolated_ == len(X_new) and sampler.n_noise_ == 0
    neighbours = NearestNeighbors(n_neighbors=3).fit(pool).kneighbors()[1]
    for x, target in zip(X_new, y_new, strict=True):
        i, j, u, residual = find_parents(x, pool)
        assert residual < 1e-9
        assert 0 <= u <= 1
        assert j in neighbours[i] or i in neighbours[j]
        d1, d2 = np.linalg.norm(x - pool[i]), np.linalg.norm(x - pool[j])
        assert target == pytest.approx((d2 * pool_y[i] + d1 * pool_y[j]) / (d1 + d2), rel=1e-9)
        assert min(pool_y[i], pool_y[j]) - 1e-12 <= target <= max(pool_y[i], pool_y[j]) + 1e-12


def test_smoter_hand_case_two_rare_points():
    # rare segment of exactly two rows: every synthetic row lies between them and
    # y_new = (1 - u) y_a + u y_b with u = |x_new - x_a| / |x_b - x_a|.
    X = np.array([[0.0, 0.0], [3.0, 4.0]] + [[0.1 * k, 0.0] for k in range(8)])
    y = np.array([10.0, 20.0] + [1.0] * 4 + [1.5] * 4)
    control = [[5, 0, 0], [10, 1, 0]]
    sampler = SMOTER(
        relevance=control, k_neighbors=1, sampling_strategy={"rare": 3.0}, random_state=0
    )
    X_res, y_res = sampler.fit_resample(X, y)
    X_new, y_new = X_res[len(X) :], y_res[len(X) :]
    assert len(X_new) == 4
    u = np.linalg.norm(X_new, axis=1) / 5.0
    np.testing.assert_allclose(X_new, u[:, None] * [3.0, 4.0])
    np.testing.assert_allclose(y_new, 10 + 10 * u)


def test_smoter_two_targets_share_the_interpolation_weight():
    X, y1 = skewed(n=300, d=3, seed=2)
    y = np.column_stack([y1, 5 - 2 * y1 + 0.1 * X[:, 1]])
    # two of the product cells hold 2 rows: they use 1 neighbour, on request
    sampler = SMOTER(k_neighbors=3, k_neighbors_fallback=True, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert y_res.shape == (len(X_res), 2)
    assert sampler.segment_ranges_.shape == (len(sampler.segment_rare_), 2, 2)
    for x, target in list(zip(X_res[n_kept(sampler) :], y_res[n_kept(sampler) :], strict=True))[
        :20
    ]:
        seg_rows = np.flatnonzero(np.isin(sampler.segment_, np.flatnonzero(sampler.segment_rare_)))
        i, j, u, residual = find_parents(x, X[seg_rows])
        assert residual < 1e-9
        a, b = y[seg_rows[i]], y[seg_rows[j]]
        np.testing.assert_allclose(target, a + u * (b - a), rtol=1e-9)


# ------------------------------------------------------------------ SMOGN
def test_smogn_noise_scale_matches_pert_on_high_dimensional_data():
    rng = np.random.RandomState(0)
    n, d = 400, 200
    X = rng.normal(size=(n, d)) * np.linspace(0.5, 3, d)
    y = np.exp(rng.normal(size=n))
    sampler = SMOGN(pert=0.02, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert sampler.n_interpolated_ == 0  # distances concentrate: the safe test never passes
    rare = np.flatnonzero(sampler.segment_rare_)[0]
    members = np.flatnonzero(sampler.segment_ == rare)
    X_new, y_new = X_res[n_kept(sampler) :], y_res[n_kept(sampler) :]
    assert sampler.n_noise_ == len(X_new) > 50
    seed = NearestNeighbors(n_neighbors=1).fit(X[members]).kneighbors(X_new)[1][:, 0]
    sd = X[members].std(axis=0, ddof=1)
    z = (X_new - X[members][seed]) / sd
    assert z.std() == pytest.approx(0.02, rel=0.03)
    assert np.abs(z.mean()) < 0.002
    z_y = (y_new - y[members][seed]) / y[members].std(ddof=1)
    assert z_y.std() == pytest.approx(0.02, rel=0.25)


def test_smogn_interpolates_when_the_neighbour_is_safe():
    # tight pairs far apart: each row's nearest neighbour is much closer than half the
    # median distance to its segment, so every SMOGN row is a SMOTER row.
    rng = np.random.RandomState(0)
    centres = rng.normal(scale=10, size=(30, 2))
    rare_X = np.repeat(centres, 2, axis=0) + rng.normal(scale=0.01, size=(60, 2))
    rare_y = 10 + rng.uniform(size=60)
    common_X = rng.normal(size=(200, 2))
    X = np.vstack([rare_X, common_X])
    y = np.r_[rare_y, rng.uniform(0, 1, size=200)]
    sampler = SMOGN(relevance=[[1, 0, 0], [10, 1, 0]], k_neighbors=1, random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    assert sampler.n_noise_ == 0 and sampler.n_interpolated_ == 130 - 60
    # with the looser k-NN rule and k=1 the neighbour is never "closer than itself"
    loose = SMOGN(
        relevance=[[1, 0, 0], [10, 1, 0]], k_neighbors=1, safe_radius="knn_median", random_state=0
    ).fit_resample(X, y)
    assert loose[0].shape == X_res.shape


def test_gaussian_noise_sampler_scale_matches_pert():
    X, y = skewed(n=1000, d=5, seed=3)
    sampler = GaussianNoiseSampler(pert=0.1, random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    rare = np.flatnonzero(sampler.segment_rare_)[0]
    members = np.flatnonzero(sampler.segment_ == rare)
    X_new = X_res[n_kept(sampler) :]
    seed = NearestNeighbors(n_neighbors=1).fit(X[members]).kneighbors(X_new)[1][:, 0]
    z = (X_new - X[members][seed]) / X[members].std(axis=0, ddof=1)
    assert z.std() == pytest.approx(0.1, rel=0.05)
    assert sampler.n_noise_ == len(X_new) and sampler.n_interpolated_ == 0


# ------------------------------------------------------------- row counts
@pytest.mark.parametrize("cls", [SMOGN, SMOTER, GaussianNoiseSampler])
def test_balance_and_extreme_row_counts(cls):
    X, y = tails_data()
    balance = cls(relevance=TAILS, random_state=0)
    X_res, y_res = balance.fit_resample(X, y)
    np.testing.assert_array_equal(balance.segment_counts_, [100, 800, 100])
    np.testing.assert_array_equal(balance.segment_targets_, [333, 333, 333])  # round(1000 / 3)
    assert len(X_res) == len(y_res) == 999
    assert balance.sampling_strategy_ == {0: 333, 1: 333, 2: 333}
    # originals: all 100 + 100 rare rows, 333 of the 800 common rows, no duplicates
    originals = X_res[: n_kept(balance)]
    assert len(np.unique(originals, axis=0)) == 100 + 333 + 100
    kept_y = y_res[: n_kept(balance)]
    np.testing.assert_array_equal(np.histogram(kept_y, [0, 100, 900, 1000])[0], [100, 333, 100])
    # 10/80/10 % -> sizes proportional to 1/size: 470.6 / 58.8 / 470.6 rounded
    extreme = cls(relevance=TAILS, sampling_strategy="extreme", random_state=0)
    X_ext, _ = extreme.fit_resample(X, y)
    np.testing.assert_array_equal(extreme.segment_targets_, [471, 59, 471])
    assert len(X_ext) == 1001
    # rare share rises from 20 % to 33 % (balance) and 94 % (extreme)
    assert 666 / 999 > 0.2 and 942 / 1001 > 0.9


def test_dict_strategy_by_kind_and_segment_index():
    X, y = tails_data()
    sampler = SMOTER(
        relevance=TAILS, sampling_strategy={"rare": 2.0, "common": 0.5}, random_state=0
    ).fit(X, y)
    np.testing.assert_array_equal(sampler.segment_targets_, [200, 400, 200])
    sampler = SMOTER(relevance=TAILS, sampling_strategy={"rare": 2.0, 0: 3.0}, random_state=0).fit(
        X, y
    )
    np.testing.assert_array_equal(sampler.segment_targets_, [300, 800, 200])


def test_random_over_and_under_samplers_counts_and_indices():
    X, y = tails_data()
    over = RandomOverSampler(relevance=TAILS, random_state=0)
    X_res, y_res = over.fit_resample(X, y)
    np.testing.assert_array_equal(over.segment_targets_, [800, 800, 800])
    np.testing.assert_array_equal(X_res, X[over.sample_indices_])
    np.testing.assert_array_equal(y_res, y[over.sample_indices_])
    counts = np.bincount(over.sample_indices_, minlength=1000)
    assert counts[100:900].max() == 1
    assert set(np.unique(counts[:100])) == {8}  # 700 new rows = 7 extra copies of each

    under = RandomUnderSampler(relevance=TAILS, random_state=0)
    X_res, y_res = under.fit_resample(X, y)
    np.testing.assert_array_equal(under.segment_targets_, [100, 100, 100])
    assert len(np.unique(under.sample_indices_)) == 300
    np.testing.assert_array_equal(X_res, X[under.sample_indices_])

    extreme = RandomOverSampler(relevance=TAILS, sampling_strategy="extreme").fit(X, y)
    np.testing.assert_array_equal(extreme.segment_targets_, [6400, 800, 6400])
    with pytest.raises(ValueError, match="only adds rows"):
        RandomOverSampler(relevance=TAILS, sampling_strategy={"common": 0.5}).fit(X, y)
    with pytest.raises(ValueError, match="only removes rows"):
        RandomUnderSampler(relevance=TAILS, sampling_strategy={"rare": 2}).fit(X, y)


# ------------------------------------------------------- determinism, containers
@pytest.mark.parametrize("cls", ALL_SAMPLERS)
def test_same_random_state_same_rows(cls):
    X, y = skewed()
    a = cls(random_state=3).fit_resample(X, y)
    b = clone(cls(random_state=3)).fit_resample(X, y)
    c = cls(random_state=4).fit_resample(X, y)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[0].shape != c[0].shape or not np.array_equal(a[0], c[0])
    restored = pickle.loads(pickle.dumps(cls(random_state=3)))
    np.testing.assert_array_equal(restored.fit_resample(X, y)[0], a[0])


@pytest.mark.parametrize("cls", ALL_SAMPLERS)
def test_pandas_in_pandas_out(cls):
    X, y = skewed()
    index = np.arange(len(y))[::-1] * 7  # not a RangeIndex
    frame = pd.DataFrame(X.astype(np.float32), columns=list("abcd"), index=index)
    frame["code"] = (X[:, 1] > 0).astype(np.int64)
    target = pd.Series(y, name="target", index=index)
    sampler = cls(random_state=0)
    if cls not in (RandomOverSampler, RandomUnderSampler):
        sampler.set_params(categorical_features=[4])
    X_res, y_res = sampler.fit_resample(frame, target)
    assert isinstance(X_res, pd.DataFrame) and isinstance(y_res, pd.Series)
    assert list(X_res.columns) == ["a", "b", "c", "d", "code"]
    assert X_res["a"].dtype == np.float32 and X_res["code"].dtype == np.int64
    assert set(X_res["code"].unique()) <= {0, 1}
    assert y_res.name == "target" and y_res.index.equals(X_res.index)
    # the same rows as with numpy input (positional, not index-based)
    X_np, y_np = cls(**sampler.get_params()).fit_resample(frame.to_numpy(), y)
    np.testing.assert_allclose(X_res.to_numpy(dtype=float), X_np, rtol=1e-6)
    np.testing.assert_allclose(y_res.to_numpy(), y_np)
    assert list(sampler.feature_names_in_) == ["a", "b", "c", "d", "code"]


def test_list_and_dataframe_targets_round_trip():
    X, y = skewed(n=120)
    X_res, y_res = SMOTER(random_state=0).fit_resample(X.tolist(), y.tolist())
    assert isinstance(X_res, list) and isinstance(y_res, list)
    Y = pd.DataFrame({"u": y, "v": 2 * y})
    _, Y_res = SMOTER(random_state=0).fit_resample(X, Y)
    assert isinstance(Y_res, pd.DataFrame) and list(Y_res.columns) == ["u", "v"]
    np.testing.assert_allclose(Y_res["v"], 2 * Y_res["u"])


# ------------------------------------------------------------- nominal features
def test_heom_space_distance_is_heom():
    X = np.array([[0.0, 1, 5], [4.0, 2, 5], [2.0, 1, 7]])
    space = HEOMSpace(X, np.array([1, 2]))
    Z = space.transform(X)
    # rows 0 and 1: numeric |0 - 4| / range 4 = 1, nominal mismatch on column 1 only
    assert np.linalg.norm(Z[0] - Z[1]) == pytest.approx(np.sqrt(1 + 1))
    # rows 0 and 2: 2/4 = 0.5 numeric, mismatch on column 2
    assert np.linalg.norm(Z[0] - Z[2]) == pytest.approx(np.sqrt(0.25 + 1))


@pytest.mark.parametrize("cls", [SMOGN, SMOTER, GaussianNoiseSampler])
def test_nominal_columns_take_values_from_the_segment(cls):
    X, y = skewed(n=400, seed=5)
    X[:, 2] = np.where(y > np.median(y), 3.0, 7.0) + (X[:, 3] > 1)
    sampler = cls(categorical_features=[2], random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    rare_values = set(X[np.isin(sampler.segment_, np.flatnonzero(sampler.segment_rare_)), 2])
    assert set(X_res[n_kept(sampler) :, 2]) <= rare_values


# -------------------------------------------------------------- pipelines
class RecordingRidge(Ridge):
    """Ridge that records the number of rows it was fitted and asked to predict on."""

    def fit(self, X, y, sample_weight=None):
        self.n_fit_rows_ = len(X)
        return super().fit(X, y, sample_weight=sample_weight)

    def predict(self, X):
        self.n_predict_rows_ = len(X)
        return super().predict(X)


def test_cross_val_score_in_imblearn_pipeline_scores_untouched_test_folds():
    X, y = skewed(n=300, d=4, seed=6)
    pipe = Pipeline([("smogn", SMOGN(random_state=0)), ("ridge", RecordingRidge())])
    cv = KFold(5, shuffle=True, random_state=0)
    result = cross_validate(
        pipe, X, y, cv=cv, scoring="neg_mean_absolute_error", return_estimator=True
    )
    for (train, test), fitted, score in zip(
        cv.split(X), result["estimator"], result["test_score"], strict=True
    ):
        ridge = fitted.named_steps["ridge"]
        assert ridge.n_predict_rows_ == len(test)  # predicted on the untouched fold
        assert ridge.n_fit_rows_ == sum(fitted.named_steps["smogn"].segment_targets_)
        # the same score by hand: resample the training fold only, score the raw test fold
        X_tr, y_tr = SMOGN(random_state=0).fit_resample(X[train], y[train])
        manual = Ridge().fit(X_tr, y_tr)
        assert score == pytest.approx(-mean_absolute_error(y[test], manual.predict(X[test])))
    plain = cross_val_score(
        Pipeline([("smogn", SMOGN(random_state=0)), ("ridge", Ridge())]),
        X,
        y,
        cv=cv,
        scoring="neg_mean_absolute_error",
    )
    np.testing.assert_allclose(plain, result["test_score"])


def parent_weights(sampler, w):
    """The weights of a sampler's output rows, mapped by hand from its parents."""
    p, m = sampler.parent_indices_, sampler.parent_mixing_
    return (1 - m) * w[p[:, 0]] + m * w[p[:, 1]]


@pytest.mark.parametrize(
    ("make_sampler", "two_targets"),
    [
        (lambda: SMOGN(random_state=0), False),  # "balance" keeps the row count
        (lambda: SMOGN(random_state=0), True),
        (lambda: SMOTER(sampling_strategy={"rare": 3.0}, random_state=0), False),  # grows
        (lambda: SMOTER(sampling_strategy={"rare": 3.0}, random_state=0), True),
    ],
)
def test_sample_weight_next_to_a_sampler_follows_the_rows(make_sampler, two_targets):
    from imblearn.pipeline import make_pipeline as imblearn_make_pipeline
    from sklearn import config_context

    from skdir.pipeline import make_pipeline

    X, y = skewed(n=200)
    if two_targets:  # a second target that does not cut the rare tail into tiny cells
        y = np.column_stack([y, 2.0 * y + 0.01 * X[:, 1]])
    w = np.arange(len(y), dtype=float)
    X_res, y_res = (sampler := make_sampler()).fit_resample(X, y)
    by_hand = Ridge().fit(X_res, y_res, sample_weight=parent_weights(sampler, w))

    pipe = make_pipeline(make_sampler(), Ridge()).fit(X, y, ridge__sample_weight=w)
    np.testing.assert_allclose(pipe[-1].coef_, by_hand.coef_, rtol=1e-12)
    # the old, silent result differs: imbalanced-learn's Pipeline weights the wrong rows
    if len(y_res) == len(y):
        misaligned = Ridge().fit(X_res, y_res, sample_weight=w).coef_
        assert not np.allclose(pipe[-1].coef_, misaligned, rtol=1e-3)
    # the same through metadata routing
    with config_context(enable_metadata_routing=True):
        routed = make_pipeline(make_sampler(), Ridge().set_fit_request(sample_weight=True))
        routed.fit(X, y, sample_weight=w)
        np.testing.assert_allclose(routed[-1].coef_, by_hand.coef_, rtol=1e-12)
        # imbalanced-learn's own Pipeline cannot resample them: routing makes it an error
        with pytest.raises(ValueError, match=r"got a sample_weight.*skdir\.pipeline"):
            imblearn_make_pipeline(
                make_sampler(), Ridge().set_fit_request(sample_weight=True)
            ).fit(X, y, sample_weight=w)
    # called directly, fit_resample returns (X, y) only: the error names the fix
    with pytest.raises(ValueError, match="resample_weights"):
        make_sampler().fit_resample(X, y, sample_weight=w)


def test_parent_indices_and_mixing_describe_every_output_row():
    X, y = skewed(n=300, d=3, seed=1)
    sampler = SMOGN(safe_radius="knn_median", random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    p, m = sampler.parent_indices_, sampler.parent_mixing_
    assert p.shape == (len(y_res), 2) and m.shape == (len(y_res),)
    kept = n_kept(sampler)
    np.testing.assert_array_equal(X_res[:kept], X[p[:kept, 0]])  # kept rows: themselves
    np.testing.assert_array_equal(p[:kept, 0], p[:kept, 1])
    np.testing.assert_array_equal(m[:kept], 0.0)
    new = np.arange(kept, len(y_res))
    interpolated = new[p[new, 0] != p[new, 1]]
    noise = new[p[new, 0] == p[new, 1]]
    assert len(interpolated) == sampler.n_interpolated_ > 0
    assert len(noise) == sampler.n_noise_ > 0
    assert np.all((m[interpolated] >= 0) & (m[interpolated] <= 1)) and np.all(m[noise] == 0)
    a, b, mi = p[interpolated, 0], p[interpolated, 1], m[interpolated, None]
    np.testing.assert_allclose(X_res[interpolated], X[a] + mi * (X[b] - X[a]), atol=1e-12)
    np.testing.assert_allclose(y_res[interpolated], (1 - mi[:, 0]) * y[a] + mi[:, 0] * y[b])
    assert np.all(sampler.segment_[p[:, 0]] == sampler.segment_[p[:, 1]])  # same segment
    # noise rows stay near their seed (pert = 0.02 of the segment's spread)
    assert np.abs(X_res[noise] - X[p[noise, 0]]).max() < 0.2 * X.std()
    # copy samplers: parent_indices_ agrees with sample_indices_
    over = RandomOverSampler(random_state=0)
    over.fit_resample(X, y)
    np.testing.assert_array_equal(over.parent_indices_[:, 0], over.sample_indices_)
    np.testing.assert_array_equal(over.parent_indices_[:, 1], over.sample_indices_)
    np.testing.assert_array_equal(over.parent_mixing_, np.zeros(len(over.sample_indices_)))


# -------------------------------------------------------------- relevance choice
def test_auto_relevance_falls_back_to_density_with_a_warning():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 3))
    y = 5 * rng.beta(2, 1.5, size=600)
    with pytest.warns(UserWarning, match="using the density-based relevance"):
        sampler = SMOGN(random_state=0).fit(X, y)
    assert sampler.relevance_.method == "density"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SMOGN(relevance="density", random_state=0).fit_resample(X, y)
    with pytest.raises(ValueError, match="rare segment is empty"):
        SMOGN(relevance="box").fit(X, y)


def test_relevance_instance_is_cloned_and_tunable():
    X, y = skewed()
    rel = Relevance(extremes="high", coef=1.0)
    sampler = SMOTER(relevance=rel, random_state=0).fit(X, y)
    assert not hasattr(rel, "n_targets_")
    assert sampler.relevance_.coef == 1.0
    sampler.set_params(relevance__coef=3.0)
    assert sampler.get_params()["relevance__coef"] == 3.0


# -------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls", ALL_SAMPLERS)
def test_bad_inputs_raise_clear_errors(cls):
    X, y = skewed(n=100)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cls().fit_resample(X_nan, y)
    y_inf = y.copy()
    y_inf[0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        cls().fit_resample(X, y_inf)
    with pytest.raises(ValueError, match="constant"):
        cls().fit_resample(X, np.full(len(y), 2.0))
    with pytest.raises(ValueError, match="3 target columns"):
        cls().fit_resample(X, np.column_stack([y, y, y]))
    for bad in (0.0, 1.5, -1):
        with pytest.raises(ValueError, match="rel_thres"):
            cls(rel_thres=bad).fit_resample(X, y)
    with pytest.raises(ValueError, match="sampling_strategy"):
        cls(sampling_strategy="minority").fit_resample(X, y)
    with pytest.raises(ValueError, match="relevance"):
        cls(relevance="tukey").fit_resample(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cls().fit_resample(X, y[:-1])
    with pytest.raises(ValueError, match="requires y"):
        cls().fit_resample(X, None)


def test_bad_strategy_dicts_and_categoricals():
    X, y = tails_data()
    for strategy, message in [
        ({"rare": -1}, "positive ratio"),
        ({"majority": 2}, "keys must be"),
        ({7: 2.0}, "segment index 7"),
    ]:
        with pytest.raises(ValueError, match=message):
            SMOTER(relevance=TAILS, sampling_strategy=strategy).fit(X, y)
    for categorical, message in [
        ([5], "out of range"),
        ([0, 1, 2], "at least one numeric"),
        (["a"], "column indices"),
    ]:
        with pytest.raises(ValueError, match=message):
            SMOTER(relevance=TAILS, categorical_features=categorical).fit_resample(X, y)


@pytest.mark.parametrize("cls", [SMOGN, SMOTER])
def test_too_few_rows_for_k_neighbors_is_an_error_unless_the_fallback_is_asked_for(cls):
    X, y = tails_data()
    control = [[2, 1, 0], [3, 0, 0]]  # rare: y = 0, 1, 2 -> 3 rows
    with pytest.raises(ValueError, match=r"has 3 training rows.*k_neighbors=5.*at most 2"):
        cls(relevance=control, k_neighbors=5, random_state=0).fit_resample(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asked for: no warning
        sampler = cls(relevance=control, k_neighbors=5, k_neighbors_fallback=True, random_state=0)
        _, y_res = sampler.fit_resample(X, y)
    assert sampler.segment_counts_.tolist() == [3, 997]
    assert sampler.segment_k_neighbors_.tolist() == [2, 0]  # 2 neighbours; 997 rows shrink
    assert sampler.n_interpolated_ + sampler.n_noise_ == 500 - 3
    between = sampler.parent_indices_[:, 0] != sampler.parent_indices_[:, 1]
    assert between.sum() == sampler.n_interpolated_ == (497 if cls is SMOTER else 0)
    assert np.all((y_res[between] >= 0) & (y_res[between] <= 2))  # within the 3 rows
    # k_neighbors=2 fits the segment: the same rows as the fallback, with no option needed
    _, y_two = cls(relevance=control, k_neighbors=2, random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(y_two, y_res)

    single = [[0, 1, 0], [1, 0, 0]]  # rare: y = 0 only
    with pytest.raises(ValueError, match=r"single training row.*k_neighbors_fallback=True"):
        cls(relevance=single, random_state=0).fit_resample(X, y)
    sampler = cls(relevance=single, k_neighbors_fallback=True, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    np.testing.assert_array_equal(y_res[n_kept(sampler) :], 0.0)
    np.testing.assert_array_equal(X_res[n_kept(sampler) :], np.repeat(X[:1], 499, axis=0))
    assert sampler.n_interpolated_ + sampler.n_noise_ == 0
    assert sampler.segment_k_neighbors_.tolist() == [0, 0]


def test_smogn_k_neighbors_larger_than_a_segment_names_its_size():
    # the audit's case: X 60 x 4, a skewed target; the rare segment holds 13 rows
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = np.exp(X[:, 0] + 0.3 * rng.normal(size=60))
    with pytest.raises(
        ValueError,
        match=r"Segment 1 \(targets \[3\.5221, 13\.6734\]\) has 13 training rows and must "
        r"grow by 17 rows.*k_neighbors=100.*Lower k_neighbors to at most 12",
    ):
        SMOGN(k_neighbors=100).fit_resample(X, y)
    sampler = SMOGN(k_neighbors=100, k_neighbors_fallback=True, random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    assert sampler.segment_k_neighbors_.tolist() == [0, 12] and len(X_res) == 60
    with pytest.raises(ValueError, match="k_neighbors_fallback"):
        SMOGN(k_neighbors_fallback="yes").fit_resample(X, y)


@pytest.mark.parametrize("cls", ALL_SAMPLERS)
def test_resampled_targets_stay_near_the_data_range(cls):
    X, y = skewed(n=400, seed=8)
    _, y_res = cls(random_state=0).fit_resample(X, y)
    spread = y.max() - y.min()
    assert y_res.min() >= y.min() - 0.1 * spread and y_res.max() <= y.max() + 0.1 * spread


# ------------------------------------------------- one-pass neighbours of SMOGN
@pytest.mark.parametrize("working_memory", [1024, 0.01])  # one block; many 1-row blocks
def test_segment_neighbours_equal_brute_force(working_memory):
    from sklearn import config_context

    from skdir.resampling._smote import segment_neighbours

    rng = np.random.RandomState(0)
    Z = rng.normal(size=(41, 6))
    Z[7] = Z[3]  # a duplicate: each is the other's neighbour at distance 0
    used = np.array([0, 3, 7, 8, 20, 40])
    k = 4
    with config_context(working_memory=working_memory), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not adhere to working_memory"
        distances, indices, half_median = segment_neighbours(Z, used, k)
    full = np.linalg.norm(Z[:, None, :] - Z[None, :, :], axis=-1)
    np.fill_diagonal(full, 0.0)
    np.testing.assert_allclose(half_median, 0.5 * np.median(full[used], axis=1), atol=1e-12)
    others = full[used].copy()
    others[np.arange(len(used)), used] = np.inf
    expected = np.sort(others, axis=1)[:, :k]
    np.testing.assert_allclose(distances, expected, atol=1e-12)
    np.testing.assert_allclose(np.take_along_axis(others, indices, axis=1), expected, atol=1e-12)
    assert not np.any(indices == used[:, None])  # never its own neighbour
    assert indices[1, 0] == 7 and indices[2, 0] == 3 and distances[1, 0] == pytest.approx(0)
    # the same neighbours as scikit-learn's search, which SMOTER and knn_median use
    ref_dist, ref_idx = NearestNeighbors(n_neighbors=k).fit(Z).kneighbors()
    np.testing.assert_allclose(distances, ref_dist[used], atol=1e-12)
    np.testing.assert_array_equal(indices[[0, 3, 4, 5]], ref_idx[used][[0, 3, 4, 5]])


def test_smogn_rows_do_not_depend_on_the_distance_block_size():
    from sklearn import config_context

    X, y = skewed(n=400, d=30, seed=1)
    with config_context(working_memory=0.05), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        small = SMOGN(random_state=0).fit_resample(X, y)
    large = SMOGN(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(small[0], large[0])
    np.testing.assert_array_equal(small[1], large[1])
