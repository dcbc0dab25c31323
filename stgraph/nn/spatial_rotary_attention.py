r"""Multi-head self-attention with SE-RoPE applied to queries and keys."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from stgraph.nn.rotary import SpatialRotaryEmbedding, rotate


class SpatialRotaryAttention(nn.Module):
    r"""Self-attention over (node, time) tokens with :class:`SpatialRotaryEmbedding`:

    .. math::
        \operatorname{Attn}(X) = W_O \bigl\Vert_h \operatorname{softmax}\Bigl(
            \frac{R(W_Q^h X)\, R(W_K^h X)^\top}{\sqrt{d}} + M\Bigr) W_V^h X

    where :math:`R` rotates every token by its time position and its node's spatial position
    with learned per-node frequencies, and :math:`M` is an optional additive mask. The product
    runs in :func:`torch.nn.functional.scaled_dot_product_attention`. With ``rotary=False``
    :math:`R` is the identity: plain multi-head attention with the same projections (the
    ablation of the rotation, and the attention of a pretrained model without it).

    Args:
        channels: token feature size :math:`C`.
        num_nodes: number of nodes :math:`N` (for the per-node frequency scales).
        heads: number of heads (default: ``4``).
        base: rotary frequency base (default: ``10000.0``).
        dropout: attention dropout (default: ``0.0``).
        learn_scale: learn the per-node frequency scales (default: ``True``).
        positions: ``[N]`` spatial position of each node (default: ``None``, the node index).
        rotary: rotate queries and keys (default: ``True``).
    """

    def __init__(
        self,
        channels: int,
        num_nodes: int,
        heads: int = 4,
        base: float = 10000.0,
        dropout: float = 0.0,
        learn_scale: bool = True,
        positions: Tensor | None = None,
        rotary: bool = True,
    ) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"channels={channels} is not divisible by heads={heads}")
        self.channels = channels
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = nn.Linear(channels, channels)
        self.rotary = (
            SpatialRotaryEmbedding(channels // heads, num_nodes, base, positions, learn_scale)
            if rotary
            else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reinitialise the projections and the node frequency scales."""
        self.qkv.reset_parameters()
        self.out.reset_parameters()
        if self.rotary is not None:
            self.rotary.reset_parameters()

    def forward(
        self,
        x: Tensor,
        time_positions: Tensor,
        node_index: Tensor,
        attn_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        r"""Runs the forward pass.

        Args:
            x: tokens ``[B, L, C]``.
            time_positions: ``[L]`` or ``[B, L]`` time step of each token.
            node_index: ``[L]`` or ``[B, L]`` node of each token.
            attn_mask: optional ``[L, L]`` bool (true = may attend) or additive float mask.
            is_causal: each token attends only to itself and earlier tokens.
        """
        batch, length, _ = x.shape
        q, k, v = (t.view(batch, length, self.heads, -1) for t in self.qkv(x).chunk(3, dim=-1))
        if self.rotary is not None:
            rotation = self.rotary.rotation(time_positions, node_index).unsqueeze(-2)  # per head
            q, k = rotate(q, rotation), rotate(k, rotation)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=attn_mask,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=is_causal,
        )
        return self.out(out.transpose(1, 2).reshape(batch, length, self.channels))

    def __repr__(self) -> str:
        rotary = "" if self.rotary is not None else ", rotary=False"
        return f"{self.__class__.__name__}({self.channels}, heads={self.heads}{rotary})"
