/* limits through sp_call: the request (one GPU or a --compare list of settings, the paper's what-ifs, the range),
 * the sweeps of either model (limits_epoch.c: the paper's; limits_full.c: scaleplan's training model), the energy
 * of every point, and the result as one JSON object. The CLI prints that object for --json and formats its text,
 * CSV, waterfall table and plot from the same sp_limits_report (cli/cmd_limits.c). docs/limits.md. */
#include "call.h"
#include "limits_internal.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MO_PER_S (12 / SP_LIMITS_SECONDS_PER_YEAR) /* the paper's month: a twelfth of its 3.154e7 s year */

/* What one setting asks for; the global options fill it, then a --compare item's modifiers override. */
typedef struct {
    char gpu[48];
    const char *opt; /* the option the GPU came from ("gpu" or "compare"), named in its errors */
    int moe;
    double lscale, bscale, dur;
    int flat;
    sp_epoch_batch batch;
    double fixed_tokens;
    double fat;
    /* full mode: the paper's idealisations (docs/limits.md "From paper to practice") */
    int paperlat, noattn, zb;
    double tokmb; /* tokens per micro-batch (0: whole 2048-token sequences) */
} want_t;

/* The options every setting shares. */
typedef struct {
    want_t base;
    int full, waterfall, threads, kv_heads;
    double from, to, grad_bytes;
    const char *compare;
} limits_opts;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static sp_status parse_batch(const char *br, want_t *w, sp_error *err)
{
    if (strcmp(br, "epoch") == 0)
        w->batch = SP_EPOCH_BATCH_DEFAULT;
    else if (strcmp(br, "deepseek") == 0)
        w->batch = SP_EPOCH_BATCH_DEEPSEEK;
    else if (strcmp(br, "kaplan") == 0)
        w->batch = SP_EPOCH_BATCH_KAPLAN;
    else if (strncmp(br, "fixed:", 6) == 0) {
        w->batch = SP_EPOCH_BATCH_FIXED;
        sp_status st = sp_parse_quantity(br + 6, SP_UNIT_NONE, "--batch-rule fixed:", &w->fixed_tokens, err);
        if (st)
            return st;
        if (!(w->fixed_tokens >= 2048 && w->fixed_tokens <= 1e15))
            return sp_fail(err, SP_EINVAL, "--batch-rule %s: the batch must hold at least one 2048-token sequence and at most 1e15 tokens", br);
    } else
        return sp_fail(err, SP_EINVAL, "--batch-rule '%s'; allowed epoch, kaplan, deepseek, fixed:TOKENS", br);
    return SP_OK;
}

static sp_status parse_fat(const char *shp, want_t *w, sp_error *err)
{
    double k = 0;
    if (strcmp(shp, "epoch") == 0) {
        w->fat = 1;
        return SP_OK;
    }
    sp_error e2 = {0};
    if (strncmp(shp, "fat:", 4) != 0 || sp_parse_quantity(shp + 4, SP_UNIT_NONE, "--shape fat:", &k, &e2) || !(k >= 1 && k <= 64))
        return sp_fail(err, SP_EINVAL, "--shape '%s'; allowed epoch or fat:K with K in 1..64", shp);
    w->fat = k;
    return SP_OK;
}

static sp_status parse_scale(const char *what, const char *txt, int allow_inf, double *out, sp_error *err)
{
    if (allow_inf && strcmp(txt, "inf") == 0) {
        *out = INFINITY;
        return SP_OK;
    }
    double v;
    sp_status st = sp_parse_quantity(txt, SP_UNIT_NONE, what, &v, err);
    if (st)
        return st;
    if (!(v >= 1e-6 && v <= 1e6))
        return sp_fail(err, SP_EINVAL, "%s: %s is out of range; allowed 1e-06..1e+06%s", what, txt, allow_inf ? " or inf" : "");
    *out = v;
    return SP_OK;
}

/* --latency-scale / --bandwidth-scale: text ("inf", "0.1") or a number from a binding */
static sp_status scale_option(sp_request *rq, const char *opt, int allow_inf, double *out, sp_error *err)
{
    const char *txt = NULL;
    if (!sp_req_has(rq, opt))
        return SP_OK;
    if (sp_req_str(rq, opt, &txt, err) == SP_OK) {
        char what[40];
        snprintf(what, sizeof what, "--%s", opt);
        return parse_scale(what, txt, allow_inf, out, err);
    }
    return sp_req_double(rq, opt, SP_UNIT_NONE, 1e-6, 1e6, out, err);
}

