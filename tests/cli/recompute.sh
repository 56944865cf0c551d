#!/bin/sh
# Recompute modules and the block method (docs/model.md "Recompute modules"): Megatron-Core's recompute_modules
# names and recompute_num_layers (block) as knobs of train / finetune / distill / search and as validate columns.
. tests/cli/_lib.sh
P="--model llama3-8b --system dgx-h100 --gpus 8 --seq-len 4096"

# Rule: an unknown module is refused in one line naming the allowed ones (exit 2), on every command that takes it
expect_fail rcm_unknown_train 2 "^scaleplan train: error: --recompute-modules: unknown module 'attn'; allowed none or a comma list of core_attn, mlp, moe_act, layernorm, mla_up_proj, moe, shared_experts, op_sac$" -- train $P --recompute-modules core_attn,attn
expect_fail rcm_unknown_search 2 "^scaleplan search: error: --recompute-modules: unknown module 'bogus'; allowed none or" -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 64 --recompute-modules bogus
expect_fail rcm_unknown_finetune 2 "--recompute-modules: unknown module 'x'" -- finetune $P --recompute-modules x
# Rule: modules are selective recompute's, the block method's layers full recompute's; each implies its mode
expect_fail rcm_with_full 2 '^scaleplan train: error: --recompute-modules applies to selective recompute, not full$' -- train $P --recompute-modules mlp --recompute full
expect_fail rcl_with_none 2 '^scaleplan train: error: --recompute-layers applies to full recompute, not none$' -- train $P --recompute-layers 4 --recompute none
expect_fail rcl_and_rcm 2 'exclude each other' -- train $P --recompute-layers 4 --recompute-modules mlp
expect_fail rcl_search 2 "unknown option '--recompute-layers'" -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 64 --recompute-layers 4
expect_json rcm_json 'plan.recompute=~selective' 'plan.recompute_modules=~mlp' -- train $P --recompute-modules mlp --json
expect_json rcl_json 'plan.recompute=~full' 'plan.recompute_layers=4' -- train $P --pp 2 --recompute-layers 4 --json

# Rule: {core_attn} is the selective mode (Megatron-Core's default recompute_modules): the same step time
# shellcheck disable=SC2086
a=$($RUN train $P --attention standard --recompute selective --json | grep -o '"step_time_s":[0-9.eE+-]*' | cut -d: -f2)
# shellcheck disable=SC2086
expect_json rcm_core_attn_is_selective "step_time_s=$a@1e-15" -- train $P --attention standard --recompute-modules core_attn --json
# Rule: the block method with as many layers as a stage holds is uniform full recompute
# shellcheck disable=SC2086
f=$($RUN train $P --pp 2 --recompute full --json | grep -o '"step_time_s":[0-9.eE+-]*' | cut -d: -f2)
# shellcheck disable=SC2086
expect_json rcl_all_layers_is_full "step_time_s=$f@1e-15" -- train $P --pp 2 --recompute-layers 16 --json

# Rule: validate's recompute_modules / recompute_layers columns: unknown names and a mode they do not apply to are
# the row's refusal (named with file, line and column)
H='id,model,n_layers,d_model,n_heads,n_kv_heads,ffn_dim,ffn_type,seq_len,vocab,moe_experts,moe_topk,system,n_gpus,tp,pp,dp,ep,cp,vpp,zero_stage,global_batch,micro_batch,recompute,seq_parallel,precision,measured_step_time_s,measured_mfu,measured_tflops_per_gpu,tflops_counts_recompute,source,software,model_config,recompute_modules,recompute_layers'
printf '%s\nR-1,x,24,2304,24,,9216,,2048,51200,,,dgx-a100-80g,32,1,1,32,,,1,0,512,16,selective,0,fp16,1.0,,,1,src,megatron-lm-2021,,"mlp,bogus",\n' "$H" >"$TMP/bad_mod.csv"
expect_fail validate_rcm_unknown 2 "bad_mod.csv:2: column 'recompute_modules': unknown module 'bogus'; allowed none or" -- validate "$TMP/bad_mod.csv"
printf '%s\nR-1,x,24,2304,24,,9216,,2048,51200,,,dgx-a100-80g,32,1,1,32,,,1,0,512,16,none,0,fp16,1.0,,,1,src,megatron-lm-2021,,mlp,\n' "$H" >"$TMP/mod_none.csv"
expect_fail validate_rcm_on_none 2 "column 'recompute_modules' applies to recompute selective, not none" -- validate "$TMP/mod_none.csv"
printf '%s\nR-1,x,24,2304,24,,9216,,2048,51200,,,dgx-a100-80g,32,1,2,16,,,1,0,512,16,selective,0,fp16,1.0,,,1,src,megatron-lm-2021,,,3\n' "$H" >"$TMP/layers_sel.csv"
expect_fail validate_rcl_on_selective 2 "column 'recompute_layers' applies to recompute full, not selective" -- validate "$TMP/layers_sel.csv"
# Rule: a row with modules is evaluated with them: its selective plan re-runs the MLP too, so it predicts a longer
# step than the same row with the default {core_attn} (standard attention: the core is re-run in both)
printf '%s\nR-1,x,24,2304,24,,9216,,2048,51200,,,dgx-a100-80g,32,1,1,32,,,1,0,512,16,selective,0,fp16,1.0,,,1,src,megatron-lm-2021,,"core_attn,mlp",\nR-2,x,24,2304,24,,9216,,2048,51200,,,dgx-a100-80g,32,1,1,32,,,1,0,512,16,selective,0,fp16,1.0,,,1,src,megatron-lm-2021,,,\n' "$H" >"$TMP/mods.csv"
$RUN validate "$TMP/mods.csv" >"$TMP/v" 2>&1
t1=$(awk '$1 == "R-1" {print $2}' "$TMP/v"); t2=$(awk '$1 == "R-2" {print $2}' "$TMP/v")
if [ -n "$t1" ] && [ -n "$t2" ] && awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(a > b) }'; then
    echo "ok validate_rcm_row_priced"
else
    echo "not ok validate_rcm_row_priced: R-1 '$t1' R-2 '$t2': $(head -c 300 "$TMP/v")"
fi
