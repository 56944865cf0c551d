/* Hardware presets and the "base" derivation of accelerator and system files (docs/systems.md). Each test names
 * its rule and asserts exact values: a derived file equals its base except for the fields it overrides. */
#include "testutil.h"
#include "memory.h"

#include <stdlib.h>

static sp_status parse(const char *text, sp_system *s, sp_error *e)
{
    return sp_parse_system(SP_DATA_DIR, "inline.json", text, strlen(text), s, e);
}

/* Rule: a system with "base" is its base with the given keys replaced; objects merge key by key (the inline
 * accelerator derives from the base's accelerator preset), arrays (tiers) are replaced whole. */
static void test_base_system_override(void **st)
{
    (void)st;
    sp_system h = load_system("dgx-h100"), d;
    sp_error e = {0};
    const char *txt = "{\"name\": \"h100-site\", \"base\": \"dgx-h100\", \"pue\": 1.3,"
                      " \"accelerator\": {\"base\": \"h100-sxm\", \"tdp_w\": 600, \"hbm\": \"94GB\"}}";
    assert_int_equal(parse(txt, &d, &e), SP_OK);
    assert_string_equal(d.name, "h100-site");
    assert_near(d.pue, 1.3, 0);
    assert_near(d.acc.tdp_w, 600, 0);
    assert_near(d.acc.hbm_bytes, 94e9, 0);
    /* everything else is the base's */
    assert_near(d.acc.peak[SP_BF16], h.acc.peak[SP_BF16], 0);
    assert_near(d.acc.hbm_bw, h.acc.hbm_bw, 0);
    assert_int_equal(d.n_tiers, h.n_tiers);
    for (int i = 0; i < h.n_tiers; i++) {
        assert_near(d.tier[i].bw, h.tier[i].bw, 0);
        assert_near(d.tier[i].eff, h.tier[i].eff, 0);
        assert_near(d.tier[i].latency_s, h.tier[i].latency_s, 0);
    }
    assert_near(d.host_w_per_accel, h.host_w_per_accel, 0);
    /* a site with half the NICs: the tiers are given whole */
    const char *half = "{\"base\": \"dgx-h100\", \"tiers\": ["
                       "{\"name\": \"nvlink4\", \"size\": 8, \"bw\": \"450GB/s\", \"latency\": \"6us\", \"eff\": 0.8},"
                       "{\"name\": \"ib\", \"bw\": \"25GB/s\", \"latency\": \"10us\", \"eff\": 0.85}]}";
    assert_int_equal(parse(half, &d, &e), SP_OK);
    assert_string_equal(d.name, "inline.json"); /* not the base's name */
    assert_near(d.tier[1].bw, 25e9, 0);
    assert_near(d.acc.peak[SP_BF16], h.acc.peak[SP_BF16], 0);
}

/* Rule: a derived accelerator inside a system file must still be complete and valid; an error in it names the
 * field; a base chain that loops is refused, not followed forever. */
static void test_base_errors(void **st)
{
    (void)st;
    sp_system d;
    sp_error e = {0};
    assert_int_equal(parse("{\"base\": \"dgx-h100\", \"accelerator\": {\"base\": \"h100-sxm\", \"hbm\": \"-1GB\"}}", &d, &e),
                     SP_EINVAL);
    assert_non_null(strstr(e.msg, "field 'hbm'"));
    assert_int_equal(parse("{\"base\": 3}", &d, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "field 'base' must name a system preset"));
    assert_int_equal(parse("{\"base\": \"dgx-h100\", \"typo\": 1}", &d, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "unknown system field 'typo'"));
}

/* Rule: a preset's size is not a cap on a plan (issue 25): 12,288 GPUs on the DGX A100 preset resolve. */
static void test_no_size_cap(void **st)
{
    (void)st;
    sp_system s = load_system("dgx-a100-80g");
    sp_model m;
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "gpt3-175b", &m, &e), SP_OK);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 12288;
    p.tp = 8;
    p.pp = 16;
    p.global_batch = 1536;
    p.micro_batch = 1;
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    assert_int_equal(p.dp, 96);
}

