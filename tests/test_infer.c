/* Serving model (issue 7): KV-cache sizes, MoE expert reads, monotonic behaviour. */
#include "testutil.h"

static sp_model load(const char *n)
{
    sp_model m;
    sp_error e = {0};
    if (sp_load_model(SP_DATA_DIR, n, &m, &e))
        fail_msg("%s", e.msg);
    return m;
}

/* Llama-2-70B: 2 (K and V) x 80 layers x 8 KV heads x 128 x 2 bytes = 327,680 bytes per token (bf16).
 * DeepSeek-V3: compressed latent (512 + 64 rope) x 61 layers x 2 bytes = 70,272 bytes per token. */
static void test_kv_cache(void **st)
{
    (void)st;
    sp_model l = load("llama2-70b"), d = load("deepseek-v3");
    assert_near(sp_kv_bytes_per_token(&l, SP_BF16), 327680, 0);
    assert_near(sp_kv_bytes_per_token(&d, SP_BF16), 70272, 0);
    assert_near(sp_kv_bytes_per_token(&l, SP_FP8), 163840, 0);
}

static void test_experts(void **st)
{
    (void)st;
    assert_near(sp_expected_experts(8, 2, 1), 2, 1e-12);
    assert_near(sp_expected_experts(256, 8, 1), 8, 1e-9);
    assert_true(sp_expected_experts(256, 8, 64) > 200 && sp_expected_experts(256, 8, 64) < 256);
    assert_near(sp_expected_experts(1, 1, 100), 1, 0);
}

static void test_serving_behaviour(void **st)
{
    (void)st;
    sp_model m = load("llama3-70b");
    sp_system s;
    sp_error e = {0};
    assert_int_equal(sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e), SP_OK);
    sp_infer_opts o;
    sp_infer_defaults(&o);
    o.tp = o.n_gpus = 4;
    sp_infer_result r1, r64, q;
    o.batch = 1;
    assert_int_equal(sp_infer_eval(&m, &s, &o, &r1, &e), SP_OK);
    o.batch = 64;
    assert_int_equal(sp_infer_eval(&m, &s, &o, &r64, &e), SP_OK);
    assert_true(r64.tokens_per_s > 10 * r1.tokens_per_s); /* batching amortises the weight reads */
    assert_true(r64.tpot_s >= r1.tpot_s);
    /* batch 1 decode is memory bound: weights / HBM bandwidth sets the floor */
    assert_true(r1.tpot_s >= r1.weights_bytes / s.acc.hbm_bw);
    assert_string_equal(r1.decode_bound, "memory (HBM)");
    /* fp8 weights halve the weight bytes and speed up batch-1 decode */
    o.batch = 1;
    o.weights = SP_FP8;
    assert_int_equal(sp_infer_eval(&m, &s, &o, &q, &e), SP_OK);
    assert_near(q.weights_bytes, r1.weights_bytes / 2, 1e-6 * r1.weights_bytes);
    assert_true(q.tpot_s < r1.tpot_s);
    /* does not fit on one GPU in bf16 */
    o.weights = SP_BF16;
    o.tp = o.n_gpus = 1;
    assert_int_equal(sp_infer_eval(&m, &s, &o, &q, &e), SP_OK);
    assert_false(q.fits);
    o.tp = 3;
    o.n_gpus = 3;
    assert_int_equal(sp_infer_eval(&m, &s, &o, &q, &e), SP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_cache),
        cmocka_unit_test(test_experts),
        cmocka_unit_test(test_serving_behaviour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
