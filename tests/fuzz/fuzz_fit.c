/* Fuzz target: `scaleplan fit` — its options and the CSV it reads. Input: the first line holds the options, the
 * rest is the CSV file (given to fit as its FILE argument). Kept fast: at most 2 bootstrap resamples, one
 * thread, inputs of at most 1 KiB (the fit evaluates every point at 4500 grid starts; fuzz_csv covers the CSV
 * reader on files of any size). */
#include "cli.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    fuzz_quiet();
    if (n > 1024)
        return 0;
    char buf[512];
    char *argv[35];
    const char *path;
    int argc = fuzz_args_and_file(d, n, buf, sizeof buf, argv + 1, 32, &path);
    argv[0] = (char *)path;
    argc++;
    static const char *const unsafe[] = {"threads", NULL};
    if (fuzz_has_option(argc, argv, unsafe) || fuzz_option_above(argc, argv, "bootstrap", 2))
        return 0;
    static char one[] = "--threads", n1[] = "1";
    argv[argc++] = one;
    argv[argc++] = n1;
    int rc = cmd_fit(argc, argv);
    if (rc < 0 || rc > 2)
        abort();
    return 0;
}
