/* sp_call on the commands that read tables of measurements: validate (training runs from CSV files or inline rows)
 * and fit (a scaling law fitted to points). Each test names its rule and asserts exact values. */
#include "testutil.h"

#include "call_util.h"

#include <unistd.h>

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("no string '%s'", key);
    return s;
}

/* Requests a command refuses: the status and the exact one-line message. */
typedef struct {
    const char *req;
    sp_status st;
    const char *msg;
} refusal;

static void expect_refusals(const char *cmd, const refusal *bad, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_string_equal(call_error(cmd, bad[i].req, bad[i].st), bad[i].msg);
}

/* The request {"rows": [...]} of rows [first, first + n) of a CSV file, every cell a string as in the file. */
static char *rows_request(const char *path, int first, int n)
{
    sp_csv *c;
    sp_error e = {0};
    if (sp_csv_read(path, &c, &e))
        fail_msg("%s", e.msg);
    const char *cols[64];
    int ncols = 0;
    static const char *const names[] = {"id", "model", "n_layers", "d_model", "n_heads", "n_kv_heads", "ffn_dim",
                                        "ffn_type", "seq_len", "vocab", "moe_experts", "moe_topk", "system", "n_gpus",
                                        "tp", "pp", "dp", "ep", "cp", "vpp", "zero_stage", "global_batch",
                                        "micro_batch", "recompute", "seq_parallel", "precision",
                                        "measured_step_time_s", "measured_tflops_per_gpu", "tflops_counts_recompute",
                                        "software", "model_config"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (sp_csv_col(c, names[i]) >= 0)
            cols[ncols++] = names[i];
    json_t *rows = json_array();
    for (int r = first; r < first + n; r++) {
        json_t *o = json_object();
        for (int k = 0; k < ncols; k++)
            json_object_set_new(o, cols[k], json_string(sp_csv_get(c, r, sp_csv_col(c, cols[k]))));
        json_array_append_new(rows, o);
    }
    json_t *req = json_object();
    json_object_set_new(req, "rows", rows);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    sp_csv_free(c);
    return text;
}

/* Rule: validate over a file gives, row for row, the typed API's predictions and the summary's MAPE per family
 * and overall (the numbers the CLI's text report prints come from this object). */
static void test_validate_file_matches_typed_api(void **st)
{
    (void)st;
    json_t *j = call_ok("validate", "{\"paths\":[\"" SP_VALIDATION_DIR "/training_runs.csv\"]}");
    sp_validate_row *rows;
    int n;
    sp_error e = {0};
    assert_int_equal(sp_validate_training(SP_TEST_DATA, SP_VALIDATION_DIR "/training_runs.csv", &rows, &n, &e), SP_OK);
    sp_validate_summary s;
    sp_validate_summarize(rows, n, &s);
    assert_int_equal((int)num(j, "n"), s.all.n);
    assert_int_equal((int)num(j, "not_evaluated"), s.all.n_skipped);
    assert_rel(num(j, "mape_pct"), s.all.mape_pct, 1e-13);
    json_t *ok = json_object_get(j, "rows");
    for (int i = 0, k = 0; i < n; i++)
        if (rows[i].ok) {
            json_t *r = json_array_get(ok, (size_t)k++);
            assert_string_equal(str(r, "id"), rows[i].id);
            assert_rel(num(r, "predicted_step_time_s"), rows[i].predicted_step_time_s, 1e-14);
            assert_rel(num(r, "error_pct"), rows[i].error_pct, 1e-13);
        }
    json_t *fam = json_object_get(j, "families");
    for (int k = 0; k < s.n_families; k++) {
        json_t *g = json_object_get(fam, s.family[k].name);
        assert_int_equal((int)num(g, "n"), s.family[k].n);
        if (s.family[k].n)
            assert_rel(num(g, "mape_pct"), s.family[k].mape_pct, 1e-13);
    }
    json_t *files = json_object_get(j, "files");
    assert_int_equal(json_array_size(files), 1);
    assert_rel(num(json_object_get(json_array_get(files, 0), "summary"), "mape_pct"), s.all.mape_pct, 1e-13);
    free(rows);
    json_decref(j);
}

/* Rule: two files give one row list, each file's summary over its own rows, and the overall MAPE over both. */
static void test_validate_two_files(void **st)
{
    (void)st;
    json_t *a = call_ok("validate", "{\"paths\":\"" SP_VALIDATION_DIR "/training_runs.csv\"}");
    json_t *b = call_ok("validate", "{\"paths\":[\"" SP_VALIDATION_DIR "/training_runs_megatron_core.csv\"]}");
    json_t *ab = call_ok("validate", "{\"paths\":[\"" SP_VALIDATION_DIR "/training_runs.csv\",\"" SP_VALIDATION_DIR
                                     "/training_runs_megatron_core.csv\"]}");
    double na = num(a, "n"), nb = num(b, "n");
    assert_int_equal((int)num(ab, "n"), (int)(na + nb));
    assert_rel(num(ab, "mape_pct"), (na * num(a, "mape_pct") + nb * num(b, "mape_pct")) / (na + nb), 1e-12);
    json_t *files = json_object_get(ab, "files");
    assert_int_equal(json_array_size(files), 2);
    assert_rel(num(json_object_get(json_array_get(files, 1), "summary"), "mape_pct"), num(b, "mape_pct"), 1e-13);
    json_decref(a);
    json_decref(b);
    json_decref(ab);
}

/* Rule: rows given inline (Python's list of dicts) are the same runs as the file's rows: same predictions. */
static void test_validate_inline_rows_equal_file(void **st)
{
    (void)st;
    char *req = rows_request(SP_VALIDATION_DIR "/training_runs.csv", 0, 8);
    json_t *in = call_ok("validate", req);
    free(req);
    json_t *file = call_ok("validate", "{\"paths\":[\"" SP_VALIDATION_DIR "/training_runs.csv\"]}");
    json_t *rows = json_object_get(in, "rows");
    assert_int_equal(json_array_size(rows), 8);
    for (size_t i = 0; i < 8; i++) {
        json_t *x = json_array_get(rows, i), *y = json_array_get(json_object_get(file, "rows"), i);
        assert_string_equal(str(x, "id"), str(y, "id"));
        assert_rel(num(x, "predicted_step_time_s"), num(y, "predicted_step_time_s"), 1e-14);
        assert_rel(num(x, "measured_step_time_s"), num(y, "measured_step_time_s"), 1e-14);
    }
    assert_string_equal(str(json_array_get(json_object_get(in, "files"), 0), "file"), "rows");
    /* numbers may be JSON numbers; absent keys are empty cells */
    json_t *n = call_ok("validate", "{\"rows\":[{\"id\":\"X-1\",\"n_layers\":4,\"d_model\":1024,\"n_heads\":16,"
                                    "\"system\":\"dgx-h100\",\"n_gpus\":8,\"global_batch\":32,\"seq_len\":2048,"
                                    "\"measured_step_time_s\":0.5,\"seq_parallel\":false}]}");
    assert_int_equal((int)num(n, "n"), 1);
    assert_string_equal(str(json_array_get(json_object_get(n, "rows"), 0), "family"), "X");
    json_decref(n);
    json_decref(in);
    json_decref(file);
}

/* Rule: relative system and model_config paths of inline rows resolve against the working directory (a file's
 * resolve against its folder). */
static void test_validate_inline_relative_paths(void **st)
{
    (void)st;
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(SP_DATA_DIR "/../tests/validate"), 0);
    json_t *j = call_ok("validate", "{\"rows\":[{\"id\":\"REL-1\",\"system\":\"rel/site/h100-half-nics.json\","
                                    "\"model_config\":\"rel/tiny-config.json\",\"n_gpus\":16,\"tp\":2,\"dp\":8,"
                                    "\"global_batch\":64,\"micro_batch\":2,\"seq_len\":2048,\"software\":\"megatron-core\","
                                    "\"measured_step_time_s\":1.0}]}");
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal((int)num(j, "n"), 1);
    json_t *file = call_ok("validate", "{\"paths\":[\"" SP_DATA_DIR "/../tests/validate/rel/runs.csv\"]}");
    assert_rel(num(json_array_get(json_object_get(j, "rows"), 0), "predicted_step_time_s"),
               num(json_array_get(json_object_get(file, "rows"), 0), "predicted_step_time_s"), 1e-14);
    json_decref(j);
    json_decref(file);
}

