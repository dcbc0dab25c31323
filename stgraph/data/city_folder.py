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
      tasks.json                per-task settings, e.g. {"check_in": {"drop_zero_labels": true}}
                                when a zero label means "not observed": those regions are left
                                out of evaluating that task; optional

Every array's first dimension is the number of regions ``N`` and row ``i`` is region ``i``
everywhere; every value must be finite. Without ``coords.csv`` there are no distances: models
fall back to hop counts on the mobility or contiguity graph (and say so).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from torch_geometric.data import Data

from stgraph.data.regions import region_data
from stgraph.data.tables import read_csv_rows, read_point_table, split_header
from stgraph.errors import InputError


def _load(path: Path, what: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise InputError(f"cannot read {what} file {path}") from err


def _arrays(folder: Path, what: str) -> dict[str, np.ndarray]:
    return {path.stem: _load(path, what) for path in sorted(folder.glob("*.npy"))}


def _drop_zero_tasks(path: Path) -> tuple[str, ...]:
    """Tasks flagged ``drop_zero_labels`` in ``tasks.json`` (none when the file is absent)."""
    if not path.exists():
        return ()
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise InputError(f"cannot read {path}: not a JSON object of task settings") from err
    if not isinstance(settings, dict) or not all(isinstance(v, dict) for v in settings.values()):
        raise InputError(f"{path} must map each task to its settings, e.g. " + TASKS_EXAMPLE)
    for task, values in settings.items():
        unknown = set(values) - {"drop_zero_labels"}
        if unknown:
            raise InputError(f"{path}: unknown setting '{sorted(unknown)[0]}' for task '{task}'")
    return tuple(task for task, values in settings.items() if values.get("drop_zero_labels"))


TASKS_EXAMPLE = '{"check_in": {"drop_zero_labels": true}}'


def load_city(city: str | Path, data_dir: Path | None = None) -> Data:
    """A built-in city by name (``chicago``, ``nyc``) or a city folder by path."""
    from stgraph.data.registry import DATASETS, load_dataset

    if Path(city).is_dir():
        return load_city_folder(city)
    known = [name for name, spec in DATASETS.items() if spec.kind == "regions"]
    if city not in known:
        raise InputError(
            f"unknown city '{city}'; known cities: {', '.join(known)}, or the path of a city "
            "folder with views/*.npy and labels/*.npy"
        )
    return load_dataset(str(city), data_dir)


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
    mobility = (
        _load(root / "mobility.npy", "mobility") if (root / "mobility.npy").exists() else None
    )
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
        drop_zero_tasks=_drop_zero_tasks(root / "tasks.json"),
    )
