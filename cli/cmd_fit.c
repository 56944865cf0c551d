/* scaleplan fit FILE.csv: fit L = E + A/N^alpha + B/D^beta to the user's (N, D, loss) points. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"n", 1, "column of parameter counts [N]"},
    {"d", 1, "column of training tokens [D]"},
    {"loss", 1, "column of final losses [loss]"},
    {"weight", 1, "optional column of point weights"},
    {"drop-if", 1, "drop rows where COLUMN=VALUE (e.g. excluded_as_outlier_by_epoch=y)"},
    {"delta", 1, "Huber delta on log residuals [1e-3]"},
    {"objective", 1, "huber (Hoffmann et al.) | huber-scaled (Huber likelihood with a fitted scale: Epoch's published estimator) [huber]"},
    {"bootstrap", 1, "bootstrap resamples for confidence intervals [0]"},
    {"seed", 1, "bootstrap seed [1]"},
    {"ci", 1, "confidence level [0.95]"},
    {"threads", 1, "threads for the bootstrap [all]"},
    {"json", 0, "machine-readable output"},
};

static void json_ci(const char *k, const double *c, int comma)
{
    printf("%s\"%s\":[", comma ? "," : "", k);
    cli_json_num(stdout, c[0]);
    printf(",");
    cli_json_num(stdout, c[1]);
    printf("]");
}

int cmd_fit(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "fit", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan fit FILE.csv [--n COL --d COL --loss COL] [--drop-if COL=VALUE] [--bootstrap 1000]\n"
                       "                  [--seed S] [--delta 1e-3] [--json]\n"
                       "Fits L = E + A/N^alpha + B/D^beta by Huber loss on log residuals with L-BFGS from Hoffmann et al.'s\n"
                       "grid of starts; reports the compute-optimal exponents a = beta/(alpha+beta), b = alpha/(alpha+beta).");
    if (rc)
        return rc;
    if (a.npos != 1)
        return cli_error("fit", "expected one CSV file, got %d arguments", a.npos);
    const char *cn = cli_get(&a, "n") ? cli_get(&a, "n") : "N";
    const char *cd = cli_get(&a, "d") ? cli_get(&a, "d") : "D";
    const char *cl = cli_get(&a, "loss") ? cli_get(&a, "loss") : "loss";
    const char *cw = cli_get(&a, "weight");
    sp_fit_opts o = {1e-3, 0, 1, 0.95, 0, 0};
    int seed = 1;
    if ((rc = cli_double(&a, "delta", SP_UNIT_NONE, 1e-12, 10, &o.delta)) ||
        (rc = cli_int(&a, "bootstrap", 0, 1000000, &o.bootstrap)) || (rc = cli_int(&a, "seed", 0, 2147483647, &seed)) ||
        (rc = cli_double(&a, "ci", SP_UNIT_NONE, 0.5, 0.9999, &o.ci_level)) || (rc = cli_int(&a, "threads", 1, 1024, &o.threads)))
        return rc;
    o.seed = (uint64_t)seed;
    const char *objn = cli_get(&a, "objective");
    if (objn) {
        if (strcmp(objn, "huber-scaled") == 0)
            o.scaled = 1;
        else if (strcmp(objn, "huber") != 0)
            return cli_error("fit", "--objective '%s'; allowed huber, huber-scaled", objn);
    }
    char dcol[128] = "", dval[128] = "";
    const char *drop = cli_get(&a, "drop-if");
    if (drop) {
        const char *eq = strchr(drop, '=');
        if (!eq || eq == drop)
            return cli_error("fit", "--drop-if '%s': expected COLUMN=VALUE", drop);
        snprintf(dcol, sizeof dcol, "%.*s", (int)(eq - drop), drop);
        snprintf(dval, sizeof dval, "%s", eq + 1);
    }
    sp_csv *c;
    sp_error err = {0};
    if (sp_csv_read(a.pos[0], &c, &err))
        return cli_fail("fit", &err);
    const char *need[] = {cn, cd, cl, cw, dcol[0] ? dcol : NULL};
    for (int i = 0; i < 5; i++)
        if (need[i] && sp_csv_col(c, need[i]) < 0) {
            rc = cli_error("fit", "%s:1: no column '%s' (choose columns with --n, --d, --loss, --weight, --drop-if)", a.pos[0], need[i]);
            sp_csv_free(c);
            return rc;
        }
    int rows = sp_csv_rows(c), k = 0;
    double *v = malloc(sizeof(double) * 4 * (size_t)(rows > 0 ? rows : 1));
    int *line = malloc(sizeof(int) * (size_t)(rows > 0 ? rows : 1));
    if (!v || !line) {
        free(v);
        free(line);
        sp_csv_free(c);
        return cli_error("fit", "out of memory");
    }
    double *N = v, *D = v + rows, *L = v + 2 * rows, *W = v + 3 * rows;
    rc = 0;
    for (int r = 0; r < rows && !rc; r++) {
        if (dcol[0] && strcmp(sp_csv_get(c, r, sp_csv_col(c, dcol)), dval) == 0)
            continue;
        double n = 0, d = 0, l = 0, w = 1;
        if (sp_csv_double(c, r, cn, NAN, 1e-300, 1e300, &n, &err) || sp_csv_double(c, r, cd, NAN, 1e-300, 1e300, &d, &err) ||
            sp_csv_double(c, r, cl, NAN, 1e-300, 1e300, &l, &err) || (cw && sp_csv_double(c, r, cw, 1, 0, 1e300, &w, &err))) {
            rc = cli_fail("fit", &err);
            break;
        }
        if (isnan(n) || isnan(d) || isnan(l)) {
            rc = cli_error("fit", "%s:%d: empty N, D or loss cell", a.pos[0], sp_csv_line(c, r));
            break;
        }
        for (int j = 0; j < k; j++)
            if (N[j] == n && D[j] == d && L[j] == l) {
                rc = cli_error("fit", "%s:%d: duplicate of line %d (same N, D and loss); remove it or give it a weight",
                               a.pos[0], sp_csv_line(c, r), line[j]);
                break;
            }
        N[k] = n, D[k] = d, L[k] = l, W[k] = w, line[k] = sp_csv_line(c, r);
        k++;
    }
    sp_csv_free(c);
    if (rc) {
        free(v);
        free(line);
        return rc;
    }
    sp_fit_result r;
    sp_status st = sp_fit_law(N, D, L, cw ? W : NULL, k, &o, &r, &err);
    free(v);
    free(line);
    if (st)
        return cli_fail("fit", &err);
    if (cli_flag(&a, "json")) {
        printf("{\"E\":");
        cli_json_num(stdout, r.E);
        printf(",\"A\":");
        cli_json_num(stdout, r.A);
        printf(",\"B\":");
        cli_json_num(stdout, r.B);
        printf(",\"alpha\":");
        cli_json_num(stdout, r.alpha);
        printf(",\"beta\":");
        cli_json_num(stdout, r.beta);
        printf(",\"a\":");
        cli_json_num(stdout, r.a_exp);
        printf(",\"b\":");
        cli_json_num(stdout, r.b_exp);
        printf(",\"n_points\":%d,\"huber_objective\":", r.n_points);
        cli_json_num(stdout, r.objective);
        printf(",\"rmse_log\":");
        cli_json_num(stdout, r.rmse_log);
        printf(",\"r2_log\":");
        cli_json_num(stdout, r.r2_log);
        printf(",\"objective\":\"%s\",\"starts\":%d,\"starts_converged\":%d,\"bootstrap\":%d,\"ci_level\":", o.scaled ? "huber-scaled" : "huber", r.n_starts, r.n_converged, r.n_boot);
        cli_json_num(stdout, o.ci_level);
        printf(",\"ci\":{");
        static const char *keys[] = {"E", "A", "B", "alpha", "beta", "a", "b"};
        for (int i = 0; i < 7; i++)
            json_ci(keys[i], r.ci[i], i);
        printf("}}\n");
        return 0;
    }
    printf("scaleplan fit: %d points from %s%s%s\n", r.n_points, a.pos[0], drop ? ", dropped rows with " : "", drop ? drop : "");
    printf("  L = E + A/N^alpha + B/D^beta   (Huber delta %g on log L, L-BFGS from the best %d of 4500 grid starts, %d converged)\n",
           o.delta, r.n_starts, r.n_converged);
    static const char *names[] = {"E", "A", "B", "alpha", "beta", "a = beta/(alpha+beta)", "b = alpha/(alpha+beta)"};
    double vals[7] = {r.E, r.A, r.B, r.alpha, r.beta, r.a_exp, r.b_exp};
    for (int i = 0; i < 7; i++) {
        printf("  %-24s %12.6g", names[i], vals[i]);
        if (r.n_boot)
            printf("   %.0f %% CI [%.6g, %.6g]", 100 * o.ci_level, r.ci[i][0], r.ci[i][1]);
        printf("\n");
    }
    printf("  goodness of fit: RMSE of log L %.4g, R^2 (log L) %.4f, Huber objective %.6g%s\n", r.rmse_log, r.r2_log,
           r.objective, r.n_boot ? "" : "   (--bootstrap 1000 for confidence intervals)");
    if (r.n_boot)
        printf("  bootstrap: %d resamples, seed %d\n", r.n_boot, seed);
    return 0;
}
