"""Modules of skdir.nn: two-tower fusion, fusion transformer, attention-MIL and bags."""

import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler

from skdir.datasets import make_imbalanced_regression
from skdir.nn import (
    AttentionMIL,
    DIRRegressor,
    FeatureDistributionSmoothing,
    FusionTransformer,
    InteractionMLP,
    ScaledOutput,
    TwoTower,
)
from skdir.nn._bags import check_bags
from skdir.weighting import LDSWeighter

# Not the shared fast_params fixture: 6 epochs and each module's own default widths
# (fast_params sets module__hidden, which the two-tower, transformer and MIL modules
# read differently); the numbers asserted below were measured with these settings.
FAST = {"max_epochs": 6, "device": "cpu", "random_state": 0}


def _bags(n=60, d=4, lengths=(1, 6), seed=0):
    """Bags of 1-6 Gaussian fragments; target = max of feature 0 over the bag."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(lengths[0], lengths[1] + 1, size=n)
    bags = [rng.normal(size=(k, d)).astype(np.float32) for k in sizes]
    y = np.array([bag[:, 0].max() for bag in bags], dtype=np.float64)
    return bags, y


def _trunk_input(net, X):
    """The tensor that enters ``net.trunk`` (the fused tower outputs)."""
    seen = {}
    handle = net.trunk.register_forward_pre_hook(lambda _, args: seen.update(x=args[0]))
    net.features(X)
    handle.remove()
    return seen["x"]


# ------------------------------------------------------------------ TwoTower
def test_two_tower_interaction_fuses_a_b_absdiff_product():
    torch.manual_seed(0)
    net = TwoTower(
        6, modalities=[3, 3], tower_dim=4, hidden=5, fusion="interaction", dropout=0.0
    ).eval()
    X = torch.randn(7, 6)
    a, b = net.towers[0](X[:, :3]), net.towers[1](X[:, 3:])
    fused = _trunk_input(net, X)
    assert fused.shape == (7, 16) and net.trunk[0][0].in_features == 16
    torch.testing.assert_close(fused, torch.cat([a, b, (a - b).abs(), a * b], dim=1))
    torch.testing.assert_close(net(X), net.head(net.trunk(fused)))
    concat = TwoTower(6, modalities=[3, 3], tower_dim=4, hidden=5)
    assert concat.trunk[0][0].in_features == 8
    with pytest.raises(ValueError, match="exactly two modalities"):
        TwoTower(6, modalities=[2, 2, 2], fusion="interaction")
    with pytest.raises(ValueError, match="fusion must be"):
        TwoTower(6, modalities=[3, 3], fusion="sum")


def test_two_tower_shared_uses_one_tower_for_both_modalities():
    torch.manual_seed(0)
    shared = TwoTower(
        6, modalities=[3, 3], tower_dim=4, hidden=5, shared=True, fusion="interaction", dropout=0.0
    ).eval()
    separate = TwoTower(
        6, modalities=[3, 3], tower_dim=4, hidden=5, fusion="interaction", dropout=0.0
    ).eval()
    assert len(shared.towers) == 1 and len(separate.towers) == 2
    n_params = sum(p.numel() for p in shared.parameters())
    assert sum(p.numel() for p in separate.parameters()) - n_params == 3 * 4 + 4 + 2 * 4
    half = torch.randn(5, 3)
    X = torch.cat([half, half], dim=1)  # both modalities carry the same values
    fused = _trunk_input(shared, X)
    torch.testing.assert_close(fused[:, :4], fused[:, 4:8], rtol=0, atol=0)  # a == b
    assert torch.count_nonzero(fused[:, 8:12]) == 0  # |a - b|
    fused_separate = _trunk_input(separate, X)
    assert not torch.allclose(fused_separate[:, :4], fused_separate[:, 4:8])
    with pytest.raises(ValueError, match="equal width"):
        TwoTower(7, modalities=[3, 4], shared=True)


def test_two_tower_options_through_the_regressor(regression_data):
    X, y = regression_data()
    net = DIRRegressor(
        "two_tower",
        module__modalities=[5, 5],
        module__shared=True,
        module__fusion="interaction",
        module__hidden=(8,),
        **FAST,
    ).fit(X, y)
    assert len(net.module_.towers) == 1 and np.all(np.isfinite(net.predict(X)))


# ------------------------------------------------------------- output bias init
@pytest.mark.parametrize("module", ["mlp", "fusion_transformer", "attention_mil"])
def test_output_bias_starts_at_the_training_target_mean(module, regression_data):
    X, y = regression_data()
    Y = np.column_stack([y + 3.0, 10 * y - 1.0])
    if module == "attention_mil":
        X = X.reshape(len(X), 2, 5)
    params = {"module__d_model": 8, "module__n_heads": 2} if module == "fusion_transformer" else {}
    params.update(FAST, lr=0.0, max_epochs=1, early_stopping=False, validation_fraction=None)
    net = DIRRegressor(module, **params).fit(X, Y)
    np.testing.assert_allclose(net.module_.head.bias.detach().numpy(), Y.mean(0), rtol=1e-6)
    scaled = DIRRegressor(module, target_transformer=StandardScaler(), **params).fit(X, Y)
    np.testing.assert_allclose(scaled.module_.head.bias.detach().numpy(), 0.0, atol=1e-6)


# ---------------------------------------------------------- FusionTransformer
def test_fusion_transformer_tokens_blocks_and_modalities():
    net = FusionTransformer(10, n_blocks=4, d_model=8, n_heads=2, n_layers=1)
    assert [s.stop - s.start for s in net.slices] == [3, 3, 2, 2]
    assert [s.start for s in net.slices] == [0, 3, 6, 8]
    tokens = net.tokens(torch.randn(5, 10))
    assert tokens.shape == (5, 5, 8)
    torch.testing.assert_close(tokens[:, 0], net.reg_token[0].expand(5, -1))
    X = torch.randn(3, 10)
    expected = net.projections[2](X[:, 6:8]) + net.modality_embedding[2]
    torch.testing.assert_close(net.tokens(X)[:, 3], expected)  # token 3 = block 2
    slices = FusionTransformer(10, modalities=[slice(0, 6), slice(6, 10)], d_model=8, n_heads=2)
    assert len(slices.projections) == 2 and slices.embedding_dim == 8
    for layer in slices.encoder.layers:
        assert layer.norm_first and layer.self_attn.batch_first
    with pytest.raises(ValueError, match="must divide d_model"):
        FusionTransformer(10, d_model=10, n_heads=4)
    with pytest.raises(ValueError, match="more than the 10 input columns"):
        FusionTransformer(10, n_blocks=11)
    with pytest.raises(ValueError, match="sum to the 10"):
        FusionTransformer(10, modalities=[3, 3])
    with pytest.raises(ValueError, match="2-D input"):
        net(torch.zeros(2, 3, 10))


def test_fusion_transformer_shared_projection():
    net = FusionTransformer(8, modalities=[4, 4], shared=True, d_model=8, n_heads=2)
    assert len(net.projections) == 1
    half = torch.randn(3, 4)
    tokens = net.tokens(torch.cat([half, half], dim=1))
    # same projection: the tokens differ only by their modality embeddings
    torch.testing.assert_close(
        tokens[:, 1] - tokens[:, 2],
        (net.modality_embedding[0] - net.modality_embedding[1]).expand(3, -1),
    )
    with pytest.raises(ValueError, match="equal width"):
        FusionTransformer(9, modalities=[4, 5], shared=True)


def test_fusion_transformer_is_invariant_to_batch_composition_in_eval_mode(regression_data):
    X, y = regression_data(n=80)
    net = DIRRegressor(
        "fusion_transformer",
        module__modalities=[6, 4],
        module__d_model=16,
        module__n_heads=4,
        batch_size=16,
        **FAST,
    ).fit(X, y)
    full = net.predict(X)
    np.testing.assert_allclose(net.predict(X[:3]), full[:3], rtol=1e-5, atol=1e-6)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(net.predict(X[order]), full[order], rtol=1e-5, atol=1e-6)
    net.set_params(batch_size=7)
    np.testing.assert_allclose(net.predict(X), full, rtol=1e-5, atol=1e-6)
    # the prediction depends on every modality (attention mixes the tokens)
    X_other = X.copy()
    X_other[:, 6:] = 0.0
    assert np.abs(net.predict(X_other) - full).max() > 1e-3


def test_fusion_transformer_fits_with_fds_lds_and_is_reproducible(regression_data):
    X, y = regression_data(n=150)
    params = {
        "module__d_model": 16,
        "module__n_heads": 2,
        "module__n_blocks": 5,
        "weighter": LDSWeighter(),
        "fds": FeatureDistributionSmoothing(),
        **FAST,
    }
    first = DIRRegressor("fusion_transformer", **params).fit(X, y)
    second = DIRRegressor("fusion_transformer", **params).fit(X, y)
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    assert first.feature_smoothing_.embedding_dim == 16
    assert first.history[-1, "train_loss"] < first.history[0, "train_loss"]


# ----------------------------------------------------------------- AttentionMIL
def _mil(**kwargs):
    torch.manual_seed(0)
    params = {"hidden": (6,), "attention_dim": 5, "dropout": 0.0}
    params.update(kwargs)
    return AttentionMIL(4, 2, **params).eval()


@pytest.mark.parametrize("gated", [True, False])
def test_attention_follows_the_gated_attention_formula(gated):
    net = _mil(gated=gated)
    bag = torch.randn(1, 5, 4)
    h = net.encoder(bag[0])
    score = torch.tanh(h @ net.attention_V.weight.T + net.attention_V.bias)
    if gated:
        score = score * torch.sigmoid(h @ net.attention_U.weight.T + net.attention_U.bias)
    logits = score @ net.attention_w.weight[0] + net.attention_w.bias
    expected = torch.exp(logits) / torch.exp(logits).sum()
    torch.testing.assert_close(net.attention(bag)[0], expected)
    torch.testing.assert_close(net.features(bag)[0], expected @ h)
    torch.testing.assert_close(net(bag)[0], net.head(expected @ h))
    assert (net.attention_U is None) is (not gated)


def test_padding_gets_zero_attention_and_does_not_change_predictions():
    net = _mil()
    rng = np.random.default_rng(0)
    bags = [rng.normal(size=(k, 4)).astype(np.float32) for k in (3, 1, 5)]
    padded = torch.from_numpy(check_bags(bags))
    assert padded.shape == (3, 5, 4)
    weights = net.attention(padded)
    valid = ~torch.isnan(padded).all(-1)
    assert torch.all(weights[~valid] == 0.0)  # exactly zero, not small
    torch.testing.assert_close(weights.sum(1), torch.ones(3))
    batched = net(padded)
    for i, bag in enumerate(bags):
        alone = net(torch.from_numpy(bag)[None])
        torch.testing.assert_close(batched[i], alone[0], rtol=1e-6, atol=1e-6)
    # padding in the middle of a bag, and extra padding columns, change nothing
    middle = torch.full((1, 8, 4), float("nan"))
    middle[0, [0, 3, 6]] = torch.from_numpy(bags[0])
    torch.testing.assert_close(net(middle)[0], batched[0], rtol=1e-6, atol=1e-6)
    assert torch.all(net.attention(middle)[0, [1, 2, 4, 5, 7]] == 0.0)


def test_attention_mil_is_permutation_invariant_over_fragments():
    net = _mil(norm="batch").train()  # batch norm over real fragments only
    net.eval()
    bag = torch.randn(2, 6, 4)
    bag[1, 4:] = float("nan")
    perm = torch.tensor([5, 2, 0, 4, 1, 3])
    torch.testing.assert_close(net(bag[:, perm]), net(bag), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(net.attention(bag[:, perm]), net.attention(bag)[:, perm])


@settings(max_examples=15, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5),
    extra_padding=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_padded_batches_equal_bags_alone_and_are_order_free(lengths, extra_padding, seed):
    net = _mil()
    rng = np.random.default_rng(seed)
    bags = [rng.normal(size=(k, 4)).astype(np.float32) for k in lengths]
    padded = check_bags(bags)
    padded = np.concatenate(
        [padded, np.full((len(bags), extra_padding, 4), np.nan, np.float32)], axis=1
    )
    X = torch.from_numpy(padded)
    with torch.no_grad():
        batched, weights = net(X), net.attention(X)
        shuffled = torch.from_numpy(np.stack([p[rng.permutation(len(p))] for p in padded]))
        torch.testing.assert_close(net(shuffled), batched, rtol=1e-5, atol=1e-6)
        for i, bag in enumerate(bags):
            alone = net(torch.from_numpy(bag)[None])[0]
            torch.testing.assert_close(batched[i], alone, rtol=1e-5, atol=1e-6)
    assert torch.all(weights[torch.isnan(X).all(-1)] == 0.0)
    torch.testing.assert_close(weights.sum(1), torch.ones(len(bags)))


def test_attention_mil_module_rejects_bad_bags():
    net = _mil()
    with pytest.raises(ValueError, match="n_bags, max_fragments"):
        net(torch.zeros(3, 4))
    partial = torch.zeros(1, 2, 4)
    partial[0, 1, 0] = float("nan")
    with pytest.raises(ValueError, match="some but not all"):
        net(partial)
    empty = torch.zeros(2, 2, 4)
    empty[1] = float("nan")
    with pytest.raises(ValueError, match="no fragments"):
        net(empty)


def test_check_bags_pads_lists_and_rejects_bad_bags():
    bags = [np.ones((2, 3)), np.zeros((1, 3))]
    padded = check_bags(bags)
    assert padded.dtype == np.float32 and padded.shape == (2, 2, 3)
    assert np.isnan(padded[1, 1]).all() and np.array_equal(padded[0], np.ones((2, 3)))
    np.testing.assert_array_equal(check_bags(padded), padded)
    np.testing.assert_array_equal(check_bags(tuple(bags)), padded)
    cases = [
        ([], "no bags"),
        ([np.ones((2, 3)), np.ones((0, 3))], r"Bag\(s\) \[1\] have no fragments"),
        ([np.ones((2, 3)), np.ones((2, 4))], "bag 0 has 3, bag 1 has 4"),
        ([np.ones(3)], "must be 2-D"),
        # in a list every row is a fragment, as in skdir.fragments: NaN is never padding there
        ([np.ones((2, 3)), np.full((2, 3), np.nan)], "a NaN row is not padding"),
        ([np.array([[1.0, np.nan, 2.0]])], "Bag 0, fragment 0 contains NaN"),
        (np.array([[[1.0, np.nan, 2.0]]]), "some but not all"),
        ([np.array([[1.0, np.inf, 2.0]])], "infinity"),
        (np.ones((4, 3)), "X\\[:, None, :\\]"),
        (np.ones((0, 2, 3)), "no bags"),
        (np.ones((2, 0, 3)), "0 fragments"),
        (np.ones((2, 2, 0)), "0 features"),
        (np.array([[[1e39, 0.0]]]), "too large for float32"),
    ]
    for X, message in cases:
        with pytest.raises(ValueError, match=message):
            check_bags(X)


def test_regressor_takes_lists_and_padded_arrays_identically():
    bags, y = _bags()
    params = {"module__hidden": (8,), "module__attention_dim": 4, **FAST}
    from_list = DIRRegressor("attention_mil", **params).fit(bags, y)
    padded = check_bags(bags)
    from_array = DIRRegressor("attention_mil", **params).fit(padded, y)
    pred = from_list.predict(bags)
    np.testing.assert_array_equal(from_array.predict(padded), pred)
    assert from_list.n_features_in_ == 4 and pred.shape == (len(bags),)
    # more padding at prediction time changes nothing
    wider = np.concatenate([padded, np.full((len(bags), 3, 4), np.nan, np.float32)], axis=1)
    np.testing.assert_allclose(from_list.predict(wider), pred, rtol=1e-5, atol=1e-6)
    weights = from_list.attention_weights(bags)
    assert weights.shape == padded.shape[:2]
    np.testing.assert_allclose(weights.sum(1), 1.0, rtol=1e-6)
    assert np.all(weights[np.isnan(padded).all(-1)] == 0.0)
    # determinism, clone and pickle
    other = DIRRegressor("attention_mil", **{**params, "random_state": 1}).fit(bags, y)
    assert not np.array_equal(other.predict(bags), pred)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(from_list)).predict(bags), pred)
    np.testing.assert_array_equal(clone(from_list).fit(bags, y).predict(bags), pred)


def test_attention_mil_with_two_targets_lds_fds_and_eval_set():
    bags, y, _ = make_imbalanced_regression(
        80, 12, n_targets=2, n_fragments=(2, 5), random_state=0
    )
    net = DIRRegressor(
        "attention_mil",
        weighter=LDSWeighter(),
        fds=FeatureDistributionSmoothing(),
        module__hidden=(8,),
        **FAST,
    ).fit(bags[:60], y[:60], eval_set=(bags[60:], y[60:]))
    pred = net.predict(bags[60:])
    assert pred.shape == (20, 2) and np.all(np.isfinite(pred))
    assert net.feature_smoothing_.embedding_dim == 8


def test_regressor_rejects_bad_bag_input_and_mlp_rejects_bags(regression_data):
    bags, y = _bags()
    net = DIRRegressor("attention_mil", module__hidden=(8,), **FAST)
    with pytest.raises(ValueError, match="have no fragments"):
        net.fit([*bags[:-1], np.empty((0, 4))], y)
    with pytest.raises(ValueError, match="X\\[:, None, :\\]"):
        net.fit(np.ones((len(y), 4)), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        net.fit(bags, y[:-1])
    net.fit(bags, y)
    with pytest.raises(ValueError, match="fitted on fragments of 4 features"):
        net.predict([np.ones((2, 5))])
    with pytest.raises(ValueError, match="3 dimensions"):
        DIRRegressor(**FAST).fit(check_bags(bags), y)
    with pytest.raises(ValueError, match="no attention"):
        DIRRegressor(**FAST).fit(*regression_data()).attention_weights([np.ones((2, 10))])
    with pytest.raises(ValueError, match=r"Unknown module 'mil'.*'attention_mil'"):
        DIRRegressor("mil", **FAST).fit(bags, y)


def test_attention_beats_mean_pooling_when_the_target_is_a_fragment_max():
    bags, y = _bags(n=400, d=3, lengths=(2, 8), seed=0)
    test_bags, y_test = _bags(n=300, d=3, lengths=(2, 8), seed=1)
    params = {
        "module__hidden": (16,),
        "module__dropout": 0.0,
        "lr": 3e-3,
        "max_epochs": 30,
        "device": "cpu",
        "random_state": 0,
    }
    mil = DIRRegressor("attention_mil", module__attention_dim=8, **params).fit(bags, y)
    mean_pool = DIRRegressor("mlp", **params).fit(np.stack([b.mean(0) for b in bags]), y)
    mse_mil = np.mean((mil.predict(test_bags) - y_test) ** 2)
    mse_mean = np.mean((mean_pool.predict(np.stack([b.mean(0) for b in test_bags])) - y_test) ** 2)
    assert mse_mil < 0.3 * mse_mean  # measured: 0.047 against 0.351 (Var y = 0.67)
    # the largest fragment gets the most attention in most bags
    weights = mil.attention_weights(test_bags)
    top = np.nanargmax(check_bags(test_bags)[:, :, 0], axis=1)
    assert np.mean(weights.argmax(1) == top) > 0.8


# ------------------------------------------------------------ InteractionMLP
def _paired_blocks(n=200, d=3, seed=0):
    """Two blocks of ``d`` columns, the second a noisy (or negated) copy of the first."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d))
    b = a + 0.2 * rng.normal(size=(n, d))
    b[:, 1] *= -1.0  # a negative correlation: the pair's sign is -1
    return torch.as_tensor(np.hstack([a, b]), dtype=torch.float32)


