"""
Tune a DIR pipeline with an Optuna study kept in a shared storage
=================================================================

:class:`~skdir.model_selection.DIRSearchCV` has the ``GridSearchCV`` surface and runs
an Optuna study: here the study lives in an SQLite file, so the search can be
stopped and resumed, and several processes (or machines, with a PostgreSQL/MySQL URL)
running the same search on the same storage share its trials. They may all start at
once on a fresh storage, with nothing created beforehand: a worker that collides with
another one creating Optuna's tables or the study retries. The second ``fit`` below
continues the study: its finished trials count toward ``n_trials`` (a trial left
``RUNNING`` by a killed worker does not, and the resumed search warns about it).
Tuned on the balanced MAE, which estimates the error with every target range equally
represented.

    python examples/optuna_shared_study.py
"""

import tempfile
from pathlib import Path

import pandas as pd
from imblearn.pipeline import make_pipeline
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsRegressor
from sklearn.preprocessing import StandardScaler

from skdir.datasets import make_imbalanced_regression
from skdir.metrics import balanced_mae_scorer
from skdir.model_selection import DIRSearchCV
from skdir.resampling import SMOGN

X, y = make_imbalanced_regression(1500, 32, imbalance=1.0, random_state=0)
pipeline = make_pipeline(StandardScaler(), SMOGN(random_state=0), KNeighborsRegressor())
space = {
    "smogn__rel_thres": (0.3, 0.9),
    "smogn__k_neighbors": [3, 5, 9],
    "smogn__pert": (0.01, 0.2, "log"),
    "kneighborsregressor__n_neighbors": (2, 40),
    "kneighborsregressor__weights": ["uniform", "distance"],
}
cv = KFold(3, shuffle=True, random_state=0)

with tempfile.TemporaryDirectory() as folder:
    # a fresh file: the first fit creates the tables and the study (to share the study,
    # give every worker the same path or database URL and the same study_name)
    storage = f"sqlite:///{Path(folder) / 'study.db'}"
    search_args = dict(
        scoring=balanced_mae_scorer, cv=cv, storage=storage, study_name="knn-smogn", random_state=0
    )
    first = DIRSearchCV(pipeline, space, n_trials=6, **search_args).fit(X, y)
    print(f"first run: {len(first.study_.trials)} trials in the study")
    resumed = DIRSearchCV(pipeline, space, n_trials=12, **search_args).fit(X, y)
    print(f"resumed run: {len(resumed.study_.trials)} trials in the study (6 new)")

results = pd.DataFrame(resumed.cv_results_)
print(results[["mean_test_score", "rank_test_score"]].sort_values("rank_test_score").head(3))
default = -cross_val_score(pipeline, X, y, cv=cv, scoring=balanced_mae_scorer).mean()
print(f"balanced MAE: default parameters {default:.3f}, tuned {-resumed.best_score_:.3f}")
assert -resumed.best_score_ < default
