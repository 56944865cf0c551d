/* BF16 layers (docs/model.md "BF16 layers"): under a quantized dtype the first bf16_first and the last bf16_last
 * layers run their GEMMs in 16 bits without quantization traffic (Megatron-Core first_last_layers_bf16 with
 * num_layers_at_start_in_bf16 / num_layers_at_end_in_bf16); the pipeline stage that holds them sets the pace. */
#include "testutil.h"

/* Layer sums are built in a different order with BF16 layers (the model's mean layer plus each BF16 layer's
 * difference): equal up to double rounding over a few dozen terms, 1e-12 relative. */
#define SUM_REL 1e-12

static void eval(const sp_model *m, const char *sys, int pp, sp_dtype d, int first, int last, sp_train_result *r)
{
    sp_system s;
    sp_error e = {0};
    load_ok(sp_load_system(SP_DATA_DIR, sys, &s, &e), sys, &e);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 8 * pp, p.tp = 8, p.pp = pp, p.global_batch = 64, p.seq_len = 4096, p.seq_parallel = 1;
    p.dtype = d, p.bf16_first = first, p.bf16_last = last;
    assert_int_equal(sp_plan_resolve(&p, m, &s, &e), SP_OK);
    assert_int_equal(sp_train_eval(m, &s, &p, r, &e), SP_OK);
}

/* Rule: a BF16 layer is the same layer priced in the plan's 16-bit type (a bf16 plan's layer): on one stage the
 * layers' compute, memory-bound and host time are (L - k) quantized layers + k BF16 layers. Llama-3-8B (32 layers)
 * in FP8 on 8 H100s with 2 + 3 BF16 layers. */
static void test_bf16_layers_priced_16bit(void **st)
{
    (void)st;
    sp_model m;
    sp_error e = {0};
    load_ok(sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e), "llama3-8b", &e);
    sp_train_result q, b, x;
    eval(&m, "dgx-h100", 1, SP_FP8, 0, 0, &q);
    eval(&m, "dgx-h100", 1, SP_BF16, 0, 0, &b);
    eval(&m, "dgx-h100", 1, SP_FP8, 2, 3, &x);
    assert_rel(x.t.compute, (27 * q.t.compute + 5 * b.t.compute) / 32, SUM_REL);
    assert_rel(x.t.memory_bound, (27 * q.t.memory_bound + 5 * b.t.memory_bound) / 32, SUM_REL);
    assert_true(b.t.compute > q.t.compute && x.step_time_s > q.step_time_s);
    /* all layers BF16 = the bf16 plan's layers */
    eval(&m, "dgx-h100", 1, SP_FP8, 16, 16, &x);
    assert_rel(x.t.compute, b.t.compute, SUM_REL);
    assert_rel(x.t.memory_bound, b.t.memory_bound, SUM_REL);
}

/* Rule: with layers that differ (Nemotron-3 Super's Mamba-2 / LatentMoE / attention pattern) each BF16 layer is its
 * own kind in 16 bits: every layer BF16 gives the nvfp4 plan the bf16 plan's layers. */
static void test_bf16_layers_pattern(void **st)
{
    (void)st;
    sp_model m;
    sp_error e = {0};
    load_ok(sp_load_model(SP_DATA_DIR, "nemotron-3-super-120b-a12b", &m, &e), "nemotron-3-super", &e);
    assert_int_equal(m.n_layers, 88);
    sp_train_result b, x, y;
    eval(&m, "dgx-b200", 1, SP_BF16, 0, 0, &b);
    eval(&m, "dgx-b200", 1, SP_NVFP4, 0, 88, &x);
    assert_rel(x.t.compute, b.t.compute, SUM_REL);
    assert_rel(x.t.memory_bound, b.t.memory_bound, SUM_REL);
    /* the recipe's 0,14 lies between no BF16 layer and all of them in GEMM time */
    eval(&m, "dgx-b200", 1, SP_NVFP4, 0, 0, &y);
    eval(&m, "dgx-b200", 1, SP_NVFP4, 0, 14, &x);
    assert_true(x.t.compute > y.t.compute && x.t.compute < b.t.compute);
}

/* Rule: the BF16 layers sit on the pipeline stages that hold them (the first / last layers: stage 0 / stage pp-1),
 * and the slowest stage sets the slot: on PP 4 (8 layers a stage) the last stage with 2 BF16 layers is the critical
 * path, its compute 8 quantized layers + 2 x (BF16 - quantized); 1 + 1 puts one on each end stage, a faster step. */
static void test_bf16_layers_stage(void **st)
{
    (void)st;
    sp_model m;
    sp_error e = {0};
    load_ok(sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e), "llama3-8b", &e);
    sp_train_result q, b, end2, split;
    eval(&m, "dgx-h100", 4, SP_FP8, 0, 0, &q);
    eval(&m, "dgx-h100", 4, SP_BF16, 0, 0, &b);
    eval(&m, "dgx-h100", 4, SP_FP8, 0, 2, &end2);
    eval(&m, "dgx-h100", 4, SP_FP8, 1, 1, &split);
    assert_rel(end2.t.compute, q.t.compute + 2 * (b.t.compute - q.t.compute) / 8, SUM_REL);
    assert_rel(split.t.compute, q.t.compute + (b.t.compute - q.t.compute) / 8, SUM_REL);
    assert_true(split.step_time_s < end2.step_time_s && end2.step_time_s > q.step_time_s);
}

