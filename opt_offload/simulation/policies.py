"""Stage 1, decentralised screening (PRADA Sec. 4.1, eqs. 19-22): which steps become candidates.

A policy sees one user's own step (no other user, no server state) and nominates it or not;
a step it does not nominate runs locally (a_i = 0 is binding). Each takes the batch's step
draws, beta and a generator, and returns one boolean per step.

- ``screen``: the coarse rule pi_theta is trained for. Eqs. (20)-(21) charge a step only its
  computation, ``beta TS`` locally and ``beta TL`` on the server, and leave communication and
  queueing to Stage 2 (Proposition 1: that never wrongly keeps a step local). Under the quality
  surrogate a step's value gain g_ik does not depend on the other steps' actions, so the coarse
  Q-difference is ``Q(x,1) - Q(x,0) = g_ik - beta (TL - TS)`` and the optimal coarse policy
  nominates exactly when it is positive. This rule stands in for the trained pi_theta.
- ``random``: PRADA Sec. 5.3's random policy: each step nominated with probability 1/2.
- ``all``: every step nominated; with the ``all-server`` scheduler this is the all-LLM bound.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .tasks import StepDraws

RANDOM_POLICY_RATE = 0.5  # Sec. 5.3: "uniform sampling" of the binary action


def coarse_advantage(draws: StepDraws, beta_per_s: float) -> np.ndarray:
    """Q(x,1) - Q(x,0) under the coarse return of eqs. (20)-(22): g_ik - beta (TL - TS)."""
    return draws.gain - beta_per_s * (draws.server_s - draws.local_s)


def screen(draws: StepDraws, beta_per_s: float, rng: np.random.Generator | None) -> np.ndarray:
    return coarse_advantage(draws, beta_per_s) > 0.0


def random_policy(
    draws: StepDraws, beta_per_s: float, rng: np.random.Generator | None
) -> np.ndarray:
    return rng.random(len(draws.gain)) < RANDOM_POLICY_RATE


def every_step(draws: StepDraws, beta_per_s: float, rng: np.random.Generator | None) -> np.ndarray:
    return np.ones(len(draws.gain), dtype=bool)


POLICIES = {"screen": screen, "random": random_policy, "all": every_step}


def stage1_policy(name: str):
    try:
        return POLICIES[name]
    except KeyError:
        known = ", ".join(POLICIES)
        raise InputError(f"--policy: unknown Stage 1 policy {name!r} (known: {known})") from None
