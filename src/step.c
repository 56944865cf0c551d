/* One training step (DESIGN.md §3.3-3.5): per-layer operations on one GPU, communication of each
 * parallelism on its tier, the pipeline schedule and the optimizer. Allocation-free.
 *
 * Per layer and micro-batch (T = b·s/cp tokens on this GPU, TP degree t):
 *   GEMMs     QKV (T x h)·(h x (qd+2kvd)/t), output projection, MLP up (x2 when gated) and down; backward =
 *             data-gradient + weight-gradient GEMM of each, shapes transposed accordingly.
 *   attention standard (fused softmax, Megatron 2020-22): two batched GEMMs + softmax/dropout traffic over
 *             b·(a/t)·(s/cp)·s scores; flash attention: the causal half of 4·s·a·d_head FLOPs per token at the
 *             family's attention efficiency, backward 2.5x forward (it recomputes the scores).
 *   memory    norms, residual adds, dropout, activation function, rotary/bias: bytes below / HBM bandwidth.
 *   TP comm   2 all-reduces (or all-gather + reduce-scatter with SP) of T·h 16-bit values forward, 2 backward.
 * Schedule: 1F1B with m micro-batches on p stages (v virtual stages): m·t_slot(max stage) + (p−1)·t_avg/v.
 * DP: all-reduce (ZeRO-0) or reduce-scatter + all-gather (ZeRO-1/2) of the stage's gradients once per step,
 * overlapped with the last backward when the software stack does so; ZeRO-3 gathers weights before forward
 * and backward of every micro-batch and reduce-scatters gradients, prefetched (overlapped per phase).
 */
#include "scaleplan.h"
#include "step_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>



/* The memo's slot for (a, b, c, d, tag), and whether it holds them. */
static sp_gemm_memo_entry *memo_slot(sp_gemm_memo *memo, double a, double b, double c, double d, int tag, int *hit)
{
    uint64_t ba, bb, bc, bd;
    memcpy(&ba, &a, 8);
    memcpy(&bb, &b, 8);
    memcpy(&bc, &c, 8);
    memcpy(&bd, &d, 8);
    uint64_t h = (ba * 0x9E3779B97F4A7C15u) ^ (bb * 0xC2B2AE3D27D4EB4Fu) ^ (bc * 0x165667B19E3779F9u) ^
                 (bd * 0xD6E8FEB86659FD93u) ^ (uint64_t)tag;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9u;
    sp_gemm_memo_entry *e = &memo->e[h >> 53 & (SP_GEMM_MEMO - 1)];
    *hit = e->a == a && e->b == b && e->c == c && e->d == d && e->tag == tag;
    return e;
}

/* sp_gemm_time through the memo when there is one */
static double gemm_t(sp_gemm_memo *memo, const sp_accel *a, sp_dtype d, double m, double n, double k, double batch)
{
    if (!memo)
        return sp_gemm_time(a, d, m, n, k, batch);
    int hit;
    sp_gemm_memo_entry *e = memo_slot(memo, m, n, k, batch, (int)d, &hit);
    if (hit)
        return e->t;
    double t = sp_gemm_time(a, d, m, n, k, batch);
    *e = (sp_gemm_memo_entry){m, n, k, batch, t, 0, (int)d};
    return t;
}

/* sp_collective_time through the memo when there is one */
static double coll_t(sp_gemm_memo *memo, const sp_system *s, sp_coll kind, int p, int stride, double bytes)
{
    if (!memo)
        return sp_collective_time(s, kind, p, stride, bytes);
    int hit;
    sp_gemm_memo_entry *e = memo_slot(memo, p, stride, bytes, 0, 100 + (int)kind, &hit);
    if (hit)
        return e->t;
    double t = sp_collective_time(s, kind, p, stride, bytes);
    *e = (sp_gemm_memo_entry){p, stride, bytes, 0, t, 0, 100 + (int)kind};
    return t;
}

/* forward (m x k)(k x n); backward: dgrad (m x n)(n x k), and wgrad (k x m)(m x n) unless the weight is frozen.
 * Memoized as one entry (forward, backward) per (m, n, k, wgrad, dtype). */
static double gemm_fbw(sp_gemm_memo *memo, const sp_accel *a, sp_dtype d, double m, double n, double k, int wgrad,
                       double *bwd)
{
    int hit = 0, tag = 200 + 2 * (int)d + !!wgrad;
    sp_gemm_memo_entry *e = memo ? memo_slot(memo, m, n, k, 1, tag, &hit) : NULL;
    if (hit) {
        *bwd += e->t2;
        return e->t;
    }
    double f = sp_gemm_time(a, d, m, n, k, 1);
    double b = sp_gemm_time(a, d, m, k, n, 1) + (wgrad ? sp_gemm_time(a, d, k, n, m, 1) : 0);
    if (e)
        *e = (sp_gemm_memo_entry){m, n, k, 1, f, b, tag};
    *bwd += b;
    return f;
}

