/* Layer ops (src/ops.c): the builders emit the GEMMs the model's parameters imply, the pricer's collectives agree
 * with sp_collective_time, and the serving engine step is the one sp_infer_eval prices. */
#include "testutil.h"
#include "ops.h"

#include <string.h>

/* forward FLOPs of the ops with all of `flags` (count and batch included) */
static double gemm_flops(const sp_layer_ops *l, unsigned flags)
{
    double f = 0;
    for (int i = 0; i < l->n; i++) {
        const sp_op *o = &l->op[i];
        if (o->kind == SP_OP_GEMM && (o->flags & flags) == flags)
            f += 2 * o->u.gemm.m * o->u.gemm.n * o->u.gemm.k * o->u.gemm.batch * o->count;
    }
    return f;
}

/* One layer's builder state, set up the same way for every test that builds layers (as stack_system() sets up a
 * stack's system): the model's parameter count and the builders' context. The context points at the model, system
 * and plan it is set up over and at pc, so those outlive the fixture's use. */
typedef struct {
    sp_param_count pc;
    sp_layer_ctx c;
} layer_fx;

/* fx's context for model m on s under plan p (flash: fused attention), m's parameters counted afresh */
static sp_layer_ctx *layer_ctx(layer_fx *fx, const sp_model *m, const sp_system *s, const sp_plan *p, int flash)
{
    sp_model_params(m, &fx->pc);
    sp_layer_ctx_init(&fx->c, m, s, p, &fx->pc, flash);
    return &fx->c;
}

/* the default plan at expert parallelism 8, micro-batch 4 x 4096 tokens: the MoE op tests' layout */
static sp_plan ep8_plan(void)
{
    sp_plan p;
    sp_plan_defaults(&p);
    p.ep = 8, p.micro_batch = 4, p.seq_len = 4096;
    return p;
}

/* Rule: a dense layer's linear ops are the layer's matmul weights, TP-sharded: 2·T·(h(qd+2kvd) + qd·h + 3hf)/t
 * forward FLOPs (Llama-3-8B: GQA, gated MLP), exact up to rounding. */
static void test_dense_layer_flops(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_system s = load_system("dgx-h100");
    sp_plan p;
    sp_plan_defaults(&p);
    p.tp = 2, p.micro_batch = 2, p.seq_len = 4096;
    layer_fx fx;
    sp_layer_ops l;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 0, &l);
    double T = 2.0 * 4096, h = m.d_model, qd = sp_model_attn_qdim(&m), kvd = sp_model_kvdim(&m), f = m.ffn_dim;
    double want = 2 * T * (h * (qd + 2 * kvd) + qd * h + 3 * h * f) / 2;
    assert_rel(gemm_flops(&l, SP_OPF_LINEAR), want, 1e-12);
    assert_string_equal(l.op[0].name, "qkv");
}

/* Rule: under uniform routing the routed experts of one GPU process T·k token copies in total (E/EP experts x
 * T·EP·k/E tokens), each through a gated expert of 3·h·f_e weights: 2·T·k·3·h·f_e forward FLOPs (Mixtral, EP 4). */
static void test_moe_expert_flops(void **st)
{
    (void)st;
    sp_model m = load_model("mixtral-8x7b");
    sp_system s = load_system("dgx-h100");
    sp_plan p;
    sp_plan_defaults(&p);
    p.ep = 4, p.micro_batch = 1, p.seq_len = 4096;
    layer_fx fx;
    sp_layer_ops l;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 1, &l);
    double want_experts = 2.0 * 4096 * m.top_k * 3.0 * m.d_model * m.moe_ffn_dim;
    double router = 2.0 * 4096 * m.n_experts * m.d_model;
    assert_rel(gemm_flops(&l, SP_OPF_FFN), want_experts + router, 1e-12);
}

/* Rule: an all-to-all whose bytes all cross nodes (share 1) is sp_collective_time's; a smaller share never costs
 * more (node-limited routing sends fewer copies across). */
static void test_node_limited_alltoall(void **st)
{
    (void)st;
    sp_system s = load_system("h800-cluster");
    double b = 64e6;
    assert_true(sp_collective_time_cross(&s, SP_COLL_ALLTOALL, 64, 1, b, 1) ==
                sp_collective_time(&s, SP_COLL_ALLTOALL, 64, 1, b));
    assert_true(sp_collective_time_cross(&s, SP_COLL_ALLTOALL, 64, 1, b, 0.5) <=
                sp_collective_time(&s, SP_COLL_ALLTOALL, 64, 1, b));
}

/* Rule: the engine step sp_infer_engine_step prices is the decode step sp_infer_eval reports (static batching,
 * one replica: 64 sequences at mean context prompt + output/2), to the bit. */
static void test_engine_step_is_decode(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-70b");
    sp_system s = load_system("dgx-h100");
    sp_infer_opts o;
    sp_infer_defaults(&o);
    o.n_gpus = 8, o.tp = 8, o.batch = 64;
    sp_infer_result r;
    sp_infer_step step;
    sp_error e = {0};
    assert_int_equal(sp_infer_eval(&m, &s, &o, &r, &e), SP_OK);
    double ctx = o.prompt + o.output / 2.0;
    assert_int_equal(sp_infer_engine_step(&m, &s, &o, 64, ctx, 0, 0, 64, &step, &e), SP_OK);
    assert_true(step.total == r.decode.total);
    assert_true(step.total > 0);
    assert_int_equal(sp_infer_engine_step(&m, &s, &o, -1, ctx, 0, 0, 64, &step, &e), SP_EINVAL);
}

/* Rule: the heaviest layer the builders emit (MLA + MoE with shared experts, ETP < TP, EP all-to-all, LoRA on every
 * target, QLoRA dequantization, FP8 casts, SP and CP communication) fits in SP_LAYER_MAX_OPS with room for a new
 * kind's ops: an op list never drops an op. */
static void test_max_ops(void **st)
{
    (void)st;
    sp_model m = load_model("deepseek-v3");
    sp_system s = load_system("h800-cluster");
    sp_plan p;
    sp_plan_defaults(&p);
    p.tp = 4, p.etp = 2, p.ep = 8, p.cp = 2, p.seq_parallel = 1, p.micro_batch = 1, p.seq_len = 4096;
    p.dtype = SP_FP8, p.frozen_base = 1, p.lora_rank = 16, p.lora_targets = SP_LORA_ATTN | SP_LORA_MLP;
    p.base_weight_bytes = 0.5;
    layer_fx fx;
    sp_layer_ops l;
    layer_ctx(&fx, &m, &s, &p, 0);
    for (int moe = 0; moe <= 1; moe++) {
        sp_layer_build(&fx.c, moe, &l);
        assert_true(l.n + 8 <= SP_LAYER_MAX_OPS);
    }
}

/* flash-attention op of one layer priced on s: forward and backward seconds without the launch overhead */
static void flash_times(sp_system *s, sp_attn_kernel k, double *fwd, double *bwd)
{
    sp_model m = load_model("llama3-8b");
    sp_plan p;
    sp_plan_defaults(&p);
    p.micro_batch = 1, p.seq_len = 16384;
    layer_fx fx;
    sp_layer_ops l;
    s->attn_kernel = k;
    sp_layer_build(layer_ctx(&fx, &m, s, &p, 1), 0, &l);
    for (int i = 0; i < l.n; i++)
        if (l.op[i].kind == SP_OP_FLASH) {
            sp_op_cost oc;
            sp_op_price(&l.op[i], s, NULL, &oc);
            *fwd = oc.fwd - s->acc.eff.kernel_overhead_s, *bwd = oc.bwd - s->acc.eff.kernel_overhead_s;
            return;
        }
    fail_msg("no flash-attention op");
}

/* Rule: the attention kernel is the stack's, priced at the family's measured fraction of peak: on H100 SXM the
 * FlashAttention-2 forward takes 0.62 / 0.34 of FA3's time and its backward 0.57 / 0.325 (FA3 paper Fig. 5e/6,
 * data/accelerators/h100-sxm.json); cuDNN's forward is 0.62 / 0.545 of FA3's. A family without measurements
 * (A100) prices every class at its calibrated gemm_max x attn, so A100-era results do not move. */
static void test_attention_kernel_class(void **st)
{
    (void)st;
    sp_system h = load_system("dgx-h100"), a = load_system("dgx-a100-80g");
    double f2, b2, f3, b3, fc, bc, fg, bg, fa, ba;
    flash_times(&h, SP_ATTN_FA2, &f2, &b2);
    flash_times(&h, SP_ATTN_FA3, &f3, &b3);
    flash_times(&h, SP_ATTN_CUDNN, &fc, &bc);
    assert_rel(f2 / f3, 0.62 / 0.34, 1e-9);
    assert_rel(b2 / b3, 0.57 / 0.325, 1e-9);
    assert_rel(fc / f3, 0.62 / 0.545, 1e-9);
    assert_rel(b2 / f2, 2.5 * 0.34 / 0.325, 1e-9); /* five s x s GEMMs against two */
    flash_times(&a, SP_ATTN_GENERIC, &fg, &bg);
    flash_times(&a, SP_ATTN_FA2, &fa, &ba);
    assert_rel(fa, fg, 1e-12);
    assert_rel(ba, bg, 1e-12);
}

/* Rule: the activation bytes a GPT layer's ops keep for the backward pass are Korthikanti et al. 2022 §4's count:
 * s·b·h·(34 + 5·a·s/h) without recompute and standard attention, 34·s·b·h with selective recompute (the scores
 * rerun), 2·s·b·h (the layer input) with full; with TP t and SP all of it ÷ t (Table 2). GPT-3 175B, s 2048, b 1. */
static void test_saved_activations_korthikanti(void **st)
{
    (void)st;
    sp_model m = load_model("gpt3-175b");
    sp_system s = load_system("dgx-a100-80g");
    for (int t = 1; t <= 8; t *= 8) {
        sp_plan p;
        sp_plan_defaults(&p);
        p.tp = t, p.micro_batch = 1, p.seq_len = 2048, p.seq_parallel = t > 1, p.dtype = SP_FP16;
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build(layer_ctx(&fx, &m, &s, &p, 0), 0, &l);
        double saved[3], sbh = 2048.0 * m.d_model, a = m.n_heads;
        sp_layer_saved(&l, saved);
        assert_rel(saved[SP_RECOMPUTE_NONE], sbh * (34 + 5 * a * 2048 / m.d_model) / t, 1e-12);
        assert_rel(saved[SP_RECOMPUTE_SELECTIVE], 34 * sbh / t, 1e-12);
        assert_rel(saved[SP_RECOMPUTE_FULL], 2 * sbh / t, 1e-12);
    }
}

/* Rule: dropout masks are kept (and written) only when the model trains with dropout. GPT-3 175B (dropout 0.1,
 * GPT2Config) keeps Korthikanti's s·b·h·(34 + 5·a·s/h) with standard attention; the same layer without dropout
 * keeps neither the two 1-byte sublayer masks nor the s² mask and dropout output: s·b·h·(32 + 2·a·s/h) (the
 * softmax output alone), its elementwise traffic is 2·s·b·h bytes lighter forward, its softmax kernel 5 B per score
 * lighter forward (no dropout read, write and mask). Llama-3-8B reads attention_dropout 0 and no hidden dropout. */
static void test_dropout_masks(void **st)
{
    (void)st;
    sp_model m = load_model("gpt3-175b"), n = m, llama = load_model("llama3-8b");
    assert_true(m.hidden_dropout == 0.1 && m.attn_dropout == 0.1);
    assert_true(llama.hidden_dropout == 0 && llama.attn_dropout == 0);
    n.hidden_dropout = n.attn_dropout = 0;
    sp_system s = load_system("dgx-a100-80g");
    sp_plan p;
    sp_plan_defaults(&p);
    p.micro_batch = 1, p.seq_len = 2048, p.dtype = SP_FP16;
    layer_fx fx;
    sp_layer_ops with, without;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 0), 0, &with);
    sp_layer_build(layer_ctx(&fx, &n, &s, &p, 0), 0, &without);
    double a[3], b[3], sbh = 2048.0 * m.d_model, as = (double)m.n_heads * 2048 / m.d_model;
    sp_layer_saved(&with, a);
    sp_layer_saved(&without, b);
    assert_rel(a[SP_RECOMPUTE_NONE], sbh * (34 + 5 * as), 1e-12);
    assert_rel(b[SP_RECOMPUTE_NONE], sbh * (32 + 2 * as), 1e-12);
    assert_rel(b[SP_RECOMPUTE_SELECTIVE], 32 * sbh, 1e-12);
    assert_rel(b[SP_RECOMPUTE_FULL], a[SP_RECOMPUTE_FULL], 1e-12);
    double ew = 0, ewo = 0, sw = 0, swo = 0;
    for (int i = 0; i < with.n; i++) {
        if (!strcmp(with.op[i].name, "elementwise"))
            ew = with.op[i].u.bytes.fwd;
        if (!strcmp(with.op[i].name, "softmax_dropout"))
            sw = with.op[i].u.bytes.fwd;
    }
    for (int i = 0; i < without.n; i++) {
        if (!strcmp(without.op[i].name, "elementwise"))
            ewo = without.op[i].u.bytes.fwd;
        if (!strcmp(without.op[i].name, "softmax"))
            swo = without.op[i].u.bytes.fwd;
    }
    assert_rel(ew - ewo, 2 * sbh, 1e-12);
    assert_rel(sw - swo, 5.0 * m.n_heads * 2048 * 2048, 1e-12);
}

