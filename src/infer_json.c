/* The `infer` command: one serving configuration (memory, TTFT, TPOT, throughput, cost and energy per token), or
 * a batch sweep. Request -> sp_infer_report -> JSON. --fit-hardware and --coe: src/infer_modes.c, through sp_call too. */
#include "call.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads one probability per expert (whitespace or comma separated) into p[0..n_experts-1]. */
static sp_status load_routing(const char *path, int n_experts, double *p, sp_error *err)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return sp_fail(err, SP_EIO, "--routing %s: is a directory, expected a file of probabilities", path);
    FILE *f = fopen(path, "r");
    if (!f)
        return sp_fail(err, SP_EIO, "--routing %s: cannot open", path);
    int n = 0, c, tl = 0;
    char tok[64];
    for (;;) {
        c = fgetc(f);
        if (c == EOF || c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            if (tl > 0) {
                tok[tl] = 0;
                char *end;
                double v = strtod(tok, &end);
                if (*end || !isfinite(v) || v < 0 || n >= n_experts) {
                    fclose(f);
                    return sp_fail(err, SP_EINVAL, "--routing %s: value %d ('%s') must be a probability >= 0, one per expert (%d)",
                                   path, n + 1, tok, n_experts);
                }
                p[n++] = v;
                tl = 0;
            }
            if (c == EOF)
                break;
        } else if (tl < 63)
            tok[tl++] = (char)c;
    }
    fclose(f);
    return n == n_experts ? SP_OK : sp_fail(err, SP_EINVAL, "--routing %s: %d values for %d experts", path, n, n_experts);
}

static sp_status routing(sp_request *rq, sp_infer_report *r, sp_error *err)
{
    const char *path = NULL;
    sp_status st = sp_req_str(rq, "routing", &path, err);
    if (st || !path)
        return st;
    if (!sp_model_is_moe(&r->model))
        return sp_fail(err, SP_EINVAL, "--routing needs a MoE model (%s has no experts)", r->model.name);
    r->probs = malloc(sizeof *r->probs * (size_t)r->model.n_experts);
    if (!r->probs)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    if ((st = load_routing(path, r->model.n_experts, r->probs, err)))
        return st;
    r->opts.expert_probs = r->probs;
    return SP_OK;
}

static sp_status precisions(sp_request *rq, sp_infer_opts *o, sp_error *err)
{
    const char *w = NULL, *kv = NULL;
    sp_status st;
    int max_batch = 0;
    if ((st = sp_req_flag(rq, "max-batch", &max_batch, err)) || (st = sp_req_str(rq, "weights", &w, err)) ||
        (st = sp_req_str(rq, "kv", &kv, err)))
        return st;
    if (max_batch)
        o->batch = 0;
    sp_error e2 = {0};
    if (w && sp_dtype_parse(w, &o->weights, &e2))
        return sp_fail(err, SP_EINVAL, "--weights: %s", e2.msg);
    if (kv && (sp_dtype_parse(kv, &o->kv, &e2) || o->kv == SP_INT4 || o->kv == SP_FP4 || o->kv == SP_TF32))
        return sp_fail(err, SP_EINVAL, "--kv '%s'; allowed bf16, fp16, fp8, int8, fp32", kv);
    if (o->weights == SP_TF32)
        return sp_fail(err, SP_EINVAL, "--weights tf32 is a compute mode, not a storage precision; allowed bf16, fp16, fp8, int8, "
                                       "int4, fp4");
    return SP_OK;
}

