/* The paper's idealisations in full mode (docs/limits.md "From paper to practice"): the zero-bubble schedule hook
 * of the step model, and each limits --mode full switch moving the answer the way the waterfall says. */
#include "testutil.h"
#include "scaleplan_limits.h"

#include <stdlib.h>

/* Rule: a zero-bubble schedule removes the 1F1B fill/drain bubble (pp - 1 slots / vpp) and nothing else. */
static void test_zero_bubble_step(void **st)
{
    (void)st;
    sp_error e = {0};
    sp_model m;
    sp_system s;
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3-70b", &m, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e), SP_OK);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 256, p.tp = 8, p.pp = 8, p.seq_len = 4096, p.global_batch = 512, p.seq_parallel = 1;
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    sp_train_result a, b;
    assert_int_equal(sp_train_eval(&m, &s, &p, &a, &e), SP_OK);
    p.zero_bubble = 1;
    assert_int_equal(sp_train_eval(&m, &s, &p, &b, &e), SP_OK);
    assert_true(a.t.bubble > 0);
    assert_near(b.t.bubble, 0, 0);
    assert_rel(a.step_time_s - b.step_time_s, a.t.bubble, 1e-9);
}

/* Rule: the zero-bubble schedule moves full mode's H100 wall ~14x (2.37e28 -> 3.22e29 FLOP, docs/limits.md; the wall
 * was 1.32e28 before the search tried uneven virtual stages, which Megatron-Core runs), the
 * paper's latencies do not move it further, and the sweep reports where it stopped. */
static void test_full_mode_switches(void **st)
{
    (void)st;
    sp_error e = {0};
    sp_system s;
    assert_int_equal(sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e), SP_OK);
    sp_epoch_setting set;
    sp_epoch_setting_defaults(&set);
    sp_limits_full_opts o;
    sp_limits_full_defaults(&o);
    sp_limits_full_point *pts = calloc(160, sizeof *pts);
    sp_epoch_summary base, zb, zbl;
    assert_true(sp_limits_full_sweep(&set, &s, &o, pts, 160, &base, &e) > 0);
    o.zero_bubble = 1;
    assert_true(sp_limits_full_sweep(&set, &s, &o, pts, 160, &zb, &e) > 0);
    o.paper_latency = 1;
    assert_true(sp_limits_full_sweep(&set, &s, &o, pts, 160, &zbl, &e) > 0);
    assert_rel(base.largest_feasible_flop, 2.37e28, 0.01);
    assert_rel(zb.largest_feasible_flop, 3.22e29, 0.01);
    assert_rel(zb.linear_regime_end_flop, 4.56e27, 0.01);
    assert_rel(zbl.largest_feasible_flop, zb.largest_feasible_flop, 1e-9);
    free(pts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_bubble_step),
        cmocka_unit_test(test_full_mode_switches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
