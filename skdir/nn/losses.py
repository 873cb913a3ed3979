"""Per-sample weighted regression losses of deep imbalanced regression.

The losses of Yang et al., "Delving into Deep Imbalanced Regression" (ICML 2021):
weighted MSE, L1 and Huber, and Focal-R, which scales an elementwise error by
``(2 * sigmoid(beta * |e|) - 1) ** gamma`` (or ``tanh(beta * |e|) ** gamma``) so that
well-fitted samples contribute less. The batch loss is the plain mean of
``weight * elementwise loss`` (the official LDS code), so weights with mean 1 over the
training set keep the scale of the unweighted loss.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from .._validation import as_real_array

__all__ = [
    "BMSE_FORMS",
    "LOSSES",
    "BalancedMSELoss",
    "PinballLoss",
    "UncertaintyWeightedLoss",
    "UncertaintyWeighting",
    "WeightedRegressionLoss",
    "elementwise_loss",
]

LOSSES = ("mse", "l1", "huber", "focal_mse", "focal_l1")

#: ``beta`` used when it is left at None: Huber's transition point and Focal-R's scale.
_DEFAULT_BETA = {"huber": 1.0, "focal_mse": 0.2, "focal_l1": 0.2}


def elementwise_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    loss: str = "mse",
    *,
    beta: float | None = None,
    gamma: float = 1.0,
    activation: str = "sigmoid",
) -> torch.Tensor:
    """Return the unreduced loss of every prediction.

    With ``e = pred - target``:

    - ``"mse"``: ``e**2``; ``"l1"``: ``|e|``;
    - ``"huber"``: ``0.5 * e**2 / beta`` where ``|e| < beta``, else ``|e| - 0.5 * beta``
      (``beta=1`` by default; the LDS paper uses 0.3 on STS-B);
    - ``"focal_mse"`` / ``"focal_l1"`` (Focal-R): ``e**2`` / ``|e|`` times
      ``(2 * sigmoid(beta * |e|) - 1) ** gamma`` (``activation="sigmoid"``) or
      ``tanh(beta * |e|) ** gamma`` (``activation="tanh"``); ``beta=0.2``, ``gamma=1``
      by default, as in the paper.

    Parameters
    ----------
    pred, target : torch.Tensor of the same shape
        Predictions and targets.
    loss : {"mse", "l1", "huber", "focal_mse", "focal_l1"}, default="mse"
        The loss.
    beta : float or None, default=None
        Huber transition point or Focal-R scale; None takes the default above.
    gamma : float, default=1.0
        Focal-R exponent.
    activation : {"sigmoid", "tanh"}, default="sigmoid"
        Focal-R modulating function.

    Returns
    -------
    loss : torch.Tensor of the shape of ``pred``

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.losses import elementwise_loss
    >>> elementwise_loss(torch.tensor([0.0, 3.0]), torch.tensor([1.0, 1.0]), "huber")
    tensor([0.5000, 1.5000])
    """
    if loss not in LOSSES:
        raise ValueError(f"Unknown loss {loss!r}; choose one of {', '.join(LOSSES)}.")
    if pred.shape != target.shape:
        raise ValueError(
            f"pred has shape {tuple(pred.shape)} but target has {tuple(target.shape)}; "
            "they must match."
        )
    error = pred - target
    if loss == "mse":
        return error**2
    absolute = error.abs()
    if loss == "l1":
        return absolute
    beta = _DEFAULT_BETA[loss] if beta is None else float(beta)
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}.")
    if loss == "huber":
        return torch.where(absolute < beta, 0.5 * error**2 / beta, absolute - 0.5 * beta)
    if activation == "sigmoid":
        modulation = 2.0 * torch.sigmoid(beta * absolute) - 1.0
    elif activation == "tanh":
        modulation = torch.tanh(beta * absolute)
    else:
        raise ValueError(f"activation must be 'sigmoid' or 'tanh', got {activation!r}.")
    if not gamma >= 0:
        raise ValueError(
            f"gamma must be >= 0 (the Focal-R exponent; 0 switches the modulation off), "
            f"got {gamma!r}."
        )
    base = error**2 if loss == "focal_mse" else absolute
    return base * modulation**gamma


def _rows(values: torch.Tensor) -> torch.Tensor:
    """Return a batch as ``(n, k)``: a 1-D batch becomes one column (also when empty)."""
    return values[:, None] if values.ndim == 1 else values.flatten(1)


def _weighted_mean(per_sample: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """Mean of the per-sample losses, each times its weight when weights are given."""
    if len(per_sample) == 0:
        return per_sample.sum()  # an empty batch adds nothing (mean() would be NaN)
    if weight is None:
        return per_sample.mean()
    weight = weight.reshape(-1)
    if len(weight) != len(per_sample):
        raise ValueError(
            f"weight has {len(weight)} value(s) for a batch of {len(per_sample)} samples; "
            "give one weight per sample, shape (n,)."
        )
    return (weight.to(per_sample.dtype) * per_sample).mean()


class WeightedRegressionLoss(nn.Module):
    """Mean of per-sample weighted elementwise regression losses.

    The criterion of :class:`~skdir.nn.DIRRegressor`. For predictions of shape
    ``(n, k)`` the loss is ``mean_i(w_i * mean_k(l_ik))``: the elementwise loss
    (see :func:`elementwise_loss`) is averaged over the targets of a sample,
    multiplied by the sample's weight and averaged over the batch, as the
    official LDS code does (Yang et al., ICML 2021). Without weights it is the
    plain mean.

    Parameters
    ----------
    loss : {"mse", "l1", "huber", "focal_mse", "focal_l1"}, default="mse"
        Elementwise loss.
    beta : float or None, default=None
        Huber transition point (default 1) or Focal-R scale (default 0.2).
    gamma : float, default=1.0
        Focal-R exponent.
    activation : {"sigmoid", "tanh"}, default="sigmoid"
        Focal-R modulating function.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.losses import WeightedRegressionLoss
    >>> criterion = WeightedRegressionLoss("mse")
    >>> pred, target = torch.tensor([[1.0], [2.0]]), torch.zeros(2, 1)
    >>> float(criterion(pred, target)), float(criterion(pred, target, torch.tensor([1.0, 3.0])))
    (2.5, 6.5)
    """

    def __init__(
        self,
        loss: str = "mse",
        beta: float | None = None,
        gamma: float = 1.0,
        activation: str = "sigmoid",
    ) -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"Unknown loss {loss!r}; choose one of {', '.join(LOSSES)}.")
        self.loss = loss
        self.beta = beta
        self.gamma = gamma
        self.activation = activation

    def forward(
        self, pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Return the weighted mean loss of the batch."""
        per_element = elementwise_loss(
            pred, target, self.loss, beta=self.beta, gamma=self.gamma, activation=self.activation
        )
        per_sample = _rows(per_element).mean(dim=1)
        return _weighted_mean(per_sample, weight)


