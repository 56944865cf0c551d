/* scaleplan forecast (DESIGN.md §3.13, docs/forecast.md): from a starting frontier (the largest run's compute and
 * year) and growth rates, for each year the largest training run each constraint allows, which one binds first,
 * and what the trend run would need.
 *
 * Every constraint is a closed form of the inputs, so a decade is answered in microseconds:
 *   data_movement   the linear-regime end of Erdil & Schneider-Joseph (2024) for that year's accelerator: their
 *                   closed-form critical compute (limits_epoch.c, sp_epoch_t_crit, alpha = 0) on the paper's H100
 *                   with FLOP/s, HBM and network bandwidth grown at their own rates from hw_ref_year. Soft: beyond
 *                   it utilization falls, the run is still possible.
 *   latency_wall    their closed-form latency limit (sp_epoch_t_limit) at that year's run duration and latency.
 *   power_*         supply x duration x system FLOP per joule (accelerator peak x precision x utilization, per
 *                   accelerator + host + network watts x PUE, efficiency grown at flops_per_w_growth).
 *   chips           the lab's share of the accelerators in service (production of the last lifetime years, in
 *                   H100-equivalents) x what one H100e does in the run.
 *   data            C = 6 N D with D = stock x epochs and N = D / tokens_per_param (compute-optimal at 20).
 *   cost            budget / (amortised capex + energy per FLOP).
 * Ranges: each input has a central value and the ends that make the limit lower (lo) and higher (hi); a
 * constraint's low/high evaluate it with every input at that end.
 */
#include "scaleplan_forecast.h"
#include "call.h"
#include "scaleplan_limits.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YEAR_S (365.25 * 86400)
#define DAY_S 86400.0

