/* Requests of sp_call and the CLI: typed getters over a JSON object whose keys are the CLI's long option names
 * with '-' replaced by '_'. Every getter names the option as the CLI spells it ("--global-batch") in its errors,
 * with the same words the CLI used before the library parsed its options, so a message reads the same from the
 * command line, Python or the browser. Values: numbers, strings with units (sp_parse_quantity), booleans. */
#include "call.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sp_request_init(sp_request *rq, const char *cmd, json_t *obj)
{
    memset(rq, 0, sizeof *rq);
    rq->cmd = cmd;
    rq->obj = obj;
}

/* "global-batch" -> "global_batch" */
static void key_of(const char *opt, char *key, size_t n)
{
    size_t i = 0;
    for (; opt[i] && i + 1 < n; i++)
        key[i] = opt[i] == '-' ? '_' : opt[i];
    key[i] = 0;
}

static json_t *lookup(sp_request *rq, const char *opt)
{
    if (rq->nseen < SP_REQUEST_MAX_KEYS)
        rq->seen[rq->nseen++] = opt;
    if (!rq->obj)
        return NULL;
    char key[64];
    key_of(opt, key, sizeof key);
    json_t *v = json_object_get(rq->obj, key);
    return json_is_null(v) ? NULL : v;
}

int sp_req_has(sp_request *rq, const char *opt) { return lookup(rq, opt) != NULL; }

sp_status sp_req_str(sp_request *rq, const char *opt, const char **out, sp_error *err)
{
    json_t *v = lookup(rq, opt);
    if (!v)
        return SP_OK;
    if (!json_is_string(v))
        return sp_fail(err, SP_EINVAL, "--%s: expected a string", opt);
    *out = json_string_value(v);
    return SP_OK;
}

sp_status sp_req_flag(sp_request *rq, const char *opt, int *out, sp_error *err)
{
    json_t *v = lookup(rq, opt);
    if (!v)
        return SP_OK;
    if (!json_is_boolean(v))
        return sp_fail(err, SP_EINVAL, "--%s: expected true or false", opt);
    *out = json_is_true(v);
    return SP_OK;
}

/* The value as a number and as the text an error quotes: a string is parsed with its units. */
static sp_status number(json_t *v, const char *opt, sp_unit unit, double *x, char *text, size_t n, sp_error *err)
{
    char what[72];
    snprintf(what, sizeof what, "--%s", opt);
    if (json_is_string(v))
        snprintf(text, n, "%s", json_string_value(v));
    sp_status st = sp_json_quantity(v, unit, what, x, err);
    if (st || json_is_string(v))
        return st;
    snprintf(text, n, "%.17g", *x);
    if (!isfinite(*x))
        return sp_fail(err, SP_EINVAL, "--%s: %s is not a finite number", opt, text);
    return SP_OK;
}

sp_status sp_req_int(sp_request *rq, const char *opt, int min, int max, int *out, sp_error *err)
{
    json_t *v = lookup(rq, opt);
    if (!v)
        return SP_OK;
    double x;
    char text[256];
    sp_status st = number(v, opt, SP_UNIT_NONE, &x, text, sizeof text, err);
    if (st)
        return st;
    if (x != floor(x))
        return sp_fail(err, SP_EINVAL, "--%s: '%s' is not a whole number; allowed %d..%d", opt, text, min, max);
    if (x < min || x > max)
        return sp_fail(err, SP_EINVAL, "--%s: %s is out of range; allowed %d..%d", opt, text, min, max);
    *out = (int)x;
    return SP_OK;
}

sp_status sp_req_double(sp_request *rq, const char *opt, sp_unit unit, double min, double max, double *out,
                        sp_error *err)
{
    json_t *v = lookup(rq, opt);
    if (!v)
        return SP_OK;
    double x;
    char text[256];
    sp_status st = number(v, opt, unit, &x, text, sizeof text, err);
    if (st)
        return st;
    if (x < min || x > max)
        return sp_fail(err, SP_EINVAL, "--%s: %s is out of range; allowed %g..%g", opt, text, min, max);
    *out = x;
    return SP_OK;
}

const char *sp_request_unused(const sp_request *rq)
{
    const char *key;
    json_t *v;
    json_object_foreach(rq->obj, key, v) {
        int used = 0;
        for (int i = 0; i < rq->nseen && !used; i++) {
            char k[64];
            key_of(rq->seen[i], k, sizeof k);
            used = strcmp(k, key) == 0;
        }
        if (!used)
            return key;
    }
    return NULL;
}

