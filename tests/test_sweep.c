/* Sweep designs, rows and the Pareto front (issue 23). Each test names its rule. */
#include "testutil.h"
#include "scaleplan_sweep.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static sp_search_entry top_r[SP_SEARCH_MAX_TOP]; /* caller-owned top-k buffer of sp_search */

static sp_sweep *load(const char *text)
{
    sp_sweep *sw = NULL;
    sp_error e = {0};
    if (sp_sweep_parse(SP_DATA_DIR, "spec.json", text, strlen(text), &sw, &e))
        fail_msg("%s", e.msg);
    return sw;
}

#define BASE "\"base\": {\"model\": \"llama3-8b\", \"system\": \"dgx-h100\", \"gpus\": 16, \"global_batch\": 64, \"seq_len\": 4096}"

/* Rule: a grid has the product of its axes' levels, the last axis varying fastest; a range with integer ends and
 * steps gives rounded, de-duplicated levels (8..64 in 4 log steps: 8, 16, 32, 64). */
static void test_grid_order(void **st)
{
    (void)st;
    sp_sweep *sw = load("{" BASE ", \"axes\": [{\"field\": \"gpus\", \"values\": [8, 16, 32]},"
                        "{\"field\": \"system.tiers[0].size\", \"min\": 8, \"max\": 64, \"steps\": 4, \"scale\": \"log\"}]}");
    assert_int_equal(sp_sweep_count(sw), 12);
    char t[64];
    double v;
    sp_sweep_axis_value(sw, 5, 0, t, sizeof t, &v);
    assert_string_equal(t, "16");
    sp_sweep_axis_value(sw, 5, 1, t, sizeof t, &v);
    assert_string_equal(t, "16");
    sp_sweep_axis_value(sw, 11, 1, t, sizeof t, &v);
    assert_true(v == 64);
    sp_sweep_free(sw);
}

/* Rule: a Latin hypercube of n points puts exactly one point in each of the n equal strata of every axis, and the
 * same seed gives the same points. */
static void test_lhs_strata(void **st)
{
    (void)st;
    const char *spec = "{" BASE ", \"design\": {\"type\": \"lhs\", \"points\": 50, \"seed\": 3}, \"axes\": ["
                       "{\"field\": \"accelerator.hbm_bw\", \"min\": 1e12, \"max\": 6e12},"
                       "{\"field\": \"system.tiers[1].bw\", \"min\": 1e10, \"max\": 1e11, \"scale\": \"log\"}]}";
    sp_sweep *sw = load(spec), *sw2 = load(spec);
    int seen[2][50] = {{0}};
    for (long long i = 0; i < 50; i++) {
        char t[64], t2[64];
        double a, b, c;
        sp_sweep_axis_value(sw, i, 0, t, sizeof t, &a);
        sp_sweep_axis_value(sw2, i, 0, t2, sizeof t2, &c);
        assert_string_equal(t, t2);
        sp_sweep_axis_value(sw, i, 1, t, sizeof t, &b);
        seen[0][(int)((a - 1e12) / 5e12 * 50)]++;
        seen[1][(int)(log(b / 1e10) / log(10) * 50)]++;
    }
    for (int k = 0; k < 50; k++) {
        assert_int_equal(seen[0][k], 1);
        assert_int_equal(seen[1][k], 1);
    }
    sp_sweep_free(sw);
    sp_sweep_free(sw2);
}

/* Rule: a CSV row reads back to the same point (the bytes of a resumed output equal an uninterrupted one), and a
 * point's plan is the plain search's fastest plan (sp_search, objective time). */
