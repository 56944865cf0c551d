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
#include "ops.h"

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
    if (m->n_pattern > 0) { /* the attention layers' per-token part (sliding ones as full: an upper bound) */
        double tok, seq;
        sp_model_cache_bytes(m, 0, b, &tok, &seq);
        return tok;
    }
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

/* Adds the priced ops of one layer kind, n layers of it, to the step's breakdown and the bound's accumulators. */
static void add_ops(const ictx *c, const sp_layer_ops *l, double n, sp_infer_step *st, acc_t *x)
{
    sp_infer_step one;
    acc_t xo;
    memset(&one, 0, sizeof one);
    memset(&xo, 0, sizeof xo);
    for (int i = 0; i < l->n; i++) {
        const sp_op *op = &l->op[i];
        sp_op_cost k;
        sp_op_price(op, c->s, NULL, &k);
        switch (op->kind) {
        case SP_OP_GEMM:
            *(k.mem_bound ? &one.weight_read : &one.gemm_compute) += k.busy;
            break;
        case SP_OP_ROOFLINE:
            one.attention += k.busy;
            break;
        case SP_OP_BYTES:
            one.elementwise += k.busy;
            break;
        default:
            *(op->part == SP_PART_EP ? &one.ep_comm : &one.tp_comm) += k.fwd;
            xo.comm += k.fwd;
            continue;
        }
        *(k.mem_bound ? &xo.mem : &xo.comp) += k.busy;
        one.overhead += k.overhead;
        xo.flops += k.flops;
    }
    st->gemm_compute += n * one.gemm_compute;
    st->weight_read += n * one.weight_read;
    st->attention += n * one.attention;
    st->elementwise += n * one.elementwise;
    st->tp_comm += n * one.tp_comm;
    st->ep_comm += n * one.ep_comm;
    st->overhead += n * one.overhead;
    x->comp += n * xo.comp;
    x->mem += n * xo.mem;
    x->comm += n * xo.comm;
    x->flops += n * xo.flops;
}

/* MoE layers of a step: the experts it touches (expected distinct experts for the replica's all_tok tokens, per EP
 * rank) as one grouped GEMM, with the shared experts, router and all-to-all (ops.c), n layers of it. */
static void moe_step(const ictx *c, sp_layer_ctx *lc, double all_tok, double n, sp_infer_step *st, acc_t *x)
{
    const sp_model *m = c->m;
    double k = m->top_k, ep = c->ep;
    double touched = c->o->expert_probs ? sp_expected_experts_dist(c->o->expert_probs, m->n_experts, k, all_tok)
                                        : sp_expected_experts(m->n_experts, k, all_tok);
    touched /= ep;
    sp_layer_ops ops;
    ops.n = 0;
    sp_ops_moe_serving(lc, (int)ep, touched, touched > 0 ? all_tok * k / ep / touched : 0, &ops);
    add_ops(c, &ops, n, st, x);
}

/* Bytes of one token's KV cache in one attention layer of kind k, and the attention widths its decode reads. */
static double kv_layer_bytes(const ictx *c, sp_mixer k, double *dqk, double *dv)
{
    const sp_model *m = c->m;
    double b = c->o->kv == SP_FP32 ? 4 : sp_dtype_bytes(c->o->kv);
    *dqk = *dv = m->d_head;
    if (k == SP_MIX_MLA) {
        *dqk = m->kv_lora_rank + m->qk_rope_head_dim;
        *dv = m->kv_lora_rank;
        return b * (m->kv_lora_rank + m->qk_rope_head_dim);
    }
    return b * 2.0 * sp_model_kvdim(m);
}

/* Layers that differ (hybrid models: attention, sliding-window, Mamba-1/2 and gated-DeltaNet mixers; dense, MoE or
 * no FFN): each (mixer, FFN) kind's ops once, times its count. Sliding layers attend over min(context, window);
 * recurrent layers step their state per decoding sequence (ops.c sp_ops_recurrent_serving). */