/* One --compare modifier that takes a value (name=value). */
static sp_status parse_valued(const char *tok, want_t *w, sp_error *err)
{
    sp_status st;
    if (strncmp(tok, "tokmb=", 6) == 0) {
        if ((st = sp_parse_quantity(tok + 6, SP_UNIT_NONE, "--compare tokmb=", &w->tokmb, err)))
            return st;
        if (!(w->tokmb >= 1 && w->tokmb <= 2048 && w->tokmb == floor(w->tokmb)))
            return sp_fail(err, SP_EINVAL, "--compare tokmb=%s: tokens per micro-batch must be an integer in 1..2048", tok + 6);
        return SP_OK;
    }
    if (strncmp(tok, "lat=", 4) == 0)
        return parse_scale("--compare lat=", tok + 4, 0, &w->lscale, err);
    if (strncmp(tok, "bw=", 3) == 0)
        return parse_scale("--compare bw=", tok + 3, 1, &w->bscale, err);
    if (strncmp(tok, "batch=", 6) == 0)
        return parse_batch(tok + 6, w, err);
    if (strncmp(tok, "shape=", 6) == 0)
        return parse_fat(tok + 6, w, err);
    if (strncmp(tok, "dur=", 4) == 0) {
        if ((st = sp_parse_quantity(tok + 4, SP_UNIT_TIME, "--compare dur=", &w->dur, err)))
            return st;
        if (!(w->dur >= 3600 && w->dur <= 3.154e9))
            return sp_fail(err, SP_EINVAL, "--compare dur=%s is out of range; allowed 1 h .. 100 years", tok + 4);
        return SP_OK;
    }
    return sp_fail(err, SP_EINVAL, "--compare: unknown modifier '+%s'; allowed +moe +dense +ll +flat +lat=X +bw=X|inf "
                                   "+batch=RULE +shape=fat:K +dur=T, and in full mode +zb +paperlat +noattn +tokmb=T", tok);
}

/* One --compare item: GPU then +modifiers. */
static sp_status parse_item(char *item, want_t *w, sp_error *err)
{
    char *save = NULL;
    char *tok = strtok_r(item, "+", &save);
    if (!tok || !*tok)
        return sp_fail(err, SP_EINVAL, "--compare: empty setting; write GPU[+modifier...], e.g. h100+moe");
    snprintf(w->gpu, sizeof w->gpu, "%s", tok);
    while ((tok = strtok_r(NULL, "+", &save))) {
        sp_status st = SP_OK;
        if (strcmp(tok, "moe") == 0)
            w->moe = 1;
        else if (strcmp(tok, "dense") == 0)
            w->moe = 0;
        else if (strcmp(tok, "ll") == 0)
            w->lscale = 0.1;
        else if (strcmp(tok, "flat") == 0)
            w->flat = 1;
        else if (strcmp(tok, "paperlat") == 0)
            w->paperlat = 1;
        else if (strcmp(tok, "noattn") == 0)
            w->noattn = 1;
        else if (strcmp(tok, "zb") == 0)
            w->zb = 1;
        else
            st = parse_valued(tok, w, err);
        if (st)
            return st;
    }
    return SP_OK;
}

/* The 16 settings of reference §5.1, as --compare items. */
static const char *const paper_items[] = {
    "h100",          "a100",          "v100",          "h100+moe",         "a100+moe",        "v100+moe",
    "h100+ll",       "h100+flat",     "h100+flat+ll",  "h100+flat+bw=inf+ll", "h100+ll+moe",  "h100+flat+moe",
    "h100+flat+ll+moe", "h100+flat+bw=inf+ll+moe", "h100+batch=fixed:4Mi", "h100+batch=deepseek"};

/* The waterfall from full mode to the paper's model: each step adds one idealisation to the previous ones. */
static const char *const waterfall_steps[] = {"", "+zb", "+zb+paperlat", "+zb+paperlat+noattn",
                                              "+zb+paperlat+noattn+tokmb=128", "+zb+paperlat+noattn+tokmb=128+flat"};

static void label_run(const want_t *w, const char *hw, sp_limits_setting *r)
{
    /* label: the GPU, dense/MoE, then every change from the paper's baseline */
    size_t k = (size_t)snprintf(r->name, sizeof r->name, "%s %s", hw, w->moe ? "MoE" : "dense");
#define ADD(...)                                                                                                      \
    do {                                                                                                              \
        if (k < sizeof r->name)                                                                                       \
            k += (size_t)snprintf(r->name + k, sizeof r->name - k, __VA_ARGS__);                                      \
    } while (0)
    if (w->lscale != 1)
        ADD(", latency x%g", w->lscale);
    if (isinf(w->bscale))
        ADD(", infinite bandwidth");
    else if (w->bscale != 1)
        ADD(", bandwidth x%g", w->bscale);
    if (w->flat)
        ADD(", flat network");
    if (w->batch == SP_EPOCH_BATCH_FIXED) {
        if (fmod(w->fixed_tokens, 1048576) == 0)
            ADD(", batch fixed %.0f Mi tokens", w->fixed_tokens / 1048576);
        else
            ADD(", batch fixed %.0f tokens", w->fixed_tokens);
    } else if (w->batch == SP_EPOCH_BATCH_DEEPSEEK)
        ADD(", DeepSeek batch");
    else if (w->batch == SP_EPOCH_BATCH_KAPLAN)
        ADD(", Kaplan batch");
    if (w->fat != 1)
        ADD(", %gx fewer layers", w->fat);
    if (fabs(w->dur - 0.25 * SP_LIMITS_SECONDS_PER_YEAR) > 1)
        ADD(", %.3g months", w->dur * MO_PER_S);
    if (w->zb)
        ADD(", zero-bubble pipeline");
    if (w->paperlat)
        ADD(", paper's latencies");
    if (w->noattn)
        ADD(", no attention");
    if (w->tokmb > 0)
        ADD(", %.0f-token micro-batches", w->tokmb);
#undef ADD
}

