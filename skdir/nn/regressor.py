"""``DIRRegressor``: a skorch regressor whose DIR techniques are components."""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from ..density import LabelDensity
from ..weighting import fit_training_weights
from ._bags import bag_attention
from ._data import DataMixin
from ._runtime import RuntimeMixin, check_device
from .base import NEEDS, TrainingBatch
from .fds import FDSUpdate, FeatureDistributionSmoothing
from .losses import WeightedRegressionLoss
from .modules import MLP, AttentionMIL, FusionTransformer, InteractionMLP, TwoTower
from .set_modules import SetTransformer

__all__ = ["DIRRegressor"]

_MODULES = {
    "interaction_mlp": InteractionMLP,
    "mlp": MLP,
    "two_tower": TwoTower,
    "fusion_transformer": FusionTransformer,
    "attention_mil": AttentionMIL,
    "set_transformer": SetTransformer,
}
#: Fewest samples with which an internal validation split is attempted.
_MIN_SAMPLES_FOR_SPLIT = 5
#: Parameters that change how the network is trained, not what it is: changing
#: them on a fitted regressor keeps the network for ``partial_fit``.
_TRAINING_SETTINGS = frozenset(
    {
        "lr",
        "lr_schedule",
        "max_epochs",
        "batch_size",
        "verbose",
        "patience",
        "early_stopping",
        "validation_fraction",
        "train_split",
        "random_state",
        "warm_start",
    }
)
#: Parameters holding technique objects whose own parameters are set with ``__``.
_COMPONENTS = ("weighter", "fds", "regularizers", "augment", "target_transformer", "label_density")
#: Names of the criterion's constructor arguments the regressor fills from the data.
_PRIOR_ARGS = ("prior_locations", "prior_probs", "prior_scales")


class _CosineSchedule(Callback):
    """Anneal every learning rate by ``(1 + cos(pi * e / max_epochs)) / 2`` at epoch ``e``.

    ``e`` counts the epochs of the current ``fit``/``partial_fit`` call from 0;
    the rates set by the optimizer's construction are restored when the call
    ends, so the next call anneals from them again.
    """

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        self.base_lrs_ = [group["lr"] for group in net.optimizer_.param_groups]
        self.epoch_ = 0

    def on_epoch_begin(self, net: Any, **kwargs: Any) -> None:
        total = max(int(net.max_epochs), 1)
        factor = 0.5 * (1.0 + math.cos(math.pi * min(self.epoch_, total) / total))
        for group, base in zip(net.optimizer_.param_groups, self.base_lrs_, strict=True):
            group["lr"] = base * factor

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        self.epoch_ += 1

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        for group, base in zip(net.optimizer_.param_groups, self.base_lrs_, strict=True):
            group["lr"] = base


def _fit_module_inputs(net: Any, X: Any, y: Any) -> None:
    """Fit the module's input statistics (``fit_inputs``) unless they are fitted."""
    module = net.module_
    if not hasattr(module, "fit_inputs") or getattr(module, "inputs_fitted", False):
        return
    per_target = net._output_multiplier() if y is not None else 1
    if per_target > 1:  # e.g. quantiles: each output starts at its target's statistics
        y = np.repeat(np.asarray(y).reshape(len(y), -1), per_target, axis=1)
    module.fit_inputs(X["X"] if isinstance(X, Mapping) else X, y)


class _FitModuleInputs(Callback):
    """Fit a module's input statistics (``fit_inputs``) once, before its first training epoch."""

    def on_train_begin(self, net: Any, X: Any = None, y: Any = None, **kwargs: Any) -> None:
        _fit_module_inputs(net, X, y)


def _n_members(module: Any) -> int:
    """Return the number of ensemble members of a module (1 unless it has ``n_ensemble``)."""
    return int(getattr(module, "n_ensemble", 1))


def _never(_: Any) -> bool:
    return False


