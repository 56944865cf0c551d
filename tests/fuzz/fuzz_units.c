/* Fuzz target: human quantity parsing ("3.5T", "90d", "400Gb/s", "2 PF-days") for every unit kind. */
#include "scaleplan.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char buf[256];
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, d, n);
    buf[n] = 0;
    for (int u = SP_UNIT_NONE; u <= SP_UNIT_FLOPS; u++) {
        double v = 0;
        sp_error e;
        if (sp_parse_quantity(buf, (sp_unit)u, "fuzz", &v, &e) == SP_OK && !isfinite(v))
            abort(); /* a parsed quantity is always finite */
        char out[64];
        sp_fmt_quantity(out, sizeof out, v, (sp_unit)u);
    }
    return 0;
}
