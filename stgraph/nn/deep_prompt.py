r"""Deep prompt tokens inserted before every layer and removed after it (VPT / PromptST)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn


class DeepPromptTokens(nn.Module):
    r"""Learnable prompt tokens for each layer of a frozen sequence model (`VPT-deep
    <https://arxiv.org/abs/2203.12119>`_), as PromptST inserts them in its temporal encoder.

    Before layer :math:`\ell`, :math:`P` fresh tokens :math:`\mathbf{p}^{(\ell)}` join the
    sequence (appended or prepended along ``seq_dim``); after the layer their outputs are
    dropped, so every layer sees new prompts and the sequence length is unchanged:

    .. math::
        X^{(\ell+1)} = \operatorname{drop}_P\bigl(f_\ell([X^{(\ell)}; \mathbf{p}^{(\ell)}])\bigr)

    Prompts are shared by all nodes (shape ``[layers, P, C]``) or, with ``num_nodes``, one set
    per node (``[layers, P, N, C]``, PromptST's ``st_prompt_tokens``); per-node prompts expect
    inputs ``[..., N, L, C]`` with the sequence on ``seq_dim=-2``. With ``num_groups`` there
    is one such set per group (``[G, layers, ...]``, e.g. one per attribute of a
    multi-attribute series), and :meth:`insert` takes the group of each row of the input's
    first dimension.

    Args:
        num_layers: layers that receive prompts.
        num_tokens: prompts per layer :math:`P`.
        channels: token size :math:`C`.
        num_nodes: one prompt set per node when given (default: ``None``, shared).
        position: ``"append"`` (PromptST) or ``"prepend"`` (default: ``"append"``).
        num_groups: one prompt set per group when given (default: ``None``, one set).
    """

    def __init__(
        self,
        num_layers: int,
        num_tokens: int,
        channels: int,
        num_nodes: int | None = None,
        position: str = "append",
        num_groups: int | None = None,
    ) -> None:
        super().__init__()
        if position not in ("append", "prepend"):
            raise ValueError(f"position must be 'append' or 'prepend', got {position!r}")
        self.num_layers = num_layers
        self.num_tokens = num_tokens
        self.channels = channels
        self.num_nodes = num_nodes
        self.position = position
        self.num_groups = num_groups
        shape = (
            (num_layers, num_tokens, channels)
            if num_nodes is None
            else (num_layers, num_tokens, num_nodes, channels)
        )
        if num_groups is not None:
            shape = (num_groups, *shape)
        self.prompts = nn.Parameter(torch.empty(shape))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-normal prompts (each group's set alike), as PromptST's ``init_pmt('xnor')``."""
        groups = self.num_groups or 1
        sets = self.prompts.data.view(groups, self.num_layers * self.num_tokens, -1)
        for index in range(groups):
            nn.init.xavier_normal_(sets[index])

    def insert(self, x: Tensor, layer: int, group: Tensor | None = None) -> Tensor:
        """Add layer ``layer``'s prompts to ``x`` ``[..., L, C]`` → ``[..., L + P, C]``;
        ``group`` ``[x.size(0)]`` picks each row's prompt set (with ``num_groups``)."""
        if (group is None) != (self.num_groups is None):
            raise ValueError("give a group index exactly when the prompts have num_groups")
        prompts = self.prompts[layer] if group is None else self.prompts[group, layer]
        if self.num_nodes is not None:
            prompts = prompts.transpose(-3, -2)  # [(R,) N, P, C]
        if group is not None:  # one set per row of x: line its leading dim up with x's
            prompts = prompts.view(len(group), *[1] * (x.dim() - prompts.dim()), *prompts.shape[1:])
        prompts = prompts.to(x.dtype).expand(*x.shape[:-2], self.num_tokens, self.channels)
        parts = (x, prompts) if self.position == "append" else (prompts, x)
        return torch.cat(parts, dim=-2)

    def remove(self, x: Tensor) -> Tensor:
        """Drop the prompt positions: ``[..., L + P, C]`` → ``[..., L, C]``."""
        if self.position == "append":
            return x[..., : x.size(-2) - self.num_tokens, :]
        return x[..., self.num_tokens :, :]

    def forward(
        self,
        x: Tensor,
        layers: Sequence[Callable[[Tensor], Tensor]],
        group: Tensor | None = None,
    ) -> Tensor:
        """Run ``layers`` in turn, each with its own prompts inserted and then removed."""
        if len(layers) != self.num_layers:
            raise ValueError(f"{len(layers)} layers for {self.num_layers} prompt sets")
        for index, layer in enumerate(layers):
            x = self.remove(layer(self.insert(x, index, group)))
        return x

    def __repr__(self) -> str:
        scope = "shared" if self.num_nodes is None else f"per node ({self.num_nodes})"
        if self.num_groups is not None:
            scope += f", {self.num_groups} groups"
        return (
            f"{self.__class__.__name__}(layers={self.num_layers}, tokens={self.num_tokens}, "
            f"channels={self.channels}, {scope}, {self.position})"
        )
