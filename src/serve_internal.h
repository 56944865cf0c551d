/* Types shared by the serving simulator's files (serve.c: scheduler and requests; serve_run.c: setup, event loop,
 * statistics). Not part of the public API. */
#ifndef SP_SERVE_INTERNAL_H
#define SP_SERVE_INTERNAL_H

#include "scaleplan.h"

typedef struct {
    double arrival, first, finish;
    int prompt, output;
    int target;       /* tokens to prefill: the prompt, or prompt + generated after a preemption */
    int done;         /* tokens prefilled so far */
    int gen;          /* output tokens produced */
    int blocks;       /* KV blocks held, a shared prefix's not counted */
    int next;         /* waiting-queue link */
    int chunk;        /* tokens scheduled in the running step */
    int group;        /* prefix group, -1 none */
    int npre;         /* preemptions */
    unsigned char hit, shared;
} sv_req;

enum { SV_ROLE_BOTH, SV_ROLE_PREFILL, SV_ROLE_DECODE };

typedef struct {
    double t_end;     /* end of the running step */
    int busy, role;
    int *run, n_run;  /* running sequences in admission order */
    int qhead, qtail, nwait;
    int total, free, idle_cached; /* KV blocks: capacity, free, held by cached prefixes nobody uses */
    int *ref;         /* per prefix group: users; res: cached; last: last use */
    unsigned char *res;
    double *last;
    double kv_int;    /* integral of occupancy over time */
} sv_eng;

typedef struct {
    double t;
    int id, kind;
} sv_ev;

enum { SV_EV_ARRIVAL, SV_EV_TRANSFER };

typedef struct {
    double n_pf, span_sum, n_dec, ctx_sum, logits;
    int n_pf_seqs;
} sv_step;

typedef struct {
    const sp_serve_opts *o;
    const sp_serve_workload *w;
    const sp_serve_steptab *tab;
    sv_req *r;
    int n;
    sv_eng *e;
    int ne;
    sv_ev *heap;
    int nh;
    int groups, pb, bs, max_seqs, budget;
    double t, t_last, t_backlog;
    int nwait_total, done, created, next_arr;
    double q_int, q_max, kv_max, batch_sum, flops, xfer_sum;
    long long steps, preemptions;
    unsigned long long seed_think;
    const sp_model *m;
    const sp_system *s;
    /* setup allocations */
    int *run_all, *ref_all;
    unsigned char *res_all;
    double *last_all;
} sv_sim;

/* A parsed `serve` request (src/serve_call.c): what both sp_call and the CLI run. */
#define SP_SERVE_MAX_CANDIDATES 512
typedef struct sp_serve_report_s {
    sp_model model;
    sp_system system;
    sp_serve_opts opts;
    sp_serve_workload wl;         /* owns a trace: sp_serve_workload_free */
    sp_serve_search_opts so;
    char candidates[512];         /* --search systems, comma separated */
    int max_rate, search;
    char layout[400];             /* the layout chosen over --gpus when no --tp/--ep/--pp was given; else "" */
} sp_serve_report;
/* Loads the comma-separated systems of --candidates into sys[0..max-1]. */
sp_status sp_serve_search_systems(const char *data_dir, const char *list, sp_system *sys, int max, int *n, sp_error *err);

void sv_make_requests(sv_sim *S);
double sv_think(sv_sim *S);
void sv_push(sv_sim *S, double t, int id, int kind);
sv_ev sv_pop(sv_sim *S);
/* Appends id to e's waiting queue, or puts it first (a preempted sequence). */
void sv_enqueue(sv_sim *S, sv_eng *e, int id, int front);
void sv_release(sv_sim *S, sv_eng *e, sv_req *r);
void sv_try_start(sv_sim *S, sv_eng *e);

#endif
