/* The `search` command: the best parallel plans of a model on a system. Request -> sp_search_report -> JSON.
 * When nothing fits, the error says how close the nearest plan came and the smallest power-of-two multiple of
 * the GPU count that fits. */
#include "call.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int *fix_slot(sp_search_opts *o, const char *k, int v)
{
    static const char *const names[] = {"tp", "pp", "dp", "cp", "ep", "etp", "vpp", "mb", "micro-batch"};
    int *slots[] = {&o->fix_tp, &o->fix_pp, &o->fix_dp, &o->fix_cp, &o->fix_ep, &o->fix_etp, &o->fix_vpp, &o->fix_mb, &o->fix_mb};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(k, names[i]) == 0)
            return slots[i];
    if (strcmp(k, "zero") == 0 && v <= 3)
        return &o->fix_zero;
    if (strcmp(k, "sp") == 0 && v <= 1)
        return &o->fix_sp;
    return NULL;
}

/* --fix tp=8,pp=4,...,recompute=full */
static sp_status parse_fix(const char *s, sp_search_opts *o, sp_error *err)
{
    char buf[256];
    if (!strchr(s, '=')) /* also the empty list, which would fix nothing */
        return sp_fail(err, SP_EINVAL, "--fix: '%s' is not NAME=VALUE; expected e.g. tp=8,pp=4 (tp, pp, dp, cp, ep, etp, vpp, "
                                       "mb, zero, sp, recompute)", s);
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return sp_fail(err, SP_EINVAL, "--fix: '%s' is not NAME=VALUE; expected e.g. tp=8,pp=4 (tp, pp, dp, cp, ep, etp, "
                                           "vpp, mb, zero, sp, recompute)", tok);
        *eq = 0;
        const char *k = tok, *v = eq + 1;
        if (strcmp(k, "recompute") == 0) {
            o->fix_recompute = strcmp(v, "none") == 0 ? 0 : strcmp(v, "selective") == 0 ? 1 : strcmp(v, "full") == 0 ? 2 : -2;
            if (o->fix_recompute == -2)
                return sp_fail(err, SP_EINVAL, "--fix recompute=%s; allowed none, selective, full", v);
            continue;
        }
        char *end;
        long x = strtol(v, &end, 10);
        if (end == v || *end || x < 0 || x > (1 << 24))
            return sp_fail(err, SP_EINVAL, "--fix %s=%s: not a whole number in 0..16777216", k, v);
        int *slot = fix_slot(o, k, (int)x);
        if (!slot)
            return sp_fail(err, SP_EINVAL, "--fix: unknown or out-of-range '%s=%s'; allowed tp, pp, dp, cp, ep, etp, vpp, mb, "
                                           "zero (0..3), sp (0|1), recompute", k, v);
        *slot = (int)x;
    }
    return SP_OK;
}

/* --schedules 1f1b,zb-h1,zb-v,dualpipe: the schedules tried ("interleaved" is 1F1B with vpp > 1: the 1f1b bit) */
static sp_status parse_schedules(const char *s, sp_search_opts *o, sp_error *err)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    o->schedules = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        sp_schedule k;
        int inter;
        if (sp_schedule_parse(tok, &k, &inter))
            return sp_fail(err, SP_EINVAL, "--schedules: unknown schedule '%s'; allowed 1f1b, interleaved, zb-h1, zb-v, "
                                           "dualpipe (comma-separated)", tok);
        o->schedules |= 1u << k;
    }
    if (!o->schedules)
        return sp_fail(err, SP_EINVAL, "--schedules: empty list; allowed 1f1b, interleaved, zb-h1, zb-v, dualpipe");
    return SP_OK;
}

