"""``opt-offload bench admission-gap``: the gap of the threshold rules (and the baselines) to the
exact optimum on generated instances, by case of Theorem 2 (the issue's gap study).

Instances are generated at the Table 3 settings with the case forced in turn (abundant,
competitive, server full, any), the Table 3 and the binding band alternating, one candidate in
outage in every fifth, and n cycling over 1..``--max-candidates`` (at most M = 9 when
abundant). Every solver is judged by the evaluator; the gap is design §2's
``(exact - value) / max(|exact|, eps)``. The case reported is the one the threshold rules see
(candidates in outage do not compete for slots, so a forced 'competitive' slot may be abundant).

``--upload`` reads every slot as ``queue.upload = priced`` and/or ``shared`` (the solver label
then carries the reading, e.g. ``threshold/shared``), the same slots for both. With
``--queue estimate --reference exact-joint`` the gaps are to the joint optimum of mode
``estimate`` and ``exact`` (its queue-delay fixed point) is reported beside the threshold
rules; the share of slots where the joint solver proved optimality is printed under the table.
"""

from __future__ import annotations

import argparse
import statistics

from ..compare import against, relative_gap
from ..errors import InputError
from ..generators.admission import (
    BINDING_BANDWIDTH_HZ,
    CAPACITY,
    TABLE3_BANDWIDTH_HZ,
    SlotSettings,
    generate_slot,
    with_upload,
)

KIND = "admission-gap"
DESCRIPTION = "gap of the threshold rules and baselines to the exact optimum, by Theorem 2 case"
FORCED = ("abundant", "competitive", "server-full", "any")
# solver label -> (registry name, options)
SOLVERS = {
    "threshold": ("threshold", {}),
    "verbatim": ("threshold", {"zero_price_check": False, "queue_upload": "paper"}),
    "greedy": ("greedy", {}),
    "random": ("random", {}),
}
ZERO_GAP = 1e-9


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--max-candidates", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--queue", choices=("given", "estimate"), default="given")
    parser.add_argument(
        "--upload",
        default="priced,shared",
        help="readings of a queued upload, comma-separated: priced, shared",
    )
    parser.add_argument(
        "--reference",
        choices=("exact", "enumerate", "exact-joint"),
        default="exact",
        help="what the gaps are measured against; 'enumerate' (n <= 10) also reports "
        "'exact', e.g. its queue-delay fixed point against enumeration with --queue estimate",
    )
    parser.add_argument("--csv", metavar="PATH", help="one row per instance and solver")


def study_settings(k: int, max_candidates: int, queue: str) -> SlotSettings:
    forced = FORCED[k % 4]
    n = 1 + (k // 4) % max_candidates
    if forced == "abundant":
        n = min(n, CAPACITY)
    if forced == "competitive":
        n = max(n, 2)
    return SlotSettings(
        candidates=n,
        case=forced,
        bandwidth_hz=(TABLE3_BANDWIDTH_HZ, BINDING_BANDWIDTH_HZ)[(k // 2) % 2],
        outage=k % 5 == 0,
        queue=queue,
    )


def study_rows(args: argparse.Namespace) -> list[dict]:
    if args.instances < 1 or args.max_candidates < 1:
        raise InputError("--instances and --max-candidates: need positive numbers")
    solvers = dict(SOLVERS)
    if args.reference != "exact":
        solvers["exact"] = ("exact", {})
    readings = [r.strip() for r in args.upload.split(",") if r.strip()]
    if not readings or set(readings) - {"priced", "shared"}:
        raise InputError("--upload: priced, shared or both, comma-separated")
    rows = []
    for k in range(args.instances):
        settings = study_settings(k, args.max_candidates, args.queue)
        for reading in readings:
            instance = with_upload(generate_slot(settings, args.seed + k), reading)
            label = "" if len(readings) == 1 else "/" + reading
            rows += slot_rows(instance, settings, solvers, args.reference, label)
    return rows


def slot_rows(instance, settings: SlotSettings, solvers: dict, reference: str, label: str):
    """One row per solver on one slot, the gap to the reference."""
    from ..models.admission import SlotData
    from ..solve import solve
    from ..solvers.admission.threshold import case_of

    rows = []
    exact = solve(instance, reference)
    case = case_of(SlotData.from_instance(instance))
    band = "table3" if settings.bandwidth_hz == TABLE3_BANDWIDTH_HZ else "binding"
    for solver_label, (name, options) in solvers.items():
        solution = solve(instance, name, **options)
        rows.append(
            {
                "instance": instance.name,
                "case": case,
                "bandwidth": band,
                "candidates": len(instance.candidates),
                "solver": solver_label + label,
                "reference_status": exact.status.value,
                "exact": exact.objective,
                "objective": solution.objective,
                "gap": relative_gap(exact.objective, solution.objective, "max"),
                "abs_gap": exact.objective - solution.objective,
                "against": against(exact),
                "reference_gap": exact.gap,
            }
        )
    return rows


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(rows: list[dict]) -> list[dict]:
    """Per solver and case: count, share at the optimum, relative gap quantiles (%), and the
    worst absolute gap (value units; the relative gap explodes where the optimum is near 0)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        for case in (row["case"], "all"):
            groups.setdefault((row["solver"], case), []).append(row)
    entries = []
    order = {case: k for k, case in enumerate(("abundant", "competitive", "server-full", "all"))}
    for (solver, case), mine in sorted(groups.items(), key=lambda g: (g[0][0], order[g[0][1]])):
        gaps = [100.0 * r["gap"] for r in mine]
        entries.append(
            {
                "solver": solver,
                "case": case,
                "n": len(mine),
                "at opt %": 100.0 * sum(r["gap"] <= ZERO_GAP for r in mine) / len(mine),
                "mean %": statistics.fmean(gaps),
                "median %": statistics.median(gaps),
                "p90 %": quantile(gaps, 0.9),
                "max %": max(gaps),
                "max abs": max(r["abs_gap"] for r in mine),
            }
        )
    return entries


def run(args: argparse.Namespace) -> int:
    from ..console import console
    from ..io import csv_text, write_output
    from ..report import records_table

    rows = study_rows(args)
    entries = summary(rows)
    proven = all(r["against"] == "optimum" for r in rows)
    to = "the proven optimum" if proven else "the best known value"
    title = f"gap to {to} ({args.reference}), {args.instances} instances, queue delays {args.queue}"
    console.print(records_table(title, entries, ("solver", "case"), 4))
    slots = {(r["instance"], r["solver"].partition("/")[2]): r["reference_status"] for r in rows}
    optimal = sum(status == "optimal" for status in slots.values())
    console.print(f"reference {args.reference} proved optimal on {optimal} of {len(slots)} slots")
    if args.csv:
        write_output(args.csv, csv_text(rows))
        console.print(f"{len(rows)} rows written to {args.csv}")
    return 0
