"""Every script in ``examples/`` runs and prints finite figures.

Each example asserts the improvement it claims itself (it ends with an ``assert``),
so a run that exits with status 0 has shown it.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|\bnan\b|\binf\b")


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    completed = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    figures = [line for line in lines if re.search(r"\d\.\d", line)]
    assert figures, f"{script.name} printed no figures"
    last = [float(x) for x in NUMBER.findall(figures[-1]) if x not in ("nan", "inf")]
    assert last and np.isfinite(last).all(), figures[-1]


def test_readme_code_runs():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert len(blocks) == 2  # the recommended model, then a hand-built pipeline
    namespace: dict = {}
    for code in blocks:  # the second block reuses the first one's imports and data
        exec(compile(code, "README.md", "exec"), namespace)
    scores = namespace["scores"]
    assert len(scores) == 5 and np.isfinite(scores).all() and (scores < 0).all()
    assert namespace["model"][-1].n_outputs_ == 2
