"""Training cost and memory on large sensor graphs, with node mini-batches (issue 10).

Synthetic diffusion series (`stgraph.data.synthetic.diffusion_signal`, kNN graphs with k = 8,
two weeks at 5 minutes: 4,032 steps, 12 -> 12) on N = 1k, 10k, 50k and 100k nodes. For STID
(node-wise) and st-transformer-bias-sparse (attention over the graph's edges, two blocks, so
a two-hop halo), one training epoch over the first 32 training windows is timed in a fresh
process per configuration (so each peak resident memory is that configuration's own), with
node batches of 10,000 (STID) and 2,000 seed nodes (sparse transformer); the cost per
node-window and an extrapolated full epoch follow from it. Then, at 1k nodes (one week of
series), node-batched training (batches of 250 nodes, so four optimiser steps per batch of 64
windows) is compared on the test windows, 3 seeds each, with whole-graph training at the same
batch of 64 windows (a quarter of the steps) and at a batch of 16 windows (the same steps, and
the same node-windows per step, as the node batches).

Run from the repository root, in two pieces (about 15 and 35 minutes on a 2-core machine):
    .venv/bin/python benchmarks/scaling.py timing [MODEL ...]
    .venv/bin/python benchmarks/scaling.py equivalence [MODEL ...]
Each piece writes its JSON under benchmarks/results/scaling/ (rows of the models given, all
by default, replace their earlier rows), and the table benchmarks/results/scaling/results.md
is rewritten from the pieces run so far.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from stgraph.bench.specs import get_model
from stgraph.data.protocol import Protocol
from stgraph.data.synthetic import diffusion_signal
from stgraph.data.temporal import TemporalSignal, WindowDataset
from stgraph.engine.trainer import TrainConfig, Trainer

SIZES = (1_000, 10_000, 50_000, 100_000)
MODELS = ("stid", "st-transformer-bias-sparse")
STEPS = 14 * 288
TIMED_WINDOWS = 32
NODE_BATCH = {"stid": 10_000, "st-transformer-bias-sparse": 2_000}
EQUIVALENCE = {
    "nodes": 1_000,
    "steps": 7 * 288,
    "node_batch": 250,
    "batch": 64,
    "epochs": 2,
    "seeds": (0, 1, 2),
}
PARTS = EQUIVALENCE["nodes"] // EQUIVALENCE["node_batch"]
"""Node parts per batch, each its own optimiser step."""
ARMS = (
    ("whole graph", None, EQUIVALENCE["batch"]),
    ("whole graph, same steps", None, EQUIVALENCE["batch"] // PARTS),
    ("node batches", EQUIVALENCE["node_batch"], EQUIVALENCE["batch"]),
)
"""The equivalence piece's arms: label, node batch size (``None``: the whole graph), windows
per batch."""
OUT = Path("benchmarks/results/scaling")


def series(num_nodes: int, steps: int = STEPS) -> TemporalSignal:
    protocol = Protocol(steps_per_day=288, null_value=None, boundary="straddle")  # as committed
    return diffusion_signal(num_nodes, steps, 288, k=8, seed=0, protocol=protocol)


def timed(model_name: str, num_nodes: int) -> dict:
    """One epoch over the first TIMED_WINDOWS training windows (run in its own process)."""
    tick = time.perf_counter()
    signal = series(num_nodes)
    built = time.perf_counter() - tick
    scaler = signal.fit_scaler()
    train = signal.windows("train", scaler)
    subset = WindowDataset(signal, train.starts[:TIMED_WINDOWS], scaler)
    val = WindowDataset(signal, signal.window_starts("val")[:4], scaler)
    torch.manual_seed(0)
    model = get_model(model_name).build(signal, scaler, None, None)
    config = TrainConfig(epochs=1, batch_size=TIMED_WINDOWS, progress=False)
    config.node_batch_size = NODE_BATCH[model_name]
    record = Trainer(model, config).fit(subset, val).history[0]
    node_windows = TIMED_WINDOWS * num_nodes
    return {
        "model": model_name,
        "nodes": num_nodes,
        "edges": int(getattr(model, "edge_index", torch.empty(2, 0)).size(1)),
        "series_seconds": built,
        "epoch_seconds": record.seconds,
        "microseconds_per_node_window": 1e6 * record.seconds / node_windows,
        "full_epoch_minutes": record.seconds / node_windows * len(train) * num_nodes / 60,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }


def equivalence(model_name: str) -> dict:
    """Test MAE of whole-graph and node-batched training at 1k nodes, per seed."""
    signal = series(EQUIVALENCE["nodes"], EQUIVALENCE["steps"])
    scaler = signal.fit_scaler()
    train, val, test = (signal.windows(p, scaler) for p in ("train", "val", "test"))
    scores: dict[str, list[float]] = {label: [] for label, *_ in ARMS}
    for seed in EQUIVALENCE["seeds"]:
        for label, size, batch_size in ARMS:
            torch.manual_seed(seed)
            model = get_model(model_name).build(signal, scaler, None, None)
            config = TrainConfig(
                epochs=EQUIVALENCE["epochs"], batch_size=batch_size, seed=seed, progress=False
            )
            config.node_batch_size = size
            trainer = Trainer(model, config)
            trainer.fit(train, val)
            scores[label].append(trainer.evaluate(test).compute(("MAE",))["MAE"])
    return {"model": model_name, **scores}


def spread(values: list[float]) -> str:
    return f"{statistics.fmean(values):.4f} ± {statistics.stdev(values):.4f}"


def table(rows: list[dict] | None, same: list[dict] | None) -> list[str]:
    """The Markdown table of the pieces run so far."""
    lines = [
        "Commands: `.venv/bin/python benchmarks/scaling.py timing` and `... equivalence` "
        f"(2-core CPU, torch {torch.__version__}, nothing else running).",
    ]
    if rows:
        lines += [
            "",
            f"Diffusion series on kNN graphs (k = 8), {STEPS} steps (two weeks at 5 minutes), "
            f"12 -> 12. Timed: one training epoch over the first {TIMED_WINDOWS} training "
            "windows with node batches of "
            + " and ".join(f"{size:,} seeds ({name})" for name, size in NODE_BATCH.items())
            + " (a fresh process each, so the peak resident memory is that configuration's "
            "own, series included); the full-epoch time is extrapolated from the cost per "
            "node-window.",
            "",
            "| model | nodes | attention edges | s / timed epoch | µs / node-window | "
            "full epoch (min, extrapolated) | peak RSS (GiB) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(
                f"| {r['model']} | {r['nodes']:,} | {r['edges']:,} | {r['epoch_seconds']:.1f} | "
                f"{r['microseconds_per_node_window']:.2f} | {r['full_epoch_minutes']:.1f} | "
                f"{r['peak_rss_gib']:.2f} |"
            )
        lines += ["", "Cost per node-window, 100k nodes against 10k:", ""]
        for name in MODELS:
            cost = {
                r["nodes"]: r["microseconds_per_node_window"] for r in rows if r["model"] == name
            }
            lines.append(f"- {name}: {cost[100_000] / cost[10_000]:.2f}x")
    if same:
        e = EQUIVALENCE
        lines += [
            "",
            f"Node batches against the whole graph at {e['nodes']:,} nodes, {e['steps']} steps "
            f"(node batches of {e['node_batch']}: {PARTS} optimiser steps per batch; "
            f"{e['epochs']} epochs; seeds {', '.join(map(str, e['seeds']))}; test MAE, mean ± "
            f"sample std). Whole-graph training at batch {ARMS[1][2]} takes the node batches' "
            "number of steps and node-windows per step:",
            "",
            "| model | " + " | ".join(f"{label} (batch {b})" for label, _, b in ARMS) + " |",
            "|---|" + "---:|" * len(ARMS),
        ]
        for r in same:
            cells = " | ".join(spread(r[label]) for label, *_ in ARMS)
            lines.append(f"| {r['model']} | {cells} |")
    return lines


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(timed(sys.argv[2], int(sys.argv[3]))))
        return
    piece, models = (sys.argv[1], sys.argv[2:] or list(MODELS)) if len(sys.argv) > 1 else ("", [])
    if piece not in ("timing", "equivalence") or not set(models) <= set(MODELS):
        raise SystemExit(f"usage: scaling.py timing | equivalence [{' '.join(MODELS)}]")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{piece}.json"
    rows = json.loads(path.read_text()) if path.exists() else []
    rows = [r for r in rows if r["model"] not in models]  # rerun rows replace their old ones
    if piece == "timing":
        for name in models:
            for size in SIZES:
                done = subprocess.run(
                    [sys.executable, __file__, "--one", name, str(size)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(rows[-1], flush=True)
    else:
        rows += [equivalence(name) for name in models]
    rows.sort(key=lambda r: (MODELS.index(r["model"]), r.get("nodes", 0)))
    path.write_text(json.dumps(rows, indent=2))
    pieces = {
        name: json.loads((OUT / f"{name}.json").read_text())
        for name in ("timing", "equivalence")
        if (OUT / f"{name}.json").exists()
    }
    lines = table(pieces.get("timing"), pieces.get("equivalence"))
    (OUT / "results.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT / 'results.md'}")


if __name__ == "__main__":
    main()
