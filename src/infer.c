/* Serving (DESIGN.md §3.10): memory, prefill (time to first token), decode (time per output token), throughput.
 *
 * One function prices an engine step: `n_dec` sequences each decoding one token at mean context `ctx_dec`, plus
 * `n_pf` prompt tokens being prefilled (mean causal span `pf_span`). Static batching (TensorRT-LLM's
 * gptSessionBenchmark, FasterTransformer) is a prefill step of batch x prompt tokens followed by output - 1 decode
 * steps; continuous (in-flight) batching with chunked prefill (vLLM, TensorRT-LLM executor, NIM) is a steady state
 * in which every step decodes `batch` sequences and prefills batch x prompt / output prompt tokens, so prompt work
 * is paid inside the inter-token latency.
 *
 * Every linear layer is a GEMM of m tokens: time = max(FLOPs / (peak x GEMM efficiency), bytes / (HBM bandwidth x
 * eff_mem)) + kernel tail, where bytes = weights at their storage precision + activations. Small m (decode at small
 * batch) is weight-read bound, large m (prefill, large decode batches) compute bound: one formula covers both.
 * The GEMM efficiency is the accelerator's training model (sp_gemm_eff, docs/model.md) times the family's serving
 * factor for 8/4-bit compute (data/serving.json). Attention: decode reads the KV cache (memory-bound, family factor
 * kv_mem), prefill runs flash attention at the family's attention efficiency. Norms, activations, residuals and
 * rotary are memory-bound. TP: two all-reduces of the step's activations per layer. MoE: the experts a step
 * touches (expected distinct experts for its tokens, uniform or a given routing distribution) are read and run as a
 * grouped GEMM; with expert parallelism attention is data-parallel over the EP ranks and each MoE layer pays a
 * dispatch and a combine all-to-all.
 */
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Framework overhead per GPU: CUDA context, cuBLAS/NCCL workspaces and engine buffers, ~2 GiB in TensorRT-LLM and
 * vLLM memory reports (order of magnitude). The KV pool gets the rest of mem_frac x HBM. */
#define SP_INFER_OVERHEAD (2.0 * 1073741824.0)
/* Largest prefill chunk held in activation memory at once: TensorRT-LLM's default max_num_tokens is 8192
 * (trtllm-build docs); vLLM's chunked prefill uses 2048-8192 batched tokens. */
#define SP_PREFILL_CHUNK 8192.0

void sp_serving_eff_neutral(sp_serving_eff *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->family, sizeof e->family, "uncalibrated");
    e->lowp_gemm = 1;
    e->kv_mem = 1;
    e->step_overhead_s = 0;
}

sp_status sp_serving_eff_load(const char *data_dir, const char *accel_name, sp_serving_eff *e, sp_error *err)
{
    sp_serving_eff_neutral(e);
    char path[1400];
    snprintf(path, sizeof path, "%s/serving.json", data_dir);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return SP_OK; /* no calibration shipped: neutral factors */
    sp_status rc = SP_OK;
    json_t *fams = json_object_get(root, "families");
    if (!json_is_array(fams)) {
        rc = sp_fail(err, SP_EPARSE, "%s: field 'families' must be an array", path);
        goto done;
    }
    size_t i;
    json_t *f;
    json_array_foreach(fams, i, f)
    {
        json_t *acc = json_object_get(f, "accelerators");
        size_t j;
        json_t *nm;
        int hit = 0;
        json_array_foreach(acc, j, nm) if (json_is_string(nm) && strcmp(json_string_value(nm), accel_name) == 0) hit = 1;
        if (!hit)
            continue;
        const char *fn = json_string_value(json_object_get(f, "family"));
        snprintf(e->family, sizeof e->family, "%s", fn ? fn : "?");
        static const char *keys[] = {"lowp_gemm", "kv_mem", "step_overhead_s"};
        double *dst[] = {&e->lowp_gemm, &e->kv_mem, &e->step_overhead_s};
        double lo[] = {0.05, 0.05, 0}, hi[] = {1, 1, 1};
        for (int k = 0; k < 3; k++) {
            json_t *v = json_object_get(f, keys[k]);
            if (!v)
                continue;
            if (!json_is_number(v) || !(json_number_value(v) >= lo[k] && json_number_value(v) <= hi[k])) {
                rc = sp_fail(err, SP_EINVAL, "%s: family '%s' field '%s' must be a number in %g..%g", path, e->family,
                             keys[k], lo[k], hi[k]);
                goto done;
            }
            *dst[k] = json_number_value(v);
        }
        break;
    }
done:
    json_decref(root);
    return rc;
}

