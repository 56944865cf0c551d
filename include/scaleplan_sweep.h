/* scaleplan co-design sweeps (src/sweep*.c, docs/sweep.md): a sweep specification, its points (one plan search
 * each), their rows and result object, and the single-process and MPI runners. */
#ifndef SCALEPLAN_SWEEP_H
#define SCALEPLAN_SWEEP_H

#include "scaleplan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A sweep specification (docs/sweep.md): axes over accelerator/system/model fields, presets, GPU counts and the
 * workload, a design (grid, random, Latin hypercube; seeded) and constraints. Every point is a full plan search
 * (sp_search) whose fastest plan is kept: at a fixed point (fixed GPUs and hardware) cost, energy and tokens/s/$
 * are all monotone in the step time, so the fastest plan is the best plan by every objective (sweep_eval.c). */
#define SP_SWEEP_MAX_AXES 16
#define SP_SWEEP_MAX_POINTS 100000000LL

/* TOKENS: the most training tokens in base.duration (negated); USD_PER_MTOK: serving cost per million output
 * tokens. A serving sweep ranks by cost (= $/M tokens), energy (J/token), tokens_per_s_per_usd or usd_per_mtok. */
typedef enum {
    SP_SWEEP_OBJ_TIME, SP_SWEEP_OBJ_COST, SP_SWEEP_OBJ_ENERGY, SP_SWEEP_OBJ_TOKENS_PER_S_PER_USD, SP_SWEEP_OBJ_TOKENS,
    SP_SWEEP_OBJ_USD_PER_MTOK
} sp_sweep_obj;
/* Outcome of one point: a plan; rejected by a constraint before (power, price) or after (cost, time) the search;
 * no plan fits in memory; no plan factors the GPU count and batch; the overrides make an invalid preset. */
typedef enum { SP_PT_OK, SP_PT_CONSTRAINT, SP_PT_NOFIT, SP_PT_NOPLAN, SP_PT_INVALID } sp_sweep_status;
const char *sp_sweep_status_name(int status);

typedef struct sp_sweep sp_sweep; /* a validated specification (opaque) */

/* One point's best plan and its metrics. Plain data (no pointers): MPI ranks send it as bytes. */
typedef struct {
    long long index;
    int status;
    int gpus, global_batch, seq_len;
    int tp, pp, dp, cp, ep, vpp, micro_batch, recompute, seq_parallel, zero;
    int etp, ep_fold;   /* expert TP (TP when the plan does not set it), EP folded into TP x CP x DP */
    char schedule[16];  /* pipeline schedule (sp_schedule_name: 1f1b, interleaved, zb-h1, zb-v, dualpipe) */
    char dtype[8];
    double step_time_s, mfu, tokens_per_s, memory_bytes;
    double tokens, time_s;           /* training tokens of the workload and their wall time (one step without) */
    double energy_j, cost_usd, cloud_usd; /* facility energy, cost on the spec's basis (own or cloud), cloud rent */
    double tokens_per_s_per_usd;     /* tokens/s per USD of cluster capital cost (accelerator price x server factor) */
    double rack_power_w, accel_price_usd;
    double objective;                /* the spec's objective, lower is better (tokens/s/$ negated) */
    sp_time_breakdown t;             /* of one step */
    char bottleneck[48];
    char note[160];                  /* why a point is not OK */
    /* serving sweeps (a point is the cheapest deployment meeting the SLOs at the target rate): */
    int replicas, prefill_gpus;
    char kv_dtype[8];
    double rate, replica_rate;       /* target requests/s; one replica's highest rate meeting the SLOs */
    double ttft_p99_s, tpot_p99_s;
    double usd_per_mtok, energy_j_per_token;
} sp_sweep_point;
/* 1 when the spec is a serving sweep (its rows have the serving columns). */
int sp_sweep_is_serve(const sp_sweep *sw);

sp_status sp_sweep_load(const char *data_dir, const char *path, sp_sweep **out, sp_error *err);
/* The same from text (len bytes); `name` stands for the file in messages (file:line:col). */
sp_status sp_sweep_parse(const char *data_dir, const char *name, const char *text, size_t len, sp_sweep **out,
                         sp_error *err);
