"""The ``skdir`` command line: input errors, data loading and a small end-to-end run."""

import json

import numpy as np
import pytest

from skdir.cli import UsageError, load_table, main

pd = pytest.importorskip("pandas")


def _frame(n=80, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    frame["score"] = np.exp(frame["a"] + 0.1 * rng.normal(size=n))
    frame["other"] = frame["b"] * 2.0
    return frame


def test_load_csv_with_two_targets(tmp_path):
    path = tmp_path / "table.csv"
    _frame().to_csv(path, index=False)
    X, y, names = load_table(path, ["score", "other"])
    assert X.shape == (80, 4) and y.shape == (80, 2)
    assert names == ["score", "other"]
    np.testing.assert_allclose(y[:, 1], X[:, 1] * 2.0)


def test_load_npz_with_padded_bags(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3, 5))
    X[::2, 2] = np.nan  # every second bag has two fragments
    np.savez(tmp_path / "bags.npz", X=X, y=rng.normal(size=60))
    bags, y, names = load_table(tmp_path / "bags.npz")
    assert [len(b) for b in bags[:4]] == [2, 3, 2, 3]
    assert names == ["y"] and y.shape == (60,)


@pytest.mark.parametrize(
    ("write", "targets", "message"),
    [
        (None, ["score"], "does not exist"),
        (lambda f, p: f.to_csv(p, index=False), ["nope"], r"Unknown target column\(s\) \['no"),
        (lambda f, p: f.to_csv(p, index=False), None, "needs its target columns"),
        (
            lambda f, p: f.assign(colour="red").to_csv(p, index=False),
            ["score"],
            r"Feature columns \['colour'\] are not numeric",
        ),
        (lambda f, p: f.head(10).to_csv(p, index=False), ["score"], "has 10 rows"),
        (
            lambda f, p: f.assign(a=np.r_[np.nan, f["a"][1:]]).to_csv(p, index=False),
            ["score"],
            "X contains NaN",
        ),
        (lambda f, p: p.write_text("x"), ["score"], None),
    ],
)
def test_load_table_errors(tmp_path, write, targets, message):
    path = tmp_path / "table.csv"
    if write is not None:
        write(_frame(), path)
    if message is None:  # a file that is not a table: pandas' own error is fine
        path = path.rename(tmp_path / "table.xlsx")
        message = "Unknown data format '.xlsx'"
    with pytest.raises(UsageError, match=message):
        load_table(path, targets)


def test_npz_without_y_is_refused(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((60, 2)))
    with pytest.raises(UsageError, match=r"needs 'X' and 'y'"):
        load_table(tmp_path / "d.npz")


def test_main_reports_errors_without_traceback(tmp_path, capsys):
    assert main(["benchmark", "--data", str(tmp_path / "missing.csv"), "--target", "y"]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_benchmark_end_to_end(tmp_path, capsys):
    path = tmp_path / "table.csv"
    _frame(n=300).to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["benchmark", "--data", str(path), "--target", "score", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["reports"]) == {
        "AutoDIR",
        "HistGradientBoosting",
        "Network",
        "Network+FDS",
        "Network+SMOGN+LDS+FDS",
    }
    for model, folds in results["reports"].items():
        assert len(folds) == 3
        assert all(np.isfinite(fold["score"]["all"]["mae"]) for fold in folds), model
    assert (out / "report.md").read_text().startswith("# skdir benchmark: table.csv")
    assert {p.name for p in out.glob("*.png")} == {
        "label_density.png",
        "per_bin_error.png",
        "predicted_vs_true.png",
    }
    assert "MAE per shot region" in capsys.readouterr().out


def test_npz_with_a_train_val_test_split_is_evaluated_on_its_test_rows(tmp_path):
    from skdir.cli import predefined_split

    rng = np.random.default_rng(0)
    arrays = {
        f"{name}_{part}": rng.normal(size=(n, 3) if name == "X" else n)
        for part, n in (("train", 60), ("val", 20), ("test", 30))
        for name in ("X", "y")
    }
    path = tmp_path / "split.npz"
    np.savez(path, **arrays)
    X, y, names = load_table(path)
    assert X.shape == (110, 3) and names == ["y"]
    [(train, test)] = predefined_split(path)
    np.testing.assert_array_equal(train, np.arange(80))  # train then val rows
    np.testing.assert_array_equal(test, np.arange(80, 110))
    np.testing.assert_array_equal(X[test], arrays["X_test"])
    np.testing.assert_array_equal(y[60:80], arrays["y_val"])
    incomplete = tmp_path / "incomplete.npz"
    np.savez(incomplete, X_train=arrays["X_train"], y_train=arrays["y_train"])
    with pytest.raises(UsageError, match="'X_test', 'y_test'"):
        load_table(incomplete)
    assert predefined_split(incomplete) is None
