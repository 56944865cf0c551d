/* The cost memo of one search (ops.c fills and reads it; the search keeps one per thread): GEMM and collective
 * times (layer shapes that differ only in sequence parallelism, or in micro-batch and CP with the same tokens per
 * GPU, run the same GEMMs and collectives) and the step's FLOP counts, which depend only on the model, the sequence
 * length, the batch and the fine-tuning mode. Direct-mapped; zero-filled means empty; never allocates. */
#ifndef SP_MEMO_H
#define SP_MEMO_H

#define SP_GEMM_MEMO 2048
typedef struct {
    double a, b, c, d;    /* GEMM: m, n, k, batch; collective: ranks, stride, bytes, cross-node share */
    double t, t2;         /* time; forward + backward pair: forward, backward */
    int tag;              /* GEMM: dtype; collective: 100 + kind; pair: 200 + 2 dtype + weight gradient */
} sp_gemm_memo_entry;
typedef struct {
    sp_gemm_memo_entry e[SP_GEMM_MEMO];
    int have_flops;
    double model_flops, extra_full, extra_selective;
} sp_gemm_memo;

#endif
