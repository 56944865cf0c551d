#!/bin/sh
# scaleplan model: what scaleplan understood of a preset or a Hugging Face config.json.
. tests/cli/_lib.sh
expect_out model_text 'active per token' -- model qwen3-30b-a3b
expect_out model_json '"params_total":30532122624\.0,"params_active":3353032704\.0' -- model qwen3-30b-a3b --json
expect_out model_json_keys '"params_active".*"params_embedding".*"flops_per_token".*"kv_bytes_per_token"' -- model llama3-8b --json
expect_out model_hybrid '23 x mamba2 \+ none FFN' -- model nemotron-3-nano-30b-a3b
# the attention facts the step prices: GPT-OSS's 128-token windows and sinks, no dropout; GPT-3's dropout 0.1
expect_out model_attention_facts '^attention: sliding layers over the last 128 tokens, learned softmax sinks; dropout: none$' -- model gpt-oss-120b
expect_out model_dropout '^attention: no sliding window; dropout: attention 0.1, hidden 0.1$' -- model gpt3-175b
expect_out model_attention_json '"attention":\{"sliding_window":128,"sinks":true,"dropout":\{"attention":0\.0,"hidden":0\.0\}\}' -- model gpt-oss-20b --json
expect_out model_vision 'vision tower: present in the config, not counted' -- model gemma3-27b
expect_out model_ignored 'ignored keys \(non-architectural\):.*rope_theta' -- model tests/configs/gemma-2-9b.json
expect_out model_step_latent_moe "inference step: priced by the inference step" -- model nemotron-3-super-120b-a12b
expect_out model_step_priced "training step: priced by the training step" -- model nemotron-3-nano-30b-a3b
expect_fail model_missing 2 'expected one model' -- model
expect_fail model_unknown 2 "unknown model preset 'nosuch'" -- model nosuch
expect_fail model_not_specified 2 "is not specified by its source: the source's data is missing" -- model deepseek-v4-flash
expect_fail model_bad_seq 2 'seq-len' -- model llama3-8b --seq-len 0
expect_out train_mamba1 'step time' -- train --model tests/configs/jamba-1.5-mini.json --system dgx-h100 --gpus 8 --ep 8 --global-batch 8 --seq-len 4096
expect_fail train_refuses_cp_mamba1 2 "over Mamba/DeltaNet layers is not modelled" -- train --model tests/configs/jamba-1.5-mini.json --system dgx-h100 --gpus 16 --cp 2 --ep 8 --global-batch 8 --seq-len 4096
expect_fail train_refuses_cp_mamba 2 "context parallelism (--cp 2) over Mamba/DeltaNet layers is not modelled" -- train --model nemotron-3-nano-30b-a3b --system dgx-h100 --gpus 16 --cp 2 --ep 8 --global-batch 16 --seq-len 8192
expect_out train_hybrid 'step time' -- train --model nemotron-3-nano-30b-a3b --system dgx-h100 --gpus 16 --ep 8 --zero 1 --global-batch 64 --seq-len 8192 --dtype fp8
expect_out train_sliding 'step time' -- train --model gpt-oss-20b --system dgx-h100 --gpus 8 --ep 8 --global-batch 16 --seq-len 4096
expect_out train_gdn 'step time' -- train --model qwen3-next-80b-a3b --system dgx-h100 --gpus 32 --ep 32 --zero 1 --global-batch 64 --seq-len 4096
expect_out infer_gdn 'time per output token' -- infer --model qwen3-next-80b-a3b --system dgx-h100 --gpus 8 --tp 8
expect_out infer_mamba1 'per sequence \(recurrent states' -- infer --model tests/configs/jamba-1.5-mini.json --system dgx-h100 --gpus 2 --tp 2
expect_out serve_hybrid 'KV cache .* tokens per engine' -- serve --model nemotron-3-nano-30b-a3b --system dgx-h100 --gpus 2 --tp 2 --requests 20 --rate 2
