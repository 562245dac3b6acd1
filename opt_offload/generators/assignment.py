"""``opt-offload generate assignment``: edge/cloud assignment instances from the cost models
(design §5, §7; 003 paper eq. 1, Sec. 4.1).

Where the numbers come from (each preset below says which are the paper's and which are ours):

- servers: the 003 testbed (Sec. 4.1), an RTX 4090 cloud and GTX TITAN X edges, FLOP/s from
  :mod:`opt_offload.costs.devices`; an edge's model storage S_j is its TITAN X memory (12 GiB),
  except in ``random``, which draws it so that placements differ;
- models: Llama2-7B and -13B at int8 (Sec. 4.1.2: "we use the int8 precision model"), a third
  (Qwen2.5-Math-7B) where three are asked for; M_k = parameters x bytes per parameter
  (:mod:`opt_offload.costs.memory`), in GB of 1e9 bytes, like S_j;
- workload W_i: prefill of the prompt plus decode of the output tokens, architecture-exact
  (:func:`opt_offload.costs.flops.generation_flops`); prompt and output lengths are drawn
  uniformly, HumanEval-like (assumption: prompts of 50-400 tokens, outputs of 50-300);
- transmission Ltrans_ij: (prompt + output tokens) x 32 bits (PRADA eq. 25's bits per token)
  over the paper's 50 Mbit/s links, plus a round-trip time. The paper gives no RTTs; assumed:
  each task's user sits next to a home edge (5 ms), other edges are one hop further (15 ms),
  the cloud is far (40 ms), each drawn within +-20%;
- computation: ``computation_s: null``, i.e. W_i over the server's FLOP/s;
- compute budget Omega_j = FLOP/s x a horizon (the period (1d) covers), per preset;
- QoS bound L_max per preset, set so that the edges miss it for some of the larger tasks.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from ..costs.devices import (
    PAPER_LINK,
    RTX_4090_FLOPS,
    TITAN_X_FLOPS,
    TITAN_X_MEMORY,
)
from ..errors import InputError, lookup
from ..schemas import AssignmentInstance
from . import register_generator

GB = 1e9  # size_gb and storage_gb are in GB of 1e9 bytes
MODEL_PRESETS = ("llama2-7b", "llama2-13b", "qwen2.5-math-7b")
DTYPE = "int8"  # 003 Sec. 4.1
BITS_PER_TOKEN = 32  # PRADA eq. (25)
LINK_BIT_S = PAPER_LINK * 8  # 50 Mbit/s, 003 Sec. 4.1
PROMPT_TOKENS = (50, 400)  # assumption, HumanEval-like
OUTPUT_TOKENS = (50, 300)  # assumption
# Round-trip times (assumption, the paper gives none): home edge, another edge, the cloud.
RTT_HOME_S, RTT_EDGE_S, RTT_CLOUD_S = 0.005, 0.015, 0.040
RTT_JITTER = 0.2


@dataclass(frozen=True)
class AssignmentPreset:
    description: str
    tasks: int
    edges: int
    models: int
    latency_max_s: float | tuple[float, float]
    horizon_s: float | tuple[float, float]  # Omega_j = flops x horizon; a pair is a range
    edge_storage_gb: float | tuple[float, float]


PRESETS = {
    "testbed": AssignmentPreset(
        "003 Sec. 4.1 scale: 4 TITAN X edges + RTX 4090 cloud, Llama2-7B/13B int8, 40 tasks; "
        "L_max 1 s and a 1.5 s horizon (ours) make QoS and budgets bind",
        tasks=40,
        edges=4,
        models=2,
        latency_max_s=1.0,
        horizon_s=1.5,
        edge_storage_gb=TITAN_X_MEMORY / GB,
    ),
    "scale": AssignmentPreset(
        "issue 4 speed target: 1,000 tasks, 20 TITAN X edges + cloud, 3 models, placement free; "
        "a 40 s horizon (ours) leaves about a ninth of the tasks unserved",
        tasks=1000,
        edges=20,
        models=3,
        latency_max_s=1.0,
        horizon_s=40.0,
        edge_storage_gb=TITAN_X_MEMORY / GB,
    ),
    "random": AssignmentPreset(
        "small random instances for gap studies: 10 tasks, 2 edges, 2 models; L_max, the "
        "horizon and the edge storage drawn per instance",
        tasks=10,
        edges=2,
        models=2,
        latency_max_s=(0.5, 2.0),
        horizon_s=(0.3, 1.0),
        edge_storage_gb=(7.0, 22.0),
    ),
}


def draw(value: float | tuple[float, float], rng: np.random.Generator) -> float:
    """A preset number, or a uniform draw (rounded to 3 significant digits) from a range."""
    if isinstance(value, tuple):
        return float(f"{rng.uniform(*value):.3g}")
    return value


def model_records(count: int) -> list[dict]:
    from ..costs.configs import preset
    from ..costs.memory import weight_bytes

    return [
        {"id": f"{name}-{DTYPE}", "size_gb": round(weight_bytes(preset(name), DTYPE) / GB, 3)}
        for name in MODEL_PRESETS[:count]
    ]


def server_records(edges: int, horizon_s: float, storage: list[float]) -> list[dict]:
    cloud = {
        "id": "cloud",
        "cloud": True,
        "storage_gb": None,
        "flops": RTX_4090_FLOPS,
        "compute_budget_flop": RTX_4090_FLOPS * horizon_s,
    }
    return [cloud] + [
        {
            "id": f"edge-{j}",
            "cloud": False,
            "storage_gb": storage[j - 1],
            "flops": TITAN_X_FLOPS,
            "compute_budget_flop": TITAN_X_FLOPS * horizon_s,
        }
        for j in range(1, edges + 1)
    ]


def workload_flop(model_index: int, prompt: int, output: int) -> float:
    """W_i: prefill of the prompt, then decode of the output tokens (design §5)."""
    from ..costs.configs import preset
    from ..costs.flops import generation_flops

    return float(generation_flops(preset(MODEL_PRESETS[model_index]), prompt, output).total)


def transmission_row(
    tokens: int, home: int, servers: list[dict], rng: np.random.Generator
) -> dict[str, float]:
    """Ltrans_ij: the task's bits over the link plus the round trip to server j."""
    payload_s = tokens * BITS_PER_TOKEN / LINK_BIT_S
    row = {}
    for server in servers:
        if server["cloud"]:
            rtt = RTT_CLOUD_S
        else:
            rtt = RTT_HOME_S if server["id"] == f"edge-{home}" else RTT_EDGE_S
        jitter = rng.uniform(1 - RTT_JITTER, 1 + RTT_JITTER)
        row[server["id"]] = round(payload_s + rtt * jitter, 6)
    return row


