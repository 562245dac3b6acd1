"""``opt-offload bench simulation``: slots simulated per second, one core, Table 3 settings.

Each scheduler runs the same simulation (gsm8k, M = 9, B = 4e7 Hz, lambda = 3, the screening
policy, the same seed, hence the same tasks) ``--repeat`` times in this process; the median
of slots / wall time is reported with its ratio to ``all-local`` (the engine alone, no
Stage 2 work) measured in the same run, and the issue's targets are checked: at least 20,000
slots/s with the threshold rules and 2,000 with the fast exact solver.
"""

from __future__ import annotations

import argparse
import statistics

from ..errors import InputError

KIND = "simulation"
DESCRIPTION = (
    "slots per second of the simulation at PRADA Table 3 with each Stage 2 scheduler, one "
    "core, with ratios to the engine alone (all-local) from the same run"
)
SCHEDULERS = "all-local,threshold,exact"
BASELINE = "all-local"
TARGET_SLOTS_PER_S = {"threshold": 20_000, "exact": 2_000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--slots", type=int, default=4000, help="slots with arrivals (4000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scheduler (3)")
    parser.add_argument("--schedulers", default=SCHEDULERS, help=f"default {SCHEDULERS}")
    parser.add_argument("--policy", default="screen", help="Stage 1 policy (screen)")
    parser.add_argument("--seed", type=int, default=0)


def measure(args: argparse.Namespace) -> dict[str, dict]:
    from ..simulation import SimulationConfig, simulate

    if args.repeat < 1:
        raise InputError(f"--repeat: must be at least 1, got {args.repeat}")
    names = [name.strip() for name in args.schedulers.split(",") if name.strip()]
    measured = {}
    for name in names:
        config = SimulationConfig(
            scheduler=name, policy=args.policy, slots=args.slots, seed=args.seed
        )
        runs = [simulate(config) for _ in range(args.repeat)]
        measured[name] = {
            "slots_per_s": statistics.median(r.slots_per_s for r in runs),
            "slots": runs[0].slots_simulated,
            "candidates": runs[0].mean_candidates,
        }
    return measured


def report(measured: dict[str, dict]) -> None:
    from rich.table import Table

    from ..console import console

    base = measured.get(BASELINE, {}).get("slots_per_s")
    table = Table(title="simulation at Table 3 (gsm8k, M = 9, B = 4e7, lambda = 3), one core")
    for column in ("scheduler", "slots", "candidates / Stage 2 call", "slots/s", "x all-local"):
        table.add_column(column, justify="left" if column == "scheduler" else "right")
    for name, m in measured.items():
        ratio = f"{m['slots_per_s'] / base:.3g}" if base else "-"
        table.add_row(
            name, str(m["slots"]), f"{m['candidates']:.2f}", f"{m['slots_per_s']:,.0f}", ratio
        )
    console.print(table)
    for line in target_lines(measured):
        console.print(line)


def target_lines(measured: dict[str, dict]) -> list[str]:
    lines = []
    for name, target in TARGET_SLOTS_PER_S.items():
        if name in measured:
            rate = measured[name]["slots_per_s"]
            verdict = "met" if rate >= target else "NOT met"
            lines.append(f"target {name} >= {target:,} slots/s: {rate:,.0f}, {verdict}")
    return lines


def run(args: argparse.Namespace) -> int:
    report(measure(args))
    return 0
