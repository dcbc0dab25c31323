"""Urban region datasets: Chicago's 77 community areas and 180 Manhattan regions (HAFusion)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from torch_geometric.data import Data

from stgraph.data.datasets.common import need
from stgraph.data.polygons import centroids, contiguity_pairs, read_regions
from stgraph.data.regions import region_data
from stgraph.errors import InputError

TASK_FILES = {
    "crime": "crime_counts",
    "check_in": "check_counts",
    "service_calls": "serviceCall_counts",
}


def _hafusion_city(root: Path, folder: str, name: str) -> dict:
    def arr(stem: str) -> np.ndarray:
        return np.load(need(root, f"hafusion_urban_regions/{folder}/{stem}.npy", name))

    views = {"poi": arr("poi_dist"), "landuse": arr("landUse_dist"), "mobility": arr("mob_dist")}
    labels = {task: arr(stem).reshape(-1) for task, stem in TASK_FILES.items()}
    matrices = {"poi_similarity": arr("poi_simi"), "landuse_similarity": arr("landUse_simi")}
    return {
        "views": views,
        "labels": labels,
        "mobility": arr("mob-adj"),
        "matrices": matrices,
        "drop_zero_tasks": ("check_in",),  # HAFusion: a zero check-in count is not observed
    }


def load_chicago(root: Path) -> Data:
    """Chicago's 77 community areas (region i = area i+1): POI, land-use and mobility views,
    crime / check-in / service-call labels, centroids from the Prompt4RE prompts.
    """
    parts = _hafusion_city(root, "Chi", "chicago")
    prompts = need(root, "topt_prompt4re_chicago/prompt_data.json", "chicago")
    data = region_data("chicago", lonlat=prompt_centroids(prompts), **parts)
    data.region_text = prompt_texts(prompts)
    return data


CENTROID_PATTERN = re.compile(r"Centroid Coordinates: \(([-\d.]+), ([-\d.]+)\)")


def prompt_texts(path: Path) -> list[str]:
    """The text part of each region's Prompt4RE prompt (centroid, address, named POI mix)."""
    return [
        " ".join(part["text"] for part in message["content"] if "text" in part).strip()
        for message in json.loads(path.read_text(encoding="utf-8"))
    ]


def prompt_centroids(path: Path) -> np.ndarray:
    """Region centroids ``[N, 2]`` (lon, lat) parsed from Prompt4RE's per-region text prompts."""
    lonlat = []
    for i, message in enumerate(json.loads(path.read_text(encoding="utf-8"))):
        text = " ".join(part.get("text", "") for part in message["content"])
        match = CENTROID_PATTERN.search(text)
        if match is None:
            raise InputError(f"{path}: prompt {i} states no centroid")
        lonlat.append((float(match[2]), float(match[1])))
    return np.array(lonlat)


def load_nyc(root: Path) -> Data:
    """Manhattan's 180 regions (MVURE/MGFN/HAFusion): the same views and labels, centroids and
    queen contiguity from the ``mh-180`` polygons.
    """
    parts = _hafusion_city(root, "NY", "nyc")
    regions = read_regions(need(root, "mgfn_nyc_manhattan/mh-180/mh-180.shp", "nyc"))
    order = np.argsort([int(i) for i in regions.ids])
    lonlat = centroids(regions)[order]
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    pairs = np.sort(rank[contiguity_pairs(regions)], axis=1)
    return region_data(
        "nyc", lonlat=lonlat, contiguity=pairs, region_ids=[regions.ids[i] for i in order], **parts
    )
