/* Plan search: exact pruning, determinism over thread counts, no allocation per plan, and consistency with
 * `train` (the best plan is never worse than any plan train evaluates). */
#include "testutil.h"

#include <stdlib.h>

static sp_search_entry top_a[SP_SEARCH_MAX_TOP]; /* caller-owned top-k buffer of sp_search */
static sp_search_entry top_b[SP_SEARCH_MAX_TOP]; /* caller-owned top-k buffer of sp_search */
static sp_search_entry top_res[SP_SEARCH_MAX_TOP]; /* caller-owned top-k buffer of sp_search */

/* Counting allocator: the test binary is linked with -Wl,--wrap=malloc (Makefile) so every malloc in the
 * library goes through here. */
void *__real_malloc(size_t n);
static long n_malloc;
void *__wrap_malloc(size_t n);
void *__wrap_malloc(size_t n)
{
    n_malloc++;
    return __real_malloc(n);
}

static void load(const char *mn, const char *sn, sp_model *m, sp_system *s)
{
    sp_error e = {0};
    if (sp_load_model(SP_DATA_DIR, mn, m, &e) || sp_load_system(SP_DATA_DIR, sn, s, &e))
        fail_msg("%s", e.msg);
}

/* Search options for n GPUs, a global batch and a sequence length, the rest at their defaults. */
static sp_search_opts search_opts(int gpus, int batch, int seq)
{
    sp_search_opts o;
    sp_search_defaults(&o);
    o.plan.n_gpus = gpus;
    o.plan.global_batch = batch;
    o.plan.seq_len = seq;
    return o;
}

static void same_top(const sp_search_result *a, const sp_search_result *b)
{
    assert_int_equal(a->n_top, b->n_top);
    for (int i = 0; i < a->n_top; i++) {
        assert_memory_equal(&a->top[i].plan, &b->top[i].plan, sizeof(sp_plan));
        assert_true(a->top[i].objective == b->top[i].objective);
    }
}

/* Pruning by bound is exact: the pruned search returns the same top-k as evaluating every plan. */
static void test_pruning_exact(void **st)
{
    (void)st;
    struct {
        const char *m, *s;
        int gpus, batch, seq;
    } cases[] = {{"gpt3-6.7b", "dgx-a100-80g", 64, 256, 2048}, {"llama3-8b", "dgx-h100", 32, 128, 4096},
                 {"mixtral-8x7b", "dgx-h100", 64, 256, 4096}, {"gpt-22b", "dgx-a100-40g", 16, 64, 2048}};
    sp_search_result *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    for (int i = 0; i < 4; i++) {
        sp_model m;
        sp_system s;
        load(cases[i].m, cases[i].s, &m, &s);
        sp_search_opts o = search_opts(cases[i].gpus, cases[i].batch, cases[i].seq);
        o.top_k = 20;
        o.threads = 1;
        sp_error e = {0};
        assert_int_equal(sp_search(&m, &s, &o, top_a, a, &e), SP_OK);
        o.no_prune = 1;
        assert_int_equal(sp_search(&m, &s, &o, top_b, b, &e), SP_OK);
        assert_int_equal(b->pruned, 0);
        same_top(a, b);
        /* brute force through sp_train_eval gives the same best time */
        sp_plan p = a->top[0].plan;
        sp_train_result r;
        assert_int_equal(sp_train_eval(&m, &s, &p, &r, &e), SP_OK);
        assert_true(r.step_time_s == a->top[0].res.step_time_s);
    }
    free(a);
    free(b);
}

static void test_deterministic_threads(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    load("gpt3-175b-megatron", "dgx-a100-80g", &m, &s);
    sp_search_opts o = search_opts(1024, 1536, 2048);
    o.plan.dtype = SP_FP16;
    o.top_k = 50;
    sp_search_result *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    sp_error e = {0};
    o.threads = 1;
    assert_int_equal(sp_search(&m, &s, &o, top_a, a, &e), SP_OK);
    o.threads = 2;
    assert_int_equal(sp_search(&m, &s, &o, top_b, b, &e), SP_OK);
    same_top(a, b);
    free(a);
    free(b);
}

/* The evaluation path allocates nothing: one plan assembled many times makes no malloc call. */
static void test_no_allocation(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    load("llama3-70b", "dgx-h100", &m, &s);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 512;
    p.tp = 8;
    p.pp = 4;
    p.vpp = 5;
    p.seq_len = 8192;
    p.global_batch = 1024;
    p.seq_parallel = 1;
    p.recompute = SP_RECOMPUTE_SELECTIVE;
    sp_error e = {0};
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    sp_train_result r;
    long before = n_malloc;
    for (int i = 0; i < 1000; i++) {
        p.zero = i % 2;
        assert_int_equal(sp_train_eval(&m, &s, &p, &r, &e), SP_OK);
        sp_memory mem;
        sp_train_memory(&m, &s, &p, &mem);
    }
    assert_int_equal(n_malloc, before);
    /* and the search allocates only a fixed amount, independent of the number of plans */
    sp_search_opts o = search_opts(512, 1024, 8192);
    o.threads = 1;
    sp_search_result *res = malloc(sizeof *res);
    before = n_malloc;
    assert_int_equal(sp_search(&m, &s, &o, top_res, res, &e), SP_OK);
    long per_search = n_malloc - before;
    assert_true(per_search < 10);
    assert_true(res->evaluated > 1000);
    free(res);
}

