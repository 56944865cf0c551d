/* Memory per GPU (DESIGN.md §3.6), worst pipeline stage.
 *
 * Model states (mixed-precision Adam, Megatron-LM / DeepSpeed accounting): 2 B fp16/bf16 weights + 4 B fp32
 * main gradients + 12 B optimizer (fp32 master, two moments) = 18 B per parameter held (Korthikanti et al.
 * 2022 use the same 18 B; Rajbhandari et al. 2020 count 16 B with 2 B gradients). ZeRO-1 shards the optimizer
 * over DP, ZeRO-2 also the gradients, ZeRO-3 also the weights (+ one prefetched layer gathered).
 *
 * Activations per layer per micro-batch, 16-bit (Korthikanti et al. 2022 §4, generalised to GQA and gated
 * MLPs by counting the same tensors):
 *   replicated (÷t only with SP):  10·s·b·h  (two norm inputs 4, QKV input 2, MLP input 2, dropout masks 2)
 *   sharded (÷t):                  (4·qd + 4·kvd)/h + (gated ? 6 : 4)·f/h   [= 24 for GPT: Q,K,V,proj 8; MLP 16]
 *   attention scores (÷t):         5·a·s/h  (softmax out 2, dropout mask 1, dropout out 2); 0 with flash
 * selective recompute drops the scores; full recompute keeps the layer input 2·s·b·h (÷t with SP) plus one
 * layer's full activations during its backward. The first stage holds min(m, p) micro-batches in flight under
 * 1F1B, × (1 + (p−1)/(p·v)) when interleaved.
 */
#include "scaleplan.h"
#include "memory.h"

#include <math.h>
#include <string.h>

/* Constant framework overhead: CUDA context (~0.5 GiB), NCCL buffers and cuBLAS workspaces (~1 GiB). Order of
 * magnitude from PyTorch memory snapshots; documented in docs/model.md. */
#define SP_FRAMEWORK_OVERHEAD_BYTES (1.5 * 1073741824.0)

/* Layers that differ: one layer's saved activations in units of s·b·h 16-bit bytes, by sublayer. Attention: its norm
 * input, QKV input and dropout mask (5 replicated), Q, K, V, output-projection input (sharded), the scores without
 * flash over the keys it sees; FFN: norm input, MLP input, mask (5) and the MLP's tensors as above; Mamba-2: the
 * tensors its fused kernels save (mamba_ssm ssd_combined: in_proj output z, x, B, C, dt; conv output; y; the gated
 * norm's input) and the fp32 state of each chunk; gated DeltaNet likewise. FP8's 1-byte saved inputs are not
 * applied to these layers (an overestimate of at most the GEMM inputs' half). */
static void sublayer_units(const sp_model *m, const sp_plan *p, int flash, sp_mixer mx, sp_ffn f, double *repl,
                           double *shard, double *scores)
{
    double h = m->d_model, qd = sp_model_attn_qdim(m), kvd = sp_model_kvdim(m), s = p->seq_len;
    *repl = *shard = *scores = 0;
    if (mx == SP_MIX_ATTN || mx == SP_MIX_SWA || mx == SP_MIX_MLA) {
        double span = mx == SP_MIX_SWA && m->sliding_window < s ? m->sliding_window : s;
        *repl += 5, *shard += (4 * qd * (m->attn_gate ? 1.5 : 1) + 4 * kvd) / h;
        *scores += flash ? 0 : 5.0 * m->n_heads * span / h;
    } else if (mx == SP_MIX_MAMBA2) {
        double in = m->ssm_inner, gn = (double)m->ssm_groups * m->ssm_state;
        *repl += 5, *shard += 2.0 * (2 * in + 2 * gn + m->ssm_heads + in + 2 * gn + 2 * in) / h +
                               4.0 * in * m->ssm_state / 128.0 / h; /* fp32 state per 128-token chunk */
    } else if (mx == SP_MIX_GDN) {
        double kd = (double)m->gdn_k_heads * m->gdn_k_dim, vd = (double)m->gdn_v_heads * m->gdn_v_dim;
        *repl += 5, *shard += 2.0 * (2 * kd + 2 * vd + 2.0 * m->gdn_v_heads + 2 * kd + vd + 2 * vd) / h +
                               4.0 * m->gdn_v_heads * m->gdn_k_dim * m->gdn_v_dim / 64.0 / h; /* per 64-token chunk */
    }
    if (f != SP_FFN_NONE) {
        double ff = f == SP_FFN_MOE ? (double)m->moe_ffn_dim * (m->top_k * sp_moe_load(m, p) + m->n_shared_experts)
                                    : m->ffn_dim;
        *repl += 5, *shard += (m->gated ? 6.0 : 4.0) * ff / h;
    }
}

