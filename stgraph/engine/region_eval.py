"""K-fold cross-validation over regions, for any region model.

``clean`` protocol (the default): ``KFold(folds, shuffle=True, random_state=seed)``; inside each
training part, a random ``inner_val`` share of regions is held out for early stopping or any
other selection, and the test fold is touched once, for its predictions. MAE, RMSE and R² are
computed on the concatenated out-of-fold predictions, with negative predictions clipped to 0.

``paper`` protocol: reproduces HAFusion's published evaluation — the same folds, but selection
(early stopping, best epoch) is made on the **test** fold itself. It is optimistic and is
labelled as such in every output.

For check-in counts, regions whose label is 0 are dropped before the folds are made (HAFusion).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.model_selection import KFold

from stgraph.engine.metrics import regression_metrics
from stgraph.errors import InputError

PROTOCOLS = ("clean", "paper")
DROP_ZERO_TASKS = ("check_in",)


@dataclass(frozen=True)
class Split:
    """Region indices of one fold: fit on ``train``, select on ``val``, predict ``test``."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


@dataclass
class CVResult:
    """Out-of-fold predictions and their metrics."""

    regions: np.ndarray
    predictions: np.ndarray
    targets: np.ndarray
    metrics: dict[str, float]
    splits: list[Split]


def region_splits(
    regions: np.ndarray,
    folds: int = 10,
    seed: int = 0,
    protocol: str = "clean",
    inner_val: float = 0.15,
) -> list[Split]:
    """The folds over ``regions`` (region indices) for ``protocol``."""
    if protocol not in PROTOCOLS:
        raise InputError(f"unknown protocol '{protocol}'; choose clean or paper")
    splits = []
    kfold = KFold(n_splits=folds, shuffle=True, random_state=seed)
    rng = np.random.default_rng(seed)
    for fit_part, test_part in kfold.split(regions):
        train, test = regions[fit_part], regions[test_part]
        if protocol == "paper":
            splits.append(Split(train, test, test))
            continue
        shuffled = rng.permutation(train)
        n_val = max(1, round(inner_val * len(train)))
        splits.append(Split(np.sort(shuffled[n_val:]), np.sort(shuffled[:n_val]), test))
    return splits


def evaluation_regions(labels: np.ndarray, task: str) -> np.ndarray:
    """Regions that take part in evaluating ``task`` (zero check-in labels are dropped)."""
    regions = np.arange(len(labels))
    return regions[labels != 0] if task in DROP_ZERO_TASKS else regions


def cross_validate(
    fit_predict: Callable[[Split], np.ndarray], labels: np.ndarray, splits: list[Split]
) -> CVResult:
    """Run ``fit_predict(split)`` (predictions for ``split.test``) on every fold and score the
    concatenated out-of-fold predictions."""
    regions, predictions = [], []
    for split in splits:
        predicted = np.asarray(fit_predict(split), dtype=np.float64).reshape(-1)
        if predicted.shape[0] != len(split.test):
            raise ValueError("fit_predict must return one prediction per test region")
        regions.append(split.test)
        predictions.append(np.clip(predicted, 0.0, None))
    regions_all = np.concatenate(regions)
    predicted_all = np.concatenate(predictions)
    targets = labels[regions_all].astype(np.float64)
    metrics = regression_metrics(torch.as_tensor(predicted_all), torch.as_tensor(targets))
    return CVResult(regions_all, predicted_all, targets, metrics, splits)
