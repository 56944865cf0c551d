/* scaleplan validate-energy FILE.csv: predicted energy and CO2e of published training runs (schema of
 * data/validation/training_energy.csv); the method is sp_validate_energy's (src/validate_energy.c). */
#include "cli.h"

#include <stdlib.h>

static const cli_optdef defs[] = {
    {"power-model", 1, "auto (default: each row by its source's method) | activity (every row) | tdp (every row at TDP, no host)"},
    {"region", 1, "grid intensity for rows that state none (data/regions/regions.json) [the system preset's]"},
    {"utilization", 1, "MFU assumed when a row gives no FLOP count [0.4]"},
    {"json", 0, "machine-readable output"},
};

static void print_report(const sp_validate_energy_report *r)
{
    const sp_energy_row *rows = r->rows;
    printf("%-30s %-9s %12s %12s %10s %10s %8s %12s\n", "id", "method", "pred MWh", "publ. MWh", "pred tCO2e", "publ. t",
           "error%", "phys. MWh");
    for (int i = 0; i < r->n; i++)
        if (rows[i].ok) {
            char mm[32] = "-";
            if (rows[i].measured_mwh > 0)
                snprintf(mm, sizeof mm, "%.4g", rows[i].measured_mwh);
            printf("%-30s %-9s %12.4g %12s %10.4g %10.4g %+8.1f %12.4g%s\n", rows[i].id, sp_energy_row_method(&r->opts, &rows[i]),
                   rows[i].predicted_mwh, mm, rows[i].predicted_t, rows[i].measured_t, rows[i].error_pct, rows[i].physical_mwh,
                   rows[i].compared_energy ? "" : " (on CO2e)");
        }
    for (int i = 0; i < r->n; i++)
        if (!rows[i].ok)
            printf("%-30s not evaluated: %s\n", rows[i].id, rows[i].reason);
    printf("overall: n=%d evaluated, MAPE %.1f %% (power model: %s); rows not reproduced from a stated accounting: "
           "n=%d", r->n_ok, r->mape_pct, sp_validate_energy_model_name(&r->opts), r->n_not_stated);
    if (r->n_not_stated) /* no MAPE of zero rows (never "nan") */
        printf(", MAPE %.1f %%", r->mape_not_stated_pct);
    printf("\n");
    if (r->opts.automatic)
        printf("stated: the source computed energy as hours x a stated chip power x PUE; reproduced that way "
               "(phys. MWh: the activity model's prediction)\n");
}

int cmd_validate_energy(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "validate-energy", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan validate-energy FILE.csv [--power-model auto|activity|tdp] [--region R] [--json]");
    if (rc)
        return rc;
    if (a.npos != 1)
        return cli_error("validate-energy", "expected one CSV file, got %d arguments", a.npos);
    sp_request rq = cli_request_begin(&a);
    json_object_set_new(rq.obj, "file", json_string_nocheck(a.pos[0]));
    sp_validate_energy_report r;
    sp_error err = {0};
    sp_status st = cli_request_done(&rq, sp_validate_energy_run(a.data_dir, &rq, &r, &err), &err);
    if (st)
        rc = cli_fail("validate-energy", &err);
    else if (cli_flag(&a, "json"))
        rc = cli_print_json("validate-energy", sp_validate_energy_json(&r));
    else
        print_report(&r);
    sp_validate_energy_report_free(&r);
    return rc;
}
