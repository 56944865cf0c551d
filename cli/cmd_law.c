/* scaleplan law: loss, compute-optimal allocation, sizing for a target loss, over-training, inference-aware
 * sizing, critical batch size and unit conversions, on a scaling-law preset. */
#include "cli.h"
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"law", 1, "chinchilla | epoch | kaplan | path to a law JSON [chinchilla]"},
    {"compute", 1, "training compute: 1e25, 3ZFLOP, 2.5e3 PF-days"},
    {"gpus", 1, "compute from a cluster: GPUs (with --system, --days, --mfu)"},
    {"system", 1, "system preset for --gpus and GPU-hours [dgx-h100]"},
    {"days", 1, "compute from a cluster: duration (90, 90d, 3mo)"},
    {"mfu", 1, "model FLOP utilisation for --gpus and GPU-hours [0.4]"},
    {"n", 1, "parameters (e.g. 70B)"},
    {"d", 1, "training tokens (e.g. 1.4T)"},
    {"tokens-per-param", 1, "D = R x N (over-training, e.g. 100)"},
    {"target-loss", 1, "smallest model reaching this loss (with --d or --tokens-per-param, or --served-tokens)"},
    {"served-tokens", 1, "inference-aware sizing: tokens served over the model's life"},
    {"batch-rule", 1, "critical batch: kaplan | epoch | deepseek | fixed:TOKENS [epoch]"},
    {"plot", 1, "write iso-FLOP curves and the loss-compute frontier to FILE.svg or FILE.png"},
    {"json", 0, "machine-readable output"},
};

static const char *usage =
    "usage: scaleplan law [--law chinchilla|epoch|kaplan|FILE] QUERY [--json] [--plot FILE.svg]\n"
    "queries (combine freely):\n"
    "  --n N --d D                       loss of a model of N parameters trained on D tokens\n"
    "  --compute C | --gpus G --system S --days T --mfu U\n"
    "                                    compute-optimal N*, D*, loss; critical batch and steps; PF-days, GPU-hours\n"
    "  --target-loss L --d D | --tokens-per-param R   smallest N reaching L\n"
    "  --n N --tokens-per-param R        over-training: loss and compute vs the compute-optimal model of equal loss\n"
    "  --target-loss L --served-tokens T inference-aware N, D minimising training + lifetime inference FLOPs";

static int plot_law(const sp_law *law, const char *path)
{
    static double xs[9][60], ys[9][60], fx[60], fy[60], cx[60], cy[60];
    plot_chart ch[2];
    memset(ch, 0, sizeof ch);
    ch[0].title = "Iso-FLOP curves";
    ch[0].xlabel = "parameters N";
    ch[0].ylabel = "loss";
    ch[0].logx = 1;
    ch[0].logy = 1;
    static char names[9][32];
    int nc = 0;
    for (int e = 18; e <= 26; e++, nc++) {
        double c = pow(10, e), no, dop, lo;
        sp_law_optimal(law, c, &no, &dop, &lo);
        for (int i = 0; i < 60; i++) {
            double n = no * pow(10, -1.5 + 3.0 * i / 59);
            xs[nc][i] = n;
            ys[nc][i] = sp_law_loss(law, n, c / (6 * n));
        }
        snprintf(names[nc], sizeof names[nc], "C = 1e%d FLOP", e);
        ch[0].series[nc] = (plot_series){names[nc], xs[nc], ys[nc], 60, 0};
        fx[nc] = no;
        fy[nc] = lo;
    }
    ch[0].series[nc] = (plot_series){"compute-optimal", fx, fy, nc, 2};
    ch[0].nseries = nc + 1;
    for (int i = 0; i < 60; i++) {
        double c = pow(10, 17 + 11.0 * i / 59), no, dop, lo;
        sp_law_optimal(law, c, &no, &dop, &lo);
        cx[i] = c;
        cy[i] = lo;
    }
    ch[1].title = "Compute-optimal loss";
    ch[1].xlabel = "training compute C (FLOP)";
    ch[1].ylabel = "loss";
    ch[1].logx = 1;
    ch[1].logy = 1;
    ch[1].series[0] = (plot_series){law->name, cx, cy, 60, 0};
    ch[1].nseries = 1;
    if (law->form == SP_LAW_CHINCHILLA) {
        ch[1].hline[0] = (plot_ref){law->E, "irreducible loss E"};
        ch[1].nh = 1;
    }
    char err[512];
    if (plot_write(path, ch, 2, err, sizeof err))
        return cli_error("law", "%s", err);
    return 0;
}

