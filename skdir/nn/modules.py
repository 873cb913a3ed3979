"""Torch modules for small, wide tables of embeddings.

Every module here follows the contract :class:`~skdir.nn.DIRRegressor` relies on:

- it is built from ``n_features`` and ``n_outputs`` (the regressor passes them from
  the data, so they are never set by hand);
- ``features(X)`` returns the penultimate representation ``z`` of shape
  ``(n, embedding_dim)``, ``head(z)`` the predictions of shape ``(n, n_outputs)``,
  and ``forward(X) == head(features(X))``.

Feature distribution smoothing and feature-based regularisers act on ``z``; a
custom module class that follows the contract gets them too.

A module with the class attribute ``accepts_bags = True`` (:class:`AttentionMIL`)
takes bags of fragments instead of rows: a float tensor of shape
``(n_bags, max_fragments, n_features)`` whose padding rows are all NaN.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from numbers import Integral

import torch
from numpy.typing import ArrayLike
from torch import nn

__all__ = [
    "MLP",
    "AttentionMIL",
    "FusionTransformer",
    "InteractionMLP",
    "ScaledOutput",
    "TwoTower",
]

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


def _blocks(
    widths: Sequence[int], activation: str, norm: str | None, dropout: float
) -> list[nn.Module]:
    """One :func:`_block` per consecutive pair of ``widths``."""
    return [
        _block(n_in, n_out, activation, norm, dropout)
        for n_in, n_out in itertools.pairwise(widths)
    ]


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
        self.trunk = nn.Sequential(*blocks, *_blocks(widths, activation, norm, dropout))
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


#: Most rows :meth:`InteractionMLP.fit_inputs` reads (evenly spaced) for its statistics.
_STATISTICS_ROWS = 10_000
#: Scale of a normal distribution's interquartile range (IQR / 1.349 estimates the std).
_IQR_TO_STD = 1.3489795
_SCALINGS = ("robust", "standard", None)


def _spread(values: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
    """Replace zero or non-finite spreads by ``fallback``, then by 1."""
    values = torch.where(torch.isfinite(values) & (values > 1e-12), values, fallback)
    return torch.where(torch.isfinite(values) & (values > 1e-12), values, torch.ones_like(values))


def _column_quantiles(X: torch.Tensor, levels: Sequence[float]) -> list[torch.Tensor]:
    """Per-column quantiles with linear interpolation (``torch.quantile`` caps the input size)."""
    ordered = X.sort(dim=0).values
    quantiles = []
    for level in levels:
        position = level * (len(X) - 1)
        low = int(position)
        high = min(low + 1, len(X) - 1)
        quantiles.append(ordered[low] + (position - low) * (ordered[high] - ordered[low]))
    return quantiles


class ScaledOutput(nn.Module):
    """Linear output layer in units of the training targets: ``(z W^T + b) * s + m``.

    ``m`` and ``s`` (buffers) are the mean and standard deviation of each
    training target, set by :meth:`fit`; before it they are 0 and 1 (a plain
    linear layer). The network then predicts targets in the hundreds (or in
    thousandths) with weights of order one, as it would on standardised
    targets: the target standardisation of RealMLP (Holzmüller et al., 2024)
    done inside the network, so the loss and the predictions stay in the units
    of ``y``.

    Parameters
    ----------
    in_features : int
        Width of the features ``z``.
    n_outputs : int
        Number of targets.
    n_members : int, default=1
        Number of ensemble members, each with its own weights and bias (the
        centre and scale are shared).

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.modules import ScaledOutput
    >>> out = ScaledOutput(2, 1).fit(torch.tensor([[10.0], [30.0]]))
    >>> out.center.tolist(), out.scale.tolist()
    ([20.0], [14.142135620117188])
    """

    def __init__(self, in_features: int, n_outputs: int, n_members: int = 1) -> None:
        super().__init__()
        self.n_members = _positive_int(n_members, "n_members")
        if self.n_members == 1:
            self.linear = nn.Linear(int(in_features), int(n_outputs))
        else:  # one linear layer per member, initialised as nn.Linear initialises its own
            bound = 1.0 / math.sqrt(int(in_features))
            shape = (self.n_members, int(in_features), int(n_outputs))
            self.weight = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
            self.bias = nn.Parameter(torch.empty(shape[0], shape[2]).uniform_(-bound, bound))
        self.register_buffer("center", torch.zeros(int(n_outputs)))
        self.register_buffer("scale", torch.ones(int(n_outputs)))

    @torch.no_grad()
    def fit(self, y: ArrayLike | torch.Tensor, scale: bool = True) -> ScaledOutput:
        """Set ``center`` and ``scale`` to the mean and standard deviation of ``y``.

        Parameters
        ----------
        y : array-like or torch.Tensor of shape (n_samples,) or (n_samples, n_outputs)
            Training targets (a zero standard deviation is replaced by 1).
        scale : bool, default=True
            Set ``scale`` too; False sets only ``center`` (the output starts at
            the mean target and keeps the units of the linear layer).

        Returns
        -------
        self : ScaledOutput
            The layer.
        """
        y = torch.as_tensor(y, dtype=torch.float64).cpu().reshape(-1, len(self.center))
        if len(y) < 2 or not bool(torch.isfinite(y).all()):
            raise ValueError("ScaledOutput.fit needs at least 2 rows of finite targets.")
        std = y.std(dim=0)
        self.center.copy_(y.mean(dim=0))
        if scale:
            self.scale.copy_(_spread(std, std))
        return self

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return the predictions: ``(n, n_outputs)``, or ``(n, n_members, n_outputs)``.

        With ``n_members > 1``, ``z`` has shape ``(n, n_members, in_features)``
        and member ``k`` reads ``z[:, k]`` with its own weights.
        """
        if self.n_members == 1:
            return self.linear(z) * self.scale + self.center
        out = torch.einsum("nki,kio->nko", z, self.weight) + self.bias
        return out * self.scale + self.center


