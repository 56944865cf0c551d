/* Predicts every row of a training_runs.csv-style file (schema: data/validation/README.md).
 *
 * Defaults for knobs a source left unstated (documented in docs/validation.md): n_kv_heads = n_heads,
 * ffn_dim = 4·d_model, ffn_type = gelu, vpp = 1, zero_stage = 0, ep = cp = 1, seq_parallel = 0, and
 * recompute = full: every Megatron-LM example script of 2019-2021 passed --checkpoint-activations, which is
 * the only era whose rows leave it empty. Rows with unstated knobs are flagged (stated_knobs = 0).
 * When a row gives TFLOP/s per GPU instead of a step time, the measured step time is derived from it with the
 * same FLOP count the source used (model FLOPs, or hardware FLOPs including recompute when
 * tflops_counts_recompute = 1), so every error is an error on step time.
 */
#include "scaleplan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Systems already loaded in this call, by the name in the 'system' column (a file of measured runs names a
 * handful of systems over many rows); failed loads are kept too, with their message. */
#define SYS_CACHE 8
typedef struct {
    int n;
    struct {
        char name[128];
        sp_status st;
        sp_system sys;
        char msg[sizeof(((sp_error *)0)->msg)];
    } e[SYS_CACHE];
} sys_cache;

static sp_status cached_system(const char *data_dir, sys_cache *sc, const char *name, sp_system *s, sp_error *err)
{
    size_t len = strlen(name);
    for (int i = 0; i < sc->n; i++)
        if (strcmp(sc->e[i].name, name) == 0) {
            if (sc->e[i].st)
                return sp_fail(err, sc->e[i].st, "%s", sc->e[i].msg);
            *s = sc->e[i].sys;
            return SP_OK;
        }
    sp_status st = sp_load_system(data_dir, name, s, err);
    if (sc->n < SYS_CACHE && len < sizeof sc->e[0].name) {
        int i = sc->n++;
        memcpy(sc->e[i].name, name, len + 1);
        sc->e[i].st = st;
        if (st)
            snprintf(sc->e[i].msg, sizeof sc->e[i].msg, "%s", err->msg);
        else
            sc->e[i].sys = *s;
    }
    return st;
}

