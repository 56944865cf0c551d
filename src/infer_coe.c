/* Composition of experts (CoE) on tiered memory (DESIGN.md §3.10; Prabhakar et al. 2024, "SambaNova SN40L:
 * Scaling the AI Memory Wall with Dataflow and Composition of Experts", arXiv:2405.07518).
 *
 * Many separately trained expert models sit behind a router; each request goes to one expert with probability
 * `share`. Every expert runs tensor-parallel over all sockets of the node. Placement: experts are kept resident in
 * HBM greedily by share per byte (the knapsack's fractional order), leaving one swap slot as large as the largest
 * non-resident expert plus the KV cache and working set of the running batch; the others live in the first
 * capacity tier below HBM with room. A batch for a non-resident expert first copies its weights into the swap slot:
 * switch time = expert bytes / (sockets x tier bandwidth). Latency of a batch = expected switch + the expert's
 * serving time (sp_infer_eval: prefill + decode); throughput = batch x output / that latency.
 */
#include "scaleplan.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static sp_status qty(json_t *o, const char *key, sp_unit u, const char *path, double *out, sp_error *err)
{
    json_t *v = json_object_get(o, key);
    if (json_is_number(v)) {
        *out = json_number_value(v);
    } else if (json_is_string(v)) {
        char what[1500];
        snprintf(what, sizeof what, "%s: memory_tiers field '%s'", path, key);
        sp_status st = sp_parse_quantity(json_string_value(v), u, what, out, err);
        if (st)
            return st;
    } else
        return sp_fail(err, SP_EINVAL, "%s: memory_tiers entry needs field '%s' (a number or a quantity string)", path, key);
    if (!(*out > 0 && isfinite(*out)))
        return sp_fail(err, SP_EINVAL, "%s: memory_tiers field '%s' must be > 0", path, key);
    return SP_OK;
}

sp_status sp_load_memory_tiers(const char *data_dir, const char *system, sp_mem_tier *t, int *n, sp_error *err)
{
    *n = 0;
    char path[1400];
    if (strchr(system, '/') || strstr(system, ".json"))
        snprintf(path, sizeof path, "%s", system);
    else
        snprintf(path, sizeof path, "%s/systems/%s.json", data_dir, system);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return sp_fail(err, SP_EPARSE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    sp_status rc = SP_OK;
    json_t *arr = json_object_get(root, "memory_tiers");
    if (!arr)
        goto done;
    if (!json_is_array(arr) || json_array_size(arr) > SP_MAX_MEM_TIERS) {
        rc = sp_fail(err, SP_EINVAL, "%s: field 'memory_tiers' must be an array of at most %d tiers below HBM", path,
                     SP_MAX_MEM_TIERS);
        goto done;
    }
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (!json_is_object(e)) {
            rc = sp_fail(err, SP_EINVAL, "%s: memory_tiers[%zu] must be an object {name, capacity, bw, source}", path, i);
            goto done;
        }
        const char *k;
        json_t *v;
        json_object_foreach(e, k, v)
        {
            (void)v;
            if (strcmp(k, "name") && strcmp(k, "capacity") && strcmp(k, "bw") && strcmp(k, "source")) {
                rc = sp_fail(err, SP_EINVAL, "%s: memory_tiers[%zu]: unknown field '%s'; allowed: name, capacity, bw, source",
                             path, i, k);
                goto done;
            }
        }
        sp_mem_tier *mt = &t[*n];
        const char *nm = json_string_value(json_object_get(e, "name"));
        snprintf(mt->name, sizeof mt->name, "%s", nm ? nm : "tier");
        if ((rc = qty(e, "capacity", SP_UNIT_BYTES, path, &mt->capacity, err)) || (rc = qty(e, "bw", SP_UNIT_BW, path, &mt->bw, err)))
            goto done;
        (*n)++;
    }
done:
    json_decref(root);
    return rc;
}

