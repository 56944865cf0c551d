/* Software stacks: what a training stack (Megatron-Core, PyTorch FSDP, DeepSpeed, MaxText...) does by default and
 * what it can do (docs/systems.md "Software stacks"). A stack preset (data/software/NAME.json, read by config.c)
 * gives the default of every plan knob with its source; sp_software_apply fills the knobs a plan did not set and
 * refuses the parallelism the stack does not implement, by name, instead of costing a plan that cannot run.
 *
 * Why a stack and not one global default: the same row ("recompute" left empty) means full recompute in a 2021
 * Megatron-LM script, none in a Megatron-Bridge recipe and selective in torchtitan; a global default is wrong
 * for all but one of them (issue 18, cause 2). The stack's attention kernel class (FlashAttention-2, -3, cuDNN
 * fused attention) picks the accelerator family's measured attention efficiency (ops.c sp_attn_rate): the same
 * H100 runs FA2 at 34 % and FA3 at 62 % of its peak (issue 18, cause 1). */
#include "scaleplan.h"

#include <stdio.h>
#include <string.h>

static const struct {
    unsigned feat;
    const char *what;
} feat_names[] = {{SP_FEAT_TP, "tensor parallelism"},         {SP_FEAT_PP, "pipeline parallelism"},
                  {SP_FEAT_VPP, "interleaved pipeline stages"}, {SP_FEAT_SP, "sequence parallelism"},
                  {SP_FEAT_CP, "context parallelism"},        {SP_FEAT_EP, "expert parallelism"},
                  {SP_FEAT_ZERO1, "ZeRO-1 / distributed optimizer"}, {SP_FEAT_ZERO2, "ZeRO-2"},
                  {SP_FEAT_ZERO3, "ZeRO-3 / FSDP full sharding"}, {SP_FEAT_ZBH1, "ZB-H1 pipeline schedule"},
                  {SP_FEAT_ZBV, "ZB-V pipeline schedule"}, {SP_FEAT_DUALPIPE, "DualPipe pipeline schedule"}};

static const char *feat_name(unsigned f)
{
    for (size_t i = 0; i < sizeof feat_names / sizeof feat_names[0]; i++)
        if (feat_names[i].feat == f)
            return feat_names[i].what;
    return "?";
}

static sp_status need(const sp_software *sw, unsigned feat, const char *knob, int value, sp_error *err)
{
    if (sw->supports & feat)
        return SP_OK;
    return sp_fail(err, SP_EINVAL, "software '%s' has no %s (%s = %d)", sw->name, feat_name(feat), knob, value);
}

static sp_status check_features(const sp_software *sw, const sp_plan *p, sp_error *err)
{
    static const unsigned zfeat[4] = {0, SP_FEAT_ZERO1, SP_FEAT_ZERO2, SP_FEAT_ZERO3};
    sp_status rc = SP_OK;
    if (p->tp > 1)
        rc = need(sw, SP_FEAT_TP, "tp", p->tp, err);
    if (!rc && p->pp > 1)
        rc = need(sw, SP_FEAT_PP, "pp", p->pp, err);
    if (!rc && p->vpp > 1)
        rc = need(sw, SP_FEAT_VPP, "vpp", p->vpp, err);
    if (!rc && p->cp > 1)
        rc = need(sw, SP_FEAT_CP, "cp", p->cp, err);
    if (!rc && p->ep > 1)
        rc = need(sw, SP_FEAT_EP, "ep", p->ep, err);
    if (!rc && p->seq_parallel && p->tp > 1)
        rc = need(sw, SP_FEAT_SP, "seq_parallel", 1, err);
    if (!rc && p->zero >= 1 && p->zero <= 3)
        rc = need(sw, zfeat[p->zero], "zero", p->zero, err);
    return rc;
}