static void layer_kinds_step(const ictx *c, sp_layer_ctx *lc, double n_dec, double ctx_dec, double n_pf,
                             double pf_span, sp_infer_step *st, acc_t *x)
{
    const sp_model *m = c->m;
    double ep = c->ep, w = m->sliding_window;
    double sb = c->o->kv == SP_FP32 ? 4 : sp_dtype_bytes(c->o->kv);
    sp_layer_ops ops;
    for (int mx = 0; mx < SP_NMIXER; mx++)
        for (int f = 0; f < SP_NFFN; f++) {
            int n = c->pc.count[mx][f];
            if (n == 0)
                continue;
            ops.n = 0;
            double dqk = 0, dv = 0, kvb = 0, ctx = ctx_dec, span = pf_span;
            if (mx == SP_MIX_MLA)
                sp_ops_mla_absorbed(lc, &ops);
            else if (mx == SP_MIX_ATTN || mx == SP_MIX_SWA)
                sp_ops_attention(lc, &ops);
            else if (mx != SP_MIX_NONE)
                sp_ops_recurrent_serving(lc, (sp_mixer)mx, n_dec / ep, n_pf / ep,
                                         sp_model_state_bytes(m, (sp_mixer)mx, sb) / c->t, &ops);
            if (mx == SP_MIX_ATTN || mx == SP_MIX_SWA || mx == SP_MIX_MLA)
                kvb = kv_layer_bytes(c, (sp_mixer)mx, &dqk, &dv) / c->kv_split;
            if (mx == SP_MIX_SWA && w > 0)
                ctx = fmin(ctx, w), span = fmin(span, w);
            /* attention core (none for recurrent kinds: zero work), elementwise kernels, TP all-reduces */
            sp_ops_serving_common(lc, kvb > 0 ? n_dec / ep : 0, ctx, kvb > 0 ? n_pf / ep : 0, span, kvb,
                                  c->o->eff.kv_mem, dqk, dv, &ops);
            add_ops(c, &ops, n, st, x);
            if (f == SP_FFN_DENSE) {
                ops.n = 0;
                sp_ops_mlp(lc, &ops);
                add_ops(c, &ops, n, st, x);
            } else if (f == SP_FFN_MOE)
                moe_step(c, lc, n_dec + n_pf, n, st, x);
        }
}

/* The uniform model's layers: attention projections, attention core, elementwise kernels, TP all-reduces on every
 * layer, the dense MLP and MoE layers. MLA decodes over the compressed latent with its up-projections absorbed:
 * scores over kv_lora + rope, values over kv_lora (DeepSeek-V2 §2.1, inference form) */
static void uniform_step(const ictx *c, sp_layer_ctx *lc, double n_dec, double ctx_dec, double n_pf, double pf_span,
                         sp_infer_step *st, acc_t *x)
{
    const sp_model *m = c->m;
    double ep = c->ep;
    sp_layer_ops ops;
    ops.n = 0;
    double dqk, dv, kv_layer = kv_layer_bytes(c, m->kv_lora_rank > 0 ? SP_MIX_MLA : SP_MIX_ATTN, &dqk, &dv);
    if (m->kv_lora_rank > 0)
        sp_ops_mla_absorbed(lc, &ops);
    else
        sp_ops_attention(lc, &ops);
    sp_ops_serving_common(lc, n_dec / ep, ctx_dec, n_pf / ep, pf_span, kv_layer / c->kv_split, c->o->eff.kv_mem, dqk,
                          dv, &ops);
    add_ops(c, &ops, m->n_layers, st, x);
    if (c->dense_layers > 0) {
        ops.n = 0;
        sp_ops_mlp(lc, &ops);
        add_ops(c, &ops, c->dense_layers, st, x);
    }
    if (c->moe_layers > 0)
        moe_step(c, lc, n_dec + n_pf, c->moe_layers, st, x);
}

