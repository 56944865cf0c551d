/* Shared helpers for the libFuzzer targets. */
#ifndef SP_FUZZ_UTIL_H
#define SP_FUZZ_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scaleplan.h"

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

/* The value given to option --NAME ("--NAME V" or "--NAME=V"), or NULL. */
static const char *fuzz_option_value(int argc, char **argv, const char *name)
{
    size_t l = strlen(name);
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "--", 2) == 0 && strncmp(argv[i] + 2, name, l) == 0) {
            if (argv[i][2 + l] == '=')
                return argv[i] + 3 + l;
            if (argv[i][2 + l] == 0)
                return i + 1 < argc ? argv[i + 1] : NULL;
        }
    return NULL;
}

/* 1 if option --NAME is given a number above `cap` (a value that does not parse is left to the command's error
 * path). Used to keep each execution fast. */
static int fuzz_option_above(int argc, char **argv, const char *name, double cap)
{
    const char *v = fuzz_option_value(argc, argv, name);
    double x;
    sp_error e;
    return v && sp_parse_quantity(v, SP_UNIT_NONE, name, &x, &e) == SP_OK && x > cap;
}

/* Input layout of the command targets that also take a file: the first line holds the arguments, the rest is
 * the file's content, written to a temporary file; an argument "@" stands for that file's path. */
static int fuzz_args_and_file(const uint8_t *d, size_t n, char *buf, size_t bufn, char **argv, int max,
                              const char **path)
{
    const uint8_t *nl = memchr(d, '\n', n);
    size_t alen = nl ? (size_t)(nl - d) : n;
    int argc = fuzz_args(d, alen, buf, bufn, argv, max);
    *path = nl ? fuzz_file(nl + 1, n - alen - 1, ".in") : fuzz_file(d, 0, ".in");
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "@") == 0)
            argv[i] = (char *)*path;
    return argc;
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
