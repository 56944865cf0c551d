/* Sweep specifications (docs/sweep.md): read, check and resolve a JSON spec into an sp_sweep.
 *
 * Every error names the spec file, the line and column of the offending value and its path in the spec
 * ("spec.json:14:17: axes.2.values.1: ..."). jansson reports positions only for syntax errors, so positions of
 * semantic errors come from a small scanner over the spec's text that walks the same path (locate()).
 * Each axis value is checked when the spec is loaded by building the base design with that value alone, so a
 * typo in a field name or an out-of-range value is refused before any point runs, at its place in the file.
 */
#include "sweep_internal.h"
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *file;
    const char *text;
    sp_error *err;
} spec_ctx;

/* ---- positions: walk a dotted path ("axes.2.values.1") through the JSON text ---- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *skip_string(const char *p)
{
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1])
            p++;
    return *p ? p + 1 : p;
}

static const char *skip_value(const char *p)
{
    p = skip_ws(p);
    if (*p == '"')
        return skip_string(p);
    if (*p != '{' && *p != '[') {
        while (*p && !strchr(",]} \t\r\n", *p))
            p++;
        return p;
    }
    for (int depth = 0; *p;) {
        if (*p == '"') {
            p = skip_string(p);
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if ((*p == '}' || *p == ']') && --depth == 0)
            return p + 1;
        p++;
    }
    return p;
}

/* Start of member `comp` (an object key, or an array index) of the value at p; NULL when absent. */
static const char *member(const char *p, const char *comp, size_t clen)
{
    p = skip_ws(p);
    char open = *p;
    if (open != '{' && open != '[')
        return NULL;
    long want = open == '[' ? strtol(comp, NULL, 10) : -1;
    p = skip_ws(p + 1);
    for (long i = 0; *p && *p != '}' && *p != ']'; i++) {
        if (open == '{') {
            const char *k = p + 1, *e = skip_string(p);
            p = skip_ws(e);
            if (*p != ':')
                return NULL;
            p = skip_ws(p + 1);
            if ((size_t)(e - 1 - k) == clen && memcmp(k, comp, clen) == 0)
                return p;
        } else if (i == want)
            return p;
        p = skip_ws(skip_value(p));
        if (*p != ',')
            return NULL;
        p = skip_ws(p + 1);
    }
    return NULL;
}

/* Line and column (1-based) of the value at `path`, or of its deepest ancestor found. */
static void locate(const char *text, const char *path, int *line, int *col)
{
    const char *at = skip_ws(text);
    while (*path) {
        size_t len = strcspn(path, ".");
        const char *m = member(at, path, len);
        if (!m)
            break;
        at = m;
        path += len + (path[len] == '.');
    }
    *line = 1;
    *col = 1;
    for (const char *q = text; q < at; q++) {
        if (*q == '\n')
            (*line)++, *col = 1;
        else
            (*col)++;
    }
}

static sp_status fail_at(const spec_ctx *c, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static sp_status fail_at(const spec_ctx *c, const char *path, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line, col;
    locate(c->text, path, &line, &col);
    return sp_fail(c->err, SP_EINVAL, "%s:%d:%d: %s: %s", c->file, line, col, path, msg);
}

/* ---- typed readers ---- */

static sp_status check_keys(const spec_ctx *c, json_t *o, const char *path, const char *const *allowed)
{
    char list[400], sub[200];
    const char *k = sp_json_unknown_key(o, allowed, list, sizeof list);
    if (!k)
        return SP_OK;
    snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
    return fail_at(c, sub, "unknown key '%s'; allowed: %s", k, list);
}

/* A number, or a string with units (sw_number); absent leaves *out. */
static sp_status get_num(const spec_ctx *c, json_t *o, const char *key, const char *path, double lo, double hi,
                         int whole, double *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return SP_OK;
    char p[200];
    snprintf(p, sizeof p, "%s%s%s", path, *path ? "." : "", key);
    double d;
    if (json_is_number(v))
        d = json_number_value(v);
    else if (!json_is_string(v) || !sw_number(json_string_value(v), &d))
        return fail_at(c, p, "expected a number or a quantity such as \"15T\", \"3.35TB/s\", \"90d\"");
    if (!isfinite(d) || d < lo || d > hi || (whole && d != floor(d)))
        return fail_at(c, p, "%.15g is out of range; allowed %s%g..%g", d, whole ? "whole numbers " : "", lo, hi);
    *out = d;
    return SP_OK;
}

static sp_status get_int(const spec_ctx *c, json_t *o, const char *key, const char *path, int lo, int hi, int *out)
{
    double d = *out;
    sp_status st = get_num(c, o, key, path, lo, hi, 1, &d);
    *out = (int)d;
    return st;
}

/* One of `words` (NULL-terminated) at key; returns its index in *out; absent leaves *out. */
static sp_status get_word(const spec_ctx *c, json_t *o, const char *key, const char *path, const char *const *words,
                          int *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return SP_OK;
    char p[200], list[200] = "";
    snprintf(p, sizeof p, "%s%s%s", path, *path ? "." : "", key);
    for (int i = 0; words[i]; i++) {
        if (json_is_string(v) && strcmp(json_string_value(v), words[i]) == 0) {
            *out = i;
            return SP_OK;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", words[i]);
    }
    return fail_at(c, p, "expected one of %s", list);
}

/* search.schedules: ["1f1b", "zb-h1", "zb-v", "dualpipe"] ("interleaved" is 1F1B with vpp > 1): the schedules every
 * point's search tries; absent = all (a point's stack keeps the ones it supports) */
static sp_status get_schedules(const spec_ctx *c, json_t *se, unsigned *mask)
{
    json_t *a = json_object_get(se, "schedules");
    if (!a)
        return SP_OK;
    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > 8)
        return fail_at(c, "search.schedules", "expected an array of 1..8 schedules: 1f1b, interleaved, zb-h1, zb-v, dualpipe");
    *mask = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        sp_schedule k;
        int il;
        char p[64];
        snprintf(p, sizeof p, "search.schedules.%zu", i);
        if (!s || sp_schedule_parse(s, &k, &il))
            return fail_at(c, p, "expected one of 1f1b, interleaved, zb-h1, zb-v, dualpipe");
        *mask |= 1u << k;
    }
    return SP_OK;
}

