"""Reading the user's files: point tables, edge lists and matrices.

Every reader raises :class:`~stgraph.errors.InputError` with one sentence naming the file and the
problem, so that the command line can print it and exit with status 2.

Point tables are CSV files (with or without a header) or GeoJSON ``Point`` features. Column names
are matched case-insensitively: ``lat``/``latitude`` and ``lon``/``lng``/``long``/``longitude``
give geographic coordinates, ``x`` and ``y`` projected ones, and ``id``/``sensor_id``/``node_id``/
``region_id``/``name`` the node ids. A headerless table is read as ``id, lat, lon`` when it has
three columns (DCRNN's ``graph_sensor_locations_bay.csv``) and as ``lat, lon`` when it has two.
"""

from __future__ import annotations

import csv
import json
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stgraph.data.geo import validate_lat_lon
from stgraph.errors import InputError

LAT_NAMES = ("lat", "latitude", "centroid_lat")
LON_NAMES = ("lon", "lng", "long", "longitude", "centroid_lon")
X_NAMES = ("x",)
Y_NAMES = ("y",)
ID_NAMES = ("id", "sensor_id", "node_id", "region_id", "name")


@dataclass
class PointTable:
    """Node ids and coordinates read from a file.

    Attributes:
        ids: one string id per node, unique, in file order.
        coords: ``[N, 2]`` float64, ``(lon, lat)`` degrees or ``(x, y)`` projected units.
        coord_system: ``"lonlat"`` or ``"xy"``.
    """

    ids: list[str]
    coords: np.ndarray
    coord_system: str

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class EdgeList:
    """Directed edges with a non-negative distance, as read from a ``from,to,distance`` table."""

    source: list[str]
    target: list[str]
    distance: np.ndarray