#define gemm_fb(a, d, m, n, k, bwd) gemm_fbw(memo, a, d, m, n, k, wg, bwd)

/* LoRA adapter on a (din -> dout) projection: x·A (din x r) then ·B (r x dout), both trained. */
static double lora_fb(sp_gemm_memo *memo, const sp_accel *a, sp_dtype d, double T, double din, double dout, double r,
                      double *bwd)
{
    return gemm_fbw(memo, a, d, T, r, din, 1, bwd) + gemm_fbw(memo, a, d, T, dout, r, 1, bwd);
}

static void layer_costs(const sp_model *m, const sp_system *s, const sp_plan *p, int flash, int moe_layer,
                        sp_gemm_memo *memo, layer_cost *c)
{
    memset(c, 0, sizeof *c);
    const sp_accel *a = &s->acc;
    sp_dtype d = p->dtype;
    double t = p->tp, cp = p->cp;
    double T = (double)p->micro_batch * p->seq_len / cp;
    double h = m->d_model, qd = sp_model_attn_qdim(m), kvd = sp_model_kvdim(m);
    double B = 2.0; /* activation bytes (bf16/fp16; fp8 GEMM inputs are quantized per GEMM, below) */
    /* what stays in 16 bits under FP8 training (DeepSeek-V3 §3.3.1; Transformer Engine casts only Linear layers):
     * the attention core (softmax), the router, the LM head, norms and elementwise kernels */
    sp_dtype d16 = d == SP_FP8 ? SP_BF16 : d;
    double ovh = a->eff.kernel_overhead_s;
    double bwd = 0, fwd = 0;
    double q_in = 0, q_out = 0; /* FP8: elements of GEMM inputs (forward) and output gradients (backward) cast */
    double etp_comm = 0, mlp_tp_ops = 1;
    int wg = !p->frozen_base;
    /* attention projections */
    if (m->kv_lora_rank > 0) {
        /* MLA: down-projections replicated over TP, up-projections sharded by heads */
        double dqk = m->qk_nope_head_dim + m->qk_rope_head_dim;
        double qr = m->q_lora_rank > 0 ? m->q_lora_rank : 0;
        if (qr > 0) {
            fwd += gemm_fb(a, d, T, qr, h, &bwd);
            fwd += gemm_fb(a, d, T, m->n_heads * dqk / t, qr, &bwd);
        } else
            fwd += gemm_fb(a, d, T, m->n_heads * dqk / t, h, &bwd);
        fwd += gemm_fb(a, d, T, m->kv_lora_rank + m->qk_rope_head_dim, h, &bwd);
        fwd += gemm_fb(a, d, T, m->n_heads * (m->qk_nope_head_dim + m->v_head_dim) / t, m->kv_lora_rank, &bwd);
        fwd += gemm_fb(a, d, T, h, m->n_heads * m->v_head_dim / t, &bwd);
    } else {
        fwd += gemm_fb(a, d, T, (qd + 2 * kvd) / t, h, &bwd);
        fwd += gemm_fb(a, d, T, h, qd / t, &bwd);
    }
    if (d == SP_FP8) { /* QKV (or MLA down-projection) input and output-projection input; their output grads */
        q_in += T * h + T * qd / t;
        q_out += T * (qd + 2 * kvd) / t + T * h;
    }
    /* MLP or experts */
    double mlp_fwd = 0, mlp_bwd = 0, f_act = 0;
    if (moe_layer) {
        double fe = m->moe_ffn_dim, E = m->n_experts, k = m->top_k;
        double e = sp_plan_etp(p);
        double experts_here = E / p->ep;
        /* load of the busiest EP rank (imbalance, capacity; plan.c) times the ETP/TP token redistribution: the
         * expert side folds the same GPUs as ETP x EP x EDP (EDP = TP·CP·DP/ETP), so each expert replica serves
         * ETP/TP of the tokens a TP group would, at 1/ETP of the width (ETP = TP: today's TP-sharded experts) */
        double Tx = T * (e / t) * sp_moe_load(m, p);
        /* tokens routed to one local expert: uniform routing over E experts of the EP group's tokens */
        double tok = Tx * p->ep * k / E;
        double up = (m->gated ? 2.0 : 1.0) * fe / e;
        double b1 = 0;
        mlp_fwd += experts_here * (gemm_fb(a, d, tok, up, h, &b1) + gemm_fb(a, d, tok, h, fe / e, &b1));
        mlp_bwd += experts_here * 0 + b1 * experts_here;
        if (m->n_shared_experts > 0) {
            double b2 = 0, sf = fe * m->n_shared_experts;
            mlp_fwd += gemm_fb(a, d, T, (m->gated ? 2.0 : 1.0) * sf / t, h, &b2) + gemm_fb(a, d, T, h, sf / t, &b2);
            mlp_bwd += b2;
        }
        mlp_fwd += gemm_fb(a, d16, T, E, h, &mlp_bwd); /* router: kept in 16 bits under FP8 (DeepSeek-V3 §3.3.1) */
        f_act = (k * sp_moe_load(m, p) + m->n_shared_experts) * fe / t;
        if (d == SP_FP8) { /* quantization inputs: routed tokens are cast once before dispatch, shared as dense */
            q_in += T * h + experts_here * tok * fe / e + T * fe * m->n_shared_experts / t;
            q_out += experts_here * tok * (up + h) + T * ((m->gated ? 2.0 : 1.0) + 1) * fe * m->n_shared_experts / t;
        }
        if (e != t) {
            /* ETP's own reduction of the routed experts' output (forward) and input gradient (backward) over the ETP
             * group (innermost on the expert side), and when ETP < TP the re-replication of the combined output over
             * the TP/ETP sub-groups that each took a slice of the TP group's tokens */
            double red = e > 1 ? coll_t(memo, s, SP_COLL_ALLREDUCE, (int)e, 1, Tx * k * h * B) : 0;
            double ag = e < t ? coll_t(memo, s, SP_COLL_ALLGATHER, (int)(t / e), (int)e, T * h * B) : 0;
            etp_comm = red + ag;
            if (m->n_shared_experts == 0)
                mlp_tp_ops = 0; /* no TP-sharded MLP left in this layer: only the attention's TP reduction */
        }
        /* EP all-to-all: dispatch + combine of T·k token copies of h values, forward and backward. Dispatch is
         * sent in FP8 when the GEMMs run in FP8 (DeepSeek-V3 §3.3), combine in 16 bits. With node-limited routing
         * (HF `topk_group`: each token's experts lie in at most that many expert groups = nodes), a token crosses
         * the network once per destination node and fans out over the scale-up tier (DeepEP): the cross-node part
         * carries min(k, topk_group) copies instead of k. The busiest rank's volume (Tx) sets the time. */
        if (p->ep > 1) {
            int stride = e == t ? p->tp * p->cp : (int)e;
            double disp_b = d == SP_FP8 ? 1.0 : B;
            double copies_out = m->topk_group > 0 && m->topk_group < k ? m->topk_group : k;
            int tier_out = sp_group_tier(s, p->ep, stride);
            double a2a_d, a2a_c;
            if (tier_out > 0 && copies_out < k) {
                double q = s->tier[tier_out - 1].size / (double)stride;
                if (q > p->ep)
                    q = p->ep;
                const sp_tier *in = &s->tier[tier_out - 1], *out = &s->tier[tier_out];
                double nodes = p->ep / q;
                double cross = (nodes - 1) / nodes;
                double t_out_d = Tx * copies_out * h * disp_b * cross / (out->bw * out->eff) + (nodes - 1) * out->latency_s;
                double t_out_c = Tx * copies_out * h * B * cross / (out->bw * out->eff) + (nodes - 1) * out->latency_s;
                double t_in_d = Tx * k * h * disp_b * (q - 1) / q / (in->bw * in->eff) + (q - 1) * in->latency_s;
                double t_in_c = Tx * k * h * B * (q - 1) / q / (in->bw * in->eff) + (q - 1) * in->latency_s;
                a2a_d = t_out_d > t_in_d ? t_out_d : t_in_d;
                a2a_c = t_out_c > t_in_c ? t_out_c : t_in_c;
            } else {
                a2a_d = coll_t(memo, s, SP_COLL_ALLTOALL, p->ep, stride, Tx * k * h * disp_b);
                a2a_c = coll_t(memo, s, SP_COLL_ALLTOALL, p->ep, stride, Tx * k * h * B);
            }
            c->ep_fwd = a2a_d + a2a_c;
            c->ep_bwd = a2a_d + a2a_c;
            if (s->overlap_ep) { /* dispatch/combine of one micro-batch hide behind another's computation (DualPipe) */
                c->ep_fwd = sp_pos(c->ep_fwd - mlp_fwd);
                c->ep_bwd = sp_pos(c->ep_bwd - mlp_bwd);
            }
        }
    } else {
        double f = m->ffn_dim;
        mlp_fwd += gemm_fb(a, d, T, (m->gated ? 2.0 : 1.0) * f / t, h, &mlp_bwd);
        mlp_fwd += gemm_fb(a, d, T, h, f / t, &mlp_bwd);
        f_act = f / t;
        if (d == SP_FP8) {
            q_in += T * h + T * f / t;
            q_out += T * ((m->gated ? 2.0 : 1.0) + 1) * f / t;
        }
    }
    fwd += mlp_fwd;
    bwd += mlp_bwd;
    if (p->lora_rank > 0) {
        double r = p->lora_rank;
        if (p->lora_targets & SP_LORA_ATTN) {
            fwd += lora_fb(memo, a, d, T, h, qd / t, r, &bwd) + 2 * lora_fb(memo, a, d, T, h, kvd / t, r, &bwd) +
                   lora_fb(memo, a, d, T, qd / t, h, r, &bwd);
        }
        if ((p->lora_targets & SP_LORA_MLP) && !moe_layer) {
            double f = m->ffn_dim;
            fwd += (m->gated ? 2 : 1) * lora_fb(memo, a, d, T, h, f / t, r, &bwd) + lora_fb(memo, a, d, T, f / t, h, r, &bwd);
        }
    }
    if (p->frozen_base && p->base_weight_bytes > 0 && p->base_weight_bytes < 2) {
        /* QLoRA-style: the layer's quantized weights are dequantized to 16 bits before each use (forward and
         * backward): read the packed bytes, write 2 bytes per weight */
        sp_param_count pc;
        sp_model_params(m, &pc);
        double w = (pc.attn_per_layer + (moe_layer ? pc.moe_per_layer / p->ep : pc.mlp_dense_per_layer)) / t;
        double dq = sp_mem_time(a, w * (p->base_weight_bytes + 2.0)) + 7 * ovh;
        fwd += dq;
        bwd += dq;
    }
    /* attention core */
    double heads = m->n_heads / t;
    double dqk = m->kv_lora_rank > 0 ? m->qk_nope_head_dim + m->qk_rope_head_dim : m->d_head;
    double dv = m->kv_lora_rank > 0 ? m->v_head_dim : m->d_head;
    double sq = p->seq_len / cp, sk = p->seq_len; /* queries here, keys visited (ring over CP) */
    double b = p->micro_batch;
    double attn_flops = 2.0 * b * heads * sq * sk * (dqk + dv);
    c->attn_core_flops_fwd = attn_flops;
    double attn_f, attn_b, attn_mem_f, attn_mem_b;
    if (flash) {
        double rate = sp_accel_peak(a, d == SP_FP8 ? SP_BF16 : d) * a->eff.gemm_max * a->eff.attn;
        attn_f = 0.5 * attn_flops / rate + ovh; /* causal: half the blocks */
        attn_b = 2.5 * (attn_f - ovh) + ovh;
        attn_mem_f = attn_mem_b = 0;
    } else {
        double bb = 0;
        double g_qk = gemm_t(memo, a, d16, sq, sk, dqk, b * heads), g_av = gemm_t(memo, a, d16, sq, dv, sk, b * heads);
        attn_f = g_qk + g_av;
        bb += 2 * g_qk + 2 * g_av;
        attn_b = bb;
        double E = b * heads * sq * sk;
        /* fused scale-mask-softmax: read + write; dropout: read, write, 1-byte mask */
        attn_mem_f = sp_mem_time(a, E * (2 * B + 2 * B + 1)) + 2 * ovh;
        attn_mem_b = sp_mem_time(a, E * (3 * B + 2 * B + 1)) + 2 * ovh;
    }
    c->attn_fwd = attn_f + attn_mem_f;
    /* elementwise traffic per layer, forward: two norms (read+write), two residual/dropout adds (read 2,
     * write 1, 1-byte mask), activation function (gated: read 2 write 1), rotary or bias on Q/K */
    double rep = (p->seq_parallel && t > 1) ? T * h / t : T * h;
    double bytes_f = 2 * (2 * rep * B) + 2 * (3 * rep * B + rep) + T * f_act * B * (m->gated ? 3.0 : 2.0) +
                     2 * T * (qd + 2 * kvd) / t * B;
    double mem_f = sp_mem_time(a, bytes_f) + 8 * ovh;
    double mem_b = sp_mem_time(a, 2 * bytes_f) + 10 * ovh;
    if (d == SP_FP8) {
        /* FP8 quantization traffic (amax + scale + cast, fused: read 2 B, write 1 B, plus one fp32 scale per 128
         * elements, DeepSeek-V3 §3.3.2's 1x128 tiles; per-tensor scaling as in Transformer Engine costs the same
         * pass): forward casts each GEMM input; backward casts each output gradient and re-lays the saved FP8
         * inputs out transposed for the weight-gradient GEMM (Hopper FP8 GEMMs take only the TN layout: read 1,
         * write 1). The layer's weights are cast (read 2, write 1 + 1 transposed) once per micro-batch. */
        sp_param_count pc;
        sp_model_params(m, &pc);
        double w = pc.attn_per_layer / t;
        if (moe_layer) {
            double routed = m->n_experts * pc.expert;
            w += routed / (p->ep * (double)sp_plan_etp(p)) + (pc.moe_per_layer - routed - h * m->n_experts) / t;
        } else
            w += pc.mlp_dense_per_layer / t;
        double qs = 3.0 + 4.0 / 128;
        mem_f += sp_mem_time(a, q_in * qs + w * 4.0) + 5 * ovh;
        mem_b += sp_mem_time(a, q_out * qs + q_in * 2.0) + 8 * ovh;
    }
    c->fwd_compute = fwd + attn_f;
    c->bwd_compute = bwd + attn_b;
    c->fwd_mem = mem_f + attn_mem_f;
    c->bwd_mem = mem_b + attn_mem_b;
    /* TP communication: 2 forward + 2 backward all-reduce-equivalents of T·h values */
    if (p->tp > 1) {
        double bytes = T * h * B;
        double one = p->seq_parallel ? coll_t(memo, s, SP_COLL_ALLGATHER, p->tp, 1, bytes) +
                                           coll_t(memo, s, SP_COLL_REDUCESCATTER, p->tp, 1, bytes)
                                     : coll_t(memo, s, SP_COLL_ALLREDUCE, p->tp, 1, bytes);
        c->tp_fwd = (1 + mlp_tp_ops) * one;
        c->tp_bwd = (1 + mlp_tp_ops) * one;
    }
    if (etp_comm > 0) {
        c->tp_fwd += etp_comm;
        c->tp_bwd += etp_comm;
    }
    if (p->tp > 1 || etp_comm > 0) {
        if (s->overlap_tp) { /* overlapped with the GEMMs they feed; what does not hide stays exposed */
            c->tp_fwd = sp_pos(c->tp_fwd - 0.7 * fwd);
            c->tp_bwd = sp_pos(c->tp_bwd - 0.7 * bwd);
        }
    }
    /* CP ring exchange of K and V (forward), K, V, dK, dV (backward), overlapped with attention */
    if (p->cp > 1) {
        double kv_bytes = 2 * b * sq * (m->kv_lora_rank > 0 ? m->kv_lora_rank + m->qk_rope_head_dim : kvd / t) * B;
        double step = coll_t(memo, s, SP_COLL_P2P, 2, p->tp, kv_bytes);
        double ring = (p->cp - 1) * step;
        c->cp_fwd = sp_pos(ring - attn_f);
        c->cp_bwd = sp_pos(2 * ring - attn_b);
    }
}

