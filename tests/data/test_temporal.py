import pytest
import torch
from torch_geometric.data import Data

from stgraph.data.protocol import Protocol
from stgraph.data.temporal import TemporalSignal, time_features
from stgraph.errors import InputError


def make_signal(steps=200, protocol=None, nodes=3, features=2):
    signal = torch.randn(steps, nodes, features)
    mask = torch.rand(steps, nodes, features) > 0.1
    graph = Data(edge_index=torch.tensor([[0, 1], [1, 2]]), num_nodes=nodes)
    return TemporalSignal("toy", signal, mask, graph, protocol or Protocol(steps_per_day=24))


def test_ratio_split_follows_dcrnn_rounding_and_is_chronological():
    s = make_signal(200, Protocol(steps_per_day=24, boundary="straddle"))
    count = 200 - 24 + 1
    train, val, test = (s.window_starts(k) for k in ("train", "val", "test"))
    assert len(train) == round(0.7 * count) and len(test) == round(0.2 * count)
    assert len(train) + len(val) + len(test) == count
    assert train.max() < val.min() and val.max() < test.min()
    assert s.fit_end == int(val[0]) + 12


def test_step_split_keeps_whole_target_spans_inside_each_part():
    p = Protocol(input_len=5, output_len=2, split_steps=(100, 130, 180))
    s = make_signal(200, p)
    for part, (lo, hi) in zip(
        ("train", "val", "test"), ((0, 100), (100, 130), (130, 180)), strict=True
    ):
        starts = s.window_starts(part)
        assert (starts + 5 >= lo).all() and (starts + 7 <= hi).all()
    assert s.fit_end == 100


def test_scaler_never_sees_validation_or_test_values():
    s = make_signal(300)
    reference = s.fit_scaler()
    changed = make_signal(300)
    changed.signal[: s.fit_end] = s.signal[: s.fit_end]
    changed.mask[: s.fit_end] = s.mask[: s.fit_end]
    changed.signal[s.fit_end :] *= 1000  # anything a validation/test window is scored on
    scaler = changed.fit_scaler()
    torch.testing.assert_close(scaler.mean, reference.mean)
    torch.testing.assert_close(scaler.std, reference.std)
    observed = s.signal[: s.fit_end][s.mask[: s.fit_end][..., 0]][:, 0]
    assert reference.mean[0].item() == pytest.approx(observed.mean().item(), abs=1e-5)


def test_windows_are_index_slices_sharing_one_graph():
    s = make_signal(200)
    scaler = s.fit_scaler()
    windows = s.windows("test", scaler)
    assert windows.graph is s.graph
    batch = windows.gather(torch.tensor([0, 3]))
    start = int(windows.starts[3])
    assert batch["x"].shape == (2, 12, 3, 2) and batch["y"].shape == (2, 12, 3, 2)
    torch.testing.assert_close(batch["y"][1], s.signal[start + 12 : start + 24])
    expected_x = torch.where(
        s.mask[start : start + 12], scaler.transform(s.signal[start : start + 12]), torch.zeros(())
    )
    torch.testing.assert_close(batch["x"][1], expected_x)
    item = windows[3]
    torch.testing.assert_close(item["y_mask"], s.mask[start + 12 : start + 24])


def test_time_features_from_timestamps_and_relative_calendar():
    # 2012-03-01 00:00 UTC was a Thursday (3); 12:00 is half a day
    stamps = torch.tensor([1330560000, 1330560000 + 12 * 3600])
    tod, dow = time_features(2, stamps, 288)
    assert tod.tolist() == [0.0, 0.5] and dow.tolist() == [3, 3]
    tod, dow = time_features(10, None, 4)
    assert tod[:5].tolist() == [0.0, 0.25, 0.5, 0.75, 0.0] and dow[4].item() == 1


def test_too_short_series_is_an_input_error():
    from stgraph.errors import InputError

    with pytest.raises(InputError, match="too few"):
        make_signal(20).window_starts("train")


