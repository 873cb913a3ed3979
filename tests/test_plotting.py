import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skdir.density import LabelDensity  # noqa: E402
from skdir.plotting import (  # noqa: E402
    plot_label_density,
    plot_per_bin_error,
    plot_predicted_vs_true,
    plot_sample_weights,
)
from skdir.weighting import LDSWeighter  # noqa: E402

Y_SMALL = np.repeat([0.5, 1.5, 3.5], [4, 1, 9])  # unit bins over [0, 4]: counts 4, 1, 0, 9
RNG = np.random.default_rng(0)
Y_2D = np.column_stack([RNG.exponential(size=200), RNG.normal(size=200)])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _heights(container):
    return [float(bar.get_height()) for bar in container]


# ------------------------------------------------------------- label density
def test_label_density_bars_are_counts_and_line_is_the_smoothed_density():
    density = LabelDensity(n_bins=4, bin_range=(0, 4), kernel="triangular", ks=3)
    ax = plot_label_density(Y_SMALL, density=density)
    assert _heights(ax.containers[0]) == [4.0, 1.0, 0.0, 9.0]
    assert [bar.get_x() + bar.get_width() / 2 for bar in ax.containers[0]] == pytest.approx(
        [0.5, 1.5, 2.5, 3.5]
    )
    # Sum-normalised window [1/4, 1/2, 1/4] over [4, 1, 0, 9] with reflected edges
    # (4 | 4 1 0 9 | 9): 1 + 2 + 0.25, 1 + 0.5 + 0, 0.25 + 0 + 2.25, 0 + 4.5 + 2.25.
    expected = [3.25, 1.5, 2.5, 6.75]
    line = ax.lines[0]
    assert line.get_xdata() == pytest.approx([0.5, 1.5, 2.5, 3.5])
    assert line.get_ydata() == pytest.approx(expected)
    assert sum(expected) == pytest.approx(14)  # the smoothing keeps the mass


def test_label_density_with_a_training_density_counts_the_given_targets():
    train = LabelDensity(n_bins=4, bin_range=(0, 4)).fit(Y_SMALL)
    test = np.array([0.2, 2.5, 2.7, 3.9])
    ax = plot_label_density(test, density=train)
    assert _heights(ax.containers[0]) == [1.0, 0.0, 2.0, 1.0]
    # The smoothed training density, rescaled from 14 training to 4 test samples.
    assert ax.lines[0].get_ydata() == pytest.approx(train.smoothed_counts_ * 4 / 14)
    assert plot_label_density(Y_SMALL).containers[0].datavalues.sum() == 14  # default fit


@pytest.mark.parametrize("joint", [True, False])
def test_label_density_two_targets_heat_map(joint):
    density = LabelDensity(n_bins=6, joint=joint).fit(Y_2D)
    ax = plot_label_density(Y_2D, density=density)
    mesh = ax.collections[0]
    assert np.asarray(mesh.get_array()).reshape(6, 6) == pytest.approx(density.smoothed_counts_.T)
    assert ax.get_xlim() == pytest.approx((density.bin_edges_[0][0], density.bin_edges_[0][-1]))
    assert ax.get_title().startswith("joint" if joint else "product")


# ------------------------------------------------------------ sample weights
def test_sample_weights_scatter_holds_the_weights():
    weights = LDSWeighter(n_bins=4, ks=1).fit_transform(Y_SMALL)
    ax = plot_sample_weights(Y_SMALL, weights)
    offsets = np.asarray(ax.collections[0].get_offsets())
    assert offsets[:, 0] == pytest.approx(Y_SMALL)
    assert offsets[:, 1] == pytest.approx(weights)
    assert ax.lines[0].get_ydata() == pytest.approx([1.0, 1.0])  # the mean-1 reference


def test_sample_weights_two_targets_are_colours():
    weights = LDSWeighter(n_bins=5).fit_transform(Y_2D)
    _, ax = plt.subplots()
    assert plot_sample_weights(Y_2D, weights, ax=ax) is ax
    points = ax.collections[0]
    assert np.asarray(points.get_offsets()) == pytest.approx(Y_2D)
    assert np.asarray(points.get_array()) == pytest.approx(weights)


