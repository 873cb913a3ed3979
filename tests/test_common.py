"""scikit-learn's estimator checks on every estimator skdir exports."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdir.utils import all_estimators
from skdir.utils._test_common import (
    NOT_AN_X_ESTIMATOR,
    expected_failed_checks,
    make_instance,
)

ESTIMATORS = [cls for name, cls in all_estimators() if name not in NOT_AN_X_ESTIMATOR]


@parametrize_with_checks(
    [make_instance(cls) for cls in ESTIMATORS],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", sorted(NOT_AN_X_ESTIMATOR))
def test_target_only_estimators_are_exported(name):
    assert name in dict(all_estimators())
