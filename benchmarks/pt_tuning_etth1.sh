#!/usr/bin/env bash
# PT-Tuning on ETTh1 (issue 13), one piece per call. Run from the repository root:
#   bash benchmarks/pt_tuning_etth1.sh baselines HORIZON SEED...  last-value, seasonal naive, ridge,
#                                                                DLinear (20 epochs, patience 3)
#   bash benchmarks/pt_tuning_etth1.sh stages HORIZON SEED        pretrain, then pt-tuning,
#       linear-probe and finetune from its checkpoint, and supervised from scratch
# then  .venv/bin/python benchmarks/combine_pieces.py benchmarks/results/pt-tuning-etth1-h<H> \
#           --published etth1 <H>
# writes the table over the seeds run so far.
#
# Protocol: LTSF (HISTORY -> HORIZON, default history 336; ETT borders 12/4/4 months, one
# scaler per variable fitted on train, MSE/MAE on standardised values over every channel and
# step, every test window scored). MSE training loss, AdamW with a cosine schedule, batch 32;
# PT-Tuning stages EPOCHS epochs each (default 5; pretraining PRETRAIN_EPOCHS, default EPOCHS),
# patience 2, lr 1e-3 (5e-3 for pt-tuning and linear-probe, which train few parameters).
# An interrupted piece continues when called again (--resume).
set -euo pipefail
export STGRAPH_DATA=${STGRAPH_DATA:-../shared/data}
piece=$1; horizon=$2; shift 2
epochs=${EPOCHS:-5}
pretrain_epochs=${PRETRAIN_EPOCHS:-$epochs}
history=${HISTORY:-336}
root=benchmarks/results/pt-tuning-etth1-h$horizon
[ "$history" = 336 ] || root=$root-context$history
[ "$pretrain_epochs" = 5 ] || root=$root-pretrain$pretrain_epochs
bench() {
  .venv/bin/stgraph bench --dataset etth1 --history "$history" --horizon "$horizon" --loss mse \
    --batch-size 32 --no-progress --resume "$@"
}
case $piece in
  baselines)
    bench --model last-value,seasonal-naive,ridge,dlinear --epochs 20 --patience 3 --lr 5e-3 \
      --seeds "$@" --out $root/baselines ;;
  stages)
    seed=$1; out=$root/seed$seed
    stage() { bench --model pt-tuning --patience 2 --seeds "$seed" "$@"; }
    stage --stage pretrain --epochs "$pretrain_epochs" --lr 1e-3 --out $out/pretrain
    init=$out/pretrain/checkpoints/pt-tuning-etth1-seed$seed/pretrain.pt
    stage --stage pt-tuning --init "$init" --epochs "$epochs" --lr 5e-3 --out $out/pt-tuning
    stage --stage linear-probe --init "$init" --epochs "$epochs" --lr 5e-3 --out $out/linear-probe
    stage --stage finetune --init "$init" --epochs "$epochs" --lr 1e-3 --out $out/finetune
    stage --stage supervised --epochs "$epochs" --lr 1e-3 --out $out/supervised ;;
  *) echo "unknown piece: $piece" >&2; exit 2 ;;
esac