def _named(value: Any, parameter: str) -> list[tuple[str, Any]]:
    """Return a component list as ``(name, object)`` pairs; a single object is named by class."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return [(type(value).__name__.lower(), value)]
    pairs = []
    for entry in value:
        pair = isinstance(entry, (list, tuple)) and len(entry) == 2
        if not (pair and isinstance(entry[0], str)):
            raise ValueError(
                f"{parameter} must be None, one object or a list of (name, object) pairs, "
                f"got the entry {entry!r}."
            )
        pairs.append((entry[0], entry[1]))
    names = [name for name, _ in pairs]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated or any("__" in name for name in names):
        raise ValueError(
            f"{parameter} names must be unique and free of '__', got {names}; rename "
            f"{duplicated or [n for n in names if '__' in n]}."
        )
    return pairs


class DIRRegressor(DataMixin, RuntimeMixin, NeuralNetRegressor):
    """Neural regressor for deep imbalanced regression, usable like any sklearn regressor.

    A :class:`skorch.NeuralNetRegressor` that takes numpy/pandas input as it is
    (float64 is cast to float32, 1-D ``y`` is reshaped, predictions come back as
    float64 in the shape of the fitted ``y``), sizes its network from the data,
    and takes each technique of deep imbalanced regression as a *component*: an
    object passed as a parameter whose own parameters are reachable with ``__``
    (``weighter__sigma``, ``fds__momentum``, ``regularizers__conr__weight``,
    ``augment__bandwidth``, ``criterion__form``), so that ``set_params``,
    ``GridSearchCV`` and Optuna tune every setting:

    - ``weighter``: sample weights from the training targets, by the code of
      :mod:`skdir.weighting` (:class:`~skdir.weighting.LDSWeighter` for LDS,
      Yang et al., ICML 2021; :class:`~skdir.weighting.DenseWeighter`), for the
      training rows and the ``eval_set`` alike, times any ``sample_weight``;
      the batch loss is ``mean(w * loss)``.
    - ``fds``: :class:`~skdir.nn.fds.FeatureDistributionSmoothing` between the
      penultimate features and the output layer, its statistics refreshed by a
      skorch callback at each epoch end.
    - ``criterion``: a loss class, ``criterion=BalancedMSELoss`` (Ren et al.,
      CVPR 2022) with ``criterion__form="gai"``,
      ``criterion__loss="focal_l1"`` (Focal-R) or ``"huber"`` for the default
      :class:`~skdir.nn.losses.WeightedRegressionLoss`,
      :class:`~skdir.nn.losses.UncertaintyWeightedLoss` for several targets.
      The criterion is called as ``criterion_(pred, target, weight)``;
      constructor arguments named ``n_outputs`` and ``prior_locations``,
      ``prior_probs``, ``prior_scales`` (the training label distribution in the
      network's target space, from ``label_density_``) are filled in from the
      data unless given. :class:`~skdir.nn.losses.PinballLoss`
      (``criterion__quantiles=(0.05, 0.5, 0.95)``) trains several quantiles per
      target in one network: a criterion with ``output_multiplier(**params)``
      gets that many outputs per target, ``predict`` returns its quantile
      nearest 0.5 and :meth:`predict_quantiles` all of them (for
      ``ConformalDIRRegressor(conformity_score="cqr")``).
    - ``regularizers``: ``[(name, Regularizer), ...]`` added to the training
      loss: :class:`~skdir.nn.regularizers.RankSim`,
      :class:`~skdir.nn.regularizers.ConR`,
      :class:`~skdir.nn.regularizers.FeatureNormOrder`, or a class of your own
      (:class:`~skdir.nn.base.Regularizer`).
    - ``augment``: one :class:`~skdir.nn.base.Augmentation` or
      ``[(name, Augmentation), ...]`` applied to training batches in order:
      :class:`~skdir.nn.augment.Mixup`, :class:`~skdir.nn.augment.CMixup`
      (Yao et al., NeurIPS 2022), :class:`~skdir.nn.augment.GaussianNoise`,
      :class:`~skdir.nn.augment.FeatureDropout`, or a class of your own. Mixing
      augmentations run once per batch, per-view ones (noise, dropout) after
      them and again for the second view that ConR contrasts.

    Every component combines with the others, for 1-D and 2-D ``y``. Distances
    between targets (RankSim, ConR, C-Mixup) are measured on the network's
    targets (after ``target_transformer``) divided by their training standard
    deviation, per target. Label density, weights and FDS bins are computed on
    ``y`` as given to ``fit``; with ``target_transformer`` the network learns
    transformed targets and predictions are transformed back.

    By default training stops early: 10% of the training rows (seeded by
    ``random_state``) are held out, the loss on them is monitored, and the
    weights of the best epoch are restored. Pass ``eval_set=(X_val, y_val)`` to
    ``fit`` to monitor a validation set of your own instead.

    ``set_params`` on a fitted regressor does not rebuild it: a change of the
    model (module, criterion, a component) takes effect at the next ``fit`` or
    ``partial_fit``, which then trains from scratch; training settings (``lr``,
    ``max_epochs``, ...) apply to the current network.

    Persistence: ``pickle``/``joblib`` round-trip a fitted regressor (load only
    files you trust: unpickling runs code). A pickle holds what ``predict`` needs
    (the network, the fitted components, the history), about the size of the
    network's parameters; the optimizer state and the FDS statistics are left
    out, so a ``partial_fit`` after loading continues from the trained weights
    with a fresh optimizer and FDS statistics gathered anew. For exchanging weights safely, use
    ``save_params(f_params=..., use_safetensors=True)``, then re-create the
    estimator with the same parameters, fit it on a small sample of the same
    shape, and ``load_params``.

    Parameters
    ----------
    module : str or torch.nn.Module class, default="interaction_mlp"
        The network, by name (``"interaction_mlp"``, ``"mlp"``, ``"two_tower"``,
        ``"fusion_transformer"``, ``"attention_mil"``, ``"set_transformer"``):
        :class:`~skdir.nn.InteractionMLP`
        (robust input scaling, products of correlated column pairs, output in the
        units of the training targets; fitted on the training rows when training
        starts), :class:`~skdir.nn.MLP`, :class:`~skdir.nn.TwoTower` (needs
        ``module__modalities``), :class:`~skdir.nn.FusionTransformer`,
        :class:`~skdir.nn.AttentionMIL` (then ``X`` is bags: a list of 2-D arrays
        or a 3-D array padded with all-NaN rows; see :meth:`attention_weights`),
        :class:`~skdir.nn.SetTransformer` (bags, for targets that depend on how
        the fragments relate),
        or a module *class* (not an instance, whose trained weights would leak
        across ``clone``). It is built with ``n_features`` and ``n_outputs``
        from the data when its constructor accepts them, plus the ``module__*``
        parameters. FDS and the feature regularisers need a module with
        ``features(X)``, ``head(z)`` and ``embedding_dim`` (as the built-in ones).
    criterion : class, default=WeightedRegressionLoss
        The loss class (not an instance); its parameters as ``criterion__*``. A
        class whose static ``is_pairwise(**criterion_params)`` returns True
        (Balanced MSE's batch Monte Carlo form) compares the samples of a batch,
        and ``batch_size=1`` is then refused.
    optimizer : class, default=torch.optim.AdamW
        Torch optimizer; its parameters as ``optimizer__*``.
    lr : float, default=1e-3
        Learning rate (at the start of the schedule).
    max_epochs : int, default=256
        Most epochs to train.
    batch_size : int, default=64
        Mini-batch size.
    weighter : estimator or None, default=None
        Sample weighter with ``fit(y)`` and ``transform(y)``, such as
        :class:`~skdir.weighting.LDSWeighter`; cloned and fitted on the training
        targets (``weighter_``). A weighter declaring ``needs = {"X"}``
        (:class:`~skdir.weighting.FeatureDensityWeighter`) is fitted on the
        training inputs and targets (2-D inputs only).
    fds : FeatureDistributionSmoothing or None, default=None
        Feature distribution smoothing; cloned and fitted (``fds_``).
    regularizers : list of (str, Regularizer) or None, default=None
        Loss terms on the penultimate features; cloned (``regularizers_``).
    augment : Augmentation, list of (str, Augmentation) or None, default=None
        Training-batch augmentations; cloned (``augment_``). A single object's
        parameters are ``augment__*``, a listed one's ``augment__<name>__*``.
    target_transformer : transformer or None, default=None
        Fitted on the 2-D targets; the network learns the transformed targets and
        predictions are inverse-transformed (e.g. ``StandardScaler()`` or
        :class:`skdir.target.TargetDistributionNormalizer`).
    label_density : LabelDensity or None, default=None
        Bins of ``label_density_``, the density of the training targets that
        scorers read for shot regions, Balanced MSE's GAI/BNI prior and the
        label bins of regularisers that need them; None means
        ``LabelDensity()`` (50 equal-width bins per target).
    early_stopping : bool, default=True
        Stop when the validation loss has not improved for ``patience`` epochs
        and restore the best weights.
    validation_fraction : float or None, default=0.1
        Share of the training rows held out for early stopping when no
        ``eval_set`` is given to ``fit``. None or 0 trains on all rows (then
        set ``early_stopping=False``).
    patience : int, default=40
        Epochs without improvement before stopping.
    lr_schedule : {"cosine"} or None, default="cosine"
        ``"cosine"`` anneals the learning rate of every parameter group from its
        value to 0 over ``max_epochs`` epochs, ``(1 + cos(pi * epoch /
        max_epochs)) / 2`` times the start value (Loshchilov & Hutter, "SGDR",
        ICLR 2017, without restarts), and starts anew at each ``fit`` or
        ``partial_fit`` call; None keeps the rate constant.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling, augmentations and the
        validation split; two fits with the same integer give identical
        predictions on CPU (on CUDA, also set
        ``torch.use_deterministic_algorithms(True)``). The caller's global torch
        random state is left untouched.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU; the choice is stored
        in ``device_`` and the parameter is left as it is. Otherwise a torch
        device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``); an
        unknown device, or CUDA on a machine without it, is a ``ValueError``
        at ``fit``.
    train_split : callable or None, default=None
        skorch's validation split; None uses ``validation_fraction``.
    verbose : int, default=0
        1 prints skorch's table of losses per epoch.
    **kwargs
        Further skorch parameters (``module__*``, ``criterion__*``,
        ``optimizer__*``, ``iterator_train__*``, ``callbacks``...). Training
        batches are shuffled.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    criterion_ : torch.nn.Module
        The loss (e.g. ``criterion_.weighting.weights`` of an
        :class:`~skdir.nn.losses.UncertaintyWeightedLoss`).
    n_features_in_ : int
        Number of input columns.
    n_outputs_ : int
        Number of targets.
    label_density_ : LabelDensity or None
        Density of the training targets; None when it cannot be formed (more
        than two targets, or a constant target) and nothing needs it.
    weighter_ : estimator or None
        The fitted weighter.
    fds_ : FeatureDistributionSmoothing or None
        The fitted FDS component (its bins); the torch layer is
        ``feature_smoothing_``.
    feature_smoothing_ : FDSLayer
        The FDS layer (only with ``fds``).
    regularizers_ : dict of str to Regularizer
        The fitted regularisers (e.g. the norm lines of
        :class:`~skdir.nn.regularizers.FeatureNormOrder`).
    augment_ : list of Augmentation
        The augmentations used in training, in order.
    target_transformer_ : transformer or None
        The fitted ``target_transformer``.
    device_ : str
        The torch device used.
    history_ : skorch.History
        Losses per epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.nn import DIRRegressor
    >>> from skdir.nn.augment import CMixup
    >>> from skdir.weighting import LDSWeighter
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 5))
    >>> y = X[:, 0] + 0.1 * rng.normal(size=100)
    >>> reg = DIRRegressor(weighter=LDSWeighter(), augment=CMixup(), max_epochs=20,
    ...                    random_state=0, device="cpu")
    >>> reg.set_params(weighter__sigma=1.0).fit(X, y).predict(X[:3]).shape
    (3,)
    >>> reg.score(X, y) > 0.8
    True
    """

    _dir_parameter_constraints: dict = {
        "weighter": [HasMethods(["fit", "transform"]), None],
        "fds": [FeatureDistributionSmoothing, None],
        "regularizers": [list, tuple, None],
        "augment": [callable, list, tuple, None],
        "target_transformer": [HasMethods(["fit", "transform", "inverse_transform"]), None],
        "label_density": [LabelDensity, None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "lr_schedule": [StrOptions({"cosine"}), None],
        "random_state": ["random_state"],
        "lr": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"-1"})],
    }

    def __init__(
        self,
        module: str | type = "interaction_mlp",
        *args: Any,
        criterion: type = WeightedRegressionLoss,
        optimizer: type = torch.optim.AdamW,
        lr: float = 1e-3,
        max_epochs: int = 256,
        batch_size: int = 64,
        weighter: Any = None,
        fds: FeatureDistributionSmoothing | None = None,
        regularizers: list[tuple[str, Any]] | None = None,
        augment: Any = None,
        target_transformer: Any = None,
        label_density: LabelDensity | None = None,
        early_stopping: bool = True,
        validation_fraction: float | None = 0.1,
        patience: int = 40,
        lr_schedule: str | None = "cosine",
        random_state: int | np.random.RandomState | None = None,
        device: str = "auto",
        train_split: Any = None,
        verbose: int = 0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("iterator_train__shuffle", True)
        super().__init__(
            module,
            *args,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        self.weighter = weighter
        self.fds = fds
        self.regularizers = regularizers
        self.augment = augment
        self.target_transformer = target_transformer
        self.label_density = label_density
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.random_state = random_state

    # ------------------------------------------------------------ sklearn API
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags

    # skorch's regressor predict goes through predict_proba; a regressor has none
    # (and the common checks call it whenever it exists).
    predict_proba = available_if(_never)(NeuralNetRegressor.predict_proba)

    def get_params(self, deep: bool = True, **kwargs: Any) -> dict[str, Any]:
        """Return the parameters, with those of listed components as ``<list>__<name>__*``."""
        params = super().get_params(deep=deep, **kwargs)
        if deep:
            for parameter in ("regularizers", "augment"):
                value = getattr(self, parameter, None)
                if not isinstance(value, (list, tuple)):
                    continue
                try:
                    pairs = _named(value, parameter)
                except ValueError:  # malformed: reported by fit, never by get_params
                    continue
                for name, component in pairs:
                    params[f"{parameter}__{name}"] = component
                    if hasattr(component, "get_params"):
                        for key, item in component.get_params(deep=True).items():
                            params[f"{parameter}__{name}__{key}"] = item
        return params

    def set_params(self, **params: Any) -> DIRRegressor:
        """Set parameters; they take effect at the next :meth:`fit`.

        A fitted ``DIRRegressor`` is not rebuilt here: its network, label
        density and FDS layer are sized and binned from the training data,
        which ``set_params`` does not have. A change of the model (module,
        criterion, a component, the target transformer) marks the regressor
        for a fresh build: it keeps predicting as fitted, and the next ``fit``
        or ``partial_fit`` trains from scratch. Training settings (``lr``,
        ``optimizer__*``, ``max_epochs``, ``batch_size``, callbacks, ...) apply
        to the current network, as in skorch.

        Parameters
        ----------
        **params : dict
            Estimator parameters, including nested ones (``module__*``,
            ``criterion__*``, ``weighter__*``, ``regularizers__<name>__*``...).

        Returns
        -------
        self : DIRRegressor
            This regressor.
        """
        if getattr(self, "initialized_", False) and any(map(self._changes_model, params)):
            self.initialized_ = False
        nested = {
            key: params.pop(key)
            for key in list(params)
            if "__" in key and key.split("__", 1)[0] in _COMPONENTS
        }
        super().set_params(**params)  # plain components first: nested keys act on them
        for key, value in nested.items():
            self._set_component_param(key, value)
        return self

    def _set_component_param(self, key: str, value: Any) -> None:
        parameter, rest = key.split("__", 1)
        current = getattr(self, parameter)
        if isinstance(current, (list, tuple)):
            name, _, inner = rest.partition("__")
            pairs = _named(current, parameter)
            names = [n for n, _ in pairs]
            if name not in names:
                raise ValueError(
                    f"Invalid parameter {key!r}: {parameter} has no entry named {name!r} "
                    f"(its names are {names})."
                )
            if not inner:  # replace the whole entry
                setattr(self, parameter, [(n, value if n == name else c) for n, c in pairs])
            else:
                dict(pairs)[name].set_params(**{inner: value})
            return
        if current is None or not hasattr(current, "set_params"):
            raise ValueError(
                f"Invalid parameter {key!r}: {parameter} is {current!r}; set {parameter} to "
                "an object first."
            )
        current.set_params(**{rest: value})

    def _changes_model(self, name: str) -> bool:
        """Whether a parameter shapes the trained model (not just the training run)."""
        if name in _TRAINING_SETTINGS or self._is_virtual_param(name):
            return False
        return not name.startswith(("iterator_", "callbacks", "optimizer"))

    @property
    def _default_callbacks(self):
        callbacks = list(super()._default_callbacks)
        callbacks.append(("fit_module_inputs", _FitModuleInputs()))
        if isinstance(self.lr_schedule, str) and self.lr_schedule == "cosine":
            callbacks.append(("lr_schedule", _CosineSchedule()))
        if self.early_stopping is True:  # garbage values are rejected in fit
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(monitor="valid_loss", patience=self.patience, load_best=True),
                )
            )
        if self.fds is not None:
            callbacks.append(("fds_update", FDSUpdate()))
        return callbacks

    # ------------------------------------------------------------ fit, predict
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        eval_set: tuple[ArrayLike, ArrayLike] | None = None,
    ) -> DIRRegressor:
        """Fit the network (from scratch unless ``warm_start=True``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (numpy, pandas; any float dtype).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Training targets.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Non-negative weights, multiplied with the weighter's. Routed by
            Pipelines when metadata routing is on and requested with
            ``set_fit_request(sample_weight=True)``.
        eval_set : (X_val, y_val) or None, default=None
            Validation data for early stopping instead of an internal split
            (weighted by the weighter fitted on the training targets).

        Returns
        -------
        self : DIRRegressor
            The fitted regressor.
        """
        self._check_params()
        X, y, sample_weight = self._validate_training_data(X, y, sample_weight, reset=True)
        training_weight = self._fit_components(X, y)
        X_dict, y_train = self._pack(X, y, sample_weight, training_weight)
        scale = y_train.std(axis=0)
        self._label_scale_ = np.where(scale > 0, scale, 1.0)  # label distances in stds
        self._target_mean_ = y_train.mean(axis=0)  # initial output bias
        n_samples = len(y_train)
        eval_data = None
        if eval_set is not None:
            eval_data = self._prepare_eval_set(eval_set)
        elif self.train_split is None and self.validation_fraction:
            n_valid = math.ceil(self.validation_fraction * n_samples)
            if n_samples < _MIN_SAMPLES_FOR_SPLIT or n_samples - n_valid < 2:
                raise ValueError(
                    f"DIRRegressor got {n_samples} sample(s), too few to hold out a validation "
                    f"split of validation_fraction={self.validation_fraction} for early "
                    f"stopping (at least {_MIN_SAMPLES_FOR_SPLIT} are needed); pass more "
                    "samples, an eval_set, or validation_fraction=None with "
                    "early_stopping=False."
                )
        if (
            self.early_stopping
            and eval_data is None
            and self.train_split is None
            and not self.validation_fraction
        ):
            raise ValueError(
                "early_stopping=True needs validation data: set validation_fraction, pass "
                "eval_set=(X_val, y_val) to fit, or set early_stopping=False."
            )
        self._eval_data_ = eval_data
        try:
            with self._seeded():  # NeuralNet.fit, with the pre-training hooks in between
                if not self.warm_start or not self.initialized_:
                    self.initialize()
                for regularizer in self._active_regularizers():
                    regularizer.before_fit(self, X_dict, y_train)
                self.partial_fit(X_dict, y_train, _routing_method="fit")
                for regularizer in self._active_regularizers():
                    regularizer.after_fit(self, X_dict, y_train)
        finally:
            self._eval_data_ = None
        return self

    def partial_fit(
        self, X: ArrayLike, y: ArrayLike = None, classes: Any = None, **fit_params: Any
    ) -> DIRRegressor:
        """Train for ``max_epochs`` more epochs without re-initialising the network.

        On an unfitted regressor (or one whose model parameters changed) this is
        :meth:`fit`. Later calls reuse the components, target transformer and
        sizes of the first fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets, with as many columns as in the first fit.
        classes : None
            Unused, for API compatibility.
        **fit_params : dict
            ``sample_weight`` only.

        Returns
        -------
        self : DIRRegressor
            The regressor.
        """
        if "_routing_method" in fit_params:  # called by NeuralNet.fit with prepared data
            return super().partial_fit(X, y, classes, **fit_params)
        sample_weight = fit_params.pop("sample_weight", None)
        if fit_params:
            raise ValueError(
                f"partial_fit got unexpected arguments {sorted(fit_params)}; only "
                "sample_weight is accepted."
            )
        if not (self.initialized_ and hasattr(self, "n_outputs_")):
            return self.fit(X, y, sample_weight=sample_weight)
        self._check_params()
        X, y, sample_weight = self._validate_training_data(X, y, sample_weight, reset=False)
        X_dict, y_train = self._pack(X, y, sample_weight)
        with self._seeded():
            super().partial_fit(X_dict, y_train)
        return self

    def continue_training(self, X: Mapping, y: NDArray, epochs: int) -> DIRRegressor:
        """Train ``epochs`` more epochs on packed data (for a regulariser's ``after_fit`` stage).

        Parameters
        ----------
        X : dict
            The packed training inputs that ``after_fit`` received.
        y : ndarray of shape (n_samples, n_targets)
            The network's training targets that ``after_fit`` received.
        epochs : int
            Number of epochs.

        Returns
        -------
        self : DIRRegressor
            The regressor.
        """
        NeuralNetRegressor.partial_fit(self, X, y, epochs=int(epochs))
        return self

    def pretrain(
        self,
        X: Mapping,
        y: NDArray,
        loss: Callable[[TrainingBatch], torch.Tensor],
        epochs: int,
        lr: float | None = None,
    ) -> NDArray[np.float64]:
        """Train the network's features on ``loss`` alone (a regulariser's ``before_fit`` stage).

        For ``epochs`` epochs over shuffled batches of ``batch_size`` training
        rows (the rows that early stopping holds out are left out: the split is
        the main training's), each batch is augmented as in training, passed
        through the module's ``features`` with ``batch.features`` set, and
        ``loss(batch)`` is minimised by a fresh optimizer of the regressor's
        ``optimizer`` class (``optimizer__*``; learning rate ``lr``, default the
        regressor's ``lr``, constant). Only what the features depend on is
        trained: the output layer is left as built. The main training then
        starts from these weights with its own optimizer.

        Parameters
        ----------
        X : dict
            The packed training inputs that ``before_fit`` received.
        y : ndarray of shape (n_samples, n_targets)
            The network's training targets that ``before_fit`` received.
        loss : callable
            Maps a :class:`~skdir.nn.base.TrainingBatch` (with ``features``) to
            a scalar tensor.
        epochs : int
            Number of epochs (0 does nothing).
        lr : float or None, default=None
            Learning rate; None uses ``lr``.

        Returns
        -------
        losses : ndarray of shape (epochs,)
            Mean loss of each epoch.
        """
        if not hasattr(self.module_, "features"):
            raise ValueError(
                f"Pre-training trains features, but {type(self.module_).__name__} has no "
                "features(X); use a module with features(X) and head(z)."
            )
        _fit_module_inputs(self, X, y)
        dataset, _ = self.get_split_datasets(X, y)
        optimizer_params = self.get_params_for("optimizer")
        optimizer_params["lr"] = self.lr if lr is None else lr
        optimizer = self.optimizer(self.module_.parameters(), **optimizer_params)
        losses = np.zeros(int(epochs))
        for epoch in range(int(epochs)):
            total, count = 0.0, 0
            for Xi, yi in self.get_iterator(dataset, training=True):
                self._set_training(True)
                batch, _ = self._augment(self._training_batch(Xi, yi))
                batch.features = self.module_.features(batch.X)
                value = loss(batch)
                optimizer.zero_grad()
                value.backward()
                optimizer.step()
                total += value.item() * len(batch.y)
                count += len(batch.y)
            losses[epoch] = total / max(count, 1)
        return losses

    def predict(
        self, X: ArrayLike, return_std: bool = False
    ) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Predict targets (and the spread of an ensemble network's members).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        return_std : bool, default=False
            Also return the standard deviation (``ddof=0``) of the members'
            predictions of a module with ``n_ensemble > 1`` (e.g.
            ``module__n_ensemble=8``), per sample and target. A single network
            has no spread: then this raises a ValueError.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets), float64
            Predictions in the shape of the ``y`` given to ``fit`` (an
            ensemble's: the mean of its members' outputs).
        y_std : ndarray of the same shape
            The members' spread (only with ``return_std=True``), in the units of
            ``y``.
        """
        if return_std:
            members = self.predict_members(X)
            return members.mean(axis=0), members.std(axis=0)
        check_is_fitted(self, "n_outputs_")
        X = self._validate_X(X, reset=False)
        chunks = [
            (out[0] if isinstance(out, tuple) else out).cpu() for out in self._forward_chunks(X)
        ]
        y_pred = self._point_outputs(torch.cat(chunks)).numpy().astype(np.float64)
        y_pred = y_pred.reshape(len(X), self.n_outputs_)
        if self.target_transformer_ is not None:
            y_pred = np.asarray(
                self.target_transformer_.inverse_transform(y_pred), dtype=np.float64
            ).reshape(len(X), self.n_outputs_)
        return y_pred[:, 0] if self.y_ndim_ == 1 else y_pred

    def predict_members(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return every ensemble member's predictions, ``(n_members, n_samples[, n_targets])``.

        For a module with ``n_ensemble > 1`` (its ``forward_members``); the
        shape follows :meth:`skdir.ensemble.BaggedRegressor.predict_members`.
        With a ``target_transformer`` each member's predictions are transformed
        back.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        predictions : ndarray of shape (n_members, n_samples) or (n_members, n_samples, n_targets)
            Float64 predictions of every member.
        """
        check_is_fitted(self, "n_outputs_")
        k = _n_members(self.module_)
        if k < 2 or not hasattr(self.module_, "forward_members"):
            raise ValueError(
                f"{type(self.module_).__name__} is one network, with no members to spread: "
                "set module__n_ensemble to 2 or more (module='interaction_mlp'), or wrap "
                "the regressor in skdir.ensemble.BaggedRegressor."
            )
        X = self._validate_X(X, reset=False)
        chunks = [out.cpu() for out in self._forward_chunks(X, self.module_.forward_members)]
        out = self._point_outputs(torch.cat(chunks)).numpy().astype(np.float64)  # (n, k, T)
        out = out.transpose(1, 0, 2).reshape(k * len(X), self.n_outputs_)
        if self.target_transformer_ is not None:
            out = np.asarray(self.target_transformer_.inverse_transform(out), dtype=np.float64)
        out = out.reshape(k, len(X), self.n_outputs_)
        return out[:, :, 0] if self.y_ndim_ == 1 else out

    def predict_quantiles(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return the predicted quantiles of a network trained with a quantile criterion.

        With ``criterion=PinballLoss`` (``criterion__quantiles=...``), every
        level of ``criterion__quantiles``, increasing per row (non-crossing by
        the criterion's ``monotone``), mapped back through the
        ``target_transformer`` (exact for monotone increasing transformers). An
        ensemble module gives its members' mean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        quantiles : ndarray of shape (n_samples, n_quantiles) or \
(n_samples, n_targets, n_quantiles)
            Float64 quantiles in the units of ``y``.
        """
        check_is_fitted(self, "n_outputs_")
        criterion = self._quantile_criterion()
        if criterion is None:
            raise ValueError(
                f"{type(self.criterion_).__name__} predicts no quantiles; train with "
                "criterion=PinballLoss (criterion__quantiles=(0.05, 0.5, 0.95)) for "
                "predict_quantiles."
            )
        X = self._validate_X(X, reset=False)
        chunks = [
            (out[0] if isinstance(out, tuple) else out).cpu() for out in self._forward_chunks(X)
        ]
        q = criterion.quantile_outputs(torch.cat(chunks)).numpy().astype(np.float64)
        n_q = q.shape[-1]  # q: (n, n_outputs, n_quantiles)
        if self.target_transformer_ is not None:
            flat = q.transpose(0, 2, 1).reshape(len(X) * n_q, self.n_outputs_)
            flat = np.asarray(self.target_transformer_.inverse_transform(flat), np.float64)
            q = np.sort(flat.reshape(len(X), n_q, self.n_outputs_).transpose(0, 2, 1), axis=-1)
        return q[:, 0] if self.y_ndim_ == 1 else q

    def transform_features(self, X: ArrayLike) -> NDArray[np.float32]:
        """Return the penultimate features ``z`` of the trained network (before FDS).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        z : ndarray of shape (n_samples, embedding_dim)
            The module's ``features(X)`` in evaluation mode.
        """
        check_is_fitted(self, "n_outputs_")
        if not hasattr(self.module_, "features"):
            raise ValueError(
                f"{type(self.module_).__name__} has no features(X); use a module with "
                "features(X) and head(z)."
            )
        X = self._validate_X(X, reset=False)
        return torch.cat([out[1].cpu() for out in self._forward_chunks(X)]).numpy()

    def attention_weights(self, X: Any) -> NDArray[np.float64]:
        """Return the attention of a bag module (``"attention_mil"``, ``"set_transformer"``).

        Parameters
        ----------
        X : list of 2-D arrays, or array of shape (n_bags, max_fragments, n_features)
            Bags, as for :meth:`predict`.

        Returns
        -------
        weights : ndarray of shape (n_bags, max_fragments)
            Each bag's weights sum to 1; padding rows (all NaN) get exactly 0.
        """
        check_is_fitted(self, "n_outputs_")
        if not self._takes_bags():
            raise ValueError(
                f"{type(self.module_).__name__} has no attention over fragments; attention "
                "weights need module='attention_mil'."
            )
        padded = self._validate_X(X, reset=False)
        return bag_attention(self.module_, padded, self.batch_size, self._device)

    # ------------------------------------------------------------ components
    def _check_params(self) -> None:
        params = {name: getattr(self, name) for name in self._dir_parameter_constraints}
        validate_parameter_constraints(
            self._dir_parameter_constraints, params, caller_name=type(self).__name__
        )
        check_device(self.device)
        module_class = self._module_class()
        self._check_module_params(module_class)
        if self.fds is not None:
            self.fds.check()
        regularizers = _named(self.regularizers, "regularizers")
        for _, regularizer in regularizers:
            if not callable(regularizer):
                raise ValueError(
                    f"{regularizer!r} is not a regulariser: it must be callable on a "
                    "TrainingBatch (subclass skdir.nn.base.Regularizer)."
                )
            unknown = set(getattr(regularizer, "needs", ())) - NEEDS
            if unknown:
                raise ValueError(
                    f"{type(regularizer).__name__}.needs names {sorted(unknown)}; a "
                    f"regulariser may need {sorted(NEEDS)}."
                )
            if hasattr(regularizer, "check"):
                regularizer.check(self)
        pairwise = [
            type(r).__name__
            for _, r in regularizers
            if getattr(r, "pairwise", False) and getattr(r, "active", True)
        ]
        criterion_pairwise = getattr(self.criterion, "is_pairwise", None)
        if callable(criterion_pairwise) and criterion_pairwise(**self.get_params_for("criterion")):
            pairwise.append(getattr(self.criterion, "__name__", "criterion"))
        if pairwise and isinstance(self.batch_size, Integral) and self.batch_size < 2:
            raise ValueError(
                f"{', '.join(pairwise)} compare the samples of a batch with each other, but "
                f"batch_size={self.batch_size}; use batch_size >= 2."
            )
        for _, augmentation in _named(self.augment, "augment"):
            if not callable(augmentation):
                raise ValueError(
                    f"{augmentation!r} is not an augmentation: it must be callable on a "
                    "TrainingBatch (subclass skdir.nn.base.Augmentation)."
                )
            if hasattr(augmentation, "check"):
                augmentation.check(self)
            if getattr(augmentation, "needs_2d", False) and getattr(
                module_class, "accepts_bags", False
            ):
                raise ValueError(
                    f"{type(augmentation).__name__} mixes rows of 2-D inputs and cannot mix "
                    f"bags of fragments ({module_class.__name__}); remove it from augment."
                )

    def _fit_components(self, X: NDArray, y: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """Fit the data-dependent components on the training rows (raw targets).

        Returns the weighter's weights of the training rows (None without one).
        """
        self.y_ndim_ = y.ndim
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self.device_ = self._resolve_device()
        self.regularizers_ = {
            name: clone(r) for name, r in _named(self.regularizers, "regularizers")
        }
        self.augment_ = [clone(a) for _, a in _named(self.augment, "augment")]
        needed = "label_bins" in self._needs() or self._criterion_needs_prior()
        density = LabelDensity() if self.label_density is None else clone(self.label_density)
        if self.n_outputs_ > 2 and (needed or self.weighter is not None or self.fds is not None):
            raise ValueError(
                f"Label densities support one or two targets, but y has {self.n_outputs_}; "
                "fit one model per pair of targets, or use no weighter, fds or label-bin "
                "technique."
            )
        try:
            self.label_density_ = None if self.n_outputs_ > 2 else density.fit(y)
        except ValueError:
            if needed:
                raise
            self.label_density_ = None
        self.weighter_ = training_weight = None
        if self.weighter is not None:
            self.weighter_ = clone(self.weighter)
            training_weight = fit_training_weights(self.weighter_, X, y)
        self.fds_ = None if self.fds is None else clone(self.fds).fit(y)
        self.target_transformer_ = None
        if self.target_transformer is not None:
            self.target_transformer_ = clone(self.target_transformer)
            self.target_transformer_.fit(y.reshape(len(y), -1))
        return training_weight

    def _active_regularizers(self) -> list[Any]:
        return [r for r in getattr(self, "regularizers_", {}).values() if r.active]

    def _needs(self) -> set[str]:
        return {need for r in self._active_regularizers() for need in getattr(r, "needs", ())}

    def _module_class(self) -> type:
        module = self.module
        if isinstance(module, torch.nn.Module):
            raise ValueError(
                "module must be a name such as 'interaction_mlp' or a torch.nn.Module "
                "class, not an instance: an instance carries its trained weights into "
                "clones (cross-validation folds, search trials). Pass the class and its "
                "arguments as module__name=value."
            )
        if isinstance(module, str):
            if module not in _MODULES:
                raise ValueError(
                    f"Unknown module {module!r}; use one of {', '.join(map(repr, _MODULES))} "
                    "or a torch.nn.Module class."
                )
            return _MODULES[module]
        if inspect.isclass(module) and issubclass(module, torch.nn.Module):
            return module
        raise ValueError(
            "module must be a name such as 'interaction_mlp' or a torch.nn.Module class, "
            f"got {module!r}."
        )

    def _module_kwargs(self, module_class: type) -> dict[str, Any]:
        kwargs = self.get_params_for("module")
        for name in ("n_features", "n_outputs"):
            if name in kwargs:
                raise ValueError(
                    f"module__{name} is set from the data by DIRRegressor; do not pass it."
                )
        data = self._data_kwargs(module_class, {})
        if "n_outputs" in data:  # e.g. PinballLoss: n_quantiles outputs per target
            data["n_outputs"] *= self._output_multiplier()
        return {**kwargs, **data}

    def _output_multiplier(self) -> int:
        """Network outputs per target that the criterion asks for (1 unless it has quantiles)."""
        multiplier = getattr(self.criterion, "output_multiplier", None)
        return int(multiplier(**self.get_params_for("criterion"))) if callable(multiplier) else 1

    def _quantile_criterion(self) -> Any:
        """Return the fitted criterion when it maps outputs to quantiles, else None."""
        criterion = getattr(self, "criterion_", None)
        return criterion if hasattr(criterion, "quantile_outputs") else None

    def _point_outputs(self, out: torch.Tensor) -> torch.Tensor:
        """Network outputs ``(..., n_outputs * k)`` -> point predictions ``(..., n_outputs)``.

        With a quantile criterion the point prediction is the quantile nearest 0.5.
        """
        criterion = self._quantile_criterion()
        if criterion is None:
            return out
        levels = np.asarray(criterion.quantiles)
        return criterion.quantile_outputs(out)[..., int(np.argmin(np.abs(levels - 0.5)))]

    def _data_kwargs(self, target: type, given: Mapping[str, Any]) -> dict[str, Any]:
        """Return the data sizes a constructor accepts and the user did not give."""
        signature = inspect.signature(target)
        accepts_any = any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()
        )
        values = {"n_features": self.n_features_in_, "n_outputs": self.n_outputs_}
        return {
            name: value
            for name, value in values.items()
            if (accepts_any or name in signature.parameters) and name not in given
        }

    def _check_module_params(self, module_class: type) -> None:
        parameters = inspect.signature(module_class).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            return
        unknown = sorted(set(self.get_params_for("module")) - set(parameters))
        if unknown:
            valid = [n for n in parameters if n not in ("self", "n_features", "n_outputs")]
            raise ValueError(
                f"Unknown module parameter(s) {', '.join('module__' + u for u in unknown)} for "
                f"{module_class.__name__}; valid ones are "
                f"{', '.join('module__' + v for v in valid)}."
            )

    def _criterion_needs_prior(self) -> bool:
        criterion = self.criterion
        if not inspect.isclass(criterion):
            return False
        parameters = inspect.signature(criterion).parameters
        form = self.get_params_for("criterion").get("form", "bmc")
        return all(name in parameters for name in _PRIOR_ARGS) and form != "bmc"

    # ------------------------------------------------------ skorch components
    def initialize_module(self):
        """Build the network (and the FDS layer) from the fitted sizes."""
        if not hasattr(self, "n_features_in_"):
            raise ValueError(
                "DIRRegressor sizes its network from the data; call fit(X, y) instead of "
                "initialize()."
            )
        module_class = self._module_class()
        self.module_ = module_class(**self._module_kwargs(module_class))
        head = getattr(self.module_, "head", None)
        offset = getattr(self, "_target_mean_", None)
        if isinstance(head, torch.nn.Linear) and head.bias is not None and offset is not None:
            if head.out_features == len(offset):
                with torch.no_grad():  # start from the mean target, not from 0
                    head.bias.copy_(torch.as_tensor(offset, dtype=head.bias.dtype))
            elif callable(getattr(self.criterion, "initial_bias", None)):  # several per target
                bias = self.criterion.initial_bias(offset, **self.get_params_for("criterion"))
                if len(bias) == head.out_features:
                    with torch.no_grad():
                        head.bias.copy_(torch.as_tensor(bias, dtype=head.bias.dtype))
        fds = getattr(self, "fds_", None)
        if _n_members(self.module_) > 1 and (fds is not None or self._needs()):
            raise ValueError(
                "fds and the regularisers act on one network's features; with "
                f"module__n_ensemble={_n_members(self.module_)} there are one per member. Use "
                "n_ensemble=1 with them, or skdir.ensemble.BaggedRegressor for an ensemble."
            )
        needed = ["features", "head"] if fds is not None or "features" in self._needs() else []
        if fds is not None:
            needed.append("embedding_dim")
        missing = [n for n in needed if not hasattr(self.module_, n)]
        if missing:
            raise ValueError(
                "fds and the feature regularisers need a module with features(X), head(z) "
                f"(and embedding_dim for fds); {module_class.__name__} has no {missing[0]!r}."
            )
        if fds is not None:
            self.feature_smoothing_ = self.fds_.build_layer(self.module_.embedding_dim)
        elif hasattr(self, "feature_smoothing_"):
            del self.feature_smoothing_
        return self

    def initialize_criterion(self):
        """Build the loss from its class, ``criterion__*`` and the data.

        Constructor arguments ``n_outputs`` and ``prior_locations``,
        ``prior_probs``, ``prior_scales`` that the user did not set are filled
        in: the number of targets, and the training label distribution of
        ``label_density_`` in the network's target space (bin centres, counts,
        and the bins' standard deviations ``width / sqrt(12)``).
        """
        criterion = self.criterion
        if isinstance(criterion, torch.nn.Module) or not callable(criterion):
            raise ValueError(
                "criterion must be a loss class (e.g. WeightedRegressionLoss or "
                "BalancedMSELoss), not an instance; set its parameters as criterion__name."
            )
        kwargs = self.get_params_for("criterion")
        kwargs.update(self._data_kwargs(criterion, kwargs))
        if inspect.isclass(criterion):
            parameters = inspect.signature(criterion).parameters
            if self.label_density_ is not None and all(n in parameters for n in _PRIOR_ARGS):
                prior = self._label_prior()
                kwargs.update({k: v for k, v in prior.items() if k not in kwargs})
        self.criterion_ = criterion(**kwargs)
        return self

    def initialize_optimizer(self, triggered_directly: Any = None):
        """Build the optimizer; a criterion's ``noise_sigma`` gets its ``sigma_lr``."""
        if triggered_directly is None:
            super().initialize_optimizer()
        else:
            super().initialize_optimizer(triggered_directly)
        criterion = getattr(self, "criterion_", None)
        sigma = getattr(criterion, "noise_sigma", None)
        if isinstance(sigma, torch.nn.Parameter):
            for group in self.optimizer_.param_groups:
                group["params"] = [p for p in group["params"] if p is not sigma]
            lr = float(getattr(criterion, "sigma_lr", self.lr))
            self.optimizer_.add_param_group({"params": [sigma], "lr": lr, "weight_decay": 0.0})
        return self

    def _label_prior(self) -> dict[str, NDArray[np.float64]]:
        """Return the training label distribution in the network's target space."""
        density = self.label_density_

        def grid(parts: list[NDArray]) -> NDArray[np.float64]:
            mesh = np.meshgrid(*parts, indexing="ij")  # C order, as counts_.ravel()
            return np.stack([m.ravel() for m in mesh], axis=1).astype(np.float64)

        low = grid([edges[:-1] for edges in density.bin_edges_])
        high = grid([edges[1:] for edges in density.bin_edges_])
        centre = (low + high) / 2
        if self.target_transformer_ is not None:
            low, high, centre = (
                np.asarray(self.target_transformer_.transform(a), dtype=np.float64).reshape(
                    a.shape
                )
                for a in (low, high, centre)
            )
        return {
            "prior_locations": centre,
            "prior_probs": np.asarray(density.counts_, dtype=np.float64).ravel(),
            "prior_scales": np.abs(high - low) / math.sqrt(12.0),
        }

    # ------------------------------------------------------ training step
    def infer(self, x: Any, **fit_params: Any) -> Any:
        """Forward a batch; return ``(predictions, features)`` for feature modules.

        During training with ``fds`` the features pass through the FDS layer
        (which needs the batch's bins) before the output layer.
        """
        bins = None
        if isinstance(x, Mapping):
            x = dict(x)
            bins = x.pop("bins", None)
            x = x.pop("X")
        device = self._device
        features = to_tensor(x, device=device)
        module = self.module_
        if _n_members(module) > 1 or not (hasattr(module, "features") and hasattr(module, "head")):
            return module(features, **fit_params)
        z = module.features(features, **fit_params)
        calibrated = z  # regularisers see the features before FDS
        smoother = getattr(self, "feature_smoothing_", None)
        if smoother is not None and smoother.training and bins is not None:
            calibrated = smoother(z, to_tensor(bins, device=device), epoch=len(self.history) - 1)
        return module.head(calibrated), z

    def get_loss(self, y_pred: Any, y_true: Any, X: Any = None, training: bool = False):
        """Weighted data loss plus, in training, the weighted regularisation terms.

        ``X`` is the batch: a :class:`~skdir.nn.base.TrainingBatch` in training
        steps, skorch's input mapping in validation.
        """
        pred, z = y_pred if isinstance(y_pred, tuple) else (y_pred, None)
        batch = X if isinstance(X, TrainingBatch) else None
        if batch is None:
            weight = None
            if isinstance(X, Mapping) and "sample_weight" in X:
                weight = to_tensor(X["sample_weight"], device=self._device)
            batch = TrainingBatch(X=None, y=to_tensor(y_true, device=self._device), weight=weight)
        if pred.ndim == 3:  # ensemble members, each trained on its own loss
            losses = [
                self.criterion_(pred[:, k], batch.y, batch.weight) for k in range(pred.shape[1])
            ]
            loss = torch.stack(losses).mean()
        else:
            loss = self.criterion_(pred, batch.y, batch.weight)
        if training:
            batch.pred, batch.features = pred, z
            for regularizer in self._active_regularizers():
                loss = loss + regularizer(batch)
        return loss

    def train_step_single(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        """One training step: augment the batch, forward, loss with regularisers, backward."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        batch = self._training_batch(Xi, yi)
        batch, unperturbed = self._augment(batch)
        y_pred = self.infer({"X": batch.X, "bins": batch.bins}, **fit_params)
        if "second_view" in self._needs():  # other dropout masks and per-view draws
            view = dataclasses.replace(batch, X=unperturbed)
            for augmentation in self.augment_:
                if getattr(augmentation, "per_view", False):
                    view = augmentation(view)
            z2 = self.module_.features(view.X)
            batch.second_view = (self.module_.head(z2), z2)
        loss = self.get_loss(y_pred, batch.y, X=batch, training=True)
        loss.backward()
        for regularizer in self._active_regularizers():
            regularizer.after_backward(self, batch)
        return {"loss": loss, "y_pred": y_pred}

    def _augment(self, batch: TrainingBatch) -> tuple[TrainingBatch, torch.Tensor]:
        """Apply the augmentations: mixing ones first, then the per-view ones.

        Returns the augmented batch and its inputs before the per-view
        augmentations (from which a second view is drawn).
        """
        for augmentation in self.augment_:
            if not getattr(augmentation, "per_view", False):
                batch = augmentation(batch)
        unperturbed = batch.X
        for augmentation in self.augment_:
            if getattr(augmentation, "per_view", False):
                batch = augmentation(batch)
        return batch, unperturbed

    def _training_batch(self, Xi: Any, yi: Any) -> TrainingBatch:
        device = self._device
        y = to_tensor(yi, device=device)
        y = y.reshape(len(y), -1)
        if not isinstance(Xi, Mapping):
            return TrainingBatch(X=to_tensor(Xi, device=device), y=y)
        optional = {
            key: to_tensor(Xi[key], device=device) if key in Xi else None
            for key in ("bins", "label_bins")
        }
        return TrainingBatch(
            X=to_tensor(Xi["X"], device=device),
            y=y,
            weight=to_tensor(Xi["sample_weight"], device=device),
            label_scale=torch.as_tensor(self._label_scale_, dtype=y.dtype, device=device),
            **optional,
        )
