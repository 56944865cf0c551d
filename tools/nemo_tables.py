#!/usr/bin/env python3
"""Write data/validation/training_runs_nemo.csv: the NVIDIA NeMo performance tables the other validation files do not
use, as independent validation rows.

Usage:  python3 tools/nemo_tables.py NEMO_GIT_DIR [--check]

NEMO_GIT_DIR is a clone of NVIDIA/NeMo (a bare git directory is enough: files are read with `git show`).
Tables read (each row cites repo@commit:path:line):
  - NeMo 24.07 performance summary (DGX-H100, FP8): docs/source/performance/performance_summary.md at
    9c5c5e9709407d3511005fc966e45374998bb478: the 'Pretraining' table (GPT3, LLAMA2, Nemotron, LLAMA3) and the
    'Finetuning' table (LLAMA2 SFT and LoRA, SQuAD packed to 4096 tokens)  -> ids NEMO24-<n>; their packed samples'
    statistics (doc_len, doc_len_cv) from tools/squad_doc_len.py (SQUAD_PACKED below)
  - NeMo long-sequence tables (context parallelism): docs/source/performance/performance_long_sequence.md at
    8cfedd7203462cb251a914e700e5605444277561: LLAMA2-7B FP8 on DGX-H100 (NeMo 24.03.01) and LLAMA3-8B FP8 on
    DGX-B200 (NeMo 25.04.rc2), the 'With CP' runs, whose TP/PP/DP/CP the table gives  -> ids NEMOCP-<sys>-<seq K>
    The 'Without CP' columns are left out: the page says only that they used "the most performant model- and
    data-parallel configurations without CP", never which.

How each value is derived (also in each row's notes):
  - 24.07 tables: step time = GBS x sequence length / (tokens/s/GPU x GPUs); the table's 'Model TFLOP / sec / GPU'
    is kept as measured TFLOP/s (model FLOPs: attention counted over the full s x s, no causal halving, recompute not
    counted; the implied FLOPs/token agree with that count to 0.3 %, see the notes).
  - long-sequence tables give TFLOPS/GPU only: measured_tflops_per_gpu, tflops_counts_recompute = 0; `validate`
    turns it into a step time with its own model-FLOP count, which is NeMo's (12·s/h attention term, no causal
    halving: nemo/utils/flops_formulas.py llama3() at 19fadb67b0, the commit of the B200 numbers). The B200 table's
    '# of GPUs' column is 4 x TP x PP x DP x CP on every row (its 512K and 1024K batches of 8 and 4 sequences could
    not fill that many replicas); GPUs = TP x PP x DP x CP there (noted per row; the measured value is per GPU).
  - software = the stack preset of the container the table names (STACKS below: NeMo 24.03.01 -> megatron-core-24.03.01,
    NeMo 24.07 -> megatron-core-24.07, whose launcher ran FlashAttention-2 and delayed FP8 scaling; NeMo 25.04.rc2 ->
    megatron-core, whose performance scripts run cuDNN attention as the base does; sources in each preset), every knob
    the table does not state left empty so the stack's defaults apply, exactly as a row naming only its stack would be;
    model_config = the preset when data/models has the model, else shape columns from NeMo's own model configs.
This file is an independent check: tools/calibrate.py never reads it.
With --check nothing is written; the exit status is 1 when the file differs from what this script would write.
"""
import csv
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows_csv  # noqa: E402  (the CSV text and the --check step shared by the row generators)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER_FROM = os.path.join(ROOT, "data/validation/training_runs_megatron_core.csv")
OUT = os.path.join(ROOT, "data/validation/training_runs_nemo.csv")
REPO = "NVIDIA/NeMo"
SUMMARY = ("9c5c5e9709407d3511005fc966e45374998bb478", "docs/source/performance/performance_summary.md")
LONGSEQ = ("8cfedd7203462cb251a914e700e5605444277561", "docs/source/performance/performance_long_sequence.md")
CFG = "NVIDIA/NeMo@8cfedd7203:nemo/collections/llm/gpt/model/"
NEMOTRON_VOCAB = ("vocab 256000 (HF nvidia/Nemotron-4-340B-Base and nvidia/nemotron-3-8b-base-4k config; the table's "
                  "implied FLOPs/token match it)")