/* the op of layer l named n (NULL when absent) */
static const sp_op *find_op(const sp_layer_ops *l, const char *n)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->op[i].name, n))
            return &l->op[i];
    return NULL;
}

/* Rule: with ETP < TP the combined MoE output is re-gathered over the TP/ETP sub-groups only without sequence
 * parallelism; under SP each TP rank routes its own T/TP tokens and the output stays sequence-sharded (Megatron-Core's
 * dispatchers gather over the expert TP group only: token_dispatcher.py:65-66, :650-661 at core_v0.14.0). Without SP
 * the gather spans TP/ETP = 2 ranks at stride ETP and carries the micro-batch's T x h 16-bit activations. */
static void test_etp_gather_sp(void **st)
{
    (void)st;
    sp_model m = load_model("deepseek-v3");
    sp_system s = load_system("h800-cluster");
    for (int sp = 0; sp <= 1; sp++) {
        sp_plan p;
        sp_plan_defaults(&p);
        p.tp = 4, p.etp = 2, p.ep = 8, p.seq_parallel = sp, p.micro_batch = 1, p.seq_len = 4096;
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build(layer_ctx(&fx, &m, &s, &p, 0), 1, &l);
        const sp_op *g = find_op(&l, "etp_allgather");
        if (sp) {
            assert_null(g);
            continue;
        }
        assert_non_null(g);
        assert_int_equal(g->u.coll.ranks, 2);
        assert_int_equal(g->u.coll.stride, 2);
        assert_rel(g->u.coll.bytes, 4096.0 * m.d_model * 2, 1e-12);
    }
}

/* o is a memory-bound op moving fwd / bwd bytes (to rounding: 1e-12 relative) in kf / kb kernels */
static void assert_bytes_op(const sp_op *o, double fwd, double bwd, double kf, double kb)
{
    assert_non_null(o);
    assert_rel(o->u.bytes.fwd, fwd, 1e-12);
    assert_rel(o->u.bytes.bwd, bwd, 1e-12);
    assert_true(o->u.bytes.kernels_fwd == kf && o->u.bytes.kernels_bwd == kb);
}

/* Rule: a fused kernel computes the causal half of a full layer's keys (s/2 per query) and, on a sliding layer, the
 * key blocks of its band: window + the 128-row query tile (FlashAttention-2's n_block_min; at most s/2). GPT-OSS-20B
 * (64 heads x 64) at 4096 tokens, micro-batch 1, window 128: a full layer's kernel computes 2·64·4096·2048·128
 * forward FLOPs, a sliding layer's 2·64·4096·256·128 (1/8 of it); a window as long as the context is full attention. */
static void test_sliding_band(void **st)
{
    (void)st;
    sp_model m = load_model("gpt-oss-20b");
    sp_system s = load_system("dgx-h100");
    sp_plan p;
    sp_plan_defaults(&p);
    p.micro_batch = 1, p.seq_len = 4096;
    layer_fx fx;
    sp_layer_ops full, band;
    sp_layer_build_kind(layer_ctx(&fx, &m, &s, &p, 1), SP_MIX_ATTN, SP_FFN_MOE, &full);
    sp_layer_build_kind(&fx.c, SP_MIX_SWA, SP_FFN_MOE, &band);
    assert_int_equal(m.sliding_window, 128);
    const sp_op *f = find_op(&full, "flash_attention"), *w = find_op(&band, "flash_attention");
    assert_non_null(f);
    assert_non_null(w);
    assert_rel(f->u.flash.flops, 2.0 * 64 * 4096 * 2048 * 128, 1e-12);
    assert_rel(w->u.flash.flops, 2.0 * 64 * 4096 * 256 * 128, 1e-12);
    m.sliding_window = 8192;
    sp_layer_build_kind(layer_ctx(&fx, &m, &s, &p, 1), SP_MIX_SWA, SP_FFN_MOE, &band);
    assert_rel(find_op(&band, "flash_attention")->u.flash.flops, f->u.flash.flops, 1e-12);
}

/* Rule: packed sequences (plan doc_len, doc_len_cv; src/ops.c packed_key_share). A token attends within its sample:
 * per packed sequence of S tokens the causal pairs are sum l_i^2 / 2, E[l^2] / (2 E[l]) keys per query with ctx =
 * E[l^2]/E[l] = doc_len (1 + cv^2). The kernel visits each sample's key blocks up to the diagonal, the diagonal block
 * whole (ctx/2 + 64 keys for 128-row tiles); the unpacked core is priced at S/2 keys, so the packed core is S/2 x
 * (ctx + 128) / (S + 128): doc_len = S gives the unpacked op exactly; S/4 = 1024 gives 2048 x 1152/4224 = 558.545...
 * keys per query; cv 1 doubles the context (2048 x 2176/4224); a sliding layer keeps the smaller of its band (256) and
 * the packed count (doc_len 128: 2048 x 256/4224 = 124.12) and its band rate. Priced time follows the FLOPs (the
 * kernel's rate does not change). GPT-OSS-20B: 64 heads of 64, b = 1, S = 4096. */
static void test_packed_attention(void **st)
{
    (void)st;
    sp_model m = load_model("gpt-oss-20b");
    sp_system s = load_system("dgx-h100");
    const double per_key = 2.0 * 64 * 4096 * 128; /* 2 b heads sq (dqk + dv) */
    struct { sp_mixer mx; double doc, cv, keys; int band; } k[] = {
        {SP_MIX_ATTN, 0, 0, 2048, 0},
        {SP_MIX_ATTN, 4096, 0, 2048, 0},
        {SP_MIX_ATTN, 1024, 0, 2048.0 * 1152 / 4224, 0},
        {SP_MIX_ATTN, 1024, 1, 2048.0 * 2176 / 4224, 0},
        {SP_MIX_SWA, 0, 0, 256, 1},
        {SP_MIX_SWA, 1024, 0, 256, 1},
        {SP_MIX_SWA, 128, 0, 2048.0 * 256 / 4224, 1}};
    sp_op_cost c0;
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_plan p;
        sp_plan_defaults(&p);
        p.micro_batch = 1, p.seq_len = 4096, p.doc_len = k[i].doc, p.doc_len_cv = k[i].cv;
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build_kind(layer_ctx(&fx, &m, &s, &p, 1), k[i].mx, SP_FFN_MOE, &l);
        const sp_op *o = find_op(&l, "flash_attention");
        assert_non_null(o);
        assert_rel(o->u.flash.flops, per_key * k[i].keys, 1e-12);
        assert_int_equal(o->u.flash.band, k[i].band);
        sp_op_cost c;
        sp_op_price(o, &s, NULL, &c);
        if (i == 0)
            c0 = c;
        double ovh = s.acc.eff.kernel_overhead_s;
        if (!k[i].band)
            assert_rel((c.fwd - ovh) / (c0.fwd - ovh), k[i].keys / 2048, 1e-12);
    }
    sp_plan p;
    sp_plan_defaults(&p);
    p.seq_len = 4096, p.doc_len = 1024, p.doc_len_cv = 1;
    assert_rel(sp_plan_attn_context(&p), 2048, 1e-15);
    p.doc_len = 0;
    assert_rel(sp_plan_attn_context(&p), 4096, 1e-15);
}

/* Rule: FP8 attention (src/ops.c flash_fp8) under MXFP8 on cuDNN kernels of compute capability >= 10.0 scales the
 * flash op's rate by cuDNN's measured MXFP8 / BF16 ratio on the same shapes (cudnn-frontend's GB200 benchmark at 4096
 * tokens):
 * heads of 128 forward 1.20, backward 0.92; MLA's 192/128 heads 1.37 / 1.29; a sliding band forward 1.00 and
 * backward 923 / s (its FP8 time grows with s^2): GPT-OSS-20B at 4096 tokens 923 / 4096 = 0.2253. Priced time
 * (overhead aside) is the 16-bit op's divided by the ratio. GB300 states its own measured ratios (efficiency.mxfp8_attn,
 * the same benchmark on GB300): 1.33 / 0.92, MLA 1.58 / 1.33, band 1.15 and 968 / 4096. Not without the plan's
 * fp8_attention, under per-tensor FP8, or on H100 (SM 9.0). */
static void test_fp8_attention(void **st)
{
    (void)st;
    struct { const char *model, *sys; sp_mixer mx; sp_dtype d; int on; double fx, bx; } k[] = {
        {"gpt-oss-20b", "gb200-nvl72", SP_MIX_ATTN, SP_MXFP8, 1, 1.20, 0.92},
        {"gpt-oss-20b", "gb200-nvl72", SP_MIX_SWA, SP_MXFP8, 1, 1.00, 923.0 / 4096},
        {"deepseek-v3", "gb200-nvl72", SP_MIX_MLA, SP_MXFP8, 1, 1.37, 1.29},
        {"gpt-oss-20b", "gb200-nvl72", SP_MIX_ATTN, SP_MXFP8, 0, 0, 0},
        {"gpt-oss-20b", "gb200-nvl72", SP_MIX_ATTN, SP_FP8, 1, 0, 0},
        {"gpt-oss-20b", "dgx-h100", SP_MIX_ATTN, SP_MXFP8, 1, 0, 0},
        {"gpt-oss-20b", "gb300-nvl72", SP_MIX_ATTN, SP_MXFP8, 1, 1.33, 0.92},
        {"gpt-oss-20b", "gb300-nvl72", SP_MIX_SWA, SP_MXFP8, 1, 1.15, 968.0 / 4096},
        {"deepseek-v3", "gb300-nvl72", SP_MIX_MLA, SP_MXFP8, 1, 1.58, 1.33}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_model m = load_model(k[i].model);
        sp_system s = load_system(k[i].sys);
        s.attn_kernel = SP_ATTN_CUDNN;
        sp_op_cost c[2];
        const sp_op *o[2];
        layer_fx fx[2];
        sp_layer_ops l[2];
        for (int f = 0; f < 2; f++) {
            sp_plan p;
            sp_plan_defaults(&p);
            p.micro_batch = 1, p.seq_len = 4096, p.dtype = k[i].d, p.fp8_attention = f ? k[i].on : 0;
            sp_layer_build_kind(layer_ctx(&fx[f], &m, &s, &p, 1), k[i].mx, SP_FFN_MOE, &l[f]);
            o[f] = find_op(&l[f], "flash_attention");
            assert_non_null(o[f]);
            sp_op_price(o[f], &s, NULL, &c[f]);
        }
        assert_true(o[1]->u.flash.fwd_x == k[i].fx && o[1]->u.flash.bwd_x == k[i].bx);
        double ovh = s.acc.eff.kernel_overhead_s, fx1 = k[i].fx > 0 ? k[i].fx : 1, bx1 = k[i].bx > 0 ? k[i].bx : 1;
        assert_rel((c[1].fwd - ovh) * fx1, c[0].fwd - ovh, 1e-12);
        assert_rel((c[1].bwd - ovh) * bx1, c[0].bwd - ovh, 1e-12);
    }
}

/* Rule: the kernels Transformer Engine gates on the CUDA compute capability follow the accelerator's
 * compute_capability field, not its family name (src/ops.c moe_fused: major 10, TE forward_grouped_mlp.py:77;
 * flash_fp8: >= 10.0, TE dot_product_attention/utils.py:591). Qwen3-30B-A3B (SwiGLU) and GPT-OSS-20B under MXFP8 with
 * the plan's knobs on: an H100 file stating 10.0 gets both (the fused MLP's epilogue op; the MXFP8 attention ratio
 * 1.20 forward, 0.92 backward); a GB200 file with the field nulled out gets neither; 12.0 (a later major) gets the
 * MXFP8 attention but not the SM 10.x fused MLP; the presets: GB200 10.0, GB300 10.3 (its own ratios, 1.33 forward)
 * both, H100 9.0 neither. */
