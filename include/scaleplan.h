/* scaleplan: plan frontier-scale AI model training and serving from first principles.
 *
 * The one public header of libscaleplan. Conventions:
 *  - SI base units in double everywhere (s, bytes, FLOP, FLOP/s, bytes/s, W, J); integers only for counts.
 *  - Library code never prints, exits or reads the environment. Every fallible call returns sp_status and,
 *    on failure, fills an sp_error with a one-line message naming file/line/field and what is allowed.
 *  - The evaluation hot path (sp_train_eval and what it calls) allocates nothing.
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

/* ------------------------------------------------------------------------------------------------ */
/* Status and errors                                                                                  */
/* ------------------------------------------------------------------------------------------------ */
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

/* ------------------------------------------------------------------------------------------------ */
/* Units: parse human quantities and format them                                                     */
/* ------------------------------------------------------------------------------------------------ */
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

/* ------------------------------------------------------------------------------------------------ */
/* Numeric types                                                                                      */
/* ------------------------------------------------------------------------------------------------ */
typedef enum { SP_FP32, SP_TF32, SP_BF16, SP_FP16, SP_FP8, SP_INT8, SP_INT4, SP_FP4, SP_NDTYPE } sp_dtype;
const char *sp_dtype_name(sp_dtype d);
sp_status sp_dtype_parse(const char *s, sp_dtype *out, sp_error *err);
double sp_dtype_bytes(sp_dtype d);

/* ------------------------------------------------------------------------------------------------ */
/* Model (model.c): a decoder-only transformer, dense or MoE                                         */
/* ------------------------------------------------------------------------------------------------ */
typedef enum { SP_NORM_LAYERNORM, SP_NORM_RMSNORM } sp_norm;

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
} sp_model;

typedef struct {
    double total;          /* all parameters */
    double active;         /* parameters touched per token (MoE: k routed + shared experts) */
    double embedding;      /* input embedding (+ learned positions) */
    double lm_head;        /* 0 when tied */
    double attn_per_layer; /* attention weights of one layer */
    double mlp_dense_per_layer;   /* dense MLP of one layer */
    double expert;         /* one routed expert */
    double moe_per_layer;  /* all routed + shared experts + router of one MoE layer */
    double norm_per_layer; /* norms + biases of one layer */
    double layers_total;   /* all transformer layers */
} sp_param_count;

void sp_model_defaults(sp_model *m);              /* fills zeros with documented defaults */
sp_status sp_model_check(const sp_model *m, const char *where, sp_error *err);
void sp_model_params(const sp_model *m, sp_param_count *out);
/* Forward matmul FLOPs per token for a sequence of length s (attention over s, no causal halving:
 * Megatron's convention), counting only active parameters; includes LM head. */
double sp_model_fwd_flops_per_token(const sp_model *m, int seq_len);
/* Model FLOPs of one training iteration (3 x forward) for `tokens` tokens of length s. */
double sp_model_train_flops(const sp_model *m, int seq_len, double tokens);
int sp_model_is_moe(const sp_model *m);
int sp_model_attn_qdim(const sp_model *m);  /* a * d_head */
int sp_model_kvdim(const sp_model *m);      /* g * d_head */

/* ------------------------------------------------------------------------------------------------ */
/* Hardware (hardware.c)                                                                              */
/* ------------------------------------------------------------------------------------------------ */
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
} sp_efficiency;

typedef struct {
    char name[48];
    double peak[SP_NDTYPE];   /* dense peak FLOP/s per dtype (0 = unsupported) */
    double hbm_bytes;
    double hbm_bw;            /* bytes/s */
    double l2_bytes;
    int n_sm;                 /* streaming multiprocessors / compute units (wave quantization) */
    double tdp_w;
    double idle_w;
    double price_usd;
    sp_efficiency eff;
} sp_accel;

