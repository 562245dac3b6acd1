"""`make docs-data`: run the commands whose measured output the docs show, and save it.

Every measured table or figure on the site comes from one entry of RESULTS: a command at its
documented settings. ``python docs/_ext/docs_data.py NAME...`` (``make docs-data`` for all of
them, ``make docs-data ONLY="NAME ..."`` for some) runs each and writes
docs/_generated/NAME.json: the command, its console output, and what it was produced from:

- ``version``: the package version; ``inputs``: the sha256 of every file the command reads
  (files named in the command, and the entry's ``inputs``); ``code``: a sha256 of the
  package's source (opt_offload/, models/, solvers/); ``commit``: the git commit (``+dirty``
  when the tree had changes);
- ``machine`` (cores, load average) and ``wall_s``, which the docs print beside timings.

`make docs` (the extension opt_offload_docs.py) renders the tables from these files, never from
numbers typed into a page, and fails when an entry has no saved output, when its command,
version or inputs changed since it was saved, or when a page asks for a table or column the
output does not have. ``code`` is not checked by the build (any change to the package would
fail it); tests/test_docs.py re-runs the entries marked ``check`` and compares every column
that is not a timing, and ``python docs/_ext/docs_data.py --status`` lists the entries whose
``code`` differs from the checkout's (candidates to regenerate).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "docs" / "_generated"
# wide enough that no rich table wraps a cell (the extension parses the printed tables)
COLUMNS = "200"
SOURCE_DIRS = ("opt_offload", "models", "solvers")
TRACES = ("data/azure-llm-2023/*.csv",)


@dataclass(frozen=True)
class Result:
    """One documented command; ``timing`` names the printed columns that are measured times
    (or depend on them), shown with a "measured on" note and ignored by the re-run check."""

    command: str
    timing: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    check: bool = False  # cheap and deterministic: tests/test_docs.py re-runs it


RESULTS: dict[str, Result] = {
    # guide pages
    "bench-admission": Result(
        "opt-offload bench admission", timing=("median ms", "x threshold", "Pyomo / this")
    ),
    "bench-admission-gap": Result("opt-offload bench admission-gap"),
    "bench-io": Result("opt-offload bench io", timing=("seconds", "peak MB", "within")),
    "bench-assignment-gap": Result(
        "opt-offload bench assignment-gap", inputs=("instances/assignment/*.json",)
    ),
    "bench-placement": Result(
        "opt-offload bench placement", timing=("wall_s", "wall_ratio", "proof_gap_pct")
    ),
    "bench-sparse-attention": Result(
        "opt-offload bench sparse-attention", timing=("median ms", "speed-up of DAS")
    ),
    "stability-testbed-s0": Result(
        "opt-offload stability instances/assignment/testbed-s0.json", check=True
    ),
    "sweep": Result("opt-offload sweep --seeds 5 --out docs/_generated/sweep"),
    "sweep-exact": Result(
        "opt-offload sweep --strategies prada,exact --seeds 20 --capacities 9,22 "
        "--bandwidths 3.162e4,1e5,4e7 --out docs/_generated/sweep-exact"
    ),
    # results.md
    "bench-limits": Result(
        "opt-offload bench limits",
        timing=("wall s", "within", "status", "decisions", "objective", "bound", "gap"),
    ),
    # simulation.md
    "bench-simulation": Result(
        "opt-offload bench simulation",
        timing=("slots/s", "slots/CPU-s", "x all-local"),
    ),
    "reproduce-prada": Result("opt-offload reproduce prada --out docs/figures/prada"),
    # prada-physics.md
    "bench-admission-sizes": Result(
        "opt-offload bench admission --sizes 16,64,256,512,1024 "
        "--solvers exact,exact-shared,threshold,threshold-listed --instances 3 --min-total-s 0.05",
        timing=("median ms", "x threshold", "Pyomo / this"),
    ),
    "bench-admission-subset-sum": Result(
        "opt-offload bench admission --slots subset-sum --sizes 64,256,512,1024 "
        "--solvers exact,exact-shared --instances 3 --min-total-s 0.01",
        timing=("median ms", "x threshold", "Pyomo / this"),
    ),
    "bench-admission-gap-400": Result(
        "opt-offload bench admission-gap --instances 400 --max-candidates 16", check=True
    ),
    "bench-admission-gap-estimate": Result(
        "opt-offload bench admission-gap --queue estimate --reference exact-joint "
        "--instances 120 --max-candidates 12 --upload priced",
        check=True,
    ),
    # scale.md
    "bench-scale": Result(
        "opt-offload bench scale --rows assignment-40 assignment-20 assignment-3000 lagrangian-10k",
        timing=("old_s", "new_s", "ratio", "met", "note"),
    ),
    "bench-scale-placement": Result(
        "opt-offload bench scale --rows placement --time-limit 120",
        timing=("old_s", "new_s", "ratio", "met", "note"),
    ),
    "bench-scale-startup": Result(
        "opt-offload bench scale --rows startup --repeat 2",
        timing=("old_s", "new_s", "ratio", "met", "note"),
    ),
    # real-traffic.md
    "stability-conv": Result(
        "opt-offload stability --arrivals trace:conv --speedups 1,2 "
        "--plot docs/figures/real-traffic/conv-load.png "
        "--queue-plot docs/figures/real-traffic/conv-queue.png "
        "--trace-plot docs/figures/real-traffic/conv-trace.png",
        timing=("wall s",),
        inputs=TRACES,
    ),
    "stability-code": Result(
        "opt-offload stability --arrivals trace:code --speedups 1,2 "
        "--plot docs/figures/real-traffic/code-load.png "
        "--queue-plot docs/figures/real-traffic/code-queue.png "
        "--trace-plot docs/figures/real-traffic/code-trace.png",
        timing=("wall s",),
        inputs=TRACES,
    ),
    "bench-trace-gap": Result(
        "opt-offload bench trace-gap --windows 100 --requests 200 --time-limit 30 --workers 2",
        inputs=TRACES,
    ),
    "bench-trace-replay": Result(
        "opt-offload bench trace-replay",
        timing=(
            "read_and_build_s",
            "solver_s",
            "wall_s",
            "wall_per_replayed",
            "met",
            "goodput_fraction",
        ),
        inputs=TRACES,
    ),
}


def saved_path(name: str) -> Path:
    return GENERATED / f"{name}.json"


def load(name: str) -> dict | None:
    path = saved_path(name)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def package_version() -> str:
    sys.path.insert(0, str(ROOT))
    try:
        from opt_offload import __version__
    finally:
        sys.path.pop(0)
    return __version__


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_files(result: Result) -> list[str]:
    """The repository files the command reads: those named in it, and the entry's globs."""
    named = [arg for arg in shlex.split(result.command) if (ROOT / arg).is_file()]
    globbed = [
        str(Path(p).relative_to(ROOT))
        for pattern in result.inputs
        for p in glob.glob(str(ROOT / pattern))
    ]
    return sorted(set(named + globbed))


