/* Placeholder: implemented by its own issue. */
#include "cli.h"

int cmd_limits(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("limits", "not implemented yet");
}
