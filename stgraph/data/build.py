"""One entry point from a user's file to a graph: what ``stgraph build-graph`` runs.

:func:`build_graph` detects what the input is (``input_kind="auto"``):

* ``.shp`` / GeoJSON polygons → regions: centroids and queen contiguity (or a kNN/radius/
  Gaussian graph over the centroids when one of those options is given);
* GeoJSON points or a CSV point table → a ``--knn``, ``--radius`` or ``--gaussian`` graph;
* a CSV with ``from,to`` columns, or any CSV given with ``--ids`` → a road-distance edge list
  (``--gaussian`` turns distances into DCRNN's thresholded kernel);
* ``.npy`` / ``.npz`` / ``.pkl`` → an adjacency matrix, or with ``od=True`` (any matrix format,
  CSV included) an origin–destination flow matrix.

Then it adds the requested spatial priors (centrality, shortest-path hops).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from torch_geometric.data import Data

from stgraph.data.graph_building import (
    distance_edge_graph,
    gaussian_graph,
    knn_graph,
    matrix_graph,
    pairs_graph,
    radius_graph,
)
from stgraph.data.polygons import centroids, contiguity_pairs, read_regions
from stgraph.data.tables import (
    PointTable,
    read_csv_rows,
    read_edge_list,
    read_geojson_features,
    read_matrix,
    read_node_order,
    read_point_table,
    require_file,
    split_header,
)
from stgraph.data.transforms import AddCentrality, AddShortestPathHops
from stgraph.errors import InputError

INPUT_KINDS = ("auto", "points", "edges", "matrix", "od", "polygons")
DEFAULT_THRESHOLD = 0.1
"""DCRNN's ``normalized_k``."""


@dataclass
class BuildOptions:
    """Options of :func:`build_graph` (the CLI flags of ``stgraph build-graph``).

    Attributes:
        input_kind: one of :data:`INPUT_KINDS` (default: ``"auto"``).
        ids: file giving the node order (ids or a point table) (default: ``None``).
        knn: ``K`` of a kNN graph (default: ``None``).
        radius: radius of a radius graph, km for lat/lon (default: ``None``).
        gaussian: thresholded Gaussian kernel graph (default: ``False``).
        threshold: kernel threshold ε (default: ``None``, meaning 0.1 with ``gaussian``).
        sigma: kernel width; ``None`` = std of the distances (default: ``None``).
        od: the matrix is an OD flow matrix (default: ``False``).
        id_col, lat_col, lon_col, x_col, y_col: column names (default: detected).
        centrality: measures to add (default: none).
        max_hops: add shortest-path hops up to this many (default: ``None``).
    """

    input_kind: str = "auto"
    ids: Path | None = None
    knn: int | None = None
    radius: float | None = None
    gaussian: bool = False
    threshold: float | None = None
    sigma: float | None = None
    od: bool = False
    id_col: str | None = None
    lat_col: str | None = None
    lon_col: str | None = None
    x_col: str | None = None
    y_col: str | None = None
    centrality: list[str] = field(default_factory=list)
    max_hops: int | None = None


def detect_kind(path: Path, options: BuildOptions) -> str:
    """The input kind of ``path`` (see the module docstring)."""
    if options.input_kind != "auto":
        if options.input_kind not in INPUT_KINDS:
            raise InputError(
                f"unknown input kind '{options.input_kind}'; choose from {', '.join(INPUT_KINDS)}"
            )
        return options.input_kind
    suffix = path.suffix.lower()
    if options.od:
        return "od"
    if suffix == ".shp":
        return "polygons"
    if suffix in (".geojson", ".json"):
        geometry = read_geojson_features(path)[0].get("geometry") or {}
        return "points" if geometry.get("type") == "Point" else "polygons"
    if suffix in (".npy", ".npz", ".pkl", ".pickle"):
        return "matrix"
    if options.knn is not None or options.radius is not None:
        return "points"
    header, _ = split_header(read_csv_rows(path))
    if header is not None and {"from", "to"} <= set(header):
        return "edges"
    return "edges" if options.ids is not None else "points"


