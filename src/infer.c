/* Serving (DESIGN.md §3.10): memory, prefill (time to first token), decode (time per output token), throughput.
 *
 * Prefill: the layers' GEMMs at m = batch·prompt tokens through the GEMM efficiency model, causal attention
 * (half of 4·s·a·d_head FLOPs per token per layer) at the family's attention efficiency, and per layer two TP
 * all-reduces of the activations. Decode step: time = max(bytes / (HBM bandwidth · eff_mem),
 * FLOPs / (peak · gemm_max)) + TP all-reduces + kernel overheads, where bytes = the weights the batch touches
 * (MoE: expected distinct experts) + the KV cache read at the current context; the mean step is taken at the mean
 * context, prompt + output/2. Weights and KV are stored in their own precisions (fp8, int8, int4); compute runs
 * at the fp8 peak for fp8 weights and otherwise at the 16-bit peak (weight-only quantization dequantizes).
 */
#include "scaleplan.h"

#include <math.h>
#include <string.h>

/* Framework overhead per GPU: CUDA context, cuBLAS workspaces and engine buffers (order of magnitude of
 * TensorRT-LLM / vLLM reports); the KV pool gets the rest of mem_frac x HBM. */
#define SP_INFER_OVERHEAD (2.0 * 1073741824.0)

void sp_infer_defaults(sp_infer_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_gpus = 1;
    o->tp = 1;
    o->ep = 1;
    o->batch = 1;
    o->prompt = 2048;
    o->output = 256;
    o->weights = SP_BF16;
    o->kv = SP_BF16;
    o->mem_frac = 0.9;
}

double sp_kv_bytes_per_token(const sp_model *m, sp_dtype kv)
{
    double b = sp_dtype_bytes(kv);
    if (m->kv_lora_rank > 0)
        return (double)(m->kv_lora_rank + m->qk_rope_head_dim) * m->n_layers * b;
    return 2.0 * m->n_layers * sp_model_kvdim(m) * b;
}

double sp_expected_experts(double E, double k, double T)
{
    if (E <= 1)
        return 1;
    return E * (1 - pow(1 - k / E, T));
}

static sp_dtype compute_dtype(sp_dtype w)
{
    return w == SP_FP8 || w == SP_FP4 ? w : SP_BF16;
}

/* Linear layers of one transformer layer for m tokens on one GPU (TP t): returns time, adds FLOPs. */
static double layer_gemms(const sp_model *m, const sp_accel *a, sp_dtype d, double tok, double t, double *flops)
{
    double h = m->d_model, qd = sp_model_attn_qdim(m), kvd = sp_model_kvdim(m);
    double f = sp_model_is_moe(m) ? (double)m->moe_ffn_dim * (m->top_k + m->n_shared_experts) : m->ffn_dim;
    double shapes[4][2] = {{(qd + 2 * kvd) / t, h}, {h, qd / t}, {(m->gated ? 2.0 : 1.0) * f / t, h}, {h, f / t}};
    double time = 0;
    for (int i = 0; i < 4; i++) {
        time += sp_gemm_time(a, d, tok, shapes[i][0], shapes[i][1], 1);
        *flops += 2 * tok * shapes[i][0] * shapes[i][1];
    }
    return time;
}

