import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skdir.density import KERNELS, LabelDensity, kernel_window, robust_range

# Small case used by several tests: unit bins over [0, 4] with counts [4, 1, 0, 9].
Y_SMALL = np.repeat([0.5, 1.5, 3.5], [4, 1, 9])


def small_density(**params):
    return LabelDensity(n_bins=4, bin_range=(0, 4), **params).fit(Y_SMALL)


# ----------------------------------------------------------------- windows
def test_official_gaussian_window_matches_lds_code():
    # Values of the official LDS window (reflect-folded gaussian), measured with scipy.
    assert kernel_window("gaussian", 5, 2) == pytest.approx(
        [0.858, 0.946, 1, 0.946, 0.858], abs=5e-4
    )
    assert kernel_window("gaussian", 5, 2, normalize="sum") == pytest.approx(
        [0.186, 0.205, 0.217, 0.205, 0.186], abs=5e-4
    )
    assert kernel_window("gaussian", 5, 1) == pytest.approx(
        [0.146, 0.607, 1, 0.607, 0.146], abs=5e-4
    )


def test_other_windows_by_hand():
    assert kernel_window("gaussian_true", 5, 2) == pytest.approx(
        np.exp(-np.array([4, 1, 0, 1, 4]) / 8.0)
    )
    assert kernel_window("triangular", 5) == pytest.approx([1 / 3, 2 / 3, 1, 2 / 3, 1 / 3])
    assert kernel_window("laplace", 3, 0.5) == pytest.approx([np.exp(-2), 1, np.exp(-2)])
    assert kernel_window("laplace", 1, 3.0) == pytest.approx([1.0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel": "box"}, r"'kernel' parameter of kernel_window must be a str among"),
        ({"ks": 4}, "ks must be an odd positive integer"),
        ({"ks": 0}, r"'ks' parameter of kernel_window must be an int in the range \[1, inf\)"),
        ({"ks": True}, r"'ks' parameter of kernel_window must be an int.*Got True"),
        ({"sigma": 0}, r"'sigma' parameter of kernel_window must be a float in the range \(0.0"),
        ({"normalize": "l2"}, r"'normalize' parameter of kernel_window must be a str among"),
    ],
)
def test_kernel_window_rejects_bad_parameters(kwargs, message):
    params = {"kernel": "gaussian", "ks": 5, "sigma": 2.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        kernel_window(**params)


# ----------------------------------------------------------- hand computed
def test_counts_smoothed_counts_and_lds_weights_by_hand():
    density = small_density(kernel="triangular", ks=3)
    np.testing.assert_array_equal(density.counts_, [4, 1, 0, 9])
    # Sum-normalised window [1/4, 1/2, 1/4] with reflected edges:
    # bin0 = 4/4 + 4/2 + 1/4, bin1 = 4/4 + 1/2 + 0, bin2 = 1/4 + 0 + 9/4, bin3 = 0 + 9/2 + 9/4.
    np.testing.assert_allclose(density.smoothed_counts_, [3.25, 1.5, 2.5, 6.75])
    # LDS sizes: sqrt counts [2, 1, 0, 3] smoothed by the peak-1 window [1/2, 1, 1/2] with zero
    # padding: [2 + 1/2, 1 + 1, 1/2 + 3/2, 3] = [2.5, 2, 2, 3]; weights 1/size scaled to sum 14.
    raw = np.repeat([1 / 2.5, 1 / 2, 1 / 3], [4, 1, 9])
    expected = raw * 14 / raw.sum()
    np.testing.assert_allclose(density.weights(Y_SMALL), expected)
    np.testing.assert_allclose(expected[[0, 4, 5]], [1.0980392, 1.3725490, 0.9150327], rtol=1e-6)


def test_inverse_weights_with_clip_and_without_smoothing():
    density = small_density(ks=1)
    # inverse: sizes [4, 1, 0, 9] -> weights 1/4, 1, 1/9 scaled to sum 14.
    raw = np.repeat([1 / 4, 1.0, 1 / 9], [4, 1, 9])
    np.testing.assert_allclose(density.weights(Y_SMALL, reweight="inverse"), raw * 14 / raw.sum())
    # clip the counts to [2, 5] first: sizes [4, 2, 2, 5].
    raw = np.repeat([1 / 4, 1 / 2, 1 / 5], [4, 1, 9])
    np.testing.assert_allclose(
        density.weights(Y_SMALL, reweight="inverse", clip=(2, 5)), raw * 14 / raw.sum()
    )
    np.testing.assert_allclose(
        density.weights(Y_SMALL, reweight="inverse", smooth=False),
        small_density().weights(Y_SMALL, reweight="inverse", smooth=False),
    )


def test_weights_for_an_empty_region_take_the_largest_weight():
    density = LabelDensity(n_bins=20, ks=3, kernel="triangular").fit(
        np.r_[np.zeros(10), np.ones(10) * 0.05, np.ones(5)]
    )
    # The middle bins have no training target within the window: size 0 -> smallest positive.
    weights = density.weights(np.array([0.0, 0.5, 1.0]))
    assert np.isfinite(weights).all()
    assert weights[1] == pytest.approx(weights.max())


def test_effective_density_is_a_density_per_unit():
    density = small_density(kernel="triangular", ks=3)
    np.testing.assert_allclose(
        density.effective_density([0.5, 1.5, 2.5, 3.5]), np.array([3.25, 1.5, 2.5, 6.75]) / 14
    )
    wide = LabelDensity(n_bins=4, bin_range=(0, 8), kernel="triangular", ks=3).fit(Y_SMALL * 2)
    assert wide.bin_volume() == 2.0
    np.testing.assert_allclose(
        wide.effective_density([1.0, 7.0]), np.array([3.25, 6.75]) / (14 * 2)
    )


def test_shot_regions_by_training_counts():
    density = small_density(ks=1)
    regions = density.shot_regions([0.5, 1.5, 2.5, 3.5], many=5, few=2)
    # counts 4, 1, 0, 9: 4 is neither > 5 nor < 2 -> medium; 9 > 5 -> many.
    np.testing.assert_array_equal(regions, ["medium", "few", "few", "many"])
    # The benchmark thresholds: everything here is below 20.
    np.testing.assert_array_equal(density.shot_regions(Y_SMALL), ["few"] * 14)


def test_float32_labels_land_in_their_decimal_bin():
    # 4.2 is stored as 4.1999998 in float32; plain flooring would put it in bin 41.
    y = np.arange(0, 51, dtype=np.float32) / np.float32(10)
    density = LabelDensity(bin_width=0.1).fit(y)
    assert density.n_bins_ == (50,)
    assert np.floor(float(np.float32(4.2)) * 10) == 41
    np.testing.assert_array_equal(density.bin_index(y), np.r_[np.arange(50), 49])
    np.testing.assert_array_equal(density.counts_, np.r_[np.ones(49), 2])


def test_values_outside_the_training_range_go_to_the_edge_bins():
    density = small_density()
    bins = density.bin_index([-10.0, 0.0, 3.999, 4.0, 99.0])
    np.testing.assert_array_equal(bins, [0, 0, 3, 3, 3])


def test_bin_width_sets_the_number_of_bins_and_per_target_parameters():
    density = LabelDensity(bin_width=[0.5, 10.0], n_bins=3).fit(
        np.c_[[0.0, 1.0, 2.0], [0.0, 50.0, 95.0]]
    )
    assert density.n_bins_ == (4, 10)
    np.testing.assert_allclose(density.bin_edges_[0], [0, 0.5, 1, 1.5, 2])
    assert density.bin_edges_[1][-1] == 100.0


# ------------------------------------------------------------------- 2-D
def test_joint_counts_equal_a_2d_histogram_and_weights_follow_the_grid():
    rng = np.random.default_rng(0)
    y = np.c_[rng.exponential(size=300), rng.normal(size=300)]
    density = LabelDensity(n_bins=[6, 5], ks=1).fit(y)
    expected, _, _ = np.histogram2d(y[:, 0], y[:, 1], bins=density.bin_edges_)
    np.testing.assert_array_equal(density.counts_, expected)
    assert density.counts_.shape == (6, 5)
    bins = density.bin_index(y)
    assert bins.shape == (300, 2)
    sizes = np.sqrt(expected[bins[:, 0], bins[:, 1]])
    raw = 1 / sizes
    np.testing.assert_allclose(density.weights(y), raw * 300 / raw.sum())
    np.testing.assert_array_equal(
        density.flat_bin_index(y), np.ravel_multi_index(bins.T, density.n_bins_)
    )
    assert [m.n_bins_ for m in density.marginals_] == [(6,), (5,)]


def test_independent_targets_multiply_their_marginals():
    rng = np.random.default_rng(1)
    y = np.c_[rng.exponential(size=400), 10 * rng.normal(size=400)]
    density = LabelDensity(n_bins=8, joint=False).fit(y)
    first, second = density.marginals_
    # 1/(s0*s1) is proportional to w0*w1 since each marginal weight is 1/size up to a constant.
    product = first.weights(y[:, 0]) * second.weights(y[:, 1])
    np.testing.assert_allclose(density.weights(y), product * 400 / product.sum())
    bins = density.bin_index(y)
    np.testing.assert_allclose(
        density.expected_counts(y),
        first.counts_[bins[:, 0]] * second.counts_[bins[:, 1]] / 400,
    )
    np.testing.assert_allclose(density.smoothed_counts_.sum(), 400)


# -------------------------------------------------------------- properties
finite_targets = arrays(
    np.float64,
    st.integers(2, 200),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=60, deadline=None)
@given(
    y=finite_targets,
    n_bins=st.integers(1, 40),
    kernel=st.sampled_from(KERNELS),
    ks=st.sampled_from([1, 3, 5, 7, 9]),
    sigma=st.floats(0.3, 5),
    reweight=st.sampled_from(["sqrt_inv", "inverse"]),
)
def test_density_invariants(y, n_bins, kernel, ks, sigma, reweight):
    if np.ptp(y) < 1e-9:
        y = np.r_[y, y[0] + 1.0]
    density = LabelDensity(n_bins=n_bins, kernel=kernel, ks=ks, sigma=sigma).fit(y)
    assert density.counts_.sum() == len(y)
    np.testing.assert_allclose(density.smoothed_counts_.sum(), len(y), rtol=1e-9)
    assert (density.smoothed_counts_ >= 0).all()
    centers = (density.bin_edges_[0][:-1] + density.bin_edges_[0][1:]) / 2
    mass = density.effective_density(centers).sum() * density.bin_volume()
    np.testing.assert_allclose(mass, 1.0, rtol=1e-9)
    weights = density.weights(y, reweight=reweight)
    assert np.isfinite(weights).all() and (weights > 0).all()
    np.testing.assert_allclose(weights.mean(), 1.0)
    bins = density.bin_index(y)
    assert bins.min() >= 0 and bins.max() < n_bins
    assert set(np.unique(density.shot_regions(y, many=5, few=2))) <= {"many", "medium", "few"}


@settings(max_examples=30, deadline=None)
@given(y=arrays(np.float64, (50, 2), elements=st.floats(-50, 50)), joint=st.booleans())
def test_density_invariants_2d(y, joint):
    y[0], y[1] = [-51, -51], [51, 51]
    density = LabelDensity(n_bins=[7, 4], joint=joint).fit(y)
    assert density.counts_.sum() == 50
    np.testing.assert_allclose(density.smoothed_counts_.sum(), 50, rtol=1e-9)
    weights = density.weights(y)
    assert np.isfinite(weights).all() and (weights > 0).all()
    np.testing.assert_allclose(weights.mean(), 1.0)


# ------------------------------------------------------------ estimator
def test_clone_and_pickle_keep_the_density():
    import pickle

    density = small_density(kernel="laplace", sigma=1.0)
    restored = pickle.loads(pickle.dumps(density))
    np.testing.assert_array_equal(restored.weights(Y_SMALL), density.weights(Y_SMALL))
    assert clone(density).get_params() == density.get_params()
    assert not hasattr(clone(density), "counts_")


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("y", "message"),
    [
        ([1.0, np.nan, 2.0], "contains NaN"),
        ([1.0, np.inf, 2.0], "contains infinity"),
        ([], "0 sample"),
        (np.zeros((3, 3)), "3 target columns but at most 2"),
        (np.zeros((2, 2, 2)), "must be 1-D"),
        ([3.0, 3.0, 3.0], "constant"),
        ([0.0, 2.2e-311], "constant"),
        (["a", "b"], "must be numeric"),
    ],
)
def test_fit_rejects_bad_targets(y, message):
    with pytest.raises(ValueError, match=message):
        LabelDensity().fit(y)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_bins": 0}, "n_bins"),
        ({"kernel": "epanechnikov"}, "kernel"),
        ({"ks": 4}, "ks must be an odd"),
        ({"ks": True}, r"'ks' parameter of LabelDensity must be an int.*Got True"),
        ({"sigma": -1.0}, "sigma"),
        ({"bin_width": 0.0}, "bin_width"),
        ({"bin_range": (1.0, 0.0)}, "low < high"),
        ({"n_bins": [3, 4]}, "n_bins has 2 entries but y has 1"),
    ],
)
def test_fit_rejects_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        LabelDensity(**params).fit(Y_SMALL)


