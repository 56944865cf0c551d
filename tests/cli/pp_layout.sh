#!/bin/sh
# Pipeline layout and MTP modules of a validation row (docs/model.md "Pipeline layout"): the pp_layout column
# (Megatron-Core pipeline_model_parallel_layout) and the mtp_layers column (mtp_num_layers).
. tests/cli/_lib.sh
H='id,model,n_layers,d_model,n_heads,n_kv_heads,ffn_dim,ffn_type,seq_len,vocab,moe_experts,moe_topk,system,n_gpus,tp,pp,dp,ep,cp,vpp,zero_stage,global_batch,micro_batch,recompute,seq_parallel,precision,measured_step_time_s,measured_mfu,measured_tflops_per_gpu,tflops_counts_recompute,source,software,model_config,pp_layout,mtp_layers'
R=',x,,,,,,,4096,,,,gb200-nvl72,256,1,4,64,64,1,4,,4096,1,selective,0,mxfp8,13.0,,,0,src,megatron-core,deepseek-v3'
printf '%s\nL-1%s,Et*4|(t*4|)*14tmL,1\nE-1%s,,1\nN-1%s,,\n' "$H" "$R" "$R" "$R" >"$TMP/rows.csv"
# Rule: a layout that moves the LM head and the MTP module onto the rank with the fewest layers (DeepSeek-V3's recipe
# layout: rank 3 holds 13 layers + MTP + loss, ranks 1-2 16 layers) is faster than the even split, which puts them on
# a 16-layer rank; the MTP module (mtp_layers 1) costs time on the even split
$RUN validate "$TMP/rows.csv" >"$TMP/v" 2>&1
l=$(awk '$1 == "L-1" {print $2}' "$TMP/v"); e=$(awk '$1 == "E-1" {print $2}' "$TMP/v"); n=$(awk '$1 == "N-1" {print $2}' "$TMP/v")
if [ -n "$l" ] && [ -n "$e" ] && [ -n "$n" ] && awk -v l="$l" -v e="$e" -v n="$n" 'BEGIN { exit !(l < n && n < e) }'; then
    echo "ok pp_layout_rank_slots"
else
    echo "not ok pp_layout_rank_slots: L-1 '$l' E-1 '$e' N-1 '$n': $(head -c 300 "$TMP/v")"
fi
# Rule: a layout Megatron-Core would refuse is the row's reason, naming the layout: an MTP module the row does not
# train, a character outside the syntax
printf '%s\nN-1%s,,\nM-1%s,Et*4|(t*4|)*14tmL,\nX-1%s,Et*4|(t*4|)*14tmX,1\nS-1%s,Et*4|(t*4|)*13tmL,1\n' "$H" "$R" "$R" "$R" "$R" \
    >"$TMP/bad.csv"
expect_out pp_layout_mtp_missing "M-1 +not evaluated: .*bad.csv:3: plan: pp_layout 'Et\*4\|\(t\*4\|\)\*14tmL' must hold .* and 0 MTP modules \(the layout has 1\)" -- validate "$TMP/bad.csv"
expect_out pp_layout_syntax "X-1 +not evaluated: .*bad.csv:4: plan: pp_layout 'Et\*4\|\(t\*4\|\)\*14tmX' is not a Megatron-Core layout" -- validate "$TMP/bad.csv"
expect_out pp_layout_stages "S-1 +not evaluated: .*bad.csv:5: plan: pp_layout 'Et\*4\|\(t\*4\|\)\*13tmL' has 15 virtual stages, pp\*vpp = 4\*4" -- validate "$TMP/bad.csv"
# Rule: mtp_layers is an integer 0..64, refused in one line naming file, line and column otherwise (exit 2)
printf '%s\nB-1%s,,x\n' "$H" "$R" >"$TMP/m.csv"
expect_fail mtp_layers_bad 2 "m.csv:2: column 'mtp_layers'" -- validate "$TMP/m.csv"
# Rule: the generators state the recipes' layouts: Qwen3-235B-A22B and Llama-3.1-405B rows with PP > 1 their split
# accounting's (embedding first, loss last), DeepSeek-V3 rows of 26.02 .. 26.08 the recipe layout with one MTP module
f=data/validation/training_runs_megatron_core.csv
q=$(python3 -c 'import csv, sys
ok = True
for r in csv.DictReader(open(sys.argv[1])):
    pp, lay = int(r["pp"] or 1), r["pp_layout"]
    if r["model"] in ("Qwen3-235B-A22B", "Llama-3.1-405B") and pp > 1:
        ok &= lay.startswith("E") and lay.endswith("L") and "m" not in lay and r["mtp_layers"] == ""
    elif r["model"].startswith("DeepSeek-V3") and lay:
        ok &= lay == "Et*4|(t*4|)*14tmL" and r["mtp_layers"] == "1"
    elif r["model"].startswith("Nemotron-3-Super"):  # PP 1; its recipe runs 2 MTP depths (docs/model.md "MTP depths")
        ok &= lay == "" and r["mtp_layers"] == "2"
    else:
        ok &= lay == "" and r["mtp_layers"] == ""
print("yes" if ok else "no")' "$f")
if [ "$q" = yes ]; then echo "ok pp_layout_rows"; else echo "not ok pp_layout_rows"; fi
