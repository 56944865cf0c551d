/* scaleplan infer: serving memory, latency, throughput and cost; --fit-hardware and --coe (the library computes, this prints). */
#include "cli.h"
#include "plot.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const cli_optdef defs[] = {
    {"model", 1, "model preset or config.json (required)"},
    {"system", 1, "system preset [dgx-h100]"},
    {"gpus", 1, "GPUs serving one model replica group [tp*ep]"},
    {"tp", 1, "tensor parallelism [1]"},
    {"pp", 1, "pipeline stages (layers split, micro-batches in flight) [1]"},
    {"routing", 1, "MoE routing distribution: a file of one probability per expert (whitespace or comma separated)"},
    {"ep", 1, "expert parallelism (MoE) [1]"},
    {"batch", 1, "concurrent sequences [1]"},
    {"max-batch", 0, "use the largest batch that fits"},
    {"inflight", 0, "continuous (in-flight) batching with chunked prefill; default: static batching"},
    {"prompt", 1, "input tokens [2048]"},
    {"output", 1, "output tokens [256]"},
    {"weights", 1, "weight precision: bf16 | fp16 | fp8 | int8 | int4 | fp4 [bf16]"},
    {"kv", 1, "KV-cache precision: bf16 | fp8 | int8 [bf16]"},
    {"sweep", 1, "batch=LO..HI: throughput vs latency over powers of two"},
    {"plot", 1, "with --sweep: throughput vs latency to FILE.svg or FILE.png"},
    {"fit-hardware", 0, "cheapest hardware and plan meeting --latency-ms per output token"},
    {"latency-ms", 1, "with --fit-hardware: per-token latency target (ms)"},
    {"candidates", 1, "with --fit-hardware: candidate systems [a100,h100,h200,b200,mi300x]"},
    {"coe", 1, "composition of experts: experts.json served on --system's memory tiers"},
    {"compare", 1, "with --coe: GPU system to compare with [dgx-h100]"},
    {"host-bw", 1, "with --coe: host-to-HBM bandwidth per GPU for systems without memory_tiers [64GB/s]"},
    {"json", 0, "machine-readable output"},
    {"prune-heads", 1, "remove this many attention heads per layer (structured pruning, docs/finetune.md)"},
    {"prune-ffn", 1, "remove this fraction of the FFN width (0..1)"},
    {"csv", 0, "CSV output (with --sweep)"},
    {"software", 1, "serving stack as serve takes it: vllm | sglang | trt-llm or a file (data/serving): its calibrated kernel factor, host time per step, memory fraction, sequences and tokens per engine step [none: infer's own engine model]"},
    {"speculative", 1, "speculative decoding (MTP, draft model): not modelled, refused by name"},
};

/* --fit-hardware: the library's report (src/infer_modes.c) as CSV (every candidate), JSON or one line of text */
static int fit_main(const cli_args *a)
{
    sp_fit_hw_report *r = malloc(sizeof *r);
    if (!r)
        return cli_error("infer", "out of memory");
    sp_error err = {0};
    sp_request rq = cli_request_begin(a);
    sp_status st = cli_request_done(&rq, sp_infer_fit_run(a->data_dir, &rq, r, &err), &err);
    int rc = 0;
    if (st)
        rc = cli_fail("infer", &err);
    else if (cli_flag(a, "csv")) {
        printf("system,tp,weights,batch,tpot_s,usd_per_hour,usd_per_million_tokens,meets_latency\n");
        for (int i = 0; i < r->n; i++) {
            const sp_fit_hw_row *f = &r->rows[i];
            printf("%s,%d,%s,%d,%.6g,%.6g,%.6g,%d\n", f->system, f->tp, sp_dtype_name(f->weights), f->batch, f->tpot_s,
                   f->usd_per_hour, f->usd_per_million_tokens, f->meets);
        }
    } else if (cli_flag(a, "json"))
        rc = cli_print_json("infer", sp_infer_fit_json(r));
    else {
        const sp_fit_hw_row *b = &r->rows[r->best];
        printf("cheapest hardware meeting %.3g ms per token for %s (batch %d): %s, TP %d, %s weights: %.2f ms/token, "
               "$%.2f/hour, $%.3f per M tokens\n",
               r->target_ms, r->model.name, b->batch, b->system, b->tp, sp_dtype_name(b->weights), b->tpot_s * 1e3,
               b->usd_per_hour, b->usd_per_million_tokens);
    }
    free(r);
    return rc;
}

