import torch

from stgraph.nn import recompute_in_chunks


def test_chunks_give_the_whole_result_and_gradients_and_run_in_chunks():
    torch.manual_seed(0)
    weight = torch.randn(4, 3, requires_grad=True)
    x = torch.randn(10, 4, requires_grad=True)
    offset = torch.randn(10, 1)
    calls = []

    def function(rows, shift):
        calls.append(rows.size(0))
        return torch.tanh(rows @ weight) + shift

    whole = function(x, offset)
    whole.square().sum().backward()
    expected = (whole.detach(), x.grad.clone(), weight.grad.clone())
    x.grad = weight.grad = None
    calls.clear()
    chunked = recompute_in_chunks(function, 4, x, offset)
    assert calls == [4, 4, 2]  # the forward pass, chunk by chunk
    chunked.square().sum().backward()
    assert calls == [4, 4, 2, 2, 4, 4]  # each chunk recomputed in the backward pass
    for got, want in zip((chunked.detach(), x.grad, weight.grad), expected, strict=True):
        torch.testing.assert_close(got, want)


def test_inputs_that_fit_one_chunk_run_whole():
    calls = []
    out = recompute_in_chunks(lambda t: calls.append(t.size(0)) or t * 2, 8, torch.ones(8, 2))
    assert calls == [8]
    assert torch.equal(out, torch.full((8, 2), 2.0))
