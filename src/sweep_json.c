/* The sweep's result object (jansson; TEAM contract: snake_case keys with SI suffixes, null for non-finite
 * numbers): every point with its best plan and step breakdown, the Pareto front, the best point and the axis
 * effects (docs/sweep.md "JSON"). */
#include "sweep_internal.h"
#include "call.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *axis_json(const sp_sweep *sw, long long i, int a)
{
    char text[512];
    double v;
    sp_sweep_axis_value(sw, i, a, text, sizeof text, &v);
    json_t *raw = sw_axis_value(sw, a, i);
    json_t *out = json_is_number(raw) || json_is_boolean(raw) ? json_incref(raw) : json_string(text);
    json_decref(raw);
    return out;
}

/* index, status, the axes' levels and the GPUs of a point (training and serving) */
static json_t *point_head(const sp_sweep *sw, const sp_sweep_point *p)
{
    json_t *o = json_object(), *ax = json_object();
    json_object_set_new(o, "index", json_integer(p->index));
    json_object_set_new(o, "status", json_string(sp_sweep_status_name(p->status)));
    for (int a = 0; a < sw->naxes; a++)
        json_object_set_new(ax, sw->ax[a].field, axis_json(sw, p->index, a));
    json_object_set_new(o, "axes", ax);
    json_object_set_new(o, "gpus", json_integer(p->gpus));
    return o;
}

/* A serving point: the deployment (null without one) and its metrics at the target rate. */
static json_t *serve_point_json(const sp_sweep *sw, const sp_sweep_point *p)
{
    json_t *o = point_head(sw, p), *d = json_null();
    if (p->tp > 0) {
        d = json_object();
        json_object_set_new(d, "replicas", json_integer(p->replicas));
        json_object_set_new(d, "tp", json_integer(p->tp));
        json_object_set_new(d, "pp", json_integer(p->pp));
        json_object_set_new(d, "ep", json_integer(p->ep));
        json_object_set_new(d, "prefill_gpus", json_integer(p->prefill_gpus));
        json_object_set_new(d, "weights", json_string(p->dtype));
        json_object_set_new(d, "kv_dtype", json_string(p->kv_dtype));
    }
    json_object_set_new(o, "deployment", d);
    static const char *const dn[] = {"rate_requests_per_s", "replica_rate_requests_per_s", "throughput_tokens_per_s",
                                     "ttft_p99_s", "tpot_p99_s", "usd_per_million_tokens", "energy_j_per_token",
                                     "tokens_per_s_per_usd", "rack_power_w", "accel_price_usd", "objective"};
    const double dv[] = {p->rate, p->replica_rate, p->tokens_per_s, p->ttft_p99_s, p->tpot_p99_s, p->usd_per_mtok,
                         p->energy_j_per_token, p->tokens_per_s_per_usd, p->rack_power_w, p->accel_price_usd,
                         p->objective};
    for (size_t k = 0; k < sizeof dv / sizeof dv[0]; k++)
        json_object_set_new(o, dn[k], num(p->status == SP_PT_OK || k == 0 || k >= 8 ? dv[k] : NAN));
    json_object_set_new(o, "note", *p->note ? json_string(p->note) : json_null());
    return o;
}

