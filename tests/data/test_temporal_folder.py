import datetime as dt
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from stgraph.cli import app
from stgraph.data.io import save_graph
from stgraph.data.registry import load_dataset
from stgraph.data.temporal_folder import load_temporal_folder
from stgraph.errors import InputError
from tests.test_cli import assert_one_line_error

runner = CliRunner()
LOS_LOOP_PROTOCOL = {"null_value": 0.0}  # the built-in's zero-as-missing rule


def los_loop_folder(tmp_path, shared_data, form):
    """The los-loop readings as a user would bring them: CSV (wide or long) with nodes.csv, or
    .npy with timestamps and a graph.pt."""
    builtin = load_dataset("los-loop")
    ids = builtin.graph.node_id
    speeds = builtin.signal[:, :, 0].numpy()
    stamps = [
        dt.datetime.fromtimestamp(int(s), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        for s in builtin.timestamps
    ]
    folder = tmp_path / f"my-sensors-{form}"
    folder.mkdir()
    (folder / "protocol.json").write_text(json.dumps(LOS_LOOP_PROTOCOL))
    if form == "npy":
        np.save(folder / "readings.npy", speeds)
        (folder / "timestamps.csv").write_text("timestamp\n" + "\n".join(stamps) + "\n")
        save_graph(builtin.graph, folder / "graph.pt")
        return folder, builtin
    locations = (shared_data / "metr_la" / "graph_sensor_locations.csv").read_text()
    (folder / "nodes.csv").write_text(locations)
    if form == "wide":
        lines = ["timestamp," + ",".join(ids)]
        lines += [
            s + "," + ",".join(str(float(v)) for v in row)
            for s, row in zip(stamps, speeds, strict=True)
        ]
    else:  # long, rows in node order rather than time order
        lines = ["timestamp,node,value"]
        lines += [
            f"{stamps[t]},{ids[n]},{float(speeds[t, n])}"
            for n in range(len(ids))
            for t in range(len(stamps))
        ]
    (folder / "readings.csv").write_text("\n".join(lines) + "\n")
    return folder, builtin


@pytest.mark.parametrize("form", ["wide", "long", "npy"])
def test_a_folder_loads_as_the_builtin_does(tmp_path, shared_data, form):
    folder, builtin = los_loop_folder(tmp_path, shared_data, form)
    signal = load_temporal_folder(folder)
    assert signal.name == folder.name
    assert torch.equal(signal.signal, builtin.signal) and torch.equal(signal.mask, builtin.mask)
    assert torch.equal(signal.timestamps, builtin.timestamps)
    assert signal.protocol.steps_per_day == 288 and signal.graph.node_id == builtin.graph.node_id
    for part in ("train", "val", "test"):
        assert torch.equal(signal.window_starts(part), builtin.window_starts(part))


@pytest.mark.slow
def test_bench_on_a_folder_gives_the_builtins_metrics(tmp_path, shared_data):
    # every form loads to the same signal (above); the CSV one runs here end to end
    folder, _ = los_loop_folder(tmp_path, shared_data, "wide")
    tables = {}
    for name, dataset in (("builtin", "los-loop"), ("folder", str(folder))):
        out = tmp_path / name
        argv = ["bench", "--model", "last-value,ridge,stid", "--dataset", dataset, "--epochs", "1"]
        result = runner.invoke(app, [*argv, "--no-progress", "--out", str(out)])
        assert result.exit_code == 0, result.output
        rows = json.loads((out / "results.json").read_text())["rows"]
        tables[name] = {r["model"]: r["metrics"] for r in rows}
    assert tables["folder"] == tables["builtin"]
    checkpoints = tmp_path / "folder" / "checkpoints"
    assert (checkpoints / f"stid-{folder.name}-seed0").is_dir()


def test_data_check_reports_shape_period_missing_and_graph(tmp_path, shared_data):
    folder, _ = los_loop_folder(tmp_path, shared_data, "npy")
    result = runner.invoke(app, ["data", "check", str(folder)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "2016 steps x 207 nodes x 1 features" in text and "every 300 s" in text
    assert "0.00% of readings" in text and "207 nodes connected" in text


def small_folder(tmp_path, rows, header="timestamp,a,b"):
    folder = tmp_path / "f"
    folder.mkdir(exist_ok=True)
    (folder / "nodes.csv").write_text("id,x,y\na,0,0\nb,1,0\n")
    (folder / "readings.csv").write_text("\n".join([header, *rows]) + "\n")
    return folder


def hourly(count, start=0):
    return [f"{3600 * (start + i)},{i % 5},{(i * 3) % 7}" for i in range(count)]


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        (hourly(3) + hourly(3), "goes back in time"),
        (hourly(3) + [hourly(3)[-1]], "repeats"),
        (hourly(3) + hourly(3, start=10), "not evenly spaced"),
        (["0,1,x", "3600,1,2"], "'x' is not a number"),
        (["0,1,inf", "3600,1,2"], "infinite"),
        (["yesterday,1,2", "3600,1,2"], "not a timestamp"),
        (["0,1", "3600,1,2"], "has 2 cells"),
        (["0,1,2"], "fewer than two time steps"),
    ],
)
def test_bad_readings_are_one_input_error(tmp_path, rows, needle):
    with pytest.raises(InputError, match=needle):
        load_temporal_folder(small_folder(tmp_path, rows))


def test_ids_must_match_the_graph(tmp_path):
    with pytest.raises(InputError, match="node 'c' is not in the graph"):
        load_temporal_folder(small_folder(tmp_path, hourly(4), "timestamp,a,c"))
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "nodes.csv").write_text("id,x,y\na,0,0\nb,1,0\nc,2,0\n")
    (tmp_path / "g" / "readings.csv").write_text("timestamp,a,b\n0,1,2\n3600,1,2\n")
    with pytest.raises(InputError, match="node 'c' has no readings"):
        load_temporal_folder(tmp_path / "g")


def test_bench_on_a_bad_folder_is_one_line_and_writes_nothing(tmp_path):
    folder = small_folder(tmp_path, hourly(3) + hourly(3))
    out = tmp_path / "out"
    argv = ["bench", "--model", "last-value", "--dataset", str(folder), "--out", str(out)]
    assert_one_line_error(runner.invoke(app, argv), "goes back in time")
    assert not out.exists()
    assert_one_line_error(
        runner.invoke(app, ["data", "check", str(tmp_path / "none")]), "not found"
    )


def test_npy_readings_are_memory_mapped_not_copied(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    np.save(folder / "readings.npy", np.arange(200 * 3, dtype=np.float32).reshape(200, 3) + 1)
    (folder / "nodes.csv").write_text("id,x,y\na,0,0\nb,1,0\nc,0,1\n")
    (folder / "protocol.json").write_text(json.dumps({"start": 0, "step_seconds": 3600}))
    signal = load_temporal_folder(folder)
    writer = np.load(folder / "readings.npy", mmap_mode="r+")
    writer[5, 1] = -7.0  # a change to the file shows in the loaded series: it is the file
    writer.flush()
    assert signal.signal[5, 1, 0].item() == -7.0
    windows = signal.windows("train", signal.fit_scaler())
    assert windows.gather(torch.arange(2))["x"].shape == (2, 12, 3, 1)
