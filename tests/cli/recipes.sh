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

# Rule: the Nemotron-3 Super rows carry what their recipes set beyond the workload config: 2 MTP depths
# (mtp_num_layers with mtp_use_repeated_layer) and no TP communication overlap (no comm_overlap: Megatron-Core's
# tp_comm_overlap False); the performance scripts' per-GPU functions turn it off for the Llama NVFP4 rows
# (`tp_comm_overlap = False if precision == "nvfp4"`) and for Qwen3-235B on H100 from 25.11 on
# (CommOverlapConfig(tp_comm_overlap=False)), and leave it on (1) for the other Qwen3 rows they set (a TP 1 row may
# carry either: Llama-3-8B's 25.11 functions set bool(TP > 1)); 25.09's run_script.py passes none to DeepSeek-V3's
# recipe, which then sets CommOverlapConfig(tp_comm_overlap=False) (v0.1.0rc3 recipes/deepseek/deepseek_v3.py:314-316):
# every DeepSeek-V3 25.09 row 0; no other row has an overlap_tp cell (tools/bridge_recipe_facts.py LIB_MTP, FLAT_MTP,
# FLAT_TP, PERF_TP, RUN25)
if command -v python3 >/dev/null 2>&1; then
    bad=$(python3 - <<'PY'
import csv
bad = []
for r in csv.DictReader(open("data/validation/training_runs_megatron_core.csv", newline="")):
    super_row = r["model"].startswith("Nemotron-3-Super")
    off = (r["model"].startswith("Llama") and r["precision"] == "nvfp4") or \
        (r["model"].startswith("Qwen3-235B") and r["system"] == "dgx-h100" and r["software"] != "megatron-core-25.09") or \
        (r["model"].startswith("DeepSeek-V3") and r["software"] == "megatron-core-25.09")
    on_ok = (r["model"].startswith("Qwen3") and r["overlap_tp"] in ("", "1")) or r["tp"] in ("", "1")
    if (super_row and (r["mtp_layers"], r["overlap_tp"]) != ("2", "0")) or (off and r["overlap_tp"] != "0") or \
            (not super_row and not off and not on_ok and r["overlap_tp"]):
        bad.append("%s mtp_layers=%r overlap_tp=%r" % (r["id"], r["mtp_layers"], r["overlap_tp"]))
print("; ".join(bad))
PY
)
    if [ -z "$bad" ]; then echo "ok super_recipe_cells"; else echo "not ok super_recipe_cells: $bad"; fi
fi

# Rule: the router's fused kernels (Megatron-Core moe_router_fusion, the moe_router_fusion column) as the MoE models'
# recipes set them: 1 on every DeepSeek-V3, Qwen3, GPT-OSS and Kimi-K2 row (their performance scripts'
# set_<model>_common_configs from 25.11, the 25.09 YAMLs, the 26.08 flat recipes), empty on every other row (Nemotron-3's
# scripts leave Megatron-Core's default off; dense models have no router) (tools/bridge_recipe_facts.py
# router_fusion_facts)
if command -v python3 >/dev/null 2>&1; then
    bad=$(python3 - <<'PY'
import csv
bad = []
for r in csv.DictReader(open("data/validation/training_runs_megatron_core.csv", newline="")):
    fused = r["model"].startswith(("DeepSeek-V3", "Qwen3", "GPT-OSS", "Kimi-K2"))
    if r["moe_router_fusion"] != ("1" if fused else ""):
        bad.append("%s moe_router_fusion=%r" % (r["id"], r["moe_router_fusion"]))
print("; ".join(bad))
PY
)
    if [ -z "$bad" ]; then echo "ok router_fusion_cells"; else echo "not ok router_fusion_cells: $bad"; fi
fi

# Rule: the MoE rows carry the expert tensor-parallel size their recipe sets (tools/bridge_recipe_facts.py: the workload
# config's expert_tensor_parallel_size, 25.09's perf_matrix `etp`, 26.08's flat recipes for TP > 1 by hand): every
# Megatron-Bridge MoE recipe that matched a row sets 1, so each such row has etp 1 (26.08's TP 1 rows may leave it
# empty: ETP = TP = 1 either way); rows no recipe matched and dense rows have no etp cell. Both files (the Ultra rows
# are enriched by the same function).
if command -v python3 >/dev/null 2>&1; then
    bad=$(python3 - <<'PY'
import csv, sys
sys.path.insert(0, "tools")
import calibrate
bad, n1 = [], 0
for f in ("training_runs_megatron_core", "training_runs_megatron_core_ultra"):
    for r in csv.DictReader(open("data/validation/%s.csv" % f, newline="")):
        matched = " | RECIPE=" in r["notes"] and " | RECIPE=none matched" not in r["notes"]
        want = ("1", "") if matched and calibrate.is_moe(r) and r["software"] == "megatron-core-26.08" and \
            r["tp"] in ("", "1") else ("1",) if matched and calibrate.is_moe(r) else ("",)
        n1 += r["etp"] == "1"
        if r["etp"] not in want:
            bad.append("%s etp=%r" % (r["id"], r["etp"]))
print("; ".join(bad) or n1)
PY
)
    if [ "$bad" = 156 ]; then echo "ok etp_recipe_cells"; else echo "not ok etp_recipe_cells: $bad (want 156 rows with etp 1: 85 BRIDGE, 71 ULTRA)"; fi
fi
