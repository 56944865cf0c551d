/* Placeholder: implemented by its own issue. */
#include "cli.h"

int cmd_search(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("search", "not implemented yet");
}
