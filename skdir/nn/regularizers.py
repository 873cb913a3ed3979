"""Feature regularisers of deep imbalanced regression, computed on one batch.

Each function takes the penultimate features ``z`` of a batch, its targets (and,
for ConR, the predictions) and returns a scalar loss term that
:class:`~skdir.nn.DIRRegressor` adds to the data loss with its weight:

- :func:`ranksim_loss`: RankSim (Gong, Mori & Tung, ICML 2022);
- :func:`conr_loss`: ConR (Keramati, Meng & Evans, ICLR 2024);
- :func:`norm_order_loss` and :func:`norm_target_loss`: feature-norm ordinality
  (after "Enhancing Deep Imbalanced Regression via Frobenius Norm
  Regularization", ICLR 2026 submission, https://openreview.net/forum?id=6XpSwo3ZCe).

Distances between targets are Euclidean norms, so every term accepts 1-D and 2-D
targets (shape ``(n,)`` or ``(n, n_targets)``); put the targets on comparable
scales first (the regressor divides each by its training standard deviation).

The classes :class:`RankSim`, :class:`ConR` and :class:`FeatureNormOrder` are the
same terms as :class:`~skdir.nn.base.Regularizer` components of the regressor
(``regularizers=[("conr", ConR(weight=1.0))]``).
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from .base import Regularizer, TrainingBatch

__all__ = [
    "ConR",
    "FeatureNormOrder",
    "RankSim",
    "conr_loss",
    "norm_order_loss",
    "norm_target_loss",
    "normalised_ranks",
    "one_per_label",
    "ranksim_loss",
]


def _as_columns(y: torch.Tensor, name: str = "y") -> torch.Tensor:
    """Return targets as ``(n, n_targets)``; 1-D ``y`` becomes one column."""
    if y.ndim == 1:
        return y[:, None]
    if y.ndim == 2:
        return y
    raise ValueError(
        f"{name} must have shape (n,) or (n, n_targets), got {tuple(y.shape)}; pass the "
        "targets of the batch, one row per sample."
    )


def _check_features(z: torch.Tensor) -> None:
    if z.ndim != 2:
        raise ValueError(
            f"z must have shape (n, embedding_dim), got {tuple(z.shape)}; pass the batch's "
            "penultimate features, one row per sample (z.reshape(len(z), -1) flattens them)."
        )


def _check_rows(z: torch.Tensor, **others: torch.Tensor | None) -> None:
    """Raise when a per-sample tensor does not have one row per row of ``z``."""
    for name, value in others.items():
        if value is not None and len(value) != len(z):
            raise ValueError(
                f"z has {len(z)} rows but {name} has {len(value)}; they must describe the "
                f"same batch (one {name} row per feature row)."
            )


def _check_columns(labels: torch.Tensor, other: torch.Tensor, name: str) -> None:
    if other.shape[1] != labels.shape[1]:
        raise ValueError(
            f"y has {labels.shape[1]} target(s) per sample but {name} has {other.shape[1]}; "
            f"give {name} the shape of y."
        )


def normalised_ranks(values: torch.Tensor) -> torch.Tensor:
    """Return the rank of every entry within its row, divided by the row length.

    The smallest entry of a row gets ``1 / n``, the largest ``1``; ties are broken
    by position.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.regularizers import normalised_ranks
    >>> normalised_ranks(torch.tensor([[0.3, -1.0, 2.0, 0.0]]))
    tensor([[0.7500, 0.2500, 1.0000, 0.5000]])
    """
    n = values.shape[-1]
    ranks = values.argsort(dim=-1, stable=True).argsort(dim=-1, stable=True)
    return (ranks + 1).to(values.dtype) / n


class _BlackboxRank(torch.autograd.Function):
    """Row-wise ranks with the blackbox-solver gradient of Vlastelica et al. (ICLR 2020).

    Forward: ``r = rank(s)``. Backward with incoming gradient ``g``: rank the
    perturbed input ``s' = s + lambda * g`` and return ``-(r - r') / lambda``, the
    gradient of a piecewise-linear interpolation of the ranking.
    """

    @staticmethod
    def forward(ctx, values: torch.Tensor, interpolation: float) -> torch.Tensor:
        ranks = normalised_ranks(values)
        ctx.save_for_backward(values, ranks)
        ctx.interpolation = interpolation
        return ranks

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        values, ranks = ctx.saved_tensors
        lam = ctx.interpolation
        perturbed = normalised_ranks(values + lam * grad_output)
        return -(ranks - perturbed) / lam, None


def one_per_label(y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Return the indices of one randomly chosen sample per distinct target value.

    RankSim's batch sampling: ties in the label ranking are removed and rare
    labels are not outnumbered by frequent ones.

    Parameters
    ----------
    y : torch.Tensor of shape (n,) or (n, n_targets)
        Targets of the batch.
    generator : torch.Generator or None, default=None
        Random generator (None uses torch's global one).

    Returns
    -------
    indices : torch.Tensor of int64, sorted
    """
    columns = _as_columns(y)
    if len(columns) == 0:
        return torch.zeros(0, dtype=torch.int64, device=columns.device)
    order = torch.randperm(len(columns), generator=generator, device="cpu").to(columns.device)
    _, inverse = torch.unique(columns[order], dim=0, return_inverse=True)
    first = torch.full((int(inverse.max()) + 1,), len(order), device=columns.device)
    positions = torch.arange(len(order), device=columns.device)
    first = first.scatter_reduce(0, inverse, positions, reduce="amin")
    return order[first].sort().values


