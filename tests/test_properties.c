/* Property tests over seeded random valid inputs (issue 9). Every case is reproducible: the generator is a
 * fixed-seed splitmix64, and a failure prints the case number, the model shape and the plan.
 *
 * Properties (those of the issue that apply to what exists now):
 *  1. step time finite and positive; 0 < MFU <= HFU <= 1;
 *  2. memory components non-negative and summing to the total;
 *  3. more network bandwidth, lower network latency or more HBM bandwidth never make a plan slower;
 *  4. doubling the GPUs at fixed plan shape (DP x 2, same per-replica batch) never increases per-GPU memory;
 *  5. a model with one expert (EP = 1) is the dense model: same parameters, step time and memory;
 *  6. the search is exact: its best plan, re-evaluated through the train path (resolve + sp_train_eval), has the
 *     same step time and memory, and no random plan of the search's domain that fits evaluates faster.
 * Environment-free: set SP_PROP_CASES at compile time to change the number of cases.
 */
#include "testutil.h"

#include <stdlib.h>

static sp_search_entry top_r[SP_SEARCH_MAX_TOP]; /* caller-owned top-k buffer of sp_search */

#ifndef SP_PROP_CASES
#define SP_PROP_CASES 2000
#endif
#define SP_PROP_SEED 0x5ca1ab1e2024ULL

static uint64_t rng_state;
static uint64_t rnd(void) /* splitmix64 (Steele, Lea, Flood 2014): small, fast, full-period */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static int pick(int n) { return (int)(rnd() % (uint64_t)n); }
static int one_of(const int *v, int n) { return v[pick(n)]; }

/* Systems shipped in data/systems/ (a new preset does not change the sequence of cases). */
static const char *const sys_names[] = {"dgx-a100-80g", "dgx-h100", "hgx-h200", "a100-80g-roce", "mi300x-8",
                                        "dgx-b200", "dgx-a100-40g", "h800-cluster"};
#define NSYS (sizeof sys_names / sizeof sys_names[0])
static sp_system systems[NSYS];

static int setup(void **st)
{
    (void)st;
    for (size_t i = 0; i < NSYS; i++) {
        sp_error e = {0};
        if (sp_load_system(SP_DATA_DIR, sys_names[i], &systems[i], &e))
            fail_msg("%s", e.msg);
    }
    return 0;
}

static void random_model(sp_model *m, int allow_moe)
{
    memset(m, 0, sizeof *m);
    static const int heads[] = {8, 12, 16, 32, 40, 64, 96, 128};
    static const int dhead[] = {64, 80, 128};
    static const int seqs[] = {1024, 2048, 4096, 8192};
    snprintf(m->name, sizeof m->name, "random");
    m->n_heads = one_of(heads, 8);
    m->d_head = one_of(dhead, 3);
    m->d_model = m->n_heads * m->d_head;
    m->n_kv_heads = pick(3) == 0 ? m->n_heads : (pick(2) ? 8 : 1);
    if (m->n_heads % m->n_kv_heads)
        m->n_kv_heads = m->n_heads;
    m->n_layers = 2 + pick(95);
    m->gated = pick(2);
    m->ffn_dim = m->gated ? (8 * m->d_model / 3 + 255) / 256 * 256 : 4 * m->d_model;
    m->vocab = 32000 + pick(224001);
    m->max_seq = one_of(seqs, 4);
    m->norm = pick(2) ? SP_NORM_RMSNORM : SP_NORM_LAYERNORM;
    m->biases = !m->gated;
    m->tied_embeddings = pick(2);
    if (allow_moe && pick(3) == 0) {
        static const int experts[] = {8, 16, 64};
        m->n_experts = one_of(experts, 3);
        m->top_k = 1 + pick(2);
        m->moe_ffn_dim = m->ffn_dim / (1 + pick(4));
    }
    sp_model_defaults(m);
}

