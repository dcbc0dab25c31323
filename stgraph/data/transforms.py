"""Spatial priors as PyG transforms: edge distances, node centrality, shortest-path hops.

Each transform adds attributes that the layers of :mod:`stgraph.nn` read, and can be chained
with :class:`torch_geometric.transforms.Compose`::

    transform = T.Compose([AddEdgeDistances(), AddCentrality(["degree", "pagerank"]),
                           AddShortestPathHops(max_hops=4)])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from stgraph.data.centrality import CENTRALITY_MEASURES, compute_centrality, shortest_path_hops
from stgraph.data.geo import haversine_km
from stgraph.errors import InputError


class AddEdgeDistances(BaseTransform):
    """Write the length of every edge, computed from ``data.pos``, into ``data[attr_name]``.

    Great-circle kilometres when ``data.coord_system == "lonlat"`` (``pos`` = lon, lat degrees),
    Euclidean distance otherwise.

    Args:
        attr_name: attribute to write, as an ``[E, 1]`` float tensor (default: ``"edge_attr"``).
    """

    def __init__(self, attr_name: str = "edge_attr") -> None:
        self.attr_name = attr_name

    def forward(self, data: Data) -> Data:
        """Add the edge distances to ``data`` and return it."""
        if getattr(data, "pos", None) is None:
            raise InputError("AddEdgeDistances needs node coordinates in data.pos")
        src, dst = data.edge_index.cpu().numpy()
        pos = data.pos.detach().cpu().double().numpy()
        if getattr(data, "coord_system", "xy") == "lonlat":
            dist = haversine_km(pos[src, 1], pos[src, 0], pos[dst, 1], pos[dst, 0])
            data.distance_unit = "km"
        else:
            dist = np.linalg.norm(pos[src] - pos[dst], axis=1)
        data[self.attr_name] = torch.as_tensor(dist, dtype=torch.float32).view(-1, 1)
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(attr_name={self.attr_name!r})"


class AddCentrality(BaseTransform):
    """Add node centrality measures as ``data.centrality_<name>`` (``[N]`` float tensors).

    Measures: ``degree`` (in-degree), ``weighted_degree`` (sum of in-edge weights),
    ``pagerank`` (weighted, damping 0.85), ``betweenness`` and ``closeness`` (on hop
    distances; sampled above 2,000 nodes, see :mod:`stgraph.data.centrality`).

    Args:
        measures: which measures to add (default: ``("degree",)``).
        seed: seed of the source sample for large graphs (default: ``0``).
    """

    def __init__(self, measures: Sequence[str] = ("degree",), seed: int = 0) -> None:
        unknown = [m for m in measures if m not in CENTRALITY_MEASURES]
        if unknown:
            raise InputError(
                f"unknown centrality '{unknown[0]}'; choose from {', '.join(CENTRALITY_MEASURES)}"
            )
        self.measures = list(measures)
        self.seed = seed

    def forward(self, data: Data) -> Data:
        """Add the centrality attributes to ``data`` and return it."""
        values, sampled = compute_centrality(
            data.edge_index,
            data.num_nodes,
            self.measures,
            getattr(data, "edge_weight", None),
            self.seed,
        )
        for name, tensor in values.items():
            data[f"centrality_{name}"] = tensor
        data.centrality_sampled = sampled
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({', '.join(self.measures)})"


class AddShortestPathHops(BaseTransform):
    """Add ``hop_index`` ``[2, P]`` and ``hop_count`` ``[P]``: every pair within ``max_hops``.

    Graphormer's spatial encoding uses the shortest-path distance between nodes; this stores it
    sparsely for the pairs that are at most ``max_hops`` apart (self pairs have hop 0).

    Args:
        max_hops: largest hop count kept (default: ``4``).
    """

    def __init__(self, max_hops: int = 4) -> None:
        if max_hops < 1:
            raise InputError(f"max_hops must be at least 1, got {max_hops}")
        self.max_hops = max_hops

    def forward(self, data: Data) -> Data:
        """Add ``hop_index`` and ``hop_count`` to ``data`` and return it."""
        data.hop_index, data.hop_count = shortest_path_hops(
            data.edge_index, data.num_nodes, self.max_hops
        )
        data.max_hops = self.max_hops
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(max_hops={self.max_hops})"
