"""Forecast-versus-truth plots (needs matplotlib: ``pip install stgraph[plot]``)."""

from __future__ import annotations

from pathlib import Path

import torch

from stgraph.data.temporal import WindowDataset
from stgraph.engine.trainer import Trainer
from stgraph.errors import InputError


def plot_forecasts(
    trainer: Trainer, test: WindowDataset, path: Path, nodes: int = 3, windows: int = 288
) -> Path:
    """Plot the one-step-ahead forecast and the truth of a few nodes over the first test
    windows (first feature), and save a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise InputError("--plot needs matplotlib: pip install 'stgraph[plot]'") from err
    count = min(windows, len(test))
    index = torch.arange(count)
    trainer.model.eval()
    with torch.no_grad():
        prediction = trainer.predict(test, index)[:, 0, :, 0]
    batch = test.gather(index)
    truth, observed = batch["y"][:, 0, :, 0], batch["y_mask"][:, 0, :, 0]
    chosen = truth.var(dim=0).argsort(descending=True)[:nodes]
    figure, axes = plt.subplots(len(chosen), 1, figsize=(10, 2.4 * len(chosen)), sharex=True)
    for axis, node in zip(list(axes) if len(chosen) > 1 else [axes], chosen.tolist(), strict=True):
        steps = batch["start"] + test.source.protocol.input_len
        shown = observed[:, node]
        axis.plot(steps[shown], truth[shown, node], label="truth", lw=1)
        axis.plot(steps, prediction[:, node], label="forecast (+1 step)", lw=1)
        axis.set_ylabel(
            test.graph.node_id[node] if hasattr(test.graph, "node_id") else f"node {node}"
        )
    axes_list = list(axes) if len(chosen) > 1 else [axes]
    axes_list[0].legend(loc="upper right")
    axes_list[-1].set_xlabel("time step")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
