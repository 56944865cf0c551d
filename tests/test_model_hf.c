/* Model presets and real Hugging Face configs against published parameter counts; the config reader's rules
 * (transformers' per-model_type defaults, refusals, Infinity/NaN, text_config); per-layer-kind arithmetic. */
#include "testutil.h"

#include <jansson.h>
#include <stdlib.h>

#define CONFIGS SP_DATA_DIR "/../tests/configs/"

static sp_model load_info(const char *name, sp_model_info *info)
{
    sp_model m;
    sp_error e = {0};
    if (sp_load_model_info(SP_DATA_DIR, name, &m, info, &e) != SP_OK)
        fail_msg("%s", e.msg);
    return m;
}

static sp_model load(const char *name) { return load_info(name, NULL); }

/* Parses text; returns the status and leaves the message in e. */
static sp_status parse(const char *text, sp_model *m, sp_model_info *info, sp_error *e)
{
    memset(e, 0, sizeof *e);
    return sp_parse_model_info("t.json", text, strlen(text), m, info, e);
}

static void expect_refused(const char *text, const char *want)
{
    sp_model m;
    sp_error e;
    if (parse(text, &m, NULL, &e) == SP_OK)
        fail_msg("accepted: %s", text);
    if (!strstr(e.msg, want))
        fail_msg("message '%s' lacks '%s'", e.msg, want);
}

/* A published (total, active) pair. excl_emb: the publisher's active count leaves out the input embedding
 * (OpenAI for gpt-oss, NVIDIA for Nemotron: "3.2B active, 3.6B with embeddings"). tol: 1 % unless the only
 * published figure is a rounded label, then the label's rounding (see docs/model.md, "Published counts").
 * excl_emb 2: the label counts neither the embedding nor the LM head. */
typedef struct {
    const char *name;
    double total, active;
    int excl_emb;
    double tol_total, tol_active;
} published;

static void check_published(const published *c, size_t n, const char *dir)
{
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", dir, c[i].name);
        sp_model m = load(dir[0] ? path : c[i].name);
        sp_param_count pc;
        sp_model_params(&m, &pc);
        double act = pc.active - (c[i].excl_emb ? pc.embedding : 0) - (c[i].excl_emb == 2 ? pc.lm_head : 0);
        print_message("%-34s total %8.3fB (published %8.3fB) active %7.3fB (published %7.3fB)\n", c[i].name,
                      pc.total / 1e9, c[i].total / 1e9, act / 1e9, c[i].active / 1e9);
        assert_rel(pc.total, c[i].total, c[i].tol_total);
        if (c[i].active > 0)
            assert_rel(act, c[i].active, c[i].tol_active);
    }
}

