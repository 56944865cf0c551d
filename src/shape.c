/* Hardware-in-the-loop model shape search: which decoder shape near a parameter budget serves best on a given
 * system (issue 7). Enumerated: d_model in steps of 256, head size 64 or 128, KV heads = heads (MHA), 8 or 1 (GQA,
 * MQA), gated FFN width 8/3 or 4 x d_model rounded to 256 (Llama's SwiGLU convention: Touvron et al. 2023), optional
 * 8-expert top-2 MoE FFN (Mixtral's layout, Jiang et al. 2024); the layer count is solved from the budget. Quality:
 * the scaling law's L(N, D) with N = total parameters for dense and active parameters for MoE (a conservative
 * stand-in: no MoE law ships); without a law, parameter count is the proxy (more is better). Serving: sp_infer_eval.
 */
#include "scaleplan.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shape terms the loss law lacks (docs/inference.md "What the loss law cannot see").
 * Aspect ratio: Kaplan et al. 2020 §3.1, Fig. 5: at fixed non-embedding parameters the loss varies only a few
 * percent over a wide range of shapes, the aspect ratio varying by a factor of ~40; (n_layer, d_model) = (6, 4288),
 * ratio 715, is within 3 % of (48, 1600), ratio 33. A few percent is more than the law's differences between the
 * candidates of one budget (+-10 % parameters: ~0.5 % in loss), so outside the span where loss is flat nothing
 * ranks shapes on loss: the search keeps 32..256 (published models: GPT-2 XL 33, Qwen3 43, Llama 128, BLOOM 205).
 * KV sharing at equal parameters: Shazeer 2019 ("Fast Transformer Decoding"), Table 3, Billion-Word LM dev
 * perplexity 29.9 multi-head vs 30.2 multi-query: ln 30.2 / ln 29.9 - 1 = +0.29 % loss (Table 1, WMT14 En-De,
 * gives 1.424 vs 1.439 log-perplexity, +1.05 %: translation, not counted). Ainslie et al. 2023 (GQA), Table 1,
 * T5-XXL: average score 47.2 MHA, 47.1 GQA-8, 46.6 MQA: GQA-8 loses a sixth of MQA's drop. */
double sp_shape_kv_penalty(const sp_model *m)
{
    int h = m->n_heads, g = m->n_kv_heads > 0 ? m->n_kv_heads : h;
    if (g >= h || h <= 1)
        return 0;
    if (g >= 8)
        return SP_MQA_LOSS_PENALTY / 6;
    double f = log2((double)g) / 3; /* 0 at one KV head, 1 at eight */
    return SP_MQA_LOSS_PENALTY * (1 - f) + SP_MQA_LOSS_PENALTY / 6 * f;
}

static int dominates(const sp_shape_point *a, const sp_shape_point *b, int use_loss)
{
    double qa = use_loss ? a->loss : -a->params, qb = use_loss ? b->loss : -b->params;
    int ge = qa <= qb && a->tpot_s <= b->tpot_s && a->tokens_per_s_per_gpu >= b->tokens_per_s_per_gpu;
    int gt = qa < qb || a->tpot_s < b->tpot_s || a->tokens_per_s_per_gpu > b->tokens_per_s_per_gpu;
    return ge && gt;
}

#define SP_SHAPE_POOL 4096

/* The decoder of width d (heads of dh, g KV heads, FFN ratio index fi, 8x2 experts when moe) whose layer count
 * meets the budget within tol; 0 when none does (too shallow, too deep, aspect ratio, budget missed). */
static int candidate_model(const sp_shape_opts *so, int vocab, double tol, int d, int dh, int g, int fi, int moe,
                           sp_model *m, sp_param_count *pc)
{
    static const double ffn_ratio[] = {8.0 / 3.0, 4.0};
    int heads = d / dh;
    sp_synthetic_spec spec = {.d_model = d, .n_layers = 1, .n_heads = heads, .d_head = dh, .n_kv_heads = g,
                              .ffn_dim = (int)(ceil(ffn_ratio[fi] * d / 256.0) * 256), .gated = 1,
                              .n_experts = moe ? 8 : 0, .top_k = 2, .vocab = vocab, .max_seq = 8192,
                              .norm = SP_NORM_RMSNORM};
    sp_model_synthetic(&spec, m);
    /* solve the layer count from the budget */
    sp_param_count p1;
    sp_model_params(m, &p1);
    double per_layer = p1.layers_total, fixed = p1.total - p1.layers_total;
    int L = (int)lround((so->n_target - fixed) / per_layer);
    if (L < 2 || L > 256)
        return 0;
    /* aspect ratio: only where the evidence says loss does not depend on it (SP_SHAPE_ASPECT_MIN..MAX, scaleplan.h) */
    if ((double)d / L < SP_SHAPE_ASPECT_MIN || (double)d / L > SP_SHAPE_ASPECT_MAX)
        return 0;
    m->n_layers = L;
    sp_model_params(m, pc);
    if (fabs(pc->total / so->n_target - 1) > tol)
        return 0;
    snprintf(m->name, sizeof m->name, "L%d-d%d-h%dx%d-kv%d-f%d%s", L, d, heads, dh, g, m->ffn_dim, moe ? "-E8k2" : "");
    return sp_model_check(m, "shape", NULL) == SP_OK;
}

