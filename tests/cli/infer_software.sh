#!/bin/sh
# infer --software (issue 18): the serving stack as serve takes it (data/serving/NAME.json, kernel factor calibrated
# per accelerator family by data/serving/calibration.json), applied by the code serve prices its steps with
# (src/serve_step.c sp_serve_stack_kernels / sp_serve_stack_infer). Without it infer is unchanged.
. tests/cli/_lib.sh
printf 'prompt_tokens,output_tokens\n200,2\n' > "$TMP/one.csv"
# Rule: where serve's and infer's models coincide they print the same step times. One request alone (200-token
# prompt, 2 output tokens): serve's TTFT is one prefill step of 200 tokens and its TPOT one decode step at context
# 201, infer's static batch 1 the same two steps (decode at the mean context P + O/2 = 201); at <= 256 tokens per step
# serve's step table is exact (src/serve_step.c). FP8 Llama-3-70B at TP 4 on dgx-h100, where both the stack's Hopper
# kernel factor (0.6) and its host time per step (vllm 2 ms, sglang 1 ms) act. Values as printed (17 digits);
# 1e-9 relative covers gcc/clang libm differences.
expect_json infer_sw_vllm 'software=~vllm' 'software_calibration=~hopper' 'ttft_s=0.0167471550413174@1e-9' 'tpot_s=0.0126087439577017@1e-9' -- infer --model llama3-70b --tp 4 --weights fp8 --prompt 200 --output 2 --software vllm --json
expect_json serve_sw_vllm 'software=~vllm' 'ttft_p50_s=0.0167471550413174@1e-9' 'tpot_p50_s=0.0126087439577017@1e-9' -- serve --model llama3-70b --tp 4 --dtype fp8 --trace "$TMP/one.csv" --arrival offline --software vllm --json
expect_json infer_sw_sglang 'ttft_s=0.0157471550413174@1e-9' 'tpot_s=0.0116087439577017@1e-9' -- infer --model llama3-70b --tp 4 --weights fp8 --prompt 200 --output 2 --software sglang --json
expect_json serve_sw_sglang 'ttft_p50_s=0.0157471550413174@1e-9' 'tpot_p50_s=0.0116087439577017@1e-9' -- serve --model llama3-70b --tp 4 --dtype fp8 --trace "$TMP/one.csv" --arrival offline --software sglang --json
# Without --software infer runs no stack (its numbers before the option: the default is not serve's vllm, which
# would move them): the same decode step is 2 ms shorter (vllm's host time; this FP8 decode is HBM-bound, so the
# kernel factor does not move it) and the prefill slower (no 0.6 calibration on its FP8 GEMMs, and no host time)
expect_out infer_sw_null '^\{"model":"Llama-3-70B","system":"dgx-h100","software":null,' -- infer --model llama3-70b --json
expect_json infer_sw_none 'ttft_s=0.0194363530069997@1e-9' 'tpot_s=0.0106087439577017@1e-9' -- infer --model llama3-70b --tp 4 --weights fp8 --prompt 200 --output 2 --json
# the stack's engine limits: the largest batch is its sequences per engine (vllm max_num_seqs 256, one engine per
# tp x ep GPUs) where memory alone would hold 688 sequences of 640 tokens of Llama-3-8B on one H100
expect_out infer_sw_maxbatch_none 'batch 688 \(max that fits: 688\)' -- infer --model llama3-8b --max-batch --prompt 512 --output 128
expect_out infer_sw_maxbatch 'batch 256 \(max that fits: 256\)' -- infer --model llama3-8b --max-batch --prompt 512 --output 128 --software vllm
expect_out infer_sw_maxbatch2 'batch 512 \(max that fits: 512\)' -- infer --model llama3-8b --max-batch --prompt 512 --output 128 --software vllm --gpus 2 --tp 1
expect_out infer_sw_text 'serving stack    vllm \(kernel factor calibration: hopper; 2 ms host time per step, at most 256 sequences per engine\)' -- infer --model llama3-8b --software vllm
# refusals: a batch beyond the engines' sequences, a training stack (named as such, with the serving stacks), an
# unknown name (the list holds stacks only, not data/serving/calibration.json), in-flight batching on a stack that
# does not chunk prompts
expect_fail infer_sw_batch 2 '^scaleplan infer: error: --batch 300: the vllm stack runs at most 256 sequences per engine' -- infer --model llama3-8b --batch 300 --software vllm
expect_fail infer_sw_sweep 2 "^scaleplan infer: error: --sweep 'batch=1..512': the vllm stack runs at most 256 sequences" -- infer --model llama3-8b --sweep batch=1..512 --software vllm
expect_fail infer_sw_training 2 "^scaleplan infer: error: --software: 'megatron-core' is a training stack (data/software: train, search, finetune, limits); infer takes a serving stack (data/serving); available: sglang, trt-llm, vllm," -- infer --model llama3-8b --software megatron-core
expect_fail infer_sw_unknown 2 "^scaleplan infer: error: --software: unknown serving preset 'nosuch'; available: sglang, trt-llm, vllm," -- infer --model llama3-8b --software nosuch
expect_fail serve_sw_unknown 2 "^scaleplan serve: error: --software: unknown serving preset 'nosuch'; available: sglang, trt-llm, vllm," -- serve --model llama3-8b --software nosuch
expect_fail infer_sw_inflight 2 "^scaleplan infer: error: --inflight: the vllm-rocm-mlperf41-offline stack does not chunk prompts" -- infer --model llama3-8b --system mi300x-8 --inflight --software vllm-rocm-mlperf41-offline
# the other modes take it per system: --fit-hardware calibrates the stack for each candidate's family
expect_out infer_sw_fit 'dgx-a100-80g, TP 1, int4 weights: 29.45 ms/token' -- infer --fit-hardware --model llama3-70b --latency-ms 30 --software vllm
expect_out infer_sw_fit_none 'dgx-a100-80g, TP 1, int4 weights: 27.45 ms/token' -- infer --fit-hardware --model llama3-70b --latency-ms 30
