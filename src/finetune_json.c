/* The `finetune` command: full fine-tuning, LoRA or QLoRA of a pretrained model: trainable parameters, memory per
 * GPU, step time, total time and GPU-hours, whether it fits, the smallest GPU count of the system that fits, and
 * which shipped systems fit it on one GPU. Request -> sp_finetune_report -> JSON. */
#include "call.h"

#include <math.h>
#include <string.h>

const char *const sp_finetune_candidates[SP_FINETUNE_CANDIDATES] = {"a10-node",     "l40s-node", "dgx-a100-40g", "dgx-a100-80g",
                                                                    "dgx-h100",     "hgx-h200",  "dgx-b200",     "mi300x-8"};

/* Evaluates ft on `gpus` GPUs of s with a simple plan (TP inside a node, then PP; full: FSDP over DP).
 * Returns 1 if it fits. */
static int try_fit(const sp_model *m, const sp_system *s, const sp_finetune *ft, const sp_plan *base, int gpus,
                   sp_train_result *r)
{
    int node = s->tier[0].size;
    for (int variant = 0; variant < 2; variant++) {
        sp_plan p = *base;
        p.n_gpus = gpus;
        p.dp = 0;
        p.pp = 1;
        p.vpp = 1;
        if (variant == 0 && ft->method == SP_FT_FULL) {
            p.tp = 1;
            p.zero = 3;
        } else {
            p.tp = gpus < node ? gpus : node;
            while (p.tp > 1 && (m->n_heads % p.tp || (m->n_kv_heads % p.tp && p.tp % m->n_kv_heads)))
                p.tp /= 2;
            p.pp = gpus / p.tp;
            if (p.pp > m->n_layers)
                continue;
            p.zero = ft->method == SP_FT_FULL ? 1 : 0;
        }
        p.global_batch = 0;
        p.micro_batch = 1;
        sp_error e = {0};
        if (sp_finetune_apply(m, ft, &p, &e) || sp_plan_resolve(&p, m, s, &e) || sp_train_eval(m, s, &p, r, &e))
            continue;
        if (r->fits)
            return 1;
    }
    return 0;
}

static sp_status finetune_inputs(const char *data_dir, sp_request *rq, sp_finetune_report *r, sp_error *err)
{
    const char *method = NULL, *targets = NULL, *base = NULL;
    int rank = 0;
    sp_status st;
    if (!sp_req_has(rq, "model"))
        return sp_fail(err, SP_EINVAL, "--model is required (a preset name or a config.json)");
    if ((st = sp_req_model(rq, data_dir, NULL, &r->model, err)) || (st = sp_req_system(rq, data_dir, "dgx-h100", &r->system, err)))
        return st;
    sp_model_params(&r->model, &r->before);
    if ((st = sp_req_int(rq, "prune-heads", 0, 1 << 20, &r->heads, err)) ||
        (st = sp_req_double(rq, "prune-ffn", SP_UNIT_NONE, 0, 0.999, &r->ffn, err)) || (st = sp_req_int(rq, "rank", 1, 1 << 20, &rank, err)) ||
        (st = sp_req_double(rq, "tokens", SP_UNIT_NONE, 1, 1e16, &r->tokens, err)))
        return st;
    if ((r->heads || r->ffn > 0) && (st = sp_model_prune(&r->model, r->heads, r->ffn, err)))
        return st;
    if ((st = sp_req_str(rq, "method", &method, err)) || (st = sp_req_str(rq, "targets", &targets, err)) ||
        (st = sp_req_str(rq, "base-dtype", &base, err)))
        return st;
    return sp_finetune_parse(method, targets, base, rank, &r->ft, err);
}

/* Memory split: frozen base weights, trainable model states (weights + gradients + optimizer of what is trained),
 * activations, buffers and overhead. */
static void memory_split(sp_finetune_report *r)
{
    const sp_memory *mm = &r->res.mem;
    const sp_plan *p = &r->plan;
    int full = r->ft.method == SP_FT_FULL;
    double adapters_w = full ? 0 : 2.0 * ceil((double)r->model.n_layers / p->pp) *
                                       sp_lora_params_per_layer(&r->model, r->ft.rank, r->ft.targets) / p->tp;
    r->base_w = full ? 0 : mm->weights - adapters_w; /* full: all weights are trained, they are model states */
    r->states = mm->weights + mm->grads + mm->optimizer - r->base_w;
}

