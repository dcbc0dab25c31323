#!/usr/bin/env bash
# ST-LINK (issue 11), one piece per call, each under an hour on a 2-core machine. Run from the
# repository root:  bash benchmarks/st_link.sh PIECE [SEEDS...]   (default seeds: 0 1 2)
#
#   los-loop-baselines   last-value, seasonal-naive, ridge, stid, st-transformer-bias
#   los-loop-main        st-link and st-llm
#   los-loop-ablations   st-link-no-se, -no-mrffn, -node-index, -random-init, -full-tune
#   los-loop-long        st-link and st-llm trained LONG_EPOCHS (default 20) epochs with
#                        patience 5: does the 8-epoch budget hold the backbone rows back?
#                        LONG_ROWS picks the rows (default "st-link st-llm"), e.g. one per core
#   DATASET              st-link, st-llm and the baselines on another dataset
#                        (nyc-flows-bike1, nyc-flows-taxi, chicago-crime, ...)
#
# Protocol: the dataset's own (los-loop: 12 -> 12, 7:1:2, masked MAE/RMSE/MAPE at @3/@6/@12
# and the average), except nyc-flows-*: its recipe's named protocol st-llm (ST-LLM's demand
# protocol: 12 -> 12, scored where truth > 0, MAE/RMSE/MAPE/WAPE). Trained models: AdamW at
# 2e-3 (st-link-full-tune: 2e-4), cosine schedule, batch 64, early stopping on validation MAE.
# The backbone rows (all-MiniLM-L6-v2, U = 2) train EPOCHS (default 8) epochs with patience 3
# under bf16 autocast (loss and metrics in fp32): about a minute an epoch, against 1.5-2
# minutes in fp32, on a CPU with bfloat16 matrix instructions (AVX512-BF16 or AMX; the
# committed rows ran on one). On an AVX2-only CPU bf16 is emulated, hundreds of times slower
# (stgraph warns): there the backbone rows cannot be rerun as committed in any useful time;
# PRECISION=fp32 runs them without autocast instead (the tables say which rows ran so).
# Baselines train in fp32, 20 epochs, patience 5.
# A piece that was interrupted continues from its checkpoints when called again (--resume).
# Writes benchmarks/results/st-link-<piece>/results.{md,csv,json} (the ablations and the long
# runs: one folder per seed and row under st-link-<piece>/, combined into one table by
#   .venv/bin/python benchmarks/combine_pieces.py benchmarks/results/st-link-<piece>).
set -euo pipefail
export STGRAPH_DATA=${STGRAPH_DATA:-../shared/data}
piece=$1; shift
seeds=("$@"); [ ${#seeds[@]} -gt 0 ] || seeds=(0 1 2)
epochs=${EPOCHS:-8}
baselines=last-value,seasonal-naive,ridge,stid,st-transformer-bias
precision=(--precision "${PRECISION:-bf16}")  # the backbone rows' autocast (loss, metrics fp32)
backbone=(--epochs "$epochs" --patience 3 "${precision[@]}")
run() {  # run OUT_NAME DATASET MODELS OPTIONS...
  local out=benchmarks/results/st-link-$1 dataset=$2 models=$3; shift 3
  .venv/bin/stgraph bench --model "$models" --dataset "$dataset" --seeds "${seeds[@]}" \
    --no-progress --resume --boundary straddle --out "$out" "$@"  # DCRNN's split, as committed
}
# The ablations and the long runs: one call (and folder) per seed and row, so that each
# finishes on its own.
per_seed() {  # per_seed ROWS: call ROWS SEED for each seed, with run limited to that seed
  local all_seeds=("${seeds[@]}") seed
  for seed in "${all_seeds[@]}"; do seeds=("$seed"); "$1" "$seed"; done
}
ablation_rows() {  # ablation_rows SEED
  local model
  for model in st-link-no-mrffn st-link-no-se st-link-node-index st-link-random-init; do
    run "$piece/seed$1/$model" los-loop "$model" "${backbone[@]}"
  done
  # every weight of the pretrained backbone trains: at the rows' 2e-3 it diverged
  run "$piece/seed$1/st-link-full-tune" los-loop st-link-full-tune "${backbone[@]}" --lr 2e-4
}
long_rows() {  # long_rows SEED
  local model
  for model in ${LONG_ROWS:-st-link st-llm}; do
    run "$piece/seed$1/$model" los-loop "$model" --epochs "${LONG_EPOCHS:-20}" --patience 5 \
      "${precision[@]}"
  done
}
case $piece in
  los-loop-baselines) run "$piece" los-loop "$baselines" --epochs 20 --patience 5 ;;
  los-loop-main) run "$piece" los-loop st-link,st-llm "${backbone[@]}" ;;
  los-loop-ablations) per_seed ablation_rows ;;
  los-loop-long) per_seed long_rows ;;
  *)
    protocol=(); [[ $piece == nyc-flows-* ]] && protocol=(--protocol st-llm)
    run "$piece-baselines" "$piece" "$baselines" --epochs 20 --patience 5 "${protocol[@]}"
    run "$piece" "$piece" st-link,st-llm "${backbone[@]}" "${protocol[@]}" ;;
esac
