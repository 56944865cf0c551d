/* Placeholder: implemented by its own issue. */
#include "cli.h"

int cmd_law(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("law", "not implemented yet");
}
