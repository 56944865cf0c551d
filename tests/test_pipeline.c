/* Uneven pipeline stages: layers not divisible by pp*vpp (Megatron-Core allows them; NVIDIA's Llama 3.1 405B
 * recipe runs 126 layers on PP 16 x VP 8). */
#include "testutil.h"

static void plan_of(sp_plan *p, int gpus, int tp, int pp, int vpp)
{
    sp_plan_defaults(p);
    p->n_gpus = gpus, p->tp = tp, p->pp = pp, p->vpp = vpp;
    p->global_batch = 512, p->micro_batch = 1, p->seq_len = 8192;
    p->recompute = SP_RECOMPUTE_SELECTIVE, p->seq_parallel = 1;
}

/* Rule: the heaviest stage sets the pipeline's slot, and it holds ceil(L/pp) layers. A 126-layer model on PP 16
 * x VP 4 (126 is not a multiple of 64) runs its stages at ceil(126/16) = 8 layers, exactly the layers, compute
 * and layer memory of the 128-layer model, whose stages hold 8 each; only the average stage (the bubble) and the
 * embedding/LM-head stages' share differ. */
static void test_uneven_virtual_stages(void **st)
{
    (void)st;
    sp_model m, m128;
    sp_system s;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3.1-405b", &m, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e), SP_OK);
    assert_int_equal(m.n_layers, 126);
    m128 = m;
    m128.n_layers = 128;
    sp_plan p, q;
    plan_of(&p, 2048, 8, 16, 4);
    plan_of(&q, 2048, 8, 16, 4);
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    assert_int_equal(sp_plan_resolve(&q, &m128, &s, &e), SP_OK);
    sp_train_result a, b;
    assert_int_equal(sp_train_eval(&m, &s, &p, &a, &e), SP_OK);
    assert_int_equal(sp_train_eval(&m128, &s, &q, &b, &e), SP_OK);
    assert_true(a.t.compute == b.t.compute);
    assert_true(a.t.tp_comm == b.t.tp_comm);
    assert_true(a.mem.activations == b.mem.activations);
    assert_true(a.mem.weights == b.mem.weights);
    assert_true(a.step_time_s < b.step_time_s); /* 2 fewer layers: a smaller bubble, never a slower step */
}

/* Rule: every virtual stage needs a layer, the embedding and the loss counting as one each (Megatron-Core's
 * pipeline split): 126 layers fit PP 16 x VP 8 = 128 virtual stages; 32 layers do not fit 40. */
static void test_too_many_virtual_stages(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e), SP_OK); /* 32 layers */
    assert_int_equal(sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e), SP_OK);
    sp_plan p;
    plan_of(&p, 64, 1, 8, 5);
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_EINVAL);
    assert_string_equal(e.msg, "plan: pp*vpp = 40 exceeds the number of layers (32) + 2 (embedding and loss): every "
                               "virtual stage needs a layer");
    sp_model big;
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3.1-405b", &big, &e), SP_OK);
    plan_of(&p, 2048, 8, 16, 8);
    assert_int_equal(sp_plan_resolve(&p, &big, &s, &e), SP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uneven_virtual_stages),
        cmocka_unit_test(test_too_many_virtual_stages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
