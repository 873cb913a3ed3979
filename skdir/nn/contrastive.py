"""Supervised contrastive pre-training for regression with mixed hard pairs (SupReMix).

Wu, Dong, Chen, Zhou & Zhou, "Mixup Your Own Pairs" (arXiv 2309.16633, 2023):
a supervised contrastive loss for regression whose hard negatives and hard
positives are *mixtures of features* of the batch, used to pre-train the
feature trunk before the regression head is trained.

- :func:`supremix_loss` is the loss of one batch, for use in any training loop;
- :class:`SupReMix` is the same loss as a
  :class:`~skdir.nn.base.Regularizer` component of
  :class:`~skdir.nn.DIRRegressor`: a pre-training stage of the features (run
  from :meth:`~skdir.nn.base.Regularizer.before_fit` with
  :meth:`~skdir.nn.DIRRegressor.pretrain`) and, optionally, a term added to
  the main training's loss.

The paper's reference builds every mixture explicitly, a ``B x B x B x d``
tensor; here every similarity of a mixture is read off the Gram matrix of the
batch, so memory is ``O(B^2 d + B^3)`` scalars (see :func:`supremix_loss`).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from .base import Regularizer, TrainingBatch
from .regularizers import _as_columns, _check_features, _check_rows

__all__ = ["SupReMix", "supremix_loss"]


def _mixture_cosine(
    norm_anchor: torch.Tensor,
    share: torch.Tensor,
    first: torch.Tensor,
    second: torch.Tensor,
    first_sq: torch.Tensor,
    second_sq: torch.Tensor,
    cross: torch.Tensor,
) -> torch.Tensor:
    """Cosine of anchor ``i`` with ``share * z_j + (1 - share) * z_k``, from Gram entries.

    ``first = G_ij``, ``second = G_ik``, ``first_sq = G_jj``, ``second_sq = G_kk``,
    ``cross = G_jk`` (all broadcast to the shape of ``share``).
    """
    rest = 1.0 - share
    dot = share * first + rest * second
    sq_norm = share.square() * first_sq + rest.square() * second_sq + 2 * share * rest * cross
    return dot / (norm_anchor * sq_norm.clamp_min(1e-12).sqrt())


def supremix_loss(
    z: torch.Tensor,
    y: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    temperature: float = 0.1,
    threshold: float = 0.25,
    window: float = 1.0,
    negative_beta: tuple[float, float] = (5.0, 5.0),
    negative_share: torch.Tensor | None = None,
) -> torch.Tensor:
    """SupReMix: supervised contrastive loss with mixed hard negatives and hard positives.

    Wu, Dong, Chen, Zhou & Zhou, "Mixup Your Own Pairs" (arXiv 2309.16633,
    2023); re-derived from the paper (its repository has no training code).
    The features are L2-normalised first, ``q_i = z_i / ||z_i||``, and mixed as
    unit vectors; a similarity is ``s = cos(q_i, m) / temperature``. Label
    distances ``d_ij = ||y_i - y_j||`` are Euclidean (pass targets in comparable
    units, e.g. training standard deviations). For every anchor ``i``:

    - real positives: ``j != i`` with ``d_ij <= threshold``; real negatives
      ``k`` with ``d_ik > threshold``;
    - **hard negatives** (anchor-inclusive mixtures): for each real negative
      ``k``, ``m = a q_i + (1 - a) q_k`` with the anchor's share
      ``a ~ Beta(*negative_beta)`` (one draw per pair; torch's global
      generator), labelled ``a y_i + (1 - a) y_k``; it is a negative only when
      that label is still farther than ``threshold`` from ``y_i``, i.e.
      ``(1 - a) d_ik > threshold``;
    - **hard positives** (anchor-exclusive mixtures): for each unordered pair of
      real negatives ``j, k`` both within ``window`` of ``y_i``,
      ``m = l q_j + (1 - l) q_k`` labelled ``l y_j + (1 - l) y_k``, with ``l``
      the share that brings that label closest to ``y_i``: the projection of
      ``y_i`` on the segment ``[y_k, y_j]``, clipped to ``[0, 1]``. The mixture
      is a positive when the residual ``||l y_j + (1 - l) y_k - y_i||`` is at
      most ``threshold``. For one target this is exactly the paper's rule
      (``y_j < y_i < y_k`` bracket the anchor, ``l = (y_k - y_i) / (y_k - y_j)``,
      the residual is 0; a pair on one side of ``y_i`` leaves a residual equal
      to the nearer label distance, above ``threshold``). The projection for
      several targets is our generalisation, not the paper's;
    - the loss of the anchor, over its positives ``P_i`` (real and mixed) and
      negatives ``N_i`` (real and mixed), each negative weighted by "distance
      magnifying" ``w_in = d_in + 1`` (``d_in`` the label distance of the
      negative, or of the mixture's label, to ``y_i``)::

          l_i = -1/|P_i| sum_{p in P_i} log(e^{s_ip} / D_i),
          D_i = sum_{p in P_i} e^{s_ip} + sum_{n in N_i} w_in e^{s_in}

    Anchors without positives or without negatives contribute 0; the loss is
    ``mean_i(w_i * l_i)`` over all anchors (``w_i`` the sample weights, as in
    :func:`~skdir.nn.regularizers.conr_loss`).

    Every similarity of a mixture with the anchor comes from the Gram matrix
    ``G = q q^T``: ``q_i . (l q_j + (1 - l) q_k) = l G_ij + (1 - l) G_ik`` and
    ``||l q_j + (1 - l) q_k||^2 = l^2 G_jj + (1 - l)^2 G_kk + 2 l (1 - l) G_jk``,
    so no mixture is built: memory is ``O(n^2 d + n^3)`` scalars instead of the
    reference's ``O(n^3 d)`` (about 8 ``n^3`` floats: 2 M at ``n = 64``, 130 M at
    ``n = 256``).

    Parameters
    ----------
    z : torch.Tensor of shape (n, embedding_dim)
        Features of the batch.
    y : torch.Tensor of shape (n,) or (n, n_targets)
        Targets.
    weight : torch.Tensor of shape (n,) or None, default=None
        Per-anchor weights ``w_i`` (1 if None).
    temperature : float, default=0.1
        Softmax temperature (> 0).
    threshold : float, default=0.25
        Label distance up to which a sample or mixture is a positive (> 0).
    window : float, default=1.0
        Largest label distance of the two negatives mixed into a hard positive
        (> 0; below ``threshold`` no hard positive is formed).
    negative_beta : (float, float), default=(5.0, 5.0)
        ``(alpha, beta)`` of the Beta law of the anchor's share in a hard
        negative; the paper tries (2, 8), (8, 2) and (5, 5).
    negative_share : torch.Tensor of shape (n, n) or None, default=None
        The anchor's share ``a_ik`` of each hard negative, instead of drawing it
        (row ``i`` anchor, column ``k`` negative); for tests and custom draws.

    Returns
    -------
    loss : torch.Tensor, scalar
        0 for an empty batch or one without positive-negative anchors.

    Raises
    ------
    ValueError
        If a parameter is out of range, ``z`` is not 2-D, or ``y``, ``weight``
        and ``negative_share`` do not match the rows of ``z``.

    Examples
    --------
    Two close labels and one far one: sample 2 is the only negative of samples
    0 and 1, and no pair of negatives brackets an anchor.

    >>> import torch
    >>> from skdir.nn.contrastive import supremix_loss
    >>> z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> y = torch.tensor([0.0, 0.0, 3.0])
    >>> share = torch.zeros(3, 3)  # a = 0: the hard negative is the negative itself
    >>> loss = supremix_loss(z, y, temperature=1.0, negative_share=share)
    >>> # anchors 0, 1: -log(e / (e + 2 * (3 + 1) * e^0)); anchor 2 has no positive
    >>> round(loss.item(), 4)  # 2 * log((e + 8) / e) / 3
    0.9146
    """
    alpha, beta = _check_supremix_params(temperature, threshold, window, negative_beta)
    _check_features(z)
    if weight is not None and weight.ndim > 1 and weight.shape[1:].numel() != 1:
        raise ValueError(f"weight must have shape (n,), got {tuple(weight.shape)}.")
    _check_rows(z, y=y, weight=weight)
    labels = _as_columns(y).to(z.dtype)
    n = len(z)
    if n == 0:
        return z.sum() * 0.0
    if negative_share is not None and tuple(negative_share.shape) != (n, n):
        raise ValueError(
            f"negative_share must have shape (n, n) = ({n}, {n}), got "
            f"{tuple(negative_share.shape)}; give the anchor's share a_ik for every pair."
        )
    anchor_weight = (
        torch.ones(n, dtype=z.dtype, device=z.device)
        if weight is None
        else weight.reshape(-1).to(z.dtype)
    )
    q = F.normalize(z, dim=1)
    gram = q @ q.T
    diag = gram.diagonal()
    norm = diag.clamp_min(1e-12).sqrt()
    dist = torch.cdist(labels, labels)
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    positive = (dist <= threshold) & ~eye
    negative = dist > threshold

    # real pairs (n, n): cosines from the Gram matrix
    real_logits = gram / (norm[:, None] * norm[None, :]) / temperature

    # hard negatives (n, n): a q_i + (1 - a) q_k for negatives k
    if negative_share is None:
        draw = torch.distributions.Beta(
            torch.tensor(alpha, dtype=z.dtype), torch.tensor(beta, dtype=z.dtype)
        )
        share = draw.sample((n, n)).to(z.device)
    else:
        share = negative_share.to(device=z.device, dtype=z.dtype)
    mixed_dist = (1.0 - share) * dist
    hard_negative = negative & (mixed_dist > threshold)
    hard_neg_logits = (
        _mixture_cosine(
            norm[:, None],
            share,
            diag[:, None],
            gram,
            diag[:, None],
            diag[None, :],
            gram,
        )
        / temperature
    )

    # hard positives (n, n, n) over (anchor i, j, k): l q_j + (1 - l) q_k
    near = negative & (dist <= window)
    diff = labels[:, None, :] - labels[None, :, :]  # [a, b] = y_a - y_b
    seg_sq = dist.square()  # [j, k] = ||y_j - y_k||^2
    dot = torch.einsum("ikt,jkt->ijk", diff, diff)  # (y_i - y_k) . (y_j - y_k)
    lam = (dot / seg_sq.clamp_min(1e-12)[None]).clamp(0.0, 1.0)
    residual_sq = lam.square() * seg_sq[None] - 2 * lam * dot + dist.square()[:, None, :]
    upper = torch.triu(torch.ones(n, n, dtype=torch.bool, device=z.device), diagonal=1)
    hard_positive = (
        near[:, :, None]
        & near[:, None, :]
        & upper[None]
        & (residual_sq.clamp_min(0.0) <= threshold**2)
    )
    hard_pos_logits = (
        _mixture_cosine(
            norm[:, None, None],
            lam,
            gram[:, :, None],
            gram[:, None, :],
            diag[None, :, None],
            diag[None, None, :],
            gram[None],
        )
        / temperature
    )

    # log D_i: logsumexp over positives and magnified negatives of each anchor
    minus_inf = torch.tensor(-torch.inf, dtype=z.dtype, device=z.device)
    terms = torch.cat(
        [
            torch.where(positive, real_logits, minus_inf),
            torch.where(negative, real_logits + torch.log1p(dist), minus_inf),
            torch.where(hard_negative, hard_neg_logits + torch.log1p(mixed_dist), minus_inf),
            torch.where(hard_positive, hard_pos_logits, minus_inf).reshape(n, n * n),
        ],
        dim=1,
    )
    n_pos = positive.sum(1) + hard_positive.reshape(n, -1).sum(1)
    active = (n_pos > 0) & negative.any(1)
    log_denominator = torch.logsumexp(torch.where(active[:, None], terms, 0.0), dim=1)
    positive_sum = torch.where(positive, real_logits, 0.0).sum(1) + torch.where(
        hard_positive, hard_pos_logits, 0.0
    ).reshape(n, -1).sum(1)
    per_anchor = log_denominator - positive_sum / n_pos.clamp_min(1)
    per_anchor = torch.where(active, per_anchor, 0.0)
    return (anchor_weight * per_anchor).mean()


def _check_supremix_params(
    temperature: Any, threshold: Any, window: Any, negative_beta: Any, owner: str = ""
) -> tuple[float, float]:
    """Validate the loss parameters; return ``negative_beta`` as two floats."""
    prefix = f"{owner}(" if owner else ""
    suffix = ")" if owner else ""
    lengths = (("temperature", temperature), ("threshold", threshold), ("window", window))
    for name, value in lengths:
        if isinstance(value, bool) or not isinstance(value, Real) or not value > 0:
            raise ValueError(
                f"{prefix}{name}={value!r}{suffix} must be a positive number; "
                + {
                    "temperature": "typical values are 0.05 to 0.5.",
                    "threshold": "it is a label distance in training standard deviations, "
                    "e.g. 0.25.",
                    "window": "it is a label distance in training standard deviations, "
                    "larger than threshold, e.g. 1.0.",
                }[name]
            )
    try:
        alpha, beta = (float(v) for v in negative_beta)
    except (TypeError, ValueError):
        raise ValueError(
            f"{prefix}negative_beta={negative_beta!r}{suffix} must be a pair (alpha, beta) of "
            "positive numbers, e.g. (5, 5)."
        ) from None
    if not (alpha > 0 and beta > 0 and np.isfinite(alpha) and np.isfinite(beta)):
        raise ValueError(
            f"{prefix}negative_beta={negative_beta!r}{suffix} must hold two positive finite "
            "numbers (alpha, beta), e.g. (5, 5)."
        )
    return alpha, beta


class SupReMix(Regularizer):
    """SupReMix contrastive pre-training as a :class:`~skdir.nn.DIRRegressor` component.

    Wu, Dong, Chen, Zhou & Zhou, "Mixup Your Own Pairs" (arXiv 2309.16633,
    2023); see :func:`supremix_loss` for the loss. Before the main training
    (:meth:`before_fit`) the network's features are trained on the SupReMix
    loss alone for ``pretrain_epochs`` epochs with
    :meth:`~skdir.nn.DIRRegressor.pretrain` (the training rows, without those
    held out for early stopping; the output layer is left as built); the main
    training then fits the whole network, starting from those features. The
    mean loss of each pre-training epoch is ``pretrain_losses_`` of the fitted
    copy, ``net.regularizers_[name]``. With ``weight > 0`` the loss is also
    added to every step of the main training (a joint term). Labels are in
    training standard deviations; anchors are weighted by the sample weights.

    Parameters
    ----------
    weight : float, default=0.0
        Multiplier of the joint term in the main training (0: pre-training only).
    pretrain_epochs : int, default=30
        Epochs of the pre-training stage (0 skips it).
    pretrain_lr : float or None, default=None
        Learning rate of the pre-training stage (None: the regressor's ``lr``).
    temperature : float, default=0.1
        Softmax temperature.
    threshold : float, default=0.25
        Label distance (training standard deviations) up to which samples and
        mixtures are positives.
    window : float, default=1.0
        Largest label distance (training standard deviations) of the two
        negatives mixed into a hard positive.
    negative_beta : (float, float), default=(5.0, 5.0)
        ``(alpha, beta)`` of the Beta law of the anchor's share in a hard
        negative.
    probe : bool, default=False
        Train only the output layer (``head``) in the main training, on the
        pre-trained features frozen: the paper's linear-probe protocol. The
        features are released (trainable again) when the training ends.

    Notes
    -----
    The loss costs about ``8 n^3`` floats per batch of ``n`` (the hard
    positives): keep ``batch_size`` at a few hundred at most.

    Defaults: 30 pre-training epochs were better than 10 on every score in a
    one-seed sweep on STS-B-DIR (none of threshold 0.5, temperature 0.2,
    pre-training lr 1e-4 or the joint term alone beat vanilla's all or balanced
    MSE there); ``threshold`` is ConR's,
    ``negative_beta`` the paper's symmetric choice. Measured on STS-B-DIR
    (``benchmarks/bench_supremix.py``, 3 seeds, the regressor's defaults), the
    pre-training did not help: test MSE all / few / balanced 0.608 / 0.530 /
    0.556 against vanilla's 0.592 / 0.569 / 0.549 and ConR + C-Mixup's
    0.559 / 0.433 / 0.517, at 2.8 times vanilla's fit time; the joint term
    (``weight=0.1``) was worse on every score, the linear probe
    (``probe=True``) was worse still (0.662 / 0.601 / 0.611), and with C-Mixup
    it lost to C-Mixup alone. After the pre-training the main training also ran longer
    before early stopping (133 epochs against 80), and the few-shot gain
    (-7 %) is within one standard deviation of the seeds. SupReMix therefore
    stays opt-in and is not among the candidates of
    :class:`~skdir.auto.AutoDIRRegressor`.

    Examples
    --------
    Pre-train for 3 epochs, then train with the joint term, on two targets:

    >>> import numpy as np
    >>> from skdir.nn import DIRRegressor, SupReMix
    >>> X = np.random.default_rng(0).normal(size=(90, 4))
    >>> Y = np.column_stack([X[:, 0], X[:, 1] - X[:, 2]])
    >>> stage = SupReMix(weight=0.1, pretrain_epochs=3, negative_beta=(2, 8))
    >>> net = DIRRegressor(module="mlp", regularizers=[("supremix", stage)], max_epochs=2,
    ...                    device="cpu", random_state=0).fit(X, Y)
    >>> len(net.regularizers_["supremix"].pretrain_losses_)
    3
    """

    needs = frozenset({"features"})
    pairwise = True

    def __init__(
        self,
        weight: float = 0.0,
        pretrain_epochs: int = 30,
        pretrain_lr: float | None = None,
        temperature: float = 0.1,
        threshold: float = 0.25,
        window: float = 1.0,
        negative_beta: tuple[float, float] = (5.0, 5.0),
        probe: bool = False,
    ) -> None:
        super().__init__(weight=weight)
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.temperature = temperature
        self.threshold = threshold
        self.window = window
        self.negative_beta = negative_beta
        self.probe = probe

    @property
    def active(self) -> bool:
        """Whether the joint term or the pre-training stage is on."""
        return self.weight > 0 or self.pretrain_epochs > 0

    def check(self, net: Any) -> None:
        """Validate every parameter (a ValueError names the bad one and the fix)."""
        name = type(self).__name__
        weight = self.weight
        if isinstance(weight, bool) or not isinstance(weight, Real) or not weight >= 0:
            raise ValueError(
                f"{name}(weight={weight!r}) must be a non-negative number (0 keeps only the "
                "pre-training stage)."
            )
        epochs = self.pretrain_epochs
        if isinstance(epochs, bool) or not isinstance(epochs, Integral) or epochs < 0:
            raise ValueError(
                f"{name}(pretrain_epochs={epochs!r}) must be an integer >= 0 (0 skips the "
                "pre-training stage)."
            )
        lr = self.pretrain_lr
        if lr is not None and (isinstance(lr, bool) or not isinstance(lr, Real) or not lr > 0):
            raise ValueError(
                f"{name}(pretrain_lr={lr!r}) must be a positive number, or None to use the "
                "regressor's lr."
            )
        _check_supremix_params(
            self.temperature, self.threshold, self.window, self.negative_beta, owner=name
        )
        if not isinstance(self.probe, bool | np.bool_):
            raise ValueError(f"{name}(probe={self.probe!r}) must be True or False.")
        if self.probe and self.weight > 0:
            raise ValueError(
                f"{name}(probe=True, weight={self.weight!r}): a linear probe freezes the "
                "features, so the joint term cannot train them; set weight=0 or probe=False."
            )

    def loss(self, batch: TrainingBatch) -> torch.Tensor:
        """Return the SupReMix loss of the batch's features and labels."""
        return supremix_loss(
            batch.features,
            batch.labels,
            batch.weight,
            temperature=self.temperature,
            threshold=self.threshold,
            window=self.window,
            negative_beta=self.negative_beta,
        )

    def __call__(self, batch: TrainingBatch) -> torch.Tensor:
        """Return the weighted joint term (0 without computing it when ``weight`` is 0)."""
        if not self.weight > 0:
            return batch.y.new_zeros(())
        return self.weight * self.loss(batch)

    def before_fit(self, net: Any, X: Any, y: Any) -> None:
        """Pre-train the features on the SupReMix loss for ``pretrain_epochs`` epochs.

        Parameters
        ----------
        net : DIRRegressor
            The regressor, with its network built.
        X : dict
            The packed training inputs.
        y : ndarray of shape (n_samples, n_targets)
            The network's training targets.
        """
        self.pretrain_losses_ = net.pretrain(
            X, y, self.loss, epochs=int(self.pretrain_epochs), lr=self.pretrain_lr
        )
        if self.probe:
            for parameter in _trunk_parameters(net.module_):
                parameter.requires_grad_(False)

    def after_fit(self, net: Any, X: Any, y: Any) -> None:
        """Release the features frozen for the linear probe (``probe=True``)."""
        if self.probe:
            for parameter in _trunk_parameters(net.module_):
                parameter.requires_grad_(True)


def _trunk_parameters(module: torch.nn.Module) -> list[torch.nn.Parameter]:
    """Return the module's parameters outside its output layer ``head``."""
    head = {id(p) for p in module.head.parameters()}
    return [p for p in module.parameters() if id(p) not in head]
