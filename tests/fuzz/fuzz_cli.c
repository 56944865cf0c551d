/* Fuzz target: the command-line front end. The input is split on spaces into the arguments of `train`, `law`,
 * `infer` or `finetune` (first byte picks the command); commands must return 0..2 and never crash. */
#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static int quiet;
    if (!quiet) {
        quiet = 1;
        if (!freopen("/dev/null", "w", stdout))
            abort();
    }
    if (n < 1)
        return 0;
    char buf[512];
    size_t len = n - 1 < sizeof buf - 1 ? n - 1 : sizeof buf - 1;
    memcpy(buf, d + 1, len);
    buf[len] = 0;
    char *argv[32];
    int argc = 0;
    for (char *save = NULL, *t = strtok_r(buf, " \n", &save); t && argc < 32; t = strtok_r(NULL, " \n", &save))
        argv[argc++] = t;
    int (*cmds[])(int, char **) = {cmd_train, cmd_law, cmd_infer, cmd_finetune};
    int rc = cmds[d[0] % 4](argc, argv);
    if (rc < 0 || rc > 2)
        abort();
    return 0;
}
