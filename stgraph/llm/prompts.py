"""Text prompts for regions: a description built from the region's data plus a task template."""

from __future__ import annotations

import numpy as np
from torch_geometric.data import Data

TASK_TEMPLATES = {
    "crime": (
        "Task: estimate how many crimes are reported in this region. Crime follows foot "
        "traffic, nightlife, retail and transit hubs, vacancy and residential density."
    ),
    "check_in": (
        "Task: estimate how many social-media check-ins happen in this region. Check-ins "
        "follow restaurants, bars, shops, entertainment, tourism and visitors."
    ),
    "service_calls": (
        "Task: estimate how many 311 service calls come from this region. Service "
        "calls follow housing density, street infrastructure, noise, sanitation "
        "and the number of residents."
    ),
}


def _mix(values: np.ndarray, label: str, top: int = 5) -> str:
    total = values.sum()
    if total <= 0:
        return f"no {label} recorded"
    order = np.argsort(-values)[:top]
    return ", ".join(
        f"{label} type {i} {100 * values[i] / total:.0f}%" for i in order if values[i] > 0
    )


def describe_regions(data: Data) -> list[str]:
    """One plain-text description per region.

    Uses ``data.region_text`` when the dataset ships descriptions (Chicago: the Prompt4RE text
    prompts with centroid, address and named POI categories); otherwise builds one from the
    data: centroid, POI and land-use mix, POI total, and the region's rank in trips.
    """
    if getattr(data, "region_text", None) is not None:
        return list(data.region_text)
    n = data.num_nodes
    poi = data.x_poi.double().numpy() if "x_poi" in data else None
    landuse = data.x_landuse.double().numpy() if "x_landuse" in data else None
    inflow = getattr(data, "centrality_weighted_degree", None)
    ranks = (np.argsort(np.argsort(-inflow.numpy())) + 1) if inflow is not None else None
    texts = []
    for i in range(n):
        parts = [f"Urban region {i} of {getattr(data, 'name', 'the city')}."]
        if getattr(data, "pos", None) is not None:
            lon, lat = data.pos[i].tolist()
            parts.append(f"Centroid coordinates: ({lat:.4f}, {lon:.4f}).")
        if poi is not None:
            parts.append(f"{int(poi[i].sum())} points of interest: {_mix(poi[i], 'POI')}.")
        if landuse is not None:
            parts.append(f"Land use: {_mix(landuse[i], 'land use')}.")
        if ranks is not None:
            parts.append(f"Ranked {ranks[i]} of {n} regions by arriving trips.")
        texts.append(" ".join(parts))
    return texts


def task_prompts(descriptions: list[str], task: str | None) -> list[str]:
    """Descriptions followed by the template of ``task`` (``None``: task-agnostic)."""
    if task is None:
        return list(descriptions)
    template = TASK_TEMPLATES.get(
        task, f"Task: estimate the {task.replace('_', ' ')} of this region."
    )
    return [f"{text} {template}" for text in descriptions]
