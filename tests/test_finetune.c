/* Fine-tuning sanity references (issue 10), each with its source. */
#include "testutil.h"

#define GB 1e9

static sp_train_result run(const char *model, const char *system, const char *method, int seq, sp_plan *pout)
{
    sp_model m = load_model(model);
    sp_system s = load_system(system);
    sp_error e = {0};
    sp_finetune ft;
    assert_int_equal(sp_finetune_parse(method, NULL, NULL, 0, &ft, &e), SP_OK);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 1;
    p.seq_len = seq;
    p.recompute = SP_RECOMPUTE_FULL;
    assert_int_equal(sp_finetune_apply(&m, &ft, &p, &e), SP_OK);
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    sp_train_result r;
    assert_int_equal(sp_train_eval(&m, &s, &p, &r, &e), SP_OK);
    if (pout)
        *pout = p;
    return r;
}

/* Full fine-tuning keeps the model states of the stack it runs on, exactly as train does (one memory model, issue
 * 24 item 8): Megatron's 18 B per parameter (2 weights + 4 fp32 main gradients + 12 fp32 master and moments) by
 * default; under the deepspeed stack (HF Trainer + DeepSpeed, bf16 gradients) 16 B (Rajbhandari et al. 2020
 * §3.1), ~108 GB for Llama-2-7B's 6.74B. */
static void test_full_7b_states(void **st)
{
    (void)st;
    sp_plan p;
    sp_train_result r = run("llama2-7b", "dgx-h100", "full", 2048, &p);
    double states = r.mem.weights + r.mem.grads + r.mem.optimizer;
    assert_rel(states, 18.0 * 6.738e9, 0.01);
    assert_false(r.fits); /* does not fit one 80 GB H100 */
    sp_model m;
    sp_system s;
    sp_software ds;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama2-7b", &m, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e), SP_OK);
    assert_int_equal(sp_load_software(SP_DATA_DIR, "deepspeed", &ds, &e), SP_OK);
    assert_int_equal(sp_software_apply(&ds, SP_KNOB_RECOMPUTE | SP_KNOB_ZERO, &p, &e), SP_OK);
    sp_train_result r2;
    assert_int_equal(sp_train_eval(&m, &s, &p, &r2, &e), SP_OK);
    assert_rel(r2.mem.weights + r2.mem.grads + r2.mem.optimizer, 16.0 * 6.738e9, 0.01);
}

/* LoRA rank 16 on a bf16 Llama-2-7B fits on one 24 GB GPU (A10), as widely reported for PEFT. */
static void test_lora_7b_24gb(void **st)
{
    (void)st;
    sp_train_result r = run("llama2-7b", "a10-node", "lora", 2048, NULL);
    assert_true(r.fits);
    assert_true(r.mem.total < 24e9);
}

/* QLoRA (Dettmers et al. 2023, abstract): a 65B model fine-tunes on one 48 GB GPU (NF4 base, rank 64 on all
 * linear layers, gradient checkpointing). */
static void test_qlora_65b_48gb(void **st)
{
    (void)st;
    sp_train_result r = run("llama-65b", "l40s-node", "qlora", 512, NULL);
    assert_true(r.fits);
    /* NF4 with double quantization: 4.127 bits per parameter -> 33.7 GB of base weights */
    sp_model m = load_model("llama-65b");
    double adapters = 80 * sp_lora_params_per_layer(&m, 64, SP_LORA_ATTN | SP_LORA_MLP);
    assert_rel(adapters, 799.5e6, 0.001);
    assert_rel(r.mem.weights, 65.29e9 * 4.127 / 8 + 2.0 * adapters, 0.01);
    /* and it does not fit in 24 GB */
    sp_train_result r2 = run("llama-65b", "a10-node", "qlora", 512, NULL);
    assert_false(r2.fits);
}

/* Frozen base weights: no weight-gradient GEMMs, so a LoRA step is faster than a full step of the same model. */
static void test_lora_faster_than_full(void **st)
{
    (void)st;
    sp_train_result full = run("llama3-8b", "hgx-h200", "full", 4096, NULL);
    sp_train_result lora = run("llama3-8b", "hgx-h200", "lora", 4096, NULL);
    assert_true(lora.step_time_s < full.step_time_s);
    assert_true(lora.step_time_s > 0.6 * full.step_time_s); /* weight gradients are ~1/4 of full-recompute work */
}

/* DistilBERT (Sanh et al. 2019): 40 % fewer parameters than BERT-base; "60 % faster" inference. */
static void test_distilbert_size_speed(void **st)
{
    (void)st;
    sp_model t = load_model("bert-base"), s = load_model("distilbert-base");
    sp_param_count pt, ps;
    sp_model_params(&t, &pt);
    sp_model_params(&s, &ps);
    assert_near(1 - ps.total / pt.total, 0.40, 0.02);
    double speedup = sp_model_fwd_flops_per_token(&t, 128) / sp_model_fwd_flops_per_token(&s, 128);
    assert_near(speedup, 1.60, 0.12);
}

static void test_bad_inputs(void **st)
{
    (void)st;
    sp_finetune ft;
    sp_error e = {0};
    assert_int_equal(sp_finetune_parse("full", NULL, "nf4", 0, &ft, &e), SP_EINVAL);
    assert_int_equal(sp_finetune_parse("qlora", NULL, "bf16", 0, &ft, &e), SP_EINVAL);
    assert_int_equal(sp_finetune_parse("lora", "attn,conv", NULL, 0, &ft, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "'conv'"));
    assert_int_equal(sp_finetune_parse("dora", NULL, NULL, 0, &ft, &e), SP_EINVAL);
    sp_model m = load_model("llama3-8b");
    assert_int_equal(sp_finetune_parse("lora", "attn", NULL, 4096, &ft, &e), SP_OK);
    sp_plan p;
    sp_plan_defaults(&p);
    assert_int_equal(sp_finetune_apply(&m, &ft, &p, &e), SP_EINVAL); /* rank > 1024 (KV width) */
    assert_int_equal(sp_model_prune(&m, 3, 0, &e), SP_EINVAL);        /* GQA groups of 4 */
    assert_int_equal(sp_model_prune(&m, 8, 0.25, &e), SP_OK);
    assert_int_equal(m.n_heads, 24);
    assert_int_equal(m.n_kv_heads, 6);
    assert_int_equal(m.ffn_dim, 10752);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_7b_states),    cmocka_unit_test(test_lora_7b_24gb),
        cmocka_unit_test(test_qlora_65b_48gb),    cmocka_unit_test(test_lora_faster_than_full),
        cmocka_unit_test(test_distilbert_size_speed), cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
