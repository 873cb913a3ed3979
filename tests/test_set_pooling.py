"""SetTransformer: Set Transformer pooling over bags of fragments (ISAB + PMA)."""

import math
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from skdir.datasets import make_imbalanced_regression
from skdir.nn import DIRRegressor, FeatureDistributionSmoothing, SetTransformer
from skdir.nn._bags import check_bags
from skdir.weighting import LDSWeighter

FAST = {"max_epochs": 6, "device": "cpu", "random_state": 0}
SMALL = {"module__hidden": 8, "module__n_heads": 2, "module__n_inducing": 4}


def _net(**kwargs):
    torch.manual_seed(0)
    params = {"hidden": 8, "n_heads": 2, "n_inducing": 3, "n_blocks": 2, "dropout": 0.0}
    params.update(kwargs)
    return SetTransformer(4, 2, **params).eval()


def _bags(n=60, d=4, lengths=(1, 6), seed=0):
    """Bags of 1-6 Gaussian fragments; target = largest dot product of two fragments."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(lengths[0], lengths[1] + 1, size=n)
    bags = [rng.normal(size=(k, d)).astype(np.float32) for k in sizes]
    return bags, np.array([_largest_similarity(b) for b in bags])


def _largest_similarity(bag):
    if len(bag) == 1:
        return 0.0
    gram = bag @ bag.T
    return float(gram[np.triu_indices(len(bag), 1)].max())


# ------------------------------------------------------------------ formula
def _reference(net, bag):
    """The paper's equations, head by head, on the real fragments of one bag."""

    def multihead(att, Q, K):
        q, k, v = att.query(Q), att.key(K), att.value(K)
        width = q.shape[1] // att.n_heads
        heads = []
        for j in range(att.n_heads):
            cols = slice(j * width, (j + 1) * width)
            scores = q[:, cols] @ k[:, cols].T / math.sqrt(width)
            weights = torch.exp(scores) / torch.exp(scores).sum(1, keepdim=True)
            heads.append(weights @ v[:, cols])
        return att.out(torch.cat(heads, dim=1))

    def mab(block, X, Y):
        H = block.norm_attention(X + multihead(block.attention, X, Y))
        return block.norm_output(H + block.feed_forward(H))

    H = net.embed(bag)
    for block in net.blocks:
        if block.inducing is None:
            H = mab(block.attend, H, H)  # SAB
        else:
            H = mab(block.attend, H, mab(block.induce, block.inducing[0], H))  # ISAB
    z = mab(net.pool_block, net.seed[0], net.pool_feed_forward(H))[0]
    return net.head(z)


@pytest.mark.parametrize("n_inducing", [3, None])
@pytest.mark.parametrize("layer_norm", [True, False])
def test_output_follows_the_isab_and_pma_equations(n_inducing, layer_norm):
    net = _net(n_inducing=n_inducing, layer_norm=layer_norm)
    bags = [torch.randn(k, 4) for k in (5, 2, 1)]
    padded = torch.from_numpy(check_bags([b.numpy() for b in bags]))
    with torch.no_grad():
        out = net(padded)
        for i, bag in enumerate(bags):
            torch.testing.assert_close(out[i], _reference(net, bag), rtol=1e-5, atol=1e-6)
    n_norms = sum(isinstance(m, torch.nn.LayerNorm) for m in net.modules())
    # two LayerNorms per MAB: 2 per SAB, 4 per ISAB, 2 in PMA
    assert n_norms == (2 * (2 * (2 if n_inducing else 1)) + 2 if layer_norm else 0)


def _set_weights(net, seed, key):
    """1 feature, width 1, one head, ReLU, no LayerNorm: every weight 1 and bias 0, but
    the pooling seed ``S = seed`` and the pooling key weight ``W^K = key``."""
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.fill_(1.0)
        for name, parameter in net.named_parameters():
            if name.endswith("bias"):
                parameter.zero_()
        net.seed.fill_(seed)
        net.pool_block.attention.key.weight.fill_(key)


def test_hand_computed_one_dimensional_pooling():
    net = SetTransformer(
        1, hidden=1, n_heads=1, n_blocks=0, dim_feedforward=1, dropout=0.0,
        activation="relu", layer_norm=False,
    ).eval()  # fmt: skip
    bag = torch.tensor([[[1.0], [3.0]]])
    padded = torch.tensor([[[1.0], [float("nan")], [3.0], [float("nan")]]])
    # W^K = 0: equal keys, uniform attention, the pooled value is the mean 2;
    # H = S + 2 = 2.5 and z = H + relu(H) = 5
    _set_weights(net, seed=0.5, key=0.0)
    with torch.no_grad():
        assert net(bag).item() == pytest.approx(5.0, abs=1e-6)
        assert net(padded).item() == pytest.approx(5.0, abs=1e-6)
        assert net.attention(padded)[0].tolist() == [0.5, 0.0, 0.5, 0.0]
    # W^K = 1, S = 1: logits q k = 1 and 3, weights 1 / (1 + e^2) and e^2 / (1 + e^2),
    # the pooled value 3 - 2 / (1 + e^2) = 2.76159; H = 1 + 2.76159, z = 2 H
    _set_weights(net, seed=1.0, key=1.0)
    low = 1.0 / (1.0 + math.e**2)
    with torch.no_grad():
        assert net(bag).item() == pytest.approx(2 * (1 + 3 - 2 * low), abs=1e-5)  # 7.52319
        assert net(padded).item() == pytest.approx(7.5231883, abs=1e-5)
        np.testing.assert_allclose(
            net.attention(padded)[0].numpy(), [low, 0.0, 1 - low, 0.0], atol=1e-7
        )


