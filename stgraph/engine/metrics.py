"""Metrics reduced over the whole evaluation set, with missing values masked out.

:class:`ForecastMetrics` accumulates *sums* per horizon step (absolute errors, squared errors,
absolute percentage errors, absolute targets and the number of observed entries) and divides
only in :meth:`ForecastMetrics.compute`. The result is therefore the same whatever the batch
size, a padded final batch (padding carries ``mask = False``) adds nothing, and an all-missing
batch contributes nothing: never a mean of per-batch means.

Metric names: ``MAE``, ``RMSE``, ``MSE``, ``MAPE`` (in %, over observed entries whose target
is non-zero), ``WAPE`` (in %, sum of absolute errors over sum of absolute targets). Keys are
``"MAE@3"`` for horizon step 3 (1-based) and ``"MAE"`` for the average over all steps, which is
the global masked mean over every step, not the mean of the per-step values.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

FORECAST_METRICS = ("MAE", "RMSE", "MSE", "MAPE", "WAPE")
REGRESSION_METRICS = ("MAE", "RMSE", "R2")
SUMS = ("abs", "sq", "ape", "abs_target", "count", "count_nonzero")


class ForecastMetrics:
    r"""Accumulate masked forecasting errors per horizon step over an evaluation set.

    Args:
        horizon: number of predicted steps :math:`L_{out}`.
        mape_threshold: MAPE leaves out truths with :math:`|y| \le` this value (default:
            ``0.0``, only zeros).
    """

    def __init__(self, horizon: int, mape_threshold: float = 0.0) -> None:
        self.horizon = horizon
        self.mape_threshold = mape_threshold
        self.sums = torch.zeros(len(SUMS), horizon, dtype=torch.float64)

    def update(self, pred: Tensor, target: Tensor, mask: Tensor | None = None) -> None:
        """Add a batch: ``pred``, ``target`` and ``mask`` are ``[B, L_out, ...]``."""
        pred, target = pred.detach().double(), target.detach().double()
        mask = torch.ones_like(target, dtype=torch.bool) if mask is None else mask.bool()
        mask = mask & torch.isfinite(target)
        dims = tuple(d for d in range(target.dim()) if d != 1)
        error = torch.where(mask, (pred - target).abs(), 0.0)
        nonzero = mask & (target.abs() > self.mape_threshold)
        ape = torch.where(nonzero, error / target.abs().clamp(min=1e-12), 0.0)
        batch = torch.stack(
            [
                error.sum(dims),
                (error * error).sum(dims),
                ape.sum(dims),
                torch.where(mask, target.abs(), 0.0).sum(dims),
                mask.sum(dims).double(),
                nonzero.sum(dims).double(),
            ]
        )
        self.sums += batch.cpu()

    def merge(self, other: ForecastMetrics) -> None:
        """Add the sums of another accumulator (e.g. from another process)."""
        self.sums += other.sums

    def compute(
        self, metrics: tuple[str, ...] = FORECAST_METRICS, horizons: tuple[int, ...] = ()
    ) -> dict[str, float]:
        """Return ``{"MAE": ..., "MAE@3": ..., ...}`` for ``metrics`` at ``horizons``."""
        out = {}
        for name in metrics:
            out[name] = _finish(name, self.sums.sum(dim=1))
            for step in horizons:
                if 1 <= step <= self.horizon:
                    out[f"{name}@{step}"] = _finish(name, self.sums[:, step - 1])
        return out


def _finish(name: str, sums: Tensor) -> float:
    abs_err, sq_err, ape, abs_target, count, count_nonzero = sums.tolist()
    if name == "MAE":
        return abs_err / count if count else math.nan
    if name == "MSE":
        return sq_err / count if count else math.nan
    if name == "RMSE":
        return math.sqrt(sq_err / count) if count else math.nan
    if name == "MAPE":
        return 100.0 * ape / count_nonzero if count_nonzero else math.nan
    if name == "WAPE":
        return 100.0 * abs_err / abs_target if abs_target else math.nan
    raise ValueError(f"unknown metric {name!r}; choose from {FORECAST_METRICS}")


def masked_mae_loss(pred: Tensor, target: Tensor, mask: Tensor, count: Tensor | float) -> Tensor:
    """Sum of masked absolute errors divided by ``count`` (the batch's observed entries)."""
    return torch.where(mask, (pred - target).abs(), 0.0).sum() / count


def regression_metrics(pred: Tensor, target: Tensor) -> dict[str, float]:
    r"""MAE, RMSE and :math:`R^2 = 1 - \sum (y - \hat y)^2 / \sum (y - \bar y)^2` of a flat set."""
    pred, target = pred.double().reshape(-1), target.double().reshape(-1)
    error = pred - target
    total = ((target - target.mean()) ** 2).sum()
    return {
        "MAE": error.abs().mean().item(),
        "RMSE": error.square().mean().sqrt().item(),
        "R2": (1.0 - error.square().sum() / total).item() if total > 0 else math.nan,
    }


def masked_mse_loss(pred: Tensor, target: Tensor, mask: Tensor, count: Tensor | float) -> Tensor:
    """Sum of masked squared errors divided by ``count`` (the batch's observed entries)."""
    return torch.where(mask, (pred - target).square(), 0.0).sum() / count