/* One line per parameter, in sp_fc_param order; the sources of the values are in the data files. */
static const sp_fc_param_info params[SP_FC_NPARAMS] = {
    {"start_year", 1950, 2200, SP_UNIT_NONE, "year of the starting frontier run", "start-year"},
    {"start_flop", 1e15, 1e40, SP_UNIT_FLOP, "training compute of the largest run in start_year (FLOP)", "start-flop"},
    {"compute_growth", 1, 100, SP_UNIT_NONE, "growth of the largest run's compute (x/yr)", "compute-growth"},
    {"hw_ref_year", 1950, 2200, SP_UNIT_NONE, "year of the reference accelerator (H100) the rates start from", "hw-ref-year"},
    {"accel_flops", 1e9, 1e20, SP_UNIT_FLOPS, "dense 16-bit peak of one H100-equivalent (FLOP/s)", "accel-flops"},
    {"precision", 0.1, 16, SP_UNIT_NONE, "peak multiplier of the training precision vs 16-bit (2 = FP8)", "precision"},
    {"utilization", 0.001, 1, SP_UNIT_NONE, "model FLOP utilization of the run", "utilization"},
    {"flops_growth", 0.5, 10, SP_UNIT_NONE, "growth of one accelerator's peak FLOP/s (x/yr)", "flops-growth"},
    {"flops_per_w_growth", 0.5, 10, SP_UNIT_NONE, "growth of FLOP/s per watt (x/yr)", "flops-per-w-growth"},
    {"flops_per_usd_growth", 0.5, 10, SP_UNIT_NONE, "growth of FLOP/s per dollar of hardware (x/yr)", "flops-per-usd-growth"},
    {"hbm_growth", 0.5, 10, SP_UNIT_NONE, "growth of one accelerator's memory bandwidth (x/yr)", "hbm-growth"},
    {"net_growth", 0.5, 10, SP_UNIT_NONE, "growth of one accelerator's scale-out bandwidth (x/yr)", "net-growth"},
    {"accel_w", 1, 1e5, SP_UNIT_NONE, "accelerator power in hw_ref_year (W)", "accel-w"},
    {"host_w", 0, 1e5, SP_UNIT_NONE, "host (CPU, memory, fans, NVSwitch) power per accelerator (W)", "host-w"},
    {"network_w", 0, 1e5, SP_UNIT_NONE, "scale-out network power per accelerator (W)", "network-w"},
    {"pue", 1, 5, SP_UNIT_NONE, "power usage effectiveness of the facility", "pue"},
    {"duration_days", 1, 3650, SP_UNIT_NONE, "training duration in start_year (days)", "duration-days"},
    {"duration_growth", 0.5, 5, SP_UNIT_NONE, "growth of the training duration (x/yr)", "duration-growth"},
    {"max_duration_days", 1, 3650, SP_UNIT_NONE, "longest training run considered (days)", "max-duration-days"},
    {"power_ref_year", 1950, 2200, SP_UNIT_NONE, "year of the power-supply values", "power-ref-year"},
    {"campus_gw", 1e-6, 1e4, SP_UNIT_NONE, "power one campus can give one run in power_ref_year (GW)", "campus-gw"},
    {"distributed_gw", 1e-6, 1e4, SP_UNIT_NONE, "power a run spread over several sites can get in power_ref_year (GW)", "distributed-gw"},
    {"power_growth", 0.5, 10, SP_UNIT_NONE, "growth of the power supply for the largest run (x/yr)", "power-growth"},
    {"production_ref_year", 1950, 2200, SP_UNIT_NONE, "year of the accelerator-production value", "production-ref-year"},
    {"production_h100e", 1, 1e13, SP_UNIT_NONE, "AI accelerators produced in production_ref_year (H100-equivalents)", "production-h100e"},
    {"production_growth", 0.5, 10, SP_UNIT_NONE, "growth of accelerator production (x/yr)", "production-growth"},
    {"accel_lifetime_years", 1, 20, SP_UNIT_NONE, "years an accelerator stays in service (and is amortised over)", "accel-lifetime-years"},
    {"lab_share", 1e-6, 1, SP_UNIT_NONE, "share of the accelerators in service one run can use", "lab-share"},
    {"stock_ref_year", 1950, 2200, SP_UNIT_NONE, "year of the data-stock value", "stock-ref-year"},
    {"text_stock_tokens", 1e6, 1e22, SP_UNIT_NONE, "stock of usable training tokens in stock_ref_year", "text-stock-tokens"},
    {"stock_growth", 0.5, 10, SP_UNIT_NONE, "growth of the data stock (x/yr)", "stock-growth"},
    {"epochs", 1, 100, SP_UNIT_NONE, "passes over the stock that count as new data", "epochs"},
    {"tokens_per_param", 0.1, 1e5, SP_UNIT_NONE, "training tokens per parameter (20 = compute-optimal)", "tokens-per-param"},
    {"latency_s", 1e-9, 1, SP_UNIT_TIME, "serial latency per matmul: kernel + network (s)", "latency-s"},
    {"latency_alpha", 0, 0.45, SP_UNIT_NONE, "batch-size minus depth exponent in compute (latency-wall closed form)", "latency-alpha"},
    {"capex_usd_per_accel", 1, 1e9, SP_UNIT_NONE, "hardware cost per accelerator in hw_ref_year, servers and network included (USD)", "capex-usd-per-accel"},
    {"energy_usd_per_kwh", 0, 10, SP_UNIT_NONE, "price of electricity (USD/kWh)", "energy-usd-per-kwh"},
    {"budget_ref_year", 1950, 2200, SP_UNIT_NONE, "year of the budget value", "budget-ref-year"},
    {"budget_usd", 0, 1e16, SP_UNIT_NONE, "what one run may cost in budget_ref_year (USD; 0 = no budget)", "budget-usd"},
    {"budget_growth", 0.5, 10, SP_UNIT_NONE, "growth of the budget (x/yr)", "budget-growth"},
};

static const char *cnames[SP_FCC_N] = {"data_movement", "latency_wall", "power_single_campus", "power_distributed",
                                       "chips", "data", "cost"};

const sp_fc_param_info *sp_forecast_param(int i) { return i >= 0 && i < SP_FC_NPARAMS ? &params[i] : NULL; }

const char *sp_forecast_constraint_name(int c) { return c >= 0 && c < SP_FCC_N ? cnames[c] : "none"; }

static int param_index(const char *key)
{
    for (int i = 0; i < SP_FC_NPARAMS; i++)
        if (strcmp(params[i].key, key) == 0)
            return i;
    return -1;
}

sp_status sp_forecast_set(sp_forecast_inputs *in, const char *key, double v, sp_error *err)
{
    int i = param_index(key);
    if (i < 0)
        return sp_fail(err, SP_EINVAL, "forecast: unknown parameter '%s'", key);
    if (!isfinite(v) || v < params[i].min || v > params[i].max)
        return sp_fail(err, SP_EINVAL, "--%s: %g is outside %g..%g", params[i].opt, v, params[i].min, params[i].max);
    in->p[i] = (sp_fc_value){v, v, v};
    return SP_OK;
}

