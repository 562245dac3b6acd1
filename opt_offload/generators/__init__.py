"""Instance generators (design §7): the only place where cost models meet instances.

Each module of this package registers, with :func:`register_generator`, one generator per
problem kind: a function ``build(args) -> Instance`` and the command-line arguments it takes
(beyond the common ``--seed`` and ``--out``). Same arguments and seed, same instance, same bytes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from ..discovery import submodules
from ..schemas import Instance


@dataclass(frozen=True)
class GeneratorSpec:
    kind: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    build: Callable[[argparse.Namespace], Instance]


_GENERATORS: dict[str, GeneratorSpec] = {}


def register_generator(
    kind: str, *, description: str, add_arguments: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Callable[[argparse.Namespace], Instance]], Callable[[argparse.Namespace], Instance]]:
    def decorate(build):
        _GENERATORS[kind] = GeneratorSpec(kind, description, add_arguments, build)
        return build

    return decorate


def generators() -> dict[str, GeneratorSpec]:
    """Every registered generator by kind (importing this package's modules registers them)."""
    submodules(__name__, __path__, defining="__name__")
    return dict(sorted(_GENERATORS.items()))
