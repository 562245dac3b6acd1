"""The teaching notebooks (``notebooks/*.ipynb``) run top to bottom, with the hidden solutions of
their exercises run too, each in under two minutes (issue 8).

A notebook runs in a fresh kernel of this interpreter, with ``notebooks/`` as its working
directory (as Jupyter starts it), so shipped instances are found at ``../instances``. A
solution is the ``python`` code block inside a ``<details><summary>Solution</summary>`` block
of a markdown cell; it runs as a code cell right after that cell, so a solution that no longer
works fails the test like any other cell.
"""

from __future__ import annotations

import re
import time

import nbclient
import nbformat
import pytest
from ipykernel import kernelspec

from .conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
BUDGET_S = 120.0  # the issue: each notebook runs in under two minutes here
SOLUTION = re.compile(
    r"<details>\s*<summary>\s*Solution\s*</summary>\s*```python\n(.*?)```\s*</details>", re.S
)


def with_solutions(notebook):
    """The notebook with each hidden solution inserted as a code cell after its exercise."""
    cells = []
    for cell in notebook.cells:
        cells.append(cell)
        if cell.cell_type == "markdown":
            cells += [nbformat.v4.new_code_cell(code) for code in SOLUTION.findall(cell.source)]
    notebook.cells = cells
    return notebook


@pytest.fixture
def this_interpreter_kernel(tmp_path, monkeypatch) -> str:
    """A ``python3`` kernel spec that starts this interpreter (the venv's, with the package),
    found first on JUPYTER_PATH, so a user's own ``python3`` kernel cannot shadow it."""
    kernelspec.write_kernel_spec(tmp_path / "kernels" / "python3")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    return "python3"


def test_the_notebooks_are_there_and_numbered():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 4, names
    assert all(re.fullmatch(r"\d\d-[a-z0-9-]+\.ipynb", name) for name in names), names


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_its_solutions(path, this_interpreter_kernel):
    notebook = with_solutions(nbformat.read(path, as_version=4))
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=this_interpreter_kernel,
        timeout=BUDGET_S,  # per cell
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    elapsed = time.perf_counter() - start
    assert elapsed < BUDGET_S, f"{path.name} took {elapsed:.0f} s (budget {BUDGET_S:.0f} s)"


def test_solutions_are_found():
    markdown = (
        "**1.** Do it.\n\n<details><summary>Solution</summary>\n\n"
        "```python\nx = 1\n```\n\n</details>"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown)])
    cells = with_solutions(notebook).cells
    assert [c.cell_type for c in cells] == ["markdown", "code"]
    assert cells[1].source == "x = 1\n"