/* --mode full: the system preset for a --gpu/--compare name (the paper's GPU names map to their DGX/HGX
 * systems; any other name is a system preset or file). */
static const char *full_system_name(const char *gpu)
{
    static const char *const map[][2] = {{"h100", "dgx-h100"},   {"a100", "dgx-a100-80g"}, {"v100", "dgx2-v100"},
                                         {"h800", "h800-cluster"}, {"h200", "hgx-h200"},     {"b200", "dgx-b200"},
                                         {"mi300x", "mi300x-8"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(gpu, map[i][0]) == 0)
            return map[i][1];
    return gpu;
}

/* A GPU or system that does not load: the error names the option it came from (--gpu or --compare). */
static sp_status fail_setting(const want_t *w, sp_status st, sp_error *err)
{
    if (strcmp(w->opt, "gpu") == 0 || strncmp(err->msg, "--gpu ", 6) != 0)
        return sp_req_named(st, w->opt, err);
    return sp_fail(err, st, "--%s: %s", w->opt, err->msg + 6); /* "--compare: 'b200'; allowed ..." */
}

/* The setting's what-ifs on the paper's GPU: latencies and bandwidths scaled, one flat level. */
static void scale_epoch_gpu(const want_t *w, sp_epoch_gpu *g)
{
    for (int i = 0; i < g->n_levels; i++) {
        g->lat[i] *= w->lscale;
        g->bw[i] *= w->bscale;
    }
    g->latency_per_matmul_s *= w->lscale;
    if (w->flat)
        g->n_levels = 1;
}

/* The sweep rules both modes share: sparsity, duration, batch rule, depth, range. */
static void setting_rules(const want_t *w, const limits_opts *o, sp_epoch_setting *s)
{
    s->sparse = w->moe;
    s->years = w->dur / SP_LIMITS_SECONDS_PER_YEAR;
    s->batch = w->batch;
    if (w->batch == SP_EPOCH_BATCH_FIXED)
        s->fixed_batch_tokens = w->fixed_tokens;
    s->layer_scale = 1 / w->fat;
    s->c_min = o->from;
    s->c_max = o->to;
}

/* One full-mode setting: its system with the stack's kernels (sw, NULL: none) and then the setting's what-ifs. */
static sp_status build_full(const want_t *w, const char *data_dir, const limits_opts *o, const sp_software *sw,
                            sp_limits_setting *r, sp_error *err)
{
    sp_status st;
    if (strchr(w->gpu, '-') && sp_epoch_gpu_load(data_dir, w->gpu, &r->set.gpu, err) == SP_OK &&
        strcasecmp(full_system_name(w->gpu), w->gpu) == 0 && sp_load_system(data_dir, w->gpu, &r->fsys, err) != SP_OK)
        return sp_fail(err, SP_EINVAL, "--gpu '%s' is a variant of the paper's model; with --mode full write it as modifiers of a "
                                       "system (h100+ll, h100+flat, h100+flat+bw=inf) or give a system preset", w->gpu);
    if ((st = sp_load_system(data_dir, full_system_name(w->gpu), &r->fsys, err)))
        return fail_setting(w, st, err);
    r->sys = r->fsys;
    r->have_sys = 1;
    sp_system *y = &r->fsys;
    if (sw) /* the stack's kernel efficiencies and overlap, as search --software (its latencies are the system's) */
        sp_software_apply_system(sw, y);
    for (int i = 0; i < y->n_tiers; i++) {
        y->tier[i].latency_s *= w->lscale;
        y->tier[i].bw = isinf(w->bscale) ? 1e30 : y->tier[i].bw * w->bscale; /* "infinite": 1e30 B/s, no inf arithmetic */
    }
    y->acc.eff.kernel_overhead_s *= w->lscale;
    if (w->flat)
        y->n_tiers = 1; /* the scale-up tier spans the whole cluster */
    sp_epoch_setting *s = &r->set;
    sp_epoch_setting_defaults(s);
    /* the paper's model on the same setting, when the paper has this GPU */
    if (sp_epoch_gpu_load(data_dir, w->gpu, &s->gpu, err) == SP_OK)
        scale_epoch_gpu(w, &s->gpu);
    else
        s->gpu.n_levels = 0; /* marks "no comparison" */
    setting_rules(w, o, s);
    sp_limits_full_defaults(&r->fo);
    r->fo.paper_latency = w->paperlat;
    r->fo.no_attention = w->noattn;
    r->fo.zero_bubble = w->zb;
    r->fo.grad_bytes = o->grad_bytes;
    if (o->kv_heads >= 0)
        r->fo.kv_heads = o->kv_heads;
    if (w->tokmb > 0) /* token micro-batches as sequences of that many tokens (exact once attention is off) */
        s->seq_len = (int)w->tokmb;
    label_run(w, y->name, r);
    r->fo.software = sw;
    if (sw)
        snprintf(r->name + strlen(r->name), sizeof r->name - strlen(r->name), ", %s", sw->name);
    r->fpts = calloc(SP_LIMITS_MAX_POINTS, sizeof *r->fpts);
    return r->fpts ? SP_OK : sp_fail(err, SP_ENOMEM, "out of memory");
}

static sp_status build_epoch(const want_t *w, const char *data_dir, const limits_opts *o, sp_limits_setting *r,
                             sp_error *err)
{
    if (w->paperlat || w->noattn || w->tokmb > 0 || w->zb)
        return sp_fail(err, SP_EINVAL, "+zb, +paperlat, +noattn and +tokmb are idealisations of --mode full (the paper's model has them already)");
    /* the real system whose power and price presets the energy and cost columns use */
    const char *sysname = strncasecmp(w->gpu, "a100", 4) == 0   ? "dgx-a100-80g"
                          : strncasecmp(w->gpu, "v100", 4) == 0 ? "dgx2-v100"
                                                                : "dgx-h100";
    sp_error e2;
    r->have_sys = sp_load_system(data_dir, sysname, &r->sys, &e2) == SP_OK;
    sp_epoch_setting *s = &r->set;
    sp_epoch_setting_defaults(s);
    sp_status st = sp_epoch_gpu_load(data_dir, w->gpu, &s->gpu, err);
    if (st)
        return fail_setting(w, st, err);
    setting_rules(w, o, s);
    scale_epoch_gpu(w, &s->gpu);
    label_run(w, s->gpu.name, r);
    return SP_OK;
}

/* The options of the request that apply to every setting, with their cross-checks. */
static sp_status read_options(sp_request *rq, limits_opts *o, sp_error *err)
{
    const char *mode = NULL, *gpu = NULL, *br = NULL, *shp = NULL;
    int dense = 0;
    sp_status st;
    memset(o, 0, sizeof *o);
    o->kv_heads = -1;
    want_t *b = &o->base;
    *b = (want_t){.lscale = 1, .bscale = 1, .dur = 0.25 * SP_LIMITS_SECONDS_PER_YEAR, .batch = SP_EPOCH_BATCH_DEFAULT,
                  .fixed_tokens = 4194304, .fat = 1};
    if ((st = sp_req_str(rq, "mode", &mode, err)) || (st = sp_req_str(rq, "gpu", &gpu, err)) ||
        (st = sp_req_str(rq, "compare", &o->compare, err)) || (st = sp_req_flag(rq, "dense", &dense, err)) ||
        (st = sp_req_flag(rq, "moe", &b->moe, err)) || (st = sp_req_flag(rq, "flat-network", &b->flat, err)) ||
        (st = sp_req_flag(rq, "waterfall", &o->waterfall, err)))
        return st;
    if (mode && strcmp(mode, "epoch2024") != 0 && strcmp(mode, "full") != 0)
        return sp_fail(err, SP_EINVAL, "--mode '%s'; allowed epoch2024, full", mode);
    o->full = !mode || strcmp(mode, "full") == 0;
    if (!o->full && (sp_req_has(rq, "grad-bytes") || sp_req_has(rq, "kv-heads")))
        return sp_fail(err, SP_EINVAL, "--%s: allowed only with --mode full (the paper's model has no attention and no gradient buffers)",
                       sp_req_has(rq, "grad-bytes") ? "grad-bytes" : "kv-heads");
    if (dense && b->moe)
        return sp_fail(err, SP_EINVAL, "give --dense or --moe, not both");
    if (o->compare && gpu)
        return sp_fail(err, SP_EINVAL, "give --gpu or --compare, not both");
    snprintf(b->gpu, sizeof b->gpu, "%s", gpu ? gpu : "h100");
    b->opt = o->compare ? "compare" : "gpu";
    if (!b->gpu[0])
        return sp_fail(err, SP_EINVAL, "--gpu: empty; expected h100, a100, v100, a system preset or FILE.json");
    if ((st = sp_req_double(rq, "duration", SP_UNIT_TIME, 3600, 3.154e9, &b->dur, err)) ||
        (st = sp_req_double(rq, "from", SP_UNIT_FLOP, 1e15, 1e45, &o->from, err)) ||
        (st = sp_req_double(rq, "to", SP_UNIT_FLOP, 1e15, 1e45, &o->to, err)) ||
        (st = sp_req_int(rq, "threads", 1, 1024, &o->threads, err)) || (st = sp_req_int(rq, "kv-heads", 0, 1 << 20, &o->kv_heads, err)) ||
        (st = sp_req_double(rq, "grad-bytes", SP_UNIT_NONE, 2, 4, &o->grad_bytes, err)) ||
        (st = scale_option(rq, "latency-scale", 0, &b->lscale, err)) || (st = scale_option(rq, "bandwidth-scale", 1, &b->bscale, err)) ||
        (st = sp_req_str(rq, "batch-rule", &br, err)) || (br && (st = parse_batch(br, b, err))) ||
        (st = sp_req_str(rq, "shape", &shp, err)) || (shp && (st = parse_fat(shp, b, err))))
        return st;
    if (o->from > 0 && o->to > 0 && o->from >= o->to)
        return sp_fail(err, SP_EINVAL, "--from %g must be below --to %g", o->from, o->to);
    return SP_OK;
}

/* The settings: one (--gpu), the --compare list, the paper's 16, or the waterfall's steps; comma-separated. */
static sp_status setting_list(const limits_opts *o, char *list, size_t cap, sp_error *err)
{
    if (o->compare && strlen(o->compare) >= cap)
        return sp_fail(err, SP_EINVAL, "--compare: list too long (at most %zu characters)", cap - 1);
    snprintf(list, cap, "%s", o->compare ? o->compare : o->base.gpu);
    size_t k = 0;
    if (o->waterfall) {
        if (o->compare || !o->full)
            return sp_fail(err, SP_EINVAL, "--waterfall is a table of --mode full on one --gpu (no --compare, --json or --csv)");
        for (size_t i = 0; i < sizeof waterfall_steps / sizeof waterfall_steps[0]; i++)
            k += (size_t)snprintf(list + k, cap - k, "%s%s%s", i ? "," : "", o->base.gpu, waterfall_steps[i]);
    }
    if (o->compare && strcmp(o->compare, "paper") == 0)
        for (size_t i = 0; i < sizeof paper_items / sizeof paper_items[0]; i++)
            k += (size_t)snprintf(list + k, cap - k, "%s%s", i ? "," : "", paper_items[i]);
    return SP_OK;
}

static sp_status build_settings(const char *data_dir, const limits_opts *o, sp_limits_report *r, sp_error *err)
{
    const sp_software *sw = r->have_software ? &r->software : NULL;
    char list[1024];
    sp_status st = setting_list(o, list, sizeof list, err);
    if (st)
        return st;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (r->n == SP_LIMITS_MAX_SETTINGS)
            return sp_fail(err, SP_EINVAL, "--compare: at most %d settings", SP_LIMITS_MAX_SETTINGS);
        want_t w = o->base;
        sp_limits_setting *s = &r->set[r->n++];
        if ((st = parse_item(tok, &w, err)) ||
            (st = o->full ? build_full(&w, data_dir, o, sw, s, err) : build_epoch(&w, data_dir, o, s, err)))
            return st;
    }
    if (r->n == 0)
        return sp_fail(err, SP_EINVAL, "--compare: no settings given; expected a list such as h100,a100,v100");
    return SP_OK;
}

