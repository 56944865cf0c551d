/* The `law` command: loss, compute-optimal allocation, sizing for a target loss, over-training, inference-aware
 * sizing and the critical batch, on a scaling-law preset. Each query runs when its options are given (they
 * combine). Request -> sp_law_report -> JSON. */
#include "call.h"

#include <string.h>

/* --days: a plain number is days; with units (90d, 3mo, 2160h) it is converted */
static sp_status days_option(sp_request *rq, double *days, sp_error *err)
{
    if (!sp_req_has(rq, "days"))
        return SP_OK;
    const char *ds = NULL;
    if (sp_req_str(rq, "days", &ds, NULL) != SP_OK) /* a JSON number: days */
        return sp_req_double(rq, "days", SP_UNIT_NONE, 1e-9, 1e6, days, err);
    sp_status st;
    double v;
    if ((st = sp_parse_quantity(ds, SP_UNIT_TIME, "--days", &v, err)))
        return st;
    int plain = 1;
    for (const char *c = ds; *c; c++)
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))
            plain = (*c == 'e' || *c == 'E') && plain;
    *days = plain ? v : v / 86400;
    if (!(*days > 0 && *days < 1e6))
        return sp_fail(err, SP_EINVAL, "--days: %s is out of range; allowed a positive duration", ds);
    return SP_OK;
}

/* Every option given takes part in a query, and there is a query: an option that would be silently ignored, or a
 * request that asks nothing, is refused (issue 24: `law --target-loss 2.0` alone printed "no query given", exit 0).
 * --plot (drawn by the CLI) is a query of its own. */
static sp_status query_check(sp_request *rq, const sp_law_report *r, sp_error *err)
{
    double N = r->n, D = r->d, tpp = r->tpp, target = r->target, served = r->served, C = r->compute;
    if (target > 0 && !(D > 0) && !(tpp > 0) && !(served > 0))
        return sp_fail(err, SP_EINVAL, "--target-loss: needs --d, --tokens-per-param or --served-tokens (which model reaching the loss?)");
    if (target > 0 && N > 0 && !(served > 0))
        return sp_fail(err, SP_EINVAL, "--target-loss: give --n or --target-loss, not both (the loss of --n follows from --d)");
    if (served > 0 && !(target > 0))
        return sp_fail(err, SP_EINVAL, "--served-tokens: allowed only with --target-loss (inference-aware sizing)");
    if (tpp > 0 && !(N > 0) && !(target > 0))
        return sp_fail(err, SP_EINVAL, "--tokens-per-param: needs --n (over-training) or --target-loss");
    if (tpp > 0 && D > 0)
        return sp_fail(err, SP_EINVAL, "--tokens-per-param: give --d or --tokens-per-param, not both");
    if (N > 0 && !(D > 0) && !(tpp > 0))
        return sp_fail(err, SP_EINVAL, "--n: needs --d (loss of N on D tokens) or --tokens-per-param (over-training)");
    if (D > 0 && !(N > 0) && !(target > 0))
        return sp_fail(err, SP_EINVAL, "--d: needs --n (loss of N on D tokens) or --target-loss");
    if (sp_req_has(rq, "mfu") && !(C > 0))
        return sp_fail(err, SP_EINVAL, "--mfu: allowed only with --compute or --gpus/--days (GPU-hours of a compute budget)");
    if (sp_req_has(rq, "batch-rule") && !(C > 0))
        return sp_fail(err, SP_EINVAL, "--batch-rule: allowed only with --compute or --gpus/--days (the critical batch of a compute budget)");
    if (!(C > 0) && !(N > 0) && !(target > 0) && !sp_req_has(rq, "plot"))
        return sp_fail(err, SP_EINVAL, "no query given; expected --compute, --gpus/--days, --n with --d or --tokens-per-param, "
                                       "--target-loss or --plot (scaleplan law --help)");
    return SP_OK;
}

