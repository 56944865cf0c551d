/* The `fit` command (request -> sp_fit_report -> JSON, call.h): a scaling law fitted by sp_fit_law (fit.c) to the
 * (N, D, loss[, weight]) points of a CSV file or of inline points, with the form chosen by held-out error
 * (--form auto), and predictions (--predict N,D ..., --predict-csv FILE) with bootstrap intervals. The CLI
 * prints sp_fit_report_json for --json and formats its text report from the same report. */
#include "call.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PRED 4096

void sp_fit_report_free(sp_fit_report *r)
{
    free(r->source);
    free(r->drop);
    free(r->v);
    free(r->opts.pred);
    memset(r, 0, sizeof *r);
}

/* One "N,D" prediction point (units accepted: 7B,140B). */
static sp_status parse_pred(const char *s, sp_fit_prediction *p, sp_error *err)
{
    const char *comma = strchr(s, ',');
    char a[64];
    if (!comma || comma == s || (size_t)(comma - s) >= sizeof a)
        return sp_fail(err, SP_EINVAL, "--predict '%s': expected N,D (e.g. 7B,140B)", s);
    snprintf(a, sizeof a, "%.*s", (int)(comma - s), s);
    sp_status st;
    if ((st = sp_parse_quantity(a, SP_UNIT_NONE, "--predict N", &p->n, err)) ||
        (st = sp_parse_quantity(comma + 1, SP_UNIT_NONE, "--predict D", &p->d, err)))
        return st;
    if (!(p->n > 0 && p->d > 0))
        return sp_fail(err, SP_EINVAL, "--predict '%s': N and D must be positive", s);
    return SP_OK;
}

static sp_status add_pred(sp_fit_opts *o, const char *what, sp_fit_prediction **slot, sp_error *err)
{
    if (o->n_pred >= MAX_PRED)
        return sp_fail(err, SP_EINVAL, "%s: more than %d points", what, MAX_PRED);
    *slot = &o->pred[o->n_pred];
    return SP_OK;
}

/* --predict: one "N,D" string, or a list of them (or of [N, D] pairs of numbers). */
static sp_status read_predict(sp_request *rq, sp_fit_opts *o, sp_error *err)
{
    if (!sp_req_has(rq, "predict"))
        return SP_OK;
    const json_t *v = json_object_get(rq->obj, "predict");
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        char text[96];
        if (json_is_array(e) && json_array_size(e) == 2 && json_is_number(json_array_get(e, 0)) &&
            json_is_number(json_array_get(e, 1)))
            snprintf(text, sizeof text, "%.17g,%.17g", json_number_value(json_array_get(e, 0)),
                     json_number_value(json_array_get(e, 1)));
        else if (json_is_string(e))
            snprintf(text, sizeof text, "%s", json_string_value(e));
        else
            return sp_fail(err, SP_EINVAL, "--predict: expected \"N,D\" or a list of them (or of [N, D] pairs)");
        sp_fit_prediction *p = NULL;
        sp_status st = add_pred(o, "--predict", &p, err);
        if (st || (st = parse_pred(text, p, err)))
            return st;
        o->n_pred++;
    }
    return SP_OK;
}

/* --predict-csv FILE: one prediction per row, at the columns of --n and --d. */
static sp_status read_predict_csv(sp_request *rq, const char *cn, const char *cd, sp_fit_opts *o, sp_error *err)
{
    const char *file = NULL;
    sp_status st = sp_req_str(rq, "predict-csv", &file, err);
    if (st || !file)
        return st;
    sp_csv *c;
    if ((st = sp_csv_read(file, &c, err)))
        return sp_req_named(st, "predict-csv", err);
    if (sp_csv_col(c, cn) < 0 || sp_csv_col(c, cd) < 0)
        st = sp_fail(err, SP_EINVAL, "--predict-csv %s:1: needs columns '%s' and '%s'", file, cn, cd);
    char what[1200];
    snprintf(what, sizeof what, "--predict-csv %s", file);
    for (int r = 0; r < sp_csv_rows(c) && !st; r++) {
        sp_fit_prediction *q = NULL;
        if ((st = add_pred(o, what, &q, err)) || (st = sp_csv_double(c, r, cn, NAN, 1e-300, 1e300, &q->n, err)) ||
            (st = sp_csv_double(c, r, cd, NAN, 1e-300, 1e300, &q->d, err)))
            break;
        if (isnan(q->n) || isnan(q->d))
            st = sp_fail(err, SP_EINVAL, "--predict-csv %s:%d: empty N or D cell", file, sp_csv_line(c, r));
        else
            o->n_pred++;
    }
    sp_csv_free(c);
    return st;
}