def test_interaction_mlp_pairs_each_column_with_its_most_correlated_partner():
    X = _paired_blocks()
    net = InteractionMLP(6, hidden=4).fit_inputs(X)
    assert net.partner.tolist() == [3, 4, 5, 0, 1, 2]
    assert net.sign.tolist() == [1.0, -1.0, 1.0, 1.0, -1.0, 1.0]
    # robust scaling: the median and the interquartile range / 1.349 of every column
    X64 = X.double().numpy()
    q25, median, q75 = np.percentile(X64, [25, 50, 75], axis=0)
    np.testing.assert_allclose(net.center.numpy(), median, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.scale.numpy(), (q75 - q25) / 1.3489795, rtol=1e-5)
    # the interactions: s * s_p and |s - g s_p|, standardised on the training rows
    s = (X64 - median) / ((q75 - q25) / 1.3489795)
    other = s[:, [3, 4, 5, 0, 1, 2]]
    sign = np.array([1, -1, 1, 1, -1, 1])
    pairs = np.hstack([s * other, np.abs(s - sign * other)])
    expected = np.hstack([s, (pairs - pairs.mean(0)) / pairs.std(0, ddof=1)])
    np.testing.assert_allclose(net.inputs(X).numpy(), expected, rtol=1e-4, atol=1e-4)
    assert net.trunk[0][0].in_features == 18
    standard = InteractionMLP(6, hidden=4, scaling="standard").fit_inputs(X)
    np.testing.assert_allclose(standard.center.numpy(), X64.mean(0), atol=1e-6)
    np.testing.assert_allclose(standard.scale.numpy(), X64.std(0, ddof=1), rtol=1e-5)


