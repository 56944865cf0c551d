/* The `train` command: one model + system + parallel plan -> step time, MFU/HFU, memory, time breakdown, and the
 * run's time, energy, carbon and cost when a token count is given. Request -> sp_train_report -> JSON. */
#include "call.h"

#include <string.h>

/* Narayanan et al. 2021 Table 2 / §5.1: GPT-3 175B on 1024 A100s, TP 8, PP 8 (interleaved, 2 virtual stages),
 * batch 1536, micro-batch 1, full recompute, fp16: the job `scaleplan train` runs with no model, system or GPUs. */
static void megatron_gpt3_plan(sp_plan *p)
{
    p->n_gpus = 1024;
    p->tp = 8;
    p->pp = 8;
    p->vpp = 2;
    p->global_batch = 1536;
    p->micro_batch = 1;
    p->recompute = SP_RECOMPUTE_FULL;
    p->dtype = SP_FP16;
}

static sp_status energy_request(const char *data_dir, sp_request *rq, sp_train_report *r, sp_error *err)
{
    static const char *const models[] = {"activity", "tdp"};
    sp_energy_opts *eo = &r->energy_opts;
    sp_energy_defaults(eo);
    const char *region = NULL, *pmod = NULL;
    sp_status st;
    if ((st = sp_req_str(rq, "region", &region, err)) ||
        (st = sp_req_double(rq, "pue", SP_UNIT_NONE, 1, 10, &eo->pue, err)) ||
        (st = sp_req_double(rq, "grid", SP_UNIT_NONE, 0, 5, &eo->grid_kg_per_kwh, err)) ||
        (st = sp_req_double(rq, "price-per-gpu-hour", SP_UNIT_NONE, 0, 1e4, &eo->usd_per_accel_hour, err)) ||
        (st = sp_req_double(rq, "energy-price", SP_UNIT_NONE, 0, 100, &eo->energy_usd_per_kwh, err)) ||
        (st = sp_req_str(rq, "power-model", &pmod, err)))
        return st;
    if (region) {
        if (sp_req_has(rq, "grid"))
            return sp_fail(err, SP_EINVAL, "give either --region or --grid, not both");
        if ((st = sp_region_intensity(data_dir, region, &eo->grid_kg_per_kwh, r->region_source,
                                      sizeof r->region_source, err)))
            return st;
        snprintf(r->region, sizeof r->region, "%s", region);
    }
    if (pmod) {
        if (strcmp(pmod, models[1]) == 0)
            eo->model = SP_POWER_TDP;
        else if (strcmp(pmod, models[0]) != 0)
            return sp_fail(err, SP_EINVAL, "--power-model '%s'; allowed activity, tdp", pmod);
    }
    return SP_OK;
}

sp_status sp_train_run(const char *data_dir, sp_request *rq, sp_train_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    int default_job = !sp_req_has(rq, "model") && !sp_req_has(rq, "system") && !sp_req_has(rq, "gpus");
    sp_status st;
    if ((st = sp_req_model(rq, data_dir, "gpt3-175b-megatron", &r->model, err)) ||
        (st = sp_req_system(rq, data_dir, "dgx-a100-80g", &r->system, err)) || (st = sp_req_prune(rq, &r->model, err)))
        return st;
    sp_plan *p = &r->plan;
    sp_plan_defaults(p);
    if (default_job)
        megatron_gpt3_plan(p);
    if ((st = sp_req_plan(rq, p, err)) || (st = sp_req_software(rq, data_dir, &r->system, p, err)) ||
        (st = sp_req_double(rq, "tokens", SP_UNIT_NONE, 1, 1e18, &r->tokens, err)) ||
        (st = energy_request(data_dir, rq, r, err)))
        return st;
    if ((st = sp_plan_resolve(p, &r->model, &r->system, err)) || (st = sp_train_eval(&r->model, &r->system, p, &r->res, err)))
        return st;
    sp_model_params(&r->model, &r->params);
    r->train_s = r->tokens > 0 ? r->tokens / r->res.tokens_per_s : 0;
    r->gpu_hours = r->train_s * p->n_gpus / 3600.0;
    double run_hours = (r->tokens > 0 ? r->train_s : r->res.step_time_s) / 3600.0;
    return sp_energy_estimate(&r->system, p->n_gpus, run_hours, r->res.mfu, &r->energy_opts, &r->energy, err);
}

