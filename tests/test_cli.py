"""The ``skdir`` command line: input errors, data loading and a small end-to-end run."""

import json
import re

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
    assert set(results["reports"]) == {"AutoDIR"}  # the default suite: the recommended model
    folds = results["reports"]["AutoDIR"]
    assert len(folds) == 3
    assert all(np.isfinite(fold["score"]["all"]["mae"]) for fold in folds)
    assert (out / "report.md").read_text().startswith("# skdir benchmark: table.csv")
    assert {p.name for p in out.glob("*.png")} == {
        "label_density.png",
        "per_bin_error.png",
        "predicted_vs_true.png",
        "leaderboard.png",
    }
    assert (out / "model.skdir").is_file()
    printed = capsys.readouterr().out
    assert "MAE per shot region" in printed and "AutoDIRRegressor leaderboard" in printed


@pytest.mark.slow
def test_benchmark_quick_suite_compares_the_alternatives(tmp_path):
    path = tmp_path / "table.csv"
    _frame(n=300).to_csv(path, index=False)
    out = tmp_path / "out"
    args = ["--target", "score", "--out", str(out), "--suite", "quick", "--no-model"]
    assert main(["benchmark", "--data", str(path), *args]) == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["reports"]) == {
        "AutoDIR",
        "HistGradientBoosting",
        "Network",
        "Network+FDS",
        "Network+SMOGN+LDS+FDS",
    }
    assert not (out / "model.skdir").exists()


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


# ------------------------------------------------------------ fragment tables (issue 18)
def _fragments(n_samples=120, n_features=6, seed=0, string_ids=False):
    """A fragment table sorted by sample: ids, features, two targets on different scales."""
    from skdir.datasets import make_imbalanced_regression

    bags, _, y_frag = make_imbalanced_regression(
        n_samples, n_features, n_targets=2, n_fragments=(2, 4), random_state=seed
    )
    ids = np.repeat(np.arange(n_samples), [len(b) for b in bags])
    frame = pd.DataFrame(np.concatenate(bags), columns=[f"f{i}" for i in range(n_features)])
    frame.insert(0, "sample_id", [f"s{i:04d}" for i in ids] if string_ids else ids)
    targets = np.concatenate(y_frag)
    frame["a"], frame["b"] = targets[:, 0], targets[:, 1]
    return frame


@pytest.mark.parametrize("string_ids", [True, False])
def test_sample_id_column_is_refused_as_a_feature(tmp_path, string_ids):
    path = tmp_path / "fragments.csv"
    _fragments(string_ids=string_ids).to_csv(path, index=False)
    with pytest.raises(
        ValueError, match=r"Column 'sample_id' .*--group sample_id.*--drop sample_id"
    ) as error:
        load_table(path, ["a", "b"])
    assert ("--keep" in str(error.value)) is not string_ids  # text is never a feature


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("group", np.repeat(np.arange(40), 3)),  # constant over runs of rows, not named an id
        ("Unnamed: 0", np.arange(120)),  # a saved row index
        ("item_key", np.arange(120)[::-1] % 50),  # named like an identifier
    ],
)
def test_numeric_identifiers_are_detected(tmp_path, column, values):
    frame = _frame(n=120).assign(**{column: values})
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(UsageError, match=rf"Column '{column}' .*looks like an identifier"):
        load_table(path, ["score"])
    X, _, _ = load_table(path, ["score"], keep=[column])  # the user says it is a feature
    assert X.shape == (120, 6)  # a, b, c, d, other and the column
    X, _, _ = load_table(path, ["score"], drop=[column])
    assert X.shape == (120, 5)


def test_ordinary_integer_features_are_kept(tmp_path):
    rng = np.random.default_rng(0)
    frame = _frame(n=120).assign(
        rooms=rng.integers(1, 6, 120), year=np.sort(rng.integers(1990, 2000, 120))
    )
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    X, _, _ = load_table(path, ["score"])  # 'year' is sorted but has only 10 values
    assert X.shape == (120, 7)


def test_group_builds_bags_and_robust_sample_targets(tmp_path):
    from skdir.cli import read_table
    from skdir.fragments import aggregate_targets, choose_target_aggregation

    frame = _fragments(string_ids=True)
    shuffled = frame.sample(frac=1.0, random_state=0)  # fragments need not be contiguous
    path = tmp_path / "fragments.csv"
    shuffled.to_csv(path, index=False)
    table = read_table(path, ["a", "b"], group="sample_id", target_aggregation="median")
    assert len(table.X) == 120 and table.y.shape == (120, 2)
    assert table.n_rows == len(frame) and table.features == [f"f{i}" for i in range(6)]
    first = frame[frame["sample_id"] == table.ids[7]]
    np.testing.assert_allclose(
        table.X[7],
        first[table.features].to_numpy()[
            np.argsort(shuffled.index[shuffled["sample_id"] == table.ids[7]])
        ],
        rtol=1e-12,
    )
    expected = aggregate_targets(
        frame[["a", "b"]].to_numpy(), frame["sample_id"].to_numpy(), method="median"
    )
    np.testing.assert_allclose(table.y, expected)
    auto = read_table(path, ["a", "b"], group="sample_id")
    assert auto.aggregation == choose_target_aggregation(
        frame[["a", "b"]].to_numpy(), frame["sample_id"].to_numpy()
    )


