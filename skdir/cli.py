"""The ``skdir`` command: ``skdir demo``, ``skdir benchmark`` and ``skdir predict``.

``skdir demo`` runs the main job on generated multimodal fragment data with two
skewed targets; ``skdir benchmark --data FILE`` cross-validates the recommended model
(:class:`~skdir.auto.AutoDIRRegressor`, with CV+ conformal intervals) on a table of the
user's (``--suite quick``/``full`` add hand-built alternatives), prints the
all / many / medium / few-shot and balanced errors of each target separately with the
region sizes, the recommended model's leaderboard, and writes a markdown report, a JSON
of every figure, the plots and the model fitted on all rows (``model.skdir``, see
:mod:`skdir.persistence`) to ``--out``; ``skdir predict --model FILE --data FILE``
writes that model's predictions and intervals for new samples.

A table of fragments (one row per fragment of a sample, ``--group COL`` naming the
sample column) becomes one bag per sample with a robust average of its fragments'
targets (:func:`skdir.fragments.make_bags`); folds split samples, never the fragments
of one sample, and every error is per sample. A column that looks like an identifier
(strings, or integers named like an id, constant over runs of rows, or a running row
number) is refused as a feature: pass it as ``--group`` or ``--drop`` it.

The DIR model is ``FragmentAggregator -> StandardScaler -> SMOGN -> DIRRegressor``
(LDS as ``weighter=LDSWeighter()``, FDS as ``fds=FeatureDistributionSmoothing()``) in
an imbalanced-learn pipeline, with the target normalised by
:class:`~skdir.target.TargetDistributionNormalizer` *inside* the regressor
(``DIRRegressor(target_transformer=...)``): the network learns normalised targets
while SMOGN's relevance, the LDS weights and the FDS bins see the targets as given,
whose imbalance a normalizer would flatten (see the design notes). Wrapping the
pipeline in ``TransformedTargetRegressor`` instead is equivalent for the network but
hands normalised targets to SMOGN and LDS.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SUITES = ("auto", "quick", "full")
PRESETS = ("fast", "medium", "best")
MIN_ROWS = 50
#: ``--target-aggregation`` choices (:func:`skdir.fragments.aggregate_targets`).
AGGREGATIONS = ("auto", "mean", "median", "trimmed", "winsorized", "huber")
MODEL_FILE = "model.skdir"
#: A column name that reads as an identifier: "id", "sample_id", "SampleID", "uuid", "key".
_ID_NAME = re.compile(r"(^|[^a-z])(id|ids|uuid|guid|key|index|idx)$|^(id|idx)([^a-z]|$)|id$")


class UsageError(ValueError):
    """A problem with the command line or the input file, reported without a traceback."""


def build_models(
    suite: str = "quick",
    *,
    bags: bool = False,
    n_targets: int = 1,
    random_state: int = 0,
    max_epochs: int = 256,
    preset: str = "fast",
    time_budget: float | None = None,
) -> dict[str, Any]:
    """Build the models that ``skdir demo`` and ``skdir benchmark`` compare.

    Parameters
    ----------
    suite : {"auto", "quick", "full"}, default="quick"
        ``"auto"``: the recommended model alone, ``"AutoDIR"``:
        :class:`~skdir.auto.AutoDIRRegressor` (preset ``"fast"``: ridge,
        HistGradientBoosting and the default network, plain and with LDS weights,
        as 3-fold bags chosen on out-of-fold balanced error) inside a
        :class:`~skdir.conformal.ConformalDIRRegressor` (``method="cv_plus"``, which
        reuses the bags' folds: no extra fit, the same predictions, and intervals).
        ``"quick"``: it, then the hand-built alternatives: HistGradientBoosting, the
        default network (:class:`~skdir.nn.DIRRegressor`), the network with FDS, and the full DIR
        pipeline (SMOGN + LDS + FDS); the DIR networks learn targets
        normalised by :class:`~skdir.target.TargetDistributionNormalizer` given as
        their ``target_transformer`` (module docstring). ``"full"`` adds ridge,
        HistGradientBoosting with LDS sample weights, and the network with LDS + FDS
        but no SMOGN.
    bags : bool, default=False
        Inputs are bags of fragments: every model starts with a
        :class:`~skdir.fragments.FragmentAggregator` (mean of the fragments).
    n_targets : {1, 2}, default=1
        Number of targets (tree and linear models are wrapped per target).
    random_state : int, default=0
        Seed of every model.
    max_epochs : int, default=256
        Most epochs of the networks (they stop early on a validation split).
    preset : {"fast", "medium", "best"}, default="fast"
        AutoDIRRegressor's preset.
    time_budget : float or None, default=None
        AutoDIRRegressor's ``time_budget`` in seconds (per fit).

    Returns
    -------
    dict of str to estimator
        Unfitted models by display name.

    Examples
    --------
    >>> from skdir.cli import build_models
    >>> list(build_models("quick"))
    ['AutoDIR', 'HistGradientBoosting', 'Network', 'Network+FDS', 'Network+SMOGN+LDS+FDS']
    >>> list(build_models("auto"))
    ['AutoDIR']
    """
    from imblearn.pipeline import make_pipeline
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import RidgeCV
    from sklearn.multioutput import MultiOutputRegressor
    from sklearn.preprocessing import StandardScaler

    from .auto import AutoDIRRegressor
    from .conformal import ConformalDIRRegressor
    from .nn import DIRRegressor, FeatureDistributionSmoothing
    from .resampling import SMOGN
    from .target import TargetDistributionNormalizer
    from .weighting import DensityWeightedRegressor, LDSWeighter

    if suite not in SUITES:
        raise UsageError(f"suite must be one of {SUITES}, got {suite!r}.")
    if preset not in PRESETS:
        raise UsageError(f"preset must be one of {PRESETS}, got {preset!r}.")

    def first_steps() -> list:
        if not bags:
            return []
        from .fragments import FragmentAggregator

        return [FragmentAggregator(stats=("mean",))]

    def per_target(regressor: Any) -> Any:
        return regressor if n_targets == 1 else MultiOutputRegressor(regressor)

    def net(**params: Any) -> DIRRegressor:
        return DIRRegressor(
            random_state=random_state, max_epochs=max_epochs, device="auto", **params
        )

    hgb = HistGradientBoostingRegressor(random_state=random_state)
    auto = AutoDIRRegressor(preset, time_budget=time_budget, random_state=random_state)
    recommended = ConformalDIRRegressor(auto, method="cv_plus", random_state=random_state)
    if suite == "auto":
        return {"AutoDIR": make_pipeline(*first_steps(), recommended)}
    models = {
        "AutoDIR": make_pipeline(*first_steps(), recommended),
        "HistGradientBoosting": make_pipeline(*first_steps(), per_target(hgb)),
        "Network": make_pipeline(
            *first_steps(), StandardScaler(), net(target_transformer=StandardScaler())
        ),
        "Network+FDS": make_pipeline(
            *first_steps(),
            StandardScaler(),
            net(
                fds=FeatureDistributionSmoothing(),
                target_transformer=TargetDistributionNormalizer(),
            ),
        ),
        "Network+SMOGN+LDS+FDS": make_pipeline(
            *first_steps(),
            StandardScaler(),
            # the CLI runs on any data: a rare segment smaller than k_neighbors + 1 rows
            # (small data, two targets) uses fewer neighbours instead of failing
            SMOGN(k_neighbors_fallback=True, random_state=random_state),
            net(
                weighter=LDSWeighter(),
                fds=FeatureDistributionSmoothing(),
                target_transformer=TargetDistributionNormalizer(),
            ),
        ),
    }
    if suite == "full":
        models["Ridge"] = make_pipeline(*first_steps(), StandardScaler(), RidgeCV())
        models["HistGradientBoosting+LDS"] = make_pipeline(
            *first_steps(),
            DensityWeightedRegressor(per_target(clone(hgb)), weighter=LDSWeighter()),
        )
        models["Network+LDS+FDS"] = make_pipeline(
            *first_steps(),
            StandardScaler(),
            net(
                weighter=LDSWeighter(),
                fds=FeatureDistributionSmoothing(),
                target_transformer=TargetDistributionNormalizer(),
            ),
        )
    return models


@dataclass
class Table:
    """What :func:`read_table` found in a data file.

    Attributes
    ----------
    X : ndarray or list of ndarray
        One row per sample, or one bag of fragments per sample.
    y : ndarray of shape (n_samples,) or (n_samples, 2), or None
        Targets (per sample), None when the file has none (``skdir predict``).
    target_names : list of str
    split : list of (train, test) or None
        An .npz archive's own split (:func:`predefined_split`).
    features : list of str or None
        Feature columns of a .csv/.parquet table, in order.
    group : str or None
        The column whose values name the samples of a fragment table.
    ids : ndarray or None
        The sample id of every row of ``X`` (group ids, sorted) for a fragment table.
    n_rows : int
        Rows of the file (fragments of a fragment table).
    aggregation : str or list of str or None
        The averaging of fragment targets used per target.
    """

    X: Any
    y: np.ndarray | None
    target_names: list[str]
    split: list | None = None
    features: list[str] | None = None
    group: str | None = None
    ids: np.ndarray | None = None
    n_rows: int = 0
    aggregation: Any = None


def load_table(
    path: str | Path,
    targets: Sequence[str] | None = None,
    *,
    group: str | None = None,
    drop: Sequence[str] = (),
    keep: Sequence[str] = (),
    target_aggregation: str = "auto",
) -> tuple:
    """Read ``X``, ``y`` and the target names from an .npz, .csv or .parquet file.

    Parameters
    ----------
    path : str or Path
        ``.npz`` with arrays ``X`` (2-D, or 3-D NaN-padded bags) and ``y`` (1-D or
        two columns), or with a split ``X_train``/``y_train``, ``X_test``/``y_test`` and
        optionally ``X_val``/``y_val`` (rows returned in train, val, test order; see
        :func:`predefined_split`); or ``.csv`` / ``.parquet`` (parquet needs
        ``pip install "skdir[parquet]"``) with the ``targets`` columns and numeric
        feature columns: one row per sample, or with ``group`` one row per fragment.
    targets : sequence of str, optional
        Target columns of a table (one or two; required there); ignored for .npz.
    group : str, optional
        Column naming the sample of every row of a fragment table: the rows of a
        sample become one bag (:func:`skdir.fragments.make_bags`), its fragments'
        targets one robust average.
    drop : sequence of str, default=()
        Columns to ignore.
    keep : sequence of str, default=()
        Columns to use as features even if they look like identifiers.
    target_aggregation : str, default="auto"
        How the fragment targets of a sample are averaged
        (:func:`skdir.fragments.aggregate_targets`; ``"auto"`` picks mean, Huber or
        median from how much the fragments of one sample disagree).

    Returns
    -------
    X : ndarray or list of ndarray
        One row, or one bag of fragments, per sample.
    y : ndarray of shape (n,) or (n, 2)
    target_names : list of str

    Raises
    ------
    UsageError
        For a missing file, an unknown format or column, an identifier column among
        the features, non-numeric features, NaN or infinite values, or fewer than 50
        samples.
    """
    table = read_table(
        path,
        targets,
        group=group,
        drop=drop,
        keep=keep,
        target_aggregation=target_aggregation,
    )
    return table.X, table.y, table.target_names


def read_table(
    path: str | Path,
    targets: Sequence[str] | None = None,
    *,
    group: str | None = None,
    drop: Sequence[str] = (),
    keep: Sequence[str] = (),
    target_aggregation: str = "auto",
    features: Sequence[str] | None = None,
    need_targets: bool = True,
) -> Table:
    """:func:`load_table` with everything it found (:class:`Table`).

    ``features`` (the columns a saved model was fitted on) and
    ``need_targets=False`` serve ``skdir predict``: the table must hold those
    columns, and needs no targets.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"Data file {str(path)!r} does not exist; pass an existing --data FILE.")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        if group is not None:
            raise UsageError("--group applies to a .csv/.parquet table of fragments, not .npz.")
        table = _read_npz(path, need_targets)
    elif suffix in (".csv", ".parquet"):
        table = _read_frame(
            path, targets, group, drop, keep, target_aggregation, features, need_targets
        )
    else:
        raise UsageError(f"Unknown data format {suffix!r}; use .npz, .csv or .parquet.")
    _check_data(table.X, table.y, path.name, need_targets)
    return table