/* The column names (--n --d --loss --weight) and --drop-if COLUMN=VALUE. */
typedef struct {
    const char *col[4];                /* N, D, loss, weight (NULL: every point weighs 1) */
    char drop_col[128], drop_val[128]; /* drop_col "": none */
} fit_columns;

static sp_status read_columns(sp_request *rq, sp_fit_report *r, fit_columns *fc, sp_error *err)
{
    static const char *const opt[4] = {"n", "d", "loss", "weight"};
    fc->col[0] = "N", fc->col[1] = "D", fc->col[2] = "loss", fc->col[3] = NULL;
    fc->drop_col[0] = fc->drop_val[0] = 0;
    sp_status st = SP_OK;
    for (int i = 0; i < 4 && !st; i++)
        st = sp_req_str(rq, opt[i], &fc->col[i], err);
    const char *drop = NULL;
    if (st || (st = sp_req_str(rq, "drop-if", &drop, err)) || !drop)
        return st;
    const char *eq = strchr(drop, '=');
    if (!eq || eq == drop)
        return sp_fail(err, SP_EINVAL, "--drop-if '%s': expected COLUMN=VALUE", drop);
    snprintf(fc->drop_col, sizeof fc->drop_col, "%.*s", (int)(eq - drop), drop);
    snprintf(fc->drop_val, sizeof fc->drop_val, "%s", eq + 1);
    r->drop = strdup(drop);
    return r->drop ? SP_OK : sp_fail(err, SP_ENOMEM, "out of memory");
}

/* One row's point into r->v at index r->k (columns at stride `rows`); refuses empty cells and repeated points. */
static sp_status read_point(const sp_csv *c, int row, const fit_columns *fc, sp_fit_report *r, int rows, int *line,
                            sp_error *err)
{
    double x[4] = {0, 0, 0, 1};
    sp_status st = SP_OK;
    for (int i = 0; i < 3 && !st; i++)
        st = sp_csv_double(c, row, fc->col[i], NAN, 1e-300, 1e300, &x[i], err);
    if (st || (fc->col[3] && (st = sp_csv_double(c, row, fc->col[3], 1, 0, 1e300, &x[3], err))))
        return st;
    if (isnan(x[0]) || isnan(x[1]) || isnan(x[2]))
        return sp_fail(err, SP_EINVAL, "%s:%d: empty N, D or loss cell", sp_csv_path(c), sp_csv_line(c, row));
    for (int j = 0; j < r->k; j++)
        if (r->v[j] == x[0] && r->v[rows + j] == x[1] && r->v[2 * rows + j] == x[2])
            return sp_fail(err, SP_EINVAL, "%s:%d: duplicate of line %d (same N, D and loss); remove it or give it a weight",
                           sp_csv_path(c), sp_csv_line(c, row), line[j]);
    for (int i = 0; i < 4; i++)
        r->v[i * rows + r->k] = x[i];
    line[r->k++] = sp_csv_line(c, row);
    return SP_OK;
}

