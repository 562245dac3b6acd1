"""PRADA's Table 2 and the knees of its Figs. 5-8, side by side with this simulation, under
both readings of a queued request's upload (``priced`` and ``shared``).

Table 2 (per dataset, Table 3 settings): accuracy of all-SLM, pi_theta and PRADA; processing
delay of the three; PRADA's communication and queuing delay (ms/task). Ours:

- all-SLM: the all-local run;
- pi_theta: the screening rule of Stage 1 with no contention (every nominated step on the
  LLM, no upload, no queue), the policy pi_theta stands for
  (:mod:`opt_offload.simulation.calibration`); it involves no upload, so it is the same under
  both readings;
- PRADA: the screening rule with the threshold rules per slot.

Each cell says what role it plays: ``input`` (a Table 2 number the model is built from: the
quality surrogate's two means per dataset, and the presets' solution lengths, set so that the
all-SLM delays of gaokao and mmlu-stem keep Table 2's ratio to gsm8k), ``calibrated`` (one of
the two constants fitted on gsm8k: FlopsSLM to the all-SLM delay, beta to pi_theta's), and
``predicted`` (gsm8k) or ``held out`` (gaokao2023en, mmlu_stem): outputs nothing was fitted
to. Calibration uses gsm8k only.

The knees (gsm8k, the PRADA line) are read off sweeps over M at B = 4e7 and over B at M = 9
with :func:`~opt_offload.simulation.sweep.critical_value` (from where 90% of the change is
done), beside the positions the paper's text gives (Sec. 5.3-5.4).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..prada import TABLE2
from .calibration import calibration_draws, per_task_ms
from .config import UPLOAD_READINGS, SimulationConfig
from .policies import screen
from .presets import PRESETS
from .sweep import Executor, SweepPlan, critical_value, mean_interval, run_sweep, summarise_runs

DATASETS = {"gsm8k": "gsm8k", "gaokao2023en": "gaokao", "mmlu_stem": "mmlu-stem"}  # -> preset
CALIBRATED_ON = "gsm8k"
SHARE = 0.9  # a knee: from where this share of the curve's change is done


@dataclass(frozen=True)
class Settings:
    """How much to run: the default is a few minutes on two cores; ``quick`` seconds."""

    slots: int = 2000
    seeds: int = 3
    capacities: tuple[int, ...] = tuple(range(1, 16))
    bandwidths: tuple[float, ...] = (
        1e5, 3.16e5, 1e6, 2e6, 3.16e6, 5e6, 1e7, 3.16e7, 1e8, 1e9,
    )  # fmt: skip
    readings: tuple[str, ...] = UPLOAD_READINGS


QUICK = Settings(slots=300, seeds=1, capacities=(1, 3, 9, 15), bandwidths=(1e5, 1e6, 1e7, 1e9))


# --- Table 2 ---------------------------------------------------------------------------------

# (cell, Table2Row attribute, scale to the printed unit)
TABLE2_CELLS = (
    ("acc. % all-SLM", "slm_accuracy", 100.0),
    ("acc. % pi_theta", "pi_theta_accuracy", 100.0),
    ("acc. % PRADA", "prada_accuracy", 100.0),
    ("proc. ms all-SLM", "slm_processing_ms", 1.0),
    ("proc. ms pi_theta", "pi_theta_processing_ms", 1.0),
    ("proc. ms PRADA", "prada_processing_ms", 1.0),
    ("comm. ms PRADA", "prada_communication_ms", 1.0),
    ("queue ms PRADA", "prada_queuing_ms", 1.0),
)


OFF_BY = 1.5  # a cell no reading brings within this factor of the paper's gets a note

# Why a cell is off, where no reading reproduces it: which equation or setting of the paper it
# contradicts (the figures are this package's, from the runs named; docs/simulation.md).
NOTES = {
    "prada_communication_ms": "eq. (25), c = 32 L / log2(1 + SNR), at the presets' contexts "
    "(gsm8k: about 170 tokens at a candidate step, mean SNR 10 dB) gives c of about 2,000 "
    "bit/(bit/s/Hz): 51 us at the whole B = 4e7 Hz, and PRADA uploads about 0.5 steps a "
    "task. Table 2's 0.4 ms/task needs 16x that: contexts of about 2,800 tokens or a band 16x "
    "narrower. Reading Table 3's B as a bit rate (its printed unit, bit/s) gives 32 L / B = "
    "0.14 ms an upload, still 6x short.",
    "prada_queuing_ms": "Table 2 with Table 3 fixes the server's load: PRADA's processing "
    "(gsm8k 6.0 ms/task) exceeds all-SLM's (3.1) by at least 2.9 ms of LLM time a task "
    "(TL > TS), and lambda = 3 tasks a 1 ms slot keep at least 8.7 of M = 9 slots busy (97%; "
    "ours 99.8%). An M/M/9 queue at 97% with 6 ms services (eq. 17) waits about 18 ms a "
    "request (Erlang C), about 9 ms a task at 0.5 offloaded steps; Table 2's 2.5 ms/task fits "
    "a server well below the load its own processing delay implies.",
    "pi_theta_processing_ms": "one latency weight beta (eq. 6) for every dataset: Table 2's "
    "gaokao2023en pi_theta gains 1.9 accuracy points over all-SLM for 16.7 ms more "
    "processing a task, gsm8k's 8.7 points for 6.8 ms. With beta calibrated on gsm8k "
    "(2.45 /s) few gaokao steps are worth the LLM's time; 22.5 ms would need beta = 0.029 /s "
    "on gaokao, 85x lower.",
}
FEW_GAOKAO_STEPS = (
    "follows pi_theta's processing: the beta of eq. (6) calibrated on gsm8k nominates few "
    "gaokao2023en steps, so its server is seldom full."
)
NOTES |= {
    ("gaokao2023en", "prada_processing_ms"): FEW_GAOKAO_STEPS,
    ("gaokao2023en", "prada_queuing_ms"): FEW_GAOKAO_STEPS,
}


def note_for(row: dict, readings: Sequence[str]) -> str | None:
    """The note of a cell no reading brings within OFF_BY of the paper's value."""
    ratios = [row[f"{reading}_ratio"] for reading in readings]
    if all(r == r and 1 / OFF_BY <= r <= OFF_BY for r in ratios):
        return None
    return NOTES.get((row["dataset"], row["attribute"])) or NOTES.get(row["attribute"], "no note")


