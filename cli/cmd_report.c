/* scaleplan report famous: famous training runs side by side — predicted time, GPUs, energy, cost, CO2e. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"json", 0, "machine-readable output"},
};

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
static const famous runs[] = {
    {"GPT-3 175B (Megatron plan, 1024 A100)", "gpt3-175b-megatron", "dgx-a100-80g", 1024, 8, 8, 2, 1536, 2048,
     SP_RECOMPUTE_FULL, 0, 0, SP_FP16, 300e9, 0, "Narayanan et al. 2021: 34 days estimated on 1024 A100"},
    {"GPT-3 175B (as trained: ~10,000 V100; 9216 here)", "gpt3-175b", "dgx2-v100", 9216, 8, 24, 1, 1536, 2048, SP_RECOMPUTE_FULL,
     0, 0, SP_FP16, 300e9, 0, "Patterson et al. 2021: 14.8 days, 1287 MWh, 552 t"},
    {"MT-NLG 530B (2240 A100)", "turing-nlg-530b", "dgx-a100-80g", 2240, 8, 35, 1, 1920, 2048, SP_RECOMPUTE_FULL, 0, 0,
     SP_BF16, 270e9, 0, "Smith et al. 2022: 270B tokens on 2240-4480 A100"},
    {"BLOOM 176B (384 A100-80GB)", "gpt3-175b", "dgx-a100-80g", 384, 4, 12, 1, 2048, 2048, SP_RECOMPUTE_FULL, 0, 1,
     SP_BF16, 366e9, 0, "BLOOM report: ~3.5 months, 1.08M GPU-hours, 433 MWh"},
    {"Llama 2 70B (2048 A100-80GB)", "llama2-70b", "dgx-a100-80g", 2048, 8, 4, 5, 1024, 4096, SP_RECOMPUTE_SELECTIVE,
     1, 1, SP_BF16, 2e12, 0, "Touvron et al. 2023: 1.72M GPU-hours, 291 t CO2e"},
    {"Llama 3.1 405B (16384 H100)", "llama3.1-405b", "dgx-h100", 16384, 8, 16, 1, 2048, 8192, SP_RECOMPUTE_NONE, 1, 1,
     SP_BF16, 15.6e12, 0, "Llama 3 report: 30.84M GPU-hours, 38-43 % MFU"},
    {"1e26 FLOP run (compute-optimal, 32768 H100)", NULL, "dgx-h100", 32768, 8, 16, 1, 4096, 8192,
     SP_RECOMPUTE_SELECTIVE, 1, 1, SP_BF16, 0, 1e26, "hypothetical"},
    {"1e27 FLOP run (compute-optimal, 131072 H100)", NULL, "dgx-h100", 131072, 8, 32, 1, 8192, 8192,
     SP_RECOMPUTE_SELECTIVE, 1, 1, SP_BF16, 0, 1e27, "hypothetical"},
};

/* A dense GPT-style shape for N parameters: d_model a multiple of 1024, aspect ratio d_model / layers ~ 128
 * (GPT-3 175B: 12288 / 96), heads of 128, FFN 4 d_model, gated. */
static void synthetic(double n, sp_model *m)
{
    memset(m, 0, sizeof *m);
    double L = cbrt(n / (12.0 * 128 * 128));
    int layers = (int)(L / 8 + 0.5) * 8;
    if (layers < 8)
        layers = 8;
    int h = (int)(sqrt(n / (12.0 * layers)) / 1024 + 0.5) * 1024;
    snprintf(m->name, sizeof m->name, "dense %.0fB", n / 1e9);
    m->n_layers = layers;
    m->d_model = h;
    m->n_heads = h / 128;
    m->n_kv_heads = 8;
    m->ffn_dim = (int)(8.0 / 3 * h / 256 + 0.5) * 256;
    m->gated = 1;
    m->vocab = 128256;
    m->max_seq = 8192;
    sp_model_defaults(m);
}

