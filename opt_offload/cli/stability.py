"""``opt-offload stability``: dynamic K-Priority FCFS on an assignment instance's task mix, a
table of arrival rate -> throughput, p95 latency, queue, bounded?; the largest bounded rate
(bisection) against the fluid (LP) and MILP-window capacities (design §5, 003 Sec. 3.3)."""

from __future__ import annotations

import argparse
import itertools
import math

from ..errors import InputError
from ..io import PLOT_FORMATS, check_output, dumps_strict, save_figure
from ..solvers.assignment.kpfcfs import RULES
from .common import EXIT_OK, console, number

MAX_RATE_PER_S = 1e9
MAX_ARRIVALS = 1_000_000  # per run; the runs keep every arrival's record
MAX_RATES = 100


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
    source = parser.add_mutually_exclusive_group()
    source.add_argument("file", nargs="?", help="assignment instance (JSON/YAML)")
    source.add_argument(
        "--preset",
        help="generate the instance: testbed, scale, random; with a trace, its servers: "
        "testbed (default) or scale",
    )
    parser.add_argument("--rule", choices=RULES, default="fcfs", help="priority rule (fcfs)")
    parser.add_argument(
        "--k", type=number(1, 10_000, integer=True), default=1, help="look-ahead window K_q (1)"
    )
    parser.add_argument(
        "--rates",
        help="comma-separated arrival rates, tasks/s (default: 0.5, 0.8, 1.0, 1.2, 2.0 x the "
        "fluid capacity)",
    )
    parser.add_argument(
        "--arrivals",
        default="2000",
        metavar="N|trace:FILE",
        help="Poisson arrivals per run (2000), or trace:FILE to replay a trace's requests",
    )
    parser.add_argument(
        "--seed", type=number(0, integer=True), default=0, help="seed of arrivals and instance (0)"
    )
    parser.add_argument(
        "--no-milp", action="store_true", help="skip the MILP window capacity (needs HiGHS)"
    )
    parser.add_argument("--plot", metavar="FILE.png", help="queue length over time per rate")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    add_trace_arguments(parser)
    parser.set_defaults(run=run)


def add_trace_arguments(parser: argparse.ArgumentParser) -> None:
    from ..simulation.replay import DEFAULT_POLICIES
    from .trace_options import add_window_arguments

    group = parser.add_argument_group(
        "trace replay (--arrivals trace:FILE)",
        "The trace window's requests are the tasks (as `import azure-llm-trace` builds them) "
        "and arrive at their own times, at each --speedups factor, under each of --policies; "
        "prints the serving metrics (goodput within L_max, output tokens/s, p50/p90/p99 "
        "latency, queue). --plot draws goodput and p99 against load per policy.",
    )
    add_window_arguments(group, speedup=False)
    group.add_argument("--speedups", default="1,2", help="load factors to replay at (1,2)")
    group.add_argument(
        "--policies",
        default=DEFAULT_POLICIES,
        help="kpfcfs:RULE:K, kpfcfs-drop:RULE:K, milp:W, comma-separated (every rule at K_q "
        "1, 4, 16; kpfcfs-drop:fcfs:16; milp:1)",
    )
    group.add_argument("--model", default="llama2-7b", help="model of every request (llama2-7b)")
    group.add_argument("--latency-max", type=float, metavar="S", help="L_max in seconds (4)")
    group.add_argument(
        "--milp-time-limit", type=float, metavar="S", help="per-window limit (W / 2)"
    )
    group.add_argument("--queue-plot", metavar="FILE.png", help="queue length over time")
    group.add_argument(
        "--trace-plot", metavar="FILE.png", help="the trace: arrival rate and token histograms"
    )


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
    if not 0 < len(rates) <= MAX_RATES:
        raise InputError(f"--rates: between 1 and {MAX_RATES} rates, got {len(rates)}")
    if not all(math.isfinite(r) and 0 < r <= MAX_RATE_PER_S for r in rates):
        raise InputError(f"--rates: every rate must lie in (0, {MAX_RATE_PER_S:g}], got {text!r}")
    return rates


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
    save_figure(fig, path, dpi=90)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    from ..simulation.assignment import (
        find_stable_rate,
        fluid_capacity,
        milp_window_capacity,
        simulate_assignment,
    )
    from .trace_options import trace_spec

    for flag in ("plot", "queue_plot", "trace_plot"):
        if getattr(args, flag, None):
            check_output(
                getattr(args, flag),
                flag="--" + flag.replace("_", "-"),
                inputs=[args.file] if args.file else [],
                formats=PLOT_FORMATS,
            )
    if args.arrivals.startswith("trace:"):
        return run_replay(args, trace_spec(args))
    try:
        args.arrivals = int(args.arrivals)
    except ValueError:
        raise InputError(
            f"--arrivals: expected a count of Poisson arrivals or trace:FILE, got {args.arrivals!r}"
        ) from None
    trace_spec(argparse.Namespace(**{**vars(args), "arrivals": "poisson"}))  # no window options
    if not (args.file or args.preset):
        raise InputError("stability: give an instance FILE, --preset or --arrivals trace:FILE")
    if not 10 <= args.arrivals <= MAX_ARRIVALS:
        raise InputError(f"--arrivals: between 10 and {MAX_ARRIVALS}, got {args.arrivals}")
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
        print(dumps_strict(report, indent=2))
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


