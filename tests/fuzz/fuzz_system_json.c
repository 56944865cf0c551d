/* Fuzz target: system / accelerator JSON parsing, then a collective and a GEMM time on what was accepted. */
#include "scaleplan.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    sp_system s;
    sp_error e;
    if (sp_parse_system(SP_DATA_DIR, "fuzz.json", (const char *)d, n, &s, &e) == SP_OK) {
        double t = sp_collective_time(&s, SP_COLL_ALLREDUCE, 64, 1, 1e9) + sp_gemm_time(&s.acc, SP_BF16, 4096, 4096, 4096, 1);
        if (!(t > 0) || !isfinite(t))
            abort();
    }
    return 0;
}
