"""Importers of public benchmark formats into instances (STYLE: PyJobShop's ``parse/``).

``orlib_gap``: Beasley's OR-Library generalised assignment files (gap1-gap12, types A-D) as
``strict`` assignment instances (design §5: with placement fixed and no QoS bound, problem B is
exactly the GAP), and the published optima they are checked against.
"""
