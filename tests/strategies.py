"""Hypothesis strategies producing valid instances of every kind (design §9)."""

from __future__ import annotations

from hypothesis import strategies as st

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
positive = st.floats(min_value=1.0, max_value=1e12, allow_nan=False, allow_infinity=False)
non_negative = st.floats(min_value=0.0, max_value=1e12, allow_nan=False, allow_infinity=False)
small_positive = st.floats(min_value=1e-4, max_value=10.0)


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


@st.composite
def admission_documents(draw, max_candidates: int = 6, delay: str | None = None) -> dict:
    capacity = draw(st.integers(1, 12))
    busy = draw(st.lists(small_positive, max_size=capacity))
    mode = delay or draw(st.sampled_from(["given", "estimate"]))
    n = draw(st.integers(0, max_candidates))
    candidates = []
    for ident in ids("u", n):
        candidate = {
            "id": ident,
            "context_tokens": draw(st.integers(1, 4096)),
            "snr_db": draw(st.floats(-10.0, 40.0)),
            "waited_s": draw(st.floats(0.0, 1.0)),
            "server_time_s": draw(st.floats(0.0, 0.1)),
            "gain": draw(st.floats(-1.0, 2.0)),
        }
        if mode == "given" or draw(st.booleans()):
            candidate["queue_delay_s"] = draw(st.floats(0.0, 0.1))
        candidates.append(candidate)
    return {
        "kind": "admission",
        "version": 1,
        "name": draw(st.sampled_from(["slot", "slot-0042", "x"])),
        "server": {"capacity": capacity, "busy_remaining_s": busy},
        "bandwidth_hz": draw(st.floats(1e5, 1e9)),
        "beta": draw(st.floats(0.0, 50.0)),
        "snr_threshold_db": draw(st.floats(-5.0, 5.0)),
        "bits_per_token": 32,
        "queue": {
            "delay": mode,
            "reference_bandwidth_hz": draw(st.none() | st.floats(1e5, 1e9)),
        },
        "candidates": candidates,
    }


@st.composite
def assignment_documents(draw, max_tasks: int = 6) -> dict:
    n_models = draw(st.integers(1, 3))
    models = [{"id": m, "size_gb": draw(st.floats(0.5, 20.0))} for m in ids("m", n_models)]
    n_edges = draw(st.integers(0, 3))
    servers = [
        {
            "id": "cloud",
            "cloud": True,
            "storage_gb": None,
            "flops": draw(positive),
            "compute_budget_flop": draw(st.none() | non_negative),
        }
    ]
    servers += [
        {
            "id": e,
            "cloud": False,
            "storage_gb": draw(st.floats(0.0, 40.0)),
            "flops": draw(positive),
            "compute_budget_flop": draw(st.none() | non_negative),
        }
        for e in ids("e", n_edges)
    ]
    server_ids = [s["id"] for s in servers]
    tasks = [
        {
            "id": t,
            "model": draw(st.sampled_from([m["id"] for m in models])),
            "workload_flop": draw(non_negative),
            "workload_flop_by_server": None,
        }
        for t in ids("t", draw(st.integers(0, max_tasks)))
    ]
    matrix = st.fixed_dictionaries({s: st.floats(0.0, 5.0) for s in server_ids})
    return {
        "kind": "assignment",
        "version": 1,
        "name": "gen",
        "variant": draw(st.sampled_from(["strict", "admission"])),
        "latency_max_s": draw(st.none() | st.floats(0.01, 10.0)),
        "objective": {
            "mode": draw(st.sampled_from(["lexicographic", "weighted"])),
            "weights": {"throughput": 1.0, "latency": draw(st.floats(0.0, 1.0))},
        },
        "models": models,
        "servers": servers,
        "tasks": tasks,
        "transmission_s": {t["id"]: draw(matrix) for t in tasks},
        "computation_s": None,
        "placement": None,
    }


@st.composite
def placement_documents(draw, max_nodes: int = 6, max_devices: int = 3) -> dict:
    device_ids = ids("d", draw(st.integers(1, max_devices)))
    node_ids = ids("n", draw(st.integers(1, max_nodes)))
    memory = draw(st.floats(10.0, 1e6))
    nodes = [
        {
            "id": n,
            "bytes": draw(st.floats(0.0, memory)),
            "flop": draw(st.floats(0.0, 1e9)),
            "accessed_by": draw(st.lists(st.sampled_from(device_ids), unique=True)),
        }
        for n in node_ids
    ]
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(node_ids), st.sampled_from(node_ids)), unique=True, max_size=8
        )
    )
    edges = [{"source": u, "target": v, "bytes": draw(st.floats(0.0, 1e6))} for u, v in pairs]
    return {
        "kind": "placement",
        "version": 1,
        "name": "gen",
        "objective": draw(st.sampled_from(["graph", "paper"])),
        "devices": [{"id": d, "memory_bytes": memory, "flops": draw(positive)} for d in device_ids],
        "bandwidth_bytes_per_s": {
            d1: {d2: draw(st.floats(1.0, 1e9)) for d2 in device_ids if d2 != d1}
            for d1 in device_ids
        },
        "graph": {"directed": True, "nodes": nodes, "edges": edges},
        "pinned": {},
    }


def documents() -> st.SearchStrategy[dict]:
    return admission_documents() | assignment_documents() | placement_documents()