static sp_status sweep(sp_request *rq, sp_infer_report *r, const char *spec, sp_error *err)
{
    int lo = 0, hi = 0;
    if (sscanf(spec, "batch=%d..%d", &lo, &hi) != 2 || lo < 1 || hi < lo || hi > (1 << 20))
        return sp_fail(err, SP_EINVAL, "--sweep '%s': expected batch=LO..HI with 1 <= LO <= HI", spec);
    (void)rq;
    double cap = sp_infer_seq_cap(&r->opts);
    if (cap > 0 && hi > cap)
        return sp_fail(err, SP_EINVAL, "--sweep '%s': the %s stack runs at most %.0f sequences on these engines "
                       "(max_num_seqs %d each); allowed HI <= %.0f", spec, r->stack.name, cap, r->stack.max_num_seqs, cap);
    for (int b = lo; b <= hi && r->n_sweep < SP_INFER_MAX_SWEEP; b = b * 2 > hi && b < hi ? hi : b * 2) {
        sp_infer_opts x = r->opts;
        x.batch = b;
        sp_status st = sp_infer_eval(&r->model, &r->system, &x, &r->sweep[r->n_sweep], err);
        if (st)
            return st;
        r->n_sweep++;
        if (b == hi)
            break;
    }
    return SP_OK;
}

/* Cost per million output tokens at the system's rental price, and facility energy per token: the run's
 * utilisation is prefill's FLOP rate over the 16-bit peak for the prefill share of the request (decode is memory
 * bound: its activity is the 0.3 floor of sp_power_activity). */
static sp_status cost_energy(sp_infer_report *r, sp_error *err)
{
    const sp_infer_result *x = &r->res;
    const sp_system *s = &r->system;
    double usd_s = s->usd_per_accel_hour * r->opts.n_gpus / 3600;
    r->usd_per_million_tokens = x->tokens_per_s > 0 ? usd_s / x->tokens_per_s * 1e6 : NAN;
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    sp_energy_result en;
    double util = x->prefill_flops > 0 ? fmin(1, x->prefill_flops / (x->ttft_s * sp_accel_peak(&s->acc, SP_BF16))) : 0.3;
    sp_status st = sp_energy_estimate(s, r->opts.n_gpus, x->e2e_s / 3600, util * x->ttft_s / x->e2e_s, &eo, &en, err);
    r->joules_per_token = x->tokens_per_s > 0 ? en.facility_w * r->opts.n_gpus / x->tokens_per_s : NAN;
    return st;
}

/* --batch N, or "max": the largest batch that fits (as --max-batch; issue 19). */
static sp_status batch_opt(sp_request *rq, int *batch, sp_error *err)
{
    json_t *v = json_object_get(rq->obj, "batch");
    if (json_is_string(v) && strcmp(json_string_value(v), "max") == 0) {
        const char *s;
        *batch = 0;
        return sp_req_str(rq, "batch", &s, err);
    }
    return sp_req_int(rq, "batch", 1, 1 << 20, batch, err);
}

const char *sp_infer_mtp_note(const sp_model *m, char *buf, size_t n)
{
    if (m->n_mtp <= 0)
        return NULL;
    sp_param_count pc;
    sp_model_params(m, &pc);
    snprintf(buf, n, "%d MTP module%s (%.4g G parameters) not loaded: speculative decoding is not modelled, and vLLM and "
             "SGLang load MTP weights only when MTP speculation is enabled; the weights counted exclude them", m->n_mtp,
             m->n_mtp == 1 ? "" : "s", pc.mtp / 1e9);
    return buf;
}

/* Speculative decoding (an MTP or draft proposer, its acceptance rate, the verification step) is a serving feature
 * this model does not price: asked for, it is refused by name rather than ignored. */
sp_status sp_infer_refuse_speculative(sp_request *rq, sp_error *err)
{
    if (!sp_req_has(rq, "speculative"))
        return SP_OK;
    return sp_fail(err, SP_EINVAL, "--speculative: speculative decoding (MTP or a draft model, its acceptance rate) is "
                   "not modelled by %s; allowed: no --speculative (the model's MTP modules are not loaded, docs/inference.md)",
                   rq->cmd);
}

