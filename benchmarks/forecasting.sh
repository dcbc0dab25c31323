#!/usr/bin/env bash
# Forecasting baselines on real data, three seeds each (issue 5). Run from the repository root:
#   bash benchmarks/forecasting.sh
# Each dataset's table lands in benchmarks/results/forecast-<dataset>/results.{md,csv,json}.
# los-loop: DCRNN's split convention (--boundary straddle), as its committed table and the peer numbers.
set -euo pipefail
export STGRAPH_DATA=${STGRAPH_DATA:-../shared/data}
models=last-value,seasonal-naive,ridge,stid,st-transformer,st-transformer-bias
.venv/bin/stgraph bench --model "$models" --dataset chicago-crime --seeds 0 1 2 \
  --epochs 30 --patience 6 --no-progress --out benchmarks/results/forecast-chicago-crime
.venv/bin/stgraph bench --model "$models" --dataset los-loop --seeds 0 1 2 \
  --epochs 20 --patience 5 --no-progress --boundary straddle --out benchmarks/results/forecast-los-loop
