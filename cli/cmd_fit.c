/* scaleplan fit FILE.csv: fit a scaling law (Chinchilla, Gadre et al. 2024 or Kaplan form) to the user's (N, D,
 * loss) points; held-out error, form selection, predictions with bootstrap intervals. */
#include "cli.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PRED 4096

static const cli_optdef defs[] = {
    {"n", 1, "column of parameter counts [N]"},
    {"d", 1, "column of training tokens [D]"},
    {"loss", 1, "column of final losses [loss]"},
    {"weight", 1, "optional column of point weights"},
    {"drop-if", 1, "drop rows where COLUMN=VALUE (e.g. excluded_as_outlier_by_epoch=y)"},
    {"delta", 1, "Huber delta on log residuals [1e-3]"},
    {"objective", 1, "huber (Hoffmann et al.) | huber-scaled (Huber likelihood with a fitted scale: Epoch's published estimator) [huber]"},
    {"form", 1, "chinchilla | gadre (one shared exponent, Gadre et al. 2024) | kaplan | auto (the smallest held-out error) [chinchilla]"},
    {"select", 1, "held-out error reported and used by --form auto: loo (leave one point out) | size (one model size out) | largest (fit the smaller sizes, predict the largest) [loo]"},
    {"predict", 1, "N,D: predict the loss there (repeatable; with --bootstrap a prediction interval)"},
    {"predict-csv", 1, "FILE with columns N and D (or those of --n, --d): predict each row"},
    {"bootstrap", 1, "bootstrap resamples for confidence intervals [0]"},
    {"seed", 1, "bootstrap seed [1]"},
    {"ci", 1, "confidence level [0.95]"},
    {"threads", 1, "threads for the bootstrap [all]"},
    {"json", 0, "machine-readable output"},
};

/* Reads the (N, D, loss[, weight]) points; *k points into v (4 x rows: N, D, L, W). Returns 0 or the exit code. */
static int read_points(const char *file, const char *cn, const char *cd, const char *cl, const char *cw,
                       const char *dcol, const char *dval, double **v, int *k)
{
    sp_csv *c;
    sp_error err = {0};
    if (sp_csv_read(file, &c, &err))
        return cli_fail("fit", &err);
    const char *need[] = {cn, cd, cl, cw, dcol[0] ? dcol : NULL};
    for (int i = 0; i < 5; i++)
        if (need[i] && sp_csv_col(c, need[i]) < 0) {
            int rc = cli_error("fit", "%s%s: %s:1: no column '%s'; expected one of the CSV's columns", i < 4 ? "--" : "--drop-if",
                               i == 0 ? "n" : i == 1 ? "d" : i == 2 ? "loss" : i == 3 ? "weight" : "", file, need[i]);
            sp_csv_free(c);
            return rc;
        }
    int rows = sp_csv_rows(c), rc = 0;
    *k = 0;
    *v = malloc(sizeof(double) * 4 * (size_t)(rows > 0 ? rows : 1));
    int *line = malloc(sizeof(int) * (size_t)(rows > 0 ? rows : 1));
    if (!*v || !line) {
        free(line);
        sp_csv_free(c);
        return cli_error("fit", "out of memory");
    }
    double *N = *v, *D = *v + rows, *L = *v + 2 * rows, *W = *v + 3 * rows;
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
            rc = cli_error("fit", "%s:%d: empty N, D or loss cell", file, sp_csv_line(c, r));
            break;
        }
        for (int j = 0; j < *k && !rc; j++)
            if (N[j] == n && D[j] == d && L[j] == l)
                rc = cli_error("fit", "%s:%d: duplicate of line %d (same N, D and loss); remove it or give it a weight",
                               file, sp_csv_line(c, r), line[j]);
        N[*k] = n, D[*k] = d, L[*k] = l, W[*k] = w, line[*k] = sp_csv_line(c, r);
        (*k)++;
    }
    /* the columns are packed at stride rows: move them to stride k */
    memmove(*v + *k, D, sizeof(double) * (size_t)*k);
    memmove(*v + 2 * *k, L, sizeof(double) * (size_t)*k);
    memmove(*v + 3 * *k, W, sizeof(double) * (size_t)*k);
    free(line);
    sp_csv_free(c);
    return rc;
}

