"""Speed of the density weighters against plain references, on one thread (issue 15.5).

- ``DenseWeighter().fit_transform`` against the ``denseweight`` package's
  ``DenseWeight().fit`` at 100,000 targets (goal: at most 2 times its time);
  ``pip install denseweight`` for the comparison, it is not a dependency of skdir.
- ``LDSWeighter().fit_transform`` against a numpy reference written here (``np.histogram``
  into 50 bins, ``np.convolve`` of the square-root counts with the LDS window, a bin index
  per target, ``1 / size`` looked up and scaled to mean 1) at 10,000,000 targets (goal: at
  most 1.3 times its time). Both the defaults (robust range, automatic bins, tempered and
  capped weights) and ``LDSWeighter(n_bins=50, bin_range=None)`` (the reference's bins).

Targets: ``exponential(1)`` draws (seed 0). Each timing is the best of ``--repeat`` runs.
Run: ``python benchmarks/bench_weighting_speed.py`` (about a minute). The table is written
to ``benchmarks/results/bench_weighting_speed.txt``.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skdir.density import kernel_window
from skdir.weighting import DenseWeighter, LDSWeighter

RESULTS = Path(__file__).resolve().parent / "results" / "bench_weighting_speed.txt"


def best_time(function: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def numpy_lds(y: np.ndarray, window: np.ndarray, n_bins: int = 50) -> np.ndarray:
    """LDS weights in plain numpy: histogram, convolve, look up, scale to mean 1."""
    counts, edges = np.histogram(y, bins=n_bins)
    sizes = np.convolve(np.sqrt(counts), window, mode="same")
    index = ((y - edges[0]) * (n_bins / (edges[-1] - edges[0]))).astype(np.intp)
    np.clip(index, 0, n_bins - 1, out=index)
    weights = 1.0 / sizes[index]
    weights *= len(weights) / weights.sum()
    return weights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--n-dense", type=int, default=100_000)
    parser.add_argument("--n-lds", type=int, default=10_000_000)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    lines: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    emit(f"# bench_weighting_speed: one thread, best of {args.repeat}, {platform.machine()}")
    emit("| weighter | targets | skdir s | reference | reference s | ratio | goal |")
    emit("|---|---|---|---|---|---|---|")
    with threadpool_limits(1):
        y = rng.exponential(size=args.n_dense)
        skdir_s = best_time(lambda: DenseWeighter().fit_transform(y), args.repeat)
        try:
            from denseweight import DenseWeight

            reference_s = best_time(lambda: DenseWeight(alpha=1.0).fit(y), args.repeat)
            ratio = f"{skdir_s / reference_s:.2f}"
            verdict = "met" if skdir_s <= 2 * reference_s else "MISSED"
            reference = "denseweight.DenseWeight().fit"
        except ImportError:
            reference_s, ratio, verdict = float("nan"), "n/a", "n/a (pip install denseweight)"
            reference = "denseweight (not installed)"
        emit(
            f"| DenseWeighter().fit_transform | {args.n_dense:,} | {skdir_s:.4f} | {reference} | "
            f"{reference_s:.4f} | {ratio} | <= 2: {verdict} |"
        )

        y = rng.exponential(size=args.n_lds)
        window = kernel_window("gaussian", 5, 2.0)
        reference_s = best_time(lambda: numpy_lds(y, window), args.repeat)
        for label, weighter in (
            ("LDSWeighter().fit_transform", LDSWeighter()),
            (
                "LDSWeighter(n_bins=50, bin_range=None).fit_transform",
                LDSWeighter(n_bins=50, bin_range=None),
            ),
        ):
            skdir_s = best_time(lambda w=weighter: w.fit_transform(y), args.repeat)
            verdict = "met" if skdir_s <= 1.3 * reference_s else "MISSED"
            emit(
                f"| {label} | {args.n_lds:,} | {skdir_s:.4f} | numpy histogram + convolve + "
                f"lookup | {reference_s:.4f} | {skdir_s / reference_s:.2f} | <= 1.3: {verdict} |"
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
