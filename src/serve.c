/* Discrete-event serving simulator (DESIGN.md §3.12, docs/serving.md).
 *
 * Requests arrive (Poisson, gamma, closed loop, offline, trace), are routed to the engine with the fewest requests
 * (running + waiting) and wait in its FIFO queue. An engine is one model replica (tp x ep GPUs per pipeline stage),
 * or with pp stages one of the replica's pp virtual engines (each with its own batch; a step passes all stages, so
 * its latency is the whole model's step plus pp - 1 hops while pp batches are in flight, vLLM's virtual engines).
 * Each engine step is formed by the stack's scheduler under a token budget:
 *   - mixed (vLLM v1, TensorRT-LLM in-flight batching): running sequences first in admission order (a decode takes
 *     one token, a partly prefilled prompt its next chunk), then waiting requests are admitted while the budget,
 *     the sequence limit and the KV cache allow;
 *   - prefill-first (SGLang): a step prefills waiting prompts (chunked) whenever there are any, else decodes all.
 * The KV cache is paged: a sequence holds ceil(tokens / block) blocks, allocated as its tokens are computed. When a
 * block is missing the most recently admitted running sequence is preempted (blocks freed, later recomputed:
 * prompt + generated tokens prefilled again, vLLM's recompute mode). With prefix caching, a request whose prefix
 * group is cached skips the prefix's full blocks and shares them; cached prefixes nobody uses are evicted least
 * recently used before anything is preempted. With disaggregation, prefill engines run prompts only, the KV cache
 * moves over the network to the least loaded decode engine, which decodes.
 * A step's duration is sp_serve_step_time (src/serve_step.c: infer's engine-step model, tabulated). All memory is
 * allocated at setup; the event loop allocates nothing.
 */
#include "scaleplan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "serve_internal.h"

/* ---- random numbers (splitmix64: deterministic across platforms) ---- */
static double unif(unsigned long long *s)
{
    unsigned long long z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((z >> 11) + 0.5) * (1.0 / 9007199254740992.0); /* (0, 1) */
}

static double normal(unsigned long long *s)
{
    return sqrt(-2 * log(unif(s))) * cos(6.283185307179586 * unif(s));
}

/* Gamma(k, 1) by Marsaglia and Tsang (2000); k < 1 through Gamma(k + 1) x U^(1/k). */
static double gamma1(unsigned long long *s, double k)
{
    if (k < 1)
        return gamma1(s, k + 1) * pow(unif(s), 1 / k);
    double d = k - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = normal(s), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = unif(s);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

static int draw_len(unsigned long long *s, const sp_len_dist *d)
{
    double v;
    switch (d->kind) {
    case SP_LEN_UNIFORM:
        v = d->lo + floor(unif(s) * (d->hi - d->lo + 1));
        break;
    case SP_LEN_LOGNORMAL: {
        double s2 = log(1 + d->cv * d->cv);
        v = exp(log(d->mean) - s2 / 2 + sqrt(s2) * normal(s));
        break;
    }
    default:
        v = d->mean;
    }
    v = fmin(fmax(round(v), d->lo), d->hi);
    return (int)fmax(1, v);
}

/* Lengths, prefix groups and unit-rate arrival times of every request (the rate divides them later, so runs at
 * different rates see the same requests in the same order). */
void sv_make_requests(sv_sim *S)
{
    const sp_serve_workload *w = S->w;
    unsigned long long sl = S->o->seed * 0x2545F4914F6CDD1Dull + 1, sa = S->o->seed * 0x9E3779B97F4A7C15ull + 7;
    double t = 0, span = w->n_trace > 0 && w->trace_t ? w->trace_t[w->n_trace - 1] - w->trace_t[0] : 0;
    for (int i = 0; i < S->n; i++) {
        sv_req *r = &S->r[i];
        memset(r, 0, sizeof *r);
        int ti = w->n_trace > 0 ? i % w->n_trace : 0;
        r->prompt = w->prompt.kind == SP_LEN_TRACE ? w->trace_prompt[ti] : draw_len(&sl, &w->prompt);
        r->output = w->output.kind == SP_LEN_TRACE ? w->trace_output[ti] : draw_len(&sl, &w->output);
        r->group = -1;
        if (w->prefix_tokens > 0) {
            r->group = (int)(unif(&sl) * w->prefix_groups);
            r->prompt += w->prefix_tokens;
        }
        r->target = r->prompt;
        r->next = -1;
        if (w->arrival == SP_ARR_POISSON)
            t += -log(unif(&sa));
        else if (w->arrival == SP_ARR_GAMMA)
            t += gamma1(&sa, 1 / (w->cv * w->cv)) * w->cv * w->cv;
        else if (w->arrival == SP_ARR_TRACE)
            t = w->trace_t[ti] - w->trace_t[0] + (double)(i / w->n_trace) * (span * (1 + 1.0 / w->n_trace));
        r->arrival = t;
    }
    S->seed_think = sa;
}

double sv_think(sv_sim *S)
{
    return S->w->think_s > 0 ? -log(unif(&S->seed_think)) * S->w->think_s : 0;
}

/* ---- event heap (closed-loop arrivals, KV transfers) ---- */
void sv_push(sv_sim *S, double t, int id, int kind)
{
    int i = S->nh++;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (S->heap[p].t <= t)
            break;
        S->heap[i] = S->heap[p];
        i = p;
    }
    S->heap[i] = (sv_ev){t, id, kind};
}