/* The experts the file lists, copies (`count`) included: at most 100,000. */
static sp_status count_experts(const char *path, json_t *arr, int *total, sp_error *err)
{
    size_t i;
    json_t *e;
    *total = 0;
    json_array_foreach(arr, i, e)
    {
        json_t *c = json_object_get(e, "count");
        if (c && (!json_is_integer(c) || json_integer_value(c) < 1 || json_integer_value(c) > 100000))
            return sp_fail(err, SP_EINVAL, "%s: experts[%zu].count must be an integer 1..100000", path, i);
        *total += c ? (int)json_integer_value(c) : 1;
        if (*total > 100000)
            return sp_fail(err, SP_EINVAL, "%s: more than 100000 experts", path);
    }
    return SP_OK;
}

sp_status sp_load_coe(const char *data_dir, const char *path, sp_coe_expert **out, int *n, sp_error *err)
{
    *out = NULL;
    *n = 0;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return sp_fail(err, SP_EIO, "%s: is a directory, expected a JSON file", path);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root && je.line < 0) /* not opened: no line to point at (jansson reports -1) */
        return sp_fail(err, SP_EIO, "'%s': cannot open the file; expected a JSON file of experts ({\"experts\": [...]})", path);
    if (!root)
        return sp_fail(err, SP_EPARSE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    sp_status rc = SP_OK;
    sp_coe_expert *ex = NULL;
    json_t *arr = json_object_get(root, "experts");
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        rc = sp_fail(err, SP_EINVAL, "%s: field 'experts' must be a non-empty array of {name, model, share, count}", path);
        goto done;
    }
    int total = 0;
    size_t i;
    json_t *e;
    if ((rc = count_experts(path, arr, &total, err)))
        goto done;
    ex = calloc((size_t)total, sizeof *ex);
    if (!ex) {
        rc = sp_fail(err, SP_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    int k = 0;
    double sum = 0;
    json_array_foreach(arr, i, e)
    {
        const char *model = json_string_value(json_object_get(e, "model"));
        const char *nm = json_string_value(json_object_get(e, "name"));
        json_t *sh = json_object_get(e, "share");
        if (!model) {
            rc = sp_fail(err, SP_EINVAL, "%s: experts[%zu] needs field 'model' (a model preset or config.json path)", path, i);
            goto done;
        }
        double share = 1;
        if (sh) {
            if (!json_is_number(sh) || !(json_number_value(sh) > 0)) {
                rc = sp_fail(err, SP_EINVAL, "%s: experts[%zu].share must be a number > 0 (request share)", path, i);
                goto done;
            }
            share = json_number_value(sh);
        }
        sp_model m;
        sp_error e2 = {0};
        if (sp_load_model(data_dir, model, &m, &e2)) {
            rc = sp_fail(err, e2.status ? e2.status : SP_EINVAL, "%s: experts[%zu]: %s", path, i, e2.msg);
            goto done;
        }
        json_t *c = json_object_get(e, "count");
        int cnt = c ? (int)json_integer_value(c) : 1;
        for (int j = 0; j < cnt; j++, k++) {
            ex[k].model = m;
            ex[k].share = share / cnt;
            if (cnt > 1)
                snprintf(ex[k].name, sizeof ex[k].name, "%.50s#%d", nm ? nm : model, j + 1);
            else
                snprintf(ex[k].name, sizeof ex[k].name, "%.60s", nm ? nm : model);
            sum += share / cnt;
        }
    }
    for (int j = 0; j < k; j++)
        ex[j].share /= sum;
    *out = ex;
    *n = k;
    ex = NULL;
done:
    free(ex);
    json_decref(root);
    return rc;
}

typedef struct {
    int idx;
    double key;
} order_t;

static int by_key_desc(const void *a, const void *b)
{
    double x = ((const order_t *)a)->key, y = ((const order_t *)b)->key;
    return x < y ? 1 : x > y ? -1 : ((const order_t *)a)->idx - ((const order_t *)b)->idx;
}

static int largest_tp(const sp_model *m, int n)
{
    for (int t = n; t > 1; t--)
        if (n % t == 0 && m->n_heads % t == 0 && (m->n_kv_heads % t == 0 || t % m->n_kv_heads == 0))
            return t;
    return 1;
}

/* Per expert: weight bytes and end-to-end latency served alone on the node, its share per byte (ord, unsorted); the
 * copies of one expert (its `count`) are consecutive and identical: evaluated once. *work_max: KV + activations of
 * the running batch, whole node. */
static sp_status expert_costs(const sp_coe_expert *ex, int n, const sp_system *s, const sp_infer_opts *o,
                              double *bytes, double *e2e, order_t *ord, double *work_max, sp_coe_result *r, sp_error *err)
{
    int sockets = o->n_gpus;
    double wb = sp_dtype_bytes(o->weights);
    *work_max = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && memcmp(&ex[i].model, &ex[i - 1].model, sizeof ex[i].model) == 0) {
            bytes[i] = bytes[i - 1];
            e2e[i] = e2e[i - 1];
        } else {
            sp_param_count pc;
            sp_model_params(&ex[i].model, &pc);
            bytes[i] = pc.total * wb;
            sp_infer_opts x = *o;
            x.tp = largest_tp(&ex[i].model, sockets);
            x.ep = 1;
            x.n_gpus = sockets;
            x.batch = o->batch > 0 ? o->batch : 1;
            sp_infer_result ir;
            sp_error e2 = {0};
            sp_status rc = sp_infer_eval(&ex[i].model, s, &x, &ir, &e2);
            if (rc)
                return sp_fail(err, rc, "coe: expert '%s': %s", ex[i].name, e2.msg);
            e2e[i] = ir.e2e_s;
            double work = (ir.kv_bytes + ir.activation_bytes) * sockets;
            if (work > *work_max)
                *work_max = work;
        }
        r->total_bytes += bytes[i];
        ord[i].idx = i;
        ord[i].key = ex[i].share / bytes[i];
    }
    return SP_OK;
}

