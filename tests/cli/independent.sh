#!/bin/sh
# Independent check (docs/validation.md "Independent check: other stacks and generations"): the published runs of
# data/validation/training_runs_independent.csv (BLOOM-176B on Megatron-DeepSpeed, MT-NLG 530B, Llama 3 405B), which
# no calibration reads. The per-family MAPE is asserted to the printed precision (0.01 %), so any change of the
# model that moves these transfers shows here and in the regenerated docs.
. tests/cli/_lib.sh

F=data/validation/training_runs_independent.csv
expect_out independent_bloom '^  BLOOM    n= 18  MAPE   6\.73 %' -- validate "$F"
expect_out independent_mtnlg '^  MTNLG    n=  3  MAPE  23\.73 %' -- validate "$F"
expect_out independent_l3 '^  L3       n=  3  MAPE   9\.44 %' -- validate "$F"
expect_out independent_overall '^overall: n=24 evaluated, 0 not evaluated, MAPE 9\.19 %' -- validate "$F"

# Rule: calibration fits only the two calibration files, never an independent one (tools/calibrate.py CSVS).
if grep -q 'training_runs_independent' tools/calibrate.py; then
    echo "not ok independent_never_fitted: tools/calibrate.py names training_runs_independent.csv"
elif grep -Eq '^CSVS = \["data/validation/training_runs.csv", "data/validation/training_runs_megatron_core.csv"\]$' \
    tools/calibrate.py; then
    echo "ok independent_never_fitted"
else
    echo "not ok independent_never_fitted: tools/calibrate.py CSVS is not the two calibration files"
fi

# Rule: the megatron-deepspeed stack does not overlap the data-parallel gradient reduction (DeepSpeed's pipeline
# TrainSchedule reduces after the last micro-batch): a variant of the stack that overlaps it is faster on BLOOM's plan.
printf '{"name": "mds-overlap", "base": "%s/data/software/megatron-deepspeed.json", "defaults": {"overlap_dp": true}, "sources": {"overlap_dp": "test variant"}}\n' "$PWD" >"$TMP/mds-overlap.json"
plan="--model bloom-176b --system jean-zay-a100 --gpus 384 --tp 4 --pp 12 --global-batch 2048 --micro-batch 2 --seq-len 2048 --zero 1 --recompute full --dtype bf16 --json"
# shellcheck disable=SC2086
a=$($RUN train $plan --software megatron-deepspeed | grep -o '"step_time_s":[0-9.eE+-]*' | cut -d: -f2)
# shellcheck disable=SC2086
b=$($RUN train $plan --software "$TMP/mds-overlap.json" | grep -o '"step_time_s":[0-9.eE+-]*' | cut -d: -f2)
if awk -v a="$a" -v b="$b" 'BEGIN { exit !(a > b + 0.1) }'; then
    echo "ok megatron_deepspeed_dp_exposed"
else
    echo "not ok megatron_deepspeed_dp_exposed: megatron-deepspeed $a s, with DP overlap $b s"
fi