def test_interaction_mlp_constant_and_lonely_columns_and_clipping():
    rng = np.random.default_rng(1)
    X = np.hstack([rng.normal(size=(50, 2)), np.full((50, 1), 3.0)])
    X[:, 1] = rng.normal(size=50)  # independent of column 0
    net = InteractionMLP(3, hidden=4).fit_inputs(X)
    # a constant column is scaled by 1 (not 0) and pairs with itself
    assert net.scale[2].item() == 1.0 and net.partner[2].item() == 2
    assert torch.isfinite(net.inputs(torch.as_tensor(X, dtype=torch.float32))).all()
    plain = InteractionMLP(3, hidden=4, interactions=False).fit_inputs(X)
    assert plain.inputs(torch.as_tensor(X, dtype=torch.float32)).shape == (50, 3)
    clipped = InteractionMLP(3, hidden=4, interactions=False, scaling=None, clip=3.0)
    clipped.fit_inputs(X)
    out = clipped.inputs(torch.tensor([[4.0, 0.0, 300.0]]))
    # smooth clipping t / sqrt(1 + (t / 3)^2): 4 -> 2.4, 300 -> just under 3
    torch.testing.assert_close(out, torch.tensor([[2.4, 0.0, 300 / (1 + 100**2) ** 0.5]]))


