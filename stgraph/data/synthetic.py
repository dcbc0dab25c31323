"""Synthetic data with planted structure, for tests and the offline demo.

:func:`diffusion_signal` plants a known spatial diffusion on a known kNN graph and a known
daily period. :func:`synthetic_regions` plants labels driven by region features and by the
mobility flows between regions (a gravity model).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from stgraph.data.geo import haversine_km
from stgraph.data.graph_building import knn_graph
from stgraph.data.protocol import Protocol
from stgraph.data.regions import region_data
from stgraph.data.tables import PointTable
from stgraph.data.temporal import TemporalSignal


def random_points(num_nodes: int, seed: int = 0) -> PointTable:
    """``num_nodes`` points uniform in the unit square (``xy`` coordinates)."""
    rng = np.random.default_rng(seed)
    return PointTable([str(i) for i in range(num_nodes)], rng.random((num_nodes, 2)), "xy")


def diffusion_signal(
    num_nodes: int = 40,
    num_steps: int = 24 * 42,
    steps_per_day: int = 24,
    k: int = 4,
    diffusion: float = 0.6,
    noise: float = 0.05,
    seed: int = 0,
    protocol: Protocol | None = None,
) -> TemporalSignal:
    r"""A series where each node mixes its neighbours' past with a daily rhythm.

    .. math::
        x_t = \alpha\, W x_{t-1} + (1 - \alpha)\, s_t + \varepsilon_t, \qquad
        s_{t,i} = a_i \bigl(1 + \sin(2\pi t / P + \phi_i)\bigr)

    with :math:`W` the row-normalised symmetric kNN adjacency (no self-loops), :math:`P` =
    ``steps_per_day``, :math:`a_i \sim U(0.5, 1.5)`, :math:`\phi_i \sim U(0, 2\pi)` and
    :math:`\varepsilon \sim \mathcal N(0, \text{noise}^2)`. The true :math:`W` is stored as
    ``graph.diffusion_weight`` (per edge, aligned with ``edge_index``) and :math:`\alpha` as
    ``graph.diffusion``.

    Args:
        num_nodes: nodes (default: ``40``).
        num_steps: time steps (default: ``1008``, six weeks of hours).
        steps_per_day: the planted period (default: ``24``).
        k: neighbours per node before symmetrisation (default: ``4``).
        diffusion: :math:`\alpha` (default: ``0.6``).
        noise: noise std (default: ``0.05``).
        seed: random seed (default: ``0``).
        protocol: windows and split (default: 12 → 12, 7:1:2, nothing missing).
    """
    rng = np.random.default_rng(seed)
    points = random_points(num_nodes, seed)
    graph = knn_graph(points, k)
    edge_index = to_undirected(graph.edge_index, num_nodes=num_nodes)
    src, dst = edge_index.numpy()
    degree = np.bincount(dst, minlength=num_nodes).astype(np.float64)
    weight = 1.0 / degree[dst]
    amplitude = rng.uniform(0.5, 1.5, num_nodes)
    phase = rng.uniform(0, 2 * math.pi, num_nodes)

    def seasonal(step: int) -> np.ndarray:
        return amplitude * (1 + np.sin(2 * math.pi * step / steps_per_day + phase))

    # one step of state in float64, the series stored in float32: memory stays at one
    # float32 copy of the series, which matters at 10^5 nodes
    x = np.empty((num_steps, num_nodes), dtype=np.float32)
    state = seasonal(0)
    x[0] = state
    for step in range(1, num_steps):
        mixed = np.bincount(dst, weights=weight * state[src], minlength=num_nodes)
        state = diffusion * mixed + (1 - diffusion) * seasonal(step)
        state += rng.normal(0, noise, num_nodes)
        x[step] = state
    data = Data(
        edge_index=edge_index,
        edge_weight=torch.ones(edge_index.size(1)),
        num_nodes=num_nodes,
        pos=torch.as_tensor(points.coords),
        coord_system="xy",
    )
    data.node_id = points.ids
    data.diffusion_weight = torch.as_tensor(weight, dtype=torch.float32)
    data.diffusion = diffusion
    signal = torch.from_numpy(x).unsqueeze(-1)
    protocol = protocol or Protocol(
        null_value=None,
        steps_per_day=steps_per_day,
        metrics=("MAE", "RMSE"),
        note="synthetic diffusion",
    )
    return TemporalSignal(
        "synthetic-diffusion",
        signal,
        torch.ones_like(signal, dtype=torch.bool),
        data,
        protocol,
        feature_names=["value"],
    )


def synthetic_regions(num_regions: int = 60, num_poi: int = 8, seed: int = 0) -> Data:
    r"""Regions whose label depends on their POIs and on the flows they receive.

    Regions get coordinates around a city centre (lon/lat), a latent activity :math:`z_i`, POI
    counts :math:`\text{Poisson}(e^{z_i} \pi_c)`, gravity-model flows
    :math:`F_{ij} \propto e^{z_i + z_j - d_{ij}/2\,\text{km}}`, and the label
    ``target`` :math:`= 10 e^{z_i} + 0.01 \sum_j F_{ji}` plus 5 % noise.
    """
    rng = np.random.default_rng(seed)
    lonlat = np.stack(
        [-87.65 + rng.normal(0, 0.05, num_regions), 41.85 + rng.normal(0, 0.05, num_regions)],
        axis=1,
    )
    latent = rng.normal(0, 0.7, num_regions)
    poi = rng.poisson(np.exp(latent)[:, None] * rng.uniform(1, 5, num_poi)).astype(np.float64)
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    dist = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    flows = np.round(200 * np.exp(latent[:, None] + latent[None, :] - dist / 2.0))
    inflow = flows.sum(0)
    target = 10 * np.exp(latent) + 0.01 * inflow
    target = target * (1 + rng.normal(0, 0.05, num_regions))
    return region_data(
        "synthetic-regions",
        {"poi": poi, "mobility": flows},
        {"target": target},
        mobility=flows,
        lonlat=lonlat,
    )
