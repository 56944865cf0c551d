/* Shared between step.c and memory.c. */
#ifndef SP_STEP_INTERNAL_H
#define SP_STEP_INTERNAL_H
#include "internal.h"
#include "memo.h"
#include "ops.h"
#include "plan_internal.h"


/* Memory terms that depend only on the model and the per-layer shape (TP, CP, micro-batch, SP, attention):
 * parameter counts and the activation bytes of one layer for each recompute mode. */
typedef struct {
    sp_param_count pc;
    double act[3]; /* indexed by sp_recompute */
} sp_mem_pre;
/* pc: the model's parameter counts when the caller has them (NULL: computed here) */
void sp_mem_pre_fill(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_param_count *pc,
                     sp_mem_pre *pre);
void sp_train_memory_pre(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_mem_pre *pre, sp_memory *mem);
/* What depends on the pipeline and data-parallel degrees on top of the layer shape, but not on the virtual
 * stages, ZeRO stage or recompute: the parameters on the heaviest stage (dense, replicated over DP x EP x CP;
 * expert, sharded by EP x ETP) and the expert data-parallel group. The search fills it once per PP degree. */
typedef struct {
    double dense, expert;
    int edp, estride;
} sp_stage;
void sp_stage_fill(const sp_model *m, const sp_plan *p, const sp_mem_pre *pre, sp_stage *st);
void sp_train_memory_stage(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_mem_pre *pre,
                           const sp_stage *st, sp_memory *mem);
/* The two parts of a plan's memory (memory.c): model states and buffers (weights, grads, optimizer, comm
 * buffers, overhead; depend on ZeRO, not on virtual stages or recompute) and activations (activations,
 * embedding/logits; depend on virtual stages and recompute, not on ZeRO). Each part's total is its own sum. */
void sp_mem_static(const sp_model *m, const sp_plan *p, const sp_mem_pre *pre, const sp_stage *st, sp_memory *mem);
/* The totals of sp_mem_static for ZeRO stages 0-3 (the same values, without the breakdown). */
void sp_mem_static_totals(const sp_model *m, const sp_plan *p, const sp_mem_pre *pre, const sp_stage *st,
                          double total[4]);
void sp_mem_activations(const sp_model *m, const sp_plan *p, const sp_mem_pre *pre, sp_memory *mem);
void sp_mem_combine(const sp_memory *stat, const sp_memory *act, double capacity, sp_memory *mem);
static inline double sp_mem_static_sum(const sp_memory *x)
{
    return x->weights + x->grads + x->optimizer + x->comm_buffers + x->overhead;
}
static inline double sp_mem_act_sum(const sp_memory *x) { return x->activations + x->embedding_logits; }
/* The activation part from its terms (sp_mem_act_terms): layers held x one layer's bytes under recompute mode rc,
 * plus, under full recompute, the one layer rebuilt in the backward; total = that + emb_logits. The search's
 * memory check and sp_mem_activations use the same two functions, so they agree to the bit. */
void sp_mem_act_terms(const sp_model *m, const sp_plan *p, double *layers_held, double *emb_logits);
/* Interleaved 1F1B holds (1 + (p-1)/(p·v)) times the micro-batches of plain 1F1B on the first stage (v > 1);
 * layers_held of vpp v = layers_held of vpp 1 x this, and emb_logits does not depend on v. */
static inline double sp_mem_interleave_factor(int pp, int v) { return 1.0 + (pp - 1.0) / ((double)pp * v); }
static inline double sp_mem_act_layers(const sp_mem_pre *pre, int rc, double held)
{
    double a = pre->act[rc] * held;
    if (rc == SP_RECOMPUTE_FULL)
        a += pre->act[SP_RECOMPUTE_NONE];
    return a;
}
void sp_stage_params_pc(const sp_model *m, const sp_plan *p, const sp_param_count *pc, double *dense, double *expert);

/* Everything of a step that depends only on the per-layer shape: TP, CP, EP, micro-batch, sequence length, SP,
 * attention kernel, dtype and fine-tuning mode (search caches it across PP, VPP, DP, ZeRO, recompute). */
/* One layer of a shape, mixed over the dense and MoE layers of the model, and what each recompute mode makes of
 * it (indexed by sp_recompute): the terms every plan of the shape assembles its step from. */
typedef struct {
    double f_c, f_m, b_c, b_m;      /* forward / backward compute and memory-bound time */
    double tp_f, tp_b, attn;        /* TP communication; attention core (selective recompute) */
    double cp_f, cp_b, ep_f, ep_b;  /* exposed CP exchange and EP all-to-all */
    double cp, ep;                  /* cp_f + cp_b, ep_f + ep_b */
    double rec[3], rec_tp[3];       /* recomputed forward work and its TP communication, in the backward */
    double compute[3], mem[3], tp[3], total[3]; /* forward + backward of one layer */
} sp_layer_mix;

