/* Serving presets: engine stacks (data/serving/NAME.json), workloads (data/workloads/NAME.json) and request traces
 * (CSV). Every field is range-checked; an error names the file, the field and what is allowed (docs/serving.md
 * "Presets"). Unknown keys are refused by name so that a feature the simulator does not model is never silently
 * ignored. */
#include "scaleplan.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void sp_serve_stack_defaults(sp_serve_stack *st)
{
    memset(st, 0, sizeof *st);
    snprintf(st->name, sizeof st->name, "vllm");
    st->policy = SP_SCHED_MIXED;
    st->chunked_prefill = 1;
    st->max_num_tokens = 8192; /* vLLM v1 default max_num_batched_tokens for online serving (docs/serving.md) */
    st->max_num_seqs = 256;    /* vLLM default max_num_seqs */
    st->kv_block = 16;         /* vLLM default block_size */
    st->prefix_caching = 1;
    st->cuda_graphs = 1;
    st->mem_frac = 0.9;        /* vLLM gpu_memory_utilization default */
    st->step_overhead_s = 0;
    st->kernel_factor = 1;
}

void sp_serve_defaults(sp_serve_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_gpus = 1;
    o->tp = o->pp = o->ep = 1;
    o->weights = o->kv = SP_BF16;
    o->rate = 1;
    o->n_requests = 2000;
    o->seed = 1;
    sp_serve_stack_defaults(&o->stack);
    sp_serving_eff_neutral(&o->eff);
}

static void preset_path(const char *data_dir, const char *sub, const char *name, char *out, size_t n)
{
    if (strchr(name, '/') || strstr(name, ".json"))
        snprintf(out, n, "%s", name);
    else
        snprintf(out, n, "%s/%s/%s.json", data_dir, sub, name);
}

/* Number field in [lo, hi]; absent leaves *v. */
static sp_status num(json_t *o, const char *path, const char *key, double lo, double hi, double *v, sp_error *err)
{
    json_t *x = json_object_get(o, key);
    if (!x)
        return SP_OK;
    if (!json_is_number(x) || !(json_number_value(x) >= lo && json_number_value(x) <= hi))
        return sp_fail(err, SP_EINVAL, "%s: field '%s' must be a number in %g..%g", path, key, lo, hi);
    *v = json_number_value(x);
    return SP_OK;
}

static sp_status inum(json_t *o, const char *path, const char *key, int lo, int hi, int *v, sp_error *err)
{
    double d = *v;
    sp_status rc = num(o, path, key, lo, hi, &d, err);
    if (!rc && d != floor(d))
        return sp_fail(err, SP_EINVAL, "%s: field '%s' must be an integer in %d..%d", path, key, lo, hi);
    *v = (int)d;
    return rc;
}

static sp_status flag(json_t *o, const char *path, const char *key, int *v, sp_error *err)
{
    json_t *x = json_object_get(o, key);
    if (!x)
        return SP_OK;
    if (!json_is_boolean(x))
        return sp_fail(err, SP_EINVAL, "%s: field '%s' must be true or false", path, key);
    *v = json_is_true(x);
    return SP_OK;
}

/* Refuses keys outside `allowed` (NULL-terminated). */
static sp_status known_keys(json_t *o, const char *path, const char *const *allowed, sp_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            ok |= strcmp(k, allowed[i]) == 0;
        if (!ok)
            return sp_fail(err, SP_EINVAL, "%s: field '%s' is not modelled (known: see docs/serving.md \"Presets\")", path, k);
    }
    return SP_OK;
}

/* The preset or file `name` of data/SUB (path: where it was looked for). A preset name that is not there is
 * refused with the presets that are (and the nearest one), not with the path it was looked for at. */
static json_t *load_obj(const char *data_dir, const char *sub, const char *name, const char *path, sp_error *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root && je.line < 0 && !strchr(name, '/') && !strstr(name, ".json")) {
        char list[SP_PRESET_LIST_MAX], shown[768], near[128], dym[160] = "";
        sp_list_presets(data_dir, sub, list, sizeof list);
        /* data/serving/calibration.json is the stacks' family calibration (sp_serve_calibrate), not a stack */
        char *cal = strcmp(sub, "serving") == 0 ? strstr(list, "calibration, ") : NULL;
        if (cal)
            memmove(cal, cal + 13, strlen(cal + 13) + 1);
        if (sp_suggest(name, list, near, sizeof near))
            snprintf(dym, sizeof dym, " (did you mean '%s'?)", near);
        sp_preset_choices(list, strlen(name) + strlen(dym), "the data directory", shown, sizeof shown);
        sp_fail(err, SP_EIO, "unknown %s preset '%s'%s; available: %s (or give a path to a .json file)", sub, name, dym,
                shown);
        return NULL;
    }
    if (!root) {
        sp_fail(err, je.line < 0 ? SP_EIO : SP_EPARSE, "%s:%d: %s", path, je.line, je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        sp_fail(err, SP_EPARSE, "%s: expected a JSON object", path);
        return NULL;
    }
    return root;
}

