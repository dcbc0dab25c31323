"""The PromptST table over every piece and seed run so far by benchmarks/promptst.sh.

Reads benchmarks/results/promptst-nyc-complaints/*/results.json and */*/results.json (one
folder per piece and seed), and writes results.{md,csv,json} beside them: one row per model,
stage and attribute set, mean ± sample standard deviation over the seeds found. Every row's
metrics are recomputed from the test sums it stores, under the dataset's protocol as the
code defines it now (so pieces run before a change of metric definition read alike). Run
from the repository root:  .venv/bin/python benchmarks/promptst_table.py
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from stgraph.bench.results import write_results
from stgraph.bench.runner import score_fields
from stgraph.data.recipes import load_recipe
from stgraph.engine.metrics import ForecastMetrics

ROOT = Path("benchmarks/results/promptst-nyc-complaints")
COMMAND = (
    "bash benchmarks/promptst.sh PIECE SEED for each piece and seed (each row's own command is "
    "in results.json / results.csv), then .venv/bin/python benchmarks/promptst_table.py"
)


def main() -> None:
    pieces = sorted(ROOT.glob("*/results.json")) + sorted(ROOT.glob("*/*/results.json"))
    rows = [row for path in pieces for row in json.loads(path.read_text())["rows"]]
    if not rows:
        raise SystemExit(f"no results under {ROOT}: run benchmarks/promptst.sh first")
    protocol = load_recipe("nyc-complaints").forecasting_protocol()
    for row in rows:
        sums = torch.tensor(row["test_sums"], dtype=torch.float64)
        scored = ForecastMetrics.from_sums(sums, protocol.mape_threshold)
        row.update(score_fields(scored, protocol, row["attributes"]))
    order = {"baselines": 0, "pretrain": 1, "prompt-tune": 2, "tiny-prompt": 3, "finetune": 4}
    rows.sort(key=lambda r: (order.get(r["stage"] or "baselines", 5), r["seed"]))
    for path in write_results(ROOT, rows, COMMAND):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
