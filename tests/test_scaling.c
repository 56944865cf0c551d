/* Scaling laws: evaluation, compute-optimal allocation, sizing, critical batch, and the fit that must recover
 * Epoch AI's replication (Besiroglu et al. 2024) on the Chinchilla points. */
#include "testutil.h"

#include <stdlib.h>

static sp_law law(const char *name)
{
    sp_law l;
    sp_error e = {0};
    if (sp_load_law(SP_DATA_DIR, name, &l, &e))
        fail_msg("%s", e.msg);
    return l;
}

static void test_optimal_closed_form(void **st)
{
    (void)st;
    sp_law l = law("epoch");
    double n, d, loss;
    sp_law_optimal(&l, 5.76e23, &n, &d, &loss);
    assert_near(6 * n * d, 5.76e23, 1e12);
    /* the closed form is the minimum along the iso-FLOP curve */
    assert_true(sp_law_loss(&l, n * 1.05, 5.76e23 / (6 * n * 1.05)) > loss);
    assert_true(sp_law_loss(&l, n / 1.05, 5.76e23 / (6 * n / 1.05)) > loss);
    /* Epoch's fit implies ~20 tokens per parameter near Chinchilla's budget (their paper: "~20") */
    assert_near(d / n, 20, 4);
    /* Kaplan form is optimised numerically: also a minimum */
    sp_law k = law("kaplan");
    sp_law_optimal(&k, 1e23, &n, &d, &loss);
    assert_true(sp_law_loss(&k, n * 1.1, 1e23 / (6 * n * 1.1)) >= loss);
    assert_true(sp_law_loss(&k, n / 1.1, 1e23 / (6 * n / 1.1)) >= loss);
}

static void test_sizing(void **st)
{
    (void)st;
    sp_law l = law("chinchilla");
    double n, d;
    sp_error e = {0};
    assert_int_equal(sp_law_min_n(&l, 2.0, 1.4e12, 0, &n, &d, &e), SP_OK);
    assert_near(sp_law_loss(&l, n, d), 2.0, 1e-6);
    assert_int_equal(sp_law_min_n(&l, 1.6, 0, 20, &n, &d, &e), SP_EINFEASIBLE); /* below E = 1.69 */
    /* inference-aware: serving many tokens favours a smaller, longer-trained model than compute-optimal */
    double ni, di, n0, d0, l0;
    assert_int_equal(sp_law_inference_aware(&l, 2.0, 1e13, &ni, &di, &e), SP_OK);
    assert_near(sp_law_loss(&l, ni, di), 2.0, 1e-6);
    double c0 = sp_law_compute_for_loss(&l, 2.0, &n0, &d0);
    sp_law_optimal(&l, c0, &n0, &d0, &l0);
    assert_near(l0, 2.0, 1e-6);
    assert_true(ni < n0);
    assert_true(6 * ni * di + 2 * ni * 1e13 <= 6 * n0 * d0 + 2 * n0 * 1e13);
}

static void test_critical_batch(void **st)
{
    (void)st;
    assert_near(sp_critical_batch(SP_BATCH_EPOCH, 0, 3e23, 0, 1), 4.0 * 1048576, 1e-6);
    assert_near(sp_critical_batch(SP_BATCH_EPOCH, 0, 3e23 * 64, 0, 4), 4.0 * 1048576 * 2 * 2, 1e-3);
    assert_near(sp_critical_batch(SP_BATCH_DEEPSEEK, 0, 1e24, 0, 1), 0.2920 * pow(1e24, 0.3271), 1);
    assert_near(sp_critical_batch(SP_BATCH_KAPLAN, 0, 0, 2.0, 1), 2e8 / pow(2.0, 1 / 0.21), 1e-3);
    sp_batch_rule r;
    double fixed;
    sp_error e = {0};
    assert_int_equal(sp_batch_rule_parse("fixed:4Mi", &r, &fixed, &e), SP_OK);
    assert_near(sp_critical_batch(r, fixed, 1e30, 0, 1), 4194304, 0);
    assert_int_equal(sp_batch_rule_parse("huge", &r, &fixed, &e), SP_EINVAL);
}

typedef struct {
    double *n, *d, *l;
    int k;
} pts;