def test_scaled_output_works_in_target_units():
    out = ScaledOutput(2, 2).fit(torch.tensor([[1.0, 100.0], [3.0, 300.0], [5.0, 500.0]]))
    torch.testing.assert_close(out.center, torch.tensor([3.0, 300.0]))
    torch.testing.assert_close(out.scale, torch.tensor([2.0, 200.0]))
    z = torch.randn(4, 2)
    torch.testing.assert_close(out(z), out.linear(z) * out.scale + out.center)
    centred = ScaledOutput(2, 1).fit(torch.tensor([[2.0], [4.0]]), scale=False)
    assert centred.center.item() == 3.0 and centred.scale.item() == 1.0
    with pytest.raises(ValueError, match="at least 2 rows of finite"):
        ScaledOutput(2, 1).fit(torch.tensor([[1.0], [float("nan")]]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"scaling": "minmax"}, "scaling must be"),
        ({"clip": 0}, "clip must be a positive"),
        ({"interactions": 1}, "interactions must be True or False"),
        ({"output_scaling": "yes"}, "output_scaling must be True or False"),
    ],
)
def test_interaction_mlp_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        InteractionMLP(4, **kwargs)


def test_interaction_mlp_needs_fitted_inputs_and_clean_data():
    net = InteractionMLP(3, hidden=4)
    with pytest.raises(RuntimeError, match="call fit_inputs"):
        net(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="at least 2 rows of 3 columns"):
        net.fit_inputs(torch.zeros(5, 4))
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.fit_inputs(torch.tensor([[0.0, 1.0, float("inf")], [1.0, 2.0, 3.0]]))
    net.fit_inputs(torch.randn(5, 3))
    with pytest.raises(ValueError, match="expects 2-D input"):
        net(torch.zeros(3))


