/* Distillation: the cost of distilling a teacher into a student (teacher forward once, or every epoch when online,
 * plus the student's training) and the serving break-even: how many served tokens the student's cheaper forward
 * pass needs to pay the distillation back. Both models are timed by the training model on the same plan.
 *
 * Teacher forward time: a training step is forward + backward (2x forward) + optimizer + exposed data-parallel
 * communication; without recompute the forward is one third of the step less those two (the convention of
 * Kaplan et al. 2020 §2.1 / Narayanan et al. 2021: backward = 2 x forward FLOPs). Serving cost per token is taken
 * as proportional to forward FLOPs at equal efficiency (compute-bound batched serving); `scaleplan infer` models
 * serving in full. Also the `distill` command: request -> sp_distill_report -> JSON. */
#include "call.h"

#include <math.h>
#include <string.h>

static sp_status eval(const sp_model *m, const sp_system *s, sp_plan p, sp_train_result *r, sp_error *err)
{
    sp_status st = sp_plan_resolve(&p, m, s, err);
    return st ? st : sp_train_eval(m, s, &p, r, err);
}

#define GIB (1024.0 * 1024.0 * 1024.0)

/* Memory of the teacher's forward per GPU, from the training memory model on the plan: the frozen teacher is held
 * in 16-bit (2 B/parameter, as served: no gradient, no optimizer state, no fp32 master), sharded as the plan
 * shards weights (TP, PP, ZeRO-3 with its gathered-layer buffers); a forward keeps no activation for a backward,
 * so only the working layer (what full recompute rebuilds: activations less the layers held) and the
 * embedding/logits bytes as the training model counts them, plus the framework overhead. */
static void teacher_forward_memory(const sp_model *teacher, const sp_system *s, const sp_plan *p, sp_memory *mem)
{
    sp_plan pt = *p;
    pt.recompute = SP_RECOMPUTE_FULL;
    pt.weight_bytes = 2;
    sp_train_memory(teacher, s, &pt, mem);
    mem->grads = mem->optimizer = 0;
    mem->activations -= mem->activations_layers;
    mem->activations_layers = 0;
    mem->total = mem->weights + mem->comm_buffers + mem->overhead + mem->activations + mem->embedding_logits;
}

/* Both models must fit the plan: the student's training state and activations, and the teacher's forward
 * (offline: one after the other, each alone; online: both resident on every GPU at once). */
static sp_status check_memory(const sp_model *teacher, const sp_model *student, const sp_plan *p, const sp_distill_opts *o,
                              sp_distill_result *r, sp_error *err)
{
    const sp_memory *ms = &r->student.mem, *mt = &r->teacher_fwd_mem;
    double cap = ms->capacity;
    if (ms->total > cap)
        return sp_fail(err, SP_EINFEASIBLE,
                       "--student %s needs %.1f GiB per GPU to train (model states %.1f GiB, activations %.1f GiB) of "
                       "%.2f GiB on TP %d x PP %d x DP %d, ZeRO-%d; give more --gpus, --tp/--pp or --zero 3",
                       student->name, ms->total / GIB, (ms->weights + ms->grads + ms->optimizer) / GIB,
                       (ms->activations + ms->embedding_logits) / GIB, cap / GIB, p->tp, p->pp, p->dp, p->zero);
    if (mt->total > cap)
        return sp_fail(err, SP_EINFEASIBLE,
                       "--teacher %s needs %.1f GiB per GPU for its forward (weights %.1f GiB) of %.2f GiB on TP %d x PP %d; "
                       "give more --tp/--pp or --zero 3",
                       teacher->name, mt->total / GIB, mt->weights / GIB, cap / GIB, p->tp, p->pp);
    if (o->online && mt->total + ms->total > cap)
        return sp_fail(err, SP_EINFEASIBLE,
                       "--online: the teacher's forward (%.1f GiB per GPU) and the student's training (%.1f GiB) do not "
                       "fit together in %.2f GiB on TP %d x PP %d; give more --tp/--pp or --zero 3, or distill offline",
                       mt->total / GIB, ms->total / GIB, cap / GIB, p->tp, p->pp);
    return SP_OK;
}

sp_status sp_distill_eval(const sp_model *teacher, const sp_model *student, const sp_system *s, const sp_plan *p,
                          const sp_distill_opts *o, sp_distill_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    sp_status st = eval(student, s, *p, &r->student, err);
    if (st)
        return st;
    sp_plan pt = *p;
    pt.recompute = SP_RECOMPUTE_NONE;
    if ((st = eval(teacher, s, pt, &r->teacher, err)))
        return st;
    if ((st = sp_plan_resolve(&pt, teacher, s, err)))
        return st;
    teacher_forward_memory(teacher, s, &pt, &r->teacher_fwd_mem);
    if ((st = check_memory(teacher, student, &pt, o, r, err)))
        return st;
    const sp_train_result *rt = &r->teacher;
    r->teacher_fwd_s = (rt->step_time_s - rt->t.optimizer - rt->t.dp_comm) / 3.0;
    double passes = o->online ? o->epochs : 1;
    r->teacher_gpu_hours = passes * o->tokens / (rt->tokens_per_step / r->teacher_fwd_s) * p->n_gpus / 3600;
    r->student_gpu_hours = o->epochs * o->tokens / r->student.tokens_per_s * p->n_gpus / 3600;
    sp_param_count pct, pcs;
    sp_model_params(teacher, &pct);
    sp_model_params(student, &pcs);
    r->teacher_params = pct.total;
    r->student_params = pcs.total;
    r->size_reduction = 1 - pcs.total / pct.total;
    double ft = sp_model_fwd_flops_per_token(teacher, p->seq_len), fs = sp_model_fwd_flops_per_token(student, p->seq_len);
    r->serving_speedup = ft / fs;
    /* GPU-hours saved per served token: the teacher's forward GPU-hours per token less the student's share */
    double teacher_gpuh_per_token = r->teacher_fwd_s / rt->tokens_per_step * p->n_gpus / 3600;
    r->saved_gpu_hours_per_token = teacher_gpuh_per_token * (1 - fs / ft);
    r->breakeven_served_tokens = r->saved_gpu_hours_per_token > 0
                                     ? (r->teacher_gpu_hours + r->student_gpu_hours) / r->saved_gpu_hours_per_token
                                     : INFINITY;
    return SP_OK;
}

