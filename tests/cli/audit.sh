#!/bin/sh
# Regression cases of issue 24 ("every input is either right or refused"): each fails on the code before its fix.
. tests/cli/_lib.sh

# 1. a query option that would be ignored is refused; no query at all is an error, not "no query given", exit 0
expect_fail law_target_alone 2 '^scaleplan law: error: --target-loss: needs --d, --tokens-per-param or --served-tokens' -- law --target-loss 2.0
expect_fail law_target_alone_json 2 '--target-loss: needs' -- law --target-loss 2.0 --json
expect_fail law_no_query 2 'no query given; expected --compute' -- law
expect_fail law_served_alone 2 '--served-tokens: allowed only with --target-loss' -- law --compute 1e24 --served-tokens 1e12
expect_fail law_mfu_alone 2 '--mfu: allowed only with --compute' -- law --n 1e9 --d 2e10 --mfu 0.5
expect_fail law_n_alone 2 '--n: needs --d' -- law --n 1e9

# 2. zero evaluable rows is a failure with the reason, never "MAPE nan %"
H='id,model,n_layers,d_model,n_heads,n_kv_heads,ffn_dim,ffn_type,seq_len,vocab,moe_experts,moe_topk,system,n_gpus,tp,pp,dp,ep,cp,vpp,zero_stage,global_batch,micro_batch,recompute,seq_parallel,precision,measured_step_time_s,measured_mfu,measured_tflops_per_gpu,tflops_counts_recompute,source,software,model_config'
printf '%s\nX-1,x,NaN,2304,24,,9216,,2048,51200,,,dgx-a100-80g,32,1,1,32,,,1,0,512,16,full,0,fp16,1.0,,,1,src,megatron-lm-2021,\n' "$H" >"$TMP/nan_layers.csv"
expect_fail validate_zero_rows 2 "no row could be evaluated (first reason: .*'NaN' is not an integer)" -- validate "$TMP/nan_layers.csv"
expect_fail validate_zero_rows_json 2 'no row could be evaluated' -- validate "$TMP/nan_layers.csv" --json
printf '%s\nX-2,x,24,2304,24,,9216,,2048,51200,,,dgx-a100-80g,32,3,1,7,,,1,0,512,16,full,0,fp16,1.0,,,1,src,megatron-lm-2021,\n' "$H" >"$TMP/nofactor.csv"
expect_fail validate_zero_rows_plan 2 'no row could be evaluated (first reason: .*is not divisible' -- validate "$TMP/nofactor.csv"
printf 'id,model,params_B,hardware,n_chips,chip_tdp_W,avg_system_power_per_chip_W,train_days,accelerator_hours,total_flops,energy_MWh,pue,grid_kgCO2e_per_kWh,tCO2e,tCO2e_net_or_market,cost_usd,source,confidence,notes\nE-1,x,1,Unknown chip,8,300,,1,,,1,1.1,0.4,1,,,src,high,\n' >"$TMP/energy0.csv"
expect_fail validate_energy_zero_rows 2 "none of the 1 rows could be evaluated (first: E-1: no accelerator preset" -- validate-energy "$TMP/energy0.csv"

# 3. --output 0 has no cost per output token: n/a (the serve engineer's fix, issue 19), never "$nan per million"
expect_out infer_output_zero 'n/a per output token \(no output tokens\)' -- infer --model llama3-8b --output 0
# nor a per-user rate or a time per output token when no token is output (it printed the decode speed, 156.3/s)
expect_out infer_output_zero_user 'throughput       no output tokens: prefill only' -- infer --model llama3-8b --output 0
expect_out infer_output_zero_tpot 'time per output token n/a \(no output tokens\)' -- infer --model llama3-8b --output 0
expect_out infer_output_zero_json '"tokens_per_s_per_user":0[,}]' -- infer --model llama3-8b --output 0 --json

# 10. --plot into a missing folder is refused before any work, naming the folder; a sweep prints nothing on failure
expect_fail plot_missing_dir 2 "--plot /nonexistent/x.svg: folder '/nonexistent' does not exist" -- law --compute 1e24 --plot /nonexistent/x.svg
expect_fail plot_sweep_missing_dir 2 "folder '/nonexistent' does not exist" -- infer --model llama3-8b --sweep batch=1..8 --plot /nonexistent/x.svg
expect_fail plot_limits_missing_dir 2 "folder '/nonexistent' does not exist" -- limits --mode epoch2024 --plot /nonexistent/x.svg
mkdir -p "$TMP/d.svg"
expect_fail plot_is_dir 2 "is a directory; expected FILE.svg" -- law --compute 1e24 --plot "$TMP/d.svg"

