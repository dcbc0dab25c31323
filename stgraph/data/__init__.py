"""Files → PyG objects: graph building, spatial priors, temporal signals, regions, datasets."""

from stgraph.data.graph_building import (
    distance_edge_graph,
    gaussian_graph,
    knn_graph,
    matrix_graph,
    pairs_graph,
    radius_graph,
)
from stgraph.data.io import load_graph, save_graph
from stgraph.data.polygons import Regions, centroids, contiguity_pairs, read_regions
from stgraph.data.protocol import Protocol
from stgraph.data.regions import region_data
from stgraph.data.registry import DATASETS, get_spec, load_dataset, load_dataset_graph
from stgraph.data.scaler import StandardScaler
from stgraph.data.synthetic import diffusion_signal, synthetic_regions
from stgraph.data.tables import PointTable, read_edge_list, read_matrix, read_point_table
from stgraph.data.temporal import TemporalSignal, WindowDataset
from stgraph.data.transforms import AddCentrality, AddEdgeDistances, AddShortestPathHops

__all__ = [
    "AddCentrality",
    "AddEdgeDistances",
    "AddShortestPathHops",
    "DATASETS",
    "PointTable",
    "Protocol",
    "Regions",
    "StandardScaler",
    "TemporalSignal",
    "WindowDataset",
    "centroids",
    "contiguity_pairs",
    "diffusion_signal",
    "distance_edge_graph",
    "gaussian_graph",
    "get_spec",
    "knn_graph",
    "load_dataset",
    "load_dataset_graph",
    "load_graph",
    "matrix_graph",
    "pairs_graph",
    "radius_graph",
    "read_edge_list",
    "read_matrix",
    "read_point_table",
    "read_regions",
    "region_data",
    "save_graph",
    "synthetic_regions",
]
