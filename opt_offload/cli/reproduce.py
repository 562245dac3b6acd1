"""``opt-offload reproduce prada``: PRADA's Table 2 and the knees of Figs. 5-8 beside this
simulation's, under both readings of a queued upload (:mod:`opt_offload.simulation.reproduce`)."""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from ..errors import InputError
from ..io import dumps_strict, write_output
from .common import console
from .simulate import SURROGATE_NOTE, progress_bar


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="a paper's published numbers beside this package's",
        description="Run what a paper reports and print, per number, the paper's value, ours "
        "and their ratio.",
    )
    papers = parser.add_subparsers(dest="paper", required=True, metavar="PAPER")
    prada = papers.add_parser(
        "prada",
        help="PRADA Table 2 and the knees of Figs. 5-8, both readings of a queued upload",
        description="Simulate PRADA's Table 2 (three datasets at Table 3's settings) and sweeps "
        "over M and B (gsm8k), with a queued request's upload priced at B_ref (design §4) and "
        "shared with the slot's band; print each Table 2 cell and each knee of Figs. 5-8 beside "
        "the paper's with the ratio, and draw the figures with the paper's knees marked. "
        "Constants are calibrated on gsm8k only; gaokao2023en and mmlu_stem are held out. The "
        "default takes a few minutes on two cores; --quick, seconds.",
    )
    prada.add_argument(
        "--quick", action="store_true", help="300 slots, 1 seed, 4-point grids (seconds)"
    )
    prada.add_argument("--slots", type=int, help="slots with arrivals per run (2000)")
    prada.add_argument("--seeds", type=int, help="seeds 0..N-1 per point (3)")
    prada.add_argument(
        "--readings",
        help="queued-upload readings, comma-separated (priced,shared; priced alone where the "
        "admission solvers lack the shared reading)",
    )
    prada.add_argument("--workers", type=int, help="local processes (default: every core)")
    prada.add_argument(
        "--out",
        default="reproduce-prada",
        metavar="DIR",
        help="tables and figures (reproduce-prada)",
    )
    prada.set_defaults(run=run)


def settings_of(args: argparse.Namespace):
    from ..simulation.config import UPLOAD_READINGS, shared_reading_solvable
    from ..simulation.reproduce import QUICK, Settings

    settings = QUICK if args.quick else Settings()
    if args.readings is None:
        readings = UPLOAD_READINGS if shared_reading_solvable() else ("priced",)
    else:
        readings = tuple(r.strip() for r in args.readings.split(",") if r.strip())
    problems = [
        f"--readings: unknown {r!r} (known: priced, shared)"
        for r in readings
        if r not in UPLOAD_READINGS
    ]
    if not readings:
        problems.append("--readings: need at least one")
    for flag, value in (
        ("--slots", args.slots),
        ("--seeds", args.seeds),
        ("--workers", args.workers),
    ):
        if value is not None and value < 1:
            problems.append(f"{flag}: must be at least 1, got {value}")
    if problems:
        raise InputError(problems)
    changes = {"readings": readings}
    if args.slots is not None:
        changes["slots"] = args.slots
    if args.seeds is not None:
        changes["seeds"] = args.seeds
    import dataclasses

    return dataclasses.replace(settings, **changes)


def run(args: argparse.Namespace) -> int:
    from ..io import csv_text
    from ..simulation.plots import reproduction_figures
    from ..simulation.reproduce import (
        knee_rows,
        reading_summary,
        run_count,
        run_table2,
        sweep_rows,
    )
    from ..simulation.sweep import local_executor

    settings = settings_of(args)
    folder = Path(args.out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {folder}: cannot create: {exc.strerror or exc}") from None
    executor = local_executor(args.workers)
    with progress_bar("runs", run_count(settings)) as show:
        finished = itertools.count(1)
        done = lambda: show(next(finished))  # noqa: E731
        table2 = run_table2(settings, executor, done)
        sweeps = sweep_rows(settings, executor, done)
    summary = reading_summary(sweeps, settings.readings)
    knees = knee_rows(summary, settings.readings)
    write_output(folder / "table2.csv", csv_text(table2))
    write_output(folder / "knees.csv", csv_text(knees))
    write_output(folder / "sweep_summary.csv", csv_text(summary))
    write_output(
        folder / "settings.json",
        dumps_strict({**settings.__dict__, "note": SURROGATE_NOTE}, indent=2, default=list) + "\n",
    )
    figures = reproduction_figures(summary, knees, folder, settings.readings)
    print_table2(table2, settings.readings)
    print_knees(knees, settings.readings)
    console.print(SURROGATE_NOTE)
    console.print(f"tables and {len(figures)} figures written to {folder}")
    return 0


def ratio_text(value) -> str:
    return "-" if value is None or value != value else f"{value:.2f}"


def print_table2(rows: list[dict], readings) -> None:
    from rich.table import Table

    table = Table(
        title="PRADA Table 2: paper, ours (mean over seeds) and ours / paper",
        caption="acc.: accuracy (ours: the SURROGATE); proc., comm., queue: processing, "
        "communication, queuing delay per task",
    )
    for column in ("dataset", "cell", "role", "paper"):
        table.add_column(column, justify="right" if column == "paper" else "left")
    for reading in readings:
        table.add_column(reading, justify="right")
        table.add_column("ratio", justify="right")
    for row in rows:
        cells = [row["dataset"], row["cell"], row["role"], f"{row['paper']:.1f}"]
        for reading in readings:
            cells += [f"{row[reading]:.2f}", ratio_text(row[f"{reading}_ratio"])]
        table.add_row(*cells)
    console.print(table)
    print_notes(rows, readings)


def print_notes(rows: list[dict], readings) -> None:
    """One note per kind of cell that no reading reproduces within a factor of 1.5."""
    from ..simulation.reproduce import OFF_BY, note_for

    off = {}
    for row in rows:
        note = note_for(row, readings)
        if note is not None:
            off.setdefault((row["cell"], note), []).append(row["dataset"])
    for (cell, note), datasets in off.items():
        console.print(
            f"off by more than {OFF_BY}x under every reading: {cell} ({', '.join(datasets)}): "
            f"{note}"
        )


def format_position(x) -> str:
    return "none" if x is None else f"{x:.3g}"


def print_knees(rows: list[dict], readings) -> None:
    from rich.table import Table

    table = Table(
        title="Figs. 5-8 knees (gsm8k, PRADA line): paper, ours and ours / paper",
        caption="-: the paper gives no position; none: no knee on this grid",
    )
    for column in ("figure", "knee", "paper"):
        table.add_column(column)
    for reading in readings:
        table.add_column(reading, justify="right")
        table.add_column("ratio", justify="right")
    for row in rows:
        paper = "-" if row["paper"] is None else format_position(row["paper"])
        cells = [row["figure"], row["knee"], paper]
        for reading in readings:
            cells += [format_position(row[reading]), ratio_text(row[f"{reading}_ratio"])]
        table.add_row(*cells)
    console.print(table)
    for row in rows:
        console.print(f"{row['figure']} {row['knee']}: {row['text']}")