def input_hashes(result: Result) -> dict[str, str]:
    return {path: sha256(ROOT / path) for path in input_files(result)}


def code_hash() -> str:
    digest = hashlib.sha256()
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def git_commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", *SOURCE_DIRS)
    return commit + ("+dirty" if dirty else "")


@dataclass
class Table:
    """A table as the command printed it (rich's box drawing), cells as text."""

    title: str
    columns: list[str]
    rows: list[list[str]]

    def column(self, name: str) -> int:
        if name not in self.columns:
            raise KeyError(f"no column {name!r} (the table has {', '.join(self.columns)})")
        return self.columns.index(name)


def cells(line: str, bar: str) -> list[str]:
    return [cell.strip() for cell in line.strip()[1:-1].split(bar)]


def tables(stdout: str) -> list[Table]:
    """Every table in a command's console output, in order. A cell that rich wrapped over
    several lines is joined (a body line with an empty first cell continues the row above);
    the title is the line just above the table, if any."""
    found: list[Table] = []
    lines = stdout.splitlines()
    current: Table | None = None
    for i, line in enumerate(lines):
        mark = line.strip()[:1]
        if mark in "┏┌":
            above = lines[i - 1].strip() if i else ""
            current = Table(title=above if above[:1] not in "└┘│" else "", columns=[], rows=[])
        elif current is None:
            continue
        elif mark == "┃":
            parts = cells(line, "┃")
            current.columns = (
                [" ".join(f"{a} {b}".split()) for a, b in zip(current.columns, parts)]
                if current.columns
                else parts
            )
        elif mark == "│":
            row = cells(line, "│")
            if current.rows and not row[0]:  # a cell rich wrapped: the row goes on
                current.rows[-1] = [
                    " ".join(f"{a} {b}".split()) for a, b in zip(current.rows[-1], row)
                ]
            else:
                current.rows.append(row)
        elif mark in "└":
            found.append(current)
            current = None
    return found