def test_constant_target_is_fine_with_an_explicit_range():
    density = LabelDensity(n_bins=4, bin_range=(0, 4), ks=1).fit([1.5, 1.5])
    np.testing.assert_array_equal(density.counts_, [0, 2, 0, 0])


def test_query_errors():
    with pytest.raises(NotFittedError):
        LabelDensity().bin_index([1.0])
    density = small_density()
    with pytest.raises(ValueError, match="2 target"):
        density.weights(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="0 <= few <= many"):
        density.shot_regions(Y_SMALL, many=20, few=100)
    with pytest.raises(ValueError, match="reweight must be"):
        density.weights(Y_SMALL, reweight="log")
    with pytest.raises(ValueError, match="clip must be"):
        density.weights(Y_SMALL, clip=(5, 1))
    with pytest.raises(ValueError, match="leading shape"):
        density.smooth(np.ones(7))


# ------------------------------------------------ sweep of bad inputs (issue 13)
def test_bin_counts_beyond_a_density_are_a_clear_error():
    y = np.linspace(0.0, 6.0, 40)
    # used to try to allocate 6e12 bins (MemoryError) or 8 GB of counts
    with pytest.raises(ValueError, match=r"bin_width=1e-12 over \[0, 6\] gives 6e\+12 bins"):
        LabelDensity(bin_width=1e-12).fit(y)
    with pytest.raises(ValueError, match=r"n_bins=1000000000 gives 1e\+09 bins.*10,000,000"):
        LabelDensity(n_bins=10**9).fit(y)
    with pytest.raises(ValueError, match="joint grid of 5000 x 5000 bins"):
        LabelDensity(n_bins=5000).fit(np.c_[y, y[::-1]])
    # the largest allowed grid still works: 10**7 bins of one target
    assert LabelDensity(n_bins=10**7, ks=1).fit(y).counts_.sum() == 40


