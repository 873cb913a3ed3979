import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import skew
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.utils import Bunch

from skdir.datasets import load_stsb_dir, make_imbalanced_regression
from skdir.density import LabelDensity

ALPHAS = np.logspace(-6, 2, 9)


# ------------------------------------------------------------ shapes and dtypes
@pytest.mark.parametrize("n_targets", [1, 2])
def test_sample_mode_shapes_and_dtypes(n_targets):
    X, y = make_imbalanced_regression(50, 33, n_targets=n_targets, random_state=0)
    assert X.shape == (50, 33) and X.dtype == np.float64
    assert y.shape == ((50,) if n_targets == 1 else (50, 2)) and y.dtype == np.float64
    assert np.isfinite(X).all() and np.isfinite(y).all()


@pytest.mark.parametrize("n_targets", [1, 2])
@pytest.mark.parametrize("n_fragments", [1, 3, (1, 5), (2, 2)])
def test_fragment_mode_shapes_and_dtypes(n_targets, n_fragments):
    bags, y, y_fragments = make_imbalanced_regression(
        40, 10, n_targets=n_targets, n_fragments=n_fragments, random_state=1
    )
    assert isinstance(bags, list) and isinstance(y_fragments, list)
    assert len(bags) == len(y_fragments) == 40
    assert y.shape == ((40,) if n_targets == 1 else (40, 2)) and y.dtype == np.float64
    for bag, targets in zip(bags, y_fragments, strict=True):
        assert bag.ndim == 2 and bag.shape[1] == 10 and bag.dtype == np.float64
        expected = (bag.shape[0],) if n_targets == 1 else (bag.shape[0], 2)
        assert targets.shape == expected and targets.dtype == np.float64


def test_single_sample_and_one_column_per_modality():
    X, y = make_imbalanced_regression(1, 3, n_modalities=3, random_state=0)
    assert X.shape == (1, 3) and y.shape == (1,)
    # Each one-column block normalised to unit norm is +-1.
    assert np.array_equal(np.abs(X), np.ones((1, 3)))


# ------------------------------------------------------------ determinism
def test_same_seed_same_output_different_seed_different_output():
    a = make_imbalanced_regression(30, 16, n_targets=2, random_state=7)
    b = make_imbalanced_regression(30, 16, n_targets=2, random_state=7)
    c = make_imbalanced_regression(30, 16, n_targets=2, random_state=8)
    for first, second, third in zip(a, b, c, strict=True):
        assert np.array_equal(first, second)
        assert not np.allclose(first, third)
    # A RandomState instance works like its seed.
    d = make_imbalanced_regression(30, 16, n_targets=2, random_state=np.random.RandomState(7))
    assert np.array_equal(a[0], d[0]) and np.array_equal(a[1], d[1])


def test_fragment_mode_is_deterministic():
    a = make_imbalanced_regression(20, 8, n_fragments=(1, 4), random_state=3)
    b = make_imbalanced_regression(20, 8, n_fragments=(1, 4), random_state=3)
    for first, second in zip(a[0] + a[2], b[0] + b[2], strict=True):
        assert np.array_equal(first, second)
    assert np.array_equal(a[1], b[1])


@pytest.mark.parametrize("n_fragments", [None, (1, 4)])
def test_targets_do_not_depend_on_the_embedding_shape(n_fragments):
    a = make_imbalanced_regression(40, 16, n_fragments=n_fragments, random_state=2)
    b = make_imbalanced_regression(
        40, 300, n_modalities=3, n_fragments=n_fragments, random_state=2
    )
    assert np.array_equal(a[1], b[1])
    if n_fragments is not None:
        assert all(np.array_equal(u, v) for u, v in zip(a[2], b[2], strict=True))
        assert [len(bag) for bag in a[0]] == [len(bag) for bag in b[0]]


def test_first_target_and_X_do_not_depend_on_n_targets():
    X1, y1 = make_imbalanced_regression(100, 20, n_targets=1, random_state=4)
    X2, y2 = make_imbalanced_regression(100, 20, n_targets=2, random_state=4)
    assert np.array_equal(X1, X2)
    assert np.array_equal(y1, y2[:, 0])