/* Energy, CO2e and cloud cost of a run of n GPUs for `hours` at utilization u (docs/energy.md). */
static sp_limits_energy run_energy(const sp_limits_setting *s, double n, double hours, double u)
{
    sp_limits_energy e = {NAN, NAN, NAN};
    if (!s->have_sys)
        return e;
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    sp_energy_result en;
    sp_error err;
    if (sp_energy_estimate(&s->sys, n, hours, u, &eo, &en, &err) == SP_OK)
        e = (sp_limits_energy){en.energy_kwh / 1000, en.co2e_kg / 1000, en.cloud_usd};
    return e;
}

static void point_energies(int full, sp_limits_setting *s)
{
    for (int k = 0; k < s->n; k++) {
        if (full) {
            const sp_limits_full_point *p = &s->fpts[k];
            s->energy[k] = run_energy(s, p->n_gpus, p->gpu_hours / p->n_gpus, p->utilization);
        } else {
            const sp_epoch_point *p = &s->pts[k];
            s->energy[k] = run_energy(s, p->n_gpus, p->months / 12 * SP_LIMITS_SECONDS_PER_YEAR / 3600, p->utilization);
        }
    }
}

/* The sweeps: settings side by side on the threads, or one full-mode setting's plan searches on all of them. */
static sp_status run_sweeps(const limits_opts *o, sp_limits_report *r, sp_error *err)
{
    int nr = r->n, nt = o->threads > 0 ? o->threads : omp_get_max_threads(), fail = -1;
    double t0 = now();
    sp_error *errs = calloc((size_t)nr, sizeof *errs);
    if (!errs)
        return sp_fail(err, SP_ENOMEM, "out of memory");
#pragma omp parallel for schedule(dynamic, 1) num_threads(!o->full || nr > 1 ? nt : 1)
    for (int i = 0; i < nr; i++) {
        double ts = now();
        sp_limits_setting *s = &r->set[i];
        if (o->full) {
            s->fo.threads = nr > 1 ? 1 : nt;
            s->n = sp_limits_full_sweep(&s->set, &s->fsys, &s->fo, s->fpts, SP_LIMITS_MAX_POINTS, &s->sum, &errs[i]);
            if (s->n >= 0 && s->set.gpu.n_levels > 0) /* the paper's model on the same setting */
                sp_epoch_sweep(&s->set, s->pts, SP_LIMITS_MAX_POINTS, &s->esum);
        } else
            s->n = sp_epoch_sweep(&s->set, s->pts, SP_LIMITS_MAX_POINTS, &s->sum);
        s->wall_s = now() - ts;
    }
    r->wall_s = now() - t0;
    for (int i = nr - 1; i >= 0; i--)
        if (r->set[i].n < 0)
            fail = i;
    if (fail >= 0)
        *err = errs[fail];
    free(errs);
    if (fail >= 0)
        return err->status ? err->status : SP_EINVAL;
    for (int i = 0; i < nr; i++)
        point_energies(o->full, &r->set[i]);
    return SP_OK;
}

