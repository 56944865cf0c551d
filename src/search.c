/* Exhaustive parallel-plan search (DESIGN.md §3.7).
 *
 * Plans are enumerated as layer shapes (TP, CP, EP, micro-batch, SP, expert TP, precision) × pipeline shapes (PP, virtual stages) ×
 * ZeRO stage × recompute. Everything that depends only on the layer shape (the GEMMs, attention, TP/CP/EP
 * communication of one layer, the LM head) is costed once per layer shape (sp_step_layers); each plan then only
 * assembles the schedule, pipeline, DP/ZeRO and optimizer terms (sp_step_assemble) after a memory check.
 *
 * Pruning is exact: for a layer shape and PP degree, no plan can be faster than
 *   n_micro × (layers on the heaviest stage) × (forward + backward compute and memory time of one layer),
 * because the step adds recompute, communication, the bubble, DP and the optimizer on top. When that bound is
 * not below the current k-th best, the whole (vpp, ZeRO, recompute) block is skipped. Each thread keeps its own
 * top-k (its threshold is never below the global one, so nothing that belongs to the global top-k is pruned);
 * the merge sorts by objective with a total tie-break order, so the answer does not depend on thread count.
 */
#include "scaleplan.h"
#include "step_internal.h"

#include <math.h>
#include <omp.h>
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

typedef struct {
    int tp, cp, ep, mb, sp;
    int etp;        /* expert TP (MoE; 0 for dense models) */
    sp_dtype dtype; /* GEMM precision */
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
    long long enumerated, div, mem, pruned, evaluated;
    double min_over;
    sp_plan min_over_plan;
    sp_search_entry top[SP_SEARCH_MAX_TOP];
    int n_top;
    sp_gemm_memo memo;
} thread_state;

/* objective of a plan from its step time (the same expressions as objective_of on its full result) */
static double objective_step(const sp_search_opts *o, const sp_system *s, double step, double tokens, int n)
{
    switch (o->objective) {
    case SP_OBJ_TOKENS_PER_S: return -(tokens / step);
    case SP_OBJ_COST: return step * n * (s->usd_per_accel_hour > 0 ? s->usd_per_accel_hour : 1) / 3600;
    case SP_OBJ_TIME: break;
    }
    return step;
}

