"""Search spaces: user-given spaces to Optuna distributions, and default spaces for skdir steps."""

from __future__ import annotations

import re
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

_PRIMITIVE = (type(None), bool, int, float, str)
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def stable_repr(value: Any) -> str:
    """``repr(value)`` without memory addresses, the same in every process.

    ``<function score at 0x7f...>`` becomes ``<function score>``; scikit-learn
    estimators and scorers print their parameters and need no change.
    """
    return _ADDRESS.sub("", repr(value))


class _Space:
    """A validated search space: Optuna distributions plus the objects behind categorical indices.

    Optuna stores categorical choices only when they are ``None``, bool, int, float or str.
    A list holding anything else (tuples, estimators) is searched over its indices and
    mapped back to the objects here, so ``cv_results_["params"]`` holds the objects.
    """

    def __init__(self, distributions: dict[str, BaseDistribution], choices: dict[str, list]):
        self.distributions = distributions
        self.choices = choices

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Sample one parameter setting from ``trial`` (an ``optuna.Trial``)."""
        raw = {name: _suggest(trial, name, dist) for name, dist in self.distributions.items()}
        return self.to_params(raw)

    def describe(self) -> dict[str, str]:
        """Return one text per parameter, in the notation of ``param_distributions``.

        Two spaces with the same description sample the same settings: the texts
        are stored with a study (its user attribute ``skdir_search``)
        so that a later search can tell whether the study's trials are its own.
        """
        texts = {}
        for name in sorted(self.distributions):
            dist = self.distributions[name]
            if name in self.choices:
                texts[name] = stable_repr(self.choices[name])
            elif isinstance(dist, CategoricalDistribution):
                texts[name] = repr(list(dist.choices))
            elif (isinstance(dist, FloatDistribution) and dist.step is None) or (
                isinstance(dist, IntDistribution) and dist.step == 1
            ):
                texts[name] = repr(
                    (dist.low, dist.high, "log") if dist.log else (dist.low, dist.high)
                )
            else:
                texts[name] = stable_repr(dist)
        return texts

    def to_params(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Map the values Optuna stored back to estimator parameters."""
        params = {}
        for name, value in raw.items():
            if name in self.choices:
                value = self.choices[name][int(value)]
            params[name] = value
        return params


def _suggest(trial: Any, name: str, dist: BaseDistribution) -> Any:
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    raise ValueError(f"Unsupported optuna distribution {dist!r} for {name!r}.")


def _to_distribution(name: str, value: Any) -> tuple[BaseDistribution, list | None]:
    if isinstance(value, BaseDistribution):
        return value, None
    if (
        isinstance(value, tuple)
        and len(value) in (2, 3)
        and all(isinstance(v, Real) and not isinstance(v, bool) for v in value[:2])
    ):
        low, high = value[0], value[1]
        log = False
        if len(value) == 3:
            if value[2] != "log":
                raise ValueError(
                    f"The range for {name!r} is {value!r}; a 3-tuple must be (low, high, 'log')."
                )
            log = True
        if low >= high:
            raise ValueError(f"The range for {name!r} needs low < high, got {value!r}.")
        if isinstance(low, Integral) and isinstance(high, Integral):
            return IntDistribution(int(low), int(high), log=log), None
        return FloatDistribution(float(low), float(high), log=log), None
    if isinstance(value, (list, range)):
        choices = list(value)
        if not choices:
            raise ValueError(f"The list of choices for {name!r} is empty.")
        if all(isinstance(c, _PRIMITIVE) for c in choices):
            return CategoricalDistribution(choices), None
        return CategoricalDistribution(list(range(len(choices)))), choices
    raise ValueError(
        f"Cannot search {name!r} over {value!r}: give an optuna distribution, a list of "
        "choices, or a (low, high) / (low, high, 'log') tuple."
    )


def _is_virtual_param(estimator: Any, valid: dict[str, Any], name: str) -> bool:
    """Whether ``name`` is a skorch virtual parameter (``module__*``, ``optimizer__*``...).

    skorch nets accept ``set_params(module__dropout=...)`` although ``get_params`` lists
    such a name only once it was set.
    """
    parts = name.split("__")
    for cut in range(len(parts) - 1):
        owner = estimator if cut == 0 else valid.get("__".join(parts[:cut]))
        if not hasattr(owner, "prefixes_"):
            continue
        prefixes = {*owner.prefixes_, "module", "criterion", "optimizer"}
        prefixes.update(getattr(owner, "_modules", ()), getattr(owner, "_optimizers", ()))
        if parts[cut] in prefixes:
            return True
    return False


def _valid_prefixes(estimator: Any) -> list[str]:
    params = estimator.get_params(deep=True)
    prefixes = {name.split("__")[0] for name in params}
    return sorted(prefixes)


