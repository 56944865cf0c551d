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
    {"capacity-factor", 1, "MoE expert capacity factor for every plan [0 = dropless]"},
    {"moe-imbalance", 1, "MoE busiest-EP-rank load / mean for every plan [1]"},
    {"top", 1, "plans to show [10]"},
    {"objective", 1, "time | tokens-per-s | cost [time]"},
    {"max-memory-frac", 1, "plans must fit in this fraction of HBM [1.0]"},
    {"max-vpp", 1, "largest interleaving factor tried [8]"},
    {"fix", 1, "fix dimensions: tp=8,pp=4,dp=..,cp=..,ep=..,etp=..,vpp=..,mb=..,zero=..,sp=0|1,recompute=none|selective|full"},
    {"threads", 1, "threads [all cores from 4096 layer shapes on, else 1: a smaller search is faster than starting threads]"},
    {"all", 0, "with --csv: stream every evaluated plan (one thread, no pruning)"},
    {"json", 0, "machine-readable output"},
    {"csv", 0, "CSV output"},
    {"finetune", 1, "plans for fine-tuning: full | lora | qlora (docs/finetune.md)"},
    {"rank", 1, "LoRA rank with --finetune [16; qlora 64]"},
    {"targets", 1, "LoRA targets with --finetune: attn, mlp, all [attn,mlp]"},
    {"base-dtype", 1, "frozen base precision with --finetune: bf16 | int8 | nf4"},
};

static void csv_header(void)
{
    printf("tp,pp,dp,cp,ep,vpp,micro_batch,recompute,sp,zero,step_time_s,mfu,tokens_per_s,memory_per_gpu_bytes,bottleneck\n");
}

static void csv_row(const sp_plan *p, const sp_train_result *r)
{
    printf("%d,%d,%d,%d,%d,%d,%d,%s,%d,%d,%.6g,%.5f,%.6g,%.6g,%s\n", p->tp, p->pp, p->dp, p->cp, p->ep, p->vpp, p->micro_batch,
           sp_recompute_name(p->recompute), p->seq_parallel, p->zero, r->step_time_s, r->mfu, r->tokens_per_s, r->mem.total,
           r->bottleneck);
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

static void stream_row(void *ctx, const sp_plan *p, const sp_train_result *r)
{
    (void)ctx;
    csv_row(p, r);
}

static int parse_fix(const char *s, sp_search_opts *o)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return cli_error("search", "--fix: '%s' is not NAME=VALUE", tok);
        *eq = 0;
        const char *k = tok, *v = eq + 1;
        if (strcmp(k, "recompute") == 0) {
            o->fix_recompute = strcmp(v, "none") == 0 ? 0 : strcmp(v, "selective") == 0 ? 1 : strcmp(v, "full") == 0 ? 2 : -2;
            if (o->fix_recompute == -2)
                return cli_error("search", "--fix recompute=%s; allowed none, selective, full", v);
            continue;
        }
        char *end;
        long x = strtol(v, &end, 10);
        if (end == v || *end || x < 0 || x > (1 << 24))
            return cli_error("search", "--fix %s=%s: not a whole number in 0..16777216", k, v);
        int iv = (int)x;
        if (strcmp(k, "tp") == 0) o->fix_tp = iv;
        else if (strcmp(k, "pp") == 0) o->fix_pp = iv;
        else if (strcmp(k, "dp") == 0) o->fix_dp = iv;
        else if (strcmp(k, "cp") == 0) o->fix_cp = iv;
        else if (strcmp(k, "ep") == 0) o->fix_ep = iv;
        else if (strcmp(k, "etp") == 0) o->fix_etp = iv;
        else if (strcmp(k, "vpp") == 0) o->fix_vpp = iv;
        else if (strcmp(k, "mb") == 0 || strcmp(k, "micro-batch") == 0) o->fix_mb = iv;
        else if (strcmp(k, "zero") == 0 && iv <= 3) o->fix_zero = iv;
        else if (strcmp(k, "sp") == 0 && iv <= 1) o->fix_sp = iv;
        else
            return cli_error("search", "--fix: unknown or out-of-range '%s=%s'; allowed tp, pp, dp, cp, ep, etp, vpp, mb, zero (0..3), sp (0|1), recompute", k, v);
    }
    return 0;
}

