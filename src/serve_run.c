/* Serving simulator: checks, setup (the only allocations), the event loop and the statistics (docs/serving.md).
 * Events are arrivals (in time order from the request table, or from a heap for closed-loop users and KV
 * transfers of disaggregated serving) and step ends of the engines; the earliest is processed next (a step end
 * before an arrival at the same instant). */
#include "scaleplan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "serve_internal.h"

static sp_status check(const sp_model *m, const sp_serve_workload *w, const sp_serve_opts *o, sp_error *err)
{
    int unit = o->tp * o->pp * o->ep;
    if (o->tp < 1 || o->pp < 1 || o->ep < 1 || o->n_gpus < 1 || o->n_gpus % unit)
        return sp_fail(err, SP_EINVAL, "serve: --gpus %d must be a positive multiple of tp*pp*ep = %d*%d*%d", o->n_gpus, o->tp,
                       o->pp, o->ep);
    if (o->prefill_gpus < 0 || o->prefill_gpus % unit || (o->prefill_gpus > 0 && o->prefill_gpus >= o->n_gpus))
        return sp_fail(err, SP_EINVAL, "serve: --prefill-gpus %d must be a multiple of tp*pp*ep = %d below --gpus %d (the rest decode)",
                       o->prefill_gpus, unit, o->n_gpus);
    if (o->n_requests < 1 || o->n_requests > 20000000)
        return sp_fail(err, SP_EINVAL, "serve: --requests %d; allowed 1..20000000", o->n_requests);
    int open = w->arrival == SP_ARR_POISSON || w->arrival == SP_ARR_GAMMA;
    if (open && !(o->rate > 0 && isfinite(o->rate)))
        return sp_fail(err, SP_EINVAL, "serve: --rate %g; allowed a request rate > 0 per second", o->rate);
    if ((w->prompt.kind == SP_LEN_TRACE || w->arrival == SP_ARR_TRACE) && w->n_trace < 1)
        return sp_fail(err, SP_EINVAL, "serve: the workload needs a trace (--trace FILE) and it has no rows");
    if (o->pp > m->n_layers)
        return sp_fail(err, SP_EINVAL, "serve: --pp %d exceeds the %d layers of %s", o->pp, m->n_layers, m->name);
    return SP_OK;
}

/* KV-cache tokens one replica holds: usable HBM minus weights, runtime overhead and the activations of one full
 * token budget, over the KV bytes per token on each GPU (infer's memory model, src/infer.c). */
static sp_status capacity(const sp_model *m, const sp_system *s, const sp_serve_opts *o, double *tokens, sp_error *err)
{
    sp_infer_opts io;
    sp_infer_defaults(&io);
    io.tp = o->tp;
    io.pp = o->pp;
    io.ep = o->ep;
    io.n_gpus = o->tp * o->pp * o->ep;
    io.weights = o->weights;
    io.kv = o->kv;
    io.eff = o->eff;
    io.mem_frac = o->stack.mem_frac;
    io.batch = 1;
    io.prompt = o->stack.max_num_tokens;
    io.output = 0;
    sp_infer_result r;
    sp_status rc = sp_infer_eval(m, s, &io, &r, err);
    if (rc)
        return rc;
    double usable = io.mem_frac * r.capacity;
    double free_b = usable - r.weights_bytes - r.overhead_bytes - r.activation_bytes;
    double per_tok = r.kv_bytes / io.prompt;
    double states = 0; /* hybrid models: a state slot per running sequence (vLLM sizes its Mamba cache by
                          max_num_seqs), the blocks hold the attention layers' KV */
    if (r.state_bytes_per_seq > 0 && r.kv_bytes_per_token > 0) {
        double tok_gpu = r.kv_bytes * r.kv_bytes_per_token * io.prompt /
                         (r.kv_bytes_per_token * io.prompt + r.state_bytes_per_seq); /* this GPU's KV part */
        states = (r.kv_bytes - tok_gpu) * o->stack.max_num_seqs;
        free_b -= states;
        per_tok = tok_gpu / io.prompt;
    }
    if (!(free_b > 0) || !(per_tok > 0))
        return sp_fail(err, SP_EINVAL,
                       "serve: %s does not fit on %s with tp*pp*ep = %d: weights %.1f GiB + runtime %.1f GiB + activations %.1f GiB "
                       "+ recurrent states %.1f GiB (%d sequences) per GPU exceed %.0f %% of %.0f GiB",
                       m->name, s->acc.name, io.n_gpus, r.weights_bytes / 1073741824.0, r.overhead_bytes / 1073741824.0,
                       r.activation_bytes / 1073741824.0, states / 1073741824.0, o->stack.max_num_seqs, io.mem_frac * 100,
                       r.capacity / 1073741824.0);
    *tokens = free_b / per_tok;
    return SP_OK;
}

