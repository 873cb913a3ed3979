"""Run every component benchmark and collect their printed tables in one report.

    python benchmarks/run_all.py [--full] [--only NAME ...] [--args NAME ARGS]
                                 [--out benchmarks/results]

Each ``benchmarks/bench_*.py`` script runs in its own process from the repository
root, with ``--quick`` unless ``--full`` is given (scripts without a quick mode run
as they are). The report, ``<out>/REPORT.md``, holds each script's command, wall
time, exit status and printed output, from the latest run of that script
(``<out>/<name>.md`` keeps each section, ``<out>/<name>.txt`` each output), so that
``--only NAME`` refreshes one section. Data
sets the scripts read from ``../shared/datasets`` must be present where they expect
them; a script that fails is reported with its error and the others still run.
"""

from __future__ import annotations

import argparse
import platform
import shlex
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


def run(
    script: Path, full: bool, timeout: float, extra: list[str] | None = None
) -> tuple[list[str], float, int, str]:
    """Run one script; return its command, wall seconds, exit status and output."""
    command = [sys.executable, str(script.relative_to(ROOT))]
    if not full and "--quick" in script.read_text():
        command.append("--quick")
    command += extra or []
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
    parser.add_argument(
        "--args",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "ARGS"),
        help='extra arguments for one script, e.g. --args nn "--seeds 5"',
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for script in discover(args.only):
        print(f"running {script.name} ...", flush=True)
        extra = [
            word
            for name, words in args.args
            if script.stem == f"bench_{name.removeprefix('bench_').removesuffix('.py')}"
            for word in shlex.split(words)
        ]
        command, seconds, status, output = run(script, args.full, args.timeout, extra)
        failures += status != 0
        (out / f"{script.stem}.txt").write_text(output)
        print(f"  {seconds:.0f} s, exit {status}", flush=True)
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        (out / f"{script.stem}.md").write_text(
            f"## {script.stem}\n\n`{' '.join(command[1:])}`: {seconds:.0f} s, exit {status} "
            f"({stamp}, Python {platform.python_version()} on {platform.machine()})\n\n"
            f"```text\n{output.rstrip()}\n```\n"
        )
    sections = [path.read_text() for path in sorted(out.glob("bench_*.md"))]
    header = (
        "# skdir benchmark report\n\n"
        "One section per benchmark script, each from its latest run by "
        "`python benchmarks/run_all.py` (its command, time and output); a script run "
        "with `--only` replaces its own section and keeps the others.\n\n"
    )
    (out / "REPORT.md").write_text(header + "\n".join(sections))
    print(f"wrote {out / 'REPORT.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