static json_t *plan_json(const sp_train_report *r)
{
    const sp_plan *p = &r->plan;
    json_t *o = json_object();
    sp_json_set_int(o, "gpus", p->n_gpus);
    sp_json_set_degrees(o, p);
    sp_json_set_int(o, "global_batch", p->global_batch);
    sp_json_set_int(o, "seq_len", p->seq_len);
    sp_json_set_memory_knobs(o, p);
    sp_json_set_str(o, "dtype", sp_dtype_name(p->dtype));
    sp_json_set_bf16_layers(o, p);
    sp_json_set_int(o, "micro_batches", r->res.n_micro);
    sp_json_set_str(o, "schedule", sp_schedule_name(p->schedule, p->vpp));
    sp_json_set_int(o, "etp", p->etp > 0 ? p->etp : p->tp);
    sp_json_set_num(o, "capacity_factor", p->capacity_factor);
    sp_json_set_bool(o, "moe_pad", p->moe_pad);
    sp_json_set_num(o, "moe_imbalance", p->moe_imbalance > 1 ? p->moe_imbalance : 1.0);
    sp_json_set_packing(o, p);
    char g[96];
    sp_json_set_str(o, "cuda_graphs", sp_cuda_graphs_name(p->cuda_graphs, g, sizeof g));
    sp_json_set_str(o, "moe_dispatcher", sp_moe_dispatcher_name(p->moe_dispatcher));
    sp_json_set_bool(o, "moe_router_fusion", p->moe_router_fusion);
    sp_json_set_bool(o, "moe_fused_mlp", p->moe_fused_mlp);
    sp_json_set_bool(o, "fp8_attention", p->fp8_attention);
    sp_json_set_bool(o, "fp8_output_proj", p->fp8_output_proj);
    sp_json_set_int(o, "mtp_depths", sp_plan_mtp_depths(&r->model, p));
    return o;
}

json_t *sp_memory_json(const sp_memory *mm)
{
    json_t *o = json_object();
    sp_json_set_num(o, "total", mm->total);
    sp_json_set_num(o, "weights", mm->weights);
    sp_json_set_num(o, "grads", mm->grads);
    sp_json_set_num(o, "optimizer", mm->optimizer);
    sp_json_set_num(o, "activations", mm->activations);
    sp_json_set_num(o, "embedding_logits", mm->embedding_logits);
    sp_json_set_num(o, "comm_buffers", mm->comm_buffers);
    sp_json_set_num(o, "overhead", mm->overhead);
    sp_json_set_num(o, "capacity", mm->capacity);
    return o;
}

json_t *sp_time_breakdown_json(const sp_time_breakdown *t)
{
    json_t *o = json_object();
    sp_json_set_num(o, "compute", t->compute);
    sp_json_set_num(o, "memory_bound", t->memory_bound);
    sp_json_set_num(o, "recompute", t->recompute);
    sp_json_set_num(o, "tp_comm", t->tp_comm);
    sp_json_set_num(o, "cp_comm", t->cp_comm);
    sp_json_set_num(o, "ep_comm", t->ep_comm);
    sp_json_set_num(o, "pp_comm", t->pp_comm);
    sp_json_set_num(o, "dp_comm", t->dp_comm);
    sp_json_set_num(o, "bubble", t->bubble);
    sp_json_set_num(o, "optimizer", t->optimizer);
    sp_json_set_num(o, "stage_imbalance", t->imbalance);
    sp_json_set_num(o, "host_dispatch", t->host);
    sp_json_set_num(o, "offload_copies", t->offload);
    return o;
}

