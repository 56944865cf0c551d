#!/bin/sh
# infer CLI fixes of issue 19: --batch max, --output 0 without $nan, per-user tokens/s in --sweep JSON, --fit-hardware
# with --json / --csv / --max-batch.
. tests/cli/_lib.sh
# the largest batch is sized with a full prefill chunk's activations (it once "did not fit even at batch 1")
expect_out infer_batch_max 'batch ([0-9]{2,}) \(max that fits: \1\)' -- infer --model llama3-8b --batch max
expect_out infer_max_batch 'batch ([0-9]{2,}) \(max that fits: \1\)' -- infer --model llama3-8b --max-batch
expect_out infer_output0 'cost and energy  n/a' -- infer --model llama3-8b --output 0
expect_out infer_output0_json '"usd_per_million_tokens":null' -- infer --model llama3-8b --output 0 --json
expect_out infer_sweep_json_user '"sweep":\[\{"batch":1,.*"tokens_per_s_per_user":' -- infer --model llama3-8b --sweep batch=1..8 --json
expect_out infer_fit_json '^\{"model":"Llama-3-70B","latency_target_s":0.03,"best":\{"system":' -- infer --fit-hardware --model llama3-70b --latency-ms 30 --json
expect_out infer_fit_csv '^system,tp,weights,batch,tpot_s,usd_per_hour,usd_per_million_tokens,meets_latency$' -- infer --fit-hardware --model llama3-70b --latency-ms 30 --csv
# (with the devices' real capacity, 81920 MiB, one A100 80GB holds Llama-3-70B's fp8 weights at batch 3: one digit)
expect_out infer_fit_maxbatch 'meeting 1e\+03 ms per token for Llama-3-70B \(batch [1-9][0-9]*\)' -- infer --fit-hardware --model llama3-70b --latency-ms 1000 --max-batch
expect_fail infer_batch_word 2 "--batch: 'most' is not" -- infer --model llama3-8b --batch most