/* One parameter object of a data file: {"value", "low", "high", "source"}. */
static sp_status load_param(json_t *o, const char *path, int i, sp_forecast_inputs *in, sp_error *err)
{
    const char *k = params[i].key;
    json_t *po = json_object_get(o, k);
    if (!json_is_object(po))
        return sp_fail(err, SP_EINVAL, "%s: params.%s: missing (an object with value and source)", path, k);
    const char *src = json_string_value(json_object_get(po, "source"));
    if (!src || !src[0])
        return sp_fail(err, SP_EINVAL, "%s: params.%s: every value needs a non-empty 'source'", path, k);
    static const char *f[3] = {"value", "low", "high"};
    double x[3];
    for (int j = 0; j < 3; j++) {
        json_t *v = json_object_get(po, f[j]);
        if (!v && j > 0) {
            x[j] = x[0];
            continue;
        }
        if (!json_is_number(v))
            return sp_fail(err, SP_EINVAL, "%s: params.%s.%s: must be a number", path, k, f[j]);
        x[j] = json_number_value(v);
        if (!isfinite(x[j]) || x[j] < params[i].min || x[j] > params[i].max)
            return sp_fail(err, SP_EINVAL, "%s: params.%s.%s: %g is outside %g..%g", path, k, f[j], x[j], params[i].min,
                           params[i].max);
    }
    in->p[i] = (sp_fc_value){x[0], x[1], x[2]};
    return SP_OK;
}

sp_status sp_forecast_load(const char *data_dir, const char *name_or_path, sp_forecast_inputs *in, sp_error *err)
{
    char path[1400];
    json_t *o;
    sp_status rc = sp_preset_file(data_dir, "forecast", "assumption set", name_or_path, &o, path, sizeof path, err);
    if (rc)
        return rc;
    memset(in, 0, sizeof *in);
    const char *nm = json_string_value(json_object_get(o, "name"));
    const char *ds = json_string_value(json_object_get(o, "description"));
    snprintf(in->name, sizeof in->name, "%s", nm ? nm : name_or_path);
    snprintf(in->description, sizeof in->description, "%s", ds ? ds : "");
    json_t *ps = json_object_get(o, "params");
    sp_status st = json_is_object(ps) ? SP_OK : sp_fail(err, SP_EINVAL, "%s: missing object 'params'", path);
    for (int i = 0; i < SP_FC_NPARAMS && !st; i++)
        st = load_param(ps, path, i, in, err);
    for (void *it = st ? NULL : json_object_iter(ps); it; it = json_object_iter_next(ps, it))
        if (param_index(json_object_iter_key(it)) < 0) {
            st = sp_fail(err, SP_EINVAL, "%s: params.%s: unknown parameter (not modelled)", path,
                         json_object_iter_key(it));
            break;
        }
    json_decref(o);
    return st;
}

/* ---- the constraints of one year, for one end of the ranges (v: one value per parameter) ---- */

static double duration_s(const double *v, double y)
{
    double d = v[SP_FC_DURATION_DAYS] * pow(v[SP_FC_DURATION_GROWTH], y - v[SP_FC_START_YEAR]);
    return fmin(d, v[SP_FC_MAX_DURATION_DAYS]) * DAY_S;
}

/* FLOP/s one H100-equivalent delivers to the run (peak x precision x utilization) */
static double h100e_flops(const double *v) { return v[SP_FC_ACCEL_FLOPS] * v[SP_FC_PRECISION] * v[SP_FC_UTILIZATION]; }

/* facility watts per accelerator in hw_ref_year */
static double watts_all(const double *v)
{
    return (v[SP_FC_ACCEL_W] + v[SP_FC_HOST_W] + v[SP_FC_NETWORK_W]) * v[SP_FC_PUE];
}

/* delivered FLOP per facility joule in year y */
static double flop_per_j(const double *v, double y)
{
    return h100e_flops(v) * pow(v[SP_FC_FLOPS_PER_W_GROWTH], y - v[SP_FC_HW_REF_YEAR]) / watts_all(v);
}

/* accelerators in service (H100e): production of the last `lifetime` years */
static double in_service(const double *v, double y)
{
    int life = (int)lround(v[SP_FC_ACCEL_LIFETIME_YEARS]);
    double s = 0;
    for (int k = 0; k < life; k++)
        s += v[SP_FC_PRODUCTION_H100E] * pow(v[SP_FC_PRODUCTION_GROWTH], y - k - v[SP_FC_PRODUCTION_REF_YEAR]);
    return s;
}