/* Rule: every shipped system preset loads, and every tier states latency and eff (no silent 0 s / 100 %). */
static void test_presets_load(void **st)
{
    (void)st;
    char list[4096];
    sp_list_presets(SP_DATA_DIR, "systems", list, sizeof list);
    int n = 0;
    for (char *tok = strtok(list, ", "); tok; tok = strtok(NULL, ", ")) {
        sp_system s = load_system(tok);
        for (int i = 0; i < s.n_tiers; i++) {
            assert_true(s.tier[i].eff > 0 && s.tier[i].eff <= 1);
            assert_true(s.tier[i].latency_s > 0);
        }
        n++;
    }
    assert_true(n >= 27);
}

/* Rule: presets carry their datasheet figures; derived accelerators inherit what they do not override and drop
 * what they null out (B300: FP4 13.5 PF dense, BF16 inherited from B200, no INT8 claimed). */
static void test_preset_values(void **st)
{
    (void)st;
    sp_system g = load_system("gb200-nvl72"), b = load_system("dgx-b300"), t = load_system("tpu-v5p-pod");
    assert_int_equal(g.tier[0].size, 72);
    assert_near(g.tier[0].bw, 900e9, 0);
    assert_near(g.tier[1].bw, 50e9, 0);
    assert_near(g.acc.peak[SP_BF16], 2.5e15, 0);
    assert_near(g.acc.hbm_bytes, 186e9, 0);
    assert_near(b.acc.peak[SP_FP4], 13.5e15, 0);
    assert_near(b.acc.peak[SP_BF16], 2.25e15, 0);
    assert_near(b.acc.peak[SP_INT8], 0, 0);
    assert_near(b.acc.hbm_bytes, 288e9, 0);
    assert_near(b.tier[1].bw, 100e9, 0);
    assert_int_equal(t.tier[0].size, 8960);
    /* TPU tori: axes largest first; per-direction ICI from Google's per-chip (v5e, v6e: bidirectional 400 / 800 GBps)
     * or per-pod all-reduce figures (v4: 1.1 PB/s over 4096 chips) */
    assert_int_equal(t.tier[0].torus[0], 28);
    sp_system v4 = load_system("tpu-v4-pod"), v5e = load_system("tpu-v5e-pod"), v6e = load_system("tpu-v6e-pod");
    assert_int_equal(v4.tier[0].torus[2], 16);
    assert_near(v4.tier[0].bw, 268e9, 0);
    assert_near(v4.acc.peak[SP_BF16], 275e12, 0);
    assert_near(v5e.tier[0].bw, 200e9, 0);
    assert_near(v5e.tier[1].bw, 25e9 / 8, 0);
    assert_near(v6e.tier[0].bw, 400e9, 0);
    assert_string_equal(v4.stack, "maxtext");
    /* the usual stack of an installation, inherited through base */
    assert_string_equal(g.stack, "megatron-core");
    assert_string_equal(load_system("dgx-b300").stack, "megatron-core");
    assert_string_equal(load_system("h100-80g-roce").stack, "llm-foundry");
    assert_string_equal(t.stack, "maxtext");
    sp_system d;
    sp_error e = {0};
    assert_int_equal(parse("{\"base\": \"dgx-h100\", \"stack\": \"megatron-9\"}", &d, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "field 'stack': unknown software preset 'megatron-9'"));
}

/* Rule: compute_capability is the CUDA compute capability major.minor of NVIDIA's table, stored as 10 x major + minor
 * (H100 9.0, A100 8.0, L40S 8.9, B200 and GB200 through base 10.0, B300 and GB300 10.3); a non-CUDA accelerator states
 * none (0). A value that is not major.minor with one digit of minor is refused with file:line:field. The cuBLAS
 * workspace of the memory reserve follows it (memory.c: 4 MiB per stream below 9.0, 32 MiB from 9.0 and without one):
 * the reserve is the CUDA context 666,632,192 B + 5 streams' workspaces. */
