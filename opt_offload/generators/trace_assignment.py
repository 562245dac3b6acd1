"""Assignment instances from a window of a real trace (``opt-offload import azure-llm-trace``):
the window's requests become the tasks, on the servers of an ``assignment`` preset (design §5,
§7).

Where the numbers come from:

- tasks: one per request, id ``r<line of the file>``, all of one model (``--model``, Llama2-7B
  int8 by default, as in 003 Sec. 4.1.2);
- workload W_i: prefill of the request's prompt plus decode of its generated tokens,
  architecture-exact (:func:`opt_offload.costs.flops.generation_flops_total`);
- servers: the preset's (``testbed``: 4 TITAN X edges + an RTX 4090 cloud; ``scale``: 20 edges
  + cloud), edge storage 12 GiB, as :mod:`opt_offload.generators.assignment` builds them;
- compute budgets Omega_j = FLOP/s x the window's duration (what each server can compute while
  the window's requests arrive);
- transmission Ltrans_ij: (prompt + generated tokens) x 32 bits over the 50 Mbit/s link plus the
  round trip, each request's user next to a home edge drawn uniformly (seeded), as in the
  generator (the trace says nothing of where users are);
- QoS rule: one end-to-end bound L_max for every request, 4 s unless given. Our choice: the
  cloud meets it for all but the longest prompts, a TITAN X edge for a median conversation
  request (about 2.4 s) but not for a prompt of several thousand tokens, so (1e) binds;
- placement free (``null``): the MILP chooses y, K-P-FCFS its greedy placement.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..costs.devices import TITAN_X_MEMORY
from ..errors import lookup
from ..importers.azure_llm_trace import Trace
from ..schemas import AssignmentInstance
from .assignment import DTYPE, GB, MODEL_PRESETS, PRESETS, server_records, transmission_row

TRACE_PRESETS = ("testbed", "scale")
LATENCY_MAX_S = 4.0


def request_workloads(trace: Trace, model: str) -> np.ndarray:
    """W_i of every request: prefill of its prompt plus decode of its output (design §7)."""
    from ..costs.configs import preset
    from ..costs.flops import generation_flops_total

    return generation_flops_total(preset(model), trace.prompt_tokens, trace.generated_tokens)


def model_record(model: str) -> dict:
    from ..costs.configs import preset
    from ..costs.memory import weight_bytes

    return {"id": f"{model}-{DTYPE}", "size_gb": round(weight_bytes(preset(model), DTYPE) / GB, 3)}


def trace_assignment(
    trace: Trace,
    *,
    preset: str = "testbed",
    model: str = "llama2-7b",
    latency_max_s: float | None = None,
    seed: int = 0,
) -> AssignmentInstance:
    """The assignment instance of a trace window (same arguments, same instance)."""
    from ..errors import InputError
    from ..io import parse_instance

    spec = lookup({p: PRESETS[p] for p in TRACE_PRESETS}, preset, "--preset: trace preset")
    lookup({m: m for m in MODEL_PRESETS}, model, "--model: model")
    bound = LATENCY_MAX_S if latency_max_s is None else latency_max_s
    if not (np.isfinite(bound) and bound > 0):
        raise InputError(f"--latency-max: must be a finite number > 0, got {bound}")
    horizon = max(trace.duration_s, 1e-3)  # a one-request window still gets a budget
    rng = np.random.default_rng(seed)
    servers = server_records(spec.edges, horizon, [TITAN_X_MEMORY / GB] * spec.edges)
    kind = model_record(model)
    workloads = request_workloads(trace, model)
    homes = rng.integers(1, spec.edges + 1, size=len(trace)) if spec.edges else [0] * len(trace)
    tasks, transmission = [], {}
    for request, work, home in zip(trace.requests, workloads.tolist(), homes):
        task_id = f"r{request.line}"
        tasks.append({"id": task_id, "model": kind["id"], "workload_flop": work})
        transmission[task_id] = transmission_row(request.tokens, int(home), servers, rng)
    document = {
        "kind": "assignment",
        "version": 1,
        "name": f"{trace.name}-{preset}",
        "comment": (
            f"{len(trace)} requests of {Path(trace.source).name} from {trace.start_s:g} s"
            + ("" if trace.window_s is None else f" for {trace.window_s:g} s")
            + f" at {trace.speedup:g}x; {model} int8 on the {preset} servers "
            f"({spec.edges} edges + cloud); Omega_j = FLOP/s x {horizon:.6g} s; "
            f"L_max {bound:g} s. Trace: Patel et al., Splitwise, ISCA 2024 (CC BY 4.0)."
        ),
        "variant": "admission",
        "latency_max_s": bound,
        "models": [kind],
        "servers": servers,
        "tasks": tasks,
        "transmission_s": transmission,
        "computation_s": None,
        "placement": None,
    }
    return parse_instance(document, trace.name)
