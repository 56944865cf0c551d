#!/usr/bin/env python3
"""Enrich our copy of the Megatron-Core validation rows with what each release's performance recipe set.

Usage:  python3 tools/bridge_recipes.py [--check]      (from the repository root)

Inputs, both in data/validation/:
  training_runs_megatron_core.csv  our copy of /work/shared/validation/training_runs_megatron_core.csv (rows from
                                   NVIDIA-NeMo/Megatron-Bridge docs/performance-summary*.md, releases 25.09 .. 26.08)
  megatron_bridge_recipes.csv      the recipe facts, one line per (release, model, system, precision, layout): the
                                   workload config of that release's scripts/performance (or, for 26.08, the flat
                                   perf recipe) whose parallel layout, micro and global batch equal the table's,
                                   cited repo@commit:path:line, and what it sets (docs/validation.md "Release
                                   recipes" says how the table was read)

Per row (the rules are the same for every row; nothing is keyed on a row id or a model name):
  - `software` = megatron-core-<release>, the release read from the row's own `source` column
    ("'26.06.01 NeMo Container' > ..."): data/software/megatron-core-<release>.json;
  - an empty `precision` of a 25.09 row becomes fp8: the 25.09 tables print no precision column, their footnote says
    the parenthesised values use "different quantization granularities" (MXFP8 32x32 on B200/GB200, 128x128
    blockwise on H100), so the unparenthesised values are per-tensor FP8, and the 25.11 tables label the same
    numbers FP8-CS (the release's perf_matrix FP8 blocks hold the table's layouts; for five rows the BF16 block does
    not). The recipe's command-line default (--compute_dtype bf16) is not what these runs used;
  - when the facts table has the row's key with a recipe, EMPTY plan cells the recipe sets are filled: `recompute`
    (granularity: none, or selective whatever its modules), `seq_parallel` (the recipes' sequence_parallel =
    TP > 1), `overlap_ep` (MoE rows: overlap_moe_expert_parallel_comm), `cuda_graphs` (cuda_graph_impl and its
    scope, in the column's words: cuda_graphs_cell), `moe_dispatcher` (MoE rows: alltoall, or the flex
    dispatcher's backend deepep / hybridep), `recompute_modules` (selective rows: the recipe's Megatron-Core
    recompute_modules, "none" for its empty list: recompute_cells) and `recompute_layers` (the block method's
    layers per stage, with `recompute` full), `pp_layout` (pp > 1: the Megatron-Core pipeline layout the model's
    recipe's split accounting gives, pp_layout_cell; filled from an unmatched line too, as moe_capacity) and
    `offload_layers` (the recipe's cpu_offloading_num_layers:
    activations of a stage's first N layers kept in host memory; the copies are priced where the system states its host link: docs/model.md "Activation offloading"); a cell the table states is never replaced, and modules / layers are
    filled only where the row's recompute (stated or filled) is the granularity they belong to;
  - `moe_capacity` / `moe_pad` (MoE rows whose release drops tokens: Megatron-Core's moe_expert_capacity_factor and
    moe_pad_expert_input_to_capacity) when empty; the release's script sets them per model and GPU whatever the
    layout, so they are filled from an unmatched line too;
  - `bf16_layers` ("START,END": Megatron-Core num_layers_at_start_in_bf16 / num_layers_at_end_in_bf16 under
    first_last_layers_bf16, read by tools/bridge_precision.py from the release's precision config) when empty, from
    the facts line of the row's key whether or not its layout matched a recipe;
  - `mtp_layers` (the MTP modules / depths the model's recipe trains: Megatron-Core mtp_num_layers; DeepSeek-V3's
    one module, Nemotron-3 Super's 2 depths, docs/model.md "MTP depths") when empty, from the facts line's first
    word; `overlap_tp` (the recipe's Megatron-Core tp_comm_overlap where the facts read it) likewise, and
    `moe_router_fusion` (the recipe's Megatron-Core moe_router_fusion: the router's fused kernels);
  - `etp` (MoE rows with a matched recipe: its Megatron-Core expert_tensor_parallel_size, the Megatron-Bridge MoE
    workload configs' 1) when empty; a recipe that leaves it None (Megatron-Core's ETP = TP) leaves the cell empty;
  - `moe_fused_mlp` (MoE rows with a matched recipe: 1 where it runs Transformer Engine's CuTe-DSL fused grouped MLP,
    Megatron-Bridge's cutedsl_fused_grouped_mlp) and `fp8_attention` (its mixed_precision.fp8_dot_product_attention,
    1 / 0 where the recipe sets it) when empty;
  - `fp8_output_proj` (MXFP8 rows: 1 where the model's performance function for the row's GPU sets Megatron-Core's
    fp8_output_proj, the LM head in MXFP8; the release's, whatever the layout) when empty;
  - the row's notes get one " | RECIPE=..." part with the citation and every recipe setting, the ones the model
    has no knob for named as such.
With --check nothing is written; the exit status is 1 when the CSV is not what this script would write.
"""
import csv
import io
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = os.path.join(ROOT, "data", "validation", "training_runs_megatron_core.csv")
FACTS = os.path.join(ROOT, "data", "validation", "megatron_bridge_recipes.csv")
SOFTWARE = os.path.join(ROOT, "data", "software")
KEY = ["release", "model", "system", "precision", "n_gpus", "tp", "pp", "cp", "vpp", "ep", "micro_batch", "global_batch"]
TAG = " | RECIPE="
PREC_NOTE = ("; PRECISION=fp8 filled (tools/bridge_recipes.py): the 25.09 footnote's parenthesised values are the other "
             "quantization granularities, so these are per-tensor FP8, labelled FP8-CS in 25.11; the release's "
             "perf_matrix FP8 block has this layout")


