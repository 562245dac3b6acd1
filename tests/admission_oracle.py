"""Test oracle of problem A: enumeration of all 3^n action vectors (DESIGN §4).

Every vector gets the closed-form split of B over its immediate set, and its objective comes
from the shared evaluator, so the oracle shares no code with the solvers beyond the split.
Vectors that break a constraint (outage, capacity) are skipped by the evaluator's verdict.
"""

from __future__ import annotations

import itertools
import math

from opt_offload.evaluate.admission import evaluate_admission
from opt_offload.schemas import AdmissionDecision, AdmissionInstance

ACTIONS = ("local", "queue", "immediate")


def closed_form_decisions(
    instance: AdmissionInstance, actions: tuple[str, ...]
) -> dict[str, AdmissionDecision]:
    """B_i = B sqrt(c_i) / sum_{j immediate} sqrt(c_j) for the immediate ones."""
    roots = [
        math.sqrt(instance.upload_coefficient(c)) if a == "immediate" else 0.0
        for c, a in zip(instance.candidates, actions)
    ]
    total = sum(roots)
    return {
        c.id: AdmissionDecision(
            action=a, bandwidth_hz=instance.bandwidth_hz * r / total if r else 0.0
        )
        for c, a, r in zip(instance.candidates, actions, roots)
    }


def enumerate_optimum(instance: AdmissionInstance) -> tuple[float, dict[str, AdmissionDecision]]:
    """Best evaluator objective over all 3^n action vectors with the closed-form split."""
    free = instance.server.free_slots
    uploadable = [instance.can_upload(c) for c in instance.candidates]
    best = (-math.inf, None)
    for actions in itertools.product(ACTIONS, repeat=len(instance.candidates)):
        if actions.count("immediate") > free:
            continue  # the evaluator would call it infeasible; skipping saves time
        if any(a != "local" and not ok for a, ok in zip(actions, uploadable)):
            continue
        decisions = closed_form_decisions(instance, actions)
        evaluation = evaluate_admission(instance, decisions)
        assert evaluation.feasible, evaluation.violations
        if evaluation.objective > best[0]:
            best = (evaluation.objective, decisions)
    return best
