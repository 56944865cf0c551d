/* Fitting L = E + A/N^α + B/D^β to measured (N, D, loss) points (DESIGN.md §3.8), as Hoffmann et al. 2022
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
} fit_data;

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
        double w = fd->w ? fd->w[i] : 1.0;
        double ar = fabs(r), dh;
        if (ar <= fd->delta) {
            f += w * 0.5 * r * r;
            dh = r;
        } else {
            f += w * fd->delta * (ar - 0.5 * fd->delta);
            dh = r > 0 ? fd->delta : -fd->delta;
        }
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
        double w = fd->w ? fd->w[i] : 1.0, az = fabs(z), dh;
        if (az <= fd->delta) {
            f += w * (0.5 * z * z + ls);
            dh = z;
        } else {
            f += w * (fd->delta * (az - 0.5 * fd->delta) + ls);
            dh = z > 0 ? fd->delta : -fd->delta;
        }
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

static double lbfgs(const fit_data *fd, double *x) { return lbfgs_n(fd, x, 5, objective); }

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
    double x[5];
} start;

static int cmp_start(const void *a, const void *b)
{
    double fa = ((const start *)a)->f, fb = ((const start *)b)->f;
    return fa < fb ? -1 : fa > fb;
}

/* The best `keep` of the 4500 grid points, into out; -1 when out of memory (the scratch is per call, so fits in
 * several threads at once do not share it). */
static int grid_starts(const fit_data *fd, start *out, int keep)
{
    start *all = malloc(4500 * sizeof *all);
    if (!all)
        return -1;
    int k = 0;
    for (int ia = 0; ia < 6; ia++)
        for (int ib = 0; ib < 6; ib++)
            for (int ie = 0; ie < 5; ie++)
                for (int ial = 0; ial < 5; ial++)
                    for (int ibe = 0; ibe < 5; ibe++) {
                        start s = {0, {5.0 * ia, 5.0 * ib, -1 + 0.5 * ie, 0.5 * ial, 0.5 * ibe}};
                        s.f = objective(5, s.x, NULL, (void *)fd);
                        all[k++] = s;
                    }
    qsort(all, (size_t)k, sizeof all[0], cmp_start);
    memcpy(out, all, (size_t)keep * sizeof *out);
    free(all);
    return keep;
}

