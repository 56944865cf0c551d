/* Energy validation: predicted energy and CO2e of published training runs (schema of
 * data/validation/training_energy.csv) from their hardware, accelerator count and duration; also the
 * `validate-energy` command (request -> sp_validate_energy_report -> JSON).
 *
 * Method per row (default: auto): a row that gives a measured average system power per chip
 * (avg_system_power_per_chip_W) or neither that nor a chip power is predicted with the physical (activity)
 * model. A row that gives no measured power but a per-chip power (chip_tdp_W) comes from a source that did not
 * measure: it computed energy as hours x that power x PUE (LLaMA-1 Table 15, Llama 2 model card). Such a row is
 * reproduced with that accounting ("stated"), so that its error measures the inputs (hours, power, PUE,
 * intensity), not a physical model the source never used; the physical prediction is kept beside it. */
#include "call.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* hardware column -> system preset (the accelerator and its usual host) */
static const char *system_for(const char *hw)
{
    static const struct {
        const char *prefix, *system;
    } map[] = {{"TPU v2", "tpu-v2-pod"}, {"TPUv2", "tpu-v2-pod"}, {"TPU v3", "tpu-v3-pod"}, {"TPUv3", "tpu-v3-pod"},
               {"V100", "dgx2-v100"},    {"P100", "p100-node"},    {"A100-80GB", "dgx-a100-80g"},
               {"A100-40GB", "dgx-a100-40g"}, {"H100", "dgx-h100"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strncmp(hw, map[i].prefix, strlen(map[i].prefix)) == 0)
            return map[i].system;
    return NULL;
}

/* The published figures of one row; SP_OK, or a reason in o->reason (the row is reported, not dropped). */
typedef struct {
    double chips, days, hours, flops, mwh, tco2, pue, grid, tdp, avg_w;
} energy_row_in;

static int read_row(const sp_csv *c, int r, energy_row_in *in, sp_energy_row *o)
{
    sp_error e = {0};
    if (sp_csv_double(c, r, "n_chips", 0, 0, 1e9, &in->chips, &e) || sp_csv_double(c, r, "train_days", 0, 0, 1e6, &in->days, &e) ||
        sp_csv_double(c, r, "accelerator_hours", 0, 0, 1e12, &in->hours, &e) ||
        sp_csv_double(c, r, "total_flops", 0, 0, 1e35, &in->flops, &e) || sp_csv_double(c, r, "energy_MWh", 0, 0, 1e9, &in->mwh, &e) ||
        sp_csv_double(c, r, "tCO2e", 0, 0, 1e9, &in->tco2, &e) || sp_csv_double(c, r, "pue", 0, 0, 10, &in->pue, &e) ||
        sp_csv_double(c, r, "grid_kgCO2e_per_kWh", -1, 0, 5, &in->grid, &e)) {
        snprintf(o->reason, sizeof o->reason, "not a run row: %s", e.msg); /* e.g. a power note */
        return 0;
    }
    if (sp_csv_col(c, "chip_tdp_W") < 0 || sp_csv_double(c, r, "chip_tdp_W", 0, 0, 1e5, &in->tdp, &e))
        in->tdp = 0; /* a range such as "350-400": the preset's TDP */
    /* measured average power present? (prose such as "system max 6.5 kW" counts as absent) */
    if (sp_csv_col(c, "avg_system_power_per_chip_W") < 0 ||
        sp_csv_double(c, r, "avg_system_power_per_chip_W", 0, 0, 1e5, &in->avg_w, &e))
        in->avg_w = 0;
    return 1;
}

/* What a row needs beyond its numbers: accelerator-hours (given or chips x days) and a published figure. */
static int row_comparable(energy_row_in *in, sp_energy_row *o)
{
    if (in->hours <= 0 && in->chips > 0 && in->days > 0)
        in->hours = in->chips * in->days * 24;
    if (in->hours <= 0) {
        snprintf(o->reason, sizeof o->reason, "neither accelerator_hours nor n_chips x train_days is given");
        return 0;
    }
    if (in->mwh <= 0 && in->tco2 <= 0) {
        snprintf(o->reason, sizeof o->reason, "no published energy or CO2e to compare with");
        return 0;
    }
    return 1;
}

static void predict_row(const char *data_dir, const sp_csv *c, int r, const sp_validate_energy_opts *vo, sp_energy_row *o)
{
    snprintf(o->id, sizeof o->id, "%s", sp_csv_get(c, r, sp_csv_col(c, "id")));
    const char *hw = sp_csv_get(c, r, sp_csv_col(c, "hardware"));
    energy_row_in in;
    if (!read_row(c, r, &in, o))
        return;
    const char *sysname = system_for(hw);
    int stated = vo->automatic && in.avg_w <= 0 && sp_csv_col(c, "chip_tdp_W") >= 0 && sp_csv_get(c, r, sp_csv_col(c, "chip_tdp_W"))[0];
    if (!sysname) {
        snprintf(o->reason, sizeof o->reason, "no accelerator preset for hardware '%s'", hw);
        return;
    }
    if (!row_comparable(&in, o))
        return;
    sp_system s;
    sp_error e = {0};
    if (sp_load_system(data_dir, sysname, &s, &e)) {
        snprintf(o->reason, sizeof o->reason, "%s", e.msg);
        return;
    }
    double u = in.flops > 0 ? in.flops / (in.hours * 3600 * sp_accel_peak(&s.acc, SP_BF16)) : vo->utilization;
    sp_energy_opts ro = vo->energy;
    ro.pue = in.pue > 0 ? in.pue : 0;
    ro.grid_kg_per_kwh = in.grid >= 0 ? in.grid : vo->region_kg_per_kwh;
    sp_energy_result er, phys;
    if (sp_energy_estimate(&s, 1, in.hours, u, &ro, &phys, &e)) {
        snprintf(o->reason, sizeof o->reason, "%s", e.msg);
        return;
    }
    if (stated)
        ro.model = SP_POWER_TDP;
    if ((vo->energy.model == SP_POWER_TDP || stated) && in.tdp > 0)
        s.acc.tdp_w = in.tdp; /* the power the source assumed */
    if (sp_energy_estimate(&s, 1, in.hours, u, &ro, &er, &e)) {
        snprintf(o->reason, sizeof o->reason, "%s", e.msg);
        return;
    }
    o->ok = 1;
    o->stated = stated;
    o->physical_mwh = phys.energy_kwh / 1000;
    o->predicted_mwh = er.energy_kwh / 1000;
    o->predicted_t = er.co2e_kg / 1000;
    o->measured_mwh = in.mwh;
    o->measured_t = in.tco2;
    o->compared_energy = in.mwh > 0;
    o->error_pct = in.mwh > 0 ? 100 * (o->predicted_mwh - in.mwh) / in.mwh : 100 * (o->predicted_t - in.tco2) / in.tco2;
}

sp_status sp_validate_energy(const char *data_dir, const sp_csv *c, const sp_validate_energy_opts *o, sp_energy_row **rows,
                             int *n, sp_error *err)
{
    static const char *const need[] = {"id", "hardware", "n_chips", "train_days", "accelerator_hours", "energy_MWh", "tCO2e", NULL};
    void *v;
    sp_status st = sp_validation_rows(c, need, sizeof **rows, &v, n, err);
    *rows = v;
    for (int r = 0; st == SP_OK && r < *n; r++)
        predict_row(data_dir, c, r, o, &(*rows)[r]);
    return st;
}

static sp_status energy_opts(const char *data_dir, sp_request *rq, sp_validate_energy_opts *o, sp_error *err)
{
    memset(o, 0, sizeof *o);
    sp_energy_defaults(&o->energy);
    o->automatic = 1;
    o->utilization = 0.4;
    o->region_kg_per_kwh = -1;
    const char *pm = NULL, *region = NULL;
    sp_status st;
    if ((st = sp_req_str(rq, "power-model", &pm, err)))
        return st;
    if (pm) {
        o->automatic = strcmp(pm, "auto") == 0;
        if (strcmp(pm, "tdp") == 0)
            o->energy.model = SP_POWER_TDP;
        else if (strcmp(pm, "activity") != 0 && !o->automatic)
            return sp_fail(err, SP_EINVAL, "--power-model '%s'; allowed auto, activity, tdp", pm);
    }
    if ((st = sp_req_str(rq, "region", &region, err)) ||
        (region && (st = sp_region_intensity(data_dir, region, &o->region_kg_per_kwh, NULL, 0, err))))
        return st;
    return sp_req_double(rq, "utilization", SP_UNIT_NONE, 0.01, 1, &o->utilization, err);
}

sp_status sp_validate_energy_run(const char *data_dir, sp_request *rq, sp_validate_energy_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    const char *path = NULL;
    sp_status st;
    if ((st = sp_req_str(rq, "file", &path, err)))
        return st;
    if (!path)
        return sp_fail(err, SP_EINVAL, "expected one CSV file, got 0 arguments");
    if ((st = energy_opts(data_dir, rq, &r->opts, err)))
        return st;
    sp_csv *c;
    if ((st = sp_csv_read(path, &c, err)))
        return st;
    st = sp_validate_energy(data_dir, c, &r->opts, &r->rows, &r->n, err);
    sp_csv_free(c);
    if (st)
        return st;
    double sum = 0, sum_phys = 0;
    for (int i = 0; i < r->n; i++)
        if (r->rows[i].ok) {
            sum += fabs(r->rows[i].error_pct);
            r->n_ok++;
            if (!r->rows[i].stated) {
                sum_phys += fabs(r->rows[i].error_pct);
                r->n_not_stated++;
            }
        }
    if (r->n_ok == 0) { /* an accuracy of nothing is not a result (issue 24): refused with the first row's reason */
        sp_status st0 = r->n ? sp_fail(err, SP_EINVAL, "none of the %d rows could be evaluated (first: %s: %s); expected at least "
                                       "one run row with a published energy or CO2e", r->n, r->rows[0].id, r->rows[0].reason)
                             : sp_fail(err, SP_EINVAL, "no data rows");
        sp_validate_energy_report_free(r);
        return st0;
    }
    r->mape_pct = sum / r->n_ok;
    r->mape_not_stated_pct = r->n_not_stated ? sum_phys / r->n_not_stated : NAN;
    return SP_OK;
}

void sp_validate_energy_report_free(sp_validate_energy_report *r)
{
    free(r->rows);
    r->rows = NULL;
}

const char *sp_validate_energy_model_name(const sp_validate_energy_opts *o)
{
    return o->automatic ? "auto" : o->energy.model == SP_POWER_TDP ? "tdp" : "activity";
}

const char *sp_energy_row_method(const sp_validate_energy_opts *o, const sp_energy_row *row)
{
    return row->stated ? "stated" : o->energy.model == SP_POWER_TDP ? "tdp" : "activity";
}

static json_t *row_json(const sp_validate_energy_opts *vo, const sp_energy_row *row)
{
    json_t *o = json_object();
    sp_json_set_str(o, "id", row->id);
    sp_json_set_num(o, "predicted_energy_mwh", row->predicted_mwh);
    sp_json_set_num(o, "measured_energy_mwh", row->measured_mwh > 0 ? row->measured_mwh : NAN);
    sp_json_set_num(o, "predicted_co2e_t", row->predicted_t);
    sp_json_set_num(o, "measured_co2e_t", row->measured_t > 0 ? row->measured_t : NAN);
    sp_json_set_num(o, "error_pct", row->error_pct);
    sp_json_set_str(o, "compared", row->compared_energy ? "energy" : "co2e");
    sp_json_set_str(o, "method", sp_energy_row_method(vo, row));
    sp_json_set_num(o, "physical_energy_mwh", row->physical_mwh);
    return o;
}

json_t *sp_validate_energy_json(const sp_validate_energy_report *r)
{
    json_t *o = json_object(), *rows = json_array(), *skipped = json_array();
    sp_json_set_str(o, "power_model", sp_validate_energy_model_name(&r->opts));
    for (int i = 0; i < r->n; i++) {
        if (r->rows[i].ok) {
            json_array_append_new(rows, row_json(&r->opts, &r->rows[i]));
            continue;
        }
        json_t *s = json_object();
        sp_json_set_str(s, "id", r->rows[i].id);
        sp_json_set_str(s, "reason", r->rows[i].reason);
        json_array_append_new(skipped, s);
    }
    json_object_set_new(o, "rows", rows);
    json_object_set_new(o, "skipped", skipped);
    sp_json_set_int(o, "n", r->n_ok);
    sp_json_set_num(o, "mape_pct", r->mape_pct);
    sp_json_set_int(o, "n_not_stated", r->n_not_stated);
    sp_json_set_num(o, "mape_not_stated_pct", r->mape_not_stated_pct);
    return o;
}

SP_CALL_DEFINE(validate_energy, sp_validate_energy_report, sp_validate_energy_run,
               sp_validate_energy_json, sp_validate_energy_report_free)
