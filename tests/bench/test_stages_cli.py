import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from stgraph.cli import app
from stgraph.engine.stages import save_stage_checkpoint
from stgraph.models.pt_tuning import PTTuning
from tests.test_cli import assert_one_line_error

runner = CliRunner()
BASE = ["bench", "--model", "pt-tuning", "--dataset", "synthetic", "--no-progress"]


def test_default_chain_pretrains_then_tunes_only_the_prompts(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, [*BASE, "--epochs", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [r["stage"] for r in rows] == ["pretrain", "pt-tuning"]
    assert rows[0]["trainable_share"] == 1.0 and rows[1]["trainable_share"] < 0.01
    assert rows[1]["init"].endswith("pretrain.pt")
    folder = out / "checkpoints" / "pt-tuning-synthetic-seed0"
    pretrained = torch.load(folder / "pretrain.pt", weights_only=True)["state"]
    tuned = torch.load(folder / "pt-tuning.pt", weights_only=True)["state"]
    for key, value in pretrained.items():
        if key.startswith(("head.", "mask_prompt.prompt")):
            continue  # created fresh by the stage
        assert torch.equal(value, tuned[key]), key  # every pretrained weight bit-identical
    assert not torch.equal(
        tuned["mask_prompt.prompt"], torch.zeros_like(tuned["mask_prompt.prompt"])
    )


def pretrain_checkpoint(tmp_path) -> Path:
    """The checkpoint of a one-epoch pt-tuning pretraining on the synthetic set."""
    first = tmp_path / "pre"
    argv = [*BASE, "--epochs", "1", "--stage", "pretrain", "--out", str(first)]
    assert runner.invoke(app, argv).exit_code == 0
    return first / "checkpoints" / "pt-tuning-synthetic-seed0" / "pretrain.pt"


def test_a_stage_starts_from_the_pretrain_checkpoint(tmp_path):
    checkpoint = pretrain_checkpoint(tmp_path)
    out = tmp_path / "probe"
    argv = [*BASE, "--epochs", "1", "--stage", "linear-probe", "--init", str(checkpoint)]
    result = runner.invoke(app, [*argv, "--out", str(out)])
    assert result.exit_code == 0, result.output
    row = json.loads((out / "results.json").read_text())["rows"][0]
    assert row["model"] == "pt-tuning [linear-probe]" and row["trainable_parameters"] < 2000


def test_short_windows_take_shorter_patches(tmp_path):
    out = tmp_path / "run"
    argv = [*BASE, "--epochs", "1", "--patch-len", "3", "--out", str(out)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    checkpoint = out / "checkpoints" / "pt-tuning-synthetic-seed0" / "pretrain.pt"
    saved = torch.load(checkpoint, weights_only=True)
    assert (saved["config"]["patch_len"], saved["config"]["stride"]) == (3, 3)
    assert saved["state"]["mask_prompt.prompt"].shape[0] == 4  # 12 future steps, patches of 3


def test_the_shared_prompt_variant_tunes_one_row_on_a_pt_tuning_pretraining(tmp_path):
    checkpoint = pretrain_checkpoint(tmp_path)
    out = tmp_path / "shared"
    argv = [a if a != "pt-tuning" else "pt-tuning-shared-prompt" for a in BASE]
    argv += ["--epochs", "1", "--init", str(checkpoint), "--out", str(out)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    row = json.loads((out / "results.json").read_text())["rows"][0]
    assert row["model"] == "pt-tuning-shared-prompt [pt-tuning]"
    assert row["trainable_parameters"] == 64  # one prompt row of the model's width
    folder = out / "checkpoints" / "pt-tuning-shared-prompt-synthetic-seed0"
    tuned = torch.load(folder / "pt-tuning.pt", weights_only=True)
    assert tuned["model_name"] == "pt-tuning" and tuned["state"]["mask_prompt.prompt"].shape[0] == 1
    weights = torch.load(checkpoint, weights_only=True)["state"]
    for key, value in weights.items():
        if not key.startswith(("head.", "mask_prompt.prompt")):
            assert torch.equal(value, tuned["state"][key]), key


def bad_stage_input(tmp_path, case):
    checkpoint = tmp_path / "other.pt"
    if case == "other model":
        save_stage_checkpoint(checkpoint, "stid", PTTuning(12, 12))
        return ["--stage", "pt-tuning", "--init", str(checkpoint)], "holds a 'stid' model"
    if case == "other width":
        save_stage_checkpoint(checkpoint, "pt-tuning", PTTuning(12, 12, channels=32, heads=4))
        return ["--stage", "pt-tuning", "--init", str(checkpoint)], "channels=32"
    if case == "not a checkpoint":
        checkpoint.write_text("hello")
        return ["--stage", "finetune", "--init", str(checkpoint)], "cannot read checkpoint"
    if case == "no init":
        return ["--stage", "pt-tuning"], "starts from trained weights"
    if case == "init for a fresh stage":
        checkpoint.write_text("x")
        return ["--stage", "supervised", "--init", str(checkpoint)], "starts from fresh weights"
    if case == "unknown stage":
        return ["--stage", "prompt-tune"], "has no stage 'prompt-tune'"
    if case == "horizon not positive":
        return ["--horizon", "0"], "horizon must be at least 1"
    if case == "context shorter than a patch":
        return ["--history", "6"], "must hold at least one patch"
    if case == "patch not positive":
        return ["--patch-len", "0"], "patch length and stride must be positive"
    if case == "stride not positive":
        return ["--patch-stride", "0"], "patch length and stride must be positive"
    if case == "patch flag on a model without patches":
        return ["--model", "stid", "--patch-len", "3"], "applies to none of the chosen models"
    return ["--model", "stid", "--stage", "pretrain"], "'stid' has no stage 'pretrain'"


@pytest.mark.parametrize(
    "case",
    [
        "other model",
        "other width",
        "not a checkpoint",
        "no init",
        "init for a fresh stage",
        "unknown stage",
        "horizon not positive",
        "context shorter than a patch",
        "patch not positive",
        "stride not positive",
        "patch flag on a model without patches",
        "stage of a model without stages",
    ],
)
def test_bad_stage_input(tmp_path, case):
    argv, needle = bad_stage_input(tmp_path, case)
    out = tmp_path / "out"
    base = BASE if "--model" not in argv else [a for a in BASE if a not in ("--model", "pt-tuning")]
    result = runner.invoke(app, [*base, *argv, "--epochs", "1", "--out", str(out)])
    assert_one_line_error(result, needle)
    assert not out.exists()
