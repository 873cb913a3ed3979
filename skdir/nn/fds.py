"""Feature distribution smoothing (FDS) of Yang et al., ICML 2021.

FDS sits on the penultimate features ``z`` of a regression network. Per target
bin it tracks the mean and variance of ``z`` (per feature dimension), smooths
these statistics over neighbouring bins with a kernel, and during training
re-calibrates every feature vector of bin ``b``::

    z <- (z - mu_b) * sqrt(clip(var~_b / var_b, low, high)) + mu~_b

so that rare bins borrow the feature statistics of their neighbours.

:class:`FeatureDistributionSmoothing` is the component given to
:class:`~skdir.nn.DIRRegressor` (``fds=FeatureDistributionSmoothing(...)``): it
holds the settings, bins the training targets and builds the torch layer
:class:`FDSLayer`, whose statistics the skorch callback :class:`FDSUpdate`
refreshes at the end of every epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions, validate_parameter_constraints
from skorch.callbacks import Callback
from torch import nn

from ..density import KERNELS, LabelDensity

__all__ = ["FDSLayer", "FDSUpdate", "FeatureDistributionSmoothing"]


class FeatureDistributionSmoothing(BaseEstimator):
    """Feature distribution smoothing (FDS) as a component of :class:`~skdir.nn.DIRRegressor`.

    Yang, Zha, Chen, Wang & Katabi, "Delving into Deep Imbalanced Regression"
    (ICML 2021). The training targets are binned by a
    :class:`~skdir.density.LabelDensity` (``n_bins``/``bin_width``; two targets
    use the joint grid); an :class:`FDSLayer` between the network's penultimate
    features and its output layer re-calibrates the training features of each
    bin with statistics smoothed over neighbouring bins by the kernel
    (``kernel``, ``ks``, ``sigma``; normalised to sum 1, reflecting at the
    ends, separable along each target). The statistics are refreshed by the
    :class:`FDSUpdate` callback at each epoch end; the layer is inactive in
    validation and prediction. The module must have ``features(X)``,
    ``head(z)`` and ``embedding_dim`` (as the built-in ones).

    Parameters
    ----------
    n_bins : int, default=50
        Number of equal-width bins per target over the training range.
    bin_width : float or None, default=None
        Bin width per target; overrides ``n_bins`` when set.
    kernel : {"gaussian", "gaussian_true", "triangular", "laplace"}, default="gaussian"
        Smoothing kernel over bins.
    ks : int, default=5
        Kernel size in bins.
    sigma : float, default=2.0
        Kernel width in bins.
    momentum : float, default=0.9
        Momentum of the running per-bin statistics.
    start_update : int, default=0
        First epoch (0-based) whose features update the statistics.
    start_smooth : int, default=1
        First epoch in which training features are calibrated.
    clip : (float, float), default=(0.1, 10.0)
        Bounds of the variance ratio in the calibration.
    var_floor : float, default=1e-4
        Floor of the per-bin feature variances.
    shrinkage : float, default=2.0
        Pseudo-count with which each bin's epoch statistics are shrunk toward
        the statistics of all samples (sparse bins of small data); 0 switches
        it off.
    min_count : int, default=2
        Bins with fewer training samples in an epoch have no statistics of their
        own: they take the statistics of all samples (so that they do not pull
        their neighbours' smoothed statistics around) and their features are not
        calibrated. ``1`` keeps single-sample bins (variance 0 before the floor),
        the behaviour before version 0.2.

    Notes
    -----
    The bins are those of :class:`~skdir.density.LabelDensity` with its default
    robust range: a few extreme targets beyond the fences share the first or
    last bin instead of stretching the 50 equal-width bins over a range where
    every other target falls into one or two bins.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.nn import DIRRegressor
    >>> from skdir.nn.fds import FeatureDistributionSmoothing
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 4))
    >>> y = X[:, 0] + 0.1 * rng.normal(size=80)
    >>> net = DIRRegressor(fds=FeatureDistributionSmoothing(n_bins=10), max_epochs=3,
    ...                    device="cpu", random_state=0).fit(X, y)
    >>> net.feature_smoothing_.n_bins, int(net.feature_smoothing_.last_update_epoch)
    (10, 2)
    """

    _parameter_constraints: dict = {
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "bin_width": [Interval(Real, 0, None, closed="neither"), None],
        "kernel": [StrOptions(set(KERNELS))],
        "ks": [Interval(Integral, 1, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "start_update": [Interval(Integral, 0, None, closed="left")],
        "start_smooth": [Interval(Integral, 0, None, closed="left")],
        "clip": [tuple, list],
        "var_floor": [Interval(Real, 0, None, closed="left")],
        "shrinkage": [Interval(Real, 0, None, closed="left")],
        "min_count": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_bins: int = 50,
        *,
        bin_width: float | None = None,
        kernel: str = "gaussian",
        ks: int = 5,
        sigma: float = 2.0,
        momentum: float = 0.9,
        start_update: int = 0,
        start_smooth: int = 1,
        clip: tuple[float, float] = (0.1, 10.0),
        var_floor: float = 1e-4,
        shrinkage: float = 2.0,
        min_count: int = 2,
    ) -> None:
        self.n_bins = n_bins
        self.bin_width = bin_width
        self.kernel = kernel
        self.ks = ks
        self.sigma = sigma
        self.momentum = momentum
        self.start_update = start_update
        self.start_smooth = start_smooth
        self.clip = clip
        self.var_floor = var_floor
        self.shrinkage = shrinkage
        self.min_count = min_count

    def check(self) -> None:
        """Validate the parameters; raise a ValueError naming the bad one and the fix."""
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(deep=False), type(self).__name__
        )
        low, high = self.clip
        if not 0 < low <= 1 <= high:
            raise ValueError(
                f"FeatureDistributionSmoothing(clip={self.clip}): clip must be (low, high) "
                "with 0 < low <= 1 <= high."
            )
        if self.start_smooth < self.start_update:
            raise ValueError(
                f"FeatureDistributionSmoothing(start_smooth={self.start_smooth}) is before "
                f"start_update={self.start_update}; features can only be smoothed once "
                "statistics exist."
            )

    def fit(self, y: ArrayLike) -> FeatureDistributionSmoothing:
        """Bin the training targets (the label density of the FDS bins).

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Training targets, as given to the regressor (before any
            ``target_transformer``).

        Returns
        -------
        self : FeatureDistributionSmoothing
            With ``label_density_`` set.
        """
        self.check()
        self.label_density_ = LabelDensity(
            n_bins=self.n_bins,
            bin_width=self.bin_width,
            kernel=self.kernel,
            ks=self.ks,
            sigma=self.sigma,
        ).fit(y)
        return self

    def bin_index(self, y: ArrayLike) -> NDArray[np.int64]:
        """Return the flat FDS bin of each target (joint grid cell for two targets)."""
        return np.asarray(self.label_density_.flat_bin_index(y), dtype=np.int64)

    def build_layer(self, embedding_dim: int) -> FDSLayer:
        """Return a fresh :class:`FDSLayer` for features of size ``embedding_dim``."""
        return FDSLayer(
            n_bins=int(np.prod(self.label_density_.n_bins_)),
            embedding_dim=embedding_dim,
            momentum=self.momentum,
            start_update=self.start_update,
            start_smooth=self.start_smooth,
            clip=tuple(self.clip),
            var_floor=self.var_floor,
            shrinkage=self.shrinkage,
            min_count=self.min_count,
        )

    def smooth(self, per_bin: NDArray[np.float64]) -> NDArray[np.float64]:
        """Smooth per-bin statistics of shape ``(n_bins, dim)`` over neighbouring bins."""
        density = self.label_density_
        grid = per_bin.reshape(*density.n_bins_, per_bin.shape[-1])
        smoothed = density.smooth(grid, normalize="sum", mode="reflect")
        return smoothed.reshape(per_bin.shape)


class FDSUpdate(Callback):
    """skorch callback: fold each epoch's training features into the FDS statistics.

    :class:`~skdir.nn.DIRRegressor` adds it to its callbacks when ``fds`` is
    set; at the end of every epoch it calls
    :meth:`FDSLayer.update_statistics` of the net's ``feature_smoothing_`` with
    the smoothing of the fitted ``fds_`` component.
    """

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        """Update the statistics from the features recorded during the epoch."""
        layer = getattr(net, "feature_smoothing_", None)
        component = getattr(net, "fds_", None)
        if layer is not None and component is not None:
            layer.update_statistics(len(net.history) - 1, smooth=component.smooth)


class FDSLayer(nn.Module):
    """Per-bin feature statistics, smoothed over bins, used to calibrate features.

    Follows the FDS layer of Yang, Zha, Chen, Wang & Katabi, "Delving into Deep
    Imbalanced Regression" (ICML 2021) and its official code, with the intended
    behaviour where the code has accidents (see ``ALGORITHMS.md``):

    - Statistics are gathered from the raw (uncalibrated, detached) features of
      the training forward pass of each epoch, not in a second pass over the
      data after the epoch as the official code does; with dropout on, they are
      therefore the features of a dropout-perturbed network, as those that the
      head sees.
    - At the end of epoch ``e >= start_update`` the per-bin mean and variance of
      that epoch (unbiased variance; biased, i.e. 0, for a bin with one sample)
      update the running statistics, ``running <- (1 - m) * epoch + m * running``
      with momentum ``m``; the first update takes the epoch statistics as they are.
      The smoothed statistics are then computed from *copies* of the running ones
      (the official code aliases them), so the raw and smoothed statistics used
      in epoch ``e + 1`` come from the same epoch.
    - For small data (a bin often holds 1-3 samples) the epoch statistics of a bin
      with ``n_b`` samples are shrunk toward the statistics of all samples of the
      epoch, ``(n_b * s_b + shrinkage * s_all) / (n_b + shrinkage)``, and variances
      are floored at ``var_floor``. Bins never seen start from the global
      statistics; bins absent from an epoch keep their running statistics.
    - A bin with fewer than ``min_count`` samples in an epoch (one sample has no
      variance, two have a very noisy one) takes the global statistics of the
      epoch as its own, so that it does not pull its neighbours' smoothed
      statistics around, and its features are left uncalibrated (scale 1,
      shift 0) until it holds ``min_count`` samples in an epoch.
    - From epoch ``start_smooth`` on, training features are calibrated; dimensions
      whose running variance is 0 (only possible with ``var_floor=0``) are left
      unchanged. In evaluation mode the layer is the identity.

    Parameters
    ----------
    n_bins : int
        Number of bins (the joint grid's cell count for 2-D targets).
    embedding_dim : int
        Size of the feature vectors ``z``.
    momentum : float, default=0.9
        Weight of the previous running statistics in the update.
    start_update : int, default=0
        First epoch (0-based) whose features update the statistics.
    start_smooth : int, default=1
        First epoch in which training features are calibrated.
    clip : (float, float), default=(0.1, 10.0)
        Bounds of the variance ratio ``var~_b / var_b``. The paper uses (0.1, 10)
        for age estimation and (0.5, 2) for STS-B.
    var_floor : float, default=1e-4
        Smallest variance kept per bin and dimension.
    shrinkage : float, default=0.0
        Pseudo-count of the global statistics mixed into each bin's epoch
        statistics.
    min_count : int, default=2
        Fewest samples of a bin in an epoch for statistics (and a calibration)
        of its own; ``1`` treats single samples as bins (variance 0).

    Examples
    --------
    >>> import torch
    >>> from skdir.nn.fds import FDSLayer
    >>> fds = FDSLayer(n_bins=2, embedding_dim=1, var_floor=0.0, min_count=1)
    >>> z, bins = torch.tensor([[1.0], [3.0], [10.0]]), torch.tensor([0, 0, 1])
    >>> _ = fds(z, bins, epoch=0)
    >>> fds.update_statistics(epoch=0)
    >>> fds.running_mean.ravel().tolist(), fds.running_var.ravel().tolist()
    ([2.0, 10.0], [2.0, 0.0])
    """

    def __init__(
        self,
        n_bins: int,
        embedding_dim: int,
        momentum: float = 0.9,
        start_update: int = 0,
        start_smooth: int = 1,
        clip: tuple[float, float] = (0.1, 10.0),
        var_floor: float = 1e-4,
        shrinkage: float = 0.0,
        min_count: int = 2,
    ) -> None:
        super().__init__()
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"FDS momentum must be in [0, 1), got {momentum!r}.")
        low, high = clip
        if not 0.0 < low <= 1.0 <= high:
            raise ValueError(
                f"FDS clip must be (low, high) with 0 < low <= 1 <= high, got {clip}."
            )
        if var_floor < 0 or shrinkage < 0:
            raise ValueError("FDS var_floor and shrinkage must be non-negative.")
        if int(min_count) != min_count or min_count < 1:
            raise ValueError(
                f"FDS min_count must be an integer >= 1 (the fewest samples of a bin with "
                f"statistics of its own), got {min_count!r}."
            )
        self.n_bins = int(n_bins)
        self.embedding_dim = int(embedding_dim)
        self.momentum = float(momentum)
        self.start_update = int(start_update)
        self.start_smooth = int(start_smooth)
        self.clip = (float(low), float(high))
        self.var_floor = float(var_floor)
        self.shrinkage = float(shrinkage)
        self.min_count = int(min_count)
        shape = (self.n_bins, self.embedding_dim)
        self.register_buffer("running_mean", torch.zeros(shape))
        self.register_buffer("running_var", torch.ones(shape))
        self.register_buffer("smoothed_mean", torch.zeros(shape))
        self.register_buffer("smoothed_var", torch.ones(shape))
        self.register_buffer("last_update_epoch", torch.tensor(-1))
        # the calibration as one affine map per bin: z * scale + shift
        self.register_buffer("_scale", torch.ones(shape))
        self.register_buffer("_shift", torch.zeros(shape))
        # samples per bin in the last epoch that saw the bin (reliable: >= min_count)
        self.register_buffer("bin_count", torch.zeros(self.n_bins), persistent=False)
        # per bin: [sum of z, sum of z * z, count], accumulated over the epoch
        self.register_buffer(
            "_moments",
            torch.zeros(self.n_bins, 2 * self.embedding_dim + 1, dtype=torch.float64),
            persistent=False,
        )

    @property
    def ready(self) -> bool:
        """Whether statistics have been computed at least once."""
        return int(self.last_update_epoch) >= 0

    def forward(self, z: torch.Tensor, bins: torch.Tensor, epoch: int) -> torch.Tensor:
        """Record ``z`` for the epoch statistics and return the calibrated features.

        Parameters
        ----------
        z : torch.Tensor of shape (n, embedding_dim)
            Penultimate features.
        bins : torch.Tensor of int, shape (n,)
            Bin of each sample's target.
        epoch : int
            Current epoch, 0-based.

        Returns
        -------
        z : torch.Tensor of shape (n, embedding_dim)
            Unchanged in evaluation mode or before ``start_smooth``.
        """
        if not self.training:
            return z
        bins = bins.reshape(-1).long()
        if epoch >= self.start_update:
            raw = z.detach().to(torch.float64)
            ones = torch.ones(len(raw), 1, dtype=raw.dtype, device=raw.device)
            self._moments.index_add_(0, bins, torch.cat([raw, raw * raw, ones], dim=1))
        if epoch < self.start_smooth or not self.ready:
            return z
        return self.calibrate(z, bins)

    def calibrate(self, z: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
        """Map each ``z`` from its bin's running statistics to the smoothed ones.

        ``(z - mu_b) * sqrt(ratio_b) + mu~_b`` is applied as ``z * scale_b + shift_b``
        with both factors computed once per statistics update.
        """
        return torch.addcmul(self._shift[bins], z, self._scale[bins])

    def _update_calibration(self) -> None:
        var = self.running_var
        ratio = (self.smoothed_var / var.clamp_min(1e-30)).clamp(*self.clip)
        active = (var > 0) & (self.bin_count >= self.min_count)[:, None]
        scale = torch.where(active, ratio.sqrt(), torch.ones_like(var))
        shift = torch.where(active, self.smoothed_mean - self.running_mean * scale, 0.0)
        self._scale.copy_(scale)
        self._shift.copy_(shift)

    @torch.no_grad()
    def update_statistics(
        self, epoch: int, smooth: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> None:
        """Fold the features recorded in ``epoch`` into the statistics and smooth them.

        Parameters
        ----------
        epoch : int
            The epoch that just ended.
        smooth : callable or None, default=None
            Maps a per-bin array of shape ``(n_bins, embedding_dim)`` to its
            smoothed version (the regressor passes
            :meth:`skdir.density.LabelDensity.smooth` with the sum-normalised kernel
            and reflecting edges). None copies the running statistics.
        """
        dim = self.embedding_dim
        sums, sumsq, count = (
            self._moments[:, :dim],
            self._moments[:, dim : 2 * dim],
            self._moments[:, 2 * dim],
        )
        if epoch < self.start_update or count.sum() == 0:
            self._moments.zero_()
            return
        total = count.sum()
        global_mean = sums.sum(0) / total
        global_var = (sumsq.sum(0) - total * global_mean**2) / max(total - 1, 1)
        global_var = global_var.clamp_min(0)
        present = count > 0
        n = count[:, None]
        safe_n = n.clamp_min(1)
        mean = sums / safe_n
        var = ((sumsq - n * mean**2) / (n - 1).clamp_min(1)).clamp_min(0)
        if self.shrinkage > 0:
            k = self.shrinkage
            mean = (n * mean + k * global_mean) / (n + k)
            var = (n * var + k * global_var) / (n + k)
        sparse = count < self.min_count  # no statistics of their own: the global ones
        mean = torch.where(sparse[:, None], global_mean.expand_as(mean), mean)
        var = torch.where(sparse[:, None], global_var.expand_as(var), var)
        var = var.clamp_min(self.var_floor)
        self.bin_count[present] = count[present].to(self.bin_count.dtype)
        mean, var = mean.to(self.running_mean.dtype), var.to(self.running_var.dtype)
        if not self.ready:
            self.running_mean.copy_(global_mean.expand_as(mean))
            self.running_var.copy_(global_var.clamp_min(self.var_floor).expand_as(var))
            self.running_mean[present] = mean[present]
            self.running_var[present] = var[present]
        else:
            m = self.momentum
            self.running_mean[present] = (1 - m) * mean[present] + m * self.running_mean[present]
            self.running_var[present] = (1 - m) * var[present] + m * self.running_var[present]
        if smooth is None:
            self.smoothed_mean.copy_(self.running_mean)
            self.smoothed_var.copy_(self.running_var)
        else:
            for source, target in (
                (self.running_mean, self.smoothed_mean),
                (self.running_var, self.smoothed_var),
            ):
                smoothed = smooth(source.detach().cpu().numpy().astype(np.float64))
                target.copy_(torch.as_tensor(smoothed, dtype=target.dtype))
        self._update_calibration()
        self.last_update_epoch.fill_(int(epoch))
        self._moments.zero_()
