/* Fitting a scaling law to measured (N, D, loss) points (DESIGN.md §3.8). Three forms (sp_fit_form): Chinchilla's
 * L = E + A/N^α + B/D^β; Gadre et al. 2024's over-training-aware form, L = E + (a·M^η + b·M^−η)·C^−η with M = D/N
 * and C = 6ND, which is the Chinchilla form with one shared exponent (α = β = 2η, A = a·6^−η, B = b·6^−η:
 * mlfoundations/scaling@a003c49 scaling/laws.py fits it as α·N^b + β·6^(b/2)·(M·N)^b); Kaplan et al. 2020's
 * [(Nc/N)^(αN/αD) + Dc/D]^αD. Each is fitted the same way. For the Chinchilla form, as Hoffmann et al. 2022
 * (App. D.2) and Besiroglu et al. 2024 do: minimise Σ w·Huber_δ(log L̂ − log L) with
 * log L̂ = LSE(a − α·log N, b − β·log D, e), A = e^a, B = e^b, E = e^e, by L-BFGS (nlopt) with analytic
 * gradients, from Hoffmann et al.'s grid of starts (α, β ∈ {0, 0.5, …, 2}, e ∈ {−1, −0.5, …, 1},
 * a, b ∈ {0, 5, …, 25}: 4500 points). The objective is evaluated at every grid point and L-BFGS is run from the
 * best SP_FIT_STARTS of them (running it from all 4500 finds the same optimum on the Chinchilla data, at 90x the
 * cost). Bootstrap: resample points with replacement (seeded splitmix64; resample i uses seed + i, so the result
 * does not depend on the thread count), refit from the full-data optimum and the best grid starts, percentile CIs.
 */
#include "scaleplan.h"

#include <math.h>
#include <nlopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#ifndef SP_FIT_STARTS /* the fuzz build uses fewer starts (Makefile): the same code, a shorter loop */
#define SP_FIT_STARTS 64
#endif
#define SP_BOOT_STARTS 4

typedef struct {
    const double *ln, *ld, *ly, *w;
    int n;
    double delta;
    double scale; /* objective multiplier for conditioning (1 for the plain fit) */
    int form;     /* sp_fit_form */
} fit_data;

#define NX_MAX 6 /* parameters of the largest form (Chinchilla with the scaled estimator's log s) */

/* Huber_delta(r): the value, and its derivative into *dh */
static double huber(double r, double delta, double *dh)
{
    if (fabs(r) <= delta) {
        *dh = r;
        return 0.5 * r * r;
    }
    *dh = r > 0 ? delta : -delta;
    return delta * (fabs(r) - 0.5 * delta);
}

static double objective(unsigned nx, const double *x, double *g, void *p)
{
    (void)nx;
    const fit_data *fd = p;
    double a = x[0], b = x[1], e = x[2], al = x[3], be = x[4];
    double f = 0, ga = 0, gb = 0, ge = 0, gal = 0, gbe = 0;
    for (int i = 0; i < fd->n; i++) {
        double t1 = a - al * fd->ln[i], t2 = b - be * fd->ld[i], t3 = e;
        double m = t1 > t2 ? (t1 > t3 ? t1 : t3) : (t2 > t3 ? t2 : t3);
        double e1 = exp(t1 - m), e2 = exp(t2 - m), e3 = exp(t3 - m), s = e1 + e2 + e3;
        double r = m + log(s) - fd->ly[i];
        double w = fd->w ? fd->w[i] : 1.0, dh;
        f += w * huber(r, fd->delta, &dh);
        dh *= w / s;
        ga += dh * e1;
        gb += dh * e2;
        ge += dh * e3;
        gal -= dh * e1 * fd->ln[i];
        gbe -= dh * e2 * fd->ld[i];
    }
    double sc = fd->scale > 0 ? fd->scale : 1;
    if (g) {
        g[0] = ga * sc, g[1] = gb * sc, g[2] = ge * sc, g[3] = gal * sc, g[4] = gbe * sc;
    }
    return f * sc;
}

/* Huber log-likelihood with a fitted scale s = exp(x[5]) (Besiroglu et al. 2024's published estimator):
 * sum w (Huber_delta(r/s) + log s). */
