/* Layer ops (DESIGN.md §2-3): a layer is a list of named operations, built by one function per layer kind and
 * priced by one pricer (ops.c). The training step (step.c) sums a layer's priced ops into its forward/backward
 * compute, memory-bound and communication time; docs/model.md lists the ops of every kind.
 *
 * An op is one of
 *   GEMM   (m x k)·(k x n), `batch` independent copies, in a dtype; its backward is the data-gradient and (unless
 *          the weight is frozen) the weight-gradient GEMM, or twice the forward for the attention's batched GEMMs;
 *   BYTES  memory-bound kernels: bytes moved and kernels launched, forward and backward;
 *   COLL   a collective of a kind over a group (ranks, stride in the global rank order) on `bytes`, run nf times
 *          in the forward and nb times in the backward; an all-to-all may carry only a share of its bytes across
 *          nodes (node-limited routing, collective.c);
 *   FLASH  a flash-attention kernel: the FLOPs it computes (causal half, or a sliding band) at the stack's attention
 *          rate, backward 2.5x;
 *   ROOFLINE  forward-only work bound by FLOPs at a given rate or bytes at a given bandwidth, whichever is slower
 *          (serving: decode attention over the KV cache, prefill attention).
 * Serving GEMMs are forward-only and read their weights at the storage precision (`wbytes` > 0): the pricer takes
 * the slower of the FLOP time (GEMM curve x the serving factor) and the bytes time (weights + activations).
 * Each op says where its time goes in the step's breakdown (part) and what the overlap rules see of it (flags), and
 * the activation bytes it keeps for the backward pass under each recompute mode (saved): the memory model
 * (memory.c) sums these, so a layer kind's memory comes from the same ops as its time.
 * Building and pricing never allocate: a layer's ops live in a fixed array. */
#ifndef SP_OPS_H
#define SP_OPS_H
#include "internal.h"
#include "memo.h"

typedef enum { SP_OP_GEMM, SP_OP_BYTES, SP_OP_COLL, SP_OP_FLASH, SP_OP_ROOFLINE } sp_op_kind;
/* the step's breakdown part an op's time is counted in */
typedef enum { SP_PART_COMPUTE, SP_PART_MEMORY, SP_PART_TP, SP_PART_CP, SP_PART_EP, SP_N_PARTS } sp_op_part;
/* what the overlap rules see (sp_layer_price): */
#define SP_OPF_LINEAR 1u /* a projection, MLP or expert GEMM (or its dequantization): TP communication hides behind it */
#define SP_OPF_FFN 2u    /* an MoE layer's FFN work (routed and shared experts, router): the EP all-to-all hides behind it */
#define SP_OPF_GROUPED 8u /* a routed-expert grouped GEMM: priced at the stack's grouped-GEMM factor of the curve */
#define SP_OPF_CORE 4u   /* the attention core: the CP exchange hides behind its kernels */
#define SP_OPF_IN_EP 32u /* memory-bound work that runs inside the EP dispatch and combine kernels (HybridEP's
                          * permutation): it overlaps where the all-to-all does */
/* PyTorch's micro-pipelined async TP (sp_system.tp_micro_pipeline) fuses a TP all-gather with the GEMMs that consume
 * the gathered input (TP_IN) and a reduce-scatter with the GEMM that produces its input (TP_OUT), per block (TP_FFN:
 * the MLP's; unset: the attention block's); collectives carry TP_FFN too */
#define SP_OPF_TP_IN 64u
#define SP_OPF_TP_OUT 128u
#define SP_OPF_TP_FFN 256u
#define SP_OPF_SCAN 512u /* a tile product inside Mamba-2's Triton SSD kernels: at most the SM-bound scan rate
                          * (ops.c SCAN_FP32_RATE), not the tensor-core GEMM curve */
#define SP_OPF_RERUN_ONLY 16u /* a pass the layer's own forward and backward count inside another op (a norm or the
                               * activation function inside `elementwise`): priced only as its module's re-run */
/* Recompute: Megatron-Core's selective recompute is per module (recompute_modules, the SP_RCM_* bits of
 * include/scaleplan.h); SP_RCM_LAYER is the whole layer (full recompute: every module). An op says which modules
 * re-run its forward in the backward (rerun) and keeps its activations in pieces, each dropped when a module that
 * discards it is recomputed (drop) and, for a module's input checkpoint, present only when that module is (need):
 * under a recompute set S a piece is kept iff (need == 0 or need & S) and !(drop & S) (docs/model.md "Recompute
 * modules"). */
