"""The Azure LLM inference traces of 2023 (Splitwise, ISCA 2024): one request a row, its arrival
time and its prompt and output sizes, as a typed, validated request list.

Format (``data/azure-llm-2023/PROVENANCE.md``): a header ``TIMESTAMP,ContextTokens,
GeneratedTokens`` (other columns are ignored), then one row per request, the timestamp as
``YYYY-MM-DD HH:MM:SS.fffffff`` (seven decimals; fewer are accepted), no newline required at the
end of the file.

Readings:

- times are seconds since the file's first request (the trace's own zero), exact to the 1e-7 s
  of the file: timestamps are read as integer ticks, not through float parsing of the clock;
- rows must come in time order (equal times allowed): an earlier timestamp than the row before
  is refused with both line numbers, not sorted, since a reordered file is more likely a broken
  export than a feature, and a silent sort would hide it (``sort -t, -k1,1`` fixes a file);
- a request has ContextTokens >= 1 and GeneratedTokens >= 1 (the prefill yields the first output
  token, so an LLM request generates at least one); both shipped traces satisfy it;
- a window ``[start, start + window)`` of trace time is cut first, then the request limit (the
  first N of the window), then the time scaling: arrival times measured from ``start`` and
  divided by ``speedup``, so ``speedup=2`` replays the same requests at twice the load.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..shipped import shipped

# The shipped copy of the traces (see its PROVENANCE.md and LICENSE), package data of
# ``opt_offload.data``: found through the package in a checkout, an editable install or a wheel.
DATA_FOLDER = "data/azure-llm-2023"
TRACE_FILES = {
    "code": "AzureLLMInferenceTrace_code.csv",
    "conv": "AzureLLMInferenceTrace_conv.csv",
}
COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
TICKS_PER_S = 10_000_000  # the file's seven decimals
MAX_PROBLEMS = 10  # malformed rows listed before the rest are only counted


def trace_path(name: str) -> Path:
    """The shipped trace ``code`` or ``conv`` (or a path, returned as is)."""
    if name in TRACE_FILES:
        return shipped(f"{DATA_FOLDER}/{TRACE_FILES[name]}")
    return Path(name)


@dataclass(frozen=True)
class Request:
    """One request: its line in the file, arrival (s, after windowing and scaling), sizes."""

    line: int
    arrival_s: float
    prompt_tokens: int
    generated_tokens: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.generated_tokens


@dataclass(frozen=True)
class Trace:
    """A window of a trace: requests in arrival order and how they were cut from the file."""

    source: str
    requests: tuple[Request, ...]
    start_s: float = 0.0
    window_s: float | None = None
    speedup: float = 1.0
    span_s: float = 0.0  # the whole file's span, last arrival minus first (trace time)

    @property
    def name(self) -> str:
        stem = Path(self.source).stem.removeprefix("AzureLLMInferenceTrace_")
        if self.window_s is not None:
            window = f"-{self.start_s:g}+{self.window_s:g}s"
        else:
            window = f"-{self.start_s:g}s" if self.start_s else ""
        speed = "" if self.speedup == 1 else f"-x{self.speedup:g}"
        return f"azure-{stem}{window}{speed}"

    @property
    def duration_s(self) -> float:
        """The replayed period: the window's length (scaled), or the last arrival."""
        if self.window_s is not None:
            return min(self.window_s, self.span_s - self.start_s) / self.speedup
        return self.requests[-1].arrival_s if self.requests else 0.0

    @cached_property
    def arrivals_s(self) -> np.ndarray:
        return np.array([r.arrival_s for r in self.requests])

    @cached_property
    def prompt_tokens(self) -> np.ndarray:
        return np.array([r.prompt_tokens for r in self.requests], dtype=np.int64)

    @cached_property
    def generated_tokens(self) -> np.ndarray:
        return np.array([r.generated_tokens for r in self.requests], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.requests)


def timestamp_ticks(text: str) -> int:
    """``YYYY-MM-DD HH:MM:SS[.f{1,7}]`` as integer 1e-7 s ticks since the epoch (naive clock)."""
    clock, dot, fraction = text.strip().partition(".")
    if dot and not (1 <= len(fraction) <= 7 and fraction.isdigit()):
        raise ValueError("expected up to 7 decimals of a second")
    try:
        moment = datetime.fromisoformat(clock)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is not None or len(clock) != 19:
        raise ValueError("expected YYYY-MM-DD HH:MM:SS.fffffff")
    whole = (moment - datetime(1970, 1, 1)) // datetime.resolution  # microseconds, exact
    return whole * 10 + int(fraction.ljust(7, "0") or 0)


