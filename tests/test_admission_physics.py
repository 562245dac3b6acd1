"""Problem A's physical reading (queue.upload 'shared', server.uplink_busy_hz), the joint
solver of queue-delay mode 'estimate', and the exact solver at scale.

Oracles: enumeration of all 3^n action vectors (n <= 8) for both readings; for the joint
solver, enumeration of the action vectors (its optimum over the closed-form split) and random
splits of B (its bound must hold for every split).
"""

from __future__ import annotations

import itertools
import random

import pytest

from opt_offload.evaluate.admission import evaluate_admission
from opt_offload.generators.admission import (
    BINDING_BANDWIDTH_HZ,
    TABLE3_BANDWIDTH_HZ,
    SlotSettings,
    generate_slot,
    subset_sum_slot,
    with_upload,
)
from opt_offload.schemas import AdmissionInstance, Status
from opt_offload.solve import solve
from opt_offload.solvers.admission.enumeration import enumerate_optimum

REL = 1e-6
CASES = ("abundant", "competitive", "server-full", "any")


def slot(k: int, queue: str = "given", upload: str = "priced", busy: float = 0.0):
    case = CASES[k % 4]
    n = 2 + (k // 4) % 7
    settings = SlotSettings(
        candidates=n,
        case=case,
        bandwidth_hz=(TABLE3_BANDWIDTH_HZ, BINDING_BANDWIDTH_HZ)[(k // 2) % 2],
        outage=k % 5 == 0,
        queue=queue,
    )
    document = with_upload(generate_slot(settings, 500 + k), upload).model_dump()
    document["server"]["uplink_busy_hz"] = busy * document["bandwidth_hz"]
    return AdmissionInstance.model_validate(document)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(1.0, abs(b))


@pytest.mark.parametrize("upload", ("priced", "shared"))
def test_exact_matches_enumeration_in_both_readings(upload):
    for k in range(48):
        instance = slot(k, upload=upload, busy=(0.0, 0.4)[k % 2])
        optimum = enumerate_optimum(instance)[0]
        solution = solve(instance, "exact")
        assert solution.status is Status.OPTIMAL
        assert close(solution.objective, optimum), (k, solution.objective, optimum)
        assert solution.bound >= solution.objective - REL


@pytest.mark.parametrize("backend", ("exact-pyomo", "exact-cvxpy"))
def test_formulations_of_the_shared_reading_match_exact(backend):
    for k in range(0, 24, 3):
        instance = slot(k, upload="shared", busy=0.25)
        assert close(solve(instance, backend).objective, solve(instance, "exact").objective)


def test_shared_queued_uploads_take_band_and_held_band_is_unavailable():
    instance = slot(1, upload="shared", busy=0.5)
    solution = solve(instance, "exact")
    evaluation = evaluate_admission(instance, solution.decisions)
    assert evaluation.feasible
    queued = [i for i, d in solution.decisions.items() if d["action"] == "queue"]
    assert all(solution.decisions[i]["bandwidth_hz"] > 0 for i in queued)
    used = sum(d["bandwidth_hz"] for d in solution.decisions.values())
    assert used <= instance.available_bandwidth_hz * (1 + 1e-9)
    if queued:  # a queued upload without band is refused in this reading
        broken = {**solution.decisions, queued[0]: {"action": "queue", "bandwidth_hz": 0.0}}
        assert any(
            "queued (shared upload) with no bandwidth" in v
            for v in evaluate_admission(instance, broken).violations
        )
    over = {i: {**d, "bandwidth_hz": 2 * d["bandwidth_hz"]} for i, d in solution.decisions.items()}
    if used > 0:
        assert not evaluate_admission(instance, over).feasible


@pytest.mark.parametrize("upload", ("priced", "shared"))
def test_threshold_is_feasible_and_never_beats_exact(upload):
    for k in range(40):
        instance = slot(k, upload=upload, busy=(0.0, 0.3)[k % 2])
        rules = solve(instance, "threshold")
        assert rules.status is Status.FEASIBLE and rules.objective is not None
        assert rules.objective <= solve(instance, "exact").objective + REL


def test_joint_solver_matches_enumeration_of_action_vectors():
    proven = 0
    for k in range(28):
        instance = slot(k, queue="estimate")
        enumerated = solve(instance, "enumerate")  # best vector with the closed-form split
        joint = solve(instance, "exact-joint")
        assert close(joint.objective, enumerated.objective), k
        assert joint.objective >= solve(instance, "exact").objective - REL  # the fixed point
        assert joint.bound >= joint.objective - REL
        proven += joint.status is Status.OPTIMAL
    assert proven >= 20


def test_joint_bound_holds_for_every_split():
    rng = random.Random(3)
    for k in range(12):
        document = slot(k, queue="estimate").model_dump()
        document["server"] = {"capacity": 2, "busy_remaining_s": [0.4] if k % 2 else []}
        document["candidates"] = document["candidates"][:4]
        instance = AdmissionInstance.model_validate(document)
        bound = solve(instance, "exact-joint").bound
        ids = [c.id for c in instance.candidates]
        for actions in itertools.product(("local", "queue", "immediate"), repeat=len(ids)):
            admitted = [i for i, a in zip(ids, actions) if a == "immediate"]
            if len(admitted) > instance.server.free_slots:
                continue
            for _ in range(10 if admitted else 1):
                shares = [rng.random() ** 3 + 1e-6 for _ in admitted]
                decisions = {i: {"action": a, "bandwidth_hz": 0.0} for i, a in zip(ids, actions)}
                for i, share in zip(admitted, shares):
                    decisions[i]["bandwidth_hz"] = instance.bandwidth_hz * share / sum(shares)
                evaluation = evaluate_admission(instance, decisions)
                if evaluation.feasible:
                    assert evaluation.objective <= bound + REL


def test_joint_solver_declines_shared_estimate():
    instance = slot(3, queue="estimate", upload="shared")
    from opt_offload.registry import get_solver

    assert "shared" in get_solver("admission", "exact-joint").supports(instance)


@pytest.mark.parametrize(("n", "upload"), ((300, "shared"), (1100, "priced")))
def test_exact_proves_subset_sum_slots_deeper_than_the_recursion_limit(n, upload):
    instance = subset_sum_slot(n, seed=n, upload=upload)
    solution = solve(instance, "exact")
    assert solution.status is Status.OPTIMAL
    greedy = solve(instance, "greedy")
    assert solution.objective >= greedy.objective - REL
    assert solution.bound >= solution.objective - REL


def test_subset_sum_slots_match_enumeration_when_small():
    for seed in range(6):
        instance = subset_sum_slot(8, seed=seed)
        assert close(solve(instance, "exact").objective, enumerate_optimum(instance)[0])


@pytest.mark.parametrize("zero_price_check", (True, False))
def test_threshold_kinetic_piece_search_decides_as_the_listed_one(zero_price_check):
    from opt_offload.models.admission import SlotData
    from opt_offload.solvers.admission import threshold

    slots = []
    for k in range(16):
        settings = SlotSettings(
            candidates=(20, 60, 150)[k % 3],
            case=("competitive", "any")[k % 2],
            bandwidth_hz=(TABLE3_BANDWIDTH_HZ, BINDING_BANDWIDTH_HZ)[(k // 2) % 2],
        )
        slots.append(SlotData.from_instance(generate_slot(settings, 900 + k)))
    outcomes = {}
    for listed in (10**9, 0):
        variant = threshold.Variant(zero_price_check=zero_price_check, listed_lines=listed)
        outcomes[listed] = [threshold.threshold_rules(data, variant) for data in slots]
    for listed, kinetic in zip(outcomes[10**9], outcomes[0]):
        assert (listed.immediate, listed.queued) == (kinetic.immediate, kinetic.queued)
        assert listed.mu == kinetic.mu
