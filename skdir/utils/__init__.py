"""Utilities shared across skdir: estimator discovery and test instances."""

from .discovery import all_estimators

__all__ = ["all_estimators"]
