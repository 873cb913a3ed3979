"""Test-session settings shared by ``tests/`` and the doctests of ``skdir/``.

The tests run in parallel processes (``pytest -n 2`` on two cores), and the networks
they train are small: one intra-op thread per process is faster than two threads per
process competing for the same cores (measured: 2.6 s against 27 s of CPU for one
40-epoch fit on a loaded two-core machine).

Property-based tests (hypothesis) draw their examples from a fixed seed
(``derandomize=True``), so that a run of CI is reproducible; set
``HYPOTHESIS_PROFILE=explore`` to search with fresh random examples.

The scripts that tests start in subprocesses (examples, search workers) import the
``skdir`` of this checkout, like the tests themselves, whatever else is installed.
"""

import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch
from hypothesis import settings

torch.set_num_threads(1)
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_REPO = str(Path(__file__).resolve().parent)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_REPO, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
)