static sp_status infer_opts(sp_request *rq, sp_infer_opts *o, sp_error *err)
{
    sp_infer_defaults(o);
    o->n_gpus = 0;
    sp_status st;
    if ((st = sp_req_int(rq, "gpus", 1, 1 << 20, &o->n_gpus, err)) || (st = sp_req_int(rq, "tp", 1, 4096, &o->tp, err)) ||
        (st = sp_req_int(rq, "pp", 1, 4096, &o->pp, err)) || (st = sp_req_int(rq, "ep", 1, 4096, &o->ep, err)) ||
        (st = batch_opt(rq, &o->batch, err)) || (st = sp_req_int(rq, "prompt", 1, 1 << 24, &o->prompt, err)) ||
        (st = sp_req_int(rq, "output", 0, 1 << 24, &o->output, err)) || (st = sp_infer_refuse_speculative(rq, err)))
        return st;
    if (!o->n_gpus)
        o->n_gpus = o->tp * o->ep * o->pp;
    return SP_OK;
}

/* --software NAME: a serving stack, loaded by serve's loader (sp_serve_stack_load); a training stack's name is
 * refused saying what it is, with the serving stacks there are. */
static sp_status stack_opt(const char *data_dir, sp_request *rq, sp_infer_report *r, sp_error *err)
{
    const char *name = NULL;
    sp_status st = sp_req_str(rq, "software", &name, err);
    if (st || !name)
        return st;
    sp_error e2 = {0}, e3 = {0};
    if ((st = sp_serve_stack_load(data_dir, name, &r->stack, &e2)) == SP_OK) {
        r->have_stack = 1;
        return SP_OK;
    }
    sp_software sw;
    const char *avail = strstr(e2.msg, "available: ");
    if (avail && sp_load_software(data_dir, name, &sw, &e3) == SP_OK)
        return sp_fail(err, SP_EINVAL, "--software: '%s' is a training stack (data/software: train, search, finetune, "
                       "limits); %s takes a serving stack (data/serving); %s", name, rq->cmd, avail);
    *err = e2;
    return sp_req_named(st, "software", err);
}

sp_status sp_infer_stack_apply(const char *data_dir, const sp_infer_report *r, const char *accel, sp_infer_opts *o,
                               char *family, size_t n, sp_error *err)
{
    if (!r->have_stack)
        return SP_OK;
    sp_serve_stack st = r->stack;
    char fam[32];
    sp_status rc = sp_serve_calibrate(data_dir, accel, &st, fam, sizeof fam, err);
    if (rc)
        return rc;
    sp_serve_stack_infer(&st, o);
    if (family)
        snprintf(family, n, "%s", fam);
    return SP_OK;
}

sp_status sp_infer_parse(const char *data_dir, sp_request *rq, sp_infer_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    sp_status st;
    if (sp_req_has(rq, "model") &&
        ((st = sp_req_model(rq, data_dir, NULL, &r->model, err)) || (st = sp_req_prune(rq, &r->model, err))))
        return st;
    if ((st = infer_opts(rq, &r->opts, err)) || (st = routing(rq, r, err)) || (st = precisions(rq, &r->opts, err)) ||
        (st = stack_opt(data_dir, rq, r, err)))
        return st;
    return SP_OK;
}

/* The stack's engine limits on the request (a serving model infer does not have is refused, not priced): a batch
 * beyond its engines' sequences; in-flight batching, which infer prices as chunked prefill inside decode steps, on
 * a stack that does not chunk prompts. */
static sp_status stack_limits(sp_request *rq, const sp_infer_report *r, sp_error *err)
{
    const sp_infer_opts *o = &r->opts;
    double cap = sp_infer_seq_cap(o);
    if (o->inflight && !r->stack.chunked_prefill)
        return sp_fail(err, SP_EINVAL, "--inflight: the %s stack does not chunk prompts (chunked_prefill false), and "
                       "infer's in-flight model is chunked prefill inside decode steps; allowed: static batching (no "
                       "--inflight), or serve --software %s for its scheduler", r->stack.name, r->stack.name);
    if (cap > 0 && o->batch > cap && !sp_req_has(rq, "sweep"))
        return sp_fail(err, SP_EINVAL, "--batch %d: the %s stack runs at most %d sequences per engine (max_num_seqs) and "
                       "%d GPUs at tp %d x ep %d are %.0f engines; allowed --batch <= %.0f", o->batch, r->stack.name,
                       r->stack.max_num_seqs, o->n_gpus, o->tp, o->ep, cap / r->stack.max_num_seqs, cap);
    return SP_OK;
}