static double objective_scaled(unsigned nx, const double *x, double *g, void *p)
{
    (void)nx;
    const fit_data *fd = p;
    double a = x[0], b = x[1], e = x[2], al = x[3], be = x[4], ls = x[5], s = exp(ls);
    double f = 0, gr[6] = {0};
    for (int i = 0; i < fd->n; i++) {
        double t1 = a - al * fd->ln[i], t2 = b - be * fd->ld[i], t3 = e;
        double m = t1 > t2 ? (t1 > t3 ? t1 : t3) : (t2 > t3 ? t2 : t3);
        double e1 = exp(t1 - m), e2 = exp(t2 - m), e3 = exp(t3 - m), sum = e1 + e2 + e3;
        double z = (m + log(sum) - fd->ly[i]) / s;
        double w = fd->w ? fd->w[i] : 1.0, dh;
        f += w * (huber(z, fd->delta, &dh) + ls);
        double k = w * dh / s / sum;
        gr[0] += k * e1;
        gr[1] += k * e2;
        gr[2] += k * e3;
        gr[3] -= k * e1 * fd->ln[i];
        gr[4] -= k * e2 * fd->ld[i];
        gr[5] += w * (1 - dh * z);
    }
    double sc = fd->scale > 0 ? fd->scale : 1;
    if (g)
        for (int j = 0; j < 6; j++)
            g[j] = gr[j] * sc;
    return f * sc;
}

/* Gadre et al.'s form in the N, D variables: Chinchilla's objective with x = (a, b, e, eta), alpha = beta = eta. */
static double objective_gadre(unsigned nx, const double *x, double *g, void *p)
{
    (void)nx;
    double x5[5] = {x[0], x[1], x[2], x[3], x[3]}, g5[5];
    double f = objective(5, x5, g ? g5 : NULL, p);
    if (g)
        g[0] = g5[0], g[1] = g5[1], g[2] = g5[2], g[3] = g5[3] + g5[4];
    return f;
}

/* Kaplan's joint form, x = (ln Nc, ln Dc, alpha_N, alpha_D): log L = alpha_D·LSE(u, v) with
 * u = (alpha_N/alpha_D)(ln Nc − ln N), v = ln Dc − ln D. */
static double objective_kaplan(unsigned nx, const double *x, double *g, void *p)
{
    (void)nx;
    const fit_data *fd = p;
    double f = 0, gr[4] = {0};
    for (int i = 0; i < fd->n; i++) {
        double u = x[2] / x[3] * (x[0] - fd->ln[i]), v = x[1] - fd->ld[i], m = fmax(u, v);
        double eu = exp(u - m), ev = exp(v - m), lse = m + log(eu + ev), su = eu / (eu + ev), sv = ev / (eu + ev);
        double r = x[3] * lse - fd->ly[i], w = fd->w ? fd->w[i] : 1.0, dh;
        f += w * huber(r, fd->delta, &dh);
        dh *= w;
        gr[0] += dh * x[2] * su;
        gr[1] += dh * x[3] * sv;
        gr[2] += dh * su * (x[0] - fd->ln[i]);
        gr[3] += dh * (lse - su * u);
    }
    double sc = fd->scale > 0 ? fd->scale : 1;
    if (g)
        for (int j = 0; j < 4; j++)
            g[j] = gr[j] * sc;
    return f * sc;
}

static unsigned form_nx(int form) { return form == SP_FIT_CHINCHILLA ? 5 : 4; }

/* the fitted law's log loss at (ln N, ln D) */
static double predict_log(int form, const double *x, double ln, double ld)
{
    if (form == SP_FIT_KAPLAN) {
        double u = x[2] / x[3] * (x[0] - ln), v = x[1] - ld, m = fmax(u, v);
        return x[3] * (m + log(exp(u - m) + exp(v - m)));
    }
    double be = form == SP_FIT_GADRE ? x[3] : x[4];
    double t1 = x[0] - x[3] * ln, t2 = x[1] - be * ld, t3 = x[2], m = fmax(t1, fmax(t2, t3));
    return m + log(exp(t1 - m) + exp(t2 - m) + exp(t3 - m));
}

