r"""Centrality encoding added to node features (Graphormer's degree encoding, generalised)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

MODES = ("integer", "log", "quantile")


class CentralityEncoding(nn.Module):
    r"""Add a learned embedding of each node's centrality to its features, after `Graphormer
    <https://arxiv.org/abs/2106.05234>`_ (:math:`h_i = x_i + z_{\text{bucket}(c_i)}`).

    The centrality :math:`c_i` is turned into one of ``num_buckets`` buckets by ``mode``:

    * ``"integer"`` — :math:`\min(\lfloor c_i \rceil, B - 1)`, for (in-)degrees;
    * ``"log"`` — :math:`\min(\lfloor \log_2(1 + c_i) \rfloor, B - 1)`, for weighted degrees or
      flows spanning orders of magnitude;
    * ``"quantile"`` — :math:`\lfloor B \cdot \text{rank}(c_i) / N \rfloor` within the graph, for
      PageRank or betweenness, whose scale depends on the graph size.

    Args:
        channels: feature size of ``x``.
        num_buckets: number of buckets :math:`B` (default: ``32``).
        mode: ``"integer"``, ``"log"`` or ``"quantile"`` (default: ``"integer"``).
    """

    def __init__(self, channels: int, num_buckets: int = 32, mode: str = "integer") -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.channels = channels
        self.num_buckets = num_buckets
        self.mode = mode
        self.embedding = nn.Embedding(num_buckets, channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reinitialise the embedding table."""
        nn.init.normal_(self.embedding.weight, std=0.02)

    def bucket(self, centrality: Tensor) -> Tensor:
        """Bucket index ``[N]`` of each node's centrality ``[N]``."""
        if self.mode == "integer":
            index = centrality.round().long()
        elif self.mode == "log":
            index = torch.log2(1.0 + centrality.clamp(min=0)).floor().long()
        else:
            rank = centrality.argsort().argsort()
            index = rank * self.num_buckets // centrality.numel()
        return index.clamp(0, self.num_buckets - 1)

    def forward(self, x: Tensor, centrality: Tensor) -> Tensor:
        """Return ``x + z[bucket(centrality)]``; ``x`` is ``[N, C]`` or ``[B, N, C]``."""
        return x + self.embedding(self.bucket(centrality))

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.channels}, num_buckets={self.num_buckets}, "
            f"mode={self.mode!r})"
        )
