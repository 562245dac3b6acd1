# Quick start: `make demo` runs the main job on a shipped instance, `make test` runs the tests,
# `make docs` builds the documentation site into docs/_build/html (warnings are errors).
# All create .venv if missing and install torch==2.13.0 first (a CPU wheel; any other torch
# pulls a CUDA build of several GB), then the project with its dev, validation, dask, docs and
# backends extras, editable.
#
# `make docs-data` re-runs the benchmarks and the sweep whose saved output the docs read
# (docs/_generated/, committed); `make docs` runs the cheap commands itself.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

GENERATED := docs/_generated
# the settings of every saved result the docs show (docs/_generated/MANIFEST is checked by
# `make docs`: a result whose command changed here must be regenerated)
export COLUMNS := 110

.PHONY: demo test lint docs docs-data clean

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
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python docs/_ext/docs_data.py

lint: $(STAMP)
	$(BIN)/ruff check opt_offload models solvers tests docs/_ext

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis docs/_build docs/tutorials/notebooks