def release(row):
    m = re.search(r"'([0-9]+\.[0-9]+(?:\.[0-9]+)?) NeMo Container'", row["source"])
    if not m:
        sys.exit("bridge_recipes.py: row %s: no release in its source column" % row["id"])
    return m.group(1)


def strip_ours(row):
    """The row as the shared file has it: this script's note parts removed and the cells it filled (named in its
    note's "filled ..." part) emptied, so a rerun, or a changed recipe table, gives the same file as a first run."""
    notes, _, ours = row["notes"].partition(TAG)
    m = re.search(r"filled by tools/bridge_recipes\.py: ([a-z0-9_,]+)", ours)
    for col in m.group(1).split(",") if m else []:
        row[col] = ""
    if PREC_NOTE in notes:
        row["precision"] = ""
    return notes.replace(PREC_NOTE, "")


def cuda_graphs_cell(v):
    """The recipe's CUDA-graph setting in the `cuda_graphs` column's words (docs/systems.md): Megatron-Core's
    cuda_graph_impl full_iteration -> full_iteration; transformer_engine with a scope list -> that list; the 25.09
    recipes' enable_cuda_graph (Megatron-Core 0.14's local graphs of whole transformer layers) -> layer."""
    if v in ("none", "full_iteration"):
        return v
    if v == "local" or v == "transformer_engine":
        return "layer"
    if v.startswith("transformer_engine:"):
        return v.split(":", 1)[1].replace("+", ",")
    sys.exit("bridge_recipes.py: unknown cuda_graphs '%s' in %s" % (v, FACTS))


BLOCK = re.compile(r"^full recompute \(block\) of ([0-9]+) layers per stage$")


def recompute_cells(f):
    """The recipe's recompute in the columns' words: (recompute, recompute_modules, recompute_layers). The facts
    table's recompute_detail says "modules a,b" (Megatron-Core recompute_modules, granularity selective; "modules []"
    the empty list: nothing recomputed) or "full recompute (block) of N layers per stage" (recompute_method block,
    recompute_num_layers N)."""
    d = f["recompute_detail"]
    if not d:
        return f["recompute"], "", ""
    m = BLOCK.match(d)
    if m:
        return "full", "", m.group(1)
    if d.startswith("modules []"):
        return f["recompute"] or "selective", "none", ""
    if d.startswith("modules "):
        return f["recompute"] or "selective", d[len("modules "):], ""
    sys.exit("bridge_recipes.py: unknown recompute_detail '%s' in %s" % (d, FACTS))


def token_drop_note(f):
    return "; token drop: capacity factor %s%s" % (f["moe_capacity"], ", padded" if f["moe_pad"] == "1" else "")


def bf16_note(f):
    if not f.get("bf16_layers"):
        return ""
    first, last = f["bf16_layers"].split(",")
    return ("; BF16 layers: the first %s and the last %s layers' GEMMs unquantized (the bf16_layers column; %s)"
            % (first, last, f["bf16_layers_source"]))


