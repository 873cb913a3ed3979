"""Speed of DIRRegressor's data path and size of its pickles (issue 15, items 4 and 6).

    python benchmarks/bench_speed.py [--quick] [--repeats R] [--epochs E] [--no-write]

All ratios come from one run on the CPU with one torch thread
(``torch.set_num_threads(1)``); every time is the median of ``--repeats`` runs,
the two sides of a ratio timed alternately so that a drift of the machine hits
both. The table gives each ratio in wall time and in CPU time of the process;
the goals are judged on the CPU ratio (the compute time, which other work on a
shared machine disturbs far less).

1. **Training per epoch**, 5,000 x 768 float32 inputs, one target:
   ``DIRRegressor(module=..., early_stopping=False, validation_fraction=None,
   max_epochs=E, batch_size=64, random_state=0, device="cpu")`` against a
   hand-written PyTorch loop over the same module class with the same
   constructor arguments (``module__*`` defaults), AdamW with the same learning
   rate, shuffled mini-batches of 64 (gathered by ``X[rows]``) and an MSE
   loss. Both times are whole fit times (network construction included)
   divided by ``E``. With no validation split both train on all 5,000 rows and
   skorch runs no validation pass. Goal <= 1.15x. ``interaction_mlp`` is timed
   too where the regressor knows it. For reference, on the MLP: the regressor
   against a loop that gathers its batches with ``index_select`` as the
   regressor does (several times faster than ``X[rows]`` on the CPU), and
   skorch's own ``DataLoader`` path (one row at a time, forced by
   ``iterator_train__num_workers=0``) against the plain loop.
2. **Predict**, 100,000 x 768: ``DIRRegressor.predict`` (validation, chunks of
   ``PREDICT_BATCH_SIZE`` rows without gradients, float64 output) against the
   raw module in evaluation mode under ``torch.no_grad()`` on the whole tensor
   in the same chunks. Goal <= 1.3x. Checked: both give the same values to
   float32 tolerance, and training through the tensor batches is bit-identical
   to training through skorch's ``DataLoader``.
3. **Pickle size** of the networks that ``skdir demo`` fits (``MLP+FDS`` and
   ``MLP+SMOGN+LDS+FDS`` of ``skdir.cli.build_models("quick", bags=True,
   n_targets=2)`` on the demo's generated data) against the bytes of their
   parameters (the ``DIRRegressor`` step alone; the whole pipeline for
   reference). Goal <= 2x.

``--quick`` uses 1,000 predict rows x 10 (10,000), 2 epochs, 2 repeats and
short demo fits: a smoke test of the script, not the figures of the issue.
"""

from __future__ import annotations

import argparse
import pickle
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skorch
import torch
from torch import nn

from skdir.nn import DIRRegressor
from skdir.nn._data import PREDICT_BATCH_SIZE

RESULTS = Path(__file__).parent / "results" / "bench_speed.txt"
N_FEATURES = 768
GOALS = {"train": 1.15, "predict": 1.3, "pickle": 2.0}


def make_data(n_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return float32 inputs of N_FEATURES columns and a float32 target."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, N_FEATURES)).astype(np.float32)
    w = rng.normal(size=N_FEATURES) / np.sqrt(N_FEATURES)
    y = (np.tanh(X @ w) + 0.1 * rng.normal(size=n_samples)).astype(np.float32)
    return X, y


def timed(run: Callable[[], Any]) -> tuple[float, float]:
    """Return the wall seconds and the CPU seconds of this process of one call of ``run``."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(
    runs: dict[str, Callable[[], Any]], repeats: int
) -> dict[str, tuple[float, float]]:
    """Time every run ``repeats`` times, alternating; return median wall and CPU seconds."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(timed(run))
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in times.items()
    }


# --------------------------------------------------------------------- training
def network(module: str, epochs: int, **params: Any) -> DIRRegressor:
    """Return the regressor timed in training."""
    return DIRRegressor(
        module=module,
        early_stopping=False,
        validation_fraction=None,
        max_epochs=epochs,
        batch_size=64,
        random_state=0,
        device="cpu",
        **params,
    )


