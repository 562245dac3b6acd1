"""``opt-offload bench limits``: every registered solver on a hard instance of each kind,
within its ``--time-limit``, with what it holds at the end: incumbent, bound and gap.

The instances are built to be hard, not large:

- ``subset-sum-60``: an admission slot of 60 candidates whose gains are ``g_i = 2 beta R
  sqrt(c_i) / B``, so that the slot value of an immediate set A is ``beta / B (R^2 -
  (R - sum_{i in A} sqrt(c_i))^2)``: the optimum is the subset sum of the ``sqrt(c_i)``
  nearest R, and every bound from a relaxation is loose;
- ``orlib-gapd-1``: OR-Library's GAP type D problem 1 (5 agents x 100 jobs, minimisation),
  read from ``data/orlib-gap``;
- ``testbed-250x4x2-s0``: the ``testbed`` preset of ``opt-offload generate assignment`` (the 003
  paper's four edges and cloud) with 250 tasks (variant admission: lexicographic max S, then
  min T; about 3.5 s to prove both stages);
- ``placement-60``: a random 60-node layered graph on four devices with memory for 1.15x the
  tensors, a graph-partitioning MILP.

A row is ``within`` when the solver returned by the limit plus max(1 s, 10%).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from ..errors import SolverUnavailable
from ..io import csv_text, parse_instance, write_output
from ..registry import solvers_for
from ..schemas import Instance
from ..solve import solve

KIND = "limits"
DESCRIPTION = (
    "every solver within --time-limit on four hard instances: status, incumbent, bound, gap"
)
SLACK_S, SLACK_FRACTION = 1.0, 0.10


def subset_sum_slot(candidates: int, seed: int) -> Instance:
    """The admission slot of the module docstring: SNR 10 log10(3) dB makes log2(1 + SNR) = 2,
    so c_i = bits L_i / 2 and ``L_i = k_i^2`` gives integer-proportional sqrt(c_i)."""
    rng = np.random.default_rng(seed)
    bits, bandwidth, beta = 32.0, 1e8, 1.0
    k = rng.integers(50, 101, size=candidates)
    roots = np.sqrt(bits * k**2 / 2.0)
    target = float(roots.sum()) / 2.0 + 0.5 * float(roots.min())  # off every subset sum
    return parse_instance(
        {
            "kind": "admission",
            "version": 1,
            "name": f"subset-sum-{candidates}",
            "server": {"capacity": candidates},
            "bandwidth_hz": bandwidth,
            "beta": beta,
            "bits_per_token": bits,
            "candidates": [
                {
                    "id": f"u{i}",
                    "context_tokens": int(k[i] ** 2),
                    "snr_db": 10.0 * math.log10(3.0),
                    "server_time_s": 0.1,
                    "gain": 2.0 * beta * target * float(roots[i]) / bandwidth,
                    "queue_delay_s": 1e3,  # queueing never pays
                }
                for i in range(candidates)
            ],
        }
    )


def orlib_type_d() -> Instance:
    from ..importers.orlib_gap import DATA_DIR, read_gap_problem

    return read_gap_problem(DATA_DIR / "gapd.txt", 1).to_instance()


def testbed_assignment(tasks: int, seed: int) -> Instance:
    from ..generators.assignment import generate_assignment

    return generate_assignment(preset="testbed", seed=seed, tasks=tasks)


def random_placement(nodes: int, seed: int, devices: int = 4) -> Instance:
    """Layers of four nodes, each node fed by two of the previous layer, random sizes."""
    rng = np.random.default_rng(seed)
    ids = [f"n{i}" for i in range(nodes)]
    sizes = rng.uniform(1.0, 10.0, size=nodes).round(3)
    edges = []
    for i in range(4, nodes):
        layer_start = (i // 4 - 1) * 4
        for j in rng.choice(4, size=2, replace=False):
            edges.append(
                {
                    "source": ids[layer_start + int(j)],
                    "target": ids[i],
                    "bytes": round(float(rng.uniform(1.0, 100.0)), 3),
                }
            )
    memory = 1.15 * float(sizes.sum()) / devices
    names = [f"d{j}" for j in range(devices)]
    return parse_instance(
        {
            "kind": "placement",
            "version": 1,
            "name": f"placement-{nodes}",
            "objective": "graph",
            "devices": [{"id": d, "memory_bytes": memory, "flops": 1e12} for d in names],
            "bandwidth_bytes_per_s": {
                a: {b: round(float(rng.uniform(1.0, 10.0)), 3) for b in names if b != a}
                for a in names
            },
            "graph": {
                "nodes": [
                    {"id": n, "bytes": float(s), "flop": 1.0, "layer": i // 4}
                    for i, (n, s) in enumerate(zip(ids, sizes))
                ],
                "edges": edges,
            },
        }
    )


def hard_instances(seed: int) -> list[Instance]:
    return [
        subset_sum_slot(60, seed),
        orlib_type_d(),
        testbed_assignment(250, seed),
        random_placement(60, seed),
    ]


def within(wall_s: float, limit: float) -> bool:
    return wall_s <= limit + max(SLACK_S, SLACK_FRACTION * limit)


def rows_for(instance: Instance, limit: float) -> list[dict]:
    rows = []
    for spec in solvers_for(instance.kind):
        try:
            spec.check(instance)
        except SolverUnavailable as exc:
            rows.append(
                {
                    "instance": instance.name,
                    "solver": spec.name,
                    "status": "skipped",
                    "note": exc.problems[0],
                }
            )
            continue
        solution = solve(instance, spec.name, time_limit=limit)
        rows.append(
            {
                "instance": instance.name,
                "solver": spec.name,
                "exact": spec.exact,
                "limit_s": limit,
                "wall_s": solution.wall_s,
                "within": within(solution.wall_s, limit),
                "status": solution.status.value,
                "decisions": solution.has_decisions,
                "objective": solution.objective,
                "bound": solution.bound,
                "gap": solution.gap,
                "note": "",
            }
        )
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--time-limit", type=float, default=2.0, metavar="S", help="seconds per solve (2)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the built instances (0)")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="only these instances (repeatable)"
    )
    parser.add_argument("--csv", metavar="PATH", help="write the rows as CSV")


def table(rows: list[dict]):
    from rich.table import Table

    out = Table(title="solvers at their time limit")
    columns = (
        "instance",
        "solver",
        "limit s",
        "wall s",
        "within",
        "status",
        "decisions",
        "objective",
        "bound",
        "gap",
    )
    for column in columns:
        out.add_column(column, justify="left" if column in ("instance", "solver") else "right")
    for row in rows:
        if row["status"] == "skipped":
            out.add_row(
                row["instance"], row["solver"], *[""] * 3, "skipped", row["note"], "", "", ""
            )
            continue
        out.add_row(
            row["instance"],
            row["solver"],
            f"{row['limit_s']:g}",
            f"{row['wall_s']:.2f}",
            "yes" if row["within"] else "NO",
            row["status"],
            "yes" if row["decisions"] else "none",
            fmt(row["objective"]),
            fmt(row["bound"]),
            "-" if row["gap"] is None else f"{100 * row['gap']:.3g}%",
        )
    return out


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def run(args: argparse.Namespace) -> int:
    from ..console import console
    from ..registry import check_time_limit

    check_time_limit(args.time_limit)
    instances = [i for i in hard_instances(args.seed) if not args.only or i.name in args.only]
    rows = [row for instance in instances for row in rows_for(instance, args.time_limit)]
    console.print(table(rows))
    late = [f"{r['solver']} on {r['instance']}" for r in rows if r.get("within") is False]
    if late:
        console.print("over the limit: " + "; ".join(late))
    if args.csv:
        write_output(args.csv, csv_text([{**r} for r in rows]))
    return 0 if not late else 1