sp_status sp_software_apply(const sp_software *sw, unsigned given, sp_plan *p, sp_error *err)
{
    if (!(given & SP_KNOB_RECOMPUTE))
        p->recompute = sw->recompute;
    if (!(given & SP_KNOB_SP))
        p->seq_parallel = sw->seq_parallel && p->tp > 1 && (sw->supports & SP_FEAT_SP);
    if (!(given & SP_KNOB_ZERO)) {
        p->zero = sw->zero;
        /* FSDP that keeps the gathered weights from forward to backward (one all-gather per micro-batch instead of
         * two, full 16-bit weights at the peak; plan.zero3_keep, docs/model.md) */
        if (p->zero == 3 && !sw->fsdp_reshard)
            p->zero3_keep = 1;
    }
    if (!(given & SP_KNOB_VPP) && p->pp > 1)
        p->vpp = sw->vpp;
    if (!(given & SP_KNOB_FLASH))
        p->flash_attention = sw->flash_attention;
    if (!(given & SP_KNOB_DP_OVERLAP))
        p->dp_overlap = sw->overlap_dp;
    if (!(given & SP_KNOB_STATE_BYTES)) {
        p->weight_bytes = sw->weight_bytes;
        p->grad_bytes = sw->grad_bytes;
        p->optimizer_bytes = sw->optimizer_bytes;
    }
    if (!(given & SP_KNOB_FP8_RECIPE))
        p->fp8_recipe = sw->fp8_recipe;
    p->te_quant = sw->te_quant;
    /* torchao's rowwise (axiswise) scaling has no Transformer Engine counterpart: TE scales per tensor, per 1x128
     * block or per 1x32 MX block (transformer_engine/common/recipe), so a TE stack cannot run it */
    if (p->dtype == SP_FP8 && p->fp8_recipe == SP_FP8_ROWWISE && p->te_quant)
        return sp_fail(err, SP_EINVAL, "fp8 recipe rowwise is torchao's axiswise scaling; software '%s' quantizes "
                       "through Transformer Engine, which has no such recipe", sw->name);
    p->nvfp4_split = sw->nvfp4_split;
    p->grad_reduce_fp32 = sw->grad_reduce_fp32;
    if (!(given & SP_KNOB_GRAPHS))
        p->cuda_graphs = sw->cuda_graphs;
    if (!(given & SP_KNOB_DISPATCHER))
        p->moe_dispatcher = sw->moe_dispatcher;
    if (!(given & SP_KNOB_EAGER))
        p->eager_ops = sw->eager_ops;
    if (!p->recompute_modules) /* the modules of its selective recompute, unless the plan names them */
        p->recompute_modules = sw->recompute_modules;
    return check_features(sw, p, err);
}

static const char *const attn_names[SP_NATTN] = {"generic", "fa2", "fa3", "cudnn"};

const char *sp_attn_kernel_name(sp_attn_kernel k) { return k >= 0 && k < SP_NATTN ? attn_names[k] : "?"; }

sp_status sp_attn_kernel_parse(const char *s, sp_attn_kernel *out)
{
    for (int k = 0; s && k < SP_NATTN; k++)
        if (strcmp(s, attn_names[k]) == 0) {
            *out = (sp_attn_kernel)k;
            return SP_OK;
        }
    return SP_EINVAL;
}

sp_status sp_eager_ops_parse(const char *s, unsigned *out, sp_error *err)
{
    static const char *const names[3] = {"norm", "rope", "act"};
    *out = 0;
    if (s && strcmp(s, "none") == 0)
        return SP_OK;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s ? s : "");
    char *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++) {
        int k = 0;
        while (k < 3 && strcmp(tok, names[k]) != 0)
            k++;
        if (k == 3)
            return sp_fail(err, SP_EINVAL, "unknown eager op '%s'; allowed none or a comma list of norm, rope, act", tok);
        *out |= 1u << k;
    }
    return n ? SP_OK : sp_fail(err, SP_EINVAL, "empty eager op list; allowed none or a comma list of norm, rope, act");
}

static const char *const disp_names[SP_NDISP] = {"alltoall", "allgather", "deepep", "hybridep"};

const char *sp_moe_dispatcher_name(sp_moe_dispatcher d) { return (unsigned)d < SP_NDISP ? disp_names[d] : "?"; }

sp_status sp_moe_dispatcher_parse(const char *s, sp_moe_dispatcher *out, sp_error *err)
{
    for (int i = 0; s && i < SP_NDISP; i++)
        if (strcmp(s, disp_names[i]) == 0) {
            *out = (sp_moe_dispatcher)i;
            return SP_OK;
        }
    return sp_fail(err, SP_EINVAL, "'%s'; allowed alltoall, allgather, deepep, hybridep", s ? s : "");
}

/* CUDA-graph scopes by Megatron-Core's names (cuda_graph_modules; 'layer' is its empty list, the whole layer) */
static const struct {
    const char *name;
    unsigned bits;
} graph_names[] = {{"attn", SP_GRAPH_ATTN},
                   {"mlp", SP_GRAPH_MLP},
                   {"moe", SP_GRAPH_MOE},
                   {"moe_router", SP_GRAPH_MOE_ROUTER},
                   {"moe_preprocess", SP_GRAPH_MOE_PREPROCESS},
                   {"mamba", SP_GRAPH_MAMBA},
                   {"layer", SP_GRAPH_LAYER},
                   {"full_iteration", SP_GRAPH_FULL_ITERATION}};