static double stock_tokens(const double *v, double y)
{
    return v[SP_FC_TEXT_STOCK_TOKENS] * pow(v[SP_FC_STOCK_GROWTH], y - v[SP_FC_STOCK_REF_YEAR]) * v[SP_FC_EPOCHS];
}

/* USD per delivered FLOP: capex amortised over the lifetime (FLOP/s per dollar improving) + energy */
static double usd_per_flop(const double *v, double y)
{
    double dt = y - v[SP_FC_HW_REF_YEAR];
    double capex = v[SP_FC_CAPEX_USD_PER_ACCEL] / pow(v[SP_FC_FLOPS_PER_USD_GROWTH], dt);
    double hw = capex / (v[SP_FC_ACCEL_LIFETIME_YEARS] * YEAR_S * h100e_flops(v));
    return hw + v[SP_FC_ENERGY_USD_PER_KWH] / 3.6e6 / flop_per_j(v, y);
}

static double budget(const double *v, double y)
{
    return v[SP_FC_BUDGET_USD] * pow(v[SP_FC_BUDGET_GROWTH], y - v[SP_FC_BUDGET_REF_YEAR]);
}

/* The paper's H100 (limits_epoch.c) with FLOP/s, HBM and network bandwidth grown to year y. */
static double data_movement(const double *v, double y, double T)
{
    sp_epoch_gpu g;
    if (sp_epoch_gpu_preset("h100", &g, NULL) != SP_OK)
        return NAN;
    double dt = y - v[SP_FC_HW_REF_YEAR];
    g.flop_per_clock_per_thread *= pow(v[SP_FC_FLOPS_GROWTH], dt);
    g.global_bps *= pow(v[SP_FC_HBM_GROWTH], dt);
    for (int i = 1; i < g.n_levels; i++)
        g.bw[i] *= pow(v[SP_FC_NET_GROWTH], dt);
    return sp_epoch_t_crit(&g, 0, T);
}

static void limits(const double *v, double y, double *lim)
{
    double T = duration_s(v, y), pg = pow(v[SP_FC_POWER_GROWTH], y - v[SP_FC_POWER_REF_YEAR]);
    lim[SP_FCC_DATA_MOVEMENT] = data_movement(v, y, T);
    lim[SP_FCC_LATENCY_WALL] = sp_epoch_t_limit(v[SP_FC_LATENCY_ALPHA], T, v[SP_FC_LATENCY_S]);
    lim[SP_FCC_POWER_CAMPUS] = v[SP_FC_CAMPUS_GW] * 1e9 * pg * T * flop_per_j(v, y);
    lim[SP_FCC_POWER_DISTRIBUTED] = v[SP_FC_DISTRIBUTED_GW] * 1e9 * pg * T * flop_per_j(v, y);
    lim[SP_FCC_CHIPS] = in_service(v, y) * v[SP_FC_LAB_SHARE] * h100e_flops(v) * T;
    double D = stock_tokens(v, y);
    lim[SP_FCC_DATA] = 6 * D * D / v[SP_FC_TOKENS_PER_PARAM];
    lim[SP_FCC_COST] = v[SP_FC_BUDGET_USD] > 0 ? budget(v, y) / usd_per_flop(v, y) : NAN;
}

static double trend(const double *v, double y)
{
    return v[SP_FC_START_FLOP] * pow(v[SP_FC_COMPUTE_GROWTH], y - v[SP_FC_START_YEAR]);
}

/* smallest wall (data movement is soft), with or without the single-campus power limit */
static int binding_of(const double *lim, int campus, double *flop)
{
    int best = -1;
    for (int c = SP_FCC_LATENCY_WALL; c < SP_FCC_N; c++) {
        if (c == (campus ? SP_FCC_POWER_DISTRIBUTED : SP_FCC_POWER_CAMPUS) || !isfinite(lim[c]))
            continue;
        if (best < 0 || lim[c] < lim[best])
            best = c;
    }
    *flop = best >= 0 ? lim[best] : NAN;
    return best;
}

