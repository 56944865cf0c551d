/* Exhaustive parallel-plan search (DESIGN.md §3.7).
 *
 * Plans are enumerated as layer shapes (TP, CP, EP, micro-batch, SP, expert TP, precision) × pipeline shapes (PP, virtual stages) ×
 * ZeRO stage × recompute. Everything that depends only on the layer shape (the GEMMs, attention, TP/CP/EP
 * communication of one layer, the LM head) is costed once per layer shape (sp_shape_step_fill); each plan then only
 * assembles the schedule, pipeline, DP/ZeRO and optimizer terms (plan_step_eval) after a memory check.
 *
 * Pruning is exact: for a layer shape and PP degree, no plan can be faster than
 *   n_micro × (layers on the heaviest stage) × (forward + backward compute and memory time of one layer),
 * because the step adds recompute, communication, the bubble, DP and the optimizer on top. When that bound is
 * not below the current k-th best, the whole (vpp, ZeRO, recompute) block is skipped. Each thread keeps its own
 * top-k (its threshold is never below the global one, so nothing that belongs to the global top-k is pruned);
 * the merge sorts by objective with a total tie-break order, so the answer does not depend on thread count.
 */
#include "scaleplan.h"
#include "step.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void sp_search_defaults(sp_search_opts *o)
{
    memset(o, 0, sizeof *o);
    sp_plan_defaults(&o->plan); /* bf16, system's attention kernel, no fine-tuning, dropless uniform routing */
    o->max_mem_frac = SP_SEARCH_MEM_FRAC;
    o->top_k = 10;
    o->max_vpp = 8;
    o->schedules = SP_SEARCH_ALL_SCHEDULES;
    o->fix_tp = o->fix_pp = o->fix_dp = o->fix_cp = o->fix_ep = o->fix_etp = o->fix_vpp = o->fix_mb = SP_FREE;
    o->fix_zero = o->fix_sp = o->fix_recompute = SP_FREE;
    o->progress_after_s = 1.0;
}

/* Divisors of n ascending, at most cap of them (the smallest); O(sqrt n), so clusters of 2^30 GPUs are cheap. */
static int divisors(int n, int *out, int cap)
{
    int lo = 0, hi = 0, high[1024]; /* an int has at most 1600 divisors, half of them above sqrt */
    for (int d = 1; (long long)d * d <= n; d++)
        if (n % d == 0) {
            if (lo < cap)
                out[lo++] = d;
            if (d != n / d && hi < 1024)
                high[hi++] = n / d;
        }
    for (int i = hi - 1; i >= 0 && lo < cap; i--)
        out[lo++] = high[i];
    return lo;
}

/* The search's unit of work: a layer shape without its micro-batch and sequence parallelism. Its micro-batches
 * (ascending) and SP settings share the stage parameters, model-state memory and data-parallel collectives of each
 * PP degree (none of them depends on either). */
typedef struct {
    int tp, cp, ep;
    int nsp, sps[2]; /* sequence-parallel settings tried, in order: with SP first when both (see run_key) */
    int etp;         /* expert TP (MoE; 0 for dense models) */
    sp_dtype dtype;  /* GEMM precision */
    int fold;        /* EP folded into TP x CP x DP (plan.c): only the PP degrees whose DP EP does not divide (the
                        others are the unfolded units' plans) */
} layer_key;

/* Blocks of g consecutive ranks are placed whole in scale-up domains of `node` accelerators (collective.c): a block
 * that fits takes floor(node/g)·g of each domain, a larger one the largest divisor of g that fits. A layout is kept
 * when it uses at least 8/9 of every domain: on 8-GPU nodes exactly the blocks that divide or are multiples of 8
 * (TP 3 or 6 would idle GPUs), on 72-GPU NVLink domains also 16, 32, 64 or 128 (64 of 72 GPUs: NVIDIA's Slurm
 * block-scheduling advice for GB200 NVL72 gives large jobs segments of 16 of the 18 trays, issue 23). */
static int aligned(int g, int node)
{
    int used = g <= node ? node / g * g : sp_domain_members(node, g, 1);
    return node <= 1 || 9 * used >= 8 * node;
}

/* A fixed dimension (not SP_FREE) with another value than v: v is not tried. */
static int fixed_other(int fix, int v) { return fix != SP_FREE && v != fix; }

static int plan_cmp(const sp_search_entry *a, const sp_search_entry *b)
{
    if (a->objective != b->objective)
        return a->objective < b->objective ? -1 : 1;
    const sp_plan *x = &a->plan, *y = &b->plan;
    int kx[] = {x->tp, x->pp, x->dp, x->cp, x->ep, x->vpp, x->micro_batch, (int)x->recompute, x->seq_parallel, x->zero,
                x->etp, (int)x->dtype, x->ep_fold, (int)x->schedule};
    int ky[] = {y->tp, y->pp, y->dp, y->cp, y->ep, y->vpp, y->micro_batch, (int)y->recompute, y->seq_parallel, y->zero,
                y->etp, (int)y->dtype, y->ep_fold, (int)y->schedule};
    for (int i = 0; i < 14; i++)
        if (kx[i] != ky[i])
            return kx[i] < ky[i] ? -1 : 1;
    return 0;
}

static int qcmp(const void *a, const void *b) { return plan_cmp(a, b); }

/* Inserts e into the sorted top list of capacity k. */
static void top_insert(sp_search_entry *top, int *n, int k, const sp_search_entry *e)
{
    if (*n == k && plan_cmp(e, &top[k - 1]) >= 0)
        return;
    int i = *n < k ? (*n)++ : k - 1;
    while (i > 0 && plan_cmp(e, &top[i - 1]) < 0) {
        top[i] = top[i - 1];
        i--;
    }
    top[i] = *e;
}

