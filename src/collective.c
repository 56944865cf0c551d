/* Collectives on network tiers (DESIGN.md §3.4, docs/model.md "Collectives"): NCCL's algorithms priced the way its
 * tuner prices them (NVIDIA/nccl src/graph/tuning.cc: time = latency + bytes / algorithm bandwidth, the cheapest
 * algorithm wins).
 *
 * Placement. Ranks are numbered TP innermost, then CP, EP, DP, PP. A group of p ranks at stride `stride` covers a
 * block of p·stride ranks; it lives in the innermost tier whose domain holds that block (whether or not the block
 * divides the domain: a 72-GPU NVLink domain holds four 16-GPU blocks and leaves 8 GPUs to another job). A group
 * that spans domains has q members in each domain of the tier inside: the largest divisor of p whose block q·stride
 * fits the domain (a 128-GPU group on 72-GPU domains: 64 per domain, NVIDIA's Slurm block-scheduling advice for
 * GB200 NVL72: segments of 16 trays = 64 GPUs per rack for large jobs).
 *
 * Algorithms, for a group spanning tiers 0..T (T = 0: one domain):
 *  - ring (every collective): NCCL builds one ring per channel and stripes the channels over all the NICs of a node
 *    (one NIC per GPU on rail-optimised fabrics), so each ring crosses every domain boundary once and the ring's bus
 *    bandwidth is the slowest of: the scale-up link of one GPU (bw_0·eff_0) and, for each tier j >= 1 the group
 *    crosses, the aggregate of the q_{j-1} members of one inner domain on that tier (q_{j-1}·bw_j·eff_j). Time
 *    steps·(p−1)/p · M / busbw + steps·Σ hops·α (NCCL: (nsteps − nInterSteps)·intraLat + nInterSteps·interLat).
 *  - tree: all-reduce only (NCCL has no tree for reduce-scatter / all-gather): NCCL's pipelined double binary tree
 *    across domains with a chain inside, algorithm bandwidth 0.92·busbw/2 (tuning.cc: busBw·.92, ratio .5), latency
 *    2·((q_0 − 1)·α_0 + Σ_j ceil(log2(domains of j))·α_j). Inside one domain a switch lets the tree be log-deep:
 *    2·ceil(log2 p)·α_0 (the model before this change; it stands for NCCL's tree and NVLS there).
 *    Reduce-scatter / all-gather across domains with one rank per domain use PAT (NCCL 2.23+: log-depth, 1 GPU per
 *    node only): (p−1)/p·M/busbw + ceil(log2 p)·α_T.
 *  - in-network reduction (all-reduce, where a tier declares `sharp_eff` > 0: NVLink SHARP / NVLS on NVSwitch 3+,
 *    InfiniBand SHARP on Quantum-2 switches): the switch adds the contributions, so each GPU sends and receives its
 *    buffer once on that tier instead of 2(p−1)/p times: M·(1 + 1/p) / (bw·sharp_eff) inside one domain (NCCL's
 *    nvlsEfficiency: 0.85 Hopper, 0.74 Blackwell); across domains the reduced tier carries M/q_{j-1} per member
 *    once while the other tiers run as in the ring.
 * All-to-all: the (q−1)/p of the data that stays inside a domain and the (p−q)/p that crosses the outer tier (each
 * member on its own NIC) move at once; the slower sets the time. Point-to-point: bytes/bw + α of the tier that holds
 * both ends.
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

/* Members of a group of p ranks at `stride` that one domain of `size` ranks holds when the group spans domains:
 * the largest divisor q of p with q·stride <= size (1 when even two members do not fit). */
int sp_domain_members(int size, int p, int stride)
{
    if (stride < 1)
        stride = 1;
    int cap = size / stride;
    if (cap >= p)
        return p;
    for (int q = cap; q > 1; q--)
        if (p % q == 0)
            return q;
    return 1;
}

/* NCCL's tree reaches 0.92 of the ring's bus bandwidth (tuning.cc: tree busBw = min(busBw * .92, per-channel cap)) */
#define TREE_BW 0.92

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

