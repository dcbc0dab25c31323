r"""``stgraph bench --model topt --city ...``: ToPT, its ablations and baselines on region tasks.

For each seed: two SREL encoders are trained self-supervised (spatial bias with learned
:math:`\lambda`, and :math:`\lambda = 0`); then for each task the same folds score

* ``ridge-raw`` — ridge on the ``log1p``-transformed, standardised raw views;
* ``ridge-srel`` — ridge on the SREL embedding (no prompt);
* ``topt-lambda0`` — ToPT on the embedding of the encoder without spatial bias;
* ``topt-agnostic`` — ToPT with the task-agnostic prompt;
* ``topt`` — ToPT in full.

HAFusion's published numbers are added as rows labelled ``published``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from torch_geometric.data import Data

import stgraph
from stgraph.bench.runner import git_commit
from stgraph.data.city_folder import load_city_folder
from stgraph.data.paths import resolve_data_dir
from stgraph.data.regions import RegionTensors, region_tensors
from stgraph.data.registry import DATASETS, load_dataset
from stgraph.engine.region_encoder import EncoderConfig, fit_region_encoder
from stgraph.engine.region_eval import Split, cross_validate, evaluation_regions, region_splits
from stgraph.engine.region_fit import PromptConfig, prompt_fit_predict, ridge_fit_predict
from stgraph.errors import InputError
from stgraph.models.srel import SREL

REGION_MODELS = ("ridge-raw", "ridge-srel", "topt-lambda0", "topt-agnostic", "topt")
MAX_PROMPT_DIM = 64
"""Prompt vectors wider than this are reduced by PCA over the city's regions (label-free):
with 60-70 training regions per fold, wider keys and values only add parameters to overfit."""

PUBLISHED_HAFUSION = {  # reference/methods.md §3.7 (HAFusion README table): MAE, RMSE, R²
    ("chicago", "crime"): (77.8, 107.1, 0.631),
    ("chicago", "check_in"): (929.0, 1947.0, 0.870),
    ("chicago", "service_calls"): (159.3, 222.0, 0.613),
    ("nyc", "crime"): (56.1, 76.1, 0.734),
    ("nyc", "check_in"): (202.8, 322.8, 0.844),
    ("nyc", "service_calls"): (1273.0, 1951.0, 0.493),
}


@dataclass
class RegionBenchOptions:
    """Options of a region benchmark run."""

    seeds: tuple[int, ...] = (0, 1, 2)
    tasks: tuple[str, ...] | None = None
    folds: int = 10
    protocol: str = "clean"
    encoder_epochs: int = 300
    prompt_epochs: int = 300
    text_encoder: Path | None = None
    prompt_vectors: str | None = None
    data_dir: Path | None = None
    progress: bool = True
    command: str = ""


def load_city(city: str, data_dir: Path | None) -> Data:
    """A built-in city by name or a city folder by path."""
    if Path(city).is_dir():
        return load_city_folder(city)
    known = [name for name, spec in DATASETS.items() if spec.kind == "regions"]
    if city not in known:
        raise InputError(
            f"unknown city '{city}'; known cities: {', '.join(known)}, or give "
            "--city PATH to a folder with views/*.npy and labels/*.npy "
            "(see `stgraph bench --help`)"
        )
    return load_dataset(city, data_dir)


def _reduce(vectors: np.ndarray) -> np.ndarray:
    if vectors.shape[1] <= MAX_PROMPT_DIM:
        return vectors
    centred = vectors - vectors.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    return u[:, :MAX_PROMPT_DIM] * s[:MAX_PROMPT_DIM]


TASK_FILE_NAMES = {"check_in": ("checkIn",), "service_calls": ("serviceCall",), None: ("none",)}


def prompt_vector_source(
    data: Data, options: RegionBenchOptions, console: Console
) -> Callable[[str | None], np.ndarray]:
    """``vectors(task)`` (``None`` = task-agnostic): from ``--prompt-vectors`` files or from a
    frozen text encoder over the region prompts (cached)."""
    if options.prompt_vectors is not None:
        pattern = options.prompt_vectors

        def from_files(task: str | None) -> np.ndarray:
            names = (task or "none", *TASK_FILE_NAMES.get(task, ()))
            for name in names:
                path = Path(pattern.format(task=name))
                if path.exists():
                    vectors = np.load(path).astype(np.float32)
                    if vectors.shape[0] != data.num_nodes:
                        raise InputError(
                            f"{path} has {vectors.shape[0]} rows for {data.num_nodes} regions"
                        )
                    return _reduce(vectors)
            raise InputError(
                f"no prompt-vector file for task '{task or 'none'}' from pattern "
                f"{pattern} (use {{task}} in the pattern)"
            )

        return from_files
    from stgraph.llm.prompts import describe_regions, task_prompts
    from stgraph.llm.text_encoder import TextEncoder, cached_embeddings

    encoder = TextEncoder(options.text_encoder)
    descriptions = describe_regions(data)
    cache = resolve_data_dir(options.data_dir) / "prompt_vectors"
    console.print(f"text encoder: {encoder.path}", highlight=False)

    def from_encoder(task: str | None) -> np.ndarray:
        return _reduce(cached_embeddings(encoder, task_prompts(descriptions, task), cache))

    return from_encoder


def _encoder(
    inputs: RegionTensors,
    seed: int,
    learn_bias: bool,
    options: RegionBenchOptions,
    console: Console,
) -> tuple[np.ndarray, float, int]:
    torch.manual_seed(seed)  # the initialisation is part of the seeded run
    model = SREL(
        {k: v.size(1) for k, v in inputs.views.items()},
        spatial_prior=inputs.spatial_prior,
        learn_bias=learn_bias,
        similarity_names=tuple(inputs.similarities),
    )
    start = time.perf_counter()
    config = EncoderConfig(epochs=options.encoder_epochs, seed=seed, progress=options.progress)
    embedding, _ = fit_region_encoder(model, inputs, config, console)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return embedding.numpy(), time.perf_counter() - start, params


class RidgeFold:
    """Ridge on fixed features inside one fold; ``parameters`` counts its coefficients."""

    def __init__(self, features: np.ndarray, labels: np.ndarray) -> None:
        self.features, self.labels = features, labels
        self.parameters = features.shape[1] + 1

    def __call__(self, split: Split) -> np.ndarray:
        """Predictions for ``split.test``."""
        return ridge_fit_predict(self.features, self.labels, split)


class PromptFold:
    """ToPT's prompt regressor inside one fold; ``parameters`` counts its trainable weights."""

    def __init__(
        self, embedding: np.ndarray, prompts: np.ndarray, labels: np.ndarray, config: PromptConfig
    ) -> None:
        self.embedding, self.prompts, self.labels, self.config = embedding, prompts, labels, config
        self.parameters = 0

    def __call__(self, split: Split) -> np.ndarray:
        """Predictions for ``split.test``."""
        predicted, self.parameters = prompt_fit_predict(
            self.embedding, self.prompts, self.labels, split, self.config
        )
        return predicted


