"""``enumerate``: all 3^n action vectors of problem A (design §4), the test oracle.

Every vector gets the closed-form split of B over its immediate set, and its objective comes
from the shared evaluator, so this shares no code with the other solvers beyond the split
(and computes it itself). With queue delays ``given`` the closed-form split is the best one
for every vector, so the best vector is the optimum. With ``estimate`` the split also moves
the queue (an immediate admission frees its slot at TC_i + d_i), so the best vector with the
closed-form split is reported as ``feasible``, not as a proven optimum.
"""

from __future__ import annotations

import itertools
import math
import time

from opt_offload.evaluate.admission import evaluate_admission
from opt_offload.registry import SolverResult, register
from opt_offload.schemas import AdmissionDecision, AdmissionInstance, Status

from .common import past

ACTIONS = ("local", "queue", "immediate")
MAX_CANDIDATES = 10  # 3^10 = 59049 evaluations, a few seconds
DEADLINE_EVERY = 64  # vectors between two looks at the clock


def closed_form_decisions(
    instance: AdmissionInstance, actions: tuple[str, ...]
) -> dict[str, AdmissionDecision]:
    """B_i = B sqrt(c_i) / sum_{j uploading} sqrt(c_j) for the ones that upload now
    (immediate, and queued with 'shared'), B the band left by uploads in flight."""
    uploads = ("immediate", "queue") if instance.shared_upload else ("immediate",)
    roots = [
        math.sqrt(instance.upload_coefficient(c)) if a in uploads else 0.0
        for c, a in zip(instance.candidates, actions)
    ]
    total = sum(roots)
    return {
        c.id: AdmissionDecision(
            action=a, bandwidth_hz=instance.available_bandwidth_hz * r / total if r else 0.0
        )
        for c, a, r in zip(instance.candidates, actions, roots)
    }


def enumerate_optimum(
    instance: AdmissionInstance, deadline: float | None = None
) -> tuple[float, dict[str, AdmissionDecision], bool]:
    """Best evaluator objective over all 3^n action vectors with the closed-form split, and
    whether every vector was seen (False: ``deadline``, a perf_counter time, came first)."""
    free = instance.server.free_slots
    uploadable = [instance.can_upload(c) for c in instance.candidates]
    best = (-math.inf, None)
    for count, actions in enumerate(itertools.product(ACTIONS, repeat=len(instance.candidates))):
        # all-local comes first, so there is an incumbent whenever the clock is read
        if count % DEADLINE_EVERY == 1 and past(deadline):
            return (*best, False)
        if actions.count("immediate") > free:
            continue  # the evaluator would call it infeasible; skipping saves time
        if any(a != "local" and not ok for a, ok in zip(actions, uploadable)):
            continue
        decisions = closed_form_decisions(instance, actions)
        evaluation = evaluate_admission(instance, decisions)
        assert evaluation.feasible, evaluation.violations
        if evaluation.objective > best[0]:
            best = (evaluation.objective, decisions)
    return (*best, True)


def small_enough(instance: AdmissionInstance) -> str | None:
    n = len(instance.candidates)
    if n > MAX_CANDIDATES:
        return f"{n} candidates: 3^{n} action vectors, enumeration takes at most {MAX_CANDIDATES}"
    return None


@register(
    "admission",
    "enumerate",
    exact=True,
    description=f"all 3^n action vectors with the closed-form split, judged by the evaluator "
    f"(n <= {MAX_CANDIDATES}); optimal with queue.delay 'given', the best vector (status "
    "'feasible') with 'estimate'",
    supports=small_enough,
)
def enumerate_actions(
    instance: AdmissionInstance, *, time_limit: float | None = None
) -> SolverResult:
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    value, decisions, complete = enumerate_optimum(instance, deadline)
    plain = {ident: d.model_dump() for ident, d in decisions.items()}
    if not complete:
        return SolverResult(
            Status.TIME_LIMIT, plain, message="time limit: the best of the vectors enumerated"
        )
    if instance.queue.delay == "given":
        return SolverResult(Status.OPTIMAL, plain, bound=value, message="3^n enumeration")
    return SolverResult(
        Status.FEASIBLE,
        plain,
        message="3^n enumeration with the closed-form split; in mode 'estimate' the split "
        "also moves the queue, so this is not a proven optimum",
    )
