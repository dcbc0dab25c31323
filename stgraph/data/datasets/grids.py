"""Multi-attribute grid and region series: nyc-complaints, chicago-crime, nyc-crime, nyc-flows."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from stgraph.data.correlation_graph import correlation_graph
from stgraph.data.datasets.common import (
    grid_graph,
    load_numpy_pickle,
    need,
    recipe_protocol,
    regular_timestamps,
)
from stgraph.data.graph_building import matrix_graph
from stgraph.data.temporal import TemporalSignal
from stgraph.errors import InputError

COMPLAINT_TYPES = 19


def load_nyc_complaints(root: Path) -> TemporalSignal:
    """PromptST's NYC complaints: 19 complaint types x 64 regions x 5840 three-hour steps.

    Zeros are true zero counts (not missing). The split follows PromptST's ``utils.py``: the
    last 1168 windows are test and the 584 before them validation. The start date is not
    published, so the calendar is relative (step 0 = Monday 00:00).

    The published adjacency is all ones and the regions have no coordinates, so the graph is
    the kNN graph (k = 8) of the regions' training-step correlations, summed over the 19
    types (:func:`~stgraph.data.correlation_graph.correlation_graph`; validation and test
    steps never shape it).
    """
    parts = [
        np.load(need(root, f"promptst_nyc_complaints/complaint19_3h{k}.npy", "nyc-complaints"))
        for k in range(COMPLAINT_TYPES)
    ]
    signal = torch.as_tensor(np.stack(parts, axis=-1), dtype=torch.float32)
    adjacency = np.load(
        need(root, "promptst_nyc_complaints/adj_complaint_fullconn.npy", "nyc-complaints")
    )
    published = TemporalSignal(
        "nyc-complaints",
        signal,
        torch.ones_like(signal, dtype=torch.bool),
        matrix_graph(adjacency),
        recipe_protocol("nyc-complaints"),
        feature_names=[f"complaint_{k}" for k in range(COMPLAINT_TYPES)],
    )
    return replace(published, graph=correlation_graph(published))


CHICAGO_TYPES = ["theft", "battery", "assault", "criminal_damage"]
NYC_TYPES = ["burglary", "grand_larceny", "robbery", "felony_assault"]
NYC_OFFENSES = ["BURGLARY", "GRAND LARCENY", "ROBBERY", "FELONY ASSAULT"]
NYC_GRID = (16, 16)
NYC_DAYS = 730


def _grid_signal(cube: np.ndarray) -> torch.Tensor:
    rows, cols, days, types = cube.shape
    return torch.as_tensor(
        cube.transpose(2, 0, 1, 3).reshape(days, rows * cols, types), dtype=torch.float32
    )


def load_chicago_crime(root: Path) -> TemporalSignal:
    """Daily crime counts of 4 types on STHSL's 14 x 12 Chicago grid, 2016-01-01 .. 2017-12-31.

    STHSL's train (609 days), validation (30) and test (92) tensors are concatenated in time;
    the protocol's split reproduces them exactly.
    """
    cube = np.concatenate(
        [
            load_numpy_pickle(need(root, f"sthsl_crime_nyc_chi/CHI/{part}.pkl", "chicago-crime"))
            for part in ("trn", "val", "tst")
        ],
        axis=2,
    )
    signal = _grid_signal(cube)
    graph = grid_graph(cube.shape[0], cube.shape[1])
    stamps = regular_timestamps("2016-01-01", signal.size(0), 86_400)
    return TemporalSignal(
        "chicago-crime",
        signal,
        torch.ones_like(signal, dtype=torch.bool),
        graph,
        recipe_protocol("chicago-crime"),
        stamps,
        CHICAGO_TYPES,
    )


def nyc_crime_cube(csv_path: Path) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Bin NYC crime records into ``(16, 16, 730, 4)`` daily counts.

    Rows are latitude bins (south to north) and columns longitude bins (west to east) of equal
    size over the bounding box of all records; days run from 2014-01-01. Returns the cube and
    the box ``(lat_min, lat_max, lon_min, lon_max)``.
    """
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        columns = {name.strip().lower(): i for i, name in enumerate(header)}
        rows = list(reader)
    try:
        date_col, offense_col = columns["occurrence date"], columns["offense"]
        lat_col, lon_col = columns["latitude"], columns["longitude"]
    except KeyError as err:
        raise InputError(f"{csv_path}: missing column {err}") from err
    months = np.array([int(r[date_col][0:2]) for r in rows])
    days = np.array([int(r[date_col][3:5]) for r in rows])
    years = np.array([int(r[date_col][6:10]) for r in rows])
    dates = (
        np.array(
            [f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in zip(years, months, days, strict=True)],
            dtype="datetime64[D]",
        )
        - np.datetime64("2014-01-01")
    ).astype(np.int64)
    offense = np.array(
        [NYC_OFFENSES.index(r[offense_col]) if r[offense_col] in NYC_OFFENSES else -1 for r in rows]
    )
    lat = np.array([float(r[lat_col]) for r in rows])
    lon = np.array([float(r[lon_col]) for r in rows])
    box = (lat.min(), lat.max(), lon.min(), lon.max())
    rows_n, cols_n = NYC_GRID
    r = np.minimum(((lat - box[0]) / (box[1] - box[0]) * rows_n).astype(int), rows_n - 1)
    c = np.minimum(((lon - box[2]) / (box[3] - box[2]) * cols_n).astype(int), cols_n - 1)
    keep = (offense >= 0) & (dates >= 0) & (dates < NYC_DAYS)
    cube = np.zeros((rows_n, cols_n, NYC_DAYS, len(NYC_OFFENSES)))
    np.add.at(cube, (r[keep], c[keep], dates[keep], offense[keep]), 1.0)
    return cube, box


