/* scaleplan limits: how far training scales before data movement and latency stop it (Erdil &
 * Schneider-Joseph 2024). --mode epoch2024 reproduces the paper's model; --mode full (default) asks the same
 * question with scaleplan's training model and plan search (src/limits_full.c). The library parses the request,
 * runs the sweeps and builds the JSON (sp_limits_run, sp_limits_json: src/limits_json.c); this file prints that
 * JSON for --json and formats the text report, the CSV, the waterfall table and the plot from the same report. */
#include "cli.h"
#include "plot.h"
#include "scaleplan_limits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"mode", 1, "full (scaleplan's training model and plan search on a system preset) | epoch2024 (the paper's model) [full]"},
    {"gpu", 1, "h100 | a100 | v100 (full mode: also h800, h200, b200, mi300x or any system preset, e.g. dgx-b200) | h100-low-latency | h100-global-nvlink | h100-global-nvlink-ll | h100-infinite-ll | h100-superpod | a preset of data/epoch_gpus | FILE.json [h100]"},
    {"compare", 1, "settings side by side, comma separated: GPU[+moe|+dense|+ll|+flat|+lat=X|+bw=X|+batch=RULE|+shape=fat:K|+dur=T], full mode also +zb|+paperlat|+noattn|+tokmb=T (the paper's idealisations), or 'paper' (the 16 settings of the paper)"},
    {"duration", 1, "training duration [0.25 y of 3.154e7 s, the paper's 3 months]"},
    {"from", 1, "smallest training compute to report [6e24: the paper's sweep]"},
    {"to", 1, "largest training compute to sweep [until the latency wall]"},
    {"dense", 0, "dense models (default)"},
    {"moe", 0, "sparse (MoE) models: sparsity grows with width (8 experts at d_model 12288)"},
    {"batch-rule", 1, "epoch | kaplan | deepseek | fixed:TOKENS [epoch]"},
    {"shape", 1, "epoch | fat:K (K times fewer layers: shorter and fatter) [epoch]"},
    {"latency-scale", 1, "multiply kernel and network latencies by X [1]"},
    {"bandwidth-scale", 1, "multiply network bandwidths by X, or 'inf' [1]"},
    {"flat-network", 0, "one network level at NVLink bandwidth (no InfiniBand)"},
    {"threads", 1, "threads across settings (full mode with one setting: threads of its plan searches) [all]"},
    {"grad-bytes", 1, "full mode: bytes per gradient held in memory, 2 (bf16 grads) or 4 (fp32 main grads, Megatron) [4]; reduced in 16-bit either way"},
    {"kv-heads", 1, "full mode: key/value heads of the swept models (GQA; 0 = as many as query heads) [8]"},
    {"software", 1, "full mode: training stack of every plan (data/software, e.g. megatron-core, torchtitan): its kernels, the features it has, its defaults, as search --software; every --compare setting runs it [none: the plan search's defaults]"},
    {"json", 0, "machine-readable output"},
    {"csv", 0, "one CSV row per point"},
    {"waterfall", 0, "full mode: switch on the paper's idealisations one at a time (zero bubble, its latencies, no attention, token micro-batches, one NVLink network) and print the waterfall (markdown)"},
    {"plot", 1, "utilization vs training compute to FILE.svg or FILE.png"},
};

#define MO_PER_S (12 / 3.154e7) /* the paper's month: a twelfth of its 3.154e7 s year */

static const char *const waterfall_what[] = {
    "full mode (1F1B / interleaved pipelines, real latencies, attention, whole-sequence micro-batches, InfiniBand)",
    "+ zero-bubble pipeline (ZB-H2: no fill/drain bubble)",
    "+ the paper's latencies (1.125 us per hop, 4.5 us per kernel)",
    "+ no attention (MLP-only layers, as the paper's)",
    "+ token-level micro-batches (128 tokens)",
    "+ one NVLink-bandwidth network (DP and TP reductions over the scale-up fabric)"};

