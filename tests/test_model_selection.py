import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import numpy as np
import optuna
import pytest
import sklearn
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_regression
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import get_scorer
from sklearn.model_selection import GroupKFold, KFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdir.model_selection import DIRSearchCV, default_search_space

optuna.logging.set_verbosity(optuna.logging.ERROR)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(n_samples=90, n_features=6, noise=25.0, random_state=0)
    return X, y


def _enqueued_study(alphas, **kwargs):
    study = optuna.create_study(direction="maximize", **kwargs)
    for alpha in alphas:
        study.enqueue_trial({"alpha": alpha})
    return study


# -- numbers equal scikit-learn's ------------------------------------------------------------


def test_cv_results_equal_cross_validate(data):
    X, y = data
    cv = KFold(3, shuffle=True, random_state=1)
    scoring = ["r2", "neg_mean_absolute_error"]
    search = DIRSearchCV(
        Ridge(),
        {"alpha": (1e-2, 1e2, "log"), "fit_intercept": [True, False]},
        n_trials=6,
        cv=cv,
        scoring=scoring,
        refit="r2",
        return_train_score=True,
        random_state=0,
    ).fit(X, y)
    res = search.cv_results_
    assert len(res["params"]) == 6
    assert list(res["state"]) == ["complete"] * 6
    for i, params in enumerate(res["params"]):
        assert res["param_alpha"][i] == params["alpha"]
        ref = cross_validate(
            Ridge(**params), X, y, cv=cv, scoring=scoring, return_train_score=True
        )
        for metric in scoring:
            for part in ("test", "train"):
                for k in range(3):
                    assert res[f"split{k}_{part}_{metric}"][i] == pytest.approx(
                        ref[f"{part}_{metric}"][k], rel=1e-12
                    )
                assert res[f"mean_{part}_{metric}"][i] == pytest.approx(
                    ref[f"{part}_{metric}"].mean(), rel=1e-12
                )
            assert res[f"std_test_{metric}"][i] == pytest.approx(
                ref[f"test_{metric}"].std(), rel=1e-9
            )
        assert search.study_.trials[i].value == pytest.approx(res["mean_test_r2"][i])
    # the best trial maximises the refit metric, and ranks follow the means
    assert search.best_index_ == int(np.argmax(res["mean_test_r2"]))
    assert search.best_score_ == pytest.approx(res["mean_test_r2"].max())
    assert search.best_params_ == res["params"][search.best_index_]
    order = np.argsort(-res["mean_test_neg_mean_absolute_error"], kind="stable")
    assert res["rank_test_neg_mean_absolute_error"][order[0]] == 1
    assert np.all(np.diff(res["rank_test_neg_mean_absolute_error"][order]) >= 0)
    assert search.multimetric_ and set(search.scorer_) == set(scoring)
    # refit on all data with the best parameters
    expected = Ridge(**search.best_params_).fit(X, y)
    np.testing.assert_allclose(search.predict(X[:5]), expected.predict(X[:5]))
    assert search.score(X, y) == pytest.approx(get_scorer("r2")(expected, X, y))
    assert search.n_features_in_ == 6 and search.refit_time_ >= 0


def test_multimetric_refit_on_second_metric(data):
    X, y = data
    search = DIRSearchCV(
        Ridge(),
        {"alpha": (1e-2, 1e3, "log")},
        n_trials=5,
        cv=3,
        scoring={"mae": "neg_mean_absolute_error", "r2": "r2"},
        refit="mae",
        random_state=3,
    ).fit(X, y)
    res = search.cv_results_
    assert search.best_index_ == int(np.argmax(res["mean_test_mae"]))
    assert search.best_score_ == pytest.approx(np.max(res["mean_test_mae"]))
    assert search.score(X, y) == pytest.approx(
        get_scorer("neg_mean_absolute_error")(search.best_estimator_, X, y)
    )
    # the study maximised the refit metric
    values = [t.value for t in search.study_.trials]
    np.testing.assert_allclose(values, res["mean_test_mae"])


def test_search_finds_the_known_optimum_of_a_quadratic():
    # A constant prediction c has a mean fold MSE of mean_k[(c - mean(y_test_k))^2 + var_k]:
    # with equal folds it is smallest at c = mean(y).
    rng = np.random.default_rng(0)
    y = 3.7 + rng.normal(0, 1, size=60)
    X = np.zeros((60, 1))
    search = DIRSearchCV(
        DummyRegressor(strategy="constant", constant=0.0),
        {"constant": (0.0, 10.0)},
        n_trials=40,
        cv=3,
        scoring="neg_mean_squared_error",
        random_state=0,
    ).fit(X, y)
    assert search.best_params_["constant"] == pytest.approx(y.mean(), abs=0.15)
    at_optimum = cross_val_score(
        DummyRegressor(strategy="constant", constant=y.mean()),
        X,
        y,
        cv=3,
        scoring="neg_mean_squared_error",
    ).mean()
    assert at_optimum - 0.03 < search.best_score_ <= at_optimum + 1e-12


def test_same_random_state_same_search_for_any_n_jobs(data):
    X, y = data
    space = {"alpha": (1e-3, 1e3, "log"), "solver": ["auto", "svd", "cholesky"]}
    runs = [
        DIRSearchCV(Ridge(), space, n_trials=8, cv=3, random_state=7, n_jobs=n_jobs).fit(X, y)
        for n_jobs in (1, 1, 2)
    ]
    for other in runs[1:]:
        assert other.cv_results_["params"] == runs[0].cv_results_["params"]
        np.testing.assert_array_equal(
            other.cv_results_["mean_test_score"], runs[0].cv_results_["mean_test_score"]
        )
    different = DIRSearchCV(Ridge(), space, n_trials=8, cv=3, random_state=8).fit(X, y)
    assert different.cv_results_["params"] != runs[0].cv_results_["params"]