# options that mean nothing without another one are refused, not ignored (infer --host-bw without --coe was)
expect_fail infer_hostbw_alone 2 '^scaleplan infer: error: --host-bw does not apply' -- infer --model llama3-8b --host-bw 1GB/s
expect_fail infer_latency_alone 2 '^scaleplan infer: error: --latency-ms does not apply without --fit-hardware' -- infer --model llama3-8b --latency-ms 20
expect_fail infer_candidates_empty 2 '--candidates: empty list' -- infer --model llama3-8b --fit-hardware --latency-ms 50 --candidates ,
expect_fail search_rank_alone 2 '--rank does not apply without --finetune' -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 8 --rank 8
expect_fail data_dir_missing 2 "^scaleplan train: error: --data-dir: '/nonexistent' is not a directory" -- train --data-dir /nonexistent

# every refusal of a preset or file names the option it came from
expect_fail name_model 2 "^scaleplan train: error: --model: unknown model preset 'x'" -- train --model x
expect_fail name_teacher 2 "^scaleplan distill: error: --teacher: unknown model preset" -- distill --teacher x --student llama3-8b --tokens 1e9
expect_fail name_student 2 "^scaleplan distill: error: --student: tests/bad/truncated.json:4:0: '}' expected" -- distill --teacher llama3-8b --student tests/bad/truncated.json --tokens 1e9
expect_fail name_distill_system 2 "^scaleplan distill: error: --system: unknown system preset 'x'" -- distill --teacher llama3-8b --student llama3-8b --tokens 1e9 --system x
expect_fail name_shape_law 2 "^scaleplan shape: error: --law: unknown law 'x'" -- shape --law x --params 7e9
# an error of another option is not attributed to --workload (serve named every error of its inputs after it)
expect_fail name_serve_model 2 "^scaleplan serve: error: --model: unknown model preset 'x'" -- serve --model x
expect_fail name_serve_tp 2 "^scaleplan serve: error: --tp: 0 is out of range" -- serve --model llama3-8b --tp 0
expect_fail name_serve_workload 2 "^scaleplan serve: error: --workload: unknown workloads preset 'x'" -- serve --model llama3-8b --workload x
expect_fail name_compare 2 "^scaleplan limits: error: --compare: 'abc'; allowed h100" -- limits --mode epoch2024 --compare h100,abc
expect_fail name_coe 2 "^scaleplan infer: error: --coe: '/nonexistent.json': cannot open the file; expected a JSON file of experts" -- infer --coe /nonexistent.json
expect_fail name_fit_column 2 "^scaleplan fit: error: --n: .*no column 'N'; expected one of the CSV's columns" -- fit "$TMP/energy0.csv"

# many presets: the list no longer sits in a 1024-byte buffer (names past it were neither listed nor suggested);
# a list too long for one error line gives its count and where to see the names, never a name cut in half
mkdir -p "$TMP/many/models"
for i in $(seq 10 89); do cp data/models/llama3-8b.json "$TMP/many/models/a-long-model-preset-name-$i.json"; done
cp data/models/llama3-8b.json "$TMP/many/models/zz-last-preset.json"
expect_fail many_presets 2 "^scaleplan train: error: --model: unknown model preset 'zz-lats-preset' (did you mean 'zz-last-preset'?); available: 81 names ('scaleplan presets' lists them) (or give a path to a .json file)$" -- train --data-dir "$TMP/many" --model zz-lats-preset
$RUN presets --data-dir "$TMP/many" --json >"$TMP/many.json" 2>&1
if grep -q '"zz-last-preset"' "$TMP/many.json"; then echo "ok many_presets_listed"; else echo "not ok many_presets_listed: presets lost names past its buffer"; fi

