/* sp_call, the one entry point of the bindings: each test names its rule and asserts the exact value. */
#include "testutil.h"
#include "scaleplan_limits.h"

#include "call_util.h"

/* Rule: sp_call train returns the step time of the same plan evaluated through the typed API (one model). */
static void test_train_matches_typed_api(void **st)
{
    (void)st;
    json_t *j = call_ok("train", "{\"model\":\"llama3-8b\",\"system\":\"dgx-h100\",\"gpus\":8,\"tp\":8,"
                                 "\"global_batch\":64,\"seq_len\":8192}");
    sp_model m;
    sp_system s;
    sp_plan p;
    sp_error e = {0};
    sp_train_result r;
    assert_int_equal(sp_load_model(SP_TEST_DATA, "llama3-8b", &m, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_TEST_DATA, "dgx-h100", &s, &e), SP_OK);
    sp_plan_defaults(&p);
    p.n_gpus = 8;
    p.tp = 8;
    p.global_batch = 64;
    p.seq_len = 8192;
    assert_int_equal(sp_plan_resolve(&p, &m, &s, &e), SP_OK);
    assert_int_equal(sp_train_eval(&m, &s, &p, &r, &e), SP_OK);
    /* 15 significant digits in the JSON */
    assert_rel(num(j, "step_time_s"), r.step_time_s, 1e-14);
    assert_rel(num(j, "mfu"), r.mfu, 1e-14);
    assert_rel(num(json_object_get(j, "memory_per_gpu_bytes"), "total"), r.mem.total, 1e-14);
    assert_string_equal(json_string_value(json_object_get(j, "model")), m.name);
    json_decref(j);
}

/* Rule: values may be numbers or strings with units, and flags booleans; both spellings give the same result. */
static void test_values_numbers_strings_flags(void **st)
{
    (void)st;
    json_t *a = call_ok("train", "{\"model\":\"llama3-70b\",\"system\":\"dgx-h100\",\"gpus\":512,\"tp\":8,\"pp\":4,"
                                 "\"global_batch\":1024,\"seq_len\":8192,\"tokens\":15e12,\"sp\":true}");
    json_t *b = call_ok("train", "{\"model\":\"llama3-70b\",\"system\":\"dgx-h100\",\"gpus\":\"512\",\"tp\":\"8\",\"pp\":4,"
                                 "\"global_batch\":\"1Ki\",\"seq_len\":8192,\"tokens\":\"15T\",\"sp\":true}");
    assert_true(num(a, "train_time_s") > 0);
    assert_near(num(a, "train_time_s"), num(b, "train_time_s"), 0);
    assert_true(json_is_true(json_object_get(json_object_get(a, "plan"), "sequence_parallel")));
    json_decref(a);
    json_decref(b);
}

/* Rule: errors name the option as the CLI does, unknown keys and commands are refused by name, bad JSON is a
 * parse error with its position, and no result is returned on failure. */
static void test_errors(void **st)
{
    (void)st;
    call_fails("train", "{\"tp\":0}", SP_EINVAL, "--tp: 0 is out of range; allowed 1..1048576");
    call_fails("train", "{\"global_batch\":\"x\"}", SP_EINVAL, "--global-batch");
    call_fails("train", "{\"recompute\":\"most\"}", SP_EINVAL, "--recompute: 'most'; allowed none, selective, full");
    call_fails("train", "{\"sp\":1}", SP_EINVAL, "--sp: expected true or false");
    call_fails("train", "{\"tpp\":8}", SP_EINVAL, "unknown option 'tpp' for train");
    call_fails("trian", "{}", SP_EINVAL, "unknown command 'trian'; commands: train, search, infer");
    call_fails("train", "{\"tp\":", SP_EPARSE, "request:1:");
    call_fails("train", "[1]", SP_EPARSE, "expected a JSON object");
    call_fails("search", "{\"model\":\"llama3-8b\"}", SP_EINVAL, "--model, --system, --gpus and --global-batch are required");
    call_fails("infer", "{}", SP_EINVAL, "--model is required");
}

/* Rule: search returns its top plans best first, and the first is the plan train evaluates to the same time. */
static void test_search_best_plan_retimes(void **st)
{
    (void)st;
    json_t *s = call_ok("search", "{\"model\":\"llama3-8b\",\"system\":\"dgx-h100\",\"gpus\":16,\"global_batch\":64,"
                                  "\"seq_len\":4096,\"top\":3,\"threads\":1}");
    json_t *plans = json_object_get(s, "plans");
    assert_int_equal(json_array_size(plans), 3);
    json_t *best = json_array_get(plans, 0);
    assert_true(num(best, "step_time_s") <= num(json_array_get(plans, 1), "step_time_s"));
    char req[512];
    snprintf(req, sizeof req,
             "{\"model\":\"llama3-8b\",\"system\":\"dgx-h100\",\"gpus\":16,\"global_batch\":64,\"seq_len\":4096,"
             "\"tp\":%d,\"pp\":%d,\"cp\":%d,\"ep\":%d,\"vpp\":%d,\"micro_batch\":%d,\"recompute\":\"%s\",\"sp\":%s,"
             "\"zero\":%d,\"dtype\":\"%s\"}",
             (int)num(best, "tp"), (int)num(best, "pp"), (int)num(best, "cp"), (int)num(best, "ep"), (int)num(best, "vpp"),
             (int)num(best, "micro_batch"), json_string_value(json_object_get(best, "recompute")),
             json_is_true(json_object_get(best, "sequence_parallel")) ? "true" : "false", (int)num(best, "zero"),
             json_string_value(json_object_get(best, "dtype")));
    json_t *t = call_ok("train", req);
    assert_rel(num(t, "step_time_s"), num(best, "step_time_s"), 1e-14);
    json_decref(t);
    json_decref(s);
}