static void test_compute_capability(void **st)
{
    (void)st;
    struct { const char *sys; int cc; double ws; } k[] = {
        {"dgx-h100", 90, 32}, {"dgx-a100-80g", 80, 4}, {"l40s-node", 89, 4}, {"dgx-b200", 100, 32}, {"gb200-nvl72", 100, 32},
        {"dgx-b300", 103, 32}, {"gb300-nvl72", 103, 32}, {"dgx2-v100", 70, 4}, {"mi300x-8", 0, 32}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_system s = load_system(k[i].sys);
        assert_int_equal(s.acc.cc, k[i].cc);
        assert_near(sp_mem_reserve_fixed(&s.acc), 666632192.0 + 5 * k[i].ws * 1048576.0, 0);
    }
    sp_system d;
    sp_error e = {0};
    assert_int_equal(parse("{\"base\": \"dgx-h100\", \"accelerator\": {\"base\": \"h100-sxm\", \"compute_capability\": 8}}",
                           &d, &e), SP_OK);
    assert_int_equal(d.acc.cc, 80);
    assert_near(sp_mem_reserve_fixed(&d.acc), 666632192.0 + 5 * 4 * 1048576.0, 0);
    const char *bad[] = {"10.35", "0.5", "100", "\"10.0\"", "true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char txt[256];
        snprintf(txt, sizeof txt, "{\"base\": \"dgx-h100\",\n \"accelerator\": {\"base\": \"h100-sxm\",\n"
                 " \"compute_capability\": %s}}", bad[i]);
        assert_int_equal(parse(txt, &d, &e), SP_EINVAL);
        assert_non_null(strstr(e.msg, "inline.json:3: field 'compute_capability' must be a CUDA compute capability"));
    }
}

/* Rule: the unit throughputs of the exponent-unit roofline are per-SM, per-clock specs (H100 4096 dense BF16 tensor
 * FLOPs and 16 exponentials, B200/GB200 8192 and 16, B300/GB300 8192 and 32, inherited through base) and every
 * measured full-attention rate states its head dim (128: Shah et al. 2024 Fig. 5e-6, cudnn-frontend's llama3.1 runs),
 * stored as the query-key + value dims 256; a non-positive throughput or a head dim outside 16..1024 is refused with
 * file:line:field. */
static void test_unit_throughputs(void **st)
{
    (void)st;
    struct { const char *sys; double m, e; } k[] = {
        {"dgx-h100", 4096, 16}, {"gb200-nvl72", 8192, 16}, {"dgx-b300", 8192, 32}, {"gb300-nvl72", 8192, 32}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_system s = load_system(k[i].sys);
        assert_near(s.acc.mma_clk_sm, k[i].m, 0);
        assert_near(s.acc.exp_clk_sm, k[i].e, 0);
        assert_near(s.acc.eff.attn_ref_hd[SP_ATTN_CUDNN], 256, 0);
    }
    assert_near(load_system("dgx-h100").acc.eff.attn_ref_hd[SP_ATTN_FA3], 256, 0);
    sp_system d;
    sp_error e = {0};
    assert_int_equal(parse("{\"base\": \"dgx-h100\",\n \"accelerator\": {\"base\": \"h100-sxm\",\n"
                           " \"exp2_per_clk_sm\": 0}}", &d, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "inline.json:3: field 'exp2_per_clk_sm'"));
    assert_int_equal(parse("{\"base\": \"dgx-h100\", \"accelerator\": {\"base\": \"h100-sxm\",\n"
                           " \"efficiency\": {\"attn_kernels\": {\"fa3\": {\"fwd\": 0.6, \"bwd\": 0.5, \"head_dim\": 8}}}}}",
                           &d, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "efficiency.attn_kernels.fa3: keys fa2, fa3 or cudnn"));
}

/* Rule: per-dtype storage includes the block scales (OCP MX v1.0: 1 E8M0 per 32; NVFP4: 1 E4M3 per 16); the cast
 * of a 16-bit tensor reads 2 B and writes the stored bytes, plus the fp8 recipe's scales or amax pass. */