# "did you mean": options (cli/cli.c), commands (cli/main.c), presets and laws (library)
expect_fail dym_option 2 "unknown option '--modle'; did you mean '--model'?" -- train --modle llama3-8b
expect_fail dym_option_swap 2 "did you mean '--global-batch'?" -- search --golbal-batch 8
# spelled-out and Megatron-LM option names suggest the short option when the command has it (src/suggest.c aliases)
expect_fail dym_option_alias 2 "unknown option '--seq-parallel'; did you mean '--sp'?" -- train --seq-parallel
expect_fail dym_option_megatron 2 "unknown option '--tensor-model-parallel-size'; did you mean '--tp'?" -- train --tensor-model-parallel-size 8
expect_fail dym_command 2 "unknown command 'trian'; did you mean 'train'?" -- trian
expect_fail dym_model 2 "unknown model preset 'lama3-8b' (did you mean 'llama3-8b'?)" -- train --model lama3-8b
expect_fail dym_model_case 2 "(did you mean 'llama3-8b'?)" -- infer --model Llama3-8B
expect_fail dym_system 2 "unknown system preset 'dgx-h10' (did you mean 'dgx-h100'?)" -- train --system dgx-h10
expect_fail dym_law 2 "unknown law 'chinchila' (did you mean 'chinchilla'?)" -- law --law chinchila --compute 1e24
expect_fail dym_region 2 "(did you mean 'gcp-us-central1'?)" -- train --region gcp-us-centrl1
expect_fail dym_none 2 "unknown model preset 'zzzzzz'; available" -- train --model zzzzzz

# 4. distill checks memory (the training memory model): the teacher's forward (70.55e9 x 2 B = 131.4 GiB of bf16
# weights, + working layer, logits, overhead) cannot be held by one H100 (79.65 GiB), nor the student's training
# state on one GPU (8.03e9 x 18 B = 134.6 GiB, Megatron's bytes); refused, not costed
expect_fail distill_teacher_mem 2 '^scaleplan distill: error: --teacher Llama-3-70B needs 134.4 GiB per GPU for its forward (weights 131.4 GiB) of 79.65 GiB on TP 1 x PP 1' -- distill --teacher llama3-70b --student llama3-8b --tokens 1e9
expect_fail distill_student_mem 2 '^scaleplan distill: error: --student Llama-3-8B needs 145.4 GiB per GPU to train (model states 134.6 GiB, activations 10.0 GiB) of 79.65 GiB' -- distill --teacher llama3-70b --student llama3-8b --gpus 1 --tokens 1e9
# distill and finetune give energy, CO2e and cost (the library's energy model, as train): the cloud cost is
# exactly GPU-hours x the system's $2.50/GPU-hour (dgx-h100 preset)
cloud_is_hours_x_price() {
    name=$1; shift
    $RUN "$@" --json >"$TMP/out" 2>"$TMP/err" || { echo "not ok $name: exit $?: $(head -c 200 "$TMP/err")"; return; }
    awk -v name="$name" '{
        h = 0; if (match($0, /"gpu_hours":[0-9.e+]+/)) h = substr($0, RSTART + 12, RLENGTH - 12)
        if (match($0, /"teacher_gpu_hours":[0-9.e+]+/)) h = substr($0, RSTART + 20, RLENGTH - 20)
        if (match($0, /"student_gpu_hours":[0-9.e+]+/)) h += substr($0, RSTART + 20, RLENGTH - 20)
        c = -1; if (match($0, /"cloud":[0-9.e+]+/)) c = substr($0, RSTART + 8, RLENGTH - 8)
        e = match($0, /"energy_kwh":[0-9.e+]+/) && match($0, /"co2e_kg":[0-9.e+]+/)
        d = c - 2.5 * h; if (d < 0) d = -d
        if (h > 0 && e && d <= 1e-6 * c) print "ok " name; else print "not ok " name ": cloud " c " != 2.5 x " h " GPU-hours or no energy/CO2e" }' "$TMP/out"
}
cloud_is_hours_x_price finetune_energy_cost finetune --model llama3-8b --tokens 1e9
expect_fail distill_online_mem 2 "^scaleplan distill: error: --online: the teacher's forward (67.9 GiB per GPU) and the student's training (40.7 GiB) do not fit together in 79.65 GiB" -- distill --teacher llama3-70b --student llama3-8b --tokens 1e9 --tp 2 --online
cloud_is_hours_x_price distill_energy_cost distill --teacher llama3-70b --student llama3-8b --tokens 1e9 --tp 4
expect_out finetune_energy_text '^  energy     [0-9.]+ kWh \(facility, PUE 1\.10\), CO2e' -- finetune --model llama3-8b --tokens 1e9
expect_out distill_energy_text '^  cost       \$[0-9.]+ cloud at \$2\.50/GPU-hour' -- distill --teacher llama3-70b --student llama3-8b --tokens 1e9 --tp 4

