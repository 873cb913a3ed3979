"""Discovery of the estimators that skdir exports."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator

__all__ = ["all_estimators"]


def all_estimators() -> list[tuple[str, type]]:
    """Return every public estimator class defined in skdir, sorted by name.

    An estimator is a :class:`~sklearn.base.BaseEstimator` subclass with a ``fit``
    method; parameter objects without one (the :class:`~skdir.nn.Regularizer` and
    :class:`~skdir.nn.Augmentation` components of ``DIRRegressor``) are not
    listed. Modules and classes whose names start with an underscore, and modules
    whose optional dependencies are missing, are skipped.

    Returns
    -------
    estimators : list of (str, type)
        Class name and class.

    Examples
    --------
    >>> from skdir.utils import all_estimators
    >>> "LabelDensity" in dict(all_estimators())
    True
    """
    import skdir

    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(skdir.__path__, prefix="skdir."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or "tests" in parts:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            continue
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, BaseEstimator)
                and hasattr(obj, "fit")
                and not name.startswith("_")
                and obj.__module__.startswith("skdir")
                and not inspect.isabstract(obj)
                and not name.startswith("Base")
            ):
                found[name] = obj
    return sorted(found.items())