/* The points of the table (rows where --drop-if holds left out), packed N, D, loss, weight at stride r->k. */
static sp_status read_points(const sp_csv *c, const fit_columns *fc, sp_fit_report *r, sp_error *err)
{
    static const char *const opt[5] = {"--n", "--d", "--loss", "--weight", "--drop-if"};
    const char *need[5] = {fc->col[0], fc->col[1], fc->col[2], fc->col[3], fc->drop_col[0] ? fc->drop_col : NULL};
    for (int i = 0; i < 5; i++)
        if (need[i] && sp_csv_col(c, need[i]) < 0)
            return sp_fail(err, SP_EINVAL, "%s: %s:1: no column '%s'; expected one of the CSV's columns", opt[i],
                           sp_csv_path(c), need[i]);
    int rows = sp_csv_rows(c) > 0 ? sp_csv_rows(c) : 1;
    r->v = malloc(sizeof(double) * 4 * (size_t)rows);
    int *line = malloc(sizeof(int) * (size_t)rows);
    sp_status st = r->v && line ? SP_OK : sp_fail(err, SP_ENOMEM, "out of memory");
    for (int row = 0; row < sp_csv_rows(c) && !st; row++)
        if (!fc->drop_col[0] || strcmp(sp_csv_get(c, row, sp_csv_col(c, fc->drop_col)), fc->drop_val) != 0)
            st = read_point(c, row, fc, r, rows, line, err);
    free(line);
    if (st)
        return st;
    for (int i = 1; i < 4; i++) /* stride rows -> stride k */
        memmove(r->v + i * r->k, r->v + i * rows, sizeof(double) * (size_t)r->k);
    r->weighted = fc->col[3] != NULL;
    return SP_OK;
}

/* The table: "file" (a CSV path, the CLI's positional argument) or "points" (inline rows {N, D, loss}). */
static sp_status read_table(sp_request *rq, const fit_columns *fc, sp_fit_report *r, sp_error *err)
{
    const char *file = NULL;
    sp_csv *c = NULL;
    sp_status st;
    if ((st = sp_req_str(rq, "file", &file, err)) || (st = sp_req_table(rq, "points", &c, err)))
        return st;
    if (file && c)
        st = sp_fail(err, SP_EINVAL, "--points: give file or points, not both");
    else if (!file && !c)
        st = sp_fail(err, SP_EINVAL, "expected one CSV file (file) or points");
    else if (file)
        st = sp_csv_read(file, &c, err);
    if (st == SP_OK && !(r->source = strdup(sp_csv_path(c))))
        st = sp_fail(err, SP_ENOMEM, "out of memory");
    if (st == SP_OK)
        st = read_points(c, fc, r, err);
    sp_csv_free(c);
    return st;
}

/* A word option: its index in `allowed` ("a, b, c"), else "--OPT 'x'; allowed a, b, c" (fit's wording). */
static sp_status choice(sp_request *rq, const char *opt, const char *allowed, int *out, sp_error *err)
{
    const char *s = NULL;
    sp_status st = sp_req_str(rq, opt, &s, err);
    if (st || !s)
        return st;
    size_t n = strlen(s);
    int i = 0;
    for (const char *p = allowed; *p; i++) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, s, n) == 0) {
            *out = i;
            return SP_OK;
        }
        p += len;
        p += strspn(p, ", ");
    }
    return sp_fail(err, SP_EINVAL, "--%s '%s'; allowed %s", opt, s, allowed);
}