/* a decreasing law: positive exponents */
static int valid(int form, const double *x)
{
    if (form == SP_FIT_KAPLAN)
        return x[2] > 0 && x[3] > 0 && isfinite(x[0]) && isfinite(x[1]);
    return x[3] > 0 && (form == SP_FIT_GADRE || x[4] > 0);
}

/* One L-BFGS run from x (updated in place); returns the objective or INFINITY on failure. */
static double lbfgs_n(const fit_data *fd, double *x, unsigned nx, nlopt_func fn)
{
    nlopt_opt opt = nlopt_create(NLOPT_LD_LBFGS, nx);
    if (!opt)
        return INFINITY;
    nlopt_set_min_objective(opt, fn, (void *)fd);
    nlopt_set_ftol_rel(opt, 1e-14);
    nlopt_set_xtol_rel(opt, 1e-12);
    nlopt_set_maxeval(opt, 5000);
    double f = INFINITY;
    nlopt_result res = nlopt_optimize(opt, x, &f);
    nlopt_destroy(opt);
    if (res < 0 && res != NLOPT_ROUNDOFF_LIMITED)
        return INFINITY;
    return isfinite(f) ? f : INFINITY;
}

static double lbfgs(const fit_data *fd, double *x)
{
    nlopt_func fn = fd->form == SP_FIT_GADRE ? objective_gadre : fd->form == SP_FIT_KAPLAN ? objective_kaplan : objective;
    return lbfgs_n(fd, x, form_nx(fd->form), fn);
}

/* The scaled estimator by continuation: plain Huber fits with delta shrinking tenfold per step (each from the
 * last; at the optimum s is tiny, the objective nearly the L1 norm, and line searches stall on its kinks from a
 * cold start), then the scaled objective from there with s = delta x the mean |residual|. x[0..4] holds a plain
 * optimum on entry; returns 1 on success with x[5] = log s. */
static int scaled_fit(const fit_data *base, double *x)
{
    fit_data cp = *base;
    double wsum = 0;
    for (int i = 0; i < base->n; i++)
        wsum += base->w ? base->w[i] : 1.0;
    for (double dl = base->delta * 0.1; dl > base->delta * 1e-7; dl *= 0.1) {
        cp.delta = dl;
        cp.scale = 1.0 / (dl * wsum);
        double xs[5];
        memcpy(xs, x, sizeof xs);
        if (isfinite(lbfgs(&cp, xs)) && xs[3] > 0 && xs[4] > 0)
            memcpy(x, xs, sizeof xs);
    }
    double mabs = 0;
    for (int i = 0; i < base->n; i++) {
        double t1 = x[0] - x[3] * base->ln[i], t2 = x[1] - x[4] * base->ld[i], t3 = x[2];
        double m = fmax(t1, fmax(t2, t3));
        mabs += fabs(m + log(exp(t1 - m) + exp(t2 - m) + exp(t3 - m)) - base->ly[i]) / base->n;
    }
    x[5] = log(fmax(mabs * base->delta, 1e-300));
    cp = *base;
    cp.scale = 1.0 / wsum;
    double f = lbfgs_n(&cp, x, 6, objective_scaled);
    return isfinite(f) && x[3] > 0 && x[4] > 0 && isfinite(x[5]);
}

typedef struct {
    double f;
    double x[NX_MAX];
} start;

static int cmp_start(const void *a, const void *b)
{
    double fa = ((const start *)a)->f, fb = ((const start *)b)->f;
    return fa < fb ? -1 : fa > fb;
}

/* The grid of starts of each form: Chinchilla's is Hoffmann et al.'s 4500 points; Gadre's the same with one
 * exponent (and 0.25, since their exponents are small); Kaplan's spans Kaplan et al.'s Table 2 values by decades. */