static void test_capability_gates(void **st)
{
    (void)st;
    struct { const char *sys, *json; int fused; double fx, bx; } k[] = {
        {NULL, "{\"base\": \"dgx-h100\", \"accelerator\": {\"base\": \"h100-sxm\", \"compute_capability\": 10.0}}", 1,
         1.20, 0.92},
        {NULL, "{\"base\": \"gb200-nvl72\", \"accelerator\": {\"base\": \"gb200\", \"compute_capability\": null}}", 0,
         0, 0},
        {NULL, "{\"base\": \"gb200-nvl72\", \"accelerator\": {\"base\": \"gb200\", \"compute_capability\": 12.0}}", 0,
         1.20, 0.92},
        {"gb200-nvl72", NULL, 1, 1.20, 0.92}, {"gb300-nvl72", NULL, 1, 1.33, 0.92}, {"dgx-h100", NULL, 0, 0, 0}};
    sp_model moe = load_model("qwen3-30b-a3b"), att = load_model("gpt-oss-20b");
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_system s;
        sp_error e = {0};
        if (k[i].sys)
            s = load_system(k[i].sys);
        else
            assert_int_equal(sp_parse_system(SP_DATA_DIR, "inline.json", k[i].json, strlen(k[i].json), &s, &e), SP_OK);
        s.attn_kernel = SP_ATTN_CUDNN;
        sp_plan p = ep8_plan();
        p.n_gpus = 8, p.dtype = SP_MXFP8, p.te_quant = 1, p.moe_fused_mlp = 1, p.fp8_attention = 1;
        layer_fx fx[2];
        sp_layer_ops l[2];
        sp_layer_build(layer_ctx(&fx[0], &moe, &s, &p, 1), 1, &l[0]);
        assert_int_equal(find_op(&l[0], "fused_mlp_epilogue") != NULL, k[i].fused);
        sp_layer_build_kind(layer_ctx(&fx[1], &att, &s, &p, 1), SP_MIX_ATTN, SP_FFN_MOE, &l[1]);
        const sp_op *o = find_op(&l[1], "flash_attention");
        assert_true(o->u.flash.fwd_x == k[i].fx && o->u.flash.bwd_x == k[i].bx);
    }
}

/* Rule: the exponent-unit roofline (src/ops.c attn_exp_scale, FlashAttention-4 arXiv:2603.05451): a measured
 * full-attention rate (attn_kernels, stated at head dim 128) is scaled by min(M, F x E) at the op's head dims over
 * the same at the measurement's, M the dense 16-bit tensor FLOPs and E the exponentials per clock per SM, F the MMA
 * FLOPs per query-key element (2 (dqk + dv) forward, 2.5x backward). GB200 (8192, 16): GPT-OSS's heads of 64 forward
 * min(8192, 256 x 16) / min(8192, 512 x 16) = 0.5, backward min(8192, 640 x 16) / 8192 = 1; GB300 (8192, 32) and
 * H100 (4096, 16) balance at 64: 1 both ways; DeepSeek-V3's MLA (192 + 128) and Llama-3's 128 on GB200: 1; GB200 with
 * its exponential throughput doubled (a derived file): 1; with it removed: 1 (no rule); a sliding band keeps its own
 * measured rate (1). The priced time less the kernel overhead is the op's FLOPs over (class rate x scale), backward
 * 2.5x the FLOPs. The serving prefill rate (sp_attn_rate_hd) takes the same scale. */
static void test_attn_exp_roofline(void **st)
{
    (void)st;
    const char *gb = "{\"base\": \"gb200-nvl72\", \"accelerator\": {\"base\": \"gb200\", \"exp2_per_clk_sm\": %s}}";
    struct { const char *sys, *ex, *model; sp_mixer mx; double fwd, bwd; } k[] = {
        {"gb200-nvl72", NULL, "gpt-oss-20b", SP_MIX_ATTN, 0.5, 1}, {"gb300-nvl72", NULL, "gpt-oss-20b", SP_MIX_ATTN, 1, 1},
        {"dgx-h100", NULL, "gpt-oss-20b", SP_MIX_ATTN, 1, 1}, {"gb200-nvl72", NULL, "deepseek-v3", SP_MIX_MLA, 1, 1},
        {"gb200-nvl72", NULL, "llama3-8b", SP_MIX_ATTN, 1, 1}, {NULL, "32", "gpt-oss-20b", SP_MIX_ATTN, 1, 1},
        {NULL, "null", "gpt-oss-20b", SP_MIX_ATTN, 1, 1}, {"gb200-nvl72", NULL, "gpt-oss-20b", SP_MIX_SWA, 1, 1}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_system s;
        sp_error e = {0};
        char txt[256];
        if (k[i].sys) {
            s = load_system(k[i].sys);
        } else {
            snprintf(txt, sizeof txt, gb, k[i].ex);
            assert_int_equal(sp_parse_system(SP_DATA_DIR, "inline.json", txt, strlen(txt), &s, &e), SP_OK);
        }
        s.attn_kernel = SP_ATTN_CUDNN;
        sp_model m = load_model(k[i].model);
        sp_plan p;
        sp_plan_defaults(&p);
        p.micro_batch = 1, p.seq_len = 4096;
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build_kind(layer_ctx(&fx, &m, &s, &p, 1), k[i].mx, m.n_experts > 0 ? SP_FFN_MOE : SP_FFN_DENSE, &l);
        const sp_op *o = find_op(&l, "flash_attention");
        sp_op_cost c;
        sp_op_price(o, &s, NULL, &c);
        double ovh = s.acc.eff.kernel_overhead_s, w = o->u.flash.flops;
        double rf = o->u.flash.band ? sp_accel_peak(&s.acc, SP_BF16) * s.acc.eff.attn_band_fwd[SP_ATTN_CUDNN]
                                    : sp_attn_rate(&s, SP_BF16, 0);
        double rb = o->u.flash.band ? sp_accel_peak(&s.acc, SP_BF16) * s.acc.eff.attn_band_bwd[SP_ATTN_CUDNN]
                                    : sp_attn_rate(&s, SP_BF16, 1);
        assert_rel(c.fwd - ovh, w / (rf * k[i].fwd), 1e-12);
        assert_rel(c.bwd - ovh, 2.5 * w / (rb * k[i].bwd), 1e-12);
        if (!o->u.flash.band)
            assert_rel(sp_attn_rate_hd(&s, SP_BF16, 0, o->u.flash.hd), sp_attn_rate(&s, SP_BF16, 0) * k[i].fwd, 1e-12);
    }
}

/* Rule: Mamba-2's SSD tile products (ops.c sp_ops_mamba2) run no faster than the SM-bound scan rate, 1.19 x the
 * FP32 peak (ops.c SCAN_FP32_RATE: mamba_ssm's Triton kernels measured on H100, vllm-project/vllm#27299, and on
 * Blackwell, NVIDIA/Megatron-LM#5829), and their backward runs the products its kernels compute
 * (state-spaces/mamba ssd_combined.py _mamba_chunk_scan_combined_bwd): 3 per C·Bᵀ and per masked (C·Bᵀ∘L)·x, 2.5
 * per chunk-state product. Nemotron-3 Nano (64 heads of 64, state 128) at micro-batch 2 x 8192 on a GB200: 128
 * chunks of 128 tokens, the masked product 2·128·64·128 FLOPs x 8192 (chunk, head) copies at 1.19 x 75 TFLOP/s +
 * the 4 us kernel overhead, where the 16-bit GEMM curve would be faster; the passes outside the scan's rate are 3
 * forward (z gate, the norm's read and write) and 9 backward over the inner width; the conv's backward recomputes
 * its forward (2.5x). The floor is the Triton kernels' rate, a fact of the stack (kernels.ssd_scan "triton":
 * Megatron-Core's MambaMixer calls them): the same GB200 under a stack that states no such kernel (MaxText) prices
 * the GEMM curve alone. With more than one sequence per micro-batch Megatron-Core's [s, b, h] layout costs two
 * transposing copies forward, one backward. */
static void test_ssd_scan_rate(void **st)
{
    (void)st;
    sp_model m = load_model("nemotron-3-nano-30b-a3b");
    sp_plan p;
    sp_plan_defaults(&p);
    p.micro_batch = 2, p.seq_len = 8192;
    const char *stack[2] = {"megatron-core", "maxtext"};
    for (int i = 0; i < 2; i++) {
        sp_system s = load_system("gb200-nvl72");
        sp_software sw;
        sp_error er = {0};
        assert_int_equal(sp_load_software(SP_DATA_DIR, stack[i], &sw, &er), SP_OK);
        assert_int_equal(sw.ssd_scan_triton, i == 0);
        sp_software_apply_system(&sw, &s);
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build_kind(layer_ctx(&fx, &m, &s, &p, 1), SP_MIX_MAMBA2, SP_FFN_NONE, &l);
        const sp_op *d = find_op(&l, "ssd_scan_diag"), *cs = find_op(&l, "ssd_chunk_state");
        const sp_op *cb = find_op(&l, "ssd_cb"), *e = find_op(&l, "ssd_elementwise"), *cv = find_op(&l, "conv1d");
        assert_non_null(d), assert_non_null(cs), assert_non_null(cb), assert_non_null(e), assert_non_null(cv);
        assert_rel(d->u.gemm.batch, 128.0 * 64, 1e-12);
        sp_op_cost k, kc, kb;
        sp_op_price(d, &s, NULL, &k);
        sp_op_price(cs, &s, NULL, &kc);
        sp_op_price(cb, &s, NULL, &kb);
        double curve = sp_gemm_time(&s.acc, SP_BF16, 128, 64, 128, 128.0 * 64);
        if (i == 0) {
            assert_rel(s.acc.peak[SP_FP32], 75e12, 1e-12);
            double want = 2.0 * 128 * 64 * 128 * 128 * 64 / (1.19 * 75e12) + s.acc.eff.kernel_overhead_s;
            assert_true(curve < want);
            assert_rel(k.fwd, want, 1e-12);
        } else
            assert_rel(k.fwd, curve, 1e-12);
        assert_rel(k.bwd, 3 * k.fwd, 1e-12);
        assert_rel(kb.bwd, 3 * kb.fwd, 1e-12);
        assert_rel(kc.bwd, 2.5 * kc.fwd, 1e-12);
        double pass = 2.0 * 8192 * m.ssm_inner * 2;
        assert_rel(e->u.bytes.fwd, 3 * pass, 1e-12);
        assert_rel(e->u.bytes.bwd, 9 * pass, 1e-12);
        assert_rel(cv->u.bytes.bwd, 2.5 * cv->u.bytes.fwd, 1e-12);
        /* Megatron-Core's [s, b, h] <-> [b, s, h] copies of the in_proj output (2·4096 + 2·8·128 + 64 wide) and the
         * scan's output at micro-batch 2 (read + write each; backward the in_proj output's gradient); none at 1 */
        const sp_op *tr = find_op(&l, "mamba_transpose");
        assert_non_null(tr);
        double proj = 2.0 * 8192 * (2 * 4096 + 2 * 8 * 128 + 64) * 2;
        assert_rel(tr->u.bytes.fwd, 2 * (proj + pass), 1e-12);
        assert_rel(tr->u.bytes.bwd, 2 * proj, 1e-12);
        /* serving prefill of 8192 prompt tokens (64 chunks x 64 heads): the same floor where the stack states the
         * Triton kernels, else the slower of the tensor curve and the operands' bytes (below the floor here) */
        sp_layer_ops sv = {0};
        sp_ops_recurrent_serving(&fx.c, SP_MIX_MAMBA2, 0, 8192, 0, &sv);
        sp_op_cost ks;
        sp_op_price(find_op(&sv, "ssd_scan_diag"), &s, NULL, &ks);
        double floor = 2.0 * 128 * 64 * 128 * 64 * 64 / (1.19 * 75e12);
        if (i == 0)
            assert_rel(ks.busy, floor, 1e-12);
        else
            assert_true(ks.busy < floor / 2);
    }
    p.micro_batch = 1, p.seq_len = 16384;
    sp_system s = load_system("gb200-nvl72");
    layer_fx fx;
    sp_layer_ops l;
    sp_layer_build_kind(layer_ctx(&fx, &m, &s, &p, 1), SP_MIX_MAMBA2, SP_FFN_NONE, &l);
    assert_null(find_op(&l, "mamba_transpose"));
}

/* Rule: learned softmax sinks (GPT-OSS) run in the stack's fused kernel only where it supports them
 * (kernels.attention_sinks): Megatron-Core's cuDNN fused attention does; llm-foundry's FlashAttention-2 does not, so
 * the unfused core runs, its scores over the whole context even on a sliding layer (the window is a mask). A model
 * without sinks keeps the fused kernel on either stack. */
static void test_sinks_kernel_support(void **st)
{
    (void)st;
    sp_model m = load_model("gpt-oss-20b"), llama = load_model("llama3-8b");
    sp_system mc = load_system("dgx-h100"), lf = load_system("dgx-h100");
    sp_software a, b;
    sp_error e = {0};
    assert_int_equal(sp_load_software(SP_DATA_DIR, "megatron-core", &a, &e), SP_OK);
    assert_int_equal(sp_load_software(SP_DATA_DIR, "llm-foundry", &b, &e), SP_OK);
    sp_software_apply_system(&a, &mc);
    sp_software_apply_system(&b, &lf);
    assert_true(m.attn_sinks && !mc.attn_no_sinks && lf.attn_no_sinks);
    sp_plan p;
    sp_plan_defaults(&p);
    p.micro_batch = 1, p.seq_len = 4096;
    layer_fx fx;
    sp_layer_ops l;
    sp_layer_build_kind(layer_ctx(&fx, &m, &mc, &p, 1), SP_MIX_SWA, SP_FFN_MOE, &l);
    assert_non_null(find_op(&l, "flash_attention"));
    sp_layer_build_kind(layer_ctx(&fx, &m, &lf, &p, 1), SP_MIX_SWA, SP_FFN_MOE, &l);
    assert_null(find_op(&l, "flash_attention"));
    const sp_op *sc = find_op(&l, "scores");
    assert_non_null(sc);
    assert_true(sc->u.gemm.m == 4096 && sc->u.gemm.n == 4096 && sc->u.gemm.batch == 64);
    sp_layer_build(layer_ctx(&fx, &llama, &lf, &p, 1), 0, &l);
    assert_non_null(find_op(&l, "flash_attention"));
}