sv_ev sv_pop(sv_sim *S)
{
    sv_ev top = S->heap[0], last = S->heap[--S->nh];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= S->nh)
            break;
        if (c + 1 < S->nh && S->heap[c + 1].t < S->heap[c].t)
            c++;
        if (S->heap[c].t >= last.t)
            break;
        S->heap[i] = S->heap[c];
        i = c;
    }
    if (S->nh > 0)
        S->heap[i] = last;
    return top;
}

/* ---- engine queues and blocks ---- */
void sv_enqueue(sv_sim *S, sv_eng *e, int id, int front)
{
    S->r[id].next = -1;
    if (e->nwait == 0)
        e->qhead = e->qtail = id;
    else if (front) {
        S->r[id].next = e->qhead;
        e->qhead = id;
    } else {
        S->r[e->qtail].next = id;
        e->qtail = id;
    }
    e->nwait++;
    S->nwait_total++;
}

static int dequeue(sv_sim *S, sv_eng *e)
{
    int id = e->qhead;
    e->qhead = S->r[id].next;
    e->nwait--;
    S->nwait_total--;
    return id;
}

static void evict_one(sv_sim *S, sv_eng *e)
{
    int best = -1;
    for (int g = 0; g < S->groups; g++)
        if (e->res[g] && e->ref[g] == 0 && (best < 0 || e->last[g] < e->last[best]))
            best = g;
    if (best < 0) {
        e->idle_cached = 0; /* unreachable: idle blocks always belong to a group */
        return;
    }
    e->res[best] = 0;
    e->free += S->pb;
    e->idle_cached -= S->pb;
}

static int alloc_blocks(sv_sim *S, sv_eng *e, int need)
{
    while (e->free < need && e->idle_cached > 0)
        evict_one(S, e);
    if (e->free < need)
        return 0;
    e->free -= need;
    return 1;
}

/* Blocks so that r's KV holds `upto` tokens. */
static int grab(sv_sim *S, sv_eng *e, sv_req *r, int upto)
{
    int have = r->blocks + (r->shared ? S->pb : 0);
    int want = (upto + S->bs - 1) / S->bs;
    if (want <= have)
        return 1;
    if (!alloc_blocks(S, e, want - have))
        return 0;
    r->blocks += want - have;
    return 1;
}

static void unref(sv_sim *S, sv_eng *e, sv_req *r)
{
    if (!r->shared)
        return;
    r->shared = 0;
    if (--e->ref[r->group] == 0) {
        e->idle_cached += S->pb;
        e->last[r->group] = S->t;
    }
}

void sv_release(sv_sim *S, sv_eng *e, sv_req *r)
{
    e->free += r->blocks;
    r->blocks = 0;
    unref(S, e, r);
}

/* Preempts the last running sequence of e (recompute: its prompt and generated tokens are prefilled again). */
static void preempt_last(sv_sim *S, sv_eng *e)
{
    int id = e->run[--e->n_run];
    sv_req *v = &S->r[id];
    sv_release(S, e, v);
    v->target = v->prompt + v->gen;
    v->done = 0;
    v->chunk = 0;
    v->npre++;
    S->preemptions++;
    sv_enqueue(S, e, id, 1);
}

/* A cached prefix of r's group: share its full blocks and skip computing them. */
static void prefix_hit(sv_sim *S, sv_eng *e, sv_req *r)
{
    if (!S->o->stack.prefix_caching || r->group < 0 || r->done > 0 || r->gen > 0 || r->shared || !e->res[r->group] || S->pb < 1)
        return;
    if (e->ref[r->group]++ == 0)
        e->idle_cached -= S->pb;
    r->shared = 1;
    r->hit = 1;
    r->done = S->pb * S->bs < r->target ? S->pb * S->bs : r->target - 1;
}

/* Adds r's work of this step (a decode token or the next prompt chunk within *budget) to the step, taking KV
 * blocks (preempting from the back of the running list, maybe r itself when it is running at index `self`).
 * Returns 1 when scheduled, 0 when r got nothing (budget spent, no blocks, or r preempted). */
