#!/usr/bin/env python3
"""Regenerate data/validation/megatron_bridge_recipes.csv from a clone of NVIDIA-NeMo/Megatron-Bridge.

Usage:  python3 tools/bridge_recipe_facts.py MEGATRON_BRIDGE_GIT_DIR [--check]     (needs git and PyYAML)

For every row of data/validation/training_runs_megatron_core.csv (its values as the shared file has them:
tools/bridge_recipes.py strip_ours), and every DGX-GB300 / DGX-B300 row of the same tables as tools/bridge_ultra.py
reads them from the clone (bridge_ultra.rows, before enrichment; they are written to
data/validation/training_runs_megatron_core_ultra.csv, an independent check that no calibration reads), this finds
the performance recipe of the row's release whose parallel layout, micro batch and global batch equal the table's,
and writes what it sets, one line per (release, model, system, precision, layout), cited
NVIDIA-NeMo/Megatron-Bridge@<commit>:<path>:<line>:

  - releases 25.11 .. 26.06.01: the tag's scripts/performance/configs/*/*workload_base_configs.py, imported as they
    are (their WorkloadBaseConfig dataclasses need nothing but the standard library); a config matches when its
    name holds the model, the GPU and the precision (BF16, FP8_CS / FP8_SC / FP8_DS, FP8_MX, NVFP4; SFT / LORA for the
    fine-tuning rows) and num_gpus, TP, PP, CP, VP, EP, MBS and GBS all equal the row's. What set_workload_base_
    configs (scripts/performance/utils/overrides.py) makes of it: moe_flex_dispatcher_backend -> flex dispatcher with
    that backend, else alltoall; moe_a2a_overlap -> overlap_moe_expert_parallel_comm; cuda_graph_impl /
    cuda_graph_scope; recompute_modules -> granularity selective, recompute_num_layers -> full (block) of N layers;
    no recompute setting -> the pretrain script's (DeepSeek-V3 and Kimi-K2: selective; others none);
  - 25.09: the YAML perf_matrix of v0.1.0rc3 (scripts/performance/configs/*/*_llm_pretrain.yaml; the block of the
    row's GPU and GPU count, precision fp8_cs for the unparenthesised values, fp8_mx / fp8_ss for the others) and
    run_script.py's per-model code (DeepSeek-V3: DeepEP and A2A overlap on H100, token-drop all-to-all elsewhere;
    Qwen3 MoE: token drop), token drop being apply_moe_token_drop's capacity factor 1.0 with padding (moe_capacity,
    moe_pad). Later releases drop tokens only under --use_tokendrop true, off by default (v0.3.0
    scripts/performance/README.md:184, utils/overrides.py:277-283), so their MoE rows are dropless;
  - 26.08: the flat perf recipes of v0.6.0 (src/megatron/bridge/perf_recipes/<model>/<gpu>/), read by hand per GPU
    (gb200, gb300): FLAT below;
  - every release: the BF16 layers its precision config keeps under a quantized precision (bf16_layers "START,END",
    bf16_layers_source the lines that set it), read by tools/bridge_precision.py, whatever the layout.
  - pp_split: whether the model's library recipe counts the embedding and the loss as layers in the pipeline split
    (Megatron-Core account_for_embedding_in_pipeline_split / account_for_loss_in_pipeline_split), read by hand per
    release: PP_SPLIT below; for DeepSeek-V3 (26.02 ..) the explicit layout and the MTP module its recipes train
    (mtp_layers): DS_MTP below.
  - every release from 25.11: `mtp_layers`, the MTP depths Megatron-Core runs (mtp_num_layers with
    mtp_use_repeated_layer: the model's one MTP module applied that many times), where the library recipe the
    performance config starts from sets them (LIB_MTP: found in the tag's recipe function; FLAT_MTP for 26.08, read
    by hand; written as the mtp_layers cell DeepSeek-V3's modules use, "N <citation>"). The other models' recipes leave the depth at the model's MTP module count (DeepSeek-V3:
    mtp_num_layers = 1, its one module) or have no MTP;
  - the same recipes' TP communication overlap, `overlap_tp` (Megatron-Core tp_comm_overlap): the recipe function's
    CommOverlapConfig(tp_comm_overlap=...) or cfg.comm_overlap.tp_comm_overlap = ..., else off when neither it nor
    the model's perf script sets a comm_overlap (_pretrain_common's comm_overlap=None leaves Megatron-Core's default
    tp_comm_overlap False); for 26.08 read by hand; for the Llama models the GPU's function of the release's
    performance script where it sets tp_comm_overlap for the row's precision and TP (PERF_TP: Llama off under
    NVFP4, Qwen3-235B off on H100 from 25.11, the other Qwen3 functions on).
    Other models and precisions keep the stack's default (overlap_tp empty).
  - MoE rows with a matched recipe: `etp`, the expert tensor-parallel size it sets (Megatron-Core
    expert_tensor_parallel_size): the workload config's expert_tensor_parallel_size, which set_workload_base_configs
    copies onto the model (v0.5.1 scripts/performance/utils/overrides.py:225; its dataclass default None,
    utils/utils.py:47, is Megatron-Core's ETP = TP: etp empty), or for 25.09 the perf_matrix block's `etp`
    (v0.1.0rc3 scripts/performance/utils/helpers.py:163, None likewise); for 26.08 the flat recipe's
    cfg.model.expert_tensor_parallel_size line, read by hand for its TP > 1 MoE functions (FLAT_ETP; the TP 1 ones
    are ETP 1 whatever they set).
  - the same matched recipes' Transformer Engine CuTe-DSL fused grouped MLP, `moe_fused_mlp` ("1": the workload
    config's cutedsl_fused_grouped_mlp, which set_workload_base_configs turns into Megatron-Core
    use_transformer_engine_op_fuser with moe_mlp_glu_interleave_size 32, v0.5.1 scripts/performance/utils/
    overrides.py:238-243, and perf_plugins.py:308-309 into NVTE_CUTEDSL_FUSED_GROUPED_MLP=1; the dataclass field
    exists from 26.06 = v0.5.0, utils/utils.py:63, default False) and cuDNN FP8 attention, `fp8_attention` ("1"/"0":
    the config's fp8_dot_product_attention -> cfg.mixed_precision.fp8_dot_product_attention, overrides.py:244-245;
    None, the default, leaves the precision config's: empty), cited in `fused_recipe` by the config's line that sets
    them (the config itself or the one it replace()s); for 26.08 the flat recipes read by hand (FLAT_FUSED).
  - every MXFP8 row from 25.11: `fp8_output_proj` ("1": Megatron-Core's fp8_output_proj, the LM head as Transformer
    Engine's MXFP8 linear), where the GPU's function of the model's performance script sets it
    (scripts/performance/configs/<model>/*_llm_pretrain.py `def <model>_pretrain_config_<gpu>(`, up to the next def:
    "cfg.model.fp8_output_proj = True", under its `if cfg.mixed_precision.fp8_recipe == "mxfp8"`; first in 26.06 =
    v0.5.0), whatever the layout, cited in `fp8_output_proj_recipe`; for 26.08 the flat recipes read by hand
    (FLAT_OUTPUT_PROJ).
A row whose release has no such config gets a line with `unmatched` saying which config came nearest and where it
differs. Release -> tag: docs/releases/software-versions.md and the first tag whose docs carry the release's table.
With --check nothing is written; the exit status is 1 when the file differs from what this script would write.
"""
import csv
import dataclasses
import importlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridge_precision  # noqa: E402  (the release's BF16 layers, the release -> tag map)
import bridge_recipes  # noqa: E402  (strip_ours, release, paths)
import bridge_ultra  # noqa: E402  (the Blackwell Ultra rows of the same tables)
import calibrate  # noqa: E402  (is_moe: routed experts as scaleplan reads the model)

