"""K-fold cross-validation over regions, for any region probe, under a
:class:`~stgraph.data.region_protocol.RegionProtocol`.

Each outer fold's probe fits on the training regions (selecting inside them, see
:mod:`stgraph.engine.region_probes`) and predicts the test fold once; the metrics are computed
on the concatenated out-of-fold predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from stgraph.data.region_protocol import RegionProtocol, Split
from stgraph.engine.metrics import regression_metrics
from stgraph.engine.region_probes import RegionProbe


@dataclass
class CVResult:
    """Out-of-fold predictions and their metrics."""

    regions: np.ndarray
    predictions: np.ndarray
    targets: np.ndarray
    metrics: dict[str, float]


def cross_validate(
    probe: RegionProbe, labels: np.ndarray, splits: list[Split], protocol: RegionProtocol
) -> CVResult:
    """Fit ``probe`` in every fold of ``splits`` and score the concatenated out-of-fold
    predictions as ``protocol`` says (clipping, metrics)."""
    regions, predictions = [], []
    for split in splits:
        predicted = np.asarray(probe.fit(split, labels).test, dtype=np.float64).reshape(-1)
        if predicted.shape[0] != len(split.test):
            raise ValueError("a probe must return one prediction per test region")
        regions.append(split.test)
        predictions.append(np.clip(predicted, 0.0, None) if protocol.clip_negative else predicted)
    regions_all = np.concatenate(regions)
    predicted_all = np.concatenate(predictions)
    targets = labels[regions_all].astype(np.float64)
    metrics = regression_metrics(torch.as_tensor(predicted_all), torch.as_tensor(targets))
    return CVResult(regions_all, predicted_all, targets, {k: metrics[k] for k in protocol.metrics})