/* a memory-bound op of `kernels` forward and twice that backward, GPU time `gpu_s` forward (on s), in scope g */
static sp_op host_op(const sp_system *s, unsigned g, double kernels, double gpu_s)
{
    sp_op o = {.name = "host_test", .kind = SP_OP_BYTES, .part = SP_PART_MEMORY, .graph = g, .count = 1};
    o.u.bytes.fwd = gpu_s * s->acc.hbm_bw * s->acc.eff.mem;
    o.u.bytes.kernels_fwd = kernels, o.u.bytes.kernels_bwd = 2 * kernels;
    return o;
}

/* Rule (docs/model.md "Host dispatch"): without a sync a phase costs max(host, GPU): a layer of kernels whose GPU
 * time is nil waits kernels x the host's time per kernel (40 x 10 us forward, 80 x 10 us backward); a captured
 * scope costs one graph launch per phase instead; the full-iteration graph nothing. */
static void test_host_dispatch(void **st)
{
    (void)st;
    sp_system s = load_system("dgx-h100");
    s.acc.eff.kernel_overhead_s = 0;
    sp_layer_ops l = {.n = 1, .host_kernel_s = 10e-6};
    l.op[0] = host_op(&s, SP_GRAPH_ATTN, 40, 0);
    sp_layer_cost c;
    sp_layer_price(&l, &s, NULL, &c);
    assert_near(c.host_f, 400e-6, 1e-15);
    assert_near(c.host_b, 800e-6, 1e-15);
    l.graphs = SP_GRAPH_ATTN;
    sp_layer_price(&l, &s, NULL, &c);
    assert_near(c.host_f, 10e-6, 1e-15);
    assert_near(c.host_b, 10e-6, 1e-15);
    l.graphs = SP_GRAPH_FULL_ITERATION;
    sp_layer_price(&l, &s, NULL, &c);
    assert_true(c.host_f == 0 && c.host_b == 0);
    /* a GPU slower than the host hides it */
    l.graphs = 0;
    l.op[0] = host_op(&s, SP_GRAPH_ATTN, 40, 1e-3);
    sp_layer_price(&l, &s, NULL, &c);
    assert_true(c.host_f == 0);
}

/* Rule: a MoE layer's forward stops at the dispatcher's sync, so the host work issued before the GPU-heavy part
 * cannot hide behind it: dispatch/experts (30 kernels, no GPU time) then the rest (1 kernel, 300 us) ends at
 * max(300 + 300, 310) = 600 us, 300 us of host exposed; without the sync max(310, 300): 10 us. The MoE block with a
 * sync is never captured (moe scope needs drop-and-pad). */
static void test_host_sync(void **st)
{
    (void)st;
    sp_system s = load_system("dgx-h100");
    s.acc.eff.kernel_overhead_s = 0;
    sp_layer_ops l = {.n = 2, .host_kernel_s = 10e-6, .sync = 1};
    l.op[0] = host_op(&s, SP_GRAPH_MOE, 30, 0);
    l.op[1] = host_op(&s, SP_GRAPH_ATTN, 1, 300e-6);
    sp_layer_cost c;
    sp_layer_price(&l, &s, NULL, &c);
    assert_near(c.host_f, 300e-6, 1e-12);
    l.graphs = SP_GRAPH_MOE;
    sp_layer_price(&l, &s, NULL, &c);
    assert_near(c.host_f, 300e-6, 1e-12);
    l.graphs = SP_GRAPH_FULL_ITERATION; /* a full-iteration graph: its recipe's dispatch is sync-free */
    sp_layer_price(&l, &s, NULL, &c);
    assert_true(c.host_f == 0 && c.host_b == 0);
    l.sync = 0;
    sp_layer_price(&l, &s, NULL, &c);
    assert_near(c.host_f, 0, 1e-12); /* captured, one launch: max(20 us, 300 us) */
    l.graphs = 0;
    sp_layer_price(&l, &s, NULL, &c);
    assert_near(c.host_f, 10e-6, 1e-12);
}

/* Rule: a sliding layer's narrow band runs at the family's band rate of the stack's kernel class (Hopper: cuDNN's own
 * GPT-OSS benchmark on H200, a 1024-token band at 0.426 / 0.365 of peak, scaled to the 128-token band by GB200's
 * measured ratio of the two widths: 0.193 / 0.176, forward / backward, against the full kernel's 0.545 / 0.52,
 * data/accelerators/h100-sxm.json); a family without a band measurement (A100) prices the band at its full rate. */
static void test_band_rate(void **st)
{
    (void)st;
    sp_model m = load_model("gpt-oss-20b");
    sp_system h = load_system("dgx-h100"), a = load_system("dgx-a100-80g");
    h.attn_kernel = a.attn_kernel = SP_ATTN_CUDNN;
    sp_plan p;
    sp_plan_defaults(&p);
    p.micro_batch = 1, p.seq_len = 4096;
    layer_fx fx;
    sp_layer_ops band, full;
    sp_layer_build_kind(layer_ctx(&fx, &m, &h, &p, 1), SP_MIX_SWA, SP_FFN_MOE, &band);
    sp_layer_build_kind(&fx.c, SP_MIX_ATTN, SP_FFN_MOE, &full);
    const sp_op *b = find_op(&band, "flash_attention"), *f = find_op(&full, "flash_attention");
    sp_op_cost cb, cf;
    sp_op_price(b, &h, NULL, &cb);
    sp_op_price(f, &h, NULL, &cf);
    double ovh = h.acc.eff.kernel_overhead_s, peak = 989.4e12;
    assert_true(b->u.flash.band && !f->u.flash.band);
    assert_rel(cb.fwd - ovh, b->u.flash.flops / (peak * 0.193), 1e-9);
    assert_rel(cb.bwd - ovh, 2.5 * b->u.flash.flops / (peak * 0.176), 1e-9);
    assert_rel(cf.fwd - ovh, f->u.flash.flops / (peak * 0.545), 1e-9);
    sp_layer_build_kind(layer_ctx(&fx, &m, &a, &p, 1), SP_MIX_SWA, SP_FFN_MOE, &band);
    b = find_op(&band, "flash_attention");
    sp_op_price(b, &a, NULL, &cb);
    assert_rel(cb.fwd - a.acc.eff.kernel_overhead_s, b->u.flash.flops / sp_attn_rate(&a, SP_BF16, 0), 1e-9);
}

/* the GEMM rows (u.gemm.m) of experts_up in the MoE layer of model m on s under p, the layer built into l */
static double experts_m(const sp_model *m, const sp_system *s, const sp_plan *p, sp_layer_ops *l)
{
    layer_fx fx;
    sp_layer_build(layer_ctx(&fx, m, s, p, 1), 1, l);
    const sp_op *o = find_op(l, "experts_up");
    assert_non_null(o);
    return o->u.gemm.m;
}

/* Rule (docs/model.md "Load imbalance and capacity", Megatron-Core get_capacity): drop-and-pad runs each local
 * expert's GEMM at ceil(c x n·k/E) rows from each of the ETP x EP ranks, n = T/TP. Qwen3-30B-A3B (E 128, k 8),
 * EP 8, 100 tokens: c 1 -> ceil(6.25) = 7 x 8 = 56 rows (dropping without padding: the mean, 100·8·8/128 = 50);
 * TP 2 (ETP 2), c 1.25 over 4096 tokens: ceil(1.25 x 2048 x 8/128) = 160 x 2 x 8 = 2560. */
static void test_moe_pad_m(void **st)
{
    (void)st;
    sp_model m = load_model("qwen3-30b-a3b");
    sp_system s = load_system("dgx-b200");
    sp_plan p;
    sp_plan_defaults(&p);
    sp_layer_ops l;
    p.ep = 8, p.seq_len = 100, p.capacity_factor = 1;
    assert_true(experts_m(&m, &s, &p, &l) == 50);
    p.moe_pad = 1;
    assert_true(experts_m(&m, &s, &p, &l) == 56);
    p.tp = 2, p.seq_parallel = 1, p.seq_len = 4096, p.capacity_factor = 1.25;
    assert_true(experts_m(&m, &s, &p, &l) == 2560);
}

/* Rule (docs/model.md "Host dispatch"): with drop-and-pad the split sizes are static and the dispatcher never syncs
 * (token_dispatcher.py:921-960), so the MoE layer's forward host time hides by run-ahead alone: exposed =
 * max(0, host - GPU) exactly; dropping without padding still syncs (token_dispatcher.py:545-552). Qwen3-30B-A3B on
 * GB200 (Grace host), one 4096-token micro-batch. */
static void test_moe_pad_no_sync(void **st)
{
    (void)st;
    sp_model m = load_model("qwen3-30b-a3b");
    sp_system s = load_system("gb200-nvl72");
    sp_plan p;
    sp_plan_defaults(&p);
    p.ep = 8, p.seq_len = 4096, p.capacity_factor = 1;
    sp_layer_ops l;
    sp_layer_cost c;
    experts_m(&m, &s, &p, &l);
    assert_int_equal(l.sync, 1);
    p.moe_pad = 1;
    experts_m(&m, &s, &p, &l);
    assert_int_equal(l.sync, 0);
    sp_layer_price(&l, &s, NULL, &c);
    double gpu = c.fwd_compute + c.fwd_mem + c.tp_fwd + c.ep_fwd + c.cp_fwd;
    assert_true(c.host_kf > gpu); /* host-bound: the run-ahead rule shows */
    assert_near(c.host_f, c.host_kf - gpu, 1e-12 * gpu);
}

/* Rule (docs/model.md "Host dispatch", ops.c GROUPED_HOST_*): a grouped expert GEMM's host work per local expert,
 * counted from Transformer Engine v2.9's GroupedLinear: forward the GEMM (1), quantized also the weight-workspace
 * call (1) and the input's split quantization; backward dgrad, wgrad, the placeholder weight gradient and the DDP
 * hook (4) and the output gradient's quantization. Quantization kernels per expert: BF16 0, FP8 delayed 0 (one fused
 * kernel for all experts), MXFP8 and FP8 blockwise 1, FP8 current scaling and NVFP4 3. */
static void test_grouped_host(void **st)
{
    (void)st;
    sp_model m = load_model("qwen3-30b-a3b");
    sp_system s = load_system("dgx-b200");
    struct { sp_dtype d; sp_fp8_recipe r; double f, b; } k[] = {
        {SP_BF16, SP_FP8_RECIPE_DEFAULT, 1, 4}, {SP_FP8, SP_FP8_DELAYED, 2, 4},  {SP_MXFP8, SP_FP8_RECIPE_DEFAULT, 3, 5},
        {SP_FP8, SP_FP8_BLOCKWISE, 3, 5},       {SP_FP8, SP_FP8_CURRENT, 5, 7},  {SP_NVFP4, SP_FP8_RECIPE_DEFAULT, 5, 7}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_plan p;
        sp_plan_defaults(&p);
        p.ep = 8, p.seq_len = 4096, p.dtype = k[i].d, p.fp8_recipe = k[i].r;
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 1, &l);
        const char *names[] = {"experts_up", "experts_down"};
        for (int j = 0; j < 2; j++) {
            const sp_op *o = find_op(&l, names[j]);
            assert_non_null(o);
            assert_true(o->count == 16 && o->host_f == k[i].f && o->host_b == k[i].b);
        }
        const sp_op *q = find_op(&l, "qkv");
        assert_true(q->host_f == 0 && q->host_b == 0);
    }
}

/* Rule (hardware.c sp_nvfp4_dual_cast_bytes, Transformer Engine v2.14 NVFP4Quantizer::quantize_impl): NVFP4 quantizes
 * each GEMM input (forward), output gradient (backward) and weight once into both layouts, amax read + cast read +
 * row-wise and Hadamard column-wise copies = 2 + 2 + 2 x 0.5625 = 5.125 B per element, with no backward re-layout;
 * MXFP8 keeps the cast (2 + 1.03125 B) and the backward re-layout of the saved inputs (2 B). Llama-3-8B, T = 4096,
 * TP 1: inputs 4096 x (4096 + 4096 + 4096 + 14336), gradients 4096 x (6144 + 4096 + 3 x 14336) (ops.c q_out). */
