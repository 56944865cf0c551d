/* Sweep designs and points: the axis values of point i (grid, random, Latin hypercube; a pure function of the
 * spec, the seed and i, so any rank computes any point), the model and system they make (the base presets as
 * JSON, patched, then parsed by the same loaders as preset files), and one full plan search per point.
 *
 * Why the fastest plan is the best plan by every objective: at one point the GPU count and the hardware are
 * fixed, so the run's cost (GPU-hours x a rate, plus energy), its energy (N x run time x facility power, where
 * power rises with utilisation but utilisation x time is fixed by the model FLOP) and tokens/s per $ of capital
 * are all non-decreasing in the step time. The point keeps the fastest plan (sp_search, objective time, top 1);
 * the objective ranks points (the best point, the Pareto front).
 */
#include "sweep_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sp_sweep_ws {
    sp_search_result r; /* one per thread, reused by every point */
    sp_search_entry best; /* its top-1 buffer */
};

sp_sweep_ws *sp_sweep_ws_new(void) { return malloc(sizeof(sp_sweep_ws)); }
void sp_sweep_ws_free(sp_sweep_ws *ws) { free(ws); }

unsigned long long sw_mix(unsigned long long x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

int sw_number(const char *text, double *out)
{
    static const sp_unit units[] = {SP_UNIT_NONE, SP_UNIT_BW, SP_UNIT_BYTES, SP_UNIT_TIME, SP_UNIT_FLOPS};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (sp_parse_quantity(text, units[i], "value", out, NULL) == SP_OK)
            return 1;
    return 0;
}

/* Uniform in [0, 1) for point i, axis a (53 random bits). */
static double unit(const sp_sweep *sw, long long i, int a)
{
    unsigned long long h = sw_mix(sw_mix(sw->seed) ^ sw_mix((unsigned long long)i * 31 + (unsigned long long)a + 1));
    return (double)(h >> 11) / 9007199254740992.0;
}

static json_t *continuous(const sw_axis *x, double t)
{
    double v = x->log ? exp(log(x->lo) + t * (log(x->hi) - log(x->lo))) : x->lo + t * (x->hi - x->lo);
    v = fmin(fmax(v, x->lo), x->hi); /* exp/log rounding at the ends */
    return x->integer ? json_integer(llround(v)) : json_real(v);
}

json_t *sw_axis_value(const sp_sweep *sw, int a, long long i)
{
    const sw_axis *x = &sw->ax[a];
    double t;
    if (sw->design == SW_GRID) {
        long long stride = 1;
        for (int b = a + 1; b < sw->naxes; b++)
            stride *= sw->ax[b].n;
        return json_incref(json_array_get(x->values, (size_t)((i / stride) % x->n)));
    }
    if (sw->design == SW_RANDOM)
        t = unit(sw, i, a);
    else /* Latin hypercube: the point's stratum on this axis, a uniform position inside it */
        t = ((double)sw->lhs[(size_t)a * (size_t)sw->n + (size_t)i] + unit(sw, i, a)) / (double)sw->n;
    if (!x->n)
        return continuous(x, t);
    int k = (int)(t * x->n);
    return json_incref(json_array_get(x->values, (size_t)(k < x->n ? k : x->n - 1)));
}

void sw_value_text(json_t *v, char *text, size_t n, double *num)
{
    *num = NAN;
    if (json_is_string(v)) {
        snprintf(text, n, "%s", json_string_value(v));
        if (!sw_number(text, num))
            *num = NAN;
    } else if (json_is_integer(v)) {
        snprintf(text, n, "%lld", (long long)json_integer_value(v));
        *num = (double)json_integer_value(v);
    } else if (json_is_real(v)) {
        snprintf(text, n, "%.17g", json_real_value(v));
        *num = json_real_value(v);
    } else {
        snprintf(text, n, "%s", json_is_true(v) ? "true" : "false");
        *num = json_is_true(v);
    }
}

void sp_sweep_axis_value(const sp_sweep *sw, long long i, int axis, char *text, size_t n, double *num)
{
    json_t *v = sw_axis_value(sw, axis, i);
    sw_value_text(v, text, n, num);
    if (sw->ax[axis].categorical)
        *num = NAN;
    json_decref(v);
}

int sw_set_path(json_t *root, const char *path, json_t *v)
{
    char key[128];
    size_t len = strcspn(path, ".");
    snprintf(key, sizeof key, "%.*s", (int)len, path);
    int last = path[len] == 0;
    if (json_is_array(root)) {
        char *end;
        long k = strtol(key, &end, 10);
        if (*end || k < 0 || (size_t)k >= json_array_size(root)) {
            json_decref(v);
            return -1;
        }
        return last ? json_array_set_new(root, (size_t)k, v) : sw_set_path(json_array_get(root, (size_t)k), path + len + 1, v);
    }
    if (!json_is_object(root)) {
        json_decref(v);
        return -1;
    }
    if (last)
        return json_object_set_new(root, key, v);
    json_t *child = json_object_get(root, key);
    if (!child) {
        child = json_object();
        json_object_set_new(root, key, child);
    }
    return sw_set_path(child, path + len + 1, v);
}

int sw_level(const sw_axis *x, json_t *v)
{
    for (int k = 0; k < x->n; k++)
        if (json_equal(json_array_get(x->values, (size_t)k), v))
            return k;
    return 0;
}

static json_t *preset_of(const sw_axis *x, json_t *v)
{
    for (int k = 0; k < x->n; k++)
        if (json_equal(json_array_get(x->values, (size_t)k), v))
            return x->preset[k];
    return NULL;
}

static sp_status parse_patched(const sp_sweep *sw, json_t *mj, json_t *sj, sp_model *m, sp_system *s, sp_error *err)
{
    char *mt = json_dumps(mj, JSON_COMPACT), *st = json_dumps(sj, JSON_COMPACT);
    sp_status rc = !mt || !st ? sp_fail(err, SP_ENOMEM, "out of memory") : SP_OK;
    if (!rc)
        rc = sp_parse_model("model", mt, strlen(mt), m, err);
    if (!rc)
        rc = sp_parse_system(sw->data_dir, "system", st, strlen(st), s, err);
    free(mt);
    free(st);
    return rc;
}

sp_status sw_build(const sp_sweep *sw, json_t *const *vals, sp_model *m, sp_system *s, sp_error *err)
{
    json_t *mj = sw->model, *sj = sw->system, *acc = NULL;
    for (int a = 0; a < sw->naxes; a++) {
        const sw_axis *x = &sw->ax[a];
        if (!vals[a])
            continue;
        if (x->kind == SW_MODEL_PRESET)
            mj = preset_of(x, vals[a]);
        else if (x->kind == SW_SYSTEM_PRESET)
            sj = preset_of(x, vals[a]);
        else if (x->kind == SW_ACCEL_PRESET)
            acc = preset_of(x, vals[a]);
    }
    mj = json_deep_copy(mj);
    sj = json_deep_copy(sj);
    if (acc && sj)
        json_object_set_new(sj, "accelerator", json_deep_copy(acc));
    sp_status rc = !mj || !sj ? sp_fail(err, SP_ENOMEM, "out of memory") : SP_OK;
    for (int a = 0; a < sw->naxes && !rc; a++) {
        const sw_axis *x = &sw->ax[a];
        if (!vals[a] || (x->kind != SW_FIELD_MODEL && x->kind != SW_FIELD_SYSTEM))
            continue;
        if (sw_set_path(x->kind == SW_FIELD_MODEL ? mj : sj, x->path, json_incref(vals[a])))
            rc = sp_fail(err, SP_EINVAL, "'%s': no such place in the %s (an array index out of range?)", x->field,
                         x->kind == SW_FIELD_MODEL ? "model" : "system");
    }
    if (!rc)
        rc = parse_patched(sw, mj, sj, m, s, err);
    json_decref(mj);
    json_decref(sj);
    return rc;
}

void sw_note(sp_sweep_point *p, int status, const char *msg)
{
    p->status = status;
    size_t w = 0;
    for (const char *q = msg; *q && w + 1 < sizeof p->note; q++) /* one CSV field: no commas, quotes, controls */
        p->note[w++] = *q == ',' ? ';' : *q == '"' ? '\'' : (unsigned char)*q < 32 ? ' ' : *q;
    p->note[w] = 0;
}

/* Workload of the point: GPUs, batch, sequence, precision and tokens, base values overridden by axes. */
static void workload(const sp_sweep *sw, json_t *const *vals, const sp_model *m, sp_sweep_point *p, sp_dtype *dt,
                     double *dur)
{
    p->gpus = sw->gpus;
    p->global_batch = sw->global_batch;
    p->seq_len = sw->seq_len;
    p->tokens = sw->tokens;
    *dur = sw->duration_s; /* a training duration (0: none) */
    *dt = sw->dtype;
    for (int a = 0; a < sw->naxes; a++) {
        char text[64];
        double num;
        if (!vals[a])
            continue;
        sw_value_text(vals[a], text, sizeof text, &num);
        switch (sw->ax[a].kind) {
        case SW_GPUS: p->gpus = (int)num; break;
        case SW_BATCH: p->global_batch = (int)num; break;
        case SW_SEQ: p->seq_len = (int)num; break;
        case SW_TOKENS: p->tokens = num; break;
        case SW_DURATION: *dur = num; break;
        case SW_DTYPE: sp_dtype_parse(text, dt, NULL); break;
        default: break;
        }
    }
    if (!p->seq_len)
        p->seq_len = m->max_seq;
    if (sw->flop > 0) /* a compute budget: the tokens it buys at this model's FLOP per token */
        p->tokens = sw->flop / sp_model_train_flops(m, p->seq_len, 1);
    snprintf(p->dtype, sizeof p->dtype, "%s", sp_dtype_name(*dt));
}

double sw_per_capital(const sp_system *s, int gpus, double tokens_per_s)
{
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    double capital = gpus * s->acc.price_usd * eo.server_factor * (1 + eo.interconnect_share);
    return capital > 0 ? tokens_per_s / capital : NAN;
}

/* Run time, energy, cost and the objective of the point's plan; then the constraints on the result. */
static void metrics(const sp_sweep *sw, const sp_system *s, double dur, sp_sweep_point *p)
{
    double tokens_per_step = (double)p->global_batch * p->seq_len;
    if (dur > 0) /* a duration: the tokens this plan trains in it */
        p->tokens = p->tokens_per_s * dur;
    double steps = p->tokens > 0 ? p->tokens / tokens_per_step : 1;
    p->time_s = dur > 0 ? dur : steps * p->step_time_s;
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    sp_energy_result er;
    sp_error e2;
    p->energy_j = p->cost_usd = p->cloud_usd = NAN;
    if (sp_energy_estimate(s, p->gpus, p->time_s / 3600, p->mfu, &eo, &er, &e2) == SP_OK) {
        p->energy_j = er.energy_kwh * 3.6e6;
        p->cloud_usd = er.cloud_usd;
        p->cost_usd = sw->cost_cloud ? er.cloud_usd : er.own_usd;
    }
    p->tokens_per_s_per_usd = sw_per_capital(s, p->gpus, p->tokens_per_s);
    p->objective = sw->obj == SP_SWEEP_OBJ_TIME     ? p->time_s
                   : sw->obj == SP_SWEEP_OBJ_COST   ? p->cost_usd
                   : sw->obj == SP_SWEEP_OBJ_ENERGY ? p->energy_j
                   : sw->obj == SP_SWEEP_OBJ_TOKENS ? -p->tokens
                                                    : -p->tokens_per_s_per_usd;
    char msg[160];
    if (sw->max_cost_usd > 0 && !(p->cost_usd <= sw->max_cost_usd)) {
        snprintf(msg, sizeof msg, "cost %.4g USD over max_cost_usd %.4g", p->cost_usd, sw->max_cost_usd);
        sw_note(p, SP_PT_CONSTRAINT, msg);
    } else if (sw->max_time_s > 0 && !(p->time_s <= sw->max_time_s)) {
        snprintf(msg, sizeof msg, "time %.4g s over max_time %.4g s", p->time_s, sw->max_time_s);
        sw_note(p, SP_PT_CONSTRAINT, msg);
    }
}

static void take_plan(const sp_search_entry *e, sp_sweep_point *p)
{
    const sp_plan *q = &e->plan;
    p->tp = q->tp, p->pp = q->pp, p->dp = q->dp, p->cp = q->cp, p->ep = q->ep, p->vpp = q->vpp;
    p->micro_batch = q->micro_batch, p->recompute = (int)q->recompute, p->seq_parallel = q->seq_parallel;
    p->zero = q->zero;
    p->etp = q->etp > 0 ? q->etp : q->tp, p->ep_fold = q->ep_fold;
    snprintf(p->schedule, sizeof p->schedule, "%s", sp_schedule_name(q->schedule, q->vpp));
    snprintf(p->dtype, sizeof p->dtype, "%s", sp_dtype_name(q->dtype));
    p->step_time_s = e->res.step_time_s;
    p->mfu = e->res.mfu;
    p->tokens_per_s = e->res.tokens_per_s;
    p->memory_bytes = e->res.mem.total;
    p->t = e->res.t;
    snprintf(p->bottleneck, sizeof p->bottleneck, "%s", e->res.bottleneck ? e->res.bottleneck : "");
}

static void search_point(const sp_sweep *sw, sp_sweep_ws *ws, const sp_model *m, const sp_system *s, sp_dtype dt,
                         double dur, const sp_software *soft, sp_sweep_point *p)
{
    sp_search_opts o;
    sp_search_defaults(&o);
    o.plan.n_gpus = p->gpus;
    o.plan.global_batch = p->global_batch;
    o.plan.seq_len = p->seq_len;
    o.plan.dtype = dt;
    o.top_k = 1;
    o.threads = 1; /* points run in parallel (ranks); one search thread each */
    o.max_vpp = sw->max_vpp;
    o.schedules = sw->schedules;
    o.max_mem_frac = sw->max_mem_frac;
    o.objective = SP_OBJ_TIME;
    sp_error e2 = {0};
    if (soft && sp_software_apply_search(soft, &o, &e2)) {
        sw_note(p, SP_PT_INVALID, e2.msg);
        return;
    }
    sp_status st = sp_search(m, s, &o, &ws->best, &ws->r, &e2);
    char msg[160];
    if (st == SP_EINFEASIBLE && isfinite(ws->r.min_overflow_bytes)) {
        snprintf(msg, sizeof msg, "no plan fits in memory (closest needs %.4g bytes more per GPU)", ws->r.min_overflow_bytes);
        sw_note(p, SP_PT_NOFIT, msg);
    } else if (st == SP_EINFEASIBLE)
        sw_note(p, SP_PT_NOPLAN, "no plan factors the GPUs and the global batch");
    else if (st)
        sw_note(p, SP_PT_INVALID, e2.msg);
    else {
        take_plan(&ws->r.top[0], p);
        metrics(sw, s, dur, p);
    }
}

/* The training stack of a point: its software axis' level, else base.software, else none (the system's own). */
static const sp_software *point_software(const sp_sweep *sw, json_t *const *vals)
{
    for (int a = 0; a < sw->naxes; a++)
        if (vals[a] && sw->ax[a].kind == SW_SOFTWARE && sw->ax[a].soft)
            return &sw->ax[a].soft[sw_level(&sw->ax[a], vals[a])];
    return sw->has_software ? &sw->software : NULL;
}

sp_status sw_eval_values(const sp_sweep *sw, sp_sweep_ws *ws, json_t *const *vals, sp_sweep_point *p, sp_error *err)
{
    (void)err;
    memset(p, 0, sizeof *p);
    p->index = -1;
    p->step_time_s = p->mfu = p->tokens_per_s = p->memory_bytes = p->time_s = p->energy_j = p->cost_usd = NAN;
    p->cloud_usd = p->tokens_per_s_per_usd = p->objective = NAN;
    p->rate = p->replica_rate = p->ttft_p99_s = p->tpot_p99_s = p->usd_per_mtok = p->energy_j_per_token = NAN;
    sp_model m;
    sp_system s;
    sp_error e2 = {0};
    if (sw_build(sw, vals, &m, &s, &e2)) {
        sw_note(p, SP_PT_INVALID, e2.msg);
        return SP_OK;
    }
    sp_dtype dt;
    double dur;
    workload(sw, vals, &m, p, &dt, &dur);
    int ra = sw->rack_accels ? sw->rack_accels : s.tier[0].size < p->gpus ? s.tier[0].size : p->gpus;
    p->rack_power_w = ra * (s.acc.tdp_w + s.host_w_per_accel);
    p->accel_price_usd = s.acc.price_usd;
    char msg[160];
    if (sw->max_rack_power_w > 0 && p->rack_power_w > sw->max_rack_power_w) {
        snprintf(msg, sizeof msg, "rack power %.4g W over max_rack_power_w %.4g", p->rack_power_w, sw->max_rack_power_w);
        sw_note(p, SP_PT_CONSTRAINT, msg);
    } else if (sw->max_accel_price_usd > 0 && p->accel_price_usd > sw->max_accel_price_usd) {
        snprintf(msg, sizeof msg, "accelerator price %.4g USD over max_accel_price_usd %.4g", p->accel_price_usd,
                 sw->max_accel_price_usd);
        sw_note(p, SP_PT_CONSTRAINT, msg);
    } else if (sw->serve)
        sw_serve_point(sw, vals, &m, &s, p);
    else {
        const sp_software *soft = point_software(sw, vals);
        if (soft)
            sp_software_apply_system(soft, &s);
        search_point(sw, ws, &m, &s, dt, dur, soft, p);
    }
    return SP_OK;
}

sp_status sp_sweep_eval(const sp_sweep *sw, sp_sweep_ws *ws, long long i, sp_sweep_point *p, sp_error *err)
{
    if (i < 0 || i >= sw->n)
        return sp_fail(err, SP_EINVAL, "sweep: point %lld out of range 0..%lld", i, sw->n - 1);
    json_t *vals[SP_SWEEP_MAX_AXES] = {0};
    for (int a = 0; a < sw->naxes; a++)
        if (!(vals[a] = sw_axis_value(sw, a, i))) {
            for (int b = 0; b < a; b++)
                json_decref(vals[b]);
            return sp_fail(err, SP_ENOMEM, "sweep: out of memory");
        }
    sp_status st = sw_eval_values(sw, ws, vals, p, err);
    p->index = i;
    for (int a = 0; a < sw->naxes; a++)
        json_decref(vals[a]);
    return st;
}

long long sp_sweep_count(const sp_sweep *sw) { return sw->n; }
int sp_sweep_naxes(const sp_sweep *sw) { return sw->naxes; }
const char *sp_sweep_axis_name(const sp_sweep *sw, int axis) { return sw->ax[axis].field; }
const char *sp_sweep_name(const sp_sweep *sw) { return sw->name; }
sp_sweep_obj sp_sweep_objective(const sp_sweep *sw) { return sw->obj; }
unsigned long long sp_sweep_hash(const sp_sweep *sw) { return sw->hash; }
int sp_sweep_is_serve(const sp_sweep *sw) { return sw->serve; }

const char *sp_sweep_status_name(int status)
{
    static const char *const names[] = {"ok", "constraint", "nofit", "noplan", "invalid"};
    return status >= 0 && status <= SP_PT_INVALID ? names[status] : "?";
}
