r"""Mask tokens with additive prompt tokens, for forecasting by masked reconstruction."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MaskTokenPrompt(nn.Module):
    r"""A mask token plus element-wise prompt tokens, after `PT-Tuning
    <https://arxiv.org/abs/2311.03768>`_.

    Masked-reconstruction pretraining learns one mask token :math:`m`. Forecasting then
    appends :math:`H` mask tokens for the future steps, each added to a learned prompt:

    .. math::
        \tilde x_{L + h} = m + p_h, \qquad h = 1 \ldots H

    Prompts start at zero, so before prompt tuning :math:`\tilde x_{L+h} = m` exactly as in
    pretraining; prompt tuning freezes :math:`m` and the backbone and learns only :math:`p`.

    Args:
        channels: token size :math:`C`.
        horizon: number of future tokens :math:`H` with their own prompt.
    """

    def __init__(self, channels: int, horizon: int) -> None:
        super().__init__()
        self.channels = channels
        self.horizon = horizon
        self.mask_token = nn.Parameter(torch.empty(channels))
        self.prompt = nn.Parameter(torch.empty(horizon, channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Small random mask token, zero prompts."""
        nn.init.normal_(self.mask_token, std=0.02)
        nn.init.zeros_(self.prompt)

    def tokens(self) -> Tensor:
        """The ``[H, C]`` prompted mask tokens :math:`m + p_h`."""
        return self.mask_token + self.prompt

    def mask(self, x: Tensor, mask: Tensor) -> Tensor:
        """Replace tokens of ``x`` ``[..., L, C]`` where ``mask`` ``[..., L]`` is true by the
        bare mask token (pretraining)."""
        return torch.where(mask.unsqueeze(-1), self.mask_token.to(x.dtype), x)

    def forward(self, x: Tensor) -> Tensor:
        """Append the :math:`H` prompted mask tokens: ``[..., L, C]`` → ``[..., L + H, C]``."""
        future = self.tokens().to(x.dtype).expand(*x.shape[:-2], self.horizon, self.channels)
        return torch.cat((x, future), dim=-2)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels}, horizon={self.horizon})"
