/* Shared helpers of the command-line front end: option parsing, data directory, errors, output. */
#ifndef SP_CLI_H
#define SP_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "call.h"
#include "scaleplan.h"

#define CLI_MAX_OPTS 96

/* One option a command accepts. has_arg: 0 flag, 1 takes a value. */
typedef struct {
    const char *name;
    int has_arg;
    const char *help;
} cli_optdef;

typedef struct {
    const char *cmd;
    const cli_optdef *defs;
    int ndefs;
    const char *val[CLI_MAX_OPTS]; /* value per def (flags: "1"), NULL if absent */
    const char *pos[32];           /* positional arguments */
    int npos;
    char data_dir[4200];
} cli_args;

/* Parses argv (after the command word). On error prints a message and returns 2; `--help` prints usage and
 * returns 1; 0 on success. `--data-dir DIR` is accepted by every command. */
int cli_parse(cli_args *a, const char *cmd, const cli_optdef *defs, int ndefs, int argc, char **argv,
              const char *usage);
const char *cli_get(const cli_args *a, const char *name);
int cli_flag(const cli_args *a, const char *name);
/* Typed getters: exit-style errors are returned as 2 after printing; 0 when ok (absent leaves *out). */
int cli_int(const cli_args *a, const char *name, int min, int max, int *out);
int cli_double(const cli_args *a, const char *name, sp_unit unit, double min, double max, double *out);

/* Prints "scaleplan CMD: error: MSG" to stderr and returns 2. */
int cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int cli_fail(const char *cmd, const sp_error *err); /* prints err->msg, returns 2 */
/* The same for an error caused by the value of option --OPT: the line starts "--OPT: " (issue 24: every
 * refusal names the option it came from), unless the message already does. */
int cli_fail_opt(const char *cmd, const char *opt, const sp_error *err);

/* The library request of the options given (src/call.h): keys are the long option names with '-' written '_',
 * values the text typed (the library parses units), flags true. The output options json, csv and plot, which
 * the CLI handles itself, are left out. */
json_t *cli_request(const cli_args *a);
/* After a successful run: an option the command's library code did not read (it applies only with other options,
 * e.g. infer --latency-ms without --fit-hardware) is refused rather than silently ignored (SP_EINVAL). */
sp_status cli_check_used(const sp_request *rq, sp_error *err);
/* The library call every command makes: the request of the options given (cli_request; rq->obj may take more
 * keys before the run), and after the run, whose status is st, the unused options refused (cli_check_used) and the
 * request freed. Returns the final status; the caller prints a failure with cli_fail. */
sp_request cli_request_begin(const cli_args *a);
sp_status cli_request_done(sp_request *rq, sp_status st, sp_error *err);
/* Prints the library's JSON result on one line and frees it; 0, or 2 when it cannot be serialised. */
int cli_print_json(const char *cmd, json_t *result);


/* Energy, CO2e and cost of a run (sp_energy_estimate: the library's energy and cost model, the one `train`
 * uses) as one block of text lines (distill). */
void cli_print_energy(const sp_energy_result *e);

/* The MoE layer's host-side knobs (train, finetune, distill, search; docs/systems.md) */
#define CLI_HOST_OPTDEFS                                                                                 \
    {"cuda-graphs", 1, "CUDA-graph scopes: none | full_iteration | list of attn,mlp,moe,moe_router,moe_preprocess,mamba,layer [stack's; none]"}, \
        {"moe-dispatcher", 1, "MoE token dispatcher: alltoall | allgather | deepep | hybridep [stack's; alltoall]"}

/* The parallel-plan options every planning command accepts (append CLI_PLAN_OPTDEFS to a command's table); the
 * library reads them from the request (src/request.c: sp_req_plan, sp_req_software, sp_req_prune). */
