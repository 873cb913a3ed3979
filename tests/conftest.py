"""Fixtures shared by the test files: regression data and small DIRRegressor settings.

The session settings (threads, ``PYTHONPATH`` of subprocesses) live in the
repository's root ``conftest.py``; this file only holds test helpers. skdir.nn (torch
and skorch) is imported inside the fixtures, so that test files which never train a
network do not load it through this file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

#: A DIRRegressor whose first epoch's training loss is the initial network's loss on
#: every row: lr 0, one full batch, no validation split, no dropout, a small MLP.
FIXED_NET_PARAMS: dict[str, Any] = {
    "lr": 0.0,
    "max_epochs": 1,
    "batch_size": 1000,
    "early_stopping": False,
    "validation_fraction": None,
    "module__dropout": 0.0,
    "module__hidden": (8,),
    "device": "cpu",
    "random_state": 0,
}


@pytest.fixture
def regression_data() -> Callable[..., tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Return ``make(n=120, d=10, seed=0) -> (X, y)``: Gaussian ``X``, a nonlinear ``y``.

    ``y = 2 * X[:, 0] + |X[:, 1]| + 0.1 * noise``, with ``X`` and the noise drawn
    from ``np.random.default_rng(seed)`` in that order.
    """

    def make(
        n: int = 120, d: int = 10, seed: int = 0
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(n, d))
        y = 2 * X[:, 0] + np.abs(X[:, 1]) + 0.1 * rng.normal(size=n)
        return X, y

    return make


@pytest.fixture
def fast_params() -> dict[str, Any]:
    """Return the settings of a quick, reproducible DIRRegressor fit on the CPU (a new dict)."""
    return {"max_epochs": 8, "module__hidden": (16,), "device": "cpu", "random_state": 0}


@pytest.fixture
def fixed_net() -> Callable[..., Any]:
    """Return ``make(**params) -> DIRRegressor`` with :data:`FIXED_NET_PARAMS` under ``params``.

    With lr 0 and one full batch, the training loss of epoch 1 is the loss of the
    initial network on all rows, so tests can recompute it from ``predict``.
    """
    from skdir.nn import DIRRegressor

    def make(**params: Any) -> Any:
        return DIRRegressor(**{**FIXED_NET_PARAMS, **params})

    return make