def protocol_label(options: RegionBenchOptions) -> str:
    """How the numbers were obtained, printed beside every result."""
    if options.protocol == "paper":
        return (
            f"PAPER protocol (HAFusion): {options.folds}-fold CV, selection on the TEST fold"
            " (optimistic)"
        )
    return (
        f"clean: {options.folds}-fold CV (shuffled, seed = run seed), selection on an inner "
        "15% validation split of the training folds"
    )


def run_regions(
    city: str, options: RegionBenchOptions, console: Console | None = None
) -> tuple[list[dict], list[str]]:
    """Run every region model on every task of ``city``; returns result rows and notes.

    The problems are small (one full batch of at most a few hundred regions), where one thread
    is faster than several; the previous thread count is restored afterwards.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_regions(city, options, console or Console(stderr=True))
    finally:
        torch.set_num_threads(threads)


def _run_regions(
    city: str, options: RegionBenchOptions, console: Console
) -> tuple[list[dict], list[str]]:
    data = load_city(city, options.data_dir)
    city_name = getattr(data, "name", str(city))
    tasks = list(options.tasks or data.task_names)
    unknown = [t for t in tasks if t not in data.task_names]
    if unknown:
        raise InputError(
            f"unknown task '{unknown[0]}' for {city_name}; tasks: {', '.join(data.task_names)}"
        )
    inputs = region_tensors(data)
    notes = []
    if inputs.spatial_prior == "hops":
        graph = "contiguity" if getattr(data, "contiguity_index", None) is not None else "mobility"
        notes.append(
            f"{city_name} has no coordinates: the spatial bias uses shortest-path hops "
            f"on the {graph} graph instead of distances"
        )
    prompts = prompt_vector_source(data, options, console)
    raw = np.concatenate(
        [np.log1p(np.clip(data[f"x_{v}"].double().numpy(), 0, None)) for v in data.view_names],
        axis=1,
    )
    label = protocol_label(options)
    rows = []
    for seed in options.seeds:
        with_bias, seconds_bias, srel_params = _encoder(inputs, seed, True, options, console)
        without_bias, seconds_plain, _ = _encoder(inputs, seed, False, options, console)
        for task in tasks:
            labels = data[f"y_{task}"].double().numpy()
            splits = region_splits(
                evaluation_regions(labels, task), options.folds, seed, options.protocol
            )
            task_vectors, agnostic_vectors = prompts(task), prompts(None)
            config = PromptConfig(epochs=options.prompt_epochs, seed=seed)
            candidates = [
                ("ridge-raw", RidgeFold(raw, labels), 0.0),
                ("ridge-srel", RidgeFold(with_bias, labels), seconds_bias),
                (
                    "topt-lambda0",
                    PromptFold(without_bias, task_vectors, labels, config),
                    seconds_plain,
                ),
                (
                    "topt-agnostic",
                    PromptFold(with_bias, agnostic_vectors, labels, config),
                    seconds_bias,
                ),
                ("topt", PromptFold(with_bias, task_vectors, labels, config), seconds_bias),
            ]
            for name, fold, encoder_seconds in candidates:
                start = time.perf_counter()
                result = cross_validate(fold, labels, splits)
                trainable = fold.parameters
                rows.append(
                    {
                        "model": name,
                        "dataset": city_name,
                        "task": task,
                        "protocol": label,
                        "seed": seed,
                        "metrics": result.metrics,
                        "regions_evaluated": len(result.regions),
                        "trainable_parameters": trainable,
                        "total_parameters": trainable + (0 if name == "ridge-raw" else srel_params),
                        "seconds": time.perf_counter() - start + encoder_seconds,
                        "stgraph_version": stgraph.__version__,
                        "git_commit": git_commit(),
                        "command": options.command,
                    }
                )
    return rows, notes


def published_rows(city: str, tasks: list[str]) -> list[dict]:
    """HAFusion's published numbers for ``city`` (quoted, never ours)."""
    rows = []
    for task in tasks:
        if (city, task) in PUBLISHED_HAFUSION:
            mae, rmse, r2 = PUBLISHED_HAFUSION[(city, task)]
            rows.append(
                {
                    "model": "HAFusion (published)",
                    "dataset": city,
                    "task": task,
                    "metrics": {"MAE": mae, "RMSE": rmse, "R2": r2},
                    "protocol": "published: HAFusion README, its own protocol "
                    "(test-fold selection; Chicago 25 folds)",
                }
            )
    return rows


def summarise_regions(rows: list[dict]) -> list[dict]:
    """Mean and std over seeds per (model, task)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["task"], row["model"]), []).append(row)
    out = []
    for (task, model), group in groups.items():
        stats = {}
        for key in ("MAE", "RMSE", "R2"):
            values = np.array([r["metrics"][key] for r in group])
            stats[key] = {
                "mean": float(values.mean()),
                "std": float(values.std()) if len(values) > 1 else 0.0,
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