/* Rule: a BF16 layer saves its GEMM inputs in 16 bits (its activations are the 16-bit plan's layer's), held by the
 * stage that runs it: every layer BF16 holds the bf16 plan's activations (one stage, and PP 4); on PP 4 (8 layers a
 * stage, 4 micro-batches in flight on the first, 1 on the last) 2 BF16 layers at the start add 2 x 4 layer-units of
 * the difference to the first stage's 8 x 4 (= a quarter of it), 2 at the end nothing to that worst stage; with
 * layers that differ, all 88 BF16 = the bf16 plan's. */
static void test_bf16_layers_memory(void **st)
{
    (void)st;
    sp_model m, h;
    sp_error e = {0};
    load_ok(sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e), "llama3-8b", &e);
    load_ok(sp_load_model(SP_DATA_DIR, "nemotron-3-super-120b-a12b", &h, &e), "nemotron-3-super", &e);
    sp_train_result q, b, x;
    eval(&m, "dgx-h100", 1, SP_FP8, 16, 16, &x);
    eval(&m, "dgx-h100", 1, SP_BF16, 0, 0, &b);
    assert_rel(x.mem.activations, b.mem.activations, SUM_REL);
    eval(&m, "dgx-h100", 4, SP_FP8, 0, 0, &q);
    eval(&m, "dgx-h100", 4, SP_BF16, 0, 0, &b);
    assert_true(b.mem.activations > q.mem.activations);
    eval(&m, "dgx-h100", 4, SP_FP8, 2, 0, &x);
    assert_rel(x.mem.activations, q.mem.activations + (b.mem.activations - q.mem.activations) / 4, SUM_REL);
    eval(&m, "dgx-h100", 4, SP_FP8, 0, 2, &x);
    assert_rel(x.mem.activations, q.mem.activations, SUM_REL);
    eval(&h, "dgx-b200", 1, SP_NVFP4, 0, 88, &x);
    eval(&h, "dgx-b200", 1, SP_BF16, 0, 0, &b);
    assert_rel(x.mem.activations, b.mem.activations, SUM_REL);
}

/* Rule: no effect in a 16-bit dtype (Megatron-Core enters no quantization context to leave) */
static void test_bf16_layers_16bit_plan(void **st)
{
    (void)st;
    sp_model m;
    sp_error e = {0};
    load_ok(sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e), "llama3-8b", &e);
    sp_train_result b, x;
    eval(&m, "dgx-h100", 1, SP_BF16, 0, 0, &b);
    eval(&m, "dgx-h100", 1, SP_BF16, 4, 4, &x);
    assert_true(x.step_time_s == b.step_time_s);
}

/* Rule: what Megatron-Core refuses is refused (FP8: at most num_layers // pp at either end; not with delayed
 * scaling), counts beyond the model are refused, and "START,END" parses as two integers or not at all. */
static void test_bf16_layers_refused(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    sp_error e = {0};
    load_ok(sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e), "llama3-8b", &e);
    load_ok(sp_load_system(SP_DATA_DIR, "dgx-b200", &s, &e), "dgx-b200", &e);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 32, p.tp = 8, p.pp = 4, p.global_batch = 64, p.seq_len = 4096, p.dtype = SP_FP8, p.bf16_first = 9;
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_EINVAL);
    assert_string_equal(e.msg, "plan: bf16 layers 9,0 under fp8; allowed 0..8 each (num_layers // pp, as Megatron-Core "
                               "checks)");
    p.dtype = SP_NVFP4; /* FP4 has no such check */
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    p.bf16_first = 33;
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_EINVAL);
    assert_string_equal(e.msg, "plan: bf16 layers 33,0; allowed 0..32 each (the model's layers)");
    p.dtype = SP_FP8, p.fp8_recipe = SP_FP8_DELAYED, p.bf16_first = 1, p.bf16_last = 1;
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_EINVAL);
    assert_string_equal(e.msg, "plan: bf16 layers with fp8 delayed scaling (Megatron-Core refuses them: \"Delayed "
                               "scaling does not support first / last layer in BF16.\")");
    int a = -1, b = -1;
    assert_int_equal(sp_bf16_layers_parse("0,14", &a, &b, &e), SP_OK);
    assert_int_equal(a, 0);
    assert_int_equal(b, 14);
    const char *bad[] = {"14", "1,x", "1,2,3", "-1,2", "", ",2", "1,", "1,2097152"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(sp_bf16_layers_parse(bad[i], &a, &b, &e), SP_EINVAL);
    assert_string_equal(e.msg, "'1,2097152'; expected START,END: the layers kept in BF16 at the start and at the end "
                               "of the model, two integers 0..1048576 (e.g. 0,14)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bf16_layers_priced_16bit),
        cmocka_unit_test(test_bf16_layers_pattern),
        cmocka_unit_test(test_bf16_layers_stage),
        cmocka_unit_test(test_bf16_layers_memory),
        cmocka_unit_test(test_bf16_layers_16bit_plan),
        cmocka_unit_test(test_bf16_layers_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
