"""Tests of skdir.auto.AutoDIRRegressor: honest selection, the constraint, ensembles, budgets."""

from __future__ import annotations

import pickle
import time
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline

from skdir.auto import CANDIDATE_NAMES, AutoDIRRegressor, plot_leaderboard
from skdir.datasets import make_imbalanced_regression
from skdir.metrics import balanced_mean_squared_error, balanced_mse_scorer

LINEAR = ["ridge", "ridge+lds", "ridge+lds1"]


def _skewed(n: int = 300, d: int = 6, seed: int = 0, noise: float = 0.3):
    """Linear-plus-curvature data with a right-skewed target (a rare upper range)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    latent = X[:, 0] + 0.5 * X[:, 1]
    y = np.exp(0.8 * latent) + 0.3 * X[:, 2] + noise * rng.normal(size=n)
    return X, y


def _board(model):
    board = model.leaderboard_
    return {c: np.asarray(board[c]) for c in board}


class _Sleepy(RegressorMixin, BaseEstimator):
    """A ridge whose fit also waits ``seconds`` (to test the time budget)."""

    def __init__(self, seconds: float = 0.1) -> None:
        self.seconds = seconds

    def fit(self, X, y):
        time.sleep(self.seconds)
        self.ridge_ = Ridge().fit(X, y)
        return self

    def predict(self, X):
        return self.ridge_.predict(X)


def test_leak_probe_memorising_candidate_does_not_win():
    """A 1-NN regressor reproduces every training row (error 0 in-sample): selection on
    in-sample predictions would pick it; on out-of-fold predictions it must lose."""
    X, y = _skewed(300, 6, seed=1, noise=0.1)
    memoriser = KNeighborsRegressor(n_neighbors=1)
    assert np.mean((memoriser.fit(X, y).predict(X) - y) ** 2) == 0.0
    model = AutoDIRRegressor(
        candidates=["ridge", ("memoriser", memoriser)],
        n_folds=4,
        objective="overall",
        ensemble_size=1,
        random_state=0,
    ).fit(X, y)
    board = _board(model)
    rows = dict(zip(board["name"], board["all"], strict=True))
    assert "memoriser" not in model.estimators_
    assert model.selected_ == "ridge"
    assert rows["memoriser"] > 1.3 * rows["ridge"] > 0
    # the leaderboard row of every candidate is computed from its out-of-fold predictions
    assert np.isclose(rows["ridge"], np.mean((model.oof_prediction_ - y) ** 2))


def test_leaderboard_rows_are_out_of_fold_region_errors():
    X, y = _skewed(240, 5, seed=2)
    model = AutoDIRRegressor(candidates=LINEAR, n_folds=3, random_state=0).fit(X, y)
    board = _board(model)
    assert set(board) >= {"all", "many", "medium", "few", "balanced", "fit_s", "weight", "chosen"}
    assert board["chosen"].sum() == 1
    assert np.isclose(sum(model.weights_.values()), 1.0)
    # the balanced column is skdir.metrics' balanced MSE over the training density
    for name, bag in model.estimators_.items():
        expected = balanced_mean_squared_error(
            y, bag.oof_prediction_, label_density=model.label_density_
        )
        assert np.isclose(board["balanced"][list(board["name"]).index(name)], expected)
    # predict is the weighted mean of the bags; the OOF prediction is the weighted OOF
    manual = sum(w * model.estimators_[n].predict(X) for n, w in model.weights_.items())
    assert np.allclose(model.predict(X), manual)
    folds = {tuple(bag.fold_index_) for bag in model.estimators_.values()}
    assert len(folds) == 1  # one set of folds shared by every candidate


@pytest.mark.parametrize("max_overall_loss", [0.0, 0.02, 0.2])
def test_objective_constraint_holds_on_the_leaderboard(max_overall_loss):
    X, y = _skewed(300, 6, seed=3)
    model = AutoDIRRegressor(
        candidates=["ridge", "ridge+lds", "ridge+lds1", "rbf_ridge", "rbf_ridge+lds"],
        n_folds=3,
        max_overall_loss=max_overall_loss,
        random_state=0,
    ).fit(X, y)
    board = _board(model)
    singles = board["name"] != "ensemble"
    limit = board["all"][singles].min() * (1 + max_overall_loss)
    assert np.isclose(model.overall_limit_, limit)
    assert np.array_equal(board["feasible"], board["all"] <= limit)
    chosen = board["chosen"]
    assert board["all"][chosen][0] <= limit * (1 + 1e-12)
    # nothing feasible among the single candidates has a lower balanced error
    feasible_singles = singles & board["feasible"]
    assert board["balanced"][chosen][0] <= board["balanced"][feasible_singles].min() + 1e-12


def test_objectives_overall_few_and_callable():
    X, y = _skewed(300, 6, seed=4)
    names = ["ridge", "ridge+lds1", "rbf_ridge", "rbf_ridge+lds1"]
    overall = AutoDIRRegressor(candidates=names, n_folds=3, objective="overall", random_state=0)
    board = _board(overall.fit(X, y))
    assert board["all"][board["chosen"]][0] <= board["all"].min() + 1e-12
    unconstrained = AutoDIRRegressor(
        candidates=names, n_folds=3, objective="few", max_overall_loss=None, random_state=0
    ).fit(X, y)
    board = _board(unconstrained)
    assert board["few"][board["chosen"]][0] <= board["few"][board["name"] != "ensemble"].min()

    def median_error(y_true, y_pred):
        return float(np.median(np.abs(y_true - y_pred)))

    custom = AutoDIRRegressor(candidates=names, n_folds=3, objective=median_error, random_state=0)
    board = _board(custom.fit(X, y))
    chosen_median = median_error(y, custom.oof_prediction_)
    assert np.isclose(board["objective"][board["chosen"]][0], chosen_median)


def test_ensemble_is_used_only_when_better_than_the_best_single():
    X, y = _skewed(300, 6, seed=5)
    names = ["ridge", "ridge+lds", "rbf_ridge", "rbf_ridge+lds", "hgb"]
    model = AutoDIRRegressor(candidates=names, n_folds=3, random_state=0).fit(X, y)
    board = _board(model)
    ensemble = board["name"] == "ensemble"
    single_best = board["objective"][~ensemble & board["feasible"]].min()
    if model.selected_ == "ensemble":
        assert board["objective"][ensemble][0] < single_best
        assert len(model.weights_) > 1
    else:
        assert model.weights_ == {model.selected_: 1.0}
    one = AutoDIRRegressor(candidates=names, n_folds=3, ensemble_size=1, random_state=0)
    assert one.fit(X, y).selected_ != "ensemble"
    assert len(one.weights_) == 1


def test_determinism_and_parallel_candidates_agree():
    X, y = _skewed(200, 5, seed=6)
    params = {"candidates": ["ridge", "ridge+lds", "hgb"], "n_folds": 3, "random_state": 7}
    first = AutoDIRRegressor(**params).fit(X, y)
    second = AutoDIRRegressor(**params).fit(X, y)
    parallel = AutoDIRRegressor(**params, n_jobs=2).fit(X, y)
    for other in (second, parallel):
        assert np.array_equal(first.predict(X), other.predict(X))
        assert first.weights_ == other.weights_
        a, b = _board(first), _board(other)
        assert np.array_equal(a["balanced"], b["balanced"])


def test_two_targets_on_different_scales_are_scale_free():
    X, y1 = _skewed(300, 6, seed=7)
    rng = np.random.default_rng(0)
    y2 = 1000 * (X[:, 3] + 0.5 * rng.normal(size=300)) ** 2
    y = np.column_stack([y1, y2])
    model = AutoDIRRegressor(candidates=[*LINEAR, "hgb"], n_folds=3, random_state=0).fit(X, y)
    board = _board(model)
    assert {"all_0", "all_1", "balanced_0", "balanced_1"} <= set(board)
    assert model.predict(X[:4]).shape == (4, 2)
    _, std = model.predict(X[:4], return_std=True)
    assert std.shape == (4, 2) and np.all(std >= 0)
    row = list(board["name"]).index(
        model.selected_ if model.selected_ != "ensemble" else "ensemble"
    )
    oof = model.oof_prediction_
    expected = balanced_mean_squared_error(
        y, oof, label_density=model.label_density_, multioutput="scale_free"
    )
    assert np.isclose(board["balanced"][row], expected)
    per_target = balanced_mean_squared_error(
        y, oof, label_density=model.label_density_, multioutput="raw_values"
    )
    assert np.allclose([board["balanced_0"][row], board["balanced_1"][row]], per_target)


def test_fast_preset_with_a_network_in_a_pipeline_cross_val_clone_pickle():
    from skdir.fragments import FragmentAggregator

    bags, y, _ = make_imbalanced_regression(160, 6, n_fragments=(2, 4), random_state=0)
    pipe = make_pipeline(
        FragmentAggregator(stats=("mean",)),
        AutoDIRRegressor(preset="fast", device="cpu", random_state=0),
    )
    scores = cross_val_score(pipe, bags, y, cv=2, scoring=balanced_mse_scorer)
    assert np.all(np.isfinite(scores))
    fitted = clone(pipe).fit(bags, y)
    auto = fitted[-1]
    assert "net" in set(_board(auto)["name"])
    restored = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(restored.predict(bags[:5]), fitted.predict(bags[:5]))


def test_time_budget_stops_launching_and_is_honoured():
    X, y = _skewed(120, 4, seed=8)
    candidates = [(f"sleepy{k}", _Sleepy(0.1)) for k in range(6)]
    model = AutoDIRRegressor(candidates=candidates, n_folds=3, time_budget=1.0, random_state=0)
    start = time.perf_counter()
    model.fit(X, y)
    took = time.perf_counter() - start
    assert took <= 1.1 * 1.0
    assert len(model.skipped_) >= 2
    assert all("time_budget" in reason for _, reason in model.skipped_)
    assert len(_board(model)["name"]) - 1 == 6 - len(model.skipped_)
    # a budget too small for any candidate still fits the first (cheapest) one, and warns
    tiny = AutoDIRRegressor(candidates=candidates[:2], n_folds=3, time_budget=1e-3)
    with pytest.warns(UserWarning, match="more than time_budget"):
        tiny.fit(X, y)
    assert list(tiny.weights_) == ["sleepy0"]


@pytest.mark.parametrize("family", ["net", "lightgbm", "catboost"])
def test_stoppable_candidates_stop_at_their_time_limit(family):
    """Networks and boosted trees given a time limit stop training and keep a model."""
    from skdir.auto._candidates import _Candidate

    X, y = _skewed(400, 5, seed=9)
    if family == "net":
        from skdir.nn import DIRRegressor

        learner, stopping = (
            DIRRegressor(max_epochs=5000, early_stopping=False, device="cpu"),
            "skorch",
        )
    elif family == "lightgbm":
        lightgbm = pytest.importorskip("lightgbm")
        learner = lightgbm.LGBMRegressor(n_estimators=10**6, learning_rate=1e-4, verbose=-1)
        stopping = "lightgbm"
    else:
        catboost = pytest.importorskip("catboost")
        learner = catboost.CatBoostRegressor(
            iterations=10**6, learning_rate=1e-4, verbose=0, allow_writing_files=False
        )
        stopping = "catboost"
    candidate = _Candidate(learner, stopping=stopping, time_limit=0.5, random_state=0)
    start = time.perf_counter()
    candidate.fit(X, y)
    assert time.perf_counter() - start < 3.0
    assert np.all(np.isfinite(candidate.predict(X[:5])))
    fitted = candidate.estimators_[0]
    if family == "net":
        assert 0 < len(fitted.history) < 5000
        assert fitted.callbacks is None  # the limit does not travel with the fitted net
    elif family == "lightgbm":
        assert fitted.booster_.current_iteration() < 10**6
    else:
        assert fitted.tree_count_ < 10**6


def test_plot_leaderboard_marks_the_chosen_model():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    X, y = _skewed(150, 4, seed=10)
    model = AutoDIRRegressor(candidates=LINEAR, n_folds=3, random_state=0).fit(X, y)
    ax = plot_leaderboard(model)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "used by predict" in labels
    star = next(c for c in ax.collections if c.get_label() == "used by predict")
    chosen = _board(model)["chosen"]
    assert np.allclose(
        star.get_offsets()[0],
        [_board(model)["all"][chosen][0], _board(model)["balanced"][chosen][0]],
    )


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"objective": "median"}, "objective"),
        ({"max_overall_loss": -0.1}, "max_overall_loss"),
        ({"time_budget": 0}, "time_budget"),
        ({"time_budget": -5.0}, "time_budget"),
        ({"candidates": ["ridge", "xgb"]}, "Unknown candidate 'xgb'"),
        ({"candidates": ["two_tower"]}, "modalities"),
        ({"candidates": ["fusion"]}, "modalities"),
        ({"candidates": ["ridge"], "modalities": [2, 2]}, "sums to 4 columns but X has 6"),
        ({"candidates": ["ridge", "ridge"]}, "used twice"),
        ({"candidates": ["ridge", 3]}, "names or \\(name, regressor\\) pairs"),
    ],
)
def test_bad_parameters_raise_with_the_fix(params, match):
    X, y = _skewed(60, 6, seed=11)
    with pytest.raises(ValueError, match=match):
        AutoDIRRegressor(**params).fit(X, y)


def test_bad_data_raise():
    X, y = _skewed(60, 4, seed=12)
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        AutoDIRRegressor(candidates=["ridge"]).fit(X, bad)
    with pytest.raises(ValueError, match="constant"):
        AutoDIRRegressor(candidates=["ridge"], n_folds=3).fit(X, np.ones(60))
    with pytest.raises(ValueError, match="at least 2 \\* n_folds"):
        AutoDIRRegressor(candidates=["ridge"], n_folds=5).fit(X[:8], y[:8])
    with pytest.raises(ValueError, match="target"):
        AutoDIRRegressor(candidates=["ridge"]).fit(X, np.column_stack([y, y, y]))


def test_failing_candidate_is_reported_and_left_out():
    class Broken(Ridge):
        def fit(self, X, y, sample_weight=None):
            raise RuntimeError("boom")

    X, y = _skewed(90, 4, seed=13)
    model = AutoDIRRegressor(candidates=["ridge", ("broken", Broken())], n_folds=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    assert any("'broken' failed" in str(w.message) for w in caught)
    assert ("broken", "RuntimeError: boom") in model.skipped_
    assert "broken" not in set(_board(model)["name"])


def test_candidate_names_are_documented_presets():
    from skdir.auto import PRESETS

    for groups in PRESETS.values():
        for names in groups.values():
            assert set(names) <= set(CANDIDATE_NAMES)


def test_stack_weights_reach_the_inverse_variance_mix_and_respect_the_limit():
    """Two unbiased candidates with orthogonal errors of variances 1 and 4: the overall MSE
    of ``w p1 + (1 - w) p2`` is ``w^2 + 4 (1 - w)^2``, minimal at ``w = 0.8`` (value 0.8).
    A greedy ensemble of 5 steps can only reach multiples of 1/5; the stack reaches 0.8."""
    from skdir.auto._selection import RegionScorer, greedy_ensemble, stack_weights
    from skdir.density import LabelDensity

    n = 400
    y = np.linspace(0.0, 10.0, n)
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(n, 2))
    noise -= noise.mean(axis=0)
    q, _ = np.linalg.qr(noise)  # orthonormal columns, orthogonal to each other
    e1, e2 = q[:, 0] * np.sqrt(n), 2 * q[:, 1] * np.sqrt(n)
    oof = np.stack([y + e1, y + e2])
    scorer = RegionScorer(y, LabelDensity(n_bins=10).fit(y), "mse")
    greedy, _ = greedy_ensemble(oof, scorer, "overall", y, np.inf, 3)
    np.testing.assert_allclose(greedy, [2 / 3, 1 / 3])
    stack = stack_weights(oof, scorer, "overall", y, np.inf, greedy)
    np.testing.assert_allclose(stack, [0.8, 0.2], atol=1e-4)
    assert scorer.scores(np.tensordot(stack, oof, axes=1))["all"] == pytest.approx(0.8, rel=1e-6)
    # a limit below the optimum (0.79 < 0.8) leaves no feasible mix: the start comes back
    assert stack_weights(oof, scorer, "overall", y, 0.79, greedy) is greedy


def test_time_limited_hgb_is_the_uninterrupted_fit_or_stops_between_chunks():
    """HistGradientBoosting fitted in warm-started chunks: with time to spare the trees
    equal one uninterrupted fit (early stopping included); past the deadline it stops after
    a chunk, keeping a usable model, and its parameters are restored."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    from skdir.auto._candidates import HGB_CHUNK, _Candidate

    X, y = _skewed(400, 5, seed=3)
    X_val, y_val = _skewed(100, 5, seed=4)
    learner = HistGradientBoostingRegressor(
        max_iter=300, early_stopping=True, n_iter_no_change=10, random_state=0
    )
    whole = clone(learner).fit(X, y, X_val=X_val, y_val=y_val)
    assert HGB_CHUNK < whole.n_iter_ < 300  # early stopping fired after several chunks
    chunked = _Candidate(learner, stopping="hgb", time_limit=60.0, random_state=0)
    chunked.fit(X, y, eval_set=(X_val, y_val))
    fitted = chunked.estimators_[0]
    assert fitted.n_iter_ == whole.n_iter_
    np.testing.assert_allclose(fitted.predict(X_val), whole.predict(X_val), rtol=1e-12)
    assert (fitted.max_iter, fitted.warm_start) == (300, False)
    slow = HistGradientBoostingRegressor(max_iter=10**5, early_stopping=False, learning_rate=1e-3)
    stopped = _Candidate(slow, stopping="hgb", time_limit=0.0, random_state=0).fit(X, y)
    assert stopped.estimators_[0].n_iter_ == HGB_CHUNK
    assert np.all(np.isfinite(stopped.predict(X[:5])))


