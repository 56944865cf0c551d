/* Placeholder: implemented by its own issue. */
#include "cli.h"

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("report", "not implemented yet");
}
