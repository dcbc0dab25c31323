import pytest
from torch import nn

from stgraph.engine.freezing import apply_stage, parameter_report, train_only
from stgraph.errors import InputError
from stgraph.nn import DeepPromptTokens


def model():
    return nn.ModuleDict(
        {"backbone": nn.Linear(8, 8), "prompt": DeepPromptTokens(2, 2, 8), "head": nn.Linear(8, 1)}
    )


def test_prompt_tuning_trains_prompts_and_head_only():
    m = model()
    report = apply_stage(m, "prompt-tune")
    trainable = {n for n, p in m.named_parameters() if p.requires_grad}
    assert trainable == {"prompt.prompts", "head.weight", "head.bias"}
    assert report.trainable == 2 * 2 * 8 + 9 and report.total == 72 + 32 + 9
    assert 0 < report.ratio < 1


def test_linear_probe_and_finetune():
    m = model()
    assert apply_stage(m, "linear-probe").trainable == 9
    assert apply_stage(m, "finetune").trainable == parameter_report(m).total


def test_bad_stage_and_patterns():
    with pytest.raises(InputError, match="unknown stage"):
        apply_stage(model(), "distill")
    with pytest.raises(InputError, match="no parameter matches"):
        train_only(model(), ["decoder.*"])
