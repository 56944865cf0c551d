/* Predicts every row of a training_runs.csv-style file (schema: data/validation/README.md, second version).
 *
 * Model: the `model_config` preset or Hugging Face config.json when given (the shape columns are then only
 * informative), otherwise the shape columns. A relative path in `system` or `model_config` is relative to the
 * CSV file's folder, not the working directory.
 * Knobs: the row's cells; an empty one takes the default of the row's software stack (`software`, else the
 * system's usual stack; data/software, docs/systems.md). Without any stack the documented validation defaults
 * apply (docs/validation.md): n_kv_heads = n_heads, ffn_dim = 4·d_model, ffn_type = gelu, vpp = 1,
 * zero_stage = 0, ep = cp = 1, seq_parallel = 0 and recompute = full (every Megatron-LM example script of
 * 2019-2021 passed --checkpoint-activations). Rows with unstated knobs are flagged (stated_knobs = 0). Columns
 * scaleplan does not read (`notes`, `source`, `model`) are ignored.
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

/* A cell naming a file (it has a '/' or ends in .json) relative to the CSV's folder, not the working directory;
 * preset names and absolute paths are returned as they are. */
static const char *csv_relative(const sp_csv *c, const char *cell, char *buf, size_t n)
{
    if (!*cell || cell[0] == '/' || (!strchr(cell, '/') && !strstr(cell, ".json")))
        return cell;
    const char *path = sp_csv_path(c), *slash = strrchr(path, '/');
    if (!slash)
        return cell;
    snprintf(buf, n, "%.*s/%s", (int)(slash - path), path, cell);
    return buf;
}

/* The model: the model_config preset or config.json when given (the shape columns are then informative only),
 * otherwise the shape columns. */
static sp_status row_model(const char *data_dir, const sp_csv *c, int r, sp_model *m, int *seq, sp_error *err)
{
    sp_status st;
    const char *mc = sp_csv_get(c, r, sp_csv_col(c, "model_config"));
    if ((st = sp_csv_int(c, r, "seq_len", 2048, 1, 1 << 24, seq, err)))
        return st;
    if (*mc) {
        char buf[1400];
        sp_error e2 = {0};
        if ((st = sp_load_model(data_dir, csv_relative(c, mc, buf, sizeof buf), m, &e2)))
            return sp_fail(err, st, "%s:%d: column 'model_config': %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
        return SP_OK;
    }
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", sp_csv_get(c, r, sp_csv_col(c, "model")));
#define I(col, dflt, lo, hi, dst)                                                                        \
    if ((st = sp_csv_int(c, r, col, dflt, lo, hi, dst, err)))                                            \
        return st;
    I("n_layers", -1, 1, 100000, &m->n_layers);
    I("d_model", -1, 1, 10000000, &m->d_model);
    I("n_heads", -1, 1, 1000000, &m->n_heads);
    if (m->n_layers < 0 || m->d_model < 0 || m->n_heads < 0)
        return sp_fail(err, SP_EINVAL, "%s:%d: n_layers, d_model and n_heads are required (or model_config)",
                       sp_csv_path(c), sp_csv_line(c, r));
    I("n_kv_heads", m->n_heads, 1, m->n_heads, &m->n_kv_heads);
    I("ffn_dim", 4 * m->d_model, 1, 100000000, &m->ffn_dim);
    I("vocab", 51200, 1, 100000000, &m->vocab);
    I("moe_experts", 0, 0, 1000000, &m->n_experts);
    I("moe_topk", m->n_experts > 1 ? 1 : 0, 0, 1000000, &m->top_k);
#undef I
    const char *fty = sp_csv_get(c, r, sp_csv_col(c, "ffn_type"));
    if (!*fty || strcmp(fty, "gelu") == 0 || strcmp(fty, "relu") == 0)
        m->gated = 0;
    else if (strcmp(fty, "swiglu") == 0 || strcmp(fty, "gated") == 0 || strcmp(fty, "geglu") == 0)
        m->gated = 1;
    else
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'ffn_type': '%s'; allowed gelu, relu, swiglu, geglu, gated",
                       sp_csv_path(c), sp_csv_line(c, r), fty);
    m->norm = SP_NORM_LAYERNORM;
    m->biases = !m->gated;
    m->tied_embeddings = 1;
    /* a model given by shape columns is GPT-style (LayerNorm, biases, tied) and trains with GPT-2's / Megatron-LM's
     * dropout of 0.1 (transformers GPT2Config resid_pdrop = attn_pdrop = 0.1; Megatron-LM --hidden-dropout and
     * --attention-dropout 0.1); a row whose model trains without names its model_config */
    m->hidden_dropout = m->attn_dropout = 0.1;
    m->max_seq = *seq;
    sp_model_defaults(m);
    return sp_model_check(m, sp_csv_path(c), err);
}

