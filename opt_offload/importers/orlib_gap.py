"""OR-Library generalised assignment problems (GAP) as ``strict`` assignment instances.

File format (``data/orlib-gap/orlib_gapinfo_readme.txt``): the number of problems P, then per
problem the number of agents m and jobs n, the cost matrix c_ij (m rows of n), the resource
matrix a_ij (m rows of n) and the capacities b_i, all integers separated by white space (line
breaks carry no meaning: mirrors wrap rows differently).

Conversion (design §5: with placement fixed, QoS loose and the ``strict`` variant, problem B is
the GAP, minimising):

- agent i -> edge server ``agent-i`` (no cloud), hosting the one model ``gap-job`` (1 GB, its
  storage exactly that, placement fixed), compute budget Omega_i = b_i (1d), 1 FLOP/s;
- job j -> task ``job-j`` of model ``gap-job``; a_ij -> ``workload_flop_by_server`` (so (1d) is
  the GAP's capacity constraint); ``workload_flop`` is 0, since every server is overridden;
- c_ij -> ``transmission_s`` for minimisation files (types A-D), and ``Cmax - c_ij`` for the
  maximisation files gap1-gap12 (the gapinfo text publishes their optima "when solved as
  maximisation problems"); Cmax is the problem's largest c_ij, so every latency is >= 0 and
  profit = n Cmax - T for every assignment: the minimum of T is the maximum profit;
- no QoS (``latency_max_s: null``); the computation latencies a_ij / 1 FLOP/s are never used.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from ..errors import InputError
from ..io import parse_instance
from ..schemas import AssignmentInstance
from ..shipped import shipped

Sense = Literal["max", "min"]

# The shipped copy of the OR-Library files (data/orlib-gap, with its PROVENANCE.md); it installs
# with the package (opt_offload.shipped), and callers may pass another folder.
DATA_DIR = shipped("data/orlib-gap")
OPTIMA_FILE = "gap_optima.csv"
MODEL_ID = "gap-job"
MAXIMISATION_FILE = re.compile(r"gap\d+(\.txt)?")


def agent_id(i: int) -> str:
    return f"agent-{i + 1}"


def job_id(j: int) -> str:
    return f"job-{j + 1}"


def file_sense(path: str | Path) -> Sense:
    """gap1-gap12 are published as maximisation problems, types A-D as minimisation."""
    return "max" if MAXIMISATION_FILE.fullmatch(Path(path).name) else "min"


@dataclass(frozen=True)
class GapProblem:
    """One problem of an OR-Library GAP file; ``index`` counts from 1 as in gap_optima.csv."""

    file: str
    index: int
    costs: tuple[tuple[int, ...], ...]  # c_ij, one row per agent
    resources: tuple[tuple[int, ...], ...]  # a_ij, one row per agent
    capacities: tuple[int, ...]  # b_i
    sense: Sense

    @property
    def agents(self) -> int:
        return len(self.capacities)

    @property
    def jobs(self) -> int:
        return len(self.costs[0])

    @property
    def name(self) -> str:
        return f"{Path(self.file).stem}-{self.index}"

    @property
    def cost_max(self) -> int:
        """Cmax, the constant of the shift that turns profits into latencies."""
        return max(max(row) for row in self.costs)

    def latency(self, i: int, j: int) -> int:
        """Ltrans of job j on agent i: the cost, or Cmax - c_ij for a maximisation problem."""
        cost = self.costs[i][j]
        return self.cost_max - cost if self.sense == "max" else cost

    def value(self, total_latency: float) -> float:
        """The GAP objective of an assignment whose total transmission latency is T:
        profit n Cmax - T for a maximisation problem, cost T for a minimisation one."""
        if self.sense == "max":
            return self.jobs * self.cost_max - total_latency
        return total_latency

    def assignment_value(self, agent_of_job: list[int]) -> int:
        """sum_j c_{a(j) j}, straight from the file (the oracle of the shift)."""
        return sum(self.costs[i][j] for j, i in enumerate(agent_of_job))

    def to_instance(self) -> AssignmentInstance:
        agents = [agent_id(i) for i in range(self.agents)]
        jobs = [job_id(j) for j in range(self.jobs)]
        document = {
            "kind": "assignment",
            "version": 1,
            "name": self.name,
            "comment": self.comment(),
            "variant": "strict",
            "latency_max_s": None,
            "models": [{"id": MODEL_ID, "size_gb": 1.0}],
            "servers": [
                {
                    "id": agent,
                    "cloud": False,
                    "storage_gb": 1.0,
                    "flops": 1.0,
                    "compute_budget_flop": float(self.capacities[i]),
                }
                for i, agent in enumerate(agents)
            ],
            "tasks": [
                {
                    "id": job,
                    "model": MODEL_ID,
                    "workload_flop": 0.0,
                    "workload_flop_by_server": {
                        agent: float(self.resources[i][j]) for i, agent in enumerate(agents)
                    },
                }
                for j, job in enumerate(jobs)
            ],
            "transmission_s": {
                job: {agent: float(self.latency(i, j)) for i, agent in enumerate(agents)}
                for j, job in enumerate(jobs)
            },
            "placement": {agent: [MODEL_ID] for agent in agents},
        }
        return parse_instance(document, self.file)

    def comment(self) -> str:
        origin = (
            f"OR-Library GAP {Path(self.file).name}, problem {self.index} "
            f"({self.agents} agents, {self.jobs} jobs), imported by opt-offload import orlib-gap. "
            "Agents are edge servers hosting the one model gap-job (placement fixed, no cloud, "
            "no QoS), a_ij is workload_flop_by_server, b_i is compute_budget_flop. "
        )
        if self.sense == "max":
            return origin + (
                f"A maximisation problem: transmission_s = Cmax - c_ij with Cmax = "
                f"{self.cost_max}, so profit = n*Cmax - T = {self.jobs * self.cost_max} - T, "
                "where T is the total transmission latency the strict variant minimises."
            )
        return origin + "A minimisation problem: transmission_s = c_ij, the cost is T."


class _Tokens:
    """The integers of a GAP file in order, with the line each came from (for messages)."""

    def __init__(self, text: str, source: str):
        self.source = source
        self._items: Iterator[tuple[int, str]] = (
            (number, token)
            for number, line in enumerate(text.splitlines(), start=1)
            for token in line.split()
        )
        self.line = 0

    def integer(self, what: str) -> int:
        try:
            self.line, token = next(self._items)
        except StopIteration:
            raise InputError(f"ends early: expected {what}", self.source) from None
        try:
            return int(token)
        except ValueError:
            raise InputError(
                f"line {self.line}: expected an integer ({what}), got {token!r}", self.source
            ) from None

    def positive(self, what: str) -> int:
        value = self.integer(what)
        if value <= 0:
            raise InputError(f"line {self.line}: {what} must be positive, got {value}", self.source)
        return value

    def non_negative(self, what: str) -> int:
        value = self.integer(what)
        if value < 0:
            raise InputError(
                f"line {self.line}: {what} must be non-negative, got {value}", self.source
            )
        return value

    def rest(self) -> tuple[int, str] | None:
        return next(self._items, None)


def _matrix(tokens: _Tokens, name: str, p: int, m: int, n: int) -> tuple[tuple[int, ...], ...]:
    return tuple(
        tuple(tokens.non_negative(f"problem {p} {name}[{i + 1}][{j + 1}]") for j in range(n))
        for i in range(m)
    )


def parse_gap_text(text: str, source: str, sense: Sense | None = None) -> list[GapProblem]:
    """Every problem of a GAP file; InputError (one line, naming the file) if malformed.

    ``sense`` defaults to the file's published one (:func:`file_sense`)."""
    tokens = _Tokens(text, source)
    sense = sense or file_sense(source)
    problems = []
    for p in range(1, tokens.positive("the number of problems") + 1):
        m = tokens.positive(f"problem {p} number of agents m")
        n = tokens.positive(f"problem {p} number of jobs n")
        costs = _matrix(tokens, "cost c", p, m, n)
        resources = _matrix(tokens, "resource a", p, m, n)
        capacities = tuple(
            tokens.non_negative(f"problem {p} capacity b[{i + 1}]") for i in range(m)
        )
        problems.append(GapProblem(Path(source).name, p, costs, resources, capacities, sense))
    extra = tokens.rest()
    if extra is not None:
        raise InputError(
            f"line {extra[0]}: unexpected {extra[1]!r} after the last of {len(problems)} problems",
            source,
        )
    return problems


