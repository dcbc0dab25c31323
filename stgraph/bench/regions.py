r"""``stgraph bench --model topt --city ...``: ToPT, its ablations and baselines on region tasks.

For each seed, two SREL encoders are trained self-supervised on all regions (no label): with
the learned spatial bias and with :math:`\lambda = 0`. Then, for each task, every row below is
scored on the same folds of the same :class:`~stgraph.data.region_protocol.RegionProtocol`:

* baselines — ``ridge-raw`` and ``trees-raw`` on the raw views (``log1p`` counts),
  ``ridge-srel`` and ``trees-srel`` on the SREL embedding;
* ``topt`` — ToPT's prediction: ridge on the prompt-enhanced representation
  :math:`[E, P_{\text{task}}]` (embedding and the task prompt's principal components),
  blended with trees on the raw views by a weight chosen inside the training regions
  (:class:`~stgraph.engine.region_probes.BlendProbe`);
* ablations of ``topt`` — ``topt-no-prompt`` (no prompt), ``topt-agnostic`` (the task-agnostic
  prompt), ``topt-lambda0`` (the encoder without spatial bias).

HAFusion's published numbers are added as rows labelled ``published``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from torch_geometric.data import Data

import stgraph
from stgraph.bench.runner import git_commit
from stgraph.data.reduction import principal_components
from stgraph.data.region_protocol import RegionProtocol, evaluation_regions
from stgraph.data.regions import RegionTensors, raw_view_features, region_tensors
from stgraph.engine.region_encoder import encode_regions
from stgraph.engine.region_eval import cross_validate
from stgraph.engine.region_probes import BlendProbe, RegionProbe, RidgeProbe, TreesProbe
from stgraph.errors import InputError
from stgraph.llm.prompt_vectors import PromptVectors, vectors_from_files, vectors_from_text

BASELINES = ("ridge-raw", "trees-raw", "ridge-srel", "trees-srel")
METHODS = ("topt-no-prompt", "topt-agnostic", "topt-lambda0", "topt")
REGION_MODELS = BASELINES + METHODS
PROMPT_DIMS = 16
"""Principal components kept of each task's prompt vectors (label-free, over all regions).
Fixed before any table was made: the ridge on the representation sees 60-160 training
regions and a 144-d embedding already, so the prompt gets a small, fixed share of it."""


@dataclass
class RegionBenchOptions:
    """Options of a region benchmark run.

    Attributes:
        seeds: run seeds; each seeds the encoders, the folds and the trees (default: 0, 1, 2).
        tasks: tasks to score (default: every label of the city).
        protocol: the cross-validation protocol (default: :class:`RegionProtocol` ()).
        encoder_epochs: self-supervised epochs of each SREL encoder (default: ``300``).
        text_encoder: local Hugging Face encoder folder for the prompts (default: the
            packaged all-MiniLM-L6-v2).
        prompt_vectors: precomputed prompt vectors, a ``.npy`` path pattern with ``{task}``.
        data_dir: dataset folder for built-in cities.
        progress: show progress bars.
        command: the command line, recorded in every row.
    """

    seeds: tuple[int, ...] = (0, 1, 2)
    tasks: tuple[str, ...] | None = None
    protocol: RegionProtocol = field(default_factory=RegionProtocol)
    encoder_epochs: int = 300
    text_encoder: Path | None = None
    prompt_vectors: str | None = None
    data_dir: Path | None = None
    progress: bool = True
    command: str = ""


def published_rows(city: str, tasks: list[str]) -> list[dict]:
    """HAFusion's published numbers for ``city`` (quoted, never ours)."""
    doc = json.loads(
        resources.files("stgraph.bench").joinpath("published_regions.json").read_text("utf-8")
    )
    return [
        {
            "model": doc["model"],
            "dataset": city,
            "task": row["task"],
            "metrics": {k: row[k] for k in ("MAE", "RMSE", "R2")},
            "protocol": doc["protocol"],
        }
        for task in tasks
        for row in doc["rows"]
        if row["city"] == city and row["task"] == task
    ]


def check_tasks(data: Data, tasks: tuple[str, ...] | None) -> list[str]:
    """The tasks to score; an unknown task is an input error."""
    names = list(tasks or data.task_names)
    unknown = [t for t in names if t not in data.task_names]
    if unknown:
        raise InputError(
            f"unknown task '{unknown[0]}' for {data.name}; tasks: {', '.join(data.task_names)}"
        )
    if not names:
        raise InputError(f"{data.name} has no labels to evaluate (labels/<task>.npy)")
    return names


def _encode(inputs: RegionTensors, seed: int, learn_bias: bool, options: RegionBenchOptions):
    start = time.perf_counter()
    embedding, model = encode_regions(
        inputs, seed, options.encoder_epochs, options.progress, learn_bias=learn_bias
    )
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return embedding, time.perf_counter() - start, params


def _probes(
    raw: np.ndarray,
    embedding: np.ndarray,
    embedding_no_bias: np.ndarray,
    prompt: np.ndarray,
    agnostic: np.ndarray,
    seed: int,
) -> dict[str, RegionProbe]:
    """Every row's probe for one task; the blends share one raw-view tree probe."""
    trees_raw = TreesProbe(raw, seed)
    return {
        "ridge-raw": RidgeProbe(raw),
        "trees-raw": trees_raw,
        "ridge-srel": RidgeProbe(embedding),
        "trees-srel": TreesProbe(embedding, seed),
        "topt-no-prompt": BlendProbe(trees_raw, RidgeProbe(embedding)),
        "topt-agnostic": BlendProbe(trees_raw, RidgeProbe(np.hstack([embedding, agnostic]))),
        "topt-lambda0": BlendProbe(trees_raw, RidgeProbe(np.hstack([embedding_no_bias, prompt]))),
        "topt": BlendProbe(trees_raw, RidgeProbe(np.hstack([embedding, prompt]))),
    }


