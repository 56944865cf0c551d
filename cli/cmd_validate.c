/* scaleplan validate FILE.csv... [--json|--csv]: predicted vs measured step time for every row, MAPE per file, per
 * source family and overall; rows that cannot be evaluated are listed with the reason. --infer FILE.csv: the
 * serving model against measured inference rows. The library builds the result (sp_validate_run/_json,
 * src/validate_json.c); --json prints it, the text report and --csv rows are formatted from the same object. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"json", 0, "machine-readable output"},
    {"csv", 0, "one CSV row per validation row"},
    {"infer", 0, "the file is an inference_measured.csv: validate the serving model (scaleplan infer)"},
};

static double num(const json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }
static int count(const json_t *o, const char *key) { return (int)json_integer_value(json_object_get(o, key)); }
static int yes(const json_t *o, const char *key) { return json_is_true(json_object_get(o, key)); }
static const char *text(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* validate --infer: rows from the typed report (their metric names), totals from the library's JSON */
static void print_infer(const sp_validate_report *r, const json_t *j)
{
    const sp_infer_row *rows = r->irows;
    printf("%-22s %-34s %12s %12s %-10s %8s\n", "id", "metric", "predicted", "measured", "unit", "error%");
    for (int i = 0; i < r->n; i++)
        if (rows[i].ok)
            printf("%-22s %-34.34s %12.4g %12.4g %-10s %+8.1f%s%s\n", rows[i].id, rows[i].metric, rows[i].predicted,
                   rows[i].measured, rows[i].unit, rows[i].error_pct, rows[i].decode ? "  (decode)" : "",
                   rows[i].read_per_gpu ? "  (read per GPU)" : "");
    for (int i = 0; i < r->n; i++)
        if (!rows[i].ok)
            printf("not evaluated: %s: %s\n", rows[i].id, rows[i].reason);
    printf("overall: n=%d evaluated, MAPE %.1f %%; decode-dominated rows: n=%d, MAPE %.1f %%\n", count(j, "n"),
           num(j, "mape_pct"), count(j, "n_decode"), num(j, "mape_decode_pct"));
}

static void print_families(const json_t *families)
{
    const char *name;
    json_t *g;
    printf("\nper source family:\n");
    json_object_foreach((json_t *)families, name, g) {
        if (count(g, "n"))
            printf("  %-8s n=%3d  MAPE %6.2f %%  worst %s (%.1f %%)\n", name, count(g, "n"), num(g, "mape_pct"),
                   text(g, "worst_id"), num(g, "worst_abs_error_pct"));
        if (count(g, "not_evaluated"))
            printf("  %-8s %d not evaluated\n", name, count(g, "not_evaluated"));
    }
}

static void print_text(const json_t *j)
{
    size_t i;
    json_t *row;
    printf("%-18s %12s %12s %8s %6s  %s\n", "id", "predicted_s", "measured_s", "error%", "MFU", "note");
    json_array_foreach(json_object_get(j, "rows"), i, row)
        printf("%-18s %12.4g %12.4g %+8.1f %6.3f  %s%s%s\n", text(row, "id"), num(row, "predicted_step_time_s"),
               num(row, "measured_step_time_s"), num(row, "error_pct"), num(row, "predicted_mfu"),
               yes(row, "measured_from_tflops") ? "(from TFLOP/s) " : "", yes(row, "knobs_stated") ? "" : "(knobs unstated) ",
               text(row, "note"));
    json_array_foreach(json_object_get(j, "skipped"), i, row)
        printf("%-18s not evaluated: %s\n", text(row, "id"), text(row, "reason"));
    print_families(json_object_get(j, "families"));
    const json_t *st = json_object_get(j, "knobs_stated"), *un = json_object_get(j, "knobs_unstated");
    if (count(st, "n") && count(un, "n"))
        printf("  rows with all knobs stated: n=%d MAPE %.2f %%; unstated (defaults applied): n=%d MAPE %.2f %%\n",
               count(st, "n"), num(st, "mape_pct"), count(un, "n"), num(un, "mape_pct"));
    const json_t *files = json_object_get(j, "files");
    if (json_array_size(files) > 1)
        json_array_foreach(files, i, row) {
            const json_t *s = json_object_get(row, "summary");
            printf("file %s: n=%d evaluated, %d not evaluated, MAPE %.2f %%\n", text(row, "file"), count(s, "n"),
                   count(s, "not_evaluated"), num(s, "mape_pct"));
        }
    printf("overall: n=%d evaluated, %d not evaluated, MAPE %.2f %%\n", count(j, "n"), count(j, "not_evaluated"),
           num(j, "mape_pct"));
}

static void print_csv(const json_t *j)
{
    size_t i;
    json_t *row;
    printf("id,family,predicted_step_time_s,measured_step_time_s,error_pct,predicted_mfu,bottleneck,knobs_stated\n");
    json_array_foreach(json_object_get(j, "rows"), i, row)
        printf("%s,%s,%.6g,%.6g,%.2f,%.4f,%s,%d\n", text(row, "id"), text(row, "family"), num(row, "predicted_step_time_s"),
               num(row, "measured_step_time_s"), num(row, "error_pct"), num(row, "predicted_mfu"), text(row, "bottleneck"),
               yes(row, "knobs_stated"));
}

int cmd_validate(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "validate", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan validate FILE.csv [FILE.csv ...] [--json|--csv]\n"
                       "Predicts the step time of every measured training run in each FILE.csv (schema of\n"
                       "data/validation/training_runs.csv) and reports per-row error, MAPE per file, per source\n"
                       "family and overall, and the reason of every row not evaluated.");
    if (rc)
        return rc;
    json_t *req = cli_request(&a), *paths = json_array();
    for (int f = 0; f < a.npos; f++)
        json_array_append_new(paths, json_string_nocheck(a.pos[f]));
    json_object_set_new(req, "paths", paths);
    sp_request rq;
    sp_request_init(&rq, "validate", req);
    sp_validate_report r;
    sp_error err = {0};
    sp_status st = sp_validate_run(a.data_dir, &rq, &r, &err);
    if (st == SP_OK)
        st = cli_check_used(&rq, &err);
    json_decref(req);
    if (st)
        return cli_fail("validate", &err);
    json_t *j = sp_validate_json(&r);
    if (cli_flag(&a, "json")) {
        sp_validate_report_free(&r);
        return cli_print_json("validate", j);
    }
    if (r.infer)
        print_infer(&r, j);
    else if (cli_flag(&a, "csv"))
        print_csv(j);
    else
        print_text(j);
    json_decref(j);
    sp_validate_report_free(&r);
    return 0;
}
