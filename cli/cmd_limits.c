/* scaleplan limits: how far training scales before data movement and latency stop it (Erdil &
 * Schneider-Joseph 2024). --mode epoch2024 reproduces the paper's model; --mode full (default) asks the same
 * question with scaleplan's training model and plan search (src/limits_full.c). */
#include "cli.h"
#include "plot.h"
#include "scaleplan_limits.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const cli_optdef defs[] = {
    {"mode", 1, "full (scaleplan's training model and plan search on a system preset) | epoch2024 (the paper's model) [full]"},
    {"gpu", 1, "h100 | a100 | v100 (full mode: also h800, h200, b200, mi300x or any system preset, e.g. dgx-b200) | h100-low-latency | h100-global-nvlink | h100-global-nvlink-ll | h100-infinite-ll | h100-superpod | a preset of data/epoch_gpus | FILE.json [h100]"},
    {"compare", 1, "settings side by side, comma separated: GPU[+moe|+dense|+ll|+flat|+lat=X|+bw=X|+batch=RULE|+shape=fat:K|+dur=T], full mode also +zb|+paperlat|+noattn|+tokmb=T (the paper's idealisations), or 'paper' (the 16 settings of the paper)"},
    {"duration", 1, "training duration [0.25 y of 3.154e7 s, the paper's 3 months]"},
    {"from", 1, "smallest training compute to report [6e24: the paper's sweep]"},
    {"to", 1, "largest training compute to sweep [until the latency wall]"},
    {"dense", 0, "dense models (default)"},
    {"moe", 0, "sparse (MoE) models: sparsity grows with width (8 experts at d_model 12288)"},
    {"batch-rule", 1, "epoch | kaplan | deepseek | fixed:TOKENS [epoch]"},
    {"shape", 1, "epoch | fat:K (K times fewer layers: shorter and fatter) [epoch]"},
    {"latency-scale", 1, "multiply kernel and network latencies by X [1]"},
    {"bandwidth-scale", 1, "multiply network bandwidths by X, or 'inf' [1]"},
    {"flat-network", 0, "one network level at NVLink bandwidth (no InfiniBand)"},
    {"threads", 1, "threads across settings (full mode with one setting: threads of its plan searches) [all]"},
    {"grad-bytes", 1, "full mode: bytes per gradient held in memory, 2 (bf16 grads) or 4 (fp32 main grads, Megatron) [4]; reduced in 16-bit either way"},
    {"kv-heads", 1, "full mode: key/value heads of the swept models (GQA; 0 = as many as query heads) [8]"},
    {"json", 0, "machine-readable output"},
    {"csv", 0, "one CSV row per point"},
    {"waterfall", 0, "full mode: switch on the paper's idealisations one at a time (zero bubble, its latencies, no attention, token micro-batches, one NVLink network) and print the waterfall (markdown)"},
    {"plot", 1, "utilization vs training compute to FILE.svg or FILE.png"},
};

#define MAXP 160
#define MAXS 24
#define MO_PER_S (12 / 3.154e7) /* the paper's month: a twelfth of its 3.154e7 s year */

typedef struct {
    char name[128];
    sp_system sys; /* energy and cost presets of the matching real system */
    int have_sys;
    sp_epoch_setting set;
    sp_epoch_point pts[MAXP];
    sp_epoch_summary sum;
    int n;
    double wall_s;
    /* --mode full */
    int full;
    sp_system fsys;             /* the hardware of the full model, with the setting's what-ifs applied */
    sp_limits_full_point *fpts; /* MAXP of them */
    sp_epoch_summary esum;      /* the paper's model on the same setting, for the comparison */
    sp_error ferr;
    int ffail;
    sp_limits_full_opts fo;     /* the setting's idealisations (+paperlat, +noattn) */
} run_t;

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

/* Energy (MWh), CO2e (t) and cloud cost ($) of one point: its GPUs for its months at its utilization, with the
 * energy model and the defaults of the matching system preset (docs/energy.md). NaN when no preset loaded. */
