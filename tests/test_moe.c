/* MoE in the training model (issue 8): the DeepSeek-V3 reference run and the property tests. */
#include "testutil.h"

#include <stdlib.h>

#include "plan.h"

static sp_search_entry top_r[SP_SEARCH_MAX_TOP]; /* caller-owned top-k buffer of sp_search */

static sp_train_result eval(const sp_model *m, const sp_system *s, sp_plan p)
{
    sp_error e = {0};
    if (sp_plan_resolve(&p, m, s, &e))
        fail_msg("%s", e.msg);
    sp_train_result r;
    if (sp_train_eval(m, s, &p, &r, &e))
        fail_msg("%s", e.msg);
    return r;
}

/* DeepSeek-V3 report (arXiv:2412.19437) Table 1 / §3: 14.8T tokens, 2048 H800, PP 16, EP 64 over 8 nodes, ZeRO-1,
 * FP8, 4K sequences, batch 15360: 2.664M GPU-hours for pre-training. Target: within 25 %. */
static void test_deepseek_v3(void **st)
{
    (void)st;
    sp_model m = load_model("deepseek-v3");
    sp_system s = load_system("h800-cluster");
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 2048;
    p.pp = 16;
    p.ep = 64;
    p.zero = 1;
    p.dtype = SP_FP8;
    p.global_batch = 15360;
    p.seq_len = 4096;
    sp_recompute rc[] = {SP_RECOMPUTE_NONE, SP_RECOMPUTE_FULL};
    for (int i = 0; i < 2; i++) {
        p.recompute = rc[i];
        sp_train_result r = eval(&m, &s, p);
        double gpu_hours = 14.8e12 / r.tokens_per_s * 2048 / 3600;
        print_message("DeepSeek-V3 (%s recompute): %.3gM GPU-hours (reported 2.664M), bottleneck %s, fits %d\n",
                      sp_recompute_name(rc[i]), gpu_hours / 1e6, r.bottleneck, r.fits);
        assert_rel(gpu_hours, 2.664e6, 0.25);
    }
}

/* EP = 1 with one expert is the dense model exactly */
static void test_one_expert_is_dense(void **st)
{
    (void)st;
    sp_model d = load_model("llama3-8b"), e = d;
    e.n_experts = 1;
    e.top_k = 1;
    e.moe_ffn_dim = d.ffn_dim;
    sp_system s = load_system("dgx-h100");
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 16;
    p.tp = 2;
    p.pp = 2;
    p.global_batch = 64;
    p.seq_len = 4096;
    sp_train_result a = eval(&d, &s, p), b = eval(&e, &s, p);
    assert_true(a.step_time_s == b.step_time_s);
    assert_true(a.mem.total == b.mem.total);
}

/* more experts at the same active parameters never reduce memory; the all-to-all grows with the nodes the EP group
 * spans */
static void test_moe_properties(void **st)
{
    (void)st;
    sp_model m = load_model("mixtral-8x7b");
    sp_system s = load_system("dgx-h100");
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 64;
    p.ep = 8;
    p.global_batch = 256;
    p.seq_len = 4096;
    p.zero = 1;
    double prev = 0;
    for (int e = 8; e <= 64; e *= 2) {
        sp_model x = m;
        x.n_experts = e;
        sp_train_result r = eval(&x, &s, p);
        assert_true(r.mem.total >= prev);
        prev = r.mem.total;
    }
    /* EP inside one node vs EP spread over 2, 4 nodes (DP moved inside by striding TP/CP) */
    sp_model x = m;
    x.n_experts = 32;
    double last = 0;
    for (int ep = 8; ep <= 32; ep *= 2) {
        sp_plan q = p;
        q.ep = ep;
        sp_train_result r = eval(&x, &s, q);
        double per_token = r.t.ep_comm / r.tokens_per_step;
        assert_true(per_token >= last);
        last = per_token;
    }
}

static sp_plan mixtral_plan(void)
{
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 64;
    p.ep = 8;
    p.global_batch = 256;
    p.seq_len = 4096;
    p.zero = 1;
    return p;
}

/* Load imbalance: the busiest EP rank's expert GEMMs and all-to-all grow with f; a capacity factor caps it
 * (dropping) or fixes it (padding); with EP = 1 one rank holds every expert and f has no effect. */
