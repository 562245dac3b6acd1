"""Formulations only (design §2): functions ``instance -> Pyomo ConcreteModel / cvxpy.Problem``.

Installed as ``opt_offload.models``.
"""
