"""One table over every piece and seed a benchmark script has run so far.

Reads ROOT/*/results.json and ROOT/*/*/results.json (one folder per piece, or per seed and
piece) and writes results.{md,csv,json} into ROOT: one row per model, stage and attribute
set, mean ± sample standard deviation over the seeds found, ordered baselines first, then
the stages in the order a pretrain-then-adapt chain runs them. With ``--published DATASET
HORIZON``, the figures published for that dataset and horizon are quoted after our rows.
With ``--rescore DATASET``, every row's metrics are recomputed from the test sums it stores
under the dataset's protocol as the code defines it now (so pieces run before a change of
metric definition read alike); ``--protocol NAME`` rescores under one of the recipe's named
protocols, the one the pieces ran with.
Run from the repository root, e.g.:

    .venv/bin/python benchmarks/combine_pieces.py benchmarks/results/promptst-nyc-complaints \
        --rescore nyc-complaints
    .venv/bin/python benchmarks/combine_pieces.py benchmarks/results/promptst-chicago-crime \
        --rescore chicago-crime --protocol promptst
    .venv/bin/python benchmarks/combine_pieces.py benchmarks/results/pt-tuning-etth1-h96 \
        --published etth1 96
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from stgraph.bench.published_forecasts import published_forecasts
from stgraph.bench.results import write_results
from stgraph.bench.runner import score_fields
from stgraph.data.recipes import load_recipe
from stgraph.engine.metrics import ForecastMetrics
from stgraph.engine.stages import STAGES

STAGE_ORDER = {None: 0, **{name: i + 1 for i, name in enumerate(STAGES)}}
"""Rows without a stage (baselines) first, then the stages in :data:`STAGES` order."""


def rescore(rows: list[dict], dataset: str, protocol_name: str | None) -> None:
    """Recompute each row's metrics from its stored test sums under ``dataset``'s protocol
    (``protocol_name``: one of its recipe's named protocols)."""
    protocol = load_recipe(dataset).forecasting_protocol(protocol_name)
    for row in rows:
        sums = torch.tensor(row["test_sums"], dtype=torch.float64)
        scored = ForecastMetrics.from_sums(sums, protocol.mape_threshold)
        row.update(score_fields(scored, protocol, row["attributes"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--rescore", metavar="DATASET")
    parser.add_argument("--protocol", metavar="NAME", help="with --rescore: a named protocol")
    parser.add_argument(
        "--published",
        nargs=2,
        metavar=("DATASET", "HORIZON"),
        help="quote the published figures for DATASET at HORIZON after our rows",
    )
    args = parser.parse_args()
    if args.protocol and not args.rescore:
        parser.error("--protocol names the protocol of --rescore DATASET")
    pieces = sorted(args.root.glob("*/results.json")) + sorted(args.root.glob("*/*/results.json"))
    rows = [row for path in pieces for row in json.loads(path.read_text())["rows"]]
    if not rows:
        raise SystemExit(f"no results under {args.root}: run its benchmark script first")
    if args.rescore:
        rescore(rows, args.rescore, args.protocol)
    rows.sort(key=lambda r: (STAGE_ORDER.get(r.get("stage"), len(STAGE_ORDER)), r["seed"]))
    command = (
        "each piece's own command is in results.json / results.csv; combined by "
        f".venv/bin/python benchmarks/combine_pieces.py {args.root}"
        + (f" --rescore {args.rescore}" if args.rescore else "")
        + (f" --protocol {args.protocol}" if args.protocol else "")
        + (f" --published {' '.join(args.published)}" if args.published else "")
    )
    published = []
    if args.published:
        dataset, horizon = args.published
        if not horizon.isdigit():
            parser.error(f"--published: the horizon must be a whole number, got '{horizon}'")
        published = published_forecasts(dataset, int(horizon))
    for path in write_results(args.root, rows, command, published):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
