"""``opt-offload bench simulation``: slots simulated per second, one core, Table 3 settings.

Each scheduler runs the same simulation (gsm8k, M = 9, B = 4e7 Hz, lambda = 3, the screening
policy, the same seed, hence the same tasks) ``--repeat`` times in this process, the
schedulers taking turns so that a change of machine load hits them alike. Two rates per run:
slots per second of wall-clock time, and slots per CPU-second of this process (time.
process_time), which other processes on a shared machine disturb much less. The medians are
reported with their ratio to ``all-local`` (the engine alone, no Stage 2 work) from the same
run, and the targets are checked on the CPU-second rates: at least 30,000 slots with the
threshold rules and with the fast exact solver, 60,000 with all-local (the priced reading of a
queued upload), and 10,000 with either Stage 2 solver under the shared reading
(``--uploads priced,shared``; all-local uploads nothing, so it has one row).
"""

from __future__ import annotations

import argparse
import statistics
import time

from ..errors import InputError

KIND = "simulation"
DESCRIPTION = (
    "slots per second (wall-clock and CPU) of the simulation at PRADA Table 3 with each "
    "Stage 2 scheduler, one core, with ratios to the engine alone (all-local) from the same run"
)
SCHEDULERS = "all-local,threshold,exact"
BASELINE = "all-local"
TARGET_SLOTS_PER_CPU_S = {
    "threshold": 30_000,
    "exact": 30_000,
    "all-local": 60_000,
    "threshold/shared": 10_000,
    "exact/shared": 10_000,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--slots", type=int, default=4000, help="slots with arrivals (4000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scheduler (3)")
    parser.add_argument("--schedulers", default=SCHEDULERS, help=f"default {SCHEDULERS}")
    parser.add_argument("--policy", default="screen", help="Stage 1 policy (screen)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--uploads", default="priced", help="queued-upload readings, e.g. priced,shared (priced)"
    )


def row_name(scheduler: str, upload: str) -> str:
    return scheduler if upload == "priced" else f"{scheduler}/{upload}"


def timed_run(config) -> dict:
    """One run: its result, wall-clock and CPU rates."""
    from ..simulation import simulate

    cpu = time.process_time()
    result = simulate(config)
    cpu = time.process_time() - cpu
    return {
        "result": result,
        "slots_per_s": result.slots_per_s,
        "slots_per_cpu_s": result.slots_simulated / cpu if cpu > 0 else float("inf"),
    }


def measure(args: argparse.Namespace) -> dict[str, dict]:
    from ..simulation import SimulationConfig

    if args.repeat < 1:
        raise InputError(f"--repeat: must be at least 1, got {args.repeat}")
    names = [name.strip() for name in args.schedulers.split(",") if name.strip()]
    uploads = [name.strip() for name in args.uploads.split(",") if name.strip()]
    configs = {
        row_name(name, upload): SimulationConfig(
            scheduler=name, policy=args.policy, slots=args.slots, seed=args.seed, upload=upload
        )
        for upload in uploads
        for name in names
        if upload == "priced" or name != BASELINE  # all-local uploads nothing
    }
    for config in configs.values():
        config.check()
    runs = {name: [] for name in configs}
    for _ in range(args.repeat):
        for name, config in configs.items():
            runs[name].append(timed_run(config))
    return {
        name: {
            "slots_per_s": statistics.median(r["slots_per_s"] for r in done),
            "slots_per_cpu_s": statistics.median(r["slots_per_cpu_s"] for r in done),
            "slots": done[0]["result"].slots_simulated,
            "candidates": done[0]["result"].mean_candidates,
        }
        for name, done in runs.items()
    }


def report(measured: dict[str, dict]) -> None:
    from rich.table import Table

    from ..console import console

    base = measured.get(BASELINE)
    table = Table(
        title="simulation at Table 3 (gsm8k, M = 9, B = 4e7, lambda = 3), one core",
        caption="slots/s: wall-clock; slots/CPU-s and its ratio: CPU time of this process; "
        "cand./call: candidates per Stage 2 call",
    )
    columns = ("scheduler", "slots", "cand./call", "slots/s", "slots/CPU-s", "x all-local")
    for column in columns:
        table.add_column(column, justify="left" if column == "scheduler" else "right")
    for name, m in measured.items():
        ratio = f"{m['slots_per_cpu_s'] / base['slots_per_cpu_s']:.3g}" if base else "-"
        table.add_row(
            name,
            str(m["slots"]),
            f"{m['candidates']:.2f}",
            f"{m['slots_per_s']:,.0f}",
            f"{m['slots_per_cpu_s']:,.0f}",
            ratio,
        )
    console.print(table)
    for line in target_lines(measured):
        console.print(line)


def target_lines(measured: dict[str, dict]) -> list[str]:
    lines = []
    for name, target in TARGET_SLOTS_PER_CPU_S.items():
        if name in measured:
            rate = measured[name]["slots_per_cpu_s"]
            verdict = "met" if rate >= target else "NOT met"
            lines.append(f"target {name} >= {target:,} slots/CPU-s: {rate:,.0f}, {verdict}")
    return lines


def run(args: argparse.Namespace) -> int:
    report(measure(args))
    return 0
