"""Train-time batch augmentation for regression: mixup, C-Mixup, input noise, feature dropout.

The functions act on one training batch; the classes (:class:`Mixup`,
:class:`CMixup`, :class:`GaussianNoise`, :class:`FeatureDropout`) wrap them as
:class:`~skdir.nn.base.Augmentation` components of
:class:`~skdir.nn.DIRRegressor` (``augment=CMixup(alpha=2.0)``). All draw from
torch's global random generator (which the regressor seeds from
``random_state``); the regressor applies them in training steps only, never in
validation or prediction.
"""

from __future__ import annotations

import dataclasses
from numbers import Real

import torch
from sklearn.utils._param_validation import Interval, validate_parameter_constraints

from .base import Augmentation, TrainingBatch

__all__ = [
    "CMixup",
    "FeatureDropout",
    "GaussianNoise",
    "Mixup",
    "c_mixup_probabilities",
    "feature_dropout",
    "gaussian_noise",
    "mixup_batch",
]


def c_mixup_probabilities(y: torch.Tensor, bandwidth: float) -> torch.Tensor:
    """Return C-Mixup's partner-sampling probabilities within a batch.

    Yao, Wang, Li, Zhang, Liang, Zou & Finn, "C-Mixup: Improving Generalization in
    Regression" (NeurIPS 2022): the mixing partner of sample ``i`` is drawn with
    probability proportional to a Gaussian kernel on the label distance,
    ``P(j | i) = k(y_i, y_j) / sum_l k(y_i, y_l)`` with
    ``k = exp(-||y_i - y_j||^2 / (2 bandwidth^2))``, so that mixed samples stay
    close to the label manifold. The sample itself is a possible partner (mixing
    with itself leaves it unchanged), as in the paper's sampler. Here partners
    come from the same batch.

    Parameters
    ----------
    y : torch.Tensor of shape (n,) or (n, n_targets)
        Targets of the batch.
    bandwidth : float
        Kernel bandwidth in target units (> 0).

    Returns
    -------
    probabilities : torch.Tensor of shape (n, n)
        Row ``i`` is the distribution of ``i``'s partner.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.augment import c_mixup_probabilities
    >>> c_mixup_probabilities(torch.tensor([0.0, 1.0]), bandwidth=1.0)[0]
    tensor([0.6225, 0.3775])
    """
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be positive, got {bandwidth!r}.")
    labels = y.reshape(len(y), -1).to(torch.float64)
    log_kernel = -torch.cdist(labels, labels).pow(2) / (2.0 * float(bandwidth) ** 2)
    return torch.softmax(log_kernel, dim=1).to(y.dtype if y.is_floating_point() else torch.float32)


def mixup_batch(
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    alpha: float = 2.0,
    method: str = "mixup",
    bandwidth: float = 1.0,
    kernel_targets: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """Mix each sample of a batch with a partner: ``lam * a + (1 - lam) * b``.

    - ``"mixup"`` (Zhang, Cisse, Dauphin & Lopez-Paz, "mixup: Beyond Empirical Risk
      Minimization", ICLR 2018): the partners are a random permutation of the batch.
    - ``"c_mixup"`` (Yao et al., NeurIPS 2022): partners are drawn by
      :func:`c_mixup_probabilities`.

    One ``lam ~ Beta(alpha, alpha)`` is drawn per batch, as in both papers; inputs
    and targets are mixed with it.

    Parameters
    ----------
    X : torch.Tensor of shape (n, ...)
        Inputs.
    y : torch.Tensor of shape (n,) or (n, n_targets)
        Targets.
    alpha : float, default=2.0
        Beta parameter (> 0); C-Mixup's default is 2.
    method : {"mixup", "c_mixup"}, default="mixup"
        Partner sampling.
    bandwidth : float, default=1.0
        C-Mixup kernel bandwidth in target units.
    kernel_targets : torch.Tensor or None, default=None
        Targets on which C-Mixup's kernel is computed (e.g. standardised ones);
        None uses ``y``.

    Returns
    -------
    X_mixed, y_mixed : torch.Tensor
        Mixed inputs and targets.
    partner : torch.Tensor of int64, shape (n,)
        Index of each sample's partner.
    lam : float
        Weight of the original sample.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.augment import mixup_batch
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.tensor([[0.0], [10.0]]), torch.tensor([[0.0], [1.0]])
    >>> Xm, ym, partner, lam = mixup_batch(X, y, alpha=1.0)
    >>> bool(torch.allclose(Xm[:, 0], 10 * ym[:, 0]))  # the mixed pairs stay on y = X / 10
    True
    """
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha!r}.")
    n = len(X)
    if method == "mixup":
        partner = torch.randperm(n, device="cpu").to(X.device)
    elif method == "c_mixup":
        labels = y if kernel_targets is None else kernel_targets
        probabilities = c_mixup_probabilities(labels, bandwidth)
        partner = torch.multinomial(probabilities.cpu().double(), 1).reshape(-1).to(X.device)
    else:
        raise ValueError(f"method must be 'mixup' or 'c_mixup', got {method!r}.")
    concentration = torch.tensor(float(alpha), dtype=torch.float64)
    lam = float(torch.distributions.Beta(concentration, concentration).sample())
    X_mixed = lam * X + (1.0 - lam) * X[partner]
    y_mixed = lam * y + (1.0 - lam) * y[partner]
    return X_mixed, y_mixed, partner, lam


