"""Modality balance: on-the-fly gradient modulation of the modality towers.

When one modality of a fused network (one column block of ``X``: the text and
the image embedding, say) predicts the target much better than the other, the
joint loss falls quickly through the dominant modality's tower and the other
tower stops learning before it has found its part of the signal ("modality
imbalance"). OGM-GE, On-the-fly Gradient Modulation with Generalisation
Enhancement (Peng, Wei, Deng, Wang & Hu, "Balanced Multimodal Learning via
On-the-fly Gradient Modulation", CVPR 2022), slows the dominant tower down
batch by batch:

1. each modality ``u`` gets a contribution score ``s_u`` from its own share of
   the prediction on the batch; the discrepancy ratio is
   ``rho_u = s_u / s_other``;
2. the dominant modality (``rho_u > 1``) has its tower's gradients multiplied by
   ``k_u = 1 - tanh(alpha * rho_u)``; the others keep ``k = 1``;
3. GE: Gaussian noise is added to the modulated gradients, ``g <- k g + h``
   with ``h ~ N(0, Sigma)`` and ``Sigma`` the covariance of the unmodulated
   gradient's noise; shrinking ``g`` by ``k`` also shrinks the SGD noise that
   helps generalisation, and ``h`` more than restores it.

:class:`ModalityBalance` adapts this to regression (the paper scores classes
by softmax probabilities):

- the "only ``u``" prediction keeps modality ``u``'s tower output and replaces
  every other modality's by its batch mean, then runs the fusion and the head,
  ``head(fuse(...))``;
- the score is ``s_u = 1 / MSE_u`` of that prediction, in units of each
  target's training standard deviation (so for two modalities
  ``rho_a = MSE_b / MSE_a``); with more than two modalities
  ``rho_u = s_u / mean_{v != u} s_v``;
- the noise of GE has, per parameter tensor, the standard deviation of the
  entries of its unmodulated gradient (a per-tensor proxy for ``Sigma``), drawn
  from torch's global generator (seeded by the regressor's ``random_state``).

A module takes part through three methods, which :class:`~skdir.nn.TwoTower`
and :class:`~skdir.nn.FusionTransformer` have: ``modality_outputs(X)`` (one
tensor per modality), ``fuse(outputs)`` (the rest of ``features``, so that
``features(X) == fuse(modality_outputs(X))``) and ``modality_parameters()``
(the parameters of each modality's own tower).
"""

from __future__ import annotations

from numbers import Real
from typing import Any, ClassVar

import numpy as np
import torch

from .base import Regularizer, TrainingBatch

__all__ = ["ModalityBalance", "modulation_coefficients"]

#: The methods a module class needs for modality balance (besides its ``head``).
PROTOCOL = ("modality_outputs", "fuse", "modality_parameters")