/* ---- presets as JSON ---- */

static void preset_path(const sp_sweep *sw, const char *kind, const char *name, char *out, size_t n)
{
    if (strchr(name, '/') || strstr(name, ".json"))
        snprintf(out, n, "%s", name);
    else
        snprintf(out, n, "%s/%s/%s.json", sw->data_dir, kind, name);
}

/* The JSON of a preset of `kind` as the loader reads it (its "base" chain merged); a system's accelerator is
 * inlined as an object, so that accelerator.KEY patches it. */
static json_t *preset_json(const sp_sweep *sw, const char *kind, const char *name, sp_error *err)
{
    json_t *o = NULL;
    if (strcmp(kind, "models") == 0) {
        sp_model m;
        char path[1700];
        json_error_t je;
        if (sp_load_model(sw->data_dir, name, &m, err))
            return NULL;
        preset_path(sw, kind, name, path, sizeof path);
        if (!(o = json_load_file(path, JSON_REJECT_DUPLICATES, &je)))
            sp_fail(err, SP_EIO, "%s: %s", path, je.text);
        return o;
    }
    if (sp_preset_json(sw->data_dir, kind, name, &o, err))
        return NULL;
    json_t *acc = json_object_get(o, "accelerator");
    if (strcmp(kind, "systems") == 0 && json_is_string(acc)) {
        json_t *aj = preset_json(sw, "accelerators", json_string_value(acc), err);
        if (!aj) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "accelerator", aj);
    }
    return o;
}

/* ---- the spec ---- */

/* A software level: a training stack (data/software) or, in a serving sweep, a serving stack (data/serving). */
static sp_status load_stack(const spec_ctx *c, const sp_sweep *sw, const char *path, json_t *v, sp_software *tr,
                            sp_serve_stack *sv)
{
    const char *name = json_string_value(v);
    sp_error e2 = {0};
    if (!name || !*name)
        return fail_at(c, path, "expected a software stack preset name (data/%s) or a path", sw->serve ? "serving" : "software");
    if (sw->serve ? sp_serve_stack_load(sw->data_dir, name, sv, &e2) : sp_load_software(sw->data_dir, name, tr, &e2))
        return fail_at(c, path, "%s", e2.msg);
    return SP_OK;
}

static sp_status parse_software(const spec_ctx *c, sp_sweep *sw, json_t *b)
{
    json_t *v = json_object_get(b, "software");
    if (sw->serve) {
        if (!v)
            return sp_serve_stack_load(sw->data_dir, "vllm", &sw->stack, c->err) ? fail_at(c, "base", "%s", c->err->msg) : SP_OK;
        return load_stack(c, sw, "base.software", v, NULL, &sw->stack);
    }
    sw->has_software = v != NULL;
    return v ? load_stack(c, sw, "base.software", v, &sw->software, NULL) : SP_OK;
}

/* A serving workload at the spec's scenario: open-loop arrivals with P99 SLOs (what serve --search needs). */
static sp_status load_workload(const spec_ctx *c, const sp_sweep *sw, const char *path, json_t *v, sp_serve_workload *w)
{
    const char *name = json_string_value(v);
    sp_error e2 = {0};
    if (!name || !*name)
        return fail_at(c, path, "expected a serving workload preset name (data/workloads) or a path");
    if (sp_serve_workload_load(sw->data_dir, name, sw->scenario[0] ? sw->scenario : NULL, w, &e2))
        return fail_at(c, path, "%s", e2.msg);
    if ((w->arrival != SP_ARR_POISSON && w->arrival != SP_ARR_GAMMA) || !(w->ttft_slo_s > 0 || w->tpot_slo_s > 0))
        return fail_at(c, path, "workload '%s' at scenario '%s' has no open-loop arrivals with P99 SLOs (a serving sweep "
                       "meets SLOs at a rate; offline is not one)", name, w->scenario);
    return SP_OK;
}