void sp_infer_defaults(sp_infer_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_gpus = 1;
    o->tp = 1;
    o->pp = 1;
    o->ep = 1;
    o->batch = 1;
    o->prompt = 2048;
    o->output = 256;
    o->weights = SP_BF16;
    o->kv = SP_BF16;
    o->mem_frac = 0.9;
    sp_serving_eff_neutral(&o->eff);
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
    if (T <= 0)
        return 0;
    return E * (1 - pow(1 - k / E, T));
}

double sp_expected_experts_dist(const double *p, int E, double k, double T)
{
    if (T <= 0)
        return 0;
    double s = 0;
    for (int i = 0; i < E; i++) {
        double q = fmin(1, fmax(0, k * p[i]));
        s += 1 - pow(1 - q, T);
    }
    return s;
}

/* ---- one engine step ---- */

typedef struct {
    const sp_model *m;
    const sp_system *s;
    const sp_infer_opts *o;
    const sp_accel *a;
    sp_param_count pc;
    double t, ep;        /* TP and EP degrees */
    sp_dtype cd;         /* GEMM compute dtype */
    double wb, ab;       /* bytes per weight, per activation element in GEMMs */
    double peak;         /* FLOP/s of cd */
    double lowp;         /* family factor when cd is 8/4-bit */
    double kv_split;     /* KV cache sharding over TP */
    int moe_layers, dense_layers;
} ictx;

typedef struct {
    double comp, mem, comm; /* critical-path seconds by nature, for the bound */
    double flops;
} acc_t;

static void add_linear(const ictx *c, double m, double n, double k, double copies, sp_infer_step *st, acc_t *x)
{
    if (m <= 0 || n <= 0 || k <= 0 || copies <= 0)
        return;
    double eff = sp_gemm_eff(c->a, m, n, k, copies) * c->lowp;
    double fl = 2 * m * n * k * copies;
    double tc = fl / (c->peak * eff);
    double bytes = copies * (n * k * c->wb + (m * k + m * n) * c->ab);
    double tm = bytes / (c->a->hbm_bw * c->a->eff.mem);
    if (tc >= tm) {
        st->gemm_compute += tc;
        x->comp += tc;
    } else {
        st->weight_read += tm;
        x->mem += tm;
    }
    st->overhead += c->a->eff.kernel_overhead_s;
    x->flops += fl;
}