def stale_results(names: list[str] | None = None) -> list[str]:
    """One line per saved output that is missing or was produced from other settings or
    inputs than the checkout's (what `make docs` refuses)."""
    version = package_version()
    problems = []
    for name in names or list(RESULTS):
        result, saved = RESULTS[name], load(name)
        rerun = f"(run `make docs-data ONLY={name}`)"
        if saved is None:
            problems.append(f"{name}: no saved output {rerun}")
            continue
        if saved.get("command") != result.command:
            problems.append(
                f"{name}: saved from {saved.get('command')!r}, the docs now document "
                f"{result.command!r} {rerun}"
            )
        if saved.get("version") != version:
            problems.append(
                f"{name}: saved with opt_offload {saved.get('version')}, the package is "
                f"{version} {rerun}"
            )
        changed = sorted(
            path
            for path, digest in input_hashes(result).items()
            if saved.get("inputs", {}).get(path) != digest
        )
        gone = sorted(set(saved.get("inputs", {})) - set(input_files(result)))
        if changed or gone:
            problems.append(f"{name}: its inputs changed: {', '.join(changed + gone)} {rerun}")
    return problems


def machine() -> dict:
    return {
        "system": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 1),
        "python": platform.python_version(),
    }


def run_command(command: str) -> subprocess.CompletedProcess:
    """The command as documented, from the repository root, with `opt-offload` taken from the
    environment that runs this script."""
    argv = shlex.split(command)
    if argv[0] == "opt-offload":
        argv[0] = str(Path(sys.executable).with_name("opt-offload"))
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "COLUMNS": COLUMNS, "PATH": path}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def generate(name: str) -> dict:
    result = RESULTS[name]
    load_before, code, commit = machine(), code_hash(), git_commit()
    start = time.perf_counter()
    done = run_command(result.command)
    wall_s = round(time.perf_counter() - start, 1)
    if done.returncode not in (0, 1):  # 1: a benchmark whose target is not met still reports
        sys.exit(f"{name}: `{result.command}` exited {done.returncode}:\n{done.stderr}")
    return {
        "name": name,
        "command": result.command,
        "exit_code": done.returncode,
        "version": package_version(),
        "code": code,
        "commit": commit,
        "inputs": input_hashes(result),
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {**load_before, "load_average_after": round(os.getloadavg()[0], 1)},
        "wall_s": wall_s,
        "stdout": done.stdout,
    }


def write(name: str, saved: dict) -> None:
    GENERATED.mkdir(parents=True, exist_ok=True)
    saved_path(name).write_text(json.dumps(saved, indent=1, ensure_ascii=False) + "\n")


def status() -> None:
    code = code_hash()
    stale = {line.split(":", 1)[0]: line for line in stale_results()}
    for name in RESULTS:
        saved = load(name) or {}
        mark = "STALE" if name in stale else "code changed" if saved.get("code") != code else "ok"
        print(f"{name:32} {mark:13} {saved.get('generated', '-'):22} {saved.get('wall_s', '-')} s")
    for line in stale.values():
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("names", nargs="*", help=f"entries (default: all): {', '.join(RESULTS)}")
    parser.add_argument("--status", action="store_true", help="list the saved outputs' state")
    parser.add_argument("--list", action="store_true", help="print each entry's command")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in RESULTS]
    if unknown:
        sys.exit(f"unknown entries {', '.join(unknown)} (known: {', '.join(RESULTS)})")
    if args.status:
        return status()
    if args.list:
        for name in args.names or RESULTS:
            print(f"{name}: {RESULTS[name].command}")
        return
    for name in args.names or list(RESULTS):
        print(f"{name}: {RESULTS[name].command}", flush=True)
        saved = generate(name)
        write(name, saved)
        print(f"  {saved['wall_s']} s, exit {saved['exit_code']}", flush=True)


if __name__ == "__main__":
    main()
