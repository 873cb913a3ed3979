"""Run every component benchmark and collect their printed tables in one report.

    python benchmarks/run_all.py [--full] [--only NAME ...] [--out benchmarks/results]

Each ``benchmarks/bench_*.py`` script runs in its own process from the repository
root, with ``--quick`` unless ``--full`` is given (scripts without a quick mode run
as they are). The report, ``<out>/REPORT.md``, holds each script's command, wall
time, exit status and printed output; ``<out>/<name>.txt`` keeps each output. Data
sets the scripts read from ``../shared/datasets`` must be present where they expect
them; a script that fails is reported with its error and the others still run.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def discover(only: list[str] | None) -> list[Path]:
    """List the benchmark scripts in name order, optionally only those named."""
    scripts = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    if only:
        wanted = {name.removeprefix("bench_").removesuffix(".py") for name in only}
        unknown = wanted - {p.stem.removeprefix("bench_") for p in scripts}
        if unknown:
            raise SystemExit(
                f"unknown benchmark(s) {sorted(unknown)}; have {[p.stem for p in scripts]}"
            )
        scripts = [p for p in scripts if p.stem.removeprefix("bench_") in wanted]
    return scripts


def run(script: Path, full: bool, timeout: float) -> tuple[list[str], float, int, str]:
    """Run one script; return its command, wall seconds, exit status and output."""
    command = [sys.executable, str(script.relative_to(ROOT))]
    if not full and "--quick" in script.read_text():
        command.append("--quick")
    start = time.perf_counter()
    try:
        completed = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
        status, output = completed.returncode, completed.stdout
        if completed.returncode != 0:
            output += "\n--- stderr (last lines) ---\n" + "\n".join(
                completed.stderr.splitlines()[-30:]
            )
    except subprocess.TimeoutExpired as error:
        status, output = -1, f"{error.stdout or ''}\n(killed after {timeout:.0f} s)"
    return command, time.perf_counter() - start, status, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="run the full variants")
    parser.add_argument("--only", nargs="+", help="benchmark names, e.g. density resampling")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per script")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sections = []
    failures = 0
    for script in discover(args.only):
        print(f"running {script.name} ...", flush=True)
        command, seconds, status, output = run(script, args.full, args.timeout)
        failures += status != 0
        (out / f"{script.stem}.txt").write_text(output)
        print(f"  {seconds:.0f} s, exit {status}", flush=True)
        sections.append(
            f"## {script.stem}\n\n`{' '.join(command[1:])}`: {seconds:.0f} s, exit {status}\n\n"
            f"```text\n{output.rstrip()}\n```\n"
        )
    header = (
        "# skdir benchmark report\n\n"
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python "
        f"{platform.python_version()} on {platform.machine()}, "
        f"{'full' if args.full else 'quick'} variants. Produced by "
        f"`python benchmarks/run_all.py{' --full' if args.full else ''}`.\n\n"
    )
    (out / "REPORT.md").write_text(header + "\n".join(sections))
    print(f"wrote {out / 'REPORT.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