def check_space(estimator: Any, param_distributions: Mapping[str, Any]) -> _Space:
    """Validate ``param_distributions`` against ``estimator`` and convert it.

    Parameters
    ----------
    estimator : estimator object
        The estimator whose parameters are searched.
    param_distributions : dict
        Parameter names (``get_params(deep=True)`` keys) mapped to Optuna distributions,
        lists of choices, or ``(low, high)`` / ``(low, high, "log")`` tuples.

    Returns
    -------
    space : _Space
        The distributions, and the objects of non-primitive categorical choices.
    """
    if not isinstance(param_distributions, Mapping):
        raise ValueError(
            "param_distributions must be a dict of parameter names to distributions, got "
            f"{type(param_distributions).__name__}."
        )
    if len(param_distributions) == 0:
        raise ValueError(
            "param_distributions is empty: give at least one parameter to search, e.g. "
            "{'alpha': (1e-3, 1e3, 'log')}, or use default_search_space(estimator)."
        )
    valid = estimator.get_params(deep=True)
    unknown = [
        name
        for name in param_distributions
        if name not in valid and not _is_virtual_param(estimator, valid, name)
    ]
    if unknown:
        raise ValueError(
            f"Unknown parameter(s) {sorted(unknown)} for {type(estimator).__name__}. "
            f"Valid names start with one of {_valid_prefixes(estimator)}; see "
            "estimator.get_params().keys() for the full list."
        )
    distributions, choices = {}, {}
    for name, value in param_distributions.items():
        dist, objects = _to_distribution(name, value)
        distributions[name] = dist
        if objects is not None:
            choices[name] = objects
    return _Space(distributions, choices)


# --- default spaces -----------------------------------------------------------------------


def _dir_regressor_space(estimator: Any) -> dict[str, Any]:
    from ..nn import CMixup, ConR, FeatureDistributionSmoothing, WeightedRegressionLoss
    from ..target import TargetDistributionNormalizer
    from ..weighting import LDSWeighter

    space: dict[str, Any] = {
        "lr": FloatDistribution(1e-4, 1e-2, log=True),
        "optimizer__weight_decay": FloatDistribution(1e-6, 1e-1, log=True),
        "batch_size": CategoricalDistribution([32, 64, 128, 256]),
        "module__dropout": FloatDistribution(0.0, 0.5),
        "module__hidden": [(128,), (256,), (512,), (256, 128)],
    }
    if estimator.criterion is WeightedRegressionLoss:
        space["criterion__loss"] = CategoricalDistribution(["mse", "l1", "huber", "focal_l1"])
    # a component the user left off is offered on/off with a few settings; one the user set
    # is tuned through its own parameters (its default space, reached as a child)
    offered = {
        "weighter": [LDSWeighter(sigma=sigma) for sigma in (1.0, 2.0)]
        + [LDSWeighter(reweight="inverse", clip=(5, 1000))],
        "fds": [FeatureDistributionSmoothing(sigma=sigma) for sigma in (1.0, 2.0)],
        "augment": [CMixup(bandwidth=b) for b in (0.2, 0.5, 1.0)],
        "regularizers": [[("conr", ConR(weight=w))] for w in (0.5, 1.0, 2.0)],
        "target_transformer": [
            TargetDistributionNormalizer(method=m) for m in ("standard", "robust", "yeo-johnson")
        ],
    }
    for name, choices in offered.items():
        if getattr(estimator, name) is None:
            space[name] = [None, *choices]
    return space


def _conr_space() -> dict[str, Any]:
    return {
        "weight": FloatDistribution(0.1, 10.0, log=True),
        "threshold": FloatDistribution(0.1, 1.0, log=True),
    }


def _cmixup_space() -> dict[str, Any]:
    return {
        "alpha": FloatDistribution(0.5, 4.0, log=True),
        "bandwidth": FloatDistribution(0.1, 2.0, log=True),
    }


def _fds_space() -> dict[str, Any]:
    return {
        "ks": IntDistribution(3, 9, step=2),
        "sigma": FloatDistribution(0.5, 3.0),
        "momentum": FloatDistribution(0.5, 0.99),
    }


def _smogn_space() -> dict[str, Any]:
    return {
        "k_neighbors": IntDistribution(2, 10),
        "pert": FloatDistribution(0.005, 0.1, log=True),
        "rel_thres": FloatDistribution(0.3, 0.9),
    }


def _lds_space() -> dict[str, Any]:
    return {
        "kernel": CategoricalDistribution(["gaussian", "triangular", "laplace"]),
        "ks": IntDistribution(3, 9, step=2),
        "sigma": FloatDistribution(0.5, 3.0),
        "reweight": CategoricalDistribution(["sqrt_inv", "inverse"]),
    }


def _normalizer_space() -> dict[str, Any]:
    return {"method": CategoricalDistribution(["standard", "robust", "yeo-johnson"])}


