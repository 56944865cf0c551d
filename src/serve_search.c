/* Serving at SLOs: the highest request rate whose P99 TTFT and TPOT meet the SLOs (docs/serving.md "Max rate").
 * The rate is bisected between a rate the deployment serves within the SLOs and its offline throughput (all
 * requests at t = 0: no open-loop rate can complete more requests per second); every run uses the same seed, so
 * the same requests arrive in the same order and only the time scale changes, which keeps the bisection monotone
 * up to the queueing noise of a finite run. */
#include "scaleplan.h"

#include <math.h>
#include <string.h>

#define BISECT_STEPS 10 /* rate known within 2^-10 of the bracket: far below run-to-run noise */

static sp_status at_rate(const sp_model *m, const sp_system *s, const sp_serve_workload *w, const sp_serve_opts *o,
                         double rate, sp_serve_result *r, sp_error *err)
{
    sp_serve_opts x = *o;
    x.rate = rate;
    x.keep_requests = 0;
    return sp_serve_simulate(m, s, w, &x, r, err);
}

sp_status sp_serve_max_rate(const sp_model *m, const sp_system *s, const sp_serve_workload *w, const sp_serve_opts *o,
                            sp_serve_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    double ts = o->ttft_slo_s > 0 ? o->ttft_slo_s : w->ttft_slo_s, ps = o->tpot_slo_s > 0 ? o->tpot_slo_s : w->tpot_slo_s;
    if (w->arrival != SP_ARR_POISSON && w->arrival != SP_ARR_GAMMA)
        return sp_fail(err, SP_EINVAL, "serve: --max-rate needs open-loop arrivals (poisson or gamma); the workload's are %s",
                       w->arrival == SP_ARR_OFFLINE ? "offline (its throughput is the result)" : "closed-loop or a trace");
    if (!(ts > 0) && !(ps > 0))
        return sp_fail(err, SP_EINVAL, "serve: --max-rate needs SLOs (--ttft-p99, --tpot-p99 or a workload scenario with them)");
    sp_serve_workload off = *w;
    off.arrival = SP_ARR_OFFLINE;
    sp_serve_result tmp;
    sp_status rc = at_rate(m, s, &off, o, 1, &tmp, err);
    if (rc)
        return rc;
    /* The offline rate in requests: its output tokens/s over the mean output per request. Not the requests completed
     * in its full-engine window: with a few hundred sequences per engine in flight, the requests still running at
     * the window's end hold a large share of its tokens, and that count undershoots the rate by up to 2x. 1.5 x:
     * the offline estimate of a finite run is not exact. */
    double off_rate = tmp.output_tokens_mean > 0 ? tmp.throughput_tokens_per_s / tmp.output_tokens_mean : 0;
    double hi = 1.5 * (off_rate > 0 ? off_rate : tmp.requests_per_s), lo = hi / 96;
    if ((rc = at_rate(m, s, w, o, lo, &tmp, err)))
        return rc;
    if (!tmp.slo_met) {
        char a[40] = "no SLO", b[40] = "no SLO"; /* an SLO not given is none, not "SLO 0 s" */
        if (ts > 0)
            snprintf(a, sizeof a, "SLO %.3g s", ts);
        if (ps > 0)
            snprintf(b, sizeof b, "SLO %.3g s", ps);
        return sp_fail(err, SP_EINVAL,
                       "serve: the SLOs are not met even at %.3g requests/s (1/64 of the offline rate): P99 TTFT %.3g s (%s), P99 TPOT %.3g s (%s)",
                       lo, tmp.ttft_s[2], a, tmp.tpot_s[2], b);
    }
    *r = tmp;
    int steps = o->bisect_steps > 0 ? o->bisect_steps : BISECT_STEPS;
    for (int i = 0; i < steps; i++) {
        double mid = sqrt(lo * hi);
        if ((rc = at_rate(m, s, w, o, mid, &tmp, err)))
            return rc;
        if (tmp.slo_met) {
            lo = mid;
            *r = tmp;
        } else
            hi = mid;
    }
    if (o->keep_requests) {
        sp_serve_opts x = *o;
        x.rate = lo;
        return sp_serve_simulate(m, s, w, &x, r, err);
    }
    return SP_OK;
}
