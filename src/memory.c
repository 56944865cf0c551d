/* Memory per GPU (DESIGN.md §3.6), worst pipeline stage.
 *
 * Model states (mixed-precision Adam, Megatron-LM / DeepSpeed accounting): 2 B fp16/bf16 weights + 4 B fp32
 * main gradients + 12 B optimizer (fp32 master, two moments) = 18 B per parameter held (Korthikanti et al.
 * 2022 use the same 18 B; Rajbhandari et al. 2020 count 16 B with 2 B gradients). ZeRO-1 shards the optimizer
 * over DP, ZeRO-2 also the gradients, ZeRO-3 also the weights (+ one prefetched layer gathered).
 *
 * Activations per layer per micro-batch: the bytes the layer's ops keep for the backward pass (ops.c, `saved`:
 * Korthikanti et al. 2022 §4 counted per op and generalised to GQA, gated MLPs, MoE and recurrent mixers). For a GPT
 * layer in 16 bits this is their formula, s·b·h·(10 + 24 + 5·a·s/h) without SP and TP: replicated (÷t only with
 * SP) two norm inputs 4, QKV input 2, MLP input 2, dropout masks 2; sharded (÷t) Q, K, V, projection input 8, MLP
 * 16; attention scores (÷t; 0 with flash) softmax out 2, dropout mask 1, dropout out 2. Selective recompute drops
 * the scores; full recompute keeps the layer input 2·s·b·h (÷t with SP) plus one layer's full activations during
 * its backward. The first stage holds min(m, p) micro-batches in flight under 1F1B, × (1 + (p−1)/(p·v)) when
 * interleaved.
 */
#include "scaleplan.h"
#include "memory.h"
#include "ops.h"

#include <math.h>
#include <string.h>

/* The memory a training process holds outside the model's tensors (docs/model.md "Memory reserve"), per GPU, in
 * parts with their sources:
 *  - CUDA context with the kernel modules loaded: 666,632,192 B measured by cudaMemGetInfo (total - free) after one
 *    small tensor with every PyTorch kernel module loaded (CUDA_MODULE_LOADING=DEFAULT), 287,047,680 B with lazy
 *    loading (pytorch/pytorch#86509); a training step runs enough distinct kernels (GEMMs, attention, NCCL, Transformer
 *    Engine) that the eager figure is the one taken;
 *  - cuBLAS workspaces: 32 MiB per (handle, stream) on compute capability 9.0 (Hopper) and later, 4 MiB before (cuBLAS
 *    docs, cublasSetWorkspace; PyTorch's CUDABlas.cpp since pytorch/pytorch#120925; Transformer Engine gates on the
 *    major: NVIDIA/TransformerEngine@42b840051647 transformer_engine/pytorch/cpp_extensions/gemm.py:33-38, major >= 9:
 *    32 MiB + 1 KiB, else 4 MiB), one on the compute stream (PyTorch) and 4 of Transformer Engine's
 *    (transformer_engine/pytorch get_num_cublas_streams() = 4, get_cublas_workspace_size_bytes); an accelerator
 *    without a compute capability (not a CUDA GPU) keeps the 32 MiB figure;
 *  - NCCL: per communicator the plan uses (a TP, CP, EP, DP, expert-DP or PP group of more than one rank), per channel,
 *    one connection's buffers of each protocol: Simple NCCL_BUFFSIZE 4 MiB + LL 512 KiB + LL128 4,915,200 B (NCCL
 *    src/init.cc DEFAULT_BUFFSIZE, DEFAULT_LL_BUFFSIZE, DEFAULT_LL128_BUFFSIZE; docs "Environment Variables":
 *    NCCL_BUFFSIZE), over 16 channels (an assumption: NCCL picks 2-32 channels by topology and its memory is linear in
 *    them, NVIDIA/nccl#986; lazy connection setup, NCCL >= 2.22, allocates only the communicators a step uses).
 * The caching allocator's fragmentation is not here: the search keeps it as headroom (SP_SEARCH_MEM_FRAC). */
#define SP_MIB 1048576.0
#define SP_CUDA_CONTEXT_BYTES 666632192.0
#define SP_CUBLAS_WORKSPACE_HOPPER (32 * SP_MIB)
#define SP_CUBLAS_WORKSPACE_OLDER (4 * SP_MIB)
#define SP_CUBLAS_STREAMS 5
#define SP_NCCL_CONN_BYTES (4194304.0 + 524288.0 + 4915200.0)
#define SP_NCCL_CHANNELS 16

