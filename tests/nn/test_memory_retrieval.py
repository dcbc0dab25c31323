import torch
import torch.nn.functional as F

from stgraph.nn import MemoryRetrievalFFN, load_balancing_loss


def test_top_k_retrieval_matches_brute_force():
    torch.manual_seed(0)
    ffn = MemoryRetrievalFFN(8, memory_size=16, top_k=3)
    x = torch.randn(10, 8)
    read, index, query = ffn.retrieve(x)
    similarity = F.normalize(ffn.query(x), dim=-1) @ ffn.keys.t()
    expected = similarity.argsort(dim=-1, descending=True)[:, :3]
    assert torch.equal(index.sort(-1).values, expected.sort(-1).values)
    weights = torch.softmax(similarity.gather(1, index) / ffn.temperature, -1)
    torch.testing.assert_close(read, (weights[..., None] * ffn.values[index]).sum(1))


def test_keys_follow_queries_by_ema_in_training_mode_only():
    torch.manual_seed(1)
    ffn = MemoryRetrievalFFN(8, memory_size=6, top_k=1, ema_decay=0.9)
    x = torch.randn(5, 8)
    keys = ffn.keys.clone()
    ffn.eval()
    ffn(x)
    assert torch.equal(ffn.keys, keys)
    ffn.train()
    _, index, query = ffn.retrieve(x)
    ffn(x)
    for slot in range(6):
        chosen = index[:, 0] == slot
        if chosen.any():
            expected = F.normalize(0.9 * keys[slot] + 0.1 * query[chosen].mean(0), dim=-1)
            torch.testing.assert_close(ffn.keys[slot], expected.detach())
        else:
            assert torch.equal(ffn.keys[slot], keys[slot])
    assert not ffn.keys.requires_grad


def test_balance_loss_is_zero_only_for_balanced_routing():
    probs = torch.full((8, 4), 0.25)
    balanced = torch.arange(8).view(4, 2) % 4
    assert load_balancing_loss(probs, balanced.repeat(2, 1), 4).item() == 0.0
    skewed = torch.zeros(8, 2, dtype=torch.long)
    assert load_balancing_loss(probs, skewed, 4).item() > 0.5


def test_forward_shape_loss_and_gradients():
    ffn = MemoryRetrievalFFN(8, memory_size=16, top_k=2, num_experts=3, experts_per_token=2)
    x = torch.randn(2, 5, 8, requires_grad=True)
    out, loss = ffn(x)
    assert out.shape == x.shape and loss.dim() == 0
    (out.sum() + loss).backward()
    assert ffn.values.grad.abs().sum() > 0 and ffn.gate.weight.grad.abs().sum() > 0
