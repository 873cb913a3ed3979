"""AutoDIRRegressor: candidates scored out-of-fold on region errors, a bagged ensemble."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import NonBoolInterval, check_target
from ..density import LabelDensity
from ..ensemble import BaggedRegressor
from ._candidates import PRESET_FOLDS, build_candidates
from ._selection import REGION_KEYS, RegionScorer, greedy_ensemble, objective_value

__all__ = ["AutoDIRRegressor"]


def _fit_bag(
    name: str,
    estimator: Any,
    X: NDArray,
    y: NDArray,
    n_folds: int,
    seed: int,
    time_limit: float | None,
) -> tuple[str, Any, float]:
    """Fit one candidate as a fold bag; return it (or the exception) and the seconds."""
    start = time.perf_counter()
    if time_limit is not None:
        estimator = estimator.set_params(time_limit=time_limit)
    bag = BaggedRegressor(estimator, n_members=n_folds, random_state=seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            bag.fit(X, y)
    except Exception as error:  # reported per candidate, never hidden
        return name, error, time.perf_counter() - start
    return name, bag, time.perf_counter() - start


class AutoDIRRegressor(RegressorMixin, BaseEstimator):
    """Choose and ensemble regressors for accuracy over the whole target range.

    ``fit`` trains strong learner families with and without DIR treatments
    (the candidates), each as a fold bag (:class:`~skdir.ensemble.BaggedRegressor`,
    ``n_folds`` folds stratified over the target), scores every candidate on its
    out-of-fold predictions of the training rows with skdir's region errors
    (all, many-, medium-, few-shot and balanced), and builds a weighted ensemble
    of the bags for the ``objective`` by greedy ensemble selection with
    replacement (Caruana, Niculescu-Mizil, Crew & Ksikes, "Ensemble selection
    from libraries of models", ICML 2004). The bags fitted for scoring are the
    final members: there is no refit on all rows. ``leaderboard_`` shows every
    candidate's errors and the trade-off between the common and the rare range.

    **Candidates** (names in :data:`skdir.auto.CANDIDATE_NAMES`): ``ridge``
    (standardised :class:`~sklearn.linear_model.RidgeCV`), ``rbf_ridge`` (RBF
    kernel ridge by Nystroem features, median-heuristic width), ``hgb``
    (:class:`~sklearn.ensemble.HistGradientBoostingRegressor`), ``lightgbm`` and
    ``catboost`` when installed (``pip install 'skdir[boost]'``), ``net``
    (:class:`~skdir.nn.DIRRegressor`'s default network), ``net_ensemble`` (its
    TabM-style 4-member version), ``two_tower`` (the two-tower network with
    interaction fusion over the ``modalities`` blocks, siamese for blocks of
    equal width) and ``fusion`` (:class:`~skdir.nn.FusionTransformer`, one
    token per block with its own projection); each with a treatment
    suffix: ``+lds`` (:class:`~skdir.weighting.LDSWeighter` with ``alpha=0.5``),
    ``+lds1`` (``alpha=1``), ``+dense`` (:class:`~skdir.weighting.DenseWeighter`
    with ``alpha=0.5``), and for the networks ``+cmixup`` (C-Mixup),
    ``+conr+cmixup``, ``+lds+cmixup`` and ``+bmse`` (Balanced MSE). Boosted trees
    and networks early-stop on the fold their bag member leaves out.

    **Presets.** ``"fast"``: ridge and HistGradientBoosting, plain and ``+lds``,
    and a small network (40 epochs, two layers of 64), 3 folds: seconds on a few
    hundred rows. ``"medium"``: ridge (plain, ``+lds``, ``+lds1``), RBF ridge
    (plain, ``+lds``), HistGradientBoosting, LightGBM and CatBoost (plain,
    ``+lds``), the default network (plain, ``+lds``, ``+cmixup``) and, with
    ``modalities``, the two-tower network (plain, ``+lds``) and the fusion
    transformer, 5 folds. ``"best"``:
    more strengths and network variants, 8 folds. Candidates are launched
    cheapest first: linear and kernel models, then on inputs with at least 256
    columns (embeddings) the networks before the trees, otherwise the trees
    before the networks.

    **Selection.** ``objective="balanced"`` minimises the balanced error (mean
    over occupied training bins of each bin's mean error) among ensembles whose
    overall error is within ``max_overall_loss`` (relative) of the best single
    candidate's; ``"few"`` minimises the few-shot error under the same
    constraint, ``"overall"`` the overall error, and a callable
    ``objective(y_true, y_pred) -> float`` (lower is better) anything else, also
    under the constraint. Two targets are summarised by the scale-free average of
    :mod:`skdir.metrics` (each target's error divided by its spread in the
    training label density, squared for the MSE). The greedy ensemble is used
    when its objective on the out-of-fold predictions is lower than the best
    single candidate's, else that candidate alone (``selected_`` says which);
    the ensemble's weights are chosen on the same out-of-fold predictions, so its
    leaderboard row is slightly optimistic, the candidates' rows are not.

    **Time budget.** With ``time_budget`` seconds, candidates are launched in
    order while time is left; a candidate whose family already took longer than
    what is left is skipped (a density-weighted variant of a learner that cannot
    stop itself, such as HistGradientBoosting, is expected to take 2.5 times the
    family's time, as measured on STS-B-DIR), and networks and boosted trees receive the time
    left (split over their folds) as a limit at which they stop training and keep
    their best epoch or iterations so far. The first candidate is always fitted,
    whatever the budget (a budget too small for anything still gives a model:
    the cheapest one); the candidates not fitted are listed in ``skipped_``. A
    fit that exceeds the budget by more than 10% warns.

    Parameters
    ----------
    preset : {"fast", "medium", "best"}, default="medium"
        The candidate set and the default number of folds.
    objective : {"balanced", "overall", "few"} or callable, default="balanced"
        What the ensemble minimises on the out-of-fold predictions.
    max_overall_loss : float or None, default=0.02
        Largest relative increase of the overall error over the best single
        candidate's that the objective may buy (0.02: 2%); None: no constraint.
    metric : {"mse", "mae"}, default="mse"
        The error of every leaderboard column and of the objective.
    candidates : list of str or (str, regressor) or None, default=None
        Candidate names from :data:`~skdir.auto.CANDIDATE_NAMES` and/or your own
        ``(name, regressor)`` pairs (fitted as they are, unweighted), instead of
        the preset's.
    modalities : list of int or None, default=None
        Widths of the column blocks of ``X`` (e.g. ``[384, 384]`` for two
        embeddings side by side); adds the two-tower and fusion candidates.
    n_folds : int or None, default=None
        Folds of the bags (their members); None takes the preset's (3, 5, 8).
    ensemble_size : int, default=25
        Greedy selection steps; 1 keeps the best single candidate.
    time_budget : float or None, default=None
        Seconds for the whole fit (see above).
    bin_width : float or None, default=None
        Width of the bins of the regions and the balanced error (one for every
        target); None cuts each target's robust range into 50 bins.
    n_jobs : int or None, default=None
        Candidates fitted in parallel by joblib (a Dask or Ray joblib backend
        spreads them over a cluster); None means 1.
    device : str, default="auto"
        Device of the network candidates (``"auto"``: CUDA when present).
    verbose : int, default=0
        ``1`` prints a line per candidate with the running best.
    random_state : int, RandomState instance or None, default=None
        Draws the folds (one set, shared by every candidate) and the members'
        seeds; an int makes the fit deterministic on CPU.

    Attributes
    ----------
    leaderboard_ : pandas.DataFrame or dict of ndarray
        One row per fitted candidate and one for the ensemble, best objective
        first: ``name``, ``family``, ``treatment``, the errors ``all``, ``many``,
        ``medium``, ``few``, ``balanced`` (for two targets the scale-free average,
        and per target ``all_0`` ... ``balanced_1``), ``objective``, ``feasible``
        (overall error within the constraint), ``fit_s``, ``weight`` and ``chosen``.
    selected_ : str
        ``"ensemble"`` or the name of the single candidate used.
    weights_ : dict of str to float
        Weight of every candidate in the final model (positive weights only).
    estimators_ : dict of str to BaggedRegressor
        The bags of the final model.
    oof_prediction_ : ndarray
        Out-of-fold prediction of the final model on the training rows.
    fold_index_ : ndarray of int
        The fold each training row was left out of (the same for every candidate).
    skipped_ : list of (str, str)
        Candidates not fitted, with the reason (time budget, missing package, error).
    label_density_ : LabelDensity
        The training label density of the regions (for skdir's scorers).
    fit_time_ : float
        Seconds of the whole fit.
    candidates_time_ : float
        Sum of the candidates' fit seconds (their bags); ``fit_time_`` minus this is
        the overhead of scoring and selection when ``n_jobs=1``.
    n_features_in_ : int
        Number of input columns.

    See Also
    --------
    skdir.ensemble.BaggedRegressor : The fold bags.
    plot_leaderboard : Overall against balanced error of every candidate.

    Examples
    --------
    >>> from skdir.auto import AutoDIRRegressor
    >>> from skdir.datasets import make_imbalanced_regression
    >>> X, y = make_imbalanced_regression(300, 8, random_state=0)
    >>> model = AutoDIRRegressor(preset="fast", candidates=["ridge", "ridge+lds", "hgb"],
    ...                          random_state=0).fit(X, y)
    >>> list(model.leaderboard_["name"])[:1] != []
    True
    >>> model.predict(X[:3]).shape
    (3,)
    >>> mean, spread = model.predict(X[:3], return_std=True)
    >>> bool((spread >= 0).all())
    True
    """

    _parameter_constraints: dict = {
        "preset": [StrOptions({"fast", "medium", "best"})],
        "objective": [StrOptions({"balanced", "overall", "few"}), callable],
        "max_overall_loss": [Interval(Real, 0, None, closed="left"), None],
        "metric": [StrOptions({"mse", "mae"})],
        "candidates": [list, tuple, None],
        "modalities": [list, tuple, None],
        "n_folds": [NonBoolInterval(Integral, 2, None, closed="left"), None],
        "ensemble_size": [NonBoolInterval(Integral, 1, None, closed="left")],
        "time_budget": [Interval(Real, 0, None, closed="neither"), None],
        "bin_width": [Interval(Real, 0, None, closed="neither"), None],
        "n_jobs": [Integral, None],
        "device": [str],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        preset: str = "medium",
        *,
        objective: str | Callable = "balanced",
        max_overall_loss: float | None = 0.02,
        metric: str = "mse",
        candidates: list | None = None,
        modalities: list[int] | None = None,
        n_folds: int | None = None,
        ensemble_size: int = 25,
        time_budget: float | None = None,
        bin_width: float | None = None,
        n_jobs: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.preset = preset
        self.objective = objective
        self.max_overall_loss = max_overall_loss
        self.metric = metric
        self.candidates = candidates
        self.modalities = modalities
        self.n_folds = n_folds
        self.ensemble_size = ensemble_size
        self.time_budget = time_budget
        self.bin_width = bin_width
        self.n_jobs = n_jobs
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _check_modalities(self, n_features: int) -> list[int] | None:
        if self.modalities is None:
            return None
        widths = list(self.modalities)
        if not widths or not all(
            isinstance(w, Integral) and not isinstance(w, bool) and w > 0 for w in widths
        ):
            raise ValueError(
                f"modalities must list the positive widths of the column blocks, got "
                f"{self.modalities!r}; e.g. modalities=[384, 384]."
            )
        if sum(widths) != n_features:
            raise ValueError(
                f"modalities={widths} sums to {sum(widths)} columns but X has {n_features}; "
                "give the width of every block of X, in order."
            )
        return [int(w) for w in widths]

    def _launches(
        self,
        specs: list[tuple[str, Any, Any]],
        X: NDArray,
        y: NDArray,
        n_folds: int,
        seed: int,
        start: float,
        state: dict,
    ) -> Iterator[tuple[str, Any, float | None]]:
        """Yield ``(name, estimator, time_limit)`` while the budget allows (lazily)."""
        budget = self.time_budget
        for position, (name, spec, estimator) in enumerate(specs):
            limit = None
            if budget is not None and position > 0:
                left = budget - (time.perf_counter() - start)
                family = spec.family if spec is not None else "custom"
                taken = state["family_seconds"].get(family)
                stoppable = spec is not None and spec.stoppable
                if left <= 0:
                    state["skipped"].append((name, "time_budget spent"))
                    continue
                if taken is not None and (
                    (stoppable and taken * 0.5 > left)
                    or (not stoppable and taken > left + 0.1 * budget)
                ):
                    state["skipped"].append(
                        (name, f"time_budget: {family} took {taken:.1f} s, {left:.1f} s left")
                    )
                    continue
                if stoppable:
                    limit = max(left, 0.0) / n_folds
            elif budget is not None and spec is not None and spec.stoppable:
                limit = budget / n_folds
            yield name, estimator, limit

    def _report(self, message: str) -> None:
        if self.verbose:
            print(f"[AutoDIRRegressor] {message}", file=sys.stdout, flush=True)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike, y: ArrayLike) -> AutoDIRRegressor:
        """Fit the candidates as fold bags, score them out-of-fold and build the ensemble.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (finite; put a :class:`~skdir.fragments.FragmentAggregator`
            and an imputer before this step for bags or missing values).
        y : array-like of shape (n_samples,) or (n_samples, 2)
            One or two continuous targets.

        Returns
        -------
        self : AutoDIRRegressor
            The fitted model.
        """
        start = time.perf_counter()
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64)
        y = check_target(y, max_targets=2)
        n_folds = self.n_folds if self.n_folds is not None else PRESET_FOLDS[self.preset]
        if len(y) < 2 * n_folds:
            raise ValueError(
                f"AutoDIRRegressor needs at least 2 * n_folds = {2 * n_folds} samples for its "
                f"{n_folds} folds, got n_samples={len(y)}; lower n_folds or pass more samples."
            )
        if np.ptp(y.reshape(len(y), -1), axis=0).min() == 0:
            raise ValueError(
                "A target is constant: there is nothing to regress and no label density to "
                "balance; drop that target or pass varying targets."
            )
        modalities = self._check_modalities(X.shape[1])
        context = {"preset": self.preset, "modalities": modalities, "device": self.device}
        specs, missing = build_candidates(self.candidates, self.preset, X.shape[1], context)
        self.label_density_ = LabelDensity(
            n_bins=50 if self.bin_width is None else "auto", bin_width=self.bin_width, ks=1
        ).fit(y)
        scorer = RegionScorer(y, self.label_density_, self.metric)
        if self.objective == "few" and not any(m["few"].any() for m in scorer.masks):
            raise ValueError(
                "objective='few' but no training row lies in a few-shot bin (fewer than 20 "
                "rows); use objective='balanced', or a larger bin_width."
            )
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        state: dict[str, Any] = {"family_seconds": {}, "skipped": list(missing)}
        families = {name: (spec.family if spec else "custom") for name, spec, _ in specs}
        bags: dict[str, BaggedRegressor] = {}
        seconds: dict[str, float] = {}
        launches = self._launches(specs, X, y, n_folds, seed, start, state)
        results = self._run(launches, X, y, n_folds, seed)
        best_name, best_value = None, np.inf
        for name, bag, took in results:
            family = families[name]
            state["family_seconds"][family] = max(took, state["family_seconds"].get(family, 0))
            if isinstance(bag, Exception):
                state["skipped"].append((name, f"{type(bag).__name__}: {bag}"))
                warnings.warn(
                    f"AutoDIRRegressor: candidate {name!r} failed and is left out "
                    f"({type(bag).__name__}: {bag}).",
                    UserWarning,
                    stacklevel=2,
                )
                continue
            bags[name], seconds[name] = bag, took
            scores = scorer.scores(bag.oof_prediction_)
            value = objective_value(self.objective, scores, y, bag.oof_prediction_)
            if value < best_value:
                best_name, best_value = name, value
            self._report(
                f"{len(bags)}/{len(specs)} {name}: {self.metric} all {scores['all']:.4g} "
                f"balanced {scores['balanced']:.4g} few {scores['few']:.4g} ({took:.1f} s); "
                f"running best {best_name} {best_value:.4g}"
            )
        if not bags:
            raise ValueError(
                "Every candidate failed: "
                + "; ".join(f"{n} ({r})" for n, r in state["skipped"])
                + ". Check the input data or choose other candidates."
            )
        self._select(bags, seconds, families, specs, scorer, y)
        self.skipped_ = state["skipped"]
        self.fit_time_ = time.perf_counter() - start
        self.candidates_time_ = float(sum(seconds.values()))
        if self.time_budget is not None and self.fit_time_ > 1.1 * self.time_budget:
            warnings.warn(
                f"AutoDIRRegressor took {self.fit_time_:.1f} s, more than time_budget="
                f"{self.time_budget:g} s + 10%: a candidate that cannot stop itself ran past "
                "it (or the first candidate alone needs longer). Raise time_budget or choose "
                "faster candidates.",
                UserWarning,
                stacklevel=2,
            )
        self._report(
            f"selected {self.selected_} ("
            + ", ".join(f"{n} {w:.2f}" for n, w in self.weights_.items())
            + f"); fit {self.fit_time_:.1f} s, candidates {self.candidates_time_:.1f} s"
        )
        return self

    def _run(
        self, launches: Iterator, X: NDArray, y: NDArray, n_folds: int, seed: int
    ) -> Iterator[tuple[str, Any, float]]:
        """Fit the launched candidates, one after another or through joblib."""
        if self.n_jobs in (None, 1):
            for name, estimator, limit in launches:
                yield _fit_bag(name, estimator, X, y, n_folds, seed, limit)
            return
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=self.n_jobs, return_as="generator", pre_dispatch="n_jobs")
        yield from parallel(
            delayed(_fit_bag)(name, estimator, X, y, n_folds, seed, limit)
            for name, estimator, limit in launches
        )

    def _select(
        self,
        bags: dict[str, BaggedRegressor],
        seconds: dict[str, float],
        families: dict[str, str],
        specs: list,
        scorer: RegionScorer,
        y: NDArray,
    ) -> None:
        """Score the candidates, run the greedy selection, fill the fitted attributes."""
        names = list(bags)
        oof = np.stack([np.asarray(bags[n].oof_prediction_) for n in names])
        tables = [scorer.table(p) for p in oof]
        summaries = [scorer.summary(t) for t in tables]
        overall = np.array([s["all"] for s in summaries])
        limit = (
            np.inf
            if self.max_overall_loss is None
            else overall.min() * (1 + self.max_overall_loss)
        )
        values = np.array(
            [objective_value(self.objective, s, y, p) for s, p in zip(summaries, oof, strict=True)]
        )
        feasible = overall <= limit
        best_single = int(np.argmin(np.where(feasible, values, np.inf)))
        weights, self.selection_path_ = greedy_ensemble(
            oof, scorer, self.objective, y, limit, self.ensemble_size
        )
        ensemble_oof = np.tensordot(weights, oof, axes=1)
        ensemble_table = scorer.table(ensemble_oof)
        ensemble_summary = scorer.summary(ensemble_table)
        ensemble_value = objective_value(self.objective, ensemble_summary, y, ensemble_oof)
        use_ensemble = ensemble_value < values[best_single] and (weights > 0).sum() > 1
        if use_ensemble:
            self.selected_ = "ensemble"
            final = weights
        else:
            self.selected_ = names[best_single]
            final = np.zeros(len(names))
            final[best_single] = 1.0
        self.weights_ = {n: float(w) for n, w in zip(names, final, strict=True) if w > 0}
        self.estimators_ = {n: bags[n] for n in self.weights_}
        self.oof_prediction_ = np.tensordot(final, oof, axes=1)
        self.fold_index_ = bags[names[0]].fold_index_
        self.best_single_ = names[best_single]
        self._y_shape = bags[names[0]]._y_shape
        treatments = {name: (spec.treatment if spec else "custom") for name, spec, _ in specs}
        rows = []
        for k, name in enumerate(names):
            rows.append(
                self._row(
                    name,
                    families[name],
                    treatments[name],
                    tables[k],
                    summaries[k],
                    values[k],
                    bool(feasible[k]),
                    seconds[name],
                    float(weights[k]),
                    self.selected_ == name,
                )
            )
        rows.append(
            self._row(
                "ensemble",
                "ensemble",
                "greedy",
                ensemble_table,
                ensemble_summary,
                ensemble_value,
                bool(ensemble_summary["all"] <= limit),
                float(sum(seconds[n] for n in names if weights[names.index(n)] > 0)),
                1.0,
                use_ensemble,
            )
        )
        rows.sort(key=lambda r: (not r["feasible"], r["objective"]))
        self.overall_limit_ = float(limit)
        self.leaderboard_ = _as_frame(rows)

    @staticmethod
    def _row(
        name: str,
        family: str,
        treatment: str,
        table: dict[str, NDArray[np.float64]],
        summary: dict[str, float],
        value: float,
        feasible: bool,
        fit_s: float,
        weight: float,
        chosen: bool,
    ) -> dict[str, Any]:
        row: dict[str, Any] = {"name": name, "family": family, "treatment": treatment}
        row.update({key: summary[key] for key in REGION_KEYS})
        n_targets = len(table["all"])
        if n_targets > 1:
            for t in range(n_targets):
                row.update({f"{key}_{t}": float(table[key][t]) for key in REGION_KEYS})
        row.update(
            objective=float(value), feasible=feasible, fit_s=fit_s, weight=weight, chosen=chosen
        )
        return row

    # -------------------------------------------------------------- predict
    def predict_members(self, X: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Every bag member's prediction and its weight in the ensemble mean.

        Returns
        -------
        predictions : ndarray of shape (n_members, n_samples[, n_targets])
            Predictions of the members of every bag in the final model.
        weights : ndarray of shape (n_members,)
            Each member's weight: its bag's weight over the bag's size (sum 1).
        """
        check_is_fitted(self, "estimators_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        predictions, weights = [], []
        for name, bag in self.estimators_.items():
            members = bag.predict_members(X)
            predictions.append(members)
            weights.append(np.full(len(members), self.weights_[name] / len(members)))
        return np.concatenate(predictions), np.concatenate(weights)

    def predict(
        self, X: ArrayLike, return_std: bool = False
    ) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Predict the weighted mean of the bags (and the members' weighted spread).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        return_std : bool, default=False
            Also return the weighted standard deviation of all bag members'
            predictions, per sample and target (a spread, not a calibrated
            interval).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The ensemble's prediction.
        y_std : ndarray of the same shape
            The members' spread (only with ``return_std=True``).
        """
        predictions, weights = self.predict_members(X)
        mean = np.tensordot(weights, predictions, axes=1)
        if not return_std:
            return mean
        variance = np.tensordot(weights, (predictions - mean) ** 2, axes=1)
        return mean, np.sqrt(variance)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.non_deterministic = self.random_state is None
        return tags


def _as_frame(rows: list[dict[str, Any]]) -> Any:
    """Return the leaderboard: a pandas DataFrame when pandas is installed, else arrays."""
    columns = list(rows[0])
    try:
        import pandas as pd
    except ImportError:
        return {c: np.asarray([r[c] for r in rows]) for c in columns}
    return pd.DataFrame(rows, columns=columns)