/* cuBLAS workspace size of one stream: 4 MiB below compute capability 9.0 (Pascal .. Ada), else 32 MiB */
static double cublas_workspace(const sp_accel *a)
{
    return a->cc > 0 && a->cc < 90 ? SP_CUBLAS_WORKSPACE_OLDER : SP_CUBLAS_WORKSPACE_HOPPER;
}

/* Communicators of more than one rank the plan's step uses: TP, CP, EP, DP (the dense gradient group), the expert
 * data-parallel group when it is not the dense one, PP. */
static double nccl_bytes(const sp_plan *p, int expert_dp)
{
    long long dense_dp = sp_plan_replicas(p) * p->cp;
    int n = (p->tp > 1) + (p->cp > 1) + (p->ep > 1) + (dense_dp > 1) + (p->ep > 1 && expert_dp > 1) + (p->pp > 1);
    return n * SP_NCCL_CHANNELS * SP_NCCL_CONN_BYTES;
}

double sp_mem_reserve_fixed(const sp_accel *a) { return SP_CUDA_CONTEXT_BYTES + SP_CUBLAS_STREAMS * cublas_workspace(a); }

void sp_mem_reserve_parts(const sp_accel *a, const sp_plan *p, int expert_dp, double parts[3])
{
    parts[0] = SP_CUDA_CONTEXT_BYTES; /* sp_mem_reserve_fixed: parts[0] + parts[1] */
    parts[1] = SP_CUBLAS_STREAMS * cublas_workspace(a);
    parts[2] = nccl_bytes(p, expert_dp);
}

/* Full recompute by the block method (sp_plan_full_share < 1): the share of the layers recomputed keeps its input,
 * the rest everything (x: one layer's bytes per recompute mode). */
static void block_share(const sp_plan *p, int n_layers, double x[3])
{
    double sh = sp_plan_full_share(p, n_layers);
    if (sh < 1)
        x[SP_RECOMPUTE_FULL] = sh * x[SP_RECOMPUTE_FULL] + (1 - sh) * x[SP_RECOMPUTE_NONE];
}

/* One layer's activation bytes under each recompute mode (indexed by sp_recompute): the bytes its ops keep for the
 * backward pass (ops.c builds them with the ops the step prices; selective: the plan's recompute modules). A model whose layers differ keeps each (mixer, FFN)
 * kind's bytes (a pipeline stage sums its own layers': sp_mem_held_bytes) and their average over the model's layers;
 * a uniform MoE model counts every layer as an MoE layer (its leading dense layers included: the first stage's). The
 * working layer full recompute rebuilds in the backward: the heaviest kind's. */
static void layer_activation_bytes(const sp_model *m, const sp_system *s, const sp_plan *p, sp_shape_mem *pre, int flash)
{
    sp_layer_ctx c;
    sp_layer_ops l;
    double *out = pre->act;
    sp_layer_ctx_init(&c, m, s, p, &pre->pc, flash);
    if (m->n_pattern == 0) {
        sp_layer_build(&c, sp_model_is_moe(m), &l);
        sp_layer_saved(&l, out);
        pre->work = out[SP_RECOMPUTE_NONE];
        block_share(p, m->n_layers, out);
        return;
    }
    out[0] = out[1] = out[2] = 0;
    pre->work = 0;
    for (int mx = 0; mx < SP_NMIXER; mx++)
        for (int f = 0; f < SP_NFFN; f++) {
            int n = pre->pc.count[mx][f];
            double *one = pre->kind_act[mx][f];
            one[0] = one[1] = one[2] = 0;
            if (n == 0)
                continue;
            sp_layer_build_kind(&c, (sp_mixer)mx, (sp_ffn)f, &l);
            sp_layer_saved(&l, one);
            block_share(p, m->n_layers, one);
            for (int rc = 0; rc < 3; rc++)
                out[rc] += one[rc] * n / m->n_layers;
            if (one[SP_RECOMPUTE_NONE] > pre->work)
                pre->work = one[SP_RECOMPUTE_NONE];
        }
}