def test_overflowing_ranges_and_infinite_widths_are_rejected():
    with pytest.raises(ValueError, match=r"\[-1e\+308, 1e\+308\], overflows float64"):
        LabelDensity().fit([1e308, -1e308])  # bins were NaN: "no negative elements"
    with pytest.raises(ValueError, match=r"'sigma' parameter .* range \(0.0, inf\). Got inf"):
        kernel_window("gaussian", 5, np.inf)  # was an OverflowError inside scipy


def test_weights_and_regions_reject_non_numeric_options():
    density = LabelDensity(bin_width=0.1, ks=1).fit([0.0, 0.1, 0.1, 0.2, 0.2, 0.2, 0.9])
    with pytest.raises(ValueError, match=r"clip must be \(low, high\).*got 'ab'"):
        density.weights([0.0], clip="ab")  # was a TypeError comparing int and str
    with pytest.raises(ValueError, match="Shot thresholds must satisfy 0 <= few <= many"):
        density.shot_regions([0.0], many="a", few=2)  # was a TypeError from np.isfinite
    with pytest.raises(ValueError, match="Shot thresholds must satisfy"):
        density.shot_regions([0.0], many=None, few=2)
    # numpy numbers are numbers: the hand values of the class example
    regions = density.shot_regions([0.0, 0.1, 0.2], many=np.int64(2), few=np.float32(2))
    assert regions.tolist() == ["few", "medium", "many"]
    weights = density.weights([0.0, 0.2], reweight="inverse", smooth=False, clip=np.array([2, 3]))
    # clipped counts 2 and 3 -> weights 1/2 and 1/3, scaled to mean 1: 1.2 and 0.8
    np.testing.assert_allclose(weights, [1.2, 0.8])


