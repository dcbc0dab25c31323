"""The PromptST table over every piece and seed run so far by benchmarks/promptst.sh.

Reads benchmarks/results/promptst-nyc-complaints/*/results.json and */*/results.json (one
folder per piece and seed), and writes results.{md,csv,json} beside them: one row per model,
stage and attribute set, mean ± sample standard deviation over the seeds found. Run from the
repository root:  .venv/bin/python benchmarks/promptst_table.py
"""

from __future__ import annotations

import json
from pathlib import Path

from stgraph.bench.results import write_results

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
    order = {"baselines": 0, "pretrain": 1, "prompt-tune": 2, "tiny-prompt": 3, "finetune": 4}
    rows.sort(key=lambda r: (order.get(r["stage"] or "baselines", 5), r["seed"]))
    for path in write_results(ROOT, rows, COMMAND):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