def test_sample_weights_bad_input():
    with pytest.raises(ValueError, match="one weight per sample"):
        plot_sample_weights(Y_SMALL, np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        plot_sample_weights(Y_SMALL, -np.ones(len(Y_SMALL)))


# ------------------------------------------------------------- per-bin error
def test_per_bin_error_line_values_by_hand():
    y_true = np.array([0.1, 0.2, 1.5, 3.2, 3.8])
    y_pred = np.array([0.3, 0.2, 2.5, 3.2, 2.8])  # errors 0.2, 0, 1, 0, 1
    train = LabelDensity(n_bins=4, bin_range=(0, 4), ks=1).fit(Y_SMALL)
    ax = plot_per_bin_error(y_true, y_pred, label_density=train)
    line = ax.lines[0]
    assert line.get_xdata() == pytest.approx([0.5, 1.5, 3.5])  # bin 2 has no test sample
    assert line.get_ydata() == pytest.approx([0.1, 1.0, 0.5])
    twin = next(other for other in ax.figure.axes if other is not ax)
    assert _heights(twin.containers[0]) == [4.0, 1.0, 0.0, 9.0]  # training counts
    mse = plot_per_bin_error(y_true, y_pred, y_train=Y_SMALL, metric="mse", n_bins=4)
    # bins of y_train's range [0.5, 3.5]: width 0.75
    bins = np.clip(np.floor((y_true - 0.5) / 0.75), 0, 3).astype(int)
    squared = (y_true - y_pred) ** 2
    expected = [squared[bins == b].mean() for b in np.unique(bins)]
    assert mse.lines[0].get_ydata() == pytest.approx(expected)


def test_per_bin_error_without_training_targets_has_no_count_bars():
    ax = plot_per_bin_error([0.0, 0.2, 1.0], [0.5, 0.2, 2.0], n_bins=2)
    assert ax.lines[0].get_ydata() == pytest.approx([0.25, 1.0])
    assert len(ax.figure.axes) == 1


def test_per_bin_error_overlays_models_with_labels_colours_and_one_set_of_bars():
    _, ax = plt.subplots()
    for m, shift in enumerate([0.0, 0.5]):
        plot_per_bin_error(
            Y_SMALL,
            Y_SMALL + shift,
            y_train=Y_SMALL,
            ax=ax,
            label=f"model {m}",
            color=f"C{m}",
            show_counts=m == 0,
        )
    assert [line.get_label() for line in ax.lines] == ["model 0", "model 1"]
    assert ax.lines[0].get_color() != ax.lines[1].get_color()
    assert ax.lines[1].get_ydata() == pytest.approx(0.5)
    assert len(ax.figure.axes) == 2  # one twin axis with the count bars, not two
    texts = _legend_texts(ax)  # one legend collects the lines of every call
    assert texts[:2] == ["model 0", "model 1"]
    assert sorted(texts[2:]) == ["few-shot bins (< 20 training)", "training samples per bin"]
    twin = next(other for other in ax.figure.axes if other is not ax)
    assert len([p for p in twin.patches if p.get_label().startswith("few-shot")]) == 1
    with pytest.raises(ValueError, match="show_counts=True needs the training targets"):
        plot_per_bin_error([0.0, 1.0], [0.0, 1.0], show_counts=True)


def test_per_bin_error_two_targets_returns_two_axes():
    y_pred = Y_2D + RNG.normal(scale=0.3, size=Y_2D.shape)
    density = LabelDensity(n_bins=5, ks=1).fit(Y_2D)
    axes = plot_per_bin_error(Y_2D, y_pred, label_density=density)
    assert isinstance(axes, np.ndarray) and axes.shape == (2,)
    for k, ax in enumerate(axes):
        marginal = density.marginals_[k]
        bins = marginal.bin_index(Y_2D[:, k])
        errors = np.abs(Y_2D[:, k] - y_pred[:, k])
        expected = [errors[bins == b].mean() for b in np.unique(bins)]
        assert ax.lines[0].get_ydata() == pytest.approx(expected)
    _, given = plt.subplots(1, 2)
    assert list(plot_per_bin_error(Y_2D, y_pred, ax=given)) == list(given)


def test_per_bin_error_bad_input():
    with pytest.raises(ValueError, match="metric"):
        plot_per_bin_error([1.0, 2.0], [1.0, 2.0], metric="r2")
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="one Axes per target"):
        plot_per_bin_error(Y_2D, Y_2D, ax=ax)
    with pytest.raises(ValueError, match="different shapes"):
        plot_per_bin_error([1.0, 2.0], [1.0, 2.0, 3.0])