static int fit_once(const fit_data *fd, const start *starts, int ns, double *best_x, double *best_f)
{
    int conv = 0;
    *best_f = INFINITY;
    for (int i = 0; i < ns; i++) {
        double x[5];
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

static void derived(const double *x, double *v /* 7 */)
{
    v[0] = exp(x[2]);
    v[1] = exp(x[0]);
    v[2] = exp(x[1]);
    v[3] = x[3];
    v[4] = x[4];
    v[5] = x[4] / (x[3] + x[4]);
    v[6] = x[3] / (x[3] + x[4]);
}

sp_status sp_fit_law(const double *n, const double *d, const double *loss, const double *w, int count,
                     const sp_fit_opts *o, sp_fit_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    if (count < 6)
        return sp_fail(err, SP_EINVAL, "fit: %d points for 5 parameters; need at least 6", count);
    if (!(o->delta > 0 && isfinite(o->delta)))
        return sp_fail(err, SP_EINVAL, "fit: Huber delta must be > 0");
    double *buf = malloc(sizeof(double) * (size_t)count * 4);
    if (!buf)
        return sp_fail(err, SP_ENOMEM, "fit: out of memory");
    double *ln = buf, *ld = buf + count, *ly = buf + 2 * count, *ww = buf + 3 * count;
    for (int i = 0; i < count; i++) {
        if (!(n[i] > 0 && d[i] > 0 && loss[i] > 0) || !isfinite(n[i] * d[i] * loss[i])) {
            free(buf);
            return sp_fail(err, SP_EINVAL, "fit: point %d has a non-positive or non-finite N, D or loss", i + 1);
        }
        ln[i] = log(n[i]);
        ld[i] = log(d[i]);
        ly[i] = log(loss[i]);
        ww[i] = w ? w[i] : 1.0;
    }
    fit_data fd = {ln, ld, ly, ww, count, o->delta, 1};
    start starts[SP_FIT_STARTS];
    if (grid_starts(&fd, starts, SP_FIT_STARTS) < 0) {
        free(buf);
        return sp_fail(err, SP_ENOMEM, "fit: out of memory");
    }
    double x[5], f;
    r->n_starts = SP_FIT_STARTS;
    r->log_scale = NAN;
    r->n_converged = fit_once(&fd, starts, SP_FIT_STARTS, x, &f);
    if (!r->n_converged || !isfinite(f) || x[3] <= 0 || x[4] <= 0) {
        free(buf);
        return sp_fail(err, SP_ENOCONV,
                       "fit: L-BFGS did not converge to a decreasing law (alpha, beta > 0) from any of %d starts; "
                       "the points may not follow L = E + A/N^alpha + B/D^beta", SP_FIT_STARTS);
    }
    if (o->scaled) {
        double xs[6];
        memcpy(xs, x, sizeof x);
        if (!scaled_fit(&fd, xs)) {
            free(buf);
            return sp_fail(err, SP_ENOCONV, "fit: the scaled Huber likelihood did not converge");
        }
        memcpy(x, xs, sizeof x);
        r->log_scale = xs[5];
    }
    double v[7];
    derived(x, v);
    r->E = v[0], r->A = v[1], r->B = v[2], r->alpha = v[3], r->beta = v[4], r->a_exp = v[5], r->b_exp = v[6];
    r->objective = f;
    r->n_points = count;
    double ss = 0, mean = 0, tot = 0;
    for (int i = 0; i < count; i++)
        mean += ly[i] / count;
    for (int i = 0; i < count; i++) {
        double pred = log(sp_law_loss(&(sp_law){.form = SP_LAW_CHINCHILLA, .E = r->E, .A = r->A, .B = r->B,
                                                .alpha = r->alpha, .beta = r->beta}, n[i], d[i]));
        ss += (pred - ly[i]) * (pred - ly[i]);
        tot += (ly[i] - mean) * (ly[i] - mean);
    }
    r->rmse_log = sqrt(ss / count);
    r->r2_log = tot > 0 ? 1 - ss / tot : 1;
    if (o->bootstrap > 0) {
        int nb = o->bootstrap;
        double *samples = malloc(sizeof(double) * 7 * (size_t)nb);
        int *ok = calloc((size_t)nb, sizeof(int));
        if (!samples || !ok) {
            free(samples);
            free(ok);
            free(buf);
            return sp_fail(err, SP_ENOMEM, "fit: out of memory");
        }
        start bstarts[SP_BOOT_STARTS];
        bstarts[0].f = f;
        memcpy(bstarts[0].x, x, sizeof x);
        memcpy(&bstarts[1], starts, sizeof(start) * (SP_BOOT_STARTS - 1));
        int failed = 0;
        int nt = o->threads > 0 ? o->threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 8) num_threads(nt) reduction(+ : failed)
        for (int b = 0; b < nb; b++) {
            double *rb = malloc(sizeof(double) * (size_t)count * 4);
            if (!rb) {
                failed++;
                continue;
            }
            uint64_t s = o->seed + (uint64_t)b * 0x9E3779B97F4A7C15ull;
            for (int i = 0; i < count; i++) {
                int j = (int)(splitmix(&s) % (uint64_t)count);
                rb[i] = ln[j], rb[count + i] = ld[j], rb[2 * count + i] = ly[j], rb[3 * count + i] = ww[j];
            }
            fit_data fb = {rb, rb + count, rb + 2 * count, rb + 3 * count, count, o->delta, 1};
            double xb[6], fbest;
            int okb = fit_once(&fb, bstarts, SP_BOOT_STARTS, xb, &fbest) > 0 && isfinite(fbest);
            if (okb && o->scaled)
                okb = scaled_fit(&fb, xb);
            if (okb) {
                derived(xb, &samples[7 * (size_t)b]);
                ok[b] = 1;
            } else
                failed++;
            free(rb);
        }
        int good = 0;
        double *col = malloc(sizeof(double) * (size_t)nb);
        if (col) {
            double lvl = o->ci_level > 0 && o->ci_level < 1 ? o->ci_level : 0.95;
            for (int k = 0; k < 7; k++) {
                good = 0;
                for (int b = 0; b < nb; b++)
                    if (ok[b])
                        col[good++] = samples[7 * (size_t)b + k];
                qsort(col, (size_t)good, sizeof(double), cmp_d);
                if (good > 0) {
                    double lo = (1 - lvl) / 2 * (good - 1), hi = (1 + lvl) / 2 * (good - 1);
                    r->ci[k][0] = col[(int)floor(lo)] + (lo - floor(lo)) * (col[(int)ceil(lo)] - col[(int)floor(lo)]);
                    r->ci[k][1] = col[(int)floor(hi)] + (hi - floor(hi)) * (col[(int)ceil(hi)] - col[(int)floor(hi)]);
                }
            }
        }
        r->n_boot = good;
        (void)failed;
        free(col);
        free(samples);
        free(ok);
    }
    free(buf);
    return SP_OK;
}