/* Every preset named in the Megatron-Core validation CSV and issue 25; sources in each preset's "source". */
static void test_presets_published(void **st)
{
    (void)st;
    static const published c[] = {
        {"qwen3-235b-a22b", 235e9, 22e9, 0, 0.01, 0.01},     /* Qwen3 report Table 2 */
        {"qwen3-30b-a3b", 30.5e9, 3.3e9, 0, 0.01, 0.02},      /* model card "30.5B, 3.3B": 3.35B, label rounding */
        {"gpt-oss-120b", 116.83e9, 5.13e9, 1, 0.01, 0.01},   /* arXiv:2508.10925 Table 1 */
        {"gpt-oss-20b", 20.91e9, 3.61e9, 1, 0.01, 0.01},
        {"nemotron-3-nano-30b-a3b", 31.6e9, 3.2e9, 1, 0.01, 0.02}, /* card: 31.6B total, 3.2B (3.6B w/ emb.) */
        {"nemotron-3.5-lightning-30b-a3b", 31.6e9, 3.2e9, 1, 0.01, 0.02},
        {"nemotron-3-super-120b-a12b", 120e9, 12e9, 1, 0.01, 0.05}, /* label "120B-A12B" only (NVIDIA's count
                                          without the input embedding, as Nano's): we count 120.67B, 12.23B active
                                          (h-wide shared experts), preset reconstructed */
        {"qwen3-next-80b-a3b", 80e9, 3e9, 2, 0.01, 0.17},  /* card: "80B total, 3B activated": a label (we
                                                              count 3.25B without embedding and head, 3.87B with) */
        {"kimi-k2", 1.04e12, 32.6e9, 0, 0.015, 0.01},       /* arXiv:2507.20534: 1.04T, 32.6B; we count 1.026T */
        {"deepseek-v3", 671e9, 37e9, 1, 0.01, 0.015},       /* report: 671B, 37B */
        {"llama2-7b", 6.74e9, 0, 0, 0.01, 0},                {"llama2-13b", 13.02e9, 0, 0, 0.01, 0},
        {"llama2-70b", 68.98e9, 0, 0, 0.01, 0},              {"llama3-8b", 8.03e9, 0, 0, 0.01, 0},
        {"llama3-70b", 70.55e9, 0, 0, 0.01, 0},              {"llama3.1-405b", 405.85e9, 0, 0, 0.01, 0},
        {"mixtral-8x22b", 141e9, 39e9, 0, 0.01, 0.01},
        {"llama4-scout", 109e9, 17e9, 0, 0.015, 0.015},     /* 109B includes the vision encoder (not counted) */
        {"llama4-maverick", 400e9, 17e9, 0, 0.01, 0.015},   /* "17B active": label */
        {"gemma3-27b", 27.016e9, 0, 0, 0.01, 0},            /* Gemma 3 report: 1,416M emb. + 25,600M */
        {"qwen2.5-72b", 72.7e9, 0, 0, 0.01, 0},              {"phi3.5-moe", 41.9e9, 6.6e9, 0, 0.01, 0.01},
        {"olmoe-1b-7b", 6.92e9, 1.28e9, 0, 0.01, 0.01},
    };
    check_published(c, sizeof c / sizeof *c, "");
}

/* Real config.json files of open model families (tests/configs/README.md: provenance and figures). */
static void test_real_configs(void **st)
{
    (void)st;
    static const published c[] = {
        {"llama-3-8b.json", 8.03e9, 0, 0, 0.01, 0},                  /* llama */
        {"mistral-7b-v0.1.json", 7.24e9, 0, 0, 0.01, 0},             /* mistral: every layer slides (4096) */
        {"mixtral-8x7b-v0.1.json", 46.7e9, 12.9e9, 0, 0.01, 0.01},   /* mixtral */
        {"qwen2.5-7b.json", 7.61e9, 0, 0, 0.01, 0},                  /* qwen2: q/k/v biases */
        {"qwen1.5-moe-a2.7b.json", 14.3e9, 2.7e9, 0, 0.01, 0.01},    /* qwen2_moe: shared_expert_intermediate_size */
        {"qwen3-8b.json", 8.2e9, 0, 0, 0.01, 0},                     /* qwen3: QK-norm */
        {"qwen3-30b-a3b.json", 30.5e9, 3.3e9, 0, 0.01, 0.02},        /* qwen3_moe */
        {"qwen3-next-80b-a3b.json", 80e9, 3e9, 2, 0.01, 0.17},       /* qwen3_next: gated DeltaNet; "3B" label */
        {"gemma-7b.json", 8.54e9, 0, 0, 0.01, 0},                    /* gemma: tied by default, head_dim 256 */
        {"gemma-2-9b.json", 9.24e9, 0, 0, 0.01, 0},                  /* gemma2: tied by default, sliding */
        {"gemma-3-27b.json", 27.016e9, 0, 0, 0.01, 0},               /* gemma3: text_config, vision apart */
        {"llama-4-scout-17b-16e.json", 109e9, 17e9, 0, 0.015, 0.015}, /* llama4: text_config; 109B with vision */
        {"deepseek-v3.json", 671e9, 37e9, 1, 0.01, 0.015},           /* deepseek_v3 with its MTP module */
        {"kimi-k2-instruct.json", 1.04e12, 32.6e9, 0, 0.015, 0.01},  /* kimi_k2 */
        {"gpt-oss-120b.json", 116.83e9, 5.13e9, 1, 0.01, 0.01},      /* gpt_oss: sinks, biases, sliding */
        {"nemotron-3-nano-30b-a3b.json", 31.6e9, 3.2e9, 1, 0.01, 0.02}, /* nemotron_h: Mamba-2 hybrid, Infinity */
        {"phi-3.5-moe-instruct.json", 41.9e9, 6.6e9, 0, 0.01, 0.01}, /* phimoe: LayerNorm, attention biases */
        {"olmoe-1b-7b-0924.json", 6.92e9, 1.28e9, 0, 0.01, 0.01},    /* olmoe: full-width QK-norm */
        {"phi-3-mini-4k-instruct.json", 3.82e9, 0, 0, 0.01, 0},      /* phi3: sliding window 2047 */
        {"jamba-1.5-mini.json", 52e9, 12e9, 0, 0.01, 0.01},          /* jamba: Mamba-1 + attention 1 in 8, MoE 1 in 2 */
        {"olmo-2-1124-7b.json", 7.30e9, 0, 0, 0.01, 0},              /* olmo2 */
        {"gpt2.json", 124.44e6, 0, 0, 0.01, 0},                      /* gpt2: tied, learned positions, biases */
    };
    check_published(c, sizeof c / sizeof *c, CONFIGS);
}

