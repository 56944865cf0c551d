/* Benchmark: every setting of reference §5.1 swept end to end (16 sweeps) in one process, OpenMP across
 * settings. Issue 5 target: < 1 s on 2 cores (the authors' Python: ~5 minutes for its 19 sweeps). */
#include "scaleplan.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(void)
{
    struct {
        const char *gpu;
        int sparse;
        sp_epoch_batch b;
    } set[] = {{"h100", 0, 0}, {"a100", 0, 0}, {"v100", 0, 0}, {"h100", 1, 0}, {"a100", 1, 0}, {"v100", 1, 0},
               {"h100-low-latency", 0, 0}, {"h100-global-nvlink", 0, 0}, {"h100-global-nvlink-ll", 0, 0},
               {"h100-infinite-ll", 0, 0}, {"h100-low-latency", 1, 0}, {"h100-global-nvlink", 1, 0},
               {"h100-global-nvlink-ll", 1, 0}, {"h100-infinite-ll", 1, 0}, {"h100", 0, SP_EPOCH_BATCH_FIXED},
               {"h100", 0, SP_EPOCH_BATCH_DEEPSEEK}};
    int n = (int)(sizeof set / sizeof set[0]);
    sp_epoch_point(*pts)[200] = malloc(sizeof(*pts) * (size_t)n);
    int total = 0;
    for (int threads = 1; threads <= 2; threads++) {
        double t0 = now();
        total = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(+ : total)
        for (int i = 0; i < n; i++) {
            sp_epoch_setting s;
            sp_epoch_setting_defaults(&s);
            sp_epoch_gpu_preset(set[i].gpu, &s.gpu, NULL);
            s.sparse = set[i].sparse;
            s.batch = set[i].b;
            sp_epoch_summary sum;
            total += sp_epoch_sweep(&s, pts[i], 200, &sum);
        }
        double t = now() - t0;
        printf("limits epoch2024: %d settings, %d points, %d thread%s: %.3f s wall (authors' Python ~300 s: %.0fx)\n", n,
               total, threads, threads > 1 ? "s" : "", t, 300 / t);
    }
    free(pts);
    return 0;
}