typedef struct {
    char pad0[128]; /* keeps the counters of one thread off the cache lines of its neighbour's last fields */
    long long enumerated, div, mem, pruned, evaluated;
    double min_over;
    sp_plan min_over_plan;
    sp_search_entry *top; /* top_k entries (threads_new) */
    int n_top;
    sp_gemm_memo memo;
    /* pruning threshold: the least k-th best objective of any thread (each thread publishes its own in
     * kth[self]): a plan worse than some thread's k-th best has k better plans and cannot be in the answer */
    double *kth;
    int self, nthreads;
    double thr; /* the least of kth[] as last read (INFINITY while no thread has k plans) */
    char pad1[128];
} thread_state;

/* Re-reads the other threads' k-th best objectives. */
static void refresh_threshold(thread_state *ts)
{
    double t = INFINITY;
    for (int i = 0; i < ts->nthreads; i++) {
        double x;
#pragma omp atomic read
        x = ts->kth[i];
        if (x < t)
            t = x;
    }
    ts->thr = t;
}

/* The bound is computed in another floating-point order than the step itself; this margin keeps it below a plan
 * whose step time it equals up to rounding (a relative 1e-12: far above accumulated rounding, far below any
 * difference between plans that matters). */
#define LB_MARGIN (1 - 1e-12)

/* objective of a plan from its step time (the same expressions as on its full result) */
static double objective_step(const sp_search_opts *o, const sp_system *s, double step, double tokens, int n)
{
    switch (o->objective) {
    case SP_OBJ_TOKENS_PER_S: return -(tokens / step);
    case SP_OBJ_COST: return step * n * (s->usd_per_accel_hour > 0 ? s->usd_per_accel_hour : 1) / 3600;
    case SP_OBJ_TIME: break;
    }
    return step;
}

/* Records a plan that does not fit when it overflows least so far (ties: the first in plan_cmp order, so the
 * closest plan does not depend on the order shapes are visited in). */
static void note_overflow(thread_state *ts, const sp_plan *p, int z, int rc, double over)
{
    if (over > ts->min_over)
        return;
    sp_search_entry e = {.plan = *p};
    e.plan.zero = z;
    e.plan.recompute = (sp_recompute)rc;
    if (over == ts->min_over && plan_cmp(&e, &(sp_search_entry){.plan = ts->min_over_plan}) >= 0)
        return;
    ts->min_over = over;
    ts->min_over_plan = e.plan;
}

/* What one PP degree of a unit shares over the unit's micro-batches. */
typedef struct {
    int ready, empty; /* filled; no (vpp, ZeRO, recompute) combination is a plan here */
    int dead[2];      /* by SP setting: no plan of this PP fits at the micro-batches tried so far, nor at any
                       * larger one */
    int has_dp;       /* o's data-parallel part filled */
    int nv, nzv, v0;  /* valid (virtual stages, schedule) pairs and ZeRO stages; the first valid v */
    uint64_t vmask;   /* bit v-1: v virtual stages fit the layers (plan.c: pp*v <= L + 2) and match --fix vpp */
    int zok[4];
    double mz[4];     /* model-state memory by ZeRO stage */
    double mzd[4];    /* the same under DualPipe (two stages' parameters per GPU) */
    sp_pipe_step o;  /* the stage (o.stage), once has_dp the DP collectives and optimizer, and the schedule part of
                       * the micro-batch being searched */
} pp_state;

/* Activation memory never decreases with the micro-batch at a fixed PP (per-layer bytes grow with it, the
 * micro-batches in flight shrink at most as fast) and model states do not depend on it, so once the least memory
 * of a PP degree's plans exceeds the capacity by more than rounding, every larger micro-batch's plans overflow
 * too. Sequence parallelism only divides activations (by TP > 1), so when even the SP plans overflow, the same
 * plans without SP do too: a unit tries SP first. */
#define DEAD_MARGIN (1 + 1e-9)

/* One unit of work being searched: its plan being formed, its PP degrees and their states, the layer shape of
 * the micro-batch and SP setting being searched. Lives on the worker's stack; nothing here allocates. */
typedef struct {
    const sp_model *m;
    const sp_system *s;
    const sp_search_opts *o;
    const sp_param_count *pc;  /* the model's parameter counts */
    thread_state *ts;
    sp_plan p;                 /* the plan being formed */
    double tokens, cap;        /* tokens per step; usable HBM */
    int rok[3], nrv;           /* recompute modes tried and their count */
    int npp, pps[64], dps[64]; /* PP degrees and their DP */
    int rep_batch[64];         /* sequences per replica (0 when the replicas do not divide the batch) */
    pp_state st[64];
    sp_shape_mem mpre;         /* of the current micro-batch; until then the parameter counts only */
    int have_mpre, have_cache;
    sp_shape_step cache;       /* the current layer shape's step terms */
    int staged;                /* layers that differ or BF16 layers on PP > 1: activations from each stage's own layers */
    double peak[2][3], first[2]; /* then, the block's sp_mem_stage_peak: 1F1B-like, DualPipe */
} unit_ctx;

#define N_ZERO 4
#define N_RECOMPUTE 3

/* A folded unit's DP at PP degree pp: one EP does not divide (else the unfolded unit has the plan) and whose stage
 * ranks TP·CP·DP hold the ETP x EP expert group (plan.c); 0 when none. */
static int fold_dp(const layer_key *key, int n, int pp)
{
    int dp = n / (key->tp * key->cp * pp), e = key->etp > 0 ? key->etp : key->tp;
    return dp % key->ep && ((long long)key->tp * key->cp * dp) % ((long long)key->ep * e) == 0 ? dp : 0;
}

/* The PP degrees of a unit (PP divides the GPUs left, fits the layers and the fixed dimensions) into pps[]. */
static int unit_pps(const sp_model *m, const sp_search_opts *o, const layer_key *key, int *pps)
{
    int rest = o->plan.n_gpus / (key->tp * key->cp * (key->fold ? 1 : key->ep)), all[64];
    int na = divisors(rest, all, 64), npp = 0;
    for (int i = 0; i < na; i++) {
        int pp = all[i];
        if (pp > m->n_layers || fixed_other(o->fix_pp, pp) || fixed_other(o->fix_dp, rest / pp) ||
            (key->fold && !fold_dp(key, o->plan.n_gpus, pp)))
            continue;
        pps[npp++] = pp;
    }
    return npp;
}