static void energy_json(json_t *o, const sp_train_report *r)
{
    const sp_energy_result *en = &r->energy;
    const sp_energy_opts *eo = &r->energy_opts;
    json_t *e = json_object(), *c = json_object(), *u = json_object();
    sp_json_set_num(e, "total", en->energy_kwh);
    sp_json_set_str(e, "scope", r->tokens > 0 ? "run" : "step");
    sp_json_set_num(e, "accelerator_w", en->accel_w);
    sp_json_set_num(e, "host_w_per_accelerator", en->host_w);
    sp_json_set_num(e, "pue", en->pue);
    sp_json_set_num(e, "activity", en->activity);
    sp_json_set_str(e, "power_model", eo->model == SP_POWER_TDP ? "tdp" : "activity");
    json_object_set_new(o, "energy_kwh", e);
    sp_json_set_num(c, "total", en->co2e_kg);
    sp_json_set_num(c, "grid_kg_per_kwh", en->grid_kg_per_kwh);
    sp_json_set_str(c, "region", r->region[0] ? r->region : "system default");
    json_object_set_new(o, "co2e_kg", c);
    sp_json_set_num(u, "total", en->cloud_usd);
    sp_json_set_num(u, "cloud", en->cloud_usd);
    sp_json_set_num(u, "usd_per_accel_hour", en->usd_per_accel_hour);
    sp_json_set_num(u, "ownership", en->own_usd);
    sp_json_set_num(u, "ownership_capex", en->own_capex_usd);
    sp_json_set_num(u, "ownership_energy", en->own_energy_usd);
    sp_json_set_num(u, "energy_usd_per_kwh", eo->energy_usd_per_kwh);
    sp_json_set_num(u, "amortisation_years", eo->amortisation_years);
    json_object_set_new(o, "cost_usd", u);
}

json_t *sp_train_json(const sp_train_report *r)
{
    const sp_train_result *x = &r->res;
    json_t *o = json_object();
    sp_json_set_str(o, "model", r->model.name);
    sp_json_set_str(o, "system", r->system.name);
    json_object_set_new(o, "plan", plan_json(r));
    sp_json_set_num(o, "params_total", r->params.total);
    sp_json_set_num(o, "params_active", r->params.active);
    sp_json_set_num(o, "step_time_s", x->step_time_s);
    sp_json_set_num(o, "tokens_per_s", x->tokens_per_s);
    sp_json_set_num(o, "mfu", x->mfu);
    sp_json_set_num(o, "hfu", x->hfu);
    sp_json_set_num(o, "tflops_per_gpu", x->tflops_per_gpu);
    sp_json_set_num(o, "model_flops_per_step", x->model_flops);
    json_object_set_new(o, "memory_per_gpu_bytes", sp_memory_json(&x->mem));
    sp_json_set_bool(o, "fits", x->fits);
    sp_json_set_num(o, "overflow_bytes", x->overflow_bytes);
    json_object_set_new(o, "time_breakdown_s", sp_time_breakdown_json(&x->t));
    if (r->plan.offload_layers > 0) /* false: the system states no host link, the copies are not in the step time */
        sp_json_set_bool(o, "offload_copies_priced", !x->offload_unpriced);
    sp_json_set_str(o, "bottleneck", x->bottleneck);
    if (r->tokens > 0) {
        sp_json_set_num(o, "tokens", r->tokens);
        sp_json_set_num(o, "train_time_s", r->train_s);
        sp_json_set_num(o, "gpu_hours", r->gpu_hours);
    }
    energy_json(o, r);
    if (r->tokens > 0) {
        sp_json_set_num(o, "pf_days", x->model_flops / x->tokens_per_step * r->tokens / 8.64e19);
        sp_json_set_num(o, "gpu_years", r->gpu_hours / 8766);
    }
    return o;
}

sp_status sp_call_train(const char *data_dir, sp_request *rq, json_t **out, sp_error *err)
{
    sp_train_report r;
    sp_status st = sp_train_run(data_dir, rq, &r, err);
    if (st == SP_OK)
        *out = sp_train_json(&r);
    return st;
}
