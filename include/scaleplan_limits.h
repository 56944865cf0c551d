/* scaleplan_limits.h: compute-scale limits of frontier training, part of libscaleplan's public API.
 *
 * Two models answer "how large a training run can finish in a given time, and what stops it":
 *  - the Erdil & Schneider-Joseph (2024) model ("Data movement limits to frontier model training",
 *    arXiv:2411.01137), reproduced with its own GPU description, sweep rules and plan search (sp_epoch_*);
 *  - `limits --mode full`: the same sweep asked of scaleplan's own training model and plan search on a system
 *    (sp_limits_full_*).
 * Both fill caller-owned arrays of points and a summary (the linear-regime end, the latency wall, why the sweep
 * ended). Conventions are scaleplan.h's.
 */
#ifndef SCALEPLAN_LIMITS_H
#define SCALEPLAN_LIMITS_H

#include "scaleplan.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
** The Erdil & Schneider-Joseph (2024) model
*/
#define SP_EPOCH_MAX_LEVELS 4
typedef struct {
    char name[48];
    int n_sm;
    double flop_per_clock_per_thread;  /* 16-bit */
    double register_bytes;             /* per processing block */
    double l2_bps, l2_bytes, global_bps;
    double max_clock_hz, effective_utilization;
    int dsmem;                          /* Hopper distributed shared memory */
    double memory_bytes;
    double latency_per_matmul_s;
    int n_levels;                       /* network levels = level sizes + 1 */
    double bw[SP_EPOCH_MAX_LEVELS];     /* bidirectional bytes/s per GPU */
    double lat[SP_EPOCH_MAX_LEVELS];
    int level_size[SP_EPOCH_MAX_LEVELS - 1];
} sp_epoch_gpu;

/* Critical-batch rules, all times sqrt(S) for MoE and rounded to S·{1,3,5,7,9}·2^i sequences as the paper does:
 * DEFAULT 4 Mi tokens·(C/3e23)^(1/6) (the paper's); FIXED a constant; DEEPSEEK 0.292·C^0.3271 (Bi et al. 2024);
 * KAPLAN Bstar·(C/C_c)^(alpha_C/alpha_B), Bstar = 2e8 tokens, C_c = 3.1e8 PF-days, alpha_C = 0.05, alpha_B = 0.21
 * (Kaplan et al. 2020 Eq. 1.3-1.4: B_crit(L) = Bstar / L^(1/alpha_B) with L(C_min) = (C_c/C_min)^alpha_C). */
typedef enum { SP_EPOCH_BATCH_DEFAULT, SP_EPOCH_BATCH_FIXED, SP_EPOCH_BATCH_DEEPSEEK, SP_EPOCH_BATCH_KAPLAN } sp_epoch_batch;

typedef struct {
    sp_epoch_gpu gpu;
    int sparse;                 /* MoE: sparsity factor grows with width */
    sp_epoch_batch batch;
    double fixed_batch_tokens;  /* SP_EPOCH_BATCH_FIXED [4 Mi] */
    double years;               /* training duration [0.25] */
    int seq_len;                /* [2048] */
    double d_model_min, d_model_max; /* sweep [12288, 12288*128] */
    double layer_scale;         /* layers x this ("shorter and fatter": < 1) [1] */
    double c_min, c_max;        /* report only compute in [c_min, c_max]; 0 = the paper's sweep */
} sp_epoch_setting;

/* Where one batch's time goes (seconds per batch; the fields add up to batch_s):
 *   compute      the model FLOP at the max-clock peak (what utilization counts)
 *   derate       the clock/throughput derate (0.7 on the H100: why U never exceeds it)
 *   data_move    per-GPU HBM / L2 / shared-memory traffic and tensor-core padding beyond the FLOP time
 *   kernel_lat   4.5 us per matmul, 6 matmuls per layer per microbatch
 *   net_bw       TP + PP/EP bandwidth not hidden behind the matmuls (they overlap)
 *   bubble       pipeline fill and drain
 *   net_lat      TP + PP/EP network latency (never charged with zero-bubble pipelines: reproduced quirk)
 *   dp_bw, dp_lat the data-parallel all-reduce (not overlapped) */