/* The average layer of a model whose layers differ, under each recompute mode. */
static void mixed_activation_bytes(const sp_model *m, const sp_plan *p, int flash, double out[3])
{
    double s = p->seq_len / (double)p->cp, b = p->micro_batch, t = p->tp, sbh = s * b * m->d_model;
    double rep_div = (p->seq_parallel && t > 1) ? t : 1, sel = 0, none = 0;
    for (int i = 0; i < m->n_layers; i++) {
        double repl, shard, scores;
        sublayer_units(m, p, flash, sp_model_mixer(m, i), sp_model_ffn(m, i), &repl, &shard, &scores);
        sel += repl / rep_div + shard / t;
        none += repl / rep_div + shard / t + scores / t;
    }
    out[SP_RECOMPUTE_FULL] = 2.0 * sbh / rep_div;
    out[SP_RECOMPUTE_SELECTIVE] = sbh * sel / m->n_layers;
    out[SP_RECOMPUTE_NONE] = sbh * none / m->n_layers;
}

/* One layer's activation bytes under each recompute mode (indexed by sp_recompute). */
static void layer_activation_bytes(const sp_model *m, const sp_plan *p, int flash, double out[3])
{
    if (m->n_pattern > 0) {
        mixed_activation_bytes(m, p, flash, out);
        return;
    }
    double s = p->seq_len / (double)p->cp, b = p->micro_batch, h = m->d_model, t = p->tp;
    double sbh = s * b * h;
    double qd = sp_model_attn_qdim(m), kvd = sp_model_kvdim(m);
    int moe = sp_model_is_moe(m);
    double f = moe ? (double)m->moe_ffn_dim * (m->top_k * sp_moe_load(m, p) + m->n_shared_experts) : m->ffn_dim;
    double repl = 10.0, shard = (4 * qd + 4 * kvd) / h + (m->gated ? 6.0 : 4.0) * f / h;
    if (sp_dtype_is_quantized(p->dtype)) { /* counted as 1 byte for every scaled format (nvfp4: 0.56) */
        /* the saved inputs of the FP8 GEMMs are kept in FP8 (the cast the forward GEMM used; Transformer Engine
         * saves it for the weight gradient, DeepSeek-V3 §3.3.4 caches Linear inputs in FP8): QKV input and MLP
         * input (replicated: 2 -> 1 each), output-projection input (2·qd -> qd) and MLP down-projection input
         * (2·f -> f). Norm inputs, Q/K/V for the BF16 attention core, softmax and masks stay 16-bit. */
        repl = 8.0;
        shard = (3 * qd + 4 * kvd) / h + (m->gated ? 5.0 : 3.0) * f / h;
    }
    double scores = flash ? 0 : 5.0 * m->n_heads * (double)p->seq_len / h; /* full key length */
    double rep_div = (p->seq_parallel && t > 1) ? t : 1;
    out[SP_RECOMPUTE_FULL] = 2.0 * sbh / rep_div;
    out[SP_RECOMPUTE_SELECTIVE] = sbh * (repl / rep_div + shard / t);
    out[SP_RECOMPUTE_NONE] = sbh * (repl / rep_div + shard / t + scores / t);
}

/* Parameters held by one GPU on the heaviest stage, split into dense (replicated over DP x EP) and expert
 * (replicated over DP only) parts. */
