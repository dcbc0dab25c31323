import pytest
import torch

from stgraph.data.graph_building import knn_graph
from stgraph.data.synthetic import random_points
from stgraph.nn import SpatialBiasAttention


def complete_graph(n):
    target, source = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    return (
        torch.stack([source.reshape(-1), target.reshape(-1)]),
        target.reshape(-1),
        source.reshape(-1),
    )


@pytest.mark.parametrize("distance_kernels", [0, 8])
@pytest.mark.parametrize("max_hops", [None, 3])
@pytest.mark.parametrize("batched", [False, True])
def test_sparse_equals_dense_on_complete_graph(distance_kernels, max_hops, batched):
    torch.manual_seed(0)
    n, channels = 9, 16
    layer = SpatialBiasAttention(
        channels, heads=4, distance_kernels=distance_kernels, max_hops=max_hops
    )
    x = torch.randn(*((3,) if batched else ()), n, channels, requires_grad=True)
    distance = torch.rand(n, n)
    hops = torch.randint(-1, 6, (n, n))
    edge_index, i, j = complete_graph(n)

    sparse = layer(x, edge_index, distance[i, j], hops[i, j])
    grads_sparse = torch.autograd.grad(
        sparse.square().sum(), [x, *layer.parameters()], allow_unused=True
    )
    dense = layer.forward_dense(x, distance, hops)
    grads_dense = torch.autograd.grad(
        dense.square().sum(), [x, *layer.parameters()], allow_unused=True
    )
    torch.testing.assert_close(sparse, dense, atol=1e-5, rtol=1e-5)
    for a, b in zip(grads_sparse, grads_dense, strict=True):
        if a is None:
            assert b is None
        else:
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_attention_weights_of_each_target_sum_to_one():
    graph = knn_graph(random_points(50, seed=1), 6)
    layer = SpatialBiasAttention(8, heads=2)
    _, (edge_index, alpha) = layer(
        torch.randn(50, 8),
        graph.edge_index,
        graph.edge_attr.view(-1),
        return_attention_weights=True,
    )
    assert alpha.shape == (graph.num_edges, 2)
    assert (alpha >= 0).all() and (alpha <= 1).all()
    sums = torch.zeros(50, 2).index_add_(0, edge_index[1], alpha)
    torch.testing.assert_close(sums, torch.ones(50, 2))


def test_node_without_in_edges_outputs_the_projection_bias():
    layer = SpatialBiasAttention(8, heads=2, distance_kernels=0)
    edge_index = torch.tensor([[0, 1], [1, 0]])  # node 2 receives nothing
    out = layer(torch.randn(3, 8), edge_index)
    torch.testing.assert_close(out[2], layer.out.bias)


def test_permutation_equivariance():
    torch.manual_seed(3)
    graph = knn_graph(random_points(30, seed=2), 5)
    layer = SpatialBiasAttention(12, heads=3, max_hops=2)
    x = torch.randn(30, 12)
    hops = torch.randint(0, 3, (graph.num_edges,))
    out = layer(x, graph.edge_index, graph.edge_attr.view(-1), hops)
    perm = torch.randperm(30)
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(30)
    permuted = layer(x[perm], inverse[graph.edge_index], graph.edge_attr.view(-1), hops)
    torch.testing.assert_close(permuted, out[perm], atol=1e-6, rtol=1e-5)


def test_fixed_strength_and_repr():
    layer = SpatialBiasAttention(8, heads=2, bias_strength=0.0, learn_strength=False, max_hops=2)
    assert not layer.bias_strength.requires_grad
    assert str(layer) == "SpatialBiasAttention(8, heads=2, bias=distance+hops)"


def test_distance_bias_learns_a_near_neighbour_task():
    """The target averages near neighbours only; only the biased attention can tell which."""
    points = random_points(200, seed=0)
    graph = knn_graph(points, 16)
    distance = graph.edge_attr.view(-1)
    kernel = torch.exp(-((distance / 0.05) ** 2))

    def target(x):
        weight = torch.zeros(200).index_add_(0, graph.edge_index[1], kernel)
        total = torch.zeros(200).index_add_(0, graph.edge_index[1], kernel * x[graph.edge_index[0]])
        return total / weight

    def train(distance_kernels):
        torch.manual_seed(0)
        embed = torch.nn.Linear(1, 16)
        layer = SpatialBiasAttention(
            16, heads=2, distance_kernels=distance_kernels, max_distance=0.2
        )
        head = torch.nn.Linear(16, 1)
        params = [*embed.parameters(), *layer.parameters(), *head.parameters()]
        optimizer = torch.optim.Adam(params, lr=0.01)
        generator = torch.Generator().manual_seed(1)
        for _ in range(300):
            x = torch.randn(200, generator=generator)
            pred = head(layer(embed(x[:, None]), graph.edge_index, distance)).squeeze(-1)
            loss = (pred - target(x)).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            x = torch.randn(8, 200, generator=generator)
            pred = head(layer(embed(x[..., None]), graph.edge_index, distance)).squeeze(-1)
            return (pred - torch.stack([target(row) for row in x])).square().mean().item()

    with_bias, without_bias = train(16), train(0)
    assert with_bias < 0.4 * without_bias, (with_bias, without_bias)
