/* scaleplan distill: cost of distilling a teacher into a student, and the serving break-even. */
#include "cli.h"

#include <math.h>
#include <string.h>

static const cli_optdef defs[] = {
    {"teacher", 1, "teacher model (required)"},
    {"student", 1, "student model (required)"},
    {"tokens", 1, "distillation tokens (required), e.g. 100B"},
    {"online", 0, "run the teacher forward every step (default: once, logits stored)"},
    {"epochs", 1, "passes over the tokens for the student [1]; the teacher runs once unless --online"},
    {"json", 0, "machine-readable output"},
    {"system", 1, "system preset [dgx-h100]"},
    CLI_PLAN_OPTDEFS,
};

static sp_status eval(const sp_model *m, const sp_system *s, sp_plan p, sp_train_result *r, sp_error *err)
{
    sp_status st = sp_plan_resolve(&p, m, s, err);
    return st ? st : sp_train_eval(m, s, &p, r, err);
}

int cmd_distill(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "distill", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan distill --teacher M1 --student M2 --tokens T [--system S] [--gpus N] [plan options]\n"
                       "Teacher forward (once, or --online every step) + student training; serving savings per token\n"
                       "from the two models' forward FLOPs; break-even = distillation GPU-hours / savings per token.");
    if (rc)
        return rc;
    if (!cli_get(&a, "teacher") || !cli_get(&a, "student") || !cli_get(&a, "tokens"))
        return cli_error("distill", "--teacher, --student and --tokens are required");
    sp_model t, st;
    sp_system s;
    sp_error err = {0};
    if (sp_load_model(a.data_dir, cli_get(&a, "teacher"), &t, &err) || sp_load_model(a.data_dir, cli_get(&a, "student"), &st, &err))
        return cli_fail("distill", &err);
    if (sp_load_system(a.data_dir, cli_get(&a, "system") ? cli_get(&a, "system") : "dgx-h100", &s, &err))
        return cli_fail("distill", &err);
    double tokens = 0;
    int epochs = 1;
    if ((rc = cli_double(&a, "tokens", SP_UNIT_NONE, 1, 1e16, &tokens)) || (rc = cli_int(&a, "epochs", 1, 1000, &epochs)))
        return rc;
    sp_plan p;
    sp_plan_defaults(&p);
    p.n_gpus = 8;
    p.zero = 1;
    p.seq_len = st.max_seq < 2048 ? st.max_seq : 2048;
    if ((rc = cli_plan_from_args(&a, &p)))
        return rc;
    sp_train_result rs, rt;
    if (eval(&st, &s, p, &rs, &err))
        return cli_fail("distill", &err);
    /* teacher forward: forward is one third of a training step's GEMM work; we take a third of the teacher's
     * training step on the same plan (no optimizer, no recompute) as its forward time */
    sp_plan pt = p;
    pt.recompute = SP_RECOMPUTE_NONE;
    if (eval(&t, &s, pt, &rt, &err))
        return cli_fail("distill", &err);
    double teacher_fwd_s = (rt.step_time_s - rt.t.optimizer - rt.t.dp_comm) / 3.0;
    double teacher_passes = cli_flag(&a, "online") ? epochs : 1;
    double teacher_gpuh = teacher_passes * tokens / (rt.tokens_per_step / teacher_fwd_s) * p.n_gpus / 3600;
    double student_gpuh = epochs * tokens / rs.tokens_per_s * p.n_gpus / 3600;
    sp_param_count pct, pcs;
    sp_model_params(&t, &pct);
    sp_model_params(&st, &pcs);
    int seq = p.seq_len;
    double ft = sp_model_fwd_flops_per_token(&t, seq), fs = sp_model_fwd_flops_per_token(&st, seq);
    /* serving cost per token ~ forward FLOPs at equal efficiency (compute-bound batched serving); the
     * inference model (issue 7) refines this */
    double speedup = ft / fs;
    double size_reduction = 1 - pcs.total / pct.total;
    /* GPU-hours saved per served token: teacher forward time per token minus student's, scaled from the
     * teacher's measured forward rate */
    double teacher_s_per_tok = teacher_fwd_s / rt.tokens_per_step * p.n_gpus / 3600; /* GPU-hours per token */
    double saved_per_tok = teacher_s_per_tok * (1 - fs / ft);
    double breakeven = saved_per_tok > 0 ? (teacher_gpuh + student_gpuh) / saved_per_tok : INFINITY;
    if (cli_flag(&a, "json")) {
        printf("{\"teacher\":\"%s\",\"student\":\"%s\",\"teacher_params\":", t.name, st.name);
        cli_json_num(stdout, pct.total);
        printf(",\"student_params\":");
        cli_json_num(stdout, pcs.total);
        printf(",\"size_reduction\":");
        cli_json_num(stdout, size_reduction);
        printf(",\"serving_speedup\":");
        cli_json_num(stdout, speedup);
        printf(",\"teacher_gpu_hours\":");
        cli_json_num(stdout, teacher_gpuh);
        printf(",\"student_gpu_hours\":");
        cli_json_num(stdout, student_gpuh);
        printf(",\"breakeven_served_tokens\":");
        cli_json_num(stdout, breakeven);
        printf("}\n");
        return 0;
    }
    char b1[32], b2[32];
    printf("scaleplan distill: %s -> %s on %d x %s\n", t.name, st.name, p.n_gpus, s.acc.name);
    printf("  size       %s -> %s parameters (%.0f %% fewer)\n", sp_fmt_quantity(b1, sizeof b1, pct.total, SP_UNIT_NONE),
           sp_fmt_quantity(b2, sizeof b2, pcs.total, SP_UNIT_NONE), 100 * size_reduction);
    printf("  serving    %.2fx fewer forward FLOPs per token (%.0f %% faster at equal efficiency)\n", speedup, 100 * (speedup - 1));
    printf("  cost       teacher forward %s GPU-hours (%s), student training %s GPU-hours\n",
           sp_fmt_quantity(b1, sizeof b1, teacher_gpuh, SP_UNIT_NONE), cli_flag(&a, "online") ? "online, every epoch" : "once",
           sp_fmt_quantity(b2, sizeof b2, student_gpuh, SP_UNIT_NONE));
    if (isfinite(breakeven))
        printf("  break-even after %s served tokens\n", sp_fmt_quantity(b1, sizeof b1, breakeven, SP_UNIT_NONE));
    else
        printf("  no break-even: the student is not cheaper to serve\n");
    return 0;
}