def run_regions(
    data: Data, options: RegionBenchOptions, console: Console | None = None
) -> tuple[list[dict], list[str]]:
    """Score every region row on every task of ``data``; returns result rows and notes.

    The problems are small (one full batch of at most a few hundred regions), where one
    thread trains the encoders faster than several; the thread count is restored afterwards.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_regions(data, options, console or Console(stderr=True))
    finally:
        torch.set_num_threads(threads)


def _prompt_source(data: Data, options: RegionBenchOptions, console: Console) -> PromptVectors:
    if options.prompt_vectors is not None:
        return vectors_from_files(options.prompt_vectors, data.num_nodes)
    source = vectors_from_text(data, options.text_encoder)
    console.print("prompt vectors: frozen text encoder over the region prompts", highlight=False)
    return source


def _run_regions(data: Data, options: RegionBenchOptions, console: Console) -> tuple[list, list]:
    tasks = check_tasks(data, options.tasks)
    inputs = region_tensors(data)
    notes = []
    if inputs.spatial_prior == "hops":
        graph = "contiguity" if getattr(data, "contiguity_index", None) is not None else "mobility"
        notes.append(
            f"{data.name} has no coordinates: the spatial bias uses shortest-path hops "
            f"on the {graph} graph instead of distances"
        )
    source = _prompt_source(data, options, console)
    prompts = {t: principal_components(source(t), PROMPT_DIMS) for t in [*tasks, None]}
    raw = raw_view_features(data)
    protocol, label = options.protocol, options.protocol.describe()
    rows = []
    for seed in options.seeds:
        embedding, seconds_bias, srel_params = _encode(inputs, seed, True, options)
        no_bias, seconds_plain, _ = _encode(inputs, seed, False, options)
        for task in tasks:
            labels = data[f"y_{task}"].double().numpy()
            regions = evaluation_regions(labels, task in data.drop_zero_tasks)
            splits = protocol.splits(regions, seed)
            probes = _probes(raw, embedding, no_bias, prompts[task], prompts[None], seed)
            for name, probe in probes.items():
                start = time.perf_counter()
                result = cross_validate(probe, labels, splits, protocol)
                encoder_seconds = 0.0 if name.endswith("-raw") else seconds_bias
                if name == "topt-lambda0":
                    encoder_seconds = seconds_plain
                row = {
                    "model": name,
                    "dataset": data.name,
                    "task": task,
                    "protocol": label,
                    "protocol_settings": protocol.to_dict(),
                    "seed": seed,
                    "metrics": result.metrics,
                    "regions_evaluated": len(result.regions),
                    "zero_labels_dropped": task in data.drop_zero_tasks,
                    "trainable_parameters": probe.parameters,
                    "total_parameters": probe.parameters
                    + (0 if name.endswith("-raw") else srel_params),
                    "seconds": time.perf_counter() - start + encoder_seconds,
                    "stgraph_version": stgraph.__version__,
                    "git_commit": git_commit(),
                    "command": options.command,
                }
                if isinstance(probe, BlendProbe):
                    row["weight_on_raw_trees"] = float(np.mean(probe.weights))
                rows.append(row)
    return rows, notes


def summarise_regions(rows: list[dict]) -> list[dict]:
    """Mean and sample standard deviation (ddof = 1) over seeds per (task, model)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["task"], row["model"]), []).append(row)
    out = []
    for (task, model), group in groups.items():
        stats = {}
        for key in group[0]["metrics"]:
            values = np.array([r["metrics"][key] for r in group])
            stats[key] = {
                "mean": float(values.mean()),
                "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            }
        out.append(
            {
                "task": task,
                "model": model,
                "seeds": len(group),
                "metrics": stats,
                "trainable_parameters": group[0].get("trainable_parameters"),
                "seconds": float(np.mean([r.get("seconds", math.nan) for r in group])),
                "protocol": group[0]["protocol"],
            }
        )
    return out


def verdicts(rows: list[dict]) -> list[str]:
    """Per task: the strongest baseline by mean R², and ``topt``'s paired R² difference to it
    over the same seeds (mean ± sample std), said plainly."""
    lines = []
    for task in dict.fromkeys(r["task"] for r in rows):
        by_model: dict[str, dict[int, float]] = {}
        for r in rows:
            if r["task"] == task:
                by_model.setdefault(r["model"], {})[r["seed"]] = r["metrics"]["R2"]
        present = [b for b in BASELINES if b in by_model]
        if "topt" not in by_model or not present:
            continue
        best = max(present, key=lambda b: np.mean(list(by_model[b].values())))
        seeds = sorted(by_model["topt"])
        diff = np.array([by_model["topt"][s] - by_model[best][s] for s in seeds])
        spread = float(diff.std(ddof=1)) if len(diff) > 1 else 0.0
        if len(diff) > 1 and abs(diff.mean()) > spread:
            word = "better than" if diff.mean() > 0 else "worse than"
        else:
            word = "not distinguishable from"
        lines.append(
            f"{task}: topt is {word} the strongest baseline {best} "
            f"(paired R² difference {diff.mean():+.3f} ± {spread:.3f} over {len(diff)} seeds)"
        )
    return lines
