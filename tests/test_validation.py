"""Shared input validation: complex data is rejected everywhere skdir reads values itself."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge

from skdir._validation import as_real_array, check_target, check_target_pair
from skdir.density import LabelDensity
from skdir.fragments import (
    FragmentAggregator,
    FragmentSubsampler,
    aggregate_targets,
    check_bags,
    choose_target_aggregation,
    make_bags,
)
from skdir.metrics import (
    balanced_mae_scorer,
    balanced_mean_absolute_error,
    balanced_mean_squared_error,
    balanced_mse_scorer,
    dir_report,
    few_shot_mae_scorer,
    few_shot_mse_scorer,
    geometric_mean_error,
    make_shot_scorer,
    pearson_correlation,
    sera,
    shot_metrics,
)
from skdir.nn.losses import BalancedMSELoss
from skdir.resampling import (
    SMOGN,
    SMOTER,
    GaussianNoiseSampler,
    RandomOverSampler,
    RandomUnderSampler,
    Relevance,
    medcouple,
    pchip_relevance,
    rare_segments,
)
from skdir.target import TargetDistributionNormalizer
from skdir.weighting import DenseWeighter, DensityWeightedRegressor, LDSWeighter

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 4))
Y = np.round(RNG.exponential(size=60), 3) + np.linspace(0.0, 0.01, 60)  # distinct, skewed
YC = Y + 1j * RNG.normal(size=60)  # complex: the imaginary part must not be dropped quietly
Y_REAL_PART_ONLY = Y + 0j  # complex dtype, zero imaginary part: still complex data
DENSITY = LabelDensity(n_bins=10).fit(Y)
MODEL = DensityWeightedRegressor(Ridge()).fit(X, Y)
BAGS = [RNG.normal(size=(k, 3)) for k in (1, 2, 3, 2)]


def _fitted(estimator):
    return estimator.fit(Y)


# Every public callable that reads a target (or y_true / y_pred), called with complex data.
TARGET_CALLS = {
    "check_target": lambda y: check_target(y),
    "check_target_pair(y_true)": lambda y: check_target_pair(y, Y),
    "check_target_pair(y_pred)": lambda y: check_target_pair(Y, y),
    "LabelDensity.fit": lambda y: LabelDensity().fit(y),
    "LabelDensity.bin_index": lambda y: DENSITY.bin_index(y),
    "LabelDensity.flat_bin_index": lambda y: DENSITY.flat_bin_index(y),
    "LabelDensity.effective_density": lambda y: DENSITY.effective_density(y),
    "LabelDensity.weights": lambda y: DENSITY.weights(y),
    "LabelDensity.expected_counts": lambda y: DENSITY.expected_counts(y),
    "LabelDensity.shot_regions": lambda y: DENSITY.shot_regions(y, 5, 2),
    "LDSWeighter.fit": lambda y: LDSWeighter().fit(y),
    "LDSWeighter.fit_transform": lambda y: LDSWeighter().fit_transform(y),
    "LDSWeighter.transform": lambda y: _fitted(LDSWeighter()).transform(y),
    "DenseWeighter.fit": lambda y: DenseWeighter().fit(y),
    "DenseWeighter.fit_transform": lambda y: DenseWeighter().fit_transform(y),
    "DenseWeighter.transform": lambda y: _fitted(DenseWeighter()).transform(y),
    "DensityWeightedRegressor.fit": lambda y: DensityWeightedRegressor(Ridge()).fit(X, y),
    "TargetDistributionNormalizer.fit": lambda y: TargetDistributionNormalizer().fit(y),
    "TargetDistributionNormalizer.transform": lambda y: _fitted(
        TargetDistributionNormalizer()
    ).transform(y),
    "TargetDistributionNormalizer.inverse_transform": lambda y: _fitted(
        TargetDistributionNormalizer()
    ).inverse_transform(y),
    "Relevance.fit": lambda y: Relevance().fit(y),
    "Relevance.phi": lambda y: _fitted(Relevance()).phi(y),
    "Relevance(density).fit": lambda y: Relevance("density").fit(y),
    "medcouple": lambda y: medcouple(y),
    "pchip_relevance": lambda y: pchip_relevance(y, [[0.0, 0.0], [1.0, 1.0]]),
    "rare_segments(y)": lambda y: rare_segments(y, np.zeros(60), 0.5),
    "rare_segments(phi)": lambda y: rare_segments(Y, [v / 10 for v in y], 0.5),
    "SMOGN.fit_resample": lambda y: SMOGN(random_state=0).fit_resample(X, y),
    "SMOTER.fit_resample": lambda y: SMOTER(random_state=0).fit_resample(X, y),
    "GaussianNoiseSampler.fit_resample": lambda y: GaussianNoiseSampler(
        random_state=0
    ).fit_resample(X, y),
    "RandomOverSampler.fit_resample": lambda y: RandomOverSampler(random_state=0).fit_resample(
        X, y
    ),
    "RandomUnderSampler.fit_resample": lambda y: RandomUnderSampler(random_state=0).fit_resample(
        X, y
    ),
    "FragmentSubsampler.fit_resample": lambda y: FragmentSubsampler(random_state=0).fit_resample(
        X, y
    ),
    "aggregate_targets": lambda y: aggregate_targets(y, np.arange(60) // 2),
    "choose_target_aggregation": lambda y: choose_target_aggregation(y, np.arange(60) // 2),
    "make_bags(y_frag)": lambda y: make_bags(X, np.arange(60) // 2, y),
    "geometric_mean_error(y_true)": lambda y: geometric_mean_error(y, Y),
    "geometric_mean_error(y_pred)": lambda y: geometric_mean_error(Y, y),
    "pearson_correlation(y_true)": lambda y: pearson_correlation(y, Y),
    "pearson_correlation(y_pred)": lambda y: pearson_correlation(Y, y),
    "balanced_mean_absolute_error(y_true)": lambda y: balanced_mean_absolute_error(y, Y),
    "balanced_mean_absolute_error(y_pred)": lambda y: balanced_mean_absolute_error(Y, y),
    "balanced_mean_squared_error(y_true)": lambda y: balanced_mean_squared_error(y, Y),
    "balanced_mean_squared_error(y_pred)": lambda y: balanced_mean_squared_error(Y, y),
    "sera(y_true)": lambda y: sera(y, Y, np.ones(60)),
    "sera(y_pred)": lambda y: sera(Y, y, np.ones(60)),
    "sera(relevance values)": lambda y: sera(Y, Y, [v / 100 for v in y]),
    "sera(relevance callable)": lambda y: sera(Y, Y, lambda t: [v / 100 for v in y]),
    "shot_metrics(y_true)": lambda y: shot_metrics(y, Y, y_train=Y),
    "shot_metrics(y_pred)": lambda y: shot_metrics(Y, y, y_train=Y),
    "shot_metrics(y_train)": lambda y: shot_metrics(Y, Y, y_train=y),
    "dir_report(y_true)": lambda y: dir_report(y, Y, y_train=Y),
    "dir_report(y_pred)": lambda y: dir_report(Y, y, y_train=Y),
    "dir_report(y_train)": lambda y: dir_report(Y, Y, y_train=y),
    "balanced_mae_scorer": lambda y: balanced_mae_scorer(MODEL, X, y),
    "balanced_mse_scorer": lambda y: balanced_mse_scorer(MODEL, X, y),
    "few_shot_mae_scorer": lambda y: few_shot_mae_scorer(MODEL, X, y),
    "few_shot_mse_scorer": lambda y: few_shot_mse_scorer(MODEL, X, y),
    "make_shot_scorer(label_density)": lambda y: make_shot_scorer(
        "gm", "all", label_density=DENSITY
    )(DummyRegressor().fit(X, Y), X, y),
}


@pytest.mark.parametrize("data", [YC, Y_REAL_PART_ONLY], ids=["complex", "zero-imaginary"])
@pytest.mark.parametrize("call", list(TARGET_CALLS.values()), ids=list(TARGET_CALLS))
def test_complex_target_is_rejected_without_complex_warning(call, data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="Complex data not supported"):
            call(data)
    complex_warnings = [w for w in caught if issubclass(w.category, np.exceptions.ComplexWarning)]
    assert complex_warnings == []


@pytest.mark.parametrize("call", list(TARGET_CALLS.values()), ids=list(TARGET_CALLS))
def test_complex_target_as_python_list_is_rejected(call):
    with pytest.raises(ValueError, match="Complex data not supported"):
        call(list(YC))


def test_complex_two_target_y_is_rejected():
    y2 = np.column_stack([Y, Y[::-1]]).astype(complex)
    for call in (LabelDensity().fit, LDSWeighter().fit, TargetDistributionNormalizer().fit):
        with pytest.raises(ValueError, match="Complex data not supported"):
            call(y2)


# Every place where skdir reads X (or other arrays) itself instead of through validate_data.
X_CALLS = {
    "make_bags(X_frag)": lambda: make_bags(X + 1j, np.arange(60) // 2),
    "make_bags(object X_frag)": lambda: make_bags(
        np.array([[1.0, 2j], [3.0, 4.0]], dtype=object), [0, 1]
    ),
    "check_bags(list)": lambda: check_bags([b + 0j for b in BAGS]),
    "check_bags(padded)": lambda: check_bags(check_bags(BAGS) + 0j),
    "check_bags(object bag)": lambda: check_bags([np.array([[1.0, 1j]], dtype=object)]),
    "FragmentAggregator.fit": lambda: FragmentAggregator().fit([b + 0j for b in BAGS]),
    "FragmentAggregator.transform(weights)": lambda: (
        FragmentAggregator()
        .fit(BAGS)
        .transform(BAGS, fragment_weights=[np.ones(len(b)) + 0j for b in BAGS])
    ),
    "FragmentSubsampler(bags)": lambda: FragmentSubsampler().fit_resample(
        [b + 0j for b in BAGS], [1.0, 2.0, 3.0, 4.0]
    ),
    "FragmentSubsampler(table)": lambda: FragmentSubsampler().fit_resample(X + 0j, Y),
    "aggregate_targets(weights)": lambda: aggregate_targets(
        Y, np.arange(60) // 2, weights=np.ones(60) + 0j
    ),
    "LabelDensity(bin_range)": lambda: LabelDensity(bin_range=(0.0, 10.0 + 0j)).fit(Y),
    "LabelDensity.smooth": lambda: DENSITY.smooth(np.ones(10) + 0j),
    "pchip_relevance(control_points)": lambda: pchip_relevance(Y, [[0.0, 0.0], [1.0, 1.0 + 0j]]),
    "Relevance(control_points)": lambda: Relevance(
        "control_points", control_points=[[0.0, 0.0], [1.0 + 0j, 1.0]]
    ).fit(Y),
    "metrics multioutput": lambda: balanced_mean_absolute_error(
        np.column_stack([Y, Y]), np.column_stack([Y, Y]), multioutput=[1.0, 1.0 + 0j]
    ),
    "DensityWeightedRegressor(X)": lambda: DensityWeightedRegressor(Ridge()).fit(X + 0j, Y),
    "DensityWeightedRegressor(sample_weight)": lambda: DensityWeightedRegressor(Ridge()).fit(
        X, Y, sample_weight=np.ones(60) + 0j
    ),
    "BalancedMSELoss(prior_locations)": lambda: BalancedMSELoss(
        "bni", prior_locations=[0.0, 1.0 + 0j], prior_probs=[0.5, 0.5]
    ),
    "BalancedMSELoss(prior_probs)": lambda: BalancedMSELoss(
        "bni", prior_locations=[0.0, 1.0], prior_probs=[0.5, 0.5 + 0j]
    ),
}


@pytest.mark.parametrize("call", list(X_CALLS.values()), ids=list(X_CALLS))
def test_complex_inputs_read_by_skdir_are_rejected(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="Complex data not supported"):
            call()
    assert not [w for w in caught if issubclass(w.category, np.exceptions.ComplexWarning)]


def test_as_real_array_keeps_real_values_and_names_the_input():
    np.testing.assert_array_equal(as_real_array([1, 2], "w"), [1.0, 2.0])
    assert as_real_array(np.ones(2, np.float32), "w", dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match=r"w holds complex numbers.*np\.real\(w\)"):
        as_real_array([1.0, 2.0 + 1e-30j], "w")
    with pytest.raises(ValueError, match="w must be numeric; could not convert"):
        as_real_array(["a"], "w")


def test_complex_torch_batch_is_not_a_target():
    # torch tensors reach the losses, not check_target; the validation helper still
    # rejects a complex tensor if one is passed as an array-like
    with pytest.raises(ValueError, match="Complex data not supported"):
        check_target(torch.tensor([1.0 + 1j, 2.0]).numpy())


# --------------------- sweep of bad inputs in modules without a test file of this item
def test_dense_weighter_names_an_overflowing_variance():
    y = np.r_[np.linspace(0.0, 1.0, 39), 1e308]
    # was scipy's "array must not contain infs or NaNs" from inside the KDE
    with pytest.raises(ValueError, match=r"variance overflows float64\. Rescale y"):
        DenseWeighter().fit(y)
    # rescaled, the same targets weigh: the outlier is the rarest, the mean weight is 1
    weights = DenseWeighter().fit_transform(y / 1e308)
    assert weights.mean() == pytest.approx(1.0) and weights.argmax() == 39


def test_relevance_helpers_check_their_inputs():
    y = np.array([5.0, 1.0, 2.0, 9.0, 3.0])
    # phi of another length used to fail with an IndexError inside the sort
    with pytest.raises(ValueError, match="phi has 3 values but y has 5; give one relevance"):
        rare_segments(y, [0.9, 0.8, 0.0], 0.5)
    with pytest.raises(ValueError, match="phi contains NaN"):
        rare_segments(y, [0.9, np.nan, 0.0, 1.0, 0.0], 0.5)
    with pytest.raises(ValueError, match="y contains NaN"):
        rare_segments([5.0, np.nan], [0.9, 0.8], 0.5)
    segment, is_rare = rare_segments(y, [0.9, 0.8, 0.0, 1.0, 0.0], 0.5)
    assert segment.tolist() == [2, 0, 1, 2, 1] and is_rare.tolist() == [True, False, True]
    # pchip_relevance read every entry of a 2-D y as one target; NaN gave NaN relevance
    with pytest.raises(ValueError, match="y has 2 target columns but at most 1"):
        pchip_relevance(np.ones((3, 2)), [[0, 0, 0], [1, 1, 0]])
    with pytest.raises(ValueError, match="y contains NaN"):
        pchip_relevance([0.5, np.nan], [[0, 0, 0], [1, 1, 0]])
    np.testing.assert_allclose(
        pchip_relevance([[0.0], [0.5], [2.0]], [[0, 0, 0], [1, 1, 0]]), [0.0, 0.5, 1.0]
    )


# ------------------------------------------ one target-count check: check_target(reset=)
class _Holder:
    """A bare object: check_target needs nothing of an estimator but its attribute."""


def test_check_target_reset_sets_the_number_of_targets():
    holder = _Holder()
    assert check_target([1.0, 2.0], estimator=holder, reset=True).shape == (2,)
    assert holder.n_targets_ == 1
    check_target([[1.0, 2.0], [3.0, 5.0]], estimator=holder, reset=True)
    assert holder.n_targets_ == 2  # reset overwrites, as validate_data does n_features_in_
    check_target([[1.0], [3.0]], estimator=holder, reset=True, attribute="n_outputs_")
    assert holder.n_outputs_ == 1 and holder.n_targets_ == 2


def test_check_target_without_reset_checks_and_leaves_the_attribute():
    holder = _Holder()
    holder.n_targets_ = 2
    y = check_target([[1.0, 2.0]], estimator=holder, reset=False)
    np.testing.assert_array_equal(y, [[1.0, 2.0]])
    assert holder.n_targets_ == 2
    with pytest.raises(ValueError) as info:
        check_target([1.0, 2.0, 3.0], estimator=holder, reset=False)
    assert str(info.value) == (
        "y has 1 target(s) but this _Holder was fitted on 2; pass targets with the same "
        "columns as in fit."
    )
    # a (n, 1) column is one target, like a 1-D y
    holder.n_targets_ = 1
    assert check_target([[1.0], [2.0]], estimator=holder, reset=False).shape == (2, 1)
    # the attribute and the name are the caller's
    holder.n_outputs_ = 1
    with pytest.raises(ValueError) as info:
        check_target(
            np.ones((4, 3)),
            estimator=holder,
            reset=False,
            attribute="n_outputs_",
            name="eval_set targets",
            max_targets=np.inf,
        )
    assert str(info.value) == (
        "eval_set targets has 3 target(s) but this _Holder was fitted on 1; pass targets "
        "with the same columns as in fit."
    )


def test_check_target_validates_y_before_counting_targets():
    holder = _Holder()
    holder.n_targets_ = 1
    with pytest.raises(ValueError, match="y contains NaN"):
        check_target(np.array([[np.nan, 1.0]]), estimator=holder, reset=False)
    with pytest.raises(ValueError, match="y has 3 target columns but at most 2"):
        check_target(np.ones((2, 3)), estimator=holder, reset=False)
    # without the attribute (never fitted) there is nothing to compare, as in scikit-learn
    fresh = _Holder()
    assert check_target([[1.0, 2.0]], estimator=fresh, reset=False).shape == (1, 2)
    assert not hasattr(fresh, "n_targets_")
    # without an estimator nothing is set or checked
    assert check_target([[1.0, 2.0]], reset=False).shape == (1, 2)


Y2 = np.column_stack([Y, Y[::-1] * 3.0])

# Every estimator that records its number of targets, fitted on two targets and then
# given one: the message comes from check_target.
TARGET_COUNT_CALLS = {
    "LabelDensity": lambda: LabelDensity(n_bins=10).fit(Y2).bin_index(Y),
    "LDSWeighter": lambda: LDSWeighter(n_bins=10).fit(Y2).transform(Y),
    "DenseWeighter": lambda: DenseWeighter().fit(Y2).transform(Y),
    "TargetDistributionNormalizer": lambda: (
        TargetDistributionNormalizer("standard").fit(Y2).transform(Y)
    ),
    "Relevance": lambda: Relevance().fit(Y2).phi(Y),
}


@pytest.mark.parametrize("name", list(TARGET_COUNT_CALLS))
def test_fitted_estimators_check_the_number_of_targets_in_one_place(name):
    with pytest.raises(ValueError) as info:
        TARGET_COUNT_CALLS[name]()
    assert str(info.value) == (
        f"y has 1 target(s) but this {name} was fitted on 2; pass targets with the same "
        "columns as in fit."
    )


def test_normalizer_inverse_transform_counts_the_targets_of_z():
    normalizer = TargetDistributionNormalizer("standard").fit(Y2)
    with pytest.raises(ValueError) as info:
        normalizer.inverse_transform(np.zeros((3, 3)))
    assert str(info.value) == (
        "z has 3 target(s) but this TargetDistributionNormalizer was fitted on 2; pass "
        "targets with the same columns as in fit."
    )
    assert normalizer.inverse_transform(np.zeros((3, 2))).shape == (3, 2)


def test_dir_regressor_keeps_n_outputs_and_the_shared_message():
    from skdir.nn import DIRRegressor

    net = DIRRegressor(max_epochs=1, module__hidden=(4,), device="cpu", random_state=0)
    net.fit(X.astype(np.float32), Y)
    assert net.n_outputs_ == 1 and not hasattr(net, "n_targets_")
    with pytest.raises(ValueError) as info:
        net.partial_fit(X, Y2)
    assert str(info.value) == (
        "y has 2 target(s) but this DIRRegressor was fitted on 1; pass targets with the "
        "same columns as in fit."
    )
    with pytest.raises(ValueError) as info:
        DIRRegressor(max_epochs=1, device="cpu", random_state=0).fit(X, Y, eval_set=(X, Y2))
    assert str(info.value) == (
        "eval_set targets has 2 target(s) but this DIRRegressor was fitted on 1; pass "
        "targets with the same columns as in fit."
    )


# ------------------------------------------------- @validate_params on public functions
def test_non_bool_interval_rejects_flags_and_keeps_sklearns_text():
    from numbers import Integral, Real

    from skdir._validation import NonBoolInterval

    count = NonBoolInterval(Integral, 1, None, closed="left")
    assert [count.is_satisfied_by(v) for v in (1, np.int64(3), True, np.True_, 0, 1.0)] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    share = NonBoolInterval(Real, 0, 1, closed="right")
    assert [share.is_satisfied_by(v) for v in (0.5, 1, False, 0.0, np.nan)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert str(count) == "an int in the range [1, inf)"
    assert str(share) == "a float in the range (0.0, 1.0]"


def _public_functions():
    from skdir.datasets import load_stsb_dir, make_imbalanced_regression
    from skdir.density import kernel_window

    return [
        kernel_window,
        make_bags,
        aggregate_targets,
        choose_target_aggregation,
        check_bags,
        medcouple,
        pchip_relevance,
        rare_segments,
        make_imbalanced_regression,
        load_stsb_dir,
    ]


@pytest.mark.parametrize("function", _public_functions(), ids=lambda f: f.__name__)
def test_public_functions_validate_every_named_parameter(function):
    import inspect

    from sklearn.utils._param_validation import InvalidParameterError

    constraints = function._skl_parameter_constraints
    signature = inspect.signature(function)
    named = [
        p.name
        for p in signature.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    assert sorted(constraints) == sorted(named)
    # the first parameter, given an object no constraint admits, is named in the error
    # (parameters are validated in order; the other required ones only have to bind)
    required = [
        p.name for p in signature.parameters.values() if p.default is inspect.Parameter.empty
    ]
    arguments = {name: [0.0, 1.0] for name in required if name in named}
    arguments[named[0]] = object()
    with pytest.raises(
        InvalidParameterError, match=f"'{named[0]}' parameter of {function.__name__}"
    ):
        function(**arguments)
