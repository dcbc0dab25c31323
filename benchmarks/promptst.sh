#!/usr/bin/env bash
# PromptST (issue 12), one piece per call, each under an hour on a 2-core machine. Run from the
# repository root:
#   bash benchmarks/promptst.sh baselines SEEDS...   last-value, seasonal naive (daily, weekly),
#                                                    ridge, STID
#   bash benchmarks/promptst.sh PIECE SEED           one seed of a PromptST piece:
#     pretrain      the shared model on every attribute (also the pretrain-only row)
#     prompt-tune   frozen backbone, one prompt per layer per node, and the pretrained head
#                   trained, per attribute
#     fresh-head    prompt-tune with a new head, as PromptST's code does (the head ablation)
#     tiny-prompt   frozen backbone and head, one shared prompt per layer, per attribute
#     finetune      every weight from the pretrained state, per attribute
#     scratch       the same architecture trained on one attribute only, per attribute
#     no-graph-pretrain  the shared pretraining with a graph-blind spatial encoder
#     no-graph      prompt-tune from it, per attribute (runs no-graph-pretrain first when its
#                   checkpoint is missing)
#     holdout       pretrain on 15 types, then prompt-tune and scratch on the 4 held out
#                   (nyc-complaints only)
# then  .venv/bin/python benchmarks/combine_pieces.py benchmarks/results/promptst-DATASET \
#   --rescore DATASET  (chicago-crime: add --protocol promptst) writes the table over the seeds
# run so far (benchmarks/results/promptst-DATASET/results.{md,csv,json}).
#
# DATASET (default nyc-complaints) picks the data:
#   nyc-complaints  19 complaint types, PromptST's protocol: 12 -> 12 three-hour steps, last 1168
#                   windows test and 584 validation (DCRNN's boundary convention, as committed)
#   chicago-crime   4 crime types, daily, in place of PromptST's unpublished 4-attribute taxi data:
#                   the recipe's `promptst` protocol, 12 -> 12 days within STHSL's split (val
#                   September, test October to December 2017)
# Both: one scaler per attribute fitted on the training steps, unmasked RMSE and MAE per
# attribute and averaged over attributes, MAE>0 beside them, selection on validation RMSE.
# Training: MSE loss, AdamW with a cosine schedule, lr 3e-3 (finetune 1e-3), EPOCHS epochs with
# patience 3 (default: 5 on nyc-complaints, 20 on chicago-crime, whose training part holds 579
# windows against 4065); joint runs take 16 windows x every attribute a step (pretraining
# memory), per-attribute runs 64 windows. A piece that was interrupted continues when called
# again.
set -euo pipefail
export STGRAPH_DATA=${STGRAPH_DATA:-../shared/data}
piece=$1; shift
dataset=${DATASET:-nyc-complaints}
case $dataset in
  nyc-complaints) data=(--boundary straddle); epochs=${EPOCHS:-5}
    held=complaint_15,complaint_16,complaint_17,complaint_18 ;;
  chicago-crime) data=(--protocol promptst); epochs=${EPOCHS:-20}; held= ;;
  *) echo "unknown DATASET: $dataset (nyc-complaints or chicago-crime)" >&2; exit 2 ;;
esac
root=benchmarks/results/promptst-$dataset
bench() {
  .venv/bin/stgraph bench --dataset "$dataset" "${data[@]}" --loss mse --epochs "$epochs" \
    --patience 3 --lr 3e-3 --no-progress --resume "$@"
}
if [ "$piece" = baselines ]; then
  bench --model last-value,seasonal-naive-daily,seasonal-naive-weekly,ridge,stid --seeds "$@" \
    --epochs 20 --patience 5 --out $root/baselines
  exit
fi
seed=$1
out=$root/seed$seed
joint=(--seeds "$seed" --batch-size 16)
single=(--seeds "$seed" --batch-size 64 --per-attribute --prompt-tokens 1)
checkpoint() {  # checkpoint FOLDER MODEL [PART]: the pretrain stage's weights in FOLDER
  echo "$1/checkpoints/$2-$dataset${3:+-$3}-seed$seed/pretrain.pt"
}
# The shared pretraining of seed $seed. Its checkpoint is not committed: on a fresh clone a
# piece that starts from it runs it again first (seeded: compare the row it rewrites with the
# committed one), and not at all where the checkpoint is present.
pretrain() {  # pretrain MODEL FOLDER [OPTIONS...]: the shared pretraining of MODEL into $out/FOLDER
  local model=$1 folder=$2; shift 2
  bench --model "$model" --stage pretrain "$@" "${joint[@]}" --out "$out/$folder"
}
pretrained() { [ -f "$(checkpoint "$out/$2" "$1")" ] || pretrain "$1" "$2"; }  # unless done
init=$(checkpoint $out/pretrain promptst)
case $piece in
  pretrain) pretrain promptst pretrain ;;
  prompt-tune | tiny-prompt | finetune)
    lr=3e-3; [ "$piece" = finetune ] && lr=1e-3
    pretrained promptst pretrain
    bench --model promptst --stage "$piece" --init "$init" "${single[@]}" --lr $lr \
      --out $out/$piece ;;
  fresh-head)
    pretrained promptst pretrain
    bench --model promptst-fresh-head --stage prompt-tune --init "$init" "${single[@]}" \
      --out $out/prompt-tune-fresh-head ;;
  scratch) bench --model promptst --stage supervised "${single[@]}" --out $out/scratch ;;
  no-graph-pretrain) pretrain promptst-no-graph no-graph-pretrain ;;
  no-graph)
    pretrained promptst-no-graph no-graph-pretrain
    bench --model promptst-no-graph --stage prompt-tune "${single[@]}" \
      --init "$(checkpoint $out/no-graph-pretrain promptst-no-graph)" --out $out/no-graph ;;
  holdout)
    [ -n "$held" ] || { echo "holdout: nyc-complaints only" >&2; exit 2; }
    pretrain promptst holdout-pretrain --holdout-attributes $held
    init=$(checkpoint $out/holdout-pretrain promptst 15-of-19-attributes)
    bench --model promptst --stage prompt-tune --init "$init" --holdout-attributes $held \
      "${single[@]}" --out $out/holdout-prompt-tune
    bench --model promptst --stage supervised --holdout-attributes $held "${single[@]}" \
      --out $out/holdout-scratch ;;
  *) echo "unknown piece: $piece" >&2; exit 2 ;;
esac