static void test_nvfp4_casts(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_system s = load_system("dgx-b200");
    sp_param_count pc;
    sp_model_params(&m, &pc);
    double w = pc.attn_per_layer + pc.mlp_dense_per_layer;
    sp_dtype d[] = {SP_NVFP4, SP_MXFP8};
    for (int i = 0; i < 2; i++) {
        sp_plan p;
        sp_plan_defaults(&p);
        p.seq_len = 4096, p.dtype = d[i];
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 0, &l);
        assert_near(fx.c.q_in, 4096.0 * 26624, 0);
        assert_near(fx.c.q_out, 4096.0 * 53248, 0);
        const sp_op *o = find_op(&l, "fp8_casts");
        assert_non_null(o);
        if (d[i] == SP_NVFP4) {
            assert_near(o->u.bytes.fwd, (fx.c.q_in + w) * 5.125, 1e-12 * o->u.bytes.fwd);
            assert_near(o->u.bytes.bwd, fx.c.q_out * 5.125, 1e-12 * o->u.bytes.bwd);
        } else {
            assert_near(o->u.bytes.fwd, fx.c.q_in * 3.03125 + w * 4.0, 1e-12 * o->u.bytes.fwd);
            assert_near(o->u.bytes.bwd, fx.c.q_out * 3.03125 + fx.c.q_in * 2.0, 1e-12 * o->u.bytes.bwd);
        }
    }
}

/* Rule: torchao's rowwise recipe (plan.fp8_recipe rowwise, generic quantizers; src/ops.c FP8_ROWWISE_*) casts each
 * operand from 16 bits once per GEMM that reads it, 5 B per element (row amax read 2 + read 2 + write 1, no
 * re-layout): forward the inputs and the weights, backward the output gradients twice (dgrad, wgrad), the weights
 * (dgrad) and the inputs (wgrad); and rescales the two slow-accumulation backward GEMMs' 16-bit outputs (read 2 +
 * write 2 per element of grad_input, the inputs' size, and of grad_weight). A frozen base drops the wgrad casts and
 * rescale. Llama-3-8B, FP8, T = 4096, TP 1 (q_in, q_out as in test_nvfp4_casts). */
static void test_fp8_rowwise_casts(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_system s = load_system("dgx-h100");
    sp_param_count pc;
    sp_model_params(&m, &pc);
    double w = pc.attn_per_layer + pc.mlp_dense_per_layer, qi = 4096.0 * 26624, qo = 4096.0 * 53248;
    for (int frozen = 0; frozen < 2; frozen++) {
        sp_plan p;
        sp_plan_defaults(&p);
        p.seq_len = 4096, p.dtype = SP_FP8, p.fp8_recipe = SP_FP8_ROWWISE, p.frozen_base = frozen;
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 0, &l);
        const sp_op *o = find_op(&l, "fp8_casts");
        assert_non_null(o);
        double bwd = (qo + w) * 5 + qi * 4 + (frozen ? 0 : (qo + qi) * 5 + w * 4);
        assert_near(o->u.bytes.fwd, (qi + w) * 5, 1e-12 * o->u.bytes.fwd);
        assert_near(o->u.bytes.bwd, bwd, 1e-12 * o->u.bytes.bwd);
    }
}

/* Rule: elementwise ops left to eager PyTorch (plan.eager_ops; src/ops.c EAGER_*, counted from torchtitan's Llama
 * code and PyTorch's autograd formulas) add, beyond the fused kernels the elementwise op charges, per element: each
 * RMSNorm 32 B forward / 68 B backward (of T x h), the complex rotary 16 / 12 B (of T x (q + k) widths), the SwiGLU
 * product 4 / 6 B (of T x ffn); recomputed by per-op SAC; nothing with eager_ops none; a fused (Triton) norm leaves
 * its part out. Llama-3-8B, T = 4096, TP 1: h 4096, q + k 4096 + 1024, ffn 14336. */
static void test_eager_elementwise(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_system s = load_system("dgx-h100");
    const unsigned set[3] = {SP_EAGER_NORM | SP_EAGER_ROPE | SP_EAGER_ACT, SP_EAGER_ROPE | SP_EAGER_ACT, 0};
    double T = 4096, norm_f = 2 * T * 4096 * 32, norm_b = 2 * T * 4096 * 68;
    double rest_f = T * 5120 * 16 + T * 14336 * 4, rest_b = T * 5120 * 12 + T * 14336 * 6;
    for (int i = 0; i < 3; i++) {
        sp_plan p;
        sp_plan_defaults(&p);
        p.seq_len = 4096, p.eager_ops = set[i];
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 0, &l);
        const sp_op *o = find_op(&l, "eager_elementwise");
        if (!set[i]) {
            assert_null(o);
            continue;
        }
        assert_non_null(o);
        assert_true(o->rerun & SP_RCM_OP_SAC);
        assert_near(o->u.bytes.fwd, (i == 0 ? norm_f : 0) + rest_f, 1e-12 * o->u.bytes.fwd);
        assert_near(o->u.bytes.bwd, (i == 0 ? norm_b : 0) + rest_b, 1e-12 * o->u.bytes.bwd);
    }
    unsigned e;
    sp_error err = {0};
    assert_int_equal(sp_eager_ops_parse("norm,rope,act", &e, &err), SP_OK);
    assert_int_equal(e, SP_EAGER_NORM | SP_EAGER_ROPE | SP_EAGER_ACT);
    assert_int_equal(sp_eager_ops_parse("none", &e, &err), SP_OK);
    assert_int_equal(e, 0);
    assert_int_equal(sp_eager_ops_parse("norm,gelu", &e, &err), SP_EINVAL);
    assert_string_equal(err.msg, "unknown eager op 'gelu'; allowed none or a comma list of norm, rope, act");
}

/* Rule: under Transformer Engine's quantizers (plan.te_quant, src/ops.c fp8_casts; hardware.c sp_quant_*_bytes) the
 * weights are cast once per step (Megatron-Core's is_first_microbatch), per-tensor FP8 on Blackwell writes no
 * transposed copies (non-TN FP8 GEMMs), MXFP8 writes both block-scaled layouts in one cast and re-lays nothing out,
 * NVFP4 keeps its dual cast. Llama-3-8B, 4096 tokens, TP 1, 8 micro-batches per step (global batch 8, dp 1): per
 * element of q_in (4096 x 26624) / q_out (4096 x 53248) / the layer's weights w:
 *   B200 FP8 current: forward 5 (amax read 2 + read 2 + write 1) + w 3 / 8, backward 5;
 *   H100 FP8 current: forward 5 + w 4 / 8, backward 5 + the re-layout 2 per input (TN-only FP8 GEMMs);
 *   B200 MXFP8: 2 + 2 x 1.03125 = 4.0625 on inputs, gradients and weights (/ 8), no re-layout;
 *   B200 NVFP4: 5.125 on each, the weights / 8; under TE v2.12 (plan.nvfp4_split) 7.125 on inputs and gradients. */
static void test_te_quant_casts(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_param_count pc;
    sp_model_params(&m, &pc);
    double w = pc.attn_per_layer + pc.mlp_dense_per_layer, qi = 4096.0 * 26624, qo = 4096.0 * 53248;
    struct {
        const char *sys;
        sp_dtype d;
        double in, wb, relayout;
    } k[] = {{"dgx-b200", SP_FP8, 5, 3, 0},
             {"dgx-h100", SP_FP8, 5, 4, 2},
             {"dgx-b200", SP_MXFP8, 4.0625, 4.0625, 0},
             {"dgx-b200", SP_NVFP4, 5.125, 5.125, 0}};
    for (int i = 0; i < 4; i++) {
        sp_system s = load_system(k[i].sys);
        sp_plan p;
        sp_plan_defaults(&p);
        p.seq_len = 4096, p.dtype = k[i].d, p.fp8_recipe = SP_FP8_CURRENT, p.te_quant = 1;
        p.global_batch = 8, p.micro_batch = 1;
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 0, &l);
        assert_true(fx.c.q_in == qi && fx.c.q_out == qo);
        const sp_op *o = find_op(&l, "fp8_casts");
        assert_non_null(o);
        assert_rel(o->u.bytes.fwd, qi * k[i].in + w * k[i].wb / 8, 1e-12);
        assert_rel(o->u.bytes.bwd, qo * k[i].in + qi * k[i].relayout, 1e-12);
        if (k[i].d != SP_NVFP4)
            continue;
        /* TE v2.12 (plan.nvfp4_split): one more 2-byte read of each Hadamard operand, weights unchanged */
        p.nvfp4_split = 1;
        sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 0, &l);
        o = find_op(&l, "fp8_casts");
        assert_rel(o->u.bytes.fwd, qi * 7.125 + w * 5.125 / 8, 1e-12);
        assert_rel(o->u.bytes.bwd, qo * 7.125, 1e-12);
    }
}

/* Rule: NVFP4 GEMMs on Blackwell Ultra run at the accelerator file's nvfp4_gemm_rel (0.603: TE's B300 GEMM benchmark,
 * NVFP4 1.810x FP8 at a 3x peak ratio) times the scaled-format curve: on B300 a compute-bound 16384^3 GEMM takes
 * (4500 / 13500) / 0.603 of its FP8 time, launch overhead aside; B200 has no such factor (NVFP4 = FP8 time / 2). */
static void test_nvfp4_gemm_rel(void **st)
{
    (void)st;
    sp_system u = load_system("dgx-b300"), b = load_system("dgx-b200");
    double x = 16384, ou = u.acc.eff.kernel_overhead_s, ob = b.acc.eff.kernel_overhead_s;
    assert_true(u.acc.eff.nvfp4_gemm_rel == 0.603 && b.acc.eff.nvfp4_gemm_rel == 0);
    double r = (sp_gemm_time(&u.acc, SP_NVFP4, x, x, x, 1) - ou) / (sp_gemm_time(&u.acc, SP_FP8, x, x, x, 1) - ou);
    assert_rel(r, 4500.0 / 13500.0 / 0.603, 1e-12);
    r = (sp_gemm_time(&b.acc, SP_NVFP4, x, x, x, 1) - ob) / (sp_gemm_time(&b.acc, SP_FP8, x, x, x, 1) - ob);
    assert_rel(r, 0.5, 1e-12);
}

/* Rule: MXFP8 GEMMs run at mxfp8_gemm_rel (0.951, TE's B300 benchmark: FP8 current 6.812 vs MXFP8 7.161 ms) of the
 * per-tensor FP8 rate on Blackwell, B300 inheriting B200's field; Hopper has none (MXFP8 is not a Hopper format). */
static void test_mxfp8_gemm_rel(void **st)
{
    (void)st;
    sp_system u = load_system("dgx-b300"), b = load_system("dgx-b200");
    double x = 16384, ou = u.acc.eff.kernel_overhead_s, ob = b.acc.eff.kernel_overhead_s;
    assert_true(b.acc.eff.mxfp8_gemm_rel == 0.951 && u.acc.eff.mxfp8_gemm_rel == 0.951);
    double r = (sp_gemm_time(&b.acc, SP_MXFP8, x, x, x, 1) - ob) / (sp_gemm_time(&b.acc, SP_FP8, x, x, x, 1) - ob);
    assert_rel(r, 1 / 0.951, 1e-12);
    r = (sp_gemm_time(&u.acc, SP_MXFP8, x, x, x, 1) - ou) / (sp_gemm_time(&u.acc, SP_FP8, x, x, x, 1) - ou);
    assert_rel(r, 1 / 0.951, 1e-12);
}

/* Rule: the per-expert loop adds count x its host operations to the grouped GEMM's one module call (99.66 / 37.08
 * eager kernels, TE#2053): 16 experts x 3 forward at 10 us per kernel = (2.6877 + 48) x 10 us of host forward. */
static void test_grouped_host_priced(void **st)
{
    (void)st;
    sp_system s = load_system("dgx-h100");
    s.acc.eff.kernel_overhead_s = 0;
    sp_layer_ops l = {.n = 1, .host_kernel_s = 10e-6};
    l.op[0] = (sp_op){.name = "experts_up", .kind = SP_OP_GEMM, .part = SP_PART_COMPUTE,
                      .flags = SP_OPF_GROUPED | SP_OPF_LINEAR, .count = 16, .host_f = 3, .host_b = 5};
    l.op[0].u.gemm.m = l.op[0].u.gemm.n = l.op[0].u.gemm.k = 16, l.op[0].u.gemm.batch = 1;
    l.op[0].u.gemm.dtype = SP_BF16, l.op[0].u.gemm.bwd = SP_BWD_WEIGHT;
    sp_layer_cost c;
    sp_layer_price(&l, &s, NULL, &c);
    assert_near(c.host_kf, (99.66 / 37.08 + 48) * 10e-6, 1e-15);
}

/* Rule: experts with biases (GPT-OSS, mlp_bias) get Megatron-Core's eager per-expert output-bias loop as one
 * memory-bound op (src/ops.c EXPERT_BIAS_*): GPT-OSS-120B at EP 8 (16 local experts), micro-batch 4 x 4096 tokens,
 * top-4: 65536 routed rows x 2880 = 188,743,680 elements; 16-bit probabilities (all-to-all) 12 / 16 B per element,
 * 33 / 66 kernels (16 x 2 + cat; 16 x 4 + the two splits' backward); fp32 probabilities (HybridEP) 28 / 40 B, 34 / 99
 * kernels (+ the cast; + 16 x 2 casts and the cast's backward); absent under a full-iteration graph and for experts
 * without biases (Qwen3-30B-A3B). */
