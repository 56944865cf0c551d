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
    o->dtype = SP_BF16;
    o->flash_attention = -1;
    o->max_mem_frac = 1.0;
    o->top_k = 10;
    o->max_vpp = 8;
    o->fix_zero = o->fix_sp = o->fix_recompute = -1;
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
} layer_key;

/* A group of g consecutive ranks sits inside scale-up domains of size `node` only if g divides node or node
 * divides g; otherwise groups straddle domains while the tier model prices them as inside (TP 3 on 8-GPU
 * nodes). Such layouts are skipped. */
static int aligned(int g, int node) { return node <= 1 || node % g == 0 || g % node == 0; }

static int plan_cmp(const sp_search_entry *a, const sp_search_entry *b)
{
    if (a->objective != b->objective)
        return a->objective < b->objective ? -1 : 1;
    const sp_plan *x = &a->plan, *y = &b->plan;
    int kx[] = {x->tp, x->pp, x->dp, x->cp, x->ep, x->vpp, x->micro_batch, (int)x->recompute, x->seq_parallel, x->zero,
                x->etp, (int)x->dtype};
    int ky[] = {y->tp, y->pp, y->dp, y->cp, y->ep, y->vpp, y->micro_batch, (int)y->recompute, y->seq_parallel, y->zero,
                y->etp, (int)y->dtype};
    for (int i = 0; i < 12; i++)
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
    sp_search_entry top[SP_SEARCH_MAX_TOP];
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
    int nv, nzv, v0;  /* valid virtual-stage counts and ZeRO stages; the first valid v */
    uint64_t vmask;   /* bit v-1: v virtual stages divide the layers (and match --fix vpp) */
    int zok[4];
    double mz[4];     /* model-state memory by ZeRO stage */
    sp_pipe_step o;  /* the stage (o.stage), once has_dp the DP collectives and optimizer, and the schedule part of
                       * the micro-batch being searched */
} pp_state;

/* Activation memory never decreases with the micro-batch at a fixed PP (per-layer bytes grow with it, the
 * micro-batches in flight shrink at most as fast) and model states do not depend on it, so once the least memory
 * of a PP degree's plans exceeds the capacity by more than rounding, every larger micro-batch's plans overflow
 * too. Sequence parallelism only divides activations (by TP > 1), so when even the SP plans overflow, the same
 * plans without SP do too: a unit tries SP first. */
#define DEAD_MARGIN (1 + 1e-9)

