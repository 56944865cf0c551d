/* Reading a model from a Hugging Face config.json (or a scaleplan preset, which uses the same field names).
 *
 * Design: a config is read the way transformers reads it. The `model_type` selects a family whose defaults
 * (tied embeddings, gated MLP, norms, biases, QK-norm, layer patterns) are those of transformers'
 * configuration_<type>.py, cited in the family table; a key absent from the file takes that default. A
 * multimodal config nests the language model under `text_config`: it is read from there and the vision tower
 * is reported as not counted. Each layer's (mixer, FFN) kind comes from the family's pattern keys
 * (layer_types, hybrid_override_pattern, periods and offsets, MoE frequency); a pattern the step's uniform
 * model expresses (every layer alike, dense-first then MoE) is stored as uniform.
 *
 * Every key of the file is accounted for: read, or known not to change the parameter count or FLOPs
 * (tokenizer ids, dropout, RoPE, epsilons, router loss coefficients...: listed as ignored), or refused by
 * name. A key that changes the architecture and is not modelled is an error, and so is an unknown key: it
 * may change the architecture, and a silently wrong count is worse than a refusal.
 *
 * Python's json module writes Infinity, -Infinity and NaN (e.g. Mamba's time_step_limit), which are not JSON:
 * outside strings they are turned into strings before parsing, so a key the model reads that holds one is
 * refused as "expected an integer" and an ignored key may hold one.
 */
#include "scaleplan.h"
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Infinity / NaN tokens ---- */

char *sp_hf_quote_nonfinite(const char *text, size_t n, size_t *out_len)
{
    char *o = malloc(n + n / 3 + 16); /* each rewritten token grows by 2 bytes and is >= 3 long */
    if (!o)
        return NULL;
    size_t w = 0;
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (in_str) {
            o[w++] = c;
            if (c == '\\' && i + 1 < n)
                o[w++] = text[++i];
            else if (c == '"')
                in_str = 0;
            continue;
        }
        static const char *const tok[] = {"-Infinity", "Infinity", "NaN"};
        size_t len = 0;
        for (int t = 0; t < 3 && !len; t++)
            if (n - i >= strlen(tok[t]) && memcmp(text + i, tok[t], strlen(tok[t])) == 0)
                len = strlen(tok[t]);
        if (len) {
            o[w++] = '"';
            memcpy(o + w, text + i, len);
            w += len;
            o[w++] = '"';
            i += len - 1;
            continue;
        }
        in_str = c == '"';
        o[w++] = c;
    }
    o[w] = 0;
    *out_len = w;
    return o;
}

/* ---- reader state ---- */

#define MAX_USED 160
typedef struct {
    const char *path; /* for messages */
    const char *text; /* the file, for line numbers */
    json_t *o;        /* the language model's object (root or text_config) */
    const char *used[MAX_USED];
    int n_used;
    sp_error *err;
    const char *mt; /* model_type */
} hf;

static int line_of(const hf *r, const char *key)
{
    if (!r->text)
        return 0;
    size_t kl = strlen(key);
    for (const char *p = strchr(r->text, '"'); p; p = strchr(p + 1, '"')) {
        if (strncmp(p + 1, key, kl) != 0 || p[kl + 1] != '"')
            continue;
        const char *q = p + kl + 2;
        while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
            q++;
        if (*q != ':')
            continue;
        int line = 1;
        for (const char *t = r->text; t < p; t++)
            line += *t == '\n';
        return line;
    }
    return 0;
}

static json_t *take(hf *r, const char *key)
{
    json_t *v = json_object_get(r->o, key);
    if (v && r->n_used < MAX_USED)
        r->used[r->n_used++] = key;
    return v && !json_is_null(v) ? v : NULL;
}

/* Reads an integer key; *found (optional) says whether it was there. */
static sp_status get_i(hf *r, const char *key, int *out, int lo, int hi, int *found)
{
    json_t *v = take(r, key);
    if (found)
        *found = v != NULL;
    if (!v)
        return SP_OK;
    double d = json_is_integer(v) ? (double)json_integer_value(v) : json_is_real(v) ? json_real_value(v) : NAN;
    if (!(d == floor(d)))
        return sp_fail(r->err, SP_EINVAL, "%s:%d: field '%s': expected an integer", r->path, line_of(r, key), key);
    if (d < lo || d > hi)
        return sp_fail(r->err, SP_EINVAL, "%s:%d: field '%s' = %.15g is out of range; allowed %d..%d", r->path,
                       line_of(r, key), key, d, lo, hi);
    *out = (int)d;
    return SP_OK;
}

/* get_i with a default when the key is absent. */
static sp_status get_id(hf *r, const char *key, int *out, int def, int lo, int hi, int *found)
{
    *out = def;
    return get_i(r, key, out, lo, hi, found);
}

static sp_status get_b(hf *r, const char *key, int *out)
{
    json_t *v = take(r, key);
    if (!v)
        return SP_OK;
    if (!json_is_boolean(v))
        return sp_fail(r->err, SP_EINVAL, "%s:%d: field '%s': expected true or false", r->path, line_of(r, key), key);
    *out = json_is_true(v);
    return SP_OK;
}

static const char *get_s(hf *r, const char *key)
{
    json_t *v = take(r, key);
    return v && json_is_string(v) ? json_string_value(v) : NULL;
}

/* The first of several synonymous integer keys that is present. */
static sp_status get_any(hf *r, const char *const *keys, int *out, int lo, int hi, int *found)
{
    *found = 0;
    for (int i = 0; keys[i] && !*found; i++) {
        sp_status st = get_i(r, keys[i], out, lo, hi, found);
        if (st)
            return st;
    }
    return SP_OK;
}

#define TRY(x)                                                                                           \
    do {                                                                                                 \
        sp_status st_ = (x);                                                                             \
        if (st_)                                                                                         \
            return st_;                                                                                  \
    } while (0)

/* ---- families ---- */

enum { F_LN = 1, F_NOGATE = 2, F_BIAS = 4, F_LPOS = 8, F_TIED = 16, F_QKVB = 32, F_ATTB = 64, F_POST = 128,
       F_QKN = 256, F_QKN_FULL = 512, F_HDROP = 1024, F_ADROP = 2048, F_PAR = 4096 };
typedef struct {
    const char *type;
    unsigned flags;
    const char *src; /* where the defaults come from */
} family;

