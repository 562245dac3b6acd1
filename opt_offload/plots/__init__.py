"""Pictures of solutions, one module per problem kind (plotting apart from solving).

A module ``opt_offload/plots/<kind>.py`` defines ``plot_solution(instance, solution, path)``,
which draws the solution with matplotlib (Agg backend) and saves it to ``path``.
"""

from __future__ import annotations

import importlib
import os

from ..errors import InputError
from ..schemas import Instance, Solution


def plot_solution(instance: Instance, solution: Solution, path: str | os.PathLike) -> None:
    try:
        module = importlib.import_module(f"{__name__}.{instance.kind}")
    except ModuleNotFoundError:
        raise InputError(f"--plot: no picture is drawn for {instance.kind} solutions yet") from None
    module.plot_solution(instance, solution, path)
