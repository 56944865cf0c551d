/* scaleplan.h: the public API of libscaleplan, which plans frontier-scale AI training and serving from first
 * principles (model x hardware x parallel plan -> step time, memory, energy, cost; plan search; inference;
 * scaling laws).
 *
 * Conventions:
 *  - SI base units in double everywhere (s, bytes, FLOP, FLOP/s, bytes/s, W, J); integers only for counts.
 *  - The library never prints, exits or reads the environment. Every fallible call returns sp_status and, on
 *    failure, fills an sp_error with a one-line message naming the file/line/field (or option) and what is allowed.
 *  - Evaluating a plan (sp_train_eval) and searching plans (sp_search) allocate nothing per plan.
 *  - Structs are plain values: fill them with the matching *_defaults() call, then set what you need.
 *
 * Contents, by purpose:
 *   status and errors · units and numeric types · model · hardware · plan · presets and files ·
 *   training step · plan search · fine-tuning · scaling laws · inference · energy and cost ·
 *   data files and validation · one call per command (sp_call: JSON in, JSON out)
 * Compute-scale limits (the Erdil & Schneider-Joseph 2024 reproduction and `limits --mode full`) are declared in
 * scaleplan_limits.h.
 */
#ifndef SCALEPLAN_H
#define SCALEPLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SP_VERSION "0.1.0"

/*
** Status and errors
*/
typedef enum {
    SP_OK = 0,
    SP_EINVAL = 2,      /* bad input: value out of range, unknown name, plan does not factor */
    SP_EIO = 3,         /* file cannot be read */
    SP_EPARSE = 4,      /* malformed JSON/CSV */
    SP_ENOMEM = 5,      /* allocation failed (never on the hot path) */
    SP_EINFEASIBLE = 6, /* well-formed request with no feasible answer (e.g. nothing fits in memory) */
    SP_ENOCONV = 7      /* numerical method did not converge */
} sp_status;

typedef struct {
    sp_status status;
    char msg[768];
} sp_error;

/* Formats msg into err (if non-NULL) and returns status. The message is kept on one line: control characters
 * (from quoted user text) are written as \n, \r, \t or \xHH. */