/* One engine step per GPU of one replica, from the layer ops of each kind (ops.c): n_dec sequences decoding one
 * token at mean context ctx_dec, n_pf prompt tokens prefilled over a mean causal span pf_span, n_logits sequences
 * producing a token. The counts are the whole replica's (all EP ranks). */
static void engine_step(const ictx *c, double n_dec, double ctx_dec, double n_pf, double pf_span, double n_logits,
                        sp_infer_step *st, acc_t *x)
{
    memset(st, 0, sizeof *st);
    memset(x, 0, sizeof *x);
    const sp_model *m = c->m;
    double ep = c->ep;
    double tok = (n_dec + n_pf) / ep; /* tokens through attention and dense layers on one EP rank */
    if (tok <= 0)
        return;
    sp_layer_ctx lc;
    sp_layer_ops ops;
    sp_layer_ctx_serving(&lc, m, c->s, &c->pc, (int)c->t, tok, c->cd, c->wb, c->ab, c->lowp);
    if (m->n_pattern > 0)
        layer_kinds_step(c, &lc, n_dec, ctx_dec, n_pf, pf_span, st, x);
    else
        uniform_step(c, &lc, n_dec, ctx_dec, n_pf, pf_span, st, x);
    lc.T = n_logits / ep;
    sp_ops_lm_head(&lc, &ops);
    add_ops(c, &ops, 1, st, x);
    st->overhead += c->o->eff.step_overhead_s;
    st->total = st->gemm_compute + st->weight_read + st->attention + st->elementwise + st->tp_comm + st->ep_comm +
                st->overhead;
    st->bound = x->comm > fmax(x->comp, x->mem) ? "communication" : x->mem >= x->comp ? "memory (HBM)" : "compute";
}

static sp_dtype compute_dtype(sp_dtype w)
{
    return w == SP_FP8 || w == SP_FP4 ? w : SP_BF16;
}

/* The options against the model: one-line errors naming the option. */
static sp_status check_opts(const sp_model *m, const sp_infer_opts *o, sp_error *err)
{
    sp_status mk = sp_model_step_check(m, "inference", err); /* layer kinds it cannot price (model.c) */
    if (mk)
        return mk;
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
    return SP_OK;
}

static void ictx_init(const sp_model *m, const sp_system *s, const sp_infer_opts *o, ictx *c)
{
    const sp_accel *a = &s->acc;
    memset(c, 0, sizeof *c);
    c->m = m;
    c->s = s;
    c->o = o;
    c->a = a;
    sp_model_params(m, &c->pc);
    c->t = o->tp;
    c->ep = o->ep;
    c->cd = compute_dtype(o->weights);
    c->wb = sp_dtype_bytes(o->weights);
    c->ab = c->cd == SP_FP8 || c->cd == SP_FP4 ? 1 : 2;
    c->peak = sp_accel_peak(a, c->cd);
    c->lowp = sp_dtype_bytes(c->cd) < 2 && a->peak[c->cd] > 0 ? o->eff.lowp_gemm : 1;
    /* KV heads are split by TP (replicated when tp > KV heads); MLA's latent is replicated over TP */
    c->kv_split = m->kv_lora_rank > 0 ? 1 : (o->tp <= m->n_kv_heads ? c->t : m->n_kv_heads);
    c->moe_layers = sp_model_is_moe(m) ? m->n_layers - m->first_dense_layers : 0;
    c->dense_layers = m->n_layers - c->moe_layers;
    if (m->n_pattern > 0) { /* layers that differ: their FFN kinds counted (some layers have none) */
        c->moe_layers = c->dense_layers = 0;
        for (int mx = 0; mx < SP_NMIXER; mx++)
            c->moe_layers += c->pc.count[mx][SP_FFN_MOE], c->dense_layers += c->pc.count[mx][SP_FFN_DENSE];
    }
}