# ------------------------------------------- robust range and automatic bins (15.3)
def test_robust_range_drops_isolated_extremes_only():
    rng = np.random.default_rng(0)
    y = np.r_[rng.exponential(1, 3000), 150.0, -150.0]
    low, high = robust_range(y)
    assert -2 < low < 0 and 5 < high < 15
    # without isolated extremes the range is the data's
    for clean in (rng.normal(size=2000), rng.exponential(size=2000), np.arange(10.0)):
        assert robust_range(clean) == (clean.min(), clean.max())
    # quantiles that coincide (one value repeated) fall back to the data's range
    assert robust_range(np.r_[np.zeros(500), 1.0]) == (0.0, 1.0)


def test_auto_bins_resolve_the_bulk_and_the_extremes_join_the_end_bins():
    rng = np.random.default_rng(0)
    y = np.r_[rng.exponential(1, 3000), 150.0, -150.0]
    density = LabelDensity().fit(y)
    edges = density.bin_edges_[0]
    # 8 bins across the interquartile range (about 1.1 wide): width IQR / 8
    q25, q75 = np.quantile(y, [0.25, 0.75])
    assert edges[1] - edges[0] == pytest.approx((q75 - q25) / 8, rel=0.02)
    assert 50 <= density.n_bins_[0] <= 1000
    assert density.bin_index([-150.0, 150.0]).tolist() == [0, density.n_bins_[0] - 1]
    assert np.count_nonzero(density.counts_) > 40
    # a target without a wide bulk keeps 50 bins over its range, as before
    uniform = np.linspace(0, 1, 200)
    assert LabelDensity().fit(uniform).n_bins_ == (50,)
    assert LabelDensity(bin_range=None, n_bins=50).fit(y).bin_edges_[0][[0, -1]].tolist() == [
        -150.0,
        150.0,
    ]
    # two targets: at most 100 automatic bins each
    two = LabelDensity().fit(np.c_[y, rng.lognormal(3, size=len(y))])
    assert all(50 <= n <= 100 for n in two.n_bins_)


