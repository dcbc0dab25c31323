#!/usr/bin/env bash
# ToPT and its baselines/ablations on real region data (issue 6). Run from the repository root:
#   bash benchmarks/regions.sh
set -euo pipefail
export STGRAPH_DATA=${STGRAPH_DATA:-../shared/data}
.venv/bin/stgraph bench --model topt --city chicago --no-progress --out benchmarks/results/topt-chicago
.venv/bin/stgraph bench --model topt --city nyc --seeds 0 --no-progress --out benchmarks/results/topt-nyc
