/* Sweep results: CSV rows (written in point order, parsed back by --resume: numbers are printed with the fewest
 * digits that read back to the same double, so a resumed file is byte-identical to an uninterrupted one), the
 * Pareto front over (time, cost, energy), one-at-a-time axis effects around the base design, and the result JSON.
 */
#include "sweep_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { C_INT, C_DBL, C_STR, C_RECOMPUTE } col_type;
typedef struct {
    const char *name;
    col_type type;
    size_t off, size;
} column;

#define CI(n, f) {n, C_INT, offsetof(sp_sweep_point, f), 0}
#define CD(n, f) {n, C_DBL, offsetof(sp_sweep_point, f), 0}
#define CS(n, f) {n, C_STR, offsetof(sp_sweep_point, f), sizeof((sp_sweep_point *)0)->f}
static const column cols[] = {
    CI("gpus", gpus), CI("global_batch", global_batch), CI("seq_len", seq_len), CI("tp", tp), CI("pp", pp), CI("dp", dp),
    CI("cp", cp), CI("ep", ep), CI("vpp", vpp), CS("schedule", schedule), CI("micro_batch", micro_batch),
    {"recompute", C_RECOMPUTE, offsetof(sp_sweep_point, recompute), 0}, CI("sequence_parallel", seq_parallel),
    CI("zero", zero), CI("etp", etp), CI("ep_fold", ep_fold), CS("dtype", dtype), CD("step_time_s", step_time_s), CD("mfu", mfu),
    CD("tokens_per_s", tokens_per_s), CD("memory_per_gpu_bytes", memory_bytes), CD("tokens", tokens),
    CD("time_s", time_s), CD("energy_j", energy_j), CD("cost_usd", cost_usd), CD("cloud_usd", cloud_usd),
    CD("tokens_per_s_per_usd", tokens_per_s_per_usd), CD("rack_power_w", rack_power_w),
    CD("accel_price_usd", accel_price_usd), CD("objective", objective), CD("compute_s", t.compute),
    CD("memory_bound_s", t.memory_bound), CD("recompute_s", t.recompute), CD("tp_comm_s", t.tp_comm),
    CD("cp_comm_s", t.cp_comm), CD("ep_comm_s", t.ep_comm), CD("pp_comm_s", t.pp_comm), CD("dp_comm_s", t.dp_comm),
    CD("bubble_s", t.bubble), CD("optimizer_s", t.optimizer), CD("imbalance_s", t.imbalance),
    CS("bottleneck", bottleneck), CS("note", note)};
/* Serving sweeps: the cheapest deployment meeting the SLOs at the target rate (sweep_serve.c). */
static const column serve_cols[] = {
    CI("gpus", gpus), CI("replicas", replicas), CI("tp", tp), CI("pp", pp), CI("ep", ep),
    CI("prefill_gpus", prefill_gpus), CS("weights", dtype), CS("kv_dtype", kv_dtype), CD("rate_requests_per_s", rate),
    CD("replica_rate_requests_per_s", replica_rate), CD("throughput_tokens_per_s", tokens_per_s),
    CD("ttft_p99_s", ttft_p99_s), CD("tpot_p99_s", tpot_p99_s), CD("usd_per_million_tokens", usd_per_mtok),
    CD("energy_j_per_token", energy_j_per_token), CD("tokens_per_s_per_usd", tokens_per_s_per_usd),
    CD("rack_power_w", rack_power_w), CD("accel_price_usd", accel_price_usd), CD("objective", objective),
    CS("note", note)};

static const column *table(const sp_sweep *sw, size_t *n)
{
    *n = sw->serve ? sizeof serve_cols / sizeof serve_cols[0] : sizeof cols / sizeof cols[0];
    return sw->serve ? serve_cols : cols;
}

static void put(char *buf, size_t n, size_t *w, const char *s)
{
    size_t l = strlen(s);
    if (*w + l < n) {
        memcpy(buf + *w, s, l + 1);
        *w += l;
    }
}