sp_status sp_infer_run(const char *data_dir, sp_request *rq, sp_infer_report *r, sp_error *err)
{
    sp_status st;
    if (!sp_req_has(rq, "model")) {
        memset(r, 0, sizeof *r);
        return sp_fail(err, SP_EINVAL, "--model is required (or --coe experts.json)");
    }
    if ((st = sp_infer_parse(data_dir, rq, r, err)))
        return st;
    if ((st = sp_req_system(rq, data_dir, "dgx-h100", &r->system, err)) ||
        (st = sp_serving_eff_load(data_dir, r->system.acc.name, &r->opts.eff, err)) ||
        (st = sp_infer_stack_apply(data_dir, r, r->system.acc.name, &r->opts, r->stack_family, sizeof r->stack_family, err)) ||
        (st = sp_req_flag(rq, "inflight", &r->opts.inflight, err)))
        return st;
    const char *spec = NULL;
    if ((st = sp_req_str(rq, "sweep", &spec, err)))
        return st;
    if (sp_req_has(rq, "gpus") && !sp_req_has(rq, "tp") && !sp_req_has(rq, "ep") && !sp_req_has(rq, "pp") &&
        r->opts.n_gpus > 1)
        sp_infer_choose_layout(&r->model, &r->system, &r->opts, r->layout, sizeof r->layout);
    if (r->have_stack && (st = stack_limits(rq, r, err)))
        return st;
    if (spec)
        return sweep(rq, r, spec, err);
    if ((st = sp_infer_eval(&r->model, &r->system, &r->opts, &r->res, err)))
        return st;
    if (!r->res.fits && r->opts.batch == 0)
        return sp_fail(err, SP_EINFEASIBLE, "%s does not fit on %d x %s even at batch 1 (weights %.1f GiB per GPU); try more GPUs "
                                            "(--tp) or --weights fp8/int4",
                       r->model.name, r->opts.n_gpus, r->system.acc.name, r->res.weights_bytes / 1073741824.0);
    return cost_energy(r, err);
}

void sp_infer_report_free(sp_infer_report *r)
{
    free(r->probs);
    r->probs = NULL;
}

static json_t *sweep_json(const sp_infer_report *r)
{
    json_t *o = json_object(), *a = json_array();
    sp_json_set_str(o, "model", r->model.name);
    sp_json_set_str(o, "system", r->system.name);
    if (r->layout[0])
        sp_json_set_str(o, "layout_chosen", r->layout);
    json_object_set_new(o, "software", r->have_stack ? json_string(r->stack.name) : json_null());
    for (int i = 0; i < r->n_sweep; i++) {
        const sp_infer_result *x = &r->sweep[i];
        json_t *p = json_object();
        sp_json_set_int(p, "batch", x->batch);
        sp_json_set_num(p, "ttft_s", x->ttft_s);
        sp_json_set_num(p, "tpot_s", x->tpot_s);
        sp_json_set_num(p, "tokens_per_s", x->tokens_per_s);
        sp_json_set_num(p, "tokens_per_s_per_gpu", x->tokens_per_s_per_gpu);
        sp_json_set_num(p, "tokens_per_s_per_user", x->tokens_per_s_per_user);
        sp_json_set_num(p, "memory_per_gpu_bytes", x->total_bytes);
        sp_json_set_bool(p, "fits", x->fits);
        json_array_append_new(a, p);
    }
    json_object_set_new(o, "sweep", a);
    return o;
}

