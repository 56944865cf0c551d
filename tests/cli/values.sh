#!/bin/sh
# Value tests: each parses the command's --json (tests/json_assert.c, jansson) and asserts numbers, like SQLite's
# exact-output tests. The pinned values are the model's answers at the time of writing: a change that moves one
# beyond its tolerance must update the number here deliberately (and say why in its commit).
. tests/cli/_lib.sh

# The default job (`make run`): GPT-3 175B on 1024 A100-80GB, Megatron's plan (Narayanan et al. 2021: TP 8, PP 8,
# 2 virtual stages, batch 1536, full recompute, fp16). Step time pinned to 0.1 %; the paper measured 163 TFLOP/s
# per GPU (52 % of peak) on it, the model says 43.1 % MFU (docs/validation.md row NAR21-*).
expect_json default_job_step_time 'step_time_s=29.3944293756172@0.001' 'plan.tp=8' 'plan.pp=8' 'plan.vpp=2' \
    'plan.dp=16' 'plan.global_batch=1536' 'plan.recompute=~full' 'plan.dtype=~fp16' 'fits=true' -- train --json

# Property: the time breakdown (all parts but recompute, which is already inside compute + memory-bound) adds up to
# the step time, and the memory parts (all but capacity) to the total, for every kind of plan: dense TP+PP, TP
# only, MoE with EP, ZeRO-3 with CP, fine-tuning, and the search's best plan re-timed by train.
for args in "" "--model llama3-8b --system dgx-h100 --gpus 8 --tp 8 --global-batch 64 --seq-len 8192" \
    "--model mixtral-8x7b --system dgx-h100 --gpus 64 --tp 2 --ep 8 --global-batch 256 --seq-len 4096 --zero 1" \
    "--model llama3-70b --system dgx-h100 --gpus 512 --tp 8 --pp 4 --cp 2 --zero 3 --global-batch 1024 --seq-len 8192 --sp" \
    "--model llama3-70b --system dgx-h100 --gpus 8 --global-batch 8" \
    "--model llama3-70b --system dgx-h100 --gpus 512 --tp 8 --pp 4 --global-batch 1024 --seq-len 8192 --dtype fp8 --recompute selective --sp"; do
    # shellcheck disable=SC2086
    expect_json "train_sums ${args:-default}" 'sum:time_breakdown_s-recompute=step_time_s@1e-12' \
        'sum:memory_per_gpu_bytes-total-capacity=memory_per_gpu_bytes.total@1e-12' -- train $args --json
done
expect_json infer_memory_sums 'sum:memory_per_gpu_bytes-total-capacity=memory_per_gpu_bytes.total@1e-12' \
    -- infer --model llama3-70b --tp 4 --batch 16 --json
expect_json infer_moe_memory_sums 'sum:memory_per_gpu_bytes-total-capacity=memory_per_gpu_bytes.total@1e-12' \
    -- infer --model mixtral-8x7b --tp 2 --batch 32 --json

# Property: a search's plans come best first and the best one, re-timed by train, has the same step time.
expect_json search_sorted 'sorted:plans:step_time_s' 'each:plans:mfu?' -- search --model llama3-8b --system dgx-h100 \
    --gpus 16 --global-batch 64 --seq-len 4096 --top 3 --threads 1 --json
best=$($RUN search --model llama3-8b --system dgx-h100 --gpus 16 --global-batch 64 --seq-len 4096 --top 1 --threads 1 --csv | sed -n 2p)
t=$(printf '%s' "$best" | cut -d, -f15)
set -- $(printf '%s' "$best" | cut -d, -f1-11 | tr ',' ' ')
sp=""; [ "${10}" = 1 ] && sp=--sp
expect_json search_best_retimed "step_time_s=$t@1e-5" -- train --model llama3-8b --system dgx-h100 --gpus 16 \
    --global-batch 64 --seq-len 4096 --tp "$1" --pp "$2" --cp "$4" --ep "$5" --vpp "$6" --schedule "$7" \
    --micro-batch "$8" --recompute "$9" $sp --zero "${11}" --json

# presets --json lists the four kinds; validate --json agrees with its text report on the overall MAPE.
expect_json presets_json 'models.0?' 'systems.0?' 'accelerators.0?' 'laws.2?' -- presets --json
mape=$($RUN validate data/validation/training_runs.csv | sed -n 's/^overall: .*MAPE \([0-9.]*\) %$/\1/p')
expect_json validate_json_mape "mape_pct=$mape@0.001" -- validate data/validation/training_runs.csv --json

# shape's Pareto front comes sorted by time per output token; finetune's memory parts add up to its total.
expect_json shape_front_sorted 'sorted:front:tpot_s' 'each:front:params?' -- shape --system dgx-h100 --params 7e9 --batch 8 --json
expect_json finetune_memory_sums 'sum:memory_per_gpu_bytes-total-capacity=memory_per_gpu_bytes.total@1e-12' \
    -- finetune --model llama3-8b --method qlora --json

# An option the command reads only together with others is refused, not silently ignored.
expect_fail infer_unused_option 2 "--latency-ms does not apply without --fit-hardware" -- infer --model llama3-8b --latency-ms 30
expect_fail infer_fit_unused_system 2 "--system does not apply with the other options given" -- infer --fit-hardware --model llama3-8b --latency-ms 30 --system dgx-h100
expect_fail infer_unused_host_bw 2 "--host-bw does not apply" -- infer --model llama3-8b --host-bw 10GB/s
