/* Parallel-plan options shared by train, finetune and distill. */
#include "cli.h"

#include <string.h>

int cli_plan_from_args(const cli_args *a, sp_plan *p)
{
    int rc;
    if ((rc = cli_int(a, "gpus", 1, 1 << 30, &p->n_gpus)) || (rc = cli_int(a, "tp", 1, 1 << 20, &p->tp)) ||
        (rc = cli_int(a, "pp", 1, 1 << 20, &p->pp)) || (rc = cli_int(a, "dp", 1, 1 << 30, &p->dp)) ||
        (rc = cli_int(a, "cp", 1, 1 << 20, &p->cp)) || (rc = cli_int(a, "ep", 1, 1 << 20, &p->ep)) ||
        (rc = cli_int(a, "vpp", 1, 1 << 20, &p->vpp)) ||
        (rc = cli_int(a, "micro-batch", 1, 1 << 30, &p->micro_batch)) ||
        (rc = cli_int(a, "global-batch", 1, 1 << 30, &p->global_batch)) ||
        (rc = cli_int(a, "seq-len", 1, 1 << 24, &p->seq_len)) || (rc = cli_int(a, "zero", 0, 3, &p->zero)))
        return rc;
    if ((rc = cli_int(a, "etp", 1, 1 << 20, &p->etp)) || (rc = cli_int(a, "hsdp", 1, 1 << 30, &p->hsdp)) ||
        (rc = cli_double(a, "capacity-factor", SP_UNIT_NONE, 0.01, 1000, &p->capacity_factor)) ||
        (rc = cli_double(a, "moe-imbalance", SP_UNIT_NONE, 1, 1000, &p->moe_imbalance)))
        return rc;
    if (cli_flag(a, "moe-pad"))
        p->moe_pad = 1;
    if (cli_flag(a, "ep-fold"))
        p->ep_fold = 1;
    if (cli_flag(a, "no-reshard"))
        p->zero3_keep = 1;
    const char *sc = cli_get(a, "schedule");
    int il = 0;
    if (sc && sp_schedule_parse(sc, &p->schedule, &il))
        return cli_error(a->cmd, "--schedule: '%s'; allowed 1f1b, interleaved, zb-h1, zb-v, dualpipe", sc);
    if (il && p->vpp < 2)
        return cli_error(a->cmd, "--schedule interleaved needs --vpp >= 2");
    const char *r = cli_get(a, "recompute");
    if (r) {
        if (strcmp(r, "none") == 0)
            p->recompute = SP_RECOMPUTE_NONE;
        else if (strcmp(r, "selective") == 0)
            p->recompute = SP_RECOMPUTE_SELECTIVE;
        else if (strcmp(r, "full") == 0)
            p->recompute = SP_RECOMPUTE_FULL;
        else
            return cli_error(a->cmd, "--recompute: '%s'; allowed none, selective, full", r);
    }
    if (cli_flag(a, "sp"))
        p->seq_parallel = 1;
    sp_error err = {0};
    const char *dt = cli_get(a, "dtype");
    if (dt && sp_dtype_parse(dt, &p->dtype, &err))
        return cli_error(a->cmd, "--dtype: %s", err.msg);
    const char *att = cli_get(a, "attention");
    if (att) {
        if (strcmp(att, "flash") == 0)
            p->flash_attention = 1;
        else if (strcmp(att, "standard") == 0)
            p->flash_attention = 0;
        else
            return cli_error(a->cmd, "--attention: '%s'; allowed flash, standard", att);
    }
    return 0;
}

int cli_software(const cli_args *a, const char *data_dir, sp_system *s, sp_plan *p)
{
    sp_error err = {0};
    const char *fr = cli_get(a, "fp8-recipe");
    if (fr && sp_fp8_recipe_parse(fr, &p->fp8_recipe, &err))
        return cli_error(a->cmd, "--fp8-recipe: %s", err.msg);
    const char *name = cli_get(a, "software");
    if (!name)
        return 0;
    unsigned given = (cli_get(a, "recompute") ? SP_KNOB_RECOMPUTE : 0) | (cli_flag(a, "sp") ? SP_KNOB_SP : 0) |
                     (cli_get(a, "zero") ? SP_KNOB_ZERO : 0) | (cli_get(a, "vpp") ? SP_KNOB_VPP : 0) |
                     (cli_get(a, "attention") ? SP_KNOB_FLASH : 0) | (fr ? SP_KNOB_FP8_RECIPE : 0);
    sp_software sw;
    if (sp_load_software(data_dir, name, &sw, &err) || sp_software_apply(&sw, given, p, &err))
        return cli_error(a->cmd, "--software: %s", err.msg);
    sp_software_apply_system(&sw, s);
    return 0;
}

int cli_prune(const cli_args *a, sp_model *m)
{
    int heads = 0, rc;
    double ffn = 0;
    if ((rc = cli_int(a, "prune-heads", 0, 1 << 20, &heads)) || (rc = cli_double(a, "prune-ffn", SP_UNIT_NONE, 0, 0.999, &ffn)))
        return rc;
    if (heads || ffn > 0) {
        sp_error err = {0};
        if (sp_model_prune(m, heads, ffn, &err))
            return cli_fail(a->cmd, &err);
    }
    return 0;
}
