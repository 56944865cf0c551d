/* Recompute modules (ops.c, step.c, memory.c; docs/model.md "Recompute modules"): Megatron-Core's selective
 * recompute per module decides, op by op, what a layer keeps (memory) and what its backward re-runs (time), from the
 * one op list; {core_attn} is the selective mode, every module and the layer the full mode; the block method
 * recomputes N layers per stage. */
#include "testutil.h"
#include "ops.h"

#include <string.h>

static void plan(sp_plan *p, int tp, int seq)
{
    sp_plan_defaults(p);
    p->tp = tp, p->seq_parallel = tp > 1, p->micro_batch = 1, p->seq_len = seq, p->global_batch = 8;
    p->n_gpus = tp, p->dp = 1;
}

/* The tests' fixture: a model and a system preset, plan(tp, seq), the model's parameter counts and the layer context
 * over them with flash attention. The context points at m, s, p and pc (sp_layer_ctx_init), so what a test changes
 * in s or p reaches the layers it builds next; the context reads p's tokens, TP and dtype once, when made. */
typedef struct {
    sp_model m;
    sp_system s;
    sp_plan p;
    sp_param_count pc;
    sp_layer_ctx c;
} layer_fixture;

static void layer_setup(layer_fixture *fx, const char *model, const char *system, int tp, int seq)
{
    fx->m = load_model(model);
    fx->s = load_system(system);
    plan(&fx->p, tp, seq);
    sp_model_params(&fx->m, &fx->pc);
    sp_layer_ctx_init(&fx->c, &fx->m, &fx->s, &fx->p, &fx->pc, 1);
}

/* forward seconds of the ops of l whose name starts with one of the prefixes (NULL-terminated) */
static double fwd_of(const sp_layer_ops *l, const sp_system *s, const char *const *pre)
{
    double f = 0;
    for (int i = 0; i < l->n; i++)
        for (const char *const *q = pre; *q; q++)
            if (strncmp(l->op[i].name, *q, strlen(*q)) == 0) {
                sp_op_cost k;
                sp_op_price(&l->op[i], s, NULL, &k);
                f += k.fwd;
                break;
            }
    return f;
}

/* forward bytes of the op named n */
static double find_bytes(const sp_layer_ops *l, const char *n)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->op[i].name, n) == 0)
            return l->op[i].u.bytes.fwd;
    return -1;
}

/* Rule: Llama-3-8B (GQA qd = h, kvd = h/4, gated f = 3.5h, no dropout, flash), s 4096, b 1, BF16: a layer keeps
 * 34·s·b·h bytes without recompute; mlp recompute drops the MLP's inputs (mlp_up h, mlp_down f, the activation's two
 * f-wide inputs, 2 B each) and keeps the residual it restarts from, already kept as the fused norm's input:
 * 34 - (2 + 7 + 14) = 11·s·b·h. core_attn under flash keeps Q, K, V: the same 34. Full keeps the input, 2·s·b·h. */
static void test_llama_mlp_saved(void **st)
{
    (void)st;
    layer_fixture fx;
    layer_setup(&fx, "llama3-8b", "dgx-h100", 1, 4096);
    sp_layer_ops l;
    sp_layer_build(&fx.c, 0, &l);
    double sbh = 4096.0 * fx.m.d_model;
    assert_rel(sp_layer_saved_set(&l, 0), 34 * sbh, 1e-12);
    assert_rel(sp_layer_saved_set(&l, SP_RCM_MLP), 11 * sbh, 1e-12);
    assert_rel(sp_layer_saved_set(&l, SP_RCM_CORE_ATTN), 34 * sbh, 1e-12);
    assert_rel(sp_layer_saved_set(&l, SP_RCM_ALL), 2 * sbh, 1e-12);
    /* the plan's set reaches the layer: recompute_modules mlp gives the selective slot 11 s·b·h */
    fx.p.recompute_modules = SP_RCM_MLP;
    sp_layer_build(&fx.c, 0, &l);
    double out[3];
    sp_layer_saved(&l, out);
    assert_rel(out[SP_RECOMPUTE_SELECTIVE], 11 * sbh, 1e-12);
    assert_rel(out[SP_RECOMPUTE_NONE], 34 * sbh, 1e-12);
}

/* Rule: the backward re-runs the forward of the recomputed module's ops: with {mlp} at TP 2 (SP, no TP overlap) the
 * layer's re-run work is mlp_up + mlp_down forward and the activation pass (act_rerun: read gate and up, write the
 * output, 3·T·f/t·2 B) and its TP communication the FFN block's all-gather and reduce-scatter forward; the training step's recompute time is n_micro x layers x that, its step time that much
 * (plus the TP part) longer than without recompute. */
