/* The training step on layers that differ (ops.c builders for sliding, Mamba-2, gated-DeltaNet and MTP; step.c's
 * average over layer kinds; memory.c's per-kind activations): the general path reproduces the uniform one, and
 * each kind moves the step the way its arithmetic says. */
#include "testutil.h"
#include "ops.h"

static sp_train_result run_pp(const sp_model *m, int gpus, int tp, int ep, int seq, int zero, int pp)
{
    sp_system s = load_system("dgx-h100");
    sp_error e = {0};
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = gpus, p.tp = tp, p.ep = ep, p.seq_len = seq, p.zero = zero, p.global_batch = 64, p.pp = pp;
    sp_train_result r;
    if (sp_plan_resolve(&p, m, &s, &e) || sp_train_eval(m, &s, &p, &r, &e))
        fail_msg("%s", e.msg);
    assert_true(isfinite(r.step_time_s) && r.step_time_s > 0);
    assert_true(isfinite(r.mem.total) && r.mem.total > 0);
    return r;
}

static sp_train_result run(const sp_model *m, int gpus, int tp, int ep, int seq, int zero)
{
    return run_pp(m, gpus, tp, ep, seq, zero, 1);
}

/* A uniform model written out layer by layer takes the general path (ops per kind, averaged; per-kind
 * activations; average stage parameters) and must price exactly as the uniform path (TP 1: the general path
 * shards the norms too). */
static void same_as_uniform(const char *name, int ep)
{
    sp_model u = load_model(name), g = u;
    g.n_pattern = g.n_layers;
    for (int i = 0; i < g.n_layers; i++) {
        g.mixer[i] = (unsigned char)sp_model_mixer(&u, i);
        g.ffn[i] = (unsigned char)sp_model_ffn(&u, i);
    }
    sp_train_result a = run(&u, 8, 1, ep, 4096, 1), b = run(&g, 8, 1, ep, 4096, 1);
    assert_rel(b.step_time_s, a.step_time_s, 1e-9);
    assert_rel(b.mem.activations, a.mem.activations, 1e-9);
    assert_rel(b.mem.weights, a.mem.weights, 1e-9);
    assert_rel(b.mfu, a.mfu, 1e-9);
    a = run_pp(&u, 16, 1, ep, 4096, 1, 2), b = run_pp(&g, 16, 1, ep, 4096, 1, 2); /* per-stage pattern, 2 even stages */
    assert_rel(b.step_time_s, a.step_time_s, 1e-9);
}

static void test_general_path_equals_uniform(void **st)
{
    (void)st;
    same_as_uniform("llama3-8b", 1);
    same_as_uniform("qwen3-30b-a3b", 8);
}

/* Hybrid models are priced by each pipeline stage's own layers (step.c stage_pattern): Nemotron-3 Nano with its
 * layers reordered (attention layers first, then Mamba-2, then MoE) has the same kinds, so at PP 1 the same step;
 * at PP 4 its stages are no longer alike and the slowest stage sets the pace: slower than the real interleaving. */
static void test_stage_pattern(void **st)
{
    (void)st;
    sp_model n = load_model("nemotron-3-nano-30b-a3b"), g = n;
    int w = 0;
    for (int k = 0; k < SP_NMIXER; k++)
        for (int f = 0; f < SP_NFFN; f++)
            for (int i = 0; i < n.n_layers; i++)
                if (n.mixer[i] == k && n.ffn[i] == f)
                    g.mixer[w] = (unsigned char)k, g.ffn[w++] = (unsigned char)f;
    assert_int_equal(w, n.n_layers);
    sp_train_result a = run(&n, 8, 1, 8, 8192, 1), b = run(&g, 8, 1, 8, 8192, 1);
    assert_rel(b.step_time_s, a.step_time_s, 1e-9);
    a = run_pp(&n, 32, 1, 8, 8192, 1, 4), b = run_pp(&g, 32, 1, 8, 8192, 1, 4);
    print_message("Nemotron-3 Nano PP 4: interleaved %.4f s, sorted by kind %.4f s\n", a.step_time_s, b.step_time_s);
    assert_true(b.step_time_s > a.step_time_s * 1.01);
}

/* Layers [a, b) of n as a model of their own. */
static sp_model sub_model(const sp_model *n, int a, int b)
{
    sp_model g = *n;
    g.n_layers = g.n_pattern = b - a;
    for (int i = 0; i < b - a; i++)
        g.mixer[i] = n->mixer[a + i], g.ffn[i] = n->ffn[a + i];
    return g;
}

