/* Serving calibration per accelerator family and validation against MLPerf Inference rows (docs/serving.md
 * "Accuracy"). data/serving/calibration.json lists, per family and serving stack, one factor on the engine-step
 * time (the stack's kernels and runtime relative to infer's engine-step model); it is fitted on one MLPerf round's
 * rows of the family and never per row. sp_serve_validate replays each row of a serving_mlperf.csv-style file:
 * offline rows as an offline run, server and interactive rows as the highest Poisson rate meeting their P99 SLOs. */
#include "scaleplan.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int listed(json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (json_is_string(v) && strcmp(json_string_value(v), name) == 0) return 1;
    return 0;
}

sp_status sp_serve_calibrate(const char *data_dir, const char *accel, sp_serve_stack *st, char *family, size_t n,
                             sp_error *err)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/serving/calibration.json", data_dir);
    snprintf(family, n, "uncalibrated");
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return SP_OK; /* nothing shipped: the stack's own factor */
    json_t *fams = json_object_get(root, "families");
    sp_status rc = json_is_array(fams) ? SP_OK : sp_fail(err, SP_EPARSE, "%s: field 'families' must be an array", path);
    size_t i;
    json_t *f;
    json_array_foreach(fams, i, f)
    {
        if (rc || !listed(json_object_get(f, "accelerators"), accel) || !listed(json_object_get(f, "stacks"), st->name))
            continue;
        json_t *k = json_object_get(f, "kernel_factor");
        const char *fn = json_string_value(json_object_get(f, "family"));
        if (!json_is_number(k) || !(json_number_value(k) >= 0.1 && json_number_value(k) <= 10))
            rc = sp_fail(err, SP_EINVAL, "%s: family '%s' field 'kernel_factor' must be a number in 0.1..10", path, fn ? fn : "?");
        else {
            st->kernel_factor *= json_number_value(k);
            snprintf(family, n, "%s", fn ? fn : "?");
        }
        break;
    }
    json_decref(root);
    return rc;
}

static sp_status row_text(const sp_csv *c, int r, const char *col, char *out, size_t n, sp_error *err)
{
    int j = sp_csv_col(c, col);
    const char *v = j >= 0 ? sp_csv_get(c, r, j) : "";
    if (!*v)
        return sp_fail(err, SP_EINVAL, "%s:%d: column '%s' is empty or missing", sp_csv_path(c), sp_csv_line(c, r), col);
    snprintf(out, n, "%s", v);
    return SP_OK;
}

typedef struct {
    char id[64], scen[16], sys[64], sw[32], wl[64], model[64], prec[64];
    int gpus, tp;
} vin;

static sp_status read_row(const sp_csv *c, int r, vin *x, sp_serve_vrow *out, sp_error *err)
{
    sp_status rc;
    if ((rc = row_text(c, r, "id", x->id, sizeof x->id, err)) || (rc = row_text(c, r, "scenario", x->scen, sizeof x->scen, err)) ||
        (rc = row_text(c, r, "system_preset", x->sys, sizeof x->sys, err)) || (rc = row_text(c, r, "software", x->sw, sizeof x->sw, err)) ||
        (rc = row_text(c, r, "workload", x->wl, sizeof x->wl, err)) || (rc = row_text(c, r, "serve_model", x->model, sizeof x->model, err)) ||
        (rc = row_text(c, r, "precision", x->prec, sizeof x->prec, err)) ||
        (rc = row_text(c, r, "family", out->family, sizeof out->family, err)) || (rc = row_text(c, r, "round", out->round, sizeof out->round, err)) ||
        (rc = sp_csv_int(c, r, "n_devices", 0, 1, 1 << 20, &x->gpus, err)) || (rc = sp_csv_int(c, r, "tp", 1, 1, 4096, &x->tp, err)) ||
        (rc = sp_csv_double(c, r, "measured", 0, 0, 1e12, &out->measured, err)))
        return rc;
    snprintf(out->id, sizeof out->id, "%s", x->id);
    snprintf(out->scenario, sizeof out->scenario, "%s", x->scen);
    return SP_OK;
}

/* One row: the deployment it names, simulated under its scenario. Failures of the model become a note. */
static sp_status predict(const char *data_dir, const vin *x, const sp_serve_vopts *vo, sp_serve_vrow *out, sp_error *err)
{
    sp_model m;
    sp_system s;
    sp_serve_workload w;
    sp_serve_opts o;
    sp_serve_defaults(&o);
    sp_status rc;
    if ((rc = sp_load_model(data_dir, x->model, &m, err)) || (rc = sp_load_system(data_dir, x->sys, &s, err)) ||
        (rc = sp_serve_workload_load(data_dir, x->wl, x->scen, &w, err)) || (rc = sp_serve_stack_load(data_dir, x->sw, &o.stack, err)) ||
        (rc = sp_serving_eff_load(data_dir, s.acc.name, &o.eff, err)))
        return rc;
    char fam[32];
    if (vo->kernel_factor > 0)
        o.stack.kernel_factor *= vo->kernel_factor;
    else if ((rc = sp_serve_calibrate(data_dir, s.acc.name, &o.stack, fam, sizeof fam, err)))
        return rc;
    o.n_gpus = x->gpus;
    o.tp = x->tp;
    o.weights = strstr(x->prec, "FP4") ? SP_FP4 : strstr(x->prec, "FP8") ? SP_FP8 : SP_BF16;
    o.kv = o.weights == SP_BF16 ? SP_BF16 : SP_FP8;
    /* the benchmark's own run length (MLPerf's offline min_query_count: 24,576 Llama-2-70B samples): a shorter run
     * over 8 replicas never fills their batches (4,000 requests on 8 H200s: 17 % under the steady state) */
    o.n_requests = vo->n_requests > 0 ? vo->n_requests : w.samples > 0 ? w.samples : 4000;
    sp_serve_result r;
    sp_error e2 = {0};
    rc = w.arrival == SP_ARR_OFFLINE ? sp_serve_simulate(&m, &s, &w, &o, &r, &e2) : sp_serve_max_rate(&m, &s, &w, &o, &r, &e2);
    out->predicted = rc ? NAN : r.throughput_tokens_per_s;
    out->err_pct = rc ? NAN : 100 * (out->predicted / out->measured - 1);
    snprintf(out->note, sizeof out->note, "%.250s", rc ? e2.msg : "");
    return SP_OK;
}

sp_status sp_serve_validate(const char *data_dir, const char *csv_path, const sp_serve_vopts *vo, sp_serve_vrow **rows, int *n,
                            sp_error *err)
{
    *rows = NULL;
    *n = 0;
    sp_csv *c;
    sp_status rc = sp_csv_read(csv_path, &c, err);
    if (rc)
        return rc;
    int nr = sp_csv_rows(c);
    sp_serve_vrow *out = calloc(nr > 0 ? nr : 1, sizeof *out);
    if (!out)
        rc = sp_fail(err, SP_ENOMEM, "%s: out of memory", csv_path);
    for (int i = 0; !rc && i < nr; i++) {
        vin x;
        rc = read_row(c, i, &x, &out[i], err);
        if (!rc && (!vo->family[0] || strcmp(vo->family, out[i].family) == 0))
            rc = predict(data_dir, &x, vo, &out[i], err);
        else if (!rc) {
            out[i].predicted = out[i].err_pct = NAN;
            snprintf(out[i].note, sizeof out[i].note, "skipped (--family %s)", vo->family);
        }
    }
    sp_csv_free(c);
    if (rc) {
        free(out);
        return rc;
    }
    *rows = out;
    *n = nr;
    return SP_OK;
}
