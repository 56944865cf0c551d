/* Running a sweep on one process: points in order, one plan search each, emitted as they finish, with progress
 * reports (the same callbacks as the MPI runner, sweep_mpi.c). */
#include "sweep_internal.h"

#include <time.h>

double sw_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sp_sweep_run_defaults(sp_sweep_run_opts *o)
{
    *o = (sp_sweep_run_opts){0};
    o->progress_after_s = 1;
}

/* Progress every quarter second once the run is older than progress_after_s; once more at the end. */
void sw_progress(const sp_sweep_run_opts *o, long long done, long long total, double t0, double *last)
{
    if (!o->on_progress)
        return;
    double now = sw_now(), el = now - t0;
    if (done == total ? *last > 0 : el >= o->progress_after_s && now - *last >= 0.25) {
        o->on_progress(o->progress_ctx, done, total, el);
        *last = now;
    }
}

sp_status sp_sweep_run(const sp_sweep *sw, const sp_sweep_run_opts *o, sp_error *err)
{
    sp_sweep_ws *ws = sp_sweep_ws_new();
    if (!ws)
        return sp_fail(err, SP_ENOMEM, "sweep: out of memory");
    double t0 = sw_now(), last = 0;
    sp_status st = SP_OK;
    for (long long i = o->start < 0 ? 0 : o->start; i < sw->n && !st; i++) {
        sp_sweep_point p;
        if ((st = sp_sweep_eval(sw, ws, i, &p, err)))
            break;
        if (o->emit)
            o->emit(o->ctx, &p);
        sw_progress(o, i + 1, sw->n, t0, &last);
    }
    sw_progress(o, sw->n, sw->n, t0, &last);
    sp_sweep_ws_free(ws);
    return st;
}
