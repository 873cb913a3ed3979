"""
From a flat table of fragments to one prediction per sample
===========================================================

Each sample (a document, an image) is cut into fragments, each with its own
embedding and its own target value; the sample's target is an average over them.
:func:`~skdir.fragments.make_bags` groups the fragment rows into bags and averages
their targets (``"auto"`` picks a robust average when the fragment targets have
outliers), and :class:`~skdir.fragments.FragmentAggregator` turns every bag into one
row (here the mean and the standard deviation of its fragments) as the first step of
a pipeline. Compared with a model that sees one fragment per sample.

    python examples/fragments_to_predictions.py
"""

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdir.datasets import make_imbalanced_regression
from skdir.fragments import FragmentAggregator, choose_target_aggregation, make_bags
from skdir.metrics import dir_report

# The table our users start from: one row per fragment, a group id per sample.
bags, _, y_fragments = make_imbalanced_regression(
    1500, 64, n_fragments=(2, 8), imbalance=1.0, random_state=0
)
X_frag = np.concatenate(bags)
y_frag = np.concatenate(y_fragments)
groups = np.repeat(np.arange(len(bags)), [len(bag) for bag in bags])
print(f"{len(X_frag)} fragments of {len(bags)} samples, {X_frag.shape[1]} columns")

method = choose_target_aggregation(y_frag, groups)
bags, y, group_ids = make_bags(X_frag, groups, y_frag, target_aggregation="auto")
print(f"target aggregation chosen by 'auto': {method}")

cv = KFold(5, shuffle=True, random_state=0)
models = {
    "first fragment only": (
        make_pipeline(StandardScaler(), RidgeCV()),
        np.stack([bag[0] for bag in bags]),
    ),
    "mean + std of fragments": (
        make_pipeline(FragmentAggregator(stats=("mean", "std")), StandardScaler(), RidgeCV()),
        bags,
    ),
}
mae = {}
for name, (model, X) in models.items():
    pred = cross_val_predict(model, X, y, cv=cv)
    # Shot regions from all targets here, for brevity; per fold, use the fold's training y.
    report = dir_report(y, pred, y_train=y, n_bins=30).to_dict()
    mae[name] = report["all"]["mae"]
    print(f"{name:>24}: MAE {mae[name]:.3f}, few-shot MAE {report['few']['mae']:.3f}")

print(f"MAE {mae['first fragment only']:.3f} -> {mae['mean + std of fragments']:.3f}")
assert mae["mean + std of fragments"] < mae["first fragment only"]