static void run_key(const sp_model *m, const sp_system *s, const sp_search_opts *o, const sp_param_count *pc,
                    const layer_key *key, const int *mbs, int nmb, thread_state *ts)
{
    int n = o->n_gpus, L = m->n_layers, k = o->top_k;
    int rest = n / (key->tp * key->cp * key->ep);
    int all[64], pps[64], npp = 0;
    int na = divisors(rest, all, 64);
    for (int i = 0; i < na; i++) {
        int pp = all[i];
        if (pp > L || (o->fix_pp && pp != o->fix_pp) || (o->fix_dp && rest / pp != o->fix_dp))
            continue;
        pps[npp++] = pp;
    }
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = n;
    p.tp = key->tp;
    p.cp = key->cp;
    p.ep = key->ep;
    p.seq_len = o->seq_len;
    p.global_batch = o->global_batch;
    p.dtype = key->dtype;
    p.etp = key->etp;
    p.capacity_factor = o->capacity_factor;
    p.moe_imbalance = o->moe_imbalance;
    p.moe_pad = o->moe_pad;
    p.flash_attention = o->flash_attention;
    p.frozen_base = o->frozen_base;
    p.lora_rank = o->lora_rank;
    p.lora_targets = o->lora_targets;
    p.base_weight_bytes = o->base_weight_bytes;
    p.grad_bytes = o->grad_bytes;
    p.weight_bytes = o->weight_bytes, p.optimizer_bytes = o->optimizer_bytes;
    p.zero_bubble = o->zero_bubble;
    double tokens = (double)o->global_batch * o->seq_len;
    double cap = o->max_mem_frac * s->acc.hbm_bytes;
    int nz = 4, nr = 3, rok[3], nrv = 0;
    for (int rc = 0; rc < nr; rc++)
        nrv += rok[rc] = !(o->fix_recompute >= 0 && rc != o->fix_recompute);
    sp_shape_mem mpre; /* of the current micro-batch; until then the parameter counts only */
    mpre.pc = *pc;
    /* per PP degree: DP, and the sequences per replica (0 when the replicas do not divide the batch), so a block
     * costs one 32-bit remainder */
    pp_state st[64];
    int dps[64], rep_batch[64];
    for (int ip = 0; ip < npp; ip++) {
        st[ip].ready = 0;
        dps[ip] = rest / pps[ip];
        long long replicas = (long long)dps[ip] * key->ep;
        rep_batch[ip] = o->global_batch % replicas ? 0 : (int)(o->global_batch / replicas);
    }
    for (int bs = 0; bs < nmb * key->nsp; bs++) {
        int b = bs / key->nsp, spv = key->sps[bs % key->nsp];
        p.micro_batch = mbs[b];
        p.seq_parallel = spv;
        if (ts->nthreads > 1)
            refresh_threshold(ts);
        sp_shape_step cache;
        int have_cache = 0, have_mpre = 0;
        for (int ip = 0; ip < npp; ip++) {
            int pp = pps[ip];
            int dp = dps[ip];
            p.pp = pp;
            p.dp = dp;
            int vmax = pp > 1 ? o->max_vpp : 1;
            long long block = (long long)vmax * nz * nr;
            ts->enumerated += block;
            int per = rep_batch[ip];
            if (!per || per % p.micro_batch) {
                ts->div += block;
                continue;
            }
            /* exact lower bound for everything below (see the file comment) */
            if (!o->no_prune && (ts->thr < INFINITY || o->max_objective > 0) && have_cache) {
                long long replicas = (long long)dp * key->ep;
                double n_micro = o->global_batch / (double)(replicas * p.micro_batch);
                double lps = sp_stage_layers(L, pp);
                const sp_layer_mix *x = &cache.mix;
                double lb = objective_step(o, s, n_micro * lps * (x->f_c + x->b_c + x->f_m + x->b_m) * LB_MARGIN, tokens, n);
                if (lb > ts->thr || (o->max_objective > 0 && lb > o->max_objective)) {
                    ts->pruned += block;
                    continue;
                }
            }
            pp_state *q = &st[ip];
            if (!q->ready) {
                /* which virtual stages, ZeRO stages are plans here (interleaving needs pp*v to divide the layers;
                 * ZeRO-3 is not combined with PP (Megatron, DeepSpeed) nor with frozen weights); the stage's
                 * parameters and model-state memory */
                q->ready = 1;
                q->dead[0] = q->dead[1] = q->has_dp = 0;
                q->nv = q->nzv = q->v0 = 0;
                q->vmask = 0;
                for (int v = 1; v <= vmax; v++)
                    if (!((o->fix_vpp && v != o->fix_vpp) || (v > 1 && L % (pp * v)))) {
                        q->vmask |= 1ull << (v - 1);
                        q->nv++;
                        if (!q->v0)
                            q->v0 = v;
                    }
                for (int z = 0; z < nz; z++)
                    q->nzv += q->zok[z] = !((o->fix_zero >= 0 && z != o->fix_zero) || (z == 3 && (pp > 1 || o->frozen_base)));
                q->empty = !q->nv || !q->nzv || !nrv;
                if (!q->empty) {
                    sp_stage_params_fill(m, &p, &mpre, &q->o.stage);
                    sp_mem_states_by_zero(m, &p, &mpre, &q->o.stage, q->mz);
                }
            }
            long long nplans = (long long)q->nv * q->nzv * nrv;
            if (q->empty) {
                ts->div += block;
                continue;
            }
            if (q->dead[spv]) {
                ts->mem += nplans;
                ts->div += block - nplans;
                continue;
            }
            if (!have_mpre) {
                sp_shape_mem_fill(m, s, &p, pc, &mpre);
                have_mpre = 1;
            }
            /* the least memory of the block: the least model states and the least activations, at the first
             * virtual stage count (activations only grow with v); when even that does not fit, no plan does */
            int zmin = -1, rmin = -1;
            for (int z = 0; z < nz; z++)
                if (q->zok[z] && (zmin < 0 || q->mz[z] < q->mz[zmin]))
                    zmin = z;
            p.vpp = 1;
            double held1, held, emb, act[3];
            sp_mem_act_terms(m, &p, &held1, &emb);
            held = q->v0 > 1 ? held1 * sp_mem_interleave_factor(pp, q->v0) : held1;
            for (int rc = 0; rc < nr; rc++) {
                act[rc] = sp_mem_act_total(sp_mem_act_layers(&mpre, rc, held), emb);
                if (rok[rc] && (rmin < 0 || act[rc] < act[rmin]))
                    rmin = rc;
            }
            double least = sp_mem_total(q->mz[zmin], act[rmin]);
            if (least > cap) {
                ts->mem += nplans;
                ts->div += block - nplans;
                note_overflow(ts, &p, zmin, rmin, least - cap);
                if (least > cap * DEAD_MARGIN) {
                    q->dead[spv] = 1;
                    if (spv)
                        q->dead[0] = 1;
                }
                continue;
            }
            sp_pipe_step *outer = &q->o; /* its schedule part is this micro-batch's once have_outer */
            int have_outer = 0;
            for (int v = 1; v <= vmax; v++) {
                if (!(q->vmask >> (v - 1) & 1)) {
                    ts->div += nz * nr;
                    continue;
                }
                p.vpp = v;
                if (v != q->v0) {
                    held = held1 * sp_mem_interleave_factor(pp, v); /* v > 1 here */
                    for (int rc = 0; rc < nr; rc++)
                        act[rc] = sp_mem_act_total(sp_mem_act_layers(&mpre, rc, held), emb);
                }
                for (int z = 0; z < nz; z++) {
                    if (!q->zok[z]) {
                        ts->div += nr;
                        continue;
                    }
                    for (int rc = 0; rc < nr; rc++) {
                        if (!rok[rc]) {
                            ts->div++;
                            continue;
                        }
                        double total = sp_mem_total(q->mz[z], act[rc]);
                        if (total > cap) {
                            ts->mem++;
                            if (total - cap <= ts->min_over)
                                note_overflow(ts, &p, z, rc, total - cap);
                            continue;
                        }
                        if (!have_cache) {
                            sp_shape_step_fill(m, s, &p, &ts->memo, &mpre, &cache);
                            have_cache = 1;
                        }
                        if (!have_outer) {
                            if (!q->has_dp) {
                                sp_pipe_step_dp(m, s, &p, &q->o);
                                q->has_dp = 1;
                            }
                            sp_pipe_step_schedule(m, s, &p, &cache, outer);
                            have_outer = 1;
                        }
                        /* the plan's step time; the full result only for a plan that can enter the top k */
                        double step = sp_plan_step_time(outer, v, z, rc, NULL);
                        if (!(isfinite(step) && step > 0)) {
                            ts->div++;
                            continue;
                        }
                        ts->evaluated++;
                        double obj = objective_step(o, s, step, tokens, n);
                        if (!o->on_plan && ((o->max_objective > 0 && obj > o->max_objective) ||
                                            obj > ts->thr))
                            continue;
                        sp_search_entry e;
                        p.zero = z;
                        p.recompute = (sp_recompute)rc;
                        e.plan = p;
                        e.objective = obj;
                        if (!o->on_plan && ts->n_top == k && plan_cmp(&e, &ts->top[k - 1]) >= 0)
                            continue;
                        sp_memory mem;
                        sp_plan_memory(m, s, &p, &mpre, &q->o.stage, &mem);
                        sp_error err;
                        if (sp_plan_step_result(m, s, &p, &cache, outer, &mem, &e.res, &err) != SP_OK)
                            continue; /* not reached: the step was checked above */
                        if (o->on_plan)
                            o->on_plan(o->ctx, &p, &e.res);
                        if (o->max_objective > 0 && e.objective > o->max_objective)
                            continue;
                        top_insert(ts->top, &ts->n_top, k, &e);
                        if (ts->n_top == k) {
                            double mine = ts->top[k - 1].objective;
#pragma omp atomic write
                            ts->kth[ts->self] = mine;
                            if (mine < ts->thr)
                                ts->thr = mine;
                        }
                    }
                }
            }
        }
    }
}

