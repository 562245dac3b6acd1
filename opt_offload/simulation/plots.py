"""Figures of a sweep in the style of PRADA Figs. 5-8 (matplotlib, Agg backend, PNG).

- Fig. 5: accuracy (SURROGATE) and total delay per task against the server capacity M;
- Fig. 6: processing, communication and queuing delay per task against M;
- Fig. 7: the same decomposition against the bandwidth B (log scale);
- Fig. 8: accuracy (SURROGATE) and total delay per task against B.

One line per strategy, the mean over seeds with its 95% confidence interval as error bars; a
dotted line marks Table 3's value of the swept parameter. Total delay goes on a log scale and
communication and queuing delays on a symmetric log scale (linear below 0.01 ms, where they
reach 0): an unstable queue (the random scheduler at small M) waits seconds where PRADA waits
milliseconds.
"""

from __future__ import annotations

from pathlib import Path

from ..io import save_figure
from ..prada import CAPACITY, TABLE3_BANDWIDTH_HZ
from .sweep import STRATEGIES

AXIS_LABEL = {"M": "server parallel capacity M", "B": "total bandwidth B per slot (Hz)"}
DELAYS = (
    ("processing_ms", "processing delay (ms/task)"),
    ("communication_ms", "communication delay (ms/task)"),
    ("queuing_ms", "queuing delay (ms/task)"),
)
ACCURACY = ("accuracy_surrogate", "accuracy, SURROGATE (%)")
TOTAL = ("latency_ms", "total delay (ms/task)")
MARKERS = {"prada": "o", "exact": "x", "random-policy": "s", "random-scheduler": "^"}
TABLE3 = {"M": CAPACITY, "B": TABLE3_BANDWIDTH_HZ}
LOG_SCALE = ("latency_ms",)  # never 0
SYMLOG_SCALE = ("communication_ms", "queuing_ms")  # 0 when nothing is uploaded or queued
LINEAR_BELOW_MS = 0.01


def draw_panel(ax, summary: list[dict], axis: str, metric: str, label: str) -> None:
    scale = 100.0 if metric == "accuracy_surrogate" else 1.0
    for key in dict.fromkeys(r["strategy"] for r in summary):
        rows = sorted(
            (r for r in summary if r["axis"] == axis and r["strategy"] == key), key=lambda r: r["x"]
        )
        if not rows:
            continue
        ax.errorbar(
            [r["x"] for r in rows],
            [scale * r[metric] for r in rows],
            yerr=[scale * r[f"{metric}_ci"] for r in rows],
            marker=MARKERS.get(key, "."),
            markersize=4,
            capsize=2,
            linestyle="--" if key == "exact" else "-",
            zorder=3 if key == "exact" else 2,  # on top of PRADA, which it mostly matches
            label=STRATEGIES[key].label,
        )
    if axis == "B":
        ax.set_xscale("log")
    if metric in LOG_SCALE:
        ax.set_yscale("log")
    elif metric in SYMLOG_SCALE:
        ax.set_yscale("symlog", linthresh=LINEAR_BELOW_MS)
        ax.set_ylim(bottom=0.0)
    ax.axvline(TABLE3[axis], color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel(AXIS_LABEL[axis])
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)


def figure(summary: list[dict], axis: str, panels, title: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6))
    for ax, (metric, label) in zip(axes, panels):
        draw_panel(ax, summary, axis, metric, label)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    plt.close(fig)
    return path


def sweep_figures(summary: list[dict], folder: Path, preset: str) -> list[Path]:
    """Figs. 5-8 of a sweep summary (:func:`~opt_offload.simulation.sweep.summarise_runs`)."""
    folder = Path(folder)
    note = f"{preset}; accuracy is a quality SURROGATE; mean and 95% CI over seeds"
    return [
        figure(
            summary,
            "M",
            (ACCURACY, TOTAL),
            f"Fig. 5 style: vs M ({note})",
            folder / "fig5_accuracy_vs_M.png",
        ),
        figure(
            summary,
            "M",
            DELAYS,
            f"Fig. 6 style: delays vs M ({preset})",
            folder / "fig6_delays_vs_M.png",
        ),
        figure(
            summary,
            "B",
            DELAYS,
            f"Fig. 7 style: delays vs B ({preset})",
            folder / "fig7_delays_vs_B.png",
        ),
        figure(
            summary,
            "B",
            (ACCURACY, TOTAL),
            f"Fig. 8 style: vs B ({note})",
            folder / "fig8_accuracy_vs_B.png",
        ),
    ]