static sp_status parse_serve(const spec_ctx *c, sp_sweep *sw, json_t *b)
{
    static const char *const no[] = {"global_batch", "seq_len", "dtype", "tokens", "flop", "duration", NULL};
    for (int i = 0; no[i]; i++)
        if (json_object_get(b, no[i])) {
            char p[64];
            snprintf(p, sizeof p, "base.%s", no[i]);
            return fail_at(c, p, "'%s' is a training workload's; a serving sweep (base.workload) takes scenario, rate, "
                           "software and gpus (the GPU budget of a deployment)", no[i]);
        }
    json_t *sc = json_object_get(b, "scenario");
    if (sc && (!json_is_string(sc) || strlen(json_string_value(sc)) >= sizeof sw->scenario))
        return fail_at(c, "base.scenario", "expected a scenario name: server, interactive");
    snprintf(sw->scenario, sizeof sw->scenario, "%s", sc ? json_string_value(sc) : "");
    sp_status st = load_workload(c, sw, "base.workload", json_object_get(b, "workload"), &sw->workload);
    if (st || (st = get_num(c, b, "rate", "base", 1e-6, 1e6, 0, &sw->rate)))
        return st;
    if (!(sw->rate > 0))
        return fail_at(c, "base", "a serving sweep needs \"rate\": the target requests/s each deployment must carry");
    return SP_OK;
}

static sp_status parse_base(const spec_ctx *c, sp_sweep *sw, json_t *spec)
{
    static const char *const keys[] = {"model", "system", "gpus", "global_batch", "seq_len", "dtype", "tokens", "flop",
                                       "duration", "software", "workload", "scenario", "rate", NULL};
    json_t *b = json_object_get(spec, "base");
    if (!json_is_object(b))
        return fail_at(c, "base", "expected an object with model, system, gpus, global_batch (the base design)");
    sp_status st = check_keys(c, b, "base", keys);
    if (st)
        return st;
    const char *mn = json_string_value(json_object_get(b, "model"));
    const char *sn = json_string_value(json_object_get(b, "system"));
    sw->serve = json_object_get(b, "workload") != NULL;
    if (!mn || !sn || !json_object_get(b, "gpus") || (!sw->serve && !json_object_get(b, "global_batch")))
        return fail_at(c, "base", "needs model and system (preset names or paths), gpus and global_batch (or a serving "
                       "workload and rate)");
    sp_error e2 = {0};
    if (!(sw->model = preset_json(sw, "models", mn, &e2)))
        return fail_at(c, "base.model", "%s", e2.msg);
    if (!(sw->system = preset_json(sw, "systems", sn, &e2)))
        return fail_at(c, "base.system", "%s", e2.msg);
    if ((st = get_int(c, b, "gpus", "base", 1, 1 << 30, &sw->gpus)) ||
        (st = get_int(c, b, "global_batch", "base", 1, 1 << 30, &sw->global_batch)) ||
        (st = get_int(c, b, "seq_len", "base", 1, 1 << 24, &sw->seq_len)) ||
        (st = get_num(c, b, "tokens", "base", 1, 1e30, 0, &sw->tokens)) ||
        (st = get_num(c, b, "flop", "base", 1, 1e40, 0, &sw->flop)) ||
        (st = get_num(c, b, "duration", "base", 1, 1e12, 0, &sw->duration_s)))
        return st;
    if ((sw->tokens > 0) + (sw->flop > 0) + (sw->duration_s > 0) > 1)
        return fail_at(c, sw->duration_s > 0 ? "base.duration" : "base.flop",
                       "give one workload: tokens, flop (a training compute budget) or duration (a training time)");
    if ((st = parse_software(c, sw, b)) || (sw->serve && (st = parse_serve(c, sw, b))))
        return st;
    sw->dtype = SP_BF16;
    json_t *dt = json_object_get(b, "dtype");
    if (dt && (!json_is_string(dt) || sp_dtype_parse(json_string_value(dt), &sw->dtype, &e2)))
        return fail_at(c, "base.dtype", "expected a precision: fp32, tf32, bf16, fp16, fp8");
    return SP_OK;
}