static void unit_init(unit_ctx *u, const layer_key *key)
{
    const sp_search_opts *o = u->o;
    int rest = o->plan.n_gpus / (key->tp * key->cp * (key->fold ? 1 : key->ep));
    u->npp = unit_pps(u->m, o, key, u->pps);
    sp_plan *p = &u->p;
    sp_plan_defaults(p);
    p->n_gpus = o->plan.n_gpus;
    p->tp = key->tp;
    p->cp = key->cp;
    p->ep = key->ep;
    p->ep_fold = key->fold;
    p->seq_len = o->plan.seq_len; /* the plan's shared parts (sp_search_opts.plan); the rest is searched */
    p->global_batch = o->plan.global_batch;
    p->dtype = key->dtype;
    p->etp = key->etp;
    p->capacity_factor = o->plan.capacity_factor;
    p->moe_imbalance = o->plan.moe_imbalance;
    p->doc_len = o->plan.doc_len, p->doc_len_cv = o->plan.doc_len_cv; /* packed sequences (ops.c attention_core) */
    p->moe_pad = o->plan.moe_pad;
    p->moe_router_fusion = o->plan.moe_router_fusion;
    p->moe_fused_mlp = o->plan.moe_fused_mlp, p->fp8_attention = o->plan.fp8_attention;
    p->fp8_output_proj = o->plan.fp8_output_proj;
    p->cuda_graphs = o->plan.cuda_graphs, p->moe_dispatcher = o->plan.moe_dispatcher; /* host knobs (ops.c) */
    p->flash_attention = o->plan.flash_attention;
    p->frozen_base = o->plan.frozen_base;
    p->lora_rank = o->plan.lora_rank;
    p->lora_targets = o->plan.lora_targets;
    p->base_weight_bytes = o->plan.base_weight_bytes;
    p->grad_bytes = o->plan.grad_bytes;
    p->weight_bytes = o->plan.weight_bytes, p->optimizer_bytes = o->plan.optimizer_bytes;
    p->zero_bubble = o->plan.zero_bubble;
    p->zero3_keep = o->plan.zero3_keep; /* applies to its ZeRO-3 plans (memory.c, step.c) */
    p->recompute_modules = o->plan.recompute_modules; /* what its selective plans re-run (ops.c) */
    p->bf16_first = o->plan.bf16_first, p->bf16_last = o->plan.bf16_last; /* its quantized plans' BF16 layers */
    u->tokens = (double)o->plan.global_batch * o->plan.seq_len;
    u->cap = o->max_mem_frac * u->s->acc.hbm_bytes;
    u->nrv = 0;
    for (int rc = 0; rc < N_RECOMPUTE; rc++)
        u->nrv += u->rok[rc] = !fixed_other(o->fix_recompute, rc);
    for (int ip = 0; ip < u->npp; ip++) {
        u->st[ip].ready = 0;
        u->dps[ip] = rest / u->pps[ip];
        long long replicas = (long long)u->dps[ip] * (key->fold ? 1 : key->ep);
        u->rep_batch[ip] = o->plan.global_batch % replicas ? 0 : (int)(o->plan.global_batch / replicas);
    }
}

/* The exact lower bound (file comment) of the current layer shape at PP degree ip: 1 when no plan of the block
 * can enter the answer. */
static int block_pruned(const unit_ctx *u, int ip)
{
    const sp_search_opts *o = u->o;
    const thread_state *ts = u->ts;
    if (o->no_prune || !(ts->thr < INFINITY || o->max_objective > 0) || !u->have_cache)
        return 0;
    long long replicas = (long long)u->dps[ip] * (u->p.ep_fold ? 1 : u->p.ep);
    double n_micro = o->plan.global_batch / (double)(replicas * u->p.micro_batch);
    /* layers that differ or BF16 layers: the mean layer x L/pp (the heaviest stage holds at least the mean stage's
     * work), not x ceil(L/pp), which can exceed a stage of light layers */
    double lps = u->m->n_pattern > 0 || u->cache.bf16 ? (double)u->m->n_layers / u->pps[ip]
                                                     : sp_stage_layers(u->m->n_layers, u->pps[ip]);
    const sp_layer_mix *x = &u->cache.mix;
    double lb = objective_step(o, u->s, n_micro * lps * (x->f_c + x->b_c + x->f_m + x->b_m) * LB_MARGIN, u->tokens,
                               o->plan.n_gpus);
    return lb > ts->thr || (o->max_objective > 0 && lb > o->max_objective);
}

/* The pipeline schedules tried at PP degree pp with v virtual stages, into out; their count. PP 1 runs 1F1B; on PP > 1
 * the ones o->schedules allows where they apply (docs/model.md "Schedules"): 1F1B at any v (interleaved when v > 1),
 * ZB-H1 at v 1, DualPipe at v 1 on an even PP, ZB-V at v 2 (two chunks in a V). */
static int sched_slots(const sp_search_opts *o, int pp, int v, sp_schedule out[3])
{
    int n = 0;
    if (pp == 1 || (o->schedules & 1u << SP_SCHED_1F1B))
        out[n++] = SP_SCHED_1F1B;
    if (pp > 1 && v == 1 && (o->schedules & 1u << SP_SCHED_ZBH1))
        out[n++] = SP_SCHED_ZBH1;
    if (pp > 1 && v == 1 && pp % 2 == 0 && (o->schedules & 1u << SP_SCHED_DUALPIPE))
        out[n++] = SP_SCHED_DUALPIPE;
    if (pp > 1 && v == 2 && (o->schedules & 1u << SP_SCHED_ZBV))
        out[n++] = SP_SCHED_ZBV;
    return n;
}