/* Why a point is beyond the physical world: more accelerators than exist, more power than any site. Reference
 * values: ~4e6 H100-class accelerators in service by 2025 (Sevilla et al. 2024: 1.5-2M H100 shipped in 2024,
 * with 2023's and the A100s), 5 GW for the largest single campus planned for 2030 (Sevilla et al. 2024), 1.7 kW
 * per H100 all-in (ibid.). */
static const char *beyond(double n_gpus, char *buf, size_t n)
{
    double gw = n_gpus * 1700 / 1e9;
    snprintf(buf, n, "%s%s%s", n_gpus > 4e6 ? "more GPUs than exist (~4e6)" : "", n_gpus > 4e6 && gw > 5 ? "; " : "",
             gw > 5 ? "more power than any site (5 GW)" : "");
    if (!buf[0])
        snprintf(buf, n, "-");
    return buf;
}

static void print_waterfall(const sp_limits_report *R)
{
    const sp_limits_setting *runs = R->set;
    int nr = R->n;
    printf("| step | linear-regime end (FLOP) | x | wall: largest feasible run (FLOP) | x | binding there | GPUs there | beyond |\n");
    printf("|---|---:|---:|---:|---:|---|---:|---|\n");
    for (int i = 0; i < nr; i++) {
        const sp_limits_setting *r = &runs[i];
        const sp_limits_full_point *last = r->n > 0 ? &r->fpts[r->n - 1] : NULL;
        double le = r->sum.linear_regime_end_flop, wl = r->sum.largest_feasible_flop;
        double ple = i ? runs[i - 1].sum.linear_regime_end_flop : 0, pwl = i ? runs[i - 1].sum.largest_feasible_flop : 0;
        char b[160], what[256];
        /* the first step names the training stack every step runs (--software), as the settings' labels do */
        snprintf(what, sizeof what, "%s%s%s", i < 6 ? waterfall_what[i] : r->name, i == 0 && R->have_software ? ", software " : "",
                 i == 0 && R->have_software ? R->software.name : "");
        printf("| %s | %.3g | %s%.3g | %.3g%s | %s%.3g | %s | %.3g | %s |\n", what, le,
               i ? "x" : "", i && ple > 0 ? le / ple : 1, wl,
               r->sum.stop == SP_EPOCH_STOP_CLUSTER_CAP ? " (2^30-GPU cap)" : "", i ? "x" : "", i && pwl > 0 ? wl / pwl : 1,
               last ? last->binding : "-", last ? last->n_gpus : NAN, last ? beyond(last->n_gpus, b, sizeof b) : "-");
    }
    const sp_limits_setting *p = &runs[0], *q = &runs[nr - 1];
    if (p->set.gpu.n_levels > 0) {
        const sp_epoch_point *lp = p->esum.n_points > 0 ? &p->pts[p->esum.n_points - 1] : NULL;
        char b[160], x1[32] = "-", x2[32] = "-"; /* a ratio to a value the sweep never reached (0) is no number */
        if (p->esum.linear_regime_end_flop > 0 && q->sum.linear_regime_end_flop > 0)
            snprintf(x1, sizeof x1, "x%.3g", p->esum.linear_regime_end_flop / q->sum.linear_regime_end_flop);
        if (p->esum.largest_feasible_flop > 0 && q->sum.largest_feasible_flop > 0)
            snprintf(x2, sizeof x2, "x%.3g", p->esum.largest_feasible_flop / q->sum.largest_feasible_flop);
        printf("| the paper's model (--mode epoch2024) | %.3g | %s | %.3g | %s | %s | %.3g | %s |\n",
               p->esum.linear_regime_end_flop, x1, p->esum.largest_feasible_flop, x2,
               lp ? lp->binding : "-", lp ? lp->n_gpus : NAN, lp ? beyond(lp->n_gpus, b, sizeof b) : "-");
    }
}


/* The summary lines under a setting's table (both modes). */
/* Points past a million GPUs are arithmetic on the model, not plans anyone could build: said so, with the
 * scale of the largest clusters (xAI Colossus: 100,000 H100 in 2024, 200,000 GPUs announced in 2025) and the
 * power such a count would draw at ~1 kW per H100 with its host share and PUE (docs/energy.md's activity model
 * gives 0.9-1.2 kW per GPU at these utilizations). */
