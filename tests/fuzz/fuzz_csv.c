/* Fuzz target: the CSV reader from memory (sp_csv_parse: quoting, CR/LF, BOM, ragged rows, duplicate headers)
 * and the typed cell readers on the columns the commands read (validate, fit, validate-energy). The validator
 * itself has its own target (fuzz_validate). */
#include "scaleplan.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    sp_csv *c;
    sp_error e;
    if (sp_csv_parse("fuzz.csv", (const char *)d, n, &c, &e) != SP_OK) {
        if (!e.msg[0] || strchr(e.msg, '\n'))
            abort(); /* an error is one non-empty line */
        return 0;
    }
    static const char *cols[] = {"N", "D", "loss", "n_gpus", "global_batch", "measured_step_time_s", "seq_len", "id"};
    for (int r = 0; r < sp_csv_rows(c) && r < 16; r++) { /* the first rows exercise every cell path */
        if (sp_csv_line(c, r) < 2)
            abort(); /* data rows start after the header line */
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            double v;
            int iv;
            if (sp_csv_double(c, r, cols[k], 0, -1e300, 1e300, &v, &e) == SP_OK && !isfinite(v))
                abort();
            (void)sp_csv_int(c, r, cols[k], 0, 0, 1 << 30, &iv, &e);
            (void)strlen(sp_csv_get(c, r, sp_csv_col(c, cols[k])));
        }
    }
    sp_csv_free(c);
    return 0;
}
