/* `limits --mode full`: the question of Erdil & Schneider-Joseph (2024) — how far can a training run of fixed
 * duration scale before data movement and latency cap utilization — asked with scaleplan's own training model
 * (attention with GQA, per-kernel efficiencies calibrated on measured runs, the real collectives on the system's
 * network tiers, ZeRO, recompute, sequence and context parallelism) and its exhaustive plan search, instead of
 * the paper's MLP-only tiled-matmul model.
 *
 * What is the paper's (limits_internal.h): the width grid, the depth rule, the MoE sparsity rule, the critical
 * batch rules, D = 20 N tokens (total parameters), power-of-two clusters, "the smallest cluster that finishes in
 * time" and the 0.8 x max threshold. What is scaleplan's: everything about one step (step.c, memory.c,
 * collective.c), the hardware (a system preset) and the plan space (search.c).
 */
#include "scaleplan.h"
#include "internal.h"
#include "limits_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sp_limits_full_defaults(sp_limits_full_opts *o)
{
    memset(o, 0, sizeof *o);
    o->kv_heads = 8;     /* GQA with 8 KV heads: Llama-2-70B, Llama-3 8B-405B, Mixtral (their config.json) */
    o->head_dim = 128;   /* the head width of GPT-3 175B, Llama-2/3, Mixtral, DeepSeek-V3 */
    o->vocab = 131072;   /* 2^17: the size class of Llama-3 (128,256) and Mistral-NeMo (131,072) */
    o->dtype = SP_BF16;
    o->max_vpp = 4;
    o->log2_max_gpus = 30;
}

/* The model of one sweep width: the paper's shape plus attention and a vocabulary. */
static void build_model(const sp_epoch_setting *st, const sp_limits_full_opts *o, double d, sp_model *m)
{
    char name[64];
    snprintf(name, sizeof name, "limits-d%.0f", d);
    int heads = (int)(d / o->head_dim), S = (int)sp_limits_sparsity(st, d);
    sp_synthetic_spec spec = {.name = name, .d_model = (int)d, .n_layers = (int)sp_limits_layers(st, d), .n_heads = heads,
                              .d_head = o->no_attention ? 1 : o->head_dim,
                              .n_kv_heads = o->kv_heads > 0 && o->kv_heads < heads && !o->no_attention ? o->kv_heads : heads,
                              .ffn_dim = (int)(4 * d), .gated = 0, /* two d x 4d matrices per MLP, as the paper's layer */
                              .n_experts = S, .top_k = 1, .vocab = o->vocab,
                              .max_seq = st->seq_len > 0 ? st->seq_len : 2048, .norm = SP_NORM_RMSNORM};
    sp_model_synthetic(&spec, m);
}

/* Step time of plan p with every latency (network hops, kernel launch tails) set to zero. */
static double zero_latency_step(const sp_model *m, const sp_system *sys, const sp_plan *p)
{
    sp_system z = *sys;
    for (int i = 0; i < z.n_tiers; i++)
        z.tier[i].latency_s = 0;
    z.acc.eff.kernel_overhead_s = 0;
    sp_train_result r;
    sp_error err;
    if (sp_train_eval(m, &z, p, &r, &err) != SP_OK)
        return NAN;
    return r.step_time_s;
}

/* The largest loss of the step beyond compute: the step model's own bottleneck, unless the latency share (which
 * is spread over its communication and kernel terms) is larger than that term. */
static const char *binding_of(const sp_train_result *r, double latency_s)
{
    const sp_time_breakdown *t = &r->t;
    double v[] = {t->tp_comm, t->pp_comm, t->dp_comm, t->bubble, t->memory_bound, t->ep_comm, t->cp_comm,
                  t->optimizer, t->imbalance};
    double worst = 0;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (v[i] > worst)
            worst = v[i];
    if (latency_s > worst && latency_s > 0)
        return "latency (kernel launches + network hops)";
    return r->bottleneck;
}

/* What every width of one sweep shares: the setting, the options, the system with the paper's latencies when asked,
 * its peak, the duration and the search's result buffer. */
typedef struct {
    const sp_epoch_setting *st;
    const sp_limits_full_opts *o;
    sp_system s;
    double years, T, peak;
    int seq;
    sp_search_result *res;
} full_sweep;