/* Rule: infer's result carries the serving keys the CLI prints, and a sweep one point per power of two. */
static void test_infer(void **st)
{
    (void)st;
    json_t *j = call_ok("infer", "{\"model\":\"llama3-70b\",\"tp\":4,\"batch\":16}");
    assert_int_equal((int)num(j, "batch"), 16);
    assert_true(num(j, "tpot_s") > 0 && num(j, "ttft_s") > num(j, "tpot_s"));
    json_decref(j);
    j = call_ok("infer", "{\"model\":\"llama3-8b\",\"sweep\":\"batch=1..256\"}");
    assert_int_equal(json_array_size(json_object_get(j, "sweep")), 9); /* 1, 2, 4, ..., 256 */
    json_decref(j);
}

/* Rule: infer's --fit-hardware is served by sp_call: the best row meets the latency target and no candidate that
 * meets it costs less per hour; a file --coe cannot read is refused naming the option. */
static void test_infer_modes(void **st)
{
    (void)st;
    json_t *j = call_ok("infer", "{\"model\":\"llama3-70b\",\"fit_hardware\":true,\"latency_ms\":30,"
                                 "\"candidates\":\"h100,h200\"}");
    json_t *best = json_object_get(j, "best"), *c = json_object_get(j, "candidates");
    assert_true(json_is_true(json_object_get(best, "meets_latency")) && num(best, "tpot_s") <= 0.03);
    assert_true(json_array_size(c) > 1);
    for (size_t i = 0; i < json_array_size(c); i++) {
        json_t *x = json_array_get(c, i);
        if (json_is_true(json_object_get(x, "meets_latency")))
            assert_true(num(x, "usd_per_hour") >= num(best, "usd_per_hour"));
    }
    json_decref(j);
    call_fails("infer", "{\"coe\":\"/nonexistent.json\"}", SP_EIO, "--coe: '/nonexistent.json'");
    call_fails("infer", "{\"model\":\"llama3-8b\",\"fit_hardware\":true,\"latency_ms\":30,\"candidates\":\"x\"}",
               SP_EINVAL, "--candidates: unknown system preset 'x'");
}

/* Rule: presets lists every kind; inference validation evaluates the rows it can. */
static void test_presets(void **st)
{
    (void)st;
    json_t *p = call_ok("presets", NULL);
    assert_true(json_array_size(json_object_get(p, "models")) > 10);
    assert_true(json_array_size(json_object_get(p, "laws")) == 3);
    json_decref(p);
    /* validate --infer: 20 of the 27 measured inference rows have a model, hardware and numeric batch to evaluate */
    sp_csv *c;
    sp_error e = {0};
    assert_int_equal(sp_csv_read(SP_VALIDATION_DIR "/inference_measured.csv", &c, &e), SP_OK);
    sp_infer_row *rows;
    int n, nok = 0;
    assert_int_equal(sp_validate_infer(SP_TEST_DATA, c, &rows, &n, &e), SP_OK);
    for (int i = 0; i < n; i++)
        nok += rows[i].ok;
    assert_int_equal(n, 27);
    assert_int_equal(nok, 20);
    free(rows);
    sp_csv_free(c);
}

/* Rule: law's compute-optimal answer is sp_law_optimal's, with compute from a cluster = GPUs x peak x MFU x time. */
static void test_law(void **st)
{
    (void)st;
    json_t *j = call_ok("law", "{\"gpus\":1024,\"days\":90,\"system\":\"dgx-a100-80g\",\"mfu\":0.5}");
    sp_law law;
    sp_system s;
    sp_error e = {0};
    assert_int_equal(sp_load_law(SP_TEST_DATA, "chinchilla", &law, &e), SP_OK);
    assert_int_equal(sp_load_system(SP_TEST_DATA, "dgx-a100-80g", &s, &e), SP_OK);
    double c = 1024 * sp_accel_peak(&s.acc, SP_BF16) * 0.5 * 90 * 86400, n, d, l;
    sp_law_optimal(&law, c, &n, &d, &l);
    assert_rel(num(j, "compute_flop"), c, 1e-14);
    assert_rel(num(j, "n_opt"), n, 1e-14);
    assert_rel(num(j, "loss"), l, 1e-14);
    json_decref(j);
    call_fails("law", "{\"days\":\"3mo\"}", SP_EINVAL, "compute from a cluster needs --gpus and --days");
}