sp_status sp_fail(sp_error *err, sp_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
const char *sp_status_name(sp_status s);
/* Copies src into dst (n bytes) with control characters escaped as sp_fail does (for the CLI's own messages). */
void sp_one_line(char *dst, size_t n, const char *src);
/* "Did you mean": writes to out the name of `names` (separated by commas and/or spaces) closest to `word`
 * (case-insensitive edit distance with transpositions; at most 1 edit for words of <= 4 characters, 2 for
 * <= 8, else 3) and returns 1, or returns 0 with out = "" when none is that close. */
int sp_suggest(const char *word, const char *names, char *out, size_t n);

/*
** Units and numeric types: parse human quantities, format them
*/
typedef enum {
    SP_UNIT_NONE,     /* plain number with SI/K/M/B/T suffixes: 3.5T, 1e25, 70B, 4Mi */
    SP_UNIT_BYTES,    /* 80GiB, 80GB, 40 GB */
    SP_UNIT_BW,       /* bytes/s: 400Gb/s (bits), 900GB/s, 3.35TB/s */
    SP_UNIT_TIME,     /* seconds: 90d, 3mo, 1y, 12h, 30m(in), 4.5us */
    SP_UNIT_FLOP,     /* 1e25, 2.5e3 PF-days, 3 ZFLOP */
    SP_UNIT_FLOPS     /* FLOP/s: 989TFLOPS, 1e15 */
} sp_unit;

/* Parses text as a quantity of the given kind. Returns SP_EINVAL with a message naming `what` on failure
 * (unknown suffix, NaN, Inf, trailing garbage). */
sp_status sp_parse_quantity(const char *text, sp_unit unit, const char *what, double *out, sp_error *err);
/* Formats with a unit prefix: "1.23 TB", "4.5 us", "2.1 d". Returns buf. */
const char *sp_fmt_quantity(char *buf, size_t n, double v, sp_unit unit);

/* mxfp8: OCP microscaling FP8 (E4M3 values, one E8M0 scale per 32 elements); nvfp4: NVIDIA FP4 (E2M1 values, one
 * E4M3 scale per 16 elements + one fp32 per tensor). Both Blackwell-only tensor-core formats (docs/systems.md). */
typedef enum { SP_FP32, SP_TF32, SP_BF16, SP_FP16, SP_FP8, SP_INT8, SP_INT4, SP_FP4, SP_MXFP8, SP_NVFP4, SP_NDTYPE } sp_dtype;
const char *sp_dtype_name(sp_dtype d);
sp_status sp_dtype_parse(const char *s, sp_dtype *out, sp_error *err);
/* Bytes per element stored, scale factors included (mxfp8 1 + 1/32, nvfp4 0.5 + 1/16). */
double sp_dtype_bytes(sp_dtype d);
/* 1 for the scaled low-precision GEMM formats of training (fp8, mxfp8, nvfp4, fp4): GEMM inputs are cast per
 * tensor or block, the tensors listed in docs/systems.md (attention core, router, LM head, norms, optimizer
 * state, master weights) stay in 16/32 bits. */
int sp_dtype_is_quantized(sp_dtype d);
/* The 16-bit type a quantized plan keeps its high-precision tensors in (bf16); d itself otherwise. */
sp_dtype sp_dtype_high(sp_dtype d);
/* FP8 scaling recipes (Transformer Engine / Megatron-Core --fp8-recipe): delayed = tensor-wise scale from an amax
 * history (Hopper default), current = tensor-wise scale from this tensor's amax (one more read pass), blockwise
 * = 1x128 activation / 128x128 weight tiles with fp32 scales (DeepSeek-V3 §3.3); rowwise = torchao's axiswise
 * dynamic scaling (Float8LinearConfig recipe "rowwise": one scale per row along each GEMM's reduction dimension,
 * every operand cast once per GEMM that reads it; not a Transformer Engine recipe). 0 = the stack's default. */
typedef enum {
    SP_FP8_RECIPE_DEFAULT,
    SP_FP8_DELAYED,
    SP_FP8_CURRENT,
    SP_FP8_BLOCKWISE,
    SP_FP8_ROWWISE,
    SP_FP8_NRECIPE
} sp_fp8_recipe;
const char *sp_fp8_recipe_name(sp_fp8_recipe r);
sp_status sp_fp8_recipe_parse(const char *s, sp_fp8_recipe *out, sp_error *err);
/* Bytes moved per element by the cast of a 16-bit tensor to d under recipe r (read 2, write sp_dtype_bytes, plus
 * the recipe's scale bytes and extra amax pass); used by the step's cast ops. */
double sp_quant_cast_bytes(sp_dtype d, sp_fp8_recipe r);
/* bytes per element of one NVFP4 training operand quantized into both layouts (amax + row-wise and Hadamard
 * column-wise copies; Transformer Engine NVFP4BlockScaling) */
double sp_nvfp4_dual_cast_bytes(void);

/*
** Model: a decoder-only transformer, dense or MoE
*/
typedef enum { SP_NORM_LAYERNORM, SP_NORM_RMSNORM } sp_norm;

/* What mixes tokens in a layer (its "mixer") and what transforms each token (its FFN). A layer is one
 * (mixer, FFN) pair; either may be SP_MIX_NONE / SP_FFN_NONE (Nemotron-H blocks have one of the two). */
typedef enum {
    SP_MIX_ATTN,   /* full causal attention (MHA/GQA/MQA) */
    SP_MIX_SWA,    /* sliding-window (or chunked) attention over the last `sliding_window` tokens */
    SP_MIX_MLA,    /* multi-head latent attention (DeepSeek-V2/V3) */
    SP_MIX_MAMBA2, /* Mamba-2 selective state-space mixer (SSD) */
    SP_MIX_MAMBA1, /* Mamba-1 selective scan (Jamba) */
    SP_MIX_GDN,    /* gated DeltaNet linear attention (Qwen3-Next) */
    SP_MIX_NONE,
    SP_NMIXER
} sp_mixer;
typedef enum { SP_FFN_DENSE, SP_FFN_MOE, SP_FFN_NONE, SP_NFFN } sp_ffn;
const char *sp_mixer_name(sp_mixer k); /* "attention", "sliding_attention", "mla", "mamba2", ... */
const char *sp_ffn_name(sp_ffn k);     /* "dense", "moe", "none" */

#define SP_MAX_LAYERS 512 /* layers whose kinds are listed one by one (uniform models have no limit) */

typedef struct {
    char name[64];
    int n_layers;          /* L */
    int d_model;           /* h */
    int n_heads;           /* a */
    int n_kv_heads;        /* g (GQA); = a for MHA, 1 for MQA */
    int d_head;            /* default h/a */
    int ffn_dim;           /* f of a dense MLP */
    int gated;             /* 1: SwiGLU/GeGLU (3 matrices), 0: GELU (2 matrices) */
    int vocab;             /* V */
    int tied_embeddings;   /* LM head shares the embedding matrix */
    int learned_pos;       /* learned absolute position embeddings (GPT-2/3) of max_seq rows */
    int max_seq;           /* max_position_embeddings */
    int biases;            /* linear layers carry biases (GPT-2/3, MPT=0) */
    sp_norm norm;
    /* MoE (n_experts == 0 or 1: dense) */
    int n_experts;         /* routed experts E */
    int top_k;             /* experts per token k */
    int n_shared_experts;  /* always-active experts */
    int moe_ffn_dim;       /* FFN width of one expert (default ffn_dim) */
    int first_dense_layers;/* leading layers with a dense MLP (DeepSeek: 3) */
    int n_group, topk_group;/* node-limited routing: experts in n_group groups, a token uses <= topk_group groups */
    /* MLA (DeepSeek-V2/V3) attention; 0 = standard attention */
    int q_lora_rank, kv_lora_rank, qk_rope_head_dim, qk_nope_head_dim, v_head_dim;
    /* ---- layers that differ (issue 25). n_pattern == 0: every layer alike (MLA when kv_lora_rank > 0,
     * else full attention; a dense FFN in the first first_dense_layers, MoE after when n_experts > 1).
     * Else n_pattern == n_layers and mixer[i], ffn[i] give layer i. ---- */
    int n_pattern;
    unsigned char mixer[SP_MAX_LAYERS]; /* sp_mixer */
    unsigned char ffn[SP_MAX_LAYERS];   /* sp_ffn */
    int sliding_window;    /* tokens a SP_MIX_SWA layer attends to */
    int attn_sinks;        /* one learned sink logit per head and layer (GPT-OSS) */
    /* dropout probabilities it trains with (HF attention_dropout / attn_pdrop; hidden_dropout / resid_pdrop /
     * embd_pdrop / dropout): a mask is kept and applied only where > 0 */
    double attn_dropout;   /* on the attention probabilities */
    double hidden_dropout; /* on the embedding output and each sublayer's output before the residual add */
    int qk_norm;           /* RMSNorm over each head of q and k (Qwen3, OLMoE, Gemma 3): 2 d_head weights */
    int attn_gate;         /* sigmoid output gate: the q projection is twice as wide (Qwen3-Next) */
    int qkv_bias;          /* biases on q, k, v only (Qwen2) */
    int attn_bias;         /* biases on q, k, v and o (GPT-OSS, Phi-3.5-MoE) */
    int mlp_bias;          /* biases in the MLPs and experts (GPT-OSS) */
    double rope_mscale;    /* YaRN's concentration factor on RoPE's cos and sin (Megatron-Core's mscale; HF rope_scaling
                              yarn: 0.1 ln(factor) + 1 unless mscale / mscale_all_dim cancel it), 0 = none */
    double act_clamp;      /* the gated activation's two inputs clamped at this limit, 0 = none (GPT-OSS: HF
                              swiglu_limit): Megatron-Core clamps the experts' halves in eager kernels (ops.c) */
    int router_bias;       /* the router has a bias (GPT-OSS) */
    int post_norms;        /* a second norm after each sublayer (Gemma 2/3: four per layer) */
    int parallel_block;    /* attention and MLP read the same layer input and their outputs are added to the residual
                              together (GPT-J, GPT-NeoX use_parallel_residual, PaLM, MaxText's 2023 decoder): with TP
                              one all-reduce (SP: all-gather + reduce-scatter) per layer and pass, not one per block */
    int shared_ffn_dim;    /* width of the shared expert when not a multiple of moe_ffn_dim (0: n_shared x moe) */
    int shared_gate;       /* sigmoid gate on the shared expert: h weights (Qwen2-MoE, Qwen3-Next) */
    int moe_latent;        /* LatentMoE: routed experts work in this width, with h->latent->h projections */
    /* Mamba (SP_MIX_MAMBA2: heads x head_dim = inner; SP_MIX_MAMBA1: inner, dt_rank) */
    int ssm_inner, ssm_heads, ssm_head_dim, ssm_state, ssm_groups, ssm_conv, ssm_dt_rank;
    int ssm_conv_bias, ssm_proj_bias;
    /* gated DeltaNet */
    int gdn_k_heads, gdn_v_heads, gdn_k_dim, gdn_v_dim, gdn_conv;
    /* multi-token prediction: n_mtp modules, each a projection 2h->h, norms and one layer of these kinds */
    int n_mtp;
    unsigned char mtp_mixer, mtp_ffn;
} sp_model;

typedef struct {
    double total;          /* all parameters of the main model (MTP modules and vision tower not included) */
    double active;         /* parameters touched per token (MoE: k routed + shared experts) */
    double embedding;      /* input embedding (+ learned positions) */
    double lm_head;        /* 0 when tied */
    double attn_per_layer; /* attention weights of one layer */
    double mlp_dense_per_layer;   /* dense MLP of one layer */
    double expert;         /* one routed expert */
    double moe_per_layer;  /* all routed + shared experts + router of one MoE layer */
    double norm_per_layer; /* norms + biases of one layer */
    double layers_total;   /* all transformer layers */
    /* by component, over all layers */
    int count[SP_NMIXER][SP_NFFN];  /* layers of each (mixer, FFN) kind */
    double mixer_total[SP_NMIXER];  /* mixer weights by kind (attention incl. sinks, q/k norms, biases) */
    double dense_ffn_total;         /* dense MLPs */
    double routed_total;            /* routed experts (all) */
    double routed_active;           /* routed experts a token uses (k per MoE layer) */
    double shared_router_total;     /* shared experts, routers, latent projections */
    double norms_total;             /* layer norms + final norm */
    double mtp;                     /* multi-token-prediction modules (embedding and head shared) */
} sp_param_count;

void sp_model_defaults(sp_model *m);              /* fills zeros with documented defaults */
sp_status sp_model_check(const sp_model *m, const char *where, sp_error *err);
void sp_model_params(const sp_model *m, sp_param_count *out);
/* Forward matmul FLOPs per token for a sequence of length s (attention over s, no causal halving:
 * Megatron's convention; sliding layers over min(s, window); Mamba/DeltaNet layers constant in s),
 * counting only active parameters; includes LM head and MTP modules. */
double sp_model_fwd_flops_per_token(const sp_model *m, int seq_len);
/* The same with the MTP module run `mtp_depths` times (a plan's sp_plan_mtp_depths) instead of once per module, and
 * the attention over a context of ctx keys (the sequence length, or a packed plan's sp_plan_attn_context). */
double sp_model_fwd_flops_mtp(const sp_model *m, double ctx, int mtp_depths);
/* Model FLOPs of one training iteration (3 x forward) for `tokens` tokens of length s. */
double sp_model_train_flops(const sp_model *m, int seq_len, double tokens);
int sp_model_is_moe(const sp_model *m);
sp_mixer sp_model_mixer(const sp_model *m, int layer); /* kind of layer i (0-based) */
sp_ffn sp_model_ffn(const sp_model *m, int layer);
/* Decode-time cache of one sequence of s tokens at `bytes` per element: KV of attention layers (sliding
 * ones hold at most the window) and MLA latents grow with s (*per_token: bytes per token at s -> 0 for
 * layers that stop growing); Mamba/DeltaNet states (kept in fp32, as Mamba's cache) and conv windows are
 * fixed per sequence (*per_seq). */
void sp_model_cache_bytes(const sp_model *m, int seq_len, double bytes, double *per_token, double *per_seq);
/* Decode state of one sequence in one layer of a recurrent kind (Mamba-1/2, gated DeltaNet): the fp32 state and the
 * conv window at `bytes` per element; 0 for attention kinds. */
double sp_model_state_bytes(const sp_model *m, sp_mixer k, double bytes);
/* SP_OK when the training/inference step prices every layer of m; else names the first feature it does
 * not ("layer type 'mamba2' is not modelled by the training step yet"). `what` names the command. */
sp_status sp_model_step_check(const sp_model *m, const char *what, sp_error *err);
/* Weights of one layer's mixer of kind k; attention-core FLOPs per token of one layer of kind k at s tokens. */
double sp_model_mixer_params(const sp_model *m, sp_mixer k);
double sp_model_attn_core_flops(const sp_model *m, sp_mixer k, double s);

/*
** Hardware: accelerators, network tiers, systems; time of one GEMM, kernel or collective
*/
/* Efficiency constants of one accelerator family, calibrated once per family (never per run). */
typedef struct {
    double gemm_max;       /* fraction of dense peak a large, well-shaped GEMM reaches */
    double gemm_tile_m;    /* output tile rows used for wave quantization */
    double gemm_tile_n;    /* output tile cols */
    double gemm_k_half;    /* k at which the main-loop pipeline runs at half efficiency */
    double mem;            /* fraction of HBM bandwidth memory-bound kernels reach */
    double attn;           /* flash-attention kernel efficiency relative to gemm_max */
    double kernel_overhead_s; /* launch + tail per kernel */
    double fp8_gemm_max;   /* FP8 GEMMs: gemm_max as a fraction of the FP8 peak (0 = same curve as gemm_max) */
    double fp8_gemm_k_half;/* FP8 GEMMs: k_half (0 = gemm_k_half) */
    /* measured attention kernels of this family, fraction of the 16-bit dense peak, forward and backward, per
     * kernel class (index sp_attn_kernel; 0 = not measured: gemm_max x attn) */
    double attn_fwd[4], attn_bwd[4];
    /* the same kernels on a narrow sliding band (fraction of peak on the key blocks the band computes; 0 = not
     * measured: the class's full rate) */
    double attn_band_fwd[4], attn_band_bwd[4];
    /* head dims (query-key + value) of the shapes attn_fwd / attn_bwd were measured at, per class (attn_kernels
     * head_dim x 2; 0 = not stated: no head-dim correction, ops.c attn_exp_scale) */
    double attn_ref_hd[4];
    /* cuDNN's MXFP8 / BF16 attention rate ratios measured on this accelerator (efficiency.mxfp8_attn: forward,
     * backward, MLA forward, MLA backward, sliding band forward, band backward x tokens; all 0 = not measured here:
     * GB200's, ops.c MXFP8_*) */
    double mxfp8_attn[6];
    double comm_sms;       /* SMs an overlapped NCCL collective occupies (its CTAs), taken from the compute it
                            * overlaps; 0 = communication off the compute units (collective.c sp_comm_sm_share) */
    double grouped_gemm;   /* MoE grouped expert GEMMs: fraction of the GEMM curve the stack's grouped kernel reaches
                              (0 = 1; set by the software stack's moe_gemm factor, docs/calibration.md) */
    double mxfp8_gemm_rel; /* MXFP8 GEMMs: the scaled-format curve x this (measured FP8 per-tensor / MXFP8 GEMM time
                              on the same shapes; 0 = 1) */
    double nvfp4_gemm_rel; /* NVFP4 GEMMs: the scaled-format curve x this (measured NVFP4 / FP8 GEMM speedup over
                              the peak ratio; 0 = 1) */
} sp_efficiency;

/* Attention kernel classes a software stack runs (data/software kernels.attention_class; docs/model.md). */
typedef enum { SP_ATTN_GENERIC, SP_ATTN_FA2, SP_ATTN_FA3, SP_ATTN_CUDNN, SP_NATTN } sp_attn_kernel;
/* "fa2", "fa3", "cudnn", "generic"; SP_EINVAL otherwise */
sp_status sp_attn_kernel_parse(const char *s, sp_attn_kernel *out);
const char *sp_attn_kernel_name(sp_attn_kernel k);

typedef struct {
    char name[48];
    char family[16];          /* hardware family (ampere, hopper, blackwell, ...): keys a stack's efficiency factors */
    double peak[SP_NDTYPE];   /* dense peak FLOP/s per dtype (0 = unsupported) */
    double hbm_bytes;
    double hbm_bw;            /* bytes/s */
    double l2_bytes;
    int n_sm;                 /* streaming multiprocessors / compute units (wave quantization) */
    int fp8_any_layout;       /* FP8 GEMMs take non-TN layouts (Blackwell): per-tensor FP8 needs no transposed copies */
    double mma_clk_sm;        /* dense 16-bit tensor-core FLOPs per clock per SM (tensor_flops_per_clk_sm; 0 = not
                                 stated) */
    double exp_clk_sm;        /* exponentials per clock per SM of the special-function units (exp2_per_clk_sm; 0 = not
                                 stated): with mma_clk_sm, the attention exponent-unit roofline (ops.c attn_exp_scale) */
    int cc;                   /* CUDA compute capability as 10 x major + minor (accelerator field compute_capability:
                                 90 = 9.0 Hopper, 100 = 10.0 B200/GB200, 103 = 10.3 B300/GB300): what Transformer
                                 Engine, cuDNN and PyTorch gate kernels on (ops.c, memory.c); 0 = not a CUDA GPU or
                                 not stated (no compute-capability-gated kernel) */
    double tdp_w;
    double idle_w;
    double price_usd;
    sp_efficiency eff;
} sp_accel;

#define SP_MAX_TIERS 4
#define SP_TORUS_DIMS 3 /* TPU v4/v5p/v7: 3D tori; v5e/v6e: 2D */
typedef struct {
    char name[32];
    int size;                 /* accelerators inside one domain of this tier (8 = NVLink node); last tier
                                 spans the whole cluster */
    double bw;                /* per accelerator, per direction, bytes/s */
    double latency_s;         /* per hop / per collective step */
    double eff;               /* achievable fraction of bw for large collectives (NCCL bus bandwidth) */
    double sharp_eff;         /* in-network reduction (NVLink SHARP / NVLS on NVSwitch 3+, InfiniBand SHARP): an
                                 all-reduce's achievable fraction of bw when the switches add; 0 = none */
    int torus[SP_TORUS_DIMS]; /* a torus domain's axis lengths, the axis consecutive ranks run along first; 0 = unused
                                 (a switched or flat tier): a group gets the links of the axes it spans (collective.c) */
} sp_tier;

typedef struct {
    char name[64];
    sp_accel acc;
    int n_tiers;
    sp_tier tier[SP_MAX_TIERS]; /* tier[0] innermost (scale-up), increasing */
    int max_accels;           /* size of the cluster, 0 = unlimited */
    int flash_attention;      /* default attention kernel of the software stack this preset describes */
    int overlap_tp;           /* stack overlaps TP communication with compute (0 = Megatron 2021-22) */
    int overlap_dp;           /* stack overlaps DP gradient reduction with backward (PyTorch DDP/FSDP: 1) */
    int overlap_ep;           /* stack overlaps the MoE all-to-all with computation (DeepSeek's DualPipe: 1) */
    int overlap_pp;           /* stack overlaps the pipeline sends with computation under the interleaved schedule
                                 (Megatron-Core overlap_p2p_comm with vpp > 1; docs/model.md "Pipeline sends") */
    int pp_send_wait;         /* ... but waits for each forward send before its next kernels (kernels.pp_send_wait) */
    char one_queue[64];       /* hardware families on which the stack launches TP > 1 or CP > 1 jobs with one device
                                 connection, serializing its streams (kernels.one_queue; docs/model.md "Pipeline sends") */
    int one_queue_ep;         /* ... jobs with MoE EP overlap too (kernels.one_queue_ep_overlap) */
    int tp_micro_pipeline;    /* overlap_tp as PyTorch's async TP runs it (kernels.tp_overlap "micro_pipeline"): each
                                 collective decomposed with the GEMM it feeds or follows (docs/model.md "Async TP") */
    int separate_qkv;         /* the stack's model code runs the query, key and value projections as three GEMMs
                                 (kernels.separate_qkv; docs/model.md "Separate projections") */
    int separate_gate_up;     /* ... and a gated MLP's gate and up projections as two (kernels.separate_gate_up) */
    int a2a_dispatch_16bit;   /* the stack's all-to-all (and all-gather) MoE dispatcher sends the layer's 16-bit
                                 activations, the expert GEMMs quantizing what they receive
                                 (kernels.alltoall_dispatch_16bit; docs/model.md "MoE") */
    sp_attn_kernel attn_kernel; /* attention kernel class of the stack (SP_ATTN_GENERIC: the family's attn) */
    int attn_no_sinks;        /* the stack's fused attention has no learned softmax sinks: a model with sinks runs the
                                 unfused (standard) attention core */
    int rope_mscale_unfused;  /* the stack applies a YaRN-scaled RoPE (model rope_mscale != 1) in unfused eager kernels
                                 (Megatron-Core since 2025-11: its fused RoPE takes no mscale) */
    int ssd_scan_triton;      /* the stack runs Mamba-2's SSD scan as mamba_ssm's Triton kernels (kernels.ssd_scan
                                 "triton"): its tile products no faster than the SM-bound scan rate (ops.c
                                 SCAN_FP32_RATE; docs/model.md "Mamba-2"); 0: no such floor */
    int cudnn_frontend;       /* the cudnn-frontend release the stack's container ships (kernels.cudnn_frontend) as
                                 10000 x major + 100 x minor + patch (1.24.0 = 12400); 0: not stated. Its CuTe-DSL
                                 grouped-GEMM kernels run Transformer Engine's fused grouped MLP (ops.c DGLU_DBIAS_*) */
    char stack[48];           /* the software stack this installation usually runs (data/software/NAME.json); "" none */
    char description[160];
    /* energy and cost */
    double host_w_per_accel;  /* CPU, NIC, fans, switches per accelerator */
    double host_kernel_s;     /* host (CPU) time to dispatch one eager kernel from the training framework; 0 = the
                                 x86 host's measured figure (ops.c HOST_KERNEL_X86_S; docs/model.md "Host dispatch") */
    double pue;
    double grid_kg_per_kwh;
    double usd_per_accel_hour;
    /* the link between an accelerator and its host's memory, per direction, as one accelerator copies alone
     * (nvbandwidth's memcpy_ce): device to host, host to device; 0 = not stated (activation offload copies are then
     * not priced; docs/systems.md "host_d2h, host_h2d") */
    double host_d2h_bw, host_h2d_bw;
} sp_system;

void sp_system_defaults(sp_system *s);
sp_status sp_system_check(const sp_system *s, const char *where, sp_error *err);
/* Peak FLOP/s for a dtype; falls back to the next wider supported type (fp8 -> bf16 -> fp16). */
double sp_accel_peak(const sp_accel *a, sp_dtype d);
/* SP_OK when the accelerator has a peak for d (bf16 and fp16 stand in for each other: same width, same tensor
 * cores); otherwise an error naming the accelerator and the dtypes it has (fp8 on A100 is refused, never costed
 * at the bf16 rate). */
sp_status sp_accel_dtype_check(const sp_accel *a, sp_dtype d, sp_error *err);
/* HBM bytes per element of quantizing one GEMM operand as Transformer Engine does (hardware.c; any_layout: the
 * accelerator's FP8 GEMMs take non-TN layouts, sp_accel.fp8_any_layout): an input or output gradient in forward /
 * backward (wgrad: a trained weight's GEMM needs its column-wise copy too), the backward re-layout of a saved input
 * for the weight-gradient GEMM, and one weight cast. */
double sp_quant_operand_bytes(int any_layout, sp_dtype d, sp_fp8_recipe r, int wgrad);
double sp_quant_relayout_bytes(int any_layout, sp_dtype d, sp_fp8_recipe r);
double sp_quant_weight_bytes(int any_layout, sp_dtype d, sp_fp8_recipe r);
/* NVFP4 under TE v2.12: the extra read of each Hadamard-transformed operand (inputs, output gradients) */
double sp_nvfp4_split_cast_extra_bytes(void);
/* Time of one GEMM (m x k) * (k x n), `batch` independent copies, on one accelerator. */
double sp_gemm_time(const sp_accel *a, sp_dtype d, double m, double n, double k, double batch);
/* Achieved fraction of peak of that GEMM (no launch overhead). */
double sp_gemm_eff(const sp_accel *a, double m, double n, double k, double batch);
/* Time of a memory-bound kernel moving `bytes` (read + write). */
double sp_mem_time(const sp_accel *a, double bytes);

typedef enum { SP_COLL_ALLREDUCE, SP_COLL_REDUCESCATTER, SP_COLL_ALLGATHER, SP_COLL_ALLTOALL, SP_COLL_P2P } sp_coll;
/* Time of a collective among `p` ranks whose consecutive members are `stride` apart in the global rank
 * order (TP innermost). `bytes` is the full buffer size per rank (all-reduce input, all-gather output).
 * Hierarchical when the group spans tiers. */
double sp_collective_time(const sp_system *s, sp_coll kind, int p, int stride, double bytes);

/*
** Parallel plan: one decomposition of a training job
*/
typedef enum { SP_RECOMPUTE_NONE, SP_RECOMPUTE_SELECTIVE, SP_RECOMPUTE_FULL } sp_recompute;
/* MoE token dispatchers (Megatron-Core moe_token_dispatcher_type; docs/systems.md "MoE dispatchers"): alltoall and
 * allgather (the token counts go to the host every MoE layer), deepep and hybridep (Megatron-Core's flex dispatcher
 * with the DeepEP or HybridEP backend: fused permute + all-to-all kernels). */
typedef enum { SP_DISP_ALLTOALL, SP_DISP_ALLGATHER, SP_DISP_DEEPEP, SP_DISP_HYBRIDEP, SP_NDISP } sp_moe_dispatcher;
/* "alltoall", "allgather", "deepep", "hybridep"; otherwise SP_EINVAL with a message naming them */
sp_status sp_moe_dispatcher_parse(const char *s, sp_moe_dispatcher *out, sp_error *err);
const char *sp_moe_dispatcher_name(sp_moe_dispatcher d);
/* Elementwise ops a plan runs as eager PyTorch kernels, one per tensor op, instead of fused (torch.compile's
 * inductor, Transformer Engine, a Triton kernel; docs/model.md "Eager elementwise ops"): the RMSNorms, the rotary
 * embedding, the gated activation. */
#define SP_EAGER_NORM 1u
#define SP_EAGER_ROPE 2u
#define SP_EAGER_ACT 4u
/* "none" or a comma list of norm, rope, act; otherwise SP_EINVAL naming them */
sp_status sp_eager_ops_parse(const char *s, unsigned *out, sp_error *err);
/* CUDA-graph capture scopes (Megatron-Core cuda_graph_impl / cuda_graph_modules, NVIDIA/Megatron-LM@d98e8a64ddf3:
 * megatron/core/transformer/enums.py:61-73; docs/systems.md "CUDA graphs"): per-layer parts, the whole layer, or
 * the full iteration (forward and backward of every micro-batch). */
#define SP_GRAPH_ATTN 1u           /* the attention block (norm, projections, core) */
#define SP_GRAPH_MLP 2u            /* a dense layer's MLP block */
#define SP_GRAPH_MOE 4u            /* a MoE layer's whole FFN block (only a sync-free MoE layer can be captured) */
#define SP_GRAPH_MOE_ROUTER 8u     /* the MoE block up to and including the router (and the shared experts) */
#define SP_GRAPH_MOE_PREPROCESS 16u /* the dispatcher's preprocessing (token counts, split sizes) */
#define SP_GRAPH_MAMBA 32u         /* a Mamba / recurrent mixer */
#define SP_GRAPH_FULL_ITERATION 64u /* the whole forward-backward of the step (cuda_graph_impl full_iteration) */
#define SP_GRAPH_LAYER (SP_GRAPH_ATTN | SP_GRAPH_MLP | SP_GRAPH_MOE | SP_GRAPH_MOE_ROUTER | SP_GRAPH_MOE_PREPROCESS | \
                        SP_GRAPH_MAMBA) /* the whole transformer layer (Megatron's empty scope list) */
