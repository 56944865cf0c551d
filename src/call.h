/* The command layer between the public entry point sp_call (call.c) and the cost model: requests, results as
 * JSON, and one typed result per command that both the JSON and the CLI's text report are built from.
 *
 * A command is a pair of library functions:
 *   sp_status sp_X_run(const char *data_dir, sp_request *rq, sp_X_report *r, sp_error *err);  request -> result
 *   json_t *sp_X_json(const sp_X_report *r);                                                 result -> JSON
 * plus one line in SP_CALL_COMMANDS below, which registers `sp_call_X` (request -> JSON) in sp_call's table.
 * The CLI parses argv into the same request (keys = long option names with '-' -> '_'), calls sp_X_run, and
 * prints sp_X_json for --json or a text report from the same sp_X_report.
 *
 * Requests: a JSON object; values are numbers, strings (units accepted: "15T", "80GiB") or booleans for flags.
 * Errors name the option the way the CLI spells it ("--tp: 3 is out of range; allowed 1..1048576"). A key that
 * no getter of the command consults is refused by name (sp_request_check_unused).
 */
#ifndef SP_CALL_H
#define SP_CALL_H

#include <jansson.h>
#include <stdlib.h>

#include "internal.h"
#include "scaleplan_forecast.h"
#include "scaleplan_limits.h"

/* ---- requests ---- */
#define SP_REQUEST_MAX_KEYS 128
typedef struct {
    const char *cmd;              /* command name, for messages */
    json_t *obj;                  /* the request object (borrowed) */
    const char *seen[SP_REQUEST_MAX_KEYS]; /* keys a getter consulted (option names, '-' spelling) */
    int nseen;
} sp_request;

void sp_request_init(sp_request *rq, const char *cmd, json_t *obj);
/* Whether the option (CLI spelling, e.g. "global-batch") is present. Marks it consulted. */
int sp_req_has(sp_request *rq, const char *opt);
/* infer/serve: the refusal of --speculative (speculative decoding, not modelled: docs/inference.md), by name;
 * SP_OK when the request does not ask for it. */
sp_status sp_infer_refuse_speculative(sp_request *rq, sp_error *err);
/* A string option; *out untouched when absent. Numbers are refused (a name or path is expected). */
sp_status sp_req_str(sp_request *rq, const char *opt, const char **out, sp_error *err);
/* A flag: true/false (the CLI sends true). */
sp_status sp_req_flag(sp_request *rq, const char *opt, int *out, sp_error *err);
/* A whole number in [min, max] (number or string with units); *out untouched when absent. */
sp_status sp_req_int(sp_request *rq, const char *opt, int min, int max, int *out, sp_error *err);
/* A quantity of the given unit in [min, max]; *out untouched when absent. */
sp_status sp_req_double(sp_request *rq, const char *opt, sp_unit unit, double min, double max, double *out,
                        sp_error *err);
/* The first key of the request no getter consulted, or NULL. */
const char *sp_request_unused(const sp_request *rq);
/* Refuses the first key no getter consulted: "unknown option '--x' for train". */
sp_status sp_request_check_unused(const sp_request *rq, sp_error *err);

/* The plan knobs every planning command takes (--gpus --tp --pp --dp --cp --ep --vpp --micro-batch
 * --global-batch --seq-len --recompute --sp --zero --dtype --attention --etp --capacity-factor --moe-pad
 * --moe-imbalance --doc-len --doc-len-cv); absent ones leave p as it is. */
