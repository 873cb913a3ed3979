"""Relevance phi, medcouple, PCHIP control points and rare segments: hand values."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skdir.density import LabelDensity
from skdir.resampling import Relevance, medcouple, pchip_relevance, rare_segments


def smoothstep(t):
    return 3 * t**2 - 2 * t**3


def naive_medcouple(values):
    """O(n^2) medcouple straight from the definition (Brys et al. 2004)."""
    x = np.sort(np.asarray(values, dtype=float))
    m = np.median(x)
    kernel = []
    for a in x[x >= m]:
        for b in x[x <= m]:
            if a == b == m:
                continue
            kernel.append(((a - m) - (m - b)) / (a - b))
    k = int(np.sum(x == m))
    kernel += [-1.0] * (k * (k - 1) // 2) + [0.0] * k + [1.0] * (k * (k - 1) // 2)
    return float(np.median(kernel))


# ------------------------------------------------------------------ box plot
def test_box_control_points_by_hand_high_tail():
    # R: fivenum(c(1:9, 30)) = 1, 3, 5.5, 8, 30 -> IQR 5, upper fence 15.5,
    # adjacent value 9 (30 is beyond); no low outlier -> low end (1, 0).
    y = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 30.0])
    rel = Relevance().fit(y)
    np.testing.assert_array_equal(rel.control_points_[0], [[1, 0, 0], [5.5, 0, 0], [9, 1, 0]])
    # smoothstep between the median and the adjacent value, constant beyond
    t = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(rel.phi(5.5 + t * 3.5), smoothstep(t))
    np.testing.assert_allclose(rel.phi([0.0, 1.0, 3.0, 30.0, 100.0]), [0, 0, 0, 1, 1])
    assert rel.phi([6.375])[0] == pytest.approx(0.15625)  # t = 1/4: 3/16 - 2/64


def test_box_both_tails_and_extremes_option():
    y = np.array([-40.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 50])
    # fivenum: n=11 -> 1, 3.5? R: fivenum(c(-40,1:9,50)) = -40, 2.5, 5, 7.5, 50
    both = Relevance(extremes="both").fit(y)
    np.testing.assert_array_equal(both.control_points_[0], [[1, 1, 0], [5, 0, 0], [9, 1, 0]])
    high = Relevance(extremes="high").fit(y)
    np.testing.assert_array_equal(high.control_points_[0], [[-40, 0, 0], [5, 0, 0], [9, 1, 0]])
    low = Relevance(extremes="low").fit(y)
    np.testing.assert_array_equal(low.control_points_[0], [[1, 1, 0], [5, 0, 0], [50, 0, 0]])
    # coef 10 pushes the whiskers past every observation: no extremes at all
    assert np.all(Relevance(coef=10).fit(y).phi(y) == 0)


def test_rare_iff_beyond_midpoint_of_median_and_whisker():
    rng = np.random.RandomState(0)
    y = np.exp(rng.normal(size=2000))
    rel = Relevance(extremes="high").fit(y)
    (_, _, _), (m, _, _), (a, _, _) = rel.control_points_[0]
    rare = rel.phi(y) >= 0.5
    np.testing.assert_array_equal(rare, y >= (m + a) / 2)
    # rel_thres 0.8 -> t >= 0.7129 (root of 3t^2 - 2t^3 = 0.8)
    t = (y - m) / (a - m)
    inside = np.abs(t - 0.7129) > 1e-3
    np.testing.assert_array_equal((rel.phi(y) >= 0.8)[inside], (t >= 0.7129)[inside])


def test_adjusted_box_fences_use_the_medcouple():
    y = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 40.0])
    rel = Relevance("adjusted_box").fit(y)
    mc = naive_medcouple(y)
    assert mc > 0
    q1, median, q3 = 3.5, 6.5, 9.5  # R: fivenum -> 1, 3.5, 6.5, 9.5, 40
    iqr = q3 - q1
    expected = [
        [q1 - 1.5 * np.exp(-4 * mc) * iqr, 1, 0],
        [median, 0, 0],
        [q3 + 1.5 * np.exp(3 * mc) * iqr, 1, 0],
    ]
    np.testing.assert_allclose(rel.control_points_[0], expected, rtol=1e-9)
    # right skew moves the upper fence out, relative to the plain box plot
    assert expected[2][0] > q3 + 1.5 * iqr


def test_adjusted_box_negative_medcouple_uses_swapped_exponents():
    y = -np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 40.0])
    mc = naive_medcouple(y)
    assert mc < 0
    q1, q3 = -9.5, -3.5
    iqr = q3 - q1
    points = Relevance("adjusted_box").fit(y).control_points_[0]
    np.testing.assert_allclose(points[0, 0], q1 - 1.5 * np.exp(-3 * mc) * iqr)
    np.testing.assert_allclose(points[2, 0], q3 + 1.5 * np.exp(4 * mc) * iqr)


# ---------------------------------------------------------------- medcouple
def test_medcouple_hand_values():
    # [1, 2, 3, 4, 10]: m = 3; kernel values -1, -1, -1/3, 0, 0, 5/9, 3/4, 1, 1 -> 0
    assert medcouple([1, 2, 3, 4, 10]) == pytest.approx(0.0, abs=1e-12)
    assert medcouple([1, 2, 3, 4, 5]) == pytest.approx(0.0, abs=1e-12)
    # [1, 2, 3, 4, 5, 6, 20, 40]: even n, m = 4.5
    assert medcouple([1, 2, 3, 4, 5, 6, 20, 40]) == pytest.approx(
        naive_medcouple([1, 2, 3, 4, 5, 6, 20, 40]), abs=1e-11
    )
    rng = np.random.RandomState(1)
    assert medcouple(np.exp(rng.normal(size=3000))) > 0.2
    assert medcouple(-np.exp(rng.normal(size=3000))) < -0.2


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.integers(min_value=-5, max_value=5) | st.floats(-100, 100, allow_nan=False),
        min_size=1,
        max_size=30,
    )
)
def test_medcouple_matches_the_definition(values):
    assert medcouple(values) == pytest.approx(naive_medcouple(values), abs=1e-10)


def test_medcouple_is_fast_on_large_data():
    rng = np.random.RandomState(0)
    value = medcouple(rng.normal(size=200_000))
    assert abs(value) < 0.01


# ------------------------------------------------------------ control points
def test_control_points_with_slopes_give_the_hermite_cubic():
    # slopes 1 at both ends of (0,0)-(1,1): the Hermite cubic is the identity
    y = np.linspace(0, 1, 11)
    np.testing.assert_allclose(pchip_relevance(y, [[0, 0, 1], [1, 1, 1]]), y, atol=1e-12)
    # zero slopes: smoothstep
    np.testing.assert_allclose(pchip_relevance(y, [[0, 0, 0], [1, 1, 0]]), smoothstep(y))


def test_two_column_control_points_are_monotone_between_points():
    points = [[0, 0], [1, 0.2], [2, 1], [3, 0]]
    y = np.linspace(-1, 4, 501)
    phi = pchip_relevance(y, points)
    np.testing.assert_allclose(pchip_relevance([0, 1, 2, 3], points), [0, 0.2, 1, 0])
    rising, falling = phi[(y >= 0) & (y <= 2)], phi[(y >= 2) & (y <= 3)]
    assert np.all(np.diff(rising) >= -1e-12) and np.all(np.diff(falling) <= 1e-12)
    assert phi.min() >= 0 and phi.max() <= 1
    # below the first point phi is the first point's relevance (0), not 1 as in smogn
    assert phi[0] == 0


def test_user_control_points_in_relevance():
    rel = Relevance("control_points", control_points=[[0, 1], [5, 0], [10, 1]]).fit([1.0, 2, 9])
    np.testing.assert_allclose(rel.phi([0, 2.5, 5, 7.5, 10]), [1, 0.5, 0, 0.5, 1])


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([[0, 0], [0, 1]], "strictly increasing"),
        ([[0, 0], [1, 1.5]], r"\[0, 1\]"),
        ([[0, 0, 0, 0], [1, 1, 0, 0]], "shape"),
        ([[0, 0]], "shape"),
        ([[0, np.nan], [1, 1]], "NaN"),
    ],
)
def test_bad_control_points(points, message):
    with pytest.raises(ValueError, match=message):
        pchip_relevance([0.5], points)


def test_control_points_method_needs_points():
    with pytest.raises(ValueError, match="needs control_points"):
        Relevance("control_points").fit([1.0, 2.0, 3.0])


# ------------------------------------------------------------------ density
def test_density_relevance_covers_a_bounded_target():
    rng = np.random.RandomState(0)
    y = 5 * rng.beta(2, 1.5, size=3000)  # bounded, skewed score without box-plot outliers
    assert np.all(Relevance().fit(y).phi(y) == 0)
    rel = Relevance("density").fit(y)
    density = LabelDensity().fit(y)
    expected = 1 - density.smoothed_counts_[density.bin_index(y)] / density.smoothed_counts_.max()
    np.testing.assert_allclose(rel.phi(y), expected)
    phi = rel.phi(y)
    assert phi.min() == 0
    # rarest where the density is lowest: the low end of a beta(2, 1.5)
    assert phi[np.argmin(y)] > 0.8
    assert phi[np.argmin(y)] > phi[np.argmax(y)]
    assert np.mean(phi >= 0.5) > 0.05


def test_density_relevance_uses_the_given_density():
    y = np.arange(100.0)
    rel = Relevance("density", density=LabelDensity(n_bins=10, ks=1)).fit(np.r_[y, y[:10]])
    # first bin holds 20 targets, the others 10: phi = 1 - 10/20 elsewhere
    np.testing.assert_allclose(rel.phi([5.0, 55.0]), [0.0, 0.5])


# ---------------------------------------------------------------- 2-D targets
def test_two_targets_phi_is_the_maximum_of_per_target_relevances():
    rng = np.random.RandomState(0)
    y = np.column_stack([np.exp(rng.normal(size=500)), -np.exp(rng.normal(size=500))])
    rel = Relevance().fit(y)
    per_target = rel.phi_per_target(y)
    for k in range(2):
        np.testing.assert_allclose(per_target[:, k], Relevance().fit(y[:, k]).phi(y[:, k]))
    np.testing.assert_allclose(rel.phi(y), per_target.max(axis=1))
    with pytest.raises(ValueError, match="fitted on 2"):
        rel.phi(y[:, 0])


# ---------------------------------------------------------------- segments
def test_rare_segments_are_contiguous_runs_in_sorted_order():
    y = np.array([0.0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    phi = np.array([1, 1, 0, 0, 0.7, 0, 0, 0, 0.5, 0.9])
    segment, is_rare = rare_segments(y[::-1], phi[::-1], 0.5)
    np.testing.assert_array_equal(segment[::-1], [0, 0, 1, 1, 2, 3, 3, 3, 4, 4])
    np.testing.assert_array_equal(is_rare, [True, False, True, False, True])


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, np.nan, True, "0.5"])
def test_rel_thres_outside_unit_interval(bad):
    with pytest.raises(
        ValueError,
        match=r"'rel_thres' parameter of rare_segments must be a float in the range \(0.0, 1.0\]",
    ):
        rare_segments([1.0, 2.0], [0.0, 1.0], bad)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        ([1.0, 1.0, 1.0], "constant"),
        ([1.0, np.nan, 2.0], "NaN"),
        (np.ones((4, 3)) * np.arange(4)[:, None], "3 target columns"),
    ],
)
def test_relevance_bad_targets(y, message):
    with pytest.raises(ValueError, match=message):
        Relevance().fit(y)
