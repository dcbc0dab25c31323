import torch
import torch.nn.functional as F

from stgraph.data.regions import region_tensors
from stgraph.data.synthetic import synthetic_regions
from stgraph.engine.region_encoder import EncoderConfig, fit_region_encoder
from stgraph.models.srel import SREL


def outgoing_fit(model, embedding, mobility):
    """Mean correlation between predicted and true outgoing-trip distributions."""
    with torch.no_grad():
        logits = model.source(embedding) @ model.target(embedding).t()
        predicted = F.softmax(logits, dim=1)
    truth = mobility / mobility.sum(1, keepdim=True)
    return (
        torch.stack(
            [
                torch.corrcoef(torch.stack([p, t]))[0, 1]
                for p, t in zip(predicted, truth, strict=True)
            ]
        )
        .mean()
        .item()
    )


def test_srel_learns_the_planted_mobility_structure():
    data = synthetic_regions(num_regions=40, seed=1)
    inputs = region_tensors(data)
    torch.manual_seed(0)
    model = SREL({k: v.size(1) for k, v in inputs.views.items()}, channels=32, embed_dim=32)
    arguments = inputs.encoder_inputs()
    model.eval()
    with torch.no_grad():
        before = outgoing_fit(model, model(*arguments), inputs.mobility)
    embedding, history = fit_region_encoder(
        model, inputs, EncoderConfig(epochs=250, lr=3e-3, progress=False)
    )
    after = outgoing_fit(model, embedding, inputs.mobility)
    assert history[-1] < 0.7 * history[0]
    assert after > 0.8 and after > before + 0.3, (before, after)


def test_lambda_zero_ablation_keeps_the_bias_switched_off():
    model = SREL({"poi": 5}, learn_bias=False)
    strengths = [m.attention.bias_strength for m in [*model.intra.values(), *model.blocks]]
    assert all(s.item() == 0.0 and not s.requires_grad for s in strengths)


def test_without_coordinates_the_bias_uses_hops():
    data = synthetic_regions(num_regions=20, seed=0)
    del data.distance, data.pos
    inputs = region_tensors(data)
    assert inputs.spatial_prior == "hops" and inputs.distance is None
    assert inputs.hops.shape == (20, 20)
    model = SREL({k: v.size(1) for k, v in inputs.views.items()}, spatial_prior="hops")
    out = model(*inputs.encoder_inputs())
    assert out.shape == (20, 144)


def test_objectives_choose_the_parts_of_the_loss():
    import pytest

    data = synthetic_regions(num_regions=20, seed=0)
    data.poi_similarity = torch.eye(20)
    inputs = region_tensors(data)
    dims = {k: v.size(1) for k, v in inputs.views.items()}
    arguments = (inputs.views, inputs.mobility, inputs.similarities)
    for objectives, expected in (
        (("mobility",), {"mobility_out", "mobility_in"}),
        (("views",), {f"{v}_view" for v in dims}),
        (("similarity",), {"poi_similarity"}),
    ):
        model = SREL(dims, similarity_names=("poi_similarity",), objectives=objectives)
        _, parts = model.loss(model(*inputs.encoder_inputs()), *arguments)
        assert set(parts) == expected
    with pytest.raises(ValueError, match="non-empty subset"):
        SREL(dims, objectives=("labels",))


def test_embedding_does_not_depend_on_the_process_hash_seed(tmp_path):
    """Dictionaries built from PyG's Data.keys() once followed string hashing, so the same
    seed gave a different embedding in every process."""
    import os
    import subprocess
    import sys

    script = (
        "import numpy, torch\n"
        "from stgraph.data.regions import region_tensors\n"
        "from stgraph.data.synthetic import synthetic_regions\n"
        "from stgraph.engine.region_encoder import EncoderConfig, fit_region_encoder\n"
        "from stgraph.models.srel import SREL\n"
        "data = synthetic_regions(num_regions=15, seed=2)\n"
        "torch.manual_seed(5)\n"
        "data.poi_similarity = torch.rand(15, 15)\n"
        "data.landuse_similarity = torch.rand(15, 15)\n"
        "data.mobility_similarity = torch.rand(15, 15)\n"
        "inputs = region_tensors(data)\n"
        "torch.manual_seed(0)\n"
        "model = SREL({k: v.size(1) for k, v in inputs.views.items()}, channels=16, embed_dim=8,"
        " similarity_names=tuple(inputs.similarities))\n"
        "e, _ = fit_region_encoder(model, inputs, EncoderConfig(epochs=5, progress=False))\n"
        "numpy.save(__import__('sys').argv[1], e.numpy())\n"
    )
    outputs = []
    for hash_seed in ("1", "2", "3"):
        path = tmp_path / f"e{hash_seed}.npy"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(path)], check=True, env=env)
        outputs.append(torch.from_numpy(__import__("numpy").load(path)))
    assert all(torch.equal(outputs[0], o) for o in outputs[1:])


def test_view_skip_carries_each_view_past_the_fusion():
    data = synthetic_regions(num_regions=20, seed=3)
    inputs = region_tensors(data)
    dims = {k: v.size(1) for k, v in inputs.views.items()}
    changed = {**inputs.views, "poi": inputs.views["poi"] + torch.randn_like(inputs.views["poi"])}
    rest = inputs.encoder_inputs()[1:]
    for view_skip in (False, True):
        torch.manual_seed(0)
        model = SREL(dims, channels=16, embed_dim=8, view_skip=view_skip).eval()
        with torch.no_grad():
            model.out.weight[:, :16] = 0.0  # cut the path through the fusion
            a, b = model(inputs.views, *rest), model(changed, *rest)
        if view_skip:
            assert model.out.in_features == 16 * (1 + len(dims))
            assert (a - b).abs().max() > 1e-3  # the POI view still reaches the embedding
        else:
            assert torch.allclose(a, b)  # only the fused path existed