static void test_dtype_bytes(void **st)
{
    (void)st;
    sp_dtype d;
    sp_error e = {0};
    assert_near(sp_dtype_bytes(SP_MXFP8), 1.03125, 0);
    assert_near(sp_dtype_bytes(SP_NVFP4), 0.5625, 0);
    assert_int_equal(sp_dtype_parse("MXFP8", &d, &e), SP_OK);
    assert_int_equal(d, SP_MXFP8);
    assert_int_equal(sp_dtype_parse("nvfp4", &d, &e), SP_OK);
    assert_int_equal(d, SP_NVFP4);
    assert_true(sp_dtype_is_quantized(SP_NVFP4) && sp_dtype_is_quantized(SP_FP8) && !sp_dtype_is_quantized(SP_BF16));
    assert_int_equal(sp_dtype_high(SP_MXFP8), SP_BF16);
    assert_near(sp_quant_cast_bytes(SP_FP8, SP_FP8_DELAYED), 3.0, 0);
    assert_near(sp_quant_cast_bytes(SP_FP8, SP_FP8_CURRENT), 5.0, 0);
    assert_near(sp_quant_cast_bytes(SP_FP8, SP_FP8_BLOCKWISE), 3.03125, 0);
    assert_near(sp_quant_cast_bytes(SP_FP8, SP_FP8_ROWWISE), 5.0, 0); /* row amax read + cast, as current */
    assert_near(sp_quant_cast_bytes(SP_NVFP4, SP_FP8_RECIPE_DEFAULT), 2.5625, 0);
    assert_near(sp_nvfp4_dual_cast_bytes(), 5.125, 0); /* amax 2 + cast read 2 + two 0.5625-B copies */
    sp_fp8_recipe r;
    assert_int_equal(sp_fp8_recipe_parse("tensorwise", &r, &e), SP_OK);
    assert_int_equal(r, SP_FP8_DELAYED);
    assert_int_equal(sp_fp8_recipe_parse("rowwise", &r, &e), SP_OK);
    assert_int_equal(r, SP_FP8_ROWWISE);
    assert_string_equal(sp_fp8_recipe_name(SP_FP8_ROWWISE), "rowwise");
    assert_int_equal(sp_fp8_recipe_parse("mx", &r, &e), SP_EINVAL);
}

/* Rule: a dtype the accelerator has no peak for is an error naming the accelerator and its dtypes (issue 24 item
 * 6); bf16 and fp16 stand in for each other (V100 has fp16 tensor cores only). Blackwell has MXFP8 and NVFP4
 * peaks equal to its FP8 and FP4 rates. */
static void test_dtype_refused(void **st)
{
    (void)st;
    sp_system a = load_system("dgx-a100-80g"), h = load_system("dgx-h100");
    sp_system g = load_system("gb200-nvl72"), v = load_system("dgx2-v100");
    sp_error e = {0};
    assert_int_equal(sp_accel_dtype_check(&a.acc, SP_FP8, &e), SP_EINVAL);
    assert_string_equal(e.msg, "precision fp8: accelerator 'a100-sxm4-80gb' has no fp8 peak; its precisions: fp32, "
                               "tf32, bf16, fp16, int8, int4");
    assert_int_equal(sp_accel_dtype_check(&h.acc, SP_MXFP8, &e), SP_EINVAL);
    assert_int_equal(sp_accel_dtype_check(&h.acc, SP_FP8, &e), SP_OK);
    assert_int_equal(sp_accel_dtype_check(&v.acc, SP_BF16, &e), SP_OK);
    assert_int_equal(sp_accel_dtype_check(&g.acc, SP_NVFP4, &e), SP_OK);
    assert_near(g.acc.peak[SP_MXFP8], 5e15, 0);
    assert_near(g.acc.peak[SP_NVFP4], 10e15, 0);
    sp_model m;
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e), SP_OK);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 8;
    p.dtype = SP_FP8;
    assert_int_equal(sp_plan_resolve(&p, &m, &a, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "has no fp8 peak"));
}

/* Rule: every shipped stack loads with every knob and a source for it; a stack fills only the knobs not given and
 * refuses the parallelism it lacks by name (llm-foundry has no TP/PP). */