MB = "NVIDIA-NeMo/Megatron-Bridge"
TAGS = bridge_precision.TAGS
MODELS = [("Llama-3-8B", "LLAMA3_8B", "llama3/llama3_8b"), ("Llama-3-70B", "LLAMA3_70B", "llama3/llama3_70b"),
          ("Llama-3.1-405B", "LLAMA31_405B", "llama31/llama31_405b"), ("DeepSeek-V3", "DEEPSEEK_V3", "deepseek/deepseek_v3"),
          ("GPT-OSS-120B", "GPT_OSS_120B", None), ("Qwen3-30B-A3B", "QWEN3_30B_A3B", "qwen3/qwen3_30b_a3b"),
          ("Qwen3-235B-A22B", "QWEN3_235B_A22B", "qwen3/qwen3_235b_a22b"), ("Kimi-K2", "KIMI_K2", None),
          ("Nemotron-3-Nano", "NEMOTRON_3_NANO", None), ("Nemotron-3-Super", "NEMOTRON_3_SUPER", None)]
GPU = {"gb200-nvl72": "gb200", "dgx-b200": "b200", "dgx-h100": "h100", "gb300-nvl72": "gb300", "dgx-b300": "b300"}
PREC = {"bf16": ["BF16"], "fp8": ["FP8_CS", "FP8_SC", "FP8_DS"], "mxfp8": ["FP8_MX"], "nvfp4": ["NVFP4"]}
KEY = bridge_recipes.KEY
COLS = KEY + ["recipe", "moe_dispatcher", "overlap_ep", "cuda_graphs", "recompute", "recompute_detail",
              "moe_capacity", "moe_pad", "megatron_fsdp", "cpu_offload_layers", "bf16_layers", "bf16_layers_source",
              "pp_split", "mtp_layers", "overlap_tp", "overlap_tp_recipe", "moe_router_fusion",
              "moe_router_fusion_recipe", "etp", "moe_fused_mlp", "fp8_attention", "fused_recipe", "fp8_output_proj",
              "fp8_output_proj_recipe", "extra", "unmatched"]
# the library recipe (path, function) the model's performance configs start from, for the models whose recipe runs
# MTP depths of its own (the perf scripts' <model>_llm_pretrain.py call it and do not touch MTP)
LIB_MTP = {"Nemotron-3-Super": ("src/megatron/bridge/recipes/nemotronh/nemotron_3_super.py",
                                "nemotron_3_super_pretrain_config")}
# 26.08 (v0.6.0): nemotron_3_super_pretrain_config -> _nemotron_3_super_pretrain_64gpu_h100_bf16_config ->
# nemotron_3_super_pretrain_16gpu_h100_bf16_config, which sets them
FLAT_MTP = {"Nemotron-3-Super-120B-A12B": ("2", "src/megatron/bridge/recipes/nemotronh/h100/nemotron_3_super.py:98,102")}
# ... and its TP overlap, per GPU: the flat Super recipes (perf_recipes/nemotronh/gb200/nemotronh.py:76-218,
# gb300/nemotronh.py:72-212) and that chain set no comm_overlap, _pretrain_common leaves it None
# (src/megatron/bridge/recipes/common.py:128)
FLAT_TP = {g: {"Nemotron-3-Super-120B-A12B": ("0", "src/megatron/bridge/perf_recipes/nemotronh/%s/nemotronh.py:%s and "
                                                   "src/megatron/bridge/recipes/nemotronh/h100/nemotron_3_super.py:32-254 "
                                                   "set no comm_overlap; src/megatron/bridge/recipes/common.py:128 "
                                                   "comm_overlap=None" % (g, lines))}
           for g, lines in (("gb200", "76-218"), ("gb300", "72-212"))}
# the perf scripts that start from LIB_MTP's recipes (none sets a comm_overlap at 26.04 .. 26.06.01)
PERF_SCRIPT = {"Nemotron-3-Super": "scripts/performance/configs/nemotronh/nemotron_3_llm_pretrain.py"}
TP_SET = re.compile(r"tp_comm_overlap\s*=\s*(True|False)")
# the performance scripts' per-GPU functions (releases 25.11 .. 26.06.01; <recipe>_pretrain_config_<gpu>, at 25.11
# <recipe>_<gpu>_config, under configs/<family>/ or, at 25.11, configs/<family without the version>/) and what they
# set on the TP overlap, in order, the last assignment the row's precision and TP reach deciding:
# `CommOverlapConfig(tp_comm_overlap=True|False)` (Qwen3: v0.3.0 scripts/performance/configs/qwen/
# qwen3_llm_pretrain.py:184 turns it off for the 235B on H100, on elsewhere), `CommOverlapConfig(tp_comm_overlap=
# bool(...tensor_model_parallel_size > 1))` and `cfg.comm_overlap.tp_comm_overlap = False if precision == "nvfp4" else
# cfg.comm_overlap.tp_comm_overlap` (Llama: v0.3.0 configs/llama/llama3_llm_pretrain.py:113 for the 70B on GB200;
# the other precisions keep what came before, for Llama the library recipe's setting, not read)
PERF_TP = {"Llama-3-8B": (("llama/llama3", "llama3/llama3"), "llama3_8b"),
           "Llama-3-70B": (("llama/llama3", "llama3/llama3"), "llama3_70b"),
           "Llama-3.1-405B": (("llama/llama31", "llama31/llama31"), "llama31_405b"),
           "Qwen3-30B-A3B": (("qwen/qwen3", "qwen3/qwen3"), "qwen3_30b_a3b"),
           "Qwen3-235B-A22B": (("qwen/qwen3", "qwen3/qwen3"), "qwen3_235b_a22b")}
# the script's --compute_dtype names of the rows' precisions (scripts/performance/argument_parser.py choices)
SCRIPT_PREC = {"bf16": "bf16", "fp8": "fp8_cs", "mxfp8": "fp8_mx", "nvfp4": "nvfp4"}
TP_COND = re.compile(r"tp_comm_overlap\s*=\s*(True|False)\s+if\s+precision\s*==\s*\"([a-z0-9_]+)\"")
TP_CFG = re.compile(r"CommOverlapConfig\(\s*tp_comm_overlap\s*=\s*(True|False|bool\([a-z_.]*tensor_model_parallel_size"
                    r"\s*>\s*1\))")
# moe_router_fusion (Megatron-Core: the router's top-k and aux loss as Transformer Engine's fused kernels, default
# False): the MoE models' performance scripts set it in their set_<model>_common_configs, which every GPU function of
# the script applies (releases 25.11 .. 26.06.01; v0.4.0 scripts/performance/configs/deepseek/deepseek_llm_pretrain.py:38,
# configs/qwen/qwen3_llm_pretrain.py:36), 25.09 in the model's YAML (ConfigContainer.model.moe_router_fusion,
# v0.1.0rc3 configs/deepseek/deepseek_v3_llm_pretrain.yaml:22), 26.08 in the flat recipe's function: the scripts per
# model (25.11's under configs/<family without the version>/)
FUSION_SCRIPTS = {"DeepSeek-V3": ("deepseek/deepseek",), "Qwen3": ("qwen/qwen3", "qwen3/qwen3"),
                  "GPT-OSS": ("gpt_oss/gpt_oss",), "Kimi-K2": ("kimi/kimi",), "Nemotron-3": ("nemotronh/nemotron_3",)}
