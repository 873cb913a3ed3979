"""ModalityBalance: OGM-GE gradient modulation of the modality towers."""

from __future__ import annotations

import math
import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skdir.nn import DIRRegressor, FusionTransformer, ModalityBalance, TwoTower
from skdir.nn.balance import modulation_coefficients
from skdir.nn.base import TrainingBatch

FAST = dict(max_epochs=3, batch_size=32, device="cpu", early_stopping=False)


def _data(n=80, n_targets=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8)).astype(np.float32)
    y = 3.0 * X[:, :1] + 0.5 * np.sin(X[:, 4:5]) + rng.normal(0, 0.1, size=(n, 1))
    if n_targets == 2:
        y = np.hstack([y, 2.0 * X[:, 1:2] - X[:, 5:6] * X[:, 6:7]])
    return X, y.ravel() if n_targets == 1 else y


def test_coefficients_by_hand():
    # two modalities: s = 1 / mse = (2, 0.5), rho_a = 2 / 0.5 = 4, rho_b = 1 / 4
    k, rho = modulation_coefficients(torch.tensor([0.5, 2.0], dtype=torch.float64), alpha=0.5)
    np.testing.assert_allclose(rho.numpy(), [4.0, 0.25])
    np.testing.assert_allclose(k.numpy(), [1 - math.tanh(2.0), 1.0])
    # three: s = (1, 0.5, 0.25); rho_u = s_u / mean of the others' s
    k, rho = modulation_coefficients(torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64), 0.1)
    np.testing.assert_allclose(rho.numpy(), [1 / 0.375, 0.5 / 0.625, 0.25 / 0.75])
    np.testing.assert_allclose(k.numpy(), [1 - math.tanh(0.1 / 0.375), 1.0, 1.0])
    # equal errors: nobody dominates (rho = 1 is not > 1)
    k, rho = modulation_coefficients(torch.tensor([0.3, 0.3]), 2.0)
    np.testing.assert_allclose(k.numpy(), [1.0, 1.0])
    with pytest.raises(ValueError, match="one error per modality"):
        modulation_coefficients(torch.tensor([0.3]), 0.1)


@pytest.mark.parametrize(
    "module",
    [
        TwoTower(8, modalities=[5, 3], tower_dim=4, hidden=3),
        TwoTower(8, modalities=[4, 4], tower_dim=4, hidden=3, fusion="interaction"),
        FusionTransformer(8, modalities=[5, 3], d_model=4, n_heads=2, n_layers=1),
        FusionTransformer(8, n_blocks=3, d_model=4, n_heads=2, n_layers=1),
    ],
)
def test_features_are_the_fusion_of_the_modality_outputs(module):
    torch.manual_seed(0)
    X = torch.randn(6, 8)
    module.eval()
    torch.testing.assert_close(
        module.features(X), module.fuse(module.modality_outputs(X)), rtol=0, atol=0
    )
    assert len(module.modality_parameters()) == len(module.slices)


def _only_mse(module, X, y, scale):
    """The "only u" errors, computed here step by step (others' outputs -> batch mean)."""
    module.eval()
    with torch.no_grad():
        a, b = module.modality_outputs(X)
        a_bar = a.mean(0, keepdim=True).repeat(len(X), 1)
        b_bar = b.mean(0, keepdim=True).repeat(len(X), 1)
        only_a = module.head(module.fuse([a, b_bar]))
        only_b = module.head(module.fuse([a_bar, b]))
    module.train()
    return [float((((p - y) / scale) ** 2).mean()) for p in (only_a, only_b)]


@pytest.mark.parametrize("n_targets", [1, 2])
def test_one_step_scales_the_dominant_tower_only(n_targets):
    torch.manual_seed(0)
    module = TwoTower(8, n_outputs=n_targets, modalities=[4, 4], tower_dim=4, hidden=5)
    X = torch.randn(16, 8)
    # the target is what block A alone predicts (plus a little noise): A dominates
    with torch.no_grad():
        a, b = module.modality_outputs(X)
        target = module.head(module.fuse([a, b.mean(0, keepdim=True).expand_as(b)]))
    y = target + 0.01 * torch.randn_like(target)
    scale = torch.tensor([2.0, 0.5][:n_targets])
    mse_a, mse_b = _only_mse(module, X, y, scale)
    assert mse_a < mse_b
    alpha = 0.3
    k_a = 1 - math.tanh(alpha * mse_b / mse_a)  # rho_a = s_a / s_b = mse_b / mse_a

    module.train()
    loss = ((module(X) - y) ** 2).mean()
    loss.backward()
    plain = {name: p.grad.clone() for name, p in module.named_parameters()}
    batch = TrainingBatch(X=X, y=y, label_scale=scale)
    net = SimpleNamespace(module_=module, history=[])
    balance = ModalityBalance(alpha=alpha, noise=False)
    state = torch.get_rng_state()
    balance.after_backward(net, batch)
    assert torch.equal(state, torch.get_rng_state())  # no draws without noise
    assert module.training  # the mode is restored
    np.testing.assert_allclose(balance.coefficients_, [k_a, 1.0], rtol=1e-5)
    np.testing.assert_allclose(balance.ratios_, [mse_b / mse_a, mse_a / mse_b], rtol=1e-5)
    for name, parameter in module.named_parameters():
        expected = plain[name] * k_a if name.startswith("towers.0.") else plain[name]
        torch.testing.assert_close(parameter.grad, expected, rtol=1e-6, atol=0)
    assert not torch.equal(plain["towers.0.0.weight"], module.towers[0][0].weight.grad)


