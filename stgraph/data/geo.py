r"""Great-circle geometry on the sphere.

Coordinates are WGS 84 degrees. Distances are great-circle (haversine) distances on a sphere of
mean Earth radius :data:`EARTH_RADIUS_KM`. Nearest neighbours by great-circle distance are the
nearest neighbours by chord distance between 3-D unit vectors, because the chord
:math:`c = 2 \sin(\theta / 2)` grows monotonically with the central angle :math:`\theta`;
:func:`unit_vectors` and :func:`arc_to_chord` let a KD-tree answer such queries.
"""

from __future__ import annotations

import numpy as np

from stgraph.errors import InputError

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), in kilometres."""


def validate_lat_lon(lat: np.ndarray, lon: np.ndarray, where: str = "input") -> None:
    """Raise :class:`InputError` for NaN/Inf or out-of-range latitudes and longitudes."""
    for name, values, bound in (("latitude", lat, 90.0), ("longitude", lon, 180.0)):
        bad = ~np.isfinite(values)
        if bad.any():
            raise InputError(
                f"{where}: {name} is NaN or infinite in data row {int(np.argmax(bad)) + 1}"
            )
        out = np.abs(values) > bound
        if out.any():
            row = int(np.argmax(out))
            raise InputError(
                f"{where}: {name} {values[row]:g} in data row {row + 1} "
                f"is outside [-{bound:g}, {bound:g}]"
            )


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    r"""Great-circle distance in kilometres between points given in degrees.

    .. math::
        d = 2R \arcsin \sqrt{\sin^2\frac{\Delta\varphi}{2}
            + \cos\varphi_1 \cos\varphi_2 \sin^2\frac{\Delta\lambda}{2}}
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    h = np.sin(dphi / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Map degrees to points on the unit sphere, shape ``[N, 3]``."""
    phi, lmb = np.radians(lat), np.radians(lon)
    cos_phi = np.cos(phi)
    return np.stack([cos_phi * np.cos(lmb), cos_phi * np.sin(lmb), np.sin(phi)], axis=1)


def arc_to_chord(distance_km: float) -> float:
    """Chord length on the unit sphere of a great-circle distance in kilometres."""
    theta = min(distance_km / EARTH_RADIUS_KM, np.pi)
    return float(2.0 * np.sin(theta / 2.0))


def chord_to_arc_km(chord: np.ndarray) -> np.ndarray:
    """Great-circle distance in kilometres of a chord length on the unit sphere."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))
