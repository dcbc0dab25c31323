"""Share of the training step spent outside the model: data loading and metrics.

Run:  .venv/bin/python benchmarks/engine_overhead.py
Profiles (cProfile) three epochs of STID on los-loop with the real Trainer and writes
benchmarks/results/engine_overhead.md. Target (issue 5): data loading + metrics < 10 % of the
time of a training step.
"""

import cProfile
import os
import pstats
from pathlib import Path

import torch

from stgraph.data.registry import load_dataset
from stgraph.engine.trainer import TrainConfig, Trainer
from stgraph.models.stid import STID

DATA_FUNCTIONS = ("gather", "target_count")
METRIC_FUNCTIONS = ("masked_mae_loss", "update")


def cumulative(stats: pstats.Stats, names: tuple[str, ...], files: tuple[str, ...]) -> float:
    total = 0.0
    for (filename, _, function), (_, _, _, cum, _) in stats.stats.items():
        if function in names and filename.endswith(files):
            total += cum
    return total


def main() -> None:
    signal = load_dataset("los-loop", os.environ.get("STGRAPH_DATA", "../shared/data"))
    scaler = signal.fit_scaler()
    train, val = signal.windows("train", scaler), signal.windows("val", scaler)
    torch.manual_seed(0)
    model = STID(signal.num_nodes, 12, 12, 1, steps_per_day=288)
    trainer = Trainer(model, TrainConfig(epochs=3, progress=False))
    profiler = cProfile.Profile()
    profiler.enable()
    trainer.fit(train, val)
    profiler.disable()
    stats = pstats.Stats(profiler)
    epoch = cumulative(stats, ("_epoch",), ("trainer.py",))
    evaluate = cumulative(stats, ("evaluate",), ("trainer.py",))
    data = cumulative(stats, DATA_FUNCTIONS, ("temporal.py",))
    metrics = cumulative(stats, METRIC_FUNCTIONS, ("metrics.py",))
    # metric updates inside evaluate() count as overhead too; evaluate's own model time does not
    step_total = epoch + evaluate
    share = (data + metrics) / step_total
    lines = [
        "# Training-loop overhead (STID on los-loop, 3 epochs, CPU, 2 threads)",
        "",
        "Command: `.venv/bin/python benchmarks/engine_overhead.py` (cProfile around Trainer.fit)",
        "",
        "| part | seconds |",
        "|---|---:|",
        f"| training epochs (Trainer._epoch, cumulative) | {epoch:.2f} |",
        f"| validation passes (Trainer.evaluate, cumulative) | {evaluate:.2f} |",
        f"| data loading (WindowDataset.gather + target_count) | {data:.3f} |",
        f"| loss and metric bookkeeping (masked_mae_loss + ForecastMetrics.update) | "
        f"{metrics:.3f} |",
        "",
        f"Overhead share: **{100 * share:.1f} %** of the time of training and validation steps "
        "(target < 10 %).",
        f"Throughput: {sum(r.samples for r in trainer.state.history) / epoch:.0f} training "
        "windows per second.",
    ]
    out = Path(__file__).parent / "results" / "engine_overhead.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