/* Defaults of transformers' src/transformers/models/<type>/configuration_<type>.py: tie_word_embeddings (F_TIED),
 * the MLP (gated unless F_NOGATE), the norm (LayerNorm: F_LN, RMSNorm otherwise), biases, QK-norm and post-norms
 * as the modeling file builds them. Read this session: llama, gemma, gemma2, qwen2_moe, qwen3_next, llama4 at
 * commit 008e574391258935f3ecc3035c882e73bbcac419; gpt_oss at 02b8f42b4240; nemotron_h at 13923c63d59f; jamba,
 * gemma3 at 008f5c8c29be; phimoe at 040e1a7e4bb4. The other rows are transformers' defaults as documented on each
 * config class, not re-read this session. The first group are scaleplan's older presets (GPT-2/3, BERT, OPT, MPT,
 * BLOOM conventions).
 * Dropout (F_HDROP: 0.1 on the embedding and sublayer outputs, F_ADROP: 0.1 on the attention probabilities; 0 where
 * absent): GPT2Config resid_pdrop = embd_pdrop = attn_pdrop = 0.1 (configuration_gpt2.py at 01ae98ae2414), the
 * Megatron-LM GPT/BERT runs of 2019-22 (arguments.py --hidden-dropout 0.1 --attention-dropout 0.1), BERT
 * hidden_dropout_prob = attention_probs_dropout_prob = 0.1 (Devlin et al. 2019 §A.2), DistilBERT dropout =
 * attention_dropout = 0.1, OPTConfig dropout = 0.1 with attention_dropout = 0.0 (configuration_opt.py); the others
 * (Llama, Mistral, Mixtral, Qwen, DeepSeek, Gemma, GPT-OSS, Nemotron-H, MPT, BLOOM, GPT-J, GPT-NeoX, ...) default to
 * 0 and train without dropout. */
static const family families[] = {
    {"gpt2", F_LN | F_NOGATE | F_BIAS | F_LPOS | F_TIED | F_HDROP | F_ADROP, "GPT-2/3: LayerNorm, GELU, biases, learned positions, tied"},
    {"gpt3", F_LN | F_NOGATE | F_BIAS | F_LPOS | F_TIED | F_HDROP | F_ADROP, "as gpt2"},
    {"megatron-gpt", F_LN | F_NOGATE | F_BIAS | F_LPOS | F_TIED | F_HDROP | F_ADROP, "as gpt2"},
    {"bert", F_LN | F_NOGATE | F_BIAS | F_LPOS | F_TIED | F_HDROP | F_ADROP, "configuration_bert.py (PretrainedConfig default: tied)"},
    {"distilbert", F_LN | F_NOGATE | F_BIAS | F_LPOS | F_TIED | F_HDROP | F_ADROP, "configuration_distilbert.py"},
    {"opt", F_LN | F_NOGATE | F_BIAS | F_LPOS | F_TIED | F_HDROP, "configuration_opt.py: tie_word_embeddings=True"},
    {"bloom", F_LN | F_NOGATE | F_BIAS | F_TIED, "configuration_bloom.py: ALiBi, tied"},
    {"gpt_neox", F_LN | F_NOGATE | F_BIAS | F_PAR, "configuration_gpt_neox.py: tie_word_embeddings=False, use_parallel_residual=True"},
    {"gptj", F_LN | F_NOGATE | F_BIAS | F_PAR, "configuration_gptj.py: tie_word_embeddings=False; modeling_gptj.py GPTJBlock: attn + mlp of one ln_1, added to the residual together"},
    {"mpt", F_LN | F_NOGATE | F_TIED, "configuration_mpt.py: no_bias, tied (MPT ties its head)"},
    {"llama", 0, "configuration_llama.py: tie_word_embeddings=False"},
    {"mistral", 0, "configuration_mistral.py: tie_word_embeddings=False"},
    {"mixtral", 0, "configuration_mixtral.py: tie_word_embeddings=False"},
    {"qwen2", F_QKVB, "configuration_qwen2.py: tie_word_embeddings=False; q/k/v biases (modeling_qwen2.py)"},
    {"qwen2_moe", F_QKVB, "configuration_qwen2_moe.py: tie_word_embeddings=False, qkv_bias=True"},
    {"qwen3", F_QKN, "configuration_qwen3.py: tie_word_embeddings=False; q_norm/k_norm per head"},
    {"qwen3_moe", F_QKN, "configuration_qwen3_moe.py: tie_word_embeddings=False; q/k norms"},
    {"qwen3_next", F_QKN, "configuration_qwen3_next.py: tie_word_embeddings=False, full_attention_interval 4"},
    {"gemma", F_TIED, "configuration_gemma.py: tie_word_embeddings=True"},
    {"gemma2", F_TIED | F_POST, "configuration_gemma2.py: tie_word_embeddings=True, sliding every other layer"},
    {"gemma3_text", F_TIED | F_POST | F_QKN, "configuration_gemma3.py: tie_word_embeddings=True, sliding_window_pattern 6"},
    {"gemma3", F_TIED | F_POST | F_QKN, "configuration_gemma3.py (text_config)"},
    {"llama4_text", 0, "configuration_llama4.py: tie_word_embeddings=False; L2 q/k norm without weights"},
    {"llama4", 0, "configuration_llama4.py (text_config)"},
    {"deepseek_v3", 0, "configuration_deepseek_v3.py: tie_word_embeddings=False"},
    {"deepseek_v2", 0, "configuration_deepseek_v2.py: tie_word_embeddings=False"},
    {"kimi_k2", 0, "moonshotai/Kimi-K2 configuration_deepseek.py (DeepseekV3Config): untied"},
    {"gpt_oss", F_ATTB, "configuration_gpt_oss.py: tie_word_embeddings=False, attention_bias=True"},
    {"nemotron_h", F_NOGATE, "configuration_nemotron_h.py (@13923c6): tie_word_embeddings=False, relu2 MLP"},
    {"phimoe", F_LN, "configuration_phimoe.py: tie_word_embeddings=False, attention_bias=False (Phi-3.5-MoE's config sets it true), LayerNorm"},
    {"olmoe", F_QKN_FULL, "configuration_olmoe.py: tie_word_embeddings=False; q/k norms over the full width"},
    {"olmo2", F_QKN_FULL, "configuration_olmo2.py: tie_word_embeddings=False; q/k norms over the full width"},
    {"phi3", 0, "configuration_phi3.py: tie_word_embeddings=False"},
    {"jamba", 0, "configuration_jamba.py: tie_word_embeddings=False, attention 1 in 8, MoE 1 in 2"},
};

static const family *find_family(const char *mt)
{
    for (size_t i = 0; mt && i < sizeof families / sizeof *families; i++)
        if (strcmp(families[i].type, mt) == 0)
            return &families[i];
    return NULL;
}

/* ---- keys that do not change the parameter count or the FLOPs ---- */