/* BF16 layers (plan.h sp_plan_bf16_layer): each layer kind's bytes built from a layer context with its 16-bit GEMM
 * dtype (ops.c saved_input_bytes: 16-bit GEMM inputs), the uniform model's in act16, and what they add to a stage
 * holding every layer beyond the first offload_layers (bf16_extra). */
static void bf16_activation_bytes(const sp_model *m, const sp_system *s, const sp_plan *p, sp_shape_mem *pre, int flash)
{
    pre->bf16 = sp_plan_bf16_count(p, m->n_layers);
    pre->bf16_extra[0] = pre->bf16_extra[1] = pre->bf16_extra[2] = 0;
    if (!pre->bf16)
        return;
    sp_layer_ctx c;
    sp_layer_ops l;
    sp_layer_ctx_init(&c, m, s, p, &pre->pc, flash);
    c.d = c.d16;
    if (m->n_pattern == 0) {
        sp_layer_build(&c, sp_model_is_moe(m), &l);
        sp_layer_saved(&l, pre->act16);
        if (pre->act16[SP_RECOMPUTE_NONE] > pre->work)
            pre->work = pre->act16[SP_RECOMPUTE_NONE];
        block_share(p, m->n_layers, pre->act16);
    } else
        for (int mx = 0; mx < SP_NMIXER; mx++)
            for (int f = 0; f < SP_NFFN; f++) {
                double *one = pre->kind_act16[mx][f];
                one[0] = one[1] = one[2] = 0;
                if (pre->pc.count[mx][f] == 0)
                    continue;
                sp_layer_build_kind(&c, (sp_mixer)mx, (sp_ffn)f, &l);
                sp_layer_saved(&l, one);
                if (one[SP_RECOMPUTE_NONE] > pre->work)
                    pre->work = one[SP_RECOMPUTE_NONE];
                block_share(p, m->n_layers, one);
            }
    for (int i = p->offload_layers; i < m->n_layers; i++)
        for (int rc = 0; rc < 3; rc++)
            pre->bf16_extra[rc] += sp_mem_layer_bytes(m, p, pre, i, rc) - (m->n_pattern > 0
                ? pre->kind_act[sp_model_mixer(m, i)][sp_model_ffn(m, i)][rc] : pre->act[rc]);
}

double sp_mem_layer_bytes(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, int i, int rc)
{
    int b16 = pre->bf16 && sp_plan_bf16_layer(p, m->n_layers, i);
    if (m->n_pattern > 0)
        return (b16 ? pre->kind_act16 : pre->kind_act)[sp_model_mixer(m, i)][sp_model_ffn(m, i)][rc];
    return b16 ? pre->act16[rc] : pre->act[rc];
}

/* Pipeline stage i of a model whose layers differ holds layers [i·n, min((i+1)·n, L)), n = ceil(L/pp) (step.c
 * stage_pattern, the split the step prices; kept under interleaving). */
static int stage_first(int L, int pp, int i) { return i * ((L + pp - 1) / pp) < L ? i * ((L + pp - 1) / pp) : L; }

/* Parameters of stage i of a model whose layers differ, per GPU: dense (mixers, norms, dense MLPs, shared experts
 * and routers, / TP) and routed experts (/ EP x ETP), without the embedding and head (and the final norm). */
static void stage_own_params(const sp_model *m, const sp_plan *p, const sp_param_count *pc, int i, double *dense,
                             double *expert)
{
    int L = m->n_layers, a = stage_first(L, p->pp, i), b = stage_first(L, p->pp, i + 1);
    double shared = sp_model_is_moe(m) ? pc->moe_per_layer - m->n_experts * pc->expert : 0, d = 0, e = 0;
    /* one norm (the final norm's size, model.c) before each sublayer present, two with post-norms */
    double norm = (pc->total - pc->layers_total - pc->embedding - pc->lm_head) * (m->post_norms ? 2 : 1);
    for (int l = a; l < b; l++) {
        sp_ffn f = sp_model_ffn(m, l);
        sp_mixer mx = sp_model_mixer(m, l);
        d += sp_model_mixer_params(m, mx) + norm * ((mx != SP_MIX_NONE) + (f != SP_FFN_NONE));
        d += f == SP_FFN_DENSE ? pc->mlp_dense_per_layer : f == SP_FFN_MOE ? shared : 0;
        e += f == SP_FFN_MOE ? m->n_experts * pc->expert : 0;
    }
    *dense = d / p->tp;
    *expert = e / (p->ep * (double)sp_plan_etp(p));
}

