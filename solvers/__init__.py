"""How to solve (design §2): exact backends and heuristics, one module each.

Installed as ``opt_offload.solvers``. Importing a kind's subpackage (``admission``,
``assignment``, ``placement``) registers its solvers in :mod:`opt_offload.registry`, which
imports them on first use, one kind at a time; solvers never import the cost models.
"""
