r"""Node mini-batches: training and scoring a forecasting model on a few nodes of a large
sensor graph at a time, so that memory is bounded by the batch, not by the graph.

A model that can run on part of its graph says how far its outputs look:
``receptive_hops`` :math:`k` (``0`` for a model whose nodes never exchange information, as
STID; the number of message-passing blocks for a sparse graph model). For a set of *seed*
nodes, :class:`NodeBatcher` takes their :math:`k`-hop in-neighbourhood with PyG's
:func:`~torch_geometric.utils.k_hop_subgraph` over the model's own attention edges
(``model.edge_index``, row 0 = source, row 1 = target). The model then runs on that subgraph
and its outputs at the seeds equal the full-graph outputs exactly; losses and metrics read
the seeds only. Every node is a seed exactly once per pass, so metric sums equal the
full-graph sums.

Which nodes share a part: for a model without edges, a random partition of the nodes every
pass. For a graph model, random seeds would drag in a halo of nearly the whole graph, so
the parts are compact patches: :math:`\lceil N / K \rceil` centres are drawn at random and
every node joins its nearest centre in hops (a graph Voronoi partition, one multi-source
breadth-first search with SciPy's :func:`~scipy.sparse.csgraph.dijkstra`); a patch larger
than :math:`K` is cut into rings of at most :math:`K` nodes by distance from its centre. A
patch's halo is then a rim whose share does not grow with :math:`N`. Training draws new
centres every pass from the pass's seed (so resumed and distributed runs draw the same
parts); scoring uses fixed ones.

A part reaches the model as extra batch keys: ``nodes`` ``[n]`` (global ids of the rows of
``x``), and for a model with edges ``edge_index`` ``[2, e]`` (the subgraph, local ids) and
``edge_ids`` ``[e]`` (positions of those edges in ``model.edge_index``, to pick per-edge
features).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import dijkstra
from torch import Tensor, nn
from torch_geometric.utils import k_hop_subgraph

from stgraph.errors import InputError

EVAL_SEED = 0
"""Seed of the fixed patches that scoring walks."""


@dataclass(frozen=True)
class NodePart:
    """One node mini-batch.

    Attributes:
        nodes: ``[n]`` global ids of the subgraph's nodes (the seeds and their halo).
        seeds: ``[s]`` positions in ``nodes`` of the nodes scored in this part.
        edge_index: ``[2, e]`` subgraph edges in local ids (``None`` for a model without edges).
        edge_ids: ``[e]`` positions of those edges in the model's edge list.
    """

    nodes: Tensor
    seeds: Tensor
    edge_index: Tensor | None = None
    edge_ids: Tensor | None = None

    def batch_keys(self) -> dict[str, Tensor]:
        """The keys a model reads to run on this part."""
        keys = {"nodes": self.nodes}
        if self.edge_index is not None:
            keys |= {"edge_index": self.edge_index, "edge_ids": self.edge_ids}
        return keys


def voronoi_patches(edge_index: Tensor, num_nodes: int, size: int, seed: int) -> list[Tensor]:
    """Compact patches of at most ``size`` nodes covering the graph once: the hop-distance
    Voronoi cells of ``ceil(N / size)`` random centres drawn from ``seed``, large cells cut
    into rings; nodes no centre reaches (other components) fill patches of their own."""
    row, col = edge_index.numpy()
    adjacency = sp.coo_matrix((np.ones(len(row)), (row, col)), shape=(num_nodes, num_nodes))
    generator = torch.Generator().manual_seed(seed)
    count = -(-num_nodes // size)
    centres = torch.randperm(num_nodes, generator=generator)[:count].numpy()
    distance, _, source = dijkstra(
        adjacency.tocsr(),
        directed=False,
        indices=centres,
        unweighted=True,
        min_only=True,
        return_predecessors=True,
    )
    reached = source >= 0
    patches = []
    order = np.lexsort((distance, source))  # by cell, then by distance from its centre
    order = order[reached[order]]
    cells = np.split(order, np.flatnonzero(np.diff(source[order])) + 1) if len(order) else []
    for cell in cells:
        patches += [torch.as_tensor(ring) for ring in np.array_split(cell, -(-len(cell) // size))]
    stranded = torch.as_tensor(np.flatnonzero(~reached))
    return patches + (list(stranded.split(size)) if len(stranded) else [])


def check_node_batch_size(size: int) -> None:
    """An input error unless a node batch of ``size`` seeds can exist."""
    if size < 1:
        raise InputError(f"a node batch needs at least one node, got {size}")


def receptive_hops(model: nn.Module) -> int:
    """``model.receptive_hops``, or an input error for a model that needs its whole graph."""
    hops = getattr(model, "receptive_hops", None)
    if hops is None:
        raise InputError(
            f"{type(model).__name__} attends over the whole graph at once and cannot train on "
            "node mini-batches; choose a model with a sparse or node-wise path"
        )
    return hops


class NodeBatcher:
    """Cuts the ``num_nodes`` nodes into parts of ``batch_size`` seeds with their halo.

    Args:
        num_nodes: nodes :math:`N` of the graph.
        batch_size: seeds per part.
        hops: receptive field :math:`k` of the model.
        edge_index: the model's ``[2, E]`` attention edges (``None`` when ``hops`` is 0).
    """

    def __init__(
        self, num_nodes: int, batch_size: int, hops: int, edge_index: Tensor | None = None
    ) -> None:
        check_node_batch_size(batch_size)
        if hops > 0 and edge_index is None:
            raise ValueError("a model with receptive_hops > 0 must expose its edge_index")
        self.num_nodes = num_nodes
        self.batch_size = batch_size
        self.hops = hops
        self.edge_index = None if hops == 0 or edge_index is None else edge_index.cpu()
        self._eval_parts: list[NodePart] | None = None

    def part(self, seeds: Tensor) -> NodePart:
        """The part of ``seeds`` (global ids) with its ``hops``-hop in-neighbourhood."""
        if self.hops == 0 or self.edge_index is None:
            return NodePart(seeds, torch.arange(len(seeds)))
        nodes, edge_index, seed_positions, edge_mask = k_hop_subgraph(
            seeds, self.hops, self.edge_index, relabel_nodes=True, num_nodes=self.num_nodes
        )
        return NodePart(nodes, seed_positions, edge_index, edge_mask.nonzero().view(-1))

    def _patches(self, seed: int) -> list[Tensor]:
        if self.edge_index is None:
            order = torch.randperm(self.num_nodes, generator=torch.Generator().manual_seed(seed))
            return list(order.split(self.batch_size))
        return voronoi_patches(self.edge_index, self.num_nodes, self.batch_size, seed)

    def train_parts(self, seed: int) -> Iterator[NodePart]:
        """A random partition of the nodes into parts, drawn from ``seed``."""
        patches = self._patches(seed)
        for index in torch.randperm(len(patches), generator=torch.Generator().manual_seed(seed)):
            yield self.part(patches[index])

    def eval_parts(self) -> list[NodePart]:
        """A fixed partition: the nodes in order for a model without edges, fixed patches for
        a graph model (built once, then reused by every scoring pass)."""
        if self._eval_parts is None:
            if self.edge_index is None:
                patches = list(torch.arange(self.num_nodes).split(self.batch_size))
            else:
                patches = self._patches(EVAL_SEED)
            self._eval_parts = [self.part(seeds) for seeds in patches]
        return self._eval_parts
