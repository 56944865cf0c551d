/* Memory per GPU (memory.c), in the stages the search walks: per layer shape (sp_shape_mem: parameter counts, one
 * layer's activation bytes per recompute mode), per pipeline stage (sp_stage_params: parameters on the heaviest
 * stage and the expert data-parallel group), per plan (sp_plan_memory: model states by ZeRO stage + activations by
 * virtual stages and recompute). Uses plan arithmetic (plan.h) only; the step (step.h) and the search use it. */
#ifndef SP_MEMORY_H
#define SP_MEMORY_H
#include "internal.h"
#include "plan.h"

/* Memory terms that depend only on the model and the per-layer shape (TP, CP, micro-batch, SP, attention):
 * parameter counts and the activation bytes of one layer for each recompute mode. */
typedef struct {
    sp_param_count pc;
    double act[3];        /* indexed by sp_recompute */
    double reserve_fixed; /* the reserve's parts that do not depend on the plan: CUDA context + cuBLAS workspaces */
    double work;          /* the layer full recompute rebuilds in the backward (its bytes without recompute) */
    double kind_act[SP_NMIXER][SP_NFFN][3]; /* layers that differ: each (mixer, FFN) kind's act[] */
    /* BF16 layers (plan.h sp_plan_bf16_layer; bf16 = how many): their GEMM inputs are saved in 16 bits. act16: the
     * uniform model's layer as a BF16 layer; kind_act16: each kind's (layers that differ); bf16_extra: what the BF16
     * layers add to one stage holding every layer (PP 1), those of the first offload_layers excluded */
    int bf16;
    double act16[3], kind_act16[SP_NMIXER][SP_NFFN][3], bf16_extra[3];
} sp_shape_mem;
/* pc: the model's parameter counts when the caller has them (NULL: computed here) */
void sp_shape_mem_fill(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_param_count *pc,
                     sp_shape_mem *pre);
/* The memory reserve (memory.c): parts[0] CUDA context, [1] cuBLAS workspaces, [2] NCCL buffers of the plan's
 * communicators (expert_dp: the expert data-parallel group's size); the first two are sp_mem_reserve_fixed. */
void sp_mem_reserve_parts(const sp_accel *a, const sp_plan *p, int expert_dp, double parts[3]);
double sp_mem_reserve_fixed(const sp_accel *a);
void sp_train_memory_shape(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_shape_mem *pre, sp_memory *mem);
/* What depends on the pipeline and data-parallel degrees on top of the layer shape, but not on the virtual
 * stages, ZeRO stage or recompute: the parameters on the heaviest stage (dense, replicated over DP x EP x CP;
 * expert, sharded by EP x ETP) and the expert data-parallel group. The search fills it once per PP degree. */
typedef struct {
    double dense, expert;          /* parameters held per GPU */
    int expert_dp, expert_dp_stride; /* the expert data-parallel group: members, stride */
} sp_stage_params;
void sp_stage_params_fill(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, sp_stage_params *st);
void sp_plan_memory(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_shape_mem *pre,
                           const sp_stage_params *st, sp_memory *mem);
/* The two parts of a plan's memory (memory.c): model states and buffers (weights, grads, optimizer, comm
 * buffers, overhead; depend on ZeRO, not on virtual stages or recompute) and activations (activations,
 * embedding/logits; depend on virtual stages and recompute, not on ZeRO). Each part's total is its own sum. */
void sp_mem_states(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, const sp_stage_params *st, sp_memory *mem);
/* The totals of sp_mem_states for ZeRO stages 0-3 (the same values, without the breakdown). */
void sp_mem_states_by_zero(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, const sp_stage_params *st,
                          double total[4]);
void sp_mem_activations(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, sp_memory *mem);
void sp_mem_plan(const sp_memory *stat, const sp_memory *act, double capacity, sp_memory *mem);
static inline double sp_mem_states_sum(const sp_memory *x)
{
    return x->weights + x->grads + x->optimizer + x->comm_buffers + x->overhead;
}
/* The terms of the activation part: layers held on the first stage (in units of one layer) and the embedding/logits
 * bytes. */
void sp_mem_act_terms(const sp_model *m, const sp_plan *p, double *layers_held, double *emb_logits);
/* Interleaved 1F1B holds (1 + (p-1)/(p·v)) times the micro-batches of plain 1F1B on the first stage (v > 1);
 * layers_held of vpp v = layers_held of vpp 1 x this, and emb_logits does not depend on v. */
static inline double sp_mem_interleave_factor(int pp, int v) { return 1.0 + (pp - 1.0) / ((double)pp * v); }
/* The layers' bytes held on the worst stage by recompute mode (sp_mem_held_bytes: layers_held x the model's layer, or
 * with layers that differ or BF16 layers on PP > 1 each stage's own layers); sp_mem_act_layers adds, under full recompute, the one
 * layer rebuilt in the backward. */
void sp_mem_held_bytes_stages(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, double held, double out[3]);
/* Layers that differ on PP > 1, at vpp 1 (no interleaving factor): the most bytes a stage's own layers x its
 * micro-batches in flight hold, by recompute mode, in out; returns layers_held at vpp 1 (the first stage's layers x its
 * micro-batches). sp_mem_held_bytes_stages is out x held / that (the search caches out per block). */
double sp_mem_stage_peak(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, double out[3]);
/* One layer's activation bytes (layer i, recompute mode rc): its kind's, or the uniform model's layer; a BF16 layer's
 * as such (act16, kind_act16). */
double sp_mem_layer_bytes(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, int i, int rc);
static inline void sp_mem_held_bytes(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, double held,
                                     double out[3])
{
    if ((m->n_pattern > 0 || pre->bf16) && p->pp > 1) {
        sp_mem_held_bytes_stages(m, p, pre, held, out);
        return;
    }
    /* one stage: its layers' mean x held, and the BF16 layers' extra bytes x the micro-batches held (held over the
     * stage's layers not offloaded) */
    double per = m->n_layers - p->offload_layers;
    for (int rc = 0; rc < 3; rc++)
        out[rc] = pre->act[rc] * held + (pre->bf16 ? pre->bf16_extra[rc] * held / per : 0);
}
static inline double sp_mem_act_layers(const sp_shape_mem *pre, int rc, double held_bytes)
{
    return rc == SP_RECOMPUTE_FULL ? held_bytes + pre->work : held_bytes;
}
/* The activation part of a plan: its layers' bytes (sp_mem_act_layers) + the embedding/logits bytes; and a plan's
 * memory: model states + activations. Every total (sp_mem_activations, sp_mem_plan, the search's memory check) is
 * this one pair of sums, so they agree to the bit. */
static inline double sp_mem_act_total(double layers, double emb_logits) { return layers + emb_logits; }
static inline double sp_mem_total(double states, double activations) { return states + activations; }

#endif