/* Options of the fit itself: --delta --bootstrap --seed --ci --threads --form --select --objective. */
static sp_status read_opts(sp_request *rq, sp_fit_report *r, sp_error *err)
{
    sp_fit_opts *o = &r->opts;
    int form = SP_FIT_CHINCHILLA, select = -1;
    r->seed = 1;
    o->delta = 1e-3, o->seed = 1, o->ci_level = 0.95, o->form = SP_FIT_CHINCHILLA;
    sp_status st;
    if ((st = sp_req_double(rq, "delta", SP_UNIT_NONE, 1e-12, 10, &o->delta, err)) ||
        (st = sp_req_int(rq, "bootstrap", 0, 1000000, &o->bootstrap, err)) ||
        (st = sp_req_int(rq, "seed", 0, 2147483647, &r->seed, err)) ||
        (st = sp_req_double(rq, "ci", SP_UNIT_NONE, 0.5, 0.9999, &o->ci_level, err)) ||
        (st = sp_req_int(rq, "threads", 1, 1024, &o->threads, err)) || (st = choice(rq, "form", "chinchilla, gadre, kaplan, auto", &form, err)) ||
        (st = choice(rq, "select", "loo, size, largest", &select, err)) ||
        (st = choice(rq, "objective", "huber, huber-scaled", &o->scaled, err)))
        return st;
    o->seed = (uint64_t)r->seed;
    o->loo = select + 1;
    r->autoform = form == 3;
    if (r->autoform && !o->loo)
        o->loo = 1;
    o->form = r->autoform ? SP_FIT_CHINCHILLA : form;
    return SP_OK;
}

/* --form auto: each form's held-out error into r->heldout; the smallest one's form into r->opts.form. */
static sp_status select_form(const double *N, const double *D, const double *L, const double *W, sp_fit_report *r,
                             sp_error *err)
{
    int best = -1;
    for (int f = 0; f < 3; f++) {
        sp_fit_opts q = r->opts;
        q.form = f, q.bootstrap = 0, q.n_pred = 0, q.scaled = 0;
        sp_fit_result res;
        sp_error e2 = {0};
        r->heldout[f] = NAN;
        if (sp_fit_law(N, D, L, W, r->k, &q, &res, &e2) == SP_OK && isfinite(res.loo_rmse_log))
            r->heldout[f] = res.loo_rmse_log;
        if (isfinite(r->heldout[f]) && (best < 0 || r->heldout[f] < r->heldout[best]))
            best = f;
    }
    if (best < 0)
        return sp_fail(err, SP_EINVAL, "--form auto: no form could be fitted with a held-out error");
    r->opts.form = best;
    return SP_OK;
}

sp_status sp_fit_run(const char *data_dir, sp_request *rq, sp_fit_report *r, sp_error *err)
{
    (void)data_dir;
    memset(r, 0, sizeof *r);
    r->heldout[0] = r->heldout[1] = r->heldout[2] = NAN;
    fit_columns fc;
    sp_status st = read_opts(rq, r, err);
    if (st == SP_OK && !(r->opts.pred = malloc(sizeof *r->opts.pred * MAX_PRED)))
        st = sp_fail(err, SP_ENOMEM, "out of memory");
    if (st == SP_OK && !(st = read_columns(rq, r, &fc, err)) && !(st = read_predict(rq, &r->opts, err)) &&
        !(st = read_predict_csv(rq, fc.col[0], fc.col[1], &r->opts, err)))
        st = read_table(rq, &fc, r, err);
    const double *N = r->v, *D = r->v + r->k, *L = r->v + 2 * r->k, *W = r->weighted ? r->v + 3 * r->k : NULL;
    if (st == SP_OK && r->autoform)
        st = select_form(N, D, L, W, r, err);
    if (st == SP_OK)
        st = sp_fit_law(N, D, L, W, r->k, &r->opts, &r->res, err);
    if (st)
        sp_fit_report_free(r);
    return st;
}

/* Parameter names and values of a result's form, in output order, and their rows in r->ci; returns the count. */
static int form_params(const sp_fit_result *r, const char **k, double *v, int *ci)
{
    if (r->form == SP_FIT_KAPLAN) {
        const char *kk[4] = {"Nc", "Dc", "alpha_N", "alpha_D"};
        double vv[4] = {r->Nc, r->Dc, r->alpha_N, r->alpha_D};
        int cc[4] = {1, 2, 3, 4};
        memcpy(k, kk, sizeof kk), memcpy(v, vv, sizeof vv), memcpy(ci, cc, sizeof cc);
        return 4;
    }
    const char *kk[7] = {"E", "A", "B", "alpha", "beta", "a", "b"};
    double vv[7] = {r->E, r->A, r->B, r->alpha, r->beta, r->a_exp, r->b_exp};
    int cc[7] = {0, 1, 2, 3, 4, 5, 6};
    memcpy(k, kk, sizeof kk), memcpy(v, vv, sizeof vv), memcpy(ci, cc, sizeof cc);
    return 7;
}