/* A range that holds no sweep point of any setting is an input error naming the option and what is allowed. */
static sp_status check_range(const limits_opts *o, const sp_limits_report *r, sp_error *err)
{
    for (int i = 0; i < r->n; i++)
        if (r->set[i].n > 0 || r->set[i].sum.stop != SP_EPOCH_STOP_RANGE)
            return SP_OK;
    const sp_epoch_summary *s = &r->set[0].sum;
    if (o->to > 0 && s->largest_feasible_flop == 0 && s->beyond_range_flop > 0)
        return sp_fail(err, SP_EINVAL, "--to %g: below the smallest run of the sweep (%.3g FLOP); allowed --to >= %.3g%s", o->to,
                       s->beyond_range_flop, s->beyond_range_flop, o->from > 0 ? "" : ", or a --from below it to sweep smaller widths");
    if (o->to > 0)
        return sp_fail(err, SP_EINVAL, "--from %g --to %g: no sweep point falls in this range; the nearest are %.3g and %.3g FLOP",
                       o->from, o->to, s->largest_feasible_flop, s->beyond_range_flop);
    return sp_fail(err, SP_EINVAL, "--from %g: above the largest run of the sweep (%.3g FLOP); allowed --from below it", o->from,
                   s->largest_feasible_flop);
}