static int schedule(sv_sim *S, sv_eng *e, sv_req *r, int self, int allow_dec, int allow_pf, int *budget, sv_step *st)
{
    int dec = r->done >= r->target;
    if ((dec && !allow_dec) || (!dec && !allow_pf) || *budget < 1)
        return 0;
    int c = dec ? 1 : (r->target - r->done < *budget ? r->target - r->done : *budget);
    if (!dec && !S->o->stack.chunked_prefill && c < r->target - r->done)
        return 0;
    int upto = dec ? r->prompt + r->gen : r->done + c;
    if (S->o->stack.no_evict && r->prompt + r->output > upto)
        upto = r->prompt + r->output; /* the whole request reserved at admission */
    while (!grab(S, e, r, upto)) {
        if (self < 0 || e->n_run - 1 <= self) {
            if (self >= 0)
                preempt_last(S, e);
            return 0;
        }
        preempt_last(S, e);
    }
    r->chunk = c;
    *budget -= c;
    if (dec) {
        st->n_dec++;
        st->ctx_sum += upto;
        st->logits++;
    } else {
        st->n_pf += c;
        st->span_sum += c * (r->done + c / 2.0);
        st->logits += r->done + c >= r->target;
        st->n_pf_seqs++;
    }
    return 1;
}

/* Forms one step of e: running sequences first, then admissions. */
static void compose(sv_sim *S, sv_eng *e, int allow_dec, int allow_pf, int budget, sv_step *st)
{
    memset(st, 0, sizeof *st);
    for (int i = 0; i < e->n_run; i++) {
        sv_req *r = &S->r[e->run[i]];
        r->chunk = 0;
        int n_before = e->n_run;
        schedule(S, e, r, i, allow_dec, allow_pf, &budget, st);
        if (e->n_run < n_before && e->n_run <= i)
            break; /* r itself was preempted: nothing after it is running */
    }
    /* AMD's vLLM scheduler (VLLM_SCHED_PREFILL_KVC_FREEPCT): no new prompt joins a step while less than the stack's
     * fraction of the KV blocks is free, so admissions stop before decodes run out of blocks and preempt */
    double thr = S->o->stack.prefill_min_free_kv;
    int admit = !(thr > 0) || e->free + e->idle_cached >= thr * e->total;
    while (admit && e->nwait > 0 && e->n_run < S->max_seqs && budget > 0) {
        sv_req *r = &S->r[e->qhead];
        prefix_hit(S, e, r);
        r->chunk = 0;
        if (!schedule(S, e, r, -1, allow_dec, allow_pf, &budget, st))
            break;
        e->run[e->n_run++] = dequeue(S, e);
    }
}

/* AMD's harness batcher (prefill_hold_s / prefill_hold_min): while e has sequences decoding, its waiting prompts
 * are held back until the oldest has waited prefill_hold_s or prefill_hold_min of them wait, so that prefill steps
 * interrupt the decodes less often. An engine with nothing running admits at once; the hold is checked when a step
 * ends, which is at least every decode step. */
static int held(const sv_sim *S, const sv_eng *e)
{
    const sp_serve_stack *st = &S->o->stack;
    if (!(st->prefill_hold_s > 0) || e->n_run == 0 || e->nwait == 0)
        return 0;
    if (st->prefill_hold_min > 0 && e->nwait >= st->prefill_hold_min)
        return 0;
    return S->t - S->r[e->qhead].arrival < st->prefill_hold_s;
}

/* Starts the next step of e at S->t if it has work. */
void sv_try_start(sv_sim *S, sv_eng *e)
{
    sv_step st;
    if (e->role == SV_ROLE_PREFILL)
        compose(S, e, 0, 1, S->budget, &st);
    else if (S->o->stack.policy == SP_SCHED_PREFILL_FIRST) {
        if (held(S, e))
            memset(&st, 0, sizeof st);
        else
            compose(S, e, 0, 1, S->budget, &st);
        if (st.n_pf == 0)
            compose(S, e, 1, 0, 1 << 30, &st);
    } else
        compose(S, e, 1, 1, S->budget, &st);
    if (st.n_pf + st.n_dec == 0) {
        e->busy = 0;
        return;
    }
    double dt = sp_serve_step_time(S->tab, st.n_pf, st.span_sum, st.n_dec, st.ctx_sum, st.logits);
    e->busy = 1;
    e->t_end = S->t + dt;
    double used = (double)(e->total - e->free - e->idle_cached) / e->total;
    e->kv_int += used * dt;
    if (used > S->kv_max)
        S->kv_max = used;
    S->steps++;
    S->batch_sum += st.n_dec + st.n_pf_seqs;
    S->flops += S->tab->flops_per_token * (st.n_pf + st.n_dec);
}
