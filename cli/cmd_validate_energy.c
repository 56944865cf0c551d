/* Placeholder: implemented by its own issue. */
#include "cli.h"

int cmd_validate_energy(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("validate-energy", "not implemented yet");
}
