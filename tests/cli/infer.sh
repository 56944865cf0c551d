#!/bin/sh
# scaleplan infer from the command line.
. tests/cli/_lib.sh
expect_out infer_text 'time per output token' -- infer --model llama3-70b --system dgx-h100 --tp 4 --batch 16
expect_out infer_json '"ttft_s":.*"tpot_s":.*"tokens_per_s_per_gpu":.*"memory_per_gpu_bytes":\{"total":.*"max_batch":' -- infer --model llama2-70b --tp 4 --json
expect_out infer_moe 'experts read' -- infer --model mixtral-8x7b --tp 2 --batch 32
expect_out infer_sweep '^batch,ttft_s' -- infer --model llama3-8b --sweep batch=1..256 --csv
expect_out infer_plot 'batch' -- infer --model llama3-8b --sweep batch=1..64 --plot "$TMP/i.svg"
expect_out infer_fit 'cheapest hardware meeting' -- infer --fit-hardware --model llama3-70b --latency-ms 30
expect_out validate_infer 'decode-dominated rows' -- validate --infer ../shared/validation/inference_measured.csv
expect_out validate_infer_json '^\{"rows":\[\{"id":"kipply-ft-1","predicted":.*"unit":"ms","error_pct":.*"n":.*"mape_pct":' -- validate --infer ../shared/validation/inference_measured.csv --json
expect_fail infer_nofit 2 'does not fit on 1 x' -- infer --model llama3.1-405b --max-batch
expect_fail infer_impossible 2 'no candidate meets 0.01 ms per token; the fastest is' -- infer --fit-hardware --model llama3-70b --latency-ms 0.01
expect_fail infer_precision 2 "--kv 'int4'" -- infer --model llama3-8b --kv int4
expect_fail infer_weights 2 'unknown precision' -- infer --model llama3-8b --weights fp3
expect_fail infer_tp 2 'must be a multiple of tp' -- infer --model llama3-8b --gpus 3 --tp 2
