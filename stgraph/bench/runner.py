"""Run one model on one dataset with one seed and return a result row."""

from __future__ import annotations

import dataclasses
import functools
import math
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import torch

import stgraph
from stgraph.bench.attributes import part_slug
from stgraph.bench.specs import ModelOptions, ModelSpec, check_pair, get_model
from stgraph.data.protocol import Protocol
from stgraph.data.recipes import load_recipe
from stgraph.data.registry import dataset_label, get_spec, load_dataset
from stgraph.data.temporal import TemporalSignal, WindowDataset
from stgraph.engine.distributed import Context
from stgraph.engine.freezing import apply_model_freezing, apply_stage
from stgraph.engine.metrics import ForecastMetrics
from stgraph.engine.stages import (
    Stage,
    get_stage,
    load_stage_checkpoint,
    save_stage_checkpoint,
    stage_objective,
)
from stgraph.engine.trainer import TrainConfig, Trainer
from stgraph.errors import InputError


@dataclass
class RunOptions:
    """Options shared by every run of a ``stgraph bench`` call."""

    epochs: int = 50
    batch_size: int = 64
    lr: float = 2e-3
    patience: int = 10
    resume: bool = False
    node_batch_size: int | None = None
    progress: bool = True
    precision: str = "fp32"
    loss: str = "mae"
    stage: str | None = None
    init: Path | None = None
    model_options: ModelOptions = dataclasses.field(default_factory=ModelOptions)
    data_dir: Path | None = None
    out: Path | None = None
    command: str = ""


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args],
        capture_output=True,
        text=True,
        cwd=Path(stgraph.__file__).parent,
        timeout=5,
    ).stdout.strip()


@functools.cache
def git_commit() -> str:
    """The commit of the stgraph checkout when this process first asked (so every row of a
    run names the code the run imported, even if the checkout moves meanwhile), with
    ``-dirty`` when tracked files differ from it; ``"unknown"`` outside a git checkout."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (commit + ("-dirty" if dirty else "")) if commit else "unknown"


def load_forecast_data(
    dataset: str,
    data_dir: Path | None,
    history: int | None = None,
    horizon: int | None = None,
    protocol: str | None = None,
    boundary: str | None = None,
) -> TemporalSignal:
    """Load a temporal dataset for forecasting under its protocol, or under the named protocol
    ``protocol`` of its recipe; ``history``, ``horizon`` and ``boundary`` (see
    :class:`~stgraph.data.protocol.Protocol`) then replace the protocol's (the tables state
    the protocol as run)."""
    signal = load_dataset(dataset, data_dir)
    if not isinstance(signal, TemporalSignal):
        raise InputError(f"'{dataset}' is not a temporal dataset")
    if protocol is not None:
        if not get_spec(dataset).files:
            raise InputError(f"'{dataset}' has no named protocols")
        signal = dataclasses.replace(
            signal, protocol=load_recipe(dataset).forecasting_protocol(protocol)
        )
    if boundary is not None:
        try:
            with_boundary = dataclasses.replace(signal.protocol, boundary=boundary)
        except ValueError as err:  # the protocol names the choices
            raise InputError(str(err)) from err
        signal = dataclasses.replace(signal, protocol=with_boundary)
    if history is None and horizon is None:
        return signal
    for name, value in (("history", history), ("horizon", horizon)):
        if value is not None and value < 1:
            raise InputError(f"the {name} must be at least 1 step, got {value}")
    protocol = signal.protocol
    output_len = horizon or protocol.output_len
    horizons = tuple(h for h in protocol.horizons if h <= output_len) or (output_len,)
    windows = dataclasses.replace(
        protocol, input_len=history or protocol.input_len, output_len=output_len, horizons=horizons
    )
    signal = dataclasses.replace(signal, protocol=windows)
    for split in ("train", "val", "test"):
        if len(signal.window_starts(split)) == 0:
            raise InputError(
                f"'{dataset}' has no {split} window of {windows.input_len} + "
                f"{windows.output_len} steps"
            )
    return signal


def stage_plan(spec: ModelSpec, stage: str | None, init: Path | None) -> list[Stage | None]:
    """The stages a run goes through: the chosen one, else the model's default chain (``[None]``
    for a model without stages). A stage that needs starting weights must get them, from
    ``init`` or from the stage before it."""
    if not spec.stages:
        if stage is not None:
            get_stage(stage, spec.stages, spec.name)  # names the model's lack of stages
        if init is not None:
            raise InputError(f"model '{spec.name}' has no stages to start from a checkpoint")
        return [None]
    names = [stage] if stage is not None else list(spec.default_stages)
    plan = [get_stage(name, spec.stages, spec.name) for name in names]
    if plan[0].needs_init and init is None:
        raise InputError(
            f"stage '{plan[0].name}' of '{spec.name}' starts from trained weights: give the "
            "checkpoint a 'pretrain' run wrote"
        )
    if not plan[0].needs_init and init is not None:
        raise InputError(f"stage '{plan[0].name}' starts from fresh weights, not a checkpoint")
    return plan


def checkpoint_folder(out: Path, model_name: str, dataset: str, seed: int, part: str = "") -> Path:
    """The folder of one model x dataset (x attribute subset ``part``) x seed's checkpoints
    under ``out``."""
    name = f"{model_name}-{dataset_label(dataset)}{part_slug(part)}-seed{seed}"
    return out / "checkpoints" / name


def stage_checkpoint(
    out: Path, model_name: str, dataset: str, seed: int, stage: str, part: str = ""
) -> Path:
    """Where a stage's weights are written, for the next stage to start from."""
    return checkpoint_folder(out, model_name, dataset, seed, part) / f"{stage}.pt"


