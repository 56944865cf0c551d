/* The `validate` command (request -> sp_validate_report -> JSON, call.h): measured training runs from one or more
 * CSV files or from inline rows, each predicted by sp_validate_training_csv (validate.c); accuracy per table, per
 * source family (the id's prefix) and overall, and the reason of every row not evaluated. With --infer: the
 * serving model on one table of inference_measured.csv rows (validate_infer.c). The CLI prints this JSON for
 * --json and formats its text report and --csv rows from the same object. */
#include "call.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sp_validate_report_free(sp_validate_report *r)
{
    free(r->rows);
    free(r->irows);
    for (int f = 0; f < r->nfiles; f++)
        free(r->files[f].path);
    memset(r, 0, sizeof *r);
}

/* One table's rows appended to the report (training rows; with --infer the table's inference rows). */
static sp_status add_table(const char *data_dir, sp_validate_report *r, const sp_csv *c, sp_error *err)
{
    if (r->infer)
        return sp_validate_infer(data_dir, c, &r->irows, &r->n, err);
    sp_validate_row *rows;
    int k;
    sp_status st = sp_validate_training_csv(data_dir, c, &rows, &k, err);
    if (st)
        return st;
    sp_validate_row *grown = k > 0 ? realloc(r->rows, (size_t)(r->n + k) * sizeof *rows) : NULL;
    char *path = strdup(sp_csv_path(c));
    if (k == 0 || !grown || !path) {
        free(rows);
        free(path);
        if (grown)
            r->rows = grown;
        return k == 0 ? sp_fail(err, SP_EINVAL, "%s: no data rows", sp_csv_path(c)) : sp_fail(err, SP_ENOMEM, "out of memory");
    }
    r->rows = grown;
    memcpy(r->rows + r->n, rows, (size_t)k * sizeof *rows);
    free(rows);
    r->files[r->nfiles].path = path;
    r->files[r->nfiles].first = r->n;
    r->files[r->nfiles++].n = k;
    r->n += k;
    return SP_OK;
}

/* "paths": a list of CSV files (or one path as a string), read in order. */
static sp_status read_paths(const char *data_dir, sp_request *rq, sp_validate_report *r, sp_error *err)
{
    json_t *v = json_object_get(rq->obj, "paths");
    size_t n = json_is_string(v) ? 1 : json_array_size(v);
    if (!json_is_string(v) && !json_is_array(v))
        return sp_fail(err, SP_EINVAL, "--paths: expected a list of CSV file paths");
    if (n == 0)
        return sp_fail(err, SP_EINVAL, "expected one or more CSV files");
    if (n > SP_VALIDATE_MAX_FILES)
        return sp_fail(err, SP_EINVAL, "at most %d CSV files, got %zu", SP_VALIDATE_MAX_FILES, n);
    if (r->infer && n != 1)
        return sp_fail(err, SP_EINVAL, "--infer takes one CSV file, got %zu", n);
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_is_string(v) ? v : json_array_get(v, i);
        if (!json_is_string(p))
            return sp_fail(err, SP_EINVAL, "--paths: element %zu is not a string (a CSV file path)", i + 1);
        sp_csv *c;
        sp_status st = sp_csv_read(json_string_value(p), &c, err);
        if (st == SP_OK)
            st = add_table(data_dir, r, c, err);
        sp_csv_free(c);
        if (st)
            return st;
    }
    return SP_OK;
}

sp_status sp_validate_run(const char *data_dir, sp_request *rq, sp_validate_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    sp_status st = sp_req_flag(rq, "infer", &r->infer, err);
    int has_paths = sp_req_has(rq, "paths");
    sp_csv *c = NULL;
    if (st == SP_OK && !(st = sp_req_table(rq, "rows", &c, err))) {
        if (c && has_paths)
            st = sp_fail(err, SP_EINVAL, "--rows: give paths or rows, not both");
        else if (c)
            st = add_table(data_dir, r, c, err);
        else if (has_paths)
            st = read_paths(data_dir, rq, r, err);
        else
            st = sp_fail(err, SP_EINVAL, "expected one or more CSV files");
    }
    sp_csv_free(c);
    int ok = r->infer;
    for (int i = 0; i < r->n && !ok; i++)
        ok = r->rows[i].ok;
    if (st == SP_OK && !ok) /* issue 24 item 2: no MAPE of nothing */
        st = sp_fail(err, SP_EINVAL, "no row could be evaluated (first reason: %s)", r->rows[0].reason);
    if (st)
        sp_validate_report_free(r);
    return st;
}

