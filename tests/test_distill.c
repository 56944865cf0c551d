/* Distillation cost model (src/distill.c): each test names its rule and asserts the exact value. */
#include "testutil.h"

static void setup(sp_model *t, sp_model *s, sp_system *sys, sp_plan *p)
{
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_TEST_DATA, "llama3-70b", t, &e), SP_OK);
    assert_int_equal(sp_load_model(SP_TEST_DATA, "llama3-8b", s, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_TEST_DATA, "dgx-h100", sys, &e), SP_OK);
    sp_plan_defaults(p);
    p->n_gpus = 8;
    p->tp = 4; /* the 70B teacher's bf16 weights (131 GiB) need TP 4 to fit on 80 GB GPUs (issue 24 item 4) */
    p->zero = 1;
    p->seq_len = 2048;
}

/* Rule: a plan that cannot hold the teacher's forward is refused, not costed: Llama-3-70B's 16-bit weights alone
 * are 70.55e9 x 2 B = 131.4 GiB, over one H100 (issue 24 item 4: distill reported GPU-hours on one GPU). */
static void test_teacher_must_fit(void **st)
{
    (void)st;
    sp_model t, s;
    sp_system sys;
    sp_plan p;
    setup(&t, &s, &sys, &p);
    p.tp = 1;
    sp_distill_opts o = {.tokens = 1e9, .epochs = 1, .online = 0};
    sp_distill_result r;
    sp_error e = {0};
    assert_int_equal(sp_distill_eval(&t, &s, &sys, &p, &o, &r, &e), SP_EINFEASIBLE);
    assert_non_null(strstr(e.msg, "--teacher Llama-3-70B needs 134.4 GiB per GPU for its forward (weights 131.4 GiB)"));
    /* the forward's weights are the 16-bit parameters of the plan's shard: TP 4 holds a quarter */
    p.tp = 4;
    assert_int_equal(sp_distill_eval(&t, &s, &sys, &p, &o, &r, &e), SP_OK);
    sp_param_count pc;
    sp_model_params(&t, &pc);
    assert_true(r.teacher_fwd_mem.weights > 2 * pc.total / 4 * 0.99 && r.teacher_fwd_mem.weights < 2 * pc.total / 4 * 1.01);
    assert_true(r.teacher_fwd_mem.grads == 0 && r.teacher_fwd_mem.optimizer == 0);
}

/* Rule: online, the teacher's forward and the student's training are resident at once: each fits alone on TP 2
 * (67.9 + 40.7 GiB), together they do not (108.6 > 79.65 GiB); offline they run one after the other. */
static void test_online_both_resident(void **st)
{
    (void)st;
    sp_model t, s;
    sp_system sys;
    sp_plan p;
    setup(&t, &s, &sys, &p);
    p.tp = 2;
    sp_distill_opts off = {.tokens = 1e9, .epochs = 1, .online = 0}, on = off;
    on.online = 1;
    sp_distill_result r;
    sp_error e = {0};
    assert_int_equal(sp_distill_eval(&t, &s, &sys, &p, &off, &r, &e), SP_OK);
    assert_true(r.teacher_fwd_mem.total <= r.student.mem.capacity && r.student.mem.total <= r.student.mem.capacity);
    assert_true(r.teacher_fwd_mem.total + r.student.mem.total > r.student.mem.capacity);
    assert_int_equal(sp_distill_eval(&t, &s, &sys, &p, &on, &r, &e), SP_EINFEASIBLE);
    assert_non_null(strstr(e.msg, "--online: the teacher's forward"));
}

/* Rule: the serving speed-up is the ratio of forward FLOPs per token; the size reduction 1 - N_s / N_t; the
 * break-even is the distillation GPU-hours over the GPU-hours saved per served token. */
static void test_ratios_and_breakeven(void **st)
{
    (void)st;
    sp_model t, s;
    sp_system sys;
    sp_plan p;
    setup(&t, &s, &sys, &p);
    sp_distill_opts o = {.tokens = 1e12, .epochs = 1, .online = 0};
    sp_distill_result r;
    sp_error e = {0};
    assert_int_equal(sp_distill_eval(&t, &s, &sys, &p, &o, &r, &e), SP_OK);
    assert_rel(r.serving_speedup, sp_model_fwd_flops_per_token(&t, 2048) / sp_model_fwd_flops_per_token(&s, 2048), 1e-15);
    sp_param_count pt, ps;
    sp_model_params(&t, &pt);
    sp_model_params(&s, &ps);
    assert_rel(r.size_reduction, 1 - ps.total / pt.total, 1e-15);
    assert_rel(r.breakeven_served_tokens, (r.teacher_gpu_hours + r.student_gpu_hours) / r.saved_gpu_hours_per_token, 1e-15);
    /* student hours: tokens at the student's training rate on 8 GPUs */
    assert_rel(r.student_gpu_hours, 1e12 / r.student.tokens_per_s * 8 / 3600, 1e-15);
    /* the teacher's forward: a third of its step less optimizer and exposed DP communication */
    assert_rel(r.teacher_fwd_s, (r.teacher.step_time_s - r.teacher.t.optimizer - r.teacher.t.dp_comm) / 3, 1e-15);
}

/* Rule: online distillation runs the teacher every epoch (3 epochs: 3x its hours); offline runs it once. */
static void test_online_epochs(void **st)
{
    (void)st;
    sp_model t, s;
    sp_system sys;
    sp_plan p;
    setup(&t, &s, &sys, &p);
    sp_distill_opts off = {.tokens = 1e11, .epochs = 3, .online = 0}, on = {.tokens = 1e11, .epochs = 3, .online = 1};
    sp_distill_result a, b;
    sp_error e = {0};
    assert_int_equal(sp_distill_eval(&t, &s, &sys, &p, &off, &a, &e), SP_OK);
    assert_int_equal(sp_distill_eval(&t, &s, &sys, &p, &on, &b, &e), SP_OK);
    assert_rel(b.teacher_gpu_hours, 3 * a.teacher_gpu_hours, 1e-15);
    assert_rel(b.student_gpu_hours, a.student_gpu_hours, 0);
}

/* Rule: a student larger than its teacher saves nothing: no break-even (infinite, printed as null in JSON). */
static void test_no_breakeven(void **st)
{
    (void)st;
    sp_model t, s;
    sp_system sys;
    sp_plan p;
    setup(&t, &s, &sys, &p);
    p.n_gpus = 32; /* the 70B model as the student trains: 70.55e9 x 16 B over 32 GPUs with ZeRO-3 */
    p.tp = 8;
    p.zero = 3;
    sp_distill_opts o = {.tokens = 1e11, .epochs = 1, .online = 0};
    sp_distill_result r;
    sp_error e = {0};
    assert_int_equal(sp_distill_eval(&s, &t, &sys, &p, &o, &r, &e), SP_OK);
    assert_true(isinf(r.breakeven_served_tokens));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratios_and_breakeven),
        cmocka_unit_test(test_online_epochs),
        cmocka_unit_test(test_no_breakeven),
        cmocka_unit_test(test_teacher_must_fit),
        cmocka_unit_test(test_online_both_resident),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
