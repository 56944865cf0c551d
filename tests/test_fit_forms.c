/* fit: the three forms (Chinchilla, Gadre et al. 2024's shared exponent, Kaplan), held-out error, predictions
 * with bootstrap intervals, and the extrapolation check of Gadre et al. 2024 on their own runs (tests/gadre2024). */
#include "testutil.h"

#include <stdlib.h>

#define GADRE_DIR SP_DATA_DIR "/../tests/gadre2024/"

typedef struct {
    double n[64], d[64], l[64];
    int k;
    sp_fit_prediction hold[4];
    double hold_loss[4], hold_m[4];
    int nh;
} runs;

static runs read_runs(const char *file)
{
    runs p;
    memset(&p, 0, sizeof p);
    sp_csv *c;
    sp_error e = {0};
    if (sp_csv_read(file, &c, &e))
        fail_msg("%s", e.msg);
    for (int r = 0; r < sp_csv_rows(c); r++) {
        double n, d, l, m;
        assert_int_equal(sp_csv_double(c, r, "N", 0, 0, 1e30, &n, &e), SP_OK);
        assert_int_equal(sp_csv_double(c, r, "D", 0, 0, 1e30, &d, &e), SP_OK);
        assert_int_equal(sp_csv_double(c, r, "M", 0, 0, 1e30, &m, &e), SP_OK);
        assert_int_equal(sp_csv_double(c, r, "loss_c4_val", 0, 0, 100, &l, &e), SP_OK);
        if (strcmp(sp_csv_get(c, r, sp_csv_col(c, "split")), "fit") == 0)
            p.n[p.k] = n, p.d[p.k] = d, p.l[p.k++] = l;
        else if (p.nh < 4)
            p.hold[p.nh] = (sp_fit_prediction){n, d, 0, 0, 0}, p.hold_m[p.nh] = m, p.hold_loss[p.nh++] = l;
    }
    sp_csv_free(c);
    return p;
}

/* relative error of the prediction of the held-out run with N = n and M = m */
static double rel_err(const runs *p, double n, double m)
{
    for (int i = 0; i < p->nh; i++)
        if (fabs(p->hold[i].n / n - 1) < 0.01 && p->hold_m[i] == m)
            return p->hold[i].loss / p->hold_loss[i] - 1;
    fail_msg("no held-out run N %g M %g", n, m);
    return NAN;
}

static sp_fit_result fit(runs *p, int form, int loo, int boot)
{
    sp_fit_opts o = {1e-3, boot, 1, 0.95, 0, 0, form, loo, p->nh, p->hold};
    sp_fit_result r;
    sp_error e = {0};
    if (sp_fit_law(p->n, p->d, p->l, NULL, p->k, &o, &r, &e))
        fail_msg("%s", e.msg);
    return r;
}

/* Gadre et al. 2024 (arXiv:2403.08540) §4 / Table 2: fitted on runs up to 0.411B parameters, their law predicts the
 * 1.4B run over-trained 32x (M = 640) and the 6.9B compute-optimal run (M = 20) on RedPajama with 0.7 % relative
 * error in C4 validation loss. Ours, fitted to all 32 RedPajama runs up to 0.411B in the shared-exponent form:
 * +0.13 % and +0.31 % (asserted within 0.7 %, theirs). */
static void test_gadre_extrapolation(void **st)
{
    (void)st;
    runs p = read_runs(GADRE_DIR "rpj_c4val.csv");
    assert_int_equal(p.k, 32);
    sp_fit_result r = fit(&p, SP_FIT_GADRE, 0, 0);
    assert_true(fabs(rel_err(&p, 1.44e9, 640)) <= 0.007);
    assert_true(fabs(rel_err(&p, 6.89e9, 20)) <= 0.007);
    assert_near(rel_err(&p, 1.44e9, 640), 0.0013, 0.0005);
    assert_near(rel_err(&p, 6.89e9, 20), 0.0031, 0.0005);
    /* one shared exponent; in their variables eta = alpha / 2 */
    assert_true(r.alpha == r.beta);
    assert_near(r.gadre_eta, r.alpha / 2, 1e-12);
    /* the Chinchilla form (two exponents) on the same runs extrapolates worse: -1.1 % and -3.0 % */
    fit(&p, SP_FIT_CHINCHILLA, 0, 0);
    assert_true(fabs(rel_err(&p, 6.89e9, 20)) > 0.02);
}

/* Checked independently (not used to choose anything): the same recipe on their C4- and RefinedWeb-trained runs.
 * Gadre et al. report up to 4.3 % on the other training sets; ours: RefinedWeb within 0.8 % on all three held-out
 * runs, C4 -1.0 %, +0.3 % and -5.2 % (the 6.9B run: worse than theirs). Asserted as measured, ±0.2 points. */