def parse_speedups(text: str) -> list[float]:
    try:
        speedups = [float(part) for part in text.split(",")]
    except ValueError:
        raise InputError(
            f"--speedups: expected numbers separated by commas, got {text!r}"
        ) from None
    if not speedups or not all(math.isfinite(x) and x > 0 for x in speedups):
        raise InputError(f"--speedups: every factor must be a finite number > 0, got {text!r}")
    return speedups


def run_replay(args: argparse.Namespace, spec) -> int:
    from ..plots.serving import load_figure, queue_figure, trace_figure
    from ..simulation.replay import parse_policies, replay_study
    from .simulate import progress_bar

    if args.file:
        raise InputError("stability: FILE and --arrivals trace:FILE exclude each other")
    speedups = parse_speedups(args.speedups)
    policies = parse_policies(args.policies)
    spec.read()  # bad trace input fails here, before any run
    with progress_bar("replays", len(speedups) * len(policies)) as show:
        finished = itertools.count(1)
        runs = replay_study(
            spec,
            speedups,
            policies,
            preset=args.preset or "testbed",
            model=args.model,
            latency_max_s=args.latency_max,
            milp_time_limit=args.milp_time_limit,
            done=lambda: show(next(finished)),
        )
    report = {
        "trace": spec.path,
        "start_s": spec.start_s,
        "window_s": spec.window_s,
        "limit": spec.limit,
        "preset": args.preset or "testbed",
        "model": args.model,
        "runs": [run.as_dict() for run in runs],
    }
    if args.plot:
        load_figure(report["runs"], args.plot, title=f"{spec.path}: serving against load")
    if args.trace_plot:
        trace_figure([spec.read()], args.trace_plot)
    if args.queue_plot:
        queue_figure(report["runs"], args.queue_plot, title=f"{spec.path}: requests waiting")
    if args.json:
        print(dumps_strict(report, indent=2))
    else:
        print_replay(report)
    return EXIT_OK


def print_replay(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{report['trace']} on {report['preset']}: serving metrics per policy")
    columns = (
        "load",
        "policy",
        "arrived",
        "goodput %",
        "good /s",
        "tokens /s",
        "p50 s",
        "p90 s",
        "p99 s",
        "mean queue",
        "max queue",
        "dropped",
        "rejected",
        "wall s",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "policy" else "right")
    for run in report["runs"]:
        table.add_row(
            f"{run['speedup']:g}x",
            run["policy"],
            str(run["arrived"]),
            f"{100 * run['goodput_fraction']:.1f}",
            f"{run['goodput_per_s']:.3g}",
            f"{run['output_tokens_per_s']:.4g}",
            f"{run['p50_s']:.3g}",
            f"{run['p90_s']:.3g}",
            f"{run['p99_s']:.3g}",
            f"{run['mean_queue']:.3g}",
            str(run["max_queue"]),
            str(run["dropped"]),
            str(run["rejected"]),
            f"{run['wall_s']:.2f}",
        )
    Console(highlight=False, width=200).print(table)
