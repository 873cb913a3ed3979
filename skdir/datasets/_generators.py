"""Synthetic imbalanced-regression data shaped like transformer embeddings."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from numpy.typing import NDArray
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import validate_params

from .._validation import NonBoolInterval, check_positive_int

__all__ = ["make_imbalanced_regression", "make_long_tail_regression"]

#: Latent factors seen by every modality. Target ``k`` reads factors
#: ``4 k .. 4 k + 3``; factors 8..11 carry no target information.
_N_SHARED = 12
#: Latent factors seen by one modality only (encoder-specific content).
_N_SPECIFIC = 8
#: Latent factors read by one target.
_N_SIGNAL = 4
#: Share of a column's variance from shared factors, specific factors and
#: isotropic column noise (before the per-row normalisation).
_SHARED_VAR, _SPECIFIC_VAR, _COLUMN_NOISE_VAR = 0.30, 0.40, 0.30
#: Standard deviation of the per-column offsets (the common direction that
#: makes real sentence embeddings anisotropic).
_OFFSET_SD = 1.0
#: Coefficients of the nonlinear signal: linear term, product term, sine term.
_LINEAR, _PRODUCT, _SINE = 1.0, 0.5, 0.5
#: Population standard deviation of the unscaled signal, for z ~ N(0, I):
#: Var(z0) = 1, Var(z1 z2) = 1, Var(sqrt(2) sin(z3)) = 1 - exp(-2).
_SIGNAL_SD = float(np.sqrt(_LINEAR**2 + _PRODUCT**2 + _SINE**2 * (1.0 - np.exp(-2.0))))
#: The skewing transform is ``expm1(rate * t) / rate`` with ``rate = _SKEW_RATE * imbalance``.
_SKEW_RATE = 0.5
#: Second target = _SCALE_2 * transformed signal + _SHIFT_2 (a different unit).
_SCALE_2, _SHIFT_2 = 10.0, 50.0
#: Fragment mode: standard deviation of a fragment's latent factors around its
#: sample's, and scale of the heavy-tailed (Laplace: kurtosis 6, and the median
#: is the efficient estimate of its centre) per-fragment target deviation in
#: the latent target space. Laplace tails stay finite through the skewing
#: transform (a Student t would give infinite moments after ``exp``).
_FRAGMENT_LATENT_SD = 0.5
_FRAGMENT_TARGET_SCALE = 0.2
#: Rows are processed in chunks of this many to bound temporary memory.
_CHUNK = 16384


@validate_params(
    {
        "n_samples": [NonBoolInterval(Integral, 1, None, closed="left")],
        "n_features": [NonBoolInterval(Integral, 1, None, closed="left"), list, tuple],
        "n_targets": [NonBoolInterval(Integral, 1, 2, closed="both")],
        "imbalance": [NonBoolInterval(Real, 0, None, closed="left")],
        "n_modalities": [NonBoolInterval(Integral, 1, None, closed="left"), None],
        "n_fragments": [NonBoolInterval(Integral, 1, None, closed="left"), tuple, list, None],
        "noise": [NonBoolInterval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_imbalanced_regression(
    n_samples: int = 1000,
    n_features: int | list[int] | tuple[int, ...] = 768,
    *,
    n_targets: int = 1,
    imbalance: float = 1.0,
    n_modalities: int | None = None,
    n_fragments: int | tuple[int, int] | None = None,
    noise: float = 0.1,
    random_state: int | np.random.RandomState | None = None,
):
    """Generate embedding-like inputs with skewed, long-tailed regression targets.

    The inputs imitate concatenated transformer embeddings (for instance a text
    and an image encoder): the columns are split into ``n_modalities``
    contiguous blocks (of the sizes given by a list ``n_features``, e.g.
    ``[384, 512]`` for a 384-wide text and a 512-wide image embedding); each
    block is a random low-rank projection of 12 latent factors shared by all
    modalities and 8 factors specific to that modality,
    plus a constant per-column offset (the anisotropy of real embeddings) and
    isotropic column noise; every block of every row is then scaled to unit
    Euclidean norm, as sentence-transformers models do. Columns are therefore
    correlated, more within a block than across blocks (mean absolute
    correlation about 0.12 against 0.07), and each block has low effective
    rank.

    Each target is a nonlinear function of four shared latent factors ``z``
    (disjoint factors for the two targets, so two targets are independent),

    ``s = (z0 + 0.5 z1 z2 + 0.5 sqrt(2) sin(z3)) / c``,

    with ``c`` making ``Var(s) = 1`` exactly for standard normal factors (so
    the target does not depend on sample statistics), plus noise,
    ``t = s + noise * e`` with ``e ~ N(0, 1)``, pushed through the skewing
    transform ``y = (exp(r t) - 1) / r`` with ``r = imbalance / 2`` (``y = t``
    when ``imbalance=0``). Larger ``imbalance`` gives a longer right tail:
    the rare, high targets that deep imbalanced regression is about. About
    80 % of the signal's variance is linear in ``z``; the product and the
    curvature of the sine and of the skewing transform are left for nonlinear
    models. The second target is ``10 * y' + 50`` (``y'`` made as above from
    its own factors) so that the two targets have different scales, as real
    targets do.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples (bags when ``n_fragments`` is given), at least 1.
    n_features : int or list of int, default=768
        Number of columns, at least ``n_modalities``: blocks get
        ``n_features // n_modalities`` columns, the first ones one more when
        it does not divide. A list gives the width of each block (one block
        per modality, in order): ``[384, 512]`` makes 896 columns, a
        384-column block then a 512-column block, each of unit norm per row.
        ``[384, 384]`` is the same data as ``768`` with two modalities.
    n_targets : {1, 2}, default=1
        Number of targets. With the same ``random_state`` the first target is
        the same for ``n_targets=1`` and ``n_targets=2``, and so is ``X``.
    imbalance : float, default=1.0
        Strength of the right skew, ``>= 0``. Measured sample skewness
        (5000 samples, mean over seeds 0..4): -0.03 at ``0``, 0.8 at ``0.5``,
        2.0 (1.7..2.4) at ``1``, about 9 (5..19) at ``2``. At the default,
        2000 samples in 30 bins (``LabelDensity(n_bins=30).shot_regions(y)``)
        give about 1700 many-, 250 medium- and 35..45 few-shot samples, the
        few-shot ones all above the 97th percentile.
    n_modalities : int or None, default=None
        Number of column blocks (encoders): 2 for an int ``n_features``, the
        length of a list ``n_features`` (a different number raises).
    n_fragments : int, (int, int) or None, default=None
        ``None`` returns one row per sample. An int ``k`` gives every sample
        a bag of ``k`` fragments; a pair ``(min, max)`` draws each bag size
        uniformly from ``min..max`` (inclusive). A fragment's latent factors
        are its sample's plus Gaussian noise (sd 0.5), and its embedding has
        its own column noise, so fragments are noisy views of one sample and
        averaging them helps. A fragment's target is made like a sample's
        from the fragment's own factors, its sample's noise ``e`` and a
        heavy-tailed Laplace deviation (scale 0.2 in units of ``s``), so
        fragment targets spread around the sample's (sd about 0.55 at
        ``imbalance=0``), partly with the fragment's content and partly as
        outliers that robust averages damp; the sample target ``y`` is the
        mean of its fragments' targets.
    noise : float, default=0.1
        Standard deviation of the target noise relative to the signal's
        (the latent signal ``s`` has unit variance), applied before the
        skewing transform, so the noise grows with the target in the tail;
        ``>= 0``.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output. The targets depend only on the seed,
        ``n_samples`` (and ``n_fragments``), ``imbalance`` and ``noise``, not on
        ``n_features`` or ``n_modalities``; the embedding space (loadings and
        offsets) depends only on the seed, ``n_features`` and ``n_modalities``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
        Only without ``n_fragments``: the inputs, each block of each row of
        unit norm.
    bags : list of ndarray of shape (n_fragments_i, n_features), float64
        Only with ``n_fragments``: one bag of fragments per sample.
    y : ndarray of shape (n_samples,) or (n_samples, 2), float64
        The targets; one column per target when ``n_targets=2``.
    y_fragments : list of ndarray of shape (n_fragments_i,) or \