/* "none", "full_iteration", "layer", or a comma list of attn, mlp, moe, moe_router, moe_preprocess, mamba, layer;
 * otherwise SP_EINVAL with a message naming them */
sp_status sp_cuda_graphs_parse(const char *s, unsigned *out, sp_error *err);
/* the canonical text of a scope set ("none", "full_iteration", "layer", "attn,moe_router,moe_preprocess") */
const char *sp_cuda_graphs_name(unsigned g, char *buf, size_t n);
/* Pipeline schedules (docs/model.md "Schedules"): 1F1B (interleaved when vpp > 1; Narayanan et al. 2021), ZB-H1 and
 * ZB-V (Qi et al. 2023, arXiv:2401.10241), DualPipe (DeepSeek-V3 report, arXiv:2412.19437 §3.2.1, Table 2). */
typedef enum { SP_SCHED_1F1B, SP_SCHED_ZBH1, SP_SCHED_ZBV, SP_SCHED_DUALPIPE } sp_schedule;
/* "1f1b", "interleaved" (1F1B, needs vpp > 1), "zb-h1", "zb-v", "dualpipe"; SP_EINVAL otherwise */
sp_status sp_schedule_parse(const char *s, sp_schedule *out, int *interleaved);
const char *sp_schedule_name(sp_schedule k, int vpp);
const char *sp_recompute_name(sp_recompute r);
/* Megatron-Core's selective recompute modules (recompute_modules, NVIDIA/Megatron-LM@d98e8a64ddf3:
 * megatron/core/transformer/transformer_config.py:560-584; docs/model.md "Recompute modules"): the attention core,
 * a dense layer's MLP, the MoE experts' activation function, the separate pre-MLP / MLA input norms, MLA's
 * up-projections, the whole MoE layer, the shared experts. */
#define SP_RCM_CORE_ATTN 1u
#define SP_RCM_MLP 2u
#define SP_RCM_MOE_ACT 4u
#define SP_RCM_LAYERNORM 8u
#define SP_RCM_MLA_UP_PROJ 16u
#define SP_RCM_MOE 32u
#define SP_RCM_SHARED_EXPERTS 64u
/* torchtitan's per-op selective AC (SelectiveAC, docs/model.md "Recompute modules"): op_sac re-runs a block's
 * elementwise ops, its sequence-parallel all-gathers and every second projection GEMM and keeps only what its save
 * list names. A bit above SP_RCM_LAYER. */
#define SP_RCM_OP_SAC 0x200u
#define SP_RCM_MODULES (127u | SP_RCM_OP_SAC)
/* A comma list of core_attn, mlp, moe_act, layernorm, mla_up_proj, moe, shared_experts, op_sac (or "none": the
 * empty set);
 * otherwise SP_EINVAL with a message naming them. *out gets the bits (SP_RCM_NONE_SET for the empty list). */
#define SP_RCM_NONE_SET 0x80u
sp_status sp_recompute_modules_parse(const char *s, unsigned *out, sp_error *err);
/* the canonical text of a module set ("core_attn,mlp"; "none" for the empty set) */
const char *sp_recompute_modules_name(unsigned set, char *buf, size_t n);

#define SP_PP_LAYOUT_MAX 96 /* bytes of a plan's pipeline layout text, its terminator included */
typedef struct {
    int n_gpus;
    int tp, pp, dp, cp, ep;
    int vpp;                 /* virtual pipeline stages per GPU (interleaved 1F1B); 1 = plain 1F1B */
    int micro_batch;         /* sequences */
    int global_batch;        /* sequences */
    int seq_len;
    sp_recompute recompute;
    int seq_parallel;        /* Megatron sequence parallelism (needs tp > 1 to matter) */
    int zero;                /* 0..3; 3 = FSDP FULL_SHARD */
    int zero3_keep;          /* ZeRO-3 / FSDP: 1 = the gathered weights are kept from forward to backward (PyTorch
                                FSDP reshard_after_forward=False): full weights at the peak, one all-gather per
                                micro-batch; 0 = resharded after forward and gathered again for backward */
    int hsdp;                /* hybrid sharding (HSDP): ZeRO states sharded over groups of this many data-parallel
                                ranks and replicated across the groups (gradients all-reduced between them once per
                                step); 0 = sharded over the whole data-parallel group */
    sp_dtype dtype;          /* compute dtype of GEMMs */
    int flash_attention;     /* -1 = system default */
    int dp_overlap;          /* -1 = default (1) : DP gradient communication overlapped with backward */
    double grad_bytes;       /* bytes per gradient held: 0 = 4 (fp32 main grads, Megatron); 2 for HF/DeepSpeed */
    double weight_bytes;     /* bytes per trainable weight held: 0 = 2 (16-bit copy beside an fp32 master); 4 when
                                the fp32 master is the weight (FSDP, MaxText) */
    double optimizer_bytes;  /* optimizer bytes per parameter: 0 = 12 (fp32 master + Adam moments); 8 when the
                                master is counted in weight_bytes */
    /* fine-tuning: base weights frozen, low-rank adapters trained */
    int frozen_base;         /* 1: no weight gradients or optimizer state for base weights */
    int lora_rank;           /* 0: no adapters */
    unsigned lora_targets;   /* SP_LORA_ATTN | SP_LORA_MLP */
    double base_weight_bytes;/* bytes per frozen base weight: 0 = 2 (bf16); 1 int8; 0.516 NF4 + double quant */
    /* MoE */
    int etp;                 /* expert tensor parallelism: experts sharded ETP-way inside, EP-way across; 0 = tp */
    int ep_fold;             /* 0: EP is a factor of the GPU count beside DP (n_gpus = tp·cp·ep·dp·pp, dp = the dense
                                replicas per EP rank); 1: Megatron-Core parallel folding: dp is the attention's data
                                parallelism n_gpus/(tp·cp·pp) and the ETP x EP expert group is carved out of the
                                same TP x CP x DP ranks (ep·etp divides tp·cp·dp; docs/model.md) */
    double capacity_factor;  /* expert capacity c: an expert takes at most c x T·k/E tokens; 0 = dropless */
    int moe_pad;             /* 1: expert buffers padded to capacity (static shapes, GShard/Switch); needs c > 0 */
    int moe_router_fusion;   /* 1: the router's top-k and aux loss run Transformer Engine's fused kernels
                                (Megatron-Core moe_router_fusion; ops.c ROUTER_FUSED_*); 0: the unfused code */
    int moe_fused_mlp;       /* 1: the routed experts run Transformer Engine's CuTe-DSL fused grouped MLP (Megatron-Bridge
                                cutedsl_fused_grouped_mlp): the gated activation and the quantization of the second
                                GEMM's input (forward) and the first's output gradient (backward) in the GEMMs'
                                epilogues; applies to MXFP8 on compute capability 10.x only (ops.c moe_fused); 0: unfused */
    int fp8_output_proj;     /* 1: the LM head (and each MTP depth's pass through it) runs as Transformer Engine's
                                MXFP8 linear (Megatron-Core fp8_output_proj, TELMHeadColumnParallelLinear) under an
                                MXFP8 recipe: ops.c sp_ops_lm_head; 0: BF16 (the default) */
    int fp8_attention;       /* 1: FP8 attention (Megatron-Bridge fp8_dot_product_attention): under MXFP8 on the
                                cuDNN kernels of compute capability >= 10.0, cuDNN's measured MXFP8 / BF16 rate
                                ratio (ops.c flash_fp8); elsewhere no effect */
    double moe_imbalance;    /* tokens of the busiest EP rank / mean (>= 1); 0 = 1 (uniform routing) */
    sp_fp8_recipe fp8_recipe;/* scaling recipe of fp8 GEMMs; 0 = the stack's default */
    int te_quant;            /* 1: FP8/FP4 operands quantized as Transformer Engine under Megatron-Core does (weights
                                once per step, both MX layouts in one cast, no transposes where FP8 GEMMs take any
                                layout); 0: the generic casts (ops.c fp8_casts); from the stack */
    int nvfp4_split;         /* 1: TE quantizes NVFP4's Hadamard operands in two passes (TE v2.12; hardware.c
                                sp_nvfp4_split_cast_extra_bytes); from the stack's release */
    unsigned cuda_graphs;    /* SP_GRAPH_* scopes captured in CUDA graphs (their kernels cost no host dispatch); 0 = none
                                (eager) unless the stack's default fills it (docs/systems.md "CUDA graphs") */
    sp_moe_dispatcher moe_dispatcher; /* MoE token dispatcher (alltoall unless the stack's default fills it) */
    unsigned eager_ops;      /* SP_EAGER_* elementwise ops run as eager kernels; 0 = fused (the stack's default fills
                                it: kernels.eager_ops) */
    int grad_reduce_fp32;    /* 1: data-parallel gradient collectives carry fp32 (4 B), else 16-bit (the stack's
                                defaults.grad_reduce_fp32) */
    sp_schedule schedule;    /* pipeline schedule (SP_SCHED_1F1B: 1F1B, interleaved when vpp > 1) */
    int offload_layers;      /* activations of the first N layers of each pipeline stage kept in host memory between
                                their forward and backward (Megatron-Core cpu_offloading_num_layers; docs/model.md
                                "Activation offloading"); 0 = none */
    double doc_len;          /* packed sequences: the mean length in tokens of the samples packed into one sequence,
                                each attending only within itself (Transformer Engine's THD layout with cu_seqlens,
                                Megatron-Core packed_seq_params, NeMo packed_sequence; docs/model.md "Packed
                                sequences"); 0 = unpacked (one sample fills the sequence) */
    double doc_len_cv;       /* packed sequences: the samples' length coefficient of variation (standard deviation /
                                mean); 0 = every sample of the mean length */
    int mtp_layers;          /* multi-token prediction depths run per step (Megatron-Core mtp_num_layers with
                                mtp_use_repeated_layer: the model's MTP module applied this many times, its weights
                                shared; docs/model.md "MTP depths"); 0 = one depth per MTP module of the model */
    int zero_bubble;         /* 1: a zero-bubble pipeline schedule (ZB-H2 / ZB-V class, Qi et al. 2023): no fill
                                and drain bubble; its extra activation memory is not modelled (limits idealisation) */
    unsigned recompute_modules; /* SP_RCM_* modules selective recompute re-runs; 0 = {core_attn} (Megatron-Core's
                                   default), SP_RCM_NONE_SET = none of them */
    int recompute_layers;    /* full recompute, block method: this many layers per pipeline (virtual) stage are
                                recomputed, the rest not (Megatron-Core recompute_method block, recompute_num_layers);
                                0 = every layer (uniform) */
    int bf16_first, bf16_last; /* under a quantized dtype (fp8, mxfp8, nvfp4, fp4): the first / last this many layers
                                  of the model run their GEMMs in 16 bits, unquantized (Megatron-Core
                                  first_last_layers_bf16 with num_layers_at_start_in_bf16 / num_layers_at_end_in_bf16;
                                  docs/model.md "BF16 layers"); no effect in a 16-bit dtype; 0 = none */
    char pp_layout[SP_PP_LAYOUT_MAX]; /* Megatron-Core pipeline_model_parallel_layout: which virtual stage holds the
                                embedding (E), each decoder layer (t), the MTP modules (m) and the loss (L), in its
                                string syntax ("Et*4|(t*4|)*14tmL"; docs/model.md "Pipeline layout"); "" = the even
                                split, ceil(L/pp) layers on the heaviest stage, embedding first, loss last */
} sp_plan;

