/* `serve` through sp_call (src/call.c, docs/api.md): the request's keys are the CLI's long options ('-' -> '_'); it
 * is parsed here into the deployment, workload, stack and mode (one rate, --max-rate or --search), the run returns
 * the library's JSON (sp_serve_result_json, sp_serve_search_json). The CLI turns argv into the same request
 * (cli_request) and calls sp_serve_parse, so both read every option the same way. */
#include "call.h"
#include "serve_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static sp_status dtype_opt(sp_request *rq, const char *opt, int kv, sp_dtype *d, sp_error *err)
{
    const char *s = NULL;
    sp_error e2 = {0};
    sp_status rc = sp_req_str(rq, opt, &s, err);
    if (rc || !s)
        return rc;
    if (sp_dtype_parse(s, d, &e2) || *d == SP_TF32 || (kv && (*d == SP_INT4 || *d == SP_FP4)))
        return sp_fail(err, SP_EINVAL, "--%s '%s'; allowed %s", opt, s, kv ? "bf16, fp16, fp8, int8" : "bf16, fp16, fp8, int8, int4, fp4");
    return SP_OK;
}

/* --arrival poisson | gamma:CV | closed:USERS | offline */
static sp_status arrival_opt(sp_request *rq, sp_serve_workload *w, sp_error *err)
{
    const char *s = NULL;
    sp_status rc = sp_req_str(rq, "arrival", &s, err);
    if (rc || !s)
        return rc;
    char *end;
    if (strcmp(s, "poisson") == 0)
        w->arrival = SP_ARR_POISSON;
    else if (strcmp(s, "offline") == 0)
        w->arrival = SP_ARR_OFFLINE;
    else if (strncmp(s, "gamma:", 6) == 0) {
        w->arrival = SP_ARR_GAMMA;
        w->cv = strtod(s + 6, &end);
        if (*end || !(w->cv >= 0.05 && w->cv <= 100))
            return sp_fail(err, SP_EINVAL, "--arrival %s: the gamma CV must be a number in 0.05..100", s);
    } else if (strncmp(s, "closed:", 7) == 0) {
        w->arrival = SP_ARR_CLOSED;
        long u = strtol(s + 7, &end, 10);
        if (*end || u < 1 || u > 1000000)
            return sp_fail(err, SP_EINVAL, "--arrival %s: the number of users must be an integer in 1..1000000", s);
        w->users = (int)u;
    } else
        return sp_fail(err, SP_EINVAL, "--arrival '%s'; allowed poisson, gamma:CV, closed:USERS, offline", s);
    return SP_OK;
}

/* Layout, precision, rate, SLOs, run size. */
static sp_status deploy_opts(sp_request *rq, sp_serve_opts *o, sp_error *err)
{
    sp_status rc;
    o->n_gpus = 0;
    double seed = 1;
    if ((rc = sp_req_int(rq, "gpus", 1, 1 << 20, &o->n_gpus, err)) || (rc = sp_req_int(rq, "tp", 1, 4096, &o->tp, err)) ||
        (rc = sp_req_int(rq, "pp", 1, 4096, &o->pp, err)) || (rc = sp_req_int(rq, "ep", 1, 4096, &o->ep, err)) ||
        (rc = sp_req_int(rq, "prefill-gpus", 0, 1 << 20, &o->prefill_gpus, err)) ||
        (rc = sp_req_int(rq, "requests", 1, 20000000, &o->n_requests, err)) ||
        (rc = sp_req_double(rq, "seed", SP_UNIT_NONE, 0, 1e15, &seed, err)) || (rc = dtype_opt(rq, "dtype", 0, &o->weights, err)) ||
        (rc = dtype_opt(rq, "kv-dtype", 1, &o->kv, err)) ||
        (rc = sp_req_double(rq, "ttft-p99", SP_UNIT_TIME, 1e-6, 1e6, &o->ttft_slo_s, err)) ||
        (rc = sp_req_double(rq, "tpot-p99", SP_UNIT_TIME, 1e-6, 1e6, &o->tpot_slo_s, err)) ||
        (rc = sp_infer_refuse_speculative(rq, err)))
        return rc;
    o->seed = (unsigned long long)seed;
    if (!o->n_gpus)
        o->n_gpus = o->tp * o->pp * o->ep * (o->prefill_gpus > 0 ? 2 : 1);
    if (sp_req_has(rq, "rate")) {
        o->rate = NAN;
        if ((rc = sp_req_double(rq, "rate", SP_UNIT_NONE, -INFINITY, INFINITY, &o->rate, err)))
            return rc;
        /* 1e6 requests/s: far beyond one deployment (the simulator steps every request) */
        if (!(o->rate > 0) || !(o->rate <= 1e6))
            return sp_fail(err, SP_EINVAL, "--rate %g; allowed a request rate > 0 and <= 1e6 per second", o->rate);
    }
    return SP_OK;
}

