/* Fuzz target: the command-line front end. The input is split on spaces into the arguments of `train`, `law`,
 * `infer` or `finetune` (first byte picks the command); commands must return 0..2 and never crash. Options that
 * write files or start threads (--plot, --threads) are not run. */
#include "cli.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    fuzz_quiet();
    if (n < 1)
        return 0;
    char buf[512];
    char *argv[32];
    int argc = fuzz_args(d + 1, n - 1, buf, sizeof buf, argv, 32);
    static const char *const unsafe[] = {"plot", "threads", NULL};
    if (fuzz_has_option(argc, argv, unsafe))
        return 0;
    int (*cmds[])(int, char **) = {cmd_train, cmd_law, cmd_infer, cmd_finetune};
    int rc = cmds[d[0] % 4](argc, argv);
    if (rc < 0 || rc > 2)
        abort();
    return 0;
}
