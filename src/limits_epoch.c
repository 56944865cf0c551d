/* `limits --mode epoch2024`: the model of Erdil & Schneider-Joseph (2024), "Data movement limits to frontier
 * model training" (arXiv:2411.01137), as data/reference/epoch2024-model.md describes it and as the authors'
 * public code (github.com/ege-erdil/limits_to_distributed_training, b1f771c) computes it. Written from that
 * description; every constant below is the paper's.
 *
 * Reproduced quirks (they move numbers; each is in docs/limits.md):
 *  - utilization is against the max-clock peak, so an H100 never exceeds its 0.7 effective utilization;
 *  - with zero-bubble pipelines the TP/PP/EP network latency is not charged (the code's line that was meant to
 *    hide it runs after the value is used);
 *  - microbatches are counted in tokens and the per-GPU slice uses integer division;
 *  - only the smallest 4 microbatch counts (1 with zero bubble) are tried; interleaving is L/PP or 1;
 *  - clusters are S·2^i, the first one that finishes within the duration is reported (hence the zig-zag).
 */
#include "scaleplan.h"
#include "internal.h"
#include "limits_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define SECONDS_PER_YEAR 3.154e7 /* the code's year */

/* Kaplan et al. 2020, "Scaling Laws for Neural Language Models" (arXiv:2001.08361), Eq. 1.3 and 1.4 (also in
 * data/validation/published_scaling_laws.csv rows KAP20-*): B* ~ 2e8 tokens, alpha_B = 0.21,
 * C_c^min = 3.1e8 PF-days, alpha_C^min = 0.050. */
#define KAPLAN_BSTAR 2e8
#define KAPLAN_ALPHA_B 0.21
#define KAPLAN_CC (3.1e8 * 8.64e19)
#define KAPLAN_ALPHA_C 0.05

/* ------------------------------------------------------------------ GPUs */

static void base_gpu(sp_epoch_gpu *g, const char *name, int sms, double fpc, double l2bps, double l2bytes,
                     double gbps, double clock, double eff, int dsmem, double mem, double bw0, double bw1)
{
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    g->n_sm = sms;
    g->flop_per_clock_per_thread = fpc;
    g->register_bytes = 64 * 1024;
    g->l2_bps = l2bps;
    g->l2_bytes = l2bytes;
    g->global_bps = gbps;
    g->max_clock_hz = clock;
    g->effective_utilization = eff;
    g->dsmem = dsmem;
    g->memory_bytes = mem;
    g->latency_per_matmul_s = 4.5e-6;
    g->n_levels = 2;
    g->bw[0] = bw0;
    g->bw[1] = bw1;
    g->lat[0] = g->lat[1] = 1.125e-6;
    g->level_size[0] = 8;
}

sp_status sp_epoch_gpu_preset(const char *name, sp_epoch_gpu *g, sp_error *err)
{
    /* reference §2.2: SMs, 16-bit FLOP/clock/thread, L2 bandwidth and size, HBM bandwidth, max clock, effective
     * utilization, DSMEM, memory, NVLink (8 GPUs) and InfiniBand per-GPU bidirectional bandwidth */
    const double Mi = 1048576.0;
    if (strcasecmp(name, "v100") == 0)
        base_gpu(g, "V100 SXM", 80, 8, 2155e9, 6 * Mi, 900e9, 1533e6, 0.9, 0, 3.2e10, 3e11, 1.25e10);
    else if (strcasecmp(name, "a100") == 0)
        base_gpu(g, "A100 SXM", 108, 16, 5603e9, 40 * Mi, 1555e9, 1410e6, 0.85, 0, 4e10, 6e11, 5e10);
    else if (strncasecmp(name, "h100", 4) == 0) {
        base_gpu(g, "H100 SXM", 132, 32, 6441e9, 50 * Mi, 3352e9, 1830e6, 0.7, 1, 8e10, 9e11, 1e11);
        const char *v = name + 4;
        if (!*v)
            return SP_OK;
        if (strcasecmp(v, "-low-latency") == 0) {
            snprintf(g->name, sizeof g->name, "H100 SXM Low Latency");
            g->latency_per_matmul_s /= 10;
            g->lat[0] /= 10, g->lat[1] /= 10;
        } else if (strcasecmp(v, "-global-nvlink") == 0) {
            snprintf(g->name, sizeof g->name, "H100 SXM Global NVLink");
            g->n_levels = 1;
        } else if (strcasecmp(v, "-global-nvlink-ll") == 0) {
            snprintf(g->name, sizeof g->name, "H100 SXM Global NVLink and LL");
            g->n_levels = 1;
            g->latency_per_matmul_s /= 10;
            g->lat[0] /= 10;
        } else if (strcasecmp(v, "-infinite-ll") == 0) {
            snprintf(g->name, sizeof g->name, "H100 SXM Infinite Network and LL");
            g->n_levels = 1;
            g->bw[0] = INFINITY;
            g->latency_per_matmul_s /= 10;
            g->lat[0] /= 10;
        } else if (strcasecmp(v, "-superpod") == 0) {
            snprintf(g->name, sizeof g->name, "H100 SXM Superpod");
            g->n_levels = 3;
            g->bw[0] = 9e11, g->bw[1] = 4.5e11, g->bw[2] = 1e11;
            g->lat[2] = 1.125e-6;
            g->level_size[1] = 32;
        } else
            return sp_fail(err, SP_EINVAL,
                           "--gpu '%s'; allowed h100, a100, v100, h100-low-latency, h100-global-nvlink, "
                           "h100-global-nvlink-ll, h100-infinite-ll, h100-superpod", name);
    } else
        return sp_fail(err, SP_EINVAL,
                       "--gpu '%s'; allowed h100, a100, v100, h100-low-latency, h100-global-nvlink, "
                       "h100-global-nvlink-ll, h100-infinite-ll, h100-superpod", name);
    return SP_OK;
}

/* One numeric field of a GPU file: a number or a string with units, finite, within [lo, hi]. */
static sp_status gpu_field(const char *path, json_t *o, const char *key, sp_unit u, double lo, double hi, double *out,
                           sp_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return SP_OK;
    double d;
    char what[600];
    snprintf(what, sizeof what, "%.400s: field '%.60s'", path, key);
    sp_status st = sp_json_quantity(v, u, what, &d, err);
    if (st)
        return st;
    if (!(d >= lo && d <= hi))
        return sp_fail(err, SP_EINVAL, "%s = %g is out of range; allowed %g..%g", what, d, lo, hi);
    *out = d;
    return SP_OK;
}

/* The fields a GPU file may have; another is refused by name. */
static sp_status gpu_known_fields(const char *path, json_t *o, sp_error *err)
{
    static const char *const known[] = {"name", "base", "source", "note", "n_sm", "flop_per_clock_per_thread",
                                        "register_bytes", "l2_bps", "l2_bytes", "hbm_bps", "max_clock_hz",
                                        "effective_utilization", "dsmem", "memory_bytes", "latency_per_matmul_s",
                                        "network"};
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val) {
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok |= strcmp(key, known[i]) == 0;
        if (!ok)
            return sp_fail(err, SP_EINVAL, "%s: unknown field '%s'; allowed name, base, source, n_sm, "
                                           "flop_per_clock_per_thread, register_bytes, l2_bps, l2_bytes, hbm_bps, "
                                           "max_clock_hz, effective_utilization, dsmem, memory_bytes, "
                                           "latency_per_matmul_s, network", path, key);
    }
    return SP_OK;
}