/* Stack, serving factors, family calibration (or --kernel-factor), the search's options. */
static sp_status stack_opts(const char *data_dir, sp_request *rq, sp_serve_report *r, sp_error *err)
{
    const char *sw = "vllm", *cand = NULL;
    double kf = 0;
    char fam[32];
    sp_status rc;
    /* --search calibrates the stack per candidate's family (src/serve_deploy.c); calibrating it here for --system too
     * multiplied the two factors (every Hopper candidate ran its FP8 GEMMs at 0.6 x 0.6 of their modelled time) */
    if ((rc = sp_req_flag(rq, "max-rate", &r->max_rate, err)) || (rc = sp_req_flag(rq, "search", &r->search, err)) ||
        (rc = sp_req_str(rq, "software", &sw, err)) || (rc = sp_req_double(rq, "kernel-factor", SP_UNIT_NONE, 0.1, 10, &kf, err)) ||
        (rc = sp_req_named(sp_serve_stack_load(data_dir, sw, &r->opts.stack, err), "software", err)) ||
        (rc = sp_serving_eff_load(data_dir, r->system.acc.name, &r->opts.eff, err)) ||
        (kf == 0 && !r->search && (rc = sp_serve_calibrate(data_dir, r->system.acc.name, &r->opts.stack, fam, sizeof fam, err))) ||
        (rc = sp_req_str(rq, "candidates", &cand, err)) || (rc = sp_req_int(rq, "max-gpus", 1, 1 << 16, &r->so.max_gpus, err)))
        return rc;
    if (kf > 0)
        r->opts.stack.kernel_factor *= kf;
    r->so.fixed_kernel_factor = kf > 0; /* --kernel-factor replaces the family calibration for every candidate */
    snprintf(r->candidates, sizeof r->candidates, "%s", cand ? cand : "dgx-h100,hgx-h200,dgx-b200,mi300x-8,dgx-a100-80g");
    if (r->max_rate && sp_req_has(rq, "rate") && !r->search)
        return sp_fail(err, SP_EINVAL, "--rate and --max-rate exclude each other");
    if (r->search && !sp_req_has(rq, "rate"))
        return sp_fail(err, SP_EINVAL, "--search needs --rate (the target request rate)");
    r->so.rate = r->opts.rate;
    if (sp_req_has(rq, "requests"))
        r->so.n_requests = r->opts.n_requests;
    return SP_OK;
}

/* The run's length without --requests: a trace's rows (replayed once), an MLPerf workload's sample count (the
 * benchmark's own run, what --validate runs: 2,000 of 24,576 Llama-2-70B samples at the server rate measured the
 * arrival window's ramp-up and read 17,050 instead of 23,546 tokens/s on 8 H100s), else 2,000. --rate is refused
 * where the arrivals are not drawn at a rate (offline, closed loop, a trace's timestamps) rather than ignored. */
static sp_status run_length(sp_request *rq, sp_serve_report *r, sp_error *err)
{
    const sp_serve_workload *w = &r->wl;
    if (!sp_req_has(rq, "requests"))
        r->opts.n_requests = w->n_trace > 0 ? w->n_trace : w->samples > 0 ? w->samples : r->opts.n_requests;
    int open = w->arrival == SP_ARR_POISSON || w->arrival == SP_ARR_GAMMA;
    if (sp_req_has(rq, "rate") && !open && !r->search)
        return sp_fail(err, SP_EINVAL, "--rate %g: the arrivals are %s, not drawn at a rate (drop --rate, or --arrival poisson)",
                       r->opts.rate, w->arrival == SP_ARR_OFFLINE ? "offline (all at t = 0)" : w->arrival == SP_ARR_CLOSED ? "a closed loop of users" : "the trace's arrival_s");
    return SP_OK;
}

/* --gpus without --tp/--ep/--pp (nor a prefill pool or --search): infer's layout choice (src/infer.c
 * sp_infer_choose_layout) at the largest batch the stack's memory holds, a loaded engine being what a rate fills
 * (docs/inference.md "Default layout"); the GPUs left over are replicas. */