static const char *const benign_keys[] = {
    "architectures", "auto_map", "torch_dtype", "dtype", "transformers_version", "use_cache", "_name_or_path",
    "initializer_range", "initializer_factor", "tokenizer_class", "quantization_config", "rope_theta",
    "rope_scaling", "rope_parameters", "rope_local_base_freq", "partial_rotary_factor", "rotary_pct",
    "rotary_emb_base", "rotary_dim", "rope_interleave", "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon",
    "norm_eps", "dropout", "norm_topk_prob", "routed_scaling_factor", "scoring_func", "topk_method",
    "query_pre_attn_scalar", "cache_implementation", "num_logits_to_keep", "use_mamba_kernels",
    "mamba_ssm_cache_dtype", "time_step_min", "time_step_max", "time_step_limit", "time_step_floor",
    "time_step_rank", "rescale_prenorm_residual", "residual_in_fp32", "chunk_size", "mamba_chunk_size",
    "is_decoder", "pretraining_tp", "swiglu_alpha", "attn_temperature_tuning", "floor_scale",
    "attn_scale", "moe_shared_expert_overlap", "use_bidirectional_attention", "original_max_position_embeddings",
    "return_dict", "id2label", "label2id", "task_specific_params", "problem_type", "torchscript", "ep_size",
    "seq_aux", "aux_loss_alpha", "use_flash_attn", "_attn_implementation", "attn_implementation",
    "hidden_act", "hidden_activation", "activation_function", "mlp_hidden_act", "mamba_hidden_act",
    "embedding_multiplier", "logits_scaling", "max_window_layers", "input_jitter_noise", "lm_head_bias_dummy",
    "use_return_dict", "moe_router_enable_expert_bias", "scale_emb", "mamba_dt_min", "mamba_dt_max",
    "mamba_dt_init_floor", "mamba_dt_limit", "num_experts_offload", "router_dtype", "description", "sources",
    "source", "name", "model_type", "tie_word_embeddings", "layer_norm_type", "mm_tokens_per_image",
    "image_token_index", "boi_token_index", "eoi_token_index", "image_token_id", "boi_token_id", "eoi_token_id",
    "vision_feature_layer", "vision_feature_select_strategy", "projector_hidden_act", "multimodal_projector_bias",
    "n_positions", "max_seq_len", "seq_length", "max_sequence_length", "initial_context_length", "clip_qkv",
    "lm_head_bias" /* PhiMoE: V biases on the head, < 1e-6 of the model */, "use_qk_norm" /* Llama 4: L2 norm, no weights */,
    "expand" /* Nemotron-H: the inner width is mamba_num_heads x mamba_head_dim */, "attention_window_size",
    "sliding_window_size" /* Gemma 2: a legacy copy of sliding_window */, "n_ctx" /* GPT-2: = n_positions */,
    "for_llm_compressor" /* Llama 4: a flag for quantisation tools */, "use_mrope" /* Qwen2.5: multimodal RoPE */,
    NULL};
static const char *const benign_suffix[] = {"_token_id", "_dropout", "_pdrop", "_eps", "_epsilon", "_softcapping",
                                            "_coef", "_dropout_prob", NULL};
static const char *const benign_prefix[] = {"output_", "rope_", "router_aux", "router_z", "router_jitter",
                                            "bos_", "eos_", "pad_", "use_cache", "summary_" /* GPT-2 heads */, NULL};
/* Keys that change the architecture in ways scaleplan does not model (refused when set). */
static const char *const unmodelled_keys[] = {
    "parallel_block", "new_decoder_architecture", "alibi",
    "o_lora_rank", "compress_ratios", "csa_compress_ratios", "index_n_heads", "index_topk", "index_head_dim",
    "hc_mult", "altup_num_inputs", "laurel_rank", "num_kv_shared_layers", "hidden_size_per_layer_input",
    "cross_attention_layers", "num_decoder_layers", "encoder_layers", "mamba_rmsnorm", "shared_attention_layers",
    "attention_chunk_size_global", "moe_layer_pattern", "embedding_layernorm", NULL};

static int in_list(const char *const *l, const char *k)
{
    for (int i = 0; l[i]; i++)
        if (strcmp(l[i], k) == 0)
            return 1;
    return 0;
}

static int benign(const char *k)
{
    size_t n = strlen(k);
    if (in_list(benign_keys, k))
        return 1;
    for (int i = 0; benign_suffix[i]; i++) {
        size_t sl = strlen(benign_suffix[i]);
        if (n >= sl && strcmp(k + n - sl, benign_suffix[i]) == 0)
            return 1;
    }
    for (int i = 0; benign_prefix[i]; i++)
        if (strncmp(k, benign_prefix[i], strlen(benign_prefix[i])) == 0)
            return 1;
    return 0;
}

static int set_value(json_t *v)
{
    return v && !json_is_null(v) && !json_is_false(v) && !(json_is_integer(v) && json_integer_value(v) == 0);
}

/* Every key of obj that was not read: ignored (listed) when benign, else refused by name. */
static sp_status account_keys(hf *r, json_t *obj, const char *prefix, sp_model_info *info)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        int used = 0;
        for (int i = 0; i < r->n_used && !used; i++)
            used = obj == r->o && strcmp(r->used[i], k) == 0;
        if (used || strcmp(k, "text_config") == 0)
            continue;
        if (strcmp(k, "vision_config") == 0 || strcmp(k, "audio_config") == 0) {
            if (info)
                info->vision_not_counted = 1;
            continue;
        }
        if (in_list(unmodelled_keys, k) && set_value(v))
            return sp_fail(r->err, SP_EINVAL, "%s:%d: key '%s%s' changes the architecture and is not modelled",
                           r->path, line_of(r, k), prefix, k);
        if (!benign(k) && !in_list(unmodelled_keys, k))
            return sp_fail(r->err, SP_EINVAL,
                           "%s:%d: key '%s%s' is not known to scaleplan and may change the architecture, so it is "
                           "refused (docs/model.md lists the keys read and those ignored)",
                           r->path, line_of(r, k), prefix, k);
        if (info) {
            size_t w = strlen(info->ignored);
            if (w + strlen(k) + strlen(prefix) + 3 < sizeof info->ignored)
                snprintf(info->ignored + w, sizeof info->ignored - w, "%s%s%s", w ? ", " : "", prefix, k);
            info->n_ignored++;
        }
    }
    return SP_OK;
}

/* ---- layer kinds ---- */

/* The mixer a layer_types entry names ("linear_attention" is Mamba-2 in Nemotron-H, gated DeltaNet in
 * Qwen3-Next); -1 when unknown. */
static int mixer_of(const char *t, const char *mt, sp_mixer full)
{
    if (!strcmp(t, "full_attention") || !strcmp(t, "attention") || !strcmp(t, "global"))
        return full;
    if (!strcmp(t, "sliding_attention") || !strcmp(t, "chunked_attention") || !strcmp(t, "local"))
        return SP_MIX_SWA;
    if (!strcmp(t, "linear_attention"))
        return mt && !strcmp(mt, "nemotron_h") ? SP_MIX_MAMBA2 : SP_MIX_GDN;
    if (!strcmp(t, "mamba") || !strcmp(t, "mamba2"))
        return SP_MIX_MAMBA2;
    return -1;
}

/* Nemotron-H blocks: one mixer or one FFN each (transformers' _pattern_to_list: M, E, *, -). */
static int block_of(const char *t, char c, sp_mixer *mx, sp_ffn *f)
{
    *mx = SP_MIX_NONE;
    *f = SP_FFN_NONE;
    if (c == 'M' || (t && (!strcmp(t, "linear_attention") || !strcmp(t, "mamba"))))
        *mx = SP_MIX_MAMBA2;
    else if (c == '*' || (t && (!strcmp(t, "full_attention") || !strcmp(t, "attention"))))
        *mx = SP_MIX_ATTN;
    else if (c == 'E' || (t && !strcmp(t, "moe")))
        *f = SP_FFN_MOE;
    else if (c == '-' || (t && !strcmp(t, "mlp")))
        *f = SP_FFN_DENSE;
    else
        return -1;
    return 0;
}

