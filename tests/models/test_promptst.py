import pytest
import torch

from stgraph.data.synthetic import diffusion_signal
from stgraph.engine.freezing import apply_stage
from stgraph.engine.stages import load_stage_checkpoint, save_stage_checkpoint
from stgraph.models.promptst import PromptST, last_step


def multi_attribute_batch(attributes=3, batch=8):
    signal = diffusion_signal(num_nodes=6, num_steps=24 * 6)
    x = torch.stack([signal.signal[..., 0] * (a + 1) for a in range(attributes)], dim=-1)
    starts = torch.arange(batch) * 5
    steps = starts[:, None] + torch.arange(12)
    targets = starts[:, None] + 12 + torch.arange(12)
    return {"x": x[steps], "y": x[targets]}


@pytest.mark.parametrize("scope", ["node", "shared"])
def test_prompts_join_every_temporal_and_spatial_layer(scope):
    model = PromptST(6, 12, 12, num_attributes=3, prompt_tokens=2, prompt_scope=scope).eval()
    lengths = {"temporal": [], "spatial": []}
    for layer in model.temporal:  # the top layer runs its parts itself (see last_step)
        layer.norm1.register_forward_pre_hook(
            lambda m, a: lengths["temporal"].append(a[0].shape[-2])
        )
    for block in model.spatial:
        block.register_forward_pre_hook(lambda m, a: lengths["spatial"].append(a[0].shape[-2]))
    out = model(multi_attribute_batch())
    assert out.shape == (8, 12, 6, 3)
    assert lengths == {"temporal": [14, 14], "spatial": [8, 8]}  # 12 + 2 steps, 6 + 2 nodes


@pytest.mark.parametrize("position", [11, 5])
def test_the_top_layer_at_one_step_equals_the_full_layer_there(position):
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(
        32, 4, 128, 0.0, activation="gelu", batch_first=True, norm_first=True
    ).eval()
    h = torch.randn(50, 14, 32)  # 12 steps and 2 appended prompts
    full = layer(h)[:, position]
    torch.testing.assert_close(last_step(layer, h, position), full, atol=1e-5, rtol=1e-5)


def test_recomputed_groups_give_the_whole_batch_gradients_and_run_in_groups():
    batch = multi_attribute_batch()  # 8 windows x 3 attributes = 24 rows of 6 series
    grads, sizes = {}, {}
    for series in (None, 30):  # 30 series: groups of 5 rows
        torch.manual_seed(0)
        model = PromptST(6, 12, 12, num_attributes=3, prompt_tokens=2, checkpoint_series=series)
        seen = sizes.setdefault(series, [])
        model.temporal[0].norm1.register_forward_pre_hook(
            lambda m, a, seen=seen: seen.append(a[0].size(0))
        )
        loss = (model(batch) - batch["y"]).square().mean()
        loss.backward()
        grads[series] = {n: p.grad for n, p in model.named_parameters()}
    assert sizes[None] == [24 * 6]
    groups = [5 * 6] * 4 + [4 * 6]
    assert sizes[30] == groups + groups[::-1]  # the forward pass, then the backward's recompute
    assert grads[30].keys() == grads[None].keys()
    for name, grad in grads[None].items():
        torch.testing.assert_close(grads[30][name], grad, atol=1e-6, rtol=1e-5, msg=name)
    model.eval()
    seen.clear()
    with torch.no_grad():
        model(batch)
    assert seen == [24 * 6]  # evaluation keeps nothing for a backward pass: one group


def test_checkpoint_series_must_be_positive():
    with pytest.raises(ValueError, match="checkpoint_series"):
        PromptST(6, 12, 12, checkpoint_series=0)


def test_prompt_tuning_leaves_the_backbone_bit_identical():
    torch.manual_seed(0)
    model = PromptST(6, 12, 12, num_attributes=3, prompt_tokens=2)
    report = apply_stage(model, "prompt-tune")
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    batch = multi_attribute_batch()
    for _ in range(5):
        loss = (model(batch) - batch["y"]).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    trained = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert trained == {
        "temporal_prompts.prompts",
        "spatial_prompts.prompts",
        "head.weight",
        "head.bias",
    }
    assert report.ratio < 0.2


def test_one_model_serves_an_attribute_it_never_saw():
    torch.manual_seed(0)
    model = PromptST(6, 12, 12)  # pretrained backbone: no prompts, attributes unseen
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    batch = multi_attribute_batch(attributes=2)
    for _ in range(40):
        loss = (model(batch) - batch["y"]).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    new = multi_attribute_batch(attributes=4)  # two attributes it was never trained on
    assert model.eval()(new).shape == (8, 12, 6, 4)
    # it learned something: below the error of predicting the mean
    assert loss.item() < (batch["y"] - batch["y"].mean()).abs().mean().item()


def test_bias_reaches_only_graph_nodes_and_no_graph_ablation_has_none():
    distance = torch.rand(6, 6)
    hops = torch.randint(0, 4, (6, 6))
    biased = PromptST(6, 12, 12, distance=distance, hops=hops, num_attributes=3, prompt_tokens=2)
    assert biased(multi_attribute_batch()).shape == (8, 12, 6, 3)
    plain = PromptST(6, 12, 12, distance=distance, hops=hops, spatial_bias=False)
    assert plain.distance is None and all(b.attention.distance_bias is None for b in plain.spatial)


@pytest.mark.parametrize("fresh_head", [False, True])
def test_prompt_tuning_starts_from_the_pretrained_head_unless_asked_for_a_new_one(
    tmp_path, fresh_head
):
    torch.manual_seed(0)
    pretrained = PromptST(5, 12, 12)
    save_stage_checkpoint(tmp_path / "pretrain.pt", "promptst", pretrained)
    torch.manual_seed(1)
    tuned = PromptST(5, 12, 12, prompt_tokens=1, fresh_head=fresh_head)
    fresh = load_stage_checkpoint(tmp_path / "pretrain.pt", "promptst", tuned)
    assert ("head.weight" in fresh) == fresh_head
    same = torch.equal(tuned.head.weight, pretrained.head.weight)
    assert same != fresh_head
