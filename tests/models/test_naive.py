import torch

from stgraph.models.naive import LastValue, SeasonalNaive


def batch_at(start: int, series: torch.Tensor, input_len: int) -> dict:
    return {"start": torch.tensor([start]), "x": series[start : start + input_len][None]}


def test_seasonal_naive_never_reads_its_own_targets_when_the_horizon_exceeds_the_period():
    steps, period, input_len, horizon = 60, 4, 8, 10
    series = torch.arange(steps, dtype=torch.float32).view(steps, 1, 1)
    model = SeasonalNaive(
        series, torch.ones_like(series, dtype=torch.bool), period, input_len, horizon
    )
    start = 20
    origin = start + input_len - 1  # the last observed step
    prediction = model(batch_at(start, series, input_len)).view(-1)
    assert (prediction <= origin).all()  # every value comes from the past (values = step index)
    # the last observed season repeats: origin-3, origin-2, origin-1, origin, origin-3, ...
    expected = [origin - period + 1 + (h % period) for h in range(horizon)]
    assert prediction.tolist() == expected
    # targets in the future do not matter
    poisoned = series.clone()
    poisoned[origin + 1 :] = 1e6
    model = SeasonalNaive(
        poisoned, torch.ones_like(series, dtype=torch.bool), period, input_len, horizon
    )
    assert model(batch_at(start, poisoned, input_len)).view(-1).tolist() == expected


def test_seasonal_naive_reads_a_season_before_the_window_and_falls_back_to_the_last_value():
    series = torch.arange(30, dtype=torch.float32).view(30, 1, 1)
    mask = torch.ones_like(series, dtype=torch.bool)
    model = SeasonalNaive(series, mask, period=12, input_len=3, output_len=2)
    assert model(batch_at(15, series, 3)).view(-1).tolist() == [6.0, 7.0]  # 18-12, 19-12
    early = model(batch_at(0, series, 3)).view(-1)  # a season back is before the series
    assert early.tolist() == [2.0, 2.0]
    assert LastValue(3)(batch_at(4, series, 3)).view(-1).tolist() == [6.0, 6.0, 6.0]
