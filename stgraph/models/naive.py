"""Rules that need no training: the last value and the seasonal naive forecast."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stgraph.data.scaler import StandardScaler


class LastValue(nn.Module):
    r"""Repeat the last input step for every horizon step: :math:`\hat y_{t+h} = x_t`.

    Args:
        output_len: number of predicted steps.
    """

    receptive_hops = 0
    """Each node's forecast reads its own inputs only (it runs on node mini-batches)."""

    def __init__(self, output_len: int) -> None:
        super().__init__()
        self.output_len = output_len

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Predictions ``[B, L_out, N, F]`` (scaled units, like the inputs)."""
        last = batch["x"][:, -1:]
        return last.expand(-1, self.output_len, *last.shape[2:])


class SeasonalNaive(nn.Module):
    r"""Repeat the last observed season:

    .. math::
        \hat y_{t+h} = y_{t+h-kP}, \qquad k = \lceil h / P \rceil,

    so every prediction reads a step at or before the forecast origin :math:`t`, also when the
    horizon is longer than the period (with :math:`k = 1` the later steps would copy the
    window's own future). Values are read from the full series, so a season that lies before
    the input window is still found. Where that value is missing or before the start of the
    series, the last input value is used instead.

    Args:
        series: the full signal ``[T, N, F]`` in original units.
        mask: its observed-entry mask ``[T, N, F]``.
        period: season length :math:`P` in steps.
        input_len: steps in an input window.
        output_len: steps predicted.
        scaler: the scaler of the inputs (default: ``None``, no scaling).
    """

    receptive_hops = 0
    """Each node's forecast reads its own series only (it runs on node mini-batches)."""

    def __init__(
        self,
        series: Tensor,
        mask: Tensor,
        period: int,
        input_len: int,
        output_len: int,
        scaler: StandardScaler | None = None,
    ) -> None:
        super().__init__()
        self.period = period
        self.input_len = input_len
        self.output_len = output_len
        self.register_buffer(
            "series", scaler.transform(series) if scaler else series, persistent=False
        )
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Predictions ``[B, L_out, N, F]`` (scaled units; of ``batch["nodes"]`` when given)."""
        ahead = torch.arange(1, self.output_len + 1, device=batch["start"].device)
        seasons_back = (ahead + self.period - 1) // self.period  # ceil(h / P)
        origin = batch["start"][:, None] + self.input_len - 1  # the last input step t
        steps = origin + ahead - seasons_back * self.period
        valid = steps >= 0
        index = steps.clamp(min=0)
        if "nodes" in batch:
            index = (index[:, :, None], batch["nodes"][None, None, :])
        seasonal, observed = self.series[index], self.mask[index]
        usable = observed & valid[..., None, None]
        last = batch["x"][:, -1:].expand_as(seasonal)
        return torch.where(usable, seasonal, last)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(period={self.period})"