# table model name -> (shape columns, model_config, where the shape comes from)
# shape: n_layers, d_model, n_heads, n_kv_heads, ffn_dim, ffn_type, vocab
MODELS = {
    "GPT3-5B": ((24, 4096, 32, "", 16384, "gelu", 50257), "",
                CFG + "base.py:466 GPTConfig5B (24 L, 4096, 32 heads, ffn 16384, GELU, learned positions, tied "
                "embeddings); vocab = GPT-2 BPE 50257 (NeMo pads it to a multiple of 128)"),
    "GPT3-20B": ((44, 6144, 48, "", 24576, "gelu", 50257), "",
                 CFG + "base.py:502 GPTConfig20B (44 L, 6144, 48 heads, ffn 24576, GELU); vocab = GPT-2 BPE 50257"),
    "GPT3-175B": ((96, 12288, 96, "", 49152, "gelu", 50257), "gpt3-175b",
                  CFG + "base.py:538 GPTConfig175B (96 L, 12288, 96 heads, ffn 49152) = preset gpt3-175b"),
    "LLAMA2-7B": ((32, 4096, 32, 32, 11008, "gated", 32000), "llama2-7b", "preset llama2-7b (HF config)"),
    "LLAMA2-13B": ((40, 5120, 40, 40, 13824, "gated", 32000), "llama2-13b", "preset llama2-13b (HF config)"),
    "LLAMA2-70B": ((80, 8192, 64, 8, 28672, "gated", 32000), "llama2-70b", "preset llama2-70b (HF config)"),
    "LLAMA3-8B": ((32, 4096, 32, 8, 14336, "gated", 128256), "llama3-8b", "preset llama3-8b (HF config)"),
    "LLAMA3-70B": ((80, 8192, 64, 8, 28672, "gated", 128256), "llama3-70b", "preset llama3-70b (HF config)"),
    "Nemotron-8B": ((32, 4096, 32, "", 16384, "relu", 256000), "",
                    CFG + "nemotron.py:88 Nemotron3Config8B (32 L, 4096, 32 heads MHA, ffn 16384) with "
                    "NemotronConfig (:44-45 LayerNorm, squared-ReLU MLP -> ffn_type relu, non-gated); " + NEMOTRON_VOCAB),
    "Nemotron-22B": ((40, 6144, 48, "", 24576, "relu", 256000), "",
                     CFG + "nemotron.py:104 Nemotron3Config22B (40 L, 6144, 48 heads MHA, ffn 24576, squared ReLU); "
                     + NEMOTRON_VOCAB),
    "Nemotron-340B": ((96, 18432, 96, 8, 73728, "relu", 256000), "",
                      CFG + "nemotron.py:136 Nemotron4Config340B (96 L, 18432, 96 heads, 8 query groups, ffn 73728, "
                      "squared ReLU); " + NEMOTRON_VOCAB),
}
SHAPE = ["n_layers", "d_model", "n_heads", "n_kv_heads", "ffn_dim", "ffn_type", "vocab"]
FLOPS_CITE = "NVIDIA/NeMo@19fadb67b0:nemo/utils/flops_formulas.py:88 llama3() (attention term 12*s/h: no causal halving)"
# The fine-tuning rows' packed samples (columns doc_len, doc_len_cv; docs/model.md "Packed sequences"): SQuAD v1.1 as
# NeMo's SFT formats it ("Context: {context} Question: {question} Answer:" + the first answer, EOS, no BOS; NeMo at the
# summary's commit, cited in tools/squad_doc_len.py) under the Llama 2 tokenizer, measured by tools/squad_doc_len.py:
# mean 200.5 tokens, coefficient of variation 0.436 (E[l^2]/E[l] = 238.6) over the 11,877 questions on 44 SQuAD v1.1
# articles of bloomsburyai/question-generation@6026097c3eae:data/test-v1.1.json (Du et al. 2017's question-generation
# test split, the official SQuAD v1.1 paragraphs and questions; the full training set was not at hand), tokenizer
# karpathy/llama2.c@350e04fe3543:tokenizer.model (sha256 9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347,
# Llama 2's SentencePiece model). Never from the rows' measured times or TFLOP/s.
SQUAD_PACKED = (200.5, 0.436)
SQUAD_NOTE = ("packed samples: doc_len %.1f tokens, doc_len_cv %.3f (E[l^2]/E[l] = %.1f): SQuAD v1.1 in NeMo's SFT "
              "template under the Llama 2 tokenizer, measured on 11,877 SQuAD v1.1 questions (tools/squad_doc_len.py; "
              "tools/nemo_tables.py SQUAD_PACKED)"
              % (SQUAD_PACKED[0], SQUAD_PACKED[1], SQUAD_PACKED[0] * (1 + SQUAD_PACKED[1] ** 2)))