# ------------------------------------------------------------ fragments
@settings(max_examples=25, deadline=None)
@given(
    n_samples=st.integers(1, 30),
    low=st.integers(1, 4),
    extra=st.integers(0, 4),
    n_targets=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**31 - 1),
)
def test_bag_means_equal_sample_targets_and_sizes_in_range(n_samples, low, extra, n_targets, seed):
    high = low + extra
    bags, y, y_fragments = make_imbalanced_regression(
        n_samples, 6, n_targets=n_targets, n_fragments=(low, high), random_state=seed
    )
    sizes = np.array([bag.shape[0] for bag in bags])
    assert np.array_equal(sizes, [len(targets) for targets in y_fragments])
    assert sizes.min() >= low and sizes.max() <= high
    means = np.array([targets.mean(axis=0) for targets in y_fragments])
    np.testing.assert_allclose(means, y, rtol=1e-13, atol=1e-13)


def test_bag_sizes_cover_the_range_and_fixed_size_is_fixed():
    bags, _, _ = make_imbalanced_regression(400, 4, n_fragments=(2, 6), random_state=0)
    counts = np.bincount([len(bag) for bag in bags], minlength=7)
    assert counts[:2].sum() == 0 and (counts[2:] > 50).all()  # uniform: 80 expected each
    bags, _, _ = make_imbalanced_regression(50, 4, n_fragments=3, random_state=0)
    assert {len(bag) for bag in bags} == {3}


def test_fragment_targets_vary_with_their_fragments():
    bags, y, y_fragments = make_imbalanced_regression(
        600, 64, n_fragments=5, imbalance=0.0, random_state=0
    )
    deviations = np.concatenate([targets - targets.mean() for targets in y_fragments])
    # Fragment targets spread around the bag mean (measured sd 0.55-0.57 over seeds 0..4,
    # against a unit-sd signal) ...
    assert 0.4 < deviations.std() < 0.7
    # ... so a robust average differs from the mean (measured mean |median - mean| 0.14-0.15)
    medians = np.array([np.median(targets) for targets in y_fragments])
    assert np.abs(medians - y).mean() > 0.08
    # ... and partly with the fragment's own view: the within-bag deviations of the
    # embeddings predict those of the targets (measured R^2 0.18-0.26 over seeds 0..4).
    centred = np.vstack([bag - bag.mean(axis=0) for bag in bags])
    groups = np.repeat(np.arange(600), 5)
    r2 = cross_val_score(
        RidgeCV(alphas=ALPHAS), centred, deviations, cv=GroupKFold(3), groups=groups
    ).mean()
    assert r2 > 0.12
    # Fragments of one bag are distinct, noisy views.
    assert all(np.linalg.matrix_rank(bag) == 5 for bag in bags[:20])


def test_averaging_fragments_helps_a_model():
    bags, y, _ = make_imbalanced_regression(1000, 64, n_fragments=8, imbalance=0.5, random_state=0)
    mean_rows = np.array([bag.mean(axis=0) for bag in bags])
    first_rows = np.array([bag[0] for bag in bags])
    r2_mean = cross_val_score(RidgeCV(alphas=ALPHAS), mean_rows, y, cv=3).mean()
    r2_first = cross_val_score(RidgeCV(alphas=ALPHAS), first_rows, y, cv=3).mean()
    # Measured over seeds 0..4: 0.67-0.72 against 0.39-0.47.
    assert r2_mean > r2_first + 0.15, (r2_mean, r2_first)


# ------------------------------------------------------------ target distribution
def test_skewness_grows_with_imbalance():
    skews = [
        skew(make_imbalanced_regression(5000, 4, imbalance=level, random_state=0)[1])
        for level in (0.0, 0.5, 1.0, 2.0)
    ]
    # Measured over seeds 0..4: 0: -0.08..0.02, 0.5: 0.75..0.89, 1: 1.67..2.36, 2: 4.8..18.6;
    # seed 0: -0.02, 0.85, 2.15, 9.73.
    assert abs(skews[0]) < 0.2
    assert 0.6 < skews[1] < 1.2
    assert 1.6 < skews[2] < 2.6
    assert skews[3] > 4.5
    assert np.all(np.diff(skews) > 0.5)


def test_default_imbalance_has_a_rare_right_tail():
    _, y = make_imbalanced_regression(2000, 4, random_state=0)
    regions = LabelDensity(n_bins=30).fit(y).shot_regions(y, many=100, few=20)
    few = regions == "few"
    # Measured (seed 0): 1713 many / 251 medium / 36 few, every few-shot row above the 98th
    # percentile; over seeds 0..4: 34..44 few, all above the 97th percentile.
    assert 25 <= few.sum() <= 100
    assert (regions == "many").sum() > 1500
    assert y[few].min() > np.quantile(y, 0.95)


