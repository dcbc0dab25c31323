"""Build PyG graphs from coordinates, road-distance edge lists, matrices and OD flows.

Every builder returns a :class:`torch_geometric.data.Data` with

* ``edge_index`` ``[2, E]`` (row 0 = source, row 1 = target: messages flow source → target),
* ``edge_weight`` ``[E]`` (the graph weight: 1 for kNN/radius/contiguity graphs, the Gaussian
  kernel for thresholded graphs, the matrix entry for adjacency and OD matrices),
* ``edge_attr`` ``[E, 1]`` the distance of each edge where one is known (``distance_unit``
  says which unit: ``km`` for great-circle distances, ``input`` for projected x/y or road
  distances in the file's own unit),
* ``pos`` ``[N, 2]`` (lon, lat) degrees or (x, y) and ``coord_system`` (``lonlat``/``xy``) where
  coordinates are known, and ``node_id`` (a list of strings).

Nothing here allocates an ``N x N`` array: neighbour queries run on a KD-tree (geographic points
through 3-D unit vectors, see :mod:`stgraph.data.geo`) and thresholded Gaussian graphs only look
at pairs within the distance where the kernel falls below the threshold.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.spatial import cKDTree
from torch_geometric.data import Data

from stgraph.data.geo import arc_to_chord, chord_to_arc_km, haversine_km, unit_vectors
from stgraph.data.tables import EdgeList, PointTable
from stgraph.errors import InputError

EXACT_SIGMA_MAX_NODES = 20_000
"""Up to this many points the Gaussian kernel width is the exact std of all pairwise distances;
above it, the std of :data:`SIGMA_SAMPLE_PAIRS` random pairs (a fixed seed) is used."""
SIGMA_SAMPLE_PAIRS = 2_000_000


def _graph(
    edge_index: np.ndarray,
    num_nodes: int,
    node_ids: list[str],
    edge_weight: np.ndarray | None = None,
    distance: np.ndarray | None = None,
    distance_unit: str | None = None,
    points: PointTable | None = None,
) -> Data:
    edge_index_t = torch.as_tensor(np.ascontiguousarray(edge_index), dtype=torch.long).view(2, -1)
    num_edges = edge_index_t.size(1)
    weight = np.ones(num_edges) if edge_weight is None else edge_weight
    data = Data(
        edge_index=edge_index_t,
        edge_weight=torch.as_tensor(weight, dtype=torch.float32),
        num_nodes=num_nodes,
    )
    data.node_id = list(node_ids)
    if distance is not None:
        data.edge_attr = torch.as_tensor(distance, dtype=torch.float32).view(-1, 1)
        data.distance_unit = distance_unit
    if points is not None:
        data.pos = torch.as_tensor(points.coords, dtype=torch.float64)
        data.coord_system = points.coord_system
    return data


def point_distances(points: PointTable, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Distance of each pair: great-circle km for ``lonlat`` points, Euclidean for ``xy``."""
    a, b = points.coords[src], points.coords[dst]
    if points.coord_system == "lonlat":
        return haversine_km(a[:, 1], a[:, 0], b[:, 1], b[:, 0])
    return np.linalg.norm(a - b, axis=1)


def _tree(points: PointTable) -> tuple[cKDTree, np.ndarray]:
    if points.coord_system == "lonlat":
        xyz = unit_vectors(points.coords[:, 1], points.coords[:, 0])
    else:
        xyz = points.coords
    return cKDTree(xyz, balanced_tree=False, compact_nodes=False), xyz


def _tree_radius(points: PointTable, radius: float) -> float:
    return arc_to_chord(radius) if points.coord_system == "lonlat" else radius


def _tree_distance(points: PointTable, tree_distance: np.ndarray) -> np.ndarray:
    return chord_to_arc_km(tree_distance) if points.coord_system == "lonlat" else tree_distance


def _unit(points: PointTable) -> str:
    return "km" if points.coord_system == "lonlat" else "input"