def check_sizes(tasks: int, edges: int, models: int) -> None:
    problems = []
    if tasks < 0:
        problems.append(f"--tasks: must be at least 0, got {tasks}")
    if edges < 0:
        problems.append(f"--edges: must be at least 0, got {edges}")
    if not 1 <= models <= len(MODEL_PRESETS):
        problems.append(f"--models: must lie in 1..{len(MODEL_PRESETS)}, got {models}")
    if problems:
        raise InputError(problems)


def generate_assignment(
    *,
    preset: str = "testbed",
    seed: int = 0,
    tasks: int | None = None,
    edges: int | None = None,
    models: int | None = None,
) -> AssignmentInstance:
    """An assignment instance of the named preset; ``tasks``/``edges``/``models`` override its
    sizes. Same arguments, same instance (and the same bytes through ``opt_offload.io.to_json``).
    """
    from ..io import parse_instance

    spec = lookup(PRESETS, preset, "--preset: assignment preset")
    n_tasks = spec.tasks if tasks is None else tasks
    n_edges = spec.edges if edges is None else edges
    n_models = spec.models if models is None else models
    check_sizes(n_tasks, n_edges, n_models)
    rng = np.random.default_rng(seed)
    latency_max = draw(spec.latency_max_s, rng)
    horizon = draw(spec.horizon_s, rng)
    storage = [draw(spec.edge_storage_gb, rng) for _ in range(n_edges)]
    model_list = model_records(n_models)
    servers = server_records(n_edges, horizon, storage)
    task_list, transmission = [], {}
    for i in range(1, n_tasks + 1):
        k = int(rng.integers(n_models))
        prompt = int(rng.integers(PROMPT_TOKENS[0], PROMPT_TOKENS[1] + 1))
        output = int(rng.integers(OUTPUT_TOKENS[0], OUTPUT_TOKENS[1] + 1))
        home = int(rng.integers(1, n_edges + 1)) if n_edges else 0
        task_id = f"t{i}"
        task_list.append(
            {
                "id": task_id,
                "model": model_list[k]["id"],
                "workload_flop": workload_flop(k, prompt, output),
            }
        )
        transmission[task_id] = transmission_row(prompt + output, home, servers, rng)
    overrides = {"tasks": tasks, "edges": edges, "models": models}
    given = {k: v for k, v in overrides.items() if v is not None}
    sizes = f"-{n_tasks}x{n_edges}x{n_models}" if given else ""
    command = f"opt-offload generate assignment --preset {preset} --seed {seed}" + "".join(
        f" --{k} {v}" for k, v in given.items()
    )
    document = {
        "kind": "assignment",
        "version": 1,
        "name": f"{preset}{sizes}-s{seed}",
        "comment": (
            f"{command}: {spec.description}. "
            f"{n_tasks} tasks, {n_edges} edges + cloud, {n_models} models; L_max {latency_max} s, "
            f"horizon {horizon} s (Omega_j = FLOP/s x horizon)."
        ),
        "variant": "admission",
        "latency_max_s": latency_max,
        "models": model_list,
        "servers": servers,
        "tasks": task_list,
        "transmission_s": transmission,
        "computation_s": None,
        "placement": None,
    }
    return parse_instance(document, "generate assignment")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset", default="testbed", help=f"instance preset ({', '.join(PRESETS)})"
    )
    from ..cli.common import number

    parser.add_argument(
        "--tasks",
        type=number(0, 1_000_000, integer=True),
        help="number of tasks (preset's by default)",
    )
    parser.add_argument(
        "--edges",
        type=number(0, 10_000, integer=True),
        help="number of edge servers (preset's by default)",
    )
    parser.add_argument(
        "--models",
        type=number(1, len(MODEL_PRESETS), integer=True),
        help=f"number of models, 1..{len(MODEL_PRESETS)} (preset's)",
    )


register_generator(
    "assignment",
    description="edge/cloud assignment: 003 testbed servers, Llama2 int8 tasks, FLOPs model",
    add_arguments=add_arguments,
)(generate_assignment)
