#!/usr/bin/env python3
"""Write data/validation/training_runs_megatron_core_ultra.csv: the Blackwell Ultra rows (DGX-GB300, DGX-B300) of the
Megatron-Bridge performance tables, which the shared training_runs_megatron_core.csv leaves out.

Usage:  python3 tools/bridge_ultra.py MEGATRON_BRIDGE_GIT_DIR [--check]

Why: the shared file holds the H100, B200 and GB200 rows of the same tables; the GB300 and B300 rows are a hardware
generation the calibration never saw, run by the same stack and recipes, so they check that the model carries to new
hardware from its specs. They are an independent check: tools/calibrate.py never reads this file.

Each row is built the way the shared file builds its rows (see its notes column): step time = GBS x sequence length /
(tokens/s/GPU x GPUs); measured TFLOP/s = the table's 'Model TFLOP / sec / GPU' (model FLOPs, recompute not counted);
dp = GPUs / (TP x PP x CP); FSDP > 0 -> ZeRO stage 3 (Megatron-FSDP); 'n/a' VP or EP -> 1; 'FP8-CS (FP8-MX)' cells give
an fp8 row and an mxfp8 row from the parenthesised values; the shape columns and model_config are those of the shared
file's rows of the same model. Each row is then enriched exactly as the shared file's rows are (tools/bridge_recipes.py
enrich, the same function): software = megatron-core-<release>, and the empty plan cells its release's performance
recipe sets (recompute, seq_parallel, overlap_ep, cuda_graphs, moe_dispatcher, recompute_modules / recompute_layers,
offload_layers, bf16_layers, pp_layout, mtp_layers) are filled from data/validation/megatron_bridge_recipes.csv, whose
GB300 / B300 lines tools/bridge_recipe_facts.py reads from the *_GB300_* / *_B300_* workload configs (and 26.08's gb300
flat recipes) by the same matching rules; the note's " | RECIPE=..." part cites the recipe and "filled by
tools/bridge_recipes.py: <columns>" names what came from it, everything else is the table's. So regenerate the facts
table first (tools/bridge_recipe_facts.py CLONE), then this file. Source: NVIDIA-NeMo/Megatron-Bridge@<commit>:
docs/performance-summary.md and docs/performance-summary-archive.md, cited per row with the table's line.
With --check nothing is written; the exit status is 1 when the file differs from what this script would write.
"""
import csv
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridge_recipes  # noqa: E402  (enrich: the release preset and the recipe's knobs, as the shared file's rows)
import rows_csv  # noqa: E402  (the CSV text and the --check step shared by the row generators)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "data/validation/training_runs_megatron_core.csv")
OUT = os.path.join(ROOT, "data/validation/training_runs_megatron_core_ultra.csv")
DOCS = ["docs/performance-summary.md", "docs/performance-summary-archive.md"]
SYSTEMS = {"DGX-GB300": "gb300-nvl72", "DGX-B300": "dgx-b300"}
# the tables' model names -> the shared file's model names (whose shape columns and model_config the row takes)
MODELS = [("DeepSeekV4 Flash", "DeepSeek-V4-Flash"), ("DeepSeekV3", "DeepSeek-V3 671B-A37B"),
          ("GPT OSS 120B", "GPT-OSS-120B"), ("Qwen3_30B_a3B", "Qwen3-30B-A3B"),
          ("Qwen3_235B_a22B", "Qwen3-235B-A22B"), ("Kimi_K2", "Kimi-K2"),
          ("Nemotron_3_5_Lightning", "Nemotron-3.5-Lightning-30B-A3B"), ("Nemotron_3_Nano", "Nemotron-3-Nano-30B-A3B"),
          ("Nemotron_3_Super", "Nemotron-3-Super-120B-A12B"), ("Nemotron_3_Ultra", "Nemotron-3-Ultra-550B-A55B"),
          ("LLAMA3.1_405B", "Llama-3.1-405B"), ("LLAMA3_70B", "Llama-3-70B"), ("LLAMA3_8B", "Llama-3-8B")]
PREC = {"BF16": "bf16", "FP8": "fp8", "FP8-CS": "fp8", "FP8-MX": "mxfp8", "MXFP8": "mxfp8", "NVFP4": "nvfp4"}
# a model the shared file has no row of: its shape columns from its preset (data/models/kimi-k2.json, HF
# moonshotai/Kimi-K2-Instruct config.json; n_kv_heads left empty as for DeepSeek-V3's MLA, ffn_dim = the experts')
EXTRA = {"Kimi-K2": {"n_layers": "61", "d_model": "7168", "n_heads": "64", "n_kv_heads": "", "ffn_dim": "2048",
                     "ffn_type": "gated", "vocab": "163840", "moe_experts": "384", "moe_topk": "8",
                     "model_config": "kimi-k2"}}
SHAPE = ["n_layers", "d_model", "n_heads", "n_kv_heads", "ffn_dim", "ffn_type", "vocab", "moe_experts", "moe_topk"]


def model_of(name):
    for key, ours in MODELS:
        if name.startswith(key):
            return ours
    raise SystemExit("bridge_ultra.py: unknown model in the tables: %r" % name)


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def num(x):
    return 1 if x in ("n/a", "") else int(x)


def split_paren(x):
    """'37556 (36108)' -> ['37556', '36108']; '661[^gpt-oss-note]' -> ['661']"""
    x = re.sub(r"\[\^[^\]]*\]", "", x)
    return re.findall(r"[0-9.]+", x)


