/* Model arithmetic: parameter counts, FLOPs per token and decode-cache bytes, per layer kind (DESIGN.md §3.1,
 * docs/model.md).
 *
 * A model is a stack of layers; each layer is one (mixer, FFN) pair (sp_mixer x sp_ffn). Uniform models
 * (n_pattern == 0) have every layer alike, as before issue 25, and their numbers are unchanged; hybrid ones
 * list each layer's kinds. Each quantity is the sum over layers of a per-kind term, plus the embedding, the
 * LM head, the final norm and the multi-token-prediction (MTP) modules.
 *
 * Conventions:
 *  - Forward matmul FLOPs = 2 x weights touched per token (MoE: top-k routed + shared experts).
 *  - Attention scores and values: 2·s·(a·d_qk) + 2·s·(a·d_v) FLOPs per token per layer, no causal halving
 *    (Megatron-LM's convention, Narayanan et al. 2021 Eq. 3), so GPT models reproduce
 *    72·B·s·L·h²·(1 + s/(6h) + V/(12·L·h)) per iteration. Sliding-window layers attend to min(s, window).
 *  - Mamba and gated-DeltaNet layers: constant FLOPs per token in s (a recurrent state, no growing cache).
 *  - Training = 3 x forward (backward = 2 x forward).
 */
#include "internal.h"

#include <math.h>
#include <string.h>

static const char *const mixer_names[SP_NMIXER] = {"attention", "sliding_attention", "mla", "mamba2",
                                                   "mamba1", "gated_deltanet", "none"};
static const char *const ffn_names[SP_NFFN] = {"dense", "moe", "none"};

const char *sp_mixer_name(sp_mixer k) { return (unsigned)k < SP_NMIXER ? mixer_names[k] : "?"; }
const char *sp_ffn_name(sp_ffn k) { return (unsigned)k < SP_NFFN ? ffn_names[k] : "?"; }

int sp_model_is_moe(const sp_model *m) { return m->n_experts > 1; }

int sp_model_attn_qdim(const sp_model *m) { return m->n_heads * m->d_head; }

int sp_model_kvdim(const sp_model *m) { return m->n_kv_heads * m->d_head; }

sp_mixer sp_model_mixer(const sp_model *m, int i)
{
    if (m->n_pattern > 0 && i >= 0 && i < m->n_pattern)
        return (sp_mixer)m->mixer[i];
    return m->kv_lora_rank > 0 ? SP_MIX_MLA : SP_MIX_ATTN;
}

sp_ffn sp_model_ffn(const sp_model *m, int i)
{
    if (m->n_pattern > 0 && i >= 0 && i < m->n_pattern)
        return (sp_ffn)m->ffn[i];
    return sp_model_is_moe(m) && i >= m->first_dense_layers ? SP_FFN_MOE : SP_FFN_DENSE;
}

void sp_model_defaults(sp_model *m)
{
    if (m->n_kv_heads <= 0)
        m->n_kv_heads = m->n_heads;
    if (m->d_head <= 0 && m->n_heads > 0)
        m->d_head = m->d_model / m->n_heads;
    if (m->ffn_dim <= 0)
        m->ffn_dim = 4 * m->d_model;
    if (m->max_seq <= 0)
        m->max_seq = 2048;
    if (m->n_experts > 1) {
        if (m->top_k <= 0)
            m->top_k = 1;
        if (m->moe_ffn_dim <= 0)
            m->moe_ffn_dim = m->ffn_dim;
    }
    if (m->qk_nope_head_dim > 0 && m->v_head_dim <= 0)
        m->v_head_dim = m->qk_nope_head_dim;
    if (m->ssm_heads > 0 && m->ssm_head_dim > 0 && m->ssm_inner <= 0)
        m->ssm_inner = m->ssm_heads * m->ssm_head_dim;
}

