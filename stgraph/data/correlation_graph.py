r"""A graph of nodes whose training-period series move together, for data whose published
graph carries no structure (e.g. PromptST's complaint regions ship an all-ones adjacency).

Each node keeps an edge to the :math:`k` nodes with the highest Pearson correlation of its
series (summed over features) over the training steps only, so validation and test readings
never shape the graph; the edge set is made symmetric and weighted by the correlation.
"""

from __future__ import annotations

import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, to_undirected

from stgraph.data.temporal import TemporalSignal


def is_complete(graph: Data) -> bool:
    """Whether every node links to every other node (the graph then says nothing)."""
    n = graph.num_nodes
    off_diagonal = graph.edge_index[0] != graph.edge_index[1]
    pairs = coalesce(graph.edge_index[:, off_diagonal], num_nodes=n)
    return n > 1 and pairs.size(1) == n * (n - 1)


def correlation_graph(signal: TemporalSignal, k: int = 8) -> Data:
    """The symmetric kNN graph of training-step correlations of ``signal``'s nodes.

    Args:
        signal: the series; only steps before :attr:`TemporalSignal.fit_end` are read.
        k: neighbours kept per node before symmetrisation (default: ``8``).

    Returns:
        A :class:`~torch_geometric.data.Data` with ``edge_index`` ``[2, E]`` and
        ``edge_weight`` ``[E]`` (the correlations; a constant series correlates 0).
    """
    end = signal.fit_end
    observed = signal.mask[:end].double()
    series = (signal.signal[:end].double() * observed).sum(dim=2)  # [T, N]
    centred = series - series.mean(dim=0)
    norm = centred.norm(dim=0)
    safe = torch.where(norm > 0, norm, torch.ones_like(norm))
    unit = torch.where(norm > 0, centred / safe, torch.zeros_like(centred))
    correlation = unit.T @ unit  # [N, N]
    n = signal.num_nodes
    k = min(k, n - 1)
    correlation.fill_diagonal_(-float("inf"))
    neighbours = correlation.topk(k, dim=1).indices  # [N, k]
    source = neighbours.reshape(-1)
    target = torch.arange(n).repeat_interleave(k)
    edge_index = to_undirected(torch.stack([source, target]), num_nodes=n)
    weight = correlation[edge_index[0], edge_index[1]].float()
    return Data(edge_index=edge_index, edge_weight=weight, num_nodes=n)