static void test_mlp_rerun_time(void **st)
{
    (void)st;
    layer_fixture fx;
    layer_setup(&fx, "llama3-8b", "dgx-h100", 2, 4096);
    fx.s.overlap_tp = 0;
    fx.p.recompute = SP_RECOMPUTE_SELECTIVE, fx.p.recompute_modules = SP_RCM_MLP;
    sp_layer_ops l;
    sp_layer_cost k;
    sp_layer_build(&fx.c, 0, &l);
    sp_layer_price(&l, &fx.s, NULL, &k);
    static const char *const mlp[] = {"mlp_", "act_rerun", NULL}, *const tp[] = {"tp_ffn_", NULL};
    double f = fwd_of(&l, &fx.s, mlp), ftp = fwd_of(&l, &fx.s, tp);
    assert_true(f > 0 && ftp > 0);
    assert_rel(k.attn_fwd, f, 1e-12);
    assert_rel(k.rec_tp, ftp, 1e-12);
    for (int i = 0; i < l.n; i++)
        if (strcmp(l.op[i].name, "act_rerun") == 0)
            assert_rel(l.op[i].u.bytes.fwd, 3 * 4096.0 * fx.m.ffn_dim / 2 * 2, 1e-12);
    sp_train_result r, r0;
    sp_error e = {0};
    assert_int_equal(sp_train_eval(&fx.m, &fx.s, &fx.p, &r, &e), SP_OK);
    double layers = fx.m.n_layers, nm = r.n_micro;
    assert_rel(r.t.recompute, nm * layers * f, 1e-12);
    fx.p.recompute = SP_RECOMPUTE_NONE;
    assert_int_equal(sp_train_eval(&fx.m, &fx.s, &fx.p, &r0, &e), SP_OK);
    assert_rel(r.step_time_s - r0.step_time_s, nm * layers * (f + ftp), 1e-9);
}

/* Rule: {core_attn} is the selective mode, bit for bit (Megatron-Core's default recompute_modules, so a plan that
 * names no module gets it): GPT-3 175B with standard attention, TP 8, s 2048 keeps Korthikanti's 34·s·b·h/t and
 * re-runs the score and value matmuls and the softmax; step time and memory are the same doubles. */
static void test_core_attn_is_selective(void **st)
{
    (void)st;
    layer_fixture fx;
    layer_setup(&fx, "gpt3-175b", "dgx-a100-80g", 8, 2048);
    fx.p.dtype = SP_FP16, fx.p.flash_attention = 0, fx.p.recompute = SP_RECOMPUTE_SELECTIVE;
    fx.p.pp = 8, fx.p.n_gpus = 64;
    sp_train_result a, b;
    sp_error e = {0};
    assert_int_equal(sp_train_eval(&fx.m, &fx.s, &fx.p, &a, &e), SP_OK);
    fx.p.recompute_modules = SP_RCM_CORE_ATTN;
    assert_int_equal(sp_train_eval(&fx.m, &fx.s, &fx.p, &b, &e), SP_OK);
    assert_true(a.step_time_s == b.step_time_s && a.mem.total == b.mem.total && a.t.recompute == b.t.recompute);
    assert_true(a.hardware_flops == b.hardware_flops);
    sp_layer_ops l;
    sp_layer_cost k;
    sp_layer_ctx_init(&fx.c, &fx.m, &fx.s, &fx.p, &fx.pc, 0); /* FP16, standard attention */
    sp_layer_build(&fx.c, 0, &l);
    sp_layer_price(&l, &fx.s, NULL, &k);
    static const char *const core[] = {"scores", "values", "softmax", NULL};
    assert_rel(k.attn_fwd, fwd_of(&l, &fx.s, core), 1e-12);
    assert_rel(sp_layer_saved_set(&l, SP_RCM_CORE_ATTN), 34 * 2048.0 * fx.m.d_model / 8, 1e-12);
}

/* Rule: full recompute is every module and the layer: its bytes are the layer input's (2·s·b·h/t with SP) whatever
 * modules are named, and its re-run work is the whole forward (compute + memory-bound ops). */
