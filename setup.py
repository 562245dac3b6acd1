"""Package discovery for the one-namespace layout (design §2).

The top-level folders ``models/`` and ``solvers/`` are installed as ``opt_offload.models`` and
``opt_offload.solvers``, and ``instances/`` and ``data/`` (with their files) as
``opt_offload.instances`` and ``opt_offload.data``. pyproject.toml cannot express "find the
subpackages of a remapped folder", so this file computes the package list; everything else
lives in pyproject.toml.
Both an editable install and a built wheel honour the mapping (tests/test_packaging.py).
"""

from setuptools import find_namespace_packages, find_packages, setup

REMAPPED = {
    "opt_offload.models": "models",
    "opt_offload.solvers": "solvers",
    # shipped files (opt_offload.shipped): instances and data install with the package
    "opt_offload.instances": "instances",
    "opt_offload.data": "data",
}
# the folders of shipped files: every instance kind is a (namespace) package of its own, so that
# setuptools knows where its JSON files go; data folders (not identifiers) travel as data
INSTANCE_KINDS = [
    f"opt_offload.instances.{kind}"
    for kind in find_namespace_packages("instances", exclude=["*__pycache__*"])
]
SHIPPED_FILES = {kind: ["*.json"] for kind in INSTANCE_KINDS} | {"opt_offload.data": ["*/*"]}


def remapped_packages(prefix: str, folder: str) -> list[str]:
    return [prefix] + [f"{prefix}.{sub}" for sub in find_packages(folder)]


packages = find_packages(include=["opt_offload", "opt_offload.*"])
for prefix, folder in REMAPPED.items():
    packages += remapped_packages(prefix, folder)
packages += INSTANCE_KINDS

setup(
    packages=packages,
    package_dir={"opt_offload": "opt_offload", **REMAPPED},
    package_data=SHIPPED_FILES,
)
