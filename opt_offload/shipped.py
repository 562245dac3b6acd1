"""The files that install with the package: the instances of ``instances/`` and the data of
``data/`` (each data folder with its provenance and licence).

Both folders install as packages (``opt_offload.instances``, ``opt_offload.data``; see
``setup.py``), so the same relative name finds a file in a checkout, an editable install and a
built wheel, from any working directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .errors import InputError

ROOTS = ("instances", "data")


def shipped(name: str) -> Path:
    """The path of a shipped file, named as in the repository: ``instances/KIND/FILE.json`` or
    ``data/FOLDER/FILE``.

    >>> shipped("instances/admission/hand-three.json").name
    'hand-three.json'
    """
    root, _, rest = name.replace("\\", "/").partition("/")
    if root not in ROOTS or not rest:
        raise InputError(f"{name}: a shipped file lies under {' or '.join(ROOTS)}/")
    path = Path(str(files(f"opt_offload.{root}").joinpath(rest)))
    if not path.exists():
        raise InputError(f"{name}: no such shipped file")
    return path
