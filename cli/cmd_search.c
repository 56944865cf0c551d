/* scaleplan search: the best parallel plans for a model on a cluster. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const cli_optdef defs[] = {
    {"model", 1, "model preset or config.json (required)"},
    {"system", 1, "system preset or JSON (required)"},
    {"gpus", 1, "number of accelerators (required)"},
    {"global-batch", 1, "sequences per step (required)"},
    {"seq-len", 1, "sequence length [model's max_position_embeddings]"},
    {"dtype", 1, "GEMM precision, or 'any' to search bf16 and fp8 (when the accelerator has FP8) [bf16]"},
    {"bf16-layers", 1, "START,END: with a quantized --dtype, the first START and last END layers in BF16 in every plan "
                       "(num_layers_at_start|end_in_bf16) [0,0]"},
    {"capacity-factor", 1, "MoE expert capacity factor for every plan [0 = dropless]"},
    {"moe-imbalance", 1, "MoE busiest-EP-rank load / mean for every plan [1]"},
    {"doc-len", 1, "packed sequences in every plan: mean tokens of the samples packed into one sequence [unpacked]"},
    {"doc-len-cv", 1, "with --doc-len: the samples' length coefficient of variation, std / mean [0]"},
    {"moe-pad", 0, "MoE: pad expert buffers to capacity in every plan (static shapes, no host sync; needs --capacity-factor)"},
    {"top", 1, "plans to show [10]"},
    {"objective", 1, "time | tokens-per-s | cost [time]"},
    {"max-memory-frac", 1, "plans must fit in this fraction of HBM [0.893: 10.7 % headroom for allocator fragmentation]"},
    {"max-vpp", 1, "largest interleaving factor tried [8]"},
    {"schedules", 1, "pipeline schedules tried on PP > 1: 1f1b (interleaved with vpp > 1), zb-h1, zb-v, dualpipe [all the "
                     "--software stack supports; all without one]"},
    {"software", 1, "software stack (data/software): only the features it has, its state bytes and kernels [none]"},
    CLI_HOST_OPTDEFS,
    {"recompute-modules", 1, "the modules searched selective recompute re-runs: list of core_attn,mlp,moe_act,layernorm,"
                             "mla_up_proj,moe,shared_experts,op_sac | none [core_attn]"},
    {"fix", 1, "fix dimensions: tp=8,pp=4,dp=..,cp=..,ep=..,etp=..,vpp=..,mb=..,zero=..,sp=0|1,recompute=none|selective|full"},
    {"threads", 1, "threads [all cores from 4096 layer shapes on, else 1: a smaller search is faster than starting threads]"},
    {"all", 0, "with --csv: stream every evaluated plan (one thread, no pruning)"},
    {"json", 0, "machine-readable output"},
    {"csv", 0, "CSV output"},
    {"finetune", 1, "plans for fine-tuning: full | lora | qlora (docs/finetune.md)"},
    {"rank", 1, "with --finetune: LoRA rank [16; qlora 64]"},
    {"targets", 1, "with --finetune: LoRA targets attn, mlp, all [attn,mlp]"},
    {"base-dtype", 1, "with --finetune: frozen base precision bf16 | int8 | nf4"},
};

static void csv_header(void)
{
    printf("tp,pp,dp,cp,ep,vpp,schedule,micro_batch,recompute,sp,zero,etp,ep_fold,dtype,step_time_s,mfu,tokens_per_s,"
           "memory_per_gpu_bytes,bottleneck\n");
}

static void csv_row(const sp_plan *p, const sp_train_result *r)
{
    printf("%d,%d,%d,%d,%d,%d,%s,%d,%s,%d,%d,%d,%d,%s,%.6g,%.5f,%.6g,%.6g,%s\n", p->tp, p->pp, p->dp, p->cp, p->ep, p->vpp,
           sp_schedule_name(p->schedule, p->vpp), p->micro_batch, sp_recompute_name(p->recompute), p->seq_parallel, p->zero,
           p->etp > 0 ? p->etp : p->tp, p->ep_fold, sp_dtype_name(p->dtype), r->step_time_s, r->mfu, r->tokens_per_s,
           r->mem.total, r->bottleneck);
}

/* Progress on a terminal's stderr for searches longer than a second; the line is erased at the end. */
static void show_progress(void *ctx, long long done, long long total, double elapsed)
{
    (void)ctx;
    if (done < total)
        fprintf(stderr, "\rscaleplan search: %lld of %lld layer shapes (%.0f%%), %.1f s", done, total,
                100.0 * (double)done / (double)total, elapsed);
    else
        fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* --all --csv: the header before the first plan (so a bad option leaves stdout empty), then one row per plan */
static void stream_row(void *ctx, const sp_plan *p, const sp_train_result *r)
{
    int *rows = ctx;
    if ((*rows)++ == 0)
        csv_header();
    csv_row(p, r);
}

/* Two results that are one plan: every degree equal but recompute none vs selective, same step time and memory. */
static int recompute_twins(const sp_search_entry *a, const sp_search_entry *b)
{
    const sp_plan *p = &a->plan, *q = &b->plan;
    int rc_pair = (p->recompute == SP_RECOMPUTE_NONE && q->recompute == SP_RECOMPUTE_SELECTIVE) ||
                  (p->recompute == SP_RECOMPUTE_SELECTIVE && q->recompute == SP_RECOMPUTE_NONE);
    return rc_pair && p->tp == q->tp && p->pp == q->pp && p->dp == q->dp && p->cp == q->cp && p->ep == q->ep &&
           p->etp == q->etp && p->vpp == q->vpp && p->schedule == q->schedule && p->micro_batch == q->micro_batch && p->zero == q->zero &&
           p->seq_parallel == q->seq_parallel && p->dtype == q->dtype && a->res.step_time_s == b->res.step_time_s &&
           a->res.mem.total == b->res.mem.total;
}

int cmd_search(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "search", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan search --model M --system S --gpus N --global-batch B [--seq-len] [--top K]\n"
                       "                        [--objective time|tokens-per-s|cost] [--max-memory-frac F] [--fix tp=8,...]\n"
                       "                        [--schedules 1f1b,zb-h1,zb-v,dualpipe]\n"
                       "                        [--threads T] [--json|--csv] [--all --csv]");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("search", "unexpected argument '%s'", a.pos[0]);
    int json = cli_flag(&a, "json"), csv = cli_flag(&a, "csv");
    if (cli_flag(&a, "all") && !csv)
        return cli_error("search", "--all streams every plan and needs --csv");
    sp_search_report rep;
    memset(&rep, 0, sizeof rep);
    int rows = 0;
    if (cli_flag(&a, "all")) {
        rep.opts.on_plan = stream_row;
        rep.opts.ctx = &rows;
    }
    if (isatty(STDERR_FILENO))
        rep.opts.on_progress = show_progress;
    sp_request rq = cli_request_begin(&a);
    sp_error err = {0};
    sp_status st = cli_request_done(&rq, sp_search_run(a.data_dir, &rq, &rep, &err), &err);
    if (st) {
        sp_search_report_free(&rep);
        return cli_fail("search", &err);
    }
    if (rep.all) {
        if (rows == 0)
            csv_header();
        sp_search_report_free(&rep);
        return 0;
    }
    const sp_search_result *r = rep.res;
    const sp_search_opts o = rep.opts;
    const sp_model m = rep.model;
    const sp_system s = rep.system;
    if (json) {
        json_t *j = sp_search_json(&rep);
        sp_search_report_free(&rep);
        return cli_print_json("search", j);
    } else if (csv) {
        csv_header();
        for (int i = 0; i < r->n_top; i++)
            csv_row(&r->top[i].plan, &r->top[i].res);
    } else {
        char b1[32], b2[32];
        printf("scaleplan search: %s on %d x %s (%s), global batch %d x %d tokens\n\n", m.name, o.plan.n_gpus, s.acc.name, s.name,
               o.plan.global_batch, o.plan.seq_len);
        printf("  plans must fit in %.1f %% of %s per GPU%s\n\n", 100 * o.max_mem_frac,
               sp_fmt_quantity(b1, sizeof b1, s.acc.hbm_bytes, SP_UNIT_BYTES),
               o.max_mem_frac < 1 ? " (the rest is headroom for allocator fragmentation; --max-memory-frac 1 removes it)" : "");
        printf("  #   TP  PP  DP  CP  EP vpp schedule     mb recompute  SP ZeRO    step time    MFU   memory/GPU  dominant cost\n");
        /* a plan that differs from another only by recompute none vs selective, with the same time and memory, is
         * the same plan (under flash attention selective recompute has nothing to recompute): one row, "none|sel" */
        char same[SP_SEARCH_MAX_TOP] = {0};
        int shown = 0, merged = 0;
        for (int i = 0; i < r->n_top; i++) {
            if (same[i])
                continue;
            const sp_plan *p = &r->top[i].plan;
            const sp_train_result *x = &r->top[i].res;
            int twin = 0;
            for (int k = i + 1; k < r->n_top && k < SP_SEARCH_MAX_TOP; k++)
                if (!same[k] && recompute_twins(&r->top[i], &r->top[k]))
                    same[k] = twin = 1;
            merged |= twin;
            printf("%3d %4d %3d %3d %3d %3d %3d %-11s %3d %-10s %2s %4d %12s %6.1f%% %12s  %s\n", ++shown, p->tp, p->pp, p->dp,
                   p->cp, p->ep, p->vpp, sp_schedule_name(p->schedule, p->vpp), p->micro_batch, twin ? "none|sel" : sp_recompute_name(p->recompute), p->seq_parallel ? "on" : "-", p->zero,
                   sp_fmt_quantity(b1, sizeof b1, x->step_time_s, SP_UNIT_TIME), 100 * x->mfu,
                   sp_fmt_quantity(b2, sizeof b2, x->mem.total, SP_UNIT_BYTES), x->bottleneck);
            if (o.any_dtype || (sp_model_is_moe(&m) && p->ep > 1)) /* the issue-8 dimensions, when searched */
                printf("        ETP %d, %s%s\n", p->etp > 0 ? p->etp : p->tp, sp_dtype_name(p->dtype),
                       p->ep_fold ? ", EP folded into TP x CP x DP (DP = GPUs / (TP x CP x PP))" : "");
        }
        if (merged)
            printf("\n  none|sel: recompute none and selective give the same plan (same time and memory): with flash attention\n"
                   "  the attention scores selective recompute would drop are never stored (Korthikanti et al. 2022 §4)\n");
        printf("\n  %lld plans enumerated: %lld evaluated, %lld pruned by bound, %lld infeasible (%lld memory, %lld divisibility)\n",
               r->enumerated, r->evaluated, r->pruned, r->infeasible_memory + r->infeasible_divisibility, r->infeasible_memory,
               r->infeasible_divisibility);
        printf("  %d layer shapes; %d thread%s; %.3f s wall; %.3g plans evaluated per second\n", r->layer_shapes, r->threads,
               r->threads == 1 ? "" : "s", r->wall_time_s, r->plans_per_s);
    }
    sp_search_report_free(&rep);
    return 0;
}