def require_file(path: str | Path) -> Path:
    """Return ``path`` as a :class:`Path`, or raise if it is not an existing file."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"file not found: {path}")
    if not path.is_file():
        raise InputError(f"not a file: {path}")
    return path


def read_csv_rows(path: str | Path) -> list[list[str]]:
    """Read a CSV file into rows of stripped strings; raise on empty or unreadable files."""
    path = require_file(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [[c.strip() for c in row] for row in csv.reader(f)]
    except (UnicodeDecodeError, csv.Error) as err:
        raise InputError(
            f"cannot read {path} as a CSV text file ({err.__class__.__name__})"
        ) from err
    rows = [r for r in rows if any(r)]
    if not rows:
        raise InputError(f"{path} is empty")
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def split_header(rows: list[list[str]]) -> tuple[list[str] | None, list[list[str]]]:
    """Return ``(header, data_rows)``; the first row is a header if any cell is not a number."""
    first = rows[0]
    if all(_is_number(c) for c in first if c):
        return None, rows
    return [c.lower() for c in first], rows[1:]


def _find_column(header: list[str], wanted: str | None, names: Sequence[str]) -> int | None:
    if wanted is not None:
        return header.index(wanted.lower()) if wanted.lower() in header else -1
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _numeric_column(rows: list[list[str]], col: int, path: Path, name: str) -> np.ndarray:
    try:
        return np.array([float(r[col]) for r in rows], dtype=np.float64)
    except (ValueError, IndexError) as err:
        raise InputError(f"{path}: column '{name}' holds a missing or non-numeric value") from err


def check_unique_ids(ids: list[str], path: Path | str) -> None:
    """Raise if an id occurs twice, naming the id and both rows."""
    seen: dict[str, int] = {}
    for row, node_id in enumerate(ids):
        if node_id in seen:
            raise InputError(
                f"{path}: duplicate node id '{node_id}' "
                f"(data rows {seen[node_id] + 1} and {row + 1})"
            )
        seen[node_id] = row


def read_point_table(
    path: str | Path,
    *,
    id_col: str | None = None,
    lat_col: str | None = None,
    lon_col: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
) -> PointTable:
    """Read node ids and coordinates from a CSV or GeoJSON file (see the module docstring)."""
    path = require_file(path)
    if path.suffix.lower() in (".geojson", ".json"):
        return _read_geojson_points(path, id_col)
    header, rows = split_header(read_csv_rows(path))
    if not rows:
        raise InputError(f"{path} has a header but no data rows")
    if header is None:
        width = len(rows[0])
        if width not in (2, 3):
            raise InputError(
                f"{path} has no header and {width} columns; expected 'id,lat,lon' or 'lat,lon'"
            )
        id_idx, lat_idx, lon_idx = (0, 1, 2) if width == 3 else (None, 0, 1)
        ids = (
            [r[id_idx] for r in rows] if id_idx is not None else [str(i) for i in range(len(rows))]
        )
        lat = _numeric_column(rows, lat_idx, path, "lat")
        lon = _numeric_column(rows, lon_idx, path, "lon")
        system = "lonlat"
    else:
        lat_idx = _find_column(header, lat_col, LAT_NAMES)
        lon_idx = _find_column(header, lon_col, LON_NAMES)
        x_idx = _find_column(header, x_col, X_NAMES)
        y_idx = _find_column(header, y_col, Y_NAMES)
        id_idx = _find_column(header, id_col, ID_NAMES)
        if id_idx == -1:
            raise InputError(f"{path} has no id column '{id_col}' (columns: {', '.join(header)})")
        if lat_idx is not None and lon_idx is not None and lat_idx >= 0 and lon_idx >= 0:
            system = "lonlat"
            lat = _numeric_column(rows, lat_idx, path, header[lat_idx])
            lon = _numeric_column(rows, lon_idx, path, header[lon_idx])
        elif x_idx is not None and y_idx is not None and x_idx >= 0 and y_idx >= 0:
            system = "xy"
            lon = _numeric_column(rows, x_idx, path, header[x_idx])
            lat = _numeric_column(rows, y_idx, path, header[y_idx])
        else:
            raise InputError(
                f"{path} has no coordinate columns: expected lat/lon or x/y "
                f"(columns: {', '.join(header)}); "
                "name them with --lat-col/--lon-col or --x-col/--y-col"
            )
        ids = (
            [r[id_idx] for r in rows] if id_idx is not None else [str(i) for i in range(len(rows))]
        )
    if system == "lonlat":
        validate_lat_lon(lat, lon, where=str(path))
    else:
        bad = ~(np.isfinite(lat) & np.isfinite(lon))
        if bad.any():
            raise InputError(
                f"{path}: x/y is NaN or infinite in data row {int(np.argmax(bad)) + 1}"
            )
    check_unique_ids(ids, path)
    return PointTable(ids=ids, coords=np.stack([lon, lat], axis=1), coord_system=system)


def _read_geojson_points(path: Path, id_col: str | None) -> PointTable:
    features = read_geojson_features(path)
    ids, lon, lat = [], [], []
    for i, feature in enumerate(features):
        geometry = feature.get("geometry") or {}
        if geometry.get("type") != "Point":
            raise InputError(f"{path}: feature {i} is a {geometry.get('type')}, expected Point")
        x, y = geometry["coordinates"][:2]
        lon.append(float(x))
        lat.append(float(y))
        ids.append(feature_id(feature, i, id_col))
    lat_a, lon_a = np.array(lat), np.array(lon)
    validate_lat_lon(lat_a, lon_a, where=str(path))
    check_unique_ids(ids, path)
    return PointTable(ids=ids, coords=np.stack([lon_a, lat_a], axis=1), coord_system="lonlat")


def read_geojson_features(path: str | Path) -> list[dict]:
    """Return the features of a GeoJSON ``FeatureCollection`` (raise on anything else)."""
    path = require_file(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"cannot read {path} as GeoJSON ({err.__class__.__name__})") from err
    features = doc.get("features") if isinstance(doc, dict) else None
    if not features:
        raise InputError(f"{path} is not a GeoJSON FeatureCollection with features")
    return features


def feature_id(feature: dict, index: int, id_col: str | None) -> str:
    """Id of a GeoJSON feature: ``properties[id_col]``, else its ``id``, else its index."""
    props = feature.get("properties") or {}
    if id_col is not None:
        if id_col not in props:
            raise InputError(f"GeoJSON feature {index} has no property '{id_col}'")
        return str(props[id_col])
    if "id" in feature:
        return str(feature["id"])
    for name in ID_NAMES:
        if name in props:
            return str(props[name])
    return str(index)


def read_node_order(path: str | Path, **columns: str | None) -> tuple[list[str], PointTable | None]:
    """Read the node order from an id list or a point table.

    An id list is a text file with one comma-separated line (DCRNN's ``graph_sensor_ids.txt``)
    or one id per line, or a single-column CSV; it gives ``(ids, None)``. Any other CSV or a
    GeoJSON file is read as a point table (``columns`` name its columns, see
    :func:`read_point_table`) and gives ``(ids, points)``.
    """
    path = require_file(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".geojson", ".json"):
        rows = read_csv_rows(path) if suffix == ".csv" else None
        if rows is not None and len(rows[0]) == 1:
            ids = [r[0] for r in rows]
        else:
            points = read_point_table(path, **columns)
            return points.ids, points
    else:
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            raise InputError(f"{path} is empty")
        sep = "," if "," in text else None
        ids = [t.strip() for t in text.split(sep) if t.strip()]
    check_unique_ids(ids, path)
    return ids, None


def read_edge_list(path: str | Path) -> EdgeList:
    """Read ``from,to,distance`` rows (header optional; ASTGCN's ``cost`` column works too)."""
    path = require_file(path)
    header, rows = split_header(read_csv_rows(path))
    if not rows:
        raise InputError(f"{path} has a header but no data rows")
    if len(rows[0]) < 3:
        raise InputError(f"{path}: an edge list needs three columns 'from,to,distance'")
    distance = _numeric_column(rows, 2, path, header[2] if header else "distance")
    if not np.isfinite(distance).all():
        raise InputError(
            f"{path}: distance is NaN or infinite in data row "
            f"{int(np.argmax(~np.isfinite(distance))) + 1}"
        )
    if (distance < 0).any():
        row = int(np.argmax(distance < 0))
        raise InputError(f"{path}: negative distance {distance[row]:g} in data row {row + 1}")
    return EdgeList(source=[r[0] for r in rows], target=[r[1] for r in rows], distance=distance)


def read_matrix(path: str | Path) -> tuple[np.ndarray, list[str] | None]:
    """Read a 2-D matrix from ``.npy``, ``.npz`` (first array), ``.csv`` or a pickle.

    A DCRNN ``adj_mx.pkl`` (``[sensor_ids, id_to_index, matrix]``) also returns its ids; other
    formats return ``None`` for the ids.
    """
    path = require_file(path)
    suffix = path.suffix.lower()
    ids: list[str] | None = None
    try:
        if suffix == ".npy":
            matrix = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                matrix = archive[archive.files[0]]
        elif suffix in (".pkl", ".pickle"):
            with open(path, "rb") as f:
                obj = pickle.load(f, encoding="latin1")
            if isinstance(obj, (list, tuple)) and len(obj) == 3:
                ids = [str(i) for i in obj[0]]
                matrix = np.asarray(obj[2])
            else:
                matrix = np.asarray(obj)
        else:
            header, rows = split_header(read_csv_rows(path))
            matrix = np.array([[float(c) for c in r] for r in rows], dtype=np.float64)
    except InputError:
        raise
    except Exception as err:  # numpy/pickle raise many types for corrupt files
        raise InputError(f"cannot read a matrix from {path} ({err.__class__.__name__})") from err
    matrix = np.squeeze(np.asarray(matrix, dtype=np.float64))
    if matrix.ndim != 2:
        raise InputError(f"{path}: expected a 2-D matrix, got shape {tuple(matrix.shape)}")
    if not np.isfinite(matrix).all():
        raise InputError(f"{path}: the matrix holds NaN or infinite values")
    return matrix, ids
