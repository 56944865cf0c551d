/* scaleplan shape: hardware-in-the-loop model shape search (issue 7). */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"system", 1, "system preset the model will be served on [dgx-h100]"},
    {"params", 1, "parameter budget, e.g. 7e9 or 70B"},
    {"loss", 1, "target loss instead of --params: the law's smallest N reaching it sets the budget"},
    {"latency-ms", 1, "per-output-token latency target (drops slower shapes)"},
    {"law", 1, "scaling-law preset for the loss [chinchilla]; 'none' ranks by parameter count"},
    {"tokens", 1, "training tokens for the loss [20 x N]"},
    {"tol", 1, "shapes within this fraction of the budget [0.1]"},
    {"moe", 0, "also consider 8-expert top-2 MoE shapes"},
    {"tp", 1, "tensor parallelism (GPUs serving one replica) [1]"},
    {"batch", 1, "concurrent sequences [1]"},
    {"prompt", 1, "input tokens [2048]"},
    {"output", 1, "output tokens [256]"},
    {"weights", 1, "weight precision [bf16]"},
    {"kv", 1, "KV-cache precision [bf16]"},
    {"vocab", 1, "vocabulary size [32000]"},
    {"top", 1, "print at most this many front shapes [20]"},
    {"json", 0, "machine-readable output"},
};

