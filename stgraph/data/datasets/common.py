"""Small helpers shared by the dataset loaders."""

from __future__ import annotations

import datetime as dt
import pickle
import warnings
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from stgraph.data.protocol import Protocol
from stgraph.data.recipes import load_recipe
from stgraph.data.tables import require_file


def need(root: Path, relative: str, dataset: str) -> Path:
    """Path of a dataset file, or an :class:`InputError` telling how to get it."""
    from stgraph.errors import InputError

    path = root / relative
    if not path.exists():
        raise InputError(
            f"{dataset}: missing file {path}; run 'stgraph data fetch {dataset}' "
            f"or point --data-dir / STGRAPH_DATA at the folder that holds it"
        )
    return require_file(path)


def load_numpy_pickle(path: Path) -> np.ndarray:
    """Load a pickled numpy array written by numpy 1.x (silencing numpy 2's rename warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with open(path, "rb") as f:
            return np.asarray(pickle.load(f, encoding="latin1"))


def regular_timestamps(start: str, count: int, step_seconds: int) -> torch.Tensor:
    """``count`` Unix timestamps from ISO date ``start`` (UTC), ``step_seconds`` apart."""
    origin = dt.datetime.fromisoformat(start).replace(tzinfo=dt.timezone.utc)
    return int(origin.timestamp()) + torch.arange(count, dtype=torch.long) * step_seconds


def grid_graph(rows: int, cols: int) -> Data:
    """Rook-contiguity graph of a ``rows x cols`` grid, row-major node order, cell-unit ``pos``."""
    index = np.arange(rows * cols).reshape(rows, cols)
    pairs = np.concatenate(
        [
            np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()], 1),
            np.stack([index[:-1, :].ravel(), index[1:, :].ravel()], 1),
        ]
    )
    edges = np.concatenate([pairs, pairs[:, ::-1]]).T
    order = np.lexsort((edges[1], edges[0]))
    r, c = np.divmod(np.arange(rows * cols), cols)
    data = Data(
        edge_index=torch.as_tensor(edges[:, order].copy()),
        edge_weight=torch.ones(edges.shape[1]),
        num_nodes=rows * cols,
        pos=torch.as_tensor(np.stack([c, r], 1), dtype=torch.float64),
        coord_system="xy",
    )
    data.node_id = [f"r{a}c{b}" for a, b in zip(r, c, strict=True)]
    data.grid_shape = (rows, cols)
    return data


def recipe_protocol(name: str) -> Protocol:
    """The evaluation protocol stored in the dataset's recipe (``data_recipes/<name>.json``)."""
    return load_recipe(name).forecasting_protocol()


def observed(signal: torch.Tensor, null_value: float | None) -> torch.Tensor:
    """Mask of observed entries: finite and not equal to ``null_value``."""
    mask = torch.isfinite(signal)
    if null_value is not None:
        mask &= signal != null_value
    return mask