static void test_software_stacks(void **st)
{
    (void)st;
    const char *names[] = {"megatron-lm-2021", "megatron-deepspeed", "megatron-core", "llm-foundry", "torchtitan",
                           "deepspeed", "maxtext"};
    sp_software sw;
    sp_error e = {0};
    for (int i = 0; i < 7; i++)
        if (sp_load_software(SP_DATA_DIR, names[i], &sw, &e))
            fail_msg("%s: %s", names[i], e.msg);
    assert_int_equal(sp_load_software(SP_DATA_DIR, "llm-foundry", &sw, &e), SP_OK);
    sp_plan p;
    sp_plan_defaults(&p);
    p.tp = 2;
    assert_int_equal(sp_software_apply(&sw, 0, &p, &e), SP_EINVAL);
    assert_string_equal(e.msg, "software 'llm-foundry' has no tensor parallelism (tp = 2)");
    sp_plan_defaults(&p);
    p.pp = 4;
    assert_int_equal(sp_software_apply(&sw, 0, &p, &e), SP_EINVAL);
    assert_string_equal(e.msg, "software 'llm-foundry' has no pipeline parallelism (pp = 4)");
    sp_plan_defaults(&p);
    assert_int_equal(sp_software_apply(&sw, 0, &p, &e), SP_OK);
    assert_int_equal(p.recompute, SP_RECOMPUTE_FULL); /* activation_checkpointing: true */
    assert_int_equal(p.zero, 3);                      /* FULL_SHARD */
    assert_near(p.weight_bytes + p.grad_bytes + p.optimizer_bytes, 16, 0);
    /* a knob the caller gave is kept */
    sp_plan_defaults(&p);
    p.recompute = SP_RECOMPUTE_NONE;
    p.zero = 2;
    assert_int_equal(sp_software_apply(&sw, SP_KNOB_RECOMPUTE | SP_KNOB_ZERO, &p, &e), SP_OK);
    assert_int_equal(p.recompute, SP_RECOMPUTE_NONE);
    assert_int_equal(p.zero, 2);
    /* Megatron-Core: SP only with TP, distributed optimizer, 18 B per parameter, current-scaling FP8 */
    assert_int_equal(sp_load_software(SP_DATA_DIR, "megatron-core", &sw, &e), SP_OK);
    sp_plan_defaults(&p);
    p.tp = 4;
    assert_int_equal(sp_software_apply(&sw, 0, &p, &e), SP_OK);
    assert_int_equal(p.seq_parallel, 1);
    assert_int_equal(p.zero, 1);
    assert_int_equal(p.fp8_recipe, SP_FP8_CURRENT);
    assert_near(p.weight_bytes + p.grad_bytes + p.optimizer_bytes, 18, 0);
    /* torchtitan with PP keeps FSDP weights gathered: ZeRO-2; without PP it reshards: ZeRO-3 */
    assert_int_equal(sp_load_software(SP_DATA_DIR, "torchtitan", &sw, &e), SP_OK);
    sp_plan_defaults(&p);
    assert_int_equal(sp_software_apply(&sw, 0, &p, &e), SP_OK);
    assert_int_equal(p.zero, 3);
    assert_int_equal(p.recompute, SP_RECOMPUTE_SELECTIVE);
    /* compile off by default: its RMSNorm, rotary and SwiGLU run eagerly (kernels.eager_ops); megatron-core fuses */
    assert_int_equal(p.eager_ops, SP_EAGER_NORM | SP_EAGER_ROPE | SP_EAGER_ACT);
}

/* Rule: a per-release stack (data/software/megatron-core-26.06.json, "base": "megatron-core") is its base with its
 * own keys merged over it: the release's recipes' BF16 main gradients (grad_bytes 2, cited there), every other
 * default and every efficiency factor of the base (docs/calibration.md: a release preset is never fitted on its own). */
static void test_software_release_base(void **st)
{
    (void)st;
    sp_software base, rel;
    sp_error e = {0};
    assert_int_equal(sp_load_software(SP_DATA_DIR, "megatron-core", &base, &e), SP_OK);
    assert_int_equal(sp_load_software(SP_DATA_DIR, "megatron-core-26.06", &rel, &e), SP_OK);
    assert_string_equal(rel.name, "megatron-core-26.06");
    assert_near(base.grad_bytes, 4, 0);
    assert_near(rel.grad_bytes, 2, 0);
    assert_int_equal(rel.recompute, base.recompute);
    assert_int_equal(rel.zero, base.zero);
    assert_int_equal(rel.overlap_tp, base.overlap_tp);
    assert_int_equal(rel.overlap_ep, base.overlap_ep);
    assert_int_equal(rel.fp8_recipe, base.fp8_recipe);
    assert_int_equal(rel.supports, base.supports);
    assert_string_equal(rel.attention, base.attention);
    assert_int_equal(rel.n_eff, base.n_eff);
    for (int i = 0; i < base.n_eff; i++) {
        assert_string_equal(rel.eff[i].family, base.eff[i].family);
        assert_true(rel.eff[i].gemm == base.eff[i].gemm && rel.eff[i].fp8_gemm == base.eff[i].fp8_gemm &&
                    rel.eff[i].attn == base.eff[i].attn && rel.eff[i].mem == base.eff[i].mem &&
                    rel.eff[i].moe_gemm == base.eff[i].moe_gemm);
    }
    const char *rels[] = {"25.09", "25.11", "26.02", "26.02.01", "26.04", "26.04.01", "26.06", "26.06.01", "26.08"};
    for (size_t i = 0; i < sizeof rels / sizeof rels[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "megatron-core-%s", rels[i]);
        if (sp_load_software(SP_DATA_DIR, name, &rel, &e))
            fail_msg("%s: %s", name, e.msg);
        assert_string_equal(rel.name, name);
    }
}

