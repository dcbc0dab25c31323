import pytest
import torch
from torch_geometric.data import Data

from stgraph.bench.attributes import AttributePlan
from stgraph.data.protocol import Protocol
from stgraph.data.temporal import TemporalSignal
from stgraph.engine.stages import STAGES
from stgraph.errors import InputError


def four_attributes():
    signal = torch.arange(100 * 3 * 4, dtype=torch.float32).view(100, 3, 4)
    graph = Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=3)
    mask = torch.ones_like(signal, dtype=torch.bool)
    names = ["a", "b", "c", "d"]
    return TemporalSignal("toy", signal, mask, graph, Protocol(steps_per_day=24), None, names)


def test_held_out_attributes_split_pretraining_from_adaptation():
    signal = four_attributes()
    plan = AttributePlan.choose(signal, ["d", "1"], per_attribute=True)
    ((pretrain, label),) = plan.parts(signal, STAGES["pretrain"])
    assert pretrain.feature_names == ["a", "c"] and label == "2 of 4 attributes"
    assert torch.equal(pretrain.signal, signal.signal[..., [0, 2]])
    runs = plan.parts(signal, STAGES["prompt-tune"])
    assert [(s.feature_names, p) for s, p in runs] == [
        (["d"], "2 held-out attributes, d"),
        (["b"], "2 held-out attributes, b"),
    ]
    assert plan.merged_part(signal, STAGES["prompt-tune"]) == (
        "2 held-out attributes, one model per attribute"
    )
    baseline = plan.parts(signal, None)  # a model without stages: on the held-out ones
    assert [s.feature_names for s, _ in baseline] == [["d"], ["b"]]


def test_no_plan_keeps_every_attribute_together():
    signal = four_attributes()
    plan = AttributePlan.choose(signal, None, per_attribute=False)
    assert plan.parts(signal, STAGES["finetune"]) == [(signal, "")]


@pytest.mark.parametrize(
    "held_out, needle", [([], "no attribute"), (["a", "b", "c", "d"], "leaves none")]
)
def test_impossible_choices_are_input_errors(held_out, needle):
    with pytest.raises(InputError, match=needle):
        AttributePlan.choose(four_attributes(), held_out, per_attribute=False)
