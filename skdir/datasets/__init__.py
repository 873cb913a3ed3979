"""Synthetic generators and loaders of local data files.

:func:`make_imbalanced_regression` generates embedding-like inputs with skewed,
long-tailed targets (optionally as bags of fragments);
:func:`make_long_tail_regression` a lognormal target over two orders of
magnitude with rare extreme values; :func:`load_stsb_dir`
reads the STS-B-DIR sentence-embedding archive from a local path.
"""

from ._generators import make_imbalanced_regression, make_long_tail_regression
from ._stsb import load_stsb_dir

__all__ = ["load_stsb_dir", "make_imbalanced_regression", "make_long_tail_regression"]
