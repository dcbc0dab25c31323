"""Metrics reduced over the whole evaluation set, with missing values masked out.

:class:`ForecastMetrics` accumulates *sums* per horizon step (absolute errors, squared errors,
absolute percentage errors, absolute targets and the number of observed entries) and divides
only in :meth:`ForecastMetrics.compute`. The result is therefore the same whatever the batch
size, a padded final batch (padding carries ``mask = False``) adds nothing, and an all-missing
batch contributes nothing: never a mean of per-batch means.

Metric names: ``MAE``, ``RMSE``, ``MSE``, ``MAPE`` (in %, over observed entries whose target
is non-zero), ``WAPE`` (in %, sum of absolute errors over sum of absolute targets), ``MAE>0``
(the MAE over observed entries whose target is non-zero: the "masked MAE" of the traffic
papers, for data whose zeros are real readings). Keys are ``"MAE@3"`` for horizon step 3
(1-based) and ``"MAE"`` for the average over all steps, which is the global masked mean over
every step, not the mean of the per-step values.

With ``features > 1`` the sums are kept per feature (the last axis of the targets), so that
:meth:`ForecastMetrics.compute_per_feature` scores each attribute on its own and
:meth:`ForecastMetrics.compute` can average the per-attribute values (``attribute_mean``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

FORECAST_METRICS = ("MAE", "RMSE", "MSE", "MAPE", "WAPE", "MAE>0")
REGRESSION_METRICS = ("MAE", "RMSE", "R2")
SUMS = (
    "abs",
    "sq",
    "ape",
    "abs_target",
    "count",
    "count_mape",
    "abs_truth_nonzero",
    "count_truth_nonzero",
)


class ForecastMetrics:
    r"""Accumulate masked forecasting errors per horizon step over an evaluation set.

    Args:
        horizon: number of predicted steps :math:`L_{out}`.
        mape_threshold: MAPE leaves out truths with :math:`|y| \le` this value (default:
            ``0.0``, only zeros).
        features: features :math:`F` kept apart (the last axis of the targets); ``1`` pools
            every entry (default: ``1``).
    """

    def __init__(self, horizon: int, mape_threshold: float = 0.0, features: int = 1) -> None:
        self.horizon = horizon
        self.mape_threshold = mape_threshold
        self.features = features
        self.sums = torch.zeros(len(SUMS), horizon, features, dtype=torch.float64)

    @classmethod
    def from_sums(cls, sums: Tensor, mape_threshold: float = 0.0) -> ForecastMetrics:
        """An accumulator holding ``sums`` ``[SUMS, horizon, features]`` (e.g. the test sums a
        result row stores, or several rows' put side by side along the features)."""
        metrics = cls(sums.size(1), mape_threshold, sums.size(2))
        metrics.sums = sums.to(torch.float64)
        return metrics

    def update(self, pred: Tensor, target: Tensor, mask: Tensor | None = None) -> None:
        """Add a batch: ``pred``, ``target`` and ``mask`` are ``[B, L_out, ...]`` (``[B, L_out,
        ..., F]`` with ``features = F > 1``)."""
        pred, target = pred.detach().double(), target.detach().double()
        mask = torch.ones_like(target, dtype=torch.bool) if mask is None else mask.bool()
        mask = mask & torch.isfinite(target)
        if self.features > 1 and target.size(-1) != self.features:
            raise ValueError(f"targets have {target.size(-1)} features, not {self.features}")
        last = target.dim() - 1 if self.features > 1 else None
        dims = tuple(d for d in range(target.dim()) if d not in (1, last))
        error = torch.where(mask, (pred - target).abs(), 0.0)
        nonzero = mask & (target.abs() > self.mape_threshold)
        positive = mask & (target != 0)
        ape = torch.where(nonzero, error / target.abs().clamp(min=1e-12), 0.0)
        batch = torch.stack(
            [
                error.sum(dims),
                (error * error).sum(dims),
                ape.sum(dims),
                torch.where(mask, target.abs(), 0.0).sum(dims),
                mask.sum(dims).double(),
                nonzero.sum(dims).double(),
                torch.where(positive, error, 0.0).sum(dims),
                positive.sum(dims).double(),
            ]
        )
        self.sums += batch.reshape(len(SUMS), self.horizon, self.features).cpu()

    def merge(self, other: ForecastMetrics) -> None:
        """Add the sums of another accumulator (e.g. from another process)."""
        self.sums += other.sums

    def compute(
        self,
        metrics: tuple[str, ...] = FORECAST_METRICS,
        horizons: tuple[int, ...] = (),
        attribute_mean: bool = False,
    ) -> dict[str, float]:
        """Return ``{"MAE": ..., "MAE@3": ..., ...}`` for ``metrics`` at ``horizons``: pooled
        over every entry, or with ``attribute_mean`` the mean over features of each feature's
        own value (PromptST's convention), over the features where it is defined (a feature
        whose test truths are all zero has no ``MAE>0``)."""
        if attribute_mean:
            per_feature = self.compute_per_feature(metrics, horizons)
            return {k: _defined_mean([f[k] for f in per_feature]) for k in per_feature[0]}
        return _metrics(self.sums.sum(dim=2), metrics, horizons, self.horizon)

    def compute_per_feature(
        self, metrics: tuple[str, ...] = FORECAST_METRICS, horizons: tuple[int, ...] = ()
    ) -> list[dict[str, float]]:
        """:meth:`compute` for each feature on its own, in feature order."""
        return [
            _metrics(self.sums[:, :, f], metrics, horizons, self.horizon)
            for f in range(self.features)
        ]


def _defined_mean(values: list[float]) -> float:
    """The mean of the finite ``values`` (``nan`` when none is)."""
    defined = [v for v in values if math.isfinite(v)]
    return math.fsum(defined) / len(defined) if defined else math.nan


def _metrics(
    sums: Tensor, metrics: tuple[str, ...], horizons: tuple[int, ...], horizon: int
) -> dict[str, float]:
    """Metrics from ``[SUMS, horizon]`` sums: over all steps, and at each of ``horizons``."""
    out = {}
    for name in metrics:
        out[name] = _finish(name, sums.sum(dim=1))
        for step in horizons:
            if 1 <= step <= horizon:
                out[f"{name}@{step}"] = _finish(name, sums[:, step - 1])
    return out


def _finish(name: str, sums: Tensor) -> float:
    abs_err, sq_err, ape, abs_target, count, count_mape, abs_truth_nonzero, count_truth_nonzero = (
        sums.tolist()
    )
    if name == "MAE":
        return abs_err / count if count else math.nan
    if name == "MSE":
        return sq_err / count if count else math.nan
    if name == "RMSE":
        return math.sqrt(sq_err / count) if count else math.nan
    if name == "MAPE":
        return 100.0 * ape / count_mape if count_mape else math.nan
    if name == "WAPE":
        return 100.0 * abs_err / abs_target if abs_target else math.nan
    if name == "MAE>0":
        return abs_truth_nonzero / count_truth_nonzero if count_truth_nonzero else math.nan
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