def _read_npz(path: Path, need_targets: bool) -> Table:
    split = None
    with np.load(path, allow_pickle=False) as archive:
        parts = _split_parts(archive.files)
        if {"X", "y"} <= set(archive.files) or ("X" in archive.files and not need_targets):
            X = archive["X"]
            y = archive["y"] if "y" in archive.files else None
        elif parts:
            ys = [archive[f"y_{part}"] for part in parts]
            X = np.concatenate([archive[f"X_{part}"] for part in parts])
            y = np.concatenate(ys)
            split = _split_from_sizes([len(part) for part in ys])
        else:
            raise UsageError(
                f"{path.name} has arrays {sorted(archive.files)} but needs 'X' and 'y' "
                "(np.savez(file, X=X, y=y)) or a split: 'X_train', 'y_train', 'X_test', "
                "'y_test' and optionally 'X_val', 'y_val'."
            )
    if not np.issubdtype(X.dtype, np.number) or (
        y is not None and not np.issubdtype(y.dtype, np.number)
    ):
        raise UsageError(
            f"X and y in {path.name} must be numeric, got {X.dtype} and "
            f"{None if y is None else y.dtype}."
        )
    names = ["y"]
    if y is not None:
        y = np.asarray(y, dtype=float)
        names = ["y"] if y.ndim == 1 else [f"y{k}" for k in range(y.shape[1])]
    n_rows = len(X)
    if X.ndim == 3:
        X = [bag[~np.isnan(bag).all(axis=1)] for bag in np.asarray(X, dtype=float)]
    else:
        X = np.asarray(X, dtype=float)
    return Table(X, y, names, split=split, n_rows=n_rows)


