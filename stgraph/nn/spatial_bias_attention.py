r"""Multi-head attention with Graphormer-style spatial biases, sparse and dense."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import softmax

from stgraph.nn.distance_bias import DistanceBias
from stgraph.nn.hop_bias import HopBias


class SpatialBiasAttention(MessagePassing):
    r"""Multi-head dot-product attention whose scores receive learned spatial biases, after
    `Graphormer <https://arxiv.org/abs/2106.05234>`_:

    .. math::
        \alpha_{ij}^{h} = \operatorname{softmax}_{j \in \mathcal{N}(i)}\Bigl(
            \frac{(W_Q^h x_i)^\top (W_K^h x_j)}{\sqrt{d}}
            + \lambda\,\bigl(b^{\text{dist}}_h(d_{ij}) + b^{\text{hop}}_h(\phi_{ij})\bigr)\Bigr),
        \qquad
        x_i' = W_O \bigl\Vert_{h=1}^{H} \sum_{j \in \mathcal{N}(i)} \alpha_{ij}^{h} W_V^h x_j

    where :math:`b^{\text{dist}}` is a :class:`DistanceBias`, :math:`b^{\text{hop}}` a
    :class:`HopBias`, and :math:`\lambda` the bias strength (learnable or fixed).

    Two paths share the same parameters and give the same result on a complete graph:

    * :meth:`forward` — sparse: a :class:`~torch_geometric.nn.MessagePassing` over
      ``edge_index`` (row 0 = source :math:`j`, row 1 = target :math:`i`), normalised with
      :func:`torch_geometric.utils.softmax`; cost :math:`O(E)`.
    * :meth:`forward_dense` — all pairs, with an additive ``[H, N, N]`` bias passed to
      :func:`torch.nn.functional.scaled_dot_product_attention`; cost :math:`O(N^2)`.

    Node features may carry leading batch dimensions (``[B, N, C]``, e.g. the time steps of a
    window) that share one graph: the graph is never copied per sample.
    A node with no in-edge receives no message; its output is the output projection's bias
    (its attention weights are empty).

    Args:
        channels: input and output feature size :math:`C`.
        heads: number of heads :math:`H` (default: ``4``).
        head_channels: size :math:`d` of each head (default: ``channels // heads``).
        distance_kernels: kernels of the distance bias; ``0`` switches it off (default: ``16``).
        max_distance: distance range of the distance bias (default: ``1.0``).
        max_hops: hop range of the hop bias; ``None`` switches it off (default: ``None``).
        bias_strength: initial :math:`\lambda` (default: ``1.0``).
        learn_strength: whether :math:`\lambda` is learned (default: ``True``).
        dropout: dropout on the attention weights (default: ``0.0``).
    """

    def __init__(
        self,
        channels: int,
        heads: int = 4,
        head_channels: int | None = None,
        distance_kernels: int = 16,
        max_distance: float = 1.0,
        max_hops: int | None = None,
        bias_strength: float = 1.0,
        learn_strength: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(aggr="add", node_dim=-3)
        self.channels = channels
        self.heads = heads
        self.head_channels = head_channels or channels // heads
        if self.head_channels < 1:
            raise ValueError(f"channels={channels} is smaller than heads={heads}")
        self.dropout = dropout
        inner = heads * self.head_channels
        self.qkv = nn.Linear(channels, 3 * inner)
        self.out = nn.Linear(inner, channels)
        self.distance_bias = (
            DistanceBias(heads, distance_kernels, max_distance) if distance_kernels > 0 else None
        )
        self.hop_bias = HopBias(heads, max_hops) if max_hops is not None else None
        self.bias_strength = nn.Parameter(
            torch.tensor(float(bias_strength)), requires_grad=learn_strength
        )
        self._initial_strength = float(bias_strength)
        self._alpha: Tensor | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Reinitialise projections, bias encoders and :math:`\lambda`."""
        super().reset_parameters()
        self.qkv.reset_parameters()
        self.out.reset_parameters()
        for module in (self.distance_bias, self.hop_bias):
            if module is not None:
                module.reset_parameters()
        with torch.no_grad():
            self.bias_strength.fill_(self._initial_strength)

    def _project(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        shape = (*x.shape[:-1], self.heads, self.head_channels)
        return q.view(shape), k.view(shape), v.view(shape)

    def _bias(self, distance: Tensor | None, hops: Tensor | None) -> Tensor | None:
        r"""Sum of the enabled biases, ``[..., H]``, times :math:`\lambda`."""
        total = None
        if self.distance_bias is not None and distance is not None:
            total = self.distance_bias(distance)
        if self.hop_bias is not None and hops is not None:
            hop = self.hop_bias(hops)
            total = hop if total is None else total + hop
        return None if total is None else self.bias_strength * total

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_distance: Tensor | None = None,
        edge_hops: Tensor | None = None,
        return_attention_weights: bool = False,
    ) -> Tensor | tuple[Tensor, tuple[Tensor, Tensor]]:
        r"""Runs the sparse forward pass.

        Args:
            x: node features ``[N, C]`` or ``[B, N, C]``.
            edge_index: ``[2, E]`` edges, messages flow from row 0 to row 1.
            edge_distance: ``[E]`` distance of each edge, for the distance bias.
            edge_hops: ``[E]`` hop count of each edge, for the hop bias.
            return_attention_weights: also return ``(edge_index, alpha)`` with ``alpha``
                ``[E, H]`` (or ``[B, E, H]``).
        """
        q, k, v = self._project(x)
        bias = self._bias(edge_distance, edge_hops)
        out = self.propagate(edge_index, q=q, k=k, v=v, bias=bias, size=(x.size(-2), x.size(-2)))
        out = self.out(out.reshape(*x.shape[:-1], -1))
        if return_attention_weights:
            alpha, self._alpha = self._alpha, None
            return out, (edge_index, alpha)
        return out

    def message(
        self,
        q_i: Tensor,
        k_j: Tensor,
        v_j: Tensor,
        bias: Tensor | None,
        index: Tensor,
        ptr: Tensor | None,
        size_i: int | None,
    ) -> Tensor:
        """Attention-weighted values of each edge, ``[..., E, H, d]``."""
        alpha = (q_i * k_j).sum(dim=-1) / math.sqrt(self.head_channels)
        if bias is not None:
            alpha = alpha + bias
        alpha = softmax(alpha, index, ptr, size_i, dim=-2)
        self._alpha = alpha
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        return v_j * alpha.unsqueeze(-1)

    def forward_dense(
        self,
        x: Tensor,
        distance: Tensor | None = None,
        hops: Tensor | None = None,
        attn_mask: Tensor | None = None,
    ) -> Tensor:
        r"""Runs the dense forward pass over all node pairs.

        Args:
            x: node features ``[N, C]`` or ``[B, N, C]``.
            distance: ``[N, N]`` distances, ``distance[i, j]`` from target ``i`` to source ``j``.
            hops: ``[N, N]`` hop counts (negative = unreachable).
            attn_mask: optional ``[N, N]`` bool, true where ``i`` may attend to ``j``.

        ``x`` may hold more tokens than the graph has nodes: tokens past the first ``N`` (e.g.
        prompt tokens) attend and are attended to without bias.
        """
        q, k, v = (t.movedim(-2, -3) for t in self._project(x))  # [..., H, N, d]
        bias = self._bias(distance, hops)
        mask = None if bias is None else bias.permute(2, 0, 1)  # [H, N, N]
        extra = x.size(-2) - (mask.size(-1) if mask is not None else x.size(-2))
        if extra > 0:
            mask = F.pad(mask, (0, extra, 0, extra))
        if attn_mask is not None:
            blocked = torch.zeros(attn_mask.shape, dtype=q.dtype, device=q.device)
            blocked = blocked.masked_fill(~attn_mask, float("-inf"))
            mask = blocked if mask is None else mask + blocked
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(out.movedim(-3, -2).reshape(*x.shape[:-1], -1))

    def __repr__(self) -> str:
        biases = [
            name
            for name, m in (("distance", self.distance_bias), ("hops", self.hop_bias))
            if m is not None
        ]
        return (
            f"{self.__class__.__name__}({self.channels}, heads={self.heads}, "
            f"bias={'+'.join(biases) or 'none'})"
        )
