"""Loader of the STS-B-DIR sentence-embedding archive from a local file."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import validate_params

__all__ = ["STSB_DIR_FILENAME", "load_stsb_dir"]

#: Name of the archive that :func:`load_stsb_dir` reads.
STSB_DIR_FILENAME = "stsb_dir_minilm.npz"

_SPLITS = ("train", "val", "test")

_HOW_TO_GET_IT = (
    "skdir does not download it (the sentences and scores carry their own licences). Build it "
    "from the STS-B-DIR split files train_new.tsv, dev_new.tsv and test_new.tsv of "
    "github.com/YyzHarry/imbalanced-regression (sts-b-dir/glue_data/STS-B/): encode sentence1 "
    "and sentence2 of every row with sentence-transformers all-MiniLM-L6-v2 (mean pooling, L2 "
    "normalised) and save X_train/X_val/X_test = [e(sentence1), e(sentence2)] (float16, "
    "768 columns) and y_train/y_val/y_test = score (float32) with numpy.savez_compressed."
)

_DESCR = """\
STS-B-DIR sentence-pair similarity, as sentence embeddings
----------------------------------------------------------

The text task of the Deep Imbalanced Regression benchmark (Yang, Zha, Chen,
Wang, Katabi, "Delving into Deep Imbalanced Regression", ICML 2021): pairs of
sentences from the STS Benchmark (Cer et al., SemEval-2017 Task 1, via GLUE)
with a human similarity score in [0, 5].

Splits (the official STS-B-DIR ones): train {n_train} pairs with the natural,
skewed score distribution; val {n_val} and test {n_test} pairs balanced over
the score range (50 pairs per 0.25-wide band in the official files).

X: {n_features} columns, [embedding(sentence1), embedding(sentence2)], each
half a unit-norm all-MiniLM-L6-v2 sentence embedding; stored as float16,
returned as float32 (an exact conversion). Columns are named s1_0.. and s2_...
A linear model on these raw columns cannot express similarity; pair features
such as [|e1 - e2|, e1 * e2] or the cosine of the halves work far better.

y: the similarity score, float64. The archive stores float32, in which 4.2
reads 4.1999998; each score is returned as the shortest decimal that rounds
to the stored float32 (4.2), which equals the score of the source files for
99.8 % of the rows and is within 5e-7 of it for the rest (scores such as
3.71428571428571, means of seven ratings).