static void run_key(const sp_model *m, const sp_system *s, const sp_search_opts *o, const layer_key *key,
                    thread_state *ts)
{
    int n = o->n_gpus, L = m->n_layers, k = o->top_k;
    int rest = n / (key->tp * key->cp * key->ep);
    int pps[64];
    int npp = divisors(rest, pps, 64);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = n;
    p.tp = key->tp;
    p.cp = key->cp;
    p.ep = key->ep;
    p.micro_batch = key->mb;
    p.seq_parallel = key->sp;
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
    double tokens = (double)o->global_batch * o->seq_len;
    sp_step_cache cache;
    int have_cache = 0;
    sp_mem_pre mpre;
    sp_mem_pre_fill(m, s, &p, &mpre);
    double cap = o->max_mem_frac * s->acc.hbm_bytes;
    int nz = 4, nr = 3;
    for (int ip = 0; ip < npp; ip++) {
        int pp = pps[ip];
        if (pp > L || (o->fix_pp && pp != o->fix_pp))
            continue;
        int dp = rest / pp;
        if (o->fix_dp && dp != o->fix_dp)
            continue;
        p.pp = pp;
        p.dp = dp;
        long long replicas = (long long)dp * key->ep;
        int vmax = pp > 1 ? o->max_vpp : 1;
        long long block = (long long)vmax * nz * nr;
        if (o->global_batch % (replicas * key->mb)) {
            ts->enumerated += block;
            ts->div += block;
            continue;
        }
        double n_micro = o->global_batch / (double)(replicas * key->mb);
        /* exact lower bound for everything below (see the file comment) */
        if (!o->no_prune && (ts->n_top == k || o->max_objective > 0) && have_cache) {
            double lps = ceil((double)L / pp);
            int moe = sp_model_is_moe(m);
            double mf = moe ? (L - m->first_dense_layers) / (double)L : 0;
            const layer_cost *d = &cache.dense, *sp = &cache.sparse;
            double layer = (1 - mf) * (d->fwd_compute + d->bwd_compute + d->fwd_mem + d->bwd_mem) +
                           mf * (moe ? sp->fwd_compute + sp->bwd_compute + sp->fwd_mem + sp->bwd_mem : 0);
            double lb = objective_step(o, s, n_micro * lps * layer, tokens, n);
            if ((ts->n_top == k && lb > ts->top[k - 1].objective) || (o->max_objective > 0 && lb > o->max_objective)) {
                ts->enumerated += block;
                ts->pruned += block;
                continue;
            }
        }
        /* the stage's parameters and the two parts of the memory: model states by ZeRO stage (full, for the
         * result), activations by (virtual stages, recompute) (totals; the result recomputes its own) */
        sp_step_outer outer;
        sp_stage_fill(m, &p, &mpre, &outer.st);
        int have_outer = 0;
        sp_memory mstat[4];
        for (int z = 0; z < nz; z++) {
            p.zero = z;
            sp_mem_static(m, &p, &mpre, &outer.st, &mstat[z]);
        }
        for (int v = 1; v <= vmax; v++) {
            /* interleaving needs pp*v to divide the layers */
            if ((o->fix_vpp && v != o->fix_vpp) || (v > 1 && L % (pp * v))) {
                ts->enumerated += nz * nr;
                ts->div += nz * nr;
                continue;
            }
            p.vpp = v;
            double held, emb, act[3];
            sp_mem_act_terms(m, &p, &held, &emb);
            for (int rc = 0; rc < nr; rc++)
                act[rc] = sp_mem_act_layers(&mpre, rc, held) + emb;
            for (int z = 0; z < nz; z++) {
                /* ZeRO-3 is not combined with PP (Megatron, DeepSpeed) */
                if ((o->fix_zero >= 0 && z != o->fix_zero) || (z == 3 && (pp > 1 || o->frozen_base))) {
                    ts->enumerated += nr;
                    ts->div += nr;
                    continue;
                }
                double mz = mstat[z].total;
                for (int rc = 0; rc < nr; rc++) {
                    ts->enumerated++;
                    if (o->fix_recompute >= 0 && rc != o->fix_recompute) {
                        ts->div++;
                        continue;
                    }
                    double total = mz + act[rc];
                    if (total > cap) {
                        ts->mem++;
                        if (total - cap < ts->min_over) {
                            ts->min_over = total - cap;
                            ts->min_over_plan = p;
                            ts->min_over_plan.zero = z;
                            ts->min_over_plan.recompute = (sp_recompute)rc;
                        }
                        continue;
                    }
                    if (!have_cache) {
                        sp_step_layers(m, s, &p, &ts->memo, &cache);
                        have_cache = 1;
                    }
                    if (!have_outer) {
                        sp_step_outer_fill(m, s, &p, &cache, &outer);
                        have_outer = 1;
                    }
                    /* the plan's step time; the full result only for a plan that can enter the top k */
                    double step = sp_step_time(&outer, v, z, rc, NULL);
                    if (!(isfinite(step) && step > 0)) {
                        ts->div++;
                        continue;
                    }
                    ts->evaluated++;
                    double obj = objective_step(o, s, step, tokens, n);
                    if (!o->on_plan && ((o->max_objective > 0 && obj > o->max_objective) ||
                                        (ts->n_top == k && obj > ts->top[k - 1].objective)))
                        continue;
                    sp_search_entry e;
                    p.zero = z;
                    p.recompute = (sp_recompute)rc;
                    e.plan = p;
                    e.objective = obj;
                    if (!o->on_plan && ts->n_top == k && plan_cmp(&e, &ts->top[k - 1]) >= 0)
                        continue;
                    sp_memory mact, mem;
                    sp_mem_activations(m, &p, &mpre, &mact);
                    sp_mem_combine(&mstat[z], &mact, s->acc.hbm_bytes, &mem);
                    sp_error err;
                    if (sp_step_assemble_outer(m, s, &p, &cache, &outer, &mem, &e.res, &err) != SP_OK)
                        continue; /* not reached: the step was checked above */
                    if (o->on_plan)
                        o->on_plan(o->ctx, &p, &e.res);
                    if (o->max_objective > 0 && e.objective > o->max_objective)
                        continue;
                    top_insert(ts->top, &ts->n_top, k, &e);
                }
            }
        }
    }
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
    double t0 = now();
    /* layer shapes */
    int n = o->n_gpus, tps[64], ntp = divisors(n, tps, 64);
    int seq = o->seq_len;
    int cap_keys = 1 << 16;
    layer_key *keys = malloc(sizeof *keys * (size_t)cap_keys);
    if (!keys)
        return sp_fail(err, SP_ENOMEM, "search: out of memory");
    int nk = 0;
    long long div_skipped = 0;
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
                int per = o->global_batch / ep;
                if (o->global_batch % ep) {
                    div_skipped++;
                    continue;
                }
                int mbs[256], nmb = divisors(per, mbs, 256);
                for (int b = 0; b < nmb; b++) {
                    if (o->fix_mb && mbs[b] != o->fix_mb)
                        continue;
                    for (int spv = 0; spv <= (tp > 1); spv++) {
                        if (o->fix_sp >= 0 && spv != o->fix_sp)
                            continue;
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
                                keys[nk++] = (layer_key){tp, cp, ep, mbs[b], spv, etps[e] == tp ? 0 : etps[e], dts[di]};
                            }
                    }
                }
            }
        }
    }
    int nthreads = o->on_plan ? 1 : (o->threads > 0 ? o->threads : omp_get_max_threads());
    thread_state *ts = calloc((size_t)nthreads, sizeof *ts);
    if (!ts) {
        free(keys);
        return sp_fail(err, SP_ENOMEM, "search: out of memory");
    }
    for (int i = 0; i < nthreads; i++)
        ts[i].min_over = INFINITY;
    long long keys_done = 0;
    double t_start = now(), t_next = t_start + (o->progress_after_s > 0 ? o->progress_after_s : 0);
    int progressed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
    for (int i = 0; i < nk; i++) {
        run_key(m, s, o, &keys[i], &ts[omp_get_thread_num()]);
        if (o->on_progress) {
            long long d;
#pragma omp atomic capture
            d = ++keys_done;
            /* only thread 0 reports (the callback need not be thread-safe) */
            if (omp_get_thread_num() == 0) {
                double t = now();
                if (t >= t_next) {
                    o->on_progress(o->progress_ctx, d, nk, t - t_start);
                    progressed = 1;
                    t_next = t + 0.25;
                }
            }
        }
    }
    if (o->on_progress && progressed)
        o->on_progress(o->progress_ctx, nk, nk, now() - t_start);
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
    free(ts);
    free(keys);
    r->layer_shapes = nk;
    r->threads = nthreads;
    r->wall_time_s = now() - t0;
    r->plans_per_s = r->wall_time_s > 0 ? r->evaluated / r->wall_time_s : 0;
    if (r->n_top == 0)
        return sp_fail(err, SP_EINFEASIBLE, "search: no plan fits");
    return SP_OK;
}
