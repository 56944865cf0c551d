/* The `report famous` command: famous training runs predicted side by side (time, GPUs, MFU, energy, cost, CO2e),
 * with the plans their papers give, and two hypothetical compute-optimal runs planned by the search
 * (docs/famous.md). Request -> sp_report -> JSON. */
#include "call.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *label, *model, *system;
    int gpus, tp, pp, vpp, gbatch, seq;
    sp_recompute rc;
    int sp, zero;
    sp_dtype dt;
    double tokens;
    double compute; /* > 0: a synthetic compute-optimal dense model for this many FLOP (Epoch law) */
    const char *reported;
} famous;

/* Plans from the papers (Narayanan et al. 2021; Smith et al. 2022; Touvron et al. 2023; Llama 3 report
 * arXiv:2407.21783 §3.3; BigScience BLOOM report arXiv:2211.05100). */
static const famous runs[SP_REPORT_RUNS] = {
    {"GPT-3 175B (Megatron plan, 1024 A100)", "gpt3-175b-megatron", "dgx-a100-80g", 1024, 8, 8, 2, 1536, 2048,
     SP_RECOMPUTE_FULL, 0, 0, SP_FP16, 300e9, 0, "Narayanan et al. 2021: 34 days estimated on 1024 A100"},
    {"GPT-3 175B (as trained: ~10,000 V100; 9216 here)", "gpt3-175b", "dgx2-v100", 9216, 8, 24, 1, 1536, 2048, SP_RECOMPUTE_FULL,
     0, 0, SP_FP16, 300e9, 0, "Patterson et al. 2021: 14.8 days, 1287 MWh, 552 t"},
    {"MT-NLG 530B (2240 A100)", "turing-nlg-530b", "dgx-a100-80g", 2240, 8, 35, 1, 1920, 2048, SP_RECOMPUTE_FULL, 0, 0,
     SP_BF16, 270e9, 0, "Smith et al. 2022: 270B tokens on 2240-4480 A100"},
    {"BLOOM 176B (384 A100-80GB)", "bloom-176b", "dgx-a100-80g", 384, 4, 12, 1, 2048, 2048, SP_RECOMPUTE_FULL, 0, 1,
     SP_BF16, 366e9, 0, "BLOOM report: ~3.5 months, 1.08M GPU-hours, 433 MWh"},
    {"Llama 2 70B (2048 A100-80GB)", "llama2-70b", "dgx-a100-80g", 2048, 8, 4, 5, 1024, 4096, SP_RECOMPUTE_SELECTIVE,
     1, 1, SP_BF16, 2e12, 0, "Touvron et al. 2023: 1.72M GPU-hours, 291 t CO2e"},
    /* Meta's plan (Llama 3 report Table 4: TP 8, CP 1, PP 16, DP 128, 16M-token batches of 8192; §3.3.2: interleaved
     * stages, one layer fewer on the first and last, i.e. the embedding and loss counted in the split: 126 layers on
     * PP 16 x VP 8; §3.3.1: FSDP without resharding after the forward = ZeRO-2's memory). The paper gives no
     * recompute; with none the memory model overflows (84.5 of 79.65 GiB, docs/famous.md), so full. */
    {"Llama 3.1 405B (16384 H100)", "llama3.1-405b", "dgx-h100", 16384, 8, 16, 8, 2048, 8192, SP_RECOMPUTE_FULL, 1, 2,
     SP_BF16, 15.6e12, 0, "Llama 3 report: 30.84M GPU-hours, 38-43 % MFU"},
    {"1e26 FLOP run (compute-optimal, 32768 H100)", NULL, "dgx-h100", 32768, 8, 16, 1, 4096, 8192,
     SP_RECOMPUTE_SELECTIVE, 1, 1, SP_BF16, 0, 1e26, "hypothetical"},
    {"1e27 FLOP run (compute-optimal, 131072 H100)", NULL, "dgx-h100", 131072, 8, 32, 1, 8192, 8192,
     SP_RECOMPUTE_SELECTIVE, 1, 1, SP_BF16, 0, 1e27, "hypothetical"},
};

/* A dense GPT-style shape for N parameters: d_model a multiple of 1024, aspect ratio d_model / layers ~ 128
 * (GPT-3 175B: 12288 / 96), heads of 128, 8 KV heads, gated FFN of 8/3 d_model (Llama's), Llama 3's vocabulary. */
static void synthetic(double n, sp_model *m)
{
    double L = cbrt(n / (12.0 * 128 * 128));
    int layers = (int)(L / 8 + 0.5) * 8;
    if (layers < 8)
        layers = 8;
    int h = (int)(sqrt(n / (12.0 * layers)) / 1024 + 0.5) * 1024;
    char name[64];
    snprintf(name, sizeof name, "dense %.0fB", n / 1e9);
    sp_synthetic_spec spec = {.name = name, .d_model = h, .n_layers = layers, .n_heads = h / 128, .n_kv_heads = 8,
                              .ffn_dim = (int)(8.0 / 3 * h / 256 + 0.5) * 256, .gated = 1, .vocab = 128256,
                              .max_seq = 8192, .norm = SP_NORM_LAYERNORM};
    sp_model_synthetic(&spec, m);
}