def test_two_targets_are_independent_and_on_different_scales():
    _, y = make_imbalanced_regression(5000, 4, n_targets=2, random_state=0)
    assert abs(np.corrcoef(y.T)[0, 1]) < 0.1
    assert skew(y[:, 0]) > 1.5 and skew(y[:, 1]) > 1.5
    assert 5 < y[:, 1].std() / y[:, 0].std() < 20
    assert y[:, 1].mean() > 40 and abs(y[:, 0].mean()) < 1


def test_noise_free_target_is_symmetric_gaussian_like_at_zero_imbalance():
    # With imbalance=0 and noise=0 the target is the unit-variance signal itself.
    _, y = make_imbalanced_regression(20000, 2, imbalance=0.0, noise=0.0, random_state=0)
    assert abs(y.mean()) < 0.03 and abs(y.std() - 1) < 0.03


# ------------------------------------------------------------ learnability
def test_target_is_learnable_but_not_linear():
    X, y = make_imbalanced_regression(1000, 128, random_state=0)
    r2 = cross_val_score(RidgeCV(alphas=ALPHAS), X, y, cv=3).mean()
    # Measured 0.52..0.62 over seeds 0..4, 0.58 for seed 0; without noise 0.60, with noise=1
    # 0.24 (seed 0). MLP/HistGradientBoosting on 3000 x 768: see the module's report.
    assert r2 > 0.5
    # Without noise a linear model still falls clearly short: the signal is nonlinear.
    X, y = make_imbalanced_regression(1000, 128, noise=0.0, random_state=0)
    assert cross_val_score(RidgeCV(alphas=ALPHAS), X, y, cv=3).mean() < 0.85
    # Much more noise makes it much harder.
    X, y = make_imbalanced_regression(1000, 128, noise=1.0, random_state=0)
    assert cross_val_score(RidgeCV(alphas=ALPHAS), X, y, cv=3).mean() < r2 - 0.15


# ------------------------------------------------------------ embedding structure
def test_blocks_are_unit_norm_and_correlated_within_modality():
    X, _ = make_imbalanced_regression(2000, 120, n_modalities=3, random_state=0)
    blocks = np.split(X, [40, 80], axis=1)
    for block in blocks:
        np.testing.assert_allclose(np.linalg.norm(block, axis=1), 1.0, rtol=1e-12)
    corr = np.abs(np.corrcoef(X.T))
    within = np.mean(
        [corr[i : i + 40, i : i + 40][~np.eye(40, dtype=bool)].mean() for i in (0, 40, 80)]
    )
    across = corr[:40, 40:].mean()
    # Independent columns would give mean |corr| of about 0.018 at n=2000.
    # Measured over seeds 0..4: within 0.124-0.131, across 0.066-0.070; top-20 share 0.84.
    assert within > 0.1 and within > 1.5 * across, (within, across)
    # Low rank: 20 latent factors per block; the top 20 components carry most variance.
    singular = np.linalg.svd(blocks[0] - blocks[0].mean(axis=0), compute_uv=False)
    assert (singular[:20] ** 2).sum() / (singular**2).sum() > 0.6


def test_uneven_modality_widths():
    X, _ = make_imbalanced_regression(5, 10, n_modalities=3, random_state=0)
    for block in np.split(X, [4, 7], axis=1):  # widths 4, 3, 3
        np.testing.assert_allclose(np.linalg.norm(block, axis=1), 1.0, rtol=1e-12)


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_samples": 0}, r"'n_samples' parameter .* an int in the range \[1, inf\)"),
        ({"n_samples": 2.5}, r"'n_samples' parameter .* an int in the range \[1, inf\)"),
        ({"n_features": 0}, r"'n_features' parameter .* an int in the range \[1, inf\)"),
        ({"n_features": 2, "n_modalities": 3}, "smaller than n_modalities"),
        ({"n_modalities": 0}, r"'n_modalities' parameter .* an int in the range \[1, inf\)"),
        ({"n_targets": 3}, r"'n_targets' parameter .* an int in the range \[1, 2\]"),
        ({"n_targets": True}, r"'n_targets' parameter .* \[1, 2\]. Got True"),
        ({"n_targets": 1.0}, r"'n_targets' parameter .* \[1, 2\]. Got 1.0"),
        ({"imbalance": -0.1}, r"'imbalance' parameter .* a float in the range \[0.0, inf\)"),
        ({"imbalance": np.inf}, r"'imbalance' parameter .* a float in the range \[0.0, inf\)"),
        ({"imbalance": "high"}, r"'imbalance' parameter .* a float in the range \[0.0, inf\)"),
        ({"noise": -1}, r"'noise' parameter .* a float in the range \[0.0, inf\)"),
        ({"noise": np.nan}, r"'noise' parameter .* a float in the range \[0.0, inf\)"),
        ({"n_fragments": 0}, r"'n_fragments' parameter .* an int in the range \[1, inf\)"),
        ({"n_fragments": (3, 2)}, "min <= max"),
        ({"n_fragments": (0, 2)}, "smallest bag size"),
        ({"n_fragments": (1, 2, 3)}, "pair \\(min, max\\)"),
        (
            {"n_fragments": 2.0},
            r"'n_fragments' parameter .* 'tuple', an instance of 'list' or None. Got 2.0",
        ),
        (
            {"n_fragments": "3"},
            r"'n_fragments' parameter .* 'tuple', an instance of 'list' or None. Got '3'",
        ),
        ({"random_state": "seed"}, "'random_state' parameter of make_imbalanced_regression"),
    ],
)
def test_bad_parameters_raise_clear_errors(params, message):
    with pytest.raises(ValueError, match=message):
        make_imbalanced_regression(**{"n_samples": 10, "n_features": 8, **params})