/* search's best plan is never worse than the plans the sources used (evaluated by train) */
static void test_best_beats_given_plans(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    load("gpt3-175b-megatron", "dgx-a100-80g", &m, &s);
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 1024;
    p.tp = 8;
    p.pp = 8;
    p.vpp = 2;
    p.global_batch = 1536;
    p.seq_len = 2048;
    p.dtype = SP_FP16;
    p.recompute = SP_RECOMPUTE_FULL;
    sp_error e = {0};
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    sp_train_result r;
    assert_int_equal(sp_train_eval(&m, &s, &p, &r, &e), SP_OK);
    sp_search_opts o = search_opts(1024, 1536, 2048);
    o.plan.dtype = SP_FP16;
    sp_search_result *res = malloc(sizeof *res);
    assert_int_equal(sp_search(&m, &s, &o, top_res, res, &e), SP_OK);
    assert_true(res->top[0].res.step_time_s <= r.step_time_s);
    /* fixing every dimension (the schedule too: ZB-V also runs vpp 2) returns exactly train's plan and time */
    o.fix_tp = 8, o.fix_pp = 8, o.fix_vpp = 2, o.fix_mb = 1, o.fix_zero = 0, o.fix_sp = 0, o.fix_recompute = 2;
    o.schedules = 1u << SP_SCHED_1F1B;
    assert_int_equal(sp_search(&m, &s, &o, top_res, res, &e), SP_OK);
    assert_true(res->top[0].res.step_time_s == r.step_time_s);
    free(res);
}

static void test_infeasible(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    load("llama3.1-405b", "dgx-h100", &m, &s);
    sp_search_opts o = search_opts(8, 16, 8192);
    sp_search_result *res = malloc(sizeof *res);
    sp_error e = {0};
    assert_int_equal(sp_search(&m, &s, &o, top_res, res, &e), SP_EINFEASIBLE);
    assert_true(res->infeasible_memory > 0 && isfinite(res->min_overflow_bytes));
    free(res);
}

/* Progress callback: with progress_after_s = 0 it is called from the start, `done` never decreases, the last
 * call has done == total == the layer shapes searched, and the answer is the same as without it. */
typedef struct {
    int calls;
    long long last_done, last_total;
    int monotone;
} progress_log;

static void on_progress(void *ctx, long long done, long long total, double elapsed)
{
    progress_log *l = ctx;
    if (done < l->last_done || elapsed < 0 || done > total)
        l->monotone = 0;
    l->calls++;
    l->last_done = done;
    l->last_total = total;
}

static void test_progress(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    load("gpt3-6.7b", "dgx-a100-80g", &m, &s);
    sp_search_opts o = search_opts(64, 256, 2048);
    o.threads = 1; /* thread 0 reports: with one thread it is sure to run a shape (two: the other may take all) */
    sp_search_result *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    sp_error e = {0};
    assert_int_equal(sp_search(&m, &s, &o, top_a, a, &e), SP_OK);
    progress_log l = {0, 0, 0, 1};
    o.on_progress = on_progress;
    o.progress_ctx = &l;
    o.progress_after_s = 0;
    assert_int_equal(sp_search(&m, &s, &o, top_b, b, &e), SP_OK);
    assert_true(l.calls >= 2 && l.monotone);
    assert_int_equal(l.last_done, b->layer_shapes);
    assert_int_equal(l.last_total, b->layer_shapes);
    same_top(a, b);
    /* two threads: same answer; when anything was reported, it ended at the total */
    o.threads = 2;
    l = (progress_log){0, 0, 0, 1};
    assert_int_equal(sp_search(&m, &s, &o, top_b, b, &e), SP_OK);
    assert_true(l.monotone);
    if (l.calls > 0)
        assert_int_equal(l.last_done, b->layer_shapes);
    same_top(a, b);
    /* the default waits a second: a search of a few milliseconds reports nothing */
    l = (progress_log){0, 0, 0, 1};
    o.progress_after_s = 1.0;
    assert_int_equal(sp_search(&m, &s, &o, top_b, b, &e), SP_OK);
    assert_int_equal(l.calls, 0);
    free(a);
    free(b);
}

/* The best plan of a search restricted to the schedules in mask (the rest fixed by o), and train's result for it. */
static sp_search_entry best_with(const sp_model *m, const sp_system *s, sp_search_opts o, unsigned mask, sp_train_result *t)
{
    sp_error e = {0};
    sp_search_result *res = malloc(sizeof *res);
    o.schedules = mask;
    if (sp_search(m, s, &o, top_res, res, &e))
        fail_msg("%s", e.msg);
    sp_search_entry b = res->top[0];
    free(res);
    sp_plan p = b.plan;
    if (sp_plan_resolve(&p, m, s, &e) || sp_train_eval(m, s, &p, t, &e))
        fail_msg("%s", e.msg);
    return b;
}