#: Default spaces by class name: matching by name keeps this module importable while
#: the classes live in modules that import it.
_DEFAULT_SPACES = {
    "DIRRegressor": _dir_regressor_space,
    "SMOGN": lambda _: _smogn_space(),
    "SMOTER": lambda _: {k: v for k, v in _smogn_space().items() if k != "pert"},
    "LDSWeighter": lambda _: _lds_space(),  # as any estimator's weighter, too
    "TargetDistributionNormalizer": lambda _: _normalizer_space(),
    "FeatureDistributionSmoothing": lambda _: _fds_space(),
    "ConR": lambda _: _conr_space(),
    "CMixup": lambda _: _cmixup_space(),
}


def _children(estimator: Any) -> list[tuple[str, Any]]:
    """Named sub-estimators that ``set_params`` reaches with a ``name__`` prefix."""
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list):
        return [(name, step) for name, step in steps if hasattr(step, "get_params")]
    children = []
    params = estimator.get_params(deep=False)
    keys = ("regressor", "transformer", "estimator", "weighter", "fds", "target_transformer")
    for key in (*keys, "augment", "regularizers"):
        value = params.get(key)
        if isinstance(value, (list, tuple)) and key in ("augment", "regularizers"):
            children.extend(
                (f"{key}__{name}", item) for name, item in value if hasattr(item, "get_params")
            )
        elif value is not None and hasattr(value, "get_params") and not isinstance(value, type):
            children.append((key, value))
    return children


def _collect(estimator: Any, prefix: str, out: dict[str, Any]) -> None:
    factory = _DEFAULT_SPACES.get(type(estimator).__name__)
    if factory is not None:
        own = estimator.get_params(deep=True)
        for name, dist in factory(estimator).items():
            if name in own or _is_virtual_param(estimator, own, name):
                out[prefix + name] = dist
    for name, child in _children(estimator):
        _collect(child, f"{prefix}{name}__", out)


def default_search_space(estimator: Any) -> dict[str, Any]:
    """Return a sensible search space for the skdir steps inside ``estimator``.

    The estimator (a pipeline, a :class:`~sklearn.compose.TransformedTargetRegressor`,
    or a single skdir estimator, nested in any combination) is walked, and every step
    recognised by its class name contributes ranges for its main knobs, keyed by the
    ``set_params`` name (``<step>__<param>``):

    - ``SMOGN``: ``k_neighbors`` 2-10, ``pert`` 0.005-0.1 (log), ``rel_thres`` 0.3-0.9
      (``SMOTER`` the same without ``pert``);
    - ``DIRRegressor``: ``lr`` 1e-4-1e-2 (log), ``optimizer__weight_decay`` 1e-6-0.1 (log),
      ``batch_size`` {32, 64, 128, 256}, ``module__dropout`` 0-0.5, ``module__hidden`` (a
      list of width tuples), ``criterion__loss`` (with the default criterion). Each
      component the regressor has *off* (``None``) is offered as a choice between off and a
      few settings: ``weighter`` (LDS with sigma 1 or 2, or inverse weights clipped to
      (5, 1000)), ``fds`` (sigma 1 or 2), ``augment`` (C-Mixup, bandwidth 0.2/0.5/1),
      ``regularizers`` (ConR, weight 0.5/1/2) and ``target_transformer``
      (``TargetDistributionNormalizer`` standard/robust/Yeo-Johnson). A component the
      regressor *has* is tuned through its own parameters, below;
    - ``LDSWeighter`` (as any estimator's ``weighter``, e.g. ``weighter__kernel``): kernel,
      ``ks``, ``sigma``, ``reweight``;
    - ``FeatureDistributionSmoothing`` (``fds__*``): ``ks``, ``sigma``, ``momentum``;
    - ``ConR`` (``regularizers__<name>__*``): ``weight`` 0.1-10 (log), ``threshold``
      0.1-1 (log); ``CMixup`` (``augment__*``): ``alpha`` 0.5-4, ``bandwidth`` 0.1-2 (log);
    - ``TargetDistributionNormalizer`` (also as a ``target_transformer``): ``method`` in
      {standard, robust, yeo-johnson}.

    Parameters
    ----------
    estimator : estimator object
        The estimator to be searched.

    Returns
    -------
    space : dict
        ``{parameter name: optuna distribution or list of choices}``; lists are used for
        choices Optuna cannot store (tuples of widths). Pass it to
        :class:`DIRSearchCV` as is, or edit it first. Empty when no skdir step is found.

    Examples
    --------
    >>> from imblearn.pipeline import Pipeline
    >>> from sklearn.linear_model import Ridge
    >>> from skdir.resampling import SMOGN
    >>> from skdir.model_selection import default_search_space
    >>> pipe = Pipeline([("smogn", SMOGN()), ("ridge", Ridge())])
    >>> sorted(default_search_space(pipe))
    ['smogn__k_neighbors', 'smogn__pert', 'smogn__rel_thres']
    """
    out: dict[str, Any] = {}
    _collect(estimator, "", out)
    return out