/* "network": levels innermost first, each {bw, latency_s, size} (the top one without size). */
static sp_status gpu_network(const char *path, json_t *net, sp_epoch_gpu *g, sp_error *err)
{
    size_t n = json_is_array(net) ? json_array_size(net) : 0;
    if (n < 1 || n > SP_EPOCH_MAX_LEVELS)
        return sp_fail(err, SP_EINVAL, "%s: field 'network': expected a list of 1 to %d levels, innermost first", path,
                       SP_EPOCH_MAX_LEVELS);
    for (size_t i = 0; i < n; i++) {
        json_t *lv = json_array_get(net, i);
        char where[600];
        snprintf(where, sizeof where, "%.400s: network level %zu", path, i);
        if (!json_is_object(lv))
            return sp_fail(err, SP_EINVAL, "%s: expected an object with bw, latency_s (and size below the top)", where);
        double bw = NAN, lat = NAN, size = 0;
        sp_status st;
        if ((st = gpu_field(where, lv, "bw", SP_UNIT_BW, 1e3, 1e18, &bw, err)) ||
            (st = gpu_field(where, lv, "latency_s", SP_UNIT_TIME, 0, 1, &lat, err)) ||
            (st = gpu_field(where, lv, "size", SP_UNIT_NONE, 2, 1 << 20, &size, err)))
            return st;
        if (isnan(bw) || isnan(lat))
            return sp_fail(err, SP_EINVAL, "%s: needs both 'bw' (bytes/s per GPU, bidirectional) and 'latency_s'", where);
        if (i + 1 < n && (size == 0 || size != floor(size)))
            return sp_fail(err, SP_EINVAL, "%s: needs a whole 'size' (GPUs per domain) below the top level", where);
        if (i + 1 == n && json_object_get(lv, "size"))
            return sp_fail(err, SP_EINVAL, "%s: the top level spans the cluster and takes no 'size'", where);
        g->bw[i] = bw;
        g->lat[i] = lat;
        if (i + 1 < n)
            g->level_size[i] = (int)size;
    }
    g->n_levels = (int)n;
    return SP_OK;
}

/* "base" (a built-in to start from, else the H100) and "name". */
static sp_status gpu_base(const char *path, json_t *o, sp_epoch_gpu *g, sp_error *err)
{
    json_t *base = json_object_get(o, "base");
    if (base) {
        if (!json_is_string(base))
            return sp_fail(err, SP_EINVAL, "%s: field 'base': expected the name of a built-in GPU", path);
        sp_error e2 = {0}; /* not err: its message is an argument of the one written into err */
        sp_status st = sp_epoch_gpu_preset(json_string_value(base), g, &e2);
        if (st)
            return sp_fail(err, st, "%s: field 'base': %s", path, e2.msg);
    } else
        sp_epoch_gpu_preset("h100", g, NULL);
    json_t *nm = json_object_get(o, "name");
    if (nm && !json_is_string(nm))
        return sp_fail(err, SP_EINVAL, "%s: field 'name': expected a string", path);
    if (nm)
        snprintf(g->name, sizeof g->name, "%s", json_string_value(nm));
    return SP_OK;
}

static sp_status gpu_from_json(const char *path, json_t *o, sp_epoch_gpu *g, sp_error *err)
{
    sp_status st;
    if ((st = gpu_known_fields(path, o, err)) || (st = gpu_base(path, o, g, err)))
        return st;
    double sm = g->n_sm;
    if ((st = gpu_field(path, o, "n_sm", SP_UNIT_NONE, 1, 1e6, &sm, err)) ||
        (st = gpu_field(path, o, "flop_per_clock_per_thread", SP_UNIT_NONE, 1e-3, 1e6, &g->flop_per_clock_per_thread, err)) ||
        (st = gpu_field(path, o, "register_bytes", SP_UNIT_BYTES, 1024, 1e12, &g->register_bytes, err)) ||
        (st = gpu_field(path, o, "l2_bps", SP_UNIT_BW, 1e6, 1e18, &g->l2_bps, err)) ||
        (st = gpu_field(path, o, "l2_bytes", SP_UNIT_BYTES, 1024, 1e15, &g->l2_bytes, err)) ||
        (st = gpu_field(path, o, "hbm_bps", SP_UNIT_BW, 1e6, 1e18, &g->global_bps, err)) ||
        (st = gpu_field(path, o, "max_clock_hz", SP_UNIT_NONE, 1e6, 1e12, &g->max_clock_hz, err)) ||
        (st = gpu_field(path, o, "effective_utilization", SP_UNIT_NONE, 1e-3, 1, &g->effective_utilization, err)) ||
        (st = gpu_field(path, o, "memory_bytes", SP_UNIT_BYTES, 1e6, 1e18, &g->memory_bytes, err)) ||
        (st = gpu_field(path, o, "latency_per_matmul_s", SP_UNIT_TIME, 0, 1, &g->latency_per_matmul_s, err)))
        return st;
    if (sm != floor(sm))
        return sp_fail(err, SP_EINVAL, "%s: field 'n_sm' = %g: expected a whole number", path, sm);
    g->n_sm = (int)sm;
    json_t *ds = json_object_get(o, "dsmem");
    if (ds && !json_is_boolean(ds))
        return sp_fail(err, SP_EINVAL, "%s: field 'dsmem': expected true or false", path);
    if (ds)
        g->dsmem = json_is_true(ds);
    json_t *net = json_object_get(o, "network");
    return net ? gpu_network(path, net, g, err) : SP_OK;
}

