import pytest
import torch

from stgraph.nn import RotaryEmbedding, SpatialRotaryAttention, SpatialRotaryEmbedding


def test_rope_score_depends_only_on_position_difference():
    torch.manual_seed(0)
    rope = RotaryEmbedding(16)
    q, k = torch.randn(16), torch.randn(16)

    def score(p, r):
        return (
            rope(q[None], torch.tensor([float(p)])) * rope(k[None], torch.tensor([float(r)]))
        ).sum()

    base = score(3, 1)
    for shift in (0, 5, 40, 1000):
        assert score(3 + shift, 1 + shift).item() == pytest.approx(base.item(), abs=1e-4)
    assert score(3, 2).item() != pytest.approx(base.item(), abs=1e-3)


def test_rope_preserves_norm_and_is_identity_at_zero():
    rope = RotaryEmbedding(8)
    x = torch.randn(5, 8)
    torch.testing.assert_close(rope(x, torch.zeros(5)), x)
    torch.testing.assert_close(rope(x, torch.arange(5.0)).norm(dim=-1), x.norm(dim=-1))


def test_se_rope_with_unit_scales_is_two_ropes():
    torch.manual_seed(1)
    se = SpatialRotaryEmbedding(16, num_nodes=10)
    x = torch.randn(2, 20, 16)
    time = torch.arange(20.0) % 4
    node = torch.arange(20) % 10
    rope = RotaryEmbedding(8)
    expected = torch.cat([rope(x[..., :8], time), rope(x[..., 8:], node.float())], dim=-1)
    torch.testing.assert_close(se(x, time, node), expected)


def test_se_rope_with_one_node_reduces_to_rope_over_time():
    se = SpatialRotaryEmbedding(8, num_nodes=3, positions=torch.zeros(3))
    x = torch.randn(6, 8)
    time = torch.arange(6.0)
    rope = RotaryEmbedding(4)
    torch.testing.assert_close(
        se(x, time, torch.zeros(6, dtype=torch.long)),
        torch.cat([rope(x[:, :4], time), x[:, 4:]], dim=-1),
    )


def test_gradients_reach_the_node_scales():
    se = SpatialRotaryEmbedding(8, num_nodes=4)
    x = torch.randn(4, 8)
    se(x, torch.zeros(4), torch.arange(4)).square().sum().backward()
    assert se.log_scale.grad is not None and se.log_scale.grad[1:].abs().sum() > 0
    fixed = SpatialRotaryEmbedding(8, num_nodes=4, learn_scale=False)
    assert not fixed.log_scale.requires_grad


def test_attention_module_shapes_and_node_scales_learn():
    torch.manual_seed(0)
    attn = SpatialRotaryAttention(32, num_nodes=12, heads=4)
    x = torch.randn(2, 12, 32)
    out = attn(x, torch.zeros(12), torch.arange(12))
    assert out.shape == (2, 12, 32)
    out.sum().backward()
    assert attn.rotary.log_scale.grad.abs().sum() > 0
    per_sample = attn(x, torch.zeros(2, 12), torch.arange(12).expand(2, 12))
    torch.testing.assert_close(per_sample, out.detach(), atol=1e-6, rtol=1e-5)
    assert str(attn) == "SpatialRotaryAttention(32, heads=4)"