def _split_parts(files: Sequence[str]) -> list[str]:
    """Return the parts of a split archive in row order (train, val, test), or []."""
    present = [
        part for part in ("train", "val", "test") if {f"X_{part}", f"y_{part}"} <= set(files)
    ]
    return present if {"train", "test"} <= set(present) else []


def predefined_split(path: str | Path) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Return the train/test split of an .npz archive as row indices of :func:`load_table`.

    An archive with ``X_train``, ``y_train``, ``X_test``, ``y_test`` (and optionally
    ``X_val``, ``y_val``) is read by :func:`load_table` as the rows of train, val and
    test in that order; this returns ``[(train and val rows, test rows)]``. The
    validation rows join the training rows: the networks hold out their own
    early-stopping split. ``None`` for any other file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skdir.cli import predefined_split
    >>> path = os.path.join(tempfile.mkdtemp(), "split.npz")
    >>> np.savez(path, X_train=np.zeros((3, 2)), y_train=np.zeros(3),
    ...          X_test=np.zeros((2, 2)), y_test=np.zeros(2))
    >>> [(train, test)] = predefined_split(path)
    >>> train.tolist(), test.tolist()
    ([0, 1, 2], [3, 4])
    """
    path = Path(path)
    if path.suffix.lower() != ".npz" or not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as archive:
        if {"X", "y"} <= set(archive.files):
            return None
        parts = _split_parts(archive.files)
        if not parts:
            return None
        return _split_from_sizes([len(archive[f"y_{part}"]) for part in parts])


def _split_from_sizes(sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """One (train and val rows, test rows) pair from the sizes of the archive's parts."""
    n_test, n_rows = sizes[-1], sum(sizes)
    return [(np.arange(n_rows - n_test), np.arange(n_rows - n_test, n_rows))]


