/* scaleplan train: one model + system + parallel plan -> step time, MFU/HFU, memory, time breakdown. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"model", 1, "model preset name or path to a (Hugging Face) config.json [gpt3-175b-megatron]"},
    {"system", 1, "system preset name or path to a system JSON [dgx-a100-80g]"},
    CLI_PLAN_OPTDEFS,
    {"tokens", 1, "train on this many tokens: adds train time and GPU-hours (e.g. 300B, 15T)"},
    {"region", 1, "grid carbon intensity preset (us, eu, fr, de, cn, aws-us-east-1, ...) [system's]"},
    {"grid", 1, "grid carbon intensity in kg CO2e per kWh [system's]"},
    {"pue", 1, "data-centre power usage effectiveness, >= 1 [system's]"},
    {"price-per-gpu-hour", 1, "cloud rental price in $ per accelerator-hour [system's]"},
    {"energy-price", 1, "electricity price for ownership cost, $ per kWh [0.08]"},
    {"power-model", 1, "activity (default) | tdp (accelerators at TDP, no host share)"},
    {"json", 0, "machine-readable output"},
    {"prune-heads", 1, "remove this many attention heads per layer (structured pruning, docs/finetune.md)"},
    {"prune-ffn", 1, "remove this fraction of the FFN width (0..1)"},
};

static const char *usage =
    "usage: scaleplan train [--model M] [--system S] [--gpus N] [--tp --pp --dp --cp --ep --vpp]\n"
    "                       [--micro-batch --global-batch --seq-len] [--recompute none|selective|full] [--sp]\n"
    "                       [--zero 0..3] [--dtype bf16|fp16|fp8] [--tokens T] [--json]\n"
    "With no options: GPT-3 175B on 1024 A100-80GB with the Megatron plan of Narayanan et al. 2021\n"
    "(TP 8, PP 8, DP 16, interleaved 2 virtual stages; how each number is modelled: docs/model.md).";

static void mem_line(const char *name, double v, double total)
{
    char b[32];
    printf("    %-22s %12s  %5.1f %%\n", name, sp_fmt_quantity(b, sizeof b, v, SP_UNIT_BYTES), total > 0 ? 100 * v / total : 0);
}

static void time_line(const char *name, double v, double step)
{
    char b[32];
    if (v <= 0)
        return;
    printf("    %-34s %12s  %5.1f %%\n", name, sp_fmt_quantity(b, sizeof b, v, SP_UNIT_TIME), 100 * v / step);
}

/* the plan's lines beyond degrees and batch: recompute modules / block, BF16 layers, MTP depths, schedule */
static void print_plan_knobs(const sp_plan *p, const sp_model *mo)
{
    char rcm[128];
    if (p->recompute == SP_RECOMPUTE_SELECTIVE)
        printf("             recompute modules %s (Megatron-Core recompute_modules)\n",
               sp_recompute_modules_name(sp_recompute_set(p), rcm, sizeof rcm));
    if (p->recompute == SP_RECOMPUTE_FULL && p->recompute_layers > 0)
        printf("             recompute block: %d layers per pipeline stage (the rest not recomputed)\n",
               p->recompute_layers);
    if (sp_dtype_is_quantized(p->dtype) && (p->bf16_first > 0 || p->bf16_last > 0))
        printf("             BF16 layers: the first %d and the last %d in 16 bits (num_layers_at_start|end_in_bf16)\n",
               p->bf16_first, p->bf16_last);
    if (p->mtp_layers > 0)
        printf("             MTP depths %d (the model's %d MTP module%s run %d times, weights shared)\n", p->mtp_layers,
               mo->n_mtp, mo->n_mtp == 1 ? "" : "s", p->mtp_layers);
    if (p->schedule != SP_SCHED_1F1B)
        printf("             schedule %s (bubble and memory: docs/model.md \"Schedules\")\n",
               sp_schedule_name(p->schedule, p->vpp));
    if (p->doc_len > 0)
        printf("             packed sequences: samples of %g tokens on average (cv %g), attention within each: "
               "%.4g keys per token (E[l^2]/E[l])\n", p->doc_len, p->doc_len_cv, sp_plan_attn_context(p));
}