FUSION_SET = re.compile(r"^\s+cfg\.model\.moe_router_fusion\s*=\s*(True|False)")
MTP_SET = re.compile(r"^\s+cfg\.model\.mtp_num_layers\s*=\s*([0-9]+)")
MTP_REPEAT = re.compile(r"^\s+cfg\.model\.mtp_use_repeated_layer\s*=\s*True")
P6 = "src/megatron/bridge/perf_recipes/"
# Megatron-Core's account_for_embedding_in_pipeline_split / account_for_loss_in_pipeline_split as the model's library
# recipe sets them (the performance scripts start from it and set no pipeline layout of their own for these models),
# read by hand per release: model -> release -> path:lines (recipe's lines setting both True)
RB = "src/megatron/bridge/recipes/"
PP_SPLIT = {
    "Qwen3-235B-A22B": {"25.09": RB + "qwen/qwen3_235b_a22b.py:70-71", "25.11": RB + "qwen/qwen3_moe.py:160-161",
                        "26.02": RB + "qwen/qwen3_moe.py:160-161", "26.02.01": RB + "qwen/qwen3_moe.py:166-167",
                        "26.04": RB + "qwen/qwen3_moe.py:166-167", "26.04.01": RB + "qwen/qwen3_moe.py:166-167",
                        "26.06": RB + "qwen/qwen3_moe.py:166-167", "26.06.01": RB + "qwen/qwen3_moe.py:166-167",
                        "26.08": RB + "qwen/h100/qwen3_moe.py:261-262"},
    "Llama-3.1-405B": {"25.09": RB + "llama/llama31_405b.py:97-98", "25.11": RB + "llama/llama3.py:413-414",
                       "26.02": RB + "llama/llama3.py:413-414", "26.02.01": RB + "llama/llama3.py:1132-1133",
                       "26.04": RB + "llama/llama3.py:1132-1133", "26.04.01": RB + "llama/llama3.py:1132-1133",
                       "26.06": RB + "llama/llama3.py:1146-1147"},
}
# 25.09 (v0.1.0rc3): run_script.py builds the MoE models' recipes in one branch per model (model_name, model_size)
# and either passes comm_overlap_config=CommOverlapConfig(tp_comm_overlap=True) (Qwen3: :97-107) or passes none, the
# recipe function then setting its own (DeepSeek-V3: run_script.py:65-73, recipes/deepseek/deepseek_v3.py:314-316
# CommOverlapConfig(tp_comm_overlap=False)): read per model, the recipe module run_script.py imports
RUN25 = {"DeepSeek-V3": ("deepseek", "v3", RB + "deepseek/deepseek_v3.py"),
         "Qwen3-30B-A3B": ("qwen3", "30b_a3b", RB + "qwen/qwen3_30b_a3b.py"),
         "Qwen3-235B-A22B": ("qwen3", "235b_a22b", RB + "qwen/qwen3_235b_a22b.py")}


# DeepSeek-V3: the library recipe trains one MTP module (mtp_num_layers 1) and its performance scripts take the
# workload config's pp_layout or else set_deepseek_v3_pipeline_model_parallel_layout's map for (PP, VP), whose (16, 1),
# (8, 2) and (4, 4) entries are all "E + 4 layers | 14 x 4 layers | 1 layer + MTP + loss" and whose (8, 1) and (4, 2)
# entries, the two lines above them in every release, are both "E + 8 layers | 6 x 8 layers | 5 layers + MTP + loss";
# read by hand per release: release -> (the mtp_num_layers line, the (16, 1)..(4, 4) lines, the (8, 1)..(4, 2) lines)
DS = "DeepSeek-V3 671B-A37B"
DS_MTP = {"26.02": (RB + "deepseek/deepseek_v3.py:198,244", RB + "deepseek/deepseek_v3.py:54-56",
                    RB + "deepseek/deepseek_v3.py:52-53"),
          "26.02.01": (RB + "deepseek/deepseek_v3.py:84", RB + "deepseek/deepseek_v3.py:42-44",
                       RB + "deepseek/deepseek_v3.py:40-41"),
          "26.04": (RB + "deepseek/deepseek_v3.py:84", RB + "deepseek/deepseek_v3.py:42-44",
                    RB + "deepseek/deepseek_v3.py:40-41"),
          "26.04.01": (RB + "deepseek/deepseek_v3.py:84", RB + "deepseek/deepseek_v3.py:42-44",
                       RB + "deepseek/deepseek_v3.py:40-41"),
          "26.06": (RB + "deepseek/deepseek_v3.py:122", RB + "deepseek/deepseek_v3.py:73-75",
                    RB + "deepseek/deepseek_v3.py:71-72"),
          "26.06.01": (RB + "deepseek/deepseek_v3.py:122", RB + "deepseek/deepseek_v3.py:73-75",
                       RB + "deepseek/deepseek_v3.py:71-72"),
          "26.08": (RB + "deepseek/h100/deepseek_v3.py:123", RB + "deepseek/h100/deepseek_v3.py:74-76",
                    RB + "deepseek/h100/deepseek_v3.py:72-73")}
# (PP, VP) -> (layout, which of DS_MTP's citations holds its map entry)
DS_MAP = {("16", "1"): ("Et*4|(t*4|)*14tmL", 1), ("8", "2"): ("Et*4|(t*4|)*14tmL", 1),
          ("4", "4"): ("Et*4|(t*4|)*14tmL", 1), ("8", "1"): ("Et*8|(t*8|)*6t*5mL", 2),
          ("4", "2"): ("Et*8|(t*8|)*6t*5mL", 2)}


def pp_split(repo, rel, row, f):
    """The pipeline split of the row's model in its release: "embedding+loss <citation>" (the split accounting),
    "layout <layout> <citation>" (DeepSeek-V3's explicit layout, matched recipes only) or ""."""
    src = PP_SPLIT.get(row["model"], {}).get(rel)
    if src:
        return "embedding+loss %s@%s:%s" % (MB, repo.short(TAGS[rel]), src)
    if row["model"] != DS or rel not in DS_MTP or not f.get("recipe"):
        return ""
    if f.get("extra", "").startswith("pp_layout "):
        return "layout %s %s" % (f["extra"].split()[1], f["recipe"].split()[0])
    entry = DS_MAP.get((row["pp"], row["vpp"] or "1"))
    if entry:
        return "layout %s %s@%s:%s" % (entry[0], MB, repo.short(TAGS[rel]), DS_MTP[rel][entry[1]])
    return ""


def mtp_layers(repo, rel, row, f):
    """The MTP modules the row's recipe trains: "1 <citation>" (DeepSeek-V3, matched recipes) or ""."""
    if row["model"] != DS or rel not in DS_MTP or not f.get("recipe"):
        return ""
    return "1 %s@%s:%s" % (MB, repo.short(TAGS[rel]), DS_MTP[rel][0])
