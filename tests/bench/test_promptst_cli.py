import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from stgraph.cli import app
from stgraph.engine.stages import save_stage_checkpoint
from stgraph.models.pt_tuning import PTTuning
from tests.test_cli import assert_one_line_error

runner = CliRunner()


@pytest.fixture
def attributes_folder(tmp_path):
    """A temporal folder with three attributes on six nodes (a daily rhythm per attribute)."""
    folder = tmp_path / "complaints"
    folder.mkdir()
    hours = np.arange(24 * 14)
    rng = np.random.default_rng(0)
    values = np.stack(
        [
            (a + 1) * (1 + np.sin(2 * np.pi * hours / 24 + node))[:, None].repeat(1, 0)
            + rng.normal(0, 0.1, (len(hours), 1))
            for node in range(6)
            for a in range(3)
        ],
        axis=1,
    ).reshape(len(hours), 6, 3)
    np.save(folder / "readings.npy", values.astype(np.float32))
    nodes = "id,x,y\n" + "".join(f"n{i},{i % 3},{i // 3}\n" for i in range(6))
    (folder / "nodes.csv").write_text(nodes)
    (folder / "protocol.json").write_text(json.dumps({"start": 0, "step_seconds": 3600}))
    return folder


def test_default_chain_pretrains_then_prompt_tunes_a_frozen_backbone(tmp_path, attributes_folder):
    out = tmp_path / "run"
    argv = ["bench", "--model", "promptst", "--dataset", str(attributes_folder), "--epochs", "1"]
    result = runner.invoke(app, [*argv, "--no-progress", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [r["stage"] for r in rows] == ["pretrain", "prompt-tune"]
    assert rows[0]["trainable_share"] == 1.0 and rows[1]["trainable_share"] < 0.2
    folder = out / "checkpoints" / "promptst-complaints-seed0"
    pretrained = torch.load(folder / "pretrain.pt", weights_only=True)["state"]
    tuned = torch.load(folder / "prompt-tune.pt", weights_only=True)["state"]
    for key, value in pretrained.items():
        if not key.startswith("head."):
            assert torch.equal(value, tuned[key]), key  # the backbone, bit for bit
    assert tuned["temporal_prompts.prompts"].shape == (3, 2, 2, 6, 32)  # [A, layers, P, N, d]


def test_tiny_prompt_is_under_one_percent(tmp_path, attributes_folder):
    first = tmp_path / "pre"
    base = ["bench", "--model", "promptst", "--dataset", str(attributes_folder), "--epochs", "1"]
    assert runner.invoke(app, [*base, "--stage", "pretrain", "--out", str(first)]).exit_code == 0
    init = first / "checkpoints" / "promptst-complaints-seed0" / "pretrain.pt"
    out = tmp_path / "tiny"
    argv = [*base, "--stage", "tiny-prompt", "--init", str(init), "--out", str(out)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    row = json.loads((out / "results.json").read_text())["rows"][0]
    assert row["trainable_parameters"] == 3 * (2 + 2) * 32  # one prompt a layer, per attribute
    assert row["trainable_share"] < 0.01


def averaged_over_attributes(folder):
    """Score ``folder`` as PromptST does: per attribute, averaged over attributes."""
    settings = {"start": 0, "step_seconds": 3600, "attribute_mean": True}
    settings["metrics"] = ["RMSE", "MAE", "MAE>0"]
    (folder / "protocol.json").write_text(json.dumps(settings))
    return folder


def test_held_out_attributes_stay_out_of_pretraining(tmp_path, attributes_folder):
    folder = averaged_over_attributes(attributes_folder)
    out = tmp_path / "run"
    argv = ["bench", "--model", "promptst", "--dataset", str(folder), "--epochs", "1"]
    argv += ["--holdout-attributes", "feature2", "--no-progress", "--out", str(out)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    pretrain, tuned = json.loads((out / "results.json").read_text())["rows"]
    assert pretrain["attributes"] == ["feature0", "feature1"]
    assert pretrain["dataset"] == "complaints [2 of 3 attributes]"
    assert tuned["attributes"] == ["feature2"]
    assert tuned["dataset"] == "complaints [1 held-out attributes]"
    assert list(tuned["attribute_metrics"]) == ["feature2"]
    assert tuned["init"].endswith("promptst-complaints-2-of-3-attributes-seed0/pretrain.pt")
    folder = out / "checkpoints" / "promptst-complaints-1-held-out-attributes-seed0"
    prompts = torch.load(folder / "prompt-tune.pt", weights_only=True)["state"]
    assert prompts["temporal_prompts.prompts"].shape[0] == 1  # prompts for the held-out one


def test_one_model_per_attribute_merges_into_one_row(tmp_path, attributes_folder):
    folder = averaged_over_attributes(attributes_folder)
    out = tmp_path / "run"
    argv = ["bench", "--model", "promptst", "--dataset", str(folder), "--epochs", "1"]
    argv += ["--stage", "supervised", "--per-attribute", "--no-progress", "--out", str(out)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    (row,) = json.loads((out / "results.json").read_text())["rows"]
    assert row["dataset"] == "complaints [one model per attribute]"
    assert row["attribute_models"] == 3
    per_attribute = row["attribute_metrics"]
    assert list(per_attribute) == ["feature0", "feature1", "feature2"]
    for name in ("RMSE", "MAE", "MAE>0"):
        mean = np.mean([per_attribute[a][name] for a in per_attribute])
        assert row["metrics"][name] == pytest.approx(mean, rel=1e-12)
    models = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert models == [f"promptst-complaints-feature{i}-seed0" for i in range(3)]
    assert row["total_parameters"] < 2 * row["trainable_parameters"]  # one model's count
    table = (out / "results.md").read_text()
    assert "Per attribute, RMSE" in table and "| feature2 |" in table


@pytest.mark.parametrize("case", ["no init", "other model", "no prompts"])
def test_bad_stage_input(tmp_path, attributes_folder, case):
    base = ["bench", "--model", "promptst", "--dataset", str(attributes_folder), "--epochs", "1"]
    checkpoint = tmp_path / "other.pt"
    save_stage_checkpoint(checkpoint, "stid", PTTuning(12, 12))
    argv, needle = {
        "no init": (["--stage", "prompt-tune"], "starts from trained weights"),
        "other model": (["--stage", "prompt-tune", "--init", str(checkpoint)], "holds a 'stid'"),
        "no prompts": (["--prompt-tokens", "0"], "--prompt-tokens must be at least 1"),
    }[case]
    out = tmp_path / "out"
    assert_one_line_error(runner.invoke(app, [*base, *argv, "--out", str(out)]), needle)
    assert not out.exists()


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--holdout-attributes", "feature7"], "has no attribute 'feature7'"),
        (["--holdout-attributes", "0,1,2"], "leaves none to pretrain on"),
        (["--holdout-attributes", "1,feature1"], "named twice"),
    ],
)
def test_bad_attribute_choice(tmp_path, attributes_folder, argv, needle):
    base = ["bench", "--model", "promptst", "--dataset", str(attributes_folder), "--epochs", "1"]
    out = tmp_path / "out"
    assert_one_line_error(runner.invoke(app, [*base, *argv, "--out", str(out)]), needle)
    assert not out.exists()


def test_splitting_a_single_attribute_dataset_is_refused(tmp_path):
    out = tmp_path / "out"
    argv = ["bench", "--model", "stid", "--dataset", "synthetic", "--per-attribute"]
    result = runner.invoke(app, [*argv, "--out", str(out)])
    assert_one_line_error(result, "one attribute")
    assert not out.exists()