/* hybrid_override_pattern / layers_block_type of Nemotron-H: sets n_layers and each block. */
static sp_status nemotron_blocks(hf *r, sp_model *m)
{
    const char *key = "hybrid_override_pattern";
    json_t *v = take(r, key);
    if (!v) {
        key = "layers_block_type";
        v = take(r, key);
    }
    if (!v) {
        key = "layer_types";
        v = take(r, key);
    }
    if (!v)
        return sp_fail(r->err, SP_EINVAL, "%s: a nemotron_h config needs 'hybrid_override_pattern' or "
                       "'layers_block_type'", r->path);
    size_t n = json_is_string(v) ? strlen(json_string_value(v)) : json_is_array(v) ? json_array_size(v) : 0;
    if (n < 1 || n > SP_MAX_LAYERS)
        return sp_fail(r->err, SP_EINVAL, "%s:%d: field '%s' must list 1..%d blocks", r->path, line_of(r, key), key,
                       SP_MAX_LAYERS);
    for (size_t i = 0; i < n; i++) {
        sp_mixer mx;
        sp_ffn f;
        const char *t = json_is_array(v) ? json_string_value(json_array_get(v, i)) : NULL;
        char c = json_is_string(v) ? json_string_value(v)[i] : 0;
        if ((!t && !c) || block_of(t, c, &mx, &f))
            return sp_fail(r->err, SP_EINVAL, "%s:%d: field '%s': block %zu ('%.40s') is not modelled; allowed M, *, E, "
                           "- (mamba, attention, moe, mlp)", r->path, line_of(r, key), key, i, t ? t : (char[]){c, 0});
        m->mixer[i] = (unsigned char)mx;
        m->ffn[i] = (unsigned char)f;
    }
    m->n_layers = m->n_pattern = (int)n;
    return SP_OK;
}

/* MTP layer of Nemotron-H (mtp_hybrid_override_pattern / mtp_layers_block_type, default "*E"): one mixer and
 * one FFN block are one scaleplan layer. */
static sp_status nemotron_mtp(hf *r, sp_model *m)
{
    const char *key = "mtp_hybrid_override_pattern";
    json_t *v = take(r, key);
    if (!v) {
        key = "mtp_layers_block_type";
        v = take(r, key);
    }
    m->mtp_mixer = SP_MIX_ATTN;
    m->mtp_ffn = SP_FFN_MOE;
    if (!v)
        return SP_OK;
    size_t n = json_is_string(v) ? strlen(json_string_value(v)) : json_is_array(v) ? json_array_size(v) : 0;
    int nm = 0, nf = 0;
    for (size_t i = 0; i < n; i++) {
        sp_mixer mx;
        sp_ffn f;
        const char *t = json_is_array(v) ? json_string_value(json_array_get(v, i)) : NULL;
        char c = json_is_string(v) ? json_string_value(v)[i] : 0;
        if (block_of(t, c, &mx, &f))
            nm = 9;
        if (mx != SP_MIX_NONE)
            m->mtp_mixer = (unsigned char)mx, nm++;
        if (f != SP_FFN_NONE)
            m->mtp_ffn = (unsigned char)f, nf++;
    }
    if (nm > 1 || nf > 1 || n == 0)
        return sp_fail(r->err, SP_EINVAL, "%s:%d: key '%s': an MTP layer of other than one mixer and one FFN block "
                       "changes the architecture and is not modelled", r->path, line_of(r, key), key);
    return SP_OK;
}

/* Mixers from a layer_types list. */
static sp_status mixers_from_types(hf *r, json_t *v, const char *key, const char *mt, sp_model *m, sp_mixer full)
{
    if (!json_is_array(v) || (int)json_array_size(v) != m->n_layers)
        return sp_fail(r->err, SP_EINVAL, "%s:%d: field '%s' must list one type per layer (%d)", r->path,
                       line_of(r, key), key, m->n_layers);
    for (int i = 0; i < m->n_layers; i++) {
        const char *t = json_string_value(json_array_get(v, (size_t)i));
        int k = t ? mixer_of(t, mt, full) : -1;
        if (k < 0)
            return sp_fail(r->err, SP_EINVAL, "%s:%d: layer type '%.40s' is not modelled", r->path, line_of(r, key),
                           t ? t : "(not a string)");
        m->mixer[i] = (unsigned char)k;
    }
    return SP_OK;
}

static int is_type(const char *mt, const char *a, const char *b)
{
    return mt && (!strcmp(mt, a) || (b && !strcmp(mt, b)));
}

/* Which layers are sliding / linear / Mamba, per family (transformers' layer_types defaults). */
static sp_status layout_mixers(hf *r, const char *mt, sp_model *m, sp_mixer full)
{
    int win = 0, fw = 0, use_sw = -1, p = 0, off = 0;
    for (int i = 0; i < m->n_layers; i++)
        m->mixer[i] = (unsigned char)full;
    TRY(get_i(r, "sliding_window", &win, 0, 1 << 30, &fw));
    TRY(get_b(r, "use_sliding_window", &use_sw));
    json_t *lt = take(r, "layer_types");
    if (is_type(mt, "llama4", "llama4_text")) { /* chunked attention on the RoPE layers: 3 in 4 by default */
        fw = 0;
        TRY(get_i(r, "attention_chunk_size", &win, 0, 1 << 30, &fw));
        TRY(get_id(r, "no_rope_layer_interval", &p, 4, 1, 100000, NULL));
        json_t *nr = take(r, "no_rope_layers");
        for (int i = 0; i < m->n_layers && fw; i++) {
            json_t *e = json_is_array(nr) && json_array_size(nr) ? json_array_get(nr, (size_t)i) : NULL;
            int rope = e ? json_is_integer(e) && json_integer_value(e) != 0 : (i + 1) % p != 0;
            m->mixer[i] = (unsigned char)(rope ? SP_MIX_SWA : full);
        }
    } else if (lt)
        TRY(mixers_from_types(r, lt, "layer_types", mt, m, full));
    else if (is_type(mt, "gemma2", "gpt_oss"))
        for (int i = 0; i < m->n_layers; i++)
            m->mixer[i] = (unsigned char)((i + 1) % 2 ? SP_MIX_SWA : full);
    else if (is_type(mt, "gemma3", "gemma3_text")) {
        TRY(get_id(r, "sliding_window_pattern", &p, 6, 1, 100000, NULL));
        for (int i = 0; i < m->n_layers; i++)
            m->mixer[i] = (unsigned char)((i + 1) % p ? SP_MIX_SWA : full);
    } else if (is_type(mt, "qwen3_next", NULL)) {
        TRY(get_id(r, "full_attention_interval", &p, 4, 1, 100000, NULL));
        for (int i = 0; i < m->n_layers; i++)
            m->mixer[i] = (unsigned char)((i + 1) % p ? SP_MIX_GDN : full);
    } else if (is_type(mt, "jamba", NULL)) {
        TRY(get_id(r, "attn_layer_period", &p, 8, 1, 100000, NULL));
        TRY(get_id(r, "attn_layer_offset", &off, 4, 0, p - 1, NULL));
        for (int i = 0; i < m->n_layers; i++)
            m->mixer[i] = (unsigned char)(i % p == off ? full : SP_MIX_MAMBA1);
    } else if (use_sw == 1)
        return sp_fail(r->err, SP_EINVAL, "%s:%d: key 'use_sliding_window' (Qwen's sliding layers above "
                       "max_window_layers) changes the architecture and is not modelled", r->path,
                       line_of(r, "use_sliding_window"));
    else if (fw && use_sw < 0 && !is_type(mt, "gemma", NULL)) /* Mistral, Phi-3: every layer slides */
        for (int i = 0; i < m->n_layers; i++)
            m->mixer[i] = (unsigned char)SP_MIX_SWA;
    m->sliding_window = win;
    for (int i = 0; i < m->n_layers; i++) /* a window as long as the context never slides */
        if (m->mixer[i] == SP_MIX_SWA && (win <= 0 || win >= m->max_seq))
            m->mixer[i] = (unsigned char)full;
    return SP_OK;
}

