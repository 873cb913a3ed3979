"""The ``skdir`` command: ``skdir demo`` and ``skdir benchmark``.

``skdir demo`` runs the main job on generated multimodal fragment data with two
skewed targets; ``skdir benchmark --data FILE`` runs the same comparison, cross-
validated, on a table of the user's. Both print the all / many / medium / few-shot
and balanced errors per target and write a markdown report, a JSON of every figure
and the plots to ``--out``.

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
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

SUITES = ("quick", "full")
MIN_ROWS = 50


class UsageError(ValueError):
    """A problem with the command line or the input file, reported without a traceback."""


def build_models(
    suite: str = "quick",
    *,
    bags: bool = False,
    n_targets: int = 1,
    random_state: int = 0,
    max_epochs: int = 256,
) -> dict[str, Any]:
    """Build the models that ``skdir demo`` and ``skdir benchmark`` compare.

    Parameters
    ----------
    suite : {"quick", "full"}, default="quick"
        ``"quick"``: the recommended model,
        :class:`~skdir.auto.AutoDIRRegressor` (preset ``"fast"``: ridge,
        HistGradientBoosting and the default network, plain and with LDS weights,
        as 3-fold bags chosen on out-of-fold balanced error), then the hand-built
        alternatives: HistGradientBoosting, the default network
        (:class:`~skdir.nn.DIRRegressor`), the network with FDS, and the full DIR
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

    Returns
    -------
    dict of str to estimator
        Unfitted models by display name.

    Examples
    --------
    >>> from skdir.cli import build_models
    >>> list(build_models("quick"))
    ['AutoDIR', 'HistGradientBoosting', 'Network', 'Network+FDS', 'Network+SMOGN+LDS+FDS']
    """
    from imblearn.pipeline import make_pipeline
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import RidgeCV
    from sklearn.multioutput import MultiOutputRegressor
    from sklearn.preprocessing import StandardScaler

    from .auto import AutoDIRRegressor
    from .nn import DIRRegressor, FeatureDistributionSmoothing
    from .resampling import SMOGN
    from .target import TargetDistributionNormalizer
    from .weighting import DensityWeightedRegressor, LDSWeighter

    if suite not in SUITES:
        raise UsageError(f"suite must be one of {SUITES}, got {suite!r}.")

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
    auto = AutoDIRRegressor("fast", random_state=random_state)
    models = {
        "AutoDIR": make_pipeline(*first_steps(), auto),
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


def load_table(path: str | Path, targets: Sequence[str] | None = None) -> tuple:
    """Read ``X``, ``y`` and the target names from an .npz, .csv or .parquet file.

    Parameters
    ----------
    path : str or Path
        ``.npz`` with arrays ``X`` (2-D, or 3-D NaN-padded bags) and ``y`` (1-D or
        two columns), or with a split ``X_train``/``y_train``, ``X_test``/``y_test`` and
        optionally ``X_val``/``y_val`` (rows returned in train, val, test order; see
        :func:`predefined_split`); or ``.csv`` / ``.parquet`` with one row per sample, the
        ``targets`` columns and numeric feature columns.
    targets : sequence of str, optional
        Target columns of a table (one or two; required there); ignored for .npz.

    Returns
    -------
    X : ndarray
    y : ndarray of shape (n,) or (n, 2)
    target_names : list of str

    Raises
    ------
    UsageError
        For a missing file, an unknown format or column, non-numeric features,
        NaN or infinite values, or fewer than 50 rows.
    """
    return _read_table(path, targets)[:3]


def _read_table(path: str | Path, targets: Sequence[str] | None) -> tuple:
    """:func:`load_table`, plus the archive's split (:func:`predefined_split`) or None."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"Data file {str(path)!r} does not exist; pass an existing --data FILE.")
    suffix = path.suffix.lower()
    split = None
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            parts = _split_parts(archive.files)
            if {"X", "y"} <= set(archive.files):
                X, y = archive["X"], archive["y"]
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
        if not (np.issubdtype(X.dtype, np.number) and np.issubdtype(y.dtype, np.number)):
            raise UsageError(
                f"X and y in {path.name} must be numeric, got {X.dtype} and {y.dtype}."
            )
        y = np.asarray(y, dtype=float)
        names = ["y"] if y.ndim == 1 else [f"y{k}" for k in range(y.shape[1])]
        if X.ndim == 3:
            X = [bag[~np.isnan(bag).all(axis=1)] for bag in np.asarray(X, dtype=float)]
        else:
            X = np.asarray(X, dtype=float)
    elif suffix in (".csv", ".parquet"):
        X, y, names = _read_frame(path, targets)
    else:
        raise UsageError(f"Unknown data format {suffix!r}; use .npz, .csv or .parquet.")
    _check_data(X, y, path.name)
    return X, y, names, split


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