/* Plans of a block: (virtual stages, schedule) pairs x ZeRO stages x recompute modes, valid or not. */
static long long block_size(const sp_search_opts *o, int pp, int vmax)
{
    sp_schedule sc[3];
    long long n = 0;
    for (int v = 1; v <= vmax; v++)
        n += sched_slots(o, pp, v, sc);
    return n * N_ZERO * N_RECOMPUTE;
}

/* Which virtual stages, schedules and ZeRO stages are plans at this PP degree (interleaving needs pp*v to divide the
 * layers; ZeRO-3 is not combined with PP (Megatron, DeepSpeed) nor with frozen weights); the stage's parameters and
 * model-state memory (and DualPipe's, two stages per GPU). */
static void pp_state_init(unit_ctx *u, pp_state *q, int pp, int vmax)
{
    const sp_search_opts *o = u->o;
    int L = u->m->n_layers, dual = 0;
    sp_schedule sc[3];
    q->ready = 1;
    q->dead[0] = q->dead[1] = q->has_dp = 0;
    q->nv = q->nzv = q->v0 = 0;
    q->vmask = 0;
    for (int v = 1; v <= vmax; v++)
        if (!(fixed_other(o->fix_vpp, v) || (v > 1 && L + 2 < pp * v))) {
            int n = sched_slots(o, pp, v, sc);
            q->vmask |= 1ull << (v - 1);
            q->nv += n;
            dual |= v == 1 && n > 0 && sc[n - 1] == SP_SCHED_DUALPIPE;
            if (!q->v0 && n)
                q->v0 = v;
        }
    for (int z = 0; z < N_ZERO; z++)
        q->nzv += q->zok[z] = !(fixed_other(o->fix_zero, z) || (z == 3 && (pp > 1 || o->plan.frozen_base)));
    q->empty = !q->nv || !q->nzv || !u->nrv;
    if (!q->empty) {
        u->p.schedule = SP_SCHED_1F1B;
        sp_stage_params_fill(u->m, &u->p, &u->mpre, &q->o.stage);
        sp_mem_states_by_zero(u->m, &u->p, &u->mpre, &q->o.stage, q->mz);
        if (dual) {
            u->p.schedule = SP_SCHED_DUALPIPE;
            sp_mem_states_by_zero(u->m, &u->p, &u->mpre, &q->o.stage, q->mzd);
            u->p.schedule = SP_SCHED_1F1B;
        } else /* no DualPipe slot: defined values for the least-states scan, which reads both arrays */
            memcpy(q->mzd, q->mz, sizeof q->mzd);
    }
}

/* The activation part of plan u->p (its vpp and schedule set) by recompute mode, from its block's terms at vpp 1
 * under 1F1B (held1, emb): the interleaving factor for interleaved 1F1B, DualPipe's own in-flight count, ZB-H1 and
 * ZB-V as 1F1B at vpp 1 (the same expressions as sp_mem_activations, so the same to the bit). */
static void variant_act(const unit_ctx *u, double held1, double emb, double act[N_RECOMPUTE])
{
    const sp_plan *p = &u->p;
    double held = held1, e = emb, hb[N_RECOMPUTE];
    int dual = p->schedule == SP_SCHED_DUALPIPE;
    if (dual)
        sp_mem_act_terms(u->m, p, &held, &e);
    else if (p->vpp > 1 && p->schedule != SP_SCHED_ZBV)
        held *= sp_mem_interleave_factor(p->pp, p->vpp);
    if (u->staged) /* sp_mem_held_bytes_stages from the block's cached peaks: the same expressions */
        for (int rc = 0; rc < N_RECOMPUTE; rc++)
            hb[rc] = u->peak[dual][rc] * (held / u->first[dual]);
    else
        sp_mem_held_bytes(u->m, p, &u->mpre, held, hb);
    for (int rc = 0; rc < N_RECOMPUTE; rc++)
        act[rc] = sp_mem_act_total(sp_mem_act_layers(&u->mpre, rc, hb[rc]), e);
}

/* The least memory of the block (least model states + least activations over its (virtual stages, schedule) pairs):
 * 0 with the block's 1F1B terms at vpp 1 (held1, emb) when some plan may fit; 1 when even that does not fit (the plans
 * are counted and the block marked dead when it overflows beyond rounding). */
static int block_overflows(unit_ctx *u, pp_state *q, int spv, long long nplans, long long block, double *held1,
                           double *emb, int vmax)
{
    thread_state *ts = u->ts;
    u->p.vpp = 1;
    u->p.schedule = SP_SCHED_DUALPIPE;
    if ((u->staged = (u->m->n_pattern > 0 || u->mpre.bf16) && u->p.pp > 1)) {
        u->first[1] = sp_mem_stage_peak(u->m, &u->p, &u->mpre, u->peak[1]);
        u->p.schedule = SP_SCHED_1F1B;
        u->first[0] = sp_mem_stage_peak(u->m, &u->p, &u->mpre, u->peak[0]);
    }
    u->p.schedule = SP_SCHED_1F1B;
    sp_mem_act_terms(u->m, &u->p, held1, emb);
    double least = INFINITY, act[N_RECOMPUTE];
    int zl[2] = {-1, -1}, zmin = 0, rmin = 0, vmin = 1; /* least model states: 1F1B, DualPipe */
    for (int z = 0; z < N_ZERO; z++)
        if (q->zok[z]) {
            zl[0] = zl[0] < 0 || q->mz[z] < q->mz[zl[0]] ? z : zl[0];
            zl[1] = zl[1] < 0 || q->mzd[z] < q->mzd[zl[1]] ? z : zl[1];
        }
    sp_schedule sc[3], smin = SP_SCHED_1F1B;
    /* 1F1B or ZB-H1 at vpp 1 holds the least of all (no interleaving factor, one stage's states, p micro-batches):
     * only it is looked at when the block has it */
    int vlim = vmax, klim = 3;
    if ((q->vmask & 1) && sched_slots(u->o, u->p.pp, 1, sc) && sc[0] != SP_SCHED_DUALPIPE)
        vlim = klim = 1;
    for (int v = 1; v <= vlim; v++)
        for (int k = 0, n = q->vmask >> (v - 1) & 1 ? sched_slots(u->o, u->p.pp, v, sc) : 0; k < n && k < klim; k++) {
            u->p.vpp = v, u->p.schedule = sc[k];
            variant_act(u, *held1, *emb, act);
            int dual = sc[k] == SP_SCHED_DUALPIPE, z = zl[dual];
            for (int rc = 0; rc < N_RECOMPUTE; rc++)
                if (u->rok[rc] && sp_mem_total((dual ? q->mzd : q->mz)[z], act[rc]) < least)
                    least = sp_mem_total((dual ? q->mzd : q->mz)[z], act[rc]), zmin = z, rmin = rc, vmin = v, smin = sc[k];
        }
    if (least <= u->cap)
        return 0;
    ts->mem += nplans;
    ts->div += block - nplans;
    u->p.vpp = vmin, u->p.schedule = smin;
    note_overflow(ts, &u->p, zmin, rmin, least - u->cap);
    if (least > u->cap * DEAD_MARGIN) {
        q->dead[spv] = 1;
        if (spv)
            q->dead[0] = 1;
    }
    return 1;
}