# -- pruning ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_fold_pruning_stops_hopeless_trials(data, n_jobs):
    X, y = data
    # three good trials set the median; alpha=1e6 shrinks Ridge to the mean (r2 ~ 0) and is
    # pruned after its first batch of folds; the last good one completes.
    study = _enqueued_study(
        [0.1, 1.0, 10.0, 1e6, 0.5], pruner=optuna.pruners.MedianPruner(n_startup_trials=3)
    )
    search = DIRSearchCV(
        Ridge(), {"alpha": (1e-3, 1e6, "log")}, n_trials=5, cv=4, study=study, n_jobs=n_jobs
    ).fit(X, y)
    res = search.cv_results_
    assert list(res["state"]) == ["complete", "complete", "complete", "pruned", "complete"]
    assert study.trials[3].state == TrialState.PRUNED
    ran = 1 if n_jobs == 1 else 2  # folds run before the pruner is asked
    assert np.isfinite(res["split0_test_score"][3]) and res["split0_test_score"][3] < 0.05
    assert all(np.isnan(res[f"split{k}_test_score"][3]) for k in range(ran, 4))
    assert all(np.isfinite(res[f"split{k}_test_score"][3]) for k in range(ran))
    assert np.isnan(res["mean_test_score"][3]) and res["rank_test_score"][3] == 5
    assert np.isfinite(res["mean_fit_time"][3])
    assert search.best_index_ != 3
    # the reported intermediate values are the running means of the fold scores
    inter = study.trials[0].intermediate_values
    folds = [res[f"split{k}_test_score"][0] for k in range(4)]
    np.testing.assert_allclose([inter[k] for k in range(4)], np.cumsum(folds) / np.arange(1, 5))


def test_pruner_true_uses_the_median_pruner(data):
    X, y = data
    search = DIRSearchCV(
        Ridge(), {"alpha": (1e-3, 1e6, "log")}, n_trials=15, cv=3, pruner=True, random_state=0
    ).fit(X, y)
    assert isinstance(search.study_.pruner, optuna.pruners.MedianPruner)
    states = search.cv_results_["state"]
    assert (states == "pruned").sum() >= 1
    assert set(states) <= {"complete", "pruned"}
    nopruning = DIRSearchCV(Ridge(), {"alpha": (1e-3, 1e6, "log")}, n_trials=3, cv=3).fit(X, y)
    assert isinstance(nopruning.study_.pruner, optuna.pruners.NopPruner)


# -- errors in folds -------------------------------------------------------------------------