int cmd_shape(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "shape", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan shape --system S (--params 7e9 | --loss X) [--latency-ms Y] [--law chinchilla]\n"
                       "                       [--tp T --batch B --prompt P --output O --weights W --kv K] [--moe] [--json]\n"
                       "Enumerates decoder shapes near a parameter budget, predicts each one's loss and its serving latency\n"
                       "and throughput on the system, and prints the Pareto front.");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("shape", "unexpected argument '%s'", a.pos[0]);
    if (!!cli_get(&a, "params") == !!cli_get(&a, "loss"))
        return cli_error("shape", "give exactly one of --params (e.g. 7e9) or --loss (e.g. 2.1)");
    sp_error err = {0};
    sp_system s;
    if (sp_load_system(a.data_dir, cli_get(&a, "system") ? cli_get(&a, "system") : "dgx-h100", &s, &err))
        return cli_fail("shape", &err);
    sp_infer_opts o;
    sp_infer_defaults(&o);
    if (sp_serving_eff_load(a.data_dir, s.acc.name, &o.eff, &err))
        return cli_fail("shape", &err);
    sp_shape_opts so;
    memset(&so, 0, sizeof so);
    so.tpp = 20;
    so.tol = 0.1;
    double lat = 0, loss = 0;
    int top = 20;
    if ((rc = cli_double(&a, "params", SP_UNIT_NONE, 1e6, 1e14, &so.n_target)) ||
        (rc = cli_double(&a, "loss", SP_UNIT_NONE, 0.01, 100, &loss)) ||
        (rc = cli_double(&a, "latency-ms", SP_UNIT_NONE, 1e-3, 1e7, &lat)) ||
        (rc = cli_double(&a, "tokens", SP_UNIT_NONE, 1e6, 1e16, &so.tokens)) ||
        (rc = cli_double(&a, "tol", SP_UNIT_NONE, 0.01, 0.5, &so.tol)) || (rc = cli_int(&a, "tp", 1, 64, &o.tp)) ||
        (rc = cli_int(&a, "batch", 1, 1 << 20, &o.batch)) || (rc = cli_int(&a, "prompt", 1, 1 << 24, &o.prompt)) ||
        (rc = cli_int(&a, "output", 1, 1 << 24, &o.output)) || (rc = cli_int(&a, "vocab", 1, 10000000, &so.vocab)) ||
        (rc = cli_int(&a, "top", 1, 100000, &top)))
        return rc;
    o.n_gpus = o.tp;
    so.max_tpot_s = lat * 1e-3;
    so.allow_moe = cli_flag(&a, "moe");
    const char *w = cli_get(&a, "weights"), *kv = cli_get(&a, "kv");
    if (w && sp_dtype_parse(w, &o.weights, &err))
        return cli_error("shape", "--weights: %s", err.msg);
    if (kv && sp_dtype_parse(kv, &o.kv, &err))
        return cli_error("shape", "--kv: %s", err.msg);
    sp_law law;
    const char *ln = cli_get(&a, "law") ? cli_get(&a, "law") : "chinchilla";
    int use_law = strcmp(ln, "none") != 0;
    if (use_law && sp_load_law(a.data_dir, ln, &law, &err))
        return cli_fail("shape", &err);
    if (cli_get(&a, "loss")) {
        if (!use_law)
            return cli_error("shape", "--loss needs a scaling law (--law chinchilla|epoch|kaplan)");
        double d;
        if (sp_law_min_n(&law, loss, so.tokens, so.tpp, &so.n_target, &d, &err))
            return cli_fail("shape", &err);
        if (!(so.n_target >= 1e6 && so.n_target <= 1e14))
            return cli_error("shape", "--loss %g needs %.3g parameters under law '%s'; allowed budgets 1e6..1e14", loss,
                             so.n_target, ln);
    }
    sp_shape_point *pts = malloc((size_t)top * sizeof *pts);
    if (!pts)
        return cli_error("shape", "out of memory");
    int nf = 0, ne = 0;
    if (sp_shape_search(&s, &o, use_law ? &law : NULL, &so, pts, top, &nf, &ne, &err)) {
        free(pts);
        return cli_fail("shape", &err);
    }
    int shown = nf < top ? nf : top;
    if (cli_flag(&a, "json")) {
        printf("{\"system\":\"%s\",\"params_target\":", s.name);
        cli_json_num(stdout, so.n_target);
        printf(",\"evaluated\":%d,\"front_size\":%d,\"front\":[", ne, nf);
        for (int i = 0; i < shown; i++) {
            const sp_shape_point *p = &pts[i];
            printf("%s{\"name\":\"%s\",\"n_layers\":%d,\"d_model\":%d,\"n_heads\":%d,\"n_kv_heads\":%d,\"d_head\":%d,"
                   "\"ffn_dim\":%d,\"experts\":%d,\"params\":",
                   i ? "," : "", p->m.name, p->m.n_layers, p->m.d_model, p->m.n_heads, p->m.n_kv_heads, p->m.d_head,
                   p->m.ffn_dim, p->m.n_experts);
            cli_json_num(stdout, p->params);
            printf(",\"active_params\":");
            cli_json_num(stdout, p->active);
            printf(",\"loss\":");
            cli_json_num(stdout, p->loss);
            printf(",\"tpot_s\":");
            cli_json_num(stdout, p->tpot_s);
            printf(",\"ttft_s\":");
            cli_json_num(stdout, p->ttft_s);
            printf(",\"tokens_per_s_per_gpu\":");
            cli_json_num(stdout, p->tokens_per_s_per_gpu);
            printf(",\"kv_bytes_per_token\":");
            cli_json_num(stdout, p->kv_bytes_per_token);
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("scaleplan shape: ~%.3g parameters on %d x %s (%s), batch %d, prompt %d, output %d, %s weights%s\n",
               so.n_target, o.n_gpus, s.acc.name, s.name, o.batch, o.prompt, o.output, sp_dtype_name(o.weights),
               use_law ? "" : " (no law: parameter count is the quality proxy)");
        printf("  %d shapes fit, Pareto front of %d (loss or size vs latency vs throughput), by time per token:\n", ne, nf);
        printf("  %-32s %6s %6s %5s %4s %4s %6s %4s %9s %7s %9s %9s %11s %9s\n", "shape", "layers", "d", "heads", "dh",
               "kv", "ffn", "E", "params", "loss", "TPOT", "TTFT", "tok/s/GPU", "KV B/tok");
        for (int i = 0; i < shown; i++) {
            const sp_shape_point *p = &pts[i];
            printf("  %-32s %6d %6d %5d %4d %4d %6d %4d %8.3gB %7.4f %7.2fms %7.1fms %11.4g %9.0f\n", p->m.name,
                   p->m.n_layers, p->m.d_model, p->m.n_heads, p->m.d_head, p->m.n_kv_heads, p->m.ffn_dim,
                   p->m.n_experts > 1 ? p->m.n_experts : 1, p->params / 1e9, use_law ? p->loss : 0.0, p->tpot_s * 1e3,
                   p->ttft_s * 1e3, p->tokens_per_s_per_gpu, p->kv_bytes_per_token);
        }
    }
    free(pts);
    return 0;
}
