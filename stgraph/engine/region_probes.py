r"""Region regressors on fixed features, fitted inside one cross-validation fold.

A probe fits on ``split.train`` and predicts ``split.test``. Whatever it chooses (a ridge
penalty, a tree setting, a blend weight) is chosen on the inner folds of the training regions
(``split.inner``), or on the test fold under the published ``test-fold`` protocol, never by
looking at the cross-validated table. Every probe also returns its inner out-of-fold
predictions for the training regions, so that a :class:`BlendProbe` can weigh probes without a
second level of cross-validation.

* :class:`RidgeProbe` — standardise on the training regions, ridge penalty by leave-one-out.
* :class:`TreesProbe` — extremely randomised trees; the feature-sampling setting is chosen
  by inner cross-validation.
* :class:`BlendProbe` — :math:`\hat y = w\,\hat y_a + (1 - w)\,\hat y_b`, with :math:`w` the
  inner-CV choice on a grid, shrunk half-way towards :math:`\tfrac12` (fixed a priori: with
  60–160 training regions, a blend weight picked freely is itself a source of variance).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler

from stgraph.data.region_protocol import Split

RIDGE_ALPHAS = np.logspace(-3, 4, 30)
"""Ridge penalties searched by leave-one-out on the training regions."""

TREE_SETTINGS = ({"max_features": 1.0}, {"max_features": 0.5})
"""Tree settings compared by inner cross-validation (every split considers all features, or
half of them at random)."""

BLEND_GRID = np.linspace(0.0, 1.0, 11)
BLEND_SHRINK = 0.5


@dataclass
class FoldFit:
    """Predictions of one probe in one fold.

    Attributes:
        test: predictions for ``split.test``.
        held_out: inner out-of-fold predictions for ``split.train`` (concatenated in the order
            of ``split.inner``), or ``None`` under the ``test-fold`` protocol.
    """

    test: np.ndarray
    held_out: np.ndarray | None


def inner_targets(split: Split, labels: np.ndarray) -> np.ndarray:
    """Labels in the order of :attr:`FoldFit.held_out`."""
    return np.concatenate([labels[held] for _, held in split.inner])


def _choose(candidates: list[FoldFit], split: Split, labels: np.ndarray) -> int:
    """Index of the candidate with the lowest squared error on the selection data."""
    if split.selects_on_test:
        target, errors = labels[split.test], [c.test for c in candidates]
    else:
        target, errors = inner_targets(split, labels), [c.held_out for c in candidates]
    return int(np.argmin([np.mean((e - target) ** 2) for e in errors]))


class RegionProbe(ABC):
    """A region regressor fitted per fold; ``parameters`` counts the fitted values of its
    last fit."""

    parameters: int = 0

    @abstractmethod
    def fit(self, split: Split, labels: np.ndarray) -> FoldFit:
        """Fit on ``split.train``, predict ``split.test`` and the inner held-out regions."""


class FeatureProbe(RegionProbe):
    """A probe defined by how it fits one set of regions and predicts another."""

    def fit(self, split: Split, labels: np.ndarray) -> FoldFit:
        """Fit on ``split.train``, predict ``split.test`` and the inner held-out regions."""
        held_out = None
        if not split.selects_on_test:
            held_out = np.concatenate(
                [self.fit_predict(fit, held, labels) for fit, held in split.inner]
            )
        return FoldFit(self.fit_predict(split.train, split.test, labels), held_out)

    @abstractmethod
    def fit_predict(self, train: np.ndarray, test: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Fit on the regions ``train``, return predictions for the regions ``test``."""


