/* scaleplan model: what scaleplan understood of a model preset or Hugging Face config.json: layer kinds,
 * parameters by component, FLOPs per token, KV-cache and state bytes, the keys it ignored. The result is the
 * library's JSON object (sp_model_json); this file parses options and prints it as text or JSON. */
#include "cli.h"

#include <jansson.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"seq-len", 1, "sequence length for FLOPs and cache bytes [min(max_position_embeddings, 4096)]"},
    {"kv-dtype", 1, "KV-cache element type: bf16 | fp16 | fp8 | fp32 [bf16]"},
    {"json", 0, "machine-readable output"},
};

static const char *usage = "usage: scaleplan model PRESET|CONFIG.json [--seq-len S] [--kv-dtype bf16|fp8] [--json]\n"
                           "What scaleplan understood of a model (docs/model.md).";

static double jn(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

static void line(const char *name, double v)
{
    char b[32];
    printf("  %-30s %10s\n", name, sp_fmt_quantity(b, sizeof b, v, SP_UNIT_NONE));
}

static void print_text(json_t *o)
{
    printf("%s (%s): %d layers, d_model %d\n", json_string_value(json_object_get(o, "name")),
           json_string_value(json_object_get(o, "model_type")), (int)json_integer_value(json_object_get(o, "layers")),
           (int)json_integer_value(json_object_get(o, "d_model")));
    size_t i;
    json_t *k;
    printf("layer kinds:\n");
    json_array_foreach(json_object_get(o, "layer_kinds"), i, k)
        printf("  %3d x %s + %s FFN\n", (int)json_integer_value(json_object_get(k, "layers")),
               json_string_value(json_object_get(k, "mixer")), json_string_value(json_object_get(k, "ffn")));
    printf("parameters:\n");
    line("total", jn(o, "params_total"));
    line("active per token", jn(o, "params_active"));
    line("embedding + untied head", jn(o, "params_embedding"));
    if (jn(o, "params_mtp") > 0)
        line("MTP modules (not in total)", jn(o, "params_mtp"));
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(o, "params_by_component"), key, v) if (json_number_value(v) > 0)
        line(key, json_number_value(v));
    json_t *at = json_object_get(o, "attention"), *dr = json_object_get(at, "dropout");
    int sw = (int)json_integer_value(json_object_get(at, "sliding_window"));
    double da = jn(dr, "attention"), dh = jn(dr, "hidden");
    if (sw)
        printf("attention: sliding layers over the last %d tokens", sw);
    else
        printf("attention: no sliding window");
    printf("%s; dropout: ", json_is_true(json_object_get(at, "sinks")) ? ", learned softmax sinks" : "");
    if (da > 0 || dh > 0)
        printf("attention %g, hidden %g\n", da, dh);
    else
        printf("none\n");
    printf("per token at %d tokens of context:\n", (int)json_integer_value(json_object_get(o, "seq_len")));
    line("forward FLOPs", jn(o, "flops_per_token"));
    line("training FLOPs (3 x forward)", jn(o, "training_flops_per_token"));
    char b[32];
    printf("  %-30s %10s\n", "KV cache bytes per token", sp_fmt_quantity(b, sizeof b, jn(o, "kv_bytes_per_token"), SP_UNIT_BYTES));
    if (jn(o, "state_bytes_per_sequence") > 0)
        printf("  %-30s %10s\n", "fixed state bytes per sequence",
               sp_fmt_quantity(b, sizeof b, jn(o, "state_bytes_per_sequence"), SP_UNIT_BYTES));
    if (json_is_true(json_object_get(o, "vision_tower_present")))
        printf("vision tower: present in the config, not counted (language model only)\n");
    printf("training step: %s\n", json_string_value(json_object_get(o, "training_step")));
    printf("inference step: %s\n", json_string_value(json_object_get(o, "inference_step")));
    printf("ignored keys (non-architectural): ");
    json_array_foreach(json_object_get(o, "ignored_keys"), i, k) printf("%s%s", i ? ", " : "", json_string_value(k));
    printf("%s\n", json_array_size(json_object_get(o, "ignored_keys")) ? "" : "none");
}

int cmd_model(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "model", defs, sizeof defs / sizeof defs[0], argc, argv, usage);
    if (rc)
        return rc;
    if (a.npos != 1)
        return cli_error("model", "expected one model preset or config.json path (got %d)", a.npos);
    int seq = 0;
    if ((rc = cli_int(&a, "seq-len", 1, 1 << 24, &seq)))
        return rc;
    sp_dtype kv = SP_BF16;
    sp_error err = {0};
    const char *kd = cli_get(&a, "kv-dtype");
    if (kd && sp_dtype_parse(kd, &kv, &err))
        return cli_error("model", "--kv-dtype: %s", err.msg);
    sp_model m;
    sp_model_info info;
    if (sp_load_model_info(a.data_dir, a.pos[0], &m, &info, &err))
        return cli_fail("model", &err);
    json_t *o = sp_model_json(&m, &info, seq, sp_dtype_bytes(kv));
    if (!o)
        return cli_error("model", "out of memory");
    if (cli_flag(&a, "json")) {
        char *s = json_dumps(o, JSON_COMPACT);
        if (s)
            printf("%s\n", s);
        free(s);
    } else
        print_text(o);
    json_decref(o);
    return 0;
}