# ------------------------------------------------------------ load_stsb_dir
def _fake_archive(folder, **overrides):
    rng = np.random.RandomState(0)
    arrays = {}
    for split, n in (("train", 6), ("val", 4), ("test", 3)):
        arrays[f"X_{split}"] = rng.standard_normal((n, 768)).astype(np.float16)
        arrays[f"y_{split}"] = rng.uniform(0, 5, n).astype(np.float32)
    arrays["y_train"][:3] = np.float32([4.2, 0.143, 3.71428571428571])
    arrays.update(overrides)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    path = folder / "stsb_dir_minilm.npz"
    np.savez_compressed(path, **arrays)
    return path, arrays


def test_load_stsb_dir_from_file_and_folder(tmp_path):
    path, arrays = _fake_archive(tmp_path)
    for where in (path, tmp_path, str(tmp_path)):
        data = load_stsb_dir(where)
        assert isinstance(data, Bunch)
        for split in ("train", "val", "test"):
            X, y = data[f"X_{split}"], data[f"y_{split}"]
            assert X.dtype == np.float32 and y.dtype == np.float64
            assert np.array_equal(X, arrays[f"X_{split}"].astype(np.float32))
            # Every score reads back to the stored float32 ...
            assert np.array_equal(y.astype(np.float32), arrays[f"y_{split}"])
    # ... as its shortest decimal: 4.2 stored as 4.1999998 comes back as 4.2.
    assert np.float64(np.float32(4.2)) != 4.2
    assert data.y_train[0] == 4.2 and data.y_train[1] == 0.143
    assert abs(data.y_train[2] - 3.71428571428571) < 5e-7
    assert data.feature_names.shape == (768,)
    assert list(data.feature_names[[0, 383, 384, 767]]) == ["s1_0", "s1_383", "s2_0", "s2_383"]
    assert data.filename == str(path)
    assert "STS-B-DIR" in data.DESCR and "train 6 pairs" in data.DESCR


def test_load_stsb_dir_missing_file_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape("stsb_dir_minilm.npz")) as info:
        load_stsb_dir(tmp_path)
    assert "does not download" in str(info.value)
    with pytest.raises(FileNotFoundError, match=re.escape("stsb_dir_minilm.npz")):
        load_stsb_dir(tmp_path / "elsewhere.npz")


def test_load_stsb_dir_missing_keys(tmp_path):
    _fake_archive(tmp_path, y_val=None, X_test=None)
    with pytest.raises(ValueError, match="lacks the array\\(s\\) y_val, X_test"):
        load_stsb_dir(tmp_path)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"X_val": np.zeros((4, 767), np.float16)}, "even number of columns"),
        ({"X_test": np.zeros((3, 10), np.float16)}, "same embedding"),
        ({"y_train": np.zeros(5, np.float32)}, "one score per row"),
        ({"y_test": np.array([1.0, np.nan, 2.0], np.float32)}, "finite numbers"),
    ],
)
def test_load_stsb_dir_inconsistent_arrays(tmp_path, overrides, message):
    _fake_archive(tmp_path, **overrides)
    with pytest.raises(ValueError, match=message):
        load_stsb_dir(tmp_path)