def test_dir_regressor_fits_the_default_network_on_its_training_rows():
    X = _paired_blocks(n=120).numpy().astype(np.float64) * 50.0 + 7.0
    y = 1000.0 + 300.0 * X[:, 0] * X[:, 3] / 2500.0
    reg = DIRRegressor(
        max_epochs=3, validation_fraction=None, early_stopping=False, random_state=0, device="cpu"
    ).fit(X, y)
    net = reg.module_
    assert isinstance(net, InteractionMLP) and net.inputs_fitted
    np.testing.assert_allclose(net.center.numpy(), np.median(X, axis=0), rtol=1e-4)
    # the output layer starts at the target mean and works in units of its std
    np.testing.assert_allclose(net.head.center.numpy(), [y.mean()], rtol=1e-6)
    np.testing.assert_allclose(net.head.scale.numpy(), [y.std(ddof=1)], rtol=1e-5)
    # continued training keeps the statistics; they travel in pickles
    before = net.center.clone()
    reg.partial_fit(X[:10] + 100.0, y[:10])
    torch.testing.assert_close(reg.module_.center, before)
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(loaded.predict(X), reg.predict(X), rtol=1e-6)
    # a refit from scratch fits the statistics anew
    refit = clone(reg).fit(X + 100.0, y)
    np.testing.assert_allclose(refit.module_.center.numpy(), np.median(X + 100.0, 0), rtol=1e-4)