def test_auto_bins_and_robust_range_are_validated():
    with pytest.raises(ValueError, match="n_bins"):
        LabelDensity(n_bins="many").fit(Y_SMALL)
    with pytest.raises(ValueError, match="bin_range"):
        LabelDensity(bin_range="wide").fit(Y_SMALL)


def test_alpha_weights_and_the_cap_by_hand():
    density = small_density(kernel="triangular", ks=3)
    # smoothed counts [3.25, 1.5, 2.5, 6.75]; alpha=1: weights 1 / smoothed count
    raw = 1 / np.repeat([3.25, 1.5, 6.75], [4, 1, 9])
    np.testing.assert_allclose(density.weights(Y_SMALL, alpha=1.0), raw * 14 / raw.sum())
    np.testing.assert_allclose(density.weights(Y_SMALL, alpha=0.0), np.ones(14))
    # cap 1.5: the single sample of bin 1 (2.57 uncapped) is cut to 1.5, the rest rescaled
    capped = density.weights(Y_SMALL, alpha=1.0, max_weight=1.5)
    assert capped[4] == pytest.approx(1.5) and capped.mean() == pytest.approx(1.0)
    k = (14 - 1.5) / (4 / 3.25 + 9 / 6.75)
    np.testing.assert_allclose(capped[[0, 5]], [k / 3.25, k / 6.75])
    with pytest.raises(ValueError, match="max_weight must be"):
        density.weights(Y_SMALL, max_weight=0.5)
    with pytest.raises(ValueError, match="alpha must be"):
        density.weights(Y_SMALL, alpha=-1.0)


def test_binning_large_arrays_matches_rounding_then_flooring():
    rng = np.random.default_rng(0)
    y = np.round(rng.uniform(0, 5, 300_000), 1).astype(np.float32).astype(np.float64)
    density = LabelDensity(bin_width=0.1, bin_range=(0, 5)).fit(y)
    expected = np.clip(np.floor(np.round(y / 0.1, 4)), 0, 49).astype(int)
    np.testing.assert_array_equal(density.bin_index(y), expected)
