"""Tests of quantile regression: PinballLoss, DIRRegressor.predict_quantiles, quantile wrappers."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import QuantileRegressor, Ridge

from skdir.conformal import ConformalDIRRegressor, MultiQuantileRegressor, QuantileAverager
from skdir.metrics import interval_coverage
from skdir.nn import DIRRegressor, PinballLoss
from skdir.target import TargetDistributionNormalizer

LEVELS = (0.05, 0.5, 0.95)


def noisy(n, seed, targets=1):
    """y = 2x + noise with sd 0.2 + x: the 5-95% band widens with x."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 2)).astype(np.float32)
    noise = rng.normal(size=(n, targets)) * (0.2 + X[:, :1])
    y = 2 * X[:, :1] + noise + np.arange(targets)
    return X, (y[:, 0] if targets == 1 else y)


def net(**kw):
    params = {
        "criterion": PinballLoss,
        "criterion__quantiles": LEVELS,
        "max_epochs": 30,
        "random_state": 0,
    }
    params.update(kw)
    return DIRRegressor(**params)


# ------------------------------------------------------------------ the loss
def test_pinball_loss_by_hand():
    loss = PinballLoss(quantiles=(0.1, 0.9), monotone="none")
    # targets 1; quantiles 0 (under by 1: 0.1 * 1) and 2 (over by 1: 0.1 * 1)
    assert loss(torch.tensor([[0.0, 2.0]]), torch.tensor([[1.0]])).item() == pytest.approx(0.1)
    # quantiles 3 and 4, both over by 2 and 3: (0.9 * 2 + 0.1 * 3) / 2
    assert loss(torch.tensor([[3.0, 4.0]]), torch.tensor([[1.0]])).item() == pytest.approx(1.05)
    # per-sample weights: mean of w_i * loss_i
    pred, target = torch.tensor([[0.0, 2.0], [3.0, 4.0]]), torch.ones(2, 1)
    weighted = loss(pred, target, torch.tensor([2.0, 0.0])).item()
    assert weighted == pytest.approx((2 * 0.1 + 0) / 2)


def test_the_median_pinball_is_half_the_l1():
    loss = PinballLoss(quantiles=(0.5,), monotone="none")
    pred, target = torch.tensor([[0.0], [3.0]]), torch.tensor([[1.0], [1.0]])
    assert loss(pred, target).item() == pytest.approx(0.5 * (1 + 2) / 2)


def test_quantile_outputs_never_cross():
    raw = torch.randn(200, 2 * 4) * 3
    for monotone in ("increments", "sort"):
        q = PinballLoss(n_outputs=2, quantiles=(0.1, 0.3, 0.7, 0.9), monotone=monotone)
        out = q.quantile_outputs(raw)
        assert out.shape == (200, 2, 4)
        assert (out.diff(dim=-1) >= 0).all()
    none = PinballLoss(n_outputs=2, quantiles=(0.1, 0.3, 0.7, 0.9), monotone="none")
    assert (none.quantile_outputs(raw).diff(dim=-1) < 0).any()
    # increments: the first output is the lowest quantile, steps softplus(o_k - o_1)
    out = PinballLoss(quantiles=(0.1, 0.5, 0.9)).quantile_outputs(torch.tensor([[1.0, 1.0, 2.0]]))
    np.testing.assert_allclose(out[0, 0], [1.0, 1 + np.log(2), 1 + np.log(2) + np.log1p(np.e)])


def test_pinball_protocol_and_bad_parameters():
    assert PinballLoss.output_multiplier(quantiles=(0.1, 0.9)) == 2
    np.testing.assert_allclose(PinballLoss.initial_bias([2.0], quantiles=LEVELS), [2, -2, -2])
    with pytest.raises(ValueError, match="increasing levels"):
        PinballLoss(quantiles=(0.9, 0.1))
    with pytest.raises(ValueError, match="increasing levels"):
        PinballLoss(quantiles=(0.0, 0.5))
    with pytest.raises(ValueError, match="monotone"):
        PinballLoss(monotone="cumsum")
    with pytest.raises(ValueError, match="6 outputs per row"):
        PinballLoss(n_outputs=2).quantile_outputs(torch.zeros(3, 4))


# ------------------------------------------------------------ DIRRegressor
@pytest.fixture(scope="module")
def fitted_net():
    X, y = noisy(1000, 0)
    return net(max_epochs=20).fit(X, y)


def test_dir_regressor_predicts_non_crossing_calibrated_quantiles(fitted_net):
    X, y = noisy(2000, 1)
    q = fitted_net.predict_quantiles(X)
    assert q.shape == (2000, 3)
    assert (np.diff(q, axis=1) >= 0).all()
    assert fitted_net.module_.head.linear.out_features == 3  # 1 target x 3 quantiles
    # the 5-95% band covers about 90% of new rows, the median about half below
    inside = (q[:, 0] <= y) & (y <= q[:, 2])
    assert 0.85 <= inside.mean() <= 0.95  # measured 0.90
    assert 0.44 <= (y <= q[:, 1]).mean() <= 0.56
    # the band widens with the noise
    width = q[:, 2] - q[:, 0]
    assert width[X[:, 0] > 0.8].mean() > 2 * width[X[:, 0] < 0.2].mean()
    np.testing.assert_allclose(fitted_net.predict(X), q[:, 1], rtol=1e-6)


