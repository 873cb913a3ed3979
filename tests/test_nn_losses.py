"""Weighted regression losses: every formula by hand on a tiny batch."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skdir.nn.losses import WeightedRegressionLoss, elementwise_loss

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
