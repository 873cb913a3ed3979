"""Resampling for continuous targets with imbalanced-learn's ``fit_resample`` contract.

The relevance function (:class:`Relevance`) says how rare each target value is;
samples with relevance ``>= rel_thres`` are rare and, sorted by target, form
contiguous rare and common segments. The samplers resize the segments:
:class:`SMOGN` and :class:`SMOTER` with synthetic rows from neighbours within
a segment, :class:`GaussianNoiseSampler` with noisy copies,
:class:`RandomOverSampler` and :class:`RandomUnderSampler` by copying or
dropping rows. Use them in :func:`skdir.pipeline.make_pipeline` (imbalanced-learn's
Pipeline, with ``sample_weight`` resampled along with the rows from each sampler's
``parent_indices_`` and ``parent_mixing_``).
"""

from ._base import BaseRegressionSampler
from ._random import GaussianNoiseSampler, RandomOverSampler, RandomUnderSampler
from ._relevance import Relevance, medcouple, pchip_relevance, rare_segments
from ._smote import SMOGN, SMOTER

__all__ = [
    "SMOGN",
    "SMOTER",
    "BaseRegressionSampler",
    "GaussianNoiseSampler",
    "RandomOverSampler",
    "RandomUnderSampler",
    "Relevance",
    "medcouple",
    "pchip_relevance",
    "rare_segments",
]