/* DeepSeek-V3's MTP module: the checkpoint holds 685B (model card: "671B main model weights and 14B of the MTP
 * module"); the module's tensors include its own copies of the embedding and head (0.93B each), which
 * scaleplan shares: main + module + the two copies must make the checkpoint's 685B (rounded to 1B: 0.1 %). */
static void test_mtp_module(void **st)
{
    (void)st;
    sp_model m = load(CONFIGS "deepseek-v3.json");
    sp_param_count pc;
    sp_model_params(&m, &pc);
    assert_int_equal(m.n_mtp, 1);
    assert_rel(pc.total + pc.mtp + pc.embedding + pc.lm_head, 685e9, 0.001);
    double f1 = sp_model_fwd_flops_per_token(&m, 4096);
    m.n_mtp = 0;
    double f0 = sp_model_fwd_flops_per_token(&m, 4096);
    /* the module adds its 2h -> h projection, one MLA + MoE layer and an LM-head pass */
    assert_true(f1 > f0 && f1 - f0 < 0.1 * f0);
}

/* transformers' defaults per model_type: Gemma ties when the key is absent, Llama does not. */
static void test_tie_defaults(void **st)
{
    (void)st;
    const char *g = "{\"model_type\":\"gemma\",\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,"
                    "\"intermediate_size\":128,\"vocab_size\":1000}";
    const char *l = "{\"model_type\":\"llama\",\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,"
                    "\"intermediate_size\":128,\"vocab_size\":1000}";
    sp_model m;
    sp_error e;
    assert_int_equal(parse(g, &m, NULL, &e), SP_OK);
    assert_int_equal(m.tied_embeddings, 1);
    assert_int_equal(parse(l, &m, NULL, &e), SP_OK);
    assert_int_equal(m.tied_embeddings, 0);
}

/* Rule: a parallel block (attention and MLP from the same input, added together) is read from GPT-NeoX's
 * use_parallel_residual and Falcon's / PaLM-style parallel_attn, and is the default of the families whose block is
 * parallel by construction (gptj: modeling_gptj.py GPTJBlock; gpt_neox: configuration_gpt_neox.py
 * use_parallel_residual=True); a key set to false turns it off; Llama stays sequential. */
