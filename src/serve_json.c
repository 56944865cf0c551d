/* JSON result of `serve` (TEAM.md contract: snake_case keys with SI suffixes, never NaN or inf: null instead). */
#include "scaleplan.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void pcts(json_t *o, const char *name, const double v[4])
{
    static const char *sfx[] = {"p50", "p90", "p99", "mean"};
    char k[64];
    for (int i = 0; i < 4; i++) {
        snprintf(k, sizeof k, "%s_%s_s", name, sfx[i]);
        json_object_set_new(o, k, num(v[i]));
    }
}

json_t *sp_serve_result_json(const sp_serve_result *r, const sp_serve_opts *o, const char *model, const char *system,
                             const char *workload)
{
    json_t *j = json_object();
    json_object_set_new(j, "model", json_string(model));
    json_object_set_new(j, "system", json_string(system));
    json_object_set_new(j, "workload", json_string(workload));
    json_object_set_new(j, "software", json_string(o->stack.name));
    json_object_set_new(j, "gpus", json_integer(o->n_gpus));
    json_object_set_new(j, "tp", json_integer(o->tp));
    json_object_set_new(j, "pp", json_integer(o->pp));
    json_object_set_new(j, "ep", json_integer(o->ep));
    json_object_set_new(j, "prefill_gpus", json_integer(o->prefill_gpus));
    json_object_set_new(j, "replicas", json_integer(r->replicas));
    json_object_set_new(j, "weights", json_string(sp_dtype_name(o->weights)));
    json_object_set_new(j, "kv_dtype", json_string(sp_dtype_name(o->kv)));
    json_object_set_new(j, "rate_requests_per_s", num(r->offered_rate));
    json_object_set_new(j, "requests", json_integer(r->n_requests));
    json_object_set_new(j, "duration_s", num(r->duration_s));
    json_object_set_new(j, "throughput_tokens_per_s", num(r->throughput_tokens_per_s));
    json_object_set_new(j, "input_tokens_per_s", num(r->input_tokens_per_s));
    json_object_set_new(j, "goodput_tokens_per_s", num(r->goodput_tokens_per_s));
    json_object_set_new(j, "requests_per_s", num(r->requests_per_s));
    json_object_set_new(j, "goodput_requests_per_s", num(r->goodput_requests_per_s));
    json_object_set_new(j, "slo_attainment", num(r->slo_attainment));
    json_object_set_new(j, "ttft_slo_s", r->ttft_slo_s > 0 ? json_real(r->ttft_slo_s) : json_null());
    json_object_set_new(j, "tpot_slo_s", r->tpot_slo_s > 0 ? json_real(r->tpot_slo_s) : json_null());
    json_object_set_new(j, "slo_met", json_boolean(r->slo_met));
    pcts(j, "ttft", r->ttft_s);
    pcts(j, "tpot", r->tpot_s);
    pcts(j, "e2e", r->e2e_s);
    json_object_set_new(j, "queue_mean", num(r->queue_mean));
    json_object_set_new(j, "queue_max", num(r->queue_max));
    json_object_set_new(j, "kv_occupancy_mean", num(r->kv_occupancy_mean));
    json_object_set_new(j, "kv_occupancy_max", num(r->kv_occupancy_max));
    json_object_set_new(j, "kv_capacity_tokens", num(r->kv_capacity_tokens));
    json_object_set_new(j, "mean_batch", num(r->mean_batch));
    json_object_set_new(j, "steps", json_integer(r->steps));
    json_object_set_new(j, "preemptions", json_integer(r->preemptions));
    json_object_set_new(j, "prefix_hit_rate", num(r->prefix_hit_rate));
    json_object_set_new(j, "kv_transfer_mean_s", num(r->kv_transfer_s));
    json_object_set_new(j, "mfu", num(r->mfu));
    json_object_set_new(j, "power_w", num(r->power_w));
    json_object_set_new(j, "energy_j_per_token", num(r->energy_j_per_token));
    json_object_set_new(j, "energy_j_per_request", num(r->energy_j_per_request));
    json_object_set_new(j, "usd_per_million_tokens", num(r->usd_per_million_tokens));
    return j;
}

