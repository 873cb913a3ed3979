"""Find the label density an estimator learned from its training targets.

The shot scorers read the training label density from the fitted estimator, so
that in cross-validation each fold's shot regions come from that fold's
training targets. :func:`get_label_density` searches for it in pipelines,
TransformedTargetRegressor, searches and any fitted sub-estimators.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import validate_params

from ..density import LabelDensity


def _through(ttr: TransformedTargetRegressor, y: ArrayLike, method: str) -> NDArray[np.float64]:
    """Map targets through the TTR's fitted transformer (``transform`` as TTR.fit does)."""
    y = np.asarray(y, dtype=np.float64)
    mapped = getattr(ttr.transformer_, method)(y.reshape(-1, 1) if y.ndim == 1 else y)
    mapped = np.asarray(mapped, dtype=np.float64)
    if y.ndim == 1 and mapped.ndim == 2 and mapped.shape[1] == 1:
        mapped = mapped[:, 0]
    return mapped


class _ComposedTransform:
    """Apply target transformations in order (outermost TTR first); picklable.

    Calling it maps targets into the space of the density; :meth:`inverse` maps
    values of that space (bin edges) back to the units of the targets.
    """

    def __init__(self, ttrs: list[TransformedTargetRegressor]) -> None:
        self.ttrs = ttrs

    def __call__(self, y: ArrayLike) -> NDArray[np.float64]:
        out = np.asarray(y, dtype=np.float64)
        for ttr in self.ttrs:
            out = _through(ttr, out, "transform")
        return out

    def inverse(self, y: ArrayLike) -> NDArray[np.float64]:
        out = np.asarray(y, dtype=np.float64)
        for ttr in reversed(self.ttrs):
            out = _through(ttr, out, "inverse_transform")
        return out


#: Attributes of fitted meta-estimators that hold fitted sub-estimators, searched in order.
_SUB_ESTIMATORS = (
    "best_estimator_",  # searches
    "estimator_",  # wrappers (e.g. RFE, TransformedTargetRegressor's siblings)
    "regressor_",  # DensityWeightedRegressor, RANSAC, ...
    "weighter_",  # DensityWeightedRegressor
    "estimators_",  # VotingRegressor, StackingRegressor, bagging, MultiOutputRegressor
    "named_estimators_",  # VotingRegressor, StackingRegressor (the same objects, by name)
    "final_estimator_",  # StackingRegressor
)


def _members(value: object) -> list[object]:
    """Return the estimators an attribute holds: itself, or its list/dict/array items."""
    if value is None or isinstance(value, str):  # "drop", "passthrough"
        return []
    if isinstance(value, dict):
        items: list[object] = list(value.values())
    elif isinstance(value, np.ndarray) and value.dtype == object:
        items = list(value.ravel())  # e.g. GradientBoostingRegressor's trees
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return [value]
    out: list[object] = []
    for item in items:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[0], str):
            item = item[1]  # a (name, estimator) pair
        out.extend(_members(item))
    return out


def _find_density(
    estimator: object, seen: set[int] | None = None
) -> tuple[LabelDensity, list[TransformedTargetRegressor], str | None] | None:
    """Search depth-first for ``label_density_`` in an estimator and its fitted parts.

    Returns the density, the TransformedTargetRegressors on the way to it, and why
    the density may describe other targets than the training ones (a sampler before
    it, a bootstrap sample), or None.
    """
    seen = set() if seen is None else seen
    if id(estimator) in seen:
        return None
    seen.add(id(estimator))
    density = getattr(estimator, "label_density_", None)
    if isinstance(density, LabelDensity):
        return density, [], None
    if isinstance(estimator, TransformedTargetRegressor):
        inner = getattr(estimator, "regressor_", None)
        found = None if inner is None else _find_density(inner, seen)
        if found is None:
            return None
        return found[0], [estimator, *found[1]], found[2]
    if isinstance(estimator, Pipeline):
        resampled: str | None = None
        for _, step in estimator.steps:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            found = _find_density(step, seen)
            if found is not None:
                return found[0], found[1], found[2] or resampled
            if hasattr(step, "fit_resample"):
                resampled = (
                    f"it was fitted after the resampling step {type(step).__name__}, so it "
                    "describes the resampled training targets, not the original ones"
                )
        return None
    for attribute in _SUB_ESTIMATORS:
        try:
            held = getattr(estimator, attribute, None)
        except Exception:  # a property of an unfitted or unusual estimator
            continue
        for inner in _members(held):
            if inner is estimator:
                continue
            found = _find_density(inner, seen)
            if found is None:
                continue
            reason = found[2]
            if reason is None and attribute == "estimators_":
                if hasattr(estimator, "estimators_samples_"):
                    reason = (
                        f"it belongs to a sub-estimator of {type(estimator).__name__} fitted "
                        "on a bootstrap sample or subset of the training targets"
                    )
            return found[0], found[1], reason
    return None