static void test_parallel_block(void **st)
{
    (void)st;
    const char *base = "\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,\"intermediate_size\":128,"
                       "\"vocab_size\":1000";
    char buf[512];
    sp_model m;
    sp_error e;
    const struct {
        const char *type, *extra;
        int want;
    } c[] = {{"llama", "", 0}, {"llama", ",\"parallel_attn\":true", 1}, {"gptj", "", 1}, {"gpt_neox", "", 1},
             {"gpt_neox", ",\"use_parallel_residual\":false", 0}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        snprintf(buf, sizeof buf, "{\"model_type\":\"%s\",%s%s}", c[i].type, base, c[i].extra);
        assert_int_equal(parse(buf, &m, NULL, &e), SP_OK);
        assert_int_equal(m.parallel_block, c[i].want);
    }
}

/* Rule: dropout is read from the config (attention_dropout / attn_pdrop / attention_probs_dropout_prob; hidden_dropout
 * / resid_pdrop / hidden_dropout_prob / dropout / embd_pdrop), else the family's default: GPT-2 0.1 both (GPT2Config),
 * OPT 0.1 hidden and 0 attention, Llama none; a value outside 0..1 is refused. */
static void test_dropout(void **st)
{
    (void)st;
    const char *base = "\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,\"vocab_size\":1000";
    struct {
        const char *type, *extra;
        double hidden, attn;
    } c[] = {{"gpt2", "", 0.1, 0.1},
             {"gpt2", ",\"resid_pdrop\":0.0,\"embd_pdrop\":0.0,\"attn_pdrop\":0.0", 0, 0},
             {"opt", "", 0.1, 0},
             {"llama", "", 0, 0},
             {"llama", ",\"attention_dropout\":0.05", 0, 0.05},
             {"bloom", ",\"hidden_dropout\":0.2", 0.2, 0},
             {"mpt", ",\"resid_pdrop\":0.1,\"emb_pdrop\":0.3", 0.1, 0}};
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char j[512];
        snprintf(j, sizeof j, "{\"model_type\":\"%s\",%s%s}", c[i].type, base, c[i].extra);
        sp_model m;
        sp_model_info info;
        sp_error e;
        assert_int_equal(parse(j, &m, &info, &e), SP_OK);
        assert_true(m.hidden_dropout == c[i].hidden && m.attn_dropout == c[i].attn);
        assert_null(strstr(info.ignored, "pdrop"));
    }
    expect_refused("{\"model_type\":\"llama\",\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,"
                   "\"vocab_size\":1000,\"attention_dropout\":1.5}", "field 'attention_dropout': expected a probability 0..1");
}

/* Rule: the gated activation's clamp is read from swiglu_limit, else the family's default: gpt_oss 7.0
 * (transformers@02b8f42b4240 configuration_gpt_oss.py), every other family none; 0 switches it off; a negative value is
 * refused naming the field. The real GPT-OSS-120B config states 7.0. */
static void test_act_clamp(void **st)
{
    (void)st;
    const char *base = "\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,\"head_dim\":16,"
                       "\"vocab_size\":1000,\"num_local_experts\":4,\"num_experts_per_tok\":2";
    struct {
        const char *type, *extra;
        double want;
    } c[] = {{"gpt_oss", "", 7.0}, {"gpt_oss", ",\"swiglu_limit\":3.5", 3.5}, {"gpt_oss", ",\"swiglu_limit\":0", 0},
             {"mixtral", "", 0}, {"mixtral", ",\"swiglu_limit\":10", 10}};
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char j[512];
        snprintf(j, sizeof j, "{\"model_type\":\"%s\",%s%s}", c[i].type, base, c[i].extra);
        sp_model m;
        sp_model_info info;
        sp_error e;
        assert_int_equal(parse(j, &m, &info, &e), SP_OK);
        assert_true(m.act_clamp == c[i].want);
        assert_null(strstr(info.ignored, "swiglu_limit"));
    }
    assert_true(load(CONFIGS "gpt-oss-120b.json").act_clamp == 7.0);
    expect_refused("{\"model_type\":\"gpt_oss\",\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,"
                   "\"vocab_size\":1000,\"num_local_experts\":4,\"num_experts_per_tok\":2,\"swiglu_limit\":-1}",
                   "field 'swiglu_limit': expected a number >= 0");
}

