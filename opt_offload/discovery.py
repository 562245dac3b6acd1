"""Finding the modules of a package, so that adding a sub-command, generator or benchmark is
adding a file (no central list to edit)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from types import ModuleType


def submodules(package: str, path: Iterable[str], *, defining: str) -> list[ModuleType]:
    """The modules of ``package`` (in name order) that define the attribute ``defining``."""
    modules = [importlib.import_module(f"{package}.{m.name}") for m in pkgutil.iter_modules(path)]
    return [m for m in modules if hasattr(m, defining)]
