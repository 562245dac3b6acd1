"""The teaching notebooks (``notebooks/*.ipynb``) run top to bottom with the hidden solutions of
their exercises, and each asserts its own key results (a ``## Key results`` cell), so a notebook
fails when a claim it makes stops holding, not only when it crashes.

A notebook runs in a fresh kernel of this interpreter, from a temporary working directory (not
``notebooks/``): the shipped files are found through the package (``opt_offload.shipped``), as
they are for a user who opens a notebook from anywhere or from an installed wheel. A solution is
every ``python`` code block inside a ``<details><summary>Solution</summary> ... </details>``
block of a markdown cell, prose before or between the blocks allowed; it runs as a code cell
right after that cell, so a solution that no longer works fails the test like any other cell.

A notebook imports only the public API: names of ``opt_offload.__all__``, and the names the API
reference (docs/api.md) documents under a module of the package; no private name, no
benchmark driver, no patched method.

Time: no wall-time assertion (a loaded machine must not fail the suite); the per-cell timeout
only stops a hung kernel, and it scales with OPT_OFFLOAD_NOTEBOOK_TIMEOUT_S (default 600 s).
"""

from __future__ import annotations

import ast
import os
import re

import nbclient
import nbformat
import pytest
from ipykernel import kernelspec

import opt_offload

from .conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = float(os.environ.get("OPT_OFFLOAD_NOTEBOOK_TIMEOUT_S", "600"))
DETAILS = re.compile(r"<details>\s*<summary>\s*Solution\s*</summary>(.*?)</details>", re.S)
CODE = re.compile(r"```python\n(.*?)```", re.S)


def solutions(markdown: str) -> list[str]:
    """The code of every hidden solution in a markdown cell, in order."""
    return [code for body in DETAILS.findall(markdown) for code in CODE.findall(body)]


def with_solutions(notebook):
    """The notebook with each hidden solution inserted as a code cell after its exercise."""
    cells = []
    for cell in notebook.cells:
        cells.append(cell)
        if cell.cell_type == "markdown":
            cells += [nbformat.v4.new_code_cell(code) for code in solutions(cell.source)]
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_states_its_key_results_and_finds_files_through_the_package(path):
    notebook = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert any(
        c.cell_type == "markdown" and c.source.startswith("## Key results") for c in notebook.cells
    ), f"{path.name} has no '## Key results' section"
    assert "assert " in code
    assert '"../' not in code, f"{path.name} reaches files by a relative path"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_its_solutions(path, this_interpreter_kernel, tmp_path):
    notebook = with_solutions(nbformat.read(path, as_version=4))
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=this_interpreter_kernel,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error


def test_solutions_are_found_with_prose_before_and_between_blocks():
    markdown = (
        "**1.** Do it.\n\n<details><summary>Solution</summary>\n\n"
        "```python\nx = 1\n```\n\n</details>\n\n**2.** Again.\n\n"
        "<details><summary>Solution</summary>\n\nFirst, why.\n\n```python\ny = 2\n```\n\n"
        "Then more.\n\n```python\nz = 3\n```\n\n</details>"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown)])
    cells = with_solutions(notebook).cells
    assert [c.cell_type for c in cells] == ["markdown", "code", "code", "code"]
    assert [c.source for c in cells[1:]] == ["x = 1\n", "y = 2\n", "z = 3\n"]


def test_every_solution_of_the_shipped_notebooks_is_found():
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            blocks = DETAILS.findall(cell.source)
            with_code = [b for b in blocks if "```python" in b]
            assert len(solutions(cell.source)) >= len(with_code), path.name
    notebook_03 = nbformat.read(REPO / "notebooks" / "03-edge-cloud-assignment.ipynb", 4)
    assert sum(len(solutions(c.source)) for c in notebook_03.cells) == 3


def documented_members() -> dict[str, set[str]]:
    """Module -> the names the API reference documents in it (``automodule`` ``:members:``)."""
    text = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^\.\. automodule:: (\S+)\n   :members: (.*)$", text, re.M)
    return {module: {m.strip() for m in members.split(",")} for module, members in blocks}


def notebook_code(path) -> list[str]:
    """Every code cell and hidden solution of a notebook (IPython magics left out)."""
    notebook = with_solutions(nbformat.read(path, as_version=4))
    cells = [c.source for c in notebook.cells if c.cell_type == "code"]
    return [
        "\n".join(x for x in c.splitlines() if not x.lstrip().startswith(("%", "!"))) for c in cells
    ]


def private_uses(code: str, public: dict[str, set[str]]) -> list[str]:
    """What ``code`` takes from the package beyond its public API, one line each."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("opt_offload"):
            allowed = public.get(node.module, set())
            found += [
                f"from {node.module} import {a.name}" for a in node.names if a.name not in allowed
            ]
        elif isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.startswith("opt_offload.")]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"private attribute .{node.attr}")
        elif isinstance(node, ast.Assign):
            # a method patched onto a class or module of the package
            found += [
                f"assignment to {ast.unparse(t)}"
                for t in node.targets
                if isinstance(t, ast.Attribute) and ast.unparse(t.value)[:1].isupper()
            ]
    return found


def public_api() -> dict[str, set[str]]:
    return {"opt_offload": set(opt_offload.__all__), **documented_members()}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_uses_only_the_public_api(path):
    public = public_api()
    found = [use for code in notebook_code(path) for use in private_uses(code, public)]
    assert found == [], f"{path.name} reaches past the public API: {found}"


def test_private_uses_are_found():
    public = {"opt_offload": {"solve"}, "opt_offload.costs.flops": {"decode_flops"}}
    code = (
        "from opt_offload import solve\nfrom opt_offload.costs.flops import decode_flops\n"
        "from opt_offload.benchmarks.admission_gap import study_rows\n"
        "import opt_offload.solvers.admission\nx = solve._cache\nSimulation.schedule = f\n"
    )
    assert sorted(private_uses(code, public)) == [
        "assignment to Simulation.schedule",
        "from opt_offload.benchmarks.admission_gap import study_rows",
        "import opt_offload.solvers.admission",
        "private attribute ._cache",
    ]


def test_the_api_reference_documents_modules_that_exist():
    import importlib

    for module, members in documented_members().items():
        loaded = importlib.import_module(module)
        assert all(hasattr(loaded, name) for name in members), module
