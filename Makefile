# Quick start: `make demo` runs the main job on a shipped instance, `make test` runs the tests,
# `make docs` builds the documentation site into docs/_build/html (warnings are errors).
# All create .venv if missing and install torch==2.13.0 first (a CPU wheel; any other torch
# pulls a CUDA build of several GB), then the project with its dev, validation, dask, docs and
# backends extras, editable.
#
# `make docs-data` runs every command whose measured output the docs show and saves it in
# docs/_generated/NAME.json (committed; the list of commands is RESULTS in docs/_ext/docs_data.py,
# `make docs-data-list` prints it, `make docs-data ONLY="NAME ..."` runs some). `make docs`
# renders the tables from those files and fails when one is missing or stale; it runs only the
# cheap commands itself. docs/maintaining.md says how numbers get into the docs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export COLUMNS := 110
ONLY ?=

.PHONY: demo test lint docs docs-data docs-data-list docs-data-status clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml setup.py
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,validation,dask,docs,backends]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/opt-offload solve instances/admission/table3-competitive.json

test: $(STAMP)
	$(BIN)/python -m pytest

docs: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

docs-data: $(STAMP)
	$(BIN)/python docs/_ext/docs_data.py $(ONLY)

docs-data-list: $(STAMP)
	$(BIN)/python docs/_ext/docs_data.py --list

docs-data-status: $(STAMP)
	$(BIN)/python docs/_ext/docs_data.py --status

lint: $(STAMP)
	$(BIN)/ruff check opt_offload models solvers tests docs/_ext

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis docs/_build docs/tutorials/notebooks