def run_forecast(
    model_name: str,
    dataset: str,
    seed: int,
    options: RunOptions,
    context: Context | None = None,
    signal: TemporalSignal | None = None,
    stage: Stage | None = None,
    init: Path | None = None,
    part: str = "",
) -> tuple[dict, Trainer, WindowDataset]:
    """Train (where the model learns), select on validation, score the test windows once.

    With a ``stage``, the model is built for it, filled from the stage checkpoint ``init``
    when given, frozen as the stage says, and its weights are written to
    ``out/checkpoints/<model>-<dataset>-seed<k>/<stage>.pt`` for the next stage. ``part``
    names the attribute subset ``signal`` holds (see :class:`AttributePlan`).
    """
    spec: ModelSpec = get_model(model_name)
    check_pair(spec, get_spec(dataset))
    signal = signal if signal is not None else load_forecast_data(dataset, options.data_dir)
    protocol = signal.protocol
    scaler = signal.fit_scaler()
    train, val, test = (signal.windows(part, scaler) for part in ("train", "val", "test"))
    torch.manual_seed(seed)
    model = spec.build(signal, scaler, stage.name if stage else None, options.model_options)
    if init is not None:
        load_stage_checkpoint(init, spec.checkpoint_name, model)
    params = apply_stage(model, stage.name) if stage else apply_model_freezing(model)
    folder = (
        checkpoint_folder(options.out, model_name, dataset, seed, part)
        if options.out is not None
        else None
    )
    checkpoints = folder / stage.name if folder is not None and stage else folder
    config = TrainConfig(
        epochs=options.epochs,
        batch_size=options.batch_size,
        lr=options.lr,
        patience=options.patience,
        seed=seed,
        checkpoint_dir=checkpoints,
        resume=options.resume,
        node_batch_size=options.node_batch_size,
        progress=options.progress,
        precision=options.precision,
        loss=options.loss,
        objective=stage_objective(model, stage) if stage else "forecast",
    )
    trainer = Trainer(model, config, context)
    start = time.perf_counter()
    if hasattr(model, "fit_closed_form"):  # fitted directly, never by gradient steps
        model.fit_closed_form(train, lambda: trainer.validation_score(val))
        state = trainer.state
    else:
        state = trainer.fit(train, val)
    wall = time.perf_counter() - start
    if stage is not None and options.out is not None and trainer.context.is_main:
        save_stage_checkpoint(
            stage_checkpoint(options.out, model_name, dataset, seed, stage.name, part),
            spec.checkpoint_name,
            model,
        )
    tick = time.perf_counter()
    scored = trainer.evaluate(test)
    eval_seconds = time.perf_counter() - tick
    epochs = state.history
    train_seconds = sum(r.seconds for r in epochs)
    row = {
        "model": model_name if stage is None else f"{model_name} [{stage.name}]",
        "stage": stage.name if stage else None,
        "init": None if init is None else str(init),
        "dataset": dataset_label(dataset) + (f" [{part}]" if part else ""),
        "task": "forecasting",
        "protocol": protocol.describe(),
        "horizon_note": "metrics at steps "
        + ", ".join(f"@{h}" for h in protocol.horizons)
        + f" and the average over all {protocol.output_len} steps",
        "seed": seed,
        **score_fields(scored, protocol, signal.feature_names),
        "trainable_parameters": params.trainable,
        "total_parameters": params.total,
        "trainable_share": params.ratio,
        "loss": options.loss,
        "lr": config.lr,
        "batch_size": config.batch_size,
        "patience": config.patience,
        "epochs": config.epochs,
        "node_batch_size": options.node_batch_size,
        "epochs_run": len(epochs),
        "best_epoch": state.best_epoch + 1 if epochs else 0,
        "val_score": state.best_val if math.isfinite(state.best_val) else None,
        "seconds_per_epoch": train_seconds / len(epochs) if epochs else 0.0,
        "train_samples_per_second": (
            sum(r.samples for r in epochs) / train_seconds if train_seconds else 0.0
        ),
        "loop_overhead_share": (
            sum(r.data_seconds for r in epochs) / train_seconds if train_seconds else 0.0
        ),
        "wall_seconds": wall + eval_seconds,
        "test_seconds": eval_seconds,
        "device": str(trainer.device),
        "process_peak_rss_gib": peak_rss_gib(),
        "precision": options.precision,
        "stgraph_version": stgraph.__version__,
        "git_commit": git_commit(),
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "command": options.command,
    }
    return row, trainer, test