static void test_gadre_other_sets(void **st)
{
    (void)st;
    runs rw = read_runs(GADRE_DIR "rw_original_c4val.csv");
    fit(&rw, SP_FIT_GADRE, 0, 0);
    for (int i = 0; i < rw.nh; i++)
        assert_true(fabs(rw.hold[i].loss / rw.hold_loss[i] - 1) <= 0.008);
    runs c4 = read_runs(GADRE_DIR "c4_original_c4val.csv");
    fit(&c4, SP_FIT_GADRE, 0, 0);
    assert_near(rel_err(&c4, 6.89e9, 20), -0.0518, 0.002);
}

/* Model selection: the held-out error of the largest size (fit the smaller ones, predict it) picks the
 * shared-exponent form on all three training sets; leave-one-point-out picks Kaplan's, the worst extrapolator
 * (-6 % and -14 % on rpj): in-sample error does not measure extrapolation. */
static void test_selection(void **st)
{
    (void)st;
    runs p = read_runs(GADRE_DIR "rpj_c4val.csv");
    double largest[3], loo[3];
    for (int f = 0; f < 3; f++) {
        largest[f] = fit(&p, f, 3, 0).loo_rmse_log;
        loo[f] = fit(&p, f, 1, 0).loo_rmse_log;
    }
    assert_true(largest[SP_FIT_GADRE] < largest[SP_FIT_CHINCHILLA] && largest[SP_FIT_GADRE] < largest[SP_FIT_KAPLAN]);
    assert_true(loo[SP_FIT_KAPLAN] < loo[SP_FIT_CHINCHILLA] && loo[SP_FIT_KAPLAN] < loo[SP_FIT_GADRE]);
    fit(&p, SP_FIT_KAPLAN, 0, 0);
    assert_true(rel_err(&p, 6.89e9, 20) < -0.1);
}

/* Each form recovers its own law from exact points (a 5 x 5 grid of N, D), and predicts off the grid. */
static void test_forms_recover(void **st)
{
    (void)st;
    sp_law laws[3] = {{.form = SP_LAW_CHINCHILLA, .E = 1.8, .A = 480, .B = 2000, .alpha = 0.35, .beta = 0.37},
                      {.form = SP_LAW_CHINCHILLA, .E = 1.7, .A = 140, .B = 240, .alpha = 0.26, .beta = 0.26},
                      {.form = SP_LAW_KAPLAN, .Nc = 6.4e13, .Dc = 1.8e13, .aN = 0.076, .aD = 0.103}};
    for (int f = 0; f < 3; f++) {
        runs p;
        memset(&p, 0, sizeof p);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++) {
                p.n[p.k] = 1e7 * pow(10, 0.5 * i), p.d[p.k] = 1e9 * pow(10, 0.5 * j);
                p.l[p.k] = sp_law_loss(&laws[f], p.n[p.k], p.d[p.k]);
                p.k++;
            }
        p.nh = 1;
        p.hold[0] = (sp_fit_prediction){7e9, 1.4e11, 0, 0, 0};
        sp_fit_result r = fit(&p, f, 0, 0);
        assert_true(r.rmse_log < 1e-4);
        assert_rel(p.hold[0].loss, sp_law_loss(&laws[f], 7e9, 1.4e11), 2e-3);
        if (f == SP_FIT_KAPLAN) {
            assert_rel(r.alpha_N, 0.076, 0.01);
            assert_rel(r.alpha_D, 0.103, 0.01);
        } else {
            assert_rel(r.E, laws[f].E, 0.01);
            assert_rel(r.alpha, laws[f].alpha, 0.01);
        }
    }
}

/* Bootstrap prediction intervals: ordered, around the central prediction, and the held-out truth of Gadre's
 * 6.9B run inside the 95 % interval. */
static void test_prediction_interval(void **st)
{
    (void)st;
    runs p = read_runs(GADRE_DIR "rpj_c4val.csv");
    sp_fit_result r = fit(&p, SP_FIT_GADRE, 0, 100);
    assert_true(r.n_boot >= 95);
    for (int i = 0; i < p.nh; i++) {
        assert_true(p.hold[i].lo < p.hold[i].loss && p.hold[i].loss < p.hold[i].hi);
        assert_true(p.hold[i].lo <= p.hold_loss[i] && p.hold_loss[i] <= p.hold[i].hi);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gadre_extrapolation), cmocka_unit_test(test_gadre_other_sets),
        cmocka_unit_test(test_selection),           cmocka_unit_test(test_forms_recover),
        cmocka_unit_test(test_prediction_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