class _FailsAbove(RegressorMixin, BaseEstimator):
    """Ridge-like regressor that fails to fit when ``alpha`` exceeds ``limit``."""

    def __init__(self, alpha=1.0, limit=5.0):
        self.alpha = alpha
        self.limit = limit

    def fit(self, X, y):
        if self.alpha > self.limit:
            raise ValueError(f"alpha={self.alpha} is above the limit")
        self.model_ = Ridge(alpha=self.alpha).fit(X, y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return self.model_.predict(X)


def test_error_score_nan_marks_failed_trials_and_warns(data):
    X, y = data
    study = _enqueued_study([1.0, 10.0, 2.0])
    with pytest.warns(FitFailedWarning, match="3 fits failed"):
        search = DIRSearchCV(
            _FailsAbove(), {"alpha": (0.1, 20.0)}, n_trials=3, cv=3, study=study
        ).fit(X, y)
    res = search.cv_results_
    assert list(res["state"]) == ["complete", "fail", "complete"]
    assert np.isnan(res["mean_test_score"][1]) and res["rank_test_score"][1] == 3
    assert study.trials[1].state == TrialState.FAIL
    assert search.best_params_["alpha"] in (1.0, 2.0)


def test_error_score_number_and_raise(data):
    X, y = data
    with pytest.warns(FitFailedWarning):
        search = DIRSearchCV(
            _FailsAbove(),
            {"alpha": (0.1, 20.0)},
            n_trials=2,
            cv=3,
            error_score=-99.0,
            study=_enqueued_study([10.0, 1.0]),
        ).fit(X, y)
    assert search.cv_results_["mean_test_score"][0] == -99.0
    assert list(search.cv_results_["state"]) == ["complete", "complete"]
    with pytest.raises(ValueError, match=r"alpha=10\.0 is above the limit"):
        DIRSearchCV(
            _FailsAbove(),
            {"alpha": (0.1, 20.0)},
            n_trials=2,
            cv=3,
            error_score="raise",
            study=_enqueued_study([10.0]),
        ).fit(X, y)


# -- metadata --------------------------------------------------------------------------------


def test_groups_and_prefixed_sample_weight_reach_splitter_and_fit(data):
    X, y = data
    groups = np.repeat(np.arange(9), 10)
    weights = np.linspace(0.2, 3.0, len(y))
    pipe = make_pipeline(StandardScaler(), Ridge())
    search = DIRSearchCV(
        pipe,
        {"ridge__alpha": (1e-2, 1e2, "log")},
        n_trials=3,
        cv=GroupKFold(3),
        random_state=0,
    ).fit(X, y, groups=groups, ridge__sample_weight=weights)
    for i, params in enumerate(search.cv_results_["params"]):
        ref = cross_val_score(
            clone(pipe).set_params(**params),
            X,
            y,
            cv=GroupKFold(3),
            groups=groups,
            params={"ridge__sample_weight": weights},
        )
        assert search.cv_results_["mean_test_score"][i] == pytest.approx(ref.mean(), rel=1e-12)
    unweighted = cross_val_score(
        clone(pipe).set_params(**search.cv_results_["params"][0]),
        X,
        y,
        cv=GroupKFold(3),
        groups=groups,
    )
    assert search.cv_results_["mean_test_score"][0] != pytest.approx(unweighted.mean())


def test_metadata_routing_sample_weight(data):
    X, y = data
    weights = np.linspace(0.2, 3.0, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        est = Ridge().set_fit_request(sample_weight=True)
        scorer = get_scorer("r2").set_score_request(sample_weight=True)
        search = DIRSearchCV(
            est,
            {"alpha": (1e-2, 1e2, "log")},
            n_trials=3,
            cv=3,
            scoring=scorer,
            random_state=0,
        ).fit(X, y, sample_weight=weights)
        for i, params in enumerate(search.cv_results_["params"]):
            ref = cross_validate(
                clone(est).set_params(**params),
                X,
                y,
                cv=3,
                scoring=scorer,
                params={"sample_weight": weights},
            )
            assert search.cv_results_["mean_test_score"][i] == pytest.approx(
                ref["test_score"].mean(), rel=1e-12
            )


# -- clone, pickle, nesting, spaces ----------------------------------------------------------


def test_clone_pickle_and_nested_cross_validation(data):
    X, y = data
    search = DIRSearchCV(Ridge(), {"alpha": (1e-2, 1e2, "log")}, n_trials=4, cv=3, random_state=0)
    assert clone(search).get_params()["param_distributions"] == search.param_distributions
    search.fit(X, y)
    restored = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(restored.predict(X), search.predict(X))
    assert restored.best_params_ == search.best_params_
    assert len(restored.study_.trials) == 4
    nested = cross_val_score(clone(search), X, y, cv=3)
    assert nested.shape == (3,) and np.all(nested > 0.5)


def test_lists_of_objects_and_integer_ranges():
    X, y = make_regression(n_samples=50, n_features=3, random_state=1)
    scalers = [StandardScaler(), "passthrough"]
    search = DIRSearchCV(
        make_pipeline(StandardScaler(), Ridge()),
        {"standardscaler": scalers, "ridge__max_iter": (5, 50), "ridge__alpha": [0.1, 1.0]},
        n_trials=4,
        cv=2,
        random_state=0,
    ).fit(X, y)
    space = search.study_.trials[0].distributions
    assert isinstance(space["ridge__max_iter"], IntDistribution)
    assert space["standardscaler"] == CategoricalDistribution([0, 1])
    for params in search.cv_results_["params"]:
        assert params["standardscaler"] is scalers[0] or params["standardscaler"] == "passthrough"
        assert isinstance(params["ridge__max_iter"], int)


def test_default_search_space_finds_skdir_steps():
    from imblearn.pipeline import Pipeline

    from skdir.nn import DIRRegressor
    from skdir.resampling import SMOGN

    pipe = Pipeline([("scale", StandardScaler()), ("smogn", SMOGN()), ("net", DIRRegressor())])
    space = default_search_space(pipe)
    assert space["smogn__k_neighbors"] == IntDistribution(2, 10)
    assert isinstance(space["smogn__pert"], FloatDistribution) and space["smogn__pert"].log
    assert {
        "net__lr",
        "net__weighter",
        "net__fds",
        "net__augment",
        "net__regularizers",
        "net__target_transformer",
        "net__criterion__loss",
        "net__module__dropout",
        "net__batch_size",
    } <= set(space)
    # components left off are offered as off or a few settings (C-Mixup, ConR, normaliser)
    assert space["net__augment"][0] is None
    assert [type(c).__name__ for c in space["net__augment"][1:]] == ["CMixup"] * 3
    assert [r[0][1].weight for r in space["net__regularizers"][1:]] == [0.5, 1.0, 2.0]
    methods = [t.method for t in space["net__target_transformer"][1:]]
    assert methods == ["standard", "robust", "yeo-johnson"]
    assert not any(name.startswith("scale__") for name in space)
    nested = default_search_space(TransformedTargetRegressor(regressor=pipe))
    assert set(nested) == {f"regressor__{name}" for name in space}
    assert default_search_space(Ridge()) == {}
    # every proposed choice is valid for the estimator
    from skdir.model_selection._space import check_space

    check_space(pipe, space)


def test_default_search_space_tunes_the_components_a_regressor_has():
    from skdir.nn import CMixup, ConR, DIRRegressor, FeatureDistributionSmoothing
    from skdir.weighting import LDSWeighter

    net = DIRRegressor(
        weighter=LDSWeighter(),
        fds=FeatureDistributionSmoothing(),
        regularizers=[("conr", ConR())],
        augment=CMixup(),
    )
    space = default_search_space(net)
    assert {
        "weighter__sigma",
        "fds__sigma",
        "regularizers__conr__weight",
        "augment__bandwidth",
        "target_transformer",
    } <= set(space)
    assert not {"weighter", "fds", "regularizers", "augment"} & set(space)
    assert space["regularizers__conr__weight"] == FloatDistribution(0.1, 10.0, log=True)
    from skdir.model_selection._space import check_space

    check_space(net, space)


def test_search_over_the_default_space_of_a_dir_pipeline():
    from imblearn.pipeline import Pipeline

    from skdir.nn import DIRRegressor
    from skdir.resampling import SMOGN

    X, y = make_regression(n_samples=80, n_features=4, noise=5.0, random_state=0)
    y = np.exp(y / y.std())  # skewed target
    pipe = Pipeline(
        [
            ("smogn", SMOGN(random_state=0)),
            ("net", DIRRegressor(max_epochs=3, module__hidden=(8,), random_state=0, device="cpu")),
        ]
    )
    space = default_search_space(pipe)
    space["net__module__hidden"] = [(8,), (16,)]
    space["net__batch_size"] = [16, 32]
    space["smogn__k_neighbors"] = [2, 3]  # folds of 40 rows: rare segments of about 6 rows
    search = DIRSearchCV(
        pipe, space, n_trials=2, cv=2, random_state=0, scoring="neg_mean_absolute_error"
    ).fit(X, y)
    assert list(search.cv_results_["state"]) == ["complete", "complete"]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.predict(X[:3]).shape == (3,)


# -- bad input -------------------------------------------------------------------------------


def test_bad_input_errors(data, tmp_path):
    X, y = data
    with pytest.raises(ValueError, match=r"Unknown parameter.*'ridge', 'standardscaler'"):
        DIRSearchCV(make_pipeline(StandardScaler(), Ridge()), {"ridg__alpha": [1.0]}).fit(X, y)
    with pytest.raises(ValueError, match="param_distributions is empty"):
        DIRSearchCV(Ridge(), {}).fit(X, y)
    with pytest.raises(ValueError, match="n_trials"):
        DIRSearchCV(Ridge(), {"alpha": [1.0]}, n_trials=0).fit(X, y)
    with pytest.raises(ValueError, match="Give n_trials or timeout"):
        DIRSearchCV(Ridge(), {"alpha": [1.0]}, n_trials=None).fit(X, y)
    with pytest.raises(ValueError, match="needs low < high"):
        DIRSearchCV(Ridge(), {"alpha": (2.0, 1.0)}).fit(X, y)
    with pytest.raises(ValueError, match="'log'"):
        DIRSearchCV(Ridge(), {"alpha": (1.0, 2.0, "ln")}).fit(X, y)
    with pytest.raises(ValueError, match="list of choices for 'alpha' is empty"):
        DIRSearchCV(Ridge(), {"alpha": []}).fit(X, y)
    refused = "postgresql+psycopg2://nobody:secret@127.0.0.1:1/none"
    with pytest.raises(ValueError, match=r"Cannot open the Optuna storage.*database server") as e:
        DIRSearchCV(Ridge(), {"alpha": [1.0]}, storage=refused).fit(X, y)
    assert "'postgresql+psycopg2://nobody:***@127.0.0.1:1/none'" in str(e.value)
    assert "secret" not in str(e.value)  # the password stays out of logs
    url = f"sqlite:///{tmp_path / 'dir.db'}"
    optuna.create_study(study_name="s", storage=url, direction="minimize")
    with pytest.raises(ValueError, match="direction 'minimize'"):
        DIRSearchCV(Ridge(), {"alpha": [1.0]}, storage=url, study_name="s").fit(X, y)
    with pytest.raises(ValueError, match=r"\['sampler'\] cannot be"):
        DIRSearchCV(
            Ridge(),
            {"alpha": [1.0]},
            study=optuna.create_study(direction="maximize"),
            sampler=optuna.samplers.RandomSampler(),
        ).fit(X, y)
    two = ["r2", "neg_max_error"]
    with pytest.raises(ValueError, match="refit must name the metric"):
        DIRSearchCV(Ridge(), {"alpha": [1.0]}, scoring=two, refit=False).fit(X, y)
    with pytest.raises(ValueError, match="For multi-metric scoring"):
        DIRSearchCV(Ridge(), {"alpha": [1.0]}, scoring=two, refit="mae").fit(X, y)


# -- storages and workers --------------------------------------------------------------------


def test_sqlite_study_resumes_and_counts_finished_trials(data, tmp_path):
    X, y = data
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    kwargs = dict(cv=3, storage=url, study_name="ridge", random_state=0)
    first = DIRSearchCV(Ridge(), {"alpha": (1e-2, 1e2, "log")}, n_trials=3, **kwargs).fit(X, y)
    again = DIRSearchCV(Ridge(), {"alpha": (1e-2, 1e2, "log")}, n_trials=5, **kwargs).fit(X, y)
    assert len(again.study_.trials) == 5
    assert again.cv_results_["params"][:3] == first.cv_results_["params"]
    np.testing.assert_array_equal(
        again.cv_results_["mean_test_score"][:3], first.cv_results_["mean_test_score"]
    )
    done = DIRSearchCV(Ridge(), {"alpha": (1e-2, 1e2, "log")}, n_trials=4, **kwargs).fit(X, y)
    assert len(done.study_.trials) == 5 and len(done.cv_results_["params"]) == 5
    assert done.best_score_ == np.max(again.cv_results_["mean_test_score"])


def _bags_pipeline_data():
    from skdir.datasets import make_imbalanced_regression
    from skdir.fragments import FragmentAggregator
    from skdir.pipeline import make_pipeline as make_skdir_pipeline

    bags, y, _ = make_imbalanced_regression(80, 16, n_fragments=(2, 4), random_state=0)
    return make_skdir_pipeline(FragmentAggregator(), Ridge()), bags, y


STATS = [("mean",), ("mean", "std"), ("mean", "std", "max")]


def test_rerun_with_another_scoring_names_the_stored_one(data, tmp_path):
    # Reproducer (issue 18.3): a dict scoring, then the script edited to one metric. The
    # re-run used to fail with KeyError: 'rank_test_score' (no trial left to run) or
    # KeyError: 'mae' (new trials mixed with the stored ones).
    from skdir.metrics import balanced_mae_scorer

    X, y = data
    url = f"sqlite:///{tmp_path / 'scoring.db'}"
    space = {"alpha": (1e-2, 1e2, "log")}
    kwargs = dict(cv=2, storage=url, study_name="s", random_state=0)
    two = {"mae": "neg_mean_absolute_error", "bal": balanced_mae_scorer}
    first = DIRSearchCV(Ridge(), space, n_trials=3, scoring=two, refit="bal", **kwargs).fit(X, y)
    for n_trials in (3, 5):
        with pytest.raises(ValueError, match="was made by a search with another scoring") as e:
            DIRSearchCV(
                Ridge(), space, n_trials=n_trials, scoring="neg_mean_absolute_error", **kwargs
            ).fit(X, y)
        message = str(e.value)
        assert "maximising 'bal'; this search: scoring='neg_mean_absolute_error'" in message
        assert "Give a new study_name (e.g. study_name='s-2')" in message
        assert (
            "continue the stored study with its own scoring={'bal': make_balanced_scorer("
            "metric='mae', n_bins=20), 'mae': 'neg_mean_absolute_error'} and refit='bal'"
        ) in message
    study = optuna.load_study(study_name="s", storage=url)
    assert len(study.trials) == 3  # the refused runs added nothing
    # the two fixes: the stored scoring continues the study, a new name starts one
    again = DIRSearchCV(Ridge(), space, n_trials=5, scoring=two, refit="bal", **kwargs).fit(X, y)
    assert len(again.cv_results_["params"]) == 5
    assert again.cv_results_["params"][:3] == first.cv_results_["params"]
    fresh = dict(kwargs, study_name="s-2")
    new = DIRSearchCV(Ridge(), space, n_trials=2, scoring="neg_mean_absolute_error", **fresh)
    assert len(new.fit(X, y).cv_results_["params"]) == 2


def test_rerun_with_another_space_names_the_change_and_the_stored_space(tmp_path):
    # Reproducer (issue 18.3): the space narrowed after a run. The stored index of a tuple
    # of statistics used to reach FragmentAggregator at refit: "... Got 0 instead."
    pipe, bags, y = _bags_pipeline_data()
    url = f"sqlite:///{tmp_path / 'space.db'}"
    kwargs = dict(cv=2, storage=url, study_name="s", random_state=0)
    space = {"fragmentaggregator__stats": STATS, "ridge__alpha": (1e-2, 1e2, "log")}
    DIRSearchCV(pipe, space, n_trials=4, **kwargs).fit(bags, y)
    narrowed = {"ridge__alpha": (1e3, 1e4, "log")}
    with pytest.raises(ValueError, match="another search space") as e:
        DIRSearchCV(pipe, narrowed, n_trials=6, **kwargs).fit(bags, y)
    message = str(e.value)
    assert "removed fragmentaggregator__stats (was [('mean',), ('mean', 'std'), " in message
    assert "changed ridge__alpha: (0.01, 100.0, 'log') -> (1000.0, 10000.0, 'log')" in message
    assert (
        "param_distributions={'fragmentaggregator__stats': [('mean',), ('mean', 'std'), "
        "('mean', 'std', 'max')], 'ridge__alpha': (0.01, 100.0, 'log')}"
    ) in message
    # other objects behind the same indices are another space too
    swapped = dict(space, fragmentaggregator__stats=[("mean",), ("max",), ("min",)])
    with pytest.raises(ValueError, match=r"changed fragmentaggregator__stats: \[\('mean',\), "):
        DIRSearchCV(pipe, swapped, n_trials=6, **kwargs).fit(bags, y)
    # continuing with the stored space works and maps the stored indices back to tuples
    again = DIRSearchCV(pipe, space, n_trials=6, **kwargs).fit(bags, y)
    assert len(again.cv_results_["params"]) == 6
    assert again.best_params_["fragmentaggregator__stats"] in STATS
    assert again.best_estimator_[0].stats in STATS


def test_a_study_without_a_stored_search_is_checked_through_its_trials(
    data, tmp_path, monkeypatch
):
    import skdir.model_selection._search as search_module

    X, y = data
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    kwargs = dict(cv=2, storage=url, study_name="s", random_state=0)
    with monkeypatch.context() as patch:  # a study made before skdir stored its search
        patch.setattr(search_module, "check_same_search", lambda *args: None)
        DIRSearchCV(Ridge(), {"alpha": (1e-2, 1e2, "log")}, n_trials=2, **kwargs).fit(X, y)
    assert "skdir_search" not in optuna.load_study(study_name="s", storage=url).user_attrs
    with pytest.raises(ValueError, match="holds trials of a search over another space"):
        DIRSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, n_trials=3, **kwargs).fit(X, y)
    DIRSearchCV(Ridge(), {"alpha": (1e-2, 1e2, "log")}, n_trials=3, **kwargs).fit(X, y)
    stored = optuna.load_study(study_name="s", storage=url).user_attrs["skdir_search"]
    assert stored == {
        "space": {"alpha": "(0.01, 100.0, 'log')"},
        "scoring": "None",
        "objective": "score",
    }


def _neg_abs_error(estimator, X, y):
    return -float(np.mean(np.abs(estimator.predict(X) - y)))


def test_rerun_with_the_same_function_scorer_continues_the_study(data, tmp_path):
    X, y = data  # a plain function's repr holds its address; the stored text does not
    kwargs = dict(cv=2, storage=f"sqlite:///{tmp_path / 'f.db'}", study_name="s", random_state=0)
    space = {"alpha": (1e-2, 1e2, "log")}
    DIRSearchCV(Ridge(), space, n_trials=2, scoring=_neg_abs_error, **kwargs).fit(X, y)
    again = DIRSearchCV(Ridge(), space, n_trials=3, scoring=_neg_abs_error, **kwargs).fit(X, y)
    assert len(again.cv_results_["params"]) == 3
    assert " at 0x" not in again.study_.user_attrs["skdir_search"]["scoring"]


_WORKER = """
import sys, time
from pathlib import Path
import numpy as np
import optuna
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge
from skdir.model_selection import DIRSearchCV

FITS = 0

class SlowRidge(Ridge):
    def fit(self, X, y, sample_weight=None):
        global FITS
        FITS += 1
        time.sleep({sleep})
        return super().fit(X, y, sample_weight=sample_weight)

storage = {storage}
ready = Path(sys.argv[1])
ready.with_suffix("." + sys.argv[2]).touch()
while len(marks := list(ready.parent.glob(ready.name + ".*"))) < {n_workers}:
    time.sleep(0.01)
# every worker opens the storage at the same instant: 0.3 s after the last one was ready
go = max(mark.stat().st_mtime for mark in marks) + 0.3
while time.time() < go:
    pass
X, y = make_regression(n_samples=60, n_features=4, noise=10.0, random_state=0)
DIRSearchCV(SlowRidge(), {{"alpha": (1e-3, 1e3, "log")}}, n_trials={n_trials}, cv=2,
            storage=storage, study_name="shared").fit(X, y)
print("trials run:", (FITS - 1) // 2)  # two folds per trial, and the refit
"""


def _run_workers(tmp_path, storage_expr, n_workers=2, n_trials=12, sleep=0.02):
    """Start ``n_workers`` processes at once; return ``{"host:pid": trials it ran}``."""
    script = tmp_path / "worker.py"
    script.write_text(
        _WORKER.format(storage=storage_expr, n_workers=n_workers, n_trials=n_trials, sleep=sleep)
    )
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / "ready"), str(i)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n_workers)
    ]
    ran = {}
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-2000:]
        ran[f"{socket.gethostname()}:{proc.pid}"] = int(out.split("trials run:")[-1])
    return ran