static void scale_note(double most_gpus)
{
    if (most_gpus <= 1e6)
        return;
    printf("  physical scale: points past 1e6 GPUs (here up to %.3g) are extrapolations of the model, not plans: the\n"
           "  largest clusters built hold ~1e5-2e5 GPUs (xAI Colossus, 2024-25), and 1e8 GPUs at ~1 kW each would draw\n"
           "  ~100 GW, about a tenth of the US grid's generating capacity\n", most_gpus);
}

static void print_summary_text(const sp_limits_report *R, const sp_limits_setting *r)
{
    char why[256];
    const char *e = sp_limits_empty_reason(R, r, why, sizeof why);
    if (e)
        printf("  %s\n", e);
    printf("\n  maximum utilization%s %.3f; linear regime ends (U <= 0.8 x max) at ", R->full ? " (MFU)" : "", r->sum.max_utilization);
    if (r->sum.linear_regime_end_flop > 0)
        printf("%.3g FLOP\n", r->sum.linear_regime_end_flop);
    else
        printf("(not reached in the sweep)\n");
    if (r->sum.stop == SP_EPOCH_STOP_WALL && r->sum.largest_feasible_flop > 0)
        printf("  latency wall: largest feasible run %.3g FLOP; nothing finishes in time at %.3g FLOP\n",
               r->sum.latency_wall_flop, r->sum.first_infeasible_flop);
    else if (r->sum.stop == SP_EPOCH_STOP_WALL)
        printf("  latency wall: below the sweep (nothing finishes in time at %.3g FLOP)\n", r->sum.first_infeasible_flop);
    else if (r->sum.stop == SP_EPOCH_STOP_UTIL)
        printf("  latency wall: largest feasible run %.3g FLOP (utilization fell below 0.001: the paper stops there)\n",
               r->sum.latency_wall_flop);
    else if (r->sum.stop == SP_EPOCH_STOP_CLUSTER_CAP)
        printf("  latency wall: not reached; the sweep stops after %.3g FLOP because larger runs need more than %s GPUs, "
               "which the %s does not represent\n", r->sum.largest_feasible_flop, R->full ? "2^30" : "1.4e17",
               R->full ? "plan search" : "model");
    else if (r->sum.largest_feasible_flop > 0)
        printf("  latency wall: beyond the swept range (the largest run swept, %.3g FLOP, still finishes)\n",
               r->sum.largest_feasible_flop);
}

static const char *rc_short(sp_recompute r) { return r == SP_RECOMPUTE_FULL ? "full" : r == SP_RECOMPUTE_SELECTIVE ? "sel" : "none"; }

/* --csv: one row per point of every setting (the paper's model: the columns docs/make_limits_validation.sh
 * reads); settings without points say why on stderr. */
static void print_full_row(const sp_limits_report *R, const sp_limits_setting *r, const sp_limits_full_point *p)
{
    const sp_plan *q = &p->plan;
    const sp_time_breakdown *t = &p->res.t;
    printf("\"%s\",%.4e,%.0f,%d,%d,%d,%d,%.4e,%.4e,%.4e,%.4e,%.3f,%.4f,%.4e,%d,%d,%d,%d,%d,%d,%d,%s,%d,%d,"
           "%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.4e,%.4e,%s,%s\n",
           r->name, p->compute_flop, p->d_model, p->layers, p->heads, p->kv_heads, p->experts, p->params,
           p->active_params, p->tokens, p->batch_tokens, p->months, p->utilization, p->n_gpus, q->tp, q->cp,
           q->pp, q->vpp, q->dp, q->ep, q->micro_batch, sp_recompute_name(q->recompute), q->seq_parallel, q->zero,
           p->step_time_s, t->compute, t->memory_bound, t->tp_comm, t->cp_comm, t->ep_comm, t->pp_comm,
           t->dp_comm, t->bubble, t->optimizer, t->imbalance, p->latency_s, p->res.mem.total, p->gpu_hours,
           p->binding, R->have_software ? R->software.name : "");
}