static int in_int_array(json_t *a, int v)
{
    for (size_t i = 0; json_is_array(a) && i < json_array_size(a); i++)
        if (json_is_integer(json_array_get(a, i)) && json_integer_value(json_array_get(a, i)) == v)
            return 1;
    return 0;
}

/* Which layers are MoE, per family. */
static sp_status layout_ffns(hf *r, const char *mt, sp_model *m)
{
    int moe = sp_model_is_moe(m), step = 1, off = 0, k = m->first_dense_layers;
    json_t *only = take(r, "mlp_only_layers"), *list = take(r, "moe_layers");
    if (is_type(mt, "deepseek_v3", "deepseek_v2") || is_type(mt, "kimi_k2", NULL))
        TRY(get_i(r, "moe_layer_freq", &step, 1, 100000, NULL));
    else if (mt && !strncmp(mt, "qwen", 4))
        TRY(get_i(r, "decoder_sparse_step", &step, 1, 100000, NULL));
    else if (is_type(mt, "llama4", "llama4_text")) {
        TRY(get_i(r, "interleave_moe_layer_step", &step, 1, 100000, NULL));
        off = step - 1;
    } else if (is_type(mt, "jamba", NULL)) {
        TRY(get_id(r, "expert_layer_period", &step, 2, 1, 100000, NULL));
        TRY(get_id(r, "expert_layer_offset", &off, 1, 0, step - 1, NULL));
    }
    for (int i = 0; i < m->n_layers; i++) {
        int e = moe && i >= k;
        if (mt && !strncmp(mt, "qwen", 4))
            e = e && !in_int_array(only, i) && (i + 1) % step == 0;
        else if (json_is_array(list))
            e = e && in_int_array(list, i);
        else
            e = e && i % step == off;
        m->ffn[i] = (unsigned char)(e ? SP_FFN_MOE : SP_FFN_DENSE);
    }
    return SP_OK;
}

/* Stores a layout the uniform model expresses (one mixer; dense layers first, then MoE) as uniform. */
static void normalise_layout(sp_model *m, sp_mixer full)
{
    int lead = 0, ok = 1;
    while (lead < m->n_layers && m->ffn[lead] == SP_FFN_DENSE)
        lead++;
    for (int i = 0; i < m->n_layers && ok; i++)
        ok = m->mixer[i] == full && m->ffn[i] == (i < lead ? SP_FFN_DENSE : SP_FFN_MOE);
    if (!ok)
        return;
    m->n_pattern = 0;
    m->first_dense_layers = lead < m->n_layers ? lead : 0;
    if (lead == m->n_layers && sp_model_is_moe(m)) /* no MoE layer at all */
        m->n_experts = 0;
}

/* ---- the numbers ---- */

static sp_status need(hf *r, const char *const *keys, int *out, int lo, int hi, const char *what)
{
    int found;
    TRY(get_any(r, keys, out, lo, hi, &found));
    if (!found)
        return sp_fail(r->err, SP_EINVAL, "%s: missing field '%s' (%s)", r->path, keys[0], what);
    return SP_OK;
}

static sp_status read_dims(hf *r, sp_model *m)
{
    static const char *k_layers[] = {"num_hidden_layers", "n_layer", "n_layers", "num_layers", NULL};
    static const char *k_h[] = {"hidden_size", "n_embd", "d_model", "dim", NULL};
    static const char *k_heads[] = {"num_attention_heads", "n_head", "n_heads", NULL};
    static const char *k_kv[] = {"num_key_value_heads", "n_kv_heads", "num_kv_heads", NULL};
    static const char *k_ffn[] = {"intermediate_size_mlp", "intermediate_size", "n_inner", "ffn_dim",
                                  "ffn_hidden_size", "hidden_dim", NULL};
    static const char *k_seq[] = {"max_position_embeddings", "n_positions", "max_seq_len", "seq_length", NULL};
    static const char *k_exp[] = {"num_local_experts", "n_routed_experts", "num_experts", NULL};
    static const char *k_topk[] = {"num_experts_per_tok", "experts_per_token", NULL}; /* the first present */
    static const char *k_vocab[] = {"vocab_size", NULL};
    int found, n = 0;
    if (m->n_layers == 0) /* Nemotron-H: the pattern gave it */
        TRY(need(r, k_layers, &m->n_layers, 1, 100000, "number of layers"));
    else if ((get_any(r, k_layers, &n, 1, 100000, &found) || found) && n != m->n_layers)
        return sp_fail(r->err, SP_EINVAL, "%s:%d: num_hidden_layers = %d but the layer pattern lists %d", r->path,
                       line_of(r, "num_hidden_layers"), n, m->n_layers);
    TRY(need(r, k_h, &m->d_model, 1, 10000000, "d_model"));
    TRY(need(r, k_heads, &m->n_heads, 1, 1000000, "attention heads"));
    TRY(get_any(r, k_vocab, &m->vocab, 1, 100000000, &found));
    if (!found && is_type(r->mt, "gemma3_text", "gemma3")) /* Gemma3TextConfig vocab_size=262_208 (transformers) */
        m->vocab = 262208;
    else if (!found)
        return sp_fail(r->err, SP_EINVAL, "%s: missing field 'vocab_size' (vocabulary)", r->path);
    TRY(get_any(r, k_kv, &m->n_kv_heads, 1, 1000000, &found));
    TRY(get_any(r, k_ffn, &m->ffn_dim, 1, 100000000, &found));
    if (found && json_object_get(r->o, "intermediate_size_mlp")) /* Llama 4: experts are intermediate_size */
        TRY(get_i(r, "intermediate_size", &m->moe_ffn_dim, 1, 100000000, NULL));
    TRY(get_any(r, k_seq, &m->max_seq, 1, 1 << 30, &found));
    TRY(get_any(r, k_exp, &m->n_experts, 0, 1000000, &found));
    TRY(get_any(r, k_topk, &m->top_k, 1, 1000000, &found));
    int k2 = m->top_k, f2 = 0; /* GPT-OSS writes both names: they must agree */
    TRY(get_i(r, "experts_per_token", &k2, 1, 1000000, &f2));
    if (f2 && k2 != m->top_k)
        return sp_fail(r->err, SP_EINVAL, "%s:%d: experts_per_token = %d but num_experts_per_tok = %d", r->path,
                       line_of(r, "experts_per_token"), k2, m->top_k);
    if (m->n_experts > 1 && !found)
        return sp_fail(r->err, SP_EINVAL, "%s: an MoE config (%d experts) needs 'num_experts_per_tok' (experts per "
                       "token); it has no default", r->path, m->n_experts);
    int hd_found;
    TRY(get_i(r, "head_dim", &m->d_head, 1, 1000000, &hd_found));
    if (!hd_found)
        TRY(get_i(r, "attention_head_dim", &m->d_head, 1, 1000000, &hd_found));
    if (!hd_found && m->d_model % m->n_heads && !json_object_get(r->o, "kv_lora_rank"))
        return sp_fail(r->err, SP_EINVAL, "%s:%d: hidden_size %d is not a multiple of num_attention_heads %d and no "
                       "head_dim is given (transformers would truncate the head width to %d)", r->path,
                       line_of(r, "num_attention_heads"), m->d_model, m->n_heads, m->d_model / m->n_heads);
    return SP_OK;
}

