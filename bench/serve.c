/* Benchmark: simulate 1,000,000 ShareGPT requests of Llama-3-8B on one H100 (vLLM stack) at 80 % of the offline
 * request rate, one thread. Issue 19 target: under 10 s on one core. Prints CPU and wall time, requests and steps per CPU-second.
 * Usage: build/bench/serve [requests] */
#include "scaleplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000000;
    sp_model m;
    sp_system s;
    sp_serve_workload w;
    sp_serve_opts o;
    sp_error e = {0};
    sp_serve_defaults(&o);
    if (sp_load_model(SP_DATA_DIR, "llama3-8b", &m, &e) || sp_load_system(SP_DATA_DIR, "dgx-h100", &s, &e) ||
        sp_serve_workload_load(SP_DATA_DIR, "sharegpt", NULL, &w, &e) || sp_serve_stack_load(SP_DATA_DIR, "vllm", &o.stack, &e) ||
        sp_serving_eff_load(SP_DATA_DIR, s.acc.name, &o.eff, &e)) {
        fprintf(stderr, "bench/serve: %s\n", e.msg);
        return 2;
    }
    sp_serve_result r;
    sp_serve_workload off = w;
    off.arrival = SP_ARR_OFFLINE;
    o.n_requests = 5000;
    if (sp_serve_simulate(&m, &s, &off, &o, &r, &e)) {
        fprintf(stderr, "bench/serve: %s\n", e.msg);
        return 2;
    }
    o.rate = 0.8 * r.requests_per_s;
    o.n_requests = n;
    double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (sp_serve_simulate(&m, &s, &w, &o, &r, &e)) {
        fprintf(stderr, "bench/serve: %s\n", e.msg);
        return 2;
    }
    double dt = now(CLOCK_MONOTONIC) - t0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    printf("bench/serve: %d requests at %.1f/s (80 %% of offline), %lld engine steps, mean batch %.1f: %.2f s CPU (one thread), "
           "%.2f s wall, %.0f requests per CPU-second, %.0f steps per CPU-second; P99 TTFT %.3g s, P99 TPOT %.3g s\n",
           n, o.rate, r.steps, r.mean_batch, cpu, dt, n / cpu, r.steps / cpu, r.ttft_s[2], r.tpot_s[2]);
    sp_serve_result_free(&r);
    return cpu < 10 ? 0 : 1; /* target: 1 M requests in < 10 s on one core (CPU time: wall is noisy on a shared machine) */
}