static void test_row_roundtrip(void **st)
{
    (void)st;
    sp_sweep *sw = load("{" BASE ", \"axes\": [{\"field\": \"accelerator.hbm_bw\", \"values\": [\"2TB/s\", \"3.35TB/s\"]}]}");
    sp_sweep_ws *ws = sp_sweep_ws_new();
    sp_sweep_point p, q;
    sp_error e = {0};
    assert_int_equal(sp_sweep_eval(sw, ws, 1, &p, &e), SP_OK);
    assert_int_equal(p.status, SP_PT_OK);
    char row[8192], row2[8192];
    sp_sweep_csv_row(sw, &p, row, sizeof row);
    assert_int_equal(sp_sweep_csv_parse(sw, row, &q, &e), SP_OK);
    sp_sweep_csv_row(sw, &q, row2, sizeof row2);
    assert_string_equal(row, row2);
    assert_true(q.step_time_s == p.step_time_s && q.energy_j == p.energy_j);
    sp_model m;
    sp_system s;
    sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e);
    sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e);
    sp_search_opts o;
    sp_search_defaults(&o);
    o.plan.n_gpus = 16, o.plan.global_batch = 64, o.plan.seq_len = 4096, o.top_k = 1;
    static sp_search_result r;
    assert_int_equal(sp_search(&m, &s, &o, top_r, &r, &e), SP_OK);
    assert_true(r.top[0].res.step_time_s == p.step_time_s); /* 3.35 TB/s is the preset's own value */
    sp_sweep_ws_free(ws);
    sp_sweep_free(sw);
}

/* Rule: the front keeps exactly the points no other point beats in time, cost and energy at once. */
static void test_pareto(void **st)
{
    (void)st;
    static const double tce[][3] = {{1, 5, 5}, {2, 4, 4}, {2, 5, 5}, {3, 1, 9}, {3, 3, 3}, {4, 4, 4}, {1, 5, 5}};
    sp_sweep_point p[7];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 7; i++) {
        p[i].index = i;
        p[i].time_s = tce[i][0], p[i].cost_usd = tce[i][1], p[i].energy_j = tce[i][2];
    }
    p[3].status = SP_PT_CONSTRAINT; /* not a candidate */
    long long f[7];
    long long n = sp_sweep_pareto(p, 7, f);
    assert_int_equal(n, 4); /* 0 and its twin 6, 1, 4; 2 and 5 are dominated, 3 is excluded */
    assert_int_equal(f[0], 0);
    assert_int_equal(f[1], 6);
    assert_int_equal(f[2], 1);
    assert_int_equal(f[3], 4);
}

/* Rule: spec errors name file:line:col and the path of the value. */
static void test_errors(void **st)
{
    (void)st;
    const char *bad = "{" BASE ",\n \"axes\": [{\"field\": \"gpus\", \"values\": [16, -1]}]}";
    sp_sweep *sw = NULL;
    sp_error e = {0};
    assert_int_equal(sp_sweep_parse(SP_DATA_DIR, "s.json", bad, strlen(bad), &sw, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "s.json:2:44: axes.0.values.1: expected a whole number"));
    assert_null(sw);
}

/* Rule: sp_call("sweep") runs an inline spec and returns the same result object as the CLI's --json; a point whose
 * GPUs cannot hold the model is a status, not an error (Llama-3-8B's 16 GB of bf16 weights + optimizer states do
 * not fit one 80 GB GPU without sharding: nofit). */
static void test_call(void **st)
{
    (void)st;
    const char *rq = "{\"spec\": {\"base\": {\"model\": \"llama3-8b\", \"system\": \"dgx-h100\", \"gpus\": 8, "
                     "\"global_batch\": 8, \"seq_len\": 4096}, \"axes\": [{\"field\": \"gpus\", \"values\": [1, 8]}]}}";
    char *out = NULL;
    sp_error e = {0};
    assert_int_equal(sp_call(SP_DATA_DIR, "sweep", rq, &out, &e), SP_OK);
    json_t *r = json_loads(out, 0, NULL);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "counts"), "nofit")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "counts"), "ok")), 1);
    assert_int_equal(json_integer_value(json_object_get(r, "best")), 1);
    json_decref(r);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_grid_order), cmocka_unit_test(test_lhs_strata),
                                       cmocka_unit_test(test_row_roundtrip), cmocka_unit_test(test_pareto),
                                       cmocka_unit_test(test_errors), cmocka_unit_test(test_call)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