/* One "N,D" prediction point (units accepted: 7B,140B). */
static int parse_pred(const char *s, sp_fit_prediction *p)
{
    const char *comma = strchr(s, ',');
    char a[64];
    if (!comma || comma == s || (size_t)(comma - s) >= sizeof a)
        return cli_error("fit", "--predict '%s': expected N,D (e.g. 7B,140B)", s);
    snprintf(a, sizeof a, "%.*s", (int)(comma - s), s);
    sp_error err = {0};
    if (sp_parse_quantity(a, SP_UNIT_NONE, "--predict N", &p->n, &err) ||
        sp_parse_quantity(comma + 1, SP_UNIT_NONE, "--predict D", &p->d, &err))
        return cli_fail("fit", &err);
    if (!(p->n > 0 && p->d > 0))
        return cli_error("fit", "--predict '%s': N and D must be positive", s);
    return 0;
}

static int read_pred_csv(const char *file, const char *cn, const char *cd, sp_fit_prediction *p, int *np)
{
    sp_csv *c;
    sp_error err = {0};
    if (sp_csv_read(file, &c, &err))
        return cli_fail_opt("fit", "predict-csv", &err);
    int rc = 0;
    if (sp_csv_col(c, cn) < 0 || sp_csv_col(c, cd) < 0)
        rc = cli_error("fit", "--predict-csv %s:1: needs columns '%s' and '%s'", file, cn, cd);
    for (int r = 0; r < sp_csv_rows(c) && !rc; r++) {
        if (*np >= MAX_PRED) {
            rc = cli_error("fit", "--predict-csv %s: more than %d points", file, MAX_PRED);
            break;
        }
        sp_fit_prediction *q = &p[*np];
        if (sp_csv_double(c, r, cn, NAN, 1e-300, 1e300, &q->n, &err) || sp_csv_double(c, r, cd, NAN, 1e-300, 1e300, &q->d, &err))
            rc = cli_fail("fit", &err);
        else if (isnan(q->n) || isnan(q->d))
            rc = cli_error("fit", "--predict-csv %s:%d: empty N or D cell", file, sp_csv_line(c, r));
        else
            (*np)++;
    }
    sp_csv_free(c);
    return rc;
}

/* Pulls every "--predict X" / "--predict=X" out of argv (the option parser keeps one value per option). */
static int take_predicts(int *argc, char **argv, sp_fit_prediction *p, int *np)
{
    int out = 0, rc = 0;
    for (int i = 0; i < *argc; i++) {
        const char *val = NULL;
        if (strcmp(argv[i], "--predict") == 0) {
            if (i + 1 >= *argc)
                return cli_error("fit", "--predict needs a value N,D");
            val = argv[++i];
        } else if (strncmp(argv[i], "--predict=", 10) == 0)
            val = argv[i] + 10;
        if (!val) {
            argv[out++] = argv[i];
            continue;
        }
        if (*np >= MAX_PRED)
            return cli_error("fit", "more than %d --predict points", MAX_PRED);
        if ((rc = parse_pred(val, &p[(*np)++])))
            return rc;
    }
    *argc = out;
    return 0;
}

static int parse_form(const char *s, int *form)
{
    static const char *names[] = {"chinchilla", "gadre", "kaplan", "auto"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *form = i; /* 3 = auto */
            return 0;
        }
    return cli_error("fit", "--form '%s'; allowed chinchilla, gadre, kaplan, auto", s);
}

static int parse_select(const char *s, int *loo)
{
    static const char *names[] = {"loo", "size", "largest"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *loo = i + 1;
            return 0;
        }
    return cli_error("fit", "--select '%s'; allowed loo, size, largest", s);
}

/* --form auto: the held-out error of each form; the chosen form into o->form. */
static int select_form(const double *N, const double *D, const double *L, const double *W, int k, sp_fit_opts *o,
                       double *heldout)
{
    int best = -1;
    for (int f = 0; f < 3; f++) {
        sp_fit_opts q = *o;
        q.form = f, q.bootstrap = 0, q.n_pred = 0, q.scaled = 0;
        sp_fit_result r;
        sp_error err = {0};
        heldout[f] = NAN;
        if (sp_fit_law(N, D, L, W, k, &q, &r, &err) == SP_OK && isfinite(r.loo_rmse_log))
            heldout[f] = r.loo_rmse_log;
        if (isfinite(heldout[f]) && (best < 0 || heldout[f] < heldout[best]))
            best = f;
    }
    if (best < 0)
        return cli_error("fit", "--form auto: no form could be fitted with a held-out error");
    o->form = best;
    return 0;
}

