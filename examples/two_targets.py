"""
Two skewed targets on different scales with one network
=======================================================

:class:`~skdir.nn.DIRRegressor` takes a 2-column ``y``: one output per target on a
shared trunk. The LDS weighter bins the two targets on a joint 2-D grid (15 x 15), so
it weights up the rare *combinations*; the report gives the shot regions per target
(each target's own training bins) and their mean.

    python examples/two_targets.py
"""

from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdir.datasets import make_imbalanced_regression
from skdir.density import LabelDensity
from skdir.metrics import dir_report
from skdir.nn import DIRRegressor
from skdir.target import TargetDistributionNormalizer
from skdir.weighting import LDSWeighter

X, y = make_imbalanced_regression(2000, 64, n_targets=2, imbalance=1.0, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
print(f"targets: means {y.mean(axis=0).round(2)}, standard deviations {y.std(axis=0).round(2)}")

balanced_mae = {}
for name, weighter in [("vanilla", None), ("LDS", LDSWeighter(n_bins=15))]:
    model = make_pipeline(
        StandardScaler(),
        DIRRegressor(
            weighter=weighter,
            label_density=LabelDensity(n_bins=15),
            target_transformer=TargetDistributionNormalizer(),
            max_epochs=40,
            batch_size=128,
            random_state=0,
            device="cpu",
        ),
    )
    pred = model.fit(X_train, y_train).predict(X_test)
    report = dir_report(
        y_test, pred, y_train=y_train, n_bins=30, target_names=["target_a", "target_b"]
    )
    print(f"== {name} ==\n{report}\n")
    balanced_mae[name] = report.to_dict()["target_a"]["balanced"]["mae"]

print(
    f"target_a balanced MAE: vanilla {balanced_mae['vanilla']:.3f}, LDS {balanced_mae['LDS']:.3f}"
)
assert balanced_mae["LDS"] < balanced_mae["vanilla"]
