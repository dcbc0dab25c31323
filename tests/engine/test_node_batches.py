import pytest
import torch

from stgraph.bench.specs import get_model
from stgraph.data.synthetic import diffusion_signal
from stgraph.engine.node_batches import NodeBatcher
from stgraph.engine.trainer import TrainConfig, Trainer
from stgraph.errors import InputError
from stgraph.models.naive import LastValue


def build(name, signal):
    torch.manual_seed(0)
    return get_model(name).build(signal, signal.fit_scaler(), None, None)


def splits(signal):
    scaler = signal.fit_scaler()
    return [signal.windows(part, scaler) for part in ("train", "val", "test")]


@pytest.mark.parametrize("name", ["stid", "st-transformer-bias-sparse", "seasonal-naive"])
def test_scoring_in_node_parts_equals_the_whole_graph(name):
    signal = diffusion_signal(num_nodes=30, num_steps=24 * 10, seed=1)
    _, _, test = splits(signal)
    model = build(name, signal)
    whole = Trainer(model, TrainConfig(progress=False)).evaluate(test).sums
    parts = Trainer(model, TrainConfig(progress=False, node_batch_size=7)).evaluate(test).sums
    torch.testing.assert_close(parts, whole, rtol=1e-5, atol=1e-6)
    predictions = Trainer(model, TrainConfig(progress=False, node_batch_size=4))
    full = Trainer(model, TrainConfig(progress=False)).predict(test, torch.arange(5))
    torch.testing.assert_close(predictions.predict(test, torch.arange(5)), full)


def test_the_halo_is_what_the_seeds_read():
    signal = diffusion_signal(num_nodes=30, num_steps=24 * 8, seed=2)
    model = build("st-transformer-bias-sparse", signal)
    batcher = NodeBatcher(30, 5, model.receptive_hops, model.edge_index)
    part = batcher.part(torch.tensor([3, 17]))
    source, target = model.edge_index
    one_hop = set(source[torch.isin(target, torch.tensor([3, 17]))].tolist())
    two_hop = set(source[torch.isin(target, torch.tensor(sorted(one_hop)))].tolist())
    assert set(part.nodes.tolist()) == one_hop | two_hop  # two blocks: two hops
    assert part.nodes[part.seeds].tolist() == [3, 17]
    assert torch.equal(model.edge_index[:, part.edge_ids], part.nodes[part.edge_index])
    cover = torch.cat([p.nodes[p.seeds] for p in batcher.train_parts(seed=0)])
    assert sorted(cover.tolist()) == list(range(30))  # every node a seed exactly once


@pytest.mark.parametrize("name", ["stid", "st-transformer-bias-sparse"])
def test_one_part_of_every_node_trains_as_the_whole_graph(name):
    signal = diffusion_signal(num_nodes=24, num_steps=24 * 10, seed=3)
    train, val, test = splits(signal)
    results = []
    for size in (None, 24):
        model = build(name, signal)
        for module in model.modules():  # parts draw dropout masks in their own node order
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
        config = TrainConfig(epochs=2, batch_size=32, progress=False, node_batch_size=size)
        trainer = Trainer(model, config)
        trainer.fit(train, val)
        results.append(trainer.evaluate(test).compute(("MAE", "RMSE")))
    assert results[1] == pytest.approx(results[0], rel=1e-4)


def test_node_batches_learn_the_planted_series():
    signal = diffusion_signal(num_nodes=40, num_steps=24 * 20, seed=0)
    train, val, test = splits(signal)
    model = build("st-transformer-bias-sparse", signal)
    config = TrainConfig(epochs=6, lr=5e-3, progress=False, node_batch_size=10)
    trainer = Trainer(model, config)
    trainer.fit(train, val)
    learned = trainer.evaluate(test).compute(("MAE",))["MAE"]
    naive = Trainer(LastValue(12), TrainConfig(progress=False)).evaluate(test)
    assert learned < 0.7 * naive.compute(("MAE",))["MAE"]


def test_models_that_need_the_whole_graph_refuse_node_batches():
    signal = diffusion_signal(num_nodes=12, num_steps=24 * 8)
    with pytest.raises(InputError, match="whole graph"):
        Trainer(build("st-transformer-bias", signal), TrainConfig(node_batch_size=4))
    with pytest.raises(InputError, match="at least one node"):
        Trainer(build("stid", signal), TrainConfig(node_batch_size=0))


def test_graph_parts_are_compact_patches_with_a_small_halo():
    signal = diffusion_signal(num_nodes=600, num_steps=192, seed=4)
    model = build("st-transformer-bias-sparse", signal)
    batcher = NodeBatcher(600, 40, model.receptive_hops, model.edge_index)
    patches = [len(p.nodes) for p in batcher.train_parts(seed=0)]
    scattered = [
        len(batcher.part(seeds).nodes)
        for seeds in torch.randperm(600, generator=torch.Generator().manual_seed(0)).split(40)
    ]
    assert sum(patches) < 0.5 * sum(scattered), (sum(patches), sum(scattered))
    cover = torch.cat([p.nodes[p.seeds] for p in batcher.train_parts(seed=1)])
    assert sorted(cover.tolist()) == list(range(600))
