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

    Args:
        num_nodes: nodes :math:`N`.
        input_len: input steps.
        output_len: predicted steps.
        num_features: features per node.
        steps_per_day: time-of-day slots (default: ``288``).
        distance: ``[N, N]`` pairwise distances, scaled to about ``[0, 1]`` (default: ``None``).
        hops: ``[N, N]`` hop counts, negative where unreachable (default: ``None``).
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
            + self.node
            + (self.time_of_day[tod] + self.day_of_week[dow])[:, None]
        )
        for block in self.blocks:
            h = block(h, self.distance, self.hops)
        out = self.head(self.norm(h))
        return out.view(b, n, self.output_len, self.num_features).transpose(1, 2)
