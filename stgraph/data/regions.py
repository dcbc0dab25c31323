"""Urban regions as one PyG ``Data``: multi-view features, labels, geometry and priors.

:func:`region_data` is the single constructor used by the built-in cities and by user folders.
The returned ``Data`` holds

* ``x_<view>`` ``[N, D_view]`` for each view (e.g. ``poi``, ``landuse``, ``mobility``) and
  ``view_names``;
* ``y_<task>`` ``[N]`` for each label and ``task_names``;
* the mobility graph as ``edge_index`` / ``edge_weight`` (origin → destination trip counts);
* ``contiguity_index`` ``[2, P]`` (both directions) when polygons are known;
* ``pos`` ``[N, 2]`` (lon, lat) and ``distance`` ``[N, N]`` great-circle km when coordinates
  are known (region sets are small: a dense matrix of 5,000 regions is 100 MB);
* centrality of the mobility graph (``centrality_degree``, ``centrality_weighted_degree``,
  ``centrality_pagerank``) and, with polygons, ``contiguity_degree``;
* any extra ``[N, N]`` matrices passed as ``matrices`` (e.g. ``poi_similarity``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data

from stgraph.data.centrality import compute_centrality
from stgraph.data.geo import haversine_km
from stgraph.errors import InputError


def region_data(
    name: str,
    views: dict[str, np.ndarray],
    labels: dict[str, np.ndarray],
    mobility: np.ndarray | None = None,
    lonlat: np.ndarray | None = None,
    contiguity: np.ndarray | None = None,
    matrices: dict[str, np.ndarray] | None = None,
    region_ids: list[str] | None = None,
) -> Data:
    """Assemble region data; every array's first dimension must be the number of regions."""
    if not views:
        raise InputError(f"{name}: at least one view is needed")
    n = next(iter(views.values())).shape[0]
    for kind, arrays in (("view", views), ("label", labels), ("matrix", matrices or {})):
        for key, value in arrays.items():
            if value.shape[0] != n:
                raise InputError(
                    f"{name}: {kind} '{key}' has {value.shape[0]} rows, expected {n} regions"
                )
    data = Data(num_nodes=n)
    data.name = name
    data.region_id = region_ids or [str(i) for i in range(n)]
    data.view_names = list(views)
    for key, value in views.items():
        data[f"x_{key}"] = torch.as_tensor(np.asarray(value, dtype=np.float64), dtype=torch.float32)
    data.task_names = list(labels)
    for key, value in labels.items():
        data[f"y_{key}"] = torch.as_tensor(np.asarray(value, dtype=np.float64).reshape(n))
    if mobility is not None:
        if mobility.shape != (n, n):
            raise InputError(f"{name}: mobility matrix must be {n} x {n}, got {mobility.shape}")
        src, dst = np.nonzero(mobility)
        data.edge_index = torch.as_tensor(np.stack([src, dst]), dtype=torch.long)
        data.edge_weight = torch.as_tensor(mobility[src, dst], dtype=torch.float32)
        values, _ = compute_centrality(
            data.edge_index, n, ["degree", "weighted_degree", "pagerank"], data.edge_weight
        )
        for key, value in values.items():
            data[f"centrality_{key}"] = value
    for key, value in (matrices or {}).items():
        data[key] = torch.as_tensor(np.asarray(value, dtype=np.float64), dtype=torch.float32)
    if lonlat is not None:
        data.pos = torch.as_tensor(lonlat, dtype=torch.float64)
        data.coord_system = "lonlat"
        lon, lat = lonlat[:, 0], lonlat[:, 1]
        dist = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        data.distance = torch.as_tensor(dist, dtype=torch.float32)
    if contiguity is not None:
        both = np.concatenate([contiguity, contiguity[:, ::-1]])
        data.contiguity_index = torch.as_tensor(both.T.copy(), dtype=torch.long)
        data.contiguity_degree = torch.bincount(data.contiguity_index[1], minlength=n).float()
    return data
