/* Adapting instead of pre-training: full fine-tuning, LoRA (Hu et al. 2021) and QLoRA (Dettmers et al. 2023),
 * and structured pruning as a model transform. The step-time and memory model is the training model
 * (step.c, memory.c) with the base weights frozen: no weight-gradient GEMMs, no optimizer state or gradient
 * reduction for them; adapters add their own small GEMMs, states and reduction.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

sp_status sp_finetune_parse(const char *method, const char *targets, const char *base_dtype, int rank,
                            sp_finetune *ft, sp_error *err)
{
    memset(ft, 0, sizeof *ft);
    if (!method || strcmp(method, "lora") == 0)
        ft->method = SP_FT_LORA;
    else if (strcmp(method, "full") == 0)
        ft->method = SP_FT_FULL;
    else if (strcmp(method, "qlora") == 0)
        ft->method = SP_FT_QLORA;
    else
        return sp_fail(err, SP_EINVAL, "--method: '%s'; allowed full, lora, qlora", method);
    /* defaults: LoRA rank 16 on attention + MLP in bf16; QLoRA rank 64 on all linear layers in NF4 (the QLoRA
     * paper's setting) */
    ft->rank = ft->method == SP_FT_QLORA ? 64 : ft->method == SP_FT_LORA ? 16 : 0;
    ft->targets = SP_LORA_ATTN | SP_LORA_MLP;
    snprintf(ft->base_dtype, sizeof ft->base_dtype, "%s", ft->method == SP_FT_QLORA ? "nf4" : "bf16");
    if (rank != 0) {
        if (ft->method == SP_FT_FULL)
            return sp_fail(err, SP_EINVAL, "--rank applies to lora and qlora, not to --method full");
        if (rank < 1)
            return sp_fail(err, SP_EINVAL, "--rank %d; allowed >= 1", rank);
        ft->rank = rank;
    }
    if (targets) {
        if (ft->method == SP_FT_FULL)
            return sp_fail(err, SP_EINVAL, "--targets applies to lora and qlora, not to --method full");
        ft->targets = 0;
        char buf[128];
        snprintf(buf, sizeof buf, "%s", targets);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (strcmp(tok, "attn") == 0)
                ft->targets |= SP_LORA_ATTN;
            else if (strcmp(tok, "mlp") == 0)
                ft->targets |= SP_LORA_MLP;
            else if (strcmp(tok, "all") == 0)
                ft->targets |= SP_LORA_ATTN | SP_LORA_MLP;
            else
                return sp_fail(err, SP_EINVAL, "--targets: '%s' is not a target; allowed attn, mlp, all (comma separated)", tok);
        }
        if (!ft->targets)
            return sp_fail(err, SP_EINVAL, "--targets: empty; allowed attn, mlp, all");
    }
    if (base_dtype)
        snprintf(ft->base_dtype, sizeof ft->base_dtype, "%s", base_dtype);
    const char *b = ft->base_dtype;
    if (strcmp(b, "bf16") == 0 || strcmp(b, "fp16") == 0)
        ft->base_bytes = 2;
    else if (strcmp(b, "int8") == 0)
        ft->base_bytes = 1;
    else if (strcmp(b, "nf4") == 0 || strcmp(b, "int4") == 0)
        ft->base_bytes = (4 + 0.127) / 8; /* NF4 + double-quantized block constants (QLoRA §3) */
    else
        return sp_fail(err, SP_EINVAL, "--base-dtype: '%s'; allowed bf16, fp16, int8, nf4", b);
    if (ft->method == SP_FT_FULL && ft->base_bytes < 2)
        return sp_fail(err, SP_EINVAL,
                       "--base-dtype %s cannot be trained with --method full (weights must be 16-bit); use lora or qlora", b);
    if (ft->method == SP_FT_QLORA && ft->base_bytes >= 2)
        return sp_fail(err, SP_EINVAL, "--method qlora quantizes the base: --base-dtype %s; allowed int8, nf4 (or use lora)", b);
    if (ft->method == SP_FT_LORA && ft->base_bytes < 1)
        return sp_fail(err, SP_EINVAL, "--method lora with a 4-bit base is QLoRA: use --method qlora");
    return SP_OK;
}

sp_status sp_finetune_apply(const sp_model *m, const sp_finetune *ft, sp_plan *p, sp_error *err)
{
    if (ft->method == SP_FT_FULL) /* the same model states as train: bytes per parameter from the stack */
        return SP_OK;
    int dims[] = {m->d_model, sp_model_attn_qdim(m), sp_model_kvdim(m), m->ffn_dim};
    int smallest = m->d_model;
    for (int i = 0; i < 4; i++) {
        if (i == 3 && !(ft->targets & SP_LORA_MLP))
            continue;
        if ((i == 1 || i == 2) && !(ft->targets & SP_LORA_ATTN))
            continue;
        if (dims[i] < smallest)
            smallest = dims[i];
    }
    if (ft->rank > smallest)
        return sp_fail(err, SP_EINVAL, "--rank %d is larger than the smallest targeted matrix dimension (%d) of %s",
                       ft->rank, smallest, m->name);
    if (p->zero >= 3)
        return sp_fail(err, SP_EINVAL, "--zero 3 shards trainable states; with frozen base weights use --zero 0..2");
    p->frozen_base = 1;
    p->lora_rank = ft->rank;
    p->lora_targets = ft->targets;
    p->base_weight_bytes = ft->base_bytes;
    p->grad_bytes = 2;
    return SP_OK;
}

double sp_finetune_trainable(const sp_model *m, const sp_finetune *ft)
{
    if (ft->method == SP_FT_FULL) {
        sp_param_count pc;
        sp_model_params(m, &pc);
        return pc.total;
    }
    return m->n_layers * sp_lora_params_per_layer(m, ft->rank, ft->targets);
}

sp_status sp_model_prune(sp_model *m, int heads, double ffn_frac, sp_error *err)
{
    if (heads < 0 || heads >= m->n_heads)
        return sp_fail(err, SP_EINVAL, "--prune-heads %d; allowed 0..%d (the model has %d heads per layer)", heads,
                       m->n_heads - 1, m->n_heads);
    if (!(ffn_frac >= 0 && ffn_frac < 1))
        return sp_fail(err, SP_EINVAL, "--prune-ffn %g; allowed a fraction in [0, 1)", ffn_frac);
    if (heads > 0) {
        int group = m->n_heads / m->n_kv_heads; /* query heads per KV head */
        if (m->n_kv_heads < m->n_heads && heads % group)
            return sp_fail(err, SP_EINVAL,
                           "--prune-heads %d: with grouped-query attention heads go in whole groups of %d", heads, group);
        int new_heads = m->n_heads - heads;
        m->n_kv_heads = m->n_kv_heads == m->n_heads ? new_heads : m->n_kv_heads - heads / group;
        m->n_heads = new_heads;
    }
    if (ffn_frac > 0) {
        int f = (int)floor(m->ffn_dim * (1 - ffn_frac) + 0.5);
        m->ffn_dim = f < 1 ? 1 : f;
        if (m->moe_ffn_dim > 0) {
            int fe = (int)floor(m->moe_ffn_dim * (1 - ffn_frac) + 0.5);
            m->moe_ffn_dim = fe < 1 ? 1 : fe;
        }
    }
    return SP_OK;
}
