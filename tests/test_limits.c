/* `limits --mode epoch2024` against Erdil & Schneider-Joseph (2024): the matmul table, the summaries and the
 * reference points (shared/reference/epoch2024-model.md, shared/validation/epoch2024_reference_points.csv). */
#include "testutil.h"

#include <stdlib.h>

static sp_epoch_point pts[200];

static void run(const char *gpu, int sparse, sp_epoch_batch batch, sp_epoch_summary *sum, int *n)
{
    sp_epoch_setting s;
    sp_epoch_setting_defaults(&s);
    sp_error e = {0};
    assert_int_equal(sp_epoch_gpu_preset(gpu, &s.gpu, &e), SP_OK);
    s.sparse = sparse;
    s.batch = batch;
    *n = sp_epoch_sweep(&s, pts, 200, sum);
}

/* reference §3.4: utilization of single-GPU matmuls on the H100 (vs the max-clock peak), within 0.01 */
static void test_matmul_table(void **st)
{
    (void)st;
    sp_epoch_gpu g;
    assert_int_equal(sp_epoch_gpu_preset("h100", &g, NULL), SP_OK);
    double peak = 32.0 * 128 * 132 * 1.83e9;
    double b[] = {64, 128, 256, 512, 1024, 2048, 8192, 32768};
    double fwd[] = {0.180, 0.346, 0.547, 0.631, 0.683, 0.692, 0.698, 0.700};
    double wg[] = {0.097, 0.191, 0.371, 0.670, 0.684};
    double small[] = {0.103, 0.179, 0.286, 0.406, 0.514, 0.593, 0.670};
    for (int i = 0; i < 8; i++)
        assert_near(2 * 4096.0 * 16384 * b[i] / (sp_epoch_matmul_time(&g, 4096, 16384, b[i], 0) * peak), fwd[i], 0.01);
    for (int i = 0; i < 5; i++)
        assert_near(2 * 4096.0 * 16384 * b[i] / (sp_epoch_matmul_time(&g, 4096, 16384, b[i], 1) * peak), wg[i], 0.01);
    for (int i = 0; i < 7; i++)
        assert_near(2 * 1024.0 * 4096 * b[i] / (sp_epoch_matmul_time(&g, 1024, 4096, b[i], 0) * peak), small[i], 0.01);
    assert_near(sp_epoch_matmul_time(&g, 1024, 4096, 64, 0), 5.275e-6, 0.001e-6);
}

/* reference §5.1 summaries, within +-15 % (issue 5) */
static void test_summaries(void **st)
{
    (void)st;
    struct {
        const char *gpu;
        int sparse;
        sp_epoch_batch batch;
        double end, wall;
    } cases[] = {{"h100", 0, SP_EPOCH_BATCH_DEFAULT, 2.05e28, 2.71e31}, {"h100", 1, SP_EPOCH_BATCH_DEFAULT, 6.83e28, 1.00e32},
                 {"a100", 0, SP_EPOCH_BATCH_DEFAULT, 3.40e28, 2.71e31}, {"v100", 0, SP_EPOCH_BATCH_DEFAULT, 2.85e27, 2.71e31},
                 {"a100", 1, SP_EPOCH_BATCH_DEFAULT, 2.32e29, 1.00e32}, {"v100", 1, SP_EPOCH_BATCH_DEFAULT, 1.57e27, 1.00e32},
                 {"h100-low-latency", 0, SP_EPOCH_BATCH_DEFAULT, 1.34e29, 0}, {"h100-global-nvlink", 0, SP_EPOCH_BATCH_DEFAULT, 4.07e29, 2.71e31},
                 {"h100", 0, SP_EPOCH_BATCH_FIXED, 2.85e27, 2.04e29}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_epoch_summary sum;
        int n;
        run(cases[i].gpu, cases[i].sparse, cases[i].batch, &sum, &n);
        print_message("%-20s %s: end %.3g wall %.3g\n", cases[i].gpu, cases[i].sparse ? "MoE" : "dense", sum.linear_regime_end_flop,
                      sum.latency_wall_flop);
        assert_rel(sum.linear_regime_end_flop, cases[i].end, 0.15);
        if (cases[i].wall > 0)
            assert_rel(sum.latency_wall_flop, cases[i].wall, 0.15);
    }
    sp_epoch_summary sum;
    int n;
    run("h100", 0, SP_EPOCH_BATCH_DEFAULT, &sum, &n);
    assert_rel(sum.t_limit_flop, 2.31e31, 0.01);
    assert_rel(sum.t_crit_flop, 1.92e28, 0.01);
    assert_near(sum.max_utilization, 0.7, 1e-12);
}

/* point by point: base H100 dense and A100 MoE sweeps, every point within 0.02 utilization and the same cluster */
static void test_reference_points(void **st)
{
    (void)st;
    sp_csv *c;
    sp_error e = {0};
    assert_int_equal(sp_csv_read(SP_SHARED "/validation/epoch2024_reference_points.csv", &c, &e), SP_OK);
    const char *settings[] = {"base|H100 SXM", "base_sparse|A100 SXM", "batch|DeepSeek scaling"};
    const char *gpus[] = {"h100", "a100", "h100"};
    int sparse[] = {0, 1, 0};
    sp_epoch_batch batch[] = {SP_EPOCH_BATCH_DEFAULT, SP_EPOCH_BATCH_DEFAULT, SP_EPOCH_BATCH_DEEPSEEK};
    for (int k = 0; k < 3; k++) {
        sp_epoch_summary sum;
        int n, matched = 0, rows = 0;
        run(gpus[k], sparse[k], batch[k], &sum, &n);
        for (int r = 0; r < sp_csv_rows(c); r++) {
            if (strcmp(sp_csv_get(c, r, sp_csv_col(c, "setting")), settings[k]))
                continue;
            rows++;
            double d, u, ng;
            assert_int_equal(sp_csv_double(c, r, "d_model", 0, 0, 1e9, &d, &e), SP_OK);
            assert_int_equal(sp_csv_double(c, r, "U", 0, 0, 1, &u, &e), SP_OK);
            assert_int_equal(sp_csv_double(c, r, "N_GPU", 0, 0, 1e30, &ng, &e), SP_OK);
            for (int i = 0; i < n; i++)
                if (pts[i].d_model == d) {
                    assert_near(pts[i].utilization, u, 0.02);
                    assert_rel(pts[i].n_gpus, ng, 0.001); /* the file rounds to 4 digits */
                    matched++;
                }
        }
        assert_int_equal(matched, rows);
        assert_true(rows > 20);
    }
    sp_csv_free(c);
}

static void test_bad_presets(void **st)
{
    (void)st;
    sp_epoch_gpu g;
    sp_error e = {0};
    assert_int_equal(sp_epoch_gpu_preset("h200x", &g, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "allowed h100"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_table),
        cmocka_unit_test(test_summaries),
        cmocka_unit_test(test_reference_points),
        cmocka_unit_test(test_bad_presets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
