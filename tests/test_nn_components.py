"""DIRRegressor's component protocol: techniques written outside skdir, nested parameters."""

import inspect

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skdir.density import LabelDensity
from skdir.nn import (
    Augmentation,
    CMixup,
    ConR,
    DIRRegressor,
    FeatureNormOrder,
    GaussianNoise,
    RankSim,
    Regularizer,
    TrainingBatch,
)


# --- techniques defined here, outside skdir: no skdir edit needed to use them
class FeatureL2(Regularizer):
    """weight * mean squared feature."""

    def loss(self, batch):
        return batch.features.pow(2).mean()


class ViewGap(Regularizer):
    """Squared distance between the features of the two views of the batch."""

    needs = frozenset({"features", "second_view"})

    def loss(self, batch):
        return (batch.features - batch.second_view[1]).pow(2).mean()


class RecordBins(Regularizer):
    """Records the label bins it is given; contributes 0."""

    needs = frozenset({"label_bins"})

    def loss(self, batch):
        self.seen_ = batch.label_bins.clone()
        return batch.y.new_zeros(())


class ShiftTargets(Augmentation):
    """Adds a constant to the training targets."""

    def __init__(self, shift=1.0):
        self.shift = shift

    def __call__(self, batch):
        import dataclasses

        return dataclasses.replace(batch, y=batch.y + self.shift)


def test_a_user_regulariser_is_added_to_the_training_loss_with_its_weight(
    regression_data, fixed_net
):
    X, y = regression_data(n=80, d=5)
    plain = fixed_net().fit(X, y)
    net = fixed_net(regularizers=[("l2", FeatureL2(weight=0.5))]).fit(X, y)
    pred = net.predict(X)
    np.testing.assert_allclose(pred, plain.predict(X))  # same initial network
    z = net.transform_features(X).astype(np.float64)
    expected = np.mean((pred - y) ** 2) + 0.5 * np.mean(z**2)
    assert net.history[-1, "train_loss"] == pytest.approx(expected, rel=1e-5)
    assert plain.history[-1, "train_loss"] == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)
    off = fixed_net(regularizers=[("l2", FeatureL2(weight=0.0))]).fit(X, y)
    assert off.history[-1, "train_loss"] == pytest.approx(plain.history[-1, "train_loss"])


def test_a_user_augmentation_acts_in_training_only(regression_data, fixed_net):
    X, y = regression_data(n=80, d=5)
    X_val, y_val = regression_data(n=30, d=5, seed=1)
    net = fixed_net(augment=ShiftTargets(shift=2.0), early_stopping=True)
    net.fit(X, y, eval_set=(X_val, y_val))
    pred = net.predict(X)
    assert net.history[-1, "train_loss"] == pytest.approx(np.mean((pred - y - 2.0) ** 2), 1e-5)
    valid = np.mean((net.predict(X_val) - y_val) ** 2)  # validation sees the plain targets
    assert net.history[-1, "valid_loss"] == pytest.approx(valid, rel=1e-5)
    assert net.get_params()["augment__shift"] == 2.0


def test_the_second_view_is_redrawn_per_view_augmentation(regression_data, fixed_net):
    X, y = regression_data(n=80, d=5)
    same = fixed_net(regularizers=[("gap", ViewGap(weight=1.0))]).fit(X, y)
    base = fixed_net().fit(X, y).history[-1, "train_loss"]
    # no dropout, no per-view augmentation: both views are the same forward pass
    assert same.history[-1, "train_loss"] == pytest.approx(base, rel=1e-6)
    noisy = fixed_net(
        regularizers=[("gap", ViewGap(weight=1.0))], augment=GaussianNoise(std=0.5)
    ).fit(X, y)
    plain_noisy = fixed_net(augment=GaussianNoise(std=0.5)).fit(X, y)
    # the first view draws the same noise in both nets; the gap term adds a positive amount
    gap = noisy.history[-1, "train_loss"] - plain_noisy.history[-1, "train_loss"]
    assert gap > 1e-4


def test_label_bins_reach_a_regulariser_that_needs_them_for_two_targets(
    regression_data, fixed_net
):
    X, y = regression_data(n=80, d=5)
    Y = np.column_stack([y, X[:, 2]])
    net = fixed_net(
        regularizers=[("bins", RecordBins())],
        label_density=LabelDensity(n_bins=7),
        iterator_train__shuffle=False,
    ).fit(X, Y)
    seen = net.regularizers_["bins"].seen_.numpy()
    np.testing.assert_array_equal(seen, np.asarray(net.label_density_.bin_index(Y)))
    assert seen.shape == (len(Y), 2) and seen.max() == 6
    assert not hasattr(net.regularizers[0][1], "seen_")  # the parameter was cloned, not fitted


def test_nested_parameters_of_listed_components():
    net = DIRRegressor(
        regularizers=[("conr", ConR()), ("ranksim", RankSim())],
        augment=[("cmixup", CMixup()), ("noise", GaussianNoise())],
    )
    params = net.get_params()
    assert params["regularizers__conr__threshold"] == 0.25
    assert params["regularizers__ranksim__weight"] == 100.0
    assert params["augment__noise__std"] == 0.1
    net.set_params(regularizers__conr__threshold=0.5, augment__cmixup__bandwidth=0.2)
    assert net.regularizers[0][1].threshold == 0.5
    assert net.augment[0][1].bandwidth == 0.2
    net.set_params(regularizers__ranksim=FeatureNormOrder(weight=2.0))
    assert isinstance(net.regularizers[1][1], FeatureNormOrder)
    assert net.get_params()["regularizers__ranksim__weight"] == 2.0
    twin = clone(net)
    assert twin.regularizers[0][1] is not net.regularizers[0][1]
    assert twin.get_params()["regularizers__conr__threshold"] == 0.5
    with pytest.raises(ValueError, match="regularizers has no entry named 'rank'"):
        net.set_params(regularizers__rank__weight=1.0)
    with pytest.raises(ValueError, match="set weighter to an object first"):
        net.set_params(weighter__sigma=1.0)