sp_status sp_request_check_unused(const sp_request *rq, sp_error *err)
{
    const char *key = sp_request_unused(rq);
    if (key)
        return sp_fail(err, SP_EINVAL, "unknown option '%s' for %s (keys are the command's long options with "
                                       "'-' written '_')", key, rq->cmd);
    return SP_OK;
}

static sp_status word(sp_request *rq, const char *opt, const char *const *words, int n, int *out, sp_error *err)
{
    const char *s = NULL;
    sp_status st = sp_req_str(rq, opt, &s, err);
    if (st || !s)
        return st;
    for (int i = 0; i < n; i++)
        if (strcmp(s, words[i]) == 0) {
            *out = i;
            return SP_OK;
        }
    char allowed[256] = "";
    for (int i = 0, w = 0; i < n; i++)
        w += snprintf(allowed + w, sizeof allowed - (size_t)w, "%s%s", i ? ", " : "", words[i]);
    return sp_fail(err, SP_EINVAL, "--%s: '%s'; allowed %s", opt, s, allowed);
}

static sp_status plan_counts(sp_request *rq, sp_plan *p, sp_error *err)
{
    sp_status st;
    if ((st = sp_req_int(rq, "gpus", 1, 1 << 30, &p->n_gpus, err)) || (st = sp_req_int(rq, "tp", 1, 1 << 20, &p->tp, err)) ||
        (st = sp_req_int(rq, "pp", 1, 1 << 20, &p->pp, err)) || (st = sp_req_int(rq, "dp", 1, 1 << 30, &p->dp, err)) ||
        (st = sp_req_int(rq, "cp", 1, 1 << 20, &p->cp, err)) || (st = sp_req_int(rq, "ep", 1, 1 << 20, &p->ep, err)) ||
        (st = sp_req_int(rq, "vpp", 1, 1 << 20, &p->vpp, err)) ||
        (st = sp_req_int(rq, "micro-batch", 1, 1 << 30, &p->micro_batch, err)) ||
        (st = sp_req_int(rq, "global-batch", 1, 1 << 30, &p->global_batch, err)) ||
        (st = sp_req_int(rq, "seq-len", 1, 1 << 24, &p->seq_len, err)) || (st = sp_req_int(rq, "zero", 0, 3, &p->zero, err)) ||
        (st = sp_req_int(rq, "offload-layers", 0, 1 << 20, &p->offload_layers, err)) ||
        (st = sp_req_int(rq, "mtp-layers", 1, 64, &p->mtp_layers, err)))
        return st;
    if ((st = sp_req_int(rq, "etp", 1, 1 << 20, &p->etp, err)) || (st = sp_req_int(rq, "hsdp", 1, 1 << 30, &p->hsdp, err)) ||
        (st = sp_req_double(rq, "capacity-factor", SP_UNIT_NONE, 0.01, 1000, &p->capacity_factor, err)) ||
        (st = sp_req_double(rq, "moe-imbalance", SP_UNIT_NONE, 1, 1000, &p->moe_imbalance, err)) ||
        (st = sp_req_packing(rq, p, err)))
        return st;
    return SP_OK;
}

/* --doc-len and --doc-len-cv: packed sequences (sp_plan doc_len, doc_len_cv; docs/model.md "Packed sequences"); the
 * bound against the sequence length is sp_plan_check_packing's, once the sequence length is known */
sp_status sp_req_packing(sp_request *rq, sp_plan *p, sp_error *err)
{
    sp_status st;
    if ((st = sp_req_double(rq, "doc-len", SP_UNIT_NONE, 1, 1 << 24, &p->doc_len, err)) ||
        (st = sp_req_double(rq, "doc-len-cv", SP_UNIT_NONE, 0, 1 << 12, &p->doc_len_cv, err)))
        return st;
    if (sp_req_has(rq, "doc-len-cv") && !sp_req_has(rq, "doc-len"))
        return sp_fail(err, SP_EINVAL, "--doc-len-cv needs --doc-len (the mean length of the packed samples)");
    return SP_OK;
}

/* --cuda-graphs and --moe-dispatcher: the MoE layer's host-side knobs (docs/systems.md "CUDA graphs", "MoE
 * dispatchers"); a stack's default fills the ones not given (sp_software_apply). */