/* --coe: the library's report (src/infer_modes.c) as JSON or a table of the two systems and the HBM-only fleet */
static void coe_print(const sp_coe_report *r)
{
    const sp_infer_opts *o = &r->opts;
    char b1[32], b2[32];
    printf("scaleplan infer --coe: %d experts, %s of weights (%s), batch %.0f per switch, prompt %d, output %d\n",
           r->n_experts, sp_fmt_quantity(b1, sizeof b1, r->res[0].total_bytes, SP_UNIT_BYTES), sp_dtype_name(o->weights),
           o->batch > 0 ? (double)o->batch : 1.0, o->prompt, o->output);
    printf("  %-34s %9s %9s %-16s %10s %10s %10s %12s\n", "system", "resident", "hit rate", "store tier", "switch",
           "worst sw.", "latency", "tokens/s");
    for (int k = 0; k < 2; k++) {
        const sp_coe_result *x = &r->res[k];
        char lab[96], s1[24], s2[24], s3[24];
        snprintf(lab, sizeof lab, "%d x %.30s (%.40s)", o->n_gpus, r->sys[k].acc.name, r->sys[k].name);
        printf("  %-34.34s %5d/%-3d %8.1f%% %-16.16s %10s %10s %10s %12.4g\n", lab, x->n_resident, r->n_experts,
               100 * x->hit_rate, x->store_tier, sp_fmt_quantity(s1, sizeof s1, x->mean_switch_s, SP_UNIT_TIME),
               sp_fmt_quantity(s2, sizeof s2, x->switch_worst_s, SP_UNIT_TIME),
               sp_fmt_quantity(s3, sizeof s3, x->mean_latency_s, SP_UNIT_TIME), x->tokens_per_s);
    }
    printf("  HBM-only %s: %d GPUs (%d nodes) keep all experts resident: latency %s, %.4g tokens/s, $%.4g/hour\n",
           r->sys[1].name, r->hbm_only_nodes * o->n_gpus, r->hbm_only_nodes,
           sp_fmt_quantity(b2, sizeof b2, r->hbm_only_latency_s, SP_UNIT_TIME), r->hbm_only_tokens_per_s,
           r->hbm_only_usd_per_hour);
    printf("  switch = expert bytes / (sockets x store-tier bandwidth), paid when the batch's expert is not resident\n");
}

static int coe_main(const cli_args *a)
{
    sp_coe_report *r = malloc(sizeof *r);
    if (!r)
        return cli_error("infer", "out of memory");
    sp_error err = {0};
    sp_request rq = cli_request_begin(a);
    sp_status st = cli_request_done(&rq, sp_infer_coe_run(a->data_dir, &rq, r, &err), &err);
    int rc = 0;
    if (st)
        rc = cli_fail("infer", &err);
    else if (cli_flag(a, "json"))
        rc = cli_print_json("infer", sp_infer_coe_json(r));
    else
        coe_print(r);
    free(r);
    return rc;
}

static void print_sweep(const cli_args *a, const sp_infer_report *r)
{
    int csv = cli_flag(a, "csv");
    if (csv)
        printf("batch,ttft_s,tpot_s,tokens_per_s,tokens_per_s_per_gpu,tokens_per_s_per_user,memory_per_gpu_bytes,fits\n");
    else {
        printf("scaleplan infer: %s on %d x %s, prompt %d, output %d\n", r->model.name, r->opts.n_gpus, r->system.acc.name,
               r->opts.prompt, r->opts.output);
        if (r->layout[0]) /* chosen at --batch (1 unless given), then kept over the sweep */
            printf("  layout chosen: %s\n", r->layout);
        if (r->have_stack)
            printf("  serving stack: %s (kernel factor calibration: %s)\n", r->stack.name, r->stack_family);
        printf("  %7s %10s %10s %12s %12s %12s  %s\n", "batch", "TTFT", "TPOT", "tok/s", "tok/s/GPU", "tok/s/user", "fits");
    }
    for (int i = 0; i < r->n_sweep; i++) {
        const sp_infer_result *x = &r->sweep[i];
        if (csv)
            printf("%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d\n", x->batch, x->ttft_s, x->tpot_s, x->tokens_per_s, x->tokens_per_s_per_gpu,
                   x->tokens_per_s_per_user, x->total_bytes, x->fits);
        else
            printf("  %7d %8.1fms %8.2fms %12.4g %12.4g %12.4g  %s\n", x->batch, x->ttft_s * 1e3, x->tpot_s * 1e3, x->tokens_per_s,
                   x->tokens_per_s_per_gpu, x->tokens_per_s_per_user, x->fits ? "yes" : "NO");
    }
}