#define SP_RCM_LAYER 0x100u
#define SP_RCM_ALL (SP_RCM_MODULES | SP_RCM_LAYER)
#define SP_OP_PIECES 4
typedef struct {
    double bytes;
    unsigned drop, need;
} sp_saved_piece;
/* backward of a GEMM op */
typedef enum {
    SP_BWD_DATA,    /* data gradient (m x n)(n x k) only: frozen weight */
    SP_BWD_WEIGHT,  /* data gradient + weight gradient (k x m)(m x n) */
    SP_BWD_TWICE,   /* two GEMMs of the forward's shape (attention scores and values: both operands are activations);
                     * a chunked scan's products bwd_x of them (the kernels' own count, ops.c sp_ops_mamba2) */
    SP_BWD_NONE     /* serving: forward only */
} sp_gemm_bwd;

typedef struct {
    const char *name;   /* static string: "qkv", "mlp_up", "experts_down", "tp_allreduce", ... */
    sp_op_kind kind;
    sp_op_part part;
    unsigned flags;
    unsigned graph;     /* the CUDA-graph scopes (SP_GRAPH_*) that must all be captured for this op's kernels to
                         * replay without host dispatch (sp_layer_build_kind tags them) */
    double count;       /* runs per layer (local experts); the priced time is count x one run */
    /* activation memory: bytes the op keeps on this GPU for the backward pass (all `count` runs together), in pieces
     * that recompute modules drop; memory.c sums them over a layer's ops (sp_layer_saved) */
    int n_saved;
    sp_saved_piece saved[SP_OP_PIECES];
    unsigned rerun;     /* SP_RCM_* modules whose recompute re-runs this op's forward in the backward */
    /* host operations of one run that no kernel count above shows (docs/model.md "Host dispatch"): a grouped
     * expert GEMM's per-expert loop, forward and backward; 0 for every other op */
    double host_f, host_b;
    union {
        struct { double m, n, k, batch; sp_dtype dtype; sp_gemm_bwd bwd; double wbytes, abytes, eff_scale;
                 double bwd_x; /* SP_BWD_TWICE: backward products per forward one (0: two, dA and dB of A·B) */
                 double dgrad_x; /* the data-gradient kernel's time over the curve's (0: 1; ops.c DGLU_DBIAS_*) */
        } gemm;
        struct { double fwd, bwd; double kernels_fwd, kernels_bwd; } bytes;
        struct { sp_coll kind; int ranks, stride; double bytes, cross, nf, nb; } coll;
        struct { double flops; sp_dtype dtype; int band; double fwd_x, bwd_x, hd; } flash; /* forward FLOPs computed
                                                   (masked blocks skipped); band: a sliding layer's narrow band; hd: the
                                                   query-key + value head dims (the exponent-unit roofline) */
        struct { double flops, rate, bytes, bw; } roof;
    } u;
} sp_op;

/* The ops of one layer (one micro-batch on one GPU). A builder appending past the end overwrites the last op:
 * tests/test_ops.c asserts the heaviest layer the builders emit leaves room for 8 more (a new kind's builder). */
#define SP_LAYER_MAX_OPS 48
typedef struct {
    int n;
    unsigned module;    /* builders: the SP_RCM_* module the ops being appended belong to (their rerun mask) */
    unsigned rc_set;    /* the selective recompute set (sp_recompute_set of the plan) the layer is priced with */
    sp_op op[SP_LAYER_MAX_OPS];
    /* host dispatch (docs/model.md "Host dispatch"): the plan's captured scopes, whether the forward stops at a
     * device-to-host sync (a MoE layer's dispatcher), the host's time per kernel (0: not priced, serving) */
    unsigned graphs;
    int sync;
    double host_kernel_s;
} sp_layer_ops;

