"""STID: spatial and temporal identity embeddings with an MLP (Shao et al., CIKM 2022)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stgraph.models.time_index import calendar_slots


class ResidualMLP(nn.Module):
    """``x + fc2(dropout(relu(fc1(x))))``."""

    def __init__(self, channels: int, dropout: float) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, channels)
        self.fc2 = nn.Linear(channels, channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block."""
        return x + self.fc2(self.dropout(torch.relu(self.fc1(x))))


class STID(nn.Module):
    r"""`STID <https://arxiv.org/abs/2208.05233>`_: a window embedding concatenated with a
    learned embedding of the node, of the time of day and of the day of week, then a residual
    MLP and a linear head:

    .. math::
        h = [\,W_x \operatorname{vec}(x_{t-L+1:t}) \,\|\, E^{node}_n \,\|\, E^{tod}_{\tau(t)}
            \,\|\, E^{dow}_{\delta(t)}\,], \qquad \hat y = W_o\, \operatorname{MLP}^{(K)}(h)

    Args:
        num_nodes: nodes :math:`N`.
        input_len: input steps :math:`L`.
        output_len: predicted steps.
        num_features: features per node :math:`F`.
        steps_per_day: time-of-day slots (default: ``288``).
        embed_dim: size of each embedding (default: ``32``, as BasicTS).
        num_layers: residual MLP blocks :math:`K` (default: ``3``).
        dropout: dropout in the blocks (default: ``0.15``).

    Nodes never exchange information, so the model runs on any subset of them
    (``receptive_hops = 0``; a batch's ``nodes`` names the rows of ``x``), which is how it
    trains on node mini-batches of a large graph (:mod:`stgraph.engine.node_batches`).
    """

    receptive_hops = 0
    """Outputs at a node read that node's inputs only."""

    def __init__(
        self,
        num_nodes: int,
        input_len: int,
        output_len: int,
        num_features: int,
        steps_per_day: int = 288,
        embed_dim: int = 32,
        num_layers: int = 3,
        dropout: float = 0.15,
    ) -> None:
        super().__init__()
        self.output_len = output_len
        self.num_features = num_features
        self.steps_per_day = steps_per_day
        self.series = nn.Linear(input_len * num_features, embed_dim)
        self.node = nn.Parameter(torch.empty(num_nodes, embed_dim))
        self.time_of_day = nn.Parameter(torch.empty(steps_per_day, embed_dim))
        self.day_of_week = nn.Parameter(torch.empty(7, embed_dim))
        hidden = 4 * embed_dim
        self.encoder = nn.Sequential(*[ResidualMLP(hidden, dropout) for _ in range(num_layers)])
        self.head = nn.Linear(hidden, output_len * num_features)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform embeddings (as BasicTS), default linear layers."""
        for table in (self.node, self.time_of_day, self.day_of_week):
            nn.init.xavier_uniform_(table)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Predictions ``[B, L_out, N, F]`` for inputs ``batch["x"]`` ``[B, L, N, F]`` (of the
        nodes ``batch["nodes"]`` when given)."""
        x = batch["x"]
        b, _, n, _ = x.shape
        series = self.series(x.permute(0, 2, 1, 3).reshape(b, n, -1))
        tod, dow = calendar_slots(batch, self.steps_per_day)
        node = self.node[batch["nodes"]] if "nodes" in batch else self.node
        h = torch.cat(
            [
                series,
                node.expand(b, -1, -1),
                self.time_of_day[tod][:, None].expand(-1, n, -1),
                self.day_of_week[dow][:, None].expand(-1, n, -1),
            ],
            dim=-1,
        )
        out = self.head(self.encoder(h))
        return out.view(b, n, self.output_len, self.num_features).transpose(1, 2)
