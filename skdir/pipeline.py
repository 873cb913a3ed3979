"""A Pipeline whose samplers carry ``sample_weight`` along with the rows.

imbalanced-learn's :class:`imblearn.pipeline.Pipeline` hands a sampler exactly
``(X, y)`` and gives the steps after it the weights of the *original* rows: they
fail with a length error when the sampler changed the row count, and silently
weight the wrong rows when it did not. :class:`Pipeline` here is that Pipeline
with one change: every ``sample_weight`` that reaches a step after a sampler
(``ridge__sample_weight=w``, or ``sample_weight=w`` routed under metadata
routing) is resampled with the rows first, so row ``i`` of the step's input
gets the weight of the training row(s) it came from.

Where the rows come from:

* skdir samplers (:mod:`skdir.resampling`) record ``parent_indices_`` and
  ``parent_mixing_``: a kept, copied or noise row gets its parent's weight, a
  row interpolated between ``p0`` and ``p1`` with factor ``m`` gets
  ``(1 - m) w[p0] + m w[p1]``, the same mix as its target.
* Other samplers that expose ``sample_indices_`` (imbalanced-learn's random
  and prototype-selection samplers) give each row the weight of its source row.
* A sampler that exposes neither (e.g. imbalanced-learn's ``SMOTE``) cannot be
  matched to its input rows: a ``ValueError`` names it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from imblearn import pipeline as imb_pipeline
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from sklearn import get_config
from sklearn.base import clone
from sklearn.utils import Bunch
from sklearn.utils.validation import check_memory

from .resampling import BaseRegressionSampler

__all__ = ["Pipeline", "make_pipeline", "resample_weights"]

WEIGHT = "sample_weight"


class Pipeline(imb_pipeline.Pipeline):
    """imbalanced-learn's Pipeline, with ``sample_weight`` resampled through samplers.

    The steps, parameters and methods are those of
    :class:`imblearn.pipeline.Pipeline`: transformers and samplers one after the
    other, samplers applied in ``fit`` only (never in ``predict`` or
    ``score``), so cross-validated scores use untouched test folds. The one
    difference is in ``fit`` (and ``fit_transform``, ``fit_predict``,
    ``fit_resample``): a ``sample_weight`` given to a step after a sampler is
    first resampled with the rows.

    Without metadata routing, pass weights as ``<step>__sample_weight`` to the
    step that uses them; with it, pass ``sample_weight=`` to ``fit`` and
    request it on that step (``est.set_fit_request(sample_weight=True)``).
    skdir samplers request ``sample_weight`` in ``fit_resample`` by default
    (so that imbalanced-learn's own Pipeline rejects it instead of misaligning
    it); here they never receive it: the Pipeline resamples the weights itself
    and removes them from the sampler's parameters. If the weights reach only
    such samplers and no step that uses them, ``fit`` raises rather than
    ignoring them.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        The transformers, samplers and final estimator, in order, as in
        :class:`imblearn.pipeline.Pipeline`.
    transform_input : list of str, default=None
        Metadata names transformed by the preceding transformers before they
        reach a step (metadata routing only), as in
        :class:`imblearn.pipeline.Pipeline`. Samplers do not resample such
        metadata; only ``sample_weight`` follows the rows.
    memory : None, str or object with the joblib.Memory interface, default=None
        Caches the fitted transformers and samplers.
    verbose : bool, default=False
        Print the time each step takes to fit.

    Attributes
    ----------
    named_steps : :class:`~sklearn.utils.Bunch`
        The steps by name.
    n_features_in_ : int
        Number of features seen by the first step.
    feature_names_in_ : ndarray of str
        Column names seen by the first step, if it records them.

    See Also
    --------
    make_pipeline : Build a Pipeline with step names made from the classes.
    resample_weights : The same weight resampling for one ``fit_resample`` call.

    Notes
    -----
    Only ``sample_weight`` is resampled. Any other per-row fit parameter given
    to a step after a sampler (group labels, an offset per row, ...) still
    describes the original rows; compute it after resampling instead.

    An interpolated row takes the mix ``(1 - m) w[p0] + m w[p1]`` of its
    parents' weights with the factor ``m`` of its target, rather than its
    seed's weight alone: the weight moves continuously with the row's place
    between its parents, stays within the parents' weights, and a weight that
    is a linear function of ``y`` stays that function of the new ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skdir.pipeline import make_pipeline
    >>> from skdir.resampling import RandomOverSampler
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3)); y = np.exp(X[:, 0])
    >>> w = np.where(X[:, 1] > 0, 2.0, 1.0)
    >>> model = make_pipeline(RandomOverSampler(random_state=0), Ridge())
    >>> model = model.fit(X, y, ridge__sample_weight=w)

    Ridge was fitted on 342 rows, each weighted like the row it copies:

    >>> sampler = RandomOverSampler(random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> len(y_res)
    342
    >>> by_hand = Ridge().fit(X_res, y_res, sample_weight=w[sampler.sample_indices_])
    >>> bool(np.allclose(model[-1].coef_, by_hand.coef_))
    True
    """

    def _fit(
        self,
        X: Any,
        y: Any = None,
        routed_params: dict | None = None,
        raw_params: dict | None = None,
    ) -> tuple[Any, Any]:
        self.steps = list(self.steps)
        self._validate_steps()
        routing = get_config()["enable_metadata_routing"]
        _check_sampler_params(self.steps, routed_params, routing)
        # skdir samplers request sample_weight in fit_resample only so that
        # imbalanced-learn's Pipeline rejects it; here they do not get it (the weights
        # follow the rows instead), so such a request does not count as a use.
        declined = [
            name
            for name, step in self.steps
            if isinstance(step, BaseRegressionSampler)
            and routed_params.get(name, {}).get("fit_resample", {}).get(WEIGHT) is not None
        ]
        weighted = [
            _has_weight(routed_params.get(name), skip="fit_resample" if name in declined else None)
            for name, _ in self.steps
        ]
        if declined and not any(weighted):
            raise ValueError(
                f"sample_weight was routed only to the sampler step(s) {declined}, which do "
                "not use it, and to no step that does. Request it on the step to weight "
                "(e.g. est.set_fit_request(sample_weight=True)); if the weights are meant "
                "for something else (a scorer), call "
                "sampler.set_fit_resample_request(sample_weight=False)."
            )
        memory = check_memory(self.memory)
        fit_transform_cached = memory.cache(_fit_transform_step)
        fit_resample_cached = memory.cache(_fit_resample_step)
        # rows: sparse (rows now, rows entering the first sampler) map; None before it.
        rows: sparse.csr_array | None = None
        for step_idx, name, step in self._iter(
            with_final=False, filter_passthrough=False, filter_resample=False
        ):
            if step is None or step == "passthrough":
                with _timed(self._log_message(step_idx)):
                    continue
            if hasattr(memory, "location") and memory.location is None:
                fitted = step  # no caching: fit in place, as imbalanced-learn does
            else:
                fitted = clone(step)
            message = self._log_message(step_idx)
            if hasattr(fitted, "transform") or hasattr(fitted, "fit_transform"):
                params = self._get_metadata_for_step(
                    step_idx=step_idx, step_params=routed_params[name], all_params=raw_params
                )
                params = _align(params, rows, name)
                X, fitted = fit_transform_cached(fitted, X, y, message, params)
            elif hasattr(fitted, "fit_resample"):
                params = _align(routed_params[name], rows, name)
                resample_params = dict(params.get("fit_resample", {}))
                if name in declined:
                    del resample_params[WEIGHT]
                X_in = X
                X, y, fitted = fit_resample_cached(fitted, X, y, message, resample_params)
                if any(weighted[step_idx + 1 :]):  # a later step needs the rows' origin
                    step_rows = _row_map(fitted, _num_rows(X_in), _num_rows(X), name)
                    if rows is None:
                        rows = step_rows
                    else:
                        rows = step_rows @ rows
            self.steps[step_idx] = (name, fitted)
        final = self.steps[-1][0]
        if rows is not None and final in routed_params:
            # read by fit/fit_transform/fit_predict/fit_resample after _fit returns
            routed_params[final] = _align(routed_params[final], rows, final)
        return X, y


def make_pipeline(
    *steps: Any,
    memory: Any = None,
    transform_input: list[str] | None = None,
    verbose: bool = False,
) -> Pipeline:
    """Build a :class:`Pipeline` from estimators, naming each step after its class.

    The skdir counterpart of :func:`imblearn.pipeline.make_pipeline`: the same
    steps and names, but a ``sample_weight`` given to a step after a sampler
    is resampled with the rows (see :class:`Pipeline`).

    Parameters
    ----------
    *steps : list of estimators
        Transformers, samplers and a final estimator, in order.
    memory : None, str or object with the joblib.Memory interface, default=None
        Caches the fitted transformers and samplers.
    transform_input : list of str, default=None
        Metadata names transformed by the preceding transformers (metadata
        routing only).
    verbose : bool, default=False
        Print the time each step takes to fit.

    Returns
    -------
    pipeline : Pipeline
        The unfitted pipeline, steps named by their lowercased class names.

    See Also
    --------
    Pipeline : The pipeline, with its weight handling.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skdir.pipeline import make_pipeline
    >>> from skdir.resampling import SMOGN
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3)); y = np.exp(X[:, 0])
    >>> model = make_pipeline(SMOGN(random_state=0), Ridge())
    >>> [name for name, _ in model.steps]
    ['smogn', 'ridge']
    >>> model = model.fit(X, y, ridge__sample_weight=np.linspace(1, 2, 200))
    >>> model.predict(X[:2]).shape
    (2,)
    """
    named = imb_pipeline.make_pipeline(*steps).steps  # the same step names
    return Pipeline(named, memory=memory, transform_input=transform_input, verbose=verbose)


def resample_weights(sampler: Any, sample_weight: ArrayLike) -> NDArray[np.float64]:
    """Return the weights of the rows made by a sampler's last ``fit_resample``.

    Row ``r`` of the output gets ``(1 - m) w[p0] + m w[p1]`` with
    ``(p0, p1) = parent_indices_[r]`` and ``m = parent_mixing_[r]`` (skdir
    samplers: the parents' weights mixed like the targets, the parent's weight
    for kept, copied and noise rows), or ``w[sample_indices_[r]]`` for a
    sampler that exposes ``sample_indices_`` only. This is what
    :class:`Pipeline` does between steps.

    Parameters
    ----------
    sampler : object
        A sampler after ``fit_resample``.
    sample_weight : array-like of shape (n_samples,)
        Weights of the rows given to ``fit_resample``.

    Returns
    -------
    sample_weight_resampled : ndarray of shape (n_samples_new,)
        Weights of the resampled rows, in their order.

    Raises
    ------
    ValueError
        If the sampler exposes neither ``parent_indices_`` nor
        ``sample_indices_``, or the weights do not match its input rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.pipeline import resample_weights
    >>> from skdir.resampling import SMOTER
    >>> X = np.array([[0.0, 0.0], [3.0, 4.0]] + [[0.1 * k, 0.0] for k in range(8)])
    >>> y = np.array([10.0, 20.0] + [1.0] * 4 + [1.5] * 4)
    >>> sampler = SMOTER(relevance=[[5, 0, 0], [10, 1, 0]], k_neighbors=1,
    ...                  sampling_strategy={"rare": 2.0}, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> w_res = resample_weights(sampler, y)  # weights equal to the targets...
    >>> bool(np.allclose(w_res, y_res))  # ...are mixed exactly like them
    True
    """
    weights = _check_weights(sample_weight, "resample_weights")
    if isinstance(sampler, BaseRegressionSampler) and not hasattr(sampler, "parent_indices_"):
        raise ValueError(
            f"{type(sampler).__name__} has not resampled yet; call fit_resample(X, y) first "
            "(fit alone makes no rows)."
        )
    n_in = len(sampler.segment_) if hasattr(sampler, "segment_") else len(weights)
    if len(weights) != n_in:
        raise ValueError(
            f"sample_weight has {len(weights)} entries but {type(sampler).__name__} was "
            f"fitted on {n_in} rows; pass the weights of the rows given to fit_resample."
        )
    return _row_map(sampler, n_in, None, type(sampler).__name__) @ weights


# ------------------------------------------------------------------ helpers
@contextmanager
def _timed(message: str | None) -> Iterator[None]:
    """Print how long the block took, as ``verbose=True`` pipelines do (None: silent)."""
    start = time.perf_counter()
    yield
    if message is not None:
        print(f"[Pipeline] {message}, total={time.perf_counter() - start:.1f}s")


def _fit_transform_step(transformer: Any, X: Any, y: Any, message: str | None, params: dict):
    with _timed(message):
        if hasattr(transformer, "fit_transform"):
            Xt = transformer.fit_transform(X, y, **params.get("fit_transform", {}))
        else:
            Xt = transformer.fit(X, y, **params.get("fit", {})).transform(
                X, **params.get("transform", {})
            )
    return Xt, transformer


def _fit_resample_step(sampler: Any, X: Any, y: Any, message: str | None, params: dict):
    with _timed(message):
        X_res, y_res = sampler.fit_resample(X, y, **params)
    return X_res, y_res, sampler


def _num_rows(X: Any) -> int:
    """Rows of X: an array, a DataFrame, a list of rows or bags, or an array-like."""
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    if hasattr(X, "__len__"):
        return len(X)
    return int(np.asarray(X).shape[0])


def _has_weight(step_params: Any, skip: str | None = None) -> bool:
    """Whether any method of a step (but ``skip``) receives a (non-None) sample_weight."""
    if not step_params:
        return False
    return any(
        isinstance(method_params, dict) and method_params.get(WEIGHT) is not None
        for method, method_params in step_params.items()
        if method != skip
    )


def _check_sampler_params(steps: list, routed_params: dict, routing: bool) -> None:
    """Reject fit parameters addressed to a sampler step without routing.

    imbalanced-learn passes a sampler only what routing sends to its
    ``fit_resample``: ``smogn__sample_weight=w`` would be dropped without a word.
    """
    if routing:
        return
    for name, step in steps:
        if not hasattr(step, "fit_resample") or hasattr(step, "transform"):
            continue
        given = sorted(routed_params.get(name, {}).get("fit", {}))
        if given:
            raise ValueError(
                f"Step {name!r} is a sampler and receives no fit parameters, got {given} "
                f"(as {name}__<param>). A sample_weight goes to the step that uses it, "
                "e.g. '<final step>__sample_weight'; the Pipeline resamples it through "
                "every sampler before that step."
            )


def _check_weights(value: Any, where: str) -> NDArray[np.float64]:
    weights = np.asarray(value, dtype=np.float64)
    if weights.ndim != 1:
        raise ValueError(
            f"sample_weight for {where} must be 1-D (one weight per row), got shape "
            f"{weights.shape}."
        )
    return weights


def _align(step_params: Any, rows: sparse.csr_array | None, name: str) -> Any:
    """Return the step's parameters with every sample_weight resampled by ``rows``."""
    if rows is None or not _has_weight(step_params):
        return step_params
    aligned = Bunch()
    cache: dict[int, NDArray[np.float64]] = {}
    for method, method_params in step_params.items():
        value = method_params.get(WEIGHT) if isinstance(method_params, dict) else None
        if value is None or np.ndim(value) == 0:  # a scalar weights every row alike
            aligned[method] = method_params
            continue
        if id(value) not in cache:
            weights = _check_weights(value, f"step {name!r}")
            if len(weights) != rows.shape[1]:
                raise ValueError(
                    f"sample_weight for step {name!r} has {len(weights)} entries, but "
                    f"{rows.shape[1]} rows entered the first sampler; pass one weight per "
                    "row of the X given to fit."
                )
            cache[id(value)] = rows @ weights
        aligned[method] = {**method_params, WEIGHT: cache[id(value)]}
    return aligned


def _row_map(sampler: Any, n_in: int, n_out: int | None, name: str) -> sparse.csr_array:
    """Return the sparse (n_out, n_in) matrix mapping input-row values to output rows."""
    label = f"{name!r} ({type(sampler).__name__})" if name != type(sampler).__name__ else name
    parents = getattr(sampler, "parent_indices_", None)
    if parents is not None:
        parents = np.asarray(parents, dtype=np.intp)
        mixing = np.asarray(sampler.parent_mixing_, dtype=np.float64)
        cols = parents.ravel()
        values = np.column_stack([1.0 - mixing, mixing]).ravel()
        n_rows = len(parents)
        rows = np.repeat(np.arange(n_rows), 2)
    elif getattr(sampler, "sample_indices_", None) is not None:
        cols = np.asarray(sampler.sample_indices_, dtype=np.intp).ravel()
        n_rows = len(cols)
        rows, values = np.arange(n_rows), np.ones(n_rows)
    else:
        raise ValueError(
            f"Sampler {label} exposes neither parent_indices_ (skdir samplers) nor "
            "sample_indices_ (e.g. imbalanced-learn's RandomOverSampler or "
            "RandomUnderSampler), so its output rows cannot be matched to its input rows "
            "and a sample_weight given to a later step cannot follow them. Use a sampler "
            "that records where its rows come from (skdir.resampling), or drop "
            "sample_weight and compute weights in the final estimator from the resampled "
            "y (skdir.weighting.DensityWeightedRegressor, DIRRegressor(weighter=LDSWeighter()))."
        )
    if (n_out is not None and n_rows != n_out) or np.any((cols < 0) | (cols >= n_in)):
        raise ValueError(
            f"Sampler {label} reports the origin of {n_rows} rows with parents in "
            f"[{cols.min(initial=0)}, {cols.max(initial=0)}], but its last fit_resample "
            f"turned {n_in} rows into {n_out}; it cannot carry sample_weight."
        )
    return sparse.csr_array((values, (rows, cols)), shape=(n_rows, n_in))
