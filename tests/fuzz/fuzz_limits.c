/* Fuzz target: `scaleplan limits` options (both modes, --compare lists and modifiers, batch rules, shapes,
 * scales, durations) and a small sweep. Each execution is kept fast by capping the sweep at 3e24 FLOP: "--to
 * 3e24" is added when the input gives no --to, and inputs with a larger --to are skipped; so are --compare lists
 * of more than two settings (each is a sweep of plan searches; `paper` is sixteen) and shapes fatter than fat:4
 * (K times fewer, wider layers: a fat:59 MoE point took 1.5 s under the sanitizers; fuzz_search covers the search
 * on any shape). With a 1e25 cap the corpus drifted to MoE fat-shape inputs whose one point near 8e24 FLOP is a
 * 2,048-GPU MoE search (~100 ms each under the sanitizers; 325 executions/s after an hour); below 3e24 every
 * setting still sweeps dense and MoE widths and reaches every stop (cluster cap: short --duration; latency wall
 * and utilization floor: --latency-scale). --plot (writes a file, runs gnuplot) and --threads are not run. */
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
    static char to[] = "--to", cap[] = "3e24", one[] = "--threads", n1[] = "1";
    if (fuzz_has_option(argc, argv, unsafe) || fuzz_option_above(argc, argv, "to", atof(cap)))
        return 0;
    for (int i = 0; i < argc; i++) /* at most two settings in any --compare (value after it or after '=') */
        if (strncmp(argv[i], "--compare", 9) == 0) {
            const char *v = argv[i][9] == '=' ? argv[i] + 10 : (i + 1 < argc ? argv[i + 1] : "");
            int commas = 0;
            for (const char *c = v; *c; c++)
                commas += *c == ',';
            if (commas > 1 || strstr(v, "paper"))
                return 0;
        }
    for (int i = 0; i < argc; i++) /* fat:K with K <= 4, in --shape or a +shape= modifier */
        for (const char *f = strstr(argv[i], "fat:"); f; f = strstr(f + 4, "fat:"))
            if (atof(f + 4) > 4)
                return 0;
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