static sp_status law_inputs(const char *data_dir, sp_request *rq, sp_law_report *r, sp_error *err)
{
    const char *name = "chinchilla", *sname = "dgx-h100", *rule = NULL;
    sp_status st;
    if ((st = sp_req_str(rq, "law", &name, err)) || (st = sp_req_named(sp_load_law(data_dir, name, &r->law, err), "law", err)))
        return st;
    r->mfu = 0.4;
    if ((st = sp_req_double(rq, "compute", SP_UNIT_FLOP, 1, 1e40, &r->compute, err)) ||
        (st = sp_req_double(rq, "n", SP_UNIT_NONE, 1, 1e18, &r->n, err)) || (st = sp_req_double(rq, "d", SP_UNIT_NONE, 1, 1e20, &r->d, err)) ||
        (st = sp_req_double(rq, "tokens-per-param", SP_UNIT_NONE, 1e-3, 1e7, &r->tpp, err)) ||
        (st = sp_req_double(rq, "target-loss", SP_UNIT_NONE, 1e-6, 1e3, &r->target, err)) ||
        (st = sp_req_double(rq, "served-tokens", SP_UNIT_NONE, 0, 1e22, &r->served, err)) ||
        (st = sp_req_int(rq, "gpus", 1, 1 << 30, &r->gpus, err)) || (st = sp_req_double(rq, "mfu", SP_UNIT_NONE, 1e-4, 1, &r->mfu, err)) ||
        (st = days_option(rq, &r->days, err)))
        return st;
    if ((st = sp_req_str(rq, "system", &sname, err)) ||
        (st = sp_req_named(sp_load_system(data_dir, sname, &r->system, err), "system", err)))
        return st;
    r->peak = sp_accel_peak(&r->system.acc, SP_BF16);
    if (r->gpus || r->days > 0) {
        if (!r->gpus || !(r->days > 0))
            return sp_fail(err, SP_EINVAL, "compute from a cluster needs --gpus and --days (and optionally --system, --mfu)");
        if (r->compute > 0)
            return sp_fail(err, SP_EINVAL, "give either --compute or --gpus/--days, not both");
        r->compute = r->gpus * r->peak * r->mfu * r->days * 86400;
    }
    if ((st = query_check(rq, r, err)))
        return st;
    r->rule = SP_BATCH_EPOCH;
    snprintf(r->rule_name, sizeof r->rule_name, "epoch");
    if ((st = sp_req_str(rq, "batch-rule", &rule, err)))
        return st;
    if (rule) {
        snprintf(r->rule_name, sizeof r->rule_name, "%s", rule);
        return sp_batch_rule_parse(rule, &r->rule, &r->fixed_batch, err);
    }
    return SP_OK;
}

sp_status sp_law_run(const char *data_dir, sp_request *rq, sp_law_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    sp_status st = law_inputs(data_dir, rq, r, err);
    if (st)
        return st;
    const sp_law *law = &r->law;
    if ((r->has_loss_at = r->n > 0 && r->d > 0))
        r->loss_at = sp_law_loss(law, r->n, r->d);
    if ((r->has_optimal = r->compute > 0)) {
        sp_law_optimal(law, r->compute, &r->n_opt, &r->d_opt, &r->loss_opt);
        r->critical_batch = sp_critical_batch(r->rule, r->fixed_batch, r->compute, r->loss_opt, 1);
        r->gpu_hours = r->compute / (r->peak * r->mfu) / 3600;
    }
    if ((r->has_min_n = r->target > 0 && (r->d > 0 || r->tpp > 0) && !(r->n > 0)) &&
        (st = sp_law_min_n(law, r->target, r->d, r->tpp, &r->min_n, &r->min_d, err)))
        return st;
    if ((r->has_overtraining = r->n > 0 && r->tpp > 0 && !(r->d > 0))) {
        r->over_d = r->tpp * r->n;
        r->over_loss = sp_law_loss(law, r->n, r->over_d);
        r->over_copt = sp_law_compute_for_loss(law, r->over_loss, &r->over_nopt, &r->over_dopt);
    }
    if ((r->has_inference_aware = r->target > 0 && r->served > 0)) {
        if ((st = sp_law_inference_aware(law, r->target, r->served, &r->ia_n, &r->ia_d, err)))
            return st;
        sp_law_compute_for_loss(law, r->target, &r->ia_n0, &r->ia_d0);
    }
    return SP_OK;
}

