"""``DIRRegressor``: a skorch regressor with LDS weights, FDS and DIR losses."""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from contextlib import contextmanager
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)
from skorch import NeuralNetRegressor
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit, unpack_data
from skorch.utils import to_tensor

from ..density import KERNELS, LabelDensity
from ._bags import bag_attention, validate_bags
from .augment import feature_dropout, gaussian_noise, mixup_batch
from .fds import FeatureDistributionSmoothing
from .losses import (
    BMSE_FORMS,
    LOSSES,
    BalancedMSELoss,
    UncertaintyWeighting,
    WeightedRegressionLoss,
)
from .modules import MLP, AttentionMIL, FusionTransformer, TwoTower
from .regularizers import (
    _norm_blocks,
    conr_loss,
    norm_order_loss,
    norm_target_loss,
    ranksim_loss,
)

__all__ = ["DIRRegressor"]

_MODULES = {
    "mlp": MLP,
    "two_tower": TwoTower,
    "fusion_transformer": FusionTransformer,
    "attention_mil": AttentionMIL,
}
#: Fewest samples with which an internal validation split is attempted.
_MIN_SAMPLES_FOR_SPLIT = 5
#: Parameters that change how the network is trained, not what it is: changing
#: them on a fitted regressor keeps the network for ``partial_fit``.
_TRAINING_SETTINGS = frozenset(
    {
        "lr",
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


def _never(_: Any) -> bool:
    return False


def _reject_3d(X: Any) -> None:
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 3:
        raise ValueError(
            f"X has 3 dimensions {tuple(shape)}, but DIRRegressor takes 2-D X "
            "(n_samples, n_features). Aggregate the fragments of each sample into one "
            "row first (skdir.fragments.FragmentAggregator)."
        )


def _check_device(device: Any) -> None:
    """Raise a ValueError unless ``device`` is ``"auto"`` or a usable torch device."""
    if device == "auto":
        return
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto' (CUDA when available, "
            "else the CPU), 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but CUDA is not available on this machine; use "
            "device='auto' (CUDA when present, else the CPU) or device='cpu'."
        )
    if parsed.type == "cuda" and parsed.index is not None:
        if parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} but this machine has {torch.cuda.device_count()} CUDA "
                "device(s); use device='auto' or an index below that count."
            )
    if parsed.type not in ("cpu", "cuda", "mps", "xpu"):
        raise ValueError(
            f"device={device!r}: DIRRegressor runs on 'cpu', 'cuda' (and 'mps'/'xpu' where "
            "torch supports them); use device='auto' to pick CUDA when available."
        )