def test_group_errors(tmp_path):
    path = tmp_path / "fragments.csv"
    _fragments().to_csv(path, index=False)
    with pytest.raises(UsageError, match=r"Unknown --group column\(s\) \['sample'\]"):
        load_table(path, ["a"], group="sample")
    with pytest.raises(UsageError, match="is also a --target"):
        load_table(path, ["a"], group="a")
    np.savez(tmp_path / "d.npz", X=np.zeros((60, 2)), y=np.zeros(60))
    with pytest.raises(UsageError, match=r"--group applies to a \.csv/\.parquet"):
        load_table(tmp_path / "d.npz", group="g")


def test_parquet_needs_the_extra(tmp_path, monkeypatch):
    import importlib.util

    path = tmp_path / "table.parquet"
    real = importlib.util.find_spec
    if real("pyarrow") is not None:
        _frame().to_parquet(path, index=False)
        X, y, _ = load_table(path, ["score"])
        np.testing.assert_allclose(y, _frame()["score"])
        assert X.shape == (80, 5)
    else:
        path.write_bytes(b"PAR1")
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name)
    )
    with pytest.raises(UsageError, match=r"skdir\[parquet\]"):
        load_table(path, ["score"])


def test_region_rule_follows_the_label_grid_and_scales_with_the_data():
    from skdir._harness import region_rule

    y = np.repeat(np.round(np.arange(0, 5.01, 0.2), 1), 40)  # STS-B-like 0.2 steps, 26 values
    density, many, few = region_rule(y)
    edges = density.bin_edges_[0]
    # 0.2-wide bins centred on the labels: every edge halfway between two labels
    np.testing.assert_allclose(np.diff(edges), 0.2)
    np.testing.assert_allclose(edges[0], -0.1)
    assert np.all(density.counts_ == 40)
    assert (many, few) == (40.0, 8.0)  # the mean occupied bin and a fifth of it
    _, many, few = region_rule(y, many=100, few=20)
    assert (many, few) == (100.0, 20.0)


def _tiny_recommended(monkeypatch):
    """Replace the models of skdir benchmark by a fast AutoDIRRegressor (two ridges)."""
    from skdir import cli

    def build(suite="auto", *, bags=False, random_state=0, **kwargs):
        from skdir.auto import AutoDIRRegressor
        from skdir.conformal import ConformalDIRRegressor
        from skdir.fragments import FragmentAggregator
        from skdir.pipeline import make_pipeline

        auto = AutoDIRRegressor(
            "fast", candidates=["ridge", "ridge+lds"], random_state=random_state
        )
        steps = [FragmentAggregator(stats=("mean",))] if bags else []
        return {"AutoDIR": make_pipeline(*steps, ConformalDIRRegressor(auto, method="cv_plus"))}

    monkeypatch.setattr(cli, "build_models", build)


def test_benchmark_and_predict_on_a_fragment_table(tmp_path, capsys, monkeypatch):
    from skdir.cli import read_table, run_benchmark
    from skdir.persistence import load_model

    _tiny_recommended(monkeypatch)
    frame = _fragments(n_samples=150, string_ids=True)
    path = tmp_path / "fragments.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = run_benchmark(path, targets=["a", "b"], group="sample_id", out=out)
    printed = capsys.readouterr()
    # per-sample scoring: one held-out prediction per sample, every sample once
    assert result.y_true.shape == (150, 2)
    sizes = result.region_sizes()
    assert all(sum(sizes[t].values()) == 150 for t in ("a", "b"))
    # progress lines per target, never a mean of the two scales
    assert "a: MAE all" in printed.err and "b: MAE all" in printed.err
    assert "fragments of 150 samples" in printed.err
    assert "Shot regions" in printed.out and "leaderboard" in printed.out
    assert {p.name for p in out.iterdir()} >= {
        "model.skdir",
        "leaderboard.png",
        "per_bin_error.png",
        "report.md",
        "results.json",
    }
    model, info = load_model(out / "model.skdir", strict=True, return_info=True)
    assert info["metadata"]["group"] == "sample_id"
    assert info["metadata"]["features"] == [f"f{i}" for i in range(6)]

    new = frame[frame["sample_id"].isin(["s0003", "s0010", "s0042"])].drop(columns=["a", "b"])
    new_path = tmp_path / "new.csv"
    new.to_csv(new_path, index=False)
    predictions = tmp_path / "pred.csv"
    assert (
        main(
            [
                "predict",
                "--model",
                str(out / "model.skdir"),
                "--data",
                str(new_path),
                "--out",
                str(predictions),
                "--alpha",
                "0.2",
            ]
        )
        == 0
    )
    written = pd.read_csv(predictions)
    assert list(written.columns) == [
        "sample_id",
        "a",
        "b",
        "a_lower",
        "a_upper",
        "b_lower",
        "b_upper",
    ]
    assert written["sample_id"].tolist() == ["s0003", "s0010", "s0042"]
    bags = read_table(
        new_path, group="sample_id", features=info["metadata"]["features"], need_targets=False
    ).X
    np.testing.assert_allclose(written[["a", "b"]].to_numpy(), model.predict(bags), rtol=1e-10)
    for t in ("a", "b"):
        assert (written[f"{t}_lower"] <= written[t]).all() and (
            written[t] <= written[f"{t}_upper"]
        ).all()
    assert re.search(
        r"wrote predictions and 80% intervals of 3 samples \(\d+ fragments grouped by "
        "sample_id\\)",
        capsys.readouterr().out,
    )


