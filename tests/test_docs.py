"""The documentation's examples against what the package prints (the site's command output is
produced at build time by `make docs`; these are the examples written out by hand):

- every ``>>>`` example in README.md and docs/**/*.md runs (doctest), from a folder that is not
  the repository, so the shipped files are found through the package;
- every ``$ opt-offload ...`` line of a ``console`` block is run and its output compared, a
  ``...`` line standing for any lines, and numbers on lines that show a time ignored;
- the API reference lists every public name;
- the saved outputs the docs' measured tables are rendered from (docs/_generated, `make
  docs-data`) were produced by the documented commands from today's inputs, the cheap ones
  still print the same tables when re-run (timing columns aside), and no page quotes a
  measuring command's numbers in a table typed by hand.
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

sys.path.insert(0, str(REPO / "docs" / "_ext"))
import docs_data  # noqa: E402  (docs/_ext is not a package)

sys.path.pop(0)

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
    listed = set(re.findall(r"^\.\. auto\w+:: opt_offload\.(\w+)$", text, re.M))
    assert listed == set(opt_offload.__all__)


def test_saved_results_match_their_documented_settings():
    assert docs_data.stale_results() == []


CHECKED = [name for name, result in docs_data.RESULTS.items() if result.check]


@pytest.mark.parametrize("name", CHECKED)
def test_saved_results_reproduce(name):
    """The command, re-run now, prints the saved tables: same titles, columns and cells, the
    timing columns aside (so a change of the package that moves a number fails here)."""
    result, saved = docs_data.RESULTS[name], docs_data.load(name)
    done = docs_data.run_command(result.command)
    assert done.returncode == saved["exit_code"], done.stderr
    now, then = docs_data.tables(done.stdout), docs_data.tables(saved["stdout"])
    assert [(t.title, t.columns) for t in now] == [(t.title, t.columns) for t in then]
    for fresh, old in zip(now, then):
        keep = [i for i, column in enumerate(old.columns) if column not in result.timing]
        assert [[row[i] for i in keep] for row in fresh.rows] == [
            [row[i] for i in keep] for row in old.rows
        ], f"{name}: {old.title or 'a table'} differs from its saved output"


def test_table_parser_reads_wrapped_headers():
    printed = "\n".join(
        [
            "a title",
            "┏━━━━━┳━━━━━━━┓",
            "┃ n   ┃ wall  ┃",
            "┃     ┃ s     ┃",
            "┡━━━━━╇━━━━━━━┩",
            "│ 4   │ 0.1   │",
            "│ 16  │ 2.5   │",
            "│     │ more  │",
            "└─────┴───────┘",
            "a target line",
        ]
    )
    (table,) = docs_data.tables(printed)
    assert (table.title, table.columns) == ("a title", ["n", "wall s"])
    assert table.rows == [["4", "0.1"], ["16", "2.5 more"]]


# a measuring command as a recipe: a whole line, or inline code with options
MEASURING = re.compile(r"opt-offload (?:bench|sweep|reproduce|stability)\b[^`\n]*(?:--|$)", re.M)
NOT_MEASURED = "<!-- not measured -->"


def hand_copied_tables(text: str) -> list[str]:
    """The first line of each Markdown table in a section (between headings) that names a
    recipe of a command that measures (bench, sweep, reproduce, stability; in a code block, or
    inline with its options) outside a table: its numbers
    belong in a ``{measured-table}``. A table of quoted, not measured, numbers (a paper's)
    is marked by a ``<!-- not measured -->`` line above it."""
    found = []
    for section in re.split(r"^#+ ", text, flags=re.M):
        lines = section.splitlines()
        prose = "\n".join(line for line in lines if not line.startswith("|"))
        if not MEASURING.search(prose):
            continue
        for i, line in enumerate(lines):
            starts = line.startswith("|") and not (i and lines[i - 1].startswith("|"))
            if starts and NOT_MEASURED not in "\n".join(lines[max(0, i - 2) : i]):
                found.append(line)
    return found


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_no_hand_copied_measurements(path):
    assert hand_copied_tables(path.read_text(encoding="utf-8")) == []


def test_hand_copied_tables_are_found():
    page = "```sh\n$ opt-offload bench limits\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert hand_copied_tables(page) == ["| a | b |"]
    assert hand_copied_tables(page.replace("bench limits", "solve x.json")) == []
    assert hand_copied_tables(page.replace("\n| a", "\n<!-- not measured -->\n| a")) == []
    assert hand_copied_tables("## A\n`opt-offload sweep`\n## B\n| a |\n|---|\n") == []