# 11. report famous: BLOOM on its own preset (176,247,271,424 parameters in the BLOOM paper / HF model card; the
# preset counts 176,247,242,752: LayerNorm details, 1.6e-7 off), and every row's plan fits
expect_out bloom_preset '"params_total":1762472[0-9]{5}' -- model bloom-176b --json
expect_out famous_bloom '^\| BLOOM 176B \(384 A100-80GB\) \| BLOOM 176B \| 384 \| TP4 PP12 DP8 ZeRO-1' -- report famous
# Meta's plan (Llama 3 report Table 4, §3.3): TP8 PP16 DP128, 126 layers interleaved on VP 8, ZeRO-2; full recompute,
# the one policy with which it fits the memory model (docs/famous.md); 36.0 % MFU against the reported 38-43 %
expect_out famous_llama405 '^\| Llama 3.1 405B .* \| 16384 \| TP8 PP16 VP8 DP128 ZeRO-2, recompute full \| [^|]* \| [^|]* \| 3[6-9]\.[0-9] % ' -- report famous
$RUN report famous --json >"$TMP/famous.json" 2>&1
if grep -q '"fits":false' "$TMP/famous.json" || ! grep -q '"fits":true' "$TMP/famous.json"; then echo "not ok famous_all_fit: a row's plan does not fit"; else echo "ok famous_all_fit"; fi

# 12. presentation that misled
expect_out law_count_sci 'N\* = 1\.047e\+18 parameters' -- law --compute 1e40
expect_out train_pp1_no_imbalance '^    embedding \+ LM head ' -- train --model llama3-8b --system dgx-h100 --gpus 8
$RUN train --model llama3-8b --system dgx-h100 --gpus 8 >"$TMP/t.txt" 2>&1
if grep -q 'first/last stage imbalance' "$TMP/t.txt"; then echo "not ok train_pp1_label: stage imbalance shown at PP 1"; else echo "ok train_pp1_label"; fi
expect_out infer_usable_limit 'of 79\.65 GiB \(90 % usable: 71\.68 GiB\).*DOES NOT FIT' -- infer --model llama3-70b
# 131,072-token context: attention is 81 % of the model FLOPs (12·L·s·d per token against 6N), so MFU 85.7 %
expect_out train_mfu_convention 'MFU counts 81 % of its FLOPs in attention, full s x s without causal halving' -- train --model llama3-8b --system dgx-h100 --gpus 8 --seq-len 131072 --cp 8
expect_out search_no_twins 'none\|sel: recompute none and selective give the same plan' -- search --model llama3-8b --system dgx-h100 --gpus 64 --global-batch 256 --seq-len 4096
$RUN search --model llama3-8b --system dgx-h100 --gpus 64 --global-batch 256 --seq-len 4096 --top 10 >"$TMP/s.txt" 2>&1
# rows (TP..ZeRO, recompute none/selective taken as one) must be distinct; full recompute is a different plan
dups=$(awk '$1 ~ /^[0-9]+$/ && NF > 13 { r = $10; if (r == "none" || r == "selective" || r == "none|sel") r = "ns";
    print $2, $3, $4, $5, $6, $7, $8, $9, r, $11, $12 }' "$TMP/s.txt" | sort | uniq -d | wc -l)
if [ "$dups" -eq 0 ]; then echo "ok search_rows_distinct"; else echo "not ok search_rows_distinct: $dups rows differ only by recompute none/selective"; fi
expect_out limits_physical_scale 'physical scale: points past 1e6 GPUs \(here up to [0-9.e+]+\) are extrapolations' -- limits --mode epoch2024

# 13. shape: the loss law has no shape term, so the front was led by the shallowest multi-query shape (12 layers of
# 6144, aspect ratio 512); now only aspect ratios 32..256 (where Kaplan et al. 2020 §3.1 found loss flat in shape)
# are ranked, and the loss of shared KV heads carries its published penalty (docs/inference.md)
$RUN shape --system dgx-h100 --params 7e9 --json >"$TMP/shape.json" 2>&1
awk 'BEGIN { RS = "[{}]" } /"n_layers":/ { match($0, /"n_layers":[0-9]+/); l = substr($0, RSTART + 11, RLENGTH - 11)
    match($0, /"d_model":[0-9]+/); d = substr($0, RSTART + 10, RLENGTH - 10); n++; if (d / l > 256 || d / l < 32) bad++ }
    END { if (n > 0 && bad == 0) print "ok shape_aspect_range"; else print "not ok shape_aspect_range: " bad " of " n " front shapes outside 32..256" }' "$TMP/shape.json"
