"""Benchmark of skdir.resampling: speed against smogn 0.1.2, fidelity, usefulness.

Three printed tables:

1. **Speed.** skdir's SMOGN against the ``smogn`` package (PyPI 0.1.2) on the same
   generated skewed data (X ~ N(0, I_d); y = exp(0.8 z + 0.3 e) with z a standardised
   nonlinear score of the first 8 columns; the box-plot relevance marks about 16 % of
   the rows rare, all in the upper tail) at n x d = 1,000 x 20 and 2,000 x 768, and
   skdir alone at 100,000 x 768 (wall and CPU seconds and peak resident memory of a
   fresh subprocess). skdir is timed as the median of 3 calls after a warm-up call.
2. **Fidelity.** Rows per segment before and after resampling against the paper's
   rule ("balance": every segment to round(n / n_segments); "extreme": sizes
   proportional to 1 / size), and the rare share before and after. "rows made" counts
   output rows by the segment of their parent (exactly the rule); "after (by output
   y)" recounts them by target value, cutting halfway between segments, so SMOGN's
   target noise can move a few rows across a boundary. smogn's output is counted
   the same way when it ran (on skdir's segments).
3. **Usefulness.** A fixed regressor with and without each sampler inside an
   ``imblearn.pipeline.Pipeline``: 5-fold CV on the tabular imbalanced-regression sets
   in ``../shared/datasets`` (median imputation of the 9999 codes, standard scaling,
   nominal columns ordinal-encoded and passed as ``categorical_features``,
   HistGradientBoostingRegressor), and the official train/test split of STS-B-DIR
   (Ridge on the pair features ``[|e1 - e2|, e1 * e2]``). Errors: MAE over all test
   rows, MAE on the test rows whose training relevance is >= 0.5 ("rare"), few-shot
   MAE (training-bin count < 20), balanced (bin-uniform) MAE and SERA
   (sum of phi * squared error, phi fitted on the training fold).

The ``smogn`` package no longer runs on NumPy >= 2.4, so it is timed in a throwaway
virtual environment; skdir does not depend on it::

    python -m venv /tmp/smogn-venv
    /tmp/smogn-venv/bin/pip install "numpy<2" pandas smogn==0.1.2
    python benchmarks/bench_resampling.py --smogn-python /tmp/smogn-venv/bin/python

Without ``--smogn-python`` (or the ``SKDIR_SMOGN_PYTHON`` environment variable, which
``run_all.py`` passes on) the smogn columns are left empty. smogn gets
``--smogn-timeout`` seconds (wall) per case; a killed run is reported as a lower bound.
``--quick`` runs the small speed case, a 20,000 x 768 memory case, and the usefulness
suite on three small sets only; ``--datasets stsb abalone ...`` picks usefulness sets
(rows are printed as each set finishes). Run from the repository root.

On a shared machine wall seconds measure the load more than the code: compare CPU
seconds. With ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1`` the CPU seconds of the
large case are its single-core time, an upper bound of its wall time on 2 idle cores
(multi-threaded BLAS/OpenMP on an oversubscribed machine inflates CPU seconds by
spinning).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"

TABULAR = {
    # name: (file, nominal column names)
    "abalone": ("abalone/Abalone.csv", ["Sex"]),
    "bank8FM": ("bank8FM/bank8FM.csv", []),
    "cpuSm": ("cpuSm/cpuSm.csv", []),
    "fuelCons": ("fuelCons/fuelCons.csv", None),  # None: every non-numeric column
    "heat": ("heat/heat.csv", None),
    "machineCpu": ("machineCpu/machineCpu.csv", []),
}


# --------------------------------------------------------------------------- data
def make_skewed(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return X ~ N(0, I_d) and a right-skewed y = exp(0.8 z + 0.3 e)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    z = X[:, :5] @ np.array([0.6, -0.4, 0.3, 0.2, -0.2])
    z += 0.5 * np.sin(2 * X[:, 5]) + 0.3 * X[:, 6] * X[:, 7]
    z = (z - z.mean()) / z.std()
    y = np.exp(0.8 * z + 0.3 * rng.standard_normal(n))
    return X, y


# --------------------------------------------------------------------------- speed
_SMOGN_CHILD = textwrap.dedent(
    """
    import json, random, resource, sys, time
    import numpy as np, pandas as pd, smogn
    X = np.load(sys.argv[1]); y = np.load(sys.argv[2])
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["y"] = y
    np.random.seed(0); random.seed(0)
    cpu, wall = time.process_time(), time.perf_counter()
    out = smogn.smoter(data=frame, y="y")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    np.save(sys.argv[3], out["y"].to_numpy(dtype=float))
    syn = out.drop(columns="y").to_numpy(dtype=float)
    print("RESULT " + json.dumps({"cpu": cpu, "wall": wall, "rows": len(out),
          "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
          "zero_frac": float(np.mean(syn == 0))}))
    """
)

_SKDIR_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np
    sys.path.insert(0, sys.argv[4])
    from bench_resampling import make_skewed
    from skdir.resampling import SMOGN
    n, d = int(sys.argv[1]), int(sys.argv[2])
    X, y = make_skewed(n, d, seed=0)
    if sys.argv[3] == "float32":
        X = X.astype(np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sampler = SMOGN(random_state=0)
    cpu, wall = time.process_time(), time.perf_counter()
    X_res, y_res = sampler.fit_resample(X, y)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print("RESULT " + json.dumps({"cpu": cpu, "wall": wall, "rows": len(y_res),
          "rss_before_mb": before,
          "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
          "n_rare": int(sampler.segment_counts_[sampler.segment_rare_].sum()),
          "interp": sampler.n_interpolated_, "noise": sampler.n_noise_}))
    """
)


