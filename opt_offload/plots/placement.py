"""Picture of a placement: layers against devices, one panel per model (design §6).

Each cell shows the share of a layer's bytes that sits on a device, so a per-layer placement is
a set of filled cells and a per-tensor one shows how each layer is split. Nodes without a
``layer`` are drawn by their position in the file.
"""

from __future__ import annotations

import os
from collections import defaultdict

import numpy as np

from ..errors import InputError
from ..io import save_figure
from ..schemas import PlacementInstance, Solution


def layer_shares(instance: PlacementInstance, decisions: dict, model: str | None) -> np.ndarray:
    """[device, layer]: share of the layer's bytes (its tensor count, if it has no bytes)."""
    devices = [d.id for d in instance.devices]
    by_layer: dict[int, np.ndarray] = defaultdict(lambda: np.zeros((len(devices), 2)))
    for index, node in enumerate(instance.graph.nodes):
        if node.model == model:
            layer = node.layer if node.layer is not None else index
            by_layer[layer][devices.index(decisions[node.id])] += (node.bytes, 1.0)
    layers = range(min(by_layer), max(by_layer) + 1)
    shares = np.zeros((len(devices), len(layers)))
    for column, layer in enumerate(layers):
        if layer in by_layer:
            amounts = by_layer[layer]
            weight = amounts[:, 0] if amounts[:, 0].sum() > 0 else amounts[:, 1]
            shares[:, column] = weight / weight.sum()
    return shares, layers


def plot_solution(instance: PlacementInstance, solution: Solution, path: str | os.PathLike) -> None:
    from matplotlib.figure import Figure

    if not solution.has_decisions:
        raise InputError(f"--plot: {solution.solver} found no placement to draw")
    models = list(dict.fromkeys(n.model for n in instance.graph.nodes))
    panels = [layer_shares(instance, solution.decisions, model) for model in models]
    widths = [max(len(layers), 3) for _, layers in panels]
    size = (min(3 + 0.25 * sum(widths), 20), 1.6 + 0.5 * len(instance.devices))
    figure = Figure(figsize=size, layout="constrained")
    axes = figure.subplots(1, len(models), squeeze=False, width_ratios=widths)[0]
    for axis, model, (shares, layers) in zip(axes, models, panels):
        image = axis.imshow(shares, aspect="auto", cmap="Blues", vmin=0, vmax=1)
        axis.set_yticks(range(len(instance.devices)), [d.id for d in instance.devices])
        ticks = range(0, len(layers), max(1, len(layers) // 10))
        axis.set_xticks(ticks, [layers[t] for t in ticks])
        axis.set_xlabel("layer")
        axis.set_title(model or "tensors")
    figure.colorbar(image, ax=list(axes), label="share of the layer's bytes")
    objective = "-" if solution.objective is None else f"{solution.objective:.4g} s"
    figure.suptitle(
        f"{instance.name}: {solution.solver} ({solution.status.value}), transfer {objective}"
    )
    save_figure(figure, path, dpi=120)
