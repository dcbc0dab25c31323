"""Which models exist, which datasets they fit, and how each is built for a dataset."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor, nn
from torch_geometric.utils import add_self_loops, remove_self_loops

from stgraph.data.registry import DATASETS, DatasetSpec
from stgraph.data.scaler import StandardScaler
from stgraph.data.spatial_matrices import edge_distances, hop_matrix, pairwise_distance_matrix
from stgraph.data.spectral_order import spectral_order
from stgraph.data.temporal import TemporalSignal
from stgraph.errors import InputError
from stgraph.llm.backbone import BackboneWeights, load_backbone
from stgraph.models.dlinear import DLinear
from stgraph.models.naive import LastValue, SeasonalNaive
from stgraph.models.promptst import PromptST
from stgraph.models.pt_tuning import PTTuning
from stgraph.models.ridge import RidgeLags
from stgraph.models.st_link import STLink
from stgraph.models.st_transformer import STTransformer
from stgraph.models.stid import STID

FORECAST_KINDS = ("sensors", "grid", "series")


@dataclass(frozen=True)
class ModelOptions:
    """Settings that some models read (a model's spec lists which in ``reads``).

    Attributes:
        backbone: folder of the pretrained transformer (``None``: the packaged
            all-MiniLM-L6-v2).
        unfrozen_layers: top backbone blocks whose attention trains.
        prompt_tokens: prompts per layer of a prompt-tuning stage.
        patch_len: steps a patch holds (patch models).
        patch_stride: steps between patch starts (``None``: ``patch_len``).
    """

    backbone: Path | None = None
    unfrozen_layers: int = 2
    prompt_tokens: int = 2
    patch_len: int = 12
    patch_stride: int | None = None


def seasonal_period(signal: TemporalSignal) -> int:
    """A week of steps when the series holds at least four weeks, else a day; for weekly data
    without a daily clock, a year (52) when it holds three years, else one step."""
    per_day = signal.protocol.steps_per_day
    if per_day is None:
        return 52 if signal.num_steps >= 3 * 52 else 1
    return 7 * per_day if signal.num_steps >= 4 * 7 * per_day else per_day


def _dims(signal: TemporalSignal) -> dict:
    p = signal.protocol
    return {
        "input_len": p.input_len,
        "output_len": p.output_len,
        "num_features": signal.num_features,
    }


def _build_seasonal(
    signal: TemporalSignal, scaler: StandardScaler, days: int | None = None
) -> nn.Module:
    """Seasonal naive with a period of ``days`` days (``None``: :func:`seasonal_period`)."""
    p = signal.protocol
    if days is None:
        period = seasonal_period(signal)
    elif p.steps_per_day is None:
        raise InputError(f"'{signal.name}' has no daily clock for a {days}-day season")
    else:
        period = days * p.steps_per_day
    return SeasonalNaive(signal.signal, signal.mask, period, p.input_len, p.output_len, scaler)


def _build_stid(signal: TemporalSignal, *_) -> nn.Module:
    return STID(signal.num_nodes, steps_per_day=signal.protocol.steps_per_day or 1, **_dims(signal))


DENSE_NODE_LIMIT = 10_000
"""Graphs up to this many nodes get dense ``[N, N]`` spatial priors; larger ones need a
sparse model."""


def _spatial_priors(signal: TemporalSignal) -> tuple[Tensor | None, Tensor | None]:
    """Dense distances scaled to ``[0, 1]`` and hop counts up to 4 of the signal's graph
    (``None`` where it has no coordinates or no edges), for the dense spatial biases."""
    if signal.num_nodes > DENSE_NODE_LIMIT:
        gib = signal.num_nodes**2 * 12 / 2**30
        raise InputError(
            f"dense attention over {signal.num_nodes:,} nodes needs {gib:,.0f} GiB of pairwise "
            "priors alone; st-transformer-bias-sparse attends over the graph's edges instead"
        )
    distance = pairwise_distance_matrix(signal.graph)
    if distance is not None and distance.max() > 0:
        distance = distance / distance.max()
    hops = hop_matrix(signal.graph, 4) if signal.graph.num_edges else None
    return distance, hops


def _edge_priors(signal: TemporalSignal) -> tuple[Tensor | None, Tensor, Tensor]:
    """Per-edge priors for the sparse path, over the graph's edges and a self-loop per node:
    each edge's length scaled to ``[0, 1]`` (``None`` without coordinates), a hop count
    telling a node's own state (0) from a neighbour's (1), and the edges ``[2, E]``."""
    graph = signal.graph
    loops_removed = remove_self_loops(graph.edge_index)[0]
    edge_index = add_self_loops(loops_removed, num_nodes=graph.num_nodes)[0]
    distance = edge_distances(graph, edge_index)
    if distance is not None and distance.max() > 0:
        distance = distance / distance.max()
    return distance, (edge_index[0] != edge_index[1]).long(), edge_index


def _build_transformer(
    signal: TemporalSignal, spatial_bias: bool, sparse: bool = False
) -> nn.Module:
    """The spatio-temporal transformer, dense (all pairs) or ``sparse`` (the graph's edges)."""
    if sparse:
        distance, hops, edge_index = _edge_priors(signal)
    else:
        (distance, hops), edge_index = _spatial_priors(signal), None
    return STTransformer(
        signal.num_nodes,
        steps_per_day=signal.protocol.steps_per_day or 1,
        distance=distance,
        hops=hops,
        edge_index=edge_index,
        spatial_bias=spatial_bias,
        **_dims(signal),
    )


def _build_pt_tuning(
    signal: TemporalSignal,
    scaler: StandardScaler,
    stage: str | None,
    options: ModelOptions,
    prompt: str = "per-patch",
) -> nn.Module:
    """PT-Tuning for ``stage``: the reconstruction path for ``pretrain`` and ``pt-tuning``
    (with ``prompt``-shaped prompts), the head path for the others."""
    p = signal.protocol
    path = "reconstruction" if stage in ("pretrain", "pt-tuning") else "head"
    try:
        return PTTuning(
            p.input_len,
            p.output_len,
            patch_len=options.patch_len,
            stride=options.patch_stride,
            prompt=prompt,
            forecast_path=path,
        )
    except ValueError as err:  # settings that cannot make a model: the user's input
        raise InputError(f"pt-tuning on {signal.name}: {err}") from err


PRETRAIN_CHECKPOINT_SERIES = 2048
"""Temporal series whose activations PromptST's joint pretraining keeps at once: 32 windows
of a 64-region attribute. A training step on nyc-complaints' 16 x 19 x 64 series then takes
about 0.4 GiB above the process's base instead of 1.1 GiB (CPU, one thread); the per-attribute
stages hold a fifth of a joint batch and run whole."""


def _build_promptst(
    signal: TemporalSignal,
    scaler: StandardScaler,
    stage: str | None,
    options: ModelOptions,
    spatial_bias: bool = True,
    fresh_head: bool = False,
) -> nn.Module:
    """PromptST for ``stage``: prompts (one set per attribute) only in the prompt stages;
    ``prompt-tune`` trains them with the pretrained head (``fresh_head``: a new head, as
    PromptST's code does), ``tiny-prompt`` has one prompt per layer shared by every node on
    the frozen pretrained head, ``finetune`` starts from the whole pretrained state.
    Pretraining batches every attribute at once and recomputes the temporal encoder in
    groups of :data:`PRETRAIN_CHECKPOINT_SERIES` series (its memory)."""
    if stage in ("prompt-tune", "tiny-prompt") and options.prompt_tokens < 1:
        raise InputError(
            f"a prompt stage needs at least one prompt token, got {options.prompt_tokens}"
        )
    distance, hops = _spatial_priors(signal) if spatial_bias else (None, None)
    prompts = {"prompt-tune": options.prompt_tokens, "tiny-prompt": 1}.get(stage, 0)
    p = signal.protocol
    return PromptST(
        signal.num_nodes,
        p.input_len,
        p.output_len,
        num_attributes=signal.num_features,
        distance=distance,
        hops=hops,
        spatial_bias=spatial_bias,
        prompt_tokens=prompts,
        prompt_scope="shared" if stage == "tiny-prompt" else "node",
        fresh_head=fresh_head,
        checkpoint_series=PRETRAIN_CHECKPOINT_SERIES if stage == "pretrain" else None,
    )


@functools.lru_cache(maxsize=2)
def _backbone(path: Path | None) -> BackboneWeights:
    """A backbone read once per process (every seed and variant of a run shares it)."""
    return load_backbone(path)


@dataclass(frozen=True)
class STLinkVariant:
    """One row of the ST-LINK table: ST-LINK, ST-LLM or an ablation.

    Attributes:
        position_encoding: ``"rotary"`` (SE-Attention) or ``"absolute"`` (ST-LLM's).
        positions: SE-RoPE's spatial position, ``"spectral"`` (the graph's spectral order) or
            ``"index"`` (the dataset's node index).
        memory: MRFFN beside the top block's MLP.
        pretrained: the backbone's weights, or a random initialisation.
        full_tune: train everything instead of PFA.
    """

    position_encoding: str = "rotary"
    positions: str = "spectral"
    memory: bool = True
    pretrained: bool = True
    full_tune: bool = False


ST_LINK_VARIANTS = {
    "st-link": STLinkVariant(),
    "st-llm": STLinkVariant(position_encoding="absolute", memory=False),
    "st-link-no-se": STLinkVariant(position_encoding="absolute"),
    "st-link-no-mrffn": STLinkVariant(memory=False),
    "st-link-node-index": STLinkVariant(positions="index"),
    "st-link-random-init": STLinkVariant(pretrained=False),
    "st-link-full-tune": STLinkVariant(full_tune=True),
}
"""The ST-LINK rows: the method, its base ST-LLM (learned absolute positions and PFA, no SE,
no MRFFN) and one ablation per part."""


def build_st_link(name: str, signal: TemporalSignal, options: ModelOptions) -> STLink:
    """The ST-LINK row ``name`` (a key of :data:`ST_LINK_VARIANTS`) for ``signal``."""
    variant = ST_LINK_VARIANTS[name]
    positions = None
    if variant.position_encoding == "rotary" and variant.positions == "spectral":
        if signal.graph.num_edges == 0:
            raise InputError(
                f"{name} orders the nodes along the sensor graph for its SE-attention, but "
                f"'{signal.name}' has no edges; st-link-node-index uses the node index instead"
            )
        positions = spectral_order(signal.graph)
    backbone = _backbone(options.backbone)
    p = signal.protocol
    try:
        return STLink(
            backbone,
            signal.num_nodes,
            steps_per_day=p.steps_per_day or 1,
            spatial_positions=positions,
            position_encoding=variant.position_encoding,
            memory=variant.memory,
            unfrozen_layers=options.unfrozen_layers,
            full_tune=variant.full_tune,
            pretrained=variant.pretrained,
            **_dims(signal),
        )
    except ValueError as err:  # settings that cannot make a model: the user's input
        raise InputError(f"{name} on {signal.name}: {err}") from err


@dataclass(frozen=True)
class ModelSpec:
    """A benchmarkable model.

    Attributes:
        name: CLI name.
        task: ``forecasting`` (temporal datasets) or ``regions``.
        summary: one line.
        build: ``build(signal, scaler, stage, options)`` returns a forecasting model for
            ``stage`` (``None`` when the model has no stages) with the
            :class:`ModelOptions` ``options``; ``None`` for region models, which
            :mod:`stgraph.bench.regions` runs.
        stages: the training stages the model supports (:mod:`stgraph.engine.stages`);
            empty for models that train in one go.
        default_stages: the stages a run without a chosen stage goes through, in order.
        reads: the :class:`ModelOptions` fields the model reads.
        weights_of: the model whose stage checkpoints this one reads and writes (``None``:
            its own), for a variant that differs only in what a stage creates afresh.
    """

    name: str
    task: str
    summary: str
    build: Callable[[TemporalSignal, StandardScaler, str | None, ModelOptions], nn.Module] | None
    stages: tuple[str, ...] = ()
    default_stages: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    weights_of: str | None = None

    @property
    def checkpoint_name(self) -> str:
        """The model name its stage checkpoints carry."""
        return self.weights_of or self.name


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "last-value",
            "forecasting",
            "repeat the last observed step",
            lambda s, *_: LastValue(s.protocol.output_len),
        ),
        ModelSpec(
            "seasonal-naive",
            "forecasting",
            "repeat the value one week (or day) earlier",
            lambda s, scaler, *_: _build_seasonal(s, scaler),
        ),
        ModelSpec(
            "seasonal-naive-daily",
            "forecasting",
            "repeat the value one day earlier",
            lambda s, scaler, *_: _build_seasonal(s, scaler, days=1),
        ),
        ModelSpec(
            "seasonal-naive-weekly",
            "forecasting",
            "repeat the value one week earlier",
            lambda s, scaler, *_: _build_seasonal(s, scaler, days=7),
        ),
        ModelSpec(
            "ridge",
            "forecasting",
            "ridge regression on the input window, alpha on val",
            lambda s, *_: RidgeLags(**_dims(s)),
        ),
        ModelSpec(
            "stid", "forecasting", "STID: node/time embeddings + MLP (CIKM 2022)", _build_stid
        ),
        ModelSpec(
            "st-transformer",
            "forecasting",
            "transformer over nodes, no spatial bias",
            lambda s, *_: _build_transformer(s, spatial_bias=False),
        ),
        ModelSpec(
            "st-transformer-bias",
            "forecasting",
            "the same transformer with SpatialBiasAttention (distance + hop bias)",
            lambda s, *_: _build_transformer(s, spatial_bias=True),
        ),
        ModelSpec(
            "st-transformer-bias-sparse",
            "forecasting",
            "st-transformer-bias attending over the graph's edges only (large graphs)",
            lambda s, *_: _build_transformer(s, spatial_bias=True, sparse=True),
        ),
        ModelSpec(
            "dlinear",
            "forecasting",
            "DLinear: moving-average trend + remainder, one linear map each (AAAI 2023)",
            lambda s, *_: DLinear(s.protocol.input_len, s.protocol.output_len),
        ),
        ModelSpec(
            "pt-tuning",
            "forecasting",
            "PT-Tuning: masked-patch pretraining, prompts on extended mask tokens (DASFAA 2024)",
            _build_pt_tuning,
            stages=("pretrain", "pt-tuning", "linear-probe", "finetune", "supervised"),
            default_stages=("pretrain", "pt-tuning"),
            reads=("patch_len", "patch_stride"),
        ),
        ModelSpec(
            "pt-tuning-shared-prompt",
            "forecasting",
            "PT-Tuning with one prompt shared by every future patch (the prompt-shape ablation)",
            functools.partial(_build_pt_tuning, prompt="shared"),
            stages=("pt-tuning",),
            default_stages=("pt-tuning",),
            reads=("patch_len", "patch_stride"),
            weights_of="pt-tuning",
        ),
        *(
            ModelSpec(
                name,
                "forecasting",
                summary,
                lambda s, _, __, options, name=name: build_st_link(name, s, options),
                reads=("backbone", "unfrozen_layers"),
            )
            for name, summary in (
                ("st-link", "ST-LINK: pretrained backbone, SE-attention, MRFFN, PFA (CIKM 2025)"),
                ("st-llm", "ST-LLM: pretrained backbone, learned positions, PFA (MDM 2024)"),
                ("st-link-no-se", "ST-LINK with ST-LLM's learned positions instead of SE"),
                ("st-link-no-mrffn", "ST-LINK without the memory-retrieval experts"),
                ("st-link-node-index", "ST-LINK with the node index as SE position"),
                ("st-link-random-init", "ST-LINK on a randomly initialised backbone"),
                ("st-link-full-tune", "ST-LINK with every weight trained (no PFA)"),
            )
        ),
        ModelSpec(
            "promptst",
            "forecasting",
            "PromptST: one ST transformer for all attributes, per-attribute prompts (CIKM 2023)",
            _build_promptst,
            stages=("pretrain", "prompt-tune", "tiny-prompt", "finetune", "supervised"),
            default_stages=("pretrain", "prompt-tune"),
            reads=("prompt_tokens",),
        ),
        ModelSpec(
            "promptst-fresh-head",
            "forecasting",
            "PromptST prompt-tuned with a new head, as its code does (the head ablation)",
            functools.partial(_build_promptst, fresh_head=True),
            stages=("prompt-tune",),
            default_stages=("prompt-tune",),
            reads=("prompt_tokens",),
            weights_of="promptst",
        ),
        ModelSpec(
            "promptst-no-graph",
            "forecasting",
            "PromptST with a graph-blind spatial encoder (the no-graph ablation)",
            functools.partial(_build_promptst, spatial_bias=False),
            stages=("pretrain", "prompt-tune", "tiny-prompt", "finetune", "supervised"),
            default_stages=("pretrain", "prompt-tune"),
            reads=("prompt_tokens",),
        ),
        ModelSpec(
            "topt",
            "regions",
            "ToPT (SREL embedding + task prompts, blended with raw-view trees inside the "
            "training folds), its ablations and the ridge / trees baselines, K-fold CV",
            None,
        ),
    ]
}


