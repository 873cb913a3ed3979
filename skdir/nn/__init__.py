"""Neural regressors for deep imbalanced regression, built on skorch.

:class:`DIRRegressor` is a scikit-learn regressor with label distribution
smoothing (LDS), feature distribution smoothing (FDS) and the weighted losses of
Yang et al. (ICML 2021); :class:`MLP`, :class:`TwoTower`, :class:`FusionTransformer`
and :class:`AttentionMIL` (bags of fragments) are its networks. The losses and
regularisers behind its options (:class:`BalancedMSELoss`, :class:`UncertaintyWeighting`,
:func:`ranksim_loss`, :func:`conr_loss`, :func:`norm_order_loss`, :func:`mixup_batch`)
are exported for use in other training loops.
"""

from .augment import mixup_batch
from .fds import FeatureDistributionSmoothing
from .losses import (
    BalancedMSELoss,
    UncertaintyWeighting,
    WeightedRegressionLoss,
    elementwise_loss,
)
from .modules import MLP, AttentionMIL, FusionTransformer, TwoTower
from .regressor import DIRRegressor
from .regularizers import conr_loss, norm_order_loss, ranksim_loss

__all__ = [
    "MLP",
    "AttentionMIL",
    "BalancedMSELoss",
    "DIRRegressor",
    "FeatureDistributionSmoothing",
    "FusionTransformer",
    "TwoTower",
    "UncertaintyWeighting",
    "WeightedRegressionLoss",
    "conr_loss",
    "elementwise_loss",
    "mixup_batch",
    "norm_order_loss",
    "ranksim_loss",
]
