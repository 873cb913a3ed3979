"""DIRSearchCV: scikit-learn's search surface driven by an Optuna study, with fold pruning."""

from __future__ import annotations

import time
import warnings
from copy import deepcopy
from numbers import Integral, Real
from typing import Any

import numpy as np
import optuna
from joblib import Parallel, delayed, effective_n_jobs
from optuna.pruners import BasePruner, MedianPruner, NopPruner
from optuna.samplers import BaseSampler, TPESampler
from optuna.storages import InMemoryStorage
from optuna.trial import TrialState
from scipy.stats import rankdata
from sklearn.base import _fit_context, clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.model_selection._validation import _fit_and_score, _warn_or_raise_about_fit_failures
from sklearn.utils import check_random_state, get_tags, indexable
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_method_params

from ._folds import _CURRENT_FOLD, _FoldContext
from ._space import check_space
from ._study import (
    RESULT_ATTR,
    WORKER_ATTR,
    CreationRaceLost,
    check_maximize,
    check_same_search,
    counted_trials,
    create_or_load_study,
    open_storage,
    search_signature,
    shown_storage,
    warn_stale_running_trials,
    worker_id,
)

_STATE_NAMES = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned"}


def _nan_list(n: int) -> list[float]:
    return [float("nan")] * n


def _score_of(scores: Any, metric: str) -> float:
    if isinstance(scores, dict):
        return float(scores[metric])
    return float(scores)


