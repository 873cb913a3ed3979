"""DIRRegressor: sklearn integration, LDS in the loss, determinism, bad input."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import config_context
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from torch import nn

from skdir.density import LabelDensity
from skdir.nn import MLP, DIRRegressor, FeatureDistributionSmoothing, TwoTower
from skdir.weighting import LDSWeighter


# ------------------------------------------------------------- LDS in the loss
def test_lds_weights_reach_the_training_loss(regression_data, fixed_net):
    X, y = regression_data()
    plain = fixed_net().fit(X, y)
    weighted = fixed_net(weighter=LDSWeighter(n_bins=6, alpha=1.0)).fit(X, y)
    pred = plain.predict(X)
    np.testing.assert_allclose(weighted.predict(X), pred)  # same initial network
    w = LDSWeighter(n_bins=6, alpha=1.0).fit_transform(y)  # exactly the weighting module's weights
    np.testing.assert_allclose(w, weighted.weighter_.transform(y))
    assert w.std() > 0.1
    loss_plain = plain.history[-1, "train_loss"]
    loss_weighted = weighted.history[-1, "train_loss"]
    assert loss_plain == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)
    assert loss_weighted == pytest.approx(np.mean(w * (pred - y) ** 2), rel=1e-5)
    assert loss_weighted != pytest.approx(loss_plain, rel=1e-3)


def test_lds_times_user_sample_weight_and_focal_loss(regression_data, fixed_net):
    X, y = regression_data()
    sw = np.linspace(0.5, 2.0, len(y))
    lds = LDSWeighter(n_bins=6, reweight="inverse")
    net = fixed_net(weighter=lds, criterion__loss="l1").fit(X, y, sample_weight=sw)
    pred = net.predict(X)
    w = clone(lds).fit_transform(y) * sw
    assert net.history[-1, "train_loss"] == pytest.approx(np.mean(w * np.abs(pred - y)), 1e-5)
    net = fixed_net(criterion__loss="focal_mse", criterion__beta=0.5).fit(X, y)
    e = np.abs(net.predict(X) - y)
    expected = np.mean(e**2 * (2 / (1 + np.exp(-0.5 * e)) - 1))
    assert net.history[-1, "train_loss"] == pytest.approx(expected, rel=1e-5)


def test_lds_weights_use_the_fit_targets_and_label_density_is_exposed(
    regression_data, fast_params
):
    X, y = regression_data()
    net = DIRRegressor(
        weighter=LDSWeighter(bin_width=0.5, sigma=1.0),
        label_density=LabelDensity(bin_width=0.25),
        **fast_params,
    ).fit(X, y)
    density = net.weighter_.label_density_
    assert density.bin_edges_[0][0] == pytest.approx(y.min())
    assert density.sigma == 1.0
    assert np.diff(density.bin_edges_[0])[0] == pytest.approx(0.5)
    assert np.diff(net.label_density_.bin_edges_[0])[0] == pytest.approx(0.25)
    assert net.label_density_.counts_.sum() == len(y)
    X_val, y_val = regression_data(n=30, seed=1)  # the eval set is weighted by the same weighter
    packed, _ = net._prepare_eval_set((X_val, y_val))
    np.testing.assert_allclose(
        packed["sample_weight"], net.weighter_.transform(y_val).astype(np.float32)
    )


# ---------------------------------------------------------------- determinism
def test_same_random_state_gives_identical_predictions_and_leaves_global_rng(
    regression_data, fast_params
):
    X, y = regression_data()
    state = torch.get_rng_state()
    net = DIRRegressor(
        weighter=LDSWeighter(), fds=FeatureDistributionSmoothing(), **fast_params
    ).fit(X, y)
    assert torch.equal(torch.get_rng_state(), state)  # fit forks the global generator
    first = net.predict(X)
    second = (
        DIRRegressor(weighter=LDSWeighter(), fds=FeatureDistributionSmoothing(), **fast_params)
        .fit(X, y)
        .predict(X)
    )
    np.testing.assert_array_equal(first, second)
    other = DIRRegressor(
        weighter=LDSWeighter(),
        fds=FeatureDistributionSmoothing(),
        **{**fast_params, "random_state": 1},
    ).fit(X, y)
    assert not np.array_equal(other.predict(X), first)


# ------------------------------------------------------------- shapes, dtypes
def test_one_and_two_targets_pandas_and_float64_in_float64_out(regression_data, fast_params):
    X, y = regression_data()
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    net = DIRRegressor(**fast_params).fit(frame, pd.Series(y))
    pred = net.predict(frame)
    assert pred.shape == (len(y),) and pred.dtype == np.float64
    Y = np.column_stack([y, -y])
    net2 = DIRRegressor(
        weighter=LDSWeighter(), fds=FeatureDistributionSmoothing(), **fast_params
    ).fit(X, Y)
    assert net2.predict(X).shape == (len(y), 2) and net2.n_outputs_ == 2
    assert net2.label_density_.n_targets_ == 2
    net3 = DIRRegressor(**fast_params).fit(X, y[:, None])
    assert net3.predict(X).shape == (len(y), 1)
    assert not hasattr(net, "predict_proba")


def test_learns_a_simple_function(regression_data):
    X, y = regression_data(n=300)
    net = DIRRegressor(max_epochs=60, device="cpu", random_state=0).fit(X, y)
    assert net.score(X, y) > 0.9
    assert len(net.history) < 60 or net.history[-1, "valid_loss"] < 0.5


def test_early_stopping_restores_the_best_epoch(regression_data):
    X, y = regression_data(n=200)
    X_val, y_val = regression_data(n=60, seed=1)
    net = DIRRegressor(max_epochs=40, patience=3, lr=0.05, device="cpu", random_state=0).fit(
        X, y, eval_set=(X_val, y_val)
    )
    valid = np.array(net.history[:, "valid_loss"])
    assert len(valid) < 40
    assert np.mean((net.predict(X_val) - y_val) ** 2) == pytest.approx(valid.min(), rel=1e-4)


def test_target_transformer_trains_on_scaled_targets_with_raw_density(
    regression_data, fast_params
):
    X, y = regression_data()
    y_big = 1000 * y + 5000
    net = DIRRegressor(
        target_transformer=StandardScaler(), weighter=LDSWeighter(), **fast_params
    ).fit(X, y_big)
    assert net.label_density_.bin_edges_[0][0] == pytest.approx(y_big.min())
    assert abs(np.mean(net.predict(X)) - np.mean(y_big)) < 0.5 * np.std(y_big)
    assert net.history[0, "train_loss"] < 10  # scaled targets, not raw thousands


def test_two_tower_with_slices_or_sizes(regression_data, fast_params):
    X, y = regression_data()
    a = DIRRegressor("two_tower", module__modalities=[slice(0, 6), slice(6, 10)], **fast_params)
    b = DIRRegressor("two_tower", module__modalities=[6, 4], **fast_params)
    np.testing.assert_allclose(a.fit(X, y).predict(X), b.fit(X, y).predict(X), rtol=1e-6)
    assert isinstance(a.module_, TwoTower) and len(a.module_.towers) == 2
    with pytest.raises(ValueError, match="module__modalities"):
        DIRRegressor("two_tower", **fast_params).fit(X, y)
    with pytest.raises(ValueError, match="sum to the 10"):
        DIRRegressor("two_tower", module__modalities=[3, 3], **fast_params).fit(X, y)


class _Plain(nn.Module):
    def __init__(self, n_features, n_outputs, width=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, width), nn.ReLU(), nn.Linear(width, 1))
        self.n_outputs = n_outputs

    def forward(self, X):
        return self.net(X)


def test_custom_module_class_and_instances_rejected(regression_data, fast_params):
    X, y = regression_data()
    plain_params = {k: v for k, v in fast_params.items() if k != "module__hidden"}
    net = DIRRegressor(_Plain, module__width=3, **plain_params).fit(X, y)
    assert net.predict(X).shape == (len(y),)
    with pytest.raises(ValueError, match="not an instance"):
        DIRRegressor(MLP(10), **fast_params).fit(X, y)
    with pytest.raises(ValueError, match=r"module__bogus.*valid ones are"):
        DIRRegressor(module__bogus=1, **fast_params).fit(X, y)
    with pytest.raises(ValueError, match=r"fds and the feature regularisers need.*_Plain"):
        DIRRegressor(_Plain, fds=FeatureDistributionSmoothing(), **plain_params).fit(X, y)


# --------------------------------------------------- sklearn meta-estimators
def test_pipeline_with_metadata_routing_passes_sample_weight(regression_data, fast_params):
    X, y = regression_data()
    sw = np.where(y > np.median(y), 5.0, 0.2)
    direct = DIRRegressor(**fast_params).fit(
        StandardScaler().fit_transform(X), y, sample_weight=sw
    )
    unweighted = DIRRegressor(**fast_params).fit(StandardScaler().fit_transform(X), y)
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            DIRRegressor(**fast_params).set_fit_request(sample_weight=True),
        )
        pipe.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(pipe.predict(X), direct.predict(StandardScaler().fit_transform(X)))
    assert not np.allclose(direct.predict(X), unweighted.predict(X))


def test_cross_val_score_ttr_and_grid_search(regression_data, fast_params):
    X, y = regression_data()
    scores = cross_val_score(DIRRegressor(weighter=LDSWeighter(), **fast_params), X, y, cv=2)
    assert np.all(np.isfinite(scores))
    ttr = TransformedTargetRegressor(DIRRegressor(**fast_params), transformer=StandardScaler())
    assert ttr.fit(X, y).predict(X).shape == (len(y),)
    search = GridSearchCV(
        DIRRegressor(weighter=LDSWeighter(), **{**fast_params, "max_epochs": 3}),
        {"weighter__sigma": [1.0, 2.0], "module__dropout": [0.0, 0.2]},
        cv=2,
    ).fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_["weighter__sigma"] in (1.0, 2.0)
    best = search.best_estimator_
    assert best.get_params()["module__dropout"] == search.best_params_["module__dropout"]
    assert best.weighter_.label_density_.sigma == search.best_params_["weighter__sigma"]


def test_clone_pickle_set_params_and_save_params(tmp_path, regression_data, fast_params):
    X, y = regression_data()
    net = DIRRegressor(
        weighter=LDSWeighter(), fds=FeatureDistributionSmoothing(), **fast_params
    ).fit(X, y)
    pred = net.predict(X)
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.predict(X), pred)
    assert restored.device == "auto" or restored.device == "cpu"
    fresh = clone(net)
    assert not hasattr(fresh, "module_") and fresh.get_params()["weighter__sigma"] == 2.0
    assert fresh.weighter is not net.weighter  # components are cloned, not shared
    net.set_params(module__hidden=(4,), weighter__sigma=1.0)
    net.fit(X, y)
    assert net.module_.embedding_dim == 4 and net.weighter_.label_density_.sigma == 1.0
    net.save_params(f_params=tmp_path / "w.pt")
    twin = DIRRegressor(
        weighter=LDSWeighter(),
        fds=FeatureDistributionSmoothing(),
        **{**fast_params, "module__hidden": (4,)},
    )
    twin.fit(X, y, sample_weight=np.full(len(y), 2.0))  # other weights than net's
    twin.load_params(f_params=tmp_path / "w.pt")
    np.testing.assert_allclose(twin.predict(X), net.predict(X), rtol=1e-6)


def test_device_auto_is_resolved_without_changing_the_parameter(regression_data):
    X, y = regression_data()
    net = DIRRegressor(device="auto", max_epochs=2, random_state=0).fit(X, y)
    assert net.device == "auto"
    assert net.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    assert next(net.module_.parameters()).device.type == net.device_


def test_verbose_prints_the_epoch_table(capsys, regression_data, fast_params):
    X, y = regression_data()
    DIRRegressor(verbose=1, **{**fast_params, "max_epochs": 2}).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out


def test_partial_fit_continues_training(regression_data, fast_params):
    X, y = regression_data()
    net = DIRRegressor(**{**fast_params, "max_epochs": 2}).fit(X, y)
    net.partial_fit(X, y)
    assert len(net.history) == 4


# ------------------------------------------------------------------ bad input
def test_bad_input_raises_clear_errors(regression_data, fast_params):
    X, y = regression_data()
    net = DIRRegressor(**fast_params)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        net.fit(X_nan, y)
    y_inf = y.copy()
    y_inf[3] = np.inf
    with pytest.raises(ValueError, match=r"infinity|inf"):
        net.fit(X, y_inf)
    with pytest.raises(ValueError, match="3 dimensions"):
        net.fit(X.reshape(len(X), 2, 5), y)
    net.fit(X, y)
    with pytest.raises(ValueError, match="3 dimensions"):
        net.predict(X.reshape(len(X), 2, 5))
    with pytest.raises(ValueError, match="features"):
        net.predict(X[:, :5])
    with pytest.raises(ValueError, match="target"):
        net.partial_fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="target"):
        DIRRegressor(**fast_params).fit(X, y, eval_set=(X, np.column_stack([y, y])))
    with pytest.raises(ValueError, match="too few to hold out a validation"):
        DIRRegressor(**fast_params).fit(X[:4], y[:4])
    with pytest.raises(ValueError, match="early_stopping=True needs validation data"):
        DIRRegressor(validation_fraction=None, **fast_params).fit(X, y)
    with pytest.raises(ValueError, match="one or two targets"):
        DIRRegressor(weighter=LDSWeighter(), **fast_params).fit(X, np.column_stack([y, y, y]))
    with pytest.raises(ValueError, match="Unknown loss 'l3'"):
        DIRRegressor(criterion__loss="l3", **fast_params).fit(X, y)
    with pytest.raises(ValueError, match="at least one non-zero"):
        DIRRegressor(**fast_params).fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match=r"start_smooth=1\) is before start_update=3"):
        fds = FeatureDistributionSmoothing(start_update=3, start_smooth=1)
        DIRRegressor(fds=fds, **fast_params).fit(X, y)
    with pytest.raises(ValueError, match="constant"):
        DIRRegressor(weighter=LDSWeighter(), **fast_params).fit(X, np.ones(len(y)))


def test_bins_without_samples_give_finite_lds_weights(fast_params):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = np.r_[rng.uniform(0, 1, 38), [9.5, 10.0]]  # most of the 50 bins are empty
    net = DIRRegressor(weighter=LDSWeighter(), **fast_params).fit(X, y)
    assert (net.weighter_.label_density_.counts_ == 0).sum() > 30
    w = net.weighter_.transform(y)
    assert np.all(np.isfinite(w)) and w[-1] > w[0]
    assert np.all(np.isfinite(net.predict(X)))


def test_set_params_on_a_fitted_net_takes_effect_at_the_next_fit(regression_data, fast_params):
    # issue 13.3: switching FDS on and resizing the module used to rebuild the net at once
    # (AttributeError: the FDS bins of the last fit do not exist)
    X, y = regression_data(n=60, d=4)
    net = DIRRegressor(**{**fast_params, "max_epochs": 2}).fit(X, y)
    pred = net.predict(X)
    net.set_params(fds=FeatureDistributionSmoothing(), module__hidden=(8,))
    np.testing.assert_array_equal(net.predict(X), pred)  # the fitted model is kept
    assert net.get_params()["fds__n_bins"] == 50 and net.module_.embedding_dim == 16
    net.partial_fit(X, y)  # a changed model trains from scratch
    assert net.module_.embedding_dim == 8 and net.feature_smoothing_.n_bins == 50
    assert len(net.history) == 2
    # training settings keep the network: partial_fit continues it
    net.set_params(lr=0.01, max_epochs=1)
    net.partial_fit(X, y)
    assert len(net.history) == 3 and net.optimizer_.param_groups[0]["lr"] == 0.01
    refit = DIRRegressor(
        fds=FeatureDistributionSmoothing(),
        **{**fast_params, "max_epochs": 2, "module__hidden": (8,)},
    )
    np.testing.assert_allclose(
        clone(net).set_params(max_epochs=2, lr=1e-3).fit(X, y).predict(X),
        refit.fit(X, y).predict(X),
    )


@pytest.mark.parametrize(
    ("device", "match"),
    [
        ("tpu", "'tpu' is not a torch device"),
        ("gpu0", "'gpu0' is not a torch device"),
        ("meta", "runs on 'cpu', 'cuda'"),
        pytest.param(
            "cuda",
            "CUDA is not available",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present"),
        ),
    ],
)
def test_an_unusable_device_is_a_clear_error_before_training(
    device, match, regression_data, fast_params
):
    # issue 13.10: device="tpu" used to fail inside torch
    X, y = regression_data(n=30, d=3)
    net = DIRRegressor(**{**fast_params, "device": device})
    with pytest.raises(ValueError, match=match):
        net.fit(X, y)
    assert not hasattr(net, "module_")


def test_tensor_batches_train_exactly_like_skorchs_data_loader(regression_data, fast_params):
    # issue 15.4: batches are sliced from whole tensors instead of collated row by row;
    # a loader option (num_workers) sends the net through skorch's DataLoader instead
    from skdir.nn._data import TensorBatches

    X, y = regression_data()
    params = {**fast_params, "weighter": LDSWeighter(), "fds": FeatureDistributionSmoothing()}
    fast = DIRRegressor(**params).fit(X, y)
    loader = DIRRegressor(**params, iterator_train__num_workers=0, iterator_valid__num_workers=0)
    loader.fit(X, y)
    packed, _ = fast._pack(X.astype(np.float32), y, None)
    assert isinstance(fast.get_iterator(fast.get_dataset(packed, y), training=True), TensorBatches)
    assert not isinstance(loader.get_iterator(loader.get_dataset(packed, y)), TensorBatches)
    np.testing.assert_array_equal(fast.predict(X), loader.predict(X))
    np.testing.assert_array_equal(fast.history[:, "valid_loss"], loader.history[:, "valid_loss"])
    # predict runs in chunks of 4096 rows without gradients: the same values as skorch's
    # row-collating forward_iter in batches of 64, to float32 rounding
    reference = torch.cat([out[0] for out in fast.forward_iter(X.astype(np.float32))])
    np.testing.assert_allclose(fast.predict(X), reference.numpy().ravel(), rtol=1e-6, atol=1e-6)


def test_a_pickle_holds_what_predict_needs_at_about_the_parameters_size(fast_params):
    # issue 15.6: the optimizer state and FDS statistics (dozens of MB for two targets)
    # were pickled with the net
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 384))  # an embedding-sized input: the network dominates
    Y = np.column_stack([np.exp(X[:, 0]), X[:, 1]])
    net = DIRRegressor(
        weighter=LDSWeighter(),
        fds=FeatureDistributionSmoothing(),
        **{**fast_params, "max_epochs": 3},
    )
    net.set_params(module__hidden=(256,)).fit(X, Y)
    n_bytes = sum(p.numel() * p.element_size() for p in net.module_.parameters())
    blob = pickle.dumps(net)
    assert len(blob) < 2 * n_bytes
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.predict(X), net.predict(X))
    assert not restored.feature_smoothing_.ready  # statistics are gathered anew
    assert not restored.optimizer_.state  # a fresh optimizer
    restored.partial_fit(X, Y)
    assert len(restored.history) == 6 and restored.feature_smoothing_.ready
    assert net.optimizer_.state and net.feature_smoothing_.ready  # the original is intact


# ------------------------------------------------------------ learning-rate schedule
class _RecordLearningRate(Callback):
    def initialize(self):
        self.rates = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.rates.append(net.optimizer_.param_groups[0]["lr"])


@pytest.mark.parametrize("schedule", ["cosine", None])
def test_cosine_schedule_anneals_each_fit_call_and_restores_the_rate(regression_data, schedule):
    X, y = regression_data()
    record = _RecordLearningRate()
    net = DIRRegressor(
        lr=0.1,
        max_epochs=4,
        lr_schedule=schedule,
        early_stopping=False,
        callbacks=[("record", record)],
        device="cpu",
        random_state=0,
    ).fit(X, y)
    # (1 + cos(pi e / 4)) / 2 for e = 0..3
    expected = [0.1, 0.0853553, 0.05, 0.0146447] if schedule else [0.1] * 4
    np.testing.assert_allclose(record.rates, expected, rtol=1e-5)
    assert net.optimizer_.param_groups[0]["lr"] == 0.1
    net.partial_fit(X, y)  # a new call anneals from the start again
    np.testing.assert_allclose(record.rates[4:], expected, rtol=1e-5)


def test_unknown_schedule_is_refused(regression_data):
    X, y = regression_data()
    with pytest.raises(ValueError, match="lr_schedule"):
        DIRRegressor(lr_schedule="linear", max_epochs=1, device="cpu").fit(X, y)


# ------------------------------------------- per-batch bookkeeping (issue 15.4)
def test_the_lean_training_loop_keeps_skorchs_history_hooks_and_modes(
    regression_data, fast_params
):
    # the training loop over tensor batches skips the callbacks' empty per-batch hooks,
    # writes the history rows directly and sets train/eval modes only where they differ;
    # the history, the hooks a callback defines and the modules' modes are skorch's
    from skorch.callbacks import Callback

    class Hooks(Callback):
        def initialize(self):
            self.calls = {"on_batch_begin": 0, "on_batch_end": 0, "on_grad_computed": 0}
            self.all_training = []
            return self

        def on_batch_begin(self, net, training=False, **kwargs):
            self.calls["on_batch_begin"] += 1
            if training:  # a submodule left in eval mode is put back by the step
                net.module_.trunk[-1].eval()

        def on_batch_end(self, net, **kwargs):
            self.calls["on_batch_end"] += 1

        def on_grad_computed(self, net, named_parameters, **kwargs):
            self.calls["on_grad_computed"] += 1
            modules = [*net.module_.modules(), net.criterion_]
            self.all_training.append(all(m.training for m in modules))

    X, y = regression_data()
    params = {**fast_params, "max_epochs": 3}
    hooks = Hooks()
    fast = DIRRegressor(**params, callbacks=[("hooks", hooks)]).fit(X, y)
    loader = DIRRegressor(**params, iterator_train__num_workers=0, iterator_valid__num_workers=0)
    loader.fit(X, y)
    for key in ("train_loss", "train_batch_size", "valid_loss", "valid_batch_size"):
        np.testing.assert_array_equal(
            np.asarray(fast.history[:, "batches", :, key], dtype=float),
            np.asarray(loader.history[:, "batches", :, key], dtype=float),
        )
    assert fast.history[:, "train_batch_count"] == loader.history[:, "train_batch_count"]
    n_batches = sum(fast.history[:, "train_batch_count"])
    n_valid = sum(fast.history[:, "valid_batch_count"])
    assert hooks.calls == {
        "on_batch_begin": n_batches + n_valid,
        "on_batch_end": n_batches + n_valid,
        "on_grad_computed": n_batches,
    }
    assert len(hooks.all_training) == n_batches and all(hooks.all_training)
    assert not fast.module_.training  # the last validation pass set evaluation mode


def test_a_hook_set_on_a_callback_instance_is_still_called(regression_data, fast_params):
    from skorch.callbacks import Callback

    seen = []
    callback = Callback()
    callback.on_batch_end = lambda net, **kwargs: seen.append(kwargs["training"])
    X, y = regression_data()
    net = DIRRegressor(**{**fast_params, "max_epochs": 1}, callbacks=[("spy", callback)])
    net.fit(X, y)
    assert seen.count(True) == net.history[-1, "train_batch_count"] and False in seen