static void one_year(const sp_forecast_inputs *in, int year, sp_fc_year *o)
{
    double v[SP_FC_NPARAMS], lo[SP_FC_NPARAMS], hi[SP_FC_NPARAMS], lc[SP_FCC_N], ll[SP_FCC_N], lh[SP_FCC_N];
    for (int i = 0; i < SP_FC_NPARAMS; i++)
        v[i] = in->p[i].v, lo[i] = in->p[i].lo, hi[i] = in->p[i].hi;
    /* the trend and the years are not ranges */
    for (int i = 0; i < SP_FC_NPARAMS; i++)
        if (i == SP_FC_START_YEAR || i == SP_FC_START_FLOP || i == SP_FC_COMPUTE_GROWTH || strstr(params[i].key, "year"))
            lo[i] = hi[i] = v[i];
    double y = year;
    limits(v, y, lc);
    limits(lo, y, ll);
    limits(hi, y, lh);
    memset(o, 0, sizeof *o);
    o->year = year;
    o->trend_flop = trend(v, y);
    o->duration_s = duration_s(v, y);
    for (int c = 0; c < SP_FCC_N; c++)
        o->lim[c] = (sp_fc_limit){lc[c], ll[c], lh[c]};
    double C = o->trend_flop, T = o->duration_s;
    o->power_w = C / (T * flop_per_j(v, y));
    o->accels_h100e = C / (T * h100e_flops(v));
    o->chips_available_h100e = in_service(v, y) * v[SP_FC_LAB_SHARE];
    o->tokens = sqrt(C * v[SP_FC_TOKENS_PER_PARAM] / 6);
    o->stock_tokens = stock_tokens(v, y);
    o->cost_usd = C * usd_per_flop(v, y);
    o->budget_usd = v[SP_FC_BUDGET_USD] > 0 ? budget(v, y) : 0;
    o->binding = binding_of(lc, 0, &o->feasible_flop);
    o->binding_campus = binding_of(lc, 1, &o->feasible_campus_flop);
}

/* The fractional year the trend first exceeds constraint c's central limit (log-linear between whole years). */
static void crossings(const sp_forecast_inputs *in, double *when)
{
    double v[SP_FC_NPARAMS], prev[SP_FCC_N], cur[SP_FCC_N];
    for (int i = 0; i < SP_FC_NPARAMS; i++)
        v[i] = in->p[i].v;
    for (int c = 0; c < SP_FCC_N; c++)
        when[c] = NAN;
    double y0 = v[SP_FC_START_YEAR];
    for (int k = 0; k <= 100; k++) {
        double y = y0 + k, t = log(trend(v, y));
        limits(v, y, cur);
        for (int c = 0; c < SP_FCC_N; c++) {
            double f = t - log(cur[c]);
            if (isnan(when[c]) && isfinite(f) && f > 0)
                when[c] = k == 0 || !isfinite(prev[c]) ? y : y - 1 + prev[c] / (prev[c] - f);
            prev[c] = f;
        }
    }
}

sp_status sp_forecast_run(const sp_forecast_inputs *in, int year_from, int year_to, sp_forecast_result *r,
                          sp_error *err)
{
    int n = year_to - year_from + 1;
    if (year_from < 1950 || year_to > 2200 || n < 1 || n > 64)
        return sp_fail(err, SP_EINVAL, "forecast: years %d..%d; allowed 1950..2200, at most 64 years, from <= to",
                       year_from, year_to);
    if (in->p[SP_FC_DURATION_DAYS].v > in->p[SP_FC_MAX_DURATION_DAYS].v)
        return sp_fail(err, SP_EINVAL, "--duration-days %g is above --max-duration-days %g",
                       in->p[SP_FC_DURATION_DAYS].v, in->p[SP_FC_MAX_DURATION_DAYS].v);
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", in->name);
    r->n_years = n;
    for (int i = 0; i < n; i++)
        one_year(in, year_from + i, &r->years[i]);
    crossings(in, r->binds_year);
    return SP_OK;
}

/* ---- JSON ---- */

static json_t *num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *constraint_json(const sp_fc_year *y, int c)
{
    const sp_fc_limit *l = &y->lim[c];
    json_t *o = json_object();
    json_object_set_new(o, "max_flop", num(l->max_flop));
    if (isfinite(l->max_flop) && !(l->low == l->max_flop && l->high == l->max_flop)) {
        json_object_set_new(o, "low", num(l->low));
        json_object_set_new(o, "high", num(l->high));
    }
    json_object_set_new(o, "binds", json_boolean(isfinite(l->max_flop) && y->trend_flop > l->max_flop));
    switch (c) {
    case SP_FCC_DATA_MOVEMENT:
        json_object_set_new(o, "soft", json_true());
        break;
    case SP_FCC_POWER_CAMPUS:
    case SP_FCC_POWER_DISTRIBUTED:
        json_object_set_new(o, "trend_power_w", num(y->power_w));
        break;
    case SP_FCC_CHIPS:
        json_object_set_new(o, "trend_accelerators_h100e", num(y->accels_h100e));
        json_object_set_new(o, "available_h100e", num(y->chips_available_h100e));
        break;
    case SP_FCC_DATA:
        json_object_set_new(o, "trend_tokens", num(y->tokens));
        json_object_set_new(o, "stock_tokens", num(y->stock_tokens));
        break;
    case SP_FCC_COST:
        json_object_set_new(o, "trend_cost_usd", num(y->cost_usd));
        json_object_set_new(o, "budget_usd", y->budget_usd > 0 ? json_real(y->budget_usd) : json_null());
        break;
    }
    return o;
}