static sp_status host_knobs(sp_request *rq, sp_plan *p, sp_error *err)
{
    const char *g = NULL, *d = NULL;
    sp_status st;
    if ((st = sp_req_str(rq, "cuda-graphs", &g, err)) || (st = sp_req_str(rq, "moe-dispatcher", &d, err)))
        return st;
    sp_error e2 = {0};
    if (g && sp_cuda_graphs_parse(g, &p->cuda_graphs, &e2))
        return sp_fail(err, SP_EINVAL, "--cuda-graphs: %s", e2.msg);
    if (d && sp_moe_dispatcher_parse(d, &p->moe_dispatcher, &e2))
        return sp_fail(err, SP_EINVAL, "--moe-dispatcher: %s", e2.msg);
    return SP_OK;
}

/* --recompute-modules and --recompute-layers: Megatron-Core's selective recompute modules (they imply selective
 * recompute when --recompute is not given) and the block method's layers per stage (they imply full); docs/model.md
 * "Recompute modules" */
static sp_status recompute_knobs(sp_request *rq, sp_plan *p, sp_error *err)
{
    const char *mods = NULL;
    sp_status st;
    if ((st = sp_req_str(rq, "recompute-modules", &mods, err)) ||
        (st = sp_req_int(rq, "recompute-layers", 1, 1 << 20, &p->recompute_layers, err)))
        return st;
    sp_error e2 = {0};
    if (mods && sp_recompute_modules_parse(mods, &p->recompute_modules, &e2))
        return sp_fail(err, SP_EINVAL, "--recompute-modules: %s", e2.msg);
    int given = sp_req_has(rq, "recompute");
    if (mods && p->recompute_layers > 0)
        return sp_fail(err, SP_EINVAL, "--recompute-modules (selective) and --recompute-layers (full, block) exclude "
                                       "each other");
    if (mods && !given)
        p->recompute = SP_RECOMPUTE_SELECTIVE;
    if (p->recompute_layers > 0 && !given)
        p->recompute = SP_RECOMPUTE_FULL;
    if (mods && p->recompute != SP_RECOMPUTE_SELECTIVE)
        return sp_fail(err, SP_EINVAL, "--recompute-modules applies to selective recompute, not %s",
                       sp_recompute_name(p->recompute));
    if (p->recompute_layers > 0 && p->recompute != SP_RECOMPUTE_FULL)
        return sp_fail(err, SP_EINVAL, "--recompute-layers applies to full recompute, not %s",
                       sp_recompute_name(p->recompute));
    return SP_OK;
}

/* --bf16-layers START,END: the layers a quantized plan keeps in 16 bits (plan.h sp_plan_bf16_layer); any_dtype: the
 * search tries 16-bit plans too, where they mean nothing */
sp_status sp_req_bf16_layers(sp_request *rq, sp_plan *p, int any_dtype, sp_error *err)
{
    const char *bl = NULL;
    sp_status st = sp_req_str(rq, "bf16-layers", &bl, err);
    if (st || !bl)
        return st;
    sp_error e2 = {0};
    if (sp_bf16_layers_parse(bl, &p->bf16_first, &p->bf16_last, &e2))
        return sp_fail(err, SP_EINVAL, "--bf16-layers: %s", e2.msg);
    if (!any_dtype && !sp_dtype_is_quantized(p->dtype)) /* as --fp8-recipe (issue 24): nothing to keep out of */
        return sp_fail(err, SP_EINVAL, "--bf16-layers applies only with a quantized --dtype (fp8, mxfp8, nvfp4, fp4; the "
                       "GEMMs here are %s)", sp_dtype_name(p->dtype));
    return SP_OK;
}

static unsigned host_knobs_given(sp_request *rq)
{
    return (sp_req_has(rq, "cuda-graphs") ? SP_KNOB_GRAPHS : 0) | (sp_req_has(rq, "moe-dispatcher") ? SP_KNOB_DISPATCHER : 0);
}