static void print_epoch_row(const sp_limits_setting *r, const sp_epoch_point *p, const sp_limits_energy *e)
{
    const sp_epoch_split *s = &p->split;
    printf("\"%s\",%.4e,%.0f,%d,%d,%.4e,%.4e,%.3f,%.4f,%.4e,%d,%d,%d,%d,%d,%d,%d,%d,%.3f,%.3f,%.3f,%.3f,"
           "%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.4e,%s,%.4e,%.4e,%.4e\n",
           r->name, p->compute_flop, p->d_model, p->layers, p->sparsity, p->params, p->batch_tokens, p->months,
           p->utilization, p->n_gpus, p->tp_model, p->tp_ff, p->pp, p->interleave, p->zero_bubble, p->dp, p->ep,
           p->microbatches, p->tp_comm_s * MO_PER_S, p->pp_comm_s * MO_PER_S, p->dp_comm_s * MO_PER_S,
           p->latency_s * MO_PER_S, s->batch_s, s->compute, s->derate, s->data_move, s->kernel_lat, s->net_bw,
           s->bubble, s->net_lat, s->dp_bw, s->dp_lat, p->gpu_hours, p->binding, e->mwh, e->co2e_t, e->cloud_usd);
}

static void print_csv(const sp_limits_report *R)
{
    if (R->full)
        printf("setting,compute_flop,d_model,layers,heads,kv_heads,experts,params,active_params,tokens,batch_tokens,months,"
               "utilization,n_gpus,tp,cp,pp,vpp,dp,ep,micro_batch,recompute,seq_parallel,zero,step_s,compute_s,memory_bound_s,"
               "tp_comm_s,cp_comm_s,ep_comm_s,pp_comm_s,dp_comm_s,bubble_s,optimizer_s,imbalance_s,latency_s,"
               "memory_per_gpu_bytes,gpu_hours,binding,software\n");
    else
        printf("setting,compute_flop,d_model,layers,sparsity,params,batch_tokens,months,utilization,n_gpus,tp_model,tp_ff,pp,"
               "interleave,zero_bubble,dp,ep,microbatches,tp_comm_months,pp_comm_months,dp_comm_months,latency_months,"
               "batch_s,compute_s,derate_s,data_movement_s,kernel_latency_s,net_bandwidth_s,bubble_s,net_latency_s,"
               "dp_bandwidth_s,dp_latency_s,gpu_hours,binding,energy_mwh,co2e_t,cloud_cost_usd\n");
    for (int i = 0; i < R->n; i++)
        for (int k = 0; k < R->set[i].n; k++) {
            if (R->full)
                print_full_row(R, &R->set[i], &R->set[i].fpts[k]);
            else
                print_epoch_row(&R->set[i], &R->set[i].pts[k], &R->set[i].energy[k]);
        }
    char why[256];
    for (int i = 0; i < R->n; i++) {
        const char *e = sp_limits_empty_reason(R, &R->set[i], why, sizeof why);
        if (e)
            fprintf(stderr, "scaleplan limits: %s: %s\n", R->set[i].name, e);
    }
}