static sp_status finetune_opts(sp_request *rq, const sp_model *m, sp_search_opts *o, sp_error *err)
{
    const char *method = NULL, *targets = NULL, *base = NULL;
    int rank = 0;
    sp_status st;
    if ((st = sp_req_str(rq, "finetune", &method, err)) || (st = sp_req_str(rq, "targets", &targets, err)) ||
        (st = sp_req_str(rq, "base-dtype", &base, err)))
        return st;
    if (!method) {
        if (sp_req_has(rq, "rank") || targets || base)
            return sp_fail(err, SP_EINVAL, "--%s: needs --finetune (allowed only with it)",
                           sp_req_has(rq, "rank") ? "rank" : targets ? "targets" : "base-dtype");
        return SP_OK;
    }
    if ((st = sp_req_int(rq, "rank", 1, 1 << 20, &rank, err)))
        return st;
    sp_finetune ft;
    sp_plan probe;
    sp_plan_defaults(&probe);
    if ((st = sp_finetune_parse(method, targets, base, rank, &ft, err))) {
        if (strncmp(err->msg, "--method: ", 10) == 0) /* finetune's option; here it is --finetune */
            sp_fail(err, st, "--finetune: %s", err->msg + 10);
        return st;
    }
    if ((st = sp_finetune_apply(m, &ft, &probe, err)))
        return st;
    o->plan.frozen_base = probe.frozen_base;
    o->plan.lora_rank = probe.lora_rank;
    o->plan.lora_targets = probe.lora_targets;
    o->plan.base_weight_bytes = probe.base_weight_bytes;
    o->plan.grad_bytes = probe.grad_bytes;
    return SP_OK;
}

static sp_status search_opts(sp_request *rq, const sp_model *m, sp_search_opts *o, sp_error *err)
{
    sp_status st;
    if ((st = sp_req_int(rq, "gpus", 1, 1 << 30, &o->plan.n_gpus, err)) ||
        (st = sp_req_int(rq, "global-batch", 1, 1 << 30, &o->plan.global_batch, err)) ||
        (st = sp_req_int(rq, "seq-len", 1, 1 << 24, &o->plan.seq_len, err)) ||
        (st = sp_req_int(rq, "top", 1, SP_SEARCH_MAX_TOP, &o->top_k, err)) ||
        (st = sp_req_int(rq, "threads", 1, 1024, &o->threads, err)) || (st = sp_req_int(rq, "max-vpp", 1, 64, &o->max_vpp, err)) ||
        (st = sp_req_double(rq, "max-memory-frac", SP_UNIT_NONE, 0.05, 1, &o->max_mem_frac, err)))
        return st;
    const char *dt = NULL, *obj = NULL, *fix = NULL, *rcm = NULL;
    if ((st = sp_req_str(rq, "dtype", &dt, err)) || (st = sp_req_str(rq, "recompute-modules", &rcm, err)))
        return st;
    sp_error e2 = {0};
    /* the modules the searched selective recompute re-runs (none and full are searched as they are) */
    if (rcm && sp_recompute_modules_parse(rcm, &o->plan.recompute_modules, &e2))
        return sp_fail(err, SP_EINVAL, "--recompute-modules: %s", e2.msg);
    if (dt && strcmp(dt, "any") == 0)
        o->any_dtype = 1;
    else if (dt && sp_dtype_parse(dt, &o->plan.dtype, &e2))
        return sp_fail(err, SP_EINVAL, "--dtype: %s (or 'any')", e2.msg);
    if ((st = sp_req_bf16_layers(rq, &o->plan, o->any_dtype, err)) ||
        (st = sp_req_double(rq, "capacity-factor", SP_UNIT_NONE, 0.01, 1000, &o->plan.capacity_factor, err)) ||
        (st = sp_req_double(rq, "moe-imbalance", SP_UNIT_NONE, 1, 1000, &o->plan.moe_imbalance, err)) ||
        (st = sp_req_flag(rq, "moe-pad", &o->plan.moe_pad, err)) || (st = sp_req_packing(rq, &o->plan, err)) ||
        (st = sp_plan_check_packing(&o->plan, err)))
        return st;
    if (o->plan.bf16_first > m->n_layers || o->plan.bf16_last > m->n_layers)
        return sp_fail(err, SP_EINVAL, "--bf16-layers: %d,%d; allowed 0..%d each (model '%s' has %d layers)",
                       o->plan.bf16_first, o->plan.bf16_last, m->n_layers, m->name, m->n_layers);
    if ((o->plan.capacity_factor > 0 || o->plan.moe_imbalance > 1) && !sp_model_is_moe(m))
        return sp_fail(err, SP_EINVAL, "--capacity-factor / --moe-imbalance: model '%s' has no experts", m->name);
    if (o->plan.moe_pad && o->plan.capacity_factor <= 0)
        return sp_fail(err, SP_EINVAL, "--moe-pad needs --capacity-factor (padding expert buffers to capacity)");
    if ((st = sp_req_str(rq, "objective", &obj, err)))
        return st;
    if (obj) {
        if (strcmp(obj, "time") == 0)
            o->objective = SP_OBJ_TIME;
        else if (strcmp(obj, "tokens-per-s") == 0)
            o->objective = SP_OBJ_TOKENS_PER_S;
        else if (strcmp(obj, "cost") == 0)
            o->objective = SP_OBJ_COST;
        else
            return sp_fail(err, SP_EINVAL, "--objective '%s'; allowed time, tokens-per-s, cost", obj);
    }
    if ((st = sp_req_str(rq, "fix", &fix, err)) || (fix && (st = parse_fix(fix, o, err))))
        return st;
    const char *sch = NULL;
    if ((st = sp_req_str(rq, "schedules", &sch, err)) || (sch && (st = parse_schedules(sch, o, err))))
        return st;
    return finetune_opts(rq, m, o, err);
}