/* "START,END": the BF16 layers' counts (sp_plan bf16_first, bf16_last), two integers 0..2^20; otherwise SP_EINVAL with
 * a message quoting s. */
sp_status sp_bf16_layers_parse(const char *s, int *first, int *last, sp_error *err);

/* The set selective recompute runs with on p: p->recompute_modules, or Megatron-Core's default {core_attn}
 * (transformer_config.py:1940-1941) when 0; SP_RCM_NONE_SET gives 0. */
unsigned sp_recompute_set(const sp_plan *p);

/* The training step's check of a model (model.c; sp_plan_resolve and sp_search call it): beyond the uniform model
 * it prices sliding, Mamba-2 and gated-DeltaNet layers, layers without a mixer or an FFN, interleaved dense/MoE
 * layers, MTP modules and gated attention (ops.c); p (may be NULL) refuses context parallelism over recurrent
 * layers. Names what it cannot price. */
sp_status sp_model_train_check(const sp_model *m, const sp_plan *p, sp_error *err);

#define SP_LORA_ATTN 1u
#define SP_LORA_MLP 2u
/* Adapter parameters of one layer for rank r on the given targets (dense MLP; MoE experts excluded). */
double sp_lora_params_per_layer(const sp_model *m, int rank, unsigned targets);

void sp_plan_defaults(sp_plan *p);
/* Packed sequences (p->doc_len > 0): the keys a token attends to within its sample, counted as Megatron counts the
 * whole sequence (no causal halving): per packed sequence of samples l_i the causal pairs are sum l_i^2 / 2 over sum l_i
 * queries, so the mean per query is E[l^2] / (2 E[l]) = doc_len (1 + cv^2) / 2, half of the context doc_len (1 + cv^2)
 * returned here (E over samples, cv = p->doc_len_cv); p->seq_len when unpacked. Never above p->seq_len. */
double sp_plan_attn_context(const sp_plan *p);
/* Checks doc_len and doc_len_cv against seq_len (a sample is at most the sequence, so E[l^2]/E[l] <= seq_len);
 * SP_EINVAL naming the knob ("plan: doc_len = ..."); sp_plan_resolve calls it. */
sp_status sp_plan_check_packing(const sp_plan *p, sp_error *err);
/* The MTP depths the step runs: p->mtp_layers, or the model's MTP modules when 0. */
int sp_plan_mtp_depths(const sp_model *m, const sp_plan *p);
/* Checks the plan against model and system: degrees multiply to n_gpus, divide heads/layers/batch.
 * Fills derived fields (dp when 0). */
sp_status sp_plan_resolve(sp_plan *p, const sp_model *m, const sp_system *s, sp_error *err);

/*
** Presets and files: models, systems, accelerators (JSON, Hugging Face config.json)
*/
/* `name_or_path` is a preset name (looked up in data_dir/models/NAME.json) or a path to a JSON file
 * (scaleplan preset or Hugging Face config.json). */
sp_status sp_load_model(const char *data_dir, const char *name_or_path, sp_model *m, sp_error *err);
sp_status sp_load_system(const char *data_dir, const char *name_or_path, sp_system *s, sp_error *err);
/* Accelerator presets live in data_dir/accelerators/NAME.json; systems reference them by name. */
sp_status sp_load_accel(const char *data_dir, const char *name_or_path, sp_accel *a, sp_error *err);
/* Model and system files from text in memory (len bytes, need not be NUL-terminated); `name` stands for the file
 * in messages (the same as the loaders' for a file of that content) and is the default display name. A system's
 * accelerator given by preset name is still read from data_dir. */
sp_status sp_parse_model(const char *name, const char *text, size_t len, sp_model *m, sp_error *err);
sp_status sp_parse_system(const char *data_dir, const char *name, const char *text, size_t len, sp_system *s,
                          sp_error *err);
/* Lists preset names of a kind ("models", "systems", "accelerators") into buf, comma separated; a buffer of
 * SP_PRESET_LIST_MAX bytes holds every name the listing reads (256 names of up to 63 characters; past 256, ", ..."). */
#define SP_PRESET_LIST_MAX (256 * 66 + 8)
void sp_list_presets(const char *data_dir, const char *kind, char *buf, size_t n);
/* What the model reader understood beyond the numbers (src/model_hf.c), for `scaleplan model`. */
typedef struct {
    char model_type[48];     /* Hugging Face model_type ("" when absent) */
    char ignored[2048];      /* config keys read as non-architectural and ignored, comma separated */
    int n_ignored;
    int vision_not_counted;  /* a vision tower (vision_config) is present and not counted */
    int text_config;         /* the language model was read from text_config */
    char source[512];        /* the file's "source" (presets) */
} sp_model_info;
/* sp_load_model / sp_parse_model that also fill *info (info may be NULL). */
sp_status sp_load_model_info(const char *data_dir, const char *name_or_path, sp_model *m, sp_model_info *info,
                             sp_error *err);
sp_status sp_parse_model_info(const char *name, const char *text, size_t len, sp_model *m, sp_model_info *info,
                              sp_error *err);
/* `scaleplan model`: what scaleplan understood of a model as one JSON object (caller json_decref's it),
 * FLOPs at seq_len tokens (0: the model's max_seq capped at 4096) and KV bytes at `kv_bytes` per element. */
struct json_t *sp_model_json(const sp_model *m, const sp_model_info *info, int seq_len, double kv_bytes);

/*
** Software stacks (software.c; data/software/NAME.json, docs/systems.md): the kernels a training stack uses, the
** default of every plan knob and the plan features it supports
*/
#define SP_FEAT_TP 1u
#define SP_FEAT_PP 2u
#define SP_FEAT_VPP 4u
#define SP_FEAT_SP 8u
#define SP_FEAT_CP 16u
#define SP_FEAT_EP 32u
#define SP_FEAT_ZERO1 64u
#define SP_FEAT_ZERO2 128u
#define SP_FEAT_ZERO3 256u
#define SP_FEAT_ZBH1 512u      /* pipeline schedules beyond 1F1B / interleaved 1F1B (docs/model.md "Schedules") */
#define SP_FEAT_ZBV 1024u
#define SP_FEAT_DUALPIPE 2048u

/* How a software stack realises one hardware family's kernel curves: multipliers of the family's 16-bit GEMM
 * efficiency, its FP8 (and other scaled-format) GEMM efficiency, its attention kernels and its memory-bound kernel
 * bandwidth (1 = the family's curve as the accelerator file gives it). One entry per (family x stack), fitted once
 * on the visible rows of that pair by tools/calibrate.py from published priors (docs/calibration.md). */
#define SP_MAX_STACK_EFF 8
typedef struct {
    char family[16];
    double gemm, fp8_gemm, attn, mem, moe_gemm;
} sp_stack_eff;

typedef struct {
    char name[48];
    char attention[48], gemm[48]; /* kernel names (informative) */
    sp_attn_kernel attn_kernel;   /* attention kernel class: picks the family's measured attention efficiency */
    int attn_no_sinks;            /* kernels.attention_sinks false: the fused kernel cannot add a sink logit */
    int rope_mscale_unfused;      /* kernels.rope_mscale_unfused true: a YaRN-scaled RoPE runs unfused */
    int ssd_scan_triton;          /* kernels.ssd_scan "triton": Mamba-2's SSD as mamba_ssm's Triton kernels */
    int cudnn_frontend;           /* kernels.cudnn_frontend (optional): the cudnn-frontend release, 10000 x major +
                                     100 x minor + patch; 0 = not stated */
    int tp_micro_pipeline;        /* kernels.tp_overlap "micro_pipeline" (absent or "chunked": 0) */
    int separate_qkv, separate_gate_up; /* kernels.separate_qkv / separate_gate_up (absent: false, fused) */
    int a2a_dispatch_16bit;       /* kernels.alltoall_dispatch_16bit (absent: false, the dispatch quantized with
                                     the GEMMs) */
    int pp_send_wait;             /* kernels.pp_send_wait (absent: false, every overlapped send waited a chunk later) */
    char one_queue[64];           /* kernels.one_queue (absent: empty): comma list of hardware families */
    int one_queue_ep;             /* kernels.one_queue_ep_overlap (absent: false) */
    int flash_attention;
    sp_recompute recompute;
    int seq_parallel;             /* 1: sequence parallelism whenever tp > 1 */
    int zero;                     /* 0..3; 1 = Megatron's distributed optimizer */
    int vpp;
    int overlap_tp, overlap_dp, overlap_pp, overlap_ep;
    double weight_bytes, grad_bytes, optimizer_bytes; /* model-state bytes per parameter held */
    int fsdp_reshard;             /* FSDP/ZeRO-3 frees gathered weights after forward (0: kept until backward) */
    sp_fp8_recipe fp8_recipe;
    unsigned cuda_graphs;         /* SP_GRAPH_* scopes the stack captures by default */
    sp_moe_dispatcher moe_dispatcher; /* the stack's MoE token dispatcher */
    unsigned eager_ops;           /* kernels.eager_ops (optional, none): SP_EAGER_* ops its default mode runs eagerly */
    unsigned recompute_modules;   /* SP_RCM_* its selective recompute re-runs (defaults.recompute_modules, optional:
                                     0 = {core_attn}, Korthikanti et al.'s selective recompute) */
    int te_quant;                 /* defaults.te_quantization (optional, false): plan.te_quant */
    int nvfp4_split;              /* defaults.nvfp4_split_rht_cast (optional, false): plan.nvfp4_split */
    int grad_reduce_fp32;         /* defaults.grad_reduce_fp32 (optional, false): plan.grad_reduce_fp32 */
    unsigned supports;            /* SP_FEAT_* */
    int n_eff;                    /* efficiency factors per hardware family (data/software efficiency; docs/calibration.md) */
    sp_stack_eff eff[SP_MAX_STACK_EFF];
} sp_software;

