"""Save and load fitted models with the versions they were made with.

A model file written by :func:`save_model` is a zip archive of two members:

* ``skdir.json``: plain JSON, readable without running any code: the file
  format, the versions of Python, skdir, scikit-learn, torch, numpy and joblib
  that saved the model, the model's class, the time, your ``metadata`` and the
  SHA-256 digest of the pickled model;
* ``model.joblib``: the model itself, pickled by :mod:`joblib` (arrays stored
  efficiently, compressed).

:func:`load_model` reads the JSON first and compares the versions with the
running ones *before* it unpickles anything: a mismatch warns
(:class:`ModelVersionWarning`) or, with ``strict=True``, raises
(:class:`ModelVersionError`) without having run any of the file's code.
:func:`model_info` returns the JSON alone.

.. warning::

   Unpickling runs code chosen by whoever wrote the file: a crafted model file
   can do anything your user account can. Load only files you made yourself
   or got from someone you trust, over a channel you trust. To make sure a file
   is the one you saved, keep the ``sha256`` that :func:`save_model` returns
   (the ``skdir`` command prints it) somewhere else and pass it to
   :func:`load_model`, which then refuses a file whose model differs before
   unpickling it. The digest inside the file only detects accidental damage:
   whoever can change the model can change the digest next to it.

Pickles are not portable across library versions: scikit-learn, torch and
skdir may change their classes' internals between releases, and a model
loaded under other versions may fail or, worse, predict differently without an
error. Load a model with the versions it was saved with (:func:`model_info`
tells which), or refit it.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

__all__ = [
    "FORMAT",
    "ModelVersionError",
    "ModelVersionWarning",
    "load_model",
    "model_info",
    "save_model",
]

#: Name of the file format, stored in every file's ``skdir.json``.
FORMAT = "skdir-model"
#: Version of the file layout (members and JSON keys).
FORMAT_VERSION = 1
_HEADER = "skdir.json"
_PAYLOAD = "model.joblib"
#: Packages whose version is recorded, and how many leading version parts must agree:
#: None means the whole version string.
_CHECKED = {
    "skdir": None,
    "scikit-learn": None,
    "torch": None,
    "numpy": 1,
    "python": 2,
}


class ModelVersionWarning(UserWarning):
    """A model file was saved with other versions of skdir or its dependencies."""


class ModelVersionError(ValueError):
    """A model file's versions differ from the running ones and ``strict=True``."""


