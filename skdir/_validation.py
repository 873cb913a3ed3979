"""Validation of continuous regression targets, shared by every skdir module."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _num_samples

__all__ = ["NonBoolInterval", "as_real_array", "check_target", "check_target_pair"]


class NonBoolInterval(Interval):
    """An :class:`~sklearn.utils._param_validation.Interval` that rejects booleans.

    ``True`` is an ``Integral`` to Python, so scikit-learn's ``Interval(Integral, 1, ...)``
    accepts it as 1; a flag passed where a count or a size is expected is a mistake,
    and skdir's numeric parameters reject it.

    Examples
    --------
    >>> from numbers import Integral
    >>> from skdir._validation import NonBoolInterval
    >>> size = NonBoolInterval(Integral, 1, None, closed="left")
    >>> size.is_satisfied_by(3), size.is_satisfied_by(True)
    (True, False)
    >>> str(size)
    'an int in the range [1, inf)'
    """

    def is_satisfied_by(self, val: object) -> bool:
        """Whether ``val`` is a number of the interval's type in it, and not a bool."""
        return not isinstance(val, bool | np.bool_) and super().is_satisfied_by(val)


def _holds_complex(value: object) -> bool:
    """Whether ``value`` is complex data (a complex dtype, or complex objects inside)."""
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        return False
    if raw.dtype.kind == "c":
        return True
    if raw.dtype == object:
        return any(isinstance(v, complex | np.complexfloating) for v in raw.flat)
    return False


def _complex_error(name: str) -> ValueError:
    return ValueError(
        f"{name} holds complex numbers: Complex data not supported. skdir works on real "
        f"values; pass np.real({name}) or np.abs({name}) if one of those is what you mean."
    )


def as_real_array(
    value: ArrayLike, name: str, *, dtype: type = np.float64, what: str = "numeric"
) -> NDArray:
    """Convert ``value`` to a real float array, rejecting complex and non-numeric data.

    NumPy casts complex values to real with only a ``ComplexWarning``, dropping the
    imaginary part; this raises instead, as scikit-learn's ``check_array`` does.
    Shapes and finiteness are not checked.

    Parameters
    ----------
    value : array-like
        Values to convert (a pandas object is accepted).
    name : str
        Name used in error messages.
    dtype : type, default=np.float64
        Floating dtype of the result.
    what : str, default="numeric"
        What ``value`` must be, for the message of a failed conversion.

    Returns
    -------
    array : ndarray of ``dtype``

    Raises
    ------
    ValueError
        If ``value`` is complex ("Complex data not supported") or cannot be
        converted to float.

    Examples
    --------
    >>> from skdir._validation import as_real_array
    >>> as_real_array([1, 2], "w")
    array([1., 2.])
    >>> as_real_array([1 + 2j], "w")
    Traceback (most recent call last):
    ...
    ValueError: w holds complex numbers: Complex data not supported. ...
    """
    if _holds_complex(value):
        raise _complex_error(name)
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be {what}; could not convert it to float: {exc}") from exc


def check_target(
    y: ArrayLike,
    *,
    estimator: Any = None,
    reset: bool = True,
    attribute: str = "n_targets_",
    name: str = "y",
    max_targets: int = 2,
    min_samples: int = 1,
    allow_constant: bool = True,
) -> NDArray[np.float64]:
    """Validate a continuous target and return it as a float64 array.

    With an ``estimator``, also record or check its number of targets, as
    scikit-learn's ``validate_data(reset=)`` does for ``n_features_in_``:
    ``reset=True`` (in ``fit``) sets ``estimator.<attribute>`` to the number of
    target columns of ``y``; ``reset=False`` (after ``fit``) raises when ``y``
    has another number of targets than the estimator was fitted on. This is the
    one place of skdir that says "y has N target(s) but this ... was fitted on M".

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        The target. A pandas Series or DataFrame is accepted.
    estimator : estimator instance or None, default=None
        The estimator whose number of targets is set or checked; ``None``
        validates ``y`` only.
    reset : bool, default=True
        Only with ``estimator``. ``True`` sets ``estimator.<attribute>``;
        ``False`` checks ``y`` against it (the check is skipped when the
        attribute is missing, as for ``n_features_in_`` in scikit-learn).
    attribute : str, default="n_targets_"
        Name of the fitted attribute holding the number of targets
        (``"n_outputs_"`` for :class:`~skdir.nn.DIRRegressor`).
    name : str, default="y"
        Name used in error messages.
    max_targets : int, default=2
        Largest number of target columns accepted.
    min_samples : int, default=1
        Smallest number of samples accepted.
    allow_constant : bool, default=True
        Whether a target column with a single distinct value is accepted.

    Returns
    -------
    y : ndarray of shape (n_samples,) or (n_samples, n_targets), float64
        The validated target; a 1-D input stays 1-D, a 2-D input stays 2-D.

    Raises
    ------
    ValueError
        If ``y`` is complex or not numeric, has more than two dimensions or more than
        ``max_targets`` columns, has fewer than ``min_samples`` rows, contains
        NaN or infinity, is constant while ``allow_constant=False``, or (with
        ``reset=False``) has another number of targets than ``estimator`` was
        fitted on.

    Examples
    --------
    >>> from skdir._validation import check_target
    >>> check_target([1, 2, 3]).dtype
    dtype('float64')
    >>> from skdir.density import LabelDensity
    >>> density = LabelDensity()
    >>> check_target([[1, 2], [3, 4]], estimator=density, reset=True).shape
    (2, 2)
    >>> density.n_targets_
    2
    >>> check_target([1, 2], estimator=density, reset=False)
    Traceback (most recent call last):
    ...
    ValueError: y has 1 target(s) but this LabelDensity was fitted on 2; pass targets ...
    """
    arr = as_real_array(y, name, what="numeric (a continuous regression target)")
    if arr.ndim == 0:
        raise ValueError(f"{name} must be 1-D or 2-D, got a scalar; pass an array of targets.")
    if arr.ndim > 2:
        raise ValueError(
            f"{name} must be 1-D (n_samples,) or 2-D (n_samples, n_targets), "
            f"got {arr.ndim} dimensions with shape {arr.shape}."
        )
    if arr.ndim == 2:
        if arr.shape[1] == 0:
            raise ValueError(f"{name} has 0 target columns; pass at least one target.")
        if arr.shape[1] > max_targets:
            raise ValueError(
                f"{name} has {arr.shape[1]} target columns but at most {max_targets} are "
                f"supported here; fit one model per group of at most {max_targets} targets."
            )
    n_samples = arr.shape[0]
    if n_samples < min_samples:
        raise ValueError(
            f"{name} has {n_samples} sample(s) but at least {min_samples} are required."
        )
    if not np.isfinite(arr).all():
        kind = "NaN" if np.isnan(arr).any() else "infinity"
        raise ValueError(
            f"{name} contains {kind}; remove or impute those samples before fitting "
            "(targets must be finite)."
        )
    if not allow_constant:
        columns = arr.reshape(n_samples, -1)
        constant = np.flatnonzero(np.ptp(columns, axis=0) == 0)
        if constant.size:
            which = "" if arr.ndim == 1 else f" (column {int(constant[0])})"
            raise ValueError(
                f"{name} is constant{which}: every sample has the value "
                f"{columns[0, constant[0]]:g}. A label density, weights or a normaliser "
                "need at least two distinct target values."
            )
    if estimator is not None:
        _check_n_targets(estimator, 1 if arr.ndim == 1 else arr.shape[1], reset, attribute, name)
    return arr


