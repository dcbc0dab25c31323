import json

import pytest
import torch

transformers = pytest.importorskip("transformers")

from stgraph.errors import InputError  # noqa: E402
from stgraph.llm.backbone import load_backbone  # noqa: E402


def test_packaged_minilm_loads_offline():
    weights = load_backbone()
    assert (weights.family, weights.width, weights.heads, weights.depth) == ("bert", 384, 12, 6)
    assert not weights.pre_norm and not weights.causal and weights.activation == "gelu"
    assert weights.blocks[0]["qkv.weight"].shape == (3 * 384, 384)
    assert weights.positions.shape == (512, 384) and set(weights.input_norm) == {"weight", "bias"}


def test_tiny_gpt2_loads_with_its_conv1d_weights_transposed(tiny_gpt2):
    weights = load_backbone(tiny_gpt2)
    assert (weights.family, weights.width, weights.depth) == ("gpt2", 16, 3)
    assert weights.pre_norm and weights.causal and weights.activation == "gelu_tanh"
    model = transformers.AutoModel.from_pretrained(tiny_gpt2)
    conv = model.h[1].mlp.c_fc.weight  # [in, out]
    assert torch.equal(weights.blocks[1]["mlp_in.weight"], conv.detach().t())
    assert weights.final_norm and not weights.input_norm


@pytest.mark.parametrize("case", ["missing", "no config", "not a transformer", "other family"])
def test_bad_backbone_folders(tmp_path, case):
    folder = tmp_path / "model"
    if case != "missing":
        folder.mkdir()
    if case == "not a transformer":
        (folder / "config.json").write_text(json.dumps({"hello": 1}))
    if case == "other family":
        transformers.T5Config(d_model=8, num_layers=1, num_heads=2).save_pretrained(folder)
    needle = {
        "missing": "not found",
        "no config": "no config.json",
        "not a transformer": "not a transformer configuration",
        "other family": "holds a 't5' model",
    }[case]
    with pytest.raises(InputError, match=needle):
        load_backbone(folder)
