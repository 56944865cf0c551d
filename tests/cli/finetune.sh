#!/bin/sh
# scaleplan finetune / distill from the command line.
. tests/cli/_lib.sh
expect_out lora_text 'fits on one GPU of: a10-node' -- finetune --model llama2-7b --system a10-node
expect_out lora_json '"trainable_params":.*"memory_per_gpu_bytes":\{"total":.*"model_states":.*"activations":.*"base_weights":.*"fits":true,"step_time_s":' -- finetune --model llama2-7b --system a10-node --json
expect_out gpu_hours '"gpu_hours":' -- finetune --model llama3-8b --method full --gpus 8 --zero 3 --global-batch 64 --tokens 1B --json
expect_out qlora '"fits":true' -- finetune --model llama-65b --system l40s-node --method qlora --seq-len 512 --json
expect_out prune 'pruned .* fewer' -- finetune --model llama3-8b --prune-heads 8 --prune-ffn 0.3
expect_out distill 'break-even after' -- distill --teacher bert-base --student distilbert-base --tokens 3.3B --seq-len 512
expect_fail rank_too_big 2 '--rank 9000 is larger than the smallest targeted matrix dimension' -- finetune --model llama3-8b --rank 9000
expect_fail bad_target 2 "--targets: 'conv' is not a target; allowed attn, mlp, all" -- finetune --model llama3-8b --targets attn,conv
expect_fail full_nf4 2 'cannot be trained with --method full' -- finetune --model llama3-8b --method full --base-dtype nf4
expect_fail no_model 2 '--model is required' -- finetune
expect_fail distill_args 2 '--teacher, --student and --tokens are required' -- distill --teacher bert-base
expect_out search_lora 'plans enumerated' -- search --model llama3-70b --system dgx-h100 --gpus 64 --global-batch 128 --seq-len 4096 --finetune lora
expect_out train_prune 'FFN 10035' -- train --model llama3-8b --system dgx-h100 --gpus 8 --prune-ffn 0.3
expect_out infer_prune 'time per output token' -- infer --model llama3-8b --prune-heads 8
expect_fail search_rank_alone 2 '--rank does not apply without --finetune' -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 8 --rank 8
expect_fail prune_bad 2 'with grouped-query attention heads go in whole groups of 4' -- train --model llama3-8b --system dgx-h100 --gpus 8 --prune-heads 3
