import math

import numpy as np
import pytest
import torch
from sklearn.metrics import mean_absolute_error, r2_score

from stgraph.engine.metrics import ForecastMetrics, regression_metrics


def random_set(n=50, horizon=4, nodes=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    target = torch.randn(n, horizon, nodes, 1, generator=g) * 5 + 10
    pred = target + torch.randn(n, horizon, nodes, 1, generator=g)
    mask = torch.rand(n, horizon, nodes, 1, generator=g) > 0.3
    return pred, target, mask


def accumulate(pred, target, mask, batch_size):
    metrics = ForecastMetrics(pred.size(1))
    for start in range(0, len(pred), batch_size):
        s = slice(start, start + batch_size)
        metrics.update(pred[s], target[s], mask[s])
    return metrics.compute(horizons=(1, 2, 4))


def test_global_masked_mean_is_invariant_to_batch_size():
    pred, target, mask = random_set()
    reference = accumulate(pred, target, mask, len(pred))
    for batch_size in (1, 7, 16):
        got = accumulate(pred, target, mask, batch_size)
        assert got == pytest.approx(reference, rel=1e-12)
    err = (pred - target).abs()[mask]
    assert reference["MAE"] == pytest.approx(err.double().mean().item())
    step2 = (pred - target).abs()[:, 1][mask[:, 1]]
    assert reference["MAE@2"] == pytest.approx(step2.double().mean().item())


def test_per_batch_averaging_would_differ():
    """The trap this class avoids: a mean of per-batch masked means is not the global mean."""
    pred, target, mask = random_set()
    mask[:10] = False
    mask[:10, 0, 0] = True  # a nearly empty first batch
    per_batch = np.mean(
        [(pred[s] - target[s]).abs()[mask[s]].mean().item() for s in (slice(0, 10), slice(10, 50))]
    )
    assert accumulate(pred, target, mask, 10)["MAE"] != pytest.approx(per_batch, rel=1e-3)


def test_padding_and_all_missing_batches_contribute_nothing():
    pred, target, mask = random_set()
    reference = accumulate(pred, target, mask, 16)
    pad = 14  # pad the last batch to a full 16 with junk that is masked out
    padded = [torch.cat([t, torch.full((pad, *t.shape[1:]), 1e6)]) for t in (pred, target)]
    padded_mask = torch.cat([mask, torch.zeros(pad, *mask.shape[1:], dtype=torch.bool)])
    assert accumulate(*padded, padded_mask, 16) == pytest.approx(reference, rel=1e-12)
    metrics = ForecastMetrics(4)
    metrics.update(pred, target, mask)
    metrics.update(torch.randn_like(pred) * 1e9, target, torch.zeros_like(mask))
    assert metrics.compute(horizons=(1, 2, 4)) == pytest.approx(reference, rel=1e-12)


def test_mape_ignores_zero_targets_and_wape_is_a_ratio_of_sums():
    target = torch.tensor([[[0.0], [2.0], [4.0]]]).view(1, 1, 3, 1)
    pred = torch.tensor([[[1.0], [1.0], [5.0]]]).view(1, 1, 3, 1)
    metrics = ForecastMetrics(1)
    metrics.update(pred, target)
    out = metrics.compute(("MAE", "MAPE", "WAPE", "RMSE"))
    assert out["MAPE"] == pytest.approx(100 * (0.5 + 0.25) / 2)
    assert out["WAPE"] == pytest.approx(100 * 3 / 6)
    assert out["RMSE"] == pytest.approx(1.0)


def test_empty_set_gives_nan():
    metrics = ForecastMetrics(2)
    metrics.update(
        torch.zeros(1, 2, 1, 1), torch.zeros(1, 2, 1, 1), torch.zeros(1, 2, 1, 1, dtype=torch.bool)
    )
    assert math.isnan(metrics.compute()["MAE"])


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.normal(size=40)
    p = y + rng.normal(scale=0.3, size=40)
    out = regression_metrics(torch.tensor(p), torch.tensor(y))
    assert out["MAE"] == pytest.approx(mean_absolute_error(y, p))
    assert out["R2"] == pytest.approx(r2_score(y, p))


def test_mape_leaves_out_truths_up_to_the_protocol_threshold():
    pred = torch.tensor([[[1.5], [3.0], [9.0]]]).view(1, 1, 3)
    target = torch.tensor([[[0.5], [2.0], [10.0]]]).view(1, 1, 3)
    every = ForecastMetrics(1)
    every.update(pred, target)
    above_one = ForecastMetrics(1, mape_threshold=1.0)
    above_one.update(pred, target)
    assert every.compute(("MAPE",))["MAPE"] == pytest.approx(100 * (2.0 + 0.5 + 0.1) / 3)
    assert above_one.compute(("MAPE",))["MAPE"] == pytest.approx(100 * (0.5 + 0.1) / 2)
    assert above_one.compute(("MAE",))["MAE"] == every.compute(("MAE",))["MAE"]


def test_features_are_scored_apart_and_averaged_on_request():
    g = torch.Generator().manual_seed(3)
    scale = torch.tensor([0.2, 1.0, 4.0, 9.0])
    target = torch.poisson(torch.rand(40, 3, 5, 4, generator=g) * scale)
    pred = target + torch.randn(target.shape, generator=g) * scale
    apart = ForecastMetrics(3, features=4)
    apart.update(pred, target)
    per_feature = apart.compute_per_feature(("MAE", "RMSE", "MAE>0"), (2,))
    for f, got in enumerate(per_feature):
        alone = ForecastMetrics(3)
        alone.update(pred[..., f], target[..., f])
        assert got == pytest.approx(alone.compute(("MAE", "RMSE", "MAE>0"), (2,)), rel=1e-12)
    pooled = ForecastMetrics(3)
    pooled.update(pred, target)
    assert apart.compute(("RMSE",)) == pytest.approx(pooled.compute(("RMSE",)), rel=1e-12)
    mean = apart.compute(("RMSE",), attribute_mean=True)["RMSE"]
    assert mean == pytest.approx(np.mean([f["RMSE"] for f in per_feature]), rel=1e-12)
    assert mean != pytest.approx(pooled.compute(("RMSE",))["RMSE"], rel=1e-3)


def test_mae_above_zero_leaves_out_zero_truths_only():
    target = torch.tensor([[0.0, 0.0, 2.0, 5.0]]).view(1, 1, 4, 1)
    pred = torch.tensor([[1.0, 3.0, 1.0, 5.5]]).view(1, 1, 4, 1)
    metrics = ForecastMetrics(1)
    metrics.update(pred, target)
    got = metrics.compute(("MAE", "MAE>0"))
    assert got["MAE"] == pytest.approx((1 + 3 + 1 + 0.5) / 4)
    assert got["MAE>0"] == pytest.approx((1 + 0.5) / 2)


def test_attribute_mean_skips_attributes_where_a_metric_is_undefined():
    target = torch.tensor([[0.0, 4.0], [0.0, 2.0]]).view(1, 1, 2, 2)  # attribute 0: all zero
    pred = torch.tensor([[1.0, 3.0], [1.0, 2.0]]).view(1, 1, 2, 2)
    metrics = ForecastMetrics(1, features=2)
    metrics.update(pred, target)
    got = metrics.compute(("MAE", "MAE>0"), attribute_mean=True)
    assert got["MAE"] == pytest.approx((1.0 + 0.5) / 2)
    assert got["MAE>0"] == pytest.approx(0.5)  # attribute 1 alone
