"""Instance generators (design §7): the only place where cost models meet instances.

Each module of this package registers, with :func:`register_generator`, one generator per
problem kind: a function of keyword arguments returning an Instance, and the command-line
arguments it takes (beyond the common ``--out``), each stored under its parameter's name. Same
arguments and seed, same instance, same bytes.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from dataclasses import dataclass

from ..discovery import submodules
from ..schemas import Instance


@dataclass(frozen=True)
class GeneratorSpec:
    kind: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    generate: Callable[..., Instance]

    def build(self, args: argparse.Namespace) -> Instance:
        """The instance for parsed command-line arguments: each of ``generate``'s parameters
        read from the argument of the same name."""
        names = inspect.signature(self.generate).parameters
        return self.generate(**{name: getattr(args, name) for name in names})


_GENERATORS: dict[str, GeneratorSpec] = {}


def register_generator(
    kind: str, *, description: str, add_arguments: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Callable[..., Instance]], Callable[..., Instance]]:
    def decorate(generate):
        _GENERATORS[kind] = GeneratorSpec(kind, description, add_arguments, generate)
        return generate

    return decorate


def generators() -> dict[str, GeneratorSpec]:
    """Every registered generator by kind (importing this package's modules registers them)."""
    submodules(__name__, __path__, defining="__name__")
    return dict(sorted(_GENERATORS.items()))
