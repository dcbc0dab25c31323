import json

import pytest
from typer.testing import CliRunner

from stgraph.cli import app
from tests.test_cli import assert_one_line_error

pytest.importorskip("transformers")

runner = CliRunner()


def test_st_link_and_st_llm_run_end_to_end_with_partial_freezing(tmp_path, tiny_gpt2):
    out = tmp_path / "run"
    argv = ["bench", "--model", "st-link,st-llm", "--dataset", "synthetic", "--epochs", "1"]
    argv += ["--backbone", str(tiny_gpt2), "--unfrozen-layers", "1", "--no-progress"]
    result = runner.invoke(app, [*argv, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = {r["model"]: r for r in json.loads((out / "results.json").read_text())["rows"]}
    assert set(rows) == {"st-link", "st-llm"}
    for row in rows.values():
        assert 0 < row["trainable_parameters"] < row["total_parameters"]
        assert row["metrics"]["MAE"] > 0
    # MRFFN and the node scales are ST-LINK's additions, all trainable
    assert rows["st-link"]["trainable_parameters"] > rows["st-llm"]["trainable_parameters"]


def bad_input(tmp_path, tiny_gpt2, case):
    base = ["--model", "st-link", "--dataset", "synthetic", "--epochs", "1"]
    if case == "missing backbone":
        return [*base, "--backbone", str(tmp_path / "nowhere")], "backbone folder not found"
    if case == "not a transformer":
        folder = tmp_path / "junk"
        folder.mkdir()
        (folder / "config.json").write_text('{"hello": 1}')
        return [*base, "--backbone", str(folder)], "not a transformer configuration"
    if case == "too many unfrozen layers":
        argv = [*base, "--backbone", str(tiny_gpt2), "--unfrozen-layers", "7"]
        return argv, "backbone's depth"
    if case == "se without a graph":
        argv = ["--model", "st-link", "--dataset", "etth1", "--backbone", str(tiny_gpt2)]
        return argv, "has no edges"
    return ["--model", "stid", "--dataset", "synthetic", "--backbone", str(tiny_gpt2)], (
        "--backbone applies to none"
    )


@pytest.mark.parametrize(
    "case",
    [
        "missing backbone",
        "not a transformer",
        "too many unfrozen layers",
        "se without a graph",
        "backbone for a model without one",
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, tiny_gpt2, case, shared_data):
    argv, needle = bad_input(tmp_path, tiny_gpt2, case)
    out = tmp_path / "out"
    result = runner.invoke(app, ["bench", *argv, "--no-progress", "--out", str(out)])
    assert_one_line_error(result, needle)
    assert not out.exists()
