/* A parallel plan and its checks against the model and the system (DESIGN.md §3.5, §3.7).
 *
 * GPU count = TP x CP x EP x DP x PP (DESIGN.md §3.7). Expert parallelism is carved out of data parallelism
 * as in Megatron-Core and DeepSpeed-MoE: non-expert layers are replicated over EP x DP ranks, so the batch is
 * split over DP x EP replicas. Rank order, innermost first: TP, CP, EP, DP, PP.
 *
 * Folded (ep_fold, Megatron-Core's "MoE parallel folding", NVIDIA/Megatron-LM megatron/core/parallel_state.py,
 * initialize_model_parallel with expert_tensor_parallel_size; Liu et al. 2025, "MoE Parallel Folding",
 * arXiv:2504.14960): GPU count = TP x CP x DP x PP; the expert layers lay the same TP·CP·DP ranks of a stage out
 * again as ETP x EP x EDP (ETP innermost), so EP may take ranks of TP and CP as well as of DP (EP 64 with TP 2 on
 * 64 GPUs). The batch is split over the DP replicas. With EP dividing DP and CP = 1 it is the unfolded layout.
 */
#include "scaleplan.h"
#include "plan.h"

#include <ctype.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Load of the busiest EP rank relative to the mean T·k token copies (uniform routing gives 1).
 *  - imbalance f (--moe-imbalance): the step waits for the busiest rank, so its expert GEMMs and its share of the
 *    all-to-all are f x the mean. One rank holds E/EP experts and can receive at most all EP·T tokens of its group
 *    times min(k, E/EP) copies each, so f is clamped to EP·min(k, E/EP)/k (= 1 with EP = 1: a lone rank holds
 *    every expert and its load is the mean by construction).
 *  - capacity factor c (--capacity-factor): each expert takes at most c x T·k/E tokens (Switch Transformer,
 *    Fedus et al. 2022 §2.2; GShard, Lepikhin et al. 2020): tokens beyond it are dropped, so the busiest rank's
 *    load is min(f, c); with padding (--moe-pad, static-shape buffers as in GShard/Switch) every expert runs at
 *    exactly c x the mean. c = 0: dropless (Megatron-Core's default, DeepSeek-V3 §2.1.2: no token dropping). */
double sp_moe_load(const sp_model *m, const sp_plan *p)
{
    double f = p->moe_imbalance > 1 ? p->moe_imbalance : 1.0;
    double k = m->top_k > 0 ? m->top_k : 1, per_rank = (double)m->n_experts / (p->ep > 0 ? p->ep : 1);
    double fmax = (p->ep > 0 ? p->ep : 1) * (k < per_rank ? k : per_rank) / k;
    if (f > fmax)
        f = fmax;
    if (p->capacity_factor > 0) {
        if (p->moe_pad)
            return p->capacity_factor;
        return f < p->capacity_factor ? f : p->capacity_factor;
    }
    return f;
}

/* Expert-side rank order (Megatron-Core "parallel folding"): ETP innermost, then EP, then expert data parallelism
 * EDP = TP·CP·DP / ETP over the same GPUs as the attention's TP x CP x EP x DP (experts are replicated over CP
 * too). The group spans the whole TP·CP·EP·DP block when DP > 1 (stride EP·ETP); with DP = 1 and ETP = TP it is
 * the TP·CP block's CP ranks (stride ETP), and with ETP != TP again stride EP·ETP: Megatron-Core's expert rank
 * generator orders its ranks tp-cp-ep-dp-pp with the expert TP as its tp (NVIDIA/Megatron-LM@core_v0.14.0
 * megatron/core/parallel_state.py:481, 709-716), so an EP group of ETP 1 is contiguous and its EDP copies lie EP
 * ranks apart, never inside one TP group. With ETP = TP and CP = 1 that is DP ranks at stride TP·EP. */
void sp_expert_dp_group(const sp_plan *p, int *size, int *stride)
{
    int e = sp_plan_etp(p);
    if (p->ep_fold) { /* ETP, EP, EDP over the stage's TP·CP·DP ranks: EDP at stride ETP·EP */
        long long edp = (long long)p->tp * p->cp * p->dp / ((long long)e * p->ep);
        *size = edp > 0 ? (int)edp : 1;
        *stride = p->ep * e;
        return;
    }
    long long edp = (long long)p->tp * p->cp * p->dp / e;
    *size = edp > 0 ? (int)edp : 1;
    *stride = p->dp > 1 || e != p->tp ? p->ep * e : e;
}

static const char *const sched_names[] = {"1f1b", "zb-h1", "zb-v", "dualpipe"};

const char *sp_schedule_name(sp_schedule k, int vpp)
{
    if (k == SP_SCHED_1F1B && vpp > 1)
        return "interleaved";
    return k >= SP_SCHED_1F1B && k <= SP_SCHED_DUALPIPE ? sched_names[k] : "?";
}

sp_status sp_schedule_parse(const char *s, sp_schedule *out, int *interleaved)
{
    *interleaved = s && strcmp(s, "interleaved") == 0;
    if (*interleaved) {
        *out = SP_SCHED_1F1B;
        return SP_OK;
    }
    for (int k = 0; s && k <= SP_SCHED_DUALPIPE; k++)
        if (strcmp(s, sched_names[k]) == 0) {
            *out = (sp_schedule)k;
            return SP_OK;
        }
    return SP_EINVAL;
}

/* What each schedule needs of the pipeline (docs/model.md "Schedules"): ZB-V runs two model chunks per GPU in a V
 * (Qi et al. 2023 §6), DualPipe one stage of each direction per GPU (an even PP; DeepSeek-V3 §3.2.1), ZB-H1 and
 * DualPipe no further interleaving. */
static sp_status check_schedule(const sp_plan *p, sp_error *err)
{
    const char *nm = sp_schedule_name(p->schedule, 1);
    if (p->schedule != SP_SCHED_1F1B && p->pp < 2)
        return sp_fail(err, SP_EINVAL, "plan: schedule %s needs pp >= 2", nm);
    if (p->schedule == SP_SCHED_ZBV && p->vpp != 2)
        return sp_fail(err, SP_EINVAL, "plan: schedule zb-v runs two model chunks per GPU (a V): needs vpp 2, not %d",
                       p->vpp);
    if ((p->schedule == SP_SCHED_ZBH1 || p->schedule == SP_SCHED_DUALPIPE) && p->vpp != 1)
        return sp_fail(err, SP_EINVAL, "plan: schedule %s does not interleave virtual stages: needs vpp 1, not %d", nm,
                       p->vpp);
    if (p->schedule == SP_SCHED_DUALPIPE && p->pp % 2)
        return sp_fail(err, SP_EINVAL, "plan: schedule dualpipe pairs the stages of two directions: needs an even pp, "
                       "not %d", p->pp);
    return SP_OK;
}

const char *sp_recompute_name(sp_recompute r)
{
    switch (r) {
    case SP_RECOMPUTE_NONE: return "none";
    case SP_RECOMPUTE_SELECTIVE: return "selective";
    case SP_RECOMPUTE_FULL: return "full";
    }
    return "?";
}

/* Megatron-Core's recompute_modules names (NVIDIA/Megatron-LM@d98e8a64ddf3:
 * megatron/core/transformer/transformer_config.py:1946-1958 allowed_modules; its gdn_*, gdp_* and mhc modules act on
 * layer kinds and connections this model does not price apart and are not offered), then torchtitan's per-op
 * selective AC (op_sac: docs/model.md "Recompute modules") */
static const struct {
    const char *name;
    unsigned bit;
} rcm_names[] = {{"core_attn", SP_RCM_CORE_ATTN}, {"mlp", SP_RCM_MLP},
                 {"moe_act", SP_RCM_MOE_ACT},     {"layernorm", SP_RCM_LAYERNORM},
                 {"mla_up_proj", SP_RCM_MLA_UP_PROJ}, {"moe", SP_RCM_MOE},
                 {"shared_experts", SP_RCM_SHARED_EXPERTS}, {"op_sac", SP_RCM_OP_SAC}};
#define N_RCM (sizeof rcm_names / sizeof rcm_names[0])

sp_status sp_recompute_modules_parse(const char *s, unsigned *out, sp_error *err)
{
    static const char allowed[] = "allowed none or a comma list of core_attn, mlp, moe_act, layernorm, mla_up_proj, "
                                  "moe, shared_experts, op_sac";
    unsigned g = 0;
    if (s && strcmp(s, "none") == 0) {
        *out = SP_RCM_NONE_SET;
        return SP_OK;
    }
    for (const char *q = s; q && *q;) {
        size_t n = strcspn(q, ",");
        size_t i = 0;
        while (i < N_RCM && !(strlen(rcm_names[i].name) == n && strncmp(q, rcm_names[i].name, n) == 0))
            i++;
        if (i == N_RCM)
            return sp_fail(err, SP_EINVAL, "unknown module '%.*s'; %s", (int)n, q, allowed);
        g |= rcm_names[i].bit;
        q += n + (q[n] == ',');
    }
    if (!g)
        return sp_fail(err, SP_EINVAL, "'%s'; %s", s ? s : "", allowed);
    *out = g;
    return SP_OK;
}

const char *sp_recompute_modules_name(unsigned set, char *buf, size_t n)
{
    size_t w = 0;
    if (n)
        buf[0] = 0;
    if (!(set & SP_RCM_MODULES))
        return snprintf(buf, n, "none"), buf;
    for (size_t i = 0; i < N_RCM; i++)
        if ((set & rcm_names[i].bit) && w < n) {
            int k = snprintf(buf + w, n - w, "%s%s", w ? "," : "", rcm_names[i].name);
            w += k > 0 ? (size_t)k : 0;
        }
    return buf;
}

unsigned sp_recompute_set(const sp_plan *p)
{
    if (p->recompute_modules == 0)
        return SP_RCM_CORE_ATTN; /* transformer_config.py:1940-1941: recompute_modules defaults to ["core_attn"] */
    return p->recompute_modules & SP_RCM_MODULES;
}

double sp_plan_full_share(const sp_plan *p, int n_layers)
{
    if (p->recompute_layers <= 0)
        return 1;
    double chunk = (double)n_layers / ((double)p->pp * (p->vpp > 0 ? p->vpp : 1));
    return p->recompute_layers >= chunk ? 1 : p->recompute_layers / chunk;
}

double sp_plan_attn_context(const sp_plan *p)
{
    if (p->doc_len <= 0)
        return p->seq_len;
    double ctx = p->doc_len * (1 + p->doc_len_cv * p->doc_len_cv); /* E[l^2] / E[l] */
    return ctx < p->seq_len ? ctx : p->seq_len;
}

/* A sample is at most the packed sequence, so its mean is too, and E[l^2] <= seq_len E[l]: doc_len (1 + cv^2) is at
 * most seq_len (the bound a distribution of lengths in [0, seq_len] reaches with samples of 0 and seq_len only). */
sp_status sp_plan_check_packing(const sp_plan *p, sp_error *err)
{
    if (p->doc_len < 0 || p->doc_len > p->seq_len)
        return sp_fail(err, SP_EINVAL, "plan: doc_len = %g; allowed 0 (unpacked) or up to seq_len = %d (the mean "
                       "length of the samples packed into one sequence)", p->doc_len, p->seq_len);
    if (p->doc_len_cv < 0 || (p->doc_len_cv > 0 && p->doc_len <= 0))
        return sp_fail(err, SP_EINVAL, "plan: doc_len_cv = %g; allowed >= 0, and only with a doc_len (packed "
                       "sequences)", p->doc_len_cv);
    if (p->doc_len * (1 + p->doc_len_cv * p->doc_len_cv) > p->seq_len)
        return sp_fail(err, SP_EINVAL, "plan: doc_len_cv = %g with doc_len = %g; allowed at most %.4g (doc_len (1 + "
                       "cv^2) = E[l^2]/E[l] cannot exceed seq_len = %d)", p->doc_len_cv, p->doc_len,
                       sqrt(p->seq_len / p->doc_len - 1), p->seq_len);
    return SP_OK;
}

void sp_plan_defaults(sp_plan *p)
{
    memset(p, 0, sizeof *p);
    p->tp = p->pp = p->cp = p->ep = p->vpp = 1;
    p->micro_batch = 1;
    p->seq_len = 0; /* model's max_seq */
    p->recompute = SP_RECOMPUTE_NONE;
    p->dtype = SP_BF16;
    p->flash_attention = -1;
    p->dp_overlap = -1;
}

/* The degrees multiply to the GPU count (dp and n_gpus filled when 0) and fit the system. */
static sp_status resolve_degrees(sp_plan *p, const sp_model *m, const sp_system *s, sp_error *err)
{
    if (p->tp < 1 || p->pp < 1 || p->cp < 1 || p->ep < 1 || p->vpp < 1 || p->dp < 0)
        return sp_fail(err, SP_EINVAL, "plan: tp, pp, cp, ep, vpp must be >= 1 and dp >= 0");
    if (p->seq_len <= 0)
        p->seq_len = m->max_seq;
    if (p->seq_len > (1 << 24))
        return sp_fail(err, SP_EINVAL, "plan: --seq-len %d is out of range; allowed 1..16777216", p->seq_len);
    /* the degrees are each <= 2^20 (CLI) or 2^30: multiply in double to test against 2^30 without overflow */
    int epf = p->ep_fold ? 1 : p->ep; /* EP's factor of the GPU count: none when folded */
    double prod = (double)p->tp * p->pp * p->cp * epf * (p->dp > 0 ? p->dp : 1);
    if (p->n_gpus <= 0) {
        if (p->dp <= 0)
            p->dp = 1;
        if (prod > (double)(1 << 30))
            return sp_fail(err, SP_EINVAL, "plan: tp*pp*cp*ep*dp = %d*%d*%d*%d*%d is more than 2^30 GPUs", p->tp, p->pp,
                           p->cp, epf, p->dp);
        p->n_gpus = (int)prod;
    }
    if ((double)p->tp * p->pp * p->cp * epf > (double)(1 << 30))
        return sp_fail(err, SP_EINVAL, "plan: tp*pp*cp*ep = %d*%d*%d*%d is more than 2^30 GPUs", p->tp, p->pp, p->cp, epf);
    long long model_par = (long long)p->tp * p->pp * p->cp * epf;
    if (model_par > p->n_gpus || p->n_gpus % model_par)
        return sp_fail(err, SP_EINVAL,
                       "plan: --gpus %d is not divisible by tp*pp*cp*ep = %d*%d*%d*%d = %lld%s", p->n_gpus, p->tp,
                       p->pp, p->cp, epf, model_par,
                       p->ep > 1 && !p->ep_fold ? " (--ep-fold carves EP out of TP x CP x DP, as Megatron-Core does)" : "");
    int dp = (int)(p->n_gpus / model_par);
    if (p->dp > 0 && p->dp != dp)
        return sp_fail(err, SP_EINVAL,
                       "plan: tp*pp*cp*ep*dp = %d*%d*%d*%d*%d = %lld but --gpus is %d", p->tp, p->pp, p->cp,
                       epf, p->dp, model_par * p->dp, p->n_gpus);
    p->dp = dp;
    if (s->max_accels > 0 && p->n_gpus > s->max_accels)
        return sp_fail(err, SP_EINVAL, "plan: %d GPUs but system '%s' has %d", p->n_gpus, s->name, s->max_accels);
    return SP_OK;
}

sp_status sp_bf16_layers_parse(const char *s, int *first, int *last, sp_error *err)
{
    long v[2];
    const char *q = s;
    for (int k = 0; k < 2; k++) {
        char *end;
        if (*q < '0' || *q > '9')
            break;
        v[k] = strtol(q, &end, 10);
        if (v[k] > (1 << 20) || *end != (k ? '\0' : ','))
            break;
        if (k == 1) {
            *first = (int)v[0], *last = (int)v[1];
            return SP_OK;
        }
        q = end + 1;
    }
    return sp_fail(err, SP_EINVAL, "'%s'; expected START,END: the layers kept in BF16 at the start and at the end of the "
                   "model, two integers 0..1048576 (e.g. 0,14)", s);
}

/* BF16 layers (sp_plan_bf16_layer): counts within the model, and what Megatron-Core refuses. */
static sp_status check_bf16_layers(const sp_plan *p, const sp_model *m, sp_error *err)
{
    if (p->bf16_first < 0 || p->bf16_last < 0 || p->bf16_first > m->n_layers || p->bf16_last > m->n_layers)
        return sp_fail(err, SP_EINVAL, "plan: bf16 layers %d,%d; allowed 0..%d each (the model's layers)", p->bf16_first,
                       p->bf16_last, m->n_layers);
    /* Megatron-Core refuses, under FP8 (its fp8 flag: per-tensor, blockwise and MXFP8 recipes), more BF16 layers at
     * either end than num_layers // pp (NVIDIA/Megatron-LM@d98e8a64ddf3
     * megatron/core/transformer/transformer_config.py:1533-1556), and BF16 layers with delayed scaling (:1529-1530);
     * FP4 checks neither */
    int per_stage = m->n_layers / p->pp;
    if ((p->dtype == SP_FP8 || p->dtype == SP_MXFP8) && (p->bf16_first > per_stage || p->bf16_last > per_stage))
        return sp_fail(err, SP_EINVAL, "plan: bf16 layers %d,%d under fp8; allowed 0..%d each (num_layers // pp, as "
                       "Megatron-Core checks)", p->bf16_first, p->bf16_last, per_stage);
    if (p->dtype == SP_FP8 && p->fp8_recipe == SP_FP8_DELAYED && (p->bf16_first || p->bf16_last))
        return sp_fail(err, SP_EINVAL, "plan: bf16 layers with fp8 delayed scaling (Megatron-Core refuses them: \"Delayed "
                       "scaling does not support first / last layer in BF16.\")");
    return SP_OK;
}

/* appends k copies of the sl bytes at src to buf (n bytes, *len used); 0 when they do not fit */
static int layout_put(char *buf, size_t n, size_t *len, const char *src, size_t sl, long k)
{
    for (long i = 0; i < k; i++) {
        if (*len + sl >= n)
            return 0;
        memcpy(buf + *len, src, sl);
        *len += sl;
    }
    return 1;
}

/* the repeat count of a "*n" at *s (advanced past it): 1 without a '*', -1 for a '*' without digits or over 10^5 */
static long layout_count(const char **s)
{
    if (**s != '*')
        return 1;
    long k = 0;
    if (!isdigit((unsigned char)*++*s))
        return -1;
    while (isdigit((unsigned char)**s) && k <= 100000)
        k = 10 * k + (*(*s)++ - '0');
    return k > 100000 ? -1 : k;
}

/* a stretch [s, end) without parentheses: each character, "x*n" n times; commas dropped */
static int layout_flat(const char *s, const char *end, char *buf, size_t n, size_t *len)
{
    while (s < end) {
        char ch = *s++;
        if (ch == ',')
            continue;
        long k = layout_count(&s);
        if (!strchr("EtmL|", ch) || k < 0 || s > end || !layout_put(buf, n, len, &ch, 1, k))
            return 0;
    }
    return 1;
}

int sp_pp_layout_expand(const char *s, char *buf, size_t n)
{
    size_t len = 0;
    char inner[SP_PP_EXPANDED];
    while (*s) {
        const char *open = strchr(s, '('), *stop = open ? open : s + strlen(s);
        if (!layout_flat(s, stop, buf, n, &len))
            return -1;
        if (!open)
            break;
        const char *close = strchr(open, ')');
        size_t il = 0;
        if (!close || memchr(open + 1, '(', (size_t)(close - open - 1)) ||
            !layout_flat(open + 1, close, inner, sizeof inner, &il))
            return -1;
        s = close + 1;
        long k = *s == '*' ? layout_count(&s) : -1; /* "(...)" stands only with its "*n" */
        if (k < 0 || !layout_put(buf, n, &len, inner, il, k))
            return -1;
    }
    buf[len] = 0;
    int v = 1;
    for (size_t i = 0; i < len; i++)
        v += buf[i] == '|';
    return v;
}

/* A pipeline layout against the plan and the model, as Megatron-Core validates one
 * (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/transformer/pipeline_parallel_layer_layout.py:41-47, 86-119): pp x vpp
 * virtual stages, the embedding first and the loss last, each exactly once, the model's decoder layers and MTP
 * modules, no decoder layer after an MTP module. */
static sp_status check_layout(const sp_plan *p, const sp_model *m, sp_error *err)
{
    if (!p->pp_layout[0])
        return SP_OK;
    char buf[SP_PP_EXPANDED];
    int v = sp_pp_layout_expand(p->pp_layout, buf, sizeof buf);
    if (v < 0)
        return sp_fail(err, SP_EINVAL, "plan: pp_layout '%s' is not a Megatron-Core layout (E, t, m, L, '|', x*n, "
                       "(...)*n) of at most %d characters unrolled", p->pp_layout, SP_PP_EXPANDED - 1);
    if (v != p->pp * p->vpp)
        return sp_fail(err, SP_EINVAL, "plan: pp_layout '%s' has %d virtual stages, pp*vpp = %d*%d", p->pp_layout, v,
                       p->pp, p->vpp);
    int n[128] = {0};
    const char *mtp = strchr(buf, 'm');
    for (const char *q = buf; *q; q++)
        n[(unsigned char)*q]++;
    size_t len = strlen(buf);
    if (len == 0 || buf[0] != 'E' || buf[len - 1] != 'L' || n['E'] != 1 || n['L'] != 1 || n['t'] != m->n_layers ||
        n['m'] != m->n_mtp || (mtp && strchr(mtp, 't')))
        return sp_fail(err, SP_EINVAL, "plan: pp_layout '%s' must hold the embedding first and the loss last once each, "
                       "the model's %d decoder layers (the layout has %d) and %d MTP modules (the layout has %d) after "
                       "them", p->pp_layout, m->n_layers, n['t'], m->n_mtp, n['m']);
    return SP_OK;
}

/* TP against the heads, PP and virtual stages against the layers. */
static sp_status check_layer_split(const sp_plan *p, const sp_model *m, sp_error *err)
{
    if (m->n_heads % p->tp || m->n_kv_heads % p->tp != 0) {
        if (m->n_heads % p->tp)
            return sp_fail(err, SP_EINVAL, "plan: tp = %d does not divide num_attention_heads = %d", p->tp,
                           m->n_heads);
        if (p->tp % m->n_kv_heads)
            return sp_fail(err, SP_EINVAL,
                           "plan: tp = %d must divide num_key_value_heads = %d or be a multiple of it", p->tp,
                           m->n_kv_heads);
    }
    if (p->pp > m->n_layers)
        return sp_fail(err, SP_EINVAL, "plan: pp = %d exceeds the number of layers (%d)", p->pp, m->n_layers);
    if (p->vpp > 1) {
        if (p->pp < 2)
            return sp_fail(err, SP_EINVAL, "plan: vpp = %d needs pp >= 2", p->vpp);
        /* Uneven virtual stages are allowed, as in Megatron-Core (layers not divisible by pp*vpp; NVIDIA's Llama 3.1
         * 405B recipe runs 126 layers on PP 16 x VP 8 counting embedding and loss in the split): the heaviest
         * pipeline stage holds ceil(L/pp) layers (sp_stage_layers) spread over its vpp chunks. Every chunk needs
         * a layer, where the embedding and the loss count as one each (Megatron-Core's
         * account_for_embedding_in_pipeline_split / account_for_loss_in_pipeline_split, NVIDIA/Megatron-LM
         * megatron/core/transformer/transformer_config.py): at most L + 2 virtual stages. */
        if (m->n_layers + 2 < p->pp * p->vpp)
            return sp_fail(err, SP_EINVAL, "plan: pp*vpp = %d exceeds the number of layers (%d) + 2 (embedding and "
                           "loss): every virtual stage needs a layer", p->pp * p->vpp, m->n_layers);
    }
    /* Megatron-Core: cpu_offloading_num_layers < num_layers (megatron/core/transformer/transformer_config.py), per
     * stage here: the stage keeps at least one layer's activations */
    if (p->offload_layers < 0 || (p->offload_layers > 0 && p->offload_layers >= sp_stage_layers(m->n_layers, p->pp)))
        return sp_fail(err, SP_EINVAL, "plan: offload_layers = %d; allowed 0..%d (fewer than the %d layers of a "
                       "pipeline stage)", p->offload_layers, (int)sp_stage_layers(m->n_layers, p->pp) - 1,
                       (int)sp_stage_layers(m->n_layers, p->pp));
    /* MTP depths: with mtp_use_repeated_layer Megatron-Core builds one MTP layer and applies it mtp_num_layers
     * times (NVIDIA/Megatron-LM@9539a12e1b04 = core_v0.17.0, megatron/core/transformer/multi_token_prediction.py:
     * 1259-1260, the loop at :1426-1428), so a model without an MTP module has nothing to repeat */
    if (p->mtp_layers > 0 && m->n_mtp == 0)
        return sp_fail(err, SP_EINVAL, "plan: mtp_layers = %d needs a model with an MTP module to repeat; '%s' has none",
                       p->mtp_layers, m->name);
    if (p->mtp_layers < 0 || p->mtp_layers > 64)
        return sp_fail(err, SP_EINVAL, "plan: mtp_layers = %d; allowed 1..64 (0: one depth per MTP module)",
                       p->mtp_layers);
    sp_status st = check_bf16_layers(p, m, err);
    if (!st)
        st = check_layout(p, m, err);
    return st ? st : check_schedule(p, err);
}

int sp_plan_mtp_depths(const sp_model *m, const sp_plan *p)
{
    return p->mtp_layers > 0 ? p->mtp_layers : m->n_mtp;
}

/* EP, ETP and the routing assumptions against the experts. */
static sp_status check_moe(const sp_plan *p, const sp_model *m, sp_error *err)
{
    int dp = p->dp;
    if (p->ep > 1) {
        if (!sp_model_is_moe(m))
            return sp_fail(err, SP_EINVAL, "plan: ep = %d but model '%s' has no experts", p->ep, m->name);
        if (m->n_experts % p->ep)
            return sp_fail(err, SP_EINVAL, "plan: ep = %d does not divide the number of experts (%d)", p->ep,
                           m->n_experts);
    }
    if (p->etp < 0 || p->etp > (1 << 20))
        return sp_fail(err, SP_EINVAL, "plan: etp = %d; allowed 1..1048576 (0 = same as tp)", p->etp);
    if (p->etp > 0 && p->etp != p->tp) {
        if (!sp_model_is_moe(m))
            return sp_fail(err, SP_EINVAL, "plan: etp = %d differs from tp = %d but model '%s' has no experts", p->etp,
                           p->tp, m->name);
        if (p->tp % p->etp && p->etp % p->tp)
            return sp_fail(err, SP_EINVAL, "plan: etp = %d must divide tp = %d or be a multiple of it", p->etp, p->tp);
        if (!p->ep_fold && ((long long)p->tp * p->cp * dp) % p->etp)
            return sp_fail(err, SP_EINVAL, "plan: etp = %d must divide tp*cp*dp = %d*%d*%d (experts are sharded ETP x EP "
                           "over the same GPUs)", p->etp, p->tp, p->cp, dp);
        if (m->moe_ffn_dim % p->etp)
            return sp_fail(err, SP_EINVAL, "plan: etp = %d does not divide the expert FFN width (%d)", p->etp,
                           m->moe_ffn_dim);
    }
    if (p->ep_fold && ((long long)p->tp * p->cp * dp) % ((long long)sp_plan_etp(p) * p->ep))
        return sp_fail(err, SP_EINVAL, "plan: etp*ep = %d*%d must divide tp*cp*dp = %d*%d*%d: a folded expert group is "
                       "carved out of one pipeline stage's TP x CP x DP ranks", sp_plan_etp(p), p->ep, p->tp, p->cp, dp);
    if (!(p->capacity_factor >= 0 && p->capacity_factor <= 1e3))
        return sp_fail(err, SP_EINVAL, "plan: capacity factor %g; allowed 0 (dropless) or > 0 up to 1000",
                       p->capacity_factor);
    if (p->moe_pad && p->capacity_factor <= 0)
        return sp_fail(err, SP_EINVAL, "plan: padding expert buffers to capacity needs a capacity factor > 0");
    /* NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/transformer/transformer_config.py:1754-1761 */
    if (p->moe_pad && p->moe_dispatcher == SP_DISP_DEEPEP)
        return sp_fail(err, SP_EINVAL, "plan: the deepep dispatcher does not pad expert buffers to capacity "
                                       "(Megatron-Core refuses it); use alltoall, allgather or hybridep");
    if (!(p->moe_imbalance == 0 || (p->moe_imbalance >= 1 && p->moe_imbalance <= 1e3)))
        return sp_fail(err, SP_EINVAL, "plan: MoE load imbalance %g; allowed 1..1000 (busiest EP rank / mean)",
                       p->moe_imbalance);
    if ((p->capacity_factor > 0 || p->moe_imbalance > 1) && !sp_model_is_moe(m))
        return sp_fail(err, SP_EINVAL, "plan: capacity factor / MoE imbalance given but model '%s' has no experts",
                       m->name);
    return SP_OK;
}

/* ZeRO-3's reshard choice and the HSDP group against the ZeRO stage and the data-parallel groups. */
static sp_status check_sharding(const sp_plan *p, sp_error *err)
{
    if (p->zero3_keep && p->zero != 3)
        return sp_fail(err, SP_EINVAL, "plan: keeping gathered weights to backward (--no-reshard) needs ZeRO-3 / FSDP (--zero 3)");
    if (p->hsdp < 0)
        return sp_fail(err, SP_EINVAL, "plan: --hsdp %d; allowed >= 1 ranks (0 = shard over the whole group)", p->hsdp);
    if (p->hsdp == 0)
        return SP_OK;
    long long dpd = sp_plan_replicas(p) * p->cp;
    int edp, stride;
    sp_expert_dp_group(p, &edp, &stride);
    if (p->zero < 1)
        return sp_fail(err, SP_EINVAL, "plan: --hsdp %d needs a ZeRO stage >= 1 (states to shard)", p->hsdp);
    if (p->hsdp < dpd && dpd % p->hsdp)
        return sp_fail(err, SP_EINVAL, "plan: --hsdp %d must divide the data-parallel group cp*dp%s = %lld", p->hsdp,
                       p->ep_fold ? "" : "*ep", dpd);
    if (p->ep > 1 && p->hsdp < edp && edp % p->hsdp)
        return sp_fail(err, SP_EINVAL, "plan: --hsdp %d must divide the expert data-parallel group (%d ranks)", p->hsdp, edp);
    return SP_OK;
}

sp_status sp_plan_resolve(sp_plan *p, const sp_model *m, const sp_system *s, sp_error *err)
{
    sp_status st = sp_model_train_check(m, p, err); /* layer kinds the step cannot price (model.c) */
    if (st || (st = resolve_degrees(p, m, s, err)) || (st = check_layer_split(p, m, err)) || (st = check_moe(p, m, err)))
        return st;
    if (p->cp > 1 && p->seq_len % (2 * p->cp))
        return sp_fail(err, SP_EINVAL, "plan: seq_len %d must be divisible by 2*cp = %d (load-balanced ring attention)",
                       p->seq_len, 2 * p->cp);
    if (p->micro_batch < 1)
        return sp_fail(err, SP_EINVAL, "plan: micro-batch must be >= 1");
    long long replicas = sp_plan_replicas(p);
    if (p->global_batch <= 0)
        p->global_batch = (int)(replicas * p->micro_batch * (p->pp > 1 ? 4 * p->pp : 1) > (1 << 30)
                                    ? (1 << 30)
                                    : replicas * p->micro_batch * (p->pp > 1 ? 4 * p->pp : 1));
    if (p->global_batch % (replicas * p->micro_batch))
        return sp_fail(err, SP_EINVAL,
                       "plan: global batch %d is not divisible by dp*ep*micro_batch = %d*%d*%d = %lld",
                       p->global_batch, p->dp, p->ep_fold ? 1 : p->ep, p->micro_batch, replicas * p->micro_batch);
    if (p->zero < 0 || p->zero > 3)
        return sp_fail(err, SP_EINVAL, "plan: zero stage %d; allowed 0..3", p->zero);
    if ((st = sp_plan_check_packing(p, err)) || (st = check_sharding(p, err)))
        return st;
    sp_error e2 = {0};
    if (sp_accel_dtype_check(&s->acc, p->dtype, &e2)) /* fp8 on A100 is refused, not costed at the bf16 rate */
        return sp_fail(err, SP_EINVAL, "plan: %s", e2.msg);
    return SP_OK;
}
