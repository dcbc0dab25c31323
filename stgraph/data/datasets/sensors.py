"""Road-sensor and small static-graph datasets: los-loop, metr-la, pems-bay, pems04/08,
chickenpox, pedalme.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from stgraph.data.datasets.common import need, observed, recipe_protocol, regular_timestamps
from stgraph.data.graph_building import distance_edge_graph, matrix_graph
from stgraph.data.tables import read_csv_rows, read_edge_list, read_matrix, read_point_table
from stgraph.data.temporal import TemporalSignal
from stgraph.errors import InputError


def metr_la_graph(root: Path) -> Data:
    """DCRNN's METR-LA adjacency (thresholded Gaussian of road distance) with coordinates."""
    matrix, ids = read_matrix(need(root, "metr_la/adj_mx.pkl", "metr-la"))
    points = read_point_table(
        need(root, "metr_la/graph_sensor_locations.csv", "metr-la"), id_col="sensor_id"
    )
    if ids != points.ids:
        raise InputError("metr-la: sensor order of adj_mx.pkl and the locations file differ")
    return matrix_graph(matrix, ids, points=points)


def pems_bay_graph(root: Path) -> Data:
    """DCRNN's PEMS-BAY adjacency with coordinates."""
    matrix, ids = read_matrix(need(root, "pems_bay/adj_mx_bay.pkl", "pems-bay"))
    points = read_point_table(need(root, "pems_bay/graph_sensor_locations_bay.csv", "pems-bay"))
    if ids != points.ids:
        raise InputError("pems-bay: sensor order of adj_mx_bay.pkl and the locations file differ")
    return matrix_graph(matrix, ids, points=points)