/* Nothing fits: the message names the closest plan and the smallest power-of-two multiple of the GPUs (up to
 * 64x, within the system's size) with a plan that fits. */
static sp_status infeasible(const sp_search_report *r, sp_error *err)
{
    const sp_search_opts *o = &r->opts;
    const sp_search_result *res = r->res;
    if (!isfinite(res->min_overflow_bytes))
        return sp_fail(err, SP_EINFEASIBLE, "no valid plan for %d GPUs and global batch %d: the batch must be divisible by the "
                                            "data-parallel degree and the heads by TP; try a global batch that is a multiple of %d",
                       o->plan.n_gpus, o->plan.global_batch, o->plan.n_gpus);
    int found = 0;
    sp_search_opts o2 = *o;
    o2.on_plan = NULL;
    o2.on_progress = NULL;
    o2.top_k = 1;
    sp_search_result *r2 = malloc(sizeof *r2);
    for (int mult = 2; r2 && mult <= 64 && !found; mult *= 2) {
        o2.plan.n_gpus = o->plan.n_gpus * mult;
        if (r->system.max_accels > 0 && o2.plan.n_gpus > r->system.max_accels)
            break;
        sp_error e2;
        sp_search_entry best;
        if (sp_search(&r->model, &r->system, &o2, &best, r2, &e2) == SP_OK)
            found = o2.plan.n_gpus;
    }
    free(r2);
    char b1[32], hint[96];
    const sp_plan *p = &res->min_overflow_plan;
    if (found)
        snprintf(hint, sizeof hint, "the smallest power-of-two multiple of the GPU count that fits is %d GPUs", found);
    else
        snprintf(hint, sizeof hint, "no multiple of the GPU count up to 64x fits either");
    return sp_fail(err, SP_EINFEASIBLE, "no plan of %s on %d GPUs fits in memory (%lld plans tried); the closest (tp %d, pp %d, dp %d, "
                                        "%s, zero %d, recompute %s) needs %s more per GPU; %s",
                   r->model.name, o->plan.n_gpus, res->enumerated, p->tp, p->pp, p->dp, sp_schedule_name(p->schedule, p->vpp),
                   p->zero, sp_recompute_name(p->recompute),
                   sp_fmt_quantity(b1, sizeof b1, res->min_overflow_bytes, SP_UNIT_BYTES), hint);
}