sp_status sp_infer_engine_step(const sp_model *m, const sp_system *s, const sp_infer_opts *o, double n_dec,
                               double ctx_dec, double n_pf, double pf_span, double n_logits, sp_infer_step *st,
                               sp_error *err)
{
    memset(st, 0, sizeof *st);
    sp_status rc = check_opts(m, o, err);
    if (rc != SP_OK)
        return rc;
    if (!(n_dec >= 0 && ctx_dec >= 0 && n_pf >= 0 && pf_span >= 0 && n_logits >= 0) ||
        !isfinite(n_dec + ctx_dec + n_pf + pf_span + n_logits))
        return sp_fail(err, SP_EINVAL, "infer: engine step: token counts and contexts must be finite and >= 0");
    ictx c;
    ictx_init(m, s, o, &c);
    acc_t x;
    engine_step(&c, n_dec, ctx_dec, n_pf, pf_span, n_logits, st, &x);
    return SP_OK;
}

/* Layers that differ: the decode cache of one sequence on one GPU at ctx tokens, per token (attention layers,
 * sliding ones within their window, KV heads split over TP) and per sequence (sliding rings past their window;
 * recurrent states, their heads split over TP). */
static void cache_per_gpu(const ictx *c, double ctx, double *per_tok, double *per_seq)
{
    const sp_model *m = c->m;
    double b = c->o->kv == SP_FP32 ? 4 : sp_dtype_bytes(c->o->kv), dqk, dv;
    *per_tok = *per_seq = 0;
    for (int mx = 0; mx < SP_NMIXER; mx++) {
        double n = 0;
        for (int f = 0; f < SP_NFFN; f++)
            n += c->pc.count[mx][f];
        if (n == 0 || mx == SP_MIX_NONE)
            continue;
        if (mx == SP_MIX_ATTN || mx == SP_MIX_MLA || (mx == SP_MIX_SWA && ctx <= m->sliding_window))
            *per_tok += n * kv_layer_bytes(c, (sp_mixer)mx, &dqk, &dv) / c->kv_split;
        else if (mx == SP_MIX_SWA)
            *per_seq += n * kv_layer_bytes(c, (sp_mixer)mx, &dqk, &dv) * m->sliding_window / c->kv_split;
        else
            *per_seq += n * sp_model_state_bytes(m, (sp_mixer)mx, b) / c->t;
    }
}

/* LatentMoE's h -> latent -> h projections are replicated over TP at serving (ops.c sp_ops_moe_serving): the
 * parameters each GPU holds beyond its 1/TP share of them, whole model (a pipeline stage holds 1/pp). */
static double latent_replicated(const ictx *c)
{
    return c->moe_layers * 2.0 * c->m->d_model * c->m->moe_latent * (1 - 1 / c->t);
}

/* Memory per GPU, the largest batch that fits, and the batch served (r->batch); *bg: sequences per replica through
 * one engine step, *bfull: all micro-batches of the replica.
 * Pipeline parallelism: each stage holds L/pp layers (weights and KV cache divided by pp, the heavier end stage keeps
 * the embedding or LM head); the batch is cut into pp micro-batches that are in flight at once, so a token of one
 * micro-batch waits for all stages in turn (TPOT = the whole model's step at the micro-batch size + pp - 1 hops)
 * while all micro-batches advance together (tokens/s = batch / TPOT). */
double sp_infer_seq_cap(const sp_infer_opts *o)
{
    /* replicas x pp virtual engines (serve's, src/serve_run.c) = n_gpus / (tp x ep); check_opts: it divides */
    return o->max_seqs > 0 ? (double)o->max_seqs * (o->n_gpus / (o->tp * o->ep)) : 0;
}

