/* scaleplan shape: hardware-in-the-loop model shape search (issue 7). */
#include "cli.h"


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
    sp_request rq = cli_request_begin(&a);
    sp_shape_report rep;
    sp_error err = {0};
    sp_status st = cli_request_done(&rq, sp_shape_run(a.data_dir, &rq, &rep, &err), &err);
    if (st) {
        sp_shape_report_free(&rep);
        return cli_fail("shape", &err);
    }
    if (cli_flag(&a, "json")) {
        rc = cli_print_json("shape", sp_shape_json(&rep));
        sp_shape_report_free(&rep);
        return rc;
    }
    const sp_system s = rep.system;
    const sp_infer_opts o = rep.opts;
    const sp_shape_opts so = rep.shape;
    const sp_shape_point *pts = rep.front;
    int nf = rep.n_front, ne = rep.n_evaluated, shown = rep.shown, use_law = rep.use_law;
    {
        printf("scaleplan shape: ~%.3g parameters on %d x %s (%s), batch %d, prompt %d, output %d, %s weights%s\n",
               so.n_target, o.n_gpus, s.acc.name, s.name, o.batch, o.prompt, o.output, sp_dtype_name(o.weights),
               use_law ? "" : " (no law: parameter count is the quality proxy)");
        printf("  %d shapes fit, Pareto front of %d (loss or size vs latency vs throughput), by time per token;\n", ne, nf);
        printf("  d_model/layers kept in %d..%d, where loss is flat in shape%s (docs/inference.md)\n", SP_SHAPE_ASPECT_MIN,
               SP_SHAPE_ASPECT_MAX, use_law ? "; loss includes the KV-sharing penalty: +0.29 % MQA, +0.05 % GQA-8" : "");
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
    sp_shape_report_free(&rep);
    return 0;
}