static int grid_point(int form, int k, double *x)
{
    if (form == SP_FIT_CHINCHILLA) {
        if (k >= 4500)
            return 0;
        double v[5] = {5.0 * (k / 750), 5.0 * (k / 125 % 6), -1 + 0.5 * (k / 25 % 5), 0.5 * (k / 5 % 5), 0.5 * (k % 5)};
        memcpy(x, v, sizeof v);
    } else if (form == SP_FIT_GADRE) {
        static const double eta[6] = {0.1, 0.25, 0.5, 1, 1.5, 2};
        if (k >= 1080)
            return 0;
        double v[4] = {5.0 * (k / 180), 5.0 * (k / 30 % 6), -1 + 0.5 * (k / 6 % 5), eta[k % 6]};
        memcpy(x, v, sizeof v);
    } else {
        static const double an[4] = {0.03, 0.076, 0.15, 0.3}, ad[4] = {0.05, 0.103, 0.2, 0.4};
        if (k >= 256)
            return 0;
        double v[4] = {log(10) * (11 + k / 64), log(10) * (10 + k / 16 % 4), an[k / 4 % 4], ad[k % 4]};
        memcpy(x, v, sizeof v);
    }
    return 1;
}

/* The best `keep` grid points into out; -1 when out of memory (the scratch is per call, so fits in several
 * threads at once do not share it). */
static int grid_starts(const fit_data *fd, start *out, int keep)
{
    start *all = malloc(4500 * sizeof *all);
    if (!all)
        return -1;
    int k = 0;
    nlopt_func fn = fd->form == SP_FIT_GADRE ? objective_gadre : fd->form == SP_FIT_KAPLAN ? objective_kaplan : objective;
    while (grid_point(fd->form, k, all[k].x)) {
        all[k].f = fn(form_nx(fd->form), all[k].x, NULL, (void *)fd);
        if (!isfinite(all[k].f))
            all[k].f = INFINITY;
        k++;
    }
    qsort(all, (size_t)k, sizeof all[0], cmp_start);
    if (keep > k)
        keep = k;
    memcpy(out, all, (size_t)keep * sizeof *out);
    free(all);
    return keep;
}