static json_t *point_json(const sp_sweep *sw, const sp_sweep_point *p)
{
    if (sw->serve)
        return serve_point_json(sw, p);
    json_t *o = point_head(sw, p), *plan = json_object(), *t = json_object();
    json_object_set_new(o, "global_batch", json_integer(p->global_batch));
    json_object_set_new(o, "seq_len", json_integer(p->seq_len));
    if (p->tp > 0) {
        json_object_set_new(plan, "tp", json_integer(p->tp));
        json_object_set_new(plan, "pp", json_integer(p->pp));
        json_object_set_new(plan, "dp", json_integer(p->dp));
        json_object_set_new(plan, "cp", json_integer(p->cp));
        json_object_set_new(plan, "ep", json_integer(p->ep));
        json_object_set_new(plan, "vpp", json_integer(p->vpp));
        json_object_set_new(plan, "schedule", json_string(p->schedule));
        json_object_set_new(plan, "micro_batch", json_integer(p->micro_batch));
        json_object_set_new(plan, "recompute", json_string(sp_recompute_name((sp_recompute)p->recompute)));
        json_object_set_new(plan, "sequence_parallel", json_boolean(p->seq_parallel));
        json_object_set_new(plan, "zero", json_integer(p->zero));
        json_object_set_new(plan, "etp", json_integer(p->etp));
        json_object_set_new(plan, "ep_fold", json_boolean(p->ep_fold));
        json_object_set_new(plan, "dtype", json_string(p->dtype));
    }
    json_object_set_new(o, "plan", p->tp > 0 ? plan : json_null());
    if (p->tp <= 0)
        json_decref(plan);
    static const char *const dn[] = {"step_time_s", "mfu", "tokens_per_s", "memory_per_gpu_bytes", "tokens", "time_s",
                                     "energy_j", "cost_usd", "cloud_usd", "tokens_per_s_per_usd", "rack_power_w",
                                     "accel_price_usd", "objective"};
    const double dv[] = {p->step_time_s, p->mfu, p->tokens_per_s, p->memory_bytes, p->tokens, p->time_s, p->energy_j,
                         p->cost_usd, p->cloud_usd, p->tokens_per_s_per_usd, p->rack_power_w, p->accel_price_usd,
                         p->objective};
    for (size_t k = 0; k < sizeof dv / sizeof dv[0]; k++)
        json_object_set_new(o, dn[k], num(dv[k]));
    static const char *const tn[] = {"compute_s", "memory_bound_s", "recompute_s", "tp_comm_s", "cp_comm_s", "ep_comm_s",
                                     "pp_comm_s", "dp_comm_s", "bubble_s", "optimizer_s", "imbalance_s"};
    const double tv[] = {p->t.compute, p->t.memory_bound, p->t.recompute, p->t.tp_comm, p->t.cp_comm, p->t.ep_comm,
                         p->t.pp_comm, p->t.dp_comm, p->t.bubble, p->t.optimizer, p->t.imbalance};
    for (size_t k = 0; k < sizeof tv / sizeof tv[0]; k++)
        json_object_set_new(t, tn[k], num(p->tp > 0 ? tv[k] : NAN));
    json_object_set_new(o, "breakdown", t);
    json_object_set_new(o, "bottleneck", *p->bottleneck ? json_string(p->bottleneck) : json_null());
    json_object_set_new(o, "note", *p->note ? json_string(p->note) : json_null());
    return o;
}