/* --software: the training stack of every full-mode plan; the paper's model has none to run (refused by name). */
static sp_status read_stack(const char *data_dir, sp_request *rq, const limits_opts *o, sp_limits_report *r,
                            sp_error *err)
{
    if (!o->full && sp_req_has(rq, "software"))
        return sp_fail(err, SP_EINVAL, "--software: the paper's model (--mode epoch2024) has no software stack (its "
                                       "tiled matmuls and latencies are the paper's, not a stack's kernels); allowed only "
                                       "with --mode full");
    return sp_req_stack(rq, data_dir, &r->software, &r->have_software, err);
}

sp_status sp_limits_run(const char *data_dir, sp_request *rq, sp_limits_report *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    limits_opts o;
    sp_status st = read_options(rq, &o, err);
    if (!st)
        st = read_stack(data_dir, rq, &o, r, err);
    if (st)
        return st;
    r->full = o.full;
    r->waterfall = o.waterfall;
    r->set = calloc(SP_LIMITS_MAX_SETTINGS, sizeof *r->set);
    if (!r->set)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    if ((st = build_settings(data_dir, &o, r, err)) || (st = run_sweeps(&o, r, err)) || (st = check_range(&o, r, err))) {
        sp_limits_report_free(r);
        return st;
    }
    return SP_OK;
}

void sp_limits_report_free(sp_limits_report *r)
{
    if (r->set)
        for (int i = 0; i < SP_LIMITS_MAX_SETTINGS; i++)
            free(r->set[i].fpts);
    free(r->set);
    r->set = NULL;
    r->n = 0;
}

const char *sp_limits_empty_reason(const sp_limits_report *r, const sp_limits_setting *s, char *buf, size_t n)
{
    if (s->n > 0)
        return NULL;
    if (s->sum.stop == SP_EPOCH_STOP_WALL && s->sum.largest_feasible_flop == 0)
        snprintf(buf, n, "nothing finishes within %.3g months, not even the smallest run swept (%.3g FLOP)", s->set.years * 12,
                 s->sum.first_infeasible_flop);
    else if (s->sum.stop == SP_EPOCH_STOP_WALL || s->sum.stop == SP_EPOCH_STOP_UTIL)
        snprintf(buf, n, "no feasible run in the requested range: the latency wall is at %.3g FLOP", s->sum.latency_wall_flop);
    else if (s->sum.stop == SP_EPOCH_STOP_CLUSTER_CAP)
        snprintf(buf, n, "the requested range needs clusters of more than %s GPUs, which %s", r->full ? "2^30" : "1.4e17",
                 r->full ? "the plan search does not represent" : "the model does not represent");
    else
        snprintf(buf, n, "no sweep point falls in the requested compute range");
    return buf;
}

