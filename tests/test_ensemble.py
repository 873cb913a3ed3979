"""BaggedRegressor: fold bagging and seed ensembles, out-of-fold predictions, spread."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score

from skdir.ensemble import BaggedRegressor, target_strata
from skdir.nn import DIRRegressor


def _data(n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + np.exp(rng.normal(size=n))
    return X, y


def test_fold_members_leave_out_their_fold_and_average():
    X, y = _data()
    bag = BaggedRegressor(Ridge(alpha=1.0), n_members=3, random_state=0).fit(X, y)
    assert sorted(np.bincount(bag.fold_index_)) == [30, 30, 30]
    members = []
    for k in range(3):
        train = bag.fold_index_ != k
        ridge = Ridge(alpha=1.0).fit(X[train], y[train])  # member k, refitted by hand
        np.testing.assert_allclose(bag.estimators_[k].coef_, ridge.coef_)
        np.testing.assert_allclose(bag.oof_prediction_[~train], ridge.predict(X[~train]))
        members.append(ridge.predict(X[:5]))
    mean, std = bag.predict(X[:5], return_std=True)
    np.testing.assert_allclose(mean, np.mean(members, axis=0))
    np.testing.assert_allclose(std, np.std(members, axis=0))
    np.testing.assert_allclose(bag.predict_members(X[:5]), members)


def test_folds_are_stratified_over_the_target_range():
    X, y = _data(n=100)
    bag = BaggedRegressor(Ridge(), n_members=5, random_state=0).fit(X, y)
    top = np.argsort(y)[-5:]  # the five largest targets land in five different folds
    assert sorted(bag.fold_index_[top]) == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(target_strata([3.0, 0.0, 1.0, 2.0, 4.0], 2), [1, 0, 0, 1, 1])


def test_seed_ensemble_of_networks_spread_and_determinism():
    X, y = _data(n=80)
    net = DIRRegressor(max_epochs=5, module__hidden=(8,), device="cpu")
    bag = BaggedRegressor(net, n_members=3, bagging="seeds", random_state=0).fit(X, y)
    seeds = [m.random_state for m in bag.estimators_]
    assert len(set(seeds)) == 3 and not hasattr(bag, "oof_prediction_")
    mean, std = bag.predict(X, return_std=True)
    assert np.all(std > 0) and mean.shape == std.shape == (80,)
    again = BaggedRegressor(net, n_members=3, bagging="seeds", random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.predict(X), mean)
    restored = pickle.loads(pickle.dumps(bag))
    np.testing.assert_array_equal(restored.predict(X), mean)


def test_networks_early_stop_on_their_left_out_fold():
    X, y = _data(n=80)
    net = DIRRegressor(max_epochs=4, module__hidden=(8,), device="cpu", random_state=0)
    bag = BaggedRegressor(net, n_members=2, random_state=0).fit(X, y)
    for k, member in enumerate(bag.estimators_):
        left_out = bag.fold_index_ == k
        # the monitored validation loss of the last epoch is the MSE on the left-out fold
        # of the network as it was then; the restored best epoch scores its minimum
        best = min(member.history[:, "valid_loss"])
        mse = np.mean((member.predict(X[left_out]) - y[left_out]) ** 2)
        assert mse == pytest.approx(best, rel=1e-4)


def test_two_targets_sample_weight_and_cross_validation():
    X, y = _data()
    Y = np.column_stack([y, 100 * X[:, 0]])
    bag = BaggedRegressor(Ridge(), n_members=3, random_state=0)
    mean, std = bag.fit(X, Y).predict(X, return_std=True)
    assert mean.shape == std.shape == (90, 2) and bag.oof_prediction_.shape == (90, 2)
    w = np.where(y > np.median(y), 10.0, 1.0)
    weighted = clone(bag).fit(X, y, sample_weight=w)
    k = 0
    train = weighted.fold_index_ != k
    ridge = Ridge().fit(X[train], y[train], sample_weight=w[train])
    np.testing.assert_allclose(weighted.estimators_[k].coef_, ridge.coef_)
    scores = cross_val_score(BaggedRegressor(Ridge(), n_members=3, random_state=0), X, y, cv=3)
    single = cross_val_score(Ridge(), X, y, cv=3)  # bagging a linear model changes little
    np.testing.assert_allclose(scores, single, atol=0.05)


def test_bad_input():
    X, y = _data(n=10)
    with pytest.raises(ValueError, match="n_members=20 needs at least as many samples"):
        BaggedRegressor(Ridge(), n_members=20).fit(X, y)
    with pytest.raises(ValueError, match="n_members"):
        BaggedRegressor(Ridge(), n_members=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 9 rows but y has 10"):
        BaggedRegressor(Ridge(), n_members=2).fit(X[:9], y)
    with pytest.raises(ValueError, match="NaN"):
        BaggedRegressor(Ridge(), n_members=2).fit(X, np.r_[y[:-1], np.nan])
