/* Placeholder: implemented by its own issue. */
#include "cli.h"

int cmd_infer(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("infer", "not implemented yet");
}
