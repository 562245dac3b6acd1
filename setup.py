"""Package discovery for the one-namespace layout (design §2).

The top-level folders ``models/`` and ``solvers/`` are installed as ``opt_offload.models`` and
``opt_offload.solvers``. pyproject.toml cannot express "find the subpackages of a remapped
folder", so this file computes the package list; everything else lives in pyproject.toml.
Both an editable install and a built wheel honour the mapping (tests/test_packaging.py).
"""

from setuptools import find_packages, setup

REMAPPED = {"opt_offload.models": "models", "opt_offload.solvers": "solvers"}


def remapped_packages(prefix: str, folder: str) -> list[str]:
    return [prefix] + [f"{prefix}.{sub}" for sub in find_packages(folder)]


packages = find_packages(include=["opt_offload", "opt_offload.*"])
for prefix, folder in REMAPPED.items():
    packages += remapped_packages(prefix, folder)

setup(packages=packages, package_dir={"opt_offload": "opt_offload", **REMAPPED})