/* Rule: bad input is refused with one line naming the file (or "rows"), the line and the column or option. */
static void test_validate_errors(void **st)
{
    (void)st;
    static const refusal bad[] = {
        {"{\"paths\":[\"/nonexistent/runs.csv\"]}", SP_EIO,
         "/nonexistent/runs.csv: cannot open: No such file or directory; expected a readable CSV file"},
        {"{\"paths\":[\"" SP_DATA_DIR "/../tests/validate/none.csv\"]}", SP_EINVAL,
         "no row could be evaluated (first reason: " SP_DATA_DIR "/../tests/validate/none.csv:2: plan: --gpus 12 is not "
         "divisible by tp*pp*cp*ep = 8*1*1*1 = 8)"},
        {"{\"rows\":[{\"id\":\"A-2\",\"n_layers\":\"four\",\"system\":\"dgx-h100\",\"n_gpus\":8,\"global_batch\":32,"
         "\"measured_step_time_s\":1}]}",
         SP_EINVAL, "no row could be evaluated (first reason: rows:1: column 'n_layers': 'four' is not an integer)"},
        {"{\"rows\":[{\"id\":\"A-1\",\"n_gpus\":8}]}", SP_EPARSE, "rows:1: missing required column 'system'"},
        {"{\"rows\":[{\"id\":\"A-1\",\"tp\":[1]}]}", SP_EINVAL, "rows:1: column 'tp': expected a string, a number, a boolean or null"},
        {"{\"rows\":[1]}", SP_EINVAL, "rows:1: expected an object of column: value"},
        {"{\"rows\":{}}", SP_EINVAL, "--rows: expected a list of rows (objects of column: value)"},
        {"{\"rows\":[]}", SP_EINVAL, "--rows: 0 rows; allowed 1..16777216"},
        {"{\"rows\":[{}]}", SP_EINVAL, "--rows: the rows have no columns"},
        {"{}", SP_EINVAL, "expected one or more CSV files"},
        {"{\"paths\":[]}", SP_EINVAL, "expected one or more CSV files"},
        {"{\"paths\":[3]}", SP_EINVAL, "--paths: element 1 is not a string (a CSV file path)"},
        {"{\"paths\":[\"a.csv\"],\"rows\":[{\"id\":\"x\"}]}", SP_EINVAL, "--rows: give paths or rows, not both"},
        {"{\"paths\":[\"a.csv\",\"b.csv\"],\"infer\":true}", SP_EINVAL, "--infer takes one CSV file, got 2"},
        {"{\"paths\":[\"" SP_VALIDATION_DIR "/training_runs.csv\"],\"file\":\"a.csv\"}", SP_EINVAL,
         "unknown option 'file' for validate (keys are the command's long options with '-' written '_')"},
    };
    expect_refusals("validate", bad, sizeof bad / sizeof bad[0]);
}