class DIRRegressor(NeuralNetRegressor):
    """Neural regressor for deep imbalanced regression, usable like any sklearn regressor.

    A :class:`skorch.NeuralNetRegressor` that takes numpy/pandas input as it is
    (float64 is cast to float32, 1-D ``y`` is reshaped, predictions come back as
    float64 in the shape of the fitted ``y``), sizes its network from the data,
    and adds the techniques of Yang et al., "Delving into Deep Imbalanced
    Regression" (ICML 2021) as constructor parameters, so that ``set_params``,
    ``GridSearchCV`` and Optuna can tune them:

    - **LDS** (``lds=True``): each training sample is weighted by the inverse
      (square root) of the kernel-smoothed label density of the ``y`` given to
      ``fit`` (:meth:`skdir.density.LabelDensity.weights`), times any
      ``sample_weight`` given to ``fit``; the batch loss is ``mean(w * loss)``.
    - **FDS** (``fds=True``): a :class:`~skdir.nn.fds.FeatureDistributionSmoothing`
      layer between the penultimate features and the output layer re-calibrates
      training features with per-bin statistics smoothed over neighbouring bins.
      Its statistics are updated at each epoch end from the features of that
      epoch's training pass (no second pass over the data, unlike the official
      code); it is inactive in validation and prediction. With two targets the
      bins are the joint 2-D grid of :class:`~skdir.density.LabelDensity`, smoothed
      separably along each target.
    - **Losses**: ``"mse"``, ``"l1"``, ``"huber"``, ``"focal_mse"``, ``"focal_l1"``
      (Focal-R), all per-sample weighted (see :mod:`skdir.nn.losses`); their
      ``beta``/``gamma``/``activation`` are set as ``criterion__beta=...``;
      ``"bmse"`` is Balanced MSE (Ren et al., CVPR 2022;
      :class:`~skdir.nn.losses.BalancedMSELoss`).
    - **Regularisers** on the penultimate features ``z`` (pre-FDS), each switched
      on by a positive weight (:mod:`skdir.nn.regularizers`): RankSim
      (``ranksim_weight``), ConR (``conr_weight``) and feature-norm ordinality
      (``norm_order_weight``, and the fine-tuning stage ``norm_finetune_epochs``).
    - **Augmentation**, in training steps only (:mod:`skdir.nn.augment`): mixup
      or C-Mixup (``mixup``), Gaussian input noise (``input_noise``) and input
      feature dropout (``feature_dropout``).
    - **Multi-task weighting** of two or more targets by learned uncertainty
      (``multitask_weighting="uncertainty"``, Kendall et al., CVPR 2018).

    Every option combines with the others and with LDS/FDS, for 1-D and 2-D
    ``y``. Distances between targets (RankSim, ConR, C-Mixup) are measured on
    the network's targets (after ``target_transformer``) divided by their
    training standard deviation, per target.

    Label density, LDS weights and FDS bins are computed on ``y`` as given to
    ``fit``. With ``target_transformer`` the network is trained on transformed
    targets (e.g. standardised), while the density still sees the raw ones, and
    predictions are transformed back.

    By default training stops early: 10% of the training rows (seeded by
    ``random_state``) are held out, the loss on them is monitored, and the
    weights of the best epoch are restored. Pass ``eval_set=(X_val, y_val)`` to
    ``fit`` to monitor a validation set of your own instead.

    Persistence: ``pickle``/``joblib`` round-trip a fitted regressor (load only
    files you trust: unpickling runs code). For exchanging weights safely, use
    ``save_params(f_params=..., use_safetensors=True)``, then re-create the
    estimator with the same parameters, call ``initialize`` after fitting on a
    small sample of the same shape (or ``fit``), and ``load_params``.

    Parameters
    ----------
    module : str or torch.nn.Module class, default="mlp"
        The network, by name (``"mlp"``, ``"two_tower"``, ``"fusion_transformer"``,
        ``"attention_mil"``): :class:`~skdir.nn.MLP`, :class:`~skdir.nn.TwoTower` (needs
        ``module__modalities``), :class:`~skdir.nn.FusionTransformer`,
        :class:`~skdir.nn.AttentionMIL` (then ``X`` is bags: a list of 2-D arrays
        or a 3-D array padded with all-NaN rows; see :meth:`attention_weights`),
        or a module *class* (not an instance, whose
        trained weights would leak across ``clone``). It is built with
        ``n_features`` and ``n_outputs`` from the data when its constructor
        accepts them, plus the ``module__*`` parameters. FDS needs a module with
        ``features(X)``, ``head(z)`` and ``embedding_dim`` (as the built-in ones).
    loss : {"mse", "l1", "huber", "focal_mse", "focal_l1"}, default="mse"
        Training loss, passed to the ``criterion``.
    lds : bool, default=False
        Weight samples by label distribution smoothing.
    lds_kernel : {"gaussian", "gaussian_true", "triangular", "laplace"}, default="gaussian"
        LDS kernel (see :func:`skdir.density.kernel_window`).
    lds_ks : int, default=5
        LDS kernel size in bins.
    lds_sigma : float, default=2.0
        LDS kernel width in bins.
    reweight : {"sqrt_inv", "inverse"}, default="sqrt_inv"
        Inverse square root or inverse of the smoothed bin counts.
    lds_bins : int, default=50
        Number of equal-width bins per target over the training range (LDS and
        FDS, and ``label_density_``).
    lds_bin_width : float or None, default=None
        Bin width per target; overrides ``lds_bins`` when set.
    fds : bool, default=False
        Use feature distribution smoothing.
    fds_kernel : {"gaussian", "gaussian_true", "triangular", "laplace"}, default="gaussian"
        FDS kernel, normalised to sum 1, reflecting at the ends.
    fds_ks : int, default=5
        FDS kernel size in bins.
    fds_sigma : float, default=2.0
        FDS kernel width in bins.
    fds_momentum : float, default=0.9
        Momentum of the running per-bin statistics.
    fds_start_update : int, default=0
        First epoch (0-based) whose features update the statistics.
    fds_start_smooth : int, default=1
        First epoch in which training features are calibrated.
    fds_clip : (float, float), default=(0.1, 10.0)
        Bounds of the variance ratio in the calibration.
    fds_var_floor : float, default=1e-4
        Floor of the per-bin feature variances.
    fds_shrinkage : float, default=2.0
        Pseudo-count with which each bin's epoch statistics are shrunk toward the
        statistics of all samples (sparse bins of small data); 0 switches it off.
    bmse_form : {"bmc", "gai", "bni"}, default="bmc"
        Balanced MSE estimator (``loss="bmse"``): batch Monte Carlo, or the
        training label distribution of ``label_density_`` as a Gaussian mixture
        (GAI: one component per bin, at its centre, with the bin's variance
        ``width^2 / 12``, weighted by its count; the paper fits an 8-component
        GMM instead) or as point masses at the bin centres (BNI).
    bmse_init_sigma : float, default=1.0
        Initial noise scale of Balanced MSE, in units of the network's targets.
    bmse_sigma_lr : float, default=1e-2
        Learning rate of the noise scale (no weight decay); 0 keeps it fixed.
    ranksim_weight : float, default=0.0
        Weight of the RankSim term (mean over anchors); 0 switches it off.
    ranksim_lambda : float, default=2.0
        Interpolation strength of RankSim's blackbox ranking gradient.
    conr_weight : float, default=0.0
        Weight of the ConR term; 0 switches it off. ConR contrasts the batch with
        a second view of it: a second forward pass (other dropout masks) of the
        inputs with fresh ``input_noise``/``feature_dropout`` when those are set.
    conr_temperature : float, default=0.2
        ConR softmax temperature.
    conr_threshold : float, default=0.25
        Label distance (in training standard deviations) up to which two samples
        are positives; predictions this close with labels farther apart are
        negatives.
    conr_push : float, default=0.01
        ConR pushing power of negatives, ``exp(push * label distance)``.
    norm_order_weight : float, default=0.0
        Weight of the feature-norm ordinality hinge on batch bin prototypes
        (bins of ``label_density_``); 0 switches it off.
    norm_finetune_epochs : int, default=0
        Epochs of the second stage of feature-norm ordinality: after training, a
        line from target to feature norm is fitted per target on the many-shot
        bins (those holding at least the median count of the non-empty bins;
        stored as ``norm_intercept_``/``norm_slope_``), then training continues
        for this many epochs with ``norm_finetune_weight`` times the squared
        distance of every sample's feature norm to that line.
    norm_finetune_weight : float, default=1.0
        Weight of the fine-tuning term.
    mixup : {None, "none", "mixup", "c_mixup", "c-mixup"}, default=None
        Mix training batches: random partners (mixup) or partners drawn by label
        similarity (C-Mixup, Yao et al., NeurIPS 2022). Inputs, targets and
        sample weights are mixed; the bins of FDS and of the norm regulariser
        follow the dominant partner. Needs 2-D inputs (not bags).
    mixup_alpha : float, default=2.0
        ``lam ~ Beta(alpha, alpha)``, one per batch.
    cmixup_bandwidth : float, default=0.5
        C-Mixup kernel bandwidth, in training standard deviations of the targets.
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to training inputs (input units).
    feature_dropout : float, default=0.0
        Probability of zeroing each training input entry (inverted dropout).
    multitask_weighting : {None, "uncertainty"}, default=None
        ``"uncertainty"`` weighs the per-target training losses by learned
        log-variances (two or more targets; not with ``bmse_form`` "gai"/"bni").
        The learned weights are ``task_weighting_.weights``. Validation losses
        stay the plain mean over targets.
    target_transformer : transformer or None, default=None
        Fitted on the 2-D targets; the network learns the transformed targets and
        predictions are inverse-transformed (e.g. ``StandardScaler()`` or
        :class:`skdir.target.TargetDistributionNormalizer`).
    early_stopping : bool, default=True
        Stop when the validation loss has not improved for ``patience`` epochs
        and restore the best weights.
    validation_fraction : float or None, default=0.1
        Share of the training rows held out for early stopping when no
        ``eval_set`` is given to ``fit``. None or 0 trains on all rows (then
        set ``early_stopping=False``).
    patience : int, default=10
        Epochs without improvement before stopping.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation
        split; two fits with the same integer give identical predictions on
        CPU (on CUDA, also set ``torch.use_deterministic_algorithms(True)``).
        The caller's global torch random state is left untouched.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU; the choice is stored
        in ``device_`` and the parameter is left as it is. Otherwise a torch
        device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``); an
        unknown device, or CUDA on a machine without it, is a ``ValueError``
        at ``fit``.
    criterion : class, default=WeightedRegressionLoss
        Called as ``criterion_(pred, target, weight)``; it receives ``loss`` if it
        is a :class:`~skdir.nn.losses.WeightedRegressionLoss`.
    optimizer : class, default=torch.optim.AdamW
        Torch optimizer; its parameters as ``optimizer__*``.
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=200
        Most epochs to train.
    batch_size : int, default=64
        Mini-batch size.
    train_split : callable or None, default=None
        skorch's validation split; None uses ``validation_fraction``.
    verbose : int, default=0
        1 prints skorch's table of losses per epoch.
    **kwargs
        Further skorch parameters (``module__*``, ``optimizer__*``,
        ``iterator_train__*``, ``callbacks``...). Training batches are shuffled.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    n_features_in_ : int
        Number of input columns.
    n_outputs_ : int
        Number of targets.
    label_density_ : LabelDensity or None
        Density of the training targets (bins ``lds_bins``/``lds_bin_width``,
        kernel of LDS); None when it cannot be formed (more than two targets, or
        a constant target) and neither LDS nor FDS is used. Scorers read it to
        define shot regions without looking at test targets.
    fds_density_ : LabelDensity or None
        The same bins with the FDS kernel; None without FDS.
    feature_smoothing_ : FeatureDistributionSmoothing
        The FDS layer (only with ``fds=True``).
    task_weighting_ : UncertaintyWeighting
        The learned per-target log-variances (only with
        ``multitask_weighting="uncertainty"``); ``task_weighting_.weights`` are
        the current weights ``exp(-s_t)``.
    norm_intercept_, norm_slope_ : ndarray of shape (n_targets,)
        The lines from target to feature norm fitted before the fine-tuning
        stage (only with ``norm_finetune_epochs > 0``).
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
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 5))
    >>> y = X[:, 0] + 0.1 * rng.normal(size=100)
    >>> reg = DIRRegressor(lds=True, max_epochs=20, random_state=0, device="cpu")
    >>> reg.fit(X, y).predict(X[:3]).shape
    (3,)
    >>> reg.score(X, y) > 0.8
    True
    """

    _dir_parameter_constraints: dict = {
        "loss": [StrOptions({*LOSSES, "bmse"})],
        "lds": ["boolean"],
        "lds_kernel": [StrOptions(set(KERNELS))],
        "lds_ks": [Interval(Integral, 1, None, closed="left")],
        "lds_sigma": [Interval(Real, 0, None, closed="neither")],
        "reweight": [StrOptions({"sqrt_inv", "inverse"})],
        "lds_bins": [Interval(Integral, 1, None, closed="left")],
        "lds_bin_width": [Interval(Real, 0, None, closed="neither"), None],
        "fds": ["boolean"],
        "fds_kernel": [StrOptions(set(KERNELS))],
        "fds_ks": [Interval(Integral, 1, None, closed="left")],
        "fds_sigma": [Interval(Real, 0, None, closed="neither")],
        "fds_momentum": [Interval(Real, 0, 1, closed="left")],
        "fds_start_update": [Interval(Integral, 0, None, closed="left")],
        "fds_start_smooth": [Interval(Integral, 0, None, closed="left")],
        "fds_clip": [tuple, list],
        "fds_var_floor": [Interval(Real, 0, None, closed="left")],
        "fds_shrinkage": [Interval(Real, 0, None, closed="left")],
        "bmse_form": [StrOptions(set(BMSE_FORMS))],
        "bmse_init_sigma": [Interval(Real, 0, None, closed="neither")],
        "bmse_sigma_lr": [Interval(Real, 0, None, closed="left")],
        "ranksim_weight": [Interval(Real, 0, None, closed="left")],
        "ranksim_lambda": [Interval(Real, 0, None, closed="neither")],
        "conr_weight": [Interval(Real, 0, None, closed="left")],
        "conr_temperature": [Interval(Real, 0, None, closed="neither")],
        "conr_threshold": [Interval(Real, 0, None, closed="neither")],
        "conr_push": [Interval(Real, 0, None, closed="left")],
        "norm_order_weight": [Interval(Real, 0, None, closed="left")],
        "norm_finetune_epochs": [Interval(Integral, 0, None, closed="left")],
        "norm_finetune_weight": [Interval(Real, 0, None, closed="left")],
        "mixup": [StrOptions({"none", "mixup", "c_mixup", "c-mixup"}), None],
        "mixup_alpha": [Interval(Real, 0, None, closed="neither")],
        "cmixup_bandwidth": [Interval(Real, 0, None, closed="neither")],
        "input_noise": [Interval(Real, 0, None, closed="left")],
        "feature_dropout": [Interval(Real, 0, 1, closed="left")],
        "multitask_weighting": [StrOptions({"uncertainty"}), None],
        "target_transformer": [HasMethods(["fit", "transform", "inverse_transform"]), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "lr": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"-1"})],
    }

    def __init__(
        self,
        module: str | type = "mlp",
        *args: Any,
        loss: str = "mse",
        lds: bool = False,
        lds_kernel: str = "gaussian",
        lds_ks: int = 5,
        lds_sigma: float = 2.0,
        reweight: str = "sqrt_inv",
        lds_bins: int = 50,
        lds_bin_width: float | None = None,
        fds: bool = False,
        fds_kernel: str = "gaussian",
        fds_ks: int = 5,
        fds_sigma: float = 2.0,
        fds_momentum: float = 0.9,
        fds_start_update: int = 0,
        fds_start_smooth: int = 1,
        fds_clip: tuple[float, float] = (0.1, 10.0),
        fds_var_floor: float = 1e-4,
        fds_shrinkage: float = 2.0,
        bmse_form: str = "bmc",
        bmse_init_sigma: float = 1.0,
        bmse_sigma_lr: float = 1e-2,
        ranksim_weight: float = 0.0,
        ranksim_lambda: float = 2.0,
        conr_weight: float = 0.0,
        conr_temperature: float = 0.2,
        conr_threshold: float = 0.25,
        conr_push: float = 0.01,
        norm_order_weight: float = 0.0,
        norm_finetune_epochs: int = 0,
        norm_finetune_weight: float = 1.0,
        mixup: str | None = None,
        mixup_alpha: float = 2.0,
        cmixup_bandwidth: float = 0.5,
        input_noise: float = 0.0,
        feature_dropout: float = 0.0,
        multitask_weighting: str | None = None,
        target_transformer: Any = None,
        early_stopping: bool = True,
        validation_fraction: float | None = 0.1,
        patience: int = 10,
        random_state: int | np.random.RandomState | None = None,
        device: str = "auto",
        criterion: type = WeightedRegressionLoss,
        optimizer: type = torch.optim.AdamW,
        lr: float = 1e-3,
        max_epochs: int = 200,
        batch_size: int = 64,
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
        self.loss = loss
        self.lds = lds
        self.lds_kernel = lds_kernel
        self.lds_ks = lds_ks
        self.lds_sigma = lds_sigma
        self.reweight = reweight
        self.lds_bins = lds_bins
        self.lds_bin_width = lds_bin_width
        self.fds = fds
        self.fds_kernel = fds_kernel
        self.fds_ks = fds_ks
        self.fds_sigma = fds_sigma
        self.fds_momentum = fds_momentum
        self.fds_start_update = fds_start_update
        self.fds_start_smooth = fds_start_smooth
        self.fds_clip = fds_clip
        self.fds_var_floor = fds_var_floor
        self.fds_shrinkage = fds_shrinkage
        self.bmse_form = bmse_form
        self.bmse_init_sigma = bmse_init_sigma
        self.bmse_sigma_lr = bmse_sigma_lr
        self.ranksim_weight = ranksim_weight
        self.ranksim_lambda = ranksim_lambda
        self.conr_weight = conr_weight
        self.conr_temperature = conr_temperature
        self.conr_threshold = conr_threshold
        self.conr_push = conr_push
        self.norm_order_weight = norm_order_weight
        self.norm_finetune_epochs = norm_finetune_epochs
        self.norm_finetune_weight = norm_finetune_weight
        self.mixup = mixup
        self.mixup_alpha = mixup_alpha
        self.cmixup_bandwidth = cmixup_bandwidth
        self.input_noise = input_noise
        self.feature_dropout = feature_dropout
        self.multitask_weighting = multitask_weighting
        self.target_transformer = target_transformer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
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

    @property
    def _default_callbacks(self):
        callbacks = list(super()._default_callbacks)
        if self.early_stopping is True:  # garbage values are rejected in fit
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(monitor="valid_loss", patience=self.patience, load_best=True),
                )
            )
        return callbacks

    def set_params(self, **params: Any) -> DIRRegressor:
        """Set parameters; they take effect at the next :meth:`fit`.

        Unlike a plain skorch net, a fitted ``DIRRegressor`` is not rebuilt
        here: its network, label density and FDS layer are sized and binned
        from the training data, which ``set_params`` does not have. A change
        of the model (module, criterion, DIR technique, target transformer)
        marks the regressor for a fresh build: it keeps predicting as fitted,
        and the next ``fit`` or ``partial_fit`` trains from scratch. Training
        settings (``lr``, ``optimizer__*``, ``max_epochs``, ``batch_size``,
        callbacks, ...) apply to the current network, as in skorch.

        Parameters
        ----------
        **params : dict
            Estimator parameters, including nested ``module__*``,
            ``criterion__*`` and ``optimizer__*`` ones.

        Returns
        -------
        self : DIRRegressor
            This regressor.
        """
        if getattr(self, "initialized_", False) and any(map(self._changes_model, params)):
            self.initialized_ = False
        return super().set_params(**params)

    def _changes_model(self, name: str) -> bool:
        """Whether a parameter shapes the trained model (not just the training run)."""
        if name in _TRAINING_SETTINGS or self._is_virtual_param(name):
            return False
        return not name.startswith(("iterator_", "callbacks", "optimizer"))

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
            Non-negative weights, multiplied with the LDS weights. Routed by
            Pipelines when metadata routing is on and requested with
            ``set_fit_request(sample_weight=True)``.
        eval_set : (X_val, y_val) or None, default=None
            Validation data for early stopping instead of an internal split
            (weighted by LDS from the training density when ``lds=True``).

        Returns
        -------
        self : DIRRegressor
            The fitted regressor.
        """
        self._check_dir_params()
        X_dict, y_train = self._prepare_training_data(X, y, sample_weight, reset=True)
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
            with self._seeded():
                super().fit(X_dict, y_train)
                if self.norm_finetune_epochs:
                    self._finetune_feature_norms(X_dict, y_train)
        finally:
            self._eval_data_ = None
        return self

    def partial_fit(
        self, X: ArrayLike, y: ArrayLike = None, classes: Any = None, **fit_params: Any
    ) -> DIRRegressor:
        """Train for ``max_epochs`` more epochs without re-initialising the network.

        On an unfitted regressor this is :meth:`fit`. Later calls reuse the label
        density, target transformer and sizes of the first fit.

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
        self._check_dir_params()
        X_dict, y_train = self._prepare_training_data(X, y, sample_weight, reset=False)
        with self._seeded():
            super().partial_fit(X_dict, y_train)
        return self

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """Predict targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets), float64
            Predictions in the shape of the ``y`` given to ``fit``.
        """
        check_is_fitted(self, "n_outputs_")
        X = self._validate_X(X, reset=False)
        chunks = [
            (out[0] if isinstance(out, tuple) else out).detach()
            for out in self.forward_iter(X, training=False)
        ]
        y_pred = torch.cat(chunks).cpu().numpy().astype(np.float64)
        y_pred = y_pred.reshape(len(X), self.n_outputs_)
        if self.target_transformer_ is not None:
            y_pred = np.asarray(
                self.target_transformer_.inverse_transform(y_pred), dtype=np.float64
            ).reshape(len(X), self.n_outputs_)
        return y_pred[:, 0] if self.y_ndim_ == 1 else y_pred

    def attention_weights(self, X: Any) -> NDArray[np.float64]:
        """Return the attention of ``module="attention_mil"`` over each bag's fragments.

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

    # --------------------------------------------------------- data handling
    def _check_dir_params(self) -> None:
        params = {name: getattr(self, name) for name in self._dir_parameter_constraints}
        validate_parameter_constraints(
            self._dir_parameter_constraints, params, caller_name=type(self).__name__
        )
        _check_device(self.device)
        low, high = self.fds_clip
        if not 0 < low <= 1 <= high:
            raise ValueError(
                f"fds_clip must be (low, high) with 0 < low <= 1 <= high, got {self.fds_clip}."
            )
        if self.fds_start_smooth < self.fds_start_update:
            raise ValueError(
                f"fds_start_smooth={self.fds_start_smooth} is before "
                f"fds_start_update={self.fds_start_update}; features can only be smoothed "
                "once statistics exist."
            )
        module_class = self._module_class()
        self._check_module_params(module_class)
        self._check_method_params(module_class)

    def _check_method_params(self, module_class: type) -> None:
        """Check the balanced-MSE, regulariser and augmentation options."""
        pairwise = [
            name
            for name, on in (
                ("ranksim_weight", self.ranksim_weight > 0),
                ("conr_weight", self.conr_weight > 0),
                (
                    "loss='bmse' with bmse_form='bmc'",
                    self.loss == "bmse" and self.bmse_form == "bmc",
                ),
            )
            if on
        ]
        if pairwise and isinstance(self.batch_size, Integral) and self.batch_size < 2:
            raise ValueError(
                f"{', '.join(pairwise)} compare the samples of a batch with each other, but "
                f"batch_size={self.batch_size}; use batch_size >= 2 (a final batch of one "
                "sample contributes 0 to these terms)."
            )
        if self.mixup not in (None, "none") and getattr(module_class, "accepts_bags", False):
            raise ValueError(
                f"mixup={self.mixup!r} mixes rows of 2-D inputs and cannot mix bags of "
                f"fragments ({module_class.__name__}); set mixup=None."
            )

    def _module_class(self) -> type:
        module = self.module
        if isinstance(module, torch.nn.Module):
            raise ValueError(
                "module must be 'mlp', 'two_tower' or a torch.nn.Module class, not an "
                "instance: an instance carries its trained weights into clones (cross-"
                "validation folds, search trials). Pass the class and its arguments as "
                "module__name=value."
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
            f"module must be 'mlp', 'two_tower' or a torch.nn.Module class, got {module!r}."
        )

    def _module_kwargs(self, module_class: type) -> dict[str, Any]:
        kwargs = self.get_params_for("module")
        for name in ("n_features", "n_outputs"):
            if name in kwargs:
                raise ValueError(
                    f"module__{name} is set from the data by DIRRegressor; do not pass it."
                )
        signature = inspect.signature(module_class)
        accepts_any = any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()
        )
        sizes = {"n_features": self.n_features_in_, "n_outputs": self.n_outputs_}
        for name, value in sizes.items():
            if accepts_any or name in signature.parameters:
                kwargs[name] = value
        return kwargs

    def _check_module_params(self, module_class: type) -> None:
        signature = inspect.signature(module_class)
        parameters = signature.parameters
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

    def _takes_bags(self) -> bool:
        return bool(getattr(self._module_class(), "accepts_bags", False))

    def _validate_X(self, X: ArrayLike, reset: bool) -> NDArray[np.float32]:
        if self._takes_bags():  # bag modules: NaN-padded (n_bags, max_fragments, d)
            return validate_bags(self, X, reset)
        _reject_3d(X)
        return validate_data(self, X, dtype=np.float32, reset=reset)

    def _prepare_training_data(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None, reset: bool
    ) -> tuple[dict[str, NDArray], NDArray[np.float32]]:
        if y is None:
            raise ValueError(
                "DIRRegressor requires y to be passed, but the target y is None; pass the "
                "training targets."
            )
        if self._takes_bags():
            X = validate_bags(self, X, reset)
            y = validate_data(self, y=y, multi_output=True, y_numeric=True)
            check_consistent_length(X, y)
        else:
            _reject_3d(X)
            X, y = validate_data(
                self, X, y, reset=reset, dtype=np.float32, multi_output=True, y_numeric=True
            )
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 0:
            raise ValueError("y has 0 target columns; pass at least one target.")
        columns = y.reshape(len(y), -1)
        if reset:
            self.y_ndim_ = y.ndim
            self.n_outputs_ = columns.shape[1]
            self.device_ = self._resolve_device()
            self._fit_densities(y)
            self.target_transformer_ = (
                None if self.target_transformer is None else clone(self.target_transformer)
            )
            if self.target_transformer_ is not None:
                self.target_transformer_.fit(columns)
        elif columns.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {columns.shape[1]} target(s) but the regressor was fitted on "
                f"{self.n_outputs_}; pass targets with the same columns."
            )
        weight = np.ones(len(y))
        if self.lds:
            weight = self.label_density_.weights(y, reweight=self.reweight)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            weight = weight * sample_weight
        return self._pack(X, y, weight)

    def _pack(
        self, X: NDArray[np.float32], y: NDArray[np.float64], weight: NDArray[np.float64]
    ) -> tuple[dict[str, NDArray], NDArray[np.float32]]:
        columns = y.reshape(len(y), -1)
        if self.target_transformer_ is not None:
            columns = np.asarray(self.target_transformer_.transform(columns), dtype=np.float64)
            if not np.all(np.isfinite(columns)):
                raise ValueError(
                    "target_transformer produced NaN or infinite targets; check that it "
                    "accepts every training target."
                )
            columns = columns.reshape(len(y), -1)
        bins = (
            self.fds_density_.flat_bin_index(y)
            if self.fds_density_ is not None
            else np.zeros(len(y), dtype=np.int64)
        )
        X_dict = {
            "X": X,
            "sample_weight": weight.astype(np.float32),
            "bins": bins.astype(np.int64),
        }
        if self._uses_norm_terms():  # per-target bins of the feature-norm terms
            label_bins = self.label_density_.bin_index(y)
            X_dict["label_bins"] = np.asarray(label_bins, dtype=np.int64).reshape(len(y), -1)
        return X_dict, columns.astype(np.float32)

    def _prepare_eval_set(self, eval_set: Any) -> tuple[dict[str, NDArray], NDArray]:
        try:
            X_val, y_val = eval_set
        except (TypeError, ValueError) as exc:
            raise ValueError("eval_set must be a pair (X_val, y_val).") from exc
        X_val = self._validate_X(X_val, reset=False)
        y_val = np.asarray(y_val, dtype=np.float64)
        columns = y_val.reshape(len(y_val), -1) if y_val.ndim else y_val
        if y_val.ndim not in (1, 2) or len(y_val) != len(X_val):
            raise ValueError(
                f"eval_set targets have shape {y_val.shape}, which does not match X_val's "
                f"{len(X_val)} rows."
            )
        if columns.shape[1] != self.n_outputs_:
            raise ValueError(
                f"eval_set has {columns.shape[1]} target(s) but y has {self.n_outputs_}."
            )
        if not np.all(np.isfinite(y_val)):
            raise ValueError("eval_set targets contain NaN or infinity.")
        weight = np.ones(len(y_val))
        if self.lds:
            weight = self.label_density_.weights(y_val, reweight=self.reweight)
        return self._pack(X_val, y_val, weight)

    def _fit_densities(self, y: NDArray[np.float64]) -> None:
        settings = {
            "n_bins": self.lds_bins,
            "bin_width": self.lds_bin_width,
            "kernel": self.lds_kernel,
            "ks": self.lds_ks,
            "sigma": self.lds_sigma,
        }
        needed = (
            self.lds
            or self.fds
            or self._uses_norm_terms()
            or (self.loss == "bmse" and self.bmse_form != "bmc")
        )
        n_targets = 1 if y.ndim == 1 else y.shape[1]
        if n_targets > 2:
            if needed:
                raise ValueError(
                    f"LDS and FDS support one or two targets, but y has {n_targets}; fit one "
                    "model per pair of targets or switch lds/fds off."
                )
            self.label_density_ = None
        else:
            try:
                self.label_density_ = LabelDensity(**settings).fit(y)
            except ValueError:
                if needed:
                    raise
                self.label_density_ = None
        if self.fds:
            settings.update(kernel=self.fds_kernel, ks=self.fds_ks, sigma=self.fds_sigma)
            self.fds_density_ = LabelDensity(**settings).fit(y)
        else:
            self.fds_density_ = None

    def get_split_datasets(self, X: Any, y: Any = None, **fit_params: Any) -> tuple:
        """Return the training dataset and the validation dataset (or None)."""
        eval_data = getattr(self, "_eval_data_", None)
        if eval_data is not None:
            return self.get_dataset(X, y), self.get_dataset(*eval_data)
        if self.train_split is not None:
            return super().get_split_datasets(X, y, **fit_params)
        dataset = self.get_dataset(X, y)
        if not self.validation_fraction:
            return dataset, None
        split = ValidSplit(self.validation_fraction, random_state=self._split_seed_)
        return split(dataset, y, **fit_params)

    # ------------------------------------------------------ seeding, device
    def _resolve_device(self) -> str:
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    @property
    def _device(self) -> str:
        return getattr(self, "device_", None) or self._resolve_device()

    @contextmanager
    def _device_resolved(self):
        """Let skorch code that reads ``self.device`` see the resolved device."""
        requested = self.device
        if requested != "auto":
            yield
            return
        self.device = self._device
        try:
            yield
        finally:
            self.device = requested

    @contextmanager
    def _seeded(self):
        if self.random_state is None:
            self._split_seed_ = None
            yield
            return
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        self._split_seed_ = seed
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield

    def _initialize_module(self, reason=None):
        with self._device_resolved():
            return super()._initialize_module(reason=reason)

    def _initialize_criterion(self, reason=None):
        with self._device_resolved():
            return super()._initialize_criterion(reason=reason)

    def load_params(self, *args: Any, **kwargs: Any) -> None:
        """Load parameters saved by ``save_params`` (see skorch)."""
        with self._device_resolved():
            super().load_params(*args, **kwargs)

    def __setstate__(self, state: dict) -> None:
        requested = state.get("device")
        if requested == "auto":
            used = str(state.get("device_") or "cpu")
            state["device"] = "cuda" if used.startswith("cuda") else "cpu"
        super().__setstate__(state)
        if requested == "auto":
            self.device_ = self.device
            self.device = "auto"
        elif "device_" in state:
            self.device_ = self.device

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
        if self.fds:
            for needed in ("features", "head", "embedding_dim"):
                if not hasattr(self.module_, needed):
                    raise ValueError(
                        f"fds=True needs a module with features(X), head(z) and "
                        f"embedding_dim; {module_class.__name__} has no {needed!r}."
                    )
            self.feature_smoothing_ = FeatureDistributionSmoothing(
                n_bins=int(np.prod(self.fds_density_.n_bins_)),
                embedding_dim=self.module_.embedding_dim,
                momentum=self.fds_momentum,
                start_update=self.fds_start_update,
                start_smooth=self.fds_start_smooth,
                clip=tuple(self.fds_clip),
                var_floor=self.fds_var_floor,
                shrinkage=self.fds_shrinkage,
            )
        elif hasattr(self, "feature_smoothing_"):
            del self.feature_smoothing_
        return self

    def initialize_criterion(self):
        """Build the loss, passing ``loss`` to a ``WeightedRegressionLoss``.

        With ``loss="bmse"`` and the default criterion the loss is a
        :class:`~skdir.nn.losses.BalancedMSELoss`; with
        ``multitask_weighting="uncertainty"`` an
        :class:`~skdir.nn.losses.UncertaintyWeighting` (``task_weighting_``) is
        added, whose log-variances are trained with the network.
        """
        kwargs = self.get_params_for("criterion")
        criterion = self.criterion
        if isinstance(criterion, torch.nn.Module):
            raise ValueError("criterion must be a class, not an instance.")
        default = inspect.isclass(criterion) and issubclass(
            criterion, (WeightedRegressionLoss, BalancedMSELoss)
        )
        if self.loss == "bmse" and default:
            self.criterion_ = BalancedMSELoss(
                self.bmse_form, float(self.bmse_init_sigma), **self._bmse_prior()
            )
        else:
            if default:
                kwargs.setdefault("loss", self.loss)
            self.criterion_ = criterion(**kwargs)
        if self.multitask_weighting == "uncertainty":
            if self.n_outputs_ < 2:
                raise ValueError(
                    "multitask_weighting='uncertainty' weighs the losses of several targets, "
                    "but y has one; pass 2-D y or set multitask_weighting=None."
                )
            if self.loss == "bmse" and self.bmse_form != "bmc":
                raise ValueError(
                    f"multitask_weighting='uncertainty' needs a loss per target; "
                    f"bmse_form={self.bmse_form!r} couples the targets through the joint "
                    "label distribution. Use bmse_form='bmc' or multitask_weighting=None."
                )
            self.task_weighting_ = UncertaintyWeighting(self.n_outputs_)
        elif hasattr(self, "task_weighting_"):
            del self.task_weighting_
        self._check_feature_module()
        return self

    def initialize_optimizer(self, triggered_directly: Any = None):
        """Build the optimizer; Balanced MSE's noise scale gets ``bmse_sigma_lr``."""
        if triggered_directly is None:
            super().initialize_optimizer()
        else:
            super().initialize_optimizer(triggered_directly)
        sigma = getattr(getattr(self, "criterion_", None), "noise_sigma", None)
        if isinstance(sigma, torch.nn.Parameter):
            for group in self.optimizer_.param_groups:
                group["params"] = [p for p in group["params"] if p is not sigma]
            self.optimizer_.add_param_group(
                {"params": [sigma], "lr": float(self.bmse_sigma_lr), "weight_decay": 0.0}
            )
        return self

    def _bmse_prior(self) -> dict[str, Any]:
        """GAI/BNI: the training label distribution in the network's target space."""
        if self.bmse_form == "bmc":
            return {}
        density = self.label_density_
        lows = [edges[:-1] for edges in density.bin_edges_]
        highs = [edges[1:] for edges in density.bin_edges_]

        def grid(parts: list[NDArray]) -> NDArray[np.float64]:
            mesh = np.meshgrid(*parts, indexing="ij")  # C order, as counts_.ravel()
            return np.stack([m.ravel() for m in mesh], axis=1).astype(np.float64)

        low, high = grid(lows), grid(highs)
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

    def _finetune_feature_norms(self, X_dict: dict[str, NDArray], y: NDArray) -> None:
        """Second stage of feature-norm ordinality: fit the norm lines, then fine-tune."""
        chunks = [
            out[1].detach().to("cpu", torch.float64)
            for out in self.forward_iter({"X": X_dict["X"]}, training=False)
        ]
        z = torch.cat(chunks)
        labels = y.reshape(len(y), -1).astype(np.float64)
        bins = X_dict["label_bins"]
        intercepts, slopes = [], []
        for t, block_norms in enumerate(_norm_blocks(z, labels.shape[1])):
            norms = block_norms.numpy()
            _, index, counts = np.unique(bins[:, t], return_inverse=True, return_counts=True)
            mean_norm = np.bincount(index, weights=norms) / counts
            mean_label = np.bincount(index, weights=labels[:, t]) / counts
            many = counts >= np.median(counts)
            if np.unique(mean_label[many]).size < 2:
                raise ValueError(
                    "norm_finetune_epochs needs at least two many-shot bins per target to fit "
                    "the norm line; use more distinct targets or more lds_bins."
                )
            slope, intercept = np.polyfit(mean_label[many], mean_norm[many], 1)
            intercepts.append(intercept)
            slopes.append(slope)
        self.norm_intercept_ = np.array(intercepts)
        self.norm_slope_ = np.array(slopes)
        self._norm_finetuning = True
        try:
            super().partial_fit(X_dict, y, epochs=int(self.norm_finetune_epochs))
        finally:
            self._norm_finetuning = False

    def _uses_norm_terms(self) -> bool:
        return self.norm_order_weight > 0 or self.norm_finetune_epochs > 0

    def _uses_feature_terms(self) -> bool:
        return self.ranksim_weight > 0 or self.conr_weight > 0 or self._uses_norm_terms()

    def _check_feature_module(self) -> None:
        if self._uses_feature_terms():
            for needed in ("features", "head"):
                if not hasattr(self.module_, needed):
                    raise ValueError(
                        "ranksim_weight, conr_weight and the feature-norm options need a "
                        "module with features(X) and head(z); "
                        f"{type(self.module_).__name__} has no {needed!r}."
                    )

    def infer(self, x: Any, **fit_params: Any) -> Any:
        """Forward a batch; return ``(predictions, features)`` for feature modules.

        During training with ``fds=True`` the features pass through the FDS layer
        (which needs the batch's bins) before the output layer.
        """
        bins = None
        if isinstance(x, Mapping):
            x = dict(x)
            bins = x.pop("bins", None)
            x.pop("sample_weight", None)
            x = x.pop("X")
        device = self._device
        features = to_tensor(x, device=device)
        module = self.module_
        if not (hasattr(module, "features") and hasattr(module, "head")):
            return module(features, **fit_params)
        z = module.features(features, **fit_params)
        calibrated = z  # regularisers see the features before FDS
        smoother = getattr(self, "feature_smoothing_", None)
        if self.fds and smoother is not None and smoother.training and bins is not None:
            calibrated = smoother(z, to_tensor(bins, device=device), epoch=len(self.history) - 1)
        return module.head(calibrated), z

    def get_loss(self, y_pred: Any, y_true: Any, X: Any = None, training: bool = False):
        """Weighted data loss plus any regularisation terms.

        The criterion gets ``(pred, target, weight)``; every term from
        :meth:`regularization_terms` is added to it.
        """
        pred, z = y_pred if isinstance(y_pred, tuple) else (y_pred, None)
        device = self._device
        y_true = to_tensor(y_true, device=device)
        weight = None
        if isinstance(X, Mapping) and "sample_weight" in X:
            weight = to_tensor(X["sample_weight"], device=device)
        task_weighting = getattr(self, "task_weighting_", None)
        if training and self.multitask_weighting == "uncertainty" and task_weighting is not None:
            columns = y_true.reshape(len(y_true), -1)
            per_target = torch.stack(
                [
                    self.criterion_(pred[:, t : t + 1], columns[:, t : t + 1], weight)
                    for t in range(columns.shape[1])
                ]
            )
            loss = task_weighting(per_target)
        else:
            loss = self.criterion_(pred, y_true, weight)
        terms = self.regularization_terms(
            pred, z, y_true, weight, training, batch=X if isinstance(X, Mapping) else None
        )
        for term in terms:
            loss = loss + term
        return loss

    def regularization_terms(
        self,
        pred: torch.Tensor,
        z: torch.Tensor | None,
        y: torch.Tensor,
        weight: torch.Tensor | None,
        training: bool,
        batch: Mapping | None = None,
    ) -> list[torch.Tensor]:
        """Return the weighted regularisation terms added to the training loss.

        RankSim, ConR, the feature-norm hinge and, while fine-tuning feature
        norms, the distance to the fitted norm line; all act on the pre-FDS
        features ``z`` in training only. ``batch`` is the batch's input mapping
        (bins, and ConR's second view).
        """
        if not training or z is None or not self._uses_feature_terms():
            return []
        batch = batch or {}
        scale = torch.as_tensor(self._label_scale_, dtype=y.dtype, device=y.device)
        y = y.reshape(len(y), -1)
        labels = y / scale
        terms = []
        if self.ranksim_weight > 0:
            terms.append(self.ranksim_weight * ranksim_loss(z, labels, self.ranksim_lambda))
        if self.conr_weight > 0:
            pred2, z2 = batch["_second_view"]
            predictions = torch.cat([pred, pred2]).reshape(2 * len(y), -1) / scale
            weights = None if weight is None else torch.cat([weight, weight]).reshape(-1)
            terms.append(
                self.conr_weight
                * conr_loss(
                    torch.cat([z, z2]),
                    torch.cat([labels, labels]),
                    predictions,
                    weights,
                    temperature=self.conr_temperature,
                    threshold=self.conr_threshold,
                    push=self.conr_push,
                )
            )
        if self.norm_order_weight > 0:
            bins = to_tensor(batch["label_bins"], device=z.device)
            terms.append(self.norm_order_weight * norm_order_loss(z, y, bins))
        if getattr(self, "_norm_finetuning", False):
            intercept = torch.as_tensor(self.norm_intercept_, dtype=z.dtype, device=z.device)
            slope = torch.as_tensor(self.norm_slope_, dtype=z.dtype, device=z.device)
            terms.append(self.norm_finetune_weight * norm_target_loss(z, y, intercept, slope))
        return terms

    # ------------------------------------------------------ training step
    def train_step_single(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        """One training step: augment the batch, forward, loss with regularisers, backward."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi, yi, mixed = self._augment_batch(Xi, yi)
        y_pred = self.infer(Xi, **fit_params)
        if self.conr_weight > 0 and isinstance(Xi, Mapping):
            view = self._perturb(mixed)  # ConR's second view: other dropout masks and noise
            z2 = self.module_.features(view)
            Xi = {**Xi, "_second_view": (self.module_.head(z2), z2)}
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def _perturb(self, X: torch.Tensor) -> torch.Tensor:
        return feature_dropout(gaussian_noise(X, self.input_noise), self.feature_dropout)

    def _augment_batch(self, Xi: Any, yi: Any) -> tuple[Any, Any, Any]:
        """Mix and perturb a training batch; return it and the mixed, unperturbed inputs."""
        if not isinstance(Xi, Mapping):
            return Xi, yi, Xi
        Xi = dict(Xi)
        device = self._device
        X = to_tensor(Xi["X"], device=device)
        if self.mixup not in (None, "none"):
            if X.ndim != 2:
                raise ValueError(
                    f"mixup={self.mixup!r} mixes rows of 2-D inputs, but the batch has shape "
                    f"{tuple(X.shape)} (bags); set mixup=None for bag modules."
                )
            y = to_tensor(yi, device=device)
            kernel_targets = y.reshape(len(y), -1) / torch.as_tensor(
                self._label_scale_, dtype=y.dtype, device=y.device
            )
            method = "mixup" if self.mixup == "mixup" else "c_mixup"
            X, yi, partner, lam = mixup_batch(
                X,
                y,
                alpha=self.mixup_alpha,
                method=method,
                bandwidth=self.cmixup_bandwidth,
                kernel_targets=kernel_targets,
            )
            weight = to_tensor(Xi["sample_weight"], device=device)
            Xi["sample_weight"] = lam * weight + (1 - lam) * weight[partner]
            if lam < 0.5:  # bins follow the dominant partner
                for key in ("bins", "label_bins"):
                    if key in Xi:
                        Xi[key] = to_tensor(Xi[key], device=device)[partner]
        Xi["X"] = self._perturb(X)
        return Xi, yi, X

    def on_epoch_end(
        self, net: Any, dataset_train: Any = None, dataset_valid: Any = None, **kwargs: Any
    ) -> None:
        """Fold the epoch's training features into the FDS statistics."""
        super().on_epoch_end(net, dataset_train=dataset_train, dataset_valid=dataset_valid)
        smoother = getattr(self, "feature_smoothing_", None)
        if self.fds and smoother is not None:
            smoother.update_statistics(len(self.history) - 1, smooth=self._smooth_over_bins)

    def _smooth_over_bins(self, per_bin: NDArray[np.float64]) -> NDArray[np.float64]:
        density = self.fds_density_
        grid = per_bin.reshape(*density.n_bins_, per_bin.shape[-1])
        smoothed = density.smooth(grid, normalize="sum", mode="reflect")
        return smoothed.reshape(per_bin.shape)
