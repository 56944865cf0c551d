/* Collectives on network tiers (DESIGN.md §3.4).
 *
 * Ranks are numbered TP innermost, then CP, EP, DP, PP. A group of p ranks at stride `stride` covers a block
 * of p·stride consecutive ranks; it lives in the innermost tier whose domain holds that block. A group that
 * spans domains: an all-reduce runs hierarchically (NCCL's tree/hierarchical algorithms): the q members inside
 * one domain reduce-scatter over the fast tier, the p/q domains all-reduce 1/q of the data over the slow tier
 * (each member on its own NIC, in parallel), then the domain all-gathers. Reduce-scatter and all-gather have only
 * the ring algorithm in NCCL (before 2.23's PAT): they are modelled as one ring over all p ranks at the slow
 * tier's per-accelerator bandwidth. This is what the measured runs show: the ZeRO-3/FSDP rows that span nodes
 * (Narayanan et al. 2021's DeepSpeed baseline, MosaicML's 16-128-GPU runs) match a ring at one NIC per GPU, not
 * the NVLink-aggregated bound (docs/model.md, docs/validation.md). Each phase takes the cheaper of ring
 * (bandwidth-optimal, latency (p-1)·alpha) and tree (about log2 p latency steps).
 */
#include "internal.h"

#include <math.h>

int sp_group_tier(const sp_system *s, int p, int stride)
{
    double span = (double)p * stride;
    for (int i = 0; i < s->n_tiers - 1; i++)
        if (span <= s->tier[i].size)
            return i;
    return s->n_tiers - 1;
}

/* ceil(log2(p)) for p >= 1: a bit count for whole numbers below 2^31 (the same value libm gives: log2 is exact at
 * powers of two and at least 1e-9 away from an integer elsewhere in that range), libm otherwise */
static double ceil_log2(double p)
{
    if (p < 2147483648.0 && p == (double)(long long)p) {
        unsigned long long n = (unsigned long long)p - 1;
        return n ? 64 - __builtin_clzll(n) : 0;
    }
    return ceil(log2(p));
}

/* One flat phase among p ranks on tier t. steps: 2 for all-reduce, 1 for RS/AG/A2A. */
static double flat(const sp_tier *t, double p, double bytes, double steps)
{
    if (p <= 1 || bytes <= 0)
        return 0;
    double bw = t->bw * t->eff;
    double ring = steps * (p - 1) / p * bytes / bw + steps * (p - 1) * t->latency_s;
    double tree = steps * bytes / bw + steps * ceil_log2(p) * t->latency_s;
    return ring < tree ? ring : tree;
}

double sp_collective_time(const sp_system *s, sp_coll kind, int p, int stride, double bytes)
{
    if (p <= 1 || bytes <= 0)
        return 0;
    if (stride < 1)
        stride = 1;
    int ti = sp_group_tier(s, p, stride);
    const sp_tier *outer = &s->tier[ti];
    if (kind == SP_COLL_P2P) {
        /* p2p between neighbours `stride` apart: crosses the tier holding two members */
        int t2 = sp_group_tier(s, 2, stride);
        const sp_tier *t = &s->tier[t2];
        return bytes / (t->bw * t->eff) + t->latency_s;
    }
    double steps = kind == SP_COLL_ALLREDUCE ? 2.0 : 1.0;
    if (ti == 0)
        return flat(outer, p, bytes, steps);
    /* members of the group inside one domain of the next-inner tier */
    const sp_tier *inner = &s->tier[ti - 1];
    double q = inner->size / (double)stride;
    if (q < 1)
        q = 1;
    if (q > p)
        q = p;
    double nodes = p / q;
    if (kind == SP_COLL_ALLTOALL) {
        /* (q-1)/p of the data stays inside the domain, the rest crosses the outer tier */
        double in = bytes * (q - 1) / p, out = bytes * (p - q) / p;
        double t_in = q > 1 ? in / (inner->bw * inner->eff) + (q - 1) * inner->latency_s : 0;
        double t_out = out / (outer->bw * outer->eff) + (nodes - 1) * outer->latency_s;
        return t_in > t_out ? t_in : t_out;
    }
    if (q <= 1)
        return flat(outer, p, bytes, steps);
    /* hierarchical: RS inside (q), collective across (nodes) on bytes/q, AG inside */
    double t = 0;
    if (kind == SP_COLL_ALLREDUCE) {
        t += flat(inner, q, bytes, 1) * 2;
        t += flat(outer, nodes, bytes / q, 2);
    } else {
        t += flat(outer, p, bytes, 1);
    }
    return t;
}

/* All-to-all under node-limited routing (DeepSeek-V3 §2.1.2 / DeepEP; HF `topk_group`): each token's k copies go to
 * experts on at most topk_group nodes, so it crosses the outer tier once per destination node (`cross` = the share
 * of the bytes that crosses: min(k, topk_group)/k) and fans out to its k experts over the scale-up tier of the
 * destination: the inner part carries (q-1)/q of all k copies, q = the group's members in one domain. The slower
 * of the two sets the time. With cross >= 1, inside one domain, or for another collective: sp_collective_time. */
double sp_collective_time_cross(const sp_system *s, sp_coll kind, int p, int stride, double bytes, double cross)
{
    int ti = kind == SP_COLL_ALLTOALL && cross < 1 ? sp_group_tier(s, p, stride) : 0;
    if (ti == 0)
        return sp_collective_time(s, kind, p, stride, bytes);
    const sp_tier *in = &s->tier[ti - 1], *out = &s->tier[ti];
    double q = in->size / (double)stride;
    if (q > p)
        q = p;
    double nodes = p / q;
    double t_out = bytes * cross * ((nodes - 1) / nodes) / (out->bw * out->eff) + (nodes - 1) * out->latency_s;
    double t_in = bytes * (q - 1) / q / (in->bw * in->eff) + (q - 1) * in->latency_s;
    return t_out > t_in ? t_out : t_in;
}
