#!/bin/sh
# scaleplan search from the command line.
. tests/cli/_lib.sh
expect_out search_text 'plans enumerated: .* evaluated, .* pruned by bound' -- search --model gpt3-175b-megatron --system dgx-a100-80g --gpus 1024 --global-batch 1536 --seq-len 2048
expect_out search_json '^\{"model":.*"plans":\[\{"tp":.*"step_time_s":.*"mfu":.*"memory_per_gpu_bytes":.*"summary":\{"plans_enumerated":.*"plans_evaluated":.*"plans_pruned":.*"plans_infeasible":.*"threads":.*"wall_time_s":.*"plans_per_s":' -- search --model llama3-70b --system dgx-h100 --gpus 512 --global-batch 1024 --seq-len 8192 --json
expect_out search_fix '^8,8,' -- search --model gpt3-175b-megatron --system dgx-a100-80g --gpus 1024 --global-batch 1536 --seq-len 2048 --fix tp=8,pp=8 --csv
expect_out search_all '^tp,pp,dp' -- search --model llama3-8b --system dgx-h100 --gpus 16 --global-batch 64 --seq-len 4096 --all --csv
expect_out search_moe 'Mixtral' -- search --model mixtral-8x7b --system dgx-h100 --gpus 64 --global-batch 256 --seq-len 4096
expect_out search_cost 'step time' -- search --model llama3-8b --system dgx-h100 --gpus 64 --global-batch 256 --objective cost
expect_fail search_nofit 2 'no plan of .* fits in memory.*smallest power-of-two multiple of the GPU count that fits is 128 GPUs' -- search --model llama3.1-405b --system dgx-h100 --gpus 8 --global-batch 16 --seq-len 8192
expect_fail search_batch 2 'no valid plan for 4096 GPUs and global batch 3' -- search --model llama3-8b --system dgx-h100 --gpus 4096 --global-batch 3 --fix cp=1
expect_fail search_required 2 'are required' -- search --model llama3-8b
expect_fail search_fix_bad 2 "--fix: unknown or out-of-range 'xx=3'" -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 8 --fix xx=3
expect_fail search_objective 2 "--objective 'fast'" -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 8 --objective fast
expect_fail search_all_nocsv 2 'needs --csv' -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 8 --all