static void print_full_text(const sp_limits_report *R)
{
    const sp_limits_setting *runs = R->set;
    int nr = R->n;
    for (int i = 0; i < nr; i++) {
        const sp_limits_setting *r = &runs[i];
        printf("scaleplan limits (full training model): %s%s\n\n", r->name, strstr(r->name, "months") ? "" : ", 3 months");
        if (r->n)
            printf("  %10s %8s %4s %3s %9s %9s %6s %9s %4s %3s %7s %6s %4s %3s %4s  %-31s  %s\n", "C (FLOP)", "d_model", "L", "E",
                   "params", "batch", "MFU", "GPUs", "TP", "CP", "PP(v)", "DP", "EP", "mb", "rc", "cmp mem  tp  pp  ep  dp bub lat",
                   "binding limit");
        for (int k = 0; k < r->n; k++) {
            const sp_limits_full_point *p = &r->fpts[k];
            const sp_plan *q = &p->plan;
            const sp_time_breakdown *t = &p->res.t;
            char pp[24], sp[64];
            snprintf(pp, sizeof pp, "%d(%d)", q->pp, q->vpp);
            double b = p->step_time_s > 0 ? 100 / p->step_time_s : 0;
            snprintf(sp, sizeof sp, "%3.0f %3.0f %3.0f %3.0f %3.0f %3.0f %3.0f %3.0f", t->compute * b, t->memory_bound * b,
                     t->tp_comm * b, (t->pp_comm + t->cp_comm) * b, t->ep_comm * b, t->dp_comm * b, t->bubble * b,
                     p->latency_s * b);
            printf("  %10.3e %8.0f %4d %3d %9.3e %9.3e %6.3f %9.3e %4d %3d %7s %6d %4d %3d %4s  %-31s  %s\n", p->compute_flop,
                   p->d_model, p->layers, p->experts, p->params, p->batch_tokens, p->utilization, p->n_gpus, q->tp, q->cp, pp,
                   q->dp, q->ep, q->micro_batch, rc_short(q->recompute), sp,
                   p->utilization > 0.8 * r->sum.max_utilization ? "- (linear regime)" : p->binding);
        }
        print_summary_text(R, r);
        double most = 0;
        for (int k = 0; k < r->n; k++)
            most = r->fpts[k].n_gpus > most ? r->fpts[k].n_gpus : most;
        scale_note(most);
        printf("  closed-form latency limit (reference §4, alpha = 0) with this system's latencies (%.3g us per layer step): "
               "%.3g FLOP\n", 1e6 * (r->fsys.acc.eff.kernel_overhead_s + 4 * r->fsys.tier[0].latency_s), r->sum.t_limit_flop);
        if (r->set.gpu.n_levels > 0) {
            printf("  the paper's model on this setting (--mode epoch2024): max utilization %.2f, linear regime ends at ",
                   r->esum.max_utilization);
            if (r->esum.linear_regime_end_flop > 0)
                printf("%.3g FLOP", r->esum.linear_regime_end_flop);
            else
                printf("(not reached)");
            if (r->esum.latency_wall_flop > 0)
                printf(", latency wall %.3g FLOP", r->esum.latency_wall_flop);
            if (r->sum.linear_regime_end_flop > 0 && r->esum.linear_regime_end_flop > 0)
                printf("; full/paper: linear end x%.2g", r->sum.linear_regime_end_flop / r->esum.linear_regime_end_flop);
            if (r->sum.latency_wall_flop > 0 && r->esum.latency_wall_flop > 0)
                printf(", wall x%.2g", r->sum.latency_wall_flop / r->esum.latency_wall_flop);
            printf("\n");
        }
        printf("\n");
    }
    printf("  %% of step time: cmp = GEMMs + attention, mem = memory-bound kernels, tp = TP communication, pp = pipeline +\n"
           "  context-parallel exchange, ep = expert all-to-all, dp = data-parallel/ZeRO, bub = pipeline bubble (the rest:\n"
           "  optimizer, embedding/LM-head stage imbalance); lat = the part of all of these that is kernel-launch and network\n"
           "  latency (the step minus the same plan's with zero latencies). rc = activation recompute. Why this differs from\n"
           "  the paper's model: docs/limits.md.\n"
           "  swept in %.3f s\n", R->wall_s);
}

