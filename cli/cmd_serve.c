/* scaleplan serve: request-level serving simulation at SLOs (docs/serving.md). Parses, calls the library
 * (src/serve*.c), prints text, JSON (built by the library), per-request CSV or plots. */
#include "cli.h"
#include "plot.h"
#include "call.h"
#include "serve_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"model", 1, "model preset or config.json (required)"},
    {"system", 1, "system preset [dgx-h100]"},
    {"gpus", 1, "GPUs of the deployment [tp*pp*ep]"},
    {"tp", 1, "tensor parallelism per replica [1]"},
    {"pp", 1, "pipeline stages per replica (pp virtual engines) [1]"},
    {"ep", 1, "expert parallelism per replica (MoE) [1]"},
    {"dtype", 1, "weight precision: bf16 | fp16 | fp8 | int8 | int4 | fp4 [bf16]"},
    {"kv-dtype", 1, "KV-cache precision: bf16 | fp8 | int8 [bf16]"},
    {"workload", 1, "workload preset (data/workloads) or file [sharegpt]"},
    {"scenario", 1, "workload scenario: server | interactive | offline (MLPerf presets) [the preset's default]"},
    {"trace", 1, "CSV of prompt_tokens, output_tokens [, arrival_s]: lengths (and arrivals) from a trace"},
    {"arrival", 1, "override arrivals: poisson | gamma:CV | closed:USERS | offline"},
    {"rate", 1, "requests per second (Poisson or gamma arrivals) [1]"},
    {"max-rate", 0, "find the highest rate whose P99 TTFT and TPOT meet the SLOs"},
    {"ttft-p99", 1, "P99 time-to-first-token SLO (e.g. 2s, 450ms) [the scenario's]"},
    {"tpot-p99", 1, "P99 time-per-output-token SLO [the scenario's]"},
    {"software", 1, "serving stack: vllm | sglang | trt-llm or a file [vllm]"},
    {"prefill-gpus", 1, "disaggregated prefill: this many GPUs prefill, the rest decode [0]"},
    {"requests", 1, "simulated requests [2000]"},
    {"seed", 1, "random seed (the same seed gives the same run) [1]"},
    {"kernel-factor", 1, "step-time factor of the stack's kernels instead of the family calibration (data/serving/calibration.json)"},
    {"validate", 1, "replay an MLPerf-style CSV (data/validation/serving_mlperf.csv) and report the error per family"},
    {"family", 1, "with --validate: only this accelerator family's rows"},
    {"search", 0, "cheapest deployment meeting the SLOs at --rate over --candidates, layouts, precisions, disaggregation"},
    {"candidates", 1, "with --search: systems to try [dgx-h100,hgx-h200,dgx-b200,mi300x-8,dgx-a100-80g]"},
    {"max-gpus", 1, "with --search: largest deployment considered [64]"},
    {"json", 0, "JSON result"},
    {"csv", 0, "one CSV row per request"},
    {"plot", 1, "latency CDFs and a throughput-latency curve to FILE.svg or FILE.png"},
    {"speculative", 1, "speculative decoding (MTP, draft model): not modelled, refused by name"},
};