typedef struct {
    sp_layer_cost dense, sparse;
    sp_layer_mix mix;   /* dense/sparse mixed, per recompute mode */
    double head, emb;   /* LM head + loss (last stage), embedding (first stage), one micro-batch */
    double pp_gather;   /* all-gather after a scatter/gather pipeline send */
    int flash;
    sp_mem_pre mp;      /* memory terms of this layer shape */
    double model_flops, extra_full, extra_selective, peak; /* per step; recompute's extra FLOPs; dtype's peak */
} sp_step_cache;

/* Everything of a step that depends on PP and DP on top of the layer shape, but not on the virtual stages,
 * ZeRO stage or recompute (search fills it once per PP degree): the stage's parameters, the pipeline send, the
 * data-parallel collectives of every ZeRO stage, and the model/hardware FLOPs. */
typedef struct {
    sp_stage st;                  /* memory view of the heaviest stage */
    double red_dense, red_expert; /* parameters whose gradients are reduced and updated (adapters when frozen) */
    int red_edp, red_estride;     /* expert reduction group (the dense group's shape when no experts are held) */
    double p2p;                   /* one pipeline send between stages */
    double ar0;                   /* ZeRO-0: all-reduce of the gradients */
    double rsag;                  /* ZeRO-1/2: reduce-scatter of the gradients + all-gather of the weights */
    double ag3, rs3;              /* ZeRO-3: one all-gather of the weights, one reduce-scatter of the gradients */
    double model_flops, extra_full, extra_selective, peak;
    /* the schedule's terms per recompute mode, and the DP/optimizer terms per ZeRO stage (sp_step_time) */
    int pp, n_micro, overlap;       /* overlap: DP reduction overlapped with the last backward */
    double lps, lps_div;            /* layers on the heaviest stage; the same, at least 1 */
    double ppg;                     /* one pipeline send + its all-gather (pp > 1) */
    double stage_layers[3], slot_max[3], slot_avg[3], stage_bwd[3];
    double dp3[3];                  /* ZeRO-3: exposed gathers and reduce-scatters of a step */
    double opt[2];                  /* optimizer step: ZeRO 0, ZeRO >= 1 */
} sp_step_outer;

/* The pieces of one plan's step (sp_step_time). */
typedef struct {
    double pp_comm_slot, bubble, pipe, dp, opt, step;
} sp_step_parts;

/* Step time of the plan (vpp v, ZeRO z, recompute rc) whose layer shape and PP degree filled o: the only per-plan
 * arithmetic of the search, and the same expression the full result is built from (sp_step_assemble_outer). */
static inline double sp_step_time(const sp_step_outer *o, int v, int z, int rc, sp_step_parts *q)
{
    double vv = v;
    double ppc = o->pp > 1 ? 2 * vv * o->ppg : 0;
    double slot = o->slot_max[rc] + ppc;
    double bubble = (o->pp - 1) * (o->slot_avg[rc] + ppc) / vv;
    double pipe = o->n_micro * slot + bubble;
    double dp;
    if (z >= 3)
        dp = o->dp3[rc];
    else {
        double ar = z == 0 ? o->ar0 : o->rsag;
        if (o->overlap) {
            /* gradients of the last micro-batch's backward stream out bucket by bucket: all but the last bucket
             * (~1/lps of the stage) hide behind the remaining backward compute */
            double tail = ar / o->lps_div, rest = ar - o->stage_bwd[rc] / vv;
            dp = tail > rest ? tail : rest;
        } else
            dp = ar;
    }
    double opt = o->opt[z >= 1];
    double step = pipe + dp + opt;
    if (q)
        *q = (sp_step_parts){ppc, bubble, pipe, dp, opt, step};
    return step;
}


/* The layer-shape terms of plan p; memo may be NULL (the same values either way). */
/* mp: the shape's memory terms when the caller has them (NULL: computed here). */
void sp_step_layers(const sp_model *m, const sp_system *s, const sp_plan *p, sp_gemm_memo *memo, const sp_mem_pre *mp,
                    sp_step_cache *c);
/* The stage part of the outer terms (cheap: the search's memory check needs only this). */
void sp_step_outer_stage(const sp_model *m, const sp_plan *p, const sp_step_cache *c, sp_step_outer *o);
/* The rest: collectives and FLOPs (call after sp_step_outer_stage); in two parts: the data-parallel collectives
 * and the optimizer (they depend on the stage and the groups, not on the micro-batch or the layer shape's costs:
 * the search shares them), then the pipeline send, FLOPs and schedule terms. */
void sp_step_outer_dp(const sp_model *m, const sp_system *s, const sp_plan *p, sp_step_outer *o);
void sp_step_outer_sched(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_step_cache *c,
                         sp_step_outer *o);
void sp_step_outer_fill(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_step_cache *c,
                        sp_step_outer *o);
/* The step of plan p from its layer-shape and outer terms; mem, when given, is the plan's memory (already
 * computed by the caller with sp_train_memory_stage), otherwise it is computed here. */
sp_status sp_step_assemble_outer(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_step_cache *c,
                                 const sp_step_outer *o, const sp_memory *mem, sp_train_result *r, sp_error *err);
sp_status sp_step_assemble(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_step_cache *c,
                           sp_train_result *r, sp_error *err);

#endif
