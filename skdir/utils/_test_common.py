"""Small, fast instances of every skdir estimator for the common checks.

Each module adds its estimators here: ``INIT_PARAMS`` gives constructor
arguments for a quick test instance, ``EXPECTED_FAILED_CHECKS`` the
scikit-learn checks that cannot apply, each with its reason, and
``NOT_AN_X_ESTIMATOR`` the estimators that take no ``X`` at all.
"""

from __future__ import annotations

from typing import Any

#: Constructor arguments of the test instance, by class name.
INIT_PARAMS: dict[str, dict[str, Any]] = {}

#: ``{class name: {check name: reason}}`` for checks that cannot apply.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}

#: Estimators fitted on targets alone, to which the X-based checks cannot apply.
NOT_AN_X_ESTIMATOR: dict[str, str] = {
    "LabelDensity": "fit(y) takes targets only, like LabelEncoder; tested in test_density.py",
}


def make_instance(cls: type) -> Any:
    """Return the test instance of ``cls``."""
    return cls(**INIT_PARAMS.get(cls.__name__, {}))


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """Return the checks ``estimator`` is known to fail, with reasons."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
