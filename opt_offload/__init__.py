"""opt_offload: mathematical optimisation of LLM inference offloading in edge/cloud networks.

Data flows one way (design §2): cost models -> generators -> instance -> formulation (models/)
-> solver (solvers/) -> Solution -> evaluator -> report.

>>> from opt_offload import load_instance, solve
>>> solution = solve(load_instance("instances/admission/hand-three.json"), "all-local")
"""

from .errors import InputError
from .evaluate import Evaluation, evaluate
from .io import load_instance, load_solution, parse_instance
from .schemas import (
    AdmissionInstance,
    AssignmentInstance,
    PlacementInstance,
    Solution,
    Status,
)
from .solve import solve

__version__ = "0.1.0"

__all__ = [
    "AdmissionInstance",
    "AssignmentInstance",
    "Evaluation",
    "InputError",
    "PlacementInstance",
    "Solution",
    "Status",
    "evaluate",
    "load_instance",
    "load_solution",
    "parse_instance",
    "solve",
]
