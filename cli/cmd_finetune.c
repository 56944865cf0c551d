/* scaleplan finetune: full fine-tuning, LoRA or QLoRA of a pretrained model — trainable parameters, memory per
 * GPU, step time, total time and GPU-hours, whether it fits, and the smallest setup that does. */
#include "cli.h"

#include <math.h>
#include <string.h>

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

/* Evaluates ft on `gpus` GPUs of s with a simple plan (TP inside a node, then PP; full: FSDP over DP).
 * Returns 1 if it fits. */
static int try_fit(const sp_model *m, const sp_system *s, const sp_finetune *ft, const sp_plan *base, int gpus,
                   sp_train_result *r)
{
    int node = s->tier[0].size;
    for (int variant = 0; variant < 2; variant++) {
        sp_plan p = *base;
        p.n_gpus = gpus;
        p.dp = 0;
        p.pp = 1;
        p.vpp = 1;
        if (variant == 0 && ft->method == SP_FT_FULL) {
            p.tp = 1;
            p.zero = 3;
        } else {
            p.tp = gpus < node ? gpus : node;
            while (p.tp > 1 && (m->n_heads % p.tp || (m->n_kv_heads % p.tp && p.tp % m->n_kv_heads)))
                p.tp /= 2;
            p.pp = gpus / p.tp;
            if (p.pp > m->n_layers)
                continue;
            p.zero = ft->method == SP_FT_FULL ? 1 : 0;
        }
        p.global_batch = 0;
        p.micro_batch = 1;
        sp_error e = {0};
        if (sp_finetune_apply(m, ft, &p, &e) || sp_plan_resolve(&p, m, s, &e) || sp_train_eval(m, s, &p, r, &e))
            continue;
        if (r->fits)
            return 1;
    }
    return 0;
}

