"""The candidates of :class:`~skdir.auto.AutoDIRRegressor`: learner families x DIR treatments.

Every candidate is a :class:`_Candidate`, a thin regressor around a learner that
(1) computes density sample weights from its training targets (``weighter``),
(2) standardises ``X`` when the learner needs it, (3) fits one learner per target
when the learner has a single output, and (4) early-stops on ``eval_set`` (the
fold :class:`~skdir.ensemble.BaggedRegressor` leaves out) and within ``time_limit``
seconds, in the learner's own way. Its ``fit`` names ``eval_set`` so that the bag
passes the left-out fold to it.
"""

from __future__ import annotations

import importlib.util
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..weighting import DenseWeighter, LDSWeighter, fit_training_weights

__all__ = ["CANDIDATE_NAMES", "PRESETS", "Spec", "build_candidates"]

#: Early-stopping rounds of the boosted trees on the left-out fold.
STOPPING_ROUNDS = 100


class _LightGBMTimeLimit:
    """LightGBM callback: stop the boosting (keeping what is built) after ``deadline``."""

    order = 40

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __call__(self, env: Any) -> None:
        if time.perf_counter() > self.deadline:
            from lightgbm.callback import EarlyStopException

            raise EarlyStopException(env.iteration, env.evaluation_result_list)


#: Boosting iterations per warm-started chunk of a time-limited HistGradientBoosting fit.
HGB_CHUNK = 20


def _fit_hgb_within(
    learner: Any, X: NDArray, y: NDArray, kwargs: dict[str, Any], deadline: float
) -> None:
    """Fit a HistGradientBoosting learner in warm-started chunks until done or ``deadline``.

    scikit-learn's gradient boosting has no callback; warm starting adds ``HGB_CHUNK``
    iterations per call and keeps the boosting state (trees, validation scores for early
    stopping), so a fit that ends in time is the same model as one uninterrupted fit.
    The learner's ``max_iter`` and ``warm_start`` are restored afterwards.
    """
    total, warm = learner.max_iter, learner.warm_start
    learner.set_params(warm_start=True, max_iter=min(HGB_CHUNK, total))
    while True:
        learner.fit(X, y, **kwargs)
        stopped_early = learner.n_iter_ < learner.max_iter
        if stopped_early or learner.max_iter >= total or time.perf_counter() > deadline:
            break
        learner.set_params(max_iter=min(learner.max_iter + HGB_CHUNK, total))
    learner.set_params(warm_start=warm, max_iter=total)


