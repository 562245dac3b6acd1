"""The three evaluators on hand-computed examples, and their properties (design §4-§6)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from opt_offload.evaluate import evaluate
from opt_offload.io import load_instance, parse_instance

from .conftest import INSTANCES
from .strategies import admission_documents, assignment_documents, placement_documents

# --- admission -------------------------------------------------------------------------------

THREE = load_instance(INSTANCES / "admission" / "hand-three.json")
ESTIMATE = load_instance(INSTANCES / "admission" / "hand-estimate.json")
B = THREE.bandwidth_hz


def act(**actions) -> dict:
    """act(u1=("immediate", 1e6), u2="queue") -> decisions, everyone else local."""
    decisions = {}
    for c in THREE.candidates + ESTIMATE.candidates:
        spec = actions.get(c.id, "local")
        action, bandwidth = spec if isinstance(spec, tuple) else (spec, 0.0)
        decisions[c.id] = {"action": action, "bandwidth_hz": bandwidth}
    return decisions


def only(instance, decisions):
    return {c.id: decisions[c.id] for c in instance.candidates}


def test_admission_hand_optimum():
    # u1 immediate with all of B: 0.5 - 10 * 8000 / 1e6 = 0.42;
    # u2 queued: 0.3 - 10 * (16000 / 1e6 + 0.002) = 0.12.
    result = evaluate(THREE, only(THREE, act(u1=("immediate", B), u2="queue")))
    assert result.feasible
    assert result.objective == pytest.approx(0.54, rel=1e-12)
    assert result.details["u2"]["upload_s"] == pytest.approx(0.016)
    assert result.metrics["constant_waited"] == pytest.approx(-10 * 0.02)


def test_admission_hand_enumeration_finds_054():
    values = []
    for actions in itertools.product(["local", "queue", "immediate"], repeat=3):
        decisions = {
            c.id: {"action": a, "bandwidth_hz": B if a == "immediate" else 0.0}
            for c, a in zip(THREE.candidates, actions)
        }
        result = evaluate(THREE, decisions)
        if result.feasible:
            values.append(result.objective)
    # single immediate admission (one free slot) always takes the whole band
    assert max(values) == pytest.approx(0.54, rel=1e-12)


def test_admission_named_violations():
    result = evaluate(
        THREE, only(THREE, act(u1=("immediate", 0.7 * B), u2=("immediate", 0.4 * B), u3="queue"))
    )
    assert not result.feasible
    text = " | ".join(result.violations)
    assert "outage: u3" in text
    assert "capacity: 2 immediate admissions, 1 free slots" in text
    assert "bandwidth: 1100000.0 Hz allocated" in text


def test_admission_bandwidth_for_local_or_missing_bandwidth():
    result = evaluate(THREE, only(THREE, act(u1=("local", 5.0), u2=("immediate", 0.0))))
    assert result.objective is None
    assert any("u1 is 'local' but holds" in v for v in result.violations)
    assert any("u2 is admitted immediately with no bandwidth" in v for v in result.violations)


def test_admission_missing_and_unknown_decisions():
    decisions = only(THREE, act())
    del decisions["u2"]
    decisions["zz"] = {"action": "local"}
    result = evaluate(THREE, decisions)
    assert set(result.violations) == {"decisions.zz: unknown candidate", "decisions.u2: missing"}


def test_admission_estimated_queue_delays_by_hand():
    # uploads at B: a 8 ms, b 2 ms, c 128 ms; slots free at 30 and 50 ms.
    # FCFS by arrival: b waits 28 ms (slot 30 -> 40), a waits 32 ms (slot 40 -> 60),
    # c arrives at 128 ms after both slots freed: no wait.
    result = evaluate(ESTIMATE, only(ESTIMATE, act(a="queue", b="queue", c="queue")))
    assert result.details["b"]["queue_s"] == pytest.approx(0.028)
    assert result.details["a"]["queue_s"] == pytest.approx(0.032)
    assert result.details["c"]["queue_s"] == pytest.approx(0.0)
    assert result.objective == pytest.approx(-0.1 + 0.2 - 1.18)
    alone = evaluate(ESTIMATE, only(ESTIMATE, act(a="queue")))
    assert alone.details["a"]["queue_s"] == pytest.approx(0.022)
    assert alone.objective == pytest.approx(0.3)


def test_admission_server_full_forbids_immediate():
    result = evaluate(ESTIMATE, only(ESTIMATE, act(a=("immediate", 1e6))))
    assert "capacity: 1 immediate admissions, 0 free slots" in result.violations[0]


@given(admission_documents(max_candidates=5), st.data())
def test_admission_local_is_zero_and_bandwidth_helps(document, data):
    instance = parse_instance(document)
    local = {c.id: {"action": "local"} for c in instance.candidates}
    assert evaluate(instance, local).objective == 0.0
    uploaders = [c for c in instance.candidates if instance.can_upload(c)]
    assume(uploaders and instance.server.free_slots >= 1)
    chosen = data.draw(st.sampled_from(uploaders))
    share = data.draw(st.floats(0.01, 1.0))
    low = dict(
        local, **{chosen.id: {"action": "immediate", "bandwidth_hz": share * instance.bandwidth_hz}}
    )
    full = dict(
        local, **{chosen.id: {"action": "immediate", "bandwidth_hz": instance.bandwidth_hz}}
    )
    assert evaluate(instance, low).feasible and evaluate(instance, full).feasible
    # TC = c / B_i falls with B_i: more bandwidth never hurts (eq. 25)
    assert evaluate(instance, full).objective >= evaluate(instance, low).objective - 1e-12


# --- assignment ------------------------------------------------------------------------------

TWO_EDGES = load_instance(INSTANCES / "assignment" / "hand-two-edges.json")
GAP = load_instance(INSTANCES / "assignment" / "hand-gap-strict.json")


def served(placement=None, **tasks):
    """Assignment decisions: ``served(t1="e2", t2=None, placement={...})``."""
    decisions = {"tasks": tasks}
    if placement is not None:
        decisions["placement"] = placement
    return decisions


def test_assignment_hand_optimum():
    decisions = served(
        t1="e2", t2="e2", t3="e1", t4="cloud", placement={"e1": ["m13"], "e2": ["m7"]}
    )
    result = evaluate(TWO_EDGES, decisions)
    assert result.feasible and result.sense == "max"
    assert result.objective == 4
    assert result.metrics["transmission_s"] == pytest.approx(0.51)
    assert result.metrics["weighted"] == pytest.approx(4 - 0.01 * 0.51)


def test_assignment_placement_inferred_when_absent():
    result = evaluate(TWO_EDGES, served(t1="e2", t2="e2", t3="e1", t4=None))
    assert result.feasible and result.objective == 3


def test_assignment_named_violations():
    decisions = served(t1="e1", t2="e1", t3="e1", t4="e1", placement={"e1": ["m7", "m13"]})
    result = evaluate(TWO_EDGES, decisions)
    text = " | ".join(result.violations)
    assert "storage (1b): e1 holds 20 GB of models, storage 14 GB" in text
    assert "compute (1d): e1 carries 1.5e+13 FLOP, budget 1e+13" in text
    # t4 on e1: 50 ms + 5e12 / 6e12 s = 0.883 s meets L_max = 1 s; nothing violates (1e)
    assert "QoS" not in text
    missing_model = evaluate(
        TWO_EDGES, served(t1="e2", t2=None, t3=None, t4=None, placement={"e2": []})
    )
    assert missing_model.violations == ("model (1c): t1 runs on e2, which lacks m7",)


def test_assignment_qos_violation():
    slow = TWO_EDGES.model_copy(update={"latency_max_s": 0.5})
    result = evaluate(slow, served(t1="e2", t2=None, t3=None, t4=None))
    assert result.violations == ("QoS (1e): t1 on e2 takes 0.58 s > L_max 0.5 s",)


def test_assignment_strict_gap_by_enumeration():
    values = {}
    for servers in itertools.product(["e1", "e2"], repeat=3):
        result = evaluate(GAP, served(**dict(zip(["t1", "t2", "t3"], servers))))
        if result.feasible:
            values[servers] = result.objective
    assert values == {("e1", "e2", "e1"): 13.0, ("e1", "e2", "e2"): 9.0}
    unserved = evaluate(GAP, served(t1="e1", t2="e2", t3=None))
    assert unserved.violations == ("assignment (1a): t3 is not served (variant strict)",)
    assert unserved.sense == "min"


def test_assignment_fixed_placement_must_match():
    result = evaluate(GAP, served(t1="e1", t2="e2", t3="e2", placement={"e1": ["gap"]}))
    assert result.violations == ("placement: differs from the instance's fixed placement",)


@given(assignment_documents(), st.data())
def test_assignment_rejecting_a_task_keeps_feasibility(document, data):
    instance = parse_instance({**document, "variant": "admission"})
    # build a feasible assignment greedily: offer each task a drawn server, keep it if feasible
    tasks = {t.id: None for t in instance.tasks}
    for task in instance.tasks:
        server = data.draw(st.sampled_from([s.id for s in instance.servers]))
        if evaluate(instance, {"tasks": {**tasks, task.id: server}}).feasible:
            tasks[task.id] = server
    before = evaluate(instance, {"tasks": tasks})
    assert before.feasible and before.objective == sum(s is not None for s in tasks.values())
    for task, server in tasks.items():
        if server is not None:
            after = evaluate(instance, {"tasks": {**tasks, task: None}})
            assert after.feasible  # the feasible set is closed under rejecting tasks
            assert after.objective == before.objective - 1


# --- placement -------------------------------------------------------------------------------

CHAIN = load_instance(INSTANCES / "placement" / "hand-chain.json")
PAPER = load_instance(INSTANCES / "placement" / "hand-paper.json")


def test_placement_chain_by_enumeration():
    values = {}
    for devices in itertools.product(["gpu", "cpu"], repeat=4):
        result = evaluate(CHAIN, dict(zip("abcd", devices)))
        if result.feasible:
            values[devices] = result.objective
    best = min(values, key=values.get)
    assert best == ("gpu", "gpu", "cpu", "cpu") and values[best] == pytest.approx(1.0)
    assert values[("cpu", "cpu", "gpu", "gpu")] == pytest.approx(2.0)  # the slow direction
    assert values[("gpu", "cpu", "gpu", "cpu")] == pytest.approx(8 / 2 + 2 / 1 + 6 / 2)


def test_placement_paper_objective_by_hand():
    assert evaluate(PAPER, {"p": "d0", "q": "d0", "r": "d1"}).objective == pytest.approx(8 + 5)
    assert evaluate(PAPER, {"p": "d1", "q": "d2", "r": "d0"}).objective == pytest.approx(4 + 5)
    best = min(
        (
            evaluate(PAPER, dict(zip("pqr", ds)))
            for ds in itertools.product(["d0", "d1", "d2"], repeat=3)
        ),
        key=lambda r: r.objective if r.feasible else float("inf"),
    )
    assert best.objective == pytest.approx(5.0)


def test_placement_named_violations():
    pinned = CHAIN.model_copy(update={"pinned": {"a": "cpu"}})
    result = evaluate(pinned, {"a": "gpu", "b": "gpu", "c": "gpu", "d": "cpu"})
    assert result.violations == (
        "pinned: a must be on cpu, is on gpu",
        "memory (2a): gpu holds 12 bytes, capacity 10",
    )
    assert evaluate(CHAIN, {"a": "gpu", "b": "tpu"}).violations == (
        "decisions.b: unknown device 'tpu'",
        "decisions.c: missing (2b: every tensor on one device)",
        "decisions.d: missing (2b: every tensor on one device)",
    )


@given(placement_documents())
def test_placement_one_device_costs_nothing_on_the_graph(document):
    instance = parse_instance({**document, "objective": "graph"})
    device = instance.devices[0].id
    result = evaluate(instance, {n.id: device for n in instance.graph.nodes})
    assert result.objective == 0.0