/* A plan that resolves on m and s, or 0 after a bounded number of tries. */
static int random_plan(const sp_model *m, const sp_system *s, sp_plan *p)
{
    for (int tries = 0; tries < 50; tries++) {
        sp_plan_defaults(p);
        static const int tps[] = {1, 2, 4, 8};
        static const int pps[] = {1, 1, 2, 4, 8};
        p->tp = one_of(tps, 4);
        p->pp = one_of(pps, 5);
        p->vpp = p->pp > 1 && pick(2) ? 2 : 1;
        p->cp = pick(4) == 0 ? 2 : 1;
        p->ep = sp_model_is_moe(m) ? 1 << pick(4) : 1;
        p->dp = 1 + pick(16);
        p->micro_batch = 1 << pick(3);
        p->global_batch = p->dp * p->ep * p->micro_batch * (1 + pick(16));
        p->seq_len = m->max_seq;
        p->recompute = (sp_recompute)pick(3);
        p->seq_parallel = p->tp > 1 && pick(2);
        p->zero = pick(4);
        p->dtype = pick(4) == 0 ? SP_FP8 : SP_BF16;
        p->n_gpus = p->tp * p->pp * p->cp * p->ep * p->dp;
        sp_error e = {0};
        if (sp_plan_resolve(p, m, s, &e) == SP_OK)
            return 1;
    }
    return 0;
}

static sp_train_result eval(const sp_model *m, const sp_system *s, const sp_plan *p, int i)
{
    sp_train_result r;
    sp_error e = {0};
    if (sp_train_eval(m, s, p, &r, &e))
        fail_msg("case %d: %s", i, e.msg);
    return r;
}

#define CASE_FMT "case %d (%s, L %d, h %d, a %d, g %d, E %d on %s, tp %d pp %d vpp %d cp %d ep %d dp %d mb %d gb %d zero %d rc %d)"
#define CASE_ARGS(i, m, s, p)                                                                               \
    i, (m)->name, (m)->n_layers, (m)->d_model, (m)->n_heads, (m)->n_kv_heads, (m)->n_experts, (s)->name,   \
        (p)->tp, (p)->pp, (p)->vpp, (p)->cp, (p)->ep, (p)->dp, (p)->micro_batch, (p)->global_batch, (p)->zero, \
        (int)(p)->recompute

/* Relative slack for comparisons of two evaluations that must be equal or ordered: floating-point noise
 * only (the model is deterministic arithmetic on doubles). */
#define REL 1e-9

/* 1 + 2: finite positive step time, 0 < MFU <= HFU <= 1, memory components >= 0 summing to the total. */
static void test_result_sanity(void **st)
{
    (void)st;
    rng_state = SP_PROP_SEED;
    int done = 0;
    for (int i = 0; i < SP_PROP_CASES; i++) {
        sp_model m;
        random_model(&m, 1);
        const sp_system *s = &systems[pick(NSYS)];
        sp_plan p;
        if (!random_plan(&m, s, &p))
            continue;
        sp_train_result r = eval(&m, s, &p, i);
        done++;
        if (!(isfinite(r.step_time_s) && r.step_time_s > 0))
            fail_msg(CASE_FMT ": step time %g", CASE_ARGS(i, &m, s, &p), r.step_time_s);
        if (!(r.mfu > 0 && r.mfu <= r.hfu * (1 + REL) && r.hfu <= 1))
            fail_msg(CASE_FMT ": MFU %g HFU %g", CASE_ARGS(i, &m, s, &p), r.mfu, r.hfu);
        const sp_memory *mm = &r.mem;
        double parts[] = {mm->weights, mm->grads, mm->optimizer, mm->activations, mm->embedding_logits,
                          mm->comm_buffers, mm->overhead};
        double sum = 0;
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
            if (!(isfinite(parts[k]) && parts[k] >= 0))
                fail_msg(CASE_FMT ": memory component %zu = %g", CASE_ARGS(i, &m, s, &p), k, parts[k]);
            sum += parts[k];
        }
        if (!(fabs(sum - mm->total) <= REL * mm->total))
            fail_msg(CASE_FMT ": memory components sum to %.17g, total %.17g", CASE_ARGS(i, &m, s, &p), sum,
                     mm->total);
        if (!(mm->activations_layers >= 0 && mm->activations_layers <= mm->activations * (1 + REL)))
            fail_msg(CASE_FMT ": activations_layers %g > activations %g", CASE_ARGS(i, &m, s, &p),
                     mm->activations_layers, mm->activations);
        if (r.fits != (mm->total <= mm->capacity))
            fail_msg(CASE_FMT ": fits flag disagrees with total/capacity", CASE_ARGS(i, &m, s, &p));
    }
    print_message("result sanity: %d of %d random cases resolved and checked\n", done, SP_PROP_CASES);
    assert_true(done >= SP_PROP_CASES * 8 / 10);
}