static int fit_once(const fit_data *fd, const start *starts, int ns, double *best_x, double *best_f)
{
    int conv = 0;
    *best_f = INFINITY;
    for (int i = 0; i < ns; i++) {
        double x[NX_MAX];
        memcpy(x, starts[i].x, sizeof x);
        double f = lbfgs(fd, x);
        if (!isfinite(f))
            continue;
        conv++;
        /* ties broken by the start order (deterministic) */
        if (f < *best_f - 1e-15) {
            *best_f = f;
            memcpy(best_x, x, sizeof x);
        }
    }
    return conv;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The reported values of a parameter vector: E, A, B, alpha, beta, a, b (Kaplan: NaN, Nc, Dc, alpha_N, alpha_D,
 * NaN, NaN). */
static void derived(int form, const double *x, double *v /* 7 */)
{
    if (form == SP_FIT_KAPLAN) {
        double k[7] = {NAN, exp(x[0]), exp(x[1]), x[2], x[3], NAN, NAN};
        memcpy(v, k, sizeof k);
        return;
    }
    double al = x[3], be = form == SP_FIT_GADRE ? x[3] : x[4];
    double c[7] = {exp(x[2]), exp(x[0]), exp(x[1]), al, be, be / (al + be), al / (al + be)};
    memcpy(v, c, sizeof c);
}

const char *sp_fit_form_name(int form)
{
    return form == SP_FIT_GADRE ? "gadre" : form == SP_FIT_KAPLAN ? "kaplan" : "chinchilla";
}

/* Refits from `starts` (the full-data optimum first) and returns 1 with x when the fit is a decreasing law. */
static int refit(const fit_data *fd, const start *starts, int ns, int scaled, double *x)
{
    double f;
    if (!(fit_once(fd, starts, ns, x, &f) > 0 && isfinite(f) && valid(fd->form, x)))
        return 0;
    return scaled ? scaled_fit(fd, x) : 1;
}

/* Percentile [lo, hi] at level lvl of col[0..n) (sorted here), linear between order statistics. */
static void percentile(double *col, int n, double lvl, double *lo, double *hi)
{
    qsort(col, (size_t)n, sizeof(double), cmp_d);
    double a = (1 - lvl) / 2 * (n - 1), b = (1 + lvl) / 2 * (n - 1);
    *lo = col[(int)floor(a)] + (a - floor(a)) * (col[(int)ceil(a)] - col[(int)floor(a)]);
    *hi = col[(int)floor(b)] + (b - floor(b)) * (col[(int)ceil(b)] - col[(int)floor(b)]);
}

/* Leave-one-out: each point predicted by the law fitted to the others (from the full-data optimum and the best
 * grid starts), RMS and largest |log residual|. With o->loo == 2 the points of one model size (same N) are held
 * out together, so that each size is predicted from the others; with 3 only the largest size is held out and
 * predicted from the smaller ones (forward validation: the question extrapolation asks). */
static void leave_one_out(const fit_data *fd, const start *starts, int ns, const sp_fit_opts *o, sp_fit_result *r)
{
    int count = fd->n, bad = 0, held = 0;
    double ss = 0, worst = 0, lmax = -INFINITY;
    for (int i = 0; i < count; i++)
        lmax = fmax(lmax, fd->ln[i]);
    int nt = o->threads > 0 ? o->threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 4) num_threads(nt) reduction(+ : ss, bad, held) reduction(max : worst)
    for (int i = 0; i < count; i++) {
        int first = 1; /* by size: fit once per size, at its first point */
        for (int j = 0; j < i && o->loo >= 2; j++)
            first = first && fd->ln[j] != fd->ln[i];
        if (!first || (o->loo == 3 && fd->ln[i] < lmax))
            continue;
        double *w = malloc(sizeof(double) * (size_t)count);
        if (!w) {
            bad++;
            continue;
        }
        for (int j = 0; j < count; j++)
            w[j] = (o->loo >= 2 ? fd->ln[j] == fd->ln[i] : j == i) ? 0 : (fd->w ? fd->w[j] : 1.0);
        fit_data fl = *fd;
        fl.w = w;
        double x[NX_MAX];
        int okf = refit(&fl, starts, ns, o->scaled, x);
        free(w);
        if (!okf) {
            bad++;
            continue;
        }
        for (int j = i; j < count; j++) {
            if (o->loo >= 2 ? fd->ln[j] != fd->ln[i] : j != i)
                continue;
            double e = predict_log(fd->form, x, fd->ln[j], fd->ld[j]) - fd->ly[j];
            ss += e * e;
            held++;
            worst = fmax(worst, fabs(e));
        }
    }
    r->loo_rmse_log = bad || !held ? NAN : sqrt(ss / held);
    r->loo_max_abs_log = bad ? NAN : worst;
}

/* Bootstrap: resample points with replacement (resample b uses seed + b·φ, so results do not depend on the thread
 * count), refit from the full-data optimum and the best grid starts; percentile intervals of the parameters and of
 * each prediction (a resample's prediction times a resampled residual of the full fit: a prediction interval, not
 * only the law's confidence band). */
