"""Exact placement solvers: the MILP of :mod:`opt_offload.models.placement` solved by HiGHS,
through Pyomo (``exact``) or CVXPY (``exact-cvxpy``, a cross-check on small graphs), or by the
backend ``-o backend=NAME`` names (``opt-offload solvers --backends``).

``exact`` starts from the contiguous partition of ``chain-dp`` (where that solver takes the
instance), priced by the shared evaluator at c seconds: the MILP then holds only placements of
at most ``c (1 - mip_gap)`` (``models.placement.build_pyomo``'s ``below_s``). A solution of that
MILP beats the partition; a proof that it has none proves the partition optimal within the
relative gap, with ``c (1 - mip_gap)`` as the bound. The solver's own primal search then does
not have to rediscover a placement the DP finds in a fraction of a second. Backends over
integers only (CP-SAT) run without it (the row's coefficients are real).
"""

from __future__ import annotations

import time
from dataclasses import replace

from opt_offload.errors import InputError
from opt_offload.evaluate.placement import evaluate_placement
from opt_offload.models.formulation import ProblemClass
from opt_offload.registry import MIP_GAP_OPTION, Option, SolverResult, register
from opt_offload.schemas import PlacementInstance, Status

from ..backends import Limits, backend_option, solve_with
from ..backends.base import WORKERS_OPTION, backend_classes
from .chain_dp import chain_dp, size_limits, stage_of

# the placement MILP has continuous cut variables z, but an optimal z is integral at integer x
# (models/placement.py), so the integer-only CP-SAT takes it too
PYOMO_BACKEND = backend_option("pyomo", ProblemClass.MILP, "pyomo-highs", continuous=False)
CVXPY_BACKEND = backend_option("cvxpy", ProblemClass.MILP, "cvxpy-highs", continuous=False)

CUT = Option(
    "cut",
    str,
    "marginal",
    "linearisation of the graph objective: marginal (tight) or pairwise (z >= x + x - 1)",
    choices=("marginal", "pairwise"),
)
CUTS = Option(
    "cuts",
    str,
    "connectivity",
    "valid inequalities of the graph objective: connectivity (memory forces the core of heavy "
    "edges onto K devices, so K - 1 edges of its spanning tree are cut; models/placement.py) "
    "or none",
    choices=("connectivity", "none"),
)
INCUMBENT = Option(
    "incumbent",
    str,
    "chain-dp",
    "a placement to beat: chain-dp (the contiguous partition; the MILP keeps only cheaper "
    "placements, and proving there is none proves it optimal) or none",
    choices=("chain-dp", "none"),
)


@register(
    "placement",
    "exact",
    exact=True,
    description="MILP of eq. (2) / the design §6 cut cost with (2a), (2b), pins and the "
    "compute bound, in Pyomo, solved by HiGHS (-o backend=NAME: any Pyomo MILP backend); "
    "reports the proven lower bound",
    options=(CUT, CUTS, INCUMBENT, MIP_GAP_OPTION, PYOMO_BACKEND, WORKERS_OPTION),
    requires=("pyomo",),
)
def exact(
    instance: PlacementInstance,
    *,
    time_limit: float | None = None,
    cut: str = "marginal",
    cuts: str = "connectivity",
    incumbent: str = "chain-dp",
    mip_gap: float = MIP_GAP_OPTION.default,
    backend: str = PYOMO_BACKEND.default,
    workers: int = 0,
) -> SolverResult:
    start = time.perf_counter()
    from opt_offload.models.placement import pyomo_formulation

    # the row "cost <= c (1 - mip_gap)" has real coefficients, which a backend over integers
    # (CP-SAT) would have to round: there the MILP runs without it
    beat = incumbent == "chain-dp" and not backend_classes()[backend].integer_only
    known = contiguous_placement(instance) if beat else None
    if known is not None and known[0] == 0.0:  # every cost is >= 0: nothing beats it
        return SolverResult(Status.OPTIMAL, known[1], 0.0, "the contiguous partition costs 0")
    below_s = None if known is None else known[0] * (1.0 - mip_gap)
    formulation = pyomo_formulation(instance, cut, cuts, below_s)
    # the limit covers building the model (and importing Pyomo) too
    limits = Limits(time_limit, mip_gap, workers=workers or None)
    result = solve_with(backend, formulation, limits.after(start))
    return result if known is None else against_known(result, known[1], below_s)


# The DP visits (segment start, end, device) over 2^devices sets of used devices; the 70B layer
# graph (84 stages, 8 devices: 7e6 of these steps) takes a fraction of a second. Past this the
# DP could eat much of the MILP's time, and the MILP runs without the incumbent.
INCUMBENT_DP_STEPS = 1e8


def dp_steps(instance: PlacementInstance) -> float:
    stages = len({stage_of(node) for node in instance.graph.nodes})
    devices = len(instance.devices)
    return stages * stages / 2 * devices * 2.0**devices


def contiguous_placement(instance: PlacementInstance) -> tuple[float, dict[str, str]] | None:
    """chain-dp's placement and its cost by the evaluator, or None where the DP does not
    apply (too large, a cyclic layer graph), would take long, or finds no feasible partition."""
    if size_limits(instance) is not None or dp_steps(instance) > INCUMBENT_DP_STEPS:
        return None
    try:
        found = chain_dp(instance)
    except InputError:  # a cycle of layers: no topological order to partition
        return None
    if found.decisions is None:
        return None
    evaluation = evaluate_placement(instance, found.decisions)
    return (evaluation.objective, found.decisions) if evaluation.feasible else None


def against_known(result: SolverResult, known: dict[str, str], below_s: float) -> SolverResult:
    """The answer of the MILP restricted to placements of at most ``below_s`` seconds, read
    for the whole problem: every placement outside it costs more than ``below_s``."""
    if result.status is Status.INFEASIBLE:
        message = f"no placement costs under {below_s:.6g} s: the contiguous partition is optimal"
        return SolverResult(Status.OPTIMAL, known, below_s, f"{result.message}; {message}")
    bound = None if result.bound is None else min(result.bound, below_s)
    if result.decisions is None and result.status is Status.TIME_LIMIT:
        return SolverResult(Status.TIME_LIMIT, known, bound, result.message)
    return replace(result, bound=bound)


@register(
    "placement",
    "exact-cvxpy",
    exact=True,
    description="the same MILP (marginal cut form) in CVXPY, solved by HiGHS (-o "
    "backend=cvxpy-scip: SCIP); a cross-check for small graphs",
    options=(MIP_GAP_OPTION, CVXPY_BACKEND),
    requires=("cvxpy",),
)
def exact_cvxpy(
    instance: PlacementInstance,
    *,
    time_limit: float | None = None,
    mip_gap: float = MIP_GAP_OPTION.default,
    backend: str = CVXPY_BACKEND.default,
) -> SolverResult:
    start = time.perf_counter()
    from opt_offload.models.placement import cvxpy_formulation

    formulation = cvxpy_formulation(instance)
    return solve_with(backend, formulation, Limits(time_limit, mip_gap).after(start))