static void test_full_is_every_op(void **st)
{
    (void)st;
    layer_fixture fx;
    layer_setup(&fx, "mixtral-8x7b", "dgx-h100", 2, 4096);
    sp_layer_ops l;
    sp_layer_build(&fx.c, 1, &l);
    double out[3];
    sp_layer_saved(&l, out);
    assert_rel(out[SP_RECOMPUTE_FULL], 2 * 4096.0 * fx.m.d_model / 2, 1e-12);
    assert_rel(sp_layer_saved_set(&l, SP_RCM_ALL | SP_RCM_MOE), out[SP_RECOMPUTE_FULL], 1e-12);
    fx.p.recompute = SP_RECOMPUTE_FULL;
    sp_train_result r;
    sp_error e = {0};
    assert_int_equal(sp_train_eval(&fx.m, &fx.s, &fx.p, &r, &e), SP_OK);
    sp_layer_cost k;
    sp_layer_price(&l, &fx.s, NULL, &k);
    assert_rel(r.t.recompute, r.n_micro * (double)fx.m.n_layers * (k.fwd_compute + k.fwd_mem), 1e-12);
}

/* Rule: MoE modules (Mixtral-8x7B, TP 1, EP 1, uniform routing, BF16, s 4096): moe drops the experts' inputs (h per
 * token, 2·f_e per routed copy as the up-projection's output and k·f_e as the down-projection's input) and keeps the
 * pre-MLP norm's output, h per token: none - {moe} = 6·T·k·f_e bytes; moe_act drops only the activation's output
 * (the down-projection's input): 2·T·k·f_e; layernorm drops the norm output: 2·T·h. */
static void test_moe_modules_saved(void **st)
{
    (void)st;
    layer_fixture fx;
    layer_setup(&fx, "mixtral-8x7b", "dgx-h100", 1, 4096);
    sp_layer_ops l;
    sp_layer_build(&fx.c, 1, &l);
    double T = 4096, k = fx.m.top_k, fe = fx.m.moe_ffn_dim, none = sp_layer_saved_set(&l, 0);
    assert_rel(none - sp_layer_saved_set(&l, SP_RCM_MOE), 6 * T * k * fe, 1e-12);
    assert_rel(none - sp_layer_saved_set(&l, SP_RCM_MOE_ACT), 2 * T * k * fe, 1e-12);
    assert_rel(none - sp_layer_saved_set(&l, SP_RCM_LAYERNORM), 2 * T * fx.m.d_model, 1e-12);
    /* moe re-runs every op of the MoE block: router (and its top-k, aux-loss, preprocessing kernels), experts,
     * permutation, the routed activation pass; moe_act only that pass, layernorm the pre-MLP norm (read and write
     * T·h at 2 B), neither counted in the layer's own forward */
    sp_layer_cost cost;
    l.rc_set = SP_RCM_MOE;
    sp_layer_price(&l, &fx.s, NULL, &cost);
    static const char *const moe[] = {"router", "experts_", "moe_", "act_rerun", NULL};
    static const char *const act[] = {"act_rerun", NULL}, *const norm[] = {"norm_rerun", NULL};
    assert_rel(cost.attn_fwd, fwd_of(&l, &fx.s, moe), 1e-12);
    l.rc_set = SP_RCM_MOE_ACT;
    sp_layer_price(&l, &fx.s, NULL, &cost);
    assert_rel(cost.attn_fwd, fwd_of(&l, &fx.s, act), 1e-12);
    l.rc_set = SP_RCM_LAYERNORM;
    sp_layer_price(&l, &fx.s, NULL, &cost);
    assert_rel(cost.attn_fwd, fwd_of(&l, &fx.s, norm), 1e-12);
    assert_rel(find_bytes(&l, "norm_rerun"), 2 * T * fx.m.d_model * 2, 1e-12);
    sp_layer_cost base;
    l.rc_set = 0;
    sp_layer_price(&l, &fx.s, NULL, &base);
    double own = 0; /* the re-run-only passes never enter the layer's own time */
    for (int i = 0; i < l.n; i++)
        if (l.op[i].part == SP_PART_MEMORY && !(l.op[i].flags & SP_OPF_RERUN_ONLY)) {
            sp_op_cost oc;
            sp_op_price(&l.op[i], &fx.s, NULL, &oc);
            own += oc.fwd;
        }
    assert_rel(base.fwd_mem, own, 1e-12);
    assert_true(base.fwd_mem == cost.fwd_mem);
}

/* Rule: MLA (DeepSeek-V3, a dense layer, TP 1, BF16, flash, s 4096): mla_up_proj discards the core's Q, K, V
 * (T·(qd + 2·kvd) 16-bit, Megatron's widths) and re-runs q_up and kv_up; layernorm discards MLA's input norm output
 * (T·h at 2 B). */
