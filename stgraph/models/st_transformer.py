"""A plain spatio-temporal transformer, with or without spatial-bias attention.

This is the ablation every method is compared against: the same model once with attention
biased by distances and hop counts (:class:`~stgraph.nn.SpatialBiasAttention`) and once with
the biases switched off (plain all-pairs attention over the nodes).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stgraph.models.time_index import calendar_slots
from stgraph.nn import SpatialTransformerBlock


class STTransformer(nn.Module):
    r"""Window embedding plus node / time-of-day / day-of-week embeddings (as STID), then
    ``num_layers`` transformer blocks attending across nodes, then a linear head.

    With ``spatial_bias`` the attention scores get a learned distance bias (16 Gaussian
    kernels over ``distance``) and hop bias (``hops``, up to ``max_hops``); without it the
    blocks are plain all-pairs attention.

    **Sparse path** (``edge_index`` given): each node attends only over its in-edges (the
    sensor graph with self-loops), the biases read per-edge ``distance`` and ``hops``
    (``[E]``), and the cost is :math:`O(E)` instead of :math:`O(N^2)`. Outputs at a node then
    depend on its ``num_layers``-hop neighbourhood (``receptive_hops``), so the model trains
    on node mini-batches of a large graph (:mod:`stgraph.engine.node_batches`): a batch's
    ``nodes``, ``edge_index`` and ``edge_ids`` name the subgraph it runs on.

    Args:
        num_nodes: nodes :math:`N`.
        input_len: input steps.
        output_len: predicted steps.
        num_features: features per node.
        steps_per_day: time-of-day slots (default: ``288``).
        distance: ``[N, N]`` pairwise distances, scaled to about ``[0, 1]`` (default: ``None``).
        hops: ``[N, N]`` hop counts, negative where unreachable (default: ``None``).
        edge_index: ``[2, E]`` attention edges for the sparse path; ``distance`` and ``hops``
            are then ``[E]`` (default: ``None``: dense).
        spatial_bias: use the biases (default: ``True``).
        channels: model width (default: ``64``).
        heads: attention heads (default: ``4``).
        num_layers: transformer blocks (default: ``2``).
        max_hops: hop range of the hop bias (default: ``4``).
        dropout: dropout in the feed-forward blocks (default: ``0.1``).
    """

    def __init__(
        self,
        num_nodes: int,
        input_len: int,
        output_len: int,
        num_features: int,
        steps_per_day: int = 288,
        distance: Tensor | None = None,
        hops: Tensor | None = None,
        edge_index: Tensor | None = None,
        spatial_bias: bool = True,
        channels: int = 64,
        heads: int = 4,
        num_layers: int = 2,
        max_hops: int = 4,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.output_len = output_len
        self.num_features = num_features
        self.steps_per_day = steps_per_day
        self.series = nn.Linear(input_len * num_features, channels)
        self.node = nn.Parameter(torch.empty(num_nodes, channels))
        self.time_of_day = nn.Parameter(torch.empty(steps_per_day, channels))
        self.day_of_week = nn.Parameter(torch.empty(7, channels))
        self.register_buffer("distance", distance, persistent=False)
        self.register_buffer("hops", hops, persistent=False)
        self.register_buffer("edge_index", edge_index, persistent=False)
        self.receptive_hops = None if edge_index is None else num_layers
        self.blocks = nn.ModuleList(
            SpatialTransformerBlock(
                channels,
                heads,
                distance_kernels=16 if spatial_bias else 0,
                max_hops=max_hops if spatial_bias else None,
                dropout=dropout,
            )
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(channels)
        self.head = nn.Linear(channels, output_len * num_features)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform embeddings."""
        for table in (self.node, self.time_of_day, self.day_of_week):
            nn.init.xavier_uniform_(table)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Predictions ``[B, L_out, N, F]``."""
        x = batch["x"]
        b, _, n, _ = x.shape
        tod, dow = calendar_slots(batch, self.steps_per_day)
        h = (
            self.series(x.permute(0, 2, 1, 3).reshape(b, n, -1))
            + (self.node[batch["nodes"]] if "nodes" in batch else self.node)
            + (self.time_of_day[tod] + self.day_of_week[dow])[:, None]
        )
        distance, hops, edge_index = self.distance, self.hops, self.edge_index
        if edge_index is not None and "edge_index" in batch:  # a subgraph of a node batch
            edge_index, ids = batch["edge_index"], batch["edge_ids"]
            distance = None if distance is None else distance[ids]
            hops = None if hops is None else hops[ids]
        for block in self.blocks:
            h = block(h, distance, hops, edge_index)
        out = self.head(self.norm(h))
        return out.view(b, n, self.output_len, self.num_features).transpose(1, 2)
