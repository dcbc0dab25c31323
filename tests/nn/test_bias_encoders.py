import subprocess
import sys

import torch

from stgraph.nn import CentralityEncoding, DistanceBias, HopBias


def test_distance_bias_shapes_and_bucket_mode():
    gaussian = DistanceBias(heads=3, num_kernels=8, max_distance=2.0)
    assert gaussian(torch.rand(5, 7)).shape == (5, 7, 3)
    bucket = DistanceBias(heads=2, num_kernels=4, max_distance=4.0, basis="bucket")
    d = torch.tensor([0.5, 1.5, 2.5, 3.5, 100.0])
    torch.testing.assert_close(bucket(d), bucket.table.weight[[0, 1, 2, 3, 3]])


def test_hop_bias_shares_one_entry_for_far_and_unreachable_pairs():
    bias = HopBias(heads=2, max_hops=3)
    out = bias(torch.tensor([0, 3, 4, 9, -1]))
    torch.testing.assert_close(out[2], bias.table.weight[4])
    torch.testing.assert_close(out[3], out[2])
    torch.testing.assert_close(out[4], out[2])
    torch.testing.assert_close(out[1], bias.table.weight[3])


def test_centrality_encoding_modes():
    enc = CentralityEncoding(4, num_buckets=8, mode="integer")
    x = torch.zeros(3, 4)
    out = enc(x, torch.tensor([0.0, 2.0, 50.0]))
    torch.testing.assert_close(out, enc.embedding.weight[[0, 2, 7]])
    log = CentralityEncoding(4, num_buckets=8, mode="log")
    assert log.bucket(torch.tensor([0.0, 1.0, 3.0, 1e6])).tolist() == [0, 1, 2, 7]
    quantile = CentralityEncoding(4, num_buckets=4, mode="quantile")
    assert quantile.bucket(torch.tensor([0.4, 0.1, 0.3, 0.2])).tolist() == [3, 0, 2, 1]


def test_import_stgraph_nn_pulls_in_only_torch_and_pyg():
    """Everything `import stgraph.nn` loads beyond what torch_geometric loads is stgraph.nn."""
    code = (
        "import sys, torch, torch_geometric; before = set(sys.modules); import stgraph.nn; "
        "extra = sorted(m for m in set(sys.modules) - before if not (m == 'stgraph' or "
        "m.startswith('stgraph.nn') or m == 'stgraph.errors')); print(extra); "
        "sys.exit(1 if extra else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_chunked_distance_bias_equals_direct_evaluation(monkeypatch):
    torch.manual_seed(0)
    bias = DistanceBias(heads=2, num_kernels=4, max_distance=1.0)
    distance = torch.rand(30, 30, requires_grad=True)
    direct = bias(distance)
    (grad_direct,) = torch.autograd.grad(direct.square().sum(), distance)
    monkeypatch.setattr(DistanceBias, "CHUNK_ELEMENTS", 64)
    chunked = bias(distance)
    (grad_chunked,) = torch.autograd.grad(chunked.square().sum(), distance)
    torch.testing.assert_close(chunked, direct)
    torch.testing.assert_close(grad_chunked, grad_direct)