#define SP_MAX_TIERS 4
typedef struct {
    char name[32];
    int size;                 /* accelerators inside one domain of this tier (8 = NVLink node); last tier
                                 spans the whole cluster */
    double bw;                /* per accelerator, per direction, bytes/s */
    double latency_s;         /* per hop / per collective step */
    double eff;               /* achievable fraction of bw for large collectives (NCCL bus bandwidth) */
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
    char description[160];
    /* energy / cost (energy.c) */
    double host_w_per_accel;  /* CPU, NIC, fans, switches per accelerator */
    double pue;
    double grid_kg_per_kwh;
    double usd_per_accel_hour;
} sp_system;

void sp_system_defaults(sp_system *s);
sp_status sp_system_check(const sp_system *s, const char *where, sp_error *err);
/* Peak FLOP/s for a dtype; falls back to the next wider supported type (fp8 -> bf16 -> fp16). */
double sp_accel_peak(const sp_accel *a, sp_dtype d);
/* Time of one GEMM (m x k) * (k x n), `batch` independent copies, on one accelerator. */
double sp_gemm_time(const sp_accel *a, sp_dtype d, double m, double n, double k, double batch);
/* Achieved fraction of peak of that GEMM (no launch overhead). */
double sp_gemm_eff(const sp_accel *a, double m, double n, double k, double batch);
/* Time of a memory-bound kernel moving `bytes` (read + write). */
double sp_mem_time(const sp_accel *a, double bytes);

/* ------------------------------------------------------------------------------------------------ */
/* Collectives on tiers (collective.c)                                                                */
/* ------------------------------------------------------------------------------------------------ */
typedef enum { SP_COLL_ALLREDUCE, SP_COLL_REDUCESCATTER, SP_COLL_ALLGATHER, SP_COLL_ALLTOALL, SP_COLL_P2P } sp_coll;
/* Time of a collective among `p` ranks whose consecutive members are `stride` apart in the global rank
 * order (TP innermost). `bytes` is the full buffer size per rank (all-reduce input, all-gather output).
 * Hierarchical when the group spans tiers. */
double sp_collective_time(const sp_system *s, sp_coll kind, int p, int stride, double bytes);
/* Index of the innermost tier that contains a group of p ranks at that stride. */
int sp_group_tier(const sp_system *s, int p, int stride);

/* ------------------------------------------------------------------------------------------------ */
/* Plan (plan.c)                                                                                       */
/* ------------------------------------------------------------------------------------------------ */
typedef enum { SP_RECOMPUTE_NONE, SP_RECOMPUTE_SELECTIVE, SP_RECOMPUTE_FULL } sp_recompute;
const char *sp_recompute_name(sp_recompute r);

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
    sp_dtype dtype;          /* compute dtype of GEMMs */
    int flash_attention;     /* -1 = system default */
    int dp_overlap;          /* -1 = default (1) : DP gradient communication overlapped with backward */
    double grad_bytes;       /* bytes per gradient held: 0 = 4 (fp32 main grads, Megatron); 2 for HF/DeepSpeed */
    /* fine-tuning (finetune.c): base weights frozen, low-rank adapters trained */
    int frozen_base;         /* 1: no weight gradients or optimizer state for base weights */
    int lora_rank;           /* 0: no adapters */
    unsigned lora_targets;   /* SP_LORA_ATTN | SP_LORA_MLP */
    double base_weight_bytes;/* bytes per frozen base weight: 0 = 2 (bf16); 1 int8; 0.516 NF4 + double quant */
    /* MoE (issue 8) */
    int etp;                 /* expert tensor parallelism: experts sharded ETP-way inside, EP-way across; 0 = tp */
    double capacity_factor;  /* expert capacity c: an expert takes at most c x T·k/E tokens; 0 = dropless */
    int moe_pad;             /* 1: expert buffers padded to capacity (static shapes, GShard/Switch); needs c > 0 */
    double moe_imbalance;    /* tokens of the busiest EP rank / mean (>= 1); 0 = 1 (uniform routing) */
} sp_plan;

#define SP_LORA_ATTN 1u
#define SP_LORA_MLP 2u
/* Adapter parameters of one layer for rank r on the given targets (dense MLP; MoE experts excluded). */
double sp_lora_params_per_layer(const sp_model *m, int rank, unsigned targets);