static void test_capacity_and_imbalance(void **st)
{
    (void)st;
    sp_model m = load_model("mixtral-8x7b");
    sp_system s = load_system("dgx-h100");
    sp_plan p = mixtral_plan();
    sp_train_result base = eval(&m, &s, p);
    sp_plan q = p;
    q.moe_imbalance = 1.5;
    sp_train_result f15 = eval(&m, &s, q);
    /* EP = 8 inside one NVLink node, no overlap in this stack: all-to-all time is bandwidth plus a fixed latency
     * term, so 1.5x the bytes gives a little under 1.5x the time */
    double ratio = f15.t.ep_comm / base.t.ep_comm;
    print_message("imbalance 1.5: all-to-all x%.3f, GEMM time x%.3f, step x%.3f\n", ratio,
                  f15.t.compute / base.t.compute, f15.step_time_s / base.step_time_s);
    assert_true(ratio > 1.35 && ratio <= 1.5 + 1e-9);
    /* experts are ~2/3 of Mixtral's layer FLOPs at s = 4096: the GEMM time grows, by less than 1.5x */
    assert_true(f15.t.compute > 1.2 * base.t.compute && f15.t.compute < 1.5 * base.t.compute);
    assert_true(f15.mem.activations > base.mem.activations);
    /* capacity 1.0 drops everything above the mean: same as uniform routing */
    q.capacity_factor = 1.0;
    sp_train_result c1 = eval(&m, &s, q);
    assert_true(c1.step_time_s == base.step_time_s && c1.mem.total == base.mem.total);
    /* padded to capacity 1.25: every expert runs at 1.25x the mean, whatever the routing */
    q.capacity_factor = 1.25;
    q.moe_pad = 1;
    q.moe_imbalance = 0;
    sp_train_result pad = eval(&m, &s, q);
    q.moe_pad = 0;
    q.capacity_factor = 0;
    q.moe_imbalance = 1.25;
    sp_train_result f125 = eval(&m, &s, q);
    assert_true(pad.step_time_s == f125.step_time_s);
    /* EP = 1: no rank is busier than the mean */
    sp_plan r = p;
    r.ep = 1;
    r.tp = 8;
    sp_train_result e1 = eval(&m, &s, r);
    r.moe_imbalance = 3;
    assert_true(eval(&m, &s, r).step_time_s == e1.step_time_s);
    /* bad values are refused */
    sp_error err = {0};
    sp_plan bad = p;
    bad.moe_imbalance = 0.5;
    assert_int_equal(sp_plan_resolve(&bad, &m, &s, &err), SP_EINVAL);
    bad = p;
    bad.moe_pad = 1;
    assert_int_equal(sp_plan_resolve(&bad, &m, &s, &err), SP_EINVAL);
}

/* Expert tensor parallelism: ETP = TP (the default) is the model before ETP existed; expert weights per GPU fall
 * as 1/(EP x ETP); ETP must tile the GPUs. */
static void test_etp(void **st)
{
    (void)st;
    sp_model m = load_model("mixtral-8x7b");
    sp_system s = load_system("dgx-h100");
    sp_plan p = mixtral_plan();
    p.tp = 4;
    p.ep = 4;
    p.n_gpus = 64;
    sp_train_result def = eval(&m, &s, p);
    sp_plan q = p;
    q.etp = 4;
    sp_train_result same = eval(&m, &s, q);
    assert_true(same.step_time_s == def.step_time_s && same.mem.total == def.mem.total);
    /* TP = 1: ETP = 1 is today's result */
    sp_plan t1 = mixtral_plan();
    sp_train_result a = eval(&m, &s, t1);
    t1.etp = 1;
    assert_true(eval(&m, &s, t1).step_time_s == a.step_time_s);
    /* weights: the routed experts of the heaviest stage are 2 B x L x E x expert / (EP x ETP) */
    sp_param_count pc;
    sp_model_params(&m, &pc);
    double routed = (double)m.n_layers * m.n_experts * pc.expert;
    double prev = 0;
    for (int e = 1; e <= 8; e *= 2) {
        q.etp = e;
        sp_train_result r = eval(&m, &s, q);
        if (prev > 0)
            assert_rel(prev - r.mem.weights, 2.0 * routed / (p.ep * (e / 2)) - 2.0 * routed / (p.ep * e), 1e-9);
        prev = r.mem.weights;
        assert_true(isfinite(r.step_time_s) && r.step_time_s > 0);
        print_message("TP 4, EP 4, ETP %d: step %.3f s, weights %.2f GiB\n", e, r.step_time_s, r.mem.weights / 1073741824.0);
    }
    /* more EP at the same TP and ETP: fewer expert weights, by exactly the routed experts' share */
    sp_plan u = p, v = p;
    u.tp = v.tp = 2;
    u.etp = v.etp = 2;
    u.ep = 8;
    v.ep = 4;
    assert_rel(eval(&m, &s, v).mem.weights - eval(&m, &s, u).mem.weights, 2.0 * routed / 8 - 2.0 * routed / 16, 1e-9);
    sp_error err = {0};
    sp_plan bad = p;
    bad.etp = 3;
    assert_int_equal(sp_plan_resolve(&bad, &m, &s, &err), SP_EINVAL);
    sp_model d = load_model("llama3-8b");
    bad = p;
    bad.ep = 1;
    bad.etp = 2;
    assert_int_equal(sp_plan_resolve(&bad, &d, &s, &err), SP_EINVAL);
}