static void print_text(const char *file, const char *drop, const sp_fit_opts *o, const sp_fit_result *r, int seed,
                       int autoform, const double *heldout)
{
    static const char *how[4] = {"", "leave one point out", "leave one model size out", "fit smaller sizes, predict the largest"};
    printf("scaleplan fit: %d points from %s%s%s\n", r->n_points, file, drop ? ", dropped rows with " : "", drop ? drop : "");
    if (autoform)
        printf("  form chosen by held-out error (%s, RMS of log L): chinchilla %.4g, gadre %.4g, kaplan %.4g\n",
               how[o->loo], heldout[0], heldout[1], heldout[2]);
    static const char *laws[3] = {"L = E + A/N^alpha + B/D^beta", "L = E + A/N^eta + B/D^eta (Gadre et al. 2024: one shared exponent)",
                                  "L = [(Nc/N)^(alpha_N/alpha_D) + Dc/D]^alpha_D"};
    printf("  %s   (Huber delta %g on log L, L-BFGS from the best %d grid starts, %d converged)\n", laws[o->form], o->delta,
           r->n_starts, r->n_converged);
    static const char *names[7] = {"E", "A", "B", "alpha", "beta", "a = beta/(alpha+beta)", "b = alpha/(alpha+beta)"};
    static const char *knames[7] = {"", "Nc", "Dc", "alpha_N", "alpha_D", "", ""};
    double vals[7] = {r->E, o->form == SP_FIT_KAPLAN ? r->Nc : r->A, o->form == SP_FIT_KAPLAN ? r->Dc : r->B,
                      o->form == SP_FIT_KAPLAN ? r->alpha_N : r->alpha, o->form == SP_FIT_KAPLAN ? r->alpha_D : r->beta,
                      r->a_exp, r->b_exp};
    for (int i = 0; i < 7; i++) {
        if (!isfinite(vals[i]))
            continue;
        printf("  %-24s %12.6g", o->form == SP_FIT_KAPLAN ? knames[i] : names[i], vals[i]);
        if (r->n_boot)
            printf("   %.0f %% CI [%.6g, %.6g]", 100 * o->ci_level, r->ci[i][0], r->ci[i][1]);
        printf("\n");
    }
    if (o->form == SP_FIT_GADRE)
        printf("  in Gadre et al.'s variables: L = E + (a*M^eta + b*M^-eta)*C^-eta, M = D/N, C = 6ND: a %.6g, b %.6g, eta %.6g\n",
               r->gadre_a, r->gadre_b, r->gadre_eta);
    printf("  goodness of fit: RMSE of log L %.4g, R^2 (log L) %.4f, Huber objective %.6g%s\n", r->rmse_log, r->r2_log,
           r->objective, r->n_boot ? "" : "   (--bootstrap 1000 for confidence intervals)");
    if (o->loo)
        printf("  held-out error (%s): RMS of log L %.4g, largest %.4g\n", how[o->loo], r->loo_rmse_log, r->loo_max_abs_log);
    if (r->n_boot)
        printf("  bootstrap: %d resamples, seed %d\n", r->n_boot, seed);
    for (int i = 0; i < o->n_pred; i++) {
        printf("  predicted loss at N = %.4g, D = %.4g: %.4f", o->pred[i].n, o->pred[i].d, o->pred[i].loss);
        if (isfinite(o->pred[i].lo))
            printf("   %.0f %% prediction interval [%.4f, %.4f]", 100 * o->ci_level, o->pred[i].lo, o->pred[i].hi);
        printf("\n");
    }
}