sp_status sp_req_plan(sp_request *rq, sp_plan *p, sp_error *err);
/* --doc-len TOKENS and --doc-len-cv CV into p (packed sequences; sp_req_plan reads them, the search too) */
sp_status sp_req_packing(sp_request *rq, sp_plan *p, sp_error *err);
/* --bf16-layers START,END into p (sp_req_plan reads it; the search with any_dtype 1: 16-bit plans allowed) */
sp_status sp_req_bf16_layers(sp_request *rq, sp_plan *p, int any_dtype, sp_error *err);
sp_status sp_req_software(sp_request *rq, const char *data_dir, sp_system *s, sp_plan *p, sp_error *err);
sp_status sp_req_software_search(sp_request *rq, const char *data_dir, sp_system *s, sp_search_opts *o, sp_error *err);
sp_status sp_req_stack(sp_request *rq, const char *data_dir, sp_software *sw, int *have, sp_error *err);
/* --prune-heads / --prune-ffn: structured pruning of m (sp_model_prune). */
sp_status sp_req_prune(sp_request *rq, sp_model *m, sp_error *err);
/* --model / --system with a default preset name (NULL: required). */
/* st unchanged; a failure's message is prefixed "--OPT: " unless it already names --OPT (issue 24: every refusal
 * names the option its value came from). */
sp_status sp_req_named(sp_status st, const char *opt, sp_error *err);
sp_status sp_req_model(sp_request *rq, const char *data_dir, const char *dflt, sp_model *m, sp_error *err);
sp_status sp_req_system(sp_request *rq, const char *data_dir, const char *dflt, sp_system *s, sp_error *err);

/* ---- JSON building: numbers never NaN/inf (null), integral values below 1e15 as integers ---- */
json_t *sp_json_num(double v);
void sp_json_set_num(json_t *o, const char *key, double v);
/* energy_kwh, co2e_kg and cost_usd {cloud, ownership} of a run (finetune, distill). */
void sp_json_set_energy(json_t *o, const sp_energy_result *e);
json_t *sp_json_str(const char *v);
void sp_json_set_str(json_t *o, const char *key, const char *v);
void sp_json_set_int(json_t *o, const char *key, long long v);
void sp_json_set_bool(json_t *o, const char *key, int v);
/* Pieces several results share: a plan's degrees {tp, pp, dp, cp, ep, vpp, micro_batch} and its memory knobs
 * {recompute, sequence_parallel, zero}, the memory and time breakdowns of a training step. */
void sp_json_set_degrees(json_t *o, const sp_plan *p);
void sp_json_set_memory_knobs(json_t *o, const sp_plan *p);
/* "bf16_layers": [first, last], the layers a quantized plan keeps in 16 bits (absent when none) */
void sp_json_set_bf16_layers(json_t *o, const sp_plan *p);
/* Packed sequences (p->doc_len > 0): "doc_len", "doc_len_cv" and "attn_context" (sp_plan_attn_context, the keys per
 * token the attention counts); nothing when unpacked */
void sp_json_set_packing(json_t *o, const sp_plan *p);
json_t *sp_memory_json(const sp_memory *mm);
json_t *sp_time_breakdown_json(const sp_time_breakdown *t);
/* Serialises a result: compact, keys in insertion order, 15 significant digits. malloc'ed. */
char *sp_json_dump(const json_t *j);

/* ---- train ---- */
typedef struct {
    sp_model model;
    sp_system system;
    sp_plan plan;
    sp_param_count params;
    sp_train_result res;
    double tokens, train_s, gpu_hours; /* tokens = 0: one step */
    sp_energy_opts energy_opts;
    sp_energy_result energy;           /* of the run, or of one step without tokens */
    char region[64];                   /* "" = the system's grid */
    char region_source[256];
} sp_train_report;
sp_status sp_train_run(const char *data_dir, sp_request *rq, sp_train_report *r, sp_error *err);
json_t *sp_train_json(const sp_train_report *r);

/* ---- search ---- */
typedef struct {
    sp_model model;
    sp_system system;
    sp_search_opts opts;
    sp_search_result *res;             /* malloc'ed by sp_search_run; sp_search_report_free */
    int all;                           /* --all: every evaluated plan went to opts.on_plan */
} sp_search_report;
/* Hooks the caller may set in *r before the run: r->opts.on_plan/ctx (called for --all), on_progress. On
 * SP_EINFEASIBLE the message says how close the nearest plan came and which GPU count fits. */
sp_status sp_search_run(const char *data_dir, sp_request *rq, sp_search_report *r, sp_error *err);
json_t *sp_search_json(const sp_search_report *r);
void sp_search_report_free(sp_search_report *r);

