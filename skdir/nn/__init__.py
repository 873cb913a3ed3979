"""Neural regressors for deep imbalanced regression, built on skorch.

:class:`DIRRegressor` is a scikit-learn regressor with label distribution
smoothing (LDS), feature distribution smoothing (FDS) and the weighted losses of
Yang et al. (ICML 2021); :class:`MLP` and :class:`TwoTower` are its networks.
"""

from .fds import FeatureDistributionSmoothing
from .losses import WeightedRegressionLoss, elementwise_loss
from .modules import MLP, TwoTower
from .regressor import DIRRegressor

__all__ = [
    "MLP",
    "DIRRegressor",
    "FeatureDistributionSmoothing",
    "TwoTower",
    "WeightedRegressionLoss",
    "elementwise_loss",
]