static int run_fit(const cli_args *a, const double *v, int k, sp_fit_opts *o, int seed, int autoform)
{
    const double *N = v, *D = v + k, *L = v + 2 * k, *W = cli_get(a, "weight") ? v + 3 * k : NULL;
    double heldout[3] = {NAN, NAN, NAN};
    int rc;
    if (autoform && (rc = select_form(N, D, L, W, k, o, heldout)))
        return rc;
    sp_fit_result r;
    sp_error err = {0};
    if (sp_fit_law(N, D, L, W, k, o, &r, &err))
        return cli_fail("fit", &err);
    if (!cli_flag(a, "json")) {
        print_text(a->pos[0], cli_get(a, "drop-if"), o, &r, seed, autoform, heldout);
        return 0;
    }
    json_t *j = sp_fit_json(&r, o);
    if (autoform) {
        json_t *sel = json_object();
        for (int f = 0; f < 3; f++)
            json_object_set_new(sel, sp_fit_form_name(f), isfinite(heldout[f]) ? json_real(heldout[f]) : json_null());
        json_object_set_new(j, "selection_heldout_rmse_log", sel);
    }
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(j);
    if (!s)
        return cli_error("fit", "out of memory");
    printf("%s\n", s);
    free(s);
    return 0;
}

int cmd_fit(int argc, char **argv)
{
    static sp_fit_prediction pred[MAX_PRED];
    int np = 0, rc;
    char **args = malloc(sizeof(char *) * (size_t)(argc > 0 ? argc : 1));
    if (!args)
        return cli_error("fit", "out of memory");
    memcpy(args, argv, sizeof(char *) * (size_t)argc);
    if ((rc = take_predicts(&argc, args, pred, &np))) {
        free(args);
        return rc;
    }
    cli_args a;
    rc = cli_parse(&a, "fit", defs, sizeof defs / sizeof defs[0], argc, args,
                   "usage: scaleplan fit FILE.csv [--n COL --d COL --loss COL] [--drop-if COL=VALUE] [--bootstrap 1000]\n"
                   "                  [--form chinchilla|gadre|kaplan|auto] [--select loo|size|largest]\n"
                   "                  [--predict N,D ...] [--predict-csv FILE] [--seed S] [--delta 1e-3] [--json]\n"
                   "Fits a scaling law by Huber loss on log residuals with L-BFGS from a grid of starts; reports the\n"
                   "compute-optimal exponents, held-out error, and predictions with bootstrap prediction intervals.");
    free(args);
    if (rc)
        return rc;
    if (a.npos != 1)
        return cli_error("fit", "expected one CSV file, got %d arguments", a.npos);
    const char *cn = cli_get(&a, "n") ? cli_get(&a, "n") : "N";
    const char *cd = cli_get(&a, "d") ? cli_get(&a, "d") : "D";
    const char *cl = cli_get(&a, "loss") ? cli_get(&a, "loss") : "loss";
    sp_fit_opts o = {1e-3, 0, 1, 0.95, 0, 0, SP_FIT_CHINCHILLA, 0, 0, NULL};
    int seed = 1, form = SP_FIT_CHINCHILLA;
    if ((rc = cli_double(&a, "delta", SP_UNIT_NONE, 1e-12, 10, &o.delta)) ||
        (rc = cli_int(&a, "bootstrap", 0, 1000000, &o.bootstrap)) || (rc = cli_int(&a, "seed", 0, 2147483647, &seed)) ||
        (rc = cli_double(&a, "ci", SP_UNIT_NONE, 0.5, 0.9999, &o.ci_level)) || (rc = cli_int(&a, "threads", 1, 1024, &o.threads)) ||
        (cli_get(&a, "form") && (rc = parse_form(cli_get(&a, "form"), &form))) ||
        (cli_get(&a, "select") && (rc = parse_select(cli_get(&a, "select"), &o.loo))) ||
        (cli_get(&a, "predict-csv") && (rc = read_pred_csv(cli_get(&a, "predict-csv"), cn, cd, pred, &np))))
        return rc;
    o.seed = (uint64_t)seed;
    if (form == 3 && !o.loo)
        o.loo = 1;
    o.form = form == 3 ? SP_FIT_CHINCHILLA : form;
    o.n_pred = np;
    o.pred = pred;
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
    double *v = NULL;
    int k = 0;
    if ((rc = read_points(a.pos[0], cn, cd, cl, cli_get(&a, "weight"), dcol, dval, &v, &k))) {
        free(v);
        return rc;
    }
    rc = run_fit(&a, v, k, &o, seed, form == 3);
    free(v);
    return rc;
}