def test_grid_search_tunes_a_regulariser_weight(regression_data, fixed_net):
    X, y = regression_data(n=80, d=5)
    search = GridSearchCV(
        fixed_net(regularizers=[("l2", FeatureL2())], lr=1e-2, max_epochs=3),
        {"regularizers__l2__weight": [0.0, 100.0]},
        cv=2,
    ).fit(X, y)
    assert search.best_params_ == {"regularizers__l2__weight": 0.0}
    assert search.best_estimator_.regularizers_["l2"].weight == 0.0


def test_the_constructor_has_at_most_twenty_named_parameters():
    named = [
        p
        for p in inspect.signature(DIRRegressor).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY or p.name == "module"
    ]
    assert len(named) <= 20


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"regularizers": [("a", ConR()), ("a", RankSim())]}, "names must be unique"),
        ({"regularizers": [("a__b", ConR())]}, "free of '__'"),
        ({"regularizers": [ConR()]}, r"list of \(name, object\) pairs"),
        ({"regularizers": [("c", ConR(temperature=0))]}, r"ConR\(temperature=0\) must be"),
        ({"regularizers": [("c", ConR())], "batch_size": 1}, "batch_size >= 2"),
        ({"augment": [("m", CMixup(bandwidth=-1.0))]}, "bandwidth"),
        ({"regularizers": [("x", 3)]}, "is not a regulariser"),
    ],
)
def test_bad_components_are_clear_errors(params, match, regression_data, fixed_net):
    X, y = regression_data(n=30, d=5)
    with pytest.raises(ValueError, match=match):
        fixed_net(**params).fit(X, y)


def test_a_regulariser_needing_something_unknown_is_refused(regression_data, fixed_net):
    class Odd(Regularizer):
        needs = frozenset({"gradients"})

        def loss(self, batch):
            return batch.y.new_zeros(())

    X, y = regression_data(n=30, d=5)
    with pytest.raises(ValueError, match=r"Odd.needs names \['gradients'\]"):
        fixed_net(regularizers=[("odd", Odd())]).fit(X, y)


def test_training_batch_labels_are_in_training_standard_deviations():
    batch = TrainingBatch(
        X=torch.zeros(2, 1),
        y=torch.tensor([[2.0, 9.0], [4.0, 3.0]]),
        label_scale=torch.tensor([2.0, 3.0]),
    )
    assert batch.labels.tolist() == [[1.0, 3.0], [2.0, 1.0]]


class PullFeatures(Regularizer):
    """A pre-training stage pulling the features to 1; contributes 0 to the main loss."""

    def __init__(self, weight=0.0, epochs=3):
        super().__init__(weight=weight)
        self.epochs = epochs

    @property
    def active(self):
        return True

    def loss(self, batch):
        return batch.y.new_zeros(())

    def before_fit(self, net, X, y):
        self.rows_ = []

        def pull(batch):
            self.rows_.append(len(batch.y))
            return (batch.features - 1.0).pow(2).mean()

        self.head_before_ = net.module_.head.weight.detach().clone()
        self.losses_ = net.pretrain(X, y, pull, epochs=self.epochs, lr=0.01)
        self.head_after_ = net.module_.head.weight.detach().clone()


class FreezeAll(Regularizer):
    """Zeroes every gradient after the backward pass."""

    @property
    def active(self):
        return True

    def loss(self, batch):
        return batch.y.new_zeros(())

    def after_backward(self, net, batch):
        for parameter in net.module_.parameters():
            parameter.grad = None if parameter.grad is None else torch.zeros_like(parameter.grad)


def test_a_pretraining_stage_trains_the_features_on_the_training_rows_only(regression_data):
    X, y = regression_data(n=100, d=5)
    params = dict(module="mlp", max_epochs=2, batch_size=32, device="cpu", random_state=0)
    net = DIRRegressor(regularizers=[("pull", PullFeatures(epochs=4))], **params).fit(X, y)
    stage = net.regularizers_["pull"]
    assert stage.losses_.shape == (4,)
    assert stage.losses_[-1] < stage.losses_[0]  # the stage minimised its loss
    # 10 of the 100 rows are held out for early stopping: 90 rows per epoch, in batches of 32
    assert sum(stage.rows_) == 4 * 90
    assert stage.rows_[:3] == [32, 32, 26]
    torch.testing.assert_close(stage.head_before_, stage.head_after_)  # head untouched
    again = DIRRegressor(regularizers=[("pull", PullFeatures(epochs=4))], **params).fit(X, y)
    np.testing.assert_array_equal(net.predict(X), again.predict(X))
    plain = DIRRegressor(**params).fit(X, y)
    assert not np.allclose(net.predict(X), plain.predict(X))


def test_after_backward_sees_the_gradients_before_the_optimizer_step(regression_data):
    X, y = regression_data(n=60, d=4)
    params = dict(
        module="mlp",
        max_epochs=3,
        early_stopping=False,
        validation_fraction=None,
        device="cpu",
        random_state=0,
        optimizer__weight_decay=0.0,
    )
    frozen = DIRRegressor(regularizers=[("freeze", FreezeAll())], **params).fit(X, y)
    untrained = DIRRegressor(**{**params, "max_epochs": 0}).fit(X, y)
    np.testing.assert_allclose(frozen.predict(X), untrained.predict(X))
    trained = DIRRegressor(**params).fit(X, y)
    assert not np.allclose(trained.predict(X), untrained.predict(X))