def _read_frame(
    path: Path,
    targets: Sequence[str] | None,
    group: str | None,
    drop: Sequence[str],
    keep: Sequence[str],
    aggregation: str,
    features: Sequence[str] | None,
    need_targets: bool,
) -> Table:
    try:
        import pandas as pd
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise UsageError("Reading .csv/.parquet needs pandas: pip install pandas.") from error
    targets = list(targets or [])
    if need_targets and not targets:
        raise UsageError("A .csv/.parquet table needs its target columns: --target COL [COL].")
    if len(targets) > 2:
        raise UsageError(f"At most two targets are supported, got {len(targets)}: {targets}.")
    frame = _read_frame_file(path, pd)
    named = {"--target": targets, "--drop": list(drop), "--keep": list(keep)}
    if group is not None:
        named["--group"] = [group]
    for option, columns in named.items():
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            what = "target column(s)" if option == "--target" else f"{option} column(s)"
            raise UsageError(
                f"Unknown {what} {unknown}; the table has columns {_columns_text(frame)}."
            )
    if group is not None and group in targets:
        raise UsageError(f"--group {group!r} is also a --target; the sample id is not a target.")
    if features is not None:  # the columns a saved model was fitted on
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise UsageError(
                f"The table lacks {len(missing)} feature column(s) the model was fitted on: "
                f"{missing[:10]}{' ...' if len(missing) > 10 else ''}."
            )
        feature_frame = frame[list(features)]
    else:
        feature_frame = frame.drop(columns=[*targets, *drop, *([group] if group else [])])
        _refuse_id_columns(feature_frame, set(keep), pd)
    non_numeric = [
        c for c in feature_frame.columns if not pd.api.types.is_numeric_dtype(feature_frame[c])
    ]
    if non_numeric:
        raise UsageError(
            f"Feature columns {non_numeric} are not numeric; encode them (e.g. one-hot) "
            f"before running skdir, or leave them out with --drop {' '.join(non_numeric)}."
        )
    if feature_frame.shape[1] == 0:
        raise UsageError("The table has no feature columns besides the targets.")
    y = None
    if targets and all(t in frame.columns for t in targets):
        target_frame = frame[targets]
        non_numeric = [c for c in targets if not pd.api.types.is_numeric_dtype(target_frame[c])]
        if non_numeric:
            raise UsageError(f"Target columns {non_numeric} are not numeric.")
        y = target_frame.to_numpy(dtype=float)
        y = y[:, 0] if y.shape[1] == 1 else y
    X = feature_frame.to_numpy(dtype=float)
    table = Table(X, y, targets or ["y"], features=list(feature_frame.columns), n_rows=len(X))
    if group is None:
        return table
    return _group_fragments(table, frame[group], aggregation)


def _read_frame_file(path: Path, pd: Any) -> Any:
    """Read a .csv, or a .parquet through pyarrow, naming the extra that installs it."""
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path)
    if importlib.util.find_spec("pyarrow") is None:
        raise UsageError(
            "Reading .parquet needs pyarrow: pip install 'skdir[parquet]' (or pip install "
            "pyarrow), or save the table as .csv."
        )
    return pd.read_parquet(path, engine="pyarrow")


def _columns_text(frame: Any, limit: int = 12) -> str:
    columns = [str(c) for c in frame.columns]
    more = f" ... ({len(columns)} in all)" if len(columns) > limit else ""
    return str(columns[:limit])[:-1] + more + "]"


def _id_reason(column: Any, name: str, pd: Any) -> str | None:
    """Why a feature column looks like an identifier of samples, or None.

    Strings are identifiers when they repeat in runs of rows or are all distinct
    (a name per row), or take more than n/20 values; integers when the name reads
    like an id, when each of at least 20 values fills one run of at most 50
    consecutive rows on average (fragments of a sample stored together), or when
    they number the rows (all distinct, increasing). A real feature caught by
    this (a table sorted by an integer column) is used with ``--keep``.
    """
    values = column.to_numpy()
    n = len(values)
    n_unique = column.nunique(dropna=False)
    if n < 2 or n_unique < 2:
        return None
    changes = int((column != column.shift()).iloc[1:].sum())
    runs = changes + 1 == n_unique  # every value occupies one block of consecutive rows
    if not pd.api.types.is_numeric_dtype(column):
        if pd.api.types.is_bool_dtype(column):
            return None
        if n_unique == n:
            return f"holds text, a different value on every row ({n_unique} values)"
        if runs or n_unique > n / 20:
            return f"holds text with {n_unique} distinct values over {n} rows"
        return None
    if pd.api.types.is_bool_dtype(column) or not np.all(np.mod(values, 1) == 0):
        return None
    named = _ID_NAME.search(str(name).lower()) is not None
    if named:
        return f"is an integer column named like an identifier ({n_unique} values)"
    if runs and n_unique < n and n_unique >= 20 and n / n_unique <= 50:
        return (
            f"is constant over runs of consecutive rows ({n_unique} runs over {n} rows), "
            "like the sample id of a fragment table"
        )
    if n_unique == n and np.all(np.diff(values) > 0):
        return "numbers the rows (all distinct and increasing), like a saved index"
    return None