void sp_model_synthetic(const sp_synthetic_spec *spec, sp_model *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", spec->name ? spec->name : "synthetic");
    m->d_model = spec->d_model;
    m->n_layers = spec->n_layers;
    m->n_heads = spec->n_heads;
    m->d_head = spec->d_head;
    m->n_kv_heads = spec->n_kv_heads;
    m->ffn_dim = spec->ffn_dim;
    m->gated = spec->gated;
    m->vocab = spec->vocab;
    m->max_seq = spec->max_seq;
    m->norm = spec->norm;
    /* dropout masks counted as Korthikanti et al. 2022 count them (0.1 on the sublayer outputs and attention
     * probabilities, GPT-3 / Megatron-LM): the synthetic shapes' results (limits, shape, report) are unchanged by
     * the dropout flags; a spec field would let them train without */
    m->hidden_dropout = m->attn_dropout = 0.1;
    if (spec->n_experts > 1) {
        m->n_experts = spec->n_experts;
        m->top_k = spec->top_k;
        m->moe_ffn_dim = spec->ffn_dim;
    }
    sp_model_defaults(m);
}

/* Which kinds occur (bit i: mixer i; bit 8 + j: FFN j), layers and MTP modules together. */
static unsigned kinds_used(const sp_model *m)
{
    unsigned u = 0;
    for (int i = 0; i < m->n_layers; i++) {
        u |= 1u << sp_model_mixer(m, i) | 1u << (8 + sp_model_ffn(m, i));
        if (m->n_pattern == 0 && i >= m->first_dense_layers)
            break; /* the rest are alike */
    }
    if (m->n_mtp > 0)
        u |= 1u << m->mtp_mixer | 1u << (8 + m->mtp_ffn);
    return u;
}

static sp_status check_kinds(const sp_model *m, const char *where, sp_error *err)
{
    if (m->n_pattern != 0 && (m->n_pattern != m->n_layers || m->n_pattern > SP_MAX_LAYERS))
        return sp_fail(err, SP_EINVAL, "%s: %d layer kinds listed for %d layers (at most %d listed)", where,
                       m->n_pattern, m->n_layers, SP_MAX_LAYERS);
    for (int i = 0; i < m->n_pattern; i++)
        if (m->mixer[i] >= SP_NMIXER || m->ffn[i] >= SP_NFFN)
            return sp_fail(err, SP_EINVAL, "%s: layer %d has an unknown kind", where, i);
    if (m->n_mtp > 0 && (m->mtp_mixer >= SP_NMIXER || m->mtp_ffn >= SP_NFFN))
        return sp_fail(err, SP_EINVAL, "%s: the MTP layer has an unknown kind", where);
    unsigned u = kinds_used(m);
    if ((u & 1u << SP_MIX_SWA) && m->sliding_window < 1)
        return sp_fail(err, SP_EINVAL, "%s: sliding-window layers need 'sliding_window' >= 1", where);
    if ((u & 1u << SP_MIX_MLA) && (m->kv_lora_rank < 1 || m->qk_nope_head_dim + m->qk_rope_head_dim < 1))
        return sp_fail(err, SP_EINVAL, "%s: MLA layers need kv_lora_rank and qk_nope/rope head dims", where);
    if ((u & 1u << SP_MIX_MAMBA2) &&
        (m->ssm_heads < 1 || m->ssm_head_dim < 1 || m->ssm_state < 1 || m->ssm_groups < 1 || m->ssm_conv < 1 ||
         m->ssm_heads % m->ssm_groups))
        return sp_fail(err, SP_EINVAL,
                       "%s: Mamba-2 layers need mamba_num_heads, mamba_head_dim, ssm_state_size, conv_kernel >= 1 "
                       "and n_groups dividing mamba_num_heads", where);
    if ((u & 1u << SP_MIX_MAMBA1) && (m->ssm_inner < 1 || m->ssm_state < 1 || m->ssm_conv < 1 || m->ssm_dt_rank < 1))
        return sp_fail(err, SP_EINVAL, "%s: Mamba layers need an inner width, mamba_d_state, mamba_d_conv and "
                       "mamba_dt_rank >= 1", where);
    if ((u & 1u << SP_MIX_GDN) && (m->gdn_k_heads < 1 || m->gdn_v_heads < 1 || m->gdn_k_dim < 1 || m->gdn_v_dim < 1 ||
                                   m->gdn_conv < 1 || m->gdn_v_heads % m->gdn_k_heads))
        return sp_fail(err, SP_EINVAL, "%s: gated-DeltaNet layers need linear_num_key_heads dividing "
                       "linear_num_value_heads, head dims and linear_conv_kernel_dim >= 1", where);
    if ((u & 1u << (8 + SP_FFN_MOE)) && m->n_experts < 2)
        return sp_fail(err, SP_EINVAL, "%s: MoE layers need at least 2 routed experts", where);
    return SP_OK;
}