/* ---- JSON ---- */

/* A value that does not exist (no linear-regime end in the sweep...) is null. */
static void set_pos(json_t *o, const char *key, double v) { sp_json_set_num(o, key, v > 0 ? v : NAN); }

/* The fields every point of both modes starts with (the interface other tools rely on). */
static json_t *point_head(double c, double u, double n, double d, int layers, double batch)
{
    json_t *o = json_object();
    sp_json_set_num(o, "compute_flop", c);
    sp_json_set_num(o, "utilization", u);
    sp_json_set_num(o, "n_gpus", n);
    sp_json_set_num(o, "d_model", d);
    sp_json_set_int(o, "n_layers", layers);
    sp_json_set_num(o, "batch_tokens", batch);
    return o;
}

static void set_energy(json_t *o, const sp_limits_energy *e)
{
    sp_json_set_num(o, "energy_mwh", e->mwh);
    sp_json_set_num(o, "co2e_t", e->co2e_t);
    sp_json_set_num(o, "cloud_cost_usd", e->cloud_usd);
}

static json_t *split_json(const char *const *names, const double *vals, int n)
{
    json_t *o = json_object();
    for (int i = 0; i < n; i++)
        sp_json_set_num(o, names[i], vals[i]);
    return o;
}

/* A point of the paper's model; `all`: every field (the settings' points), else the top-level interface's. */
static json_t *epoch_point_json(const sp_epoch_point *p, const sp_limits_energy *e, int all)
{
    json_t *o = point_head(p->compute_flop, p->utilization, p->n_gpus, p->d_model, p->layers, p->batch_tokens);
    sp_json_set_int(o, "tp_model", p->tp_model);
    sp_json_set_int(o, "tp_ff", p->tp_ff);
    sp_json_set_int(o, "pp", p->pp);
    sp_json_set_int(o, "interleave", p->interleave);
    sp_json_set_bool(o, "zero_bubble", p->zero_bubble);
    sp_json_set_int(o, "dp", p->dp);
    sp_json_set_int(o, "ep", p->ep);
    if (!all)
        return o;
    sp_json_set_int(o, "sparsity", p->sparsity);
    sp_json_set_num(o, "params", p->params);
    sp_json_set_num(o, "tokens", 20 * p->params); /* Chinchilla D = 20 N (total parameters), as the paper */
    sp_json_set_int(o, "microbatches", p->microbatches);
    sp_json_set_num(o, "months", p->months);
    sp_json_set_num(o, "gpu_hours", p->gpu_hours);
    set_energy(o, e);
    const sp_epoch_split *s = &p->split;
    static const char *const names[] = {"batch_s", "compute_s", "derate_s", "data_movement_s", "kernel_latency_s",
                                        "net_bandwidth_s", "bubble_s", "net_latency_s", "dp_bandwidth_s", "dp_latency_s"};
    double vals[] = {s->batch_s, s->compute, s->derate, s->data_move, s->kernel_lat, s->net_bw, s->bubble, s->net_lat, s->dp_bw, s->dp_lat};
    json_object_set_new(o, "time_split", split_json(names, vals, 10));
    sp_json_set_str(o, "binding", p->binding ? p->binding : "");
    return o;
}

static json_t *full_point_json(const sp_limits_full_point *p, const sp_limits_energy *e)
{
    const sp_plan *q = &p->plan;
    json_t *o = point_head(p->compute_flop, p->utilization, p->n_gpus, p->d_model, p->layers, p->batch_tokens);
    sp_json_set_degrees(o, q);
    sp_json_set_str(o, "recompute", sp_recompute_name(q->recompute));
    sp_json_set_bool(o, "seq_parallel", q->seq_parallel);
    sp_json_set_int(o, "zero", q->zero);
    sp_json_set_int(o, "heads", p->heads);
    sp_json_set_int(o, "kv_heads", p->kv_heads);
    sp_json_set_int(o, "experts", p->experts);
    sp_json_set_num(o, "params", p->params);
    sp_json_set_num(o, "active_params", p->active_params);
    sp_json_set_num(o, "tokens", p->tokens);
    sp_json_set_num(o, "steps", p->steps);
    sp_json_set_num(o, "step_time_s", p->step_time_s);
    sp_json_set_num(o, "months", p->months);
    sp_json_set_num(o, "gpu_hours", p->gpu_hours);
    sp_json_set_num(o, "memory_per_gpu_bytes", p->res.mem.total);
    set_energy(o, e);
    const sp_time_breakdown *t = &p->res.t;
    static const char *const names[] = {"step_s", "compute_s", "memory_bound_s", "tp_comm_s", "cp_comm_s", "ep_comm_s",
                                        "pp_comm_s", "dp_comm_s", "bubble_s", "optimizer_s", "imbalance_s", "latency_s"};
    double vals[] = {p->step_time_s, t->compute, t->memory_bound, t->tp_comm, t->cp_comm, t->ep_comm, t->pp_comm,
                     t->dp_comm, t->bubble, t->optimizer, t->imbalance, p->latency_s};
    json_object_set_new(o, "time_split", split_json(names, vals, 12));
    sp_json_set_str(o, "binding", p->binding ? p->binding : "");
    sp_json_set_int(o, "plans_evaluated", p->plans_evaluated);
    return o;
}