Licences: the split files are MIT (imbalanced-regression repository); the
scores are CC BY-SA 4.0 and the sentences carry the licences of their sources
(STS Benchmark); the encoder is Apache-2.0. Cite DIR, the STS Benchmark and
GLUE when reporting results.
"""


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def load_stsb_dir(path: str | os.PathLike) -> Bunch:
    """Load the STS-B-DIR sentence-pair embeddings from a local ``.npz`` file.

    Reads ``stsb_dir_minilm.npz``: all-MiniLM-L6-v2 embeddings of both sentences
    of every pair of the STS-B-DIR splits (Yang et al., "Delving into Deep
    Imbalanced Regression", ICML 2021) and their similarity scores in [0, 5].
    Nothing is downloaded; the file is not shipped with skdir.

    Parameters
    ----------
    path : str or path-like
        The ``stsb_dir_minilm.npz`` file, or the folder that holds it.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``X_train``, ``X_val``, ``X_test`` (ndarray of shape (n, 768),
        float32, an exact conversion of the stored float16), ``y_train``,
        ``y_val``, ``y_test`` (ndarray of shape (n,), float64: each stored
        float32 score as the shortest decimal that rounds to it, so that 4.2
        stored as 4.1999998 comes back as 4.2), ``feature_names`` (ndarray of
        str, ``"s1_0" .. "s1_383", "s2_0" .. "s2_383"``), ``filename`` (the file
        read) and ``DESCR`` (a description of the data and its licences).

    Raises
    ------
    FileNotFoundError
        If there is no ``stsb_dir_minilm.npz`` at ``path``; the message says how
        to build it.
    ValueError
        If the file is not a readable ``.npz`` archive, lacks one of the arrays
        ``X_train, y_train, X_val, y_val, X_test, y_test``, or holds arrays of
        inconsistent shapes or non-finite values.

    Examples
    --------
    >>> from skdir.datasets import load_stsb_dir
    >>> data = load_stsb_dir("../shared/datasets/stsb_dir")  # doctest: +SKIP
    >>> data.X_train.shape, data.y_train.shape  # doctest: +SKIP
    ((5249, 768), (5249,))
    """
    filename = _resolve(path)
    try:
        archive = np.load(filename, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(
            f"Could not read {str(filename)!r} as a numpy .npz archive ({exc}); "
            f"expected {STSB_DIR_FILENAME}. " + _HOW_TO_GET_IT
        ) from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(
            f"{str(filename)!r} holds a single array, not an .npz archive with the arrays "
            f"X_train, y_train, X_val, y_val, X_test, y_test; expected {STSB_DIR_FILENAME}."
        )
    with archive:
        expected = [f"{kind}_{split}" for split in _SPLITS for kind in ("X", "y")]
        missing = [key for key in expected if key not in archive.files]
        if missing:
            raise ValueError(
                f"{str(filename)!r} lacks the array(s) {', '.join(missing)}; an "
                f"{STSB_DIR_FILENAME} archive holds {', '.join(expected)} "
                f"(found: {', '.join(archive.files) or 'nothing'})."
            )
        arrays = {key: archive[key] for key in expected}

    data = Bunch()
    n_features = None
    for split in _SPLITS:
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if X.ndim != 2 or X.shape[1] == 0 or X.shape[1] % 2:
            raise ValueError(
                f"X_{split} in {str(filename)!r} has shape {X.shape}; expected a 2-D array "
                "with an even number of columns, [embedding(sentence1), embedding(sentence2)]."
            )
        if n_features is not None and X.shape[1] != n_features:
            raise ValueError(
                f"X_{split} in {str(filename)!r} has {X.shape[1]} columns but X_train has "
                f"{n_features}; all splits must use the same embedding."
            )
        n_features = X.shape[1]
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"y_{split} in {str(filename)!r} has shape {y.shape}; expected one score per "
                f"row of X_{split}, shape ({X.shape[0]},)."
            )
        for name, values in ((f"X_{split}", X), (f"y_{split}", y)):
            if not np.issubdtype(values.dtype, np.number) or not np.isfinite(values).all():
                raise ValueError(
                    f"{name} in {str(filename)!r} must hold finite numbers; the file is "
                    "damaged or not the STS-B-DIR archive."
                )
        data[f"X_{split}"] = X.astype(np.float32)
        data[f"y_{split}"] = _shortest_decimal(y)
    half = n_features // 2
    data.feature_names = np.array(
        [f"s1_{i}" for i in range(half)] + [f"s2_{i}" for i in range(half)], dtype=object
    )
    data.filename = str(filename)
    data.DESCR = _DESCR.format(
        n_train=data.X_train.shape[0],
        n_val=data.X_val.shape[0],
        n_test=data.X_test.shape[0],
        n_features=n_features,
    )
    return data


def _resolve(path: str | os.PathLike) -> Path:
    """Return the archive's path, given the file or its folder."""
    candidate = Path(path).expanduser()
    if candidate.is_dir():
        candidate = candidate / STSB_DIR_FILENAME
    if not candidate.is_file():
        raise FileNotFoundError(
            f"No STS-B-DIR embedding archive at {str(candidate)!r}: expected the file "
            f"{STSB_DIR_FILENAME} (pass its path or the folder that holds it). " + _HOW_TO_GET_IT
        )
    return candidate


def _shortest_decimal(values: np.ndarray) -> np.ndarray:
    """Return float16/32 values as the float64 of their shortest round-tripping decimal."""
    if values.dtype not in (np.float16, np.float32):
        return values.astype(np.float64)
    # numpy prints a float32 with the fewest digits that read back to the same
    # float32 (4.1999998 -> "4.2"); parsing that text in float64 gives the decimal.
    return values.astype(str).astype(np.float64)
