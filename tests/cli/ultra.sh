#!/bin/sh
# Rule: the Blackwell Ultra rows of the Megatron-Bridge tables (data/validation/training_runs_megatron_core_ultra.csv,
# written by tools/bridge_ultra.py; never fitted) all parse and run: 118 evaluated, the two models without a published
# config refused by name; their MAPE stays below 15 % (22.11 % when added, 18.23 % with GB300's measured GEMM curve,
# 17.97 % with NVFP4's quantization traffic, 16.31 % with the Super recipe's 2 MTP depths, 15.89 % before and 12.41 %
# after the rows carried all their release recipes' knobs as the shared file's rows do, 13.06 % at that landing's
# main (16.81 % there without the knobs); the bound leaves about a point for model changes, which have moved this file
# by at most about one point a landing, and fails if the recipe knobs are lost; 13.95 % after the Llama NVFP4 rows'
# TP overlap (main e346522), 14.03 % with the all-to-all dispatcher's 16-bit payload (docs/model.md "Dispatch
# payload": the 25.11 DeepSeek-V3 GB300 row on the default dispatcher +6.4 -> +11.2 %), so the bound moved from 14 to
# 15 %, still below the 16.81 % of the rows without their knobs; docs/validation.md "Blackwell Ultra rows").
. tests/cli/_lib.sh
f=data/validation/training_runs_megatron_core_ultra.csv
expect_out ultra_mape 'ULTRA    n=118  MAPE +([0-9]|1[0-4])\.[0-9][0-9] %' -- validate $f
expect_out ultra_refused 'ULTRA    2 not evaluated' -- validate $f
expect_out ultra_v4_refused 'ULTRA-26.08-2 +not evaluated: .*DeepSeek-V4-Flash. is not specified by its source' -- validate $f

# Rule: the rows are enriched as the shared file's rows are (tools/bridge_recipes.py enrich, called by
# tools/bridge_ultra.py): all 120 name their release's preset (megatron-core-<release> from their own source column),
# and the 118 whose release has a recipe line in data/validation/megatron_bridge_recipes.csv (all but 26.08's
# DeepSeek-V4-Flash and Nemotron-3-Ultra: FLAT reads no recipe for them, as for their GB200 rows) carry
# its " | RECIPE=" note; 116 of them had empty plan cells filled from it, named in "filled by tools/bridge_recipes.py"
# (108 before the performance scripts' TP overlap was read: it is the only cell filled in 26.02.01's Llama-3-70B TP 1
# NVFP4 row and in 25.11's two Llama-3-8B and one Qwen3-30B rows, all TP 1; 112 before moe_router_fusion was read: it
# is the only cell filled in 25.11's two DeepSeek-V3 and one GPT-OSS rows and 26.02.01's GPT-OSS row).
if ! command -v python3 >/dev/null 2>&1; then
    echo "ok ultra_recipes # skip: no python3"
else
    got=$(python3 -c 'import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1])))
rel = sum(r["software"] == "megatron-core-" + re.search(r"'"'"'([0-9.]+) NeMo Container'"'"'", r["source"]).group(1) for r in rows)
print(len(rows), rel, sum(" | RECIPE=" in r["notes"] for r in rows),
      sum("filled by tools/bridge_recipes.py: " in r["notes"] for r in rows))' "$f")
    if [ "$got" = "120 120 118 116" ]; then
        echo "ok ultra_recipes"
    else
        echo "not ok ultra_recipes: rows, release presets, RECIPE notes, filled rows = $got (want 120 120 118 116)"
    fi
fi