/* ---- infer (one serving configuration, or a batch sweep) ---- */
#define SP_INFER_MAX_SWEEP 64
typedef struct {
    sp_model model;
    sp_system system;
    sp_infer_opts opts;
    sp_infer_result res;
    double usd_per_million_tokens, joules_per_token;
    int n_sweep;                       /* > 0: --sweep batch=LO..HI was given; sweep[] holds its points */
    sp_infer_result sweep[SP_INFER_MAX_SWEEP];
    double *probs;                     /* --routing distribution (malloc'ed), NULL when not given */
    char layout[400];                  /* the layout chosen over --gpus when no --tp/--ep/--pp was given; else "" */
    int have_stack;                    /* --software: the serving stack (data/serving) every system runs */
    sp_serve_stack stack;              /* as loaded; calibrated per system by sp_infer_stack_apply */
    char stack_family[32];             /* the family its kernel factor was calibrated for ("uncalibrated": none) */
} sp_infer_report;
sp_status sp_infer_run(const char *data_dir, sp_request *rq, sp_infer_report *r, sp_error *err);
/* The options alone (model when given, pruning, GPUs/TP/PP/EP, batch, lengths, routing, precisions): what the
 * CLI's --fit-hardware and --coe modes start from. */
sp_status sp_infer_parse(const char *data_dir, sp_request *rq, sp_infer_report *r, sp_error *err);
/* --software on one system (after sp_serving_eff_load filled o->eff): the stack's kernel factor calibrated for the
 * accelerator's family as serve calibrates it (sp_serve_calibrate), then applied (sp_serve_stack_infer); family:
 * the calibration's family (may be NULL). Without --software nothing changes. */
sp_status sp_infer_stack_apply(const char *data_dir, const sp_infer_report *r, const char *accel, sp_infer_opts *o,
                               char *family, size_t n, sp_error *err);
json_t *sp_infer_json(const sp_infer_report *r);
void sp_infer_report_free(sp_infer_report *r);

/* ---- infer --fit-hardware (src/infer_modes.c): the cheapest candidate system, TP degree and weight precision
 * meeting a per-token latency; every candidate evaluated is a row ---- */
#define SP_FIT_HW_MAX_ROWS 512
typedef struct {
    char system[64];
    int tp, batch, meets;              /* meets: its time per output token is within the target */
    sp_dtype weights;
    double tpot_s, usd_per_hour, usd_per_million_tokens;
} sp_fit_hw_row;
typedef struct {
    sp_model model;
    double target_ms;                  /* --latency-ms */
    int n, best, fastest;              /* rows; the cheapest meeting the target; the fastest (-1: none) */
    sp_fit_hw_row rows[SP_FIT_HW_MAX_ROWS];
} sp_fit_hw_report;
/* SP_EINFEASIBLE when no candidate meets the target (the message names the fastest) */
sp_status sp_infer_fit_run(const char *data_dir, sp_request *rq, sp_fit_hw_report *r, sp_error *err);
json_t *sp_infer_fit_json(const sp_fit_hw_report *r);

/* ---- infer --coe (src/infer_modes.c): a composition of experts on --system's memory tiers against --compare's
 * GPUs, and the HBM-only fleet of --compare that keeps every expert resident ---- */
typedef struct {
    int n_experts;
    sp_infer_opts opts;                /* sockets (n_gpus), batch per switch, lengths, precisions */
    sp_system sys[2];                  /* --system, --compare */
    sp_mem_tier tiers[2][SP_MAX_MEM_TIERS];
    int ntiers[2];
    sp_coe_result res[2];              /* res[k].store_tier points into tiers[k] */
    int hbm_only_nodes;
    double hbm_only_latency_s, hbm_only_tokens_per_s, hbm_only_usd_per_hour;
} sp_coe_report;
sp_status sp_infer_coe_run(const char *data_dir, sp_request *rq, sp_coe_report *r, sp_error *err);
json_t *sp_infer_coe_json(const sp_coe_report *r);

