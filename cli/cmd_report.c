/* scaleplan report famous: famous training runs side by side: predicted time, GPUs, energy, cost, CO2e
 * (src/report_json.c holds the runs and the model; docs/famous.md). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"json", 0, "machine-readable output"},
};

static void print_table(const sp_report *r)
{
    printf("| run | model | GPUs | plan | tokens | predicted days | MFU | GPU-hours | energy MWh | CO2e t | cloud $ | reported |\n"
           "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < r->n; i++) {
        const sp_report_run *x = &r->runs[i];
        const sp_plan *p = &x->plan;
        char vp[16] = "", cp[16] = "";
        if (p->vpp > 1)
            snprintf(vp, sizeof vp, " VP%d", p->vpp);
        if (p->cp > 1)
            snprintf(cp, sizeof cp, " CP%d", p->cp);
        printf("| %s | %s | %d | TP%d PP%d%s DP%d%s ZeRO-%d, recompute %s%s | %.3g | %.1f | %.1f %% | %.3g | %.4g | %.4g | %.3g | %s |\n",
               x->label, x->model.name, p->n_gpus, p->tp, p->pp, vp, p->dp, cp, p->zero, sp_recompute_name(p->recompute),
               x->res.fits ? "" : " (does not fit)", x->tokens, x->train_s / 86400, 100 * x->res.mfu, x->gpu_hours,
               x->energy.energy_kwh / 1000, x->energy.co2e_kg / 1000, x->energy.cloud_usd, x->reported);
    }
}

int cmd_report(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "report", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan report famous [--json]\n"
                       "Famous training runs predicted side by side: time, GPUs, MFU, energy, cost, CO2e (docs/famous.md).");
    if (rc)
        return rc;
    if (a.npos != 1 || strcmp(a.pos[0], "famous") != 0)
        return cli_error("report", "expected 'famous' (the only report so far)");
    sp_request rq = cli_request_begin(&a);
    json_object_set_new(rq.obj, "name", json_string_nocheck(a.pos[0]));
    sp_report *r = malloc(sizeof *r);
    sp_error err = {0};
    sp_status st = r ? sp_report_run_all(a.data_dir, &rq, r, &err) : sp_fail(&err, SP_ENOMEM, "out of memory");
    st = cli_request_done(&rq, st, &err);
    if (st)
        rc = cli_fail("report", &err);
    else if (cli_flag(&a, "json"))
        rc = cli_print_json("report", sp_report_json(r));
    else
        print_table(r);
    free(r);
    return rc;
}