def _refuse_id_columns(features: Any, keep: set[str], pd: Any) -> None:
    found = {
        name: reason
        for name in features.columns
        if name not in keep and (reason := _id_reason(features[name], name, pd)) is not None
    }
    if not found:
        return
    name, reason = next(iter(found.items()))
    others = f" (also: {', '.join(map(repr, list(found)[1:]))})" if len(found) > 1 else ""
    keep_hint = (
        f" If it really is a feature, pass --keep {name}."
        if pd.api.types.is_numeric_dtype(features[name])
        else ""
    )
    raise UsageError(
        f"Column {name!r} {reason}: it looks like an identifier, not a feature, and a "
        f"model that learns it leaks{others}. If the rows are fragments of samples, pass "
        f"--group {name} (one bag per sample, robust per-sample targets, folds that never "
        f"split a sample); otherwise leave it out with --drop {name}.{keep_hint}"
    )


def _group_fragments(table: Table, groups: Any, aggregation: str) -> Table:
    """Bags and robust per-sample targets from the fragment rows of ``table``."""
    from .fragments import choose_target_aggregation, make_bags

    if groups.isna().any():
        raise UsageError(
            f"--group column {groups.name!r} has {int(groups.isna().sum())} empty value(s); "
            "every fragment needs the id of its sample."
        )
    ids = groups.to_numpy()
    if groups.dtype == object:
        ids = ids.astype(str)
    y = table.y
    method = aggregation
    if y is not None:
        if aggregation == "auto":
            method = choose_target_aggregation(y, ids)
        y_frag = y
    else:
        y_frag = None
    try:
        bags, y_sample, sample_ids = make_bags(
            table.X, ids, y_frag, target_aggregation=aggregation
        )
    except ValueError as error:
        raise UsageError(
            f"Building the bags of --group {groups.name!r} failed: {error}"
        ) from error
    table.X, table.y, table.ids = bags, y_sample, sample_ids
    table.group, table.aggregation = str(groups.name), method
    return table


def _check_data(X: Any, y: np.ndarray | None, name: str, need_targets: bool = True) -> None:
    n = len(X)
    rows = X if isinstance(X, list) else [X]
    if not all(np.isfinite(part).all() for part in rows):
        raise UsageError(f"{name}: X contains NaN or infinite values; impute or drop them first.")
    if not need_targets:
        return
    if y is None:
        raise UsageError(f"{name} has no targets.")
    if n != len(y):
        raise UsageError(f"{name}: X has {n} rows but y has {len(y)}.")
    if n < MIN_ROWS:
        raise UsageError(
            f"{name} has {n} {'samples' if isinstance(X, list) else 'rows'}; the benchmark "
            f"needs at least {MIN_ROWS} to cross-validate shot regions."
        )
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] > 2):
        raise UsageError(f"{name}: at most two targets are supported, y has shape {y.shape}.")
    if not np.isfinite(y).all():
        raise UsageError(f"{name}: y contains NaN or infinite values; drop those rows first.")


def run_demo(out: str | Path, *, n_samples: int = 1500, random_state: int = 0) -> Any:
    """Run the main job on generated data; return the comparison."""
    if n_samples < MIN_ROWS:
        raise UsageError(f"--n-samples must be at least {MIN_ROWS}, got {n_samples}.")
    from sklearn.model_selection import train_test_split

    from ._harness import compare_models, print_progress
    from .datasets import make_imbalanced_regression

    print_progress(
        f"generating {n_samples} samples: 2 modalities x 192 columns, bags of 2-6 fragments, "
        "two skewed targets"
    )
    bags, y, _ = make_imbalanced_regression(
        n_samples, 384, n_targets=2, n_modalities=2, n_fragments=(2, 6), random_state=random_state
    )
    train, test = train_test_split(np.arange(n_samples), test_size=0.3, random_state=random_state)
    models = build_models("quick", bags=True, n_targets=2, random_state=random_state)
    result = compare_models(
        models,
        bags,
        y,
        [(train, test)],
        target_names=["target_a", "target_b"],
        progress=print_progress,
    )
    _finish(
        result,
        out,
        title="skdir demo: generated fragment data, two skewed targets",
        notes=[
            f"{n_samples} samples (bags of 2-6 fragments, 384 columns), 70/30 split, "
            f"seed {random_state}; {REGION_NOTE}"
        ],
    )
    return result


#: How the tables' shot regions are made (see skdir._harness).
REGION_NOTE = (
    "shot regions per target from the training targets of each split: 50 equal-width "
    "bins (aligned on the label grid when the labels are discrete); many-shot bins hold "
    "more training rows than the mean occupied bin, few-shot bins fewer than a fifth of "
    "it; '-' marks a region with fewer than 10 held-out rows."
)


