/* One training step (DESIGN.md §3.3-3.5): the layers' ops (ops.c: built per layer kind, priced on the system)
 * mixed over the model's dense and MoE layers, the embedding and LM head, the pipeline schedule, data parallelism
 * and the optimizer. Allocation-free.
 *
 * Schedule: 1F1B with m micro-batches on p stages (v virtual stages): m·t_slot(max stage) + (p−1)·t_avg/v.
 * DP: all-reduce (ZeRO-0) or reduce-scatter + all-gather (ZeRO-1/2) of the stage's gradients once per step,
 * overlapped with the last backward when the software stack does so; ZeRO-3 gathers weights before forward
 * and backward of every micro-batch and reduce-scatters gradients, prefetched (overlapped per phase).
 */
#include "internal.h"
#include "step.h"
#include "plan.h"

#include <math.h>
#include <stdint.h>
#include <string.h>



static const char *dominant(const sp_time_breakdown *t)
{
    const char *best = "compute";
    double bv = 0;
#define CONSIDER(field, name)                                                                                  \
    if (t->field > bv) {                                                                                       \
        bv = t->field;                                                                                         \
        best = name;                                                                                           \
    }
    CONSIDER(tp_comm, "tensor-parallel communication")
    CONSIDER(pp_comm, "pipeline communication")
    CONSIDER(dp_comm, "data-parallel communication")
    CONSIDER(bubble, "pipeline bubble")
    CONSIDER(memory_bound, "memory-bound kernels")
    CONSIDER(ep_comm, "expert all-to-all")
    CONSIDER(cp_comm, "context-parallel exchange")
    CONSIDER(optimizer, "optimizer step")
    CONSIDER(imbalance, "embedding/LM-head stage imbalance")
    CONSIDER(host, "host (CPU) kernel dispatch")
    CONSIDER(offload, "activation offload copies")
#undef CONSIDER
    return best;
}

/* acc += w x one layer's priced terms */
static void cost_add(sp_layer_cost *acc, double w, const sp_layer_cost *x)
{
    acc->fwd_compute += w * x->fwd_compute, acc->fwd_mem += w * x->fwd_mem;
    acc->bwd_compute += w * x->bwd_compute, acc->bwd_mem += w * x->bwd_mem;
    acc->attn_fwd += w * x->attn_fwd, acc->tp_fwd += w * x->tp_fwd, acc->tp_bwd += w * x->tp_bwd;
    acc->cp_fwd += w * x->cp_fwd, acc->cp_bwd += w * x->cp_bwd, acc->ep_fwd += w * x->ep_fwd, acc->ep_bwd += w * x->ep_bwd;
    acc->host_f += w * x->host_f, acc->host_b += w * x->host_b, acc->host_kf += w * x->host_kf;
    acc->rec_tp += w * x->rec_tp, acc->rec_flops += w * x->rec_flops, acc->wgrad += w * x->wgrad;
}

/* One layer mixed over the model's dense and MoE layers, and its forward + backward under each recompute mode:
 * full recompute reruns the forward (and its TP communication) in the backward, on `share` of the layers (the
 * block method: sp_plan_full_share); selective recompute reruns the ops of the plan's recompute modules
 * (sp_layer_price: attn_fwd, rec_tp; a fused attention core is not re-run). */
static void mix_from(const sp_layer_cost *dense, const sp_layer_cost *sparse, double moe_frac, double share,
                     sp_layer_mix *x)
{
    int moe = sparse != NULL;
#define MIX(field) ((1 - moe_frac) * dense->field + moe_frac * (moe ? sparse->field : 0))
    x->f_c = MIX(fwd_compute), x->f_m = MIX(fwd_mem), x->b_c = MIX(bwd_compute), x->b_m = MIX(bwd_mem);
    x->tp_f = MIX(tp_fwd), x->tp_b = MIX(tp_bwd), x->attn = MIX(attn_fwd);
    x->cp_f = MIX(cp_fwd), x->cp_b = MIX(cp_bwd), x->ep_f = MIX(ep_fwd), x->ep_b = MIX(ep_bwd);
    x->w = MIX(wgrad);
    x->host_f = MIX(host_f), x->host_b = MIX(host_b);
    /* the recomputed forward runs inside the backward phase (max rule) against its own GPU time */
    x->host_rec = sp_pos(MIX(host_kf) - (x->f_c + x->f_m + x->tp_f));
    x->attn_tp = MIX(rec_tp), x->attn_flops = MIX(rec_flops);
#undef MIX
    x->cp = x->cp_f + x->cp_b;
    x->ep = x->ep_f + x->ep_b;
    x->host = x->host_f + x->host_b;
    for (int rc = 0; rc < 3; rc++) {
        double rec = 0, rec_tp = 0, sh = rc == SP_RECOMPUTE_FULL ? share : 0;
        if (rc == SP_RECOMPUTE_FULL) {
            rec = sh < 1 ? sh * (x->f_c + x->f_m) : x->f_c + x->f_m;
            rec_tp = sh < 1 ? sh * x->tp_f : x->tp_f;
        } else if (rc == SP_RECOMPUTE_SELECTIVE) {
            rec = x->attn;
            rec_tp = x->attn_tp;
        }
        double compute = x->f_c + x->b_c + (rc == SP_RECOMPUTE_FULL ? (sh < 1 ? sh * x->f_c : x->f_c) : 0);
        double mem = x->f_m + x->b_m + (rc == SP_RECOMPUTE_FULL ? (sh < 1 ? sh * x->f_m : x->f_m) : 0);
        if (rc == SP_RECOMPUTE_SELECTIVE)
            compute += x->attn; /* counted as compute */
        double tp = x->tp_f + x->tp_b + rec_tp;
        x->rec[rc] = rec;
        x->rec_tp[rc] = rec_tp;
        x->compute[rc] = compute;
        x->mem[rc] = mem;
        x->tp[rc] = tp;
        /* full recompute reruns the forward's kernels in the backward: their host dispatch too */
        x->total[rc] = compute + mem + tp + x->cp + x->ep + x->host +
                       (rc == SP_RECOMPUTE_FULL ? (sh < 1 ? sh * x->host_rec : x->host_rec) : 0);
    }
}

