/* Placeholder: implemented by its own issue. */
#include "cli.h"

int cmd_presets(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("presets", "not implemented yet");
}
