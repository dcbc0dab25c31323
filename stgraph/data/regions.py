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
* any extra ``[N, N]`` matrices passed as ``matrices`` (e.g. ``poi_similarity``);
* ``drop_zero_tasks``: the tasks whose zero labels mean "not observed", so that those regions
  are left out of evaluating that task (HAFusion's check-in counts).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    drop_zero_tasks: tuple[str, ...] = (),
) -> Data:
    """Assemble region data; every array's first dimension must be the number of regions and
    every value must be finite."""
    if not views:
        raise InputError(f"{name}: at least one view is needed")
    n = next(iter(views.values())).shape[0]
    arrays_by_kind = {"view": views, "label": labels, "matrix": dict(matrices or {})}
    if mobility is not None:
        arrays_by_kind["matrix"]["mobility"] = mobility
    for kind, arrays in arrays_by_kind.items():
        for key, value in arrays.items():
            value = np.asarray(value)
            if value.ndim == 0 or value.shape[0] != n:
                raise InputError(
                    f"{name}: {kind} '{key}' has {value.shape[0] if value.ndim else 0} rows, "
                    f"expected {n} regions"
                )
            if not np.issubdtype(value.dtype, np.number) or not np.isfinite(value).all():
                raise InputError(
                    f"{name}: {kind} '{key}' holds NaN, infinite or non-numeric values"
                )
    unknown = sorted(set(drop_zero_tasks) - set(labels))
    if unknown:
        raise InputError(f"{name}: zero-label flag for unknown task '{unknown[0]}'")
    data = Data(num_nodes=n)
    data.name = name
    data.region_id = region_ids or [str(i) for i in range(n)]
    data.view_names = list(views)
    for key, value in views.items():
        data[f"x_{key}"] = torch.as_tensor(np.asarray(value, dtype=np.float64), dtype=torch.float32)
    data.task_names = list(labels)
    data.drop_zero_tasks = [task for task in labels if task in drop_zero_tasks]
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


def log_counts(data: Data, view: str) -> np.ndarray:
    """``log1p`` of a view's counts, negatives clipped to 0: ``[N, D_view]`` float64."""
    return np.log1p(np.clip(data[f"x_{view}"].double().numpy(), 0, None))


def raw_view_features(data: Data) -> np.ndarray:
    """The raw views side by side (:func:`log_counts`) ``[N, sum D_v]``: the input of the
    raw-view baselines (no scaling here; probes standardise on their training regions)."""
    return np.concatenate([log_counts(data, v) for v in data.view_names], axis=1)


@dataclass
class RegionTensors:
    """Model-ready tensors of region data (see :func:`region_tensors`).

    Attributes:
        views: ``{view: [N, D_v]}``, ``log1p`` then standardised per column.
        mobility: ``[N, N]`` origin-destination trips, or ``None``.
        similarities: ``{name: [N, N]}`` (e.g. ``poi_similarity``).
        distance: ``[N, N]`` distances scaled to ``[0, 1]``, or ``None`` without coordinates.
        hops: ``[N, N]`` hop counts on the contiguity or mobility graph (``-1`` beyond
            ``max_hops``), used when there are no coordinates.
        weighted_degree: ``[N]`` trips arriving in each region (0 without mobility).
        pagerank: ``[N]`` PageRank on the mobility graph (uniform without mobility).
        spatial_prior: ``"distance"`` or ``"hops"``: which prior the attention bias uses.
    """

    views: dict[str, torch.Tensor]
    mobility: torch.Tensor | None
    similarities: dict[str, torch.Tensor]
    distance: torch.Tensor | None
    hops: torch.Tensor | None
    weighted_degree: torch.Tensor
    pagerank: torch.Tensor
    spatial_prior: str

    def encoder_inputs(self) -> tuple:
        """The arguments of a region encoder's forward pass: views, distance, hops, inflow,
        PageRank (see :class:`~stgraph.models.srel.SREL`)."""
        return self.views, self.distance, self.hops, self.weighted_degree, self.pagerank


def region_tensors(data: Data, max_hops: int = 4) -> RegionTensors:
    """Prepare region :class:`Data` for region-embedding models.

    Views are transformed with ``log1p`` (counts are heavy-tailed) and standardised per column
    over all regions; this uses no label. Without coordinates the spatial prior falls back to
    shortest-path hops on the contiguity graph if present, else on the mobility graph.
    """
    from stgraph.data.spatial_matrices import hop_matrix

    n = data.num_nodes
    views = {}
    for name in data.view_names:
        x = torch.log1p(data[f"x_{name}"].double().clamp(min=0))
        std = x.std(dim=0, unbiased=False)
        views[name] = (
            (x - x.mean(dim=0)) / torch.where(std > 0, std, torch.ones_like(std))
        ).float()
    mobility = None
    if getattr(data, "edge_index", None) is not None and data.edge_index.numel():
        mobility = torch.zeros(n, n)
        mobility[data.edge_index[0], data.edge_index[1]] = data.edge_weight.float()
    # sorted: PyG's Data.keys() follows string hashing, which changes between processes
    similarities = {k: data[k].float() for k in sorted(data.keys()) if k.endswith("_similarity")}
    distance, hops, prior = None, None, "distance"
    if getattr(data, "distance", None) is not None:
        distance = data.distance / data.distance.max().clamp(min=1e-12)
    else:
        prior = "hops"
        graph_index = getattr(data, "contiguity_index", None)
        if graph_index is None:
            graph_index = data.edge_index if mobility is not None else torch.empty(2, 0).long()
        hops = hop_matrix(Data(edge_index=graph_index, num_nodes=n), max_hops)
    weighted = getattr(data, "centrality_weighted_degree", None)
    pagerank = getattr(data, "centrality_pagerank", None)
    return RegionTensors(
        views=views,
        mobility=mobility,
        similarities=similarities,
        distance=distance,
        hops=hops,
        weighted_degree=weighted if weighted is not None else torch.zeros(n),
        pagerank=pagerank if pagerank is not None else torch.full((n,), 1.0 / n),
        spatial_prior=prior,
    )