sp_status sp_model_check(const sp_model *m, const char *where, sp_error *err)
{
#define REQ(field, lo, hi)                                                                               \
    if (m->field < (lo) || m->field > (hi))                                                              \
        return sp_fail(err, SP_EINVAL, "%s: field '%s' = %d is out of range; allowed %d..%d", where, #field, \
                       (int)m->field, (int)(lo), (int)(hi));
    REQ(n_layers, 1, 100000);
    REQ(d_model, 1, 10000000);
    REQ(n_heads, 1, 1000000);
    REQ(n_kv_heads, 1, m->n_heads);
    REQ(d_head, 1, 1000000);
    REQ(ffn_dim, 1, 100000000);
    REQ(vocab, 1, 100000000);
    REQ(max_seq, 1, 1 << 30);
    REQ(n_experts, 0, 1000000);
    REQ(n_shared_experts, 0, 1000000);
    REQ(first_dense_layers, 0, m->n_layers);
    REQ(n_mtp, 0, 64);
#undef REQ
    if (m->n_heads % m->n_kv_heads)
        return sp_fail(err, SP_EINVAL,
                       "%s: num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)", where,
                       m->n_heads, m->n_kv_heads);
    if (m->n_experts > 1 && (m->top_k < 1 || m->top_k > m->n_experts))
        return sp_fail(err, SP_EINVAL, "%s: num_experts_per_tok = %d; allowed 1..%d (the number of experts)",
                       where, m->top_k, m->n_experts);
    return check_kinds(m, where, err);
}

/* ---- parameters of one mixer / FFN ---- */

/* Attention weights of one layer. MLA (DeepSeek-V2/V3) when kv_lora_rank > 0: low-rank Q and KV
 * projections with a decoupled RoPE key (DeepSeek-V3 report, arXiv:2412.19437 §2.1.1). */
static double mla_params(const sp_model *m)
{
    double h = m->d_model, a = m->n_heads;
    double dqk = m->qk_nope_head_dim + m->qk_rope_head_dim, dv = m->v_head_dim;
    double q = m->q_lora_rank > 0 ? h * m->q_lora_rank + m->q_lora_rank + m->q_lora_rank * a * dqk : h * a * dqk;
    double kv = h * (m->kv_lora_rank + m->qk_rope_head_dim) + m->kv_lora_rank +
                m->kv_lora_rank * a * (m->qk_nope_head_dim + dv);
    return q + kv + a * dv * h;
}

/* Standard attention: q (x2 with an output gate), k, v, o; biases; per-head q/k norms; sink logits. */
static double attn_params(const sp_model *m)
{
    double h = m->d_model, qd = sp_model_attn_qdim(m), kvd = sp_model_kvdim(m);
    double w = h * qd * (m->attn_gate ? 2 : 1) + 2 * h * kvd + qd * h;
    if (m->biases || m->attn_bias)
        w += qd + 2 * kvd + h;
    else if (m->qkv_bias)
        w += qd + 2 * kvd;
    if (m->qk_norm)
        w += 2.0 * m->d_head;
    if (m->attn_sinks)
        w += m->n_heads;
    return w;
}

