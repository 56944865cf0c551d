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

sp_status sp_distill_run(const char *data_dir, sp_request *rq, sp_distill_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    const char *tn = NULL, *sn = NULL, *sys = "dgx-h100";
    sp_status st;
    if (!sp_req_has(rq, "teacher") || !sp_req_has(rq, "student") || !sp_req_has(rq, "tokens"))
        return sp_fail(err, SP_EINVAL, "--teacher, --student and --tokens are required");
    if ((st = sp_req_str(rq, "teacher", &tn, err)) || (st = sp_req_str(rq, "student", &sn, err)) ||
        (st = sp_load_model(data_dir, tn, &r->teacher, err)) || (st = sp_load_model(data_dir, sn, &r->student, err)) ||
        (st = sp_req_str(rq, "system", &sys, err)) || (st = sp_load_system(data_dir, sys, &r->system, err)))
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
    return sp_distill_eval(&r->teacher, &r->student, &r->system, &r->plan, &r->opts, &r->res, err);
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
    return o;
}

sp_status sp_call_distill(const char *data_dir, sp_request *rq, json_t **out, sp_error *err)
{
    sp_distill_report r;
    sp_status st = sp_distill_run(data_dir, rq, &r, err);
    if (st == SP_OK)
        *out = sp_distill_json(&r);
    return st;
}
