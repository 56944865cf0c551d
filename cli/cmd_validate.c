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

int cmd_validate_infer(const char *data_dir, const char *path, int json);

typedef struct {
    char fam[16];
    double sum;
    int n;
    double worst;
    char worst_id[48];
} fam_acc;

int cmd_validate(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "validate", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan validate FILE.csv [--json|--csv]\n"
                       "Predicts the step time of every measured training run in FILE.csv (schema of\n"
                       "data/validation/training_runs.csv) and reports per-row and overall error.");
    if (rc)
        return rc;
    if (a.npos != 1)
        return cli_error("validate", "expected one CSV file argument, got %d", a.npos);
    if (cli_flag(&a, "infer"))
        return cmd_validate_infer(a.data_dir, a.pos[0], cli_flag(&a, "json"));
    sp_validate_row *rows;
    int n;
    sp_error err = {0};
    if (sp_validate_training(a.data_dir, a.pos[0], &rows, &n, &err))
        return cli_fail("validate", &err);
    if (n == 0) {
        free(rows);
        return cli_error("validate", "%s: no data rows", a.pos[0]);
    }
    fam_acc fam[32];
    int nf = 0, nok = 0, nstated = 0;
    double sum = 0, sum_stated = 0;
    for (int i = 0; i < n; i++) {
        if (!rows[i].ok)
            continue;
        double e = fabs(rows[i].error_pct);
        sum += e;
        nok++;
        if (rows[i].stated_knobs) {
            sum_stated += e;
            nstated++;
        }
        int k;
        for (k = 0; k < nf; k++)
            if (strcmp(fam[k].fam, rows[i].family) == 0)
                break;
        if (k == nf && nf < 32) {
            memset(&fam[nf], 0, sizeof fam[nf]);
            snprintf(fam[nf].fam, sizeof fam[nf].fam, "%s", rows[i].family);
            nf++;
        }
        if (k < 32) {
            fam[k].sum += e;
            fam[k].n++;
            if (e > fam[k].worst) {
                fam[k].worst = e;
                snprintf(fam[k].worst_id, sizeof fam[k].worst_id, "%s", rows[i].id);
            }
        }
    }
    double mape = nok ? sum / nok : NAN;
    if (cli_flag(&a, "json")) {
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
            printf("%s{\"id\":\"%s\",\"reason\":\"", first ? "" : ",", rows[i].id);
            for (const char *c = rows[i].reason; *c; c++)
                if (*c == '"' || *c == '\\')
                    printf("\\%c", *c);
                else if ((unsigned char)*c >= 0x20)
                    putchar(*c);
            printf("\"}");
            first = 0;
        }
        printf("],\"n\":%d,\"mape_pct\":", nok);
        cli_json_num(stdout, mape);
        printf(",\"families\":{");
        for (int k = 0; k < nf; k++) {
            printf("%s\"%s\":{\"n\":%d,\"mape_pct\":", k ? "," : "", fam[k].fam, fam[k].n);
            cli_json_num(stdout, fam[k].sum / fam[k].n);
            printf(",\"worst_id\":\"%s\",\"worst_abs_error_pct\":", fam[k].worst_id);
            cli_json_num(stdout, fam[k].worst);
            printf("}");
        }
        printf("}}\n");
    } else if (cli_flag(&a, "csv")) {
        printf("id,family,predicted_step_time_s,measured_step_time_s,error_pct,predicted_mfu,bottleneck,knobs_stated\n");
        for (int i = 0; i < n; i++)
            if (rows[i].ok)
                printf("%s,%s,%.6g,%.6g,%.2f,%.4f,%s,%d\n", rows[i].id, rows[i].family, rows[i].predicted_step_time_s,
                       rows[i].measured_step_time_s, rows[i].error_pct, rows[i].predicted_mfu, rows[i].res.bottleneck,
                       rows[i].stated_knobs);
    } else {
        printf("%-18s %12s %12s %8s %6s  %s\n", "id", "predicted_s", "measured_s", "error%", "MFU", "note");
        for (int i = 0; i < n; i++) {
            if (!rows[i].ok)
                continue;
            printf("%-18s %12.4g %12.4g %+8.1f %6.3f  %s%s%s\n", rows[i].id, rows[i].predicted_step_time_s,
                   rows[i].measured_step_time_s, rows[i].error_pct, rows[i].predicted_mfu,
                   rows[i].compared_tflops ? "(from TFLOP/s) " : "", rows[i].stated_knobs ? "" : "(knobs unstated) ",
                   rows[i].reason);
        }
        for (int i = 0; i < n; i++)
            if (!rows[i].ok)
                printf("%-18s not evaluated: %s\n", rows[i].id, rows[i].reason);
        printf("\nper source family:\n");
        for (int k = 0; k < nf; k++)
            printf("  %-8s n=%3d  MAPE %6.2f %%  worst %s (%.1f %%)\n", fam[k].fam, fam[k].n, fam[k].sum / fam[k].n,
                   fam[k].worst_id, fam[k].worst);
        if (nstated && nstated < nok)
            printf("  rows with all knobs stated: n=%d MAPE %.2f %%; unstated (defaults applied): n=%d MAPE %.2f %%\n",
                   nstated, sum_stated / nstated, nok - nstated, (sum - sum_stated) / (nok - nstated));
        printf("overall: n=%d evaluated, %d not evaluated, MAPE %.2f %%\n", nok, n - nok, mape);
    }
    free(rows);
    return 0;
}