/* Plan knobs a caller set itself (sp_software_apply fills only the others). */
#define SP_KNOB_RECOMPUTE 1u
#define SP_KNOB_SP 2u
#define SP_KNOB_ZERO 4u
#define SP_KNOB_VPP 8u
#define SP_KNOB_FLASH 16u
#define SP_KNOB_DP_OVERLAP 32u
#define SP_KNOB_STATE_BYTES 64u   /* grad_bytes, weight_bytes, optimizer_bytes */
#define SP_KNOB_FP8_RECIPE 128u
#define SP_KNOB_GRAPHS 256u       /* cuda_graphs */
#define SP_KNOB_DISPATCHER 512u   /* moe_dispatcher */
#define SP_KNOB_EAGER 1024u       /* eager_ops */

sp_status sp_load_software(const char *data_dir, const char *name_or_path, sp_software *sw, sp_error *err);
/* Refuses a plan feature the stack lacks, by name ("software 'llm-foundry' has no tensor parallelism (tp = 2)"),
 * then fills every knob not in `given` with the stack's default. Call before sp_plan_resolve. */
sp_status sp_software_apply(const sp_software *sw, unsigned given, sp_plan *p, sp_error *err);
/* The stack's kernel and overlap behaviour on a system (flash attention, TP/DP/EP overlap). */
void sp_software_apply_system(const sp_software *sw, sp_system *s);

/*
** Training step: time and memory of one plan
*/
typedef struct {
    double weights, grads, optimizer;   /* model states held by this GPU */
    double activations;                 /* transformer layers, first pipeline stage (worst) */
    double activations_layers;          /* of which: layers in flight (Korthikanti et al.'s figure), without
                                           the working layer that full recompute rebuilds in backward */
    double embedding_logits;            /* embedding/LM-head activations and fp32 logits for the loss */
    double comm_buffers;                /* ZeRO-3 gathered parameters, TP/PP/DP buffers */
    double overhead;                    /* framework/allocator overhead (CUDA context, fragmentation) */
    double total;
    double capacity;                    /* HBM of the accelerator */
} sp_memory;

typedef struct {
    double compute;          /* GEMMs + attention on the critical path */
    double memory_bound;     /* norms, activations, softmax, dropout, residuals */
    double recompute;        /* extra forward work for activation recompute (part of compute+memory) */
    double tp_comm;          /* exposed tensor-parallel communication */
    double cp_comm;
    double ep_comm;
    double pp_comm;
    double dp_comm;          /* exposed data-parallel / ZeRO communication */
    double bubble;           /* pipeline fill/drain */
    double optimizer;
    double imbalance;        /* first/last stage embedding + LM head extra */
    double host;             /* host (CPU) kernel dispatch the GPU waits for (docs/model.md "Host dispatch") */
    double offload;          /* activation offloading's host copies the compute waits for (docs/model.md "Activation
                                offloading"); 0 without offloading or when the system states no host link */
} sp_time_breakdown;

typedef struct {
    double step_time_s;
    double tokens_per_step;
    double tokens_per_s;
    double model_flops;       /* per step, whole cluster (6·N·tokens + attention, Megatron convention) */
    double hardware_flops;    /* adds recomputed forward work */
    double mfu, hfu;
    double tflops_per_gpu;    /* model FLOP/s per GPU / 1e12 */
    double peak_flops;        /* per GPU, of the plan's dtype */
    int n_micro;              /* micro-batches per step per pipeline */
    sp_time_breakdown t;
    sp_memory mem;
    int fits;                 /* mem.total <= capacity */
    double overflow_bytes;    /* > 0 when it does not fit */
    const char *bottleneck;   /* static string: dominant non-compute cost */
    int offload_unpriced;     /* the plan offloads activations but the system states no host link: copies not priced */
} sp_train_result;

/* Evaluates one plan. Allocation-free. The plan must have been resolved. */
sp_status sp_train_eval(const sp_model *m, const sp_system *s, const sp_plan *p, sp_train_result *r,
                        sp_error *err);
/* Memory of a resolved plan without timing it (cheap). */
void sp_train_memory(const sp_model *m, const sp_system *s, const sp_plan *p, sp_memory *mem);

/*
** Plan search: the best plans for a model on a system
*/
typedef enum { SP_OBJ_TIME, SP_OBJ_TOKENS_PER_S, SP_OBJ_COST } sp_objective;

#define SP_SEARCH_MAX_TOP 256
#define SP_SEARCH_MAX_VPP 64 /* largest interleaving factor the search accepts */
#define SP_SEARCH_ALL_SCHEDULES 15u /* 1F1B, ZB-H1, ZB-V, DualPipe */

/* A fixed dimension of sp_search_opts left to the search (every fix_* field; the default). */
#define SP_FREE (-1)

typedef struct {
    sp_plan plan;             /* what every plan shares: n_gpus, global_batch, seq_len, dtype, flash_attention (-1:
                                 system default), fine-tuning (frozen_base, lora_rank, lora_targets, base_weight_bytes,
                                 grad_bytes), the stack's model-state bytes (weight_bytes, optimizer_bytes) and MoE routing (capacity_factor, moe_imbalance, moe_pad); the degrees,
                                 micro-batch, virtual stages, ZeRO stage, recompute and SP are searched */
    double max_mem_frac;      /* a plan must fit in this fraction of HBM [SP_SEARCH_MEM_FRAC] */
    sp_objective objective;
    int top_k;                /* plans returned, 1..SP_SEARCH_MAX_TOP: the size of the caller's buffer */
    int threads;              /* 0: all cores (OpenMP) for large searches (4096 layer shapes or more),
                                 else 1; the answer does not depend on it */
    int max_vpp;              /* largest interleaving factor tried [8], <= SP_SEARCH_MAX_VPP */
    unsigned schedules;       /* bit k: pipeline schedule k (sp_schedule) tried on PP > 1 where it applies (ZB-H1 and
                                 DualPipe at vpp 1, DualPipe on an even PP, ZB-V at vpp 2; 1F1B always, interleaved
                                 when vpp > 1) [SP_SEARCH_ALL_SCHEDULES; a stack's `supports` narrows it] */
    /* fixed dimensions: SP_FREE (the default) searches the dimension, any other value is the only one tried
     * (degrees >= 1; zero 0..3; sp 0|1; recompute an sp_recompute) */
    int fix_tp, fix_pp, fix_dp, fix_cp, fix_ep, fix_etp, fix_vpp, fix_mb;
    int fix_zero, fix_sp, fix_recompute;
    int no_prune;             /* evaluate every feasible plan (for tests and --all) */
    double max_objective;     /* > 0: only plans whose objective is at most this are wanted (limits: the step time
                                 that finishes in the duration); the rest are pruned by the same exact bound */
    /* any_dtype enumerates bf16 and, when the accelerator has an FP8 peak, fp8 (plan.dtype is then ignored); ETP is
     * enumerated over the divisors of TP for MoE models unless fixed */
    int any_dtype;
    /* --all: called for every evaluated plan, in enumeration order (forces one thread, no pruning) */
    void (*on_plan)(void *ctx, const sp_plan *p, const sp_train_result *r);
    void *ctx;
    /* progress: once the search has run progress_after_s seconds, called about every 0.25 s from one thread with
     * the layer shapes done and their total, then once with done == total at the end (NULL: none) */
    void (*on_progress)(void *ctx, long long done, long long total, double elapsed_s);
    void *progress_ctx;
    double progress_after_s;
} sp_search_opts;
/* A software stack's limits on a search (software.c): the features it lacks are fixed off (tp, pp, cp, ep = 1, no
 * SP, vpp 1), ZeRO is fixed to the stack's stage when the stack lacks any other, and the model-state bytes and
 * attention kernel are the stack's. Recompute and the supported degrees stay free: the search explores them. A
 * dimension the caller fixed to a feature the stack lacks (--fix tp=2 on llm-foundry) is refused by name. */
sp_status sp_software_apply_search(const sp_software *sw, sp_search_opts *o, sp_error *err);
/* The stack's defaults of the host-side knobs every searched plan shares (CUDA graphs, MoE dispatcher), except
 * those in `given` (SP_KNOB_GRAPHS, SP_KNOB_DISPATCHER): what search --software and limits --software apply after
 * sp_software_apply_search. */
void sp_software_search_knobs(const sp_software *sw, unsigned given, sp_search_opts *o);

typedef struct {
    sp_plan plan;
    double objective;         /* seconds per step, or -tokens/s, or $ per step: lower is better */
    sp_train_result res;
} sp_search_entry;

typedef struct {
    long long enumerated;     /* plans generated */
    long long infeasible_divisibility; /* batch not divisible, vpp/layers, heads... */
    long long infeasible_memory;
    long long pruned;         /* skipped by an exact lower bound */
    long long evaluated;      /* fully timed */
    int layer_shapes;         /* layer shapes enumerated (TP, CP, EP, micro-batch, SP, expert TP, precision) */
    int threads;
    double wall_time_s, plans_per_s;
    sp_search_entry *top;     /* the caller's buffer passed to sp_search, best first */
    int n_top;
    /* closest to fitting when nothing fits */
    double min_overflow_bytes;
    sp_plan min_overflow_plan;
} sp_search_result;

/* The search's default memory limit: the device's memory less the PyTorch caching allocator's fragmentation, which
 * the memory model (its reserve: CUDA context, cuBLAS workspaces, NCCL buffers; memory.c) does not count. GMLake
 * (Guo et al., ASPLOS 2024, arXiv:2401.08156) measured on average 9.2 GB of reserved-but-unusable memory given back by
 * defragmenting eight LLM training workloads (recompute, ZeRO, LoRA) on A100-80GB: 9.2e9 of 80 GiB = 10.7 % kept free.
 * Validation compares a run with the whole memory (it ran); --max-memory-frac 1 removes the headroom (issue 18). */
#define SP_SEARCH_MEM_FRAC (1 - 9.2e9 / 85899345920.0)
void sp_search_defaults(sp_search_opts *o);
/* Enumerates TP, CP, EP, PP (uneven splits allowed), DP, virtual stages, micro-batch, recompute, SP and ZeRO stage;
 * rejects by memory before timing; ranks by the objective; ties broken by (tp, pp, dp, cp, ep, vpp, micro-batch,
 * recompute, sp, zero) ascending. The same answer for any thread count. Allocation-free per plan. top: the caller's
 * buffer of o->top_k entries, which r->top points at on return. */
sp_status sp_search(const sp_model *m, const sp_system *s, const sp_search_opts *o, sp_search_entry *top,
                    sp_search_result *r, sp_error *err);

/*
** Fine-tuning (LoRA, QLoRA), distillation and pruning
*/
typedef enum { SP_FT_FULL, SP_FT_LORA, SP_FT_QLORA } sp_ft_method;

typedef struct {
    sp_ft_method method;
    int rank;                /* LoRA rank (lora, qlora) */
    unsigned targets;        /* SP_LORA_ATTN | SP_LORA_MLP */
    double base_bytes;       /* bytes per frozen base weight: 2 bf16/fp16, 1 int8, 0.516 nf4 (4 bits + double-quantized
                                block constants, Dettmers et al. 2023 §3: 0.127 bit per parameter) */
    char base_dtype[8];      /* "bf16", "fp16", "int8", "nf4" */
} sp_finetune;

/* Parses method / targets / base dtype words; fills defaults (lora: rank 16, attn+mlp, bf16; qlora: rank 64,
 * attn+mlp, nf4). Any NULL argument keeps the method's default. */
sp_status sp_finetune_parse(const char *method, const char *targets, const char *base_dtype, int rank,
                            sp_finetune *ft, sp_error *err);
/* Checks the method against the model (rank <= the smallest targeted dimension) and sets the plan's fine-tuning
 * fields. Full fine-tuning uses 2-byte gradients (Hugging Face / DeepSpeed mixed precision: 16 B/parameter). */
sp_status sp_finetune_apply(const sp_model *m, const sp_finetune *ft, sp_plan *p, sp_error *err);
/* Trainable parameters of the whole model under ft. */
double sp_finetune_trainable(const sp_model *m, const sp_finetune *ft);
/* Structured pruning as a model transform: remove `heads` attention heads per layer (in whole KV groups for GQA)
 * and a fraction `ffn_frac` of the FFN width. */
sp_status sp_model_prune(sp_model *m, int heads, double ffn_frac, sp_error *err);

/* Distillation: teacher forward (once, or every epoch when online) + student training on the same plan, and the
 * serving break-even (docs/finetune.md). */
typedef struct {
    double tokens;            /* distillation tokens */
    int epochs;               /* student passes over them [1] */
    int online;               /* 1: the teacher runs every epoch; 0: once, logits stored */
} sp_distill_opts;

