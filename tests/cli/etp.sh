#!/bin/sh
# The etp column of a validation row: the recipe's expert tensor-parallel size (Megatron-Core
# expert_tensor_parallel_size; docs/systems.md "Expert tensor parallelism"), priced as `train --etp` prices it.
. tests/cli/_lib.sh
H='id,model,n_layers,d_model,n_heads,n_kv_heads,ffn_dim,ffn_type,seq_len,vocab,moe_experts,moe_topk,system,n_gpus,tp,pp,dp,ep,cp,vpp,zero_stage,global_batch,micro_batch,recompute,seq_parallel,precision,measured_step_time_s,measured_mfu,measured_tflops_per_gpu,tflops_counts_recompute,source,software,model_config,etp'
# Qwen3-30B-A3B on 16 H100s, TP 2 with sequence parallelism, EP 8 (Megatron dp 8 = 8 EP ranks, one dense replica)
R=',x,,,,,,,4096,,,,dgx-h100,16,2,1,8,8,1,1,,64,1,none,1,bf16,1.0,,,0,src,megatron-core,qwen3-30b-a3b'
plan="--model qwen3-30b-a3b --system dgx-h100 --gpus 16 --tp 2 --ep 8 --global-batch 64 --micro-batch 1 --seq-len 4096 --recompute none --sp --dtype bf16 --software megatron-core --json"
printf '%s\nD-1%s,\nT-1%s,2\nE-1%s,1\n' "$H" "$R" "$R" "$R" >"$TMP/rows.csv"
# Rule: an empty cell is Megatron-Core's default ETP = TP, an etp cell equal to TP the same plan, and etp 1 the plan
# `train --etp 1` prices (full-width experts, T/TP tokens per rank through the all-to-all): each row's predicted step
# time is train's for that ETP exactly (the same plan through the same pricer; 1e-12 covers the printed digits only)
# shellcheck disable=SC2086
t2=$($RUN train $plan --etp 2 | grep -o '"step_time_s":[0-9.eE+-]*' | cut -d: -f2)
# shellcheck disable=SC2086
t1=$($RUN train $plan --etp 1 | grep -o '"step_time_s":[0-9.eE+-]*' | cut -d: -f2)
expect_json etp_cells "rows.0.predicted_step_time_s=$t2@1e-12" "rows.1.predicted_step_time_s=$t2@1e-12" \
    "rows.2.predicted_step_time_s=$t1@1e-12" -- validate "$TMP/rows.csv" --json
if awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(a != b) }'; then
    echo "ok etp_one_differs"
else
    echo "not ok etp_one_differs: etp 1 and etp 2 both price $t1 s"
fi
# Rule: an etp cell that is no positive integer is refused in one line naming file, line and column (exit 2)
printf '%s\nB-1%s,x\n' "$H" "$R" >"$TMP/x.csv"
expect_fail etp_not_integer 2 "x.csv:2: column 'etp': 'x' is not an integer" -- validate "$TMP/x.csv"
printf '%s\nB-1%s,0\n' "$H" "$R" >"$TMP/z.csv"
expect_fail etp_zero 2 "z.csv:2: column 'etp': 0 is out of range" -- validate "$TMP/z.csv"
# Rule: an ETP Megatron-Core cannot lay out (neither dividing TP nor a multiple of it) is the row's reason, as plan.c
# words it; a dense model with an ETP other than its TP likewise
D=',x,,,,,,,4096,,,,dgx-h100,16,2,1,8,1,1,1,,64,1,none,1,bf16,1.0,,,0,src,megatron-core,llama3-8b'
printf '%s\nD-1%s,\nB-3%s,3\nL-1%s,1\n' "$H" "$R" "$R" "$D" >"$TMP/p.csv"
expect_out etp_not_divisor "B-3 +not evaluated: .*p.csv:3: plan: etp = 3 must divide tp = 2" -- validate "$TMP/p.csv"
expect_out etp_dense "L-1 +not evaluated: .*p.csv:4: plan: etp = 1 differs from tp = 2 but model" -- validate "$TMP/p.csv"
