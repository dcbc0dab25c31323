import numpy as np
import pytest

from stgraph.engine.region_eval import cross_validate, evaluation_regions, region_splits
from stgraph.engine.region_fit import ridge_fit_predict
from stgraph.errors import InputError


def test_clean_protocol_never_lets_test_regions_into_fitting_or_selection():
    labels = np.arange(1, 78, dtype=float)
    regions = evaluation_regions(labels, "crime")
    seen = []

    def spy(split):
        seen.append(split)
        return labels[split.test]

    result = cross_validate(spy, labels, region_splits(regions, 10, seed=3))
    tested = np.concatenate([s.test for s in seen])
    assert sorted(tested.tolist()) == regions.tolist()  # every region tested exactly once
    for split in seen:
        assert not set(split.test) & set(split.train)
        assert not set(split.test) & set(split.val)
        assert not set(split.train) & set(split.val) and len(split.val) > 0
        assert sorted([*split.train, *split.val, *split.test]) == regions.tolist()
    assert result.metrics["R2"] == pytest.approx(1.0)


def test_paper_protocol_selects_on_the_test_fold_and_says_so():
    splits = region_splits(np.arange(30), 5, seed=0, protocol="paper")
    assert all(np.array_equal(s.val, s.test) for s in splits)
    with pytest.raises(InputError, match="unknown protocol"):
        region_splits(np.arange(30), protocol="leaky")


def test_zero_check_in_regions_are_dropped_and_negatives_clipped():
    labels = np.array([0.0, 5, 6, 0, 9, 10, 11, 12, 13, 14, 15, 16])
    assert evaluation_regions(labels, "check_in").tolist() == [1, 2, 4, 5, 6, 7, 8, 9, 10, 11]
    assert len(evaluation_regions(labels, "crime")) == 12
    result = cross_validate(
        lambda s: -np.ones(len(s.test)), labels, region_splits(np.arange(12), 3, seed=0)
    )
    assert (result.predictions == 0).all()


def test_ridge_fit_uses_training_regions_only():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    y = x @ np.array([3.0, -2.0, 0.0, 1.0]) + 50
    split = region_splits(np.arange(60), 5, seed=0)[0]
    poisoned = y.copy()
    poisoned[split.test] = 1e9  # labels of the test fold must not matter
    np.testing.assert_allclose(
        ridge_fit_predict(x, poisoned, split), ridge_fit_predict(x, y, split)
    )