/* Mamba-2 (Dao & Gu 2024, arXiv:2405.21060 §7; transformers' NemotronHMamba2Mixer): in_proj h -> (z, x, B, C,
 * dt) = 2·inner + 2·groups·state + heads; a depthwise conv over x, B, C; dt bias, A and D per head; a gated
 * RMSNorm over inner; out_proj inner -> h. */
static double mamba2_params(const sp_model *m)
{
    double h = m->d_model, in = m->ssm_inner, gn = (double)m->ssm_groups * m->ssm_state, H = m->ssm_heads;
    double proj_out = 2 * in + 2 * gn + H, conv_ch = in + 2 * gn;
    double w = h * proj_out + conv_ch * m->ssm_conv + 3 * H + in + in * h;
    if (m->ssm_conv_bias)
        w += conv_ch;
    if (m->ssm_proj_bias)
        w += proj_out + h;
    return w;
}

/* Mamba-1 (Gu & Dao 2023, arXiv:2312.00752; transformers' JambaMambaMixer): in_proj h -> 2·inner, conv,
 * x_proj inner -> dt_rank + 2·state, dt_proj dt_rank -> inner (+ bias), A inner x state, D, out_proj;
 * Jamba's dt/B/C RMSNorms. */
static double mamba1_params(const sp_model *m)
{
    double h = m->d_model, in = m->ssm_inner, N = m->ssm_state, r = m->ssm_dt_rank;
    double w = h * 2 * in + in * m->ssm_conv + in * (r + 2 * N) + r * in + in + in * N + in + in * h;
    w += r + 2 * N; /* Jamba's dt, B, C layer norms */
    if (m->ssm_conv_bias)
        w += in;
    if (m->ssm_proj_bias)
        w += 2 * in + h;
    return w;
}

/* Gated DeltaNet (Yang et al. 2024, arXiv:2412.06464; transformers' Qwen3NextGatedDeltaNet): in_proj h -> q, k
 * (key width each), v, z (value width each) and b, a (one per value head); a depthwise conv over q, k, v;
 * dt bias and A per value head; a gated RMSNorm of one value head's width; out_proj value width -> h. */
static double gdn_params(const sp_model *m)
{
    double h = m->d_model, kd = (double)m->gdn_k_heads * m->gdn_k_dim, vd = (double)m->gdn_v_heads * m->gdn_v_dim;
    double nv = m->gdn_v_heads;
    return h * (2 * kd + 2 * vd + 2 * nv) + (2 * kd + vd) * m->gdn_conv + 2 * nv + m->gdn_v_dim + vd * h;
}

double sp_model_mixer_params(const sp_model *m, sp_mixer k)
{
    switch (k) {
    case SP_MIX_ATTN:
    case SP_MIX_SWA:
        return attn_params(m);
    case SP_MIX_MLA:
        return mla_params(m);
    case SP_MIX_MAMBA2:
        return mamba2_params(m);
    case SP_MIX_MAMBA1:
        return mamba1_params(m);
    case SP_MIX_GDN:
        return gdn_params(m);
    default:
        return 0;
    }
}

/* An MLP of width f reading and writing width `in`. */
static double mlp_params_in(const sp_model *m, double in, double f)
{
    double w = (m->gated ? 3.0 : 2.0) * in * f;
    if (m->biases || m->mlp_bias)
        w += (m->gated ? 2.0 : 1.0) * f + in;
    return w;
}

static double mlp_params(const sp_model *m, double f) { return mlp_params_in(m, m->d_model, f); }

/* Shared experts of one MoE layer (with their gate): h-wide MLPs even under LatentMoE, whose shared experts run on
 * the full hidden states before fc1_latent_proj (NVIDIA/Megatron-LM@9539a12e1b04 = core_v0.17.0,
 * megatron/core/transformer/moe/moe_layer.py:557-560: shared_experts_compute(hidden_states), then route and
 * preprocess, which projects; SharedExpertMLP's input is hidden_size). */