/* FP8: saved GEMM inputs in FP8 shrink activations by the expected tensors; compute-bound plans are faster than
 * BF16 at the same plan; the Hopper FP8 GEMM curve reproduces the measurements it was fitted to. */
static void test_fp8(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_system s = load_system("dgx-h100");
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 8;
    p.global_batch = 64;
    p.seq_len = 8192;
    p.zero = 1;
    p.flash_attention = 1;
    sp_train_result b = eval(&m, &s, p);
    p.dtype = SP_FP8;
    sp_train_result f = eval(&m, &s, p);
    /* per layer, units of s·b·h bytes (Korthikanti et al. generalised; Llama 3 trains without dropout, so no
     * 1-byte masks on its two sublayer outputs): BF16 8 + (4·qd + 4·kvd)/h + 6·f/h = 8 + 5 + 21 = 34; FP8-saved
     * inputs: 6 + (3·qd + 4·kvd)/h + 5·f/h = 6 + 4 + 17.5 = 27.5 */
    assert_rel(f.mem.activations_layers / b.mem.activations_layers, 27.5 / 34.0, 1e-12);
    assert_true(f.mem.weights == b.mem.weights && f.mem.optimizer == b.mem.optimizer); /* FP32 master + Adam */
    /* compute-bound plans: FP8 is never slower than BF16 */
    const char *models[] = {"llama3-8b", "llama3-70b", "gpt3-175b", "mixtral-8x7b"};
    for (int i = 0; i < 4; i++) {
        sp_model x = load_model(models[i]);
        sp_plan q;
        sp_plan_defaults(&q);
        q.tp = 8;
        q.pp = i == 2 ? 8 : 2;
        q.n_gpus = q.tp * q.pp * 4;
        q.micro_batch = 2;
        q.seq_len = 4096;
        q.global_batch = 4 * 2 * 8 * q.pp;
        q.seq_parallel = 1;
        q.recompute = SP_RECOMPUTE_SELECTIVE;
        sp_train_result rb = eval(&x, &s, q);
        q.dtype = SP_FP8;
        sp_train_result rf = eval(&x, &s, q);
        print_message("%s: bf16 %.3f s, fp8 %.3f s (x%.2f)\n", models[i], rb.step_time_s, rf.step_time_s,
                      rb.step_time_s / rf.step_time_s);
        assert_true(rf.step_time_s < rb.step_time_s);
        assert_true(rf.t.compute < rb.t.compute);
    }
    /* the FP8 curve against its source (tile-lang, H800, M = N = 8192): within 10 % for K >= 1024 */
    sp_system h8 = load_system("h800-cluster");
    const double K[] = {1024, 2048, 4096, 8192, 16384}, tf[] = {927, 1174, 1378, 1461, 1523};
    for (int i = 0; i < 5; i++) {
        double t = sp_gemm_time(&h8.acc, SP_FP8, 8192, 8192, K[i], 1);
        assert_rel(2.0 * 8192 * 8192 * K[i] / t / 1e12, tf[i], 0.10);
    }
}

/* 1M-token context with ring attention (CP 16..64): finite, attention-dominated, memory falls as 1/CP, time
 * halves with CP when attention dominates. */
