/* Placeholder: implemented by its own issue. */
#include "cli.h"

int cmd_validate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("validate", "not implemented yet");
}
