#!/bin/sh
# BF16 layers (docs/model.md "BF16 layers"): Megatron-Core's num_layers_at_start_in_bf16 / num_layers_at_end_in_bf16
# as the --bf16-layers START,END knob of train / finetune / distill / search and the bf16_layers column of validate.
. tests/cli/_lib.sh
P="--model llama3-8b --system dgx-h100 --gpus 8 --seq-len 4096"

# Rule: the value is two integers START,END, refused in one line naming the option otherwise (exit 2)
expect_fail bf16l_bad_value 2 "^scaleplan train: error: --bf16-layers: '2'; expected START,END: the layers kept in BF16 at the start and at the end of the model, two integers 0..1048576 (e.g. 0,14)$" -- train $P --dtype fp8 --bf16-layers 2
# Rule: only a quantized dtype has layers to keep out of it (as --fp8-recipe); the search's 'any' allows it
expect_fail bf16l_needs_quantized 2 '^scaleplan train: error: --bf16-layers applies only with a quantized --dtype (fp8, mxfp8, nvfp4, fp4; the GEMMs here are bf16)$' -- train $P --bf16-layers 1,1
expect_fail bf16l_search_needs_quantized 2 '^scaleplan search: error: --bf16-layers applies only with a quantized --dtype' -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 64 --bf16-layers 1,1
expect_fail bf16l_search_beyond_model 2 "^scaleplan search: error: --bf16-layers: 40,1; allowed 0..32 each (model 'Llama-3-8B' has 32 layers)$" -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 64 --dtype any --bf16-layers 40,1
# Rule: Megatron-Core's FP8 bound (num_layers // pp at either end) is the plan's
expect_fail bf16l_fp8_stage_bound 2 '^scaleplan train: error: plan: bf16 layers 9,0 under fp8; allowed 0..8 each (num_layers // pp, as Megatron-Core checks)$' -- train --model llama3-8b --system dgx-h100 --gpus 32 --tp 8 --pp 4 --seq-len 4096 --dtype fp8 --bf16-layers 9,0
# Rule: the plan's JSON states them (train and search), absent when none
expect_json bf16l_json 'plan.bf16_layers.0=1' 'plan.bf16_layers.1=2' -- train $P --dtype fp8 --bf16-layers 1,2 --json
expect_json bf16l_search_json 'plans.0.bf16_layers.1=2' -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 64 --seq-len 4096 --dtype fp8 --bf16-layers 1,2 --top 1 --json
expect_json bf16l_finetune_json 'bf16_layers.0=4' 'bf16_layers.1=4' -- finetune $P --dtype fp8 --method lora --bf16-layers 4,4 --json
expect_out bf16l_text 'BF16 layers: the first 1 and the last 2 in 16 bits' -- train $P --dtype fp8 --bf16-layers 1,2

# Rule: validate's bf16_layers column: a bad value and a 16-bit row are the row's refusal (file, line, column)
H='id,model,n_layers,d_model,n_heads,n_kv_heads,ffn_dim,ffn_type,seq_len,vocab,moe_experts,moe_topk,system,n_gpus,tp,pp,dp,ep,cp,vpp,zero_stage,global_batch,micro_batch,recompute,seq_parallel,precision,measured_step_time_s,measured_mfu,measured_tflops_per_gpu,tflops_counts_recompute,source,software,model_config,bf16_layers'
printf '%s\nR-1,x,32,4096,32,8,14336,gated,4096,128256,,,dgx-h100,8,8,1,1,,,1,1,64,1,none,1,fp8,1.0,,,0,src,megatron-core,,"1,x"\n' "$H" >"$TMP/bad.csv"
expect_fail validate_bf16l_bad 2 "bad.csv:2: column 'bf16_layers': '1,x'; expected START,END" -- validate "$TMP/bad.csv"
printf '%s\nR-1,x,32,4096,32,8,14336,gated,4096,128256,,,dgx-h100,8,8,1,1,,,1,1,64,1,none,1,bf16,1.0,,,0,src,megatron-core,,"1,1"\n' "$H" >"$TMP/b16.csv"
expect_fail validate_bf16l_16bit 2 "b16.csv:2: column 'bf16_layers' applies to a quantized precision (fp8, mxfp8, nvfp4, fp4), not bf16" -- validate "$TMP/b16.csv"
# Rule: a row with BF16 layers is evaluated with them: slower than the same row without (TP 1: FP8 GEMMs are faster)
printf '%s\nR-1,x,32,4096,32,8,14336,gated,4096,128256,,,dgx-h100,8,1,1,8,,,1,1,64,1,none,0,fp8,1.0,,,0,src,megatron-core,,"4,4"\nR-2,x,32,4096,32,8,14336,gated,4096,128256,,,dgx-h100,8,1,1,8,,,1,1,64,1,none,0,fp8,1.0,,,0,src,megatron-core,,\n' "$H" >"$TMP/rows.csv"
$RUN validate "$TMP/rows.csv" >"$TMP/v" 2>&1
t1=$(awk '$1 == "R-1" {print $2}' "$TMP/v"); t2=$(awk '$1 == "R-2" {print $2}' "$TMP/v")
if [ -n "$t1" ] && [ -n "$t2" ] && awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(a > b) }'; then
    echo "ok validate_bf16l_row_priced"
else
    echo "not ok validate_bf16l_row_priced: R-1 '$t1' R-2 '$t2': $(head -c 300 "$TMP/v")"
fi

# Rule: the generators fill bf16_layers from each release's precision config (tools/bridge_precision.py): the
# Nemotron-3 Super NVFP4 rows, 0,14, and no other row
# (the bf16_layers column read by name: other recipe columns may follow it)
for f in data/validation/training_runs_megatron_core.csv data/validation/training_runs_megatron_core_ultra.csv; do
    # the bf16_layers column by its header name (later columns may follow it)
    cells=$(python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r.get("bf16_layers"):
        print(r["bf16_layers"], "super-nvfp4" if r["model"] == "Nemotron-3-Super-120B-A12B" and r["precision"] == "nvfp4" else "other")' "$f")
    n=$(printf '%s\n' "$cells" | grep -c '^0,14 '); m=$(printf '%s\n' "$cells" | grep '^0,14 ' | grep -vc ' super-nvfp4$')
    if [ "$n" -gt 0 ] && [ "$m" -eq 0 ] && [ "$(printf '%s\n' "$cells" | grep -c .)" -eq "$n" ]; then
        echo "ok bf16l_rows_$(basename "$f" .csv)"
    else
        echo "not ok bf16l_rows_$(basename "$f" .csv): $1 rows 0,14, $2 not Super NVFP4, $3 with bf16_layers"
    fi
done
