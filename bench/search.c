/* Benchmark: exhaustive plan search (issue 3). Prints plans evaluated per second per core for three cases:
 * GPT-3 175B on 1024 A100-80GB (global batch 1536), Llama-3-70B on 512 H100 (1024 x 8192), Megatron 1T on 3072
 * A100 (batch 3072), with 1 and 2 threads. Each search (and the same search without pruning, where every plan that
 * fits in memory is timed) is repeated for 1 s; the best repetition is reported, since on a shared machine the
 * slower ones measure the neighbours. "Evaluated" = memory checked and step time computed; plans rejected by
 * memory or pruned by the bound are counted apart. */
#include "scaleplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static sp_search_entry top_r[SP_SEARCH_MAX_TOP]; /* caller-owned top-k buffer of sp_search */
static sp_search_entry top_r2[SP_SEARCH_MAX_TOP]; /* caller-owned top-k buffer of sp_search */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(void)
{
    struct {
        const char *model, *system;
        int gpus, batch, seq;
        sp_dtype dt;
    } cases[] = {{"gpt3-175b-megatron", "dgx-a100-80g", 1024, 1536, 2048, SP_FP16},
                 {"llama3-70b", "dgx-h100", 512, 1024, 8192, SP_BF16},
                 {"megatron-1t", "dgx-a100-80g", 3072, 3072, 2048, SP_FP16}};
    sp_search_result *r = malloc(sizeof *r);
    for (int threads = 1; threads <= 2; threads++)
        for (int i = 0; i < 3; i++) {
            sp_model m;
            sp_system s;
            sp_error e = {0};
            if (sp_load_model(SP_DATA_DIR, cases[i].model, &m, &e) || sp_load_system(SP_DATA_DIR, cases[i].system, &s, &e)) {
                fprintf(stderr, "bench/search: %s\n", e.msg);
                return 2;
            }
            sp_search_opts o;
            sp_search_defaults(&o);
            o.plan.n_gpus = cases[i].gpus;
            o.plan.global_batch = cases[i].batch;
            o.plan.seq_len = cases[i].seq;
            o.plan.dtype = cases[i].dt;
            o.threads = threads;
            double best = 1e30, t_end = now() + 1.0;
            int reps = 0;
            do {
                double t0 = now();
                if (sp_search(&m, &s, &o, top_r, r, &e)) {
                    fprintf(stderr, "bench/search: %s\n", e.msg);
                    return 2;
                }
                double t = now() - t0;
                if (t < best)
                    best = t;
                reps++;
            } while (now() < t_end);
            o.no_prune = 1;
            sp_search_result *r2 = malloc(sizeof *r2);
            double tn = 1e30;
            t_end = now() + 1.0;
            do {
                double t0 = now();
                sp_search(&m, &s, &o, top_r2, r2, &e);
                double t = now() - t0;
                if (t < tn)
                    tn = t;
            } while (now() < t_end);
            printf("%-20s %5d GPUs, %d thread%s: %8lld enumerated, %7lld evaluated, %7lld pruned, %7lld memory-infeasible; "
                   "%.2f ms wall; %.3g evaluated plans/s/core (no pruning: %lld in %.2f ms, %.3g plans/s/core, %.3g plans incl. memory checks/s/core)\n",
                   cases[i].model, cases[i].gpus, threads, threads > 1 ? "s" : "", r->enumerated, r->evaluated, r->pruned,
                   r->infeasible_memory, 1e3 * best, r->evaluated / best / threads, r2->evaluated, 1e3 * tn,
                   r2->evaluated / tn / threads, (r2->evaluated + r2->infeasible_memory) / tn / threads);
            free(r2);
        }
    free(r);
    return 0;
}
