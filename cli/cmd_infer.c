/* scaleplan infer: serving memory, latency, throughput and cost; --fit-hardware; validate --infer. */
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
    {"latency-ms", 1, "per-token latency target for --fit-hardware"},
    {"candidates", 1, "systems for --fit-hardware [a100,h100,h200,b200,mi300x]"},
    {"coe", 1, "composition of experts: experts.json served on --system's memory tiers"},
    {"compare", 1, "with --coe: GPU system to compare with [dgx-h100]"},
    {"host-bw", 1, "with --coe: host-to-HBM bandwidth per GPU for systems without memory_tiers [64GB/s]"},
    {"json", 0, "machine-readable output"},
    {"prune-heads", 1, "remove this many attention heads per layer (structured pruning, docs/finetune.md)"},
    {"prune-ffn", 1, "remove this fraction of the FFN width (0..1)"},
    {"csv", 0, "CSV output (with --sweep)"},
};

static const char *sys_alias(const char *c)
{
    static const struct {
        const char *k, *v;
    } al[] = {{"a100", "dgx-a100-80g"}, {"h100", "dgx-h100"}, {"h200", "hgx-h200"}, {"b200", "dgx-b200"}, {"mi300x", "mi300x-8"},
              {"a10", "a10-node"},       {"l40s", "l40s-node"}};
    for (size_t i = 0; i < sizeof al / sizeof al[0]; i++)
        if (strcmp(c, al[i].k) == 0)
            return al[i].v;
    return c;
}


static int coe_main(const cli_args *a, const sp_infer_opts *base);

static void json_kv(const char *k, double v)
{
    printf(",\"%s\":", k);
    cli_json_num(stdout, v);
}

/* --fit-hardware: the cheapest candidate system, TP degree and weight precision meeting the per-token latency.
 * Each candidate is served at --batch (or, with --max-batch, its largest batch that fits); text names the best,
 * --csv lists every candidate evaluated, --json gives the best and the candidates (issue 19). */
typedef struct {
    char system[64];
    int tp, batch, meets;
    sp_dtype w;
    double tpot_s, usd_h, usd_m;
} fit_row;

static json_t *fit_row_json(const fit_row *f)
{
    json_t *j = json_object();
    sp_json_set_str(j, "system", f->system);
    sp_json_set_int(j, "tp", f->tp);
    sp_json_set_str(j, "weights", sp_dtype_name(f->w));
    sp_json_set_int(j, "batch", f->batch);
    sp_json_set_num(j, "tpot_s", f->tpot_s);
    sp_json_set_num(j, "usd_per_hour", f->usd_h);
    sp_json_set_num(j, "usd_per_million_tokens", f->usd_m);
    sp_json_set_bool(j, "meets_latency", f->meets);
    return j;
}

static int fit_print(const cli_args *a, const sp_model *m, double target, const fit_row *rows, int n, int best)
{
    if (cli_flag(a, "csv")) {
        printf("system,tp,weights,batch,tpot_s,usd_per_hour,usd_per_million_tokens,meets_latency\n");
        for (int i = 0; i < n; i++)
            printf("%s,%d,%s,%d,%.6g,%.6g,%.6g,%d\n", rows[i].system, rows[i].tp, sp_dtype_name(rows[i].w), rows[i].batch, rows[i].tpot_s,
                   rows[i].usd_h, rows[i].usd_m, rows[i].meets);
        return 0;
    }
    if (cli_flag(a, "json")) {
        json_t *j = json_object(), *arr = json_array();
        sp_json_set_str(j, "model", m->name);
        sp_json_set_num(j, "latency_target_s", target / 1e3);
        json_object_set_new(j, "best", fit_row_json(&rows[best]));
        for (int i = 0; i < n; i++)
            json_array_append_new(arr, fit_row_json(&rows[i]));
        json_object_set_new(j, "candidates", arr);
        return cli_print_json("infer", j);
    }
    const fit_row *b = &rows[best];
    printf("cheapest hardware meeting %.3g ms per token for %s (batch %d): %s, TP %d, %s weights: %.2f ms/token, $%.2f/hour, $%.3f per M tokens\n",
           target, m->name, b->batch, b->system, b->tp, sp_dtype_name(b->w), b->tpot_s * 1e3, b->usd_h, b->usd_m);
    return 0;
}

