/* Declarations shared between library files that are not part of the public API (include/scaleplan.h): helpers
 * of the cost model that an embedder does not need. Tests may use them (they build with -Isrc). */
#ifndef SP_INTERNAL_H
#define SP_INTERNAL_H
#include <stddef.h>

#include "scaleplan.h"

/* SP_OK when the CSV has every column of the NULL-terminated list, else "FILE:1: missing required column 'X'". */
sp_status sp_csv_require(const sp_csv *c, const char *const *cols, sp_error *err);
/* A table made in memory rather than parsed (rows given to sp_call as JSON): cells holds the header's ncols names,
 * then nrows rows of ncols cells (copied); lines[r] is the number messages give row r ("NAME:LINE: column ..."). */
sp_status sp_csv_from_cells(const char *name, int ncols, int nrows, const char *const *cells, const int *lines,
                            sp_csv **out, sp_error *err);

/* Lists the *.json preset names in dir into buf, comma separated; returns the count. */
int sp_list_dir(const char *dir, char *buf, size_t n);
/* The choices of an unknown-name error whose other parts (the name given, the suggestion) take `used` bytes: the
 * list itself while the whole message fits an sp_error (with 140 bytes for the fixed text and an option prefix),
 * else the count of names and where to see them all, so no name is ever cut. */
void sp_preset_choices(const char *list, size_t used, const char *see, char *out, size_t n);
/* Loads data_dir/KIND/NAME.json, or NAME as a path when it has a '/' or ends in .json, into *out (the path used
 * into path). Unknown names are refused with the list of presets ("unknown WHAT 'x'; available: ..."), bad JSON
 * with file:line:column. Shared by laws (scaling.c) and forecast assumption sets (forecast.c). */
/* One synthetic decoder builder for the three places that make models from a few numbers: report famous's
 * hypothetical compute-optimal runs (Llama-like: gated FFN, GQA), the shape search's candidates, and limits --mode
 * full's sweep widths (the paper's MLP: two d x 4d matrices, ungated). Their shape rules (how the layer count and
 * widths follow from a budget or a width) stay with them and differ on purpose; the spec names every difference. */
typedef struct {
    const char *name;   /* NULL: "synthetic" */
    int d_model, n_layers;
    int n_heads;        /* query heads */
    int d_head;         /* head width; 0: d_model / n_heads */
    int n_kv_heads;     /* 0: as many as n_heads (MHA) */
    int ffn_dim;
    int gated;          /* 1: SwiGLU-style FFN (three matrices), 0: two d x ffn matrices */
    int n_experts;      /* > 1: every FFN is MoE with n_experts of ffn_dim, top_k routed */
    int top_k;
    int vocab, max_seq;
    sp_norm norm;
} sp_synthetic_spec;
void sp_model_synthetic(const sp_synthetic_spec *spec, sp_model *m);

/* A JSON value that is a number, or a string with units (sp_parse_quantity; its messages start with `what`), into
 * *out; another type fails "WHAT: expected a number or a quantity string". Ranges are the caller's. */
struct json_t;
sp_status sp_json_quantity(const struct json_t *v, sp_unit unit, const char *what, double *out, sp_error *err);
/* The first key of object o not in the NULL-terminated list `allowed` (NULL when none); then list holds the
 * allowed keys, comma-separated, for the error the caller words (config.c). */
const char *sp_json_unknown_key(struct json_t *o, const char *const *allowed, char *list, size_t n);
struct json_t;
sp_status sp_preset_file(const char *data_dir, const char *kind, const char *what, const char *name_or_path,
                         struct json_t **out, char *path, size_t pathn, sp_error *err);

/* The JSON object of an accelerator ("accelerators") or system ("systems") preset or file with its "base" chain
 * merged, checked by the loader; a new reference (config.c; sweep.c patches it). */
struct json_t;
sp_status sp_preset_json(const char *data_dir, const char *kind, const char *name_or_path, struct json_t **out,
                         sp_error *err);

/* Query width a * d_head and key/value width g * d_head of a layer's attention. */
int sp_model_attn_qdim(const sp_model *m);
int sp_model_kvdim(const sp_model *m);

/* Index of the innermost network tier that contains a group of p ranks at that stride. */
int sp_group_tier(const sp_system *s, int p, int stride);
/* Members of a group of p ranks at `stride` that one domain of `size` ranks holds when the group spans domains:
 * the largest divisor of p whose block fits the domain (64 of a 128-rank group on 72-GPU domains). */
int sp_domain_members(int size, int p, int stride);
/* Share of the compute units an overlapped collective takes from the compute it overlaps (0..1). */
double sp_comm_sm_share(const sp_accel *a);
/* sp_collective_time where only the share `cross` (0..1] of an all-to-all's bytes crosses nodes (node-limited MoE
 * routing: a token crosses once per destination node and fans out inside it); cross = 1 is sp_collective_time. */
double sp_collective_time_cross(const sp_system *s, sp_coll kind, int p, int stride, double bytes, double cross);

/* Serving factors of an accelerator no family lists: 1, 1, 0 (no change to the training efficiency model). */
void sp_serving_eff_neutral(sp_serving_eff *e);
/* Expected distinct experts among E when T tokens each pick k uniformly: E·(1 − (1 − k/E)^T). */
double sp_expected_experts(double E, double k, double T);
/* Same for a routing distribution p[0..E-1] (sums to 1): sum_i 1 − (1 − min(1, k·p_i))^T. */
double sp_expected_experts_dist(const double *p, int E, double k, double T);

/* threads = 0 in sp_search_opts uses all cores from this many layer shapes on, one thread below: the first
 * parallel region of a process costs 2-3 ms, more than a small search (docs/search.md). */
#define SP_SEARCH_PARALLEL_SHAPES 4096

/* model_hf.c: a model from a parsed config (root) whose text is `text` (for line numbers); path names the
 * file in messages and display is the default model name. */
struct json_t;
sp_status sp_model_from_hf(const char *path, const char *display, const char *text, struct json_t *root, sp_model *m,
                           sp_model_info *info, sp_error *err);
/* A copy of text[0..n) with Python's Infinity, -Infinity and NaN tokens outside strings quoted (malloc'ed,
 * NUL-terminated, *out_len bytes); NULL when out of memory. */
char *sp_hf_quote_nonfinite(const char *text, size_t n, size_t *out_len);

#endif
