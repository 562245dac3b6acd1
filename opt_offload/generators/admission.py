"""``opt-offload generate admission``: one slot of PRADA's Stage 2 at the Table 3 settings.

Where the numbers come from (every preset below cites its source or says it is an assumption):
the server (M, B, FlopsLLM) is PRADA Table 3; the edge and server models are Qwen2.5-Math-1.5B
and -7B (PRADA Sec. 5, dimensions from :mod:`opt_offload.costs.configs`); the server time
d_i = TL_i is eq. (17) with the step FLOPs of eq. (16) (``--flops paper``) or the
architecture-exact count (``--flops architecture``, the default); the SNR is a Rayleigh draw
(:mod:`opt_offload.costs.channel`); contexts grow step by step as in a gsm8k solution; value
gains are a surrogate calibrated to PRADA Table 2 (design §8). Options force each case of
Theorem 2, an outage, the number of candidates and a binding bandwidth.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from ..errors import lookup

# PRADA Table 3, Sec. 5 and the channel assumptions, shared with the simulation.
from ..prada import (
    BITS_PER_TOKEN,
    CAPACITY,
    MEAN_SNR_DB,
    SERVER_MODEL,
    SNR_THRESHOLD_DB,
    TABLE2,
    TABLE3_BANDWIDTH_HZ,
)
from ..schemas import AdmissionInstance
from . import register_generator

# PRADA Fig. 8: accuracy rises between B = 1e6 and 1e7; two decades below Table 3 the upload
# cost is of the order of the value gains, so the band constraint shapes the decisions.
BINDING_BANDWIDTH_HZ = 4e5
# PRADA Table 2, gsm8k: LLM side (the pi_theta column) 93.9% vs all-SLM 85.2% accuracy, so a
# candidate's value gain g_i = Q(x,1) - Q(x,0) is drawn exponential with mean 0.087 (surrogate,
# design §8).
MEAN_GAIN = TABLE2["gsm8k"].accuracy_gap
# Assumption (PRADA does not report beta): 20 /s makes Table 2's gsm8k queueing delay of 2.5 ms
# cost 0.05, about half the mean gain, so queueing is a real trade-off.
BETA_PER_S = 20.0
# Context growth, gsm8k-like (assumption): a question of 40-120 tokens, then 0-7 reasoning
# steps of 20-60 tokens each already in the context; the step to run adds 20-60 new tokens.
QUESTION_TOKENS = (40, 120)
STEPS_DONE = (0, 7)
STEP_TOKENS = (20, 60)
CASES = ("any", "abundant", "competitive", "server-full")


@dataclass(frozen=True)
class SlotSettings:
    candidates: int = 8
    case: str = "any"
    bandwidth_hz: float = TABLE3_BANDWIDTH_HZ
    beta: float = BETA_PER_S
    mean_snr_db: float = MEAN_SNR_DB
    outage: bool = False
    queue: str = "given"
    flops: str = "architecture"


def busy_slots(settings: SlotSettings, rng) -> int:
    """|M_t| for the case asked (Theorem 2's three cases differ by M - |M_t| against |O_t|)."""
    n = settings.candidates
    if settings.case == "server-full":
        return CAPACITY
    if settings.case == "abundant":
        return int(rng.integers(0, CAPACITY - n + 1))
    if settings.case == "competitive":
        return int(rng.integers(max(0, CAPACITY - n + 1), CAPACITY))
    return int(rng.integers(0, CAPACITY + 1))


def check_settings(settings: SlotSettings) -> None:
    from ..errors import InputError

    n = settings.candidates
    problems = []
    if n < 0:
        problems.append(f"--candidates: must be at least 0, got {n}")
    if settings.case == "abundant" and n > CAPACITY:
        problems.append(f"--case abundant: needs at most M = {CAPACITY} candidates, got {n}")
    if settings.case == "competitive" and n < 2:
        problems.append("--case competitive: needs at least 2 candidates")
    if settings.outage and n < 1:
        problems.append("--outage: needs at least 1 candidate")
    if problems:
        raise InputError(problems)


def server_time_s(context: int, new_tokens: int, flops: str) -> float:
    """d_i = TL_i, eq. (17): the step's FLOPs on the server LLM over FlopsLLM."""
    from ..costs.configs import preset
    from ..costs.flops import paper_step_flops, step_flops
    from ..costs.latency import FLOPS_LLM, compute_time_s

    config = preset(SERVER_MODEL)
    if flops == "paper":
        work = paper_step_flops(context, config.hidden_size, config.num_layers, new_tokens)
    else:
        work = step_flops(config, context, new_tokens).total
    return compute_time_s(work, FLOPS_LLM)


def outage_snr_db(mean_db: float, threshold_db: float, rng) -> float:
    """A Rayleigh SNR conditioned on lying below the threshold (inverse CDF of the exponential)."""
    from ..costs.channel import db_to_linear, linear_to_db

    mean = db_to_linear(mean_db)
    below = 1.0 - math.exp(-db_to_linear(threshold_db) / mean)
    linear = -mean * math.log1p(-rng.uniform(0.0, below))
    return min(linear_to_db(max(linear, 1e-300)), threshold_db - 1e-6)


def draw_candidates(settings: SlotSettings, rng) -> list[dict]:
    from ..costs.channel import rayleigh_snr_db

    n = settings.candidates
    snr = rayleigh_snr_db(settings.mean_snr_db, n, rng)
    if settings.outage:
        snr[0] = outage_snr_db(settings.mean_snr_db, SNR_THRESHOLD_DB, rng)
    candidates = []
    for i in range(n):
        steps = int(rng.integers(STEPS_DONE[0], STEPS_DONE[1] + 1))
        context = int(rng.integers(*QUESTION_TOKENS)) + int(
            rng.integers(STEP_TOKENS[0], STEP_TOKENS[1] + 1, size=steps).sum()
        )
        new_tokens = int(rng.integers(STEP_TOKENS[0], STEP_TOKENS[1] + 1))
        candidates.append(
            {
                "id": f"u{i + 1}",
                "context_tokens": context,
                "snr_db": round(float(snr[i]), 6),
                "waited_s": 0.0,  # newly submitted (Sec. 4.2.1: tau_i = 0)
                "server_time_s": server_time_s(context, new_tokens, settings.flops),
                "gain": round(float(rng.exponential(MEAN_GAIN)), 6),
            }
        )
    return candidates


def upload_s(document: dict, candidate: dict, bandwidth_hz: float) -> float:
    """TC_i = 32 L_i / (B log2(1 + gamma_i)), eq. (25)."""
    from ..costs.channel import db_to_linear, upload_time_s

    bits = BITS_PER_TOKEN * candidate["context_tokens"]
    return upload_time_s(bits, bandwidth_hz, db_to_linear(candidate["snr_db"]))


def given_queue_delays(document: dict) -> None:
    """TQ_i in the spirit of Sec. 4.2.5 (an assumption of this generator): the free slots are
    taken now by the highest gains (each uploading over an even share of B, then serving),
    and every candidate, in descending gain, is list-scheduled behind them and the in-flight
    requests, ready when its upload at B completes. A queued request thus waits for a slot
    that frees, as the paper's queue does."""
    from ..queueing import list_schedule_waits

    server = document["server"]
    free = server["capacity"] - len(server["busy_remaining_s"])
    by_gain = sorted(document["candidates"], key=lambda c: -c["gain"])
    share = document["bandwidth_hz"] / max(1, free)
    admitted = [upload_s(document, c, share) + c["server_time_s"] for c in by_gain[:free]]
    slots = server["busy_remaining_s"] + admitted + [0.0] * (free - len(admitted))
    arrivals = [
        (c["id"], upload_s(document, c, document["bandwidth_hz"]), c["server_time_s"])
        for c in by_gain
    ]
    waits = list_schedule_waits(slots, arrivals)
    for c in document["candidates"]:
        c["queue_delay_s"] = waits[c["id"]]


def with_upload(instance: AdmissionInstance, upload: str) -> AdmissionInstance:
    """The same slot read with ``queue.upload = upload`` ('priced' or 'shared')."""
    document = instance.model_dump()
    document["queue"]["upload"] = upload
    return AdmissionInstance.model_validate(document)


def subset_sum_slot(
    candidates: int, seed: int = 0, spread: float = 1e-3, upload: str = "priced"
) -> AdmissionInstance:
    """A hard slot for the exact solvers: every candidate may be admitted (M = n free slots,
    queueing never pays), and the gains sit on one ray, ``g_i = rho u_i (1 + e_i)`` with
    ``u_i = sqrt(beta c_i / B)``, e_i uniform in [-spread, spread] and ``rho = sum_i u_i``, so
    the value ``rho U - U^2`` (U = sum of u_i admitted) is a subset sum aiming at U = rho/2.
    Contexts are uniform in 100..2,000 tokens at 10 dB, beta = 20, B = Table 3's."""
    import numpy as np

    rng = np.random.default_rng(seed)
    snr_db, beta = 10.0, BETA_PER_S
    contexts = rng.integers(100, 2001, size=candidates)
    spectral = math.log2(1.0 + 10.0 ** (snr_db / 10.0))
    weights = [
        math.sqrt(beta * BITS_PER_TOKEN * int(L) / spectral / TABLE3_BANDWIDTH_HZ) for L in contexts
    ]
    rho = sum(weights)
    noise = rng.uniform(-spread, spread, size=candidates)
    document = {
        "kind": "admission",
        "version": 1,
        "name": f"subset-sum-n{candidates}-s{seed}",
        "comment": f"subset_sum_slot(candidates={candidates}, seed={seed}, spread={spread})",
        "server": {"capacity": max(1, candidates)},
        "bandwidth_hz": TABLE3_BANDWIDTH_HZ,
        "beta": beta,
        "bits_per_token": BITS_PER_TOKEN,
        "queue": {"delay": "given", "upload": upload},
        "candidates": [
            {
                "id": f"u{i}",
                "context_tokens": int(L),
                "snr_db": snr_db,
                "server_time_s": 0.1,
                "gain": rho * w * (1.0 + float(e)),
                "queue_delay_s": 1e3,  # a queued request is never worth its wait
            }
            for i, (L, w, e) in enumerate(zip(contexts, weights, noise))
        ],
    }
    return AdmissionInstance.model_validate(document)


def generate_slot(settings: SlotSettings, seed: int = 0) -> AdmissionInstance:
    """One admission instance; the same settings and seed give the same instance."""
    import numpy as np

    check_settings(settings)
    rng = np.random.default_rng(seed)
    candidates = draw_candidates(settings, rng)
    typical_step = server_time_s(QUESTION_TOKENS[1], STEP_TOKENS[1], settings.flops)
    # in-flight requests: assumption, a uniform share of a typical server step remains
    busy = [float(rng.uniform(0.05, 1.0)) * typical_step for _ in range(busy_slots(settings, rng))]
    document = {
        "kind": "admission",
        "version": 1,
        "name": f"table3-{settings.case}-n{settings.candidates}-s{seed}",
        "comment": describe(settings, seed),
        "server": {"capacity": CAPACITY, "busy_remaining_s": busy},
        "bandwidth_hz": settings.bandwidth_hz,
        "beta": settings.beta,
        "snr_threshold_db": SNR_THRESHOLD_DB,
        "bits_per_token": BITS_PER_TOKEN,
        "queue": {"delay": settings.queue, "reference_bandwidth_hz": None},
        "candidates": candidates,
    }
    if settings.queue == "given":
        given_queue_delays(document)
    return AdmissionInstance.model_validate(document)


def describe(settings: SlotSettings, seed: int) -> str:
    return (
        f"Generated at PRADA Table 3 (M = {CAPACITY}, B = {settings.bandwidth_hz:g} Hz, "
        f"FlopsLLM = 8e13), {settings.candidates} candidates, case {settings.case}, "
        f"queue delays {settings.queue}, server time from the {settings.flops} FLOP count of "
        f"{SERVER_MODEL}, seed {seed}" + (", one candidate in outage" if settings.outage else "")
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..cli.common import number

    parser.add_argument(
        "--candidates",
        "-n",
        type=number(0, 100_000, integer=True),
        default=8,
        help="|O_t| (default 8)",
    )
    parser.add_argument(
        "--case",
        choices=CASES,
        default="any",
        help="force a case of Theorem 2 through |M_t| (default: any, |M_t| uniform on 0..M)",
    )
    parser.add_argument(
        "--bandwidth",
        choices=("table3", "binding"),
        default="table3",
        help=f"table3: B = {TABLE3_BANDWIDTH_HZ:g} Hz (upload cost small); binding: "
        f"B = {BINDING_BANDWIDTH_HZ:g} Hz (upload cost of the order of the gains)",
    )
    parser.add_argument(
        "--beta", type=number(0, 1e6), default=BETA_PER_S, help="latency weight, 1/s"
    )
    parser.add_argument("--mean-snr-db", type=number(-100, 100), default=MEAN_SNR_DB)
    parser.add_argument("--outage", action="store_true", help="one candidate below gamma_th")
    parser.add_argument("--queue", choices=("given", "estimate"), default="given")
    parser.add_argument("--flops", choices=("architecture", "paper"), default="architecture")


BANDWIDTHS = {"table3": TABLE3_BANDWIDTH_HZ, "binding": BINDING_BANDWIDTH_HZ}


def generate_admission(
    *,
    candidates: int = 8,
    case: str = "any",
    bandwidth: str = "table3",
    beta: float = BETA_PER_S,
    mean_snr_db: float = MEAN_SNR_DB,
    outage: bool = False,
    queue: str = "given",
    flops: str = "architecture",
    seed: int = 0,
) -> AdmissionInstance:
    """One slot of PRADA Stage 2 at the Table 3 settings, the instance that
    ``opt-offload generate admission`` writes for the same arguments (same bytes).

    ``case`` forces a case of Theorem 2 (``any``, ``abundant``, ``competitive``,
    ``server-full``); ``bandwidth`` is ``table3`` (B = 4e7 Hz) or ``binding`` (4e5 Hz, where
    uploads cost as much as the gains); ``queue`` is ``given`` or ``estimate``; ``flops`` is the
    FLOP count behind the server times, ``architecture`` or eq. (16) as printed (``paper``).
    """
    bandwidth_hz = lookup(BANDWIDTHS, bandwidth, "--bandwidth: bandwidth")
    settings = SlotSettings(
        candidates=candidates,
        case=case,
        bandwidth_hz=bandwidth_hz,
        beta=beta,
        mean_snr_db=mean_snr_db,
        outage=outage,
        queue=queue,
        flops=flops,
    )
    return generate_slot(settings, seed)


register_generator(
    "admission",
    description="one slot of PRADA Stage 2 at the Table 3 settings (M = 9, B = 4e7)",
    add_arguments=add_arguments,
)(generate_admission)
