import numpy as np
import pytest
import torch

from stgraph.data.geo import haversine_km
from stgraph.data.graph_building import (
    distance_edge_graph,
    gaussian_graph,
    knn_graph,
    matrix_graph,
    radius_graph,
)
from stgraph.data.tables import EdgeList, PointTable, read_edge_list, read_matrix, read_point_table
from stgraph.errors import InputError


def random_lonlat(n, seed=0):
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    return PointTable([str(i) for i in range(n)], np.stack([lon, lat], 1), "lonlat")


def random_xy(n, seed=0):
    rng = np.random.default_rng(seed)
    return PointTable([str(i) for i in range(n)], rng.normal(size=(n, 2)) * 10, "xy")


def brute_distances(points):
    c = points.coords
    if points.coord_system == "lonlat":
        return haversine_km(c[:, None, 1], c[:, None, 0], c[None, :, 1], c[None, :, 0])
    return np.linalg.norm(c[:, None] - c[None], axis=-1)


def edge_set(data):
    return set(map(tuple, data.edge_index.t().tolist()))


@pytest.mark.parametrize("make", [random_lonlat, random_xy])
@pytest.mark.parametrize("k", [1, 5])
def test_knn_equals_brute_force(make, k):
    points = make(300, seed=k)
    data = knn_graph(points, k)
    dist = brute_distances(points)
    np.fill_diagonal(dist, np.inf)
    expected = {(int(j), i) for i in range(len(points)) for j in np.argsort(dist[i])[:k]}
    assert edge_set(data) == expected
    src, dst = data.edge_index
    np.testing.assert_allclose(data.edge_attr.view(-1).numpy(), dist[src, dst], rtol=1e-5)
    assert data.num_edges == 300 * k


def test_knn_rejects_k_not_below_node_count():
    with pytest.raises(InputError, match="smaller than the number of nodes"):
        knn_graph(random_xy(5), 5)


@pytest.mark.parametrize(("make", "radius"), [(random_lonlat, 1500.0), (random_xy, 3.0)])
def test_radius_graph_equals_brute_force(make, radius):
    points = make(200)
    dist = brute_distances(points)
    expected = {(i, j) for i, j in zip(*np.nonzero(dist < radius), strict=True) if i != j}
    assert edge_set(radius_graph(points, radius)) == expected


@pytest.mark.parametrize("make", [random_lonlat, random_xy])
def test_gaussian_graph_equals_dense_dcrnn_formula(make):
    points = make(150)
    dist = brute_distances(points)
    sigma = dist.std()
    weight = np.exp(-((dist / sigma) ** 2))
    weight[weight < 0.1] = 0
    data = gaussian_graph(points, 0.1)
    assert data.gaussian_sigma == pytest.approx(sigma, rel=1e-9)
    dense = torch.zeros(150, 150, dtype=torch.float64)
    dense[data.edge_index[0], data.edge_index[1]] = data.edge_weight.double()
    assert int((dense > 0).sum()) == int((weight > 0).sum())
    np.testing.assert_allclose(dense.numpy(), weight, atol=1e-6)


def test_distance_edges_keep_last_duplicate_and_skip_unknown_nodes():
    edges = EdgeList(["a", "a", "b", "x"], ["b", "b", "c", "a"], np.array([5.0, 7.0, 1.0, 2.0]))
    data, skipped = distance_edge_graph(edges, ["a", "b", "c"])
    assert skipped == 1
    assert data.edge_index.tolist() == [[0, 1], [1, 2]]
    assert data.edge_attr.view(-1).tolist() == [7.0, 1.0]


def test_integer_ids_without_ids_file_use_zero_to_max():
    edges = EdgeList(["0", "3"], ["3", "1"], np.array([1.0, 2.0]))
    data, _ = distance_edge_graph(edges)
    assert data.num_nodes == 4 and data.node_id == ["0", "1", "2", "3"]


def test_dcrnn_pems_bay_adjacency_is_reproduced(shared_data):
    root = shared_data / "pems_bay"
    points = read_point_table(root / "graph_sensor_locations_bay.csv")
    data, skipped = distance_edge_graph(
        read_edge_list(root / "distances_bay_2017.csv"), points.ids, points, gaussian_threshold=0.1
    )
    reference, ids = read_matrix(root / "adj_mx_bay.pkl")
    assert ids == points.ids and skipped == 0
    dense = np.zeros_like(reference)
    dense[data.edge_index[0].numpy(), data.edge_index[1].numpy()] = data.edge_weight.numpy()
    assert np.count_nonzero(reference) == 2694 == data.num_edges
    assert (np.nonzero(dense)[0] == np.nonzero(reference)[0]).all()
    assert np.abs(dense - reference).max() <= 1e-6


def test_od_matrix_gives_weighted_directed_edges():
    od = np.array([[0, 3, 0], [1, 0, 0], [0, 5, 2]], dtype=float)
    data = matrix_graph(od, what="OD")
    assert data.edge_index.tolist() == [[0, 1, 2, 2], [1, 0, 1, 2]]
    assert data.edge_weight.tolist() == [3, 1, 5, 2]


@pytest.mark.parametrize(
    ("matrix", "message"), [(np.ones((2, 3)), "must be square"), (-np.eye(2), "negative flows")]
)
def test_bad_od_matrices(matrix, message):
    with pytest.raises(InputError, match=message):
        matrix_graph(matrix, what="OD")


def test_node_order_from_id_lists_and_point_tables(tmp_path):
    from stgraph.data.tables import read_node_order

    (tmp_path / "ids.txt").write_text("b,a,c\n")
    (tmp_path / "ids.csv").write_text("b\na\nc\n")
    (tmp_path / "pts.csv").write_text("id,lat,lon\nb,1,2\na,3,4\n")
    assert read_node_order(tmp_path / "ids.txt") == (["b", "a", "c"], None)
    assert read_node_order(tmp_path / "ids.csv") == (["b", "a", "c"], None)
    ids, points = read_node_order(tmp_path / "pts.csv")
    assert ids == ["b", "a"] and points.coords.tolist() == [[2.0, 1.0], [4.0, 3.0]]
    (tmp_path / "dup.txt").write_text("a,a\n")
    with pytest.raises(InputError, match="duplicate node id 'a'"):
        read_node_order(tmp_path / "dup.txt")