static void print_report(const sp_law_report *r, const char *plot)
{
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
    printf("scaleplan law: %s\n  %s\n", r->law.name, r->law.source);
    if (r->has_loss_at)
        printf("\n  loss of N = %s trained on D = %s tokens: %.4f\n", sp_fmt_quantity(b1, sizeof b1, r->n, SP_UNIT_NONE),
               sp_fmt_quantity(b2, sizeof b2, r->d, SP_UNIT_NONE), r->loss_at);
    if (r->has_optimal) {
        printf("\n  compute C = %s FLOP = %.4g PF-days = %.4g GPU-hours of %s at %.0f %% MFU\n",
               sp_fmt_quantity(b1, sizeof b1, r->compute, SP_UNIT_NONE), r->compute / 8.64e19, r->gpu_hours, r->system.acc.name,
               100 * r->mfu);
        printf("  compute-optimal: N* = %s parameters, D* = %s tokens (%.1f tokens/parameter), loss %.4f\n",
               sp_fmt_quantity(b1, sizeof b1, r->n_opt, SP_UNIT_NONE), sp_fmt_quantity(b2, sizeof b2, r->d_opt, SP_UNIT_NONE),
               r->d_opt / r->n_opt, r->loss_opt);
        printf("  critical batch (%s rule): %s tokens -> %s serial optimizer steps\n", r->rule_name,
               sp_fmt_quantity(b1, sizeof b1, r->critical_batch, SP_UNIT_NONE),
               sp_fmt_quantity(b3, sizeof b3, r->d_opt / r->critical_batch, SP_UNIT_NONE));
    }
    if (r->has_min_n)
        printf("\n  smallest model reaching loss %.4f: N = %s on D = %s tokens (C = %s FLOP)\n", r->target,
               sp_fmt_quantity(b1, sizeof b1, r->min_n, SP_UNIT_NONE), sp_fmt_quantity(b2, sizeof b2, r->min_d, SP_UNIT_NONE),
               sp_fmt_quantity(b3, sizeof b3, 6 * r->min_n * r->min_d, SP_UNIT_NONE));
    if (r->has_overtraining) {
        double c = 6 * r->n * r->over_d;
        printf("\n  over-training N = %s at %.0f tokens/parameter: loss %.4f for C = %s FLOP; the compute-optimal model "
               "(N = %s) reaches it with %.3gx less compute but serves %.2fx more FLOPs per token\n",
               sp_fmt_quantity(b1, sizeof b1, r->n, SP_UNIT_NONE), r->tpp, r->over_loss, sp_fmt_quantity(b2, sizeof b2, c, SP_UNIT_NONE),
               sp_fmt_quantity(b3, sizeof b3, r->over_nopt, SP_UNIT_NONE), c / r->over_copt, r->over_nopt / r->n);
    }
    if (r->has_inference_aware) {
        double total = sp_law_inference_total(r, 0), total0 = sp_law_inference_total(r, 1);
        printf("\n  inference-aware for loss %.4f and %s served tokens: N = %s on D = %s tokens (%.0f tokens/param),\n"
               "  total %s FLOP vs %s FLOP for the compute-optimal N = %s (%.1f %% saved)\n",
               r->target, sp_fmt_quantity(b1, sizeof b1, r->served, SP_UNIT_NONE), sp_fmt_quantity(b2, sizeof b2, r->ia_n, SP_UNIT_NONE),
               sp_fmt_quantity(b3, sizeof b3, r->ia_d, SP_UNIT_NONE), r->ia_d / r->ia_n,
               sp_fmt_quantity(b4, sizeof b4, total, SP_UNIT_NONE), sp_fmt_quantity(b5, sizeof b5, total0, SP_UNIT_NONE),
               sp_fmt_quantity(b6, sizeof b6, r->ia_n0, SP_UNIT_NONE), 100 * (1 - total / total0));
    }
    if (plot)
        printf("\n  plot written to %s\n", plot);
}

int cmd_law(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "law", defs, sizeof defs / sizeof defs[0], argc, argv, usage);
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("law", "unexpected argument '%s'", a.pos[0]);
    sp_request rq = cli_request_begin(&a);
    if (cli_get(&a, "plot")) /* a plot is a query: the library refuses a request that asks nothing */
        json_object_set_new(rq.obj, "plot", json_true());
    sp_law_report rep;
    sp_error err = {0};
    sp_status st = cli_request_done(&rq, sp_law_run(a.data_dir, &rq, &rep, &err), &err);
    if (st)
        return cli_fail("law", &err);
    const char *plot = cli_get(&a, "plot");
    if (plot && (rc = plot_law(&rep.law, plot)))
        return rc;
    if (cli_flag(&a, "json"))
        return cli_print_json("law", sp_law_json(&rep));
    print_report(&rep, plot);
    return 0;
}