/* Rule: the search enumerates the pipeline schedules where they apply and takes one only when it is strictly
 * faster (docs/search.md): Llama-3-70B on 512 H100s at TP 8 x PP 8, selective recompute, micro-batch 1. ZB-H1 has
 * 1F1B's memory and a smaller bubble, so it wins at vpp 1; at vpp 2 ZB-V wins over interleaved 1F1B and holds less
 * (no interleaving factor); DualPipe holds two stages' parameters. Each plan found is train's plan to the bit. */
static void test_schedules(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    load("llama3-70b", "dgx-h100", &m, &s);
    sp_search_opts o = search_opts(512, 1024, 8192);
    o.fix_tp = 8, o.fix_pp = 8, o.fix_vpp = 1, o.fix_mb = 1, o.fix_zero = 1, o.fix_sp = 1, o.fix_recompute = 1;
    sp_train_result t;
    sp_search_entry a = best_with(&m, &s, o, 1u << SP_SCHED_1F1B, &t);
    assert_int_equal(a.plan.schedule, SP_SCHED_1F1B);
    sp_search_entry b = best_with(&m, &s, o, 1u << SP_SCHED_1F1B | 1u << SP_SCHED_ZBH1, &t);
    assert_int_equal(b.plan.schedule, SP_SCHED_ZBH1);
    assert_true(b.res.step_time_s < a.res.step_time_s);
    assert_true(b.res.step_time_s == t.step_time_s);
    assert_true(b.res.mem.total == a.res.mem.total);
    sp_search_entry d = best_with(&m, &s, o, 1u << SP_SCHED_1F1B | 1u << SP_SCHED_DUALPIPE, &t);
    assert_true(d.res.step_time_s == t.step_time_s);
    assert_true(d.res.mem.weights == 2 * a.res.mem.weights);
    sp_search_entry c = best_with(&m, &s, o, SP_SEARCH_ALL_SCHEDULES, &t);
    assert_true(c.res.step_time_s <= b.res.step_time_s && c.res.step_time_s <= d.res.step_time_s);
    o.fix_vpp = 2;
    a = best_with(&m, &s, o, 1u << SP_SCHED_1F1B, &t);
    b = best_with(&m, &s, o, 1u << SP_SCHED_1F1B | 1u << SP_SCHED_ZBV, &t);
    assert_int_equal(b.plan.schedule, SP_SCHED_ZBV);
    assert_true(b.res.step_time_s < a.res.step_time_s && b.res.step_time_s == t.step_time_s);
    assert_true(b.res.mem.activations < a.res.mem.activations);
    assert_string_equal(sp_schedule_name(a.plan.schedule, a.plan.vpp), "interleaved");
    /* no schedule, or a bit past DualPipe: refused */
    sp_error e = {0};
    sp_search_result *res = malloc(sizeof *res);
    o.schedules = 0;
    assert_int_equal(sp_search(&m, &s, &o, top_res, res, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "search: schedules mask 0; allowed a non-empty set of bits 0-3"));
    o.schedules = 16;
    assert_int_equal(sp_search(&m, &s, &o, top_res, res, &e), SP_EINVAL);
    free(res);
}

/* Rule: a hybrid model's search prices each pipeline stage's own layers (memory.c, cached per block in search.c) as
 * train does, to the bit: Nemotron-3 Nano on 64 H100s at PP 4 (13 layers a stage), every schedule; each plan of the
 * top 10 has train's memory and step time exactly. */
static void test_hybrid_stages_exact(void **st)
{
    (void)st;
    sp_model m;
    sp_system s;
    load("nemotron-3-nano-30b-a3b", "dgx-h100", &m, &s);
    sp_search_opts o = search_opts(64, 256, 8192);
    o.fix_pp = 4;
    o.threads = 1;
    sp_error e = {0};
    sp_search_result *res = malloc(sizeof *res);
    assert_int_equal(sp_search(&m, &s, &o, top_res, res, &e), SP_OK);
    assert_true(res->n_top == 10);
    for (int i = 0; i < res->n_top; i++) {
        sp_plan p = res->top[i].plan;
        sp_train_result t;
        assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
        assert_int_equal(sp_train_eval(&m, &s, &p, &t, &e), SP_OK);
        assert_true(t.mem.total == res->top[i].res.mem.total);
        assert_true(t.step_time_s == res->top[i].res.step_time_s);
    }
    free(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pruning_exact),   cmocka_unit_test(test_deterministic_threads),
        cmocka_unit_test(test_no_allocation),   cmocka_unit_test(test_best_beats_given_plans),
        cmocka_unit_test(test_infeasible),      cmocka_unit_test(test_progress),
        cmocka_unit_test(test_schedules),       cmocka_unit_test(test_hybrid_stages_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