/* Rule: the 2024 NeMo container presets (megatron-core-24.03.01, megatron-core-24.07, base megatron-core) carry what
 * those containers ran and nothing else: FlashAttention-2 (attention_class fa2: their NeMo-Framework-Launcher sets
 * NVTE_FUSED_ATTN=0), no softmax sinks (Transformer Engine 1.3 / 1.8), FP8 delayed scaling (the only recipe before
 * Transformer Engine 2.2); every other default (FP32 main gradients, ZeRO-1, SP, TP overlap) and every efficiency
 * factor is the base's (docs/calibration.md: a release preset is never fitted on its own). */
static void test_software_container_2024(void **st)
{
    (void)st;
    sp_software base, rel;
    sp_error e = {0};
    assert_int_equal(sp_load_software(SP_DATA_DIR, "megatron-core", &base, &e), SP_OK);
    const char *names[] = {"megatron-core-24.03.01", "megatron-core-24.07"};
    for (int k = 0; k < 2; k++) {
        if (sp_load_software(SP_DATA_DIR, names[k], &rel, &e))
            fail_msg("%s: %s", names[k], e.msg);
        assert_string_equal(rel.name, names[k]);
        assert_int_equal(base.attn_kernel, SP_ATTN_CUDNN);
        assert_int_equal(rel.attn_kernel, SP_ATTN_FA2);
        assert_int_equal(base.attn_no_sinks, 0);
        assert_int_equal(rel.attn_no_sinks, 1);
        assert_int_equal(base.fp8_recipe, SP_FP8_CURRENT);
        assert_int_equal(rel.fp8_recipe, SP_FP8_DELAYED);
        assert_near(rel.grad_bytes, base.grad_bytes, 0);
        assert_int_equal(rel.recompute, base.recompute);
        assert_int_equal(rel.zero, base.zero);
        assert_int_equal(rel.seq_parallel, base.seq_parallel);
        assert_int_equal(rel.overlap_tp, base.overlap_tp);
        assert_int_equal(rel.n_eff, base.n_eff);
        for (int i = 0; i < base.n_eff; i++)
            assert_true(rel.eff[i].gemm == base.eff[i].gemm && rel.eff[i].fp8_gemm == base.eff[i].fp8_gemm &&
                        rel.eff[i].attn == base.eff[i].attn && rel.eff[i].mem == base.eff[i].mem &&
                        rel.eff[i].moe_gemm == base.eff[i].moe_gemm);
    }
}

/* Rule: on a search a stack fixes off what it lacks and leaves the rest free (llm-foundry: TP = PP = CP = EP = 1,
 * no SP, vpp 1, its ZeRO-3 because it lacks ZeRO-1; Megatron-Core: nothing fixed). */
static void test_software_search(void **st)
{
    (void)st;
    sp_software sw;
    sp_error e = {0};
    sp_search_opts o;
    assert_int_equal(sp_load_software(SP_DATA_DIR, "llm-foundry", &sw, &e), SP_OK);
    sp_search_defaults(&o);
    assert_int_equal(sp_software_apply_search(&sw, &o, &e), SP_OK);
    assert_int_equal(o.fix_tp, 1);
    assert_int_equal(o.fix_pp, 1);
    assert_int_equal(o.fix_cp, 1);
    assert_int_equal(o.fix_ep, 1);
    assert_int_equal(o.max_vpp, 1);
    assert_int_equal(o.fix_sp, 0);
    assert_int_equal(o.fix_zero, 3);
    assert_int_equal(o.fix_recompute, SP_FREE);
    assert_near(o.plan.weight_bytes + o.plan.grad_bytes + o.plan.optimizer_bytes, 16, 0);
    assert_int_equal(sp_load_software(SP_DATA_DIR, "megatron-core", &sw, &e), SP_OK);
    sp_search_defaults(&o);
    sp_search_opts before = o;
    assert_int_equal(sp_software_apply_search(&sw, &o, &e), SP_OK);
    assert_int_equal(o.fix_tp, before.fix_tp);
    assert_int_equal(o.fix_zero, before.fix_zero);
    assert_int_equal(o.max_vpp, before.max_vpp);
    /* fixing a dimension the stack lacks is refused, not overridden */
    assert_int_equal(sp_load_software(SP_DATA_DIR, "llm-foundry", &sw, &e), SP_OK);
    sp_search_defaults(&o);
    o.fix_tp = 2;
    assert_int_equal(sp_software_apply_search(&sw, &o, &e), SP_EINVAL);
    assert_string_equal(e.msg, "software 'llm-foundry' has no tensor parallelism (tp = 2)");
}