/* The paper's plan, or for a hypothetical run the best plan the search finds on that cluster. */
static sp_status plan_of(const famous *f, const sp_model *m, const sp_system *s, sp_plan *p, sp_error *err)
{
    sp_plan_defaults(p);
    p->n_gpus = f->gpus;
    p->tp = f->tp;
    p->pp = f->pp;
    p->vpp = f->vpp;
    p->global_batch = f->gbatch;
    p->seq_len = f->seq;
    p->recompute = f->rc;
    p->seq_parallel = f->sp;
    p->zero = f->zero;
    p->dtype = f->dt;
    if (f->model)
        return SP_OK;
    sp_search_opts so;
    sp_search_defaults(&so);
    so.plan.n_gpus = f->gpus;
    so.plan.global_batch = f->gbatch;
    so.plan.seq_len = f->seq;
    so.top_k = 1;
    sp_search_result *sr = malloc(sizeof *sr);
    if (!sr)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    sp_search_entry best;
    sp_status st = sp_search(m, s, &so, &best, sr, err);
    if (st == SP_OK)
        *p = best.plan;
    free(sr);
    return st;
}

static sp_status run_one(const char *data_dir, const sp_law *law, const famous *f, sp_report_run *o, sp_error *err)
{
    sp_status st;
    sp_system s;
    o->label = f->label;
    o->reported = f->reported;
    o->tokens = f->tokens;
    if (f->model && (st = sp_load_model(data_dir, f->model, &o->model, err)))
        return st;
    if (!f->model) {
        double n, d, l;
        sp_law_optimal(law, f->compute, &n, &d, &l);
        synthetic(n, &o->model);
        sp_param_count pc;
        sp_model_params(&o->model, &pc);
        o->tokens = f->compute / (6 * pc.total);
    }
    if ((st = sp_load_system(data_dir, f->system, &s, err)))
        return st;
    sp_error e2 = {0};
    if (plan_of(f, &o->model, &s, &o->plan, &e2) || sp_plan_resolve(&o->plan, &o->model, &s, &e2) ||
        sp_train_eval(&o->model, &s, &o->plan, &o->res, &e2))
        return sp_fail(err, e2.status ? e2.status : SP_EINVAL, "%s: %s", f->label, e2.msg);
    o->train_s = o->tokens / o->res.tokens_per_s;
    o->gpu_hours = o->train_s * o->plan.n_gpus / 3600;
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    return sp_energy_estimate(&s, o->plan.n_gpus, o->train_s / 3600, o->res.mfu, &eo, &o->energy, err);
}

sp_status sp_report_run_all(const char *data_dir, sp_request *rq, sp_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    const char *name = NULL;
    sp_status st = sp_req_str(rq, "name", &name, err);
    if (st)
        return st;
    if (!name || strcmp(name, "famous") != 0)
        return sp_fail(err, SP_EINVAL, "expected 'famous' (the only report so far)");
    sp_law law;
    if ((st = sp_load_law(data_dir, "epoch", &law, err)))
        return st;
    for (int i = 0; i < SP_REPORT_RUNS; i++)
        if ((st = run_one(data_dir, &law, &runs[i], &r->runs[i], err)))
            return st;
    r->n = SP_REPORT_RUNS;
    return SP_OK;
}

json_t *sp_report_json(const sp_report *r)
{
    json_t *o = json_object(), *a = json_array();
    for (int i = 0; i < r->n; i++) {
        const sp_report_run *x = &r->runs[i];
        json_t *j = json_object();
        sp_json_set_str(j, "run", x->label);
        sp_json_set_str(j, "model", x->model.name);
        sp_json_set_int(j, "gpus", x->plan.n_gpus);
        sp_json_set_int(j, "tp", x->plan.tp);
        sp_json_set_int(j, "pp", x->plan.pp);
        sp_json_set_int(j, "dp", x->plan.dp);
        sp_json_set_int(j, "cp", x->plan.cp);
        sp_json_set_int(j, "vpp", x->plan.vpp);
        sp_json_set_int(j, "zero", x->plan.zero);
        sp_json_set_str(j, "recompute", sp_recompute_name(x->plan.recompute));
        sp_json_set_num(j, "tokens", x->tokens);
        sp_json_set_num(j, "train_time_s", x->train_s);
        sp_json_set_num(j, "mfu", x->res.mfu);
        sp_json_set_num(j, "gpu_hours", x->gpu_hours);
        sp_json_set_num(j, "energy_mwh", x->energy.energy_kwh / 1000);
        sp_json_set_num(j, "co2e_t", x->energy.co2e_kg / 1000);
        sp_json_set_num(j, "cloud_usd", x->energy.cloud_usd);
        sp_json_set_bool(j, "fits", x->res.fits);
        sp_json_set_str(j, "reported", x->reported);
        json_array_append_new(a, j);
    }
    json_object_set_new(o, "runs", a);
    return o;
}

SP_CALL_DEFINE(report, sp_report, sp_report_run_all, sp_report_json, sp_call_no_release)
