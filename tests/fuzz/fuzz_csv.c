/* Fuzz target: the CSV reader and the training-run validator on arbitrary CSV text. */
#include "scaleplan.h"
#include "fuzz_util.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    const char *p = fuzz_file(d, n, ".csv");
    sp_csv *c;
    sp_error e;
    if (sp_csv_read(p, &c, &e) == SP_OK) {
        for (int r = 0; r < sp_csv_rows(c); r++) {
            double v;
            int iv;
            (void)sp_csv_double(c, r, "loss", 0, -1e300, 1e300, &v, &e);
            (void)sp_csv_int(c, r, "n_gpus", 0, 0, 1 << 30, &iv, &e);
        }
        sp_csv_free(c);
    }
    sp_validate_row *rows;
    int nr;
    if (sp_validate_training(SP_DATA_DIR, p, &rows, &nr, &e) == SP_OK) {
        for (int i = 0; i < nr; i++)
            if (rows[i].ok && (!isfinite(rows[i].predicted_step_time_s) || rows[i].predicted_step_time_s <= 0))
                abort();
        free(rows);
    }
    return 0;
}
