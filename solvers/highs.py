"""What every backend that reaches HiGHS shares."""

from __future__ import annotations

import functools
import os
import sys


@functools.cache
def silence_highs_banner() -> None:
    """HiGHS prints a banner on stdout, from C, when a process makes its first Highs object;
    that would corrupt ``--json`` output. Make that first object with fd 1 on /dev/null.
    (Pyomo's interface captures it itself; CVXPY's and plain highspy do not.)"""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
