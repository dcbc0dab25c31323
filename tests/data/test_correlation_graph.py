import numpy as np
import torch
from torch_geometric.data import Data

from stgraph.data.correlation_graph import correlation_graph, is_complete
from stgraph.data.graph_building import matrix_graph
from stgraph.data.protocol import Protocol
from stgraph.data.registry import load_dataset
from stgraph.data.temporal import TemporalSignal


def two_communities(steps=400, seed=0):
    """Nodes 0-3 follow one hidden series, nodes 4-7 another (two features each)."""
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(steps, 2, generator=g).cumsum(0)
    signal = hidden[:, [0, 0, 0, 0, 1, 1, 1, 1]].unsqueeze(-1).repeat(1, 1, 2)
    signal = signal + 0.3 * torch.randn(signal.shape, generator=g)
    graph = Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=8)
    mask = torch.ones_like(signal, dtype=torch.bool)
    return TemporalSignal("toy", signal, mask, graph, Protocol(steps_per_day=24))


def test_neighbours_are_the_nodes_that_move_together():
    graph = correlation_graph(two_communities(), k=3)
    source, target = graph.edge_index
    assert ((source < 4) == (target < 4)).all()  # no edge between the communities
    assert graph.edge_index.size(1) == 8 * 3  # each community is a 4-clique
    assert (graph.edge_weight > 0.5).all()


def test_validation_and_test_steps_never_shape_the_graph():
    signal = two_communities()
    later = signal.signal.clone()
    later[signal.fit_end :] = torch.randn_like(later[signal.fit_end :]) * 100
    changed = TemporalSignal("toy", later, signal.mask, signal.graph, signal.protocol)
    before, after = correlation_graph(signal, 2), correlation_graph(changed, 2)
    assert torch.equal(before.edge_index, after.edge_index)
    assert torch.equal(before.edge_weight, after.edge_weight)


def test_complete_graphs_are_recognised():
    assert is_complete(matrix_graph(np.ones((5, 5))))
    assert not is_complete(matrix_graph(np.ones((5, 5)) - np.eye(5)[::-1]))


def test_nyc_complaints_replaces_its_all_ones_adjacency(shared_data):
    published = np.load(shared_data / "promptst_nyc_complaints/adj_complaint_fullconn.npy")
    assert (published == 1).all()
    signal = load_dataset("nyc-complaints", shared_data)
    assert not is_complete(signal.graph)
    assert torch.equal(signal.graph.edge_index, correlation_graph(signal).edge_index)
