/* A sweep over MPI ranks (built with SP_HAVE_MPI when the build finds Open MPI's mpicc; docs/sweep.md).
 *
 * Points differ in cost by 1000x (a 64-GPU dense search against a 16k-GPU MoE one), so they are handed out one
 * at a time, on demand: rank 0 keeps the counter of the next point, answers requests, and computes points
 * itself between answering them (on N ranks nobody idles); each worker keeps PREFETCH points in hand so that it
 * does not wait for an answer while rank 0 is inside a long point. Waiting ranks nap (0.1 ms) instead of
 * blocking in MPI, whose blocking calls poll a core. Results go back to rank 0, which keeps
 * them in a reorder buffer and emits them strictly in point order, so the output is byte-identical for any number
 * of ranks (every point is a pure function of the spec and its index; the plan search's answer does not depend on
 * the order or the thread). A point is sent as its plain struct (the ranks run the same binary on one kind of
 * machine: a homogeneous cluster).
 *
 * Messages: worker -> 0: TAG_HELLO (empty, asks for PREFETCH points), TAG_RESULT (one sp_sweep_point, asks for one
 * more). 0 -> worker: TAG_WORK (a point index, or -1: no more). Every message to rank 0 gets exactly one answer
 * per point it asks for, so a worker that has seen -1 and holds no point has nothing left in flight and stops.
 */
#include "sweep_internal.h"

#include <stdlib.h>
#include <string.h>

#ifdef SP_HAVE_MPI
#include <mpi.h>
#include <omp.h>
#include <time.h>

#define TAG_HELLO 1
#define TAG_RESULT 2
#define TAG_WORK 3
#define PREFETCH 4

int sp_sweep_mpi_available(void) { return 1; }

sp_status sp_sweep_mpi_init(int *argc, char ***argv, int *rank, int *size, sp_error *err)
{
    int provided = 0; /* rank 0 computes on a second thread; only the main thread calls MPI */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return sp_fail(err, SP_EINVAL, "sweep: MPI_Init_thread failed");
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return SP_OK;
}

/* Sleeps 0.1 ms: how a rank waits for a message without spinning a core (Open MPI's blocking calls poll, and on
 * a machine with more ranks than cores the poll takes the CPU from the ranks that compute). */
static void nap(void)
{
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
}