def knn_graph(points: PointTable, k: int) -> Data:
    """Each node receives an edge from each of its ``k`` nearest other nodes.

    Distances are great-circle kilometres for geographic points and Euclidean for x/y.
    """
    n = len(points)
    if k < 1:
        raise InputError(f"--knn must be at least 1, got {k}")
    if k >= n:
        raise InputError(f"--knn {k} must be smaller than the number of nodes ({n})")
    tree, xyz = _tree(points)
    dist, idx = tree.query(xyz, k=k + 1, workers=-1)
    # A node is its own nearest neighbour unless another point coincides with it; drop the
    # self match wherever it was ranked, else the farthest candidate.
    self_hit = idx == np.arange(n)[:, None]
    drop = np.where(self_hit.any(1), self_hit.argmax(1), k)
    keep = np.ones_like(idx, dtype=bool)
    keep[np.arange(n), drop] = False
    neighbours = idx[keep].reshape(n, k)
    distance = _tree_distance(points, dist[keep].reshape(n, k))
    edge_index = np.stack([neighbours.reshape(-1), np.repeat(np.arange(n), k)])
    return _graph(
        edge_index,
        n,
        points.ids,
        distance=distance.reshape(-1),
        distance_unit=_unit(points),
        points=points,
    )


def radius_graph(points: PointTable, radius: float) -> Data:
    """Edges in both directions between all pairs closer than ``radius`` (km or x/y units)."""
    if not radius > 0:
        raise InputError(f"--radius must be positive, got {radius}")
    tree, _ = _tree(points)
    pairs = tree.query_pairs(_tree_radius(points, radius), output_type="ndarray")
    src = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
    distance = point_distances(points, src, dst)
    order = np.lexsort((src, dst))
    return _graph(
        np.stack([src[order], dst[order]]),
        len(points),
        points.ids,
        distance=distance[order],
        distance_unit=_unit(points),
        points=points,
    )


def pairwise_distance_std(points: PointTable, seed: int = 0) -> tuple[float, bool]:
    """Std of the distances of all ordered pairs (self-pairs included), and whether it is exact.

    Exact (computed block by block, never ``N x N`` at once) up to
    :data:`EXACT_SIGMA_MAX_NODES` points, else estimated from random pairs.
    """
    n = len(points)
    if n <= EXACT_SIGMA_MAX_NODES:
        total, total_sq, block = 0.0, 0.0, max(1, 4_000_000 // n)
        all_idx = np.arange(n)
        for start in range(0, n, block):
            rows = np.arange(start, min(n, start + block))
            d = point_distances(points, np.repeat(rows, n), np.tile(all_idx, len(rows)))
            total += d.sum()
            total_sq += np.square(d).sum()
        mean = total / (n * n)
        return float(math.sqrt(max(total_sq / (n * n) - mean * mean, 0.0))), True
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, SIGMA_SAMPLE_PAIRS)
    dst = rng.integers(0, n, SIGMA_SAMPLE_PAIRS)
    return float(point_distances(points, src, dst).std()), False


def gaussian_kernel(distance: np.ndarray, sigma: float) -> np.ndarray:
    r"""DCRNN's kernel :math:`w = \exp(-(d / \sigma)^2)`."""
    return np.exp(-np.square(distance / sigma))


def gaussian_graph(points: PointTable, threshold: float, sigma: float | None = None) -> Data:
    r"""DCRNN's thresholded Gaussian kernel over point distances.

    :math:`w_{ij} = \exp(-(d_{ij}/\sigma)^2)`, kept where :math:`w_{ij} \ge \epsilon`
    (self-loops have weight 1). :math:`\sigma` defaults to the std of all pairwise distances
    (see :func:`pairwise_distance_std`); only pairs within
    :math:`\sigma\sqrt{\ln(1/\epsilon)}` are ever looked at.
    """
    _check_threshold(threshold)
    exact = True
    if sigma is None:
        sigma, exact = pairwise_distance_std(points)
    if not sigma > 0:
        raise InputError("all points coincide: the Gaussian kernel width would be 0")
    radius = sigma * math.sqrt(math.log(1.0 / threshold))
    tree, _ = _tree(points)
    pairs = tree.query_pairs(_tree_radius(points, radius), output_type="ndarray")
    n = len(points)
    src = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    distance = point_distances(points, src, dst)
    weight = gaussian_kernel(distance, sigma)
    keep = weight >= threshold
    src, dst, distance, weight = src[keep], dst[keep], distance[keep], weight[keep]
    order = np.lexsort((dst, src))
    data = _graph(
        np.stack([src[order], dst[order]]),
        n,
        points.ids,
        edge_weight=weight[order],
        distance=distance[order],
        distance_unit=_unit(points),
        points=points,
    )
    data.gaussian_sigma = sigma
    data.gaussian_sigma_exact = exact
    return data