static void optimal_json(json_t *o, const sp_law_report *r)
{
    sp_json_set_num(o, "compute_flop", r->compute);
    sp_json_set_num(o, "n_opt", r->n_opt);
    sp_json_set_num(o, "d_opt", r->d_opt);
    sp_json_set_num(o, "loss", r->loss_opt);
    sp_json_set_num(o, "tokens_per_param", r->d_opt / r->n_opt);
    sp_json_set_num(o, "critical_batch_tokens", r->critical_batch);
    sp_json_set_num(o, "serial_steps", r->d_opt / r->critical_batch);
    sp_json_set_num(o, "pf_days", r->compute / 8.64e19);
    sp_json_set_num(o, "gpu_hours", r->gpu_hours);
    json_t *a = json_object();
    sp_json_set_str(a, "accelerator", r->system.acc.name);
    sp_json_set_num(a, "peak_flops", r->peak);
    sp_json_set_num(a, "mfu", r->mfu);
    json_object_set_new(o, "gpu_hours_assumptions", a);
}

static json_t *obj3(const char *k1, double v1, const char *k2, double v2, const char *k3, double v3)
{
    json_t *o = json_object();
    sp_json_set_num(o, k1, v1);
    sp_json_set_num(o, k2, v2);
    sp_json_set_num(o, k3, v3);
    return o;
}

json_t *sp_law_json(const sp_law_report *r)
{
    json_t *o = json_object();
    sp_json_set_str(o, "law", r->law.name);
    if (r->has_loss_at)
        json_object_set_new(o, "loss_at", obj3("n", r->n, "d", r->d, "loss", r->loss_at));
    if (r->has_optimal)
        optimal_json(o, r);
    if (r->has_min_n) {
        json_t *m = obj3("target_loss", r->target, "n", r->min_n, "d", r->min_d);
        sp_json_set_num(m, "compute_flop", 6 * r->min_n * r->min_d);
        json_object_set_new(o, "min_n_for_loss", m);
    }
    if (r->has_overtraining) {
        double c = 6 * r->n * r->over_d;
        json_t *v = obj3("n", r->n, "d", r->over_d, "loss", r->over_loss);
        sp_json_set_num(v, "compute_flop", c);
        sp_json_set_num(v, "compute_optimal_flop_same_loss", r->over_copt);
        sp_json_set_num(v, "extra_compute_factor", c / r->over_copt);
        sp_json_set_num(v, "n_opt_same_loss", r->over_nopt);
        json_object_set_new(o, "overtraining", v);
    }
    if (r->has_inference_aware) {
        json_t *v = obj3("target_loss", r->target, "served_tokens", r->served, "n", r->ia_n);
        sp_json_set_num(v, "d", r->ia_d);
        sp_json_set_num(v, "total_flop", sp_law_inference_total(r, 0));
        sp_json_set_num(v, "chinchilla_n", r->ia_n0);
        sp_json_set_num(v, "chinchilla_total_flop", sp_law_inference_total(r, 1));
        json_object_set_new(o, "inference_aware", v);
    }
    return o;
}

double sp_law_inference_total(const sp_law_report *r, int compute_optimal)
{
    double n = compute_optimal ? r->ia_n0 : r->ia_n, d = compute_optimal ? r->ia_d0 : r->ia_d;
    return 6 * n * d + 2 * n * r->served; /* training + lifetime inference FLOP */
}

SP_CALL_DEFINE(law, sp_law_report, sp_law_run, sp_law_json, sp_call_no_release)
