"""Bring your own city: region data from a folder in a documented canonical layout.

::

    my_city/
      views/<view>.npy          one [N, D] array per view (e.g. poi.npy, landuse.npy); required
      labels/<task>.npy         one [N] array per task (e.g. crime.npy); required for evaluation
      mobility.npy              [N, N] origin-destination trips (row = origin); optional
      similarity/<name>.npy     [N, N] similarity matrices, e.g. poi.npy, landuse.npy; optional
      coords.csv                region coordinates, columns id,lat,lon (N rows, file order =
                                region order); optional
      contiguity.csv            neighbouring regions, columns from,to (0-based); optional

Every array's first dimension is the number of regions ``N`` and row ``i`` is region ``i``
everywhere. Without ``coords.csv`` there are no distances: models fall back to hop counts on
the mobility or contiguity graph (and say so).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch_geometric.data import Data

from stgraph.data.regions import region_data
from stgraph.data.tables import read_csv_rows, read_point_table, split_header
from stgraph.errors import InputError


def _arrays(folder: Path, what: str) -> dict[str, np.ndarray]:
    out = {}
    for path in sorted(folder.glob("*.npy")):
        try:
            out[path.stem] = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise InputError(f"cannot read {what} file {path}") from err
    return out


def load_city_folder(path: str | Path) -> Data:
    """Load a city folder (see the module docstring) as region :class:`Data`."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"city folder not found: {root}")
    if not (root / "views").is_dir():
        raise InputError(
            f"{root} has no views/ folder (see `stgraph bench --help` for the city folder layout)"
        )
    views = _arrays(root / "views", "view")
    if not views:
        raise InputError(f"{root / 'views'} holds no .npy view file")
    labels = (
        {k: v.reshape(-1) for k, v in _arrays(root / "labels", "label").items()}
        if (root / "labels").is_dir()
        else {}
    )
    n = next(iter(views.values())).shape[0]
    for name, value in labels.items():
        if value.shape[0] != n:
            raise InputError(
                f"label '{name}' has {value.shape[0]} values but the views have {n} regions"
            )
    mobility = np.load(root / "mobility.npy") if (root / "mobility.npy").exists() else None
    matrices = (
        {f"{k}_similarity": v for k, v in _arrays(root / "similarity", "similarity").items()}
        if (root / "similarity").is_dir()
        else {}
    )
    lonlat, ids = None, None
    if (root / "coords.csv").exists():
        points = read_point_table(root / "coords.csv")
        if points.coord_system != "lonlat" or len(points) != n:
            raise InputError(f"{root / 'coords.csv'} must give lat/lon for all {n} regions")
        lonlat, ids = points.coords, points.ids
    contiguity = None
    if (root / "contiguity.csv").exists():
        _, rows = split_header(read_csv_rows(root / "contiguity.csv"))
        try:
            pairs = np.array([[int(r[0]), int(r[1])] for r in rows], dtype=np.int64)
        except (ValueError, IndexError) as err:
            raise InputError(f"{root / 'contiguity.csv'} must hold integer from,to pairs") from err
        if pairs.size and (pairs.min() < 0 or pairs.max() >= n):
            raise InputError(f"{root / 'contiguity.csv'} names a region outside 0..{n - 1}")
        contiguity = np.unique(np.sort(pairs, axis=1), axis=0)
    return region_data(
        root.name,
        views,
        labels,
        mobility=mobility,
        lonlat=lonlat,
        contiguity=contiguity,
        matrices=matrices,
        region_ids=ids,
    )
