"""Shared fixtures: repository paths, a CLI runner, hypothesis profiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]
INSTANCES = REPO / "instances"

# CI runs derandomised so that a red build is reproducible; locally hypothesis explores.
settings.register_profile(
    "ci", derandomize=True, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=60, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def instance_files(kind: str | None = None) -> list[Path]:
    folders = [INSTANCES / kind] if kind else sorted(INSTANCES.iterdir())
    return sorted(p for folder in folders for p in folder.glob("*.json"))


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``opt-offload ARGS`` in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "opt_offload", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=300,
    )


@pytest.fixture
def write_json(tmp_path):
    """Write a mapping as JSON under tmp_path and return the path."""

    def write(data: dict, name: str = "instance.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(data))
        return path

    return write


@pytest.fixture
def scratch_solver():
    """Register throw-away admission solvers under test names and remove them afterwards."""
    from opt_offload import registry

    added = []

    def add(name, function, **kwargs):
        kwargs.setdefault("exact", False)
        kwargs.setdefault("description", "test")
        registry.register("admission", name, **kwargs)(function)
        added.append(("admission", name))

    yield add
    for key in added:
        registry._REGISTRY.pop(key)
