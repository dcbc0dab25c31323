"""Node centrality and shortest-path hop counts on sparse graphs.

All functions take ``edge_index`` (row 0 = source, row 1 = target) and never build an ``N x N``
array unless the graph is small (at most :data:`EXACT_MAX_NODES` nodes). Above that size,
betweenness and closeness are *estimated* from :data:`SAMPLED_SOURCES` source nodes drawn with a
fixed seed (Brandes–Pich sampling for betweenness, Eppstein–Wang for closeness); the graph
attribute ``centrality_sampled`` records when this happened.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import shortest_path

from stgraph.errors import InputError

EXACT_MAX_NODES = 2_000
SAMPLED_SOURCES = 256
CENTRALITY_MEASURES = ("degree", "weighted_degree", "pagerank", "betweenness", "closeness")


def adjacency(
    edge_index: torch.Tensor, num_nodes: int, edge_weight: torch.Tensor | None = None
) -> sp.csr_matrix:
    """Sparse ``[N, N]`` matrix with ``A[source, target] = weight`` (duplicates summed)."""
    src, dst = edge_index.cpu().numpy()
    weight = np.ones(src.size) if edge_weight is None else edge_weight.cpu().double().numpy()
    return sp.csr_matrix((weight, (src, dst)), shape=(num_nodes, num_nodes))


def _without_self_loops(a: sp.csr_matrix) -> sp.csr_matrix:
    a = a.tolil(copy=True)
    a.setdiag(0)
    a = a.tocsr()
    a.eliminate_zeros()
    return a


def in_degree(a: sp.csr_matrix, weighted: bool = False) -> np.ndarray:
    """Number (or total weight) of in-edges of each node, self-loops excluded."""
    a = _without_self_loops(a)
    if not weighted:
        a = (a != 0).astype(np.float64)
    return np.asarray(a.sum(axis=0)).ravel()


def pagerank(
    a: sp.csr_matrix, damping: float = 0.85, tol: float = 1e-10, max_iter: int = 1000
) -> np.ndarray:
    r"""Weighted PageRank by power iteration (dangling nodes spread their mass uniformly).

    .. math::
        \mathbf{p} \leftarrow \alpha P^\top \mathbf{p}
            + \frac{\alpha}{N}(\mathbf{d}^\top\mathbf{p})\mathbf{1} + \frac{1-\alpha}{N}\mathbf{1}

    with :math:`P` the row-normalised weights and :math:`\mathbf{d}` the dangling indicator.
    """
    n = a.shape[0]
    out = np.asarray(a.sum(axis=1)).ravel()
    dangling = out == 0
    inv = np.divide(1.0, out, out=np.zeros(n), where=~dangling)
    transition = sp.diags(inv) @ a
    p = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        new = damping * (transition.T @ p + p[dangling].sum() / n) + (1.0 - damping) / n
        if np.abs(new - p).sum() < n * tol:
            return new
        p = new
    return p


def betweenness(a: sp.csr_matrix, seed: int = 0) -> tuple[np.ndarray, bool]:
    """Normalised unweighted betweenness; returns ``(values, sampled)``."""
    n = a.shape[0]
    graph = nx.from_scipy_sparse_array(_without_self_loops(a), create_using=nx.DiGraph)
    k = None if n <= EXACT_MAX_NODES else SAMPLED_SOURCES
    values = nx.betweenness_centrality(graph, k=k, seed=seed, normalized=True)
    return np.array([values[i] for i in range(n)]), k is not None


def closeness(a: sp.csr_matrix, seed: int = 0) -> tuple[np.ndarray, bool]:
    r"""Closeness on hop distances *towards* each node (Wasserman–Faust for disconnected graphs).

    :math:`C(u) = \frac{r_u - 1}{N - 1} \cdot \frac{r_u - 1}{\sum_v d(v, u)}`, with :math:`r_u`
    the number of nodes that reach :math:`u`; it equals ``networkx.closeness_centrality``.
    Returns ``(values, sampled)``.
    """
    n = a.shape[0]
    if n == 1:
        return np.zeros(1), False
    sampled = n > EXACT_MAX_NODES
    sources = (
        np.random.default_rng(seed).choice(n, SAMPLED_SOURCES, replace=False)
        if sampled
        else np.arange(n)
    )
    dist = shortest_path(a, directed=True, unweighted=True, indices=sources)
    dist[np.arange(len(sources)), sources] = np.inf  # a node's distance to itself does not count
    finite = np.isfinite(dist)
    reach = finite.sum(axis=0)
    total = np.where(finite, dist, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if sampled:
            own = np.isin(np.arange(n), sources)
            fraction = reach / (len(sources) - own)
            values = np.where(total > 0, fraction * reach / total, 0.0)
        else:
            values = np.where(total > 0, (reach / (n - 1)) * (reach / total), 0.0)
    return values, sampled


def compute_centrality(
    edge_index: torch.Tensor,
    num_nodes: int,
    measures: list[str],
    edge_weight: torch.Tensor | None = None,
    seed: int = 0,
) -> tuple[dict[str, torch.Tensor], bool]:
    """Compute the named measures; returns ``({name: [N] float tensor}, any_sampled)``."""
    unknown = [m for m in measures if m not in CENTRALITY_MEASURES]
    if unknown:
        raise InputError(
            f"unknown centrality '{unknown[0]}'; choose from {', '.join(CENTRALITY_MEASURES)}"
        )
    a = adjacency(edge_index, num_nodes, edge_weight)
    out, sampled = {}, False
    for name in measures:
        if name == "degree":
            values = in_degree(a)
        elif name == "weighted_degree":
            values = in_degree(a, weighted=True)
        elif name == "pagerank":
            values = pagerank(a)
        elif name == "betweenness":
            values, was_sampled = betweenness(a, seed)
            sampled |= was_sampled
        else:
            values, was_sampled = closeness(a, seed)
            sampled |= was_sampled
        out[name] = torch.as_tensor(values, dtype=torch.float32)
    return out, sampled


def shortest_path_hops(
    edge_index: torch.Tensor, num_nodes: int, max_hops: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """All pairs ``(i, j)`` with a directed path of at most ``max_hops`` edges from ``i`` to ``j``.

    Returns ``hop_index`` ``[2, P]`` (sorted by source, then target; the ``N`` self pairs with
    hop 0 included) and ``hop_count`` ``[P]``. Computed by breadth-first frontier expansion with
    sparse matrix products, so memory grows with ``P``, never with ``N^2``.
    """
    if max_hops < 1:
        raise InputError(f"--max-hops must be at least 1, got {max_hops}")
    a = (adjacency(edge_index, num_nodes) != 0).astype(np.int8).tocsr()
    reached = sp.identity(num_nodes, dtype=np.int8, format="csr")
    frontier = reached.copy()
    layers = [reached.tocoo()]
    for _ in range(max_hops):
        frontier = ((frontier @ a) != 0).astype(np.int8)
        frontier = (frontier - frontier.multiply(reached)).tocsr()
        frontier.eliminate_zeros()
        if frontier.nnz == 0:
            break
        layers.append(frontier.tocoo())
        reached = (reached + frontier).tocsr()
    rows = np.concatenate([m.row for m in layers])
    cols = np.concatenate([m.col for m in layers])
    hops = np.concatenate([np.full(m.nnz, h) for h, m in enumerate(layers)])
    order = np.lexsort((cols, rows))
    hop_index = torch.as_tensor(np.stack([rows[order], cols[order]]), dtype=torch.long)
    return hop_index, torch.as_tensor(hops[order], dtype=torch.long)