#define N_GRAPH_NAMES (sizeof graph_names / sizeof graph_names[0])

sp_status sp_cuda_graphs_parse(const char *s, unsigned *out, sp_error *err)
{
    static const char allowed[] = "allowed none, full_iteration, or a comma list of attn, mlp, moe, moe_router, "
                                  "moe_preprocess, mamba, layer";
    unsigned g = 0;
    if (s && strcmp(s, "none") == 0) {
        *out = 0;
        return SP_OK;
    }
    for (const char *p = s; p && *p;) {
        size_t n = strcspn(p, ",");
        size_t i = 0;
        while (i < N_GRAPH_NAMES && !(strlen(graph_names[i].name) == n && strncmp(p, graph_names[i].name, n) == 0))
            i++;
        if (i == N_GRAPH_NAMES)
            return sp_fail(err, SP_EINVAL, "'%s'; %s", s, allowed);
        g |= graph_names[i].bits;
        p += n + (p[n] == ',');
    }
    if (!s || !*s || ((g & SP_GRAPH_FULL_ITERATION) && g != SP_GRAPH_FULL_ITERATION))
        return sp_fail(err, SP_EINVAL, "'%s'; %s (full_iteration alone)", s ? s : "", allowed);
    *out = g;
    return SP_OK;
}

const char *sp_cuda_graphs_name(unsigned g, char *buf, size_t n)
{
    size_t w = 0;
    if (n)
        buf[0] = 0;
    if (g == 0)
        return snprintf(buf, n, "none"), buf;
    if (g & SP_GRAPH_FULL_ITERATION)
        return snprintf(buf, n, "full_iteration"), buf;
    if ((g & SP_GRAPH_LAYER) == SP_GRAPH_LAYER)
        return snprintf(buf, n, "layer"), buf;
    for (size_t i = 0; i < N_GRAPH_NAMES; i++)
        if ((graph_names[i].bits & g) == graph_names[i].bits && graph_names[i].bits != SP_GRAPH_LAYER && w < n) {
            int k = snprintf(buf + w, n - w, "%s%s", w ? "," : "", graph_names[i].name);
            w += k > 0 ? (size_t)k : 0;
        }
    return buf;
}

static double cap1(double x) { return x < 1 ? x : 1; }

/* The stack's efficiency factors for the system's hardware family (data/software efficiency, fitted by
 * tools/calibrate.py: docs/calibration.md): the family's GEMM curves, attention kernels and memory-bound bandwidth
 * as this stack's kernels realise them. A family the stack does not list keeps the accelerator file's curves. */
static void apply_eff(const sp_software *sw, sp_accel *a)
{
    const sp_stack_eff *x = NULL;
    for (int i = 0; i < sw->n_eff && !x; i++)
        if (a->family[0] && strcmp(sw->eff[i].family, a->family) == 0)
            x = &sw->eff[i];
    if (!x)
        return;
    sp_efficiency *e = &a->eff;
    if (e->fp8_gemm_max > 0) {
        e->fp8_gemm_max = cap1(e->fp8_gemm_max * x->fp8_gemm);
    } else if (x->fp8_gemm != 1) { /* the scaled formats ran on the 16-bit curve: give them their own */
        e->fp8_gemm_max = cap1(e->gemm_max * x->fp8_gemm);
        e->fp8_gemm_k_half = e->gemm_k_half;
    }
    /* generic attention is gemm_max x attn: keep it at the stack's attention factor alone */
    e->attn = e->attn * x->attn / x->gemm;
    e->gemm_max = cap1(e->gemm_max * x->gemm);
    for (int k = 0; k < SP_NATTN; k++) {
        e->attn_fwd[k] = cap1(e->attn_fwd[k] * x->attn);
        e->attn_bwd[k] = cap1(e->attn_bwd[k] * x->attn);
        e->attn_band_fwd[k] = cap1(e->attn_band_fwd[k] * x->attn);
        e->attn_band_bwd[k] = cap1(e->attn_band_bwd[k] * x->attn);
    }
    e->mem = cap1(e->mem * x->mem);
    e->grouped_gemm = cap1(x->moe_gemm);
}

