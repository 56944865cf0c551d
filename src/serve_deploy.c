/* The cheapest deployment meeting the SLOs at a target request rate (`serve --search`, docs/serving.md "Search").
 *
 * For every candidate system, tensor-parallel degree (1..node size, dividing the heads), pipeline depth (1, or 2
 * when one node's TP cannot hold the model), expert-parallel degree (MoE: 1 or the node size over TP) and weight
 * precision (bf16, fp8 where the accelerator has an FP8 peak, fp4 where FP4): one replica's highest rate meeting
 * the SLOs (sp_serve_max_rate), then the replica count that carries the target rate, ceil(target / that rate),
 * checked by one simulation of the whole deployment at the target rate (one replica more while it misses, at most
 * twice). The three cheapest co-located deployments are also tried disaggregated (a quarter and a half of their
 * replicas prefilling, the rest decoding, one more replica on each side when needed). Ranked by $ per million output
 * tokens, then J per token. Layouts that do not fit, miss the SLOs at every rate or need more than the GPU limit
 * are kept with the reason, so the report can say why each system loses. Each layout's runs use the search's
 * request count and bisection depth (fewer than a single `--max-rate` run), one allocation set per run. */
#include "scaleplan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVER_MIN_DURATION_S 600.0   /* MLPerf's server runs: loadgen/mlperf.conf *.Server.min_duration (ms / 1000) */
#define SEARCH_MAX_REQUESTS 2000000.0 /* a check run's cap (~2 s of CPU): 600 s at up to 3,333 req/s */

typedef struct {
    const sp_model *m;
    const sp_serve_workload *w;
    const sp_serve_opts *base;
    const sp_serve_search_opts *so;
    sp_serve_candidate *out;
    int max, n;
} srch;

static void add(srch *S, const sp_serve_candidate *c)
{
    if (S->n < S->max)
        S->out[S->n] = *c;
    S->n++;
}

/* Simulates the deployment of c at the target rate; fills its metrics; 1 when the P99s meet the SLOs. */
static int check_deploy(srch *S, const sp_system *s, const sp_serve_opts *o, sp_serve_candidate *c)
{
    sp_serve_opts x = *o;
    x.rate = S->so->rate;
    /* The verdict is a steady state: a run of MLPerf's minimum server duration (mlcommons/inference@001712e9
     * loadgen/mlperf.conf: *.Server.min_duration = 600000 ms) at the target rate. The bisection's short runs (800
     * requests, 40 s at 20 req/s) cannot see a queue that grows slowly: they passed layouts whose P99 TTFT is 12-27 s
     * over 600 s (Llama-3-70B at 20 req/s on one B200 in fp8, on two H100s at TP 2). */
    double n_min = ceil(x.rate * SERVER_MIN_DURATION_S);
    x.n_requests = n_min > S->so->n_requests ? (int)fmin(n_min, SEARCH_MAX_REQUESTS) : S->so->n_requests;
    sp_serve_result r;
    sp_error e = {0};
    if (sp_serve_simulate(S->m, s, S->w, &x, &r, &e)) {
        snprintf(c->why, sizeof c->why, "%.150s", e.msg);
        return 0;
    }
    c->usd_per_million_tokens = r.usd_per_million_tokens;
    c->energy_j_per_token = r.energy_j_per_token;
    c->throughput_tokens_per_s = r.throughput_tokens_per_s;
    c->ttft_p99_s = r.ttft_s[2];
    c->tpot_p99_s = r.tpot_s[2];
    c->ok = r.slo_met;
    if (!c->ok)
        snprintf(c->why, sizeof c->why, "misses the SLOs at %.3g req/s: P99 TTFT %.3g s, TPOT %.3g s", x.rate, r.ttft_s[2], r.tpot_s[2]);
    return c->ok;
}

