/* scaleplan presets: list shipped models, systems, accelerators, scaling laws and software stacks. */
#include "cli.h"

static const cli_optdef defs[] = {
    {"json", 0, "machine-readable output"},
};

int cmd_presets(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "presets", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan presets [--json]\nLists the model, system, accelerator and law presets in the data "
                       "directory.");
    if (rc)
        return rc;
    if (a.npos)
        return cli_error("presets", "unexpected argument '%s'", a.pos[0]);
    sp_presets_report r;
    sp_error err = {0};
    sp_request rq = cli_request_begin(&a);
    sp_status st = cli_request_done(&rq, sp_presets_run(a.data_dir, &rq, &r, &err), &err);
    if (st)
        return cli_fail("presets", &err);
    if (cli_flag(&a, "json"))
        return cli_print_json("presets", sp_presets_json(&r));
    for (int i = 0; i < SP_PRESET_KINDS; i++)
        printf("%-13s %s\n", sp_preset_kinds[i], r.list[i]);
    return 0;
}