static sp_status parse_options(const spec_ctx *c, sp_sweep *sw, json_t *spec)
{
    static const char *const top[] = {"name", "description", "base", "design", "objective", "cost", "axes",
                                      "constraints", "search", NULL};
    static const char *const objs[] = {"time", "cost", "energy", "tokens_per_s_per_usd", "tokens", "usd_per_mtok", NULL};
    static const char *const costs[] = {"own", "cloud", NULL};
    static const char *const ckeys[] = {"max_rack_power_w", "rack_accels", "max_accel_price_usd", "max_cost_usd",
                                        "max_time", NULL};
    static const char *const skeys[] = {"max_vpp", "max_memory_frac", "schedules", NULL};
    sp_status st = check_keys(c, spec, "", top);
    if (st)
        return st;
    const char *nm = json_string_value(json_object_get(spec, "name"));
    snprintf(sw->name, sizeof sw->name, "%s", nm ? nm : "sweep");
    int obj = 0;
    if ((st = get_word(c, spec, "objective", "", objs, &obj)) || (st = get_word(c, spec, "cost", "", costs, &sw->cost_cloud)))
        return st;
    sw->obj = (sp_sweep_obj)obj;
    json_t *cs = json_object_get(spec, "constraints");
    if (cs && (!json_is_object(cs) || (st = check_keys(c, cs, "constraints", ckeys)) ||
               (st = get_num(c, cs, "max_rack_power_w", "constraints", 1, 1e9, 0, &sw->max_rack_power_w)) ||
               (st = get_int(c, cs, "rack_accels", "constraints", 1, 1 << 20, &sw->rack_accels)) ||
               (st = get_num(c, cs, "max_accel_price_usd", "constraints", 0, 1e12, 0, &sw->max_accel_price_usd)) ||
               (st = get_num(c, cs, "max_cost_usd", "constraints", 0, 1e18, 0, &sw->max_cost_usd)) ||
               (st = get_num(c, cs, "max_time", "constraints", 1e-9, 1e12, 0, &sw->max_time_s))))
        return st ? st : fail_at(c, "constraints", "expected an object");
    sw->max_vpp = 8;
    sw->max_mem_frac = SP_SEARCH_MEM_FRAC; /* the search's headroom for allocator fragmentation (scaleplan.h) */
    sw->schedules = SP_SEARCH_ALL_SCHEDULES;
    json_t *se = json_object_get(spec, "search");
    if (se && (!json_is_object(se) || (st = check_keys(c, se, "search", skeys)) ||
               (st = get_int(c, se, "max_vpp", "search", 1, SP_SEARCH_MAX_VPP, &sw->max_vpp)) ||
               (st = get_num(c, se, "max_memory_frac", "search", 0.05, 1, 0, &sw->max_mem_frac)) ||
               (st = get_schedules(c, se, &sw->schedules))))
        return st ? st : fail_at(c, "search", "expected an object");
    return SP_OK;
}

static sp_status parse_design(const spec_ctx *c, sp_sweep *sw, json_t *spec)
{
    static const char *const types[] = {"grid", "random", "lhs", NULL};
    static const char *const keys[] = {"type", "points", "seed", NULL};
    json_t *d = json_object_get(spec, "design");
    int t = 0;
    sw->seed = 1;
    sp_status st;
    if (!d)
        return SP_OK;
    if (json_is_string(d)) {
        if ((st = get_word(c, spec, "design", "", types, &t)))
            return st;
        return t ? fail_at(c, "design", "a %s design needs an object {\"type\": \"%s\", \"points\": N, \"seed\": S}",
                           types[t], types[t])
                 : SP_OK;
    }
    if (!json_is_object(d))
        return fail_at(c, "design", "expected \"grid\" or an object with type, points, seed");
    if ((st = check_keys(c, d, "design", keys)) || (st = get_word(c, d, "type", "design", types, &t)))
        return st;
    sw->design = (sw_design)t;
    double pts = 0, seed = 1;
    double cap = t == SW_LHS ? 1e6 : (double)SP_SWEEP_MAX_POINTS; /* LHS keeps a stratum per point and axis */
    if ((st = get_num(c, d, "points", "design", 1, cap, 1, &pts)) ||
        (st = get_num(c, d, "seed", "design", 0, 9007199254740992.0, 1, &seed)))
        return st;
    if (t != SW_GRID && pts < 1)
        return fail_at(c, "design", "a %s design needs \"points\" (1..%.0f)", types[t], cap);
    if (t == SW_GRID && pts > 0)
        return fail_at(c, "design.points", "a grid has as many points as the product of its axes' levels");
    sw->n = (long long)pts;
    sw->seed = (unsigned long long)seed;
    return SP_OK;
}

static void sweep_free_axes(sp_sweep *sw)
{
    for (int a = 0; a < sw->naxes; a++) {
        sw_axis *x = &sw->ax[a];
        if (x->preset)
            for (int k = 0; k < x->n; k++)
                json_decref(x->preset[k]);
        free(x->preset);
        free(x->soft);
        free(x->stack);
        free(x->wl);
        free(x->num);
        json_decref(x->values);
    }
    sw->naxes = 0;
}

void sp_sweep_free(sp_sweep *sw)
{
    if (!sw)
        return;
    sweep_free_axes(sw);
    json_decref(sw->model);
    json_decref(sw->system);
    free(sw->lhs);
    free(sw);
}

/* ---- axes ---- */