void sp_sweep_free(sp_sweep *sw);
long long sp_sweep_count(const sp_sweep *sw);
int sp_sweep_naxes(const sp_sweep *sw);
const char *sp_sweep_axis_name(const sp_sweep *sw, int axis);
const char *sp_sweep_name(const sp_sweep *sw);
sp_sweep_obj sp_sweep_objective(const sp_sweep *sw);
/* A 64-bit hash of the canonical specification (what --resume checks the output file against). */
unsigned long long sp_sweep_hash(const sp_sweep *sw);
/* Value of an axis at point i: its text (numbers %.17g) and number (NaN when the axis is categorical). */
void sp_sweep_axis_value(const sp_sweep *sw, long long i, int axis, char *text, size_t n, double *num);

/* Evaluates point i (a full plan search). Per-point failures (constraints, nothing fits) are a status in p, not an
 * error; an error is returned only for an internal failure (out of memory). Thread-compatible: one workspace per
 * thread. */
typedef struct sp_sweep_ws sp_sweep_ws;
sp_sweep_ws *sp_sweep_ws_new(void);
void sp_sweep_ws_free(sp_sweep_ws *ws);
sp_status sp_sweep_eval(const sp_sweep *sw, sp_sweep_ws *ws, long long i, sp_sweep_point *p, sp_error *err);

/* Output rows (CSV): header and one row per point; a row parses back to the same point (numbers %.17g). */
void sp_sweep_csv_header(const sp_sweep *sw, char *buf, size_t n);
void sp_sweep_csv_row(const sp_sweep *sw, const sp_sweep_point *p, char *buf, size_t n);
sp_status sp_sweep_csv_parse(const sp_sweep *sw, const char *line, sp_sweep_point *p, sp_error *err);

/* Runs points [start, count) on this process, calling emit for each in point order. */
typedef struct {
    long long start;                 /* first point to evaluate (--resume) */
    void (*emit)(void *ctx, const sp_sweep_point *p);
    void *ctx;
    void (*on_progress)(void *ctx, long long done, long long total, double elapsed_s);
    void *progress_ctx;
    double progress_after_s;         /* [1] */
} sp_sweep_run_opts;
void sp_sweep_run_defaults(sp_sweep_run_opts *o);
sp_status sp_sweep_run(const sp_sweep *sw, const sp_sweep_run_opts *o, sp_error *err);

/* MPI (sweep_mpi.c; built when the build finds mpicc, docs/sweep.md): the same run split over the ranks of
 * MPI_COMM_WORLD, points handed out dynamically by rank 0, which also computes and calls emit in point order.
 * Without MPI support sp_sweep_mpi_available() is 0 and init reports one rank. */
int sp_sweep_mpi_available(void);
sp_status sp_sweep_mpi_init(int *argc, char ***argv, int *rank, int *size, sp_error *err);
void sp_sweep_mpi_finalize(void);
/* Broadcasts rank 0's start point to every rank (resume), then runs. emit is called on rank 0 only. */
sp_status sp_sweep_run_mpi(const sp_sweep *sw, const sp_sweep_run_opts *o, sp_error *err);

/* The result object: every point, the Pareto front over (time, cost, energy), the best point by the objective and
 * the one-at-a-time effect of each axis around the base design (sensitivities, ranked by swing). pts[i] must be
 * point i. Returns a new json_t * (as void *, so that the header does not need jansson; json_decref it). */
void *sp_sweep_result_json(const sp_sweep *sw, const sp_sweep_point *pts, long long n, sp_error *err);
/* Indices of the Pareto-optimal OK points (time, cost, energy all lower is better), ascending by time; returns
 * their number (out has room for n). */
long long sp_sweep_pareto(const sp_sweep_point *pts, long long n, long long *out);
/* One-at-a-time effects: for axis a, the base design with that axis at each of its levels (up to
 * SP_SWEEP_EFFECT_LEVELS). x: the level's number (its index when categorical), obj: objective (NaN when no plan). */
#define SP_SWEEP_EFFECT_LEVELS 16
typedef struct {
    int axis, n;
    double x[SP_SWEEP_EFFECT_LEVELS], obj[SP_SWEEP_EFFECT_LEVELS];
    char label[SP_SWEEP_EFFECT_LEVELS][32];
    double base_obj;                 /* objective of the base design (no overrides) */
    double swing;                    /* (max - min) / |base| over the levels with a plan */
    double elasticity;               /* d ln(obj) / d ln(x) between the extreme levels (NaN when categorical) */
} sp_sweep_effect;
sp_status sp_sweep_effects(const sp_sweep *sw, sp_sweep_effect *out, sp_error *err);

#ifdef __cplusplus
}
#endif
#endif
