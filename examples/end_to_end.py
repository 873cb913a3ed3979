"""
From a fragment table to a saved model that predicts in a new process
======================================================================

The whole workflow on data shaped like a practitioner's: a table with one row per
*fragment* (a sentence of a document, a crop of an image), a sample id, text and
image embedding columns of different widths, and two skewed targets on different
scales, noisy per fragment.

1. :func:`~skdir.fragments.make_bags` groups the rows into one bag per sample and
   averages the fragment targets robustly (``"auto"`` picks a robust average when
   the fragment targets have outliers).
2. :class:`~skdir.auto.AutoDIRRegressor` (the ``"fast"`` preset) fits both targets,
   after :class:`~skdir.fragments.FragmentAggregator` turned each bag into one row;
   :class:`~skdir.conformal.ConformalDIRRegressor` wraps it for prediction
   intervals (CV+ reuses the model's own fold bags: nothing is refitted).
3. :class:`~skdir.model_selection.DIRSearchCV` tunes one family (ridge with LDS
   weights) on the balanced MAE, with its Optuna study in an SQLite file.
4. :func:`~skdir.persistence.save_model` writes the model with the versions it was
   made with; a **new Python process** loads it with
   :func:`~skdir.persistence.load_model` and predicts new samples from a CSV
   fragment table.

Sizes are small so that the page builds in seconds; the same code runs on
thousands of samples with 384 + 512 embedding columns.

    python examples/end_to_end.py
"""

# %%
# The fragment table
# ------------------
# 500 samples of 2 to 5 fragments each; a 24-column "text" block and a 32-column
# "image" block (``make_imbalanced_regression`` accepts the block widths, e.g.
# ``[384, 512]``), and two targets: ``a`` (around 0, long right tail) and ``b``
# (around 50, ten times the scale).
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, train_test_split

from skdir.auto import AutoDIRRegressor
from skdir.conformal import ConformalDIRRegressor
from skdir.datasets import make_imbalanced_regression
from skdir.fragments import FragmentAggregator, make_bags
from skdir.metrics import balanced_mae_scorer, dir_report
from skdir.model_selection import DIRSearchCV
from skdir.persistence import save_model
from skdir.pipeline import make_pipeline
from skdir.plotting import plot_per_bin_error
from skdir.weighting import DensityWeightedRegressor, LDSWeighter

WIDTHS = {"text": 24, "image": 32}
bags, _, y_fragments = make_imbalanced_regression(
    500, list(WIDTHS.values()), n_targets=2, n_fragments=(2, 5), random_state=0
)
columns = [f"{name}_{k}" for name, width in WIDTHS.items() for k in range(width)]
table = pd.DataFrame(np.concatenate(bags), columns=columns)
table.insert(
    0, "sample_id", np.repeat([f"doc-{i:04d}" for i in range(len(bags))], [len(b) for b in bags])
)
table[["a", "b"]] = np.concatenate(y_fragments)
print(f"{len(table)} fragment rows of {table['sample_id'].nunique()} samples")
print(table[["sample_id", "text_0", "image_0", "a", "b"]].head(4).round(3))

# %%
# Robust per-sample targets
# -------------------------
# One bag per sample id (never split across train and test), one target row per bag.
features = table[columns]
bags, Y, ids = make_bags(
    features.to_numpy(), table["sample_id"], table[["a", "b"]], target_aggregation="auto"
)
print(
    f"{len(bags)} bags; targets: a in [{Y[:, 0].min():.2f}, {Y[:, 0].max():.2f}], "
    f"b in [{Y[:, 1].min():.1f}, {Y[:, 1].max():.1f}]"
)
train, test = train_test_split(np.arange(len(bags)), test_size=0.3, random_state=0)
bags_train, bags_test = [bags[i] for i in train], [bags[i] for i in test]
Y_train, Y_test = Y[train], Y[test]

# %%
# The recommended model, with intervals
# -------------------------------------
# ``modalities`` declares the two column blocks (their mean over the fragments);
# the ``"fast"`` preset tries ridge, gradient boosting and the default network, plain
# and with LDS weights, as fold bags, and keeps the ensemble that is best on the rare
# ranges out-of-fold. CV+ intervals reuse those bags' out-of-fold predictions.
start = time.perf_counter()
model = make_pipeline(
    FragmentAggregator(stats=("mean",)),
    ConformalDIRRegressor(
        AutoDIRRegressor("fast", modalities=list(WIDTHS.values()), random_state=0),
        method="cv_plus",
    ),
)
model.fit(bags_train, Y_train)
auto = model[-1].estimator_
print(f"fitted in {time.perf_counter() - start:.1f} s")
board = auto.leaderboard_[["name", "all_0", "few_0", "all_1", "few_1", "weight"]]
print("out-of-fold MSE per target (0: a, 1: b), overall and few-shot:")
print(board.head(6).round(3).to_string(index=False))