static sp_status axis_field(const spec_ctx *c, sw_axis *x, const char *path, json_t *f)
{
    static const struct {
        const char *name;
        sw_kind kind;
        const char *key;
    } named[] = {{"model", SW_MODEL_PRESET, ""}, {"system", SW_SYSTEM_PRESET, ""}, {"accelerator", SW_ACCEL_PRESET, ""},
                 {"gpus", SW_GPUS, ""}, {"global_batch", SW_BATCH, ""}, {"seq_len", SW_SEQ, ""},
                 {"tokens", SW_TOKENS, ""}, {"dtype", SW_DTYPE, ""}, {"layers", SW_FIELD_MODEL, "num_hidden_layers"},
                 {"width", SW_FIELD_MODEL, "hidden_size"}, {"heads", SW_FIELD_MODEL, "num_attention_heads"},
                 {"kv_heads", SW_FIELD_MODEL, "num_key_value_heads"}, {"ffn", SW_FIELD_MODEL, "intermediate_size"},
                 {"experts", SW_FIELD_MODEL, "num_local_experts"},
                 {"experts_per_token", SW_FIELD_MODEL, "num_experts_per_tok"}, {"software", SW_SOFTWARE, ""},
                 {"workload", SW_WORKLOAD, ""}, {"duration", SW_DURATION, ""}, {"rate", SW_RATE, ""}};
    const char *name = json_string_value(f);
    if (!name || !*name || strlen(name) >= sizeof x->field)
        return fail_at(c, path, "expected a field name (a string of at most %zu characters)", sizeof x->field - 1);
    snprintf(x->field, sizeof x->field, "%s", name);
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strcmp(name, named[i].name) == 0) {
            x->kind = named[i].kind;
            snprintf(x->path, sizeof x->path, "%s", named[i].key);
            return SP_OK;
        }
    const char *rest = NULL;
    if (strncmp(name, "model.", 6) == 0)
        x->kind = SW_FIELD_MODEL, rest = name + 6;
    else if (strncmp(name, "system.", 7) == 0)
        x->kind = SW_FIELD_SYSTEM, rest = name + 7;
    else if (strncmp(name, "accelerator.", 12) == 0)
        x->kind = SW_FIELD_SYSTEM, rest = name;
    if (!rest || !*rest || strchr(name, ',') || strchr(name, '"'))
        return fail_at(c, path, "unknown field '%s'; allowed model, system, accelerator, gpus, global_batch, seq_len, "
                       "tokens, duration, dtype, software, workload, rate, layers, width, heads, kv_heads, ffn, experts, experts_per_token, or model.KEY, "
                       "system.KEY (tiers[0].bw), accelerator.KEY", name);
    size_t w = 0; /* tiers[0].bw -> tiers.0.bw */
    for (const char *q = rest; *q && w + 1 < sizeof x->path; q++)
        if (*q == '[')
            x->path[w++] = '.';
        else if (*q != ']')
            x->path[w++] = *q;
    x->path[w] = 0;
    return SP_OK;
}

static sp_status expand_range(const spec_ctx *c, sp_sweep *sw, sw_axis *x, json_t *o, const char *path)
{
    static const char *const scales[] = {"linear", "log", NULL};
    json_t *jlo = json_object_get(o, "min"), *jhi = json_object_get(o, "max");
    if (!jlo || !jhi)
        return fail_at(c, path, "an axis needs \"values\": [...] or \"min\" and \"max\"");
    int steps = 5;
    x->integer = json_is_integer(jlo) && json_is_integer(jhi);
    json_t *ji = json_object_get(o, "integer");
    if (ji && !json_is_boolean(ji))
        return fail_at(c, path, "\"integer\" must be true or false");
    if (ji)
        x->integer = json_is_true(ji);
    sp_status st;
    if ((st = get_num(c, o, "min", path, -1e300, 1e300, 0, &x->lo)) || (st = get_num(c, o, "max", path, -1e300, 1e300, 0, &x->hi)) ||
        (st = get_int(c, o, "steps", path, 2, 4096, &steps)) || (st = get_word(c, o, "scale", path, scales, &x->log)))
        return st;
    if (!(x->lo <= x->hi) || (x->log && !(x->lo > 0)))
        return fail_at(c, path, "needs min <= max%s", x->log ? " and min > 0 on a log scale" : "");
    x->range = 1;
    if (sw->design != SW_GRID)
        return SP_OK; /* continuous: sampled by the design */
    if (!(x->values = json_array()))
        return sp_fail(c->err, SP_ENOMEM, "out of memory");
    for (int k = 0; k < steps; k++) {
        double t = (double)k / (steps - 1);
        double v = x->log ? exp(log(x->lo) + t * (log(x->hi) - log(x->lo))) : x->lo + t * (x->hi - x->lo);
        json_t *last = json_array_get(x->values, json_array_size(x->values) - 1);
        if (x->integer && last && json_integer_value(last) == llround(v))
            continue; /* rounding made two levels equal */
        json_array_append_new(x->values, x->integer ? json_integer(llround(v)) : json_real(v));
    }
    x->n = (int)json_array_size(x->values);
    return SP_OK;
}

/* Levels of the software, workload, duration and rate axes: stacks and workloads loaded, numbers in range. */
static sp_status level_more(const spec_ctx *c, const sp_sweep *sw, sw_axis *x, int k, const char *p, json_t *v)
{
    if (x->kind == SW_SOFTWARE && !x->soft && !x->stack &&
        !(sw->serve ? (void *)(x->stack = calloc((size_t)x->n, sizeof *x->stack)) : (void *)(x->soft = calloc((size_t)x->n, sizeof *x->soft))))
        return sp_fail(c->err, SP_ENOMEM, "out of memory");
    if (x->kind == SW_WORKLOAD && !x->wl && !(x->wl = calloc((size_t)x->n, sizeof *x->wl)))
        return sp_fail(c->err, SP_ENOMEM, "out of memory");
    if (x->kind == SW_SOFTWARE)
        return load_stack(c, sw, p, v, x->soft ? &x->soft[k] : NULL, x->stack ? &x->stack[k] : NULL);
    if (x->kind == SW_WORKLOAD)
        return load_workload(c, sw, p, v, &x->wl[k]);
    if (x->kind == SW_DURATION && !(x->num[k] >= 1 && x->num[k] <= 1e12))
        return fail_at(c, p, "expected a training duration in 1 s..1e12 s (e.g. \"90d\")");
    if (x->kind == SW_RATE && !(x->num[k] > 0 && x->num[k] <= 1e6))
        return fail_at(c, p, "expected a request rate in (0, 1e6] per second");
    return SP_OK;
}

