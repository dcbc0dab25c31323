r"""Per-head attention bias from shortest-path hop counts (Graphormer's spatial encoding)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class HopBias(nn.Module):
    r"""Learnable bias per head for each shortest-path hop count, as in `Graphormer
    <https://arxiv.org/abs/2106.05234>`_:

    .. math::
        b_h(i, j) = \beta_{h,\ \min(\phi(i, j),\ H + 1)}

    where :math:`\phi(i, j)` is the hop count from :math:`j` to :math:`i` and :math:`H` is
    ``max_hops``. Pairs farther than ``max_hops`` and unreachable pairs (mark them with any
    negative count, e.g. ``-1``) share one extra entry.

    Args:
        heads: number of attention heads.
        max_hops: largest hop count with its own bias (default: ``4``).
    """

    def __init__(self, heads: int, max_hops: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.max_hops = max_hops
        self.table = nn.Embedding(max_hops + 2, heads)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reinitialise the bias table to small values."""
        nn.init.normal_(self.table.weight, std=0.02)

    def forward(self, hops: Tensor) -> Tensor:
        """Map integer hop counts of any shape ``[...]`` to biases ``[..., heads]``."""
        far = (hops < 0) | (hops > self.max_hops)
        return self.table(torch.where(far, torch.full_like(hops, self.max_hops + 1), hops))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(heads={self.heads}, max_hops={self.max_hops})"
