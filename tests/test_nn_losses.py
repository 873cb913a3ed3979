"""Weighted regression losses: every formula by hand on a tiny batch."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import StandardScaler

from skdir.density import LabelDensity
from skdir.nn import DIRRegressor
from skdir.nn.losses import (
    BalancedMSELoss,
    UncertaintyWeightedLoss,
    UncertaintyWeighting,
    WeightedRegressionLoss,
    elementwise_loss,
)

PRED = torch.tensor([0.0, 3.0, -1.0])
TARGET = torch.tensor([1.0, 1.0, 1.0])  # errors -1, 2, -2


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


@pytest.mark.parametrize(
    ("loss", "kwargs", "expected"),
    [
        ("mse", {}, [1.0, 4.0, 4.0]),
        ("l1", {}, [1.0, 2.0, 2.0]),
        ("huber", {}, [0.5, 1.5, 1.5]),  # beta=1: |e| >= 1 everywhere -> |e| - 0.5
        ("huber", {"beta": 3.0}, [1 / 6, 4 / 6, 4 / 6]),  # 0.5 e^2 / 3
        (
            "focal_mse",
            {},
            [e**2 * (2 * _sigmoid(0.2 * e) - 1) for e in (1.0, 2.0, 2.0)],
        ),
        (
            "focal_l1",
            {"gamma": 2.0},
            [e * (2 * _sigmoid(0.2 * e) - 1) ** 2 for e in (1.0, 2.0, 2.0)],
        ),
        (
            "focal_mse",
            {"activation": "tanh", "beta": 0.5},
            [e**2 * math.tanh(0.5 * e) for e in (1.0, 2.0, 2.0)],
        ),
    ],
)
def test_elementwise_losses_by_hand(loss, kwargs, expected):
    got = elementwise_loss(PRED, TARGET, loss, **kwargs)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)


def test_weighted_mean_is_mean_of_weight_times_loss():
    criterion = WeightedRegressionLoss("mse")
    weight = torch.tensor([1.0, 2.0, 0.5])
    # (1*1 + 2*4 + 0.5*4) / 3 = 11/3
    assert float(criterion(PRED[:, None], TARGET[:, None], weight)) == pytest.approx(11 / 3)
    assert float(criterion(PRED[:, None], TARGET[:, None])) == pytest.approx(3.0)


def test_two_targets_are_averaged_per_sample_before_weighting():
    pred = torch.tensor([[1.0, 3.0], [0.0, 0.0]])
    target = torch.zeros(2, 2)
    weight = torch.tensor([2.0, 1.0])
    # sample losses: (1 + 9) / 2 = 5 and 0; weighted mean (2*5 + 0) / 2 = 5
    assert float(WeightedRegressionLoss("mse")(pred, target, weight)) == pytest.approx(5.0)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-5, 5), min_size=1, max_size=8),
    st.sampled_from(["mse", "l1", "huber", "focal_mse", "focal_l1"]),
    st.floats(0.1, 10),
)
def test_unit_weights_equal_unweighted_and_scaling_is_linear(errors, loss, scale):
    pred = torch.tensor(errors, dtype=torch.float64)[:, None]
    target = torch.zeros_like(pred)
    criterion = WeightedRegressionLoss(loss)
    plain = float(criterion(pred, target))
    ones = torch.ones(len(errors), dtype=torch.float64)
    assert float(criterion(pred, target, ones)) == pytest.approx(plain)
    assert float(criterion(pred, target, scale * ones)) == pytest.approx(scale * plain)
    assert plain >= 0


def test_bad_loss_arguments():
    with pytest.raises(ValueError, match="Unknown loss 'l3'"):
        WeightedRegressionLoss("l3")
    with pytest.raises(ValueError, match="must match"):
        elementwise_loss(PRED, TARGET[:2])
    with pytest.raises(ValueError, match="activation"):
        elementwise_loss(PRED, TARGET, "focal_l1", activation="relu")
    with pytest.raises(ValueError, match="beta must be positive"):
        elementwise_loss(PRED, TARGET, "huber", beta=0.0)


# ----------------------------------------------------------------- balanced MSE
def _logsumexp(values):
    values = np.asarray(values, dtype=np.float64)
    top = values.max()
    return top + math.log(np.exp(values - top).sum())


def test_bmc_is_cross_entropy_over_batch_labels_times_two_sigma_squared():
    loss = BalancedMSELoss("bmc", init_sigma=1.0)
    pred, target = torch.tensor([[0.0], [1.0]]), torch.tensor([[0.0], [2.0]])
    # sample 0: logits (0, -2) -> CE log(1 + e^-2); sample 1: logits (-1/2, -1/2) -> log 2
    expected = 2 * 1.0 * (math.log(1 + math.exp(-2)) + math.log(2)) / 2
    assert loss(pred, target).item() == pytest.approx(expected, rel=1e-6)
    # sigma = 2, three samples, weights: an independent numpy computation
    loss = BalancedMSELoss("bmc", init_sigma=2.0)
    p, t, w = np.array([0.5, -1.0, 3.0]), np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 0.5])
    logits = -((p[:, None] - t[None, :]) ** 2) / (2 * 4.0)
    ce = np.array([_logsumexp(logits[i]) - logits[i, i] for i in range(3)])
    got = loss(torch.tensor(p)[:, None], torch.tensor(t)[:, None], torch.tensor(w))
    assert got.item() == pytest.approx(np.mean(w * ce) * 2 * 4.0, rel=1e-6)


def test_bmc_multidimensional_uses_squared_euclidean_distances():
    loss = BalancedMSELoss("bmc", init_sigma=1.0)
    pred = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    target = torch.tensor([[0.0, 1.0], [1.0, 0.0], [3.0, 1.0]])
    p, t = pred.numpy().astype(np.float64), target.numpy().astype(np.float64)
    d2 = ((p[:, None, :] - t[None, :, :]) ** 2).sum(-1)
    ce = [_logsumexp(-d2[i] / 2) + d2[i, i] / 2 for i in range(3)]
    assert loss(pred, target).item() == pytest.approx(2 * np.mean(ce), rel=1e-6)
    # one sample per batch: the cross-entropy of a single class is 0
    assert loss(pred[:1], target[:1]).item() == 0.0


def test_bni_and_gai_by_hand():
    bni = BalancedMSELoss(
        "bni", init_sigma=1.0, prior_locations=[[0.0], [2.0]], prior_probs=[1.0, 3.0]
    )
    # pred 1, target 0: (1)^2/2 + log(0.25 e^-1/2 + 0.75 e^-1/2) = 0.5 - 0.5 = 0
    assert bni(torch.tensor([[1.0]]), torch.tensor([[0.0]])).item() == pytest.approx(0.0, abs=1e-6)
    # pred 0, target 0: 0 + log(0.25 + 0.75 e^-2), times 2 sigma^2 = 2
    expected = 2 * math.log(0.25 + 0.75 * math.exp(-2))
    assert bni(torch.tensor([[0.0]]), torch.tensor([[0.0]])).item() == pytest.approx(expected)
    gai = BalancedMSELoss(
        "gai", init_sigma=1.0, prior_locations=[[0.0]], prior_probs=[1.0], prior_scales=[[1.0]]
    )
    # pred 2, target 1: 1/2 + 0.5 log 1 + (-0.5 log 2 - 4 / 4) = -0.5 - 0.5 log 2; times 2
    expected = 2 * (0.5 - 0.5 * math.log(2) - 1.0)
    assert gai(torch.tensor([[2.0]]), torch.tensor([[1.0]])).item() == pytest.approx(expected)
    # GAI with zero component scales is BNI; empty bins are dropped
    gai0 = BalancedMSELoss(
        "gai", 0.7, prior_locations=[[0.0], [1.0], [2.0]], prior_probs=[1.0, 0.0, 3.0]
    )
    bni0 = BalancedMSELoss("bni", 0.7, prior_locations=[[0.0], [2.0]], prior_probs=[1.0, 3.0])
    pred, target = torch.tensor([[0.3], [1.5]]), torch.tensor([[0.0], [2.0]])
    assert gai0(pred, target).item() == pytest.approx(bni0(pred, target).item(), rel=1e-6)


def test_bmse_gradient_reaches_predictions_and_the_noise_scale():
    for form, extra in [
        ("bmc", {}),
        (
            "gai",
            {
                "prior_locations": [[0.0], [1.0]],
                "prior_probs": [3, 1],
                "prior_scales": [[0.2], [0.2]],
            },
        ),
        ("bni", {"prior_locations": [[0.0], [1.0]], "prior_probs": [3, 1]}),
    ]:
        loss = BalancedMSELoss(form, init_sigma=0.5, **extra)
        pred = torch.tensor([[0.1], [0.9], [0.4]], requires_grad=True)
        loss(pred, torch.tensor([[0.0], [1.0], [0.5]])).backward()
        assert torch.all(torch.isfinite(pred.grad)) and pred.grad.abs().sum() > 0
        assert torch.isfinite(loss.noise_sigma.grad) and loss.noise_sigma.grad != 0


def test_bmse_bad_arguments():
    with pytest.raises(ValueError, match="form"):
        BalancedMSELoss("bmx")
    with pytest.raises(ValueError, match="init_sigma"):
        BalancedMSELoss("bmc", init_sigma=0.0)
    with pytest.raises(ValueError, match="needs the training label distribution"):
        BalancedMSELoss("gai")
    with pytest.raises(ValueError, match="prior_probs"):
        BalancedMSELoss("bni", prior_locations=[[0.0]], prior_probs=[-1.0])


# ------------------------------------------------------ uncertainty weighting
def test_uncertainty_weighting_by_hand_and_its_optimum():
    weighting = UncertaintyWeighting(2)
    with torch.no_grad():
        weighting.log_vars.copy_(torch.tensor([0.0, math.log(2.0)]))
    losses = torch.tensor([1.0, 3.0])
    expected = 0.5 * 1.0 + 0.5 * 0.5 * 3.0 + 0.5 * math.log(2.0)
    assert weighting(losses).item() == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(weighting.weights.numpy(), [1.0, 0.5], rtol=1e-6)
    # minimising over the log-variances alone converges to s_t = log L_t
    fresh = UncertaintyWeighting(2)
    optimizer = torch.optim.Adam(fresh.parameters(), lr=0.1)
    for _ in range(250):
        optimizer.zero_grad()
        fresh(losses).backward()
        optimizer.step()
    np.testing.assert_allclose(fresh.log_vars.detach().numpy(), np.log([1.0, 3.0]), atol=1e-2)
    with pytest.raises(ValueError, match="2 targets"):
        fresh(torch.tensor([1.0, 2.0, 3.0]))


# ------------------------------------------------------------ in DIRRegressor
def test_regressor_bmse_training_loss_is_the_bmc_formula(regression_data, fixed_net):
    X, y = regression_data(n=40, d=6)
    net = fixed_net(
        criterion=BalancedMSELoss, criterion__init_sigma=0.8, criterion__sigma_lr=0.0
    ).fit(X, y)
    pred = net.predict(X)
    logits = -((pred[:, None] - y[None, :]) ** 2) / (2 * 0.64)
    ce = np.array([_logsumexp(logits[i]) - logits[i, i] for i in range(len(y))])
    assert net.history[-1, "train_loss"] == pytest.approx(2 * 0.64 * ce.mean(), rel=1e-4)
    assert isinstance(net.criterion_, BalancedMSELoss)


def test_regressor_bmse_noise_scale_has_its_own_learning_rate(regression_data):
    X, y = regression_data(d=6)
    params = {
        "criterion": BalancedMSELoss,
        "max_epochs": 3,
        "module__hidden": (8,),
        "device": "cpu",
    }
    fixed = DIRRegressor(criterion__sigma_lr=0.0, random_state=0, **params).fit(X, y)
    assert fixed.criterion_.noise_sigma.item() == 1.0
    learned = DIRRegressor(criterion__sigma_lr=0.05, random_state=0, **params).fit(X, y)
    groups = learned.optimizer_.param_groups
    sigma_groups = [
        g for g in groups if any(p is learned.criterion_.noise_sigma for p in g["params"])
    ]
    assert len(sigma_groups) == 1 and sigma_groups[0]["lr"] == 0.05
    assert sigma_groups[0]["weight_decay"] == 0.0
    assert all(g["lr"] == learned.lr for g in groups if g is not sigma_groups[0])
    assert abs(learned.criterion_.noise_sigma.item() - 1.0) > 0.05


def test_regressor_gai_and_bni_priors_come_from_the_label_density(regression_data):
    X, y = regression_data(d=6)
    scaler = StandardScaler()
    net = DIRRegressor(
        criterion=BalancedMSELoss,
        criterion__form="gai",
        label_density=LabelDensity(n_bins=7),
        target_transformer=scaler,
        max_epochs=2,
        module__hidden=(8,),
        device="cpu",
        random_state=0,
    ).fit(X, y)
    density = net.label_density_
    edges = density.bin_edges_[0]
    occupied = density.counts_ > 0
    centres = ((edges[:-1] + edges[1:]) / 2)[occupied]
    fitted = net.target_transformer_
    expected = (centres - fitted.mean_[0]) / fitted.scale_[0]
    np.testing.assert_allclose(net.criterion_.prior_locations.numpy()[:, 0], expected, rtol=1e-5)
    probs = density.counts_[occupied] / density.counts_.sum()
    np.testing.assert_allclose(net.criterion_.prior_log_probs.exp().numpy(), probs, rtol=1e-5)
    widths = np.diff(edges)[occupied] / fitted.scale_[0]
    np.testing.assert_allclose(net.criterion_.prior_vars.numpy()[:, 0], widths**2 / 12, rtol=1e-4)
    Y = np.column_stack([y, -y + X[:, 2]])
    net2 = DIRRegressor(
        criterion=BalancedMSELoss,
        criterion__form="bni",
        label_density=LabelDensity(n_bins=5),
        max_epochs=2,
        device="cpu",
        random_state=0,
    ).fit(X, Y)
    assert net2.criterion_.prior_locations.shape[1] == 2
    assert len(net2.criterion_.prior_locations) == (net2.label_density_.counts_ > 0).sum()
    assert np.all(np.isfinite(net2.predict(X)))


def test_uncertainty_weighting_learns_a_smaller_weight_for_the_noisier_target():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    clean = X[:, 0] + 0.05 * rng.normal(size=300)
    noisy = X[:, 1] + 1.5 * rng.normal(size=300)
    net = DIRRegressor(
        criterion=UncertaintyWeightedLoss,
        max_epochs=60,
        lr=0.05,
        lr_schedule=None,  # the weights reach their optimum at a constant rate
        batch_size=300,
        early_stopping=False,
        validation_fraction=None,
        module__hidden=(16,),
        device="cpu",
        random_state=0,
    ).fit(X, np.column_stack([clean, noisy]))
    weights = net.criterion_.weighting.weights.numpy()
    assert weights[0] > 10 * weights[1]
    pred = net.predict(X)
    mse = np.mean((pred - np.column_stack([clean, noisy])) ** 2, axis=0)
    # at the optimum exp(s_t) is the training loss of target t
    assert 1 / weights[1] == pytest.approx(mse[1], rel=0.2)


def test_regressor_loss_options_bad_input(regression_data):
    X, y = regression_data(d=6)
    with pytest.raises(ValueError, match="several targets, but there is 1"):
        DIRRegressor(criterion=UncertaintyWeightedLoss, device="cpu").fit(X, y)
    Y = np.column_stack([y, y])
    # the uncertainty-weighted loss combines per-target losses, it has no Balanced MSE form
    with pytest.raises(TypeError, match="form"):
        DIRRegressor(criterion=UncertaintyWeightedLoss, criterion__form="gai", device="cpu").fit(
            X, Y
        )
    with pytest.raises(ValueError, match="Unknown loss 'cauchy'"):
        DIRRegressor(
            criterion=UncertaintyWeightedLoss, criterion__loss="cauchy", device="cpu"
        ).fit(X, Y)
    with pytest.raises(ValueError, match="Unknown balanced MSE form 'xyz'"):
        DIRRegressor(criterion=BalancedMSELoss, criterion__form="xyz", device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="not an instance"):
        DIRRegressor(criterion=UncertaintyWeightedLoss(2), device="cpu").fit(X, Y)


def test_regressor_bmc_refuses_batches_of_one(regression_data):
    X, y = regression_data(d=6)
    with pytest.raises(ValueError, match=r"BalancedMSELoss compare.*batch_size >= 2"):
        DIRRegressor(criterion=BalancedMSELoss, batch_size=1, device="cpu").fit(X, y)
    # GAI integrates over the training label distribution, not the batch: batches of one work
    net = DIRRegressor(
        criterion=BalancedMSELoss, criterion__form="gai", batch_size=1, max_epochs=1
    )
    assert np.isfinite(net.set_params(device="cpu").fit(X, y).history[-1, "train_loss"])


# ------------------------------------------------ bad batches and parameters (issue 13 sweep)
def test_weights_must_have_one_value_per_sample():
    criterion = WeightedRegressionLoss("mse")
    pred, target = torch.tensor([[1.0], [2.0]]), torch.zeros(2, 1)
    assert float(criterion(pred, target, torch.tensor([1.0, 3.0]))) == 6.5  # (1 + 3 * 4) / 2
    # a single weight used to broadcast over the batch silently
    with pytest.raises(ValueError, match=r"weight has 1 value\(s\) for a batch of 2 samples"):
        criterion(pred, target, torch.tensor([3.0]))
    with pytest.raises(ValueError, match=r"weight has 3 value\(s\) for a batch of 2"):
        BalancedMSELoss("bmc")(pred, target, torch.ones(3))


def test_empty_batches_add_zero_not_nan():
    assert float(WeightedRegressionLoss("l1")(torch.zeros(0, 1), torch.zeros(0, 1))) == 0.0
    assert float(WeightedRegressionLoss("l1")(torch.zeros(0), torch.zeros(0))) == 0.0
    assert float(BalancedMSELoss("bmc")(torch.zeros(0, 1), torch.zeros(0, 1))) == 0.0


def test_balanced_mse_prior_must_match_the_targets():
    loss = BalancedMSELoss("bni", prior_locations=[0.0, 1.0], prior_probs=[0.5, 0.5])
    # one-target prior against two-target predictions used to broadcast silently
    with pytest.raises(ValueError, match=r"prior has 1 target\(s\).*predictions have 2"):
        loss(torch.zeros(4, 2), torch.ones(4, 2))
    with pytest.raises(ValueError, match=r"prior_scales has 3 value\(s\) but prior_locations"):
        BalancedMSELoss(
            "gai", prior_locations=[0.0, 1.0], prior_probs=[0.5, 0.5], prior_scales=[1.0, 2.0, 3.0]
        )
    with pytest.raises(ValueError, match="prior_scales are standard deviations"):
        BalancedMSELoss(
            "gai", prior_locations=[0.0, 1.0], prior_probs=[0.5, 0.5], prior_scales=[-1.0, 1.0]
        )
    with pytest.raises(ValueError, match="must be finite"):
        BalancedMSELoss("bni", prior_locations=[0.0, np.nan], prior_probs=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"prior_probs must be finite.*got 2 for 2"):
        BalancedMSELoss("bni", prior_locations=[0.0, 1.0], prior_probs=[0.5, np.inf])
    with pytest.raises(ValueError, match="init_sigma must be a positive finite number"):
        BalancedMSELoss("bmc", init_sigma=np.inf)


def test_focal_gamma_and_uncertainty_targets_are_validated():
    # gamma < 0 turned an exact prediction into 0 * inf = NaN
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        elementwise_loss(torch.zeros(3), torch.zeros(3), "focal_mse", gamma=-1.0)
    assert elementwise_loss(torch.zeros(1), torch.ones(1), "focal_l1", gamma=0.0).item() == 1.0
    for bad in (0.5, "2", True):
        with pytest.raises(ValueError, match="n_targets must be an integer >= 1"):
            UncertaintyWeighting(bad)