static void point_energy(const run_t *r, const sp_epoch_point *p, double *mwh, double *usd, double *co2_t)
{
    *mwh = *usd = *co2_t = NAN;
    if (!r->have_sys)
        return;
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    sp_energy_result en;
    sp_error e;
    if (sp_energy_estimate(&r->sys, p->n_gpus, p->months / 12 * 3.154e7 / 3600, p->utilization, &eo, &en, &e) == SP_OK) {
        *mwh = en.energy_kwh / 1000;
        *usd = en.cloud_usd;
        *co2_t = en.co2e_kg / 1000;
    }
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int parse_batch(const char *br, want_t *w)
{
    sp_error err = {0};
    if (strcmp(br, "epoch") == 0)
        w->batch = SP_EPOCH_BATCH_DEFAULT;
    else if (strcmp(br, "deepseek") == 0)
        w->batch = SP_EPOCH_BATCH_DEEPSEEK;
    else if (strcmp(br, "kaplan") == 0)
        w->batch = SP_EPOCH_BATCH_KAPLAN;
    else if (strncmp(br, "fixed:", 6) == 0) {
        w->batch = SP_EPOCH_BATCH_FIXED;
        if (sp_parse_quantity(br + 6, SP_UNIT_NONE, "--batch-rule fixed:", &w->fixed_tokens, &err))
            return cli_fail("limits", &err);
        if (!(w->fixed_tokens >= 2048 && w->fixed_tokens <= 1e15))
            return cli_error("limits", "--batch-rule %s: the batch must hold at least one 2048-token sequence and at most 1e15 tokens", br);
    } else
        return cli_error("limits", "--batch-rule '%s'; allowed epoch, kaplan, deepseek, fixed:TOKENS", br);
    return 0;
}

static int parse_fat(const char *shp, want_t *w)
{
    sp_error err = {0};
    double k = 0;
    if (strcmp(shp, "epoch") == 0) {
        w->fat = 1;
        return 0;
    }
    if (strncmp(shp, "fat:", 4) != 0 || sp_parse_quantity(shp + 4, SP_UNIT_NONE, "--shape fat:", &k, &err) ||
        !(k >= 1 && k <= 64))
        return cli_error("limits", "--shape '%s'; allowed epoch or fat:K with K in 1..64", shp);
    w->fat = k;
    return 0;
}

static int parse_scale(const char *what, const char *txt, int allow_inf, double *out)
{
    sp_error err = {0};
    if (allow_inf && strcmp(txt, "inf") == 0) {
        *out = INFINITY;
        return 0;
    }
    double v;
    if (sp_parse_quantity(txt, SP_UNIT_NONE, what, &v, &err))
        return cli_fail("limits", &err);
    if (!(v >= 1e-6 && v <= 1e6))
        return cli_error("limits", "%s: %s is out of range; allowed 1e-06..1e+06%s", what, txt, allow_inf ? " or inf" : "");
    *out = v;
    return 0;
}

/* One --compare item: GPU then +modifiers. */
static int parse_item(char *item, want_t *w)
{
    char *save = NULL;
    char *tok = strtok_r(item, "+", &save);
    if (!tok || !*tok)
        return cli_error("limits", "--compare: empty setting; write GPU[+modifier...], e.g. h100+moe");
    snprintf(w->gpu, sizeof w->gpu, "%s", tok);
    while ((tok = strtok_r(NULL, "+", &save))) {
        int rc = 0;
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
        else if (strncmp(tok, "tokmb=", 6) == 0) {
            sp_error err = {0};
            if (sp_parse_quantity(tok + 6, SP_UNIT_NONE, "--compare tokmb=", &w->tokmb, &err))
                return cli_fail("limits", &err);
            if (!(w->tokmb >= 1 && w->tokmb <= 2048 && w->tokmb == floor(w->tokmb)))
                return cli_error("limits", "--compare tokmb=%s: tokens per micro-batch must be an integer in 1..2048", tok + 6);
        }
        else if (strncmp(tok, "lat=", 4) == 0)
            rc = parse_scale("--compare lat=", tok + 4, 0, &w->lscale);
        else if (strncmp(tok, "bw=", 3) == 0)
            rc = parse_scale("--compare bw=", tok + 3, 1, &w->bscale);
        else if (strncmp(tok, "batch=", 6) == 0)
            rc = parse_batch(tok + 6, w);
        else if (strncmp(tok, "shape=", 6) == 0)
            rc = parse_fat(tok + 6, w);
        else if (strncmp(tok, "dur=", 4) == 0) {
            sp_error err = {0};
            if (sp_parse_quantity(tok + 4, SP_UNIT_TIME, "--compare dur=", &w->dur, &err))
                return cli_fail("limits", &err);
            if (!(w->dur >= 3600 && w->dur <= 3.154e9))
                return cli_error("limits", "--compare dur=%s is out of range; allowed 1 h .. 100 years", tok + 4);
        } else
            return cli_error("limits", "--compare: unknown modifier '+%s'; allowed +moe +dense +ll +flat +lat=X +bw=X|inf "
                                       "+batch=RULE +shape=fat:K +dur=T, and in full mode +zb +paperlat +noattn +tokmb=T", tok);
        if (rc)
            return rc;
    }
    return 0;
}

/* The 16 settings of reference §5.1, as --compare items. */
static const char *const paper_items[] = {
    "h100",          "a100",          "v100",          "h100+moe",         "a100+moe",        "v100+moe",
    "h100+ll",       "h100+flat",     "h100+flat+ll",  "h100+flat+bw=inf+ll", "h100+ll+moe",  "h100+flat+moe",
    "h100+flat+ll+moe", "h100+flat+bw=inf+ll+moe", "h100+batch=fixed:4Mi", "h100+batch=deepseek"};

/* The waterfall from full mode to the paper's model: each step adds one idealisation to the previous ones. */
static const char *const waterfall_steps[] = {"", "+zb", "+zb+paperlat", "+zb+paperlat+noattn",
                                              "+zb+paperlat+noattn+tokmb=128", "+zb+paperlat+noattn+tokmb=128+flat"};
static const char *const waterfall_what[] = {
    "full mode (1F1B / interleaved pipelines, real latencies, attention, whole-sequence micro-batches, InfiniBand)",
    "+ zero-bubble pipeline (ZB-H2: no fill/drain bubble)",
    "+ the paper's latencies (1.125 us per hop, 4.5 us per kernel)",
    "+ no attention (MLP-only layers, as the paper's)",
    "+ token-level micro-batches (128 tokens)",
    "+ one NVLink-bandwidth network (DP and TP reductions over the scale-up fabric)"};

/* Why a point is beyond the physical world: more accelerators than exist, more power than any site. Reference
 * values: ~4e6 H100-class accelerators in service by 2025 (Sevilla et al. 2024: 1.5-2M H100 shipped in 2024,
 * with 2023's and the A100s), 5 GW for the largest single campus planned for 2030 (Sevilla et al. 2024), 1.7 kW
 * per H100 all-in (ibid.). */
static const char *beyond(double n_gpus, char *buf, size_t n)
{
    double gw = n_gpus * 1700 / 1e9;
    snprintf(buf, n, "%s%s%s", n_gpus > 4e6 ? "more GPUs than exist (~4e6)" : "", n_gpus > 4e6 && gw > 5 ? "; " : "",
             gw > 5 ? "more power than any site (5 GW)" : "");
    if (!buf[0])
        snprintf(buf, n, "-");
    return buf;
}

static void print_waterfall(const run_t *runs, int nr)
{
    printf("| step | linear-regime end (FLOP) | x | wall: largest feasible run (FLOP) | x | binding there | GPUs there | beyond |\n");
    printf("|---|---:|---:|---:|---:|---|---:|---|\n");
    for (int i = 0; i < nr; i++) {
        const run_t *r = &runs[i];
        const sp_limits_full_point *last = r->n > 0 ? &r->fpts[r->n - 1] : NULL;
        double le = r->sum.linear_regime_end_flop, wl = r->sum.largest_feasible_flop;
        double ple = i ? runs[i - 1].sum.linear_regime_end_flop : 0, pwl = i ? runs[i - 1].sum.largest_feasible_flop : 0;
        char b[160];
        printf("| %s | %.3g | %s%.3g | %.3g%s | %s%.3g | %s | %.3g | %s |\n", i < 6 ? waterfall_what[i] : r->name, le,
               i ? "x" : "", i && ple > 0 ? le / ple : 1, wl,
               r->sum.stop == SP_EPOCH_STOP_CLUSTER_CAP ? " (2^30-GPU cap)" : "", i ? "x" : "", i && pwl > 0 ? wl / pwl : 1,
               last ? last->binding : "-", last ? last->n_gpus : NAN, last ? beyond(last->n_gpus, b, sizeof b) : "-");
    }
    const run_t *p = &runs[0], *q = &runs[nr - 1];
    if (p->set.gpu.n_levels > 0) {
        const sp_epoch_point *lp = p->esum.n_points > 0 ? &p->pts[p->esum.n_points - 1] : NULL;
        char b[160];
        printf("| the paper's model (--mode epoch2024) | %.3g | x%.3g | %.3g | x%.3g | %s | %.3g | %s |\n",
               p->esum.linear_regime_end_flop, p->esum.linear_regime_end_flop / q->sum.linear_regime_end_flop,
               p->esum.largest_feasible_flop, p->esum.largest_feasible_flop / q->sum.largest_feasible_flop,
               lp ? lp->binding : "-", lp ? lp->n_gpus : NAN, lp ? beyond(lp->n_gpus, b, sizeof b) : "-");
    }
}

static void label_run(const want_t *w, const char *hw, run_t *r)
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
    if (w->batch == SP_EPOCH_BATCH_FIXED)
    {
        if (fmod(w->fixed_tokens, 1048576) == 0)
            ADD(", batch fixed %.0f Mi tokens", w->fixed_tokens / 1048576);
        else
            ADD(", batch fixed %.0f tokens", w->fixed_tokens);
    }
    else if (w->batch == SP_EPOCH_BATCH_DEEPSEEK)
        ADD(", DeepSeek batch");
    else if (w->batch == SP_EPOCH_BATCH_KAPLAN)
        ADD(", Kaplan batch");
    if (w->fat != 1)
        ADD(", %gx fewer layers", w->fat);
    if (fabs(w->dur - 0.25 * 3.154e7) > 1)
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
static int fail_setting(const want_t *w, const sp_error *err)
{
    const char *m = err->msg;
    if (strcmp(w->opt, "gpu") == 0 || strncmp(m, "--gpu ", 6) != 0)
        return cli_fail_opt("limits", w->opt, err);
    return cli_error("limits", "--%s: %s", w->opt, m + 6); /* "--compare: 'b200'; allowed ..." */
}

static int build_full(const want_t *w, const char *data_dir, double from, double to, run_t *r)
{
    sp_error err = {0};
    if (strchr(w->gpu, '-') && sp_epoch_gpu_load(data_dir, w->gpu, &r->set.gpu, &err) == SP_OK &&
        strcasecmp(full_system_name(w->gpu), w->gpu) == 0 && sp_load_system(data_dir, w->gpu, &r->fsys, &err) != SP_OK)
        return cli_error("limits", "--gpu '%s' is a variant of the paper's model; with --mode full write it as modifiers of a "
                                   "system (h100+ll, h100+flat, h100+flat+bw=inf) or give a system preset", w->gpu);
    if (sp_load_system(data_dir, full_system_name(w->gpu), &r->fsys, &err))
        return fail_setting(w, &err);
    r->full = 1;
    r->sys = r->fsys;
    r->have_sys = 1;
    sp_system *y = &r->fsys;
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
    int have_epoch = sp_epoch_gpu_load(data_dir, w->gpu, &s->gpu, &err) == SP_OK;
    if (have_epoch) {
        for (int i = 0; i < s->gpu.n_levels; i++) {
            s->gpu.lat[i] *= w->lscale;
            s->gpu.bw[i] *= w->bscale;
        }
        s->gpu.latency_per_matmul_s *= w->lscale;
        if (w->flat)
            s->gpu.n_levels = 1;
    } else
        s->gpu.n_levels = 0; /* marks "no comparison" */
    s->sparse = w->moe;
    s->years = w->dur / 3.154e7;
    s->batch = w->batch;
    if (w->batch == SP_EPOCH_BATCH_FIXED)
        s->fixed_batch_tokens = w->fixed_tokens;
    s->layer_scale = 1 / w->fat;
    s->c_min = from;
    s->c_max = to;
    sp_limits_full_defaults(&r->fo);
    r->fo.paper_latency = w->paperlat;
    r->fo.no_attention = w->noattn;
    r->fo.zero_bubble = w->zb;
    if (w->tokmb > 0) /* token micro-batches as sequences of that many tokens (exact once attention is off) */
        s->seq_len = (int)w->tokmb;
    label_run(w, y->name, r);
    r->fpts = calloc(MAXP, sizeof *r->fpts);
    if (!r->fpts)
        return cli_error("limits", "out of memory");
    return 0;
}

static int build_run(const want_t *w, const char *data_dir, double from, double to, run_t *r)
{
    sp_error err = {0};
    if (w->paperlat || w->noattn || w->tokmb > 0 || w->zb)
        return cli_error("limits", "+zb, +paperlat, +noattn and +tokmb are idealisations of --mode full (the paper's model has them already)");
    /* the real system whose power and price presets the energy and cost columns use */
    const char *sysname = strncasecmp(w->gpu, "a100", 4) == 0   ? "dgx-a100-80g"
                          : strncasecmp(w->gpu, "v100", 4) == 0 ? "dgx2-v100"
                                                                : "dgx-h100";
    sp_error e2;
    r->have_sys = sp_load_system(data_dir, sysname, &r->sys, &e2) == SP_OK;
    sp_epoch_setting *s = &r->set;
    sp_epoch_setting_defaults(s);
    if (sp_epoch_gpu_load(data_dir, w->gpu, &s->gpu, &err))
        return fail_setting(w, &err);
    s->sparse = w->moe;
    s->years = w->dur / 3.154e7;
    s->batch = w->batch;
    if (w->batch == SP_EPOCH_BATCH_FIXED)
        s->fixed_batch_tokens = w->fixed_tokens;
    s->layer_scale = 1 / w->fat;
    for (int i = 0; i < s->gpu.n_levels; i++) {
        s->gpu.lat[i] *= w->lscale;
        s->gpu.bw[i] *= w->bscale;
    }
    s->gpu.latency_per_matmul_s *= w->lscale;
    if (w->flat)
        s->gpu.n_levels = 1;
    s->c_min = from;
    s->c_max = to;
    label_run(w, s->gpu.name, r);
    return 0;
}

/* The reason a setting has no points, in words (NULL when it has some). */
static const char *empty_reason(const run_t *r, char *buf, size_t n)
{
    if (r->n > 0)
        return NULL;
    if (r->sum.stop == SP_EPOCH_STOP_WALL && r->sum.largest_feasible_flop == 0)
        snprintf(buf, n, "nothing finishes within %.3g months, not even the smallest run swept (%.3g FLOP)", r->set.years * 12,
                 r->sum.first_infeasible_flop);
    else if (r->sum.stop == SP_EPOCH_STOP_WALL || r->sum.stop == SP_EPOCH_STOP_UTIL)
        snprintf(buf, n, "no feasible run in the requested range: the latency wall is at %.3g FLOP", r->sum.latency_wall_flop);
    else if (r->sum.stop == SP_EPOCH_STOP_CLUSTER_CAP)
        snprintf(buf, n, "the requested range needs clusters of more than %s GPUs, which %s", r->full ? "2^30" : "1.4e17",
                 r->full ? "the plan search does not represent" : "the model does not represent");
    else
        snprintf(buf, n, "no sweep point falls in the requested compute range");
    return buf;
}

/* The fields every point of both modes starts with (the interface other tools rely on). */
static void json_point_head(double c, double u, double n, double d, int layers, double batch)
{
    printf("{\"compute_flop\":");
    cli_json_num(stdout, c);
    printf(",\"utilization\":");
    cli_json_num(stdout, u);
    printf(",\"n_gpus\":");
    cli_json_num(stdout, n);
    printf(",\"d_model\":%.0f,\"n_layers\":%d,\"batch_tokens\":", d, layers);
    cli_json_num(stdout, batch);
}

static void json_point(const run_t *r, const sp_epoch_point *p, int full)
{
    json_point_head(p->compute_flop, p->utilization, p->n_gpus, p->d_model, p->layers, p->batch_tokens);
    printf(",\"tp_model\":%d,\"tp_ff\":%d,\"pp\":%d,\"interleave\":%d,\"zero_bubble\":%s,\"dp\":%d,\"ep\":%d", p->tp_model,
           p->tp_ff, p->pp, p->interleave, p->zero_bubble ? "true" : "false", p->dp, p->ep);
    if (full) {
        printf(",\"sparsity\":%d,\"params\":", p->sparsity);
        cli_json_num(stdout, p->params);
        printf(",\"tokens\":");
        cli_json_num(stdout, 20 * p->params); /* Chinchilla D = 20 N (total parameters), as the paper */
        printf(",\"microbatches\":%d,\"months\":", p->microbatches);
        cli_json_num(stdout, p->months);
        printf(",\"gpu_hours\":");
        cli_json_num(stdout, p->gpu_hours);
        double mwh, usd, co2;
        point_energy(r, p, &mwh, &usd, &co2);
        printf(",\"energy_mwh\":");
        cli_json_num(stdout, mwh);
        printf(",\"co2e_t\":");
        cli_json_num(stdout, co2);
        printf(",\"cloud_cost_usd\":");
        cli_json_num(stdout, usd);
        const sp_epoch_split *s = &p->split;
        const char *names[] = {"batch_s", "compute_s", "derate_s", "data_movement_s", "kernel_latency_s", "net_bandwidth_s",
                               "bubble_s", "net_latency_s", "dp_bandwidth_s", "dp_latency_s"};
        double vals[] = {s->batch_s, s->compute, s->derate, s->data_move, s->kernel_lat, s->net_bw, s->bubble, s->net_lat, s->dp_bw, s->dp_lat};
        printf(",\"time_split\":{");
        for (int i = 0; i < 10; i++) {
            printf("%s\"%s\":", i ? "," : "", names[i]);
            cli_json_num(stdout, vals[i]);
        }
        printf("},\"binding\":\"%s\"", p->binding ? p->binding : "");
    }
    printf("}");
}

static void json_summary(const run_t *r)
{
    printf("\"linear_regime_end_flop\":");
    cli_json_num(stdout, r->sum.linear_regime_end_flop > 0 ? r->sum.linear_regime_end_flop : NAN);
    printf(",\"latency_wall_flop\":");
    cli_json_num(stdout, r->sum.latency_wall_flop > 0 ? r->sum.latency_wall_flop : NAN);
    printf(",\"first_infeasible_flop\":");
    cli_json_num(stdout, r->sum.first_infeasible_flop > 0 ? r->sum.first_infeasible_flop : NAN);
    printf(",\"largest_feasible_flop\":");
    cli_json_num(stdout, r->sum.largest_feasible_flop > 0 ? r->sum.largest_feasible_flop : NAN);
    printf(",\"sweep_end\":\"%s\"", r->sum.stop == SP_EPOCH_STOP_WALL          ? "latency wall"
                                      : r->sum.stop == SP_EPOCH_STOP_UTIL        ? "utilization below 0.001"
                                      : r->sum.stop == SP_EPOCH_STOP_CLUSTER_CAP ? (r->full ? "cluster size limit (2^30 GPUs)" : "cluster size limit (1.4e17 GPUs)")
                                                                                 : "end of range");
    printf(",\"max_utilization\":");
    cli_json_num(stdout, r->sum.max_utilization);
    printf(",\"t_limit_flop\":");
    cli_json_num(stdout, r->sum.t_limit_flop);
    printf(",\"t_crit_flop\":");
    cli_json_num(stdout, r->full ? NAN : r->sum.t_crit_flop);
}

static void free_runs(run_t *runs, int n)
{
    for (int i = 0; i < n && i < MAXS; i++)
        free(runs[i].fpts);
    free(runs);
}

static const char *rc_short(sp_recompute r) { return r == SP_RECOMPUTE_FULL ? "full" : r == SP_RECOMPUTE_SELECTIVE ? "sel" : "none"; }

static void json_point_full(const run_t *r, const sp_limits_full_point *p)
{
    const sp_plan *q = &p->plan;
    json_point_head(p->compute_flop, p->utilization, p->n_gpus, p->d_model, p->layers, p->batch_tokens);
    printf(",\"tp\":%d,\"pp\":%d,\"dp\":%d,\"cp\":%d,\"ep\":%d,\"vpp\":%d,\"micro_batch\":%d,\"recompute\":\"%s\","
           "\"seq_parallel\":%s,\"zero\":%d",
           q->tp, q->pp, q->dp, q->cp, q->ep, q->vpp, q->micro_batch, sp_recompute_name(q->recompute),
           q->seq_parallel ? "true" : "false", q->zero);
    printf(",\"heads\":%d,\"kv_heads\":%d,\"experts\":%d,\"params\":", p->heads, p->kv_heads, p->experts);
    cli_json_num(stdout, p->params);
    printf(",\"active_params\":");
    cli_json_num(stdout, p->active_params);
    printf(",\"tokens\":");
    cli_json_num(stdout, p->tokens);
    printf(",\"steps\":");
    cli_json_num(stdout, p->steps);
    printf(",\"step_time_s\":");
    cli_json_num(stdout, p->step_time_s);
    printf(",\"months\":");
    cli_json_num(stdout, p->months);
    printf(",\"gpu_hours\":");
    cli_json_num(stdout, p->gpu_hours);
    printf(",\"memory_per_gpu_bytes\":");
    cli_json_num(stdout, p->res.mem.total);
    double mwh, usd, co2;
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    sp_energy_result en;
    sp_error e;
    mwh = usd = co2 = NAN;
    if (sp_energy_estimate(&r->sys, p->n_gpus, p->gpu_hours / p->n_gpus, p->utilization, &eo, &en, &e) == SP_OK) {
        mwh = en.energy_kwh / 1000;
        usd = en.cloud_usd;
        co2 = en.co2e_kg / 1000;
    }
    printf(",\"energy_mwh\":");
    cli_json_num(stdout, mwh);
    printf(",\"co2e_t\":");
    cli_json_num(stdout, co2);
    printf(",\"cloud_cost_usd\":");
    cli_json_num(stdout, usd);
    const sp_time_breakdown *t = &p->res.t;
    const char *names[] = {"step_s", "compute_s", "memory_bound_s", "tp_comm_s", "cp_comm_s", "ep_comm_s", "pp_comm_s",
                           "dp_comm_s", "bubble_s", "optimizer_s", "imbalance_s", "latency_s"};
    double vals[] = {p->step_time_s, t->compute, t->memory_bound, t->tp_comm, t->cp_comm, t->ep_comm, t->pp_comm,
                     t->dp_comm, t->bubble, t->optimizer, t->imbalance, p->latency_s};
    printf(",\"time_split\":{");
    for (int i = 0; i < 12; i++) {
        printf("%s\"%s\":", i ? "," : "", names[i]);
        cli_json_num(stdout, vals[i]);
    }
    printf("},\"binding\":\"%s\",\"plans_evaluated\":%lld}", p->binding ? p->binding : "", p->plans_evaluated);
}

/* The paper's model on the same setting: its summary, for the comparison. */
static void json_epoch_cmp(const run_t *r)
{
    if (r->set.gpu.n_levels == 0) {
        printf(",\"epoch2024\":null");
        return;
    }
    printf(",\"epoch2024\":{\"linear_regime_end_flop\":");
    cli_json_num(stdout, r->esum.linear_regime_end_flop > 0 ? r->esum.linear_regime_end_flop : NAN);
    printf(",\"latency_wall_flop\":");
    cli_json_num(stdout, r->esum.latency_wall_flop > 0 ? r->esum.latency_wall_flop : NAN);
    printf(",\"max_utilization\":");
    cli_json_num(stdout, r->esum.max_utilization);
    printf("}");
}

/* "points":[...], the summary and the paper's model's summary of one setting */
static void json_points_full(const run_t *r)
{
    printf("\"points\":[");
    for (int k = 0; k < r->n; k++) {
        if (k)
            putchar(',');
        json_point_full(r, &r->fpts[k]);
    }
    printf("],");
    json_summary(r);
    json_epoch_cmp(r);
}

/* The summary lines under a setting's table (both modes). */
/* Points past a million GPUs are arithmetic on the model, not plans anyone could build: said so, with the
 * scale of the largest clusters (xAI Colossus: 100,000 H100 in 2024, 200,000 GPUs announced in 2025) and the
 * power such a count would draw at ~1 kW per H100 with its host share and PUE (docs/energy.md's activity model
 * gives 0.9-1.2 kW per GPU at these utilizations). */
static void scale_note(double most_gpus)
{
    if (most_gpus <= 1e6)
        return;
    printf("  physical scale: points past 1e6 GPUs (here up to %.3g) are extrapolations of the model, not plans: the\n"
           "  largest clusters built hold ~1e5-2e5 GPUs (xAI Colossus, 2024-25), and 1e8 GPUs at ~1 kW each would draw\n"
           "  ~100 GW, about a tenth of the US grid's generating capacity\n", most_gpus);
}

static void print_summary_text(const run_t *r)
{
    char why[256];
    const char *e = empty_reason(r, why, sizeof why);
    if (e)
        printf("  %s\n", e);
    printf("\n  maximum utilization%s %.3f; linear regime ends (U <= 0.8 x max) at ", r->full ? " (MFU)" : "", r->sum.max_utilization);
    if (r->sum.linear_regime_end_flop > 0)
        printf("%.3g FLOP\n", r->sum.linear_regime_end_flop);
    else
        printf("(not reached in the sweep)\n");
    if (r->sum.stop == SP_EPOCH_STOP_WALL && r->sum.largest_feasible_flop > 0)
        printf("  latency wall: largest feasible run %.3g FLOP; nothing finishes in time at %.3g FLOP\n",
               r->sum.latency_wall_flop, r->sum.first_infeasible_flop);
    else if (r->sum.stop == SP_EPOCH_STOP_WALL)
        printf("  latency wall: below the sweep (nothing finishes in time at %.3g FLOP)\n", r->sum.first_infeasible_flop);
    else if (r->sum.stop == SP_EPOCH_STOP_UTIL)
        printf("  latency wall: largest feasible run %.3g FLOP (utilization fell below 0.001: the paper stops there)\n",
               r->sum.latency_wall_flop);
    else if (r->sum.stop == SP_EPOCH_STOP_CLUSTER_CAP)
        printf("  latency wall: not reached; the sweep stops after %.3g FLOP because larger runs need more than %s GPUs, "
               "which the %s does not represent\n", r->sum.largest_feasible_flop, r->full ? "2^30" : "1.4e17",
               r->full ? "plan search" : "model");
    else if (r->sum.largest_feasible_flop > 0)
        printf("  latency wall: beyond the swept range (the largest run swept, %.3g FLOP, still finishes)\n",
               r->sum.largest_feasible_flop);
}

static void print_full(const cli_args *a, run_t *runs, int nr, double wall)
{
    char why[256];
    int any = 0;
    for (int i = 0; i < nr; i++)
        any |= runs[i].n > 0;
    if (cli_flag(a, "json")) {
        printf("{\"mode\":\"full\",\"feasible\":%s,\"settings\":[", any ? "true" : "false");
        for (int i = 0; i < nr; i++) {
            run_t *r = &runs[i];
            printf("%s{\"setting\":\"%s\",\"system\":\"%s\",\"duration_s\":", i ? "," : "", r->name, r->fsys.name);
            cli_json_num(stdout, r->set.years * 3.154e7);
            printf(",");
            json_points_full(r);
            const char *e = empty_reason(r, why, sizeof why);
            if (e)
                printf(",\"note\":\"%s\"", e);
            printf(",\"wall_time_s\":");
            cli_json_num(stdout, r->wall_s);
            printf("}");
        }
        run_t *r = &runs[0]; /* the first setting's fields at top level too, as in epoch2024 mode */
        printf("],");
        json_points_full(r);
        printf(",\"wall_time_s\":");
        cli_json_num(stdout, wall);
        printf("}\n");
        return;
    }
    if (cli_flag(a, "csv")) {
        printf("setting,compute_flop,d_model,layers,heads,kv_heads,experts,params,active_params,tokens,batch_tokens,months,"
               "utilization,n_gpus,tp,cp,pp,vpp,dp,ep,micro_batch,recompute,seq_parallel,zero,step_s,compute_s,memory_bound_s,"
               "tp_comm_s,cp_comm_s,ep_comm_s,pp_comm_s,dp_comm_s,bubble_s,optimizer_s,imbalance_s,latency_s,"
               "memory_per_gpu_bytes,gpu_hours,binding\n");
        for (int i = 0; i < nr; i++)
            for (int k = 0; k < runs[i].n; k++) {
                const sp_limits_full_point *p = &runs[i].fpts[k];
                const sp_plan *q = &p->plan;
                const sp_time_breakdown *t = &p->res.t;
                printf("\"%s\",%.4e,%.0f,%d,%d,%d,%d,%.4e,%.4e,%.4e,%.4e,%.3f,%.4f,%.4e,%d,%d,%d,%d,%d,%d,%d,%s,%d,%d,"
                       "%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.4e,%.4e,%s\n",
                       runs[i].name, p->compute_flop, p->d_model, p->layers, p->heads, p->kv_heads, p->experts, p->params,
                       p->active_params, p->tokens, p->batch_tokens, p->months, p->utilization, p->n_gpus, q->tp, q->cp,
                       q->pp, q->vpp, q->dp, q->ep, q->micro_batch, sp_recompute_name(q->recompute), q->seq_parallel, q->zero,
                       p->step_time_s, t->compute, t->memory_bound, t->tp_comm, t->cp_comm, t->ep_comm, t->pp_comm,
                       t->dp_comm, t->bubble, t->optimizer, t->imbalance, p->latency_s, p->res.mem.total, p->gpu_hours,
                       p->binding);
            }
        for (int i = 0; i < nr; i++) {
            const char *e = empty_reason(&runs[i], why, sizeof why);
            if (e)
                fprintf(stderr, "scaleplan limits: %s: %s\n", runs[i].name, e);
        }
        return;
    }
    for (int i = 0; i < nr; i++) {
        run_t *r = &runs[i];
        printf("scaleplan limits (full training model): %s%s\n\n", r->name, strstr(r->name, "months") ? "" : ", 3 months");
        if (r->n)
            printf("  %10s %8s %4s %3s %9s %9s %6s %9s %4s %3s %7s %6s %4s %3s %4s  %-31s  %s\n", "C (FLOP)", "d_model", "L", "E",
                   "params", "batch", "MFU", "GPUs", "TP", "CP", "PP(v)", "DP", "EP", "mb", "rc", "cmp mem  tp  pp  ep  dp bub lat",
                   "binding limit");
        for (int k = 0; k < r->n; k++) {
            const sp_limits_full_point *p = &r->fpts[k];
            const sp_plan *q = &p->plan;
            const sp_time_breakdown *t = &p->res.t;
            char pp[24], sp[64];
            snprintf(pp, sizeof pp, "%d(%d)", q->pp, q->vpp);
            double b = p->step_time_s > 0 ? 100 / p->step_time_s : 0;
            snprintf(sp, sizeof sp, "%3.0f %3.0f %3.0f %3.0f %3.0f %3.0f %3.0f %3.0f", t->compute * b, t->memory_bound * b,
                     t->tp_comm * b, (t->pp_comm + t->cp_comm) * b, t->ep_comm * b, t->dp_comm * b, t->bubble * b,
                     p->latency_s * b);
            printf("  %10.3e %8.0f %4d %3d %9.3e %9.3e %6.3f %9.3e %4d %3d %7s %6d %4d %3d %4s  %-31s  %s\n", p->compute_flop,
                   p->d_model, p->layers, p->experts, p->params, p->batch_tokens, p->utilization, p->n_gpus, q->tp, q->cp, pp,
                   q->dp, q->ep, q->micro_batch, rc_short(q->recompute), sp,
                   p->utilization > 0.8 * r->sum.max_utilization ? "- (linear regime)" : p->binding);
        }
        print_summary_text(r);
        double most = 0;
        for (int k = 0; k < r->n; k++)
            most = r->fpts[k].n_gpus > most ? r->fpts[k].n_gpus : most;
        scale_note(most);
        printf("  closed-form latency limit (reference §4, alpha = 0) with this system's latencies (%.3g us per layer step): "
               "%.3g FLOP\n", 1e6 * (r->fsys.acc.eff.kernel_overhead_s + 4 * r->fsys.tier[0].latency_s), r->sum.t_limit_flop);
        if (r->set.gpu.n_levels > 0) {
            printf("  the paper's model on this setting (--mode epoch2024): max utilization %.2f, linear regime ends at ",
                   r->esum.max_utilization);
            if (r->esum.linear_regime_end_flop > 0)
                printf("%.3g FLOP", r->esum.linear_regime_end_flop);
            else
                printf("(not reached)");
            if (r->esum.latency_wall_flop > 0)
                printf(", latency wall %.3g FLOP", r->esum.latency_wall_flop);
            if (r->sum.linear_regime_end_flop > 0 && r->esum.linear_regime_end_flop > 0)
                printf("; full/paper: linear end x%.2g", r->sum.linear_regime_end_flop / r->esum.linear_regime_end_flop);
            if (r->sum.latency_wall_flop > 0 && r->esum.latency_wall_flop > 0)
                printf(", wall x%.2g", r->sum.latency_wall_flop / r->esum.latency_wall_flop);
            printf("\n");
        }
        printf("\n");
    }
    printf("  %% of step time: cmp = GEMMs + attention, mem = memory-bound kernels, tp = TP communication, pp = pipeline +\n"
           "  context-parallel exchange, ep = expert all-to-all, dp = data-parallel/ZeRO, bub = pipeline bubble (the rest:\n"
           "  optimizer, embedding/LM-head stage imbalance); lat = the part of all of these that is kernel-launch and network\n"
           "  latency (the step minus the same plan's with zero latencies). rc = activation recompute. Why this differs from\n"
           "  the paper's model: docs/limits.md.\n"
           "  swept in %.3f s\n", wall);
}

/* The figure a reader of the paper expects: utilization vs compute, one curve per setting, the 80 % line and
 * the walls. Drawn before anything is printed, so a failure leaves stdout empty. */
static int draw_plot(const char *path, const run_t *runs, int nr)
{
    plot_chart ch;
    memset(&ch, 0, sizeof ch);
    int full = runs[0].full;
    ch.title = full ? "Utilization vs training compute (scaleplan's training model; dashed: the paper's model)"
                    : "Utilization vs training compute (epoch2024 model)";
    ch.xlabel = "training compute (FLOP)";
    ch.ylabel = full ? "utilization (MFU of the best plan)" : "utilization (MFU vs max-clock peak)";
    ch.logx = 1;
    static double xs[2 * MAXS][MAXP], ys[2 * MAXS][MAXP];
    static char lbl[PLOT_MAX_REFS + 1][80], ename[MAXS][160];
    int per = full ? 2 : 1, shown = PLOT_MAX_SERIES / per;
    if (nr > shown)
        fprintf(stderr, "scaleplan limits: note: the plot shows the first %d of %d settings\n", shown, nr);
    for (int i = 0; i < nr && i < shown; i++) {
        int n = 0;
        for (int k = 0; k < runs[i].n; k++, n++) {
            xs[i][k] = full ? runs[i].fpts[k].compute_flop : runs[i].pts[k].compute_flop;
            ys[i][k] = full ? runs[i].fpts[k].utilization : runs[i].pts[k].utilization;
        }
        ch.series[ch.nseries++] = (plot_series){runs[i].name, xs[i], ys[i], n, 2};
        if (full && runs[i].esum.n_points > 0) {
            int j = MAXS + i;
            for (int k = 0; k < runs[i].esum.n_points; k++) {
                xs[j][k] = runs[i].pts[k].compute_flop;
                ys[j][k] = runs[i].pts[k].utilization;
            }
            snprintf(ename[i], sizeof ename[i], "%s (paper's model)", runs[i].name);
            ch.series[ch.nseries++] = (plot_series){ename[i], xs[j], ys[j], runs[i].esum.n_points, 0};
        }
    }
    snprintf(lbl[0], sizeof lbl[0], "80 %% of max utilization (%.2f)", 0.8 * runs[0].sum.max_utilization);
    ch.hline[ch.nh++] = (plot_ref){0.8 * runs[0].sum.max_utilization, lbl[0]};
    for (int i = 0; i < nr && ch.nv < PLOT_MAX_REFS; i++) {
        if (!(runs[i].sum.stop == SP_EPOCH_STOP_WALL && runs[i].sum.latency_wall_flop > 0))
            continue;
        int dup = 0; /* settings that hit the same wall share one line */
        for (int k = 0; k < ch.nv; k++)
            dup |= ch.vline[k].value == runs[i].sum.latency_wall_flop;
        if (dup)
            continue;
        snprintf(lbl[ch.nv + 1], sizeof lbl[0], "latency wall %.2g", runs[i].sum.latency_wall_flop);
        ch.vline[ch.nv] = (plot_ref){runs[i].sum.latency_wall_flop, lbl[ch.nv + 1]};
        ch.nv++;
    }
    char perr[512];
    if (plot_write(path, &ch, 1, perr, sizeof perr))
        return cli_error("limits", "%s", perr);
    return 0;
}

int cmd_limits(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "limits", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan limits [--mode full|epoch2024] [--gpu h100|a100|v100|<variant>] [--compare h100,a100+moe,...|paper]\n"
                       "                        [--duration 3mo] [--from 1e24 --to 1e33] [--dense|--moe]\n"
                       "                        [--batch-rule epoch|kaplan|deepseek|fixed:4Mi] [--shape epoch|fat:K] [--latency-scale X]\n"
                       "                        [--bandwidth-scale X|inf] [--flat-network] [--json|--csv] [--plot FILE.svg]");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("limits", "unexpected argument '%s'", a.pos[0]);
    const char *mode = cli_get(&a, "mode");
    if (mode && strcmp(mode, "epoch2024") != 0 && strcmp(mode, "full") != 0)
        return cli_error("limits", "--mode '%s'; allowed epoch2024, full", mode);
    int full = !mode || strcmp(mode, "full") == 0;
    if (!full && (cli_get(&a, "grad-bytes") || cli_get(&a, "kv-heads")))
        return cli_error("limits", "--%s: allowed only with --mode full (the paper's model has no attention and no gradient buffers)",
                         cli_get(&a, "grad-bytes") ? "grad-bytes" : "kv-heads");
    if (cli_flag(&a, "dense") && cli_flag(&a, "moe"))
        return cli_error("limits", "give --dense or --moe, not both");
    if (cli_flag(&a, "json") && cli_flag(&a, "csv"))
        return cli_error("limits", "give --json or --csv, not both");
    if (cli_get(&a, "compare") && cli_get(&a, "gpu"))
        return cli_error("limits", "give --gpu or --compare, not both");
    want_t base = {.moe = cli_flag(&a, "moe"), .lscale = 1, .bscale = 1, .dur = 0.25 * 3.154e7,
                   .flat = cli_flag(&a, "flat-network"), .batch = SP_EPOCH_BATCH_DEFAULT, .fixed_tokens = 4194304, .fat = 1};
    snprintf(base.gpu, sizeof base.gpu, "%s", cli_get(&a, "gpu") ? cli_get(&a, "gpu") : "h100");
    base.opt = cli_get(&a, "compare") ? "compare" : "gpu";
    if (!base.gpu[0])
        return cli_error("limits", "--gpu: empty; expected h100, a100, v100, a system preset or FILE.json");
    double from = 0, to = 0;
    int threads = 0, kv_heads = -1;
    double grad_bytes = 0;
    if ((rc = cli_double(&a, "duration", SP_UNIT_TIME, 3600, 3.154e9, &base.dur)) ||
        (rc = cli_double(&a, "from", SP_UNIT_FLOP, 1e15, 1e45, &from)) || (rc = cli_double(&a, "to", SP_UNIT_FLOP, 1e15, 1e45, &to)) ||
        (rc = cli_int(&a, "threads", 1, 1024, &threads)) || (rc = cli_int(&a, "kv-heads", 0, 1 << 20, &kv_heads)) ||
        (rc = cli_double(&a, "grad-bytes", SP_UNIT_NONE, 2, 4, &grad_bytes)))
        return rc;
    if (cli_get(&a, "latency-scale") && (rc = parse_scale("--latency-scale", cli_get(&a, "latency-scale"), 0, &base.lscale)))
        return rc;
    if (cli_get(&a, "bandwidth-scale") && (rc = parse_scale("--bandwidth-scale", cli_get(&a, "bandwidth-scale"), 1, &base.bscale)))
        return rc;
    if (cli_get(&a, "batch-rule") && (rc = parse_batch(cli_get(&a, "batch-rule"), &base)))
        return rc;
    if (cli_get(&a, "shape") && (rc = parse_fat(cli_get(&a, "shape"), &base)))
        return rc;
    if (from > 0 && to > 0 && from >= to)
        return cli_error("limits", "--from %g must be below --to %g", from, to);

    /* settings: one (--gpu), or the --compare list */
    const char *cmp = cli_get(&a, "compare");
    char list[1024];
    if (cmp && strlen(cmp) >= sizeof list)
        return cli_error("limits", "--compare: list too long (at most %zu characters)", sizeof list - 1);
    snprintf(list, sizeof list, "%s", cmp ? cmp : base.gpu);
    if (cli_flag(&a, "waterfall")) {
        if (cmp || !full || cli_flag(&a, "json") || cli_flag(&a, "csv"))
            return cli_error("limits", "--waterfall is a table of --mode full on one --gpu (no --compare, --json or --csv)");
        size_t k = 0;
        for (size_t i = 0; i < sizeof waterfall_steps / sizeof waterfall_steps[0]; i++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s%s", i ? "," : "", base.gpu, waterfall_steps[i]);
    }
    if (cmp && strcmp(cmp, "paper") == 0) {
        size_t k = 0;
        for (size_t i = 0; i < sizeof paper_items / sizeof paper_items[0]; i++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? "," : "", paper_items[i]);
    }
    run_t *runs = calloc(MAXS, sizeof *runs);
    if (!runs)
        return cli_error("limits", "out of memory");
    int nr = 0;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (nr == MAXS) {
            free_runs(runs, nr);
            return cli_error("limits", "--compare: at most %d settings", MAXS);
        }
        want_t w = base;
        if ((rc = parse_item(tok, &w)) ||
            (rc = full ? build_full(&w, a.data_dir, from, to, &runs[nr]) : build_run(&w, a.data_dir, from, to, &runs[nr]))) {
            free_runs(runs, nr + 1);
            return rc;
        }
        nr++;
    }
    if (nr == 0) {
        free_runs(runs, nr);
        return cli_error("limits", "--compare: no settings given; expected a list such as h100,a100,v100");
    }

    double t0 = now();
    int nt = threads > 0 ? threads : omp_get_max_threads();
    if (full) {
        /* settings side by side on the threads, or one setting's plan searches on all of them */
        for (int i = 0; i < nr; i++) {
            runs[i].fo.threads = nr > 1 ? 1 : nt;
            runs[i].fo.grad_bytes = grad_bytes;
            if (kv_heads >= 0)
                runs[i].fo.kv_heads = kv_heads;
        }
#pragma omp parallel for schedule(dynamic, 1) num_threads(nr > 1 ? nt : 1)
        for (int i = 0; i < nr; i++) {
            double ts = now();
            run_t *r = &runs[i];
            r->n = sp_limits_full_sweep(&r->set, &r->fsys, &r->fo, r->fpts, MAXP, &r->sum, &r->ferr);
            r->ffail = r->n < 0;
            if (r->set.gpu.n_levels > 0) /* the paper's model on the same setting */
                sp_epoch_sweep(&r->set, r->pts, MAXP, &r->esum);
            r->wall_s = now() - ts;
        }
        for (int i = 0; i < nr; i++)
            if (runs[i].ffail) {
                rc = cli_fail("limits", &runs[i].ferr);
                free_runs(runs, nr);
                return rc;
            }
        double wall = now() - t0;
        if (cli_get(&a, "plot") && (rc = draw_plot(cli_get(&a, "plot"), runs, nr))) {
            free_runs(runs, nr);
            return rc;
        }
        if (cli_flag(&a, "waterfall"))
            print_waterfall(runs, nr);
        else
            print_full(&a, runs, nr, wall);
        free_runs(runs, nr);
        return 0;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (int i = 0; i < nr; i++) {
        double ts = now();
        runs[i].n = sp_epoch_sweep(&runs[i].set, runs[i].pts, MAXP, &runs[i].sum);
        runs[i].wall_s = now() - ts;
    }
    double wall = now() - t0;
    int any = 0;
    for (int i = 0; i < nr; i++)
        any |= runs[i].n > 0;
    char why[256];
    if (cli_get(&a, "plot") && (rc = draw_plot(cli_get(&a, "plot"), runs, nr))) {
        free_runs(runs, nr);
        return rc;
    }

    if (cli_flag(&a, "json")) {
        printf("{\"mode\":\"epoch2024\",\"feasible\":%s,\"settings\":[", any ? "true" : "false");
        for (int i = 0; i < nr; i++) {
            run_t *r = &runs[i];
            printf("%s{\"setting\":\"%s\",\"duration_s\":", i ? "," : "", r->name);
            cli_json_num(stdout, r->set.years * 3.154e7);
            printf(",\"points\":[");
            for (int k = 0; k < r->n; k++) {
                if (k)
                    putchar(',');
                json_point(r, &r->pts[k], 1);
            }
            printf("],");
            json_summary(r);
            const char *e = empty_reason(r, why, sizeof why);
            if (e)
                printf(",\"note\":\"%s\"", e);
            printf(",\"wall_time_s\":");
            cli_json_num(stdout, r->wall_s);
            printf("}");
        }
        /* the first setting's fields at top level too (the interface other tools rely on) */
        run_t *r = &runs[0];
        printf("],\"points\":[");
        for (int k = 0; k < r->n; k++) {
            if (k)
                putchar(',');
            json_point(r, &r->pts[k], 0);
        }
        printf("],");
        json_summary(r);
        printf(",\"wall_time_s\":");
        cli_json_num(stdout, wall);
        printf("}\n");
    } else if (cli_flag(&a, "csv")) {
        printf("setting,compute_flop,d_model,layers,sparsity,params,batch_tokens,months,utilization,n_gpus,tp_model,tp_ff,pp,"
               "interleave,zero_bubble,dp,ep,microbatches,tp_comm_months,pp_comm_months,dp_comm_months,latency_months,"
               "batch_s,compute_s,derate_s,data_movement_s,kernel_latency_s,net_bandwidth_s,bubble_s,net_latency_s,"
               "dp_bandwidth_s,dp_latency_s,gpu_hours,binding,energy_mwh,co2e_t,cloud_cost_usd\n");
        for (int i = 0; i < nr; i++)
            for (int k = 0; k < runs[i].n; k++) {
                sp_epoch_point *p = &runs[i].pts[k];
                const sp_epoch_split *s = &p->split;
                double mwh, usd, co2;
                point_energy(&runs[i], p, &mwh, &usd, &co2);
                printf("\"%s\",%.4e,%.0f,%d,%d,%.4e,%.4e,%.3f,%.4f,%.4e,%d,%d,%d,%d,%d,%d,%d,%d,%.3f,%.3f,%.3f,%.3f,"
                       "%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.4e,%s,%.4e,%.4e,%.4e\n",
                       runs[i].name, p->compute_flop, p->d_model, p->layers, p->sparsity, p->params, p->batch_tokens, p->months,
                       p->utilization, p->n_gpus, p->tp_model, p->tp_ff, p->pp, p->interleave, p->zero_bubble, p->dp, p->ep,
                       p->microbatches, p->tp_comm_s * MO_PER_S, p->pp_comm_s * MO_PER_S, p->dp_comm_s * MO_PER_S,
                       p->latency_s * MO_PER_S, s->batch_s, s->compute, s->derate, s->data_move, s->kernel_lat, s->net_bw,
                       s->bubble, s->net_lat, s->dp_bw, s->dp_lat, p->gpu_hours, p->binding, mwh, co2, usd);
            }
        for (int i = 0; i < nr; i++) {
            const char *e = empty_reason(&runs[i], why, sizeof why);
            if (e)
                fprintf(stderr, "scaleplan limits: %s: %s\n", runs[i].name, e);
        }
    } else {
        for (int i = 0; i < nr; i++) {
            run_t *r = &runs[i];
            if (strstr(r->name, "months"))
                printf("scaleplan limits (epoch2024 model): %s\n\n", r->name);
            else
                printf("scaleplan limits (epoch2024 model): %s, %.3g months\n\n", r->name, r->set.years * 12);
            if (r->n)
                printf("  %10s %8s %5s %3s %9s %9s %6s %9s %8s %8s %5s %5s  %-27s %8s %8s  %s\n", "C (FLOP)", "d_model", "L", "S",
                       "params", "batch", "U", "GPUs", "TP", "PP(v)", "DP", "EP", "cmp mem krn net bub lat  dp", "TWh", "cloud $",
                       "binding limit");
            for (int k = 0; k < r->n; k++) {
                sp_epoch_point *p = &r->pts[k];
                const sp_epoch_split *s = &p->split;
                char tp[24], pp[24], sp[64];
                snprintf(tp, sizeof tp, "%dx%d", p->tp_model, p->tp_ff);
                snprintf(pp, sizeof pp, "%d(%s%d)", p->pp, p->zero_bubble ? "zb" : "", p->interleave);
                double b = s->batch_s > 0 ? 100 / s->batch_s : 0;
                snprintf(sp, sizeof sp, "%3.0f %3.0f %3.0f %3.0f %3.0f %3.0f %3.0f", (s->compute + s->derate) * b, s->data_move * b,
                         s->kernel_lat * b, s->net_bw * b, s->bubble * b, s->net_lat * b, (s->dp_bw + s->dp_lat) * b);
                double mwh, usd, co2;
                point_energy(r, p, &mwh, &usd, &co2);
                printf("  %10.3e %8.0f %5d %3d %9.3e %9.3e %6.3f %9.3e %8s %8s %5d %5d  %-27s %8.3g %8.3g  %s\n",
                       p->compute_flop, p->d_model, p->layers, p->sparsity, p->params, p->batch_tokens, p->utilization, p->n_gpus,
                       tp, pp, p->dp, p->ep, sp, mwh / 1e6, usd,
                       p->utilization > 0.8 * r->sum.max_utilization ? "- (linear regime)" : p->binding);
            }
            print_summary_text(r);
            double most = 0;
            for (int k = 0; k < r->n; k++)
                most = r->pts[k].n_gpus > most ? r->pts[k].n_gpus : most;
            scale_note(most);
            printf("  closed forms (reference §4, alpha = 0): latency limit %.3g FLOP, critical compute ", r->sum.t_limit_flop);
            if (isfinite(r->sum.t_crit_flop))
                printf("%.3g FLOP\n\n", r->sum.t_crit_flop);
            else
                printf("unbounded (infinite network bandwidth)\n\n");
        }
        printf("  %% of batch time: cmp = model FLOP at peak + clock derate, mem = per-GPU HBM/L2/SMEM traffic, krn = kernel\n"
               "  latency (per matmul), net = TP/PP bandwidth beyond the matmuls, bub = pipeline bubble, lat = network latency,\n"
               "  dp = DP all-reduce. PP(v): stages (zb = zero bubble, v = interleave).\n"
               "  swept in %.3f s\n", wall);
    }
    free_runs(runs, nr);
    return 0;
}
