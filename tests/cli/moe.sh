#!/bin/sh
# MoE / context-parallel / FP8 plan options of train (issue 8): outputs and bad input.
. tests/cli/_lib.sh
DS="--model deepseek-v3 --system h800-cluster --gpus 2048 --pp 16 --ep 64 --zero 1 --dtype fp8 --global-batch 15360 --seq-len 4096"
expect_out moe_line 'experts: ETP 1 x EP 64, capacity factor none \(dropless\), load imbalance 1' -- train $DS
expect_out moe_imbalance 'load imbalance 1.3' -- train $DS --moe-imbalance 1.3
expect_out moe_capacity 'capacity factor 1.25 \(padded\)' -- train $DS --capacity-factor 1.25 --moe-pad
expect_out moe_json '"etp":1,"capacity_factor":1.5,"moe_pad":false,"moe_imbalance":1.2' -- train $DS --capacity-factor 1.5 --moe-imbalance 1.2 --json
# Rule: --moe-router-fusion is a plan knob (Megatron-Core moe_router_fusion) the JSON plan reports
expect_out moe_router_fusion_json '"moe_dispatcher":"alltoall","moe_router_fusion":true' -- train $DS --moe-router-fusion --json
# Rule: --moe-fused-mlp and --fp8-attention are plan knobs (Megatron-Bridge cutedsl_fused_grouped_mlp,
# fp8_dot_product_attention) the JSON plan reports
expect_out moe_fused_mlp_json '"moe_router_fusion":false,"moe_fused_mlp":true,"fp8_attention":true' -- train $DS --moe-fused-mlp --fp8-attention --json
# Rule: --fp8-output-proj is a plan knob (Megatron-Core fp8_output_proj: the LM head in MXFP8) the JSON plan reports
expect_out fp8_output_proj_json '"fp8_attention":false,"fp8_output_proj":true' -- train $DS --fp8-output-proj --json
expect_out moe_gpu_hours '"gpu_hours":' -- train $DS --tokens 14.8T --json
expect_out etp_mixtral 'ETP 2 x EP 8' -- train --model mixtral-8x7b --system dgx-h100 --gpus 64 --tp 4 --etp 2 --ep 8 --global-batch 256 --seq-len 4096 --zero 1
expect_out long_context 'step time' -- train --model llama3-8b --system dgx-h100 --gpus 32 --cp 32 --seq-len 1048576 --global-batch 1 --recompute full --zero 3
expect_fail etp_range 2 '\-\-etp' -- train $DS --etp 0
expect_fail etp_tiles 2 'etp = 3 must divide tp\*cp\*dp' -- train $DS --etp 3
expect_fail etp_dense 2 "has no experts" -- train --model llama3-8b --system dgx-h100 --gpus 8 --tp 2 --etp 1
expect_fail capacity_range 2 '\-\-capacity-factor' -- train $DS --capacity-factor 0
expect_fail capacity_nan 2 '\-\-capacity-factor' -- train $DS --capacity-factor nan
expect_fail imbalance_range 2 '\-\-moe-imbalance' -- train $DS --moe-imbalance 0.5
expect_fail pad_needs_capacity 2 'needs a capacity factor' -- train $DS --moe-pad
# Rule: Megatron-Core refuses drop-and-pad with the DeepEP dispatcher (transformer_config.py:1754-1761)
expect_fail pad_deepep 2 '^scaleplan train: error: plan: the deepep dispatcher does not pad expert buffers to capacity' -- train $DS --capacity-factor 1 --moe-pad --moe-dispatcher deepep
Q="--model qwen3-30b-a3b --system dgx-h100 --gpus 8 --global-batch 64 --seq-len 4096 --top 1"
expect_fail search_pad_needs_capacity 2 '^scaleplan search: error: --moe-pad needs --capacity-factor' -- search $Q --moe-pad
expect_fail search_pad_deepep 2 '^scaleplan search: error: --moe-pad: the deepep dispatcher does not pad' -- search $Q --capacity-factor 1 --moe-pad --moe-dispatcher deepep
expect_fail imbalance_dense 2 'has no experts' -- train --model llama3-8b --system dgx-h100 --moe-imbalance 2
# search over precision and expert TP
expect_out search_any_dtype '"dtype":"fp8"' -- search --model llama3-8b --system dgx-h100 --gpus 16 --global-batch 64 --seq-len 4096 --dtype any --json
expect_out search_etp 'ETP 2, bf16' -- search --model mixtral-8x7b --system dgx-h100 --gpus 64 --global-batch 256 --seq-len 4096 --fix tp=4,ep=4,etp=2 --top 2
expect_fail search_dtype_bad 2 "or 'any'" -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 8 --dtype fp9
expect_fail search_imbalance_dense 2 'has no experts' -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 8 --moe-imbalance 1.5
