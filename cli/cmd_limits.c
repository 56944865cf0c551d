/* scaleplan limits: how far training scales before data movement and latency stop it (Erdil &
 * Schneider-Joseph 2024). --mode epoch2024 reproduces the paper's model; --mode full is not implemented yet. */
#include "cli.h"
#include "plot.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const cli_optdef defs[] = {
    {"mode", 1, "epoch2024 (the paper's model) | full (scaleplan's training model: not implemented yet) [epoch2024]"},
    {"gpu", 1, "h100 | a100 | v100 | h100-low-latency | h100-global-nvlink | h100-global-nvlink-ll | h100-infinite-ll | h100-superpod [h100]"},
    {"compare", 1, "several GPUs/variants, comma separated (e.g. h100,a100,v100)"},
    {"duration", 1, "training duration [3mo]"},
    {"from", 1, "smallest training compute to report [6e24: the paper's sweep]"},
    {"to", 1, "largest training compute to sweep [until the latency wall]"},
    {"dense", 0, "dense models (default)"},
    {"moe", 0, "sparse (MoE) models: sparsity grows with width (8 experts at d_model 12288)"},
    {"batch-rule", 1, "epoch | deepseek | fixed:TOKENS [epoch]"},
    {"shape", 1, "epoch | fat:K (K times fewer layers: shorter and fatter) [epoch]"},
    {"latency-scale", 1, "multiply kernel and network latencies by X [1]"},
    {"bandwidth-scale", 1, "multiply network bandwidths by X [1]"},
    {"flat-network", 0, "one network level at NVLink bandwidth (no InfiniBand)"},
    {"threads", 1, "threads across settings [all]"},
    {"json", 0, "machine-readable output"},
    {"csv", 0, "one CSV row per point"},
    {"plot", 1, "utilization vs training compute to FILE.svg or FILE.png"},
};

#define MAXP 160
#define MAXS 12

typedef struct {
    char name[64];
    sp_system sys;          /* energy and cost presets of the matching real system */
    int have_sys;
    sp_epoch_setting set;
    sp_epoch_point pts[MAXP];
    sp_epoch_summary sum;
    int n;
    double wall_s;
} run_t;

static const char *binding(const sp_epoch_point *p, double umax)
{
    double t = p->months / 12 * 3.154e7;
    if (p->utilization > 0.8 * umax)
        return "none (linear regime)";
    if (p->latency_s > 0.2 * t)
        return "network + kernel latency";
    if (p->tp_comm_s + p->pp_comm_s > 0.5 * t)
        return "TP/PP bandwidth";
    if (p->dp_comm_s > 0.2 * t)
        return "DP all-reduce";
    return "per-GPU data movement (small matmuls)";
}