/* Power-limited clock: a compute-bound GEMM's time scales with 1 / clock, so a kernel factor measured at
 * kernel_clock_mhz becomes kernel_factor x kernel_clock_mhz / clock_mhz at the clock the preset runs at (AMD caps
 * MI325X at 1,700 MHz offline and 1,600 MHz server in MLPerf v5.0; data/serving/vllm-rocm-mlperf50-*.json). */
static sp_status stack_clock(const char *path, sp_serve_stack *st, sp_error *err)
{
    if ((st->clock_mhz > 0) != (st->kernel_clock_mhz > 0))
        return sp_fail(err, SP_EINVAL, "%s: fields 'clock_mhz' and 'kernel_clock_mhz' go together (the clock the preset "
                       "runs at and the clock its kernel_factor was measured at)", path);
    if (st->clock_mhz > 0)
        st->kernel_factor *= st->kernel_clock_mhz / st->clock_mhz;
    return SP_OK;
}

sp_status sp_serve_stack_load(const char *data_dir, const char *name, sp_serve_stack *st, sp_error *err)
{
    sp_serve_stack_defaults(st);
    char path[1400];
    preset_path(data_dir, "serving", name, path, sizeof path);
    json_t *root = load_obj(data_dir, "serving", name, path, err);
    if (!root)
        return err->status ? err->status : SP_EIO;
    static const char *const keys[] = {"name", "description", "policy", "chunked_prefill", "max_num_tokens", "max_num_seqs",
                                       "kv_block", "prefix_caching", "cuda_graphs", "no_evict", "mem_frac", "step_overhead_s",
                                       "kernel_factor", "prefill_min_free_kv", "prefill_hold_s", "prefill_hold_min",
                                       "clock_mhz", "kernel_clock_mhz", "sources", NULL};
    sp_status rc = known_keys(root, path, keys, err);
    const char *nm = json_string_value(json_object_get(root, "name"));
    snprintf(st->name, sizeof st->name, "%s", nm ? nm : name);
    const char *pol = json_string_value(json_object_get(root, "policy"));
    if (!rc && pol && strcmp(pol, "mixed") && strcmp(pol, "prefill-first"))
        rc = sp_fail(err, SP_EINVAL, "%s: field 'policy' is '%s'; allowed mixed, prefill-first", path, pol);
    if (pol && strcmp(pol, "prefill-first") == 0)
        st->policy = SP_SCHED_PREFILL_FIRST;
    if (!rc)
        rc = flag(root, path, "chunked_prefill", &st->chunked_prefill, err);
    if (!rc)
        rc = flag(root, path, "prefix_caching", &st->prefix_caching, err);
    if (!rc)
        rc = flag(root, path, "cuda_graphs", &st->cuda_graphs, err);
    if (!rc)
        rc = flag(root, path, "no_evict", &st->no_evict, err);
    if (!rc)
        rc = inum(root, path, "max_num_tokens", 16, 1 << 20, &st->max_num_tokens, err);
    if (!rc)
        rc = inum(root, path, "max_num_seqs", 1, 1 << 16, &st->max_num_seqs, err);
    if (!rc)
        rc = inum(root, path, "kv_block", 1, 4096, &st->kv_block, err);
    if (!rc)
        rc = num(root, path, "mem_frac", 0.05, 1, &st->mem_frac, err);
    if (!rc)
        rc = num(root, path, "step_overhead_s", 0, 1, &st->step_overhead_s, err);
    if (!rc)
        rc = num(root, path, "kernel_factor", 0.1, 10, &st->kernel_factor, err);
    if (!rc)
        rc = num(root, path, "prefill_min_free_kv", 0, 1, &st->prefill_min_free_kv, err);
    if (!rc)
        rc = num(root, path, "prefill_hold_s", 0, 3600, &st->prefill_hold_s, err);
    if (!rc)
        rc = inum(root, path, "prefill_hold_min", 0, 1 << 20, &st->prefill_hold_min, err);
    if (!rc)
        rc = num(root, path, "clock_mhz", 0, 1e5, &st->clock_mhz, err);
    if (!rc)
        rc = num(root, path, "kernel_clock_mhz", 0, 1e5, &st->kernel_clock_mhz, err);
    json_decref(root);
    return rc ? rc : stack_clock(path, st, err);
}