static void sim_free(sv_sim *S)
{
    free(S->r);
    free(S->e);
    free(S->heap);
    free(S->run_all);
    free(S->ref_all);
    free(S->res_all);
    free(S->last_all);
}

static sp_status sim_alloc(sv_sim *S, int n_pf_eng, int n_dec_eng, int blocks, sp_error *err)
{
    S->ne = n_pf_eng + n_dec_eng;
    size_t g = S->groups > 0 ? (size_t)S->groups : 1;
    S->r = malloc(sizeof *S->r * S->n);
    S->e = calloc(S->ne, sizeof *S->e);
    S->heap = malloc(sizeof *S->heap * (S->n + 1));
    S->run_all = malloc(sizeof(int) * S->ne * (size_t)S->max_seqs);
    S->ref_all = calloc(S->ne * g, sizeof(int));
    S->res_all = calloc(S->ne * g, 1);
    S->last_all = calloc(S->ne * g, sizeof(double));
    if (!S->r || !S->e || !S->heap || !S->run_all || !S->ref_all || !S->res_all || !S->last_all)
        return sp_fail(err, SP_ENOMEM, "serve: out of memory for %d requests on %d engines", S->n, S->ne);
    for (int i = 0; i < S->ne; i++) {
        sv_eng *e = &S->e[i];
        e->role = n_pf_eng == 0 ? SV_ROLE_BOTH : i < n_pf_eng ? SV_ROLE_PREFILL : SV_ROLE_DECODE;
        e->run = S->run_all + (size_t)i * S->max_seqs;
        e->ref = S->ref_all + i * g;
        e->res = S->res_all + i * g;
        e->last = S->last_all + i * g;
        e->total = e->free = blocks;
    }
    return SP_OK;
}

/* The least loaded engine of the role that takes `kind`. */
static sv_eng *route(sv_sim *S, int kind)
{
    sv_eng *best = NULL;
    int bl = 0;
    for (int i = 0; i < S->ne; i++) {
        sv_eng *e = &S->e[i];
        if ((kind == SV_EV_TRANSFER) != (e->role == SV_ROLE_DECODE))
            continue;
        int load = e->n_run + e->nwait;
        if (!best || load < bl) {
            best = e;
            bl = load;
        }
    }
    return best;
}

static void dispatch(sv_sim *S, int id, int kind)
{
    sv_eng *e = route(S, kind);
    sv_req *r = &S->r[id];
    if (kind == SV_EV_TRANSFER)
        r->done = r->target;
    sv_enqueue(S, e, id, 0);
    if (!e->busy)
        sv_try_start(S, e);
}

/* KV of the prompt (and first token) moved from a prefill to a decode engine: the shards of the tp x pp GPUs move
 * in parallel, point to point across the first tier outside one scale-up domain. */
static double xfer_time(sv_sim *S, const sv_req *r)
{
    double bytes = sp_kv_bytes_per_token(S->m, S->o->kv) * (r->prompt + 1) / (S->o->tp * S->o->pp);
    int stride = S->s->n_tiers > 1 ? S->s->tier[0].size : 1;
    return sp_collective_time(S->s, SP_COLL_P2P, 2, stride, bytes);
}

static void cache_prefix(sv_sim *S, sv_eng *e, sv_req *r)
{
    if (!S->o->stack.prefix_caching || r->group < 0 || r->shared || S->pb < 1 || e->res[r->group] || r->blocks < S->pb)
        return;
    e->res[r->group] = 1;
    e->ref[r->group] = 1;
    e->last[r->group] = S->t;
    r->blocks -= S->pb;
    r->shared = 1;
}

static void finished(sv_sim *S, sv_eng *e, sv_req *r)
{
    r->finish = S->t;
    sv_release(S, e, r);
    S->done++;
    if (S->w->arrival == SP_ARR_CLOSED && S->created < S->n) {
        int id = S->created++;
        S->r[id].arrival = S->t + sv_think(S);
        sv_push(S, S->r[id].arrival, id, SV_EV_ARRIVAL);
    }
}