/* Rule: a bad row among good ones is listed with its reason (file:line:column) and the others are evaluated. */
static void test_validate_bad_row_listed(void **st)
{
    (void)st;
    json_t *j = call_ok("validate", "{\"rows\":[{\"id\":\"A-1\",\"n_layers\":4,\"d_model\":1024,\"n_heads\":16,"
                                    "\"system\":\"dgx-h100\",\"n_gpus\":8,\"global_batch\":32,\"measured_step_time_s\":1},"
                                    "{\"id\":\"A-2\",\"n_layers\":\"x\",\"system\":\"dgx-h100\",\"n_gpus\":8,"
                                    "\"global_batch\":32,\"measured_step_time_s\":1}]}");
    assert_int_equal((int)num(j, "n"), 1);
    json_t *sk = json_array_get(json_object_get(j, "skipped"), 0);
    assert_string_equal(str(sk, "id"), "A-2");
    assert_string_equal(str(sk, "reason"), "rows:2: column 'n_layers': 'x' is not an integer");
    assert_true(json_is_null(json_object_get(json_object_get(j, "knobs_stated"), "mape_pct"))); /* no row stated */
    json_decref(j);
}

/* Rule: validate with infer is the serving model's validation: the 20 evaluable rows of the shipped file. */
static void test_validate_infer(void **st)
{
    (void)st;
    json_t *j = call_ok("validate", "{\"paths\":[\"" SP_VALIDATION_DIR "/inference_measured.csv\"],\"infer\":true}");
    assert_int_equal((int)num(j, "n"), 20);
    json_decref(j);
}

#define GADRE SP_DATA_DIR "/../tests/gadre2024/rpj_c4val.csv"
#define CHIN SP_VALIDATION_DIR "/chinchilla_points.csv"

