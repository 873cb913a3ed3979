"""SupReMix: the loss by hand, the Gram route against explicit mixtures, and in DIRRegressor."""

import itertools
import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skdir.nn import DIRRegressor, SupReMix, supremix_loss

E = math.exp


def _explicit_loss(z, y, weight, share, temperature, threshold, window):
    """SupReMix built the slow way: every mixture as a vector, loops over anchors."""
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(len(z), -1)
    q = z / np.linalg.norm(z, axis=1, keepdims=True)
    n = len(z)

    def sim(i, v):
        return q[i] @ v / (np.linalg.norm(v) * temperature)

    total = 0.0
    for i in range(n):
        dist = np.linalg.norm(y - y[i], axis=1)
        positives, negatives = [], []  # logits, and (logit, distance) pairs
        for j in range(n):
            if j != i and dist[j] <= threshold:
                positives.append(sim(i, q[j]))
            if dist[j] > threshold:
                negatives.append((sim(i, q[j]), dist[j]))
                a = share[i][j]
                mixed = a * q[i] + (1 - a) * q[j]
                mixed_label = a * y[i] + (1 - a) * y[j]
                if np.linalg.norm(mixed_label - y[i]) > threshold:
                    negatives.append((sim(i, mixed), np.linalg.norm(mixed_label - y[i])))
        near = [j for j in range(n) if threshold < dist[j] <= window]
        for j, k in itertools.combinations(near, 2):
            # the share of y_j that brings the mixed label closest to y_i, by least squares
            segment = y[j] - y[k]
            if not segment.any():  # equal labels: the mixture sits at a negative's label
                continue
            lam = float(np.clip(np.dot(y[i] - y[k], segment) / np.dot(segment, segment), 0, 1))
            if np.linalg.norm(lam * y[j] + (1 - lam) * y[k] - y[i]) <= threshold:
                positives.append(sim(i, lam * q[j] + (1 - lam) * q[k]))
        if not positives or not negatives:
            continue
        denominator = sum(math.exp(s) for s in positives) + sum(
            (d + 1) * math.exp(s) for s, d in negatives
        )
        anchor = -np.mean([s - math.log(denominator) for s in positives])
        total += weight[i] * anchor
    return total / n


def test_loss_by_hand_on_four_samples():
    # anchor 0 (y = 1): positive 3 (|1 - 1.1| <= 0.25), negatives 1 and 2 (distance 1),
    # which bracket it: hard positive 0.5 q1 + 0.5 q2 = (0.6, 0), cosine 1 with q0
    z = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.6, -0.8], [0.8, 0.6]], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 2.0, 1.1], dtype=torch.float64)
    share = torch.full((4, 4), 0.5, dtype=torch.float64)  # hard negatives at distance 0.5
    weight = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    loss = supremix_loss(
        z, y, weight, temperature=1.0, threshold=0.25, window=1.5, negative_share=share
    )
    # hard negatives (0.8, +-0.4): cosine 0.8 / sqrt(0.8) with q0, weight 0.5 + 1
    hard_negative = 0.8 / math.sqrt(0.8)
    denominator = E(0.8) + E(1.0) + 2 * 2 * E(0.6) + 2 * 1.5 * E(hard_negative)
    anchor0 = math.log(denominator) - (0.8 + 1.0) / 2
    assert loss.item() == pytest.approx(anchor0 / 4, abs=1e-6)
    # anchor 3 (y = 1.1): positive 0; negatives 1 (1.1), 2 (0.9); hard positive
    # 0.45 q1 + 0.55 q2 = (0.6, -0.08); hard negatives 0.5 q3 + 0.5 q1 / q2
    weight = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    loss = supremix_loss(
        z, y, weight, temperature=1.0, threshold=0.25, window=1.5, negative_share=share
    )
    positive = (0.8 * 0.6 - 0.6 * 0.08) / math.sqrt(0.36 + 0.0064)
    mix1, mix2 = np.array([0.7, 0.7]), np.array([0.7, -0.1])
    cos1 = (0.8 * 0.7 + 0.6 * 0.7) / np.linalg.norm(mix1)
    cos2 = (0.8 * 0.7 - 0.6 * 0.1) / np.linalg.norm(mix2)
    denominator = (
        E(0.8)
        + E(positive)
        + 2.1 * E(0.8 * 0.6 + 0.6 * 0.8)
        + 1.9 * E(0.8 * 0.6 - 0.6 * 0.8)
        + 1.55 * E(cos1)
        + 1.45 * E(cos2)
    )
    anchor3 = math.log(denominator) - (0.8 + positive) / 2
    assert loss.item() == pytest.approx(anchor3 / 4, abs=1e-6)


