"""``opt-offload solvers``: list the registered solvers and heuristics."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from ..registry import KINDS, default_solver_name, solvers_for
from .common import EXIT_OK, console


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "solvers",
        help="list solvers",
        description="List the solvers by problem kind: whether each is exact, whether its "
        "backend is installed, and its options.",
    )
    parser.add_argument("--kind", choices=KINDS, help="only this problem kind")
    parser.add_argument(
        "--backends",
        action="store_true",
        help="list the backends instead: what each takes, whether it is installed and licensed",
    )
    parser.set_defaults(run=run)


def takes_text(cls) -> str:
    """The problem classes a backend takes; an integer-only one (CP-SAT) takes MILPs as CP."""
    classes = [c.value.upper() for c in sorted(cls.classes, key=lambda c: c.value)]
    listed = ", ".join(classes)
    return f"CP: {listed} over integers" if cls.integer_only else listed


def run_backends() -> int:
    from ..solvers.backends import backend_classes

    table = Table(title="backends")
    for column in ("name", "solver", "layer", "takes", "installed", "licence"):
        table.add_column(column, overflow="fold", no_wrap=column == "name")
    hints = []
    for name, cls in sorted(backend_classes().items()):
        reason = cls.unavailable()
        table.add_row(
            name,
            cls.solver,
            cls.layer,
            takes_text(cls),
            "yes" if reason is None else f"no: needs {', '.join(cls.missing())}",
            cls.licence() if reason is None else "-",
        )
        if reason is not None:
            hints.append(Text.assemble((name, "bold"), f": {cls.install}"))
    console.print(table)
    for line in hints:
        console.print(line, soft_wrap=True)  # an install command stays on one line, whole
    return EXIT_OK


def option_text(spec) -> str:
    return "\n".join(
        f"{o.name}={o.default}" + (f" ({'|'.join(map(str, o.choices))})" if o.choices else "")
        for o in spec.options
    )


def run(args: argparse.Namespace) -> int:
    if args.backends:
        return run_backends()
    # A compact table (names stay whole: they are what users type), then the descriptions,
    # which are prose and read better as wrapped lines than as a narrow column.
    table = Table(title="solvers")
    for column in ("kind", "name", "exact", "available", "options"):
        table.add_column(column, overflow="fold", no_wrap=column in ("kind", "name"))
    descriptions = []
    for kind in [args.kind] if args.kind else KINDS:
        default = default_solver_name(kind)
        for spec in solvers_for(kind):
            missing = spec.missing_backends()
            table.add_row(
                kind,
                spec.name + (" (default)" if spec.name == default else ""),
                "yes" if spec.exact else "no",
                "yes" if not missing else f"no: needs {', '.join(missing)}",
                option_text(spec),
            )
            descriptions.append(
                Text.assemble((f"{kind} {spec.name}", "bold"), f": {spec.description}")
            )
    console.print(table)
    for line in descriptions:
        console.print(line, soft_wrap=False)
    return EXIT_OK