static sp_status row_eval(const char *data_dir, sys_cache *sc, const sp_csv *c, int r, sp_validate_row *o,
                          sp_error *err)
{
    sp_model m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", sp_csv_get(c, r, sp_csv_col(c, "model")));
    sp_status st;
#define I(col, dflt, lo, hi, dst)                                                                        \
    if ((st = sp_csv_int(c, r, col, dflt, lo, hi, dst, err)))                                            \
        return st;
    I("n_layers", -1, 1, 100000, &m.n_layers);
    I("d_model", -1, 1, 10000000, &m.d_model);
    I("n_heads", -1, 1, 1000000, &m.n_heads);
    if (m.n_layers < 0 || m.d_model < 0 || m.n_heads < 0)
        return sp_fail(err, SP_EINVAL, "%s:%d: n_layers, d_model and n_heads are required", sp_csv_path(c),
                       sp_csv_line(c, r));
    I("n_kv_heads", m.n_heads, 1, m.n_heads, &m.n_kv_heads);
    I("ffn_dim", 4 * m.d_model, 1, 100000000, &m.ffn_dim);
    I("vocab", 51200, 1, 100000000, &m.vocab);
    I("moe_experts", 0, 0, 1000000, &m.n_experts);
    I("moe_topk", m.n_experts > 1 ? 1 : 0, 0, 1000000, &m.top_k);
    const char *fty = sp_csv_get(c, r, sp_csv_col(c, "ffn_type"));
    if (!*fty || strcmp(fty, "gelu") == 0 || strcmp(fty, "relu") == 0)
        m.gated = 0;
    else if (strcmp(fty, "swiglu") == 0 || strcmp(fty, "gated") == 0 || strcmp(fty, "geglu") == 0)
        m.gated = 1;
    else
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'ffn_type': '%s'; allowed gelu, relu, swiglu, geglu, gated",
                       sp_csv_path(c), sp_csv_line(c, r), fty);
    m.norm = SP_NORM_LAYERNORM;
    m.biases = !m.gated;
    m.tied_embeddings = 1;
    sp_plan p;
    sp_plan_defaults(&p);
    I("seq_len", 2048, 1, 1 << 24, &p.seq_len);
    m.max_seq = p.seq_len;
    sp_model_defaults(&m);
    if ((st = sp_model_check(&m, sp_csv_path(c), err)))
        return st;
    sp_system s;
    const char *sys = sp_csv_get(c, r, sp_csv_col(c, "system"));
    if (!*sys)
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'system' is empty", sp_csv_path(c), sp_csv_line(c, r));
    sp_error e2 = {0};
    if ((st = cached_system(data_dir, sc, sys, &s, &e2)))
        return sp_fail(err, st, "%s:%d: column 'system': %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
    I("n_gpus", -1, 1, 1 << 30, &p.n_gpus);
    I("tp", 1, 1, 1 << 20, &p.tp);
    I("pp", 1, 1, 1 << 20, &p.pp);
    I("dp", 0, 0, 1 << 30, &p.dp);
    I("ep", 1, 1, 1 << 20, &p.ep);
    I("cp", 1, 1, 1 << 20, &p.cp);
    I("vpp", 1, 1, 1 << 20, &p.vpp);
    I("zero_stage", 0, 0, 3, &p.zero);
    I("global_batch", -1, 1, 1 << 30, &p.global_batch);
    I("micro_batch", 0, 0, 1 << 30, &p.micro_batch);
    I("seq_parallel", 0, 0, 1, &p.seq_parallel);
#undef I
    if (p.micro_batch == 0) {
        /* unstated: no gradient accumulation without pipelining (the whole per-replica batch at once), one
         * sequence per micro-batch with pipelining (Megatron's default) */
        int replicas = p.dp > 0 ? p.dp : (p.n_gpus > 0 ? p.n_gpus / (p.tp * p.pp * p.cp) : 1);
        p.micro_batch = (p.pp == 1 && replicas > 0 && p.global_batch % replicas == 0) ? p.global_batch / replicas : 1;
        if (p.micro_batch < 1)
            p.micro_batch = 1;
    }
    if (p.n_gpus < 0 || p.global_batch < 0)
        return sp_fail(err, SP_EINVAL, "%s:%d: n_gpus and global_batch are required", sp_csv_path(c),
                       sp_csv_line(c, r));
    /* Megatron counts EP inside DP: a row's dp is the data-parallel degree of the dense layers */
    if (p.ep > 1 && p.dp > 0) {
        if (p.dp % p.ep)
            return sp_fail(err, SP_EINVAL, "%s:%d: dp %d not divisible by ep %d", sp_csv_path(c), sp_csv_line(c, r),
                           p.dp, p.ep);
        p.dp /= p.ep;
    }
    const char *rc = sp_csv_get(c, r, sp_csv_col(c, "recompute"));
    o->stated_knobs = *rc != 0 && *sp_csv_get(c, r, sp_csv_col(c, "seq_parallel")) != 0;
    if (!*rc || strcmp(rc, "full") == 0)
        p.recompute = SP_RECOMPUTE_FULL;
    else if (strcmp(rc, "selective") == 0)
        p.recompute = SP_RECOMPUTE_SELECTIVE;
    else if (strcmp(rc, "none") == 0)
        p.recompute = SP_RECOMPUTE_NONE;
    else
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'recompute': '%s'; allowed none, selective, full",
                       sp_csv_path(c), sp_csv_line(c, r), rc);
    const char *prec = sp_csv_get(c, r, sp_csv_col(c, "precision"));
    if (*prec) {
        sp_error e3 = {0};
        if (sp_dtype_parse(prec, &p.dtype, &e3))
            return sp_fail(err, SP_EINVAL, "%s:%d: column 'precision': %s", sp_csv_path(c), sp_csv_line(c, r), e3.msg);
    }
    if ((st = sp_plan_resolve(&p, &m, &s, &e2)))
        return sp_fail(err, st, "%s:%d: %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
    if ((st = sp_train_eval(&m, &s, &p, &o->res, &e2)))
        return sp_fail(err, st, "%s:%d: %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
    double meas_t, meas_tf;
    int counts_rc;
    if ((st = sp_csv_double(c, r, "measured_step_time_s", -1, 0, 1e9, &meas_t, err)))
        return st;
    if ((st = sp_csv_double(c, r, "measured_tflops_per_gpu", -1, 0, 1e6, &meas_tf, err)))
        return st;
    if ((st = sp_csv_int(c, r, "tflops_counts_recompute", 0, 0, 1, &counts_rc, err)))
        return st;
    o->predicted_step_time_s = o->res.step_time_s;
    o->predicted_mfu = o->res.mfu;
    if (meas_t > 0) {
        o->measured_step_time_s = meas_t;
    } else if (meas_tf > 0) {
        double flops = counts_rc ? o->res.hardware_flops : o->res.model_flops;
        o->compared_tflops = 1;
        o->measured_tflops = meas_tf;
        o->predicted_tflops = flops / (o->res.step_time_s * p.n_gpus) / 1e12;
        o->measured_step_time_s = flops / (p.n_gpus * meas_tf * 1e12);
    } else
        return sp_fail(err, SP_EINVAL, "%s:%d: neither measured_step_time_s nor measured_tflops_per_gpu is given",
                       sp_csv_path(c), sp_csv_line(c, r));
    o->error_pct = 100.0 * (o->predicted_step_time_s - o->measured_step_time_s) / o->measured_step_time_s;
    if (!o->res.fits) {
        /* still compared, but flagged: the plan ran, so our memory model overestimates */
        snprintf(o->reason, sizeof o->reason, "predicted memory %.1f GiB exceeds %.0f GiB", o->res.mem.total / 1073741824.0,
                 o->res.mem.capacity / 1073741824.0);
    }
    return SP_OK;
}

sp_status sp_validate_training(const char *data_dir, const char *csv_path, sp_validate_row **rows, int *n,
                               sp_error *err)
{
    *rows = NULL;
    *n = 0;
    sp_csv *c;
    sp_status st = sp_csv_read(csv_path, &c, err);
    if (st)
        return st;
    st = sp_validate_training_csv(data_dir, c, rows, n, err);
    sp_csv_free(c);
    return st;
}

sp_status sp_validate_training_csv(const char *data_dir, const sp_csv *c, sp_validate_row **rows, int *n,
                                   sp_error *err)
{
    *rows = NULL;
    *n = 0;
    static const char *required[] = {"id", "n_layers", "d_model", "n_heads", "system", "n_gpus", "global_batch", NULL};
    for (int i = 0; required[i]; i++)
        if (sp_csv_col(c, required[i]) < 0)
            return sp_fail(err, SP_EPARSE, "%s:1: missing required column '%s'", sp_csv_path(c), required[i]);
    if (sp_csv_col(c, "measured_step_time_s") < 0 && sp_csv_col(c, "measured_tflops_per_gpu") < 0)
        return sp_fail(err, SP_EPARSE, "%s:1: needs a 'measured_step_time_s' or 'measured_tflops_per_gpu' column",
                       sp_csv_path(c));
    int nr = sp_csv_rows(c);
    sp_validate_row *out = calloc(nr > 0 ? (size_t)nr : 1, sizeof *out);
    sys_cache *sc = malloc(sizeof *sc);
    if (!out || !sc) {
        free(out);
        free(sc);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    sc->n = 0;
    for (int r = 0; r < nr; r++) {
        sp_validate_row *o = &out[r];
        snprintf(o->id, sizeof o->id, "%s", sp_csv_get(c, r, sp_csv_col(c, "id")));
        const char *dash = strchr(o->id, '-');
        size_t fl = dash ? (size_t)(dash - o->id) : strlen(o->id);
        snprintf(o->family, sizeof o->family, "%.*s", (int)(fl < sizeof o->family ? fl : sizeof o->family - 1), o->id);
        sp_error e = {0};
        if (row_eval(data_dir, sc, c, r, o, &e) == SP_OK)
            o->ok = 1;
        else
            snprintf(o->reason, sizeof o->reason, "%s", e.msg);
    }
    free(sc);
    *rows = out;
    *n = nr;
    return SP_OK;
}