int cmd_report(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "report", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan report famous [--json]\n"
                       "Famous training runs predicted side by side: time, GPUs, MFU, energy, cost, CO2e (docs/famous.md).");
    if (rc)
        return rc;
    if (a.npos != 1 || strcmp(a.pos[0], "famous") != 0)
        return cli_error("report", "expected 'famous' (the only report so far)");
    sp_law law;
    sp_error err = {0};
    if (sp_load_law(a.data_dir, "epoch", &law, &err))
        return cli_fail("report", &err);
    int json = cli_flag(&a, "json");
    if (json)
        printf("{\"runs\":[");
    else
        printf("| run | model | GPUs | plan | tokens | predicted days | MFU | GPU-hours | energy MWh | CO2e t | cloud $ | reported |\n"
               "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    int nr = (int)(sizeof runs / sizeof runs[0]);
    for (int i = 0; i < nr; i++) {
        const famous *f = &runs[i];
        sp_model m;
        sp_system s;
        double tokens = f->tokens;
        if (f->model) {
            if (sp_load_model(a.data_dir, f->model, &m, &err))
                return cli_fail("report", &err);
        } else {
            double n, d, l;
            sp_law_optimal(&law, f->compute, &n, &d, &l);
            synthetic(n, &m);
            sp_param_count pc;
            sp_model_params(&m, &pc);
            tokens = f->compute / (6 * pc.total);
        }
        if (sp_load_system(a.data_dir, f->system, &s, &err))
            return cli_fail("report", &err);
        sp_plan p;
        sp_plan_defaults(&p);
        p.n_gpus = f->gpus;
        p.tp = f->tp;
        p.pp = f->pp;
        p.vpp = f->vpp;
        p.global_batch = f->gbatch;
        p.seq_len = f->seq;
        p.recompute = f->rc;
        p.seq_parallel = f->sp;
        p.zero = f->zero;
        p.dtype = f->dt;
        sp_train_result r;
        if (!f->model) {
            /* hypothetical runs: the best plan the search finds on that cluster */
            sp_search_opts so;
            sp_search_defaults(&so);
            so.plan.n_gpus = f->gpus;
            so.plan.global_batch = f->gbatch;
            so.plan.seq_len = f->seq;
            so.top_k = 1;
            sp_search_result *sr = malloc(sizeof *sr);
            if (!sr)
                return cli_error("report", "out of memory");
            sp_search_entry best;
            sp_status st = sp_search(&m, &s, &so, &best, sr, &err);
            if (st == SP_OK)
                p = sr->top[0].plan;
            free(sr);
            if (st)
                return cli_error("report", "%s: %s", f->label, err.msg);
        }
        if (sp_plan_resolve(&p, &m, &s, &err) || sp_train_eval(&m, &s, &p, &r, &err))
            return cli_error("report", "%s: %s", f->label, err.msg);
        double secs = tokens / r.tokens_per_s, gh = secs * p.n_gpus / 3600;
        sp_energy_opts eo;
        sp_energy_defaults(&eo);
        sp_energy_result en;
        if (sp_energy_estimate(&s, p.n_gpus, secs / 3600, r.mfu, &eo, &en, &err))
            return cli_fail("report", &err);
        if (json) {
            printf("%s{\"run\":\"%s\",\"model\":\"%s\",\"gpus\":%d,\"tp\":%d,\"pp\":%d,\"dp\":%d,\"tokens\":", i ? "," : "", f->label,
                   m.name, p.n_gpus, p.tp, p.pp, p.dp);
            cli_json_num(stdout, tokens);
            printf(",\"train_time_s\":");
            cli_json_num(stdout, secs);
            printf(",\"mfu\":");
            cli_json_num(stdout, r.mfu);
            printf(",\"gpu_hours\":");
            cli_json_num(stdout, gh);
            printf(",\"energy_mwh\":");
            cli_json_num(stdout, en.energy_kwh / 1000);
            printf(",\"co2e_t\":");
            cli_json_num(stdout, en.co2e_kg / 1000);
            printf(",\"cloud_usd\":");
            cli_json_num(stdout, en.cloud_usd);
            printf(",\"fits\":%s,\"reported\":\"%s\"}", r.fits ? "true" : "false", f->reported);
        } else
            printf("| %s | %s | %d | TP%d PP%d DP%d%s%s | %.3g | %.1f | %.1f %% | %.3g | %.4g | %.4g | %.3g | %s |\n", f->label,
                   m.name, p.n_gpus, p.tp, p.pp, p.dp, p.cp > 1 ? (p.cp == 2 ? " CP2" : p.cp == 4 ? " CP4" : " CP8+") : "",
                   r.fits ? "" : " (does not fit)", tokens, secs / 86400, 100 * r.mfu, gh,
                   en.energy_kwh / 1000, en.co2e_kg / 1000, en.cloud_usd, f->reported);
    }
    if (json)
        printf("]}\n");
    return 0;
}