def test_quantile_bins_give_histgradientboosting_its_own_trees():
    """HistGradientBoosting on QuantileBins codes grows the trees it grows on the raw columns
    (continuous columns and a three-valued one), at the cost of an unweighted binning when
    sample weights are given."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    from skdir.auto._candidates import QuantileBins

    X, y = _skewed(600, 4, seed=5)
    X[:, 3] = np.round(X[:, 3]).clip(-1, 1)  # three distinct values
    X_new, _ = _skewed(200, 4, seed=6)
    X_new[:, 3] = np.round(X_new[:, 3] * 2) / 2  # also values between the training ones
    bins = QuantileBins().fit(X)
    codes = bins.transform(X)
    assert [len(t) for t in bins.thresholds_][:3] == [254, 254, 254]
    assert codes.min() == 0 and codes.max() <= 254
    raw = HistGradientBoostingRegressor(max_iter=50, random_state=0).fit(X, y)
    binned = HistGradientBoostingRegressor(max_iter=50, random_state=0).fit(codes, y)
    np.testing.assert_allclose(binned.predict(bins.transform(X_new)), raw.predict(X_new))


def test_fusion_candidate_tokenises_the_column_blocks():
    from skdir.auto._candidates import preset_names

    assert "fusion" in preset_names("medium", 768, [384, 384])
    assert "fusion" not in preset_names("medium", 768, None)
    assert "fusion" not in preset_names("fast", 768, [384, 384])
    X, y = _skewed(80, 6, seed=3)
    model = AutoDIRRegressor(
        candidates=["fusion"], modalities=[4, 2], preset="fast", n_folds=2, random_state=0
    ).fit(X, y)
    member = model.estimators_["fusion"].estimators_[0].estimators_[0]
    assert member.module == "fusion_transformer"
    assert member.module_.slices == [slice(0, 4), slice(4, 6)]
    assert len(member.module_.projections) == 2  # blocks of different kinds: own projections
    assert model.predict(X[:5]).shape == (5,)