static void print_epoch_text(const sp_limits_report *R)
{
    for (int i = 0; i < R->n; i++) {
        const sp_limits_setting *r = &R->set[i];
        if (strstr(r->name, "months"))
            printf("scaleplan limits (epoch2024 model): %s\n\n", r->name);
        else
            printf("scaleplan limits (epoch2024 model): %s, %.3g months\n\n", r->name, r->set.years * 12);
        if (r->n)
            printf("  %10s %8s %5s %3s %9s %9s %6s %9s %8s %8s %5s %5s  %-27s %8s %8s  %s\n", "C (FLOP)", "d_model", "L", "S",
                   "params", "batch", "U", "GPUs", "TP", "PP(v)", "DP", "EP", "cmp mem krn net bub lat  dp", "TWh", "cloud $",
                   "binding limit");
        for (int k = 0; k < r->n; k++) {
            const sp_epoch_point *p = &r->pts[k];
            const sp_epoch_split *s = &p->split;
            char tp[24], pp[24], sp[64];
            snprintf(tp, sizeof tp, "%dx%d", p->tp_model, p->tp_ff);
            snprintf(pp, sizeof pp, "%d(%s%d)", p->pp, p->zero_bubble ? "zb" : "", p->interleave);
            double b = s->batch_s > 0 ? 100 / s->batch_s : 0;
            snprintf(sp, sizeof sp, "%3.0f %3.0f %3.0f %3.0f %3.0f %3.0f %3.0f", (s->compute + s->derate) * b, s->data_move * b,
                     s->kernel_lat * b, s->net_bw * b, s->bubble * b, s->net_lat * b, (s->dp_bw + s->dp_lat) * b);
            printf("  %10.3e %8.0f %5d %3d %9.3e %9.3e %6.3f %9.3e %8s %8s %5d %5d  %-27s %8.3g %8.3g  %s\n",
                   p->compute_flop, p->d_model, p->layers, p->sparsity, p->params, p->batch_tokens, p->utilization, p->n_gpus,
                   tp, pp, p->dp, p->ep, sp, r->energy[k].mwh / 1e6, r->energy[k].cloud_usd,
                   p->utilization > 0.8 * r->sum.max_utilization ? "- (linear regime)" : p->binding);
        }
        print_summary_text(R, r);
        double most = 0;
        for (int k = 0; k < r->n; k++)
            most = r->pts[k].n_gpus > most ? r->pts[k].n_gpus : most;
        scale_note(most);
        printf("  closed forms (reference §4, alpha = 0): latency limit %.3g FLOP, critical compute ", r->sum.t_limit_flop);
        if (isfinite(r->sum.t_crit_flop))
            printf("%.3g FLOP\n\n", r->sum.t_crit_flop);
        else
            printf("unbounded (infinite network bandwidth)\n\n");
    }
    printf("  %% of batch time: cmp = model FLOP at peak + clock derate, mem = per-GPU HBM/L2/SMEM traffic, krn = kernel\n"
           "  latency (per matmul), net = TP/PP bandwidth beyond the matmuls, bub = pipeline bubble, lat = network latency,\n"
           "  dp = DP all-reduce. PP(v): stages (zb = zero bubble, v = interleave).\n"
           "  swept in %.3f s\n", R->wall_s);
}

/* The figure a reader of the paper expects: utilization vs compute, one curve per setting, the 80 % line and
 * the walls. Drawn before anything is printed, so a failure leaves stdout empty. */
