"""ToPT's second stage (Prompt4RE): task prompts aligned with region embeddings, linear head."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stgraph.nn import PromptAlignment


class PromptRegressor(nn.Module):
    r"""Predict a region label from its embedding and a soft prompt.

    :class:`~stgraph.nn.PromptAlignment` lets the region embeddings :math:`E` (queries) attend to
    frozen task-prompt vectors :math:`P` (keys/values); a linear map turns the aligned vectors
    into a soft prompt :math:`S` of the embedding's size, and the head is one linear layer on
    :math:`[S, E]`:

    .. math::
        \hat y = w_S^\top S + w_E^\top E + b

    :meth:`warm_start` sets :math:`w_E, b` from a ridge regression on :math:`E` alone and
    :math:`w_S` to small values, so training starts from the ridge solution (as the reference
    code does).

    Args:
        region_dim: embedding size :math:`d_e`.
        prompt_dim: prompt-vector size :math:`d_p`.
        heads: alignment heads (default: ``4``).
        dropout: attention dropout (default: ``0.1``).
    """

    def __init__(
        self, region_dim: int, prompt_dim: int, heads: int = 4, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.region_dim = region_dim
        self.align = PromptAlignment(region_dim, prompt_dim, heads, dropout)
        self.soft_prompt = nn.Linear(prompt_dim, region_dim)
        self.head = nn.Linear(2 * region_dim, 1)

    def warm_start(self, coefficients: Tensor, intercept: float) -> None:
        """Start the head at the ridge solution on :math:`E` (soft-prompt weights small)."""
        with torch.no_grad():
            nn.init.normal_(self.head.weight[:, : self.region_dim], std=1e-3)
            self.head.weight[0, self.region_dim :] = coefficients
            self.head.bias.fill_(intercept)

    def forward(self, regions: Tensor, prompts: Tensor) -> Tensor:
        """Predictions ``[n]`` for ``regions`` ``[n, d_e]`` given ``prompts`` ``[m, d_p]``."""
        soft = self.soft_prompt(self.align(regions, prompts))
        return self.head(torch.cat([soft, regions], dim=-1)).squeeze(-1)