static double shared_params(const sp_model *m)
{
    double s = m->shared_ffn_dim > 0 ? mlp_params(m, m->shared_ffn_dim) : m->n_shared_experts * mlp_params(m, m->moe_ffn_dim);
    return s + (m->shared_gate ? m->d_model : 0);
}

/* Router (+ bias) and LatentMoE's h -> latent -> h projections of one MoE layer. */
static double router_params(const sp_model *m)
{
    double h = m->d_model, r = h * m->n_experts + (m->router_bias ? m->n_experts : 0);
    if (m->moe_latent > 0)
        r += 2.0 * h * m->moe_latent;
    return r;
}

static double one_norm(const sp_model *m) { return (m->norm == SP_NORM_LAYERNORM ? 2.0 : 1.0) * m->d_model; }

/* Norms of a layer: one before each sublayer present, two with post-norms (Gemma 2/3). */
static double layer_norms(const sp_model *m, sp_mixer mx, sp_ffn f)
{
    int sub = (mx != SP_MIX_NONE) + (f != SP_FFN_NONE);
    return sub * (m->post_norms ? 2.0 : 1.0) * one_norm(m);
}

/* One MTP module (DeepSeek-V3 §2.2): norms of the hidden state and of the next token's embedding, the
 * 2h -> h projection, one layer, its output norm; the embedding and LM head are shared with the model. */
static double mtp_params(const sp_model *m, double *active)
{
    double h = m->d_model, e = mlp_params_in(m, m->moe_latent > 0 ? m->moe_latent : h, m->moe_ffn_dim);
    double fix = 3 * one_norm(m) + 2 * h * h + sp_model_mixer_params(m, (sp_mixer)m->mtp_mixer) +
                 layer_norms(m, (sp_mixer)m->mtp_mixer, (sp_ffn)m->mtp_ffn);
    double tot = fix, act = fix;
    if (m->mtp_ffn == SP_FFN_DENSE)
        tot += mlp_params(m, m->ffn_dim), act += mlp_params(m, m->ffn_dim);
    else if (m->mtp_ffn == SP_FFN_MOE) {
        double c = shared_params(m) + router_params(m);
        tot += m->n_experts * e + c;
        act += m->top_k * e + c;
    }
    *active = act;
    return tot;
}

void sp_model_params(const sp_model *m, sp_param_count *o)
{
    memset(o, 0, sizeof *o);
    double h = m->d_model;
    o->embedding = (double)m->vocab * h + (m->learned_pos ? (double)m->max_seq * h : 0);
    o->lm_head = m->tied_embeddings ? 0 : (double)m->vocab * h;
    o->attn_per_layer = sp_model_mixer_params(m, sp_model_mixer(m, m->n_layers - 1));
    o->mlp_dense_per_layer = mlp_params(m, m->ffn_dim);
    o->norm_per_layer = layer_norms(m, SP_MIX_ATTN, SP_FFN_DENSE);
    double shared_router = 0;
    if (sp_model_is_moe(m)) {
        o->expert = mlp_params_in(m, m->moe_latent > 0 ? m->moe_latent : h, m->moe_ffn_dim);
        shared_router = shared_params(m) + router_params(m);
        o->moe_per_layer = m->n_experts * o->expert + shared_router;
    }
    for (int i = 0; i < m->n_layers; i++) {
        sp_mixer mx = sp_model_mixer(m, i);
        sp_ffn f = sp_model_ffn(m, i);
        o->count[mx][f]++;
        o->mixer_total[mx] += sp_model_mixer_params(m, mx);
        o->norms_total += layer_norms(m, mx, f);
        if (f == SP_FFN_DENSE)
            o->dense_ffn_total += o->mlp_dense_per_layer;
        else if (f == SP_FFN_MOE) {
            o->routed_total += m->n_experts * o->expert;
            o->routed_active += m->top_k * o->expert;
            o->shared_router_total += shared_router;
        }
    }
    for (int k = 0; k < SP_NMIXER; k++)
        o->layers_total += o->mixer_total[k];
    o->layers_total += o->norms_total + o->dense_ffn_total + o->routed_total + o->shared_router_total;
    o->norms_total += one_norm(m); /* final norm */
    o->total = o->layers_total + o->embedding + o->lm_head + one_norm(m);
    o->active = o->total - (o->routed_total - o->routed_active);
    double mtp_active = 0;
    o->mtp = m->n_mtp > 0 ? m->n_mtp * mtp_params(m, &mtp_active) : 0;
}

