"""Conformal prediction intervals per target region: skdir's methods against MAPIE and crepes.

    python benchmarks/bench_conformal.py [--seeds N] [--sets NAME ...] [--no-stsb] [--dir-net]
                                         [--out FILE]

At 90% nominal coverage (alpha=0.1), on the STS-B-DIR test split and on three tabular
sets (abalone, bank8FM, cpuSm; ``_tabular.load_tabular``: 60/20/20 train/val/test,
seeded), every method is scored on the test split: coverage overall, per shot region of
the *training* density (many > 100, medium 20-100, few < 20 training targets per bin;
STS-B: ``LabelDensity(bin_width=0.1)``, tabular: 50 equal-width bins), in the worst
label bin holding at least 10 test rows, mean width, and the width relative to plain
split conformal on the same base model. Mean over seeds (STS-B has one fixed split;
its seeds change the folds, the scale model and the quantile models only).

Base models: ``HistGradientBoostingRegressor`` on the tabular sets;
``RidgeCV`` on the pair features ``[|a - b|, a * b]`` of the two 384-d sentence
embeddings on STS-B. Split methods fit on the training split and calibrate on the
validation split (``fit(..., calibration_set=(X_val, y_val))``; MAPIE's and crepes'
prefit calibration likewise); CV+ fits on train + val. CQR uses quantile models at
0.05/0.5/0.95: ``HistGradientBoostingRegressor(loss="quantile")`` per level
(``MultiQuantileRegressor``) on both, on the tabular sets also a
``DIRRegressor(criterion=PinballLoss)`` network and the average of the two
(``QuantileAverager``, the aggregation of Fakoor et al.). Everything runs on one
thread. Results are written to ``benchmarks/results/bench_conformal.txt``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _stsb_dir import load_stsb_dir
from _tabular import load_tabular
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import RidgeCV
from threadpoolctl import threadpool_limits

from skdir.conformal import (
    CalibrationWarning,
    ConformalDIRRegressor,
    MultiQuantileRegressor,
    QuantileAverager,
)
from skdir.ensemble import BaggedRegressor
from skdir.metrics import coverage_report
from skdir.nn import DIRRegressor, PinballLoss

ALPHA = 0.1
LEVELS = (ALPHA / 2, 0.5, 1 - ALPHA / 2)
MIN_BIN = 10
RESULTS = Path(__file__).resolve().parent / "results" / "bench_conformal.txt"
TABULAR = ("abalone", "bank8FM", "cpuSm")


#: Fitted models shared by the split variants of one data set and seed (same training rows).
_FITTED: dict[str, object] = {}


class Cached(RegressorMixin, BaseEstimator):
    """A model fitted once per key and reused by every wrapper variant (a benchmark shortcut).

    The split variants fit the same model on the same training rows; the cache saves the
    refits. Never used for CV+ (other rows).
    """

    def __init__(self, key: str, factory=None):
        self.key = key
        self.factory = factory

    def fit(self, X, y):
        """Fit the model of this key once; later calls take the fitted one."""
        if self.key not in _FITTED:
            _FITTED[self.key] = self.factory().fit(X, y)
        self.model_ = _FITTED[self.key]
        return self

    def predict(self, X, **kwargs):
        """Predict with the fitted model."""
        return self.model_.predict(X, **kwargs)

    def predict_quantiles(self, X):
        """Predict the quantiles of the fitted model."""
        return self.model_.predict_quantiles(X)


def stsb_pairs(X: np.ndarray) -> np.ndarray:
    a, b = X[:, :384].astype(np.float64), X[:, 384:].astype(np.float64)
    return np.hstack([np.abs(a - b), a * b])


def hgb(seed: int, **kw) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(random_state=seed, **kw)


def quantile_hgb(seed: int) -> MultiQuantileRegressor:
    return MultiQuantileRegressor(hgb(seed, loss="quantile"), quantiles=LEVELS)


def pinball_net(seed: int) -> DIRRegressor:
    return DIRRegressor(
        criterion=PinballLoss, criterion__quantiles=LEVELS, max_epochs=60, random_state=seed
    )


def score(y: np.ndarray, intervals: np.ndarray, density) -> dict[str, float]:
    report = coverage_report(y, intervals, density, min_bin_size=MIN_BIN)
    row = {"coverage": report["coverage"], "width": report["width"]}
    for region in ("many", "medium", "few"):
        row[region] = report["regions"].get(region, {}).get("coverage", np.nan)
    row["worst_bin"] = report["worst_bin"]["coverage"]
    return row


def skdir_methods(base, seed: int, extra: dict, key: str) -> dict[str, ConformalDIRRegressor]:
    """Return the ConformalDIRRegressor variants around one base model and quantile models."""
    common = {"random_state": seed}
    cv_base = base
    base = Cached(f"{key} base", lambda: clone(cv_base))
    extra = {
        name: Cached(f"{key} {name}", lambda model=model: clone(model))
        for name, model in extra.items()
    }
    methods = {
        "skdir split": ConformalDIRRegressor(base, calibration="marginal", **common),
        "skdir split+mondrian": ConformalDIRRegressor(base, calibration="mondrian", **common),
        "skdir normalized": ConformalDIRRegressor(
            base, conformity_score="normalized", calibration="marginal", **common
        ),
        "skdir normalized+mondrian": ConformalDIRRegressor(
            base, conformity_score="normalized", calibration="mondrian", **common
        ),
        "skdir density-weighted": ConformalDIRRegressor(base, calibration="density", **common),
        "skdir label": ConformalDIRRegressor(base, calibration="label", **common),
        "skdir normalized+label": ConformalDIRRegressor(
            base, conformity_score="normalized", calibration="label", **common
        ),
        "skdir CV+": ConformalDIRRegressor(
            cv_base, method="cv_plus", calibration="marginal", **common
        ),
        "skdir CV+ mondrian": ConformalDIRRegressor(
            cv_base, method="cv_plus", calibration="mondrian", **common
        ),
        "skdir CV+ label": ConformalDIRRegressor(
            cv_base, method="cv_plus", calibration="label", **common
        ),
    }
    for name, quantile_model in extra.items():
        methods[f"skdir {name}"] = ConformalDIRRegressor(
            quantile_model, conformity_score="cqr", calibration="marginal", **common
        )
        if name == "cqr-hgb":
            methods[f"skdir {name}+mondrian"] = ConformalDIRRegressor(
                quantile_model, conformity_score="cqr", calibration="mondrian", **common
            )
        methods[f"skdir {name}+label"] = ConformalDIRRegressor(
            quantile_model, conformity_score="cqr", calibration="label", **common
        )
    return methods


def peer_methods(base, quantile_fitted, seed, data, key) -> dict[str, np.ndarray]:
    """MAPIE split / CV+ / CQR and crepes Mondrian around the same models."""
    from crepes import WrapRegressor
    from crepes.extras import MondrianCategorizer
    from mapie.regression import (
        ConformalizedQuantileRegressor,
        CrossConformalRegressor,
        SplitConformalRegressor,
    )

    X_cal, y_cal, X_te = (data[k] for k in ("X_cal", "y_cal", "X_te"))
    X_tr, y_tr = data["X_tr"], data["y_tr"]
    out = {}
    fitted = _FITTED[f"{key} base"]
    split = SplitConformalRegressor(fitted, confidence_level=1 - ALPHA, prefit=True)
    out["MAPIE split"] = split.conformalize(X_cal, y_cal).predict_interval(X_te)[1][:, :, 0]
    cross = CrossConformalRegressor(
        clone(base), confidence_level=1 - ALPHA, method="plus", cv=5, random_state=seed
    )
    X_all, y_all = np.vstack([X_tr, X_cal]), np.concatenate([y_tr, y_cal])
    out["MAPIE CV+"] = cross.fit_conformalize(X_all, y_all).predict_interval(X_te)[1][:, :, 0]
    low, mid, high = quantile_fitted.estimators_[0]
    cqr = ConformalizedQuantileRegressor([low, high, mid], confidence_level=1 - ALPHA, prefit=True)
    out["MAPIE CQR"] = cqr.conformalize(X_cal, y_cal).predict_interval(X_te)[1][:, :, 0]
    wrapped = WrapRegressor(fitted)
    categories = MondrianCategorizer().fit(X_cal, f=fitted.predict, no_bins=5)
    wrapped.calibrate(X_cal, y_cal, mc=categories)
    out["crepes mondrian"] = wrapped.predict_int(X_te, confidence=1 - ALPHA)
    return out


def run_one(name: str, data: dict, base, seed: int, quantile_models: dict) -> dict:
    rows: dict[str, dict] = {}
    X_tr, y_tr, X_cal, y_cal, X_te, y_te = (
        data[k] for k in ("X_tr", "y_tr", "X_cal", "y_cal", "X_te", "y_te")
    )
    density = data["density"]
    X_all, y_all = np.vstack([X_tr, X_cal]), np.concatenate([y_tr, y_cal])
    methods = skdir_methods(base, seed, quantile_models, f"{name} {seed}")
    for method_name, model in methods.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CalibrationWarning)
            if model.method == "cv_plus":
                model.fit(X_all, y_all)
            else:
                model.fit(X_tr, y_tr, calibration_set=(X_cal, y_cal))
            intervals = model.predict_interval(X_te, alpha=ALPHA)
        rows[method_name] = score(y_te, intervals, density)
        rows[method_name]["seconds"] = time.perf_counter() - start
        if method_name == "skdir cqr-hgb":
            quantile_fitted = model.estimator_.model_
    start = time.perf_counter()
    peers = peer_methods(base, quantile_fitted, seed, data, f"{name} {seed}")
    for peer, intervals in peers.items():
        rows[peer] = score(y_te, np.sort(intervals, axis=1), density)
        rows[peer]["seconds"] = np.nan
    reference = rows["skdir split"]["width"]
    for row in rows.values():
        row["width_ratio"] = row["width"] / reference
    print(f"  {name} seed {seed}: {len(rows)} methods, peers {time.perf_counter() - start:.0f}s")
    seconds = {k: round(v["seconds"], 1) for k, v in rows.items() if np.isfinite(v["seconds"])}
    print(f"    seconds: {seconds}", flush=True)
    _FITTED.clear()
    return rows


COLUMNS = ("coverage", "many", "medium", "few", "worst_bin", "width", "width_ratio")


def goals(row: dict) -> str:
    marks = []
    marks.append("C" if 0.89 <= row["coverage"] <= 0.91 else "c")
    regions = [row[r] for r in ("many", "medium", "few") if not np.isnan(row[r])]
    marks.append("R" if min(regions) >= 0.88 else "r")
    marks.append("B" if row["worst_bin"] >= 0.80 else "b")
    marks.append("W" if row["width_ratio"] <= 1.1 else "w")
    return "".join(marks)


def table(name: str, per_seed: list[dict]) -> str:
    methods = list(per_seed[0])
    names = [{"worst_bin": "worst bin", "width_ratio": "x split"}.get(c, c) for c in COLUMNS]
    head = f"{'method':28s}" + "".join(f"{c:>10s}" for c in names) + "   goals"
    lines = [f"== {name} (alpha={ALPHA}, mean over {len(per_seed)} seed(s)) ==", head]
    for method in methods:
        mean = {c: float(np.nanmean([s[method][c] for s in per_seed])) for c in COLUMNS}
        lines.append(
            f"{method:28s}" + "".join(f"{mean[c]:10.3f}" for c in COLUMNS) + f"   {goals(mean)}"
        )
    return "\n".join(lines)


def tabular_data(name: str, seed: int) -> dict:
    d = load_tabular(name, seed)
    return {
        "X_tr": d["X_train"],
        "y_tr": d["y_train"],
        "X_cal": d["X_val"],
        "y_cal": d["y_val"],
        "X_te": d["X_test"],
        "y_te": d["y_test"],
        "density": d["density"],
    }


def stsb_data() -> dict:
    d = load_stsb_dir()
    return {
        "X_tr": stsb_pairs(d["X_train"]),
        "y_tr": d["y_train"],
        "X_cal": stsb_pairs(d["X_val"]),
        "y_cal": d["y_val"],
        "X_te": stsb_pairs(d["X_test"]),
        "y_te": d["y_test"],
        "density": d["density"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sets", nargs="*", default=list(TABULAR))
    parser.add_argument("--no-stsb", action="store_true")
    parser.add_argument("--dir-net", action="store_true", help="pinball DIRRegressor on STS-B")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = [f"# python benchmarks/bench_conformal.py {' '.join(sys.argv[1:])}".rstrip()]
    out.append(
        "goals: C overall 0.89-0.91, R every shot region >= 0.88, B worst bin "
        f"(>= {MIN_BIN} test rows) >= 0.80, W width <= 1.1x skdir split; lowercase = missed"
    )
    started = time.perf_counter()
    with threadpool_limits(1):
        if not args.no_stsb:
            data = stsb_data()
            per_seed = []
            for seed in range(args.seeds):
                extra = {"cqr-hgb": quantile_hgb(seed)}
                if args.dir_net and seed == 0:
                    extra["cqr-net"] = DIRRegressor(
                        criterion=PinballLoss, criterion__quantiles=LEVELS, random_state=seed
                    )
                per_seed.append(
                    run_one("stsb", data, RidgeCV(np.logspace(-2, 4, 13)), seed, extra)
                )
            out.append(table("STS-B-DIR test, RidgeCV on pair features", per_seed))
            print(out[-1], flush=True)
        for name in args.sets:
            per_seed = []
            for seed in range(args.seeds):
                data = tabular_data(name, seed)
                extra = {
                    "cqr-hgb": quantile_hgb(seed),
                    "cqr-net": pinball_net(seed),
                    "cqr-avg": QuantileAverager(
                        [("hgb", quantile_hgb(seed)), ("net", pinball_net(seed))]
                    ),
                }
                rows = run_one(name, data, hgb(seed), seed, extra)
                bag = ConformalDIRRegressor(
                    BaggedRegressor(hgb(seed), n_members=5, random_state=seed),
                    conformity_score="normalized",
                    calibration="marginal",
                    random_state=seed,
                )
                bag.fit(data["X_tr"], data["y_tr"], calibration_set=(data["X_cal"], data["y_cal"]))
                row = score(data["y_te"], bag.predict_interval(data["X_te"]), data["density"])
                row["width_ratio"] = row["width"] / rows["skdir split"]["width"]
                rows["skdir normalized (bag std)"] = row
                per_seed.append(rows)
            out.append(table(f"{name} test, HistGradientBoostingRegressor", per_seed))
            print(out[-1], flush=True)
    out.append(f"total {time.perf_counter() - started:.0f} s on one thread")
    args.out.write_text("\n\n".join(out) + "\n")
    print(out[-1])


if __name__ == "__main__":
    main()