/* The micro-batches of units with expert parallelism ep, ascending: divisors of the largest per-replica batch
 * (dp*ep >= ep), or the fixed one; out may be NULL (count only). */
static int unit_mbs(const sp_search_opts *o, int ep, int *out)
{
    int mbs[256], nmb = divisors(o->global_batch / ep, mbs, 256), w = 0;
    for (int b = 0; b < nmb; b++)
        if (!o->fix_mb || mbs[b] == o->fix_mb) {
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

sp_status sp_search(const sp_model *m, const sp_system *s, const sp_search_opts *o, sp_search_result *r,
                    sp_error *err)
{
    memset(r, 0, sizeof *r);
    sp_status mk = sp_model_step_check(m, "training", err); /* layer kinds the step cannot price (model.c) */
    if (mk)
        return mk;
    if (o->n_gpus < 1)
        return sp_fail(err, SP_EINVAL, "search: --gpus must be >= 1");
    if (o->global_batch < 1)
        return sp_fail(err, SP_EINVAL, "search: --global-batch must be >= 1");
    if (o->top_k < 1 || o->top_k > SP_SEARCH_MAX_TOP)
        return sp_fail(err, SP_EINVAL, "search: --top %d; allowed 1..%d", o->top_k, SP_SEARCH_MAX_TOP);
    if (o->max_vpp < 1 || o->max_vpp > SP_SEARCH_MAX_VPP)
        return sp_fail(err, SP_EINVAL, "search: --max-vpp %d; allowed 1..%d", o->max_vpp, SP_SEARCH_MAX_VPP);
    if (s->max_accels > 0 && o->n_gpus > s->max_accels)
        return sp_fail(err, SP_EINVAL, "search: %d GPUs but system '%s' has %d", o->n_gpus, s->name, s->max_accels);
    sp_error e2 = {0};
    if (sp_accel_dtype_check(&s->acc, o->dtype, &e2))
        return sp_fail(err, SP_EINVAL, "search: %s", e2.msg);
    double t0 = now();
    /* layer shapes */
    int n = o->n_gpus, tps[64], ntp = divisors(n, tps, 64);
    int seq = o->seq_len;
    int cap_keys = 1 << 16;
    layer_key *keys = malloc(sizeof *keys * (size_t)cap_keys);
    if (!keys)
        return sp_fail(err, SP_ENOMEM, "search: out of memory");
    int nk = 0;
    long long div_skipped = 0, shapes = 0;
    for (int i = 0; i < ntp; i++) {
        int tp = tps[i];
        if (o->fix_tp && tp != o->fix_tp)
            continue;
        if (tp > m->n_heads || m->n_heads % tp || (m->n_kv_heads % tp && tp % m->n_kv_heads)) {
            div_skipped++;
            continue;
        }
        int cps[64], ncp = divisors(n / tp, cps, 64);
        for (int j = 0; j < ncp; j++) {
            int cp = cps[j];
            /* CP splits each sequence into 2·CP chunks (load-balanced causal attention) */
            int cp_bad = cp > 1 && (cp > seq / 2 || seq % (2 * cp));
            if ((o->fix_cp && cp != o->fix_cp) || cp_bad) {
                div_skipped += cp_bad;
                continue;
            }
            int eps[64], nep = sp_model_is_moe(m) ? divisors(n / (tp * cp), eps, 64) : 1;
            if (!sp_model_is_moe(m))
                eps[0] = 1;
            for (int q = 0; q < nep; q++) {
                int ep = eps[q];
                if ((o->fix_ep && ep != o->fix_ep) || (ep > 1 && m->n_experts % ep))
                    continue;
                int node = s->tier[0].size;
                if (!aligned(tp, node) || !aligned(tp * cp, node) || !aligned(tp * cp * ep, node)) {
                    div_skipped++;
                    continue;
                }
                /* micro-batches: divisors of the largest per-replica batch (dp*ep >= ep) */
                if (o->global_batch % ep) {
                    div_skipped++;
                    continue;
                }
                int nmb = unit_mbs(o, ep, NULL);
                if (!nmb)
                    continue;
                {
                    /* sequence parallelism needs TP > 1; with SP first when both are tried */
                    int nsp = 0, sps[2];
                    for (int spv = (tp > 1); spv >= 0; spv--)
                        if (o->fix_sp < 0 || spv == o->fix_sp)
                            sps[nsp++] = spv;
                    if (nsp) {
                        /* precision and expert TP: new key dimensions (issue 8) */
                        sp_dtype dts[2] = {o->dtype, SP_FP8};
                        int ndt = 1;
                        if (o->any_dtype) {
                            dts[0] = SP_BF16;
                            ndt = s->acc.peak[SP_FP8] > 0 ? 2 : 1;
                        }
                        int etps[64], netp = 1;
                        etps[0] = 0;
                        if (sp_model_is_moe(m) && ep > 1) { /* ETP <= TP (always tiles the GPUs) */
                            netp = divisors(tp, etps, 64);
                            int w = 0;
                            for (int e = 0; e < netp; e++)
                                if ((!o->fix_etp || etps[e] == o->fix_etp) && m->moe_ffn_dim % etps[e] == 0)
                                    etps[w++] = etps[e];
                            netp = w;
                        }
                        for (int di = 0; di < ndt; di++)
                            for (int e = 0; e < netp; e++) {
                                if (nk == cap_keys) { /* grow (setup, not the per-plan path), up to 4 Mi shapes */
                                    layer_key *grown = cap_keys < (1 << 22) ? realloc(keys, sizeof *keys * (size_t)cap_keys * 2) : NULL;
                                    if (!grown) {
                                        free(keys);
                                        return sp_fail(err, SP_EINVAL, "search: too many layer shapes; fix some dimensions with --fix");
                                    }
                                    keys = grown;
                                    cap_keys *= 2;
                                }
                                keys[nk++] = (layer_key){tp, cp, ep, nsp, {sps[0], nsp > 1 ? sps[1] : 0},
                                                         etps[e] == tp ? 0 : etps[e], dts[di]};
                                shapes += (long long)nmb * nsp;
                            }
                    }
                }
            }
        }
    }
    /* threads = 0: all cores for searches of SP_SEARCH_PARALLEL_SHAPES layer shapes or more; a smaller one takes
     * about a millisecond on one core, less than a one-shot process can pay to start its thread pool on a busy
     * machine (the first parallel region took 2-3 ms on this project's 2-core machine with another process on the
     * other core, against ~1 ms of search) */
    int nthreads = o->on_plan ? 1
                 : o->threads > 0 ? o->threads
                 : shapes >= SP_SEARCH_PARALLEL_SHAPES ? omp_get_max_threads() : 1;
    thread_state *ts = calloc((size_t)nthreads, sizeof *ts);
    if (!ts) {
        free(keys);
        return sp_fail(err, SP_ENOMEM, "search: out of memory");
    }
    double *kth = malloc(sizeof *kth * (size_t)nthreads);
    if (!kth) {
        free(ts);
        free(keys);
        return sp_fail(err, SP_ENOMEM, "search: out of memory");
    }
    for (int i = 0; i < nthreads; i++) {
        ts[i].min_over = INFINITY;
        ts[i].kth = kth;
        ts[i].self = i;
        ts[i].nthreads = nthreads;
        ts[i].thr = INFINITY;
        kth[i] = INFINITY;
    }
    sp_param_count pc;
    sp_model_params(m, &pc);
    long long shapes_done = 0;
    double t_start = now(), t_next = t_start + (o->progress_after_s > 0 ? o->progress_after_s : 0);
    int progressed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
    for (int i = 0; i < nk; i++) {
        int mbs[256], nmb = unit_mbs(o, keys[i].ep, mbs);
        run_key(m, s, o, &pc, &keys[i], mbs, nmb, &ts[omp_get_thread_num()]);
        if (o->on_progress) {
            long long d;
#pragma omp atomic capture
            d = shapes_done += (long long)nmb * keys[i].nsp;
            /* only thread 0 reports (the callback need not be thread-safe) */
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
    /* deterministic merge */
    sp_search_entry *all = malloc(sizeof *all * (size_t)nthreads * SP_SEARCH_MAX_TOP);
    int na = 0;
    r->min_overflow_bytes = INFINITY;
    for (int i = 0; i < nthreads; i++) {
        r->enumerated += ts[i].enumerated;
        r->infeasible_divisibility += ts[i].div;
        r->infeasible_memory += ts[i].mem;
        r->pruned += ts[i].pruned;
        r->evaluated += ts[i].evaluated;
        if (all)
            for (int j = 0; j < ts[i].n_top; j++)
                all[na++] = ts[i].top[j];
        if (ts[i].min_over < r->min_overflow_bytes ||
            (ts[i].min_over == r->min_overflow_bytes && isfinite(ts[i].min_over) &&
             plan_cmp(&(sp_search_entry){.plan = ts[i].min_over_plan}, &(sp_search_entry){.plan = r->min_overflow_plan}) < 0)) {
            r->min_overflow_bytes = ts[i].min_over;
            r->min_overflow_plan = ts[i].min_over_plan;
        }
    }
    r->infeasible_divisibility += div_skipped;
    r->enumerated += div_skipped;
    if (all) {
        qsort(all, (size_t)na, sizeof *all, qcmp);
        r->n_top = na < o->top_k ? na : o->top_k;
        memcpy(r->top, all, sizeof *all * (size_t)r->n_top);
    }
    free(all);
    free(kth);
    free(ts);
    free(keys);
    r->layer_shapes = (int)shapes;
    r->threads = nthreads;
    r->wall_time_s = now() - t0;
    r->plans_per_s = r->wall_time_s > 0 ? r->evaluated / r->wall_time_s : 0;
    if (r->n_top == 0)
        return sp_fail(err, SP_EINFEASIBLE, "search: no plan fits");
    return SP_OK;
}