/* The priced cost of layer i (0-based): its kind's (layers that differ), or the dense / MoE layer's (a model's first
 * dense layers, then MoE); b16: the BF16-layer pricing of it (sp_shape_step dense16, sparse16, kind16). */
static const sp_layer_cost *layer_cost(const sp_model *m, const sp_shape_step *c, int i, int b16)
{
    if (m->n_pattern > 0)
        return b16 ? &c->kind16[sp_model_mixer(m, i)][sp_model_ffn(m, i)] : &c->kind[sp_model_mixer(m, i)][sp_model_ffn(m, i)];
    if (sp_model_ffn(m, i) == SP_FFN_MOE)
        return b16 ? &c->sparse16 : &c->sparse;
    return b16 ? &c->dense16 : &c->dense;
}

/* The model's mean layer with every layer in the plan's dtype: layers that differ have it in c->dense
 * (layer_kinds_fill); otherwise the dense and MoE layers weighted by their counts. */
static void mean_cost(const sp_model *m, const sp_shape_step *c, sp_layer_cost *acc)
{
    double L = m->n_layers;
    int moe = sp_model_is_moe(m) && m->n_pattern == 0;
    double moe_frac = moe ? (L - m->first_dense_layers) / L : 0;
    memset(acc, 0, sizeof *acc);
    cost_add(acc, 1 - moe_frac, &c->dense);
    if (moe)
        cost_add(acc, moe_frac, &c->sparse);
}

/* acc += w x (the BF16 pricing of layer i - its pricing in the plan's dtype), for each BF16 layer i in [lo, hi) */
static void bf16_delta(const sp_model *m, const sp_plan *p, const sp_shape_step *c, int lo, int hi, double w,
                       sp_layer_cost *acc)
{
    for (int i = lo; i < hi && i < m->n_layers; i++)
        if (sp_plan_bf16_layer(p, m->n_layers, i)) {
            cost_add(acc, w, layer_cost(m, c, i, 1));
            cost_add(acc, -w, layer_cost(m, c, i, 0));
        }
}

static void mix_fill(const sp_model *m, const sp_plan *p, sp_shape_step *c)
{
    int moe = sp_model_is_moe(m);
    double L = m->n_layers;
    if (c->bf16) { /* BF16 layers: the model's mean layer with those layers priced in 16 bits */
        sp_layer_cost acc;
        mean_cost(m, c, &acc);
        bf16_delta(m, p, c, 0, m->n_layers, 1 / L, &acc);
        mix_from(&acc, NULL, 0, sp_plan_full_share(p, m->n_layers), &c->mix);
        return;
    }
    /* layers that differ (n_pattern > 0): c->dense already holds the average over the layers (layer_kinds_fill) */
    double moe_frac = moe && m->n_pattern == 0 ? (L - m->first_dense_layers) / L : 0;
    mix_from(&c->dense, moe ? &c->sparse : NULL, moe_frac, sp_plan_full_share(p, m->n_layers), &c->mix);
}

/* Stages that differ on PP > 1 (layers that differ, or BF16 layers): stage i holds layers [i·n, (i+1)·n) with
 * n = ceil(L/pp) (the heaviest stage's count the schedule uses; with interleaving the contiguous split is kept: the
 * virtual chunks of a pattern are not resolved, and BF16 layers within one model chunk at either end sit on the first
 * / last stage either way, Megatron-Core placing chunk j on stage j mod pp). A stage's layers: their kinds' (layers
 * that differ) or n x the model's mean layer, with its own BF16 layers' difference (bf16_delta). The heaviest stage
 * by its layers' forward + backward without recompute gives o->mix (its mean layer over n, so n x mix is its sum);
 * slot[rc] is the slowest stage with its embedding or LM head. */