# ------------------------------------------------------ predicted vs true
def test_predicted_vs_true():
    y_true = np.array([1.0, 2.0, 3.0])
    y_pred = np.array([1.5, 2.0, 0.5])
    ax = plot_predicted_vs_true(y_true, y_pred)
    assert np.asarray(ax.collections[0].get_offsets()) == pytest.approx(
        np.column_stack([y_true, y_pred])
    )
    assert ax.lines[0].get_xdata() == pytest.approx([0.5, 3.0])
    assert ax.lines[0].get_ydata() == pytest.approx([0.5, 3.0])
    axes = plot_predicted_vs_true(Y_2D, Y_2D * 2)
    assert axes.shape == (2,)
    assert np.asarray(axes[1].collections[0].get_offsets())[:, 1] == pytest.approx(2 * Y_2D[:, 1])


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"skdir\[plot\]"):
        plot_predicted_vs_true([1.0, 2.0], [1.0, 2.0])


# ------------------------------------------ target names, regions, legends, limits
def _legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_every_plot_takes_target_names():
    y_pred = Y_2D + 0.1
    names = ["price", "rating"]
    ax = plot_label_density(Y_2D, density=LabelDensity(n_bins=6), target_names=names)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("price", "rating")
    ax = plot_label_density(Y_SMALL, target_names=["price"])
    assert ax.get_xlabel() == "price"
    ax = plot_sample_weights(Y_2D, np.ones(len(Y_2D)), target_names=names)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("price", "rating")
    assert plot_sample_weights(Y_SMALL, np.ones(14), target_names="price").get_xlabel() == "price"
    axes = plot_per_bin_error(Y_2D, y_pred, target_names=names)
    assert [a.get_xlabel() for a in axes] == names
    axes = plot_predicted_vs_true(Y_2D, y_pred, target_names=names)
    assert [a.get_xlabel() for a in axes] == ["true price", "true rating"]
    assert [a.get_ylabel() for a in axes] == ["predicted price", "predicted rating"]
    with pytest.raises(ValueError, match=r"target_names has 1 name\(s\) but y_true has 2"):
        plot_predicted_vs_true(Y_2D, y_pred, target_names=["price"])


def test_label_density_shades_the_shot_regions_and_draws_the_thresholds():
    # counts 4, 1, 0, 9 in unit bins over [0, 4]; few=2, many=5: bin 0 medium, bins 1-2
    # few, bin 3 many
    density = LabelDensity(n_bins=4, bin_range=(0, 4), ks=1).fit(Y_SMALL)
    ax = plot_label_density(Y_SMALL, density=density, many=5, few=2)
    few = [p for p in ax.patches if p.get_label().startswith("few-shot")]
    medium = [p for p in ax.patches if p.get_label().startswith("medium-shot")]
    assert len(few) == len(medium) == 1  # one span per run of neighbouring bins
    assert (few[0].get_x(), few[0].get_x() + few[0].get_width()) == pytest.approx((1.0, 3.0))
    assert (medium[0].get_x(), medium[0].get_width()) == pytest.approx((0.0, 1.0))
    assert sorted(line.get_ydata()[0] for line in ax.lines[1:]) == pytest.approx([2.0, 5.0])
    assert "shot thresholds (2, 5)" in _legend_texts(ax)
    # Other targets against the training density: thresholds rescaled like the smoothed
    # line (4 of 14 samples); thresholds above every bar are left out.
    test = plot_label_density([0.2, 2.5, 2.7, 3.9], density=density, many=5, few=2)
    levels = sorted(line.get_ydata()[0] for line in test.lines[1:])
    assert levels == pytest.approx([2 * 4 / 14, 5 * 4 / 14])
    assert len(plot_label_density(Y_SMALL, density=density).lines) == 1  # 20, 100 > 9
    bare = plot_label_density(Y_SMALL, density=density, show_regions=False, many=5, few=2)
    assert len(bare.lines) == 1 and len(bare.patches) == 4  # the four bars only
    with pytest.raises(ValueError, match="0 <= few <= many"):
        plot_label_density(Y_SMALL, density=density, many=2, few=5)


