/* Power -> energy -> CO2e and cost of a run (DESIGN.md §3.11).
 *
 * Average power per accelerator = idle + (TDP − idle) × activity(u) + host share, × PUE for the facility.
 * activity(u) = F + (1 − F) × min(1, u / S), u the model FLOP utilization, F = 0.30, S = 0.60:
 *  - S (top end): at u >= 0.6 only large GEMMs run and the accelerator sits at its power limit (H100s lower
 *    their clocks in dense GEMM benchmarks). Node measurements of transformer training on 8x H100 HGX: 76 % of
 *    the 10.2 kW rating on average for compute-intensive jobs (Newkirk et al. 2025, arXiv:2506.14551), at most
 *    8.4 kW = 82 % "with GPUs near full utilization" (Latif et al. 2024, arXiv:2412.08602). At a typical
 *    u = 0.4-0.5 this model gives 66-72 % of the DGX H100 rating with the preset's average host share.
 *  - F (bottom end, UNCERTAIN): an accelerator held by a job but stalled on communication or memory-bound
 *    kernels keeps its clocks and HBM busy; 30 % of the idle-to-TDP range is our assumption (no published
 *    measurement pins it). docs/energy.md shows how the model does on every published row.
 * The two constants were chosen from the H100 measurements above, not fitted to training_energy.csv.
 * Host share: the system preset's average host/network/fan power per accelerator (half of the datasheet maximum
 * of the node minus its GPUs).
 * Cost: cloud = accelerator-hours × $/accelerator-hour; ownership = (accelerator price × server factor ×
 * (1 + interconnect share)) × hours / amortisation period + facility energy × price.
 */
#include "scaleplan.h"
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

void sp_energy_defaults(sp_energy_opts *o)
{
    memset(o, 0, sizeof *o);
    o->model = SP_POWER_ACTIVITY;
    o->pue = 0;
    o->grid_kg_per_kwh = -1;
    o->usd_per_accel_hour = -1;
    o->host_w_per_accel = -1;
    o->energy_usd_per_kwh = 0.08;   /* US industrial electricity 2023 ~ $0.08/kWh (EIA Electric Power Monthly) */
    o->server_factor = 1.4;         /* DGX A100 $199k for 8 x $17.5k GPUs: 199/140 = 1.42 (NVIDIA list, Epoch AI) */
    o->interconnect_share = 0.15;   /* cluster networking ~10-20 % of server cost (Epoch AI, 'The rising costs of
                                       training frontier AI models', 2024) */
    o->amortisation_years = 4;      /* typical accelerator depreciation period (Epoch AI 2024; hyperscaler 4-6 y) */
}

double sp_power_activity(double u)
{
    if (!(u > 0))
        u = 0;
    const double floor_ = 0.30, sat = 0.60; /* see the comment at the top of this file */
    double x = u / sat;
    return floor_ + (1 - floor_) * (x > 1 ? 1 : x);
}

sp_status sp_energy_estimate(const sp_system *s, double n_accels, double hours, double utilization,
                             const sp_energy_opts *o, sp_energy_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    const sp_accel *a = &s->acc;
    if (!(n_accels > 0) || !(hours >= 0) || !isfinite(n_accels * hours))
        return sp_fail(err, SP_EINVAL, "energy: accelerator count and hours must be positive and finite");
    if (!(a->tdp_w > 0))
        return sp_fail(err, SP_EINVAL, "energy: accelerator '%s' has no 'tdp_w' (power) in its preset", a->name);
    double pue = o->pue > 0 ? o->pue : s->pue;
    if (!(pue >= 1 && pue < 10))
        return sp_fail(err, SP_EINVAL, "energy: PUE %g; allowed 1..10 (a PUE below 1 is impossible)", pue);
    double grid = o->grid_kg_per_kwh >= 0 ? o->grid_kg_per_kwh : s->grid_kg_per_kwh;
    double price = o->usd_per_accel_hour >= 0 ? o->usd_per_accel_hour : s->usd_per_accel_hour;
    double host = o->host_w_per_accel >= 0 ? o->host_w_per_accel : s->host_w_per_accel;
    if (grid < 0 || price < 0 || host < 0 || o->energy_usd_per_kwh < 0)
        return sp_fail(err, SP_EINVAL, "energy: grid intensity, prices and host power must be >= 0");
    r->utilization = utilization;
    if (o->model == SP_POWER_TDP) {
        r->activity = 1;
        r->accel_w = a->tdp_w;
        r->host_w = 0;
    } else {
        r->activity = sp_power_activity(utilization);
        r->accel_w = a->idle_w + (a->tdp_w - a->idle_w) * r->activity;
        r->host_w = host;
    }
    r->facility_w = (r->accel_w + r->host_w) * pue;
    r->accel_hours = n_accels * hours;
    r->energy_kwh = r->accel_hours * r->facility_w / 1000;
    r->co2e_kg = r->energy_kwh * grid;
    r->cloud_usd = r->accel_hours * price;
    double years = o->amortisation_years > 0 ? o->amortisation_years : 4;
    r->own_capex_usd = a->price_usd * o->server_factor * (1 + o->interconnect_share) * r->accel_hours / (years * 8766);
    r->own_energy_usd = r->energy_kwh * o->energy_usd_per_kwh;
    r->own_usd = r->own_capex_usd + r->own_energy_usd;
    r->pue = pue;
    r->grid_kg_per_kwh = grid;
    r->usd_per_accel_hour = price;
    return SP_OK;
}

sp_status sp_region_intensity(const char *data_dir, const char *region, double *kg, char *source, size_t n,
                              sp_error *err)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/regions/regions.json", data_dir);
    json_error_t je;
    json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return sp_fail(err, SP_EIO, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    json_t *regs = json_object_get(o, "regions");
    json_t *r = json_object_get(regs, region);
    sp_status st = SP_OK;
    if (!r) {
        char list[SP_PRESET_LIST_MAX] = "", shown[768];
        size_t w = 0;
        const char *k;
        json_t *v;
        json_object_foreach(regs, k, v)
        {
            (void)v;
            if (w < sizeof list)
                w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", w ? ", " : "", k);
        }
        char near[128], dym[160] = "";
        if (sp_suggest(region, list, near, sizeof near))
            snprintf(dym, sizeof dym, " (did you mean '%s'?)", near);
        sp_preset_choices(list, strlen(region) + strlen(dym), "data/regions/regions.json", shown, sizeof shown);
        st = sp_fail(err, SP_EINVAL, "--region '%s' is not a region preset%s; available: %s (or give --grid KG_PER_KWH)",
                     region, dym, shown);
    } else {
        json_t *v = json_object_get(r, "kg_per_kwh");
        if (!json_is_number(v) || json_number_value(v) < 0)
            st = sp_fail(err, SP_EINVAL, "%s: region '%s' lacks a non-negative 'kg_per_kwh'", path, region);
        else {
            *kg = json_number_value(v);
            const char *src = json_string_value(json_object_get(r, "source"));
            if (source)
                snprintf(source, n, "%s", src ? src : "");
        }
    }
    json_decref(o);
    return st;
}
