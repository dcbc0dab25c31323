import torch

from stgraph.nn import RevIN


def test_round_trip_is_exact_and_statistics_are_per_series():
    torch.manual_seed(0)
    revin = RevIN(3)
    with torch.no_grad():
        revin.weight.copy_(torch.tensor([0.5, 2.0, -1.5]))
        revin.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    x = torch.randn(4, 24, 7, 3) * 10 + 5
    y, stats = revin.normalize(x)
    plain, _ = RevIN(3, affine=False).normalize(x)
    torch.testing.assert_close(plain.mean(1), torch.zeros(4, 7, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(revin.denormalize(y, stats), x, atol=1e-4, rtol=1e-6)
