/* The browser's entry to libscaleplan: sp_call (src/call.c), with the presets at /data in Emscripten's file
 * system (packed from the repository's data/ by `make web`). One function in, one JSON text out: on success
 * the command's result, the same object the CLI prints for --json; on failure {"error": the CLI's one-line
 * message, "status": the sp_status code}. The caller frees the text with spw_free. No model code here. */
#include <emscripten.h>
#include <jansson.h>
#include <stdlib.h>

#include "scaleplan.h"

EMSCRIPTEN_KEEPALIVE char *spw_call(const char *command, const char *request_json)
{
    char *out = NULL;
    sp_error err = {0};
    sp_status st = sp_call("/data", command, request_json, &out, &err);
    if (st == SP_OK)
        return out;
    free(out);
    json_t *e = json_pack("{s:s, s:i}", "error", err.msg, "status", (int)st);
    char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    return text;
}

EMSCRIPTEN_KEEPALIVE void spw_free(char *p) { free(p); }
