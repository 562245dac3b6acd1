"""``opt-offload bench admission``: time per solve of every admission backend by size.

For each n in ``--sizes`` (default 4, 8, 16, 32, 64), ``--instances`` seeded instances are
generated at the Table 3 settings (cases and bands alternating); each solver's median time per
solve is taken on each instance (:func:`opt_offload.benchmarks.median_time`, the solver call
alone, without the evaluator), and the median over the instances is reported with its ratio to
the threshold rules and the Pyomo path's ratio to it, all measured in the same run.

The row ``exact-shared`` is ``exact`` on the same instances read with ``queue.upload =
shared`` (queued uploads share the band); its ratio to ``exact`` is checked against the target
of at most 2x at n = 16 and 64. ``--slots subset-sum`` times the hard slots of
:func:`~opt_offload.generators.admission.subset_sum_slot` (near-equal ``p_i / u_i``) instead,
and for every solver the growth of its time with n between consecutive sizes is printed as
the exponent ``log(t2 / t1) / log(n2 / n1)``.

The row ``threshold-listed`` is the threshold rules with every pairwise crossing of their
lines listed (the piece search they use up to 128 lines), beside ``threshold``, which switches
to the kinetic piece search beyond that: the same decisions, timed in the same run.

The row ``highspy-round`` is one HiGHS MILP solve of the first outer-approximation model,
called through highspy directly (no Pyomo): a lower bound on the time of any exact path that
goes through HiGHS, which needs at least one such solve per cut round. It is why the fast exact
path is a branch-and-bound over the closed form rather than direct highspy.
"""

from __future__ import annotations

import argparse
import math
import statistics

from ..errors import InputError
from ..generators.admission import (
    BINDING_BANDWIDTH_HZ,
    TABLE3_BANDWIDTH_HZ,
    SlotSettings,
    generate_slot,
    with_upload,
)
from . import median_time

KIND = "admission"
DESCRIPTION = (
    "median time per solve of the admission backends for n = 4..64 candidates, with ratios "
    "to the threshold rules and the Pyomo path (same run)"
)
SOLVERS = "exact,exact-shared,threshold,exact-pyomo,exact-cvxpy,greedy,highspy-round"
HIGHS_ROUND = "highspy-round"
SHARED = "exact-shared"  # exact on the instance read with queue.upload = shared
LISTED = "threshold-listed"  # threshold with every crossing listed (the n^2 piece search)
TARGET_SHARED_RATIO = 2.0
# Targets of the issue for the fast exact path.
TARGET_MS = {16: 1.0, 64: 10.0}
TARGET_SPEEDUP_AT_16 = 20.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..cli.common import number_list

    parser.add_argument(
        "--sizes",
        type=number_list(1, 100_000, integer=True),
        default="4,8,16,32,64",
        help="candidate counts",
    )
    parser.add_argument("--instances", type=int, default=5, help="instances per size")
    parser.add_argument("--solvers", default=SOLVERS, help=f"default {SOLVERS}")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument(
        "--slots",
        choices=("generated", "subset-sum"),
        default="generated",
        help="Table 3 slots, or the hard subset-sum-shaped ones (near-equal gain/weight)",
    )
    parser.add_argument(
        "--min-total-s", type=float, default=0.2, help="time each measurement round fills"
    )