int cmd_search(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "search", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan search --model M --system S --gpus N --global-batch B [--seq-len] [--top K]\n"
                       "                        [--objective time|tokens-per-s|cost] [--max-memory-frac F] [--fix tp=8,...]\n"
                       "                        [--threads T] [--json|--csv] [--all --csv]");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("search", "unexpected argument '%s'", a.pos[0]);
    if (!cli_get(&a, "model") || !cli_get(&a, "system") || !cli_get(&a, "gpus") || !cli_get(&a, "global-batch"))
        return cli_error("search", "--model, --system, --gpus and --global-batch are required");
    sp_model m;
    sp_system s;
    sp_error err = {0};
    if (sp_load_model(a.data_dir, cli_get(&a, "model"), &m, &err) || sp_load_system(a.data_dir, cli_get(&a, "system"), &s, &err))
        return cli_fail("search", &err);
    sp_search_opts o;
    sp_search_defaults(&o);
    o.seq_len = m.max_seq;
    if ((rc = cli_int(&a, "gpus", 1, 1 << 30, &o.n_gpus)) || (rc = cli_int(&a, "global-batch", 1, 1 << 30, &o.global_batch)) ||
        (rc = cli_int(&a, "seq-len", 1, 1 << 24, &o.seq_len)) || (rc = cli_int(&a, "top", 1, SP_SEARCH_MAX_TOP, &o.top_k)) ||
        (rc = cli_int(&a, "threads", 1, 1024, &o.threads)) || (rc = cli_int(&a, "max-vpp", 1, 64, &o.max_vpp)) ||
        (rc = cli_double(&a, "max-memory-frac", SP_UNIT_NONE, 0.05, 1, &o.max_mem_frac)))
        return rc;
    const char *dt = cli_get(&a, "dtype");
    if (dt && strcmp(dt, "any") == 0)
        o.any_dtype = 1;
    else if (dt && sp_dtype_parse(dt, &o.dtype, &err))
        return cli_error("search", "--dtype: %s (or 'any')", err.msg);
    if ((rc = cli_double(&a, "capacity-factor", SP_UNIT_NONE, 0.01, 1000, &o.capacity_factor)) ||
        (rc = cli_double(&a, "moe-imbalance", SP_UNIT_NONE, 1, 1000, &o.moe_imbalance)))
        return rc;
    if ((o.capacity_factor > 0 || o.moe_imbalance > 1) && !sp_model_is_moe(&m))
        return cli_error("search", "--capacity-factor / --moe-imbalance: model '%s' has no experts", m.name);
    const char *obj = cli_get(&a, "objective");
    if (obj) {
        if (strcmp(obj, "time") == 0)
            o.objective = SP_OBJ_TIME;
        else if (strcmp(obj, "tokens-per-s") == 0)
            o.objective = SP_OBJ_TOKENS_PER_S;
        else if (strcmp(obj, "cost") == 0)
            o.objective = SP_OBJ_COST;
        else
            return cli_error("search", "--objective '%s'; allowed time, tokens-per-s, cost", obj);
    }
    if (cli_get(&a, "fix") && (rc = parse_fix(cli_get(&a, "fix"), &o)))
        return rc;
    if (cli_get(&a, "finetune")) {
        int rank = 0;
        if ((rc = cli_int(&a, "rank", 1, 1 << 20, &rank)))
            return rc;
        sp_finetune ft;
        if (sp_finetune_parse(cli_get(&a, "finetune"), cli_get(&a, "targets"), cli_get(&a, "base-dtype"), rank, &ft, &err))
            return cli_fail("search", &err);
        sp_plan probe;
        sp_plan_defaults(&probe);
        if (sp_finetune_apply(&m, &ft, &probe, &err))
            return cli_fail("search", &err);
        o.frozen_base = probe.frozen_base;
        o.lora_rank = probe.lora_rank;
        o.lora_targets = probe.lora_targets;
        o.base_weight_bytes = probe.base_weight_bytes;
        o.grad_bytes = probe.grad_bytes;
    } else if (cli_get(&a, "rank") || cli_get(&a, "targets") || cli_get(&a, "base-dtype"))
        return cli_error("search", "--rank, --targets and --base-dtype need --finetune");
    int json = cli_flag(&a, "json"), csv = cli_flag(&a, "csv");
    if (cli_flag(&a, "all")) {
        if (!csv)
            return cli_error("search", "--all streams every plan and needs --csv");
        o.on_plan = stream_row;
        o.no_prune = 1;
        csv_header();
    }
    if (isatty(STDERR_FILENO))
        o.on_progress = show_progress;
    sp_search_result *r = malloc(sizeof *r);
    if (!r)
        return cli_error("search", "out of memory");
    sp_status st = sp_search(&m, &s, &o, r, &err);
    if (st == SP_EINFEASIBLE) {
        /* nearest feasible alternative: the smallest multiple of the GPU count with a plan that fits */
        int found = 0;
        sp_search_opts o2 = o;
        o2.on_plan = NULL;
        o2.top_k = 1;
        sp_search_result *r2 = malloc(sizeof *r2);
        for (int mult = 2; r2 && mult <= 64 && !found; mult *= 2) {
            o2.n_gpus = o.n_gpus * mult;
            if (s.max_accels > 0 && o2.n_gpus > s.max_accels)
                break;
            sp_error e2;
            if (sp_search(&m, &s, &o2, r2, &e2) == SP_OK)
                found = o2.n_gpus;
        }
        free(r2);
        char b1[32];
        if (isfinite(r->min_overflow_bytes)) {
            const sp_plan *p = &r->min_overflow_plan;
            char hint[96];
            if (found)
                snprintf(hint, sizeof hint, "the smallest power-of-two multiple of the GPU count that fits is %d GPUs", found);
            else
                snprintf(hint, sizeof hint, "no multiple of the GPU count up to 64x fits either");
            rc = cli_error("search", "no plan of %s on %d GPUs fits in memory (%lld plans tried); the closest (tp %d, pp %d, dp %d, zero %d, recompute %s) needs %s more per GPU; %s",
                           m.name, o.n_gpus, r->enumerated, p->tp, p->pp, p->dp, p->zero, sp_recompute_name(p->recompute),
                           sp_fmt_quantity(b1, sizeof b1, r->min_overflow_bytes, SP_UNIT_BYTES), hint);
        } else
            rc = cli_error("search", "no valid plan for %d GPUs and global batch %d: the batch must be divisible by the data-parallel degree and the heads by TP; try a global batch that is a multiple of %d",
                           o.n_gpus, o.global_batch, o.n_gpus);
        free(r);
        return rc;
    }
    if (st) {
        free(r);
        return cli_fail("search", &err);
    }
    if (cli_flag(&a, "all")) {
        free(r);
        return 0;
    }
    if (json) {
        printf("{\"model\":\"%s\",\"system\":\"%s\",\"plans\":[", m.name, s.name);
        for (int i = 0; i < r->n_top; i++) {
            const sp_plan *p = &r->top[i].plan;
            const sp_train_result *x = &r->top[i].res;
            printf("%s{\"tp\":%d,\"pp\":%d,\"dp\":%d,\"cp\":%d,\"ep\":%d,\"vpp\":%d,\"micro_batch\":%d,\"recompute\":\"%s\","
                   "\"sequence_parallel\":%s,\"zero\":%d,\"step_time_s\":",
                   i ? "," : "", p->tp, p->pp, p->dp, p->cp, p->ep, p->vpp, p->micro_batch, sp_recompute_name(p->recompute),
                   p->seq_parallel ? "true" : "false", p->zero);
            cli_json_num(stdout, x->step_time_s);
            printf(",\"mfu\":");
            cli_json_num(stdout, x->mfu);
            printf(",\"tokens_per_s\":");
            cli_json_num(stdout, x->tokens_per_s);
            printf(",\"memory_per_gpu_bytes\":");
            cli_json_num(stdout, x->mem.total);
            printf(",\"bottleneck\":\"%s\",\"etp\":%d,\"dtype\":\"%s\"}", x->bottleneck, p->etp > 0 ? p->etp : p->tp,
                   sp_dtype_name(p->dtype));
        }
        printf("],\"summary\":{\"plans_enumerated\":%lld,\"plans_evaluated\":%lld,\"plans_pruned\":%lld,"
               "\"plans_infeasible\":%lld,\"infeasible_memory\":%lld,\"infeasible_divisibility\":%lld,\"layer_shapes\":%d,\"threads\":%d,\"wall_time_s\":",
               r->enumerated, r->evaluated, r->pruned, r->infeasible_memory + r->infeasible_divisibility, r->infeasible_memory,
               r->infeasible_divisibility, r->layer_shapes, r->threads);
        cli_json_num(stdout, r->wall_time_s);
        printf(",\"plans_per_s\":");
        cli_json_num(stdout, r->plans_per_s);
        printf("}}\n");
    } else if (csv) {
        csv_header();
        for (int i = 0; i < r->n_top; i++)
            csv_row(&r->top[i].plan, &r->top[i].res);
    } else {
        char b1[32], b2[32];
        printf("scaleplan search: %s on %d x %s (%s), global batch %d x %d tokens\n\n", m.name, o.n_gpus, s.acc.name, s.name,
               o.global_batch, o.seq_len);
        printf("  #   TP  PP  DP  CP  EP vpp  mb recompute  SP ZeRO    step time    MFU   memory/GPU  dominant cost\n");
        for (int i = 0; i < r->n_top; i++) {
            const sp_plan *p = &r->top[i].plan;
            const sp_train_result *x = &r->top[i].res;
            printf("%3d %4d %3d %3d %3d %3d %3d %3d %-10s %2s %4d %12s %6.1f%% %12s  %s\n", i + 1, p->tp, p->pp, p->dp, p->cp,
                   p->ep, p->vpp, p->micro_batch, sp_recompute_name(p->recompute), p->seq_parallel ? "on" : "-", p->zero,
                   sp_fmt_quantity(b1, sizeof b1, x->step_time_s, SP_UNIT_TIME), 100 * x->mfu,
                   sp_fmt_quantity(b2, sizeof b2, x->mem.total, SP_UNIT_BYTES), x->bottleneck);
            if (o.any_dtype || (sp_model_is_moe(&m) && p->ep > 1)) /* the issue-8 dimensions, when searched */
                printf("        ETP %d, %s\n", p->etp > 0 ? p->etp : p->tp, sp_dtype_name(p->dtype));
        }
        printf("\n  %lld plans enumerated: %lld evaluated, %lld pruned by bound, %lld infeasible (%lld memory, %lld divisibility)\n",
               r->enumerated, r->evaluated, r->pruned, r->infeasible_memory + r->infeasible_divisibility, r->infeasible_memory,
               r->infeasible_divisibility);
        printf("  %d layer shapes; %d thread%s; %.3f s wall; %.3g plans evaluated per second\n", r->layer_shapes, r->threads,
               r->threads == 1 ? "" : "s", r->wall_time_s, r->plans_per_s);
    }
    free(r);
    return 0;
}
