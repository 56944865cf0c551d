/* scaleplan train: one model + system + parallel plan -> step time, MFU/HFU, memory, time breakdown. */
#include "cli.h"

#include <math.h>
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
    "(TP 8, PP 8, DP 16, interleaved 2 virtual stages... see docs/train.md).";

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

static void json_kv(const char *k, double v, int comma)
{
    printf("%s\"%s\":", comma ? "," : "", k);
    cli_json_num(stdout, v);
}

int cmd_train(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "train", defs, sizeof defs / sizeof defs[0], argc, argv, usage);
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("train", "unexpected argument '%s'", a.pos[0]);
    const char *mname = cli_get(&a, "model"), *sname = cli_get(&a, "system");
    int default_job = !mname && !sname && !cli_get(&a, "gpus");
    sp_model m;
    sp_system s;
    sp_error err = {0};
    if (sp_load_model(a.data_dir, mname ? mname : "gpt3-175b-megatron", &m, &err))
        return cli_fail("train", &err);
    if (sp_load_system(a.data_dir, sname ? sname : "dgx-a100-80g", &s, &err))
        return cli_fail("train", &err);
    if ((rc = cli_prune(&a, &m)))
        return rc;
    sp_plan p;
    sp_plan_defaults(&p);
    if (default_job) {
        /* Narayanan et al. 2021 Table 2 / §5.1: GPT-3 175B, 1024 A100s, TP 8, PP 8 (interleaved), batch 1536 */
        p.n_gpus = 1024;
        p.tp = 8;
        p.pp = 8;
        p.vpp = 2;
        p.global_batch = 1536;
        p.micro_batch = 1;
        p.recompute = SP_RECOMPUTE_FULL;
        p.dtype = SP_FP16;
    }
    if ((rc = cli_plan_from_args(&a, &p)))
        return rc;
    double tokens = 0;
    if ((rc = cli_double(&a, "tokens", SP_UNIT_NONE, 1, 1e18, &tokens)))
        return rc;
    sp_energy_opts eo;
    sp_energy_defaults(&eo);
    char region_src[256] = "";
    const char *region = cli_get(&a, "region");
    if ((rc = cli_double(&a, "pue", SP_UNIT_NONE, 1, 10, &eo.pue)) ||
        (rc = cli_double(&a, "grid", SP_UNIT_NONE, 0, 5, &eo.grid_kg_per_kwh)) ||
        (rc = cli_double(&a, "price-per-gpu-hour", SP_UNIT_NONE, 0, 1e4, &eo.usd_per_accel_hour)) ||
        (rc = cli_double(&a, "energy-price", SP_UNIT_NONE, 0, 100, &eo.energy_usd_per_kwh)))
        return rc;
    if (region) {
        if (cli_get(&a, "grid"))
            return cli_error("train", "give either --region or --grid, not both");
        if (sp_region_intensity(a.data_dir, region, &eo.grid_kg_per_kwh, region_src, sizeof region_src, &err))
            return cli_fail("train", &err);
    }
    const char *pmod = cli_get(&a, "power-model");
    if (pmod) {
        if (strcmp(pmod, "tdp") == 0)
            eo.model = SP_POWER_TDP;
        else if (strcmp(pmod, "activity") != 0)
            return cli_error("train", "--power-model '%s'; allowed activity, tdp", pmod);
    }
    if (sp_plan_resolve(&p, &m, &s, &err))
        return cli_fail("train", &err);
    sp_train_result res;
    if (sp_train_eval(&m, &s, &p, &res, &err))
        return cli_fail("train", &err);
    sp_param_count pc;
    sp_model_params(&m, &pc);
    double train_s = tokens > 0 ? tokens / res.tokens_per_s : 0;
    double gpu_hours = train_s * p.n_gpus / 3600.0;
    /* energy of the run (or of one step without --tokens) */
    sp_energy_result en;
    double run_hours = (tokens > 0 ? train_s : res.step_time_s) / 3600.0;
    if (sp_energy_estimate(&s, p.n_gpus, run_hours, res.mfu, &eo, &en, &err))
        return cli_fail("train", &err);
    const char *scope = tokens > 0 ? "run" : "step";
    const sp_memory *mm = &res.mem;
    const sp_time_breakdown *t = &res.t;
    if (cli_flag(&a, "json")) {
        printf("{\"model\":\"%s\",\"system\":\"%s\",\"plan\":{\"gpus\":%d,\"tp\":%d,\"pp\":%d,\"dp\":%d,\"cp\":%d,"
               "\"ep\":%d,\"vpp\":%d,\"micro_batch\":%d,\"global_batch\":%d,\"seq_len\":%d,\"recompute\":\"%s\","
               "\"sequence_parallel\":%s,\"zero\":%d,\"dtype\":\"%s\",\"micro_batches\":%d,\"etp\":%d,"
               "\"capacity_factor\":%g,\"moe_pad\":%s,\"moe_imbalance\":%g}",
               m.name, s.name, p.n_gpus, p.tp, p.pp, p.dp, p.cp, p.ep, p.vpp, p.micro_batch, p.global_batch, p.seq_len,
               sp_recompute_name(p.recompute), p.seq_parallel ? "true" : "false", p.zero, sp_dtype_name(p.dtype),
               res.n_micro, p.etp > 0 ? p.etp : p.tp, p.capacity_factor, p.moe_pad ? "true" : "false",
               p.moe_imbalance > 1 ? p.moe_imbalance : 1.0);
        json_kv("params_total", pc.total, 1);
        json_kv("params_active", pc.active, 1);
        json_kv("step_time_s", res.step_time_s, 1);
        json_kv("tokens_per_s", res.tokens_per_s, 1);
        json_kv("mfu", res.mfu, 1);
        json_kv("hfu", res.hfu, 1);
        json_kv("tflops_per_gpu", res.tflops_per_gpu, 1);
        json_kv("model_flops_per_step", res.model_flops, 1);
        printf(",\"memory_per_gpu_bytes\":{");
        json_kv("total", mm->total, 0);
        json_kv("weights", mm->weights, 1);
        json_kv("grads", mm->grads, 1);
        json_kv("optimizer", mm->optimizer, 1);
        json_kv("activations", mm->activations, 1);
        json_kv("embedding_logits", mm->embedding_logits, 1);
        json_kv("comm_buffers", mm->comm_buffers, 1);
        json_kv("overhead", mm->overhead, 1);
        json_kv("capacity", mm->capacity, 1);
        printf("},\"fits\":%s", res.fits ? "true" : "false");
        json_kv("overflow_bytes", res.overflow_bytes, 1);
        printf(",\"time_breakdown_s\":{");
        json_kv("compute", t->compute, 0);
        json_kv("memory_bound", t->memory_bound, 1);
        json_kv("recompute", t->recompute, 1);
        json_kv("tp_comm", t->tp_comm, 1);
        json_kv("cp_comm", t->cp_comm, 1);
        json_kv("ep_comm", t->ep_comm, 1);
        json_kv("pp_comm", t->pp_comm, 1);
        json_kv("dp_comm", t->dp_comm, 1);
        json_kv("bubble", t->bubble, 1);
        json_kv("optimizer", t->optimizer, 1);
        json_kv("stage_imbalance", t->imbalance, 1);
        printf("},\"bottleneck\":\"%s\"", res.bottleneck);
        if (tokens > 0) {
            json_kv("tokens", tokens, 1);
            json_kv("train_time_s", train_s, 1);
            json_kv("gpu_hours", gpu_hours, 1);
        }
        printf(",\"energy_kwh\":{\"total\":");
        cli_json_num(stdout, en.energy_kwh);
        printf(",\"scope\":\"%s\",\"accelerator_w\":", scope);
        cli_json_num(stdout, en.accel_w);
        printf(",\"host_w_per_accelerator\":");
        cli_json_num(stdout, en.host_w);
        printf(",\"pue\":");
        cli_json_num(stdout, en.pue);
        printf(",\"activity\":");
        cli_json_num(stdout, en.activity);
        printf(",\"power_model\":\"%s\"},\"co2e_kg\":{\"total\":", eo.model == SP_POWER_TDP ? "tdp" : "activity");
        cli_json_num(stdout, en.co2e_kg);
        printf(",\"grid_kg_per_kwh\":");
        cli_json_num(stdout, en.grid_kg_per_kwh);
        printf(",\"region\":\"%s\"},\"cost_usd\":{\"total\":", region ? region : "system default");
        cli_json_num(stdout, en.cloud_usd);
        printf(",\"cloud\":");
        cli_json_num(stdout, en.cloud_usd);
        printf(",\"usd_per_accel_hour\":");
        cli_json_num(stdout, en.usd_per_accel_hour);
        printf(",\"ownership\":");
        cli_json_num(stdout, en.own_usd);
        printf(",\"ownership_capex\":");
        cli_json_num(stdout, en.own_capex_usd);
        printf(",\"ownership_energy\":");
        cli_json_num(stdout, en.own_energy_usd);
        printf(",\"energy_usd_per_kwh\":");
        cli_json_num(stdout, eo.energy_usd_per_kwh);
        printf(",\"amortisation_years\":");
        cli_json_num(stdout, eo.amortisation_years);
        printf("}");
        if (tokens > 0) {
            printf(",\"pf_days\":");
            cli_json_num(stdout, res.model_flops / res.tokens_per_step * tokens / 8.64e19);
            printf(",\"gpu_years\":");
            cli_json_num(stdout, gpu_hours / 8766);
        }
        printf("}\n");
        return 0;
    }
    char b1[32], b2[32], b3[32];
    printf("scaleplan train: %s on %d x %s (%s)\n", m.name, p.n_gpus, s.acc.name, s.name);
    printf("  model      %s parameters (%s active), %d layers, d_model %d, %d heads (%d KV), FFN %d%s, vocab %d\n",
           sp_fmt_quantity(b1, sizeof b1, pc.total, SP_UNIT_NONE), sp_fmt_quantity(b2, sizeof b2, pc.active, SP_UNIT_NONE),
           m.n_layers, m.d_model, m.n_heads, m.n_kv_heads, m.ffn_dim, m.gated ? " gated" : "", m.vocab);
    printf("  plan       TP %d x PP %d (vpp %d) x DP %d x CP %d x EP %d; micro-batch %d, global batch %d (%d micro-batches), "
           "seq %d\n             recompute %s, sequence parallel %s, ZeRO %d, %s, %s attention\n",
           p.tp, p.pp, p.vpp, p.dp, p.cp, p.ep, p.micro_batch, p.global_batch, res.n_micro, p.seq_len,
           sp_recompute_name(p.recompute), p.seq_parallel ? "on" : "off", p.zero, sp_dtype_name(p.dtype),
           (p.flash_attention >= 0 ? p.flash_attention : s.flash_attention) ? "flash" : "standard");
    if (sp_model_is_moe(&m)) {
        if (p.capacity_factor > 0)
            snprintf(b1, sizeof b1, "%g%s", p.capacity_factor, p.moe_pad ? " (padded)" : " (dropping)");
        else
            snprintf(b1, sizeof b1, "none (dropless)");
        printf("             experts: ETP %d x EP %d, capacity factor %s, load imbalance %g\n", p.etp > 0 ? p.etp : p.tp,
               p.ep, b1, p.moe_imbalance > 1 ? p.moe_imbalance : 1.0);
    }
    printf("\n  step time  %s   tokens/s %s   MFU %.1f %%   HFU %.1f %%   %.1f TFLOP/s per GPU (model)\n",
           sp_fmt_quantity(b1, sizeof b1, res.step_time_s, SP_UNIT_TIME),
           sp_fmt_quantity(b2, sizeof b2, res.tokens_per_s, SP_UNIT_NONE), 100 * res.mfu, 100 * res.hfu,
           res.tflops_per_gpu);
    printf("  bottleneck (largest non-compute cost): %s\n", res.bottleneck);
    printf("\n  where the time goes (critical path of the slowest stage, one step)\n");
    time_line("GEMMs + attention (incl. recompute)", t->compute, res.step_time_s);
    time_line("memory-bound kernels", t->memory_bound, res.step_time_s);
    time_line("(recompute, included above)", t->recompute, res.step_time_s);
    time_line("tensor-parallel communication", t->tp_comm, res.step_time_s);
    time_line("context-parallel exchange", t->cp_comm, res.step_time_s);
    time_line("expert all-to-all", t->ep_comm, res.step_time_s);
    time_line("pipeline point-to-point", t->pp_comm, res.step_time_s);
    time_line("pipeline bubble", t->bubble, res.step_time_s);
    time_line("first/last stage imbalance", t->imbalance, res.step_time_s);
    time_line("data-parallel / ZeRO (exposed)", t->dp_comm, res.step_time_s);
    time_line("optimizer step", t->optimizer, res.step_time_s);
    printf("\n  memory per GPU (heaviest pipeline stage)   %s of %s: %s\n",
           sp_fmt_quantity(b1, sizeof b1, mm->total, SP_UNIT_BYTES), sp_fmt_quantity(b2, sizeof b2, mm->capacity, SP_UNIT_BYTES),
           res.fits ? "fits" : "DOES NOT FIT");
    if (!res.fits)
        printf("    overflows by %s\n", sp_fmt_quantity(b3, sizeof b3, res.overflow_bytes, SP_UNIT_BYTES));
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
               sp_fmt_quantity(b3, sizeof b3, ceil(tokens / res.tokens_per_step), SP_UNIT_NONE), gpu_hours);
    }
    char b4[32], b5[32];
    printf("\n  energy, carbon and cost (%s; docs/energy.md)\n", tokens > 0 ? "whole run" : "one step; add --tokens for a run");
    printf("    power per accelerator   %.0f W accelerator (activity %.2f at MFU %.2f) + %.0f W host, x PUE %.2f = %.0f W\n",
           en.accel_w, en.activity, en.utilization, en.host_w, en.pue, en.facility_w);
    if (en.energy_kwh >= 1000)
        printf("    energy                  %.4g MWh\n", en.energy_kwh / 1000);
    else
        printf("    energy                  %.4g kWh\n", en.energy_kwh);
    if (en.co2e_kg >= 1000)
        printf("    CO2e                    %.4g t at %.3f kg/kWh (%s)\n", en.co2e_kg / 1000, en.grid_kg_per_kwh,
               region ? region : "system default");
    else
        printf("    CO2e                    %.4g kg at %.3f kg/kWh (%s)\n", en.co2e_kg, en.grid_kg_per_kwh,
               region ? region : "system default");
    if (region_src[0])
        printf("                            %s\n", region_src);
    printf("    cost                    $%s cloud at $%.2f/GPU-hour; $%s owned (hardware amortised over %.0f years + energy at $%.2f/kWh)\n",
           sp_fmt_quantity(b4, sizeof b4, en.cloud_usd, SP_UNIT_NONE), en.usd_per_accel_hour,
           sp_fmt_quantity(b5, sizeof b5, en.own_usd, SP_UNIT_NONE), eo.amortisation_years, eo.energy_usd_per_kwh);
    if (tokens > 0) {
        /* equivalents: NY-SF round-trip flight per passenger 0.9 t (Strubell et al. 2019, 1984 lb); passenger car
         * 4.6 t CO2 per year (US EPA 2023); US household 10,791 kWh per year (EIA 2022) */
        printf("    equivalent to           %.3g NY-SF round-trip flights (per passenger), %.3g car-years, %.3g US household-years of electricity\n",
               en.co2e_kg / 900, en.co2e_kg / 4600, en.energy_kwh / 10791);
        printf("    compute                 %.4g PF-days, %.4g GPU-years\n", res.model_flops / res.tokens_per_step * tokens / 8.64e19,
               gpu_hours / 8766);
    }
    return 0;
}