void stage_params_counts(const sp_model *m, const sp_plan *p, const sp_param_count *pcp, double *dense, double *expert)
{
    const sp_param_count pc = *pcp;
    double L = m->n_layers, t = p->tp;
    double lps = sp_stage_layers(m->n_layers, p->pp);
    int moe = sp_model_is_moe(m);
    double moe_frac = moe ? (L - m->first_dense_layers) / L : 0;
    double attn_norm = lps * (pc.attn_per_layer / t + pc.norm_per_layer);
    double mlp_dense = lps * (1 - moe_frac) * pc.mlp_dense_per_layer / t;
    double experts = 0, shared = 0;
    if (m->n_pattern > 0) { /* layers that differ: the average layer (routed experts apart) */
        attn_norm = lps * (pc.layers_total - pc.routed_total) / L / t;
        mlp_dense = 0;
        experts = lps * pc.routed_total / L / (p->ep * (double)sp_plan_etp(p));
    } else if (moe) {
        double per_layer_routed = m->n_experts * pc.expert;
        double shared_router = pc.moe_per_layer - per_layer_routed;
        experts = lps * moe_frac * per_layer_routed / (p->ep * (double)sp_plan_etp(p)); /* EP x ETP, not TP */
        shared = lps * moe_frac * shared_router / t;
    }
    /* embedding on the first stage, LM head on the last: the heavier end */
    double emb = pc.embedding / t, head = pc.lm_head / t;
    if (m->n_mtp > 0) { /* MTP modules on the last stage, their routed experts sharded as the layers' */
        double routed = m->mtp_ffn == SP_FFN_MOE ? m->n_mtp * m->n_experts * pc.expert : 0;
        head += (pc.mtp - routed) / t;
        experts += routed / (p->ep * (double)sp_plan_etp(p));
    }
    double ends = p->pp == 1 ? emb + head : (emb > head ? emb : head);
    if (p->pp > 1 && pc.lm_head == 0)
        ends = emb; /* tied: both ends hold a copy */
    *dense = attn_norm + mlp_dense + shared + ends;
    *expert = experts;
}

void sp_shape_mem_fill(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_param_count *pc,
                     sp_shape_mem *pre)
{
    int flash = p->flash_attention >= 0 ? p->flash_attention : s->flash_attention;
    if (pc)
        pre->pc = *pc;
    else
        sp_model_params(m, &pre->pc);
    layer_activation_bytes(m, p, flash, pre->act);
}

void sp_train_memory(const sp_model *m, const sp_system *s, const sp_plan *p, sp_memory *mem)
{
    sp_shape_mem pre;
    sp_shape_mem_fill(m, s, p, NULL, &pre);
    sp_train_memory_shape(m, s, p, &pre, mem);
}

void sp_stage_params_fill(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, sp_stage_params *st)
{
    stage_params_counts(m, p, &pre->pc, &st->dense, &st->expert);
    sp_expert_dp_group(p, &st->expert_dp, &st->expert_dp_stride);
}

void sp_train_memory_shape(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_shape_mem *pre, sp_memory *mem)
{
    sp_stage_params st;
    sp_stage_params_fill(m, p, pre, &st);
    sp_plan_memory(m, s, p, pre, &st, mem);
}

void sp_plan_memory(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_shape_mem *pre,
                           const sp_stage_params *st, sp_memory *mem)
{
    sp_memory stat, act;
    sp_mem_states(m, p, pre, st, &stat);
    sp_mem_activations(m, p, pre, &act);
    sp_mem_plan(&stat, &act, s->acc.hbm_bytes, mem);
}

/* Model states and buffers: depend on the stage (PP), the sharding groups and the ZeRO stage, not on the
 * virtual stages or recompute. The fields for ZeRO stage z (the whole of sp_mem_states's arithmetic). */
typedef struct {
    double weights, grads, optimizer, comm_buffers;
} static_fields;