/* ---- FLOPs ---- */

/* Matmul weights one token touches in a mixer (no biases or norms) and the rest of its forward FLOPs. */
static double mixer_flops(const sp_model *m, sp_mixer k, double s)
{
    double h = m->d_model, a = m->n_heads;
    switch (k) {
    case SP_MIX_ATTN:
    case SP_MIX_SWA: {
        double qd = sp_model_attn_qdim(m), kvd = sp_model_kvdim(m);
        double w = h * qd * (m->attn_gate ? 2 : 1) + 2 * h * kvd + qd * h;
        double span = k == SP_MIX_SWA ? fmin(s, m->sliding_window) : s;
        return 2.0 * w + 4.0 * span * a * m->d_head;
    }
    case SP_MIX_MLA: {
        double dqk = m->qk_nope_head_dim + m->qk_rope_head_dim, dv = m->v_head_dim;
        double w = mla_params(m); /* the two latent norms' weights counted as matmul: kept as before */
        return 2.0 * w + 2.0 * s * a * dqk + 2.0 * s * a * dv;
    }
    case SP_MIX_MAMBA2: {
        /* projections + depthwise conv + the SSD scan at 7·inner·state FLOPs per token (Megatron-LM's
         * count, megatron/training/training.py num_floating_point_operations, mamba_layer_flops) */
        double in = m->ssm_inner, gn = (double)m->ssm_groups * m->ssm_state;
        double w = h * (2 * in + 2 * gn + m->ssm_heads) + in * h;
        return 2.0 * w + 2.0 * (in + 2 * gn) * m->ssm_conv + 7.0 * in * m->ssm_state;
    }
    case SP_MIX_MAMBA1: {
        /* selective scan at 9·inner·state per token (the mamba authors' count, state-spaces/mamba issue 110) */
        double in = m->ssm_inner, N = m->ssm_state, r = m->ssm_dt_rank;
        double w = h * 2 * in + in * (r + 2 * N) + r * in + in * h;
        return 2.0 * w + 2.0 * in * m->ssm_conv + 9.0 * in * N;
    }
    case SP_MIX_GDN: {
        /* projections, conv, and the delta-rule state update/readout at 4·dk·dv per value head
         * (Megatron-Bridge's gdn_layer_flops, NVIDIA-NeMo/Megatron-Bridge src/megatron/bridge/training/utils/flop_utils.py) */
        double kd = (double)m->gdn_k_heads * m->gdn_k_dim, vd = (double)m->gdn_v_heads * m->gdn_v_dim;
        double w = h * (2 * kd + 2 * vd + 2.0 * m->gdn_v_heads) + vd * h;
        return 2.0 * w + 2.0 * (2 * kd + vd) * m->gdn_conv + 8.0 * m->gdn_v_heads * m->gdn_k_dim * m->gdn_v_dim;
    }
    default:
        return 0;
    }
}