static sp_status bootstrap(const fit_data *fd, const start *bstarts, const double *res, const sp_fit_opts *o,
                           sp_fit_result *r, sp_error *err)
{
    int nb = o->bootstrap, count = fd->n, np = o->n_pred > 0 ? o->n_pred : 0, nc = 7 + np;
    double *samples = malloc(sizeof(double) * (size_t)nc * (size_t)nb);
    int *ok = calloc((size_t)nb, sizeof(int));
    double *col = malloc(sizeof(double) * (size_t)nb);
    if (!samples || !ok || !col) {
        free(samples), free(ok), free(col);
        return sp_fail(err, SP_ENOMEM, "fit: out of memory");
    }
    int nt = o->threads > 0 ? o->threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 8) num_threads(nt)
    for (int b = 0; b < nb; b++) {
        double *rb = malloc(sizeof(double) * (size_t)count * 4);
        if (!rb)
            continue;
        uint64_t sd = o->seed + (uint64_t)b * 0x9E3779B97F4A7C15ull;
        for (int i = 0; i < count; i++) {
            int j = (int)(splitmix(&sd) % (uint64_t)count);
            rb[i] = fd->ln[j], rb[count + i] = fd->ld[j], rb[2 * count + i] = fd->ly[j];
            rb[3 * count + i] = fd->w ? fd->w[j] : 1.0;
        }
        fit_data fb = {rb, rb + count, rb + 2 * count, rb + 3 * count, count, fd->delta, 1, fd->form};
        double xb[NX_MAX];
        if (refit(&fb, bstarts, SP_BOOT_STARTS, o->scaled, xb)) {
            double *sm = &samples[(size_t)nc * (size_t)b];
            derived(fd->form, xb, sm);
            for (int k = 0; k < np; k++)
                sm[7 + k] = predict_log(fd->form, xb, log(o->pred[k].n), log(o->pred[k].d)) +
                            res[splitmix(&sd) % (uint64_t)count];
            ok[b] = 1;
        }
        free(rb);
    }
    double lvl = o->ci_level > 0 && o->ci_level < 1 ? o->ci_level : 0.95;
    for (int k = 0; k < nc; k++) {
        int good = 0;
        for (int b = 0; b < nb; b++)
            if (ok[b] && !isnan(samples[(size_t)nc * b + k]))
                col[good++] = samples[(size_t)nc * b + k];
        double lo = NAN, hi = NAN;
        if (good > 0)
            percentile(col, good, lvl, &lo, &hi);
        if (k < 7)
            r->ci[k][0] = lo, r->ci[k][1] = hi;
        else
            o->pred[k - 7].lo = exp(lo), o->pred[k - 7].hi = exp(hi);
    }
    r->n_boot = 0;
    for (int b = 0; b < nb; b++)
        r->n_boot += ok[b];
    free(samples), free(ok), free(col);
    return SP_OK;
}

/* Fills r from the optimum x of fd: the form's parameters, goodness of fit, log residuals into res. */
static void fill_result(const fit_data *fd, const double *x, double f, sp_fit_result *r, double *res)
{
    double v[7];
    derived(fd->form, x, v);
    r->E = v[0], r->A = v[1], r->B = v[2], r->alpha = v[3], r->beta = v[4], r->a_exp = v[5], r->b_exp = v[6];
    r->Nc = r->Dc = r->alpha_N = r->alpha_D = r->gadre_a = r->gadre_b = r->gadre_eta = NAN;
    if (fd->form == SP_FIT_KAPLAN) {
        r->Nc = v[1], r->Dc = v[2], r->alpha_N = v[3], r->alpha_D = v[4];
        r->A = r->B = r->alpha = r->beta = NAN;
    } else if (fd->form == SP_FIT_GADRE) {
        /* A/N^2eta = A·6^eta·M^eta·C^-eta and B/D^2eta = B·6^eta·M^-eta·C^-eta with C = 6ND, M = D/N */
        r->gadre_eta = x[3] / 2;
        r->gadre_a = r->A * pow(6, r->gadre_eta);
        r->gadre_b = r->B * pow(6, r->gadre_eta);
    }
    r->form = fd->form;
    r->objective = f;
    r->n_points = fd->n;
    double ss = 0, mean = 0, tot = 0;
    for (int i = 0; i < fd->n; i++)
        mean += fd->ly[i] / fd->n;
    for (int i = 0; i < fd->n; i++) {
        res[i] = fd->ly[i] - predict_log(fd->form, x, fd->ln[i], fd->ld[i]);
        ss += res[i] * res[i];
        tot += (fd->ly[i] - mean) * (fd->ly[i] - mean);
    }
    r->rmse_log = sqrt(ss / fd->n);
    r->r2_log = tot > 0 ? 1 - ss / tot : 1;
    r->loo_rmse_log = r->loo_max_abs_log = NAN;
}