static void print_report(const sp_train_report *r)
{
    const sp_model *mo = &r->model;
    const sp_system *sy = &r->system;
    const sp_plan *p = &r->plan;
    const sp_train_result *res = &r->res;
    const sp_param_count *pc = &r->params;
    const sp_energy_result *en = &r->energy;
    const sp_energy_opts *eo = &r->energy_opts;
    const sp_memory *mm = &res->mem;
    const sp_time_breakdown *t = &res->t;
    const char *region = r->region[0] ? r->region : NULL;
    double tokens = r->tokens, train_s = r->train_s, gpu_hours = r->gpu_hours;
    char b1[32], b2[32], b3[32];
    printf("scaleplan train: %s on %d x %s (%s)\n", mo->name, p->n_gpus, sy->acc.name, sy->name);
    printf("  model      %s parameters (%s active), %d layers, d_model %d, %d heads (%d KV), FFN %d%s, vocab %d\n",
           sp_fmt_quantity(b1, sizeof b1, pc->total, SP_UNIT_NONE), sp_fmt_quantity(b2, sizeof b2, pc->active, SP_UNIT_NONE),
           mo->n_layers, mo->d_model, mo->n_heads, mo->n_kv_heads, mo->ffn_dim, mo->gated ? " gated" : "", mo->vocab);
    printf("  plan       TP %d x PP %d (vpp %d) x DP %d x CP %d x EP %d; micro-batch %d, global batch %d (%d micro-batches), "
           "seq %d\n             recompute %s, sequence parallel %s, ZeRO %d, %s, %s attention\n",
           p->tp, p->pp, p->vpp, p->dp, p->cp, p->ep, p->micro_batch, p->global_batch, res->n_micro, p->seq_len,
           sp_recompute_name(p->recompute), p->seq_parallel ? "on" : "off", p->zero, sp_dtype_name(p->dtype),
           (p->flash_attention >= 0 ? p->flash_attention : sy->flash_attention) ? "flash" : "standard");
    print_plan_knobs(p, mo);
    if (sp_model_is_moe(mo)) {
        if (p->capacity_factor > 0)
            snprintf(b1, sizeof b1, "%g%s", p->capacity_factor, p->moe_pad ? " (padded)" : " (dropping)");
        else
            snprintf(b1, sizeof b1, "none (dropless)");
        printf("             experts: ETP %d x EP %d%s, capacity factor %s, load imbalance %g\n", p->etp > 0 ? p->etp : p->tp,
               p->ep, p->ep_fold ? " (folded into TP x CP x DP)" : "", b1, p->moe_imbalance > 1 ? p->moe_imbalance : 1.0);
    }
    printf("\n  step time  %s   tokens/s %s   MFU %.1f %%   HFU %.1f %%   %.1f TFLOP/s per GPU (model)\n",
           sp_fmt_quantity(b1, sizeof b1, res->step_time_s, SP_UNIT_TIME),
           sp_fmt_quantity(b2, sizeof b2, res->tokens_per_s, SP_UNIT_NONE), 100 * res->mfu, 100 * res->hfu,
           res->tflops_per_gpu);
    /* the FLOP convention, when attention is a large part of the model FLOPs (long context): MFU counts attention
     * without causal halving, so it can exceed what a causal kernel could reach */
    double dense_flops = 6 * pc->active * res->tokens_per_step;
    if (res->model_flops > 1.1 * dense_flops)
        printf("  MFU counts %.0f %% of its FLOPs in attention, full s x s without causal halving (the PaLM convention,\n"
               "  Chowdhery et al. 2022 App. B): a causal kernel does about half of that work\n",
               100 * (1 - dense_flops / res->model_flops));
    printf("  bottleneck (largest non-compute cost): %s\n", res->bottleneck);
    printf("\n  where the time goes (critical path of the slowest stage, one step)\n");
    time_line("GEMMs + attention (incl. recompute)", t->compute, res->step_time_s);
    time_line("memory-bound kernels", t->memory_bound, res->step_time_s);
    time_line("(recompute, included above)", t->recompute, res->step_time_s);
    time_line("tensor-parallel communication", t->tp_comm, res->step_time_s);
    time_line("context-parallel exchange", t->cp_comm, res->step_time_s);
    time_line("expert all-to-all", t->ep_comm, res->step_time_s);
    time_line("pipeline point-to-point", t->pp_comm, res->step_time_s);
    time_line("pipeline bubble", t->bubble, res->step_time_s);
    /* with one stage there is no imbalance between stages: the time is the embedding and LM-head work itself */
    time_line(p->pp > 1 ? "first/last stage imbalance" : "embedding + LM head", t->imbalance, res->step_time_s);
    time_line("data-parallel / ZeRO (exposed)", t->dp_comm, res->step_time_s);
    time_line("optimizer step", t->optimizer, res->step_time_s);
    time_line("host (CPU) kernel dispatch, exposed", t->host, res->step_time_s);
    time_line("activation offload copies, exposed", t->offload, res->step_time_s);
    if (res->offload_unpriced)
        printf("    activation offload copies          not priced: system '%s' states no host link (host_d2h, "
               "host_h2d)\n", sy->name);
    printf("\n  memory per GPU (heaviest pipeline stage)   %s of %s: %s\n",
           sp_fmt_quantity(b1, sizeof b1, mm->total, SP_UNIT_BYTES), sp_fmt_quantity(b2, sizeof b2, mm->capacity, SP_UNIT_BYTES),
           res->fits ? "fits" : "DOES NOT FIT");
    if (!res->fits)
        printf("    overflows by %s\n", sp_fmt_quantity(b3, sizeof b3, res->overflow_bytes, SP_UNIT_BYTES));
    mem_line("weights", mm->weights, mm->total);
    mem_line("gradients", mm->grads, mm->total);
    mem_line("optimizer states", mm->optimizer, mm->total);
    mem_line("activations", mm->activations, mm->total);
    mem_line("embedding + logits", mm->embedding_logits, mm->total);
    mem_line("communication buffers", mm->comm_buffers, mm->total);
    mem_line("framework overhead", mm->overhead, mm->total);
    if (tokens > 0) {
        printf("\n  training on %s tokens: %s (%s steps), %.4g GPU-hours\n", sp_fmt_quantity(b1, sizeof b1, tokens, SP_UNIT_NONE),
               sp_fmt_quantity(b2, sizeof b2, train_s, SP_UNIT_TIME),
               sp_fmt_quantity(b3, sizeof b3, ceil(tokens / res->tokens_per_step), SP_UNIT_NONE), gpu_hours);
    }
    char b4[32], b5[32];
    printf("\n  energy, carbon and cost (%s; docs/energy.md)\n", tokens > 0 ? "whole run" : "one step; add --tokens for a run");
    printf("    power per accelerator   %.0f W accelerator (activity %.2f at MFU %.2f) + %.0f W host, x PUE %.2f = %.0f W\n",
           en->accel_w, en->activity, en->utilization, en->host_w, en->pue, en->facility_w);
    if (en->energy_kwh >= 1000)
        printf("    energy                  %.4g MWh\n", en->energy_kwh / 1000);
    else
        printf("    energy                  %.4g kWh\n", en->energy_kwh);
    if (en->co2e_kg >= 1000)
        printf("    CO2e                    %.4g t at %.3f kg/kWh (%s)\n", en->co2e_kg / 1000, en->grid_kg_per_kwh,
               region ? region : "system default");
    else
        printf("    CO2e                    %.4g kg at %.3f kg/kWh (%s)\n", en->co2e_kg, en->grid_kg_per_kwh,
               region ? region : "system default");
    if (r->region_source[0])
        printf("                            %s\n", r->region_source);
    printf("    cost                    $%s cloud at $%.2f/GPU-hour; $%s owned (hardware amortised over %.0f years + energy at $%.2f/kWh)\n",
           sp_fmt_quantity(b4, sizeof b4, en->cloud_usd, SP_UNIT_NONE), en->usd_per_accel_hour,
           sp_fmt_quantity(b5, sizeof b5, en->own_usd, SP_UNIT_NONE), eo->amortisation_years, eo->energy_usd_per_kwh);
    if (tokens > 0) {
        /* equivalents: NY-SF round-trip flight per passenger 0.9 t (Strubell et al. 2019, 1984 lb); passenger car
         * 4.6 t CO2 per year (US EPA 2023); US household 10,791 kWh per year (EIA 2022) */
        printf("    equivalent to           %.3g NY-SF round-trip flights (per passenger), %.3g car-years, %.3g US household-years of electricity\n",
               en->co2e_kg / 900, en->co2e_kg / 4600, en->energy_kwh / 10791);
        printf("    compute                 %.4g PF-days, %.4g GPU-years\n", res->model_flops / res->tokens_per_step * tokens / 8.64e19,
               gpu_hours / 8766);
    }
}

int cmd_train(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "train", defs, sizeof defs / sizeof defs[0], argc, argv, usage);
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("train", "unexpected argument '%s'", a.pos[0]);
    sp_request rq = cli_request_begin(&a);
    sp_train_report *r = malloc(sizeof *r);
    sp_error err = {0};
    sp_status st = r ? sp_train_run(a.data_dir, &rq, r, &err) : sp_fail(&err, SP_ENOMEM, "out of memory");
    st = cli_request_done(&rq, st, &err);
    if (st)
        rc = cli_fail("train", &err);
    else if (cli_flag(&a, "json"))
        rc = cli_print_json("train", sp_train_json(r));
    else
        print_report(r);
    free(r);
    return rc;
}