/* The "fit" rows of the Gadre et al. test file as inline points {N, D, loss_c4_val} (JSON numbers). */
static char *gadre_points_request(const char *extra)
{
    sp_csv *c;
    sp_error e = {0};
    if (sp_csv_read(GADRE, &c, &e))
        fail_msg("%s", e.msg);
    json_t *pts = json_array();
    for (int r = 0; r < sp_csv_rows(c); r++) {
        if (strcmp(sp_csv_get(c, r, sp_csv_col(c, "split")), "fit") != 0)
            continue;
        json_t *o = json_object();
        static const char *const cols[] = {"N", "D", "loss_c4_val"};
        for (int k = 0; k < 3; k++)
            json_object_set_new(o, cols[k], json_real(strtod(sp_csv_get(c, r, sp_csv_col(c, cols[k])), NULL)));
        json_array_append_new(pts, o);
    }
    sp_csv_free(c);
    json_error_t je;
    json_t *req = json_loads(extra, 0, &je);
    json_object_set_new(req, "points", pts);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    return text;
}

/* Rule: fit over a file is sp_fit_law on the file's points (outliers dropped by --drop-if): same parameters and
 * predictions, the --predict points in the order given, as "N,D" strings or [N, D] pairs. */
static void test_fit_file_matches_typed_api(void **st)
{
    (void)st;
    json_t *j = call_ok("fit", "{\"file\":\"" CHIN "\",\"n\":\"N_params\",\"d\":\"D_tokens\",\"loss\":\"loss\","
                               "\"drop_if\":\"excluded_as_outlier_by_epoch=y\",\"predict\":[\"70B,1.4T\",[405e9,15e12]]}");
    sp_csv *c;
    sp_error e = {0};
    assert_int_equal(sp_csv_read(CHIN, &c, &e), SP_OK);
    int nr = sp_csv_rows(c), k = 0;
    double *v = calloc(3 * (size_t)nr, sizeof *v);
    for (int r = 0; r < nr; r++)
        if (strcmp(sp_csv_get(c, r, sp_csv_col(c, "excluded_as_outlier_by_epoch")), "y") != 0) {
            v[k] = strtod(sp_csv_get(c, r, sp_csv_col(c, "N_params")), NULL);
            v[nr + k] = strtod(sp_csv_get(c, r, sp_csv_col(c, "D_tokens")), NULL);
            v[2 * nr + k++] = strtod(sp_csv_get(c, r, sp_csv_col(c, "loss")), NULL);
        }
    sp_fit_prediction pred[2] = {{70e9, 1.4e12, 0, 0, 0}, {405e9, 15e12, 0, 0, 0}};
    sp_fit_opts o = {1e-3, 0, 1, 0.95, 0, 0, SP_FIT_CHINCHILLA, 0, 2, pred};
    sp_fit_result r;
    assert_int_equal(sp_fit_law(v, v + nr, v + 2 * nr, NULL, k, &o, &r, &e), SP_OK);
    assert_int_equal((int)num(j, "n_points"), k);
    assert_rel(num(j, "E"), r.E, 1e-14);
    assert_rel(num(j, "alpha"), r.alpha, 1e-14);
    assert_rel(num(j, "beta"), r.beta, 1e-14);
    json_t *p = json_object_get(j, "predictions");
    assert_int_equal(json_array_size(p), 2);
    assert_rel(num(json_array_get(p, 0), "loss"), pred[0].loss, 1e-14);
    assert_rel(num(json_array_get(p, 1), "loss"), pred[1].loss, 1e-14);
    assert_true(json_is_null(json_object_get(json_array_get(p, 0), "lo"))); /* no interval without --bootstrap */
    free(v);
    sp_csv_free(c);
    json_decref(j);
}