static int fit_hardware(const cli_args *a, const sp_model *mp, const sp_infer_opts *op)
{
    sp_error err = {0};
    int rc;
    double target = 0;
    if ((rc = cli_double(a, "latency-ms", SP_UNIT_NONE, 1e-3, 1e6, &target)))
        return rc;
    if (target <= 0)
        return cli_error("infer", "--fit-hardware needs --latency-ms (per output token)");
    char list[256];
    snprintf(list, sizeof list, "%s", cli_get(a, "candidates") ? cli_get(a, "candidates") : "a100,h100,h200,b200,mi300x");
    static fit_row rows[512];
    int n = 0, best = -1, fastest = -1;
    static const sp_dtype qs[] = {SP_BF16, SP_FP8, SP_INT8, SP_INT4};
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        sp_system c;
        if (sp_load_system(a->data_dir, sys_alias(tok), &c, &err))
            return cli_fail("infer", &err);
        for (int tp = 1; tp <= 8; tp *= 2)
            for (int q = 0; q < 4 && n < 512; q++) {
                sp_infer_opts x = *op;
                if (sp_serving_eff_load(a->data_dir, c.acc.name, &x.eff, &err))
                    return cli_fail("infer", &err);
                x.tp = x.n_gpus = tp;
                x.weights = qs[q];
                sp_infer_result r;
                sp_error e2;
                if (sp_infer_eval(mp, &c, &x, &r, &e2) || !r.fits || !(r.tokens_per_s > 0))
                    continue;
                fit_row *f = &rows[n];
                snprintf(f->system, sizeof f->system, "%s", c.name);
                f->tp = tp;
                f->w = qs[q];
                f->batch = r.batch;
                f->tpot_s = r.tpot_s;
                f->usd_h = c.usd_per_accel_hour * tp;
                f->usd_m = f->usd_h / 3600 / r.tokens_per_s * 1e6;
                f->meets = r.tpot_s * 1e3 <= target;
                if (f->meets && (best < 0 || f->usd_h < rows[best].usd_h))
                    best = n;
                if (fastest < 0 || f->tpot_s < rows[fastest].tpot_s)
                    fastest = n;
                n++;
            }
    }
    if (best < 0) {
        if (fastest >= 0)
            return cli_error("infer", "no candidate meets %.3g ms per token; the fastest is %s, TP %d, %s weights: %.2f ms/token", target,
                             rows[fastest].system, rows[fastest].tp, sp_dtype_name(rows[fastest].w), rows[fastest].tpot_s * 1e3);
        return cli_error("infer", "%s fits on none of the candidates (up to TP 8, int4 weights)", mp->name);
    }
    return fit_print(a, mp, target, rows, n, best);
}

