"""Pictures of trace replays: the trace itself (arrival rate over time, token distributions),
goodput and p99 latency against load per policy, and the queue over time."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence

import numpy as np


def save(figure, path: str | os.PathLike) -> None:
    from ..io import save_figure

    save_figure(figure, path, dpi=110)


def trace_figure(traces: Sequence, path: str | os.PathLike, bin_s: float = 10.0) -> None:
    """Per trace: requests per second in ``bin_s`` bins over the hour, and the distributions of
    prompt and generated tokens (log-spaced histograms)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 3.4), layout="constrained")
    rate, prompt, output = figure.subplots(1, 3)
    for trace in traces:
        label = trace.name
        edges = np.arange(0.0, trace.arrivals_s[-1] + bin_s, bin_s)
        counts, _ = np.histogram(trace.arrivals_s, edges)
        rate.step(edges[:-1] / 60, counts / bin_s, where="post", label=label, linewidth=0.9)
        for axis, tokens in ((prompt, trace.prompt_tokens), (output, trace.generated_tokens)):
            bins = np.logspace(0, np.log10(tokens.max() + 1), 40)
            axis.hist(tokens, bins=bins, histtype="step", label=label)
    rate.set(xlabel="minute of the trace", ylabel=f"requests/s ({bin_s:g} s bins)")
    rate.set_title("arrival rate")
    prompt.set(xscale="log", xlabel="prompt tokens", ylabel="requests", title="prompts")
    output.set(xscale="log", xlabel="generated tokens", ylabel="requests", title="outputs")
    rate.legend(fontsize=8)
    save(figure, path)


def load_figure(runs: Sequence[dict], path: str | os.PathLike, title: str = "") -> None:
    """Goodput (share served within L_max) and p99 latency against the load factor, a line
    per policy (records of :meth:`opt_offload.simulation.replay.Replay.as_dict`)."""
    from matplotlib.figure import Figure

    lines: dict[str, list[dict]] = defaultdict(list)
    for run in runs:
        lines[run["policy"]].append(run)
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    goodput, tail = figure.subplots(1, 2)
    for policy, mine in lines.items():
        mine = sorted(mine, key=lambda r: r["speedup"])
        loads = [r["speedup"] for r in mine]
        style = dict(marker="o", linewidth=0.8)
        if "MILP" in policy:  # the reference line, apart from the ten default colours
            style.update(color="black", linewidth=1.6, marker="s")
        goodput.plot(loads, [100 * r["goodput_fraction"] for r in mine], label=policy, **style)
        tail.plot(loads, [r["p99_s"] for r in mine], label=policy, **style)
    goodput.set(xlabel="load (x the trace's rate)", ylabel="served within L_max (%)")
    goodput.set_title("goodput")
    tail.set(xlabel="load (x the trace's rate)", ylabel="p99 latency (s)", yscale="log")
    tail.set_title("p99 end-to-end latency")
    tail.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    if title:
        figure.suptitle(title)
    save(figure, path)


def queue_figure(runs: Sequence[dict], path: str | os.PathLike, title: str = "") -> None:
    """Requests waiting over time, one panel per load factor, a line per policy."""
    from matplotlib.figure import Figure

    loads = sorted({r["speedup"] for r in runs})
    figure = Figure(figsize=(5 * len(loads) + 2, 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(loads), squeeze=False)[0])
    for axis, load in zip(axes, loads):
        for run in (r for r in runs if r["speedup"] == load and r["queue"]):
            times, lengths = zip(*run["queue"])
            style = {"color": "black", "linewidth": 1.4} if "MILP" in run["policy"] else {}
            axis.plot(
                np.array(times) / 60, lengths, label=run["policy"], **{"linewidth": 0.8, **style}
            )
        axis.set(xlabel="minute of the replay", ylabel="requests waiting", title=f"{load:g}x")
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    if title:
        figure.suptitle(title)
    save(figure, path)