static const char *dominant(const sp_time_breakdown *t)
{
    const char *best = "compute";
    double bv = 0;
#define CONSIDER(field, name)                                                                                  \
    if (t->field > bv) {                                                                                       \
        bv = t->field;                                                                                         \
        best = name;                                                                                           \
    }
    CONSIDER(tp_comm, "tensor-parallel communication")
    CONSIDER(pp_comm, "pipeline communication")
    CONSIDER(dp_comm, "data-parallel communication")
    CONSIDER(bubble, "pipeline bubble")
    CONSIDER(memory_bound, "memory-bound kernels")
    CONSIDER(ep_comm, "expert all-to-all")
    CONSIDER(cp_comm, "context-parallel exchange")
    CONSIDER(optimizer, "optimizer step")
    CONSIDER(imbalance, "embedding/LM-head stage imbalance")
#undef CONSIDER
    return best;
}

/* One layer mixed over the model's dense and MoE layers, and its forward + backward under each recompute mode:
 * full recompute reruns the forward (and its TP communication) in the backward; selective recompute reruns the
 * attention core unless flash attention already does. */
static void mix_fill(const sp_model *m, sp_step_cache *c)
{
    int moe = sp_model_is_moe(m);
    double L = m->n_layers;
    double moe_frac = moe ? (L - m->first_dense_layers) / L : 0;
    const layer_cost *dense = &c->dense, *sparse = &c->sparse;
    sp_layer_mix *x = &c->mix;
#define MIX(field) ((1 - moe_frac) * dense->field + moe_frac * (moe ? sparse->field : 0))
    x->f_c = MIX(fwd_compute), x->f_m = MIX(fwd_mem), x->b_c = MIX(bwd_compute), x->b_m = MIX(bwd_mem);
    x->tp_f = MIX(tp_fwd), x->tp_b = MIX(tp_bwd), x->attn = MIX(attn_fwd);
    x->cp_f = MIX(cp_fwd), x->cp_b = MIX(cp_bwd), x->ep_f = MIX(ep_fwd), x->ep_b = MIX(ep_bwd);
#undef MIX
    x->cp = x->cp_f + x->cp_b;
    x->ep = x->ep_f + x->ep_b;
    for (int rc = 0; rc < 3; rc++) {
        double rec = 0, rec_tp = 0;
        if (rc == SP_RECOMPUTE_FULL) {
            rec = x->f_c + x->f_m;
            rec_tp = x->tp_f;
        } else if (rc == SP_RECOMPUTE_SELECTIVE && !c->flash)
            rec = x->attn;
        double compute = x->f_c + x->b_c + (rc == SP_RECOMPUTE_FULL ? x->f_c : 0);
        double mem = x->f_m + x->b_m + (rc == SP_RECOMPUTE_FULL ? x->f_m : 0);
        if (rc == SP_RECOMPUTE_SELECTIVE && !c->flash)
            compute += x->attn; /* counted as compute */
        double tp = x->tp_f + x->tp_b + rec_tp;
        x->rec[rc] = rec;
        x->rec_tp[rc] = rec_tp;
        x->compute[rc] = compute;
        x->mem[rc] = mem;
        x->tp[rc] = tp;
        x->total[rc] = compute + mem + tp + x->cp + x->ep;
    }
}