static json_t *effects_json(const sp_sweep *sw, const sp_sweep_effect *e)
{
    int order[SP_SWEEP_MAX_AXES];
    for (int a = 0; a < sw->naxes; a++)
        order[a] = a;
    for (int a = 1; a < sw->naxes; a++) /* by swing, largest first (NaN last); stable */
        for (int b = a; b > 0; b--) {
            double x = e[order[b]].swing, y = e[order[b - 1]].swing;
            if (!(isfinite(x) && (!isfinite(y) || x > y)))
                break;
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    json_t *arr = json_array();
    for (int r = 0; r < sw->naxes; r++) {
        const sp_sweep_effect *x = &e[order[r]];
        json_t *o = json_object(), *lv = json_array();
        json_object_set_new(o, "field", json_string(sw->ax[x->axis].field));
        json_object_set_new(o, "base_objective", num(x->base_obj));
        json_object_set_new(o, "swing", num(x->swing));
        json_object_set_new(o, "elasticity", num(x->elasticity));
        for (int k = 0; k < x->n; k++) {
            json_t *l = json_object();
            json_object_set_new(l, "value", json_string(x->label[k]));
            json_object_set_new(l, "objective", num(x->obj[k]));
            json_array_append_new(lv, l);
        }
        json_object_set_new(o, "levels", lv);
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *summary_json(const sp_sweep *sw, const sp_sweep_point *pts, long long n, json_t *root)
{
    static const char *const objs[] = {"time", "cost", "energy", "tokens_per_s_per_usd", "tokens", "usd_per_mtok"};
    static const char *const designs[] = {"grid", "random", "lhs"};
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", sw->hash);
    json_object_set_new(root, "name", json_string(sw->name));
    json_object_set_new(root, "spec_hash", json_string(hash));
    json_object_set_new(root, "design", json_string(designs[sw->design]));
    json_object_set_new(root, "objective", json_string(objs[sw->obj]));
    json_object_set_new(root, "cost_basis", json_string(sw->serve ? "cloud" : sw->cost_cloud ? "cloud" : "own"));
    json_object_set_new(root, "workload", json_string(sw->serve ? "serve" : "train"));
    json_t *fk = json_array(); /* the point keys of the Pareto front's three coordinates */
    static const char *const ftrain[] = {"time_s", "cost_usd", "energy_j"};
    static const char *const fserve[] = {"tpot_p99_s", "usd_per_million_tokens", "energy_j_per_token"};
    for (int k = 0; k < 3; k++)
        json_array_append_new(fk, json_string(sw->serve ? fserve[k] : ftrain[k]));
    json_object_set_new(root, "pareto_keys", fk);
    json_object_set_new(root, "points_total", json_integer(sw->n));
    json_t *counts = json_object();
    long long c[SP_PT_INVALID + 1] = {0}, best = -1;
    for (long long i = 0; i < n; i++) {
        c[pts[i].status]++;
        if (pts[i].status == SP_PT_OK && isfinite(pts[i].objective) && (best < 0 || pts[i].objective < pts[best].objective))
            best = i;
    }
    for (int s = 0; s <= SP_PT_INVALID; s++)
        json_object_set_new(counts, sp_sweep_status_name(s), json_integer(c[s]));
    json_object_set_new(root, "counts", counts);
    json_object_set_new(root, "best", best >= 0 ? json_integer(best) : json_null());
    return root;
}

void *sp_sweep_result_json(const sp_sweep *sw, const sp_sweep_point *pts, long long n, sp_error *err)
{
    json_t *root = json_object();
    long long *front = malloc(sizeof *front * (size_t)(n > 0 ? n : 1));
    sp_sweep_effect *eff = malloc(sizeof *eff * SP_SWEEP_MAX_AXES);
    if (!root || !front || !eff) {
        json_decref(root);
        free(front);
        free(eff);
        sp_fail(err, SP_ENOMEM, "sweep: out of memory");
        return NULL;
    }
    summary_json(sw, pts, n, root);
    long long nf = sp_sweep_pareto(pts, n, front);
    json_t *pf = json_array();
    for (long long k = 0; k < nf; k++)
        json_array_append_new(pf, json_integer(front[k]));
    json_object_set_new(root, "pareto", pf);
    sp_sweep_effects(sw, eff, err);
    json_object_set_new(root, "effects", effects_json(sw, eff));
    json_t *arr = json_array();
    for (long long i = 0; i < n; i++)
        json_array_append_new(arr, point_json(sw, &pts[i]));
    json_object_set_new(root, "points", arr);
    free(front);
    free(eff);
    return root;
}

/* sp_call("sweep", {"spec": PATH or an inline spec object}): the whole sweep on this thread, the result object.
 * (The CLI's --out, --resume and --plot are about files and stay in the CLI.) */
static void keep(void *ctx, const sp_sweep_point *p) { ((sp_sweep_point *)ctx)[p->index] = *p; }

sp_status sp_call_sweep(const char *data_dir, sp_request *rq, json_t **out, sp_error *err)
{
    *out = NULL;
    json_t *spec = sp_req_has(rq, "spec") ? json_object_get(rq->obj, "spec") : NULL;
    sp_status st = sp_request_check_unused(rq, err);
    if (st)
        return st;
    if (!json_is_string(spec) && !json_is_object(spec))
        return sp_fail(err, SP_EINVAL, "--spec: expected a sweep specification (a path to a JSON file, or the object)");
    sp_sweep *sw = NULL;
    char *text = json_is_object(spec) ? json_dumps(spec, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    st = text ? sp_sweep_parse(data_dir, "spec", text, strlen(text), &sw, err)
              : json_is_object(spec) ? sp_fail(err, SP_ENOMEM, "out of memory")
                                     : sp_sweep_load(data_dir, json_string_value(spec), &sw, err);
    free(text);
    sp_sweep_point *pts = st ? NULL : calloc((size_t)sp_sweep_count(sw), sizeof *pts);
    if (!st && !pts)
        st = sp_fail(err, SP_ENOMEM, "sweep: out of memory for %lld points", sp_sweep_count(sw));
    sp_sweep_run_opts o;
    sp_sweep_run_defaults(&o);
    o.emit = keep;
    o.ctx = pts;
    if (!st)
        st = sp_sweep_run(sw, &o, err);
    if (!st && !(*out = sp_sweep_result_json(sw, pts, sp_sweep_count(sw), err)))
        st = err && err->status ? err->status : SP_ENOMEM;
    free(pts);
    sp_sweep_free(sw);
    return st;
}