# columns this file adds to the Megatron-Core tables' header
EXTRA = ["doc_len", "doc_len_cv"]


def show(repo, commit, path):
    return subprocess.check_output(["git", "-C", repo, "show", "%s:%s" % (commit, path)], text=True)


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def gflop_per_token(m, seq):
    """the Megatron/NeMo model-FLOP count per token (fwd + bwd = 3 x fwd, no causal halving) for the notes' check"""
    L, h, a, kv, f, ft, v = m
    kv = kv or a
    mm = L * (2 * h * h + 2 * h * h * kv // a + (3 if ft == "gated" else 2) * h * f) + h * v
    return (6 * mm + 12 * seq * h * L) / 1e9


# The stack preset (data/software) of each container a table names: a fact of the row's source, not of the row.
STACKS = {"NeMo24.03.01.framework": "megatron-core-24.03.01", "NeMo24.07": "megatron-core-24.07",
          "NeMo25.04.rc2": "megatron-core"}


def base_row(header, name, seq, container):
    shape, cfg, where = MODELS[name]
    row = {k: "" for k in header}
    row.update(dict(zip(SHAPE, shape)))
    row.update(seq_len=seq, software=STACKS[container], model_config=cfg, precision="fp8", tflops_counts_recompute=0)
    return row, where


def summary_rows(repo, header):
    commit, path = SUMMARY
    rows, section, head, container = [], None, None, None
    for i, line in enumerate(show(repo, commit, path).splitlines(), 1):
        m = re.search(r"Container: \[([^\]]+)\]", line)
        if m:
            container = m.group(1)
        if line.startswith("### "):
            section, head = line[4:].strip(), None
        elif line.startswith("| Model"):
            head = cells(line)
        elif line.startswith("|") and head and not line.startswith("| --"):
            f = dict(zip(head, cells(line)))
            name = f["Model"]
            task = f.get("Task", "")
            seq = int(f.get("Sequence Length") or f["Packed Sequence Length"])
            n, gbs, mbs = int(f["#-GPUs"]), int(f["GBS"]), int(f["MBS"])
            tp, pp, cp = int(f["TP"]), int(f["PP"]), int(f.get("CP") or 1)
            tok = float(f["Tokens / sec / GPU"])
            tfl = re.sub(r"\[([0-9.]+)\]\([^)]*\)", r"\1", f["Model TFLOP / sec / GPU"])
            row, where = base_row(header, name, seq, container)
            step = gbs * seq / (tok * n)
            implied = float(tfl) / tok * 1e3
            notes = []
            if task:
                notes.append("TASK=%s fine-tuning (%s), SQuAD v1.1 packed to %d tokens (table preamble); FLOPs "
                             "counted on the packed samples' own lengths, so the implied FLOPs/token (%.1f GFLOP) "
                             "is not the pre-training count; LoRA rank/targets not stated"
                             % ("LoRA" if task == "LoRA" else "SFT", "frozen base, adapters trained" if task == "LoRA"
                                else "full", seq, implied))
                notes.append(SQUAD_NOTE)
                row.update(doc_len="%g" % SQUAD_PACKED[0], doc_len_cv="%g" % SQUAD_PACKED[1])
            notes.append("tokens/s/GPU=%s (source); step time derived = GBS*seq_len/(tokens_per_s_per_gpu*n_gpus); "
                         "TFLOP/s = source 'Model TFLOP / sec / GPU' (model FLOPs, recompute not counted)" % f[
                             "Tokens / sec / GPU"])
            if not task:
                notes.append("implied model FLOPs/token = %.1f GFLOP vs %.1f from the shape (6 x matmul params + "
                             "12*s*h*L attention, no causal halving)" % (implied, gflop_per_token(MODELS[name][0], seq)))
            if "mlcommons" in f["Model TFLOP / sec / GPU"]:
                notes.append("the TFLOP/s cell links to the MLPerf Training results")
            notes.append("NeMo 24.07 container, FP8 (TE, scaling recipe not stated); recompute, SP, distributed "
                         "optimizer, overlap not stated (stack defaults)")
            notes.append("shape: " + where)
            row.update(model=name + (" (%s)" % task if task else ""), system="dgx-h100", n_gpus=n, tp=tp, pp=pp,
                       dp=n // (tp * pp * cp), cp=cp, vpp=f.get("VP", ""), global_batch=gbs, micro_batch=mbs,
                       measured_step_time_s="%.6g" % step, measured_tflops_per_gpu=tfl,
                       source="%s@%s:%s:%d | NeMo 24.07 performance summary > '%s' table (DGX-H100, FP8, %d GPUs)"
                              % (REPO, commit, path, i, section, n),
                       notes="; ".join(notes))
            rows.append(row)
    for k, r in enumerate(rows, 1):
        r["id"] = "NEMO24-%d" % k
    return rows


def longseq_rows(repo, header):
    commit, path = LONGSEQ
    text = show(repo, commit, path)
    rows, table, tr, vals = [], None, None, []
    for i, line in enumerate(text.splitlines(), 1):
        m = re.match(r"## (LLAMA\S+) \(FP8\) - (\S+)", line)
        if m:
            table = m.groups()
            container = None
        m = re.search(r"Container: \[([^\]]+)\]", line)
        if m:
            container = m.group(1)
        if line.strip() == "<tr>":
            tr, vals = i, []
        m = re.match(r"\s*<td[^>]*>(.*)</td>", line)
        if m:
            vals.append(re.sub(r"<[^>]*>", "", m.group(1)).replace(",", ""))
        if line.strip() == "</tr>" and len(vals) == 10:
            name, gpu = table
            k, n, gbs, nocp, tp, pp, dpl, cp, tfl, speed = vals
            seq = int(k) * 1024
            ngpu, tp, pp, cp, dp = int(n), int(tp), int(pp), int(cp), int(dpl)
            n = tp * pp * dp * cp
            row, where = base_row(header, name, seq, container)
            notes = ["TFLOPS/GPU with CP (source); no step time or tokens/s given: validate derives the measured "
                     "step time from it with its model-FLOP count, NeMo's own (%s)" % FLOPS_CITE,
                     "'Batch Size' = global batch in sequences; micro-batch, recompute, SP, VP not stated (stack "
                     "defaults)",
                     "without CP: %s TFLOPS/GPU (speedup %s), its layout not given, so no row" % (nocp, speed)]
            if ngpu != n:
                notes.append("the table's '# of GPUs' column says %d but its TP x PP x DP x CP = %d (a factor 4 on "
                             "every row of this table; the H100 table's agree); GPUs = TP x PP x DP x CP: the batch "
                             "(%s sequences) could not fill %d replicas at the long lengths, and the measured value "
                             "is per GPU" % (ngpu, n, gbs, ngpu // (tp * pp * cp)))
            notes.append("%s container, %s, FP8" % (container, gpu))
            notes.append("shape: " + where)
            system = {"H100": "dgx-h100", "B200": "dgx-b200"}[gpu]
            row.update(id="NEMOCP-%s-%sK" % (gpu, k), model="%s (%sK, CP %d)" % (name, k, cp), system=system,
                       n_gpus=n, tp=tp, pp=pp, dp=dp, cp=cp, global_batch=int(gbs), measured_tflops_per_gpu=tfl,
                       source="%s@%s:%s:%d | Long Sequence Performance > '%s (FP8) - %s' table, %sK row (%d GPUs, "
                              "with CP)" % (REPO, commit, path, tr, name, gpu, k, n),
                       notes="; ".join(notes))
            rows.append(row)
    return rows


def build(repo):
    header = next(csv.reader(open(HEADER_FROM, newline="")))
    header += [c for c in EXTRA if c not in header]
    rows = summary_rows(repo, header) + longseq_rows(repo, header)
    return rows_csv.csv_text(header, rows)


def main():
    rows_csv.main_with_clone(__doc__, build, OUT)


if __name__ == "__main__":
    main()