# 26.08 (v0.6.0): GPU -> model -> (path:line function, dispatcher, A2A overlap, CUDA graphs, recompute, detail, where)
FLAT = {"gb200": {
    "DeepSeek-V3 671B-A37B": (P6 + "deepseek/gb200/deepseek_v3.py:134 deepseek_v3_pretrain_256gpu_gb200_fp8mx_config",
                              "hybridep", "1", "full_iteration", "selective", "modules mla_up_proj",
                              "_enable_deepseek_full_iteration_mxfp8 (" + P6 + "deepseek/common.py:56-77: hybridep, "
                              "full-iteration graph, overlap_moe_expert_parallel_comm)"),
    "GPT-OSS-120B": (P6 + "gpt_oss/gb200/gpt_oss.py:221 gpt_oss_120b_pretrain_64gpu_gb200_fp8mx_config", "hybridep",
                     "1", "full_iteration", "selective", "modules [] (granularity selective, nothing recomputed)",
                     "_apply_gpt_oss_120b_full_iter_fp8mx_configs (" + P6 + "gpt_oss/common.py:25-49)"),
    "Qwen3-30B-A3B": (P6 + "qwen/gb200/qwen3_moe.py:302 qwen3_30b_a3b_pretrain_8gpu_gb200_fp8mx_config", "hybridep",
                      "1", "full_iteration", "none", "",
                      "_enable_hybridep_full_iteration_mxfp8 (" + P6 + "qwen/common.py:36-60)"),
    "Qwen3-235B-A22B": (P6 + "qwen/gb200/qwen3_moe.py:462 qwen3_235b_a22b_pretrain_256gpu_gb200_fp8mx_config",
                        "hybridep", "1", "full_iteration", "none", "",
                        "_enable_hybridep_full_iteration_mxfp8 (" + P6 + "qwen/common.py:36-60)"),
    "Nemotron-3.5-Lightning-30B-A3B": (P6 + "nemotronh/gb200/nemotronh.py:492 "
                                       "nemotron_3_5_lightning_pretrain_8gpu_gb200_fp8mx_config", "hybridep", "0",
                                       "transformer_engine:attn+mamba+moe_router+moe_preprocess", "none", "",
                                       "= nemotron_3_nano_pretrain_8gpu_gb200_fp8mx_config (" + P6 +
                                       "nemotronh/gb200/nemotronh.py:357) + MTP 2 layers"),
    "Nemotron-3-Super-120B-A12B mxfp8": (P6 + "nemotronh/gb200/nemotronh.py:122 "
                                         "nemotron_3_super_pretrain_64gpu_gb200_fp8mx_config", "hybridep", "0",
                                         "transformer_engine:attn+mamba+moe_router+moe_preprocess", "none", "", ""),
    "Nemotron-3-Super-120B-A12B nvfp4": (P6 + "nemotronh/gb200/nemotronh.py:169 "
                                         "nemotron_3_super_pretrain_64gpu_gb200_nvfp4_config", "hybridep", "0",
                                         "transformer_engine:attn+mamba+moe_router+moe_preprocess", "none", "", ""),
}, "gb300": {
    # the GB300 functions differ from the GB200 ones (diffed function by function) in their parallel layout and
    # micro batch, DeepSeek-V3's recompute_modules [] and explicit layout, GPT-OSS's recompute (none set: the library
    # recipe's, recipes/gpt_oss/gpt_oss.py:57 -> recipes/gpt_oss/h100/gpt_oss.py:236 recompute_granularity None) and
    # Nemotron-3 Super's TP 1
    "DeepSeek-V3 671B-A37B": (P6 + "deepseek/gb300/deepseek_v3.py:133 deepseek_v3_pretrain_256gpu_gb300_fp8mx_config",
                              "hybridep", "1", "full_iteration", "selective",
                              "modules [] (granularity selective, nothing recomputed)",
                              "pp_layout Et*4|(t*4|)*14tmL (line 154, set_deepseek_v3_pipeline_model_parallel_layout); "
                              "_enable_deepseek_full_iteration_mxfp8 (" + P6 + "deepseek/common.py:56-77: hybridep, "
                              "full-iteration graph, overlap_moe_expert_parallel_comm)"),
    "GPT-OSS-120B": (P6 + "gpt_oss/gb300/gpt_oss.py:216 gpt_oss_120b_pretrain_64gpu_gb300_fp8mx_config", "hybridep",
                     "1", "full_iteration", "none", "",
                     "_apply_gpt_oss_120b_full_iter_fp8mx_configs (" + P6 + "gpt_oss/common.py:25-49); no recompute "
                     "set: the library recipe's (src/megatron/bridge/recipes/gpt_oss/h100/gpt_oss.py:236)"),
    "Qwen3-30B-A3B": (P6 + "qwen/gb300/qwen3_moe.py:301 qwen3_30b_a3b_pretrain_8gpu_gb300_fp8mx_config", "hybridep",
                      "1", "full_iteration", "none", "",
                      "_enable_hybridep_full_iteration_mxfp8 (" + P6 + "qwen/common.py:36-60)"),
    "Qwen3-235B-A22B": (P6 + "qwen/gb300/qwen3_moe.py:461 qwen3_235b_a22b_pretrain_256gpu_gb300_fp8mx_config",
                        "hybridep", "1", "full_iteration", "none", "",
                        "_enable_hybridep_full_iteration_mxfp8 (" + P6 + "qwen/common.py:36-60)"),
    "Nemotron-3-Nano-30B-A3B": (P6 + "nemotronh/gb300/nemotronh.py:362 nemotron_3_nano_pretrain_8gpu_gb300_fp8mx_config",
                                "hybridep", "0", "transformer_engine:attn+mamba+moe_router+moe_preprocess", "none", "",
                                "_apply_nemotron_3_nano_perf_defaults (" + P6 + "nemotronh/common.py:46-49: "
                                "recompute none)"),
    "Nemotron-3-Super-120B-A12B mxfp8": (P6 + "nemotronh/gb300/nemotronh.py:118 "
                                         "nemotron_3_super_pretrain_64gpu_gb300_fp8mx_config", "hybridep", "0",
                                         "transformer_engine:attn+mamba+moe_router+moe_preprocess", "none", "", ""),
    "Nemotron-3-Super-120B-A12B nvfp4": (P6 + "nemotronh/gb300/nemotronh.py:165 "
                                         "nemotron_3_super_pretrain_64gpu_gb300_nvfp4_config", "hybridep", "0",
                                         "transformer_engine:attn+mamba+moe_router+moe_preprocess", "none", "", ""),
}}


# 26.08: the flat recipes' expert_tensor_parallel_size for FLAT's functions with TP > 1, read by hand: GPU -> FLAT key ->
# the line in the function's file
FLAT_ETP = {"gb200": {"Nemotron-3-Super-120B-A12B mxfp8": ("1", 132), "Nemotron-3-Super-120B-A12B nvfp4": ("1", 179)},
            "gb300": {"Nemotron-3-Super-120B-A12B mxfp8": ("1", 128), "Nemotron-3-Super-120B-A12B nvfp4": ("1", 175)}}