static sp_status len_dist(json_t *root, const char *path, const char *key, sp_len_dist *d, sp_error *err)
{
    json_t *o = json_object_get(root, key);
    if (!json_is_object(o))
        return sp_fail(err, SP_EINVAL, "%s: field '%s' must be an object {\"dist\": fixed|uniform|lognormal, ...}", path, key);
    static const char *const keys[] = {"dist", "mean", "cv", "lo", "hi", "source", NULL};
    sp_status rc = known_keys(o, path, keys, err);
    if (rc)
        return rc;
    const char *k = json_string_value(json_object_get(o, "dist"));
    memset(d, 0, sizeof *d);
    d->lo = 1;
    d->hi = 1 << 20;
    if (!k || (strcmp(k, "fixed") && strcmp(k, "uniform") && strcmp(k, "lognormal")))
        return sp_fail(err, SP_EINVAL, "%s: field '%s.dist' must be fixed, uniform or lognormal", path, key);
    d->kind = k[0] == 'f' ? SP_LEN_FIXED : k[0] == 'u' ? SP_LEN_UNIFORM : SP_LEN_LOGNORMAL;
    if ((rc = num(o, path, "mean", 1, 1 << 20, &d->mean, err)) || (rc = num(o, path, "cv", 0, 20, &d->cv, err)) ||
        (rc = inum(o, path, "lo", 1, 1 << 20, &d->lo, err)) || (rc = inum(o, path, "hi", 1, 1 << 20, &d->hi, err)))
        return rc;
    if (d->lo > d->hi)
        return sp_fail(err, SP_EINVAL, "%s: field '%s': lo %d exceeds hi %d", path, key, d->lo, d->hi);
    if (d->kind != SP_LEN_UNIFORM && !(d->mean >= 1))
        return sp_fail(err, SP_EINVAL, "%s: field '%s.mean' is required (>= 1 token)", path, key);
    return SP_OK;
}

static sp_status scenario(json_t *root, const char *path, const char *want, sp_serve_workload *w, sp_error *err)
{
    json_t *sc = json_object_get(root, "scenarios");
    const char *dflt = json_string_value(json_object_get(root, "default_scenario"));
    const char *name = want ? want : dflt;
    if (!name)
        return SP_OK;
    json_t *s = json_object_get(sc, name);
    if (!json_is_object(s))
        return sp_fail(err, SP_EINVAL, "%s: no scenario '%s' (field 'scenarios'; allowed: those the file lists)", path, name);
    snprintf(w->scenario, sizeof w->scenario, "%s", name);
    static const char *const keys[] = {"ttft_p99_s", "tpot_p99_s", "offline", "source", NULL};
    sp_status rc = known_keys(s, path, keys, err);
    if (!rc)
        rc = num(s, path, "ttft_p99_s", 0, 1e6, &w->ttft_slo_s, err);
    if (!rc)
        rc = num(s, path, "tpot_p99_s", 0, 1e6, &w->tpot_slo_s, err);
    int off = strcmp(name, "offline") == 0;
    if (!rc)
        rc = flag(s, path, "offline", &off, err);
    if (off)
        w->arrival = SP_ARR_OFFLINE;
    return rc;
}

static sp_status arrival(json_t *root, const char *path, sp_serve_workload *w, sp_error *err)
{
    const char *a = json_string_value(json_object_get(root, "arrival"));
    if (!a || strcmp(a, "poisson") == 0)
        w->arrival = SP_ARR_POISSON;
    else if (strcmp(a, "gamma") == 0)
        w->arrival = SP_ARR_GAMMA;
    else if (strcmp(a, "closed") == 0)
        w->arrival = SP_ARR_CLOSED;
    else if (strcmp(a, "offline") == 0)
        w->arrival = SP_ARR_OFFLINE;
    else
        return sp_fail(err, SP_EINVAL, "%s: field 'arrival' is '%s'; allowed poisson, gamma, closed, offline", path, a);
    w->cv = 1;
    w->users = 0;
    sp_status rc = num(root, path, "cv", 0.05, 100, &w->cv, err);
    if (!rc)
        rc = inum(root, path, "users", 1, 1 << 20, &w->users, err);
    if (!rc)
        rc = num(root, path, "think_s", 0, 1e6, &w->think_s, err);
    if (!rc && w->arrival == SP_ARR_CLOSED && w->users < 1)
        rc = sp_fail(err, SP_EINVAL, "%s: a closed loop needs field 'users' (>= 1)", path);
    return rc;
}

