import numpy as np
import pytest

from stgraph.data.region_protocol import RegionProtocol
from stgraph.engine.region_eval import cross_validate
from stgraph.engine.region_probes import (
    BLEND_SHRINK,
    BlendProbe,
    RidgeProbe,
    TreesProbe,
    inner_targets,
)


def planted(n=90, seed=0):
    """A label that is a step function of feature 0 (trees find it, a line cannot) plus a
    linear part in feature 1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    y = 100 + 40 * (x[:, 0] > 0.3) + 5 * x[:, 1] + rng.normal(scale=1.0, size=n)
    return x, y


@pytest.mark.parametrize(
    "make", [RidgeProbe, lambda x: TreesProbe(x, 0, trees=30)], ids=["ridge", "trees"]
)
def test_test_labels_never_reach_fitting_or_selection(make):
    x, y = planted()
    protocol = RegionProtocol(folds=5, inner_folds=3)
    split = protocol.splits(np.arange(90), seed=1)[0]
    poisoned = y.copy()
    poisoned[split.test] = 1e9
    clean, dirty = make(x).fit(split, y), make(x).fit(split, poisoned)
    np.testing.assert_allclose(clean.test, dirty.test)
    np.testing.assert_allclose(clean.held_out, dirty.held_out)
    assert len(clean.held_out) == len(split.train)
    assert sorted(inner_targets(split, y).tolist()) == sorted(y[split.train].tolist())


def test_trees_learn_a_step_that_ridge_cannot():
    x, y = planted(120)
    protocol = RegionProtocol(folds=5, inner_folds=3)
    splits = protocol.splits(np.arange(120), seed=0)
    trees = cross_validate(TreesProbe(x, 0, trees=50), y, splits, protocol).metrics["R2"]
    ridge = cross_validate(RidgeProbe(x), y, splits, protocol).metrics["R2"]
    assert trees > 0.85 and trees > ridge + 0.1


def test_blend_leans_to_the_better_probe_but_is_shrunk_towards_half():
    x, y = planted(120)
    noise = np.random.default_rng(5).normal(size=(120, 5))
    protocol = RegionProtocol(folds=5, inner_folds=3)
    blend = BlendProbe(TreesProbe(x, 0, trees=50), RidgeProbe(noise))
    result = cross_validate(blend, y, protocol.splits(np.arange(120), 0), protocol)
    lowest = BLEND_SHRINK * 0.5
    assert all(w >= 1 - lowest - 0.11 for w in blend.weights)  # near the top of the range
    assert all(lowest <= w <= 1 - lowest for w in blend.weights)
    assert result.metrics["R2"] > 0.6


def test_published_protocol_selects_on_the_test_fold():
    x, y = planted()
    split = RegionProtocol.published(folds=5).splits(np.arange(90), seed=1)[0]
    assert split.selects_on_test
    fit = BlendProbe(RidgeProbe(x), RidgeProbe(x[:, ::-1])).fit(split, y)
    assert fit.held_out is None and len(fit.test) == len(split.test)
