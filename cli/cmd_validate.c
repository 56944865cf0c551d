/* scaleplan validate FILE.csv [--json]: predicted vs measured step time for every row, MAPE overall and per
 * source family. Rows that cannot be evaluated are listed with the reason. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"json", 0, "machine-readable output"},
    {"csv", 0, "one CSV row per validation row"},
    {"infer", 0, "the file is an inference_measured.csv: validate the serving model (scaleplan infer)"},
};

/* validate --infer: the serving model against measured inference rows (sp_validate_infer); JSON from the library */
static int cmd_validate_infer(const char *data_dir, const char *path, int json)
{
    sp_csv *c;
    sp_error err = {0};
    sp_infer_row *rows = NULL;
    int n = 0;
    if (sp_csv_read(path, &c, &err))
        return cli_fail("validate", &err);
    sp_status st = sp_validate_infer(data_dir, c, &rows, &n, &err);
    sp_csv_free(c);
    if (st) {
        free(rows);
        return cli_fail("validate", &err);
    }
    json_t *j = sp_validate_infer_json(rows, n);
    if (json) {
        free(rows);
        return cli_print_json("validate", j);
    }
    printf("%-22s %-34s %12s %12s %-10s %8s\n", "id", "metric", "predicted", "measured", "unit", "error%");
    for (int i = 0; i < n; i++)
        if (rows[i].ok)
            printf("%-22s %-34.34s %12.4g %12.4g %-10s %+8.1f%s%s\n", rows[i].id, rows[i].metric, rows[i].predicted,
                   rows[i].measured, rows[i].unit, rows[i].error_pct, rows[i].decode ? "  (decode)" : "",
                   rows[i].read_per_gpu ? "  (read per GPU)" : "");
    for (int i = 0; i < n; i++)
        if (!rows[i].ok)
            printf("not evaluated: %s: %s\n", rows[i].id, rows[i].reason);
    printf("overall: n=%d evaluated, MAPE %.1f %%; decode-dominated rows: n=%d, MAPE %.1f %%\n",
           (int)json_integer_value(json_object_get(j, "n")), json_number_value(json_object_get(j, "mape_pct")),
           (int)json_integer_value(json_object_get(j, "n_decode")), json_number_value(json_object_get(j, "mape_decode_pct")));
    json_decref(j);
    free(rows);
    return 0;
}

/* One file's rows inside the concatenation of every file's rows. */
typedef struct {
    const char *path;
    int first, n;
} file_span;

static void json_str(const char *s)
{
    putchar('"');
    for (const char *c = s; *c; c++)
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if ((unsigned char)*c >= 0x20)
            putchar(*c);
    putchar('"');
}

static void json_group(const sp_validate_group *g)
{
    printf("{\"n\":%d,\"not_evaluated\":%d,\"mape_pct\":", g->n, g->n_skipped);
    cli_json_num(stdout, g->mape_pct);
    printf(",\"worst_id\":");
    json_str(g->worst_id);
    printf(",\"worst_abs_error_pct\":");
    cli_json_num(stdout, g->worst_abs_error_pct);
    printf("}");
}

static void print_json(const sp_validate_row *rows, int n, const file_span *files, int nfiles)
{
    printf("{\"rows\":[");
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (!rows[i].ok)
            continue;
        printf("%s{\"id\":\"%s\",\"predicted_step_time_s\":", first ? "" : ",", rows[i].id);
        cli_json_num(stdout, rows[i].predicted_step_time_s);
        printf(",\"measured_step_time_s\":");
        cli_json_num(stdout, rows[i].measured_step_time_s);
        printf(",\"error_pct\":");
        cli_json_num(stdout, rows[i].error_pct);
        printf(",\"predicted_mfu\":");
        cli_json_num(stdout, rows[i].predicted_mfu);
        printf(",\"measured_from_tflops\":%s,\"knobs_stated\":%s}", rows[i].compared_tflops ? "true" : "false",
               rows[i].stated_knobs ? "true" : "false");
        first = 0;
    }
    printf("],\"skipped\":[");
    first = 1;
    for (int i = 0; i < n; i++) {
        if (rows[i].ok)
            continue;
        printf("%s{\"id\":\"%s\",\"reason\":", first ? "" : ",", rows[i].id);
        json_str(rows[i].reason);
        printf("}");
        first = 0;
    }
    sp_validate_summary sum;
    sp_validate_summarize(rows, n, &sum);
    printf("],\"n\":%d,\"mape_pct\":", sum.all.n);
    cli_json_num(stdout, sum.all.mape_pct);
    printf(",\"families\":{");
    for (int k = 0; k < sum.n_families; k++) {
        printf("%s\"%s\":", k ? "," : "", sum.family[k].name);
        json_group(&sum.family[k]);
    }
    printf("},\"files\":[");
    for (int f = 0; f < nfiles; f++) {
        sp_validate_summary fs;
        sp_validate_summarize(rows + files[f].first, files[f].n, &fs);
        printf("%s{\"file\":", f ? "," : "");
        json_str(files[f].path);
        printf(",\"summary\":");
        json_group(&fs.all);
        printf("}");
    }
    printf("]}\n");
}