/* Axes that do not apply to the spec's workload (training or serving). */
static sp_status axis_applies(const spec_ctx *c, const sp_sweep *sw, const sw_axis *x, const char *fp)
{
    int train_only = x->kind == SW_BATCH || x->kind == SW_SEQ || x->kind == SW_TOKENS || x->kind == SW_DTYPE ||
                     x->kind == SW_DURATION;
    if (sw->serve && train_only)
        return fail_at(c, fp, "'%s' is a training axis; a serving sweep (base.workload) takes model, system, "
                       "accelerator, gpus, software, workload, rate and hardware fields", x->field);
    if (!sw->serve && (x->kind == SW_WORKLOAD || x->kind == SW_RATE))
        return fail_at(c, fp, "'%s' needs a serving sweep (base.workload, base.rate)", x->field);
    if ((x->kind == SW_TOKENS && (sw->flop > 0 || sw->duration_s > 0)) ||
        (x->kind == SW_DURATION && (sw->flop > 0 || sw->tokens > 0)))
        return fail_at(c, fp, "'%s' with base.%s: a point has one workload (tokens, flop or duration); sweep one of them",
                       x->field, sw->flop > 0 ? "flop" : sw->tokens > 0 ? "tokens" : "duration");
    return SP_OK;
}

/* Where level k of axis x is written in the spec (for messages): axes.I.values.K, or for a range expanded into
 * levels its min, its max, or the axis itself for a level between them. */
static void level_path(const sw_axis *x, const char *axis_path, int k, char *p, size_t n)
{
    if (!x->range)
        snprintf(p, n, "%s.values.%d", axis_path, k);
    else
        snprintf(p, n, "%s%s", axis_path, k == 0 ? ".min" : k == x->n - 1 ? ".max" : "");
}

/* Numbers of the levels; presets loaded; counts and dtypes checked. */
static sp_status axis_levels(const spec_ctx *c, sp_sweep *sw, sw_axis *x, const char *path)
{
    static const char *const kinds[] = {"models", "systems", "accelerators"};
    x->num = calloc((size_t)x->n + 1, sizeof *x->num);
    x->preset = x->kind <= SW_ACCEL_PRESET ? calloc((size_t)x->n + 1, sizeof *x->preset) : NULL;
    if (!x->num || (x->kind <= SW_ACCEL_PRESET && !x->preset))
        return sp_fail(c->err, SP_ENOMEM, "out of memory");
    for (int k = 0; k < x->n; k++) {
        json_t *v = json_array_get(x->values, (size_t)k);
        char p[200];
        level_path(x, path, k, p, sizeof p);
        const char *str = json_string_value(v);
        x->num[k] = json_is_number(v) ? json_number_value(v) : json_is_boolean(v) ? json_is_true(v) : NAN;
        if (str && !sw_number(str, &x->num[k]))
            x->num[k] = NAN;
        if (!json_is_number(v) && !str && !json_is_boolean(v))
            return fail_at(c, p, "expected a number, a string or true/false");
        if (str && (strpbrk(str, ",\"\n\r") || strlen(str) > 400)) /* written unquoted in a CSV cell */
            return fail_at(c, p, "a value may not contain a comma, a quote or a line break, nor exceed 400 characters");
        x->categorical |= isnan(x->num[k]);
        sp_error e2 = {0};
        sp_dtype dt;
        if (x->kind <= SW_ACCEL_PRESET && (!str || !(x->preset[k] = preset_json(sw, kinds[x->kind], str, &e2))))
            return fail_at(c, p, "%s", str ? e2.msg : "expected a preset name or a path to a .json file");
        if (x->kind >= SW_GPUS && x->kind <= SW_SEQ && !(x->num[k] >= 1 && x->num[k] <= (1 << 30) && x->num[k] == floor(x->num[k])))
            return fail_at(c, p, "expected a whole number in 1..%d", 1 << 30);
        if (x->kind == SW_TOKENS && !(x->num[k] >= 1 && x->num[k] <= 1e30))
            return fail_at(c, p, "expected a token count in 1..1e30 (e.g. \"15T\")");
        if (x->kind == SW_DTYPE && (!str || sp_dtype_parse(str, &dt, &e2)))
            return fail_at(c, p, "expected a precision: fp32, tf32, bf16, fp16, fp8");
        sp_status st = level_more(c, sw, x, k, p, v);
        if (st)
            return st;
    }
    return SP_OK;
}