def hand_loop(
    net: DIRRegressor,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int,
    seed: int = 0,
    index_select: bool = False,
) -> nn.Module:
    """Train the module class of ``net`` by a plain PyTorch loop; return the module.

    The module is built with the arguments the regressor gives it
    (``n_features``, ``n_outputs`` and the ``module__*`` parameters); AdamW
    with the regressor's learning rate, shuffled mini-batches of its batch
    size, mean squared error. Batches are gathered by ``X[rows]``, or with
    ``index_select=True`` by ``X.index_select(0, rows)`` (as the regressor does;
    several times faster on the CPU).
    """
    torch.manual_seed(seed)
    module_class = net._module_class()
    module = module_class(n_features=X.shape[1], n_outputs=1, **net.get_params_for("module"))
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)
    if hasattr(module, "fit_inputs"):  # InteractionMLP's scaling and pairs
        module.fit_inputs(X_t, y_t)
    optimizer = torch.optim.AdamW(module.parameters(), lr=net.lr)
    loss_fn = nn.MSELoss()
    generator = torch.Generator().manual_seed(seed)
    batch_size = net.batch_size
    module.train()
    for _ in range(epochs):
        order = torch.randperm(len(X_t), generator=generator)
        for start in range(0, len(X_t), batch_size):
            rows = order[start : start + batch_size]
            if index_select:
                X_batch, y_batch = X_t.index_select(0, rows), y_t.index_select(0, rows)
            else:
                X_batch, y_batch = X_t[rows], y_t[rows]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(module(X_batch), y_batch)
            loss.backward()
            optimizer.step()
    return module


def n_parameters(module: nn.Module) -> int:
    """Return the number of parameters of ``module``."""
    return sum(p.numel() for p in module.parameters())


def training_row(
    label: str, seconds: dict[str, tuple[float, float]], name: str, reference: str, epochs: int
) -> dict[str, Any]:
    """Return a table row of seconds per epoch of ``name`` against ``reference``."""
    return {
        "measure": label,
        "skdir": seconds[name][0] / epochs,
        "reference": seconds[reference][0] / epochs,
        "cpu_ratio": seconds[name][1] / seconds[reference][1],
        "unit": "s",
        "goal": GOALS["train"] if label.startswith("train") else None,
    }


def bench_training(
    modules: list[str], n_samples: int, epochs: int, repeats: int, extra_references: bool
) -> list[dict[str, Any]]:
    """Time training per epoch of each module against the hand-written loop."""
    X, y = make_data(n_samples, seed=0)
    rows = []
    for module in modules:
        probe = network(module, 1).fit(X[:256], y[:256])  # warm-up; the sizes to compare
        reference = hand_loop(probe, X[:256], y[:256], 1)
        assert n_parameters(probe.module_) == n_parameters(reference), module
        runs: dict[str, Callable[[], Any]] = {
            "skdir": lambda module=module: network(module, epochs).fit(X, y),
            "loop": lambda probe=probe: hand_loop(probe, X, y, epochs),
        }
        if extra_references and module == "mlp":
            runs["loop index_select"] = lambda probe=probe: hand_loop(
                probe, X, y, epochs, index_select=True
            )
            runs["DataLoader"] = lambda: network("mlp", epochs, iterator_train__num_workers=0).fit(
                X, y
            )
        seconds = interleaved(runs, repeats)
        rows.append(training_row(f"train/epoch {module}", seconds, "skdir", "loop", epochs))
        if "DataLoader" in seconds:
            rows.append(
                training_row(
                    "  (vs loop with index_select)", seconds, "skdir", "loop index_select", epochs
                )
            )
            rows.append(
                training_row("  (skorch DataLoader path)", seconds, "DataLoader", "loop", epochs)
            )
    return rows


def check_tensor_batches(n_samples: int) -> None:
    """Assert that training through tensor batches equals skorch's DataLoader path."""
    X, y = make_data(n_samples, seed=1)
    fast = network("mlp", 2).fit(X, y)
    slow = network("mlp", 2, iterator_train__num_workers=0).fit(X, y)
    np.testing.assert_array_equal(fast.predict(X), slow.predict(X))