void sp_software_apply_system(const sp_software *sw, sp_system *s)
{
    apply_eff(sw, &s->acc);
    s->attn_kernel = sw->attn_kernel;
    s->attn_no_sinks = sw->attn_no_sinks;
    s->rope_mscale_unfused = sw->rope_mscale_unfused;
    s->ssd_scan_triton = sw->ssd_scan_triton;
    s->cudnn_frontend = sw->cudnn_frontend;
    s->tp_micro_pipeline = sw->tp_micro_pipeline;
    s->separate_qkv = sw->separate_qkv;
    s->separate_gate_up = sw->separate_gate_up;
    s->a2a_dispatch_16bit = sw->a2a_dispatch_16bit;
    s->flash_attention = sw->flash_attention;
    s->overlap_tp = sw->overlap_tp;
    s->overlap_dp = sw->overlap_dp;
    s->overlap_ep = sw->overlap_ep;
    s->overlap_pp = sw->overlap_pp;
    s->pp_send_wait = sw->pp_send_wait;
    memcpy(s->one_queue, sw->one_queue, sizeof s->one_queue);
    s->one_queue_ep = sw->one_queue_ep;
}

/* a dimension the stack lacks: fixed to 1 (off), or refused when the caller fixed it to more */
static sp_status fix_off(const sp_software *sw, unsigned feat, const char *knob, int *fix, sp_error *err)
{
    if (sw->supports & feat)
        return SP_OK;
    if (*fix > 1)
        return need(sw, feat, knob, *fix, err);
    *fix = 1;
    return SP_OK;
}

sp_status sp_software_apply_search(const sp_software *sw, sp_search_opts *o, sp_error *err)
{
    sp_status rc = fix_off(sw, SP_FEAT_TP, "tp", &o->fix_tp, err);
    if (!rc)
        rc = fix_off(sw, SP_FEAT_PP, "pp", &o->fix_pp, err);
    if (!rc)
        rc = fix_off(sw, SP_FEAT_CP, "cp", &o->fix_cp, err);
    if (!rc)
        rc = fix_off(sw, SP_FEAT_EP, "ep", &o->fix_ep, err);
    if (!rc)
        rc = fix_off(sw, SP_FEAT_VPP, "vpp", &o->fix_vpp, err);
    if (!rc && !(sw->supports & SP_FEAT_SP)) {
        if (o->fix_sp == 1)
            return need(sw, SP_FEAT_SP, "sp", 1, err);
        o->fix_sp = 0;
    }
    if (rc)
        return rc;
    if (!(sw->supports & SP_FEAT_VPP))
        o->max_vpp = 1;
    unsigned all_zero = SP_FEAT_ZERO1 | SP_FEAT_ZERO2 | SP_FEAT_ZERO3;
    static const unsigned zfeat[4] = {0, SP_FEAT_ZERO1, SP_FEAT_ZERO2, SP_FEAT_ZERO3};
    if (o->fix_zero >= 1 && o->fix_zero <= 3 && !(sw->supports & zfeat[o->fix_zero]))
        return need(sw, zfeat[o->fix_zero], "zero", o->fix_zero, err);
    if ((sw->supports & all_zero) != all_zero && o->fix_zero == SP_FREE)
        o->fix_zero = sw->zero == 3 && !sw->fsdp_reshard ? 2 : sw->zero;
    /* pipeline schedules: 1F1B (interleaved with vpp) always, the others where the stack lists them */
    static const unsigned sfeat[4] = {0, SP_FEAT_ZBH1, SP_FEAT_ZBV, SP_FEAT_DUALPIPE};
    int named = o->schedules != SP_SEARCH_ALL_SCHEDULES; /* --schedules given: a schedule the stack lacks is refused */
    for (int k = 1; k < 4; k++)
        if (!(sw->supports & sfeat[k])) {
            if (named && (o->schedules & 1u << k))
                return sp_fail(err, SP_EINVAL, "software '%s' has no %s (schedules)", sw->name, feat_name(sfeat[k]));
            o->schedules &= ~(1u << k);
        }
    o->plan.weight_bytes = sw->weight_bytes;
    o->plan.grad_bytes = sw->grad_bytes;
    o->plan.optimizer_bytes = sw->optimizer_bytes;
    o->plan.flash_attention = sw->flash_attention;
    return SP_OK;
}

void sp_software_search_knobs(const sp_software *sw, unsigned given, sp_search_opts *o)
{
    if (!(given & SP_KNOB_GRAPHS))
        o->plan.cuda_graphs = sw->cuda_graphs;
    if (!(given & SP_KNOB_DISPATCHER))
        o->plan.moe_dispatcher = sw->moe_dispatcher;
}