def test_score_above_leaves_low_targets_out_of_scoring_but_not_out_of_the_inputs():
    signal = torch.randint(0, 3, (200, 3, 1)).float()  # many real zeros
    graph = Data(edge_index=torch.tensor([[0, 1], [1, 2]]), num_nodes=3)
    plain = TemporalSignal(
        "counts",
        signal,
        torch.ones_like(signal, dtype=torch.bool),
        graph,
        Protocol(steps_per_day=24, null_value=None),
    )
    demand = TemporalSignal(
        "counts",
        signal,
        plain.mask,
        graph,
        Protocol(steps_per_day=24, null_value=None, score_above=0.0),
    )
    scaler = plain.fit_scaler()
    assert torch.equal(demand.fit_scaler().mean, scaler.mean)  # zeros stay in the scaler
    index = torch.arange(16)
    a, b = (
        plain.windows("train", scaler).gather(index),
        demand.windows("train", scaler).gather(index),
    )
    assert torch.equal(a["x"], b["x"]) and torch.equal(a["y"], b["y"])  # and in the inputs
    assert torch.equal(b["y_mask"], a["y_mask"] & (a["y"] > 0))
    assert demand.windows("train").target_count(index) == int(b["y_mask"].sum())
    assert "scored where truth > 0" in demand.protocol.describe()


def test_selected_features_keep_their_values_names_and_own_scalers():
    s = make_signal(300, features=4)
    s.feature_names = ["a", "b", "c", "d"]
    positions = s.feature_index(["d", "1"])
    assert positions == [3, 1]
    part = s.select_features(positions)
    assert part.feature_names == ["d", "b"]
    assert torch.equal(part.signal, s.signal[..., [3, 1]])
    assert torch.equal(part.mask, s.mask[..., [3, 1]])
    whole, alone = s.fit_scaler(), part.fit_scaler()  # one scaler per attribute, train steps
    assert torch.allclose(alone.mean.flatten(), whole.mean.flatten()[[3, 1]])
    assert torch.allclose(alone.std.flatten(), whole.std.flatten()[[3, 1]])


@pytest.mark.parametrize("names", [["e"], ["4"], ["a", "0"]])
def test_unknown_or_repeated_features_are_input_errors(names):
    s = make_signal(100, features=4)
    s.feature_names = ["a", "b", "c", "d"]
    with pytest.raises(InputError, match="attribute"):
        s.feature_index(names)


@pytest.mark.parametrize("split", [{}, {"split_windows": (30, 50)}])
def test_dropping_straddling_windows_keeps_every_target_inside_its_part(split):
    kept = make_signal(300, Protocol(steps_per_day=24, boundary="straddle", **split))
    dropped = make_signal(300, Protocol(steps_per_day=24, **split))  # the default
    parts = [dropped.window_starts(k) for k in ("train", "val", "test")]
    first_target = [int(p[0]) + 12 for p in parts]
    assert int(parts[0][-1]) + 24 <= first_target[1]  # train targets end before validation's
    assert int(parts[1][-1]) + 24 <= first_target[2]
    for name, part in zip(("train", "val", "test"), parts, strict=True):
        assert len(kept.window_starts(name)) - len(part) == (11 if name != "test" else 0)
    assert int(kept.window_starts("train")[-1]) + 24 > first_target[1]  # DCRNN's overlap
    assert "straddling a boundary dropped" in dropped.protocol.describe()
    assert "kept, DCRNN's convention" in kept.protocol.describe()


def test_the_scaler_is_fitted_chunk_by_chunk_to_the_same_values(monkeypatch):
    import stgraph.data.scaler as scaler_module

    s = make_signal(300, features=3)
    whole = s.fit_scaler()
    monkeypatch.setattr(scaler_module, "CHUNK_ENTRIES", 7)  # two rows a chunk
    chunked = s.fit_scaler()
    torch.testing.assert_close(chunked.mean, whole.mean, rtol=0, atol=1e-6)
    torch.testing.assert_close(chunked.std, whole.std, rtol=0, atol=1e-6)