static sp_status full_setup(full_sweep *c, const sp_epoch_setting *st, const sp_system *sys, const sp_limits_full_opts *o,
                            sp_error *err)
{
    memset(c, 0, sizeof *c);
    c->st = st;
    c->o = o;
    c->years = st->years > 0 ? st->years : 0.25;
    c->T = c->years * SP_LIMITS_SECONDS_PER_YEAR;
    c->seq = st->seq_len > 0 ? st->seq_len : 2048;
    if (!(c->years > 0) || !isfinite(c->years))
        return sp_fail(err, SP_EINVAL, "limits: duration must be positive");
    if (o->head_dim < 1 || o->vocab < 1 || o->log2_max_gpus < 1 || o->log2_max_gpus > 30 || o->grad_bytes < 0)
        return sp_fail(err, SP_EINVAL, "limits: full-mode options out of range (head_dim, vocab >= 1; log2 max GPUs 1..30)");
    c->s = *sys;
    c->s.max_accels = 0; /* the question is how large a cluster would have to be */
    if (o->paper_latency) { /* reference §2.2: 1.125 us per network level, 4.5 us per matmul */
        for (int i = 0; i < c->s.n_tiers; i++)
            c->s.tier[i].latency_s = 1.125e-6;
        c->s.acc.eff.kernel_overhead_s = 4.5e-6;
    }
    c->peak = sp_accel_peak(&c->s.acc, o->dtype);
    if (!(c->peak > 0))
        return sp_fail(err, SP_EINVAL, "limits: accelerator '%s' has no %s peak", c->s.acc.name, sp_dtype_name(o->dtype));
    c->res = malloc(sizeof *c->res);
    return c->res ? SP_OK : sp_fail(err, SP_ENOMEM, "limits: out of memory");
}

/* The stack's limits and defaults on one cluster's search, exactly as search --software applies them (every
 * host-side knob is the stack's: limits takes no --cuda-graphs or --moe-dispatcher); --grad-bytes, when given,
 * replaces the stack's gradient bytes as it replaces the plan default without a stack. */
static sp_status stack_search(const full_sweep *c, sp_search_opts *so, sp_error *err)
{
    const sp_software *sw = c->o->software;
    sp_error e2 = {0};
    if (sw && sp_software_apply_search(sw, so, &e2))
        return sp_fail(err, SP_EINVAL, "--software: %s", e2.msg);
    if (sw)
        sp_software_search_knobs(sw, 0, so);
    if (!sw || c->o->grad_bytes > 0)
        so->plan.grad_bytes = c->o->grad_bytes;
    return SP_OK;
}

/* One width's search: clusters S·2^i from 2^i0 up to the cap, the first whose best plan finishes a step in t_step
 * wins (*n_found GPUs; 0: none). *searched counts the sizes tried,
 * *evaluated the plans. On success the best plan is c->res->top[0] (= *best). */
static sp_status smallest_cluster(full_sweep *c, const sp_model *m, int i0, double S, double bs, double t_step,
                                  sp_search_entry *best, int *n_found, int *searched, long long *evaluated, sp_error *err)
{
    double max_n = ldexp(1.0, c->o->log2_max_gpus);
    sp_search_opts so;
    sp_search_defaults(&so);
    so.plan.global_batch = (int)bs;
    so.plan.seq_len = c->seq;
    so.plan.dtype = c->o->dtype;
    so.top_k = 1;
    so.threads = c->o->threads;
    so.max_vpp = c->o->max_vpp > 0 ? c->o->max_vpp : 1;
    so.max_objective = t_step * (1 + 1e-9);
    so.plan.zero_bubble = c->o->zero_bubble;
    /* the full mode's pipelines are 1F1B / interleaved (docs/limits.md); its zero-bubble step is zero_bubble above */
    so.schedules = 1u << SP_SCHED_1F1B;
    sp_status rc0 = stack_search(c, &so, err);
    if (rc0)
        return rc0;
    *n_found = *searched = 0;
    *evaluated = 0;
    for (int i = i0; S * ldexp(1.0, i) <= max_n && !*n_found; i++) {
        so.plan.n_gpus = (int)S << i;
        sp_error e2;
        sp_status rc = sp_search(m, &c->s, &so, best, c->res, &e2);
        ++*searched;
        *evaluated += c->res->evaluated;
        if (rc == SP_OK)
            *n_found = so.plan.n_gpus;
        else if (rc != SP_EINFEASIBLE)
            return sp_fail(err, rc, "limits: d_model %.0f on %d GPUs: %s", (double)m->d_model, so.plan.n_gpus, e2.msg);
    }
    return SP_OK;
}

/* One reported point: the width's model, its run and the best plan at the smallest cluster that finishes. */
static void fill_point(const full_sweep *c, const sp_model *m, const sp_param_count *pc, double C, double bs,
                       double steps, int n_found, long long evaluated, sp_limits_full_point *p)
{
    const sp_search_entry *b = &c->res->top[0];
    memset(p, 0, sizeof *p);
    p->d_model = m->d_model;
    p->d_ff = m->ffn_dim;
    p->params = pc->total;
    p->active_params = pc->active;
    p->tokens = 20 * pc->total;
    p->batch_tokens = bs * c->seq;
    p->compute_flop = C;
    p->layers = m->n_layers;
    p->heads = m->n_heads;
    p->kv_heads = m->n_kv_heads;
    p->experts = m->n_experts > 1 ? m->n_experts : 1;
    p->n_gpus = n_found;
    p->step_time_s = b->res.step_time_s;
    p->steps = steps;
    p->months = steps * b->res.step_time_s / SP_LIMITS_SECONDS_PER_YEAR * 12;
    p->utilization = b->res.mfu;
    p->gpu_hours = n_found * steps * b->res.step_time_s / 3600;
    p->plan = b->plan;
    p->res = b->res;
    double z = zero_latency_step(m, &c->s, &b->plan);
    p->latency_s = isfinite(z) && z < b->res.step_time_s ? b->res.step_time_s - z : 0;
    p->binding = binding_of(&b->res, p->latency_s);
    p->plans_evaluated = evaluated;
}

