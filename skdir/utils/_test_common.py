"""Small, fast instances of every skdir estimator for the common checks.

Each module adds its estimators here: ``INIT_PARAMS`` gives constructor
arguments for a quick test instance, ``EXPECTED_FAILED_CHECKS`` the
scikit-learn checks that cannot apply, each with its reason, and
``NOT_AN_X_ESTIMATOR`` the estimators that take no ``X`` at all.
"""

from __future__ import annotations

from typing import Any

#: Constructor arguments of the test instance, by class name.
INIT_PARAMS: dict[str, dict[str, Any]] = {
    "DIRRegressor": {
        "max_epochs": 15,
        "lr": 0.01,
        "module__hidden": (16,),
        "device": "cpu",
        "random_state": 0,
    },
}


def _sampler_params(name: str) -> dict[str, Any]:
    """skdir.resampling test instances.

    The checks' targets are class-like integers (0/1, 0/1/2) without box-plot outliers and
    often with equal counts, so neither the box-plot nor the density relevance finds a rare
    sample. The adjusted box plot with ``coef=0`` puts relevance 1 at the quartiles, which
    makes the samples beyond them rare for any such target.
    """
    from skdir.resampling import Relevance

    params: dict[str, Any] = {"relevance": Relevance("adjusted_box", coef=0.0), "random_state": 0}
    if name in ("SMOGN", "SMOTER"):
        params["k_neighbors"] = 2
    return params


for _name in (
    "GaussianNoiseSampler",
    "RandomOverSampler",
    "RandomUnderSampler",
    "SMOGN",
    "SMOTER",
):
    INIT_PARAMS[_name] = _sampler_params(_name)

#: ``{class name: {check name: reason}}`` for checks that cannot apply.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "DIRRegressor": {
        "check_no_attributes_set_in_init": (
            "skorch's NeuralNet.__init__ sets history_, initialized_ and virtual_params_."
        ),
        "check_set_params": (
            "skorch lists its private _params_to_validate set in get_params(); fuzzing it "
            "with other values breaks skorch."
        ),
        "check_sample_weight_equivalence_on_dense_data": (
            "minibatch SGD with early stopping: integer weights are not equivalent to "
            "repeated rows (different batches and validation split)."
        ),
        "check_methods_subset_invariance": (
            "float32 matrix products are not bit-identical across batch shapes: predictions "
            "of a row alone and in a batch differ by about one float32 ulp (1e-7 relative), "
            "above the check's tolerance."
        ),
    },
}

#: Estimators fitted on targets alone, to which the X-based checks cannot apply.
NOT_AN_X_ESTIMATOR: dict[str, str] = {
    "LabelDensity": "fit(y) takes targets only, like LabelEncoder; tested in test_density.py",
    "Relevance": "fit(y) takes targets only; tested in test_resampling_relevance.py",
    "FeatureDistributionSmoothing": (
        "a DIRRegressor component: fit(y) bins targets only; tested in test_nn_fds.py"
    ),
}


# skdir.target and skdir.weighting. The weighters and the normalizer are fitted on targets
# alone; DensityWeightedRegressor is checked around a Ridge.
NOT_AN_X_ESTIMATOR.update(
    {
        "TargetDistributionNormalizer": "fit(y) transforms targets only; tested in test_target.py",
        "LDSWeighter": "fit(y) takes targets only; tested in test_weighting.py",
        "DenseWeighter": "fit(y) takes targets only; tested in test_weighting.py",
    }
)


def _density_weighted_params() -> dict[str, Any]:
    from sklearn.linear_model import Ridge

    return {"regressor": Ridge()}


INIT_PARAMS["DensityWeightedRegressor"] = _density_weighted_params()
# FeatureDensityWeighter is fitted on X (a feature-space weighter): the checks fit it on
# as few as 10 rows, below the default n_neighbors=10.
INIT_PARAMS["FeatureDensityWeighter"] = {"n_neighbors": 3, "random_state": 0}
_DENSITY_WEIGHTS_NOT_COUNTS = (
    "the density weights are computed from the training targets as given: repeating a row "
    "changes its bin count (and so every weight), an integer sample_weight does not."
)
EXPECTED_FAILED_CHECKS["DensityWeightedRegressor"] = {
    "check_sample_weight_equivalence_on_dense_data": _DENSITY_WEIGHTS_NOT_COUNTS,
    "check_sample_weight_equivalence_on_sparse_data": _DENSITY_WEIGHTS_NOT_COUNTS,
    "check_regressor_multioutput": (
        "the check fits 5 targets; label densities (LDS grid, 2-D KDE) cover at most two."
    ),
}