/* The resident set: the longest prefix in share-per-byte order (ord, sorted) that fits in r->hbm_budget with a swap
 * slot for the largest non-resident expert (prefix: bytes before each position, suffix: the largest from it on);
 * -1 when not even the largest expert fits. */
static int resident_set(const double *bytes, const order_t *ord, int n, double *prefix, double *suffix,
                        const sp_coe_result *r)
{
    prefix[0] = 0;
    for (int j = 0; j < n; j++)
        prefix[j + 1] = prefix[j] + bytes[ord[j].idx];
    suffix[n] = 0;
    for (int j = n - 1; j >= 0; j--)
        suffix[j] = bytes[ord[j].idx] > suffix[j + 1] ? bytes[ord[j].idx] : suffix[j + 1];
    for (int k = n; k >= 0; k--)
        if (prefix[k] + suffix[k] <= r->hbm_budget)
            return k;
    return -1;
}

/* The first memory tier whose capacity on all sockets holds the `stored` bytes of the non-resident experts. */
static sp_status store_tier(const sp_mem_tier *tiers, int ntiers, int sockets, int n_out, double stored, int *ti,
                            sp_error *err)
{
    for (int t = 0; t < ntiers; t++)
        if (tiers[t].capacity * sockets >= stored) {
            *ti = t;
            return SP_OK;
        }
    double cap = 0;
    for (int t = 0; t < ntiers; t++)
        cap = fmax(cap, tiers[t].capacity * sockets);
    return sp_fail(err, SP_EINFEASIBLE,
                   "coe: %d experts (%.1f GB) do not fit in HBM and the largest capacity tier below it holds %.1f GB "
                   "on %d sockets; add sockets or a larger tier (system 'memory_tiers')",
                   n_out, stored / 1e9, cap / 1e9, sockets);
}