static void test_expert_bias(void **st)
{
    (void)st;
    sp_model m = load_model("gpt-oss-120b"), q = load_model("qwen3-30b-a3b");
    sp_system s = load_system("dgx-b200");
    struct { sp_moe_dispatcher d; unsigned g; double f, b, kf, kb; } k[] = {
        {SP_DISP_ALLTOALL, 0, 12, 16, 33, 66}, {SP_DISP_HYBRIDEP, 0, 28, 40, 34, 99},
        {SP_DISP_HYBRIDEP, SP_GRAPH_FULL_ITERATION, 0, 0, 0, 0}};
    const double n = 65536.0 * 2880.0;
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_plan p = ep8_plan();
        p.moe_dispatcher = k[i].d, p.cuda_graphs = k[i].g;
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 1, &l);
        const sp_op *o = find_op(&l, "expert_bias");
        if (k[i].f == 0) {
            assert_null(o);
            continue;
        }
        assert_bytes_op(o, k[i].f * n, k[i].b * n, k[i].kf, k[i].kb);
        sp_layer_build(layer_ctx(&fx, &q, &s, &p, 1), 1, &l);
        assert_null(find_op(&l, "expert_bias"));
    }
}

/* A system with a software stack's efficiencies and kernel facts applied, as a validation row's stack applies them. */
static sp_system stack_system(const char *system, const char *stack, sp_software *sw)
{
    sp_system s = load_system(system);
    sp_error e = {0};
    load_ok(sp_load_software(SP_DATA_DIR, stack, sw, &e), stack, &e);
    sp_software_apply_system(sw, &s);
    return s;
}

/* Rule: a container's stack preset picks the attention kernel class its launcher ran: NeMo 24.03.01 and 24.07
 * (megatron-core-24.03.01, -24.07: NVTE_FUSED_ATTN=0 in the NeMo-Framework-Launcher's config, so Transformer Engine's
 * FlashAttention backend) price a Llama 2 7B flash op at the H100 fa2 class, the 2025-26 base (megatron-core) at the
 * cudnn class, both times the base's one Hopper attention factor: the ratio of the rates is exactly the classes'
 * measured ratio, 0.34 / 0.545 forward and 0.325 / 0.52 backward (data/accelerators/h100-sxm.json, Shah et al. 2024
 * Fig. 5-6), whatever the calibrated factor; the same FLOPs (the kernel class changes nothing but the rate). */
static void test_container_attention(void **st)
{
    (void)st;
    sp_model m = load_model("llama2-7b");
    sp_software sw;
    sp_system base = stack_system("dgx-h100", "megatron-core", &sw);
    sp_plan p;
    sp_plan_defaults(&p);
    p.micro_batch = 1, p.seq_len = 16384;
    layer_fx fx;
    sp_layer_ops lb, lo;
    sp_layer_build(layer_ctx(&fx, &m, &base, &p, 1), 0, &lb);
    const sp_op *fb = find_op(&lb, "flash_attention");
    assert_non_null(fb);
    sp_op_cost cb, co;
    sp_op_price(fb, &base, NULL, &cb);
    const char *stacks[] = {"megatron-core-24.03.01", "megatron-core-24.07"};
    for (int i = 0; i < 2; i++) {
        sp_system old = stack_system("dgx-h100", stacks[i], &sw);
        assert_int_equal(old.attn_kernel, SP_ATTN_FA2);
        assert_int_equal(base.attn_kernel, SP_ATTN_CUDNN);
        sp_layer_build(layer_ctx(&fx, &m, &old, &p, 1), 0, &lo);
        const sp_op *fo = find_op(&lo, "flash_attention");
        assert_non_null(fo);
        assert_true(fo->u.flash.flops == fb->u.flash.flops);
        sp_op_price(fo, &old, NULL, &co);
        double ovh = old.acc.eff.kernel_overhead_s;
        assert_rel((cb.fwd - ovh) / (co.fwd - ovh), 0.34 / 0.545, 1e-12);
        assert_rel((cb.bwd - ovh) / (co.bwd - ovh), 0.325 / 0.52, 1e-12);
    }
}

/* op o priced on s: its forward and backward seconds added to *f and *b */
static void op_add(const sp_op *o, const sp_system *s, double *f, double *b)
{
    sp_op_cost k;
    sp_op_price(o, s, NULL, &k);
    *f += k.fwd, *b += k.bwd;
}

/* the summed forward and backward of the ops of l with all of `flags` and none of `skip`, priced on s */
static void ops_sum(const sp_layer_ops *l, const sp_system *s, unsigned flags, unsigned skip, double *f, double *b)
{
    *f = *b = 0;
    for (int i = 0; i < l->n; i++)
        if ((l->op[i].flags & flags) == flags && !(l->op[i].flags & skip))
            op_add(&l->op[i], s, f, b);
}

/* Rule: HybridEP permutes inside its dispatch and combine (SP_OPF_IN_EP), so with the EP all-to-all overlapped
 * (overlap_ep) the permutation hides behind the FFN work the all-to-all leaves: exposed memory-bound time =
 * memory - min(permute, max(0, FFN - all-to-all)) per phase, exposed all-to-all = max(0, all-to-all - FFN); without
 * overlap, or with the all-to-all dispatcher (its permutation runs on the compute stream), nothing hides. Qwen3-30B-A3B
 * on 8 GB200s, EP 8, micro-batch 4, MXFP8, the megatron-core-26.06 stack (BRIDGE-26.06-16's layout). */
static void test_hybridep_permute_overlap(void **st)
{
    (void)st;
    sp_model m = load_model("qwen3-30b-a3b");
    sp_software sw;
    sp_system s = stack_system("gb200-nvl72", "megatron-core-26.06", &sw);
    sp_plan p = ep8_plan();
    p.n_gpus = 8, p.dtype = SP_MXFP8;
    p.moe_dispatcher = SP_DISP_HYBRIDEP;
    layer_fx fx;
    sp_layer_ops l;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 1, &l);
    const sp_op *perm = find_op(&l, "moe_permute");
    assert_non_null(perm);
    assert_true(perm->flags & SP_OPF_IN_EP);
    double ffn_f, ffn_b, mem_f, mem_b, ep_f, ep_b, pm_f, pm_b;
    ops_sum(&l, &s, SP_OPF_FFN, 0, &ffn_f, &ffn_b);
    ops_sum(&l, &s, SP_OPF_IN_EP, 0, &pm_f, &pm_b);
    mem_f = mem_b = ep_f = ep_b = 0;
    for (int i = 0; i < l.n; i++) {
        sp_op_cost k;
        sp_op_price(&l.op[i], &s, NULL, &k);
        if (l.op[i].flags & SP_OPF_RERUN_ONLY)
            continue;
        if (l.op[i].part == SP_PART_MEMORY)
            mem_f += k.fwd, mem_b += k.bwd;
        if (l.op[i].part == SP_PART_EP)
            ep_f += k.fwd, ep_b += k.bwd;
    }
    s.overlap_ep = 1;
    sp_layer_cost on, off;
    sp_layer_price(&l, &s, NULL, &on);
    assert_true(ffn_f > ep_f && ffn_f - ep_f > 0); /* the case the rule hides the permutation in */
    assert_rel(on.fwd_mem, mem_f - fmin(pm_f, ffn_f - ep_f), 1e-12);
    assert_rel(on.bwd_mem, mem_b - fmin(pm_b, fmax(0, ffn_b - ep_b)), 1e-12);
    assert_true(on.ep_fwd == fmax(0, ep_f - ffn_f) && on.ep_bwd == fmax(0, ep_b - ffn_b));
    s.overlap_ep = 0;
    sp_layer_price(&l, &s, NULL, &off);
    assert_rel(off.fwd_mem, mem_f, 1e-12);
    assert_rel(off.ep_fwd, ep_f, 1e-12);
    p.moe_dispatcher = SP_DISP_ALLTOALL;
    s.overlap_ep = 1;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 1, &l);
    assert_false(find_op(&l, "moe_permute")->flags & SP_OPF_IN_EP);
}

/* Rule: the token permutation's bytes (src/ops.c moe_permute). The all-to-all dispatcher permutes the T tokens'
 * k copies out (read T, write T·k rows), sorts the received copies by local expert and back (2 x read + write T·k)
 * and unpermutes (read T·k, write T): 50 T rows at k = 8 with 16 local experts, 4 kernels. The flex dispatchers
 * receive each token once per rank and permute those Td rows into the T·k expert rows and back: 2 (Td + T·k) rows,
 * Td = ep·T·(1 - C(E - E/ep, k) / C(E, k)) under uniform routing. Qwen3-30B-A3B (E 128, top-8, hidden 2048) at EP 8,
 * micro-batch 4 x 4096 = 16384 tokens: C(112,8)/C(128,8) = 0.33258038807706; all-to-all 819,200 rows x 4096 B =
 * 3,355,443,200 B each way; DeepEP and HybridEP 2 x (87,480.0233739631 + 131,072) rows x 4096 B = 1,790,378,175.48 B,
 * DeepEP 2 kernels (Megatron-Core's permute and unpermute), HybridEP none of the compute stream's (inside its
 * dispatch and combine calls). */
static void test_permute_bytes(void **st)
{
    (void)st;
    sp_model m = load_model("qwen3-30b-a3b");
    sp_system s = load_system("gb200-nvl72");
    double miss = 1;
    for (int i = 0; i < 8; i++)
        miss *= (112.0 - i) / (128.0 - i);
    assert_near(miss, 0.33258038807706, 1e-13);
    const double T = 16384, flex = 2 * (8 * T * (1 - miss) + 8 * T) * 2048 * 2;
    struct { sp_moe_dispatcher d; double bytes, kern; } k[] = {
        {SP_DISP_ALLTOALL, 3355443200.0, 4}, {SP_DISP_DEEPEP, flex, 2}, {SP_DISP_HYBRIDEP, flex, 0}};
    assert_near(flex, 1790378175.48, 0.01);
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_plan p = ep8_plan();
        p.n_gpus = 8, p.moe_dispatcher = k[i].d;
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 1, &l);
        const sp_op *o = find_op(&l, "moe_permute");
        assert_bytes_op(o, k[i].bytes, k[i].bytes, k[i].kern, k[i].kern);
    }
}

/* Rule: the router's top-k and aux loss (src/ops.c moe_router_kernels) over the T x E fp32 scores: unfused
 * (Megatron-Core's default) 8 / 4 kernels of a read + write pass for the top-k and 9 / 4 for the aux loss; with
 * moe_router_fusion Transformer Engine's fused kernels: top-k 1 / 1 kernel, 3.25 passes each way (the logits or the
 * gradient in, the probabilities, the 1-byte routing map and the saved intermediate out), aux loss 3 / 2 kernels, 4.5
 * / 4 passes. Qwen3-30B-A3B, micro-batch 4 x 4096 tokens, 128 experts: one pass = 16384 x 128 x 4 = 8,388,608 B. */
static void test_router_fusion(void **st)
{
    (void)st;
    sp_model m = load_model("qwen3-30b-a3b");
    sp_system s = load_system("gb200-nvl72");
    const double pass = 16384.0 * 128 * 4;
    struct { int fused; double tf, tb, tkf, tkb, af, ab, akf, akb; } k[] = {
        {0, 16 * pass, 8 * pass, 8, 4, 18 * pass, 8 * pass, 9, 4},
        {1, 3.25 * pass, 3.25 * pass, 1, 1, 4.5 * pass, 4 * pass, 3, 2}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_plan p = ep8_plan();
        p.n_gpus = 8, p.moe_router_fusion = k[i].fused;
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 1, &l);
        const sp_op *t = find_op(&l, "moe_router_topk"), *a = find_op(&l, "moe_aux_loss");
        assert_bytes_op(t, k[i].tf, k[i].tb, k[i].tkf, k[i].tkb);
        assert_bytes_op(a, k[i].af, k[i].ab, k[i].akf, k[i].akb);
    }
}

/* Rule: Transformer Engine's CuTe-DSL fused grouped MLP (src/ops.c moe_fused) runs the experts' gated activation
 * and the MXFP8 quantizations of the second GEMM's input (forward) and the first GEMM's output gradient (backward)
 * in the GEMM epilogues. Qwen3-30B-A3B, EP 8, micro-batch 4 x 4096 = 16384 tokens, top-8, expert width 768, MXFP8
 * (1 + 1/32 B per element with its block scales) on GB200: n = 16384 x 8 x 768 = 100,663,296 GLU outputs. Added:
 * fused_mlp_epilogue forward n x 2 x 1.03125 B (both MXFP8 copies written), backward n x (2 x 2 + 2 x 2 x 1.03125) B
 * (the saved 16-bit GEMM output's two halves read, the gradient's two halves written in both copies), no kernels of
 * its own. Removed: the activation's elementwise pass (n x 3 x 2 B forward, twice that backward) and the two
 * quantizations (Transformer Engine's MXFP8 operand: read 2 B, write both copies 2 x 1.03125 B = 4.0625 B per
 * element: n forward, 2n backward). Not on H100 (SM 9.0) nor under per-tensor FP8: the op list is the unfused one. */