static sp_memory plan_memory(const sp_model *m, int pp)
{
    sp_system s = load_system("dgx-h100");
    sp_error e = {0};
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = pp, p.pp = pp, p.seq_len = 4096, p.global_batch = 64, p.recompute = SP_RECOMPUTE_NONE;
    if (sp_plan_resolve(&p, m, &s, &e))
        fail_msg("%s", e.msg);
    sp_memory mem;
    sp_train_memory(m, &s, &p, &mem);
    return mem;
}

/* Rule: a hybrid's pipeline stage holds its own layers (memory.c, the split step.c prices): Nemotron-3 Nano's 52
 * layers on PP 3 are stages of 18, 18 and 16 layers; the weights are 2 B x the heaviest stage's parameters (its own
 * layers, counted as a model of only them would count them, + the embedding on the first stage, the LM head on the
 * last), the activations those of the stage whose own layers x its micro-batches in flight (3 - i under 1F1B) are
 * the most. A model with the same layers sorted by kind holds the same at PP 1 and more at PP 4. */
static void test_stage_memory(void **st)
{
    (void)st;
    sp_model n = load_model("nemotron-3-nano-30b-a3b");
    assert_int_equal(n.n_layers, 52);
    int cut[4] = {0, 18, 36, 52};
    sp_param_count pc;
    sp_model_params(&n, &pc);
    double wmax = 0, amax = 0;
    for (int i = 0; i < 3; i++) {
        sp_model g = sub_model(&n, cut[i], cut[i + 1]);
        sp_param_count q;
        sp_model_params(&g, &q);
        double w = q.layers_total + (i == 0 ? pc.embedding : 0) + (i == 2 ? pc.lm_head : 0);
        double a = plan_memory(&g, 1).activations_layers * (3 - i);
        wmax = w > wmax ? w : wmax;
        amax = a > amax ? a : amax;
    }
    sp_memory mem = plan_memory(&n, 3);
    assert_rel(mem.weights, 2 * wmax, 1e-12);
    assert_rel(mem.activations_layers, amax, 1e-12);
    sp_model sorted = n;
    int w = 0;
    for (int k = 0; k < SP_NMIXER; k++)
        for (int f = 0; f < SP_NFFN; f++)
            for (int i = 0; i < n.n_layers; i++)
                if (n.mixer[i] == k && n.ffn[i] == f)
                    sorted.mixer[w] = (unsigned char)k, sorted.ffn[w++] = (unsigned char)f;
    assert_rel(plan_memory(&sorted, 1).total, plan_memory(&n, 1).total, 1e-12);
    sp_memory a4 = plan_memory(&n, 4), b4 = plan_memory(&sorted, 4);
    print_message("Nemotron-3 Nano PP 4 memory: interleaved %.3f GiB, sorted by kind %.3f GiB\n", a4.total / 1073741824.0,
                  b4.total / 1073741824.0);
    assert_true(b4.total > a4.total);
}

/* Sliding layers attend to their window: GPT-OSS at 16k tokens is faster with its 128-token window than with
 * every layer full (the window set to the context), and the difference is all in the attention core. */
static void test_sliding_window(void **st)
{
    (void)st;
    sp_model w = load_model("gpt-oss-20b"), f = w;
    f.sliding_window = 1 << 20;
    sp_train_result a = run(&w, 8, 1, 8, 16384, 1), b = run(&f, 8, 1, 8, 16384, 1);
    assert_true(a.step_time_s < b.step_time_s);
    assert_true(a.model_flops < b.model_flops);
}

/* MTP modules add their layer and an LM-head pass on the last stage: Nemotron 3.5 Lightning (Nano + 2 MTP
 * layers) costs more than Nano, by less than two of its 52 layers plus two LM heads could. */
static void test_mtp_cost(void **st)
{
    (void)st;
    sp_model nano = load_model("nemotron-3-nano-30b-a3b"), light = load_model("nemotron-3.5-lightning-30b-a3b");
    sp_train_result a = run(&nano, 8, 1, 8, 8192, 1), b = run(&light, 8, 1, 8, 8192, 1);
    assert_true(b.step_time_s > a.step_time_s);
    assert_true(b.step_time_s < 1.25 * a.step_time_s);
    assert_true(b.mem.weights > a.mem.weights);
}

/* Rule: MTP depths (Megatron-Core mtp_num_layers with mtp_use_repeated_layer: the model's MTP module applied N
 * times, its weights shared; docs/model.md "MTP depths"): each depth adds the module's layer, its 2h -> h projection
 * and one LM-head pass, and no weights. Nemotron-3 Super (one "*E" module) at 4096 tokens: the step is linear in
 * the depths, and one depth is 71,303,168 attention-projection + 67,108,864 attention-core (4·4096·32·128)
 * + 351,272,960 MoE (2·(22·2·1024·2688 routed + 2·2·4096·2688 h-wide shared + 4096·512 router + 2·4096·1024
 * latent)) + 67,108,864 eh_proj (4·4096^2) + 1,073,741,824 LM head (2·131072·4096) = 1,630,535,680 forward FLOPs
 * per token,
 * x3 per trained token in the step's model FLOPs. A model without an MTP module has none to repeat. */