def gaussian_noise(X: torch.Tensor, std: float) -> torch.Tensor:
    """Return ``X`` plus independent ``N(0, std^2)`` noise (``std`` in input units).

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.augment import gaussian_noise
    >>> _ = torch.manual_seed(0)
    >>> noisy = gaussian_noise(torch.zeros(10000, 2), 0.5)
    >>> round(noisy.std().item(), 1)
    0.5
    """
    if std < 0:
        raise ValueError(f"std must be non-negative, got {std!r}.")
    if std == 0:
        return X
    return X + std * torch.randn_like(X)


def feature_dropout(X: torch.Tensor, p: float) -> torch.Tensor:
    """Zero each input entry with probability ``p`` and rescale the rest by ``1 / (1 - p)``.

    Inverted dropout on the inputs, so the expected input is unchanged.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.augment import feature_dropout
    >>> _ = torch.manual_seed(0)
    >>> out = feature_dropout(torch.ones(10000, 4), 0.25)
    >>> sorted(set(out.unique().tolist())), round(out.mean().item(), 1)
    ([0.0, 1.3333333730697632], 1.0)
    """
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p!r}.")
    if p == 0:
        return X
    keep = (torch.rand_like(X) >= p) | torch.isnan(X)  # NaN padding rows stay NaN
    return torch.where(keep, X / (1.0 - p), torch.zeros_like(X))


class _Validated:
    """Check ``_parameter_constraints`` in ``check`` (called by the regressor at fit)."""

    _parameter_constraints: dict = {}

    def check(self, net: object) -> None:
        """Validate the parameters; raise a ValueError naming the bad one."""
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(deep=False), type(self).__name__
        )


class Mixup(_Validated, Augmentation):
    """Mix each training sample with a random partner of its batch (mixup).

    Zhang, Cisse, Dauphin & Lopez-Paz, "mixup: Beyond Empirical Risk
    Minimization" (ICLR 2018): with one ``lam ~ Beta(alpha, alpha)`` per batch,
    inputs, targets and sample weights become ``lam * a + (1 - lam) * b``; the
    bins (FDS, label bins) follow the dominant partner. See :func:`mixup_batch`.

    Parameters
    ----------
    alpha : float, default=2.0
        Beta parameter (> 0).

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.augment import Mixup
    >>> from skdir.nn.base import TrainingBatch
    >>> _ = torch.manual_seed(0)
    >>> batch = TrainingBatch(X=torch.tensor([[0.0], [10.0]]), y=torch.tensor([[0.0], [1.0]]))
    >>> mixed = Mixup(alpha=1.0)(batch)
    >>> bool(torch.allclose(mixed.X, 10 * mixed.y))  # mixed pairs stay on y = X / 10
    True
    """

    needs_2d = True
    _method = "mixup"
    _parameter_constraints: dict = {"alpha": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, alpha: float = 2.0) -> None:
        self.alpha = alpha

    def _bandwidth(self) -> float:
        return 1.0

    def __call__(self, batch: TrainingBatch) -> TrainingBatch:
        """Return the batch mixed with its partners."""
        if batch.X.ndim != 2:
            raise ValueError(
                f"{type(self).__name__} mixes rows of 2-D inputs, but the batch has shape "
                f"{tuple(batch.X.shape)} (bags); use no mixing augmentation for bag modules."
            )
        X, y, partner, lam = mixup_batch(
            batch.X,
            batch.y,
            alpha=self.alpha,
            method=self._method,
            bandwidth=self._bandwidth(),
            kernel_targets=batch.labels,
        )
        changes = {"X": X, "y": y}
        if batch.weight is not None:
            changes["weight"] = lam * batch.weight + (1 - lam) * batch.weight[partner]
        if lam < 0.5:  # bins follow the dominant partner
            for key in ("bins", "label_bins"):
                value = getattr(batch, key)
                if value is not None:
                    changes[key] = value[partner]
        return dataclasses.replace(batch, **changes)


