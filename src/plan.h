/* Plan arithmetic below the cost model (plan.c): the expert-side groups and the MoE load a plan implies, and two
 * small numeric helpers. Used by the layer ops (ops.c), memory (memory.c), the step (step.c) and the search; uses
 * nothing of them. */
#ifndef SP_PLAN_H
#define SP_PLAN_H
#include "scaleplan.h"

/* max(0, x) without a libm call (fmax is one on baseline x86-64); 0 for NaN, as fmax(0, NaN) */
static inline double sp_pos(double x) { return x > 0 ? x : 0; }
/* Layers on the heaviest of pp stages: ceil(L / pp), exact in integers (libm's ceil is a call on baseline x86-64). */
static inline double sp_stage_layers(int L, int pp) { return (double)((L + pp - 1) / pp); }

/* Expert tensor-parallel degree of a plan (0 = follow TP, Megatron-Core's default). */
static inline int sp_plan_etp(const sp_plan *p) { return p->etp > 0 ? p->etp : p->tp; }
/* Data-parallel replicas of the attention (the batch is split over them): DP x EP unfolded, DP folded. */
static inline long long sp_plan_replicas(const sp_plan *p) { return p->ep_fold ? p->dp : (long long)p->dp * p->ep; }
/* Ranks of one pipeline stage (TP x CP x DP, with EP beside DP unless folded). */
static inline long long sp_plan_stage_ranks(const sp_plan *p) { return (long long)p->tp * p->cp * sp_plan_replicas(p); }
/* Ranks a ZeRO stage shards the dense states over: the data-parallel group CP x DP (x EP unfolded), or the HSDP
 * group; and the experts' (their EDP group edp, or the HSDP group when smaller). */
static inline double sp_plan_shard_dense(const sp_plan *p)
{
    double dpd = (double)sp_plan_replicas(p) * p->cp;
    return p->hsdp > 0 && p->hsdp < dpd ? p->hsdp : dpd;
}
static inline double sp_plan_shard_expert(const sp_plan *p, int edp) { return p->hsdp > 0 && p->hsdp < edp ? p->hsdp : edp; }
/* Tokens the busiest EP rank's experts process, relative to uniform routing: the load-imbalance factor, clamped to
 * what one rank can receive, then cut (dropping) or raised (padding) to the expert capacity. */
double sp_moe_load(const sp_model *m, const sp_plan *p);
/* Members and stride of the group over which expert gradients are reduced (expert data parallelism). */
void sp_expert_dp_group(const sp_plan *p, int *size, int *stride);
/* Full recompute's share of a stage's layers: 1 (uniform: every layer), or with the block method
 * (p->recompute_layers = N per model chunk of a stage: NVIDIA/Megatron-LM@d98e8a64ddf3
 * megatron/core/recompute.py:167-181 checkpoints layers 0..N-1 of the chunk's num_layers_per_pipeline_rank) N over the chunk's mean L/(pp·vpp) layers, at most 1. */
double sp_plan_full_share(const sp_plan *p, int n_layers);
/* BF16 layers (docs/model.md "BF16 layers"): layer i (0-based) of L runs its GEMMs in 16 bits when the plan's dtype is
 * quantized and i is among the first bf16_first or the last bf16_last layers: NVIDIA/Megatron-LM@d98e8a64ddf3
 * megatron/core/fp8_utils.py:711-727 is_first_last_bf16_layer (layer_no < start or layer_no >= num_layers - end; the
 * global layer index, so the pipeline stage needs no check) and fp4_utils.py:247-263 the same for FP4. */
static inline int sp_plan_bf16_layer(const sp_plan *p, int L, int i)
{
    return sp_dtype_is_quantized(p->dtype) && (i < p->bf16_first || i >= L - p->bf16_last);
}
/* How many of the L layers are BF16 layers (0 in a 16-bit dtype). */
static inline int sp_plan_bf16_count(const sp_plan *p, int L)
{
    if (!sp_dtype_is_quantized(p->dtype))
        return 0;
    int n = p->bf16_first + p->bf16_last;
    return n < L ? n : L;
}

/* Megatron-Core's pipeline_model_parallel_layout text (plan.pp_layout) unrolled as its parser does
 * (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/transformer/pipeline_parallel_layer_layout.py:283-319, parse_str_to_list:
 * commas dropped, "(...)*n" then "x*n" repeated) into buf (n bytes): the virtual stages separated by '|', virtual
 * stage j running on pipeline rank j % pp (:49-55). Returns the number of virtual stages, or -1 when the text has a
 * character other than E, t, m, L, |, (, ), *, digits and commas, a nested or unclosed parenthesis, a '*' without
 * a count, or does not fit. */
int sp_pp_layout_expand(const char *s, char *buf, size_t n);
/* bytes of an unrolled layout (its terminator included): room for the recipes' layouts of models up to ~4000 layers */
#define SP_PP_EXPANDED 4096

#endif
