/* Benchmark: co-design sweep points per second per core (issue 23). examples/sweep-bench-1000.json: 1,000
 * Latin-hypercube points of hardware around a DGX H100 (bf16 peak, HBM capacity and bandwidth, NVLink domain size
 * and bandwidth, NIC bandwidth and latency, 256..8192 GPUs) for Llama-3-70B on 15T tokens; each point builds its
 * system, runs the full plan search (one thread) and computes time, energy and cost. The sweep is run twice on
 * one thread; the faster run is reported (on a shared machine the slower one measures the neighbours), by wall
 * time and by the process's CPU time (what a core does when it is not shared: the number to compare on a loaded
 * machine). The speed-up
 * from 1 to 2 MPI ranks is measured with mpirun on the same spec (docs/performance.md). */
#include "scaleplan_sweep.h"

#include <stdio.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static long long ok_points;
static void count(void *ctx, const sp_sweep_point *p)
{
    (void)ctx;
    ok_points += p->status == SP_PT_OK;
}

int main(void)
{
    sp_sweep *sw = NULL;
    sp_error e = {0};
    if (sp_sweep_load(SP_DATA_DIR, "examples/sweep-bench-1000.json", &sw, &e)) {
        fprintf(stderr, "bench/sweep: %s (run from the repository root)\n", e.msg);
        return 2;
    }
    sp_sweep_run_opts o;
    sp_sweep_run_defaults(&o);
    o.emit = count;
    double best = 1e30, best_cpu = 1e30;
    for (int rep = 0; rep < 2; rep++) {
        ok_points = 0;
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        if (sp_sweep_run(sw, &o, &e)) {
            fprintf(stderr, "bench/sweep: %s\n", e.msg);
            sp_sweep_free(sw);
            return 2;
        }
        double dt = clock_s(CLOCK_MONOTONIC) - t0, dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        best = dt < best ? dt : best;
        best_cpu = dc < best_cpu ? dc : best_cpu;
    }
    long long n = sp_sweep_count(sw);
    printf("sweep %s: %lld points (%lld with a plan), 1 thread: %.2f s wall (%.0f points/s), %.2f s CPU: %.0f points per "
           "CPU-second\n", sp_sweep_name(sw), n, ok_points, best, (double)n / best, best_cpu, (double)n / best_cpu);
    sp_sweep_free(sw);
    return 0;
}