static void finish_step(sv_sim *S, sv_eng *e)
{
    S->t = e->t_end;
    int w = 0;
    for (int i = 0; i < e->n_run; i++) {
        int id = e->run[i];
        sv_req *r = &S->r[id];
        if (r->chunk > 0) {
            if (r->done < r->target) {
                r->done += r->chunk;
                if (r->done >= r->target) {
                    cache_prefix(S, e, r);
                    if (r->gen++ == 0)
                        r->first = S->t;
                    if (e->role == SV_ROLE_PREFILL && r->gen < r->output) {
                        r->chunk = 0;
                        sv_release(S, e, r);
                        double x = xfer_time(S, r);
                        S->xfer_sum += x;
                        sv_push(S, S->t + x, id, SV_EV_TRANSFER);
                        continue;
                    }
                }
            } else
                r->gen++;
            r->chunk = 0;
            if (r->gen >= r->output) {
                finished(S, e, r);
                continue;
            }
        }
        e->run[w++] = id;
    }
    e->n_run = w;
    e->busy = 0;
    sv_try_start(S, e);
}

static sp_status run_loop(sv_sim *S, int n_open, sp_error *err)
{
    while (S->done < S->n) {
        double ta = S->next_arr < n_open ? S->r[S->next_arr].arrival : INFINITY;
        int from_heap = S->nh > 0 && S->heap[0].t < ta;
        if (from_heap)
            ta = S->heap[0].t;
        sv_eng *be = NULL;
        for (int i = 0; i < S->ne; i++)
            if (S->e[i].busy && (!be || S->e[i].t_end < be->t_end))
                be = &S->e[i];
        if (!be && ta == INFINITY)
            return sp_fail(err, SP_EINVAL, "serve: internal error: no event left with %d of %d requests done", S->done, S->n);
        double tn = be && be->t_end <= ta ? be->t_end : ta;
        S->q_int += S->nwait_total * (tn - S->t_last);
        S->t_last = tn;
        if (be && be->t_end <= ta)
            finish_step(S, be);
        else {
            S->t = ta;
            sv_ev ev = from_heap ? sv_pop(S) : (sv_ev){ta, S->next_arr++, SV_EV_ARRIVAL};
            dispatch(S, ev.id, ev.kind);
        }
        if (S->nwait_total > S->q_max)
            S->q_max = S->nwait_total;
        if (S->nwait_total > 0)
            S->t_backlog = S->t; /* last instant with requests waiting: the engines were full until here */
    }
    return SP_OK;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array; NAN when empty. */
static double pct(const double *v, int n, double p)
{
    if (n < 1)
        return NAN;
    int i = (int)ceil(p * n) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void fill_pcts(double *v, int n, double out[4])
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    qsort(v, n, sizeof *v, cmp_d);
    out[0] = pct(v, n, 0.50);
    out[1] = pct(v, n, 0.90);
    out[2] = pct(v, n, 0.99);
    out[3] = n > 0 ? sum / n : NAN;
}

/* Energy and cost per token and per request of the measured steady state (the window of the throughput): the
 * deployment's GPUs at the activity of the window's model FLOP utilisation (src/energy.c) and the system's
 * $/GPU-hour, over the window's output tokens and requests per second. The whole run (ramp-up from empty engines,
 * drain of the last requests) read 10 % more per token on MLPerf's H100 x8 server row ($0.244 against $0.221 per
 * million, 8 GPUs x $2.50/h over 25,119 tokens/s) and 14 % more on 2,000 ShareGPT requests at 20/s on one H100. MFU: the window's prompt and output tokens per second at the FLOPs per
 * token the run's steps did (recomputation after preemptions included). */
static sp_status energy(const sv_sim *S, sp_serve_result *res, sp_error *err)
{
    double peak = sp_accel_peak(&S->s->acc, S->o->weights == SP_FP8 || S->o->weights == SP_FP4 ? S->o->weights : SP_BF16);
    double tokens = 0;
    for (int i = 0; i < S->n; i++)
        tokens += S->r[i].prompt + S->r[i].output - 1; /* the steps' tokens: the first output comes with the prompt */
    double per_tok = tokens > 0 ? S->flops / tokens : 0, rate = res->input_tokens_per_s + res->throughput_tokens_per_s;
    res->mfu = peak > 0 ? fmin(1, per_tok * rate / (peak * S->o->n_gpus)) : 0;
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    sp_energy_result er;
    sp_status rc = sp_energy_estimate(S->s, S->o->n_gpus, 1.0 / 3600, res->mfu, &eo, &er, err); /* one second */
    if (rc)
        return rc;
    double joules = er.energy_kwh * 3.6e6, out = res->throughput_tokens_per_s;
    res->power_w = er.facility_w * S->o->n_gpus;
    res->energy_j_per_token = out > 0 ? joules / out : NAN;
    res->energy_j_per_request = res->requests_per_s > 0 ? joules / res->requests_per_s : NAN;
    res->usd_per_million_tokens = out > 0 ? er.cloud_usd / out * 1e6 : NAN;
    return SP_OK;
}

static void keep_requests(const sv_sim *S, sp_serve_result *res)
{
    if (!res->req)
        return;
    for (int i = 0; i < S->n; i++) {
        const sv_req *r = &S->r[i];
        sp_serve_request *q = &res->req[i];
        q->arrival_s = r->arrival;
        q->ttft_s = r->first - r->arrival;
        q->e2e_s = r->finish - r->arrival;
        q->tpot_s = r->output > 1 ? (r->finish - r->first) / (r->output - 1) : NAN;
        q->prompt = r->prompt;
        q->output = r->output;
        q->preemptions = r->npre;
        q->prefix_hit = r->hit;
    }
}

/* Share of r's output tokens produced by time t (its first token at `first`, the rest spread evenly to `finish`). */
static double tok_share(const sv_req *r, double t)
{
    if (r->first > t)
        return 0;
    if (r->finish <= t || r->output < 2)
        return 1;
    return (1 + (r->output - 1) * (t - r->first) / (r->finish - r->first)) / r->output;
}

/* Start of an open-loop run's measurement window: past its warm-up. The engines start empty, so over [t0, tw] the
 * requests still running at tw miss part of their tokens and nothing at t0 makes up for them (H100 x8 at MLPerf's
 * server rate, 24,576 requests, mean E2E 24.5 s in a 279 s window: 23,554 tokens/s where rate x mean output is
 * 25,203). Deleting the initial transient is the textbook remedy (A. M. Law, Simulation Modeling and Analysis,
 * chapter 9, "the problem of the initial transient"); the cut here is the run's P99 E2E, after which the requests
 * in flight have turned over (this model's choice, not the book's), at most half the window. e2e: n doubles. */
static double window_start(const sv_sim *S, double t0, double tw, double *e2e)
{
    for (int i = 0; i < S->n; i++)
        e2e[i] = S->r[i].finish - S->r[i].arrival;
    qsort(e2e, S->n, sizeof *e2e, cmp_d);
    return fmin(t0 + pct(e2e, S->n, 0.99), t0 + 0.5 * (tw - t0));
}

/* Latency percentiles, throughput, goodput under the SLOs, queue and KV statistics. buf holds 3 x n doubles.
 * Requests per second count each request by the share of its output produced inside the window, as the tokens are:
 * counting only the completions read 78.6 requests/s at 88.9 offered (MLPerf H100 x8 server, 24,576 requests), the
 * requests still running at the window's end (rate x E2E of them) having none of their share counted. */
/* The run [t0, t1] and the window [tw0, tw] its rates are measured over. */
static void measure_window(const sv_sim *S, double *e2e, double *t0p, double *t1p, double *twp, double *tw0p)
{
    double t0 = INFINITY, t1 = 0, ta = 0;
    for (int i = 0; i < S->n; i++) {
        t0 = fmin(t0, S->r[i].arrival);
        t1 = fmax(t1, S->r[i].finish);
        ta = fmax(ta, S->r[i].arrival);
    }
    /* Open-loop arrivals: rates are measured over the arrival window (the steady state a long MLPerf run sees),
     * counting the tokens produced inside it (a request's tokens spread evenly from its first to its last);
     * otherwise over the whole run. */
    int window = (S->w->arrival == SP_ARR_POISSON || S->w->arrival == SP_ARR_GAMMA || S->w->arrival == SP_ARR_TRACE) && ta > t0;
    double tw = window ? ta : t1;
    /* Offline: over the time the engines stayed full (requests waiting), the steady state of MLPerf's offline runs
     * of 24k-300k samples; the drain of a finite run (a shrinking last batch) is left out. Half the run at least,
     * so that a run without a backlog is measured whole. */
    if (S->w->arrival == SP_ARR_OFFLINE && S->t_backlog > t0 + 0.5 * (t1 - t0))
        tw = S->t_backlog;
    /* A window that holds fewer than half the completions measures no steady state (issue 24: 50 requests at 1e6/s
     * arrive within 50 us, none completes in it, and the run read 0 tokens/s): measure the whole run instead. */
    if (window) {
        int done = 0;
        for (int i = 0; i < S->n; i++)
            done += S->r[i].finish <= tw;
        if (2 * done < S->n)
            tw = t1;
    }
    *tw0p = window && tw < t1 ? window_start(S, t0, tw, e2e) : t0;
    *t0p = t0, *t1p = t1, *twp = tw;
}

static sp_status stats(const sv_sim *S, double *buf, sp_serve_result *res, sp_error *err)
{
    double *ttft = buf, *tpot = buf + S->n, *e2e = buf + 2 * (size_t)S->n;
    double t0, t1, tw, tw0, out = 0, out_all = 0, in = 0, good = 0;
    int nt = 0, hits = 0;
    double ngood = 0, nreq = 0;
    double ts = res->ttft_slo_s, ps = res->tpot_slo_s;
    measure_window(S, e2e, &t0, &t1, &tw, &tw0);
    for (int i = 0; i < S->n; i++) {
        const sv_req *r = &S->r[i];
        ttft[i] = r->first - r->arrival;
        e2e[i] = r->finish - r->arrival;
        double tp = r->output > 1 ? (r->finish - r->first) / (r->output - 1) : 0;
        if (r->output > 1)
            tpot[nt++] = tp;
        double f = tok_share(r, tw) - (tw0 > t0 ? tok_share(r, tw0) : 0); /* its share produced in [tw0, tw] */
        double g = f; /* a request counts like its tokens (completions only: 78.6 of 88.9 req/s, stats' header) */
        out += f * r->output;
        out_all += r->output;
        in += r->first <= tw && r->first > tw0 ? r->prompt : 0;
        hits += r->hit;
        nreq += g;
        if ((ts <= 0 || ttft[i] <= ts) && (ps <= 0 || tp <= ps)) {
            good += f * r->output;
            ngood += g;
        }
    }
    keep_requests(S, res);
    res->duration_s = t1 - t0 > 0 ? t1 - t0 : 1e-9;
    double d = tw - tw0 > 0 ? tw - tw0 : 1e-9;
    res->throughput_tokens_per_s = out / d;
    res->input_tokens_per_s = in / d;
    res->goodput_tokens_per_s = good / d;
    res->requests_per_s = nreq / d;
    res->goodput_requests_per_s = ngood / d;
    res->slo_attainment = nreq > 0 ? ngood / nreq : 0;
    res->output_tokens_mean = out_all / S->n;
    fill_pcts(ttft, S->n, res->ttft_s);
    fill_pcts(tpot, nt, res->tpot_s);
    fill_pcts(e2e, S->n, res->e2e_s);
    res->slo_met = (ts <= 0 || res->ttft_s[2] <= ts) && (ps <= 0 || nt == 0 || res->tpot_s[2] <= ps);
    res->queue_mean = S->q_int / res->duration_s; /* integrated over the whole run, not the window */
    res->queue_max = S->q_max;
    double kv = 0;
    for (int i = 0; i < S->ne; i++)
        kv += S->e[i].kv_int;
    res->kv_occupancy_mean = kv / (S->ne * res->duration_s);
    res->kv_occupancy_max = S->kv_max;
    res->steps = S->steps;
    res->mean_batch = S->steps > 0 ? S->batch_sum / S->steps : 0;
    res->preemptions = S->preemptions;
    res->prefix_hit_rate = (double)hits / S->n;
    res->kv_transfer_s = S->o->prefill_gpus > 0 ? S->xfer_sum / S->n : 0;
    if (S->w->arrival != SP_ARR_POISSON && S->w->arrival != SP_ARR_GAMMA)
        res->offered_rate = res->requests_per_s;
    return energy(S, res, err);
}

/* Fails when a request cannot fit an engine's KV cache even alone. */
static sp_status fits(const sv_sim *S, int blocks, sp_error *err)
{
    for (int i = 0; i < S->n; i++) {
        int need = (S->r[i].prompt + S->r[i].output + S->bs - 1) / S->bs;
        if (need > blocks)
            return sp_fail(err, SP_EINVAL,
                           "serve: a request of %d prompt + %d output tokens needs %d KV blocks of %d tokens; an engine holds %d (more GPUs per replica, fp8 KV or a shorter workload)",
                           S->r[i].prompt, S->r[i].output, need, S->bs, blocks);
    }
    return SP_OK;
}

static sp_status setup(sv_sim *S, const sp_serve_steptab *tab, sp_error *err)
{
    const sp_serve_opts *o = S->o;
    const sp_serve_workload *w = S->w;
    double cap = 0;
    sp_status rc = capacity(S->m, S->s, o, &cap, err);
    if (rc)
        return rc;
    S->tab = tab;
    S->bs = o->stack.kv_block;
    S->max_seqs = o->stack.max_num_seqs;
    S->budget = o->stack.max_num_tokens;
    S->groups = w->prefix_tokens > 0 ? w->prefix_groups : 0;
    S->pb = w->prefix_tokens / S->bs;
    int unit = o->tp * o->pp * o->ep;
    int n_pf = o->prefill_gpus / unit * o->pp, n_dec = (o->n_gpus - o->prefill_gpus) / unit * o->pp;
    int blocks = (int)fmin(1e9, floor(cap / o->pp / S->bs));
    if ((rc = sim_alloc(S, n_pf, n_dec, blocks, err)))
        return rc;
    sv_make_requests(S);
    double scale = w->arrival == SP_ARR_POISSON || w->arrival == SP_ARR_GAMMA ? 1 / o->rate : 1;
    for (int i = 0; i < S->n; i++) {
        S->r[i].arrival = w->arrival == SP_ARR_OFFLINE || w->arrival == SP_ARR_CLOSED ? 0 : S->r[i].arrival * scale;
        if (!o->stack.chunked_prefill && S->r[i].prompt + S->r[i].output > S->budget)
            S->budget = S->r[i].prompt + S->r[i].output; /* without chunking the budget must hold a whole prompt */
    }
    return fits(S, blocks, err);
}

sp_status sp_serve_simulate(const sp_model *m, const sp_system *s, const sp_serve_workload *w, const sp_serve_opts *o,
                            sp_serve_result *res, sp_error *err)
{
    memset(res, 0, sizeof *res);
    sp_status rc = check(m, w, o, err);
    if (rc)
        return rc;
    sv_sim S;
    memset(&S, 0, sizeof S);
    S.o = o;
    S.w = w;
    S.m = m;
    S.s = s;
    S.n = o->n_requests;
    sp_serve_steptab *tab = malloc(sizeof *tab);
    double *buf = malloc(sizeof(double) * 3 * (size_t)S.n);
    if (!tab || !buf)
        rc = sp_fail(err, SP_ENOMEM, "serve: out of memory for %d requests", S.n);
    if (!rc && o->keep_requests && !(res->req = malloc(sizeof *res->req * S.n)))
        rc = sp_fail(err, SP_ENOMEM, "serve: out of memory for %d requests", S.n);
    if (!rc)
        rc = sp_serve_steptab_build(m, s, o, o->stack.max_num_tokens + o->stack.max_num_seqs, tab, err);
    if (!rc)
        rc = setup(&S, tab, err);
    if (!rc) {
        int n_open = w->arrival == SP_ARR_CLOSED ? 0 : S.n;
        if (w->arrival == SP_ARR_CLOSED)
            for (S.created = 0; S.created < S.n && S.created < w->users; S.created++)
                sv_push(&S, 0, S.created, SV_EV_ARRIVAL);
        rc = run_loop(&S, n_open, err);
    }
    res->n_requests = S.n;
    res->offered_rate = o->rate;
    res->engines = S.ne;
    res->replicas = (o->n_gpus - o->prefill_gpus) / (o->tp * o->pp * o->ep);
    res->prefill_replicas = o->prefill_gpus / (o->tp * o->pp * o->ep);
    res->kv_capacity_tokens = S.ne > 0 ? (double)S.e[0].total * S.bs : 0;
    res->ttft_slo_s = o->ttft_slo_s > 0 ? o->ttft_slo_s : w->ttft_slo_s;
    res->tpot_slo_s = o->tpot_slo_s > 0 ? o->tpot_slo_s : w->tpot_slo_s;
    if (!rc)
        rc = stats(&S, buf, res, err);
    sim_free(&S);
    free(tab);
    free(buf);
    if (rc)
        sp_serve_result_free(res);
    return rc;
}

void sp_serve_result_free(sp_serve_result *r)
{
    free(r->req);
    r->req = NULL;
}
