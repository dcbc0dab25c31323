r"""A pre-norm transformer block whose attention over nodes carries spatial biases."""

from __future__ import annotations

from torch import Tensor, nn

from stgraph.nn.spatial_bias_attention import SpatialBiasAttention


class SpatialTransformerBlock(nn.Module):
    r"""Pre-norm transformer block over the nodes of one graph:

    .. math::
        h \leftarrow h + \operatorname{SBA}(\operatorname{LN}(h)), \qquad
        h \leftarrow h + W_2\,\operatorname{drop}(\operatorname{GELU}(W_1 \operatorname{LN}(h)))

    where :math:`\operatorname{SBA}` is :class:`SpatialBiasAttention` with distance and/or hop
    biases: its dense path over all pairs, or, given ``edge_index``, its sparse path over the
    graph's edges (for graphs too large for :math:`N^2`). With ``bias_strength=0`` and
    ``learn_strength=False`` it is a plain transformer block.

    Args:
        channels: feature size :math:`C`.
        heads: attention heads (default: ``4``).
        distance_kernels: distance-bias kernels, ``0`` for none (default: ``16``).
        max_distance: distance range of the bias (default: ``1.0``).
        max_hops: hop-bias range, ``None`` for none (default: ``None``).
        bias_strength: initial :math:`\lambda` (default: ``1.0``).
        learn_strength: learn :math:`\lambda` (default: ``True``).
        attention_dropout: dropout on the attention weights (default: ``0.0``).
        dropout: dropout in the feed-forward network (default: ``0.1``).
    """

    def __init__(
        self,
        channels: int,
        heads: int = 4,
        distance_kernels: int = 16,
        max_distance: float = 1.0,
        max_hops: int | None = None,
        bias_strength: float = 1.0,
        learn_strength: bool = True,
        attention_dropout: float = 0.0,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(channels)
        self.attention = SpatialBiasAttention(
            channels,
            heads,
            distance_kernels=distance_kernels,
            max_distance=max_distance,
            max_hops=max_hops,
            bias_strength=bias_strength,
            learn_strength=learn_strength,
            dropout=attention_dropout,
        )
        self.norm2 = nn.LayerNorm(channels)
        self.ffn = nn.Sequential(
            nn.Linear(channels, 2 * channels),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(2 * channels, channels),
        )

    def reset_parameters(self) -> None:
        """Reinitialise the norms, the attention and the feed-forward network."""
        for module in (self.norm1, self.attention, self.norm2, self.ffn[0], self.ffn[3]):
            module.reset_parameters()

    def forward(
        self,
        h: Tensor,
        distance: Tensor | None = None,
        hops: Tensor | None = None,
        edge_index: Tensor | None = None,
    ) -> Tensor:
        """``h`` ``[N, C]`` or ``[B, N, C]`` → same shape. Dense: ``distance`` / ``hops`` are
        ``[N, N]``; sparse (with ``edge_index`` ``[2, E]``): they are ``[E]``, per edge."""
        normed = self.norm1(h)
        if edge_index is None:
            h = h + self.attention.forward_dense(normed, distance, hops)
        else:
            h = h + self.attention(normed, edge_index, distance, hops)
        return h + self.ffn(self.norm2(h))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.attention!r})"
