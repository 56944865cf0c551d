/* Fuzz target: `scaleplan limits` options (both modes, --compare lists and modifiers, batch rules, shapes,
 * scales, durations) and a small sweep. Each execution is kept fast by capping the sweep at 1e25 FLOP: "--to
 * 1e25" is added when the input gives no --to, and inputs with a larger --to are skipped. --plot (writes a file,
 * runs gnuplot) and --threads are not run. */
#include "cli.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    fuzz_quiet();
    char buf[1024];
    char *argv[34];
    int argc = fuzz_args(d, n, buf, sizeof buf, argv, 32);
    static const char *const unsafe[] = {"plot", "threads", NULL};
    if (fuzz_has_option(argc, argv, unsafe) || fuzz_option_above(argc, argv, "to", 1e25))
        return 0;
    static char to[] = "--to", cap[] = "1e25", one[] = "--threads", n1[] = "1";
    if (!fuzz_option_value(argc, argv, "to")) {
        argv[argc++] = to;
        argv[argc++] = cap;
    }
    /* one thread: the harness runs one process at a time on a shared machine */
    char *args2[36];
    memcpy(args2, argv, (size_t)argc * sizeof *argv);
    args2[argc] = one;
    args2[argc + 1] = n1;
    int rc = cmd_limits(argc + 2, args2);
    if (rc < 0 || rc > 2)
        abort();
    return 0;
}