static void stage_pattern(const sp_model *m, const sp_plan *p, const sp_shape_step *c, sp_layer_mix *mix, double slot[3])
{
    int L = m->n_layers, n = (L + p->pp - 1) / p->pp;
    double best = -1;
    slot[0] = slot[1] = slot[2] = 0;
    for (int st = 0; st < p->pp; st++) {
        sp_layer_cost acc;
        memset(&acc, 0, sizeof acc);
        if (m->n_pattern > 0)
            for (int i = st * n; i < L && i < (st + 1) * n; i++)
                cost_add(&acc, 1.0 / n, &c->kind[sp_model_mixer(m, i)][sp_model_ffn(m, i)]);
        else
            mean_cost(m, c, &acc);
        if (c->bf16)
            bf16_delta(m, p, c, st * n, (st + 1) * n, 1.0 / n, &acc);
        sp_layer_mix x;
        mix_from(&acc, NULL, 0, sp_plan_full_share(p, m->n_layers), &x);
        double ends = (st == 0 ? c->emb : 0) + (st == p->pp - 1 ? c->head : 0);
        for (int rc = 0; rc < 3; rc++)
            if (n * x.total[rc] + ends > slot[rc])
                slot[rc] = n * x.total[rc] + ends;
        if (x.total[SP_RECOMPUTE_NONE] > best) {
            best = x.total[SP_RECOMPUTE_NONE];
            *mix = x;
        }
    }
}

/* A pipeline layout (plan.pp_layout, Megatron-Core's pipeline_model_parallel_layout; docs/model.md "Pipeline
 * layout"): pipeline rank r runs the virtual stages j with j % pp = r (pipeline_parallel_layer_layout.py:49-55), so
 * its slot is the sum of those stages' decoder layers (each priced as the model's layer at its position: the first
 * dense layers of a MoE model, a layer kind, a BF16 layer: layer_cost), the embedding (E), the LM head and loss (L) and
 * the MTP modules (m) it holds. slot[rc]: the slowest rank's, one micro-batch; mix and *layers: that rank's mean layer and layer count. */
static void layout_slots(const sp_model *m, const sp_plan *p, const sp_shape_step *c, sp_layer_mix *mix,
                         double slot[3], double *layers)
{
    char buf[SP_PP_EXPANDED];
    sp_pp_layout_expand(p->pp_layout, buf, sizeof buf); /* checked by sp_plan_resolve */
    double best = -1, head = c->head - c->mtp, mtp1 = m->n_mtp > 0 ? c->mtp / m->n_mtp : 0;
    slot[0] = slot[1] = slot[2] = 0;
    *mix = c->mix;
    *layers = sp_stage_layers(m->n_layers, p->pp);
    for (int r = 0; r < p->pp; r++) {
        sp_layer_cost acc;
        memset(&acc, 0, sizeof acc);
        int n = 0, li = 0, j = 0;
        double ends = 0;
        for (const char *q = buf; *q; q++) {
            int mine = j % p->pp == r;
            if (*q == '|')
                j++;
            else if (*q == 't') {
                int i = li++;
                if (mine && ++n)
                    cost_add(&acc, 1, layer_cost(m, c, i, c->bf16 && sp_plan_bf16_layer(p, m->n_layers, i)));
            } else if (mine)
                ends += *q == 'E' ? c->emb : *q == 'L' ? head : *q == 'm' ? mtp1 : 0;
        }
        sp_layer_cost mean;
        memset(&mean, 0, sizeof mean);
        if (n > 0)
            cost_add(&mean, 1.0 / n, &acc);
        sp_layer_mix x;
        mix_from(&mean, NULL, 0, sp_plan_full_share(p, m->n_layers), &x);
        for (int rc = 0; rc < 3; rc++)
            slot[rc] = fmax(slot[rc], n * x.total[rc] + ends);
        if (n > 0 && n * x.total[SP_RECOMPUTE_NONE] + ends > best) {
            best = n * x.total[SP_RECOMPUTE_NONE] + ends;
            *mix = x;
            *layers = n;
        }
    }
}

