"""The catalogue of built-in datasets.

Each :class:`DatasetSpec` names the files a dataset needs (relative to the data directory, see
:mod:`stgraph.data.paths`), the shapes its loader returns, and how to load it. Sensor datasets
whose readings are published elsewhere (METR-LA, PEMS-BAY, PEMS04, PEMS08) list those readings
separately: their graph loads without them.

>>> signal = load_dataset("los-loop")          # TemporalSignal, [2016, 207, 1]
>>> chicago = load_dataset("chicago")          # region Data
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from torch_geometric.data import Data

from stgraph.data.datasets import cities, grids, sensors, series
from stgraph.data.paths import resolve_data_dir
from stgraph.data.synthetic import diffusion_signal
from stgraph.data.temporal import TemporalSignal
from stgraph.data.temporal_folder import load_temporal_folder
from stgraph.errors import InputError


@dataclass(frozen=True)
class DatasetSpec:
    """One built-in dataset.

    Attributes:
        name: registry name (lower case, dashes).
        kind: ``sensors``, ``grid``, ``series`` or ``regions``.
        summary: one line on what it is.
        shape: what the loader returns, e.g. ``"2016 steps x 207 nodes x 1"``.
        files: files that must be present, relative to the data directory.
        loader: ``loader(root)`` returns a :class:`TemporalSignal` or a region ``Data``.
        readings: files of readings published elsewhere (via the recipe); empty when ``files``
            already hold everything.
        graph_loader: ``graph_loader(root)`` loads the graph alone, for datasets with ``readings``.
    """

    name: str
    kind: str
    summary: str
    shape: str
    files: tuple[str, ...]
    loader: Callable[[Path], TemporalSignal | Data]
    readings: tuple[str, ...] = ()
    graph_loader: Callable[[Path], Data] | None = None

    def status(self, root: Path) -> str:
        """``present``, ``graph only`` (readings missing) or ``missing``."""
        if not all((root / f).exists() for f in self.files):
            return "missing"
        if not all((root / f).exists() for f in self.readings):
            return "graph only"
        return "present"

    def size_bytes(self, root: Path) -> int:
        """Bytes on disk of the files that are present."""
        return sum(
            (root / f).stat().st_size for f in self.files + self.readings if (root / f).exists()
        )


COMPLAINT_FILES = tuple(f"promptst_nyc_complaints/complaint19_3h{k}.npy" for k in range(19)) + (
    "promptst_nyc_complaints/adj_complaint_fullconn.npy",
)
CITY_FILES = (
    "poi_dist",
    "landUse_dist",
    "mob_dist",
    "mob-adj",
    "poi_simi",
    "landUse_simi",
    "crime_counts",
    "check_counts",
    "serviceCall_counts",
)

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        DatasetSpec(
            "los-loop",
            "sensors",
            "T-GCN Los-loop: METR-LA's 207 sensors, speeds 1-7 Mar 2012, 5 min",
            "2016 steps x 207 nodes x 1",
            (
                "los_loop/los_speed.csv",
                "los_loop/los_adj.csv",
                "metr_la/graph_sensor_locations.csv",
            ),
            sensors.load_los_loop,
        ),
        DatasetSpec(
            "metr-la",
            "sensors",
            "METR-LA, 207 Los Angeles loop detectors, 5 min (DCRNN)",
            "34272 steps x 207 nodes x 1 (graph: 207 nodes, 1722 edges)",
            ("metr_la/adj_mx.pkl", "metr_la/graph_sensor_locations.csv"),
            sensors.load_metr_la,
            ("metr_la/metr-la.h5",),
            sensors.metr_la_graph,
        ),
        DatasetSpec(
            "pems-bay",
            "sensors",
            "PEMS-BAY, 325 Bay Area sensors, 5 min (DCRNN)",
            "52116 steps x 325 nodes x 1 (graph: 325 nodes, 2694 edges)",
            (
                "pems_bay/adj_mx_bay.pkl",
                "pems_bay/graph_sensor_locations_bay.csv",
                "pems_bay/distances_bay_2017.csv",
            ),
            sensors.load_pems_bay,
            ("pems_bay/pems-bay.h5",),
            sensors.pems_bay_graph,
        ),
        DatasetSpec(
            "pems04",
            "sensors",
            "PEMS04 flow/occupancy/speed, 307 sensors, 5 min (ASTGCN)",
            "16992 steps x 307 nodes x 3 (graph: 307 nodes, 340 edges)",
            ("pems04_graph/distance.csv",),
            sensors.load_pems04,
            ("pems04_graph/pems04.npz",),
            sensors.pems04_graph,
        ),
        DatasetSpec(
            "pems08",
            "sensors",
            "PEMS08 flow/occupancy/speed, 170 sensors, 5 min (ASTGCN)",
            "17856 steps x 170 nodes x 3 (graph: 170 nodes, 277 edges)",
            ("pems08_graph/distance.csv",),
            sensors.load_pems08,
            ("pems08_graph/pems08.npz",),
            sensors.pems08_graph,
        ),
        DatasetSpec(
            "chickenpox",
            "sensors",
            "Weekly chickenpox cases, 20 Hungarian counties (PGT)",
            "521 steps x 20 nodes x 1",
            ("pyg_temporal_small/chickenpox.json",),
            sensors.load_chickenpox,
        ),
        DatasetSpec(
            "pedalme",
            "sensors",
            "Weekly PedalMe deliveries, 15 London localities (PGT)",
            "35 steps x 15 nodes x 1",
            ("pyg_temporal_small/pedalme_london.json",),
            sensors.load_pedalme,
        ),
        DatasetSpec(
            "nyc-complaints",
            "grid",
            "PromptST NYC 311 complaints, 19 types, 3 h steps",
            "5840 steps x 64 nodes x 19",
            COMPLAINT_FILES,
            grids.load_nyc_complaints,
        ),
        DatasetSpec(
            "chicago-crime",
            "grid",
            "STHSL Chicago crime, 4 types, 14x12 grid, daily 2016-17",
            "731 steps x 168 nodes x 4",
            tuple(f"sthsl_crime_nyc_chi/CHI/{p}.pkl" for p in ("trn", "val", "tst")),
            grids.load_chicago_crime,
        ),
        DatasetSpec(
            "nyc-crime",
            "grid",
            "NYC crime, 4 types, 16x16 grid, daily 2014-15 (from records)",
            "730 steps x 256 nodes x 4",
            ("sthsl_crime_nyc_chi/NYC/NYC_Crime.csv",),
            grids.load_nyc_crime,
        ),
        *[
            DatasetSpec(
                name,
                "grid",
                f"ST-SSL {folder} in/out flows, {r}x{c} grid, "
                f"{'1 h' if spd == 24 else '30 min'} steps "
                f"(stored {'+'.join(parts)} stretch only)",
                {"nyc-flows-bike1": "1299", "nyc-flows-bike2": "828", "nyc-flows-taxi": "282"}[name]
                + f" steps x {r * c} nodes x 2",
                tuple(f"stssl_nyc_grid_flows/{folder}/{p}.npz" for p in (*parts, "adj_mx")),
                partial(grids.load_nyc_flows, name=name),
            )
            for name, (folder, (r, c), spd, parts) in grids.FLOW_VARIANTS.items()
        ],
        DatasetSpec(
            "etth1",
            "series",
            "ETTh1 transformer loads and oil temperature, hourly",
            "17420 steps x 7 nodes x 1",
            ("ett/ETTh1.csv",),
            partial(series.load_ett, name="etth1"),
        ),
        DatasetSpec(
            "etth2",
            "series",
            "ETTh2 transformer loads and oil temperature, hourly",
            "17420 steps x 7 nodes x 1",
            ("ett/ETTh2.csv",),
            partial(series.load_ett, name="etth2"),
        ),
        DatasetSpec(
            "synthetic",
            "sensors",
            "offline demo: planted diffusion on a kNN graph, daily period (generated)",
            "1008 steps x 40 nodes x 1",
            (),
            lambda root: diffusion_signal(),
        ),
        DatasetSpec(
            "chicago",
            "regions",
            "Chicago's 77 community areas: POI/land-use/mobility, 3 labels",
            "77 regions; views 26/12/77",
            tuple(f"hafusion_urban_regions/Chi/{f}.npy" for f in CITY_FILES)
            + ("topt_prompt4re_chicago/prompt_data.json",),
            cities.load_chicago,
        ),
        DatasetSpec(
            "nyc",
            "regions",
            "Manhattan's 180 regions: POI/land-use/mobility, 3 labels, polygons",
            "180 regions; views 26/11/180",
            tuple(f"hafusion_urban_regions/NY/{f}.npy" for f in CITY_FILES)
            + tuple(f"mgfn_nyc_manhattan/mh-180/mh-180.{e}" for e in ("shp", "shx", "dbf")),
            cities.load_nyc,
        ),
    ]
}


def get_spec(name: str) -> DatasetSpec:
    """The spec of the built-in dataset ``name``, or of the temporal folder at path ``name``
    (:mod:`stgraph.data.temporal_folder`); else an :class:`InputError` listing the known
    datasets. A built-in name wins over a folder of the same name."""
    if name in DATASETS:
        return DATASETS[name]
    if Path(name).is_dir():
        return DatasetSpec(
            name,
            "sensors",
            "temporal folder",
            "",
            (),
            lambda root: load_temporal_folder(name),
        )
    raise InputError(
        f"unknown dataset '{name}'; known datasets: {', '.join(DATASETS)}, or the path of a "
        "temporal folder (readings.csv or readings.npy, graph.pt or nodes.csv)"
    )


def dataset_label(name: str) -> str:
    """How results and checkpoint folders name the dataset: the registry name, or a temporal
    folder's own name."""
    return name if name in DATASETS else Path(name).name


def load_dataset(name: str, data_dir: str | Path | None = None) -> TemporalSignal | Data:
    """Load a built-in dataset from the data directory, or a temporal folder by path."""
    return get_spec(name).loader(resolve_data_dir(data_dir))


def load_dataset_graph(name: str, data_dir: str | Path | None = None) -> Data:
    """The static graph of a temporal dataset (also when its readings are not present)."""
    spec = get_spec(name)
    root = resolve_data_dir(data_dir)
    if spec.kind == "regions":
        return spec.loader(root)
    if spec.graph_loader is not None:
        return spec.graph_loader(root)
    return spec.loader(root).graph