def _result(stdout: str) -> dict:
    for line in stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"no RESULT line in output:\n{stdout[-2000:]}")


def run_smogn(python: str, X: np.ndarray, y: np.ndarray, timeout: float) -> dict:
    """Time smogn.smoter in the given interpreter; {'timeout': s} if killed."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, name) for name in ("X.npy", "y.npy", "out.npy")]
        np.save(paths[0], X)
        np.save(paths[1], y)
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [python, "-c", _SMOGN_CHILD, *paths],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"timeout": time.perf_counter() - start}
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
        result = _result(done.stdout)
        result["y_out"] = np.load(paths[2])
        return result


def time_skdir(X: np.ndarray, y: np.ndarray, repeats: int = 3) -> dict:
    """Median wall and CPU seconds of skdir's SMOGN over ``repeats`` calls (after a warm-up)."""
    from skdir.resampling import SMOGN

    SMOGN(random_state=0).fit_resample(X[:300], y[:300])
    walls, cpus = [], []
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        sampler = SMOGN(random_state=0)
        _, y_res = sampler.fit_resample(X, y)
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return {
        "wall": float(np.median(walls)),
        "cpu": float(np.median(cpus)),
        "rows": len(y_res),
        "y_out": y_res,
        "sampler": sampler,
    }


def run_skdir_subprocess(n: int, d: int, dtype: str) -> dict:
    here = str(Path(__file__).resolve().parent)
    done = subprocess.run(
        [sys.executable, "-c", _SKDIR_CHILD, str(n), str(d), dtype, here],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return _result(done.stdout)


def speed_table(args: argparse.Namespace) -> dict:
    cases = [(1000, 20)] if args.quick else [(1000, 20), (2000, 768)]
    print("\n## 1. Speed: SMOGN on the same skewed data (defaults, 'balance', k=5)\n")
    print(
        "| n x d | smogn 0.1.2 CPU s (wall s) | skdir CPU s (wall s) | speed-up CPU / CPU "
        "(wall / wall) | rows out smogn / skdir | smogn zero cells |"
    )
    print("|---|---|---|---|---|---|")
    outputs = {}
    for n, d in cases:
        X, y = make_skewed(n, d)
        ours = time_skdir(X, y)
        theirs = {}
        if args.smogn_python:
            theirs = run_smogn(args.smogn_python, X, y, args.smogn_timeout)
        outputs[(n, d)] = (X, y, ours, theirs)
        if "cpu" in theirs:
            smogn_cell = f"{theirs['cpu']:.1f} ({theirs['wall']:.1f})"
            speedup = (
                f"{theirs['cpu'] / ours['cpu']:,.0f}x ({theirs['wall'] / ours['wall']:,.0f}x)"
            )
            rows = f"{theirs['rows']} / {ours['rows']}"
            zeros = f"{100 * theirs['zero_frac']:.0f} %"
        elif "timeout" in theirs:
            smogn_cell = f"> {theirs['timeout']:.0f} (killed)"
            speedup = f"(> {theirs['timeout'] / ours['wall']:,.0f}x)"
            rows, zeros = f"- / {ours['rows']}", "-"
        else:
            smogn_cell = theirs.get("error", "not run")
            speedup, rows, zeros = "-", f"- / {ours['rows']}", "-"
        print(
            f"| {n:,} x {d} | {smogn_cell} | {ours['cpu']:.3f} ({ours['wall']:.3f}) | "
            f"{speedup} | {rows} | {zeros} |"
        )
    print(
        "\nskdir SMOGN alone, fresh subprocess per case (peak RSS includes the interpreter, "
        "imports, X and the output):\n"
    )
    print(
        "| n x d | X dtype | wall s | CPU s | peak RSS MB (before call) | rows out | rare rows "
        "| interpolated / noise |"
    )
    print("|---|---|---|---|---|---|---|---|")
    big = (
        [(20000, 768, "float64")]
        if args.quick
        else [
            (100000, 768, "float64"),
            (100000, 768, "float32"),
        ]
    )
    for n, d, dtype in big:
        r = run_skdir_subprocess(n, d, dtype)
        print(
            f"| {n:,} x {d} | {dtype} | {r['wall']:.1f} | {r['cpu']:.1f} | "
            f"{r['rss_mb']:,.0f} ({r['rss_before_mb']:,.0f}) | {r['rows']:,} | "
            f"{r['n_rare']:,} | {r['interp']:,} / {r['noise']:,} |"
        )
    print(f"\n(machine: {os.cpu_count()} CPU cores, load {os.getloadavg()[0]:.1f})")
    return outputs


# ------------------------------------------------------------------------ fidelity
def _segment_counts(y_out: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Count output rows per segment, cutting halfway between neighbouring segments."""
    cuts = 0.5 * (ranges[1:, 0] + ranges[:-1, 1])
    return np.bincount(np.searchsorted(cuts, y_out), minlength=len(ranges))


def fidelity_table(outputs: dict) -> None:
    from skdir.resampling import SMOGN

    print("\n## 2. Fidelity: rows per segment before / after (box-plot relevance, thr 0.5)\n")
    print(
        "| data | strategy | segment (y range) | rare | rows before | paper rule | skdir "
        "rows made per segment | skdir after (by output y) | smogn after (by output y) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for (n, d), (X, y, _, theirs) in outputs.items():
        for strategy in ("balance", "extreme"):
            sampler = SMOGN(sampling_strategy=strategy, random_state=0)
            _, y_res = sampler.fit_resample(X, y)
            sizes = sampler.segment_counts_
            if strategy == "balance":
                rule = np.full(len(sizes), np.floor(n / len(sizes) + 0.5))
            else:
                rule = n * (1 / sizes) / np.sum(1 / sizes)
            ours = _segment_counts(y_res, sampler.segment_ranges_)
            smogn_counts = (
                _segment_counts(theirs["y_out"], sampler.segment_ranges_)
                if strategy == "balance" and "y_out" in theirs
                else None
            )
            for s in range(len(sizes)):
                low, high = sampler.segment_ranges_[s]
                print(
                    f"| {n:,} x {d} | {strategy} | {s} ({low:.2f}..{high:.2f}) | "
                    f"{'yes' if sampler.segment_rare_[s] else 'no'} | {sizes[s]} | "
                    f"{rule[s]:.1f} | {sampler.segment_targets_[s]} | {ours[s]} | "
                    f"{'-' if smogn_counts is None else smogn_counts[s]} |"
                )
            rare = sampler.segment_rare_
            share_before = sizes[rare].sum() / n
            share_after = ours[rare].sum() / ours.sum()
            planned_share = sampler.segment_targets_[rare].sum() / sampler.segment_targets_.sum()
            smogn_share = (
                f"{smogn_counts[rare].sum() / smogn_counts.sum():.2f} of {smogn_counts.sum()}"
                if smogn_counts is not None
                else "-"
            )
            print(
                f"| {n:,} x {d} | {strategy} | **rare share** | | {share_before:.2f} of {n} | "
                f"{rule[rare].sum() / rule.sum():.2f} | {planned_share:.2f} of "
                f"{sampler.segment_targets_.sum()} | {share_after:.2f} of {ours.sum()} | "
                f"{smogn_share} |"
            )


# ---------------------------------------------------------------------- usefulness
def load_tabular(name: str, max_rows: int | None):
    import pandas as pd

    path, nominal = TABULAR[name]
    frame = pd.read_csv(DATA / path)
    y = frame.iloc[:, 0].to_numpy(dtype=float)
    features = frame.iloc[:, 1:].copy()
    if nominal is None:
        nominal = [c for c in features if not pd.api.types.is_numeric_dtype(features[c])]
    for column in nominal:
        features[column] = pd.factorize(features[column])[0].astype(float)
    features = features.astype(float).replace(9999.0, np.nan)
    X = features.to_numpy()
    if max_rows is not None and len(y) > max_rows:
        keep = np.random.default_rng(0).choice(len(y), max_rows, replace=False)
        X, y = X[keep], y[keep]
    nominal_idx = [list(features.columns).index(c) for c in nominal]
    return X, y, nominal_idx


def make_samplers(nominal: list[int]) -> dict:
    from skdir.resampling import (
        SMOGN,
        SMOTER,
        GaussianNoiseSampler,
        RandomOverSampler,
        RandomUnderSampler,
    )

    categorical = nominal or None
    return {
        "none": None,
        "SMOGN": SMOGN(categorical_features=categorical, random_state=0),
        "SMOTER": SMOTER(categorical_features=categorical, random_state=0),
        "GaussianNoise": GaussianNoiseSampler(categorical_features=categorical, random_state=0),
        "RandomOver": RandomOverSampler(random_state=0),
        "RandomUnder": RandomUnderSampler(random_state=0),
    }


def training_relevance(y_train: np.ndarray):
    """Box-plot relevance of the training targets, density-based if the box plot gives 0."""
    from skdir.resampling import Relevance

    relevance = Relevance("box").fit(y_train)
    if np.all(relevance.phi(y_train) == 0):
        relevance = Relevance("density").fit(y_train)
    return relevance


def scores(y_train, y_test, pred, shot_kwargs) -> dict:
    from skdir.metrics import balanced_mean_absolute_error, sera, shot_metrics

    relevance = training_relevance(y_train)
    phi = relevance.phi(y_test)
    rare = phi >= 0.5
    shots = shot_metrics(y_test, pred, y_train=y_train, metrics=("mae",), **shot_kwargs)
    return {
        "all": float(np.mean(np.abs(pred - y_test))),
        "rare": float(np.mean(np.abs(pred - y_test)[rare])) if rare.any() else np.nan,
        "n_rare": int(rare.sum()),
        "few": shots["few"]["mae"],
        "n_few": shots["few"]["n"],
        "balanced": float(balanced_mean_absolute_error(y_test, pred)),
        "sera": float(sera(y_test, pred, phi)),
    }


def evaluate_tabular(name: str, max_rows: int | None, n_splits: int) -> list:
    from imblearn.pipeline import make_pipeline
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import StandardScaler

    X, y, nominal = load_tabular(name, max_rows)
    rows = []
    for label, sampler in make_samplers(nominal).items():
        steps = [SimpleImputer(strategy="median"), StandardScaler()]
        steps += [] if sampler is None else [sampler]
        steps.append(HistGradientBoostingRegressor(max_iter=100, random_state=0))
        pipe = make_pipeline(*steps)
        pred = np.empty_like(y)
        per_fold = []
        start = time.perf_counter()
        for train, test in KFold(n_splits, shuffle=True, random_state=0).split(X):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                fitted = clone(pipe).fit(X[train], y[train])
            pred[test] = fitted.predict(X[test])
            per_fold.append(
                scores(y[train], y[test], pred[test], {"n_bins": 20, "many": 100, "few": 20})
            )
        result = {
            key: float(np.nanmean([f[key] for f in per_fold]))
            for key in ("all", "rare", "few", "balanced")
        }
        result["sera"] = float(np.sum([f["sera"] for f in per_fold]))
        result["n_rare"] = sum(f["n_rare"] for f in per_fold)
        result["n_few"] = sum(f["n_few"] for f in per_fold)
        result["seconds"] = time.perf_counter() - start
        rows.append((f"{name} ({len(y)}x{X.shape[1]})", label, result))
    return rows


def evaluate_stsb() -> list:
    from imblearn.pipeline import make_pipeline
    from sklearn.linear_model import Ridge

    data = np.load(DATA / "stsb_dir" / "stsb_dir_minilm.npz")

    def pair(X):
        X = X.astype(np.float32)
        half = X.shape[1] // 2
        return np.hstack([np.abs(X[:, :half] - X[:, half:]), X[:, :half] * X[:, half:]])

    X_train, y_train = pair(data["X_train"]), data["y_train"].astype(float)
    X_test, y_test = pair(data["X_test"]), data["y_test"].astype(float)
    rows = []
    for label, sampler in make_samplers([]).items():
        steps = [] if sampler is None else [sampler]
        pipe = make_pipeline(*steps, Ridge(alpha=1.0))
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            pipe.fit(X_train, y_train)
        pred = pipe.predict(X_test)
        result = scores(y_train, y_test, pred, {"bin_width": 0.1, "many": 100, "few": 20})
        result["seconds"] = time.perf_counter() - start
        if sampler is not None:
            fitted = pipe.steps[0][1]
            result["note"] = (
                f"{fitted.relevance_.method} relevance; rows {len(y_train)}->"
                f"{int(fitted.segment_targets_.sum())}; interp/noise "
                f"{fitted.n_interpolated_}/{fitted.n_noise_}"
            )
        rows.append(
            (f"STS-B-DIR ({len(y_train)}x{X_train.shape[1]}, test {len(y_test)})", label, result)
        )
    return rows


def usefulness_table(args: argparse.Namespace) -> None:
    if args.datasets != ["all"]:
        names = [name for name in args.datasets if name != "stsb"]
    else:
        names = ["machineCpu", "fuelCons", "abalone"] if args.quick else list(TABULAR)
    print(
        "\n## 3. Usefulness: HistGradientBoosting (tabular, 5-fold CV) / Ridge (STS-B-DIR "
        "test set), with and without each sampler (defaults: relevance 'auto', thr 0.5, "
        "'balance')\n"
    )
    print(
        "| data | sampler | MAE all | MAE rare (n) | MAE few-shot (n) | balanced MAE | SERA "
        "| fit s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rows = []

    def show(new_rows):
        for data, label, r in new_rows:
            print(
                f"| {data} | {label} | {r['all']:.4g} | {r['rare']:.4g} ({r['n_rare']}) | "
                f"{r['few']:.4g} ({r['n_few']}) | {r['balanced']:.4g} | {r['sera']:.4g} | "
                f"{r['seconds']:.1f} |",
                flush=True,
            )
        rows.extend(new_rows)

    for name in names:
        show(evaluate_tabular(name, args.max_rows, n_splits=5))
    if "stsb" in args.datasets or (args.datasets == ["all"] and not args.quick):
        show(evaluate_stsb())
    notes = [(d, label, r["note"]) for d, label, r in rows if "note" in r]
    for data, label, note in notes:
        print(f"- {data} {label}: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small cases only")
    parser.add_argument(
        "--smogn-python",
        default=os.environ.get("SKDIR_SMOGN_PYTHON"),
        help="python of a venv with smogn==0.1.2 (default: $SKDIR_SMOGN_PYTHON)",
    )
    parser.add_argument(
        "--smogn-timeout",
        type=float,
        default=300.0,
        help="wall seconds allowed to smogn per case (default 300)",
    )
    parser.add_argument(
        "--datasets",
        nargs="*",
        default=["all"],
        choices=["all", "stsb", *TABULAR],
        help="usefulness data sets (default: all; with --quick three small ones)",
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="subsample tabular sets to at most this many rows",
    )
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["speed", "fidelity", "usefulness"]
    )
    args = parser.parse_args()
    outputs = {}
    if "speed" not in args.skip:
        outputs = speed_table(args)
    if "fidelity" not in args.skip:
        if not outputs:
            outputs = {(1000, 20): (*make_skewed(1000, 20), None, {})}
        fidelity_table(outputs)
    if "usefulness" not in args.skip:
        usefulness_table(args)


if __name__ == "__main__":
    main()
