/* Fuzz target: `scaleplan infer` options (batching, precisions, TP/PP/EP, --sweep, --fit-hardware, pruning) and
 * the files it reads (--routing distributions, --coe expert lists, model/system JSON). Input: the first line holds
 * the options, the rest is a file that an argument "@" names. --plot is not run (writes a file, runs gnuplot). */
#include "cli.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    fuzz_quiet();
    char buf[1024];
    char *argv[32];
    const char *path;
    int argc = fuzz_args_and_file(d, n, buf, sizeof buf, argv, 32, &path);
    static const char *const unsafe[] = {"plot", "threads", NULL};
    if (fuzz_has_option(argc, argv, unsafe))
        return 0;
    int rc = cmd_infer(argc, argv);
    if (rc < 0 || rc > 2)
        abort();
    return 0;
}