(n_fragments_i, 2), float64
        Only with ``n_fragments``: the per-fragment targets; the mean of each
        bag's targets is the sample's ``y``.

    Raises
    ------
    ValueError
        If a parameter is out of range (scikit-learn's ``InvalidParameterError``,
        naming the parameter, for a wrong type or range).

    Examples
    --------
    >>> from skdir.datasets import make_imbalanced_regression
    >>> X, y = make_imbalanced_regression(200, 64, random_state=0)
    >>> X.shape, y.shape
    ((200, 64), (200,))
    >>> import numpy as np
    >>> X, y = make_imbalanced_regression(200, [384, 512], random_state=0)  # text + image
    >>> X.shape, bool(np.allclose(np.linalg.norm(X[:, 384:], axis=1), 1.0))
    ((200, 896), True)
    >>> bags, y, y_fragments = make_imbalanced_regression(
    ...     5, 64, n_targets=2, n_fragments=(2, 4), random_state=0)
    >>> bags[0].shape[1], y.shape, y_fragments[0].shape[1]
    (64, (5, 2), 2)
    """
    n_samples = int(n_samples)
    widths = _block_widths(n_features, n_modalities)
    imbalance, noise = float(imbalance), float(noise)
    size_range = _check_fragments(n_fragments)
    # Three independent streams, so that the targets do not depend on
    # n_features or n_modalities and the embedding space not on n_samples.
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=3)
    structure_rng, sample_rng = np.random.RandomState(seeds[0]), np.random.RandomState(seeds[1])
    column_noise_rng = np.random.default_rng(seeds[2])

    # The embedding space: loadings and offsets of every block.
    n_modalities = len(widths)
    loadings = [
        np.vstack(
            [
                structure_rng.standard_normal((_N_SHARED, width))
                * np.sqrt(_SHARED_VAR / _N_SHARED),
                structure_rng.standard_normal((_N_SPECIFIC, width))
                * np.sqrt(_SPECIFIC_VAR / _N_SPECIFIC),
            ]
        )
        for width in widths
    ]
    offsets = [structure_rng.standard_normal(width) * _OFFSET_SD for width in widths]

    # Latent factors and target noise of the samples (the target-side draws first).
    shared = sample_rng.standard_normal((n_samples, _N_SHARED))
    target_noise = sample_rng.standard_normal((n_samples, 2)) * noise

    if size_range is None:
        specific = sample_rng.standard_normal((n_samples, n_modalities, _N_SPECIFIC))
        X = _embed(shared, specific, loadings, offsets, column_noise_rng)
        y = _transform(_signal(shared) + target_noise, imbalance)
        return X, _select_targets(y, n_targets)

    low, high = size_range
    sizes = sample_rng.randint(low, high + 1, size=n_samples)
    owner = np.repeat(np.arange(n_samples), sizes)
    n_total = owner.size
    frag_shared = shared[owner]
    frag_shared += sample_rng.standard_normal(frag_shared.shape) * _FRAGMENT_LATENT_SD
    deviation = sample_rng.laplace(0.0, _FRAGMENT_TARGET_SCALE, size=(n_total, 2))
    specific = sample_rng.standard_normal((n_samples, n_modalities, _N_SPECIFIC))
    frag_specific = specific[owner]
    frag_specific += sample_rng.standard_normal(frag_specific.shape) * _FRAGMENT_LATENT_SD
    X = _embed(frag_shared, frag_specific, loadings, offsets, column_noise_rng)
    y_frag = _transform(_signal(frag_shared) + target_noise[owner] + deviation, imbalance)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    y = np.add.reduceat(y_frag, starts, axis=0) / sizes[:, None]
    y = _select_targets(y, n_targets)
    y_frag = _select_targets(y_frag, n_targets)
    split_at = starts[1:]
    return np.split(X, split_at), y, np.split(y_frag, split_at)


def _block_widths(n_features: object, n_modalities: int | None) -> list[int]:
    """Return the width of every modality block; the types are validated by the constraints."""
    if isinstance(n_features, list | tuple):
        if not n_features:
            raise ValueError(
                "n_features is an empty list; give the width of each modality block, e.g. "
                "[384, 512], or the total number of columns as an int."
            )
        widths = [
            check_positive_int(width, f"n_features[{k}] (the width of block {k})")
            for k, width in enumerate(n_features)
        ]
        if n_modalities is not None and n_modalities != len(widths):
            raise ValueError(
                f"n_features lists {len(widths)} block widths {list(widths)} but "
                f"n_modalities={n_modalities}; leave n_modalities=None (one modality per "
                "listed block) or list one width per modality."
            )
        return widths
    total = int(n_features)  # type: ignore[call-overload]
    count = 2 if n_modalities is None else int(n_modalities)
    if total < count:
        raise ValueError(
            f"n_features={total} is smaller than n_modalities={count}; every "
            "modality needs at least one column."
        )
    return [total // count + (k < total % count) for k in range(count)]


def _check_fragments(n_fragments: object) -> tuple[int, int] | None:
    """Return ``(min, max)`` bag sizes; the type is validated by the constraints."""
    if n_fragments is None:
        return None
    if isinstance(n_fragments, Integral):
        return int(n_fragments), int(n_fragments)
    if isinstance(n_fragments, tuple | list) and len(n_fragments) == 2:
        low = check_positive_int(n_fragments[0], "n_fragments[0] (the smallest bag size)")
        high = check_positive_int(n_fragments[1], "n_fragments[1] (the largest bag size)")
        if low > high:
            raise ValueError(
                f"n_fragments=(min, max) needs min <= max, got {tuple(n_fragments)!r}."
            )
        return low, high
    raise ValueError(
        "n_fragments must be None, a positive int (fragments per sample) or a pair "
        f"(min, max) of positive ints with min <= max, got {n_fragments!r}."
    )


def _embed(
    shared: NDArray[np.float64],
    specific: NDArray[np.float64],
    loadings: list[NDArray[np.float64]],
    offsets: list[NDArray[np.float64]],
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Project latent factors into unit-norm modality blocks with column noise.

    The column noise is the bulk of the random numbers: it is drawn in float32
    from numpy's faster ``Generator`` (ziggurat).
    """
    n_rows = shared.shape[0]
    n_features = sum(offset.size for offset in offsets)
    X = np.empty((n_rows, n_features))
    noise_sd = np.sqrt(_COLUMN_NOISE_VAR)
    for start in range(0, n_rows, _CHUNK):
        rows = slice(start, min(start + _CHUNK, n_rows))
        X[rows] = rng.standard_normal((X[rows].shape[0], n_features), dtype=np.float32)
        X[rows] *= noise_sd
        column = 0
        for modality, (loading, offset) in enumerate(zip(loadings, offsets, strict=True)):
            block = X[rows, column : column + offset.size]
            latent = np.hstack([shared[rows], specific[rows, modality]])
            block += latent @ loading
            block += offset
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            column += offset.size
    return X