def test_no_hard_positive_without_bracketing_negatives():
    # both negatives above the anchor: the projection clips, the residual is 1 > 0.25
    z = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.6, -0.8], [0.8, 0.6]], dtype=torch.float64)
    y = torch.tensor([1.0, 2.2, 2.0, 1.1], dtype=torch.float64)
    share = torch.ones(4, 4, dtype=torch.float64)  # a = 1: no hard negatives at all
    weight = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    loss = supremix_loss(
        z, y, weight, temperature=1.0, threshold=0.25, window=1.5, negative_share=share
    )
    denominator = E(0.8) + 2.2 * E(0.6) + 2.0 * E(0.6)
    assert loss.item() == pytest.approx((math.log(denominator) - 0.8) / 4, abs=1e-6)


@pytest.mark.parametrize("n_targets", [1, 2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gram_route_equals_explicit_mixtures(n_targets, seed):
    gen = torch.Generator().manual_seed(seed)
    n = 7
    z = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 6, (n, n_targets), generator=gen).to(torch.float64) * 0.3
    weight = torch.rand(n, generator=gen, dtype=torch.float64) + 0.5
    share = torch.rand(n, n, generator=gen, dtype=torch.float64)
    params = dict(temperature=0.5, threshold=0.35, window=1.3)
    loss = supremix_loss(z, y, weight, negative_share=share, **params)
    expected = _explicit_loss(z, y, weight.numpy(), share.numpy(), **params)
    assert expected > 0
    assert loss.item() == pytest.approx(expected, abs=1e-9)


def test_gram_route_on_four_samples_with_two_dimensional_features():
    z = torch.tensor([[1.0, 0.2], [0.3, 0.9], [-0.5, 0.4], [0.7, -0.6]], dtype=torch.float64)
    y = torch.tensor([0.5, 0.0, 1.0, 0.55], dtype=torch.float64)
    share = torch.tensor([[0.3, 0.2, 0.9, 0.1]] * 4, dtype=torch.float64)
    params = dict(temperature=0.2, threshold=0.25, window=1.0)
    loss = supremix_loss(z, y, negative_share=share, **params)
    expected = _explicit_loss(z, y, np.ones(4), share.numpy(), **params)
    assert loss.item() == pytest.approx(expected, abs=1e-9)


def test_two_targets_generalise_the_bracketing_rule():
    z = torch.randn(5, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    y = torch.tensor([0.0, -0.8, 0.8, 0.1, 2.0], dtype=torch.float64)
    share = torch.full((5, 5), 0.4, dtype=torch.float64)
    params = dict(temperature=0.3, threshold=0.25, window=1.0, negative_share=share)
    one = supremix_loss(z, y, **params)
    padded = supremix_loss(z, torch.stack([y, torch.zeros(5, dtype=torch.float64)], 1), **params)
    assert padded.item() == pytest.approx(one.item(), abs=1e-12)
    # off the line: the midpoint of (-0.8, 0.3) and (0.8, 0.3) is 0.3 away from (0, 0)
    f64 = torch.float64
    off = torch.tensor([[0.0, 0], [-0.8, 0.3], [0.8, 0.3], [0.1, 0], [2.0, 0]], dtype=f64)
    near = torch.tensor([[0.0, 0], [-0.8, 0.2], [0.8, 0.2], [0.1, 0], [2.0, 0]], dtype=f64)
    for labels in (off, near):
        expected = _explicit_loss(z, labels, np.ones(5), share.numpy(), 0.3, 0.25, 1.0)
        assert supremix_loss(z, labels, **params).item() == pytest.approx(expected, abs=1e-9)
    # anchor 0 gains the hard positive only when the residual is <= threshold
    w0 = torch.tensor([1.0, 0, 0, 0, 0], dtype=torch.float64)
    base = dict(temperature=0.3, threshold=0.25, window=1.0, negative_share=share)
    assert supremix_loss(z, off, w0, **base) != supremix_loss(z, near, w0, **base)


def test_gradient_reaches_the_features():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(16, 5, generator=gen, requires_grad=True)
    y = torch.linspace(0, 3, 16)
    torch.manual_seed(0)
    loss = supremix_loss(z, y)
    loss.backward()
    assert loss.item() > 0
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    # descending the loss lowers it
    with torch.no_grad():
        moved = z - 0.5 * z.grad
    torch.manual_seed(0)
    assert supremix_loss(moved, y).item() < loss.item()


def test_no_positives_or_no_negatives_give_zero():
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), requires_grad=True)
    far = torch.tensor([0.0, 1.0, 2.0, 3.0])  # all apart, no bracket within the window
    loss = supremix_loss(z, far, threshold=0.25, window=0.5)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.all(z.grad == 0)
    same = torch.zeros(4)  # all positives, no negative
    assert supremix_loss(z, same).item() == 0.0
    assert supremix_loss(z[:0], same[:0]).item() == 0.0


