"""Evaluator of problem A, per-slot admission with bandwidth (design §4, PRADA eq. 28).

Objective (to maximise, the constants Q(x,0) - beta tau_i of eq. 27 dropped):

    sum_i g_i (x_i + y_i) - beta c_i x_i / B_i - beta (TC_i^Q + TQ_i) y_i

where a queued request's upload TC_i^Q is ``c_i / B_ref`` with ``queue.upload = priced``
(it takes no band) and ``c_i / B_i`` with ``shared`` (it uploads now in the slot's band:
``sum of B_i over immediate and queued <= B - server.uplink_busy_hz``).

Queue delays TQ_i are the instance's ``queue_delay_s`` in mode ``given``. In mode ``estimate``
they follow from the decisions by list scheduling: the server serves queued requests first
come, first served, a request arriving when its upload TC_i^Q completes;
slots free at the in-flight Gamma_j, at ``TC_i + d_i`` for this slot's immediate admissions,
and at 0 otherwise. Ties in arrival are served in candidate order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..queueing import list_schedule_waits
from ..schemas import AdmissionDecision, AdmissionInstance
from ..schemas.admission import Candidate
from ..tolerance import REL_TOL, exceeds
from .result import Evaluation, objective_sense


def parse_decisions(
    instance: AdmissionInstance, decisions: Mapping[str, Any]
) -> tuple[dict[str, AdmissionDecision], list[str]]:
    """Decisions by candidate id, and the problems found while reading them."""
    known = {c.id for c in instance.candidates}
    problems = [f"decisions.{k}: unknown candidate" for k in decisions if k not in known]
    parsed = {}
    for candidate in instance.candidates:
        raw = decisions.get(candidate.id)
        if raw is None:
            problems.append(f"decisions.{candidate.id}: missing")
            continue
        try:
            parsed[candidate.id] = (
                raw if isinstance(raw, AdmissionDecision) else AdmissionDecision.model_validate(raw)
            )
        except ValidationError as exc:
            problems.append(f"decisions.{candidate.id}: {exc.errors()[0]['msg']}")
    return parsed, problems


def queue_delays(
    instance: AdmissionInstance, decisions: Mapping[str, AdmissionDecision]
) -> dict[str, float]:
    """TQ_i of every queued candidate, in the instance's queue-delay mode."""
    queued = [c for c in instance.candidates if decisions[c.id].action == "queue"]
    if instance.queue.delay == "given":
        return {c.id: c.queue_delay_s for c in queued}
    slot_free = list(instance.server.busy_remaining_s)
    slot_free += [
        upload_time(instance, c, decisions[c.id]) + c.server_time_s
        for c in instance.candidates
        if decisions[c.id].action == "immediate"
    ]
    slot_free += [0.0] * (instance.server.capacity - len(slot_free))
    arrivals = sorted(
        ((c.id, upload_time(instance, c, decisions[c.id]), c.server_time_s) for c in queued),
        key=lambda item: item[1],  # stable: ties keep candidate order
    )
    return list_schedule_waits(slot_free, arrivals)


def holds_band(instance: AdmissionInstance, decision: AdmissionDecision) -> bool:
    """Whether the action uploads in this slot's band: immediate, or queued with 'shared'."""
    return decision.action == "immediate" or (decision.action == "queue" and instance.shared_upload)


def upload_time(
    instance: AdmissionInstance, candidate: Candidate, decision: AdmissionDecision
) -> float:
    """TC_i: c_i / B_i in the slot's band (eq. 25), c_i / B_ref when a queued upload is
    priced (Remark 2)."""
    if holds_band(instance, decision):
        return instance.upload_coefficient(candidate) / decision.bandwidth_hz
    if decision.action == "queue":
        return instance.upload_coefficient(candidate) / instance.reference_bandwidth_hz
    return 0.0


def constraint_violations(
    instance: AdmissionInstance, decisions: Mapping[str, AdmissionDecision]
) -> list[str]:
    """Every constraint of design §4 the decisions break, named."""
    problems = []
    bandwidth_tol = REL_TOL * instance.bandwidth_hz
    for c in instance.candidates:
        d = decisions[c.id]
        if d.action != "local" and not instance.can_upload(c):
            problems.append(
                f"outage: {c.id} is '{d.action}' but snr_db {c.snr_db} < snr_threshold_db "
                f"{instance.snr_threshold_db}"
            )
        if holds_band(instance, d) and d.bandwidth_hz <= 0:
            what = "admitted immediately" if d.action == "immediate" else "queued (shared upload)"
            problems.append(f"bandwidth: {c.id} is {what} with no bandwidth")
        if not holds_band(instance, d) and d.bandwidth_hz > bandwidth_tol:
            problems.append(f"bandwidth: {c.id} is '{d.action}' but holds {d.bandwidth_hz} Hz")
    immediate = sum(d.action == "immediate" for d in decisions.values())
    if immediate > instance.server.free_slots:
        problems.append(
            f"capacity: {immediate} immediate admissions, {instance.server.free_slots} free "
            f"slots (M = {instance.server.capacity}, {len(instance.server.busy_remaining_s)} busy)"
        )
    used = sum(d.bandwidth_hz for d in decisions.values() if holds_band(instance, d))
    budget = instance.available_bandwidth_hz
    if exceeds(used, budget):
        problems.append(
            f"bandwidth: {used} Hz allocated, budget {budget} Hz (bandwidth_hz less "
            "server.uplink_busy_hz)"
        )
    return problems


def evaluate_admission(instance: AdmissionInstance, decisions: Mapping[str, Any]) -> Evaluation:
    parsed, problems = parse_decisions(instance, decisions)
    if len(parsed) < len(instance.candidates):
        return Evaluation(objective_sense(instance), None, tuple(problems))
    problems += constraint_violations(instance, parsed)
    computable = all(d.bandwidth_hz > 0 for d in parsed.values() if holds_band(instance, d))
    if not computable:
        return Evaluation(objective_sense(instance), None, tuple(problems))

    waits = queue_delays(instance, parsed)
    objective = 0.0
    details = {}
    for c in instance.candidates:
        d = parsed[c.id]
        upload = upload_time(instance, c, d)
        wait = waits.get(c.id, 0.0)
        value = 0.0 if d.action == "local" else c.gain - instance.beta * (upload + wait)
        objective += value
        details[c.id] = {
            "action": d.action,
            "bandwidth_hz": d.bandwidth_hz,
            "upload_s": upload,
            "queue_s": wait,
            "value": value,
        }
    metrics = {
        "immediate": sum(d.action == "immediate" for d in parsed.values()),
        "queued": sum(d.action == "queue" for d in parsed.values()),
        "bandwidth_used_hz": sum(d.bandwidth_hz for d in parsed.values()),
        # eq. (27)'s dropped constant, less sum_i Q(x_i, 0) which the instance does not carry
        "constant_waited": -instance.beta * sum(c.waited_s for c in instance.candidates),
    }
    return Evaluation(objective_sense(instance), objective, tuple(problems), metrics, details)