def times(x, n):
    """n copies of the layout element x in Megatron-Core's layout syntax: "", "x" or "x*n" ("(x)*n" for a group)."""
    if n <= 0:
        return ""
    if n == 1:
        return x
    return ("(%s)*%d" if len(x) > 1 else "%s*%d") % (x, n)


def pp_layout_cell(f, row):
    """The Megatron-Core pipeline layout the recipe's split accounting gives the row (pp > 1), in the layout syntax
    (megatron/core/transformer/pipeline_parallel_layer_layout.py parse_str_to_list): with
    account_for_embedding_in_pipeline_split and account_for_loss_in_pipeline_split the embedding and the loss count as
    one layer each and the L + 2 are split evenly over the pp x vpp virtual stages (NVIDIA/Megatron-LM@d98e8a64ddf3:
    megatron/core/transformer/transformer_block.py:148-181): k = (L + 2) / (pp x vpp) per stage, the first holding the
    embedding and k - 1 layers, the last k - 1 layers and the loss. An explicit layout of the recipe ("layout X ...",
    DeepSeek-V3) as it is. "" without either or without pipelining."""
    if f.get("pp_split", "").startswith("layout ") and int(row["pp"] or 1) > 1:
        return f["pp_split"].split()[1]  # the recipe's explicit layout
    if not f.get("pp_split", "").startswith("embedding+loss ") or int(row["pp"] or 1) < 2:
        return ""
    L, stages = int(row["n_layers"]), int(row["pp"]) * int(row["vpp"] or 1)
    if (L + 2) % stages:
        sys.exit("bridge_recipes.py: row %s: %d layers + embedding + loss do not split over %d stages" %
                 (row["id"], L, stages))
    k = (L + 2) // stages
    return "E" + times("t", k - 1) + "|" + times(times("t", k) + "|", stages - 2) + times("t", k - 1) + "L"


def split_note(f):
    note = ""
    if f.get("pp_split", "").startswith("layout "):
        note = "; pipeline layout %s (%s; the pp_layout column)" % tuple(f["pp_split"].split()[1:3])
    elif f.get("pp_split"):
        note = ("; pipeline split counts the embedding and the loss as layers (%s; the pp_layout column)" %
                f["pp_split"][len("embedding+loss "):])
    if f.get("mtp_layers"):
        note += "; %s MTP module trained (mtp_num_layers, %s; the mtp_layers column)" % tuple(f["mtp_layers"].split())
    return note


def recipe_note(f):
    if not f["recipe"]:
        return (TAG + "none matched: " + f["unmatched"] + (token_drop_note(f) if f["moe_capacity"] else "") +
                bf16_note(f) + split_note(f))
    parts = [f["recipe"]]
    if f["moe_dispatcher"]:
        parts.append("MoE dispatcher %s" % f["moe_dispatcher"])
    if f["overlap_ep"]:
        parts.append("overlap_moe_expert_parallel_comm %s" % ("on" if f["overlap_ep"] == "1" else "off"))
    if f["moe_capacity"]:
        parts.append(token_drop_note(f)[2:])
    parts.append("CUDA graphs %s" % f["cuda_graphs"])
    if f["recompute"] or f["recompute_detail"]:
        parts.append("recompute %s%s" % (recompute_cells(f)[0],
                                         " (%s)" % f["recompute_detail"] if f["recompute_detail"] else ""))
    if f["megatron_fsdp"] == "1":
        parts.append("Megatron-FSDP")
    if f["cpu_offload_layers"]:
        parts.append("activation CPU offloading of %s layers (the offload_layers column)" % f["cpu_offload_layers"])
    if f.get("pp_split") or f.get("mtp_layers"):
        parts.append(split_note(f)[2:])
    if f["overlap_tp"]:
        parts.append("tp_comm_overlap %s (the overlap_tp column: %s)" % ("on" if f["overlap_tp"] == "1" else "off",
                                                                         f["overlap_tp_recipe"]))
    if f.get("moe_router_fusion"):
        parts.append("moe_router_fusion %s (the moe_router_fusion column: %s)" % (
            "on" if f["moe_router_fusion"] == "1" else "off", f["moe_router_fusion_recipe"]))
    if f.get("etp"):
        parts.append("expert_tensor_parallel_size %s (the etp column)" % f["etp"])
    if f.get("moe_fused_mlp") or f.get("fp8_attention"):
        parts.append("%s (the moe_fused_mlp / fp8_attention columns: %s)" % (", ".join(
            x for x in ("cutedsl_fused_grouped_mlp" if f.get("moe_fused_mlp") == "1" else "",
                        "fp8_dot_product_attention %s" % ("on" if f["fp8_attention"] == "1" else "off")
                        if f.get("fp8_attention") else "") if x), f["fused_recipe"]))
    if f.get("fp8_output_proj"):
        parts.append("fp8_output_proj on (the fp8_output_proj column: %s)" % f["fp8_output_proj_recipe"])
    if f["extra"]:
        parts.append(f["extra"])
    return TAG + "; ".join(parts) + bf16_note(f)