void sp_step_layers(const sp_model *m, const sp_system *s, const sp_plan *p, sp_gemm_memo *memo, const sp_mem_pre *mp,
                    sp_step_cache *c)
{
    const sp_accel *a = &s->acc;
    int flash = p->flash_attention >= 0 ? p->flash_attention : s->flash_attention;
    int moe = sp_model_is_moe(m);
    double t = p->tp;
    double T = (double)p->micro_batch * p->seq_len / p->cp;
    double B = 2.0;
    c->flash = flash;
    layer_costs(m, s, p, flash, 0, memo, &c->dense);
    if (moe)
        layer_costs(m, s, p, flash, 1, memo, &c->sparse);
    else
        memset(&c->sparse, 0, sizeof c->sparse);
    /* embedding (first stage) and LM head + loss (last stage), one micro-batch */
    double V = m->vocab, h = m->d_model;
    double head_b = 0;
    sp_dtype d16 = p->dtype == SP_FP8 ? SP_BF16 : p->dtype; /* LM head stays in 16 bits (DeepSeek-V3 §3.3.1) */
    double head_f = gemm_fbw(memo, a, d16, T, V / t, h, !p->frozen_base, &head_b);
    double loss_mem = sp_mem_time(a, T * V / t * (2 * B + 3 * 4.0)); /* logits cast, fp32 softmax, grad */
    double head = head_f + head_b + loss_mem;
    double emb = sp_mem_time(a, T * h * B * 3) + 3 * a->eff.kernel_overhead_s;
    if (t > 1) { /* vocab-parallel embedding and cross-entropy reduce over TP */
        double bytes = T * h * B;
        emb += 2 * coll_t(memo, s, SP_COLL_ALLREDUCE, p->tp, 1, bytes);
        head += coll_t(memo, s, SP_COLL_ALLREDUCE, p->tp, 1, T * 3 * 4.0);
    }
    c->head = head;
    c->emb = emb;
    if (mp)
        c->mp = *mp;
    else
        sp_mem_pre_fill(m, s, p, NULL, &c->mp);
    /* FLOPs: the model's 6N-style count, and what recompute adds (the same for every shape of a search) */
    if (memo && memo->have_flops) {
        c->model_flops = memo->model_flops;
        c->extra_full = memo->extra_full;
        c->extra_selective = memo->extra_selective;
    } else {
        double L = m->n_layers;
        double tokens = (double)p->global_batch * p->seq_len;
        c->model_flops = sp_model_train_flops(m, p->seq_len, tokens);
        double fwd_tok = sp_model_fwd_flops_per_token(m, p->seq_len);
        if (p->frozen_base) {
            /* frozen weights need input gradients but no weight gradients: forward 2M + data-gradient 2M for the
             * matmuls, 3x the attention core, and 6 FLOPs per adapter parameter */
            double attn = L * 2.0 * p->seq_len * m->n_heads * 2.0 * m->d_head;
            double mm = fwd_tok - attn;
            c->model_flops = tokens * (2 * mm + 3 * attn + 6 * L * sp_lora_params_per_layer(m, p->lora_rank, p->lora_targets));
        }
        c->extra_full = tokens * (fwd_tok - 2.0 * V * h);
        c->extra_selective = tokens * L * 2.0 * p->seq_len * m->n_heads * (2.0 * m->d_head);
        if (memo) {
            memo->have_flops = 1;
            memo->model_flops = c->model_flops;
            memo->extra_full = c->extra_full;
            memo->extra_selective = c->extra_selective;
        }
    }
    c->peak = sp_accel_peak(&s->acc, p->dtype);
    c->pp_gather = p->seq_parallel || p->tp == 1 ? 0 : coll_t(memo, s, SP_COLL_ALLGATHER, p->tp, 1, T * h * B);
    mix_fill(m, c);
}

