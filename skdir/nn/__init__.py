"""Neural regressors for deep imbalanced regression, built on skorch.

:class:`DIRRegressor` is a scikit-learn regressor with label distribution
smoothing (LDS), feature distribution smoothing (FDS) and the weighted losses of
Yang et al. (ICML 2021); :class:`MLP`, :class:`TwoTower`, :class:`FusionTransformer`
and :class:`AttentionMIL` (bags of fragments) are its networks.
"""

from .fds import FeatureDistributionSmoothing
from .losses import WeightedRegressionLoss, elementwise_loss
from .modules import MLP, AttentionMIL, FusionTransformer, TwoTower
from .regressor import DIRRegressor

__all__ = [
    "MLP",
    "AttentionMIL",
    "DIRRegressor",
    "FeatureDistributionSmoothing",
    "FusionTransformer",
    "TwoTower",
    "WeightedRegressionLoss",
    "elementwise_loss",
]
