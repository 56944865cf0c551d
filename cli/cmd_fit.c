/* Placeholder: implemented by its own issue. */
#include "cli.h"

int cmd_fit(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("fit", "not implemented yet");
}
