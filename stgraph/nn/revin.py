r"""Reversible instance normalisation."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RevIN(nn.Module):
    r"""Reversible instance normalisation (`Kim et al., ICLR 2022
    <https://openreview.net/forum?id=cGDAkQo1C0p>`_).

    Each series of an input window is standardised by its own statistics over the time
    dimension, optionally followed by a learned affine map; the prediction is mapped back:

    .. math::
        \hat x = \gamma \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta, \qquad
        y = \frac{\hat y - \beta}{\gamma}\sqrt{\sigma^2 + \epsilon} + \mu

    The statistics are returned by :meth:`normalize` and passed to :meth:`denormalize`, so one
    module can serve several windows at once; ``denormalize(normalize(x))`` gives back ``x``.

    Args:
        num_features: size of the last dimension (the affine parameters are per feature).
        eps: :math:`\epsilon` (default: ``1e-5``).
        affine: learn :math:`\gamma, \beta` (default: ``True``).
        time_dim: dimension holding time (default: ``1``, for ``[B, L, ...]``).
    """

    def __init__(
        self, num_features: int, eps: float = 1e-5, affine: bool = True, time_dim: int = 1
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.affine = affine
        self.time_dim = time_dim
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Identity affine map."""
        if self.affine:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def normalize(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Return the normalised ``x`` and its statistics ``(mean, std)``."""
        mean = x.mean(dim=self.time_dim, keepdim=True).detach()
        std = torch.sqrt(x.var(dim=self.time_dim, keepdim=True, unbiased=False) + self.eps).detach()
        out = (x - mean) / std
        if self.affine:
            out = out * self.weight + self.bias
        return out, (mean, std)

    def denormalize(self, y: Tensor, stats: tuple[Tensor, Tensor]) -> Tensor:
        """Map a prediction in normalised units back with the statistics of its input."""
        mean, std = stats
        if self.affine:
            y = (y - self.bias) / self.weight
        return y * std + mean

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.num_features}, affine={self.affine})"