# -------------------------------------------------------------------- predict
def raw_predict(module: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """Forward ``X`` through ``module`` without gradients, in chunks."""
    module.eval()
    with torch.no_grad():
        starts = range(0, len(X), PREDICT_BATCH_SIZE)
        return torch.cat([module(X[start : start + PREDICT_BATCH_SIZE]) for start in starts])


def bench_predict(n_rows: int, repeats: int) -> list[dict[str, Any]]:
    """Time DIRRegressor.predict against the raw module; check they agree."""
    X_train, y_train = make_data(1000, seed=0)
    net = network("mlp", 2).fit(X_train, y_train)
    X, _ = make_data(n_rows, seed=2)
    X_t = torch.from_numpy(X)
    module = net.module_
    predicted = net.predict(X)  # warm-up and the check of item 4
    raw = raw_predict(module, X_t).numpy().ravel()
    assert predicted.dtype == np.float64 and predicted.shape == (n_rows,)
    np.testing.assert_allclose(predicted, raw, rtol=1e-5, atol=1e-6)
    seconds = interleaved(
        {"skdir": lambda: net.predict(X), "raw": lambda: raw_predict(module, X_t)}, repeats
    )
    return [
        {
            "measure": f"predict {n_rows:,} rows",
            "skdir": seconds["skdir"][0],
            "reference": seconds["raw"][0],
            "cpu_ratio": seconds["skdir"][1] / seconds["raw"][1],
            "unit": "s",
            "goal": GOALS["predict"],
        }
    ]


# --------------------------------------------------------------------- pickle
def bench_pickle(n_samples: int, max_epochs: int) -> list[dict[str, Any]]:
    """Pickle the networks of ``skdir demo`` and compare with their parameter bytes."""
    from sklearn.model_selection import train_test_split

    from skdir.cli import build_models
    from skdir.datasets import make_imbalanced_regression

    bags, Y, _ = make_imbalanced_regression(
        n_samples, 384, n_targets=2, n_modalities=2, n_fragments=(2, 6), random_state=0
    )
    train, _ = train_test_split(np.arange(n_samples), test_size=0.3, random_state=0)
    train_bags = [bags[i] for i in train]
    models = build_models("quick", bags=True, n_targets=2, random_state=0, max_epochs=max_epochs)
    rows = []
    for name in ("MLP+FDS", "MLP+SMOGN+LDS+FDS"):
        pipeline = models[name]
        pipeline.fit(train_bags, Y[train])
        net = pipeline[-1]
        assert isinstance(net, DIRRegressor)
        n_bytes = sum(p.numel() * p.element_size() for p in net.module_.parameters())
        blob = pickle.dumps(net)
        whole = pickle.dumps(pipeline)
        restored = pickle.loads(whole)
        some = train_bags[:50]
        np.testing.assert_array_equal(restored.predict(some), pipeline.predict(some))
        rows.append(
            {
                "measure": f"pickle demo {name}",
                "skdir": len(blob) / 1e6,
                "reference": n_bytes / 1e6,
                "unit": "MB",
                "goal": GOALS["pickle"],
            }
        )
        rows.append(
            {
                "measure": f"  (whole pipeline {name})",
                "skdir": len(whole) / 1e6,
                "reference": n_bytes / 1e6,
                "unit": "MB",
                "goal": None,
            }
        )
    return rows


# ---------------------------------------------------------------------- table
def format_table(rows: list[dict[str, Any]]) -> str:
    """Return the rows as a fixed-width text table.

    Times are wall seconds; ``ratio`` is skdir / reference in wall time and
    ``cpu`` the same in CPU seconds of this process. A goal is judged on the
    CPU ratio where there is one: with one thread it is the compute time, which
    other work on a shared machine disturbs far less than the wall time.
    """
    header = (
        f"{'measure':<38} {'skdir':>10} {'reference':>10} {'ratio':>7} {'cpu':>7} {'goal':>6}  ok"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        ratio = row["skdir"] / row["reference"]
        cpu_ratio = row.get("cpu_ratio")
        goal = row["goal"]
        judged = ratio if cpu_ratio is None else cpu_ratio
        ok = "" if goal is None else ("yes" if judged <= goal else "NO")
        goal_text = "" if goal is None else f"{goal:.2f}x"
        cpu_text = "" if cpu_ratio is None else f"{cpu_ratio:.3f}x"
        unit = row["unit"]
        lines.append(
            f"{row['measure']:<38} {row['skdir']:>8.4f}{unit:<2} "
            f"{row['reference']:>8.4f}{unit:<2} {ratio:>6.3f}x {cpu_text:>7} {goal_text:>6}  {ok}"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark, print the table and write benchmarks/results/bench_speed.txt."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per side")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per timed fit")
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    quick = args.quick
    repeats = args.repeats or (2 if quick else 5)
    epochs = args.epochs or (2 if quick else 5)
    n_train = 5_000
    n_predict = 10_000 if quick else 100_000
    modules = ["mlp"]
    if "interaction_mlp" in getattr(sys.modules["skdir.nn.regressor"], "_MODULES", {}):
        modules.append("interaction_mlp")

    started = time.perf_counter()
    rows = bench_training(modules, n_train, epochs, repeats, extra_references=not quick)
    check_tensor_batches(500)
    rows += bench_predict(n_predict, repeats)
    rows += bench_pickle(300 if quick else 1500, 3 if quick else 200)
    elapsed = time.perf_counter() - started

    settings = (
        f"CPU, torch.set_num_threads(1); {platform.processor() or platform.machine()}; "
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"skorch {skorch.__version__}, scikit-learn {sklearn.__version__}\n"
        f"training: {n_train:,} x {N_FEATURES}, batch 64, {epochs} epochs per fit; "
        f"predict: {n_predict:,} x {N_FEATURES}; median of {repeats} repeats; "
        f"{'--quick; ' if quick else ''}{elapsed:.0f} s in all\n"
        "checks passed: predict equals the raw module (rtol 1e-5); tensor batches train "
        "bit-identically to skorch's DataLoader"
    )
    text = f"{format_table(rows)}\n\n{settings}\n"
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        command = "python benchmarks/bench_speed.py" + " ".join(["", *sys.argv[1:]])
        RESULTS.write_text(f"$ {command}\n\n{text}")


if __name__ == "__main__":
    main()
