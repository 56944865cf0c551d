/* Transformer arithmetic: parameter counts and FLOPs per token (DESIGN.md §3.1).
 *
 * Conventions:
 *  - Forward matmul FLOPs = 2 x weights touched per token (MoE: top-k routed + shared experts).
 *  - Attention scores and values: 2·s·(a·d_qk) + 2·s·(a·d_v) FLOPs per token per layer, no causal halving
 *    (Megatron-LM's convention, Narayanan et al. 2021 Eq. 3), so GPT models reproduce
 *    72·B·s·L·h²·(1 + s/(6h) + V/(12·L·h)) per iteration.
 *  - Training = 3 x forward (backward = 2 x forward).
 */
#include "internal.h"

#include <math.h>
#include <string.h>

int sp_model_is_moe(const sp_model *m) { return m->n_experts > 1; }

int sp_model_attn_qdim(const sp_model *m) { return m->n_heads * m->d_head; }

int sp_model_kvdim(const sp_model *m) { return m->n_kv_heads * m->d_head; }

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
#undef REQ
    if (m->n_heads % m->n_kv_heads)
        return sp_fail(err, SP_EINVAL,
                       "%s: num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)", where,
                       m->n_heads, m->n_kv_heads);
    if (m->n_experts > 1 && (m->top_k < 1 || m->top_k > m->n_experts))
        return sp_fail(err, SP_EINVAL, "%s: num_experts_per_tok = %d; allowed 1..%d (the number of experts)",
                       where, m->top_k, m->n_experts);
    return SP_OK;
}

/* Attention weights of one layer. MLA (DeepSeek-V2/V3) when kv_lora_rank > 0: low-rank Q and KV
 * projections with a decoupled RoPE key (DeepSeek-V3 report, arXiv:2412.19437 §2.1.1). */
static double attn_params(const sp_model *m)
{
    double h = m->d_model, a = m->n_heads;
    if (m->kv_lora_rank > 0) {
        double dqk = m->qk_nope_head_dim + m->qk_rope_head_dim, dv = m->v_head_dim;
        double q = m->q_lora_rank > 0 ? h * m->q_lora_rank + m->q_lora_rank + m->q_lora_rank * a * dqk
                                      : h * a * dqk;
        double kv = h * (m->kv_lora_rank + m->qk_rope_head_dim) + m->kv_lora_rank +
                    m->kv_lora_rank * a * (m->qk_nope_head_dim + dv);
        return q + kv + a * dv * h;
    }
    double qd = sp_model_attn_qdim(m), kvd = sp_model_kvdim(m);
    double w = h * qd + 2 * h * kvd + qd * h;
    if (m->biases)
        w += qd + 2 * kvd + h;
    return w;
}

static double mlp_params(const sp_model *m, double f)
{
    double h = m->d_model;
    double w = (m->gated ? 3.0 : 2.0) * h * f;
    if (m->biases)
        w += (m->gated ? 2.0 : 1.0) * f + h;
    return w;
}

static double norm_params(const sp_model *m)
{
    /* two norms per layer; LayerNorm has scale and bias */
    return 2.0 * (m->norm == SP_NORM_LAYERNORM ? 2.0 : 1.0) * m->d_model;
}

void sp_model_params(const sp_model *m, sp_param_count *o)
{
    memset(o, 0, sizeof *o);
    double h = m->d_model;
    int moe = sp_model_is_moe(m);
    o->embedding = (double)m->vocab * h + (m->learned_pos ? (double)m->max_seq * h : 0);
    o->lm_head = m->tied_embeddings ? 0 : (double)m->vocab * h;
    o->attn_per_layer = attn_params(m);
    o->mlp_dense_per_layer = mlp_params(m, m->ffn_dim);
    o->norm_per_layer = norm_params(m);
    int n_moe_layers = moe ? m->n_layers - m->first_dense_layers : 0;
    int n_dense_layers = m->n_layers - n_moe_layers;
    double active_moe = 0;
    if (moe) {
        o->expert = mlp_params(m, m->moe_ffn_dim);
        double shared = m->n_shared_experts * o->expert;
        double router = h * m->n_experts;
        o->moe_per_layer = m->n_experts * o->expert + shared + router;
        active_moe = m->top_k * o->expert + shared + router;
    }
    o->layers_total = m->n_layers * (o->attn_per_layer + o->norm_per_layer) +
                      n_dense_layers * o->mlp_dense_per_layer + n_moe_layers * o->moe_per_layer;
    double final_norm = (m->norm == SP_NORM_LAYERNORM ? 2.0 : 1.0) * h;
    o->total = o->layers_total + o->embedding + o->lm_head + final_norm;
    o->active = o->total - n_moe_layers * (o->moe_per_layer - active_moe);
}

/* Matmul weights one token touches in one layer's attention block (no biases/norms). */
static double attn_matmul_weights(const sp_model *m)
{
    double w = attn_params(m);
    if (m->kv_lora_rank <= 0 && m->biases)
        w -= sp_model_attn_qdim(m) + 2.0 * sp_model_kvdim(m) + m->d_model;
    return w;
}

double sp_model_fwd_flops_per_token(const sp_model *m, int seq_len)
{
    double h = m->d_model, s = seq_len, a = m->n_heads;
    int moe = sp_model_is_moe(m);
    int n_moe = moe ? m->n_layers - m->first_dense_layers : 0;
    int n_dense = m->n_layers - n_moe;
    double mlp_dense = (m->gated ? 3.0 : 2.0) * h * m->ffn_dim;
    double mlp_moe = 0;
    if (moe)
        mlp_moe = (m->top_k + m->n_shared_experts) * (m->gated ? 3.0 : 2.0) * h * m->moe_ffn_dim +
                  h * m->n_experts;
    double dqk = m->kv_lora_rank > 0 ? m->qk_nope_head_dim + m->qk_rope_head_dim : m->d_head;
    double dv = m->kv_lora_rank > 0 ? m->v_head_dim : m->d_head;
    double attn_core = 2.0 * s * a * dqk + 2.0 * s * a * dv;
    double per_layer_common = 2.0 * attn_matmul_weights(m) + attn_core;
    double f = m->n_layers * per_layer_common + n_dense * 2.0 * mlp_dense + n_moe * 2.0 * mlp_moe;
    f += 2.0 * m->vocab * h; /* LM head (tied or not, the matmul is done) */
    return f;
}

double sp_model_train_flops(const sp_model *m, int seq_len, double tokens)
{
    return 3.0 * sp_model_fwd_flops_per_token(m, seq_len) * tokens;
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