/* Share of a torus tier's per-accelerator bandwidth a group of p ranks at `stride` can use: the axes it spans over all
 * the axes. A TPU chip has two ICI links (one each way round the ring) on every torus axis, and a collective along
 * an axis moves data over that axis's links only, so a group confined to one axis of a 3D torus drives 2 of the
 * chip's 6 links and one spanning two axes 4 of 6 (Google Cloud TPU v5p documentation: 3D torus, full wraparound
 * for slices of 4x4x4 and larger; Austin et al., "How to Scale Your Model", 2025, ch. 3: an all-gather over k
 * axes of a torus has k times the bandwidth of one over a single axis). Ranks fill the axes in the order the tier
 * lists them; the group varies along axis j when it reaches past the axes inside j (stride·(p-1) >= their
 * product) and does not skip j whole (stride not a multiple of the product up to j). 1 for a tier that is not a
 * torus. */
static double torus_share(const sp_tier *t, double p, int stride)
{
    int n = 0, spanned = 0;
    double inner = 1, reach = (double)stride * (p - 1);
    for (; n < SP_TORUS_DIMS && t->torus[n] > 0; n++) {
        double outer = inner * t->torus[n];
        if (reach >= inner && fmod((double)stride, outer) != 0)
            spanned++;
        inner = outer;
    }
    if (n == 0 || p <= 1)
        return 1;
    return (spanned > 0 ? spanned : 1) / (double)n;
}

/* One flat phase among p ranks inside one domain of tier t. steps: 2 for all-reduce, 1 for RS/AG. The cheaper of the
 * ring and a log-deep tree; an all-reduce also in-switch when the tier reduces in the network. share: the part of
 * the tier's bandwidth the group's links carry (torus_share). */
static double flat(const sp_tier *t, double p, double bytes, double steps, double share)
{
    if (p <= 1 || bytes <= 0)
        return 0;
    double bw = t->bw * t->eff * share;
    double ring = steps * (p - 1) / p * bytes / bw + steps * (p - 1) * t->latency_s;
    double tree = steps * bytes / bw + steps * ceil_log2(p) * t->latency_s;
    double best = ring < tree ? ring : tree;
    if (steps == 2 && t->sharp_eff > 0) {
        double nvls = (1 + 1 / p) * bytes / (t->bw * t->sharp_eff) + 2 * t->latency_s;
        best = nvls < best ? nvls : best;
    }
    return best;
}

/* The tiers a group spanning tiers 0..top crosses: q[j] = its members inside one domain of tier j (q[top] = p). */
typedef struct {
    int top;
    double q[SP_MAX_TIERS];
    double share0; /* torus_share of the q[0] members inside one domain of tier 0 */
} span_t;

static void span_fill(const sp_system *s, int p, int stride, int top, span_t *g)
{
    g->top = top;
    for (int j = 0; j < top; j++)
        g->q[j] = sp_domain_members(s->tier[j].size, p, stride);
    g->q[top] = p;
    g->share0 = s->tier[0].torus[0] > 0 ? torus_share(&s->tier[0], g->q[0], stride) : 1;
}

/* Ring bus bandwidth of a group over tiers 0..top, tier `reduced` (>= 1) carrying the in-network reduction (its
 * members send each byte once, not 2(p−1)/p times: its bandwidth counts 2(p−1)/p ÷ (1 + 1/q) more); reduced = 0:
 * none. */
static double ring_busbw(const sp_system *s, const span_t *g, double p, int reduced)
{
    double bw = g->q[0] > 1 ? s->tier[0].bw * s->tier[0].eff * g->share0 : INFINITY;
    for (int j = 1; j <= g->top; j++) {
        if (g->q[j] <= g->q[j - 1])
            continue; /* the group does not cross this tier's boundaries */
        const sp_tier *t = &s->tier[j];
        double b = g->q[j - 1] * t->bw * t->eff;
        if (j == reduced)
            b = g->q[j - 1] * t->bw * t->sharp_eff * 2 * (p - 1) / p;
        if (b < bw)
            bw = b;
    }
    return bw;
}

