"""Test-session settings shared by ``tests/`` and the doctests of ``skdir/``.

The tests run in parallel processes (``pytest -n 2`` on two cores), and the networks
they train are small: one intra-op thread per process is faster than two threads per
process competing for the same cores (measured: 2.6 s against 27 s of CPU for one
40-epoch fit on a loaded two-core machine).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

torch.set_num_threads(1)