def test_draws_come_from_the_global_generator():
    z, y = torch.randn(10, 3), torch.linspace(0, 2, 10)
    torch.manual_seed(5)
    first = supremix_loss(z, y, negative_beta=(2, 8))
    torch.manual_seed(5)
    assert supremix_loss(z, y, negative_beta=(2, 8)).item() == first.item()
    assert supremix_loss(z, y, negative_beta=(2, 8)).item() != first.item()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"weight": -1.0}, r"weight=-1\.0.*non-negative"),
        ({"pretrain_epochs": 2.5}, r"pretrain_epochs=2\.5.*integer >= 0"),
        ({"pretrain_epochs": -1}, r"pretrain_epochs=-1"),
        ({"pretrain_lr": 0.0}, r"pretrain_lr=0\.0.*positive.*or None"),
        ({"temperature": 0.0}, r"temperature=0\.0.*positive.*0\.05 to 0\.5"),
        ({"threshold": -0.1}, r"threshold=-0\.1.*standard deviations"),
        ({"window": "wide"}, r"window='wide'.*positive"),
        ({"negative_beta": 5.0}, r"negative_beta=5\.0.*pair"),
        ({"negative_beta": (5.0, 0.0)}, r"negative_beta=\(5\.0, 0\.0\).*positive"),
        ({"probe": "yes"}, r"probe='yes'.*True or False"),
        ({"probe": True, "weight": 0.1}, r"probe=True, weight=0\.1.*weight=0 or probe=False"),
    ],
)
def test_bad_parameters_name_the_fix(params, match, regression_data):
    X, y = regression_data(n=40, d=3)
    net = DIRRegressor(regularizers=[("s", SupReMix(**params))], max_epochs=1, device="cpu")
    with pytest.raises(ValueError, match=match):
        net.fit(X, y)


def test_loss_function_refuses_bad_shapes():
    with pytest.raises(ValueError, match="negative_share must have shape"):
        supremix_loss(torch.zeros(3, 2), torch.zeros(3), negative_share=torch.zeros(2, 2))
    with pytest.raises(ValueError, match="temperature"):
        supremix_loss(torch.zeros(3, 2), torch.zeros(3), temperature=0)


