/* infer's two other modes, served by sp_call("infer") like its serving point (docs/inference.md):
 *   --fit-hardware  the cheapest candidate system, TP degree and weight precision whose time per output token meets
 *                   --latency-ms (issue 19): every candidate served at --batch (or, with --max-batch, its largest
 *                   batch that fits) at TP 1..8 and bf16/fp8/int8/int4 weights;
 *   --coe           a composition of experts (experts.json) served on --system's memory tiers, against --compare's
 *                   GPUs, and the HBM-only fleet of --compare that keeps every expert resident (infer_coe.c).
 * Each fills a typed report that sp_infer_fit_json / sp_infer_coe_json turn into the one result object. */
#include "call.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --candidates short names: the 8-GPU server of each accelerator in data/systems */
static const char *candidate_system(const char *c)
{
    static const struct {
        const char *k, *v;
    } al[] = {{"a100", "dgx-a100-80g"}, {"h100", "dgx-h100"}, {"h200", "hgx-h200"}, {"b200", "dgx-b200"},
              {"mi300x", "mi300x-8"},   {"a10", "a10-node"},  {"l40s", "l40s-node"}};
    for (size_t i = 0; i < sizeof al / sizeof al[0]; i++)
        if (strcmp(c, al[i].k) == 0)
            return al[i].v;
    return c;
}

/* one candidate system: every TP degree and weight precision that fits and serves tokens */
static sp_status fit_candidate(const char *data_dir, const sp_system *c, const sp_infer_report *base, sp_fit_hw_report *r,
                               sp_error *err)
{
    const sp_infer_opts *op = &base->opts;
    static const sp_dtype qs[] = {SP_BF16, SP_FP8, SP_INT8, SP_INT4};
    for (int tp = 1; tp <= 8; tp *= 2)
        for (int q = 0; q < 4 && r->n < SP_FIT_HW_MAX_ROWS; q++) {
            sp_infer_opts x = *op;
            x.tp = x.n_gpus = tp;
            sp_status st = sp_serving_eff_load(data_dir, c->acc.name, &x.eff, err);
            if (!st) /* --software: the stack calibrated for this candidate's family, as serve --search does */
                st = sp_infer_stack_apply(data_dir, base, c->acc.name, &x, NULL, 0, err);
            if (st)
                return st;
            x.weights = qs[q];
            sp_infer_result res;
            sp_error e2;
            if (sp_infer_eval(&r->model, c, &x, &res, &e2) || !res.fits || !(res.tokens_per_s > 0))
                continue;
            sp_fit_hw_row *f = &r->rows[r->n];
            snprintf(f->system, sizeof f->system, "%s", c->name);
            f->tp = tp;
            f->weights = qs[q];
            f->batch = res.batch;
            f->tpot_s = res.tpot_s;
            f->usd_per_hour = c->usd_per_accel_hour * tp;
            f->usd_per_million_tokens = f->usd_per_hour / 3600 / res.tokens_per_s * 1e6;
            f->meets = res.tpot_s * 1e3 <= r->target_ms;
            if (f->meets && (r->best < 0 || f->usd_per_hour < r->rows[r->best].usd_per_hour))
                r->best = r->n;
            if (r->fastest < 0 || f->tpot_s < r->rows[r->fastest].tpot_s)
                r->fastest = r->n;
            r->n++;
        }
    return SP_OK;
}

sp_status sp_infer_fit_run(const char *data_dir, sp_request *rq, sp_fit_hw_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    r->best = r->fastest = -1;
    int fit;
    sp_status st = sp_req_flag(rq, "fit-hardware", &fit, err);
    if (st)
        return st;
    /* zeroed: without --model sp_infer_parse never runs, and base is freed (its probs) on every path (valgrind) */
    sp_infer_report *base = calloc(1, sizeof *base);
    if (!base)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    const char *list = "a100,h100,h200,b200,mi300x";
    st = sp_req_has(rq, "model") ? sp_infer_parse(data_dir, rq, base, err)
                                           : sp_fail(err, SP_EINVAL, "--model is required (or --coe experts.json)");
    if (st == SP_OK && (st = sp_req_double(rq, "latency-ms", SP_UNIT_NONE, 1e-3, 1e6, &r->target_ms, err)) == SP_OK &&
        r->target_ms <= 0)
        st = sp_fail(err, SP_EINVAL, "--fit-hardware needs --latency-ms (per output token)");
    if (st == SP_OK)
        st = sp_req_str(rq, "candidates", &list, err);
    if (st == SP_OK) {
        r->model = base->model;
        char buf[256];
        snprintf(buf, sizeof buf, "%s", list);
        int any = 0;
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && st == SP_OK; tok = strtok_r(NULL, ",", &save)) {
            sp_system c;
            any = 1;
            st = sp_req_named(sp_load_system(data_dir, candidate_system(tok), &c, err), "candidates", err);
            if (st == SP_OK)
                st = fit_candidate(data_dir, &c, base, r, err);
        }
        if (st == SP_OK && !any)
            st = sp_fail(err, SP_EINVAL, "--candidates: empty list; expected systems such as h100,h200,b200");
    }
    sp_infer_report_free(base);
    free(base);
    if (st || r->best >= 0)
        return st;
    if (r->fastest >= 0) {
        const sp_fit_hw_row *f = &r->rows[r->fastest];
        return sp_fail(err, SP_EINFEASIBLE, "no candidate meets %.3g ms per token; the fastest is %s, TP %d, %s weights: "
                       "%.2f ms/token", r->target_ms, f->system, f->tp, sp_dtype_name(f->weights), f->tpot_s * 1e3);
    }
    return sp_fail(err, SP_EINFEASIBLE, "%s fits on none of the candidates (up to TP 8, int4 weights)", r->model.name);
}

