r"""A 1-D ordering of a graph's nodes in which neighbours sit close: the spectral ordering.

Sorting the nodes by the Fiedler vector (the eigenvector of the second-smallest eigenvalue of
the normalised Laplacian :math:`I - D^{-1/2} A D^{-1/2}`) places strongly connected nodes next
to each other (`Fiedler, 1973 <https://doi.org/10.21136/CMJ.1973.101168>`_; the classic
"spectral sequencing"). The rank of a node in that order is a spatial position that rotary
embeddings can use, where the node index of a dataset is an arbitrary order.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh
from torch_geometric.data import Data

DENSE_LIMIT = 2_000
"""Components up to this many nodes are solved densely; larger ones by shift-invert Lanczos."""


def _fiedler_vector(adjacency: sp.csr_matrix) -> np.ndarray:
    n = adjacency.shape[0]
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    scale = sp.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    laplacian = sp.eye(n) - scale @ adjacency @ scale
    if n <= DENSE_LIMIT:
        _, vectors = np.linalg.eigh(laplacian.toarray())
    else:
        _, vectors = eigsh(laplacian.tocsc(), k=2, sigma=-1e-3, which="LM")
    vector = vectors[:, 1]
    return vector if vector[np.argmax(np.abs(vector))] > 0 else -vector  # a fixed sign


def spectral_order(graph: Data) -> torch.Tensor:
    """``[N]`` float positions ``0 .. N-1``: each node's rank in the spectral ordering.

    Edges are taken as undirected, weighted by ``edge_weight`` when present. Each connected
    component is ordered by its own Fiedler vector and gets a block of consecutive ranks
    (largest component first, ties by lowest node index), so that no position is shared and
    nodes of different components never interleave. Isolated nodes are one-node components.
    """
    n = graph.num_nodes
    edge_index = graph.edge_index.numpy()
    weight = getattr(graph, "edge_weight", None)
    values = np.ones(edge_index.shape[1]) if weight is None else weight.double().abs().numpy()
    adjacency = sp.coo_matrix((values, (edge_index[0], edge_index[1])), shape=(n, n)).tocsr()
    adjacency = ((adjacency + adjacency.T) / 2).tocsr()
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    count, labels = connected_components(adjacency, directed=False)
    components = [np.flatnonzero(labels == c) for c in range(count)]
    components.sort(key=lambda nodes: (-len(nodes), nodes[0]))
    positions = np.empty(n)
    start = 0
    for nodes in components:
        if len(nodes) > 2:
            order = nodes[np.argsort(_fiedler_vector(adjacency[nodes][:, nodes]), kind="stable")]
        else:
            order = nodes
        positions[order] = start + np.arange(len(nodes))
        start += len(nodes)
    return torch.as_tensor(positions, dtype=torch.float32)