def _check_threshold(threshold: float) -> None:
    if not 0.0 < threshold < 1.0:
        raise InputError(f"--threshold must lie in (0, 1), got {threshold}")


def default_node_order(edges: EdgeList) -> list[str]:
    """Node order when no ids file is given: ``0..max`` for integer ids, else sorted ids."""
    names = set(edges.source) | set(edges.target)
    if all(n.lstrip("-").isdigit() for n in names):
        values = [int(n) for n in names]
        if min(values) < 0:
            raise InputError("integer node ids in an edge list must be non-negative")
        return [str(i) for i in range(max(values) + 1)]
    return sorted(names)


def distance_edge_graph(
    edges: EdgeList,
    node_ids: list[str] | None = None,
    points: PointTable | None = None,
    gaussian_threshold: float | None = None,
) -> tuple[Data, int]:
    r"""Graph from a road-distance edge list; returns the graph and the number of skipped rows.

    The node order is ``node_ids`` (from an ids or locations file); rows naming a node outside it
    are skipped, as DCRNN's ``gen_adj_mx.py`` does. A repeated pair keeps its last distance.
    With ``gaussian_threshold`` the weight is :math:`\exp(-(d/\sigma)^2)` with :math:`\sigma`
    the std of all listed distances, and edges with a weight below the threshold are dropped,
    which reproduces DCRNN's ``adj_mx.pkl``.
    """
    order = node_ids if node_ids is not None else default_node_order(edges)
    index = {node: i for i, node in enumerate(order)}
    src = np.array([index.get(s, -1) for s in edges.source], dtype=np.int64)
    dst = np.array([index.get(t, -1) for t in edges.target], dtype=np.int64)
    known = (src >= 0) & (dst >= 0)
    skipped = int((~known).sum())
    src, dst, distance = src[known], dst[known], edges.distance[known]
    if src.size == 0:
        raise InputError("no edge of the edge list connects two nodes of the ids file")
    n = len(order)
    key = src * n + dst
    _, last = np.unique(key[::-1], return_index=True)
    pick = np.sort(key.size - 1 - last)
    src, dst, distance = src[pick], dst[pick], distance[pick]
    weight = None
    if gaussian_threshold is not None:
        _check_threshold(gaussian_threshold)
        sigma = float(distance.std())
        if not sigma > 0:
            raise InputError("all listed distances are equal: the Gaussian kernel width would be 0")
        weight = gaussian_kernel(distance, sigma)
        keep = weight >= gaussian_threshold
        src, dst, distance, weight = src[keep], dst[keep], distance[keep], weight[keep]
    ordering = np.lexsort((dst, src))
    data = _graph(
        np.stack([src[ordering], dst[ordering]]),
        n,
        order,
        edge_weight=None if weight is None else weight[ordering],
        distance=distance[ordering],
        distance_unit="input",
        points=points,
    )
    if gaussian_threshold is not None:
        data.gaussian_sigma = sigma
    return data, skipped


def matrix_graph(
    matrix: np.ndarray,
    node_ids: list[str] | None = None,
    *,
    what: str = "adjacency",
    points: PointTable | None = None,
) -> Data:
    """Weighted directed graph of the non-zero entries ``matrix[i, j]`` (edge ``i → j``).

    Used for adjacency matrices and for origin–destination flow matrices (``what="OD"``, whose
    entries must be non-negative trip counts or flows).
    """
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InputError(f"the {what} matrix must be square, got shape {tuple(matrix.shape)}")
    n = matrix.shape[0]
    if what == "OD" and (matrix < 0).any():
        raise InputError("the OD matrix holds negative flows")
    if node_ids is not None and len(node_ids) != n:
        raise InputError(f"{len(node_ids)} node ids for a {n} x {n} {what} matrix")
    src, dst = np.nonzero(matrix)
    return _graph(
        np.stack([src, dst]),
        n,
        node_ids or [str(i) for i in range(n)],
        edge_weight=matrix[src, dst],
        points=points,
    )


def pairs_graph(pairs: np.ndarray, points: PointTable) -> Data:
    """Undirected graph (both directions) of unordered node pairs, with point distances."""
    src = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    return _graph(
        np.stack([src, dst]),
        len(points),
        points.ids,
        distance=point_distances(points, src, dst),
        distance_unit=_unit(points),
        points=points,
    )
