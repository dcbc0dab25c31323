import numpy as np
import pytest
from sklearn.metrics.pairwise import haversine_distances

from stgraph.data.geo import (
    EARTH_RADIUS_KM,
    arc_to_chord,
    chord_to_arc_km,
    haversine_km,
    unit_vectors,
    validate_lat_lon,
)
from stgraph.errors import InputError

CITIES = {  # (lat, lon)
    "london": (51.5074, -0.1278),
    "paris": (48.8566, 2.3522),
    "new_york": (40.7128, -74.0060),
    "los_angeles": (34.0522, -118.2437),
    "sydney": (-33.8688, 151.2093),
}


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        ("london", "paris", 343.6),
        ("new_york", "los_angeles", 3936.0),
        ("london", "sydney", 16994.0),
    ],
)
def test_known_city_distances(a, b, km):
    (lat1, lon1), (lat2, lon2) = CITIES[a], CITIES[b]
    assert haversine_km(lat1, lon1, lat2, lon2) == pytest.approx(km, rel=3e-3)


def test_haversine_matches_sklearn_on_random_points():
    rng = np.random.default_rng(1)
    lat = rng.uniform(-89, 89, 50)
    lon = rng.uniform(-180, 180, 50)
    ours = haversine_km(lat[:, None], lon[:, None], lat[None], lon[None])
    ref = haversine_distances(np.radians(np.stack([lat, lon], 1))) * EARTH_RADIUS_KM
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_chord_and_arc_are_inverse_and_match_unit_vectors():
    rng = np.random.default_rng(2)
    lat, lon = rng.uniform(-80, 80, (2, 20)), rng.uniform(-180, 180, (2, 20))
    xyz_a, xyz_b = unit_vectors(lat[0], lon[0]), unit_vectors(lat[1], lon[1])
    chord = np.linalg.norm(xyz_a - xyz_b, axis=1)
    np.testing.assert_allclose(
        chord_to_arc_km(chord), haversine_km(lat[0], lon[0], lat[1], lon[1]), rtol=1e-9, atol=1e-6
    )
    assert chord_to_arc_km(np.array([arc_to_chord(123.4)]))[0] == pytest.approx(123.4)


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [
        (np.nan, 0.0, "latitude is NaN"),
        (91.0, 0.0, "outside [-90, 90]"),
        (0.0, -181.0, "outside [-180, 180]"),
        (0.0, np.inf, "longitude is NaN or infinite"),
    ],
)
def test_bad_coordinates_are_named(lat, lon, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_lat_lon(np.array([10.0, lat]), np.array([10.0, lon]))
