import pytest
import torch
from torch import nn

from stgraph.nn import DeepPromptTokens, MaskTokenPrompt, PromptAlignment


@pytest.mark.parametrize("position", ["append", "prepend"])
@pytest.mark.parametrize("num_nodes", [None, 5])
def test_deep_prompts_keep_sequence_length_and_reach_every_layer(position, num_nodes):
    prompts = DeepPromptTokens(2, 3, 8, num_nodes=num_nodes, position=position)
    x = torch.randn(4, 5, 12, 8)
    seen = []

    def layer(h):
        seen.append(h.size(-2))
        return h + h.mean(dim=-2, keepdim=True)  # mixes prompts into the real tokens

    out = prompts(x, [layer, layer])
    assert out.shape == x.shape and seen == [15, 15]
    out.sum().backward()
    assert prompts.prompts.grad.abs().sum() > 0


def test_insert_then_remove_is_identity_and_per_node_prompts_differ():
    prompts = DeepPromptTokens(1, 2, 4, num_nodes=3)
    x = torch.randn(2, 3, 6, 4)
    inserted = prompts.insert(x, 0)
    torch.testing.assert_close(prompts.remove(inserted), x)
    torch.testing.assert_close(inserted[0, 1, 6:], prompts.prompts[0, :, 1])


def test_frozen_backbone_with_prompts_trains_only_prompts_and_head():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2)
    for p in encoder.parameters():
        p.requires_grad_(False)
    prompts = DeepPromptTokens(2, 2, 8, num_nodes=5)
    head = nn.Linear(8, 1)
    model = nn.ModuleDict({"encoder": encoder, "prompts": prompts, "head": head})
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"prompts.prompts", "head.weight", "head.bias"}
    before = [p.clone() for p in encoder.parameters()]
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.1)
    x = torch.randn(3, 5, 12, 8)
    layers = [lambda h, m=m: m(h.reshape(-1, *h.shape[-2:])).view(h.shape) for m in encoder.layers]
    loss = head(prompts(x, layers)[..., -1, :]).square().mean()
    loss.backward()
    optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(before, encoder.parameters(), strict=True))
    assert prompts.prompts.grad.abs().sum() > 0


def test_mask_token_prompt_starts_as_the_bare_mask_token():
    prompt = MaskTokenPrompt(6, horizon=4)
    x = torch.randn(2, 10, 6)
    out = prompt(x)
    assert out.shape == (2, 14, 6)
    torch.testing.assert_close(out[:, 10:], prompt.mask_token.expand(2, 4, 6))
    with torch.no_grad():
        prompt.prompt[2] += 1.0
    torch.testing.assert_close(prompt(x)[:, 12], (prompt.mask_token + 1.0).expand(2, 6))
    masked = prompt.mask(x, torch.tensor([True] + [False] * 9))
    torch.testing.assert_close(masked[:, 0], prompt.mask_token.expand(2, 6))
    torch.testing.assert_close(masked[:, 1:], x[:, 1:])


def test_prompt_alignment_shapes_attention_and_residual():
    torch.manual_seed(0)
    align = PromptAlignment(12, 20, heads=4, dropout=0.0)
    regions, prompts = torch.randn(7, 12), torch.randn(9, 20)
    out, attention = align(regions, prompts, return_attention=True)
    assert out.shape == (7, 20) and attention.shape == (4, 7, 9)
    torch.testing.assert_close(attention.sum(-1), torch.ones(4, 7))
    # the prompts are frozen inputs: gradients flow to the module, not into them
    frozen = prompts.clone()
    out.sum().backward()
    assert align.residual.weight.grad is not None and torch.equal(prompts, frozen)
    assert str(align) == "PromptAlignment(12 -> 20, heads=4)"


@pytest.mark.parametrize("num_nodes", [None, 3])
def test_grouped_prompts_give_each_row_its_groups_set(num_nodes):
    prompts = DeepPromptTokens(2, 2, 4, num_nodes=num_nodes, num_groups=5)
    x = torch.randn(3, 3, 6, 4)
    group = torch.tensor([4, 0, 4])
    inserted = prompts.insert(x, 1, group)
    assert inserted.shape == (3, 3, 8, 4)
    expected = prompts.prompts[4, 1] if num_nodes is None else prompts.prompts[4, 1, :, 2]
    node = 2
    torch.testing.assert_close(inserted[0, node, 6:], expected)
    torch.testing.assert_close(inserted[2, :, 6:], inserted[0, :, 6:])
    assert not torch.equal(inserted[1, :, 6:], inserted[0, :, 6:])
    with pytest.raises(ValueError, match="group index"):
        prompts.insert(x, 0)