typedef struct {
    double teacher_params, student_params, size_reduction; /* size_reduction = 1 - student / teacher */
    double serving_speedup;   /* teacher / student forward FLOPs per token */
    double teacher_fwd_s;     /* the teacher's forward time per step on the plan */
    double teacher_gpu_hours, student_gpu_hours;
    double saved_gpu_hours_per_token; /* serving the student instead of the teacher */
    double breakeven_served_tokens;   /* distillation GPU-hours / saving per token; INFINITY when none */
    sp_train_result teacher, student; /* each model's training step on the plan (teacher without recompute) */
    sp_memory teacher_fwd_mem;        /* the teacher's forward per GPU (16-bit weights, working layer, logits) */
} sp_distill_result;

sp_status sp_distill_eval(const sp_model *teacher, const sp_model *student, const sp_system *s, const sp_plan *p,
                          const sp_distill_opts *o, sp_distill_result *r, sp_error *err);

/*
** Scaling laws: loss, compute-optimal sizing, critical batch, fitting a law
*/
typedef enum { SP_LAW_CHINCHILLA, SP_LAW_KAPLAN } sp_law_form;

typedef struct {
    char name[64];
    char source[256];
    sp_law_form form;
    /* Chinchilla form: L = E + A/N^alpha + B/D^beta */
    double E, A, B, alpha, beta;
    /* Kaplan et al. 2020 joint form: L = [(Nc/N)^(aN/aD) + Dc/D]^aD (N non-embedding parameters) */
    double Nc, Dc, aN, aD;
} sp_law;

sp_status sp_load_law(const char *data_dir, const char *name_or_path, sp_law *law, sp_error *err);
double sp_law_loss(const sp_law *law, double n, double d);
/* Compute-optimal allocation for C = 6·N·D FLOP. Chinchilla form in closed form (DESIGN.md §3.8); Kaplan form
 * by golden-section search in log N. */
void sp_law_optimal(const sp_law *law, double c, double *n, double *d, double *loss);
/* Smallest compute whose compute-optimal model reaches `target` loss (bisection on C); fills that model's N, D.
 * Returns at most 1e45 when the target is at or below the law's floor. */
double sp_law_compute_for_loss(const sp_law *law, double target, double *n, double *d);
/* Smallest N reaching `target` loss with D = tokens (if tokens > 0) or D = tpp·N (tokens per parameter).
 * Returns SP_EINFEASIBLE when the target is at or below the law's floor. */
sp_status sp_law_min_n(const sp_law *law, double target, double tokens, double tpp, double *n, double *d,
                       sp_error *err);
/* Inference-aware sizing: the (N, D) reaching `target` loss that minimise 6·N·D + 2·N·served_tokens
 * (Sardana & Frankle 2023's question, solved on the law). */
sp_status sp_law_inference_aware(const sp_law *law, double target, double served_tokens, double *n, double *d,
                                 sp_error *err);

typedef enum { SP_BATCH_KAPLAN, SP_BATCH_EPOCH, SP_BATCH_DEEPSEEK, SP_BATCH_FIXED } sp_batch_rule;
sp_status sp_batch_rule_parse(const char *s, sp_batch_rule *rule, double *fixed_tokens, sp_error *err);
/* Critical batch size in tokens: Kaplan 2e8 / L^(1/0.21) (needs loss); Epoch 2024 4·2^20·(C/3e23)^(1/6)·sqrt(S);
 * DeepSeek 0.292·C^0.3271; fixed. */
double sp_critical_batch(sp_batch_rule rule, double fixed_tokens, double c, double loss, double sparsity);

/* Fitting L = E + A/N^alpha + B/D^beta: Huber loss of log residuals, L-BFGS (nlopt) from a grid
 * of starts, bootstrap confidence intervals. */
typedef struct {
    double E, A, B, alpha, beta;  /* best fit */
    double a_exp, b_exp;          /* compute-optimal exponents a = beta/(alpha+beta), b = alpha/(alpha+beta) */
    double objective;             /* Huber sum at the optimum */
    double rmse_log;              /* RMS of log residuals */
    double r2_log;                /* R^2 of log L */
    int n_points;
    int n_starts, n_converged;
    double log_scale;             /* fitted log s with the scaled estimator (NaN otherwise) */
    /* bootstrap: [low, high] at the given level for E, A, B, alpha, beta, a, b (Kaplan form: Nc in A's slot, Dc
     * in B's, alpha_N in alpha's, alpha_D in beta's; E, a, b NaN) */
    int n_boot;
    double ci[7][2];
    int form;                     /* sp_fit_form fitted */
    double Nc, Dc, alpha_N, alpha_D; /* Kaplan form (NaN otherwise) */
    /* Gadre et al. 2024 form in their variables: L = E + (a·M^eta + b·M^-eta)·C^-eta, M = D/N, C = 6ND (NaN
     * unless form GADRE; then alpha = beta = 2·eta in the N, D form) */
    double gadre_a, gadre_b, gadre_eta;
    double loo_rmse_log;          /* leave-one-out: RMS of the held-out points' log residuals (NaN if not asked) */
    double loo_max_abs_log;       /* and the largest one */
} sp_fit_result;

/* Forms of the law that fit() can fit: Chinchilla's E + A/N^alpha + B/D^beta (Hoffmann et al. 2022); Gadre et
 * al. 2024's over-training-aware form, the same with one shared exponent (alpha = beta); Kaplan et al. 2020's
 * joint form [(Nc/N)^(alpha_N/alpha_D) + Dc/D]^alpha_D. */
typedef enum { SP_FIT_CHINCHILLA, SP_FIT_GADRE, SP_FIT_KAPLAN } sp_fit_form;
const char *sp_fit_form_name(int form); /* "chinchilla", "gadre", "kaplan" */

typedef struct {
    double n, d;        /* the point asked for */
    double loss;        /* the fitted law's prediction */
    double lo, hi;      /* bootstrap prediction interval at ci_level (NaN without --bootstrap): each resample's
                           prediction times a resampled residual of the full fit */
} sp_fit_prediction;

typedef struct {
    double delta;     /* Huber delta (1e-3) */
    int bootstrap;    /* resamples (0 = none) */
    uint64_t seed;
    double ci_level;  /* 0.95 */
    int threads;      /* 0 = OpenMP default; results do not depend on it */
    int scaled;       /* 1: Huber log-likelihood with a fitted scale, sum Huber(r/s) + log s (Epoch's estimator) */
    int form;         /* sp_fit_form [chinchilla] */
    int loo;          /* held-out error: 1 leave one point out; 2 leave one model size (N) out at a time; 3 hold out
                         the largest size (fit the smaller ones) */
    int n_pred;       /* predictions asked: pred[i].n, pred[i].d in, the rest filled (caller's array) */
    sp_fit_prediction *pred;
} sp_fit_opts;

sp_status sp_fit_law(const double *n, const double *d, const double *loss, const double *w, int count,
                     const sp_fit_opts *o, sp_fit_result *r, sp_error *err);

/*
** Inference: one serving configuration, composition of experts, model-shape search
*/
/* Serving efficiency of one accelerator family (data/serving.json), calibrated per family, never per row.
 * Factors multiply the training efficiency model of the accelerator (sp_efficiency); 1 = no change. */
typedef struct {
    char family[32];
    double lowp_gemm;         /* GEMMs computed in 8/4-bit (fp8, int8, fp4): fraction of the 16-bit GEMM
                                 efficiency they reach end to end (activation quantisation, scaling, epilogues) */
    double kv_mem;            /* decode attention (paged KV reads): fraction of eff.mem reached */
    double step_overhead_s;   /* per engine step: scheduling, sampling, host synchronisation */
} sp_serving_eff;

/* Fills e with the family entry that lists `accel_name`, or neutral factors (family "uncalibrated"). */
sp_status sp_serving_eff_load(const char *data_dir, const char *accel_name, sp_serving_eff *e, sp_error *err);

#define SP_MAX_EXPERT_PROBS 1024
typedef struct {
    int n_gpus, tp, ep;       /* a replica is tp*ep*pp GPUs; n_gpus / (tp*ep*pp) replicas share the batch */
    int pp;                   /* pipeline stages: layers split over pp GPU groups, pp micro-batches in flight [1] */
    int batch;                /* concurrent sequences (all replicas); 0 = the largest that fits */
    int prompt, output;       /* tokens */
    sp_dtype weights, kv;     /* storage precision of weights and KV cache; compute in fp8/fp4 for fp8/fp4
                                 weights, else 16-bit (weight-only int8/int4 dequantise) */
    double mem_frac;          /* usable fraction of HBM [0.9] */
    int inflight;             /* 0: static batching (prefill the batch, then decode it in lockstep);
                                 1: continuous (in-flight) batching with chunked prefill: every engine step
                                 decodes `batch` sequences and prefills batch*prompt/output prompt tokens */
    const double *expert_probs; /* MoE routing distribution over the E experts (sums to 1), NULL = uniform */
    sp_serving_eff eff;       /* family serving constants (sp_serving_eff_load), neutral by default */
    /* A serving stack's engine limits (sp_serve_stack_infer; 0: none, infer's own model): */
    int max_seqs;             /* sequences one engine runs at once (max_num_seqs; pp engines per replica, as serve's
                                 virtual engines): the largest batch is capped there, a larger one cannot run */
    int prefill_chunk;        /* prompt tokens of one engine step (max_num_tokens): the activations held [8192] */
} sp_infer_opts;

/* Time of one engine step split by cause (seconds, one replica, the critical path). */
typedef struct {
    double gemm_compute;      /* linear layers where FLOPs dominate */
    double weight_read;       /* linear layers where reading weights from HBM dominates */
    double attention;         /* attention core: KV-cache reads (decode) and flash attention (prefill) */
    double elementwise;       /* norms, activations, residuals, rotary: memory-bound */
    double tp_comm, ep_comm;  /* exposed tensor-parallel all-reduces and expert all-to-all */
    double overhead;          /* kernel tails and per-step engine overhead */
    double total;
    const char *bound;        /* "compute", "memory (HBM)", "communication" */
} sp_infer_step;

typedef struct {
    double weights_bytes, kv_bytes, activation_bytes, overhead_bytes, total_bytes, capacity; /* per GPU */
    double headroom_bytes;                     /* usable HBM left (negative: overflow) */
    double kv_bytes_per_token;                 /* whole model, per token of context (all layers, all GPUs) */
    double state_bytes_per_seq;                /* recurrent layers' states (and sliding rings past their window) per
                                                  sequence, whole model: beside the KV cache, not per token */
    int max_batch;                             /* largest batch that fits at prompt + output */
    int batch;
    double ttft_s, tpot_s, e2e_s;              /* prefill, mean decode step (in-flight: inter-token latency) */
    double tokens_per_s, tokens_per_s_per_gpu, tokens_per_s_per_user;
    double prefill_flops, decode_bytes_per_step;
    double params_total, params_active;
    const char *prefill_bound, *decode_bound;  /* "compute", "memory (HBM)", "communication" */
    sp_infer_step prefill, decode;
    double experts_read;                       /* MoE: expected distinct experts read per decode step per layer
                                                  per EP rank */
    int fits;
} sp_infer_result;

void sp_infer_defaults(sp_infer_opts *o);
/* The most sequences a serving stack's engines run at once over o's GPUs (max_seqs x pp x replicas); 0: no stack. */
double sp_infer_seq_cap(const sp_infer_opts *o);
sp_status sp_infer_eval(const sp_model *m, const sp_system *s, const sp_infer_opts *o, sp_infer_result *r, sp_error *err);
/* One engine step of one replica under o (TP, EP, precisions, serving factors; o's batch and lengths are not used),
 * priced from the layer ops: n_dec sequences decoding one token at mean context ctx_dec, n_pf prompt tokens
 * prefilled over a mean causal span pf_span, n_logits sequences producing a token (counts for the whole replica).
 * Per GPU; allocation-free. A serving simulator prices each step it forms with this. */
sp_status sp_infer_engine_step(const sp_model *m, const sp_system *s, const sp_infer_opts *o, double n_dec,
                               double ctx_dec, double n_pf, double pf_span, double n_logits, sp_infer_step *st,
                               sp_error *err);
/* The serving layout over o->n_gpus when the caller gave no TP/EP/PP (docs/inference.md "Default layout"): sets
 * o->tp, o->ep, o->pp to the fastest layout that fits at o->batch (vLLM/SGLang practice: TP within a node, EP with
 * data-parallel attention for MoE, PP across nodes, replicas for the rest); writes what it chose and why into `why`.
 * Returns how many candidate layouts fit (0: none; o holds the one needing the least memory). */
int sp_infer_choose_layout(const sp_model *m, const sp_system *s, sp_infer_opts *o, char *why, size_t n);
/* Multi-token-prediction modules at serving (docs/inference.md): infer and serve do not load them (their weights are
 * not in the memory; vLLM and SGLang load them only with MTP speculative decoding, which is not modelled). Writes
 * the one line saying so into buf and returns buf, or NULL for a model without MTP modules. */
const char *sp_infer_mtp_note(const sp_model *m, char *buf, size_t n);
/* KV cache bytes per token of context, whole model: 2·L·g·d_head·bytes, or (kv_lora_rank + rope dim)·L·bytes
 * for MLA's compressed latent. */
double sp_kv_bytes_per_token(const sp_model *m, sp_dtype kv);

/* Composition of experts on tiered memory */
#define SP_MAX_MEM_TIERS 4
/* A capacity tier below the accelerator's HBM (host DDR, CXL, ...), per accelerator socket: weights stored there
 * are copied into HBM at `bw` before they run. Systems list them as "memory_tiers" (docs/inference.md). */