def cell_role(dataset: str, attribute: str) -> str:
    if attribute in ("slm_accuracy",) or (
        attribute == "slm_processing_ms" and dataset != CALIBRATED_ON
    ):
        return "input"
    if dataset == CALIBRATED_ON and attribute in ("slm_processing_ms", "pi_theta_processing_ms"):
        return "calibrated"
    return "predicted" if dataset == CALIBRATED_ON else "held out"


def pi_theta_cells(preset: str) -> dict[str, float]:
    """Screening without contention (the calibration's draws): accuracy and processing."""
    from .calibration import BETA_PER_S, FLOPS_SLM

    draws = calibration_draws(PRESETS[preset], FLOPS_SLM)
    nominated = screen(draws, BETA_PER_S, rng=None)
    owner = np.repeat(np.arange(len(draws.steps)), draws.steps)
    gained = np.bincount(owner, np.where(nominated, draws.gain, 0.0), minlength=len(draws.steps))
    return {
        "pi_theta_accuracy": float(np.mean(draws.slm_success + gained)),
        "pi_theta_processing_ms": per_task_ms(
            draws, np.where(nominated, draws.server_s, draws.local_s)
        ),
    }


def table2_configs(settings: Settings) -> list[tuple[str, str, SimulationConfig]]:
    """``(dataset, line, config)``: all-local once per dataset (nothing uploads), PRADA per
    reading, every seed."""
    configs = []
    for dataset, preset in DATASETS.items():
        for seed in range(settings.seeds):
            base = SimulationConfig(preset=preset, slots=settings.slots, seed=seed)
            configs.append((dataset, "all-local", dataclasses.replace(base, scheduler="all-local")))
            for reading in settings.readings:
                configs.append((dataset, reading, dataclasses.replace(base, upload=reading)))
    return configs


def table2_rows(runs: Sequence[tuple[str, str, dict]], readings: Sequence[str]) -> list[dict]:
    """One row per (dataset, cell): the paper's value, its role, ours per reading (mean over
    seeds and its 95% half-width) and the ratio ours / paper."""

    def mean(dataset: str, line: str, metric: str) -> tuple[float, float]:
        values = [r[metric] for d, kind, r in runs if d == dataset and kind == line]
        return mean_interval(values)

    rows = []
    for dataset, preset in DATASETS.items():
        paper = TABLE2[dataset]
        pi_theta = pi_theta_cells(preset)
        for cell, attribute, scale in TABLE2_CELLS:
            row = {
                "dataset": dataset,
                "cell": cell,
                "attribute": attribute,
                "role": cell_role(dataset, attribute),
                "paper": scale * getattr(paper, attribute),
            }
            for reading in readings:
                if attribute.startswith("pi_theta"):
                    ours, ci = scale * pi_theta[attribute], 0.0  # no upload: either reading
                elif attribute.startswith("slm"):
                    metric = "accuracy_surrogate" if "accuracy" in attribute else "processing_ms"
                    ours, ci = (scale * v for v in mean(dataset, "all-local", metric))
                else:
                    metric = {
                        "prada_accuracy": "accuracy_surrogate",
                        "prada_processing_ms": "processing_ms",
                        "prada_communication_ms": "communication_ms",
                        "prada_queuing_ms": "queuing_ms",
                    }[attribute]
                    ours, ci = (scale * v for v in mean(dataset, reading, metric))
                row[reading] = ours
                row[f"{reading}_ci"] = ci
                row[f"{reading}_ratio"] = ours / row["paper"] if row["paper"] else math.nan
            rows.append(row)
    return rows


# --- Figs. 5-8: the knees --------------------------------------------------------------------


@dataclass(frozen=True)
class Knee:
    figure: str
    what: str
    axis: str  # "M" or "B"
    metric: str
    paper: float | None  # the position the paper's text gives, if it gives one
    paper_text: str
    find: str = "saturation"  # or "steepest" (largest rise per grid step) or "vanishing"