static void test_fused_mlp(void **st)
{
    (void)st;
    sp_model m = load_model("qwen3-30b-a3b");
    const double n = 16384.0 * 8 * 768, op_b = 2 + 2 * 1.03125;
    struct { const char *sys; sp_dtype d; int fused; } k[] = {
        {"gb200-nvl72", SP_MXFP8, 1}, {"dgx-h100", SP_MXFP8, 0}, {"gb200-nvl72", SP_FP8, 0}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_system s = load_system(k[i].sys);
        const sp_op *o[2][2];
        sp_layer_ops l[2];
        layer_fx fx[2];
        for (int f = 0; f < 2; f++) {
            sp_plan p = ep8_plan();
            p.n_gpus = 8, p.dtype = k[i].d, p.te_quant = 1, p.moe_fused_mlp = f;
            sp_layer_build(layer_ctx(&fx[f], &m, &s, &p, 1), 1, &l[f]);
            o[f][0] = find_op(&l[f], "elementwise"), o[f][1] = find_op(&l[f], "fp8_casts");
        }
        if (!k[i].fused) {
            assert_null(find_op(&l[1], "fused_mlp_epilogue"));
            assert_int_equal(l[0].n, l[1].n);
            for (int j = 0; j < 2; j++)
                assert_bytes_op(o[1][j], o[0][j]->u.bytes.fwd, o[0][j]->u.bytes.bwd, o[0][j]->u.bytes.kernels_fwd,
                                o[0][j]->u.bytes.kernels_bwd);
            continue;
        }
        assert_bytes_op(find_op(&l[1], "fused_mlp_epilogue"), n * 2 * 1.03125, n * (4 + 4 * 1.03125), 0, 0);
        assert_int_equal(l[1].n, l[0].n + 1);
        assert_rel(o[0][0]->u.bytes.fwd - o[1][0]->u.bytes.fwd, n * 6, 1e-12);
        assert_rel(o[0][0]->u.bytes.bwd - o[1][0]->u.bytes.bwd, n * 12, 1e-12);
        assert_rel(o[0][1]->u.bytes.fwd - o[1][1]->u.bytes.fwd, n * op_b, 1e-12);
        assert_rel(o[0][1]->u.bytes.bwd - o[1][1]->u.bytes.bwd, 2 * n * op_b, 1e-12);
    }
}

/* Rule: a release regression of the fused MLP's backward kernel (src/ops.c DGLU_DBIAS_*). cudnn-frontend 1.24.0 and
 * 1.25.0 run grouped_gemm_dglu_wrapper_sm100 with the bias gradient 1362.768 / 155.632 = 8.7564 times slower than
 * the fixed 1.26.0 (cudnn-frontend PR #322's SM100 benchmark; issue #256), the path Transformer Engine takes when the
 * experts' first GEMM has a bias. The Megatron-Bridge presets state the container's release: 26.06 1.23.0, 26.06.01
 * 1.24.0, 26.08 1.26.0. GPT-OSS-120B (expert biases), EP 8, micro-batch 4 x 4096, top-4 of 128: 16 local experts of
 * 4096 rows, the second GEMM 4096 x 2880 x 2880, n = 65536 x 2880 GLU outputs, MXFP8 on GB200. Under 26.06.01 its
 * data-gradient GEMM (4096 x 2880 x 2880 on the curve, over the stack's grouped factor, 16 runs) and the
 * epilogue's backward traffic n x (4 + 4 x 1.03125) B take 8.7564 x their time; forward and the weight gradient
 * unchanged; 26.06 and 26.08 price the same. Qwen3-30B-A3B (no expert biases) takes the no-dbias path: not slowed under 26.06.01. */
static void test_dglu_dbias_regression(void **st)
{
    (void)st;
    const char *stack[3] = {"megatron-core-26.06", "megatron-core-26.06.01", "megatron-core-26.08"};
    const int release[3] = {12300, 12400, 12600};
    const double x = 1362.768 / 155.632, n = 65536.0 * 2880, epi_b = 4 + 4 * 1.03125;
    const char *model[2] = {"gpt-oss-120b", "qwen3-30b-a3b"};
    for (int mi = 0; mi < 2; mi++) {
        sp_model m = load_model(model[mi]);
        sp_op_cost c[3];
        for (int i = 0; i < 3; i++) {
            sp_system s = load_system("gb200-nvl72");
            sp_software sw;
            sp_error er = {0};
            assert_int_equal(sp_load_software(SP_DATA_DIR, stack[i], &sw, &er), SP_OK);
            assert_int_equal(sw.cudnn_frontend, release[i]);
            sp_software_apply_system(&sw, &s);
            sp_plan p = ep8_plan();
            p.n_gpus = 8, p.dtype = SP_MXFP8, p.te_quant = 1, p.moe_fused_mlp = 1;
            layer_fx fx;
            sp_layer_ops l;
            sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 1, &l);
            const sp_op *d = find_op(&l, "experts_down"), *e = find_op(&l, "fused_mlp_epilogue");
            assert_non_null(d), assert_non_null(e);
            int slow = mi == 0 && i == 1;
            assert_rel(d->u.gemm.dgrad_x, slow ? x : 1.0, 1e-15);
            sp_op_price(d, &s, NULL, &c[i]);
            if (mi == 0) {
                assert_rel(d->u.gemm.m, 4096, 1e-12);
                assert_rel(d->u.gemm.k, 2880, 1e-12);
                assert_bytes_op(e, n * 2 * 1.03125, (slow ? x : 1.0) * n * epi_b, 0, 0);
            }
            if (slow) {
                double g = s.acc.eff.grouped_gemm > 0 ? s.acc.eff.grouped_gemm : 1;
                double dg = sp_gemm_time(&s.acc, SP_MXFP8, 4096, 2880, 2880, 1) / g;
                assert_true(dg > 0);
                assert_rel(c[1].fwd, c[0].fwd, 1e-12);
                assert_rel(d->count, 16, 1e-12); /* sp_op_price: all local experts' runs */
                assert_rel(c[1].bwd - c[0].bwd, 16 * (x - 1) * dg, 1e-9);
            }
        }
        assert_rel(c[2].fwd, c[0].fwd, 1e-12);
        assert_rel(c[2].bwd, c[0].bwd, 1e-12);
        if (mi == 1)
            assert_rel(c[1].bwd, c[0].bwd, 1e-12);
    }
}

/* Rule: Megatron-Core fp8_output_proj (src/ops.c sp_ops_lm_head) runs the LM head as Transformer Engine's MXFP8
 * linear: its GEMM at the MXFP8 dtype instead of BF16, plus one memory-bound op lm_head_casts quantizing its input
 * and logits' gradient as an MXFP8 operand (read 2 B, write both 1 + 1/32 B copies = 4.0625 B per element, nothing
 * re-laid out backward) and its weight once per step. DeepSeek-V3 (h 7168, vocab 129280) at TP 1, EP 8, DP 1,
 * micro-batch 4 x 4096 = 16384 tokens, global batch 256 = 8 micro-batches per replica: forward 16384 x 7168 x
 * 4.0625 + 129280 x 7168 x 4.0625 / 8 B, backward 16384 x 129280 x 4.0625 B; one kernel each way. Off, or on
 * under per-tensor FP8 (Megatron-Core refuses it without MXFP8), the LM head is the BF16 GEMM alone. */
static void test_fp8_output_proj(void **st)
{
    (void)st;
    sp_model m = load_model("deepseek-v3");
    sp_system s = load_system("gb200-nvl72");
    const double T = 16384, h = 7168, V = 129280, q = 2 + 2 * 1.03125;
    struct { sp_dtype d; int on, mx; } k[] = {{SP_MXFP8, 1, 1}, {SP_MXFP8, 0, 0}, {SP_FP8, 1, 0}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sp_plan p = ep8_plan();
        p.n_gpus = 8, p.dp = 1, p.global_batch = 256, p.dtype = k[i].d, p.te_quant = 1, p.fp8_output_proj = k[i].on;
        layer_fx fx;
        sp_layer_ops l;
        sp_ops_lm_head(layer_ctx(&fx, &m, &s, &p, 1), &l);
        const sp_op *g = find_op(&l, "lm_head");
        assert_non_null(g);
        assert_int_equal(g->u.gemm.dtype, k[i].mx ? SP_MXFP8 : SP_BF16);
        assert_rel(g->u.gemm.m * g->u.gemm.n * g->u.gemm.k, T * V * h, 1e-12);
        if (!k[i].mx) {
            assert_null(find_op(&l, "lm_head_casts"));
            continue;
        }
        assert_bytes_op(find_op(&l, "lm_head_casts"), T * h * q + V * h * q / 8, T * V * q, 1, 1);
    }
}

/* Rule: the dispatch payload (src/ops.c moe_dispatch_bytes). Megatron-Core's all-to-all dispatcher sends the MoE
 * layer's 16-bit input unquantized (token_dispatcher.py:669-677, 705-711 at d98e8a64ddf3; the megatron-core stack's
 * kernels.alltoall_dispatch_16bit) and Transformer Engine's GroupedLinear casts each received copy: Qwen3-30B-A3B at
 * EP 8 in FP8, 4096 tokens, top-8, hidden 2048: dispatch = combine = 4096 x 8 x 2048 x 2 B = 134,217,728 B, and the
 * routed cast input is the 16 local experts x 2048 copies x 2048 = 4096 x 8 x 2048 values where a quantized dispatch
 * casts the 4096 x 2048 tokens once (q_in 58,720,256 = 4096 x 7 x 2048 values larger). The flex dispatcher (DeepEP)
 * keeps the k FP8 copies (their node deduplication unpriced, docs/model.md "Known gaps"), and without a stack the
 * dispatch is quantized with the GEMMs (DeepSeek-V3 §3.3): 67,108,864 B. */
static void test_dispatch_payload(void **st)
{
    (void)st;
    sp_model m = load_model("qwen3-30b-a3b");
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 8, p.ep = 8, p.micro_batch = 1, p.seq_len = 4096, p.dtype = SP_FP8;
    sp_software sw;
    sp_system mc = stack_system("dgx-h100", "megatron-core-26.06", &sw), bare = load_system("dgx-h100");
    assert_true(mc.a2a_dispatch_16bit && !bare.a2a_dispatch_16bit);
    const double full = 4096.0 * 8 * 2048 * 2, half = full / 2;
    struct {
        const sp_system *s;
        sp_moe_dispatcher d;
        double disp;
    } k[] = {{&mc, SP_DISP_ALLTOALL, full}, {&mc, SP_DISP_DEEPEP, half}, {&bare, SP_DISP_ALLTOALL, half}};
    double q_in[3];
    for (int i = 0; i < 3; i++) {
        p.moe_dispatcher = k[i].d;
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build(layer_ctx(&fx, &m, k[i].s, &p, 1), 1, &l);
        assert_true(find_op(&l, "ep_dispatch")->u.coll.bytes == k[i].disp);
        assert_true(find_op(&l, "ep_combine")->u.coll.bytes == full);
        q_in[i] = fx.c.q_in;
    }
    assert_true(q_in[0] - q_in[1] == 4096.0 * 7 * 2048);
    assert_true(q_in[1] == q_in[2]);
}

/* Rule: a clamped gated activation (GPT-OSS, swiglu_limit 7.0 by its family default) gets Megatron-Core's eager
 * clamps and concatenation as one memory-bound op (src/ops.c CLAMP_*): GPT-OSS-120B at EP 8, micro-batch 4 x 4096
 * tokens, top-4: 65536 routed rows x 2880 per half = 188,743,680 elements at 16 B forward and 30 B backward, 3 / 9
 * kernels; the clamped copy of both halves (2 x 2 B per element) is kept unless moe_act (or moe) recompute re-runs
 * the activation, which re-runs this op too; absent under a full-iteration graph (Transformer Engine's fused
 * activation clamps) and in models without a clamp (Qwen3-30B-A3B). */
static void test_act_clamp(void **st)
{
    (void)st;
    sp_model m = load_model("gpt-oss-120b"), q = load_model("qwen3-30b-a3b");
    sp_system s = load_system("dgx-b200");
    assert_true(m.act_clamp == 7.0 && q.act_clamp == 0);
    const double n = 65536.0 * 2880.0;
    sp_plan p = ep8_plan();
    layer_fx fx;
    sp_layer_ops l;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 1, &l);
    const sp_op *o = find_op(&l, "act_clamp");
    assert_bytes_op(o, 16 * n, 30 * n, 3, 9);
    assert_true(o->rerun == (SP_RCM_MOE | SP_RCM_MOE_ACT));
    assert_true(o->n_saved == 1);
    assert_rel(o->saved[0].bytes, 4 * n, 1e-12);
    assert_true(o->saved[0].drop == (SP_RCM_MOE | SP_RCM_MOE_ACT | SP_RCM_LAYER) && o->saved[0].need == 0);
    p.cuda_graphs = SP_GRAPH_FULL_ITERATION;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 1, &l);
    assert_null(find_op(&l, "act_clamp"));
    p.cuda_graphs = 0;
    sp_layer_build(layer_ctx(&fx, &q, &s, &p, 1), 1, &l);
    assert_null(find_op(&l, "act_clamp"));
}