#define CLI_PLAN_OPTDEFS                                                                                 \
    {"gpus", 1, "number of accelerators [tp*pp*cp*ep*dp]"}, {"tp", 1, "tensor-parallel degree [1]"},     \
        {"pp", 1, "pipeline-parallel degree [1]"}, {"dp", 1, "data-parallel degree [gpus / (tp*pp*cp*ep)]"}, \
        {"cp", 1, "context-parallel degree [1]"}, {"ep", 1, "expert-parallel degree [1]"},                \
        {"vpp", 1, "virtual pipeline stages per GPU (interleaved 1F1B) [1]"},                            \
        {"micro-batch", 1, "sequences per micro-batch [1]"},                                             \
        {"global-batch", 1, "sequences per step [dp*ep*micro-batch*4*pp]"},                              \
        {"seq-len", 1, "sequence length [model's max_position_embeddings]"},                             \
        {"recompute", 1, "activation recompute: none | selective | full [none]"},                        \
        {"recompute-modules", 1, "selective recompute's modules: list of core_attn,mlp,moe_act,layernorm,mla_up_proj,moe,shared_experts,op_sac | none [core_attn]"}, \
        {"recompute-layers", 1, "full recompute, block method: layers recomputed per pipeline stage (model chunk) [every layer]"}, \
        {"sp", 0, "Megatron sequence parallelism"}, {"zero", 1, "ZeRO stage 0..3 (3 = FSDP full shard) [0]"}, \
        {"no-reshard", 0, "ZeRO-3/FSDP: keep gathered weights from forward to backward (reshard_after_forward=False)"}, \
        {"hsdp", 1, "hybrid sharding: shard ZeRO states over groups of N data-parallel ranks, replicate across [whole group]"}, \
        {"dtype", 1, "GEMM precision: bf16 | fp16 | fp8 | tf32 | fp32 [bf16]"},                          \
        {"attention", 1, "attention kernel: flash | standard [system's software default]"},                 \
        {"etp", 1, "expert tensor-parallel degree (MoE; experts sharded EP x ETP) [tp]"},                 \
        {"capacity-factor", 1, "MoE expert capacity factor (tokens beyond c*T*k/E dropped) [0 = dropless]"}, \
        {"moe-pad", 0, "MoE: pad expert buffers to capacity (static shapes, no dispatcher host sync; needs --capacity-factor)"}, \
        {"moe-router-fusion", 0, "MoE: router top-k and aux loss as Transformer Engine's fused kernels (moe_router_fusion)"}, \
        {"moe-fused-mlp", 0, "MoE: experts as Transformer Engine's CuTe-DSL fused grouped MLP (MXFP8, Blackwell; cutedsl_fused_grouped_mlp)"}, \
        {"fp8-output-proj", 0, "LM head as Transformer Engine's MXFP8 linear under --dtype mxfp8 (Megatron-Core fp8_output_proj)"}, \
        {"fp8-attention", 0, "FP8 attention (fp8_dot_product_attention): cuDNN's MXFP8 kernel rate under --dtype mxfp8 on Blackwell"}, \
        {"ep-fold", 0, "MoE parallel folding: dp = gpus/(tp*cp*pp), EP x ETP carved out of TP x CP x DP"},  \
        {"moe-imbalance", 1, "MoE: tokens of the busiest EP rank / mean, >= 1 [1 = uniform routing]"},        \
        {"software", 1, "software stack (data/software): its defaults fill the knobs not given [none]"},     \
        {"fp8-recipe", 1, "FP8 scaling: delayed | current | blockwise | rowwise [stack's]"},                         \
        {"bf16-layers", 1, "START,END: with a quantized --dtype, the first START and last END layers in BF16 (num_layers_at_start|end_in_bf16) [0,0]"}, \
        CLI_HOST_OPTDEFS,                                                                                \
        {"schedule", 1, "pipeline schedule: 1f1b | interleaved | zb-h1 | zb-v | dualpipe [1f1b; interleaved with --vpp]"}, \
        {"offload-layers", 1, "activations of the first N layers of each stage kept in host memory (cpu_offloading_num_layers) [0]"}, \
        {"doc-len", 1, "packed sequences: mean tokens of the samples packed into one sequence, each attending only within itself (THD, cu_seqlens) [unpacked]"}, \
        {"doc-len-cv", 1, "with --doc-len: the samples' length coefficient of variation, std / mean [0]"}, \
        {"mtp-layers", 1, "MTP depths run: the model's MTP module applied N times, weights shared (mtp_num_layers, mtp_use_repeated_layer) [one per module]"}

/* Command entry points (cli/cmd_*.c). Each returns the process exit code. */
int cmd_train(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_law(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_limits(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_shape(int argc, char **argv);
int cmd_validate_energy(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_presets(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_finetune(int argc, char **argv);
int cmd_distill(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_sweep(int argc, char **argv);

#endif
