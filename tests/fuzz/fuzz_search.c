/* Fuzz target: `scaleplan search` options (model/system presets or files, --fix, --objective, --finetune, output
 * modes) on small cases: at most 64 GPUs, --top and --max-vpp as given, one thread. Input: the first line holds
 * the options, the rest is a file that an argument "@" names (a model or system JSON). */
#include "cli.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    fuzz_quiet();
    char buf[1024];
    char *argv[34];
    const char *path;
    int argc = fuzz_args_and_file(d, n, buf, sizeof buf, argv, 32, &path);
    static const char *const unsafe[] = {"threads", NULL};
    if (fuzz_has_option(argc, argv, unsafe) || fuzz_option_above(argc, argv, "gpus", 64))
        return 0;
    static char one[] = "--threads", n1[] = "1";
    argv[argc++] = one;
    argv[argc++] = n1;
    int rc = cmd_search(argc, argv);
    if (rc < 0 || rc > 2)
        abort();
    return 0;
}
