r"""DLinear (`Zeng et al., AAAI 2023 <https://arxiv.org/abs/2205.13504>`_): a moving-average
trend and its remainder, each mapped to the horizon by one linear layer shared by all nodes."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class DLinear(nn.Module):
    r"""For each node's window :math:`x \in \mathbb{R}^L`,

    .. math::
        t = \operatorname{MA}_k(x), \qquad \hat y = W_t\, t + W_s\, (x - t) + b,

    where :math:`\operatorname{MA}_k` is a centred moving average of width :math:`k` with the
    window's ends repeated as padding. The weights are shared by all nodes and features
    (DLinear's "shared" setting).

    Args:
        input_len: window length :math:`L`.
        output_len: horizon :math:`H`.
        kernel: moving-average width :math:`k`, odd (default: ``25``, as the paper).
    """

    def __init__(self, input_len: int, output_len: int, kernel: int = 25) -> None:
        super().__init__()
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"the moving-average width must be odd and positive, got {kernel}")
        self.kernel = kernel
        self.output_len = output_len
        self.trend = nn.Linear(input_len, output_len)
        self.seasonal = nn.Linear(input_len, output_len)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Both maps start as the window's mean (the paper's initialisation)."""
        for layer in (self.trend, self.seasonal):
            nn.init.constant_(layer.weight, 1.0 / layer.in_features)
            nn.init.zeros_(layer.bias)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Forecast ``[B, H, N, F]`` from ``batch["x"]`` ``[B, L, N, F]``."""
        x = batch["x"]
        b, length, n, f = x.shape
        series = x.permute(0, 2, 3, 1).reshape(b * n * f, 1, length)
        half = self.kernel // 2
        padded = F.pad(series, (half, half), mode="replicate")
        trend = F.avg_pool1d(padded, self.kernel, stride=1).squeeze(1)
        out = self.trend(trend) + self.seasonal(series.squeeze(1) - trend)
        return out.view(b, n, f, self.output_len).permute(0, 3, 1, 2)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(kernel={self.kernel}, horizon={self.output_len})"
