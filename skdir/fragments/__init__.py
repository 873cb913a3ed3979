"""Samples made of several fragments: bags, their aggregation, their targets.

A sample's fragments (parts of a text, crops of an image) form a *bag*: a
2-D array (fragments x features). ``X`` is a list of bags of varying length
or a 3-D array padded with all-NaN rows.

- :func:`make_bags` builds bags and per-sample targets from a flat fragment
  table and group ids;
- :func:`aggregate_targets` averages per-fragment targets per sample (mean,
  median, trimmed/winsorized mean, Huber, weighted, or ``auto`` by
  :func:`choose_target_aggregation`), with the per-sample dispersion;
- :class:`FragmentAggregator` is the transformer from bags to one row per
  sample, the first step of a Pipeline;
- :func:`check_bags` validates bags and converts between the list and padded forms;
- :class:`FragmentSubsampler` augments bags with random subsets of their
  fragments, an imbalanced-learn sampler (fit time only).
"""

from ._aggregator import STATS, FragmentAggregator
from ._bags import check_bags
from ._subsampler import FragmentSubsampler
from ._targets import TARGET_METHODS, aggregate_targets, choose_target_aggregation, make_bags

__all__ = [
    "STATS",
    "TARGET_METHODS",
    "FragmentAggregator",
    "FragmentSubsampler",
    "aggregate_targets",
    "check_bags",
    "choose_target_aggregation",
    "make_bags",
]