class DIRSearchCV(BaseSearchCV):
    """Hyper-parameter search with ``GridSearchCV``'s interface, driven by an Optuna study.

    Each Optuna trial samples one parameter setting, then fits and scores the estimator on
    the cross-validation folds one after another (with scikit-learn's own fit-and-score
    routine, so every number equals what :func:`~sklearn.model_selection.cross_validate`
    gives). After each fold the running mean test score is reported to the study, and a
    pruner may stop a hopeless trial early; such trials are kept in ``cv_results_`` with
    ``state == "pruned"``. The study can live in memory, in an SQLite file (a re-run with the
    same ``study_name`` resumes and counts the finished trials toward ``n_trials``), or in a
    PostgreSQL/MySQL database or a journal file shared by many worker processes.

    Parameters
    ----------
    estimator : estimator object
        The estimator (typically a pipeline) to tune; cloned for every fit.
    param_distributions : dict
        ``{parameter name: space}`` where the name is a ``get_params(deep=True)`` key and
        the space is an ``optuna.distributions`` object, a list of choices (categorical;
        any objects, e.g. tuples of layer widths or estimators), or a ``(low, high)`` /
        ``(low, high, "log")`` tuple (integer range when both bounds are integers).
        :func:`default_search_space` builds one for the skdir steps of a pipeline.
    n_trials : int or None, default=10
        Total number of finished trials the **study** should hold (complete, pruned, or
        failed by a fit error). A resumed study counts its earlier trials; several workers
        on one storage stop together, possibly overshooting by up to ``n_workers - 1``.
        ``None`` runs until ``timeout``.
    timeout : float or None, default=None
        Stop starting new trials after this many seconds of this ``fit``.
    scoring : str, callable, list, tuple or dict, default=None
        As in :class:`~sklearn.model_selection.GridSearchCV`. With several metrics the
        study optimises the ``refit`` metric.
    refit : bool, str or callable, default=True
        Refit the best setting on all data. With multi-metric scoring, the metric name
        (also the metric the study maximises). A callable picks ``best_index_`` from
        ``cv_results_`` (single-metric scoring only, the study maximises the score).
    cv : int, cross-validation generator or iterable, default=None
        As in :class:`~sklearn.model_selection.GridSearchCV` (5-fold by default). The
        splits are drawn once per ``fit``, so every trial sees the same folds.
    n_jobs : int or None, default=None
        Number of folds of one trial fitted in parallel (joblib). Trials themselves run one
        after another so the sampler sees every result and ``random_state`` fixes the search
        for any ``n_jobs``; with pruning, the running mean is reported after each batch of
        ``n_jobs`` folds. To run trials in parallel, start several processes on one
        ``storage`` (see the user guide).
    error_score : "raise" or float, default=np.nan
        Score of a fold whose fit fails. ``"raise"`` re-raises the original error (the trial
        is marked failed in the study). With NaN the trial is marked failed, kept in
        ``cv_results_`` with ``state == "fail"``, and a ``FitFailedWarning`` is emitted.
    return_train_score : bool, default=False
        Also compute training scores.
    pruner : bool or optuna.pruners.BasePruner or None, default=None
        ``None``/``False``: no pruning. ``True``: ``MedianPruner(n_startup_trials=5)``, which
        stops a trial whose running mean after fold ``k`` is below the median of earlier
        trials at fold ``k``. Or any Optuna pruner. A skorch net in the estimator can also
        be stopped between epochs with :class:`EpochPruning`.
    sampler : optuna.samplers.BaseSampler or None, default=None
        ``None`` uses ``TPESampler(seed=random_state)``.
    study : optuna.Study or None, default=None
        A study to continue (direction "maximize"); exclusive with ``sampler``, ``pruner``,
        ``study_name`` and ``storage``.
    study_name : str or None, default=None
        Name of the study in ``storage``; an existing study of that name is loaded and
        continued. A study remembers the search that made it (its space, its scoring and
        the metric it maximises, in the study's user attribute ``skdir_search``): a
        search with another space or scoring refuses to continue it with a ``ValueError``
        that names what changed, since stored categorical indices and scores would mean
        something else. Give the edited search a new ``study_name``, or continue the
        study with the space and scoring the message quotes. A study stored by an older
        skdir, without that attribute, is checked against the distributions of its trials.
    storage : str, optuna storage or None, default=None
        ``None``: in memory. A SQLAlchemy URL (``"sqlite:///search.db"``,
        ``"postgresql+psycopg2://..."``) opens an RDB storage with a heartbeat (every 60 s,
        grace period 180 s); a path ending in ``.log`` / ``.journal`` or starting with
        ``journal:`` opens a journal file storage. Many workers may start together on a
        fresh storage: nothing needs creating beforehand, as a worker that collides with
        another one creating Optuna's tables or the study retries (8 attempts at most,
        a short random backoff between them).

        The trial of a killed worker stays ``RUNNING``: with a heartbeat until its last
        heartbeat is older than the grace period, then the next worker marks it failed and
        retries its parameters once; without one (journal file, or an ``RDBStorage``
        without ``heartbeat_interval``) for ever. It does not count toward ``n_trials``.
        When ``fit`` resumes a stored study it warns about the stale ``RUNNING`` trials it
        can tell (not started by a DIRSearchCV worker, e.g. ``study.ask()`` without
        ``tell``, or started by one on this machine that has exited), naming them and how
        to fail them (``study.tell(number, state=TrialState.FAIL)``).
    random_state : int, RandomState instance or None, default=None
        Seeds the default TPE sampler.
    verbose : int, default=0
        0: silent; 1: Optuna warnings and a summary of the best trial; 2: Optuna's log of
        every trial; 3: scikit-learn's per-fold messages too.
    show_progress_bar : bool, default=False
        Show Optuna's progress bar over trials.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        GridSearchCV's keys (``params``, ``param_<name>``, ``split<k>_test_<metric>``,
        ``mean/std/rank_test_<metric>``, ``mean/std_fit_time``, ``mean/std_score_time``,
        train scores when asked) for every finished trial of the study, in trial order, plus
        ``state`` ("complete", "pruned" or "fail") and ``trial_number``. Folds a pruned trial
        did not run are NaN; its mean and std are NaN and it ranks last.
    best_estimator_ : estimator
        The estimator refitted with ``best_params_`` (when ``refit``).
    best_score_ : float
        Mean cross-validated score of the best trial.
    best_params_ : dict
        Parameter setting of the best trial.
    best_index_ : int
        Row of the best trial in ``cv_results_``.
    scorer_ : callable or dict
        The scorer(s) used.
    n_splits_ : int
        Number of cross-validation splits.
    refit_time_ : float
        Seconds spent refitting the best setting.
    multimetric_ : bool
        Whether several metrics were scored.
    study_ : optuna.Study
        The study that holds the trials.
    n_features_in_ : int
        Number of features seen during fit (when the best estimator defines it).

    See Also
    --------
    default_search_space : A search space for the skdir steps of a pipeline.
    sklearn.model_selection.GridSearchCV : Exhaustive search with the same interface.

    Notes
    -----
    Unlike ``optuna_integration.OptunaSearchCV``, this search prunes any estimator (pruning
    acts between folds, not through ``partial_fit``), accepts plain lists and tuples, builds
    scikit-learn's ``cv_results_`` and keeps fold errors visible (``error_score="raise"``
    re-raises the original exception).

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.linear_model import Ridge
    >>> from skdir.model_selection import DIRSearchCV
    >>> X, y = make_regression(n_samples=60, n_features=5, noise=10.0, random_state=0)
    >>> search = DIRSearchCV(Ridge(), {"alpha": (1e-3, 1e3, "log")}, n_trials=8, cv=3,
    ...                      random_state=0).fit(X, y)
    >>> len(search.cv_results_["params"])
    8
    >>> search.best_params_["alpha"] < 10
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        "param_distributions": [dict],
        "n_trials": [Interval(Integral, 1, None, closed="left"), None],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "scoring": [StrOptions(set()), callable, list, tuple, dict, str, None],
        "refit": ["boolean", str, callable],
        "cv": ["cv_object"],
        "n_jobs": [Integral, None],
        "error_score": [StrOptions({"raise"}), Real],
        "return_train_score": ["boolean"],
        "pruner": ["boolean", BasePruner, None],
        "sampler": [BaseSampler, None],
        "study": [optuna.Study, None],
        "study_name": [str, None],
        "storage": [str, optuna.storages.BaseStorage, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "show_progress_bar": ["boolean"],
    }

    def __init__(
        self,
        estimator: Any,
        param_distributions: dict[str, Any],
        *,
        n_trials: int | None = 10,
        timeout: float | None = None,
        scoring: Any = None,
        refit: bool | str | Any = True,
        cv: Any = None,
        n_jobs: int | None = None,
        error_score: str | float = np.nan,
        return_train_score: bool = False,
        pruner: bool | BasePruner | None = None,
        sampler: BaseSampler | None = None,
        study: optuna.Study | None = None,
        study_name: str | None = None,
        storage: Any = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        show_progress_bar: bool = False,
    ) -> None:
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_trials = n_trials
        self.timeout = timeout
        self.scoring = scoring
        self.refit = refit
        self.cv = cv
        self.n_jobs = n_jobs
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.pruner = pruner
        self.sampler = sampler
        self.study = study
        self.study_name = study_name
        self.storage = storage
        self.random_state = random_state
        self.verbose = verbose
        self.show_progress_bar = show_progress_bar

    # -- study -------------------------------------------------------------------------------

    def _make_pruner(self) -> BasePruner:
        if self.pruner is None or self.pruner is False:
            return NopPruner()
        if self.pruner is True:
            return MedianPruner(n_startup_trials=5, n_warmup_steps=0)
        return self.pruner

    def _make_study(self) -> tuple[optuna.Study, Any]:
        """Return the study to run and its storage (``None`` for a new in-memory study)."""
        if self.study is not None:
            given = [
                name
                for name in ("sampler", "pruner", "study_name", "storage")
                if getattr(self, name) not in (None, False)
            ]
            if given:
                raise ValueError(
                    f"study is given, so {given} cannot be: they belong to the study. Create "
                    "the study with optuna.create_study(sampler=..., pruner=..., storage=...)."
                )
            check_maximize(self.study)
            return self.study, getattr(self.study, "_storage", None)
        sampler = self.sampler
        if sampler is None:
            seed = self.random_state
            if seed is not None and not isinstance(seed, Integral):
                seed = int(check_random_state(seed).randint(np.iinfo(np.int32).max))
            sampler = TPESampler(seed=seed)
        storage = open_storage(self.storage)
        try:
            study = create_or_load_study(
                storage, sampler=sampler, pruner=self._make_pruner(), study_name=self.study_name
            )
        except CreationRaceLost:
            raise
        except Exception as exc:
            raise ValueError(
                f"Cannot create or load study {self.study_name!r} in "
                f"{shown_storage(self.storage)}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        check_maximize(study)
        return study, storage

    # -- fit ---------------------------------------------------------------------------------

    def _objective_metric(self, scorers: Any, refit_metric: str) -> str:
        if self.multimetric_ and not isinstance(self.refit, str):
            raise ValueError(
                "With several metrics, refit must name the metric the study maximises "
                f"(one of the scoring keys), got refit={self.refit!r}."
            )
        return refit_metric

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any = None, **params: Any) -> DIRSearchCV:
        """Run the study, then refit the best setting.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Targets.
        **params : dict
            Metadata for the estimator's ``fit``, the scorer and the splitter, routed as
            in :class:`~sklearn.model_selection.GridSearchCV` (``groups`` goes to the
            splitter; without metadata routing, fit parameters carry step prefixes such as
            ``ridge__sample_weight``).

        Returns
        -------
        self : DIRSearchCV
            The fitted search.
        """
        if self.n_trials is None and self.timeout is None:
            raise ValueError("Give n_trials or timeout (or both); both are None.")
        space = check_space(self.estimator, self.param_distributions)
        scorers, refit_metric = self._get_scorers()
        self.multimetric_ = not callable(self.scoring) and isinstance(
            self.scoring, (list, tuple, dict)
        )
        metric = self._objective_metric(scorers, refit_metric)

        if y is None and get_tags(self.estimator).target_tags.required:
            raise ValueError(
                f"{type(self.estimator).__name__} requires y to be passed, but the target y "
                "is None. Call fit(X, y)."
            )
        X, y = indexable(X, y)
        params = _check_method_params(X, params=params)
        routed = self._get_routed_params_for_fit(params)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, **routed.splitter.split))
        self.n_splits_ = n_splits = len(splits)
        base_estimator = clone(self.estimator)
        pruning = not isinstance(self._make_pruner(), NopPruner) or self.study is not None
        batch = max(1, effective_n_jobs(self.n_jobs)) if pruning else n_splits
        fit_kwargs = dict(
            scorer=scorers,
            fit_params=routed.estimator.fit,
            score_params=routed.scorer.score,
            return_train_score=self.return_train_score,
            return_times=True,
            error_score=self.error_score,
            verbose=max(0, self.verbose - 2),
        )
        all_out: list[dict] = []

        def objective(trial: optuna.Trial) -> float:
            trial.set_user_attr(WORKER_ATTR, worker_id())
            candidate = space.suggest(trial)
            outs: list[dict] = []
            context = _FoldContext(trial, fold=0)
            for start in range(0, n_splits, batch):
                stop = min(start + batch, n_splits)
                context.fold = start
                token = _CURRENT_FOLD.set(context if batch == 1 else None)
                try:
                    outs += parallel(
                        delayed(_fit_and_score)(
                            clone(base_estimator),
                            X,
                            y,
                            train=splits[k][0],
                            test=splits[k][1],
                            parameters=candidate,
                            split_progress=(k, n_splits),
                            **fit_kwargs,
                        )
                        for k in range(start, stop)
                    )
                finally:
                    _CURRENT_FOLD.reset(token)
                all_out.extend(outs[start:stop])
                if isinstance(outs[0]["test_scores"], dict) and not self.multimetric_:
                    raise ValueError(
                        "The scoring callable returns a dict; DIRSearchCV needs list, tuple "
                        "or dict scoring to know the metric names in advance."
                    )
                running = [_score_of(o["test_scores"], metric) for o in outs]
                for k in range(start, stop):
                    trial.report(float(np.mean(running[: k + 1])), step=context.fold_step(k))
                if context.pruned or (stop < n_splits and trial.should_prune()):
                    self._record(trial, outs, n_splits)
                    raise optuna.TrialPruned(f"pruned after fold {stop - 1}")
            self._record(trial, outs, n_splits)
            return float(np.mean(running))

        level = {0: optuna.logging.ERROR, 1: optuna.logging.WARNING}.get(
            self.verbose, optuna.logging.INFO
        )
        old_level = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(level)
        try:
            study, storage = self._make_study()
            self.study_ = study
            where = "memory" if storage is None else shown_storage(self.storage or storage)
            check_same_search(study, search_signature(space, self.scoring, metric), space, where)
            if storage is not None and not isinstance(storage, InMemoryStorage):
                warn_stale_running_trials(study, storage)
            n_before = len(counted_trials(study))
            remaining = None if self.n_trials is None else self.n_trials - n_before
            if remaining is None or remaining > 0:
                callbacks = [] if self.n_trials is None else [self._stop_at_budget]
                with Parallel(n_jobs=self.n_jobs) as parallel:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                        study.optimize(
                            objective,
                            n_trials=remaining,
                            timeout=self.timeout,
                            callbacks=callbacks,
                            show_progress_bar=self.show_progress_bar,
                        )
        finally:
            optuna.logging.set_verbosity(old_level)
        if all_out:
            _warn_or_raise_about_fit_failures(all_out, self.error_score)

        results = self._build_results(study, space, n_splits)
        if not results["params"]:
            raise ValueError(
                f"Study {study.study_name!r} holds no finished trial of this search "
                f"(timeout={self.timeout!r} may be too short for one trial)."
            )
        self.cv_results_ = results
        if self.refit or not self.multimetric_:
            self.best_index_ = int(self._select_best_index(self.refit, refit_metric, results))
            if not callable(self.refit):
                self.best_score_ = float(results[f"mean_test_{refit_metric}"][self.best_index_])
            self.best_params_ = results["params"][self.best_index_]
        if self.verbose > 0 and hasattr(self, "best_index_"):
            print(
                f"DIRSearchCV: {len(results['params'])} trials "
                f"({int(np.sum(results['state'] == 'complete'))} complete, "
                f"{int(np.sum(results['state'] == 'pruned'))} pruned, "
                f"{int(np.sum(results['state'] == 'fail'))} failed); best trial "
                f"{results['trial_number'][self.best_index_]} with mean test {metric} "
                f"{results[f'mean_test_{refit_metric}'][self.best_index_]:.6g}: "
                f"{self.best_params_}"
            )
        if self.refit:
            self.best_estimator_ = clone(base_estimator).set_params(
                **clone(self.best_params_, safe=False)
            )
            start_time = time.time()
            if y is not None:
                self.best_estimator_.fit(X, y, **routed.estimator.fit)
            else:
                self.best_estimator_.fit(X, **routed.estimator.fit)
            self.refit_time_ = time.time() - start_time
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = scorers._scorers if hasattr(scorers, "_scorers") else scorers
        return self

    def _stop_at_budget(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if len(counted_trials(study)) >= self.n_trials:
            study.stop()

    def _record(self, trial: optuna.Trial, outs: list[dict], n_splits: int) -> None:
        """Store a trial's fold results in the study, so any worker can rebuild them."""

        def per_metric(key: str) -> dict[str, list[float]] | None:
            if key not in outs[0]:
                return None
            names = list(outs[0][key]) if isinstance(outs[0][key], dict) else ["score"]
            table = {}
            for name in names:
                values = _nan_list(n_splits)
                for k, out in enumerate(outs):
                    values[k] = _score_of(out[key], name)
                table[name] = values
            return table

        def times(key: str) -> list[float]:
            values = _nan_list(n_splits)
            for k, out in enumerate(outs):
                values[k] = float(out[key])
            return values

        trial.set_user_attr(
            RESULT_ATTR,
            {
                "test": per_metric("test_scores"),
                "train": per_metric("train_scores"),
                "fit_time": times("fit_time"),
                "score_time": times("score_time"),
                "n_splits": n_splits,
                "fit_failed": any(o["fit_error"] is not None for o in outs),
                # host:pid, to tell the workers sharing a study apart
                "worker": worker_id(),
            },
        )

    def _build_results(self, study: optuna.Study, space: Any, n_splits: int) -> dict:
        trials = [
            t
            for t in counted_trials(study)
            if RESULT_ATTR in t.user_attrs and t.user_attrs[RESULT_ATTR]["n_splits"] == n_splits
        ]
        trials.sort(key=lambda t: t.number)
        n = len(trials)
        records = [t.user_attrs[RESULT_ATTR] for t in trials]
        results: dict[str, Any] = {}

        def store(key: str, array: np.ndarray, splits: bool = False, rank: bool = False):
            array = np.asarray(array, dtype=np.float64).reshape(n, n_splits)
            if splits:
                for k in range(n_splits):
                    results[f"split{k}_{key}"] = array[:, k]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                means = np.mean(array, axis=1) if rank or splits else np.nanmean(array, axis=1)
                stds = np.std(array, axis=1) if rank or splits else np.nanstd(array, axis=1)
            results[f"mean_{key}"] = means
            results[f"std_{key}"] = stds
            if rank:
                if n == 0 or np.isnan(means).all():
                    results[f"rank_{key}"] = np.ones(n, dtype=np.int32)
                else:
                    filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
                    results[f"rank_{key}"] = rankdata(-filled, method="min").astype(np.int32)

        store("fit_time", [r["fit_time"] for r in records])
        store("score_time", [r["score_time"] for r in records])
        candidate_params = [space.to_params(t.params) for t in trials]
        names = sorted({name for p in candidate_params for name in p})
        for name in names:
            column = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
            for i, p in enumerate(candidate_params):
                if name in p:
                    column[i] = p[name]
            results[f"param_{name}"] = column
        results["params"] = candidate_params
        metrics = list(records[0]["test"]) if records else []
        for name in metrics:
            store(f"test_{name}", [r["test"][name] for r in records], splits=True, rank=True)
            if self.return_train_score and all(r["train"] is not None for r in records):
                store(f"train_{name}", [r["train"][name] for r in records], splits=True)
        states = [_STATE_NAMES.get(t.state, "fail") for t in trials]
        results["state"] = np.array(states, dtype=object)
        results["trial_number"] = np.array([t.number for t in trials], dtype=np.int64)
        return results

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # multi-output support and the like are the searched estimator's
        tags.target_tags = deepcopy(get_tags(self.estimator).target_tags)
        return tags

    def _run_search(self, evaluate_candidates: Any) -> None:  # pragma: no cover
        raise NotImplementedError("DIRSearchCV runs its own fold loop in fit.")