sp_status sp_req_plan(sp_request *rq, sp_plan *p, sp_error *err)
{
    static const char *const recompute[] = {"none", "selective", "full"};
    static const char *const attention[] = {"flash", "standard"};
    sp_status st = plan_counts(rq, p, err);
    if (st)
        return st;
    int rc = -1, att = -1;
    const char *dt = NULL;
    if ((st = sp_req_flag(rq, "moe-pad", &p->moe_pad, err)) || (st = sp_req_flag(rq, "ep-fold", &p->ep_fold, err)) ||
        (st = sp_req_flag(rq, "moe-router-fusion", &p->moe_router_fusion, err)) ||
        (st = sp_req_flag(rq, "moe-fused-mlp", &p->moe_fused_mlp, err)) ||
        (st = sp_req_flag(rq, "fp8-attention", &p->fp8_attention, err)) ||
        (st = sp_req_flag(rq, "fp8-output-proj", &p->fp8_output_proj, err)) ||
        (st = sp_req_flag(rq, "no-reshard", &p->zero3_keep, err)) ||
        (st = word(rq, "recompute", recompute, 3, &rc, err)) ||
        (st = sp_req_flag(rq, "sp", &p->seq_parallel, err)) || (st = sp_req_str(rq, "dtype", &dt, err)))
        return st;
    if (rc >= 0)
        p->recompute = (sp_recompute)rc;
    sp_error e2 = {0};
    if (dt && sp_dtype_parse(dt, &p->dtype, &e2))
        return sp_fail(err, SP_EINVAL, "--dtype: %s", e2.msg);
    if ((st = word(rq, "attention", attention, 2, &att, err)))
        return st;
    const char *sc = NULL;
    int il = 0;
    if ((st = sp_req_str(rq, "schedule", &sc, err)))
        return st;
    if (sc && sp_schedule_parse(sc, &p->schedule, &il))
        return sp_fail(err, SP_EINVAL, "--schedule: '%s'; allowed 1f1b, interleaved, zb-h1, zb-v, dualpipe", sc);
    if (il && p->vpp < 2)
        return sp_fail(err, SP_EINVAL, "--schedule interleaved needs --vpp >= 2");
    if (att >= 0)
        p->flash_attention = att == 0;
    if ((st = recompute_knobs(rq, p, err)) || (st = sp_req_bf16_layers(rq, p, 0, err)))
        return st;
    return host_knobs(rq, p, err);
}

/* --software / --fp8-recipe (systems' hook): the stack fills the plan knobs the request did not give and sets the
 * system's kernels and overlap; a plan feature the stack lacks is refused by name. */
sp_status sp_req_software(sp_request *rq, const char *data_dir, sp_system *s, sp_plan *p, sp_error *err)
{
    const char *name = NULL, *fr = NULL;
    sp_status st;
    if ((st = sp_req_str(rq, "software", &name, err)) || (st = sp_req_str(rq, "fp8-recipe", &fr, err)))
        return st;
    sp_error e2 = {0};
    if (fr && sp_fp8_recipe_parse(fr, &p->fp8_recipe, &e2))
        return sp_fail(err, SP_EINVAL, "--fp8-recipe: %s", e2.msg);
    if (fr && p->dtype != SP_FP8) /* a scaling recipe of FP8 GEMMs means nothing in another precision (issue 24) */
        return sp_fail(err, SP_EINVAL, "--fp8-recipe applies only with --dtype fp8 (the GEMMs here are %s)",
                       sp_dtype_name(p->dtype));
    if (!name)
        return SP_OK;
    unsigned given = (sp_req_has(rq, "recompute") || sp_req_has(rq, "recompute-modules") ||
                              sp_req_has(rq, "recompute-layers")
                          ? SP_KNOB_RECOMPUTE
                          : 0) | (sp_req_has(rq, "sp") ? SP_KNOB_SP : 0) |
                     (sp_req_has(rq, "zero") ? SP_KNOB_ZERO : 0) | (sp_req_has(rq, "vpp") ? SP_KNOB_VPP : 0) |
                     (sp_req_has(rq, "attention") ? SP_KNOB_FLASH : 0) | (fr ? SP_KNOB_FP8_RECIPE : 0) |
                     host_knobs_given(rq);
    sp_software sw;
    if (sp_load_software(data_dir, name, &sw, &e2) || sp_software_apply(&sw, given, p, &e2))
        return sp_fail(err, SP_EINVAL, "--software: %s", e2.msg);
    sp_software_apply_system(&sw, s);
    return SP_OK;
}

/* the search's plans are not resolved one by one (sp_plan_resolve): its MoE drop-and-pad is checked once, as
 * plan.c checks a plan's (Megatron-Core refuses padding with the deepep dispatcher) */
static sp_status search_pad_check(const sp_search_opts *o, sp_error *err)
{
    if (o->plan.moe_pad && o->plan.moe_dispatcher == SP_DISP_DEEPEP)
        return sp_fail(err, SP_EINVAL, "--moe-pad: the deepep dispatcher does not pad expert buffers to capacity "
                                       "(Megatron-Core refuses it); use alltoall, allgather or hybridep");
    return SP_OK;
}