static json_t *fit_row_json(const sp_fit_hw_row *f)
{
    json_t *j = json_object();
    sp_json_set_str(j, "system", f->system);
    sp_json_set_int(j, "tp", f->tp);
    sp_json_set_str(j, "weights", sp_dtype_name(f->weights));
    sp_json_set_int(j, "batch", f->batch);
    sp_json_set_num(j, "tpot_s", f->tpot_s);
    sp_json_set_num(j, "usd_per_hour", f->usd_per_hour);
    sp_json_set_num(j, "usd_per_million_tokens", f->usd_per_million_tokens);
    sp_json_set_bool(j, "meets_latency", f->meets);
    return j;
}

json_t *sp_infer_fit_json(const sp_fit_hw_report *r)
{
    json_t *j = json_object(), *arr = json_array();
    sp_json_set_str(j, "model", r->model.name);
    sp_json_set_num(j, "latency_target_s", r->target_ms / 1e3);
    json_object_set_new(j, "best", fit_row_json(&r->rows[r->best]));
    for (int i = 0; i < r->n; i++)
        json_array_append_new(arr, fit_row_json(&r->rows[i]));
    json_object_set_new(j, "candidates", arr);
    return j;
}

/* Default capacity tier of a GPU server without "memory_tiers": host DDR over PCIe. 256 GB per GPU = DGX H100's
 * 2 TB of system memory / 8 GPUs (DGX H100 datasheet); bandwidth PCIe Gen5 x16, 64 GB/s per direction (H100
 * datasheet: 128 GB/s bidirectional), overridable with --host-bw. */
#define HOST_TIER_BYTES 256e9
#define HOST_TIER_BW 64e9

/* the composition on system k (0: --system, 1: --compare): its tiers (or the host tier), its serving factors, the
 * experts' result; the tiers stay in the report (the result names its store tier) */
static sp_status coe_system(const char *data_dir, sp_request *rq, int k, const sp_coe_expert *ex, int n, double host_bw,
                            const sp_infer_report *base, sp_infer_opts *o, sp_coe_report *r, sp_error *err)
{
    static const char *const opt[2] = {"system", "compare"}, *const dflt[2] = {"sambanova-sn40l", "dgx-h100"};
    const char *name = dflt[k];
    sp_mem_tier *tiers = r->tiers[k];
    int *nt = &r->ntiers[k];
    sp_status st;
    if ((st = sp_req_str(rq, opt[k], &name, err)) ||
        (st = sp_req_named(sp_load_system(data_dir, name, &r->sys[k], err), opt[k], err)) ||
        (st = sp_req_named(sp_load_memory_tiers(data_dir, name, tiers, nt, err), opt[k], err)) ||
        (st = sp_serving_eff_load(data_dir, r->sys[k].acc.name, &o->eff, err)) ||
        (st = sp_infer_stack_apply(data_dir, base, r->sys[k].acc.name, o, NULL, 0, err)))
        return st;
    if (*nt == 0) {
        sp_mem_tier *t = &tiers[(*nt)++];
        snprintf(t->name, sizeof t->name, "host-ddr (PCIe)");
        t->capacity = HOST_TIER_BYTES;
        t->bw = host_bw;
    }
    return sp_coe_eval(ex, n, &r->sys[k], tiers, *nt, o, &r->res[k], err);
}

