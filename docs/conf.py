"""Sphinx configuration of the opt_offload documentation (`make docs`).

Pages are MyST Markdown; the notebooks are rendered from their stored outputs (never executed
here: tests/test_notebooks.py runs them); command output is produced at build time by
sphinxcontrib-programoutput, so an example that stops working fails the build. The local
extension (_ext/opt_offload_docs.py) copies the notebooks in, writes the file-format pages from
`opt-offload schema`, lists the measured-results pages that exist, and checks that the saved
benchmark results (docs/_generated/) match the settings that `make docs-data` documents.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("COLUMNS", "110")  # rich tables in command output, as in the terminal

project = "opt_offload"
author = "The opt_offload contributors"
copyright = "2026, The opt_offload contributors"
release = version = "0.1.0"

extensions = [
    "myst_nb",  # also registers myst_parser for .md
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinxcontrib.programoutput",
    "opt_offload_docs",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "_generated/**/*.md", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "dollarmath", "amsmath", "deflist", "substitution"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # notebooks ship executed; the test suite runs them
nb_merge_streams = True

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"exclude-members": "model_config, model_fields, model_computed_fields"}
napoleon_google_docstring = False

# numbers quoted in prose come from the saved results (`make docs-data`), never typed in
_critical = json.loads((HERE / "_generated" / "sweep" / "critical.json").read_text())["critical"]
myst_substitutions = {
    "sweep_M_accuracy": f"{_critical['M:accuracy_surrogate']:g}",
    "sweep_M_objective": f"{_critical['M:objective']:g}",
    "sweep_B_accuracy": f"{_critical['B:accuracy_surrogate']:g}",
    "sweep_B_objective": f"{_critical['B:objective']:g}",
}

programoutput_prompt_template = "$ {command}\n{output}"

html_theme = "furo"
html_title = "opt_offload"
html_static_path: list[str] = []