static void infer_memory(const ictx *c, sp_infer_result *r, double *bg)
{
    const sp_model *m = c->m;
    const sp_infer_opts *o = c->o;
    const sp_accel *a = c->a;
    int pp = o->pp > 0 ? o->pp : 1;
    double replicas = (double)o->n_gpus / (o->tp * o->ep * pp);
    double expert_total = c->moe_layers * (double)m->n_experts * c->pc.expert;
    double ends = pp > 1 ? fmax(c->pc.embedding, c->pc.lm_head) : 0;
    r->weights_bytes = c->wb * ((c->pc.total - expert_total - (pp > 1 ? c->pc.embedding + c->pc.lm_head : 0)) / (c->t * pp) +
                                ends / c->t + expert_total / (c->t * c->ep * pp) + latent_replicated(c) / pp);
    r->kv_bytes_per_token = sp_kv_bytes_per_token(m, o->kv);
    double ctx = (double)o->prompt + o->output;
    double kv_per_seq = r->kv_bytes_per_token * ctx / c->kv_split / pp; /* on each GPU holding the sequence */
    if (m->n_pattern > 0) {
        double tok, seq, b = o->kv == SP_FP32 ? 4 : sp_dtype_bytes(o->kv);
        sp_model_cache_bytes(m, (int)fmin(ctx, 1 << 30), b, &r->kv_bytes_per_token, &r->state_bytes_per_seq);
        cache_per_gpu(c, ctx, &tok, &seq);
        kv_per_seq = (tok * ctx + seq) / pp;
    }
    double f_local = (double)(sp_model_is_moe(m) ? fmax(m->ffn_dim, m->moe_ffn_dim * m->top_k) : m->ffn_dim) / c->t;
    double act_per_tok = 2.0 * (4 * (double)m->d_model + 3 * f_local);
    r->overhead_bytes = SP_INFER_OVERHEAD;
    r->capacity = a->hbm_bytes;
    double usable = o->mem_frac * a->hbm_bytes;
    /* the largest batch (batch 0: --max-batch / --batch max) is then served with a full prefill chunk in flight
     * (activation_bytes below), so it is sized with the chunk's activations, not one prompt's (issue 19: Llama-3-8B
     * --max-batch on one H100 "did not fit even at batch 1") */
    double chunk = o->prefill_chunk > 0 ? o->prefill_chunk : SP_PREFILL_CHUNK; /* a stack's token budget */
    double act_max = act_per_tok * fmin(chunk, o->batch > 0 ? (double)o->prompt : chunk);
    double free_b = usable - r->weights_bytes - r->overhead_bytes - act_max;
    /* sequences per GPU = Bg / ep (attention data-parallel over EP ranks) */
    double mb = free_b > 0 ? floor(free_b / kv_per_seq) * c->ep * replicas : 0;
    double cap = sp_infer_seq_cap(o); /* a serving stack's engines run at most this many sequences */
    r->max_batch = (int)fmin(1 << 24, cap > 0 ? fmin(mb, cap) : mb);
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
    r->kv_bytes = kv_per_seq * Bfull / c->ep;
    r->activation_bytes = act_per_tok * fmin(chunk, Bg / c->ep * o->prompt);
    r->total_bytes = r->weights_bytes + r->kv_bytes + r->activation_bytes + r->overhead_bytes;
    r->headroom_bytes = usable - r->total_bytes;
    r->fits = r->total_bytes <= usable && !(cap > 0 && B > cap);
    *bg = Bg;
}