static void print_sweep(const cli_args *a, const sp_infer_report *r)
{
    int csv = cli_flag(a, "csv");
    if (csv)
        printf("batch,ttft_s,tpot_s,tokens_per_s,tokens_per_s_per_gpu,tokens_per_s_per_user,memory_per_gpu_bytes,fits\n");
    else
        printf("scaleplan infer: %s on %d x %s, prompt %d, output %d\n  %7s %10s %10s %12s %12s %12s  %s\n", r->model.name,
               r->opts.n_gpus, r->system.acc.name, r->opts.prompt, r->opts.output, "batch", "TTFT", "TPOT", "tok/s", "tok/s/GPU",
               "tok/s/user", "fits");
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
    printf("scaleplan infer: %s on %d x %s (%s), TP %d, EP %d, %s weights, %s KV\n", m->name, o->n_gpus, s->acc.name, s->name, o->tp,
           o->ep, sp_dtype_name(o->weights), sp_dtype_name(o->kv));
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
    json_t *req = cli_request(a);
    sp_request rq;
    sp_request_init(&rq, "infer", req);
    sp_error err = {0};
    sp_status st = sp_infer_run(a->data_dir, &rq, r, &err);
    if (st == SP_OK)
        st = cli_check_used(&rq, &err);
    json_decref(req);
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
                       "                       [--sweep batch=1..512 [--plot FILE.svg]] [--json|--csv]\n"
                       "       scaleplan infer --fit-hardware --model M --latency-ms X [--candidates h100,h200,b200,mi300x,a100]");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("infer", "unexpected argument '%s'", a.pos[0]);
    sp_infer_report *r = malloc(sizeof *r);
    if (!r)
        return cli_error("infer", "out of memory");
    if (cli_get(&a, "coe") || cli_flag(&a, "fit-hardware")) {
        if (!cli_get(&a, "model") && !cli_get(&a, "coe"))
            rc = cli_error("infer", "--model is required (or --coe experts.json)");
        else {
            json_t *req = cli_request(&a);
            sp_request rq;
            sp_request_init(&rq, "infer", req);
            sp_error err = {0};
            if (sp_infer_parse(a.data_dir, &rq, r, &err))
                rc = cli_fail("infer", &err);
            else
                rc = cli_get(&a, "coe") ? coe_main(&a, &r->opts) : fit_hardware(&a, &r->model, &r->opts);
            json_decref(req);
        }
    } else
        rc = serve_point(&a, r);
    sp_infer_report_free(r);
    free(r);
    return rc;
}

/* ---------------------------------------------------------------- --coe */

/* Default capacity tier of a GPU server without "memory_tiers": host DDR over PCIe. 256 GB per GPU = DGX H100's
 * 2 TB of system memory / 8 GPUs (DGX H100 datasheet); bandwidth PCIe Gen5 x16, 64 GB/s per direction (H100
 * datasheet: 128 GB/s bidirectional), overridable with --host-bw. */
static void host_tier(sp_mem_tier *t, double bw)
{
    snprintf(t->name, sizeof t->name, "host-ddr (PCIe)");
    t->capacity = 256e9;
    t->bw = bw;
}

