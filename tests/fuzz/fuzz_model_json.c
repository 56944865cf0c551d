/* Fuzz target: model JSON / Hugging Face config.json parsing, then the arithmetic on what was accepted. */
#include "scaleplan.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    sp_model m;
    sp_error e;
    if (sp_parse_model("fuzz.json", (const char *)d, n, &m, &e) == SP_OK) {
        sp_param_count pc;
        sp_model_params(&m, &pc);
        double f = sp_model_fwd_flops_per_token(&m, m.max_seq < 1 << 20 ? m.max_seq : 1 << 20);
        if (!(pc.total > 0) || !isfinite(pc.total) || !isfinite(f) || pc.active > pc.total * (1 + 1e-9))
            abort();
    }
    return 0;
}
