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
