/* Benchmark: calls per second of sp_call("train", ...) from C, the baseline for the Python package's calling
 * overhead (bench/python_calls.py runs the same request through `import scaleplan`; docs/performance.md).
 * The request is the README's GPT-3 175B / 1024 A100 plan; each call parses it, loads the model and system
 * presets, evaluates the step and builds the JSON result, as every binding's call does. */
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

int main(void)
{
    const char *req = "{\"model\":\"gpt3-175b\",\"system\":\"dgx-a100-80g\",\"gpus\":1024,\"tp\":8,\"pp\":8,"
                      "\"global_batch\":1536}";
    sp_error e = {0};
    long n = 0;
    double t0 = now(), t;
    do { /* at least 1 s of calls */
        char *out = NULL;
        if (sp_call(SP_DATA_DIR, "train", req, &out, &e)) {
            fprintf(stderr, "bench/call: %s\n", e.msg);
            return 2;
        }
        free(out);
        n++;
    } while ((t = now() - t0) < 1.0);
    printf("sp_call(\"train\") from C: %ld calls in %.2f s = %.0f calls/s (%.1f us per call)\n", n, t, n / t,
           1e6 * t / n);
    return 0;
}
