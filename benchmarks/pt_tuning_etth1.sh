#!/usr/bin/env bash
# PT-Tuning on ETTh1 (issue 13), one piece per call: a horizon and a seed list. Run from the
# repository root:  bash benchmarks/pt_tuning_etth1.sh HORIZON EPOCHS SEEDS...
#   e.g. bash benchmarks/pt_tuning_etth1.sh 96 3 0
# LTSF protocol (336 -> HORIZON, 12/4/4 months, one scaler per variable, MSE/MAE on
# standardised values, every test window scored), MSE training loss. Writes
# benchmarks/results/pt-tuning-etth1-h<HORIZON>/{baselines,pt-tuning}/results.{md,csv,json};
# rerun with --resume semantics by calling again (checkpoints stay in the output folder).
set -euo pipefail
export STGRAPH_DATA=${STGRAPH_DATA:-../shared/data}
horizon=$1; epochs=$2; shift 2
out=benchmarks/results/pt-tuning-etth1-h$horizon
.venv/bin/stgraph bench --model last-value,seasonal-naive,dlinear --dataset etth1 --horizon "$horizon" \
  --loss mse --epochs 20 --patience 3 --lr 5e-3 --batch-size 32 --seeds "$@" --no-progress \
  --out "$out/baselines"
.venv/bin/stgraph bench --model pt-tuning --dataset etth1 --horizon "$horizon" --loss mse \
  --epochs "$epochs" --patience 2 --lr 1e-3 --batch-size 128 --seeds "$@" --no-progress \
  --out "$out/pt-tuning"