static void test_long_context(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_system s = load_system("dgx-h100");
    const int S = 1048576;
    /* attention FLOPs per token (4·s·a·d_head per layer) against 2 x active parameters */
    double fwd = sp_model_fwd_flops_per_token(&m, S);
    double attn = 4.0 * S * m.n_heads * (double)m.d_head * m.n_layers;
    assert_true(attn / fwd > 0.9);
    sp_train_result prev = {0};
    for (int cp = 16; cp <= 64; cp *= 2) {
        sp_plan p;
        sp_plan_defaults(&p);
        p.n_gpus = cp;
        p.cp = cp;
        p.seq_len = S;
        p.global_batch = 1;
        p.zero = 3;
        p.recompute = SP_RECOMPUTE_FULL;
        sp_train_result r = eval(&m, &s, p);
        print_message("Llama-3-8B, 1M tokens, CP %d: step %.1f s, MFU %.1f %%, memory %.1f GiB (fits %d), CP exposed %.3f s\n",
                      cp, r.step_time_s, 100 * r.mfu, r.mem.total / 1073741824.0, r.fits, r.t.cp_comm);
        assert_true(isfinite(r.step_time_s) && r.step_time_s > 0 && r.mfu > 0 && r.hfu <= 1);
        if (prev.step_time_s > 0) {
            assert_rel(prev.step_time_s / r.step_time_s, 2.0, 0.05);
            assert_rel(prev.mem.activations / r.mem.activations, 2.0, 1e-9);
            assert_rel(prev.mem.embedding_logits / r.mem.embedding_logits, 2.0, 1e-9);
            assert_true(r.mem.weights < prev.mem.weights); /* ZeRO-3 shards over the CP ranks too */
        }
        if (cp >= 32)
            assert_true(r.fits);
        prev = r;
    }
    /* 70B: TP 8 x CP 32 on 256 GPUs */
    sp_model b = load_model("llama3-70b");
    sp_plan p;
    sp_plan_defaults(&p);
    p.tp = 8;
    p.cp = 32;
    p.n_gpus = 256;
    p.seq_len = S;
    p.global_batch = 1;
    p.seq_parallel = 1;
    p.zero = 3;
    p.recompute = SP_RECOMPUTE_FULL;
    sp_train_result r = eval(&b, &s, p);
    print_message("Llama-3-70B, 1M tokens, TP 8 x CP 32: step %.1f s, MFU %.1f %%, memory %.1f GiB (fits %d)\n",
                  r.step_time_s, 100 * r.mfu, r.mem.total / 1073741824.0, r.fits);
    assert_true(isfinite(r.step_time_s) && r.fits && r.mfu > 0.3 && r.hfu <= 1);
}

/* search: precision (bf16/fp8 where the accelerator has FP8) and expert TP are enumerated with the rest */
static void test_search_precision_etp(void **st)
{
    (void)st;
    sp_model m = load_model("llama3-8b");
    sp_system h = load_system("dgx-h100"), a = load_system("dgx-a100-80g");
    sp_search_opts o;
    sp_search_defaults(&o);
    o.plan.n_gpus = 16;
    o.plan.global_batch = 64;
    o.plan.seq_len = 4096;
    o.any_dtype = 1;
    o.threads = 1;
    sp_search_result *r = malloc(sizeof *r);
    assert_non_null(r);
    sp_error e = {0};
    assert_int_equal(sp_search(&m, &h, &o, top_r, r, &e), SP_OK);
    assert_int_equal(r->top[0].plan.dtype, SP_FP8); /* compute-bound 8B on H100: FP8 wins */
    assert_int_equal(sp_search(&m, &a, &o, top_r, r, &e), SP_OK);
    for (int i = 0; i < r->n_top; i++)
        assert_int_equal(r->top[i].plan.dtype, SP_BF16); /* A100 has no FP8 */
    sp_model x = load_model("mixtral-8x7b");
    sp_search_opts q;
    sp_search_defaults(&q);
    q.plan.n_gpus = 64;
    q.plan.global_batch = 256;
    q.plan.seq_len = 4096;
    q.threads = 1;
    q.fix_tp = 4;
    q.fix_ep = 4;
    q.top_k = SP_SEARCH_MAX_TOP; /* the ETP variants rank below micro-batch and ZeRO variants of ETP 1 */
    q.schedules = 1u << SP_SCHED_1F1B; /* the ETP degrees, not the schedules' variants of one, fill the top k */
    assert_int_equal(sp_search(&x, &h, &q, top_r, r, &e), SP_OK);
    int seen[5] = {0};
    for (int i = 0; i < r->n_top; i++) {
        int etp = r->top[i].plan.etp > 0 ? r->top[i].plan.etp : r->top[i].plan.tp;
        assert_true(etp == 1 || etp == 2 || etp == 4);
        seen[etp] = 1;
        /* each entry is the model's evaluation of that plan */
        sp_train_result t = eval(&x, &h, r->top[i].plan);
        assert_true(t.step_time_s == r->top[i].res.step_time_s);
    }
    assert_true(seen[1] + seen[2] + seen[4] >= 2);
    free(r);
}