/* The shortest %.Ng (15..17 digits) that reads back to v; "" for NaN/inf (JSON null, CSV empty). */
static void fmt_double(char *out, size_t n, double v)
{
    out[0] = 0;
    if (!isfinite(v))
        return;
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, n, "%.*g", digits, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

void sp_sweep_csv_header(const sp_sweep *sw, char *buf, size_t n)
{
    size_t w = 0;
    buf[0] = 0;
    put(buf, n, &w, "index,status");
    for (int a = 0; a < sw->naxes; a++) {
        put(buf, n, &w, ",axis:"); /* prefixed: an axis may share a name with a result column (gpus) */
        put(buf, n, &w, sw->ax[a].field);
    }
    size_t nc;
    const column *cols_ = table(sw, &nc);
    for (size_t c = 0; c < nc; c++) {
        put(buf, n, &w, ",");
        put(buf, n, &w, cols_[c].name);
    }
}

void sp_sweep_csv_row(const sp_sweep *sw, const sp_sweep_point *p, char *buf, size_t n)
{
    size_t w = 0;
    char f[512];
    buf[0] = 0;
    snprintf(f, sizeof f, "%lld,%s", p->index, sp_sweep_status_name(p->status));
    put(buf, n, &w, f);
    for (int a = 0; a < sw->naxes; a++) {
        double num;
        put(buf, n, &w, ",");
        sp_sweep_axis_value(sw, p->index, a, f, sizeof f, &num);
        put(buf, n, &w, f);
    }
    size_t nc;
    const column *cols_ = table(sw, &nc);
    for (size_t c = 0; c < nc; c++) {
        const char *at = (const char *)p + cols_[c].off;
        int iv;
        double dv;
        memcpy(&iv, at, sizeof iv);
        if (cols_[c].type == C_INT)
            snprintf(f, sizeof f, "%d", iv);
        else if (cols_[c].type == C_RECOMPUTE)
            snprintf(f, sizeof f, "%s", p->status == SP_PT_OK || p->tp ? sp_recompute_name((sp_recompute)iv) : "");
        else if (cols_[c].type == C_STR)
            snprintf(f, sizeof f, "%s", at);
        else {
            memcpy(&dv, at, sizeof dv);
            fmt_double(f, sizeof f, dv);
        }
        put(buf, n, &w, ",");
        put(buf, n, &w, f);
    }
}

static sp_status parse_field(const column *c, const char *s, size_t len, sp_sweep_point *p)
{
    char f[512];
    char *end;
    snprintf(f, sizeof f, "%.*s", (int)len, s);
    char *at = (char *)p + c->off;
    if (c->type == C_STR) {
        snprintf(at, c->size, "%s", f);
        return SP_OK;
    }
    if (c->type == C_RECOMPUTE) {
        int r = !*f || strcmp(f, "none") == 0 ? 0 : strcmp(f, "selective") == 0 ? 1 : strcmp(f, "full") == 0 ? 2 : -1;
        memcpy(at, &r, sizeof r);
        return r < 0 ? SP_EPARSE : SP_OK;
    }
    if (c->type == C_INT) {
        long v = strtol(f, &end, 10);
        int iv = (int)v;
        memcpy(at, &iv, sizeof iv);
        return *end || end == f ? SP_EPARSE : SP_OK;
    }
    double d = *f ? strtod(f, &end) : NAN;
    memcpy(at, &d, sizeof d);
    return *f && *end ? SP_EPARSE : SP_OK;
}

sp_status sp_sweep_csv_parse(const sp_sweep *sw, const char *line, sp_sweep_point *p, sp_error *err)
{
    memset(p, 0, sizeof *p);
    const char *s = line;
    size_t nc;
    const column *cols_ = table(sw, &nc);
    int field = 0, total = 2 + sw->naxes + (int)nc;
    char expect[512], got[512];
    for (; field < total; field++) {
        size_t len = strcspn(s, ",\n");
        snprintf(got, sizeof got, "%.*s", (int)len, s);
        double num;
        if (field == 0)
            p->index = strtoll(got, NULL, 10);
        else if (field == 1) {
            for (p->status = 0; p->status <= SP_PT_INVALID && strcmp(sp_sweep_status_name(p->status), got); p->status++)
                ;
            if (p->status > SP_PT_INVALID)
                return sp_fail(err, SP_EPARSE, "row %lld: unknown status '%s'", p->index, got);
        } else if (field < 2 + sw->naxes) {
            sp_sweep_axis_value(sw, p->index, field - 2, expect, sizeof expect, &num);
            if (strcmp(expect, got) != 0)
                return sp_fail(err, SP_EPARSE, "row %lld: %s is '%s' but the spec gives '%s' (another spec's output?)",
                               p->index, sw->ax[field - 2].field, got, expect);
        } else if (parse_field(&cols_[field - 2 - sw->naxes], s, len, p))
            return sp_fail(err, SP_EPARSE, "row %lld: column '%s': cannot read '%s'", p->index,
                           cols_[field - 2 - sw->naxes].name, got);
        s += len;
        if (*s != ',')
            break;
        s++;
    }
    if (field != total - 1 || (*s && *s != '\n'))
        return sp_fail(err, SP_EPARSE, "row %lld: expected %d columns", p->index, total);
    if (sw->serve) /* the front's coordinates of a serving point (sweep_serve.c) */
        p->time_s = p->tpot_p99_s, p->cost_usd = p->usd_per_mtok, p->energy_j = p->energy_j_per_token;
    return SP_OK;
}

/* ---- Pareto front ---- */

static int ok_point(const sp_sweep_point *p)
{
    return p->status == SP_PT_OK && isfinite(p->time_s) && isfinite(p->cost_usd) && isfinite(p->energy_j);
}

typedef struct {
    double t, c, e;
    long long i;
} tce;

static int by_time(const void *a, const void *b)
{
    const tce *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->c != y->c)
        return x->c < y->c ? -1 : 1;
    if (x->e != y->e)
        return x->e < y->e ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

long long sp_sweep_pareto(const sp_sweep_point *pts, long long n, long long *out)
{
    long long m = 0, front = 0;
    tce *k = malloc(sizeof *k * (size_t)(n > 0 ? n : 1));
    if (!k)
        return 0;
    for (long long i = 0; i < n; i++)
        if (ok_point(&pts[i]))
            k[m++] = (tce){pts[i].time_s, pts[i].cost_usd, pts[i].energy_j, i};
    qsort(k, (size_t)m, sizeof *k, by_time);
    for (long long q = 0; q < m; q++) { /* sorted by time: q is dominated by an earlier front point no worse in cost and energy */
        int dominated = 0;
        for (long long f = 0; f < front && !dominated; f++)
            dominated = k[f].c <= k[q].c && k[f].e <= k[q].e && (k[f].t < k[q].t || k[f].c < k[q].c || k[f].e < k[q].e);
        if (!dominated)
            k[front++] = k[q];
    }
    for (long long f = 0; f < front; f++)
        out[f] = k[f].i;
    free(k);
    return front;
}

/* ---- one-at-a-time effects around the base design ---- */

static double level_obj(const sp_sweep *sw, sp_sweep_ws *ws, int a, json_t *v, sp_error *err)
{
    json_t *vals[SP_SWEEP_MAX_AXES] = {0};
    vals[a] = v;
    sp_sweep_point p;
    if (sw_eval_values(sw, ws, vals, &p, err))
        return NAN;
    return p.status == SP_PT_OK ? p.objective : NAN;
}

static void axis_effect(const sp_sweep *sw, sp_sweep_ws *ws, int a, double base, sp_sweep_effect *e, sp_error *err)
{
    const sw_axis *x = &sw->ax[a];
    memset(e, 0, sizeof *e);
    e->axis = a;
    e->base_obj = base;
    e->n = x->n ? (x->n < SP_SWEEP_EFFECT_LEVELS ? x->n : SP_SWEEP_EFFECT_LEVELS) : 5;
    double lo = NAN, hi = NAN;
    for (int k = 0; k < e->n; k++) {
        json_t *v = x->n ? json_incref(json_array_get(x->values, (size_t)(e->n > 1 ? (long long)k * (x->n - 1) / (e->n - 1) : 0)))
                         : NULL;
        if (!x->n) {
            double t = k / 4.0, val = x->log ? exp(log(x->lo) + t * (log(x->hi) - log(x->lo))) : x->lo + t * (x->hi - x->lo);
            v = x->integer ? json_integer(llround(val)) : json_real(val);
        }
        double num;
        sw_value_text(v, e->label[k], sizeof e->label[k], &num);
        e->x[k] = x->categorical ? k : num;
        e->obj[k] = level_obj(sw, ws, a, v, err);
        json_decref(v);
        if (isfinite(e->obj[k])) {
            lo = isnan(lo) || e->obj[k] < lo ? e->obj[k] : lo;
            hi = isnan(hi) || e->obj[k] > hi ? e->obj[k] : hi;
        }
    }
    double ref = isfinite(base) && base != 0 ? base : lo; /* no plan at the base design: the axis' best level */
    e->swing = isfinite(lo) && ref != 0 ? (hi - lo) / fabs(ref) : NAN;
    e->elasticity = NAN;
    int first = -1, last = -1;
    for (int k = 0; k < e->n; k++)
        if (isfinite(e->obj[k]) && e->obj[k] != 0 && e->x[k] > 0)
            last = k, first = first < 0 ? k : first;
    if (!x->categorical && first >= 0 && e->x[last] != e->x[first])
        e->elasticity = log(fabs(e->obj[last] / e->obj[first])) / log(e->x[last] / e->x[first]);
}

sp_status sp_sweep_effects(const sp_sweep *sw, sp_sweep_effect *out, sp_error *err)
{
    sp_sweep_ws *ws = sp_sweep_ws_new();
    if (!ws)
        return sp_fail(err, SP_ENOMEM, "sweep: out of memory");
    json_t *none[SP_SWEEP_MAX_AXES] = {0};
    sp_sweep_point b;
    sw_eval_values(sw, ws, none, &b, err);
    double base = b.status == SP_PT_OK ? b.objective : NAN;
    for (int a = 0; a < sw->naxes; a++)
        axis_effect(sw, ws, a, base, &out[a], err);
    sp_sweep_ws_free(ws);
    return SP_OK;
}