class _CatBoostTimeLimit:
    """CatBoost callback: stop the boosting after ``deadline`` (``after_iteration``)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def after_iteration(self, info: Any) -> bool:
        return time.perf_counter() < self.deadline


class QuantileBins(TransformerMixin, BaseEstimator):
    """Replace each column by its bin code among ``n_bins`` quantile bins of the training rows.

    The thresholds are HistGradientBoosting's own (the ``averaged_inverted_cdf``
    quantiles of each column, unweighted, or the midpoints between its values when it
    has at most ``n_bins`` of them; bin ``i`` holds ``t[i-1] < x <= t[i]``), so a
    HistGradientBoosting fitted on the codes grows the same trees as on the raw columns.
    What it saves: given ``sample_weight``, scikit-learn (>= 1.6) computes weighted
    thresholds with one weighted percentile per threshold in Python, 11 s for 900 rows
    and 128 columns against 0.2 s unweighted; on the codes (at most ``n_bins`` distinct
    values per column) it takes the distinct values instead. The bins of a weighted fit
    are therefore the unweighted quantiles.
    """

    def __init__(self, n_bins: int = 255) -> None:
        self.n_bins = n_bins

    def fit(self, X: ArrayLike, y: Any = None) -> QuantileBins:
        """Compute each column's thresholds on ``X``."""
        X = np.asarray(X, dtype=np.float64)
        levels = np.linspace(0.0, 100.0, self.n_bins + 1)[1:-1]
        edges = np.percentile(X, levels, axis=0, method="averaged_inverted_cdf")
        self.thresholds_ = []
        for column, column_edges in zip(X.T, edges.T, strict=True):
            distinct = np.unique(column)
            if len(distinct) <= self.n_bins:  # few values: the midpoints between them
                self.thresholds_.append((distinct[:-1] + distinct[1:]) / 2)
            else:
                self.thresholds_.append(np.unique(column_edges))
        return self

    def transform(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return the bin codes (floats ``0 .. n_bins - 1``)."""
        check_is_fitted(self, "thresholds_")
        X = np.asarray(X, dtype=np.float64)
        return np.column_stack(
            [np.searchsorted(t, X[:, j], side="left") for j, t in enumerate(self.thresholds_)]
        ).astype(np.float64)


class RBFRidge(RegressorMixin, BaseEstimator):
    """RBF kernel ridge regression by a Nystroem approximation and RidgeCV.

    ``gamma = gamma_factor / median squared distance`` between up to 1,000
    training rows (the median heuristic); ``n_components`` Nystroem features
    approximate the kernel and :class:`~sklearn.linear_model.RidgeCV` chooses
    the penalty by efficient leave-one-out on them. Far cheaper than an exact
    kernel ridge on thousands of rows (``O(n m^2)`` instead of ``O(n^3)``).
    """

    def __init__(
        self,
        n_components: int = 500,
        gamma_factor: float = 1.0,
        alphas: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0),
        random_state: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.gamma_factor = gamma_factor
        self.alphas = alphas
        self.random_state = random_state

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> RBFRidge:
        """Fit the Nystroem map and the ridge on it."""
        X = np.asarray(X, dtype=np.float64)
        rng = check_random_state(self.random_state)
        rows = rng.choice(len(X), size=min(1000, len(X)), replace=False)
        sample = X[rows]
        squared = (sample**2).sum(1)
        distances = squared[:, None] + squared[None, :] - 2 * sample @ sample.T
        upper = distances[np.triu_indices(len(rows), k=1)]
        median = float(np.median(upper)) if upper.size else 1.0
        self.gamma_ = self.gamma_factor / (median if median > 0 else 1.0)
        self.nystroem_ = Nystroem(
            gamma=self.gamma_,
            n_components=min(self.n_components, len(X)),
            random_state=rng.randint(np.iinfo(np.int32).max),
        ).fit(X)
        self.ridge_ = RidgeCV(alphas=self.alphas).fit(
            self.nystroem_.transform(X), y, sample_weight=sample_weight
        )
        return self

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """Predict with the fitted ridge on the Nystroem features."""
        check_is_fitted(self, "ridge_")
        return self.ridge_.predict(self.nystroem_.transform(np.asarray(X, dtype=np.float64)))


class _Candidate(RegressorMixin, BaseEstimator):
    """One candidate: a learner with density weights, scaling, per-target fits, stopping.

    Parameters
    ----------
    estimator : regressor
        The learner (cloned at fit).
    weighter : LDSWeighter, DenseWeighter or None
        Density weights from the training targets, multiplied into ``sample_weight``.
    scale : bool or "bins"
        Standardise ``X`` on the training rows first (``True``), or replace it by its
        quantile bin codes (``"bins"``, :class:`QuantileBins`: for HistGradientBoosting
        with sample weights).
    per_target : bool
        Fit one clone per target column (learners with one output).
    stopping : {"lightgbm", "catboost", "hgb", "skorch"} or None
        How ``eval_set`` and ``time_limit`` reach the learner (``"hgb"``: warm-started
        chunks of iterations, see :func:`_fit_hgb_within`).
    time_limit : float or None
        Seconds after which a stoppable learner stops training (keeping what it has).
    random_state : int or None
        Passed to the learner's ``random_state`` (CatBoost: ``random_seed``).
    """

    def __init__(
        self,
        estimator: Any,
        *,
        weighter: Any = None,
        scale: bool | str = False,
        per_target: bool = False,
        stopping: str | None = None,
        time_limit: float | None = None,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.weighter = weighter
        self.scale = scale
        self.per_target = per_target
        self.stopping = stopping
        self.time_limit = time_limit
        self.random_state = random_state

    def _learner(self) -> Any:
        learner = clone(self.estimator)
        if self.random_state is not None:
            params = learner.get_params(deep=False)
            for key in ("random_state", "random_seed"):
                if key in params:
                    learner.set_params(**{key: int(self.random_state)})
        return learner

    def _stopping_kwargs(
        self, learner: Any, eval_set: tuple | None, deadline: float | None
    ) -> dict[str, Any]:
        kind = self.stopping
        if kind == "lightgbm":
            import lightgbm

            callbacks: list[Callable] = []
            kw: dict[str, Any] = {}
            if eval_set is not None:
                if "eval_X" in inspect.signature(learner.fit).parameters:  # LightGBM >= 4.6
                    kw.update(eval_X=(eval_set[0],), eval_y=(eval_set[1],))
                else:
                    kw["eval_set"] = [eval_set]
                callbacks.append(lightgbm.early_stopping(STOPPING_ROUNDS, verbose=False))
            if deadline is not None:
                callbacks.append(_LightGBMTimeLimit(deadline))
            return {**kw, "callbacks": callbacks} if callbacks else kw
        if kind == "catboost":
            kw = {}
            if eval_set is not None:
                kw["eval_set"] = eval_set
            else:
                learner.set_params(use_best_model=False, early_stopping_rounds=None)
            if deadline is not None:
                kw["callbacks"] = [_CatBoostTimeLimit(deadline)]
            return kw
        if kind == "hgb" and eval_set is not None:
            return {"X_val": eval_set[0], "y_val": eval_set[1]}
        if kind == "skorch":
            if deadline is not None:
                from ._nn import TimeLimit

                learner.set_params(callbacks=[("time_limit", TimeLimit(deadline))])
            return {} if eval_set is None else {"eval_set": eval_set}
        return {}

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        eval_set: tuple[ArrayLike, ArrayLike] | None = None,
    ) -> _Candidate:
        """Fit the learner (one per target if ``per_target``) with weights and stopping."""
        start = time.perf_counter()
        deadline = None if self.time_limit is None else start + float(self.time_limit)
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        weights = None
        if self.weighter is not None:
            self.weighter_ = clone(self.weighter)
            weights = fit_training_weights(self.weighter_, X, y)
        if sample_weight is not None:
            user = np.asarray(sample_weight, dtype=np.float64)
            weights = user if weights is None else weights * user
        if eval_set is not None:
            eval_set = (np.asarray(eval_set[0], dtype=np.float64), np.asarray(eval_set[1]))
        if self.scale:
            self.scaler_ = (QuantileBins() if self.scale == "bins" else StandardScaler()).fit(X)
            X = self.scaler_.transform(X)
            if eval_set is not None:
                eval_set = (self.scaler_.transform(eval_set[0]), eval_set[1])
        self._y_ndim = y.ndim
        split = self.per_target and y.ndim == 2
        targets = [y[:, k] for k in range(y.shape[1])] if split else [y]
        self.estimators_ = []
        for k, target in enumerate(targets):
            learner = self._learner()
            target_eval = eval_set
            if split and eval_set is not None:
                target_eval = (eval_set[0], np.asarray(eval_set[1])[:, k])
            kwargs = self._stopping_kwargs(learner, target_eval, deadline)
            if weights is not None:
                kwargs["sample_weight"] = weights
            if self.stopping == "hgb" and deadline is not None:
                _fit_hgb_within(learner, X, target, kwargs, deadline)
            else:
                learner.fit(X, target, **kwargs)
            self.estimators_.append(learner)
        if self.stopping == "skorch" and deadline is not None:
            # the time limit served this fit; a pickled or refitted net must not keep it
            for learner in self.estimators_:
                learner.callbacks = None
        return self

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """Predict with the fitted learner(s)."""
        check_is_fitted(self, "estimators_")
        X = np.asarray(X, dtype=np.float64)
        if self.scale:
            X = self.scaler_.transform(X)
        outputs = [np.asarray(e.predict(X), dtype=np.float64) for e in self.estimators_]
        if len(outputs) > 1:
            return np.column_stack([o.reshape(len(o)) for o in outputs])
        out = outputs[0]
        return out.reshape(len(out)) if self._y_ndim == 1 else out.reshape(len(out), -1)


@dataclass(frozen=True)
class Spec:
    """A named candidate: its learner family, treatment and a builder of the estimator."""

    name: str
    family: str
    treatment: str
    build: Callable[[dict], Any]
    needs: str | None = None  # an optional package the family imports
    stoppable: bool = False  # stops itself within a time limit


# ------------------------------------------------------------------- treatments
#: Density weights by treatment suffix (the strengths are LDSWeighter's/DenseWeighter's alpha).
WEIGHTERS: dict[str, Callable[[], Any]] = {
    "": lambda: None,
    "lds": lambda: LDSWeighter(alpha=0.5),
    "lds1": lambda: LDSWeighter(alpha=1.0),
    "dense": lambda: DenseWeighter(alpha=0.5),
}


def _ridge(treat: str) -> Callable[[dict], Any]:
    return lambda ctx: _Candidate(
        RidgeCV(alphas=np.logspace(-3, 4, 30)), weighter=WEIGHTERS[treat](), scale=True
    )


def _rbf(treat: str) -> Callable[[dict], Any]:
    def build(ctx: dict) -> Any:
        size = 300 if ctx["preset"] == "fast" else 1000 if ctx["preset"] == "best" else 600
        return _Candidate(RBFRidge(n_components=size), weighter=WEIGHTERS[treat](), scale=True)

    return build


def _hgb(treat: str) -> Callable[[dict], Any]:
    def build(ctx: dict) -> Any:
        from sklearn.ensemble import HistGradientBoostingRegressor

        learner = HistGradientBoostingRegressor(
            max_iter=100 if ctx["preset"] == "fast" else 500,
            early_stopping=True,
            n_iter_no_change=20,
        )
        return _Candidate(
            learner, weighter=WEIGHTERS[treat](), scale="bins", per_target=True, stopping="hgb"
        )

    return build


def _lightgbm(treat: str) -> Callable[[dict], Any]:
    def build(ctx: dict) -> Any:
        import lightgbm

        learner = lightgbm.LGBMRegressor(
            n_estimators=3000, learning_rate=0.05, n_jobs=1, verbose=-1
        )
        return _Candidate(
            learner, weighter=WEIGHTERS[treat](), per_target=True, stopping="lightgbm"
        )

    return build


def _catboost(treat: str) -> Callable[[dict], Any]:
    def build(ctx: dict) -> Any:
        from catboost import CatBoostRegressor

        learner = CatBoostRegressor(
            iterations=2000 if ctx["preset"] == "best" else 1000,
            thread_count=1,
            verbose=0,
            use_best_model=True,
            early_stopping_rounds=STOPPING_ROUNDS,
            allow_writing_files=False,
        )
        return _Candidate(
            learner, weighter=WEIGHTERS[treat](), per_target=True, stopping="catboost"
        )

    return build


def _net(
    treat: str, two_tower: bool = False, n_ensemble: int = 1, fusion: bool = False
) -> Callable[[dict], Any]:
    def build(ctx: dict) -> Any:
        from sklearn.preprocessing import StandardScaler

        from ..nn import BalancedMSELoss, CMixup, ConR, DIRRegressor

        # every target's loss in units of its own spread: without it the target on
        # the larger scale owns the loss of a two-target network
        params: dict[str, Any] = {"device": ctx["device"], "target_transformer": StandardScaler()}
        if ctx["preset"] == "fast":
            params.update(max_epochs=40, patience=10, module__hidden=(64, 64))
        if two_tower:
            widths = list(ctx["modalities"])
            params.update(
                module="two_tower",
                module__modalities=widths,
                module__fusion="interaction",
                module__shared=len(set(widths)) == 1,
            )
        elif fusion:  # one token per block, own projections: blocks of different kinds
            params.update(module="fusion_transformer", module__modalities=list(ctx["modalities"]))
            if params.pop("module__hidden", None) is not None:  # the fast preset
                params["module__d_model"] = 32
        elif n_ensemble > 1:
            params["module__n_ensemble"] = n_ensemble
        parts = set(treat.split("+")) - {""}
        if "lds" in parts:
            params["weighter"] = LDSWeighter(alpha=0.5)
        if "lds1" in parts:
            params["weighter"] = LDSWeighter(alpha=1.0)
        if "cmixup" in parts:
            params["augment"] = CMixup()
        if "conr" in parts:
            params["regularizers"] = [("conr", ConR())]
        if "bmse" in parts:
            params["criterion"] = BalancedMSELoss
        return _Candidate(DIRRegressor(**params), stopping="skorch")

    return build


def _specs() -> dict[str, Spec]:
    specs: list[Spec] = []
    for treat in ("", "lds", "lds1", "dense"):
        suffix = f"+{treat}" if treat else ""
        specs.append(Spec("ridge" + suffix, "ridge", treat or "none", _ridge(treat)))
        specs.append(Spec("rbf_ridge" + suffix, "rbf_ridge", treat or "none", _rbf(treat)))
        specs.append(Spec("hgb" + suffix, "hgb", treat or "none", _hgb(treat), stoppable=True))
        specs.append(
            Spec(
                "lightgbm" + suffix,
                "lightgbm",
                treat or "none",
                _lightgbm(treat),
                needs="lightgbm",
                stoppable=True,
            )
        )
        specs.append(
            Spec(
                "catboost" + suffix,
                "catboost",
                treat or "none",
                _catboost(treat),
                needs="catboost",
                stoppable=True,
            )
        )
    for treat in ("", "lds", "lds1", "cmixup", "lds+cmixup", "conr+cmixup", "bmse"):
        suffix = f"+{treat}" if treat else ""
        specs.append(
            Spec("net" + suffix, "net", treat or "none", _net(treat), "torch", stoppable=True)
        )
        specs.append(
            Spec(
                "two_tower" + suffix,
                "two_tower",
                treat or "none",
                _net(treat, two_tower=True),
                "torch",
                stoppable=True,
            )
        )
    for treat in ("", "lds"):
        suffix = f"+{treat}" if treat else ""
        specs.append(
            Spec(
                "fusion" + suffix,
                "fusion",
                treat or "none",
                _net(treat, fusion=True),
                "torch",
                True,
            )
        )
    specs.append(
        Spec("net_ensemble", "net_ensemble", "none", _net("", n_ensemble=4), "torch", True)
    )
    specs.append(
        Spec(
            "net_ensemble+lds",
            "net_ensemble",
            "lds",
            _net("lds", n_ensemble=4),
            "torch",
            True,
        )
    )
    return {spec.name: spec for spec in specs}


SPECS = _specs()
CANDIDATE_NAMES = tuple(SPECS)

#: Candidates of each preset, by group; the order of the groups is decided per data set.
PRESETS: dict[str, dict[str, list[str]]] = {
    "fast": {
        "linear": ["ridge", "ridge+lds"],
        "trees": ["hgb", "hgb+lds"],
        "nets": ["net"],
        "towers": [],
    },
    "medium": {
        "linear": ["ridge", "ridge+lds", "ridge+lds1", "rbf_ridge", "rbf_ridge+lds"],
        "trees": [
            "hgb",
            "hgb+lds",
            "lightgbm",
            "lightgbm+lds",
            "catboost",
            "catboost+lds",
        ],
        "nets": ["net", "net+lds", "net+cmixup"],
        "towers": ["two_tower", "two_tower+lds", "fusion"],
    },
    "best": {
        "linear": [
            "ridge",
            "ridge+lds",
            "ridge+lds1",
            "rbf_ridge",
            "rbf_ridge+lds",
            "rbf_ridge+lds1",
            "rbf_ridge+dense",
        ],
        "trees": [
            "hgb",
            "hgb+lds",
            "lightgbm",
            "lightgbm+lds",
            "lightgbm+lds1",
            "catboost",
            "catboost+lds",
            "catboost+lds1",
        ],
        "nets": [
            "net",
            "net+lds",
            "net+cmixup",
            "net+conr+cmixup",
            "net+lds+cmixup",
            "net_ensemble",
            "net_ensemble+lds",
        ],
        "towers": ["two_tower", "two_tower+lds", "two_tower+cmixup", "fusion", "fusion+lds"],
    },
}

#: Number of folds (bag members) of each preset.
PRESET_FOLDS = {"fast": 3, "medium": 5, "best": 8}

#: Inputs at least this wide are treated as embeddings: networks go before trees.
WIDE = 256


def installed(spec: Spec) -> bool:
    """Whether the optional package a candidate family needs is importable."""
    return spec.needs is None or importlib.util.find_spec(spec.needs) is not None


def preset_names(preset: str, n_features: int, modalities: Any) -> list[str]:
    """Return the preset's candidate names in launch order (cheap first; nets early on wide data).

    Linear and kernel models come first (seconds); on inputs with at least
    :data:`WIDE` columns (embeddings, where the networks lead) the networks come
    next and the trees last, otherwise the trees come before the networks. The
    two-tower networks are included only when ``modalities`` is given.
    """
    groups = PRESETS[preset]
    towers = groups["towers"] if modalities is not None else []
    if n_features >= WIDE:
        order = groups["linear"] + groups["nets"][:1] + towers[:1]
        order += groups["nets"][1:] + towers[1:] + groups["trees"]
    else:
        order = groups["linear"] + groups["trees"] + groups["nets"] + towers
    return order


def build_candidates(
    candidates: Any, preset: str, n_features: int, context: dict
) -> tuple[list[tuple[str, Spec | None, Any]], list[tuple[str, str]]]:
    """Resolve the ``candidates`` parameter into ``(name, spec, estimator)`` triples.

    Returns the candidates in launch order and ``(name, reason)`` for those left
    out because an optional package is missing.
    """
    missing: list[tuple[str, str]] = []
    if candidates is None:
        entries: list[Any] = preset_names(preset, n_features, context["modalities"])
    else:
        entries = list(candidates)
    out: list[tuple[str, Spec | None, Any]] = []
    seen: set[str] = set()
    for entry in entries:
        if isinstance(entry, str):
            if entry not in SPECS:
                raise ValueError(
                    f"Unknown candidate {entry!r}; choose names from "
                    f"skdir.auto.CANDIDATE_NAMES ({', '.join(CANDIDATE_NAMES)}) or pass "
                    "(name, regressor) pairs."
                )
            spec = SPECS[entry]
            if spec.family in ("two_tower", "fusion") and context["modalities"] is None:
                raise ValueError(
                    f"Candidate {entry!r} needs the column blocks: pass modalities=[width, ...] "
                    "(e.g. [384, 384] for two 384-column embeddings)."
                )
            if not installed(spec):
                missing.append((entry, f"{spec.needs} is not installed"))
                continue
            name, estimator = entry, spec.build(context)
        elif (
            isinstance(entry, tuple)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and hasattr(entry[1], "fit")
            and hasattr(entry[1], "predict")
        ):
            name, spec = entry[0], None
            estimator = _Candidate(clone(entry[1]))
        else:
            raise ValueError(
                f"candidates must hold candidate names or (name, regressor) pairs, got "
                f"{entry!r}; e.g. candidates=['ridge', ('knn', KNeighborsRegressor())]."
            )
        if name in seen or name == "ensemble":
            raise ValueError(
                f"Candidate name {name!r} is used twice (or is the reserved 'ensemble'); "
                "give each candidate its own name."
            )
        seen.add(name)
        out.append((name, spec, estimator))
    if not out:
        raise ValueError(
            "No candidate is left to fit: "
            + "; ".join(f"{n} ({r})" for n, r in missing)
            + ". Install the missing packages (pip install 'skdir[boost]') or choose "
            "other candidates."
        )
    return out, missing