static sp_status read_moe_mla(hf *r, const char *mt, sp_model *m)
{
    int sh = 0, found = 0;
    TRY(get_i(r, "moe_intermediate_size", &m->moe_ffn_dim, 1, 100000000, NULL));
    TRY(get_i(r, "n_shared_experts", &m->n_shared_experts, 0, 1000000, NULL));
    TRY(get_i(r, "num_shared_experts", &m->n_shared_experts, 0, 1000000, NULL));
    TRY(get_i(r, "shared_expert_intermediate_size", &sh, 0, 100000000, &found));
    if (!found)
        TRY(get_i(r, "moe_shared_expert_intermediate_size", &sh, 0, 100000000, &found));
    if (is_type(mt, "qwen2_moe", "qwen3_next"))
        m->shared_gate = sh > 0; /* shared_expert_gate: Linear(h, 1) (modeling_qwen2_moe.py) */
    if (is_type(mt, "llama4", "llama4_text"))
        m->n_shared_experts = 1; /* Llama4TextMoe.shared_expert, as wide as a routed expert */
    TRY(get_i(r, "moe_latent_size", &m->moe_latent, 0, 100000000, NULL));
    TRY(get_i(r, "first_k_dense_replace", &m->first_dense_layers, 0, 100000, NULL));
    TRY(get_i(r, "n_group", &m->n_group, 0, 1000000, NULL));
    TRY(get_i(r, "topk_group", &m->topk_group, 0, 1000000, NULL));
    TRY(get_i(r, "q_lora_rank", &m->q_lora_rank, 0, 1000000, NULL));
    TRY(get_i(r, "kv_lora_rank", &m->kv_lora_rank, 0, 1000000, NULL));
    TRY(get_i(r, "qk_rope_head_dim", &m->qk_rope_head_dim, 0, 1000000, NULL));
    TRY(get_i(r, "qk_nope_head_dim", &m->qk_nope_head_dim, 0, 1000000, NULL));
    TRY(get_i(r, "v_head_dim", &m->v_head_dim, 0, 1000000, NULL));
    TRY(get_i(r, "num_nextn_predict_layers", &m->n_mtp, 0, 64, NULL));
    TRY(get_i(r, "mtp_num_hidden_layers", &m->n_mtp, 0, 64, NULL));
    if (found && sh > 0) { /* the shared expert's width: whole experts when it divides */
        int e = m->moe_ffn_dim > 0 ? m->moe_ffn_dim : m->ffn_dim;
        if (e > 0 && sh % e == 0)
            m->n_shared_experts = sh / e;
        else
            m->shared_ffn_dim = sh, m->n_shared_experts = 1;
    }
    return SP_OK;
}

static sp_status read_ssm(hf *r, const char *mt, sp_model *m)
{
    m->ssm_conv_bias = 1; /* use_conv_bias / mamba_conv_bias default True (nemotron_h, jamba) */
    if (is_type(mt, "jamba", NULL)) {
        int expand = 2;
        m->ssm_state = 16, m->ssm_conv = 4;
        TRY(get_i(r, "mamba_expand", &expand, 1, 1000, NULL));
        TRY(get_i(r, "mamba_d_state", &m->ssm_state, 1, 1000000, NULL));
        TRY(get_i(r, "mamba_d_conv", &m->ssm_conv, 1, 1000, NULL));
        TRY(get_b(r, "mamba_conv_bias", &m->ssm_conv_bias));
        TRY(get_b(r, "mamba_proj_bias", &m->ssm_proj_bias));
        m->ssm_inner = expand * m->d_model;
        m->ssm_dt_rank = (m->d_model + 15) / 16; /* "auto": ceil(h/16) */
        json_t *dr = take(r, "mamba_dt_rank");
        if (dr && json_is_integer(dr))
            m->ssm_dt_rank = (int)json_integer_value(dr);
        return SP_OK;
    }
    m->ssm_heads = 128, m->ssm_head_dim = 64, m->ssm_state = 128, m->ssm_groups = 8, m->ssm_conv = 4;
    TRY(get_i(r, "mamba_num_heads", &m->ssm_heads, 1, 1000000, NULL));
    TRY(get_i(r, "mamba_head_dim", &m->ssm_head_dim, 1, 1000000, NULL));
    TRY(get_i(r, "ssm_state_size", &m->ssm_state, 1, 1000000, NULL));
    TRY(get_i(r, "n_groups", &m->ssm_groups, 1, 1000000, NULL));
    TRY(get_i(r, "conv_kernel", &m->ssm_conv, 1, 1000, NULL));
    TRY(get_b(r, "use_conv_bias", &m->ssm_conv_bias));
    TRY(get_b(r, "mamba_proj_bias", &m->ssm_proj_bias));
    m->ssm_inner = m->ssm_heads * m->ssm_head_dim;
    return SP_OK;
}

static sp_status read_gdn(hf *r, sp_model *m)
{
    m->gdn_k_heads = 16, m->gdn_v_heads = 32, m->gdn_k_dim = 128, m->gdn_v_dim = 128, m->gdn_conv = 4;
    TRY(get_i(r, "linear_num_key_heads", &m->gdn_k_heads, 1, 1000000, NULL));
    TRY(get_i(r, "linear_num_value_heads", &m->gdn_v_heads, 1, 1000000, NULL));
    TRY(get_i(r, "linear_key_head_dim", &m->gdn_k_dim, 1, 1000000, NULL));
    TRY(get_i(r, "linear_value_head_dim", &m->gdn_v_dim, 1, 1000000, NULL));
    TRY(get_i(r, "linear_conv_kernel_dim", &m->gdn_conv, 1, 1000, NULL));
    return SP_OK;
}

/* A probability key, 0..1 (dropout). */
static sp_status get_p(hf *r, const char *key, double *out, int *found)
{
    json_t *v = take(r, key);
    if (!v)
        return SP_OK;
    double d = json_is_number(v) ? json_number_value(v) : NAN;
    if (!(d >= 0 && d <= 1))
        return sp_fail(r->err, SP_EINVAL, "%s:%d: field '%s': expected a probability 0..1", r->path, line_of(r, key), key);
    if (!*found)
        *out = d, *found = 1;
    return SP_OK;
}