sp_status sp_train_eval(const sp_model *m, const sp_system *s, const sp_plan *p, sp_train_result *r,
                        sp_error *err)
{
    sp_step_cache c;
    sp_step_layers(m, s, p, NULL, NULL, &c);
    return sp_step_assemble(m, s, p, &c, r, err);
}

sp_status sp_step_assemble(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_step_cache *c,
                           sp_train_result *r, sp_error *err)
{
    sp_step_outer o;
    sp_step_outer_stage(m, p, c, &o);
    sp_step_outer_fill(m, s, p, c, &o);
    return sp_step_assemble_outer(m, s, p, c, &o, NULL, r, err);
}

void sp_step_outer_stage(const sp_model *m, const sp_plan *p, const sp_step_cache *c, sp_step_outer *o)
{
    sp_stage_fill(m, p, &c->mp, &o->st);
}

void sp_step_outer_dp(const sp_model *m, const sp_system *s, const sp_plan *p, sp_step_outer *o)
{
    double t = p->tp;
    double lps = sp_stage_layers(m->n_layers, p->pp);
    /* data parallelism / ZeRO */
    double dense_p = o->st.dense, expert_p = o->st.expert;
    if (p->frozen_base) { /* only the adapters are reduced and updated */
        dense_p = lps * sp_lora_params_per_layer(m, p->lora_rank, p->lora_targets) / t;
        expert_p = 0;
    }
    /* dense grads reduce over CP x EP x DP (contiguous above TP): CP ranks hold the same weights and see different
     * tokens, so they join the reduction and the ZeRO sharding (Megatron-Core's data-parallel group with CP) */
    int dstride = p->tp;
    int dpd = p->dp * p->ep * p->cp;
    int edp = o->st.edp, estride = o->st.estride; /* expert grads over the expert data-parallel group (plan.c) */
    if (expert_p <= 0) { /* no experts held: keep the (empty) expert collectives on the dense group's shape */
        edp = p->dp;
        estride = p->tp * p->cp * p->ep;
    }
    o->red_dense = dense_p;
    o->red_expert = expert_p;
    o->red_edp = edp;
    o->red_estride = estride;
    double gB = 2.0; /* gradients reduced in 16-bit */
    o->ar0 = sp_collective_time(s, SP_COLL_ALLREDUCE, dpd, dstride, dense_p * gB) +
             sp_collective_time(s, SP_COLL_ALLREDUCE, edp, estride, expert_p * gB);
    double ag_d = sp_collective_time(s, SP_COLL_ALLGATHER, dpd, dstride, dense_p * 2.0);
    double ag_e = sp_collective_time(s, SP_COLL_ALLGATHER, edp, estride, expert_p * 2.0);
    double rs_d = sp_collective_time(s, SP_COLL_REDUCESCATTER, dpd, dstride, dense_p * gB);
    double rs_e = sp_collective_time(s, SP_COLL_REDUCESCATTER, edp, estride, expert_p * gB);
    o->ag3 = ag_d + ag_e;
    o->rs3 = rs_d + rs_e;
    o->rsag = rs_d + ag_d + rs_e + ag_e; /* ZeRO-1/2: the same collectives as ZeRO-3's pair, once per step */
    o->overlap = p->dp_overlap >= 0 ? p->dp_overlap : s->overlap_dp;
    /* optimizer: memory-bound Adam over the local shard: fp32 master, m, v read+write, grad read (4 B), 16-bit
     * weight write: 30 bytes per parameter */
    const sp_accel *a = &s->acc;
    for (int z = 0; z < 2; z++) {
        double local = z >= 1 ? dense_p / dpd + expert_p / edp : dense_p + expert_p;
        o->opt[z] = sp_mem_time(a, 30.0 * local) + 10 * a->eff.kernel_overhead_s;
    }
}