def _h5_signal(path: Path, name: str, graph: Data) -> TemporalSignal:
    try:
        import pandas as pd
    except ImportError as err:
        raise InputError(
            f"{name}: reading {path.name} needs pandas and tables (pip install pandas tables)"
        ) from err
    frame = pd.read_hdf(path)
    if [str(c) for c in frame.columns] != graph.node_id:
        raise InputError(f"{name}: the columns of {path.name} are not the graph's sensor order")
    signal = torch.as_tensor(frame.to_numpy(np.float32)).unsqueeze(-1)
    stamps = torch.as_tensor(frame.index.asi8 // 1_000_000_000, dtype=torch.long)
    protocol = recipe_protocol(name)
    return TemporalSignal(
        name, signal, observed(signal, protocol.null_value), graph, protocol, stamps, ["speed"]
    )


def load_metr_la(root: Path) -> TemporalSignal:
    """METR-LA speeds (needs ``metr_la/metr-la.h5``, see the recipe) on the DCRNN graph."""
    return _h5_signal(need(root, "metr_la/metr-la.h5", "metr-la"), "metr-la", metr_la_graph(root))


def load_pems_bay(root: Path) -> TemporalSignal:
    """PEMS-BAY speeds (needs ``pems_bay/pems-bay.h5``, see the recipe) on the DCRNN graph."""
    return _h5_signal(
        need(root, "pems_bay/pems-bay.h5", "pems-bay"), "pems-bay", pems_bay_graph(root)
    )


def los_loop_graph(root: Path) -> Data:
    """T-GCN's symmetric Los-loop adjacency with the METR-LA sensor coordinates."""
    ids = read_csv_rows(need(root, "los_loop/los_speed.csv", "los-loop"))[0]
    matrix, _ = read_matrix(need(root, "los_loop/los_adj.csv", "los-loop"))
    points = read_point_table(
        need(root, "metr_la/graph_sensor_locations.csv", "los-loop"), id_col="sensor_id"
    )
    if points.ids != ids:
        raise InputError("los-loop: sensor order differs from metr_la/graph_sensor_locations.csv")
    return matrix_graph(matrix, ids, points=points)


def load_los_loop(root: Path) -> TemporalSignal:
    """One week (1-7 March 2012, 5 min) of speeds at METR-LA's 207 sensors. The protocol treats
    a zero as missing (METR-LA's convention), but this week holds no zero: every reading
    counts."""
    rows = read_csv_rows(need(root, "los_loop/los_speed.csv", "los-loop"))
    signal = torch.tensor(np.array(rows[1:], dtype=np.float32)).unsqueeze(-1)
    stamps = regular_timestamps("2012-03-01", signal.size(0), 300)
    protocol = recipe_protocol("los-loop")
    return TemporalSignal(
        "los-loop",
        signal,
        observed(signal, protocol.null_value),
        los_loop_graph(root),
        protocol,
        stamps,
        ["speed"],
    )


def _pems_graph(root: Path, folder: str, name: str) -> Data:
    graph, _ = distance_edge_graph(read_edge_list(need(root, f"{folder}/distance.csv", name)))
    return graph


def pems04_graph(root: Path) -> Data:
    """PEMS04 road-distance edge list (ASTGCN), 307 sensors."""
    return _pems_graph(root, "pems04_graph", "pems04")


def pems08_graph(root: Path) -> Data:
    """PEMS08 road-distance edge list (ASTGCN), 170 sensors."""
    return _pems_graph(root, "pems08_graph", "pems08")


def _pems_signal(root: Path, name: str, folder: str, start: str, graph: Data) -> TemporalSignal:
    path = need(root, f"{folder}/{name}.npz", name)
    with np.load(path) as archive:
        values = torch.as_tensor(archive["data"], dtype=torch.float32)
    if values.size(1) != graph.num_nodes:
        raise InputError(
            f"{name}: {path.name} has {values.size(1)} sensors, graph has {graph.num_nodes}"
        )
    stamps = regular_timestamps(start, values.size(0), 300)
    protocol = recipe_protocol(name)
    return TemporalSignal(
        name,
        values,
        observed(values, protocol.null_value),
        graph,
        protocol,
        stamps,
        ["flow", "occupancy", "speed"][: values.size(2)],
    )


def load_pems04(root: Path) -> TemporalSignal:
    """PEMS04 flow/occupancy/speed, Jan-Feb 2018 (needs ``pems04_graph/pems04.npz``)."""
    return _pems_signal(root, "pems04", "pems04_graph", "2018-01-01", pems04_graph(root))


def load_pems08(root: Path) -> TemporalSignal:
    """PEMS08 flow/occupancy/speed, Jul-Aug 2016 (needs ``pems08_graph/pems08.npz``)."""
    return _pems_signal(root, "pems08", "pems08_graph", "2016-07-01", pems08_graph(root))


def _json(root: Path, relative: str, name: str) -> dict:
    return json.loads(need(root, relative, name).read_text())


def load_chickenpox(root: Path) -> TemporalSignal:
    """Weekly chickenpox cases in Hungary's 20 counties (already standardised per county)."""
    doc = _json(root, "pyg_temporal_small/chickenpox.json", "chickenpox")
    signal = torch.tensor(doc["FX"], dtype=torch.float32).unsqueeze(-1)
    edges = torch.tensor(doc["edges"], dtype=torch.long).t()
    graph = Data(edge_index=edges, edge_weight=torch.ones(edges.size(1)), num_nodes=signal.size(1))
    graph.node_id = sorted(doc["node_ids"], key=doc["node_ids"].get)
    return TemporalSignal(
        "chickenpox",
        signal,
        torch.ones_like(signal, dtype=torch.bool),
        graph,
        recipe_protocol("chickenpox"),
        feature_names=["cases"],
    )


def load_pedalme(root: Path) -> TemporalSignal:
    """Weekly PedalMe delivery demand in 15 London localities (standardised)."""
    doc = _json(root, "pyg_temporal_small/pedalme_london.json", "pedalme")
    signal = torch.tensor(doc["X"], dtype=torch.float32).unsqueeze(-1)
    edges = torch.tensor(doc["edges"], dtype=torch.long).t()
    graph = Data(
        edge_index=edges,
        edge_weight=torch.tensor(doc["weights"], dtype=torch.float32),
        num_nodes=signal.size(1),
    )
    graph.node_id = [str(i) for i in range(signal.size(1))]
    return TemporalSignal(
        "pedalme",
        signal,
        torch.ones_like(signal, dtype=torch.bool),
        graph,
        recipe_protocol("pedalme"),
        feature_names=["demand"],
    )