/* Dropout: the family's default (F_HDROP, F_ADROP), else what the config says. Hidden: HF hidden_dropout (BLOOM,
 * GPT-NeoX, Nemotron-H), resid_pdrop (GPT-2, GPT-J, MPT), hidden_dropout_prob (BERT), dropout (OPT, DistilBERT),
 * embd_pdrop / emb_pdrop (the embedding's; used when no sublayer key is given); attention: attention_dropout,
 * attn_pdrop, attention_probs_dropout_prob. Other dropout keys (activation, classifier, summary heads) stay ignored. */
static sp_status read_dropout(hf *r, unsigned f, sp_model *m)
{
    static const char *const hidden[] = {"hidden_dropout", "resid_pdrop", "hidden_dropout_prob", "dropout",
                                         "embd_pdrop", "emb_pdrop", NULL};
    static const char *const attn[] = {"attention_dropout", "attn_pdrop", "attention_probs_dropout_prob", NULL};
    int fh = 0, fa = 0;
    m->hidden_dropout = f & F_HDROP ? 0.1 : 0;
    m->attn_dropout = f & F_ADROP ? 0.1 : 0;
    for (int i = 0; hidden[i]; i++)
        TRY(get_p(r, hidden[i], &m->hidden_dropout, &fh));
    for (int i = 0; attn[i]; i++)
        TRY(get_p(r, attn[i], &m->attn_dropout, &fa));
    return SP_OK;
}

/* scaleplan's own preset keys and the bias / tie flags (family defaults first). */
static sp_status read_flags(hf *r, const family *fam, sp_model *m)
{
    unsigned f = fam ? fam->flags : 0;
    m->norm = f & F_LN ? SP_NORM_LAYERNORM : SP_NORM_RMSNORM;
    m->gated = !(f & F_NOGATE);
    m->biases = !!(f & F_BIAS);
    m->learned_pos = !!(f & F_LPOS);
    m->tied_embeddings = !!(f & F_TIED);
    m->qkv_bias = !!(f & F_QKVB);
    m->attn_bias = !!(f & F_ATTB);
    m->post_norms = !!(f & F_POST);
    m->parallel_block = !!(f & F_PAR);
    m->qk_norm = f & F_QKN_FULL ? 2 : f & F_QKN ? 1 : 0;
    int use_bias = 0, nobias = -1, ratio = 0;
    TRY(get_b(r, "tie_word_embeddings", &m->tied_embeddings));
    TRY(get_b(r, "attention_bias", &m->attn_bias));
    TRY(get_b(r, "qkv_bias", &m->qkv_bias));
    TRY(get_b(r, "mlp_bias", &m->mlp_bias));
    TRY(get_b(r, "biases", &m->biases));
    TRY(get_b(r, "learned_pos", &m->learned_pos));
    TRY(get_b(r, "use_parallel_residual", &m->parallel_block)); /* GPT-NeoX */
    TRY(get_b(r, "parallel_attn", &m->parallel_block));         /* Falcon's (and PaLM-style) one-norm parallel block */
    TRY(get_b(r, "no_bias", &nobias)); /* MPT */
    TRY(get_b(r, "use_bias", &use_bias));
    TRY(get_i(r, "expansion_ratio", &ratio, 1, 1000, NULL)); /* MPT */
    if (nobias == 1)
        m->biases = 0;
    if (use_bias && !(f & F_BIAS))
        return sp_fail(r->err, SP_EINVAL, "%s:%d: key 'use_bias' changes the architecture and is not modelled",
                       r->path, line_of(r, "use_bias"));
    if (ratio && !m->ffn_dim)
        m->ffn_dim = ratio * m->d_model;
    const char *fty = get_s(r, "ffn_type"), *norm = get_s(r, "norm");
    if (fty) {
        if (!strcmp(fty, "gated") || !strcmp(fty, "swiglu") || !strcmp(fty, "geglu"))
            m->gated = 1;
        else if (!strcmp(fty, "gelu") || !strcmp(fty, "mlp") || !strcmp(fty, "relu"))
            m->gated = 0;
        else
            return sp_fail(r->err, SP_EINVAL, "%s:%d: field 'ffn_type' = '%.40s'; allowed gelu, relu, mlp, gated, "
                           "swiglu, geglu", r->path, line_of(r, "ffn_type"), fty);
    }
    if (norm) {
        if (strcmp(norm, "layernorm") && strcmp(norm, "rmsnorm"))
            return sp_fail(r->err, SP_EINVAL, "%s:%d: field 'norm' = '%.40s'; allowed layernorm, rmsnorm", r->path,
                           line_of(r, "norm"), norm);
        m->norm = strcmp(norm, "layernorm") ? SP_NORM_RMSNORM : SP_NORM_LAYERNORM;
    }
    if (!fam) { /* scaleplan's own format: the activation says whether the MLP is gated */
        const char *act = json_string_value(json_object_get(r->o, "hidden_act"));
        if (!act)
            act = json_string_value(json_object_get(r->o, "activation_function"));
        if (act && !fty)
            m->gated = !strcmp(act, "silu") || !strcmp(act, "swiglu");
    }
    return SP_OK;
}

/* GPT-OSS's activation clamp: its family default (transformers@02b8f42b4240 configuration_gpt_oss.py swiglu_limit =
 * 7.0, the gate clamped above and the up projection on both sides), else
 * the config's `swiglu_limit` (> 0; 0 switches the clamp off). */
static sp_status read_clamp(hf *r, const char *mt, sp_model *m)
{
    if (is_type(mt, "gpt_oss", NULL))
        m->act_clamp = 7.0;
    json_t *v = take(r, "swiglu_limit");
    if (!v)
        return SP_OK;
    double d = json_is_number(v) ? json_number_value(v) : NAN;
    if (!(d >= 0 && d < 1e30))
        return sp_fail(r->err, SP_EINVAL, "%s:%d: field 'swiglu_limit': expected a number >= 0", r->path,
                       line_of(r, "swiglu_limit"));
    m->act_clamp = d;
    return SP_OK;
}

/* Megatron-Core's _yarn_get_mscale: 0.1 x mscale x ln(factor) + 1 above a factor of 1 */
static double yarn_mscale(double factor, double mscale)
{
    return factor <= 1 ? 1.0 : 0.1 * mscale * log(factor) + 1.0;
}

/* YaRN's concentration factor on RoPE's cos and sin (NVIDIA/Megatron-LM@core_v0.17.0 megatron/core/models/common/
 * embeddings/yarn_rotary_pos_embedding.py:259-281, the `mscale` attention.py:1106-1125 passes to the rotary): the
 * gpt_oss family's default rope_parameters (yarn, factor 32: transformers@02b8f42b4240 configuration_gpt_oss.py),
 * else the config's rope_scaling / rope_parameters when its type is yarn: mscale(factor, mscale) /
 * mscale(factor, mscale_all_dim) when both are given (DeepSeek-V3: 1), else mscale(factor, 1); a yarn entry
 * without a numeric factor scales nothing (factor 1: mscale 1, as Megatron-Core's for a factor <= 1). */