/* Builds the base design with this axis alone at each level (or at min and max): refuses what cannot parse. */
static sp_status axis_check(const spec_ctx *c, sp_sweep *sw, int a, const char *path)
{
    sw_axis *x = &sw->ax[a];
    if (x->kind != SW_FIELD_MODEL && x->kind != SW_FIELD_SYSTEM)
        return SP_OK;
    int n = x->n ? x->n : 2;
    for (int k = 0; k < n; k++) {
        json_t *vals[SP_SWEEP_MAX_AXES] = {0};
        json_t *own = x->n ? NULL : (x->integer ? json_integer(llround(k ? x->hi : x->lo)) : json_real(k ? x->hi : x->lo));
        vals[a] = x->n ? json_array_get(x->values, (size_t)k) : own;
        sp_model m;
        sp_system s;
        sp_error e2 = {0};
        sp_status st = sw_build(sw, vals, &m, &s, &e2);
        json_decref(own);
        char p[200];
        if (x->n)
            level_path(x, path, k, p, sizeof p);
        else
            snprintf(p, sizeof p, "%s.%s", path, k ? "max" : "min");
        if (st)
            return fail_at(c, p, "%s: %s", x->field, e2.msg);
    }
    return SP_OK;
}

static sp_status parse_axes(const spec_ctx *c, sp_sweep *sw, json_t *spec)
{
    static const char *const keys[] = {"field", "values", "min", "max", "steps", "scale", "integer", NULL};
    json_t *axes = json_object_get(spec, "axes");
    if (!json_is_array(axes) || json_array_size(axes) < 1 || json_array_size(axes) > SP_SWEEP_MAX_AXES)
        return fail_at(c, "axes", "expected an array of 1..%d axes", SP_SWEEP_MAX_AXES);
    for (size_t i = 0; i < json_array_size(axes); i++) {
        json_t *o = json_array_get(axes, i);
        char path[64];
        snprintf(path, sizeof path, "axes.%zu", i);
        sw_axis *x = &sw->ax[sw->naxes];
        sp_status st;
        if (!json_is_object(o))
            return fail_at(c, path, "expected an object {\"field\": ..., \"values\": [...]} or {\"field\", \"min\", \"max\"}");
        char fp[80];
        snprintf(fp, sizeof fp, "%s.field", path);
        if ((st = check_keys(c, o, path, keys)) || (st = axis_field(c, x, fp, json_object_get(o, "field"))))
            return st;
        sw->naxes++;
        x->idx = (int)i;
        for (int b = 0; b < sw->naxes - 1; b++)
            if (strcmp(sw->ax[b].field, x->field) == 0 || (sw->ax[b].kind == x->kind && x->kind < SW_FIELD_MODEL) ||
                (sw->ax[b].kind == x->kind && strcmp(sw->ax[b].path, x->path) == 0 && *x->path))
                return fail_at(c, fp, "'%s' is already axis %d", x->field, b);
        json_t *vals = json_object_get(o, "values");
        if (vals && (!json_is_array(vals) || json_array_size(vals) < 1 || json_array_size(vals) > 4096))
            return fail_at(c, path, "\"values\" must be an array of 1..4096 values");
        if (vals && (json_object_get(o, "min") || json_object_get(o, "max")))
            return fail_at(c, path, "give \"values\" or \"min\"/\"max\", not both");
        if (vals) {
            x->values = json_incref(vals);
            x->n = (int)json_array_size(vals);
        } else if ((st = expand_range(c, sw, x, o, path)))
            return st;
        if ((st = axis_applies(c, sw, x, fp)))
            return st;
        if (!x->n && (x->kind < SW_FIELD_MODEL && x->kind != SW_GPUS && x->kind != SW_BATCH && x->kind != SW_SEQ &&
                      x->kind != SW_TOKENS && x->kind != SW_DURATION && x->kind != SW_RATE))
            return fail_at(c, path, "'%s' takes \"values\" (names), not a range", x->field);
        if ((st = axis_levels(c, sw, x, path)) || (st = axis_check(c, sw, sw->naxes - 1, path)))
            return st;
    }
    return SP_OK;
}