/* sp_call("infer") with --fit-hardware or --coe: *served = 1 and *out their result; *served = 0 otherwise */
sp_status sp_infer_modes_call(const char *data_dir, sp_request *rq, json_t **out, int *served, sp_error *err);

/* ---- serve (src/serve_call.c; the report type is in src/serve_internal.h) ---- */
struct sp_serve_report_s;
/* The request's options into a deployment, workload (with --trace/--arrival), stack (with the family calibration
 * or --kernel-factor) and mode (--max-rate, --search with --candidates/--max-gpus). */
sp_status sp_serve_parse(const char *data_dir, sp_request *rq, struct sp_serve_report_s *r, sp_error *err);
/* Adds to a serve result's JSON what the text report says beside the numbers: layout_chosen (the layout picked
 * over --gpus) and mtp (MTP modules left unloaded). */
void sp_serve_notes_json(const struct sp_serve_report_s *r, json_t *j);

/* ---- presets ---- */
#define SP_PRESET_KINDS 5
extern const char *const sp_preset_kinds[SP_PRESET_KINDS]; /* models, systems, accelerators, laws */
typedef struct {
    char list[SP_PRESET_KINDS][SP_PRESET_LIST_MAX]; /* comma-separated names per kind */
} sp_presets_report;
sp_status sp_presets_run(const char *data_dir, sp_request *rq, sp_presets_report *r, sp_error *err);
json_t *sp_presets_json(const sp_presets_report *r);

/* ---- law ---- */
typedef struct {
    sp_law law;
    sp_system system;                  /* for compute from a cluster and GPU-hours */
    double peak, mfu;                  /* bf16 peak of its accelerator, assumed MFU */
    double compute, n, d, tpp, target, served, days;
    int gpus;
    sp_batch_rule rule;
    double fixed_batch;
    char rule_name[64];
    int has_loss_at, has_optimal, has_min_n, has_overtraining, has_inference_aware; /* queries answered */
    double loss_at;
    double n_opt, d_opt, loss_opt, critical_batch, gpu_hours;
    double min_n, min_d;
    double over_d, over_loss, over_copt, over_nopt, over_dopt;
    double ia_n, ia_d, ia_n0, ia_d0;
} sp_law_report;
sp_status sp_law_run(const char *data_dir, sp_request *rq, sp_law_report *r, sp_error *err);
json_t *sp_law_json(const sp_law_report *r);
/* Training + lifetime inference FLOP of the inference-aware model (0) or the compute-optimal one (1). */
double sp_law_inference_total(const sp_law_report *r, int compute_optimal);

/* ---- distill ---- */
typedef struct {
    sp_model teacher, student;
    sp_system system;
    sp_plan plan;
    sp_distill_opts opts;
    sp_distill_result res;
    sp_energy_result energy; /* teacher forward + student training: energy, CO2e, cloud and owned cost (summed) */
} sp_distill_report;
sp_status sp_distill_run(const char *data_dir, sp_request *rq, sp_distill_report *r, sp_error *err);
json_t *sp_distill_json(const sp_distill_report *r);

/* ---- validate-energy ---- */
typedef struct {
    sp_validate_energy_opts opts;
    sp_energy_row *rows;               /* calloc'ed (sp_validate_energy_report_free) */
    int n, n_ok, n_not_stated;
    double mape_pct, mape_not_stated_pct;
} sp_validate_energy_report;
/* Request: "file" (the CLI's positional argument), power_model, region, utilization. */
sp_status sp_validate_energy_run(const char *data_dir, sp_request *rq, sp_validate_energy_report *r, sp_error *err);
json_t *sp_validate_energy_json(const sp_validate_energy_report *r);
void sp_validate_energy_report_free(sp_validate_energy_report *r);
const char *sp_validate_energy_model_name(const sp_validate_energy_opts *o); /* auto, tdp, activity */
const char *sp_energy_row_method(const sp_validate_energy_opts *o, const sp_energy_row *row);

/* ---- forecast (forecast.c; include/scaleplan_forecast.h) ---- */
/* The assumption set (--assumptions, default "default"), every parameter as its option (--start-flop, ...),
 * --year or --from/--to; fills the inputs used and the result (caller's). */
