"""Shared generated data for the documentation figures (fast, deterministic)."""

import numpy as np
from sklearn.model_selection import train_test_split

from skdir.datasets import make_imbalanced_regression


def train_test(n_samples=3000, n_features=64, random_state=0):
    """Skewed generated data split 70/30 (same split in every figure)."""
    X, y = make_imbalanced_regression(
        n_samples, n_features, imbalance=0.5, random_state=random_state
    )
    return train_test_split(X, y, test_size=0.3, random_state=random_state)


def per_bin_mae(density, y_true, y_pred):
    """Mean absolute error of the test targets in each bin of ``density`` (NaN if empty)."""
    bins = density.bin_index(y_true)
    n_bins = density.n_bins_[0]
    errors = np.bincount(bins, np.abs(y_true - y_pred), minlength=n_bins)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, errors / np.maximum(counts, 1), np.nan)