static inline static_fields mem_static_fields(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre,
                                              const sp_stage_params *st, int z)
{
    static_fields f = {0, 0, 0, 0};
    double dense = st->dense, expert = st->expert;
    int edp = st->expert_dp;
    double dpd = (double)p->dp * p->ep * p->cp, dpe = edp; /* sharding groups of dense (CP x EP x DP) and expert params */
    /* model-state bytes per parameter come from the software stack (sp_software_apply; docs/systems.md): Megatron
     * 2 + 4 + 12 = 18, FSDP / MaxText 4 (fp32 master as the weight) + 4 + 8 = 16, DeepSpeed bf16 2 + 2 + 12 = 16 */
    double wb = p->frozen_base && p->base_weight_bytes > 0 ? p->base_weight_bytes
                                                           : (p->weight_bytes > 0 ? p->weight_bytes : 2.0);
    double gb = p->grad_bytes > 0 ? p->grad_bytes : 4.0;
    double ob = p->optimizer_bytes > 0 ? p->optimizer_bytes : 12.0;
    f.weights = wb * (z >= 3 ? dense / dpd + expert / dpe : dense + expert);
    if (p->frozen_base) {
        /* adapters: 16-bit weights and gradients, fp32 Adam moments (8 B); no fp32 master copy (QLoRA, Dettmers
         * et al. 2023 §3: BF16 LoRA parameters with 32-bit paged AdamW) */
        double ad = sp_stage_layers(m->n_layers, p->pp) * sp_lora_params_per_layer(m, p->lora_rank, p->lora_targets) / p->tp;
        f.weights += 2.0 * ad;
        f.grads = 2.0 * ad;
        f.optimizer = 8.0 * ad;
        if (p->base_weight_bytes > 0 && p->base_weight_bytes < 2) /* one layer dequantized to 16 bits */
            f.comm_buffers += 2.0 * (pre->pc.attn_per_layer + pre->pc.mlp_dense_per_layer) / p->tp;
    } else {
        f.grads = gb * (z >= 2 ? dense / dpd + expert / dpe : dense + expert);
        f.optimizer = ob * (z >= 1 ? dense / dpd + expert / dpe : dense + expert);
    }
    if (z >= 3) {
        /* two gathered layers (current + prefetched), 16-bit */
        const sp_param_count *pc = &pre->pc;
        double layer = pc->attn_per_layer + (sp_model_is_moe(m) ? pc->moe_per_layer / p->ep : pc->mlp_dense_per_layer);
        f.comm_buffers += 2.0 * 2.0 * layer / p->tp;
    }
    return f;
}

void sp_mem_states(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, const sp_stage_params *st, sp_memory *mem)
{
    memset(mem, 0, sizeof *mem);
    static_fields f = mem_static_fields(m, p, pre, st, p->zero);
    mem->weights = f.weights;
    mem->grads = f.grads;
    mem->optimizer = f.optimizer;
    mem->comm_buffers = f.comm_buffers;
    mem->overhead = SP_FRAMEWORK_OVERHEAD_BYTES;
    mem->total = sp_mem_states_sum(mem);
}

void sp_mem_states_by_zero(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, const sp_stage_params *st,
                          double total[4])
{
    for (int z = 0; z < 4; z++) {
        static_fields f = mem_static_fields(m, p, pre, st, z);
        sp_memory x = {.weights = f.weights, .grads = f.grads, .optimizer = f.optimizer,
                       .comm_buffers = f.comm_buffers, .overhead = SP_FRAMEWORK_OVERHEAD_BYTES};
        total[z] = sp_mem_states_sum(&x);
    }
}

/* Activations: depend on the micro-batches in flight (PP, virtual stages) and recompute, not on ZeRO. The layers
 * held on the first stage and the embedding/logits bytes (the part recompute does not change). */
void sp_mem_act_terms(const sp_model *m, const sp_plan *p, double *layers_held, double *emb_logits)
{
    int n_micro = p->global_batch / (p->dp * p->ep * p->micro_batch);
    double inflight = p->pp < n_micro ? p->pp : n_micro;
    double held = sp_stage_layers(m->n_layers, p->pp) * inflight;
    if (p->vpp > 1)
        held *= sp_mem_interleave_factor(p->pp, p->vpp);
    *layers_held = held;
    /* embedding output (first stage) and fp32 logits + their gradient for the loss (last stage) */
    double sb = p->seq_len / (double)p->cp * p->micro_batch;
    double logits = sb * m->vocab / p->tp * (4.0 + 2.0);
    double emb_out = sb * m->d_model * 2.0 * inflight / ((p->seq_parallel && p->tp > 1) ? p->tp : 1);
    *emb_logits = p->pp == 1 ? logits + emb_out : (logits > emb_out ? logits : emb_out);
}

void sp_mem_activations(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, sp_memory *mem)
{
    memset(mem, 0, sizeof *mem);
    double held, emb;
    sp_mem_act_terms(m, p, &held, &emb);
    mem->activations_layers = pre->act[p->recompute] * held;
    mem->activations = sp_mem_act_layers(pre, (int)p->recompute, held);
    mem->embedding_logits = emb;
    mem->total = sp_mem_act_total(mem->activations, mem->embedding_logits);
}

/* The plan's memory from its two parts (sp_mem_total, as the search's memory check). */
void sp_mem_plan(const sp_memory *stat, const sp_memory *act, double capacity, sp_memory *mem)
{
    *mem = *stat;
    mem->activations = act->activations;
    mem->activations_layers = act->activations_layers;
    mem->embedding_logits = act->embedding_logits;
    mem->total = sp_mem_total(stat->total, act->total);
    mem->capacity = capacity;
}
