"""Sphinx configuration of the gbloss API reference: ``bash scripts/docs.sh`` builds it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import gbloss

project = "gbloss"
author = "the gbloss developers"
copyright = "the gbloss developers, BSD-3-Clause"
release = gbloss.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    # MathJax served from the built pages (the default loads it from a CDN: raw LaTeX offline)
    "sphinx-mathjax-offline",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# The docstrings are numpydoc; the class pages list their methods through autodoc.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
autodoc_member_order = "bysource"
# The numpydoc sections give each parameter's type; signatures show names and defaults.
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_mock_imports = ["cupy"]

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = f"gbloss {release}"
html_theme_options = {"description": "Loss functions for imbalanced data", "fixed_sidebar": True,
                      "page_width": "1240px", "sidebar_width": "220px"}


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn adds set_*_request methods (metadata routing) to every estimator class
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