static json_t *memory_json(const sp_infer_result *x)
{
    json_t *m = json_object();
    sp_json_set_num(m, "total", x->total_bytes);
    sp_json_set_num(m, "weights", x->weights_bytes);
    sp_json_set_num(m, "kv_cache", x->kv_bytes);
    sp_json_set_num(m, "activations", x->activation_bytes);
    sp_json_set_num(m, "overhead", x->overhead_bytes);
    sp_json_set_num(m, "capacity", x->capacity);
    return m;
}

json_t *sp_infer_json(const sp_infer_report *r)
{
    if (r->n_sweep > 0)
        return sweep_json(r);
    const sp_infer_result *x = &r->res;
    const sp_infer_opts *o = &r->opts;
    json_t *j = json_object();
    sp_json_set_str(j, "model", r->model.name);
    sp_json_set_str(j, "system", r->system.name);
    /* the serving stack and the family its kernel factor was calibrated for; null: none (infer's own model) */
    json_object_set_new(j, "software", r->have_stack ? json_string(r->stack.name) : json_null());
    if (r->have_stack)
        sp_json_set_str(j, "software_calibration", r->stack_family);
    sp_json_set_int(j, "gpus", o->n_gpus);
    sp_json_set_int(j, "tp", o->tp);
    sp_json_set_int(j, "ep", o->ep);
    sp_json_set_int(j, "batch", x->batch);
    sp_json_set_int(j, "prompt", o->prompt);
    sp_json_set_int(j, "output", o->output);
    sp_json_set_str(j, "weights", sp_dtype_name(o->weights));
    sp_json_set_str(j, "kv", sp_dtype_name(o->kv));
    sp_json_set_num(j, "ttft_s", x->ttft_s);
    sp_json_set_num(j, "tpot_s", x->tpot_s);
    sp_json_set_num(j, "e2e_s", x->e2e_s);
    sp_json_set_num(j, "tokens_per_s", x->tokens_per_s);
    sp_json_set_num(j, "tokens_per_s_per_gpu", x->tokens_per_s_per_gpu);
    sp_json_set_num(j, "tokens_per_s_per_user", x->tokens_per_s_per_user);
    json_object_set_new(j, "memory_per_gpu_bytes", memory_json(x));
    sp_json_set_num(j, "kv_bytes_per_token", x->kv_bytes_per_token);
    if (x->state_bytes_per_seq > 0) /* hybrid models: recurrent states (and sliding rings) per sequence */
        sp_json_set_num(j, "state_bytes_per_seq", x->state_bytes_per_seq);
    sp_json_set_int(j, "max_batch", x->max_batch);
    sp_json_set_bool(j, "fits", x->fits);
    sp_json_set_str(j, "prefill_bound", x->prefill_bound);
    sp_json_set_str(j, "decode_bound", x->decode_bound);
    if (sp_model_is_moe(&r->model))
        sp_json_set_num(j, "experts_read_per_step", x->experts_read);
    if (r->layout[0])
        sp_json_set_str(j, "layout_chosen", r->layout);
    sp_json_set_int(j, "pp", o->pp);
    char note[320];
    if (sp_infer_mtp_note(&r->model, note, sizeof note))
        sp_json_set_str(j, "mtp", note);
    sp_json_set_num(j, "usd_per_million_tokens", r->usd_per_million_tokens);
    sp_json_set_num(j, "joules_per_token", r->joules_per_token);
    return j;
}

sp_status sp_call_infer(const char *data_dir, sp_request *rq, json_t **out, sp_error *err)
{
    int served;
    sp_status st = sp_infer_modes_call(data_dir, rq, out, &served, err);
    if (st || served)
        return st;
    sp_infer_report *r = malloc(sizeof *r);
    if (!r)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    st = sp_infer_run(data_dir, rq, r, err);
    if (st == SP_OK)
        *out = sp_infer_json(r);
    sp_infer_report_free(r);
    free(r);
    return st;
}
