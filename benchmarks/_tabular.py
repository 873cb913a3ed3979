"""The seven tabular imbalanced-regression sets of ``../shared/datasets``, split and preprocessed.

One protocol for every data set (all statistics from the training rows only):

- target: the first column; for ``algae`` (targets ``a1..a7`` in the last seven columns)
  the single target ``a1`` and the 11 predictors (the other six targets are dropped), so
  that every data set has one target and the same region rule applies;
- missing values: ``fuelCons`` and ``heat`` code them as 9999 (documented in their
  READMEs; the code is replaced only in those two sets, where no real value is 9999).
  A numeric column missing in more than half of the training rows is dropped; in any
  other column with missing training values they are imputed by the training median
  and a 0/1 "was missing" column is added (fuelCons drops 4 of its 16 coded columns);
- nominal (string) columns: one-hot on the training categories (unseen ones all zero);
- every column standardised on the training rows;
- split: 60 / 20 / 20 train / val / test, stratified by ten target-quantile strata,
  seeded (``seed`` gives a different split); the val split is for early stopping and
  model selection only;
- shot regions: equal-width bins of the training targets (:func:`region_bin_width`),
  many > 100 training rows per bin, medium 20-100, few < 20.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdir.density import LabelDensity, label_grid_step

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "../shared/datasets"
#: Name -> (file under DATA_DIR, target column or None for the first column).
TABULAR: dict[str, tuple[str, str | None]] = {
    "abalone": ("abalone/Abalone.csv", None),
    "algae": ("algae/algae.csv", "a1"),
    "bank8FM": ("bank8FM/bank8FM.csv", None),
    "cpuSm": ("cpuSm/cpuSm.csv", None),
    "fuelCons": ("fuelCons/fuelCons.csv", None),
    "heat": ("heat/heat.csv", None),
    "machineCpu": ("machineCpu/machineCpu.csv", None),
}
#: Missing-value codes documented in the data sets' READMEs.
MISSING_CODES = {"fuelCons": 9999, "heat": 9999}
ALGAE_TARGETS = [f"a{k}" for k in range(1, 8)]
#: A column missing in more than this share of the training rows is dropped.
MAX_MISSING = 0.5
#: Number of bins the region width aims at (1/50 of the training range).
TARGET_BINS = 50


def read_table(name: str, data_dir: Path = DATA_DIR) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the predictors (missing codes as NaN) and the target of one data set."""
    file, target = TABULAR[name]
    frame = pd.read_csv(Path(data_dir) / file)
    target = target or frame.columns[0]
    y = frame[target].to_numpy(dtype=np.float64)
    drop = ALGAE_TARGETS if name == "algae" else [target]
    X = frame.drop(columns=drop)
    if name in MISSING_CODES:
        numeric = X.select_dtypes(include="number").columns
        X[numeric] = X[numeric].mask(X[numeric] == MISSING_CODES[name])
    return X, y


def region_bin_width(y_train: np.ndarray, n_bins: int = TARGET_BINS) -> float:
    """Bin width of the shot regions: 1/50 of the training range, on the label grid.

    When the training labels lie on a grid with at most 10,000 steps over their range
    (integer counts, one-decimal measurements) the width is the smallest multiple of
    the grid step that is at least range / 50, so that bin edges fall on label values
    and no bin is empty by construction; otherwise it is range / 50.
    """
    span = float(np.ptp(y_train))
    width = span / n_bins
    step = label_grid_step(y_train)
    if step is not None:
        width = step * max(1, int(np.ceil(width / step - 1e-9)))
    return width


def quantile_strata(y: np.ndarray, n_strata: int = 10) -> np.ndarray:
    """Stratum of each target: its quantile bin (ties share a stratum)."""
    edges = np.unique(np.quantile(y, np.linspace(0, 1, n_strata + 1)[1:-1]))
    return np.searchsorted(edges, y, side="right")


def split_indices(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """60 / 20 / 20 train / val / test row indices, stratified by target quantiles."""
    rows = np.arange(len(y))
    strata = quantile_strata(y)
    rest, test = train_test_split(rows, test_size=0.2, random_state=seed, stratify=strata)
    train, val = train_test_split(rest, test_size=0.25, random_state=seed, stratify=strata[rest])
    return np.sort(train), np.sort(val), np.sort(test)


def _preprocess(
    X: pd.DataFrame, train: np.ndarray
) -> tuple[dict[str, np.ndarray], list[str], dict[str, list[str]]]:
    """Fit the imputation, one-hot encoding and scaling on ``train``; transform all rows."""
    nominal = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    numeric = [c for c in X.columns if c not in nominal]
    X_train = X.iloc[train]
    missing_share = X_train[numeric].isna().mean()
    dropped = [c for c in numeric if missing_share[c] > MAX_MISSING]
    kept = [c for c in numeric if c not in dropped]
    imputed = [c for c in kept if missing_share[c] > 0]
    medians = X_train[kept].median()
    parts = [X[kept].fillna(medians).to_numpy(dtype=np.float64)]
    names = list(kept)
    if imputed:
        parts.append(X[imputed].isna().to_numpy(dtype=np.float64))
        names += [f"{c}_missing" for c in imputed]
    if nominal:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        encoder.fit(X_train[nominal].astype(str))
        parts.append(encoder.transform(X[nominal].astype(str)))
        names += list(encoder.get_feature_names_out(nominal))
    matrix = np.hstack(parts)
    matrix = StandardScaler().fit(matrix[train]).transform(matrix)
    return {"X": matrix}, names, {"dropped": dropped, "imputed": imputed, "nominal": nominal}


def load_tabular(name: str, seed: int, data_dir: Path = DATA_DIR) -> dict:
    """Split (by ``seed``) and preprocess one tabular set; same keys as ``load_stsb_dir``.

    Returns ``X_train``/``X_val``/``X_test`` (float64, standardised on train),
    ``y_train``/``y_val``/``y_test``, ``density`` (a ``LabelDensity`` with the region
    bin width fitted on the training targets), ``bin_width``, ``feature_names`` and
    ``preprocessing`` (dropped, imputed and nominal columns).
    """
    X, y = read_table(name, data_dir)
    train, val, test = split_indices(y, seed)
    prepared, names, notes = _preprocess(X, train)
    matrix = prepared["X"]
    width = region_bin_width(y[train])
    out = {
        "X_train": matrix[train],
        "X_val": matrix[val],
        "X_test": matrix[test],
        "y_train": y[train],
        "y_val": y[val],
        "y_test": y[test],
        "bin_width": width,
        "feature_names": names,
        "preprocessing": notes,
    }
    out["density"] = LabelDensity(bin_width=width).fit(out["y_train"])
    return out
