/* Inference validation: every row of an inference_measured.csv-style file (schema: data/validation/README.md)
 * predicted by the serving model (sp_infer_eval) or, for kernel rows, the GEMM model; per-row error, MAPE overall
 * and over the decode-dominated rows. A row whose model, hardware or metric has no counterpart is reported with
 * the reason, never dropped. */
#include "call.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int contains(const char *h, const char *n) { return strstr(h, n) != NULL; }

static const char *model_for(const char *t)
{
    if (contains(t, "Llama-2-70B"))
        return "llama2-70b";
    if (contains(t, "Llama-3.3-70B") || contains(t, "Llama-3.1-70B") || contains(t, "Llama-3-70B"))
        return "llama3-70b";
    if (contains(t, "Llama-3.1-8B") || contains(t, "Llama-3-8B"))
        return "llama3-8b";
    if (contains(t, "GPT-J"))
        return "gptj-6b";
    if (contains(t, "13B GPT"))
        return "gpt-13b";
    return NULL;
}

static const char *system_for(const char *t)
{
    if (contains(t, "H200"))
        return "hgx-h200";
    if (contains(t, "H100"))
        return "dgx-h100";
    if (contains(t, "B200"))
        return "dgx-b200";
    if (contains(t, "A100-40") || contains(t, "A100 SXM4 40"))
        return "dgx-a100-40g";
    if (contains(t, "A100"))
        return "dgx-a100-80g";
    return NULL;
}

static int leading_int(const char *s, int *out)
{
    while (*s == ' ')
        s++;
    if (!isdigit((unsigned char)*s))
        return 0;
    *out = atoi(s);
    return 1;
}

#define COL(name) sp_csv_get(c, r, sp_csv_col(c, name))

/* The serving configuration of a row: its devices as TP, its batch and lengths; FP8 rows with FP8 weights,
 * activations and KV cache (TensorRT-LLM's FP8 recipe builds with --enable_fp8 --fp8_kv_cache,
 * docs/source/performance.md; NIM's FP8 profiles likewise); a batch given as a concurrency with in-flight
 * batching. */
static void row_opts(const sp_csv *c, int r, int ndev, int batch, int in, int outl, sp_infer_opts *o)
{
    const char *prec = COL("precision");
    sp_infer_defaults(o);
    o->n_gpus = ndev;
    o->tp = ndev;
    o->batch = batch;
    o->prompt = in;
    o->output = outl;
    if (contains(prec, "FP8")) {
        o->weights = SP_FP8;
        o->kv = SP_FP8;
    } else if (contains(prec, "FP4")) {
        o->weights = SP_FP4;
        o->kv = SP_FP8;
    }
    o->inflight = contains(COL("batch"), "concurrency") || contains(COL("system_or_tool"), "in-flight");
}

/* The predicted value of the row's metric from a serving result (in the row's unit); NAN with a reason when the
 * metric is not modelled. */
static double metric_value(const sp_csv *c, int r, const sp_infer_result *ir, int outl, sp_infer_row *o)
{
    const char *metric = COL("metric"), *unit = COL("unit");
    if (contains(metric, "prefill") || contains(metric, "first token"))
        return ir->ttft_s * 1e3;
    if (contains(metric, "total latency"))
        return ir->e2e_s * 1e3;
    if (contains(metric, "per token") || contains(metric, "inter-token")) {
        o->decode = 1;
        return ir->tpot_s * 1e3;
    }
    if (contains(metric, "throughput") && (contains(unit, "/GPU") || contains(COL("notes"), "unit ambiguous"))) {
        /* Rows flagged "unit ambiguous" (TensorRT-LLM v0.6.1 A100 table headed "out tok/s") are read per GPU: a
         * later revision of the same document (commit 77d24b5) heads that table "out tok/s/GPU" with the same
         * numbers. */
        o->decode = outl >= 128;
        o->read_per_gpu = !contains(unit, "/GPU");
        return ir->tokens_per_s_per_gpu;
    }
    if (contains(metric, "throughput")) {
        o->decode = outl >= 128;
        return ir->tokens_per_s;
    }
    snprintf(o->reason, sizeof o->reason, "metric '%s' is not modelled", metric);
    return NAN;
}

static double predict(const char *data_dir, const sp_csv *c, int r, int batch, int ndev, const sp_model *m, const sp_system *s,
                      sp_infer_row *o)
{
    sp_error err = {0};
    if (contains(COL("metric"), "op latency")) {
        /* one MLP gate+up GEMM of the named model: (tokens x h) x (h x 2f/tp) */
        const char *tpp = strstr(COL("parallelism"), "TP");
        int tp = tpp ? atoi(tpp + 2) : 1;
        return sp_gemm_time(&s->acc, SP_BF16, batch, 2.0 * m->ffn_dim / (tp > 0 ? tp : 1), m->d_model, 1) * 1e3;
    }
    int in = 0, outl = 0;
    if (!leading_int(COL("input_len"), &in) || !leading_int(COL("output_or_kv_len"), &outl)) {
        snprintf(o->reason, sizeof o->reason, "input/output lengths are not numbers");
        return NAN;
    }
    sp_infer_opts opts;
    row_opts(c, r, ndev, batch, in, outl, &opts);
    sp_serving_eff_load(data_dir, s->acc.name, &opts.eff, &err); /* neutral factors when the family is unlisted */
    sp_infer_result ir;
    if (sp_infer_eval(m, s, &opts, &ir, &err)) {
        snprintf(o->reason, sizeof o->reason, "%.290s", err.msg);
        return NAN;
    }
    return metric_value(c, r, &ir, outl, o);
}