/* 3: more bandwidth (every network tier x2, one tier x2, HBM x2) or lower latency (every tier / 2) is never slower. */
static void test_faster_hardware_never_slower(void **st)
{
    (void)st;
    rng_state = SP_PROP_SEED + 1;
    int done = 0;
    for (int i = 0; i < SP_PROP_CASES; i++) {
        sp_model m;
        random_model(&m, 1);
        const sp_system *s = &systems[pick(NSYS)];
        sp_plan p;
        if (!random_plan(&m, s, &p))
            continue;
        double base = eval(&m, s, &p, i).step_time_s;
        sp_system bw = *s, lat = *s, hbm = *s;
        for (int t = 0; t < s->n_tiers; t++) {
            bw.tier[t].bw *= 2;
            lat.tier[t].latency_s /= 2;
        }
        hbm.acc.hbm_bw *= 2;
        sp_system one = *s; /* a single tier faster */
        one.tier[pick(s->n_tiers)].bw *= 2;
        double t1 = eval(&m, &one, &p, i).step_time_s;
        if (t1 > base * (1 + REL))
            fail_msg(CASE_FMT ": one tier 2x bandwidth %.9g s > %.9g s", CASE_ARGS(i, &m, s, &p), t1, base);
        double tb = eval(&m, &bw, &p, i).step_time_s, tl = eval(&m, &lat, &p, i).step_time_s,
               th = eval(&m, &hbm, &p, i).step_time_s;
        if (tb > base * (1 + REL))
            fail_msg(CASE_FMT ": 2x network bandwidth %.9g s > %.9g s", CASE_ARGS(i, &m, s, &p), tb, base);
        if (tl > base * (1 + REL))
            fail_msg(CASE_FMT ": half latency %.9g s > %.9g s", CASE_ARGS(i, &m, s, &p), tl, base);
        if (th > base * (1 + REL))
            fail_msg(CASE_FMT ": 2x HBM bandwidth %.9g s > %.9g s", CASE_ARGS(i, &m, s, &p), th, base);
        done++;
    }
    print_message("faster hardware: %d cases\n", done);
    assert_true(done >= SP_PROP_CASES * 8 / 10);
}

/* 4: DP x 2 (and the global batch x 2, so each replica does the same work) never increases per-GPU memory, the
 * reserve apart: DP 1 -> 2 opens a data-parallel NCCL communicator and its buffers (memory.c; exact values in
 * tests/test_train.c test_memory_reserve). */
static void test_more_gpus_never_more_memory(void **st)
{
    (void)st;
    rng_state = SP_PROP_SEED + 2;
    int done = 0;
    for (int i = 0; i < SP_PROP_CASES; i++) {
        sp_model m;
        random_model(&m, 1);
        const sp_system *s = &systems[pick(NSYS)];
        sp_plan p;
        if (!random_plan(&m, s, &p))
            continue;
        sp_plan p2 = p;
        p2.dp *= 2;
        p2.n_gpus *= 2;
        p2.global_batch *= 2;
        sp_error e = {0};
        if (s->max_accels > 0 && p2.n_gpus > s->max_accels)
            continue;
        if (sp_plan_resolve(&p2, &m, s, &e))
            fail_msg(CASE_FMT ": doubled plan does not resolve: %s", CASE_ARGS(i, &m, s, &p), e.msg);
        sp_memory a, b;
        sp_train_memory(&m, s, &p, &a);
        sp_train_memory(&m, s, &p2, &b);
        if (b.total - b.overhead > (a.total - a.overhead) * (1 + REL))
            fail_msg(CASE_FMT ": %d GPUs need %.6g B per GPU, %d GPUs %.6g B (reserve apart)", CASE_ARGS(i, &m, s, &p),
                     p.n_gpus, a.total - a.overhead, p2.n_gpus, b.total - b.overhead);
        done++;
    }
    print_message("doubling GPUs: %d cases\n", done);
    assert_true(done >= SP_PROP_CASES * 7 / 10);
}