/* Serves m under o; 0 when it does not fit, does not split over TP or misses the latency target (*n_eval counts
 * the shapes served). */
static int serve_point(const sp_system *s, const sp_infer_opts *o, const sp_law *law, const sp_shape_opts *so,
                       const sp_model *m, const sp_param_count *pc, int *n_eval, sp_shape_point *pt)
{
    if (m->n_heads % o->tp || (m->n_kv_heads % o->tp && o->tp % m->n_kv_heads))
        return 0;
    sp_infer_result r;
    if (sp_infer_eval(m, s, o, &r, NULL) || !r.fits)
        return 0;
    (*n_eval)++;
    if (so->max_tpot_s > 0 && r.tpot_s > so->max_tpot_s)
        return 0;
    pt->m = *m;
    pt->params = pc->total;
    pt->active = pc->active;
    double D = so->tokens > 0 ? so->tokens : (so->tpp > 0 ? so->tpp : 20) * pc->total;
    pt->loss_law = law ? sp_law_loss(law, sp_model_is_moe(m) ? pc->active : pc->total, D) : NAN;
    pt->kv_penalty = sp_shape_kv_penalty(m);
    pt->loss = pt->loss_law * (1 + pt->kv_penalty);
    pt->tpot_s = r.tpot_s;
    pt->ttft_s = r.ttft_s;
    pt->tokens_per_s_per_gpu = r.tokens_per_s_per_gpu;
    pt->kv_bytes_per_token = r.kv_bytes_per_token;
    return 1;
}

/* Keeps the running Pareto front in pool[0..*np) with pt offered. */
static void front_add(sp_shape_point *pool, int *np, const sp_shape_point *pt, int use_loss)
{
    for (int i = 0; i < *np; i++)
        if (dominates(&pool[i], pt, use_loss))
            return;
    int w = 0;
    for (int i = 0; i < *np; i++)
        if (!dominates(pt, &pool[i], use_loss))
            pool[w++] = pool[i];
    *np = w;
    if (*np < SP_SHAPE_POOL)
        pool[(*np)++] = *pt;
}

/* The front sorted by TPOT (insertion sort: the front is small). */
static void sort_by_tpot(sp_shape_point *pool, int np)
{
    for (int i = 1; i < np; i++) {
        sp_shape_point t = pool[i];
        int j = i - 1;
        while (j >= 0 && pool[j].tpot_s > t.tpot_s) {
            pool[j + 1] = pool[j];
            j--;
        }
        pool[j + 1] = t;
    }
}

sp_status sp_shape_search(const sp_system *s, const sp_infer_opts *o, const sp_law *law, const sp_shape_opts *so,
                          sp_shape_point *out, int max, int *n_front, int *n_eval, sp_error *err)
{
    *n_front = 0;
    *n_eval = 0;
    if (!(so->n_target >= 1e6 && so->n_target <= 1e14))
        return sp_fail(err, SP_EINVAL, "shape: parameter budget %g is out of range; allowed 1e6..1e14", so->n_target);
    double tol = so->tol > 0 ? so->tol : 0.1;
    int vocab = so->vocab > 0 ? so->vocab : 32000;
    sp_shape_point *pool = malloc(SP_SHAPE_POOL * sizeof *pool); /* the running Pareto front */
    if (!pool)
        return sp_fail(err, SP_ENOMEM, "shape: out of memory");
    int np = 0;
    static const int dheads[] = {64, 128};
    for (int d = 512; d <= 32768; d += 256)
        for (int hi = 0; hi < 2; hi++) {
            int dh = dheads[hi], heads = d / dh;
            if (d % dh)
                continue;
            int kvs[3] = {heads, 8, 1};
            for (int ki = 0; ki < 3; ki++) {
                int g = kvs[ki];
                if (g > heads || heads % g || (ki > 0 && g == heads))
                    continue;
                for (int fi = 0; fi < 2; fi++)
                    for (int moe = 0; moe <= (so->allow_moe ? 1 : 0); moe++) {
                        sp_model m;
                        sp_param_count pc;
                        sp_shape_point pt;
                        if (candidate_model(so, vocab, tol, d, dh, g, fi, moe, &m, &pc) &&
                            serve_point(s, o, law, so, &m, &pc, n_eval, &pt))
                            front_add(pool, &np, &pt, law != NULL);
                    }
            }
        }
    if (*n_eval == 0 || np == 0) {
        free(pool);
        return sp_fail(err, SP_EINFEASIBLE,
                       "shape: no shape within %.0f%% of %.3g parameters fits on %d x %s%s; try more GPUs (--tp), "
                       "lower-precision weights or a looser latency target",
                       100 * tol, so->n_target, o->n_gpus, s->acc.name, so->max_tpot_s > 0 ? " and meets the latency target" : "");
    }
    sort_by_tpot(pool, np);
    *n_front = np;
    for (int i = 0; i < np && i < max; i++)
        out[i] = pool[i];
    free(pool);
    return SP_OK;
}