sp_status sp_forecast_request(const char *data_dir, sp_request *rq, sp_forecast_inputs *in, sp_forecast_result *r,
                              sp_error *err);
/* ---- finetune ---- */
#define SP_FINETUNE_CANDIDATES 8
extern const char *const sp_finetune_candidates[SP_FINETUNE_CANDIDATES]; /* systems tried on one GPU */
typedef struct {
    sp_model model;                    /* after pruning */
    sp_system system;
    sp_finetune ft;
    sp_plan plan;
    sp_train_result res;
    sp_param_count before, params;     /* parameters before and after pruning */
    int heads;                         /* pruned heads per layer */
    double ffn;                        /* pruned FFN fraction */
    double tokens, trainable, base_w, states, train_s, gpu_hours;
    int smallest_gpus;                 /* smallest power-of-two GPU count of the system that fits; 0: none <= 4096 */
    int fits_one_gpu[SP_FINETUNE_CANDIDATES];
    sp_energy_result energy;           /* of the run when tokens > 0 (the same energy model as train) */
} sp_finetune_report;
sp_status sp_finetune_run(const char *data_dir, sp_request *rq, sp_finetune_report *r, sp_error *err);
json_t *sp_finetune_json(const sp_finetune_report *r);
const char *sp_finetune_method_name(sp_ft_method m);

/* ---- report famous ---- */
#define SP_REPORT_RUNS 8
typedef struct {
    const char *label, *reported;      /* static strings */
    sp_model model;
    sp_plan plan;
    sp_train_result res;
    double tokens, train_s, gpu_hours;
    sp_energy_result energy;
} sp_report_run;
typedef struct {
    sp_report_run runs[SP_REPORT_RUNS];
    int n;
} sp_report;
/* Request: "name": "famous" (the CLI's positional argument). */
sp_status sp_report_run_all(const char *data_dir, sp_request *rq, sp_report *r, sp_error *err);
json_t *sp_report_json(const sp_report *r);

/* ---- validate (src/validate_json.c): training runs, or with --infer the serving model ---- */
#define SP_VALIDATE_MAX_FILES 64
typedef struct {
    int infer;                         /* --infer: irows (inference_measured.csv rows) instead of rows */
    sp_validate_row *rows;             /* every table's rows, concatenated (malloc'ed) */
    sp_infer_row *irows;               /* --infer (malloc'ed) */
    int n;                             /* rows (or irows) */
    int nfiles;
    struct {
        char *path;                    /* the CSV's path, or "rows" for inline rows (malloc'ed) */
        int first, n;                  /* its span in rows[] */
    } files[SP_VALIDATE_MAX_FILES];
} sp_validate_report;
/* Request: "paths" (a list of CSV files, or one path as a string; the CLI's positional arguments) or "rows" (a
 * list of objects {column: value}, the CSV's columns: relative paths in system/model_config cells are relative to
 * the working directory), "infer" (one table of inference_measured.csv rows). Refused: no table, an empty one,
 * and a set in which no row could be evaluated ("no row could be evaluated (first reason: ...)"). */
sp_status sp_validate_run(const char *data_dir, sp_request *rq, sp_validate_report *r, sp_error *err);
/* {rows: [{id, predicted_step_time_s, measured_step_time_s, error_pct, predicted_mfu, measured_from_tflops,
 *  knobs_stated, family, bottleneck, note}], skipped: [{id, reason}], n, mape_pct, families: {NAME: group},
 *  files: [{file, summary: group}], not_evaluated, knobs_stated: {n, mape_pct}, knobs_unstated: {n, mape_pct}};
 *  group = {n, not_evaluated, mape_pct, worst_id, worst_abs_error_pct}. With --infer: sp_validate_infer_json. */
json_t *sp_validate_json(const sp_validate_report *r);
void sp_validate_report_free(sp_validate_report *r);
/* validate --infer: {rows: [{id, predicted, measured, unit, error_pct, decode_dominated}], skipped: ["id: reason"],
 *  n, mape_pct, n_decode, mape_decode_pct} */
