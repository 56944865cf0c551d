/* Fuzz target: sweep specifications (sp_sweep_parse: the spec, its axes checked against the presets, the file:line:col
 * locator), then the first point evaluated and its CSV row read back to the same bytes. */
#include "scaleplan_sweep.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    sp_sweep *sw = NULL;
    sp_error e;
    if (sp_sweep_parse(SP_DATA_DIR, "fuzz.json", (const char *)d, n, &sw, &e) != SP_OK) {
        if (!memchr(e.msg, ':', sizeof e.msg)) /* every error names the file */
            abort();
        return 0;
    }
    sp_sweep_ws *ws = sp_sweep_ws_new();
    sp_sweep_point p, q;
    static char row[16384], row2[16384];
    if (sp_sweep_eval(sw, ws, 0, &p, &e) == SP_OK) {
        sp_sweep_csv_row(sw, &p, row, sizeof row);
        if (sp_sweep_csv_parse(sw, row, &q, &e) != SP_OK)
            abort();
        sp_sweep_csv_row(sw, &q, row2, sizeof row2);
        if (strcmp(row, row2) != 0)
            abort();
    }
    sp_sweep_ws_free(ws);
    sp_sweep_free(sw);
    return 0;
}
