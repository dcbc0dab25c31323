import json

import networkx as nx
import numpy as np

from stgraph.data.polygons import centroids, contiguity_pairs, read_regions


def square_grid_geojson(path, rows=3, cols=4, size=0.01):
    features = []
    for r in range(rows):
        for c in range(cols):
            x0, y0 = -87.7 + c * size, 41.8 + r * size
            ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
            features.append(
                {
                    "type": "Feature",
                    "properties": {"region_id": f"r{r}c{c}"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_grid_polygons_centroids_and_queen_contiguity(tmp_path):
    regions = read_regions(square_grid_geojson(tmp_path / "grid.geojson"))
    assert regions.ids[0] == "r0c0" and len(regions) == 12
    np.testing.assert_allclose(centroids(regions)[0], [-87.695, 41.805], atol=1e-9)
    pairs = {tuple(p) for p in contiguity_pairs(regions).tolist()}
    # queen: rook neighbours plus diagonal ones; 3x4 grid has 17 rook + 12 diagonal pairs
    assert len(pairs) == 29
    assert (0, 1) in pairs and (0, 4) in pairs and (0, 5) in pairs and (0, 2) not in pairs


def test_manhattan_shapefile(shared_data):
    regions = read_regions(shared_data / "mgfn_nyc_manhattan/mh-180/mh-180.shp")
    assert len(regions) == 180 and sorted(map(int, regions.ids)) == list(range(180))
    lonlat = centroids(regions)
    assert (lonlat[:, 0] > -74.02).all() and (lonlat[:, 0] < -73.90).all()
    assert (lonlat[:, 1] > 40.70).all() and (lonlat[:, 1] < 40.88).all()
    graph = nx.Graph(contiguity_pairs(regions).tolist())
    assert graph.number_of_nodes() == 180 and nx.is_connected(graph)
