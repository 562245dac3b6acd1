"""The options that cut a window out of a trace, shared by ``import azure-llm-trace`` and the
dynamic commands that take ``--arrivals trace:FILE`` (``simulate``, ``sweep``, ``stability``)."""

from __future__ import annotations

import argparse

from ..errors import InputError

TRACE_NAMES = "FILE (a CSV of the Azure LLM trace format; 'code' and 'conv' name the shipped ones)"


def add_window_arguments(parser: argparse.ArgumentParser, *, speedup: bool = True) -> None:
    parser.add_argument(
        "--start", type=float, default=0.0, metavar="S", help="trace seconds to skip (0)"
    )
    parser.add_argument(
        "--window", type=float, metavar="W", help="trace seconds to keep from --start (to the end)"
    )
    parser.add_argument("--limit", type=int, metavar="N", help="the first N requests only")
    if speedup:
        parser.add_argument(
            "--speedup",
            type=float,
            default=1.0,
            metavar="X",
            help="replay X times faster: arrival times divided by X (1)",
        )


def add_arrival_arguments(parser: argparse.ArgumentParser, *, speedup: bool = True) -> None:
    parser.add_argument(
        "--arrivals",
        default="poisson",
        metavar="SOURCE",
        help=f"poisson (default) or trace:{TRACE_NAMES}",
    )
    add_window_arguments(parser, speedup=speedup)


def trace_spec(args: argparse.Namespace):
    """The TraceSpec of ``--arrivals trace:FILE`` and the window options, or None (Poisson)."""
    from ..simulation.arrivals import TraceSpec, parse_arrivals

    path = parse_arrivals(args.arrivals)
    if path is None:
        used = [f"--{name}" for name in ("window", "limit") if getattr(args, name) is not None]
        used += ["--start"] if args.start != 0.0 else []
        used += ["--speedup"] if getattr(args, "speedup", 1.0) != 1.0 else []
        if used:
            raise InputError(f"{', '.join(used)}: only with --arrivals trace:FILE")
        return None
    return TraceSpec(path, args.start, args.window, args.limit, getattr(args, "speedup", 1.0))