static pts read_points(int drop_outliers)
{
    sp_csv *c;
    sp_error e = {0};
    assert_int_equal(sp_csv_read(SP_VALIDATION_DIR "/chinchilla_points.csv", &c, &e), SP_OK);
    int rows = sp_csv_rows(c);
    pts p = {malloc(sizeof(double) * rows), malloc(sizeof(double) * rows), malloc(sizeof(double) * rows), 0};
    for (int r = 0; r < rows; r++) {
        if (drop_outliers && strcmp(sp_csv_get(c, r, sp_csv_col(c, "excluded_as_outlier_by_epoch")), "y") == 0)
            continue;
        assert_int_equal(sp_csv_double(c, r, "N_params", 0, 0, 1e30, &p.n[p.k], &e), SP_OK);
        assert_int_equal(sp_csv_double(c, r, "D_tokens", 0, 0, 1e30, &p.d[p.k], &e), SP_OK);
        assert_int_equal(sp_csv_double(c, r, "loss", 0, 0, 100, &p.l[p.k], &e), SP_OK);
        p.k++;
    }
    sp_csv_free(c);
    return p;
}

static double huber_sum(const pts *p, double E, double A, double B, double al, double be)
{
    double s = 0;
    for (int i = 0; i < p->k; i++) {
        double r = log(E + A / pow(p->n[i], al) + B / pow(p->d[i], be)) - log(p->l[i]);
        s += fabs(r) <= 1e-3 ? 0.5 * r * r : 1e-3 * (fabs(r) - 0.5e-3);
    }
    return s;
}

/* Issue 4 target: Epoch's fit E = 1.817, A = 482.0, B = 2085.4, alpha = 0.3478, beta = 0.3658 within 2 %.
 * E, A, alpha and beta are; B comes out 2.8 % higher. The stated objective is lower at our optimum than at
 * Epoch's published parameters (asserted below), so the published point is not this data's minimiser of the
 * objective (their optimiser stopped earlier, or their points differ by rounding): B is held to 3 %. */
static void test_fit_recovers_epoch(void **st)
{
    (void)st;
    pts p = read_points(1);
    assert_int_equal(p.k, 240);
    sp_fit_opts o = {1e-3, 0, 1, 0.95, 0, 0, 0, 0, 0, NULL};
    sp_fit_result r;
    sp_error e = {0};
    assert_int_equal(sp_fit_law(p.n, p.d, p.l, NULL, p.k, &o, &r, &e), SP_OK);
    print_message("fit: E %.4f A %.2f B %.2f alpha %.4f beta %.4f (objective %.6g)\n", r.E, r.A, r.B, r.alpha, r.beta, r.objective);
    assert_rel(r.E, 1.8172, 0.02);
    assert_rel(r.A, 482.01, 0.02);
    assert_rel(r.alpha, 0.3478, 0.02);
    assert_rel(r.beta, 0.3658, 0.02);
    assert_rel(r.B, 2085.43, 0.03);
    assert_true(r.objective <= huber_sum(&p, 1.8172, 482.01, 2085.43, 0.3478, 0.3658));
    assert_near(r.a_exp, r.beta / (r.alpha + r.beta), 1e-12);
    free(p.n), free(p.d), free(p.l);
}

/* Epoch's published values come from a Huber *likelihood* with a fitted scale (their notebook), not from the plain
 * Huber sum: with that estimator all five parameters are within 2 % (issue 4's target). */
static void test_fit_scaled_recovers_epoch(void **st)
{
    (void)st;
    pts p = read_points(1);
    sp_fit_opts o = {1e-3, 0, 1, 0.95, 0, 1, 0, 0, 0, NULL};
    sp_fit_result r;
    sp_error e = {0};
    assert_int_equal(sp_fit_law(p.n, p.d, p.l, NULL, p.k, &o, &r, &e), SP_OK);
    print_message("scaled fit: E %.4f A %.2f B %.2f alpha %.4f beta %.4f\n", r.E, r.A, r.B, r.alpha, r.beta);
    assert_rel(r.E, 1.8172, 0.02);
    assert_rel(r.A, 482.01, 0.02);
    assert_rel(r.B, 2085.43, 0.02);
    assert_rel(r.alpha, 0.3478, 0.02);
    assert_rel(r.beta, 0.3658, 0.02);
    assert_true(isfinite(r.log_scale));
    free(p.n), free(p.d), free(p.l);
}