def run_benchmark(
    data: str | Path,
    *,
    targets: Sequence[str] | None = None,
    suite: str = "auto",
    out: str | Path = "skdir-benchmark",
    n_splits: int | None = None,
    random_state: int = 0,
    group: str | None = None,
    drop: Sequence[str] = (),
    keep: Sequence[str] = (),
    target_aggregation: str = "auto",
    preset: str = "fast",
    time_budget: float | None = None,
    save_model: bool = True,
) -> Any:
    """Cross-validate the models on the user's table, fit and save the recommended one.

    The comparison (:func:`skdir._harness.compare_models`) is returned. Unless
    ``save_model=False``, the recommended model (``"AutoDIR"``: AutoDIRRegressor in a
    CV+ ConformalDIRRegressor) is then fitted on every sample (on the training rows
    of an archive's own split: the fit that was evaluated) and saved to
    ``out/model.skdir`` by :func:`skdir.persistence.save_model` with the columns it
    needs; its leaderboard is printed and drawn.
    """
    from sklearn.base import clone
    from sklearn.model_selection import KFold

    from ._harness import compare_models, print_progress

    table = read_table(
        data,
        targets,
        group=group,
        drop=drop,
        keep=keep,
        target_aggregation=target_aggregation,
    )
    X, y, names = table.X, table.y, table.target_names
    n_targets = 1 if y.ndim == 1 else y.shape[1]
    unit = "samples" if table.group else "rows"
    if table.split is not None:
        splits = table.split
        train, test = splits[0]
        evaluation = (
            f"the archive's split: {len(train)} training (train + val) / {len(test)} test rows"
        )
    else:
        n_splits = n_splits or (3 if suite in ("auto", "quick") else 5)
        splits = list(
            KFold(n_splits, shuffle=True, random_state=random_state).split(np.arange(len(y)))
        )
        evaluation = (
            f"{n_splits}-fold cross-validation over {unit} (shuffled, seed {random_state})"
        )
        if table.group:
            evaluation += "; the fragments of a sample are never split across folds"
    source = f"{len(y)} {unit}"
    if table.group:
        source = (
            f"{table.n_rows} fragments of {len(y)} samples (--group {table.group}), targets "
            f"averaged per sample by {_method_text(table.aggregation, names)}"
        )
    print_progress(
        f"{Path(data).name}: {source}, {n_targets} target(s) {names}, {evaluation}, "
        f"suite {suite!r}, AutoDIRRegressor preset {preset!r}"
    )
    models = build_models(
        suite,
        bags=isinstance(X, list),
        n_targets=n_targets,
        random_state=random_state,
        preset=preset,
        time_budget=time_budget,
    )
    result = compare_models(
        models,
        X,
        y,
        splits,
        target_names=names,
        keep_fitted=save_model and table.split is not None,
        progress=print_progress,
    )
    final = None
    if save_model:
        if table.split is not None:
            final = result.fitted["AutoDIR"]
        else:
            print_progress(f"fitting the recommended model (AutoDIR) on all {len(y)} {unit}")
            final = clone(models["AutoDIR"]).fit(X, y)
    _finish(
        result,
        out,
        title=f"skdir benchmark: {Path(data).name}",
        notes=[f"{source}; {evaluation}; suite {suite!r}, preset {preset!r}; {REGION_NOTE}"],
        final=final,
        table=table,
        data=data,
    )
    return result


def _method_text(method: Any, names: Sequence[str]) -> str:
    if isinstance(method, list | tuple):
        return ", ".join(f"{m} ({n})" for m, n in zip(method, names, strict=True))
    return str(method)


def _finish(
    result: Any,
    out: str | Path,
    *,
    title: str,
    notes: list[str],
    final: Any = None,
    table: Table | None = None,
    data: str | Path | None = None,
) -> None:
    out = Path(out)
    sizes = _region_lines(result)
    print("\nShot regions (held-out rows over all splits; bins of the first split):")
    print("\n".join(sizes))
    for metric in ("mae", "mse"):
        print(
            f"\n{metric.upper()} per shot region, each target on its own scale "
            "(balanced: every training bin weighs the same)"
        )
        print(result.table(metric))
    paths = result.write(out, title=title, notes=notes)
    report = out / "report.md"
    extra = ["", "## Shot regions", "", *[f"- {line.strip()}" for line in sizes]]
    if final is not None:
        board_text = _print_leaderboard(final, result.target_names)
        paths.append(_plot_leaderboard(final, result.target_names, out / "leaderboard.png"))
        info = _save(final, table, result.target_names, out / MODEL_FILE, data)
        paths.append(out / MODEL_FILE)
        extra += [
            "",
            "## Recommended model (AutoDIRRegressor), fitted on all samples",
            "",
            "Leaderboard: out-of-fold errors of every candidate on the training rows.",
            "",
            "```",
            board_text,
            "```",
            "",
            "![leaderboard](leaderboard.png)",
            "",
            f"Saved to `{MODEL_FILE}` (SHA-256 `{info['sha256']}`); "
            f"`skdir predict --model {MODEL_FILE} --data FILE --out predictions.csv`.",
        ]
    report.write_text(report.read_text() + "\n".join(extra) + "\n")
    print(f"\nwrote {', '.join(str(p) for p in paths)}")