def get_model(name: str) -> ModelSpec:
    """The spec of ``name``, or an :class:`InputError` listing the known models."""
    if name not in MODELS:
        raise InputError(f"unknown model '{name}'; known models: {', '.join(MODELS)}")
    return MODELS[name]


def check_pair(model: ModelSpec, dataset: DatasetSpec) -> None:
    """Raise when ``model`` cannot run on ``dataset`` (e.g. forecasting on region data)."""
    if model.task == "forecasting" and dataset.kind not in FORECAST_KINDS:
        raise InputError(
            f"model '{model.name}' forecasts time series, but '{dataset.name}' is "
            f"a {dataset.kind} dataset; choose one of: "
            f"{', '.join(n for n, d in DATASETS.items() if d.kind in FORECAST_KINDS)}"
        )
    if model.task == "regions" and dataset.kind != "regions":
        raise InputError(
            f"model '{model.name}' works on region datasets, not on "
            f"'{dataset.name}' ({dataset.kind})"
        )


def pairs() -> list[tuple[ModelSpec, DatasetSpec]]:
    """Every valid model × dataset pair."""
    out = []
    for model in MODELS.values():
        for dataset in DATASETS.values():
            try:
                check_pair(model, dataset)
            except InputError:
                continue
            out.append((model, dataset))
    return out
