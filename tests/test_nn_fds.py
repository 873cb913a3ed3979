"""Feature distribution smoothing: statistics and calibration by hand."""

import numpy as np
import pytest
import torch

from skdir.density import LabelDensity
from skdir.nn import DIRRegressor
from skdir.nn.fds import FDSLayer, FDSUpdate, FeatureDistributionSmoothing


def _layer(**kwargs):
    params = {"n_bins": 3, "embedding_dim": 2, "var_floor": 0.0, "shrinkage": 0.0, "min_count": 1}
    params.update(kwargs)
    return FDSLayer(**params)


Z = torch.tensor([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [10.0, -1.0]])
BINS = torch.tensor([0, 0, 0, 2])


def test_epoch_statistics_are_per_bin_means_and_unbiased_variances():
    fds = _layer()
    out = fds(Z, BINS, epoch=0)
    assert torch.equal(out, Z)  # nothing to calibrate with yet
    fds.update_statistics(epoch=0)
    # bin 0: means (3, 2), unbiased variances (4, 4); bin 2: one sample -> variance 0;
    # bin 1 was never seen -> the statistics of all four samples.
    all_mean = Z.mean(0)
    all_var = Z.var(0, unbiased=True)
    np.testing.assert_allclose(fds.running_mean[0].numpy(), [3.0, 2.0])
    np.testing.assert_allclose(fds.running_var[0].numpy(), [4.0, 4.0])
    np.testing.assert_allclose(fds.running_mean[2].numpy(), [10.0, -1.0])
    np.testing.assert_allclose(fds.running_var[2].numpy(), [0.0, 0.0])
    np.testing.assert_allclose(fds.running_mean[1].numpy(), all_mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(fds.running_var[1].numpy(), all_var.numpy(), rtol=1e-6)
    assert int(fds.last_update_epoch) == 0


def test_momentum_update_and_absent_bins_keep_their_statistics():
    fds = _layer(momentum=0.9)
    fds(Z, BINS, epoch=0)
    fds.update_statistics(epoch=0)
    second = torch.tensor([[13.0, 2.0], [15.0, 2.0]])
    fds(second, torch.tensor([0, 0]), epoch=1)
    fds.update_statistics(epoch=1)
    # bin 0: 0.1 * (14, 2) + 0.9 * (3, 2); variance 0.1 * (2, 0) + 0.9 * (4, 4)
    np.testing.assert_allclose(fds.running_mean[0].numpy(), [4.1, 2.0], rtol=1e-6)
    np.testing.assert_allclose(fds.running_var[0].numpy(), [3.8, 3.6], rtol=1e-6)
    np.testing.assert_allclose(fds.running_mean[2].numpy(), [10.0, -1.0])


def test_shrinkage_toward_global_statistics_and_variance_floor():
    fds = _layer(shrinkage=2.0, var_floor=0.5)
    fds(Z, BINS, epoch=0)
    fds.update_statistics(epoch=0)
    all_mean = Z.double().mean(0)
    all_var = Z.double().var(0, unbiased=True)
    expected_mean = (1 * torch.tensor([10.0, -1.0]).double() + 2 * all_mean) / 3
    expected_var = (1 * 0.0 + 2 * all_var) / 3
    np.testing.assert_allclose(fds.running_mean[2].numpy(), expected_mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        fds.running_var[2].numpy(), np.maximum(expected_var.numpy(), 0.5), rtol=1e-6
    )


def test_calibration_is_identity_when_smoothed_equals_raw():
    fds = _layer(var_floor=1e-3)
    fds(Z, BINS, epoch=0)
    fds.update_statistics(epoch=0, smooth=lambda a: a.copy())
    z = torch.randn(6, 2)
    bins = torch.tensor([0, 1, 2, 0, 1, 2])
    out = fds(z, bins, epoch=1)
    torch.testing.assert_close(out, z)


def test_calibration_formula_by_hand():
    fds = _layer(clip=(0.5, 2.0))
    fds(Z, BINS, epoch=0)
    smoothed_mean = np.array([[0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    smoothed_var = np.array([[16.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    calls = iter([smoothed_mean, smoothed_var])
    fds.update_statistics(epoch=0, smooth=lambda a: next(calls))
    z = torch.tensor([[5.0, 4.0]])
    out = fds(z, torch.tensor([0]), epoch=1)
    # mean (3, 2), var (4, 4); ratios 16/4 = 4 -> clipped to 2, 1/4 -> clipped to 0.5
    expected = [(5 - 3) * np.sqrt(2.0) + 0.0, (4 - 2) * np.sqrt(0.5) + 1.0]
    np.testing.assert_allclose(out.numpy()[0], expected, rtol=1e-6)
    # bin 2 has zero variance (var_floor=0): its features are left unchanged
    z2 = torch.tensor([[7.0, 7.0]])
    torch.testing.assert_close(fds(z2, torch.tensor([2]), epoch=1), z2)


def test_inactive_in_eval_mode_and_before_start_smooth():
    fds = _layer(start_smooth=3)
    fds(Z, BINS, epoch=0)
    fds.update_statistics(epoch=0, smooth=lambda a: a * 0 + 100)
    z = torch.ones(2, 2)
    assert torch.equal(fds(z, torch.tensor([0, 2]), epoch=1), z)  # epoch < start_smooth
    recorded = float(fds._moments[:, -1].sum())
    assert recorded == 2
    fds.eval()
    assert torch.equal(fds(z, torch.tensor([0, 2]), epoch=5), z)
    assert float(fds._moments[:, -1].sum()) == recorded  # nothing recorded in eval mode


def test_no_update_before_start_update():
    fds = _layer(start_update=2, start_smooth=2)
    fds(Z, BINS, epoch=1)
    fds.update_statistics(epoch=1)
    assert not fds.ready
    assert float(fds._moments[:, -1].sum()) == 0


def test_bad_layer_parameters():
    with pytest.raises(ValueError, match="momentum"):
        _layer(momentum=1.0)
    with pytest.raises(ValueError, match="clip"):
        _layer(clip=(2.0, 3.0))


# ---------------------------------------------------------------- in the regressor
# Not the shared regression_data fixture: the target is |x0| alone (no linear term), so
# that the FDS bins of y group samples of similar features; the asserted numbers need it.
def _data(n=90, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.abs(X[:, 0]) + 0.1 * rng.normal(size=n)
    return X, y


def _frozen_fds_regressor(n_bins=5, var_floor=0.0, **kwargs):
    """A regressor whose weights do not move (lr=0) and whose features are deterministic."""
    params = {
        "fds": FeatureDistributionSmoothing(n_bins=n_bins, shrinkage=0.0, var_floor=var_floor),
        "lr": 0.0,
        "max_epochs": 1,
        "batch_size": 16,
        "early_stopping": False,
        "validation_fraction": None,
        "module__dropout": 0.0,
        "module__hidden": (8,),
        "label_density": LabelDensity(n_bins=n_bins),
        "device": "cpu",
        "random_state": 0,
    }
    params.update(kwargs)
    return DIRRegressor(**params)


def test_regressor_fds_statistics_are_the_epoch_features_per_bin():
    X, y = _data()
    reg = _frozen_fds_regressor().fit(X, y)
    with torch.no_grad():
        z = reg.module_.features(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    bins = reg.fds_.label_density_.flat_bin_index(y)
    fds = reg.feature_smoothing_
    for b in range(5):
        rows = z[bins == b]
        assert len(rows) >= 2
        np.testing.assert_allclose(fds.running_mean[b].numpy(), rows.mean(0), atol=1e-5)
        np.testing.assert_allclose(fds.running_var[b].numpy(), rows.var(0, ddof=1), atol=1e-5)
    expected_smooth = reg.fds_.label_density_.smooth(fds.running_mean.double().numpy())
    np.testing.assert_allclose(fds.smoothed_mean.numpy(), expected_smooth, atol=1e-5)


def test_regressor_fds_calibrates_in_training_but_not_in_prediction():
    X, y = _data()
    reg = _frozen_fds_regressor(max_epochs=2).fit(X, y)
    X32 = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        plain = reg.module_(X32).numpy()[:, 0]
    np.testing.assert_allclose(reg.predict(X), plain, rtol=1e-6)
    # the training loss of epoch 2 used calibrated features, so it differs from
    # the loss of the (unchanged, lr=0) network without calibration
    losses = reg.history[:, "train_loss"]
    assert losses[0] != pytest.approx(losses[1], rel=1e-4)


def test_fds_two_targets_use_the_joint_grid():
    X, y = _data()
    Y = np.column_stack([y, X[:, 1]])
    reg = _frozen_fds_regressor(n_bins=4).fit(X, Y)
    assert reg.feature_smoothing_.n_bins == 16
    assert reg.predict(X).shape == (len(X), 2)
    assert np.all(np.isfinite(reg.feature_smoothing_.smoothed_var.numpy()))


def test_fds_with_empty_bins_stays_finite():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4))
    y = np.r_[rng.uniform(0, 1, 55), rng.uniform(9, 10, 5)]  # bins 1-8 of 10 are empty
    reg = _frozen_fds_regressor(n_bins=10, max_epochs=3, var_floor=1e-4).fit(X, y)
    assert (reg.label_density_.counts_ == 0).sum() >= 7
    for buffer in (reg.feature_smoothing_.smoothed_mean, reg.feature_smoothing_.smoothed_var):
        assert torch.isfinite(buffer).all()
    assert np.all(np.isfinite(reg.predict(X)))


# ---------------------------------------------------------------- the component
def test_component_settings_reach_the_layer_and_are_tunable():
    X, y = _data()
    reg = _frozen_fds_regressor(max_epochs=2)
    reg.set_params(fds__momentum=0.5, fds__clip=(0.5, 2.0), fds__start_smooth=1)
    assert reg.get_params()["fds__momentum"] == 0.5
    reg.fit(X, y)
    layer = reg.feature_smoothing_
    assert isinstance(layer, FDSLayer) and reg.fds is not reg.fds_  # the fitted copy
    assert (layer.n_bins, layer.embedding_dim, layer.momentum) == (5, 8, 0.5)
    assert layer.clip == (0.5, 2.0) and layer.var_floor == 0.0 and layer.shrinkage == 0.0
    # the FDS bins are the component's own, the label density the regressor's
    assert tuple(reg.fds_.label_density_.n_bins_) == (5,)
    assert reg.fds_.label_density_.counts_.sum() == len(y)
    assert isinstance(dict(reg.callbacks_)["fds_update"], FDSUpdate)
    assert int(layer.last_update_epoch) == 1  # updated at the end of both epochs
    assert not hasattr(reg.fit(X, y).set_params(fds=None).fit(X, y), "feature_smoothing_")


def test_component_checks_its_parameters_at_fit():
    X, y = _data()
    bad = [
        (
            FeatureDistributionSmoothing(start_update=2, start_smooth=1),
            r"FeatureDistributionSmoothing\(start_smooth=1\) is before start_update=2",
        ),
        (FeatureDistributionSmoothing(clip=(2.0, 3.0)), r"FeatureDistributionSmoothing\(clip="),
        (FeatureDistributionSmoothing(momentum=1.0), "momentum"),
        (FeatureDistributionSmoothing(kernel="box"), "kernel"),
    ]
    for fds, match in bad:
        with pytest.raises(ValueError, match=match):
            _frozen_fds_regressor(fds=fds).fit(X, y)


def test_component_needs_a_feature_module():
    class _NoFeatures(torch.nn.Module):
        def __init__(self, n_features, n_outputs):
            super().__init__()
            self.linear = torch.nn.Linear(n_features, n_outputs)

        def forward(self, X):
            return self.linear(X)

    X, y = _data()
    reg = DIRRegressor(
        _NoFeatures, fds=FeatureDistributionSmoothing(n_bins=5), max_epochs=1, device="cpu"
    )
    with pytest.raises(ValueError, match=r"need a module with features\(X\), head\(z\)"):
        reg.fit(X, y)


# ------------------------------------------------------- near-empty bins (issue 15.3)
def test_single_sample_bins_fall_back_to_global_statistics_by_hand():
    # bins: 0 holds three samples, 2 holds one (min_count=2), 1 none
    fds = FDSLayer(n_bins=3, embedding_dim=2, var_floor=0.5, shrinkage=0.0)
    assert fds.min_count == 2
    fds(Z, BINS, epoch=0)
    fds.update_statistics(epoch=0, smooth=lambda a: a.mean(0, keepdims=True).repeat(3, 0))
    # all four samples: mean (4.75, 1.25), unbiased variance (14.25, 4.9167)
    global_mean = np.array([4.75, 1.25])
    global_var = np.array([(3.75**2 + 1.75**2 + 0.25**2 + 5.25**2) / 3, 14.75 / 3])
    np.testing.assert_allclose(fds.running_mean[0].numpy(), [3.0, 2.0], rtol=1e-6)
    np.testing.assert_allclose(fds.running_var[0].numpy(), [4.0, 4.0], rtol=1e-6)
    # bin 2 (one sample, variance undefined) takes the global statistics, not (10, -1) and 0
    np.testing.assert_allclose(fds.running_mean[2].numpy(), global_mean, rtol=1e-6)
    np.testing.assert_allclose(fds.running_var[2].numpy(), global_var, rtol=1e-5)
    # the smoothed statistics (here: the mean over the three bins) are finite, and the
    # single sample's features are left as they are, while bin 0 is calibrated
    assert torch.isfinite(fds.smoothed_var).all()
    z = torch.tensor([[10.0, -1.0], [5.0, 4.0]])
    out = fds(z, torch.tensor([2, 0]), epoch=1)
    torch.testing.assert_close(out[0], z[0])
    smoothed_mean = (np.array([3.0, 2.0]) + 2 * global_mean) / 3
    smoothed_var = (np.array([4.0, 4.0]) + 2 * global_var) / 3
    ratio = np.clip(smoothed_var / 4.0, 0.1, 10.0)
    expected = (np.array([5.0, 4.0]) - [3.0, 2.0]) * np.sqrt(ratio) + smoothed_mean
    np.testing.assert_allclose(out[1].numpy(), expected, rtol=1e-5)
    # once the bin holds two or more samples in an epoch it gets statistics of its own
    # (epoch 1 recorded (10, -1) above and these two: mean (10, -1), count 3)
    fds(torch.tensor([[9.0, 0.0], [11.0, -2.0]]), torch.tensor([2, 2]), epoch=1)
    fds.update_statistics(epoch=1)
    np.testing.assert_allclose(
        fds.running_mean[2].numpy(), 0.1 * np.array([10.0, -1.0]) + 0.9 * global_mean, rtol=1e-5
    )
    assert float(fds.bin_count[2]) == 3
    with pytest.raises(ValueError, match="min_count"):
        FDSLayer(n_bins=3, embedding_dim=2, min_count=0)


def test_fds_on_long_tailed_targets_stays_finite_and_predicts():
    from skdir.datasets import make_long_tail_regression

    X, y = make_long_tail_regression(200, 6, outlier_fraction=0.03, random_state=0)
    reg = _frozen_fds_regressor(n_bins=50, max_epochs=3, var_floor=1e-4, lr=1e-3).fit(X, y)
    layer = reg.feature_smoothing_
    counts = reg.fds_.label_density_.counts_
    assert (counts == 1).any()  # single-sample bins exist
    single = np.flatnonzero(counts == 1)
    assert torch.equal(layer._scale[single], torch.ones(len(single), layer.embedding_dim))
    for buffer in (layer.smoothed_mean, layer.smoothed_var, layer._scale, layer._shift):
        assert torch.isfinite(buffer).all()
    assert np.all(np.isfinite(reg.predict(X)))
    assert reg.fds_.min_count == 2 and layer.min_count == 2