/* Rule: points given inline are the file's points: the same fit, form by form (here Gadre et al.'s). */
static void test_fit_inline_points_equal_file(void **st)
{
    (void)st;
    char *req = gadre_points_request("{\"loss\":\"loss_c4_val\",\"form\":\"gadre\"}");
    json_t *a = call_ok("fit", req);
    free(req);
    json_t *b = call_ok("fit", "{\"file\":\"" GADRE "\",\"loss\":\"loss_c4_val\",\"drop_if\":\"split=holdout\",\"form\":\"gadre\"}");
    assert_int_equal((int)num(a, "n_points"), (int)num(b, "n_points"));
    assert_rel(num(a, "E"), num(b, "E"), 1e-14);
    assert_rel(num(json_object_get(a, "gadre"), "eta"), num(json_object_get(b, "gadre"), "eta"), 1e-14);
    assert_string_equal(json_string_value(json_object_get(a, "form")), "gadre");
    json_decref(a);
    json_decref(b);
    /* --form auto: each form's held-out error, the smallest one's form fitted */
    json_t *s = call_ok("fit", "{\"file\":\"" GADRE "\",\"loss\":\"loss_c4_val\",\"drop_if\":\"split=holdout\","
                               "\"form\":\"auto\",\"select\":\"largest\"}");
    json_t *sel = json_object_get(s, "selection_heldout_rmse_log");
    const char *form = json_string_value(json_object_get(s, "form"));
    for (int f = 0; f < 3; f++)
        assert_true(num(sel, form) <= num(sel, sp_fit_form_name(f)));
    assert_rel(num(s, "heldout_rmse_log"), num(sel, form), 1e-14);
    json_decref(s);
}

/* Rule: bad input is refused with one line naming the file (or "points"), the line and the column or option. */
static void test_fit_errors(void **st)
{
    (void)st;
    static const refusal bad[] = {
        {"{\"file\":\"/nonexistent.csv\"}", SP_EIO,
         "/nonexistent.csv: cannot open: No such file or directory; expected a readable CSV file"},
        {"{\"points\":[{\"N\":1e8,\"D\":2e9,\"loss\":3.2},{\"N\":2e8,\"D\":4e9,\"loss\":\"x\"}]}", SP_EINVAL,
         "points:2: column 'loss': 'x' is not a finite number"},
        {"{\"points\":[{\"N\":1e8,\"D\":2e9,\"loss\":3.2},{\"N\":2e8,\"D\":4e9}]}", SP_EINVAL,
         "points:2: empty N, D or loss cell"},
        {"{\"points\":[{\"N\":1e8,\"D\":2e9,\"loss\":3.2},{\"N\":1e8,\"D\":2e9,\"loss\":3.2}]}", SP_EINVAL,
         "points:2: duplicate of line 1 (same N, D and loss); remove it or give it a weight"},
        {"{\"points\":[{\"n\":1e8,\"d\":2e9,\"loss\":3.2}]}", SP_EINVAL,
         "--n: points:1: no column 'N'; expected one of the CSV's columns"},
        {"{\"points\":[{\"N\":1e8,\"D\":2e9,\"loss\":3.2}]}", SP_EINVAL, "fit: 1 points for 5 parameters; need at least 6"},
        {"{\"file\":\"" GADRE "\",\"form\":\"hoffmann\"}", SP_EINVAL, "--form 'hoffmann'; allowed chinchilla, gadre, kaplan, auto"},
        {"{\"file\":\"" GADRE "\",\"predict\":\"7B\"}", SP_EINVAL, "--predict '7B': expected N,D (e.g. 7B,140B)"},
        {"{\"file\":\"" GADRE "\",\"predict\":[[1,2,3]]}", SP_EINVAL,
         "--predict: expected \"N,D\" or a list of them (or of [N, D] pairs)"},
        {"{\"file\":\"" GADRE "\",\"predict_csv\":\"/nonexistent.csv\"}", SP_EIO,
         "--predict-csv: /nonexistent.csv: cannot open: No such file or directory; expected a readable CSV file"},
        {"{\"file\":\"" GADRE "\",\"drop_if\":\"split\"}", SP_EINVAL, "--drop-if 'split': expected COLUMN=VALUE"},
        {"{\"file\":\"" GADRE "\",\"points\":[{\"N\":1}]}", SP_EINVAL, "--points: give file or points, not both"},
        {"{}", SP_EINVAL, "expected one CSV file (file) or points"},
        {"{\"file\":\"" GADRE "\",\"bootstrap\":-1}", SP_EINVAL, "--bootstrap: -1 is out of range; allowed 0..1000000"},
    };
    expect_refusals("fit", bad, sizeof bad / sizeof bad[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_file_matches_typed_api), cmocka_unit_test(test_validate_two_files),
        cmocka_unit_test(test_validate_inline_rows_equal_file), cmocka_unit_test(test_validate_inline_relative_paths),
        cmocka_unit_test(test_validate_errors), cmocka_unit_test(test_validate_bad_row_listed),
        cmocka_unit_test(test_validate_infer), cmocka_unit_test(test_fit_file_matches_typed_api),
        cmocka_unit_test(test_fit_inline_points_equal_file), cmocka_unit_test(test_fit_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
