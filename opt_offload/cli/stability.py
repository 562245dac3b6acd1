"""``opt-offload stability``: dynamic K-Priority FCFS on an assignment instance's task mix, a
table of arrival rate -> throughput, p95 latency, queue, bounded?; the largest bounded rate
(bisection) against the fluid (LP) and MILP-window capacities (design §5, 003 Sec. 3.3)."""

from __future__ import annotations

import argparse
import json

from ..errors import InputError
from ..solvers.assignment.kpfcfs import RULES
from .common import EXIT_OK, console


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stability",
        help="dynamic K-P-FCFS: queue stability as the arrival rate grows",
        description="Poisson arrivals drawn from an assignment instance's tasks, served by "
        "K-Priority FCFS one task at a time per server. Prints, per arrival rate, throughput, "
        "latency, mean/final queue and whether the queue stays bounded (growth over the second "
        "half below 5% of the rate), then the largest bounded rate found by bisection against "
        "the fluid LP capacity and the MILP's max throughput over a window. Seeded.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", help="assignment instance (JSON/YAML)")
    source.add_argument("--preset", help="generate the instance: testbed, scale, random")
    parser.add_argument("--rule", choices=RULES, default="fcfs", help="priority rule (fcfs)")
    parser.add_argument("--k", type=int, default=1, help="look-ahead window K_q (1)")
    parser.add_argument(
        "--rates",
        help="comma-separated arrival rates, tasks/s (default: 0.5, 0.8, 1.0, 1.2, 2.0 x the "
        "fluid capacity)",
    )
    parser.add_argument("--arrivals", type=int, default=2000, help="arrivals per run (2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of arrivals and instance (0)")
    parser.add_argument(
        "--no-milp", action="store_true", help="skip the MILP window capacity (needs HiGHS)"
    )
    parser.add_argument("--plot", metavar="FILE.png", help="queue length over time per rate")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(run=run)


def load(args: argparse.Namespace):
    from ..io import load_instance

    if args.preset:
        from ..generators.assignment import generate_assignment

        return generate_assignment(preset=args.preset, seed=args.seed)
    instance = load_instance(args.file)
    if instance.kind != "assignment":
        raise InputError(f"kind: stability needs an assignment instance, got {instance.kind!r}")
    return instance


def parse_rates(text: str | None, capacity: float) -> list[float]:
    if text is None:
        return [f * capacity for f in (0.5, 0.8, 1.0, 1.2, 2.0)]
    try:
        rates = [float(part) for part in text.split(",")]
    except ValueError:
        raise InputError(f"--rates: expected numbers separated by commas, got {text!r}") from None
    if not rates or any(r <= 0 for r in rates):
        raise InputError(f"--rates: every rate must be positive, got {text!r}")
    return rates


def check_arguments(args: argparse.Namespace) -> None:
    problems = []
    if args.k < 1:
        problems.append(f"--k: K_q must be at least 1, got {args.k}")
    if args.arrivals < 10:
        problems.append(f"--arrivals: need at least 10, got {args.arrivals}")
    if problems:
        raise InputError(problems)


def plot_queues(runs, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for run in runs:
        times, lengths = zip(*run.queue_trace)
        ax.step(times, lengths, where="post", label=f"{run.rate_per_s:.3g}/s")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("tasks waiting")
    ax.set_title("K-P-FCFS queue length")
    ax.legend(title="arrival rate")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    from ..simulation.assignment import (
        find_stable_rate,
        fluid_capacity,
        milp_window_capacity,
        simulate_assignment,
    )

    check_arguments(args)
    instance = load(args)
    if not instance.tasks:
        raise InputError("tasks: the dynamic run needs at least one task to draw from")
    fluid = fluid_capacity(instance)
    rates = parse_rates(args.rates, fluid)
    options = dict(k=args.k, rule=args.rule, arrivals=args.arrivals, seed=args.seed)
    runs = [simulate_assignment(instance, rate, **options) for rate in rates]
    stable = find_stable_rate(instance, start_per_s=fluid, **options)
    milp = None if args.no_milp else milp_window_capacity(instance, seed=args.seed)
    report = {
        "instance": instance.name,
        "k": args.k,
        "rule": args.rule,
        "runs": [r.summary() for r in runs],
        "stable_rate_per_s": [stable.lower_per_s, stable.upper_per_s],
        "fluid_capacity_per_s": fluid,
        "milp_window": None
        if milp is None
        else {"capacity_per_s": milp[0], "window_s": milp[1], "served": milp[2]},
    }
    if args.plot:
        plot_queues(runs, args.plot)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return EXIT_OK


def print_report(report: dict) -> None:
    from rich.table import Table

    table = Table(title=f"{report['instance']}: K-P-FCFS, K_q = {report['k']}, {report['rule']}")
    columns = ("rate /s", "throughput /s", "p50 ms", "p95 ms", "late", "mean queue", "final queue")
    for column in (*columns, "bounded"):
        table.add_column(column, justify="right")
    for run in report["runs"]:
        table.add_row(
            f"{run['rate_per_s']:.4g}",
            f"{run['throughput_per_s']:.4g}",
            f"{1e3 * run['p50_s']:.4g}",
            f"{1e3 * run['p95_s']:.4g}",
            str(run["late"]),
            f"{run['mean_queue']:.3g}",
            str(run["final_queue"]),
            "yes" if run["bounded"] else "no",
        )
    console.print(table)
    low, high = report["stable_rate_per_s"]
    console.print(f"largest bounded rate: between {low:.4g} and {high:.4g} tasks/s")
    console.print(f"fluid (LP) capacity of the task mix: {report['fluid_capacity_per_s']:.4g} /s")
    milp = report["milp_window"]
    if milp is not None:
        console.print(
            f"MILP max throughput over a {milp['window_s']:.3g} s window: {milp['served']} tasks "
            f"= {milp['capacity_per_s']:.4g} /s (it chooses whom to serve, so it favours small "
            "tasks)"
        )
