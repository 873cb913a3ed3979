"""skdir: deep imbalanced regression for scikit-learn.

The label density (:mod:`skdir.density`) is the one place where targets are
binned and smoothed; weights, resamplers, neural regressors, metrics and
searches are built on it.
"""

from .density import LabelDensity

__version__ = "0.1.0.dev0"

__all__ = ["LabelDensity", "__version__"]