def modulation_coefficients(mse: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Return OGM's gradient coefficients ``k`` and discrepancy ratios ``rho``.

    Parameters
    ----------
    mse : torch.Tensor of shape (n_modalities,)
        Error of each modality's "only this modality" prediction; its score is
        ``s_u = 1 / mse_u``.
    alpha : float
        Strength of the modulation (>= 0).

    Returns
    -------
    k : torch.Tensor of shape (n_modalities,)
        ``1 - tanh(alpha * rho_u)`` where ``rho_u > 1``, else 1.
    rho : torch.Tensor of shape (n_modalities,)
        ``s_u`` over the mean score of the other modalities.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.balance import modulation_coefficients
    >>> k, rho = modulation_coefficients(torch.tensor([0.5, 2.0]), alpha=0.5)
    >>> rho.tolist(), [round(v, 4) for v in k.tolist()]  # 1 - tanh(0.5 * 4) = 0.0360
    ([4.0, 0.25], [0.036, 1.0])
    """
    if mse.ndim != 1 or len(mse) < 2:
        raise ValueError(
            f"mse must hold one error per modality (at least two), got shape {tuple(mse.shape)}."
        )
    score = 1.0 / mse.clamp_min(torch.finfo(mse.dtype).tiny)
    others = (score.sum() - score) / (len(score) - 1)
    rho = score / others
    k = torch.where(rho > 1, 1.0 - torch.tanh(alpha * rho), torch.ones_like(rho))
    return k, rho


class ModalityBalance(Regularizer):
    """Balance how much each modality's tower learns (OGM-GE for regression).

    A :class:`~skdir.nn.DIRRegressor` component (``regularizers=[("balance",
    ModalityBalance())]``) for :class:`~skdir.nn.TwoTower` and
    :class:`~skdir.nn.FusionTransformer`. It adds no loss term: after each
    training step's backward pass it scores each modality by the error of its
    "only this modality" prediction on the batch (the other modalities' tower
    outputs replaced by their batch means, under ``torch.no_grad`` with the
    network in evaluation mode, so dropout draws and batch-norm statistics are
    untouched), and multiplies the gradients of the dominant modality's tower by
    ``k = 1 - tanh(alpha * rho)``, plus Gaussian noise when ``noise=True``
    (see :mod:`skdir.nn.balance` for the derivation from Peng et al., CVPR
    2022). The trunk, the head and the other towers keep their gradients.

    Towers shared by all modalities (``module__shared=True``) have no
    parameters of their own per modality and are refused.

    It helped nowhere robustly in ``benchmarks/bench_modality_balance.py``
    (test MSE all / few / balanced, 3 seeds), so it is off unless added and not
    among :class:`~skdir.auto.AutoDIRRegressor`'s candidates:

    - generated data, block A strong and simple, block B weak and nonlinear:
      :class:`~skdir.nn.TwoTower` with AdamW 0.329 / 0.870 / 0.401;
      ``alpha=0.1, noise=False`` 0.307 / 0.794 / 0.376, as good as LDS weights
      (0.316 / 0.794 / 0.384) and far behind a plain
      :class:`~skdir.nn.FusionTransformer` (0.157 / 0.377 / 0.194), which the
      component does not improve (0.160 with ``alpha=0.1``, 0.171 with 0.5);
      ``alpha=0.5`` with noise doubles the error (0.516). With SGD, the
      optimiser of the paper, the two-tower network gets 0.200 alone and 0.201
      with ``alpha=0.1``; 0.240 with 0.5;
    - STS-B-DIR, two 384-d sentence towers with ``fusion="interaction"``:
      1.073 alone, 1.100 (``alpha=0.1``) and 1.074 (0.5); the default network
      gets 0.592. The two sentences are exchangeable, so neither dominates and
      both towers are slowed in turn (mean ``k`` 0.96 / 0.94 at 0.1).

    Two measured reasons: the weak tower was not starved (in the last epoch
    the "only" errors stand 3.7 : 1 with and without the component, seed 0,
    near the 3.1 : 1 of the signals' variances, 2 : 0.64), and AdamW divides
    each parameter's step by its running gradient scale, which cancels a
    constant factor ``k``; only its batch-to-batch changes and the noise reach
    the update (with SGD the factor does reach it, and still does not help).
    The noise has the size of the whole unmodulated gradient, ten times the
    modulated one at ``alpha=0.5``: 0.516 with it, 0.343 without.

    Parameters
    ----------
    alpha : float, default=0.1
        Strength of the modulation; 0 switches the component off. With two
        modalities whose "only" errors differ twofold, ``alpha=0.1`` gives the
        dominant tower ``k = 1 - tanh(0.2) = 0.80``.
    noise : bool, default=True
        Add the generalisation-enhancement noise to the modulated gradients.

    Attributes
    ----------
    coefficients_ : ndarray of shape (n_modalities,)
        On the fitted copy (``net.regularizers_[name]``): mean coefficient ``k``
        of each modality over the training steps of the last epoch.
    ratios_ : ndarray of shape (n_modalities,)
        Mean discrepancy ratio ``rho`` over the same steps.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.nn import DIRRegressor, ModalityBalance
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 6)).astype(np.float32)
    >>> y = 3 * X[:, 0] + np.sin(X[:, 4])  # the first block dominates
    >>> net = DIRRegressor(module="two_tower", module__modalities=[3, 3],
    ...                    regularizers=[("balance", ModalityBalance(alpha=0.5))],
    ...                    max_epochs=2, random_state=0).fit(X, y)
    >>> net.regularizers_["balance"].coefficients_.shape
    (2,)
    """

    needs: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, alpha: float = 0.1, noise: bool = True) -> None:
        self.alpha = alpha
        self.noise = noise

    @property
    def weight(self) -> float:
        """Always 0: the component adds no loss term."""
        return 0.0

    @property
    def active(self) -> bool:
        """Whether the modulation is on (``alpha > 0``)."""
        return self.alpha > 0

    def loss(self, batch: TrainingBatch) -> torch.Tensor:
        """Return 0: modality balance acts on the gradients, not on the loss."""
        return batch.y.new_zeros(())

    def __call__(self, batch: TrainingBatch) -> torch.Tensor:
        """Return 0 (no loss term)."""
        return self.loss(batch)

    def check(self, net: Any) -> None:
        """Refuse a negative ``alpha`` and modules without per-modality towers.

        Raises
        ------
        ValueError
            With the problem and the fix.
        """
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, Real) or not self.alpha >= 0:
            raise ValueError(
                f"ModalityBalance(alpha={self.alpha!r}): alpha must be a non-negative number "
                "(e.g. 0.1; 0 switches it off)."
            )
        if not isinstance(self.noise, bool | np.bool_):
            raise ValueError(f"ModalityBalance(noise={self.noise!r}) must be True or False.")
        module_class = net._module_class()
        missing = [name for name in PROTOCOL if not hasattr(module_class, name)]
        if missing:
            raise ValueError(
                f"ModalityBalance needs a network with one tower per modality; "
                f"{module_class.__name__} has no {missing[0]}(). Use module='two_tower' or "
                "module='fusion_transformer' with module__modalities=[...], or give your module "
                "modality_outputs(X), fuse(outputs), modality_parameters() and head(z)."
            )
        if net.get_params_for("module").get("shared", False):
            raise ValueError(
                f"ModalityBalance cannot modulate {module_class.__name__}(shared=True): one tower "
                "serves every modality, so no modality has gradients of its own. Use "
                "module__shared=False."
            )

    def before_fit(self, net: Any, X: Any, y: Any) -> None:
        """Check the built network's towers and reset the coefficients."""
        if not callable(getattr(net.module_, "head", None)):
            raise ValueError(
                f"ModalityBalance needs the network's output layer as head(z); "
                f"{type(net.module_).__name__} has none. Give the module a head."
            )
        n_towers = len(net.module_.modality_parameters())  # raises for shared towers
        if n_towers < 2:
            raise ValueError(
                f"ModalityBalance needs at least two modalities, the network has {n_towers}; "
                "set module__modalities to two or more column blocks."
            )
        self._epoch: int | None = None

    @torch.no_grad()
    def coefficients(self, net: Any, batch: TrainingBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(k, rho)`` of one batch from the "only this modality" predictions."""
        module = net.module_
        training = module.training
        module.eval()
        try:
            outputs = module.modality_outputs(batch.X)
            means = [out.mean(dim=0, keepdim=True).expand_as(out) for out in outputs]
            only = [
                module.head(module.fuse([*means[:u], out, *means[u + 1 :]]))
                for u, out in enumerate(outputs)
            ]
        finally:
            module.train(training)
        y = batch.labels
        if only[0].shape != y.shape:
            raise ValueError(
                f"ModalityBalance compares the network's outputs {tuple(only[0].shape)} with the "
                f"targets {tuple(y.shape)}; it needs one output per target (a point-prediction "
                "criterion such as WeightedRegressionLoss)."
            )
        scale = 1.0 if batch.label_scale is None else batch.label_scale.to(y.dtype)
        mse = torch.stack([((pred / scale - y) ** 2).mean() for pred in only])
        return modulation_coefficients(mse, float(self.alpha))

    def after_backward(self, net: Any, batch: TrainingBatch) -> None:
        """Scale the dominant tower's gradients (and add the GE noise)."""
        k, rho = self.coefficients(net, batch)
        for coefficient, parameters in zip(
            k.tolist(), net.module_.modality_parameters(), strict=True
        ):
            if coefficient >= 1.0:
                continue
            for parameter in parameters:
                grad = parameter.grad
                if grad is None:
                    continue
                spread = grad.std() if grad.numel() > 1 else grad.new_zeros(())
                grad.mul_(coefficient)
                if self.noise:
                    grad.add_(torch.randn_like(grad) * spread)
        self._record(len(getattr(net, "history", ())), k, rho)

    def _record(self, epoch: int, k: torch.Tensor, rho: torch.Tensor) -> None:
        """Add one step's ``k`` and ``rho`` to the running means of the current epoch."""
        if getattr(self, "_epoch", None) != epoch:
            self._epoch, self._steps = epoch, 0
            self._k_sum, self._rho_sum = np.zeros(len(k)), np.zeros(len(k))
        self._steps += 1
        self._k_sum += k.double().cpu().numpy()
        self._rho_sum += rho.double().cpu().numpy()
        self.coefficients_ = self._k_sum / self._steps
        self.ratios_ = self._rho_sum / self._steps
