/* Fuzz target: the training-run validator (sp_validate_training_csv) on arbitrary CSV text: every row must be
 * either evaluated (finite positive step time) or rejected with a reason; never a crash. */
#include "scaleplan.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    sp_csv *c;
    sp_error e;
    if (sp_csv_parse("fuzz.csv", (const char *)d, n, &c, &e) != SP_OK)
        return 0;
    sp_validate_row *rows;
    int nr;
    if (sp_validate_training_csv(SP_DATA_DIR, c, &rows, &nr, &e) == SP_OK) {
        for (int i = 0; i < nr; i++) {
            if (rows[i].ok && (!isfinite(rows[i].predicted_step_time_s) || rows[i].predicted_step_time_s <= 0 ||
                               !isfinite(rows[i].error_pct)))
                abort();
            if (!rows[i].ok && !rows[i].reason[0])
                abort();
        }
        free(rows);
    }
    sp_csv_free(c);
    return 0;
}