class CMixup(Mixup):
    """Mix each training sample with a partner of similar label (C-Mixup).

    Yao, Wang, Li, Zhang, Liang, Zou & Finn, "C-Mixup: Improving Generalization
    in Regression" (NeurIPS 2022): partners are drawn with probability
    proportional to a Gaussian kernel on the label distance
    (:func:`c_mixup_probabilities`), measured in training standard deviations
    of the targets; then as :class:`Mixup`.

    Parameters
    ----------
    alpha : float, default=2.0
        Beta parameter (> 0).
    bandwidth : float, default=0.5
        Kernel bandwidth in training standard deviations of the targets.

    Examples
    --------
    >>> from skdir.nn import DIRRegressor
    >>> from skdir.nn.augment import CMixup
    >>> net = DIRRegressor(augment=CMixup(bandwidth=0.2))
    >>> net.get_params()["augment__bandwidth"]
    0.2
    """

    _method = "c_mixup"
    _parameter_constraints: dict = {
        **Mixup._parameter_constraints,
        "bandwidth": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, alpha: float = 2.0, bandwidth: float = 0.5) -> None:
        super().__init__(alpha=alpha)
        self.bandwidth = bandwidth

    def _bandwidth(self) -> float:
        return float(self.bandwidth)


class GaussianNoise(_Validated, Augmentation):
    """Add ``N(0, std^2)`` noise to the training inputs (redrawn for each view).

    Parameters
    ----------
    std : float, default=0.1
        Standard deviation of the noise, in input units.

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.augment import GaussianNoise
    >>> from skdir.nn.base import TrainingBatch
    >>> _ = torch.manual_seed(0)
    >>> batch = TrainingBatch(X=torch.zeros(10000, 2), y=torch.zeros(10000, 1))
    >>> out = GaussianNoise(std=0.5)(batch)
    >>> round(out.X.std().item(), 1)
    0.5
    """

    per_view = True
    _parameter_constraints: dict = {"std": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, std: float = 0.1) -> None:
        self.std = std

    def __call__(self, batch: TrainingBatch) -> TrainingBatch:
        """Return the batch with noisy inputs."""
        return dataclasses.replace(batch, X=gaussian_noise(batch.X, self.std))


class FeatureDropout(_Validated, Augmentation):
    """Zero each training input entry with probability ``p`` (inverted dropout, per view).

    Parameters
    ----------
    p : float, default=0.1
        Probability of zeroing an entry, in [0, 1).

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.augment import FeatureDropout
    >>> from skdir.nn.base import TrainingBatch
    >>> _ = torch.manual_seed(0)
    >>> out = FeatureDropout(p=0.25)(TrainingBatch(X=torch.ones(1000, 4), y=torch.zeros(1000, 1)))
    >>> round(out.X.mean().item(), 1), float(out.X.max())
    (1.0, 1.3333333730697632)
    """

    per_view = True
    _parameter_constraints: dict = {"p": [Interval(Real, 0, 1, closed="left")]}

    def __init__(self, p: float = 0.1) -> None:
        self.p = p

    def __call__(self, batch: TrainingBatch) -> TrainingBatch:
        """Return the batch with dropped-out inputs."""
        return dataclasses.replace(batch, X=feature_dropout(batch.X, self.p))
