"""Train-only standardisation that ignores missing values."""

from __future__ import annotations

import torch

CHUNK_ENTRIES = 1 << 24
"""Entries read at a time when fitting (128 MiB in float64)."""


class StandardScaler:
    r"""Z-score :math:`(x - \mu) / \sigma` fitted on observed training values.

    By default the statistics are taken per feature over all time steps and nodes given to
    :meth:`fit` (``[F]``); with ``per_node=True`` per node and feature (``[N, F]``, the LTSF
    convention of one scaler per variable). Only entries where ``mask`` is true count; a
    constant series gets :math:`\sigma = 1`.

    Args:
        mean: ``[F]`` or ``[N, F]`` means (default: ``None``, set by :meth:`fit`).
        std: standard deviations of the same shape (default: ``None``, set by :meth:`fit`).
    """

    def __init__(self, mean: torch.Tensor | None = None, std: torch.Tensor | None = None) -> None:
        self.mean = mean
        self.std = std

    def fit(
        self, values: torch.Tensor, mask: torch.Tensor | None = None, per_node: bool = False
    ) -> StandardScaler:
        """Fit on ``values`` ``[..., N, F]`` where ``mask`` (same shape, bool) is true."""
        kept = values.shape[-2:] if per_node else values.shape[-1:]
        flat = values.reshape(-1, *kept)
        keep = torch.ones_like(flat, dtype=torch.bool) if mask is None else mask.reshape(-1, *kept)
        # two passes over chunks of rows in float64: the memory of a chunk, not of the series
        rows = max(1, CHUNK_ENTRIES // max(flat[0].numel(), 1))
        chunks = list(zip(flat.split(rows), keep.split(rows), strict=True))
        total = torch.zeros(kept, dtype=torch.float64)
        count = torch.zeros(kept, dtype=torch.float64)
        for part, observed in chunks:
            total += torch.where(observed, part.double(), 0.0).sum(0)
            count += observed.sum(0)
        count = count.clamp(min=1)
        mean = total / count
        squares = torch.zeros(kept, dtype=torch.float64)
        for part, observed in chunks:
            squares += torch.where(observed, part.double() - mean, 0.0).square().sum(0)
        std = (squares / count).sqrt()
        self.mean = mean.float()
        self.std = torch.where(std > 0, std, torch.ones_like(std)).float()
        return self

    def transform(self, values: torch.Tensor) -> torch.Tensor:
        """Standardise ``values`` ``[..., F]`` (``[..., N, F]`` for a per-node scaler)."""
        return (values - self.mean.to(values)) / self.std.to(values)

    def inverse_transform(self, values: torch.Tensor) -> torch.Tensor:
        """Undo :meth:`transform`."""
        return values * self.std.to(values) + self.mean.to(values)

    def for_nodes(self, nodes: torch.Tensor) -> StandardScaler:
        """The scaler of the nodes ``nodes`` (itself unless it is per node)."""
        if self.mean is None or self.mean.dim() < 2:
            return self
        return StandardScaler(self.mean[nodes], self.std[nodes])

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors needed to rebuild the scaler (for checkpoints)."""
        return {"mean": self.mean, "std": self.std}

    def __repr__(self) -> str:
        features = None if self.mean is None else self.mean.numel()
        return f"{self.__class__.__name__}(features={features})"