def bench_instances(n: int, count: int, seed: int, slots: str = "generated"):
    """Alternating the competitive / any cases and the Table 3 / binding bands (or the
    subset-sum-shaped slots)."""
    from ..generators.admission import subset_sum_slot

    for k in range(count):
        if slots == "subset-sum":
            yield subset_sum_slot(n, seed + 100 * n + k)
            continue
        settings = SlotSettings(
            candidates=n,
            case=("competitive", "any")[k % 2] if n >= 2 else "any",
            bandwidth_hz=(TABLE3_BANDWIDTH_HZ, BINDING_BANDWIDTH_HZ)[(k // 2) % 2],
        )
        yield generate_slot(settings, seed + 100 * n + k)


def time_solver(spec, instance, min_total_s: float, options: dict | None = None) -> float:
    parsed = spec.parse_options(options or {})
    return median_time(lambda: spec.function(instance, **parsed), min_total_s=min_total_s)


def highs_round_time(instance, min_total_s: float) -> float:
    """One HiGHS solve of the first outer-approximation MILP, read from an MPS file."""
    import os
    import tempfile

    import highspy

    from ..models.admission import SlotData, pyomo_model

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "round.mps")
        pyomo_model(SlotData.from_instance(instance)).write(path)
        highs.readModel(path)

    def solve_round():
        highs.clearSolver()
        highs.run()

    return median_time(solve_round, min_total_s=min_total_s)


def timer(name: str):
    """A function (instance, min_total_s) -> seconds per solve for a solver name or the
    highspy round."""
    from ..registry import get_solver

    if name == HIGHS_ROUND:
        return highs_round_time
    if name == SHARED:
        spec = get_solver(KIND, "exact")
        return lambda instance, min_total_s: time_solver(
            spec, with_upload(instance, "shared"), min_total_s
        )
    if name == LISTED:
        spec = get_solver(KIND, "threshold")
        listed = {"listed_lines": 10**9}
        return lambda instance, min_total_s: time_solver(spec, instance, min_total_s, listed)
    spec = get_solver(KIND, name)
    missing = spec.missing_backends()
    if missing:
        raise InputError(f"solver {spec.name!r} needs {', '.join(missing)}")
    return lambda instance, min_total_s: time_solver(spec, instance, min_total_s)


def measure(args: argparse.Namespace) -> dict[tuple[int, str], float]:
    sizes = args.sizes
    names = [name.strip() for name in args.solvers.split(",") if name.strip()]
    if args.instances < 1 or not sizes or min(sizes) < 1:
        raise InputError("--sizes and --instances: need positive numbers")
    timers = {name: timer(name) for name in names}
    times = {}
    for n in sizes:
        instances = list(bench_instances(n, args.instances, args.seed, args.slots))
        for name, time_one in timers.items():
            runs = [time_one(instance, args.min_total_s) for instance in instances]
            times[n, name] = statistics.median(runs)
    return times


def ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None or denominator == 0:
        return "-"
    return f"{numerator / denominator:.3g}"


def report(times: dict[tuple[int, str], float]) -> None:
    from rich.table import Table

    from ..console import console

    table = Table(title="admission: median time per solve (solver call, no evaluation)")
    for column in ("n", "solver", "median ms", "x threshold", "Pyomo / this"):
        table.add_column(column, justify="left" if column == "solver" else "right")
    for (n, name), seconds in times.items():
        table.add_row(
            str(n),
            name,
            f"{1e3 * seconds:.4g}",
            ratio(seconds, times.get((n, "threshold"))),
            ratio(times.get((n, "exact-pyomo")), seconds),
        )
    console.print(table)
    for line in growth_lines(times) + target_lines(times):
        console.print(line)


def growth_lines(times: dict[tuple[int, str], float]) -> list[str]:
    """Per solver, the exponent of its time's growth between consecutive sizes."""
    lines = []
    for name in dict.fromkeys(name for _, name in times):
        sizes = sorted(n for n, other in times if other == name)
        steps = [
            f"{n1}->{n2}: n^{math.log(times[n2, name] / times[n1, name]) / math.log(n2 / n1):.2f}"
            for n1, n2 in zip(sizes, sizes[1:])
            if times[n1, name] > 0 and times[n2, name] > 0
        ]
        if steps:
            lines.append(f"growth of {name}: " + ", ".join(steps))
    return lines


def target_lines(times: dict[tuple[int, str], float]) -> list[str]:
    """The speed targets for ``exact``, where this run measured what they need."""
    lines = []
    for n in (16, 64):
        if (n, "exact") in times and (n, SHARED) in times:
            shared_ratio = times[n, SHARED] / times[n, "exact"]
            verdict = "met" if shared_ratio <= TARGET_SHARED_RATIO else "NOT met"
            lines.append(
                f"target exact-shared <= {TARGET_SHARED_RATIO:g}x exact at n = {n}: "
                f"{shared_ratio:.3g}x, {verdict}"
            )
    for n, limit_ms in TARGET_MS.items():
        if (n, "exact") in times:
            ms = 1e3 * times[n, "exact"]
            verdict = "met" if ms <= limit_ms else "NOT met"
            lines.append(f"target exact <= {limit_ms:g} ms at n = {n}: {ms:.3g} ms, {verdict}")
    if (16, "exact") in times and (16, "exact-pyomo") in times:
        speedup = times[16, "exact-pyomo"] / times[16, "exact"]
        verdict = "met" if speedup >= TARGET_SPEEDUP_AT_16 else "NOT met"
        lines.append(
            f"target exact >= {TARGET_SPEEDUP_AT_16:g}x faster than exact-pyomo at n = 16: "
            f"{speedup:.3g}x, {verdict}"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    report(measure(args))
    return 0
