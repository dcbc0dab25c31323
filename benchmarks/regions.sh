#!/usr/bin/env bash
# ToPT, its ablations and the region baselines on both cities, five seeds (issue 9). Run from
# the repository root:  bash benchmarks/regions.sh [chicago|nyc]   (both when no argument)
# Each city's table lands in benchmarks/results/topt-<city>/results.{md,csv,json}.
set -euo pipefail
export STGRAPH_DATA=${STGRAPH_DATA:-../shared/data}
for city in "${@:-chicago nyc}"; do
  for name in $city; do
    .venv/bin/stgraph bench --model topt --city "$name" --seeds 0 1 2 3 4 --no-progress \
      --out "benchmarks/results/topt-$name"
  done
done