/* Per GPU of one replica. n_dec, n_pf and n_logits count the whole replica (all EP ranks). */
static void engine_step(const ictx *c, double n_dec, double ctx_dec, double n_pf, double pf_span, double n_logits,
                        sp_infer_step *st, acc_t *x)
{
    memset(st, 0, sizeof *st);
    memset(x, 0, sizeof *x);
    const sp_model *m = c->m;
    const sp_accel *a = c->a;
    double h = m->d_model, t = c->t, ep = c->ep, L = m->n_layers;
    double tok = (n_dec + n_pf) / ep; /* tokens through attention and dense layers on one EP rank */
    if (tok <= 0)
        return;
    /* attention projections */
    sp_infer_step one;
    acc_t xa;
    memset(&one, 0, sizeof one);
    memset(&xa, 0, sizeof xa);
    double dqk, dv, heads = (double)m->n_heads / t;
    if (m->kv_lora_rank > 0) {
        /* MLA: decode attends over the compressed latent (weights absorbed): scores over kv_lora + rope, values
         * over kv_lora (DeepSeek-V2 report §2.1, inference form) */
        double w_out = (double)m->n_heads * m->v_head_dim * h;
        double w_in = c->pc.attn_per_layer - w_out;
        add_linear(c, tok, w_in / (t * h), h, 1, &one, &xa);
        add_linear(c, tok, h, w_out / (t * h), 1, &one, &xa);
        dqk = m->kv_lora_rank + m->qk_rope_head_dim;
        dv = m->kv_lora_rank;
    } else {
        double qd = sp_model_attn_qdim(m), kvd = sp_model_kvdim(m);
        add_linear(c, tok, (qd + 2 * kvd) / t, h, 1, &one, &xa);
        add_linear(c, tok, h, qd / t, 1, &one, &xa);
        dqk = dv = m->d_head;
    }
    double mats = m->gated ? 2.0 : 1.0;
    /* attention core */
    double peak16 = sp_accel_peak(a, SP_BF16) * a->eff.gemm_max * a->eff.attn;
    double kv_layer = c->o->kv == SP_FP32 ? 4 : sp_dtype_bytes(c->o->kv);
    kv_layer *= m->kv_lora_rank > 0 ? (double)(m->kv_lora_rank + m->qk_rope_head_dim)
                                    : 2.0 * sp_model_kvdim(m);
    double kv_read = n_dec / ep * ctx_dec * kv_layer / c->kv_split;
    double dec_fl = 2.0 * n_dec / ep * ctx_dec * heads * (dqk + dv);
    double t_kv = kv_read / (a->hbm_bw * a->eff.mem * c->o->eff.kv_mem);
    double t_dec_c = dec_fl / peak16;
    double pf_fl = 2.0 * n_pf / ep * pf_span * heads * (dqk + dv);
    double t_pf = pf_fl / peak16;
    double t_att = fmax(t_kv, t_dec_c) + t_pf;
    one.attention = t_att;
    if (t_kv >= t_dec_c)
        xa.mem += t_kv;
    else
        xa.comp += t_dec_c;
    xa.comp += t_pf;
    xa.flops += dec_fl + pf_fl;
    /* norms, residual adds, rotary, activation function: ~12 h-vectors and 3 f-vectors of 16-bit per token */
    double f_local = (double)m->ffn_dim / t;
    double el = tok * 2.0 * (12 * h + 3 * f_local) / (a->hbm_bw * a->eff.mem);
    one.elementwise = el;
    xa.mem += el;
    one.overhead += 4 * a->eff.kernel_overhead_s;
    /* TP: two all-reduces of the layer's activations */
    double t_tp = t > 1 ? 2 * sp_collective_time(c->s, SP_COLL_ALLREDUCE, (int)t, 1, tok * h * 2) : 0;
    one.tp_comm = t_tp;
    xa.comm += t_tp;
    /* common part, all layers */
#define ADDL(n, w)                                                                                               \
    do {                                                                                                         \
        st->gemm_compute += (n) * (w).gemm_compute;                                                              \
        st->weight_read += (n) * (w).weight_read;                                                                \
        st->attention += (n) * (w).attention;                                                                    \
        st->elementwise += (n) * (w).elementwise;                                                                \
        st->tp_comm += (n) * (w).tp_comm;                                                                        \
        st->ep_comm += (n) * (w).ep_comm;                                                                        \
        st->overhead += (n) * (w).overhead;                                                                      \
    } while (0)
#define ADDX(n, w)                                                                                               \
    do {                                                                                                         \
        x->comp += (n) * (w).comp;                                                                               \
        x->mem += (n) * (w).mem;                                                                                 \
        x->comm += (n) * (w).comm;                                                                               \
        x->flops += (n) * (w).flops;                                                                             \
    } while (0)
    ADDL(L, one);
    ADDX(L, xa);
    /* dense MLP layers */
    if (c->dense_layers > 0) {
        sp_infer_step d;
        acc_t xd;
        memset(&d, 0, sizeof d);
        memset(&xd, 0, sizeof xd);
        add_linear(c, tok, mats * m->ffn_dim / t, h, 1, &d, &xd);
        add_linear(c, tok, h, m->ffn_dim / t, 1, &d, &xd);
        ADDL(c->dense_layers, d);
        ADDX(c->dense_layers, xd);
    }
    /* MoE layers */
    if (c->moe_layers > 0) {
        sp_infer_step e;
        acc_t xe;
        memset(&e, 0, sizeof e);
        memset(&xe, 0, sizeof xe);
        double fe = m->moe_ffn_dim, E = m->n_experts, k = m->top_k;
        double all_tok = n_dec + n_pf; /* tokens of the whole replica route into the experts */
        if (m->n_shared_experts > 0) {
            add_linear(c, tok, mats * fe * m->n_shared_experts / t, h, 1, &e, &xe);
            add_linear(c, tok, h, fe * m->n_shared_experts / t, 1, &e, &xe);
        }
        add_linear(c, tok, E, h, 1, &e, &xe); /* router */
        double touched = c->o->expert_probs ? sp_expected_experts_dist(c->o->expert_probs, m->n_experts, k, all_tok)
                                            : sp_expected_experts(E, k, all_tok);
        touched /= ep; /* per EP rank */
        if (touched > 0) {
            double m_exp = all_tok * k / ep / touched; /* tokens per touched expert */
            add_linear(c, m_exp, mats * fe / t, h, touched, &e, &xe);
            add_linear(c, m_exp, h, fe / t, touched, &e, &xe);
        }
        if (ep > 1) {
            double t_a2a = 2 * sp_collective_time(c->s, SP_COLL_ALLTOALL, (int)ep, (int)t, tok * k * h * c->ab);
            e.ep_comm = t_a2a;
            xe.comm += t_a2a;
        }
        ADDL(c->moe_layers, e);
        ADDX(c->moe_layers, xe);
    }
#undef ADDL
#undef ADDX
    /* LM head for the sequences that produce a token this step; the embedding lookup is a gather (negligible) */
    add_linear(c, n_logits / ep, (double)m->vocab / t, h, 1, st, x);
    st->overhead += c->o->eff.step_overhead_s;
    st->total = st->gemm_compute + st->weight_read + st->attention + st->elementwise + st->tp_comm + st->ep_comm +
                st->overhead;
    st->bound = x->comm > fmax(x->comp, x->mem) ? "communication" : x->mem >= x->comp ? "memory (HBM)" : "compute";
}

