# Quick start: `make demo` runs the main job on a shipped instance, `make test` runs the tests.
# Both create .venv if missing and install torch==2.13.0 first (a CPU wheel; any other torch
# pulls a CUDA build of several GB), then the project with its dev, validation and dask
# extras, editable.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml setup.py
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,validation,dask]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/opt-offload solve instances/admission/table3-competitive.json

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check opt_offload models solvers tests

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