static void validate_row(const char *data_dir, const sp_csv *c, int r, sp_infer_row *o)
{
    snprintf(o->id, sizeof o->id, "%s", COL("id"));
    snprintf(o->metric, sizeof o->metric, "%s", COL("metric"));
    snprintf(o->unit, sizeof o->unit, "%s", COL("unit"));
    const char *mn = model_for(COL("model")), *sn = system_for(COL("hardware"));
    int batch = 0, ndev = 1;
    if (!mn)
        snprintf(o->reason, sizeof o->reason, "no preset for model '%s'", COL("model"));
    else if (!sn)
        snprintf(o->reason, sizeof o->reason, "no preset for hardware '%s'", COL("hardware"));
    else if (!leading_int(COL("batch"), &batch))
        snprintf(o->reason, sizeof o->reason, "batch '%s' is not a number (scheduler-chosen)", COL("batch"));
    else if (!leading_int(COL("n_devices"), &ndev))
        snprintf(o->reason, sizeof o->reason, "device count '%s' is not a number", COL("n_devices"));
    else if (contains(COL("model"), "1 layer"))
        snprintf(o->reason, sizeof o->reason, "a single-layer measurement (not a served model)");
    if (o->reason[0])
        return;
    sp_model m;
    sp_system s;
    sp_error err = {0};
    if (sp_load_model(data_dir, mn, &m, &err) || sp_load_system(data_dir, sn, &s, &err)) {
        snprintf(o->reason, sizeof o->reason, "%.290s", err.msg);
        return;
    }
    o->predicted = predict(data_dir, c, r, batch, ndev, &m, &s, o);
    o->measured = atof(COL("measured"));
    if (o->reason[0] || !isfinite(o->predicted) || !(o->measured > 0)) {
        if (!o->reason[0])
            snprintf(o->reason, sizeof o->reason, "no measured value");
        return;
    }
    o->ok = 1;
    o->error_pct = 100 * (o->predicted - o->measured) / o->measured;
}
#undef COL

sp_status sp_validation_rows(const sp_csv *c, const char *const *need, size_t size, void **rows, int *n, sp_error *err)
{
    *rows = NULL;
    *n = 0;
    sp_status st = sp_csv_require(c, need, err);
    if (st)
        return st;
    int nr = sp_csv_rows(c);
    *rows = calloc((size_t)(nr > 0 ? nr : 1), size);
    if (!*rows)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    *n = nr;
    return SP_OK;
}

sp_status sp_validate_infer(const char *data_dir, const sp_csv *c, sp_infer_row **rows, int *n, sp_error *err)
{
    static const char *const need[] = {"id", "hardware", "n_devices", "parallelism", "model", "precision", "batch", "input_len",
                                 "output_or_kv_len", "metric", "measured", "unit", NULL};
    void *v;
    sp_status st = sp_validation_rows(c, need, sizeof **rows, &v, n, err);
    *rows = v;
    for (int r = 0; st == SP_OK && r < *n; r++)
        validate_row(data_dir, c, r, &(*rows)[r]);
    return st;
}

json_t *sp_validate_infer_json(const sp_infer_row *rows, int n)
{
    json_t *o = json_object(), *ok = json_array(), *skipped = json_array();
    double sum = 0, sum_decode = 0;
    int nok = 0, ndec = 0;
    for (int i = 0; i < n; i++) {
        const sp_infer_row *row = &rows[i];
        if (!row->ok) {
            char line[sizeof row->id + sizeof row->reason + 2];
            snprintf(line, sizeof line, "%s: %s", row->id, row->reason);
            json_array_append_new(skipped, sp_json_str(line));
            continue;
        }
        json_t *j = json_object();
        sp_json_set_str(j, "id", row->id);
        sp_json_set_num(j, "predicted", row->predicted);
        sp_json_set_num(j, "measured", row->measured);
        sp_json_set_str(j, "unit", row->unit);
        sp_json_set_num(j, "error_pct", row->error_pct);
        sp_json_set_bool(j, "decode_dominated", row->decode);
        json_array_append_new(ok, j);
        sum += fabs(row->error_pct);
        nok++;
        if (row->decode) {
            sum_decode += fabs(row->error_pct);
            ndec++;
        }
    }
    json_object_set_new(o, "rows", ok);
    json_object_set_new(o, "skipped", skipped);
    sp_json_set_int(o, "n", nok);
    sp_json_set_num(o, "mape_pct", nok ? sum / nok : NAN);
    sp_json_set_int(o, "n_decode", ndec);
    sp_json_set_num(o, "mape_decode_pct", ndec ? sum_decode / ndec : NAN);
    return o;
}