static sp_status check_inputs(const double *n, const double *d, const double *loss, int count, const sp_fit_opts *o,
                              sp_error *err)
{
    if (o->form < SP_FIT_CHINCHILLA || o->form > SP_FIT_KAPLAN)
        return sp_fail(err, SP_EINVAL, "fit: form %d; allowed chinchilla, gadre, kaplan", o->form);
    int np = (int)form_nx(o->form);
    if (count < np + 1)
        return sp_fail(err, SP_EINVAL, "fit: %d points for %d parameters; need at least %d", count, np, np + 1);
    if (!(o->delta > 0 && isfinite(o->delta)))
        return sp_fail(err, SP_EINVAL, "fit: Huber delta must be > 0");
    if (o->scaled && o->form != SP_FIT_CHINCHILLA)
        return sp_fail(err, SP_EINVAL, "fit: --objective huber-scaled is implemented for --form chinchilla only");
    for (int i = 0; i < count; i++)
        if (!(n[i] > 0 && d[i] > 0 && loss[i] > 0) || !isfinite(n[i] * d[i] * loss[i]))
            return sp_fail(err, SP_EINVAL, "fit: point %d has a non-positive or non-finite N, D or loss", i + 1);
    for (int k = 0; k < o->n_pred; k++)
        if (!(o->pred[k].n > 0 && o->pred[k].d > 0 && isfinite(o->pred[k].n * o->pred[k].d)))
            return sp_fail(err, SP_EINVAL, "--predict: point %d needs positive, finite N and D", k + 1);
    return SP_OK;
}

static const char *form_law(int form)
{
    return form == SP_FIT_GADRE    ? "L = E + A/N^eta + B/D^eta"
           : form == SP_FIT_KAPLAN ? "L = [(Nc/N)^(alpha_N/alpha_D) + Dc/D]^alpha_D"
                                   : "L = E + A/N^alpha + B/D^beta";
}

/* The fit on prepared data: grid starts, L-BFGS, the scaled estimator if asked, leave-one-out, predictions and
 * the bootstrap. res (count) receives the log residuals. */
static sp_status fit_prepared(fit_data *fd, double *res, const sp_fit_opts *o, sp_fit_result *r, sp_error *err)
{
    start starts[SP_FIT_STARTS];
    int ns = grid_starts(fd, starts, SP_FIT_STARTS);
    if (ns < 0)
        return sp_fail(err, SP_ENOMEM, "fit: out of memory");
    double x[NX_MAX] = {0}, f;
    r->n_starts = ns;
    r->log_scale = NAN;
    r->n_converged = fit_once(fd, starts, ns, x, &f);
    if (!r->n_converged || !isfinite(f) || !valid(fd->form, x))
        return sp_fail(err, SP_ENOCONV,
                       "fit: L-BFGS did not converge to a decreasing law (positive exponents) from any of %d starts; "
                       "the points may not follow %s", ns, form_law(fd->form));
    if (o->scaled) {
        if (!scaled_fit(fd, x))
            return sp_fail(err, SP_ENOCONV, "fit: the scaled Huber likelihood did not converge");
        r->log_scale = x[5];
    }
    fill_result(fd, x, f, r, res);
    start bstarts[SP_BOOT_STARTS];
    bstarts[0].f = f;
    memcpy(bstarts[0].x, x, sizeof x);
    memcpy(&bstarts[1], starts, sizeof(start) * (SP_BOOT_STARTS - 1));
    if (o->loo)
        leave_one_out(fd, bstarts, SP_BOOT_STARTS, o, r);
    for (int k = 0; k < o->n_pred; k++) {
        o->pred[k].loss = exp(predict_log(fd->form, x, log(o->pred[k].n), log(o->pred[k].d)));
        o->pred[k].lo = o->pred[k].hi = NAN;
    }
    return o->bootstrap > 0 ? bootstrap(fd, bstarts, res, o, r, err) : SP_OK;
}

sp_status sp_fit_law(const double *n, const double *d, const double *loss, const double *w, int count,
                     const sp_fit_opts *o, sp_fit_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    sp_status st = check_inputs(n, d, loss, count, o, err);
    if (st)
        return st;
    double *buf = malloc(sizeof(double) * (size_t)count * 5);
    if (!buf)
        return sp_fail(err, SP_ENOMEM, "fit: out of memory");
    double *ln = buf, *ld = buf + count, *ly = buf + 2 * count, *ww = buf + 3 * count, *res = buf + 4 * count;
    for (int i = 0; i < count; i++) {
        ln[i] = log(n[i]);
        ld[i] = log(d[i]);
        ly[i] = log(loss[i]);
        ww[i] = w ? w[i] : 1.0;
    }
    fit_data fd = {ln, ld, ly, ww, count, o->delta, 1, o->form};
    st = fit_prepared(&fd, res, o, r, err);
    free(buf);
    return st;
}