class RidgeProbe(FeatureProbe):
    """Standardised ridge regression; the penalty is chosen by leave-one-out on the regions
    it is fitted on (:data:`RIDGE_ALPHAS`).

    Args:
        features: ``[N, D]`` features of every region.
    """

    def __init__(self, features: np.ndarray) -> None:
        self.features = features

    def fit_predict(self, train: np.ndarray, test: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Fit on ``train``, predict ``test``."""
        scaler = StandardScaler().fit(self.features[train])
        model = RidgeCV(alphas=RIDGE_ALPHAS).fit(
            scaler.transform(self.features[train]), labels[train]
        )
        self.parameters = self.features.shape[1] + 1
        return model.predict(scaler.transform(self.features[test]))


class TreesProbe(RegionProbe):
    """Extremely randomised trees (``trees`` trees, ``min_samples_leaf=2``) with the setting of
    :data:`TREE_SETTINGS` that has the lowest inner cross-validated error. The fits of one fold
    run in parallel processes, and are remembered per split, so blends that share this probe
    fit its trees once.

    Args:
        features: ``[N, D]`` features of every region.
        seed: seed of the trees' randomness.
        trees: number of trees (default: ``200``).
    """

    def __init__(self, features: np.ndarray, seed: int, trees: int = 200) -> None:
        self.features, self.seed, self.trees = features, seed, trees
        self._fits: dict[tuple[bytes, bytes, bytes], FoldFit] = {}

    def fit(self, split: Split, labels: np.ndarray) -> FoldFit:
        """Fit every setting, keep the one the selection data prefers."""
        key = (split.train.tobytes(), split.test.tobytes(), labels.tobytes())
        if key not in self._fits:
            self._fits[key] = self._select(split, labels)
        return self._fits[key]

    def _select(self, split: Split, labels: np.ndarray) -> FoldFit:
        parts = [] if split.selects_on_test else list(split.inner)
        parts.append((split.train, split.test))
        jobs = [(setting, fit, predict) for setting in TREE_SETTINGS for fit, predict in parts]
        predictions = Parallel(n_jobs=-1)(
            delayed(_fit_trees)(self.features, labels, fit, predict, self.seed, self.trees, s)
            for s, fit, predict in jobs
        )
        candidates = []
        for i, _ in enumerate(TREE_SETTINGS):
            mine = [p for p, _ in predictions[i * len(parts) : (i + 1) * len(parts)]]
            held_out = None if split.selects_on_test else np.concatenate(mine[:-1])
            candidates.append(FoldFit(mine[-1], held_out))
        best = _choose(candidates, split, labels)
        self.parameters = predictions[(best + 1) * len(parts) - 1][1]
        return candidates[best]


def _fit_trees(
    features: np.ndarray,
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    seed: int,
    trees: int,
    setting: dict,
) -> tuple[np.ndarray, int]:
    """Predictions for ``test`` of trees fitted on ``train``, and their node count."""
    model = ExtraTreesRegressor(trees, min_samples_leaf=2, random_state=seed, **setting)
    model.fit(features[train], labels[train])
    return model.predict(features[test]), sum(tree.tree_.node_count for tree in model.estimators_)


class BlendProbe(RegionProbe):
    r"""Convex blend of two probes, :math:`w\,\hat y_a + (1 - w)\,\hat y_b`: :math:`w` is the
    grid value (:data:`BLEND_GRID`) with the lowest error on the selection data, shrunk by
    :data:`BLEND_SHRINK` towards :math:`\tfrac12`. ``weights`` records :math:`w` per fold.

    Args:
        first: probe :math:`a`.
        second: probe :math:`b`.
    """

    def __init__(self, first: RegionProbe, second: RegionProbe) -> None:
        self.first, self.second = first, second
        self.weights: list[float] = []

    def fit(self, split: Split, labels: np.ndarray) -> FoldFit:
        """Fit both probes, choose and shrink the weight, blend."""
        a, b = self.first.fit(split, labels), self.second.fit(split, labels)
        candidates = [
            FoldFit(
                w * a.test + (1 - w) * b.test,
                None if a.held_out is None else w * a.held_out + (1 - w) * b.held_out,
            )
            for w in BLEND_GRID
        ]
        chosen = BLEND_GRID[_choose(candidates, split, labels)]
        weight = BLEND_SHRINK * 0.5 + (1 - BLEND_SHRINK) * chosen
        self.weights.append(float(weight))
        self.parameters = self.first.parameters + self.second.parameters + 1
        return FoldFit(
            weight * a.test + (1 - weight) * b.test,
            None if a.held_out is None else weight * a.held_out + (1 - weight) * b.held_out,
        )