/* FLOPs: the model's 6N-style count, and what recompute adds (the same for every shape of a search: memoized) */
static void step_flops(const sp_model *m, const sp_plan *p, sp_gemm_memo *memo, sp_shape_step *c)
{
    if (memo && memo->have_flops) {
        c->model_flops = memo->model_flops;
        c->extra_full = memo->extra_full;
        c->extra_selective = memo->extra_selective;
        return;
    }
    double L = m->n_layers, V = m->vocab, h = m->d_model;
    double tokens = (double)p->global_batch * p->seq_len;
    /* packed sequences: a token attends within its sample, so the attention terms count the samples' context
     * (sp_plan_attn_context, E[l^2]/E[l]; the sequence length when unpacked) */
    double ctx = sp_plan_attn_context(p);
    double fwd_tok = sp_model_fwd_flops_mtp(m, ctx, sp_plan_mtp_depths(m, p));
    c->model_flops = 3.0 * fwd_tok * tokens; /* sp_model_train_flops with the plan's MTP depths */
    if (p->frozen_base) {
        /* frozen weights need input gradients but no weight gradients: forward 2M + data-gradient 2M for the
         * matmuls, 3x the attention core, and 6 FLOPs per adapter parameter */
        double attn = L * 2.0 * ctx * m->n_heads * 2.0 * m->d_head;
        double mm = fwd_tok - attn;
        c->model_flops = tokens * (2 * mm + 3 * attn + 6 * L * sp_lora_params_per_layer(m, p->lora_rank, p->lora_targets));
    }
    c->extra_full = tokens * (fwd_tok - 2.0 * V * h);
    c->extra_selective = tokens * L * 2.0 * ctx * m->n_heads * (2.0 * m->d_head);
    if (m->n_pattern > 0) { /* only the attention layers rerun a core, sliding ones over their window */
        c->extra_selective = 0;
        for (int i = 0; i < m->n_layers; i++)
            c->extra_selective += tokens * sp_model_attn_core_flops(m, sp_model_mixer(m, i), ctx);
    }
    if (memo) {
        memo->have_flops = 1;
        memo->model_flops = c->model_flops;
        memo->extra_full = c->extra_full;
        memo->extra_selective = c->extra_selective;
    }
}

/* Layers that differ (models.c's layer kinds): the average layer over the model's (mixer, FFN) kinds, weighted by
 * their counts, in c->dense (every stage is taken to hold the model's mix of kinds); MTP depths (the plan's,
 * sp_plan_mtp_depths: each the module's layer, the 2h -> h projection and one more LM-head pass) run on the last
 * stage with the LM head. */
static void layer_kinds_fill(const sp_model *m, const sp_system *s, sp_gemm_memo *memo, sp_layer_ctx *lc,
                             sp_shape_step *c)
{
    sp_layer_ops ops;
    sp_layer_cost one;
    if (m->n_pattern > 0) {
        memset(&c->dense, 0, sizeof c->dense);
        memset(&c->sparse, 0, sizeof c->sparse);
        for (int mx = 0; mx < SP_NMIXER; mx++)
            for (int f = 0; f < SP_NFFN; f++) {
                int n = c->mem.pc.count[mx][f];
                if (n == 0)
                    continue;
                sp_layer_build_kind(lc, (sp_mixer)mx, (sp_ffn)f, &ops);
                sp_layer_price(&ops, s, memo, &one);
                cost_add(&c->dense, (double)n / m->n_layers, &one);
                c->kind[mx][f] = one;
            }
    }
    int depths = sp_plan_mtp_depths(m, lc->p); /* the module once per depth (the plan's mtp_layers) */
    if (depths > 0) {
        sp_ops_mtp(lc, &ops);
        sp_layer_price(&ops, s, memo, &one);
        double layer = one.fwd_compute + one.fwd_mem + one.bwd_compute + one.bwd_mem + one.tp_fwd + one.tp_bwd +
                       one.cp_fwd + one.cp_bwd + one.ep_fwd + one.ep_bwd + one.host_f + one.host_b;
        sp_ops_lm_head(lc, &ops);
        c->mtp = depths * (layer + sp_ops_total(&ops, s, memo));
        c->head += c->mtp;
    }
}

/* BF16 layers (plan.h sp_plan_bf16_layer): the kinds of those layers priced again from a layer context whose GEMM
 * dtype is its 16-bit type (ops.c: every GEMM in 16 bits at the BF16 curve, no quantization casts, fp8_casts adds
 * nothing; what stays 16-bit anyway is unchanged). */
static void bf16_fill(const sp_model *m, const sp_system *s, const sp_plan *p, sp_gemm_memo *memo,
                      const sp_layer_ctx *lc, sp_shape_step *c)
{
    c->bf16 = sp_plan_bf16_count(p, m->n_layers);
    if (!c->bf16)
        return;
    sp_layer_ctx l16 = *lc;
    l16.d = l16.d16;
    sp_layer_ops ops;
    unsigned char done[SP_NMIXER][SP_NFFN] = {{0}};
    for (int i = 0; i < m->n_layers; i++) {
        if (!sp_plan_bf16_layer(p, m->n_layers, i))
            continue;
        sp_mixer mx = sp_model_mixer(m, i);
        sp_ffn f = sp_model_ffn(m, i);
        if (done[mx][f])
            continue;
        done[mx][f] = 1;
        if (m->n_pattern > 0)
            sp_layer_build_kind(&l16, mx, f, &ops);
        else
            sp_layer_build(&l16, f == SP_FFN_MOE, &ops);
        sp_layer_price(&ops, s, memo, m->n_pattern > 0 ? &c->kind16[mx][f] : f == SP_FFN_MOE ? &c->sparse16 : &c->dense16);
    }
}

