"""Probe table for the SREL region embedding (issue 9): what do its objectives keep?

For each city and seed, SREL is trained with all objectives and with subsets of them; a ridge
probe (the toolkit's RidgeProbe, penalty chosen inside the training folds) then predicts each
task under the default RegionProtocol, beside ridge probes on each raw view. Two further
columns ask whether the embedding keeps each region's activity level: R² of a ridge probe
predicting log1p(total POIs) and log1p(arriving trips) from the features.

Run from the repository root (about 2 minutes for Chicago, 6 for NYC on 2 cores):
    STGRAPH_DATA=../shared/data .venv/bin/python benchmarks/srel_probe.py chicago nyc
Writes benchmarks/results/srel_probe.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from stgraph.data.city_folder import load_city
from stgraph.data.region_protocol import RegionProtocol, evaluation_regions
from stgraph.data.regions import log_counts, region_tensors
from stgraph.engine.region_encoder import encode_regions
from stgraph.engine.region_eval import cross_validate
from stgraph.engine.region_probes import RidgeProbe

SEEDS = (0, 1, 2)
VARIANTS = {
    "SREL, all objectives (default)": ("mobility", "similarity", "views"),
    "SREL, all objectives, view skip": ("mobility", "similarity", "views", "view_skip"),
    "SREL, no view reconstruction (HAFusion's objectives)": ("mobility", "similarity"),
    "SREL, mobility only": ("mobility",),
    "SREL, view reconstruction only": ("views",),
}
OUT = Path(__file__).parent / "results" / "srel_probe.md"


def r2(features: np.ndarray, target: np.ndarray, regions: np.ndarray, seed: int) -> float:
    protocol = RegionProtocol()
    splits = protocol.splits(regions, seed)
    return cross_validate(RidgeProbe(features), target, splits, protocol).metrics["R2"]


def embed(inputs, variant: tuple[str, ...], seed: int) -> np.ndarray:
    objectives = tuple(v for v in variant if v != "view_skip")
    return encode_regions(
        inputs, seed, 300, objectives=objectives, view_skip="view_skip" in variant
    )[0]


def city_rows(city: str) -> list[str]:
    data = load_city(city)
    inputs = region_tensors(data)
    views = {v: log_counts(data, v) for v in data.view_names}
    activity = {
        "log POIs": np.log1p(data.x_poi.double().sum(1).numpy()),
        "log arriving trips": np.log1p(data.centrality_weighted_degree.double().numpy()),
    }
    targets = {t: data[f"y_{t}"].double().numpy() for t in data.task_names}
    features: dict[str, list[np.ndarray]] = {
        f"raw view: {v}": [x] * len(SEEDS) for v, x in views.items()
    }
    features["raw views: all"] = [np.hstack(list(views.values()))] * len(SEEDS)
    for name, objectives in VARIANTS.items():
        features[name] = [embed(inputs, objectives, seed) for seed in SEEDS]
        print(f"{city}: {name} trained", flush=True)
    rows = []
    for name, per_seed in features.items():
        cells = []
        for task, y in targets.items():
            regions = evaluation_regions(y, task in data.drop_zero_tasks)
            scores = [r2(x, y, regions, s) for x, s in zip(per_seed, SEEDS, strict=True)]
            cells.append(f"{np.mean(scores):.3f} ± {np.std(scores, ddof=1):.3f}")
        for y in activity.values():
            regions = np.arange(len(y))
            scores = [r2(x, y, regions, s) for x, s in zip(per_seed, SEEDS, strict=True)]
            cells.append(f"{np.mean(scores):.3f}")
        rows.append(f"| {city} | {name} | " + " | ".join(cells) + " |")
    header = " | ".join([*targets, *activity])
    return [f"| city | features | {header} |", "|---|---|" + "---:|" * (len(targets) + 2), *rows]


def main(cities: list[str]) -> None:
    torch.set_num_threads(1)
    lines = [
        "# What the SREL embedding keeps: ridge probes",
        "",
        "Command: `STGRAPH_DATA=../shared/data .venv/bin/python benchmarks/srel_probe.py "
        + " ".join(cities)
        + "`",
        "",
        f"Ridge probe R² (mean ± sample std over seeds {', '.join(map(str, SEEDS))}; each seed "
        "trains the encoder and makes the folds), protocol: " + RegionProtocol().describe() + ".",
        "The last two columns: R² of predicting the region's log activity from the features.",
        "",
    ]
    for city in cities:
        lines += city_rows(city) + [""]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:] or ["chicago"])