def enrich(row, header, facts):
    rel = release(row)
    name = "megatron-core-" + rel
    if not os.path.exists(os.path.join(SOFTWARE, name + ".json")):
        sys.exit("bridge_recipes.py: row %s: no preset data/software/%s.json" % (row["id"], name))
    row["software"] = name
    notes = strip_ours(row)
    if rel == "25.09" and not row["precision"]:
        row["precision"] = "fp8"
        notes += PREC_NOTE
    f = facts.get(tuple([rel] + [row[k] for k in KEY[1:]]))
    if f is not None:
        # the release's, whatever the layout: token drop, the BF16 layers of its precision config, the TP overlap
        fill = {"moe_capacity": f["moe_capacity"], "moe_pad": f["moe_pad"], "bf16_layers": f["bf16_layers"],
                "overlap_tp": f["overlap_tp"], "moe_router_fusion": f.get("moe_router_fusion", ""),
                "fp8_output_proj": f.get("fp8_output_proj", "")}
        if f["recipe"]:
            rc, mods, layers = recompute_cells(f)
            fill.update({"recompute": rc, "seq_parallel": "1" if int(row["tp"] or 1) > 1 else "0",
                         "overlap_ep": f["overlap_ep"], "cuda_graphs": cuda_graphs_cell(f["cuda_graphs"]),
                         "moe_dispatcher": f["moe_dispatcher"], "recompute_modules": mods, "recompute_layers": layers,
                         "offload_layers": f["cpu_offload_layers"], "etp": f.get("etp", ""),
                         "moe_fused_mlp": f.get("moe_fused_mlp", ""), "fp8_attention": f.get("fp8_attention", "")})
        fill["pp_layout"] = pp_layout_cell(f, row)  # the model's recipe, whatever the layout (as moe_capacity)
        fill["mtp_layers"] = f.get("mtp_layers", "").split(" ")[0]
        filled = [col for col, v in fill.items() if v and not row.get(col)]
        for col in filled:
            row[col] = fill[col]
        # modules belong to selective recompute, layers to full: not where the row states another granularity
        for col, gran in (("recompute_modules", "selective"), ("recompute_layers", "full")):
            if col in filled and row["recompute"] != gran:
                row[col] = ""
                filled.remove(col)
        notes += recipe_note(f)
        if filled:
            notes += "; filled by tools/bridge_recipes.py: " + ",".join(filled)
    row["notes"] = notes
    return {k: row.get(k, "") for k in header}


RECIPE_COLS = ("overlap_ep", "cuda_graphs", "moe_dispatcher", "recompute_modules", "recompute_layers", "moe_capacity",
               "moe_pad", "offload_layers", "bf16_layers", "pp_layout", "mtp_layers", "overlap_tp", "moe_router_fusion",
               "etp", "moe_fused_mlp", "fp8_attention", "fp8_output_proj")


def recipe_header(header):
    """header with the plan columns enrich() may fill appended (those it lacks)"""
    return list(header) + [col for col in RECIPE_COLS if col not in header]


def load_facts():
    """the recipe facts table, by KEY"""
    with open(FACTS, newline="") as fh:
        return {tuple(r[k] for k in KEY): r for r in csv.DictReader(fh)}


def main():
    check = "--check" in sys.argv[1:]
    facts = load_facts()
    with open(ROWS, newline="") as fh:
        text = fh.read()
    rd = csv.DictReader(io.StringIO(text))
    header = recipe_header(rd.fieldnames)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=header)
    w.writeheader()
    for row in rd:
        w.writerow(enrich(row, header, facts))
    if check:
        if out.getvalue() != text:
            print("bridge_recipes.py: %s is not what the recipe table gives; run python3 tools/bridge_recipes.py" % ROWS)
            return 1
        return 0
    with open(ROWS, "w", newline="") as fh:
        fh.write(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