sp_status sp_search_run(const char *data_dir, sp_request *rq, sp_search_report *r, sp_error *err)
{
    /* the caller's hooks survive the reset */
    void (*on_plan)(void *, const sp_plan *, const sp_train_result *) = r->opts.on_plan;
    void (*on_progress)(void *, long long, long long, double) = r->opts.on_progress;
    void *ctx = r->opts.ctx, *pctx = r->opts.progress_ctx;
    memset(r, 0, sizeof *r);
    sp_status st;
    if (!sp_req_has(rq, "model") || !sp_req_has(rq, "system") || !sp_req_has(rq, "gpus") || !sp_req_has(rq, "global-batch"))
        return sp_fail(err, SP_EINVAL, "--model, --system, --gpus and --global-batch are required");
    if ((st = sp_req_model(rq, data_dir, NULL, &r->model, err)) || (st = sp_req_system(rq, data_dir, NULL, &r->system, err)))
        return st;
    sp_search_opts *o = &r->opts;
    sp_search_defaults(o);
    o->plan.seq_len = r->model.max_seq;
    if ((st = search_opts(rq, &r->model, o, err)) || (st = sp_req_flag(rq, "all", &r->all, err)) ||
        (st = sp_req_software_search(rq, data_dir, &r->system, o, err)))
        return st;
    if (r->all) {
        if (!on_plan)
            return sp_fail(err, SP_EINVAL, "--all streams every plan to a callback (the CLI's --all --csv)");
        o->on_plan = on_plan;
        o->ctx = ctx;
        o->no_prune = 1;
    }
    o->on_progress = on_progress;
    o->progress_ctx = pctx;
    /* the result and, after it, the caller-owned top-k buffer the search fills (one block, one free) */
    r->res = malloc(sizeof *r->res + sizeof(sp_search_entry) * (size_t)o->top_k);
    if (!r->res)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    st = sp_search(&r->model, &r->system, o, (sp_search_entry *)(r->res + 1), r->res, err);
    return st == SP_EINFEASIBLE ? infeasible(r, err) : st;
}

void sp_search_report_free(sp_search_report *r)
{
    free(r->res);
    r->res = NULL;
}

static json_t *entry_json(const sp_plan *p, const sp_train_result *x)
{
    json_t *o = json_object();
    sp_json_set_degrees(o, p);
    sp_json_set_memory_knobs(o, p);
    sp_json_set_num(o, "step_time_s", x->step_time_s);
    sp_json_set_num(o, "mfu", x->mfu);
    sp_json_set_num(o, "tokens_per_s", x->tokens_per_s);
    sp_json_set_num(o, "memory_per_gpu_bytes", x->mem.total);
    sp_json_set_str(o, "bottleneck", x->bottleneck);
    sp_json_set_int(o, "etp", p->etp > 0 ? p->etp : p->tp);
    sp_json_set_str(o, "dtype", sp_dtype_name(p->dtype));
    sp_json_set_bf16_layers(o, p);
    sp_json_set_str(o, "schedule", sp_schedule_name(p->schedule, p->vpp));
    return o;
}

json_t *sp_search_json(const sp_search_report *r)
{
    const sp_search_result *x = r->res;
    json_t *o = json_object(), *plans = json_array(), *sum = json_object();
    sp_json_set_str(o, "model", r->model.name);
    sp_json_set_str(o, "system", r->system.name);
    for (int i = 0; i < x->n_top; i++)
        json_array_append_new(plans, entry_json(&x->top[i].plan, &x->top[i].res));
    json_object_set_new(o, "plans", plans);
    sp_json_set_int(sum, "plans_enumerated", x->enumerated);
    sp_json_set_int(sum, "plans_evaluated", x->evaluated);
    sp_json_set_int(sum, "plans_pruned", x->pruned);
    sp_json_set_int(sum, "plans_infeasible", x->infeasible_memory + x->infeasible_divisibility);
    sp_json_set_int(sum, "infeasible_memory", x->infeasible_memory);
    sp_json_set_int(sum, "infeasible_divisibility", x->infeasible_divisibility);
    sp_json_set_int(sum, "layer_shapes", x->layer_shapes);
    sp_json_set_int(sum, "threads", x->threads);
    sp_json_set_num(sum, "wall_time_s", x->wall_time_s);
    sp_json_set_num(sum, "plans_per_s", x->plans_per_s);
    /* the memory a plan must fit in: the device's memory less the allocator-fragmentation headroom */
    sp_json_set_num(sum, "memory_headroom_frac", 1 - r->opts.max_mem_frac);
    sp_json_set_num(sum, "usable_memory_bytes", r->opts.max_mem_frac * r->system.acc.hbm_bytes);
    json_object_set_new(o, "summary", sum);
    return o;
}

SP_CALL_DEFINE(search, sp_search_report, sp_search_run, sp_search_json, sp_search_report_free)
