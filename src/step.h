/* The training step (step.c) in three typed stages between the search and the layer ops: per layer shape
 * (sp_shape_step: TP, CP, EP, ETP, micro-batch, SP, dtype; the layers' priced ops mixed over dense and MoE layers,
 * embedding, LM head, FLOPs), per pipeline stage (sp_pipe_step: PP and DP on top; the stage's parameters,
 * pipeline sends, data-parallel collectives per ZeRO stage, the schedule's terms per recompute mode), per plan
 * (sp_plan_step_time: virtual stages, ZeRO stage, recompute; the only per-plan arithmetic of the search). Uses the
 * layer ops (ops.h), the memo (memo.h) and memory (memory.h). */
#ifndef SP_STEP_H
#define SP_STEP_H
#include "memo.h"
#include "memory.h"
#include "ops.h"

#include <math.h>

/* One layer of a shape, mixed over the dense and MoE layers of the model, and what each recompute mode makes of
 * it (indexed by sp_recompute): the terms every plan of the shape assembles its step from. */
typedef struct {
    double f_c, f_m, b_c, b_m;      /* forward / backward compute and memory-bound time */
    double tp_f, tp_b, attn;        /* TP communication; what selective recompute re-runs (its modules' forward) */
    double attn_tp, attn_flops;     /* ... their exposed TP forward, their GEMM FLOPs beyond the attention core */
    double cp_f, cp_b, ep_f, ep_b;  /* exposed CP exchange and EP all-to-all */
    double cp, ep;                  /* cp_f + cp_b, ep_f + ep_b */
    double w;                       /* weight-gradient GEMMs of the backward (zero-bubble schedules' W pass) */
    double host_f, host_b, host;    /* host dispatch the GPU waits for (ops.c sp_layer_price); host = host_f + host_b */
    double host_rec;                /* full recompute: the rerun forward's host time beyond its GPU time */
    double rec[3], rec_tp[3];       /* recomputed forward work and its TP communication, in the backward */
    double compute[3], mem[3], tp[3], total[3]; /* forward + backward of one layer */
} sp_layer_mix;

/* Per layer shape: everything of a step that depends only on TP, CP, EP, ETP, micro-batch, sequence length, SP,
 * attention kernel, dtype and fine-tuning mode (the search caches it across PP, VPP, DP, ZeRO, recompute). */
typedef struct {
    sp_layer_cost dense, sparse;
    sp_layer_mix mix;   /* dense/sparse mixed, per recompute mode */
    sp_layer_cost kind[SP_NMIXER][SP_NFFN]; /* layers that differ (n_pattern > 0): each (mixer, FFN) kind priced */
    /* BF16 layers (plan.h sp_plan_bf16_layer; bf16 = how many): the same layers with 16-bit GEMMs and no
     * quantization traffic (dense16, sparse16; kind16 for layers that differ) */
    int bf16;
    sp_layer_cost dense16, sparse16, kind16[SP_NMIXER][SP_NFFN];
    double head, emb;   /* LM head + loss (last stage), embedding (first stage), one micro-batch */
    double mtp;         /* the MTP modules (their layers and LM-head passes), one micro-batch: part of head */
    double pp_gather;   /* all-gather after a scatter/gather pipeline send */
    int flash;
    sp_shape_mem mem;   /* memory terms of this layer shape */
    double model_flops, extra_full, extra_selective, peak; /* per step; recompute's extra FLOPs; dtype's peak */
} sp_shape_step;

/* Per pipeline stage: everything of a step that depends on PP and DP on top of the layer shape, but not on the
 * virtual stages, ZeRO stage or recompute (the search fills it once per PP degree): the stage's parameters, the
 * pipeline send, the data-parallel collectives of every ZeRO stage, the FLOPs and the schedule's terms. */