static json_t *ci_pair(const double *c, int have)
{
    json_t *a = json_array();
    json_array_append_new(a, sp_json_num(have ? c[0] : NAN));
    json_array_append_new(a, sp_json_num(have ? c[1] : NAN));
    return a;
}

static json_t *predictions_json(const sp_fit_opts *o)
{
    json_t *ps = json_array();
    for (int i = 0; i < o->n_pred; i++) {
        json_t *p = json_object();
        sp_json_set_num(p, "n", o->pred[i].n);
        sp_json_set_num(p, "d", o->pred[i].d);
        sp_json_set_num(p, "loss", o->pred[i].loss);
        sp_json_set_num(p, "lo", o->pred[i].lo);
        sp_json_set_num(p, "hi", o->pred[i].hi);
        json_array_append_new(ps, p);
    }
    return ps;
}

/* The parameters, goodness of fit, held-out error when asked, bootstrap intervals ("ci"), predictions, and with
 * --form auto each form's held-out error. */
json_t *sp_fit_report_json(const sp_fit_report *fr)
{
    const sp_fit_result *r = &fr->res;
    const sp_fit_opts *o = &fr->opts;
    json_t *j = json_object(), *ci = json_object();
    const char *k[7];
    double v[7];
    int c[7], n = form_params(r, k, v, c);
    for (int i = 0; i < n; i++) {
        sp_json_set_num(j, k[i], v[i]);
        json_object_set_new(ci, k[i], ci_pair(r->ci[c[i]], r->n_boot > 0));
    }
    if (r->form == SP_FIT_GADRE) {
        json_t *g = json_object();
        sp_json_set_num(g, "a", r->gadre_a);
        sp_json_set_num(g, "b", r->gadre_b);
        sp_json_set_num(g, "eta", r->gadre_eta);
        json_object_set_new(j, "gadre", g);
    }
    sp_json_set_str(j, "form", sp_fit_form_name(r->form));
    sp_json_set_int(j, "n_points", r->n_points);
    sp_json_set_num(j, "huber_objective", r->objective);
    sp_json_set_num(j, "rmse_log", r->rmse_log);
    sp_json_set_num(j, "r2_log", r->r2_log);
    if (o->loo) {
        static const char *how[4] = {"", "point", "model size", "largest size"};
        sp_json_set_str(j, "heldout", how[o->loo & 3]);
        sp_json_set_num(j, "heldout_rmse_log", r->loo_rmse_log);
        sp_json_set_num(j, "heldout_max_abs_log", r->loo_max_abs_log);
    }
    sp_json_set_str(j, "objective", o->scaled ? "huber-scaled" : "huber");
    sp_json_set_int(j, "starts", r->n_starts);
    sp_json_set_int(j, "starts_converged", r->n_converged);
    sp_json_set_int(j, "bootstrap", r->n_boot);
    sp_json_set_num(j, "ci_level", o->ci_level);
    json_object_set_new(j, "ci", ci);
    if (o->n_pred > 0)
        json_object_set_new(j, "predictions", predictions_json(o));
    if (fr->autoform) {
        json_t *sel = json_object();
        for (int f = 0; f < 3; f++)
            sp_json_set_num(sel, sp_fit_form_name(f), fr->heldout[f]);
        json_object_set_new(j, "selection_heldout_rmse_log", sel);
    }
    return j;
}

SP_CALL_DEFINE(fit, sp_fit_report, sp_fit_run, sp_fit_report_json, sp_fit_report_free)
