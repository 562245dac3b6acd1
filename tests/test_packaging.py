"""One import namespace (design §2): models/ and solvers/ install as opt_offload.models and
opt_offload.solvers, from an editable install and from a built wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from .conftest import REPO

IMPORT_CHECK = (
    "import opt_offload, opt_offload.models, opt_offload.solvers, opt_offload.solvers.admission;"
    "print(opt_offload.models.__file__); print(opt_offload.solvers.__file__)"
)


def run_isolated(code: str, cwd) -> subprocess.CompletedProcess:
    """Run Python with neither the repository nor PYTHON* variables on the path."""
    return subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=cwd
    )


def test_editable_install_maps_the_folders(tmp_path):
    where = run_isolated("import opt_offload; print(opt_offload.__file__)", tmp_path)
    assert where.returncode == 0, "opt_offload is installed"
    if not where.stdout.startswith(str(REPO)):
        pytest.skip("the project is installed from a wheel, not editable")
    result = run_isolated(IMPORT_CHECK, tmp_path)
    assert result.returncode == 0, result.stderr
    models, solvers = result.stdout.split()
    assert models == str(REPO / "models" / "__init__.py")
    assert solvers == str(REPO / "solvers" / "__init__.py")


def test_built_wheel_contains_and_imports_the_namespace(tmp_path):
    # Build from a copy so that the build leaves nothing (build/, *.egg-info) in the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in (
        "pyproject.toml",
        "setup.py",
        "README.md",
        "LICENSE",
        "opt_offload",
        "models",
        "solvers",
        "instances",
        "data",
    ):
        if (REPO / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(REPO / name, source / name, ignore=ignore)
        else:
            shutil.copy(REPO / name, source / name)
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (tmp_path / "dist").glob("opt_offload-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for expected in (
        "opt_offload/models/__init__.py",
        "opt_offload/solvers/__init__.py",
        "opt_offload/solvers/admission/baselines.py",
        "opt_offload/cli/__init__.py",
        "opt_offload/instances/admission/hand-three.json",
        "opt_offload/data/orlib-gap/gap1.txt",
        "opt_offload/data/orlib-gap/PROVENANCE.md",
        "opt_offload/data/azure-llm-2023/AzureLLMInferenceTrace_code.csv",
        "opt_offload/data/azure-llm-2023/AzureLLMInferenceTrace_conv.csv",
        "opt_offload/data/azure-llm-2023/LICENSE",
        "opt_offload/data/azure-llm-2023/PROVENANCE.md",
    ):
        assert expected in names
    assert not any(
        n.startswith(("models/", "solvers/", "tests/", "instances/", "data/")) for n in names
    )

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    result = run_isolated(
        f"import sys; sys.path.insert(0, {str(site)!r}); " + IMPORT_CHECK, tmp_path
    )
    assert result.returncode == 0, result.stderr
    models, solvers = result.stdout.split()
    assert models == str(site / "opt_offload" / "models" / "__init__.py")
    assert solvers == str(site / "opt_offload" / "solvers" / "__init__.py")

    found = run_isolated(
        f"import sys; sys.path.insert(0, {str(site)!r}); from opt_offload import shipped; "
        "print(shipped('instances/admission/hand-three.json'))",
        tmp_path,
    )
    assert found.stdout.strip() == str(site / "opt_offload/instances/admission/hand-three.json")

    # the shipped traces by name, read from the wheel's copy, from a folder with no checkout
    traces = run_isolated(
        f"import sys; sys.path.insert(0, {str(site)!r}); "
        "from opt_offload.importers.azure_llm_trace import read_trace, trace_path; "
        "print(trace_path('code')); print(len(read_trace('code')), len(read_trace('conv')))",
        tmp_path,
    )
    assert traces.returncode == 0, traces.stderr
    path, counts = traces.stdout.splitlines()
    assert path == str(site / "opt_offload/data/azure-llm-2023/AzureLLMInferenceTrace_code.csv")
    assert counts == "8819 19366"