/* Collective across tiers 0..top (top >= 1): the cheapest of NCCL's algorithms (header). */
static double spanning(const sp_system *s, sp_coll kind, double p, double bytes, const span_t *g)
{
    double steps = kind == SP_COLL_ALLREDUCE ? 2.0 : 1.0;
    double busbw = ring_busbw(s, g, p, 0);
    /* ring hops whose outermost crossed boundary is tier j: p/q_{j-1} − p/q_j of the p hops (tier 0: p − p/q_0; the
     * top tier: all p/q_{top-1} that leave a domain of the tier inside) */
    double lat = 0, tree_lat = 0;
    for (int j = 0; j <= g->top; j++) {
        double inner = j == 0 ? 1 : g->q[j - 1];
        double hops = p / inner - (j < g->top ? p / g->q[j] : 0);
        lat += hops * s->tier[j].latency_s;
        double fan = g->q[j] / inner; /* domains of tier j-1 (members, for j = 0) in one domain of tier j */
        tree_lat += (j == 0 ? fan - 1 : ceil_log2(fan)) * s->tier[j].latency_s;
    }
    double best = steps * (p - 1) / p * bytes / busbw + steps * lat * (p - 1) / p;
    if (kind == SP_COLL_ALLREDUCE) {
        double tree = 2 * bytes / (TREE_BW * busbw) + 2 * tree_lat;
        best = tree < best ? tree : best;
        for (int j = 1; j <= g->top; j++)
            if (s->tier[j].sharp_eff > 0 && g->q[j] > g->q[j - 1]) {
                double in_net = 2 * (p - 1) / p * bytes / ring_busbw(s, g, p, j) + 2 * tree_lat;
                best = in_net < best ? in_net : best;
            }
    } else if (g->q[g->top - 1] <= 1) { /* PAT: one rank per domain */
        double pat = (p - 1) / p * bytes / busbw + ceil_log2(p) * s->tier[g->top].latency_s;
        best = pat < best ? pat : best;
    }
    return best;
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
        const sp_tier *t = &s->tier[sp_group_tier(s, 2, stride)];
        return bytes / (t->bw * t->eff) + t->latency_s;
    }
    if (ti == 0)
        return flat(outer, p, bytes, kind == SP_COLL_ALLREDUCE ? 2.0 : 1.0,
                    outer->torus[0] > 0 ? torus_share(outer, p, stride) : 1);
    span_t g;
    span_fill(s, p, stride, ti, &g);
    if (kind == SP_COLL_ALLTOALL) {
        /* (q-1)/p of the data stays inside the domain, the rest crosses the outer tier */
        const sp_tier *inner = &s->tier[ti - 1];
        double q = g.q[ti - 1], nodes = p / q;
        double in = bytes * (q - 1) / p, out = bytes * (p - q) / p;
        double t_in = q > 1 ? in / (inner->bw * inner->eff) + (q - 1) * inner->latency_s : 0;
        double t_out = out / (outer->bw * outer->eff) + (nodes - 1) * outer->latency_s;
        return t_in > t_out ? t_in : t_out;
    }
    return spanning(s, kind, p, bytes, &g);
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
    double q = sp_domain_members(in->size, p, stride);
    double nodes = p / q;
    double t_out = bytes * cross * ((nodes - 1) / nodes) / (out->bw * out->eff) + (nodes - 1) * out->latency_s;
    double t_in = bytes * (q - 1) / q / (in->bw * in->eff) + (q - 1) * in->latency_s;
    return t_out > t_in ? t_out : t_in;
}

/* Share of the SMs an overlapped collective takes from the compute it overlaps (docs/model.md): the accelerator's
 * communication CTAs over its SMs; 0 where communication does not run on the compute units. */
double sp_comm_sm_share(const sp_accel *a)
{
    if (a->eff.comm_sms <= 0 || a->n_sm <= 0)
        return 0;
    double f = a->eff.comm_sms / a->n_sm;
    return f < 1 ? f : 1;
}