typedef struct {
    double batch_s, compute, derate, data_move, kernel_lat, net_bw, bubble, net_lat, dp_bw, dp_lat;
} sp_epoch_split;

typedef struct {
    double d_model, d_ff, params, batch_tokens, compute_flop, months, utilization, n_gpus;
    int layers, sparsity, tp_model, tp_ff, pp, interleave, dp, ep, microbatches, zero_bubble;
    double tp_comm_s, dp_comm_s, pp_comm_s, latency_s; /* whole run, as the reference reports them */
    sp_epoch_split split;
    const char *binding;        /* static string: the largest loss in `split` (see sp_epoch_binding) */
    double gpu_hours;           /* n_gpus x run time (for energy and cost) */
} sp_epoch_point;

/* Name of the largest loss of a split beyond the clock derate (which only sets the ceiling): "per-GPU data
 * movement", "kernel latency", "TP/PP bandwidth", "pipeline bubble", "network latency", "DP all-reduce", or
 * "none". */
const char *sp_epoch_binding(const sp_epoch_split *s);

/* Why a sweep ended: the requested/paper's range ended first, the next width had no plan finishing in time (the
 * wall), utilization fell below 0.001 (the reference's stop), or the next width would need clusters of more than
 * ~1.4e17 GPUs, which are not represented (not a wall). */
typedef enum { SP_EPOCH_STOP_RANGE, SP_EPOCH_STOP_WALL, SP_EPOCH_STOP_UTIL, SP_EPOCH_STOP_CLUSTER_CAP } sp_epoch_stop;

typedef struct {
    int n_points;
    double max_utilization;           /* the GPU's ceiling (effective utilization) */
    double linear_regime_end_flop;    /* first C with U <= 0.8 x max (0 if none) */
    double latency_wall_flop;         /* largest C with a feasible plan, the paper's "latency wall"; 0 when the
                                         sweep ended before it (stop RANGE or CLUSTER_CAP) */
    double first_infeasible_flop;     /* next sweep point, with no feasible plan (0 if none) */
    double largest_feasible_flop;     /* largest C swept with a feasible plan */
    sp_epoch_stop stop;
    double t_limit_flop, t_crit_flop; /* closed forms at alpha = 0 (reference §4) at the setting's duration;
                                         latency 4.5 us kernel + 4 x network (9 us on the paper's GPUs) */
    double beyond_range_flop;         /* stop RANGE by c_max: the first sweep point above it (0 otherwise) */
} sp_epoch_summary;

/* GPUs and variants of the paper: h100, a100, v100, h100-low-latency, h100-global-nvlink, h100-global-nvlink-ll,
 * h100-infinite-ll, h100-superpod. */
sp_status sp_epoch_gpu_preset(const char *name, sp_epoch_gpu *g, sp_error *err);
/* A built-in name (above), a preset data_dir/epoch_gpus/NAME.json, or a path to such a file: an object with
 * optional "base" (a built-in to start from) and any of "name", "n_sm", "flop_per_clock_per_thread",
 * "register_bytes", "l2_bps", "l2_bytes", "hbm_bps", "max_clock_hz", "effective_utilization", "dsmem",
 * "memory_bytes", "latency_per_matmul_s", "network": [{"size": 8, "bw": 9e11, "latency_s": 1.125e-6}, ...,
 * {"bw": 1e11, "latency_s": 1.125e-6}] (innermost first, per-GPU bidirectional bytes/s; the last level has no
 * size); numbers or strings with units. Errors name the file and the field. */
sp_status sp_epoch_gpu_load(const char *data_dir, const char *name_or_path, sp_epoch_gpu *g, sp_error *err);
void sp_epoch_setting_defaults(sp_epoch_setting *s);
/* Single-GPU matmul time of the tiled I/O model (reference §3.4). */
double sp_epoch_matmul_time(const sp_epoch_gpu *g, double d1, double d2, double b, int for_weight_grads);
/* Sweeps d_model and returns up to max points (the smallest power-of-two cluster finishing within the duration,
 * and its best plan), plus the summary. Allocation-free: out is the caller's. */