static void test_mtp_depths(void **st)
{
    (void)st;
    sp_model s = load_model("nemotron-3-super-120b-a12b");
    sp_system sys = load_system("dgx-h100");
    sp_train_result r[4];
    for (int d = 1; d <= 3; d++) {
        sp_plan p;
        sp_plan_defaults(&p);
        p.n_gpus = 64, p.ep = 64, p.seq_len = 4096, p.zero = 1, p.global_batch = 64, p.mtp_layers = d;
        sp_error e = {0};
        if (sp_plan_resolve(&p, &s, &sys, &e) || sp_train_eval(&s, &sys, &p, &r[d], &e))
            fail_msg("%s", e.msg);
    }
    assert_true(r[2].step_time_s > r[1].step_time_s);
    assert_rel(r[3].step_time_s - r[2].step_time_s, r[2].step_time_s - r[1].step_time_s, 1e-9);
    assert_rel(r[2].mem.weights, r[1].mem.weights, 1e-12);
    double one = sp_model_fwd_flops_mtp(&s, 4096, 2) - sp_model_fwd_flops_mtp(&s, 4096, 1);
    assert_rel(one, 1630535680.0, 1e-12);
    assert_rel(r[2].model_flops - r[1].model_flops, 3.0 * one * 64 * 4096, 1e-9);
    assert_rel(sp_model_fwd_flops_mtp(&s, 4096, 1), sp_model_fwd_flops_per_token(&s, 4096), 1e-15);
    sp_model l = load_model("llama3-8b");
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 8, p.mtp_layers = 2;
    sp_error e = {0};
    assert_int_equal(sp_plan_resolve(&p, &l, &sys, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "plan: mtp_layers = 2 needs a model with an MTP module to repeat; 'Llama-3-8B' has none"));
}

/* Rule: LatentMoE's shared experts and latent projections as Megatron-Core builds them (core_v0.17.0
 * moe_layer.py): the shared experts run on the h-wide hidden states (params and FLOPs h-wide: Super's 2 shared
 * experts of 2688 = 2·2·4096·2688 = 44,040,192 parameters per MoE layer, not the latent width's 11,010,048), and
 * fc1/fc2_latent_proj are duplicated over TP, each rank running them on its T/t sequence-parallel tokens, fc1 inside
 * the moe_preprocess CUDA-graph scope. */
static void test_latent_moe_layout(void **st)
{
    (void)st;
    sp_model s = load_model("nemotron-3-super-120b-a12b");
    sp_param_count pc;
    sp_model_params(&s, &pc);
    double router_latent = 4096.0 * 512 + 2.0 * 4096 * 1024;
    assert_rel(pc.moe_per_layer - s.n_experts * pc.expert, 2.0 * 2 * 4096 * 2688 + router_latent, 1e-12);
    sp_system sys = load_system("gb200-nvl72");
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 64, p.tp = 2, p.ep = 64, p.etp = 1, p.ep_fold = 1, p.seq_parallel = 1, p.seq_len = 8192;
    p.global_batch = 64, p.zero = 1, p.cuda_graphs = SP_GRAPH_MOE_PREPROCESS;
    sp_error e = {0};
    if (sp_plan_resolve(&p, &s, &sys, &e))
        fail_msg("%s", e.msg);
    sp_layer_ctx c;
    sp_layer_ctx_init(&c, &s, &sys, &p, &pc, 1);
    sp_layer_ops l;
    sp_layer_build_kind(&c, SP_MIX_NONE, SP_FFN_MOE, &l);
    int found = 0;
    for (int i = 0; i < l.n; i++)
        if (!strcmp(l.op[i].name, "latent_down") || !strcmp(l.op[i].name, "latent_up")) {
            assert_rel(l.op[i].u.gemm.m, 4096, 0); /* 8192 tokens / TP 2 */
            assert_rel(l.op[i].u.gemm.n * l.op[i].u.gemm.k, 4096.0 * 1024, 0);
            assert_int_equal(l.op[i].graph, strcmp(l.op[i].name, "latent_down") ? SP_GRAPH_MOE
                                                                                 : SP_GRAPH_MOE_PREPROCESS);
            found++;
        }
    assert_int_equal(found, 2);
}