/* A plan that fits and whose step time is `step`: into the thread's top k when it can enter it (the full result is
 * built only then), and to the on_plan callback. */
static void take_plan(unit_ctx *u, pp_state *q, int z, int rc, double step)
{
    const sp_search_opts *o = u->o;
    thread_state *ts = u->ts;
    int k = o->top_k;
    ts->evaluated++;
    double obj = objective_step(o, u->s, step, u->tokens, o->plan.n_gpus);
    if (!o->on_plan && ((o->max_objective > 0 && obj > o->max_objective) || obj > ts->thr))
        return;
    sp_search_entry e;
    u->p.zero = z;
    u->p.recompute = (sp_recompute)rc;
    e.plan = u->p;
    e.objective = obj;
    if (!o->on_plan && ts->n_top == k && plan_cmp(&e, &ts->top[k - 1]) >= 0)
        return;
    sp_memory mem;
    sp_plan_memory(u->m, u->s, &u->p, &u->mpre, &q->o.stage, &mem);
    sp_error err;
    if (sp_plan_step_result(u->m, u->s, &u->p, &u->cache, &q->o, &mem, &e.res, &err) != SP_OK)
        return; /* not reached: the step was checked by the caller */
    if (o->on_plan)
        o->on_plan(o->ctx, &u->p, &e.res);
    if (o->max_objective > 0 && e.objective > o->max_objective)
        return;
    top_insert(ts->top, &ts->n_top, k, &e);
    if (ts->n_top == k) {
        double mine = ts->top[k - 1].objective;
#pragma omp atomic write
        ts->kth[ts->self] = mine;
        if (mine < ts->thr)
            ts->thr = mine;
    }
}

/* Every (ZeRO stage, recompute) plan of the block at u->p's virtual stages and schedule, whose activation part is
 * act[]: memory check, step time, take_plan. *have_outer: q->o's schedule part is this micro-batch's. */
static void variant_plans(unit_ctx *u, pp_state *q, const double act[N_RECOMPUTE], int *have_outer)
{
    thread_state *ts = u->ts;
    const double *mz = u->p.schedule == SP_SCHED_DUALPIPE ? q->mzd : q->mz;
    for (int z = 0; z < N_ZERO; z++) {
        if (!q->zok[z]) {
            ts->div += N_RECOMPUTE;
            continue;
        }
        for (int rc = 0; rc < N_RECOMPUTE; rc++) {
            if (!u->rok[rc]) {
                ts->div++;
                continue;
            }
            double total = sp_mem_total(mz[z], act[rc]);
            if (total > u->cap) {
                ts->mem++;
                if (total - u->cap <= ts->min_over)
                    note_overflow(ts, &u->p, z, rc, total - u->cap);
                continue;
            }
            if (!u->have_cache) {
                sp_shape_step_fill(u->m, u->s, &u->p, &ts->memo, &u->mpre, &u->cache);
                u->have_cache = 1;
            }
            if (!*have_outer) {
                if (!q->has_dp) {
                    sp_pipe_step_dp(u->m, u->s, &u->p, &q->o);
                    q->has_dp = 1;
                }
                sp_pipe_step_schedule(u->m, u->s, &u->p, &u->cache, &q->o);
                *have_outer = 1;
            }
            q->o.schedule = u->p.schedule; /* the bubble's formula (step.h sp_schedule_bubble) */
            /* the plan's step time; the full result only for a plan that can enter the top k */
            double step = sp_plan_step_time(&q->o, u->p.vpp, z, rc, NULL);
            if (!(isfinite(step) && step > 0)) {
                ts->div++;
                continue;
            }
            take_plan(u, q, z, rc, step);
        }
    }
}

/* Every (virtual stages, schedule) pair of the block, each with its ZeRO stages and recompute modes. */
static void block_plans(unit_ctx *u, pp_state *q, int vmax, double held1, double emb)
{
    thread_state *ts = u->ts;
    int have_outer = 0;
    sp_schedule sc[3];
    double act[N_RECOMPUTE];
    for (int v = 1; v <= vmax; v++) {
        int n = sched_slots(u->o, u->p.pp, v, sc);
        if (!(q->vmask >> (v - 1) & 1)) {
            ts->div += (long long)n * N_ZERO * N_RECOMPUTE;
            continue;
        }
        for (int k = 0; k < n; k++) {
            u->p.vpp = v;
            u->p.schedule = sc[k];
            variant_act(u, held1, emb, act);
            variant_plans(u, q, act, &have_outer);
        }
    }
    u->p.schedule = SP_SCHED_1F1B;
}

