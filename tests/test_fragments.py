"""Tests of skdir.fragments: bags, FragmentAggregator, target averaging, subsampling."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imblearn.pipeline import make_pipeline as make_imblearn_pipeline
from scipy import stats as sps
from scipy.stats import mstats
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skdir.datasets import make_imbalanced_regression
from skdir.density import LabelDensity
from skdir.fragments import (
    FragmentAggregator,
    FragmentSubsampler,
    aggregate_targets,
    choose_target_aggregation,
    make_bags,
)

ALL_STATS = ("mean", "median", "trimmed", "gem", "std", "min", "max", "count")


def _pad(bags, width=None):
    width = max(len(b) for b in bags) if width is None else width
    out = np.full((len(bags), width, bags[0].shape[1]), np.nan)
    for i, bag in enumerate(bags):
        out[i, : len(bag)] = bag
    return out


@pytest.fixture(scope="module")
def generated():
    return make_imbalanced_regression(60, 12, n_targets=2, n_fragments=(2, 8), random_state=0)


# --------------------------------------------------------------------- aggregator
def test_aggregator_hand_computed_values():
    bags = [np.array([[0.0, 1.0], [1.0, -2.0], [2.0, 1.0], [7.0, 4.0]]), np.array([[5.0, 6.0]])]
    agg = FragmentAggregator(ALL_STATS, trim=0.1, power=3.0).fit(bags)
    out = agg.transform(bags)
    names = agg.get_feature_names_out().tolist()
    assert names == [f"{s}__x{j}" for s in ALL_STATS[:-1] for j in (0, 1)] + ["count"]
    row = dict(zip(names, out[0], strict=True))
    assert row["mean__x0"] == pytest.approx(2.5)
    assert row["median__x0"] == pytest.approx(1.5)  # mean of the middle two
    # trim 0.1 of 4 fragments cuts 0.4 of the smallest and of the largest one:
    # (0 * 0.6 + 1 + 2 + 7 * 0.6) / 3.2
    assert row["trimmed__x0"] == pytest.approx(7.2 / 3.2)
    assert row["gem__x0"] == pytest.approx(np.cbrt((0 + 1 + 8 + 343) / 4))
    # sign-preserving power: (1 - 8 + 1 + 64) / 4 = 14.5
    assert row["gem__x1"] == pytest.approx(np.cbrt(14.5))
    assert row["std__x0"] == pytest.approx(np.std([0, 1, 2, 7]))
    assert (row["min__x0"], row["max__x0"], row["count"]) == (0.0, 7.0, 4.0)
    # a single fragment: every location stat is the fragment, std 0, count 1
    np.testing.assert_allclose(out[1], [5, 6] * 4 + [0, 0] + [5, 6, 5, 6, 1], rtol=1e-12)


def test_gem_of_negative_mean():
    out = FragmentAggregator("gem").fit_transform([np.array([[-2.0], [1.0]])])
    assert out[0, 0] == pytest.approx(-np.cbrt(3.5))


@pytest.mark.parametrize("k", [10, 20, 30])
def test_trimmed_matches_scipy_for_integer_cuts(k):
    bag = np.random.default_rng(k).standard_normal((k, 3))
    out = FragmentAggregator("trimmed", trim=0.2).fit_transform([bag])
    np.testing.assert_allclose(out[0], sps.trim_mean(bag, 0.2, axis=0))


def test_list_padded_and_table_forms_agree():
    rng = np.random.default_rng(0)
    bags = [rng.standard_normal((k, 3)) for k in (1, 4, 2, 7, 3)]
    agg = FragmentAggregator(ALL_STATS).fit(bags)
    from_list = agg.transform(bags)
    np.testing.assert_allclose(agg.transform(_pad(bags, width=9)), from_list)
    np.testing.assert_allclose(agg.transform(tuple(bags)), from_list)
    obj = np.empty(len(bags), dtype=object)
    obj[:] = bags
    np.testing.assert_allclose(agg.transform(obj), from_list)
    # a 2-D table is one fragment per sample
    table = rng.standard_normal((4, 3))
    np.testing.assert_allclose(agg.transform(table), agg.transform(list(table[:, None, :])))


def test_padding_rows_anywhere_are_skipped():
    padded = np.array([[[1.0, 2.0], [np.nan, np.nan], [3.0, 6.0]]])
    out = FragmentAggregator(("mean", "count")).fit_transform(padded)
    np.testing.assert_array_equal(out, [[2.0, 4.0, 2.0]])


def test_float32_preserved():
    bags = [np.ones((2, 3), np.float32), np.zeros((1, 3), np.float32)]
    assert FragmentAggregator(ALL_STATS).fit_transform(bags).dtype == np.float32
    assert FragmentAggregator().fit_transform([b.astype(int) for b in bags]).dtype == np.float64


def test_weights_hand_computed_and_three_ways():
    bag = np.array([[1.0], [3.0]])
    w = np.array([1.0, 3.0])
    stats = ("mean", "median", "std", "trimmed", "gem")
    agg = FragmentAggregator(stats, trim=0.25).fit([bag])
    out = agg.transform([bag], fragment_weights=[w])
    # weighted mean 2.5; the weight 3 covers [1, 4), so the median (at 2) is 3;
    # variance (1 * 1.5**2 + 3 * 0.5**2) / 4; trim 0.25 keeps weight [1, 3): all 3
    np.testing.assert_allclose(out[0], [2.5, 3.0, np.sqrt(0.75), 3.0, np.cbrt((1 + 3 * 27) / 4)])
    # the same weights as a column of the bags (what travels through a Pipeline)
    with_column = [np.hstack([bag, w[:, None]])]
    column = FragmentAggregator(stats, trim=0.25, fragment_weights=-1).fit(with_column)
    np.testing.assert_allclose(column.transform(with_column), out)
    assert column.get_feature_names_out().tolist() == [f"{s}__x0" for s in stats]
    # and parallel to the padding of a 3-D array
    padded = _pad([bag, bag[:1]], width=3)
    weights_2d = np.array([[1.0, 3.0, np.nan], [2.0, np.nan, np.nan]])
    out3 = agg.transform(padded, fragment_weights=weights_2d)
    np.testing.assert_allclose(out3[0], out[0])
    np.testing.assert_allclose(out3[1], [1.0, 1.0, 0.0, 1.0, 1.0])


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(-100, 100, allow_nan=False, width=32), min_size=1, max_size=7),
    data=st.data(),
)
def test_integer_weights_equal_repeated_fragments(values, data):
    weights = np.array(
        data.draw(st.lists(st.integers(1, 4), min_size=len(values), max_size=len(values))),
        dtype=float,
    )
    bag = np.array(values, dtype=float)[:, None]
    repeated = np.repeat(bag, weights.astype(int), axis=0)
    stats = ("mean", "median", "std", "gem", "trimmed", "min", "max")
    agg = FragmentAggregator(stats, trim=0.2, power=2.0).fit([bag])
    np.testing.assert_allclose(
        agg.transform([bag], fragment_weights=[weights]),
        agg.transform([repeated]),
        rtol=1e-9,
        atol=1e-9,
    )
    for method in ("mean", "median", "trimmed", "winsorized", "huber"):
        a = aggregate_targets(
            bag[:, 0], np.zeros(len(bag)), method=method, weights=weights, trim=0.2
        )
        b = aggregate_targets(repeated[:, 0], np.zeros(len(repeated)), method=method, trim=0.2)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=8), st.integers(0, 1000))
def test_location_stats_between_min_and_max(sizes, seed):
    rng = np.random.default_rng(seed)
    bags = [rng.standard_normal((k, 2)) * 10 for k in sizes]
    out = FragmentAggregator(("min", "mean", "median", "trimmed", "gem", "max")).fit_transform(
        bags
    )
    low, high = out[:, :2], out[:, -2:]
    for block in range(1, 5):
        stat = out[:, 2 * block : 2 * block + 2]
        assert np.all(stat >= low - 1e-9) and np.all(stat <= high + 1e-9)


def test_feature_names_with_dataframe_and_input_features():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    agg = FragmentAggregator(("max", "count")).fit(X)
    assert agg.get_feature_names_out().tolist() == ["max__a", "max__b", "count"]
    bags = [np.ones((2, 2))]
    agg.fit(bags)
    assert not hasattr(agg, "feature_names_in_")
    assert agg.get_feature_names_out(["u", "v"]).tolist() == ["max__u", "max__v", "count"]


@pytest.mark.parametrize(
    ("X", "match"),
    [
        ([np.ones((2, 3)), np.ones((0, 3))], r"Bag\(s\) \[1\] have no fragments"),
        ([np.ones((2, 3)), np.ones((2, 4))], "different numbers of features: bag 0 has 3"),
        ([np.array([[1.0, 2.0], [np.nan, np.nan]])], "Bag 0, fragment 1 contains NaN"),
        ([np.array([[1.0, np.inf]])], "contains infinity"),
        ([np.ones((2, 2)), np.ones(3)], "Bag 1 has shape"),
        (np.array([[[1.0, np.nan], [1.0, 2.0]]]), "Bag 0, fragment 0 has NaN in some"),
        (np.array([[[1.0, 2.0]], [[np.nan, np.nan]]]), r"Bag\(s\) \[1\] have no fragments"),
        (np.array([[[1.0, np.inf], [np.nan, np.nan]]]), "Bag 0, fragment 0 contains infinity"),
        (np.zeros((0, 2, 3)), "no bags"),
        ([], "no bags"),
    ],
)
def test_bad_bags_raise(X, match):
    with pytest.raises(ValueError, match=match):
        FragmentAggregator().fit(X)


def test_bad_parameters_and_transform_inputs_raise():
    bags = [np.ones((2, 3))]
    with pytest.raises(ValueError, match=r"Unknown stat name\(s\) \['mode'\]"):
        FragmentAggregator(("mean", "mode")).fit(bags)
    with pytest.raises(ValueError, match="repeated"):
        FragmentAggregator(("mean", "mean")).fit(bags)
    with pytest.raises(ValueError, match="stats"):
        FragmentAggregator("mode").fit(bags)
    agg = FragmentAggregator().fit(bags)
    with pytest.raises(ValueError, match="expecting 3 features"):
        agg.transform([np.ones((2, 4))])
    with pytest.raises(ValueError, match="finite and > 0"):
        agg.transform(bags, fragment_weights=[np.array([1.0, 0.0])])
    with pytest.raises(ValueError, match="one 1-D array per bag"):
        agg.transform(bags, fragment_weights=[np.array([1.0, 2.0, 3.0])])
    with pytest.raises(ValueError, match="not a column"):
        FragmentAggregator(fragment_weights=5).fit(bags)
    with_column = [np.array([[1.0, -1.0]])]
    with pytest.raises(ValueError, match="the weight column must be finite and > 0"):
        FragmentAggregator(fragment_weights=1).fit(with_column)
    column = FragmentAggregator(fragment_weights=1).fit([np.array([[1.0, 2.0]])])
    with pytest.raises(ValueError, match="given twice"):
        column.transform([np.array([[1.0, 2.0]])], fragment_weights=[np.ones(1)])


@pytest.mark.parametrize("form", ["list", "padded"])
def test_bag_forms_survive_cross_validation(generated, form):
    bags, y, _ = generated
    X = bags if form == "list" else _pad(bags)
    pipe = make_pipeline(FragmentAggregator(("mean", "std", "max")), Ridge(alpha=1.0))
    scores = cross_val_score(pipe, X, y, cv=KFold(3, shuffle=True, random_state=0))
    # the same folds on the other form give identical scores
    other = _pad(bags) if form == "list" else bags
    expected = cross_val_score(pipe, other, y, cv=KFold(3, shuffle=True, random_state=0))
    np.testing.assert_allclose(scores, expected)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    search = GridSearchCV(
        pipe, {"fragmentaggregator__stats": [("mean",), ("mean", "max")]}, cv=3
    ).fit(X, y)
    assert search.best_estimator_.predict(X).shape == y.shape


# ------------------------------------------------------------------ target averages
def test_aggregate_targets_hand_computed():
    y = np.array([1.0, 2.0, 30.0, 4.0, 6.0])
    groups = np.array([7, 7, 7, 3, 3])  # samples are the sorted ids: 3, then 7
    np.testing.assert_allclose(aggregate_targets(y, groups), [5.0, 11.0])
    np.testing.assert_allclose(aggregate_targets(y, groups, method="median"), [5.0, 2.0])
    np.testing.assert_allclose(
        aggregate_targets(y, groups, method="weighted", weights=[1, 1, 2, 1, 3]),
        [5.5, 63 / 4],
    )
    y_out, info = aggregate_targets(y, groups, return_dispersion=True)
    np.testing.assert_allclose(y_out, [5.0, 11.0])
    np.testing.assert_allclose(info.std, [1.0, np.std([1, 2, 30])])
    np.testing.assert_array_equal(info.count, [2, 3])
    assert info.method == "mean"


@pytest.mark.parametrize("k", [10, 20])
def test_trimmed_and_winsorized_match_scipy(k):
    y = np.random.default_rng(k).standard_normal(k) ** 3
    g = np.zeros(k)
    trimmed = aggregate_targets(y, g, method="trimmed", trim=0.1)
    winsorized = aggregate_targets(y, g, method="winsorized", trim=0.1)
    assert trimmed[0] == pytest.approx(sps.trim_mean(y, 0.1))
    assert winsorized[0] == pytest.approx(mstats.winsorize(y, limits=(0.1, 0.1)).mean())


def test_huber_solves_its_estimating_equation():
    y = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    mu = aggregate_targets(y, np.zeros(5), method="huber")[0]
    # median 3, MAD 1: scale 1.4826; psi-weighted residuals sum to zero
    r = (y - mu) / 1.482602218505602
    assert np.clip(r, -1.345, 1.345).sum() == pytest.approx(0.0, abs=1e-8)
    assert 2.5 < mu < 3.5
    # without outliers (every residual within delta) Huber is the mean
    assert aggregate_targets([1.0, 2.0, 3.0], [0, 0, 0], method="huber")[0] == pytest.approx(2)
    # a bag whose values are all equal keeps the value; a MAD of 0 gives the median
    assert aggregate_targets([4.0, 4.0], [0, 0], method="huber")[0] == 4.0
    assert aggregate_targets([0.0, 0.0, 0.0, 1e3], [0] * 4, method="huber")[0] == 0.0


def test_two_targets_are_averaged_per_column():
    rng = np.random.default_rng(0)
    y = rng.standard_normal((30, 2))
    g = rng.integers(0, 6, 30)
    for method in ("mean", "median", "trimmed", "winsorized", "huber"):
        both = aggregate_targets(y, g, method=method, trim=0.2)
        for k in range(2):
            np.testing.assert_allclose(
                both[:, k], aggregate_targets(y[:, k], g, method=method, trim=0.2)
            )


@settings(max_examples=40, deadline=None)
@given(
    clean=st.lists(st.floats(-10, 10, allow_nan=False), min_size=3, max_size=9),
    outlier=st.floats(1e3, 1e9),
)
def test_robust_methods_resist_one_outlier(clean, outlier):
    y = np.array([*clean, outlier])
    g = np.zeros(len(y))
    median = aggregate_targets(y, g, method="median")[0]
    assert min(clean) <= median <= max(clean)  # breakdown point 50 %
    trimmed = aggregate_targets(y, g, method="trimmed", trim=0.25)[0]
    assert trimmed <= max(clean) + 1e-9  # the outlier's weight (1 of >= 4) is cut
    huber = aggregate_targets(y, g, method="huber")[0]
    far = aggregate_targets(np.array([*clean, outlier * 1e3]), g, method="huber")[0]
    assert huber == pytest.approx(far, rel=1e-6, abs=1e-6)  # bounded influence
    assert aggregate_targets(y, g)[0] > outlier / len(y) - 10  # the mean follows it


def test_robust_averages_beat_the_mean_on_corrupted_fragments():
    _, y_clean, y_frag = make_imbalanced_regression(
        1500, 4, n_targets=2, n_fragments=(2, 8), random_state=1
    )
    flat = np.concatenate(y_frag)
    rng = np.random.default_rng(0)
    bad = rng.random(len(flat)) < 0.1
    flat[bad] += rng.choice([-1.0, 1.0], (bad.sum(), 2)) * 6 * flat.std(axis=0)
    groups = np.repeat(np.arange(len(y_frag)), [len(v) for v in y_frag])
    error = {
        m: np.abs(aggregate_targets(flat, groups, method=m) - y_clean).mean(axis=0)
        for m in ("mean", "median", "huber", "auto")
    }
    assert np.all(error["median"] < 0.6 * error["mean"])
    assert np.all(error["huber"] < 0.6 * error["mean"])
    # auto picks one of the two (here within 5 % of the better one)
    assert np.all(error["auto"] <= np.minimum(error["median"], error["huber"]) * 1.05)
    assert np.all(error["auto"] < 0.6 * error["mean"])


def test_auto_rule_follows_the_outlier_share():
    rng = np.random.default_rng(0)
    sizes = rng.integers(3, 9, 1500)
    groups = np.repeat(np.arange(1500), sizes)
    clean = rng.standard_normal(len(groups))

    def corrupted(share):
        y = clean.copy()
        bad = rng.random(len(y)) < share
        y[bad] += rng.choice([-1, 1], bad.sum()) * rng.uniform(5, 20, bad.sum())
        return y

    assert choose_target_aggregation(clean, groups) == "mean"
    assert choose_target_aggregation(corrupted(0.04), groups) == "huber"
    assert choose_target_aggregation(corrupted(0.2), groups) == "median"
    two = np.column_stack([clean, corrupted(0.2)])
    assert choose_target_aggregation(two, groups) == ["mean", "median"]
    y, info = aggregate_targets(two, groups, method="auto", return_dispersion=True)
    assert info.method == ["mean", "median"]
    np.testing.assert_allclose(y[:, 0], aggregate_targets(clean, groups))
    np.testing.assert_allclose(y[:, 1], aggregate_targets(two[:, 1], groups, method="median"))
    # no sample with two fragments: nothing to compare, the mean
    assert choose_target_aggregation([1.0, 50.0], [0, 1]) == "mean"


def test_groups_none_takes_per_sample_lists(generated):
    _, y, y_frag = generated
    np.testing.assert_allclose(aggregate_targets(y_frag, None), y)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "mode"}, r"'method' parameter of aggregate_targets must be a str among"),
        ({"method": "weighted"}, "needs weights"),
        ({"trim": 0.5}, r"'trim' parameter of aggregate_targets .* range \[0.0, 0.5\)"),
        ({"trim": True}, r"'trim' parameter of aggregate_targets .* Got True"),
        ({"huber_delta": 0}, "'huber_delta' parameter of aggregate_targets"),
        ({"huber_delta": np.nan}, "'huber_delta' parameter of aggregate_targets"),
        ({"weights": [1.0, 1.0]}, "one weight per fragment"),
        ({"weights": [1.0, -1.0, 1.0]}, "finite and > 0"),
    ],
)
def test_aggregate_targets_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        aggregate_targets([1.0, 2.0, 3.0], [0, 0, 1], **kwargs)


def test_aggregate_targets_bad_data():
    with pytest.raises(ValueError, match="groups has 2 entries but there are 3 fragments"):
        aggregate_targets([1.0, 2.0, 3.0], [0, 0])
    with pytest.raises(ValueError, match="y_frag contains NaN"):
        aggregate_targets([1.0, np.nan], [0, 0])
    with pytest.raises(ValueError, match="groups contains NaN"):
        aggregate_targets([1.0, 2.0], [0.0, np.nan])
    with pytest.raises(ValueError, match="groups is None"):
        aggregate_targets(np.array([1.0, 2.0]), None)


# ---------------------------------------------------------------------- make_bags
def test_make_bags_order_and_targets():
    X = np.arange(12.0).reshape(6, 2)
    groups = ["b", "a", "b", "c", "a", "b"]
    y = [1.0, 2.0, 3.0, 4.0, 8.0, 100.0]
    bags, y_bag, ids = make_bags(X, groups, y, target_aggregation="median")
    assert ids.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(bags[0], X[[1, 4]])  # order within a group kept
    np.testing.assert_array_equal(bags[1], X[[0, 2, 5]])
    np.testing.assert_allclose(y_bag, [5.0, 3.0, 4.0])
    _, y_trim, _ = make_bags(X, groups, y, target_aggregation="trimmed", trim=0.34)
    assert y_trim[1] == pytest.approx(3.0)
    bags2, none, _ = make_bags(X, groups)
    assert none is None and len(bags2) == 3
    # round trip with the aggregator: mean of each bag
    agg = FragmentAggregator().fit_transform(bags)
    np.testing.assert_allclose(agg[1], X[[0, 2, 5]].mean(axis=0))


def test_make_bags_bad_input():
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="groups has 2 entries"):
        make_bags(X, [0, 1])
    with pytest.raises(ValueError, match="y_frag has 2 rows but X_frag has 3"):
        make_bags(X, [0, 1, 1], [1.0, 2.0])
    with pytest.raises(ValueError, match="X_frag row 1 contains NaN"):
        make_bags(np.array([[1.0], [np.nan], [2.0]]), [0, 1, 1])
    with pytest.raises(ValueError, match="must be 2-D"):
        make_bags(np.ones(3), [0, 1, 1])
    with pytest.raises(ValueError, match="Unknown aggregation parameter"):
        make_bags(X, [0, 1, 1], [1.0, 2.0, 3.0], delta=2)
    with pytest.raises(ValueError, match="return_dispersion"):
        make_bags(X, [0, 1, 1], [1.0, 2.0, 3.0], return_dispersion=True)


# ---------------------------------------------------------------------- subsampler
def test_subsampler_draws_are_ordered_subsets():
    rng = np.random.default_rng(0)
    bags = [rng.standard_normal((k, 3)) for k in (1, 2, 5, 8)]
    y = np.array([0.0, 1.0, 2.0, 3.0])
    sampler = FragmentSubsampler(3, size_fraction=0.5, random_state=0)
    X_res, y_res = sampler.fit_resample(bags, y)
    assert len(X_res) == 4 + 4 * 3
    np.testing.assert_array_equal(sampler.sample_indices_, [0, 1, 2, 3, *np.repeat(range(4), 3)])
    np.testing.assert_array_equal(y_res, y[sampler.sample_indices_])
    for i in range(4):
        np.testing.assert_array_equal(X_res[i], bags[i])
    expected_sizes = {0: 1, 1: 1, 2: 3, 3: 4}  # floor(0.5 k + 0.5), at least 1
    for new, parent in zip(X_res[4:], sampler.sample_indices_[4:], strict=True):
        assert len(new) == expected_sizes[parent]
        rows = [int(np.flatnonzero((bags[parent] == r).all(axis=1))[0]) for r in new]
        assert rows == sorted(set(rows))  # distinct fragments, original order
    # the draws of a bag differ, and seeds reproduce them
    X_again, _ = FragmentSubsampler(3, random_state=0).fit_resample(bags, y)
    assert all(np.array_equal(a, b) for a, b in zip(X_res, X_again, strict=True))
    X_other, _ = FragmentSubsampler(3, random_state=1).fit_resample(bags, y)
    assert not all(np.array_equal(a, b) for a, b in zip(X_res, X_other, strict=True))


def test_subsampler_keeps_the_input_form():
    rng = np.random.default_rng(0)
    bags = [rng.standard_normal((k, 2)) for k in (3, 4)]
    padded = _pad(bags, width=6)
    X_res, y_res = FragmentSubsampler(2, random_state=0).fit_resample(padded, [1.0, 2.0])
    np.testing.assert_array_equal(y_res, [1.0, 2.0, 1.0, 1.0, 2.0, 2.0])
    assert X_res.shape == (6, 6, 2)
    counts = (~np.isnan(X_res).all(axis=2)).sum(axis=1)
    np.testing.assert_array_equal(counts, [3, 4, 2, 2, 2, 2])
    table = rng.standard_normal((5, 3))
    y2 = rng.standard_normal((5, 2))
    X_tab, y_tab = FragmentSubsampler(1, random_state=0).fit_resample(table, y2)
    np.testing.assert_array_equal(X_tab, np.vstack([table, table]))
    np.testing.assert_array_equal(y_tab, np.vstack([y2, y2]))


def test_rare_boost_gives_rare_targets_more_draws():
    bags, y, _ = make_imbalanced_regression(
        400, 4, n_fragments=(2, 6), imbalance=1.5, random_state=0
    )
    sampler = FragmentSubsampler(2, rare_boost=1.0, random_state=0)
    X_res, _ = sampler.fit_resample(bags, y)
    weights = LabelDensity().fit(y).weights(y, reweight="inverse")
    expected = np.floor(2 * weights / weights.mean() + 0.5)
    np.testing.assert_array_equal(sampler.draws_, expected)
    assert len(X_res) == 400 + expected.sum()
    tail = y > np.quantile(y, 0.95)
    assert sampler.draws_[tail].mean() > 4 * sampler.draws_[~tail].mean()
    assert isinstance(sampler.label_density_, LabelDensity)
    capped = FragmentSubsampler(2, rare_boost=1.0, max_draws=3).fit(bags, y)
    assert capped.draws_.max() == 3
    flat = FragmentSubsampler(2, rare_boost=0.0).fit(bags, y)
    np.testing.assert_array_equal(flat.draws_, 2)
    custom = FragmentSubsampler(2, rare_boost=1.0, label_density=LabelDensity(n_bins=5))
    assert custom.fit(bags, y).label_density_.n_bins_ == (5,)


def test_subsampler_runs_at_fit_time_only(generated):
    bags, y, _ = generated
    sampler = FragmentSubsampler(2, rare_boost=0.5, random_state=0)
    model = make_pipeline(FragmentAggregator(("mean", "max")), Ridge(alpha=1.0))
    pipe = make_imblearn_pipeline(sampler, FragmentAggregator(("mean", "max")), Ridge(alpha=1.0))
    cv = KFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, bags, y, cv=cv)
    manual = []
    for train, test in cv.split(bags):
        X_res, y_res = clone(sampler).fit_resample([bags[i] for i in train], y[train])
        assert len(X_res) > len(train)
        fitted = clone(model).fit(X_res, y_res)
        manual.append(r2_score(y[test], fitted.predict([bags[i] for i in test])))
    np.testing.assert_allclose(scores, manual)
    fitted = clone(pipe).fit(bags, y)
    assert fitted.predict(bags).shape == y.shape  # no resampling at predict


def test_subsampler_bad_input():
    bags = [np.ones((2, 2)), np.ones((3, 2))]
    with pytest.raises(ValueError, match="only act with rare_boost"):
        FragmentSubsampler(label_density=LabelDensity()).fit_resample(bags, [1.0, 2.0])
    with pytest.raises(ValueError, match="requires y to be passed"):
        FragmentSubsampler().fit_resample(bags, None)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        FragmentSubsampler().fit_resample(bags, [1.0])
    with pytest.raises(ValueError, match="no fragments"):
        FragmentSubsampler().fit_resample([np.ones((0, 2))], [1.0])
    with pytest.raises(ValueError, match="sample_weight"):
        FragmentSubsampler().fit_resample(bags, [1.0, 2.0], sample_weight=np.ones(2))
    with pytest.raises(ValueError, match="size_fraction"):
        FragmentSubsampler(size_fraction=0).fit_resample(bags, [1.0, 2.0])


def test_subsampler_with_zero_draws_returns_the_input_unchanged():
    # n_draws=0 (allowed by the constraints, >= 0) used to fail with a numpy broadcast error
    bags = [np.arange(6.0).reshape(3, 2), np.array([[7.0, 8.0]])]
    sampler = FragmentSubsampler(n_draws=0, random_state=0)
    X_res, y_res = sampler.fit_resample(bags, [1.0, 2.0])
    assert [bag.tolist() for bag in X_res] == [bag.tolist() for bag in bags]
    assert y_res.tolist() == [1.0, 2.0]
    assert sampler.sample_indices_.tolist() == [0, 1]
    assert sampler.draws_.tolist() == [0, 0]
    padded = _pad(bags)
    X_pad, _ = FragmentSubsampler(n_draws=0).fit_resample(padded, [1.0, 2.0])
    np.testing.assert_array_equal(X_pad, padded)  # NaN padding kept, same width
    table = np.arange(10.0).reshape(5, 2)
    X_tab, y_tab = FragmentSubsampler(0, rare_boost=1.0).fit_resample(table, [1, 2, 3, 4, 50])
    np.testing.assert_array_equal(X_tab, table)
    assert y_tab.tolist() == [1.0, 2.0, 3.0, 4.0, 50.0]
    # as the "off" value of a grid it composes with the rest of a pipeline
    model = make_imblearn_pipeline(
        FragmentSubsampler(random_state=0), FragmentAggregator(), Ridge()
    )
    search = GridSearchCV(model, {"fragmentsubsampler__n_draws": [0, 1]}, cv=2)
    generated_bags = [np.full((k % 3 + 1, 2), float(k)) for k in range(12)]
    search.fit(generated_bags, np.arange(12.0))
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_draws": -1}, "n_draws"),
        ({"n_draws": 1.5}, "n_draws"),
        ({"n_draws": "2"}, "n_draws"),
        ({"size_fraction": 0.0}, "size_fraction"),
        ({"size_fraction": 1.5}, "size_fraction"),
        ({"size_fraction": np.nan}, "size_fraction"),
        ({"rare_boost": -0.5}, "rare_boost"),
        ({"rare_boost": np.inf}, "rare_boost"),
        ({"max_draws": 0}, "max_draws"),
        ({"label_density": "density"}, "label_density"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_subsampler_parameters_are_validated(params, name):
    bags = [np.ones((2, 2)), np.ones((3, 2))]
    with pytest.raises(ValueError, match=f"The '{name}' parameter of FragmentSubsampler must be"):
        FragmentSubsampler(**params).fit_resample(bags, [1.0, 2.0])


def test_weight_column_travels_through_cross_validation(generated):
    bags, y, _ = generated
    rng = np.random.default_rng(0)
    lengths = [rng.integers(1, 50, len(bag)).astype(float) for bag in bags]
    with_column = [np.column_stack([bag, w]) for bag, w in zip(bags, lengths, strict=True)]
    pipe = make_pipeline(FragmentAggregator(("mean", "std"), fragment_weights=-1), Ridge())
    cv = KFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, with_column, y, cv=cv)
    np.testing.assert_allclose(scores, cross_val_score(pipe, _pad(with_column), y, cv=cv))
    # the weights matter: the same pipeline on the unweighted bags scores differently
    plain = make_pipeline(FragmentAggregator(("mean", "std")), Ridge())
    assert not np.allclose(scores, cross_val_score(plain, bags, y, cv=cv))


def test_set_output_pandas_uses_feature_names():
    pytest.importorskip("pandas")
    bags = [np.ones((2, 2)), np.zeros((1, 2))]
    frame = FragmentAggregator(("max", "count")).set_output(transform="pandas").fit_transform(bags)
    assert frame.columns.tolist() == ["max__x0", "max__x1", "count"]
    assert frame["count"].tolist() == [2.0, 1.0]


def test_complex_bags_are_rejected_not_silently_made_real():
    from skdir.fragments import check_bags

    with pytest.raises(
        ValueError, match="Bag 1 holds complex numbers: Complex data not supported"
    ):
        check_bags([np.ones((2, 3)), np.ones((1, 3)) * 1j])
    with pytest.raises(ValueError, match="X holds complex numbers: Complex data not supported"):
        check_bags(np.ones((2, 2, 3), dtype=complex))


# ------------------------------------------------ DataFrame bags keep their names (issue 13.13)
def _frame_bags():
    pd = pytest.importorskip("pandas")
    return [
        pd.DataFrame({"text_emb": [1.0, 3.0], "img_emb": [10.0, 30.0]}),
        pd.DataFrame({"text_emb": [5.0], "img_emb": [50.0]}),
    ]


def test_dataframe_bags_name_the_output_features():
    bags = _frame_bags()
    agg = FragmentAggregator(stats=("mean", "std", "count")).fit(bags)
    assert agg.feature_names_in_.tolist() == ["text_emb", "img_emb"]  # was absent
    assert agg.get_feature_names_out().tolist() == [
        "mean__text_emb",
        "mean__img_emb",
        "std__text_emb",
        "std__img_emb",
        "count",
    ]  # was mean__x0, mean__x1, ...
    np.testing.assert_allclose(
        agg.transform(bags), [[2.0, 20.0, 1.0, 10.0, 2.0], [5.0, 50.0, 0.0, 0.0, 1.0]]
    )
    frame = agg.set_output(transform="pandas").transform(bags)
    assert frame.columns.tolist() == agg.get_feature_names_out().tolist()
    # a weight column is dropped from the names as from the values
    weighted = [b.assign(tokens=[1.0, 3.0][: len(b)]) for b in bags]
    agg_w = FragmentAggregator(stats="mean", fragment_weights=-1).fit(weighted)
    assert agg_w.get_feature_names_out().tolist() == ["mean__text_emb", "mean__img_emb"]
    np.testing.assert_allclose(agg_w.transform(weighted), [[2.5, 25.0], [5.0, 50.0]])


def test_dataframe_bag_names_are_checked_like_scikit_learn():
    bags = _frame_bags()
    agg = FragmentAggregator().fit(bags)
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        agg.transform([b[["img_emb", "text_emb"]] for b in bags])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        agg.transform([b.to_numpy() for b in bags])
    with pytest.raises(ValueError, match=r"Bag 1 has columns \['img_emb'"):
        agg.fit([bags[0], bags[1][["img_emb", "text_emb"]]])
    with pytest.raises(ValueError, match=r"Bag 0 is a DataFrame.*bag 1 is a ndarray"):
        agg.fit([bags[0], bags[1].to_numpy()])
    # refitting on arrays forgets the names, as scikit-learn does
    agg.fit([b.to_numpy() for b in bags])
    assert not hasattr(agg, "feature_names_in_")
    assert agg.get_feature_names_out().tolist() == ["mean__x0", "mean__x1"]


def test_make_bags_of_a_dataframe_keeps_columns_through_a_pipeline():
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame(
        {"a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "b": [0.0, 1.0, 0.0, 1.0, 0.0, 2.0]},
        index=["r0", "r1", "r2", "r3", "r4", "r5"],
    )
    bags, y, ids = make_bags(table, [1, 0, 1, 0, 2, 2], [1.0, 2.0, 3.0, 4.0, 5.0, 7.0])
    assert ids.tolist() == [0, 1, 2]
    assert [bag.index.tolist() for bag in bags] == [["r1", "r3"], ["r0", "r2"], ["r4", "r5"]]
    assert all(bag.columns.tolist() == ["a", "b"] for bag in bags)
    assert y.tolist() == [3.0, 2.0, 6.0]
    # the subsampler returns DataFrame bags, so the aggregator sees names in fit and predict
    sampler = FragmentSubsampler(2, random_state=0)
    X_res, _ = sampler.fit_resample(bags, y)
    assert sampler.feature_names_in_.tolist() == ["a", "b"]
    assert len(X_res) == 9 and all(b.columns.tolist() == ["a", "b"] for b in X_res)
    model = make_imblearn_pipeline(
        FragmentSubsampler(2, random_state=0), FragmentAggregator(("mean", "max")), Ridge()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "fitted without feature names" warning
        model.fit(bags, y)
        model.predict(bags)
    assert model[:-1].get_feature_names_out().tolist() == [
        "mean__a",
        "mean__b",
        "max__a",
        "max__b",
    ]


# ------------------------------------------------ sweep of bad inputs (issue 13)
def test_bags_of_too_many_dimensions_are_named_as_bags():
    # a list of 3-D "bags" and a 4-D array used to fail in the 2-D table check
    # ("Found array with dim 4 ... dim <= 2 is required")
    with pytest.raises(ValueError, match=r"Bag 0 has shape \(2, 2, 2\); a bag must be 2-D"):
        FragmentAggregator().fit([np.ones((2, 2, 2))])
    with pytest.raises(
        ValueError, match=r"or a 3-D array .* got an array of shape \(2, 2, 2, 2\)"
    ):
        FragmentAggregator().fit(np.ones((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="Bag 0 is not a numeric 2-D array"):
        FragmentAggregator().fit([[[1.0, 2.0], [3.0]]])  # ragged fragments
    # a list of 1-D rows is still a table of one-fragment bags
    np.testing.assert_array_equal(FragmentAggregator().fit_transform([[1.0, 2.0]]), [[1.0, 2.0]])


def test_make_bags_checks_the_fragment_targets_before_counting_them():
    with pytest.raises(ValueError, match="'y_frag' parameter of make_bags must be an array-like"):
        make_bags(np.ones((4, 2)), [0, 0, 1, 1], 3.0)  # was "len() of unsized object"
    with pytest.raises(ValueError, match=r"y_frag must be 1-D .* got 3 dimensions"):
        make_bags(np.ones((4, 2)), [0, 0, 1, 1], np.ones((4, 1, 1)))
    _, y, _ = make_bags(np.ones((4, 2)), [0, 0, 1, 1], [[1.0], [3.0], [5.0], [9.0]])
    assert y.tolist() == [[2.0], [7.0]]
