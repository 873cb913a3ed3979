"""
Cross-validation with DIR scorers: few-shot and balanced errors of a neural regressor
=====================================================================================

``few_shot_mae_scorer`` scores the test rows whose target falls in a *few-shot* bin
of the fold's training targets (fewer than 20 training samples); it reads the
training label density that :class:`~skdir.nn.DIRRegressor` stores after ``fit``, so
no test target decides which rows are rare. Label distribution smoothing
(``weighter=LDSWeighter()``, Yang et al., ICML 2021) weights the rare training targets
up. Both use 30 bins: ``label_density`` sets the bins of the shot regions.

    python examples/cross_validation_scorers.py
"""

from sklearn.model_selection import KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdir.datasets import make_imbalanced_regression
from skdir.density import LabelDensity
from skdir.metrics import balanced_mae_scorer, few_shot_mae_scorer
from skdir.nn import DIRRegressor
from skdir.weighting import LDSWeighter

X, y = make_imbalanced_regression(1200, 32, imbalance=1.0, random_state=0)
cv = KFold(3, shuffle=True, random_state=0)
scoring = {
    "mae": "neg_mean_absolute_error",
    "few_shot_mae": few_shot_mae_scorer,
    "balanced_mae": balanced_mae_scorer,
}

results = {}
for name, weighter in [("vanilla", None), ("LDS", LDSWeighter(n_bins=30))]:
    net = DIRRegressor(
        weighter=weighter,
        label_density=LabelDensity(n_bins=30),
        max_epochs=30,
        batch_size=128,
        random_state=0,
        device="cpu",
        target_transformer=StandardScaler(),
    )
    scores = cross_validate(make_pipeline(StandardScaler(), net), X, y, cv=cv, scoring=scoring)
    results[name] = {key: -scores[f"test_{key}"].mean() for key in scoring}
    print(
        f"{name:>8}: MAE {results[name]['mae']:.3f}, few-shot MAE "
        f"{results[name]['few_shot_mae']:.3f}, balanced MAE {results[name]['balanced_mae']:.3f}"
    )

before, after = results["vanilla"]["few_shot_mae"], results["LDS"]["few_shot_mae"]
print(f"few-shot MAE {before:.3f} -> {after:.3f} with LDS")
assert after < before