json_t *sp_validate_infer_json(const sp_infer_row *rows, int n);
/* ---- fit (src/fit_json.c): a scaling law fitted to (N, D, loss) points ---- */
typedef struct {
    char *source;                      /* the CSV's path, or "points" for inline points (malloc'ed) */
    char *drop;                        /* --drop-if as given, NULL without (malloc'ed) */
    double *v;                         /* the points: N, D, loss, weight, each k values (malloc'ed) */
    int k, weighted;                   /* weighted: --weight named a column */
    int seed, autoform;                /* autoform: --form auto; heldout[f] is form f's held-out error (NaN: none) */
    double heldout[3];
    sp_fit_opts opts;                  /* opts.pred: malloc'ed, opts.n_pred predictions */
    sp_fit_result res;
} sp_fit_report;
/* Request: "file" (a CSV path, the CLI's positional argument) or "points" (inline rows {N, D, loss[, weight]}:
 * the columns named by n, d, loss, weight), drop_if, delta, objective, form, select, predict ("N,D" or a list of
 * "N,D" strings or [N, D] pairs), predict_csv, bootstrap, seed, ci, threads. */
sp_status sp_fit_run(const char *data_dir, sp_request *rq, sp_fit_report *r, sp_error *err);
/* The form's parameters, goodness of fit, held-out error when asked, bootstrap intervals ("ci"),
 * "predictions": [{n, d, loss, lo, hi}], and with --form auto "selection_heldout_rmse_log" per form. */
json_t *sp_fit_report_json(const sp_fit_report *r);
void sp_fit_report_free(sp_fit_report *r);
/* A table given inline as option `opt` (a list of objects {column: value}, as Python's list of dicts): the columns
 * are the union of the rows' keys in the order first seen, a key a row lacks is an empty cell; values are strings,
 * numbers, booleans (1/0) or null (empty). Messages name it "OPT:ROW:" (ROW 1-based), as a file's "FILE:LINE:".
 * *out = NULL when the option is absent. */
sp_status sp_req_table(sp_request *rq, const char *opt, sp_csv **out, sp_error *err);
/* A validation CSV's rows: checks it has the columns `need` (NULL-terminated) and allocates one zeroed row of `size`
 * bytes per data row (*rows, at least one; free()), *n the data rows. Shared by validate --infer and --energy. */
sp_status sp_validation_rows(const sp_csv *c, const char *const *need, size_t size, void **rows, int *n, sp_error *err);
/* ---- shape ---- */
typedef struct {
    sp_system system;
    sp_infer_opts opts;                /* serving configuration each shape is evaluated at */
    sp_shape_opts shape;
    sp_law law;
    char law_name[64];
    int use_law, has_loss;
    double loss;                       /* --loss: the budget is the law's smallest N reaching it */
    int top, shown, n_front, n_evaluated;
    sp_shape_point *front;             /* malloc'ed, top entries (sp_shape_report_free) */
} sp_shape_report;
sp_status sp_shape_run(const char *data_dir, sp_request *rq, sp_shape_report *r, sp_error *err);
json_t *sp_shape_json(const sp_shape_report *r);
void sp_shape_report_free(sp_shape_report *r);

/* ---- limits (src/limits_json.c; the two models: include/scaleplan_limits.h) ---- */
#define SP_LIMITS_MAX_POINTS 160
#define SP_LIMITS_MAX_SETTINGS 24
/* Energy (MWh), CO2e (t) and cloud cost ($) of one point: its GPUs for its run at its utilization, with the
 * energy model and the defaults of the matching system preset (docs/energy.md); NaN when no preset loaded. */