/* The layer-shape terms: the dense and MoE layers priced from their ops, the embedding and LM head, the FLOPs. */
void sp_shape_step_fill(const sp_model *m, const sp_system *s, const sp_plan *p, sp_gemm_memo *memo, const sp_shape_mem *mp,
                    sp_shape_step *c)
{
    int flash = p->flash_attention >= 0 ? p->flash_attention : s->flash_attention;
    c->flash = flash;
    if (mp)
        c->mem = *mp;
    else
        sp_shape_mem_fill(m, s, p, NULL, &c->mem);
    sp_layer_ctx lc;
    sp_layer_ops ops;
    sp_layer_ctx_init(&lc, m, s, p, &c->mem.pc, flash);
    sp_layer_build(&lc, 0, &ops);
    sp_layer_price(&ops, s, memo, &c->dense);
    if (sp_model_is_moe(m)) {
        sp_layer_build(&lc, 1, &ops);
        sp_layer_price(&ops, s, memo, &c->sparse);
    } else
        memset(&c->sparse, 0, sizeof c->sparse);
    sp_ops_lm_head(&lc, &ops);
    c->head = sp_ops_total(&ops, s, memo);
    sp_ops_embedding(&lc, &ops);
    c->emb = sp_ops_total(&ops, s, memo);
    c->mtp = 0;
    if (m->n_pattern > 0 || m->n_mtp > 0)
        layer_kinds_fill(m, s, memo, &lc, c);
    bf16_fill(m, s, p, memo, &lc, c);
    step_flops(m, p, memo, c);
    c->peak = sp_accel_peak(&s->acc, p->dtype);
    /* all-gather after a scatter/gather pipeline send (without SP the stage's input is replicated over TP) */
    c->pp_gather = p->seq_parallel || p->tp == 1
                       ? 0
                       : sp_coll_memo(memo, s, SP_COLL_ALLGATHER, p->tp, 1, lc.T * lc.h * 2.0);
    mix_fill(m, p, c);
}

sp_status sp_train_eval(const sp_model *m, const sp_system *s, const sp_plan *p, sp_train_result *r,
                        sp_error *err)
{
    sp_shape_step c;
    sp_pipe_step o;
    sp_shape_step_fill(m, s, p, NULL, NULL, &c);
    sp_pipe_step_stage(m, p, &c, &o);
    sp_pipe_step_fill(m, s, p, &c, &o);
    return sp_plan_step_result(m, s, p, &c, &o, NULL, r, err);
}

void sp_pipe_step_stage(const sp_model *m, const sp_plan *p, const sp_shape_step *c, sp_pipe_step *o)
{
    sp_stage_params_fill(m, p, &c->mem, &o->stage);
}

/* name is an item of the comma list */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *q = list; n > 0 && *q;) {
        const char *e = strchr(q, ',');
        size_t k = e ? (size_t)(e - q) : strlen(q);
        if (k == n && strncmp(q, name, n) == 0)
            return 1;
        q += k + (e != NULL);
    }
    return 0;
}

/* The job runs with one device connection (kernels.one_queue: the stack's launcher sets CUDA_DEVICE_MAX_CONNECTIONS=1
 * for TP > 1 or CP > 1 on the families listed, unless the recipe overlaps the MoE all-to-all and the launcher exempts
 * that): all streams share one hardware queue, and a communication kernel waiting for its peers holds back the
 * compute queued behind it on the other streams (alibaba/Megatron-LLaMA#26: a DP reduce-scatter on its own stream
 * stops overlapping the backward under it; NVIDIA/nccl#2238 for Hopper pipeline sends). docs/model.md "Pipeline
 * sends". */
static int one_queue_job(const sp_system *s, const sp_plan *p)
{
    return (p->tp > 1 || p->cp > 1) && (!s->overlap_ep || s->one_queue_ep) && in_list(s->one_queue, s->acc.family);
}