class InteractionMLP(nn.Module):
    """MLP on scaled inputs and the interactions of correlated column pairs.

    :class:`DIRRegressor`'s default network. Wide embedding tables often hold
    two embeddings of one kind side by side (the two sentences of a pair, a
    query and a document); the target then depends on how the two agree, a
    product *across* the blocks that a plain MLP on the concatenated columns
    learns poorly from a few thousand rows. This network finds such pairs in
    the training data, without being told the blocks, and hands their products
    to an MLP:

    1. **Scaling** (fitted by :meth:`fit_inputs`): ``s = c((x - m) / r)`` per
       column, with the median ``m`` and the interquartile range over 1.349
       ``r`` (``scaling="robust"``; the standard deviation where the IQR is 0),
       the robust scaling of RealMLP (Holzmüller, Grinsztajn & Steinwart,
       "Better by Default: Strong Pre-Tuned MLPs and Boosted Trees on Tabular
       Data", NeurIPS 2024). RealMLP also clips smoothly,
       ``c(t) = t / sqrt(1 + (t / clip)^2)``; that is off by default here
       (``clip=None``, ``c(t) = t``) because it compresses the extreme inputs
       where rare targets tend to lie.
    2. **Pairs** (fitted by :meth:`fit_inputs`): each column ``j`` is paired
       with the other column ``p(j)`` most correlated with it (in absolute
       value, on the scaled training inputs), with ``g_j`` the sign of that
       correlation. For two embeddings from one encoder this is the same
       coordinate in the other block (on STS-B-DIR, 764 of the 768 columns;
       the other 4 are constant).
    3. **Interactions**: ``u = [s, s * s_p, |s - g * s_p|]`` (``s_p`` the
       partner columns), the products and absolute differences standardised by
       their training mean and standard deviation: the ``u * v`` and
       ``|u - v|`` matching features of sentence-pair encoders (Conneau et al.,
       "Supervised Learning of Universal Sentence Representations from Natural
       Language Inference Data", EMNLP 2017), formed per coordinate. A column
       correlated with no other keeps itself as partner.
    4. An MLP as :class:`MLP` (``Linear -> norm -> activation -> dropout`` per
       hidden layer) on the ``3 * n_features`` columns of ``u`` gives ``z``,
       and a :class:`ScaledOutput` head, one linear output per target in units
       of the training targets (their mean and standard deviation, fitted by
       :meth:`fit_inputs` when it gets ``y``).

    Measured with :class:`DIRRegressor`'s defaults (cosine learning-rate
    schedule, ``benchmarks/bench_peers.py``, test MSE, 3 seeds): STS-B-DIR
    0.59 (the old default, :class:`MLP`, 1.04; CatBoost with LDS weights 0.70);
    heat 0.038 (:class:`MLP` 2.8; RealMLP 0.065); machineCpu 3437 (19894;
    TabM 3438); on abalone, algae, bank8FM, cpuSm and fuelCons it stays 7-70%
    behind the best peer (gradient boosting or RealMLP), as the old default did.

    Parameters
    ----------
    n_features : int
        Number of input columns (set by the regressor from ``X``).
    n_outputs : int, default=1
        Number of targets (set by the regressor from ``y``).
    hidden : int or sequence of int, default=(256, 256)
        Width of each hidden layer; the last one is the feature size ``z``.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    activation : {"gelu", "relu", "silu", "tanh"}, default="silu"
        Hidden activation.
    norm : {"layer", "batch"} or None, default="layer"
        Normalisation after each hidden linear layer.
    interactions : bool, default=True
        Add the pair products and absolute differences (False: the scaled
        columns alone).
    scaling : {"robust", "standard"} or None, default="robust"
        Per-column centre and scale: median and IQR / 1.349, mean and
        standard deviation, or none (the inputs as given).
    clip : float or None, default=None
        Smooth-clipping level of the scaled inputs (RealMLP uses 3); None
        does not clip.
    output_scaling : bool, default=True
        Put the output layer in units of the training targets' standard
        deviation; False keeps the linear layer's units (the output still
        starts at the mean target).
    interaction_range : (float, float) or None, default=None
        Keep the interactions of a column only where the absolute correlation
        with its partner lies in ``[low, high]`` (the others are zero); None
        keeps all. Measured (``bench_peers``' splits, 2 seeds, test MSE against
        None): ``(0.2, 0.9)`` is 12% lower on bank8FM (unrelated columns, all
        correlations below 0.05), 4% on abalone (near-duplicate columns), 1-2%
        on cpuSm and algae, but 50% higher on heat, whose weakly correlated
        pairs interact; on STS-B-DIR every pair lies in it (0.6-0.7).
    n_ensemble : int, default=1
        Number of members of a parameter-efficient ensemble (TabM-mini,
        Gorishniy, Kotelnikov & Babenko, "TabM: Advancing Tabular Deep Learning
        with Parameter-Efficient Ensembling", ICLR 2025; the rank-1 adapters of
        BatchEnsemble, Wen, Tran & Ba, ICLR 2020): the members share every
        weight but a multiplicative adapter after the first hidden layer
        (initialised to random signs) and their output layers. The prediction
        is the members' mean; :meth:`forward_members` gives each member's, and
        their spread is an uncertainty estimate. The first (widest) layer is
        computed once for all members; the later ones ``n_ensemble`` times.

    Attributes
    ----------
    center, scale : torch.Tensor of shape (n_features,)
        Per-column centre and scale (buffers, fitted by :meth:`fit_inputs`).
    partner : torch.Tensor of shape (n_features,), int64
        Index of each column's partner ``p(j)``.
    sign : torch.Tensor of shape (n_features,)
        Sign ``g_j`` of each column's correlation with its partner.
    pair_center, pair_scale : torch.Tensor of shape (2 * n_features,)
        Mean and standard deviation of the products and absolute differences.
    pair_mask : torch.Tensor of shape (2 * n_features,)
        1 for the interactions kept (``interaction_range``), 0 for the others.
    adapters : torch.nn.Parameter of shape (n_ensemble, hidden[0])
        The members' multiplicative adapters (only with ``n_ensemble > 1``).
    head : ScaledOutput
        The output layer.
    embedding_dim : int
        Size of ``z``.

    Notes
    -----
    :meth:`fit_inputs` must run before the first forward pass.
    :class:`DIRRegressor` calls it once, when training starts, with the rows
    and the (transformed) targets it trains on, including the rows of its
    internal validation split but not an ``eval_set``; continued training
    (``partial_fit``, ``warm_start=True``) keeps the statistics. They are
    buffers, saved with the parameters.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn import InteractionMLP
    >>> _ = torch.manual_seed(0)
    >>> a = torch.randn(50, 3)
    >>> X = torch.cat([a, a + 0.1 * torch.randn(50, 3)], dim=1)  # two blocks of 3
    >>> net = InteractionMLP(n_features=6, n_outputs=2, hidden=8).fit_inputs(X)
    >>> net.partner.tolist()
    [3, 4, 5, 0, 1, 2]
    >>> net(X).shape, net.features(X).shape
    (torch.Size([50, 2]), torch.Size([50, 8]))
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        hidden: int | Sequence[int] = (256, 256),
        dropout: float = 0.0,
        activation: str = "silu",
        norm: str | None = "layer",
        interactions: bool = True,
        scaling: str | None = "robust",
        clip: float | None = None,
        output_scaling: bool = True,
        n_ensemble: int = 1,
        interaction_range: tuple[float, float] | None = None,
    ) -> None:
        super().__init__()
        if interaction_range is not None and not (
            isinstance(interaction_range, (tuple, list))
            and len(interaction_range) == 2
            and all(isinstance(v, (int, float)) for v in interaction_range)
            and 0 <= interaction_range[0] <= interaction_range[1] <= 1
        ):
            raise ValueError(
                "interaction_range must be None or (low, high) with 0 <= low <= high <= 1, "
                f"got {interaction_range!r}."
            )
        self.interaction_range = None if interaction_range is None else tuple(interaction_range)
        n_features = _positive_int(n_features, "n_features")
        self.n_ensemble = _positive_int(n_ensemble, "n_ensemble")
        sizes = _hidden_sizes(hidden)
        if not isinstance(interactions, bool):
            raise ValueError(f"interactions must be True or False, got {interactions!r}.")
        if scaling not in _SCALINGS:
            raise ValueError(f"scaling must be 'robust', 'standard' or None, got {scaling!r}.")
        if clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
            raise ValueError(f"clip must be a positive number or None, got {clip!r}.")
        if not isinstance(output_scaling, bool):
            raise ValueError(f"output_scaling must be True or False, got {output_scaling!r}.")
        self.interactions = interactions
        self.output_scaling = output_scaling
        self.scaling = scaling
        self.clip = None if clip is None else float(clip)
        self.register_buffer("center", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        self.register_buffer("partner", torch.arange(n_features))
        self.register_buffer("sign", torch.ones(n_features))
        self.register_buffer("pair_center", torch.zeros(2 * n_features))
        self.register_buffer("pair_scale", torch.ones(2 * n_features))
        self.register_buffer("pair_mask", torch.ones(2 * n_features))
        self.register_buffer("fitted", torch.tensor(False))
        width = n_features * (3 if interactions else 1)
        self.trunk = nn.Sequential(*_blocks([width, *sizes], activation, norm, dropout))
        if self.n_ensemble > 1:  # TabM's random-sign initialisation of the adapters
            signs = torch.randint(0, 2, (self.n_ensemble, sizes[0])) * 2.0 - 1.0
            self.adapters = nn.Parameter(signs)
        self.head = ScaledOutput(sizes[-1], int(n_outputs), self.n_ensemble)
        self.embedding_dim = sizes[-1]

    @property
    def inputs_fitted(self) -> bool:
        """Whether :meth:`fit_inputs` has set the scaling and the pairs."""
        return bool(self.fitted)

    def _scaled(self, X: torch.Tensor) -> torch.Tensor:
        scaled = (X - self.center) / self.scale
        if self.clip is not None:
            scaled = scaled / torch.sqrt(1.0 + (scaled / self.clip) ** 2)
        return scaled

    def _pairs(self, scaled: torch.Tensor) -> torch.Tensor:
        other = scaled[:, self.partner]
        return torch.cat([scaled * other, (scaled - self.sign * other).abs()], dim=1)

    @torch.no_grad()
    def fit_inputs(
        self, X: ArrayLike | torch.Tensor, y: ArrayLike | torch.Tensor | None = None
    ) -> InteractionMLP:
        """Fit the scaling, the column pairs and the interactions' scale on inputs ``X``.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features)
            Training inputs (at most 10,000 evenly spaced rows are read).
        y : array-like or torch.Tensor of shape (n_samples, n_outputs) or None
            Training targets: the output layer starts at their mean and works
            in units of their standard deviation (:class:`ScaledOutput`). None
            keeps the output scale as it is.

        Returns
        -------
        self : InteractionMLP
            The module, with its statistics (buffers) set.
        """
        X = torch.as_tensor(X, dtype=torch.float32).cpu()
        if X.ndim != 2 or X.shape[1] != len(self.center) or len(X) < 2:
            raise ValueError(
                f"fit_inputs needs at least 2 rows of {len(self.center)} columns, got shape "
                f"{tuple(X.shape)}."
            )
        if not bool(torch.isfinite(X).all()):
            raise ValueError("fit_inputs got NaN or infinite inputs.")
        if len(X) > _STATISTICS_ROWS:
            X = X[torch.linspace(0, len(X) - 1, _STATISTICS_ROWS).round().long()]
        X = X.double()
        std = X.std(dim=0)
        center, scale = torch.zeros_like(std), torch.ones_like(std)
        if self.scaling == "robust":
            q25, median, q75 = _column_quantiles(X, (0.25, 0.5, 0.75))
            center, scale = median, _spread((q75 - q25) / _IQR_TO_STD, std)
        elif self.scaling == "standard":
            center, scale = X.mean(dim=0), _spread(std, std)
        buffers = self.center
        self.center.copy_(center.to(buffers))
        self.scale.copy_(scale.to(buffers))
        scaled = self._scaled(X.to(buffers))
        if self.interactions:
            z = scaled - scaled.mean(dim=0)
            norms = z.norm(dim=0)
            varies = norms > 1e-6 * (1.0 + norms.max())
            z = z / torch.where(varies, norms, torch.ones_like(norms))
            corr = z.T @ z
            corr.fill_diagonal_(0.0)
            corr[~varies] = 0.0
            corr[:, ~varies] = 0.0
            best = corr.abs().argmax(dim=1)
            strength = corr.gather(1, best[:, None]).squeeze(1)
            # a column correlated with nothing keeps itself as partner (x^2, |x - x| = 0)
            partner = torch.where(strength != 0, best, torch.arange(len(best), device=best.device))
            self.partner.copy_(partner)
            self.sign.copy_(torch.where(strength < 0, -1.0, 1.0).to(buffers))
            if self.interaction_range is not None:
                low, high = self.interaction_range
                inside = (strength.abs() >= low) & (strength.abs() <= high)
                self.pair_mask.copy_(inside.repeat(2).to(buffers))
            pairs = self._pairs(scaled)
            self.pair_center.copy_(pairs.mean(dim=0))
            self.pair_scale.copy_(_spread(pairs.std(dim=0), pairs.std(dim=0)))
        if y is not None:
            self.head.fit(y, scale=self.output_scaling)
        self.fitted.fill_(True)
        return self

    def inputs(self, X: torch.Tensor) -> torch.Tensor:
        """Return the network's input columns: scaled ``X`` and, if on, its interactions."""
        if X.ndim != 2:
            raise ValueError(
                "InteractionMLP expects 2-D input (n_samples, n_features), got shape "
                f"{tuple(X.shape)}."
            )
        if not self.inputs_fitted:
            raise RuntimeError(
                "InteractionMLP has no input statistics yet: call fit_inputs(X_train) first "
                "(DIRRegressor does it when training starts)."
            )
        scaled = self._scaled(X)
        if not self.interactions:
            return scaled
        pairs = (self._pairs(scaled) - self.pair_center) / self.pair_scale * self.pair_mask
        return torch.cat([scaled, pairs], dim=1)

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """Return the penultimate features: ``(n, embedding_dim)``, per member with an ensemble.

        With ``n_ensemble > 1`` the shape is ``(n, n_ensemble, embedding_dim)``.
        """
        hidden = self.trunk[0](self.inputs(X))
        if self.n_ensemble == 1:
            return self.trunk[1:](hidden)
        members = hidden[:, None, :] * self.adapters  # (n, k, width of the first layer)
        rest = self.trunk[1:](members.reshape(-1, members.shape[-1]))
        return rest.reshape(len(X), self.n_ensemble, -1)

    def forward_members(self, X: torch.Tensor) -> torch.Tensor:
        """Return every member's predictions, shape ``(n, n_ensemble, n_outputs)``."""
        out = self.head(self.features(X))
        return out if self.n_ensemble > 1 else out[:, None, :]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the predictions: ``(n, n_outputs)``, the members' mean in evaluation.

        With ``n_ensemble > 1`` a module in training mode returns every
        member's predictions, ``(n, n_ensemble, n_outputs)``: each member is
        trained on its own loss (:class:`DIRRegressor` averages the members'
        losses).
        """
        members = self.forward_members(X)
        if self.n_ensemble > 1 and self.training:
            return members
        return members.mean(dim=1)


def _modality_slices(
    modalities: Sequence[slice | int], n_features: int, owner: str = "TwoTower"
) -> list[slice]:
    """Turn column slices or sizes into checked slices of ``range(n_features)``."""
    if modalities is None or len(modalities) == 0:
        raise ValueError(
            f"{owner} needs module__modalities: one column slice per modality, e.g. "
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
    fusion : {"concat", "interaction"}, default="concat"
        How the projections ``a, b, ...`` are fused: ``"concat"`` concatenates
        them; ``"interaction"`` (exactly two modalities) concatenates
        ``[a, b, |a - b|, a * b]``, the matching features of sentence-pair models
        (Conneau et al., 2017), which suit pairs of embeddings compared with
        each other (e.g. the two sentences of STS-B).
    shared : bool, default=False
        Use one tower (the same weights) for every modality, a siamese network;
        the modalities must then have the same number of columns.
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
        fusion: str = "concat",
        shared: bool = False,
    ) -> None:
        super().__init__()
        self.slices = _modality_slices(modalities, int(n_features))
        (tower_dim,) = _hidden_sizes(tower_dim, "tower_dim")
        if fusion not in ("concat", "interaction"):
            raise ValueError(f"fusion must be 'concat' or 'interaction', got {fusion!r}.")
        if fusion == "interaction" and len(self.slices) != 2:
            raise ValueError(
                f"fusion='interaction' needs exactly two modalities, got {len(self.slices)}; "
                "use fusion='concat'."
            )
        widths_in = [s.stop - s.start for s in self.slices]
        if shared and len(set(widths_in)) != 1:
            raise ValueError(
                f"shared=True needs modalities of equal width, got widths {widths_in}."
            )
        n_towers = 1 if shared else len(self.slices)
        self.towers = nn.ModuleList(
            _block(widths_in[k], tower_dim, activation, norm, dropout) for k in range(n_towers)
        )
        self.fusion = fusion
        sizes = _hidden_sizes(hidden)
        fused = tower_dim * (4 if fusion == "interaction" else len(self.slices))
        widths = [fused, *sizes]
        self.trunk = nn.Sequential(*_blocks(widths, activation, norm, dropout))
        self.head = nn.Linear(sizes[-1], int(n_outputs))
        self.embedding_dim = sizes[-1]

    def modality_outputs(self, X: torch.Tensor) -> list[torch.Tensor]:
        """Return each modality's tower output, ``(n, tower_dim)`` per modality.

        With :meth:`fuse`, ``features(X) == fuse(modality_outputs(X))``: the
        protocol of :class:`~skdir.nn.ModalityBalance`.
        """
        if X.ndim != 2:
            raise ValueError(
                f"TwoTower expects 2-D input (n_samples, n_features), got {tuple(X.shape)}."
            )
        # shared=True keeps one tower, used for every modality
        return [tower(X[:, s]) for tower, s in zip(itertools.cycle(self.towers), self.slices)]

    def fuse(self, outputs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Return ``z`` from the towers' outputs (the fusion and the trunk)."""
        projected = list(outputs)
        if self.fusion == "interaction":
            a, b = projected
            projected = [a, b, (a - b).abs(), a * b]
        return self.trunk(torch.cat(projected, dim=1))

    def modality_parameters(self) -> list[list[nn.Parameter]]:
        """Return the parameters of each modality's own tower, in modality order.

        Raises
        ------
        ValueError
            With ``shared=True`` (one tower serves every modality).
        """
        if len(self.towers) != len(self.slices):
            raise ValueError(
                "TwoTower(shared=True) has one tower for all modalities, so no modality has "
                "parameters of its own; use module__shared=False."
            )
        return [list(tower.parameters()) for tower in self.towers]

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """Return the fused penultimate features ``z``."""
        return self.fuse(self.modality_outputs(X))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the predictions, shape ``(n, n_outputs)``."""
        return self.head(self.features(X))


def _positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _check_heads(width: int, n_heads: int, name: str) -> tuple[int, int]:
    """Validate an attention width (parameter ``name``) and a number of heads dividing it."""
    width = _positive_int(width, name)
    n_heads = _positive_int(n_heads, "n_heads")
    if width % n_heads:
        raise ValueError(
            f"n_heads={n_heads} must divide {name}={width}; e.g. {name}="
            f"{n_heads * max(1, round(width / n_heads))}."
        )
    return width, n_heads


def _check_dropout(dropout: float, name: str = "dropout") -> float:
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {dropout!r}.")
    return float(dropout)


def _column_blocks(n_features: int, n_blocks: int) -> list[slice]:
    """``n_blocks`` contiguous blocks of near-equal width covering all columns."""
    n_blocks = _positive_int(n_blocks, "n_blocks")
    if n_blocks > n_features:
        raise ValueError(
            f"n_blocks={n_blocks} is more than the {n_features} input columns; use at most "
            f"{n_features} blocks or pass module__modalities."
        )
    base, extra = divmod(n_features, n_blocks)
    sizes = [base + (k < extra) for k in range(n_blocks)]
    return _modality_slices(sizes, n_features, "FusionTransformer")


class FusionTransformer(nn.Module):
    """Transformer encoder over modality tokens, read out by a regression token.

    Each modality (a column block of ``X``, e.g. the text and the image
    embedding) is projected to a token of width ``d_model`` by its own linear
    layer, plus a learned modality embedding that tells the tokens apart. A
    learned regression token ``[REG]`` is prepended, the sequence goes through a
    small pre-norm :class:`torch.nn.TransformerEncoder` (Vaswani et al., 2017;
    pre-norm as in Xiong et al., 2020), and the final-normalised output at the
    ``[REG]`` position is the feature vector ``z``, followed by one linear
    output per target. This is the token-per-modality fusion of multimodal
    transformers, with the ``[REG]`` token playing the part of BERT's ``[CLS]``
    (Devlin et al., 2019) and of the ``[CLS]`` token of the FT-Transformer for
    tabular data (Gorishniy et al., "Revisiting Deep Learning Models for
    Tabular Data", NeurIPS 2021). Attention lets each modality's contribution
    depend on the others, which plain concatenation (:class:`TwoTower`) does not.

    Parameters
    ----------
    n_features : int
        Number of input columns (set by the regressor).
    n_outputs : int, default=1
        Number of targets (set by the regressor).
    modalities : sequence of slice or sequence of int, or None, default=None
        Column slices (or sizes in column order) of the modalities, one token
        each, as in :class:`TwoTower`. None splits the columns into ``n_blocks``
        contiguous blocks of near-equal width.
    n_blocks : int, default=4
        Number of column blocks (tokens) when ``modalities`` is None.
    shared : bool, default=False
        Project every modality with the same linear layer (modalities of one
        kind, e.g. the two sentences of a pair; they must have equal widths);
        the modality embeddings still tell the tokens apart. On STS-B-DIR this
        lowers the test MSE from 1.73 to 1.38 (5 seeds; an MLP gets 1.02, see
        ``benchmarks/bench_nn_modules.py``).
    d_model : int, default=64
        Token width, the feature size ``z``.
    n_heads : int, default=4
        Attention heads; must divide ``d_model``.
    n_layers : int, default=2
        Encoder layers.
    dim_feedforward : int or None, default=None
        Width of each layer's feed-forward block; None means ``2 * d_model``.
    dropout : float, default=0.1
        Dropout in attention and feed-forward blocks.
    activation : {"gelu", "relu"}, default="gelu"
        Activation of the feed-forward blocks.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn import FusionTransformer
    >>> net = FusionTransformer(n_features=10, n_outputs=2, modalities=[6, 4], d_model=8,
    ...                         n_heads=2, n_layers=1)
    >>> net(torch.zeros(3, 10)).shape, net.features(torch.zeros(3, 10)).shape
    (torch.Size([3, 2]), torch.Size([3, 8]))
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        modalities: Sequence[slice | int] | None = None,
        n_blocks: int = 4,
        shared: bool = False,
        d_model: int = 64,
        n_heads: int = 4,
        n_layers: int = 2,
        dim_feedforward: int | None = None,
        dropout: float = 0.1,
        activation: str = "gelu",
    ) -> None:
        super().__init__()
        n_features = int(n_features)
        if modalities is None:
            self.slices = _column_blocks(n_features, n_blocks)
        else:
            self.slices = _modality_slices(modalities, n_features, "FusionTransformer")
        d_model, n_heads = _check_heads(d_model, n_heads, "d_model")
        n_layers = _positive_int(n_layers, "n_layers")
        feedforward = 2 * d_model if dim_feedforward is None else dim_feedforward
        feedforward = _positive_int(feedforward, "dim_feedforward")
        dropout = _check_dropout(dropout)
        if activation not in ("gelu", "relu"):
            raise ValueError(f"activation must be 'gelu' or 'relu', got {activation!r}.")
        widths = [s.stop - s.start for s in self.slices]
        if shared and len(set(widths)) != 1:
            raise ValueError(f"shared=True needs modalities of equal width, got widths {widths}.")
        self.projections = nn.ModuleList(
            nn.Linear(width, d_model) for width in (widths[:1] if shared else widths)
        )
        self.modality_embedding = nn.Parameter(0.02 * torch.randn(len(self.slices), d_model))
        self.reg_token = nn.Parameter(0.02 * torch.randn(1, 1, d_model))
        layer = nn.TransformerEncoderLayer(
            d_model,
            n_heads,
            dim_feedforward=feedforward,
            dropout=dropout,
            activation=activation,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, n_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False
        )
        self.head = nn.Linear(d_model, int(n_outputs))
        self.embedding_dim = d_model

    def modality_outputs(self, X: torch.Tensor) -> list[torch.Tensor]:
        """Return each modality's projection, ``(n, d_model)`` per modality.

        With :meth:`fuse`, ``features(X) == fuse(modality_outputs(X))``: the
        protocol of :class:`~skdir.nn.ModalityBalance`.
        """
        if X.ndim != 2:
            raise ValueError(
                "FusionTransformer expects 2-D input (n_samples, n_features), got shape "
                f"{tuple(X.shape)}."
            )
        # shared=True keeps one projection, used for every block
        return [proj(X[:, s]) for proj, s in zip(itertools.cycle(self.projections), self.slices)]

    def _sequence(self, outputs: Sequence[torch.Tensor]) -> torch.Tensor:
        tokens = torch.stack(list(outputs), dim=1) + self.modality_embedding
        return torch.cat([self.reg_token.expand(len(tokens), -1, -1), tokens], dim=1)

    def tokens(self, X: torch.Tensor) -> torch.Tensor:
        """Return the input sequence ``[REG], modality tokens``, shape ``(n, 1 + T, d)``."""
        return self._sequence(self.modality_outputs(X))

    def fuse(self, outputs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Return ``z`` from the projections (modality embeddings, ``[REG]``, encoder)."""
        return self.encoder(self._sequence(outputs))[:, 0]

    def modality_parameters(self) -> list[list[nn.Parameter]]:
        """Return the parameters of each modality's own projection, in modality order.

        The modality embeddings (one row of a shared parameter per modality) are
        left to the fusion.

        Raises
        ------
        ValueError
            With ``shared=True`` (one projection serves every modality).
        """
        if len(self.projections) != len(self.slices):
            raise ValueError(
                "FusionTransformer(shared=True) has one projection for all modalities, so no "
                "modality has parameters of its own; use module__shared=False."
            )
        return [list(proj.parameters()) for proj in self.projections]

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """Return the encoder output at the ``[REG]`` token, ``z``."""
        return self.fuse(self.modality_outputs(X))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the predictions, shape ``(n, n_outputs)``."""
        return self.head(self.features(X))


def fragment_mask(X: torch.Tensor, name: str) -> torch.Tensor:
    """Return the mask of real fragments of NaN-padded bags, ``(n_bags, max_fragments)``.

    ``X`` has shape ``(n_bags, max_fragments, n_features)``; a row that is entirely
    NaN is padding. A row NaN in only some features, a bag of padding alone and
    input that is not 3-D are ``ValueError`` s naming the module ``name``.
    """
    if X.ndim != 3:
        raise ValueError(
            f"{name} expects bags of shape (n_bags, max_fragments, n_features), "
            f"got shape {tuple(X.shape)}."
        )
    nan = torch.isnan(X)
    any_nan, all_nan = nan.any(dim=-1), nan.all(dim=-1)
    if bool((any_nan != all_nan).any()):
        raise ValueError(
            "Some fragments have NaN in some but not all of their features; only "
            "all-NaN rows are padding. Impute or drop those fragments."
        )
    mask = ~all_nan
    if not bool(mask.any(dim=1).all()):
        raise ValueError("A bag has no fragments (all its rows are NaN padding).")
    return mask


class AttentionMIL(nn.Module):
    """Gated-attention pooling over the fragments of a bag (attention-based MIL).

    The multiple-instance network of Ilse, Tomczak & Welling, "Attention-based
    Deep Multiple Instance Learning" (ICML 2018), with a regression head. Each
    fragment ``x_k`` of a bag is encoded by an MLP into ``h_k``; the bag's
    feature vector is the attention-weighted mean

    ``z = sum_k a_k h_k``, ``a_k = softmax_k(w^T (tanh(V h_k) * sigm(U h_k)))``

    (the gated attention of the paper; ``gated=False`` drops the sigmoid gate,
    ``a_k = softmax_k(w^T tanh(V h_k))``), followed by one linear output per
    target. Pooling is invariant to the order of the fragments, bags may have
    any number of them, and the weights ``a_k`` show which fragments the
    prediction rests on (:meth:`attention`).

    Input is a float tensor of shape ``(n_bags, max_fragments, n_features)``
    whose padding rows are entirely NaN (as produced by
    :func:`skdir.nn._bags.check_bags` from a list of bags): padding rows never
    reach the encoder and get exactly zero attention, so a padded bag predicts
    what the same bag without padding does. Only real fragments are passed
    through the encoder, so ``norm="batch"`` normalises over them alone.

    Parameters
    ----------
    n_features : int
        Number of columns of a fragment (set by the regressor).
    n_outputs : int, default=1
        Number of targets (set by the regressor); the targets share the
        attention weights.
    hidden : int or sequence of int, default=(128,)
        Widths of the fragment encoder; the last one is the feature size ``z``.
    attention_dim : int, default=64
        Width ``L`` of the attention projections ``V`` and ``U``.
    gated : bool, default=True
        Use the gated attention (True) or plain tanh attention (False).
    dropout : float, default=0.1
        Dropout after each encoder layer.
    activation : {"gelu", "relu", "silu", "tanh"}, default="gelu"
        Encoder activation.
    norm : {"layer", "batch"} or None, default="layer"
        Normalisation after each encoder layer.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn import AttentionMIL
    >>> net = AttentionMIL(n_features=3, hidden=4, attention_dim=2)
    >>> bags = torch.tensor([[[1.0, 2, 3], [4, 5, 6]], [[7, 8, 9], [float("nan")] * 3]])
    >>> net(bags).shape
    torch.Size([2, 1])
    >>> net.attention(bags)[1].tolist()
    [1.0, 0.0]
    """

    #: DIRRegressor passes bags (3-D, NaN-padded) to this module.
    accepts_bags = True

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        hidden: int | Sequence[int] = (128,),
        attention_dim: int = 64,
        gated: bool = True,
        dropout: float = 0.1,
        activation: str = "gelu",
        norm: str | None = "layer",
    ) -> None:
        super().__init__()
        sizes = _hidden_sizes(hidden)
        attention_dim = _positive_int(attention_dim, "attention_dim")
        if not isinstance(gated, bool):
            raise ValueError(f"gated must be True or False, got {gated!r}.")
        widths = [int(n_features), *sizes]
        self.encoder = nn.Sequential(*_blocks(widths, activation, norm, dropout))
        self.attention_V = nn.Linear(sizes[-1], attention_dim)
        self.attention_U = nn.Linear(sizes[-1], attention_dim) if gated else None
        self.attention_w = nn.Linear(attention_dim, 1)
        self.head = nn.Linear(sizes[-1], int(n_outputs))
        self.embedding_dim = sizes[-1]

    def _fragment_mask(self, X: torch.Tensor) -> torch.Tensor:
        return fragment_mask(X, type(self).__name__)

    def pool(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the pooled features ``z`` (n_bags, embedding_dim) and weights ``a``."""
        mask = self._fragment_mask(X)
        h_valid = self.encoder(X[mask])  # real fragments only
        gate = torch.tanh(self.attention_V(h_valid))
        if self.attention_U is not None:
            gate = gate * torch.sigmoid(self.attention_U(h_valid))
        logits = X.new_full(mask.shape, float("-inf"))
        logits = logits.masked_scatter(mask, self.attention_w(gate).squeeze(-1))
        weights = torch.softmax(logits, dim=1)  # exactly 0 on padding
        h = X.new_zeros((*mask.shape, h_valid.shape[-1]))
        h = h.masked_scatter(mask.unsqueeze(-1), h_valid)
        z = torch.bmm(weights.unsqueeze(1), h).squeeze(1)
        return z, weights

    def attention(self, X: torch.Tensor) -> torch.Tensor:
        """Return the attention weights, shape ``(n_bags, max_fragments)``, 0 on padding."""
        return self.pool(X)[1]

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """Return the attention-pooled bag features ``z``."""
        return self.pool(X)[0]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the predictions, shape ``(n_bags, n_outputs)``."""
        return self.head(self.features(X))
