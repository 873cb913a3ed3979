"""Train-time batch augmentation for regression: mixup, C-Mixup, input noise, feature dropout.

All functions act on one training batch and draw from torch's global random
generator (which :class:`~skdir.nn.DIRRegressor` seeds from ``random_state``); the
regressor applies them in training steps only, never in validation or prediction.
"""

from __future__ import annotations

import torch

__all__ = [
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