static void test_mla_up_proj(void **st)
{
    (void)st;
    layer_fixture fx;
    layer_setup(&fx, "deepseek-v3", "dgx-h100", 1, 4096);
    sp_layer_ops l;
    sp_layer_build_kind(&fx.c, SP_MIX_MLA, SP_FFN_DENSE, &l);
    double T = 4096, none = sp_layer_saved_set(&l, 0);
    assert_rel(none - sp_layer_saved_set(&l, SP_RCM_MLA_UP_PROJ), 2 * T * (fx.c.qd + 2 * fx.c.kvd), 1e-12);
    assert_rel(none - sp_layer_saved_set(&l, SP_RCM_LAYERNORM), 2 * T * fx.m.d_model, 1e-12);
    sp_layer_cost cost;
    l.rc_set = SP_RCM_MLA_UP_PROJ;
    sp_layer_price(&l, &fx.s, NULL, &cost);
    static const char *const up[] = {"q_up", "kv_up", NULL};
    assert_rel(cost.attn_fwd, fwd_of(&l, &fx.s, up), 1e-12);
}

/* Rule: the block method recomputes N layers of each stage's chunk and keeps the rest: Llama-3-8B (32 layers), PP 2,
 * N 4 of 16: a quarter of full recompute's re-run time, and per layer a quarter of the full checkpoint plus three
 * quarters of the bytes without recompute; N >= the chunk is uniform full recompute. */
static void test_block_method(void **st)
{
    (void)st;
    layer_fixture fx;
    layer_setup(&fx, "llama3-8b", "dgx-h100", 1, 4096);
    fx.p.pp = 2, fx.p.n_gpus = 2, fx.p.recompute = SP_RECOMPUTE_FULL;
    sp_train_result full, blk, none, all;
    sp_error e = {0};
    assert_int_equal(sp_train_eval(&fx.m, &fx.s, &fx.p, &full, &e), SP_OK);
    fx.p.recompute_layers = 4;
    assert_int_equal(sp_train_eval(&fx.m, &fx.s, &fx.p, &blk, &e), SP_OK);
    assert_rel(blk.t.recompute, 0.25 * full.t.recompute, 1e-12);
    fx.p.recompute_layers = 16;
    assert_int_equal(sp_train_eval(&fx.m, &fx.s, &fx.p, &all, &e), SP_OK);
    assert_true(all.step_time_s == full.step_time_s && all.mem.total == full.mem.total);
    fx.p.recompute_layers = 0, fx.p.recompute = SP_RECOMPUTE_NONE;
    assert_int_equal(sp_train_eval(&fx.m, &fx.s, &fx.p, &none, &e), SP_OK);
    double full_layers = full.mem.activations_layers, none_layers = none.mem.activations_layers;
    assert_rel(blk.mem.activations_layers, 0.25 * full_layers + 0.75 * none_layers, 1e-12);
}

/* Rule: module names are Megatron-Core's; an unknown one is refused naming the allowed ones; "none" is the empty
 * set; names print back in canonical order. */
static void test_module_names(void **st)
{
    (void)st;
    unsigned g = 0;
    sp_error e = {0};
    assert_int_equal(sp_recompute_modules_parse("moe_act,layernorm", &g, &e), SP_OK);
    assert_int_equal(g, SP_RCM_MOE_ACT | SP_RCM_LAYERNORM);
    char buf[128];
    assert_string_equal(sp_recompute_modules_name(g, buf, sizeof buf), "moe_act,layernorm");
    assert_int_equal(sp_recompute_modules_parse("none", &g, &e), SP_OK);
    assert_int_equal(g, SP_RCM_NONE_SET);
    sp_plan p;
    sp_plan_defaults(&p);
    assert_int_equal(sp_recompute_set(&p), SP_RCM_CORE_ATTN);
    p.recompute_modules = g;
    assert_int_equal(sp_recompute_set(&p), 0);
    assert_int_equal(sp_recompute_modules_parse("core_attn,bogus", &g, &e), SP_EINVAL);
    assert_string_equal(e.msg, "unknown module 'bogus'; allowed none or a comma list of core_attn, mlp, moe_act, "
                               "layernorm, mla_up_proj, moe, shared_experts, op_sac");
}

/* Rule: a stack's selective recompute modules are its default (megatron-core: Megatron-Core's ["core_attn"],
 * transformer_config.py:1940-1941, inherited by the release presets); a stack without the key leaves the model's
 * {core_attn}; a plan that names modules keeps them. */