typedef struct {
    char name[32];
    double capacity;          /* bytes per socket */
    double bw;                /* bytes/s per socket into HBM */
} sp_mem_tier;
/* Reads the optional "memory_tiers" array of a system preset or file; *n = 0 when absent. */
sp_status sp_load_memory_tiers(const char *data_dir, const char *system, sp_mem_tier *t, int *n, sp_error *err);

typedef struct {
    char name[64];
    sp_model model;
    double share;             /* fraction of requests routed to this expert (normalised to sum 1) */
} sp_coe_expert;
/* Loads an experts file: {"experts": [{"name", "model", "share", "count"}]}; *out is malloc'ed (free()). */
sp_status sp_load_coe(const char *data_dir, const char *path, sp_coe_expert **out, int *n, sp_error *err);

typedef struct {
    int n_resident;           /* experts kept in HBM */
    double hit_rate;          /* share of requests whose expert is resident */
    double total_bytes;       /* all experts' weights, whole system */
    double hbm_budget;        /* HBM available for resident weights, whole system */
    double mean_switch_s;     /* expected expert switch time per request batch */
    double switch_worst_s;    /* largest single switch */
    double mean_e2e_s;        /* expected batch latency once the expert is resident */
    double mean_latency_s;    /* switch + e2e */
    double tokens_per_s;      /* whole system */
    const char *store_tier;   /* where non-resident experts live */
    int fits;
} sp_coe_result;
/* Serves the request mix on `o->n_gpus` sockets of s, each expert tensor-parallel over all sockets, batches of
 * o->batch requests of one expert; non-resident experts are copied from the first tier with room. */
sp_status sp_coe_eval(const sp_coe_expert *ex, int n, const sp_system *s, const sp_mem_tier *tiers, int ntiers,
                      const sp_infer_opts *o, sp_coe_result *r, sp_error *err);

/* Hardware-in-the-loop model-shape search */
typedef struct {
    sp_model m;
    double params, active;    /* total and active parameters */
    double loss;              /* law prediction x (1 + kv_penalty) (NAN without a law: parameter count is the proxy) */
    double loss_law;          /* the law's L(N, D) alone, which has no term for shape */
    double kv_penalty;        /* relative loss of sharing KV heads (sp_shape_kv_penalty) */
    double tpot_s, ttft_s, tokens_per_s_per_gpu;
    double kv_bytes_per_token;
} sp_shape_point;
/* The shape evidence the search keeps to (docs/inference.md "What the loss law cannot see"): d_model / layers within
 * SP_SHAPE_ASPECT_MIN..MAX, the span over which Kaplan et al. 2020 §3.1 measured loss within a few percent and that
 * published models occupy; outside it the loss law cannot rank shapes, so they are not ranked. */
#define SP_SHAPE_ASPECT_MIN 32
#define SP_SHAPE_ASPECT_MAX 256
/* Relative loss of sharing KV heads at equal parameters: 0 for multi-head, SP_MQA_LOSS_PENALTY for one KV head
 * (Shazeer 2019 Table 3), a sixth of it from 8 groups up (Ainslie et al. 2023 Table 1), log-interpolated between. */
#define SP_MQA_LOSS_PENALTY 0.0029
double sp_shape_kv_penalty(const sp_model *m);

typedef struct {
    double n_target;          /* parameter budget; shapes within +-tol of it are enumerated */
    double tol;               /* [0.1] */
    double tokens;            /* training tokens for the loss; 0 = tpp x N */
    double tpp;               /* tokens per parameter when tokens == 0 [20] */
    int vocab;                /* [32000] */
    int allow_moe;            /* also enumerate 8-expert top-2 MoE shapes */
    double max_tpot_s;        /* 0 = no latency constraint */
} sp_shape_opts;

/* Enumerates decoder shapes (layers, width, head size, KV heads, FFN width, experts) near the budget, serves each
 * with sp_infer_eval on s under o (batch, lengths, precision, TP), drops those that do not fit or miss the latency
 * target, and returns the Pareto front (lower loss or fewer parameters, lower TPOT, higher tokens/s per GPU) sorted
 * by TPOT into out[0..max-1]. *n_front may exceed max (then out holds the first max). *n_eval counts shapes served. */
sp_status sp_shape_search(const sp_system *s, const sp_infer_opts *o, const sp_law *law, const sp_shape_opts *so,
                          sp_shape_point *out, int max, int *n_front, int *n_eval, sp_error *err);

/*
** Serving simulation (serve*.c, docs/serving.md)
*/
/* Length distribution of prompts or outputs (tokens). Log-normal is given by its mean and coefficient of
 * variation (std / mean) and clipped to [lo, hi]; uniform draws integers in [lo, hi]. */
typedef enum { SP_LEN_FIXED, SP_LEN_UNIFORM, SP_LEN_LOGNORMAL, SP_LEN_TRACE } sp_len_kind;
typedef struct {
    sp_len_kind kind;
    double mean, cv;          /* fixed: mean; log-normal: mean and cv */
    int lo, hi;               /* uniform range; clip range of log-normal */
} sp_len_dist;

/* Request arrivals: Poisson at `rate`, gamma inter-arrival times with a coefficient of variation (bursty when
 * cv > 1), a closed loop of `users` that each send the next request when the previous one ends (after a think
 * time), all at t = 0 (offline), or the timestamps of a trace. */
typedef enum { SP_ARR_POISSON, SP_ARR_GAMMA, SP_ARR_CLOSED, SP_ARR_OFFLINE, SP_ARR_TRACE } sp_arrival_kind;

#define SP_SERVE_NAME 64
typedef struct {
    char name[SP_SERVE_NAME];
    sp_arrival_kind arrival;
    double cv;                /* gamma arrivals */
    int users;                /* closed loop */
    double think_s;           /* closed loop: mean think time (exponential), 0 = none */
    sp_len_dist prompt, output;
    int prefix_tokens;        /* shared prefix (system prompt) per group, 0 = no prefix sharing */
    int prefix_groups;        /* distinct prefixes, each request draws one uniformly */
    double ttft_slo_s, tpot_slo_s; /* P99 SLOs of the chosen scenario, 0 = none */
    char scenario[16];        /* "server", "interactive", "offline" or "" */
    int samples;              /* requests of a benchmark run (MLPerf's offline min_query_count), 0 = not given */
    char source[256];
    /* trace (SP_ARR_TRACE or SP_LEN_TRACE): malloc'ed by sp_serve_trace_load, freed by sp_serve_workload_free */
    double *trace_t;
    int *trace_prompt, *trace_output;
    int n_trace;
} sp_serve_workload;

/* A serving engine's scheduler and runtime (data/serving/NAME.json). */
typedef enum { SP_SCHED_MIXED, SP_SCHED_PREFILL_FIRST } sp_sched_policy;
typedef struct {
    char name[32];
    sp_sched_policy policy;   /* mixed: decodes and prefill chunks share each step under the token budget (vLLM
                                 v1, TensorRT-LLM in-flight batching); prefill-first: waiting prompts run as their
                                 own step before decodes resume (SGLang's default) */
    int chunked_prefill;      /* prompts split into chunks of the token budget */
    int max_num_tokens;       /* token budget per engine step */
    int max_num_seqs;         /* running sequences per engine */
    int kv_block;             /* tokens per KV-cache block (paged attention) */
    int prefix_caching;       /* shared prefixes reuse cached KV blocks */
    int cuda_graphs;          /* decode steps replay captured graphs (per-step overhead below already reflects it) */
    int no_evict;             /* admit a request only when KV for its prompt + output can be reserved (TensorRT-LLM
                                 GUARANTEED_NO_EVICT): no preemption */
    double prefill_min_free_kv; /* admit waiting prompts into a step only while at least this fraction of the KV
                                 blocks is free (AMD vLLM's VLLM_SCHED_PREFILL_KVC_FREEPCT / 100); 0: off */
    double mem_frac;          /* fraction of HBM the engine may use (weights + KV + activations) */
    double step_overhead_s;   /* host time per engine step: scheduling, sampling, detokenisation */
    double kernel_factor;     /* time multiplier of the stack's compute-bound FP8/FP4 GEMMs relative to infer's
                                 model (divides their efficiency; HBM-bound GEMMs keep the roofline) [1]; after
                                 loading it includes the clock ratio below */
    double prefill_hold_s;    /* prefill-first: while sequences decode, waiting prompts are held until the oldest
                                 has waited this long or prefill_hold_min wait (AMD's harness batcher); 0: off */
    int prefill_hold_min;
    double clock_mhz;         /* GPU clock the preset's GEMMs run at (a power/determinism cap), 0: not stated */
    double kernel_clock_mhz;  /* clock at which kernel_factor's source measured its GEMM rate, 0: not stated */
} sp_serve_stack;

typedef struct {
    int n_gpus, tp, pp, ep;   /* replicas = n_gpus / (tp*pp*ep), or for disaggregation of each pool */
    sp_dtype weights, kv;
    int prefill_gpus;         /* > 0: prefill-decode disaggregation; this many GPUs prefill, the rest decode */
    double rate;              /* requests/s (Poisson, gamma) */
    int n_requests;           /* simulated requests [2000] */
    unsigned long long seed;  /* deterministic: the same seed gives the same run [1] */
    sp_serve_stack stack;
    sp_serving_eff eff;       /* family serving factors (data/serving.json) */
    double ttft_slo_s, tpot_slo_s; /* overrides of the workload's SLOs (0 = the workload's) */
    int keep_requests;        /* fill sp_serve_result.req (per-request CSV) */
    int bisect_steps;         /* sp_serve_max_rate's bisection steps [10] */
} sp_serve_opts;

/* Priced engine-step model of one engine (one replica or one pipeline virtual engine), tabulated once. */
#define SP_STEPTAB_N 640
typedef struct {
    double lin[SP_STEPTAB_N]; /* linear layers, elementwise, TP/EP/PP communication, overheads: by token count */
    double head[SP_STEPTAB_N];/* LM head: by the number of sequences producing a token */
    int n;                    /* entries used */
    double alpha;             /* decode attention: seconds per (sequence x context token) */
    double beta;              /* prefill attention: seconds per (prompt token x mean causal span) */
    double fixed_s;           /* per step: stack overhead */
    double scale;             /* stack kernel factor */
    double flops_per_token;   /* 2 x active parameters (energy) */
} sp_serve_steptab;

/* The engine step of a batch composition: n_pf prefill tokens whose causal spans sum to pf_span_sum (a chunk of
 * c tokens starting at offset s contributes c x (s + c/2)), n_dec decoding sequences whose contexts sum to
 * ctx_sum, n_logits sequences producing a token. Priced by infer's engine-step model (src/infer.c) through the
 * table built by sp_serve_steptab_build. */
double sp_serve_step_time(const sp_serve_steptab *t, double n_pf, double pf_span_sum, double n_dec, double ctx_sum,
                          double n_logits);
/* A serving stack's kernels on the family's serving factors (its calibrated kernel_factor divides the efficiency of
 * the low-precision GEMMs: src/serve_step.c), as serve and infer --software both price them. */
void sp_serve_stack_kernels(const sp_serve_stack *st, sp_serving_eff *e);
/* The stack on infer's options (infer --software): its kernels (sp_serve_stack_kernels), its host time per engine
 * step added to the step's overhead, its memory fraction, its sequences and tokens per engine step. */
void sp_serve_stack_infer(const sp_serve_stack *st, sp_infer_opts *o);
/* Tabulates the step model for an engine of tp x ep GPUs (pp stages: pp - 1 activation hops added). */
sp_status sp_serve_steptab_build(const sp_model *m, const sp_system *s, const sp_serve_opts *o, int max_tokens,
                                 sp_serve_steptab *t, sp_error *err);

typedef struct {
    double arrival_s, ttft_s, tpot_s, e2e_s;
    int prompt, output, preemptions, prefix_hit;
} sp_serve_request;

typedef struct {
    int n_requests;
    double offered_rate;                 /* requests/s offered (open-loop arrivals), else the completed rate */
    int replicas, prefill_replicas, engines; /* engines = replicas x pp virtual engines */
    double duration_s;                   /* first arrival to last completion */
    double throughput_tokens_per_s;      /* output tokens/s of the whole deployment */
    double input_tokens_per_s;
    double goodput_tokens_per_s;         /* output tokens/s of requests meeting both SLOs */
    double requests_per_s, goodput_requests_per_s, slo_attainment;
    double ttft_s[4], tpot_s[4], e2e_s[4]; /* P50, P90, P99, mean */
    double queue_mean, queue_max;        /* waiting requests, time-averaged and largest, all engines */
    double kv_occupancy_mean, kv_occupancy_max; /* used KV blocks / capacity */
    double kv_capacity_tokens;           /* per engine */
    double mean_batch;                   /* sequences per engine step */
    long long steps, preemptions;
    double prefix_hit_rate;
    double kv_transfer_s;                /* disaggregation: mean KV transfer per request */
    double energy_j_per_token, energy_j_per_request, usd_per_million_tokens, power_w;
    double mfu;
    double output_tokens_mean;           /* output tokens per request of the run (all requests) */
    double ttft_slo_s, tpot_slo_s;
    int slo_met;                         /* both P99s within their SLOs */
    sp_serve_request *req;               /* per request when keep_requests (free with sp_serve_result_free) */
} sp_serve_result;