# ------------------------------------------------- InteractionMLP ensembles (TabM-mini)
def test_ensemble_members_share_all_but_adapters_and_heads():
    torch.manual_seed(0)
    X = _paired_blocks(n=40)
    net = InteractionMLP(6, n_outputs=2, hidden=(5, 4), n_ensemble=3).fit_inputs(X)
    assert set(net.adapters.unique().tolist()) <= {-1.0, 1.0}
    assert net.adapters.shape == (3, 5) and net.head.weight.shape == (3, 4, 2)
    members = net.eval().forward_members(X)
    assert members.shape == (40, 3, 2)
    # member k by hand: first layer once, adapter k, the shared rest, head k
    first = net.trunk[0](net.inputs(X))
    for k in range(3):
        z = net.trunk[1:](first * net.adapters[k])
        expected = (z @ net.head.weight[k] + net.head.bias[k]) * net.head.scale + net.head.center
        torch.testing.assert_close(members[:, k], expected)
    torch.testing.assert_close(net(X), members.mean(dim=1))
    assert net.train()(X).shape == (40, 3, 2)  # training: every member's output
    single = InteractionMLP(6, hidden=4).fit_inputs(X).eval()
    assert single.forward_members(X).shape == (40, 1, 1)
    with pytest.raises(ValueError, match="n_ensemble must be a positive integer"):
        InteractionMLP(6, n_ensemble=0)