/* What a plan's layer shape gives every builder: tokens on this GPU, degrees, precision. */
typedef struct {
    const sp_model *m;
    const sp_system *s;
    const sp_plan *p;
    const sp_param_count *pc;
    double T;          /* tokens of one micro-batch on this GPU: b·s/cp */
    double t;          /* TP degree */
    double h;          /* d_model */
    double qd, kvd;    /* query width a·d_head, key/value width g·d_head */
    sp_dtype d, d16;   /* GEMM dtype; what stays 16-bit under FP8 (attention core, router, LM head, norms) */
    int flash;         /* flash attention */
    /* filled by the builders for the ones that follow (elementwise traffic, FP8 casts, TP reductions) */
    double f_act;      /* activation-function width per token on this GPU */
    double f_fused;    /* the part of f_act computed in the fused grouped MLP's GEMM epilogues (no elementwise pass) */
    double q_in, q_out;/* FP8: elements of GEMM inputs (forward) and output gradients (backward) cast */
    double mlp_tp_ops; /* TP reductions of the FFN block: 1, or 0 when no TP-sharded FFN is left (ETP != TP) */
    /* serving (sp_layer_ctx_serving): forward-only GEMMs, weights at storage precision */
    int serving;
    double wbytes, abytes; /* bytes per weight, per GEMM activation element */
    double eff_scale;      /* serving factor of the GEMM efficiency (8/4-bit compute) */
    sp_plan plan;          /* serving: the plan the builders read (TP, no SP) */
    sp_mixer mixer;    /* the layer's kinds (sp_layer_build_kind; sp_layer_build: the uniform model's) */
    sp_ffn ffn;
} sp_layer_ctx;

void sp_layer_ctx_init(sp_layer_ctx *c, const sp_model *m, const sp_system *s, const sp_plan *p,
                       const sp_param_count *pc, int flash);

/* Serving: T tokens per GPU through the dense part of a layer, GEMMs in cd with weights of wbytes and
 * activations of abytes per element, GEMM efficiency x eff_scale. */
void sp_layer_ctx_serving(sp_layer_ctx *c, const sp_model *m, const sp_system *s, const sp_param_count *pc, int tp,
                          double T, sp_dtype cd, double wbytes, double abytes, double eff_scale);

/* Builders: one per layer kind, each appends its ops (attention kinds, then FFN kinds, then what every layer has). */
void sp_ops_attention(sp_layer_ctx *c, sp_layer_ops *l);     /* dense (GQA/MHA) attention projections */
void sp_ops_mla(sp_layer_ctx *c, sp_layer_ops *l);           /* multi-head latent attention projections */
void sp_ops_mlp(sp_layer_ctx *c, sp_layer_ops *l);           /* dense (gated) MLP */
void sp_ops_moe(sp_layer_ctx *c, sp_layer_ops *l);           /* MoE: router, experts, shared, ETP, EP all-to-all */
/* Serving forms. MLA with its up-projections absorbed (DeepSeek-V2 §2.1, inference): one input and one output
 * projection. MoE: shared experts, router, `experts` touched experts (expected distinct) as one grouped GEMM of
 * `tokens` tokens each, and with EP > 1 a dispatch and a combine all-to-all of the rank's T·k token copies. */
void sp_ops_mla_absorbed(sp_layer_ctx *c, sp_layer_ops *l);
void sp_ops_moe_serving(sp_layer_ctx *c, int ep, double experts, double tokens, sp_layer_ops *l);
/* Serving attention core: decode of n_dec sequences over ctx keys (KV cache of kv_bytes per token per layer on
 * this GPU, read at kv_eff of the HBM efficiency) and n_pf prompt tokens over a mean causal span pf_span, on this
 * GPU's heads; plus the elementwise kernels of the layer and its TP all-reduces. */
void sp_ops_serving_common(sp_layer_ctx *c, double n_dec, double ctx, double n_pf, double pf_span, double kv_bytes,
                           double kv_eff, double dqk, double dv, sp_layer_ops *l);
/* The whole layer: its attention kind, its FFN kind (moe: an MoE layer), adapters, dequantization, attention core,
 * elementwise kernels, FP8 casts, TP and CP communication. */
void sp_layer_build(sp_layer_ctx *c, int moe, sp_layer_ops *l);
/* The same for a layer of any kind (models.c's layer kinds): sliding-window attention (the core over the window),
 * Mamba-2 and gated-DeltaNet mixers, layers without a mixer or an FFN; gated attention output. */
