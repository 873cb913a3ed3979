"""Build the Sphinx documentation with warnings as errors (slow: about a minute)."""

import html as html_module
import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

pytestmark = pytest.mark.slow


def _conf_lists():
    """PUBLIC_MODULES / AVAILABLE_MODULES as the docs' conf.py computes them."""
    spec = importlib.util.spec_from_file_location("_skdir_docs_conf", DOCS / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    return conf.PUBLIC_MODULES, conf.AVAILABLE_MODULES


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    for name in ("sphinx", "numpydoc"):
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not installed (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("docs")
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-d",
        str(out / "doctrees"),
        str(DOCS),
        str(out / "html"),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"sphinx failed:\n{result.stdout}\n{result.stderr}"
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    return out / "html"


def test_user_guide_pages_and_figures(html):
    for page in (
        "imbalance",
        "label_density",
        "fds",
        "resampling",
        "losses",
        "pipelines",
        "evaluation",
        "choosing",
        "scaling",
    ):
        assert (html / "guide" / f"{page}.html").is_file(), page
    assert (html / "tuning.html").is_file()
    figures = {p.name for p in (html / "_images").glob("*.png")}
    expected = {
        "imbalance_error.png",
        "label_density.png",
        "kernels.png",
        "fds.png",
        "resampling.png",
        "shot_regions.png",
        "focal.png",
        "plotting_functions.png",
    }
    assert expected <= figures, expected - figures
    for name in expected:  # a real plot, not an empty canvas
        assert (html / "_images" / name).stat().st_size > 10_000, name


def test_api_reference_covers_every_public_module(html):
    public, available = _conf_lists()
    assert {
        "skdir.density",
        "skdir.metrics",
        "skdir.datasets",
        "skdir.resampling",
        "skdir.nn",
    } <= set(available)
    assert set(available) == {m for m in public if importlib.util.find_spec(m) is not None}
    for module_name in available:
        page = html / "api" / "modules" / f"{module_name}.html"
        assert page.is_file(), module_name
        module = importlib.import_module(module_name)
        text = page.read_text(encoding="utf-8")
        for name in getattr(module, "__all__", []):
            assert name in text, f"{module_name}.{name} missing from its API page"
            if callable(getattr(module, name)):
                assert (html / "api" / "generated" / f"{module_name}.{name}.html").is_file()


def _page_text(path):
    return html_module.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def test_every_example_has_a_page(html):
    scripts = sorted((ROOT / "examples").glob("*.py"))
    assert scripts, "examples/ holds no script"
    for script in scripts:
        page = html / "examples" / "generated" / f"{script.stem}.html"
        assert page.is_file(), script.name
        # the script is included verbatim: its longest line appears in the page text
        longest = max(script.read_text(encoding="utf-8").splitlines(), key=len).strip()
        assert longest in _page_text(page), (script.name, longest)