void sp_plan_defaults(sp_plan *p);
/* Checks the plan against model and system: degrees multiply to n_gpus, divide heads/layers/batch.
 * Fills derived fields (dp when 0). */
sp_status sp_plan_resolve(sp_plan *p, const sp_model *m, const sp_system *s, sp_error *err);

/* ------------------------------------------------------------------------------------------------ */
/* Training step time + memory (compute.c, step.c, memory.c)                                         */
/* ------------------------------------------------------------------------------------------------ */
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
} sp_train_result;

/* Evaluates one plan. Allocation-free. The plan must have been resolved. */
sp_status sp_train_eval(const sp_model *m, const sp_system *s, const sp_plan *p, sp_train_result *r,
                        sp_error *err);
/* Memory only (cheap; used by search to reject plans before timing). */
void sp_train_memory(const sp_model *m, const sp_system *s, const sp_plan *p, sp_memory *mem);

/* ------------------------------------------------------------------------------------------------ */
/* Configuration files and presets (config.c)                                                        */
/* ------------------------------------------------------------------------------------------------ */
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
/* Lists preset names of a kind ("models", "systems", "accelerators") into buf, comma separated. */
void sp_list_presets(const char *data_dir, const char *kind, char *buf, size_t n);

/* ------------------------------------------------------------------------------------------------ */
/* CSV reading (csv.c): small, strict, RFC 4180 quoting                                              */
/* ------------------------------------------------------------------------------------------------ */
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

/* ------------------------------------------------------------------------------------------------ */
/* Validation against measured training runs (validate.c)                                            */
/* ------------------------------------------------------------------------------------------------ */
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
/* The same on a CSV already read (sp_csv_read or sp_csv_parse). */
sp_status sp_validate_training_csv(const char *data_dir, const sp_csv *c, sp_validate_row **rows, int *n,
                                   sp_error *err);

/* ------------------------------------------------------------------------------------------------ */
/* Fine-tuning, distillation and pruning (finetune.c) — issue 10                                      */
/* ------------------------------------------------------------------------------------------------ */
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

/* ------------------------------------------------------------------------------------------------ */
/* Section for: scaling laws (scaling.c) — issue 4                                                    */
/* ------------------------------------------------------------------------------------------------ */
/* SCALING-BEGIN */
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

/* Fitting L = E + A/N^alpha + B/D^beta (scaling.c, fit): Huber loss of log residuals, L-BFGS (nlopt) from a grid
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
    /* bootstrap: [low, high] at the given level for E, A, B, alpha, beta, a, b */
    int n_boot;
    double ci[7][2];
} sp_fit_result;

typedef struct {
    double delta;     /* Huber delta (1e-3) */
    int bootstrap;    /* resamples (0 = none) */
    uint64_t seed;
    double ci_level;  /* 0.95 */
    int threads;      /* 0 = OpenMP default; results do not depend on it */
    int scaled;       /* 1: Huber log-likelihood with a fitted scale, sum Huber(r/s) + log s (Epoch's estimator) */
} sp_fit_opts;

sp_status sp_fit_law(const double *n, const double *d, const double *loss, const double *w, int count,
                     const sp_fit_opts *o, sp_fit_result *r, sp_error *err);
/* SCALING-END */

/* ------------------------------------------------------------------------------------------------ */
/* Section for: limits (limits.c, limits_epoch.c) — issue 5                                           */
/* ------------------------------------------------------------------------------------------------ */
/* LIMITS-BEGIN */
/* The Erdil & Schneider-Joseph (2024) model, reproduced (limits_epoch.c; data/reference/epoch2024-model.md). */
#define SP_EPOCH_MAX_LEVELS 4
typedef struct {
    char name[48];
    int n_sm;
    double flop_per_clock_per_thread;  /* 16-bit */
    double register_bytes;             /* per processing block */
    double l2_bps, l2_bytes, global_bps;
    double max_clock_hz, effective_utilization;
    int dsmem;                          /* Hopper distributed shared memory */
    double memory_bytes;
    double latency_per_matmul_s;
    int n_levels;                       /* network levels = level sizes + 1 */
    double bw[SP_EPOCH_MAX_LEVELS];     /* bidirectional bytes/s per GPU */
    double lat[SP_EPOCH_MAX_LEVELS];
    int level_size[SP_EPOCH_MAX_LEVELS - 1];
} sp_epoch_gpu;