def test_load_stsb_dir_not_an_archive(tmp_path):
    (tmp_path / "stsb_dir_minilm.npz").write_text("not a zip file")
    with pytest.raises(ValueError, match="Could not read"):
        load_stsb_dir(tmp_path)


def test_load_stsb_dir_path_must_be_a_path():
    with pytest.raises(ValueError, match=r"'path' parameter of load_stsb_dir must be .* Got 3"):
        load_stsb_dir(3)


# ------------------------------------------------------ make_long_tail_regression
def test_long_tail_target_spans_two_orders_with_rare_predictable_extremes():
    from sklearn.ensemble import HistGradientBoostingRegressor

    from skdir.datasets import make_long_tail_regression

    X, y = make_long_tail_regression(3000, 10, outlier_fraction=0.02, random_state=0)
    assert X.shape == (3000, 10) and y.shape == (3000,) and np.all(y > 0)
    q01, q50, q99 = np.quantile(y, [0.01, 0.5, 0.99])
    assert q99 / q01 > 100 and 0.8 < q50 < 1.25
    assert np.sum(y > 30 * q50) > 10  # the extremes: 60 samples about 20x the bulk
    again, _ = make_long_tail_regression(3000, 10, random_state=0)
    np.testing.assert_array_equal(X, again)
    # the features predict the target, extremes included (log scale, held-out half)
    model = HistGradientBoostingRegressor(random_state=0).fit(X[:1500], np.log(y[:1500]))
    residual = np.log(y[1500:]) - model.predict(X[1500:])
    assert np.std(residual) < 0.5 * np.std(np.log(y[1500:]))
    extremes = y[1500:] > np.quantile(y, 0.98)
    assert np.mean(np.abs(residual[extremes])) < 1.0
    _, none = make_long_tail_regression(500, 3, outlier_fraction=0.0, random_state=1)
    assert none.max() < 30


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_features": 0}, "n_features"),
        ({"outlier_fraction": 0.6}, "outlier_fraction"),
        ({"outlier_fraction": -0.1}, "outlier_fraction"),
        ({"noise": -1.0}, "noise"),
        ({"n_samples": True}, "n_samples"),
    ],
)
def test_long_tail_rejects_bad_parameters(params, name):
    from skdir.datasets import make_long_tail_regression

    with pytest.raises(ValueError, match=name):
        make_long_tail_regression(**params)


def test_modality_blocks_of_given_sizes():
    X, y = make_imbalanced_regression(300, [384, 512], random_state=0)  # text + image widths
    assert X.shape == (300, 896)
    for block in np.split(X, [384], axis=1):
        np.testing.assert_allclose(np.linalg.norm(block, axis=1), 1.0, rtol=1e-12)
    # The blocks see different specific factors: correlation within the 384-block is
    # higher than across the two blocks (as for equal widths).
    corr = np.abs(np.corrcoef(X[:, ::16].T))
    k = 384 // 16
    within = corr[:k, :k][~np.eye(k, dtype=bool)].mean()
    assert within > 1.5 * corr[:k, k:].mean()
    # The targets do not depend on the widths; equal listed widths are the int form.
    np.testing.assert_array_equal(y, make_imbalanced_regression(300, 16, random_state=0)[1])
    X_int, _ = make_imbalanced_regression(50, 768, random_state=3)
    X_list, _ = make_imbalanced_regression(50, (384, 384), random_state=3)
    np.testing.assert_array_equal(X_int, X_list)
    X3, _ = make_imbalanced_regression(20, [2, 5, 3], random_state=0)  # three modalities
    for block in np.split(X3, [2, 7], axis=1):
        np.testing.assert_allclose(np.linalg.norm(block, axis=1), 1.0, rtol=1e-12)
    bags, _, _ = make_imbalanced_regression(4, [3, 5], n_fragments=2, random_state=0)
    assert [bag.shape for bag in bags] == [(2, 8)] * 4
    np.testing.assert_allclose(np.linalg.norm(bags[0][:, 3:], axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize(
    ("n_features", "n_modalities", "message"),
    [
        ([384, 512], 3, r"lists 2 block widths \[384, 512\] but n_modalities=3"),
        ([384, 0], None, r"n_features\[1\] \(the width of block 1\) must be an integer >= 1"),
        ([384, 2.5], None, r"n_features\[1\] .* must be an integer >= 1, got 2.5"),
        ([], None, "empty list"),
    ],
)
def test_bad_block_sizes(n_features, n_modalities, message):
    with pytest.raises(ValueError, match=message):
        make_imbalanced_regression(10, n_features, n_modalities=n_modalities)