sp_status sp_epoch_gpu_load(const char *data_dir, const char *name_or_path, sp_epoch_gpu *g, sp_error *err)
{
    sp_error quiet = {0};
    if (sp_epoch_gpu_preset(name_or_path, g, &quiet) == SP_OK)
        return SP_OK;
    char path[4600];
    size_t len = strlen(name_or_path);
    int is_path = strchr(name_or_path, '/') != NULL || (len > 5 && strcmp(name_or_path + len - 5, ".json") == 0);
    if (is_path)
        snprintf(path, sizeof path, "%s", name_or_path);
    else {
        for (const char *c = name_or_path; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
                  *c == '_' || *c == '.'))
                return sp_fail(err, SP_EINVAL, "--gpu '%s'; allowed h100, a100, v100, h100-low-latency, "
                                               "h100-global-nvlink, h100-global-nvlink-ll, h100-infinite-ll, "
                                               "h100-superpod, a preset of %s/epoch_gpus or a .json file",
                               name_or_path, data_dir ? data_dir : "data");
        snprintf(path, sizeof path, "%s/epoch_gpus/%s.json", data_dir ? data_dir : ".", name_or_path);
        struct stat stt;
        if (stat(path, &stt) != 0)
            return sp_fail(err, SP_EINVAL, "--gpu '%s'; allowed h100, a100, v100, h100-low-latency, h100-global-nvlink, "
                                           "h100-global-nvlink-ll, h100-infinite-ll, h100-superpod, a preset of "
                                           "%s/epoch_gpus or a .json file", name_or_path, data_dir ? data_dir : "data");
    }
    struct stat sd;
    if (stat(path, &sd) == 0 && S_ISDIR(sd.st_mode))
        return sp_fail(err, SP_EIO, "%s: is a directory, not a GPU file", path);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        struct stat stt;
        if (stat(path, &stt) != 0)
            return sp_fail(err, SP_EIO, "%s: cannot read the file", path);
        return sp_fail(err, SP_EPARSE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    }
    sp_status st = json_is_object(root) ? gpu_from_json(path, root, g, err)
                                        : sp_fail(err, SP_EPARSE, "%s: expected a JSON object", path);
    json_decref(root);
    return st;
}

void sp_epoch_setting_defaults(sp_epoch_setting *s)
{
    memset(s, 0, sizeof *s);
    sp_epoch_gpu_preset("h100", &s->gpu, NULL);
    s->batch = SP_EPOCH_BATCH_DEFAULT;
    s->fixed_batch_tokens = 4194304;
    s->years = 0.25;
    s->seq_len = 2048;
    s->d_model_min = 12288;
    s->d_model_max = 12288.0 * 128;
    s->layer_scale = 1;
}

static double clock_eff(const sp_epoch_gpu *g) { return g->max_clock_hz * g->effective_utilization; }
static double flops_eff(const sp_epoch_gpu *g) { return g->flop_per_clock_per_thread * 128.0 * g->n_sm * clock_eff(g); }
static double flops_max(const sp_epoch_gpu *g) { return g->flop_per_clock_per_thread * 128.0 * g->n_sm * g->max_clock_hz; }

/* ------------------------------------------------------------------ single-GPU matmul (reference §3.4) */

/* Fewest tiles of at most cap bytes, shaped as close to square as the matrix allows: rows and columns of tiles. */
static void tiles_of(double m, double n, double cap, double *rows, double *cols)
{
    double words = m * n, count = ceil(words * 2.0 / cap), per = words / count;
    double tm = fmax(fmin(m, sqrt(per)), per / n), tn = per / tm;
    *rows = m / tm;
    *cols = n / tn;
}

/* Traffic between two memory levels for W (d1 x d2) times activations (d2 x b), or the weight-gradient product;
 * `conc` tiles in flight; with distributed shared memory the redundant higher-level reads become multicasts
 * and reduce-scatters on the SM network (second return). */
static double io_bytes(double d1, double d2, double b, double cap, double conc, int dist, int wg, double *dist_io)
{
    const double bw = 2.0;
    double wbytes = d1 * d2 * bw, left = d1 * b * bw, right = d2 * b * bw;
    int fits = 2 * wbytes <= cap * conc;
    double big_r, big_c, small_r = 1, small_c = 1;
    if (dist) {
        tiles_of(d1, d2, cap * conc, &big_r, &big_c);
        tiles_of(d1, d2, cap, &small_r, &small_c);
    } else
        tiles_of(d1, d2, cap, &big_r, &big_c);
    double inter = 0, d = 0;
    if (!fits)
        inter += wg ? 2 * wbytes : wbytes; /* weights (or accumulated gradients, read and written) streamed */
    inter += big_r * right;                /* right operand re-read per row of tiles */
    if (small_r > 1)
        d += small_r * right;
    if (wg) {
        inter += big_c * left;
        if (small_c > 1)
            d += small_c * left;
    } else {
        d += 2 * (small_c - 1) * left;     /* output reduce-scattered across small columns */
        inter += (2 * big_c - 1) * left;   /* and accumulated once per big column */
    }
    if (dist_io)
        *dist_io = d;
    return inter;
}

double sp_epoch_matmul_time(const sp_epoch_gpu *g, double d1, double d2, double b, int wg)
{
    double reg = 0.75 * g->register_bytes, l2 = 0.75 * g->l2_bytes;
    double g_io = io_bytes(d1, d2, b, fmax(l2, 4 * reg), 1, 0, wg, NULL);
    double dsm = 0;
    double l2sm = io_bytes(d1, d2, b, 4 * reg, g->n_sm, g->dsmem, wg, &dsm);
    double smreg = io_bytes(d1, d2, b, reg, 4.0 * g->n_sm, 0, wg, NULL);
    double shared_bps = 32.0 * 4 * g->n_sm * clock_eff(g);
    double flop = 2 * ceil(d1 / 8) * ceil(d2 / 8) * ceil(b / 8) * 512.0; /* padded to tensor-core chunks of 8 */
    double t = fmax(fmax(g_io / g->global_bps, (g_io + l2sm) / g->l2_bps),
                    fmax((l2sm + dsm + smreg) / shared_bps, flop / flops_eff(g)));
    return t + g->latency_per_matmul_s;
}

/* ------------------------------------------------------------------ one plan (reference §3.3) */

typedef struct {
    int n;             /* levels in the tuples below */
    int64_t dp[SP_EPOCH_MAX_LEVELS], tpm[SP_EPOCH_MAX_LEVELS], tpf[SP_EPOCH_MAX_LEVELS], pp[SP_EPOCH_MAX_LEVELS],
        ep[SP_EPOCH_MAX_LEVELS];
} partition;

typedef struct {
    double time_s, util, tp_s, dp_s, pp_s, lat_s; /* whole run */
    /* one batch, seconds: the pieces of t_batch = max(mm, net)/(1 - bubble) [+ pipe_lat] + dp_bw + dp_lat */
    double mm_b, net_b, bubble, pipe_lat_b, lat_charged, dp_bw_b, dp_lat_b, total_b, arith_b;
} plan_result;

typedef struct {
    double d, dff;
    int64_t L, S;
    double batch_seqs, seq;
} shape;

static int64_t prod_from(const int64_t *v, int from, int n)
{
    int64_t p = 1;
    for (int i = from; i < n; i++)
        p *= v[i];
    return p;
}

/* suf[i] = product of v[i..n-1]; suf[n] = 1 */
static void suffix(const int64_t *v, int n, int64_t *suf)
{
    suf[n] = 1;
    for (int i = n - 1; i >= 0; i--)
        suf[i] = suf[i + 1] * v[i];
}

/* What every split of one set of degrees shares: computed once per (degrees, microbatches, schedule). */
typedef struct {
    double N, nparam, arith, batches, btok, L;
    double den[SP_EPOCH_MAX_LEVELS]; /* N·BW_l/2: the cluster's unidirectional bandwidth at level l */
} eval_ctx;