KNEES = (
    Knee(
        "Fig. 5",
        "accuracy saturates, M",
        "M",
        "accuracy_surrogate",
        9,
        "Sec. 5.3: gains as M increases from 3 to 9; beyond, performance saturates",
    ),
    Knee(
        "Fig. 6",
        "queuing near zero, M",
        "M",
        "queuing_ms",
        None,
        "Sec. 5.3: decreases rapidly with M and approaches zero once capacity suffices",
        "vanishing",
    ),
    Knee(
        "Fig. 7",
        "communication negligible, B",
        "B",
        "communication_ms",
        None,
        "Sec. 5.4: decreases rapidly with B, negligible in the moderate regime",
        "vanishing",
    ),
    Knee(
        "Fig. 7",
        "queuing stabilises, B",
        "B",
        "queuing_ms",
        None,
        "Sec. 5.4: increases from the very low-bandwidth regime, then stabilises",
    ),
    Knee(
        "Fig. 8",
        "accuracy gain steepest, B",
        "B",
        "accuracy_surrogate",
        math.sqrt(1e6 * 1e7),
        "Sec. 5.4: most pronounced gain around 1e6 to 1e7 (marked: the decade's middle)",
        "steepest",
    ),
    Knee(
        "Fig. 8",
        "accuracy saturates, B",
        "B",
        "accuracy_surrogate",
        1e7,
        "Sec. 5.4: after the gain around 1e6 to 1e7, accuracy saturates",
    ),
)


def steepest_rise(xs: Sequence[float], ys: Sequence[float], log_x: bool) -> float | None:
    """The middle (geometric on a log axis) of the grid step with the largest rise per unit
    of x (per decade on a log axis)."""
    best, where = 0.0, None
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        width = math.log10(x1 / x0) if log_x else x1 - x0
        if width > 0 and (y1 - y0) / width > best:
            best = (y1 - y0) / width
            where = math.sqrt(x0 * x1) if log_x else 0.5 * (x0 + x1)
    return where


def vanishing_point(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """The smallest grid value from which ``ys`` stays below 1 - SHARE of its largest value."""
    ys = np.asarray(ys, dtype=float)
    top = ys.max()
    if top <= 0:
        return None
    for k in range(len(xs)):
        if (ys[k:] <= (1.0 - SHARE) * top).all():
            return xs[k]
    return None


def knee_of(knee: Knee, summary: list[dict], reading: str) -> float | None:
    curve = sorted(
        (r["x"], r[knee.metric])
        for r in summary
        if r["axis"] == knee.axis and r["reading"] == reading
    )
    xs, ys = [x for x, _ in curve], [y for _, y in curve]
    if len(xs) < 2:
        return None
    if knee.find == "steepest":
        return steepest_rise(xs, ys, log_x=knee.axis == "B")
    if knee.find == "vanishing":
        return vanishing_point(xs, ys)
    return critical_value(xs, ys, SHARE)


def knee_rows(summary: list[dict], readings: Sequence[str]) -> list[dict]:
    rows = []
    for knee in KNEES:
        row = {
            "figure": knee.figure,
            "knee": knee.what,
            "metric": knee.metric,
            "find": knee.find,
            "paper": knee.paper,
            "text": knee.paper_text,
        }
        for reading in readings:
            ours = knee_of(knee, summary, reading)
            row[reading] = ours
            row[f"{reading}_ratio"] = ours / knee.paper if ours is not None and knee.paper else None
        rows.append(row)
    return rows


def sweep_rows(settings: Settings, executor: Executor, done: Callable[[], None]) -> list[dict]:
    """Every sweep run (gsm8k, the PRADA line) of every reading, tagged with its reading."""
    rows = []
    for reading in settings.readings:
        plan = SweepPlan(
            base=SimulationConfig(slots=settings.slots, upload=reading),
            capacities=settings.capacities,
            bandwidths=settings.bandwidths,
            seeds=tuple(range(settings.seeds)),
            strategies=("prada",),
        )
        rows += [{**row, "reading": reading} for row in run_sweep(plan, executor, done)]
    return rows


def reading_summary(rows: list[dict], readings: Sequence[str]) -> list[dict]:
    """:func:`summarise_runs` per reading, each row tagged with its reading."""
    summary = []
    for reading in readings:
        part = summarise_runs(r for r in rows if r["reading"] == reading)
        summary += [{**row, "reading": reading} for row in part]
    return summary


def run_table2(settings: Settings, executor: Executor, done: Callable[[], None]) -> list[dict]:
    configs = table2_configs(settings)
    results = executor([config for _, _, config in configs], done)
    runs = [(dataset, line, result) for (dataset, line, _), result in zip(configs, results)]
    return table2_rows(runs, settings.readings)


def run_count(settings: Settings) -> int:
    table2 = len(DATASETS) * settings.seeds * (1 + len(settings.readings))
    sweeps = len(settings.readings) * settings.seeds
    return table2 + sweeps * (len(settings.capacities) + len(settings.bandwidths))
