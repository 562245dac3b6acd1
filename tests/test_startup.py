"""Start-up: a command builds only its own parser, and solving one kind imports only that
kind's solvers (the times are in ``opt-offload bench scale``, not here)."""

from __future__ import annotations

import subprocess
import sys

from opt_offload.benchmarks.scale import with_horizon
from opt_offload.cli import build_parser

from .conftest import INSTANCES


def commands(parser) -> set[str]:
    return set(parser._subparsers._group_actions[0].choices)


def test_a_named_command_gets_its_parser_alone():
    assert commands(build_parser(["validate", "file.json"])) == {"validate"}


def test_anything_else_gets_every_command():
    every = commands(build_parser())
    assert {"validate", "solve", "bench", "import"} <= every
    for argv in (["--help"], [], ["no-such-command"], ["import", "x"]):
        assert commands(build_parser(argv)) == every


def test_solving_one_kind_imports_only_its_solvers():
    code = (
        "import sys; from opt_offload import load_instance, solve; "
        f"solve(load_instance({str(INSTANCES / 'admission' / 'hand-three.json')!r}), 'all-local'); "
        "print(sorted(m for m in sys.modules if m.startswith('opt_offload.solvers.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "opt_offload.solvers.admission" in loaded
    assert "opt_offload.solvers.placement" not in loaded
    assert "opt_offload.solvers.assignment" not in loaded


def test_with_horizon_sets_every_budget():
    from opt_offload.io import load_instance

    instance = with_horizon(load_instance(INSTANCES / "assignment" / "testbed-s0.json"), 20.0)
    assert all(s.compute_budget_flop == s.flops * 20.0 for s in instance.servers)