# 26.08: the flat recipes' fused grouped MLP and FP8 attention, read by hand per GPU and FLAT key: (moe_fused_mlp,
# fp8_attention, the lines). Each function calls _benchmark_common (perf_recipes/_common.py:65-66 turns the op fuser
# off) and then its model's full-iteration MXFP8 helper, which turns it back on, and sets
# NVTE_CUTEDSL_FUSED_GROUPED_MLP 1 in its env_vars: DeepSeek-V3 deepseek/common.py:70 (use_transformer_engine_op_fuser),
# :75 with the fp8_dot_product_attention argument (default False, :52; GB300 passes True); GPT-OSS gpt_oss/common.py:42,
# :44; Qwen3 qwen/common.py:51, :55. The Nemotron-3 functions of FLAT set neither. Lines: the function's def, its
# helper call and its env var under perf_recipes/<file>; then the helper's lines in the model's common.py.
FLAT_FUSED = {
    "gb200": {"DeepSeek-V3 671B-A37B": ("1", "0", "deepseek/gb200/deepseek_v3.py:134,160,180; deepseek/common.py:70,"
                                                  "52,75 (fp8_dot_product_attention not passed: False)"),
              "GPT-OSS-120B": ("1", "1", "gpt_oss/gb200/gpt_oss.py:221,239,261; gpt_oss/common.py:42,44"),
              "Qwen3-30B-A3B": ("1", "1", "qwen/gb200/qwen3_moe.py:302,328,348; qwen/common.py:51,55"),
              "Qwen3-235B-A22B": ("1", "1", "qwen/gb200/qwen3_moe.py:462,488,508; qwen/common.py:51,55")},
    "gb300": {"DeepSeek-V3 671B-A37B": ("1", "1", "deepseek/gb300/deepseek_v3.py:133,157,177; deepseek/common.py:70,"
                                                  "75 (fp8_dot_product_attention=True passed at line 157)"),
              "GPT-OSS-120B": ("1", "1", "gpt_oss/gb300/gpt_oss.py:216,231,251; gpt_oss/common.py:42,44"),
              "Qwen3-30B-A3B": ("1", "1", "qwen/gb300/qwen3_moe.py:301,327,347; qwen/common.py:51,55"),
              "Qwen3-235B-A22B": ("1", "1", "qwen/gb300/qwen3_moe.py:461,487,507; qwen/common.py:51,55")}}

# 26.08: the flat MXFP8 recipes that turn on fp8_output_proj, read by hand per GPU and model: the function's call of
# its model's full-iteration MXFP8 helper and the helper's line (DeepSeek-V3: the fp8_output_proj=True argument;
# GPT-OSS: the helper sets it). Qwen3 and Nemotron-3 functions do not set it (qwen/common.py has no such line).
FLAT_OUTPUT_PROJ = {
    "gb200": {"DeepSeek-V3 671B-A37B": "deepseek/gb200/deepseek_v3.py:160; deepseek/common.py:71",
              "GPT-OSS-120B": "gpt_oss/gb200/gpt_oss.py:239; gpt_oss/common.py:28"},
    "gb300": {"DeepSeek-V3 671B-A37B": "deepseek/gb300/deepseek_v3.py:157; deepseek/common.py:71",
              "GPT-OSS-120B": "gpt_oss/gb300/gpt_oss.py:231; gpt_oss/common.py:28"}}