/* 5: one expert at EP = 1 is the dense model with the expert's FFN. */
static void test_one_expert_is_dense(void **st)
{
    (void)st;
    rng_state = SP_PROP_SEED + 3;
    int done = 0;
    for (int i = 0; i < SP_PROP_CASES; i++) {
        sp_model dense;
        random_model(&dense, 0);
        sp_model moe = dense;
        moe.n_experts = 1;
        moe.top_k = 1;
        moe.moe_ffn_dim = dense.ffn_dim;
        const sp_system *s = &systems[pick(NSYS)];
        sp_plan p;
        if (!random_plan(&dense, s, &p))
            continue;
        sp_plan q = p;
        sp_error e = {0};
        if (sp_plan_resolve(&q, &moe, s, &e))
            fail_msg(CASE_FMT ": one-expert model refuses the dense plan: %s", CASE_ARGS(i, &dense, s, &p), e.msg);
        sp_param_count a, b;
        sp_model_params(&dense, &a);
        sp_model_params(&moe, &b);
        sp_train_result ra = eval(&dense, s, &p, i), rb = eval(&moe, s, &q, i);
        if (fabs(a.total - b.total) > REL * a.total || fabs(a.active - b.active) > REL * a.active)
            fail_msg(CASE_FMT ": params dense %.12g/%.12g, one expert %.12g/%.12g", CASE_ARGS(i, &dense, s, &p),
                     a.total, a.active, b.total, b.active);
        if (fabs(ra.step_time_s - rb.step_time_s) > REL * ra.step_time_s)
            fail_msg(CASE_FMT ": step time dense %.12g, one expert %.12g", CASE_ARGS(i, &dense, s, &p),
                     ra.step_time_s, rb.step_time_s);
        if (fabs(ra.mem.total - rb.mem.total) > REL * ra.mem.total)
            fail_msg(CASE_FMT ": memory dense %.12g, one expert %.12g", CASE_ARGS(i, &dense, s, &p), ra.mem.total,
                     rb.mem.total);
        done++;
    }
    print_message("one expert == dense: %d cases\n", done);
    assert_true(done >= SP_PROP_CASES * 8 / 10);
}


/* The search's domain (search.c, sp_search's comment): TP, CP, EP, PP, DP dividing the GPUs, groups aligned with
 * the scale-up domain, micro-batch dividing the per-replica batch, vpp <= max_vpp dividing the layers with PP,
 * ZeRO-3 not with PP, SP only with TP, and the plan must fit in HBM. */
static int aligned_to(int g, int node) { return node <= 1 || node % g == 0 || g % node == 0; }
static int divisor_of(int n) /* a random divisor of n >= 1 */
{
    int d[64], k = 0;
    for (int i = 1; i <= n && k < 64; i++)
        if (n % i == 0)
            d[k++] = i;
    return d[pick(k)];
}

static int random_domain_plan(const sp_model *m, const sp_system *s, int n, int gb, int seq, sp_plan *p)
{
    sp_plan_defaults(p);
    p->n_gpus = n;
    p->global_batch = gb;
    p->seq_len = seq;
    p->tp = divisor_of(n);
    p->cp = divisor_of(n / p->tp);
    p->ep = sp_model_is_moe(m) ? divisor_of(n / (p->tp * p->cp)) : 1;
    int rest = n / (p->tp * p->cp * p->ep);
    p->pp = divisor_of(rest);
    p->dp = rest / p->pp;
    long long replicas = (long long)p->dp * p->ep;
    if (gb % replicas)
        return 0;
    p->micro_batch = divisor_of((int)(gb / replicas));
    p->vpp = p->pp > 1 ? 1 + pick(8) : 1;
    p->zero = pick(p->pp > 1 ? 3 : 4);
    p->recompute = (sp_recompute)pick(3);
    p->seq_parallel = p->tp > 1 && pick(2);
    int node = s->tier[0].size;
    if (!aligned_to(p->tp, node) || !aligned_to(p->tp * p->cp, node) || !aligned_to(p->tp * p->cp * p->ep, node))
        return 0;
    sp_error e = {0};
    if (sp_plan_resolve(p, m, s, &e) != SP_OK)
        return 0;
    sp_memory mem;
    sp_train_memory(m, s, p, &mem);
    return mem.total <= SP_SEARCH_MEM_FRAC * s->acc.hbm_bytes; /* the search's default headroom */
}

