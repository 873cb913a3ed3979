"""Model comparison on DIR metrics: the engine behind ``skdir demo`` and ``skdir benchmark``.

Each model is fitted on the training part of every split, and its predictions on the
held-out part are scored by :func:`skdir.metrics.dir_report`, one target at a time, with
shot regions taken from *that split's training targets* (no test target decides a
region). The result holds the per-split reports and the out-of-split predictions,
prints tables, writes a markdown report, a JSON of every figure and the plots.

Shot regions (:func:`region_rule`): each target's training values are binned by
:func:`skdir.density.region_density` (50 equal-width bins, aligned on the label grid
when the labels are discrete), and a bin is many-shot when it holds more training rows
than the mean occupied bin, few-shot when it holds fewer than a fifth of that mean.
That is the DIR benchmarks' rule (more than 100, fewer than 20) at their size, where
STS-B-DIR's 5,249 training labels fill 50 bins with 105 on average, made independent of
the data size: the absolute 100/20 make every bin medium- or few-shot on 1,000 rows and
every bin many-shot on 100,000. A region with fewer than :data:`MIN_REGION_ROWS` held-out
rows over all splits is shown as ``-`` in the tables: its error is noise.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import ConstantInputWarning, DegenerateDataWarning
from sklearn.base import clone

from .density import LabelDensity, region_density
from .metrics import EmptyRegionWarning, dir_report

REGIONS = ("all", "many", "medium", "few", "balanced")
SHOT_REGIONS = ("many", "medium", "few")
#: Regions with fewer held-out rows (over all splits) are not shown in the tables.
MIN_REGION_ROWS = 10


def region_rule(
    y_train: np.ndarray, many: float | None = None, few: float | None = None
) -> tuple[LabelDensity, float, float]:
    """Return one target's training density and its many/few-shot thresholds.

    The density is :func:`skdir.density.region_density` of ``y_train``; ``many`` is
    the mean training count of an occupied bin and ``few`` a fifth of it, unless given
    (module docstring), rounded down and up to whole counts (the same bins).

    Examples
    --------
    >>> import numpy as np
    >>> from skdir._harness import region_rule
    >>> density, many, few = region_rule(np.repeat([0, 1, 2, 3], [50, 30, 15, 5]))
    >>> density.n_bins_, many, few
    ((4,), 25.0, 5.0)
    """
    density = region_density(y_train)
    mean_count = float(len(y_train) / np.count_nonzero(density.counts_))
    # counts are whole numbers: "more than m" is "more than floor(m)", "fewer than f" is
    # "fewer than ceil(f)"; the whole thresholds classify the same bins and read better
    many = float(math.floor(mean_count + 1e-9)) if many is None else float(many)
    few = float(math.ceil(mean_count / 5 - 1e-9)) if few is None else float(few)
    return density, many, min(few, many)


def _indexable_take(X: Any, index: np.ndarray) -> Any:
    if isinstance(X, list):
        return [X[i] for i in index]
    return X[index]


@dataclass
class ModelComparison:
    """Per-split DIR reports of several models on one data set.

    Attributes
    ----------
    target_names : list of str
        One name per target.
    reports : dict of str to list of dict
        For each model, one :meth:`skdir.metrics.DIRReport.to_dict` per split.
    fit_seconds : dict of str to list of float
        Wall seconds of each fit.
    y_true, y_pred, y_reference : ndarray
        Held-out targets, the models' predictions of them (dict by model) and the
        training targets that define the shot regions of the plots (the first
        split's).
    regions : list of dict
        Per split and target: ``bin_width`` (or None), ``n_bins``, the ``many`` and
        ``few`` thresholds and the held-out rows ``n`` per shot region.
    fitted : dict of str to estimator
        With ``keep_fitted=True``: each model as fitted on the last split.
    """

    target_names: list[str]
    reports: dict[str, list[dict]] = field(default_factory=dict)
    fit_seconds: dict[str, list[float]] = field(default_factory=dict)
    y_true: np.ndarray | None = None
    y_pred: dict[str, np.ndarray] = field(default_factory=dict)
    y_reference: np.ndarray | None = None
    regions: list[dict] = field(default_factory=list)
    fitted: dict[str, Any] = field(default_factory=dict)

    def region_sizes(self) -> dict[str, dict[str, int]]:
        """Held-out rows per shot region and target, summed over the splits."""
        return {
            target: {
                region: int(sum(split[target]["n"][region] for split in self.regions))
                for region in SHOT_REGIONS
            }
            for target in self.target_names
        }

    def summary(self, metric: str = "mae") -> dict[str, dict[str, dict[str, tuple]]]:
        """Mean and standard deviation over splits, by model, target and region."""
        out: dict[str, dict[str, dict[str, tuple]]] = {}
        for model, reports in self.reports.items():
            out[model] = {}
            for target in self.target_names:
                out[model][target] = {}
                for region in REGIONS:
                    values = np.array([r[target][region][metric] for r in reports], dtype=float)
                    if np.isnan(values).all():
                        out[model][target][region] = (math.nan, math.nan)
                    else:
                        out[model][target][region] = (
                            float(np.nanmean(values)),
                            float(np.nanstd(values)),
                        )
        return out

    def table(self, metric: str = "mae", *, markdown: bool = False) -> str:
        """Format the errors by model, target and shot region as a text or markdown table."""
        summary = self.summary(metric)
        sizes = self.region_sizes() if self.regions else {}
        header = ["model", "target", *REGIONS, "fit s"]
        rows = []
        for target in self.target_names:  # one block per target: never mixed
            for model, by_target in summary.items():
                seconds = np.mean(self.fit_seconds[model])
                by_region = by_target[target]
                cells = [
                    "-"
                    if sizes.get(target, {}).get(region, MIN_REGION_ROWS) < MIN_REGION_ROWS
                    else _format(*by_region[region])
                    for region in REGIONS
                ]
                rows.append([model, target, *cells, f"{seconds:.1f}"])
        if markdown:
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(row) + " |" for row in rows]
            return "\n".join(lines)
        widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Every figure, JSON-ready (NaN becomes None)."""
        return _json_ready(
            {
                "target_names": self.target_names,
                "reports": self.reports,
                "fit_seconds": self.fit_seconds,
                "regions": self.regions,
                "summary": {metric: self.summary(metric) for metric in ("mae", "mse")},
            }
        )

    def write(self, out_dir: str | Path, *, title: str, notes: Sequence[str] = ()) -> list[Path]:
        """Write ``report.md``, ``results.json`` and the figures; return the paths."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = [out_dir / "results.json", out_dir / "report.md"]
        paths[0].write_text(json.dumps(self.to_dict(), indent=2))
        figures = self.save_figures(out_dir)
        lines = [f"# {title}", "", *notes, ""]
        for metric in ("mae", "mse"):
            table = self.table(metric, markdown=True)
            lines += [f"## {metric.upper()} (mean ± std over splits)", "", table, ""]
        lines += ["## Figures", ""] + [f"![{p.stem}]({p.name})" for p in figures]
        paths[1].write_text("\n".join(lines) + "\n")
        return paths + figures

    def save_figures(self, out_dir: Path) -> list[Path]:
        """Label densities, per-bin error curves and predicted-vs-true plots as PNG files.

        The bins and shot-region thresholds of every panel are the first split's
        (:func:`region_rule` of ``y_reference``), the ones its tables use.
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .plotting import plot_label_density, plot_per_bin_error, plot_predicted_vs_true

        y_true = _as_2d(self.y_true)
        y_reference = _as_2d(self.y_reference)
        n_targets = len(self.target_names)
        rules = [region_rule(y_reference[:, k]) for k in range(n_targets)]
        paths = []

        fig, axes = plt.subplots(
            1, n_targets, figsize=(5.5 * n_targets, 4), squeeze=False, layout="constrained"
        )
        for k, name in enumerate(self.target_names):
            density, many, few = rules[k]
            plot_label_density(
                y_reference[:, k],
                density=density,
                ax=axes[0, k],
                target_names=[name],
                many=many,
                few=few,
            )
            axes[0, k].set_title(f"training density: {name}")
        paths.append(_save(fig, out_dir / "label_density.png"))

        fig, axes = plt.subplots(
            1, n_targets, figsize=(6 * n_targets, 5), squeeze=False, layout="constrained"
        )
        predictions = {model: _as_2d(pred) for model, pred in self.y_pred.items()}
        for k, name in enumerate(self.target_names):
            density, many, few = rules[k]
            plot_per_bin_error(
                y_true[:, k],
                {model: pred[:, k] for model, pred in predictions.items()},
                label_density=density,
                ax=axes[0, k],
                target_names=[name],
                many=many,
                few=few,
            )
            axes[0, k].set_title(f"error per target bin: {name}")
        paths.append(_save(fig, out_dir / "per_bin_error.png"))

        models = list(self.y_pred)
        fig, axes = plt.subplots(
            n_targets,
            len(models),
            figsize=(4.5 * len(models), 4.5 * n_targets),
            squeeze=False,
            layout="constrained",
        )
        for k, name in enumerate(self.target_names):
            for j, model in enumerate(models):
                pred = _as_2d(self.y_pred[model])[:, k]
                plot_predicted_vs_true(y_true[:, k], pred, ax=axes[k, j], target_names=[name])
                axes[k, j].set_title(f"{model}: {name}")
        paths.append(_save(fig, out_dir / "predicted_vs_true.png"))
        return paths


def compare_models(
    models: Mapping[str, Any],
    X: Any,
    y: np.ndarray,
    splits: Iterable[tuple[np.ndarray, np.ndarray]],
    *,
    target_names: Sequence[str] | None = None,
    many: float | None = None,
    few: float | None = None,
    keep_fitted: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ModelComparison:
    """Fit every model on every split and score it per shot region, target by target.

    Parameters
    ----------
    models : mapping of str to estimator
        Unfitted estimators; each split fits a clone.
    X : array-like or list of bags
        Inputs, indexable by an integer array (a list is indexed element-wise).
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Targets.
    splits : iterable of (train_index, test_index)
        For example ``KFold(...).split(X)``, or one train/test split.
    target_names : sequence of str, optional
        Names of the targets; ``y0``, ``y1``... by default.
    many, few : float or None, default=None
        Training-bin counts above which a bin is many-shot and below which it is
        few-shot; None takes :func:`region_rule`'s, per target and split.
    keep_fitted : bool, default=False
        Keep every model as fitted on the last split (``result.fitted``).
    progress : callable, optional
        Called with a line of text before and after each fit.

    Returns
    -------
    ModelComparison
    """
    y = np.asarray(y, dtype=float)
    n_targets = 1 if y.ndim == 1 else y.shape[1]
    names = list(target_names) if target_names is not None else [f"y{k}" for k in range(n_targets)]
    say = progress or (lambda line: None)
    result = ModelComparison(target_names=names)
    splits = list(splits)
    held_out = np.concatenate([test for _, test in splits])
    result.y_true = y[held_out]
    result.y_reference = y[splits[0][0]]
    for model_name in models:
        result.reports[model_name] = []
        result.fit_seconds[model_name] = []
        result.y_pred[model_name] = np.empty_like(result.y_true)
    offset = 0
    for split_number, (train, test) in enumerate(splits, start=1):
        X_train, X_test = _indexable_take(X, train), _indexable_take(X, test)
        y_train, y_test = _as_2d(y[train]), _as_2d(y[test])
        rules = [region_rule(y_train[:, k], many, few) for k in range(n_targets)]
        result.regions.append(
            {
                name: _region_info(density, high, low, y_test[:, k])
                for k, (name, (density, high, low)) in enumerate(zip(names, rules, strict=True))
            }
        )
        for model_name, model in models.items():
            say(f"[split {split_number}/{len(splits)}] {model_name}: fitting on {len(train)} rows")
            start = time.perf_counter()
            fitted = clone(model).fit(X_train, y[train])
            seconds = time.perf_counter() - start
            pred = np.asarray(fitted.predict(X_test), dtype=float).reshape(y_test.shape)
            with warnings.catch_warnings():  # small regions are marked in the tables
                warnings.simplefilter("ignore", EmptyRegionWarning)
                warnings.simplefilter("ignore", DegenerateDataWarning)
                warnings.simplefilter("ignore", ConstantInputWarning)
                report = {
                    name: dir_report(
                        y_test[:, k], pred[:, k], label_density=density, many=high, few=low
                    ).to_dict()
                    for k, (name, (density, high, low)) in enumerate(
                        zip(names, rules, strict=True)
                    )
                }
            result.reports[model_name].append(report)
            result.fit_seconds[model_name].append(seconds)
            result.y_pred[model_name][offset : offset + len(test)] = pred.reshape(
                result.y_true[offset : offset + len(test)].shape
            )
            if keep_fitted:
                result.fitted[model_name] = fitted
            errors = "; ".join(
                f"{name}: MAE all {report[name]['all']['mae']:.4g}, "
                f"few {_format(report[name]['few']['mae'], 0)}"
                for name in names
            )
            say(f"[split {split_number}/{len(splits)}] {model_name}: {seconds:.1f} s, {errors}")
        offset += len(test)
    return result


def _region_info(density: LabelDensity, many: float, few: float, y_test: np.ndarray) -> dict:
    """Bins, thresholds and held-out rows per shot region of one target in one split."""
    edges = density.bin_edges_[0]
    regions = density.shot_regions(y_test, many, few)
    return {
        "bin_width": float(edges[1] - edges[0]),
        "n_bins": int(density.n_bins_[0]),
        "many": many,
        "few": few,
        "n": {region: int(np.count_nonzero(regions == region)) for region in SHOT_REGIONS},
    }


def print_progress(line: str) -> None:
    """Progress line on stderr with a timestamp (the results go to stdout)."""
    print(time.strftime("%H:%M:%S"), line, file=sys.stderr, flush=True)


def _format(mean: float, std: float) -> str:
    if math.isnan(mean):
        return "-"
    return f"{mean:.4g} ± {std:.2g}" if std > 0 else f"{mean:.4g}"


def _as_2d(y: np.ndarray | None) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    return y.reshape(-1, 1) if y.ndim == 1 else y


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
