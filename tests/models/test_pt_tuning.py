import pytest
import torch

from stgraph.engine.freezing import apply_stage
from stgraph.models.pt_tuning import PTTuning, sinusoidal_positions


def small(**kwargs):
    torch.manual_seed(0)
    options = dict(patch_len=4, stride=4, channels=16, heads=2, layers=1, ff_channels=32)
    options.update(kwargs)
    return PTTuning(24, 10, **options)


def test_pretraining_loss_is_the_error_on_masked_patches_only():
    model = small(dropout=0.0).eval()
    x = torch.randn(3, 24, 2, 1)
    torch.manual_seed(1)
    masked = torch.rand(6, model.num_patches) < model.mask_ratio  # the draw the model makes
    assert masked.any() and not masked.all()
    model.reconstruct.weight.data.zero_()  # reconstructions are all zero
    model.reconstruct.bias.data.zero_()
    torch.manual_seed(1)
    loss = model.reconstruction_loss({"x": x})
    patches = model._patches(model._series(x)[0])
    torch.testing.assert_close(loss, patches.square().mean(-1)[masked].mean())
    assert not torch.isclose(loss, patches.square().mean())  # unmasked patches are not scored
    torch.manual_seed(1)
    assert torch.equal(model.reconstruction_loss({"x": x}), loss)  # masks follow the seed


def test_pt_tuning_trains_only_the_prompts_and_keeps_every_pretrained_weight():
    model = small()
    report = apply_stage(model, "pt-tuning")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"mask_prompt.prompt"}
    assert report.trainable == model.future_patches * 16 and report.ratio < 0.01
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        loss = model({"x": torch.randn(4, 24, 3, 1)}).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"mask_prompt.prompt"}
    assert all(p.grad is None for n, p in model.named_parameters() if n != "mask_prompt.prompt")


def test_the_pretrained_mask_token_is_the_one_forecasting_uses_and_positions_continue():
    model = small(dropout=0.0).eval()
    seen = []
    model.encoder.register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    x = torch.randn(2, 24, 1, 1)
    model({"x": x})
    tokens = seen[0][0]  # [P + F, d] of the first series
    p, f = model.num_patches, model.future_patches
    assert tokens.shape[0] == p + f
    positions = sinusoidal_positions(p + f, 16)
    expected = model.mask_prompt.mask_token + model.mask_prompt.prompt + positions[p:]
    torch.testing.assert_close(tokens[p:], expected)  # mask token + prompt + continued position
    with torch.no_grad():
        model.mask_prompt.mask_token.add_(1.0)
    seen.clear()
    model({"x": x})
    torch.testing.assert_close(seen[0][0][p:], expected + 1.0)


def test_head_path_and_shapes():
    model = small(forecast_path="head")
    assert model({"x": torch.randn(5, 24, 3, 1)}).shape == (5, 10, 3, 1)
    assert apply_stage(model, "linear-probe").trainable == model.head.weight.numel() + 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"output_len": 0}, "horizon must be positive"),
        ({"input_len": 3}, "must hold at least one patch"),
        ({"prompt": "diagonal"}, "prompt must be"),
    ],
)
def test_bad_settings(kwargs, message):
    options = {"input_len": 24, "output_len": 10, "patch_len": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        PTTuning(**options)


def test_pretraining_reads_the_target_patches_at_the_positions_forecasting_uses():
    model = small(dropout=0.0).eval()
    x, y = torch.randn(2, 24, 3, 1), torch.randn(2, 10, 3, 1)
    seen = []
    model.encoder.register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    model.reconstruct.weight.data.zero_()
    model.reconstruct.bias.data.zero_()
    torch.manual_seed(2)
    loss = model.reconstruction_loss({"x": x, "y_scaled": y})
    p, whole = model.num_patches, 10 // 4  # two whole target patches of 4 steps
    assert seen[0].shape[1] == p + whole
    torch.manual_seed(2)
    masked = torch.rand(6, p + whole) < model.mask_ratio
    series, (mean, std) = model._series(x)
    future = ((y.permute(0, 2, 1, 3).reshape(6, 10, 1) - mean) / std).squeeze(-1)
    patches = torch.cat((model._patches(series), future[:, :8].unfold(1, 4, 4)), dim=1)
    torch.testing.assert_close(loss, patches.square().mean(-1)[masked].mean())
