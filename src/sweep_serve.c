/* Serving points of a sweep (docs/sweep.md "Serving sweeps"): a point is `serve --search` restricted to the point's
 * system: over the tensor/pipeline/expert layouts and weight precisions of one replica (src/serve_deploy.c), the
 * cheapest deployment within the point's GPUs that meets the workload's P99 TTFT and TPOT SLOs at the target rate,
 * ranked by $ per million output tokens then J per token. Its stack (base.software or the software axis) is
 * calibrated per accelerator family like serve's (data/serving/calibration.json). Runs are seeded, so a point is
 * a pure function of the spec and its index: the output stays byte-identical across ranks. */
#include "sweep_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SW_SERVE_CANDIDATES 64 /* layouts of one system: 3 precisions x TP 1..8 x PP 1..2 (x EP), with room */

/* The point's workload, stack and rate: its axes' levels, else the base's. */
static void serve_levels(const sp_sweep *sw, json_t *const *vals, const sp_serve_workload **w,
                         const sp_serve_stack **st, double *rate)
{
    *w = &sw->workload;
    *st = &sw->stack;
    *rate = sw->rate;
    for (int a = 0; a < sw->naxes; a++) {
        const sw_axis *x = &sw->ax[a];
        char text[64];
        double num;
        if (!vals[a])
            continue;
        if (x->kind == SW_WORKLOAD)
            *w = &x->wl[sw_level(x, vals[a])];
        else if (x->kind == SW_SOFTWARE && x->stack)
            *st = &x->stack[sw_level(x, vals[a])];
        else if (x->kind == SW_RATE) {
            sw_value_text(vals[a], text, sizeof text, &num);
            *rate = num;
        }
    }
}

static void take_candidate(const sp_sweep *sw, const sp_system *s, const sp_serve_candidate *c, sp_sweep_point *p)
{
    p->gpus = c->gpus;
    p->tp = c->tp, p->pp = c->pp, p->ep = c->ep, p->prefill_gpus = c->prefill_gpus;
    p->replicas = c->gpus / (c->tp * c->pp * c->ep);
    snprintf(p->dtype, sizeof p->dtype, "%s", sp_dtype_name(c->weights));
    snprintf(p->kv_dtype, sizeof p->kv_dtype, "%s", sp_dtype_name(c->kv));
    p->replica_rate = c->replica_rate;
    p->tokens_per_s = c->throughput_tokens_per_s;
    p->ttft_p99_s = c->ttft_p99_s;
    p->tpot_p99_s = c->tpot_p99_s;
    p->usd_per_mtok = c->usd_per_million_tokens;
    p->energy_j_per_token = c->energy_j_per_token;
    p->tokens_per_s_per_usd = sw_per_capital(s, p->gpus, p->tokens_per_s);
    /* the Pareto front of a serving sweep: latency (P99 TPOT) x cost ($/M tokens) x energy (J/token) */
    p->time_s = p->tpot_p99_s;
    p->cost_usd = p->usd_per_mtok;
    p->energy_j = p->energy_j_per_token;
    p->objective = sw->obj == SP_SWEEP_OBJ_ENERGY                 ? p->energy_j_per_token
                   : sw->obj == SP_SWEEP_OBJ_TOKENS_PER_S_PER_USD ? -p->tokens_per_s_per_usd
                                                                  : p->usd_per_mtok;
}

void sw_serve_point(const sp_sweep *sw, json_t *const *vals, const sp_model *m, const sp_system *s, sp_sweep_point *p)
{
    const sp_serve_workload *w;
    const sp_serve_stack *st;
    serve_levels(sw, vals, &w, &st, &p->rate);
    sp_serve_opts o;
    sp_serve_defaults(&o);
    o.stack = *st;
    /* serve --search's per-run settings (800 requests, 6 bisection steps), co-located deployments only */
    sp_serve_search_opts so = {sw->data_dir, p->rate, p->gpus, 800, 6, 0, 0};
    sp_serve_candidate c[SW_SERVE_CANDIDATES];
    int n = 0;
    sp_error e2 = {0};
    if (sp_serve_search(m, s, 1, w, &o, &so, c, SW_SERVE_CANDIDATES, &n, &e2)) {
        sw_note(p, SP_PT_INVALID, e2.msg);
        return;
    }
    if (n == 0 || !c[0].ok) {
        int fit = n > 0 && strstr(c[0].why, "fit") != NULL;
        char msg[400];
        snprintf(msg, sizeof msg, "no deployment meets the SLOs at %.4g req/s within %d GPUs%s%.192s", p->rate,
                 p->gpus, n > 0 ? ": " : "", n > 0 ? c[0].why : "");
        sw_note(p, fit ? SP_PT_NOFIT : SP_PT_CONSTRAINT, msg);
        return;
    }
    take_candidate(sw, s, &c[0], p);
}