static int coe_main(const cli_args *a, const sp_infer_opts *base)
{
    sp_error err = {0};
    sp_coe_expert *ex;
    int n;
    if (sp_load_coe(a->data_dir, cli_get(a, "coe"), &ex, &n, &err))
        return cli_fail("infer", &err);
    double host_bw = 64e9;
    int rc = cli_double(a, "host-bw", SP_UNIT_BW, 1e6, 1e15, &host_bw);
    const char *sys_name[2] = {cli_get(a, "system") ? cli_get(a, "system") : "sambanova-sn40l",
                               cli_get(a, "compare") ? cli_get(a, "compare") : "dgx-h100"};
    sp_system sys[2];
    sp_mem_tier tiers[2][SP_MAX_MEM_TIERS];
    int nt[2];
    sp_coe_result res[2];
    sp_infer_opts o = *base;
    o.n_gpus = base->n_gpus > 1 ? base->n_gpus : 8;
    for (int k = 0; k < 2 && !rc; k++) {
        if (sp_load_system(a->data_dir, sys_name[k], &sys[k], &err) ||
            sp_load_memory_tiers(a->data_dir, sys_name[k], tiers[k], &nt[k], &err) ||
            sp_serving_eff_load(a->data_dir, sys[k].acc.name, &o.eff, &err)) {
            rc = cli_fail("infer", &err);
            break;
        }
        if (nt[k] == 0)
            host_tier(&tiers[k][nt[k]++], host_bw);
        if (sp_coe_eval(ex, n, &sys[k], tiers[k], nt[k], &o, &res[k], &err))
            rc = cli_fail("infer", &err);
    }
    /* HBM-only: nodes of the comparison system needed to keep every expert resident */
    int nodes = 0;
    double hbm_only_lat = 0;
    if (!rc) {
        double per_node = res[1].hbm_budget;
        nodes = per_node > 0 ? (int)ceil(res[1].total_bytes / per_node) : 0;
        hbm_only_lat = res[1].mean_e2e_s;
    }
    if (rc) {
        free(ex);
        return rc;
    }
    double B = o.batch > 0 ? o.batch : 1;
    if (cli_flag(a, "json")) {
        printf("{\"experts\":%d,\"total_weight_bytes\":", n);
        cli_json_num(stdout, res[0].total_bytes);
        printf(",\"systems\":[");
        for (int k = 0; k < 2; k++) {
            printf("%s{\"system\":\"%s\",\"sockets\":%d,\"resident\":%d,\"store_tier\":\"%s\"", k ? "," : "", sys[k].name,
                   o.n_gpus, res[k].n_resident, res[k].store_tier);
            json_kv("hit_rate", res[k].hit_rate);
            json_kv("hbm_budget_bytes", res[k].hbm_budget);
            json_kv("mean_switch_s", res[k].mean_switch_s);
            json_kv("worst_switch_s", res[k].switch_worst_s);
            json_kv("mean_latency_s", res[k].mean_latency_s);
            json_kv("tokens_per_s", res[k].tokens_per_s);
            printf("}");
        }
        printf("],\"hbm_only\":{\"system\":\"%s\",\"gpus\":%d", sys[1].name, nodes * o.n_gpus);
        json_kv("mean_latency_s", hbm_only_lat);
        json_kv("tokens_per_s", hbm_only_lat > 0 ? nodes * B * o.output / hbm_only_lat : 0);
        json_kv("usd_per_hour", sys[1].usd_per_accel_hour * nodes * o.n_gpus);
        printf("}}\n");
    } else {
        char b1[32], b2[32];
        printf("scaleplan infer --coe: %d experts, %s of weights (%s), batch %.0f per switch, prompt %d, output %d\n", n,
               sp_fmt_quantity(b1, sizeof b1, res[0].total_bytes, SP_UNIT_BYTES), sp_dtype_name(o.weights), B, o.prompt, o.output);
        printf("  %-34s %9s %9s %-16s %10s %10s %10s %12s\n", "system", "resident", "hit rate", "store tier", "switch", "worst sw.",
               "latency", "tokens/s");
        for (int k = 0; k < 2; k++) {
            char lab[96], s1[24], s2[24], s3[24];
            snprintf(lab, sizeof lab, "%d x %.30s (%.40s)", o.n_gpus, sys[k].acc.name, sys[k].name);
            printf("  %-34.34s %5d/%-3d %8.1f%% %-16.16s %10s %10s %10s %12.4g\n", lab, res[k].n_resident, n, 100 * res[k].hit_rate,
                   res[k].store_tier, sp_fmt_quantity(s1, sizeof s1, res[k].mean_switch_s, SP_UNIT_TIME),
                   sp_fmt_quantity(s2, sizeof s2, res[k].switch_worst_s, SP_UNIT_TIME),
                   sp_fmt_quantity(s3, sizeof s3, res[k].mean_latency_s, SP_UNIT_TIME), res[k].tokens_per_s);
        }
        printf("  HBM-only %s: %d GPUs (%d nodes) keep all experts resident: latency %s, %.4g tokens/s, $%.4g/hour\n",
               sys[1].name, nodes * o.n_gpus, nodes, sp_fmt_quantity(b2, sizeof b2, hbm_only_lat, SP_UNIT_TIME),
               hbm_only_lat > 0 ? nodes * B * o.output / hbm_only_lat : 0, sys[1].usd_per_accel_hour * nodes * o.n_gpus);
        printf("  switch = expert bytes / (sockets x store-tier bandwidth), paid when the batch's expert is not resident\n");
    }
    free(ex);
    return 0;
}
