import numpy as np
import pytest
import torch

from stgraph.data.recipes import load_recipe, recipe_names
from stgraph.data.registry import DATASETS, get_spec, load_dataset, load_dataset_graph
from stgraph.data.temporal import TemporalSignal
from stgraph.errors import InputError

# (steps, nodes, features, edges) as stated in the PROVENANCE files of ../shared/data
TEMPORAL_SHAPES = {
    "los-loop": (2016, 207, 1, 2833),
    "chickenpox": (521, 20, 1, 102),
    "pedalme": (35, 15, 1, 225),
    "nyc-complaints": (5840, 64, 19, None),  # the all-ones adjacency: see test_correlation_graph
    "chicago-crime": (609 + 30 + 92, 14 * 12, 4, None),
    "nyc-crime": (730, 16 * 16, 4, None),
    "nyc-flows-bike1": (4 + 431 + 864, 128, 2, None),
    "nyc-flows-bike2": (8 + 274 + 546, 200, 2, None),
    "nyc-flows-taxi": (8 + 274, 200, 2, None),
    "etth1": (17420, 7, 1, 0),
    "etth2": (17420, 7, 1, 0),
}
GRAPH_SHAPES = {
    "metr-la": (207, 1722),
    "pems-bay": (325, 2694),
    "pems04": (307, 340),
    "pems08": (170, 277),
}  # PEMS08 lists 18 exact duplicate rows among its 295


def test_every_dataset_has_a_recipe_and_every_recipe_a_dataset():
    with_files = sorted(name for name, spec in DATASETS.items() if spec.files)
    assert with_files == recipe_names() and set(DATASETS) - set(with_files) == {"synthetic"}
    for name in with_files:
        recipe = load_recipe(name)
        assert recipe.name == name
        assert {f.path for f in recipe.files} == set(get_spec(name).files + get_spec(name).readings)
        for entry in recipe.files:
            assert entry.optional or (entry.sha256 and entry.urls and entry.size)


@pytest.mark.parametrize("name", sorted(TEMPORAL_SHAPES))
def test_temporal_loaders_match_provenance(shared_data, name):
    steps, nodes, features, edges = TEMPORAL_SHAPES[name]
    signal = load_dataset(name, shared_data)
    assert isinstance(signal, TemporalSignal)
    assert tuple(signal.signal.shape) == (steps, nodes, features)
    if edges is not None:
        assert signal.graph.num_edges == edges
    assert signal.protocol == load_recipe(name).forecasting_protocol()
    assert all(len(signal.window_starts(p)) > 0 for p in ("train", "val", "test"))


@pytest.mark.parametrize("name", sorted(GRAPH_SHAPES))
def test_graph_only_sensor_datasets(shared_data, name):
    graph = load_dataset_graph(name, shared_data)
    assert (graph.num_nodes, graph.num_edges) == GRAPH_SHAPES[name]
    assert get_spec(name).status(shared_data) == "graph only"
    with pytest.raises(InputError, match="stgraph data fetch"):
        load_dataset(name, shared_data)


def test_los_loop_is_metr_la_week(shared_data):
    signal = load_dataset("los-loop", shared_data)
    assert signal.graph.node_id == load_dataset_graph("metr-la", shared_data).node_id
    assert signal.day_of_week[0].item() == 3  # 1 March 2012 was a Thursday
    assert signal.mask.all()  # the T-GCN authors filled every gap


def test_chicago_crime_split_reproduces_released_parts(shared_data):
    from stgraph.data.datasets.common import load_numpy_pickle

    signal = load_dataset("chicago-crime", shared_data)
    test = load_numpy_pickle(shared_data / "sthsl_crime_nyc_chi/CHI/tst.pkl")
    starts = signal.window_starts("test")
    assert len(starts) == 92 and int(starts[0]) + 30 == 639
    released = torch.as_tensor(test.transpose(2, 0, 1, 3).reshape(92, 168, 4), dtype=torch.float32)
    torch.testing.assert_close(signal.signal[639:], released)


def test_chicago_crime_promptst_protocol_keeps_the_split_dates(shared_data):
    from dataclasses import replace

    from stgraph.data.recipes import load_recipe

    named = load_recipe("chicago-crime").forecasting_protocol("promptst")
    assert (named.input_len, named.output_len, named.selection_metric) == (12, 12, "RMSE")
    assert named.attribute_mean and named.split_steps == (609, 639, 731)
    signal = replace(load_dataset("chicago-crime", shared_data), protocol=named)
    val, test = signal.window_starts("val"), signal.window_starts("test")
    # every target of a part inside its dates: September's 30 days, October to December's 92
    assert int(val[0]) + 12 == 609 and int(val[-1]) + 24 == 639 and len(val) == 30 - 11
    assert int(test[0]) + 12 == 639 and int(test[-1]) + 24 == 731 and len(test) == 92 - 11
    assert signal.fit_end == 609  # the scaler sees training steps only


def test_nyc_crime_rebuild_matches_released_day_totals(shared_data):
    from stgraph.data.datasets.common import load_numpy_pickle

    signal = load_dataset("nyc-crime", shared_data)
    for part, (lo, hi) in (("val", (608, 638)), ("tst", (638, 730))):
        released = load_numpy_pickle(shared_data / f"sthsl_crime_nyc_chi/NYC/{part}.pkl")
        np.testing.assert_array_equal(signal.signal[lo:hi].sum(1).numpy(), released.sum((0, 1)))


@pytest.mark.parametrize(
    ("name", "n", "views"), [("chicago", 77, (26, 12, 77)), ("nyc", 180, (26, 11, 180))]
)
def test_region_datasets(shared_data, name, n, views):
    data = load_dataset(name, shared_data)
    assert data.num_nodes == n
    assert tuple(data[f"x_{v}"].size(1) for v in data.view_names) == views
    assert data.task_names == ["crime", "check_in", "service_calls"]
    assert data.distance.shape == (n, n) and torch.allclose(data.distance, data.distance.t())
    assert data.pos.shape == (n, 2) and data.centrality_pagerank.shape == (n,)
    if name == "chicago":  # region 31 is the Loop, near (41.88, -87.63)
        assert abs(data.pos[31, 1] - 41.88) < 0.02 and abs(data.pos[31, 0] + 87.63) < 0.02
    else:
        assert data.contiguity_index.size(1) == 2 * 508


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(InputError, match="known datasets: los-loop"):
        get_spec("no-such-data")
