/* scaleplan fit FILE.csv: fit a scaling law (Chinchilla, Gadre et al. 2024 or Kaplan form) to the user's (N, D,
 * loss) points; held-out error, form selection, predictions with bootstrap intervals. The library computes the
 * result (sp_fit_run, src/fit_json.c); --json prints its JSON, the text report is formatted from the same report. */
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

/* Pulls every "--predict X" / "--predict=X" out of argv into preds (the option parser keeps one value per option). */
static int take_predicts(int *argc, char **argv, json_t *preds)
{
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        const char *val = NULL;
        if (strcmp(argv[i], "--predict") == 0) {
            if (i + 1 >= *argc)
                return cli_error("fit", "--predict needs a value N,D");
            val = argv[++i];
        } else if (strncmp(argv[i], "--predict=", 10) == 0)
            val = argv[i] + 10;
        if (val)
            json_array_append_new(preds, json_string_nocheck(val));
        else
            argv[out++] = argv[i];
    }
    *argc = out;
    return 0;
}

static void print_text(const sp_fit_report *fr)
{
    const sp_fit_opts *o = &fr->opts;
    const sp_fit_result *r = &fr->res;
    const char *drop = fr->drop;
    static const char *how[4] = {"", "leave one point out", "leave one model size out", "fit smaller sizes, predict the largest"};
    printf("scaleplan fit: %d points from %s%s%s\n", r->n_points, fr->source, drop ? ", dropped rows with " : "", drop ? drop : "");
    if (fr->autoform)
        printf("  form chosen by held-out error (%s, RMS of log L): chinchilla %.4g, gadre %.4g, kaplan %.4g\n",
               how[o->loo], fr->heldout[0], fr->heldout[1], fr->heldout[2]);
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
        printf("  bootstrap: %d resamples, seed %d\n", r->n_boot, fr->seed);
    for (int i = 0; i < o->n_pred; i++) {
        printf("  predicted loss at N = %.4g, D = %.4g: %.4f", o->pred[i].n, o->pred[i].d, o->pred[i].loss);
        if (isfinite(o->pred[i].lo))
            printf("   %.0f %% prediction interval [%.4f, %.4f]", 100 * o->ci_level, o->pred[i].lo, o->pred[i].hi);
        printf("\n");
    }
}

/* The request: the options, the CSV file, every --predict point. */
static int run(const cli_args *a, json_t *preds)
{
    json_t *req = cli_request(a);
    json_object_set_new(req, "file", json_string_nocheck(a->pos[0]));
    if (json_array_size(preds))
        json_object_set(req, "predict", preds);
    sp_request rq;
    sp_request_init(&rq, "fit", req);
    sp_fit_report r;
    sp_error err = {0};
    sp_status st = sp_fit_run(a->data_dir, &rq, &r, &err);
    if (st == SP_OK)
        st = cli_check_used(&rq, &err);
    json_decref(req);
    if (st)
        return cli_fail("fit", &err);
    int rc = 0;
    if (cli_flag(a, "json"))
        rc = cli_print_json("fit", sp_fit_report_json(&r));
    else
        print_text(&r);
    sp_fit_report_free(&r);
    return rc;
}

int cmd_fit(int argc, char **argv)
{
    char **args = malloc(sizeof(char *) * (size_t)(argc > 0 ? argc : 1));
    json_t *preds = json_array();
    if (!args || !preds) {
        free(args);
        json_decref(preds);
        return cli_error("fit", "out of memory");
    }
    memcpy(args, argv, sizeof(char *) * (size_t)argc);
    int rc = take_predicts(&argc, args, preds);
    cli_args a;
    if (rc == 0)
        rc = cli_parse(&a, "fit", defs, sizeof defs / sizeof defs[0], argc, args,
                       "usage: scaleplan fit FILE.csv [--n COL --d COL --loss COL] [--drop-if COL=VALUE] [--bootstrap 1000]\n"
                       "                  [--form chinchilla|gadre|kaplan|auto] [--select loo|size|largest]\n"
                       "                  [--predict N,D ...] [--predict-csv FILE] [--seed S] [--delta 1e-3] [--json]\n"
                       "Fits a scaling law by Huber loss on log residuals with L-BFGS from a grid of starts; reports the\n"
                       "compute-optimal exponents, held-out error, and predictions with bootstrap prediction intervals.");
    free(args);
    if (rc == 0 && a.npos != 1)
        rc = cli_error("fit", "expected one CSV file, got %d arguments", a.npos);
    if (rc == 0)
        rc = run(&a, preds);
    json_decref(preds);
    return rc;
}
