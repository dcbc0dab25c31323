import numpy as np
import pytest

from stgraph.data.region_protocol import RegionProtocol, evaluation_regions
from stgraph.errors import InputError


def test_every_region_is_tested_once_and_selection_stays_inside_training_regions():
    regions = np.arange(3, 80)
    splits = RegionProtocol(folds=10, inner_folds=4).splits(regions, seed=2)
    tested = np.concatenate([s.test for s in splits])
    assert sorted(tested.tolist()) == regions.tolist()
    for split in splits:
        assert not set(split.test) & set(split.train)
        assert sorted([*split.train, *split.test]) == regions.tolist()
        assert len(split.inner) == 4 and not split.selects_on_test
        held = np.concatenate([h for _, h in split.inner])
        assert sorted(held.tolist()) == sorted(split.train.tolist())  # inner folds cover train
        for fit, held_out in split.inner:
            assert not set(fit) & set(held_out) and set(fit) <= set(split.train)


def test_folds_follow_the_seed_rule():
    protocol = RegionProtocol(folds=5)
    first = protocol.splits(np.arange(40), seed=7)
    again = protocol.splits(np.arange(40), seed=7)
    other = protocol.splits(np.arange(40), seed=8)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a.test, b.test) for a, b in zip(first, other, strict=True))
    unshuffled = RegionProtocol(folds=4, shuffle=False).splits(np.arange(8), seed=3)
    assert unshuffled[0].test.tolist() == [0, 1]


def test_published_protocol_selects_on_the_test_fold_and_says_so():
    protocol = RegionProtocol.published(folds=5)
    assert all(s.selects_on_test for s in protocol.splits(np.arange(30), seed=0))
    assert "TEST fold" in protocol.describe() and "optimistic" in protocol.describe()
    assert "5-fold CV inside the training regions" in RegionProtocol(inner_folds=5).describe()


def test_bad_protocols_are_input_errors():
    with pytest.raises(InputError, match="unknown selection"):
        RegionProtocol(selection="leaky")
    with pytest.raises(InputError, match="at least 2 folds"):
        RegionProtocol(folds=1)
    with pytest.raises(InputError, match="cannot make 10 folds"):
        RegionProtocol().splits(np.arange(5), seed=0)


def test_zero_labels_are_dropped_only_when_the_task_says_so():
    labels = np.array([0.0, 5, 6, 0, 9])
    assert evaluation_regions(labels, drop_zero=True).tolist() == [1, 2, 4]
    assert evaluation_regions(labels, drop_zero=False).tolist() == [0, 1, 2, 3, 4]