sp_status sp_serve_workload_load(const char *data_dir, const char *name, const char *scen, sp_serve_workload *w,
                                 sp_error *err)
{
    memset(w, 0, sizeof *w);
    char path[1400];
    preset_path(data_dir, "workloads", name, path, sizeof path);
    json_t *root = load_obj(data_dir, "workloads", name, path, err);
    if (!root)
        return err->status ? err->status : SP_EIO;
    static const char *const keys[] = {"name", "description", "source", "arrival", "cv", "users", "think_s", "prompt",
                                       "output", "prefix_tokens", "prefix_groups", "scenarios", "default_scenario",
                                       "model", "samples", "samples_source", NULL};
    sp_status rc = known_keys(root, path, keys, err);
    const char *nm = json_string_value(json_object_get(root, "name"));
    snprintf(w->name, sizeof w->name, "%s", nm ? nm : name);
    const char *src = json_string_value(json_object_get(root, "source"));
    snprintf(w->source, sizeof w->source, "%s", src ? src : "");
    if (!rc)
        rc = arrival(root, path, w, err);
    if (!rc)
        rc = len_dist(root, path, "prompt", &w->prompt, err);
    if (!rc)
        rc = len_dist(root, path, "output", &w->output, err);
    if (!rc)
        rc = inum(root, path, "prefix_tokens", 0, 1 << 20, &w->prefix_tokens, err);
    if (!rc)
        rc = inum(root, path, "prefix_groups", 0, 65536, &w->prefix_groups, err);
    if (!rc)
        rc = inum(root, path, "samples", 0, 1 << 24, &w->samples, err);
    if (!rc && w->prefix_tokens > 0 && w->prefix_groups < 1)
        w->prefix_groups = 1;
    if (!rc)
        rc = scenario(root, path, scen, w, err);
    json_decref(root);
    return rc;
}

void sp_serve_workload_free(sp_serve_workload *w)
{
    free(w->trace_t);
    free(w->trace_prompt);
    free(w->trace_output);
    w->trace_t = NULL;
    w->trace_prompt = w->trace_output = NULL;
    w->n_trace = 0;
}

static sp_status trace_rows(const sp_csv *c, sp_serve_workload *w, int has_t, sp_error *err)
{
    int n = sp_csv_rows(c);
    double prev = 0;
    for (int i = 0; i < n; i++) {
        sp_status rc;
        if ((rc = sp_csv_int(c, i, "prompt_tokens", -1, 1, 1 << 20, &w->trace_prompt[i], err)) ||
            (rc = sp_csv_int(c, i, "output_tokens", -1, 1, 1 << 20, &w->trace_output[i], err)))
            return rc;
        if (w->trace_prompt[i] < 1 || w->trace_output[i] < 1)
            return sp_fail(err, SP_EINVAL, "%s:%d: prompt_tokens and output_tokens must be integers >= 1 (empty cell)",
                           sp_csv_path(c), sp_csv_line(c, i));
        if (has_t) {
            if ((rc = sp_csv_double(c, i, "arrival_s", -1, 0, 1e9, &w->trace_t[i], err)))
                return rc;
            if (w->trace_t[i] < 0)
                return sp_fail(err, SP_EINVAL, "%s:%d: arrival_s is empty; allowed seconds >= 0", sp_csv_path(c), sp_csv_line(c, i));
            if (w->trace_t[i] < prev)
                return sp_fail(err, SP_EINVAL, "%s:%d: arrival_s %g is earlier than the previous row's %g; rows must be in time order",
                               sp_csv_path(c), sp_csv_line(c, i), w->trace_t[i], prev);
            prev = w->trace_t[i];
        }
    }
    return SP_OK;
}

sp_status sp_serve_trace_load(const char *path, sp_serve_workload *w, sp_error *err)
{
    sp_serve_workload_free(w);
    sp_csv *c;
    sp_status rc = sp_csv_read(path, &c, err);
    if (rc)
        return rc;
    int n = sp_csv_rows(c);
    if (n < 1 || sp_csv_col(c, "prompt_tokens") < 0 || sp_csv_col(c, "output_tokens") < 0) {
        rc = sp_fail(err, SP_EINVAL, "%s: a trace needs columns prompt_tokens, output_tokens (and optionally arrival_s) and at least one row",
                     path);
        sp_csv_free(c);
        return rc;
    }
    int has_t = sp_csv_col(c, "arrival_s") >= 0;
    w->trace_t = malloc(sizeof(double) * n);
    w->trace_prompt = malloc(sizeof(int) * n);
    w->trace_output = malloc(sizeof(int) * n);
    if (!w->trace_t || !w->trace_prompt || !w->trace_output)
        rc = sp_fail(err, SP_ENOMEM, "%s: out of memory for %d rows", path, n);
    else
        rc = trace_rows(c, w, has_t, err);
    sp_csv_free(c);
    if (rc) {
        sp_serve_workload_free(w);
        return rc;
    }
    w->n_trace = n;
    w->prompt.kind = w->output.kind = SP_LEN_TRACE;
    if (has_t)
        w->arrival = SP_ARR_TRACE;
    return SP_OK;
}
