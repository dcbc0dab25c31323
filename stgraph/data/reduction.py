"""Label-free dimensionality reduction of per-region vectors (e.g. language-model prompts)."""

from __future__ import annotations

import numpy as np


def principal_components(vectors: np.ndarray, dims: int) -> np.ndarray:
    """Scores ``[N, min(dims, D, N)]`` of ``vectors`` ``[N, D]`` on their leading principal
    axes, computed over all ``N`` rows (no label is used). Vectors that are already narrow
    are returned centred and unrotated."""
    centred = np.asarray(vectors, dtype=np.float64) - np.mean(vectors, axis=0)
    if centred.shape[1] <= dims:
        return centred
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    return u[:, :dims] * s[:dims]