def _points(path: Path, options: BuildOptions) -> PointTable:
    """Read a point table with the column names given in ``options``."""
    return read_point_table(
        path,
        id_col=options.id_col,
        lat_col=options.lat_col,
        lon_col=options.lon_col,
        x_col=options.x_col,
        y_col=options.y_col,
    )


def _node_order(options: BuildOptions) -> tuple[list[str] | None, PointTable | None]:
    """Ids (and coordinates, when the ids file is a point table) from ``options.ids``."""
    if options.ids is None:
        return None, None
    return read_node_order(
        options.ids,
        id_col=options.id_col,
        lat_col=options.lat_col,
        lon_col=options.lon_col,
        x_col=options.x_col,
        y_col=options.y_col,
    )


def _reorder(points: PointTable, ids: list[str]) -> PointTable:
    index = {node: i for i, node in enumerate(points.ids)}
    missing = [node for node in ids if node not in index]
    if missing:
        raise InputError(f"node id '{missing[0]}' has no coordinates in the ids file")
    order = [index[node] for node in ids]
    return PointTable(list(ids), points.coords[order], points.coord_system)


def _point_graph(points: PointTable, options: BuildOptions, notes: list[str]) -> Data:
    chosen = [
        name
        for name, on in (
            ("--knn", options.knn is not None),
            ("--radius", options.radius is not None),
            ("--gaussian", options.gaussian),
        )
        if on
    ]
    if len(chosen) != 1:
        raise InputError(
            "choose exactly one of --knn K, --radius KM or --gaussian for a "
            f"point table (got {', '.join(chosen) or 'none'})"
        )
    if options.knn is not None:
        return knn_graph(points, options.knn)
    if options.radius is not None:
        return radius_graph(points, options.radius)
    data = gaussian_graph(points, options.threshold or DEFAULT_THRESHOLD, options.sigma)
    if not data.gaussian_sigma_exact:
        notes.append(
            f"kernel width sigma={data.gaussian_sigma:.6g} estimated from random pairs "
            f"({len(points)} points is too many to use every pair)"
        )
    return data


def build_graph(path: str | Path, options: BuildOptions) -> tuple[Data, list[str]]:
    """Build the graph described by ``options`` from ``path``; returns ``(data, notes)``."""
    path = require_file(path)
    notes: list[str] = []
    if options.threshold is not None and not options.gaussian:
        raise InputError("--threshold only applies with --gaussian")
    kind = detect_kind(path, options)
    if kind == "points":
        points = _points(path, options)
        data = _point_graph(points, options, notes)
    elif kind == "polygons":
        regions = read_regions(path, options.id_col)
        points = PointTable(regions.ids, centroids(regions), "lonlat")
        if options.knn is None and options.radius is None and not options.gaussian:
            data = pairs_graph(contiguity_pairs(regions), points)
            notes.append("edges: queen contiguity (regions sharing a boundary vertex)")
        else:
            data = _point_graph(points, options, notes)
    elif kind == "edges":
        ids, points = _node_order(options)
        if points is not None:
            points = _reorder(points, ids)
        data, skipped = distance_edge_graph(
            read_edge_list(path),
            ids,
            points,
            (options.threshold or DEFAULT_THRESHOLD) if options.gaussian else None,
        )
        if skipped:
            notes.append(f"skipped {skipped} rows whose nodes are not in the ids file")
    else:
        matrix, matrix_ids = read_matrix(path)
        ids, points = _node_order(options)
        ids = matrix_ids or ids
        if points is not None:
            points = _reorder(points, ids)
        data = matrix_graph(matrix, ids, what="OD" if kind == "od" else "adjacency", points=points)
    if options.centrality:
        data = AddCentrality(options.centrality)(data)
        if data.centrality_sampled:
            notes.append(
                "betweenness/closeness estimated from 256 sampled sources "
                "(graph has more than 2,000 nodes)"
            )
    if options.max_hops is not None:
        data = AddShortestPathHops(options.max_hops)(data)
    isolated = data.num_nodes - int(np.unique(data.edge_index.numpy()).size)
    if isolated:
        notes.append(f"{isolated} node(s) have no edge")
    return data, notes
