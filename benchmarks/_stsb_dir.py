"""STS-B-DIR loading and DIR metrics shared by the neural-network benchmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.preprocessing import StandardScaler

from skdir.density import LabelDensity
from skdir.metrics import balanced_mean_squared_error, pearson_correlation, shot_metrics

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "../shared/datasets/stsb_dir/stsb_dir_minilm.npz"


def load_stsb_dir(path: Path = DEFAULT_DATA) -> dict:
    """Return standardised float32 inputs, float64 targets and the shot density.

    The scaler is fitted on the training split; shot regions come from the training
    targets with ``LabelDensity(bin_width=0.1)`` (many > 100, few < 20 per bin).
    """
    data = np.load(path)
    scaler = StandardScaler().fit(data["X_train"].astype(np.float64))
    out = {
        name: scaler.transform(data[name].astype(np.float64)).astype(np.float32)
        for name in ("X_train", "X_val", "X_test")
    }
    out.update({name: data[name].astype(np.float64) for name in ("y_train", "y_val", "y_test")})
    out["density"] = LabelDensity(bin_width=0.1).fit(out["y_train"])
    return out


def dir_scores(y_test: np.ndarray, pred: np.ndarray, density: LabelDensity) -> dict[str, float]:
    """All/many/medium/few MSE, balanced (bin-averaged) MSE and Pearson r."""
    shots = shot_metrics(y_test, pred, label_density=density, metrics=("mse",))
    out = {region: float(shots[region]["mse"]) for region in ("all", "many", "medium", "few")}
    out["balanced"] = float(balanced_mean_squared_error(y_test, pred, label_density=density))
    out["pearson"] = float(pearson_correlation(y_test, pred))
    return out