BMSE_FORMS = ("bmc", "gai", "bni")


class BalancedMSELoss(nn.Module):
    """Balanced MSE: regression likelihood corrected to a balanced label prior.

    Ren, Zhang, Zhang, Liu & Wang, "Balanced MSE for Imbalanced Visual Regression"
    (CVPR 2022). Reading the MSE as the negative log-likelihood of a Gaussian
    ``N(y; y_hat, sigma^2 I)`` under the *training* label distribution ``p_train``,
    the likelihood under a uniform label distribution is obtained by Bayes' rule,
    ``p_bal(y | x) ∝ p_train(y | x) / p_train(y)``, whose negative log is, up to
    constants (``d`` is the number of targets)::

        L = -log N(y; y_hat, sigma^2 I) + log ∫ N(y'; y_hat, sigma^2 I) p_train(y') dy'

    The three forms differ in how the integral over ``p_train`` is estimated:

    - ``"bmc"`` (batch Monte Carlo): by the targets ``y_j`` of the batch. The loss of
      sample ``i`` is then the cross-entropy of the "class" ``i`` under the logits
      ``-||y_hat_i - y_j||^2 / (2 sigma^2)`` over ``j``, i.e.
      ``||y_hat_i - y_i||^2 / (2 sigma^2) + logsumexp_j(-||y_hat_i - y_j||^2 / (2 sigma^2))``.
      It needs at least 2 samples per batch (a batch of one gives 0).
    - ``"gai"`` (Gaussian approximation): ``p_train`` is a Gaussian mixture with
      weights ``pi_k``, means ``mu_k`` and per-target variances ``s_k^2``. The
      integral is a mixture of Gaussians, so
      ``L = ||y_hat - y||^2 / (2 sigma^2) + (d/2) log sigma^2
      + logsumexp_k[log pi_k - 1/2 sum_t log(sigma^2 + s_kt^2)
      - sum_t (y_hat_t - mu_kt)^2 / (2 (sigma^2 + s_kt^2))]``.
    - ``"bni"`` (bin-based numerical integration): ``p_train`` is point masses
      ``pi_k`` at the bin centres ``mu_k``, the ``s_k = 0`` case of GAI, in which the
      ``log sigma^2`` terms cancel (the loss may be negative: constants are dropped).

    As in the paper's code, the loss is multiplied by ``2 sigma^2`` (detached) so
    that it is on the scale of the MSE, and ``sigma`` is a learnable parameter
    ``noise_sigma`` (:class:`~skdir.nn.DIRRegressor` trains it with its own
    learning rate ``sigma_lr``, without weight decay). As the regressor's
    ``criterion`` (``criterion=BalancedMSELoss, criterion__form="gai"``) the
    GAI/BNI prior is the regressor's ``label_density_`` in the network's target
    space (one component per bin, at its centre, with the bin's variance
    ``width^2 / 12`` for GAI, weighted by its count; the paper fits an
    8-component GMM instead). Several targets use the multi-dimensional (isotropic) form above, so
    the targets should be on comparable scales (standardise them). The batch loss
    is the mean of ``weight * L_i``.

    Parameters
    ----------
    form : {"bmc", "gai", "bni"}, default="bmc"
        Estimator of the balancing term.
    init_sigma : float, default=1.0
        Initial noise scale ``sigma`` in target units.
    sigma_lr : float, default=1e-2
        Learning rate of ``noise_sigma`` in :class:`~skdir.nn.DIRRegressor`; 0
        keeps it fixed.
    prior_locations : array-like of shape (n_components, n_targets) or None
        Component means (GAI) or bin centres (BNI); required by those forms.
    prior_probs : array-like of shape (n_components,) or None
        Component weights (normalised to sum 1); required by GAI and BNI.
    prior_scales : array-like of shape (n_components, n_targets) or None
        Component standard deviations (GAI only; zeros give BNI).

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.losses import BalancedMSELoss
    >>> loss = BalancedMSELoss("bmc", init_sigma=1.0)
    >>> pred, target = torch.tensor([[0.0], [1.0]]), torch.tensor([[0.0], [2.0]])
    >>> round(loss(pred, target).item(), 4)  # 2 * (log(1 + e^-2) + log 2) / 2
    0.8201
    """

    def __init__(
        self,
        form: str = "bmc",
        init_sigma: float = 1.0,
        sigma_lr: float = 1e-2,
        prior_locations: ArrayLike | None = None,
        prior_probs: ArrayLike | None = None,
        prior_scales: ArrayLike | None = None,
    ) -> None:
        super().__init__()
        if form not in BMSE_FORMS:
            raise ValueError(f"Unknown balanced MSE form {form!r}; choose one of bmc, gai, bni.")
        if not 0 < init_sigma < np.inf:
            raise ValueError(f"init_sigma must be a positive finite number, got {init_sigma!r}.")
        if not sigma_lr >= 0:
            raise ValueError(f"sigma_lr must be non-negative, got {sigma_lr!r}.")
        self.form = form
        self.sigma_lr = float(sigma_lr)
        self.noise_sigma = nn.Parameter(torch.tensor(float(init_sigma)))
        if form == "bmc":
            return
        if prior_locations is None or prior_probs is None:
            raise ValueError(
                f"form={form!r} needs the training label distribution: prior_locations and "
                "prior_probs."
            )
        locations = torch.as_tensor(
            as_real_array(prior_locations, "prior_locations", dtype=np.float32)
        )
        locations = locations.reshape(len(locations), -1)
        probs = torch.as_tensor(as_real_array(prior_probs, "prior_probs")).reshape(-1)
        if (
            len(probs) != len(locations)
            or not torch.isfinite(probs).all()
            or not torch.all(probs >= 0)
            or probs.sum() <= 0
        ):
            raise ValueError(
                "prior_probs must be finite and non-negative, not all zero, with one entry "
                f"per location; got {len(probs)} for {len(locations)} location(s)."
            )
        keep = probs > 0
        scales = torch.zeros_like(locations)
        if form == "gai" and prior_scales is not None:
            scales = torch.as_tensor(as_real_array(prior_scales, "prior_scales", dtype=np.float32))
            if scales.numel() != locations.numel():
                raise ValueError(
                    f"prior_scales has {scales.numel()} value(s) but prior_locations has "
                    f"{locations.numel()}; give one standard deviation per location and target."
                )
            scales = scales.reshape(locations.shape)
        if not (torch.isfinite(locations).all() and torch.isfinite(scales).all()):
            raise ValueError("prior_locations and prior_scales must be finite.")
        if (scales < 0).any():
            raise ValueError("prior_scales are standard deviations and must be >= 0.")
        self.register_buffer("prior_locations", locations[keep])
        self.register_buffer("prior_log_probs", (probs[keep] / probs.sum()).log().float())
        self.register_buffer("prior_vars", (scales[keep] ** 2).float())

    @staticmethod
    def is_pairwise(form: str = "bmc", **params: Any) -> bool:
        """Whether a criterion built with these parameters compares batch samples (BMC)."""
        return form == "bmc"

    def balanced_nll(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return the per-sample balanced negative log-likelihood (before rescaling)."""
        pred = _rows(pred)
        target = _rows(target).to(pred.dtype)
        if pred.shape != target.shape:
            raise ValueError(
                f"pred has shape {tuple(pred.shape)} but target has {tuple(target.shape)}."
            )
        noise_var = self.noise_sigma.to(pred.dtype) ** 2
        if self.form == "bmc":
            logits = -torch.cdist(pred, target).pow(2) / (2 * noise_var)
            labels = torch.arange(len(pred), device=pred.device)
            return nn.functional.cross_entropy(logits, labels, reduction="none")
        d = pred.shape[1]
        if self.prior_locations.shape[1] != d:
            raise ValueError(
                f"The prior has {self.prior_locations.shape[1]} target(s) per location but the "
                f"predictions have {d}; give prior_locations of shape (n_components, {d})."
            )
        fit_term = (pred - target).pow(2).sum(1) / (2 * noise_var)
        total_var = noise_var + self.prior_vars.to(pred.dtype)  # (K, d)
        diff = pred[:, None, :] - self.prior_locations.to(pred.dtype)[None]  # (n, K, d)
        log_mix = (
            self.prior_log_probs.to(pred.dtype)[None]
            - 0.5 * total_var.log().sum(1)[None]
            - (diff.pow(2) / (2 * total_var[None])).sum(2)
        )
        return fit_term + 0.5 * d * noise_var.log() + torch.logsumexp(log_mix, dim=1)

    def forward(
        self, pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Return the weighted mean balanced MSE of the batch (MSE scale)."""
        per_sample = self.balanced_nll(pred, target)
        per_sample = per_sample * (2 * self.noise_sigma.detach().to(per_sample.dtype) ** 2)
        return _weighted_mean(per_sample, weight)


class UncertaintyWeighting(nn.Module):
    """Uncertainty-weighted sum of per-target losses (homoscedastic task uncertainty).

    Kendall, Gal & Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses
    for Scene Geometry and Semantics" (CVPR 2018). For a Gaussian likelihood with a
    learned noise variance ``sigma_t^2`` per target, the negative log-likelihood is
    ``L_t / (2 sigma_t^2) + log sigma_t`` up to constants. With ``s_t = log sigma_t^2``
    (learned, initialised at 0, numerically stable) the total loss is::

        sum_t 0.5 * exp(-s_t) * L_t + 0.5 * s_t

    whose minimum in ``s_t`` is at ``exp(s_t) = L_t``: a noisier target (larger
    loss) gets the smaller weight ``exp(-s_t)``.

    Parameters
    ----------
    n_targets : int
        Number of per-target losses.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.losses import UncertaintyWeighting
    >>> weighting = UncertaintyWeighting(2)
    >>> weighting(torch.tensor([1.0, 3.0])).item()  # 0.5 * 1 + 0.5 * 3 at s = 0
    2.0
    """

    def __init__(self, n_targets: int) -> None:
        super().__init__()
        if isinstance(n_targets, bool) or not isinstance(n_targets, Integral):
            raise ValueError(f"n_targets must be an integer >= 1, got {n_targets!r}.")
        if int(n_targets) < 1:
            raise ValueError(f"n_targets must be at least 1, got {n_targets!r}.")
        self.log_vars = nn.Parameter(torch.zeros(int(n_targets)))

    @property
    def weights(self) -> torch.Tensor:
        """The current weights ``exp(-s_t)`` of the targets."""
        return torch.exp(-self.log_vars.detach())

    def forward(self, per_target_losses: torch.Tensor) -> torch.Tensor:
        """Combine a vector of per-target losses into one loss."""
        losses = per_target_losses.reshape(-1)
        if len(losses) != len(self.log_vars):
            raise ValueError(
                f"got {len(losses)} per-target losses for {len(self.log_vars)} targets."
            )
        log_vars = self.log_vars.to(losses.dtype)
        return (0.5 * torch.exp(-log_vars) * losses + 0.5 * log_vars).sum()


class UncertaintyWeightedLoss(WeightedRegressionLoss):
    """Per-target weighted losses combined by learned task uncertainty (a criterion).

    The multi-target criterion of :class:`~skdir.nn.DIRRegressor`
    (``criterion=UncertaintyWeightedLoss``, ``criterion__loss="huber"``): in
    training each target's weighted loss (:class:`WeightedRegressionLoss` on
    that column) is combined by :class:`UncertaintyWeighting` (Kendall, Gal &
    Cipolla, CVPR 2018), whose log-variances are trained with the network; in
    evaluation mode (validation losses) it is the plain mean over targets, so
    early stopping compares epochs on one scale. ``n_outputs`` is set by the
    regressor from the data.

    Parameters
    ----------
    n_outputs : int
        Number of targets (at least 2).
    loss, beta, gamma, activation
        As :class:`WeightedRegressionLoss`.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.losses import UncertaintyWeightedLoss
    >>> criterion = UncertaintyWeightedLoss(2)
    >>> pred, target = torch.tensor([[1.0, 2.0]]), torch.zeros(1, 2)
    >>> criterion(pred, target).item()  # 0.5 * 1 + 0.5 * 4 at s = 0
    2.5
    >>> criterion.eval()(pred, target).item()  # the plain mean
    2.5
    >>> criterion.weighting.weights.tolist()
    [1.0, 1.0]
    """

    def __init__(
        self,
        n_outputs: int,
        loss: str = "mse",
        beta: float | None = None,
        gamma: float = 1.0,
        activation: str = "sigmoid",
    ) -> None:
        super().__init__(loss=loss, beta=beta, gamma=gamma, activation=activation)
        if int(n_outputs) < 2:
            raise ValueError(
                f"UncertaintyWeightedLoss weighs the losses of several targets, but there is "
                f"{int(n_outputs)}; pass 2-D y or use WeightedRegressionLoss."
            )
        self.weighting = UncertaintyWeighting(int(n_outputs))

    def forward(
        self, pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Return the uncertainty-weighted loss (training) or the plain mean (evaluation)."""
        if not self.training:
            return super().forward(pred, target, weight)
        pred = pred.reshape(len(pred), -1)
        target = target.reshape(len(target), -1)
        per_target = torch.stack(
            [
                super(UncertaintyWeightedLoss, self).forward(
                    pred[:, t : t + 1], target[:, t : t + 1], weight
                )
                for t in range(pred.shape[1])
            ]
        )
        return self.weighting(per_target)


#: Ways :class:`PinballLoss` keeps the quantiles of a row from crossing.
MONOTONE = ("increments", "sort", "none")


class PinballLoss(nn.Module):
    """Pinball (quantile) loss of several quantiles per target, from one network.

    Quantile regression (Koenker & Bassett, "Regression Quantiles",
    Econometrica 46(1), 1978): the ``tau``-quantile of ``y`` given ``x``
    minimises the expected pinball loss ``max(tau * e, (tau - 1) * e)`` with
    ``e = y - q``. As the criterion of :class:`~skdir.nn.DIRRegressor`
    (``criterion=PinballLoss, criterion__quantiles=(0.05, 0.5, 0.95)``) the
    network gets ``n_targets * n_quantiles`` outputs (the regressor asks
    :meth:`output_multiplier`), read as ``(n_targets, n_quantiles)`` per row and
    turned into quantiles by :meth:`quantile_outputs`, so that they cannot cross:

    - ``monotone="increments"`` (default): the first output ``o_1`` is the
      lowest quantile and quantile ``k`` adds the positive increment
      ``softplus(o_k - o_1)`` to quantile ``k - 1``, so the quantiles increase
      by construction (the difference to ``o_1`` keeps the increments in target
      units when the output layer is scaled to the targets) (the monotone
      parameterisation of the "incremental quantile functions" of Park, Maddix,
      Aubet, Kan, Gasthaus & Wang, "Learning Quantile Functions without
      Quantile Crossing for Distribution-free Time Series Forecasting",
      AISTATS 2022);
    - ``"sort"``: the outputs sorted per row (the rearrangement of
      Chernozhukov, Fernández-Val & Galichon, Econometrica 78(3), 2010, which
      never increases the pinball loss);
    - ``"none"``: the raw outputs (quantiles may cross).

    The batch loss is the mean over quantiles and targets per sample, weighted
    per sample (LDS weights apply) and averaged over the batch, as
    :class:`WeightedRegressionLoss`. The regressor's ``predict`` then returns
    the quantile nearest 0.5 and ``predict_quantiles`` all of them, which is
    what ``ConformalDIRRegressor(conformity_score="cqr")`` calibrates.

    Parameters
    ----------
    n_outputs : int, default=1
        Number of targets (set by the regressor).
    quantiles : sequence of float, default=(0.05, 0.5, 0.95)
        Increasing levels in (0, 1).
    monotone : {"increments", "sort", "none"}, default="increments"
        How crossing is prevented.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.losses import PinballLoss
    >>> loss = PinballLoss(quantiles=(0.1, 0.9), monotone="none")
    >>> pred, target = torch.tensor([[0.0, 2.0]]), torch.tensor([[1.0]])
    >>> round(loss(pred, target).item(), 6)  # (0.1 * 1 + 0.1 * 1) / 2
    0.1
    >>> PinballLoss(quantiles=(0.1, 0.5, 0.9)).quantile_outputs(torch.zeros(1, 3))
    tensor([[[0.0000, 0.6931, 1.3863]]])
    """

    def __init__(
        self,
        n_outputs: int = 1,
        quantiles: tuple[float, ...] | list[float] = (0.05, 0.5, 0.95),
        monotone: str = "increments",
    ) -> None:
        super().__init__()
        levels = np.asarray(quantiles, dtype=np.float64).reshape(-1)
        if (
            levels.size < 1
            or not np.all((levels > 0) & (levels < 1))
            or np.any(np.diff(levels) <= 0)
        ):
            raise ValueError(
                f"quantiles must be increasing levels strictly between 0 and 1, got "
                f"{quantiles!r}; e.g. (0.05, 0.5, 0.95) for 90% intervals."
            )
        if monotone not in MONOTONE:
            raise ValueError(f"monotone must be one of {', '.join(MONOTONE)}, got {monotone!r}.")
        if isinstance(n_outputs, bool) or int(n_outputs) < 1:
            raise ValueError(f"n_outputs must be an integer >= 1, got {n_outputs!r}.")
        self.n_outputs = int(n_outputs)
        self.monotone = monotone
        self.quantiles = tuple(float(q) for q in levels)
        self.register_buffer("levels", torch.as_tensor(levels, dtype=torch.float32))

    @staticmethod
    def output_multiplier(quantiles: Any = (0.05, 0.5, 0.95), **params: Any) -> int:
        """Network outputs per target: the number of quantiles."""
        return len(np.asarray(quantiles).reshape(-1))

    @staticmethod
    def initial_bias(offset: Any, quantiles: Any = (0.05, 0.5, 0.95), **params: Any) -> Any:
        """Output-layer bias that starts every quantile near the mean target ``offset``.

        For ``monotone="increments"`` the first output starts at the mean and the
        others 4 below it (increments ``softplus(-4) ~ 0.018``); otherwise every
        output at the mean.
        """
        n_q = len(np.asarray(quantiles).reshape(-1))
        offset = np.asarray(offset, dtype=np.float64).reshape(-1, 1)
        bias = np.repeat(offset, n_q, axis=1)
        if params.get("monotone", "increments") == "increments" and n_q > 1:
            bias[:, 1:] -= 4.0
        return bias.reshape(-1)

    def quantile_outputs(self, raw: torch.Tensor) -> torch.Tensor:
        """Turn network outputs ``(..., n_outputs * n_quantiles)`` into quantiles.

        Returns a tensor of shape ``(..., n_outputs, n_quantiles)``, increasing
        along the last axis unless ``monotone="none"``.
        """
        n_q = len(self.quantiles)
        if raw.shape[-1] != self.n_outputs * n_q:
            raise ValueError(
                f"PinballLoss expects {self.n_outputs} target(s) x {n_q} quantile(s) = "
                f"{self.n_outputs * n_q} outputs per row, got {raw.shape[-1]}; build the "
                "network through DIRRegressor, which sizes it with output_multiplier."
            )
        out = raw.reshape(*raw.shape[:-1], self.n_outputs, n_q)
        if self.monotone == "increments" and n_q > 1:
            base = out[..., :1]
            steps = nn.functional.softplus(out[..., 1:] - base)
            return torch.cat([base, base + steps.cumsum(-1)], dim=-1)
        if self.monotone == "sort":
            return out.sort(dim=-1).values
        return out

    def forward(
        self, pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Return the weighted mean pinball loss of the batch."""
        quantiles = self.quantile_outputs(pred.reshape(len(pred), -1))  # (n, T, Q)
        target = _rows(target).to(quantiles.dtype)
        if target.shape[1] != self.n_outputs:
            raise ValueError(
                f"target has {target.shape[1]} column(s) but PinballLoss was built for "
                f"{self.n_outputs} target(s)."
            )
        error = target[..., None] - quantiles
        tau = self.levels.to(quantiles.dtype)
        per_element = torch.maximum(tau * error, (tau - 1) * error)
        return _weighted_mean(per_element.flatten(1).mean(dim=1), weight)