def _region_lines(result: Any) -> list[str]:
    lines = []
    for name, counts in result.region_sizes().items():
        rule = result.regions[0][name]
        lines.append(
            f"  {name}: many {counts['many']}, medium {counts['medium']}, few {counts['few']} "
            f"(bins {rule['bin_width']:.4g} wide; many > {rule['many']:.3g}, few < "
            f"{rule['few']:.3g} training rows per bin)"
        )
    return lines


def _auto_step(final: Any) -> Any:
    """Return the fitted AutoDIRRegressor inside the saved pipeline."""
    last = final[-1] if hasattr(final, "steps") else final
    return getattr(last, "estimator_", last)


def _print_leaderboard(final: Any, names: Sequence[str]) -> str:
    auto = _auto_step(final)
    board = auto.leaderboard_
    columns = {"name": "model", "weight": "weight"}
    # AutoDIRRegressor's own shot regions use absolute counts (100/20 rows in 50 bins):
    # on a thousand rows every bin is few-shot, so only all and balanced are shown here
    if len(names) == 1:
        columns.update({key: f"{names[0]} {key}" for key in ("all", "balanced")})
    else:
        for k, name in enumerate(names):
            columns.update({f"{key}_{k}": f"{name} {key}" for key in ("all", "balanced")})
    columns["fit_s"] = "fit s"
    frame = {label: list(board[key]) for key, label in columns.items()}
    rows = [[_cell(v) for v in row] for row in zip(*frame.values(), strict=True)]
    header = list(frame)
    widths = [max(len(c) for c in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))]
    for row, chosen in zip(rows, board["chosen"], strict=True):
        line = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
        lines.append(line + ("  <- used" if chosen else ""))
    text = "\n".join(lines)
    print(
        f"\nAutoDIRRegressor leaderboard ({auto.metric.upper()} of out-of-fold predictions of "
        f"the training rows, each target on its own scale; selected: {auto.selected_})"
    )
    print(text)
    return text


