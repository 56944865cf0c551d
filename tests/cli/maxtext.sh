#!/bin/sh
# MaxText / TPU independent check (data/validation/training_runs_maxtext.csv, docs/validation.md "Independent check:
# MaxText"): the family's MAPE as validate prints it (2 decimals), so any change to the TPU presets, the maxtext stack
# or the collective model that moves these 40 rows is seen; the rows are never fitted (tools/calibrate.py).
. tests/cli/_lib.sh
expect_out maxtext_mape '^  MT       n= 40  MAPE   9\.33 %  worst MT-V5P-128B-2x512 \(22\.4 %\)$' -- \
    validate data/validation/training_runs_maxtext.csv
expect_out maxtext_overall '^overall: n=40 evaluated, 0 not evaluated, MAPE 9\.33 %$' -- \
    validate data/validation/training_runs_maxtext.csv
# the generator reproduces the CSV byte for byte (sources, derivations and plan columns in one place)
if ! command -v python3 >/dev/null 2>&1; then
    echo "ok maxtext_rows_check # skip: no python3"
elif python3 tools/maxtext_rows.py --check; then
    echo "ok maxtext_rows_check"
else
    echo "not ok maxtext_rows_check: tools/maxtext_rows.py would write another CSV"
fi
# hsdp column: FSDP groups of one slice; out of range is refused in one line naming file:line:column
printf 'id,model_config,system,n_gpus,tp,zero_stage,global_batch,seq_len,hsdp,software,measured_step_time_s\nX,llama2-7b,tpu-v5p-pod,64,1,3,64,2048,0,maxtext,1\n' > "$TMP/hsdp0.csv"
expect_fail maxtext_hsdp_zero 2 "hsdp0.csv:2: column 'hsdp': 0 is out of range" -- validate "$TMP/hsdp0.csv"
# parallel block (model parallel_attn): with TP the layer's collectives are one all-gather + reduce-scatter pair per
# pass instead of one per block, so the TP time is exactly half of the same model priced sequentially
sed 's/"parallel_attn": true/"parallel_attn": false/' data/validation/maxtext/maxtext-32b.json > "$TMP/seq32b.json"
tpc() { $RUN train --model "$1" --system data/validation/maxtext/tpu-v5p-slice64.json --gpus 64 --tp 4 --sp --zero 3 \
    --software maxtext --global-batch 512 --micro-batch 32 --seq-len 2048 --recompute selective --json |
    sed -n 's/.*"tp_comm":\([0-9.e+-]*\).*/\1/p'; }
par=$(tpc data/validation/maxtext/maxtext-32b.json); seq=$(tpc "$TMP/seq32b.json")
if awk -v a="$par" -v b="$seq" 'BEGIN { exit !(b > 0 && a / b > 0.5 - 1e-9 && a / b < 0.5 + 1e-9) }'; then
    echo "ok maxtext_parallel_block_tp_half"
else
    echo "not ok maxtext_parallel_block_tp_half: tp_comm $par (parallel) vs $seq (sequential)"
fi