/* Stacks already loaded in this call (a file names a handful). */
typedef struct {
    int n;
    struct {
        char name[48];
        sp_software sw;
    } e[8];
} stack_cache;

/* The row's software stack: the 'software' cell, else the system's usual stack; *have = 0 when neither names one
 * (the documented validation defaults apply). */
static sp_status row_stack(const char *data_dir, stack_cache *kc, const sp_csv *c, int r, const sp_system *s,
                           sp_software *sw, int *have, sp_error *err)
{
    const char *name = sp_csv_get(c, r, sp_csv_col(c, "software"));
    if (!*name)
        name = s->stack;
    *have = *name != 0;
    if (!*have)
        return SP_OK;
    for (int i = 0; i < kc->n; i++)
        if (strcmp(kc->e[i].name, name) == 0) {
            *sw = kc->e[i].sw;
            return SP_OK;
        }
    sp_error e2 = {0};
    if (sp_load_software(data_dir, name, sw, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'software': %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
    if (kc->n < 8 && strlen(name) < sizeof kc->e[0].name) {
        snprintf(kc->e[kc->n].name, sizeof kc->e[0].name, "%s", name);
        kc->e[kc->n++].sw = *sw;
    }
    return SP_OK;
}

/* A row whose EP does not divide its DP: Megatron-Core's parallel folding carves EP x ETP out of the stage's
 * TP·CP·DP ranks. Without an etp cell: Megatron-Core's default (ETP = TP) when EP x TP fits those ranks, else the
 * largest divisor of TP that fits; with one, the recipe's expert_tensor_parallel_size (row_etp). An EP larger than
 * the stage's ranks is no Megatron-Core layout: the row's parallel columns are inconsistent in the source. */
static sp_status row_fold(const sp_csv *c, int r, sp_plan *p, sp_error *err)
{
    long long ranks = (long long)p->tp * p->cp * p->dp;
    if (ranks % p->ep)
        return sp_fail(err, SP_EINVAL, "%s:%d: the source's parallel layout is inconsistent: ep %d does not divide the "
                       "%lld ranks of a pipeline stage (tp*cp*dp = %d*%d*%d), which Megatron-Core requires",
                       sp_csv_path(c), sp_csv_line(c, r), p->ep, ranks, p->tp, p->cp, p->dp);
    p->ep_fold = 1;
    if (p->etp > 0) /* the etp cell: the plan's checks (plan.c) say whether EP x ETP fits */
        return SP_OK;
    int etp = p->tp;
    while (ranks % ((long long)etp * p->ep) || p->tp % etp)
        etp--;
    p->etp = etp == p->tp ? 0 : etp;
    return SP_OK;
}

/* The etp cell: the recipe's expert tensor-parallel size (Megatron-Core expert_tensor_parallel_size; the
 * Megatron-Bridge MoE recipes set 1, tools/bridge_recipe_facts.py); empty = Megatron-Core's default, ETP = TP
 * (row_fold when EP x TP does not fit). One equal to TP is the default; others are checked by plan.c. */
static sp_status row_etp(const sp_csv *c, int r, sp_plan *p, sp_error *err)
{
    sp_status st = sp_csv_int(c, r, "etp", 0, 1, 1 << 20, &p->etp, err);
    if (!st && p->etp == p->tp)
        p->etp = 0;
    return st;
}

static sp_status row_counts(const sp_csv *c, int r, sp_plan *p, sp_error *err)
{
    sp_status st;
#define I(col, dflt, lo, hi, dst)                                                                        \
    if ((st = sp_csv_int(c, r, col, dflt, lo, hi, dst, err)))                                            \
        return st;
    I("n_gpus", -1, 1, 1 << 30, &p->n_gpus);
    I("tp", 1, 1, 1 << 20, &p->tp);
    I("pp", 1, 1, 1 << 20, &p->pp);
    I("dp", 0, 0, 1 << 30, &p->dp);
    I("ep", 1, 1, 1 << 20, &p->ep);
    I("cp", 1, 1, 1 << 20, &p->cp);
    I("vpp", 1, 1, 1 << 20, &p->vpp);
    I("zero_stage", 0, 0, 3, &p->zero);
    I("global_batch", -1, 1, 1 << 30, &p->global_batch);
    I("micro_batch", 0, 0, 1 << 30, &p->micro_batch);
    I("seq_parallel", 0, 0, 1, &p->seq_parallel);
    /* hsdp: ZeRO states sharded over groups of this many data-parallel ranks, replicated across groups (FSDP inside
     * a TPU slice, data parallelism across slices: MaxText's ici_fsdp x dcn_data mesh); empty = the whole group */
    I("hsdp", 0, 1, 1 << 30, &p->hsdp);
#undef I
    if ((st = row_etp(c, r, p, err)))
        return st;
    if (p->n_gpus < 0 || p->global_batch < 0)
        return sp_fail(err, SP_EINVAL, "%s:%d: n_gpus and global_batch are required", sp_csv_path(c), sp_csv_line(c, r));
    /* pp_layout: the recipe's Megatron-Core pipeline_model_parallel_layout (plan.pp_layout); empty = the even split */
    const char *lay = sp_csv_get(c, r, sp_csv_col(c, "pp_layout"));
    if (strlen(lay) >= sizeof p->pp_layout)
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'pp_layout': over %d characters", sp_csv_path(c),
                       sp_csv_line(c, r), (int)sizeof p->pp_layout - 1);
    snprintf(p->pp_layout, sizeof p->pp_layout, "%s", lay);
    if (p->micro_batch == 0) {
        /* unstated: no gradient accumulation without pipelining (the whole per-replica batch at once), one
         * sequence per micro-batch with pipelining (Megatron's default) */
        int replicas = p->dp > 0 ? p->dp : p->n_gpus / (p->tp * p->pp * p->cp);
        p->micro_batch = (p->pp == 1 && replicas > 0 && p->global_batch % replicas == 0) ? p->global_batch / replicas : 1;
        if (p->micro_batch < 1)
            p->micro_batch = 1;
    }
    /* Megatron counts EP inside DP (dp = n_gpus / (tp·pp·cp)): scaleplan's dp is the dense replicas beside EP when
     * EP divides DP (the layout the unfolded plan expresses), else the plan is folded (plan.c) */
    if (p->ep > 1 && p->dp > 0) {
        if (p->dp % p->ep == 0)
            p->dp /= p->ep;
        else
            return row_fold(c, r, p, err);
    }
    return SP_OK;
}

/* The cuda_graphs and moe_dispatcher cells (docs/systems.md): the knobs they give; empty = the stack's default. */
static sp_status row_host_knobs(const sp_csv *c, int r, sp_plan *p, unsigned *given, int ep_tp_overlap[2],
                                sp_error *err)
{
    const char *g = sp_csv_get(c, r, sp_csv_col(c, "cuda_graphs"));
    const char *d = sp_csv_get(c, r, sp_csv_col(c, "moe_dispatcher"));
    sp_error e2 = {0};
    if (*g && sp_cuda_graphs_parse(g, &p->cuda_graphs, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'cuda_graphs': %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
    if (*d && sp_moe_dispatcher_parse(d, &p->moe_dispatcher, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'moe_dispatcher': %s", sp_csv_path(c), sp_csv_line(c, r),
                       e2.msg);
    *given = (*g ? SP_KNOB_GRAPHS : 0) | (*d ? SP_KNOB_DISPATCHER : 0);
    /* overlap_ep (0/1): the row's recipe overlaps the MoE all-to-all with other work (Megatron-Core
     * overlap_moe_expert_parallel_comm); overlap_tp (0/1): it overlaps the TP collectives with the GEMMs they feed
     * (torchtitan's enable_async_tensor_parallel, Megatron-Core's tp_comm_overlap); empty (-1): the stack's default */
    sp_status st = sp_csv_int(c, r, "overlap_ep", -1, 0, 1, &ep_tp_overlap[0], err);
    return st ? st : sp_csv_int(c, r, "overlap_tp", -1, 0, 1, &ep_tp_overlap[1], err);
}

/* The eager_ops cell: the elementwise ops the row's run left to eager PyTorch (sp_eager_ops_parse: none, or a list
 * of norm, rope, act; torchtitan without torch.compile: norm,rope,act); empty = the stack's default */
static sp_status row_eager_ops(const sp_csv *c, int r, sp_plan *p, unsigned *given, sp_error *err)
{
    const char *v = sp_csv_get(c, r, sp_csv_col(c, "eager_ops"));
    sp_error e2 = {0};
    *given = 0;
    if (!*v)
        return SP_OK;
    if (sp_eager_ops_parse(v, &p->eager_ops, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'eager_ops': %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
    *given = SP_KNOB_EAGER;
    return SP_OK;
}

/* The fp8_recipe cell: the row's FP8 scaling recipe (sp_fp8_recipe_parse names: delayed, current, blockwise,
 * rowwise), only under FP8 GEMMs; empty = the stack's default (its defaults.fp8_recipe). */
static sp_status row_fp8_recipe(const sp_csv *c, int r, sp_plan *p, unsigned *given, sp_error *err)
{
    const char *v = sp_csv_get(c, r, sp_csv_col(c, "fp8_recipe"));
    sp_error e2 = {0};
    *given = 0;
    if (!*v)
        return SP_OK;
    if (sp_fp8_recipe_parse(v, &p->fp8_recipe, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'fp8_recipe': %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
    if (p->dtype != SP_FP8)
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'fp8_recipe': '%s' applies only to fp8 rows (precision %s)",
                       sp_csv_path(c), sp_csv_line(c, r), v, sp_dtype_name(p->dtype));
    *given = SP_KNOB_FP8_RECIPE;
    return SP_OK;
}

/* The moe_capacity and moe_pad cells: Megatron-Core's token drop (moe_expert_capacity_factor,
 * moe_pad_expert_input_to_capacity; plan.capacity_factor, plan.moe_pad, docs/model.md "Load imbalance and
 * capacity"); empty = the stack's default, dropless (NVIDIA/Megatron-LM@d98e8a64ddf3:
 * megatron/core/transformer/transformer_config.py:917,921: None and False; no stack preset sets them) */
static sp_status row_moe_drop(const sp_csv *c, int r, sp_plan *p, sp_error *err)
{
    sp_status st = sp_csv_double(c, r, "moe_capacity", 0, 0.01, 1000, &p->capacity_factor, err);
    if (!st)
        st = sp_csv_int(c, r, "moe_pad", 0, 0, 1, &p->moe_pad, err);
    /* moe_router_fusion (0/1): the recipe's Megatron-Core moe_router_fusion (ops.c ROUTER_FUSED_*); empty = off,
     * Megatron-Core's default (transformer_config.py:944 at d98e8a64ddf3) */
    if (!st)
        st = sp_csv_int(c, r, "moe_router_fusion", 0, 0, 1, &p->moe_router_fusion, err);
    /* moe_fused_mlp (0/1): the recipe's cutedsl_fused_grouped_mlp (ops.c moe_fused); fp8_attention (0/1): its
     * fp8_dot_product_attention, recorded; empty = off, Megatron-Bridge's defaults (False and None:
     * NVIDIA-NeMo/Megatron-Bridge@fcbb6031103d scripts/performance/utils/utils.py:63-64) */
    if (!st)
        st = sp_csv_int(c, r, "moe_fused_mlp", 0, 0, 1, &p->moe_fused_mlp, err);
    return st ? st : sp_csv_int(c, r, "fp8_attention", 0, 0, 1, &p->fp8_attention, err);
}

/* The recompute_modules (selective recompute's Megatron-Core modules) and recompute_layers (full recompute's block
 * method: layers per stage) cells; empty = the recompute column alone (selective: {core_attn}; full: every layer). */
static sp_status row_recompute_cols(const sp_csv *c, int r, sp_plan *p, sp_error *err)
{
    const char *mods = sp_csv_get(c, r, sp_csv_col(c, "recompute_modules"));
    sp_error e2 = {0};
    if (*mods && sp_recompute_modules_parse(mods, &p->recompute_modules, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'recompute_modules': %s", sp_csv_path(c), sp_csv_line(c, r),
                       e2.msg);
    if (*mods && p->recompute != SP_RECOMPUTE_SELECTIVE)
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'recompute_modules' applies to recompute selective, not %s",
                       sp_csv_path(c), sp_csv_line(c, r), sp_recompute_name(p->recompute));
    sp_status st = sp_csv_int(c, r, "recompute_layers", 0, 1, 1 << 20, &p->recompute_layers, err);
    if (!st && p->recompute_layers > 0 && p->recompute != SP_RECOMPUTE_FULL)
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'recompute_layers' applies to recompute full, not %s",
                       sp_csv_path(c), sp_csv_line(c, r), sp_recompute_name(p->recompute));
    return st;
}

/* The bf16_layers cell "START,END": the layers the recipe keeps in BF16 under a quantized precision (Megatron-Core
 * num_layers_at_start_in_bf16 / num_layers_at_end_in_bf16 with first_last_layers_bf16; plan.h sp_plan_bf16_layer);
 * empty = none. */
static sp_status row_bf16_layers(const sp_csv *c, int r, sp_plan *p, sp_error *err)
{
    const char *v = sp_csv_get(c, r, sp_csv_col(c, "bf16_layers"));
    sp_error e2 = {0};
    if (!*v)
        return SP_OK;
    if (sp_bf16_layers_parse(v, &p->bf16_first, &p->bf16_last, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'bf16_layers': %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
    if (!sp_dtype_is_quantized(p->dtype))
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'bf16_layers' applies to a quantized precision (fp8, mxfp8, nvfp4, "
                       "fp4), not %s", sp_csv_path(c), sp_csv_line(c, r), sp_dtype_name(p->dtype));
    return SP_OK;
}

/* the overlap_ep / overlap_tp cells given (>= 0) replace the system's (the stack's) overlap flags */
static void row_overlaps(const int ov[2], sp_system *s)
{
    if (ov[0] >= 0)
        s->overlap_ep = ov[0];
    if (ov[1] >= 0)
        s->overlap_tp = ov[1];
}

/* doc_len, doc_len_cv (optional): packed sequences, the mean length in tokens of the samples packed into one sequence
 * and their length coefficient of variation (docs/model.md "Packed sequences"); empty = unpacked, cv 0. A mean above
 * the row's seq_len, or a spread whose E[l^2]/E[l] would, is refused naming the cell. */
static sp_status row_packing(const sp_csv *c, int r, sp_plan *p, sp_error *err)
{
    sp_status st = sp_csv_double(c, r, "doc_len", 0, 1, 1 << 24, &p->doc_len, err);
    if (!st)
        st = sp_csv_double(c, r, "doc_len_cv", 0, 0, 1 << 12, &p->doc_len_cv, err);
    if (st)
        return st;
    sp_error e2 = {0};
    if (sp_plan_check_packing(p, &e2)) {
        const char *msg = strncmp(e2.msg, "plan: ", 6) == 0 ? e2.msg + 6 : e2.msg;
        return sp_fail(err, SP_EINVAL, "%s:%d: column '%s': %s", sp_csv_path(c), sp_csv_line(c, r),
                       p->doc_len > p->seq_len ? "doc_len" : "doc_len_cv", msg);
    }
    return SP_OK;
}

/* Knobs: the row's cells, then the stack's defaults for the empty ones (or, without a stack, the documented
 * validation defaults: recompute full, the only era whose rows leave it empty). */
static sp_status row_knobs(const sp_csv *c, int r, const sp_software *sw, int have, sp_system *s, sp_plan *p,
                           int *stated, sp_error *err)
{
    const char *rc = sp_csv_get(c, r, sp_csv_col(c, "recompute"));
    const char *spc = sp_csv_get(c, r, sp_csv_col(c, "seq_parallel"));
    *stated = *rc != 0 && *spc != 0;
    if (!*rc || strcmp(rc, "full") == 0)
        p->recompute = SP_RECOMPUTE_FULL;
    else if (strcmp(rc, "selective") == 0)
        p->recompute = SP_RECOMPUTE_SELECTIVE;
    else if (strcmp(rc, "none") == 0)
        p->recompute = SP_RECOMPUTE_NONE;
    else
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'recompute': '%s'; allowed none, selective, full", sp_csv_path(c),
                       sp_csv_line(c, r), rc);
    sp_status st = row_recompute_cols(c, r, p, err);
    if (st)
        return st;
    const char *prec = sp_csv_get(c, r, sp_csv_col(c, "precision"));
    sp_error e3 = {0};
    if (*prec && sp_dtype_parse(prec, &p->dtype, &e3))
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'precision': %s", sp_csv_path(c), sp_csv_line(c, r), e3.msg);
    unsigned host = 0, fr = 0, eg = 0;
    int ov[2] = {-1, -1}; /* the overlap_ep and overlap_tp cells */
    /* offload_layers: the recipe's activation offloading (Megatron-Core cpu_offloading_num_layers); empty = none */
    st = sp_csv_int(c, r, "offload_layers", 0, 0, 1 << 20, &p->offload_layers, err);
    /* fp8_output_proj (0/1): the recipe's Megatron-Core fp8_output_proj (ops.c sp_ops_lm_head); empty = off, its
     * default (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/transformer/transformer_config.py:635) */
    if (!st)
        st = sp_csv_int(c, r, "fp8_output_proj", 0, 0, 1, &p->fp8_output_proj, err);
    if (!st)
        st = row_bf16_layers(c, r, p, err);
    if (!st)
        st = row_host_knobs(c, r, p, &host, ov, err);
    if (!st)
        st = row_moe_drop(c, r, p, err);
    if (!st)
        st = row_fp8_recipe(c, r, p, &fr, err);
    if (!st)
        st = row_eager_ops(c, r, p, &eg, err);
    if (!st)
        st = row_packing(c, r, p, err);
    if (!st && !have)
        row_overlaps(ov, s);
    if (st || !have)
        return st;
    unsigned given = host | fr | eg | (*rc ? SP_KNOB_RECOMPUTE : 0) | (*spc ? SP_KNOB_SP : 0) |
                     (*sp_csv_get(c, r, sp_csv_col(c, "zero_stage")) ? SP_KNOB_ZERO : 0) |
                     (*sp_csv_get(c, r, sp_csv_col(c, "vpp")) ? SP_KNOB_VPP : 0);
    if (sp_software_apply(sw, given, p, &e3))
        return sp_fail(err, SP_EINVAL, "%s:%d: %s", sp_csv_path(c), sp_csv_line(c, r), e3.msg);
    sp_software_apply_system(sw, s);
    row_overlaps(ov, s);
    return SP_OK;
}

/* The measured step time (from TFLOP/s with the source's FLOP count when no step time is given) and the error. */
static sp_status row_compare(const sp_csv *c, int r, const sp_plan *p, sp_validate_row *o, sp_error *err)
{
    double meas_t, meas_tf;
    int counts_rc;
    sp_status st;
    if ((st = sp_csv_double(c, r, "measured_step_time_s", -1, 0, 1e9, &meas_t, err)) ||
        (st = sp_csv_double(c, r, "measured_tflops_per_gpu", -1, 0, 1e6, &meas_tf, err)) ||
        (st = sp_csv_int(c, r, "tflops_counts_recompute", 0, 0, 1, &counts_rc, err)))
        return st;
    o->predicted_step_time_s = o->res.step_time_s;
    o->predicted_mfu = o->res.mfu;
    if (meas_t > 0) {
        o->measured_step_time_s = meas_t;
    } else if (meas_tf > 0) {
        double flops = counts_rc ? o->res.hardware_flops : o->res.model_flops;
        o->compared_tflops = 1;
        o->measured_tflops = meas_tf;
        o->predicted_tflops = flops / (o->res.step_time_s * p->n_gpus) / 1e12;
        o->measured_step_time_s = flops / (p->n_gpus * meas_tf * 1e12);
    } else
        return sp_fail(err, SP_EINVAL, "%s:%d: neither measured_step_time_s nor measured_tflops_per_gpu is given",
                       sp_csv_path(c), sp_csv_line(c, r));
    o->error_pct = 100.0 * (o->predicted_step_time_s - o->measured_step_time_s) / o->measured_step_time_s;
    if (!o->res.fits) /* still compared, but flagged: the plan ran, so our memory model overestimates */
        snprintf(o->reason, sizeof o->reason, "predicted memory %.1f GiB exceeds %.0f GiB",
                 o->res.mem.total / 1073741824.0, o->res.mem.capacity / 1073741824.0);
    return SP_OK;
}

/* Megatron-Bridge's LoRA defaults: rank (dim) 32 on linear_qkv, linear_proj, linear_fc1 and linear_fc2, i.e.
 * attention and MLP (NVIDIA-NeMo/Megatron-Bridge@0191fc5e1b7f:src/megatron/bridge/peft/lora.py, class LoRA). */
#define BRIDGE_LORA_RANK 32

/* The task of a row: pre-training, SFT (full fine-tuning: the same step) or LoRA (frozen base, adapters trained:
 * through the finetune model, sp_finetune_apply). From the `task` column when the file has one (pretrain, sft,
 * lora); otherwise the Megatron-Core tables say it in the notes ("TASK=LoRA fine-tuning ...") and in the model
 * name ("Llama-3-70B (LoRA)"), read here; never by row id. */
static sp_status row_task(const sp_csv *c, int r, const sp_model *m, sp_plan *p, sp_error *err)
{
    const char *task = sp_csv_get(c, r, sp_csv_col(c, "task"));
    const char *notes = sp_csv_get(c, r, sp_csv_col(c, "notes"));
    const char *model = sp_csv_get(c, r, sp_csv_col(c, "model"));
    int lora = *task ? strcmp(task, "lora") == 0 : strncmp(notes, "TASK=LoRA", 9) == 0 || strstr(model, "(LoRA)");
    if (*task && !lora && strcmp(task, "pretrain") != 0 && strcmp(task, "sft") != 0)
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'task': '%s'; allowed pretrain, sft, lora", sp_csv_path(c),
                       sp_csv_line(c, r), task);
    if (!lora)
        return SP_OK;
    sp_finetune ft;
    sp_error e2 = {0};
    if (sp_finetune_parse("lora", NULL, NULL, BRIDGE_LORA_RANK, &ft, &e2) || sp_finetune_apply(m, &ft, p, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: LoRA row: %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
    return SP_OK;
}

/* An unstated micro-batch (row_counts: the whole per-replica batch without pipelining) that does not fit memory is
 * one the run cannot have used: Megatron has no default micro-batch, the user picks one that fits
 * (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/training/arguments.py:693 asserts micro_batch_size is given). Then the
 * largest divisor of that batch whose plan fits is taken (1 when none does); a stated micro-batch is never changed. */
static sp_status row_fit_micro_batch(const sp_csv *c, int r, const sp_model *m, const sp_system *s,
                                     const sp_plan *p0, sp_plan *p, sp_validate_row *o, sp_error *e2)
{
    if (*sp_csv_get(c, r, sp_csv_col(c, "micro_batch")) || o->res.fits)
        return SP_OK;
    for (int mb = p0->micro_batch - 1; mb >= 1 && !o->res.fits; mb--) {
        if (p0->micro_batch % mb)
            continue;
        *p = *p0;
        p->micro_batch = mb;
        sp_status st = sp_plan_resolve(p, m, s, e2);
        if (st || (st = sp_train_eval(m, s, p, &o->res, e2)))
            return st;
    }
    return SP_OK;
}

/* mtp_layers: the recipe's Megatron-Core mtp_num_layers, the multi-token-prediction modules trained beside the model
 * (DeepSeek-V3 §2.2); empty = the model's own count. Megatron-Core builds an MTP layer from the decoder block's last
 * layer spec (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/models/gpt/gpt_layer_specs.py:767-769), so a model that
 * states no MTP kinds gets its last layer's. */
static sp_status row_mtp(const sp_csv *c, int r, sp_model *m, sp_error *err)
{
    int n;
    sp_status st = sp_csv_int(c, r, "mtp_layers", -1, 0, 64, &n, err);
    if (st || n < 0)
        return st;
    if (n > 0 && m->n_mtp == 0) {
        m->mtp_mixer = (unsigned char)sp_model_mixer(m, m->n_layers - 1);
        m->mtp_ffn = (unsigned char)sp_model_ffn(m, m->n_layers - 1);
    }
    m->n_mtp = n;
    return SP_OK;
}

static sp_status row_eval(const char *data_dir, sys_cache *sc, stack_cache *kc, const sp_csv *c, int r,
                          sp_validate_row *o, sp_error *err)
{
    sp_model m;
    sp_plan p;
    sp_plan_defaults(&p);
    sp_status st = row_model(data_dir, c, r, &m, &p.seq_len, err);
    if (st || (st = row_mtp(c, r, &m, err)))
        return st;
    sp_system s;
    const char *sys = sp_csv_get(c, r, sp_csv_col(c, "system"));
    if (!*sys)
        return sp_fail(err, SP_EINVAL, "%s:%d: column 'system' is empty", sp_csv_path(c), sp_csv_line(c, r));
    char buf[1400];
    sp_error e2 = {0};
    if ((st = cached_system(data_dir, sc, csv_relative(c, sys, buf, sizeof buf), &s, &e2)))
        return sp_fail(err, st, "%s:%d: column 'system': %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
    sp_software sw;
    int have;
    if ((st = row_stack(data_dir, kc, c, r, &s, &sw, &have, err)) || (st = row_counts(c, r, &p, err)) ||
        (st = row_knobs(c, r, &sw, have, &s, &p, &o->stated_knobs, err)) || (st = row_task(c, r, &m, &p, err)))
        return st;
    sp_plan p0 = p;
    if ((st = sp_plan_resolve(&p, &m, &s, &e2)) || (st = sp_train_eval(&m, &s, &p, &o->res, &e2)) ||
        (st = row_fit_micro_batch(c, r, &m, &s, &p0, &p, o, &e2)))
        return sp_fail(err, st, "%s:%d: %s", sp_csv_path(c), sp_csv_line(c, r), e2.msg);
    return row_compare(c, r, &p, o, err);
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
    static const char *required[] = {"id", "system", "n_gpus", "global_batch", NULL};
    for (int i = 0; required[i]; i++)
        if (sp_csv_col(c, required[i]) < 0)
            return sp_fail(err, SP_EPARSE, "%s:1: missing required column '%s'", sp_csv_path(c), required[i]);
    if (sp_csv_col(c, "measured_step_time_s") < 0 && sp_csv_col(c, "measured_tflops_per_gpu") < 0)
        return sp_fail(err, SP_EPARSE, "%s:1: needs a 'measured_step_time_s' or 'measured_tflops_per_gpu' column",
                       sp_csv_path(c));
    int nr = sp_csv_rows(c);
    sp_validate_row *out = calloc(nr > 0 ? (size_t)nr : 1, sizeof *out);
    sys_cache *sc = malloc(sizeof *sc);
    stack_cache *kc = malloc(sizeof *kc);
    if (!out || !sc || !kc) {
        free(out);
        free(sc);
        free(kc);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    sc->n = 0;
    kc->n = 0;
    for (int r = 0; r < nr; r++) {
        sp_validate_row *o = &out[r];
        snprintf(o->id, sizeof o->id, "%s", sp_csv_get(c, r, sp_csv_col(c, "id")));
        const char *dash = strchr(o->id, '-');
        size_t fl = dash ? (size_t)(dash - o->id) : strlen(o->id);
        snprintf(o->family, sizeof o->family, "%.*s", (int)(fl < sizeof o->family ? fl : sizeof o->family - 1), o->id);
        sp_error e = {0};
        if (row_eval(data_dir, sc, kc, c, r, o, &e) == SP_OK)
            o->ok = 1;
        else
            snprintf(o->reason, sizeof o->reason, "%s", e.msg);
    }
    free(sc);
    free(kc);
    *rows = out;
    *n = nr;
    return SP_OK;
}

static void group_add(sp_validate_group *g, const sp_validate_row *r)
{
    if (!r->ok) {
        g->n_skipped++;
        return;
    }
    double e = fabs(r->error_pct);
    g->mape_pct += e; /* a sum until sp_validate_summarize divides */
    g->n++;
    if (e > g->worst_abs_error_pct || g->n == 1) {
        g->worst_abs_error_pct = e;
        snprintf(g->worst_id, sizeof g->worst_id, "%s", r->id);
    }
}

void sp_validate_summarize(const sp_validate_row *rows, int n, sp_validate_summary *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->all.name, sizeof out->all.name, "all");
    double stated = 0;
    for (int i = 0; i < n; i++) {
        const sp_validate_row *r = &rows[i];
        group_add(&out->all, r);
        if (r->ok && r->stated_knobs) {
            stated += fabs(r->error_pct);
            out->n_stated++;
        }
        int k = 0;
        while (k < out->n_families && strcmp(out->family[k].name, r->family) != 0)
            k++;
        if (k == out->n_families && k < SP_VALIDATE_MAX_FAMILIES)
            snprintf(out->family[out->n_families++].name, sizeof out->family[0].name, "%s", r->family);
        if (k < out->n_families)
            group_add(&out->family[k], r);
    }
    double total = out->all.mape_pct;
    for (int k = 0; k < out->n_families; k++)
        out->family[k].mape_pct = out->family[k].n ? out->family[k].mape_pct / out->family[k].n : 0;
    out->all.mape_pct = out->all.n ? total / out->all.n : 0;
    out->mape_stated_pct = out->n_stated ? stated / out->n_stated : 0;
    int nu = out->all.n - out->n_stated;
    out->mape_unstated_pct = nu > 0 ? (total - stated) / nu : 0;
}
