"""Text prompts for regions: a description of the region, a task template, and a task-relevant
profile of the region in words.

A template that is the same for every region moves every region's vector alike and vanishes
once the vectors are standardised across regions. The profile does not: for the indicators tied
to the task (:data:`TASK_INDICATORS`) it states where this region stands among the city's
regions ("food and drink establishments: very high, top fifth of regions"), in words that a
sentence encoder represents, where raw counts and percentages are not.
"""

from __future__ import annotations

import re

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


TASK_INDICATORS = {
    "crime": ("entertainment", "food and drink", "transportation", "commercial", "accommodation"),
    "check_in": ("food and drink", "entertainment", "cultural", "accommodation", "commercial"),
    "service_calls": ("healthcare", "educational", "worship", "parking", "financial"),
}
"""Keywords of the POI categories whose level a task's profile states (fixed a priori from the
task templates; categories are matched by name in the region text). Every task's profile also
states the number of points of interest and of arriving trips."""

LEVELS = ((0.2, "very low, bottom fifth"), (0.4, "low"), (0.6, "average"), (0.8, "high"))
TOP_LEVEL = "very high, top fifth"
CATEGORY_PATTERN = re.compile(r"(\d+) ([a-z][a-z ,&-]*?) \(\d+(?:\.\d+)?%\)")


def region_indicators(data: Data) -> dict[str, np.ndarray]:
    """Per-region quantities a profile can put in words: the number of points of interest, of
    arriving trips, and the count of each POI category named in ``data.region_text``."""
    indicators = {}
    if "x_poi" in data:
        indicators["points of interest"] = data.x_poi.double().sum(dim=1).numpy()
    inflow = getattr(data, "centrality_weighted_degree", None)
    if inflow is not None:
        indicators["arriving trips"] = inflow.double().numpy()
    texts = getattr(data, "region_text", None)
    if texts is not None:
        counts: dict[str, np.ndarray] = {}
        for i, text in enumerate(texts):
            for number, name in CATEGORY_PATTERN.findall(text):
                counts.setdefault(name, np.zeros(len(texts)))[i] = float(number)
        indicators.update(counts)
    return indicators


def level_words(values: np.ndarray) -> list[str]:
    """Each value's standing among all values, in words (quintiles of its rank)."""
    ranks = (np.argsort(np.argsort(values, kind="stable"), kind="stable") + 0.5) / len(values)
    return [next((w for q, w in LEVELS if r < q), TOP_LEVEL) for r in ranks]


def task_profiles(indicators: dict[str, np.ndarray], task: str) -> list[str]:
    """One sentence per region: the task's indicators and the region's level of each."""
    keywords = TASK_INDICATORS.get(task, ())
    chosen = [n for n in indicators if any(k in n for k in keywords)]
    chosen += [n for n in ("points of interest", "arriving trips") if n in indicators]
    if not chosen:
        return []
    words = {name: level_words(indicators[name]) for name in chosen}
    count = len(next(iter(indicators.values())))
    return [
        "Profile for this task: " + "; ".join(f"{n}: {words[n][i]}" for n in chosen) + "."
        for i in range(count)
    ]


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


def task_prompts(
    descriptions: list[str], task: str | None, indicators: dict[str, np.ndarray] | None = None
) -> list[str]:
    """The prompt of each region for ``task``: template, task profile (from ``indicators``, see
    :func:`region_indicators`) and description, in that order so that truncation cuts the
    description, not the task. ``task=None`` gives the task-agnostic prompt (the description)."""
    if task is None:
        return list(descriptions)
    template = TASK_TEMPLATES.get(
        task, f"Task: estimate the {task.replace('_', ' ')} of this region."
    )
    profiles = task_profiles(indicators, task) if indicators else []
    return [
        " ".join(part for part in (template, profiles[i] if profiles else "", text) if part)
        for i, text in enumerate(descriptions)
    ]