static const char *sweep_end(int full, sp_epoch_stop stop)
{
    return stop == SP_EPOCH_STOP_WALL          ? "latency wall"
           : stop == SP_EPOCH_STOP_UTIL        ? "utilization below 0.001"
           : stop == SP_EPOCH_STOP_CLUSTER_CAP ? (full ? "cluster size limit (2^30 GPUs)" : "cluster size limit (1.4e17 GPUs)")
                                               : "end of range";
}

/* "points":[...], the summary and (full mode) the paper's model's summary of one setting */
static void set_points_summary(json_t *o, int full, const sp_limits_setting *s, int all)
{
    json_t *pts = json_array();
    for (int k = 0; k < s->n; k++)
        json_array_append_new(pts, full ? full_point_json(&s->fpts[k], &s->energy[k]) : epoch_point_json(&s->pts[k], &s->energy[k], all));
    json_object_set_new(o, "points", pts);
    set_pos(o, "linear_regime_end_flop", s->sum.linear_regime_end_flop);
    set_pos(o, "latency_wall_flop", s->sum.latency_wall_flop);
    set_pos(o, "first_infeasible_flop", s->sum.first_infeasible_flop);
    set_pos(o, "largest_feasible_flop", s->sum.largest_feasible_flop);
    sp_json_set_str(o, "sweep_end", sweep_end(full, s->sum.stop));
    sp_json_set_num(o, "max_utilization", s->sum.max_utilization);
    sp_json_set_num(o, "t_limit_flop", s->sum.t_limit_flop);
    sp_json_set_num(o, "t_crit_flop", full ? NAN : s->sum.t_crit_flop);
    if (!full)
        return;
    if (s->set.gpu.n_levels == 0) {
        json_object_set_new(o, "epoch2024", json_null());
        return;
    }
    json_t *e = json_object();
    set_pos(e, "linear_regime_end_flop", s->esum.linear_regime_end_flop);
    set_pos(e, "latency_wall_flop", s->esum.latency_wall_flop);
    sp_json_set_num(e, "max_utilization", s->esum.max_utilization);
    json_object_set_new(o, "epoch2024", e);
}

json_t *sp_limits_json(const sp_limits_report *r)
{
    json_t *o = json_object(), *sets = json_array();
    int any = 0;
    for (int i = 0; i < r->n; i++)
        any |= r->set[i].n > 0;
    sp_json_set_str(o, "mode", r->full ? "full" : "epoch2024");
    if (r->full) /* the training stack of every plan; null: none (the plan search's defaults, docs/limits.md) */
        json_object_set_new(o, "software", r->have_software ? json_string(r->software.name) : json_null());
    sp_json_set_bool(o, "feasible", any);
    for (int i = 0; i < r->n; i++) {
        const sp_limits_setting *s = &r->set[i];
        json_t *j = json_object();
        sp_json_set_str(j, "setting", s->name);
        if (r->full)
            sp_json_set_str(j, "system", s->fsys.name);
        sp_json_set_num(j, "duration_s", s->set.years * SP_LIMITS_SECONDS_PER_YEAR);
        set_points_summary(j, r->full, s, 1);
        char why[256];
        const char *e = sp_limits_empty_reason(r, s, why, sizeof why);
        if (e)
            sp_json_set_str(j, "note", e);
        sp_json_set_num(j, "wall_time_s", s->wall_s);
        json_array_append_new(sets, j);
    }
    json_object_set_new(o, "settings", sets);
    /* the first setting's fields at top level too (the interface other tools rely on) */
    set_points_summary(o, r->full, &r->set[0], 0);
    sp_json_set_num(o, "wall_time_s", r->wall_s);
    return o;
}

sp_status sp_call_limits(const char *data_dir, sp_request *rq, json_t **out, sp_error *err)
{
    sp_limits_report r;
    sp_status st = sp_limits_run(data_dir, rq, &r, err);
    if (st)
        return st;
    *out = sp_limits_json(&r);
    sp_limits_report_free(&r);
    return *out ? SP_OK : sp_fail(err, SP_ENOMEM, "out of memory");
}
