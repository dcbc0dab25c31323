"""Which models exist, which datasets they fit, and how each is built for a dataset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from stgraph.data.registry import DATASETS, DatasetSpec
from stgraph.data.scaler import StandardScaler
from stgraph.data.spatial_matrices import hop_matrix, pairwise_distance_matrix
from stgraph.data.temporal import TemporalSignal
from stgraph.errors import InputError
from stgraph.models.dlinear import DLinear
from stgraph.models.naive import LastValue, SeasonalNaive
from stgraph.models.pt_tuning import PTTuning
from stgraph.models.ridge import RidgeLags
from stgraph.models.st_transformer import STTransformer
from stgraph.models.stid import STID

FORECAST_KINDS = ("sensors", "grid", "series")


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


def _build_seasonal(signal: TemporalSignal, scaler: StandardScaler, _: str | None) -> nn.Module:
    p = signal.protocol
    return SeasonalNaive(
        signal.signal, signal.mask, seasonal_period(signal), p.input_len, p.output_len, scaler
    )


def _build_stid(signal: TemporalSignal, scaler: StandardScaler, _: str | None) -> nn.Module:
    return STID(signal.num_nodes, steps_per_day=signal.protocol.steps_per_day or 1, **_dims(signal))


def _build_transformer(signal: TemporalSignal, spatial_bias: bool) -> nn.Module:
    distance = pairwise_distance_matrix(signal.graph)
    if distance is not None and distance.max() > 0:
        distance = distance / distance.max()
    hops = hop_matrix(signal.graph, 4) if signal.graph.num_edges else None
    return STTransformer(
        signal.num_nodes,
        steps_per_day=signal.protocol.steps_per_day or 1,
        distance=distance,
        hops=hops,
        spatial_bias=spatial_bias,
        **_dims(signal),
    )


def _build_pt_tuning(
    signal: TemporalSignal, scaler: StandardScaler, stage: str | None
) -> nn.Module:
    p = signal.protocol
    path = "reconstruction" if stage in ("pretrain", "pt-tuning") else "head"
    try:
        return PTTuning(p.input_len, p.output_len, forecast_path=path)
    except ValueError as err:  # settings that cannot make a model: the user's input
        raise InputError(f"pt-tuning on {signal.name}: {err}") from err


@dataclass(frozen=True)
class ModelSpec:
    """A benchmarkable model.

    Attributes:
        name: CLI name.
        task: ``forecasting`` (temporal datasets) or ``regions``.
        summary: one line.
        build: ``build(signal, scaler, stage)`` returns a forecasting model for ``stage``
            (``None`` when the model has no stages); ``None`` for region models, which
            :mod:`stgraph.bench.regions` runs.
        stages: the training stages the model supports (:mod:`stgraph.engine.stages`);
            empty for models that train in one go.
        default_stages: the stages a run without a chosen stage goes through, in order.
    """

    name: str
    task: str
    summary: str
    build: Callable[[TemporalSignal, StandardScaler, str | None], nn.Module] | None
    stages: tuple[str, ...] = ()
    default_stages: tuple[str, ...] = ()


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "last-value",
            "forecasting",
            "repeat the last observed step",
            lambda s, _, __: LastValue(s.protocol.output_len),
        ),
        ModelSpec(
            "seasonal-naive",
            "forecasting",
            "repeat the value one week (or day) earlier",
            _build_seasonal,
        ),
        ModelSpec(
            "ridge",
            "forecasting",
            "ridge regression on the input window, alpha on val",
            lambda s, _, __: RidgeLags(**_dims(s)),
        ),
        ModelSpec(
            "stid", "forecasting", "STID: node/time embeddings + MLP (CIKM 2022)", _build_stid
        ),
        ModelSpec(
            "st-transformer",
            "forecasting",
            "transformer over nodes, no spatial bias",
            lambda s, _, __: _build_transformer(s, spatial_bias=False),
        ),
        ModelSpec(
            "st-transformer-bias",
            "forecasting",
            "the same transformer with SpatialBiasAttention (distance + hop bias)",
            lambda s, _, __: _build_transformer(s, spatial_bias=True),
        ),
        ModelSpec(
            "dlinear",
            "forecasting",
            "DLinear: moving-average trend + remainder, one linear map each (AAAI 2023)",
            lambda s, _, __: DLinear(s.protocol.input_len, s.protocol.output_len),
        ),
        ModelSpec(
            "pt-tuning",
            "forecasting",
            "PT-Tuning: masked-patch pretraining, prompts on extended mask tokens (DASFAA 2024)",
            _build_pt_tuning,
            stages=("pretrain", "pt-tuning", "linear-probe", "finetune", "supervised"),
            default_stages=("pretrain", "pt-tuning"),
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
