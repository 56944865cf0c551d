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
# Rule: the search keeps the caching allocator's fragmentation free (GMLake's 9.2 GB of 80 GiB, 10.7 %) and says so in
# the text and the JSON summary; --max-memory-frac changes it (docs/model.md "Capacity").
expect_out search_headroom_text 'plans must fit in 89\.3 % of 79\.65 GiB per GPU \(the rest is headroom for allocator fragmentation' -- search --model llama3-8b --system dgx-h100 --gpus 16 --global-batch 64 --seq-len 4096
expect_json search_headroom_json 'summary.memory_headroom_frac=0.1071020961@1e-9' 'summary.usable_memory_bytes=76361351976.19@1e-9' -- search --model llama3-8b --system dgx-h100 --gpus 16 --global-batch 64 --seq-len 4096 --json
expect_json search_headroom_flag 'summary.memory_headroom_frac=0@0' -- search --model llama3-8b --system dgx-h100 --gpus 16 --global-batch 64 --seq-len 4096 --max-memory-frac 1 --json
# Rule: the search enumerates pipeline schedules and names the plan's (text, JSON, CSV with etp and ep_fold);
# --schedules narrows them; a stack refuses a schedule it lacks by name; bad values are one line, exit 2.
expect_out search_csv_columns '^tp,pp,dp,cp,ep,vpp,schedule,micro_batch,recompute,sp,zero,etp,ep_fold,dtype,step_time_s,' -- search --model llama3-70b --system dgx-h100 --gpus 512 --global-batch 1024 --seq-len 8192 --top 1 --csv
expect_out search_csv_interleaved '^1,4,16,8,1,3,interleaved,1,none,0,2,1,0,bf16,' -- search --model llama3-70b --system dgx-h100 --gpus 512 --global-batch 1024 --seq-len 8192 --top 1 --schedules 1f1b --csv
expect_json search_json_zbv 'plans.0.schedule=~zb-v' 'plans.0.vpp=2@0' -- search --model llama3-70b --system dgx-h100 --gpus 512 --global-batch 1024 --seq-len 8192 --top 1 --json
expect_out search_text_schedule '^  1 +1 +4 +16 +8 +1 +2 zb-v ' -- search --model llama3-70b --system dgx-h100 --gpus 512 --global-batch 1024 --seq-len 8192 --top 1
expect_fail search_schedules_bad 2 "--schedules: unknown schedule 'zb-h2'; allowed 1f1b, interleaved, zb-h1, zb-v, dualpipe" -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 8 --schedules 1f1b,zb-h2
expect_fail search_schedules_empty 2 '--schedules: empty list' -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 8 --schedules ,
expect_fail search_schedules_stack 2 "--software: software 'megatron-core' has no ZB-H1 pipeline schedule" -- search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 8 --software megatron-core --schedules zb-h1
