r"""Cross-attention from region embeddings to frozen text/LLM prompt vectors (ToPT)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class PromptAlignment(nn.Module):
    r"""Align region embeddings with frozen prompt vectors, after ToPT's Prompt4RE module
    (`arXiv:2602.01610 <https://arxiv.org/abs/2602.01610>`_).

    Region embeddings :math:`E \in \mathbb{R}^{n \times d_e}` are the queries, prompt vectors
    :math:`P \in \mathbb{R}^{m \times d_p}` (from a frozen language model) the keys and values.
    Head :math:`h` of :math:`H` attends in the region space and reads values in the prompt space:

    .. math::
        A_h = \operatorname{softmax}\Bigl(\frac{(E W_Q^h)(P W_K^h)^\top}{\sqrt{d_e / H}}\Bigr),
        \qquad
        Z = \operatorname{LayerNorm}\bigl(\Vert_h A_h P W_V^h + E W_{\text{res}}\bigr) W_O

    so :math:`Z \in \mathbb{R}^{n \times d_p}`: the residual :math:`W_{\text{res}}` lifts the
    region embedding to the prompt dimension, as the reference code does.

    Args:
        region_channels: :math:`d_e` (divisible by ``heads``).
        prompt_channels: :math:`d_p` (divisible by ``heads``).
        heads: :math:`H` (default: ``4``).
        dropout: dropout on the attention weights (default: ``0.1``).
    """

    def __init__(
        self, region_channels: int, prompt_channels: int, heads: int = 4, dropout: float = 0.1
    ) -> None:
        super().__init__()
        if region_channels % heads or prompt_channels % heads:
            raise ValueError("region_channels and prompt_channels must be divisible by heads")
        self.region_channels = region_channels
        self.prompt_channels = prompt_channels
        self.heads = heads
        self.dropout = dropout
        self.query = nn.Linear(region_channels, region_channels)
        self.key = nn.Linear(prompt_channels, region_channels)
        self.value = nn.Linear(prompt_channels, prompt_channels)
        self.residual = nn.Linear(region_channels, prompt_channels)
        self.norm = nn.LayerNorm(prompt_channels)
        self.out = nn.Linear(prompt_channels, prompt_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reinitialise every projection and the LayerNorm."""
        for module in (self.query, self.key, self.value, self.residual, self.norm, self.out):
            module.reset_parameters()

    def forward(
        self, regions: Tensor, prompts: Tensor, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Align ``regions`` ``[n, d_e]`` with ``prompts`` ``[m, d_p]`` → ``[n, d_p]``
        (and the ``[H, n, m]`` attention weights when ``return_attention``)."""
        n, m, h = regions.size(0), prompts.size(0), self.heads
        q = self.query(regions).view(n, h, -1).transpose(0, 1)  # [H, n, d_e/H]
        k = self.key(prompts).view(m, h, -1).transpose(0, 1)  # [H, m, d_e/H]
        v = self.value(prompts).view(m, h, -1).transpose(0, 1)  # [H, m, d_p/H]
        attention = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(q.size(-1)), dim=-1)
        mixed = F.dropout(attention, self.dropout, self.training) @ v  # [H, n, d_p/H]
        mixed = mixed.transpose(0, 1).reshape(n, self.prompt_channels)
        out = self.out(self.norm(mixed + self.residual(regions)))
        return (out, attention) if return_attention else out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.region_channels} -> {self.prompt_channels}, "
            f"heads={self.heads})"
        )