def test_label_density_two_targets_outlines_the_few_shot_cells():
    density = LabelDensity(n_bins=6).fit(Y_2D)
    ax = plot_label_density(Y_2D, density=density, few=5, many=20)
    assert len(ax.collections) == 3  # the heat map and the two contour sets
    assert "few-shot below 5" in _legend_texts(ax)
    assert len(plot_label_density(Y_2D, density=density, show_regions=False).collections) == 1


def test_label_density_axis_is_not_stretched_by_one_outlier():
    y = np.r_[np.random.default_rng(0).exponential(size=2000), 150.0]
    ax = plot_label_density(y, density=LabelDensity(bin_range=None))  # bins run to 150
    low, high = ax.get_xlim()
    assert high < 15 and low < 0.01  # the robust range (up to about 11), not 150
    assert "1 above" in _legend_texts(ax)[-1] and "max 150" in _legend_texts(ax)[-1]
    assert _legend_texts(ax)[-1].endswith("beyond the axis")
    robust_bins = plot_label_density(y)  # the default robust bins hold it in the end bin
    assert _legend_texts(robust_bins)[-1].endswith("in the end bins")
    assert (
        plot_label_density(
            y, robust_limits=False, density=LabelDensity(bin_range=None)
        ).get_xlim()[1]
        > 140
    )
    no_outlier = plot_label_density(np.linspace(0, 1, 200))
    assert not any("above" in text for text in _legend_texts(no_outlier))


def test_per_bin_error_legend_hangs_below_the_panel():
    density = LabelDensity(n_bins=8, ks=1).fit(Y_2D)
    axes = plot_per_bin_error(
        Y_2D, {"A": Y_2D + 0.1, "B": Y_2D - 0.3}, label_density=density, target_names=["a", "b"]
    )
    figure = axes[0].figure
    figure.canvas.draw()
    for ax in axes:
        legend = ax.get_legend()
        assert legend.get_window_extent().y1 < ax.get_window_extent().y0  # below, no overlap
        texts = _legend_texts(ax)
        assert texts[:2] == ["A", "B"] and "training samples per bin" in texts
    assert [line.get_label() for line in axes[0].lines] == ["A", "B"]
    assert axes[1].lines[1].get_ydata() == pytest.approx(
        [0.3 for _ in np.unique(density.marginals_[1].bin_index(Y_2D[:, 1]))]
    )
    # the panels' labels do not overlap: the left twin's label ends left of the right panel
    twin = next(
        a for a in figure.axes if a not in axes and a.bbox.x0 == pytest.approx(axes[0].bbox.x0)
    )
    right_edge = twin.yaxis.label.get_window_extent().x1
    assert right_edge < axes[1].yaxis.label.get_window_extent().x0
    with pytest.raises(ValueError, match="leave label and color as None"):
        plot_per_bin_error(Y_2D, {"A": Y_2D}, label="A")
    with pytest.raises(ValueError, match="empty mapping"):
        plot_per_bin_error(Y_2D, {})


def test_plot_leaderboard_one_panel_per_named_target():
    from skdir.auto import plot_leaderboard

    board = {
        "name": np.array(["ridge", "ridge+lds", "ensemble"]),
        "all": np.array([1.0, 1.1, 0.9]),
        "balanced": np.array([2.0, 1.5, 1.4]),
        "all_0": np.array([0.5, 0.6, 0.4]),
        "balanced_0": np.array([1.0, 0.8, 0.7]),
        "all_1": np.array([5.0, 6.0, 4.5]),
        "balanced_1": np.array([10.0, 8.0, 7.5]),
        "feasible": np.array([True, True, True]),
        "chosen": np.array([False, False, True]),
    }
    combined = plot_leaderboard(board)
    assert "scale-free mean" in combined.get_xlabel()
    assert np.asarray(combined.collections[0].get_offsets())[:, 0] == pytest.approx([1.0, 1.1])
    axes = plot_leaderboard(board, target_names=["a", "b"])
    assert [ax.get_title() for ax in axes] == ["a", "b"]
    star = next(c for c in axes[1].collections if c.get_label() == "used by predict")
    assert np.asarray(star.get_offsets())[0] == pytest.approx([4.5, 7.5])  # target b units
    assert "scale-free" not in axes[1].get_xlabel()
    with pytest.raises(ValueError, match=r"target_names has 1 name\(s\)"):
        plot_leaderboard(board, target_names=["a"])
    with pytest.raises(ValueError, match="2 panel"):
        plot_leaderboard(board, plt.subplots()[1], target_names=["a", "b"])
