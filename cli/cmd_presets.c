/* scaleplan presets: list shipped models, systems and accelerators. */
#include "cli.h"

int cmd_presets(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "presets", NULL, 0, argc, argv,
                       "usage: scaleplan presets\nLists the model, system and accelerator presets in the data directory.");
    if (rc)
        return rc;
    static const char *kinds[] = {"models", "systems", "accelerators", "laws"};
    for (int i = 0; i < 4; i++) {
        char buf[4096];
        sp_list_presets(a.data_dir, kinds[i], buf, sizeof buf);
        printf("%-13s %s\n", kinds[i], buf);
    }
    return 0;
}