def test_dir_regressor_trains_ensemble_members_on_their_mean_loss(regression_data):
    X, y = regression_data(n=200)
    params = {"max_epochs": 80, "device": "cpu", "random_state": 0, "module__hidden": (32, 32)}
    reg = DIRRegressor(module__n_ensemble=4, **params).fit(X, y)
    members = reg.predict_members(X)
    assert members.shape == (4, 200)
    mean, std = reg.predict(X, return_std=True)
    np.testing.assert_allclose(mean, members.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, members.std(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(reg.predict(X), mean, rtol=1e-5, atol=1e-6)
    assert std.min() > 0 and np.mean((mean - y) ** 2) < 0.25 * y.var()
    # the members disagree more far from the data than on it
    _, far = reg.predict(10 * X, return_std=True)
    assert far.mean() > 1.5 * std.mean()  # measured: 0.44 against 0.21
    # same seed, same members; two targets with a target transformer in the units of y
    again = DIRRegressor(module__n_ensemble=4, **params).fit(X, y)
    np.testing.assert_array_equal(again.predict_members(X), members)
    Y = np.column_stack([y, 100 * y])
    two = DIRRegressor(module__n_ensemble=3, target_transformer=StandardScaler(), **params)
    two.fit(X, Y)
    assert two.predict_members(X).shape == (3, 200, 2)
    assert (
        two.predict(X, return_std=True)[1][:, 1].mean() > 20 * two.predict(X, True)[1][:, 0].mean()
    )


def test_ensemble_refuses_feature_techniques_and_single_networks_have_no_spread(
    regression_data,
):
    X, y = regression_data()
    with pytest.raises(ValueError, match="one per member"):
        DIRRegressor(
            module__n_ensemble=2, fds=FeatureDistributionSmoothing(), max_epochs=1, device="cpu"
        ).fit(X, y)
    single = DIRRegressor(max_epochs=1, device="cpu", random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="set module__n_ensemble to 2 or more"):
        single.predict(X, return_std=True)


def test_interaction_range_keeps_only_pairs_in_the_correlation_range():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 2))
    X = np.column_stack([a, a[:, 0] + 0.1 * rng.normal(size=400), a[:, 1] + rng.normal(size=400)])
    # partners: 0 <-> 2 at |r| ~ 0.995, 1 <-> 3 at |r| ~ 0.71
    net = InteractionMLP(4, hidden=4, interaction_range=(0.2, 0.9)).fit_inputs(X)
    assert net.partner.tolist() == [2, 3, 0, 1]
    assert net.pair_mask.tolist() == [0, 1, 0, 1] * 2
    u = net.inputs(torch.as_tensor(X, dtype=torch.float32))
    assert (u[:, [4, 6, 8, 10]] == 0).all() and (u[:, [5, 7, 9, 11]].std(0) > 0.5).all()
    everything = InteractionMLP(4, hidden=4).fit_inputs(X)
    assert everything.pair_mask.tolist() == [1] * 8
    for bad in [(0.5, 0.2), (0.1,), (-0.1, 0.5), "low"]:
        with pytest.raises(ValueError, match="interaction_range must be None or"):
            InteractionMLP(4, interaction_range=bad)
