/* Internals shared by the sweep files (sweep.c: specification; sweep_eval.c: designs and points; sweep_out.c:
 * rows, JSON, Pareto front, effects; sweep_run.c / sweep_mpi.c: runners). Not part of the public API. */
#ifndef SP_SWEEP_INTERNAL_H
#define SP_SWEEP_INTERNAL_H

#include "scaleplan_sweep.h"

#include <jansson.h>

/* What an axis changes. FIELD_MODEL / FIELD_SYSTEM patch a key path inside the model or system JSON (the
 * accelerator is inlined into the system as an object, so accelerator.X is the system path accelerator.X). */
typedef enum {
    SW_MODEL_PRESET, SW_SYSTEM_PRESET, SW_ACCEL_PRESET, SW_GPUS, SW_BATCH, SW_SEQ, SW_TOKENS, SW_DTYPE,
    SW_SOFTWARE, SW_WORKLOAD, SW_DURATION, SW_RATE, SW_FIELD_MODEL, SW_FIELD_SYSTEM
} sw_kind;

typedef struct {
    char field[96];     /* as written in the spec */
    char path[128];     /* key path inside the model or system JSON (dotted, array indices as numbers) */
    sw_kind kind;
    int idx;            /* position in the spec's "axes" array (for messages) */
    json_t *values;     /* levels of a discrete axis (a "values" list, or a range expanded for a grid) */
    int n;              /* number of levels (0: continuous range for random / Latin-hypercube designs) */
    double lo, hi;      /* continuous range */
    int log, integer;   /* log-uniform; rounded to whole numbers */
    int range;          /* given as "min" and "max" (levels expanded from them for a grid) */
    int categorical;    /* some level is not a number */
    double *num;        /* number of each level (NaN when categorical) */
    json_t **preset;    /* *_PRESET axes: the preset JSON of each level */
    sp_software *soft;  /* SOFTWARE axis of a training sweep: each level's stack (data/software) */
    sp_serve_stack *stack; /* SOFTWARE axis of a serving sweep: each level's serving stack (data/serving) */
    sp_serve_workload *wl; /* WORKLOAD axis: each level's serving workload at the spec's scenario */
} sw_axis;

typedef enum { SW_GRID, SW_RANDOM, SW_LHS } sw_design;

struct sp_sweep {
    char name[64];
    char file[512];
    char data_dir[1024];
    json_t *model, *system;           /* base presets as JSON (system with its accelerator inlined) */
    int gpus, global_batch, seq_len;  /* seq_len 0: the point's model's max_position_embeddings */
    sp_dtype dtype;
    double tokens, flop;              /* workload: training tokens, or a training FLOP budget (0: one step) */
    double duration_s;                /* or a training duration: the tokens the plan reaches in it */
    int has_software;                 /* base.software given */
    sp_software software;             /* training: the base stack (search limits, kernels, state bytes) */
    int serve;                        /* a serving sweep (base.workload): a point is serve --search at the SLOs */
    sp_serve_workload workload;       /* serving: base workload at base.scenario */
    sp_serve_stack stack;             /* serving: base stack [vllm] */
    char scenario[16];
    double rate;                      /* serving: target requests/s of the deployment */
    sw_design design;
    long long n;                      /* points */
    unsigned long long seed, hash;
    int *lhs;                         /* Latin hypercube: stratum of point i on axis a at [a * n + i] */
    sp_sweep_obj obj;
    int cost_cloud;                   /* cost basis: 1 cloud rent, 0 ownership (capital + energy) */
    double max_rack_power_w, max_accel_price_usd, max_cost_usd, max_time_s;
    int rack_accels;                  /* 0: the scale-up domain (tier 0), capped by the GPUs */
    int max_vpp;
    unsigned schedules;               /* pipeline schedules every point's search tries (sp_search_opts.schedules) */
    double max_mem_frac;
    int naxes;
    sw_axis ax[SP_SWEEP_MAX_AXES];
};

/* Evaluates the base design with the given axis values (vals[a] NULL: base), without constraints on the result's
 * index (p->index = -1). */
sp_status sw_eval_values(const sp_sweep *sw, sp_sweep_ws *ws, json_t *const *vals, sp_sweep_point *p,
                         sp_error *err);
/* Builds the model and system of a set of axis values; a failure is a message in err (status SP_EINVAL). */
sp_status sw_build(const sp_sweep *sw, json_t *const *vals, sp_model *m, sp_system *s, sp_error *err);
/* New reference to the value of axis a at point i. */
json_t *sw_axis_value(const sp_sweep *sw, int a, long long i);
/* Sets path (dotted) inside root to v (stolen reference); creates missing objects on the way. */
int sw_set_path(json_t *root, const char *path, json_t *v);
/* splitmix64 finaliser (Steele et al. 2014): the seeded generator of the random and Latin-hypercube designs. */
unsigned long long sw_mix(unsigned long long x);
/* Text of a value (strings as they are, numbers %lld / %.17g, booleans) and its number (NaN if none). */
void sw_value_text(json_t *v, char *text, size_t n, double *num);
/* A quantity string as a number (plain, bandwidth, bytes, time, FLOP/s units, in that order); 0 when none. */
int sw_number(const char *text, double *out);

/* Serving point (sweep_serve.c): the cheapest deployment on the point's system that meets the workload's SLOs at
 * the target rate within the point's GPUs (sp_serve_search), its metrics and objective. */
void sw_serve_point(const sp_sweep *sw, json_t *const *vals, const sp_model *m, const sp_system *s,
                    sp_sweep_point *p);
/* tokens/s per USD of cluster capital: gpus x accelerator price x server factor x (1 + network share)
 * (docs/energy.md); NaN without a price. */
double sw_per_capital(const sp_system *s, int gpus, double tokens_per_s);
/* Index of level v on a discrete axis (0 when absent). */
int sw_level(const sw_axis *x, json_t *v);
/* Fills p's status and note (one CSV field: no commas, quotes or controls). */
void sw_note(sp_sweep_point *p, int status, const char *msg);

/* Monotonic seconds; progress reporting shared by the runners (sweep_run.c). */
double sw_now(void);
void sw_progress(const sp_sweep_run_opts *o, long long done, long long total, double t0, double *last);

#endif
