#!/bin/sh
# Rule: our copy of the Megatron-Core rows (data/validation/training_runs_megatron_core.csv) is the shared file
# enriched by tools/bridge_recipes.py from data/validation/megatron_bridge_recipes.csv, nothing else: each row's
# `software` is the preset of the release its own `source` names, empty cells only are filled from the recipe that
# ran the row's layout, and the notes cite it (docs/validation.md "Release recipes").
. tests/cli/_lib.sh

if ! command -v python3 >/dev/null 2>&1; then
    echo "ok bridge_recipes_check # skip: no python3"
elif python3 tools/bridge_recipes.py --check >"$TMP/out" 2>&1; then
    echo "ok bridge_recipes_check"
else
    echo "not ok bridge_recipes_check: $(head -c 300 "$TMP/out")"
fi

# Rule: a release preset prices a plan exactly as its base (its defaults and efficiency are the base's; only the
# release's 2-byte main gradients differ, which is memory, not time): the same step time, to 1e-12.
plan="--model qwen3-30b-a3b --system gb200-nvl72 --gpus 8 --ep 8 --global-batch 512 --micro-batch 4 --seq-len 4096 --dtype mxfp8"
# shellcheck disable=SC2086
a=$($RUN train $plan --software megatron-core --json | grep -o '"step_time_s":[0-9.eE+-]*' | cut -d: -f2)
# shellcheck disable=SC2086
expect_json release_preset_same_step "step_time_s=$a@1e-12" -- train $plan --software megatron-core-26.06.01 --json
