"""The evaluation protocol of region tasks, as one object that every region table reads.

A :class:`RegionProtocol` fixes what a fair comparison over a city's regions means: how many
folds, whether they are shuffled and how the seed makes them, where any selection (a penalty,
a tree setting, a blend weight) is made, whether negative predictions are clipped, and which
metrics are reported. Which regions take part in a task is a property of the task in the
city's data (``data.drop_zero_tasks``), read by :func:`evaluation_regions`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.model_selection import KFold

from stgraph.errors import InputError

SELECTIONS = ("inner", "test-fold")


@dataclass(frozen=True)
class Split:
    """Region indices of one outer fold.

    ``train`` holds every region a model may fit on; ``inner`` is the list of
    ``(fit, held_out)`` index pairs inside ``train`` on which any selection is made. Under the
    ``test-fold`` selection (HAFusion's published protocol) ``inner`` is empty and selection
    reads ``test`` itself.
    """

    train: np.ndarray
    test: np.ndarray
    inner: tuple[tuple[np.ndarray, np.ndarray], ...]

    @property
    def selects_on_test(self) -> bool:
        """Whether selection is made on the test fold (the optimistic published protocol)."""
        return not self.inner


@dataclass(frozen=True)
class RegionProtocol:
    """Cross-validation protocol over regions.

    Args:
        folds: outer folds (default: ``10``).
        shuffle: shuffle regions before the outer folds; the fold seed is the run seed
            (default: ``True``).
        selection: ``"inner"`` (every selection is made by inner cross-validation on the
            training regions of the fold) or ``"test-fold"`` (on the test fold itself, as
            HAFusion's published numbers; optimistic) (default: ``"inner"``).
        inner_folds: folds of the inner cross-validation, seeded by the run seed
            (default: ``5``).
        clip_negative: clip negative predictions to 0 before scoring, as HAFusion does for
            counts (default: ``True``).
        metrics: metrics on the concatenated out-of-fold predictions
            (default: ``("MAE", "RMSE", "R2")``).
    """

    folds: int = 10
    shuffle: bool = True
    selection: str = "inner"
    inner_folds: int = 5
    clip_negative: bool = True
    metrics: tuple[str, ...] = ("MAE", "RMSE", "R2")

    def __post_init__(self) -> None:
        if self.selection not in SELECTIONS:
            raise InputError(
                f"unknown selection '{self.selection}'; choose {' or '.join(SELECTIONS)}"
            )
        if self.folds < 2 or self.inner_folds < 2:
            raise InputError(
                f"cross-validation needs at least 2 folds, got {self.folds} outer and "
                f"{self.inner_folds} inner"
            )

    @classmethod
    def published(cls, folds: int = 10) -> RegionProtocol:
        """HAFusion's published protocol: selection on the test fold (labelled everywhere)."""
        return cls(folds=folds, selection="test-fold")

    def splits(self, regions: np.ndarray, seed: int) -> list[Split]:
        """The outer folds over ``regions`` (region indices) for run ``seed``."""
        if len(regions) < self.folds:
            raise InputError(f"{len(regions)} regions cannot make {self.folds} folds")
        outer = KFold(self.folds, shuffle=self.shuffle, random_state=seed if self.shuffle else None)
        splits = []
        for fit_part, test_part in outer.split(regions):
            train, test = regions[fit_part], regions[test_part]
            inner: tuple = ()
            if self.selection == "inner":
                folds = min(self.inner_folds, len(train))
                inner = tuple(
                    (train[a], train[b])
                    for a, b in KFold(folds, shuffle=True, random_state=seed).split(train)
                )
            splits.append(Split(train, test, inner))
        return splits

    def describe(self) -> str:
        """One line stating the protocol, printed beside every result."""
        order = "shuffled, seed = run seed" if self.shuffle else "in region order"
        if self.selection == "test-fold":
            selection = "selection on the TEST fold (HAFusion's published protocol, optimistic)"
        else:
            selection = f"every selection by {self.inner_folds}-fold CV inside the training regions"
        clip = ", negatives clipped to 0" if self.clip_negative else ""
        return (
            f"{self.folds}-fold CV ({order}), {selection}; {'/'.join(self.metrics)} on the "
            f"concatenated out-of-fold predictions{clip}"
        )

    def to_dict(self) -> dict:
        """Plain-dict form, for results files."""
        return asdict(self)


def evaluation_regions(labels: np.ndarray, drop_zero: bool) -> np.ndarray:
    """Regions that take part in evaluating a task: all, or those with a non-zero label when
    the task's data says zero labels are missing (HAFusion's check-in counts)."""
    regions = np.arange(len(labels))
    return regions[labels != 0] if drop_zero else regions