/* --software NAME of a command that plans on a system (search, limits): the training stack (data/software) in
 * *sw, *have = 1; absent: *have = 0. A name or file that does not load is refused naming the option. */
sp_status sp_req_stack(sp_request *rq, const char *data_dir, sp_software *sw, int *have, sp_error *err)
{
    const char *name = NULL;
    *have = 0;
    sp_status st = sp_req_str(rq, "software", &name, err);
    if (st || !name)
        return st;
    sp_error e2 = {0};
    if (sp_load_software(data_dir, name, sw, &e2))
        return sp_fail(err, SP_EINVAL, "--software: %s", e2.msg);
    *have = 1;
    return SP_OK;
}

/* search --software: the stack's limits on the search space and its kernels (systems' hook) */
sp_status sp_req_software_search(sp_request *rq, const char *data_dir, sp_system *s, sp_search_opts *o, sp_error *err)
{
    sp_software sw;
    int have;
    sp_status st = sp_req_stack(rq, data_dir, &sw, &have, err);
    if (!st)
        st = host_knobs(rq, &o->plan, err);
    if (st || !have)
        return st ? st : search_pad_check(o, err);
    sp_error e2 = {0};
    if (sp_software_apply_search(&sw, o, &e2))
        return sp_fail(err, SP_EINVAL, "--software: %s", e2.msg);
    sp_software_search_knobs(&sw, host_knobs_given(rq), o);
    sp_software_apply_system(&sw, s);
    return search_pad_check(o, err);
}

sp_status sp_req_prune(sp_request *rq, sp_model *m, sp_error *err)
{
    int heads = 0;
    double ffn = 0;
    sp_status st;
    if ((st = sp_req_int(rq, "prune-heads", 0, 1 << 20, &heads, err)) ||
        (st = sp_req_double(rq, "prune-ffn", SP_UNIT_NONE, 0, 0.999, &ffn, err)))
        return st;
    return heads || ffn > 0 ? sp_model_prune(m, heads, ffn, err) : SP_OK;
}

/* A model or system given inline as the JSON object of its file (the Python and web bindings pass a dict): its
 * text, malloc'ed, in *text (NULL when the option is absent or not an object). Messages name it "--model". */
static sp_status inline_object(sp_request *rq, const char *opt, char **text, sp_error *err)
{
    json_t *v = lookup(rq, opt);
    *text = NULL;
    if (!json_is_object(v))
        return SP_OK;
    *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    return *text ? SP_OK : sp_fail(err, SP_ENOMEM, "--%s: out of memory", opt);
}

/* A preset or file that does not load: the error names the option it came from ("--model: unknown model
 * preset 'x' ...", issue 24), as every refusal does. */
sp_status sp_req_named(sp_status st, const char *opt, sp_error *err)
{
    size_t n = strlen(opt);
    if (st && err && !(strncmp(err->msg, "--", 2) == 0 && strncmp(err->msg + 2, opt, n) == 0))
        sp_fail(err, st, "--%s: %s", opt, err->msg);
    return st;
}

sp_status sp_req_model(sp_request *rq, const char *data_dir, const char *dflt, sp_model *m, sp_error *err)
{
    char *text;
    sp_status st = inline_object(rq, "model", &text, err);
    if (st || text) {
        if (text)
            st = sp_parse_model("--model", text, strlen(text), m, err);
        free(text);
        return st;
    }
    const char *name = dflt;
    st = sp_req_str(rq, "model", &name, err);
    if (st)
        return st;
    if (!name)
        return sp_fail(err, SP_EINVAL, "--model is required");
    return sp_req_named(sp_load_model(data_dir, name, m, err), "model", err);
}

sp_status sp_req_system(sp_request *rq, const char *data_dir, const char *dflt, sp_system *s, sp_error *err)
{
    char *text;
    sp_status st = inline_object(rq, "system", &text, err);
    if (st || text) {
        if (text)
            st = sp_parse_system(data_dir, "--system", text, strlen(text), s, err);
        free(text);
        return st;
    }
    const char *name = dflt;
    st = sp_req_str(rq, "system", &name, err);
    if (st)
        return st;
    if (!name)
        return sp_fail(err, SP_EINVAL, "--system is required");
    return sp_req_named(sp_load_system(data_dir, name, s, err), "system", err);
}