/* Rule: a stack file must give every knob with a source; unknown knobs are refused. */
static void test_software_errors(void **st)
{
    (void)st;
    sp_software sw;
    sp_error e = {0};
    assert_int_equal(sp_load_software(SP_DATA_DIR, "no-such-stack", &sw, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "unknown software preset 'no-such-stack'"));
}

/* Rule: a stack's efficiency factors multiply the curves of the family it lists (docs/calibration.md), and leave
 * every other family's alone; generic attention (gemm_max x attn) moves by the attention factor only. */
static void test_stack_efficiency(void **st)
{
    (void)st;
    sp_software sw;
    sp_system h, a;
    sp_error e = {0};
    assert_int_equal(sp_load_software(SP_DATA_DIR, "llm-foundry", &sw, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_DATA_DIR, "h100-80g-roce", &h, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_DATA_DIR, "a100-80g-roce", &a, &e), SP_OK);
    assert_string_equal(h.acc.family, "hopper");
    assert_string_equal(a.acc.family, "ampere");
    const sp_stack_eff *x = NULL;
    for (int i = 0; i < sw.n_eff; i++)
        if (strcmp(sw.eff[i].family, "hopper") == 0)
            x = &sw.eff[i];
    assert_non_null(x);
    sp_system h0 = h, a0 = a;
    sp_software_apply_system(&sw, &h);
    sp_software_apply_system(&sw, &a);
    assert_true(fabs(h.acc.eff.gemm_max - h0.acc.eff.gemm_max * x->gemm) < 1e-12);
    assert_true(fabs(h.acc.eff.fp8_gemm_max - h0.acc.eff.fp8_gemm_max * x->fp8_gemm) < 1e-12);
    assert_true(fabs(h.acc.eff.attn_fwd[SP_ATTN_FA2] - h0.acc.eff.attn_fwd[SP_ATTN_FA2] * x->attn) < 1e-12);
    assert_true(fabs(h.acc.eff.gemm_max * h.acc.eff.attn - h0.acc.eff.gemm_max * h0.acc.eff.attn * x->attn) < 1e-12);
    assert_true(fabs(h.acc.eff.mem - h0.acc.eff.mem * x->mem) < 1e-12);
    assert_true(a.acc.eff.gemm_max == a0.acc.eff.gemm_max && a.acc.eff.mem == a0.acc.eff.mem);
}

/* Rule: a stack with no row in the fit files keeps its unfitted priors (docs/calibration.md): torchtitan (and
 * torchtitan-0.1 through base) runs Hopper FP8 GEMMs at the cuBLAS prior 0.92 of the family's FP8 curve (cuBLASLt
 * FP8 MAMF 70.9 % of the H100 peak against the curve's 0.77: torchao's tensorwise recipe calls torch._scaled_mm)
 * and the 16-bit GEMM curve unchanged. Exact: the factor multiplies the file's 0.82. */
static void test_torchtitan_fp8_prior(void **st)
{
    (void)st;
    const char *stacks[] = {"torchtitan", "torchtitan-0.1"};
    for (int i = 0; i < 2; i++) {
        sp_software sw;
        sp_error e = {0};
        assert_int_equal(sp_load_software(SP_DATA_DIR, stacks[i], &sw, &e), SP_OK);
        sp_system h = load_system("dgx-h100"), a = load_system("dgx-a100-80g");
        sp_system h0 = h, a0 = a;
        sp_software_apply_system(&sw, &h);
        sp_software_apply_system(&sw, &a);
        assert_near(h.acc.eff.fp8_gemm_max, 0.82 * 0.92, 1e-12);
        assert_near(h.acc.eff.gemm_max, h0.acc.eff.gemm_max, 0);
        assert_near(h.acc.eff.mem, h0.acc.eff.mem, 0);
        assert_near(a.acc.eff.gemm_max, a0.acc.eff.gemm_max, 0);
    }
}