static json_t *candidate_json(const sp_serve_candidate *c)
{
    json_t *j = json_object();
    json_object_set_new(j, "system", json_string(c->system));
    json_object_set_new(j, "gpus", json_integer(c->gpus));
    json_object_set_new(j, "tp", json_integer(c->tp));
    json_object_set_new(j, "pp", json_integer(c->pp));
    json_object_set_new(j, "ep", json_integer(c->ep));
    json_object_set_new(j, "prefill_gpus", json_integer(c->prefill_gpus));
    json_object_set_new(j, "weights", json_string(sp_dtype_name(c->weights)));
    json_object_set_new(j, "kv_dtype", json_string(sp_dtype_name(c->kv)));
    json_object_set_new(j, "meets_slos", json_boolean(c->ok));
    json_object_set_new(j, "replica_max_rate_requests_per_s", num(c->replica_rate));
    json_object_set_new(j, "usd_per_gpu_hour", num(c->usd_per_gpu_hour));
    json_object_set_new(j, "usd_per_million_tokens", c->ok ? num(c->usd_per_million_tokens) : json_null());
    json_object_set_new(j, "energy_j_per_token", c->ok ? num(c->energy_j_per_token) : json_null());
    json_object_set_new(j, "throughput_tokens_per_s", c->ok ? num(c->throughput_tokens_per_s) : json_null());
    json_object_set_new(j, "ttft_p99_s", c->ok ? num(c->ttft_p99_s) : json_null());
    json_object_set_new(j, "tpot_p99_s", c->ok ? num(c->tpot_p99_s) : json_null());
    json_object_set_new(j, "why_not", c->ok ? json_null() : json_string(c->why));
    return j;
}

json_t *sp_serve_search_json(const sp_serve_candidate *c, int n, const sp_serve_search_opts *so)
{
    json_t *j = json_object(), *arr = json_array();
    json_object_set_new(j, "target_rate_requests_per_s", num(so->rate));
    json_object_set_new(j, "max_gpus", json_integer(so->max_gpus));
    json_object_set_new(j, "best", n > 0 && c[0].ok ? candidate_json(&c[0]) : json_null());
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, candidate_json(&c[i]));
    json_object_set_new(j, "candidates", arr);
    return j;
}

/* serve --validate: each row (error_pct null and a note when not evaluated) and the MAPE per accelerator family
 * and MLPerf round, in the order the families first appear. */
json_t *sp_serve_validate_json(const sp_serve_vrow *v, int n)
{
    json_t *o = json_object(), *rows = json_array(), *mape = json_array();
    for (int i = 0; i < n; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "id", json_string(v[i].id));
        json_object_set_new(r, "family", json_string(v[i].family));
        json_object_set_new(r, "round", json_string(v[i].round));
        json_object_set_new(r, "scenario", json_string(v[i].scenario));
        json_object_set_new(r, "predicted_tokens_per_s", num(v[i].predicted));
        json_object_set_new(r, "measured_tokens_per_s", num(v[i].measured));
        json_object_set_new(r, "error_pct", num(v[i].err_pct));
        if (!isfinite(v[i].predicted))
            json_object_set_new(r, "note", json_string(v[i].note));
        json_array_append_new(rows, r);
    }
    for (int i = 0; i < n; i++) {
        int seen = 0, k = 0;
        double sum = 0;
        for (int j = 0; j < i; j++)
            seen |= strcmp(v[j].family, v[i].family) == 0 && strcmp(v[j].round, v[i].round) == 0;
        for (int j = i; j < n && !seen; j++)
            if (strcmp(v[j].family, v[i].family) == 0 && strcmp(v[j].round, v[i].round) == 0 && isfinite(v[j].err_pct)) {
                sum += fabs(v[j].err_pct);
                k++;
            }
        if (seen || k == 0)
            continue;
        json_t *m = json_object();
        json_object_set_new(m, "family", json_string(v[i].family));
        json_object_set_new(m, "round", json_string(v[i].round));
        json_object_set_new(m, "n", json_integer(k));
        json_object_set_new(m, "mape_pct", json_real(sum / k));
        json_array_append_new(mape, m);
    }
    json_object_set_new(o, "rows", rows);
    json_object_set_new(o, "mape", mape);
    return o;
}
