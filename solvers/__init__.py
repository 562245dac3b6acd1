"""How to solve (design §2): exact backends and heuristics, one module each.

Installed as ``opt_offload.solvers``. Importing this package registers every solver in
:mod:`opt_offload.registry`; solvers never import the cost models.
"""

from . import admission, assignment, placement  # noqa: F401  (registration side effect)
