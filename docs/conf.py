"""Sphinx configuration for the skdir documentation.

Build (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Two sets of pages are written here at build time, so that new code appears
without editing the docs:

* ``api/modules/<module>.rst``: one page per public skdir module that can be
  found (:data:`PUBLIC_MODULES` filtered by :func:`importlib.util.find_spec`),
  listing the names in the module's ``__all__``; autosummary then writes one
  page per class and function into ``api/generated/``.
* ``examples/generated/<script>.rst``: one page per ``examples/*.py`` script,
  written by sphinx-gallery, which runs the script and shows its output and
  figures under its code (:data:`sphinx_gallery_conf`).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
# Keep the figure scripts (and torch, if a module imports it) on few threads:
# the docs must build in about two minutes on two cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import skdir  # noqa: E402

project = "skdir"
author = "The skdir developers"
copyright = "2026, The skdir developers"
release = skdir.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# -- API reference -----------------------------------------------------------

#: Every public module of skdir, in the order of the API reference. Modules
#: that cannot be found yet (being written) are left out of this build.
PUBLIC_MODULES = [
    "skdir.density",
    "skdir.weighting",
    "skdir.target",
    "skdir.fragments",
    "skdir.resampling",
    "skdir.pipeline",
    "skdir.nn",
    "skdir.ensemble",
    "skdir.metrics",
    "skdir.model_selection",
    "skdir.datasets",
    "skdir.plotting",
    "skdir.auto",
    "skdir.conformal",
    "skdir.persistence",
]


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a parent package is missing
        return False


AVAILABLE_MODULES = [name for name in PUBLIC_MODULES if _module_exists(name)]
MISSING_MODULES = [name for name in PUBLIC_MODULES if name not in AVAILABLE_MODULES]


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (keeps rebuilds incremental)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _heading(title: str, char: str = "=") -> str:
    return f"{title}\n{char * len(title)}\n"


def _public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and (inspect.isclass(obj) or inspect.isfunction(obj))
            and getattr(obj, "__module__", "").startswith(module.__name__)
        ]
    return sorted(names, key=str.lower)


def _module_page(name: str) -> str:
    module = importlib.import_module(name)
    groups: dict[str, list[str]] = {"Classes": [], "Functions": [], "Constants": []}
    for member in _public_names(module):
        obj = getattr(module, member)
        if inspect.isclass(obj):
            groups["Classes"].append(member)
        elif callable(obj):
            groups["Functions"].append(member)
        else:
            groups["Constants"].append(member)
    lines = [
        _heading(f"``{name}``"),
        f".. automodule:: {name}\n   :no-members:\n   :no-index:\n",
        f".. currentmodule:: {name}\n",
    ]
    for title, members in groups.items():
        if not members:
            continue
        lines.append(f".. rubric:: {title}\n")
        if title == "Constants":
            lines.extend(f".. autodata:: {m}\n   :no-value:\n" for m in members)
            continue
        template = "class" if title == "Classes" else "function"
        lines.append(
            ".. autosummary::\n   :toctree: ../generated/\n"
            f"   :template: {template}\n   :nosignatures:\n\n"
            + "".join(f"   {m}\n" for m in members)
        )
    return "\n".join(lines)


for _name in AVAILABLE_MODULES:
    _write_if_changed(DOCS / "api" / "modules" / f"{_name}.rst", _module_page(_name))
for _stale in (DOCS / "api" / "modules").glob("*.rst"):
    if _stale.stem not in AVAILABLE_MODULES:
        _stale.unlink()

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- Examples ----------------------------------------------------------------

#: sphinx-gallery runs every ``examples/*.py`` at build time (one after another,
#: in this process, on one thread) and writes ``examples/generated/<script>.rst``
#: with the script's text blocks as prose, its code, what it printed and the
#: figures it drew; ``examples/GALLERY_HEADER.rst`` heads the gallery page. An
#: example that fails fails the build. Keep every example to seconds (small data,
#: few epochs): the whole build must stay well under five minutes on two cores.
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": str(DOCS / "examples" / "generated"),
    "filename_pattern": r"\.py$",  # run every script, not only plot_*.py
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "capture_repr": ("__repr__",),
    "thumbnail_size": (320, 224),
}
#: Headless figures, a fixed size and resolution for the gallery's PNGs.
os.environ.setdefault("MPLBACKEND", "Agg")

# -- Figures -------------------------------------------------------------------

plot_include_source = False
plot_html_show_source_link = True
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_rcparams = {"figure.figsize": (6.4, 3.6), "figure.dpi": 100, "savefig.bbox": "tight"}
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\n"
plot_basedir = str(DOCS / "pyplots")
plot_working_directory = str(DOCS / "pyplots")

# -- HTML ------------------------------------------------------------------------

try:
    import pydata_sphinx_theme  # noqa: F401

    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
    }
except ImportError:  # the built-in theme is enough to read the docs
    html_theme = "alabaster"
html_title = f"skdir {release}"
html_static_path: list[str] = []
html_show_sourcelink = False


# -- Docstring clean-up --------------------------------------------------------


def _join_continued_lines(app, what, name, obj, options, lines) -> None:
    """Join parameter-type lines that end in a backslash continuation.

    numpydoc's convention for a long type line is ``name : type,`` plus a
    backslash, followed by ``default=...`` on the next line, which Python joins
    when the docstring is not raw. In a raw docstring (needed for LaTeX) the
    backslash and the line break stay, and docutils then reads the second half
    as a stray unindented line. Joining them here renders both kinds alike.
    """
    joined: list[str] = []
    for line in lines:
        if joined and joined[-1].endswith("\\") and not joined[-1].endswith("\\\\"):
            joined[-1] = joined[-1][:-1] + line.lstrip()
        else:
            joined.append(line)
    lines[:] = joined


_PARAM_LINE = re.compile(r"^(\s*[\w*][\w*, ]* : )(.+)$")
_TRAILING_UNDERSCORE_NAME = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![\w`])")


def _quote_attribute_names_in_types(app, what, name, obj, options, lines) -> None:
    """Render fitted-attribute names in parameter types literally.

    A type such as ``ndarray of shape (n_features_in_,)`` contains
    ``n_features_in_``, which reStructuredText reads as a link to a target named
    ``n_features_in`` (an error). scikit-learn writes such names in backquotes;
    in the *type* part of a ``name : type`` line (never in the name or the
    description) skdir's docs quote them the same way.
    """
    for i, line in enumerate(lines):
        match = _PARAM_LINE.match(line)
        if match:
            head, kind = match.groups()
            lines[i] = head + _TRAILING_UNDERSCORE_NAME.sub(r"``\1``", kind)


#: scikit-learn glossary terms that docstrings inherited from scikit-learn
#: (e.g. ``BaseSearchCV.n_features_in_``, which numpydoc copies into the
#: attribute list) refer to with ``:term:``. They resolve to scikit-learn's
#: online glossary, as intersphinx would, without a network access at build time.
SKLEARN_GLOSSARY = "https://scikit-learn.org/stable/glossary.html#term-"
SKLEARN_TERMS = {
    "fit",
    "predict",
    "transform",
    "fit_transform",
    "estimator",
    "estimators",
    "n_features_in_",
    "feature_names_in_",
    "cross-validation",
    "cross-validation estimator",
    "random_state",
    "n_jobs",
    "sample_weight",
    "scorer",
    "metadata routing",
    "classes_",
    "decision_function",
    "predict_proba",
    "predict_log_proba",
    "score_samples",
    "inverse_transform",
    "Glossary",
    "meta-estimator",
    "meta-estimators",
}
#: scikit-learn user-guide labels referred to (with ``:ref:``) by the
#: ``set_{method}_request`` methods that scikit-learn adds to every estimator.
SKLEARN_LABELS = {
    "metadata_routing": "https://scikit-learn.org/stable/metadata_routing.html",
}


def _resolve_sklearn_references(app, env, node, contnode):
    if node.get("refdomain") != "std" or node.get("reftype") not in ("term", "ref"):
        return None
    target = node.get("reftarget", "")
    if node.get("reftype") == "ref":
        if target not in SKLEARN_LABELS:
            return None
        from docutils import nodes

        reference = nodes.reference(
            "", "", internal=False, refuri=SKLEARN_LABELS[target], reftitle="scikit-learn"
        )
        reference.append(contnode)
        return reference
    if target not in SKLEARN_TERMS and target.lower() not in SKLEARN_TERMS:
        return None
    from docutils import nodes

    anchor = target.lower().replace(" ", "-")
    if target == "Glossary":
        anchor = ""
    url = SKLEARN_GLOSSARY[: -len("#term-")] if not anchor else SKLEARN_GLOSSARY + anchor
    reference = nodes.reference(
        "", "", internal=False, refuri=url, reftitle="scikit-learn glossary"
    )
    reference.append(contnode)
    return reference


def setup(app) -> None:
    """Connect the docstring clean-ups and the glossary resolver."""
    # Before numpydoc (priority 500) parses the docstring.
    app.connect("autodoc-process-docstring", _join_continued_lines, priority=100)
    app.connect("autodoc-process-docstring", _quote_attribute_names_in_types, priority=101)
    app.connect("missing-reference", _resolve_sklearn_references)
