/* Benchmark: fit the Chinchilla points (245 rows, outliers kept) with 1000 bootstrap resamples.
 * Issue 4 target: under 5 s on 2 cores. Prints wall time; run with `make bench` or build/bench/fit. */
#include "scaleplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : SP_DATA_DIR "/validation/chinchilla_points.csv";
    sp_csv *c;
    sp_error e = {0};
    if (sp_csv_read(path, &c, &e)) {
        fprintf(stderr, "bench/fit: %s\n", e.msg);
        return 2;
    }
    int n = sp_csv_rows(c);
    double *N = malloc(sizeof(double) * n), *D = malloc(sizeof(double) * n), *L = malloc(sizeof(double) * n);
    for (int r = 0; r < n; r++)
        if (sp_csv_double(c, r, "N_params", 0, 0, 1e30, &N[r], &e) || sp_csv_double(c, r, "D_tokens", 0, 0, 1e30, &D[r], &e) ||
            sp_csv_double(c, r, "loss", 0, 0, 100, &L[r], &e)) {
            fprintf(stderr, "bench/fit: %s\n", e.msg);
            return 2;
        }
    sp_csv_free(c);
    sp_fit_opts o = {1e-3, 1000, 1, 0.95, 0, 0, 0, 0, 0, NULL};
    sp_fit_result res;
    double t0 = now();
    if (sp_fit_law(N, D, L, NULL, n, &o, &res, &e)) {
        fprintf(stderr, "bench/fit: %s\n", e.msg);
        return 2;
    }
    double t = now() - t0;
    printf("fit: %d points, %d bootstrap resamples: %.2f s wall (alpha %.4f [%.4f, %.4f])\n", n, res.n_boot, t, res.alpha,
           res.ci[3][0], res.ci[3][1]);
    free(N), free(D), free(L);
    return 0;
}
