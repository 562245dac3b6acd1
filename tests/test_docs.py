"""The documentation's examples against what the package prints (the site's command output is
produced at build time by `make docs`; these are the examples written out by hand):

- every ``>>>`` example in README.md and docs/**/*.md runs (doctest), from a folder that is not
  the repository, so the shipped files are found through the package;
- every ``$ opt-offload ...`` line of a ``console`` block is run and its output compared, a
  ``...`` line standing for any lines, and numbers on lines that show a time ignored;
- the API reference lists every public name, and the saved results the docs show were produced
  with the settings `make docs-data` documents.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import opt_offload

from .conftest import REPO

PAGES = [REPO / "README.md"] + sorted(
    p for p in (REPO / "docs").rglob("*.md") if "_build" not in p.parts
)
CONSOLE = re.compile(r"^```console\n(.*?)^```", re.S | re.M)
TIMING = re.compile(r"\bms\b|wall|slots/s|\btime\b")
NUMBER = re.compile(r"[-+]?\d[\d,]*\.?\d*(?:e[-+]?\d+)?")


def page_id(path: Path) -> str:
    return str(path.relative_to(REPO))


WITH_PYTHON = [p for p in PAGES if ">>>" in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", WITH_PYTHON, ids=page_id)
def test_python_examples(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    failed, tried = doctest.testfile(str(path), module_relative=False, optionflags=flags)
    assert tried > 0 and failed == 0, f"{failed} of {tried} examples in {page_id(path)} failed"


def console_examples(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every ``$ opt-offload`` line of console blocks."""
    examples = []
    for block in CONSOLE.findall(text):
        command, expected = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    examples.append((command, expected))
                command, expected = line[2:], []
            else:
                expected.append(line.rstrip())
        if command:
            examples.append((command, expected))
    return [(c, e) for c, e in examples if c.startswith("opt-offload ")]


def same_line(expected: str, actual: str) -> bool:
    expected, actual = " ".join(expected.split()), " ".join(actual.split())
    if TIMING.search(expected):
        expected, actual = NUMBER.sub("#", expected), NUMBER.sub("#", actual)
    return expected == actual


def matches(expected: list[str], actual: list[str]) -> bool:
    """``expected`` against ``actual`` line by line, a ``...`` line matching any lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and same_line(expected[0], actual[0]) and matches(expected[1:], actual[1:])


EXAMPLES = [
    (path, command, expected)
    for path in PAGES
    for command, expected in console_examples(path.read_text(encoding="utf-8"))
]


@pytest.mark.parametrize(
    "path, command, expected",
    EXAMPLES,
    ids=[f"{page_id(p)}: {c[:60]}" for p, c, _ in EXAMPLES],
)
def test_console_examples(path, command, expected):
    argv = shlex.split(command, comments=True)
    cli = Path(sys.executable).with_name("opt-offload")
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run(
        [str(cli), *argv[1:]], cwd=REPO, capture_output=True, text=True, env=env, timeout=300
    )
    actual = [line.rstrip() for line in (done.stdout + done.stderr).splitlines()]
    assert matches(expected, actual), "\n".join([f"$ {command}", *actual])


def test_matching_rules():
    assert matches(["a", "...", "z"], ["a", "b", "c", "z"])
    assert not matches(["a", "z"], ["a", "b", "z"])
    assert matches(["│ wall time │ 0.222 ms │"], ["│ wall time │ 1.5 ms │"])
    assert not matches(["│ objective │ 0.54 │"], ["│ objective │ 0.55 │"])


def test_api_reference_lists_every_public_name():
    text = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^```\{auto\w+\} opt_offload\.(\w+)", text, re.M))
    assert listed == set(opt_offload.__all__)


def test_saved_results_match_their_documented_settings():
    sys.path.insert(0, str(REPO / "docs" / "_ext"))
    try:
        from docs_data import stale_results
    finally:
        sys.path.pop(0)
    assert stale_results() == []