/* A group's accuracy; no MAPE of a group without an evaluated row (null). */
static json_t *group_json(const sp_validate_group *g)
{
    json_t *o = json_object();
    sp_json_set_int(o, "n", g->n);
    sp_json_set_int(o, "not_evaluated", g->n_skipped);
    sp_json_set_num(o, "mape_pct", g->n ? g->mape_pct : NAN);
    sp_json_set_str(o, "worst_id", g->worst_id);
    sp_json_set_num(o, "worst_abs_error_pct", g->n ? g->worst_abs_error_pct : NAN);
    return o;
}

static json_t *row_json(const sp_validate_row *row)
{
    json_t *o = json_object();
    sp_json_set_str(o, "id", row->id);
    sp_json_set_num(o, "predicted_step_time_s", row->predicted_step_time_s);
    sp_json_set_num(o, "measured_step_time_s", row->measured_step_time_s);
    sp_json_set_num(o, "error_pct", row->error_pct);
    sp_json_set_num(o, "predicted_mfu", row->predicted_mfu);
    sp_json_set_bool(o, "measured_from_tflops", row->compared_tflops);
    sp_json_set_bool(o, "knobs_stated", row->stated_knobs);
    sp_json_set_str(o, "family", row->family);
    sp_json_set_str(o, "bottleneck", row->res.bottleneck);
    sp_json_set_str(o, "note", row->reason); /* "" or why the row is flagged (predicted memory over capacity) */
    return o;
}

static json_t *subset_json(int n, double mape_pct)
{
    json_t *o = json_object();
    sp_json_set_int(o, "n", n);
    sp_json_set_num(o, "mape_pct", n ? mape_pct : NAN);
    return o;
}

json_t *sp_validate_json(const sp_validate_report *r)
{
    if (r->infer)
        return sp_validate_infer_json(r->irows, r->n);
    json_t *o = json_object(), *rows = json_array(), *skipped = json_array(), *fam = json_object(), *files = json_array();
    for (int i = 0; i < r->n; i++) {
        if (r->rows[i].ok) {
            json_array_append_new(rows, row_json(&r->rows[i]));
            continue;
        }
        json_t *s = json_object();
        sp_json_set_str(s, "id", r->rows[i].id);
        sp_json_set_str(s, "reason", r->rows[i].reason);
        json_array_append_new(skipped, s);
    }
    sp_validate_summary sum;
    sp_validate_summarize(r->rows, r->n, &sum);
    for (int k = 0; k < sum.n_families; k++)
        json_object_set_new(fam, sum.family[k].name, group_json(&sum.family[k]));
    for (int f = 0; f < r->nfiles; f++) {
        sp_validate_summary fs;
        sp_validate_summarize(r->rows + r->files[f].first, r->files[f].n, &fs);
        json_t *one = json_object();
        sp_json_set_str(one, "file", r->files[f].path);
        json_object_set_new(one, "summary", group_json(&fs.all));
        json_array_append_new(files, one);
    }
    json_object_set_new(o, "rows", rows);
    json_object_set_new(o, "skipped", skipped);
    sp_json_set_int(o, "n", sum.all.n);
    sp_json_set_num(o, "mape_pct", sum.all.mape_pct);
    json_object_set_new(o, "families", fam);
    json_object_set_new(o, "files", files);
    sp_json_set_int(o, "not_evaluated", sum.all.n_skipped);
    json_object_set_new(o, "knobs_stated", subset_json(sum.n_stated, sum.mape_stated_pct));
    json_object_set_new(o, "knobs_unstated", subset_json(sum.all.n - sum.n_stated, sum.mape_unstated_pct));
    return o;
}

SP_CALL_DEFINE(validate, sp_validate_report, sp_validate_run, sp_validate_json, sp_validate_report_free)
