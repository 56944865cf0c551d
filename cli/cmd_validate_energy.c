/* scaleplan validate-energy FILE.csv: predicted energy and CO2e of published training runs (schema of
 * data/validation/training_energy.csv) from their hardware, accelerator count and duration.
 *
 * Method per row (default --power-model auto): a row that gives a measured average system power per chip
 * (avg_system_power_per_chip_W) or neither that nor a chip power is predicted with the physical (activity)
 * model. A row that gives no measured power but a per-chip power (chip_tdp_W) comes from a source that did not
 * measure: it computed energy as hours x that power x PUE (LLaMA-1 Table 15, Llama 2 model card). Such a row is
 * reproduced with that accounting ("stated"), so that its error measures the inputs (hours, power, PUE,
 * intensity), not a physical model the source never used; the physical prediction is printed beside it. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"power-model", 1, "auto (default: each row by its source's method) | activity (every row) | tdp (every row at TDP, no host)"},
    {"region", 1, "grid intensity for rows that state none (data/regions/regions.json) [the system preset's]"},
    {"utilization", 1, "MFU assumed when a row gives no FLOP count [0.4]"},
    {"json", 0, "machine-readable output"},
};

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

typedef struct {
    char id[48], reason[800];
    int ok;
    double pred_mwh, meas_mwh, pred_t, meas_t, err, phys_mwh;
    int err_on_energy, stated;
} erow;

int cmd_validate_energy(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "validate-energy", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan validate-energy FILE.csv [--power-model auto|activity|tdp] [--region R] [--json]");
    if (rc)
        return rc;
    if (a.npos != 1)
        return cli_error("validate-energy", "expected one CSV file, got %d arguments", a.npos);
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    const char *pm = cli_get(&a, "power-model");
    int automatic = 1;
    if (pm) {
        if (strcmp(pm, "tdp") == 0) {
            eo.model = SP_POWER_TDP;
            automatic = 0;
        } else if (strcmp(pm, "activity") == 0)
            automatic = 0;
        else if (strcmp(pm, "auto") != 0)
            return cli_error("validate-energy", "--power-model '%s'; allowed auto, activity, tdp", pm);
    }
    const char *region = cli_get(&a, "region");
    double region_kg = -1;
    sp_error rerr = {0};
    if (region && sp_region_intensity(a.data_dir, region, &region_kg, NULL, 0, &rerr))
        return cli_fail("validate-energy", &rerr);
    double u_default = 0.4;
    if ((rc = cli_double(&a, "utilization", SP_UNIT_NONE, 0.01, 1, &u_default)))
        return rc;
    sp_csv *c;
    sp_error err = {0};
    if (sp_csv_read(a.pos[0], &c, &err))
        return cli_fail("validate-energy", &err);
    static const char *need[] = {"id", "hardware", "n_chips", "train_days", "accelerator_hours", "energy_MWh", "tCO2e", NULL};
    for (int i = 0; need[i]; i++)
        if (sp_csv_col(c, need[i]) < 0) {
            rc = cli_error("validate-energy", "%s:1: missing required column '%s'", a.pos[0], need[i]);
            sp_csv_free(c);
            return rc;
        }
    int n = sp_csv_rows(c);
    erow *rows = calloc((size_t)(n > 0 ? n : 1), sizeof *rows);
    if (!rows) {
        sp_csv_free(c);
        return cli_error("validate-energy", "out of memory");
    }
    double sum = 0, sum_phys = 0;
    int nok = 0, nphys = 0;
    for (int r = 0; r < n; r++) {
        erow *o = &rows[r];
        snprintf(o->id, sizeof o->id, "%s", sp_csv_get(c, r, sp_csv_col(c, "id")));
        const char *hw = sp_csv_get(c, r, sp_csv_col(c, "hardware"));
        const char *sysname = system_for(hw);
        double chips, days, hours, flops, mwh, tco2, pue, grid, tdp;
        sp_error e = {0};
        if (sp_csv_double(c, r, "n_chips", 0, 0, 1e9, &chips, &e) || sp_csv_double(c, r, "train_days", 0, 0, 1e6, &days, &e) ||
            sp_csv_double(c, r, "accelerator_hours", 0, 0, 1e12, &hours, &e) ||
            sp_csv_double(c, r, "total_flops", 0, 0, 1e35, &flops, &e) || sp_csv_double(c, r, "energy_MWh", 0, 0, 1e9, &mwh, &e) ||
            sp_csv_double(c, r, "tCO2e", 0, 0, 1e9, &tco2, &e) || sp_csv_double(c, r, "pue", 0, 0, 10, &pue, &e) ||
            sp_csv_double(c, r, "grid_kgCO2e_per_kWh", -1, 0, 5, &grid, &e)) {
            /* not a run row (e.g. a power note): reported, not dropped */
            snprintf(o->reason, sizeof o->reason, "not a run row: %s", e.msg);
            continue;
        }
        if (sp_csv_col(c, "chip_tdp_W") < 0 || sp_csv_double(c, r, "chip_tdp_W", 0, 0, 1e5, &tdp, &e))
            tdp = 0; /* a range such as "350-400": the preset's TDP */
        /* measured average power present? (prose such as "system max 6.5 kW" counts as absent) */
        double avg_w = 0;
        if (sp_csv_col(c, "avg_system_power_per_chip_W") < 0 ||
            sp_csv_double(c, r, "avg_system_power_per_chip_W", 0, 0, 1e5, &avg_w, &e))
            avg_w = 0;
        int stated = automatic && avg_w <= 0 && sp_csv_col(c, "chip_tdp_W") >= 0 &&
                     sp_csv_get(c, r, sp_csv_col(c, "chip_tdp_W"))[0] != 0;
        if (!sysname) {
            snprintf(o->reason, sizeof o->reason, "no accelerator preset for hardware '%s'", hw);
            continue;
        }
        if (hours <= 0 && chips > 0 && days > 0)
            hours = chips * days * 24;
        if (hours <= 0) {
            snprintf(o->reason, sizeof o->reason, "neither accelerator_hours nor n_chips x train_days is given");
            continue;
        }
        if (mwh <= 0 && tco2 <= 0) {
            snprintf(o->reason, sizeof o->reason, "no published energy or CO2e to compare with");
            continue;
        }
        sp_system s;
        if (sp_load_system(a.data_dir, sysname, &s, &e)) {
            snprintf(o->reason, sizeof o->reason, "%s", e.msg);
            continue;
        }
        double u = flops > 0 ? flops / (hours * 3600 * sp_accel_peak(&s.acc, SP_BF16)) : u_default;
        sp_energy_opts ro = eo;
        ro.pue = pue > 0 ? pue : 0;
        ro.grid_kg_per_kwh = grid >= 0 ? grid : region_kg;
        sp_energy_result er, phys;
        if (sp_energy_estimate(&s, 1, hours, u, &ro, &phys, &e)) {
            snprintf(o->reason, sizeof o->reason, "%s", e.msg);
            continue;
        }
        if (stated)
            ro.model = SP_POWER_TDP;
        if ((eo.model == SP_POWER_TDP || stated) && tdp > 0)
            s.acc.tdp_w = tdp; /* the power the source assumed */
        if (sp_energy_estimate(&s, 1, hours, u, &ro, &er, &e)) {
            snprintf(o->reason, sizeof o->reason, "%s", e.msg);
            continue;
        }
        o->ok = 1;
        o->stated = stated;
        o->phys_mwh = phys.energy_kwh / 1000;
        o->pred_mwh = er.energy_kwh / 1000;
        o->pred_t = er.co2e_kg / 1000;
        o->meas_mwh = mwh;
        o->meas_t = tco2;
        o->err_on_energy = mwh > 0;
        o->err = mwh > 0 ? 100 * (o->pred_mwh - mwh) / mwh : 100 * (o->pred_t - tco2) / tco2;
        sum += fabs(o->err);
        nok++;
        if (!stated) {
            sum_phys += fabs(o->err);
            nphys++;
        }
    }
    sp_csv_free(c);
    double mape = nok ? sum / nok : NAN, mape_phys = nphys ? sum_phys / nphys : NAN;
    const char *mname = automatic ? "auto" : eo.model == SP_POWER_TDP ? "tdp" : "activity";
    if (cli_flag(&a, "json")) {
        printf("{\"power_model\":\"%s\",\"rows\":[", mname);
        int first = 1;
        for (int i = 0; i < n; i++) {
            if (!rows[i].ok)
                continue;
            printf("%s{\"id\":\"%s\",\"predicted_energy_mwh\":", first ? "" : ",", rows[i].id);
            cli_json_num(stdout, rows[i].pred_mwh);
            printf(",\"measured_energy_mwh\":");
            cli_json_num(stdout, rows[i].meas_mwh > 0 ? rows[i].meas_mwh : NAN);
            printf(",\"predicted_co2e_t\":");
            cli_json_num(stdout, rows[i].pred_t);
            printf(",\"measured_co2e_t\":");
            cli_json_num(stdout, rows[i].meas_t > 0 ? rows[i].meas_t : NAN);
            printf(",\"error_pct\":");
            cli_json_num(stdout, rows[i].err);
            printf(",\"compared\":\"%s\",\"method\":\"%s\",\"physical_energy_mwh\":", rows[i].err_on_energy ? "energy" : "co2e",
                   rows[i].stated ? "stated" : eo.model == SP_POWER_TDP ? "tdp" : "activity");
            cli_json_num(stdout, rows[i].phys_mwh);
            printf("}");
            first = 0;
        }
        printf("],\"skipped\":[");
        first = 1;
        for (int i = 0; i < n; i++)
            if (!rows[i].ok) {
                printf("%s{\"id\":\"%s\",\"reason\":\"", first ? "" : ",", rows[i].id);
                for (const char *q = rows[i].reason; *q; q++)
                    if (*q == '"' || *q == '\\')
                        printf("\\%c", *q);
                    else if ((unsigned char)*q >= 0x20)
                        putchar(*q);
                printf("\"}");
                first = 0;
            }
        printf("],\"n\":%d,\"mape_pct\":", nok);
        cli_json_num(stdout, mape);
        printf(",\"n_not_stated\":%d,\"mape_not_stated_pct\":", nphys);
        cli_json_num(stdout, mape_phys);
        printf("}\n");
    } else {
        printf("%-30s %-9s %12s %12s %10s %10s %8s %12s\n", "id", "method", "pred MWh", "publ. MWh", "pred tCO2e", "publ. t",
               "error%", "phys. MWh");
        for (int i = 0; i < n; i++)
            if (rows[i].ok)
            {
                char mm[32] = "-";
                if (rows[i].meas_mwh > 0)
                    snprintf(mm, sizeof mm, "%.4g", rows[i].meas_mwh);
                printf("%-30s %-9s %12.4g %12s %10.4g %10.4g %+8.1f %12.4g%s\n", rows[i].id,
                       rows[i].stated ? "stated" : eo.model == SP_POWER_TDP ? "tdp" : "activity", rows[i].pred_mwh, mm,
                       rows[i].pred_t, rows[i].meas_t, rows[i].err, rows[i].phys_mwh, rows[i].err_on_energy ? "" : " (on CO2e)");
            }
        for (int i = 0; i < n; i++)
            if (!rows[i].ok)
                printf("%-30s not evaluated: %s\n", rows[i].id, rows[i].reason);
        printf("overall: n=%d evaluated, MAPE %.1f %% (power model: %s); rows not reproduced from a stated accounting: "
               "n=%d, MAPE %.1f %%\n", nok, mape, mname, nphys, mape_phys);
        if (automatic)
            printf("stated: the source computed energy as hours x a stated chip power x PUE; reproduced that way "
                   "(phys. MWh: the activity model's prediction)\n");
    }
    free(rows);
    return 0;
}