/* Rule: YaRN's concentration factor on RoPE (Megatron-Core's mscale) from rope_scaling / rope_parameters of type yarn:
 * 0.1 ln(factor) + 1, or mscale(factor, mscale) / mscale(factor, mscale_all_dim) when both are given (DeepSeek-V3's
 * 1 / 1: exactly 1); the gpt_oss family's default is yarn with factor 32; other types (llama3) and no scaling give 0;
 * a yarn entry without a factor scales nothing (1, tests/cli/bad.sh keeps such a config readable). */
static void test_rope_mscale(void **st)
{
    (void)st;
    const char *base = "\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,\"head_dim\":16,"
                       "\"vocab_size\":1000,\"num_local_experts\":4,\"num_experts_per_tok\":2";
    struct {
        const char *type, *extra;
        double want;
    } c[] = {{"gpt_oss", "", 0.1 * log(32.0) + 1},
             {"mixtral", ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}", 0.1 * log(4.0) + 1},
             {"mixtral", ",\"rope_scaling\":{\"type\":\"yarn\",\"factor\":40,\"mscale\":1.0,\"mscale_all_dim\":1.0}", 1.0},
             {"mixtral", ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":40,\"mscale\":0.707,\"mscale_all_dim\":1.0}",
              (0.0707 * log(40.0) + 1) / (0.1 * log(40.0) + 1)},
             {"mixtral", ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8}", 0},
             {"mixtral", ",\"rope_scaling\":{\"type\":\"yarn\"}", 1.0},
             {"mixtral", "", 0}};
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char j[640];
        snprintf(j, sizeof j, "{\"model_type\":\"%s\",%s%s}", c[i].type, base, c[i].extra);
        sp_model m;
        sp_model_info info;
        sp_error e;
        assert_int_equal(parse(j, &m, &info, &e), SP_OK);
        assert_near(m.rope_mscale, c[i].want, 1e-12);
    }
    assert_near(load(CONFIGS "gpt-oss-120b.json").rope_mscale, 0.1 * log(32.0) + 1, 1e-12);
    assert_near(load(CONFIGS "deepseek-v3.json").rope_mscale, 1.0, 1e-12);
}

static void test_refusals(void **st)
{
    (void)st;
    expect_refused("{\"model_type\":\"llama\",\"num_hidden_layers\":2,\"hidden_size\":4096,\"num_attention_heads\":30,"
                   "\"vocab_size\":1000}", "not a multiple of num_attention_heads 30 and no head_dim");
    expect_refused("{\"model_type\":\"mixtral\",\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,"
                   "\"num_local_experts\":8,\"vocab_size\":1000}", "needs 'num_experts_per_tok'");
    expect_refused("{\"model_type\":\"llama\",\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,"
                   "\"vocab_size\":1000,\"xyz\":3}", "key 'xyz' is not known");
    expect_refused("{\"model_type\":\"falcon\",\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,"
                   "\"vocab_size\":1000}", "model_type 'falcon' is not modelled");
    expect_refused("{\"model_type\":\"llama\",\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,"
                   "\"vocab_size\":1000,\"parallel_block\":true}", "key 'parallel_block' changes the architecture and is not modelled");
    expect_refused("{\"model_type\":\"llama\",\"num_hidden_layers\":2,\"hidden_size\":Infinity,\"num_attention_heads\":4,"
                   "\"vocab_size\":1000}", "field 'hidden_size': expected an integer");
    expect_refused("{\"model_type\":\"qwen2\",\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,"
                   "\"vocab_size\":1000,\"use_sliding_window\":true,\"sliding_window\":16}", "use_sliding_window");
}