/* The block of PP degree ip at the current micro-batch and SP setting. */
static void run_block(unit_ctx *u, int ip, int spv)
{
    const sp_search_opts *o = u->o;
    thread_state *ts = u->ts;
    int pp = u->pps[ip];
    u->p.pp = pp;
    u->p.dp = u->dps[ip];
    int vmax = pp > 1 ? o->max_vpp : 1;
    long long block = block_size(o, pp, vmax);
    ts->enumerated += block;
    int per = u->rep_batch[ip];
    if (!per || per % u->p.micro_batch) {
        ts->div += block;
        return;
    }
    if (block_pruned(u, ip)) {
        ts->pruned += block;
        return;
    }
    pp_state *q = &u->st[ip];
    if (!q->ready)
        pp_state_init(u, q, pp, vmax);
    long long nplans = (long long)q->nv * q->nzv * u->nrv;
    if (q->empty) {
        ts->div += block;
        return;
    }
    if (q->dead[spv]) {
        ts->mem += nplans;
        ts->div += block - nplans;
        return;
    }
    if (!u->have_mpre) {
        sp_shape_mem_fill(u->m, u->s, &u->p, u->pc, &u->mpre);
        u->have_mpre = 1;
    }
    double held1, emb;
    if (block_overflows(u, q, spv, nplans, block, &held1, &emb, vmax))
        return;
    block_plans(u, q, vmax, held1, emb);
}

static void run_key(const sp_model *m, const sp_system *s, const sp_search_opts *o, const sp_param_count *pc,
                    const layer_key *key, const int *mbs, int nmb, thread_state *ts)
{
    unit_ctx u;
    u.m = m, u.s = s, u.o = o, u.pc = pc, u.ts = ts;
    u.mpre.pc = *pc;
    u.mpre.reserve_fixed = sp_mem_reserve_fixed(&s->acc);
    unit_init(&u, key);
    for (int bs = 0; bs < nmb * key->nsp; bs++) {
        int spv = key->sps[bs % key->nsp];
        u.p.micro_batch = mbs[bs / key->nsp];
        u.p.seq_parallel = spv;
        if (ts->nthreads > 1)
            refresh_threshold(ts);
        u.have_cache = u.have_mpre = 0;
        for (int ip = 0; ip < u.npp; ip++)
            run_block(&u, ip, spv);
    }
}

/* The least replicas of a unit: EP unfolded (dp*ep >= ep); folded, DP is a multiple of ETP·EP / gcd(ETP·EP, TP·CP)
 * (TP·CP·DP holds the expert group). */
static int unit_min_replicas(const layer_key *key)
{
    if (!key->fold)
        return key->ep;
    long long a = (long long)key->ep * (key->etp > 0 ? key->etp : key->tp), b = (long long)key->tp * key->cp, g = a;
    for (long long r = b; r;) { /* gcd(a, b) */
        long long t = g % r;
        g = r, r = t;
    }
    return (int)(a / g);
}

/* The micro-batches of a unit, ascending: divisors of the largest per-replica batch (global batch / least
 * replicas), or the fixed one; out may be NULL (count only). */
