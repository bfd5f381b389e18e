"""Sphinx configuration for mda_glassml (build: sphinx-build -W -b html docs docs/_build/html)."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from mda_glassml import __version__  # noqa: E402

project = "mda_glassml"
author = "mda_glassml developers"
copyright = "2026, mda_glassml developers"
release = version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx.ext.intersphinx",
    "matplotlib.sphinxext.plot_directive",
]

autodoc_member_order = "bysource"
autodoc_typehints = "none"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

intersphinx_mapping = {}  # no network at build time: plain names, no cross-project links

plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.autolayout": True}

exclude_patterns = ["_build", "*.md"]
html_theme = "alabaster"
html_static_path = []
nitpicky = False