static void eval_ctx_init(const sp_epoch_gpu *g, const shape *sh, int64_t Ngpu, eval_ctx *c)
{
    c->N = (double)Ngpu;
    double S = (double)sh->S;
    c->L = (double)sh->L;
    c->nparam = 2 * sh->d * sh->dff * c->L * S;
    double D = 20 * c->nparam;
    c->btok = sh->batch_seqs * sh->seq;
    c->arith = 6 * (c->nparam / S) * c->btok / (flops_max(g) * c->N);
    c->batches = D / c->btok;
    for (int l = 0; l < g->n_levels; l++)
        c->den[l] = c->N * g->bw[l] / 2;
}

/* Pipeline and expert point-to-point traffic summed over the levels where a stage or expert boundary falls
 * (reference §3.3): bandwidth with uniform routing, latency at the highest EP level. */
static void p2p_cost(const sp_epoch_gpu *g, const shape *sh, const eval_ctx *c, const partition *pt, int v,
                     double *lat, double *bw)
{
    double L = c->L, btok = c->btok, bytes = 2;
    int n = pt->n, max_pp = -1, max_ep = -1;
    int64_t spp[SP_EPOCH_MAX_LEVELS + 1], sep[SP_EPOCH_MAX_LEVELS + 1];
    suffix(pt->pp, n, spp);
    suffix(pt->ep, n, sep);
    int64_t PP = spp[0];
    for (int i = 0; i < n; i++) {
        if (pt->pp[i] > 1)
            max_pp = i;
        if (pt->ep[i] > 1)
            max_ep = i;
    }
    *lat = *bw = 0;
    for (int mode = 0; mode < 2; mode++) /* 0 bandwidth, 1 latency */
        for (int pl = -1; pl <= max_pp; pl++) {
            double transfers;
            if (pl == -1)
                transfers = L - (double)v * PP;
            else if (pl == max_pp)
                transfers = (double)v * pt->pp[pl] - 1;
            else
                transfers = (double)v * spp[pl + 1] * (pt->pp[pl] - 1);
            double fpp = transfers / (L - 1);
            for (int el = -1; el <= max_ep; el++) {
                double fep;
                if (mode == 0) {
                    if (el == -1)
                        fep = 1.0 / sep[0];
                    else
                        fep = 1.0 / sep[el + 1] - 1.0 / sep[el];
                } else
                    fep = el == max_ep;
                double freq = fpp * fep;
                int level = pl > el ? pl : el;
                if (level < 0)
                    continue;
                double rs = 2 * (L - 1) * freq;
                if (mode == 0)
                    *bw += sh->d * rs * btok * bytes / c->den[level];
                else
                    *lat += rs * g->lat[level];
            }
        }
}

/* Ring all-reduce among p at one level (reference §3.3): bandwidth over the level's aggregate, 2 latencies per
 * sequential repeat. */
static inline void allreduce(const sp_epoch_gpu *g, const eval_ctx *c, double p, double words, int level, double rs,
                             double rp, double *lat, double *bw)
{
    *bw = 2 * (p - 1) * words * rs * rp * 2.0 / c->den[level];
    *lat = p > 1 ? 2 * rs * g->lat[level] : 0;
}

static inline double maxd(double a, double b) { return a > b ? a : b; } /* no NaN can reach here */

/* The same shard shapes recur across plans and cluster sizes: a small direct-mapped cache per thread (the
 * reference memoises the same function), valid for one sweep (one GPU). */
typedef struct {
    uint64_t gen;
    double d1, d2, b;
    int wg;
    double t;
} mm_entry;

/* one generation per sweep call on this thread: entries of another GPU are never reused */
static _Thread_local uint64_t mm_gen;

static double matmul_cached(const sp_epoch_gpu *g, double d1, double d2, double b, int wg)
{
    static _Thread_local mm_entry cache[8192];
    uint64_t h = (uint64_t)d1 * 0x9E3779B97F4A7C15ull ^ (uint64_t)d2 * 0xC2B2AE3D27D4EB4Full ^
                 (uint64_t)b * 0x165667B19E3779F9ull ^ (uint64_t)wg;
    mm_entry *e = &cache[(h ^ (h >> 29)) & 8191];
    if (e->gen == mm_gen && e->d1 == d1 && e->d2 == d2 && e->b == b && e->wg == wg)
        return e->t;
    double t = sp_epoch_matmul_time(g, d1, d2, b, wg);
    *e = (mm_entry){mm_gen, d1, d2, b, wg, t};
    return t;
}

/* Matmul time of one batch on one GPU: depends on the degrees, not on how they split across the network. */
static double matmul_part(const sp_epoch_gpu *g, const shape *sh, int64_t DP, int64_t TPm, int64_t TPf, int64_t PP,
                          int64_t EP, int64_t m)
{
    double btok = sh->batch_seqs * sh->seq;
    double dff_sh = (double)((int64_t)sh->dff / TPf), dm_sh = (double)((int64_t)sh->d / TPm);
    double b = (double)((int64_t)btok / (DP * m * sh->S));
    double per = matmul_cached(g, dff_sh, dm_sh, b, 0) + matmul_cached(g, dm_sh, dff_sh, b, 0) +
                 matmul_cached(g, dff_sh, dm_sh, b, 1);
    per += matmul_cached(g, dm_sh, dff_sh, b, 0) + matmul_cached(g, dff_sh, dm_sh, b, 0) +
           matmul_cached(g, dm_sh, dff_sh, b, 1);
    return (double)(sh->L / PP) * (double)(sh->S / EP) * (double)m * per;
}

static void evaluate(const sp_epoch_gpu *g, const shape *sh, const eval_ctx *c, const partition *pt, int64_t m, int v,
                     int zb, double mm, plan_result *r)
{
    int n = pt->n;
    int64_t sdp[SP_EPOCH_MAX_LEVELS + 1], stm[SP_EPOCH_MAX_LEVELS + 1], stf[SP_EPOCH_MAX_LEVELS + 1];
    suffix(pt->dp, n, sdp);
    suffix(pt->tpm, n, stm);
    suffix(pt->tpf, n, stf);
    int64_t PP = prod_from(pt->pp, 0, n);
    double L = c->L, btok = c->btok;
    double dp_bw = 0, dp_lat = 0, tp_bw = 0, tp_lat = 0;
    for (int l = 0; l < n; l++) {
        double la, bw, la2, bw2, la3, bw3;
        allreduce(g, c, (double)pt->dp[l], c->nparam, l, 1, (double)sdp[l + 1], &la, &bw);
        dp_lat += la;
        dp_bw = maxd(bw, dp_bw);
        allreduce(g, c, (double)pt->tpm[l], sh->dff, l, 2 * L, btok * (double)stm[l + 1], &la2, &bw2);
        allreduce(g, c, (double)pt->tpf[l], sh->d, l, 2 * L, btok * (double)stf[l + 1], &la3, &bw3);
        tp_bw = maxd(bw2 + bw3, tp_bw);
        tp_lat += la2 + la3;
    }
    double pp_lat, pp_bw;
    p2p_cost(g, sh, c, pt, v, &pp_lat, &pp_bw);
    /* TP and PP/EP communication overlap with compute; DP does not (reference §2.1) */
    double overlapped_net = pp_bw + tp_bw, pipe_lat = tp_lat + pp_lat;
    double bubble = 0;
    if (!zb) {
        double z = (double)(v - 1) * (double)(PP > m ? PP - m : 0);
        bubble = (z + PP - 1) / (z + PP - 1 + (double)v * m);
    }
    double pipe = maxd(mm, overlapped_net) / (1 - bubble);
    if (!zb)
        pipe += pipe_lat; /* with zero bubble the code never charges it (quirk, see file comment) */
    double total = pipe + dp_bw + dp_lat;
    double batches = c->batches;
    r->time_s = batches * total;
    r->util = c->arith / total;
    r->tp_s = tp_bw * batches;
    r->dp_s = dp_bw * batches;
    r->pp_s = pp_bw * batches;
    r->lat_s = batches * (pipe_lat + dp_lat);
    r->mm_b = mm;
    r->net_b = overlapped_net;
    r->bubble = bubble;
    r->pipe_lat_b = pipe_lat;
    r->lat_charged = !zb;
    r->dp_bw_b = dp_bw;
    r->dp_lat_b = dp_lat;
    r->total_b = total;
    r->arith_b = c->arith;
}

