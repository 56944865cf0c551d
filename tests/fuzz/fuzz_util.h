/* Shared helpers for the libFuzzer targets. */
#ifndef SP_FUZZ_UTIL_H
#define SP_FUZZ_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes the input to a private temporary file (for commands that take a path), in /dev/shm when there is one
 * (tmpfs: no disk traffic). */
static const char *fuzz_file(const uint8_t *d, size_t n, const char *suffix)
{
    static char path[64];
    snprintf(path, sizeof path, "%s/scaleplan-fuzz-%d%s", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
             (int)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(d, 1, n, f);
    fclose(f);
    return path;
}

/* Splits d[0..n) on spaces and newlines into at most `max` arguments held in buf (NUL bytes end an argument
 * early, as they would on a real command line). Returns argc. */
static int fuzz_args(const uint8_t *d, size_t n, char *buf, size_t bufn, char **argv, int max)
{
    size_t len = n < bufn - 1 ? n : bufn - 1;
    memcpy(buf, d, len);
    buf[len] = 0;
    int argc = 0;
    for (char *save = NULL, *t = strtok_r(buf, " \n", &save); t && argc < max; t = strtok_r(NULL, " \n", &save))
        argv[argc++] = t;
    return argc;
}

/* 1 if an argument is an option the harness must not run, named without "--": e.g. "plot" (writes a file
 * anywhere and runs gnuplot), "threads" (starts up to 1024 threads). Matches "--NAME" and "--NAME=...". */
static int fuzz_has_option(int argc, char **argv, const char *const *names)
{
    for (int i = 0; i < argc; i++)
        for (int k = 0; names[k]; k++) {
            size_t l = strlen(names[k]);
            if (strncmp(argv[i], "--", 2) == 0 && strncmp(argv[i] + 2, names[k], l) == 0 &&
                (argv[i][2 + l] == 0 || argv[i][2 + l] == '='))
                return 1;
        }
    return 0;
}

/* Sends the commands' stdout to /dev/null once (their stderr is closed by -close_fd_mask, see the Makefile). */
static void fuzz_quiet(void)
{
    static int quiet;
    if (!quiet) {
        quiet = 1;
        if (!freopen("/dev/null", "w", stdout))
            abort();
    }
}
#endif