void sp_pipe_step_dp(const sp_model *m, const sp_system *s, const sp_plan *p, sp_pipe_step *o)
{
    double t = p->tp;
    double lps = sp_stage_layers(m->n_layers, p->pp);
    /* data parallelism / ZeRO */
    double dense_p = o->stage.dense, expert_p = o->stage.expert;
    if (p->frozen_base) { /* only the adapters are reduced and updated */
        dense_p = lps * sp_lora_params_per_layer(m, p->lora_rank, p->lora_targets) / t;
        expert_p = 0;
    }
    /* dense grads reduce over CP x EP x DP (contiguous above TP): CP ranks hold the same weights and see different
     * tokens, so they join the reduction and the ZeRO sharding (Megatron-Core's data-parallel group with CP) */
    int dstride = p->tp;
    int dpd = (int)(sp_plan_replicas(p) * p->cp);
    int sd = (int)sp_plan_shard_dense(p); /* the ZeRO sharding groups: the DP groups, or HSDP's (plan.h) */
    int edp = o->stage.expert_dp, estride = o->stage.expert_dp_stride; /* expert grads over the expert data-parallel group (plan.c) */
    if (expert_p <= 0) { /* no experts held: keep the (empty) expert collectives on the dense group's shape */
        edp = p->ep_fold ? p->dp * p->cp : p->dp;
        estride = p->ep_fold ? p->tp : p->tp * p->cp * p->ep;
    }
    o->grad_dense = dense_p;
    o->grad_expert = expert_p;
    o->grad_edp = edp;
    o->grad_estride = estride;
    int se = (int)sp_plan_shard_expert(p, edp);
    /* gradients reduced in 16-bit, or in fp32 where the stack says so (plan.grad_reduce_fp32: FSDP2's
     * MixedPrecisionPolicy reduce_dtype float32, torchtitan's default) */
    double gB = p->grad_reduce_fp32 ? 4.0 : 2.0;
    o->zero0_allreduce = sp_collective_time(s, SP_COLL_ALLREDUCE, dpd, dstride, dense_p * gB) +
             sp_collective_time(s, SP_COLL_ALLREDUCE, edp, estride, expert_p * gB);
    double ag_d = sp_collective_time(s, SP_COLL_ALLGATHER, sd, dstride, dense_p * 2.0);
    double ag_e = sp_collective_time(s, SP_COLL_ALLGATHER, se, estride, expert_p * 2.0);
    double rs_d = sp_collective_time(s, SP_COLL_REDUCESCATTER, sd, dstride, dense_p * gB);
    double rs_e = sp_collective_time(s, SP_COLL_REDUCESCATTER, se, estride, expert_p * gB);
    /* HSDP: each shard's reduced gradients all-reduced across the groups that replicate it, once per step (PyTorch
     * HYBRID_SHARD: reduce-scatter inside the group, all-reduce across groups) */
    o->hsdp_allreduce = sp_collective_time(s, SP_COLL_ALLREDUCE, dpd / sd, dstride * sd, dense_p * gB / sd) +
                        sp_collective_time(s, SP_COLL_ALLREDUCE, edp / se, estride * se, expert_p * gB / se);
    o->zero3_gather = ag_d + ag_e;
    o->zero3_scatter = rs_d + rs_e;
    o->zero12_rs_ag = rs_d + ag_d + rs_e + ag_e + o->hsdp_allreduce; /* ZeRO-1/2: ZeRO-3's pair, once per step */
    o->zero3_keep = p->zero3_keep;
    /* one device connection serializes the reduction's kernels with the backward (one_queue_job) */
    o->overlap = (p->dp_overlap >= 0 ? p->dp_overlap : s->overlap_dp) && !one_queue_job(s, p);
    o->sm_share = sp_comm_sm_share(&s->acc);
    /* optimizer: memory-bound Adam over the local shard: fp32 master, m, v read+write, grad read (4 B), 16-bit
     * weight write: 30 bytes per parameter */
    const sp_accel *a = &s->acc;
    for (int z = 0; z < 2; z++) {
        double local = z >= 1 ? dense_p / sd + expert_p / se : dense_p + expert_p;
        o->optimizer[z] = sp_mem_time(a, 30.0 * local) + 10 * a->eff.kernel_overhead_s;
    }
}

double sp_offload_exposed(int layers, int offloaded, double copy, double layer)
{
    if (offloaded <= 0 || offloaded >= layers)
        return 0;
    if (layers - offloaded == 1)
        return offloaded * copy;
    return sp_pos(offloaded * copy - (layers - 2) * layer);
}

/* Activation offloading's copies (docs/model.md "Activation offloading"): Transformer Engine's default schedule
 * (transformer_engine/pytorch/cpu_offload.py DefaultOffloadSynchronizer), on each micro-batch's forward and backward
 * of the stage's layers, each offloaded layer copying its activation bytes (sp_shape_mem act) at the system's host
 * link; the exposed time lengthens the heaviest stage's slot and the mean stage's (every stage offloads its first N
 * layers). Without a host link in the system file the copies are not priced (offload_unpriced). */
static void offload_fill(const sp_system *s, const sp_plan *p, const sp_shape_step *c, sp_pipe_step *o)
{
    const sp_layer_mix *x = &o->mix;
    int lps = (int)o->layers, n = p->offload_layers;
    o->offload_unpriced = n > 0 && !(s->host_d2h_bw > 0 && s->host_h2d_bw > 0);
    for (int rc = 0; rc < 3; rc++) {
        o->offload[rc] = 0;
        if (n <= 0 || o->offload_unpriced)
            continue;
        double f = x->f_c + x->f_m + x->tp_f + x->cp_f + x->ep_f + x->host_f;
        double b = o->layers_bwd[rc] / lps + x->cp_b + x->ep_b, bytes = c->mem.act[rc];
        o->offload[rc] = sp_offload_exposed(lps, n, bytes / s->host_d2h_bw, f) +
                         sp_offload_exposed(lps, n, bytes / s->host_h2d_bw, b);
        o->layers_time[rc] += o->offload[rc];
        o->slot_max[rc] += o->offload[rc];
        o->slot_avg[rc] += o->offload[rc];
    }
}