static sp_status read_rope(hf *r, const char *mt, sp_model *m)
{
    if (is_type(mt, "gpt_oss", NULL))
        m->rope_mscale = yarn_mscale(32.0, 1.0);
    json_t *o = take(r, "rope_scaling");
    if (!o)
        o = take(r, "rope_parameters");
    if (!o || !json_is_object(o))
        return SP_OK;
    const char *ty = json_string_value(json_object_get(o, "rope_type"));
    if (!ty)
        ty = json_string_value(json_object_get(o, "type"));
    m->rope_mscale = 0;
    if (!ty || strcmp(ty, "yarn"))
        return SP_OK;
    json_t *f = json_object_get(o, "factor"), *a = json_object_get(o, "mscale"), *b = json_object_get(o, "mscale_all_dim");
    double fac = json_is_number(f) ? json_number_value(f) : 1.0; /* no factor: unscaled, as a factor <= 1 */
    if (json_is_number(a) && json_is_number(b))
        m->rope_mscale = yarn_mscale(fac, json_number_value(a)) / yarn_mscale(fac, json_number_value(b));
    else
        m->rope_mscale = yarn_mscale(fac, 1.0);
    return SP_OK;
}

static void family_features(const char *mt, sp_model *m)
{
    if (is_type(mt, "gpt_oss", NULL)) /* sinks per head; experts and router with biases (modeling_gpt_oss.py) */
        m->attn_sinks = 1, m->mlp_bias = 1, m->router_bias = 1;
    if (is_type(mt, "qwen3_next", NULL)) /* q_proj is 2 x heads x head_dim: query and output gate */
        m->attn_gate = 1;
}

/* Layer kinds of everything but Nemotron-H (which lists its blocks). */
static sp_status layout(hf *r, const char *mt, sp_model *m)
{
    sp_mixer full = m->kv_lora_rank > 0 ? SP_MIX_MLA : SP_MIX_ATTN;
    if (m->n_layers > SP_MAX_LAYERS) { /* uniform only */
        static const char *const pat[] = {"layer_types", "sliding_window", "mlp_only_layers", "moe_layers",
                                          "decoder_sparse_step", "interleave_moe_layer_step", NULL};
        for (int i = 0; pat[i]; i++)
            if (take(r, pat[i]))
                return sp_fail(r->err, SP_EINVAL, "%s:%d: field '%s': layer kinds are listed for at most %d layers",
                               r->path, line_of(r, pat[i]), pat[i], SP_MAX_LAYERS);
        return SP_OK;
    }
    m->n_pattern = m->n_layers;
    TRY(layout_mixers(r, mt, m, full));
    TRY(layout_ffns(r, mt, m));
    normalise_layout(m, full);
    m->mtp_mixer = (unsigned char)sp_model_mixer(m, m->n_layers - 1);
    m->mtp_ffn = (unsigned char)sp_model_ffn(m, m->n_layers - 1);
    return SP_OK;
}

static sp_status read_model(hf *r, json_t *root, const char *mt, sp_model *m, sp_model_info *info)
{
    const family *fam = find_family(mt);
    const char *why = json_string_value(json_object_get(root, "not_modelled"));
    if (why) /* a preset for a model whose architecture scaleplan cannot express (yet) */
        return sp_fail(r->err, SP_EINVAL, "%s: model '%s' is not modelled: %.400s", r->path, m->name, why);
    why = json_string_value(json_object_get(root, "not_specified"));
    if (why) /* a preset named by a source that does not give the architecture: nothing to count */
        return sp_fail(r->err, SP_EINVAL, "%s: model '%s' is not specified by its source: %.400s", r->path, m->name, why);
    if (mt && !fam) {
        char list[1200] = "";
        size_t w = 0;
        for (size_t i = 0; i < sizeof families / sizeof *families && w < sizeof list - 40; i++)
            w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", i ? ", " : "", families[i].type);
        return sp_fail(r->err, SP_EINVAL, "%s:%d: model_type '%.60s' is not modelled (its defaults are unknown to "
                       "scaleplan); known: %s", r->path, line_of(r, "model_type"), mt, list);
    }
    if (is_type(mt, "nemotron_h", NULL))
        TRY(nemotron_blocks(r, m));
    TRY(read_dims(r, m));
    TRY(read_moe_mla(r, mt, m));
    TRY(read_flags(r, fam, m));
    TRY(read_dropout(r, fam ? fam->flags : 0, m));
    if (r->o != root && json_object_get(root, "tie_word_embeddings")) { /* multimodal: the top level's */
        json_t *save = r->o;
        r->o = root;
        TRY(get_b(r, "tie_word_embeddings", &m->tied_embeddings));
        r->o = save;
    }
    family_features(mt, m);
    TRY(read_clamp(r, mt, m));
    TRY(read_rope(r, mt, m));
    if (is_type(mt, "nemotron_h", "jamba"))
        TRY(read_ssm(r, mt, m));
    if (is_type(mt, "qwen3_next", NULL))
        TRY(read_gdn(r, m));
    sp_model_defaults(m);
    if (is_type(mt, "nemotron_h", NULL)) {
        int w = 0;
        TRY(get_i(r, "sliding_window", &w, 0, 1 << 30, NULL));
        if (w > 0)
            return sp_fail(r->err, SP_EINVAL, "%s:%d: key 'sliding_window' in a nemotron_h config changes the "
                           "architecture and is not modelled", r->path, line_of(r, "sliding_window"));
        TRY(nemotron_mtp(r, m));
    } else
        TRY(layout(r, mt, m));
    if (info)
        snprintf(info->model_type, sizeof info->model_type, "%s", mt ? mt : "");
    return SP_OK;
}

sp_status sp_model_from_hf(const char *path, const char *display, const char *text, json_t *root, sp_model *m,
                           sp_model_info *info, sp_error *err)
{
    hf r = {.path = path, .text = text, .o = root, .err = err};
    memset(m, 0, sizeof *m);
    if (info)
        memset(info, 0, sizeof *info);
    const char *mt = json_string_value(json_object_get(root, "model_type"));
    const char *nm = json_string_value(json_object_get(root, "name"));
    const char *src = json_string_value(json_object_get(root, "source"));
    snprintf(m->name, sizeof m->name, "%s", nm ? nm : display);
    if (info && src)
        snprintf(info->source, sizeof info->source, "%s", src);
    json_t *tc = json_object_get(root, "text_config");
    if (tc && !json_is_object(tc))
        return sp_fail(err, SP_EINVAL, "%s:%d: field 'text_config' must be an object", path, line_of(&r, "text_config"));
    if (tc) {
        r.o = tc;
        const char *tmt = json_string_value(json_object_get(tc, "model_type"));
        if (tmt)
            mt = tmt, take(&r, "model_type");
        if (info)
            info->text_config = 1;
    }
    r.mt = mt;
    TRY(read_model(&r, root, mt, m, info));
    TRY(account_keys(&r, r.o, tc ? "text_config." : "", info));
    if (tc)
        TRY(account_keys(&r, root, "", info));
    if ((double)m->n_heads * m->d_head > 1e8)
        return sp_fail(err, SP_EINVAL, "%s:%d: num_attention_heads x head width = %d x %d is out of range; allowed up "
                       "to 1e8", path, line_of(&r, "num_attention_heads"), m->n_heads, m->d_head);
    return sp_model_check(m, path, err);
}
