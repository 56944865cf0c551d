/* scaleplan command-line front end: dispatches to one command per file (cli/cmd_*.c). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} command;

static const command commands[] = {
    {"train", cmd_train, "time, memory, MFU and cost of one model + cluster + parallel plan"},
    {"validate", cmd_validate, "predict every row of a measured-runs CSV and report the error"},
    {"search", cmd_search, "find the best parallel plans for a model on a cluster"},
    {"law", cmd_law, "scaling laws: loss, compute-optimal size, critical batch, unit conversions"},
    {"fit", cmd_fit, "fit a scaling law to (N, D, loss) points with bootstrap confidence intervals"},
    {"limits", cmd_limits, "how far training scales before data movement and latency stop it"},
    {"forecast", cmd_forecast, "which wall binds first, and when: data movement, latency, power, chips, data, cost"},
    {"infer", cmd_infer, "serving: memory, latency, throughput and cost of inference"},
    {"shape", cmd_shape, "model shapes near a parameter budget that serve best on given hardware (Pareto front)"},
    {"validate-energy", cmd_validate_energy, "predict energy and CO2e of published training runs"},
    {"report", cmd_report, "reports such as `report famous` (famous training runs side by side)"},
    {"finetune", cmd_finetune, "fine-tuning (full, LoRA, QLoRA): memory, time, cost, smallest fitting setup"},
    {"distill", cmd_distill, "distillation: teacher + student cost and the serving break-even"},
    {"serve", cmd_serve, "serving at SLOs: request-level simulation (TTFT/TPOT percentiles, goodput, max rate)"},
    {"sweep", cmd_sweep, "co-design sweeps: hardware, model and cluster axes, one plan search per point (MPI-ready)"},
    {"model", cmd_model, "what scaleplan understood of a model: layer kinds, parameters, FLOPs, KV/state bytes"},
    {"presets", cmd_presets, "list the shipped model, system and accelerator presets"},
};

static void usage(FILE *f)
{
    fprintf(f, "scaleplan %s: plan frontier-scale AI model training and serving from first principles\n\n"
               "usage: scaleplan COMMAND [options]   (scaleplan COMMAND --help for its options)\n\ncommands:\n",
            SP_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("scaleplan %s\n", SP_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            int rc = commands[i].fn(argc - 2, argv + 2);
            if (fflush(stdout) != 0)
                return 2;
            return rc == 1 ? 0 : rc; /* 1 = --help shown */
        }
    char names[512] = "", near[64];
    for (size_t i = 0, w = 0; i < sizeof commands / sizeof commands[0]; i++)
        w += (size_t)snprintf(names + w, sizeof names - w, " %s", commands[i].name);
    if (sp_suggest(argv[1], names, near, sizeof near)) {
        fprintf(stderr, "scaleplan: error: unknown command '%s'; did you mean '%s'? (commands:%s)\n", argv[1], near, names);
        return 2;
    }
    fprintf(stderr, "scaleplan: error: unknown command '%s'; commands:", argv[1]);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(stderr, " %s", commands[i].name);
    fprintf(stderr, " (scaleplan --help)\n");
    return 2;
}