def _cell(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else ""
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def _plot_leaderboard(final: Any, names: Sequence[str], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .auto import plot_leaderboard

    fig, axes = plt.subplots(
        1, len(names), figsize=(6.5 * len(names), 5), squeeze=False, layout="constrained"
    )
    plot_leaderboard(_auto_step(final), ax=list(axes[0]), target_names=list(names))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _save(
    final: Any, table: Table | None, names: Sequence[str], path: Path, data: Any
) -> dict[str, Any]:
    from .persistence import save_model

    metadata = {
        "saved_by": "skdir benchmark",
        "data": Path(data).name if data is not None else None,
        "targets": list(names),
        "features": table.features if table is not None else None,
        "group": table.group if table is not None else None,
        "target_aggregation": table.aggregation if table is not None else None,
        "bags": isinstance(table.X, list) if table is not None else False,
    }
    info = save_model(final, path, metadata=metadata)
    print(
        f"\nsaved the recommended model to {path} (SHA-256 {info['sha256']}; keep it to check "
        "the file before loading: skdir.persistence.load_model(path, sha256=...))"
    )
    return info


def run_predict(
    model: str | Path,
    data: str | Path,
    *,
    out: str | Path = "predictions.csv",
    group: str | None = None,
    alpha: float | None = None,
    strict: bool = False,
) -> Any:
    """Predict the samples of ``data`` with a model saved by ``skdir benchmark``.

    Writes one row per sample (per group id with ``--group``): the id, the
    prediction of every target and, when the model gives intervals (a
    :class:`~skdir.conformal.ConformalDIRRegressor`, as ``skdir benchmark`` saves),
    their bounds at level ``1 - alpha`` (default 0.1). Returns the table written.
    """
    import pandas as pd

    from .persistence import load_model

    model_path = Path(model)
    if not model_path.is_file():
        raise UsageError(f"Model file {str(model_path)!r} does not exist; pass --model FILE.")
    try:
        fitted, info = load_model(model_path, strict=strict, return_info=True)
    except ValueError as error:
        raise UsageError(str(error)) from error
    meta = info.get("metadata", {})
    names = meta.get("targets") or ["y"]
    group = group or meta.get("group")
    if meta.get("bags") and group is None and Path(data).suffix.lower() != ".npz":
        raise UsageError(
            "The model was fitted on bags of fragments; pass --group COL, the column "
            "naming the sample of every fragment row."
        )
    table = read_table(
        data,
        None,
        group=group if Path(data).suffix.lower() != ".npz" else None,
        features=meta.get("features"),
        need_targets=False,
    )
    prediction = np.asarray(fitted.predict(table.X), dtype=float).reshape(len(table.X), -1)
    ids = table.ids if table.ids is not None else np.arange(len(table.X))
    frame = pd.DataFrame({table.group or "row": ids})
    for k, name in enumerate(names):
        frame[name] = prediction[:, k]
    last = fitted[-1] if hasattr(fitted, "steps") else fitted
    if hasattr(last, "predict_interval"):
        level = 0.1 if alpha is None else alpha
        steps = getattr(fitted, "steps", [])
        inputs = fitted[:-1].transform(table.X) if len(steps) > 1 else table.X
        try:
            intervals = np.asarray(last.predict_interval(inputs, alpha=level))
        except ValueError as error:
            raise UsageError(f"--alpha {level}: {error}") from error
        intervals = intervals.reshape(len(table.X), len(names), 2)
        for k, name in enumerate(names):
            frame[f"{name}_lower"] = intervals[:, k, 0]
            frame[f"{name}_upper"] = intervals[:, k, 1]
        what = f"predictions and {100 * (1 - level):g}% intervals"
    else:
        if alpha is not None:
            print(
                f"skdir predict: the saved model ({info['model_class']}) gives no intervals; "
                "writing predictions only (skdir benchmark saves a ConformalDIRRegressor).",
                file=sys.stderr,
            )
        what = "predictions"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        if importlib.util.find_spec("pyarrow") is None:
            raise UsageError("Writing .parquet needs pyarrow: pip install 'skdir[parquet]'.")
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    source = f"{len(frame)} samples"
    if table.group:
        source += f" ({table.n_rows} fragments grouped by {table.group})"
    print(f"wrote {what} of {source} to {out}")
    return frame


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skdir", description="Deep imbalanced regression: demo, benchmark and predict."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="the main job on generated fragment data")
    demo.add_argument("--out", default="skdir-demo", help="output folder (default: skdir-demo)")
    demo.add_argument("--n-samples", type=int, default=1500, help="samples (default: 1500)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    bench = commands.add_parser(
        "benchmark",
        help="cross-validate the recommended model on your table and save it",
        description="Cross-validate the recommended model (AutoDIRRegressor with CV+ "
        "intervals) on your table, print each target's errors per shot region and the "
        "leaderboard, write the report, the plots and the model fitted on all samples.",
    )
    bench.add_argument(
        "--data", required=True, help=".csv, .parquet (pip install 'skdir[parquet]') or .npz"
    )
    bench.add_argument("--target", nargs="+", help="target column(s) of a .csv/.parquet table")
    bench.add_argument(
        "--group",
        metavar="COL",
        help="rows are fragments of the sample named in COL: one bag per sample, robust "
        "per-sample targets, folds that never split a sample",
    )
    bench.add_argument(
        "--target-aggregation",
        choices=AGGREGATIONS,
        default="auto",
        help="average of a sample's fragment targets with --group (default: auto)",
    )
    bench.add_argument("--drop", nargs="+", default=[], metavar="COL", help="columns to ignore")
    bench.add_argument(
        "--keep",
        nargs="+",
        default=[],
        metavar="COL",
        help="use these columns as features even if they look like identifiers",
    )
    bench.add_argument(
        "--suite",
        choices=SUITES,
        default="auto",
        help="auto: the recommended model alone (default); quick/full add hand-built alternatives",
    )
    bench.add_argument(
        "--preset", choices=PRESETS, default="fast", help="AutoDIRRegressor preset (default: fast)"
    )
    bench.add_argument(
        "--time-budget", type=float, default=None, help="seconds per AutoDIRRegressor fit"
    )
    bench.add_argument("--out", default="skdir-benchmark", help="output folder")
    bench.add_argument("--splits", type=int, default=None, help="CV folds (auto/quick 3, full 5)")
    bench.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    bench.add_argument(
        "--no-model",
        action="store_true",
        help="do not fit and save the model on all samples (saves one fit)",
    )
    predict = commands.add_parser(
        "predict",
        help="predict new samples with a model saved by skdir benchmark",
        description="Write predictions (and intervals, when the model gives them) for the "
        "samples of a table, with a model file saved by skdir benchmark. Loading a model "
        "file runs code from it: load only files you trust.",
    )
    predict.add_argument("--model", required=True, help="model file (model.skdir)")
    predict.add_argument("--data", required=True, help=".csv, .parquet or .npz")
    predict.add_argument(
        "--group", metavar="COL", help="sample id column (default: the one of the benchmark)"
    )
    predict.add_argument(
        "--alpha",
        type=float,
        default=None,
        help="intervals at level 1 - alpha when the model gives them (default: 0.1)",
    )
    predict.add_argument(
        "--out", default="predictions.csv", help=".csv or .parquet (default: predictions.csv)"
    )
    predict.add_argument(
        "--strict",
        action="store_true",
        help="refuse a model saved with other versions of skdir/scikit-learn/torch",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skdir`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    start = time.perf_counter()
    try:
        if args.command == "demo":
            run_demo(args.out, n_samples=args.n_samples, random_state=args.seed)
        elif args.command == "benchmark":
            run_benchmark(
                args.data,
                targets=args.target,
                suite=args.suite,
                out=args.out,
                n_splits=args.splits,
                random_state=args.seed,
                group=args.group,
                drop=args.drop,
                keep=args.keep,
                target_aggregation=args.target_aggregation,
                preset=args.preset,
                time_budget=args.time_budget,
                save_model=not args.no_model,
            )
        else:
            run_predict(
                args.model,
                args.data,
                out=args.out,
                group=args.group,
                alpha=args.alpha,
                strict=args.strict,
            )
    except UsageError as error:
        print(f"skdir {args.command}: error: {error}", file=sys.stderr)
        return 2
    print(f"done in {time.perf_counter() - start:.0f} s")
    return 0