class Repo:
    def __init__(self, path):
        self.path = path
        self.sha, self.cfgs, self.greps = {}, {}, {}

    def git(self, *args):
        return subprocess.run(["git", "-C", self.path] + list(args), capture_output=True, text=True).stdout

    def short(self, ref):
        if ref not in self.sha:
            self.sha[ref] = self.git("rev-parse", "--short=12", ref + "^{commit}").strip()
        return self.sha[ref]

    def line_of(self, ref, pattern, path):
        k = (ref, pattern, path)
        if k not in self.greps:
            out = self.git("grep", "-n", "-E", pattern, ref, "--", path).splitlines()
            self.greps[k] = out[0].split(":")[1:3] if out else ["?", "?"]
        return self.greps[k]

    def configs(self, ref):
        """Every WorkloadBaseConfig instance of the tag's workload_base_configs modules, by name."""
        if ref in self.cfgs:
            return self.cfgs[ref]
        tmp = tempfile.mkdtemp()
        try:
            arch = subprocess.run(["git", "-C", self.path, "archive", ref, "scripts/performance"],
                                  capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=arch, check=True)
            root = os.path.join(tmp, "scripts", "performance")
            sys.path.insert(0, root)
            found = {}
            for dp, _, fn in sorted(os.walk(os.path.join(root, "configs"))):
                for f in sorted(fn):
                    if "workload_base_configs" not in f or not f.endswith(".py"):
                        continue
                    mod = os.path.relpath(os.path.join(dp, f), root)[:-3].replace("/", ".")
                    for k, v in vars(importlib.import_module(mod)).items():
                        if dataclasses.is_dataclass(v) and not isinstance(v, type):
                            found[k] = dataclasses.asdict(v)
            for m in [m for m in sys.modules if m == "configs" or m.startswith(("configs.", "utils"))]:
                del sys.modules[m]
            sys.path.remove(root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.cfgs[ref] = found
        return found


def perf_tp_overlap(repo, rel, row):
    """PERF_TP's models: the TP overlap the GPU's function of the release's performance script leaves for the row's
    precision and TP (the last assignment that applies), or {} where it says nothing."""
    if row["model"] not in PERF_TP or rel in ("25.09", "26.08") or row["system"] not in GPU:
        return {}
    paths, recipe = PERF_TP[row["model"]]
    fns = ["%s_pretrain_config_%s(" % (recipe, GPU[row["system"]]), "%s_%s_config(" % (recipe, GPU[row["system"]])]
    for path in ["scripts/performance/configs/%s_llm_pretrain.py" % p for p in paths]:
        lines = repo.git("show", TAGS[rel] + ":" + path).splitlines()
        start = [i for i, s in enumerate(lines) if any(s.startswith("def " + fn) for fn in fns)]
        if start:
            break
    else:
        return {}
    val = None
    for i in range(start[0] + 1, len(lines)):
        if lines[i].startswith("def "):
            break
        c, m = TP_COND.search(lines[i]), TP_CFG.search(lines[i])
        if c and c.group(2) == SCRIPT_PREC.get(row["precision"]):
            val = (c.group(1) == "True", i)
        elif m:
            val = (m.group(1) == "True" or (m.group(1).startswith("bool") and num(row["tp"]) > 1), i)
    if val is None:
        return {}
    fn = fns[0][:-1] if lines[start[0]].startswith("def " + fns[0]) else fns[1][:-1]
    return dict(overlap_tp="1" if val[0] else "0", overlap_tp_recipe="%s@%s:%s:%d %s" % (
        MB, repo.short(TAGS[rel]), path, val[1] + 1, fn))


def run_script_tp_overlap(repo, row):
    """25.09: the TP overlap run_script.py's branch for the row's model (RUN25) gives its recipe: the
    comm_overlap_config=CommOverlapConfig(tp_comm_overlap=...) it passes, else what the recipe function sets when it
    gets none (`if cfg.comm_overlap is None:` followed by CommOverlapConfig(tp_comm_overlap=...)); {} otherwise."""
    m = [(k, v) for k, v in RUN25.items() if row["model"].startswith(k)]
    if not m:
        return {}
    ref, (name, size, path) = TAGS["25.09"], m[0][1]
    script = "scripts/performance/run_script.py"
    lines = repo.git("show", ref + ":" + script).splitlines()
    head = 'args.model_name == "%s" and args.model_size == "%s"' % (name, size)
    start = [i for i, s in enumerate(lines) if head in s]
    if not start:
        return {}
    for i in range(start[0] + 1, len(lines)):
        if re.match(r"^\s*(elif|else)\b", lines[i]) and len(lines[i]) - len(lines[i].lstrip()) <= \
                len(lines[start[0]]) - len(lines[start[0]].lstrip()):
            break
        c = TP_CFG.search(lines[i])
        if c and "comm_overlap_config" in lines[i]:
            return dict(overlap_tp="1" if c.group(1) == "True" else "0", overlap_tp_recipe="%s@%s:%s:%d" % (
                MB, repo.short(ref), script, i + 1))
    rec = repo.git("show", ref + ":" + path).splitlines()
    for i, s in enumerate(rec):
        if "cfg.comm_overlap is None" in s:
            for j in range(i + 1, min(i + 4, len(rec))):
                c = TP_SET.search(rec[j])
                if c:
                    return dict(overlap_tp="1" if c.group(1) == "True" else "0",
                                overlap_tp_recipe="%s@%s:%s:%d-%d (%s:%d passes no comm_overlap_config)" % (
                                    MB, repo.short(ref), path, i + 1, j + 1, script, start[0] + 1))
    return {}


def tp_overlap_facts(repo, rel, row):
    """The recipe's TP communication overlap: (overlap_tp, citation), or {} where not read (LIB_MTP's models and the
    precision PERF_TP's scripts name)."""
    if rel == "25.09":
        return run_script_tp_overlap(repo, row)
    if row["model"] in PERF_TP:
        return perf_tp_overlap(repo, rel, row)
    if rel == "26.08":
        m = FLAT_TP.get(GPU[row["system"]], {}).get(row["model"])
        return dict(overlap_tp=m[0], overlap_tp_recipe="%s@%s:%s" % (MB, repo.short(TAGS[rel]), m[1])) if m else {}
    lib = [(k, v) for k, v in LIB_MTP.items() if row["model"].startswith(k)]
    if not lib or rel == "25.09":
        return {}
    ref, (name, (path, fn)) = TAGS[rel], lib[0]
    lines = repo.git("show", ref + ":" + path).splitlines()
    start = [i for i, s in enumerate(lines) if s.startswith("def " + fn + "(")]
    if not start or "comm_overlap" in repo.git("show", ref + ":" + PERF_SCRIPT[name]):
        return {}
    for i in range(start[0] + 1, len(lines)):
        if lines[i].startswith("def "):
            break
        if "comm_overlap" in lines[i]:
            m = TP_SET.search(lines[i])
            if not m:
                return {}
            return dict(overlap_tp="1" if m.group(1) == "True" else "0", overlap_tp_recipe="%s@%s:%s:%d %s" % (
                MB, repo.short(ref), path, i + 1, fn))
    line = repo.line_of(ref, r"comm_overlap=None", "src/megatron/bridge/recipes/common.py")[0]
    return dict(overlap_tp="0", overlap_tp_recipe="%s@%s:%s %s and %s set no comm_overlap; "
                "src/megatron/bridge/recipes/common.py:%s _pretrain_common comm_overlap=None" % (
                    MB, repo.short(ref), path, fn, PERF_SCRIPT[name], line))


def router_fusion_facts(repo, rel, row):
    """The recipe's moe_router_fusion: (moe_router_fusion "0"/"1", citation), or {} where it sets none."""
    ref = TAGS[rel]
    if rel == "25.09":
        f = [p for m, _, p in MODELS if row["model"].startswith(m)]
        if not f or not f[0]:
            return {}
        path = "scripts/performance/configs/%s_llm_pretrain.yaml" % f[0]
        text = repo.git("show", ref + ":" + path)
        v = (yaml.safe_load(text).get("ConfigContainer") or {}).get("model", {}).get("moe_router_fusion")
        if v is None:
            return {}
        line = [i + 1 for i, t in enumerate(text.splitlines()) if t.strip().startswith("moe_router_fusion:")][0]
        return dict(moe_router_fusion="1" if v else "0",
                    moe_router_fusion_recipe="%s@%s:%s:%d" % (MB, repo.short(ref), path, line))
    if rel == "26.08":
        m = FLAT.get(GPU.get(row["system"], ""), {}).get(row["model"]) or \
            FLAT.get(GPU.get(row["system"], ""), {}).get(row["model"] + " " + row["precision"])
        if not m:
            return {}
        path, at = m[0].split(" ")[0].split(":")
        lines, start = repo.git("show", ref + ":" + path).splitlines(), int(at) - 1
        name = lines[start][4:].split("(")[0]
        # and the helpers it calls with the config (one level: _deepseek_v3_common in perf_recipes/deepseek/common.py)
        common = os.path.dirname(os.path.dirname(path)) + "/common.py"
        for i in range(start + 1, len(lines)):
            if lines[i].startswith("def "):
                break
            c = re.match(r"^\s+(_\w+)\(cfg\b", lines[i])
            for hp in ([path, common] if c else []):
                hl = repo.git("show", ref + ":" + hp).splitlines()
                at2 = [j for j, t in enumerate(hl) if t.startswith("def %s(" % c.group(1))]
                for j in range(at2[0] + 1 if at2 else len(hl), len(hl)):
                    if hl[j].startswith("def "):
                        break
                    f = FUSION_SET.match(hl[j])
                    if f:
                        return dict(moe_router_fusion="1" if f.group(1) == "True" else "0",
                                    moe_router_fusion_recipe="%s@%s:%s:%d %s via %s" % (
                                        MB, repo.short(ref), hp, j + 1, name, c.group(1)))
    else:
        paths = [v for k, v in FUSION_SCRIPTS.items() if row["model"].startswith(k)]
        lines, path, start = [], None, None
        for p in ["scripts/performance/configs/%s_llm_pretrain.py" % q for q in (paths[0] if paths else ())]:
            lines = repo.git("show", ref + ":" + p).splitlines()
            hit = [i for i, t in enumerate(lines) if re.match(r"def set_\w+_common_configs\(", t)]
            if hit:
                path, start, name = p, hit[0], lines[hit[0]][4:].split("(")[0]
                break
        if path is None:
            return {}
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("def "):
            break
        m = FUSION_SET.match(lines[i])
        if m:
            return dict(moe_router_fusion="1" if m.group(1) == "True" else "0",
                        moe_router_fusion_recipe="%s@%s:%s:%d %s" % (MB, repo.short(ref), path, i + 1, name))
    return {}


def mtp_depths(repo, rel, row):
    """The MTP depths a LIB_MTP model's recipe runs with mtp_use_repeated_layer: "N <citation>" or ""."""
    if rel == "26.08":
        m = FLAT_MTP.get(row["model"])
        return "%s %s@%s:%s" % (m[0], MB, repo.short(TAGS[rel]), m[1]) if m else ""
    lib = [v for k, v in LIB_MTP.items() if row["model"].startswith(k)]
    if not lib or rel == "25.09":
        return ""
    ref, (path, fn) = TAGS[rel], lib[0]
    lines = repo.git("show", ref + ":" + path).splitlines()
    start = [i for i, s in enumerate(lines) if s.startswith("def " + fn + "(")]
    if not start:
        return ""
    depth, at, rep = None, None, None
    for i in range(start[0] + 1, len(lines)):
        if lines[i].startswith("def "):
            break
        m = MTP_SET.match(lines[i])
        if m:
            depth, at = m.group(1), i + 1
        if MTP_REPEAT.match(lines[i]):
            rep = i + 1
    if depth is None or rep is None:
        return ""
    return "%s %s@%s:%s:%d,%d" % (depth, MB, repo.short(ref), path, at, rep)

def num(x, dflt=1):
    return dflt if x in ("", None, "None") else int(x)


def layout(row):
    return dict(num_gpus=num(row["n_gpus"]), tensor_model_parallel_size=num(row["tp"]),
                pipeline_model_parallel_size=num(row["pp"]), virtual_pipeline_model_parallel_size=num(row["vpp"]),
                expert_model_parallel_size=num(row["ep"]), context_parallel_size=num(row["cp"]),
                micro_batch_size=num(row["micro_batch"]), global_batch_size=num(row["global_batch"]))


def cg_name(impl, scope):
    sc = scope if isinstance(scope, list) else ([scope] if scope else [])
    if impl in (None, "none"):
        return "none"
    if impl == "full_iteration" or "full_iteration" in sc:
        return "full_iteration"
    if impl == "local" and not sc:
        return "local"
    return impl + (":" + "+".join(sc) if sc else "")


def workload_facts(repo, rel, row, moe):
    ref = TAGS[rel]
    prefix = [p for m, p, _ in MODELS if row["model"].startswith(m)]
    task = "LORA" if "(LoRA)" in row["model"] else "SFT" if "(SFT)" in row["model"] else None
    g = GPU[row["system"]].upper()
    want, best = layout(row), None
    for name, v in repo.configs(ref).items():
        if not prefix or not re.search(r"(^|_)" + prefix[0] + "_", name) or not re.search(r"(^|_)" + g + r"(_|$)", name):
            continue
        if (task and task not in name) or (not task and ("SFT" in name or "LORA" in name)):
            continue
        if not any(re.search("_" + p + r"(_|$)", name) for p in PREC[row["precision"]]):
            continue
        miss = [k for k in want if want[k] != num(v.get(k))]
        if best is None or len(miss) < len(best[2]):
            best = (name, v, miss)
    if best is None:
        return dict(unmatched="no workload config of this model/system/precision at " + ref)
    name, v, miss = best
    if miss:
        return dict(unmatched="nearest %s differs in %s" % (name, "/".join(miss)))
    path, line = repo.line_of(ref, "^" + name + r"\s*=", "scripts/performance/configs")
    mods, nl = v.get("recompute_modules"), v.get("recompute_num_layers")
    selective_model = row["model"].startswith(("DeepSeek", "Kimi"))
    if nl:
        rc, rd = "", "full recompute (block) of %s layers per stage" % nl
    elif mods:
        rc, rd = "selective", "modules " + ",".join(mods)
    elif mods == []:
        rc, rd = "selective", "modules [] (granularity selective, nothing recomputed)"
    elif selective_model:
        rc, rd = "selective", "modules core_attn (Megatron default; the pretrain script sets granularity selective)"
    else:
        rc, rd = "none", ""
    return dict(recipe="%s@%s:%s:%s %s" % (MB, repo.short(ref), path, line, name),
                moe_dispatcher=(v.get("moe_flex_dispatcher_backend") or "alltoall") if moe else "",
                overlap_ep=("1" if v.get("moe_a2a_overlap") else "0") if moe else "",
                cuda_graphs=cg_name(v.get("cuda_graph_impl"), v.get("cuda_graph_scope")), recompute=rc,
                recompute_detail=rd, megatron_fsdp="1" if v.get("use_megatron_fsdp") else "0",
                cpu_offload_layers=str(v.get("cpu_offloading_num_layers") or ""),
                etp=str(v.get("expert_tensor_parallel_size") or "") if moe else "",
                extra=("pp_layout " + v["pp_layout"]) if v.get("pp_layout") else "",
                **(fused_facts(repo, ref, path, name, v) if moe else {}))


def fused_facts(repo, ref, path, name, v):
    """The workload config's cutedsl_fused_grouped_mlp / fp8_dot_product_attention (moe_fused_mlp "1" where True;
    fp8_attention "1"/"0" where not None), cited by the line that sets each: in the config's replace() block, else in
    the config it replaces, in the same file."""
    fm, fa = v.get("cutedsl_fused_grouped_mlp"), v.get("fp8_dot_product_attention")
    out = dict(moe_fused_mlp="1" if fm else "", fp8_attention="" if fa is None else "1" if fa else "0")
    if not fm and fa is None:
        return {}
    lines, cites = repo.git("show", ref + ":" + path).splitlines(), []
    for field, want in (("cutedsl_fused_grouped_mlp", fm), ("fp8_dot_product_attention", fa)):
        if want is None or (not want and field == "cutedsl_fused_grouped_mlp"):
            continue
        at, cfg = None, name
        while at is None and cfg:
            start = [i for i, t in enumerate(lines) if re.match(cfg + r"\s*=", t)]
            if not start:
                break
            nxt, cfg = None, None
            for i in range(start[0], len(lines)):
                if i > start[0] and (lines[i].startswith(")") or re.match(r"^[A-Z_0-9]+\s*=", lines[i])):
                    break
                m = re.match(r"^\s*" + field + r"\s*=", lines[i])
                if m:
                    at = i + 1
                    break
                r = re.search(r"(?:replace\(\s*|=\s*|^\s+)([A-Z][A-Z_0-9]+)\s*(?:,|$)", lines[i]) if nxt is None else None
                if r and r.group(1) != name:
                    nxt = r.group(1)
            cfg = nxt if at is None else None
        cites.append("%s %s" % (field, "line %d" % at if at else "(not found)"))
    out["fused_recipe"] = "%s@%s:%s %s" % (MB, repo.short(ref), path, ", ".join(cites))
    return out


def yaml_facts(repo, row, moe, unstated):
    ref = TAGS["25.09"]
    f = [p for m, _, p in MODELS if row["model"].startswith(m)][0]
    path = "scripts/performance/configs/%s_llm_pretrain.yaml" % f
    text = repo.git("show", ref + ":" + path)
    g = GPU[row["system"]]
    mat = yaml.safe_load(text)["perf_matrix"][g]["num_gpus_" + row["n_gpus"]]
    prec = "fp8_cs" if unstated else {"mxfp8": "fp8_mx", "fp8": "fp8_ss", "bf16": "bf16"}[row["precision"]]
    d = dict(mat["common"])
    d.update(mat.get(prec) or {})
    have = dict(tp=d.get("tp") or 1, pp=d.get("pp") or 1, vpp=d.get("vp") or 1, ep=d.get("ep") or 1,
                cp=d.get("cp") or 1, mbs=d.get("mbs"), gbs=d.get("gbs"))
    want = dict(tp=num(row["tp"]), pp=num(row["pp"]), vpp=num(row["vpp"]), ep=num(row["ep"]), cp=num(row["cp"]),
                mbs=num(row["micro_batch"]), gbs=num(row["global_batch"]))
    line = [i + 1 for i, s in enumerate(text.splitlines()) if s.strip() == g + ":"][0]
    dsv3, h100 = row["model"].startswith("DeepSeek"), g == "h100"
    block = "fp8_cs (fp8_ss: the same block settings)" if dsv3 and h100 and prec in ("fp8_cs", "fp8_ss") else prec
    cite = "%s@%s:%s:%d perf_matrix.%s.num_gpus_%s.%s" % (MB, repo.short(ref), path, line, g, row["n_gpus"], block)
    # token drop (25.09 run_script.py:57-78 DeepSeek-V3 off H100, :102 / :109 Qwen3, whatever the layout: a row
    # whose layout no perf_matrix block has keeps it): apply_moe_token_drop's defaults, capacity factor 1.0 padded
    # (src/megatron/bridge/training/utils/moe_token_drop.py:18-21, set at :54-55)
    drop = dict(moe_capacity="1.0", moe_pad="1") if moe and not (dsv3 and h100) else {}
    miss = [k for k in want if want[k] != have[k]]
    if miss:
        return dict(unmatched="nearest %s differs in %s" % (cite, "/".join(miss)), **drop)
    mods = "mla_up_proj,mlp" if h100 else "mla_up_proj,mlp,moe_act" if g == "gb200" else "core_attn (default)"
    return dict(recipe=cite, **drop, moe_dispatcher=("deepep" if dsv3 and h100 else "alltoall") if moe else "",
                overlap_ep=("1" if dsv3 and h100 else "0") if moe else "",
                cuda_graphs="local" if d.get("cuda_graphs") else "none",
                recompute="selective" if dsv3 else ("" if d.get("recompute_num_layers") else "none"),
                recompute_detail="modules " + mods if dsv3 else "",
                megatron_fsdp="1" if (d.get("use_megatron_fsdp") or d.get("fsdp")) else "0",
                cpu_offload_layers=str(d.get("cpu_offloading_num_layers") or ""),
                etp=str(d.get("etp") or "") if moe else "",
                extra=("run_script.py:55-95 (DeepSeek-V3: H100 DeepEP + overlap_moe_expert_parallel_comm, B200/GB200 "
                       "token-drop all-to-all)") if dsv3 else ("token-drop MoE (run_script.py:102,109 "
                                                               "apply_moe_token_drop)" if moe else ""))


def flat_facts(repo, row):
    flat = FLAT.get(GPU[row["system"]], {})
    key = row["model"] if row["model"] in flat else row["model"] + " " + row["precision"]
    m = flat.get(key)
    if not m:
        return None
    etp = FLAT_ETP.get(GPU[row["system"]], {}).get(key)
    return dict(recipe="%s@%s:%s" % (MB, repo.short(TAGS["26.08"]), m[0]), moe_dispatcher=m[1], overlap_ep=m[2],
                cuda_graphs=m[3], recompute=m[4], recompute_detail=m[5], megatron_fsdp="0", cpu_offload_layers="",
                etp=etp[0] if etp else "", **flat_fused(repo, row, key),
                extra="; ".join(x for x in (m[6], "expert_tensor_parallel_size at line %d" % etp[1] if etp else "") if x))


def flat_fused(repo, row, key):
    m = FLAT_FUSED.get(GPU[row["system"]], {}).get(key)
    if not m:
        return {}
    return dict(moe_fused_mlp=m[0], fp8_attention=m[1], fused_recipe="%s@%s:%s (%s)" % (
        MB, repo.short(TAGS["26.08"]), P6, m[2]))


def output_proj_facts(repo, rel, row):
    """fp8_output_proj of the row's MXFP8 recipe: the model's performance-script function for the row's GPU (25.11 ..
    26.06.01), FLAT_OUTPUT_PROJ for 26.08; {} where it is not set."""
    if row["precision"] != "mxfp8" or rel == "25.09":
        return {}
    if rel == "26.08":
        m = FLAT_OUTPUT_PROJ.get(GPU[row["system"]], {}).get(row["model"])
        return dict(fp8_output_proj="1", fp8_output_proj_recipe="%s@%s:%s" % (
            MB, repo.short(TAGS[rel]), "; ".join(P6 + x for x in m.split("; ")))) if m else {}
    prefix = [p for m, p, _ in MODELS if row["model"].startswith(m)]
    if not prefix:
        return {}
    ref, fn = TAGS[rel], "def %s_pretrain_config_%s(" % (prefix[0].lower(), GPU[row["system"]])
    for path in repo.git("ls-tree", "-r", "--name-only", ref, "scripts/performance/configs").splitlines():
        if not path.endswith("_llm_pretrain.py"):
            continue
        lines = repo.git("show", ref + ":" + path).splitlines()
        start = [i for i, s in enumerate(lines) if s.startswith(fn)]
        for i in range(start[0] + 1 if start else len(lines), len(lines)):
            if lines[i].startswith("def "):
                break
            if re.match(r"\s*cfg\.model\.fp8_output_proj\s*=\s*True", lines[i]):
                return dict(fp8_output_proj="1", fp8_output_proj_recipe="%s@%s:%s:%d-%d %s" % (
                    MB, repo.short(ref), path, i, i + 1, fn[4:-1]))
    return {}


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    repo = Repo(sys.argv[1])
    facts = {}
    with open(bridge_recipes.ROWS, newline="") as fh:
        shared = list(csv.DictReader(fh))
    for row in shared:
        bridge_recipes.strip_ours(row)
    # then the Blackwell Ultra rows of the same tables, as tools/bridge_ultra.py reads them before enriching them
    for row in shared + bridge_ultra.rows(repo.path)[1]:
        rel = bridge_recipes.release(row)
        unstated = rel == "25.09" and not row["precision"]
        if unstated:
            row["precision"] = "fp8"
        # MoE: the experts column, or routed experts in the model the row's model_config names (a hybrid such as
        # Nemotron-3 Nano / Super states its experts only there), read as tools/calibrate.py reads them
        moe = calibrate.is_moe(row)
        if rel == "25.09":
            f = yaml_facts(repo, row, moe, unstated)
        elif rel == "26.08":
            f = flat_facts(repo, row)
        else:
            f = workload_facts(repo, rel, row, moe)
        if f is not None:
            # the precision config is the release's for the model and precision, whatever the layout
            f["bf16_layers"], f["bf16_layers_source"] = bridge_precision.bf16_layers(repo.path, rel, row["model"],
                                                                                     row["precision"])
            f["pp_split"] = pp_split(repo, rel, row, f)
            f["mtp_layers"] = mtp_layers(repo, rel, row, f) or mtp_depths(repo, rel, row)
            f.update(tp_overlap_facts(repo, rel, row))
            f.update(output_proj_facts(repo, rel, row))
            if moe:
                f.update(router_fusion_facts(repo, rel, row))
            facts[tuple([rel] + [row[k] for k in KEY[1:]])] = f
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(COLS)
    for k in sorted(facts, key=lambda k: ([int(x) for x in k[0].split(".")], k[1], k[2], k[3])):
        w.writerow(list(k) + [facts[k].get(c, "") for c in COLS[len(KEY):]])
    if "--check" in sys.argv[2:]:
        with open(bridge_recipes.FACTS, newline="") as fh:
            same = fh.read() == out.getvalue()
        print("same" if same else "differs")
        return 0 if same else 1
    with open(bridge_recipes.FACTS, "w", newline="") as fh:
        fh.write(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