static void default_layout(sp_request *rq, sp_serve_report *r)
{
    sp_serve_opts *o = &r->opts;
    if (!sp_req_has(rq, "gpus") || sp_req_has(rq, "tp") || sp_req_has(rq, "ep") || sp_req_has(rq, "pp") ||
        o->prefill_gpus > 0 || r->search || o->n_gpus < 2)
        return;
    sp_infer_opts io;
    sp_infer_defaults(&io);
    io.n_gpus = o->n_gpus, io.weights = o->weights, io.kv = o->kv, io.eff = o->eff, io.mem_frac = o->stack.mem_frac;
    io.batch = 0;
    sp_infer_choose_layout(&r->model, &r->system, &io, r->layout, sizeof r->layout);
    o->tp = io.tp, o->ep = io.ep, o->pp = io.pp;
}

sp_status sp_serve_parse(const char *data_dir, sp_request *rq, sp_serve_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    sp_serve_defaults(&r->opts);
    r->so = (sp_serve_search_opts){data_dir, 0, 64, 800, 6, 1, 0};
    const char *wl = "sharegpt", *scen = NULL, *trace = NULL;
    sp_status rc;
    if ((rc = sp_req_model(rq, data_dir, NULL, &r->model, err)) || (rc = sp_req_system(rq, data_dir, "dgx-h100", &r->system, err)) ||
        (rc = deploy_opts(rq, &r->opts, err)) || (rc = sp_req_str(rq, "workload", &wl, err)) ||
        (rc = sp_req_str(rq, "scenario", &scen, err)) || (rc = sp_req_str(rq, "trace", &trace, err)))
        return rc;
    if ((rc = sp_serve_workload_load(data_dir, wl, scen, &r->wl, err))) /* only its own errors name --workload */
        return sp_req_named(rc, strstr(err->msg, "no scenario '") ? "scenario" : "workload", err);
    if ((trace && (rc = sp_req_named(sp_serve_trace_load(trace, &r->wl, err), "trace", err))) || (rc = arrival_opt(rq, &r->wl, err)) ||
        (rc = stack_opts(data_dir, rq, r, err)) || (rc = run_length(rq, r, err)))
        sp_serve_workload_free(&r->wl);
    else
        default_layout(rq, r);
    return rc;
}

sp_status sp_serve_search_systems(const char *data_dir, const char *list, sp_system *sys, int max, int *n, sp_error *err)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == max)
            return sp_fail(err, SP_EINVAL, "--candidates: at most %d systems", max);
        sp_status rc = sp_req_named(sp_load_system(data_dir, t, &sys[(*n)++], err), "candidates", err);
        if (rc)
            return rc;
    }
    return *n > 0 ? SP_OK : sp_fail(err, SP_EINVAL, "--candidates: no system named; expected system presets such as dgx-h100,hgx-h200");
}

static sp_status call_search(const char *data_dir, sp_serve_report *r, json_t **out, sp_error *err)
{
    sp_system sys[16];
    int ns = 0, n = 0;
    sp_status rc = sp_serve_search_systems(data_dir, r->candidates, sys, 16, &ns, err);
    sp_serve_candidate *c = malloc(sizeof *c * SP_SERVE_MAX_CANDIDATES);
    if (!rc && !c)
        rc = sp_fail(err, SP_ENOMEM, "out of memory");
    if (!rc)
        rc = sp_serve_search(&r->model, sys, ns, &r->wl, &r->opts, &r->so, c, SP_SERVE_MAX_CANDIDATES, &n, err);
    if (!rc)
        *out = sp_serve_search_json(c, n, &r->so);
    free(c);
    return rc;
}

/* What the text report says beside the numbers, in the JSON too: the layout chosen over --gpus and the MTP
 * modules left unloaded (the same strings infer --json carries). */
void sp_serve_notes_json(const sp_serve_report *r, json_t *j)
{
    char note[320];
    if (r->layout[0])
        sp_json_set_str(j, "layout_chosen", r->layout);
    if (sp_infer_mtp_note(&r->model, note, sizeof note))
        sp_json_set_str(j, "mtp", note);
}

sp_status sp_call_serve(const char *data_dir, sp_request *rq, json_t **out, sp_error *err)
{
    sp_serve_report *r = malloc(sizeof *r);
    if (!r)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    sp_status rc = sp_serve_parse(data_dir, rq, r, err);
    if (!rc && r->search)
        rc = call_search(data_dir, r, out, err);
    else if (!rc) {
        sp_serve_result res;
        rc = r->max_rate ? sp_serve_max_rate(&r->model, &r->system, &r->wl, &r->opts, &res, err)
                         : sp_serve_simulate(&r->model, &r->system, &r->wl, &r->opts, &res, err);
        if (!rc) {
            *out = sp_serve_result_json(&res, &r->opts, r->model.name, r->system.name, r->wl.name);
            sp_serve_notes_json(r, *out);
            sp_serve_result_free(&res);
        }
    }
    sp_serve_workload_free(&r->wl);
    free(r);
    return rc;
}