def _signal(shared: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unit-variance nonlinear signal of both targets, shape (n, 2)."""
    z = shared[:, : 2 * _N_SIGNAL].reshape(-1, 2, _N_SIGNAL)
    raw = (
        _LINEAR * z[..., 0]
        + _PRODUCT * z[..., 1] * z[..., 2]
        + _SINE * np.sqrt(2.0) * np.sin(z[..., 3])
    )
    return raw / _SIGNAL_SD


def _transform(t: NDArray[np.float64], imbalance: float) -> NDArray[np.float64]:
    """Skew both columns and put the second target on its own scale."""
    rate = _SKEW_RATE * imbalance
    y = np.expm1(rate * t) / rate if rate > 0 else t.copy()
    y[:, 1] = _SCALE_2 * y[:, 1] + _SHIFT_2
    return y


def _select_targets(y: NDArray[np.float64], n_targets: int) -> NDArray[np.float64]:
    return np.ascontiguousarray(y[..., 0]) if n_targets == 1 else y


#: Spread of the log-target of the bulk: ``exp(N(0, 1))`` puts 98 % of the bulk
#: within a factor 10 of the median (two orders of magnitude from 1 % to 99 %).
_LOG_SD = 1.0
#: Shift of the log-target of the rare extreme samples: ``exp(3)``, about 20 times
#: an ordinary sample with the same latent value.
_EXTREME_SHIFT = 3.0
#: Latent columns that the features mix: the log-scale position, the extreme
#: indicator and the standardised raw-scale signal.
_N_LATENT = 3
#: Standard deviation of the feature noise (the latent columns have unit scale).
_FEATURE_NOISE = 0.3


@validate_params(
    {
        "n_samples": [NonBoolInterval(Integral, 1, None, closed="left")],
        "n_features": [NonBoolInterval(Integral, 1, None, closed="left")],
        "outlier_fraction": [NonBoolInterval(Real, 0, 0.5, closed="both")],
        "noise": [NonBoolInterval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_long_tail_regression(
    n_samples: int = 1000,
    n_features: int = 20,
    *,
    outlier_fraction: float = 0.02,
    noise: float = 0.1,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Generate a right-skewed target over two orders of magnitude with rare extremes.

    The bulk of the target is lognormal, ``y = exp(u + noise * e)`` with
    ``u, e ~ N(0, 1)``, so that 98 % of it lies between 0.1 and 10 times the
    median 1. A fraction ``outlier_fraction`` of the samples (chosen at random,
    ``round(outlier_fraction * n_samples)`` of them) is *extreme*: their
    log-target is shifted by 3, ``y = exp(u + 3 + noise * e)``, about 20 times an
    ordinary sample, which puts them between 2 and a few hundred. This is the
    case where equal-width bins over the training range and uncapped inverse
    density weights break down (a few extremes own the range, the bulk shares
    two bins), as in imbalanced-regression data with rare extreme values.

    The features predict the target, the extremes included: every column is a
    random mixture of three latent columns, the log-scale position ``u``, the
    extreme indicator (0 or 1, times 2) and the standardised raw-scale signal
    ``(exp(u) - e^{1/2}) / sd``, plus Gaussian noise of standard deviation 0.3.
    A linear model sees ``exp(u)`` and the indicator but not their product; a
    nonlinear one can learn ``y`` almost exactly (up to the target noise and
    the feature noise).

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples, at least 1.
    n_features : int, default=20
        Number of feature columns, at least 1 (with fewer than 3 the latent
        columns cannot all be recovered).
    outlier_fraction : float, default=0.02
        Share of extreme samples, in ``[0, 0.5]``.
    noise : float, default=0.1
        Standard deviation of the noise on the log-target, ``>= 0``.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
        The features.
    y : ndarray of shape (n_samples,), float64
        The positive, long-tailed target.

    Raises
    ------
    ValueError
        If a parameter is out of range (scikit-learn's ``InvalidParameterError``,
        naming the parameter and its valid range).

    See Also
    --------
    make_imbalanced_regression : Embedding-like inputs with a skewed target.

    Examples
    --------
    >>> import numpy as np
    >>> from skdir.datasets import make_long_tail_regression
    >>> X, y = make_long_tail_regression(2000, 10, random_state=0)
    >>> X.shape, y.shape
    ((2000, 10), (2000,))
    >>> q01, q50, q99 = np.quantile(y, [0.01, 0.5, 0.99])
    >>> bool(q99 / q01 > 100), bool(y.max() > 100 * q50)
    (True, True)
    """
    n_samples, n_features = int(n_samples), int(n_features)
    rng = check_random_state(random_state)
    u = rng.standard_normal(n_samples) * _LOG_SD
    extreme = np.zeros(n_samples)
    n_extreme = round(float(outlier_fraction) * n_samples)
    extreme[rng.permutation(n_samples)[:n_extreme]] = 1.0
    log_y = u + _EXTREME_SHIFT * extreme + float(noise) * rng.standard_normal(n_samples)
    # standardised exp(u) of a standard normal u: mean e^(1/2), variance e^2 - e
    raw_scale = (np.exp(u) - np.exp(0.5)) / np.sqrt(np.exp(2.0) - np.exp(1.0))
    latent = np.column_stack([u, 2.0 * extreme, raw_scale])
    mixing = rng.standard_normal((_N_LATENT, n_features)) / np.sqrt(_N_LATENT)
    X = latent @ mixing + _FEATURE_NOISE * rng.standard_normal((n_samples, n_features))
    return X, np.exp(log_y)
