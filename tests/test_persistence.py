"""skdir.persistence: model files with versions, checked before anything is unpickled."""

import json
import zipfile

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from skdir.persistence import (
    ModelVersionError,
    ModelVersionWarning,
    load_model,
    model_info,
    save_model,
)


@pytest.fixture
def ridge():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return Ridge().fit(X, X @ [1.0, -2.0, 0.5]), X


def _rewrite_header(path, **changes):
    """Copy the file with the header's ``versions`` (or other keys) changed."""
    with zipfile.ZipFile(path) as archive:
        header = json.loads(archive.read("skdir.json"))
        payload = archive.read("model.joblib")
    for key, value in changes.items():
        if key == "versions":
            header["versions"].update(value)
        else:
            header[key] = value
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("skdir.json", json.dumps(header))
        archive.writestr("model.joblib", payload)


def _forbid_unpickling(monkeypatch):
    import joblib

    def refuse(*args, **kwargs):
        raise AssertionError("the model was unpickled")

    monkeypatch.setattr(joblib, "load", refuse)


def test_round_trip_keeps_predictions_versions_and_metadata(tmp_path, ridge):
    model, X = ridge
    path = tmp_path / "ridge.skdir"
    info = save_model(model, path, metadata={"features": ["a", "b", "c"]})
    loaded, read = load_model(path, strict=True, return_info=True)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert read == info
    assert read["metadata"] == {"features": ["a", "b", "c"]}
    assert read["model_class"] == "sklearn.linear_model._ridge.Ridge"
    import sklearn

    import skdir

    assert read["versions"]["scikit-learn"] == sklearn.__version__
    assert read["versions"]["skdir"] == skdir.__version__
    assert len(read["sha256"]) == 64


def test_model_info_runs_no_pickle(tmp_path, ridge, monkeypatch):
    path = tmp_path / "m.skdir"
    save_model(ridge[0], path)
    _forbid_unpickling(monkeypatch)
    assert model_info(path)["format"] == "skdir-model"


@pytest.mark.parametrize(
    ("package", "saved", "mismatch"),
    [
        ("scikit-learn", "0.24.2", True),
        ("torch", "1.13.0", True),
        ("skdir", "0.0.1", True),
        ("python", "2.7.18", True),
        ("numpy", "1.0.0", None),  # decided below from the running major version
    ],
)
def test_version_mismatch_warns_or_raises_before_unpickling(
    tmp_path, ridge, monkeypatch, package, saved, mismatch
):
    if mismatch is None:
        mismatch = int(np.__version__.split(".")[0]) != 1
    path = tmp_path / "m.skdir"
    save_model(ridge[0], path)
    _rewrite_header(path, versions={package: saved})
    if not mismatch:
        load_model(path, strict=True)
        return
    with pytest.warns(ModelVersionWarning, match=rf"{package} {saved} \(running"):
        load_model(path)
    _forbid_unpickling(monkeypatch)
    with pytest.raises(ModelVersionError, match="nothing was unpickled"):
        load_model(path, strict=True)


def test_same_numpy_major_is_accepted(tmp_path, ridge):
    path = tmp_path / "m.skdir"
    save_model(ridge[0], path)
    major = np.__version__.split(".")[0]
    _rewrite_header(path, versions={"numpy": f"{major}.0.0"})
    load_model(path, strict=True)  # no warning: numpy is compared by its major version


def test_digest_checks_refuse_before_unpickling(tmp_path, ridge, monkeypatch):
    path = tmp_path / "m.skdir"
    info = save_model(ridge[0], path)
    _rewrite_header(path, sha256="0" * 64)  # the header no longer matches the model
    _forbid_unpickling(monkeypatch)
    with pytest.raises(ValueError, match="is damaged"):
        load_model(path)
    with pytest.raises(ValueError, match="not the expected"):
        load_model(path, sha256="f" * 64)
    with pytest.raises(ValueError, match="is damaged"):  # right expected digest, bad header
        load_model(path, sha256=info["sha256"])


def test_not_a_model_file(tmp_path):
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ValueError, match="not a model file written by"):
        load_model(plain)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("x.txt", "x")
    with pytest.raises(ValueError, match="not a skdir model file"):
        model_info(other)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.skdir")


def test_newer_format_and_bad_metadata(tmp_path, ridge):
    path = tmp_path / "m.skdir"
    save_model(ridge[0], path)
    _rewrite_header(path, format_version=99)
    with pytest.raises(ValueError, match="upgrade skdir"):
        model_info(path)
    with pytest.raises(TypeError, match="JSON-serialisable"):
        save_model(ridge[0], tmp_path / "n.skdir", metadata={"f": object()})


def test_torch_network_round_trip(tmp_path):
    from skdir.nn import DIRRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = X[:, 0] * 2.0
    model = DIRRegressor(max_epochs=2, random_state=0, device="cpu").fit(X, y)
    path = tmp_path / "net.skdir"
    save_model(model, path)
    np.testing.assert_array_equal(load_model(path, strict=True).predict(X), model.predict(X))
