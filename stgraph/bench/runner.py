"""Run one model on one dataset with one seed and return a result row."""

from __future__ import annotations

import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import torch

import stgraph
from stgraph.bench.specs import ModelSpec, check_pair, get_model
from stgraph.data.registry import get_spec, load_dataset
from stgraph.data.temporal import TemporalSignal, WindowDataset
from stgraph.engine.distributed import Context
from stgraph.engine.freezing import parameter_report
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
    progress: bool = True
    precision: str = "fp32"
    data_dir: Path | None = None
    out: Path | None = None
    command: str = ""


def git_commit() -> str:
    """The commit of the stgraph checkout, or ``"unknown"`` outside a git checkout."""
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                cwd=Path(stgraph.__file__).parent,
                timeout=5,
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_forecast_data(dataset: str, data_dir: Path | None) -> TemporalSignal:
    """Load a temporal dataset for forecasting."""
    signal = load_dataset(dataset, data_dir)
    if not isinstance(signal, TemporalSignal):
        raise InputError(f"'{dataset}' is not a temporal dataset")
    return signal


def run_forecast(
    model_name: str,
    dataset: str,
    seed: int,
    options: RunOptions,
    context: Context | None = None,
    signal: TemporalSignal | None = None,
) -> tuple[dict, Trainer, WindowDataset]:
    """Train (where the model learns), select on validation, score the test windows once."""
    spec: ModelSpec = get_model(model_name)
    check_pair(spec, get_spec(dataset))
    signal = signal if signal is not None else load_forecast_data(dataset, options.data_dir)
    protocol = signal.protocol
    scaler = signal.fit_scaler()
    train, val, test = (signal.windows(part, scaler) for part in ("train", "val", "test"))
    torch.manual_seed(seed)
    model = spec.build(signal, scaler)
    params = parameter_report(model)
    checkpoints = (
        options.out / "checkpoints" / f"{model_name}-{dataset}-seed{seed}"
        if options.out is not None
        else None
    )
    config = TrainConfig(
        epochs=options.epochs,
        batch_size=options.batch_size,
        lr=options.lr,
        patience=options.patience,
        seed=seed,
        checkpoint_dir=checkpoints,
        resume=options.resume,
        progress=options.progress,
        precision=options.precision,
    )
    trainer = Trainer(model, config, context)
    start = time.perf_counter()
    if hasattr(model, "fit_closed_form"):  # fitted directly, never by gradient steps
        model.fit_closed_form(train, lambda: trainer.evaluate(val).compute(("MAE",))["MAE"])
        state = trainer.state
    else:
        state = trainer.fit(train, val)
    wall = time.perf_counter() - start
    tick = time.perf_counter()
    metrics = trainer.evaluate(test).compute(protocol.metrics, protocol.horizons)
    eval_seconds = time.perf_counter() - tick
    epochs = state.history
    train_seconds = sum(r.seconds for r in epochs)
    row = {
        "model": model_name,
        "dataset": dataset,
        "task": "forecasting",
        "protocol": protocol.describe(),
        "horizon_note": "metrics at steps "
        + ", ".join(f"@{h}" for h in protocol.horizons)
        + f" and the average over all {protocol.output_len} steps",
        "seed": seed,
        "metrics": metrics,
        "trainable_parameters": params.trainable,
        "total_parameters": params.total,
        "epochs_run": len(epochs),
        "best_epoch": state.best_epoch + 1 if epochs else 0,
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
        "precision": options.precision,
        "stgraph_version": stgraph.__version__,
        "git_commit": git_commit(),
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "command": options.command,
    }
    return row, trainer, test