/* One width of the sweep: 1 to go on, 0 when the sweep ends here (sum->stop says why), -1 on error. A feasible
 * width's MFU goes to u[*na], c[*na]; a reported one to out[*np]. */
static int sweep_width(full_sweep *c, double d, sp_limits_full_point *out, int max, int *np, double *u, double *cs,
                       int *na, sp_epoch_summary *sum, sp_error *err)
{
    const sp_epoch_setting *st = c->st;
    sp_model m;
    build_model(st, c->o, d, &m);
    if (sp_model_check(&m, "limits model", err) != SP_OK)
        return -1;
    sp_param_count pc;
    sp_model_params(&m, &pc);
    double D = 20 * pc.total, C = sp_model_train_flops(&m, c->seq, D);
    int in = sp_limits_range(st, d, C, sum);
    if (in <= 0)
        return in + 1;
    double S = m.n_experts > 1 ? m.n_experts : 1;
    double bs = sp_limits_batch_seqs(st, C, S, c->seq);
    if (bs < 1 || bs > 1e9)
        return sp_fail(err, SP_EINVAL, "limits: critical batch of %.3g sequences at C = %.3g FLOP is outside 1..1e9", bs, C), -1;
    double steps = D / (bs * c->seq);
    /* clusters S·2^i as the paper's (EP can then divide the experts); no plan beats the peak: the smallest
     * cluster worth searching */
    double min_n = C / (c->T * c->peak) / S;
    int i0 = min_n > 1 ? (int)ceil(log2(min_n)) : 0;
    if (S * ldexp(1.0, i0) > ldexp(1.0, c->o->log2_max_gpus)) {
        sum->stop = SP_EPOCH_STOP_CLUSTER_CAP;
        return 0;
    }
    sp_search_entry best; /* the search's top-1 buffer (c->res->top points at it) */
    int n_found, searched;
    long long evaluated;
    if (smallest_cluster(c, &m, i0, S, bs, c->T / steps, &best, &n_found, &searched, &evaluated, err))
        return -1;
    if (!sp_limits_record(sum, n_found > 0, !n_found && searched < 3, C))
        return 0;
    const sp_search_entry *b = &c->res->top[0];
    if (b->res.mfu > sum->max_utilization)
        sum->max_utilization = b->res.mfu;
    u[*na] = b->res.mfu;
    cs[(*na)++] = C;
    if (st->c_min > 0 && C < st->c_min)
        return 1;
    if (*np < max)
        fill_point(c, &m, &pc, C, bs, steps, n_found, evaluated, &out[(*np)++]);
    if (b->res.mfu < 0.001) {
        sum->stop = SP_EPOCH_STOP_UTIL;
        return 0;
    }
    return 1;
}

int sp_limits_full_sweep(const sp_epoch_setting *st, const sp_system *sys, const sp_limits_full_opts *o,
                         sp_limits_full_point *out, int max, sp_epoch_summary *sum, sp_error *err)
{
    memset(sum, 0, sizeof *sum);
    full_sweep c;
    if (full_setup(&c, st, sys, o, err)) {
        free(c.res);
        return -1;
    }
    double widths[128], all_u[128], all_c[128];
    int nw = sp_limits_widths(st, widths, 128), np = 0, na = 0, go = 1;
    for (int wi = 0; wi < nw && go > 0; wi++)
        if (widths[wi] / o->head_dim >= 1 && fmod(widths[wi], o->head_dim) == 0)
            go = sweep_width(&c, widths[wi], out, max, &np, all_u, all_c, &na, sum, err);
    free(c.res);
    if (go < 0)
        return -1;
    /* the linear-regime end needs the maximum first: first C with U <= 0.8 x the largest U of the sweep */
    for (int i = 0; i < na; i++)
        if (all_u[i] <= 0.8 * sum->max_utilization) {
            sum->linear_regime_end_flop = all_c[i];
            break;
        }
    /* the paper's closed-form latency limit (reference §4, alpha = 0) with this system's serial latency of one
     * layer step: a kernel tail + 4 hops of the scale-up tier, as the paper's 4.5 us + 4 x 1.125 us */
    sp_limits_close_summary(sum, np, c.years, c.s.acc.eff.kernel_overhead_s + 4 * c.s.tier[0].latency_s);
    return np;
}
