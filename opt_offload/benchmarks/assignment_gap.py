"""``opt-offload bench assignment-gap``: K-Priority FCFS against the MILP (``exact``,
lexicographic) in throughput S and total transmission latency T, per priority rule and K_q in
{1, 4, 16}, on the shipped assignment instances and on generated ``random`` ones (issue 4).

Both are judged by the shared evaluator. Gaps are design §2's relative gaps: throughput
``(S* - S) / S*``; latency ``(T - T*) / T*``, counted only where K-P-FCFS reaches S* (with fewer
tasks served, a smaller T is no gain). "lex opt" is the share of instances where K-P-FCFS is
lexicographically optimal (S = S* and T <= T* within 1e-9). Shipped instances are used where
K-P-FCFS is feasible for them (a ``strict`` instance it cannot serve whole is left out and
counted).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from ..compare import relative_gap
from ..errors import InputError
from ..schemas import Status

KIND = "assignment-gap"
DESCRIPTION = "gap of K-Priority FCFS (rules x K_q) to the assignment MILP, S and T"
WINDOWS = (1, 4, 16)
TIE = 1e-9


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--instances", type=int, default=200, help="generated instances (200)")
    parser.add_argument("--seed", type=int, default=0, help="first seed of the generated ones")
    parser.add_argument(
        "--shipped",
        default="instances/assignment",
        metavar="DIR",
        help="folder of shipped instances, relative to the working directory "
        "(instances/assignment; '' for none)",
    )
    parser.add_argument("--csv", metavar="PATH", help="one row per instance, rule and K_q")


def study_instances(args: argparse.Namespace) -> list[tuple[str, object]]:
    from ..generators.assignment import generate_assignment
    from ..io import load_instance

    if args.instances < 0:
        raise InputError(f"--instances: must be at least 0, got {args.instances}")
    shipped = sorted(Path(args.shipped).glob("*.json")) if args.shipped else []
    cases = [("shipped", load_instance(path)) for path in shipped]
    cases += [
        ("random", generate_assignment(preset="random", seed=args.seed + n))
        for n in range(args.instances)
    ]
    return cases


def gap_row(source: str, instance, exact, solution, rule: str, k: int) -> dict:
    s_opt, t_opt = exact.metrics["throughput"], exact.metrics["transmission_s"]
    s, t = solution.metrics["throughput"], solution.metrics["transmission_s"]
    same_s = s == s_opt
    return {
        "source": source,
        "instance": instance.name,
        "rule": rule,
        "k": k,
        "S*": s_opt,
        "S": s,
        "T*": t_opt,
        "T": t,
        "throughput_gap": relative_gap(float(s_opt), float(s), "max"),
        "latency_gap": relative_gap(t_opt, t, "min") if same_s else None,
        "lex_optimal": same_s and t <= t_opt + TIE * max(1.0, t_opt),
    }


def study_rows(args: argparse.Namespace) -> tuple[list[dict], list[str]]:
    from ..solve import solve
    from ..solvers.assignment.kpfcfs import RULES

    rows, skipped = [], []
    for source, instance in study_instances(args):
        exact = solve(instance, "exact")
        if exact.status is not Status.OPTIMAL:
            # a gap is measured only against a proven optimum
            skipped.append(f"{instance.name} (exact: {exact.status.value}, no proven optimum)")
            continue
        for rule in RULES:
            for k in WINDOWS:
                solution = solve(instance, "kpfcfs", k=k, rule=rule)
                if solution.objective is None:
                    skipped.append(f"{instance.name} ({rule}, K_q={k}: {solution.status.value})")
                    continue
                rows.append(gap_row(source, instance, exact, solution, rule, k))
    return rows, skipped


def summary(rows: list[dict]) -> list[dict]:
    """Per source, rule and K_q: count, lex-optimal share, throughput and latency gaps (%)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["source"], row["rule"], row["k"]), []).append(row)
    entries = []
    for (source, rule, k), mine in groups.items():
        s_gaps = [100.0 * r["throughput_gap"] for r in mine]
        t_gaps = [100.0 * r["latency_gap"] for r in mine if r["latency_gap"] is not None]
        entries.append(
            {
                "source": source,
                "rule": rule,
                "K_q": k,
                "n": len(mine),
                "lex opt %": 100.0 * sum(r["lex_optimal"] is True for r in mine) / len(mine),
                "S=S* %": 100.0 * len(t_gaps) / len(mine),
                "S gap mean %": statistics.fmean(s_gaps),
                "S gap max %": max(s_gaps),
                "T gap mean %": statistics.fmean(t_gaps) if t_gaps else float("nan"),
                "T gap max %": max(t_gaps) if t_gaps else float("nan"),
            }
        )
    return entries


def run(args: argparse.Namespace) -> int:
    from ..console import console
    from ..io import csv_text, write_output
    from ..report import records_table

    rows, skipped = study_rows(args)
    if not rows:
        raise InputError("assignment-gap: no instance to compare on")
    entries = summary(rows)
    title = f"K-P-FCFS vs exact (lexicographic), {args.instances} random instances"
    console.print(records_table(title, entries, ("source", "rule"), 3))
    if skipped:
        console.print(f"left out ({len(skipped)}): " + "; ".join(skipped))
    if args.csv:
        write_output(args.csv, csv_text(rows))
        console.print(f"{len(rows)} rows written to {args.csv}")
    return 0
