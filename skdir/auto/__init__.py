"""Automatic choice of a regressor for accuracy over the whole target range.

:class:`AutoDIRRegressor` fits strong learner families (ridge, RBF kernel
ridge, gradient boosting, skdir's networks) with and without DIR treatments
(LDS and DenseWeight sample weights, C-Mixup, ConR, Balanced MSE) as fold bags,
scores each on out-of-fold predictions of the training rows per label region,
and returns a weighted ensemble of the bags chosen for the objective: by
default the lowest balanced error at a bounded cost in overall error.
:func:`plot_leaderboard` draws the trade-off. Importing this module loads
neither torch nor the boosting libraries: the candidates import them when
they are built.
"""

from ._candidates import CANDIDATE_NAMES, PRESETS
from ._estimator import AutoDIRRegressor
from ._plot import plot_leaderboard

__all__ = ["CANDIDATE_NAMES", "PRESETS", "AutoDIRRegressor", "plot_leaderboard"]