/* Energy, CO2e and cost of the run: train's energy model with its defaults (docs/energy.md), for the teacher's
 * forward hours at the teacher's MFU and the student's training hours at the student's, summed. */
static sp_status distill_energy(sp_distill_report *r, sp_error *err)
{
    const sp_distill_result *x = &r->res;
    const struct {
        double gpu_hours, mfu;
    } part[2] = {{x->teacher_gpu_hours, x->teacher.mfu}, {x->student_gpu_hours, x->student.mfu}};
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    sp_energy_result *e = &r->energy;
    for (int i = 0; i < 2; i++) {
        sp_energy_result one;
        sp_status st = sp_energy_estimate(&r->system, r->plan.n_gpus, part[i].gpu_hours / r->plan.n_gpus, part[i].mfu, &eo, &one, err);
        if (st)
            return st;
        if (i == 0) {
            *e = one;
            continue;
        }
        e->accel_hours += one.accel_hours;
        e->energy_kwh += one.energy_kwh;
        e->co2e_kg += one.co2e_kg;
        e->cloud_usd += one.cloud_usd;
        e->own_usd += one.own_usd;
        e->own_capex_usd += one.own_capex_usd;
        e->own_energy_usd += one.own_energy_usd;
    }
    return SP_OK;
}

sp_status sp_distill_run(const char *data_dir, sp_request *rq, sp_distill_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    const char *tn = NULL, *sn = NULL;
    sp_status st;
    if (!sp_req_has(rq, "teacher") || !sp_req_has(rq, "student") || !sp_req_has(rq, "tokens"))
        return sp_fail(err, SP_EINVAL, "--teacher, --student and --tokens are required");
    if ((st = sp_req_str(rq, "teacher", &tn, err)) || (st = sp_req_str(rq, "student", &sn, err)) ||
        (st = sp_req_named(sp_load_model(data_dir, tn, &r->teacher, err), "teacher", err)) ||
        (st = sp_req_named(sp_load_model(data_dir, sn, &r->student, err), "student", err)) ||
        (st = sp_req_system(rq, data_dir, "dgx-h100", &r->system, err)))
        return st;
    r->opts.epochs = 1;
    if ((st = sp_req_double(rq, "tokens", SP_UNIT_NONE, 1, 1e16, &r->opts.tokens, err)) ||
        (st = sp_req_int(rq, "epochs", 1, 1000, &r->opts.epochs, err)) || (st = sp_req_flag(rq, "online", &r->opts.online, err)))
        return st;
    /* default plan: 8 GPUs, ZeRO-1, sequences of 2048 tokens (or the student's context when shorter) */
    sp_plan_defaults(&r->plan);
    r->plan.n_gpus = 8;
    r->plan.zero = 1;
    r->plan.seq_len = r->student.max_seq < 2048 ? r->student.max_seq : 2048;
    if ((st = sp_req_plan(rq, &r->plan, err)) || (st = sp_req_software(rq, data_dir, &r->system, &r->plan, err)))
        return st;
    if ((st = sp_distill_eval(&r->teacher, &r->student, &r->system, &r->plan, &r->opts, &r->res, err)))
        return st;
    return distill_energy(r, err);
}

json_t *sp_distill_json(const sp_distill_report *r)
{
    const sp_distill_result *x = &r->res;
    json_t *o = json_object();
    sp_json_set_str(o, "teacher", r->teacher.name);
    sp_json_set_str(o, "student", r->student.name);
    sp_json_set_num(o, "teacher_params", x->teacher_params);
    sp_json_set_num(o, "student_params", x->student_params);
    sp_json_set_num(o, "size_reduction", x->size_reduction);
    sp_json_set_num(o, "serving_speedup", x->serving_speedup);
    sp_json_set_num(o, "teacher_gpu_hours", x->teacher_gpu_hours);
    sp_json_set_num(o, "student_gpu_hours", x->student_gpu_hours);
    sp_json_set_num(o, "breakeven_served_tokens", x->breakeven_served_tokens);
    sp_json_set_int(o, "gpus", r->plan.n_gpus);
    sp_json_set_int(o, "tp", r->plan.tp);
    sp_json_set_int(o, "pp", r->plan.pp);
    sp_json_set_num(o, "teacher_forward_bytes_per_gpu", x->teacher_fwd_mem.total);
    sp_json_set_num(o, "student_train_bytes_per_gpu", x->student.mem.total);
    sp_json_set_num(o, "capacity_bytes", x->student.mem.capacity);
    sp_json_set_energy(o, &r->energy);
    return o;
}

SP_CALL_DEFINE(distill, sp_distill_report, sp_distill_run, sp_distill_json, sp_call_no_release)