/* Layers that differ on PP > 1: the stage whose own layers (and end: embedding first, LM head + MTP last, `ends`)
 * hold the most parameters per GPU. */
static void pattern_stage_params(const sp_model *m, const sp_plan *p, const sp_param_count *pc, const double ends[2],
                                 double *dense, double *expert)
{
    double best = -1;
    for (int i = 0; i < p->pp; i++) {
        double d, e;
        stage_own_params(m, p, pc, i, &d, &e);
        d += (i == 0 ? ends[0] : 0) + (i == p->pp - 1 ? ends[1] : 0);
        if (i == p->pp - 1)
            e += ends[2];
        if (d + e > best)
            best = d + e, *dense = d, *expert = e;
    }
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
    double emb = pc.embedding / t, head = pc.lm_head / t, mtp_experts = 0;
    if (m->n_mtp > 0) { /* MTP modules on the last stage, their routed experts sharded as the layers' */
        double routed = m->mtp_ffn == SP_FFN_MOE ? m->n_mtp * m->n_experts * pc.expert : 0;
        head += (pc.mtp - routed) / t;
        mtp_experts = routed / (p->ep * (double)sp_plan_etp(p));
        experts += mtp_experts;
    }
    if (m->n_pattern > 0 && p->pp > 1) { /* layers that differ: the heaviest stage of its own layers */
        double ends[3] = {emb, head + (pc.lm_head == 0 ? emb : 0), mtp_experts}; /* tied: both ends hold a copy */
        pattern_stage_params(m, p, &pc, ends, dense, expert);
        return;
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
    layer_activation_bytes(m, s, p, pre, flash);
    bf16_activation_bytes(m, s, p, pre, flash);
    pre->reserve_fixed = sp_mem_reserve_fixed(&s->acc);
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
    double weights, grads, optimizer, comm_buffers, overhead;
} static_fields;

static inline static_fields mem_static_fields(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre,
                                              const sp_stage_params *st, int z)
{
    static_fields f = {0, 0, 0, 0, 0};
    /* the reserve: its fixed parts and 16 channels of NCCL buffers per communicator of the plan */
    f.overhead = pre->reserve_fixed + nccl_bytes(p, st->expert_dp);
    double dense = st->dense, expert = st->expert;
    int edp = st->expert_dp;
    /* sharding groups of dense (CP x EP x DP, CP x DP folded, or the HSDP group) and expert params (plan.h) */
    double dpd = sp_plan_shard_dense(p), dpe = sp_plan_shard_expert(p, edp);

    /* model-state bytes per parameter come from the software stack (sp_software_apply; docs/systems.md): Megatron
     * 2 + 4 + 12 = 18, FSDP / MaxText 4 (fp32 master as the weight) + 4 + 8 = 16, DeepSpeed bf16 2 + 2 + 12 = 16 */
    double wb = p->frozen_base && p->base_weight_bytes > 0 ? p->base_weight_bytes
                                                           : (p->weight_bytes > 0 ? p->weight_bytes : 2.0);
    double gb = p->grad_bytes > 0 ? p->grad_bytes : 4.0;
    double ob = p->optimizer_bytes > 0 ? p->optimizer_bytes : 12.0;
    f.weights = wb * (z >= 3 ? dense / dpd + expert / dpe : dense + expert);
    if (z >= 3 && p->zero3_keep) /* every layer's gathered 16-bit weights, held from its forward to its backward */
        f.weights += 2.0 * (dense + expert);
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
    if (z >= 3 && !p->zero3_keep) {
        /* two gathered layers (current + prefetched), 16-bit */
        const sp_param_count *pc = &pre->pc;
        double layer = pc->attn_per_layer + (sp_model_is_moe(m) ? pc->moe_per_layer / p->ep : pc->mlp_dense_per_layer);
        f.comm_buffers += 2.0 * 2.0 * layer / p->tp;
    }
    if (p->schedule == SP_SCHED_DUALPIPE) { /* each GPU holds a stage of each direction: two copies of the parameters
                                             * and their states (DeepSeek-V3 §3.2.1, Table 2: parameter 2x) */
        f.weights *= 2, f.grads *= 2, f.optimizer *= 2;
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
    mem->overhead = f.overhead;
    mem->total = sp_mem_states_sum(mem);
}

void sp_mem_states_by_zero(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, const sp_stage_params *st,
                          double total[4])
{
    for (int z = 0; z < 4; z++) {
        static_fields f = mem_static_fields(m, p, pre, st, z);
        sp_memory x = {.weights = f.weights, .grads = f.grads, .optimizer = f.optimizer,
                       .comm_buffers = f.comm_buffers, .overhead = f.overhead};
        total[z] = sp_mem_states_sum(&x);
    }
}

/* Activations: depend on the micro-batches in flight (PP, virtual stages) and recompute, not on ZeRO. The layers
 * held on the first stage and the embedding/logits bytes (the part recompute does not change). */
void sp_mem_act_terms(const sp_model *m, const sp_plan *p, double *layers_held, double *emb_logits)
{
    int n_micro = (int)(p->global_batch / (sp_plan_replicas(p) * p->micro_batch));
    /* 1F1B, ZB-H1 and ZB-V hold p micro-batches in flight on the first stage (Qi et al. 2023: ZB-H1 and ZB-V peak at
     * 1F1B's activation memory), DualPipe p + 1 (DeepSeek-V3 Table 2) */
    double inflight = (p->schedule == SP_SCHED_DUALPIPE ? p->pp + 1 : p->pp);
    inflight = inflight < n_micro ? inflight : n_micro;
    /* activation offloading: the stage's first offload_layers layers keep theirs in host memory (plan.c: fewer than
     * the stage's layers) */
    double held = (sp_stage_layers(m->n_layers, p->pp) - p->offload_layers) * inflight;
    if (p->vpp > 1 && p->schedule != SP_SCHED_ZBV)
        held *= sp_mem_interleave_factor(p->pp, p->vpp);
    *layers_held = held;
    /* embedding output (first stage) and fp32 logits + their gradient for the loss (last stage) */
    double sb = p->seq_len / (double)p->cp * p->micro_batch;
    double logits = sb * m->vocab / p->tp * (4.0 + 2.0);
    double emb_out = sb * m->d_model * 2.0 * inflight / ((p->seq_parallel && p->tp > 1) ? p->tp : 1);
    *emb_logits = p->pp == 1 ? logits + emb_out : (logits > emb_out ? logits : emb_out);
}

/* The layers' activation bytes held (layers_held from sp_mem_act_terms), by recompute mode: the model's layer x held;
 * layers that differ or BF16 layers on PP > 1, the stage whose own layers x its micro-batches in flight (under 1F1B stage i holds
 * p - i of them, DualPipe p + 1 - i; at most the micro-batches of the step) hold the most, x the interleaving factor
 * held carries. */
double sp_mem_stage_peak(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, double out[3])
{
    int n_micro = (int)(p->global_batch / (sp_plan_replicas(p) * p->micro_batch)), L = m->n_layers;
    int base = p->schedule == SP_SCHED_DUALPIPE ? p->pp + 1 : p->pp;
    out[0] = out[1] = out[2] = 0;
    for (int i = 0; i < p->pp; i++) {
        double own[3] = {0, 0, 0}, inflight = base - i < n_micro ? base - i : n_micro;
        for (int l = stage_first(L, p->pp, i) + p->offload_layers; l < stage_first(L, p->pp, i + 1); l++)
            for (int rc = 0; rc < 3; rc++)
                own[rc] += sp_mem_layer_bytes(m, p, pre, l, rc);
        for (int rc = 0; rc < 3; rc++)
            if (own[rc] * inflight > out[rc])
                out[rc] = own[rc] * inflight;
    }
    return (sp_stage_layers(L, p->pp) - p->offload_layers) * (base < n_micro ? base : n_micro);
}

void sp_mem_held_bytes_stages(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, double held, double out[3])
{
    double first = sp_mem_stage_peak(m, p, pre, out);
    for (int rc = 0; rc < 3; rc++)
        out[rc] *= held / first;
}

void sp_mem_activations(const sp_model *m, const sp_plan *p, const sp_shape_mem *pre, sp_memory *mem)
{
    memset(mem, 0, sizeof *mem);
    double held, emb, hb[3];
    sp_mem_act_terms(m, p, &held, &emb);
    sp_mem_held_bytes(m, p, pre, held, hb);
    mem->activations_layers = hb[p->recompute];
    mem->activations = sp_mem_act_layers(pre, (int)p->recompute, hb[p->recompute]);
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
