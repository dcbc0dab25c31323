#!/usr/bin/env bash
# PT-Tuning on the ETT sets (issue 13), one piece per call. Run from the repository root:
#   bash benchmarks/pt_tuning.sh baselines HORIZON SEED...  last-value, seasonal naive, ridge,
#                                                          DLinear (20 epochs, patience 3)
#   bash benchmarks/pt_tuning.sh dlinear-lr HORIZON SEED... DLinear at each learning rate of
#       the grid, one folder each under benchmarks/results/dlinear-lr-<dataset>-h<H>/: the
#       baselines' DLinear rate is the one of best validation MSE there (ETTh1 336 -> 96)
#   bash benchmarks/pt_tuning.sh stages HORIZON SEED        pretrain, then pt-tuning (per-patch
#       and shared prompts), linear-probe and finetune from its checkpoint, and supervised
#   bash benchmarks/pt_tuning.sh shared-prompt HORIZON SEED the shared-prompt row alone, from
#       the pretraining a stages piece left
#   bash benchmarks/pt_tuning.sh stage-lr HORIZON SEED      a pretraining of its own, finetune
#       from it at 3e-5, 1e-4, 3e-4 and 1e-3, and supervised at 3e-5, 1e-4 and 3e-4, one
#       folder each under benchmarks/results/stage-lr-<the stages' folder name>/seed<SEED>/
#       (supervised at 1e-3 is the stages piece's own row: it reads no pretraining); the rate
#       of each seed is then chosen on validation by benchmarks/select_by_validation.py
#   bash benchmarks/pt_tuning.sh prompt-lr HORIZON SEED     pt-tuning at 1e-3, 5e-3, 2e-2,
#       5e-2 and 2e-1 from the stage-lr piece's pretraining (run again when missing), one
#       folder each beside that piece's, for the same choice on validation
#   bash benchmarks/pt_tuning.sh probe-lr HORIZON SEED      linear-probe at 1e-4, 3e-4, 1e-3 and
#       5e-3 from the same pretraining, one folder each beside it, for the same choice
# then  .venv/bin/python benchmarks/combine_pieces.py ROOT --published DATASET HORIZON
# writes the table over the seeds run so far into ROOT (the results folder named below).
#
# Settings from the environment: DATASET (default etth1; etth2, or a sensor set such as
# los-loop, nodes as channels), HISTORY (default 336), PATCH (patch length and stride, default
# 12), LOSS (default mse), EPOCHS a stage (default 5), PRETRAIN_EPOCHS (default EPOCHS). A
# setting off its default names the results folder:
# pt-tuning-<dataset>-h<H>[-context<HISTORY>][-patch<P>][-<LOSS>][-pretrain<N>], e.g. for
# los-loop: DATASET=los-loop HISTORY=12 PATCH=3 LOSS=mae bash benchmarks/pt_tuning.sh stages 12 0
# FULL_LR (default 1e-3) is the stages piece's rate for finetune and supervised, the stages that
# train every weight; a rate off the default names their folders finetune-lr<rate> and
# supervised-lr<rate>, as the stage-lr piece does.
#
# Protocol: LTSF (HISTORY -> HORIZON; ETT borders 12/4/4 months, one scaler per variable
# fitted on train, MSE/MAE on standardised values over every channel and step, every test
# window scored). MSE training loss, AdamW with a cosine schedule, batch 32, patience 2,
# lr 1e-3 (5e-3 for pt-tuning and linear-probe, which train few parameters).
# An interrupted piece continues when called again (--resume); a stage that has finished is
# not run again (delete its folder to rerun it).
set -euo pipefail
export STGRAPH_DATA=${STGRAPH_DATA:-../shared/data}
piece=$1; horizon=$2; shift 2
dataset=${DATASET:-etth1}
epochs=${EPOCHS:-5}
pretrain_epochs=${PRETRAIN_EPOCHS:-$epochs}
history=${HISTORY:-336}
patch=${PATCH:-12}
loss=${LOSS:-mse}
full_lr=${FULL_LR:-1e-3}
full=; [ "$full_lr" = 1e-3 ] || full=-lr$full_lr  # the folder suffix of a rate off the default
root=benchmarks/results/pt-tuning-$dataset-h$horizon
[ "$history" = 336 ] || root=$root-context$history
[ "$patch" = 12 ] || root=$root-patch$patch
[ "$loss" = mse ] || root=$root-$loss
[ "$pretrain_epochs" = 5 ] || root=$root-pretrain$pretrain_epochs
patching=(); [ "$patch" = 12 ] || patching=(--patch-len "$patch")  # PT-Tuning's rows only
bench() {
  .venv/bin/stgraph bench --dataset "$dataset" --history "$history" --horizon "$horizon" \
    --loss "$loss" --batch-size 32 --no-progress --resume "$@"
}
dlinear=(--epochs 20 --patience 3)  # DLinear's training (the other baselines do not train)
out_root=$root  # where the stages write
grid_root=benchmarks/results/stage-lr-${root#benchmarks/results/}  # where the rate grids write
pretrain_root=$root  # where the pretraining they start from lies
run_stage() {  # run_stage MODEL STAGE FOLDER OPTIONS...: one stage of seed $seed
  local model=$1 name=$2 folder=$3; shift 3
  bench --model "$model" --stage "$name" --patience 2 --seeds "$seed" "${patching[@]}" \
    --out "$out_root/seed$seed/$folder" "$@"
}
finished() { [ -f "$out_root/seed$seed/$1/results.json" ]; }  # finished FOLDER
stage() { finished "$3" || run_stage "$@"; }  # run_stage, unless it has finished
# Seed $seed's pretraining. Its checkpoint is not committed: on a fresh clone it runs again
# when a stage needs it, and not at all where the checkpoint is present. On the same CPU and
# thread count a rerun repeats the committed run; on another CPU it differs by float rounding
# (ETTh1 336 -> 192, seed 0, ten epochs: test MSE 0.4562 on an AVX2 CPU against the committed
# 0.4581), so the stages a grid compares start from one pretraining, written beside them.
pretrain_checkpoint() {
  echo "$pretrain_root/seed$seed/pretrain/checkpoints/pt-tuning-$dataset-seed$seed/pretrain.pt"
}
pretrain() {
  [ -f "$(pretrain_checkpoint)" ] || out_root=$pretrain_root run_stage pt-tuning pretrain \
    pretrain --epochs "$pretrain_epochs" --lr 1e-3
}
adapt() {  # adapt MODEL STAGE FOLDER LR: a stage from seed $seed's pretraining
  finished "$3" && return
  pretrain
  run_stage "$1" "$2" "$3" --init "$(pretrain_checkpoint)" --epochs "$epochs" --lr "$4"
}
rate_grid() {  # rate_grid STAGE LR...: STAGE at each rate, one folder STAGE-lr<LR> each
  local name=$1 lr; shift
  for lr; do adapt pt-tuning "$name" "$name-lr$lr" "$lr"; done
}
# The rate grids write, and pretrain, beside each other, apart from the stages piece.
case $piece in stage-lr | prompt-lr | probe-lr) out_root=$grid_root pretrain_root=$grid_root ;; esac
case $piece in
  baselines)
    bench --model last-value,seasonal-naive,ridge,dlinear "${dlinear[@]}" --lr 5e-4 \
      --seeds "$@" --out $root/baselines ;;
  dlinear-lr)
    for lr in 5e-5 1e-4 5e-4 1e-3 5e-3; do
      bench --model dlinear "${dlinear[@]}" --lr $lr --seeds "$@" \
        --out benchmarks/results/dlinear-lr-$dataset-h$horizon/lr$lr
    done ;;
  shared-prompt) seed=$1; adapt pt-tuning-shared-prompt pt-tuning pt-tuning-shared 5e-3 ;;
  stage-lr)
    seed=$1; rate_grid finetune 3e-5 1e-4 3e-4 1e-3
    for lr in 3e-5 1e-4 3e-4; do
      stage pt-tuning supervised supervised-lr$lr --epochs "$epochs" --lr $lr
    done ;;
  prompt-lr) seed=$1; rate_grid pt-tuning 1e-3 5e-3 2e-2 5e-2 2e-1 ;;
  probe-lr) seed=$1; rate_grid linear-probe 1e-4 3e-4 1e-3 5e-3 ;;
  stages)
    seed=$1  # the first stage to adapt runs the pretraining
    adapt pt-tuning pt-tuning pt-tuning 5e-3
    adapt pt-tuning-shared-prompt pt-tuning pt-tuning-shared 5e-3
    adapt pt-tuning linear-probe linear-probe 5e-3
    adapt pt-tuning finetune finetune$full "$full_lr"
    stage pt-tuning supervised supervised$full --epochs "$epochs" --lr "$full_lr" ;;
  *) echo "unknown piece: $piece" >&2; exit 2 ;;
esac
