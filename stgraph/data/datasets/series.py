"""Multivariate series without a spatial graph: ETTh1 and ETTh2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from stgraph.data.datasets.common import need, recipe_protocol
from stgraph.data.tables import read_csv_rows
from stgraph.data.temporal import TemporalSignal


def load_ett(root: Path, name: str) -> TemporalSignal:
    """ETTh1/ETTh2: 17,420 hourly rows; the 7 variables are the nodes of an edgeless graph."""
    rows = read_csv_rows(need(root, f"ett/{name.upper().replace('ETTH', 'ETTh')}.csv", name))
    header, body = rows[0], rows[1:]
    values = torch.tensor(np.array([r[1:] for r in body], dtype=np.float32)).unsqueeze(-1)
    stamps = torch.tensor(
        [
            int(dt.datetime.fromisoformat(r[0]).replace(tzinfo=dt.timezone.utc).timestamp())
            for r in body
        ],
        dtype=torch.long,
    )
    graph = Data(
        edge_index=torch.empty(2, 0, dtype=torch.long),
        edge_weight=torch.empty(0),
        num_nodes=values.size(1),
    )
    graph.node_id = header[1:]
    return TemporalSignal(
        name,
        values,
        torch.ones_like(values, dtype=torch.bool),
        graph,
        recipe_protocol(name),
        stamps,
        ["value"],
    )
