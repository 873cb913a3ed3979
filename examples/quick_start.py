"""
Quick start: a DIR pipeline, fitted and evaluated like any scikit-learn model
=============================================================================

A standardiser and a :class:`~skdir.nn.DIRRegressor` with label distribution
smoothing (LDS, the sample ``weighter``) and feature distribution smoothing (FDS, the
``fds`` component; Yang et al., ICML 2021), each on 30 bins of the targets; the
network learns targets normalised by :class:`~skdir.target.TargetDistributionNormalizer`
while LDS and FDS see the skewed targets as given. Compared with the same network
without LDS/FDS, per shot region of the training targets.

    python examples/quick_start.py
"""

from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdir.datasets import make_imbalanced_regression
from skdir.density import LabelDensity
from skdir.metrics import dir_report
from skdir.nn import DIRRegressor, FeatureDistributionSmoothing
from skdir.target import TargetDistributionNormalizer
from skdir.weighting import LDSWeighter

X, y = make_imbalanced_regression(2000, 64, imbalance=1.0, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

few_shot_mae = {}
lds_fds = {"weighter": LDSWeighter(n_bins=30), "fds": FeatureDistributionSmoothing(n_bins=30)}
for name, dir_params in [("vanilla", {}), ("LDS+FDS", lds_fds)]:
    model = make_pipeline(
        StandardScaler(),
        DIRRegressor(
            label_density=LabelDensity(n_bins=30),
            target_transformer=TargetDistributionNormalizer(),
            max_epochs=40,
            batch_size=128,
            random_state=0,
            device="cpu",
            **dir_params,
        ),
    )
    model.fit(X_train, y_train)
    report = dir_report(y_test, model.predict(X_test), label_density=model[-1].label_density_)
    print(f"== {name} ==\n{report}\n")
    few_shot_mae[name] = report.to_dict()["few"]["mae"]

print(
    f"few-shot MAE: vanilla {few_shot_mae['vanilla']:.3f}, LDS+FDS {few_shot_mae['LDS+FDS']:.3f}"
)
assert few_shot_mae["LDS+FDS"] < few_shot_mae["vanilla"]