def test_noise_has_the_spread_of_the_unmodulated_gradient():
    torch.manual_seed(0)
    module = TwoTower(8, modalities=[4, 4], tower_dim=64, hidden=5, dropout=0.0)
    X = torch.randn(32, 8)
    with torch.no_grad():
        a, b = module.modality_outputs(X)
        y = module.head(module.fuse([a, b.mean(0, keepdim=True).expand_as(b)]))
    ((module(X) - y - 1.0) ** 2).mean().backward()
    weight = module.towers[0][0].weight  # 64 x 4
    plain = weight.grad.clone()
    net = SimpleNamespace(module_=module, history=[])
    balance = ModalityBalance(alpha=0.5, noise=True)
    torch.manual_seed(1)
    balance.after_backward(net, TrainingBatch(X=X, y=y))
    k = balance.coefficients_[0]
    assert k < 1
    torch.manual_seed(1)
    noise = torch.randn_like(plain) * plain.std()  # drawn as the component draws it
    # the weight is the first tower's first parameter, so its noise is the first draw
    torch.testing.assert_close(weight.grad, k * plain + noise, rtol=1e-5, atol=1e-7)


def test_determinism_and_effect_through_the_regressor():
    X, y = _data()
    params = dict(module="two_tower", module__modalities=[4, 4], random_state=3, **FAST)
    balanced = [("mb", ModalityBalance(alpha=0.5, noise=True))]
    first = DIRRegressor(regularizers=balanced, **params).fit(X, y)
    again = DIRRegressor(regularizers=balanced, **params).fit(X, y)
    np.testing.assert_array_equal(first.predict(X), again.predict(X))
    plain = DIRRegressor(**params).fit(X, y)
    assert not np.allclose(first.predict(X), plain.predict(X))
    fitted = first.regularizers_["mb"]
    assert fitted.coefficients_.shape == (2,) and fitted.coefficients_[0] < 1
    assert not hasattr(balanced[0][1], "coefficients_")  # the given one stays unfitted
    # alpha = 0 is off: the same network as without the component
    off = DIRRegressor(regularizers=[("mb", ModalityBalance(alpha=0.0))], **params).fit(X, y)
    np.testing.assert_array_equal(off.predict(X), plain.predict(X))


def test_two_targets_and_fusion_transformer():
    X, y = _data(n_targets=2)
    net = DIRRegressor(
        module="fusion_transformer",
        module__modalities=[4, 4],
        module__d_model=8,
        module__n_heads=2,
        module__n_layers=1,
        regularizers=[("mb", ModalityBalance(alpha=0.2))],
        random_state=0,
        **FAST,
    ).fit(X, y)
    assert net.predict(X).shape == (len(X), 2)
    assert net.regularizers_["mb"].coefficients_.shape == (2,)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(module="mlp"), "module='two_tower'"),
        (dict(module="interaction_mlp"), "modality_outputs"),
        (
            dict(module="two_tower", module__modalities=[4, 4], module__shared=True),
            "module__shared=False",
        ),
        (
            dict(
                module="fusion_transformer",
                module__modalities=[4, 4],
                module__shared=True,
                module__d_model=8,
                module__n_heads=2,
            ),
            "module__shared=False",
        ),
        (dict(module="two_tower", module__modalities=[8]), "at least two modalities"),
    ],
)
def test_modules_without_towers_of_their_own_are_refused(params, match):
    X, y = _data()
    net = DIRRegressor(regularizers=[("mb", ModalityBalance())], **params, **FAST)
    with pytest.raises(ValueError, match=match):
        net.fit(X, y)


@pytest.mark.parametrize("alpha", [-0.1, float("nan"), "0.1"])
def test_bad_alpha(alpha):
    X, y = _data()
    net = DIRRegressor(
        module="two_tower",
        module__modalities=[4, 4],
        regularizers=[("mb", ModalityBalance(alpha=alpha))],
        **FAST,
    )
    with pytest.raises(ValueError, match="non-negative number"):
        net.fit(X, y)


def test_adds_no_loss_term_clone_and_pickle():
    balance = ModalityBalance(alpha=0.3, noise=False)
    batch = TrainingBatch(X=torch.zeros(2, 2), y=torch.ones(2, 1))
    assert float(balance(batch)) == 0.0 and balance.weight == 0.0
    assert clone(balance).get_params() == {"alpha": 0.3, "noise": False}
    assert balance.active and not ModalityBalance(alpha=0).active
    X, y = _data()
    net = DIRRegressor(
        module="two_tower",
        module__modalities=[4, 4],
        regularizers=[("mb", balance)],
        random_state=0,
        **FAST,
    ).fit(X, y)
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.predict(X), net.predict(X))
    np.testing.assert_array_equal(
        restored.regularizers_["mb"].coefficients_, net.regularizers_["mb"].coefficients_
    )
    tuned = clone(net).set_params(regularizers__mb__alpha=0.7)
    assert tuned.regularizers[0][1].alpha == 0.7
