import pytest
import torch

transformers = pytest.importorskip("transformers")

from stgraph.data.synthetic import diffusion_signal  # noqa: E402
from stgraph.engine.freezing import apply_model_freezing  # noqa: E402
from stgraph.llm.backbone import load_backbone  # noqa: E402
from stgraph.models.language_backbone import PretrainedTransformer  # noqa: E402
from stgraph.models.st_link import STLink  # noqa: E402


def hf_without_positions(folder):
    """The Hugging Face model with its position (and token type) tables zeroed."""
    model = transformers.AutoModel.from_pretrained(folder).eval()
    with torch.no_grad():
        if hasattr(model, "wpe"):
            model.wpe.weight.zero_()
        else:
            model.embeddings.position_embeddings.weight.zero_()
            model.embeddings.token_type_embeddings.weight.zero_()
    return model


@pytest.mark.parametrize("which", ["minilm", "gpt2"])
def test_se_attention_with_identity_rotation_is_the_backbones_own(which, tiny_gpt2):
    folder = None if which == "minilm" else tiny_gpt2
    weights = load_backbone(folder)
    nodes = 9
    positions = torch.zeros(nodes)  # every spatial angle zero
    ours = PretrainedTransformer(weights, nodes, positions=positions).eval()
    reference = hf_without_positions(weights.path)
    x = torch.randn(2, nodes, weights.width)
    with torch.no_grad():
        expected = reference(inputs_embeds=x).last_hidden_state
        same = ours(x, torch.zeros(nodes), torch.arange(nodes))
        rotated = PretrainedTransformer(weights, nodes).eval()(
            x, torch.zeros(nodes), torch.arange(nodes)
        )
    torch.testing.assert_close(same, expected, atol=1e-5, rtol=1e-5)
    # real positions do rotate (tiny GPT-2's small random weights: a small but clear change)
    assert (rotated - expected).abs().max() > 10 * (same - expected).abs().max() + 1e-6


def tiny_st_link(folder, **options):
    signal = diffusion_signal(num_nodes=6, num_steps=24 * 8)
    model = STLink(
        load_backbone(folder),
        6,
        input_len=12,
        output_len=12,
        num_features=1,
        steps_per_day=24,
        embed_dim=8,
        **options,
    )
    return model, signal


def test_partially_frozen_attention_trains_exactly_what_it_claims(tiny_gpt2):
    model, _ = tiny_st_link(tiny_gpt2, unfrozen_layers=1)
    report = apply_model_freezing(model)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    memory = {
        f"backbone.blocks.2.memory.{n}"
        for n in ["query.weight", "query.bias", "values", "gate.weight", "gate.bias"]
        + [f"experts.{e}.{i}.{w}" for e in range(4) for i in (0, 2) for w in ("weight", "bias")]
    }
    expected = {
        "series.weight",
        "series.bias",
        "node",
        "time_of_day",
        "day_of_week",
        "fuse.weight",
        "fuse.bias",
        "head.weight",
        "head.bias",
        "backbone.final_norm.weight",
        "backbone.final_norm.bias",
        *(
            f"backbone.blocks.{i}.{norm}.{w}"
            for i in range(3)
            for norm in ("norm1", "norm2")
            for w in ("weight", "bias")
        ),
        *(f"backbone.blocks.{i}.attention.rotary.log_scale" for i in range(3)),
        "backbone.blocks.2.attention.qkv.weight",
        "backbone.blocks.2.attention.qkv.bias",
        "backbone.blocks.2.attention.out.weight",
        "backbone.blocks.2.attention.out.bias",
        *memory,
    }
    assert trainable == expected
    assert not any("mlp" in n for n in trainable)  # every pretrained MLP stays frozen
    assert report.trainable == sum(p.numel() for n, p in model.named_parameters() if n in expected)
    full, _ = tiny_st_link(tiny_gpt2, full_tune=True)
    assert apply_model_freezing(full).ratio == 1.0


def test_memory_keys_move_in_training_only(tiny_gpt2):
    model, signal = tiny_st_link(tiny_gpt2)
    batch = signal.windows("train", signal.fit_scaler()).gather(torch.arange(8))
    keys = model.backbone.blocks[-1].memory.keys.clone()
    model.eval()
    with torch.no_grad():
        model(batch)
    assert torch.equal(model.backbone.blocks[-1].memory.keys, keys)
    model.train()
    model(batch)
    assert not torch.equal(model.backbone.blocks[-1].memory.keys, keys)
    assert model.auxiliary_loss is not None and model.auxiliary_loss >= 0


@pytest.mark.parametrize("options", [{}, {"position_encoding": "absolute", "memory": False}])
def test_overfits_a_small_batch(tiny_bert, options):
    torch.manual_seed(0)
    model, signal = tiny_st_link(tiny_bert, full_tune=True, dropout=0.0, **options)
    windows = signal.windows("train", signal.fit_scaler())
    batch = windows.gather(torch.arange(16))
    target = windows.scaler.transform(batch["y"])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(300):
        loss = (model(batch) - target).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


def test_absolute_positions_start_from_the_backbones_table(tiny_gpt2):
    model, _ = tiny_st_link(tiny_gpt2, position_encoding="absolute")
    table = load_backbone(tiny_gpt2).positions
    assert torch.equal(model.position.detach(), table[:6])
    assert all(b.attention.rotary is None for b in model.backbone.blocks)
    fresh, _ = tiny_st_link(tiny_gpt2, position_encoding="absolute", pretrained=False)
    assert not torch.equal(fresh.position.detach(), table[:6])
    qkv = fresh.backbone.blocks[0].attention.qkv.weight
    assert not torch.equal(qkv.detach(), load_backbone(tiny_gpt2).blocks[0]["qkv.weight"])


def test_patch_tokens_and_bad_settings(tiny_gpt2):
    model, signal = tiny_st_link(tiny_gpt2, patch_len=4)
    batch = signal.windows("train", signal.fit_scaler()).gather(torch.arange(4))
    assert model(batch).shape == (4, 12, 6, 1) and model.num_patches == 3
    assert model.token_time.tolist()[:4] == [0, 1, 2, 0]
    with pytest.raises(ValueError, match="backbone's depth"):
        tiny_st_link(tiny_gpt2, unfrozen_layers=4)


@pytest.mark.parametrize(
    "options", [{}, {"position_encoding": "absolute"}, {"pretrained": False, "memory": False}]
)
def test_a_bf16_autocast_step_keeps_an_fp32_residual_stream(tiny_gpt2, options):
    model, signal = tiny_st_link(tiny_gpt2, **options)
    batch = signal.windows("train", signal.fit_scaler()).gather(torch.arange(4))
    streams = []
    model.backbone.blocks[0].register_forward_pre_hook(lambda m, a: streams.append(a[0].dtype))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(batch)
    loss = out.float().abs().mean()
    if model.auxiliary_loss is not None:
        loss = loss + model.auxiliary_loss.float()
    loss.backward()
    assert streams == [torch.float32]