/* Prefill and decode steps, latencies and throughput of batch B (Bg sequences per replica per engine step). */
static void infer_time(const ictx *c, double Bg, sp_infer_result *r)
{
    const sp_infer_opts *o = c->o;
    int pp = o->pp > 0 ? o->pp : 1, B = r->batch;
    acc_t xp, xd;
    double P = o->prompt, O = o->output;
    engine_step(c, 0, 0, Bg * P, P / 2, Bg, &r->prefill, &xp);
    r->prefill_flops = xp.flops;
    r->prefill_bound = r->prefill.bound;
    double cmean = P + O / 2;
    if (o->inflight && O > 0) {
        /* steady state: each step decodes Bg sequences and prefills Bg*P/O prompt tokens (chunked prefill) */
        engine_step(c, Bg, cmean, Bg * P / O, P / 2, Bg, &r->decode, &xd);
        sp_infer_step alone;
        acc_t xo;
        engine_step(c, 0, 0, P, P / 2, 1, &alone, &xo);
        r->prefill = alone;
        r->prefill_flops = xo.flops;
        r->prefill_bound = alone.bound;
        r->ttft_s = alone.total + r->decode.total; /* waits for the running step, then its prefill */
        r->tpot_s = r->decode.total;
        r->e2e_s = r->ttft_s + (O - 1) * r->tpot_s;
        r->tokens_per_s = B / r->tpot_s;
    } else {
        engine_step(c, Bg, cmean, 0, 0, Bg, &r->decode, &xd);
        r->ttft_s = r->prefill.total;
        r->tpot_s = r->decode.total;
        r->e2e_s = r->ttft_s + (O > 1 ? O - 1 : 0) * r->tpot_s;
        r->tokens_per_s = O > 0 ? (double)B * O / r->e2e_s : 0;
    }
    if (pp > 1) {
        double h = c->m->d_model;
        double hop = sp_collective_time(c->s, SP_COLL_P2P, 2, o->tp * o->ep, Bg * h * 2.0);
        double hop_p = sp_collective_time(c->s, SP_COLL_P2P, 2, o->tp * o->ep, Bg * (double)o->prompt * h * 2.0);
        r->ttft_s += (pp - 1) * hop_p;
        r->tpot_s += (pp - 1) * hop;
        r->e2e_s = r->ttft_s + (O > 1 ? O - 1 : 0) * r->tpot_s;
        /* all pp micro-batches advance together: pp times the tokens of one micro-batch per step */
        r->tokens_per_s = o->inflight && O > 0 ? B / r->tpot_s : (O > 0 ? (double)B * O / (r->e2e_s + (pp - 1) * r->tpot_s / pp) : 0);
    }
}

/* Bytes a decode step reads per GPU: KV at the mean context, dense weights, the experts the batch touches. */
static void decode_bytes(const ictx *c, double Bg, sp_infer_result *r)
{
    const sp_model *m = c->m;
    const sp_infer_opts *o = c->o;
    double P = o->prompt, O = o->output, ctx = P + O;
    double expert_total = c->moe_layers * (double)m->n_experts * c->pc.expert;
    r->decode_bytes_per_step = r->kv_bytes * (P + O / 2) / ctx;
    if (m->n_pattern > 0) { /* KV at the mean context, states whole */
        double tok, seq, tok_full, seq_full;
        cache_per_gpu(c, P + O / 2, &tok, &seq);
        cache_per_gpu(c, ctx, &tok_full, &seq_full);
        r->decode_bytes_per_step = r->kv_bytes * (tok * (P + O / 2) + seq) / (tok_full * ctx + seq_full);
    }
    double dense_w = ((c->pc.total - expert_total - c->pc.embedding) / c->t + latent_replicated(c)) * c->wb;
    double touched = 0;
    if (c->moe_layers > 0)
        touched = (o->expert_probs ? sp_expected_experts_dist(o->expert_probs, m->n_experts, m->top_k, Bg)
                                   : sp_expected_experts(m->n_experts, m->top_k, Bg)) / c->ep;
    r->experts_read = touched;
    r->decode_bytes_per_step += dense_w + c->moe_layers * touched * c->pc.expert * c->wb / c->t;
}

sp_status sp_infer_eval(const sp_model *m, const sp_system *s, const sp_infer_opts *o, sp_infer_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    sp_status rc = check_opts(m, o, err);
    if (rc != SP_OK)
        return rc;
    ictx c;
    ictx_init(m, s, o, &c);
    r->params_total = c.pc.total;
    r->params_active = c.pc.active;
    double Bg;
    infer_memory(&c, r, &Bg);
    infer_time(&c, Bg, r);
    r->decode_bound = r->decode.bound;
    decode_bytes(&c, Bg, r);
    r->tokens_per_s_per_gpu = r->tokens_per_s / o->n_gpus;
    r->tokens_per_s_per_user = r->tpot_s > 0 && o->output > 0 ? 1 / r->tpot_s : 0; /* no output: none reach a user */
    if (!isfinite(r->ttft_s) || !isfinite(r->tpot_s) || !isfinite(r->tokens_per_s))
        return sp_fail(err, SP_EINVAL, "infer: internal error: non-finite latency");
    return SP_OK;
}

