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

int cmd_law(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "law", defs, sizeof defs / sizeof defs[0], argc, argv, usage);
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("law", "unexpected argument '%s'", a.pos[0]);
    sp_law law;
    sp_error err = {0};
    if (sp_load_law(a.data_dir, cli_get(&a, "law") ? cli_get(&a, "law") : "chinchilla", &law, &err))
        return cli_fail("law", &err);
    double C = 0, N = 0, D = 0, tpp = 0, target = 0, served = 0, days = 0, mfu = 0.4;
    int gpus = 0;
    if ((rc = cli_double(&a, "compute", SP_UNIT_FLOP, 1, 1e40, &C)) || (rc = cli_double(&a, "n", SP_UNIT_NONE, 1, 1e18, &N)) ||
        (rc = cli_double(&a, "d", SP_UNIT_NONE, 1, 1e20, &D)) ||
        (rc = cli_double(&a, "tokens-per-param", SP_UNIT_NONE, 1e-3, 1e7, &tpp)) ||
        (rc = cli_double(&a, "target-loss", SP_UNIT_NONE, 1e-6, 1e3, &target)) ||
        (rc = cli_double(&a, "served-tokens", SP_UNIT_NONE, 0, 1e22, &served)) || (rc = cli_int(&a, "gpus", 1, 1 << 30, &gpus)) ||
        (rc = cli_double(&a, "mfu", SP_UNIT_NONE, 1e-4, 1, &mfu)))
        return rc;
    const char *ds = cli_get(&a, "days");
    if (ds) {
        /* plain numbers are days here; units allowed */
        double v;
        char what[] = "--days";
        if (sp_parse_quantity(ds, SP_UNIT_TIME, what, &v, &err))
            return cli_fail("law", &err);
        int plain = 1;
        for (const char *c = ds; *c; c++)
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))
                plain = (*c == 'e' || *c == 'E') && plain;
        days = plain ? v : v / 86400;
        if (!(days > 0 && days < 1e6))
            return cli_error("law", "--days: %s is out of range; allowed a positive duration", ds);
    }
    sp_system sys;
    const char *sname = cli_get(&a, "system") ? cli_get(&a, "system") : "dgx-h100";
    if (sp_load_system(a.data_dir, sname, &sys, &err))
        return cli_fail("law", &err);
    double peak = sp_accel_peak(&sys.acc, SP_BF16);
    if (gpus || days > 0) {
        if (!gpus || !(days > 0))
            return cli_error("law", "compute from a cluster needs --gpus and --days (and optionally --system, --mfu)");
        if (C > 0)
            return cli_error("law", "give either --compute or --gpus/--days, not both");
        C = gpus * peak * mfu * days * 86400;
    }
    sp_batch_rule rule = SP_BATCH_EPOCH;
    double fixed = 0;
    if (cli_get(&a, "batch-rule") && sp_batch_rule_parse(cli_get(&a, "batch-rule"), &rule, &fixed, &err))
        return cli_fail("law", &err);
    int json = cli_flag(&a, "json"), any = 0;
    /* output is buffered and printed only on success: no partial output before an error */
    char *obuf = NULL;
    size_t olen = 0;
    FILE *out = open_memstream(&obuf, &olen);
    if (!out)
        return cli_error("law", "out of memory");
    if (json)
        fprintf(out, "{\"law\":\"%s\"", law.name);
    else
        fprintf(out, "scaleplan law: %s\n  %s\n", law.name, law.source);
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
    if (N > 0 && D > 0) {
        double L = sp_law_loss(&law, N, D);
        any = 1;
        if (json) {
            fprintf(out, ",\"loss_at\":{\"n\":");
            cli_json_num(out, N);
            fprintf(out, ",\"d\":");
            cli_json_num(out, D);
            fprintf(out, ",\"loss\":");
            cli_json_num(out, L);
            fprintf(out, "}");
        } else
            fprintf(out, "\n  loss of N = %s trained on D = %s tokens: %.4f\n", sp_fmt_quantity(b1, sizeof b1, N, SP_UNIT_NONE),
                   sp_fmt_quantity(b2, sizeof b2, D, SP_UNIT_NONE), L);
    }
    if (C > 0) {
        double no, dop, lo;
        sp_law_optimal(&law, C, &no, &dop, &lo);
        double B = sp_critical_batch(rule, fixed, C, lo, 1);
        double steps = dop / B;
        double gpu_hours = C / (peak * mfu) / 3600;
        any = 1;
        if (json) {
            fprintf(out, ",\"compute_flop\":");
            cli_json_num(out, C);
            fprintf(out, ",\"n_opt\":");
            cli_json_num(out, no);
            fprintf(out, ",\"d_opt\":");
            cli_json_num(out, dop);
            fprintf(out, ",\"loss\":");
            cli_json_num(out, lo);
            fprintf(out, ",\"tokens_per_param\":");
            cli_json_num(out, dop / no);
            fprintf(out, ",\"critical_batch_tokens\":");
            cli_json_num(out, B);
            fprintf(out, ",\"serial_steps\":");
            cli_json_num(out, steps);
            fprintf(out, ",\"pf_days\":");
            cli_json_num(out, C / 8.64e19);
            fprintf(out, ",\"gpu_hours\":");
            cli_json_num(out, gpu_hours);
            fprintf(out, ",\"gpu_hours_assumptions\":{\"accelerator\":\"%s\",\"peak_flops\":", sys.acc.name);
            cli_json_num(out, peak);
            fprintf(out, ",\"mfu\":");
            cli_json_num(out, mfu);
            fprintf(out, "}");
        } else {
            fprintf(out, "\n  compute C = %s FLOP = %.4g PF-days = %.4g GPU-hours of %s at %.0f %% MFU\n", sp_fmt_quantity(b1, sizeof b1, C, SP_UNIT_NONE),
                   C / 8.64e19, gpu_hours, sys.acc.name, 100 * mfu);
            fprintf(out, "  compute-optimal: N* = %s parameters, D* = %s tokens (%.1f tokens/parameter), loss %.4f\n",
                   sp_fmt_quantity(b1, sizeof b1, no, SP_UNIT_NONE), sp_fmt_quantity(b2, sizeof b2, dop, SP_UNIT_NONE), dop / no, lo);
            fprintf(out, "  critical batch (%s rule): %s tokens -> %s serial optimizer steps\n", cli_get(&a, "batch-rule") ? cli_get(&a, "batch-rule") : "epoch",
                   sp_fmt_quantity(b1, sizeof b1, B, SP_UNIT_NONE), sp_fmt_quantity(b3, sizeof b3, steps, SP_UNIT_NONE));
        }
    }
    if (target > 0 && (D > 0 || tpp > 0) && !(N > 0)) {
        double n, d;
        if (sp_law_min_n(&law, target, D, tpp, &n, &d, &err)) {
            fclose(out);
            free(obuf);
            return cli_fail("law", &err);
        }
        any = 1;
        if (json) {
            fprintf(out, ",\"min_n_for_loss\":{\"target_loss\":");
            cli_json_num(out, target);
            fprintf(out, ",\"n\":");
            cli_json_num(out, n);
            fprintf(out, ",\"d\":");
            cli_json_num(out, d);
            fprintf(out, ",\"compute_flop\":");
            cli_json_num(out, 6 * n * d);
            fprintf(out, "}");
        } else
            fprintf(out, "\n  smallest model reaching loss %.4f: N = %s on D = %s tokens (C = %s FLOP)\n", target,
                   sp_fmt_quantity(b1, sizeof b1, n, SP_UNIT_NONE), sp_fmt_quantity(b2, sizeof b2, d, SP_UNIT_NONE),
                   sp_fmt_quantity(b3, sizeof b3, 6 * n * d, SP_UNIT_NONE));
    }
    if (N > 0 && tpp > 0 && !(D > 0)) {
        double d = tpp * N, L = sp_law_loss(&law, N, d), c = 6 * N * d;
        /* the compute-optimal model with the same loss */
        double no, dop, copt = sp_law_compute_for_loss(&law, L, &no, &dop);
        any = 1;
        if (json) {
            fprintf(out, ",\"overtraining\":{\"n\":");
            cli_json_num(out, N);
            fprintf(out, ",\"d\":");
            cli_json_num(out, d);
            fprintf(out, ",\"loss\":");
            cli_json_num(out, L);
            fprintf(out, ",\"compute_flop\":");
            cli_json_num(out, c);
            fprintf(out, ",\"compute_optimal_flop_same_loss\":");
            cli_json_num(out, copt);
            fprintf(out, ",\"extra_compute_factor\":");
            cli_json_num(out, c / copt);
            fprintf(out, ",\"n_opt_same_loss\":");
            cli_json_num(out, no);
            fprintf(out, "}");
        } else
            fprintf(out, "\n  over-training N = %s at %.0f tokens/parameter: loss %.4f for C = %s FLOP; the compute-optimal model "
                   "(N = %s) reaches it with %.3gx less compute but serves %.2fx more FLOPs per token\n",
                   sp_fmt_quantity(b1, sizeof b1, N, SP_UNIT_NONE), tpp, L, sp_fmt_quantity(b2, sizeof b2, c, SP_UNIT_NONE),
                   sp_fmt_quantity(b3, sizeof b3, no, SP_UNIT_NONE), c / copt, no / N);
    }
    if (target > 0 && served > 0) {
        double n, d;
        if (sp_law_inference_aware(&law, target, served, &n, &d, &err)) {
            fclose(out);
            free(obuf);
            return cli_fail("law", &err);
        }
        double n0, d0;
        sp_law_compute_for_loss(&law, target, &n0, &d0);
        double total = 6 * n * d + 2 * n * served, total0 = 6 * n0 * d0 + 2 * n0 * served;
        any = 1;
        if (json) {
            fprintf(out, ",\"inference_aware\":{\"target_loss\":");
            cli_json_num(out, target);
            fprintf(out, ",\"served_tokens\":");
            cli_json_num(out, served);
            fprintf(out, ",\"n\":");
            cli_json_num(out, n);
            fprintf(out, ",\"d\":");
            cli_json_num(out, d);
            fprintf(out, ",\"total_flop\":");
            cli_json_num(out, total);
            fprintf(out, ",\"chinchilla_n\":");
            cli_json_num(out, n0);
            fprintf(out, ",\"chinchilla_total_flop\":");
            cli_json_num(out, total0);
            fprintf(out, "}");
        } else
            fprintf(out, "\n  inference-aware for loss %.4f and %s served tokens: N = %s on D = %s tokens (%.0f tokens/param),\n"
                   "  total %s FLOP vs %s FLOP for the compute-optimal N = %s (%.1f %% saved)\n",
                   target, sp_fmt_quantity(b1, sizeof b1, served, SP_UNIT_NONE), sp_fmt_quantity(b2, sizeof b2, n, SP_UNIT_NONE),
                   sp_fmt_quantity(b3, sizeof b3, d, SP_UNIT_NONE), d / n, sp_fmt_quantity(b4, sizeof b4, total, SP_UNIT_NONE),
                   sp_fmt_quantity(b5, sizeof b5, total0, SP_UNIT_NONE), sp_fmt_quantity(b6, sizeof b6, n0, SP_UNIT_NONE),
                   100 * (1 - total / total0));
    }
    const char *plot = cli_get(&a, "plot");
    if (plot && (rc = plot_law(&law, plot))) {
        fclose(out);
        free(obuf);
        return rc;
    }
    if (json)
        fprintf(out, "}\n");
    else if (!any && !plot)
        fprintf(out, "\n  no query given: see scaleplan law --help\n");
    else if (plot)
        fprintf(out, "\n  plot written to %s\n", plot);
    fclose(out);
    fwrite(obuf, 1, olen, stdout);
    free(obuf);
    return 0;
}
