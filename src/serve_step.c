/* Engine-step pricing for the serving simulator (DESIGN.md §3.12, docs/serving.md "Step model").
 *
 * Every step of the simulator is priced by infer's engine-step model (src/infer.c), never by a second model. A
 * step of a batch composition (prefill chunks, decoding sequences with their contexts, sequences producing a
 * token) decomposes exactly in that model into
 *
 *   lin(tokens) + head(logits) + alpha x (sum of decode contexts) + beta x (sum over chunks of tokens x span)
 *
 * because infer's linear layers, elementwise kernels, TP all-reduces and MoE expert reads depend only on the
 * step's token count, its LM head only on the sequences that sample, decode attention is linear in sequences x
 * context (max of two terms both proportional to it) and prefill attention is linear in tokens x causal span.
 * The four parts are read from infer's engine step of a batch composition (sp_infer_engine_step, src/infer.c,
 * built from the layer ops):
 *   - alpha: 1 sequence decoding at context 1 + D minus at context 1, over D;
 *   - beta: 2Q prompt tokens over a mean span Q minus over Q/2, over Q^2;
 *   - lin(x): x tokens with no attention context and no token sampled;
 *   - head(x): the same step with x sequences sampling minus without.
 * lin and head are tabulated once per engine: every token count up to 256, then 32 points per octave, linearly
 * interpolated (infer's step is piecewise smooth in the token count: a max of compute and weight-read time per
 * GEMM, wave quantisation in the GEMM efficiency), so a simulated step costs a table lookup, not ~100 GEMM
 * evaluations. Pipeline-parallel engines add pp - 1 point-to-point hops of the step's activations.
 */
#include "scaleplan.h"

#include <math.h>
#include <string.h>

#define TAB_DIRECT 256 /* token counts tabulated one by one */
#define TAB_OCT 32     /* points per octave above */

static double tab_x(int i)
{
    return i < TAB_DIRECT ? i + 1.0 : TAB_DIRECT * exp2((double)(i - (TAB_DIRECT - 1)) / TAB_OCT);
}

/* Linear interpolation in a table sampled at tab_x(0..n-1); 0 tokens cost nothing; beyond the table the last
 * segment is extended. */
static double tab_at(const double *v, int n, double x)
{
    if (!(x > 0))
        return 0;
    if (x < 1)
        return v[0] * x;
    double u = x <= TAB_DIRECT ? x - 1 : (TAB_DIRECT - 1) + TAB_OCT * log2(x / TAB_DIRECT);
    int i = (int)u;
    if (i >= n - 1)
        i = n - 2;
    double x0 = tab_x(i), x1 = tab_x(i + 1);
    return v[i] + (v[i + 1] - v[i]) * (x - x0) / (x1 - x0);
}

double sp_serve_step_time(const sp_serve_steptab *t, double n_pf, double pf_span_sum, double n_dec, double ctx_sum,
                          double n_logits)
{
    double tok = n_pf + n_dec;
    if (!(tok > 0))
        return 0;
    double core = tab_at(t->lin, t->n, tok) + tab_at(t->head, t->n, n_logits) + t->alpha * ctx_sum + t->beta * pf_span_sum;
    return t->scale * core + t->fixed_s;
}

/* The stack's kernel factor (its per-family calibration, fitted on FP8/FP4 MLPerf rows) scales what it was fitted on,
 * the efficiency of the low-precision GEMMs: a compute-bound GEMM takes k times its modelled time, an HBM-bound one
 * (a small decode batch) stays on the memory roofline, which no kernel beats. 16-bit GEMMs, the attention and the
 * rest of the step are not scaled. */
void sp_serve_stack_kernels(const sp_serve_stack *st, sp_serving_eff *e)
{
    double kf = st->kernel_factor > 0 ? st->kernel_factor : 1;
    e->lowp_gemm /= kf;
}

/* infer's steps are then serve's (docs/inference.md "Serving stack"): the same kernels, the same host time once per
 * engine step (serve adds it as the table's fixed term), the same memory fraction; the engine's sequence cap and
 * token budget bound infer's batch and prefill chunk as they bound serve's scheduler. */
void sp_serve_stack_infer(const sp_serve_stack *st, sp_infer_opts *o)
{
    sp_serve_stack_kernels(st, &o->eff);
    o->eff.step_overhead_s += st->step_overhead_s;
    o->mem_frac = st->mem_frac;
    o->max_seqs = st->max_num_seqs;
    o->prefill_chunk = st->max_num_tokens;
}

typedef struct {
    const sp_model *m;
    const sp_system *s;
    sp_infer_opts io;
} pricer;

/* Infer's engine step of one composition (sp_infer_engine_step), its total time. */
static sp_status price(const pricer *p, double n_dec, double ctx, double n_pf, double span, double logits, double *t, sp_error *err)
{
    sp_infer_step st;
    sp_status rc = sp_infer_engine_step(p->m, p->s, &p->io, n_dec, ctx, n_pf, span, logits, &st, err);
    *t = rc ? 0 : st.total;
    return rc;
}

sp_status sp_serve_steptab_build(const sp_model *m, const sp_system *s, const sp_serve_opts *o, int max_tokens,
                                 sp_serve_steptab *t, sp_error *err)
{
    memset(t, 0, sizeof *t);
    pricer p = {m, s, {0}};
    sp_infer_defaults(&p.io);
    p.io.tp = o->tp;
    p.io.ep = o->ep;
    p.io.pp = 1; /* a micro-batch passes every stage in turn: the whole model's step (hops added below) */
    p.io.n_gpus = o->tp * o->ep;
    p.io.weights = o->weights;
    p.io.kv = o->kv;
    p.io.eff = o->eff;
    sp_serve_stack_kernels(&o->stack, &p.io.eff); /* the stack's host time is the table's fixed term (below) */
    const double D = 4096, Q = 1024;
    double a0, a1, b1, b2;
    sp_status rc;
    if ((rc = price(&p, 1, 1, 0, 0, 0, &a0, err)) || (rc = price(&p, 1, 1 + D, 0, 0, 0, &a1, err)) ||
        (rc = price(&p, 0, 0, 2 * Q, Q, 0, &b1, err)) || (rc = price(&p, 0, 0, 2 * Q, Q / 2, 0, &b2, err)))
        return rc;
    t->alpha = (a1 - a0) / D;
    t->beta = (b1 - b2) / (Q * Q);
    int pp = o->pp > 0 ? o->pp : 1;
    for (t->n = 0; t->n < SP_STEPTAB_N && (t->n < 2 || tab_x(t->n - 2) < max_tokens); t->n++) {
        double x = tab_x(t->n), bare, full;
        if ((rc = price(&p, x, 0, 0, 0, 0, &bare, err)) || (rc = price(&p, x, 0, 0, 0, x, &full, err)))
            return rc;
        double hop = pp > 1 ? (pp - 1) * sp_collective_time(s, SP_COLL_P2P, 2, o->tp * o->ep, x * m->d_model * 2.0) : 0;
        t->lin[t->n] = bare + hop;
        t->head[t->n] = full - bare;
    }
    sp_param_count pc;
    sp_model_params(m, &pc);
    t->flops_per_token = 2 * pc.active;
    t->fixed_s = o->stack.step_overhead_s;
    t->scale = 1; /* the kernel factor is in the GEMMs' efficiency (above) */
    return SP_OK;
}
