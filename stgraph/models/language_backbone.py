r"""The blocks of a pretrained language model, rebuilt from :mod:`stgraph.nn` parts so that
their attention can take SE-RoPE and their feed-forward a memory-retrieval expert beside it.

Each block is the pretrained block, weight for weight: the attention is a
:class:`~stgraph.nn.SpatialRotaryAttention` holding the model's query/key/value and output
projections (with ``rotary=False`` it is exactly the model's own attention), then the model's
two-layer MLP, with the model's LayerNorm placement:

.. math::
    \text{post-norm (BERT):}\quad a = \operatorname{LN}_1(h + \operatorname{Attn}(h)),\quad
    h' = \operatorname{LN}_2(a + \operatorname{MLP}(a) + \operatorname{MR}(a))

    \text{pre-norm (GPT-2):}\quad a = h + \operatorname{Attn}(\operatorname{LN}_1 h),\quad
    h' = a + \operatorname{MLP}(\operatorname{LN}_2 a) + \operatorname{MR}(\operatorname{LN}_2 a)

where :math:`\operatorname{MR}` is an optional :class:`~stgraph.nn.MemoryRetrievalFFN` beside
the MLP (absent: zero).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stgraph.llm.backbone import BackboneWeights
from stgraph.nn import MemoryRetrievalFFN, SpatialRotaryAttention

INIT_STD = 0.02
"""Standard deviation of the BERT / GPT-2 initialisation of linear weights."""


class BackboneBlock(nn.Module):
    r"""One pretrained transformer block (see the module docstring).

    Args:
        weights: the backbone whose configuration the block takes.
        num_nodes: nodes :math:`N` (for SE-RoPE's per-node frequency scales).
        positions: ``[N]`` spatial positions for SE-RoPE (default: ``None``, the node index).
        rotary: SE-RoPE on queries and keys (default: ``True``).
        memory: a :class:`~stgraph.nn.MemoryRetrievalFFN` beside the MLP (default: ``None``).
        dropout: dropout on the residual branches (default: ``0.1``, as BERT and GPT-2).
    """

    def __init__(
        self,
        weights: BackboneWeights,
        num_nodes: int,
        positions: Tensor | None = None,
        rotary: bool = True,
        memory: MemoryRetrievalFFN | None = None,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        width = weights.width
        self.pre_norm = weights.pre_norm
        self.attention = SpatialRotaryAttention(
            width, num_nodes, weights.heads, positions=positions, rotary=rotary
        )
        self.norm1 = nn.LayerNorm(width, eps=weights.norm_eps)
        approximate = "tanh" if weights.activation == "gelu_tanh" else "none"
        self.mlp = nn.Sequential(
            nn.Linear(width, weights.ffn_width),
            nn.GELU(approximate=approximate),
            nn.Linear(weights.ffn_width, width),
        )
        self.norm2 = nn.LayerNorm(width, eps=weights.norm_eps)
        self.memory = memory
        self.dropout = nn.Dropout(dropout)
        self.memory_loss: Tensor | None = None

    def load_pretrained(self, block: dict[str, Tensor]) -> None:
        """Copy one block of :attr:`BackboneWeights.blocks` into this module."""
        targets = {
            "qkv": self.attention.qkv,
            "out": self.attention.out,
            "norm1": self.norm1,
            "mlp_in": self.mlp[0],
            "mlp_out": self.mlp[2],
            "norm2": self.norm2,
        }
        with torch.no_grad():
            for name, module in targets.items():
                module.weight.copy_(block[f"{name}.weight"])
                module.bias.copy_(block[f"{name}.bias"])

    def reset_random(self) -> None:
        """The BERT / GPT-2 random initialisation (normal weights, zero biases, unit norms)."""
        for module in (self.attention.qkv, self.attention.out, self.mlp[0], self.mlp[2]):
            nn.init.normal_(module.weight, std=INIT_STD)
            nn.init.zeros_(module.bias)
        for norm in (self.norm1, self.norm2):
            norm.reset_parameters()

    def _feed_forward(self, h: Tensor) -> Tensor:
        out = self.mlp(h)
        if self.memory is not None:
            retrieved, self.memory_loss = self.memory(h)
            out = out + retrieved
        return self.dropout(out)

    def forward(
        self, h: Tensor, time_positions: Tensor, node_index: Tensor, causal: bool = False
    ) -> Tensor:
        """Map tokens ``[B, L, C]``; ``time_positions`` and ``node_index`` are ``[L]``."""
        if self.pre_norm:
            attended = self.attention(self.norm1(h), time_positions, node_index, is_causal=causal)
            a = h + self.dropout(attended)
            return a + self._feed_forward(self.norm2(a))
        attended = self.attention(h, time_positions, node_index, is_causal=causal)
        a = self.norm1(h + self.dropout(attended))
        return self.norm2(a + self._feed_forward(a))


class PretrainedTransformer(nn.Module):
    r"""The blocks of a pretrained transformer (without its token and position embeddings),
    with its input LayerNorm (BERT) or final LayerNorm (GPT-2), fed with hidden states.

    Args:
        weights: the backbone read by :func:`~stgraph.llm.backbone.load_backbone`.
        num_nodes: nodes :math:`N`.
        positions: ``[N]`` spatial positions for SE-RoPE (default: ``None``, the node index).
        rotary: SE-RoPE in every block's attention (default: ``True``).
        memory_layers: how many of the top blocks get a memory-retrieval expert beside their
            MLP (default: ``0``).
        memory_options: keyword arguments of those :class:`~stgraph.nn.MemoryRetrievalFFN`
            (default: ``None``, its defaults with ``hidden_channels`` half the width).
        pretrained: load the backbone's weights; ``False`` re-initialises them randomly, the
            "is language pretraining worth anything" ablation (default: ``True``).
        causal: attend only to earlier tokens (default: ``None``, as the backbone does:
            GPT-2 causal, BERT bidirectional).
        dropout: residual dropout (default: ``0.1``).
    """

    def __init__(
        self,
        weights: BackboneWeights,
        num_nodes: int,
        positions: Tensor | None = None,
        rotary: bool = True,
        memory_layers: int = 0,
        memory_options: dict | None = None,
        pretrained: bool = True,
        causal: bool | None = None,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if not 0 <= memory_layers <= weights.depth:
            raise ValueError(f"memory_layers must lie in [0, {weights.depth}]")
        self.weights = weights
        self.pretrained = pretrained
        self.causal = weights.causal if causal is None else causal
        width = weights.width
        options = {"hidden_channels": width // 2, **(memory_options or {})}
        first_memory = weights.depth - memory_layers
        self.blocks = nn.ModuleList(
            BackboneBlock(
                weights,
                num_nodes,
                positions,
                rotary,
                MemoryRetrievalFFN(width, **options) if i >= first_memory else None,
                dropout,
            )
            for i in range(weights.depth)
        )
        self.input_norm = nn.LayerNorm(width, weights.norm_eps) if weights.input_norm else None
        self.final_norm = nn.LayerNorm(width, weights.norm_eps) if weights.final_norm else None
        self.reset_parameters()

    @property
    def depth(self) -> int:
        """Number of blocks."""
        return len(self.blocks)

    def reset_parameters(self) -> None:
        """The pretrained weights again (or a fresh random initialisation when not
        ``pretrained``), and freshly initialised memory experts and node scales."""
        norms = (
            (self.input_norm, self.weights.input_norm),
            (self.final_norm, self.weights.final_norm),
        )
        for block, saved in zip(self.blocks, self.weights.blocks, strict=True):
            if self.pretrained:
                block.load_pretrained(saved)
            else:
                block.reset_random()
            if block.attention.rotary is not None:
                block.attention.rotary.reset_parameters()
            if block.memory is not None:
                block.memory.reset_parameters()
        with torch.no_grad():
            for norm, saved in norms:
                if norm is None:
                    continue
                if self.pretrained:
                    norm.weight.copy_(saved["weight"])
                    norm.bias.copy_(saved["bias"])
                else:
                    norm.reset_parameters()

    def memory_loss(self) -> Tensor | None:
        """Sum of the memory experts' load-balancing losses of the last forward pass."""
        losses = [b.memory_loss for b in self.blocks if b.memory_loss is not None]
        return torch.stack(losses).sum() if losses else None

    def forward(self, h: Tensor, time_positions: Tensor, node_index: Tensor) -> Tensor:
        """Map hidden states ``[B, L, C]`` of tokens at ``time_positions`` / ``node_index``
        (``[L]``) through every block."""
        if self.input_norm is not None:
            h = self.input_norm(h)
        for block in self.blocks:
            h = block(h, time_positions, node_index, self.causal)
        return self.final_norm(h) if self.final_norm is not None else h

    def __repr__(self) -> str:
        memory = sum(b.memory is not None for b in self.blocks)
        return (
            f"{self.__class__.__name__}({self.weights.family}, width={self.weights.width}, "
            f"depth={self.depth}, memory_layers={memory}, pretrained={self.pretrained})"
        )