def _check_shared_study(storage, ran, n_trials):
    n_workers = len(ran)
    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials()
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(len(trials)))  # none lost, none duplicated
    assert all(t.state == TrialState.COMPLETE for t in trials)
    # the budget is the study's: each worker stops once n_trials are done (overshoot <= n-1)
    assert n_trials <= len(trials) <= n_trials + n_workers - 1
    # the study holds every trial each worker ran, under its name, and no other
    workers = [t.user_attrs["skdir_result"]["worker"] for t in trials]
    assert {worker: workers.count(worker) for worker in ran} == ran
    assert sum(ran.values()) == len(trials)
    assert all(count >= 1 for count in ran.values())  # all took part
    return study


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("journal", marks=pytest.mark.slow)])
def test_workers_starting_together_on_a_fresh_storage_share_one_study(tmp_path, kind):
    # No study and no table exists: the workers race to create Optuna's tables and the
    # study at the same instant; on SQLite a loser used to die with "table ... already
    # exists" or "UNIQUE constraint failed: alembic_version". All must finish.
    if kind == "sqlite":
        storage = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        storage = str(tmp_path / "shared.log")
    assert not list(tmp_path.iterdir())
    ran = _run_workers(tmp_path, repr(storage), n_workers=3, n_trials=9, sleep=0.1)
    if kind == "journal":
        from skdir.model_selection._study import open_storage

        storage = open_storage(storage)
    _check_shared_study(storage, ran, 9)


