import json
import math

import pytest
import torch
from typer.testing import CliRunner

from stgraph.cli import app
from tests.test_cli import assert_one_line_error

runner = CliRunner()


def test_list_shows_pairs_with_protocols():
    result = runner.invoke(app, ["bench", "--list"])
    assert result.exit_code == 0
    assert "stid" in result.output and "los-loop" in result.output and "12->12" in result.output


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--model", "nope", "--dataset", "los-loop"], "known models: last-value"),
        (["--model", "stid", "--dataset", "nope"], "known datasets: los-loop"),
        (["--model", "stid", "--dataset", "chicago"], "forecasts time series"),
        (["--model", "stid", "--dataset", "synthetic", "--epochs", "0"], "--epochs must be"),
        (["--model", "stid"], "give --model and --dataset"),
        (["--model", "stid", "--dataset", "synthetic", "--seeds", "0", "x"], "unexpected argument"),
        (["--model", "stid", "--dataset", "synthetic", "--device", "tpu"], "unknown device 'tpu'"),
        (["--model", "stid", "--dataset", "synthetic", "--precision", "fp8"], "unknown precision"),
        (["--model", "topt", "--city", "chicago", "--device", "cpu"], "--device applies only"),
    ]
    + (
        []
        if torch.cuda.is_available()
        else [(["--model", "stid", "--dataset", "synthetic", "--device", "cuda"], "no CUDA GPU")]
    ),
)
def test_bad_input(tmp_path, argv, needle):
    out = tmp_path / "out"
    result = runner.invoke(app, ["bench", *argv, "--out", str(out)])
    assert_one_line_error(result, needle)
    assert not out.exists()


def test_a_warning_is_one_line_and_the_run_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr("stgraph.engine.device.cpu_has_native_bf16", lambda: False)
    out = tmp_path / "run"
    argv = ["--model", "last-value", "--dataset", "synthetic", "--precision", "bf16"]
    result = runner.invoke(app, ["bench", *argv, "--device", "cpu", "--out", str(out)])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warned) == 1 and "bfloat16" in warned[0], result.stderr
    assert "Warning" not in result.stderr  # no category name, path or source line
    assert (out / "results.json").exists()


