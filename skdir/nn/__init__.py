"""Neural regressors for deep imbalanced regression, built on skorch.

:class:`DIRRegressor` is a scikit-learn regressor whose techniques are
components: a sample ``weighter`` (LDS, Yang et al., ICML 2021), feature
distribution smoothing (:class:`FeatureDistributionSmoothing`), a ``criterion``
class (:class:`WeightedRegressionLoss` with Focal-R, :class:`BalancedMSELoss`,
:class:`UncertaintyWeightedLoss`), ``regularizers`` (:class:`RankSim`,
:class:`ConR`, :class:`FeatureNormOrder`) and ``augment`` (:class:`Mixup`,
:class:`CMixup`, :class:`GaussianNoise`, :class:`FeatureDropout`). A technique of
your own subclasses :class:`Regularizer` or :class:`Augmentation`.
:class:`InteractionMLP` (the default), :class:`MLP`, :class:`TwoTower`,
:class:`FusionTransformer`, :class:`AttentionMIL` and :class:`SetTransformer` (bags
of fragments) are its networks. The loss functions
behind the components (:func:`ranksim_loss`, :func:`conr_loss`,
:func:`norm_order_loss`, :func:`mixup_batch`) are exported for use in other
training loops.
"""

from .augment import CMixup, FeatureDropout, GaussianNoise, Mixup, mixup_batch
from .balance import ModalityBalance
from .base import Augmentation, Regularizer, TrainingBatch
from .contrastive import SupReMix, supremix_loss
from .fds import FDSLayer, FDSUpdate, FeatureDistributionSmoothing
from .losses import (
    BalancedMSELoss,
    PinballLoss,
    UncertaintyWeightedLoss,
    UncertaintyWeighting,
    WeightedRegressionLoss,
    elementwise_loss,
)
from .modules import MLP, AttentionMIL, FusionTransformer, InteractionMLP, ScaledOutput, TwoTower
from .regressor import DIRRegressor
from .regularizers import ConR, FeatureNormOrder, RankSim, conr_loss, norm_order_loss, ranksim_loss
from .set_modules import SetTransformer

__all__ = [
    "MLP",
    "AttentionMIL",
    "Augmentation",
    "BalancedMSELoss",
    "CMixup",
    "ConR",
    "DIRRegressor",
    "FDSLayer",
    "FDSUpdate",
    "FeatureDistributionSmoothing",
    "FeatureDropout",
    "FeatureNormOrder",
    "FusionTransformer",
    "GaussianNoise",
    "InteractionMLP",
    "Mixup",
    "ModalityBalance",
    "PinballLoss",
    "RankSim",
    "Regularizer",
    "ScaledOutput",
    "SetTransformer",
    "SupReMix",
    "TrainingBatch",
    "TwoTower",
    "UncertaintyWeightedLoss",
    "UncertaintyWeighting",
    "WeightedRegressionLoss",
    "conr_loss",
    "elementwise_loss",
    "mixup_batch",
    "norm_order_loss",
    "ranksim_loss",
    "supremix_loss",
]