# --------------------------------------------------------------- invariances
@pytest.mark.parametrize(
    "params",
    [{}, {"n_inducing": None}, {"n_blocks": 0}, {"n_blocks": 1, "n_heads": 4}],
)
def test_shapes_and_permutation_and_padding_invariance(params):
    net = _net(**params)
    rng = np.random.default_rng(1)
    bags = [rng.normal(size=(k, 4)).astype(np.float32) for k in (6, 1, 3, 2)]
    X = torch.from_numpy(check_bags(bags))
    with torch.no_grad():
        out, z, weights = net(X), net.features(X), net.attention(X)
        assert out.shape == (4, 2) and z.shape == (4, 8) and weights.shape == (4, 6)
        assert net.embedding_dim == 8
        torch.testing.assert_close(weights.sum(1), torch.ones(4))
        assert torch.all(weights[torch.isnan(X).all(-1)] == 0.0)  # exactly zero
        # permuting the rows of every bag (padding included) changes nothing
        perm = torch.tensor([4, 2, 0, 5, 1, 3])
        torch.testing.assert_close(net(X[:, perm]), out, rtol=0, atol=1e-6)
        torch.testing.assert_close(net.attention(X[:, perm]), weights[:, perm], atol=1e-7, rtol=0)
        # more padding, at the end or in the middle, changes nothing
        wider = torch.full((4, 11, 4), float("nan"))
        wider[:, [0, 2, 3, 7, 8, 10]] = X
        torch.testing.assert_close(net(wider), out, rtol=0, atol=1e-6)
        for i, bag in enumerate(bags):  # nor does the batch
            torch.testing.assert_close(
                net(torch.from_numpy(bag)[None])[0], out[i], rtol=0, atol=1e-6
            )
        # attention averages: every fragment twice gives the bag's output
        doubled = torch.from_numpy(check_bags([np.vstack([b, b]) for b in bags]))
        torch.testing.assert_close(net(doubled), out, rtol=0, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 7), min_size=1, max_size=5),
    extra_padding=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_random_bags_are_order_and_padding_free(lengths, extra_padding, seed):
    net = _net()
    rng = np.random.default_rng(seed)
    bags = [rng.normal(size=(k, 4)).astype(np.float32) for k in lengths]
    padded = check_bags(bags)
    padded = np.concatenate(
        [padded, np.full((len(bags), extra_padding, 4), np.nan, np.float32)], axis=1
    )
    shuffled = np.stack([p[rng.permutation(len(p))] for p in padded])
    with torch.no_grad():
        batched = net(torch.from_numpy(padded))
        torch.testing.assert_close(net(torch.from_numpy(shuffled)), batched, rtol=0, atol=1e-6)
        for i, bag in enumerate(bags):
            alone = net(torch.from_numpy(bag)[None])[0]
            torch.testing.assert_close(batched[i], alone, rtol=0, atol=1e-6)


def test_fragments_interact_only_through_the_blocks():
    """One head: the pooling weights are a softmax of one logit per fragment. Without
    blocks a fragment's logit is its own (the log-odds of a and b, b and c, a and c
    add up across bags); with a block it depends on the other fragments."""
    rng = np.random.default_rng(0)
    a, b, c = (3 * rng.normal(size=(1, 4)).astype(np.float32) for _ in range(3))

    def log_odds(net, first, second):
        weights = net.attention(torch.from_numpy(np.vstack([first, second]))[None])[0]
        return math.log(weights[0] / weights[1])

    gaps = {}
    for n_blocks in (0, 1):
        net = _net(n_blocks=n_blocks, n_heads=1)
        with torch.no_grad():
            net.pool_block.attention.key.weight.mul_(10)  # sharper than at initialisation
            gaps[n_blocks] = log_odds(net, a, b) + log_odds(net, b, c) - log_odds(net, a, c)
    # measured: 3e-8 (float32 rounding) without blocks, -0.021 with one ISAB
    assert abs(gaps[0]) < 1e-6 and abs(gaps[1]) > 1e-2