typedef struct {
    sp_stage_params stage;          /* memory view of the heaviest stage */
    double grad_dense, grad_expert; /* parameters whose gradients are reduced and updated (adapters when frozen) */
    int grad_edp, grad_estride;     /* expert reduction group (the dense group's shape when no experts are held) */
    double pp_send;                 /* one pipeline send between stages */
    double zero0_allreduce;         /* ZeRO-0: all-reduce of the gradients */
    double zero12_rs_ag;            /* ZeRO-1/2: reduce-scatter of the gradients + all-gather of the weights */
    double zero3_gather, zero3_scatter; /* ZeRO-3: one all-gather of the weights, one reduce-scatter of the gradients */
    double hsdp_allreduce;          /* HSDP: the shards' all-reduce across replica groups, once per step (0 without) */
    int zero3_keep;                 /* ZeRO-3 keeps the gathered weights from forward to backward */
    double model_flops, extra_full, extra_selective, peak;
    /* the schedule's terms per recompute mode, and the DP/optimizer terms per ZeRO stage (sp_plan_step_time) */
    int pp, n_micro, overlap;       /* overlap: DP reduction overlapped with the last backward */
    double sm_share;                /* compute slowed by this share while an overlapped collective runs
                                     * (collective.c sp_comm_sm_share) */
    int zero_bubble;                /* the plan's zero-bubble schedule: no fill/drain bubble */
    sp_schedule schedule;           /* the plan's pipeline schedule (bubble formula: sp_plan_step_time) */
    double f_avg, w_avg;            /* the mean stage's forward and weight-gradient (W) work, one micro-batch */
    double layers;                  /* layers on the heaviest stage */
    double buckets;                 /* gradient buckets of the stage's last backward: one per layer, at least 1 */
    double pp_hop;                  /* one pipeline send + its all-gather (pp > 1) */
    double pp_hidden, pp_sigma;     /* interleaved schedule (vpp > 1): of the 2 pipeline sends of one (micro-batch,
                                       virtual stage), those the stack overlaps with the chunk's compute (0 where it
                                       blocks on them), and the share of their time that compute loses to them
                                       (step.c pp_sends_interleaved) */
    double layers_time[3];          /* the heaviest stage's layers, one micro-batch, forward + backward */
    double slot_max[3], slot_avg[3];/* 1F1B slot of the slowest stage (with embedding or LM head); mean stage */
    double layers_bwd[3];           /* the heaviest stage's backward (+ recompute), one micro-batch */
    sp_layer_mix mix;               /* the heaviest stage's layer: the model's mix, or with layers that differ and
                                       PP > 1 the mean of that stage's own layers (its real pattern) */
    double zero3_exposed[3];        /* ZeRO-3: exposed gathers and reduce-scatters of a step */
    double offload[3];              /* activation offloading: the copies' exposed time, one micro-batch, forward +
                                       backward (sp_offload_exposed); in layers_time, slot_max and slot_avg */
    int offload_unpriced;           /* offloading on a system that states no host link: copies not priced */
    double optimizer[2];            /* optimizer step: ZeRO 0, ZeRO >= 1 */
} sp_pipe_step;

/* Activation offloading (docs/model.md "Activation offloading"): the time the compute stream of one phase (forward or
 * backward) of one micro-batch waits for the copies of Transformer Engine's default offload schedule, for `layers`
 * equal layers of `layer` seconds each whose first `offloaded` (< layers) copy `copy` seconds each on one stream:
 * (layers - offloaded) = 1: offloaded x copy (no copy overlaps compute); otherwise max(0, offloaded x copy -
 * (layers - 2) x layer). Exact for the schedule's dependencies (derivation in docs/model.md). */
double sp_offload_exposed(int layers, int offloaded, double copy, double layer);

/* Per plan: the pieces of one plan's step (sp_plan_step_time). */
typedef struct {
    double pp_comm_slot, bubble, pipe, dp, optimizer, step;
} sp_plan_step_parts;

/* The fill and drain bubble of the plan's schedule, with F the mean stage's forward, B its backward (recompute
 * included) and W the weight-gradient part of B, per micro-batch (slot = F + B, plus the pipeline sends):
 *   1F1B           (p - 1)(F + B) / v          (interleaved: v virtual stages; Narayanan et al. 2021 §2.2)
 *   ZB-H1          (p - 1)(F + B - 2W)         (Qi et al. 2023 §2.1, same activation memory as 1F1B; DeepSeek-V3
 *                                               Table 2 "ZB1P")
 *   ZB-V           (p - 1)(F + B - 3W) / 2     (two chunks per GPU in a V: half-size slots, the warm-up filled by
 *                                               deferred W passes; zero when F = B_input = W as Qi et al. §6 state)
 *   DualPipe       (p/2 - 1)(F&B + B - 3W)     (DeepSeek-V3 §3.2.1 Table 2, F&B = F + B of an overlapped pair)
 * never below zero. */