static double ffn_flops(const sp_model *m, sp_ffn f)
{
    double h = m->d_model, mats = m->gated ? 3.0 : 2.0;
    if (f == SP_FFN_DENSE)
        return 2.0 * mats * h * m->ffn_dim;
    if (f != SP_FFN_MOE)
        return 0;
    double in = m->moe_latent > 0 ? m->moe_latent : h;
    double shared = m->shared_ffn_dim > 0 ? mats * h * m->shared_ffn_dim /* h-wide: shared_params */
                                          : m->n_shared_experts * mats * h * m->moe_ffn_dim;
    double w = m->top_k * mats * in * m->moe_ffn_dim + shared + h * m->n_experts +
               (m->moe_latent > 0 ? 2.0 * h * m->moe_latent : 0) + (m->shared_gate ? h : 0);
    return 2.0 * w;
}

double sp_model_fwd_flops_per_token(const sp_model *m, int seq_len)
{
    return sp_model_fwd_flops_mtp(m, seq_len, m->n_mtp);
}

double sp_model_fwd_flops_mtp(const sp_model *m, double ctx, int mtp_depths)
{
    double s = ctx, f = 0;
    if (m->n_pattern == 0) { /* uniform: one mixer term per layer, FFN by the dense/MoE split */
        int n_moe = sp_model_is_moe(m) ? m->n_layers - m->first_dense_layers : 0;
        f = m->n_layers * mixer_flops(m, sp_model_mixer(m, 0), s) + (m->n_layers - n_moe) * ffn_flops(m, SP_FFN_DENSE) +
            n_moe * ffn_flops(m, SP_FFN_MOE);
    } else
        for (int i = 0; i < m->n_layers; i++)
            f += mixer_flops(m, sp_model_mixer(m, i), s) + ffn_flops(m, sp_model_ffn(m, i));
    f += 2.0 * m->vocab * m->d_model; /* LM head (tied or not, the matmul is done) */
    /* MTP depths (training): the 2h -> h projection, their layer and their own LM head pass (Megatron-Core
     * counts the logits once per MTP layer) */
    f += mtp_depths * (4.0 * m->d_model * m->d_model + mixer_flops(m, (sp_mixer)m->mtp_mixer, s) +
                     ffn_flops(m, (sp_ffn)m->mtp_ffn) + 2.0 * m->vocab * m->d_model);
    return f;
}

double sp_model_train_flops(const sp_model *m, int seq_len, double tokens)
{
    return 3.0 * sp_model_fwd_flops_per_token(m, seq_len) * tokens;
}

/* ---- decode cache ---- */

double sp_model_state_bytes(const sp_model *m, sp_mixer k, double bytes)
{
    if (k == SP_MIX_MAMBA2) /* SSM state heads x head_dim x state in fp32 + conv window */
        return 4.0 * m->ssm_inner * m->ssm_state + bytes * (m->ssm_conv - 1.0) * (m->ssm_inner + 2.0 * m->ssm_groups * m->ssm_state);
    if (k == SP_MIX_MAMBA1)
        return 4.0 * m->ssm_inner * m->ssm_state + bytes * (m->ssm_conv - 1.0) * m->ssm_inner;
    if (k == SP_MIX_GDN) /* a dk x dv state per value head in fp32 + conv window */
        return 4.0 * m->gdn_v_heads * m->gdn_k_dim * m->gdn_v_dim +
               bytes * (m->gdn_conv - 1.0) * (2.0 * m->gdn_k_heads * m->gdn_k_dim + (double)m->gdn_v_heads * m->gdn_v_dim);
    return 0;
}

void sp_model_cache_bytes(const sp_model *m, int seq_len, double bytes, double *per_token, double *per_seq)
{
    double tok = 0, seq = 0, s = seq_len;
    for (int i = 0; i < m->n_layers; i++) {
        sp_mixer k = sp_model_mixer(m, i);
        if (k == SP_MIX_ATTN)
            tok += 2.0 * sp_model_kvdim(m) * bytes;
        else if (k == SP_MIX_SWA) { /* a ring of the last `window` tokens */
            if (s <= m->sliding_window)
                tok += 2.0 * sp_model_kvdim(m) * bytes;
            else
                seq += 2.0 * sp_model_kvdim(m) * bytes * m->sliding_window;
        } else if (k == SP_MIX_MLA) /* the compressed latent and the RoPE key (DeepSeek-V2 §2.1.2) */
            tok += (double)(m->kv_lora_rank + m->qk_rope_head_dim) * bytes;
        else
            seq += sp_model_state_bytes(m, k, bytes);
        if (m->n_pattern == 0)
            break; /* uniform: every layer like layer 0 */
    }
    if (m->n_pattern == 0)
        tok *= m->n_layers, seq *= m->n_layers;
    *per_token = tok;
    *per_seq = seq;
}