/* Whether layout result a beats b: one that fits first; then, at a requested batch, the shorter end to end (the
 * batch split over the replicas), at the largest batch (batch 0) the higher throughput; when neither fits, the
 * smaller memory per GPU. */
static int layout_better(const sp_infer_result *a, const sp_infer_result *b, int batch)
{
    if (a->fits != b->fits)
        return a->fits;
    if (!a->fits)
        return a->total_bytes < b->total_bytes;
    return batch > 0 ? a->e2e_s < b->e2e_s * (1 - 1e-9) : a->tokens_per_s > b->tokens_per_s * (1 + 1e-9);
}

/* --gpus without --tp/--ep/--pp (docs/inference.md "Default layout"): the layout a serving engineer would deploy
 * over those GPUs. Candidates as vLLM's guides lay them out: TP within the scale-up node and pipeline stages across
 * nodes ("the tensor parallel size should be the number of GPUs in each node, and the pipeline parallel size the
 * number of nodes", docs.vllm.ai serving/distributed_serving), for MoE also expert parallelism with data-parallel
 * attention ("for MoE models ... data parallel for the attention layers and expert or tensor parallel for the
 * expert layers", serving/data_parallel_deployment; --enable-expert-parallel; SGLang --enable-dp-attention), the
 * GPUs left over as data-parallel replicas. Powers of two, TP dividing the heads, EP the experts. The best by
 * layout_better wins; o's tp, ep, pp are set to it. Returns how many candidates fit; `why` says what was chosen. */
int sp_infer_choose_layout(const sp_model *m, const sp_system *s, sp_infer_opts *o, char *why, size_t n)
{
    int G = o->n_gpus, node = s->n_tiers > 1 && s->tier[0].size < G ? s->tier[0].size : G, fit = 0, tried = 0;
    int moe = sp_model_is_moe(m);
    sp_infer_opts best = *o, x = *o;
    sp_infer_result rb, r;
    memset(&rb, 0, sizeof rb);
    for (int pp = 1; pp <= G && pp <= m->n_layers; pp *= 2)
        for (int tp = 1; tp <= node; tp *= 2)
            for (int ep = 1; tp * ep * pp <= G && (ep == 1 || moe); ep *= 2) {
                if (G % (tp * ep * pp) || (pp > 1 && tp < node))
                    continue; /* pipeline stages only across nodes, each stage a node's TP group */
                sp_error e = {0};
                x.tp = tp, x.ep = ep, x.pp = pp;
                if (sp_infer_eval(m, s, &x, &r, &e))
                    continue; /* heads or experts not divisible */
                fit += r.fits;
                if (tried++ == 0 || layout_better(&r, &rb, o->batch))
                    best = x, rb = r;
            }
    *o = best;
    int reps = G / (best.tp * best.ep * best.pp);
    char crit[96];
    if (o->batch > 0)
        snprintf(crit, sizeof crit, "the shortest end to end at batch %d", o->batch);
    else
        snprintf(crit, sizeof crit, "the highest throughput at the largest batch");
    snprintf(why, n, "TP %d, EP %d, PP %d, %d replica%s over the %d GPUs given (no --tp/--ep/--pp): %s of %d "
             "layout%s that fit (of %d tried: TP within the %d-GPU node, %sPP across nodes; docs/inference.md)",
             best.tp, best.ep, best.pp, reps, reps == 1 ? "" : "s", G, fit ? crit : "none fits; the least memory per GPU",
             fit, fit == 1 ? "" : "s", tried, node, moe ? "EP with data-parallel attention, " : "");
    return fit;
}