sp_status sp_finetune_run(const char *data_dir, sp_request *rq, sp_finetune_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    sp_status st = finetune_inputs(data_dir, rq, r, err);
    if (st)
        return st;
    sp_plan *p = &r->plan;
    sp_plan_defaults(p);
    p->seq_len = r->model.max_seq < 2048 ? r->model.max_seq : 2048;
    p->recompute = SP_RECOMPUTE_FULL; /* gradient checkpointing: the usual fine-tuning default */
    p->n_gpus = 1;
    if ((st = sp_req_plan(rq, p, err)) || (st = sp_req_software(rq, data_dir, &r->system, p, err)))
        return st;
    if (!sp_req_has(rq, "gpus") && (p->tp > 1 || p->pp > 1 || p->dp > 1 || p->ep > 1 || p->cp > 1))
        p->n_gpus = 0;
    sp_plan base = *p;
    if ((st = sp_finetune_apply(&r->model, &r->ft, p, err)) || (st = sp_plan_resolve(p, &r->model, &r->system, err)) ||
        (st = sp_train_eval(&r->model, &r->system, p, &r->res, err)))
        return st;
    r->trainable = sp_finetune_trainable(&r->model, &r->ft);
    sp_model_params(&r->model, &r->params);
    memory_split(r);
    r->train_s = r->tokens > 0 ? r->tokens / r->res.tokens_per_s : 0;
    r->gpu_hours = r->train_s * p->n_gpus / 3600;
    if (r->tokens > 0) { /* energy, carbon and cost of the run: train's model with its defaults (docs/energy.md) */
        sp_energy_opts eo;
        sp_energy_defaults(&eo);
        if ((st = sp_energy_estimate(&r->system, p->n_gpus, r->train_s / 3600, r->res.mfu, &eo, &r->energy, err)))
            return st;
    }
    sp_train_result rr;
    for (int g = 1; g <= 4096 && !r->smallest_gpus; g *= 2) /* smallest GPU count on this system that fits */
        if (try_fit(&r->model, &r->system, &r->ft, &base, g, &rr))
            r->smallest_gpus = g;
    for (int i = 0; i < SP_FINETUNE_CANDIDATES; i++) { /* which single GPUs fit */
        sp_system c;
        sp_error e2 = {0};
        if (sp_load_system(data_dir, sp_finetune_candidates[i], &c, &e2) == SP_OK)
            r->fits_one_gpu[i] = try_fit(&r->model, &c, &r->ft, &base, 1, &rr);
    }
    return SP_OK;
}

const char *sp_finetune_method_name(sp_ft_method m)
{
    static const char *const names[] = {"full", "lora", "qlora"};
    return names[m];
}

static json_t *memory_json(const sp_finetune_report *r)
{
    const sp_memory *mm = &r->res.mem;
    json_t *o = json_object();
    sp_json_set_num(o, "total", mm->total);
    sp_json_set_num(o, "model_states", r->states);
    sp_json_set_num(o, "activations", mm->activations + mm->embedding_logits);
    sp_json_set_num(o, "base_weights", r->base_w);
    sp_json_set_num(o, "buffers_overhead", mm->comm_buffers + mm->overhead);
    sp_json_set_num(o, "capacity", mm->capacity);
    return o;
}

json_t *sp_finetune_json(const sp_finetune_report *r)
{
    const sp_plan *p = &r->plan;
    json_t *o = json_object(), *one = json_array();
    sp_json_set_str(o, "model", r->model.name);
    sp_json_set_str(o, "system", r->system.name);
    sp_json_set_str(o, "method", sp_finetune_method_name(r->ft.method));
    sp_json_set_int(o, "rank", r->ft.rank);
    sp_json_set_str(o, "base_dtype", r->ft.base_dtype);
    sp_json_set_int(o, "gpus", p->n_gpus);
    sp_json_set_int(o, "tp", p->tp);
    sp_json_set_int(o, "pp", p->pp);
    sp_json_set_int(o, "dp", p->dp);
    sp_json_set_int(o, "zero", p->zero);
    sp_json_set_bf16_layers(o, p);
    sp_json_set_packing(o, p);
    sp_json_set_num(o, "params_total", r->params.total);
    sp_json_set_num(o, "trainable_params", r->trainable);
    json_object_set_new(o, "memory_per_gpu_bytes", memory_json(r));
    sp_json_set_bool(o, "fits", r->res.fits);
    sp_json_set_num(o, "step_time_s", r->res.step_time_s);
    sp_json_set_num(o, "tokens_per_s", r->res.tokens_per_s);
    sp_json_set_num(o, "mfu", r->res.mfu);
    if (r->tokens > 0) {
        sp_json_set_num(o, "train_time_s", r->train_s);
        sp_json_set_num(o, "gpu_hours", r->gpu_hours);
        sp_json_set_energy(o, &r->energy);
    }
    json_object_set_new(o, "smallest_gpus_on_system", r->smallest_gpus ? json_integer(r->smallest_gpus) : json_null());
    for (int i = 0; i < SP_FINETUNE_CANDIDATES; i++)
        if (r->fits_one_gpu[i])
            json_array_append_new(one, json_string(sp_finetune_candidates[i]));
    json_object_set_new(o, "fits_on_one_gpu", one);
    return o;
}

SP_CALL_DEFINE(finetune, sp_finetune_report, sp_finetune_run, sp_finetune_json, sp_call_no_release)
