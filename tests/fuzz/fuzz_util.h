/* Shared helpers for the libFuzzer targets: write the input to a private temporary file (the loaders take paths). */
#ifndef SP_FUZZ_UTIL_H
#define SP_FUZZ_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *fuzz_file(const uint8_t *d, size_t n, const char *suffix)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/scaleplan-fuzz-%d%s", (int)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(d, 1, n, f);
    fclose(f);
    return path;
}
#endif
