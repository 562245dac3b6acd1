"""opt_offload: mathematical optimisation of LLM inference offloading in edge/cloud networks.

Data flows one way (design §2): cost models -> generators -> instance -> formulation (models/)
-> solver (solvers/) -> Solution -> evaluator -> report.

>>> from opt_offload import load_instance, shipped, solve
>>> solution = solve(load_instance(shipped("instances/admission/hand-three.json")), "exact")
>>> round(solution.objective, 6)
0.54

Everything named in ``__all__`` is the public API (documented in the docs' API reference);
other modules may change without notice. The names load on first use (module ``__getattr__``),
so that ``import opt_offload`` and the command line stay light: no solver, torch, Pyomo or
CVXPY is imported until something needs it.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute in it)
_EXPORTS: dict[str, tuple[str, str]] = {
    # instances and solutions (design §9)
    "AdmissionInstance": ("schemas.admission", "AdmissionInstance"),
    "AdmissionServer": ("schemas.admission", "Server"),
    "AdmissionQueue": ("schemas.admission", "QueueModel"),
    "AdmissionCandidate": ("schemas.admission", "Candidate"),
    "AssignmentInstance": ("schemas.assignment", "AssignmentInstance"),
    "AssignmentObjective": ("schemas.assignment", "Objective"),
    "AssignmentObjectiveWeights": ("schemas.assignment", "ObjectiveWeights"),
    "AssignmentModel": ("schemas.assignment", "Model"),
    "AssignmentServer": ("schemas.assignment", "Server"),
    "AssignmentTask": ("schemas.assignment", "Task"),
    "PlacementInstance": ("schemas.placement", "PlacementInstance"),
    "PlacementDevice": ("schemas.placement", "Device"),
    "PlacementGraph": ("schemas.placement", "Graph"),
    "PlacementNode": ("schemas.placement", "Node"),
    "PlacementEdge": ("schemas.placement", "Edge"),
    "Instance": ("schemas", "Instance"),
    "Solution": ("schemas.solution", "Solution"),
    "Status": ("schemas.solution", "Status"),
    "AdmissionDecision": ("schemas.solution", "AdmissionDecision"),
    "make_solution": ("schemas.solution", "make_solution"),
    "parse_solution": ("schemas.solution", "parse_solution"),
    # files
    "load_instance": ("io", "load_instance"),
    "load_solution": ("io", "load_solution"),
    "parse_instance": ("io", "parse_instance"),
    "to_json": ("io", "to_json"),
    "shipped": ("shipped", "shipped"),
    "InputError": ("errors", "InputError"),
    # solving and judging
    "solve": ("solve", "solve"),
    "solvers_for": ("registry", "solvers_for"),
    "evaluate": ("evaluate", "evaluate"),
    "Evaluation": ("evaluate", "Evaluation"),
    "compare": ("compare", "compare"),
    "aggregate": ("compare", "aggregate"),
    "ComparisonRow": ("compare", "ComparisonRow"),
    "print_solution": ("report", "print_solution"),
    "pareto_front": ("solvers.assignment.pareto", "pareto_front"),
    # generators (design §7): keyword arguments, as the command line's flags
    "generate_admission": ("generators.admission", "generate_admission"),
    "generate_assignment": ("generators.assignment", "generate_assignment"),
    "generate_placement": ("generators.placement", "generate_placement"),
    # the dynamic system (design §8)
    "SimulationConfig": ("simulation.config", "SimulationConfig"),
    "simulate": ("simulation.engine", "simulate"),
    "RunResult": ("simulation.metrics", "RunResult"),
    "SCHEDULERS": ("simulation.schedulers", "SCHEDULERS"),
    "SlotData": ("models.admission", "SlotData"),
    # real traffic (the Azure LLM inference traces, or any file of their format)
    "read_trace": ("importers.azure_llm_trace", "read_trace"),
    "Trace": ("importers.azure_llm_trace", "Trace"),
    "trace_assignment": ("generators.trace_assignment", "trace_assignment"),
    "replay": ("simulation.replay", "replay"),
    "ReplayPolicy": ("simulation.replay", "Policy"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# Four public functions share their name with the module that defines them (solve, compare,
# evaluate, shipped). Importing such a module binds it on this package, which would hide the
# function; the package keeps the function (the submodule stays in sys.modules).
_SHADOWED = frozenset(name for name, (module, _) in _EXPORTS.items() if module == name)


class _PublicAPI(ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PublicAPI