/* Pipeline sends under the interleaved schedule (docs/model.md "Pipeline sends"): per (micro-batch, virtual stage)
 * a rank sends one activation forward and one gradient backward (2 hops, blocking where the stack does not
 * overlap them). Megatron-Core with overlap_p2p_comm (Megatron-Bridge sets it whenever vpp > 1) posts both
 * asynchronously and waits for each a chunk later, just before the chunk that needs it
 * (NVIDIA/Megatron-LM@d98e8a64ddf3 megatron/core/pipeline_parallel/schedules.py:1731-1899, the steady state), so
 * they run under a chunk's compute F, the chunk taking max(C, F + sm_share C) for its overlapped sends C (the rule
 * of every overlapped collective, collective.c sp_comm_sm_share). A stack whose schedule waits for each forward
 * send before the kernels that follow it (kernels.pp_send_wait: NVIDIA/Megatron-LM#4047, 260cba7133;
 * schedules.py:1813-1815 at d98e8a64ddf3, with deallocate_pipeline_outputs) exposes that hop. Nothing is hidden
 * in a job with one device connection (one_queue_job). Sets o->pp_hidden (0: every send blocks; the other
 * schedules too) and o->pp_sigma; sp_plan_step_time prices them. */
static void pp_sends_interleaved(const sp_system *s, const sp_plan *p, sp_pipe_step *o)
{
    o->pp_hidden = !s->overlap_pp || p->schedule != SP_SCHED_1F1B || one_queue_job(s, p) ? 0
                   : s->pp_send_wait                                                      ? 1
                                                                                          : 2;
    o->pp_sigma = sp_comm_sm_share(&s->acc);
}

void sp_pipe_step_schedule(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_shape_step *c,
                         sp_pipe_step *o)
{
    double L = m->n_layers, t = p->tp, h = m->d_model;
    double lps = sp_stage_layers(m->n_layers, p->pp);
    /* pipeline point-to-point: Megatron's scatter/gather optimisation (Narayanan et al. 2021 §4.1): each TP rank
     * sends 1/t of the activation over its own link, then the stage all-gathers it over the scale-up tier */
    o->pp_send = 0;
    pp_sends_interleaved(s, p, o);
    if (p->pp > 1) {
        double T = (double)p->micro_batch * p->seq_len / p->cp;
        int stride = (int)sp_plan_stage_ranks(p);
        o->pp_send = sp_collective_time(s, SP_COLL_P2P, 2, stride, T * h * 2.0 / t);
    }
    o->model_flops = c->model_flops;
    o->extra_full = c->extra_full;
    o->extra_selective = c->extra_selective;
    o->peak = c->peak;

    /* the schedule: 1F1B over the heaviest stage's slots (first stage: embedding, last: LM head); layers that
     * differ: that stage's own layers */
    double pslot[3];
    int staged = p->pp > 1 && (p->pp_layout[0] || m->n_pattern > 0 || c->bf16); /* stages that differ */
    if (p->pp > 1 && p->pp_layout[0])
        layout_slots(m, p, c, &o->mix, pslot, &lps);
    else if (staged)
        stage_pattern(m, p, c, &o->mix, pslot);
    else
        o->mix = c->mix;
    const sp_layer_mix *x = &o->mix;
    double pp = p->pp;
    double replicas = (double)sp_plan_replicas(p);
    o->pp = p->pp;
    o->zero_bubble = p->zero_bubble;
    o->schedule = p->schedule;
    /* F of the mean stage: the layers' forward, and a third of the embedding and LM head (forward of fwd + bwd) */
    o->f_avg = (L * (x->f_c + x->f_m + x->tp_f + x->cp_f + x->ep_f + x->host_f) + (c->emb + c->head) / 3) / pp;
    o->w_avg = L * x->w / pp;
    o->n_micro = (int)(p->global_batch / (replicas * p->micro_batch));
    o->layers = lps;
    o->buckets = lps > 1 ? lps : 1;
    o->pp_hop = p->pp > 1 ? o->pp_send + c->pp_gather : 0;
    double head = c->head, emb = c->emb;
    for (int rc = 0; rc < 3; rc++) {
        double stage_layers = lps * x->total[rc];
        double first = stage_layers + emb, last = stage_layers + head;
        if (p->pp == 1)
            first = last = stage_layers + emb + head;
        o->layers_time[rc] = stage_layers;
        o->slot_max[rc] = staged ? pslot[rc] : first > last ? first : last;
        o->slot_avg[rc] = (L * c->mix.total[rc] + emb + head) / pp; /* the model's mean layer */
        double stage_bwd = lps * (x->b_c + x->b_m + x->tp_b + x->rec[rc] + x->rec_tp[rc] + x->host_b +
                                  (rc == SP_RECOMPUTE_FULL ? x->host_rec : 0));
        o->layers_bwd[rc] = stage_bwd;
        /* ZeRO-3: the prefetched gathers stream during each phase's whole wall time, exposed CP/EP exchanges
         * included (so a faster GPU that exposes more of them never lengthens the step); the first gather
         * cannot hide. A phase of compute F overlapped by collectives C takes max(C, F + sm_share·C): the compute
         * runs on the SMs the collective's kernels leave free */
        double f_phase = lps * (x->f_c + x->f_m + x->tp_f + x->cp_f + x->ep_f + x->host_f);
        double b_phase = stage_bwd + lps * (x->cp_b + x->ep_b);
        double ag = o->zero3_gather, rs = o->zero3_scatter, sm = o->sm_share;
        /* kept from forward to backward (--no-reshard): no second gather in the backward */
        double agb = o->zero3_keep ? 0 : ag;
        double per_mb = fmax(ag - f_phase, sm * ag) + fmax(agb + rs - b_phase, sm * (agb + rs));
        /* HSDP: the shards' all-reduce across groups streams during the last micro-batch's backward, bucket by
         * bucket like the reduce-scatter before it */
        double har = o->hsdp_allreduce;
        o->zero3_exposed[rc] = o->n_micro * per_mb + ag / lps + (har > 0 ? fmax(har - b_phase, sm * har) : 0);
    }
    offload_fill(s, p, c, o);
}

