"""ST-LINK training-step speed on this machine (issue 11): seconds per step, samples per second,
FLOPs counted by torch, achieved FLOP/s as a share of the fp32 matmul peak measured in the same
run, and peak resident memory, for st-llm, st-link and st-link without MRFFN, node tokens vs
(node, patch) tokens, fp32 and bf16 autocast.

    STGRAPH_DATA=../shared/data .venv/bin/python benchmarks/st_link_speed.py

Each configuration runs in its own process (so its peak memory is its own): one warm-up step,
then the median of ``STEPS`` timed steps (forward, loss, backward, AdamW step) on a los-loop
batch of 64 windows x 207 nodes. Writes benchmarks/results/st-link-speed.md.
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
from torch.utils.flop_counter import FlopCounterMode

STEPS = 5
BATCH = 64
CONFIGS = [
    ("st-llm", None, "fp32"),
    ("st-link-no-mrffn", None, "fp32"),
    ("st-link", None, "fp32"),
    ("st-llm", None, "bf16"),
    ("st-link", None, "bf16"),
    ("st-link", 4, "bf16"),
]
OUT = Path("benchmarks/results/st-link-speed.md")


def matmul_peak() -> float:
    """fp32 GFLOP/s of a 4096 x 4096 matrix product on all threads (best of five)."""
    a, b = torch.randn(4096, 4096), torch.randn(4096, 4096)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(5))
    return 2 * 4096**3 / best / 1e9


def _timed(step) -> float:
    tick = time.perf_counter()
    step()
    return time.perf_counter() - tick


def measure(name: str, patch_len: int | None, precision: str) -> dict:
    """One configuration, in this process."""
    from stgraph.bench.runner import load_forecast_data
    from stgraph.bench.specs import ModelOptions, build_st_link
    from stgraph.engine.freezing import apply_model_freezing
    from stgraph.models.st_link import STLink

    signal = load_forecast_data("los-loop", None)
    windows = signal.windows("train", signal.fit_scaler())
    batch = windows.gather(torch.arange(BATCH))
    target = windows.scaler.transform(batch["y"])
    torch.manual_seed(0)
    model = build_st_link(name, signal, ModelOptions())
    if patch_len is not None:  # the same variant with (node, patch) tokens
        model = STLink(
            model.backbone.weights,
            signal.num_nodes,
            signal.protocol.input_len,
            signal.protocol.output_len,
            signal.num_features,
            signal.protocol.steps_per_day,
            spatial_positions=model.backbone.blocks[0].attention.rotary.positions,
            patch_len=patch_len,
        )
    report = apply_model_freezing(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    model.train()

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            prediction = model(batch)
        loss = (prediction.float() - target).abs().mean() + (
            model.auxiliary_loss if model.auxiliary_loss is not None else 0.0
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()
    with FlopCounterMode(display=False) as counter:
        step()
    seconds = statistics.median(_timed(step) for _ in range(STEPS))
    flops = counter.get_total_flops()
    return {
        "model": name,
        "tokens": "node" if patch_len is None else f"node x patch ({patch_len} steps)",
        "precision": precision,
        "seconds_per_step": seconds,
        "samples_per_second": BATCH / seconds,
        "gflop_per_step": flops / 1e9,
        "achieved_gflops": flops / seconds / 1e9,
        "trainable": report.trainable,
        "total": report.total,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }


def main() -> None:
    """Run every configuration in a child process and write the table."""
    peak = matmul_peak()
    rows = []
    for name, patch_len, precision in CONFIGS:
        argv = [sys.executable, __file__, "--one", name, str(patch_len), precision]
        output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(output.splitlines()[-1]))
        print(rows[-1], flush=True)
    base = {r["precision"]: r for r in rows if r["model"] == "st-llm"}
    lines = [
        "# ST-LINK training-step speed",
        "",
        "Command: `STGRAPH_DATA=../shared/data .venv/bin/python benchmarks/st_link_speed.py`",
        "",
        f"Machine: {torch.get_num_threads()} threads, torch {torch.__version__}. fp32 matmul "
        f"peak measured in this run (4096², best of 5): **{peak:.0f} GFLOP/s**. One training "
        f"step = forward, masked loss, backward and AdamW step on {BATCH} los-loop windows "
        f"(207 nodes, 12 -> 12), median of {STEPS} steps after one warm-up. FLOPs are torch's "
        "count (matrix products and attention) of one step. Backbone: all-MiniLM-L6-v2, "
        "U = 2.",
        "",
        "| model | tokens | precision | s / step | samples / s | × st-llm | GFLOP / step "
        "| achieved GFLOP/s | share of fp32 peak | trainable / total | peak RSS GiB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r["seconds_per_step"] / base[r["precision"]]["seconds_per_step"]
        lines.append(
            f"| {r['model']} | {r['tokens']} | {r['precision']} | {r['seconds_per_step']:.2f} "
            f"| {r['samples_per_second']:.1f} | {ratio:.2f} | {r['gflop_per_step']:.0f} "
            f"| {r['achieved_gflops']:.0f} | {100 * r['achieved_gflops'] / peak:.0f}% "
            f"| {r['trainable']:,} / {r['total']:,} | {r['peak_rss_gib']:.2f} |"
        )
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        name, patch, precision = sys.argv[2:5]
        print(json.dumps(measure(name, None if patch == "None" else int(patch), precision)))
    else:
        main()
