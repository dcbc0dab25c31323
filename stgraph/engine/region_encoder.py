"""Self-supervised, full-batch training of a region encoder (no label is ever used)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import Tensor

from stgraph.data.regions import RegionTensors
from stgraph.models.srel import SREL


@dataclass
class EncoderConfig:
    """Settings of :func:`fit_region_encoder`.

    Attributes:
        epochs: full-batch steps (default: ``400``).
        lr: Adam learning rate (default: ``1e-3``).
        weight_decay: Adam weight decay (default: ``5e-4``, as HAFusion).
        seed: initialisation and dropout seed (default: ``0``).
        progress: show a progress bar (default: ``True``).
    """

    epochs: int = 400
    lr: float = 1e-3
    weight_decay: float = 5e-4
    seed: int = 0
    progress: bool = True


def fit_region_encoder(
    model: SREL, inputs: RegionTensors, config: EncoderConfig, console: Console | None = None
) -> tuple[Tensor, list[float]]:
    """Train ``model`` on its self-supervised loss for ``config.epochs`` steps and return the
    final embeddings ``[N, E]`` (eval mode, detached) and the loss history.

    There is no early stopping and no selection: the last epoch's embedding is returned, so no
    downstream label can influence it.
    """
    torch.manual_seed(config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history = []
    arguments = inputs.encoder_inputs()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns,
        console=console or Console(stderr=True),
        transient=True,
        disable=not config.progress,
    ) as progress:
        task = progress.add_task("region encoder", total=config.epochs)
        model.train()
        for _ in range(config.epochs):
            loss, _ = model.loss(
                model(*arguments), inputs.views, inputs.mobility, inputs.similarities
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            history.append(loss.item())
            progress.update(task, advance=1, description=f"region encoder loss {loss.item():.4f}")
    model.eval()
    with torch.no_grad():
        return model(*arguments), history


def encode_regions(
    inputs: RegionTensors, seed: int, epochs: int, progress: bool = False, **options
) -> tuple[np.ndarray, SREL]:
    """Build an :class:`~stgraph.models.srel.SREL` for ``inputs`` (seeded: the initialisation
    is part of the run), train it for ``epochs`` and return its embedding ``[N, E]`` (float64)
    and the model. ``options`` go to :class:`SREL` (e.g. ``learn_bias``, ``objectives``)."""
    torch.manual_seed(seed)
    model = SREL(
        {k: v.size(1) for k, v in inputs.views.items()},
        spatial_prior=inputs.spatial_prior,
        similarity_names=tuple(inputs.similarities),
        **options,
    )
    config = EncoderConfig(epochs=epochs, seed=seed, progress=progress)
    embedding, _ = fit_region_encoder(model, inputs, config)
    return embedding.double().numpy(), model
