/* Shared between step.c and memory.c. */
#ifndef SP_STEP_INTERNAL_H
#define SP_STEP_INTERNAL_H
#include "scaleplan.h"

typedef struct {
    double fwd_compute, fwd_mem, bwd_compute, bwd_mem; /* one layer, one micro-batch */
    double attn_fwd;                                    /* attention core share of fwd_compute+fwd_mem */
    double attn_core_flops_fwd;                         /* for selective-recompute HFU */
    double tp_fwd, tp_bwd;                              /* TP communication */
    double cp_fwd, cp_bwd, ep_fwd, ep_bwd;
    double n_kernels_fwd;
} layer_cost;

/* Memory terms that depend only on the model and the per-layer shape (TP, CP, micro-batch, SP, attention):
 * parameter counts and the activation bytes of one layer for each recompute mode. */
typedef struct {
    sp_param_count pc;
    double act[3]; /* indexed by sp_recompute */
} sp_mem_pre;
void sp_mem_pre_fill(const sp_model *m, const sp_system *s, const sp_plan *p, sp_mem_pre *pre);
void sp_train_memory_pre(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_mem_pre *pre, sp_memory *mem);
void sp_stage_params_pc(const sp_model *m, const sp_plan *p, const sp_param_count *pc, double *dense, double *expert);

/* Everything of a step that depends only on the per-layer shape: TP, CP, EP, micro-batch, sequence length, SP,
 * attention kernel, dtype and fine-tuning mode (search caches it across PP, VPP, DP, ZeRO, recompute). */
typedef struct {
    layer_cost dense, sparse;
    double head, emb;   /* LM head + loss (last stage), embedding (first stage), one micro-batch */
    double pp_gather;   /* all-gather after a scatter/gather pipeline send */
    int flash;
    sp_mem_pre mp;      /* memory terms of this layer shape */
} sp_step_cache;

void sp_step_layers(const sp_model *m, const sp_system *s, const sp_plan *p, sp_step_cache *c);
sp_status sp_step_assemble(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_step_cache *c,
                           sp_train_result *r, sp_error *err);

/* Expert tensor-parallel degree of a plan (0 = follow TP, Megatron-Core's default). */
static inline int sp_plan_etp(const sp_plan *p) { return p->etp > 0 ? p->etp : p->tp; }
/* Tokens the busiest EP rank's experts process, relative to uniform routing (plan.c): the load-imbalance factor,
 * clamped to what one rank can receive, then cut (dropping) or raised (padding) to the expert capacity. */
double sp_moe_load(const sp_model *m, const sp_plan *p);
/* Members and stride of the group over which expert gradients are reduced (expert data parallelism). */
void sp_expert_dp_group(const sp_plan *p, int *size, int *stride);

double sp_layer_activation_bytes(const sp_model *m, const sp_plan *p, int flash, sp_recompute rc);
void sp_stage_params(const sp_model *m, const sp_plan *p, double *dense, double *expert);

#endif