typedef struct {
    double mwh, co2e_t, cloud_usd;
} sp_limits_energy;
typedef struct {
    char name[128];                    /* the setting in words: GPU, dense/MoE, every change from the baseline */
    sp_system sys;                     /* energy and cost presets of the matching real system */
    int have_sys;
    sp_epoch_setting set;              /* full mode: set.gpu.n_levels == 0 when the paper has no such GPU */
    sp_epoch_point pts[SP_LIMITS_MAX_POINTS]; /* the paper's model (full mode: its sweep of the same setting) */
    sp_epoch_summary sum;              /* the mode's sweep */
    sp_epoch_summary esum;             /* full mode: the paper's model on the same setting */
    int n;                             /* points of the mode's sweep */
    double wall_s;
    sp_system fsys;                    /* full mode: the hardware, with the setting's what-ifs applied */
    sp_limits_full_opts fo;            /* full mode: the setting's idealisations and search options */
    sp_limits_full_point *fpts;        /* full mode: SP_LIMITS_MAX_POINTS of them (malloc'ed) */
    sp_limits_energy energy[SP_LIMITS_MAX_POINTS]; /* of the mode's points */
} sp_limits_setting;
typedef struct {
    int full, waterfall;               /* --mode full; --waterfall (the settings are its steps) */
    int have_software;                 /* full mode --software: every setting's plans run this training stack */
    sp_software software;
    int n;
    sp_limits_setting *set;            /* calloc'ed (sp_limits_report_free) */
    double wall_s;
} sp_limits_report;
/* Request: mode, gpu | compare, duration, from, to, dense, moe, batch_rule, shape, latency_scale,
 * bandwidth_scale, flat_network, threads, grad_bytes, kv_heads, software, waterfall (docs/limits.md). A range that holds no
 * sweep point of any setting is refused (SP_EINVAL) naming --from/--to and the nearest sweep points. */
sp_status sp_limits_run(const char *data_dir, sp_request *rq, sp_limits_report *r, sp_error *err);
json_t *sp_limits_json(const sp_limits_report *r);
void sp_limits_report_free(sp_limits_report *r);
/* Why a setting has no points, in words; NULL when it has some. */
const char *sp_limits_empty_reason(const sp_limits_report *r, const sp_limits_setting *s, char *buf, size_t n);

/* ---- the command table: one line registers a command ---- */
/* X(name as typed, C identifier): sp_call_<ident>(data_dir, request, &result, err) builds the result object. */
#define SP_CALL_COMMANDS(X)                                                                                        \
    X("train", train)                                                                                              \
    X("search", search)                                                                                            \
    X("infer", infer)                                                                                              \
    X("forecast", forecast)                                                                                        \
    X("serve", serve)                                                                                              \
    X("sweep", sweep)                                                                                              \
    X("presets", presets)                                                                                          \
    X("law", law)                                                                                                  \
    X("distill", distill)                                                                                          \
    X("validate", validate)                                                                                        \
    X("fit", fit)                                                                                                  \
    X("validate-energy", validate_energy)                                                                          \
    X("finetune", finetune)                                                                                        \
    X("report", report)                                                                                            \
    X("shape", shape)                                                                                              \
    X("limits", limits)                                                                                            \
    X("model", model)

/* Defines sp_call_<ident> for a command whose library part is run (request -> typed report), json (report -> the
 * result object) and release (frees what the report holds; sp_call_no_release when nothing): the report on the
 * heap, zeroed, the JSON only when the run succeeded. */
static inline void sp_call_no_release(const void *report) { (void)report; }
#define SP_CALL_DEFINE(ident, report_type, run, json, release)                                                    \
    sp_status sp_call_##ident(const char *data_dir, sp_request *rq, json_t **out, sp_error *err)                  \
    {                                                                                                              \
        report_type *r = calloc(1, sizeof *r);                                                                     \
        if (!r)                                                                                                    \
            return sp_fail(err, SP_ENOMEM, "out of memory");                                                       \
        sp_status st = run(data_dir, rq, r, err);                                                                  \
        if (st == SP_OK)                                                                                           \
            *out = json(r);                                                                                        \
        release(r);                                                                                                \
        free(r);                                                                                                   \
        return st;                                                                                                 \
    }

#define SP_CALL_DECLARE(name, ident) \
    sp_status sp_call_##ident(const char *data_dir, sp_request *rq, json_t **out, sp_error *err);
SP_CALL_COMMANDS(SP_CALL_DECLARE)
#undef SP_CALL_DECLARE

#endif
