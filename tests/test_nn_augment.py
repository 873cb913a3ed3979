"""Mixup, C-Mixup, input noise and feature dropout: sampling laws, train-time only, determinism."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from skdir.density import LabelDensity
from skdir.nn import (
    BalancedMSELoss,
    ConR,
    DIRRegressor,
    FeatureDistributionSmoothing,
    FeatureNormOrder,
    RankSim,
    UncertaintyWeightedLoss,
)
from skdir.nn.augment import (
    CMixup,
    FeatureDropout,
    GaussianNoise,
    Mixup,
    c_mixup_probabilities,
    feature_dropout,
    gaussian_noise,
    mixup_batch,
)
from skdir.nn.base import Augmentation
from skdir.weighting import LDSWeighter


def test_c_mixup_probabilities_are_the_normalised_gaussian_kernel():
    y = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64)
    got = c_mixup_probabilities(y, bandwidth=2.0).numpy()
    kernel = np.exp(-((y.numpy()[:, None] - y.numpy()[None, :]) ** 2) / (2 * 4.0))
    np.testing.assert_allclose(got, kernel / kernel.sum(1, keepdims=True), rtol=1e-12)
    assert got[0, 1] == pytest.approx(math.exp(-1 / 8) / (1 + math.exp(-1 / 8) + math.exp(-9 / 8)))
    two = torch.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=torch.float64)  # distance 5
    expected = 1 / (1 + math.exp(-25 / 2))
    assert c_mixup_probabilities(two, 1.0)[0, 0].item() == pytest.approx(expected)
    with pytest.raises(ValueError, match="bandwidth"):
        c_mixup_probabilities(y, 0.0)


def test_c_mixup_partners_follow_the_kernel():
    torch.manual_seed(0)
    y = torch.tensor([[0.0], [0.5], [1.0], [3.0]])
    X = torch.arange(4.0)[:, None]
    probabilities = c_mixup_probabilities(y, bandwidth=0.7).numpy()
    draws = 4000
    counts = np.zeros((4, 4))
    for _ in range(draws):
        _, _, partner, _ = mixup_batch(X, y, method="c_mixup", bandwidth=0.7)
        counts[np.arange(4), partner.numpy()] += 1
    frequencies = counts / draws
    # binomial standard error <= 0.008; allow 4 of them
    np.testing.assert_allclose(frequencies, probabilities, atol=0.032)
    assert (
        probabilities[3, 3] > 0.98 and frequencies[3, 3] > 0.97
    )  # isolated label mixes with itself


def test_mixup_mixes_inputs_and_targets_with_one_beta_weight():
    torch.manual_seed(1)
    X = torch.randn(6, 3)
    y = torch.randn(6, 2)
    lams = []
    for _ in range(3000):
        X_mixed, y_mixed, partner, lam = mixup_batch(X, y, alpha=2.0)
        lams.append(lam)
    torch.testing.assert_close(X_mixed, lam * X + (1 - lam) * X[partner])
    torch.testing.assert_close(y_mixed, lam * y + (1 - lam) * y[partner])
    assert sorted(partner.tolist()) == list(range(6))  # a permutation
    # Beta(2, 2): mean 1/2, variance 1 / (4 * 5) = 0.05
    assert np.mean(lams) == pytest.approx(0.5, abs=0.02)
    assert np.var(lams) == pytest.approx(0.05, abs=0.005)
    with pytest.raises(ValueError, match="method"):
        mixup_batch(X, y, method="cutmix")
    with pytest.raises(ValueError, match="alpha"):
        mixup_batch(X, y, alpha=0.0)


def test_noise_and_dropout_laws_and_nan_padding():
    torch.manual_seed(0)
    X = torch.ones(20000, 5)
    noisy = gaussian_noise(X, 0.3)
    assert (noisy - X).std().item() == pytest.approx(0.3, rel=0.02)
    assert gaussian_noise(X, 0.0) is X
    dropped = feature_dropout(X, 0.2)
    assert (dropped == 0).float().mean().item() == pytest.approx(0.2, abs=0.01)
    assert dropped.mean().item() == pytest.approx(1.0, abs=0.01)
    padded = torch.tensor([[1.0, 2.0], [math.nan, math.nan]])
    out = feature_dropout(gaussian_noise(padded, 0.1), 0.5)
    assert torch.isnan(out[1]).all()
    with pytest.raises(ValueError, match="p must be"):
        feature_dropout(X, 1.0)
    with pytest.raises(ValueError, match="std"):
        gaussian_noise(X, -1.0)


# ----------------------------------------------------------- in DIRRegressor
@pytest.mark.parametrize(
    "option",
    [
        {"augment": GaussianNoise(std=1.0)},
        {"augment": FeatureDropout(p=0.5)},
        {"augment": Mixup()},
        {"augment": CMixup(bandwidth=0.3)},
    ],
    ids=["noise", "dropout", "mixup", "c_mixup"],
)
def test_augmentation_changes_training_batches_only(option, regression_data, fixed_net):
    X, y = regression_data(n=90, d=6)
    X_val, y_val = regression_data(n=30, d=6, seed=1)
    clean = fixed_net().fit(X, y, eval_set=(X_val, y_val))
    net = fixed_net(**option).fit(X, y, eval_set=(X_val, y_val))
    np.testing.assert_allclose(net.predict(X), clean.predict(X))  # lr=0: same network
    pred = net.predict(X)
    assert clean.history[-1, "train_loss"] == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)
    assert net.history[-1, "train_loss"] != pytest.approx(
        clean.history[-1, "train_loss"], rel=1e-3
    )
    expected_valid = np.mean((net.predict(X_val) - y_val) ** 2)
    assert net.history[-1, "valid_loss"] == pytest.approx(expected_valid, rel=1e-5)


def test_c_mixup_with_a_tiny_bandwidth_mixes_every_sample_with_itself(regression_data, fixed_net):
    # distinct targets: partners other than itself have probability ~0
    X, y = regression_data(n=90, d=6)
    net = fixed_net(augment=CMixup(bandwidth=1e-6))
    net.fit(X, y)
    pred = net.predict(X)
    assert net.history[-1, "train_loss"] == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)


class _ShiftTargets(Augmentation):
    """A user-written augmentation: moves the training targets by ``shift``."""

    def __init__(self, shift=1.0):
        self.shift = shift

    def __call__(self, batch):
        return dataclasses.replace(batch, y=batch.y + self.shift)


def test_a_custom_augmentation_rewrites_training_batches_only_and_is_tunable(
    regression_data, fixed_net
):
    X, y = regression_data(n=90, d=6)
    X_val, y_val = regression_data(n=30, d=6, seed=1)
    net = fixed_net(augment=[("shift", _ShiftTargets(1.0))])
    assert net.get_params()["augment__shift__shift"] == 1.0
    for shift in (1.0, -2.0):
        net.set_params(augment__shift__shift=shift).fit(X, y, eval_set=(X_val, y_val))
        assert net.augment_[0].shift == shift and net.augment_[0] is not net.augment[0][1]
        pred = net.predict(X)  # lr=0: the training loss is that of the shifted targets
        expected = np.mean((pred - y - shift) ** 2)
        assert net.history[-1, "train_loss"] == pytest.approx(expected, rel=1e-5)
        expected_valid = np.mean((net.predict(X_val) - y_val) ** 2)  # not shifted
        assert net.history[-1, "valid_loss"] == pytest.approx(expected_valid, rel=1e-5)


def test_listed_augmentations_are_tuned_by_name():
    net = DIRRegressor(augment=[("cmixup", CMixup()), ("noise", GaussianNoise(0.1))])
    net.set_params(augment__cmixup__bandwidth=0.2, augment__noise__std=0.3)
    params = net.get_params()
    assert (params["augment__cmixup__bandwidth"], params["augment__noise__std"]) == (0.2, 0.3)
    assert DIRRegressor(augment=CMixup(alpha=1.0)).get_params()["augment__alpha"] == 1.0


class _Bags(torch.nn.Module):
    accepts_bags = True

    def __init__(self, n_features, n_outputs):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_outputs)

    def forward(self, X):
        return self.linear(X)


def test_mixup_bad_input(regression_data):
    X, y = regression_data(n=90, d=6)
    for augment in (Mixup(), [("noise", GaussianNoise()), ("cmixup", CMixup())]):
        with pytest.raises(ValueError, match="mixes rows of 2-D inputs and cannot mix bags"):
            DIRRegressor(_Bags, augment=augment, device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        DIRRegressor(augment=Mixup(alpha=0.0), device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="bandwidth"):
        DIRRegressor(augment=CMixup(bandwidth=-1.0), device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="'p' parameter of FeatureDropout"):
        DIRRegressor(augment=FeatureDropout(p=1.0), device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="'std' parameter of GaussianNoise"):
        DIRRegressor(augment=GaussianNoise(std=-0.1), device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="not an augmentation"):
        DIRRegressor(augment=[("cutmix", "cutmix")], device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="names must be unique"):
        DIRRegressor(augment=[("a", Mixup()), ("a", CMixup())], device="cpu").fit(X, y)


def test_every_option_on_is_deterministic_for_one_and_two_targets(regression_data):
    X, y = regression_data(n=90, d=6)
    Y = np.column_stack([y, X[:, 3] + 0.3 * np.random.default_rng(2).normal(size=len(y))])

    def params():  # fresh components for every regressor
        return {
            "criterion": BalancedMSELoss,
            "weighter": LDSWeighter(n_bins=10),
            "label_density": LabelDensity(n_bins=10),
            "fds": FeatureDistributionSmoothing(n_bins=10),
            "regularizers": [
                ("ranksim", RankSim(weight=10.0)),
                ("conr", ConR(weight=1.0)),
                ("norm", FeatureNormOrder(weight=1.0, finetune_epochs=2)),
            ],
            "augment": [
                ("cmixup", CMixup()),
                ("noise", GaussianNoise(std=0.1)),
                ("dropout", FeatureDropout(p=0.1)),
            ],
            "max_epochs": 4,
            "batch_size": 32,
            "module__hidden": (8,),
            "device": "cpu",
        }

    # Balanced MSE for one and two targets; the uncertainty-weighted loss for two
    cases = ((y, {}), (Y, {}), (Y, {"criterion": UncertaintyWeightedLoss}))
    for target, extra in cases:
        first = DIRRegressor(random_state=3, **{**params(), **extra}).fit(X, target)
        second = DIRRegressor(random_state=3, **{**params(), **extra}).fit(X, target)
        np.testing.assert_array_equal(first.predict(X), second.predict(X))
        assert len(first.history) == 6  # 4 epochs and 2 of fine-tuning
        other = DIRRegressor(random_state=4, **{**params(), **extra}).fit(X, target)
        assert not np.allclose(other.predict(X), first.predict(X))
