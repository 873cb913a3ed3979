"""Torch modules for small, wide tables of embeddings.

Every module here follows the contract :class:`~skdir.nn.DIRRegressor` relies on:

- it is built from ``n_features`` and ``n_outputs`` (the regressor passes them from
  the data, so they are never set by hand);
- ``features(X)`` returns the penultimate representation ``z`` of shape
  ``(n, embedding_dim)``, ``head(z)`` the predictions of shape ``(n, n_outputs)``,
  and ``forward(X) == head(features(X))``.

Feature distribution smoothing and feature-based regularisers act on ``z``; a
custom module class that follows the contract gets them too.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from numbers import Integral

import torch
from torch import nn

__all__ = ["MLP", "TwoTower"]

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh}
_NORMS = ("layer", "batch", None)


def _hidden_sizes(hidden: int | Sequence[int], name: str = "hidden") -> list[int]:
    sizes = [hidden] if isinstance(hidden, Integral) else list(hidden)
    if not sizes or any(
        isinstance(s, bool) or not isinstance(s, Integral) or s < 1 for s in sizes
    ):
        raise ValueError(
            f"{name} must be a positive integer or a non-empty sequence of them, got {hidden!r}."
        )
    return [int(s) for s in sizes]


def _block(n_in: int, n_out: int, activation: str, norm: str | None, dropout: float) -> nn.Module:
    """Linear -> norm -> activation -> dropout."""
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"Unknown activation {activation!r}; choose one of {', '.join(_ACTIVATIONS)}."
        )
    if norm not in _NORMS:
        raise ValueError(f"norm must be 'layer', 'batch' or None, got {norm!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
    layers: list[nn.Module] = [nn.Linear(n_in, n_out)]
    if norm == "layer":
        layers.append(nn.LayerNorm(n_out))
    elif norm == "batch":
        layers.append(nn.BatchNorm1d(n_out))
    layers.append(_ACTIVATIONS[activation]())
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class MLP(nn.Module):
    """Multilayer perceptron for wide inputs and small data.

    ``input -> [input dropout] -> Linear(n_features, hidden[0]) -> norm -> activation ->
    dropout -> ... -> z -> Linear(hidden[-1], n_outputs)``. The first projection is
    narrow (256 by default) so that a 768-2000 column input is compressed early,
    the trunk is shared by all targets and the head holds one linear output per
    target.

    Parameters
    ----------
    n_features : int
        Number of input columns (set by the regressor from ``X``).
    n_outputs : int, default=1
        Number of targets (set by the regressor from ``y``).
    hidden : int or sequence of int, default=(256,)
        Width of each hidden layer; the last one is the feature size ``z``.
    dropout : float, default=0.1
        Dropout after each hidden layer.
    input_dropout : float, default=0.0
        Dropout on the input columns.
    activation : {"gelu", "relu", "silu", "tanh"}, default="gelu"
        Hidden activation.
    norm : {"layer", "batch"} or None, default="layer"
        Normalisation after each hidden linear layer. LayerNorm does not depend on
        the batch, so it behaves the same in training and prediction.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn import MLP
    >>> net = MLP(n_features=10, n_outputs=2, hidden=(8, 4))
    >>> net(torch.zeros(3, 10)).shape, net.features(torch.zeros(3, 10)).shape
    (torch.Size([3, 2]), torch.Size([3, 4]))
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        hidden: int | Sequence[int] = (256,),
        dropout: float = 0.1,
        input_dropout: float = 0.0,
        activation: str = "gelu",
        norm: str | None = "layer",
    ) -> None:
        super().__init__()
        sizes = _hidden_sizes(hidden)
        if not 0.0 <= input_dropout < 1.0:
            raise ValueError(f"input_dropout must be in [0, 1), got {input_dropout!r}.")
        widths = [int(n_features), *sizes]
        blocks: list[nn.Module] = [nn.Dropout(input_dropout)] if input_dropout > 0 else []
        blocks += [
            _block(n_in, n_out, activation, norm, dropout)
            for n_in, n_out in itertools.pairwise(widths)
        ]
        self.trunk = nn.Sequential(*blocks)
        self.head = nn.Linear(sizes[-1], int(n_outputs))
        self.embedding_dim = sizes[-1]

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """Return the penultimate features ``z``."""
        if X.ndim != 2:
            raise ValueError(
                f"MLP expects 2-D input (n_samples, n_features), got shape {tuple(X.shape)}."
            )
        return self.trunk(X)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the predictions, shape ``(n, n_outputs)``."""
        return self.head(self.features(X))


def _modality_slices(modalities: Sequence[slice | int], n_features: int) -> list[slice]:
    """Turn column slices or sizes into checked slices of ``range(n_features)``."""
    if modalities is None or len(modalities) == 0:
        raise ValueError(
            "TwoTower needs module__modalities: one column slice per modality, e.g. "
            "[slice(0, 384), slice(384, 768)], or their sizes, e.g. [384, 384]."
        )
    if all(isinstance(m, Integral) and not isinstance(m, bool) for m in modalities):
        sizes = [int(m) for m in modalities]
        if any(s < 1 for s in sizes) or sum(sizes) != n_features:
            raise ValueError(
                f"Modality sizes {sizes} must be positive and sum to the {n_features} input "
                "columns."
            )
        stops = torch.tensor(sizes).cumsum(0).tolist()
        return [slice(stop - size, stop) for stop, size in zip(stops, sizes, strict=True)]
    slices = []
    for m in modalities:
        if not isinstance(m, slice) or m.step not in (None, 1):
            raise ValueError(
                f"Each modality must be a contiguous slice(start, stop) or a size, got {m!r}."
            )
        start, stop, _ = m.indices(n_features)
        if stop <= start or (m.stop is not None and m.stop > n_features):
            raise ValueError(
                f"Modality {m!r} selects no columns, or columns beyond the {n_features} "
                "input columns."
            )
        slices.append(slice(start, stop))
    return slices


class TwoTower(nn.Module):
    """One tower per modality (column block), fused by a shared trunk.

    Each modality, e.g. the text and image embeddings concatenated in ``X``, is
    projected separately (``Linear -> norm -> activation -> dropout`` to
    ``tower_dim``); the projections are concatenated and passed through a shared
    trunk of ``hidden`` layers whose output is ``z``, and one linear output per
    target. Any number of modalities is accepted (two is the usual case).

    Parameters
    ----------
    n_features : int
        Number of input columns (set by the regressor).
    n_outputs : int, default=1
        Number of targets (set by the regressor).
    modalities : sequence of slice or sequence of int
        Column slices of the modalities (``[slice(0, 384), slice(384, 768)]``), or
        their sizes in column order (``[384, 384]``). Slices may overlap or leave
        columns out.
    tower_dim : int, default=128
        Output width of each modality's projection.
    hidden : int or sequence of int, default=(128,)
        Widths of the fusion trunk; the last one is the feature size ``z``.
    dropout : float, default=0.1
        Dropout after each hidden layer.
    activation : {"gelu", "relu", "silu", "tanh"}, default="gelu"
        Hidden activation.
    norm : {"layer", "batch"} or None, default="layer"
        Normalisation after each linear layer.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn import TwoTower
    >>> net = TwoTower(n_features=6, modalities=[4, 2], tower_dim=3, hidden=5)
    >>> net(torch.zeros(2, 6)).shape
    torch.Size([2, 1])
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        modalities: Sequence[slice | int] | None = None,
        tower_dim: int = 128,
        hidden: int | Sequence[int] = (128,),
        dropout: float = 0.1,
        activation: str = "gelu",
        norm: str | None = "layer",
    ) -> None:
        super().__init__()
        self.slices = _modality_slices(modalities, int(n_features))
        (tower_dim,) = _hidden_sizes(tower_dim, "tower_dim")
        self.towers = nn.ModuleList(
            _block(s.stop - s.start, tower_dim, activation, norm, dropout) for s in self.slices
        )
        sizes = _hidden_sizes(hidden)
        widths = [tower_dim * len(self.slices), *sizes]
        self.trunk = nn.Sequential(
            *(
                _block(n_in, n_out, activation, norm, dropout)
                for n_in, n_out in itertools.pairwise(widths)
            )
        )
        self.head = nn.Linear(sizes[-1], int(n_outputs))
        self.embedding_dim = sizes[-1]

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """Return the fused penultimate features ``z``."""
        if X.ndim != 2:
            raise ValueError(
                f"TwoTower expects 2-D input (n_samples, n_features), got {tuple(X.shape)}."
            )
        projected = [tower(X[:, s]) for tower, s in zip(self.towers, self.slices, strict=True)]
        return self.trunk(torch.cat(projected, dim=1))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the predictions, shape ``(n, n_outputs)``."""
        return self.head(self.features(X))