static void test_stack_default(void **st)
{
    (void)st;
    sp_software sw, old;
    sp_error e = {0};
    assert_int_equal(sp_load_software(SP_DATA_DIR, "megatron-core-26.04", &sw, &e), SP_OK);
    assert_int_equal(sw.recompute_modules, SP_RCM_CORE_ATTN);
    assert_int_equal(sp_load_software(SP_DATA_DIR, "megatron-lm-2021", &old, &e), SP_OK);
    assert_int_equal(old.recompute_modules, 0);
    sp_plan p;
    sp_plan_defaults(&p);
    assert_int_equal(sp_software_apply(&sw, 0, &p, &e), SP_OK);
    assert_int_equal(p.recompute_modules, SP_RCM_CORE_ATTN);
    p.recompute_modules = SP_RCM_MLP;
    assert_int_equal(sp_software_apply(&sw, SP_KNOB_RECOMPUTE, &p, &e), SP_OK);
    assert_int_equal(p.recompute_modules, SP_RCM_MLP);
}

/* the layer's re-run forward and its re-run TP communication under the plan's selective set */
static void rerun_of(const sp_model *m, sp_system *s, const sp_plan *p, sp_layer_ops *l, sp_layer_cost *k)
{
    sp_param_count pc;
    sp_model_params(m, &pc);
    sp_layer_ctx c;
    sp_layer_ctx_init(&c, m, s, p, &pc, 1);
    sp_layer_build(&c, 0, l);
    sp_layer_price(l, s, NULL, k);
}

/* Rule: torchtitan's per-op SAC (op_sac, docs/model.md "Recompute modules") re-runs in a Llama-3-8B block (TP 2,
 * SP) the elementwise ops, the two SP all-gathers and every second projection mm in forward order -- wk (h x kvd/t),
 * wo (attn_out) and w3 (h x f/t) -- and nothing of SDPA or the reduce-scatters: the re-run is exactly the forward of
 * those ops, in BF16 and in FP8 alike (Float8Linear's torch.mm is an mm to the policy). It keeps only what the save
 * list names: the block input, SDPA's output and log-sum-exp, two reduce-scatter outputs, the odd mm's outputs. */
static void test_op_sac(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_system s = load_system("dgx-h100");
    s.overlap_tp = 0;
    sp_plan p;
    plan(&p, 2, 4096);
    p.recompute = SP_RECOMPUTE_SELECTIVE, p.recompute_modules = SP_RCM_OP_SAC;
    static const char *const re[] = {"sac_k", "attn_out", "sac_up", "elementwise", NULL};
    static const char *const ag[] = {"tp_attn_allgather", "tp_ffn_allgather", NULL};
    double T = 4096, h = m.d_model, kvd = (double)m.n_kv_heads * h / m.n_heads, f = m.ffn_dim;
    for (int fp8 = 0; fp8 < 2; fp8++) {
        p.dtype = fp8 ? SP_FP8 : SP_BF16;
        sp_layer_ops l;
        sp_layer_cost k;
        rerun_of(&m, &s, &p, &l, &k);
        double fr = fwd_of(&l, &s, re), fag = fwd_of(&l, &s, ag);
        assert_true(fr > 0 && fag > 0);
        assert_rel(k.attn_fwd, fr, 1e-12);
        assert_rel(k.rec_tp, fag, 1e-12);
        assert_rel(k.rec_flops, 2 * T * h * (kvd + h + f) / 2, 1e-12); /* 2·T·h·(kvd + qd + f)/t */
        /* kept: 2 B x (block input T·h/t + SDPA out T·h/t + two RS outputs 2·T·h/t + q, v, w1 T·(h + kvd + f)/t +
         * w2's pre-reduction T·h) + 4 B x T·heads/t */
        double kept = 2 * (T * h / 2 * 4 + T * (h + kvd + f) / 2 + T * h) + 4 * T * m.n_heads / 2;
        assert_rel(sp_layer_saved_set(&l, SP_RCM_OP_SAC), kept, 1e-12);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama_mlp_saved),      cmocka_unit_test(test_mlp_rerun_time),
        cmocka_unit_test(test_core_attn_is_selective), cmocka_unit_test(test_full_is_every_op),
        cmocka_unit_test(test_moe_modules_saved),    cmocka_unit_test(test_mla_up_proj),
        cmocka_unit_test(test_block_method),         cmocka_unit_test(test_module_names),
        cmocka_unit_test(test_stack_default),        cmocka_unit_test(test_op_sac),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
