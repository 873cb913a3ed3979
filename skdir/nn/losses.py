"""Per-sample weighted regression losses of deep imbalanced regression.

The losses of Yang et al., "Delving into Deep Imbalanced Regression" (ICML 2021):
weighted MSE, L1 and Huber, and Focal-R, which scales an elementwise error by
``(2 * sigmoid(beta * |e|) - 1) ** gamma`` (or ``tanh(beta * |e|) ** gamma``) so that
well-fitted samples contribute less. The batch loss is the plain mean of
``weight * elementwise loss`` (the official LDS code), so weights with mean 1 over the
training set keep the scale of the unweighted loss.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LOSSES", "WeightedRegressionLoss", "elementwise_loss"]

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
    base = error**2 if loss == "focal_mse" else absolute
    return base * modulation**gamma


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
        per_sample = per_element.reshape(len(per_element), -1).mean(dim=1)
        if weight is None:
            return per_sample.mean()
        return (weight.reshape(-1).to(per_sample.dtype) * per_sample).mean()