/* Replicas for the target rate given one replica's max rate; verified (+1 replica up to twice). */
static void size_layout(srch *S, const sp_system *s, sp_serve_opts *o, double r1, sp_serve_candidate *c)
{
    int unit = o->tp * o->pp * o->ep;
    int reps = (int)ceil(S->so->rate / r1 * (1 + 1e-9));
    for (int k = 0; k < 3; k++, reps++) {
        o->n_gpus = reps * unit;
        c->gpus = o->n_gpus;
        if (o->n_gpus > S->so->max_gpus) {
            c->ok = 0;
            snprintf(c->why, sizeof c->why, "needs %d GPUs for %.3g req/s (one replica of %d GPUs carries %.3g req/s); limit %d", o->n_gpus,
                     S->so->rate, unit, r1, S->so->max_gpus);
            return;
        }
        if (check_deploy(S, s, o, c))
            return;
    }
}

static void try_layout(srch *S, const sp_system *s, int tp, int pp, int ep, sp_dtype wd)
{
    sp_serve_candidate c;
    memset(&c, 0, sizeof c);
    snprintf(c.system, sizeof c.system, "%s", s->name);
    c.usd_per_gpu_hour = s->usd_per_accel_hour;
    c.tp = tp;
    c.pp = pp;
    c.ep = ep;
    c.weights = wd;
    c.kv = wd == SP_BF16 ? SP_BF16 : SP_FP8;
    sp_serve_opts o = *S->base;
    o.tp = tp;
    o.pp = pp;
    o.ep = ep;
    o.n_gpus = tp * pp * ep;
    o.prefill_gpus = 0;
    o.weights = wd;
    o.kv = c.kv;
    o.n_requests = S->so->n_requests;
    o.bisect_steps = S->so->bisect_steps;
    sp_error e = {0};
    char fam[32];
    if (sp_serving_eff_load(S->so->data_dir, s->acc.name, &o.eff, &e) ||
        (!S->so->fixed_kernel_factor && sp_serve_calibrate(S->so->data_dir, s->acc.name, &o.stack, fam, sizeof fam, &e))) {
        snprintf(c.why, sizeof c.why, "%.150s", e.msg);
        add(S, &c);
        return;
    }
    sp_serve_result r;
    if (sp_serve_max_rate(S->m, s, S->w, &o, &r, &e)) {
        c.gpus = o.n_gpus;
        snprintf(c.why, sizeof c.why, "%.150s", e.msg);
        add(S, &c);
        return;
    }
    c.replica_rate = r.offered_rate;
    size_layout(S, s, &o, r.offered_rate, &c);
    add(S, &c);
}

/* Every layout of one system. */
static void system_layouts(srch *S, const sp_system *s)
{
    int node = s->n_tiers > 1 ? s->tier[0].size : 8;
    static const sp_dtype prec[] = {SP_BF16, SP_FP8, SP_FP4};
    int moe = sp_model_is_moe(S->m);
    for (int q = 0; q < 3; q++) {
        if (prec[q] != SP_BF16 && !(s->acc.peak[prec[q]] > 0))
            continue;
        int fitted = 0;
        for (int pp = 1; pp <= 2 && !fitted; pp++)
            for (int tp = 1; tp <= node; tp *= 2) {
                if (S->m->n_heads % tp || (S->m->n_kv_heads % tp && tp % S->m->n_kv_heads))
                    continue;
                for (int ep = 1; ep <= (moe ? node / tp : 1); ep *= 2) {
                    if (ep > 1 && S->m->n_experts % ep)
                        continue;
                    int before = S->n;
                    try_layout(S, s, tp, pp, ep, prec[q]);
                    fitted |= S->n > before && S->n <= S->max && (S->out[S->n - 1].ok || S->out[S->n - 1].replica_rate > 0);
                }
            }
    }
}

/* Meeting the SLOs first, then $ per million tokens, then J per token. Every deployment meeting the SLOs at the
 * target rate serves the same tokens/s in steady state (the offered load), so its $/M tokens is its $/hour over that
 * rate: compared as GPUs x $/GPU-hour, which the noise of a finite run's measured throughput cannot reorder (two
 * one-H100 layouts read $0.5027 and $0.5028 per million and the tie went to the bf16 one, 17 % more J/token). */