def peak_rss_gib() -> float | None:
    """The peak resident memory of this process so far, in GiB (``None`` where the platform
    does not say)."""
    try:
        import resource
    except ImportError:
        return None
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 2**20 if platform.system() == "Linux" else kib / 2**30  # macOS: bytes


def score_fields(scored: ForecastMetrics, protocol: Protocol, attributes: list[str]) -> dict:
    """A row's ``metrics`` (under ``protocol``), its ``attributes``, their own metrics where
    the protocol averages over attributes, and the raw test sums (to merge rows by)."""
    fields = {
        "attributes": attributes,
        "metrics": scored.compute(protocol.metrics, protocol.horizons, protocol.attribute_mean),
        "test_sums": scored.sums.tolist(),
    }
    if protocol.attribute_mean:
        per_attribute = scored.compute_per_feature(protocol.metrics, protocol.horizons)
        fields["attribute_metrics"] = dict(zip(attributes, per_attribute, strict=True))
    return fields


def merge_attribute_rows(rows: list[dict], protocol: Protocol, dataset: str, part: str) -> dict:
    """One row from the per-attribute runs ``rows`` of a model, stage and seed: metrics from
    their test sums put side by side, costs summed or averaged, parameters per attribute."""
    first = rows[0]
    sums = torch.cat([torch.tensor(r["test_sums"], dtype=torch.float64) for r in rows], dim=2)
    scored = ForecastMetrics.from_sums(sums, protocol.mape_threshold)
    attributes = [a for r in rows for a in r["attributes"]]
    merged = dict(first)
    merged.update(score_fields(scored, protocol, attributes))
    merged.update(
        {
            "dataset": f"{dataset_label(dataset)} [{part}]",
            "attribute_models": len(rows),
            "epochs_run": statistics.fmean(r["epochs_run"] for r in rows),
            "best_epoch": statistics.fmean(r["best_epoch"] for r in rows),
            "val_score": (
                None
                if any(r["val_score"] is None for r in rows)
                else statistics.fmean(r["val_score"] for r in rows)
            ),
            "seconds_per_epoch": statistics.fmean(r["seconds_per_epoch"] for r in rows),
            "train_samples_per_second": statistics.fmean(
                r["train_samples_per_second"] for r in rows
            ),
            "loop_overhead_share": statistics.fmean(r["loop_overhead_share"] for r in rows),
            "wall_seconds": math.fsum(r["wall_seconds"] for r in rows),
            "test_seconds": math.fsum(r["test_seconds"] for r in rows),
        }
    )
    return merged