/* the expert data-parallel group of resolved plan p is `size` ranks at stride `stride` */
static void assert_edp_group(const sp_plan *p, int size, int stride)
{
    int sz, st;
    sp_expert_dp_group(p, &sz, &st);
    assert_int_equal(sz, size);
    assert_int_equal(st, stride);
}

/* Expert data-parallel group (plan.c sp_expert_dp_group), Megatron-Core's expert rank order ETP, EP, EDP
 * (parallel_state.py order tp-cp-ep-dp-pp with ETP as tp): an unfolded plan with one dense replica (DP 1) and
 * ETP 1 < TP 2, EP 8 on 16 GPUs reduces its expert gradients over EDP = TP·DP/ETP = 2 ranks at stride ETP·EP = 8
 * (EP 8 contiguous, its two copies 8 apart), not inside the TP pair; with ETP = TP the group is the unfolded
 * layout's own, CP ranks at stride TP (here 1 rank). */
static void test_expert_dp_stride(void **st)
{
    (void)st;
    sp_model m = load_model("mixtral-8x7b");
    sp_system s = load_system("dgx-h100");
    sp_plan p = mixtral_plan();
    p.n_gpus = 16, p.tp = 2, p.etp = 1;
    sp_error e = {0};
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    assert_int_equal(p.dp, 1);
    assert_edp_group(&p, 2, 8);
    p.etp = 0;
    assert_edp_group(&p, 1, 2);
}

/* MoE parallel folding (plan.c): with EP dividing DP and CP = 1 the folded plan is the unfolded one, bit for bit
 * (same replicas, groups and strides); a plan only folding expresses (EP 8 on 16 GPUs with TP 4, ETP 1) holds
 * E/(EP·ETP) experts per GPU like its unfolded twin on 32 GPUs, reduces expert gradients over EDP = TP·DP/(ETP·EP),
 * splits the batch over its 4 DP replicas; EP·ETP must fit the stage's TP·CP·DP ranks. */
static void test_fold(void **st)
{
    (void)st;
    sp_model m = load_model("mixtral-8x7b");
    sp_system s = load_system("dgx-h100");
    for (int etp = 0; etp <= 1; etp++) {
        sp_plan u = mixtral_plan(), f = u;
        u.tp = f.tp = 2;
        u.ep = f.ep = 4;
        u.etp = f.etp = etp;
        f.ep_fold = 1; /* dp = 64 / 2 = 32 replicas, as the unfolded 8 x EP 4 */
        sp_train_result a = eval(&m, &s, u), b = eval(&m, &s, f);
        assert_true(a.step_time_s == b.step_time_s && a.mem.total == b.mem.total && a.n_micro == b.n_micro);
    }
    sp_plan f = mixtral_plan(), u;
    f.n_gpus = 16, f.tp = 4, f.ep = 8, f.etp = 1, f.ep_fold = 1, f.zero = 0;
    u = f;
    u.n_gpus = 32, u.ep_fold = 0;
    sp_error e = {0};
    sp_plan r = f;
    assert_int_equal(sp_plan_resolve(&r, &m, &s, &e), SP_OK);
    assert_int_equal(r.dp, 4);
    assert_edp_group(&r, 2, 8);
    sp_train_result a = eval(&m, &s, u), b = eval(&m, &s, f);
    assert_true(a.mem.weights == b.mem.weights);
    assert_int_equal(b.n_micro, 256 / 4);
    assert_int_equal(a.n_micro, 256 / 8);
    assert_true(isfinite(b.step_time_s) && b.step_time_s > 0);
    sp_plan bad = f;
    bad.etp = 4; /* ETP 4 x EP 8 = 32 > TP 4 x DP 4 */
    assert_int_equal(sp_plan_resolve(&bad, &m, &s, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "etp*ep = 4*8 must divide tp*cp*dp = 4*1*4"));
    bad = f;
    bad.ep_fold = 0; /* unfolded, EP is a factor of the GPUs: 4 x 8 does not leave a DP */
    assert_int_equal(sp_plan_resolve(&bad, &m, &s, &e), SP_EINVAL);
    /* the search enumerates folded plans: EP 8 on 16 GPUs at TP 4 exists only folded; each entry is the model's
     * evaluation of that plan */
    sp_search_opts o;
    sp_search_defaults(&o);
    o.plan.n_gpus = 16;
    o.plan.global_batch = 64;
    o.plan.seq_len = 4096;
    o.threads = 1;
    o.fix_tp = 4;
    o.fix_ep = 8;
    sp_search_result *res = malloc(sizeof *res);
    assert_non_null(res);
    assert_int_equal(sp_search(&m, &s, &o, top_r, res, &e), SP_OK);
    assert_true(res->n_top > 0);
    for (int i = 0; i < res->n_top; i++) {
        const sp_plan *p = &res->top[i].plan;
        assert_true(p->ep_fold && p->ep == 8 && (long long)p->tp * p->cp * p->dp * p->pp == 16);
        assert_true(eval(&m, &s, *p).step_time_s == res->top[i].res.step_time_s);
    }
    free(res);
}