def _read_frame(path: Path, targets: Sequence[str] | None) -> tuple:
    try:
        import pandas as pd
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise UsageError("Reading .csv/.parquet needs pandas: pip install pandas.") from error
    if not targets:
        raise UsageError("A .csv/.parquet table needs its target columns: --target COL [COL].")
    if len(targets) > 2:
        raise UsageError(f"At most two targets are supported, got {len(targets)}: {targets}.")
    try:
        frame = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except ImportError as error:
        raise UsageError(f"Reading parquet needs pyarrow or fastparquet: {error}") from error
    unknown = [t for t in targets if t not in frame.columns]
    if unknown:
        raise UsageError(
            f"Unknown target column(s) {unknown}; the table has columns {list(frame.columns)}."
        )
    features = frame.drop(columns=list(targets))
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise UsageError(
            f"Feature columns {non_numeric} are not numeric; encode them (e.g. one-hot) "
            "or drop them before running the benchmark."
        )
    if features.shape[1] == 0:
        raise UsageError("The table has no feature columns besides the targets.")
    target_frame = frame[list(targets)]
    non_numeric = [c for c in targets if not pd.api.types.is_numeric_dtype(target_frame[c])]
    if non_numeric:
        raise UsageError(f"Target columns {non_numeric} are not numeric.")
    y = target_frame.to_numpy(dtype=float)
    return features.to_numpy(dtype=float), (y[:, 0] if y.shape[1] == 1 else y), list(targets)


def _check_data(X: Any, y: np.ndarray, name: str) -> None:
    n = len(X)
    if n != len(y):
        raise UsageError(f"{name}: X has {n} rows but y has {len(y)}.")
    if n < MIN_ROWS:
        raise UsageError(
            f"{name} has {n} rows; the benchmark needs at least {MIN_ROWS} to cross-validate "
            "shot regions."
        )
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] > 2):
        raise UsageError(f"{name}: at most two targets are supported, y has shape {y.shape}.")
    if not np.isfinite(y).all():
        raise UsageError(f"{name}: y contains NaN or infinite values; drop those rows first.")
    rows = X if isinstance(X, list) else [X]
    if not all(np.isfinite(part).all() for part in rows):
        raise UsageError(f"{name}: X contains NaN or infinite values; impute or drop them first.")


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
            f"seed {random_state}; shot regions from the training targets (30 bins per "
            "target; many > 100, few < 20 training samples per bin)."
        ],
    )
    return result


def run_benchmark(
    data: str | Path,
    *,
    targets: Sequence[str] | None = None,
    suite: str = "quick",
    out: str | Path = "skdir-benchmark",
    n_splits: int | None = None,
    random_state: int = 0,
) -> Any:
    """Run the cross-validated comparison on the user's table; return the comparison."""
    from sklearn.model_selection import KFold

    from ._harness import compare_models, print_progress

    X, y, names, given_split = _read_table(data, targets)
    n_targets = 1 if y.ndim == 1 else y.shape[1]
    if given_split is not None:
        splits = given_split
        train, test = given_split[0]
        evaluation = (
            f"the archive's split: {len(train)} training (train + val) / {len(test)} test rows"
        )
    else:
        n_splits = n_splits or (3 if suite == "quick" else 5)
        splits = KFold(n_splits, shuffle=True, random_state=random_state).split(np.arange(len(y)))
        evaluation = f"{n_splits}-fold cross-validation (shuffled, seed {random_state})"
    print_progress(
        f"{Path(data).name}: {len(y)} rows, {n_targets} target(s) {names}, {evaluation}, "
        f"suite {suite!r}"
    )
    models = build_models(
        suite, bags=isinstance(X, list), n_targets=n_targets, random_state=random_state
    )
    result = compare_models(models, X, y, splits, target_names=names, progress=print_progress)
    _finish(
        result,
        out,
        title=f"skdir benchmark: {Path(data).name}",
        notes=[
            f"{len(y)} rows, {evaluation}, suite {suite!r}; shot regions from the training "
            "targets of each split (30 bins per target; many > 100, few < 20 training "
            "samples per bin)."
        ],
    )
    return result


def _finish(result: Any, out: str | Path, *, title: str, notes: list[str]) -> None:
    for metric in ("mae", "mse"):
        print(f"\n{metric.upper()} per shot region (balanced: every training bin weighs the same)")
        print(result.table(metric))
    paths = result.write(out, title=title, notes=notes)
    print(f"\nwrote {', '.join(str(p) for p in paths)}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skdir", description="Deep imbalanced regression: demo and benchmark."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="the main job on generated fragment data")
    demo.add_argument("--out", default="skdir-demo", help="output folder (default: skdir-demo)")
    demo.add_argument("--n-samples", type=int, default=1500, help="samples (default: 1500)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    bench = commands.add_parser("benchmark", help="compare the models on your own table")
    bench.add_argument("--data", required=True, help=".npz (X, y), .csv or .parquet file")
    bench.add_argument("--target", nargs="+", help="target column(s) of a .csv/.parquet table")
    bench.add_argument("--suite", choices=SUITES, default="quick", help="models (default: quick)")
    bench.add_argument("--out", default="skdir-benchmark", help="output folder")
    bench.add_argument("--splits", type=int, default=None, help="CV folds (quick 3, full 5)")
    bench.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skdir`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    start = time.perf_counter()
    try:
        if args.command == "demo":
            run_demo(args.out, n_samples=args.n_samples, random_state=args.seed)
        else:
            run_benchmark(
                args.data,
                targets=args.target,
                suite=args.suite,
                out=args.out,
                n_splits=args.splits,
                random_state=args.seed,
            )
    except UsageError as error:
        print(f"skdir {args.command}: error: {error}", file=sys.stderr)
        return 2
    print(f"done in {time.perf_counter() - start:.0f} s")
    return 0
