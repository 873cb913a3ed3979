"""Set Transformer pooling over the fragments of a bag.

:class:`SetTransformer` is the bag module beside :class:`~skdir.nn.AttentionMIL`
for targets that depend on how the fragments of a bag relate to each other:
attention-MIL scores each fragment on its own and averages, so a bag's target
that is, say, the largest similarity between two of its fragments is out of its
reach, whereas self-attention between fragments can represent it.
"""

from __future__ import annotations

import math
from numbers import Integral

import torch
from torch import nn

from .modules import (
    _ACTIVATIONS,
    _check_dropout,
    _check_heads,
    _positive_int,
    fragment_mask,
)

__all__ = ["SetTransformer"]


class _MultiheadAttention(nn.Module):
    """``concat_j softmax(Q_j K_j^T / sqrt(d_j)) V_j`` times ``W^O``, masked keys excluded."""

    def __init__(self, dim: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)

    def _heads(self, X: torch.Tensor) -> torch.Tensor:
        """``(n, rows, dim)`` -> ``(n, n_heads, rows, dim / n_heads)``."""
        n, rows, dim = X.shape
        return X.view(n, rows, self.n_heads, dim // self.n_heads).transpose(1, 2)

    def forward(
        self, queries: torch.Tensor, keys: torch.Tensor, key_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the attended values ``(n, n_queries, dim)`` and the weights.

        The weights have shape ``(n, n_heads, n_queries, n_keys)``; keys where
        ``key_mask`` is False get exactly zero weight.
        """
        q, k = self._heads(self.query(queries)), self._heads(self.key(keys))
        v = self._heads(self.value(keys))
        logits = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if key_mask is not None:
            logits = logits.masked_fill(~key_mask[:, None, None, :], float("-inf"))
        weights = torch.softmax(logits, dim=-1)
        attended = (weights @ v).transpose(1, 2).reshape(queries.shape)
        return self.out(attended), weights


class _RowFeedForward(nn.Sequential):
    """The row-wise feed-forward layer ``rFF``: ``Linear -> activation -> dropout -> Linear``."""

    def __init__(self, dim: int, width: int, activation: str, dropout: float) -> None:
        super().__init__(
            nn.Linear(dim, width),
            _ACTIVATIONS[activation](),
            nn.Dropout(dropout),
            nn.Linear(width, dim),
        )


class _MAB(nn.Module):
    """Multihead attention block ``MAB(X, Y) = LN(H + rFF(H))``, ``H = LN(X + MH(X, Y, Y))``."""

    def __init__(
        self,
        dim: int,
        n_heads: int,
        width: int,
        activation: str,
        dropout: float,
        layer_norm: bool,
    ) -> None:
        super().__init__()
        self.attention = _MultiheadAttention(dim, n_heads)
        self.feed_forward = _RowFeedForward(dim, width, activation, dropout)
        self.norm_attention = nn.LayerNorm(dim) if layer_norm else nn.Identity()
        self.norm_output = nn.LayerNorm(dim) if layer_norm else nn.Identity()

    def forward(
        self, X: torch.Tensor, Y: torch.Tensor, key_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        attended, weights = self.attention(X, Y, key_mask)
        H = self.norm_attention(X + attended)
        return self.norm_output(H + self.feed_forward(H)), weights


class _SetBlock(nn.Module):
    """An ISAB, or a SAB when ``n_inducing`` is None.

    ``ISAB_m(X) = MAB(X, MAB(I, X))`` with ``m`` learned inducing points ``I``;
    ``SAB(X) = MAB(X, X)``.
    """

    def __init__(self, dim: int, n_inducing: int | None, **mab: object) -> None:
        super().__init__()
        self.inducing = (
            None
            if n_inducing is None
            else nn.Parameter(torch.randn(1, n_inducing, dim) / math.sqrt(dim))
        )
        self.induce = None if n_inducing is None else _MAB(dim, **mab)
        self.attend = _MAB(dim, **mab)

    def forward(self, X: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.inducing is None:
            return self.attend(X, X, mask)[0]
        # the inducing points summarise the real fragments (padding is masked out);
        # every row then reads that summary, so padding rows never act as keys
        summary = self.induce(self.inducing.expand(len(X), -1, -1), X, mask)[0]
        return self.attend(X, summary, None)[0]


class SetTransformer(nn.Module):
    """Set Transformer over the fragments of a bag: induced self-attention, then PMA.

    The network of Lee, Lee, Kim, Kosiorek, Choi & Teh, "Set Transformer: A
    Framework for Attention-based Permutation-Invariant Neural Networks" (ICML
    2019), with a regression head. Fragments ``x_k`` are embedded linearly,
    ``e_k = W x_k + b`` (width ``hidden``), and pass through ``n_blocks``
    permutation-equivariant blocks in which the fragments attend to each other,
    then one pooling by multi-head attention reads the bag's vector ``z``:

    - ``MAB(X, Y) = LN(H + rFF(H))`` with ``H = LN(X + Multihead(X, Y, Y))``:
      rows of ``X`` attend to the rows of ``Y``; ``Multihead`` is the
      ``n_heads``-head attention ``concat_j softmax(Q_j K_j^T / sqrt(d_j)) V_j
      W^O`` of Vaswani et al. (2017) with ``Q_j = X W_j^Q``, ``K_j = Y W_j^K``,
      ``V_j = Y W_j^V`` and ``d_j = hidden / n_heads``; ``rFF`` is a row-wise
      ``Linear -> activation -> Linear``; ``LN`` is layer normalisation, as in
      the paper (``layer_norm=False`` leaves it out);
    - ``ISAB_m(X) = MAB(X, MAB(I, X))``: ``m`` learned inducing points ``I``
      attend to the fragments, and the fragments attend to that summary, a cost
      of ``O(m n)`` for ``n`` fragments instead of self-attention's ``O(n^2)``
      (``n_inducing=None`` uses self-attention, ``SAB(X) = MAB(X, X)``);
    - ``PMA(Z) = MAB(S, rFF(Z))`` with one learned seed vector ``S``: ``z`` is
      its single output row, followed by one linear output per target.

    Because the blocks are equivariant and the pooling is invariant, ``z`` does
    not depend on the order of the fragments, and any number of them is
    allowed. Unlike :class:`~skdir.nn.AttentionMIL`, which scores each fragment
    on its own and averages them, the blocks let each fragment's
    representation depend on the others, so a target that depends on how the
    fragments relate (their pairwise similarities, say) is within reach.

    Input is a float tensor of shape ``(n_bags, max_fragments, n_features)``
    whose padding rows are entirely NaN, as for :class:`~skdir.nn.AttentionMIL`.
    Padding rows are set to zero and masked out as keys of every attention that
    reads the fragments (the inducing points and the pooling seed), so they get
    exactly zero weight and a padded bag predicts what the same bag without
    padding does.

    Parameters
    ----------
    n_features : int
        Number of columns of a fragment (set by the regressor).
    n_outputs : int, default=1
        Number of targets (set by the regressor).
    hidden : int, default=64
        Width of the fragment embeddings and of ``z``.
    n_heads : int, default=4
        Attention heads; must divide ``hidden``.
    n_inducing : int or None, default=16
        Inducing points ``m`` of each ISAB; None uses full self-attention
        between the fragments (SAB), cheaper than ISAB when bags hold fewer
        than about ``m`` fragments.
    n_blocks : int, default=2
        Number of ISAB (or SAB) blocks; 0 pools the embedded fragments
        directly (each fragment then is scored on its own, as in attention-MIL).
    dim_feedforward : int or None, default=None
        Width of each ``rFF``; None means ``2 * hidden``.
    dropout : float, default=0.1
        Dropout inside each ``rFF``.
    activation : {"gelu", "relu", "silu", "tanh"}, default="gelu"
        Activation of each ``rFF``.
    layer_norm : bool, default=True
        Layer normalisation in each MAB, as in the paper.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn import SetTransformer
    >>> _ = torch.manual_seed(0)
    >>> net = SetTransformer(n_features=2, n_outputs=2, hidden=4, n_heads=2).eval()
    >>> pad = [float("nan")] * 2
    >>> bags = torch.tensor([[[1.0, 2], [3, 4], [5, 6]], [[7.0, 8], pad, pad]])
    >>> net(bags).shape, net.features(bags).shape
    (torch.Size([2, 2]), torch.Size([2, 4]))
    >>> weights = net.attention(bags)  # one row per bag, zero on padding
    >>> weights.sum(dim=1).tolist(), weights[1].tolist()
    ([1.0, 1.0], [1.0, 0.0, 0.0])
    >>> reordered = bags[:, [2, 0, 1]]  # the order of the fragments does not matter
    >>> bool(torch.allclose(net(reordered), net(bags), atol=1e-6))
    True
    """

    #: DIRRegressor passes bags (3-D, NaN-padded) to this module.
    accepts_bags = True

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        hidden: int = 64,
        n_heads: int = 4,
        n_inducing: int | None = 16,
        n_blocks: int = 2,
        dim_feedforward: int | None = None,
        dropout: float = 0.1,
        activation: str = "gelu",
        layer_norm: bool = True,
    ) -> None:
        super().__init__()
        hidden, n_heads = _check_heads(hidden, n_heads, "hidden")
        if n_inducing is not None:
            n_inducing = _positive_int(n_inducing, "n_inducing")
        if isinstance(n_blocks, bool) or not isinstance(n_blocks, Integral) or n_blocks < 0:
            raise ValueError(f"n_blocks must be a non-negative integer, got {n_blocks!r}.")
        width = _positive_int(
            2 * hidden if dim_feedforward is None else dim_feedforward, "dim_feedforward"
        )
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"Unknown activation {activation!r}; choose one of {', '.join(_ACTIVATIONS)}."
            )
        if not isinstance(layer_norm, bool):
            raise ValueError(f"layer_norm must be True or False, got {layer_norm!r}.")
        mab = {
            "n_heads": n_heads,
            "width": width,
            "activation": activation,
            "dropout": _check_dropout(dropout),
            "layer_norm": layer_norm,
        }
        self.embed = nn.Linear(int(n_features), hidden)
        self.blocks = nn.ModuleList(
            _SetBlock(hidden, n_inducing, **mab) for _ in range(int(n_blocks))
        )
        self.seed = nn.Parameter(torch.randn(1, 1, hidden) / math.sqrt(hidden))
        self.pool_feed_forward = _RowFeedForward(hidden, width, activation, mab["dropout"])
        self.pool_block = _MAB(hidden, **mab)
        self.head = nn.Linear(hidden, int(n_outputs))
        self.embedding_dim = hidden

    def pool(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``z`` (n_bags, hidden) and the seed's attention (n_bags, max_fragments).

        The attention is the pooling's weights averaged over the heads: each
        bag's weights sum to 1 and padding rows get exactly 0.
        """
        mask = fragment_mask(X, type(self).__name__)
        H = self.embed(torch.where(mask.unsqueeze(-1), X, torch.zeros((), dtype=X.dtype)))
        for block in self.blocks:
            H = block(H, mask)
        seed = self.seed.expand(len(X), -1, -1)
        pooled, weights = self.pool_block(seed, self.pool_feed_forward(H), mask)
        return pooled[:, 0], weights[:, :, 0].mean(dim=1)

    def attention(self, X: torch.Tensor) -> torch.Tensor:
        """Return the pooling weights, shape ``(n_bags, max_fragments)``, 0 on padding.

        After ``n_blocks > 0`` blocks each fragment's representation carries
        information about the others, so a weight says which positions the
        pooling reads, not which input fragment alone decides the prediction.
        """
        return self.pool(X)[1]

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """Return the pooled bag features ``z``."""
        return self.pool(X)[0]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the predictions, shape ``(n_bags, n_outputs)``."""
        return self.head(self.features(X))
