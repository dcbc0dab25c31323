"""Train-only standardisation that ignores missing values."""

from __future__ import annotations

import torch


class StandardScaler:
    r"""Per-feature z-score :math:`(x - \mu_f) / \sigma_f` fitted on observed training values.

    Statistics are taken per feature over all time steps and nodes given to :meth:`fit`, using
    only the entries where ``mask`` is true; a constant feature gets :math:`\sigma_f = 1`.

    Args:
        mean: ``[F]`` means (default: ``None``, set by :meth:`fit`).
        std: ``[F]`` standard deviations (default: ``None``, set by :meth:`fit`).
    """

    def __init__(self, mean: torch.Tensor | None = None, std: torch.Tensor | None = None) -> None:
        self.mean = mean
        self.std = std

    def fit(self, values: torch.Tensor, mask: torch.Tensor | None = None) -> StandardScaler:
        """Fit on ``values`` ``[..., F]`` where ``mask`` (same shape, bool) is true."""
        flat = values.reshape(-1, values.size(-1)).double()
        keep = (
            torch.ones_like(flat, dtype=torch.bool)
            if mask is None
            else mask.reshape(-1, values.size(-1))
        )
        count = keep.sum(0).clamp(min=1)
        mean = (flat * keep).sum(0) / count
        var = (((flat - mean) * keep) ** 2).sum(0) / count
        std = var.sqrt()
        self.mean = mean.float()
        self.std = torch.where(std > 0, std, torch.ones_like(std)).float()
        return self

    def transform(self, values: torch.Tensor) -> torch.Tensor:
        """Standardise ``values`` ``[..., F]``."""
        return (values - self.mean.to(values)) / self.std.to(values)

    def inverse_transform(self, values: torch.Tensor) -> torch.Tensor:
        """Undo :meth:`transform`."""
        return values * self.std.to(values) + self.mean.to(values)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors needed to rebuild the scaler (for checkpoints)."""
        return {"mean": self.mean, "std": self.std}

    def __repr__(self) -> str:
        features = None if self.mean is None else self.mean.numel()
        return f"{self.__class__.__name__}(features={features})"