sp_status sp_infer_coe_run(const char *data_dir, sp_request *rq, sp_coe_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    sp_infer_report *base = malloc(sizeof *base);
    if (!base)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    const char *path = NULL;
    sp_coe_expert *ex = NULL;
    double host_bw = HOST_TIER_BW;
    sp_status st = sp_infer_parse(data_dir, rq, base, err);
    if (st == SP_OK && (st = sp_req_str(rq, "coe", &path, err)) == SP_OK)
        st = sp_req_named(sp_load_coe(data_dir, path, &ex, &r->n_experts, err), "coe", err);
    if (st == SP_OK)
        st = sp_req_double(rq, "host-bw", SP_UNIT_BW, 1e6, 1e15, &host_bw, err);
    r->opts = base->opts;
    r->opts.n_gpus = base->opts.n_gpus > 1 ? base->opts.n_gpus : 8;
    for (int k = 0; k < 2 && st == SP_OK; k++)
        st = coe_system(data_dir, rq, k, ex, r->n_experts, host_bw, base, &r->opts, r, err);
    if (st == SP_OK) { /* HBM-only: nodes of the comparison system needed to keep every expert resident */
        double per_node = r->res[1].hbm_budget, B = r->opts.batch > 0 ? r->opts.batch : 1;
        r->hbm_only_nodes = per_node > 0 ? (int)ceil(r->res[1].total_bytes / per_node) : 0;
        r->hbm_only_latency_s = r->res[1].mean_e2e_s;
        r->hbm_only_tokens_per_s =
            r->hbm_only_latency_s > 0 ? r->hbm_only_nodes * B * r->opts.output / r->hbm_only_latency_s : 0;
        r->hbm_only_usd_per_hour = r->sys[1].usd_per_accel_hour * r->hbm_only_nodes * r->opts.n_gpus;
    }
    free(ex);
    sp_infer_report_free(base);
    free(base);
    return st;
}

json_t *sp_infer_coe_json(const sp_coe_report *r)
{
    json_t *j = json_object(), *arr = json_array(), *h = json_object();
    sp_json_set_int(j, "experts", r->n_experts);
    sp_json_set_num(j, "total_weight_bytes", r->res[0].total_bytes);
    for (int k = 0; k < 2; k++) {
        const sp_coe_result *x = &r->res[k];
        json_t *s = json_object();
        sp_json_set_str(s, "system", r->sys[k].name);
        sp_json_set_int(s, "sockets", r->opts.n_gpus);
        sp_json_set_int(s, "resident", x->n_resident);
        sp_json_set_str(s, "store_tier", x->store_tier);
        sp_json_set_num(s, "hit_rate", x->hit_rate);
        sp_json_set_num(s, "hbm_budget_bytes", x->hbm_budget);
        sp_json_set_num(s, "mean_switch_s", x->mean_switch_s);
        sp_json_set_num(s, "worst_switch_s", x->switch_worst_s);
        sp_json_set_num(s, "mean_latency_s", x->mean_latency_s);
        sp_json_set_num(s, "tokens_per_s", x->tokens_per_s);
        json_array_append_new(arr, s);
    }
    json_object_set_new(j, "systems", arr);
    sp_json_set_str(h, "system", r->sys[1].name);
    sp_json_set_int(h, "gpus", (long long)r->hbm_only_nodes * r->opts.n_gpus);
    sp_json_set_num(h, "mean_latency_s", r->hbm_only_latency_s);
    sp_json_set_num(h, "tokens_per_s", r->hbm_only_tokens_per_s);
    sp_json_set_num(h, "usd_per_hour", r->hbm_only_usd_per_hour);
    json_object_set_new(j, "hbm_only", h);
    return j;
}

sp_status sp_infer_modes_call(const char *data_dir, sp_request *rq, json_t **out, int *served, sp_error *err)
{
    int fit = 0;
    sp_status st = sp_req_flag(rq, "fit-hardware", &fit, err);
    *served = st == SP_OK && (fit || sp_req_has(rq, "coe"));
    if (st || !*served)
        return st;
    if (sp_req_has(rq, "coe")) {
        sp_coe_report *r = malloc(sizeof *r);
        if (!r)
            return sp_fail(err, SP_ENOMEM, "out of memory");
        if ((st = sp_infer_coe_run(data_dir, rq, r, err)) == SP_OK)
            *out = sp_infer_coe_json(r);
        free(r);
        return st;
    }
    sp_fit_hw_report *r = malloc(sizeof *r);
    if (!r)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    if ((st = sp_infer_fit_run(data_dir, rq, r, err)) == SP_OK)
        *out = sp_infer_fit_json(r);
    free(r);
    return st;
}