void sp_pipe_step_fill(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_shape_step *c,
                        sp_pipe_step *o)
{
    sp_pipe_step_dp(m, s, p, o);
    sp_pipe_step_schedule(m, s, p, c, o);
}

sp_status sp_plan_step_result(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_shape_step *c,
                                 const sp_pipe_step *o, const sp_memory *mem, sp_train_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    int n_micro = o->n_micro;
    if (n_micro < 1)
        return sp_fail(err, SP_EINVAL, "plan: fewer sequences than data-parallel replicas x micro-batch");
    int rc = (int)p->recompute;
    sp_plan_step_parts q;
    double step = sp_plan_step_time(o, p->vpp, p->zero, rc, &q);
    /* breakdown (critical path, one stage's view) */
    const sp_layer_mix *x = &o->mix;
    double nm = n_micro, lps = o->layers;
    r->t.compute = nm * lps * x->compute[rc];
    r->t.memory_bound = nm * lps * x->mem[rc];
    r->t.recompute = nm * lps * x->rec[rc];
    r->t.tp_comm = nm * lps * x->tp[rc];
    r->t.cp_comm = nm * lps * x->cp;
    r->t.ep_comm = nm * lps * x->ep;
    r->t.host = nm * lps * (x->host + (rc == SP_RECOMPUTE_FULL ? x->host_rec : 0));
    r->t.offload = nm * o->offload[rc];
    r->offload_unpriced = o->offload_unpriced;
    r->t.pp_comm = nm * q.pp_comm_slot;
    r->t.imbalance = nm * (o->slot_max[rc] - o->layers_time[rc]);
    r->t.bubble = q.bubble;
    r->t.dp_comm = q.dp;
    r->t.optimizer = q.optimizer;

    double tokens = (double)p->global_batch * p->seq_len;
    r->step_time_s = step;
    r->tokens_per_step = tokens;
    r->tokens_per_s = tokens / step;
    r->model_flops = o->model_flops;
    /* recompute's FLOPs: full's forward of the layers (on the block method's share of them); selective's attention
     * core when core_attn is in its set, and the other re-run GEMMs (every GPU's n_micro x L/pp layers) */
    double extra = p->recompute == SP_RECOMPUTE_FULL ? sp_plan_full_share(p, m->n_layers) * o->extra_full : 0;
    if (p->recompute == SP_RECOMPUTE_SELECTIVE)
        extra = ((sp_recompute_set(p) & SP_RCM_CORE_ATTN) ? o->extra_selective : 0) +
                (double)p->n_gpus * nm * m->n_layers / p->pp * x->attn_flops;
    r->hardware_flops = r->model_flops + extra;
    r->peak_flops = o->peak;
    r->mfu = r->model_flops / (step * p->n_gpus * r->peak_flops);
    r->hfu = r->hardware_flops / (step * p->n_gpus * r->peak_flops);
    r->tflops_per_gpu = r->model_flops / (step * p->n_gpus) / 1e12;
    r->n_micro = n_micro;
    if (mem)
        r->mem = *mem;
    else
        sp_plan_memory(m, s, p, &c->mem, &o->stage, &r->mem);
    r->fits = r->mem.total <= r->mem.capacity;
    r->overflow_bytes = r->fits ? 0 : r->mem.total - r->mem.capacity;
    r->bottleneck = dominant(&r->t);
    if (!isfinite(step) || step <= 0)
        return sp_fail(err, SP_EINVAL, "internal: step time is not finite for this plan");
    return SP_OK;
}