/* Python's json writes Infinity/NaN: accepted in keys that do not matter, never reaching the model. */
static void test_nonfinite_tokens(void **st)
{
    (void)st;
    const char *t = "{\"model_type\":\"nemotron_h\",\"hybrid_override_pattern\":\"M*-E\",\"hidden_size\":64,"
                    "\"num_attention_heads\":4,\"head_dim\":16,\"vocab_size\":1000,\"n_routed_experts\":4,"
                    "\"num_experts_per_tok\":2,\"moe_intermediate_size\":32,\"intermediate_size\":48,"
                    "\"mamba_num_heads\":8,\"mamba_head_dim\":16,\"ssm_state_size\":16,\"n_groups\":2,"
                    "\"time_step_limit\":[0.0, Infinity],\"time_step_min\":NaN,\"name\":\"x NaN Infinity\"}";
    sp_model m;
    sp_model_info info;
    sp_error e;
    assert_int_equal(parse(t, &m, &info, &e), SP_OK);
    assert_string_equal(m.name, "x NaN Infinity");
    assert_int_equal(m.n_layers, 4);
    assert_int_equal(sp_model_mixer(&m, 0), SP_MIX_MAMBA2);
    assert_int_equal(sp_model_ffn(&m, 0), SP_FFN_NONE);
    assert_int_equal(sp_model_mixer(&m, 1), SP_MIX_ATTN);
    assert_int_equal(sp_model_ffn(&m, 2), SP_FFN_DENSE);
    assert_int_equal(sp_model_ffn(&m, 3), SP_FFN_MOE);
    assert_non_null(strstr(info.ignored, "time_step_limit"));
}

/* Multimodal configs: the language model under text_config; the vision tower reported, not counted. */
static void test_text_config(void **st)
{
    (void)st;
    sp_model_info info;
    sp_model m = load_info("gemma3-27b", &info);
    assert_int_equal(info.text_config, 1);
    assert_int_equal(info.vision_not_counted, 1);
    assert_int_equal(m.tied_embeddings, 1); /* gemma3_text default */
    assert_int_equal(m.n_pattern, 62);
    int swa = 0;
    for (int i = 0; i < m.n_layers; i++)
        swa += sp_model_mixer(&m, i) == SP_MIX_SWA;
    assert_int_equal(swa, 62 - 10); /* sliding_window_pattern 6: every 6th layer global */
}

/* Sliding layers attend to min(s, window); Mamba layers cost the same at any s; caches follow. */
static void test_layer_kind_arithmetic(void **st)
{
    (void)st;
    sp_model g = load("gpt-oss-120b"), n = load("nemotron-3-nano-30b-a3b");
    /* gpt-oss: 18 full layers grow by 4·a·d_head per token of context, the 18 sliding ones stop at 128 */
    double d = sp_model_fwd_flops_per_token(&g, 8192) - sp_model_fwd_flops_per_token(&g, 4096);
    assert_rel(d, 18 * 4.0 * 64 * 64 * 4096, 1e-12);
    /* Nemotron: only the 6 attention layers depend on s */
    d = sp_model_fwd_flops_per_token(&n, 8192) - sp_model_fwd_flops_per_token(&n, 4096);
    assert_rel(d, 6 * 4.0 * 32 * 128 * 4096, 1e-12);
    double tok, seq;
    sp_model_cache_bytes(&n, 8192, 2, &tok, &seq);
    assert_rel(tok, 6 * 2.0 * 2 * 128 * 2, 1e-12); /* 6 GQA layers, 2 KV heads of 128, bf16 */
    /* 23 Mamba layers: 64 x 64 x 128 fp32 state + 3 conv steps of (4096 + 2·8·128) bf16 */
    assert_rel(seq, 23 * (4.0 * 4096 * 128 + 2.0 * 3 * (4096 + 2 * 8 * 128)), 1e-12);
    sp_model_cache_bytes(&g, 8192, 2, &tok, &seq);
    assert_rel(tok, 18 * 2.0 * 8 * 64 * 2, 1e-12);
    assert_rel(seq, 18 * 2.0 * 8 * 64 * 2 * 128, 1e-12);
}