/* Energy (MWh) and cloud cost ($) of one point: its GPUs for its months at its utilization (docs/energy.md). */
static void point_energy(const run_t *r, const sp_epoch_point *p, double *mwh, double *usd, double *co2_t)
{
    *mwh = *usd = *co2_t = NAN;
    if (!r->have_sys)
        return;
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    sp_energy_result en;
    sp_error e;
    if (sp_energy_estimate(&r->sys, p->n_gpus, p->months / 12 * 3.154e7 / 3600, p->utilization, &eo, &en, &e) == SP_OK) {
        *mwh = en.energy_kwh / 1000;
        *usd = en.cloud_usd;
        *co2_t = en.co2e_kg / 1000;
    }
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int cmd_limits(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "limits", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan limits [--mode epoch2024] [--gpu h100|a100|v100|<variant>] [--compare h100,a100,v100]\n"
                       "                        [--duration 3mo] [--from 1e24 --to 1e33] [--dense|--moe]\n"
                       "                        [--batch-rule epoch|deepseek|fixed:4Mi] [--shape epoch|fat:K] [--latency-scale X]\n"
                       "                        [--bandwidth-scale X] [--flat-network] [--json|--csv] [--plot FILE.svg]");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("limits", "unexpected argument '%s'", a.pos[0]);
    const char *mode = cli_get(&a, "mode");
    if (mode && strcmp(mode, "epoch2024") != 0) {
        if (strcmp(mode, "full") == 0)
            return cli_error("limits", "--mode full (the question asked with scaleplan's full training model) is not implemented yet; use --mode epoch2024");
        return cli_error("limits", "--mode '%s'; allowed epoch2024, full", mode);
    }
    if (cli_flag(&a, "dense") && cli_flag(&a, "moe"))
        return cli_error("limits", "give --dense or --moe, not both");
    double dur = 0.25 * 3.154e7, from = 0, to = 0, lscale = 1, bscale = 1;
    int threads = 0;
    if ((rc = cli_double(&a, "duration", SP_UNIT_TIME, 3600, 3.154e9, &dur)) ||
        (rc = cli_double(&a, "from", SP_UNIT_FLOP, 1e15, 1e45, &from)) || (rc = cli_double(&a, "to", SP_UNIT_FLOP, 1e15, 1e45, &to)) ||
        (rc = cli_double(&a, "latency-scale", SP_UNIT_NONE, 1e-6, 1e6, &lscale)) ||
        (rc = cli_double(&a, "bandwidth-scale", SP_UNIT_NONE, 1e-6, 1e6, &bscale)) || (rc = cli_int(&a, "threads", 1, 1024, &threads)))
        return rc;
    if (from > 0 && to > 0 && from >= to)
        return cli_error("limits", "--from %g must be below --to %g", from, to);
    /* settings */
    char list[512];
    snprintf(list, sizeof list, "%s", cli_get(&a, "compare") ? cli_get(&a, "compare") : (cli_get(&a, "gpu") ? cli_get(&a, "gpu") : "h100"));
    if (cli_get(&a, "compare") && cli_get(&a, "gpu"))
        return cli_error("limits", "give --gpu or --compare, not both");
    run_t *runs = calloc(MAXS, sizeof *runs);
    if (!runs)
        return cli_error("limits", "out of memory");
    int nr = 0;
    sp_error err = {0};
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (nr == MAXS) {
            free(runs);
            return cli_error("limits", "--compare: at most %d settings", MAXS);
        }
        run_t *r = &runs[nr];
        sp_epoch_setting_defaults(&r->set);
        if (sp_epoch_gpu_preset(tok, &r->set.gpu, &err)) {
            free(runs);
            return cli_fail("limits", &err);
        }
        sp_epoch_setting *s = &r->set;
        s->sparse = cli_flag(&a, "moe");
        s->years = dur / 3.154e7;
        const char *br = cli_get(&a, "batch-rule");
        if (br) {
            if (strcmp(br, "epoch") == 0)
                s->batch = SP_EPOCH_BATCH_DEFAULT;
            else if (strcmp(br, "deepseek") == 0)
                s->batch = SP_EPOCH_BATCH_DEEPSEEK;
            else if (strncmp(br, "fixed:", 6) == 0) {
                s->batch = SP_EPOCH_BATCH_FIXED;
                if (sp_parse_quantity(br + 6, SP_UNIT_NONE, "--batch-rule fixed:", &s->fixed_batch_tokens, &err)) {
                    free(runs);
                    return cli_fail("limits", &err);
                }
                if (s->fixed_batch_tokens < s->seq_len) {
                    int seq = s->seq_len;
                    free(runs);
                    return cli_error("limits", "--batch-rule fixed: the batch must hold at least one %d-token sequence", seq);
                }
            } else {
                free(runs);
                return cli_error("limits", "--batch-rule '%s'; allowed epoch, deepseek, fixed:TOKENS (kaplan needs a loss: not in epoch2024 mode)", br);
            }
        }
        const char *shp = cli_get(&a, "shape");
        if (shp && strcmp(shp, "epoch") != 0) {
            double k = 0;
            if (strncmp(shp, "fat:", 4) != 0 || sp_parse_quantity(shp + 4, SP_UNIT_NONE, "--shape fat:", &k, &err) || !(k >= 1 && k <= 64)) {
                free(runs);
                return cli_error("limits", "--shape '%s'; allowed epoch or fat:K with K in 1..64", shp);
            }
            s->layer_scale = 1 / k;
        }
        for (int i = 0; i < s->gpu.n_levels; i++) {
            s->gpu.lat[i] *= lscale;
            s->gpu.bw[i] *= bscale;
        }
        s->gpu.latency_per_matmul_s *= lscale;
        if (cli_flag(&a, "flat-network"))
            s->gpu.n_levels = 1;
        if (from > 0)
            s->c_min = from;
        if (to > 0)
            s->c_max = to;
        const char *sysname = strncasecmp(tok, "a100", 4) == 0 ? "dgx-a100-80g" : strncasecmp(tok, "v100", 4) == 0 ? "dgx2-v100" : "dgx-h100";
        sp_error e2;
        r->have_sys = sp_load_system(a.data_dir, sysname, &r->sys, &e2) == SP_OK;
        snprintf(r->name, sizeof r->name, "%s%s%s", s->gpu.name, s->sparse ? " sparse" : " dense",
                 (lscale != 1 || bscale != 1 || cli_flag(&a, "flat-network")) ? " (modified)" : "");
        nr++;
    }
    double t0 = now();
    int nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (int i = 0; i < nr; i++) {
        double ts = now();
        runs[i].n = sp_epoch_sweep(&runs[i].set, runs[i].pts, MAXP, &runs[i].sum);
        runs[i].wall_s = now() - ts;
    }
    double wall = now() - t0;
    int json = cli_flag(&a, "json"), csv = cli_flag(&a, "csv");
    if (json) {
        printf("{\"mode\":\"epoch2024\",\"settings\":[");
        for (int i = 0; i < nr; i++) {
            run_t *r = &runs[i];
            printf("%s{\"setting\":\"%s\",\"points\":[", i ? "," : "", r->name);
            for (int k = 0; k < r->n; k++) {
                sp_epoch_point *p = &r->pts[k];
                printf("%s{\"compute_flop\":%.6g,\"utilization\":%.6g,\"n_gpus\":%.6g,\"d_model\":%.0f,\"n_layers\":%d,"
                       "\"sparsity\":%d,\"params\":%.6g,\"batch_tokens\":%.6g,\"tp_model\":%d,\"tp_ff\":%d,\"pp\":%d,\"interleave\":%d,"
                       "\"zero_bubble\":%s,\"dp\":%d,\"ep\":%d,\"microbatches\":%d,\"months\":%.4g,\"binding\":\"%s\"",
                       k ? "," : "", p->compute_flop, p->utilization, p->n_gpus, p->d_model, p->layers, p->sparsity, p->params,
                       p->batch_tokens, p->tp_model, p->tp_ff, p->pp, p->interleave, p->zero_bubble ? "true" : "false", p->dp, p->ep,
                       p->microbatches, p->months, binding(p, r->sum.max_utilization));
                double mwh, usd, co2;
                point_energy(r, p, &mwh, &usd, &co2);
                printf(",\"energy_mwh\":");
                cli_json_num(stdout, mwh);
                printf(",\"co2e_t\":");
                cli_json_num(stdout, co2);
                printf(",\"cloud_cost_usd\":");
                cli_json_num(stdout, usd);
                printf("}");
            }
            printf("],\"linear_regime_end_flop\":");
            cli_json_num(stdout, r->sum.linear_regime_end_flop > 0 ? r->sum.linear_regime_end_flop : NAN);
            printf(",\"latency_wall_flop\":");
            cli_json_num(stdout, r->sum.latency_wall_flop > 0 ? r->sum.latency_wall_flop : NAN);
            printf(",\"first_infeasible_flop\":");
            cli_json_num(stdout, r->sum.first_infeasible_flop > 0 ? r->sum.first_infeasible_flop : NAN);
            printf(",\"max_utilization\":");
            cli_json_num(stdout, r->sum.max_utilization);
            printf(",\"t_limit_flop\":");
            cli_json_num(stdout, r->sum.t_limit_flop);
            printf(",\"t_crit_flop\":");
            cli_json_num(stdout, r->sum.t_crit_flop);
            printf(",\"wall_time_s\":");
            cli_json_num(stdout, r->wall_s);
            printf("}");
        }
        /* the first setting's fields at top level too (the interface other tools rely on) */
        run_t *r = &runs[0];
        printf("],\"points\":[");
        for (int k = 0; k < r->n; k++) {
            sp_epoch_point *p = &r->pts[k];
            printf("%s{\"compute_flop\":%.6g,\"utilization\":%.6g,\"n_gpus\":%.6g,\"d_model\":%.0f,\"n_layers\":%d,\"batch_tokens\":%.6g,"
                   "\"tp_model\":%d,\"tp_ff\":%d,\"pp\":%d,\"interleave\":%d,\"zero_bubble\":%s,\"dp\":%d,\"ep\":%d}",
                   k ? "," : "", p->compute_flop, p->utilization, p->n_gpus, p->d_model, p->layers, p->batch_tokens, p->tp_model,
                   p->tp_ff, p->pp, p->interleave, p->zero_bubble ? "true" : "false", p->dp, p->ep);
        }
        printf("],\"linear_regime_end_flop\":");
        cli_json_num(stdout, r->sum.linear_regime_end_flop > 0 ? r->sum.linear_regime_end_flop : NAN);
        printf(",\"latency_wall_flop\":");
        cli_json_num(stdout, r->sum.latency_wall_flop > 0 ? r->sum.latency_wall_flop : NAN);
        printf(",\"max_utilization\":");
        cli_json_num(stdout, r->sum.max_utilization);
        printf(",\"wall_time_s\":");
        cli_json_num(stdout, wall);
        printf("}\n");
    } else if (csv) {
        printf("setting,compute_flop,d_model,layers,sparsity,params,batch_tokens,months,utilization,n_gpus,tp_model,tp_ff,pp,interleave,zero_bubble,dp,ep,microbatches,tp_comm_months,pp_comm_months,dp_comm_months,latency_months,binding,energy_mwh,cloud_cost_usd\n");
        for (int i = 0; i < nr; i++)
            for (int k = 0; k < runs[i].n; k++) {
                sp_epoch_point *p = &runs[i].pts[k];
                double mo = 12 / 3.154e7;
                double mwh, usd, co2;
                point_energy(&runs[i], p, &mwh, &usd, &co2);
                printf("%s,%.4e,%.0f,%d,%d,%.4e,%.4e,%.3f,%.4f,%.4e,%d,%d,%d,%d,%d,%d,%d,%d,%.3f,%.3f,%.3f,%.3f,%s,%.4e,%.4e\n", runs[i].name,
                       p->compute_flop, p->d_model, p->layers, p->sparsity, p->params, p->batch_tokens, p->months, p->utilization,
                       p->n_gpus, p->tp_model, p->tp_ff, p->pp, p->interleave, p->zero_bubble, p->dp, p->ep, p->microbatches,
                       p->tp_comm_s * mo, p->pp_comm_s * mo, p->dp_comm_s * mo, p->latency_s * mo, binding(p, runs[i].sum.max_utilization),
                       mwh, usd);
            }
    } else {
        for (int i = 0; i < nr; i++) {
            run_t *r = &runs[i];
            printf("scaleplan limits (epoch2024 model): %s, %.3g months\n\n", r->name, dur / 3.154e7 * 12);
            printf("  %10s %8s %5s %3s %9s %9s %6s %9s %4s %8s %6s %3s %6s %9s %9s  %s\n", "C (FLOP)", "d_model", "L", "S", "params", "batch",
                   "U", "GPUs", "TP", "", "PP(v)", "ZB", "DP", "TWh", "cloud $", "binding limit");
            for (int k = 0; k < r->n; k++) {
                sp_epoch_point *p = &r->pts[k];
                char tp[24], pp[24];
                snprintf(tp, sizeof tp, "%dx%d", p->tp_model, p->tp_ff);
                snprintf(pp, sizeof pp, "%d(%d)", p->pp, p->interleave);
                double mwh, usd, co2;
                point_energy(r, p, &mwh, &usd, &co2);
                printf("  %10.3e %8.0f %5d %3d %9.3e %9.3e %6.3f %9.3e %8s %10s %3s %6d %9.3g %9.3g  %s\n", p->compute_flop, p->d_model,
                       p->layers, p->sparsity, p->params, p->batch_tokens, p->utilization, p->n_gpus, tp, pp, p->zero_bubble ? "y" : "-",
                       p->dp, mwh / 1e6, usd, binding(p, r->sum.max_utilization));
            }
            if (r->n == 0)
                printf("  no feasible training run in the requested range\n");
            printf("\n  maximum utilization %.3f; linear regime ends (U <= 0.8 x max) at ", r->sum.max_utilization);
            if (r->sum.linear_regime_end_flop > 0)
                printf("%.3g FLOP\n", r->sum.linear_regime_end_flop);
            else
                printf("(not reached in the sweep)\n");
            printf("  latency wall: largest feasible run %.3g FLOP", r->sum.latency_wall_flop);
            if (r->sum.first_infeasible_flop > 0)
                printf(", nothing finishes in time at %.3g FLOP\n", r->sum.first_infeasible_flop);
            else
                printf(" (end of the sweep)\n");
            printf("  closed forms (reference §4, alpha = 0): latency limit %.3g FLOP, critical compute %.3g FLOP\n\n",
                   r->sum.t_limit_flop, r->sum.t_crit_flop);
        }
        printf("  swept in %.3f s\n", wall);
    }
    const char *plot = cli_get(&a, "plot");
    if (plot) {
        plot_chart ch;
        memset(&ch, 0, sizeof ch);
        ch.title = "Utilization vs training compute (epoch2024 model)";
        ch.xlabel = "training compute (FLOP)";
        ch.ylabel = "utilization (MFU)";
        ch.logx = 1;
        static double xs[MAXS][MAXP], ys[MAXS][MAXP];
        for (int i = 0; i < nr && i < PLOT_MAX_SERIES; i++) {
            for (int k = 0; k < runs[i].n; k++) {
                xs[i][k] = runs[i].pts[k].compute_flop;
                ys[i][k] = runs[i].pts[k].utilization;
            }
            ch.series[ch.nseries++] = (plot_series){runs[i].name, xs[i], ys[i], runs[i].n, 2};
        }
        static char lbl[MAXS][80];
        ch.hline[ch.nh++] = (plot_ref){0.8 * runs[0].sum.max_utilization, "80 % of max utilization"};
        for (int i = 0; i < nr && ch.nv < PLOT_MAX_REFS; i++) {
            if (!(runs[i].sum.first_infeasible_flop > 0))
                continue;
            int dup = 0; /* settings that hit the same wall share one line */
            for (int k = 0; k < ch.nv; k++)
                dup |= ch.vline[k].value == runs[i].sum.latency_wall_flop;
            if (dup)
                continue;
            snprintf(lbl[i], sizeof lbl[i], "latency wall %.2g", runs[i].sum.latency_wall_flop);
            ch.vline[ch.nv++] = (plot_ref){runs[i].sum.latency_wall_flop, lbl[i]};
        }
        char perr[512];
        if (plot_write(plot, &ch, 1, perr, sizeof perr)) {
            free(runs);
            return cli_error("limits", "%s", perr);
        }
    }
    free(runs);
    return 0;
}
