/* scaleplan forecast: which wall binds first, and when (src/forecast.c, docs/forecast.md). The options are the
 * library's parameter table (every rate a flag) plus the assumption set, the years and the output form. */
#include "cli.h"
#include "plot.h"
#include "scaleplan_forecast.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIXED_OPTS 6

static cli_optdef defs[FIXED_OPTS + SP_FC_NPARAMS] = {
    {"assumptions", 1, "assumption set: default | epoch-2030 | villalobos-2024 | a JSON file [default]"},
    {"year", 1, "one year only"},
    {"from", 1, "first year [start year]"},
    {"to", 1, "last year [first + 10]"},
    {"json", 0, "machine-readable output"},
    {"plot", 1, "timeline chart FILE.svg|png (gnuplot)"},
};
static void build_defs(void)
{
    for (int i = 0; i < SP_FC_NPARAMS; i++) {
        const sp_fc_param_info *p = sp_forecast_param(i);
        defs[FIXED_OPTS + i] = (cli_optdef){p->opt, 1, p->help};
    }
}

static const char *short_name(int c)
{
    static const char *s[SP_FCC_N] = {"data-move*", "latency", "power 1site", "power dist.", "chips", "data", "cost"};
    return c >= 0 && c < SP_FCC_N ? s[c] : "none";
}

static void print_text(const sp_forecast_inputs *in, const sp_forecast_result *r)
{
    printf("scaleplan forecast: assumptions '%s'\n", in->name);
    if (in->description[0])
        printf("  %s\n", in->description);
    printf("\nlargest run each constraint allows (FLOP, central value); * soft: utilization falls beyond it\n");
    printf("%-5s %10s", "year", "trend");
    for (int c = 0; c < SP_FCC_N; c++)
        printf(" %11s", short_name(c));
    printf("  %-12s %10s\n", "binding", "feasible");
    for (int i = 0; i < r->n_years; i++) {
        const sp_fc_year *y = &r->years[i];
        printf("%-5d %10.2e", y->year, y->trend_flop);
        for (int c = 0; c < SP_FCC_N; c++) {
            double m = y->lim[c].max_flop;
            if (isfinite(m))
                printf(" %10.2e%s", m, y->trend_flop > m ? "!" : " ");
            else
                printf(" %11s", "-");
        }
        printf("  %-12s %10.2e\n", short_name(y->binding), y->feasible_flop);
    }
    printf("(! = the trend run is beyond this limit; 'feasible' = the smallest wall, distributed power allowed)\n");
    printf("\nwhat the trend run needs\n%-5s %9s %10s %12s %12s %11s %11s %11s\n", "year", "days", "power GW",
           "H100e", "available", "tokens", "stock", "cost $");
    for (int i = 0; i < r->n_years; i++) {
        const sp_fc_year *y = &r->years[i];
        printf("%-5d %9.0f %10.3g %12.3g %12.3g %11.3g %11.3g %11.3g\n", y->year, y->duration_s / 86400,
               y->power_w / 1e9, y->accels_h100e, y->chips_available_h100e, y->tokens, y->stock_tokens, y->cost_usd);
    }
    printf("\nthe trend at %.3gx/yr first exceeds (central values):\n", in->p[SP_FC_COMPUTE_GROWTH].v);
    for (int c = 0; c < SP_FCC_N; c++) {
        if (isfinite(r->binds_year[c]))
            printf("  %-20s in %.1f (during %d)\n", sp_forecast_constraint_name(c), r->binds_year[c],
                   (int)floor(r->binds_year[c]));
        else
            printf("  %-20s not within 100 years%s\n", sp_forecast_constraint_name(c),
                   c == SP_FCC_COST && in->p[SP_FC_BUDGET_USD].v == 0 ? " (no budget)" : "");
    }
}

static int plot_forecast(const sp_forecast_result *r, const char *path)
{
    static double x[64], y[SP_FCC_N + 1][64];
    plot_chart ch;
    memset(&ch, 0, sizeof ch);
    ch.title = "Largest training run each constraint allows";
    ch.xlabel = "year";
    ch.ylabel = "training compute (FLOP)";
    ch.logy = 1;
    for (int i = 0; i < r->n_years; i++) {
        x[i] = r->years[i].year;
        y[SP_FCC_N][i] = r->years[i].trend_flop;
        for (int c = 0; c < SP_FCC_N; c++)
            y[c][i] = r->years[i].lim[c].max_flop;
    }
    ch.series[ch.nseries++] = (plot_series){"compute trend", x, y[SP_FCC_N], r->n_years, 2};
    static const char *legend[SP_FCC_N] = {"data movement (soft)", "latency wall", "power, one campus",
                                           "power, distributed", "chips", "data", "cost"};
    for (int c = 0; c < SP_FCC_N; c++)
        ch.series[ch.nseries++] = (plot_series){legend[c], x, y[c], r->n_years, 0};
    char err[512];
    if (plot_write(path, &ch, 1, err, sizeof err))
        return cli_error("forecast", "%s", err);
    return 0;
}

int cmd_forecast(int argc, char **argv)
{
    build_defs();
    cli_args a;
    int rc = cli_parse(&a, "forecast", defs, FIXED_OPTS + SP_FC_NPARAMS, argc, argv,
                       "usage: scaleplan forecast [--assumptions default|epoch-2030|villalobos-2024|FILE] [--year Y | --from Y --to Y]\n"
                       "                          [--RATE VALUE ...] [--json] [--plot FILE.svg]\n"
                       "For each year, the largest training run each constraint allows (data movement, latency wall, power on\n"
                       "one campus and distributed, chips, data, cost), the one that binds, and what the trend run needs.");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("forecast", "unexpected argument '%s'", a.pos[0]);
    json_t *req = cli_request(&a);
    sp_request rq;
    sp_request_init(&rq, "forecast", req);
    sp_forecast_inputs in;
    sp_forecast_result *r = malloc(sizeof *r);
    sp_error err = {0};
    sp_status st = r ? sp_forecast_request(a.data_dir, &rq, &in, r, &err) : sp_fail(&err, SP_ENOMEM, "out of memory");
    json_decref(req);
    if (st) {
        free(r);
        return cli_fail("forecast", &err);
    }
    const char *plot = cli_get(&a, "plot");
    if (plot && (rc = plot_forecast(r, plot))) {
        free(r);
        return rc;
    }
    if (cli_flag(&a, "json"))
        rc = cli_print_json("forecast", sp_forecast_json(r));
    else
        print_text(&in, r);
    free(r);
    return rc;
}