def test_a_lost_race_to_create_the_tables_is_retried(data, tmp_path, monkeypatch):
    # Deterministic version of the race above: another process creates Optuna's tables
    # between this one's check and its CREATE TABLE, which then fails as SQLite says.
    import sqlite3

    import sqlalchemy.exc
    from optuna.storages._rdb import models

    X, y = data
    create_all = models.BaseModel.metadata.create_all
    lost = []

    def another_process_was_first(bind, *args, **kwargs):
        if not lost:
            create_all(bind, *args, **kwargs)  # the other process
            lost.append(1)
            raise sqlalchemy.exc.OperationalError(
                "CREATE TABLE studies",
                {},
                sqlite3.OperationalError("table studies already exists"),
            )
        return create_all(bind, *args, **kwargs)

    monkeypatch.setattr(models.BaseModel.metadata, "create_all", another_process_was_first)
    url = f"sqlite:///{tmp_path / 'race.db'}"
    search = DIRSearchCV(
        Ridge(), {"alpha": (1e-2, 1e2, "log")}, n_trials=3, cv=2, storage=url, study_name="s"
    ).fit(X, y)
    assert lost == [1]
    assert list(search.cv_results_["state"]) == ["complete"] * 3
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 3


def test_creation_races_are_retried_a_bounded_number_of_times(monkeypatch):
    import sqlalchemy.exc

    from skdir.model_selection import _study

    monkeypatch.setattr(_study, "CREATE_BACKOFF", 0.0)
    calls = []
    # Optuna wraps some errors in its own: the race is found in the chain
    wrapped = optuna.exceptions.StorageInternalError("commit failed")
    wrapped.__cause__ = sqlalchemy.exc.IntegrityError(
        "INSERT", {}, Exception('duplicate key value violates "pg_type_typname_nsp_index"')
    )

    def always_loses():
        calls.append(1)
        raise wrapped

    with pytest.raises(ValueError, match=r"Could not create the tables: 8 attempts") as info:
        _study.retry_creation(always_loses, "the tables")
    assert len(calls) == _study.CREATE_ATTEMPTS == 8
    assert "optuna create-study --storage URL" in str(info.value)
    assert info.value.__cause__ is wrapped
    # other errors (a refused connection) are raised at once, unchanged
    refused = sqlalchemy.exc.OperationalError("connect", {}, Exception("Connection refused"))
    calls.clear()

    def refuses():
        calls.append(1)
        raise refused

    with pytest.raises(sqlalchemy.exc.OperationalError, match="Connection refused"):
        _study.retry_creation(refuses, "the tables")
    assert len(calls) == 1


