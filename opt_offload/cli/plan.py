"""``opt-offload plan``: the edge server's pipeline plan of eq. (3) (003 paper Sec. 3.1.2)."""

from __future__ import annotations

import argparse
import time

from rich.table import Table

from ..costs.configs import DTYPE_BYTES, PRESETS, load_hf_config, preset
from ..costs.devices import DEVICE_PRESETS, device_preset
from ..errors import InputError
from ..io import dumps_strict, load_instance, load_solution
from ..pipeline import PlanProblem, PlanResult, most_blocks_that_fit, plan_pipeline
from .common import EXIT_NO_SOLUTION, EXIT_OK, console, number

# The search enumerates about N^2 K plans (N = --batch): these keep it within seconds.
MAX_BATCH = 256
MAX_CANDIDATES = 64
TOKENS = number(1, 10_000_000, integer=True)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="plan micro-batches and speculative candidates on an edge server (eq. 3)",
        description="Choose the prefill and decode micro-batch sizes, the draft batch and the "
        "number of speculative candidates that minimise the latency of a batch under the edge "
        "server's memory (003 paper eq. 3), by exact enumeration over a roofline latency model.",
    )
    parser.add_argument("--model", default="llama2-13b", help=f"target ({', '.join(PRESETS)})")
    parser.add_argument("--config", metavar="FILE", help="target from a Hugging Face config.json")
    parser.add_argument("--draft", default="llama-68m", help="draft model preset")
    parser.add_argument("--devices", default="paper-testbed", help=", ".join(DEVICE_PRESETS))
    parser.add_argument("--edge", help="the planning device (default: the preset's home)")
    parser.add_argument(
        "--remote", help="the device running the other blocks (default: the most FLOP/s)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--local-layers", type=int, help="target blocks on the edge (default: all that fit)"
    )
    where.add_argument(
        "--placement",
        nargs=2,
        metavar=("INSTANCE", "SOLUTION"),
        help="read X*: the share of the target's block bytes the solution puts on the edge",
    )
    parser.add_argument(
        "--batch",
        type=number(1, MAX_BATCH, integer=True),
        default=8,
        help="N, requests in the batch (8)",
    )
    parser.add_argument("--prompt", type=TOKENS, default=512, help="L, prompt tokens (512)")
    parser.add_argument(
        "--new-tokens", type=TOKENS, default=128, help="G, tokens to generate (128)"
    )
    parser.add_argument("--dtype", choices=tuple(DTYPE_BYTES), default="int8")
    parser.add_argument(
        "--acceptance", type=number(0, 1), default=0.7, help="draft token acceptance rate (0.7)"
    )
    parser.add_argument(
        "--max-candidates",
        type=number(1, MAX_CANDIDATES, integer=True),
        default=8,
        help="K, largest k_cand (8)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=run)


def placed_fraction(instance_path: str, solution_path: str, edge: str) -> float:
    """Share of the target's decoder-block bytes that the placement keeps on ``edge``
    (generated instances number layers 0 embedding, 1..n blocks, n + 1 head)."""
    instance, solution = load_instance(instance_path), load_solution(solution_path)
    if instance.kind != "placement" or not solution.has_decisions:
        raise InputError("--placement: needs a placement instance and a solution with decisions")
    target = [n for n in instance.graph.nodes if n.model == "target" and n.layer is not None]
    head = max((n.layer for n in target), default=0)
    blocks = [n for n in target if 1 <= n.layer < head]
    total = sum(n.bytes for n in blocks)
    if not total:
        raise InputError("--placement: the instance has no target decoder blocks")
    return sum(n.bytes for n in blocks if solution.decisions.get(n.id) == edge) / total


def problem_from(args: argparse.Namespace) -> PlanProblem:
    devices = device_preset(args.devices)
    edge = devices.device(args.edge or devices.home)
    others = [d for d in devices.devices if d.id != edge.id]
    remote = devices.device(args.remote) if args.remote else max(others, key=lambda d: d.flops)
    target = load_hf_config(args.config) if args.config else preset(args.model)
    common = dict(
        target=target,
        draft=preset(args.draft),
        edge=edge,
        remote=remote,
        link_bytes_per_s=devices.bandwidth[edge.id][remote.id],
        batch=args.batch,
        prompt=args.prompt,
        new_tokens=args.new_tokens,
        dtype=args.dtype,
        acceptance=args.acceptance,
        max_candidates=args.max_candidates,
    )
    try:
        if args.placement:
            return PlanProblem(local_fraction=placed_fraction(*args.placement, edge.id), **common)
        if args.local_layers is not None:
            return PlanProblem(local_fraction=args.local_layers / target.num_layers, **common)
        return most_blocks_that_fit(PlanProblem(local_fraction=1.0, **common))
    except ValueError as exc:
        raise InputError(f"plan: {exc}") from None


def run(args: argparse.Namespace) -> int:
    problem = problem_from(args)
    start = time.perf_counter()
    result = plan_pipeline(problem)
    seconds = time.perf_counter() - start
    if args.json:
        extra = {"local_fraction": problem.local_fraction, "search_s": seconds}
        print(dumps_strict({**result.as_dict(), **extra}, indent=2))
    else:
        console.print(plan_table(problem, result, seconds))
    return EXIT_OK if result.plan else EXIT_NO_SOLUTION


def plan_table(problem: PlanProblem, result: PlanResult, seconds: float) -> Table:
    p = problem
    rows = [
        ("edge / remote", f"{p.edge.id} / {p.remote.id}"),
        ("target blocks on the edge", f"{p.local_fraction:.1%}"),
        ("batch N, prompt L, new G", f"{p.batch}, {p.prompt}, {p.new_tokens}"),
        ("plans N^3 K", f"{result.space_size} ({result.evaluations} evaluated)"),
        ("search time", f"{1e3 * seconds:.1f} ms"),
    ]
    if result.plan is None:
        rows.append(("plan", "none fits the edge's memory (3b)"))
    else:
        plan, cost = result.plan, result.cost
        rounds = f"{cost.rounds:.1f} rounds"
        memory = f"{cost.memory_bytes / 1e9:.3f} / {cost.memory_limit_bytes / 1e9:.3f} GB"
        rows += [
            ("mu_pref, mu_dec", f"{plan.micro_prefill}, {plan.micro_decode}"),
            ("b_draft, k_cand", f"{plan.draft_batch}, {plan.candidates}"),
            ("latency", f"{1e3 * cost.latency_s:.1f} ms"),
            ("prefill / decode", f"{1e3 * cost.prefill_s:.1f} / {1e3 * cost.decode_s:.1f} ms"),
            ("decode rounds", rounds),
            ("memory Req / C_edge", memory),
        ]
    table = Table(title="pipeline plan (eq. 3)", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for row in rows:
        table.add_row(*row)
    return table