static sp_dtype compute_dtype(sp_dtype w)
{
    return w == SP_FP8 || w == SP_FP4 ? w : SP_BF16;
}

sp_status sp_infer_eval(const sp_model *m, const sp_system *s, const sp_infer_opts *o, sp_infer_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    sp_status mk = sp_model_step_check(m, "inference", err); /* layer kinds it cannot price (model.c) */
    if (mk)
        return mk;
    const sp_accel *a = &s->acc;
    int pp = o->pp > 0 ? o->pp : 1;
    if (o->tp < 1 || o->n_gpus < 1 || o->ep < 1 || o->n_gpus % (o->tp * o->ep * pp))
        return sp_fail(err, SP_EINVAL, "infer: --gpus %d must be a multiple of tp*ep*pp = %d*%d*%d", o->n_gpus, o->tp, o->ep, pp);
    if (pp > m->n_layers)
        return sp_fail(err, SP_EINVAL, "infer: pp = %d exceeds the number of layers (%d)", pp, m->n_layers);
    if (m->n_heads % o->tp || (m->n_kv_heads % o->tp && o->tp % m->n_kv_heads))
        return sp_fail(err, SP_EINVAL, "infer: tp = %d does not divide the %d attention heads (and %d KV heads); allowed: a divisor of %d",
                       o->tp, m->n_heads, m->n_kv_heads, m->n_heads);
    if (o->prompt < 1 || o->output < 0 || o->batch < 0)
        return sp_fail(err, SP_EINVAL, "infer: prompt must be >= 1 token, output >= 0, batch >= 0");
    if (o->ep > 1 && (!sp_model_is_moe(m) || m->n_experts % o->ep))
        return sp_fail(err, SP_EINVAL, "infer: ep = %d needs a MoE model whose expert count it divides (%s has %d experts)",
                       o->ep, m->name, m->n_experts);
    if (!(o->mem_frac > 0 && o->mem_frac <= 1))
        return sp_fail(err, SP_EINVAL, "infer: usable memory fraction must be in (0, 1]");
    if (o->weights == SP_TF32 || o->kv == SP_TF32 || o->kv == SP_INT4 || o->kv == SP_FP4)
        return sp_fail(err, SP_EINVAL, "infer: unsupported storage precision (weights: bf16, fp16, fp8, int8, int4, fp4; KV: bf16, fp16, fp8, int8, fp32)");
    if (o->expert_probs) {
        if (!sp_model_is_moe(m))
            return sp_fail(err, SP_EINVAL, "infer: a routing distribution needs a MoE model");
        double sum = 0;
        for (int i = 0; i < m->n_experts; i++) {
            if (!(o->expert_probs[i] >= 0 && isfinite(o->expert_probs[i])))
                return sp_fail(err, SP_EINVAL, "infer: routing probability %d is negative or not finite", i);
            sum += o->expert_probs[i];
        }
        if (fabs(sum - 1) > 1e-3)
            return sp_fail(err, SP_EINVAL, "infer: routing probabilities sum to %g; they must sum to 1", sum);
    }
    ictx c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.s = s;
    c.o = o;
    c.a = a;
    sp_model_params(m, &c.pc);
    c.t = o->tp;
    c.ep = o->ep;
    c.cd = compute_dtype(o->weights);
    c.wb = sp_dtype_bytes(o->weights);
    c.ab = c.cd == SP_FP8 || c.cd == SP_FP4 ? 1 : 2;
    c.peak = sp_accel_peak(a, c.cd);
    c.lowp = sp_dtype_bytes(c.cd) < 2 && a->peak[c.cd] > 0 ? o->eff.lowp_gemm : 1;
    /* KV heads are split by TP (replicated when tp > KV heads); MLA's latent is replicated over TP */
    c.kv_split = m->kv_lora_rank > 0 ? 1 : (o->tp <= m->n_kv_heads ? c.t : m->n_kv_heads);
    c.moe_layers = sp_model_is_moe(m) ? m->n_layers - m->first_dense_layers : 0;
    c.dense_layers = m->n_layers - c.moe_layers;
    r->params_total = c.pc.total;
    r->params_active = c.pc.active;

    /* ---- memory per GPU ---- */
    /* Pipeline parallelism: each stage holds L/pp layers (weights and KV cache divided by pp, the heavier end stage
     * keeps the embedding or LM head); the batch is cut into pp micro-batches that are in flight at once, so a
     * token of one micro-batch waits for all stages in turn (TPOT = the whole model's step at the micro-batch
     * size + pp - 1 hops) while all micro-batches advance together (tokens/s = batch / TPOT). */
    double replicas = (double)o->n_gpus / (o->tp * o->ep * pp);
    double expert_total = c.moe_layers * (double)m->n_experts * c.pc.expert;
    double ends = pp > 1 ? fmax(c.pc.embedding, c.pc.lm_head) : 0;
    r->weights_bytes = c.wb * ((c.pc.total - expert_total - (pp > 1 ? c.pc.embedding + c.pc.lm_head : 0)) / (c.t * pp) +
                               ends / c.t + expert_total / (c.t * c.ep * pp));
    r->kv_bytes_per_token = sp_kv_bytes_per_token(m, o->kv);
    double ctx = (double)o->prompt + o->output;
    double kv_per_seq = r->kv_bytes_per_token * ctx / c.kv_split / pp; /* on each GPU holding the sequence */
    double f_local = (double)(sp_model_is_moe(m) ? fmax(m->ffn_dim, m->moe_ffn_dim * m->top_k) : m->ffn_dim) / c.t;
    double act_per_tok = 2.0 * (4 * (double)m->d_model + 3 * f_local);
    r->overhead_bytes = SP_INFER_OVERHEAD;
    r->capacity = a->hbm_bytes;
    double usable = o->mem_frac * a->hbm_bytes;
    double act_max = act_per_tok * fmin(SP_PREFILL_CHUNK, (double)o->prompt * 1);
    double free_b = usable - r->weights_bytes - r->overhead_bytes - act_max;
    /* sequences per GPU = Bg / ep (attention data-parallel over EP ranks) */
    double mb = free_b > 0 ? floor(free_b / kv_per_seq) * c.ep * replicas : 0;
    r->max_batch = (int)fmin(1 << 24, mb);
    int B = o->batch > 0 ? o->batch : r->max_batch;
    if (B < 1)
        B = 1;
    r->batch = B;
    double Bg = B / replicas; /* sequences per replica */
    if (Bg < 1)
        Bg = 1;
    double Bfull = Bg;        /* all micro-batches of the replica */
    if (pp > 1)
        Bg = fmax(1, Bg / pp); /* one micro-batch goes through the engine step */
    r->kv_bytes = kv_per_seq * Bfull / c.ep;
    r->activation_bytes = act_per_tok * fmin(SP_PREFILL_CHUNK, Bg / c.ep * o->prompt);
    r->total_bytes = r->weights_bytes + r->kv_bytes + r->activation_bytes + r->overhead_bytes;
    r->headroom_bytes = usable - r->total_bytes;
    r->fits = r->total_bytes <= usable;

    /* ---- time ---- */
    acc_t xp, xd;
    double P = o->prompt, O = o->output;
    engine_step(&c, 0, 0, Bg * P, P / 2, Bg, &r->prefill, &xp);
    r->prefill_flops = xp.flops;
    r->prefill_bound = r->prefill.bound;
    double cmean = P + O / 2;
    if (o->inflight && O > 0) {
        /* steady state: each step decodes Bg sequences and prefills Bg*P/O prompt tokens (chunked prefill) */
        engine_step(&c, Bg, cmean, Bg * P / O, P / 2, Bg, &r->decode, &xd);
        sp_infer_step alone;
        acc_t xo;
        engine_step(&c, 0, 0, P, P / 2, 1, &alone, &xo);
        r->prefill = alone;
        r->prefill_flops = xo.flops;
        r->prefill_bound = alone.bound;
        r->ttft_s = alone.total + r->decode.total; /* waits for the running step, then its prefill */
        r->tpot_s = r->decode.total;
        r->e2e_s = r->ttft_s + (O - 1) * r->tpot_s;
        r->tokens_per_s = B / r->tpot_s;
    } else {
        engine_step(&c, Bg, cmean, 0, 0, Bg, &r->decode, &xd);
        r->ttft_s = r->prefill.total;
        r->tpot_s = r->decode.total;
        r->e2e_s = r->ttft_s + (O > 1 ? O - 1 : 0) * r->tpot_s;
        r->tokens_per_s = O > 0 ? (double)B * O / r->e2e_s : 0;
    }
    if (pp > 1) {
        double hop = sp_collective_time(s, SP_COLL_P2P, 2, o->tp * o->ep, Bg * m->d_model * 2.0);
        double hop_p = sp_collective_time(s, SP_COLL_P2P, 2, o->tp * o->ep, Bg * (double)o->prompt * m->d_model * 2.0);
        r->ttft_s += (pp - 1) * hop_p;
        r->tpot_s += (pp - 1) * hop;
        r->e2e_s = r->ttft_s + (O > 1 ? O - 1 : 0) * r->tpot_s;
        /* all pp micro-batches advance together: pp times the tokens of one micro-batch per step */
        r->tokens_per_s = o->inflight && O > 0 ? B / r->tpot_s : (O > 0 ? (double)B * O / (r->e2e_s + (pp - 1) * r->tpot_s / pp) : 0);
    }
    r->decode_bound = r->decode.bound;
    r->decode_bytes_per_step = r->kv_bytes * cmean / ctx; /* KV read per GPU at the mean context */
    {
        /* weights touched per GPU per decode step */
        double dense_w = (c.pc.total - expert_total - c.pc.embedding) * c.wb / c.t;
        double touched = 0;
        if (c.moe_layers > 0)
            touched = (o->expert_probs ? sp_expected_experts_dist(o->expert_probs, m->n_experts, m->top_k, Bg)
                                       : sp_expected_experts(m->n_experts, m->top_k, Bg)) / c.ep;
        r->experts_read = touched;
        r->decode_bytes_per_step += dense_w + c.moe_layers * touched * c.pc.expert * c.wb / c.t;
    }
    r->tokens_per_s_per_gpu = r->tokens_per_s / o->n_gpus;
    r->tokens_per_s_per_user = r->tpot_s > 0 ? 1 / r->tpot_s : 0;
    if (!isfinite(r->ttft_s) || !isfinite(r->tpot_s) || !isfinite(r->tokens_per_s))
        return sp_fail(err, SP_EINVAL, "infer: internal error: non-finite latency");
    return SP_OK;
}