def _ask_running(study, worker=None):
    trial = study.ask()
    if worker is not None:
        trial.set_user_attr("skdir_worker", worker)
    return trial.number


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_resuming_warns_about_stale_running_trials(data, tmp_path, kind):
    from skdir.model_selection._study import open_storage

    X, y = data
    if kind == "sqlite":
        storage = f"sqlite:///{tmp_path / 'stale.db'}"
    else:
        storage = str(tmp_path / "stale.log")
    space = {"alpha": (1e-2, 1e2, "log")}
    kwargs = dict(cv=3, storage=storage, study_name="s", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fresh study: nothing to report
        DIRSearchCV(Ridge(), space, n_trials=2, **kwargs).fit(X, y)
    # a storage without heartbeat for ask(): Optuna warns about ask() on one with a heartbeat
    plain = storage if kind == "sqlite" else open_storage(storage)
    study = optuna.load_study(study_name="s", storage=plain)
    host = socket.gethostname()
    orphan = _ask_running(study)  # study.ask() without tell: no worker owns it
    # trials of a worker still running (this process) or on another machine are not stale
    _ask_running(study, f"{host}:{os.getpid()}")
    _ask_running(study, "another-machine:1234")
    exited = []
    if kind == "journal":
        # a DIRSearchCV trial whose worker process has exited (killed)
        pid = int(
            subprocess.run(
                [sys.executable, "-c", "import os; print(os.getpid())"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        exited = [_ask_running(study, f"{host}:{pid}")]
    stale = sorted([orphan, *exited])
    with pytest.warns(UserWarning, match="stale RUNNING") as record:
        resumed = DIRSearchCV(Ridge(), space, n_trials=4, **kwargs).fit(X, y)
    (message,) = [str(w.message) for w in record if "stale RUNNING" in str(w.message)]
    numbers = ", ".join(map(str, stale))
    assert f"holds {len(stale)} stale RUNNING trial" in message
    assert f"number{'s' if len(stale) > 1 else ''} {numbers}." in message
    assert f"(e.g. study.ask() without tell), so they stay RUNNING until told: {orphan}." in (
        message
    )
    if kind == "journal":
        assert f"({host}:{pid}): {exited[0]}; this storage has no heartbeat" in message
        assert "stay RUNNING for ever" in message
    assert f"study.tell(number, state=optuna.trial.TrialState.FAIL) for each of {numbers} (" in (
        message
    )
    # a URL opens a storage with a heartbeat; a journal file has none: say how to get one
    assert ("use a storage with a heartbeat" in message) == (kind == "journal")
    # stale trials neither count toward n_trials nor block the search
    assert len(resumed.cv_results_["params"]) == 4
    assert list(resumed.cv_results_["state"]) == ["complete"] * 4
    # following the advice clears the warning
    for number in stale:
        study.tell(number, state=TrialState.FAIL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = DIRSearchCV(Ridge(), space, n_trials=4, **kwargs).fit(X, y)
    assert len(again.cv_results_["params"]) == 4
    assert sum(t.state == TrialState.RUNNING for t in again.study_.trials) == 2


@pytest.mark.slow
def test_killed_worker_leaves_a_resumable_study(data, tmp_path):
    X, y = data
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    expr = (
        f"optuna.storages.RDBStorage({url!r}, heartbeat_interval=1, grace_period=2, "
        "heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(1))"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = eval(expr)
    space = {"alpha": (1e-3, 1e3, "log")}
    first = DIRSearchCV(
        Ridge(), space, n_trials=3, cv=2, storage=storage, study_name="shared", random_state=0
    ).fit(X, y)
    # a worker whose fits take 60 s: killed while its trial 3 runs
    script = tmp_path / "worker.py"
    script.write_text(_WORKER.format(storage=expr, n_workers=1, n_trials=6, sleep=60))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "ready"), "0"],
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
    )
    study = optuna.load_study(study_name="shared", storage=storage)
    deadline = time.time() + 60
    while not study.get_trials(states=(TrialState.RUNNING,)) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)  # at least one heartbeat recorded
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (stale,) = study.get_trials(states=(TrialState.RUNNING,))
    assert stale.number == 3
    time.sleep(3)  # past the grace period
    with pytest.warns(UserWarning, match="stale RUNNING") as record:
        resumed = DIRSearchCV(
            Ridge(), space, n_trials=6, cv=2, storage=storage, study_name="shared", random_state=0
        ).fit(X, y)
    (message,) = [str(w.message) for w in record if "stale RUNNING" in str(w.message)]
    assert "holds 1 stale RUNNING trial," in message and "number 3." in message
    assert (
        f"Started by a DIRSearchCV worker of this machine that has exited "
        f"({socket.gethostname()}:{proc.pid}): 3; this storage's heartbeat (every 1 s) fails "
        "them and retries their parameters once their last heartbeat is 2 s old"
    ) in message
    assert "study.tell" not in message  # the heartbeat takes care of it
    trials = resumed.study_.get_trials()
    assert trials[3].state == TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == 3]
    assert len(retried) == 1 and retried[0].params == stale.params
    assert retried[0].state == TrialState.COMPLETE
    res = resumed.cv_results_
    assert len(res["params"]) == 6 and list(res["state"]) == ["complete"] * 6
    assert 3 not in res["trial_number"]
    np.testing.assert_array_equal(res["mean_test_score"][:3], first.cv_results_["mean_test_score"])


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """URL of a PostgreSQL server: ``$SKDIR_TEST_POSTGRES_URL`` (CI), or one started here.

    A server given by the environment must be tested: a missing driver is then an error,
    not a skip. Otherwise ``.ci/start_postgres.sh`` starts a throwaway one (installing
    PostgreSQL with apt when it can), and the tests are skipped when it cannot.
    """
    url = os.environ.get("SKDIR_TEST_POSTGRES_URL")
    if url:
        import psycopg2  # noqa: F401  (the `test` extra installs psycopg2-binary)

        yield url
        return
    pytest.importorskip("psycopg2", reason="psycopg2(-binary) is needed to reach PostgreSQL")
    script = REPO / ".ci" / "start_postgres.sh"
    # outside pytest's private (0700) temp dir: the server may run as another user
    data_dir = Path(tempfile.mkdtemp(prefix="skdir-pg-"))
    try:
        proc = subprocess.run(
            ["bash", str(script), str(data_dir), str(_free_port())],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"could not start a PostgreSQL server: {exc}")
    if proc.returncode != 0:
        pytest.skip(f"no PostgreSQL server could be started: {proc.stderr.strip()[-300:]}")
    yield proc.stdout.strip().splitlines()[-1]
    subprocess.run(["bash", str(script), "--stop", str(data_dir)], capture_output=True, timeout=60)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def fresh_postgres_url(postgres_url):
    """URL of a new, empty database on the server: Optuna has created no table in it."""
    import sqlalchemy

    server = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"skdir_test_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = sqlalchemy.engine.make_url(postgres_url).set(database=name)
    yield url.render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.mark.slow
@pytest.mark.postgresql
def test_workers_starting_together_on_a_fresh_postgresql_database_share_one_study(
    tmp_path, fresh_postgres_url
):
    # Nothing is created beforehand. Workers starting together on a fresh database race to
    # create Optuna's tables and types; the losers used to crash with "IntegrityError ...
    # duplicate key value violates unique constraint pg_type_typname_nsp_index".
    ran = _run_workers(tmp_path, repr(fresh_postgres_url), n_workers=4, n_trials=16, sleep=0.15)
    _check_shared_study(fresh_postgres_url, ran, 16)


def test_timeout_without_n_trials_and_verbose_summary(data, capsys):
    X, y = data
    start = time.perf_counter()
    search = DIRSearchCV(
        Ridge(), {"alpha": (1e-2, 1e2, "log")}, n_trials=None, timeout=1.0, cv=3, verbose=1
    ).fit(X, y)
    assert time.perf_counter() - start < 30
    n = len(search.cv_results_["params"])
    assert n >= 1 and len(search.study_.trials) == n
    out = capsys.readouterr().out
    assert f"DIRSearchCV: {n} trials ({n} complete, 0 pruned, 0 failed); best trial" in out
    assert f"{search.best_score_:.6g}" in out


def test_default_search_space_for_weighting_and_target_steps():
    from skdir.target import TargetDistributionNormalizer
    from skdir.weighting import DensityWeightedRegressor, LDSWeighter

    est = TransformedTargetRegressor(
        regressor=DensityWeightedRegressor(Ridge(), weighter=LDSWeighter()),
        transformer=TargetDistributionNormalizer(),
    )
    space = default_search_space(est)
    assert sorted(space) == [
        "regressor__weighter__kernel",
        "regressor__weighter__ks",
        "regressor__weighter__reweight",
        "regressor__weighter__sigma",
        "transformer__method",
    ]
    assert space["regressor__weighter__ks"] == IntDistribution(3, 9, step=2)
    X, y = make_regression(n_samples=60, n_features=3, noise=5.0, random_state=0)
    search = DIRSearchCV(est, space, n_trials=3, cv=2, random_state=0).fit(X, y - y.min() + 1)
    assert list(search.cv_results_["state"]) == ["complete"] * 3


def test_epoch_pruning_stops_a_bad_net_between_epochs():
    from skdir.model_selection import EpochPruning
    from skdir.nn import DIRRegressor

    X, y = make_regression(n_samples=80, n_features=4, noise=5.0, random_state=0)
    y = (y - y.mean()) / y.std()
    net = DIRRegressor(
        max_epochs=8,
        module__hidden=(16,),
        random_state=0,
        device="cpu",
        patience=50,
        callbacks=[EpochPruning(warmup_epochs=2)],
    )
    # outside a search the callback does nothing, and the net still clones
    assert len(clone(net).fit(X, y).history) == 8
    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.MedianPruner(n_startup_trials=2)
    )
    for lr in (0.01, 0.02, 1e-7):
        study.enqueue_trial({"lr": lr})
    search = DIRSearchCV(
        net,
        {"lr": (1e-7, 0.1, "log")},
        n_trials=3,
        cv=2,
        study=study,
        scoring="neg_mean_absolute_error",
    ).fit(X, y)
    res = search.cv_results_
    assert list(res["state"]) == ["complete", "complete", "pruned"]
    good, bad = study.trials[0].intermediate_values, study.trials[2].intermediate_values
    # epochs of fold k at steps k * 9 + epoch - 1, fold means at steps 8 and 17
    assert sorted(good) == [*range(0, 8), 8, *range(9, 17), 17]
    assert good[8] == pytest.approx(res["split0_test_score"][0])
    assert good[17] == pytest.approx(res["mean_test_score"][0])
    # the bad net was stopped after the warm-up epochs of fold 0 (reports 0..2 -> step 2)
    assert max(bad) == 8 and sorted(bad)[:-1] == [0, 1, 2]
    assert np.isnan(res["split1_test_score"][2])
    assert search.best_params_["lr"] in (0.01, 0.02)


def test_importing_the_search_loads_neither_torch_nor_skorch():
    # issue 15.7: _epoch.py's skorch callback was imported with the package (about 2 s per
    # worker process of a search over scikit-learn models)
    import subprocess
    import sys

    code = (
        "import sys, skdir.model_selection as m; "
        "print('torch' in sys.modules, 'skorch' in sys.modules); "
        "m.EpochPruning; print('skorch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]