void sp_serve_defaults(sp_serve_opts *o);
void sp_serve_stack_defaults(sp_serve_stack *st);
/* Loads data/serving/NAME.json (or a path). */
sp_status sp_serve_stack_load(const char *data_dir, const char *name_or_path, sp_serve_stack *st, sp_error *err);
/* Loads data/workloads/NAME.json (or a path); scenario "server" | "interactive" | "offline" | NULL (the file's
 * default) picks the SLOs and, for offline, all requests at t = 0. */
sp_status sp_serve_workload_load(const char *data_dir, const char *name_or_path, const char *scenario,
                                 sp_serve_workload *w, sp_error *err);
/* Reads a trace CSV with columns arrival_s (optional), prompt_tokens, output_tokens into w (arrivals from the
 * trace when the column is there, lengths always). */
sp_status sp_serve_trace_load(const char *path, sp_serve_workload *w, sp_error *err);
void sp_serve_workload_free(sp_serve_workload *w);
/* Simulates o->n_requests requests of w on the deployment. Allocates only at setup. */
sp_status sp_serve_simulate(const sp_model *m, const sp_system *s, const sp_serve_workload *w,
                            const sp_serve_opts *o, sp_serve_result *r, sp_error *err);
void sp_serve_result_free(sp_serve_result *r);
/* The result as one JSON object (jansson json_t *, caller json_decref's it); names label the run. */
struct json_t;
struct json_t *sp_serve_result_json(const sp_serve_result *r, const sp_serve_opts *o, const char *model,
                                    const char *system, const char *workload);
/* The highest rate whose P99 TTFT and TPOT meet the SLOs (bisection on the rate, same seed at each rate);
 * r holds the run at that rate. Fails when even a low rate misses them. */
sp_status sp_serve_max_rate(const sp_model *m, const sp_system *s, const sp_serve_workload *w,
                            const sp_serve_opts *o, sp_serve_result *r, sp_error *err);
/* Multiplies st->kernel_factor by the calibrated factor of the accelerator's family for this stack
 * (data/serving/calibration.json) and names the family ("uncalibrated" when none is listed). */
sp_status sp_serve_calibrate(const char *data_dir, const char *accel, sp_serve_stack *st, char *family, size_t n,
                             sp_error *err);
/* serve --search: one deployment (co-located or disaggregated) and how it did at the target rate. */
typedef struct {
    char system[64];
    int gpus, tp, pp, ep, prefill_gpus;
    sp_dtype weights, kv;
    double replica_rate;      /* one co-located replica's highest rate meeting the SLOs */
    double usd_per_million_tokens, energy_j_per_token, throughput_tokens_per_s, ttft_p99_s, tpot_p99_s;
    int ok;                   /* meets both P99 SLOs at the target rate within the GPU limit */
    char why[192];            /* when not ok */
    double usd_per_gpu_hour;  /* the system's price (data/systems), what its $/M tokens is made of */
} sp_serve_candidate;
typedef struct {
    const char *data_dir;     /* serving factors and calibration per candidate's accelerator */
    double rate;              /* target requests/s */
    int max_gpus;             /* [64] */
    int n_requests;           /* per simulated run [800] */
    int bisect_steps;         /* per replica max-rate search [6] */
    int try_disagg;           /* also the 3 cheapest layouts disaggregated */
    int fixed_kernel_factor;  /* 0: base's stack is uncalibrated and each candidate runs it with its accelerator
                                 family's factor (data/serving/calibration.json); 1: base's factor for every candidate */
} sp_serve_search_opts;
/* Every layout of every system (TP, PP, EP, weight precision), sized to the target rate, ranked by $/M tokens then
 * J/token into out[0..max-1] (failures last, with the reason). base gives the stack (uncalibrated: see
 * fixed_kernel_factor), SLOs and workload options. */
sp_status sp_serve_search(const sp_model *m, const sp_system *systems, int nsys, const sp_serve_workload *w,
                          const sp_serve_opts *base, const sp_serve_search_opts *so, sp_serve_candidate *out, int max,
                          int *n, sp_error *err);
struct json_t *sp_serve_search_json(const sp_serve_candidate *c, int n, const sp_serve_search_opts *so);
/* One MLPerf-style row replayed by the simulator (data/validation/serving_mlperf.csv). */
typedef struct {
    char id[64], family[32], round[16], scenario[16];
    double measured, predicted, err_pct; /* tokens/s; NAN when not evaluated (note says why) */
    char note[256];
} sp_serve_vrow;
typedef struct {
    int n_requests;           /* per simulated run [2000] */
    double kernel_factor;     /* > 0: use this family factor instead of the calibrated one (calibration scans) */
    char family[32];          /* "" = all rows, else only this family's */
} sp_serve_vopts;
/* Offline rows: an offline run; server/interactive rows: the highest rate meeting their SLOs. *rows malloc'ed. */
sp_status sp_serve_validate(const char *data_dir, const char *csv_path, const sp_serve_vopts *vo, sp_serve_vrow **rows,
                            int *n, sp_error *err);
/* The replay as one JSON object: rows (error_pct null and a note when not evaluated) and mape per family and round. */
struct json_t *sp_serve_validate_json(const sp_serve_vrow *rows, int n);

/*
** Energy, cost and carbon
*/
typedef enum {
    SP_POWER_ACTIVITY, /* idle + (TDP - idle) x activity(utilization) + host share (default) */
    SP_POWER_TDP       /* accelerators at TDP, no host share (the convention of the LLaMA and Llama 2 papers) */
} sp_power_model;

typedef struct {
    sp_power_model model;
    double pue;                 /* <= 0: the system's */
    double grid_kg_per_kwh;     /* < 0: the system's */
    double usd_per_accel_hour;  /* < 0: the system's (cloud rental) */
    double host_w_per_accel;    /* < 0: the system's average host/network share */
    double energy_usd_per_kwh;  /* ownership: electricity price [0.08] */
    double server_factor;       /* ownership: server cost / accelerator cost [1.4] */
    double interconnect_share;  /* ownership: network cost as a share of server cost [0.15] */
    double amortisation_years;  /* ownership: [4] */
} sp_energy_opts;

typedef struct {
    double utilization;         /* MFU used for the activity */
    double activity;            /* fraction of (TDP - idle) drawn */
    double accel_w, host_w;     /* average per accelerator, before PUE */
    double facility_w;          /* (accel + host) x PUE, per accelerator */
    double accel_hours;
    double energy_kwh;          /* facility energy */
    double co2e_kg;
    double cloud_usd;
    double own_usd, own_capex_usd, own_energy_usd;
    double pue, grid_kg_per_kwh, usd_per_accel_hour; /* assumptions used */
} sp_energy_result;

void sp_energy_defaults(sp_energy_opts *o);
/* Activity of an accelerator at model FLOP utilization u: 0.3 + 0.7 x min(1, u / 0.6) (docs/energy.md). */
double sp_power_activity(double u);
sp_status sp_energy_estimate(const sp_system *s, double n_accels, double hours, double utilization,
                             const sp_energy_opts *o, sp_energy_result *r, sp_error *err);
/* Grid intensity of a region preset (data/regions/regions.json), e.g. "us", "fr", "aws-us-east-1". */
sp_status sp_region_intensity(const char *data_dir, const char *region, double *kg_per_kwh, char *source, size_t n,
                              sp_error *err);

/*
** Data files: CSV reading and validation against measured training runs
*/
typedef struct sp_csv sp_csv;
sp_status sp_csv_read(const char *path, sp_csv **out, sp_error *err);
/* The same from text in memory (len bytes, need not be NUL-terminated); `name` stands for the file in messages,
 * which are the same as sp_csv_read's for a file of that content. */
sp_status sp_csv_parse(const char *name, const char *text, size_t len, sp_csv **out, sp_error *err);
void sp_csv_free(sp_csv *c);
int sp_csv_rows(const sp_csv *c);
int sp_csv_col(const sp_csv *c, const char *name);       /* -1 if absent */
const char *sp_csv_get(const sp_csv *c, int row, int col); /* "" if empty */
int sp_csv_line(const sp_csv *c, int row);               /* 1-based line number in the file */
const char *sp_csv_path(const sp_csv *c);
/* Typed cell readers with errors naming file:line:column-name. Empty cell -> *out = dflt, SP_OK. */
sp_status sp_csv_int(const sp_csv *c, int row, const char *col, int dflt, int min, int max, int *out,
                     sp_error *err);
sp_status sp_csv_double(const sp_csv *c, int row, const char *col, double dflt, double min, double max,
                        double *out, sp_error *err);

typedef struct {
    char id[48];
    char family[16];          /* id prefix before the first '-' (source family) */
    int ok;                   /* 0: could not be evaluated, see reason */
    char reason[800];
    double predicted_step_time_s, measured_step_time_s;
    double error_pct;         /* 100 (pred - meas) / meas */
    double predicted_mfu;
    double predicted_tflops, measured_tflops;   /* compared quantity when no step time is given */
    int compared_tflops;      /* the measured value was TFLOP/s per GPU */
    int stated_knobs;         /* 1 if recompute/SP were stated by the source */
    sp_train_result res;
} sp_validate_row;

/* Evaluates every row of a training_runs.csv-style file. *rows is allocated (free()). */
sp_status sp_validate_training(const char *data_dir, const char *csv_path, sp_validate_row **rows, int *n,
                               sp_error *err);
/* Accuracy of a set of rows: overall and per source family (id prefix). NaN-free: a group with no evaluated row
 * has n = 0 and mape_pct = 0. */
typedef struct {
    char name[16];
    int n, n_skipped;         /* evaluated, not evaluated */
    double mape_pct, worst_abs_error_pct;
    char worst_id[48];
} sp_validate_group;
#define SP_VALIDATE_MAX_FAMILIES 32
typedef struct {
    sp_validate_group all;
    int n_stated;             /* evaluated rows whose recompute/SP were stated */
    double mape_stated_pct, mape_unstated_pct;
    int n_families;
    sp_validate_group family[SP_VALIDATE_MAX_FAMILIES];
} sp_validate_summary;
void sp_validate_summarize(const sp_validate_row *rows, int n, sp_validate_summary *out);
/* The same on a CSV already read (sp_csv_read or sp_csv_parse). */
sp_status sp_validate_training_csv(const char *data_dir, const sp_csv *c, sp_validate_row **rows, int *n,
                                   sp_error *err);

/* Validation of the serving model against measured inference rows (data/validation/inference_measured.csv):
 * latency and throughput rows predicted by sp_infer_eval, kernel rows by the GEMM model. */
typedef struct {
    char id[48], metric[128], unit[32], reason[400]; /* reason: why a row was not evaluated */
    int ok, decode;           /* decode: the metric is dominated by decode steps */
    int read_per_gpu;         /* a throughput whose unit the source left ambiguous, read per GPU */
    double predicted, measured, error_pct;
} sp_infer_row;
/* *rows is calloc'ed (free()), one per CSV row. */
sp_status sp_validate_infer(const char *data_dir, const sp_csv *c, sp_infer_row **rows, int *n, sp_error *err);

/* Validation against published energy and CO2e of training runs (rows of data/validation/training_energy.csv):
 * each row predicted from its hardware, accelerator-hours and FLOP count; a row whose source computed energy
 * as hours x a stated chip power x PUE is reproduced that way in the automatic mode (docs/energy.md). */
typedef struct {
    sp_energy_opts energy;      /* power model for rows not reproduced from a stated accounting */
    int automatic;              /* 1: each row by its source's method ("stated" rows at the stated chip power) */
    double utilization;         /* MFU assumed when a row gives no FLOP count [0.4] */
    double region_kg_per_kwh;   /* grid intensity for rows that state none; < 0: the system preset's */
} sp_validate_energy_opts;

typedef struct {
    char id[48], reason[800];   /* reason: why a row was not evaluated */
    int ok, stated, compared_energy; /* compared_energy 0: the error is on CO2e (no published energy) */
    double predicted_mwh, measured_mwh, predicted_t, measured_t, error_pct, physical_mwh;
} sp_energy_row;

/* *rows is calloc'ed (free()), one per CSV row. */
sp_status sp_validate_energy(const char *data_dir, const sp_csv *c, const sp_validate_energy_opts *o, sp_energy_row **rows,
                             int *n, sp_error *err);

/*
** One call per command: JSON request in, JSON result out (for bindings: Python, WebAssembly, other languages)
*/
/* Runs `command` ("train", "search", "infer", ...: the CLI's commands) on a request object and returns its result
 * object, the same JSON that `scaleplan COMMAND ... --json` prints. request_json: an object whose keys are the
 * command's long options with '-' written '_' ({"model":"llama3-70b","gpus":512,"global_batch":1024,
 * "tokens":"15T"}); values are numbers, strings (units accepted: "15T", "80GiB") or booleans for flags; NULL or ""
 * is {}. On success *result_json is a malloc'ed string the caller frees; on failure it is NULL, the status says
 * why and err holds the one-line message the CLI prints (naming the option as "--tp: ..."). An unknown key is an
 * error. Thread-safe: no global state; data_dir holds the presets (the repository's data/). Schemas: docs/api.md. */
sp_status sp_call(const char *data_dir, const char *command, const char *request_json, char **result_json,
                  sp_error *err);

#ifdef __cplusplus
}
#endif
#endif