static int unit_mbs(const sp_search_opts *o, const layer_key *key, int *out)
{
    int mbs[256], nmb = divisors(o->plan.global_batch / unit_min_replicas(key), mbs, 256), w = 0;
    for (int b = 0; b < nmb; b++)
        if (!fixed_other(o->fix_mb, mbs[b])) {
            if (out)
                out[w] = mbs[b];
            w++;
        }
    return w;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* The units (layer keys) a search walks, and the counts enumeration gives the result. */
typedef struct {
    layer_key *keys;
    int n, cap;
    long long div_skipped, shapes;
} unit_list;

/* Appends k; 0, or -1 when the list cannot grow (setup, not the per-plan path; up to 4 Mi units). */
static int unit_push(unit_list *ul, layer_key k)
{
    if (ul->n == ul->cap) {
        layer_key *grown = ul->cap < (1 << 22) ? realloc(ul->keys, sizeof *ul->keys * (size_t)ul->cap * 2) : NULL;
        if (!grown)
            return -1;
        ul->keys = grown;
        ul->cap *= 2;
    }
    ul->keys[ul->n++] = k;
    return 0;
}

/* The units of one (TP, CP, EP), unfolded or folded: its SP settings (SP needs TP > 1; with SP first when both are
 * tried), precisions and expert TP degrees (ETP <= TP, always tiles the GPUs). A folded unit with no PP degree
 * (fold_dp) is not added. -1 when the list cannot grow. */
static int add_units(const sp_model *m, const sp_system *s, const sp_search_opts *o, int tp, int cp, int ep, int fold,
                     unit_list *ul)
{
    int node = s->tier[0].size;
    if (!aligned(tp, node) || !aligned(tp * cp, node) || (!fold && (!aligned(tp * cp * ep, node) || o->plan.global_batch % ep))) {
        ul->div_skipped++;
        return 0;
    }
    int nsp = 0, sps[2], pps[64];
    for (int spv = (tp > 1); spv >= 0; spv--)
        if (!fixed_other(o->fix_sp, spv))
            sps[nsp++] = spv;
    if (!nsp)
        return 0;
    sp_dtype dts[2] = {o->plan.dtype, SP_FP8};
    int ndt = 1;
    if (o->any_dtype) {
        dts[0] = SP_BF16;
        ndt = s->acc.peak[SP_FP8] > 0 ? 2 : 1;
    }
    int etps[64], netp = 1;
    etps[0] = 0;
    if (sp_model_is_moe(m) && ep > 1) {
        int w = 0, nd = divisors(tp, etps, 64);
        for (int e = 0; e < nd; e++)
            if (!fixed_other(o->fix_etp, etps[e]) && m->moe_ffn_dim % etps[e] == 0)
                etps[w++] = etps[e];
        netp = w;
    }
    for (int di = 0; di < ndt; di++)
        for (int e = 0; e < netp; e++) {
            layer_key k = {tp, cp, ep, nsp, {sps[0], nsp > 1 ? sps[1] : 0}, etps[e] == tp ? 0 : etps[e], dts[di], fold};
            if (fold && (!aligned(ep * (etps[e] > 0 ? etps[e] : tp), node) ||
                         o->plan.global_batch % unit_min_replicas(&k) || !unit_pps(m, o, &k, pps)))
                continue;
            int nmb = unit_mbs(o, &k, NULL);
            if (!nmb)
                continue;
            if (unit_push(ul, k))
                return -1;
            ul->shapes += (long long)nmb * nsp;
        }
    return 0;
}

/* Every unit: TP divides the heads (or is a multiple of the KV heads), CP splits each sequence into 2·CP chunks
 * (load-balanced causal attention), EP divides the experts. */
static sp_status enumerate_units(const sp_model *m, const sp_system *s, const sp_search_opts *o, unit_list *ul,
                                 sp_error *err)
{
    int n = o->plan.n_gpus, seq = o->plan.seq_len, tps[64], ntp = divisors(n, tps, 64);
    int moe = sp_model_is_moe(m);
    for (int i = 0; i < ntp; i++) {
        int tp = tps[i];
        if (fixed_other(o->fix_tp, tp))
            continue;
        if (tp > m->n_heads || m->n_heads % tp || (m->n_kv_heads % tp && tp % m->n_kv_heads)) {
            ul->div_skipped++;
            continue;
        }
        int cps[64], ncp = divisors(n / tp, cps, 64);
        /* Mamba/DeltaNet layers pass their state along the sequence: no CP (sp_model_train_check) */
        sp_plan cp2;
        memset(&cp2, 0, sizeof cp2);
        cp2.cp = 2;
        int recurrent = sp_model_train_check(m, &cp2, NULL) != SP_OK;
        for (int j = 0; j < ncp; j++) {
            int cp = cps[j];
            int cp_bad = cp > 1 && (cp > seq / 2 || seq % (2 * cp) || recurrent); /* recurrent: model.c */
            if (fixed_other(o->fix_cp, cp) || cp_bad) {
                ul->div_skipped += cp_bad;
                continue;
            }
            /* unfolded: EP a factor of the GPUs beside TP x CP; folded (MoE): EP any divisor of the GPUs */
            int eps[64] = {1}, nep = moe ? divisors(n / (tp * cp), eps, 64) : 1;
            int feps[64], nfep = moe ? divisors(n, feps, 64) : 0;
            for (int q = 0; q < nep + nfep; q++) {
                int fold = q >= nep, ep = fold ? feps[q - nep] : eps[q];
                if (fixed_other(o->fix_ep, ep) || (ep > 1 && m->n_experts % ep) || (fold && ep == 1))
                    continue;
                if (add_units(m, s, o, tp, cp, ep, fold, ul))
                    return sp_fail(err, SP_EINVAL, "search: too many layer shapes; fix some dimensions with --fix");
            }
        }
    }
    return SP_OK;
}

/* threads = 0: all cores for searches of SP_SEARCH_PARALLEL_SHAPES layer shapes or more; a smaller one takes about a
 * millisecond on one core, less than a one-shot process can pay to start its thread pool on a busy machine (the
 * first parallel region took 2-3 ms on this project's 2-core machine with another process on the other core,
 * against ~1 ms of search). The thread states, their top-k buffers and the shared k-th-best array: one block. */
static thread_state *threads_new(const sp_search_opts *o, long long shapes, int *nthreads)
{
    int nt = o->on_plan ? 1 : o->threads > 0 ? o->threads : shapes >= SP_SEARCH_PARALLEL_SHAPES ? omp_get_max_threads() : 1;
    thread_state *ts = calloc((size_t)nt, sizeof *ts);
    sp_search_entry *tops = malloc(sizeof *tops * (size_t)nt * (size_t)o->top_k);
    double *kth = malloc(sizeof *kth * (size_t)nt);
    if (!ts || !tops || !kth) {
        free(ts);
        free(tops);
        free(kth);
        return NULL;
    }
    for (int i = 0; i < nt; i++) {
        ts[i].min_over = INFINITY;
        ts[i].top = tops + (size_t)i * (size_t)o->top_k;
        ts[i].kth = kth;
        ts[i].self = i;
        ts[i].nthreads = nt;
        ts[i].thr = INFINITY;
        kth[i] = INFINITY;
    }
    *nthreads = nt;
    return ts;
}

static void threads_free(thread_state *ts)
{
    free(ts[0].top);
    free(ts[0].kth);
    free(ts);
}

/* Runs every unit on the threads; progress from thread 0 (the callback need not be thread-safe). */
static void run_units(const sp_model *m, const sp_system *s, const sp_search_opts *o, const unit_list *ul,
                      thread_state *ts, int nthreads)
{
    sp_param_count pc;
    sp_model_params(m, &pc);
    long long shapes_done = 0, shapes = ul->shapes;
    double t_start = now(), t_next = t_start + (o->progress_after_s > 0 ? o->progress_after_s : 0);
    int progressed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
    for (int i = 0; i < ul->n; i++) {
        int mbs[256], nmb = unit_mbs(o, &ul->keys[i], mbs);
        run_key(m, s, o, &pc, &ul->keys[i], mbs, nmb, &ts[omp_get_thread_num()]);
        if (o->on_progress) {
            long long d;
#pragma omp atomic capture
            d = shapes_done += (long long)nmb * ul->keys[i].nsp;
            if (omp_get_thread_num() == 0) {
                double t = now();
                if (t >= t_next) {
                    o->on_progress(o->progress_ctx, d, shapes, t - t_start);
                    progressed = 1;
                    t_next = t + 0.25;
                }
            }
        }
    }
    if (o->on_progress && progressed)
        o->on_progress(o->progress_ctx, shapes, shapes, now() - t_start);
}

/* The deterministic merge: counters summed, the threads' top lists sorted by objective with the total tie-break
 * order into the caller's buffer, the closest overflowing plan by the same order. */
static sp_status merge_threads(const sp_search_opts *o, const thread_state *ts, int nthreads, sp_search_entry *top,
                               sp_search_result *r, sp_error *err)
{
    sp_search_entry *all = malloc(sizeof *all * (size_t)nthreads * (size_t)o->top_k);
    if (!all)
        return sp_fail(err, SP_ENOMEM, "search: out of memory");
    int na = 0;
    r->min_overflow_bytes = INFINITY;
    for (int i = 0; i < nthreads; i++) {
        r->enumerated += ts[i].enumerated;
        r->infeasible_divisibility += ts[i].div;
        r->infeasible_memory += ts[i].mem;
        r->pruned += ts[i].pruned;
        r->evaluated += ts[i].evaluated;
        for (int j = 0; j < ts[i].n_top; j++)
            all[na++] = ts[i].top[j];
        if (ts[i].min_over < r->min_overflow_bytes ||
            (ts[i].min_over == r->min_overflow_bytes && isfinite(ts[i].min_over) &&
             plan_cmp(&(sp_search_entry){.plan = ts[i].min_over_plan}, &(sp_search_entry){.plan = r->min_overflow_plan}) < 0)) {
            r->min_overflow_bytes = ts[i].min_over;
            r->min_overflow_plan = ts[i].min_over_plan;
        }
    }
    qsort(all, (size_t)na, sizeof *all, qcmp);
    r->n_top = na < o->top_k ? na : o->top_k;
    memcpy(top, all, sizeof *all * (size_t)r->n_top);
    free(all);
    return SP_OK;
}

/* A fixed dimension: SP_FREE, or a value in lo..hi. */
static sp_status check_fix(int v, int lo, int hi, const char *name, sp_error *err)
{
    if (v == SP_FREE || (v >= lo && v <= hi))
        return SP_OK;
    return sp_fail(err, SP_EINVAL, "search: --fix %s=%d; allowed %d..%d (or free)", name, v, lo, hi);
}

static sp_status check_opts(const sp_model *m, const sp_system *s, const sp_search_opts *o, sp_error *err)
{
    const sp_plan *p = &o->plan;
    sp_status mk = sp_model_train_check(m, NULL, err); /* layer kinds the step cannot price (model.c) */
    if (mk)
        return mk;
    if (p->n_gpus < 1)
        return sp_fail(err, SP_EINVAL, "search: --gpus must be >= 1");
    if (p->global_batch < 1)
        return sp_fail(err, SP_EINVAL, "search: --global-batch must be >= 1");
    if (o->top_k < 1 || o->top_k > SP_SEARCH_MAX_TOP)
        return sp_fail(err, SP_EINVAL, "search: --top %d; allowed 1..%d", o->top_k, SP_SEARCH_MAX_TOP);
    if (!o->schedules || (o->schedules & ~SP_SEARCH_ALL_SCHEDULES))
        return sp_fail(err, SP_EINVAL, "search: schedules mask %u; allowed a non-empty set of bits 0-3 (1f1b, zb-h1, zb-v, "
                       "dualpipe)", o->schedules);
    if (o->max_vpp < 1 || o->max_vpp > SP_SEARCH_MAX_VPP)
        return sp_fail(err, SP_EINVAL, "search: --max-vpp %d; allowed 1..%d", o->max_vpp, SP_SEARCH_MAX_VPP);
    if (s->max_accels > 0 && p->n_gpus > s->max_accels)
        return sp_fail(err, SP_EINVAL, "search: %d GPUs but system '%s' has %d", p->n_gpus, s->name, s->max_accels);
    const int big = 1 << 30;
    sp_status st;
    if ((st = check_fix(o->fix_tp, 1, big, "tp", err)) || (st = check_fix(o->fix_pp, 1, big, "pp", err)) ||
        (st = check_fix(o->fix_dp, 1, big, "dp", err)) || (st = check_fix(o->fix_cp, 1, big, "cp", err)) ||
        (st = check_fix(o->fix_ep, 1, big, "ep", err)) || (st = check_fix(o->fix_etp, 1, big, "etp", err)) ||
        (st = check_fix(o->fix_vpp, 1, big, "vpp", err)) || (st = check_fix(o->fix_mb, 1, big, "mb", err)) ||
        (st = check_fix(o->fix_zero, 0, 3, "zero", err)) || (st = check_fix(o->fix_sp, 0, 1, "sp", err)) ||
        (st = check_fix(o->fix_recompute, 0, 2, "recompute", err)))
        return st;
    sp_error e2 = {0};
    if (sp_accel_dtype_check(&s->acc, p->dtype, &e2))
        return sp_fail(err, SP_EINVAL, "search: %s", e2.msg);
    return SP_OK;
}

sp_status sp_search(const sp_model *m, const sp_system *s, const sp_search_opts *o, sp_search_entry *top,
                    sp_search_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    r->top = top;
    sp_status st = check_opts(m, s, o, err);
    if (st != SP_OK)
        return st;
    double t0 = now();
    unit_list ul = {malloc(sizeof(layer_key) << 16), 0, 1 << 16, 0, 0};
    if (!ul.keys)
        return sp_fail(err, SP_ENOMEM, "search: out of memory");
    int nthreads = 1;
    thread_state *ts = NULL;
    if ((st = enumerate_units(m, s, o, &ul, err)) == SP_OK) {
        ts = threads_new(o, ul.shapes, &nthreads);
        st = ts ? SP_OK : sp_fail(err, SP_ENOMEM, "search: out of memory");
    }
    if (st == SP_OK) {
        run_units(m, s, o, &ul, ts, nthreads);
        st = merge_threads(o, ts, nthreads, top, r, err);
    }
    if (ts)
        threads_free(ts);
    free(ul.keys);
    if (st != SP_OK)
        return st;
    r->infeasible_divisibility += ul.div_skipped;
    r->enumerated += ul.div_skipped;
    r->layer_shapes = (int)ul.shapes;
    r->threads = nthreads;
    r->wall_time_s = now() - t0;
    r->plans_per_s = r->wall_time_s > 0 ? r->evaluated / r->wall_time_s : 0;
    if (r->n_top == 0)
        return sp_fail(err, SP_EINFEASIBLE, "search: no plan fits");
    return SP_OK;
}