def load_nyc_crime(root: Path) -> TemporalSignal:
    """Daily counts of 4 crime types on a 16 x 16 NYC grid, 2014-01-01 .. 2015-12-31 (730 days).

    Rebuilt from the 191,580 raw records so that every day exists (the released training tensor
    is not available). Day-by-type totals of September and October-December 2015 equal the
    released validation and test tensors; the grid is an equal-size lat/lon binning of the
    records' bounding box and does not reproduce the released cell assignment.
    """
    cube, box = nyc_crime_cube(need(root, "sthsl_crime_nyc_chi/NYC/NYC_Crime.csv", "nyc-crime"))
    signal = _grid_signal(cube)
    graph = grid_graph(*NYC_GRID)
    graph.bounding_box = box
    stamps = regular_timestamps("2014-01-01", signal.size(0), 86_400)
    return TemporalSignal(
        "nyc-crime",
        signal,
        torch.ones_like(signal, dtype=torch.bool),
        graph,
        recipe_protocol("nyc-crime"),
        stamps,
        NYC_TYPES,
    )


FLOW_VARIANTS = {
    "nyc-flows-bike1": ("NYCBike1", (16, 8), 24, ("val", "test")),
    "nyc-flows-bike2": ("NYCBike2", (10, 20), 48, ("val", "test")),
    "nyc-flows-taxi": ("NYCTaxi", (10, 20), 48, ("val",)),
}


def load_nyc_flows(root: Path, name: str) -> TemporalSignal:
    """Grid in/out flows rebuilt as one contiguous series from ST-SSL's stored windows.

    Only the validation and test windows were published in a form available here, so the series
    covers the last ~30 % of the original timeline: the last contiguous input steps of the first
    window followed by every window's one-step target. A fresh 7:1:2 chronological split is
    applied to that stretch. The calendar is relative (the original dates are not stored).
    """
    folder, (rows, cols), steps_per_day, parts = FLOW_VARIANTS[name]
    series = []
    for i, part in enumerate(parts):
        with np.load(need(root, f"stssl_nyc_grid_flows/{folder}/{part}.npz", name)) as archive:
            x, y, offsets = archive["x"], archive["y"], archive["x_offsets"].ravel()
        if i == 0:
            contiguous = 1
            while (
                contiguous < len(offsets) and offsets[-contiguous - 1] == offsets[-contiguous] - 1
            ):
                contiguous += 1
            series.append(x[0, -contiguous:])
        series.append(y[:, 0])
    signal = torch.as_tensor(np.concatenate(series), dtype=torch.float32)
    with np.load(need(root, f"stssl_nyc_grid_flows/{folder}/adj_mx.npz", name)) as archive:
        adjacency = archive["adj_mx"]
    graph: Data = matrix_graph(adjacency)
    r, c = np.divmod(np.arange(rows * cols), cols)
    graph.pos = torch.as_tensor(np.stack([c, r], 1), dtype=torch.float64)
    graph.coord_system = "xy"
    graph.grid_shape = (rows, cols)
    return TemporalSignal(
        name,
        signal,
        torch.ones_like(signal, dtype=torch.bool),
        graph,
        recipe_protocol(name),
        feature_names=["inflow", "outflow"],
    )