int cmd_finetune(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "finetune", defs, sizeof defs / sizeof defs[0], argc, argv, usage);
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("finetune", "unexpected argument '%s'", a.pos[0]);
    if (!cli_get(&a, "model"))
        return cli_error("finetune", "--model is required (a preset name or a config.json)");
    sp_model m;
    sp_system s;
    sp_error err = {0};
    if (sp_load_model(a.data_dir, cli_get(&a, "model"), &m, &err))
        return cli_fail("finetune", &err);
    const char *sname = cli_get(&a, "system") ? cli_get(&a, "system") : "dgx-h100";
    if (sp_load_system(a.data_dir, sname, &s, &err))
        return cli_fail("finetune", &err);
    sp_param_count before;
    sp_model_params(&m, &before);
    int heads = 0, rank = 0;
    double ffn = 0, tokens = 0;
    if ((rc = cli_int(&a, "prune-heads", 0, 1 << 20, &heads)) || (rc = cli_double(&a, "prune-ffn", SP_UNIT_NONE, 0, 0.999, &ffn)) ||
        (rc = cli_int(&a, "rank", 1, 1 << 20, &rank)) || (rc = cli_double(&a, "tokens", SP_UNIT_NONE, 1, 1e16, &tokens)))
        return rc;
    if ((heads || ffn > 0) && sp_model_prune(&m, heads, ffn, &err))
        return cli_fail("finetune", &err);
    sp_finetune ft;
    if (sp_finetune_parse(cli_get(&a, "method"), cli_get(&a, "targets"), cli_get(&a, "base-dtype"), rank, &ft, &err))
        return cli_fail("finetune", &err);
    sp_plan p;
    sp_plan_defaults(&p);
    p.seq_len = m.max_seq < 2048 ? m.max_seq : 2048;
    p.recompute = SP_RECOMPUTE_FULL; /* gradient checkpointing: the usual fine-tuning default */
    p.n_gpus = 1;
    if ((rc = cli_plan_from_args(&a, &p)) || (rc = cli_software(&a, a.data_dir, &s, &p)))
        return rc;
    if (!cli_get(&a, "gpus") && (p.tp > 1 || p.pp > 1 || p.dp > 1 || p.ep > 1 || p.cp > 1))
        p.n_gpus = 0;
    sp_plan base = p;
    if (sp_finetune_apply(&m, &ft, &p, &err) || sp_plan_resolve(&p, &m, &s, &err))
        return cli_fail("finetune", &err);
    sp_train_result r;
    if (sp_train_eval(&m, &s, &p, &r, &err))
        return cli_fail("finetune", &err);
    double trainable = sp_finetune_trainable(&m, &ft);
    sp_param_count pc;
    sp_model_params(&m, &pc);
    const sp_memory *mm = &r.mem;
    double adapters_w = ft.method == SP_FT_FULL ? 0 : 2.0 * ceil((double)m.n_layers / p.pp) *
                                                      sp_lora_params_per_layer(&m, ft.rank, ft.targets) / p.tp;
    double base_w = mm->weights - adapters_w;
    double states = mm->weights + mm->grads + mm->optimizer - (ft.method == SP_FT_FULL ? 0 : base_w);
    if (ft.method == SP_FT_FULL)
        base_w = 0; /* all weights are trained: they are model states */
    double train_s = tokens > 0 ? tokens / r.tokens_per_s : 0;
    double gpu_hours = train_s * p.n_gpus / 3600;
    /* smallest GPU count on this system that fits, and which single GPUs fit */
    int smallest = 0;
    sp_train_result rr;
    for (int g = 1; g <= 4096 && !smallest; g *= 2)
        if (try_fit(&m, &s, &ft, &base, g, &rr))
            smallest = g;
    static const char *cands[] = {"a10-node", "l40s-node", "dgx-a100-40g", "dgx-a100-80g", "dgx-h100", "hgx-h200", "dgx-b200", "mi300x-8"};
    int fits1[8] = {0};
    for (int i = 0; i < 8; i++) {
        sp_system c;
        sp_error e2 = {0};
        if (sp_load_system(a.data_dir, cands[i], &c, &e2) == SP_OK)
            fits1[i] = try_fit(&m, &c, &ft, &base, 1, &rr);
    }
    static const char *mnames[] = {"full", "lora", "qlora"};
    if (cli_flag(&a, "json")) {
        printf("{\"model\":\"%s\",\"system\":\"%s\",\"method\":\"%s\",\"rank\":%d,\"base_dtype\":\"%s\",\"gpus\":%d,\"tp\":%d,\"pp\":%d,\"dp\":%d,\"zero\":%d",
               m.name, s.name, mnames[ft.method], ft.rank, ft.base_dtype, p.n_gpus, p.tp, p.pp, p.dp, p.zero);
        printf(",\"params_total\":");
        cli_json_num(stdout, pc.total);
        printf(",\"trainable_params\":");
        cli_json_num(stdout, trainable);
        printf(",\"memory_per_gpu_bytes\":{\"total\":");
        cli_json_num(stdout, mm->total);
        printf(",\"model_states\":");
        cli_json_num(stdout, states);
        printf(",\"activations\":");
        cli_json_num(stdout, mm->activations + mm->embedding_logits);
        printf(",\"base_weights\":");
        cli_json_num(stdout, base_w);
        printf(",\"buffers_overhead\":");
        cli_json_num(stdout, mm->comm_buffers + mm->overhead);
        printf(",\"capacity\":");
        cli_json_num(stdout, mm->capacity);
        printf("},\"fits\":%s,\"step_time_s\":", r.fits ? "true" : "false");
        cli_json_num(stdout, r.step_time_s);
        printf(",\"tokens_per_s\":");
        cli_json_num(stdout, r.tokens_per_s);
        printf(",\"mfu\":");
        cli_json_num(stdout, r.mfu);
        if (tokens > 0) {
            printf(",\"train_time_s\":");
            cli_json_num(stdout, train_s);
            printf(",\"gpu_hours\":");
            cli_json_num(stdout, gpu_hours);
        }
        printf(",\"smallest_gpus_on_system\":");
        if (smallest)
            printf("%d", smallest);
        else
            printf("null");
        printf(",\"fits_on_one_gpu\":[");
        int first = 1;
        for (int i = 0; i < 8; i++)
            if (fits1[i]) {
                printf("%s\"%s\"", first ? "" : ",", cands[i]);
                first = 0;
            }
        printf("]}\n");
        return 0;
    }
    char b1[32], b2[32], b3[32], b4[32];
    printf("scaleplan finetune: %s (%s) on %d x %s (%s)\n", m.name, mnames[ft.method], p.n_gpus, s.acc.name, s.name);
    if (heads || ffn > 0)
        printf("  pruned     %d heads/layer, %.0f %% of FFN width: %s -> %s parameters (%.1f %% fewer)\n", heads, 100 * ffn,
               sp_fmt_quantity(b1, sizeof b1, before.total, SP_UNIT_NONE), sp_fmt_quantity(b2, sizeof b2, pc.total, SP_UNIT_NONE),
               100 * (1 - pc.total / before.total));
    printf("  trainable  %s of %s parameters (%.3f %%)%s%s\n", sp_fmt_quantity(b1, sizeof b1, trainable, SP_UNIT_NONE),
           sp_fmt_quantity(b2, sizeof b2, pc.total, SP_UNIT_NONE), 100 * trainable / pc.total,
           ft.method == SP_FT_FULL ? "" : ", base weights frozen in ", ft.method == SP_FT_FULL ? "" : ft.base_dtype);
    printf("  plan       TP %d x PP %d x DP %d, ZeRO %d, micro-batch %d, global batch %d, seq %d, recompute %s\n", p.tp, p.pp,
           p.dp, p.zero, p.micro_batch, p.global_batch, p.seq_len, sp_recompute_name(p.recompute));
    printf("  step time  %s   tokens/s %s   MFU %.1f %% (fine-tuning FLOPs)\n", sp_fmt_quantity(b1, sizeof b1, r.step_time_s, SP_UNIT_TIME),
           sp_fmt_quantity(b2, sizeof b2, r.tokens_per_s, SP_UNIT_NONE), 100 * r.mfu);
    printf("  memory     %s of %s per GPU: %s\n", sp_fmt_quantity(b1, sizeof b1, mm->total, SP_UNIT_BYTES),
           sp_fmt_quantity(b2, sizeof b2, mm->capacity, SP_UNIT_BYTES), r.fits ? "fits" : "DOES NOT FIT");
    printf("    frozen base weights %s, trainable states %s, activations %s, buffers + overhead %s\n",
           sp_fmt_quantity(b1, sizeof b1, base_w, SP_UNIT_BYTES), sp_fmt_quantity(b2, sizeof b2, states, SP_UNIT_BYTES),
           sp_fmt_quantity(b3, sizeof b3, mm->activations + mm->embedding_logits, SP_UNIT_BYTES),
           sp_fmt_quantity(b4, sizeof b4, mm->comm_buffers + mm->overhead, SP_UNIT_BYTES));
    if (tokens > 0)
        printf("  %s tokens: %s, %.4g GPU-hours\n", sp_fmt_quantity(b1, sizeof b1, tokens, SP_UNIT_NONE),
               sp_fmt_quantity(b2, sizeof b2, train_s, SP_UNIT_TIME), gpu_hours);
    if (smallest)
        printf("  smallest setup on %s that fits: %d GPU%s\n", s.name, smallest, smallest > 1 ? "s" : "");
    else
        printf("  no setup of up to 4096 GPUs of %s fits\n", s.name);
    printf("  fits on one GPU of:");
    int any = 0;
    for (int i = 0; i < 8; i++)
        if (fits1[i]) {
            printf(" %s", cands[i]);
            any = 1;
        }
    printf("%s\n", any ? "" : " none of the shipped systems");
    printf("  energy and cost: see `train` (issue 6 hook)\n");
    return 0;
}