sp_status sp_infer_eval(const sp_model *m, const sp_system *s, const sp_infer_opts *o, sp_infer_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    const sp_accel *a = &s->acc;
    if (o->tp < 1 || o->n_gpus < 1 || o->ep < 1 || o->n_gpus % (o->tp * o->ep))
        return sp_fail(err, SP_EINVAL, "infer: --gpus %d must be a multiple of tp*ep = %d*%d", o->n_gpus, o->tp, o->ep);
    if (m->n_heads % o->tp || (m->n_kv_heads % o->tp && o->tp % m->n_kv_heads))
        return sp_fail(err, SP_EINVAL, "infer: tp = %d does not divide the %d attention heads", o->tp, m->n_heads);
    if (o->prompt < 1 || o->output < 0 || o->batch < 0)
        return sp_fail(err, SP_EINVAL, "infer: prompt must be >= 1 token, output >= 0, batch >= 0");
    if (o->ep > 1 && (!sp_model_is_moe(m) || m->n_experts % o->ep))
        return sp_fail(err, SP_EINVAL, "infer: ep = %d needs a MoE model whose expert count it divides", o->ep);
    if (!(o->mem_frac > 0 && o->mem_frac <= 1))
        return sp_fail(err, SP_EINVAL, "infer: usable memory fraction must be in (0, 1]");
    sp_dtype cd = compute_dtype(o->weights);
    double t = o->tp, replicas = (double)o->n_gpus / (o->tp * o->ep);
    sp_param_count pc;
    sp_model_params(m, &pc);
    double wb = sp_dtype_bytes(o->weights);
    double expert_total = sp_model_is_moe(m) ? (m->n_layers - m->first_dense_layers) * m->n_experts * pc.expert : 0;
    r->weights_bytes = wb * ((pc.total - expert_total) / t + expert_total / (t * o->ep));
    r->kv_bytes_per_token = sp_kv_bytes_per_token(m, o->kv);
    double ctx = (double)o->prompt + o->output;
    /* KV heads are split by TP (replicated when tp > kv heads); MLA's latent is replicated over TP */
    double kv_split = m->kv_lora_rank > 0 ? 1 : (o->tp <= m->n_kv_heads ? t : m->n_kv_heads);
    double kv_per_seq = r->kv_bytes_per_token * ctx / kv_split;
    double act_per_seq = (double)o->prompt * (m->d_model + (double)m->ffn_dim / t) * 2 * 2; /* prefill working set */
    r->overhead_bytes = SP_INFER_OVERHEAD;
    r->capacity = a->hbm_bytes;
    double free_b = o->mem_frac * a->hbm_bytes - r->weights_bytes - r->overhead_bytes;
    r->max_batch = free_b > 0 ? (int)fmin(1e6, floor(free_b / (kv_per_seq + act_per_seq / 4))) : 0;
    int B = o->batch > 0 ? o->batch : r->max_batch;
    if (B < 1)
        B = 1;
    r->batch = B;
    double Bg = B / replicas; /* sequences per model replica */
    if (Bg < 1)
        Bg = 1;
    r->kv_bytes = kv_per_seq * Bg;
    r->activation_bytes = act_per_seq * fmin(Bg, 4);
    r->total_bytes = r->weights_bytes + r->kv_bytes + r->activation_bytes + r->overhead_bytes;
    r->fits = r->total_bytes <= o->mem_frac * a->hbm_bytes;
    double L = m->n_layers, h = m->d_model;
    double ovh = a->eff.kernel_overhead_s;
    /* ---- prefill ---- */
    double tok = Bg * o->prompt, pf = 0;
    double t_lin = L * layer_gemms(m, a, cd, tok, t, &pf);
    double heads = (double)m->n_heads / t;
    double attn_flops = L * 0.5 * 4.0 * Bg * o->prompt * (double)o->prompt * heads * m->d_head;
    double t_attn = attn_flops / (sp_accel_peak(a, SP_BF16) * a->eff.gemm_max * a->eff.attn);
    double head_flops = 0;
    double t_head = sp_gemm_time(a, cd, Bg, (double)m->vocab / t, h, 1); /* logits of the last token only */
    head_flops = 2 * Bg * h * m->vocab / t;
    double t_tp_pf = o->tp > 1 ? 2 * L * sp_collective_time(s, SP_COLL_ALLREDUCE, o->tp, 1, tok * h * 2) : 0;
    double t_mem_pf = L * sp_mem_time(a, tok * h * 2 * 12 / (o->tp > 1 ? 1 : 1)) + L * 10 * ovh;
    r->prefill_flops = pf + attn_flops + head_flops;
    r->ttft_s = t_lin + t_attn + t_head + t_tp_pf + t_mem_pf;
    r->prefill_bound = t_tp_pf > 0.3 * r->ttft_s ? "communication" : "compute";
    /* ---- decode (mean step) ---- */
    double cmean = o->prompt + o->output / 2.0;
    double dense_w = (pc.total - expert_total - pc.embedding) * wb / t; /* the embedding table is gathered, not read */
    double moe_layers = sp_model_is_moe(m) ? L - m->first_dense_layers : 0;
    r->experts_read = sp_model_is_moe(m) ? sp_expected_experts(m->n_experts, m->top_k, Bg * (o->ep > 1 ? o->ep : 1)) / o->ep : 0;
    double expert_w = moe_layers * fmin(r->experts_read, (double)m->n_experts / o->ep) * pc.expert * wb / t;
    double kv_read = r->kv_bytes_per_token * cmean * Bg / kv_split;
    double bytes = dense_w + expert_w + kv_read;
    r->decode_bytes_per_step = bytes;
    double dflops = 2 * (pc.active - pc.embedding) / t * Bg + L * 4.0 * cmean * heads * m->d_head * Bg;
    double t_mem = bytes / (a->hbm_bw * a->eff.mem);
    double t_cmp = dflops / (sp_accel_peak(a, cd) * a->eff.gemm_max);
    double t_tp = o->tp > 1 ? 2 * L * sp_collective_time(s, SP_COLL_ALLREDUCE, o->tp, 1, Bg * h * 2) : 0;
    double t_ep = o->ep > 1 ? 2 * moe_layers * sp_collective_time(s, SP_COLL_ALLTOALL, o->ep, o->tp, Bg * m->top_k * h * 2) : 0;
    double t_ovh = L * 8 * ovh; /* kernels per layer per step (CUDA graphs remove launch gaps, not kernel tails) */
    r->tpot_s = fmax(t_mem, t_cmp) + t_tp + t_ep + t_ovh;
    r->decode_bound = (t_tp + t_ep) > fmax(t_mem, t_cmp) ? "communication" : t_mem >= t_cmp ? "memory (HBM)" : "compute";
    r->e2e_s = r->ttft_s + o->output * r->tpot_s;
    double gen = (double)B * o->output;
    r->tokens_per_s = o->output > 0 ? gen / r->e2e_s : 0;
    r->tokens_per_s_per_gpu = r->tokens_per_s / o->n_gpus;
    r->tokens_per_s_per_user = r->tpot_s > 0 ? 1 / r->tpot_s : 0;
    if (!isfinite(r->ttft_s) || !isfinite(r->tpot_s))
        return sp_fail(err, SP_EINVAL, "infer: internal error: non-finite latency");
    return SP_OK;
}