static void print_text(const sp_serve_result *r, const sp_serve_opts *o, const sp_model *m, const sp_system *s,
                       const sp_serve_workload *w, int max_rate)
{
    printf("%s on %d x %s (%s), tp %d pp %d ep %d, %s weights, %s KV, %s; %d replica%s", m->name, o->n_gpus, s->acc.name, s->name,
           o->tp, o->pp, o->ep, sp_dtype_name(o->weights), sp_dtype_name(o->kv), o->stack.name, r->replicas, r->replicas == 1 ? "" : "s");
    if (o->prefill_gpus > 0)
        printf(" decoding + %d prefilling (disaggregated)", r->prefill_replicas);
    char note[320];
    if (sp_infer_mtp_note(m, note, sizeof note))
        printf("\nMTP: %s", note);
    printf("\nworkload %s%s%s, %d requests", w->name, w->scenario[0] ? " / " : "", w->scenario, r->n_requests);
    if (w->arrival == SP_ARR_POISSON || w->arrival == SP_ARR_GAMMA)
        printf(" at %.4g/s%s", o->rate, max_rate ? " (the highest rate meeting the SLOs)" : "");
    printf("\n\nthroughput        %10.1f output tokens/s  (%.4g requests/s, %.1f input tokens/s)\n", r->throughput_tokens_per_s,
           r->requests_per_s, r->input_tokens_per_s);
    if (r->ttft_slo_s > 0 || r->tpot_slo_s > 0) {
        printf("goodput           %10.1f output tokens/s  (%.1f %% of requests meet", r->goodput_tokens_per_s, 100 * r->slo_attainment);
        if (r->ttft_slo_s > 0)
            printf(" TTFT <= %.3g s", r->ttft_slo_s);
        if (r->tpot_slo_s > 0)
            printf(" TPOT <= %.3g s", r->tpot_slo_s);
        printf(")\n");
    } else /* it read "100.0 % of requests meet no SLO" */
        printf("goodput           %10.1f output tokens/s  (no SLO given: every request counts)\n", r->goodput_tokens_per_s);
    printf("                      P50         P90         P99        mean\n");
    const char *nm[] = {"TTFT (s)", "TPOT (s)", "E2E (s)"};
    const double *v[] = {r->ttft_s, r->tpot_s, r->e2e_s};
    for (int i = 0; i < 3; i++) {
        printf("%-12s", nm[i]);
        for (int k = 0; k < 4; k++) /* no request with 2+ output tokens has a TPOT: n/a, never "nan" */
            isfinite(v[i][k]) ? printf(" %11.4g", v[i][k]) : printf(" %11s", "n/a");
        printf("\n");
    }
    printf("\nqueue             mean %.1f, max %.0f waiting requests\n", r->queue_mean, r->queue_max);
    printf("KV cache          %.0f tokens per engine; occupancy mean %.0f %%, max %.0f %%; %lld preemptions\n", r->kv_capacity_tokens,
           100 * r->kv_occupancy_mean, 100 * r->kv_occupancy_max, r->preemptions);
    printf("engine steps      %lld, mean batch %.1f sequences; MFU %.1f %%", r->steps, r->mean_batch, 100 * r->mfu);
    if (w->prefix_tokens > 0)
        printf("; prefix-cache hits %.0f %%", 100 * r->prefix_hit_rate);
    if (o->prefill_gpus > 0)
        printf("; KV transfer %.3g ms per request", 1e3 * r->kv_transfer_s);
    printf("\nenergy            %.3g J per output token, %.4g J per request (%.1f kW)\n", r->energy_j_per_token, r->energy_j_per_request,
           r->power_w / 1e3);
    printf("cost              $%.3f per million output tokens ($%.2f/GPU-hour)\n", r->usd_per_million_tokens, s->usd_per_accel_hour);
    printf("SLOs              %s\n", r->ttft_slo_s <= 0 && r->tpot_slo_s <= 0 ? "none given" : r->slo_met ? "P99s met" : "P99s NOT met");
}