def ranksim_loss(
    z: torch.Tensor,
    y: torch.Tensor,
    interpolation: float = 2.0,
    *,
    sample: bool = True,
) -> torch.Tensor:
    """RankSim: align the ranking of feature similarities with that of label similarities.

    Gong, Mori & Tung, "RankSim: Ranking Similarity Regularization for Deep
    Imbalanced Regression" (ICML 2022). For each anchor ``i`` of the batch the
    other samples are ranked twice: by the cosine similarity of their features to
    ``z_i`` and by the negated label distance ``-||y_i - y_j||``. With ranks
    normalised to ``(0, 1]`` (:func:`normalised_ranks`) the loss is::

        mean_i mean_j (rank_j(cos(z_i, z_j)) - rank_j(-||y_i - y_j||))^2

    It is 0 exactly when both rankings agree. Ranking is piecewise constant; its
    gradient is the blackbox-combinatorial-solver one (Vlastelica et al., ICLR
    2020) with interpolation strength ``interpolation`` (the paper's lambda). The
    paper *sums* over anchors; here they are averaged, so the weight does not
    depend on the batch size (the paper's gamma equals this weight divided by
    the number of anchors). The blackbox gradient re-ranks the similarities
    perturbed by ``interpolation`` times the *incoming* gradient, so a term
    multiplied by a small weight barely changes any rank and gets a zero
    gradient: the useful weights are large (the paper's gamma = 100 at batch
    size 64 is a weight of 6400 here).

    Parameters
    ----------
    z : torch.Tensor of shape (n, embedding_dim)
        Features of the batch.
    y : torch.Tensor of shape (n,) or (n, n_targets)
        Targets.
    interpolation : float, default=2.0
        Blackbox-gradient interpolation ``lambda`` (> 0).
    sample : bool, default=True
        Keep one random sample per distinct target (the paper's sampling); the
        regularised set then has no label ties.

    Returns
    -------
    loss : torch.Tensor, scalar
        0 for fewer than 2 (distinct) samples.

    Raises
    ------
    ValueError
        If ``z`` is not 2-D, ``y`` not 1-D or 2-D, or they have different numbers of
        rows.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.regularizers import ranksim_loss
    >>> y = torch.tensor([0.0, 0.1, 0.3, 0.7])
    >>> z = torch.stack([torch.cos(y), torch.sin(y)], dim=1)  # angle grows with y
    >>> ranksim_loss(z, y, sample=False).item()
    0.0
    """
    if not interpolation > 0:
        raise ValueError(f"interpolation must be positive, got {interpolation!r}.")
    _check_features(z)
    _check_rows(z, y=y)
    columns = _as_columns(y).to(z.dtype)
    if sample:
        keep = one_per_label(columns)
        z, columns = z[keep], columns[keep]
    if len(z) < 2:
        return z.sum() * 0.0
    unit = F.normalize(z, dim=1)
    similarity = unit @ unit.T
    label_ranks = normalised_ranks(-torch.cdist(columns, columns))
    feature_ranks = _BlackboxRank.apply(similarity, float(interpolation))
    return (feature_ranks - label_ranks).pow(2).mean()