# %%
# Test errors per shot region, for each target in its own units (the "mean" entry is
# scale-free: each target divided by its training spread). With 350 training samples
# the benchmark's thresholds (100 and 20 per bin) leave no many-shot bin: 20 and 5 here.
pred = model.predict(bags_test)
report = dir_report(
    Y_test,
    pred,
    label_density=auto.label_density_,
    target_names=["a", "b"],
    many=20,
    few=5,
    multioutput="scale_free",
)
print(report)
intervals = model[-1].predict_interval(model[:-1].transform(bags_test), alpha=0.1)
covered = (intervals[..., 0] <= Y_test) & (Y_test <= intervals[..., 1])
print(
    f"90% intervals: coverage a {covered[:, 0].mean():.2f}, b {covered[:, 1].mean():.2f}; "
    f"mean width a {np.ptp(intervals[:, 0], axis=1).mean():.2f}, "
    f"b {np.ptp(intervals[:, 1], axis=1).mean():.1f}"
)

# %%
# The error per target range, for both targets in their own units (the shaded bins
# are the few- and medium-shot regions of the training targets).
axes = plot_per_bin_error(
    Y_test, {"AutoDIRRegressor": pred}, y_train=Y_train, target_names=["a", "b"]
)
axes[0].figure.suptitle("test error per target bin")
plt.show()

# %%
# Tuning one family on SQLite
# ---------------------------
# Ridge with LDS weights, its two knobs searched by Optuna on the balanced MAE (the
# two targets scale-free). The study lives in a file: a second ``fit`` with the same
# ``study_name`` continues it, and a search edited to another space or scoring is told
# to use a new ``study_name``.
folder = Path(tempfile.mkdtemp())
ridge = make_pipeline(
    FragmentAggregator(stats=("mean", "std")),
    DensityWeightedRegressor(Ridge(), weighter=LDSWeighter()),
)
space = {
    "densityweightedregressor__regressor__alpha": (1e-2, 1e2, "log"),
    "densityweightedregressor__weighter__alpha": (0.0, 1.0),
}
search = DIRSearchCV(
    ridge,
    space,
    n_trials=10,
    scoring=balanced_mae_scorer,
    cv=KFold(3, shuffle=True, random_state=0),
    storage=f"sqlite:///{folder / 'ridge.db'}",
    study_name="ridge-lds",
    random_state=0,
).fit(bags_train, Y_train)
print(
    f"{len(search.study_.trials)} trials; best balanced MAE {-search.best_score_:.3f} with "
    + ", ".join(f"{k.split('__', 1)[1]}={v:.3g}" for k, v in search.best_params_.items())
)

# %%
# Save, then load and predict in a new process
# --------------------------------------------
# The file records the versions of Python, skdir, scikit-learn, torch and numpy;
# ``load_model`` compares them before unpickling (``strict=True`` refuses a mismatch)
# and, given the digest ``save_model`` returned, refuses a modified file. Unpickling
# runs code from the file: load only files you trust.
info = save_model(
    model, folder / "model.skdir", metadata={"columns": columns, "targets": ["a", "b"]}
)
new_rows = table[table["sample_id"].isin(ids[test[:5]])].drop(columns=["a", "b"])
new_rows.to_csv(folder / "new_fragments.csv", index=False)
script = textwrap.dedent(f"""
    import pandas as pd
    from skdir.fragments import make_bags
    from skdir.persistence import load_model

    model, info = load_model("model.skdir", sha256="{info["sha256"]}", return_info=True)
    rows = pd.read_csv("new_fragments.csv")
    bags, _, ids = make_bags(rows[info["metadata"]["columns"]].to_numpy(), rows["sample_id"])
    out = pd.DataFrame(model.predict(bags), columns=info["metadata"]["targets"])
    out.insert(0, "sample_id", ids)
    out.to_csv("predictions.csv", index=False)
""")
subprocess.run([sys.executable, "-c", script], cwd=folder, check=True)
loaded = pd.read_csv(folder / "predictions.csv")
print(loaded.round(3))
new_bags = test[:5][np.argsort(ids[test[:5]])]  # make_bags orders the bags by sample id
here = model.predict([bags[i] for i in new_bags])
gap = np.abs(loaded[["a", "b"]].to_numpy() - here).max()
print(f"largest difference to the predictions of this process: {gap:.2e}")
assert gap < 1e-6 and list(loaded["sample_id"]) == list(ids[new_bags])
