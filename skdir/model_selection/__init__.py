"""Hyper-parameter search driven by Optuna with scikit-learn's ``GridSearchCV`` interface.

:class:`DIRSearchCV` runs each trial's cross-validation folds itself so that a pruner can
stop hopeless trials between folds, and keeps its trials in an Optuna study (in memory, in
an SQLite file, in a PostgreSQL/MySQL database or in a journal file shared by many worker
processes). :class:`EpochPruning` lets the pruner stop a skorch net (``DIRRegressor``)
between epochs. :func:`default_search_space` proposes ranges for the skdir steps of a pipeline.
"""

from typing import Any

from ._search import DIRSearchCV
from ._space import default_search_space

__all__ = ["DIRSearchCV", "EpochPruning", "default_search_space"]


def __getattr__(name: str) -> Any:
    # EpochPruning is a skorch callback: importing it loads torch and skorch, which a
    # search over scikit-learn models (and each of its worker processes) does not need
    if name == "EpochPruning":
        from ._epoch import EpochPruning

        return EpochPruning
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