def test_predict_errors(tmp_path, capsys):
    from sklearn.linear_model import Ridge

    from skdir.persistence import save_model

    frame = _frame()
    model = tmp_path / "m.skdir"
    save_model(
        Ridge().fit(frame[["a", "b"]].to_numpy(), frame["score"]),
        model,
        metadata={"features": ["a", "b"], "targets": ["score"]},
    )

    def predict(data, *options, model=model):
        return main(["predict", "--model", str(model), "--data", str(data), *options])

    frame[["a"]].to_csv(tmp_path / "lacking.csv", index=False)
    assert predict(tmp_path / "lacking.csv") == 2
    assert "lacks 1 feature column(s) the model was fitted on: ['b']" in capsys.readouterr().err
    frame.to_csv(tmp_path / "full.csv", index=False)
    out = tmp_path / "p.csv"
    assert predict(tmp_path / "full.csv", "--alpha", "0.1", "--out", str(out)) == 0
    assert "gives no intervals" in capsys.readouterr().err
    written = pd.read_csv(out)
    assert list(written.columns) == ["row", "score"]
    np.testing.assert_allclose(
        written["score"],
        Ridge()
        .fit(frame[["a", "b"]].to_numpy(), frame["score"])
        .predict(frame[["a", "b"]].to_numpy()),
    )
    assert predict(out, model=tmp_path / "nope.skdir") == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_page_names_every_option():
    """docs/cli.rst is written by hand: it must list every option of every command."""
    from pathlib import Path

    from skdir.cli import _parser

    page = (Path(__file__).parents[1] / "docs" / "cli.rst").read_text()
    commands = _parser()._subparsers._group_actions[0].choices
    missing = [
        f"{name} {option}"
        for name, command in commands.items()
        for action in command._actions
        for option in action.option_strings
        if option.startswith("--") and f"``skdir {name}``" in page and option not in page
    ]
    assert set(commands) == {"demo", "benchmark", "predict"}
    assert all(f"``skdir {name}``" in page for name in commands)
    assert missing == []


def test_npz_split_saves_the_evaluated_fit_and_predicts_an_npz(tmp_path, monkeypatch, capsys):
    from skdir.cli import run_benchmark
    from skdir.persistence import load_model

    _tiny_recommended(monkeypatch)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = np.round(np.exp(X[:, 0]) * 5) / 5  # labels on a 0.2 grid, like STS-B's
    path = tmp_path / "split.npz"
    np.savez(path, X_train=X[:150], y_train=y[:150], X_test=X[150:], y_test=y[150:])
    out = tmp_path / "out"
    result = run_benchmark(path, out=out)
    assert "fitting the recommended model" not in capsys.readouterr().err  # no refit
    rule = result.regions[0]["y"]
    assert rule["bin_width"] == pytest.approx(0.2 * np.ceil(np.ptp(y[:150]) / 50 / 0.2 - 1e-9))
    model = load_model(out / "model.skdir")
    np.testing.assert_allclose(result.y_pred["AutoDIR"], model.predict(X[150:]))
    np.savez(tmp_path / "new.npz", X=X[:5])
    predictions = tmp_path / "pred.csv"
    args = ["--model", str(out / "model.skdir"), "--data", str(tmp_path / "new.npz")]
    assert main(["predict", *args, "--out", str(predictions)]) == 0
    written = pd.read_csv(predictions)
    assert list(written.columns) == ["row", "y", "y_lower", "y_upper"]
    np.testing.assert_allclose(written["y"], model.predict(X[:5]))
