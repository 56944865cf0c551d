#!/bin/sh
# scaleplan infer from the command line.
. tests/cli/_lib.sh
expect_out infer_text 'time per output token' -- infer --model llama3-70b --system dgx-h100 --tp 4 --batch 16
expect_out infer_json '"ttft_s":.*"tpot_s":.*"tokens_per_s_per_gpu":.*"memory_per_gpu_bytes":\{"total":.*"max_batch":' -- infer --model llama2-70b --tp 4 --json
expect_out infer_moe 'experts read' -- infer --model mixtral-8x7b --tp 2 --batch 32
expect_out infer_sweep '^batch,ttft_s' -- infer --model llama3-8b --sweep batch=1..256 --csv
expect_out infer_plot 'batch' -- infer --model llama3-8b --sweep batch=1..64 --plot "$TMP/i.svg"
expect_out infer_fit 'cheapest hardware meeting' -- infer --fit-hardware --model llama3-70b --latency-ms 30
expect_out validate_infer 'decode-dominated rows' -- validate --infer data/validation/inference_measured.csv
expect_out validate_infer_json '^\{"rows":\[\{"id":"kipply-ft-1","predicted":.*"unit":"ms","error_pct":.*"n":.*"mape_pct":' -- validate --infer data/validation/inference_measured.csv --json
expect_fail infer_nofit 2 'does not fit on 1 x' -- infer --model llama3.1-405b --max-batch
expect_fail infer_impossible 2 'no candidate meets 0.01 ms per token; the fastest is' -- infer --fit-hardware --model llama3-70b --latency-ms 0.01
expect_fail infer_precision 2 "--kv 'int4'" -- infer --model llama3-8b --kv int4
expect_fail infer_weights 2 'unknown precision' -- infer --model llama3-8b --weights fp3
expect_fail infer_tp 2 'must be a multiple of tp' -- infer --model llama3-8b --gpus 3 --tp 2
expect_out infer_inflight 'time per output token' -- infer --model llama3-8b --batch 32 --inflight
expect_out infer_breakdown 'decode step' -- infer --model llama2-70b --tp 2 --gpus 2 --batch 8 --weights fp8
printf '{"experts":[{"name":"coder","model":"llama2-7b","share":3},{"name":"chat","model":"llama2-7b","share":1,"count":40}]}' > "$TMP/coe.json"
expect_out infer_coe 'HBM-only dgx-h100' -- infer --coe "$TMP/coe.json" --batch 4 --prompt 512 --output 64
expect_out infer_coe_json '"hbm_only":\{"system":"dgx-h100","gpus":' -- infer --coe "$TMP/coe.json" --json
printf '{"experts":[{"model":"llama3.1-405b","count":3}]}' > "$TMP/big.json"
expect_fail infer_coe_nofit 2 'does not fit in the HBM left' -- infer --coe "$TMP/big.json"
# 100,000 experts (the largest count allowed) are planned in O(n log n): the resident-set search was once
# quadratic, with the parameter count recomputed in its inner loop (found by fuzz_infer: 9,345 copies took 12 s)
printf '{"experts":[{"name":"many","model":"llama2-7b","count":100000}]}' > "$TMP/many.json"
expect_fail infer_coe_many 2 'do not fit in HBM and the largest capacity tier' -- infer --coe "$TMP/many.json"
printf '{"experts":[{"name":"a","model":"llama3-70b","share":5},{"name":"b","model":"llama2-7b","share":1,"count":100}]}' > "$TMP/mix.json"
expect_out infer_coe_mix 'sn40l \(sambanova-sn40l\) +22/101' -- infer --coe "$TMP/mix.json" --system sambanova-sn40l
printf '{"experts":[{"name":"x"}]}' > "$TMP/bad.json"
expect_fail infer_coe_bad 2 "needs field 'model'" -- infer --coe "$TMP/bad.json"
expect_out shape_params 'Pareto front of' -- shape --system dgx-h100 --params 7e9 --batch 8
expect_out shape_json '"front":\[\{"name":"L' -- shape --system hgx-h200 --params 13e9 --json --moe
expect_out shape_loss 'Pareto front' -- shape --loss 2.2 --latency-ms 50
expect_fail shape_latency 2 'meets the latency target' -- shape --params 7e9 --latency-ms 0.001
expect_fail shape_both 2 'exactly one of --params' -- shape --params 7e9 --loss 2
expect_out infer_pp '"gpus":8' -- infer --model llama3-70b --tp 4 --pp 2 --batch 32 --json
printf '0.5 0.2 0.1 0.1 0.05 0.03 0.01 0.01\n' > "$TMP/route.txt"
expect_out infer_routing '3.8 of 8 experts' -- infer --model mixtral-8x7b --tp 2 --batch 4 --routing "$TMP/route.txt"
printf '0.5 0.5\n' > "$TMP/route2.txt"
expect_fail infer_routing_count 2 '2 values for 8 experts' -- infer --model mixtral-8x7b --routing "$TMP/route2.txt"
expect_fail infer_routing_dense 2 '--routing needs a MoE model' -- infer --model llama3-8b --routing "$TMP/route.txt"
# LatentMoE at inference (docs/inference.md): Nemotron-3 Super FP8 at TP 8 holds 120,668,687,360 / 8 parameters
# (`scaleplan model`'s total, shared experts h-wide) + 7/8 of the 40 MoE layers' TP-replicated latent projections
# (40 x 2 x 4096 x 1024) = 15,377,187,200 bytes of weights per GPU
expect_json infer_latent_moe_weights 'memory_per_gpu_bytes.weights=15377187200@1e-12' 'mtp?' -- infer --model nemotron-3-super-120b-a12b --system dgx-b200 --gpus 8 --tp 8 --weights fp8 --json
expect_out infer_latent_moe_runs 'time per output token' -- infer --model nemotron-3-super-120b-a12b --system dgx-b200 --gpus 8 --tp 8
expect_out infer_mtp_line 'MTP +1 MTP module \(2\.942 G parameters\) not loaded: speculative decoding is not modelled' -- infer --model nemotron-3-super-120b-a12b --system dgx-b200 --gpus 8 --tp 8
expect_out serve_latent_moe_runs '^MTP: 1 MTP module .*not loaded' -- serve --model nemotron-3-super-120b-a12b --system dgx-b200 --gpus 8 --tp 8 --workload sharegpt --rate 2 --requests 200
# serve --json carries what its text says beside the numbers: the layout chosen over --gpus and the unloaded MTP modules
expect_json serve_json_layout_mtp 'layout_chosen?' 'mtp?' -- serve --model nemotron-3-super-120b-a12b --system dgx-b200 --gpus 8 --workload sharegpt --rate 2 --requests 200 --json
# speculative decoding is not modelled: asked for, it is refused by name
expect_fail infer_speculative_refused 2 '--speculative: speculative decoding (MTP or a draft model, its acceptance rate) is not modelled by infer' -- infer --model nemotron-3-super-120b-a12b --system dgx-b200 --tp 8 --speculative mtp
expect_fail serve_speculative_refused 2 '--speculative: speculative decoding (MTP or a draft model, its acceptance rate) is not modelled by serve' -- serve --model nemotron-3-super-120b-a12b --system dgx-b200 --tp 8 --workload sharegpt --rate 2 --speculative mtp
# default layout over --gpus (docs/inference.md): DeepSeek-V3 FP8 on 8 B200 fits at TP 8 (it did not at TP 1:
# 627 GiB per GPU); explicit options are honoured exactly
expect_out infer_default_layout '^  layout chosen    TP 8, EP 1, PP 1, 1 replica over the 8 GPUs given \(no --tp/--ep/--pp\): the shortest end to end at batch 1 of 4 layouts that fit' -- infer --model deepseek-v3 --system dgx-b200 --gpus 8 --weights fp8
expect_json infer_default_layout_json 'tp=8' 'ep=1' 'pp=1' 'fits=true' 'layout_chosen?' -- infer --model deepseek-v3 --system dgx-b200 --gpus 8 --weights fp8 --json
expect_json infer_default_layout_max 'tp=1' 'ep=8' 'fits=true' -- infer --model deepseek-v3 --system dgx-b200 --gpus 8 --weights fp8 --batch max --json
expect_json infer_explicit_layout_kept 'tp=1' 'ep=1' 'fits=false' -- infer --model deepseek-v3 --system dgx-b200 --gpus 8 --tp 1 --weights fp8 --json
expect_out serve_default_layout '^layout chosen     TP 1, EP 8, PP 1, 1 replica over the 8 GPUs given' -- serve --model nemotron-3-super-120b-a12b --system dgx-b200 --gpus 8 --workload sharegpt --rate 2 --requests 200
expect_out serve_explicit_layout_kept 'tp 2 pp 1 ep 1, .*; 4 replicas' -- serve --model llama3-70b --system dgx-h100 --gpus 8 --tp 2 --workload sharegpt --rate 2 --requests 200
expect_out infer_default_layout_sweep '^  layout chosen: TP 8, EP 1, PP 1, 1 replica over the 8 GPUs given' -- infer --model deepseek-v3 --system dgx-b200 --gpus 8 --weights fp8 --sweep batch=1..4