/* Mean switch time and latency over the routing shares, with `best` experts resident and the rest on tier `tier`. */
static void switch_latency(const sp_coe_expert *ex, int n, const double *bytes, const double *e2e, const order_t *ord,
                           int best, const sp_mem_tier *tier, int sockets, const sp_infer_opts *o, sp_coe_result *r)
{
    double sw = 0, lat = 0, s_nr = 0;
    for (int j = best; j < n; j++)
        s_nr += ex[ord[j].idx].share;
    for (int j = 0; j < n; j++) {
        int i = ord[j].idx;
        double t_sw = 0;
        if (j >= best) {
            t_sw = bytes[i] / (sockets * tier->bw);
            r->switch_worst_s = fmax(r->switch_worst_s, t_sw);
            /* the swap slot already holds it when the last non-resident batch was for the same expert */
            t_sw *= 1 - ex[i].share / s_nr;
        } else
            r->hit_rate += ex[i].share;
        sw += ex[i].share * t_sw;
        lat += ex[i].share * e2e[i];
    }
    r->mean_switch_s = sw;
    r->mean_e2e_s = lat;
    r->mean_latency_s = sw + lat;
    double B = o->batch > 0 ? o->batch : 1;
    r->tokens_per_s = r->mean_latency_s > 0 ? B * o->output / r->mean_latency_s : 0;
}

sp_status sp_coe_eval(const sp_coe_expert *ex, int n, const sp_system *s, const sp_mem_tier *tiers, int ntiers,
                      const sp_infer_opts *o, sp_coe_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    if (n < 1)
        return sp_fail(err, SP_EINVAL, "coe: no experts");
    int sockets = o->n_gpus;
    /* O(n log n) for up to 100,000 experts */
    order_t *ord = malloc((size_t)n * sizeof *ord);
    double *e2e = malloc((size_t)n * sizeof *e2e), *bytes = malloc((size_t)n * sizeof *bytes);
    double *prefix = malloc((size_t)(n + 1) * sizeof *prefix), *suffix = malloc((size_t)(n + 1) * sizeof *suffix);
    sp_status rc = SP_OK;
    double work_max;
    int best = -1, ti = -1;
    if (!ord || !e2e || !bytes || !prefix || !suffix)
        rc = sp_fail(err, SP_ENOMEM, "coe: out of memory");
    else
        rc = expert_costs(ex, n, s, o, bytes, e2e, ord, &work_max, r, err);
    if (rc == SP_OK) {
        qsort(ord, (size_t)n, sizeof *ord, by_key_desc);
        double per_socket = o->mem_frac * s->acc.hbm_bytes - 2.0 * 1073741824.0; /* engine overhead as in infer.c */
        r->hbm_budget = sockets * per_socket - work_max;
        best = resident_set(bytes, ord, n, prefix, suffix, r);
        if (best < 0)
            rc = sp_fail(err, SP_EINFEASIBLE,
                         "coe: the largest expert (%.1f GB) does not fit in the HBM left on %d x %s (%.1f GB after KV "
                         "cache and overhead); use more sockets, fewer concurrent requests or lower-precision weights",
                         suffix[0] / 1e9, sockets, s->acc.name, r->hbm_budget / 1e9);
    }
    if (rc == SP_OK) {
        r->n_resident = best;
        double stored = 0;
        for (int j = best; j < n; j++)
            stored += bytes[ord[j].idx];
        r->store_tier = "(none: all resident)";
        if (best < n && (rc = store_tier(tiers, ntiers, sockets, n - best, stored, &ti, err)) == SP_OK)
            r->store_tier = tiers[ti].name;
    }
    if (rc == SP_OK) {
        switch_latency(ex, n, bytes, e2e, ord, best, ti >= 0 ? &tiers[ti] : NULL, sockets, o, r);
        r->fits = 1;
    }
    free(ord);
    free(e2e);
    free(bytes);
    free(prefix);
    free(suffix);
    return rc;
}