void *sp_forecast_json(const sp_forecast_result *r)
{
    json_t *root = json_object(), *years = json_array(), *binds = json_object();
    json_object_set_new(root, "assumptions", json_string(r->name));
    for (int i = 0; i < r->n_years; i++) {
        const sp_fc_year *y = &r->years[i];
        json_t *o = json_object(), *cs = json_object();
        json_object_set_new(o, "year", json_integer(y->year));
        json_object_set_new(o, "trend_flop", num(y->trend_flop));
        json_object_set_new(o, "duration_s", num(y->duration_s));
        for (int c = 0; c < SP_FCC_N; c++)
            json_object_set_new(cs, cnames[c], constraint_json(y, c));
        json_object_set_new(o, "constraints", cs);
        json_object_set_new(o, "binding", json_string(sp_forecast_constraint_name(y->binding)));
        json_object_set_new(o, "feasible_flop", num(y->feasible_flop));
        json_object_set_new(o, "binding_single_campus", json_string(sp_forecast_constraint_name(y->binding_campus)));
        json_object_set_new(o, "feasible_single_campus_flop", num(y->feasible_campus_flop));
        json_array_append_new(years, o);
    }
    for (int c = 0; c < SP_FCC_N; c++)
        json_object_set_new(binds, cnames[c], num(r->binds_year[c]));
    json_object_set_new(root, "years", years);
    json_object_set_new(root, "binds_year", binds);
    return root;
}

/* ---- the request (sp_call and the CLI): "assumptions", every parameter by its option name, "year" | "from"/"to" ---- */

static sp_status request_params(sp_request *rq, sp_forecast_inputs *in, sp_error *err)
{
    for (int i = 0; i < SP_FC_NPARAMS; i++) {
        double v = NAN; /* the request keeps the option's name: a literal of the table */
        sp_status st = sp_req_double(rq, params[i].opt, params[i].unit, params[i].min, params[i].max, &v, err);
        if (st || (!isnan(v) && (st = sp_forecast_set(in, params[i].key, v, err))))
            return st;
    }
    return SP_OK;
}

sp_status sp_forecast_request(const char *data_dir, sp_request *rq, sp_forecast_inputs *in, sp_forecast_result *r,
                              sp_error *err)
{
    const char *as = "default";
    sp_status st = sp_req_str(rq, "assumptions", &as, err);
    if (st || (st = sp_req_named(sp_forecast_load(data_dir, as, in, err), "assumptions", err)) || (st = request_params(rq, in, err)))
        return st;
    int from = (int)in->p[SP_FC_START_YEAR].v, to = -1, year = -1;
    if ((st = sp_req_int(rq, "year", 1950, 2200, &year, err)) || (st = sp_req_int(rq, "from", 1950, 2200, &from, err)) ||
        (st = sp_req_int(rq, "to", 1950, 2200, &to, err)) || (st = sp_request_check_unused(rq, err)))
        return st;
    if (year > 0 && (sp_req_has(rq, "from") || sp_req_has(rq, "to")))
        return sp_fail(err, SP_EINVAL, "--year and --from/--to are exclusive");
    if (year > 0)
        from = to = year;
    return sp_forecast_run(in, from, to < 0 ? from + 10 : to, r, err);
}

sp_status sp_call_forecast(const char *data_dir, sp_request *rq, json_t **out, sp_error *err)
{
    sp_forecast_inputs *in = malloc(sizeof *in);
    sp_forecast_result *r = malloc(sizeof *r);
    sp_status st = in && r ? sp_forecast_request(data_dir, rq, in, r, err) : sp_fail(err, SP_ENOMEM, "forecast: out of memory");
    if (!st)
        *out = sp_forecast_json(r);
    free(in);
    free(r);
    return st;
}
