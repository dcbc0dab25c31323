import networkx as nx
import numpy as np
import pytest
import torch

from stgraph.data import centrality as c
from stgraph.data.transforms import AddCentrality, AddShortestPathHops


def random_digraph(n=60, p=0.06, seed=0):
    graph = nx.gnp_random_graph(n, p, seed=seed, directed=True)
    edge_index = torch.tensor(list(graph.edges), dtype=torch.long).t()
    return graph, edge_index


def as_array(values, n):
    return np.array([values[i] for i in range(n)])


def test_centralities_equal_networkx():
    graph, edge_index = random_digraph()
    n = graph.number_of_nodes()
    values, sampled = c.compute_centrality(edge_index, n, list(c.CENTRALITY_MEASURES))
    assert not sampled
    np.testing.assert_allclose(values["degree"], as_array(dict(graph.in_degree()), n))
    np.testing.assert_allclose(
        values["pagerank"], as_array(nx.pagerank(graph, tol=1e-12), n), atol=1e-6
    )
    np.testing.assert_allclose(
        values["betweenness"], as_array(nx.betweenness_centrality(graph), n), atol=1e-6
    )
    np.testing.assert_allclose(
        values["closeness"], as_array(nx.closeness_centrality(graph), n), atol=1e-6
    )


def test_weighted_degree_and_weighted_pagerank():
    graph, edge_index = random_digraph(seed=3)
    weights = torch.rand(edge_index.size(1)) + 0.1
    for (u, v), w in zip(edge_index.t().tolist(), weights.tolist(), strict=True):
        graph[u][v]["weight"] = w
    n = graph.number_of_nodes()
    values, _ = c.compute_centrality(edge_index, n, ["weighted_degree", "pagerank"], weights)
    np.testing.assert_allclose(
        values["weighted_degree"], as_array(dict(graph.in_degree(weight="weight")), n), rtol=1e-5
    )
    np.testing.assert_allclose(
        values["pagerank"], as_array(nx.pagerank(graph, weight="weight", tol=1e-12), n), atol=1e-6
    )


def test_sampled_closeness_tracks_exact_on_large_graph(monkeypatch):
    graph = nx.connected_watts_strogatz_graph(600, 6, 0.1, seed=1)
    edge_index = torch.tensor(list(graph.edges), dtype=torch.long).t()
    edge_index = torch.cat([edge_index, edge_index.flip(0)], 1)
    exact, _ = c.compute_centrality(edge_index, 600, ["closeness"])
    monkeypatch.setattr(c, "EXACT_MAX_NODES", 100)
    monkeypatch.setattr(c, "SAMPLED_SOURCES", 200)
    estimate, sampled = c.compute_centrality(edge_index, 600, ["closeness"])
    assert sampled
    assert np.corrcoef(exact["closeness"], estimate["closeness"])[0, 1] > 0.9
    np.testing.assert_allclose(estimate["closeness"], exact["closeness"], rtol=0.1)


@pytest.mark.parametrize("max_hops", [1, 2, 4])
def test_shortest_path_hops_equal_networkx(max_hops):
    graph, edge_index = random_digraph(40, 0.08, seed=max_hops)
    data = AddShortestPathHops(max_hops)(
        __import__("torch_geometric").data.Data(edge_index=edge_index, num_nodes=40)
    )
    expected = {
        (s, t): d
        for s, lengths in nx.all_pairs_shortest_path_length(graph, cutoff=max_hops)
        for t, d in lengths.items()
    }
    got = {
        tuple(p): int(h) for p, h in zip(data.hop_index.t().tolist(), data.hop_count, strict=True)
    }
    assert got == expected


def test_add_centrality_writes_attributes():
    from torch_geometric.data import Data

    _, edge_index = random_digraph()
    data = AddCentrality(["degree", "pagerank"])(Data(edge_index=edge_index, num_nodes=60))
    assert data.centrality_degree.shape == (60,)
    assert data.centrality_pagerank.sum().item() == pytest.approx(1.0, abs=1e-5)
    assert str(AddCentrality(["degree"])) == "AddCentrality(degree)"