/* Rule: the host knobs' names (docs/systems.md "CUDA graphs", "MoE dispatchers") parse to their scope bits and print
 * back canonically; full_iteration stands alone; an unknown word is refused naming the allowed ones; a stack's
 * defaults fill the knobs a plan did not give, never the given ones. */
static void test_host_knobs_parse(void **st)
{
    (void)st;
    unsigned g = 99;
    char buf[96];
    sp_error e = {0};
    assert_int_equal(sp_cuda_graphs_parse("none", &g, &e), SP_OK);
    assert_int_equal(g, 0);
    assert_int_equal(sp_cuda_graphs_parse("attn,moe_router,moe_preprocess", &g, &e), SP_OK);
    assert_int_equal(g, SP_GRAPH_ATTN | SP_GRAPH_MOE_ROUTER | SP_GRAPH_MOE_PREPROCESS);
    assert_string_equal(sp_cuda_graphs_name(g, buf, sizeof buf), "attn,moe_router,moe_preprocess");
    assert_int_equal(sp_cuda_graphs_parse("layer", &g, &e), SP_OK);
    assert_string_equal(sp_cuda_graphs_name(g, buf, sizeof buf), "layer");
    assert_int_equal(sp_cuda_graphs_parse("full_iteration", &g, &e), SP_OK);
    assert_int_equal(g, SP_GRAPH_FULL_ITERATION);
    assert_int_equal(sp_cuda_graphs_parse("attn,full_iteration", &g, &e), SP_EINVAL);
    assert_int_equal(sp_cuda_graphs_parse("attn,,mlp", &g, &e), SP_EINVAL);
    assert_int_equal(sp_cuda_graphs_parse("", &g, &e), SP_EINVAL);
    sp_moe_dispatcher d = SP_DISP_ALLTOALL;
    assert_int_equal(sp_moe_dispatcher_parse("hybridep", &d, &e), SP_OK);
    assert_int_equal(d, SP_DISP_HYBRIDEP);
    assert_int_equal(sp_moe_dispatcher_parse("flex", &d, &e), SP_EINVAL);
    assert_string_equal(e.msg, "'flex'; allowed alltoall, allgather, deepep, hybridep");
    sp_software sw;
    assert_int_equal(sp_load_software(SP_DATA_DIR, "maxtext", &sw, &e), SP_OK);
    assert_int_equal(sw.cuda_graphs, SP_GRAPH_FULL_ITERATION);
    sp_plan p;
    sp_plan_defaults(&p);
    p.moe_dispatcher = SP_DISP_DEEPEP;
    assert_int_equal(sp_software_apply(&sw, SP_KNOB_DISPATCHER, &p, &e), SP_OK);
    assert_int_equal(p.cuda_graphs, SP_GRAPH_FULL_ITERATION);
    assert_int_equal(p.moe_dispatcher, SP_DISP_DEEPEP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deepseek_v3),
        cmocka_unit_test(test_one_expert_is_dense),
        cmocka_unit_test(test_moe_properties),
        cmocka_unit_test(test_capacity_and_imbalance),
        cmocka_unit_test(test_etp),
        cmocka_unit_test(test_expert_dp_stride),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_fp8),
        cmocka_unit_test(test_long_context),
        cmocka_unit_test(test_search_precision_etp),
        cmocka_unit_test(test_host_knobs_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