/* Mamba-2 and gated-DeltaNet layers cost the same per token at any context (their FLOPs are constant in s): on
 * Qwen3-Next only the 12 attention layers' core grows, so doubling the context grows model FLOPs per token by
 * exactly their share. */
static void test_recurrent_layers_linear(void **st)
{
    (void)st;
    sp_model q = load_model("qwen3-next-80b-a3b");
    double f1 = sp_model_fwd_flops_per_token(&q, 4096), f2 = sp_model_fwd_flops_per_token(&q, 8192);
    assert_rel(f2 - f1, 12 * 4.0 * 16 * 256 * 4096, 1e-12);
    sp_train_result r = run(&q, 32, 1, 32, 4096, 1);
    assert_true(r.mfu > 0 && r.mfu < 1);
}

/* Mamba-1 (Jamba 1.5 Mini: 1 attention layer in 8, MoE every other layer): priced from its ops; its layers' time
 * is linear in the context (the selective scan), so at a fixed 16k tokens per GPU, 4 sequences of 4k and 1 of 16k
 * differ only by the attention layers' quadratic core: by less than all-attention Llama-3-8B's (per token the longer
 * sequences may even be faster: larger GEMMs, fewer launches). */
static void test_mamba1(void **st)
{
    (void)st;
    sp_model j = load_model(SP_DATA_DIR "/../tests/configs/jamba-1.5-mini.json"), l = load_model("llama3-8b");
    sp_train_result a = run(&j, 8, 1, 8, 4096, 1), b = run(&j, 8, 1, 8, 16384, 1);
    assert_true(a.mfu > 0 && a.mfu < 1 && a.mem.activations > 0);
    sp_train_result c = run(&l, 8, 1, 1, 4096, 1), d = run(&l, 8, 1, 1, 16384, 1);
    /* run() keeps 64 sequences per step: per token, the 16k step over the 4k step */
    double rj = b.step_time_s / 4 / a.step_time_s, rl = d.step_time_s / 4 / c.step_time_s;
    print_message("per-token step 4k -> 16k: Jamba x%.3f, Llama-3-8B x%.3f\n", rj, rl);
    assert_true(rj < rl);
}

/* LatentMoE: routed experts in the latent width send latent-wide tokens: Nemotron-3 Super's expert all-to-all
 * is 1024/4096 of what the same model without the latent projections would send. */
static void test_latent_moe(void **st)
{
    (void)st;
    sp_model s = load_model("nemotron-3-super-120b-a12b");
    sp_train_result r = run(&s, 64, 1, 64, 4096, 1);
    assert_true(r.t.ep_comm > 0);
    assert_true(r.mfu > 0 && r.mfu < 1);
}

/* What the step still cannot price is refused by name; context parallelism over recurrent layers too. */
static void test_refusals(void **st)
{
    (void)st;
    sp_model n = load_model("nemotron-3-nano-30b-a3b"), s = load_model("nemotron-3-super-120b-a12b");
    sp_plan p;
    sp_plan_defaults(&p);
    p.cp = 2;
    sp_error e = {0};
    assert_int_equal(sp_model_train_check(&n, &p, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "context parallelism (--cp 2) over Mamba/DeltaNet layers"));
    assert_int_equal(sp_model_train_check(&n, NULL, &e), SP_OK);
    assert_int_equal(sp_model_train_check(&s, NULL, &e), SP_OK); /* LatentMoE priced (ops.c) */
    assert_int_equal(sp_model_step_check(&s, "inference", &e), SP_OK); /* LatentMoE at serving, MTP not loaded */
    sp_model j = load_model(SP_DATA_DIR "/../tests/configs/jamba-1.5-mini.json");
    assert_int_equal(sp_model_train_check(&j, NULL, &e), SP_OK); /* Mamba-1 priced (ops.c sp_ops_mamba1) */
    assert_int_equal(sp_model_train_check(&j, &p, &e), SP_EINVAL); /* but not under CP */
    assert_int_equal(sp_model_step_check(&n, "inference", &e), SP_OK); /* inference prices Mamba-2 and Mamba-1 */
    assert_int_equal(sp_model_step_check(&j, "inference", &e), SP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_general_path_equals_uniform),
        cmocka_unit_test(test_stage_pattern),
        cmocka_unit_test(test_stage_memory), cmocka_unit_test(test_sliding_window), cmocka_unit_test(test_mamba1),
        cmocka_unit_test(test_mtp_cost), cmocka_unit_test(test_recurrent_layers_linear),
        cmocka_unit_test(test_refusals),          cmocka_unit_test(test_latent_moe), cmocka_unit_test(test_mtp_depths),
        cmocka_unit_test(test_latent_moe_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