def _fit(X, y, **supremix):
    params = dict(module="mlp", module__hidden=(16,), max_epochs=3, batch_size=32)
    reg = SupReMix(**supremix)
    return DIRRegressor(regularizers=[("sup", reg)], device="cpu", random_state=0, **params).fit(
        X, y
    )


def test_fit_is_deterministic_and_two_targets_work(regression_data):
    X, y = regression_data(n=100, d=5)
    first = _fit(X, y, pretrain_epochs=2, weight=0.5)
    again = _fit(X, y, pretrain_epochs=2, weight=0.5)
    np.testing.assert_array_equal(first.predict(X), again.predict(X))
    assert first.regularizers_["sup"].pretrain_losses_.shape == (2,)
    off = _fit(X, y, pretrain_epochs=0, weight=0.0)
    assert not off.regularizers_["sup"].active
    Y = np.column_stack([y, X[:, 1]])
    two = _fit(X, Y, pretrain_epochs=2, weight=0.5)
    assert two.predict(X).shape == (100, 2)
    assert np.all(np.isfinite(two.regularizers_["sup"].pretrain_losses_))


def test_pretraining_lowers_its_loss_and_leaves_the_head_untouched(regression_data):
    X, y = regression_data(n=120, d=5)
    params = dict(module="mlp", module__hidden=(16,), max_epochs=1, lr=0.0, device="cpu")
    params.update(early_stopping=False, validation_fraction=None, random_state=0)
    stage = SupReMix(pretrain_epochs=8, pretrain_lr=0.01)
    net = DIRRegressor(regularizers=[("sup", stage)], **params).fit(X, y)
    plain = DIRRegressor(**params).fit(X, y)
    losses = net.regularizers_["sup"].pretrain_losses_
    assert losses.shape == (8,)
    assert losses[-1] < 0.9 * losses[0]
    torch.testing.assert_close(net.module_.head.weight, plain.module_.head.weight)
    torch.testing.assert_close(net.module_.head.bias, plain.module_.head.bias)
    trunk = [p for name, p in net.module_.named_parameters() if not name.startswith("head")]
    untrained = [p for name, p in plain.module_.named_parameters() if not name.startswith("head")]
    assert any(not torch.equal(a, b) for a, b in zip(trunk, untrained, strict=True))


def test_linear_probe_trains_the_head_only_then_releases_the_features(regression_data):
    X, y = regression_data(n=120, d=5)
    params = dict(module="mlp", module__hidden=(16,), max_epochs=4, device="cpu", random_state=0)
    params.update(early_stopping=False, validation_fraction=None)
    pretrained = DIRRegressor(
        regularizers=[("sup", SupReMix(pretrain_epochs=3))], **{**params, "max_epochs": 0}
    ).fit(X, y)
    probed = DIRRegressor(
        regularizers=[("sup", SupReMix(pretrain_epochs=3, probe=True))], **params
    )
    probed.fit(X, y)
    for (name, after), before in zip(
        probed.module_.named_parameters(), pretrained.module_.parameters(), strict=True
    ):
        assert after.requires_grad  # released
        if name.startswith("head"):
            assert not torch.equal(after, before)  # the probe trained the output layer
        else:
            torch.testing.assert_close(after, before, rtol=0, atol=0)  # features frozen
    assert probed.score(X, y) > pretrained.score(X, y)


def test_clone_and_pickle_of_a_fitted_regressor(regression_data):
    X, y = regression_data(n=80, d=4)
    net = _fit(X, y, pretrain_epochs=1, negative_beta=(2, 8), window=0.8)
    copy = clone(net)
    assert copy.get_params()["regularizers__sup__negative_beta"] == (2, 8)
    assert copy.get_params()["regularizers__sup__window"] == 0.8
    assert not hasattr(copy.regularizers[0][1], "pretrain_losses_")
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.predict(X), net.predict(X))
    np.testing.assert_array_equal(
        restored.regularizers_["sup"].pretrain_losses_, net.regularizers_["sup"].pretrain_losses_
    )
