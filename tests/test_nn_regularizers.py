"""RankSim, ConR and feature-norm ordinality: values by hand, gradients, and in DIRRegressor."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

from skdir.density import LabelDensity
from skdir.nn import DIRRegressor
from skdir.nn.base import Regularizer
from skdir.nn.regularizers import (
    ConR,
    FeatureNormOrder,
    RankSim,
    conr_loss,
    norm_order_loss,
    norm_target_loss,
    normalised_ranks,
    one_per_label,
    ranksim_loss,
)


def _arc(y):
    """Unit features whose angle grows with y: cosine similarity falls with |y_i - y_j|."""
    angle = torch.as_tensor(y, dtype=torch.float64) * 0.5
    return torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)


# ------------------------------------------------------------------- RankSim
def test_ranks_are_normalised_positions():
    ranks = normalised_ranks(torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]]))
    np.testing.assert_allclose(ranks.numpy(), [[1, 1 / 3, 2 / 3], [2 / 3, 1, 1 / 3]])


def test_ranksim_is_zero_when_rankings_agree_and_positive_otherwise():
    y = torch.tensor([0.0, 0.1, 0.3, 0.7, 1.5], dtype=torch.float64)  # no tied distances
    assert ranksim_loss(_arc(y), y, sample=False).item() == 0.0
    swapped = _arc(y)[[0, 1, 2, 4, 3]]  # samples 3 and 4 exchange their features
    value = ranksim_loss(swapped, y, sample=False).item()
    # independently, with scipy's ordinal ranks / n
    yn, zn = y.numpy(), swapped.numpy()
    label = np.array([rankdata(-np.abs(yn[i] - yn), method="ordinal") for i in range(5)]) / 5
    feature = np.array([rankdata(zn @ zn[i], method="ordinal") for i in range(5)]) / 5
    assert value == pytest.approx(np.mean((feature - label) ** 2))
    assert value == pytest.approx(1.2 / 25)  # summed squared rank differences 1.2


def test_ranksim_gradient_is_finite_and_reduces_the_loss():
    torch.manual_seed(0)
    y = torch.linspace(0, 1, 12, dtype=torch.float64)
    z = torch.randn(12, 4, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([z], lr=0.5)
    first = None
    for _ in range(30):
        optimizer.zero_grad()
        # the blackbox gradient perturbs the similarities by lambda * incoming gradient,
        # so a weight of order 100 is needed for rank changes (the paper's gamma)
        loss = 100 * ranksim_loss(z, y, interpolation=2.0, sample=False)
        loss.backward()
        assert torch.all(torch.isfinite(z.grad))
        first = loss.item() if first is None else first
        optimizer.step()
    assert first > 5 and loss.item() < 0.5 * first


def test_one_per_label_keeps_one_sample_of_each_distinct_target():
    y = torch.tensor([1.0, 2.0, 1.0, 3.0, 2.0, 1.0])
    kept = set()
    for seed in range(20):
        chosen = one_per_label(y, torch.Generator().manual_seed(seed))
        assert sorted(y[chosen].tolist()) == [1.0, 2.0, 3.0]
        kept.update(chosen.tolist())
    assert kept == set(range(6))  # every duplicate gets chosen sometimes
    two = torch.tensor([[0.0, 1.0], [0.0, 1.0], [0.0, 2.0]])
    assert len(one_per_label(two)) == 2


def test_ranksim_tiny_batches_contribute_zero():
    z = torch.randn(3, 2, requires_grad=True)
    assert ranksim_loss(z, torch.ones(3)).item() == 0.0  # one distinct label
    with pytest.raises(ValueError, match="interpolation"):
        ranksim_loss(z, torch.arange(3.0), interpolation=0.0)


# ---------------------------------------------------------------------- ConR
def test_conr_by_hand():
    # anchors 0 and 1 (label 0) are positives of each other; sample 2 (label 5) is a
    # negative of both because its prediction is close to theirs; anchor 2 has no
    # positive and contributes 0.
    z = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    y = torch.tensor([0.0, 0.0, 5.0])
    pred = torch.tensor([0.0, 0.0, 0.5])
    w = torch.tensor([2.0, 1.0, 1.0])
    tau, push = 0.5, 0.1
    s = (z @ z.T / tau).numpy().astype(np.float64)
    push_factor = math.exp(push * 5.0)
    l0 = -(s[0, 1] - math.log(math.exp(s[0, 1]) + 2.0 * push_factor * math.exp(s[0, 2])))
    l1 = -(s[1, 0] - math.log(math.exp(s[1, 0]) + 1.0 * push_factor * math.exp(s[1, 2])))
    expected = (2.0 * l0 + 1.0 * l1 + 0.0) / 3
    got = conr_loss(z, y, pred, w, temperature=tau, threshold=1.0, push=push)
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_conr_needs_wrongly_close_predictions_and_its_gradient_flows():
    z = torch.randn(6, 3, requires_grad=True, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0.0, 0.1, 0.2, 3.0, 3.1, 3.2])
    far = torch.tensor([0.0, 0.1, 0.2, 3.0, 3.1, 3.2])  # predictions separate the groups
    assert conr_loss(z, y, far).item() == 0.0  # no negatives anywhere
    close = torch.zeros(6)
    loss = conr_loss(z, y, close)
    loss.backward()
    assert loss.item() > 0 and torch.all(torch.isfinite(z.grad)) and z.grad.abs().sum() > 0
    # 2-D labels: the distance is the Euclidean norm
    y2 = torch.stack([y, torch.zeros(6)], dim=1)
    assert conr_loss(z, y2, torch.zeros(6, 2)).item() == pytest.approx(loss.item(), rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 12), st.floats(0.05, 2.0), st.floats(0.0, 0.5), st.integers(0, 10_000))
def test_conr_is_finite_and_non_negative(n, tau, push, seed):
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 4, generator=generator)
    y = torch.randint(0, 4, (n,), generator=generator).float()
    pred = torch.randn(n, generator=generator)
    value = conr_loss(z, y, pred, temperature=tau, push=push).item()
    assert math.isfinite(value) and value >= -1e-6


# ------------------------------------------------------------ feature norms
def test_norm_order_loss_by_hand_and_per_target_blocks():
    z = torch.tensor([[3.0, 0.0], [1.0, 0.0], [2.0, 0.0], [2.0, 0.0]])
    y = torch.tensor([0.0, 1.0, 2.0, 2.2])
    bins = torch.tensor([0, 1, 2, 2])
    # prototypes: norms 3, 1, 2 in label order; hinge over pairs (3-1) + (3-2) + 0 = 3, / 3
    assert norm_order_loss(z, y, bins).item() == pytest.approx(1.0)
    ordered = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [3.0, 0.0]])
    assert norm_order_loss(ordered, y, bins).item() == 0.0
    # two targets: block 0 (column 0) follows target 0, block 1 (column 1) target 1
    z2 = torch.tensor([[1.0, 5.0], [2.0, 1.0]])
    y2 = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    bins2 = torch.tensor([[0, 0], [1, 1]])
    assert norm_order_loss(z2, y2, bins2).item() == pytest.approx((0.0 + 4.0) / 2)
    z2.requires_grad_(True)
    norm_order_loss(z2, y2, bins2).backward()
    assert z2.grad[0, 1] > 0 and z2.grad[1, 1] < 0  # shrink the wrong-order norm, grow the other


def test_norm_target_loss_by_hand():
    z = torch.tensor([[3.0, 4.0], [0.0, 1.0]])
    y = torch.tensor([2.0, 0.0])
    got = norm_target_loss(z, y, torch.tensor([1.0]), torch.tensor([2.0]))
    assert got.item() == pytest.approx(((5 - 5) ** 2 + (1 - 1) ** 2) / 2)
    got = norm_target_loss(z, y, torch.tensor([0.0]), torch.tensor([1.0]))
    assert got.item() == pytest.approx(((5 - 2) ** 2 + (1 - 0) ** 2) / 2)


# ----------------------------------------------------- inside DIRRegressor
# fixed_net (tests/conftest.py); the terms that read label bins get 6 of them.
def _features(net, X):
    net.module_.eval()  # no dropout
    with torch.no_grad():
        return net.module_.features(torch.as_tensor(X, dtype=torch.float32))


def test_regressor_training_loss_is_mse_plus_weighted_ranksim(regression_data, fixed_net):
    X, y = regression_data(n=90, d=6)
    net = fixed_net(regularizers=[("ranksim", RankSim(weight=3.0, interpolation=1.0))])
    net.fit(X, y)
    pred = net.predict(X)
    labels = torch.as_tensor(y / y.std(), dtype=torch.float32)
    term = ranksim_loss(_features(net, X), labels).item()
    assert term > 0.01
    expected = np.mean((pred - y) ** 2) + 3.0 * term
    assert net.history[-1, "train_loss"] == pytest.approx(expected, rel=1e-5)
    assert net.history[-1, "train_loss"] > np.mean((pred - y) ** 2)


def test_regressor_training_loss_with_norm_order_and_conr(regression_data, fixed_net):
    X, y = regression_data(n=90, d=6)
    net = fixed_net(
        regularizers=[("norm", FeatureNormOrder(weight=2.0))], label_density=LabelDensity(n_bins=6)
    ).fit(X, y)
    pred = net.predict(X)
    bins = torch.as_tensor(net.label_density_.bin_index(y))
    term = norm_order_loss(_features(net, X), torch.as_tensor(y), bins).item()
    expected = np.mean((pred - y) ** 2) + 2.0 * term
    assert net.history[-1, "train_loss"] == pytest.approx(expected, rel=1e-5)
    # ConR without dropout or noise: the second view equals the first
    conr = ConR(weight=1.5, threshold=0.3, temperature=0.5)
    net = fixed_net(regularizers=[("conr", conr)]).fit(X, y)
    z = _features(net, X)
    scale = y.std()
    labels = torch.as_tensor(y / scale, dtype=torch.float32)
    preds = torch.as_tensor(net.predict(X) / scale, dtype=torch.float32)
    term = conr_loss(
        torch.cat([z, z]),
        torch.cat([labels, labels]),
        torch.cat([preds, preds]),
        temperature=0.5,
        threshold=0.3,
        push=0.01,
    ).item()
    assert term > 0.01
    expected = np.mean((net.predict(X) - y) ** 2) + 1.5 * term
    assert net.history[-1, "train_loss"] == pytest.approx(expected, rel=1e-4)


def test_norm_finetuning_fits_the_many_shot_line_and_pulls_norms_to_it(regression_data):
    X, y = regression_data(n=200, d=6)
    params = {"max_epochs": 15, "module__hidden": (16,), "device": "cpu", "random_state": 0}
    params.update(
        label_density=LabelDensity(n_bins=8),
        early_stopping=False,
        validation_fraction=None,
        lr=0.01,
    )
    base = DIRRegressor(**params).fit(X, y)
    # weight 0: no hinge in the main training, which therefore equals the base's
    norm = FeatureNormOrder(weight=0.0, finetune_epochs=10, finetune_weight=5.0)
    tuned = DIRRegressor(regularizers=[("norm", norm)], **params).fit(X, y)
    assert len(tuned.history) == 25
    line = tuned.regularizers_["norm"]
    assert line is not norm and not hasattr(norm, "slope_")  # a fitted copy
    assert line.intercept_.shape == (1,) and line.slope_.shape == (1,)
    # the line was fitted on the base network (same seed, same first 15 epochs)
    norms = _features(base, X).double().norm(dim=1).numpy()
    bins = base.label_density_.bin_index(y)
    _, index, counts = np.unique(bins, return_inverse=True, return_counts=True)
    many = counts >= np.median(counts)
    mean_norm = np.bincount(index, weights=norms) / counts
    mean_y = np.bincount(index, weights=y) / counts
    slope, intercept = np.polyfit(mean_y[many], mean_norm[many], 1)
    assert line.slope_[0] == pytest.approx(slope, rel=1e-3)
    assert line.intercept_[0] == pytest.approx(intercept, rel=1e-3)

    def distance(net):
        tuned_norms = _features(net, X).double().norm(dim=1).numpy()
        return np.mean((tuned_norms - (intercept + slope * y)) ** 2)

    # against the same 10 extra epochs without the pull (same random stream): less than half
    idle = FeatureNormOrder(weight=0.0, finetune_epochs=10, finetune_weight=0.0)
    continued = DIRRegressor(regularizers=[("norm", idle)], **params).fit(X, y)
    assert distance(tuned) < 0.5 * distance(continued)
    assert distance(tuned) < distance(base)


def test_regularisers_on_two_targets_and_bad_input(regression_data):
    X, y = regression_data(n=90, d=6)
    Y = np.column_stack([y, X[:, 2]])
    net = DIRRegressor(
        regularizers=[
            ("ranksim", RankSim(weight=1.0)),
            ("conr", ConR(weight=1.0)),
            ("norm", FeatureNormOrder(weight=1.0)),
        ],
        max_epochs=3,
        module__hidden=(8,),
        device="cpu",
        random_state=0,
    ).fit(X, Y)
    assert net.predict(X).shape == (len(y), 2)
    assert np.all(np.isfinite(net.history[:, "train_loss"]))
    with pytest.raises(ValueError, match=r"RankSim compare.*batch_size >= 2"):
        DIRRegressor(regularizers=[("r", RankSim(weight=1.0))], batch_size=1, device="cpu").fit(
            X, y
        )
    with pytest.raises(ValueError, match=r"ConR compare.*batch_size >= 2"):
        DIRRegressor(regularizers=[("c", ConR())], batch_size=1, device="cpu").fit(X, y)
    # a switched-off pairwise term does not need pairs
    DIRRegressor(
        regularizers=[("c", ConR(weight=0.0))], batch_size=1, max_epochs=1, device="cpu"
    ).fit(X, y)
    with pytest.raises(ValueError, match=r"ConR\(temperature=0.0\) must be positive"):
        DIRRegressor(regularizers=[("c", ConR(temperature=0.0))], device="cpu").fit(X, y)
    with pytest.raises(ValueError, match=r"RankSim\(weight=-1.0\): the weight must be"):
        DIRRegressor(regularizers=[("r", RankSim(weight=-1.0))], device="cpu").fit(X, y)
    with pytest.raises(ValueError, match=r"RankSim\(interpolation=0.0\) must be positive"):
        DIRRegressor(regularizers=[("r", RankSim(interpolation=0.0))], device="cpu").fit(X, y)
    with pytest.raises(ValueError, match=r"FeatureNormOrder\(finetune_epochs=1.5\)"):
        DIRRegressor(
            regularizers=[("n", FeatureNormOrder(finetune_epochs=1.5))], device="cpu"
        ).fit(X, y)
    with pytest.raises(ValueError, match="names must be unique"):
        DIRRegressor(regularizers=[("r", RankSim()), ("r", ConR())], device="cpu").fit(X, y)
    with pytest.raises(ValueError, match=r"list of \(name, object\) pairs"):
        DIRRegressor(regularizers=[RankSim()], device="cpu").fit(X, y)


class _BinSpread(Regularizer):
    """A user-written term: mean squared feature norm, scaled by the number of label bins."""

    needs = frozenset({"features", "label_bins"})

    def __init__(self, weight=1.0, power=2.0):
        super().__init__(weight=weight)
        self.power = power

    def check(self, net):
        super().check(net)
        if self.power <= 0:
            raise ValueError(f"_BinSpread(power={self.power!r}) must be positive.")

    def loss(self, batch):
        n_bins = len(torch.unique(batch.label_bins))
        return n_bins * batch.features.norm(dim=1).pow(self.power).mean()

    def after_fit(self, net, X, y):
        self.seen_ = (len(y), sorted(X))


def test_a_custom_regulariser_gets_what_it_needs_and_is_tunable(regression_data, fixed_net):
    X, y = regression_data(n=90, d=6)
    net = fixed_net(
        regularizers=[("spread", _BinSpread(weight=0.5))], label_density=LabelDensity(n_bins=6)
    )
    assert net.get_params()["regularizers__spread__power"] == 2.0
    net.set_params(regularizers__spread__power=1.0).fit(X, y)
    norms = _features(net, X).double().norm(dim=1).numpy()
    n_bins = len(np.unique(net.label_density_.bin_index(y)))  # of the 6 label bins
    expected = np.mean((net.predict(X) - y) ** 2) + 0.5 * n_bins * norms.mean()
    assert net.history[-1, "train_loss"] == pytest.approx(expected, rel=1e-5)
    fitted = net.regularizers_["spread"]
    assert fitted.power == 1.0 and fitted.seen_ == (
        len(y),
        ["X", "bins", "label_bins", "sample_weight"],
    )
    assert not hasattr(net.regularizers[0][1], "seen_")  # the parameter is left unfitted
    # weight 0 switches it off: neither the term nor after_fit run
    off = fixed_net(
        regularizers=[("spread", _BinSpread(weight=0.0))], label_density=LabelDensity(n_bins=6)
    ).fit(X, y)
    assert off.history[-1, "train_loss"] == pytest.approx(np.mean((off.predict(X) - y) ** 2))
    assert not hasattr(off.regularizers_["spread"], "seen_")
    with pytest.raises(ValueError, match=r"_BinSpread\(power=0\) must be positive"):
        fixed_net(regularizers=[("spread", _BinSpread(power=0))]).fit(X, y)


def test_regulariser_needs_are_checked(regression_data, fixed_net):
    class _Unknown(_BinSpread):
        needs = frozenset({"features", "gradients"})

    X, y = regression_data(n=90, d=6)
    with pytest.raises(ValueError, match=r"_Unknown.needs names \['gradients'\]"):
        fixed_net(regularizers=[("u", _Unknown())]).fit(X, y)
    with pytest.raises(ValueError, match="not a regulariser"):
        fixed_net(regularizers=[("u", 1.0)]).fit(X, y)


class _NoFeatures(torch.nn.Module):
    def __init__(self, n_features, n_outputs):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_outputs)

    def forward(self, X):
        return self.linear(X)


def test_feature_regularisers_need_a_feature_module(regression_data):
    X, y = regression_data(n=90, d=6)
    with pytest.raises(ValueError, match="need a module with features"):
        DIRRegressor(_NoFeatures, regularizers=[("r", RankSim())], max_epochs=1, device="cpu").fit(
            X, y
        )


# ------------------------------------------------ mismatched batches (issue 13.7)
def test_ranksim_rejects_features_and_targets_of_different_batches():
    # used to return a number: 8 feature rows were ranked against 5 targets
    with pytest.raises(ValueError, match=r"z has 8 rows but y has 5.*same batch"):
        ranksim_loss(torch.randn(8, 4), torch.randn(5, 1))
    with pytest.raises(ValueError, match=r"z has 8 rows but y has 5"):
        ranksim_loss(torch.randn(8, 4), torch.randn(5, 1), sample=False)
    with pytest.raises(ValueError, match=r"z must have shape \(n, embedding_dim\), got \(8,\)"):
        ranksim_loss(torch.randn(8), torch.randn(8))
    with pytest.raises(ValueError, match=r"y must have shape \(n,\) or \(n, n_targets\)"):
        ranksim_loss(torch.randn(8, 4), torch.randn(8, 1, 1))
    # the matching batch still gives the hand value: agreeing rankings cost 0
    y = torch.tensor([0.0, 0.1, 0.3, 0.7, 1.5], dtype=torch.float64)
    assert ranksim_loss(_arc(y), y[:, None], sample=False).item() == 0.0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((torch.randn(6, 3), torch.randn(5), torch.randn(6)), "z has 6 rows but y has 5"),
        ((torch.randn(6, 3), torch.randn(6), torch.randn(4)), "z has 6 rows but pred has 4"),
        (
            (torch.randn(6, 3), torch.randn(6), torch.randn(6), torch.ones(1)),
            "z has 6 rows but weight has 1",
        ),
        (
            (torch.randn(6, 3), torch.randn(6), torch.randn(6), torch.ones(6, 2)),
            r"weight must have shape \(n,\)",
        ),
        (
            (torch.randn(6, 3), torch.randn(6, 2), torch.randn(6)),
            r"y has 2 target.*pred has 1",
        ),
    ],
)
def test_conr_rejects_mismatched_batches(args, match):
    with pytest.raises(ValueError, match=match):
        conr_loss(*args)


def test_conr_on_an_empty_batch_is_zero_not_nan():
    assert conr_loss(torch.zeros(0, 3), torch.zeros(0), torch.zeros(0)).item() == 0.0
    # a (n, 1) weight is one weight per anchor, like (n,)
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    y, pred = torch.tensor([0.0, 0.0, 5.0]), torch.zeros(3)
    column = conr_loss(z, y, pred, torch.ones(3, 1), temperature=1.0, push=0.0).item()
    assert column == pytest.approx(2 * math.log(2) / 3)


def test_norm_losses_reject_mismatched_batches():
    z = torch.tensor([[3.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    y, bins = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([0, 1, 2])
    assert norm_order_loss(z, y, bins).item() == 1.0  # the hand value of the docstring
    with pytest.raises(ValueError, match="z has 3 rows but y has 2"):
        norm_order_loss(z, y[:2], bins)  # used to ignore the missing target silently
    with pytest.raises(ValueError, match="z has 3 rows but bins has 2"):
        norm_order_loss(z, y, bins[:2])
    with pytest.raises(ValueError, match=r"y has 2 target.*bins has 1"):
        norm_order_loss(z, torch.stack([y, y], dim=1), bins)
    one, two = torch.tensor([1.0]), torch.tensor([1.0, 1.0])
    with pytest.raises(ValueError, match="z has 3 rows but y has 2"):
        norm_target_loss(z, y[:2], one, one)
    # two lines for one target used to broadcast into a (n, 2) target silently
    with pytest.raises(ValueError, match=r"intercept has 2 value\(s\) but y has 1 target"):
        norm_target_loss(z, y, two, two)
    with pytest.raises(ValueError, match=r"slope has 2 value\(s\)"):
        norm_target_loss(z, y, one, two)
    # (3 - 1)^2, (1 - 2)^2, (2 - 3)^2 -> mean 2 for the line r(y) = 1 + y
    assert norm_target_loss(z, y, one, one).item() == pytest.approx(2.0)
    assert norm_target_loss(torch.zeros(0, 2), torch.zeros(0), one, one).item() == 0.0


def test_one_per_label_of_an_empty_batch_is_empty():
    assert one_per_label(torch.zeros(0)).tolist() == []
    assert ranksim_loss(torch.zeros(0, 3), torch.zeros(0)).item() == 0.0