/* The inference step prices every mixer kind (sliding, Mamba-1/2, gated DeltaNet), LatentMoE (ops.c
 * sp_ops_moe_serving) and models with MTP modules (not loaded at serving: docs/inference.md); uniform layouts stay
 * uniform. (tests/test_infer.c prices them.) */
static void test_step_check(void **st)
{
    (void)st;
    sp_error e = {0};
    sp_model g = load("gpt-oss-20b"), n = load("nemotron-3-nano-30b-a3b"), q = load("qwen3-next-80b-a3b");
    sp_model mv = load("llama4-maverick"), ds = load("deepseek-v3"), qw = load("qwen3-235b-a22b");
    sp_model su = load("nemotron-3-super-120b-a12b"), li = load("nemotron-3.5-lightning-30b-a3b");
    assert_int_equal(sp_model_step_check(&g, "inference", &e), SP_OK);
    assert_int_equal(sp_model_step_check(&n, "inference", &e), SP_OK);
    assert_int_equal(sp_model_step_check(&q, "inference", &e), SP_OK);
    assert_int_equal(sp_model_step_check(&mv, "inference", &e), SP_OK);
    assert_int_equal(sp_model_step_check(&su, "inference", &e), SP_OK);
    assert_int_equal(sp_model_step_check(&li, "inference", &e), SP_OK);
    assert_int_equal(mv.n_pattern, 48); /* dense and MoE layers interleaved */
    assert_int_equal(ds.n_pattern, 0);
    assert_int_equal(ds.first_dense_layers, 3);
    assert_int_equal(qw.n_pattern, 0);
    assert_int_equal(sp_model_step_check(&qw, "inference", &e), SP_OK);
}

/* The JSON result carries the contract's keys and no NaN. */
static void test_model_json(void **st)
{
    (void)st;
    sp_model_info info;
    sp_model m = load_info("nemotron-3-super-120b-a12b", &info);
    struct json_t *o = sp_model_json(&m, &info, 4096, 2);
    assert_non_null(o);
    sp_model_info none;
    memset(&none, 0, sizeof none);
    sp_model l = load("llama3-8b");
    struct json_t *o2 = sp_model_json(&l, &none, 0, 2);
    assert_non_null(o2);
    char *s = json_dumps(o, 0);
    assert_non_null(strstr(s, "\"params_total\""));
    assert_non_null(strstr(s, "\"params_active\""));
    assert_non_null(strstr(s, "\"params_embedding\""));
    assert_non_null(strstr(s, "\"flops_per_token\""));
    assert_non_null(strstr(s, "\"kv_bytes_per_token\""));
    assert_null(strstr(s, "nan"));
    free(s);
    json_decref(o);
    json_decref(o2);
}

/* The same result through sp_call (the bindings' entry point): request keys are the CLI's option names. */
static void test_sp_call(void **st)
{
    (void)st;
    char *out = NULL;
    sp_error e = {0};
    assert_int_equal(sp_call(SP_DATA_DIR, "model", "{\"model\":\"qwen3-30b-a3b\",\"seq_len\":8192}", &out, &e), SP_OK);
    assert_non_null(strstr(out, "\"params_total\":30532122624"));
    assert_non_null(strstr(out, "\"seq_len\":8192"));
    free(out);
    assert_int_equal(sp_call(SP_DATA_DIR, "model", "{\"seq_len\":8192}", &out, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "--model is required"));
    assert_int_equal(sp_call(SP_DATA_DIR, "model", "{\"model\":\"llama3-8b\",\"tp\":2}", &out, &e), SP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets_published), cmocka_unit_test(test_real_configs),
        cmocka_unit_test(test_tie_defaults),      cmocka_unit_test(test_parallel_block),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_nonfinite_tokens),  cmocka_unit_test(test_text_config),
        cmocka_unit_test(test_layer_kind_arithmetic), cmocka_unit_test(test_step_check),
        cmocka_unit_test(test_model_json),        cmocka_unit_test(test_mtp_module),
        cmocka_unit_test(test_sp_call),           cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_act_clamp),         cmocka_unit_test(test_rope_mscale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