# --- `opt-offload reproduce prada`: both readings, the paper's knees marked --------------------

READING_STYLE = {"priced": ("o", "-"), "shared": ("s", "--")}


def reading_panel(ax, summary: list[dict], axis: str, metric: str, label: str) -> None:
    scale = 100.0 if metric == "accuracy_surrogate" else 1.0
    for reading in dict.fromkeys(r["reading"] for r in summary):
        rows = sorted(
            (r for r in summary if r["axis"] == axis and r["reading"] == reading),
            key=lambda r: r["x"],
        )
        marker, line = READING_STYLE.get(reading, (".", "-"))
        ax.errorbar(
            [r["x"] for r in rows],
            [scale * r[metric] for r in rows],
            yerr=[scale * r[f"{metric}_ci"] for r in rows],
            marker=marker,
            markersize=4,
            capsize=2,
            linestyle=line,
            label=f"PRADA, queued upload {reading}",
        )
    if axis == "B":
        ax.set_xscale("log")
    if metric in SYMLOG_SCALE:
        ax.set_yscale("symlog", linthresh=LINEAR_BELOW_MS)
        ax.set_ylim(bottom=0.0)
    ax.set_xlabel(AXIS_LABEL[axis])
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)


def mark_knees(ax, knees: list[dict], figure: str, metric: str, readings) -> None:
    """The paper's knee (a red band or line) and ours (a triangle per reading, on the axis)."""
    for knee in knees:
        if knee["figure"] != figure or knee["metric"] != metric:
            continue
        if knee["paper"] is not None:
            if knee["find"] == "steepest":
                ax.axvspan(1e6, 1e7, color="red", alpha=0.08, label="paper: steepest gain")
            else:
                ax.axvline(knee["paper"], color="red", linestyle="-.", label="paper: knee")
        for reading in readings:
            if knee.get(reading) is not None:
                marker, _ = READING_STYLE.get(reading, (".", "-"))
                ax.plot(
                    knee[reading],
                    0.02,
                    marker="^" if knee["find"] != "steepest" else "v",
                    color="black" if reading == "priced" else "grey",
                    transform=ax.get_xaxis_transform(),
                    clip_on=False,
                    label=f"ours ({reading}): {knee['knee']}",
                )


def reproduction_figures(
    summary: list[dict], knees: list[dict], folder: Path, readings
) -> list[Path]:
    """Figs. 5-8 of gsm8k's PRADA line under each reading, with the paper's knees (red) and
    ours (triangles) marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    layout = (
        ("Fig. 5", "M", (ACCURACY, TOTAL), "fig5_accuracy_vs_M.png"),
        ("Fig. 6", "M", DELAYS, "fig6_delays_vs_M.png"),
        ("Fig. 7", "B", DELAYS, "fig7_delays_vs_B.png"),
        ("Fig. 8", "B", (ACCURACY, TOTAL), "fig8_accuracy_vs_B.png"),
    )
    paths = []
    for name, axis, panels, filename in layout:
        fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.8))
        for ax, (metric, label) in zip(axes, panels):
            reading_panel(ax, summary, axis, metric, label)
            mark_knees(ax, knees, name, metric, readings)
            ax.legend(fontsize=6)
        fig.suptitle(
            f"{name} (gsm8k, PRADA line): paper's knees red, ours triangles; accuracy is a "
            "SURROGATE",
            fontsize=9,
        )
        fig.tight_layout()
        save_figure(fig, folder / filename, dpi=90, flag="--out")
        plt.close(fig)
        paths.append(folder / filename)
    return paths