expect_out shape_kv_penalty '"n_kv_heads":1,.*"loss_law":[0-9.]+,"kv_penalty":0\.0029[,}]' -- shape --system dgx-h100 --params 7e9 --json
expect_out shape_says_range 'd_model/layers kept in 32\.\.256' -- shape --system dgx-h100 --params 7e9

# 5. classes found in the features of the last session
# serve: 50 requests at 1e6/s arrive within 50 us; the arrival window held no completion, so the run read 0 tokens/s,
# a mean queue of 9496 against a maximum of 49 and a mean KV occupancy of 133269 %: a window holding fewer than half
# the completions is replaced by the whole run, and time averages are taken over the run they were integrated on
$RUN serve --model llama3-8b --rate 1e6 --requests 50 --json >"$TMP/serve.json" 2>&1
awk '{ t = q = qm = k = km = -1
    if (match($0, /"throughput_tokens_per_s":[0-9.e+-]+/)) t = substr($0, RSTART + 26, RLENGTH - 26)
    if (match($0, /"queue_mean":[0-9.e+-]+/)) q = substr($0, RSTART + 13, RLENGTH - 13)
    if (match($0, /"queue_max":[0-9.e+-]+/)) qm = substr($0, RSTART + 12, RLENGTH - 12)
    if (match($0, /"kv_occupancy_mean":[0-9.e+-]+/)) k = substr($0, RSTART + 20, RLENGTH - 20)
    if (match($0, /"kv_occupancy_max":[0-9.e+-]+/)) km = substr($0, RSTART + 19, RLENGTH - 19)
    if (t > 0 && q >= 0 && q <= qm + 0 && k >= 0 && k <= km + 0 && km <= 1) print "ok serve_overload_stats"
    else print "not ok serve_overload_stats: throughput " t ", queue mean " q " max " qm ", KV mean " k " max " km }' "$TMP/serve.json"
# train: an FP8 scaling recipe was accepted, and ignored, with 16-bit GEMMs
expect_fail fp8_recipe_needs_fp8 2 '^scaleplan train: error: --fp8-recipe applies only with --dtype fp8 (the GEMMs here are bf16)' -- train --model llama3-8b --fp8-recipe delayed
expect_out fp8_recipe_with_fp8 'MFU' -- train --model llama3-8b --system dgx-h100 --gpus 8 --dtype fp8 --fp8-recipe delayed
# the MoE host knobs (issue 18): an unknown value is refused in one line naming the allowed ones, on every planning command
expect_fail cuda_graphs_unknown 2 '^scaleplan train: error: --cuda-graphs: .bogus.; allowed none, full_iteration, or a comma list of attn, mlp, moe, moe_router, moe_preprocess, mamba, layer$' -- train --model llama3-8b --cuda-graphs bogus
expect_fail cuda_graphs_full_iteration_alone 2 '^scaleplan search: error: --cuda-graphs: .attn,full_iteration.; allowed .* .full_iteration alone.$' -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 64 --cuda-graphs attn,full_iteration
expect_fail moe_dispatcher_unknown 2 '^scaleplan finetune: error: --moe-dispatcher: .deep.; allowed alltoall, allgather, deepep, hybridep$' -- finetune --model llama3-8b --moe-dispatcher deep
expect_out moe_knobs_accepted 'MFU' -- train --model llama3-8b --system dgx-h100 --gpus 8 --cuda-graphs attn,moe_router,moe_preprocess --moe-dispatcher hybridep
# serve without SLOs said "100.0 % of requests meet no SLO", and --max-rate printed an SLO not given as "SLO 0 s"
expect_out serve_no_slo 'goodput +[0-9.]+ output tokens/s  \(no SLO given: every request counts\)' -- serve --model llama3-8b --requests 50
expect_fail serve_maxrate_no_slo 2 'P99 TPOT [0-9.e-]* s (no SLO)' -- serve --model llama3-8b --max-rate --ttft-p99 1us --requests 50