def _check_n_targets(
    estimator: Any, n_targets: int, reset: bool, attribute: str, name: str
) -> None:
    """Set (``reset=True``) or check ``estimator.<attribute>``, the number of targets."""
    if reset:
        setattr(estimator, attribute, n_targets)
        return
    expected = getattr(estimator, attribute, None)
    if expected is not None and n_targets != expected:
        raise ValueError(
            f"{name} has {n_targets} target(s) but this {type(estimator).__name__} was "
            f"fitted on {expected}; pass targets with the same columns as in fit."
        )


def check_target_pair(
    y_true: ArrayLike, y_pred: ArrayLike, *, max_targets: int = 2
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate true and predicted targets of the same shape.

    A 1-D ``y_pred`` is accepted against a single-column 2-D ``y_true`` and
    the other way round; both are returned with the shape of ``y_true``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
        True and predicted targets.
    max_targets : int, default=2
        Largest number of target columns accepted.

    Returns
    -------
    y_true, y_pred : ndarray, float64
        Validated arrays of identical shape.

    Examples
    --------
    >>> from skdir._validation import check_target_pair
    >>> t, p = check_target_pair([1.0, 2.0], [[1.5], [2.5]])
    >>> p.shape
    (2,)
    """
    y_true = check_target(y_true, name="y_true", max_targets=max_targets)
    y_pred = check_target(y_pred, name="y_pred", max_targets=max_targets)
    if y_true.shape != y_pred.shape:
        if y_true.size == y_pred.size and y_true.shape[0] == y_pred.shape[0]:
            y_pred = y_pred.reshape(y_true.shape)
        else:
            raise ValueError(
                f"y_true and y_pred have different shapes {y_true.shape} and {y_pred.shape}; "
                "they must describe the same samples and targets."
            )
    return y_true, y_pred


def check_positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_meta_fit_input(
    X: Any, y: ArrayLike | None, owner: str
) -> tuple[Any, NDArray[np.float64]]:
    """Check the ``X, y`` of a meta-estimator's ``fit`` and make ``X`` indexable by rows.

    ``y`` is validated by :func:`check_target` (any number of targets, at least
    two rows); ``X`` is passed on as it is (the wrapped estimator validates it)
    except that sparse formats without row indexing become CSR and array-likes
    without ``shape`` become arrays.

    Parameters
    ----------
    X : array-like, sparse matrix, DataFrame or list
        Inputs, in any form the wrapped estimator takes.
    y : array-like of shape (n_samples,) or (n_samples, n_targets) or None
        Targets.
    owner : str
        Class name used in the messages.

    Returns
    -------
    X : array-like
        ``X``, indexable by rows.
    y : ndarray of float64
        The validated targets.

    Examples
    --------
    >>> from skdir._validation import check_meta_fit_input
    >>> X, y = check_meta_fit_input([[0.0], [1.0]], [1, 2], "Demo")
    >>> y
    array([1., 2.])
    """
    if y is None:
        raise ValueError(
            f"{owner} requires y to be passed, but the target y is None; pass the "
            "training targets."
        )
    y = check_target(y, max_targets=np.inf, min_samples=2)
    if _num_samples(X) != len(y):
        raise ValueError(f"X has {_num_samples(X)} rows but y has {len(y)}; pass one per sample.")
    if hasattr(X, "tocsr"):  # sparse formats without row indexing (dia, coo)
        X = X.tocsr()
    elif hasattr(X, "__array__") and not hasattr(X, "iloc") and not hasattr(X, "shape"):
        X = np.asarray(X)  # array-likes that cannot be indexed by rows
    return X, y
