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
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "limits-d%.0f", d);
    m->d_model = (int)d;
    m->n_layers = (int)sp_limits_layers(st, d);
    m->d_head = o->no_attention ? 1 : o->head_dim;
    m->n_heads = (int)(d / o->head_dim);
    m->n_kv_heads = o->kv_heads > 0 && o->kv_heads < m->n_heads && !o->no_attention ? o->kv_heads : m->n_heads;
    m->ffn_dim = (int)(4 * d);
    m->gated = 0; /* two d x 4d matrices per MLP, as the paper's layer */
    m->vocab = o->vocab;
    m->max_seq = st->seq_len > 0 ? st->seq_len : 2048;
    m->norm = SP_NORM_RMSNORM;
    int S = (int)sp_limits_sparsity(st, d);
    if (S > 1) {
        m->n_experts = S;
        m->top_k = 1;
        m->moe_ffn_dim = m->ffn_dim;
    }
    sp_model_defaults(m);
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

int sp_limits_full_sweep(const sp_epoch_setting *st, const sp_system *sys, const sp_limits_full_opts *o,
                         sp_limits_full_point *out, int max, sp_epoch_summary *sum, sp_error *err)
{
    memset(sum, 0, sizeof *sum);
    double years = st->years > 0 ? st->years : 0.25, T = years * SP_LIMITS_SECONDS_PER_YEAR;
    int seq = st->seq_len > 0 ? st->seq_len : 2048;
    if (!(years > 0) || !isfinite(years))
        return sp_fail(err, SP_EINVAL, "limits: duration must be positive"), -1;
    if (o->head_dim < 1 || o->vocab < 1 || o->log2_max_gpus < 1 || o->log2_max_gpus > 30 || o->grad_bytes < 0)
        return sp_fail(err, SP_EINVAL, "limits: full-mode options out of range (head_dim, vocab >= 1; log2 max GPUs 1..30)"), -1;
    sp_system s = *sys;
    s.max_accels = 0; /* the question is how large a cluster would have to be */
    if (o->paper_latency) { /* reference §2.2: 1.125 us per network level, 4.5 us per matmul */
        for (int i = 0; i < s.n_tiers; i++)
            s.tier[i].latency_s = 1.125e-6;
        s.acc.eff.kernel_overhead_s = 4.5e-6;
    }
    double peak = sp_accel_peak(&s.acc, o->dtype);
    if (!(peak > 0))
        return sp_fail(err, SP_EINVAL, "limits: accelerator '%s' has no %s peak", s.acc.name, sp_dtype_name(o->dtype)), -1;
    sp_search_result *res = malloc(sizeof *res);
    if (!res)
        return sp_fail(err, SP_ENOMEM, "limits: out of memory"), -1;
    double widths[128];
    double all_u[128], all_c[128];
    int nw = sp_limits_widths(st, widths, 128), np = 0, na = 0;
    for (int wi = 0; wi < nw; wi++) {
        double d = widths[wi];
        if (d / o->head_dim < 1 || fmod(d, o->head_dim) != 0)
            continue;
        sp_model m;
        build_model(st, o, d, &m);
        if (sp_model_check(&m, "limits model", err) != SP_OK) {
            free(res);
            return -1;
        }
        sp_param_count pc;
        sp_model_params(&m, &pc);
        double D = 20 * pc.total, C = sp_model_train_flops(&m, seq, D);
        if (st->c_max > 0 && C > st->c_max) {
            sum->stop = SP_EPOCH_STOP_RANGE;
            sum->beyond_range_flop = C;
            break;
        }
        if (d < st->d_model_min && C < st->c_min)
            continue;
        double S = m.n_experts > 1 ? m.n_experts : 1;
        double bs = sp_limits_batch_seqs(st, C, S, seq);
        if (bs < 1 || bs > 1e9) {
            free(res);
            return sp_fail(err, SP_EINVAL, "limits: critical batch of %.3g sequences at C = %.3g FLOP is outside 1..1e9", bs, C), -1;
        }
        double steps = D / (bs * seq), t_step = T / steps;
        /* clusters S·2^i as the paper's (EP can then divide the experts); no plan beats the peak: the smallest
         * cluster worth searching */
        double min_n = C / (T * peak) / S, max_n = ldexp(1.0, o->log2_max_gpus);
        int i0 = min_n > 1 ? (int)ceil(log2(min_n)) : 0, found = 0, searched = 0;
        long long evaluated = 0;
        if (S * ldexp(1.0, i0) > max_n) {
            sum->stop = SP_EPOCH_STOP_CLUSTER_CAP;
            break;
        }
        sp_search_opts so;
        sp_search_defaults(&so);
        so.plan.global_batch = (int)bs;
        so.plan.seq_len = seq;
        so.plan.dtype = o->dtype;
        so.top_k = 1;
        so.threads = o->threads;
        so.max_vpp = o->max_vpp > 0 ? o->max_vpp : 1;
        so.max_objective = t_step * (1 + 1e-9);
        so.plan.grad_bytes = o->grad_bytes;
        so.plan.zero_bubble = o->zero_bubble;
        int n_found = 0;
        sp_search_entry best; /* the search's top-1 buffer (res->top points at it) */
        for (int i = i0; S * ldexp(1.0, i) <= max_n && !found; i++) {
            so.plan.n_gpus = (int)S << i;
            sp_error e2;
            sp_status rc = sp_search(&m, &s, &so, &best, res, &e2);
            searched++;
            evaluated += res->evaluated;
            if (rc == SP_OK) {
                found = 1;
                n_found = so.plan.n_gpus;
            } else if (rc != SP_EINFEASIBLE) {
                free(res);
                return sp_fail(err, rc, "limits: d_model %.0f on %d GPUs: %s", d, so.plan.n_gpus, e2.msg), -1;
            }
        }
        if (!found && searched < 3) { /* the clusters it would need are beyond what is represented */
            sum->stop = SP_EPOCH_STOP_CLUSTER_CAP;
            break;
        }
        if (!found) {
            sum->first_infeasible_flop = C;
            sum->stop = SP_EPOCH_STOP_WALL;
            break;
        }
        const sp_search_entry *b = &res->top[0];
        sum->largest_feasible_flop = C;
        if (b->res.mfu > sum->max_utilization)
            sum->max_utilization = b->res.mfu;
        all_u[na] = b->res.mfu;
        all_c[na++] = C;
        if (st->c_min > 0 && C < st->c_min)
            continue;
        if (np < max) {
            sp_limits_full_point *p = &out[np++];
            memset(p, 0, sizeof *p);
            p->d_model = d;
            p->d_ff = m.ffn_dim;
            p->params = pc.total;
            p->active_params = pc.active;
            p->tokens = D;
            p->batch_tokens = bs * seq;
            p->compute_flop = C;
            p->layers = m.n_layers;
            p->heads = m.n_heads;
            p->kv_heads = m.n_kv_heads;
            p->experts = m.n_experts > 1 ? m.n_experts : 1;
            p->n_gpus = n_found;
            p->step_time_s = b->res.step_time_s;
            p->steps = steps;
            p->months = steps * b->res.step_time_s / SP_LIMITS_SECONDS_PER_YEAR * 12;
            p->utilization = b->res.mfu;
            p->gpu_hours = n_found * steps * b->res.step_time_s / 3600;
            p->plan = b->plan;
            p->res = b->res;
            double z = zero_latency_step(&m, &s, &b->plan);
            p->latency_s = isfinite(z) && z < b->res.step_time_s ? b->res.step_time_s - z : 0;
            p->binding = binding_of(&b->res, p->latency_s);
            p->plans_evaluated = evaluated;
        }
        if (b->res.mfu < 0.001) {
            sum->stop = SP_EPOCH_STOP_UTIL;
            break;
        }
    }
    free(res);
    /* the linear-regime end needs the maximum first: first C with U <= 0.8 x the largest U of the sweep */
    for (int i = 0; i < na; i++)
        if (all_u[i] <= 0.8 * sum->max_utilization) {
            sum->linear_regime_end_flop = all_c[i];
            break;
        }
    if (sum->stop == SP_EPOCH_STOP_WALL || sum->stop == SP_EPOCH_STOP_UTIL)
        sum->latency_wall_flop = sum->largest_feasible_flop;
    sum->n_points = np;
    /* the paper's closed-form latency limit (reference §4, alpha = 0) with this system's serial latency of one
     * layer step: a kernel tail + 4 hops of the scale-up tier, as the paper's 4.5 us + 4 x 1.125 us */
    sum->t_limit_flop = sp_epoch_t_limit(0, years * 365.25 * 86400, s.acc.eff.kernel_overhead_s + 4 * s.tier[0].latency_s);
    return np;
}