def _versions() -> dict[str, str | None]:
    """Versions of the packages a pickled skdir model depends on (None: not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    import skdir

    found: dict[str, str | None] = {
        "python": platform.python_version(),
        "skdir": skdir.__version__,
    }
    for name in ("scikit-learn", "torch", "numpy", "joblib", "skorch"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - depends on the environment
            found[name] = None
    return found


def _release(text: str | None, parts: int | None) -> tuple | str | None:
    """Return the leading ``parts`` numbers of a version (the whole string when None)."""
    if text is None or parts is None:
        return text
    return tuple(text.split("+")[0].split(".")[:parts])


def _mismatches(saved: dict[str, Any], running: dict[str, Any]) -> list[str]:
    out = []
    for name, parts in _CHECKED.items():
        if _release(saved.get(name), parts) != _release(running.get(name), parts):
            out.append(f"{name} {saved.get(name)} (running {running.get(name)})")
    return out


def save_model(
    model: Any, path: str | Path, *, metadata: dict[str, Any] | None = None, compress: int = 3
) -> dict[str, Any]:
    """Save a (fitted) model with the versions it was made with.

    Parameters
    ----------
    model : object
        Any picklable object, typically a fitted estimator or pipeline.
    path : str or Path
        File to write (conventionally ``.skdir``); its folder must exist.
        An existing file is replaced.
    metadata : dict or None, default=None
        JSON-serialisable information to keep with the model (for example the
        feature columns it expects); returned by :func:`model_info`.
    compress : int, default=3
        zlib level (0-9) of joblib's compression of the model.

    Returns
    -------
    info : dict
        The header written to ``skdir.json``: ``format``, ``format_version``,
        ``versions``, ``model_class``, ``created``, ``metadata`` and ``sha256``
        (the digest of the pickled model; keep it to check the file later with
        ``load_model(path, sha256=...)``).

    Raises
    ------
    TypeError
        If ``metadata`` is not JSON-serialisable.

    See Also
    --------
    load_model : Read the model back, checking the versions first.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from skdir.persistence import load_model, save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "ridge.skdir")
    >>> info = save_model(Ridge().fit([[0], [1]], [0, 1]), path, metadata={"note": "demo"})
    >>> sorted(info["versions"])[:3]
    ['joblib', 'numpy', 'python']
    >>> load_model(path, sha256=info["sha256"]).predict([[2]]).round(2)
    array([1.])
    """
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=compress)
    payload = buffer.getvalue()
    info = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "metadata": metadata or {},
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    try:
        header = json.dumps(info, indent=2)
    except TypeError as error:
        raise TypeError(
            f"metadata must be JSON-serialisable (str, numbers, lists, dicts): {error}."
        ) from error
    # the payload is already compressed by joblib: store it as it is
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(_HEADER, header, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(_PAYLOAD, payload, compress_type=zipfile.ZIP_STORED)
    return info


def _open(path: str | Path) -> zipfile.ZipFile:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model file {str(path)!r} does not exist.")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path.name} is not a model file written by skdir.persistence.save_model (not a "
            "zip archive). A plain pickle or joblib file can be read with joblib.load, if you "
            "trust it: loading a pickle runs code."
        )
    archive = zipfile.ZipFile(path)
    if not {_HEADER, _PAYLOAD} <= set(archive.namelist()):
        archive.close()
        raise ValueError(
            f"{path.name} is a zip archive but not a skdir model file (it needs the members "
            f"{_HEADER!r} and {_PAYLOAD!r}); save models with skdir.persistence.save_model."
        )
    return archive


def model_info(path: str | Path) -> dict[str, Any]:
    """Return the header of a model file without unpickling the model.

    Reading the header runs none of the file's code: use it to see which
    versions a model needs before loading it.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save_model`.

    Returns
    -------
    info : dict
        As returned by :func:`save_model`.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.dummy import DummyRegressor
    >>> from skdir.persistence import model_info, save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "dummy.skdir")
    >>> _ = save_model(DummyRegressor().fit([[0]], [1]), path)
    >>> model_info(path)["model_class"]
    'sklearn.dummy.DummyRegressor'
    """
    with _open(path) as archive:
        info = json.loads(archive.read(_HEADER))
    if info.get("format") != FORMAT:
        raise ValueError(
            f"{Path(path).name} is not a {FORMAT} file (format {info.get('format')!r})."
        )
    if info.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{Path(path).name} has file format version {info['format_version']}, newer than "
            f"this skdir reads ({FORMAT_VERSION}); upgrade skdir to load it."
        )
    return info


def load_model(
    path: str | Path, *, strict: bool = False, sha256: str | None = None, return_info: bool = False
) -> Any:
    """Load a model saved by :func:`save_model`, checking its versions first.

    .. warning::

       Loading unpickles the model, which runs code chosen by whoever wrote the
       file. Load only files you trust (see :mod:`skdir.persistence`); check a
       file you did not keep under your control against the ``sha256`` that
       :func:`save_model` returned.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save_model`.
    strict : bool, default=False
        Raise :class:`ModelVersionError`, before unpickling, when the versions of
        skdir, scikit-learn or torch (exactly), numpy (major) or Python
        (major.minor) differ from the ones that saved the model; ``False`` warns
        with :class:`ModelVersionWarning` and loads.
    sha256 : str or None, default=None
        Expected digest of the pickled model (``save_model(...)["sha256"]``);
        a file whose model has another digest is refused before unpickling.
    return_info : bool, default=False
        Also return the header (:func:`model_info`).

    Returns
    -------
    model : object
        The saved object.
    info : dict
        Only with ``return_info=True``: the header.

    Raises
    ------
    ModelVersionError
        With ``strict=True``, on a version mismatch.
    ValueError
        If the file is not a skdir model file, or its digest is not ``sha256``.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.dummy import DummyRegressor
    >>> from skdir.persistence import load_model, save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "dummy.skdir")
    >>> _ = save_model(DummyRegressor().fit([[0]], [1.5]), path)
    >>> model, info = load_model(path, strict=True, return_info=True)
    >>> model.predict([[3]]), info["format"]
    (array([1.5]), 'skdir-model')
    """
    import joblib

    info = model_info(path)
    mismatches = _mismatches(info.get("versions", {}), _versions())
    if mismatches:
        message = (
            f"{Path(path).name} was saved with other versions: {'; '.join(mismatches)}. A "
            "pickled model may fail to load or predict differently under other versions; "
            "install the saved versions (skdir.persistence.model_info lists them) or refit "
            "the model."
        )
        if strict:
            raise ModelVersionError(message + " (strict=True: nothing was unpickled.)")
        warnings.warn(message, ModelVersionWarning, stacklevel=2)
    with _open(path) as archive:
        payload = archive.read(_PAYLOAD)
    digest = hashlib.sha256(payload).hexdigest()
    if sha256 is not None and digest != sha256.lower():
        raise ValueError(
            f"{Path(path).name}: the model's SHA-256 is {digest}, not the expected {sha256}; "
            "the file is not the one saved. Nothing was unpickled."
        )
    if digest != info.get("sha256"):
        raise ValueError(
            f"{Path(path).name} is damaged: its model does not match the digest in its header. "
            "Nothing was unpickled."
        )
    model = joblib.load(io.BytesIO(payload))
    return (model, info) if return_info else model