static int draw_plot(const char *path, const sp_limits_report *R)
{
    const sp_limits_setting *runs = R->set;
    int nr = R->n;
    plot_chart ch;
    memset(&ch, 0, sizeof ch);
    int full = R->full;
    ch.title = full ? "Utilization vs training compute (scaleplan's training model; dashed: the paper's model)"
                    : "Utilization vs training compute (epoch2024 model)";
    ch.xlabel = "training compute (FLOP)";
    ch.ylabel = full ? "utilization (MFU of the best plan)" : "utilization (MFU vs max-clock peak)";
    ch.logx = 1;
    static double xs[2 * SP_LIMITS_MAX_SETTINGS][SP_LIMITS_MAX_POINTS], ys[2 * SP_LIMITS_MAX_SETTINGS][SP_LIMITS_MAX_POINTS];
    static char lbl[PLOT_MAX_REFS + 1][80], ename[SP_LIMITS_MAX_SETTINGS][160];
    int per = full ? 2 : 1, shown = PLOT_MAX_SERIES / per;
    if (nr > shown)
        fprintf(stderr, "scaleplan limits: note: the plot shows the first %d of %d settings\n", shown, nr);
    for (int i = 0; i < nr && i < shown; i++) {
        int n = 0;
        for (int k = 0; k < runs[i].n; k++, n++) {
            xs[i][k] = full ? runs[i].fpts[k].compute_flop : runs[i].pts[k].compute_flop;
            ys[i][k] = full ? runs[i].fpts[k].utilization : runs[i].pts[k].utilization;
        }
        ch.series[ch.nseries++] = (plot_series){runs[i].name, xs[i], ys[i], n, 2};
        if (full && runs[i].esum.n_points > 0) {
            int j = SP_LIMITS_MAX_SETTINGS + i;
            for (int k = 0; k < runs[i].esum.n_points; k++) {
                xs[j][k] = runs[i].pts[k].compute_flop;
                ys[j][k] = runs[i].pts[k].utilization;
            }
            snprintf(ename[i], sizeof ename[i], "%s (paper's model)", runs[i].name);
            ch.series[ch.nseries++] = (plot_series){ename[i], xs[j], ys[j], runs[i].esum.n_points, 0};
        }
    }
    snprintf(lbl[0], sizeof lbl[0], "80 %% of max utilization (%.2f)", 0.8 * runs[0].sum.max_utilization);
    ch.hline[ch.nh++] = (plot_ref){0.8 * runs[0].sum.max_utilization, lbl[0]};
    for (int i = 0; i < nr && ch.nv < PLOT_MAX_REFS; i++) {
        if (!(runs[i].sum.stop == SP_EPOCH_STOP_WALL && runs[i].sum.latency_wall_flop > 0))
            continue;
        int dup = 0; /* settings that hit the same wall share one line */
        for (int k = 0; k < ch.nv; k++)
            dup |= ch.vline[k].value == runs[i].sum.latency_wall_flop;
        if (dup)
            continue;
        snprintf(lbl[ch.nv + 1], sizeof lbl[0], "latency wall %.2g", runs[i].sum.latency_wall_flop);
        ch.vline[ch.nv] = (plot_ref){runs[i].sum.latency_wall_flop, lbl[ch.nv + 1]};
        ch.nv++;
    }
    char perr[512];
    if (plot_write(path, &ch, 1, perr, sizeof perr))
        return cli_error("limits", "%s", perr);
    return 0;
}

int cmd_limits(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "limits", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan limits [--mode full|epoch2024] [--gpu h100|a100|v100|<variant>] [--compare h100,a100+moe,...|paper]\n"
                       "                        [--duration 3mo] [--from 1e24 --to 1e33] [--dense|--moe]\n"
                       "                        [--batch-rule epoch|kaplan|deepseek|fixed:4Mi] [--shape epoch|fat:K] [--latency-scale X]\n"
                       "                        [--bandwidth-scale X|inf] [--flat-network] [--software STACK] [--json|--csv] [--plot FILE.svg]");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("limits", "unexpected argument '%s'", a.pos[0]);
    if (cli_flag(&a, "json") && cli_flag(&a, "csv"))
        return cli_error("limits", "give --json or --csv, not both");
    if (cli_flag(&a, "waterfall") && (cli_flag(&a, "json") || cli_flag(&a, "csv")))
        return cli_error("limits", "--waterfall is a table of --mode full on one --gpu (no --compare, --json or --csv)");
    json_t *req = cli_request(&a);
    sp_request rq;
    sp_request_init(&rq, "limits", req);
    sp_limits_report r;
    sp_error err = {0};
    sp_status st = sp_limits_run(a.data_dir, &rq, &r, &err);
    json_decref(req);
    if (st)
        return cli_fail("limits", &err);
    const char *plot = cli_get(&a, "plot");
    if (plot && (rc = draw_plot(plot, &r))) {
        sp_limits_report_free(&r);
        return rc;
    }
    if (cli_flag(&a, "json"))
        rc = cli_print_json("limits", sp_limits_json(&r));
    else if (r.waterfall)
        print_waterfall(&r);
    else if (cli_flag(&a, "csv"))
        print_csv(&r);
    else
        r.full ? print_full_text(&r) : print_epoch_text(&r);
    sp_limits_report_free(&r);
    return rc;
}
