import numpy as np
import pytest

from stgraph.data.region_protocol import RegionProtocol
from stgraph.engine.region_eval import cross_validate
from stgraph.engine.region_probes import FoldFit, RegionProbe


class Spy(RegionProbe):
    """Predicts the labels it is shown for the test regions, and records every split."""

    def __init__(self, value=None):
        self.seen, self.value = [], value

    def fit(self, split, labels):
        self.seen.append(split)
        test = labels[split.test] if self.value is None else np.full(len(split.test), self.value)
        return FoldFit(test, None)


def test_every_region_is_predicted_once_and_scored_on_the_concatenation():
    labels = np.arange(1, 78, dtype=float)
    spy, protocol = Spy(), RegionProtocol()
    result = cross_validate(spy, labels, protocol.splits(np.arange(77), 3), protocol)
    assert sorted(result.regions.tolist()) == list(range(77)) and len(spy.seen) == 10
    assert result.metrics["R2"] == pytest.approx(1.0) and set(result.metrics) == {
        "MAE",
        "RMSE",
        "R2",
    }


def test_negatives_are_clipped_only_when_the_protocol_says_so():
    labels = np.linspace(1, 12, 12)
    clipped, raw = RegionProtocol(folds=3), RegionProtocol(folds=3, clip_negative=False)
    result = cross_validate(Spy(-1.0), labels, clipped.splits(np.arange(12), 0), clipped)
    assert (result.predictions == 0).all()
    result = cross_validate(Spy(-1.0), labels, raw.splits(np.arange(12), 0), raw)
    assert (result.predictions == -1).all()
