"""Per-region task-prompt vectors: from precomputed files or from a frozen text encoder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from torch_geometric.data import Data

from stgraph.data.paths import resolve_cache_dir
from stgraph.errors import InputError

TASK_FILE_NAMES = {"check_in": ("checkIn",), "service_calls": ("serviceCall",), None: ("none",)}
"""Other names a task's file may carry (the Prompt4RE release spells tasks in camel case)."""

PromptVectors = Callable[[str | None], np.ndarray]
"""``vectors(task)`` → ``[N, D]``; ``task=None`` gives the task-agnostic prompt."""


def vectors_from_files(pattern: str, num_regions: int) -> PromptVectors:
    """Prompt vectors read from ``pattern`` with ``{task}`` replaced by the task's name (or
    ``none`` for the task-agnostic prompt)."""
    if "{task}" not in pattern:
        raise InputError(f"the prompt-vector pattern {pattern} must contain {{task}}")

    def load(task: str | None) -> np.ndarray:
        for name in (task or "none", *TASK_FILE_NAMES.get(task, ())):
            path = Path(pattern.format(task=name))
            if path.exists():
                try:
                    vectors = np.load(path, allow_pickle=False).astype(np.float64)
                except (ValueError, OSError) as err:
                    raise InputError(f"cannot read prompt vectors {path}") from err
                if vectors.ndim != 2 or vectors.shape[0] != num_regions:
                    raise InputError(
                        f"{path} must hold one row per region ({num_regions}), got shape "
                        f"{vectors.shape}"
                    )
                if not np.isfinite(vectors).all():
                    raise InputError(f"{path} holds NaN or infinite values")
                return vectors
        raise InputError(
            f"no prompt-vector file for task '{task or 'none'}' from pattern {pattern}"
        )

    return load


def vectors_from_text(data: Data, encoder_path: Path | None = None) -> PromptVectors:
    """Prompt vectors from a frozen text encoder over each region's prompt: task template,
    task profile and description (:mod:`stgraph.llm.prompts`), cached under the derived-files
    folder."""
    from stgraph.llm.prompts import describe_regions, region_indicators, task_prompts
    from stgraph.llm.text_encoder import TextEncoder, cached_embeddings

    encoder = TextEncoder(encoder_path)
    descriptions, indicators = describe_regions(data), region_indicators(data)
    cache = resolve_cache_dir() / "prompt_vectors"

    def embed(task: str | None) -> np.ndarray:
        texts = task_prompts(descriptions, task, indicators)
        return cached_embeddings(encoder, texts, cache).astype(np.float64)

    return embed
