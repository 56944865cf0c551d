/* Placeholder: implemented by its own issue. */
#include "cli.h"

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("train", "not implemented yet");
}