def test_unwritable_out(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = runner.invoke(
        app,
        ["bench", "--model", "last-value", "--dataset", "synthetic", "--out", str(blocker / "sub")],
    )
    assert_one_line_error(result, "--out")
    assert blocker.read_text() == "not a folder"


def test_end_to_end_with_seeds_writes_three_files(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "bench",
            "--model",
            "ridge",
            "--dataset",
            "synthetic",
            "--seeds",
            "0",
            "1",
            "--out",
            str(out),
            "--no-progress",
            "--lr",
            "0.01",
            "--batch-size",
            "16",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "results.json").read_text())
    assert [r["seed"] for r in doc["rows"]] == [0, 1]
    assert doc["rows"][0]["lr"] == 0.01 and doc["rows"][0]["batch_size"] == 16  # as run
    row = doc["rows"][0]
    for key in (
        "model",
        "dataset",
        "task",
        "protocol",
        "seed",
        "metrics",
        "trainable_parameters",
        "total_parameters",
        "wall_seconds",
        "stgraph_version",
        "git_commit",
        "command",
    ):
        assert key in row
    assert {"MAE", "MAE@3", "RMSE@12"} <= set(row["metrics"])
    assert row["epochs_run"] == 0 and row["trainable_parameters"] == 13 * 12  # closed form only
    assert "±" in (out / "results.md").read_text()
    assert (out / "results.csv").read_text().count("\n") == 3


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    result = runner.invoke(
        app,
        [
            "bench",
            "--model",
            "last-value",
            "--dataset",
            "synthetic",
            "--plot",
            "--out",
            str(tmp_path),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    png = tmp_path / "forecast-last-value-synthetic-seed0.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_piped_tables_print_every_number_in_full(tmp_path, shared_data):
    """CliRunner's output is not a terminal: the table (three metrics with ±, wider than 80
    columns) must not be cut."""
    out = tmp_path / "run"
    argv = ["bench", "--model", "last-value,seasonal-naive,ridge", "--dataset", "los-loop"]
    result = runner.invoke(app, [*argv, "--seeds", "0", "1", "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    summary = json.loads((out / "results.json").read_text())["summary"]
    mae = next(s for s in summary if s["model"] == "ridge")["metrics"]["MAE"]["mean"]
    assert f"{mae:.3f}" in result.stdout


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path):
    from stgraph.bench.results import output_folder

    out = tmp_path / "busy"
    argv = ["bench", "--model", "last-value", "--dataset", "synthetic", "--out", str(out)]
    with output_folder(out):  # a live run holds the folder
        (out / "results.md").write_text("first run")
        result = runner.invoke(app, [*argv, "--no-progress"])
        assert_one_line_error(result, "another stgraph run is writing to")
        assert (out / "results.md").read_text() == "first run"
    result = runner.invoke(app, [*argv, "--no-progress"])  # free again once it has finished
    assert result.exit_code == 0, result.output
    assert not (out / ".stgraph.lock").exists()


def test_spread_over_seeds_is_the_sample_standard_deviation():
    from stgraph.bench.results import summarise

    rows = [
        {
            "model": "m",
            "dataset": "d",
            "task": "forecasting",
            "seed": seed,
            "metrics": {"MAE": value},
            "trainable_parameters": 1,
            "total_parameters": 1,
            "trainable_share": 1.0,
            "seconds_per_epoch": 1.0,
            "train_samples_per_second": 1.0,
            "loop_overhead_share": 0.0,
            "wall_seconds": 1.0,
            "protocol": "p",
            "epochs_run": 1,
        }
        for seed, value in enumerate((1.0, 2.0, 3.0))
    ]
    stat = summarise(rows)[0]["metrics"]["MAE"]
    assert stat["mean"] == 2.0 and stat["std"] == pytest.approx(1.0)  # ddof = 1, not 0.816


def test_named_forecasting_protocol(tmp_path, shared_data):
    out = tmp_path / "run"
    argv = ["bench", "--model", "last-value", "--dataset", "nyc-flows-taxi", "--protocol", "st-llm"]
    result = runner.invoke(app, [*argv, "--out", str(out)])
    assert result.exit_code == 0, result.output
    row = json.loads((out / "results.json").read_text())["rows"][0]
    assert row["protocol"].startswith("12->12") and "scored where truth > 0" in row["protocol"]
    assert {"WAPE", "MAPE@12"} <= set(row["metrics"])
    bad = runner.invoke(app, [*argv[:4], "synthetic", "--protocol", "st-llm"])
    assert_one_line_error(bad, "has no named protocols")
    bad = runner.invoke(app, [*argv[:-1], "paper", "--out", str(tmp_path / "x")])
    assert_one_line_error(bad, "named protocols: st-llm")
    assert not (tmp_path / "x").exists()


def test_quiet_prints_nothing_but_writes_the_results(tmp_path):
    out = tmp_path / "run"
    argv = ["bench", "--model", "last-value,stid", "--dataset", "synthetic", "--epochs", "1"]
    result = runner.invoke(app, [*argv, "--quiet", "--out", str(out)])
    assert result.exit_code == 0 and result.output.strip() == ""
    assert len(json.loads((out / "results.json").read_text())["rows"]) == 2


def test_an_undefined_metric_is_reported_as_such():
    from stgraph.bench.results import spread_over_seeds

    spread = spread_over_seeds([{"MAE": 1.0, "MAPE": math.nan}, {"MAE": 3.0, "MAPE": 2.0}])
    assert spread["MAE"] == {"mean": 2.0, "std": pytest.approx(2**0.5)}
    assert math.isnan(spread["MAPE"]["mean"]) and math.isnan(spread["MAPE"]["std"])


def test_node_batches_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    argv = ["bench", "--model", "stid,last-value", "--dataset", "synthetic", "--epochs", "1"]
    result = runner.invoke(app, [*argv, "--node-batch-size", "9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [r["node_batch_size"] for r in rows] == [9, 9]
    whole = tmp_path / "whole"
    argv[2] = "last-value"
    assert runner.invoke(app, [*argv, "--out", str(whole)]).exit_code == 0
    naive = json.loads((whole / "results.json").read_text())["rows"][0]
    assert rows[1]["metrics"] == pytest.approx(naive["metrics"], rel=1e-9)


def test_a_whole_graph_model_refuses_node_batches(tmp_path):
    out = tmp_path / "run"
    argv = ["bench", "--model", "st-transformer-bias", "--dataset", "synthetic"]
    result = runner.invoke(app, [*argv, "--node-batch-size", "9", "--out", str(out)])
    assert_one_line_error(result, "whole graph")
    assert not out.exists()


def test_straddling_windows_can_be_dropped(tmp_path):
    rows = {}
    for boundary in ("straddle", "drop"):
        out = tmp_path / boundary
        argv = ["bench", "--model", "last-value", "--dataset", "synthetic", "--out", str(out)]
        result = runner.invoke(app, [*argv, "--boundary", boundary])
        assert result.exit_code == 0, result.output
        rows[boundary] = json.loads((out / "results.json").read_text())["rows"][0]
    assert "straddling a boundary dropped" in rows["drop"]["protocol"]
    assert rows["drop"]["metrics"] == rows["straddle"]["metrics"]  # test windows: the same
    bad = runner.invoke(app, [*argv[:-1], str(tmp_path / "x"), "--boundary", "sideways"])
    assert_one_line_error(bad, "unknown boundary")