def test_dir_regressor_without_quantiles_says_so():
    X, y = noisy(200, 2)
    plain = DIRRegressor(max_epochs=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="criterion=PinballLoss"):
        plain.predict_quantiles(X)


def test_two_targets_target_transformer_and_ensemble():
    X, Y = noisy(600, 3, targets=2)
    model = net(
        max_epochs=10,
        target_transformer=TargetDistributionNormalizer(method="standard"),
        module__n_ensemble=3,
    ).fit(X, Y)
    q = model.predict_quantiles(X[:50])
    assert q.shape == (50, 2, 3)
    assert (np.diff(q, axis=-1) >= 0).all()
    assert model.predict(X[:50]).shape == (50, 2)
    members = model.predict_members(X[:50])
    assert members.shape == (3, 50, 2)
    mean, std = model.predict(X[:50], return_std=True)
    np.testing.assert_allclose(mean, members.mean(axis=0))
    assert (std > 0).all()
    # the second target is the first plus 1: its quantiles lie about 1 higher
    assert 0.6 < np.median(q[:, 1, 1] - q[:, 0, 1]) < 1.4


def test_pickle(fitted_net):
    X, _ = noisy(20, 0)
    restored = pickle.loads(pickle.dumps(fitted_net))
    np.testing.assert_array_equal(restored.predict_quantiles(X), fitted_net.predict_quantiles(X))


@pytest.mark.slow
def test_same_seed_same_quantiles(fitted_net):
    X, y = noisy(1000, 0)
    again = clone(fitted_net).fit(X, y)
    expected = fitted_net.predict_quantiles(X[:20])
    np.testing.assert_allclose(again.predict_quantiles(X[:20]), expected)


@pytest.mark.slow
def test_cqr_on_the_pinball_network(fitted_net):
    X, y = noisy(1000, 0)
    X_test, y_test = noisy(3000, 4)
    model = ConformalDIRRegressor(
        clone(fitted_net), conformity_score="cqr", calibration="marginal"
    )
    model.set_params(random_state=0).fit(X, y)
    intervals = model.predict_interval(X_test, alpha=0.1)
    assert 0.87 <= interval_coverage(y_test, intervals) <= 0.93


# ------------------------------------------------------- scikit-learn pairs
def test_multi_quantile_regressor():
    X, y = noisy(800, 5)
    hgb = HistGradientBoostingRegressor(loss="quantile", max_iter=30, random_state=0)
    model = MultiQuantileRegressor(hgb, quantiles=LEVELS).fit(X, y)
    q = model.predict_quantiles(X)
    assert q.shape == (800, 3)
    assert (np.diff(q, axis=1) >= 0).all()
    # each level is its own model with that quantile
    assert [m.quantile for m in model.estimators_[0]] == list(LEVELS)
    np.testing.assert_allclose(
        np.sort(np.column_stack([m.predict(X) for m in model.estimators_[0]]), axis=1), q
    )
    np.testing.assert_array_equal(model.predict(X), q[:, 1])
    two = MultiQuantileRegressor(hgb, quantiles=(0.1, 0.9)).fit(X, np.column_stack([y, -y]))
    assert two.predict_quantiles(X[:5]).shape == (5, 2, 2)


def test_multi_quantile_regressor_bad_input():
    X, y = noisy(50, 6)
    with pytest.raises(ValueError, match="no parameter 'quantile'"):
        MultiQuantileRegressor(Ridge()).fit(X, y)
    with pytest.raises(ValueError, match="at least two increasing"):
        MultiQuantileRegressor(QuantileRegressor(), quantiles=(0.5,)).fit(X, y)


def test_quantile_averager_is_the_weighted_mean():
    X, y = noisy(300, 7)
    levels = (0.1, 0.5, 0.9)
    hgb = MultiQuantileRegressor(
        HistGradientBoostingRegressor(loss="quantile", max_iter=20, random_state=0), levels
    )
    linear = MultiQuantileRegressor(QuantileRegressor(alpha=0.0), levels)
    model = QuantileAverager([("hgb", hgb), ("linear", linear)], weights=[3, 1]).fit(X, y)
    np.testing.assert_allclose(model.weights_, [0.75, 0.25])
    parts = [m.predict_quantiles(X) for m in model.estimators_]
    np.testing.assert_allclose(
        model.predict_quantiles(X), np.sort(0.75 * parts[0] + 0.25 * parts[1], axis=1)
    )
    np.testing.assert_array_equal(model.predict(X), model.predict_quantiles(X)[:, 1])
    with pytest.raises(ValueError, match="2 finite non-negative"):
        QuantileAverager([("hgb", hgb), ("linear", linear)], weights=[1, -1]).fit(X, y)
    with pytest.raises(ValueError, match="no predict_quantiles"):
        QuantileAverager([("ridge", Ridge())]).fit(X, y)