/* Critical-batch rules, all times sqrt(S) for MoE and rounded to S·{1,3,5,7,9}·2^i sequences as the paper does:
 * DEFAULT 4 Mi tokens·(C/3e23)^(1/6) (the paper's); FIXED a constant; DEEPSEEK 0.292·C^0.3271 (Bi et al. 2024);
 * KAPLAN Bstar·(C/C_c)^(alpha_C/alpha_B), Bstar = 2e8 tokens, C_c = 3.1e8 PF-days, alpha_C = 0.05, alpha_B = 0.21
 * (Kaplan et al. 2020 Eq. 1.3-1.4: B_crit(L) = Bstar / L^(1/alpha_B) with L(C_min) = (C_c/C_min)^alpha_C). */
typedef enum { SP_EPOCH_BATCH_DEFAULT, SP_EPOCH_BATCH_FIXED, SP_EPOCH_BATCH_DEEPSEEK, SP_EPOCH_BATCH_KAPLAN } sp_epoch_batch;

typedef struct {
    sp_epoch_gpu gpu;
    int sparse;                 /* MoE: sparsity factor grows with width */
    sp_epoch_batch batch;
    double fixed_batch_tokens;  /* SP_EPOCH_BATCH_FIXED [4 Mi] */
    double years;               /* training duration [0.25] */
    int seq_len;                /* [2048] */
    double d_model_min, d_model_max; /* sweep [12288, 12288*128] */
    double layer_scale;         /* layers x this ("shorter and fatter": < 1) [1] */
    double c_min, c_max;        /* report only compute in [c_min, c_max]; 0 = the paper's sweep */
} sp_epoch_setting;

/* Where one batch's time goes (seconds per batch; the fields add up to batch_s):
 *   compute      the model FLOP at the max-clock peak (what utilization counts)
 *   derate       the clock/throughput derate (0.7 on the H100: why U never exceeds it)
 *   data_move    per-GPU HBM / L2 / shared-memory traffic and tensor-core padding beyond the FLOP time
 *   kernel_lat   4.5 us per matmul, 6 matmuls per layer per microbatch
 *   net_bw       TP + PP/EP bandwidth not hidden behind the matmuls (they overlap)
 *   bubble       pipeline fill and drain
 *   net_lat      TP + PP/EP network latency (never charged with zero-bubble pipelines: reproduced quirk)
 *   dp_bw, dp_lat the data-parallel all-reduce (not overlapped) */
typedef struct {
    double batch_s, compute, derate, data_move, kernel_lat, net_bw, bubble, net_lat, dp_bw, dp_lat;
} sp_epoch_split;

typedef struct {
    double d_model, d_ff, params, batch_tokens, compute_flop, months, utilization, n_gpus;
    int layers, sparsity, tp_model, tp_ff, pp, interleave, dp, ep, microbatches, zero_bubble;
    double tp_comm_s, dp_comm_s, pp_comm_s, latency_s; /* whole run, as the reference reports them */
    sp_epoch_split split;
    const char *binding;        /* static string: the largest loss in `split` (see sp_epoch_binding) */
    double gpu_hours;           /* n_gpus x run time: the hook for energy and cost (issue 6) */
} sp_epoch_point;

/* Name of the largest loss of a split beyond the clock derate (which only sets the ceiling): "per-GPU data
 * movement", "kernel latency", "TP/PP bandwidth", "pipeline bubble", "network latency", "DP all-reduce", or
 * "none". */
const char *sp_epoch_binding(const sp_epoch_split *s);

/* Why a sweep ended: the requested/paper's range ended first, the next width had no plan finishing in time (the
 * wall), utilization fell below 0.001 (the reference's stop), or the next width would need clusters of more than
 * ~1.4e17 GPUs, which are not represented (not a wall). */