static int plot_sweep(const char *path, const sp_infer_report *r)
{
    double xs[SP_INFER_MAX_SWEEP], ys[SP_INFER_MAX_SWEEP];
    for (int i = 0; i < r->n_sweep; i++) {
        xs[i] = r->sweep[i].tpot_s * 1e3;
        ys[i] = r->sweep[i].tokens_per_s_per_gpu;
    }
    plot_chart ch;
    memset(&ch, 0, sizeof ch);
    ch.title = "Serving trade-off: throughput vs per-token latency (batch sweep)";
    ch.xlabel = "time per output token (ms)";
    ch.ylabel = "output tokens/s per GPU";
    ch.logx = ch.logy = 1;
    ch.series[0] = (plot_series){r->model.name, xs, ys, r->n_sweep, 2};
    ch.nseries = 1;
    char perr[512];
    if (plot_write(path, &ch, 1, perr, sizeof perr))
        return cli_error("infer", "%s", perr);
    return 0;
}

static void print_report(const sp_infer_report *rep)
{
    const sp_model *m = &rep->model;
    const sp_system *s = &rep->system;
    const sp_infer_opts *o = &rep->opts;
    const sp_infer_result *r = &rep->res;
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
    printf("scaleplan infer: %s on %d x %s (%s), TP %d, EP %d", m->name, o->n_gpus, s->acc.name, s->name, o->tp, o->ep);
    if (o->pp > 1)
        printf(", PP %d", o->pp);
    printf(", %s weights, %s KV\n", sp_dtype_name(o->weights), sp_dtype_name(o->kv));
    if (rep->layout[0])
        printf("  layout chosen    %s\n", rep->layout);
    if (rep->have_stack)
        printf("  serving stack    %s (kernel factor calibration: %s; %.3g ms host time per step, at most %d sequences "
               "per engine)\n", rep->stack.name, rep->stack_family, 1e3 * rep->stack.step_overhead_s, rep->stack.max_num_seqs);
    printf("  batch %d (max that fits: %d), prompt %d, output %d tokens\n", r->batch, r->max_batch, o->prompt, o->output);
    char b7[32];
    printf("  memory per GPU   %s of %s (%.0f %% usable: %s): weights %s, KV cache %s, activations %s, overhead %s%s\n",
           sp_fmt_quantity(b1, sizeof b1, r->total_bytes, SP_UNIT_BYTES), sp_fmt_quantity(b2, sizeof b2, r->capacity, SP_UNIT_BYTES),
           100 * o->mem_frac, sp_fmt_quantity(b7, sizeof b7, o->mem_frac * r->capacity, SP_UNIT_BYTES),
           sp_fmt_quantity(b3, sizeof b3, r->weights_bytes, SP_UNIT_BYTES), sp_fmt_quantity(b4, sizeof b4, r->kv_bytes, SP_UNIT_BYTES),
           sp_fmt_quantity(b5, sizeof b5, r->activation_bytes, SP_UNIT_BYTES),
           sp_fmt_quantity(b6, sizeof b6, r->overhead_bytes, SP_UNIT_BYTES), r->fits ? "" : "  DOES NOT FIT");
    printf("  KV cache         %.0f bytes per token of context (all layers)", r->kv_bytes_per_token);
    if (r->state_bytes_per_seq > 0) /* hybrid models: recurrent states and sliding rings, per sequence */
        printf(" + %s per sequence (recurrent states, sliding-window rings)",
               sp_fmt_quantity(b1, sizeof b1, r->state_bytes_per_seq, SP_UNIT_BYTES));
    printf("\n");
    char note[320];
    if (sp_infer_mtp_note(m, note, sizeof note))
        printf("  MTP              %s\n", note);
    if (sp_model_is_moe(m))
        printf("  MoE              %.1f of %d experts read per layer per decode step (per EP rank)\n", r->experts_read, m->n_experts);
    printf("  time to first token  %s (%s-bound)\n", sp_fmt_quantity(b1, sizeof b1, r->ttft_s, SP_UNIT_TIME), r->prefill_bound);
    if (o->output > 0)
        printf("  time per output token %s (%s-bound)   end to end %s\n", sp_fmt_quantity(b2, sizeof b2, r->tpot_s, SP_UNIT_TIME),
               r->decode_bound, sp_fmt_quantity(b3, sizeof b3, r->e2e_s, SP_UNIT_TIME));
    else /* no decode happens: the decode step below is what one would take (issue 24) */
        printf("  time per output token n/a (no output tokens)   end to end %s\n", sp_fmt_quantity(b3, sizeof b3, r->e2e_s, SP_UNIT_TIME));
    printf("  %-15s %9s %9s %9s %9s %9s %9s %9s  bound\n", "step breakdown", "GEMM", "wt read", "attention", "elemwise", "TP comm",
           "EP comm", "overhead");
    for (int ph = 0; ph < 2; ph++) {
        const sp_infer_step *st = ph ? &r->decode : &r->prefill;
        printf("  %-15s %7.3fms %7.3fms %7.3fms %7.3fms %7.3fms %7.3fms %7.3fms  %s\n", ph ? "decode step" : "prefill",
               st->gemm_compute * 1e3, st->weight_read * 1e3, st->attention * 1e3, st->elementwise * 1e3, st->tp_comm * 1e3,
               st->ep_comm * 1e3, st->overhead * 1e3, st->bound);
    }
    if (o->output > 0)
        printf("  throughput       %.4g tokens/s total, %.4g per GPU, %.4g per user\n", r->tokens_per_s, r->tokens_per_s_per_gpu,
               r->tokens_per_s_per_user);
    else
        printf("  throughput       no output tokens: prefill only (time to first token above)\n");
    if (isfinite(rep->usd_per_million_tokens) && isfinite(rep->joules_per_token))
        printf("  cost and energy  $%.4g per million output tokens at $%.2f/GPU-hour; %.3g J per token (facility)\n",
               rep->usd_per_million_tokens, s->usd_per_accel_hour, rep->joules_per_token);
    else /* --output 0: no output token to price */
        printf("  cost and energy  n/a per output token (no output tokens) at $%.2f/GPU-hour\n", s->usd_per_accel_hour);
}