int sp_epoch_sweep(const sp_epoch_setting *s, sp_epoch_point *out, int max, sp_epoch_summary *sum);
/* Closed-form latency limit and critical compute (reference §4), alpha = batch exponent - depth exponent. */
double sp_epoch_t_limit(double alpha, double duration_s, double t_lat_s);
double sp_epoch_t_crit(const sp_epoch_gpu *g, double alpha, double duration_s);

/*
** limits --mode full: the same question asked with scaleplan's training model and plan search
*/
/* For each width of the paper's sweep, a transformer with attention (d_head 128, kv_heads GQA groups, GELU MLP
 * d_ff = 4 d, the paper's depth rule, a vocabulary), D = 20 N tokens, the setting's critical batch, and the
 * smallest cluster of S·2^i GPUs (S: experts, 1 when dense; as the paper's) of `sys` whose best plan (sp_search: TP, PP, CP, EP, DP, interleaving,
 * micro-batch, recompute, SP, ZeRO) finishes within the duration. MoE runs (setting.sparse): S experts of width
 * 4 d, top-1 routing, every layer MoE, as the paper's MoE. */
typedef struct {
    int kv_heads;             /* GQA key/value heads [8]; 0 = as many as query heads (MHA) */
    int head_dim;             /* [128] */
    int vocab;                /* [131072] */
    sp_dtype dtype;           /* [bf16] */
    int threads;              /* search threads, 0 = all */
    int max_vpp;              /* interleaving factors tried [4] */
    int log2_max_gpus;        /* no cluster above 2^this GPUs [30] */
    double grad_bytes;        /* bytes per gradient held in memory: 0 = the model's default (4, fp32 main grads) */
    /* The paper's idealisations, one at a time (docs/limits.md "From paper to practice"): */
    int paper_latency;        /* 1: every network tier 1.125 us per hop and a 4.5 us kernel tail (the paper's) */
    int no_attention;         /* 1: attention reduced to heads of width 1 (its FLOPs, weights and K/V traffic
                                 vanish; the head count, hence the TP degrees allowed, is kept) */
    int zero_bubble;          /* 1: zero-bubble pipeline schedules (the paper's ZB-H2: no bubble) */
    /* The training stack every plan runs (limits --software; docs/limits.md "Software stack"): the features it lacks
     * are off, its model-state bytes, attention kernel, CUDA graphs and MoE dispatcher are the plans' (as search
     * --software: sp_software_apply_search); its kernels are the caller's to apply to sys (sp_software_apply_system).
     * NULL: none, the plan search's own defaults (as before the option). */
    const sp_software *software;
} sp_limits_full_opts;

typedef struct {
    double d_model, d_ff, params, active_params, tokens, batch_tokens, compute_flop;
    int layers, heads, kv_heads, experts;
    double n_gpus, months, utilization; /* utilization = MFU of the chosen plan */
    double gpu_hours, step_time_s, steps;
    sp_plan plan;                       /* the best plan at the smallest cluster that finishes in time */
    sp_train_result res;                /* its step: time breakdown (res.t), memory, MFU */
    double latency_s;                   /* per step: what the plan loses to kernel launches and network latency
                                           (its step time minus the same plan's with zero latencies) */
    const char *binding;                /* static: res.bottleneck, or "latency (kernel launches + network hops)"
                                           when that share is the largest loss */
    long long plans_evaluated;          /* over every cluster size tried for this point */
} sp_limits_full_point;

void sp_limits_full_defaults(sp_limits_full_opts *o);
/* Sweeps like sp_epoch_sweep (the setting's gpu field is not used: the hardware is `sys`); the summary's
 * max_utilization is the largest MFU reached, t_limit_flop is the paper's closed form with this system's latency
 * (kernel tail + 4 scale-up hops) and t_crit_flop is 0 (it needs the paper's GPU model).
 * Returns the number of points, or -1 with err set (bad setting, search failure). */
int sp_limits_full_sweep(const sp_epoch_setting *st, const sp_system *sys, const sp_limits_full_opts *o,
                         sp_limits_full_point *out, int max, sp_epoch_summary *sum, sp_error *err);

#ifdef __cplusplus
}
#endif
#endif