typedef enum { SP_EPOCH_STOP_RANGE, SP_EPOCH_STOP_WALL, SP_EPOCH_STOP_UTIL, SP_EPOCH_STOP_CLUSTER_CAP } sp_epoch_stop;

typedef struct {
    int n_points;
    double max_utilization;           /* the GPU's ceiling (effective utilization) */
    double linear_regime_end_flop;    /* first C with U <= 0.8 x max (0 if none) */
    double latency_wall_flop;         /* largest C with a feasible plan, the paper's "latency wall"; 0 when the
                                         sweep ended before it (stop RANGE or CLUSTER_CAP) */
    double first_infeasible_flop;     /* next sweep point, with no feasible plan (0 if none) */
    double largest_feasible_flop;     /* largest C swept with a feasible plan */
    sp_epoch_stop stop;
    double t_limit_flop, t_crit_flop; /* closed forms at alpha = 0 (reference §4) at the setting's duration;
                                         latency 4.5 us kernel + 4 x network (9 us on the paper's GPUs) */
} sp_epoch_summary;

/* GPUs and variants of the paper: h100, a100, v100, h100-low-latency, h100-global-nvlink, h100-global-nvlink-ll,
 * h100-infinite-ll, h100-superpod. */
sp_status sp_epoch_gpu_preset(const char *name, sp_epoch_gpu *g, sp_error *err);
/* A built-in name (above), a preset data_dir/epoch_gpus/NAME.json, or a path to such a file: an object with
 * optional "base" (a built-in to start from) and any of "name", "n_sm", "flop_per_clock_per_thread",
 * "register_bytes", "l2_bps", "l2_bytes", "hbm_bps", "max_clock_hz", "effective_utilization", "dsmem",
 * "memory_bytes", "latency_per_matmul_s", "network": [{"size": 8, "bw": 9e11, "latency_s": 1.125e-6}, ...,
 * {"bw": 1e11, "latency_s": 1.125e-6}] (innermost first, per-GPU bidirectional bytes/s; the last level has no
 * size); numbers or strings with units. Errors name the file and the field. */
sp_status sp_epoch_gpu_load(const char *data_dir, const char *name_or_path, sp_epoch_gpu *g, sp_error *err);
void sp_epoch_setting_defaults(sp_epoch_setting *s);
/* Single-GPU matmul time of the tiled I/O model (reference §3.4). */
double sp_epoch_matmul_time(const sp_epoch_gpu *g, double d1, double d2, double b, int for_weight_grads);
/* Sweeps d_model and returns up to max points (the smallest power-of-two cluster finishing within the duration,
 * and its best plan), plus the summary. Allocation-free apart from nothing: out is the caller's. */
int sp_epoch_sweep(const sp_epoch_setting *s, sp_epoch_point *out, int max, sp_epoch_summary *sum);
/* Closed-form latency limit and critical compute (reference §4), alpha = batch exponent - depth exponent. */
double sp_epoch_t_limit(double alpha, double duration_s, double t_lat_s);
double sp_epoch_t_crit(const sp_epoch_gpu *g, double alpha, double duration_s);
/* limits --mode full (limits_full.c): the same question asked with scaleplan's training model and plan search.
 * For each width of the paper's sweep, a transformer with attention (d_head 128, kv_heads GQA groups, GELU MLP
 * d_ff = 4 d, the paper's depth rule, a vocabulary), D = 20 N tokens, the setting's critical batch, and the
 * smallest cluster of S·2^i GPUs (S: experts, 1 when dense; as the paper's) of `sys` whose best plan (sp_search: TP, PP, CP, EP, DP, interleaving,
 * micro-batch, recompute, SP, ZeRO) finishes within the duration. MoE runs (setting.sparse): S experts of width
 * 4 d, top-1 routing, every layer MoE, as the paper's MoE. */
typedef struct {
    int kv_heads;             /* GQA key/value heads [8]; 0 = as many as query heads (MHA) */
    int head_dim;             /* [128] */
    int vocab;                /* [131072] */
    sp_dtype dtype;           /* [bf16] */
    int threads;              /* search threads, 0 = all */
    int max_vpp;              /* interleaving factors tried [4] */
    int log2_max_gpus;        /* no cluster above 2^this GPUs [30] */
    double grad_bytes;        /* bytes per gradient held in memory: 0 = the model's default (4, fp32 main grads) */
} sp_limits_full_opts;