/* Rule: a part run below its rated power states the peaks of the tensor clock its limit sustains (docs/model.md
 * "Power-limited parts"): the Grand Teton H100 at 500 W takes the chord between the H100 NVL's datasheet rating
 * (835.5 TFLOP/s BF16 dense at 400 W) and the H100 SXM's (989.4 at 700 W): 835.5 + 153.9 / 3 = 886.8, and every
 * dtype at that ratio of the SXM (the file rounds to 0.1 TFLOP/s: within 0.05 / 60 = 1e-3 relative); HBM2e at
 * 2.4 TB/s; the NVLink tier is the HGX board's. */
static void test_power_limited_peak(void **st)
{
    (void)st;
    sp_system g = load_system("grand-teton-h100"), h = load_system("dgx-h100");
    double r = (835.5 + (989.4 - 835.5) * (500.0 - 400) / (700 - 400)) / 989.4;
    assert_near(g.acc.peak[SP_BF16], 886.8e12, 0);
    const sp_dtype d[] = {SP_FP32, SP_TF32, SP_BF16, SP_FP16, SP_FP8, SP_INT8};
    for (int i = 0; i < 6; i++)
        assert_rel(g.acc.peak[d[i]], r * h.acc.peak[d[i]], 1e-3);
    assert_near(g.acc.tdp_w, 500, 0);
    assert_near(g.acc.hbm_bw, 2.4e12, 0);
    assert_near(g.tier[0].bw, h.tier[0].bw, 0);
}

/* Rule: one memory model (issue 24 item 8): train and finetune --method full on the same plan and stack hold the
 * same model-state bytes; 18 B/parameter under Megatron-Core, 16 under FSDP (fp32 sharded master as the weight). */
static void test_one_memory_model(void **st)
{
    (void)st;
    sp_model m;
    sp_system s = load_system("dgx-h100");
    sp_error e = {0};
    assert_int_equal(sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e), SP_OK);
    sp_param_count pc;
    sp_model_params(&m, &pc);
    const char *stacks[] = {"megatron-core", "torchtitan"};
    double want[] = {18, 16};
    for (int i = 0; i < 2; i++) {
        sp_software sw;
        assert_int_equal(sp_load_software(SP_DATA_DIR, stacks[i], &sw, &e), SP_OK);
        sp_plan p, q;
        sp_plan_defaults(&p);
        p.n_gpus = 1;
        p.seq_len = 2048;
        assert_int_equal(sp_software_apply(&sw, SP_KNOB_ZERO, &p, &e), SP_OK);
        q = p;
        sp_finetune ft;
        assert_int_equal(sp_finetune_parse("full", NULL, NULL, 0, &ft, &e), SP_OK);
        assert_int_equal(sp_finetune_apply(&m, &ft, &q, &e), SP_OK);
        assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
        assert_int_equal(sp_plan_resolve(&q, &m, &s, &e), SP_OK);
        sp_memory a, b;
        sp_train_memory(&m, &s, &p, &a);
        sp_train_memory(&m, &s, &q, &b);
        double sa = a.weights + a.grads + a.optimizer, sb = b.weights + b.grads + b.optimizer;
        assert_near(sa, sb, 0);
        assert_rel(sa, want[i] * pc.total, 1e-5); /* stage arithmetic in doubles */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_system_override),
        cmocka_unit_test(test_base_errors),
        cmocka_unit_test(test_no_size_cap),
        cmocka_unit_test(test_presets_load),
        cmocka_unit_test(test_preset_values),
        cmocka_unit_test(test_compute_capability),
        cmocka_unit_test(test_unit_throughputs),
        cmocka_unit_test(test_dtype_bytes),
        cmocka_unit_test(test_dtype_refused),
        cmocka_unit_test(test_software_stacks),
        cmocka_unit_test(test_software_errors),
        cmocka_unit_test(test_software_release_base),
        cmocka_unit_test(test_software_container_2024),
        cmocka_unit_test(test_software_search),
        cmocka_unit_test(test_one_memory_model),
        cmocka_unit_test(test_stack_efficiency),
        cmocka_unit_test(test_torchtitan_fp8_prior),
        cmocka_unit_test(test_power_limited_peak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