/* Waits for every rank (rank 0 is still writing its summary while the others are done) without spinning. */
void sp_sweep_mpi_finalize(void)
{
    MPI_Request rq;
    int done = 0;
    MPI_Ibarrier(MPI_COMM_WORLD, &rq);
    while (MPI_Test(&rq, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        nap();
    MPI_Finalize();
}

typedef struct {
    const sp_sweep *sw;
    const sp_sweep_run_opts *o;
    sp_sweep_point *buf;  /* reorder buffer: point i at buf[i - start] */
    char *have;           /* have[i - start]: result arrived (atomic: rank 0's compute thread sets it) */
    long long start, next, emitted; /* next: the shared counter (atomic) */
    int hellos, failed;
    double t0, last;
} master;

static long long take(master *m)
{
    long long i;
#pragma omp atomic capture
    i = m->next++;
    return i < m->sw->n ? i : -1;
}

static void give(master *m, int to, int count)
{
    for (int k = 0; k < count; k++) {
        long long i = take(m);
        MPI_Send(&i, 1, MPI_LONG_LONG, to, TAG_WORK, MPI_COMM_WORLD);
    }
}

static void arrived(master *m, long long i)
{
#pragma omp atomic write
    m->have[i - m->start] = 1;
}

static void flush(master *m)
{
    for (;;) {
        char h = 0;
        if (m->start + m->emitted < m->sw->n) {
#pragma omp atomic read
            h = m->have[m->emitted];
        }
        if (!h)
            break;
        if (m->o->emit)
            m->o->emit(m->o->ctx, &m->buf[m->emitted]);
        m->emitted++;
        sw_progress(m->o, m->start + m->emitted, m->sw->n, m->t0, &m->last);
    }
}

/* Answers every message waiting, then emits what is in order; returns the number of messages handled. */
static int serve(master *m)
{
    int handled = 0, flag;
    MPI_Status ms;
    while (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &ms) == MPI_SUCCESS && flag) {
        if (ms.MPI_TAG == TAG_HELLO) {
            MPI_Recv(NULL, 0, MPI_BYTE, ms.MPI_SOURCE, TAG_HELLO, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            m->hellos++;
            give(m, ms.MPI_SOURCE, PREFETCH);
        } else {
            sp_sweep_point p;
            MPI_Recv(&p, (int)sizeof p, MPI_BYTE, ms.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            m->buf[p.index - m->start] = p;
            arrived(m, p.index);
            give(m, ms.MPI_SOURCE, 1);
        }
        handled++;
    }
    flush(m);
    return handled;
}

/* Rank 0 runs two threads: the main thread makes every MPI call (MPI_THREAD_FUNNELED), answering the workers
 * within a nap of 0.1 ms and emitting in order; the second computes points from the same counter. (Answering only
 * between its own points left a worker waiting for rank 0's point to end: measured, 2 ranks ran slower than 1.) */
static sp_status run_master(const sp_sweep *sw, const sp_sweep_run_opts *o, long long start, int size, sp_error *err)
{
    long long n = sw->n - start;
    master m = {sw, o, malloc(sizeof(sp_sweep_point) * (size_t)(n > 0 ? n : 1)), calloc((size_t)(n > 0 ? n : 1), 1),
                start, start, 0, 0, 0, sw_now(), 0};
    sp_sweep_ws *ws = sp_sweep_ws_new();
    sp_status st = !m.buf || !m.have || !ws ? sp_fail(err, SP_ENOMEM, "sweep: out of memory") : SP_OK;
    if (st) {
        m.next = sw->n; /* no point computed here; the workers are told to stop */
        start = sw->n;
    }
    sp_error e2 = {0};
#pragma omp parallel num_threads(2)
    {
#pragma omp master
        while (m.start + m.emitted < sw->n || m.hellos < size - 1)
            if (!serve(&m))
                nap();
        if (omp_get_thread_num() == 1 || omp_get_num_threads() == 1)
            for (long long i; (i = take(&m)) >= 0;) {
                if (sp_sweep_eval(sw, ws, i, &m.buf[i - start], &e2))
                    m.failed = 1, memset(&m.buf[i - start], 0, sizeof m.buf[0]), m.buf[i - start].index = i;
                arrived(&m, i);
            }
    }
    if (!st && m.failed)
        st = sp_fail(err, e2.status ? e2.status : SP_ENOMEM, "%s", e2.msg);
    sw_progress(o, sw->n, sw->n, m.t0, &m.last);
    sp_sweep_ws_free(ws);
    free(m.buf);
    free(m.have);
    return st;
}

/* Sends a result without waiting for rank 0 to take it (it may be inside a long point: a blocking MPI_Send of
 * even a small message waited for it, measured 24 ms per point). Up to PREFETCH sends are in flight, each from
 * its own buffer; a buffer is reused once its send has completed. */
typedef struct {
    sp_sweep_point p[PREFETCH + 1];
    MPI_Request rq[PREFETCH + 1];
    int next;
} outbox;

static void post(outbox *ob, const sp_sweep_point *p)
{
    int k = ob->next, done = 0;
    while (ob->rq[k] != MPI_REQUEST_NULL && MPI_Test(&ob->rq[k], &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        nap();
    ob->p[k] = *p;
    MPI_Isend(&ob->p[k], (int)sizeof *p, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD, &ob->rq[k]);
    ob->next = (k + 1) % (PREFETCH + 1);
}

static sp_status run_worker(const sp_sweep *sw, sp_error *err)
{
    sp_sweep_ws *ws = sp_sweep_ws_new();
    outbox *ob = malloc(sizeof *ob);
    if (!ws || !ob) {
        sp_sweep_ws_free(ws);
        free(ob);
        return sp_fail(err, SP_ENOMEM, "sweep: out of memory");
    }
    for (int k = 0; k <= PREFETCH; k++)
        ob->rq[k] = MPI_REQUEST_NULL;
    ob->next = 0;
    long long q[PREFETCH + 1];
    int nq = 0, owed = PREFETCH, stop = 0, flag = 0;
    MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_HELLO, MPI_COMM_WORLD);
    sp_status st = SP_OK;
    for (;;) {
        while (owed > 0) { /* take answers: wait (napping) only when no point is in hand */
            MPI_Iprobe(0, TAG_WORK, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
            if (!flag && nq > 0)
                break;
            if (!flag) {
                nap();
                continue;
            }
            long long i;
            MPI_Recv(&i, 1, MPI_LONG_LONG, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            owed--;
            if (i < 0)
                stop = 1;
            else
                q[nq++] = i;
        }
        if (nq == 0 && stop && owed == 0)
            break;
        if (nq == 0)
            continue;
        long long i = q[0];
        memmove(q, q + 1, sizeof *q * (size_t)--nq);
        sp_sweep_point p;
        if (!st)
            st = sp_sweep_eval(sw, ws, i, &p, err);
        if (st) /* internal failure (out of memory): still answer, so that rank 0 finishes */
            memset(&p, 0, sizeof p), p.index = i, p.status = SP_PT_INVALID;
        post(ob, &p);
        owed++;
    }
    MPI_Waitall(PREFETCH + 1, ob->rq, MPI_STATUSES_IGNORE);
    free(ob);
    sp_sweep_ws_free(ws);
    return st;
}

sp_status sp_sweep_run_mpi(const sp_sweep *sw, const sp_sweep_run_opts *o, sp_error *err)
{
    int rank, size, up = 0;
    MPI_Initialized(&up);
    if (!up) /* not started by mpirun (sp_sweep_mpi_init not called): one process */
        return o->start < 0 ? sp_fail(err, SP_EINVAL, "sweep: stopped") : sp_sweep_run(sw, o, err);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long long start = o->start;
    MPI_Bcast(&start, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    if (start < 0)
        return sp_fail(err, SP_EINVAL, "sweep: stopped by rank 0");
    if (size == 1)
        return sp_sweep_run(sw, o, err);
    return rank == 0 ? run_master(sw, o, start, size, err) : run_worker(sw, err);
}

#else /* built without MPI: one process */

int sp_sweep_mpi_available(void) { return 0; }

sp_status sp_sweep_mpi_init(int *argc, char ***argv, int *rank, int *size, sp_error *err)
{
    (void)argc, (void)argv, (void)err;
    *rank = 0;
    *size = 1;
    return SP_OK;
}

void sp_sweep_mpi_finalize(void) {}

sp_status sp_sweep_run_mpi(const sp_sweep *sw, const sp_sweep_run_opts *o, sp_error *err)
{
    if (o->start < 0)
        return sp_fail(err, SP_EINVAL, "sweep: stopped");
    return sp_sweep_run(sw, o, err);
}
#endif
