/* scaleplan finetune: full fine-tuning, LoRA or QLoRA of a pretrained model — trainable parameters, memory per
 * GPU, step time, total time and GPU-hours, whether it fits, and the smallest setup that does. */
#include "cli.h"


static const cli_optdef defs[] = {
    {"model", 1, "model preset or config.json (required)"},
    {"system", 1, "system preset or JSON [dgx-h100]"},
    {"method", 1, "full | lora | qlora [lora]"},
    {"rank", 1, "LoRA rank [16; qlora 64]"},
    {"targets", 1, "adapter targets: attn, mlp, all (comma separated) [attn,mlp]"},
    {"base-dtype", 1, "frozen base weights: bf16 | fp16 | int8 | nf4 [bf16; qlora nf4]"},
    {"prune-heads", 1, "remove this many attention heads per layer before fine-tuning"},
    {"prune-ffn", 1, "remove this fraction of the FFN width (0..1) before fine-tuning"},
    {"tokens", 1, "fine-tune on this many tokens (e.g. 100M): time and GPU-hours"},
    {"json", 0, "machine-readable output"},
    CLI_PLAN_OPTDEFS,
};

static const char *usage =
    "usage: scaleplan finetune --model M [--system S] [--gpus N] [--method full|lora|qlora] [--rank 16]\n"
    "                          [--targets attn,mlp] [--base-dtype bf16|int8|nf4] [--tokens T] [plan options] [--json]\n"
    "Frozen weights need input gradients but no weight gradients: FLOPs = 2M (forward) + 2M (data gradients)\n"
    "per token for the matmuls, 3x the attention core, + 6 per adapter parameter (docs/finetune.md).";

static void print_report(const sp_finetune_report *r)
{
    const sp_plan *p = &r->plan;
    const sp_memory *mm = &r->res.mem;
    const char *sname = r->system.name;
    char b1[32], b2[32], b3[32], b4[32];
    printf("scaleplan finetune: %s (%s) on %d x %s (%s)\n", r->model.name, sp_finetune_method_name(r->ft.method), p->n_gpus,
           r->system.acc.name, sname);
    if (r->heads || r->ffn > 0)
        printf("  pruned     %d heads/layer, %.0f %% of FFN width: %s -> %s parameters (%.1f %% fewer)\n", r->heads, 100 * r->ffn,
               sp_fmt_quantity(b1, sizeof b1, r->before.total, SP_UNIT_NONE),
               sp_fmt_quantity(b2, sizeof b2, r->params.total, SP_UNIT_NONE), 100 * (1 - r->params.total / r->before.total));
    int full = r->ft.method == SP_FT_FULL;
    printf("  trainable  %s of %s parameters (%.3f %%)%s%s\n", sp_fmt_quantity(b1, sizeof b1, r->trainable, SP_UNIT_NONE),
           sp_fmt_quantity(b2, sizeof b2, r->params.total, SP_UNIT_NONE), 100 * r->trainable / r->params.total,
           full ? "" : ", base weights frozen in ", full ? "" : r->ft.base_dtype);
    printf("  plan       TP %d x PP %d x DP %d, ZeRO %d, micro-batch %d, global batch %d, seq %d, recompute %s\n", p->tp, p->pp,
           p->dp, p->zero, p->micro_batch, p->global_batch, p->seq_len, sp_recompute_name(p->recompute));
    printf("  step time  %s   tokens/s %s   MFU %.1f %% (fine-tuning FLOPs)\n",
           sp_fmt_quantity(b1, sizeof b1, r->res.step_time_s, SP_UNIT_TIME),
           sp_fmt_quantity(b2, sizeof b2, r->res.tokens_per_s, SP_UNIT_NONE), 100 * r->res.mfu);
    printf("  memory     %s of %s per GPU: %s\n", sp_fmt_quantity(b1, sizeof b1, mm->total, SP_UNIT_BYTES),
           sp_fmt_quantity(b2, sizeof b2, mm->capacity, SP_UNIT_BYTES), r->res.fits ? "fits" : "DOES NOT FIT");
    printf("    frozen base weights %s, trainable states %s, activations %s, buffers + overhead %s\n",
           sp_fmt_quantity(b1, sizeof b1, r->base_w, SP_UNIT_BYTES), sp_fmt_quantity(b2, sizeof b2, r->states, SP_UNIT_BYTES),
           sp_fmt_quantity(b3, sizeof b3, mm->activations + mm->embedding_logits, SP_UNIT_BYTES),
           sp_fmt_quantity(b4, sizeof b4, mm->comm_buffers + mm->overhead, SP_UNIT_BYTES));
    if (r->tokens > 0)
        printf("  %s tokens: %s, %.4g GPU-hours\n", sp_fmt_quantity(b1, sizeof b1, r->tokens, SP_UNIT_NONE),
               sp_fmt_quantity(b2, sizeof b2, r->train_s, SP_UNIT_TIME), r->gpu_hours);
    if (r->smallest_gpus)
        printf("  smallest setup on %s that fits: %d GPU%s\n", sname, r->smallest_gpus, r->smallest_gpus > 1 ? "s" : "");
    else
        printf("  no setup of up to 4096 GPUs of %s fits\n", sname);
    printf("  fits on one GPU of:");
    int any = 0;
    for (int i = 0; i < SP_FINETUNE_CANDIDATES; i++)
        if (r->fits_one_gpu[i]) {
            printf(" %s", sp_finetune_candidates[i]);
            any = 1;
        }
    printf("%s\n", any ? "" : " none of the shipped systems");
    if (r->tokens > 0)
        printf("  energy     %.1f kWh (facility, PUE %.2f), CO2e %.1f kg; cost $%.2f cloud at $%.2f/GPU-hour\n",
               r->energy.energy_kwh, r->energy.pue, r->energy.co2e_kg, r->energy.cloud_usd, r->energy.usd_per_accel_hour);
    else
        printf("  energy and cost: give --tokens for the run's\n");
}

int cmd_finetune(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "finetune", defs, sizeof defs / sizeof defs[0], argc, argv, usage);
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("finetune", "unexpected argument '%s'", a.pos[0]);
    sp_request rq = cli_request_begin(&a);
    sp_finetune_report r;
    sp_error err = {0};
    sp_status st = cli_request_done(&rq, sp_finetune_run(a.data_dir, &rq, &r, &err), &err);
    if (st)
        return cli_fail("finetune", &err);
    if (cli_flag(&a, "json"))
        return cli_print_json("finetune", sp_finetune_json(&r));
    print_report(&r);
    return 0;
}
