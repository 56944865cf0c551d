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

int cmd_distill(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "distill", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan distill --teacher M1 --student M2 --tokens T [--system S] [--gpus N] [plan options]\n"
                       "Teacher forward (once, or --online every step) + student training; serving savings per token\n"
                       "from the two models' forward FLOPs; break-even = distillation GPU-hours / savings per token.");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("distill", "unexpected argument '%s'", a.pos[0]);
    sp_request rq = cli_request_begin(&a);
    sp_distill_report r;
    sp_error err = {0};
    sp_status st = cli_request_done(&rq, sp_distill_run(a.data_dir, &rq, &r, &err), &err);
    if (st)
        return cli_fail("distill", &err);
    if (cli_flag(&a, "json"))
        return cli_print_json("distill", sp_distill_json(&r));
    const sp_distill_result *x = &r.res;
    char b1[32], b2[32];
    printf("scaleplan distill: %s -> %s on %d x %s\n", r.teacher.name, r.student.name, r.plan.n_gpus, r.system.acc.name);
    printf("  size       %s -> %s parameters (%.0f %% fewer)\n", sp_fmt_quantity(b1, sizeof b1, x->teacher_params, SP_UNIT_NONE),
           sp_fmt_quantity(b2, sizeof b2, x->student_params, SP_UNIT_NONE), 100 * x->size_reduction);
    printf("  serving    %.2fx fewer forward FLOPs per token (%.0f %% faster at equal efficiency)\n", x->serving_speedup, 100 * (x->serving_speedup - 1));
    printf("  GPU-hours  teacher forward %s (%s), student training %s\n",
           sp_fmt_quantity(b1, sizeof b1, x->teacher_gpu_hours, SP_UNIT_NONE), cli_flag(&a, "online") ? "online, every epoch" : "once",
           sp_fmt_quantity(b2, sizeof b2, x->student_gpu_hours, SP_UNIT_NONE));
    printf("  memory     per GPU: teacher forward %.1f GiB, student training %.1f GiB of %.2f GiB (%s)\n",
           x->teacher_fwd_mem.total / 1073741824.0, x->student.mem.total / 1073741824.0, x->student.mem.capacity / 1073741824.0,
           cli_flag(&a, "online") ? "both resident, online" : "one after the other");
    if (isfinite(x->breakeven_served_tokens))
        printf("  break-even after %s served tokens\n", sp_fmt_quantity(b1, sizeof b1, x->breakeven_served_tokens, SP_UNIT_NONE));
    else
        printf("  no break-even: the student is not cheaper to serve\n");
    cli_print_energy(&r.energy);
    return 0;
}