void sp_step_outer_sched(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_step_cache *c,
                         sp_step_outer *o)
{
    double L = m->n_layers, t = p->tp, h = m->d_model;
    double lps = sp_stage_layers(m->n_layers, p->pp);
    /* pipeline point-to-point: Megatron's scatter/gather optimisation (Narayanan et al. 2021 §4.1): each TP rank
     * sends 1/t of the activation over its own link, then the stage all-gathers it over the scale-up tier */
    o->p2p = 0;
    if (p->pp > 1) {
        double T = (double)p->micro_batch * p->seq_len / p->cp;
        int stride = p->tp * p->cp * p->ep * p->dp;
        o->p2p = sp_collective_time(s, SP_COLL_P2P, 2, stride, T * h * 2.0 / t);
    }
    o->model_flops = c->model_flops;
    o->extra_full = c->extra_full;
    o->extra_selective = c->extra_selective;
    o->peak = c->peak;

    /* the schedule: 1F1B over the heaviest stage's slots (first stage: embedding, last: LM head) */
    const sp_layer_mix *x = &c->mix;
    double pp = p->pp;
    double replicas = (double)p->dp * p->ep;
    o->pp = p->pp;
    o->n_micro = (int)(p->global_batch / (replicas * p->micro_batch));
    o->lps = lps;
    o->lps_div = lps > 1 ? lps : 1;
    o->ppg = p->pp > 1 ? o->p2p + c->pp_gather : 0;
    double head = c->head, emb = c->emb;
    for (int rc = 0; rc < 3; rc++) {
        double stage_layers = lps * x->total[rc];
        double first = stage_layers + emb, last = stage_layers + head;
        if (p->pp == 1)
            first = last = stage_layers + emb + head;
        o->stage_layers[rc] = stage_layers;
        o->slot_max[rc] = first > last ? first : last;
        o->slot_avg[rc] = (L * x->total[rc] + emb + head) / pp;
        double stage_bwd = lps * (x->b_c + x->b_m + x->tp_b + x->rec[rc] + x->rec_tp[rc]);
        o->stage_bwd[rc] = stage_bwd;
        /* ZeRO-3: the prefetched gathers stream during each phase's whole wall time, exposed CP/EP exchanges
         * included (so a faster GPU that exposes more of them never lengthens the step); the first gather
         * cannot hide */
        double f_phase = lps * (x->f_c + x->f_m + x->tp_f + x->cp_f + x->ep_f);
        double b_phase = stage_bwd + lps * (x->cp_b + x->ep_b);
        double ag = o->ag3, rs = o->rs3;
        double per_mb = sp_pos(ag - f_phase) + sp_pos(ag + rs - b_phase);
        o->dp3[rc] = o->n_micro * per_mb + ag / lps;
    }
}