static void print_csv(const sp_serve_result *r)
{
    printf("request,arrival_s,prompt_tokens,output_tokens,ttft_s,tpot_s,e2e_s,preemptions,prefix_hit\n");
    for (int i = 0; i < r->n_requests; i++) {
        const sp_serve_request *q = &r->req[i];
        printf("%d,%.6f,%d,%d,%.6f,", i, q->arrival_s, q->prompt, q->output, q->ttft_s);
        if (isfinite(q->tpot_s))
            printf("%.6f", q->tpot_s);
        printf(",%.6f,%d,%d\n", q->e2e_s, q->preemptions, q->prefix_hit);
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The deployment's capacity in requests/s for the throughput-latency curve: its offline run's output tokens/s over
 * the mean output per request (what --max-rate bounds its bisection with); 0 when it cannot be run. */
static double capacity_rate(const sp_model *m, const sp_system *s, const sp_serve_workload *w, const sp_serve_opts *o)
{
    sp_serve_workload off = *w;
    off.arrival = SP_ARR_OFFLINE;
    sp_serve_opts x = *o;
    x.keep_requests = 0;
    sp_serve_result r;
    sp_error err = {0};
    if (sp_serve_simulate(m, s, &off, &x, &r, &err))
        return 0;
    return r.output_tokens_mean > 0 ? r.throughput_tokens_per_s / r.output_tokens_mean : 0;
}

/* Latency CDFs of the run (rerun keeping its requests) and throughput against P99 latency at 0.15..1.2 x the
 * deployment's capacity (8 runs), side by side: the curve reaches the knee wherever --rate is (at 0.25..1.5 x a
 * rate far below capacity it was flat). */
static int serve_plot(const char *path, const sp_model *m, const sp_system *s, const sp_serve_workload *w, const sp_serve_opts *o)
{
    sp_serve_opts x = *o;
    x.keep_requests = 1;
    sp_serve_result r;
    sp_error err = {0};
    if (sp_serve_simulate(m, s, w, &x, &r, &err))
        return cli_fail("serve", &err);
    int n = r.n_requests;
    double *v = malloc(sizeof(double) * 4 * (size_t)n);
    if (!v) {
        sp_serve_result_free(&r);
        return cli_error("serve", "--plot: out of memory");
    }
    double *cdf = v + 3 * (size_t)n;
    int nt = 0;
    for (int i = 0; i < n; i++) {
        v[i] = r.req[i].ttft_s;
        v[n + i] = r.req[i].e2e_s;
        if (isfinite(r.req[i].tpot_s))
            v[2 * n + nt++] = r.req[i].tpot_s;
        cdf[i] = (i + 1.0) / n;
    }
    qsort(v, n, sizeof *v, cmp_d);
    qsort(v + n, n, sizeof *v, cmp_d);
    qsort(v + 2 * n, nt, sizeof *v, cmp_d);
    plot_chart ch[2];
    memset(ch, 0, sizeof ch);
    ch[0] = (plot_chart){.title = "latency CDF", .xlabel = "seconds", .ylabel = "fraction of requests", .logx = 1};
    ch[0].series[0] = (plot_series){"TTFT", v, cdf, n, 0};
    ch[0].series[1] = (plot_series){"E2E", v + n, cdf, n, 0};
    ch[0].series[2] = (plot_series){"TPOT", v + 2 * n, cdf, nt, 0};
    ch[0].nseries = nt > 0 ? 3 : 2;
    double tput[8], p99t[8], p99p[8];
    int k = 0, open = w->arrival == SP_ARR_POISSON || w->arrival == SP_ARR_GAMMA;
    double cap = open ? capacity_rate(m, s, w, o) : 0;
    for (int i = 0; i < 8 && cap > 0; i++) {
        x = *o;
        x.rate = cap * (0.15 + 1.05 * i / 7.0);
        sp_serve_result q;
        if (sp_serve_simulate(m, s, w, &x, &q, &err))
            continue;
        tput[k] = q.throughput_tokens_per_s;
        p99t[k] = q.ttft_s[2];
        p99p[k++] = q.tpot_s[2];
    }
    ch[1] = (plot_chart){.title = "throughput vs P99 latency (0.15-1.2 x capacity)", .xlabel = "output tokens/s", .ylabel = "seconds", .logy = 1};
    ch[1].series[0] = (plot_series){"P99 TTFT", tput, p99t, k, 2};
    ch[1].series[1] = (plot_series){"P99 TPOT", tput, p99p, k, 2};
    ch[1].nseries = 2;
    char perr[256];
    int rc = plot_write(path, ch, k > 1 ? 2 : 1, perr, sizeof perr) ? cli_error("serve", "--plot: %s", perr) : 0;
    free(v);
    sp_serve_result_free(&r);
    return rc;
}

/* --validate FILE: every row replayed, then MAPE per family and MLPerf round. */
static int validate_main(const cli_args *a)
{
    sp_serve_vopts vo;
    memset(&vo, 0, sizeof vo);
    int rc;
    if ((rc = cli_int(a, "requests", 1, 1000000, &vo.n_requests)) || (rc = cli_double(a, "kernel-factor", SP_UNIT_NONE, 0.1, 10, &vo.kernel_factor)))
        return rc;
    snprintf(vo.family, sizeof vo.family, "%s", cli_get(a, "family") ? cli_get(a, "family") : "");
    sp_serve_vrow *v;
    int n;
    sp_error err = {0};
    if (sp_serve_validate(a->data_dir, cli_get(a, "validate"), &vo, &v, &n, &err))
        return cli_fail_opt("serve", "validate", &err);
    json_t *o = sp_serve_validate_json(v, n);
    free(v);
    if (cli_flag(a, "json"))
        return cli_print_json("serve", o);
    /* the text report is formatted from the same object, so the two cannot disagree */
    printf("%-26s %-10s %-6s %-11s %12s %12s %8s\n", "id", "family", "round", "scenario", "predicted", "measured", "error%");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(o, "rows"), i, r) {
        const char *id = json_string_value(json_object_get(r, "id")), *fam = json_string_value(json_object_get(r, "family"));
        const char *rnd = json_string_value(json_object_get(r, "round")), *sc = json_string_value(json_object_get(r, "scenario"));
        json_t *note = json_object_get(r, "note");
        if (note)
            printf("%-26s %-10s %-6s %-11s not evaluated: %s\n", id, fam, rnd, sc, json_string_value(note));
        else
            printf("%-26s %-10s %-6s %-11s %12.1f %12.1f %+8.1f\n", id, fam, rnd, sc,
                   json_number_value(json_object_get(r, "predicted_tokens_per_s")),
                   json_number_value(json_object_get(r, "measured_tokens_per_s")), json_number_value(json_object_get(r, "error_pct")));
    }
    printf("\nMAPE per family and round:\n");
    json_array_foreach(json_object_get(o, "mape"), i, r)
        printf("  %-10s %-6s n=%d  MAPE %.1f %%\n", json_string_value(json_object_get(r, "family")),
               json_string_value(json_object_get(r, "round")), (int)json_integer_value(json_object_get(r, "n")),
               json_number_value(json_object_get(r, "mape_pct")));
    json_decref(o);
    return 0;
}


static void cand_label(const sp_serve_candidate *c, char *buf, size_t n)
{
    int k = snprintf(buf, n, "%s x%d tp%d", c->system, c->gpus, c->tp);
    if (c->pp > 1)
        k += snprintf(buf + k, n - k, " pp%d", c->pp);
    if (c->ep > 1)
        k += snprintf(buf + k, n - k, " ep%d", c->ep);
    k += snprintf(buf + k, n - k, " %s", sp_dtype_name(c->weights));
    if (c->prefill_gpus > 0)
        snprintf(buf + k, n - k, " (%d prefill / %d decode GPUs)", c->prefill_gpus, c->gpus - c->prefill_gpus);
}

static void print_search(const sp_serve_candidate *c, int n, const sp_serve_search_opts *so, const sp_model *m, const sp_serve_workload *w)
{
    printf("cheapest deployments of %s for %s at %.4g requests/s meeting the P99 SLOs (%d layouts evaluated)\n\n", m->name, w->name, so->rate, n);
    printf("  # %-52s %10s %9s %10s %10s\n", "deployment", "$/M tok", "J/tok", "P99 TTFT", "P99 TPOT");
    int shown = 0;
    char lab[160];
    for (int i = 0; i < n && shown < 10; i++) {
        if (!c[i].ok)
            continue;
        cand_label(&c[i], lab, sizeof lab);
        char tpot[32] = "n/a"; /* one-token outputs have no TPOT */
        if (isfinite(c[i].tpot_p99_s))
            snprintf(tpot, sizeof tpot, "%.3gs", c[i].tpot_p99_s);
        printf("%3d %-52s %10.4f %9.3g %9.3gs %10s\n", ++shown, lab, c[i].usd_per_million_tokens, c[i].energy_j_per_token, c[i].ttft_p99_s, tpot);
    }
    if (!shown) {
        printf("  no deployment meets the SLOs within %d GPUs\n", so->max_gpus);
        return;
    }
    cand_label(&c[0], lab, sizeof lab);
    printf("\nbest: %s, %d GPU%s at $%.2f/h; one replica of %d carries %.3g req/s within the SLOs\n", lab, c[0].gpus,
           c[0].gpus == 1 ? "" : "s", c[0].usd_per_gpu_hour, c[0].tp * c[0].pp * c[0].ep, c[0].replica_rate);
    printf("why the others lose (best layout of each system):\n");
    for (int i = 0; i < n; i++) {
        int first = 1;
        for (int j = 0; j < i; j++)
            first &= strcmp(c[j].system, c[i].system) != 0;
        if (!first || i == 0)
            continue;
        cand_label(&c[i], lab, sizeof lab);
        if (c[i].ok) /* why it costs more: the GPUs it needs for the rate, from what one replica carries */
            printf("  %-52s %+.0f %% $/M tokens, %+.0f %% J/token vs the best (%d GPU%s at $%.2f/h; one replica of %d carries %.3g req/s)\n", lab,
                   100 * (c[i].usd_per_million_tokens / c[0].usd_per_million_tokens - 1), 100 * (c[i].energy_j_per_token / c[0].energy_j_per_token - 1),
                   c[i].gpus, c[i].gpus == 1 ? "" : "s", c[i].usd_per_gpu_hour, c[i].tp * c[i].pp * c[i].ep, c[i].replica_rate);
        else
            printf("  %-52s %s\n", c[i].system, c[i].why);
    }
}

/* --search: the cheapest deployment over candidate systems, layouts, precisions and disaggregation. */
static int search_main(const char *data_dir, const cli_args *a, sp_serve_report *r)
{
    sp_system sys[16];
    int ns = 0, n = 0;
    sp_error err = {0};
    sp_serve_candidate *c = malloc(sizeof *c * SP_SERVE_MAX_CANDIDATES);
    if (!c)
        return cli_error("serve", "out of memory");
    if (sp_serve_search_systems(data_dir, r->candidates, sys, 16, &ns, &err) ||
        sp_serve_search(&r->model, sys, ns, &r->wl, &r->opts, &r->so, c, SP_SERVE_MAX_CANDIDATES, &n, &err)) {
        free(c);
        return cli_fail("serve", &err);
    }
    int rc = 0;
    if (cli_flag(a, "json"))
        rc = cli_print_json("serve", sp_serve_search_json(c, n, &r->so));
    else
        print_search(c, n, &r->so, &r->model, &r->wl);
    free(c);
    return rc;
}

/* One rate or --max-rate: text, JSON (the library's), per-request CSV, plots. */
static int run_main(const cli_args *a, sp_serve_report *rep)
{
    sp_serve_opts *o = &rep->opts;
    o->keep_requests = cli_flag(a, "csv");
    sp_serve_result r;
    sp_error err = {0};
    if (rep->max_rate ? sp_serve_max_rate(&rep->model, &rep->system, &rep->wl, o, &r, &err)
                      : sp_serve_simulate(&rep->model, &rep->system, &rep->wl, o, &r, &err))
        return cli_fail("serve", &err);
    int rc = 0;
    if (rep->max_rate)
        o->rate = r.offered_rate;
    if (cli_get(a, "plot"))
        rc = serve_plot(cli_get(a, "plot"), &rep->model, &rep->system, &rep->wl, o);
    if (!rc && cli_flag(a, "json")) {
        json_t *j = sp_serve_result_json(&r, o, rep->model.name, rep->system.name, rep->wl.name);
        if (j)
            sp_serve_notes_json(rep, j);
        rc = cli_print_json("serve", j);
    }
    else if (!rc && cli_flag(a, "csv"))
        print_csv(&r);
    else if (!rc) {
        print_text(&r, o, &rep->model, &rep->system, &rep->wl, rep->max_rate);
        if (rep->layout[0])
            printf("layout chosen     %s\n", rep->layout);
    }
    sp_serve_result_free(&r);
    return rc;
}

int cmd_serve(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "serve", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan serve --model M [--system S] [--gpus N --tp T --pp P --ep E] [--dtype fp8 --kv-dtype fp8]\n"
                       "                       --workload W [--scenario server|interactive|offline] [--trace FILE.csv]\n"
                       "                       [--rate R | --max-rate] [--ttft-p99 2s --tpot-p99 200ms] [--software vllm|sglang|trt-llm]\n"
                       "                       [--prefill-gpus N] [--requests 2000] [--json | --csv | --plot FILE.svg]");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("serve", "unexpected argument '%s'", a.pos[0]);
    if (cli_get(&a, "validate"))
        return validate_main(&a);
    if (!cli_get(&a, "model"))
        return cli_error("serve", "--model is required");
    if (cli_flag(&a, "json") + cli_flag(&a, "csv") > 1)
        return cli_error("serve", "--json and --csv exclude each other");
    sp_serve_report *rep = malloc(sizeof *rep);
    json_t *req = cli_request(&a);
    sp_request rq;
    sp_request_init(&rq, "serve", req);
    sp_error err = {0};
    if (!rep || !req)
        rc = cli_error("serve", "out of memory");
    else if (sp_serve_parse(a.data_dir, &rq, rep, &err))
        rc = cli_fail("serve", &err);
    else {
        rc = rep->search ? search_main(a.data_dir, &a, rep) : run_main(&a, rep);
        sp_serve_workload_free(&rep->wl);
    }
    json_decref(req);
    free(rep);
    return rc;
}