/* Rule: a YaRN-scaled RoPE (GPT-OSS: concentration factor 0.1 ln 32 + 1) runs Megatron-Core's eager rotary where the
 * stack says its fused RoPE takes no scale (kernels.rope_mscale_unfused, megatron-core-26.04): one memory-bound op over
 * the query and key, 24 B forward and 26 B backward per element, 2 x 12 / 2 x 7 kernels, and the elementwise op loses
 * the fused rotary's read + write of q, k and v (2 x 2 B per element of qd + 2 kvd forward, twice backward).
 * GPT-OSS-120B, micro-batch 4 x 4096 tokens, TP 1: q + k = 64 x 64 + 8 x 64 = 4608 per token, 75,497,472 elements.
 * Not with megatron-core-25.09 (core 0.14 fuses whatever the scale), nor for a model without YaRN (Qwen3-30B-A3B). */
static void test_rope_eager(void **st)
{
    (void)st;
    sp_model m = load_model("gpt-oss-120b"), q = load_model("qwen3-30b-a3b");
    assert_rel(m.rope_mscale, 0.1 * log(32.0) + 1, 1e-15);
    assert_true(q.rope_mscale == 0);
    sp_plan p = ep8_plan();
    const double T = 16384, n = T * 4608, qkv = T * (4096 + 2 * 512);
    const char *stack[] = {"megatron-core-26.04", "megatron-core-25.09"};
    double el[2];
    for (int i = 0; i < 2; i++) {
        sp_software sw;
        sp_system s = stack_system("dgx-b200", stack[i], &sw);
        assert_int_equal(s.rope_mscale_unfused, i == 0);
        layer_fx fx;
        sp_layer_ops l;
        sp_layer_build_kind(layer_ctx(&fx, &m, &s, &p, 1), SP_MIX_SWA, SP_FFN_MOE, &l);
        const sp_op *o = find_op(&l, "rope_eager");
        el[i] = find_op(&l, "elementwise")->u.bytes.fwd;
        if (i == 1) {
            assert_null(o);
            continue;
        }
        assert_bytes_op(o, 24 * n, 26 * n, 24, 14);
        sp_layer_build(layer_ctx(&fx, &q, &s, &p, 1), 1, &l);
        assert_null(find_op(&l, "rope_eager"));
    }
    assert_rel(el[1] - el[0], 4 * qkv, 1e-12);
}

/* Rule: a frozen base skips the FP8 re-layout of the saved GEMM inputs for the weight-gradient GEMMs (Transformer
 * Engine saves and transposes a linear's input only when its weight requires a gradient: src/ops.c
 * fp8_casts, hardware.c sp_quant_relayout_bytes). Llama-3-8B, FP8, TP 1, 4096 tokens: the layer's FP8 GEMM inputs are the QKV and
 * up/gate input (h each), the output projection's (q_dim) and the down projection's (f): q_in = T·(2h + qd + f)
 * = 4096 x 26624 elements, re-laid at read 1 + write 1 byte, so the backward casts move exactly 2·q_in bytes
 * (218,103,808) fewer; the forward casts (inputs and weights) are the same. */
static void test_frozen_fp8_no_wgrad_transpose(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_system s = load_system("dgx-h100");
    sp_plan p;
    sp_plan_defaults(&p);
    p.seq_len = 4096, p.dtype = SP_FP8;
    layer_fx fx;
    sp_layer_ops trained, frozen;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 0, &trained);
    p.frozen_base = 1;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 0, &frozen);
    const sp_op *a = find_op(&trained, "fp8_casts"), *b = find_op(&frozen, "fp8_casts");
    assert_non_null(a);
    assert_non_null(b);
    double q_in = 4096.0 * (2 * m.d_model + sp_model_attn_qdim(&m) + m.ffn_dim);
    assert_true(q_in == 4096.0 * 26624);
    assert_rel(a->u.bytes.bwd - b->u.bytes.bwd, 2 * q_in, 1e-12);
    assert_rel(a->u.bytes.fwd, b->u.bytes.fwd, 1e-15);
}

/* the forward and backward time of the op named `name` in l, priced on s */
static void op_fb(const sp_layer_ops *l, const sp_system *s, const char *name, double *f, double *b)
{
    const sp_op *o = find_op(l, name);
    assert_non_null(o);
    *f = *b = 0;
    op_add(o, s, f, b);
}

/* Rule: async TP on the torchtitan stack (kernels.tp_overlap micro_pipeline) fuses each TP collective with its GEMM,
 * decomposed in TP steps (ops.c tp_pipe_expose): forward, the all-gather hides behind 7/8 of qkv (mlp_gate + mlp_up) and the
 * reduce-scatter behind 7/8 of attn_out (mlp_down); backward, only the reduce-scatter's all-gather, behind 7/8 of
 * the data-gradient half of attn_out (mlp_down); the all-gather's backward reduce-scatter stays exposed. Added,
 * exposed: the local-shard copy (2 bytes/8 per fused all-gather) and the partials' reduction (bytes x 9/8) at the
 * memory rate. Llama 3 8B on 8 H100s, TP 8 with SP, micro-batch 2 x 8192. The Megatron-Core stack keeps the 70 %
 * rule (chunked). */
static void test_async_tp_micro_pipeline(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_software sw;
    sp_system s = stack_system("dgx-h100", "torchtitan", &sw);
    assert_int_equal(sw.tp_micro_pipeline, 1);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 8, p.tp = 8, p.seq_parallel = 1, p.micro_batch = 2, p.seq_len = 8192;
    layer_fx fx;
    sp_layer_ops l;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 0, &l);
    const char *g[4] = {"qkv", "attn_out", "mlp_up", "mlp_down"};
    const char *k[4] = {"tp_attn_allgather", "tp_attn_reducescatter", "tp_ffn_allgather", "tp_ffn_reducescatter"};
    double gf[4], gb[4], cf[4], cb[4], tpf = 0, tpb = 0;
    for (int i = 0; i < 4; i++) {
        op_fb(&l, &s, g[i], &gf[i], &gb[i]);
        op_fb(&l, &s, k[i], &cf[i], &cb[i]);
        tpf += cf[i], tpb += cb[i];
    }
    double bytes = find_op(&l, "tp_attn_allgather")->u.coll.bytes, bw = s.acc.hbm_bw * s.acc.eff.mem, sh = 7.0 / 8;
    double ef = tpf, eb = tpb;
    double in_f[2], in_b;
    ops_sum(&l, &s, SP_OPF_TP_IN, SP_OPF_TP_FFN | SP_OPF_RERUN_ONLY, &in_f[0], &in_b); /* qkv */
    ops_sum(&l, &s, SP_OPF_TP_IN | SP_OPF_TP_FFN, SP_OPF_RERUN_ONLY, &in_f[1], &in_b); /* mlp_gate + mlp_up */
    assert_true(in_f[1] > gf[2]); /* torchtitan's w1 and w3 are two GEMMs, both fused with the all-gather */
    for (int blk = 0; blk < 2; blk++) {
        const double *f = gf + 2 * blk, *cc = cf + 2 * blk;
        ef += 2 * bytes / 8 / bw - fmin(cc[0], sh * in_f[blk]) + bytes * 9 / 8 / bw - fmin(cc[1], sh * f[1]);
        eb += 2 * bytes / 8 / bw - fmin(cb[2 * blk + 1], sh * 0.5 * gb[2 * blk + 1]);
    }
    s.overlap_tp = 1;
    sp_layer_cost on;
    sp_layer_price(&l, &s, NULL, &on);
    assert_rel(on.tp_fwd, ef, 1e-12);
    assert_rel(on.tp_bwd, eb, 1e-12);
    assert_true(on.tp_fwd < tpf && on.tp_bwd < tpb);
    s.tp_micro_pipeline = 0; /* chunked (Megatron-Core): the 70 % rule over every linear GEMM */
    double lf, lb;
    ops_sum(&l, &s, SP_OPF_LINEAR, SP_OPF_RERUN_ONLY, &lf, &lb);
    sp_layer_price(&l, &s, NULL, &on);
    assert_rel(on.tp_fwd, fmax(0, tpf - 0.7 * lf), 1e-12);
    sp_error e = {0};
    assert_int_equal(sp_load_software(SP_DATA_DIR, "megatron-core", &sw, &e), SP_OK);
    assert_int_equal(sw.tp_micro_pipeline, 0);
}

/* Rule: a stack whose model code runs separate projections (kernels.separate_qkv, separate_gate_up: torchtitan's
 * wq/wk/wv and w1/w3 linears) prices them as that many GEMMs of the same input, each at its own shape: Llama 3 8B at
 * TP 8 on torchtitan-0.1, q 4096/8, k and v 1024/8 columns, gate and up 14336/8; FLOPs equal the fused ones; per-op
 * SAC re-runs wk and w3 (the second and sixth mm) as the ops themselves (no sac_k / sac_up). A fused stack
 * (megatron-core) keeps one qkv and one mlp_up. */
static void test_separate_projections(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_software sw;
    sp_system s = stack_system("dgx-h100", "torchtitan-0.1", &sw);
    assert_true(sw.separate_qkv && sw.separate_gate_up);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 8, p.tp = 8, p.seq_parallel = 1, p.micro_batch = 2, p.seq_len = 8192;
    p.recompute = SP_RECOMPUTE_SELECTIVE, p.recompute_modules = SP_RCM_OP_SAC;
    layer_fx fx;
    sp_layer_ops l;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 0, &l);
    const char *nm[5] = {"q_proj", "k_proj", "v_proj", "mlp_gate", "mlp_up"};
    const double n[5] = {512, 128, 128, 1792, 1792};
    for (int i = 0; i < 5; i++) {
        const sp_op *o = find_op(&l, nm[i]);
        assert_non_null(o);
        assert_true(o->u.gemm.m == 2 * 8192 && o->u.gemm.k == 4096 && o->u.gemm.n == n[i]);
        assert_true(o->flags & SP_OPF_TP_IN);
        assert_int_equal((o->rerun & SP_RCM_OP_SAC) != 0, i == 1 || i == 4);
    }
    assert_null(find_op(&l, "qkv"));
    assert_null(find_op(&l, "sac_k"));
    assert_null(find_op(&l, "sac_up"));
    s.separate_qkv = s.separate_gate_up = 0;
    sp_layer_build(layer_ctx(&fx, &m, &s, &p, 1), 0, &l);
    assert_true(find_op(&l, "qkv")->u.gemm.n == 768 && find_op(&l, "mlp_up")->u.gemm.n == 3584);
    assert_null(find_op(&l, "q_proj"));
    sp_error e = {0};
    assert_int_equal(sp_load_software(SP_DATA_DIR, "megatron-core", &sw, &e), SP_OK);
    assert_false(sw.separate_qkv || sw.separate_gate_up);
    assert_int_equal(sp_load_software(SP_DATA_DIR, "torchtitan", &sw, &e), SP_OK);
    assert_true(!sw.separate_qkv && sw.separate_gate_up);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_layer_flops),
        cmocka_unit_test(test_moe_expert_flops),
        cmocka_unit_test(test_node_limited_alltoall),
        cmocka_unit_test(test_engine_step_is_decode),
        cmocka_unit_test(test_max_ops),
        cmocka_unit_test(test_attention_kernel_class),
        cmocka_unit_test(test_saved_activations_korthikanti),
        cmocka_unit_test(test_dropout_masks),
        cmocka_unit_test(test_sliding_band),
        cmocka_unit_test(test_packed_attention),
        cmocka_unit_test(test_sinks_kernel_support),
        cmocka_unit_test(test_host_dispatch),
        cmocka_unit_test(test_host_sync),
        cmocka_unit_test(test_moe_pad_m),
        cmocka_unit_test(test_moe_pad_no_sync),
        cmocka_unit_test(test_band_rate),
        cmocka_unit_test(test_container_attention),
        cmocka_unit_test(test_grouped_host),
        cmocka_unit_test(test_nvfp4_casts),
        cmocka_unit_test(test_te_quant_casts),
        cmocka_unit_test(test_nvfp4_gemm_rel),
        cmocka_unit_test(test_mxfp8_gemm_rel),
        cmocka_unit_test(test_fp8_rowwise_casts),
        cmocka_unit_test(test_eager_elementwise),
        cmocka_unit_test(test_grouped_host_priced),
        cmocka_unit_test(test_expert_bias),
        cmocka_unit_test(test_act_clamp),
        cmocka_unit_test(test_rope_eager),
        cmocka_unit_test(test_frozen_fp8_no_wgrad_transpose),
        cmocka_unit_test(test_hybridep_permute_overlap),
        cmocka_unit_test(test_permute_bytes),
        cmocka_unit_test(test_router_fusion),
        cmocka_unit_test(test_fused_mlp),
        cmocka_unit_test(test_capability_gates),
        cmocka_unit_test(test_attn_exp_roofline),
        cmocka_unit_test(test_fp8_output_proj),
        cmocka_unit_test(test_fp8_attention),
        cmocka_unit_test(test_dglu_dbias_regression),
        cmocka_unit_test(test_dispatch_payload),
        cmocka_unit_test(test_async_tp_micro_pipeline),
        cmocka_unit_test(test_separate_projections),
        cmocka_unit_test(test_ssd_scan_rate),
        cmocka_unit_test(test_etp_gather_sp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