void sp_step_outer_fill(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_step_cache *c,
                        sp_step_outer *o)
{
    sp_step_outer_dp(m, s, p, o);
    sp_step_outer_sched(m, s, p, c, o);
}

sp_status sp_step_assemble_outer(const sp_model *m, const sp_system *s, const sp_plan *p, const sp_step_cache *c,
                                 const sp_step_outer *o, const sp_memory *mem, sp_train_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    int n_micro = o->n_micro;
    if (n_micro < 1)
        return sp_fail(err, SP_EINVAL, "plan: fewer sequences than data-parallel replicas x micro-batch");
    int rc = (int)p->recompute;
    sp_step_parts q;
    double step = sp_step_time(o, p->vpp, p->zero, rc, &q);
    /* breakdown (critical path, one stage's view) */
    const sp_layer_mix *x = &c->mix;
    double nm = n_micro, lps = o->lps;
    r->t.compute = nm * lps * x->compute[rc];
    r->t.memory_bound = nm * lps * x->mem[rc];
    r->t.recompute = nm * lps * x->rec[rc];
    r->t.tp_comm = nm * lps * x->tp[rc];
    r->t.cp_comm = nm * lps * x->cp;
    r->t.ep_comm = nm * lps * x->ep;
    r->t.pp_comm = nm * q.pp_comm_slot;
    r->t.imbalance = nm * (o->slot_max[rc] - o->stage_layers[rc]);
    r->t.bubble = q.bubble;
    r->t.dp_comm = q.dp;
    r->t.optimizer = q.opt;

    double tokens = (double)p->global_batch * p->seq_len;
    r->step_time_s = step;
    r->tokens_per_step = tokens;
    r->tokens_per_s = tokens / step;
    r->model_flops = o->model_flops;
    double extra = p->recompute == SP_RECOMPUTE_FULL ? o->extra_full
                 : p->recompute == SP_RECOMPUTE_SELECTIVE ? o->extra_selective : 0;
    r->hardware_flops = r->model_flops + extra;
    r->peak_flops = o->peak;
    r->mfu = r->model_flops / (step * p->n_gpus * r->peak_flops);
    r->hfu = r->hardware_flops / (step * p->n_gpus * r->peak_flops);
    r->tflops_per_gpu = r->model_flops / (step * p->n_gpus) / 1e12;
    r->n_micro = n_micro;
    if (mem)
        r->mem = *mem;
    else
        sp_train_memory_stage(m, s, p, &c->mp, &o->st, &r->mem);
    r->fits = r->mem.total <= r->mem.capacity;
    r->overflow_bytes = r->fits ? 0 : r->mem.total - r->mem.capacity;
    r->bottleneck = dominant(&r->t);
    if (!isfinite(step) || step <= 0)
        return sp_fail(err, SP_EINVAL, "internal: step time is not finite for this plan");
    return SP_OK;
}