typedef struct {
    double d_model, d_ff, params, active_params, tokens, batch_tokens, compute_flop;
    int layers, heads, kv_heads, experts;
    double n_gpus, months, utilization; /* utilization = MFU of the chosen plan */
    double gpu_hours, step_time_s, steps;
    sp_plan plan;                       /* the best plan at the smallest cluster that finishes in time */
    sp_train_result res;                /* its step: time breakdown (res.t), memory, MFU */
    double latency_s;                   /* per step: what the plan loses to kernel launches and network latency
                                           (its step time minus the same plan's with zero latencies) */
    const char *binding;                /* static: res.bottleneck, or "latency (kernel launches + network hops)"
                                           when that share is the largest loss */
    long long plans_evaluated;          /* over every cluster size tried for this point */
} sp_limits_full_point;

void sp_limits_full_defaults(sp_limits_full_opts *o);
/* Sweeps like sp_epoch_sweep (the setting's gpu field is not used: the hardware is `sys`); the summary's
 * max_utilization is the largest MFU reached, t_limit_flop is the paper's closed form with this system's latency
 * (kernel tail + 4 scale-up hops) and t_crit_flop is 0 (it needs the paper's GPU model).
 * Returns the number of points, or -1 with err set (bad setting, search failure). */
int sp_limits_full_sweep(const sp_epoch_setting *st, const sp_system *sys, const sp_limits_full_opts *o,
                         sp_limits_full_point *out, int max, sp_epoch_summary *sum, sp_error *err);
/* LIMITS-END */

/* ------------------------------------------------------------------------------------------------ */
/* Section for: energy, cost, carbon (energy.c) — issue 6                                             */
/* ------------------------------------------------------------------------------------------------ */
/* ENERGY-BEGIN */
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
/* Activity of an accelerator at model FLOP utilization u: 0.3 + 0.7 x min(1, u / 0.6) (src/energy.c,
 * docs/energy.md). */
double sp_power_activity(double u);
sp_status sp_energy_estimate(const sp_system *s, double n_accels, double hours, double utilization,
                             const sp_energy_opts *o, sp_energy_result *r, sp_error *err);
/* Grid intensity of a region preset (data/regions/regions.json), e.g. "us", "fr", "aws-us-east-1". */
sp_status sp_region_intensity(const char *data_dir, const char *region, double *kg_per_kwh, char *source, size_t n,
                              sp_error *err);
/* ENERGY-END */

/* ------------------------------------------------------------------------------------------------ */
/* Section for: inference (infer.c) — issue 7                                                         */
/* ------------------------------------------------------------------------------------------------ */
/* INFER-BEGIN */
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
void sp_serving_eff_neutral(sp_serving_eff *e);

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
sp_status sp_infer_eval(const sp_model *m, const sp_system *s, const sp_infer_opts *o, sp_infer_result *r, sp_error *err);
/* KV cache bytes per token of context, whole model: 2·L·g·d_head·bytes, or (kv_lora_rank + rope dim)·L·bytes
 * for MLA's compressed latent. */
double sp_kv_bytes_per_token(const sp_model *m, sp_dtype kv);
/* Expected distinct experts among E when T tokens each pick k uniformly: E·(1 − (1 − k/E)^T). */
double sp_expected_experts(double E, double k, double T);
/* Same for a routing distribution p[0..E-1] (sums to 1): sum_i 1 − (1 − min(1, k·p_i))^T. */
double sp_expected_experts_dist(const double *p, int E, double k, double T);

/* ---- composition of experts on tiered memory (infer_coe.c) ---- */
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

/* ---- hardware-in-the-loop model shape search (shape.c) ---- */
typedef struct {
    sp_model m;
    double params, active;    /* total and active parameters */
    double loss;              /* law prediction (NAN without a law: parameter count is the proxy) */
    double tpot_s, ttft_s, tokens_per_s_per_gpu;
    double kv_bytes_per_token;
} sp_shape_point;

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
/* INFER-END */

