"""The protocol of DIR techniques that plug into :class:`~skdir.nn.DIRRegressor`.

A regulariser adds a term to the training loss; an augmentation rewrites a
training batch. Both are small scikit-learn style objects (their constructor
arguments are their parameters, tunable as ``regularizers__<name>__<param>`` or
``augment__<param>``), and both say what they need from the network through
class attributes, so a class written outside skdir works without editing it:

>>> import torch
>>> from skdir.nn.base import Regularizer, TrainingBatch
>>> class FeatureL2(Regularizer):
...     def loss(self, batch):
...         return batch.features.pow(2).mean()
>>> batch = TrainingBatch(X=torch.zeros(2, 1), y=torch.zeros(2, 1),
...                       features=torch.tensor([[1.0], [3.0]]))
>>> float(FeatureL2(weight=0.5)(batch))  # 0.5 * mean(1, 9)
2.5
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from sklearn.base import BaseEstimator

__all__ = ["Augmentation", "Regularizer", "TrainingBatch"]

#: What a technique may ask of the network (``Regularizer.needs``).
NEEDS = frozenset({"features", "second_view", "label_bins"})


@dataclasses.dataclass
class TrainingBatch:
    """One training batch as the DIR techniques see it.

    Augmentations receive and return one (``dataclasses.replace`` makes the
    copy); regularisers read one after the forward pass. Tensors are on the
    network's device; targets are 2-D ``(n, n_targets)`` in the network's
    target space (after ``target_transformer``).

    Parameters
    ----------
    X : torch.Tensor
        Inputs of the batch.
    y : torch.Tensor of shape (n, n_targets)
        Targets.
    weight : torch.Tensor of shape (n,) or None, default=None
        Sample weights (the weighter's times the user's), or None.
    label_scale : torch.Tensor of shape (n_targets,) or None, default=None
        Training standard deviation of each target: label distances are
        measured on ``y / label_scale`` (see :attr:`labels`).
    bins : torch.Tensor of shape (n,) or None, default=None
        Flat FDS bin of each sample (only with FDS).
    label_bins : torch.Tensor of shape (n, n_targets) or None, default=None
        Per-target bin of each sample in the regressor's ``label_density_``
        (only when a regulariser needs ``"label_bins"``).
    pred : torch.Tensor of shape (n, n_targets) or None, default=None
        Predictions (set after the forward pass).
    features : torch.Tensor of shape (n, embedding_dim) or None, default=None
        Penultimate features before FDS (modules with ``features``/``head``).
    second_view : (torch.Tensor, torch.Tensor) or None, default=None
        ``(pred, features)`` of a second forward pass of the batch, with fresh
        dropout masks and per-view augmentations (only when a regulariser
        needs ``"second_view"``).
    """

    X: torch.Tensor
    y: torch.Tensor
    weight: torch.Tensor | None = None
    label_scale: torch.Tensor | None = None
    bins: torch.Tensor | None = None
    label_bins: torch.Tensor | None = None
    pred: torch.Tensor | None = None
    features: torch.Tensor | None = None
    second_view: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def labels(self) -> torch.Tensor:
        """Targets in units of their training standard deviation, shape (n, n_targets)."""
        y = self.y.reshape(len(self.y), -1)
        if self.label_scale is None:
            return y
        return y / self.label_scale.to(y.dtype)


class Regularizer(BaseEstimator):
    """Base class of the loss terms added to :class:`~skdir.nn.DIRRegressor`'s loss.

    A subclass implements :meth:`loss` (the unweighted term of one batch) and
    declares in ``needs`` what it reads from the batch besides ``y`` and
    ``pred``: ``"features"`` (the module must have ``features(X)`` and
    ``head(z)``), ``"second_view"`` (a second forward pass of the batch) or
    ``"label_bins"``. The regressor clones each regulariser at ``fit``, calls
    :meth:`check` once, adds ``weight * loss(batch)`` to every training step
    and, after training, calls :meth:`after_fit` (a second training stage, for
    example). Two more hooks serve techniques that are not only loss terms: the
    regressor calls :meth:`before_fit` once the network is built and before the
    main training (a pre-training stage, e.g. with
    :meth:`~skdir.nn.DIRRegressor.pretrain`), and :meth:`after_backward` after
    every training step's backward pass, before the optimizer steps (to rescale
    gradients, e.g.). A weight of 0 switches the term off.

    Parameters
    ----------
    weight : float, default=1.0
        Multiplier of the term in the training loss.
    """

    #: What the term reads from the batch besides ``y`` and ``pred``.
    needs: ClassVar[frozenset[str]] = frozenset({"features"})
    #: Whether the term compares the samples of a batch with each other
    #: (then batches of one sample are refused).
    pairwise: ClassVar[bool] = False

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def loss(self, batch: TrainingBatch) -> torch.Tensor:
        """Return the unweighted term for one batch (a scalar tensor)."""
        raise NotImplementedError(f"{type(self).__name__} must implement loss(batch).")

    def __call__(self, batch: TrainingBatch) -> torch.Tensor:
        """Return ``weight * loss(batch)``."""
        return self.weight * self.loss(batch)

    @property
    def active(self) -> bool:
        """Whether the term is on (a positive weight)."""
        return self.weight > 0

    def check(self, net: Any) -> None:
        """Validate the parameters against the regressor before training.

        Raises
        ------
        ValueError
            With the problem and the fix; the default checks ``weight >= 0``.
        """
        if not self.weight >= 0:
            raise ValueError(
                f"{type(self).__name__}(weight={self.weight!r}): the weight must be a "
                "non-negative number (0 switches the term off)."
            )

    def before_fit(self, net: Any, X: Any, y: Any) -> None:
        """Run before the main training, on the built network (a no-op here).

        ``X``/``y`` are the packed training data, as for :meth:`after_fit`
        (:meth:`~skdir.nn.DIRRegressor.pretrain` leaves out the rows held out
        for early stopping).
        """

    def after_backward(self, net: Any, batch: TrainingBatch) -> None:
        """Run after each training step's backward pass, before the step (a no-op here).

        The gradients are in the parameters' ``.grad``; ``batch`` is the step's
        :class:`TrainingBatch` with ``pred`` and ``features`` set.
        """

    def after_fit(self, net: Any, X: Any, y: Any) -> None:
        """Run after the main training (a no-op here); ``X``/``y`` are the training data."""


class Augmentation(BaseEstimator):
    """Base class of the training-batch augmentations of :class:`~skdir.nn.DIRRegressor`.

    A subclass implements :meth:`__call__`, which returns a new
    :class:`TrainingBatch` (never modifies the one it gets), drawing random
    numbers from torch's global generator (seeded by the regressor's
    ``random_state``). ``per_view = True`` marks an augmentation that perturbs
    the inputs only and is redrawn for each view of the batch (input noise,
    feature dropout); ``False`` marks one applied once per batch before any view
    is formed (mixup). ``needs_2d`` marks augmentations that mix rows of 2-D
    inputs and cannot act on bags of fragments. Augmentations run in training
    steps only, never in validation or prediction.
    """

    per_view: ClassVar[bool] = False
    needs_2d: ClassVar[bool] = False

    def __call__(self, batch: TrainingBatch) -> TrainingBatch:
        """Return the augmented batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(batch).")

    def check(self, net: Any) -> None:
        """Validate the parameters against the regressor before training (no-op here)."""