/* The library's modes (one configuration, a batch sweep): text, CSV or JSON of the same report. */
static int serve_point(const cli_args *a, sp_infer_report *r)
{
    if (cli_get(a, "plot") && !cli_get(a, "sweep"))
        return cli_error("infer", "--plot needs --sweep batch=LO..HI");
    sp_request rq = cli_request_begin(a);
    sp_error err = {0};
    sp_status st = cli_request_done(&rq, sp_infer_run(a->data_dir, &rq, r, &err), &err);
    if (st)
        return cli_fail("infer", &err);
    if (cli_flag(a, "json"))
        return cli_print_json("infer", sp_infer_json(r));
    if (r->n_sweep > 0) {
        print_sweep(a, r);
        return cli_get(a, "plot") ? plot_sweep(cli_get(a, "plot"), r) : 0;
    }
    print_report(r);
    return 0;
}

int cmd_infer(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "infer", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan infer --model M [--system S] [--gpus N --tp T --ep E] [--batch B | --max-batch]\n"
                       "                       [--prompt 2048 --output 256] [--weights bf16|fp8|int8|int4] [--kv bf16|fp8|int8]\n"
                       "                       [--software vllm|sglang|trt-llm] [--sweep batch=1..512 [--plot FILE.svg]] [--json|--csv]\n"
                       "       scaleplan infer --fit-hardware --model M --latency-ms X [--candidates h100,h200,b200,mi300x,a100]");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("infer", "unexpected argument '%s'", a.pos[0]);
    /* zeroed: the --coe / --fit-hardware paths and serve_point's early refusals never fill r, and
       sp_infer_report_free below frees r->probs on every path (valgrind: free of an uninitialised pointer) */
    sp_infer_report *r = calloc(1, sizeof *r);
    if (!r)
        return cli_error("infer", "out of memory");
    if (cli_get(&a, "coe") || cli_flag(&a, "fit-hardware"))
        rc = cli_get(&a, "coe") ? coe_main(&a) : fit_main(&a);
    else
        rc = serve_point(&a, r);
    sp_infer_report_free(r);
    free(r);
    return rc;
}