static inline double sp_schedule_bubble(const sp_pipe_step *o, int rc, double ppc, double vv)
{
    double slot = o->slot_avg[rc] + ppc, w = o->w_avg, p = o->pp;
    switch (o->schedule) {
    case SP_SCHED_ZBH1:
        return (p - 1) * sp_pos(slot - 2 * w);
    case SP_SCHED_ZBV:
        return (p - 1) * sp_pos(slot - 3 * w) / 2;
    case SP_SCHED_DUALPIPE:
        return sp_pos(p / 2 - 1) * sp_pos(2 * slot - o->f_avg - 3 * w);
    case SP_SCHED_1F1B:
        break;
    }
    return (p - 1) * slot / vv;
}

/* Step time of the plan (vpp v, ZeRO z, recompute rc) whose layer shape and PP degree filled o: the only per-plan
 * arithmetic of the search, and the same expression the full result is built from (sp_plan_step_result). */
static inline double sp_plan_step_time(const sp_pipe_step *o, int v, int z, int rc, sp_plan_step_parts *q)
{
    double vv = v;
    /* every hop of the fill and drain is on the critical path; the steady state pays what the stack exposes */
    double ppc = o->pp > 1 ? 2 * vv * o->pp_hop : 0;
    double pps = ppc;
    if (v > 1 && o->pp_hidden > 0) { /* per chunk: max(C, F + sigma C) for the overlapped sends C (docs/model.md) */
        double hid = o->pp_hidden * o->pp_hop, chunk = o->slot_max[rc] / vv;
        pps = vv * ((2 - o->pp_hidden) * o->pp_hop + fmax(hid - chunk, o->pp_sigma * hid));
    }
    double slot = o->slot_max[rc] + pps;
    double bubble = o->zero_bubble ? 0 : sp_schedule_bubble(o, rc, ppc, vv);
    double pipe = o->n_micro * slot + bubble;
    double dp;
    if (z >= 3)
        dp = o->zero3_exposed[rc];
    else {
        double ar = z == 0 ? o->zero0_allreduce : o->zero12_rs_ag;
        if (o->overlap) {
            /* gradients of the last micro-batch's backward stream out bucket by bucket: all but the last bucket
             * (~1/lps of the stage) hide behind the remaining backward compute, which runs slower by sm_share of
             * the hidden part while the collective's kernels hold their SMs */
            double bwd = o->layers_bwd[rc] / vv, tail = ar / o->buckets, rest = ar - bwd;
            double hidden = ar - tail < bwd ? ar - tail : bwd;
            tail += o->sm_share * hidden;
            dp = tail > rest ? tail : rest;
        } else
            dp = ar;
    }
    double opt = o->optimizer[z >= 1];
    double step = pipe + dp + opt;
    if (q)
        *q = (sp_plan_step_parts){pps, bubble, pipe, dp, opt, step};
    return step;
}


/* The layer-shape terms of plan p; memo may be NULL (the same values either way). */
/* mp: the shape's memory terms when the caller has them (NULL: computed here). */
void sp_shape_step_fill(const sp_model *m, const sp_system *s, const sp_plan *p, sp_gemm_memo *memo, const sp_shape_mem *mp,
                    sp_shape_step *c);
/* The stage part of the pipeline-stage terms (cheap: the search's memory check needs only this). */
void sp_pipe_step_stage(const sp_model *m, const sp_plan *p, const sp_shape_step *c, sp_pipe_step *o);
/* The rest: collectives and FLOPs (call after sp_pipe_step_stage); in two parts: the data-parallel collectives
 * and the optimizer (they depend on the stage and the groups, not on the micro-batch or the layer shape's costs:
 * the search shares them), then the pipeline send, FLOPs and schedule terms. */
void sp_pipe_step_dp(const sp_model *m, const sp_system *s, const sp_plan *p, sp_pipe_step *o);
void sp_pipe_step_schedule(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_shape_step *c,
                         sp_pipe_step *o);
void sp_pipe_step_fill(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_shape_step *c,
                        sp_pipe_step *o);
/* The step of plan p from its layer-shape and pipeline-stage terms; mem, when given, is the plan's memory (already
 * computed by the caller with sp_plan_memory), otherwise it is computed here. */
sp_status sp_plan_step_result(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_shape_step *c,
                                 const sp_pipe_step *o, const sp_memory *mem, sp_train_result *r, sp_error *err);

#endif