/* ---- what the step can price ---- */

/* The attention-core FLOPs per token of one layer of kind k at s tokens of context (what selective recompute
 * reruns): scores and values over the keys the layer sees; 0 for layers without attention. */
double sp_model_attn_core_flops(const sp_model *m, sp_mixer k, double s)
{
    double a = m->n_heads;
    if (k == SP_MIX_ATTN || k == SP_MIX_SWA)
        return 4.0 * (k == SP_MIX_SWA ? fmin(s, m->sliding_window) : s) * a * m->d_head;
    if (k == SP_MIX_MLA)
        return 2.0 * s * a * (m->qk_nope_head_dim + m->qk_rope_head_dim) + 2.0 * s * a * m->v_head_dim;
    return 0;
}

/* The first feature of m the training and inference steps cannot price (at inference the MTP modules are not loaded
 * and LatentMoE is priced by ops.c sp_ops_moe_serving: docs/inference.md). */
static const char *unpriced_feature(const sp_model *m, const char **kind)
{
    unsigned u = kinds_used(m);
    *kind = NULL; /* every mixer kind is priced by both steps (ops.c builders); a new kind would be named here */
    if (m->shared_ffn_dim > 0)
        return "a shared expert of another width than the routed experts";
    if ((u & 1u << SP_MIX_ATTN) && (u & 1u << SP_MIX_MLA))
        return "a mix of MLA and standard attention";
    return NULL;
}

static sp_status unpriced(const sp_model *m, const char *what, sp_error *err)
{
    const char *kind, *feat = unpriced_feature(m, &kind);
    if (kind)
        return sp_fail(err, SP_EINVAL, "%s: layer type '%s' is not modelled by the %s step yet", m->name, kind, what);
    if (feat)
        return sp_fail(err, SP_EINVAL, "%s: %s are not modelled by the %s step yet", m->name, feat, what);
    return SP_OK;
}

sp_status sp_model_step_check(const sp_model *m, const char *what, sp_error *err) { return unpriced(m, what, err); }

sp_status sp_model_train_check(const sp_model *m, const sp_plan *p, sp_error *err)
{
    sp_status st = unpriced(m, "training", err);
    if (st)
        return st;
    unsigned u = kinds_used(m);
    if (p && p->cp > 1 && (u & (1u << SP_MIX_MAMBA2 | 1u << SP_MIX_MAMBA1 | 1u << SP_MIX_GDN)))
        return sp_fail(err, SP_EINVAL, "%s: context parallelism (--cp %d) over Mamba/DeltaNet layers is not modelled "
                       "(their state passes along the sequence); allowed: --cp 1", m->name, p->cp);
    return SP_OK;
}

double sp_lora_params_per_layer(const sp_model *m, int rank, unsigned targets)
{
    if (rank <= 0)
        return 0;
    double r = rank, h = m->d_model, qd = sp_model_attn_qdim(m), kvd = sp_model_kvdim(m), f = m->ffn_dim;
    double n = 0;
    if (targets & SP_LORA_ATTN) /* q, k, v, o */
        n += r * (h + qd) + 2 * r * (h + kvd) + r * (qd + h);
    if (targets & SP_LORA_MLP) /* up (+ gate), down */
        n += (m->gated ? 2 : 1) * r * (h + f) + r * (f + h);
    return n;
}