static unsigned long long fnv1a(const char *s)
{
    unsigned long long h = 1469598103934665603ULL; /* FNV-1a 64-bit offset basis and prime (Fowler/Noll/Vo) */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static sp_status check_objective(const spec_ctx *c, const sp_sweep *sw)
{
    int dur = sw->duration_s > 0;
    for (int a = 0; a < sw->naxes; a++)
        dur |= sw->ax[a].kind == SW_DURATION;
    if (sw->obj == SP_SWEEP_OBJ_TOKENS && (!dur || sw->serve))
        return fail_at(c, "objective", "'tokens' (the most training tokens in a duration) needs base.duration or a "
                       "duration axis");
    if (sw->obj == SP_SWEEP_OBJ_USD_PER_MTOK && !sw->serve)
        return fail_at(c, "objective", "'usd_per_mtok' needs a serving sweep (base.workload); a training sweep ranks "
                       "by time, cost, energy, tokens_per_s_per_usd or tokens");
    if (sw->serve && sw->obj == SP_SWEEP_OBJ_TIME)
        return fail_at(c, "objective", "a serving sweep ranks by usd_per_mtok (or cost, the same), energy (J per "
                       "token) or tokens_per_s_per_usd; every point meets the same SLOs, so time is not one");
    return SP_OK;
}

/* A serving point is a deployment carrying a rate (src/sweep_serve.c), not a run: it has no total cost or run time,
 * so max_cost_usd and max_time, checked on a training point's run, are refused by name rather than ignored (they
 * were: issue of the serving sweeps). Its latency is bounded by the workload's P99 SLOs, its cost ranked per million
 * output tokens. */
static sp_status check_serve_constraints(const spec_ctx *c, const sp_sweep *sw, json_t *spec)
{
    static const char *const keys[] = {"max_cost_usd", "max_time"};
    json_t *cs = json_object_get(spec, "constraints");
    for (int i = 0; i < 2 && sw->serve; i++)
        if (json_object_get(cs, keys[i])) {
            char path[64];
            snprintf(path, sizeof path, "constraints.%s", keys[i]);
            return fail_at(c, path, "a serving sweep's points are deployments carrying a rate, with no run %s to bound; "
                           "allowed in a serving sweep: max_rack_power_w, rack_accels, max_accel_price_usd (latency is "
                           "bounded by the workload's P99 SLOs, cost ranked by usd_per_mtok)",
                           i == 0 ? "cost" : "time");
        }
    return SP_OK;
}

static sp_status finish(const spec_ctx *c, sp_sweep *sw, json_t *spec)
{
    sp_status st0 = check_objective(c, sw);
    if (!st0)
        st0 = check_serve_constraints(c, sw, spec);
    if (st0)
        return st0;
    if (sw->design == SW_GRID) {
        double n = 1;
        for (int a = 0; a < sw->naxes; a++)
            n *= sw->ax[a].n;
        if (n > (double)SP_SWEEP_MAX_POINTS)
            return fail_at(c, "axes", "the grid has %.4g points; at most %lld", n, SP_SWEEP_MAX_POINTS);
        sw->n = (long long)n;
    }
    if (sw->design == SW_LHS) { /* one random permutation of the strata per axis (Fisher-Yates, seeded) */
        sw->lhs = malloc(sizeof *sw->lhs * (size_t)sw->n * (size_t)sw->naxes);
        if (!sw->lhs)
            return sp_fail(c->err, SP_ENOMEM, "%s: out of memory", c->file);
        for (int a = 0; a < sw->naxes; a++) {
            int *perm = sw->lhs + (size_t)a * (size_t)sw->n;
            unsigned long long r = sw_mix(sw->seed * 0x9E3779B97F4A7C15ULL + (unsigned long long)a + 1);
            for (long long i = 0; i < sw->n; i++)
                perm[i] = (int)i;
            for (long long i = sw->n - 1; i > 0; i--) {
                r = sw_mix(r);
                long long j = (long long)(r % (unsigned long long)(i + 1));
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
        }
    }
    char *dump = json_dumps(spec, JSON_SORT_KEYS | JSON_COMPACT);
    if (!dump)
        return sp_fail(c->err, SP_ENOMEM, "%s: out of memory", c->file);
    sw->hash = fnv1a(dump);
    free(dump);
    return SP_OK;
}


static sp_status parse_spec(const char *data_dir, const char *name, const char *text, sp_sweep *sw, sp_error *err)
{
    spec_ctx c = {name, text, err};
    json_error_t je;
    json_t *spec = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!spec)
        return sp_fail(err, SP_EPARSE, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    sp_status st = SP_OK;
    if (!json_is_object(spec))
        st = sp_fail(err, SP_EPARSE, "%s:1:1: expected a JSON object (a sweep specification, docs/sweep.md)", name);
    snprintf(sw->file, sizeof sw->file, "%s", name);
    snprintf(sw->data_dir, sizeof sw->data_dir, "%s", data_dir);
    if (!st && !(st = parse_options(&c, sw, spec)) && !(st = parse_design(&c, sw, spec)) && !(st = parse_base(&c, sw, spec)))
        if (!(st = parse_axes(&c, sw, spec)))
            st = finish(&c, sw, spec);
    json_decref(spec);
    return st;
}

sp_status sp_sweep_parse(const char *data_dir, const char *name, const char *text, size_t len, sp_sweep **out,
                         sp_error *err)
{
    *out = NULL;
    if (memchr(text, 0, len))
        return sp_fail(err, SP_EPARSE, "%s: NUL byte (binary data); expected a JSON sweep specification", name);
    char *t = malloc(len + 1);
    sp_sweep *sw = calloc(1, sizeof *sw);
    if (!t || !sw) {
        free(t);
        free(sw);
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", name);
    }
    memcpy(t, text, len);
    t[len] = 0;
    sp_status st = parse_spec(data_dir, name, t, sw, err);
    free(t);
    if (st) {
        sp_sweep_free(sw);
        return st;
    }
    *out = sw;
    return SP_OK;
}

sp_status sp_sweep_load(const char *data_dir, const char *path, sp_sweep **out, sp_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sp_fail(err, SP_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    for (size_t got; b && (got = fread(b + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n < cap)
            continue;
        if (cap >= (16u << 20))
            break;
        char *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f) || n >= (16u << 20);
    fclose(f);
    if (!b || bad) {
        free(b);
        return sp_fail(err, SP_EIO, "%s: cannot read (not a file, or over 16 MiB)", path);
    }
    sp_status st = sp_sweep_parse(data_dir, path, b, n, out, err);
    free(b);
    return st;
}