def make_instance(cls: type) -> Any:
    """Return a fresh test instance of ``cls`` (sub-estimators cloned, never shared)."""
    from sklearn.base import clone

    return clone(cls(**INIT_PARAMS.get(cls.__name__, {})))


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """Return the checks ``estimator`` is known to fail, with reasons."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def _search_params() -> dict[str, Any]:
    """skdir.model_selection.DIRSearchCV test instance: a 3-trial search over Ridge's alpha."""
    from sklearn.linear_model import Ridge

    return {
        "estimator": Ridge(),
        "param_distributions": {"alpha": (0.1, 10.0, "log")},
        "n_trials": 3,
        "cv": 3,
        "random_state": 0,
    }


INIT_PARAMS["DIRSearchCV"] = _search_params()


# skdir.fragments: several stats, so that the checks reach the order statistics too.
INIT_PARAMS["FragmentAggregator"] = {"stats": ("mean", "median", "std", "count")}
INIT_PARAMS["FragmentSubsampler"] = {"random_state": 0}


def _pipeline_params() -> dict[str, Any]:
    """skdir.pipeline.Pipeline test instance: SMOGN then Ridge."""
    from sklearn.linear_model import Ridge

    from skdir.resampling import SMOGN

    smogn = SMOGN(**_sampler_params("SMOGN"), k_neighbors_fallback=True)
    return {"steps": [("smogn", smogn), ("ridge", Ridge())]}


INIT_PARAMS["Pipeline"] = _pipeline_params()
EXPECTED_FAILED_CHECKS["Pipeline"] = {
    "check_estimators_overwrite_params": (
        "a Pipeline fits its steps in place (as imbalanced-learn's and scikit-learn's do)."
    ),
    "check_dont_overwrite_parameters": (
        "a Pipeline fits its steps in place (as imbalanced-learn's and scikit-learn's do)."
    ),
    "check_regressor_multioutput": (
        "the check fits 5 targets; the regression samplers cover at most two."
    ),
}


def _bagged_params() -> dict[str, Any]:
    """skdir.ensemble.BaggedRegressor test instance: three fold-bagged Ridges."""
    from sklearn.linear_model import Ridge

    return {"estimator": Ridge(), "n_members": 3, "random_state": 0}


INIT_PARAMS["BaggedRegressor"] = _bagged_params()
_FOLDS_NOT_COUNTS = (
    "the folds are drawn over the rows: repeating a row changes the folds (and so every "
    "member), an integer sample_weight does not."
)
EXPECTED_FAILED_CHECKS["BaggedRegressor"] = {
    "check_sample_weight_equivalence_on_dense_data": _FOLDS_NOT_COUNTS,
    "check_sample_weight_equivalence_on_sparse_data": _FOLDS_NOT_COUNTS,
}


def _auto_params() -> dict[str, Any]:
    """skdir.auto.AutoDIRRegressor test instance: the fast preset on two ridge candidates.

    The preset's HistGradientBoosting and network candidates would make the ~50 checks
    take minutes; their own fits are checked through their estimators and in test_auto.py.
    """
    return {
        "preset": "fast",
        "candidates": ["ridge", "ridge+lds"],
        "n_folds": 3,
        "random_state": 0,
    }


INIT_PARAMS["AutoDIRRegressor"] = _auto_params()
EXPECTED_FAILED_CHECKS["AutoDIRRegressor"] = {
    "check_regressor_multioutput": (
        "the check fits 5 targets; the label density of the region errors covers at most two."
    ),
}


def _conformal_params() -> dict[str, Any]:
    """skdir.conformal.ConformalDIRRegressor test instance: split conformal around a Ridge."""
    from sklearn.linear_model import Ridge

    return {"estimator": Ridge(), "random_state": 0}


INIT_PARAMS["ConformalDIRRegressor"] = _conformal_params()


def _quantile_params() -> dict[str, dict[str, Any]]:
    """skdir.conformal quantile wrappers: gradient-boosted quantile models at 0.1/0.5/0.9."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    from skdir.conformal import MultiQuantileRegressor

    hgb = HistGradientBoostingRegressor(loss="quantile", max_iter=20, random_state=0)
    multi = MultiQuantileRegressor(hgb, quantiles=(0.1, 0.5, 0.9))
    return {
        "MultiQuantileRegressor": {"estimator": hgb, "quantiles": (0.1, 0.5, 0.9)},
        "QuantileAverager": {"estimators": [("a", multi), ("b", multi)]},
    }


INIT_PARAMS.update(_quantile_params())