def table_rows(text):
    """yield (line, release, task, model, fields) for every GB300 / B300 row of one document"""
    release = task = model = None
    head = None
    for i, line in enumerate(text.splitlines(), 1):
        m = re.match(r"## ([0-9.]+) NeMo Container", line)
        if m:
            release, head = m.group(1), None
        elif line.startswith("### "):
            task = line[4:].replace(" Performance", "")
        elif line.startswith("#### Model: "):
            model = line[len("#### Model: "):].strip()
        elif line.startswith("#### System: "):
            model = None
        elif line.startswith("| System") or line.startswith("| Model"):
            head = cells(line)
        elif line.startswith("|") and head and not line.startswith("|--") and release:
            f = dict(zip(head, cells(line)))
            yield i, release, task, model or f["Model"], f


def heading_system(text):
    """rows of the per-system tables (25.11) carry their system in the heading"""
    out, sysname = [], None
    for line in text.splitlines():
        m = re.match(r"#### System: (\S+)", line)
        if m:
            sysname = m.group(1)
        elif line.startswith("## ") or line.startswith("#### Model"):
            sysname = None
        out.append(sysname)
    return out


def rows(repo):
    """(header, rows): the tables' GB300 / B300 rows as the table states them (string cells, no recipe knob filled;
    tools/bridge_recipe_facts.py reads these to find each row's recipe)"""
    commit = subprocess.check_output(["git", "-C", repo, "rev-parse", "HEAD"], text=True).strip()
    shared = dict(EXTRA)
    for r in csv.DictReader(open(SHARED, newline="")):
        shared.setdefault(r["model"].split(" (")[0], r)
    header = next(csv.reader(open(SHARED, newline="")))
    header = header[:header.index("model_config") + 1]
    out, seen = [], set()
    for doc in DOCS:
        text = subprocess.check_output(["git", "-C", repo, "show", "HEAD:" + doc], text=True)
        sysline = heading_system(text)
        for line, rel, task, tmodel, f in table_rows(text):
            system = f.get("System") or sysline[line - 1]
            if system not in SYSTEMS:
                continue
            base = model_of(tmodel)
            tag = "" if task == "Pre-Training" else " (%s)" % task
            ref = shared[base]
            precs = [PREC[p.strip()] for p in re.split(r"[()]", f.get("Precision", "")) if p.strip()]
            toks, tfl = split_paren(f["Tokens / sec / GPU"]), split_paren(f["Model TFLOP / sec / GPU"])
            for k, prec in enumerate(precs):
                n, gbs, mbs, seq = int(f["#-GPUs"]), int(f["GBS"]), int(f["MBS"]), int(f["Sequence Length"])
                tp, pp, cp = num(f["TP"]), num(f["PP"]), num(f["CP"])
                key = (rel, system, base + tag, prec, n, gbs, mbs, seq, tp, pp, cp, f["VP"], f["EP"])
                if key in seen:  # the current release's table appears in both documents
                    continue
                seen.add(key)
                tok = float(toks[k])
                step = gbs * seq / (tok * n)
                notes = ("tokens/s/GPU=%s (source); step time derived = GBS*seq_len/(tokens_per_s_per_gpu*n_gpus); "
                         "TFLOP/s = source 'Model TFLOP / sec / GPU' (model FLOPs, recompute not counted)" % toks[k])
                if "[^" in f["Model TFLOP / sec / GPU"]:
                    notes += "; footnoted in the source: %s" % re.findall(r"\[\^([^\]]*)\]", f["Model TFLOP / sec / GPU"])[0]
                if task != "Pre-Training":
                    notes += "; TASK=%s (not pretraining)" % task
                if ref["moe_experts"] not in ("", "0"):
                    notes += "; MoE routing force-balanced across experts, token-dropless (page footnote)"
                row = {h: "" for h in header}
                row.update({h: ref[h] for h in SHAPE})
                row.update(id="", model=base + tag, seq_len=seq, system=SYSTEMS[system], n_gpus=n, tp=tp, pp=pp,
                           dp=n // (tp * pp * cp), ep=num(f["EP"]), cp=cp, vpp=num(f["VP"]),
                           zero_stage=3 if num(f.get("FSDP", "0")) > 0 else "", global_batch=gbs, micro_batch=mbs,
                           precision=prec, measured_step_time_s="%.6g" % step, measured_tflops_per_gpu=tfl[k],
                           tflops_counts_recompute=0, software="megatron-core", model_config=ref["model_config"],
                           source="NVIDIA-NeMo/Megatron-Bridge@%s:%s | '%s NeMo Container' > '%s Performance' > "
                                  "'%s' table, line %d (%s, %s, %d GPUs)"
                                  % (commit, doc, rel, task, tmodel, line, system, prec.upper(), n),
                           notes=notes)
                row["_rel"] = rel
                out.append(row)
    count = {}
    for r in out:
        rel = r.pop("_rel")
        count[rel] = count.get(rel, 0) + 1
        r["id"] = "ULTRA-%s-%d" % (rel, count[rel])
    return header, [{k: str(v) for k, v in r.items()} for r in out]


def build(repo):
    """the rows, each enriched by tools/bridge_recipes.py's enrich() exactly as the shared file's rows are: the
    release preset, and the empty plan cells its recipe sets (data/validation/megatron_bridge_recipes.csv)"""
    header, table = rows(repo)
    header = bridge_recipes.recipe_header(header)
    facts = bridge_recipes.load_facts()
    return rows_csv.csv_text(header, [bridge_recipes.enrich(r, header, facts) for r in table])


def main():
    rows_csv.main_with_clone(__doc__, build, OUT)


if __name__ == "__main__":
    main()