/* ------------------------------------------------------------------ search (reference §3.2) */

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Divisors of n in ascending order, from its prime factorisation (the numbers here are mostly powers of two
 * times small odd factors, so this is fast). */
static int divisors64(int64_t n, int64_t *out, int cap)
{
    int64_t pr[64];
    int ex[64], np = 0;
    int64_t r = n;
    for (int64_t p = 2; p * p <= r; p += (p == 2 ? 1 : 2))
        if (r % p == 0) {
            pr[np] = p;
            ex[np] = 0;
            while (r % p == 0) {
                r /= p;
                ex[np]++;
            }
            np++;
        }
    if (r > 1) {
        pr[np] = r;
        ex[np++] = 1;
    }
    int k = 1;
    out[0] = 1;
    for (int i = 0; i < np; i++) {
        int base = k;
        int64_t mult = 1;
        for (int e = 1; e <= ex[i]; e++) {
            mult *= pr[i];
            for (int j = 0; j < base && k < cap; j++)
                out[k++] = out[j] * mult;
        }
    }
    qsort(out, (size_t)k, sizeof *out, cmp64);
    return k;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int64_t isqrt64(int64_t n)
{
    int64_t r = (int64_t)sqrt((double)n);
    while (r * r > n)
        r--;
    while ((r + 1) * (r + 1) <= n)
        r++;
    return r;
}

/* Ordered factorizations of n into 5 factors (divisor order ascending, as the reference enumerates them). */
static int fact5(int64_t n, int64_t out[][5], int cap)
{
    int k = 0;
    int64_t d0[64], d1[64], d2[64], d3[64];
    int n0 = divisors64(n, d0, 64);
    for (int a = 0; a < n0; a++) {
        int n1 = divisors64(n / d0[a], d1, 64);
        for (int b = 0; b < n1; b++) {
            int n2 = divisors64(n / d0[a] / d1[b], d2, 64);
            for (int c = 0; c < n2; c++) {
                int n3 = divisors64(n / d0[a] / d1[b] / d2[c], d3, 64);
                for (int e = 0; e < n3 && k < cap; e++) {
                    int64_t rest = n / d0[a] / d1[b] / d2[c] / d3[e];
                    int64_t f[5] = {d0[a], d1[b], d2[c], d3[e], rest};
                    memcpy(out[k++], f, sizeof f);
                }
            }
        }
    }
    return k;
}

/* The level sizes take very few values (8, 32, or a small cluster's size): their factorizations are computed
 * once per thread and reused. */
#define F5_CAP 512
typedef struct {
    int64_t n;
    int count;
    int64_t f[F5_CAP][5];
} f5_entry;

static const f5_entry *fact5_cached(int64_t n)
{
    static _Thread_local f5_entry cache[8];
    static _Thread_local int next;
    for (int i = 0; i < 8; i++)
        if (cache[i].count > 0 && cache[i].n == n)
            return &cache[i];
    f5_entry *e = &cache[next];
    next = (next + 1) % 8;
    e->n = n;
    e->count = fact5(n, e->f, F5_CAP);
    return e;
}

typedef struct {
    plan_result best;
    int found;
    partition pt;
    int64_t m;
    int v, zb;
    double comm_sum;
} best_plan;

/* Every split of (DP, TPm, TPf, PP, EP) across the hierarchy (lower levels take a factorization of their
 * adjusted size, the top level the remainder), in the reference's order. */
static void over_partitions(const sp_epoch_gpu *g, const shape *sh, const eval_ctx *c, const int64_t deg[5], int64_t m,
                            int v, int zb, double mm, best_plan *bp)
{
    int64_t Ngpu = deg[0] * deg[1] * deg[2] * deg[3] * deg[4];
    int nl = g->n_levels - 1; /* explicit level sizes */
    int64_t adj[SP_EPOCH_MAX_LEVELS - 1];
    int64_t run = 1;
    int stop = 0;
    for (int i = 0; i < nl; i++) {
        if (stop) {
            adj[i] = 1;
            continue;
        }
        run *= g->level_size[i];
        if (run < Ngpu)
            adj[i] = g->level_size[i];
        else {
            adj[i] = Ngpu / (run / g->level_size[i]);
            stop = 1;
        }
    }
    const int64_t (*f[SP_EPOCH_MAX_LEVELS - 1])[5];
    int nf[SP_EPOCH_MAX_LEVELS - 1];
    for (int i = 0; i < nl; i++) {
        const f5_entry *e = fact5_cached(adj[i]);
        f[i] = (const int64_t(*)[5])e->f;
        nf[i] = e->count;
    }
    int idx[SP_EPOCH_MAX_LEVELS - 1] = {0};
    for (;;) {
        int ok = 1;
        partition pt;
        pt.n = nl + 1;
        for (int k = 0; k < 5 && ok; k++) {
            int64_t p = 1;
            for (int i = 0; i < nl; i++)
                p *= f[i][idx[i]][k];
            if (deg[k] % p)
                ok = 0;
            else {
                int64_t *dst = k == 0 ? pt.dp : k == 1 ? pt.tpm : k == 2 ? pt.tpf : k == 3 ? pt.pp : pt.ep;
                for (int i = 0; i < nl; i++)
                    dst[i] = f[i][idx[i]][k];
                dst[nl] = deg[k] / p;
            }
        }
        if (ok) {
            plan_result r;
            evaluate(g, sh, c, &pt, m, v, zb, mm, &r);
            /* tie-break on total communication, summed as the reference sums it: the candidate's as TP + DP + PP,
             * the incumbent's as TP + PP + DP (the last bit decides between mathematically equal splits) */
            double cs = r.tp_s + r.dp_s + r.pp_s;
            if (r.time_s < bp->best.time_s || (r.time_s == bp->best.time_s && bp->found && cs < bp->comm_sum)) {
                bp->best = r;
                bp->found = 1;
                bp->pt = pt;
                bp->m = m;
                bp->v = v;
                bp->zb = zb;
                bp->comm_sum = r.tp_s + r.pp_s + r.dp_s;
            }
        }
        int i = nl - 1;
        while (i >= 0 && ++idx[i] == nf[i]) {
            idx[i] = 0;
            i--;
        }
        if (i < 0)
            break;
    }
}

/* Microbatch counts of one DP degree: the divisors of B/(S·DP), kept per optimal_parallelism call in a thread-local
 * arena (a scratch copy when it is full, which no sweep of the paper reaches). */
static _Thread_local int64_t mb_arena[1 << 15];
static _Thread_local struct {
    int64_t dp;
    int off, cnt;
} mb_idx[256];
static _Thread_local int64_t mb_scratch[4096];
typedef struct {
    int n_idx, arena_used;
} mb_cache;

static const int64_t *mb_counts(mb_cache *mc, int64_t btok, int64_t S, int64_t DP, int *nmb)
{
    for (int q = 0; q < mc->n_idx; q++)
        if (mb_idx[q].dp == DP) {
            *nmb = mb_idx[q].cnt;
            return mb_arena + mb_idx[q].off;
        }
    int64_t tmp[4096];
    *nmb = divisors64(btok / (S * DP), tmp, 4096);
    if (mc->n_idx < 256 && mc->arena_used + *nmb <= (int)(sizeof mb_arena / sizeof mb_arena[0])) {
        memcpy(mb_arena + mc->arena_used, tmp, (size_t)*nmb * sizeof tmp[0]);
        mb_idx[mc->n_idx].dp = DP;
        mb_idx[mc->n_idx].off = mc->arena_used;
        mb_idx[mc->n_idx].cnt = *nmb;
        mc->n_idx++;
        mc->arena_used += *nmb;
        return mb_arena + mc->arena_used - *nmb;
    }
    memcpy(mb_scratch, tmp, (size_t)*nmb * sizeof tmp[0]);
    return mb_scratch;
}

/* What every plan of one cluster size shares: the GPU and its optimistic flat network, their precomputed
 * contexts, the cluster, EP and the parameter count. */
typedef struct {
    const sp_epoch_gpu *g;
    sp_epoch_gpu opt;
    const shape *sh;
    eval_ctx ctx, ctx_opt;
    int64_t N, EP;
    double nparam;
} cluster_ctx;

/* The TP splits TPm x TPf (TPf in [sqrt(TP), 4 sqrt(TP)]) of one (TP, DP, PP), with and without zero bubble, the 4
 * smallest microbatch counts (1 with zero bubble): each candidate the optimistic network cannot rule out is tried
 * on every split across the hierarchy. */
static void try_tp_splits(const cluster_ctx *cc, int64_t TP, int64_t DP, int64_t PP, const int64_t *tfs, int ntf,
                          const int64_t *mbs, int nmb, best_plan *bp)
{
    const shape *sh = cc->sh;
    int64_t s = isqrt64(TP);
    for (int c = 0; c < ntf; c++) {
        int64_t TPf = tfs[c];
        if (TPf < s || TPf > 4 * s)
            continue;
        int64_t TPm = TP / TPf;
        if ((int64_t)sh->d % TPm || (int64_t)sh->dff % TPf)
            continue;
        for (int zb = 0; zb <= 1; zb++) {
            int taken = 0;
            for (int e = 0; e < nmb && taken < (zb ? 1 : 4); e++) {
                int64_t m = mbs[e];
                if (m < (zb ? 2 * PP : PP))
                    continue;
                taken++;
                /* memory: replicated weights + optimizer states (4x) sharded; activations not tracked */
                if ((double)cc->N * cc->g->memory_bytes < cc->nparam * 2 * (double)DP + cc->nparam * 2 * 4)
                    continue;
                int v = (!zb && PP > 1) ? (int)(sh->L / PP) : 1;
                int64_t deg[5] = {DP, TPm, TPf, PP, cc->EP};
                partition flat = {1, {DP}, {TPm}, {TPf}, {PP}, {cc->EP}};
                plan_result r;
                double mm = matmul_part(cc->g, sh, DP, TPm, TPf, PP, cc->EP, m);
                evaluate(&cc->opt, sh, &cc->ctx_opt, &flat, m, v, zb, mm, &r);
                if (!(r.time_s <= bp->best.time_s))
                    continue;
                over_partitions(cc->g, sh, &cc->ctx, deg, m, v, zb, mm, bp);
            }
        }
    }
}

/* Best plan on N GPUs among those that finish within `cutoff` seconds (found = 0 if none). The reference starts
 * from an infinite bound; starting from the duration prunes, with the optimistic bound, every plan that could
 * not finish in time anyway, which cannot change the best plan of a cluster that does finish (that bound is a
 * true lower bound: summed bandwidth and the smallest latency never cost more than any split across levels). */
static void optimal_parallelism(const sp_epoch_gpu *g, const shape *sh, int64_t N, double cutoff, best_plan *bp)
{
    memset(bp, 0, sizeof *bp);
    bp->best.time_s = cutoff;
    cluster_ctx cc;
    cc.g = g;
    cc.sh = sh;
    cc.opt = *g; /* optimistic flat network: summed bandwidth, smallest latency */
    cc.opt.n_levels = 1;
    double bsum = 0, lmin = INFINITY;
    for (int i = 0; i < g->n_levels; i++) {
        bsum += g->bw[i];
        lmin = fmin(lmin, g->lat[i]);
    }
    cc.opt.bw[0] = bsum;
    cc.opt.lat[0] = lmin;
    int64_t S = sh->S, M;
    cc.N = N;
    cc.EP = gcd64(N, S);
    M = N / cc.EP;
    eval_ctx_init(g, sh, N, &cc.ctx); /* the cluster size is fixed here: what plans share is computed once */
    eval_ctx_init(&cc.opt, sh, N, &cc.ctx_opt);
    int64_t dd = (int64_t)sh->d * (int64_t)sh->dff, btok = (int64_t)(sh->batch_seqs * sh->seq);
    cc.nparam = 2 * sh->d * sh->dff * (double)sh->L * (double)S;
    int64_t tps[512], dps[512], tfs[512];
    mb_cache mc = {0, 0};
    int ntp = divisors64(gcd64(M, dd), tps, 512);
    for (int a = 0; a < ntp; a++) {
        int64_t TP = tps[a], r1 = M / TP;
        int ndp = divisors64(gcd64(r1, btok), dps, 512);
        int ntf = divisors64(TP, tfs, 512);
        for (int b = 0; b < ndp; b++) {
            int64_t DP = dps[b], PP = r1 / DP;
            if (sh->L % PP)
                continue;
            int nmb;
            const int64_t *mbs = mb_counts(&mc, btok, S, DP, &nmb);
            try_tp_splits(&cc, TP, DP, PP, tfs, ntf, mbs, nmb, bp);
        }
    }
}

/* ------------------------------------------------------------------ sweep (reference §3.1) */

static double take_closest(double x)
{
    /* closest f·2^i (f in 1,3,5,7,9; i in 0..59); ties go to the smaller */
    double best = 1, bd = INFINITY;
    for (int f = 1; f <= 9; f += 2)
        for (int i = 0; i < 60; i++) {
            double c = f * ldexp(1.0, i), dist = fabs(c - x);
            if (dist < bd || (dist == bd && c < best)) {
                bd = dist;
                best = c;
            }
        }
    return best;
}

/* The batch time of the chosen plan, cut into the pieces of sp_epoch_split (they add up to it). */
static void fill_split(const sp_epoch_gpu *g, const shape *sh, const best_plan *bp, sp_epoch_split *o)
{
    const plan_result *r = &bp->best;
    int n = bp->pt.n;
    int64_t PP = prod_from(bp->pt.pp, 0, n), EP = prod_from(bp->pt.ep, 0, n);
    double mm = r->mm_b, core = maxd(mm, r->net_b);
    double at_eff = r->arith_b / g->effective_utilization; /* FLOP time at the derated clock */
    double kern = 6.0 * (double)(sh->L / PP) * (double)(sh->S / EP) * (double)bp->m * g->latency_per_matmul_s;
    memset(o, 0, sizeof *o);
    o->batch_s = r->total_b;
    o->compute = r->arith_b;
    o->derate = at_eff - r->arith_b;
    o->kernel_lat = kern;
    /* what is left of the matmul time: memory traffic and padding (clamped: the per-GPU slice is floored) */
    o->data_move = maxd(mm - at_eff - kern, 0);
    if (o->data_move < 1e-9 * mm) /* rounding residue of the subtraction, not traffic */
        o->data_move = 0;
    o->net_bw = maxd(r->net_b - mm, 0);
    o->bubble = core / (1 - r->bubble) - core;
    o->net_lat = r->lat_charged ? r->pipe_lat_b : 0;
    o->dp_bw = r->dp_bw_b;
    o->dp_lat = r->dp_lat_b;
}

const char *sp_epoch_binding(const sp_epoch_split *s)
{
    struct {
        double v;
        const char *name;
    } c[] = {{0, "none"},                     {s->data_move, "per-GPU data movement"},
             {s->kernel_lat, "kernel latency"}, {s->net_bw, "TP/PP bandwidth"},
             {s->bubble, "pipeline bubble"},    {s->net_lat, "network latency"},
             {s->dp_bw + s->dp_lat, "DP all-reduce"}};
    int best = 0;
    for (int i = 1; i < (int)(sizeof c / sizeof c[0]); i++)
        if (c[i].v > c[best].v)
            best = i;
    return c[best].name;
}

/* The paper's sweep rules (reference §2.1), shared with limits --mode full (limits_full.c). */

/* widths f·2^i, f odd 1..15, i >= 11 (the paper's grid), ascending: by default the paper's [12288, 12288·128];
 * --from below the paper's first point reaches down to 2048, --to extends the top (to 15·2^24) */
int sp_limits_widths(const sp_epoch_setting *st, double *widths, int cap)
{
    int nw = 0;
    for (int f = 1; f < 17; f += 2)
        for (int i = 11; i < 25; i++) {
            double w = f * ldexp(1.0, i);
            if (w >= (st->c_min > 0 ? 2048 : st->d_model_min) && w <= (st->c_max > 0 ? 15 * ldexp(1.0, 24) : st->d_model_max) &&
                nw < cap)
                widths[nw++] = w;
        }
    for (int i = 1; i < nw; i++)
        for (int j = i; j > 0 && widths[j] < widths[j - 1]; j--) {
            double t = widths[j];
            widths[j] = widths[j - 1];
            widths[j - 1] = t;
        }
    return nw;
}

/* depth fitted to Hoffmann et al.'s shapes: L = 0.10056 (d·4d)^0.3751, rounded to {1,3,5,7,9}·2^i */
double sp_limits_layers(const sp_epoch_setting *st, double d)
{
    return take_closest(0.10056 * pow(d * 4 * d, 0.3751) * (st->layer_scale > 0 ? st->layer_scale : 1));
}

/* MoE sparsity S = 8 sqrt(d·4d / (4·12288²)), rounded the same way; 1 for dense runs */
double sp_limits_sparsity(const sp_epoch_setting *st, double d)
{
    return st->sparse ? take_closest(8 * sqrt(d * 4 * d / (4 * 12288.0 * 12288.0))) : 1;
}

/* critical batch in sequences of `seq` tokens (rules in scaleplan.h), a multiple of S */
double sp_limits_batch_seqs(const sp_epoch_setting *st, double C, double S, int seq)
{
    if (st->batch == SP_EPOCH_BATCH_FIXED)
        return floor(st->fixed_batch_tokens / seq);
    double raw;
    if (st->batch == SP_EPOCH_BATCH_DEEPSEEK) /* Bi et al. 2024 (DeepSeek LLM), as the reference uses it */
        raw = (1.0 / seq) * sqrt(S) * 0.2920 * pow(C, 0.3271);
    else if (st->batch == SP_EPOCH_BATCH_KAPLAN) /* Kaplan et al. 2020 Eq. 1.3-1.4, see scaleplan.h */
        raw = sqrt(S) * KAPLAN_BSTAR * pow(C / KAPLAN_CC, KAPLAN_ALPHA_C / KAPLAN_ALPHA_B) / seq;
    else
        raw = sqrt(S) * pow(C / 3e23, 1.0 / 6) * 2048.0 * 2048.0 / seq;
    return S * take_closest(raw / S);
}

int sp_limits_range(const sp_epoch_setting *st, double d, double C, sp_epoch_summary *sum)
{
    if (st->c_max > 0 && C > st->c_max) {
        sum->stop = SP_EPOCH_STOP_RANGE;
        sum->beyond_range_flop = C;
        return -1;
    }
    /* below the paper's range only what was asked for is searched; from 12288 on every point counts for the
     * summary (linear-regime end, wall) even when it is below --from and not reported */
    return d < st->d_model_min && C < st->c_min ? 0 : 1;
}

/* The summary after a width's cluster search: 0 when the sweep ends there (no cluster finishes: the latency wall,
 * or, when `capped`, the clusters it would need are not represented), else 1 with the width recorded as feasible. */
int sp_limits_record(sp_epoch_summary *sum, int found, int capped, double C)
{
    if (!found && capped) {
        sum->stop = SP_EPOCH_STOP_CLUSTER_CAP;
        return 0;
    }
    if (!found) {
        sum->first_infeasible_flop = C;
        sum->stop = SP_EPOCH_STOP_WALL;
        return 0;
    }
    sum->largest_feasible_flop = C;
    return 1;
}

/* The summary's last fields: the wall is the largest feasible run when the sweep ended at it; the closed-form
 * latency limit (reference §4, alpha = 0) at the duration in the notebook's 365.25-day years (0.25 y = 7.889e6 s)
 * with t_lat_s, the serial latency of one layer step. */
void sp_limits_close_summary(sp_epoch_summary *sum, int np, double years, double t_lat_s)
{
    if (sum->stop == SP_EPOCH_STOP_WALL || sum->stop == SP_EPOCH_STOP_UTIL)
        sum->latency_wall_flop = sum->largest_feasible_flop;
    sum->n_points = np;
    sum->t_limit_flop = sp_epoch_t_limit(0, years * 365.25 * 86400, t_lat_s);
}

/* The first S·2^i cluster of at least min_n GPUs (and a multiple of each level it exceeds, as the reference
 * requires) whose best plan finishes within `years`: *found, else *capped when the sizes ran into ~1.4e17 GPUs within 3
 * doublings of the first one tried (the representation's limit, not a latency wall). */
static int64_t smallest_cluster(const sp_epoch_gpu *g, const shape *sh, double min_n, double years, best_plan *bp,
                                int *found, int *capped)
{
    int64_t S = sh->S, N = 0;
    int searched = 0;
    *found = *capped = 0;
    for (int i = 0; i < 60 && !*found; i++) {
        if (S > (INT64_MAX >> i) / 64) { /* beyond ~1.4e17 GPUs: stop (the reference's Python integers would go on) */
            *capped = searched < 3;
            break;
        }
        N = S << i;
        if ((double)N < min_n)
            continue;
        int64_t run = 1, bad = 0;
        for (int l = 0; l < g->n_levels - 1; l++) {
            run *= g->level_size[l];
            if (N > run && N % run)
                bad = 1;
        }
        if (bad)
            continue;
        optimal_parallelism(g, sh, N, years * SECONDS_PER_YEAR * (1 + 1e-9), bp);
        searched++;
        if (bp->found && bp->best.time_s / SECONDS_PER_YEAR < years)
            *found = 1;
    }
    return N;
}

static void fill_point(const sp_epoch_gpu *g, const shape *sh, const best_plan *bp, double C, int64_t N, sp_epoch_point *p)
{
    memset(p, 0, sizeof *p);
    p->d_model = sh->d;
    p->d_ff = sh->dff;
    p->params = 2 * sh->d * sh->dff * (double)sh->L * (double)sh->S;
    p->layers = (int)sh->L;
    p->sparsity = (int)sh->S;
    p->batch_tokens = sh->batch_seqs * sh->seq;
    p->compute_flop = C;
    p->months = bp->best.time_s / SECONDS_PER_YEAR * 12;
    p->utilization = bp->best.util;
    p->n_gpus = (double)N;
    int n = bp->pt.n;
    p->tp_model = (int)prod_from(bp->pt.tpm, 0, n);
    p->tp_ff = (int)prod_from(bp->pt.tpf, 0, n);
    p->pp = (int)prod_from(bp->pt.pp, 0, n);
    p->dp = (int)prod_from(bp->pt.dp, 0, n);
    p->ep = (int)prod_from(bp->pt.ep, 0, n);
    p->interleave = bp->v;
    p->microbatches = (int)bp->m;
    p->zero_bubble = bp->zb;
    p->tp_comm_s = bp->best.tp_s;
    p->dp_comm_s = bp->best.dp_s;
    p->pp_comm_s = bp->best.pp_s;
    p->latency_s = bp->best.lat_s;
    fill_split(g, sh, bp, &p->split);
    p->binding = sp_epoch_binding(&p->split);
    p->gpu_hours = (double)N * bp->best.time_s / 3600;
}

/* One width of the sweep: 1 to go on, 0 when the sweep ends here (sum->stop says why). */
static int sweep_width(const sp_epoch_setting *st, double d, double years, int seq, sp_epoch_point *out, int max, int *np,
                       sp_epoch_summary *sum)
{
    const sp_epoch_gpu *g = &st->gpu;
    double dff = 4 * d;
    int64_t L = (int64_t)sp_limits_layers(st, d), S = (int64_t)sp_limits_sparsity(st, d);
    double nparam = 2 * d * dff * (double)L * (double)S, D = 20 * nparam, C = 6 * nparam * D / (double)S;
    int in = sp_limits_range(st, d, C, sum);
    if (in <= 0)
        return in + 1;
    double bs = sp_limits_batch_seqs(st, C, (double)S, seq); /* sequences */
    shape sh = {d, dff, L, S, bs, seq};
    best_plan bp;
    int found, capped;
    int64_t N = smallest_cluster(g, &sh, C / (years * SECONDS_PER_YEAR * flops_eff(g)), years, &bp, &found, &capped);
    if (!sp_limits_record(sum, found, capped, C))
        return 0;
    if (sum->linear_regime_end_flop == 0 && bp.best.util <= 0.8 * g->effective_utilization)
        sum->linear_regime_end_flop = C;
    if (st->c_min > 0 && C < st->c_min)
        return 1;
    if (*np < max)
        fill_point(g, &sh, &bp, C, N, &out[(*np)++]);
    if (bp.best.util < 0.001) { /* the reference stops here: the run is as good as impossible */
        sum->stop = SP_EPOCH_STOP_UTIL;
        return 0;
    }
    return 1;
}

int sp_epoch_sweep(const sp_epoch_setting *st, sp_epoch_point *out, int max, sp_epoch_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    mm_gen++;
    const sp_epoch_gpu *g = &st->gpu;
    double years = st->years > 0 ? st->years : 0.25;
    int seq = st->seq_len > 0 ? st->seq_len : 2048;
    double widths[128];
    int nw = sp_limits_widths(st, widths, 128), np = 0;
    sum->max_utilization = g->effective_utilization;
    for (int wi = 0; wi < nw && sweep_width(st, widths[wi], years, seq, out, max, &np, sum); wi++)
        ;
    /* closed forms with the serial latency of one layer step, kernel + 4 network hops (9 us on the paper's GPUs) */
    sp_limits_close_summary(sum, np, years, g->latency_per_matmul_s + 4 * g->lat[0]);
    sum->t_crit_flop = sp_epoch_t_crit(g, 0, years * 365.25 * 86400);
    return np;
}

/* reference point: 4e6 tokens per batch and 100 layers at 3e23 FLOP */
double sp_epoch_t_limit(double alpha, double T, double t_lat)
{
    double ref = (4e6 / 100) * pow(3e23, -alpha);
    double x = ref * T / t_lat;
    return 2 * pow(3.0 / 320 * x * x, 1 / (1 - 2 * alpha));
}

double sp_epoch_t_crit(const sp_epoch_gpu *g, double alpha, double T)
{
    double ref = (4e6 / 100) * pow(3e23, -alpha);
    double mac = 8 * flops_max(g) / 2;
    double nano = mac / (8 * g->global_bps / (2 * 2.0));
    double ib = g->bw[g->n_levels > 1 ? 1 : 0];
    double shard = 4 * mac / (3 * 8 * ib / (2 * 2.0));
    double x = ref * mac * T / (shard * shard * nano);
    return 2 * pow(x * x / 960, 1 / (1 - 2 * alpha));
}