#define SEARCH_CASES (SP_PROP_CASES / 4)
#define PLANS_PER_CASE 60

/* 6: search's best == train's evaluation of it, and no random fitting plan of the domain is faster. */
static void test_search_is_exact(void **st)
{
    (void)st;
    rng_state = SP_PROP_SEED + 4;
    int done = 0, compared = 0;
    static sp_search_result r; /* large: not on the stack */
    for (int i = 0; i < SEARCH_CASES; i++) {
        sp_model m;
        random_model(&m, 1);
        m.n_layers = 2 + pick(31); /* small cases: the search enumerates every plan */
        const sp_system *s = &systems[pick(NSYS)];
        static const int gpus[] = {1, 2, 4, 8, 16, 32, 64};
        static const int seqs[] = {512, 1024, 2048};
        int n = one_of(gpus, 7);
        if (s->max_accels > 0 && n > s->max_accels)
            n = s->max_accels;
        int gb = n * (1 << pick(4)) * (1 + pick(3));
        int seq = one_of(seqs, 3);
        sp_search_opts o;
        sp_search_defaults(&o);
        o.plan.n_gpus = n;
        o.plan.global_batch = gb;
        o.plan.seq_len = seq;
        o.top_k = 1;
        o.threads = 1;
        sp_error e = {0};
        if (sp_search(&m, s, &o, top_r, &r, &e) != SP_OK || r.n_top < 1)
            continue; /* nothing fits or nothing divides: no best plan to check */
        const sp_search_entry *best = &r.top[0];
        sp_plan q = best->plan;
        if (sp_plan_resolve(&q, &m, s, &e) != SP_OK)
            fail_msg(CASE_FMT ": the search's best plan does not resolve: %s", CASE_ARGS(i, &m, s, &best->plan),
                     e.msg);
        sp_train_result t = eval(&m, s, &q, i);
        if (fabs(t.step_time_s - best->res.step_time_s) > REL * t.step_time_s ||
            fabs(t.mem.total - best->res.mem.total) > REL * t.mem.total)
            fail_msg(CASE_FMT ": search says %.12g s and %.12g B, train %.12g s and %.12g B",
                     CASE_ARGS(i, &m, s, &q), best->res.step_time_s, best->res.mem.total, t.step_time_s, t.mem.total);
        for (int k = 0; k < PLANS_PER_CASE; k++) {
            sp_plan p;
            if (!random_domain_plan(&m, s, n, gb, seq, &p))
                continue;
            sp_train_result x = eval(&m, s, &p, i);
            if (x.step_time_s < best->res.step_time_s * (1 - REL))
                fail_msg(CASE_FMT ": %.12g s, faster than the search's best %.12g s (tp %d pp %d dp %d vpp %d mb %d zero %d)",
                         CASE_ARGS(i, &m, s, &p), x.step_time_s, best->res.step_time_s, best->plan.tp, best->plan.pp,
                         best->plan.dp, best->plan.vpp, best->plan.micro_batch, best->plan.zero);
            compared++;
        }
        done++;
    }
    print_message("search exact: %d cases with a best plan, %d random fitting plans compared\n", done, compared);
    assert_true(done >= SEARCH_CASES / 2);
    assert_true(compared >= done * 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_sanity),
        cmocka_unit_test(test_faster_hardware_never_slower),
        cmocka_unit_test(test_more_gpus_never_more_memory),
        cmocka_unit_test(test_one_expert_is_dense),
        cmocka_unit_test(test_search_is_exact),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