static int by_cost(const void *a, const void *b)
{
    const sp_serve_candidate *x = a, *y = b;
    if (x->ok != y->ok)
        return y->ok - x->ok;
    double cx = x->gpus * x->usd_per_gpu_hour, cy = y->gpus * y->usd_per_gpu_hour;
    if (x->ok && cx != cy)
        return cx < cy ? -1 : 1;
    if (x->ok && x->energy_j_per_token != y->energy_j_per_token)
        return x->energy_j_per_token < y->energy_j_per_token ? -1 : 1;
    return strcmp(x->system, y->system);
}

/* The cheapest three co-located deployments, disaggregated with 1/4 and 1/2 of their replicas prefilling. */
static void disaggregated(srch *S, const sp_system *sys, int nsys)
{
    int n = S->n < S->max ? S->n : S->max;
    qsort(S->out, n, sizeof *S->out, by_cost);
    for (int i = 0, tried = 0; i < n && tried < 3; i++) {
        sp_serve_candidate base = S->out[i];
        if (!base.ok || base.prefill_gpus > 0)
            continue;
        tried++;
        const sp_system *s = NULL;
        for (int k = 0; k < nsys; k++)
            if (strcmp(sys[k].name, base.system) == 0)
                s = &sys[k];
        int unit = base.tp * base.pp * base.ep, reps = base.gpus / unit, last_pf = 0;
        for (int f = 4; f >= 2 && s; f /= 2) {
            if ((reps / f > 0 ? reps / f : 1) == last_pf)
                continue; /* the same split as the previous fraction */
            last_pf = reps / f > 0 ? reps / f : 1;
            sp_serve_candidate c = base;
            sp_serve_opts o = *S->base;
            o.tp = c.tp, o.pp = c.pp, o.ep = c.ep, o.weights = c.weights, o.kv = c.kv;
            sp_error e = {0};
            char fam[32];
            if (sp_serving_eff_load(S->so->data_dir, s->acc.name, &o.eff, &e) ||
                (!S->so->fixed_kernel_factor && sp_serve_calibrate(S->so->data_dir, s->acc.name, &o.stack, fam, sizeof fam, &e)))
                continue;
            int pf = reps / f > 0 ? reps / f : 1, dec = reps - pf > 0 ? reps - pf : 1;
            for (int k = 0; k < 3; k++) {
                o.prefill_gpus = pf * unit;
                o.n_gpus = (pf + dec) * unit;
                c.gpus = o.n_gpus;
                c.prefill_gpus = o.prefill_gpus;
                if (o.n_gpus > S->so->max_gpus || check_deploy(S, s, &o, &c))
                    break;
                pf += k % 2 == 0;
                dec += k % 2 == 1;
            }
            if (o.n_gpus <= S->so->max_gpus)
                add(S, &c);
        }
    }
}

sp_status sp_serve_search(const sp_model *m, const sp_system *systems, int nsys, const sp_serve_workload *w,
                          const sp_serve_opts *base, const sp_serve_search_opts *so, sp_serve_candidate *out, int max,
                          int *n, sp_error *err)
{
    *n = 0;
    if (!(so->rate > 0) || !isfinite(so->rate))
        return sp_fail(err, SP_EINVAL, "serve --search: --rate %g; allowed a target request rate > 0 per second", so->rate);
    double ts = base->ttft_slo_s > 0 ? base->ttft_slo_s : w->ttft_slo_s, ps = base->tpot_slo_s > 0 ? base->tpot_slo_s : w->tpot_slo_s;
    if (!(ts > 0) && !(ps > 0))
        return sp_fail(err, SP_EINVAL, "serve --search needs SLOs (--ttft-p99, --tpot-p99 or a workload scenario with them)");
    if (w->arrival != SP_ARR_POISSON && w->arrival != SP_ARR_GAMMA)
        return sp_fail(err, SP_EINVAL, "serve --search needs open-loop arrivals (poisson or gamma) at the target rate");
    srch S = {m, w, base, so, out, max, 0};
    for (int k = 0; k < nsys; k++)
        system_layouts(&S, &systems[k]);
    if (so->try_disagg)
        disaggregated(&S, systems, nsys);
    *n = S.n < max ? S.n : max;
    qsort(out, *n, sizeof *out, by_cost);
    return SP_OK;
}