def test_rejects_bad_parameters_and_bags():
    cases = [
        ({"hidden": 6, "n_heads": 4}, "must divide hidden=6"),
        ({"n_blocks": -1}, "non-negative integer"),
        ({"n_inducing": 0}, "n_inducing must be a positive integer"),
        ({"activation": "swish"}, "Unknown activation 'swish'"),
        ({"layer_norm": 1}, "layer_norm must be True or False"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ]
    for params, message in cases:
        with pytest.raises(ValueError, match=message):
            SetTransformer(4, **params)
    partial, empty = torch.zeros(1, 2, 4), torch.zeros(2, 2, 4)
    partial[0, 1, 0] = empty[1] = float("nan")  # the bag rules of skdir.nn.AttentionMIL
    for X, message in [
        (torch.zeros(3, 4), "SetTransformer expects bags"),
        (partial, "some but not all"),
        (empty, "no fragments"),
    ]:
        with pytest.raises(ValueError, match=message):
            _net()(X)


# ------------------------------------------------------------- DIRRegressor
def test_regressor_on_bags_is_deterministic_and_survives_pickle_and_clone():
    bags, y = _bags()
    params = {**SMALL, **FAST}
    net = DIRRegressor("set_transformer", **params).fit(bags, y)
    assert isinstance(net.module_, SetTransformer) and net.n_features_in_ == 4
    pred = net.predict(bags)
    assert pred.shape == (len(bags),) and np.all(np.isfinite(pred))
    np.testing.assert_array_equal(
        DIRRegressor("set_transformer", **params).fit(bags, y).predict(bags), pred
    )
    other = DIRRegressor("set_transformer", **{**params, "random_state": 1}).fit(bags, y)
    assert np.abs(other.predict(bags) - pred).max() > 1e-3
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(net)).predict(bags), pred)
    np.testing.assert_array_equal(clone(net).fit(bags, y).predict(bags), pred)
    padded = check_bags(bags)  # the padded form, with more padding, predicts the same
    wider = np.concatenate([padded, np.full((len(bags), 3, 4), np.nan, np.float32)], axis=1)
    np.testing.assert_allclose(net.predict(wider), pred, rtol=0, atol=1e-5)
    weights = net.attention_weights(bags)
    assert weights.shape == padded.shape[:2]
    np.testing.assert_allclose(weights.sum(1), 1.0, rtol=1e-6)
    assert np.all(weights[np.isnan(padded).all(-1)] == 0.0)
    assert net.transform_features(bags).shape == (len(bags), 8)


def test_two_targets_with_lds_fds_and_an_eval_set():
    bags, y, _ = make_imbalanced_regression(
        80, 12, n_targets=2, n_fragments=(2, 5), random_state=0
    )
    net = DIRRegressor(
        "set_transformer",
        weighter=LDSWeighter(),
        fds=FeatureDistributionSmoothing(),
        **SMALL,
        **FAST,
    ).fit(bags[:60], y[:60], eval_set=(bags[60:], y[60:]))
    pred = net.predict(bags[60:])
    assert pred.shape == (20, 2) and np.all(np.isfinite(pred))
    assert net.feature_smoothing_.embedding_dim == 8
    # the output bias starts at each target's training mean (lr=0: it stays there)
    still = DIRRegressor(
        "set_transformer", lr=0.0, max_epochs=1, early_stopping=False,
        validation_fraction=None, **SMALL, device="cpu", random_state=0,
    ).fit(bags, y)  # fmt: skip
    np.testing.assert_allclose(still.module_.head.bias.detach().numpy(), y.mean(0), rtol=1e-6)


def test_regressor_rejects_unknown_module_parameters():
    bags, y = _bags(n=20)
    with pytest.raises(ValueError, match="must divide hidden"):
        DIRRegressor("set_transformer", module__hidden=6, module__n_heads=4, **FAST).fit(bags, y)
    with pytest.raises(ValueError, match="3 dimensions"):
        DIRRegressor(**FAST).fit(check_bags(bags), y)


def _pair_bags(n, seed):
    """Bags of 2-6 fragments in 2-D; target = mean dot product over the pairs of fragments."""
    rng = np.random.default_rng(seed)
    bags = [rng.normal(size=(k, 2)).astype(np.float32) for k in rng.integers(2, 7, size=n)]
    y = np.array([(b @ b.T)[np.triu_indices(len(b), 1)].mean() for b in bags])
    return bags, y


@pytest.mark.slow
def test_set_transformer_learns_a_pairwise_target_that_attention_mil_cannot():
    """Attention-MIL's prediction is linear in a weighted mean of per-fragment codes, so
    a product of two fragments is out of its reach; self-attention computes it."""
    (bags, y), (test_bags, y_test) = _pair_bags(400, 0), _pair_bags(300, 1)
    params = {"lr": 3e-3, "max_epochs": 40, "device": "cpu", "random_state": 0}
    mse = {}
    for module, extra in [
        (
            "set_transformer",
            {"module__hidden": 16, "module__n_heads": 2, "module__n_inducing": None},
        ),
        ("attention_mil", {"module__hidden": (16,), "module__attention_dim": 8}),
    ]:
        reg = DIRRegressor(module, module__dropout=0.0, **extra, **params).fit(bags, y)
        mse[module] = np.mean((reg.predict(test_bags) - y_test) ** 2)
    # measured: 0.137 against 0.605 (Var y_test = 0.639)
    assert mse["set_transformer"] < 0.3 * mse["attention_mil"]
    assert mse["attention_mil"] > 0.8 * np.var(y_test)
