/* `scaleplan model`: what scaleplan understood of a model, as one JSON object (the result contract of the
 * CLI and of sp_call). Built from sp_model_params, sp_model_fwd_flops_per_token and sp_model_cache_bytes;
 * the CLI prints it as text or JSON. Keys are snake_case with SI suffixes; numbers are never NaN/inf. */
#include "scaleplan.h"
#include "call.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *layer_kinds(const sp_param_count *pc)
{
    json_t *a = json_array();
    for (int mx = 0; mx < SP_NMIXER; mx++)
        for (int f = 0; f < SP_NFFN; f++)
            if (pc->count[mx][f] > 0)
                json_array_append_new(a, json_pack("{s:s, s:s, s:i}", "mixer", sp_mixer_name((sp_mixer)mx), "ffn",
                                                   sp_ffn_name((sp_ffn)f), "layers", pc->count[mx][f]));
    return a;
}

static json_t *components(const sp_param_count *pc)
{
    json_t *o = json_object();
    for (int mx = 0; mx < SP_NMIXER; mx++)
        if (pc->mixer_total[mx] > 0) {
            char key[48];
            snprintf(key, sizeof key, "%s", sp_mixer_name((sp_mixer)mx));
            json_object_set_new(o, key, num(pc->mixer_total[mx]));
        }
    json_object_set_new(o, "dense_ffn", num(pc->dense_ffn_total));
    json_object_set_new(o, "routed_experts", num(pc->routed_total));
    json_object_set_new(o, "routed_experts_active", num(pc->routed_active));
    json_object_set_new(o, "shared_experts_and_routers", num(pc->shared_router_total));
    json_object_set_new(o, "norms", num(pc->norms_total));
    json_object_set_new(o, "embedding", num(pc->embedding));
    json_object_set_new(o, "lm_head", num(pc->lm_head));
    return o;
}

static json_t *ignored_keys(const sp_model_info *info)
{
    json_t *a = json_array();
    const char *p = info ? info->ignored : "";
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        json_array_append_new(a, json_stringn(p, n));
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return a;
}

/* The attention facts the step prices: sliding window (0: none), learned softmax sinks, dropout probabilities. */
static json_t *attention_facts(const sp_model *m)
{
    int swa = 0;
    for (int i = 0; i < m->n_layers && !swa; i++)
        swa = sp_model_mixer(m, i) == SP_MIX_SWA;
    json_t *a = json_object(), *d = json_object();
    json_object_set_new(a, "sliding_window", json_integer(swa ? m->sliding_window : 0));
    json_object_set_new(a, "sinks", json_boolean(m->attn_sinks));
    json_object_set_new(d, "attention", json_real(m->attn_dropout));
    json_object_set_new(d, "hidden", json_real(m->hidden_dropout));
    json_object_set_new(a, "dropout", d);
    return a;
}

json_t *sp_model_json(const sp_model *m, const sp_model_info *info, int seq_len, double kv_bytes)
{
    sp_param_count pc;
    sp_model_params(m, &pc);
    int s = seq_len > 0 ? seq_len : (m->max_seq < 4096 ? m->max_seq : 4096);
    double fwd = sp_model_fwd_flops_per_token(m, s), tok = 0, seq = 0;
    sp_model_cache_bytes(m, s, kv_bytes, &tok, &seq);
    sp_error e;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(m->name));
    json_object_set_new(o, "model_type", json_string(info ? info->model_type : ""));
    json_object_set_new(o, "layers", json_integer(m->n_layers));
    json_object_set_new(o, "d_model", json_integer(m->d_model));
    json_object_set_new(o, "layer_kinds", layer_kinds(&pc));
    json_object_set_new(o, "params_total", num(pc.total));
    json_object_set_new(o, "params_active", num(pc.active));
    json_object_set_new(o, "params_embedding", num(pc.embedding + pc.lm_head));
    json_object_set_new(o, "params_mtp", num(pc.mtp));
    json_object_set_new(o, "mtp_modules", json_integer(m->n_mtp));
    json_object_set_new(o, "tied_embeddings", json_boolean(m->tied_embeddings));
    json_object_set_new(o, "params_by_component", components(&pc));
    json_object_set_new(o, "attention", attention_facts(m));
    json_object_set_new(o, "seq_len", json_integer(s));
    json_object_set_new(o, "flops_per_token", num(fwd));
    json_object_set_new(o, "training_flops_per_token", num(3 * fwd));
    json_object_set_new(o, "kv_bytes_per_token", num(tok));
    json_object_set_new(o, "state_bytes_per_sequence", num(seq));
    json_object_set_new(o, "kv_dtype_bytes", num(kv_bytes));
    json_object_set_new(o, "vision_tower_counted", json_boolean(0));
    json_object_set_new(o, "vision_tower_present", json_boolean(info && info->vision_not_counted));
    json_object_set_new(o, "ignored_keys", ignored_keys(info));
    json_object_set_new(o, "training_step",
                        json_string(sp_model_train_check(m, NULL, &e) ? e.msg : "priced by the training step"));
    json_object_set_new(o, "inference_step",
                        json_string(sp_model_step_check(m, "inference", &e) ? e.msg : "priced by the inference step"));
    if (info && info->source[0])
        json_object_set_new(o, "source", json_string(info->source));
    return o;
}

/* sp_call's "model": {"model": PRESET|PATH, "seq_len": S, "kv_dtype": D} (the CLI's positional argument is the
 * request's "model"). */
sp_status sp_call_model(const char *data_dir, sp_request *rq, json_t **out, sp_error *err)
{
    const char *name = NULL, *kd = NULL;
    int seq = 0;
    sp_status st;
    json_t *inline_cfg = sp_req_has(rq, "model") ? json_object_get(rq->obj, "model") : NULL;
    if (!json_is_object(inline_cfg))
        inline_cfg = NULL;
    if ((!inline_cfg && (st = sp_req_str(rq, "model", &name, err))) || (st = sp_req_int(rq, "seq-len", 1, 1 << 24, &seq, err)) ||
        (st = sp_req_str(rq, "kv-dtype", &kd, err)))
        return st;
    if (!name && !inline_cfg)
        return sp_fail(err, SP_EINVAL, "--model is required (a preset name or a config.json path)");
    sp_dtype kv = SP_BF16;
    if (kd && sp_dtype_parse(kd, &kv, err))
        return sp_fail(err, SP_EINVAL, "--kv-dtype: %s", err->msg);
    sp_model m;
    sp_model_info info;
    if (inline_cfg) { /* a dict of a config file (Python, web): read like the file */
        char *text = json_dumps(inline_cfg, JSON_COMPACT | JSON_PRESERVE_ORDER);
        st = text ? sp_parse_model_info("--model", text, strlen(text), &m, &info, err)
                  : sp_fail(err, SP_ENOMEM, "--model: out of memory");
        free(text);
    } else
        st = sp_load_model_info(data_dir, name, &m, &info, err);
    if (st)
        return st;
    *out = sp_model_json(&m, &info, seq, sp_dtype_bytes(kv));
    return *out ? SP_OK : sp_fail(err, SP_ENOMEM, "out of memory");
}