void sp_layer_build_kind(sp_layer_ctx *c, sp_mixer mx, sp_ffn f, sp_layer_ops *l);
void sp_ops_mamba2(sp_layer_ctx *c, sp_layer_ops *l);        /* Mamba-2: projections, conv, chunked SSD scan */
void sp_ops_mamba1(sp_layer_ctx *c, sp_layer_ops *l);        /* Mamba-1: projections, conv, fused selective scan */
void sp_ops_gdn(sp_layer_ctx *c, sp_layer_ops *l);           /* gated DeltaNet: projections, conv, chunked delta rule */
/* Serving form of a recurrent mixer (Mamba-1, Mamba-2, gated DeltaNet) on c->T tokens: n_pf prompt tokens through
 * the chunked scan, n_dec decode tokens one recurrent step each over a state of `state` bytes per sequence. */
void sp_ops_recurrent_serving(sp_layer_ctx *c, sp_mixer mx, double n_dec, double n_pf, double state, sp_layer_ops *l);
/* One multi-token-prediction module without its LM head: its layer and the 2h -> h projection (DeepSeek-V3 §2.2). */
void sp_ops_mtp(sp_layer_ctx *c, sp_layer_ops *l);
/* Embedding (first stage) and LM head + loss (last stage) of one micro-batch. */
void sp_ops_embedding(sp_layer_ctx *c, sp_layer_ops *l);
void sp_ops_lm_head(sp_layer_ctx *c, sp_layer_ops *l);

/* The price of one op (count included): forward and backward seconds; for forward-only (serving) ops also the busy
 * time, the kernel overheads within fwd, whether bytes rather than FLOPs bound it, and its forward FLOPs. */
typedef struct {
    double fwd, bwd;
    double busy, overhead, flops; /* serving ops: fwd = busy + overhead */
    int mem_bound;
} sp_op_cost;
/* The pricer: one op on the system; memo may be NULL. */
void sp_op_price(const sp_op *op, const sp_system *s, sp_gemm_memo *memo, sp_op_cost *c);
/* FLOP/s of the stack's flash-attention kernel on s (bwd 0: forward, 1: backward) */
double sp_attn_rate(const sp_system *s, sp_dtype d, int bwd);
/* sp_attn_rate at an op's head dims hd = dqk + dv (the exponent-unit roofline, ops.c attn_exp_scale) */
double sp_attn_rate_hd(const sp_system *s, sp_dtype d, int bwd, double hd);
/* A collective's time through the memo (memo may be NULL). */
double sp_coll_memo(sp_gemm_memo *memo, const sp_system *s, sp_coll kind, int p, int stride, double bytes);

/* One layer, one micro-batch, priced: the terms the step is assembled from. */
typedef struct {
    double fwd_compute, fwd_mem, bwd_compute, bwd_mem;
    double attn_fwd;                    /* forward (compute, memory, exposed EP) of the ops the layer's selective set
                                           (rc_set) re-runs in the backward */
    double rec_tp;                      /* their TP communication, forward, at the layer's exposed share */
    double rec_flops;                   /* their forward GEMM FLOPs other than the attention core's (HFU) */
    double tp_fwd, tp_bwd;              /* exposed TP communication (after overlap) */
    double cp_fwd, cp_bwd, ep_fwd, ep_bwd;
    double wgrad;                       /* weight-gradient GEMMs of the backward (what zero-bubble schedules defer) */
    double host_f, host_b;              /* host dispatch time the GPU waits for, forward and backward (host_expose) */
    double host_kf;                     /* the forward's host dispatch time, exposed or not (full recompute reruns it) */
} sp_layer_cost;
/* Prices ops and applies the overlap rules of the system's software stack. */
void sp_layer_price(const sp_layer_ops *l, const sp_system *s, sp_gemm_memo *memo, sp_layer_cost *c);
/* The activation bytes one layer keeps for the backward pass under each recompute mode (indexed by sp_recompute):
 * the sum of its ops' kept pieces with no module recomputed, with the layer's selective set (l->rc_set), and with
 * every module and the layer (full). */
void sp_layer_saved(const sp_layer_ops *l, double out[3]);
/* The same under one recompute set S (SP_RCM_* bits; SP_RCM_ALL: full). */
double sp_layer_saved_set(const sp_layer_ops *l, unsigned set);
/* Sum of forward + backward over all ops (embedding, LM head). */
double sp_ops_total(const sp_layer_ops *l, const sp_system *s, sp_gemm_memo *memo);

#endif