/* ------------------------------------------------------------------------------------------------ */
/* Section for: plan search (search.c) — issue 3                                                      */
/* ------------------------------------------------------------------------------------------------ */
/* SEARCH-BEGIN */
typedef enum { SP_OBJ_TIME, SP_OBJ_TOKENS_PER_S, SP_OBJ_COST } sp_objective;

#define SP_SEARCH_MAX_TOP 256
#define SP_SEARCH_PARALLEL_SHAPES 4096 /* threads = 0 uses one thread below this many layer shapes (search.c) */
#define SP_SEARCH_MAX_VPP 64 /* largest interleaving factor the search accepts */

typedef struct {
    int n_gpus, global_batch, seq_len;
    sp_dtype dtype;
    int flash_attention;      /* -1: system default */
    double max_mem_frac;      /* a plan must fit in this fraction of HBM [1] */
    sp_objective objective;
    int top_k;                /* <= SP_SEARCH_MAX_TOP */
    int threads;              /* 0: all cores (OpenMP) when there are SP_SEARCH_PARALLEL_SHAPES layer shapes or more,
                                 else 1; the answer does not depend on it */
    int max_vpp;              /* largest interleaving factor tried [8], <= SP_SEARCH_MAX_VPP */
    /* fixed dimensions (0 or -1 = free) */
    int fix_tp, fix_pp, fix_dp, fix_cp, fix_ep, fix_vpp, fix_mb;
    int fix_zero, fix_sp, fix_recompute; /* -1 = free */
    int no_prune;             /* evaluate every feasible plan (for tests and --all) */
    double max_objective;     /* > 0: only plans whose objective is at most this are wanted (limits: the step time
                                 that finishes in the duration); the rest are pruned by the same exact bound */
    /* fine-tuning (finetune.c): plans for a frozen base with adapters (lora_rank > 0 or frozen_base) */
    int frozen_base, lora_rank;
    unsigned lora_targets;
    double base_weight_bytes, grad_bytes;
    /* precision and MoE (issue 8): any_dtype enumerates bf16 and, when the accelerator has an FP8 peak, fp8 (dtype
     * is then ignored); ETP is enumerated over the divisors of TP for MoE models unless fixed; the routing
     * assumptions are passed to every plan */
    int any_dtype, fix_etp;
    double capacity_factor, moe_imbalance;
    int moe_pad;
    /* --all: called for every evaluated plan, in enumeration order (forces one thread, no pruning) */
    void (*on_plan)(void *ctx, const sp_plan *p, const sp_train_result *r);
    void *ctx;
    /* progress: once the search has run progress_after_s seconds, called about every 0.25 s from one thread with
     * the layer shapes done and their total, then once with done == total at the end (NULL: none) */
    void (*on_progress)(void *ctx, long long done, long long total, double elapsed_s);
    void *progress_ctx;
    double progress_after_s;
} sp_search_opts;

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
    sp_search_entry top[SP_SEARCH_MAX_TOP];
    int n_top;
    /* closest to fitting when nothing fits */
    double min_overflow_bytes;
    sp_plan min_overflow_plan;
} sp_search_result;

void sp_search_defaults(sp_search_opts *o);
/* Enumerates TP, CP, EP, PP (uneven splits allowed), DP, virtual stages, micro-batch, recompute, SP and ZeRO stage;
 * rejects by memory before timing; ranks by the objective; ties broken by (tp, pp, dp, cp, ep, vpp, micro-batch,
 * recompute, sp, zero) ascending. The same answer for any thread count. Allocation-free per plan. */
sp_status sp_search(const sp_model *m, const sp_system *s, const sp_search_opts *o, sp_search_result *r,
                    sp_error *err);
/* SEARCH-END */

/* ------------------------------------------------------------------------------------------------ */
/* Section for: plotting (plot.c, gnuplot) — shared by commands                                      */
/* ------------------------------------------------------------------------------------------------ */
/* PLOT-BEGIN */
/* PLOT-END */

#ifdef __cplusplus
}
#endif
#endif