@validate_params(
    {"estimator": "no_validation", "return_target_transform": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def get_label_density(
    estimator: object, *, return_target_transform: bool = False
) -> LabelDensity | tuple[LabelDensity | None, Callable | None] | None:
    """Find the label density an estimator learned from its training targets.

    skdir estimators that bin targets expose the density of the ``y`` their
    ``fit`` received as ``label_density_``. This function looks for it on the
    estimator, then inside it:

    - :class:`~sklearn.compose.TransformedTargetRegressor`: in ``regressor_``.
      That regressor was trained on *transformed* targets, so its density lives
      in the transformed space; ``return_target_transform=True`` also returns the
      callable that maps targets through the fitted ``transformer_`` (as the
      TTR's ``fit`` does) so that shot regions are looked up in the right space.
    - :class:`~sklearn.pipeline.Pipeline` and imbalanced-learn's Pipeline: in the
      steps, first to last. The first step holding a density wins: a sampler
      (a step with ``fit_resample``) changes ``y`` for the later steps, so a
      sampler's own density describes the original training targets while the
      final regressor's describes the resampled ones. When the density found
      lies after a sampler, a ``UserWarning`` says that it describes resampled
      targets.
    - any other estimator holding fitted sub-estimators, recursively, in the
      attributes ``best_estimator_``, ``estimator_``, ``regressor_``,
      ``weighter_``, ``estimators_``, ``named_estimators_`` and
      ``final_estimator_`` (searches, :class:`DensityWeightedRegressor`,
      :class:`~sklearn.ensemble.VotingRegressor`,
      :class:`~sklearn.ensemble.StackingRegressor`, ...). The first density found
      depth-first wins: the members of a voting or stacking ensemble are fitted on
      the same targets, so any of them describes the training targets (if they
      bin differently, the first member's bins are used; pass the density you want
      to the scorer with ``make_shot_scorer(..., label_density=...)`` and use an
      estimator without one). A density of a member of a bagging ensemble
      (fitted on a bootstrap sample) is used with a ``UserWarning``.

    Because the density comes from the fitted estimator, a scorer that uses it in
    ``cross_val_score`` gets the regions of the training fold, not of the test
    fold.

    Parameters
    ----------
    estimator : object
        A fitted estimator.
    return_target_transform : bool, default=False
        Also return a callable ``transform(y)`` that maps targets into the space
        of the density (the identity when no TransformedTargetRegressor is on the
        way); ``transform.inverse(values)`` maps values of that space back.

    Returns
    -------
    label_density : LabelDensity or None
        The training density, or None when none is found.
    transform : callable or None
        Only with ``return_target_transform=True``; None when no density is found.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skdir.metrics import get_label_density
    >>> get_label_density(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])) is None
    True
    """
    found = _find_density(estimator)
    if found is None:
        return (None, None) if return_target_transform else None
    density, ttrs, caveat = found
    if caveat:
        warnings.warn(
            f"The label density found in {type(estimator).__name__} may not describe its "
            f"training targets: {caveat}; shot regions from it differ from those of the "
            "training data. Give the sampler a label density, or pass the training density "
            "to the scorer explicitly (make_shot_scorer(..., label_density=...)).",
            UserWarning,
            stacklevel=3,
        )
    if return_target_transform:
        return density, _ComposedTransform(ttrs)
    return density
