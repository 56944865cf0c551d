#!/usr/bin/env python3
"""Write data/validation/training_runs_maxtext.csv: MaxText's published TPU throughput tables as validation rows.

Usage:  python3 tools/maxtext_rows.py [--check]      (from the repository root)

An independent check: tools/calibrate.py never reads this file (its CSVS list is the Megatron-LM/MosaicML and
Megatron-Core files only), so no factor is fitted to these rows.

Sources (AI-Hypercomputer/maxtext, formerly google/maxtext; each table read together with the run scripts and the
code of the SAME commit, since scripts, batch sizes and the FLOP count changed later):
  v5p  76bd53b0f44caf989c88189afadeb1062f9254f0 (2023-12-15) MaxText/configs/v5p/README.md (TFLOP/sec/chip, MFU
       per model and slice count) and MaxText/configs/v5p/{32b,...,1024b}.sh (per_device_batch_size, remat_policy,
       ici_tensor_parallelism; ici_fsdp_parallelism=-1: FSDP over the rest of the slice; dcn_data_parallelism=-1
       from base.yml: data parallelism across slices). TFLOP count: MaxText/train.py:77-88 at that commit,
       6*N*s*b + 12*H*L*hd*s^2*b/2 (weights incl. the tied embedding, causal attention halved), per device.
  v5e  e47fa1b5d377ee1043e663f1414024f4d0f12df0 (2023-10-31) README.md:236-243 (16B..128B x 1..32 v5e-256 slices)
       and MaxText/configs/largest_job/{16b,32b,64b,128b}.sh. TFLOP count: MaxText/train.py:75-84 at that commit,
       6*N*s*b + 12*H*L*hd*s^2*b (attention NOT halved: the causal halving came in 64ee4e938, 2023-11-29).
The model: global_parameter_scale over base.yml (base_emb_dim 2560, base_num_heads 8, head_dim 256, base_mlp_dim
8192, base_num_decoder_layers 16, mlp_activations relu, vocab 32768, logits_via_embedding True) with
pyconfig.get_individual_scales (heads and mlp doubled first, then emb, then layers; both commits): a PaLM-style
parallel block (one RMSNorm, attention and MLP side by side: `parallel_attn` in the model JSONs), MHA with RoPE,
no biases.

Step time: the source's TFLOP/s per chip is MaxText's own FLOP count per device per step over the step time, and
its MFU is that over the chip's bf16 peak, so step = F_maxtext / (MFU * peak) with F_maxtext computed here exactly
as the code of the table's commit computes it (MFU has 4 digits, the TFLOP/s 3). The row's step time is then
compared by `validate` with no FLOP convention involved.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows_csv  # noqa: E402  (the CSV text and the --check step shared by the row generators)

OUT = "data/validation/training_runs_maxtext.csv"
HEADER = ("id,model,n_layers,d_model,n_heads,n_kv_heads,ffn_dim,ffn_type,seq_len,vocab,moe_experts,moe_topk,system,"
          "n_gpus,tp,pp,dp,ep,cp,vpp,zero_stage,global_batch,micro_batch,recompute,seq_parallel,precision,"
          "measured_step_time_s,measured_mfu,measured_tflops_per_gpu,tflops_counts_recompute,source,notes,software,"
          "model_config,overlap_ep,cuda_graphs,moe_dispatcher,recompute_modules,recompute_layers,moe_capacity,"
          "moe_pad,offload_layers,hsdp").split(",")

SEQ = 2048          # max_target_length=2048 in every script
VOCAB = 32768       # base.yml vocab_size: 32_768
HEAD_DIM = 256      # base.yml head_dim: 256

V5P = "AI-Hypercomputer/maxtext@76bd53b0f44caf989c88189afadeb1062f9254f0"
V5E = "AI-Hypercomputer/maxtext@e47fa1b5d377ee1043e663f1414024f4d0f12df0"


def scales(scale):
    """pyconfig.get_individual_scales: (emb, heads, mlp, layers) exponents of 2."""
    k = int(math.log2(scale))
    b, rem = divmod(k, 3)
    heads = b + (rem > 0)
    return b + (rem > 1), heads, heads, b


def shape(scale):
    e, h, m, l = scales(scale)
    return {"d": 2560 << e, "H": 8 << h, "f": 8192 << m, "L": 16 << l}


def params(sh):
    """What calculate_num_params_from_pytree counts: tied embedding, per layer q/k/v/out (d x H*hd), MLP wi/wo
    (d x f, relu: one wi), one RMSNorm scale (d), and the final norm (d). The q/k/v norm scales of the attention
    (3*hd per layer) are left out: < 1e-6 of N."""
    d, H, f, L = sh["d"], sh["H"], sh["f"], sh["L"]
    return VOCAB * d + d + L * (4 * d * H * HEAD_DIM + 2 * d * f + d)


def maxtext_flops(sh, pdb, causal_half):
    n = params(sh)
    attn = 12 * sh["H"] * sh["L"] * HEAD_DIM * SEQ * SEQ * pdb
    return 6 * n * SEQ * pdb + (attn / 2 if causal_half else attn)


# (model scale, per_device_batch_size, remat_policy, ici_tensor_parallelism, chips per slice, slice name,
#  [(slices, TFLOP/s per chip, MFU %, README line)])
V5P_RUNS = [
    (32, 8, "minimal", 4, 64, "v5p-128", [(1, 328, 71.47, 23), (2, 319, 69.43, 24)]),
    (64, 4, "minimal", 4, 64, "v5p-128", [(1, 323, 70.31, 29), (2, 309, 67.26, 30)]),
    (128, 2, "minimal", 8, 128, "v5p-256", [(1, 315, 68.68, 35), (2, 305, 66.34, 36)]),
    (128, 2, "minimal", 8, 256, "v5p-512", [(1, 316, 68.83, 37), (2, 274, 59.66, 38)]),
    (256, 2, "minimal", 8, 512, "v5p-1024", [(1, 308, 67.09, 43), (2, 289, 62.99, 44)]),
    (512, 2, "full", 16, 512, "v5p-1024", [(1, 294, 63.99, 49), (2, 282, 61.45, 50)]),
    (1024, 2, "full", 16, 1024, "v5p-2048", [(1, 254, 55.35, 55), (2, 237, 51.55, 56)]),
    (1024, 2, "full", 16, 2048, "v5p-4096", [(1, 297, 64.80, 57), (2, 279, 60.83, 58)]),
]

# v5e: README.md:238-243 rows = slices 1, 2, 4, 8, 16, 32 of v5e-256; columns 16B, 32B, 64B, 128B
V5E_SLICES = [1, 2, 4, 8, 16, 32]
V5E_TABLE = {  # scale: [(TFLOP/s, MFU %) per slice count]
    16: [(120, 61.10), (117, 59.37), (117, 59.14), (115, 58.27), (111, 56.56), (108, 54.65)],
    32: [(132, 66.86), (128, 64.81), (126, 64.10), (125, 63.67), (123, 62.26), (119, 60.40)],
    64: [(118, 59.90), (112, 56.66), (110, 55.85), (108, 54.96), (105, 53.29), (99, 50.18)],
    128: [(110, 56.06), (110, 55.82), (108, 54.93), (104, 52.93), (100, 50.86), (91, 46.25)],
}
V5E_RUNS = {16: (6, 1), 32: (4, 1), 64: (2, 1), 128: (1, 16)}  # per_device_batch_size, ici_tensor_parallelism

PEAK = {"v5p": 459e12, "v5e": 197e12}  # bf16 per chip: data/accelerators/tpu-v5p.json, tpu-v5e.json


def row(rid, gen, scale, pdb, remat, tp, slice_chips, slice_name, slices, tflops, mfu, src, script, causal_half):
    sh = shape(scale)
    chips = slice_chips * slices
    f = maxtext_flops(sh, pdb, causal_half)
    step = f / (mfu / 100 * PEAK[gen])
    dp = chips // tp
    gb = pdb * chips
    conv = ("causal attention halved (train.py:77-88)" if causal_half else
            "attention counted in full, not halved for causality (train.py:75-84)")
    notes = (f"step time derived = F/(MFU*peak): F = MaxText's per-device TFLOP count of the table's commit = "
             f"6*N*s*b + 12*H*L*hd*s^2*b{'/2' if causal_half else ''} with N = {params(sh)} (computed from the "
             f"shape as calculate_num_params_from_pytree counts it), s = {SEQ}, b = per_device_batch_size {pdb}; "
             f"{conv}; F = {f / 1e12:.2f} TFLOP; MFU {mfu} % of {PEAK[gen] / 1e12:.0f} TFLOP/s (source TFLOP/s "
             f"{tflops}, consistent); model: global_parameter_scale={scale} over base.yml (d {sh['d']}, {sh['H']} "
             f"heads x head_dim {HEAD_DIM} = q width {sh['H'] * HEAD_DIM}, MHA, mlp {sh['f']} relu, {sh['L']} "
             f"layers, vocab {VOCAB} tied), PaLM-style parallel block (model_config parallel_attn: one TP "
             f"all-gather / reduce-scatter pair per layer and pass); layout: {slices} x {slice_name} = {chips} chips (one JAX device per chip: "
             f"megacore), ici_tensor_parallelism={tp} -> tp {tp}, FSDP over the slice's other "
             f"{slice_chips // tp} chips -> zero_stage 3"
             + (f", data parallelism over DCN across the {slices} slices -> hsdp {slice_chips // tp} (FSDP "
                f"groups = one slice), system = one slice as the ICI domain" if slices > 1 else "")
             + (f"; seq_parallel 1: base.yml's logical_axis_rules shard activation_embed over the tensor axis "
                f"({'76bd53b0f:MaxText/configs/base.yml:78' if causal_half else 'e47fa1b5d:MaxText/configs/base.yml:87'}), "
                f"so the residual activations are all-gathered / reduce-scattered around each block and 1/TP of them "
                f"is kept, as Megatron SP" if tp > 1 else "")
             + f"; global batch = per_device_batch_size x chips = {gb} sequences (the batch is sharded over the "
             f"data/FSDP axes only, so each TP group holds {pdb * tp}); one micro-batch (no gradient "
             f"accumulation in MaxText then); remat_policy={remat}"
             + (" (jax checkpoint_dots_with_no_batch_dims: the weight matmuls' outputs saved, attention and "
                "elementwise recomputed) -> recompute selective" if remat == "minimal" else " -> recompute full")
             + "; synthetic data (dataset_type=synthetic, reuse_example_batch=1); unstated: the step's timing "
             "window (MaxText logs per-step time; the table does not say which steps), XLA/libtpu versions")
    # the ICI domain is one slice, a torus of the slice's shape: a v5e-256 slice is a whole v5e pod (the preset); a
    # v5p slice is its own system (data/validation/maxtext/tpu-v5p-slice<chips>.json)
    sysname = f"maxtext/tpu-v5p-slice{slice_chips}.json" if gen == "v5p" else "tpu-v5e-pod"
    r = dict.fromkeys(HEADER, "")
    r.update({
        "id": rid, "model": f"MaxText {scale}B synthetic (global_parameter_scale={scale})",
        "n_layers": sh["L"], "d_model": sh["d"], "n_heads": sh["H"], "n_kv_heads": sh["H"], "ffn_dim": sh["f"],
        "ffn_type": "relu", "seq_len": SEQ, "vocab": VOCAB, "system": sysname, "n_gpus": chips, "tp": tp, "pp": 1,
        "dp": dp, "ep": 1, "cp": 1, "vpp": 1, "zero_stage": 3, "global_batch": gb, "micro_batch": gb // dp,
        "recompute": "selective" if remat == "minimal" else "full", "seq_parallel": 1 if tp > 1 else 0, "precision": "bf16",
        "measured_step_time_s": f"{step:.6g}", "measured_mfu": f"{mfu / 100:.4f}", "measured_tflops_per_gpu": tflops,
        "tflops_counts_recompute": 0, "source": src + "; " + script, "notes": notes, "software": "maxtext",
        "model_config": f"maxtext/maxtext-{scale}b.json",
        "hsdp": slice_chips // tp if slices > 1 else "",
    })
    return r


def rows():
    out = []
    for scale, pdb, remat, tp, sc, sname, runs in V5P_RUNS:
        for slices, tf, mfu, line in runs:
            rid = f"MT-V5P-{scale}B-{slices}x{sname[4:]}"
            src = (f"{V5P}:MaxText/configs/v5p/README.md:{line} ({scale}B model table, {slices}x {sname}: "
                   f"{tf} TFLOP/sec/chip, MFU {mfu:.2f}%)")
            script = (f"{V5P}:MaxText/configs/v5p/{scale}b.sh (per_device_batch_size={pdb} remat_policy={remat} "
                      f"ici_fsdp_parallelism=-1 ici_tensor_parallelism={tp} max_target_length=2048 attention=flash)")
            out.append(row(rid, "v5p", scale, pdb, remat, tp, sc, sname, slices, tf, mfu, src, script, True))
    for scale, (pdb, tp) in V5E_RUNS.items():
        for i, slices in enumerate(V5E_SLICES):
            tf, mfu = V5E_TABLE[scale][i]
            rid = f"MT-V5E-{scale}B-{slices}x256"
            src = (f"{V5E}:README.md:{238 + i} (v5e table, {slices}x v5e-256, {scale}B: {tf} TFLOP/sec/chip, MFU "
                   f"{mfu:.2f}%)")
            script = (f"{V5E}:MaxText/configs/largest_job/{scale}b.sh (per_device_batch_size={pdb} remat_policy=full"
                      + (" ici_fsdp_parallelism=16 ici_tensor_parallelism=16" if tp > 1 else "")
                      + " max_target_length=2048 enable_flash_attention=true)")
            out.append(row(rid, "v5e", scale, pdb, "full", tp, 256, "v5e-256", slices, tf, mfu, src, script, False))
    return out


def main():
    return rows_csv.write_or_check(OUT, rows_csv.csv_text(HEADER, rows()), "--check" in sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