/* Bootstrap: reproducible for a seed and independent of the thread count. */
static void test_bootstrap_deterministic(void **st)
{
    (void)st;
    pts p = read_points(1);
    sp_fit_opts o1 = {1e-3, 40, 7, 0.95, 1, 0, 0, 0, 0, NULL}, o2 = {1e-3, 40, 7, 0.95, 2, 0, 0, 0, 0, NULL};
    sp_fit_result r1, r2;
    sp_error e = {0};
    assert_int_equal(sp_fit_law(p.n, p.d, p.l, NULL, p.k, &o1, &r1, &e), SP_OK);
    assert_int_equal(sp_fit_law(p.n, p.d, p.l, NULL, p.k, &o2, &r2, &e), SP_OK);
    assert_int_equal(r1.n_boot, 40);
    assert_memory_equal(r1.ci, r2.ci, sizeof r1.ci);
    assert_true(r1.ci[3][0] <= r1.alpha && r1.alpha <= r1.ci[3][1]);
    free(p.n), free(p.d), free(p.l);
}

/* Fits of different data in several threads at once each give the answer the same fit gives alone (the library
 * shares no scratch between calls; the grid of starts once lived in a static buffer). Best effort: a race is not
 * sure to show in one run. */
static void test_fit_concurrent(void **st)
{
    (void)st;
    pts p = read_points(1);
    sp_fit_opts o = {1e-3, 0, 1, 0.95, 1, 0, 0, 0, 0, NULL};
    enum { NT = 4 };
    double *loss[NT];
    sp_fit_result one[NT], par[NT];
    sp_error e = {0};
    for (int i = 0; i < NT; i++) {
        loss[i] = malloc(sizeof(double) * (size_t)p.k);
        for (int j = 0; j < p.k; j++)
            loss[i][j] = p.l[j] * (1 + 0.05 * i) + 0.1 * i; /* a different law per thread */
        assert_int_equal(sp_fit_law(p.n, p.d, loss[i], NULL, p.k, &o, &one[i], &e), SP_OK);
    }
    int ok[NT] = {0};
#pragma omp parallel for num_threads(NT)
    for (int i = 0; i < NT; i++) {
        sp_error ei = {0};
        ok[i] = sp_fit_law(p.n, p.d, loss[i], NULL, p.k, &o, &par[i], &ei) == SP_OK;
    }
    for (int i = 0; i < NT; i++) {
        assert_true(ok[i]);
        assert_true(par[i].E == one[i].E && par[i].A == one[i].A && par[i].B == one[i].B &&
                    par[i].alpha == one[i].alpha && par[i].beta == one[i].beta);
        free(loss[i]);
    }
    free(p.n), free(p.d), free(p.l);
}

static void test_fit_refusals(void **st)
{
    (void)st;
    double n[5] = {1e8, 1e9, 1e10, 1e8, 1e9}, d[5] = {1e9, 1e10, 1e11, 1e10, 1e9}, l[5] = {3, 2.5, 2.2, 2.8, 2.7};
    sp_fit_opts o = {1e-3, 0, 1, 0.95, 0, 0, 0, 0, 0, NULL};
    sp_fit_result r;
    sp_error e = {0};
    assert_int_equal(sp_fit_law(n, d, l, NULL, 5, &o, &r, &e), SP_EINVAL); /* fewer points than 6 */
    double n6[6] = {1e8, 1e9, 1e10, 1e8, 1e9, -1}, d6[6] = {1e9, 1e10, 1e11, 1e10, 1e9, 1e9}, l6[6] = {3, 2.5, 2.2, 2.8, 2.7, 2};
    assert_int_equal(sp_fit_law(n6, d6, l6, NULL, 6, &o, &r, &e), SP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_optimal_closed_form), cmocka_unit_test(test_sizing),
        cmocka_unit_test(test_critical_batch),      cmocka_unit_test(test_fit_recovers_epoch),
        cmocka_unit_test(test_fit_scaled_recovers_epoch),
        cmocka_unit_test(test_bootstrap_deterministic), cmocka_unit_test(test_fit_concurrent), cmocka_unit_test(test_fit_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
