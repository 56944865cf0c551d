/* The `shape` command: hardware-in-the-loop model-shape search (sp_shape_search): decoder shapes near a parameter
 * budget (or the law's smallest N for a target loss) served on a system, the Pareto front by loss or size,
 * latency and throughput. Request -> sp_shape_report -> JSON. */
#include "call.h"

#include <stdlib.h>
#include <string.h>

static sp_status serving_opts(sp_request *rq, sp_shape_report *r, sp_error *err)
{
    sp_infer_opts *o = &r->opts;
    sp_shape_opts *so = &r->shape;
    double lat = 0;
    int moe = 0;
    sp_status st;
    if ((st = sp_req_double(rq, "params", SP_UNIT_NONE, 1e6, 1e14, &so->n_target, err)) ||
        (st = sp_req_double(rq, "loss", SP_UNIT_NONE, 0.01, 100, &r->loss, err)) ||
        (st = sp_req_double(rq, "latency-ms", SP_UNIT_NONE, 1e-3, 1e7, &lat, err)) ||
        (st = sp_req_double(rq, "tokens", SP_UNIT_NONE, 1e6, 1e16, &so->tokens, err)) ||
        (st = sp_req_double(rq, "tol", SP_UNIT_NONE, 0.01, 0.5, &so->tol, err)) || (st = sp_req_int(rq, "tp", 1, 64, &o->tp, err)) ||
        (st = sp_req_int(rq, "batch", 1, 1 << 20, &o->batch, err)) || (st = sp_req_int(rq, "prompt", 1, 1 << 24, &o->prompt, err)) ||
        (st = sp_req_int(rq, "output", 1, 1 << 24, &o->output, err)) || (st = sp_req_int(rq, "vocab", 1, 10000000, &so->vocab, err)) ||
        (st = sp_req_int(rq, "top", 1, 100000, &r->top, err)) || (st = sp_req_flag(rq, "moe", &moe, err)))
        return st;
    o->n_gpus = o->tp;
    so->max_tpot_s = lat * 1e-3;
    so->allow_moe = moe;
    const char *w = NULL, *kv = NULL;
    if ((st = sp_req_str(rq, "weights", &w, err)) || (st = sp_req_str(rq, "kv", &kv, err)))
        return st;
    sp_error e2 = {0};
    if (w && sp_dtype_parse(w, &o->weights, &e2))
        return sp_fail(err, SP_EINVAL, "--weights: %s", e2.msg);
    if (kv && sp_dtype_parse(kv, &o->kv, &e2))
        return sp_fail(err, SP_EINVAL, "--kv: %s", e2.msg);
    return SP_OK;
}

/* The law (or none) and, for --loss, the budget it implies. */
static sp_status law_budget(const char *data_dir, sp_request *rq, sp_shape_report *r, sp_error *err)
{
    const char *ln = "chinchilla";
    sp_status st = sp_req_str(rq, "law", &ln, err);
    if (st)
        return st;
    snprintf(r->law_name, sizeof r->law_name, "%s", ln);
    r->use_law = strcmp(ln, "none") != 0;
    if (r->use_law && (st = sp_req_named(sp_load_law(data_dir, ln, &r->law, err), "law", err)))
        return st;
    if (!r->has_loss)
        return SP_OK;
    if (!r->use_law)
        return sp_fail(err, SP_EINVAL, "--loss needs a scaling law (--law chinchilla|epoch|kaplan)");
    double d;
    if ((st = sp_law_min_n(&r->law, r->loss, r->shape.tokens, r->shape.tpp, &r->shape.n_target, &d, err)))
        return st;
    if (!(r->shape.n_target >= 1e6 && r->shape.n_target <= 1e14))
        return sp_fail(err, SP_EINVAL, "--loss %g needs %.3g parameters under law '%s'; allowed budgets 1e6..1e14", r->loss,
                       r->shape.n_target, ln);
    return SP_OK;
}

sp_status sp_shape_run(const char *data_dir, sp_request *rq, sp_shape_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    r->has_loss = sp_req_has(rq, "loss");
    if (sp_req_has(rq, "params") == r->has_loss)
        return sp_fail(err, SP_EINVAL, "give exactly one of --params (e.g. 7e9) or --loss (e.g. 2.1)");
    sp_status st;
    if ((st = sp_req_system(rq, data_dir, "dgx-h100", &r->system, err)))
        return st;
    sp_infer_defaults(&r->opts);
    if ((st = sp_serving_eff_load(data_dir, r->system.acc.name, &r->opts.eff, err)))
        return st;
    r->shape.tpp = 20;
    r->shape.tol = 0.1;
    r->top = 20;
    if ((st = serving_opts(rq, r, err)) || (st = law_budget(data_dir, rq, r, err)))
        return st;
    r->front = malloc((size_t)r->top * sizeof *r->front);
    if (!r->front)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    if ((st = sp_shape_search(&r->system, &r->opts, r->use_law ? &r->law : NULL, &r->shape, r->front, r->top, &r->n_front,
                              &r->n_evaluated, err)))
        return st;
    r->shown = r->n_front < r->top ? r->n_front : r->top;
    return SP_OK;
}

void sp_shape_report_free(sp_shape_report *r)
{
    free(r->front);
    r->front = NULL;
}

json_t *sp_shape_json(const sp_shape_report *r)
{
    json_t *o = json_object(), *a = json_array();
    sp_json_set_str(o, "system", r->system.name);
    sp_json_set_num(o, "params_target", r->shape.n_target);
    sp_json_set_int(o, "evaluated", r->n_evaluated);
    sp_json_set_int(o, "front_size", r->n_front);
    json_t *ar = json_array();
    json_array_append_new(ar, json_integer(SP_SHAPE_ASPECT_MIN));
    json_array_append_new(ar, json_integer(SP_SHAPE_ASPECT_MAX));
    json_object_set_new(o, "aspect_ratio_range", ar);
    for (int i = 0; i < r->shown; i++) {
        const sp_shape_point *p = &r->front[i];
        json_t *j = json_object();
        sp_json_set_str(j, "name", p->m.name);
        sp_json_set_int(j, "n_layers", p->m.n_layers);
        sp_json_set_int(j, "d_model", p->m.d_model);
        sp_json_set_int(j, "n_heads", p->m.n_heads);
        sp_json_set_int(j, "n_kv_heads", p->m.n_kv_heads);
        sp_json_set_int(j, "d_head", p->m.d_head);
        sp_json_set_int(j, "ffn_dim", p->m.ffn_dim);
        sp_json_set_int(j, "experts", p->m.n_experts);
        sp_json_set_num(j, "params", p->params);
        sp_json_set_num(j, "active_params", p->active);
        sp_json_set_num(j, "loss", p->loss);
        sp_json_set_num(j, "loss_law", p->loss_law);
        sp_json_set_num(j, "kv_penalty", p->kv_penalty);
        sp_json_set_num(j, "tpot_s", p->tpot_s);
        sp_json_set_num(j, "ttft_s", p->ttft_s);
        sp_json_set_num(j, "tokens_per_s_per_gpu", p->tokens_per_s_per_gpu);
        sp_json_set_num(j, "kv_bytes_per_token", p->kv_bytes_per_token);
        json_array_append_new(a, j);
    }
    json_object_set_new(o, "front", a);
    return o;
}

SP_CALL_DEFINE(shape, sp_shape_report, sp_shape_run, sp_shape_json, sp_shape_report_free)
