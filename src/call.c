/* sp_call: the one entry point for bindings (Python, WebAssembly) and the CLI's --json. A command name, a request
 * object (JSON text) and a data directory in; one JSON object out, built with jansson so that escaping is correct
 * by construction. The table of commands is SP_CALL_COMMANDS in call.h (one line per command). */
#include "call.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

json_t *sp_json_num(double v)
{
    if (!isfinite(v))
        return json_null();
    if (v == floor(v) && fabs(v) < 1e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

void sp_json_set_num(json_t *o, const char *key, double v) { json_object_set_new(o, key, sp_json_num(v)); }

void sp_json_set_energy(json_t *o, const sp_energy_result *e)
{
    sp_json_set_num(o, "energy_kwh", e->energy_kwh);
    sp_json_set_num(o, "co2e_kg", e->co2e_kg);
    json_t *u = json_object();
    sp_json_set_num(u, "cloud", e->cloud_usd);
    sp_json_set_num(u, "ownership", e->own_usd);
    json_object_set_new(o, "cost_usd", u);
}
/* A string value; text that is not valid UTF-8 (a file name given as raw bytes) keeps its ASCII bytes and shows
 * '?' for the others, so the key is never dropped and the output stays valid JSON. */
json_t *sp_json_str(const char *v)
{
    json_t *s = json_string(v ? v : "");
    if (s)
        return s;
    size_t n = strlen(v);
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        copy[i] = (unsigned char)v[i] < 0x80 ? v[i] : '?';
    s = json_string(copy);
    free(copy);
    return s;
}

void sp_json_set_str(json_t *o, const char *key, const char *v) { json_object_set_new(o, key, sp_json_str(v)); }
void sp_json_set_int(json_t *o, const char *key, long long v) { json_object_set_new(o, key, json_integer(v)); }
void sp_json_set_bool(json_t *o, const char *key, int v) { json_object_set_new(o, key, json_boolean(v)); }

void sp_json_set_degrees(json_t *o, const sp_plan *p)
{
    sp_json_set_int(o, "tp", p->tp);
    sp_json_set_int(o, "pp", p->pp);
    sp_json_set_int(o, "dp", p->dp);
    sp_json_set_int(o, "cp", p->cp);
    sp_json_set_int(o, "ep", p->ep);
    if (p->ep_fold) /* dp is then the attention's data parallelism and EP a sub-group of TP x CP x DP (plan.c) */
        sp_json_set_bool(o, "ep_fold", 1);
    sp_json_set_int(o, "vpp", p->vpp);
    sp_json_set_int(o, "micro_batch", p->micro_batch);
}

void sp_json_set_memory_knobs(json_t *o, const sp_plan *p)
{
    sp_json_set_str(o, "recompute", sp_recompute_name(p->recompute));
    if (p->recompute == SP_RECOMPUTE_SELECTIVE && p->recompute_modules) { /* given: the modules re-run */
        char buf[128];
        sp_json_set_str(o, "recompute_modules", sp_recompute_modules_name(p->recompute_modules, buf, sizeof buf));
    }
    if (p->recompute == SP_RECOMPUTE_FULL && p->recompute_layers > 0) /* the block method's layers per stage */
        sp_json_set_int(o, "recompute_layers", p->recompute_layers);
    sp_json_set_bool(o, "sequence_parallel", p->seq_parallel);
    sp_json_set_int(o, "zero", p->zero);
    if (p->zero3_keep && p->zero == 3)
        sp_json_set_bool(o, "reshard_after_forward", 0);
    if (p->hsdp > 0)
        sp_json_set_int(o, "hsdp", p->hsdp);
}

void sp_json_set_bf16_layers(json_t *o, const sp_plan *p)
{
    if (!sp_dtype_is_quantized(p->dtype) || (p->bf16_first <= 0 && p->bf16_last <= 0))
        return;
    json_t *a = json_array();
    json_array_append_new(a, json_integer(p->bf16_first));
    json_array_append_new(a, json_integer(p->bf16_last));
    json_object_set_new(o, "bf16_layers", a);
}

void sp_json_set_packing(json_t *o, const sp_plan *p)
{
    if (p->doc_len <= 0)
        return;
    sp_json_set_num(o, "doc_len", p->doc_len);
    sp_json_set_num(o, "doc_len_cv", p->doc_len_cv);
    sp_json_set_num(o, "attn_context", sp_plan_attn_context(p));
}

/* 15 significant digits: every value the model computes survives a round trip to the precision it has, and
 * 0.1 prints as 0.1 (17 digits would print 0.10000000000000001). */
char *sp_json_dump(const json_t *j) { return json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)); }

typedef sp_status (*call_fn)(const char *data_dir, sp_request *rq, json_t **out, sp_error *err);
#define SP_CALL_ENTRY(name, ident) {name, sp_call_##ident},
static const struct {
    const char *name;
    call_fn fn;
} commands[] = {SP_CALL_COMMANDS(SP_CALL_ENTRY)};
#undef SP_CALL_ENTRY

static sp_status parse_request(const char *text, json_t **obj, sp_error *err)
{
    if (!text || !*text) {
        *obj = json_object();
        return *obj ? SP_OK : sp_fail(err, SP_ENOMEM, "out of memory");
    }
    json_error_t je;
    *obj = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!*obj)
        return sp_fail(err, SP_EPARSE, "request:%d:%d: %s", je.line, je.column, je.text);
    if (!json_is_object(*obj)) {
        json_decref(*obj);
        return sp_fail(err, SP_EPARSE, "request: expected a JSON object of options");
    }
    return SP_OK;
}

static sp_status unknown_command(const char *command, sp_error *err)
{
    char list[512] = "";
    size_t w = 0;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0] && w < sizeof list; i++)
        w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", i ? ", " : "", commands[i].name);
    return sp_fail(err, SP_EINVAL, "unknown command '%s'; commands: %s", command ? command : "(null)", list);
}

sp_status sp_call(const char *data_dir, const char *command, const char *request_json, char **result_json,
                  sp_error *err)
{
    if (!result_json)
        return sp_fail(err, SP_EINVAL, "sp_call: result_json is NULL");
    *result_json = NULL;
    call_fn fn = NULL;
    for (size_t i = 0; command && i < sizeof commands / sizeof commands[0] && !fn; i++)
        if (strcmp(command, commands[i].name) == 0)
            fn = commands[i].fn;
    if (!fn)
        return unknown_command(command, err);
    json_t *req;
    sp_status st = parse_request(request_json, &req, err);
    if (st)
        return st;
    sp_request rq;
    sp_request_init(&rq, command, req);
    json_t *out = NULL;
    st = fn(data_dir, &rq, &out, err);
    if (st == SP_OK)
        st = sp_request_check_unused(&rq, err);
    if (st == SP_OK) {
        *result_json = sp_json_dump(out);
        if (!*result_json)
            st = sp_fail(err, SP_ENOMEM, "out of memory");
    }
    json_decref(out);
    json_decref(req);
    return st;
}