def read_gap_file(path: str | Path, sense: Sense | None = None) -> list[GapProblem]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", str(path)) from None
    return parse_gap_text(text, str(path), sense)


def read_gap_problem(path: str | Path, index: int, sense: Sense | None = None) -> GapProblem:
    """Problem ``index`` (from 1) of a GAP file."""
    problems = read_gap_file(path, sense)
    if not 1 <= index <= len(problems):
        raise InputError(
            f"--index: {index} is out of range; {Path(path).name} holds problems "
            f"1 to {len(problems)}"
        )
    return problems[index - 1]


@dataclass(frozen=True)
class PublishedValue:
    """The literature's value of a problem: an optimum when lower == upper, else bounds."""

    sense: Sense
    lower: float
    upper: float

    @property
    def optimum(self) -> float | None:
        return self.lower if self.lower == self.upper else None


@cache
def _optima_rows(path: Path) -> dict[tuple[str, int], dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            (row["orlib_file"], int(row["index_in_file"])): row for row in csv.DictReader(handle)
        }


def published_value(
    file: str | Path, index: int, sense: Sense | None = None, *, data_dir: Path = DATA_DIR
) -> PublishedValue | None:
    """The published value of problem ``index`` of ``file`` from gap_optima.csv, or None.

    Maximisation: the OR-Library gapinfo optimum where it has one (gap1-gap12), else the
    AssignmentProblems.jl MIP bounds (``AP_HEAD_Max_*``); minimisation: ``AP_HEAD_Min_*`` (equal
    lower and upper bounds for gap1-12, types A-C and d05100, d05200; the other four type D
    problems keep a gap). See data/orlib-gap/PROVENANCE.md.
    """
    sense = sense or file_sense(file)
    row = _optima_rows(Path(data_dir) / OPTIMA_FILE).get((Path(file).name, index))
    if row is None:
        return None
    if sense == "max" and row["orlib_gapinfo_max_optimum"]:
        value = float(row["orlib_gapinfo_max_optimum"])
        return PublishedValue(sense, value, value)
    prefix = "AP_HEAD_Max" if sense == "max" else "AP_HEAD_Min"
    return PublishedValue(sense, float(row[f"{prefix}_lb"]), float(row[f"{prefix}_ub"]))


def gap_files(data_dir: Path = DATA_DIR) -> list[Path]:
    """gap1..gap12 then gapa..gapd, in that order."""
    return sorted(Path(data_dir).glob("gap*.txt"), key=_file_order)


def _file_order(path: Path) -> tuple[int, int | str]:
    suffix = path.stem.removeprefix("gap")
    return (0, int(suffix)) if suffix.isdigit() else (1, suffix)