/* Rule: validate-energy evaluates the 22 run rows of the shipped file (the others are notes or lack hours), and
 * its MAPE is the mean |error| of sp_validate_energy's rows. */
static void test_validate_energy(void **st)
{
    (void)st;
    json_t *j = call_ok("validate-energy", "{\"file\":\"" SP_VALIDATION_DIR "/training_energy.csv\"}");
    assert_int_equal((int)num(j, "n"), 22);
    sp_csv *c;
    sp_error e = {0};
    assert_int_equal(sp_csv_read(SP_VALIDATION_DIR "/training_energy.csv", &c, &e), SP_OK);
    sp_validate_energy_opts o;
    memset(&o, 0, sizeof o);
    sp_energy_defaults(&o.energy);
    o.automatic = 1;
    o.utilization = 0.4;
    o.region_kg_per_kwh = -1;
    sp_energy_row *rows;
    int n, nok = 0;
    assert_int_equal(sp_validate_energy(SP_TEST_DATA, c, &o, &rows, &n, &e), SP_OK);
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (rows[i].ok) {
            nok++;
            sum += fabs(rows[i].error_pct);
        }
    assert_int_equal(nok, 22);
    assert_rel(num(j, "mape_pct"), sum / nok, 1e-13);
    free(rows);
    sp_csv_free(c);
    json_decref(j);
    call_fails("validate-energy", "{\"file\":\"x.csv\",\"power_model\":\"max\"}", SP_EINVAL,
               "--power-model 'max'; allowed auto, activity, tdp");
}

/* Rule: finetune reports the memory split whose parts add up to the total, and report famous runs all eight runs. */
static void test_finetune_report(void **st)
{
    (void)st;
    json_t *j = call_ok("finetune", "{\"model\":\"llama3-8b\",\"method\":\"qlora\",\"tokens\":\"100M\"}");
    json_t *m = json_object_get(j, "memory_per_gpu_bytes");
    assert_rel(num(m, "model_states") + num(m, "activations") + num(m, "base_weights") + num(m, "buffers_overhead"),
               num(m, "total"), 1e-12);
    assert_string_equal(json_string_value(json_object_get(j, "base_dtype")), "nf4");
    assert_rel(num(j, "train_time_s"), 1e8 / num(j, "tokens_per_s"), 1e-12);
    json_decref(j);
    j = call_ok("report", "{\"name\":\"famous\"}");
    assert_int_equal(json_array_size(json_object_get(j, "runs")), 8);
    json_decref(j);
    call_fails("report", "{\"name\":\"infamous\"}", SP_EINVAL, "expected 'famous'");
}

/* Rule: sp_call limits (the paper's model) returns the summary of the same sweep run through the typed API, numbers
 * and strings are the same request, and a range holding no sweep point is refused naming --to. */
static void test_limits(void **st)
{
    (void)st;
    json_t *j = call_ok("limits", "{\"mode\":\"epoch2024\",\"gpu\":\"h100\",\"latency_scale\":0.1,\"to\":\"1e28\"}");
    sp_epoch_setting s;
    sp_epoch_setting_defaults(&s);
    sp_error e = {0};
    assert_int_equal(sp_epoch_gpu_preset("h100", &s.gpu, &e), SP_OK);
    for (int i = 0; i < s.gpu.n_levels; i++)
        s.gpu.lat[i] *= 0.1;
    s.gpu.latency_per_matmul_s *= 0.1;
    s.c_max = 1e28;
    static sp_epoch_point pts[160];
    sp_epoch_summary sum;
    int n = sp_epoch_sweep(&s, pts, 160, &sum);
    assert_true(n > 0);
    assert_int_equal(json_array_size(json_object_get(j, "points")), (size_t)n);
    assert_near(num(json_array_get(json_object_get(j, "points"), n - 1), "utilization"), pts[n - 1].utilization, 1e-12);
    assert_string_equal(json_string_value(json_object_get(j, "sweep_end")), "end of range");
    json_t *k = call_ok("limits", "{\"mode\":\"epoch2024\",\"gpu\":\"h100\",\"latency_scale\":\"0.1\",\"to\":1e28}");
    assert_true(num(k, "max_utilization") == num(j, "max_utilization"));
    json_decref(j);
    json_decref(k);
    call_fails("limits", "{\"mode\":\"epoch2024\",\"to\":\"1e24\"}", SP_EINVAL, "--to 1e+24: below the smallest run");
    call_fails("limits", "{\"mode\":\"paper\"}", SP_EINVAL, "--mode 'paper'; allowed epoch2024, full");
    call_fails("limits", "{\"mode\":\"epoch2024\",\"gpus\":8}", SP_EINVAL, "unknown option 'gpus' for limits");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_matches_typed_api), cmocka_unit_test(test_values_numbers_strings_flags),
        cmocka_unit_test(test_errors), cmocka_unit_test(test_search_best_plan_retimes), cmocka_unit_test(test_infer),
        cmocka_unit_test(test_infer_modes),
        cmocka_unit_test(test_presets), cmocka_unit_test(test_law),
        cmocka_unit_test(test_validate_energy), cmocka_unit_test(test_finetune_report), cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