def conr_loss(
    z: torch.Tensor,
    y: torch.Tensor,
    pred: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    temperature: float = 0.2,
    threshold: float = 1.0,
    push: float = 0.01,
) -> torch.Tensor:
    """ConR: contrastive regularisation with label-aware positives and pushed negatives.

    Keramati, Meng & Evans, "ConR: Contrastive Regularizer for Deep Imbalanced
    Regression" (ICLR 2024). With ``q_i = z_i / ||z_i||`` and
    ``s_ij = q_i . q_j / temperature``, for every anchor ``i``:

    - positives ``P_i``: ``j != i`` with ``||y_i - y_j|| <= threshold``;
    - negatives ``N_i``: ``||y_i - y_j|| > threshold`` but
      ``||y_hat_i - y_hat_j|| <= threshold`` (label-far samples the model predicts
      close; predictions are detached);
    - ``l_i = -1/|P_i| sum_{j in P_i} log(e^{s_ij} / D_i)`` with
      ``D_i = sum_{k in P_i} e^{s_ik} + sum_{k in N_i} w_i e^{push ||y_i - y_k||} e^{s_ik}``

    so that negatives are pushed away the harder the farther apart their labels
    are and the rarer the anchor (``w_i``, e.g. its LDS weight). Anchors without
    positives or without negatives contribute 0; the loss is
    ``mean_i(w_i * l_i)`` over all anchors. The paper contrasts two augmented views
    of the batch, which makes every anchor's other view a positive: pass both
    views stacked (the regressor does).

    Parameters
    ----------
    z : torch.Tensor of shape (n, embedding_dim)
        Features.
    y : torch.Tensor of shape (n,) or (n, n_targets)
        Targets.
    pred : torch.Tensor of shape (n,) or (n, n_targets)
        Predictions (detached inside).
    weight : torch.Tensor of shape (n,) or None, default=None
        Per-anchor weights ``w_i`` (1 if None).
    temperature : float, default=0.2
        Softmax temperature (> 0).
    threshold : float, default=1.0
        Label (and prediction) distance up to which samples count as similar.
    push : float, default=0.01
        Pushing power of negatives (0 gives a plain weighted InfoNCE).

    Returns
    -------
    loss : torch.Tensor, scalar
        0 for an empty batch.

    Raises
    ------
    ValueError
        If ``z`` is not 2-D, or ``y``, ``pred`` and ``weight`` do not have one row per
        row of ``z`` (``pred`` with the columns of ``y``).

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.regularizers import conr_loss
    >>> z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    >>> y, pred = torch.tensor([0.0, 0.0, 5.0]), torch.zeros(3)
    >>> round(conr_loss(z, y, pred, temperature=1.0, push=0.0).item(), 4)  # log(2) * 2 / 3
    0.4621
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}.")
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold!r}.")
    _check_features(z)
    if weight is not None and weight.ndim > 1 and weight.shape[1:].numel() != 1:
        raise ValueError(f"weight must have shape (n,), got {tuple(weight.shape)}.")
    _check_rows(z, y=y, pred=pred, weight=weight)
    labels = _as_columns(y).to(z.dtype)
    predictions = _as_columns(pred, "pred").detach().to(z.dtype)
    _check_columns(labels, predictions, "pred")
    n = len(z)
    if n == 0:
        return z.sum() * 0.0
    anchor_weight = (
        torch.ones(n, dtype=z.dtype, device=z.device)
        if weight is None
        else weight.reshape(-1).to(z.dtype)
    )
    unit = F.normalize(z, dim=1)
    logits = unit @ unit.T / temperature
    label_dist = torch.cdist(labels, labels)
    not_self = ~torch.eye(n, dtype=torch.bool, device=z.device)
    positive = (label_dist <= threshold) & not_self
    negative = (label_dist > threshold) & (torch.cdist(predictions, predictions) <= threshold)
    # log D_i, computed stably as a logsumexp over the positive and negative entries
    neg_logits = logits + anchor_weight.clamp_min(1e-30).log()[:, None] + push * label_dist
    terms = torch.where(
        positive, logits, torch.where(negative, neg_logits, torch.full_like(logits, -torch.inf))
    )
    active = positive.any(1) & negative.any(1)
    log_denominator = torch.logsumexp(torch.where(active[:, None], terms, 0.0), dim=1)
    log_prob = logits - log_denominator[:, None]
    n_pos = positive.sum(1).clamp_min(1)
    per_anchor = -(torch.where(positive, log_prob, 0.0)).sum(1) / n_pos
    per_anchor = torch.where(active, per_anchor, 0.0)
    return (anchor_weight * per_anchor).mean()


def _norm_blocks(z: torch.Tensor, n_targets: int) -> list[torch.Tensor]:
    """Norms of ``n_targets`` contiguous feature blocks (the whole ``z`` for one target)."""
    if z.shape[1] < n_targets:
        raise ValueError(
            f"feature-norm ordinality splits z into one block per target, but z has "
            f"{z.shape[1]} dimension(s) for {n_targets} targets."
        )
    return [block.norm(dim=1) for block in torch.tensor_split(z, n_targets, dim=1)]


def norm_order_loss(z: torch.Tensor, y: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """Penalise bin prototypes whose feature norms are out of label order.

    Phase 1 of feature-norm ordinality (after "Enhancing Deep Imbalanced
    Regression via Frobenius Norm Regularization", ICLR 2026 submission,
    https://openreview.net/forum?id=6XpSwo3ZCe; the paper's equations are not
    public, this is our reconstruction). The observation: for well-fitted
    (many-shot) samples the feature norm grows with the label (for a linear head
    ``|y_hat| <= ||w|| ||z||``), while under-represented samples break that order.
    Per target bin present in the batch the prototype ``p_b`` is the mean feature
    and ``r_b = ||p_b||``; with bins ordered by label the loss is the mean hinge
    over ordered pairs::

        mean_{b < c} max(0, r_b - r_c)

    For ``n_targets`` targets ``z`` is split into as many contiguous blocks and
    block ``t`` is ordered by target ``t`` (with its own bins); the terms are
    averaged.

    Parameters
    ----------
    z : torch.Tensor of shape (n, embedding_dim)
        Features.
    y : torch.Tensor of shape (n,) or (n, n_targets)
        Targets, for the direction of the order (monotone transforms of the raw
        targets are fine).
    bins : torch.Tensor of int, shape (n,) or (n, n_targets)
        Bin of each sample's target, per target (increasing with the target).

    Returns
    -------
    loss : torch.Tensor, scalar
        0 when every target has fewer than 2 bins in the batch.

    Raises
    ------
    ValueError
        If ``z`` is not 2-D, ``y`` and ``bins`` do not have one row per row of ``z``,
        or ``bins`` has other columns than ``y``.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.regularizers import norm_order_loss
    >>> z = torch.tensor([[3.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    >>> y, bins = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([0, 1, 2])
    >>> norm_order_loss(z, y, bins).item()  # pairs (3, 1), (3, 2), (1, 2): (2 + 1 + 0) / 3
    1.0
    """
    _check_features(z)
    _check_rows(z, y=y, bins=bins)
    labels = _as_columns(y)
    bins = _as_columns(bins, "bins").long()
    _check_columns(labels, bins, "bins")
    n_targets = labels.shape[1]
    if z.shape[1] < n_targets:
        _norm_blocks(z, n_targets)  # raises the message about too few feature dimensions
    terms = []
    for t, norms_source in enumerate(torch.tensor_split(z, n_targets, dim=1)):
        present, index = torch.unique(bins[:, t], return_inverse=True)
        if len(present) < 2:
            continue
        count = torch.zeros(len(present), dtype=z.dtype, device=z.device)
        count = count.index_add(0, index, torch.ones_like(index, dtype=z.dtype))
        width = norms_source.shape[1]
        sums = torch.zeros(len(present), width, dtype=z.dtype, device=z.device)
        prototypes = sums.index_add(0, index, norms_source) / count[:, None]
        norms = prototypes.norm(dim=1)  # bins ascending = labels ascending
        upper = torch.triu(
            torch.ones(len(present), len(present), dtype=torch.bool, device=z.device), diagonal=1
        )
        gaps = norms[:, None] - norms[None, :]
        terms.append(F.relu(gaps)[upper].mean())
    if not terms:
        return z.sum() * 0.0
    return torch.stack(terms).mean()


def norm_target_loss(
    z: torch.Tensor, y: torch.Tensor, intercept: torch.Tensor, slope: torch.Tensor
) -> torch.Tensor:
    """Squared distance of feature norms to a linear function of the label.

    Phase 3 of feature-norm ordinality (see :func:`norm_order_loss`): after
    training, a line ``r(y) = intercept + slope * y`` is fitted per target to the
    feature norms of many-shot samples; fine-tuning then pulls every sample's norm
    towards it, ``mean_i sum_t (||z_i^(t)|| - r_t(y_it))^2``, where ``z^(t)`` is
    feature block ``t``.

    Parameters
    ----------
    z : torch.Tensor of shape (n, embedding_dim)
        Features.
    y : torch.Tensor of shape (n,) or (n, n_targets)
        Targets.
    intercept, slope : torch.Tensor of shape (n_targets,)
        The fitted lines.

    Returns
    -------
    loss : torch.Tensor, scalar
        0 for an empty batch.

    Raises
    ------
    ValueError
        If ``z`` is not 2-D, ``y`` does not have one row per row of ``z``, or
        ``intercept`` and ``slope`` do not hold one value per target.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.regularizers import norm_target_loss
    >>> z, y = torch.tensor([[3.0, 4.0]]), torch.tensor([2.0])
    >>> norm_target_loss(z, y, torch.tensor([1.0]), torch.tensor([1.0])).item()  # (5 - 3)^2
    4.0
    """
    _check_features(z)
    _check_rows(z, y=y)
    labels = _as_columns(y).to(z.dtype)
    n_targets = labels.shape[1]
    for name, line in (("intercept", intercept), ("slope", slope)):
        if line.numel() != n_targets:
            raise ValueError(
                f"{name} has {line.numel()} value(s) but y has {n_targets} target(s); give "
                "one value per target, shape (n_targets,)."
            )
    norms = torch.stack(_norm_blocks(z, n_targets), dim=1)
    if len(z) == 0:
        return z.sum() * 0.0
    target = intercept.reshape(-1).to(z.dtype)[None] + slope.reshape(-1).to(z.dtype)[None] * labels
    return (norms - target).pow(2).sum(1).mean()


class RankSim(Regularizer):
    """RankSim as a :class:`~skdir.nn.DIRRegressor` regulariser (see :func:`ranksim_loss`).

    Gong, Mori & Tung, "RankSim: Ranking Similarity Regularization for Deep
    Imbalanced Regression" (ICML 2022). The term is averaged over anchors, so the
    useful weights are large (the paper's gamma = 100 at batch size 64 is a
    weight of 6400 here); labels are in training standard deviations.

    Parameters
    ----------
    weight : float, default=100.0
        Multiplier of the term.
    interpolation : float, default=2.0
        Interpolation strength of the blackbox ranking gradient (the paper's lambda).

    Examples
    --------
    >>> from skdir.nn import DIRRegressor
    >>> from skdir.nn.regularizers import RankSim
    >>> net = DIRRegressor(regularizers=[("ranksim", RankSim(weight=50.0))])
    >>> net.get_params()["regularizers__ranksim__weight"]
    50.0
    """

    pairwise = True

    def __init__(self, weight: float = 100.0, interpolation: float = 2.0) -> None:
        super().__init__(weight=weight)
        self.interpolation = interpolation

    def check(self, net: Any) -> None:
        """Validate ``weight`` and ``interpolation``."""
        super().check(net)
        if not self.interpolation > 0:
            raise ValueError(f"RankSim(interpolation={self.interpolation!r}) must be positive.")

    def loss(self, batch: TrainingBatch) -> torch.Tensor:
        """Return the RankSim term of the batch's features and labels."""
        return ranksim_loss(batch.features, batch.labels, self.interpolation)


class ConR(Regularizer):
    """ConR as a :class:`~skdir.nn.DIRRegressor` regulariser (see :func:`conr_loss`).

    Keramati, Meng & Evans, "ConR: Contrastive Regularizer for Deep Imbalanced
    Regression" (ICLR 2024). The batch is contrasted with a second view of it: a
    second forward pass (other dropout masks) with the per-view augmentations
    (:class:`~skdir.nn.augment.GaussianNoise`,
    :class:`~skdir.nn.augment.FeatureDropout`) drawn afresh. Anchors are
    weighted by the sample weights (e.g. LDS weights).

    Parameters
    ----------
    weight : float, default=1.0
        Multiplier of the term.
    temperature : float, default=0.2
        Softmax temperature.
    threshold : float, default=0.25
        Label distance (in training standard deviations) up to which two samples
        are positives; predictions this close with labels farther apart are
        negatives.
    push : float, default=0.01
        Pushing power of negatives, ``exp(push * label distance)``.

    Examples
    --------
    >>> from skdir.nn import DIRRegressor
    >>> from skdir.nn.regularizers import ConR
    >>> net = DIRRegressor(regularizers=[("conr", ConR(threshold=0.5))])
    >>> net.set_params(regularizers__conr__weight=2.0).regularizers[0][1].weight
    2.0
    """

    needs = frozenset({"features", "second_view"})
    pairwise = True

    def __init__(
        self,
        weight: float = 1.0,
        temperature: float = 0.2,
        threshold: float = 0.25,
        push: float = 0.01,
    ) -> None:
        super().__init__(weight=weight)
        self.temperature = temperature
        self.threshold = threshold
        self.push = push

    def check(self, net: Any) -> None:
        """Validate the temperature, threshold and push."""
        super().check(net)
        for name in ("temperature", "threshold"):
            if not getattr(self, name) > 0:
                raise ValueError(f"ConR({name}={getattr(self, name)!r}) must be positive.")
        if not self.push >= 0:
            raise ValueError(f"ConR(push={self.push!r}) must be non-negative.")

    def loss(self, batch: TrainingBatch) -> torch.Tensor:
        """Return the ConR term of the batch and its second view."""
        pred2, z2 = batch.second_view
        labels = batch.labels
        scale = 1.0 if batch.label_scale is None else batch.label_scale.to(labels.dtype)
        n = len(labels)
        predictions = torch.cat([batch.pred, pred2]).reshape(2 * n, -1) / scale
        weight = batch.weight
        weights = None if weight is None else torch.cat([weight, weight]).reshape(-1)
        return conr_loss(
            torch.cat([batch.features, z2]),
            torch.cat([labels, labels]),
            predictions,
            weights,
            temperature=self.temperature,
            threshold=self.threshold,
            push=self.push,
        )


class FeatureNormOrder(Regularizer):
    """Feature-norm ordinality as a :class:`~skdir.nn.DIRRegressor` regulariser.

    After "Enhancing Deep Imbalanced Regression via Frobenius Norm
    Regularization" (ICLR 2026 submission; our reconstruction, see
    :func:`norm_order_loss`). Training adds ``weight`` times the hinge on the
    batch's bin prototypes (bins of the regressor's ``label_density_``). With
    ``finetune_epochs > 0`` a second stage follows the main training
    (:meth:`after_fit`): a line from target to feature norm is fitted per
    target on the many-shot bins (those holding at least the median count of
    the non-empty bins; stored as ``intercept_``/``slope_`` of the fitted copy in
    the regressor's ``regularizers_``), then training continues for
    ``finetune_epochs`` epochs with ``finetune_weight`` times the squared
    distance of every sample's feature norm to that line
    (:func:`norm_target_loss`) added.

    Parameters
    ----------
    weight : float, default=1.0
        Multiplier of the hinge.
    finetune_epochs : int, default=0
        Epochs of the fine-tuning stage; 0 skips it.
    finetune_weight : float, default=1.0
        Multiplier of the fine-tuning term.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.nn import DIRRegressor
    >>> from skdir.nn.regularizers import FeatureNormOrder
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 4))
    >>> y = X[:, 0] + 0.1 * rng.normal(size=80)
    >>> net = DIRRegressor(regularizers=[("norm", FeatureNormOrder(finetune_epochs=2))],
    ...                    max_epochs=3, device="cpu", random_state=0).fit(X, y)
    >>> net.regularizers_["norm"].slope_.shape
    (1,)
    """

    needs = frozenset({"features", "label_bins"})

    def __init__(
        self, weight: float = 1.0, finetune_epochs: int = 0, finetune_weight: float = 1.0
    ) -> None:
        super().__init__(weight=weight)
        self.finetune_epochs = finetune_epochs
        self.finetune_weight = finetune_weight

    @property
    def active(self) -> bool:
        """Whether the hinge or the fine-tuning stage is on."""
        return self.weight > 0 or self.finetune_epochs > 0

    def check(self, net: Any) -> None:
        """Validate the weights and the number of fine-tuning epochs."""
        super().check(net)
        epochs = self.finetune_epochs
        if isinstance(epochs, bool) or not isinstance(epochs, Integral) or epochs < 0:
            raise ValueError(
                f"FeatureNormOrder(finetune_epochs={epochs!r}) must be an integer >= 0."
            )
        if not self.finetune_weight >= 0:
            raise ValueError(
                f"FeatureNormOrder(finetune_weight={self.finetune_weight!r}) must be >= 0."
            )

    def loss(self, batch: TrainingBatch) -> torch.Tensor:
        """Return the hinge on the batch's bin prototypes."""
        return norm_order_loss(batch.features, batch.y, batch.label_bins)

    def __call__(self, batch: TrainingBatch) -> torch.Tensor:
        """Return the weighted hinge, plus the fine-tuning term during that stage."""
        term = self.weight * self.loss(batch) if self.weight > 0 else batch.y.new_zeros(())
        if getattr(self, "finetuning_", False):
            z = batch.features
            intercept = torch.as_tensor(self.intercept_, dtype=z.dtype, device=z.device)
            slope = torch.as_tensor(self.slope_, dtype=z.dtype, device=z.device)
            term = term + self.finetune_weight * norm_target_loss(z, batch.y, intercept, slope)
        return term

    def after_fit(self, net: Any, X: Any, y: Any) -> None:
        """Fit the norm lines on the many-shot bins, then fine-tune ``finetune_epochs``.

        Parameters
        ----------
        net : DIRRegressor
            The regressor that just finished its main training.
        X : dict
            The packed training inputs (``"X"``, ``"label_bins"``, ...).
        y : ndarray of shape (n_samples, n_targets)
            The network's training targets.
        """
        if not self.finetune_epochs:
            return
        z = net.transform_features(X["X"]).astype(np.float64)
        labels = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        bins = np.asarray(X["label_bins"])
        intercepts, slopes = [], []
        for t, block_norms in enumerate(_norm_blocks(torch.as_tensor(z), labels.shape[1])):
            norms = block_norms.numpy()
            _, index, counts = np.unique(bins[:, t], return_inverse=True, return_counts=True)
            mean_norm = np.bincount(index, weights=norms) / counts
            mean_label = np.bincount(index, weights=labels[:, t]) / counts
            many = counts >= np.median(counts)
            if np.unique(mean_label[many]).size < 2:
                raise ValueError(
                    "FeatureNormOrder(finetune_epochs > 0) needs at least two many-shot bins "
                    "per target to fit the norm line; use more distinct targets or more bins "
                    "in the regressor's label_density."
                )
            slope, intercept = np.polyfit(mean_label[many], mean_norm[many], 1)
            intercepts.append(intercept)
            slopes.append(slope)
        self.intercept_ = np.array(intercepts)
        self.slope_ = np.array(slopes)
        self.finetuning_ = True
        try:
            net.continue_training(X, y, epochs=int(self.finetune_epochs))
        finally:
            self.finetuning_ = False
