/* Fuzz target: the command-line front end. The input is split on spaces into the arguments of `train`, `law`,
 * `infer` or `finetune` (first byte picks the command); commands must return 0..2 and never crash, and whatever a
 * successful --json run prints must be exactly one valid JSON value (parsed with jansson). Options that write
 * files or start threads (--plot, --threads) are not run. */
#include <jansson.h>

#include "cli.h"
#include "fuzz_util.h"

/* stdout goes to a private file, truncated before each run, so --json output can be parsed afterwards */
static const char *stdout_to_file(void)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "%s/scaleplan-fuzz-cli-%d.out", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
                 (int)getpid());
    if (!freopen(path, "w", stdout))
        abort();
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 1)
        return 0;
    char buf[512];
    char *argv[32];
    int argc = fuzz_args(d + 1, n - 1, buf, sizeof buf, argv, 32);
    static const char *const unsafe[] = {"plot", "threads", NULL};
    if (fuzz_has_option(argc, argv, unsafe))
        return 0;
    int (*cmds[])(int, char **) = {cmd_train, cmd_law, cmd_infer, cmd_finetune};
    const char *out = stdout_to_file();
    int rc = cmds[d[0] % 4](argc, argv);
    if (rc < 0 || rc > 2)
        abort();
    fflush(stdout);
    static const char *const json_flag[] = {"json", NULL};
    if (rc == 0 && fuzz_has_option(argc, argv, json_flag)) {
        json_error_t je;
        json_t *j = json_load_file(out, 0, &je);
        if (!j) {
            fprintf(stderr, "fuzz_cli: --json printed invalid JSON: %s\n", je.text);
            abort();
        }
        json_decref(j);
    }
    return 0;
}
