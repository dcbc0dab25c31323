"""Region polygons from ESRI shapefiles or GeoJSON: centroids and contiguity.

The shapefile reader is self-contained (polygon shapes of type 5/15/25 and the ``.dbf`` attribute
table), so no GIS package is needed. Coordinates are expected in WGS 84 degrees (lon, lat).

*Centroid*: the area-weighted centroid of all rings of a region, computed in the lon/lat plane,
which is accurate to well under a metre for city-sized regions.

*Contiguity* ("queen"): two regions are neighbours when their boundaries share at least one
vertex after snapping coordinates to ``decimals`` places (default 7, about 1 cm). Partitions
cut from one map, such as census or taxi zones, share their boundary vertices exactly.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stgraph.data.tables import feature_id, read_geojson_features, require_file
from stgraph.errors import InputError

POLYGON_SHAPE_TYPES = (5, 15, 25)


@dataclass
class Regions:
    """Polygonal regions: ids and, per region, a list of rings (``[k, 2]`` lon/lat arrays)."""

    ids: list[str]
    rings: list[list[np.ndarray]]

    def __len__(self) -> int:
        return len(self.ids)


def read_regions(path: str | Path, id_col: str | None = None) -> Regions:
    """Read polygons from ``.shp`` (with its ``.dbf``) or GeoJSON (Polygon/MultiPolygon)."""
    path = require_file(path)
    if path.suffix.lower() == ".shp":
        rings = _read_shp_rings(path)
        records = _read_dbf(path.with_suffix(".dbf")) if path.with_suffix(".dbf").exists() else []
        ids = _ids_from_records(records, len(rings), id_col, path)
    else:
        rings, ids = [], []
        for i, feature in enumerate(read_geojson_features(path)):
            geometry = feature.get("geometry") or {}
            kind = geometry.get("type")
            if kind == "Polygon":
                polygons = [geometry["coordinates"]]
            elif kind == "MultiPolygon":
                polygons = geometry["coordinates"]
            else:
                raise InputError(
                    f"{path}: feature {i} is a {kind}, expected Polygon or MultiPolygon"
                )
            rings.append(
                [np.asarray(r, dtype=np.float64)[:, :2] for poly in polygons for r in poly]
            )
            ids.append(feature_id(feature, i, id_col))
    if len(set(ids)) != len(ids):
        raise InputError(f"{path}: region ids are not unique")
    return Regions(ids=ids, rings=rings)


def _read_shp_rings(path: Path) -> list[list[np.ndarray]]:
    data = path.read_bytes()
    if len(data) < 100 or struct.unpack(">i", data[:4])[0] != 9994:
        raise InputError(f"{path} is not an ESRI shapefile")
    offset, regions = 100, []
    while offset + 8 <= len(data):
        _, words = struct.unpack(">2i", data[offset : offset + 8])
        record = data[offset + 8 : offset + 8 + 2 * words]
        offset += 8 + 2 * words
        shape_type = struct.unpack("<i", record[:4])[0]
        if shape_type not in POLYGON_SHAPE_TYPES:
            raise InputError(f"{path}: shape type {shape_type} is not a polygon")
        n_parts, n_points = struct.unpack("<2i", record[36:44])
        starts = list(struct.unpack(f"<{n_parts}i", record[44 : 44 + 4 * n_parts])) + [n_points]
        begin = 44 + 4 * n_parts
        points = np.frombuffer(record[begin : begin + 16 * n_points], dtype="<f8").reshape(-1, 2)
        regions.append([points[a:b].copy() for a, b in zip(starts[:-1], starts[1:], strict=True)])
    if not regions:
        raise InputError(f"{path} holds no shapes")
    return regions


def _read_dbf(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields, pos = [], 32
    while data[pos] != 0x0D:
        name = data[pos : pos + 11].split(b"\0", 1)[0].decode("ascii").lower()
        fields.append((name, data[pos + 16]))
        pos += 32
    records = []
    for i in range(n_records):
        raw = data[header_len + i * record_len : header_len + (i + 1) * record_len]
        cursor, record = 1, {}
        for name, width in fields:
            record[name] = raw[cursor : cursor + width].decode("utf-8", "replace").strip()
            cursor += width
        records.append(record)
    return records


def _ids_from_records(
    records: list[dict[str, str]], count: int, id_col: str | None, path: Path
) -> list[str]:
    if id_col is not None:
        if not records or id_col.lower() not in records[0]:
            raise InputError(f"{path}: no attribute '{id_col}' in the .dbf table")
        return [r[id_col.lower()] for r in records]
    for name in ("region_id", "id", "name"):
        if records and name in records[0]:
            return [r[name] for r in records]
    return [str(i) for i in range(count)]


def ring_area_centroid(ring: np.ndarray) -> tuple[float, float, float]:
    """Signed shoelace area and centroid ``(area, cx, cy)`` of one closed or open ring."""
    x, y = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    area = cross.sum() / 2.0
    if abs(area) < 1e-18:
        return 0.0, float(x.mean()), float(y.mean())
    cx = ((x + x1) * cross).sum() / (6.0 * area)
    cy = ((y + y1) * cross).sum() / (6.0 * area)
    return float(area), float(cx), float(cy)


def centroids(regions: Regions) -> np.ndarray:
    """Area-weighted centroid of each region, ``[N, 2]`` as (lon, lat)."""
    out = np.empty((len(regions), 2))
    for i, rings in enumerate(regions.rings):
        parts = np.array([ring_area_centroid(r) for r in rings])
        weights = parts[:, 0]
        if np.abs(weights).sum() == 0:
            out[i] = np.concatenate(rings).mean(axis=0)
        else:
            out[i] = (weights[:, None] * parts[:, 1:]).sum(0) / weights.sum()
    return out


def contiguity_pairs(regions: Regions, decimals: int = 7) -> np.ndarray:
    """Unordered neighbour pairs ``[P, 2]`` (i < j) of regions that share a boundary vertex."""
    owners: dict[tuple[float, float], set[int]] = defaultdict(set)
    for i, rings in enumerate(regions.rings):
        for ring in rings:
            for vertex in map(tuple, np.round(ring, decimals)):
                owners[vertex].add(i)
    pairs = {
        (a, b) for group in owners.values() if len(group) > 1 for a in group for b in group if a < b
    }
    return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