static void print_summary(const char *title, const sp_validate_summary *s)
{
    printf("\n%s:\n", title);
    for (int k = 0; k < s->n_families; k++) {
        const sp_validate_group *g = &s->family[k];
        if (g->n)
            printf("  %-8s n=%3d  MAPE %6.2f %%  worst %s (%.1f %%)\n", g->name, g->n, g->mape_pct, g->worst_id,
                   g->worst_abs_error_pct);
        if (g->n_skipped)
            printf("  %-8s %d not evaluated\n", g->name, g->n_skipped);
    }
}

static void print_text(const sp_validate_row *rows, int n, const file_span *files, int nfiles)
{
    printf("%-18s %12s %12s %8s %6s  %s\n", "id", "predicted_s", "measured_s", "error%", "MFU", "note");
    for (int i = 0; i < n; i++)
        if (rows[i].ok)
            printf("%-18s %12.4g %12.4g %+8.1f %6.3f  %s%s%s\n", rows[i].id, rows[i].predicted_step_time_s,
                   rows[i].measured_step_time_s, rows[i].error_pct, rows[i].predicted_mfu,
                   rows[i].compared_tflops ? "(from TFLOP/s) " : "", rows[i].stated_knobs ? "" : "(knobs unstated) ",
                   rows[i].reason);
    for (int i = 0; i < n; i++)
        if (!rows[i].ok)
            printf("%-18s not evaluated: %s\n", rows[i].id, rows[i].reason);
    sp_validate_summary sum;
    sp_validate_summarize(rows, n, &sum);
    print_summary("per source family", &sum);
    if (sum.n_stated && sum.n_stated < sum.all.n)
        printf("  rows with all knobs stated: n=%d MAPE %.2f %%; unstated (defaults applied): n=%d MAPE %.2f %%\n",
               sum.n_stated, sum.mape_stated_pct, sum.all.n - sum.n_stated, sum.mape_unstated_pct);
    if (nfiles > 1)
        for (int f = 0; f < nfiles; f++) {
            sp_validate_summary fs;
            sp_validate_summarize(rows + files[f].first, files[f].n, &fs);
            printf("file %s: n=%d evaluated, %d not evaluated, MAPE %.2f %%\n", files[f].path, fs.all.n,
                   fs.all.n_skipped, fs.all.mape_pct);
        }
    printf("overall: n=%d evaluated, %d not evaluated, MAPE %.2f %%\n", sum.all.n, sum.all.n_skipped, sum.all.mape_pct);
}

/* Every file's rows, concatenated (files[] records each file's span). */
static int read_all(const cli_args *a, sp_validate_row **out, int *nout, file_span *files)
{
    sp_validate_row *all = NULL;
    int n = 0;
    for (int f = 0; f < a->npos; f++) {
        sp_validate_row *rows;
        int k;
        sp_error err = {0};
        if (sp_validate_training(a->data_dir, a->pos[f], &rows, &k, &err)) {
            free(all);
            return cli_fail("validate", &err);
        }
        if (k == 0) {
            free(rows);
            free(all);
            return cli_error("validate", "%s: no data rows", a->pos[f]);
        }
        sp_validate_row *grown = realloc(all, (size_t)(n + k) * sizeof *all);
        if (!grown) {
            free(rows);
            free(all);
            return cli_error("validate", "out of memory");
        }
        all = grown;
        memcpy(all + n, rows, (size_t)k * sizeof *rows);
        free(rows);
        files[f] = (file_span){a->pos[f], n, k};
        n += k;
    }
    *out = all;
    *nout = n;
    return 0;
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
    if (a.npos < 1)
        return cli_error("validate", "expected one or more CSV files");
    if (cli_flag(&a, "infer")) {
        if (a.npos != 1)
            return cli_error("validate", "--infer takes one CSV file, got %d", a.npos);
        return cmd_validate_infer(a.data_dir, a.pos[0], cli_flag(&a, "json"));
    }
    file_span files[64];
    if (a.npos > 64)
        return cli_error("validate", "at most 64 CSV files, got %d", a.npos);
    sp_validate_row *rows = NULL;
    int n = 0;
    if ((rc = read_all(&a, &rows, &n, files)))
        return rc;
    sp_validate_summary sum;
    sp_validate_summarize(rows, n, &sum);
    if (sum.all.n == 0) { /* issue 24 item 2: no MAPE of nothing */
        cli_error("validate", "no row could be evaluated (first reason: %s)", rows[0].reason);
        free(rows);
        return 2;
    }
    if (cli_flag(&a, "json"))
        print_json(rows, n, files, a.npos);
    else if (cli_flag(&a, "csv")) {
        printf("id,family,predicted_step_time_s,measured_step_time_s,error_pct,predicted_mfu,bottleneck,knobs_stated\n");
        for (int i = 0; i < n; i++)
            if (rows[i].ok)
                printf("%s,%s,%.6g,%.6g,%.2f,%.4f,%s,%d\n", rows[i].id, rows[i].family, rows[i].predicted_step_time_s,
                       rows[i].measured_step_time_s, rows[i].error_pct, rows[i].predicted_mfu, rows[i].res.bottleneck,
                       rows[i].stated_knobs);
    } else
        print_text(rows, n, files, a.npos);
    free(rows);
    return 0;
}
