"""Hostile inputs through every command (docs/robustness.md): the shipped instances mutated
(types, numeric extremes, nesting, markup and control characters, duplicate keys), run
in-process and a sample through the CLI. Whatever the mutation: exit 0, 1 or 2, no
traceback, every stderr line a one-line ``opt-offload: ...`` problem, no output file on
exit 2, and ``--json`` output that parses as strict JSON."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opt_offload.cli import main

from .conftest import INSTANCES, run_cli

SMALL = sorted(
    p for p in INSTANCES.glob("*/*.json") if p.stat().st_size < 8000 and "gap1" not in p.name
)
FAST_SOLVER = {"admission": "greedy", "assignment": "kpfcfs", "placement": "ffd"}

EXTREMES = [
    1e308,
    -1e308,
    5e-324,
    0,
    -1,
    0.0,
    10**30,
    4000,
    True,
    False,
    None,
    "9",
    "12.5",
    "",
    [],
    {},
    "x[/bold]y",
    "[/]",
    "[link=http://example.com]z[/link]",
    "\x1b]0;owned\x07",
    "\x1b[2J\r\x00",
    "\ud800",
]
strings = st.text(alphabet=st.sampled_from("ab[]/=\x1b\x07\x00 \n\t\u202e"), max_size=12)
values = st.sampled_from(EXTREMES) | strings | st.floats(allow_nan=False) | st.integers()


def paths_of(document, prefix=()):
    """Every (path, value) in the document, containers included."""
    yield prefix, document
    if isinstance(document, dict):
        for key, item in document.items():
            yield from paths_of(item, (*prefix, key))
    elif isinstance(document, list):
        for index, item in enumerate(document):
            yield from paths_of(item, (*prefix, index))


def replaced(document, path, value):
    if not path:
        return value
    head, *rest = path
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = replaced(document[head], rest, value)
    return copy


DEEP = "__deep__"  # replaced in the text by a deep nesting (json.dumps would recurse)


@st.composite
def mutated_text(draw) -> str:
    """(kind of the shipped instance, its JSON text with one or two mutations)."""
    source = draw(st.sampled_from(SMALL))
    document = json.loads(source.read_text())
    for _ in range(draw(st.integers(1, 2))):
        places = list(paths_of(document))
        path, _ = draw(st.sampled_from(places))
        if draw(st.integers(0, 3)):
            document = replaced(document, path, draw(values))
        else:
            document = replaced(document, path, DEEP)
    depth = draw(st.sampled_from([3, 70, 5000]))
    text = json.dumps(document, allow_nan=True).replace(f'"{DEEP}"', "[" * depth + "]" * depth)
    if draw(st.booleans()) and text.startswith('{"'):
        key = text[2 : text.index('"', 2)]  # the first key again, with another value
        text = f'{{"{key}": 0, {text[1:]}'
    return source.parent.name, text


def run_in_process(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def assert_contract(code: int, stdout: str, stderr: str) -> None:
    assert code in (0, 1, 2), stderr
    assert "Traceback" not in stderr
    for line in stderr.splitlines():
        assert line.startswith("opt-offload"), line
        assert "\x1b" not in line and "\x07" not in line
    assert "\x1b" not in stdout


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_text())
def test_mutated_instances_in_process(mutation):
    kind, text = mutation
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "instance.json"
        path.write_text(text)
        assert_contract(*run_in_process("validate", str(path)))
        args = ["--solver", FAST_SOLVER[kind]]
        out = Path(folder) / "solution.json"
        code, stdout, stderr = run_in_process("solve", str(path), *args, "--out", str(out))
        assert_contract(code, stdout, stderr)
        assert out.exists() == (code != 2)
        code, stdout, stderr = run_in_process("solve", str(path), *args, "--json")
        assert_contract(code, stdout, stderr)
        if code in (0, 1):
            strict_json(stdout)
        assert sorted(p.name for p in Path(folder).iterdir()) == sorted(
            ["instance.json"] + (["solution.json"] if out.exists() else [])
        )


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_text())
def test_mutated_instances_through_the_cli(mutation):
    _, text = mutation
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "instance.json"
        path.write_text(text)
        out = Path(folder) / "solution.json"
        result = run_cli("solve", path, "--json", "--out", out)
        assert_contract(result.returncode, result.stdout, result.stderr)
        assert out.exists() == (result.returncode != 2)
        if result.returncode in (0, 1):
            strict_json(result.stdout)


NUMBERS = ["nan", "inf", "-inf", "-1", "0", "1e309", "1e9", "abc", "5:1", "a,b", "1,nan"]
COMMAND_FLAGS = [
    ("simulate", "--B"),
    ("simulate", "--lam"),
    ("simulate", "--M"),
    ("simulate", "--beta"),
    ("simulate", "--slots"),
    ("stability", "--rates"),
    ("stability", "--arrivals"),
    ("plan", "--batch"),
    ("plan", "--acceptance"),
    ("calibrate", "--max-context"),
    ("calibrate", "--held-out"),
    ("generate admission", "--beta"),
    ("generate admission", "--candidates"),
    ("generate assignment", "--tasks"),
    ("sweep", "--capacities"),
    ("sweep", "--bandwidths"),
    ("sweep", "--seeds"),
    ("compare", "--time-limit"),
    ("solve", "--time-limit"),
    ("bench admission", "--sizes"),
    ("flops", "--context"),
]
PREFIX = {
    "stability": ["--preset", "testbed", "--no-milp", "--arrivals", "200"],
    "compare": [str(INSTANCES / "admission" / "hand-three.json"), "--solvers", "greedy"],
    "solve": [str(INSTANCES / "admission" / "hand-three.json"), "--solver", "greedy"],
    "flops": ["--model", "llama-68m", "--new", "1"],
    "simulate": ["--slots", "50"],
}


SKIPPED = "the work itself is not run here"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.sampled_from(COMMAND_FLAGS), st.sampled_from(NUMBERS))
def test_hostile_numeric_flags(monkeypatch, command_flag, value):
    """Every numeric flag: a bad value is one line naming the flag, exit 2; a good one runs
    (the long commands stop where their work would start)."""
    from opt_offload.cli import sweep
    from opt_offload.errors import InputError

    def skip(*args, **kwargs):
        raise InputError(SKIPPED)

    monkeypatch.setattr(sweep, "executor_of", skip)
    monkeypatch.setattr("opt_offload.benchmarks.admission.measure", skip)
    command, flag = command_flag
    with tempfile.TemporaryDirectory() as folder:
        argv = [*command.split(), *PREFIX.get(command, []), f"{flag}={value}"]
        if command in ("sweep", "calibrate"):
            argv += ["--out", str(Path(folder) / ("sweep" if command == "sweep" else "missing/x"))]
        code, stdout, stderr = run_in_process(*argv)
    assert_contract(code, stdout, stderr)
    if code == 2 and SKIPPED not in stderr and "missing" not in stderr:
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert flag in stderr or flag == "--lam" and "--lam x --slots" in stderr, stderr