def positive_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError("expected a whole number of tokens") from None
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


def header_columns(header: list[str], source: str) -> dict[str, int]:
    names = [name.strip() for name in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise InputError(
            f"line 1: missing column {', '.join(missing)} (header has {', '.join(names)}; "
            f"expected {','.join(COLUMNS)})",
            source,
        )
    return {c: names.index(c) for c in COLUMNS}


def parse_rows(path: Path, source: str) -> list[tuple[int, int, int, int]]:
    """(line, ticks, prompt, generated) per row, every malformed row reported by line and
    ``source`` (the file as the user named it)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", source) from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise InputError(f"empty file: expected the header {','.join(COLUMNS)}", source)
    index = header_columns(header, source)
    width = max(index.values()) + 1
    rows, problems = [], []
    previous = None  # (line, ticks) of the row before
    for fields in reader:
        line = reader.line_num
        if not fields:
            continue
        if len(fields) < width:
            problems.append(f"line {line}: expected {len(header)} fields, got {len(fields)}")
            continue
        row = []
        for column, parse in zip(COLUMNS, (timestamp_ticks, positive_count, positive_count)):
            try:
                row.append(parse(fields[index[column]]))
            except ValueError as exc:
                value = fields[index[column]]
                problems.append(f"line {line}: {column}: {exc} ({value!r})")
        if len(row) < 3:
            continue
        if previous is not None and row[0] < previous[1]:
            problems.append(
                f"line {line}: TIMESTAMP: earlier than line {previous[0]}'s; rows must be in "
                "time order (the reader refuses, it does not sort)"
            )
        previous = (line, row[0])
        rows.append((line, *row))
    if problems:
        extra = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS] + ([f"... and {extra} more"] if extra > 0 else [])
        raise InputError(shown, source)
    if not rows:
        raise InputError("no requests after the header", source)
    return rows


def check_cut(start_s: float, window_s: float | None, limit: int | None, speedup: float) -> None:
    problems = []
    if not math.isfinite(start_s) or start_s < 0:
        problems.append(f"--start: must be a finite number >= 0, got {start_s}")
    if window_s is not None and not (math.isfinite(window_s) and window_s > 0):
        problems.append(f"--window: must be a finite number > 0, got {window_s}")
    if limit is not None and limit < 1:
        problems.append(f"--limit: must be at least 1, got {limit}")
    if not (math.isfinite(speedup) and speedup > 0):
        problems.append(f"--speedup: must be a finite number > 0, got {speedup}")
    if problems:
        raise InputError(problems)


def read_trace(
    path: str | Path,
    *,
    start_s: float = 0.0,
    window_s: float | None = None,
    limit: int | None = None,
    speedup: float = 1.0,
) -> Trace:
    """The requests of ``[start_s, start_s + window_s)`` (trace seconds; no window: to the end),
    the first ``limit`` of them, arrivals from ``start_s`` divided by ``speedup``."""
    check_cut(start_s, window_s, limit, speedup)
    source = str(path)  # errors name the file as given: "code", not the installed path
    path = trace_path(source)
    rows = parse_rows(path, source)
    first, last = rows[0][1], rows[-1][1]
    low = first + round(start_s * TICKS_PER_S)
    high = math.inf if window_s is None else low + round(window_s * TICKS_PER_S)
    chosen = [row for row in rows if low <= row[1] < high][:limit]
    span = (last - first) / TICKS_PER_S
    if not chosen:
        end = "the end" if window_s is None else f"{start_s + window_s:g} s"
        raise InputError(
            f"--start/--window: no requests from {start_s:g} s to {end} "
            f"(the trace spans 0 to {span:.1f} s)",
            source,
        )
    requests = tuple(
        Request(line, (ticks - low) / TICKS_PER_S / speedup, prompt, generated)
        for line, ticks, prompt, generated in chosen
    )
    return Trace(str(path), requests, start_s, window_s, speedup, span)
