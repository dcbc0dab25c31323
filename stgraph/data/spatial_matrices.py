"""Spatial priors of a graph for attention biases: dense pairwise matrices of a (small) graph
(distances and hop counts), and per-edge distances for the sparse path of a large one."""

from __future__ import annotations

import torch
from torch_geometric.data import Data

from stgraph.data.centrality import shortest_path_hops
from stgraph.data.geo import haversine_km


def pairwise_distance_matrix(graph: Data) -> torch.Tensor | None:
    """``[N, N]`` distances between the nodes' ``pos`` (great-circle km for ``lonlat``,
    Euclidean otherwise), or ``None`` when the graph has no coordinates."""
    pos = getattr(graph, "pos", None)
    if pos is None:
        return None
    pos = pos.double()
    if getattr(graph, "coord_system", "xy") == "lonlat":
        lon, lat = pos[:, 0].numpy(), pos[:, 1].numpy()
        dist = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        return torch.as_tensor(dist, dtype=torch.float32)
    return torch.cdist(pos, pos).float()


def edge_distances(graph: Data, edge_index: torch.Tensor) -> torch.Tensor | None:
    """``[E]`` distances between the ends of each edge of ``edge_index`` (as
    :func:`pairwise_distance_matrix` measures them), or ``None`` without coordinates."""
    pos = getattr(graph, "pos", None)
    if pos is None:
        return None
    source, target = pos.double()[edge_index[0]], pos.double()[edge_index[1]]
    if getattr(graph, "coord_system", "xy") == "lonlat":
        dist = haversine_km(
            target[:, 1].numpy(), target[:, 0].numpy(), source[:, 1].numpy(), source[:, 0].numpy()
        )
        return torch.as_tensor(dist, dtype=torch.float32)
    return (source - target).norm(dim=-1).float()


def hop_matrix(graph: Data, max_hops: int) -> torch.Tensor:
    """``[N, N]`` hop counts from source ``j`` (column) to target ``i`` (row), ``-1`` beyond
    ``max_hops`` or unreachable."""
    n = graph.num_nodes
    index, count = shortest_path_hops(graph.edge_index, n, max_hops)
    hops = torch.full((n, n), -1, dtype=torch.long)
    hops[index[1], index[0]] = count
    return hops
